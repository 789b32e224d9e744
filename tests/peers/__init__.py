"""Loopback test peers that speak the wire formats of X, Bluesky Jetstream and Mastodon."""
