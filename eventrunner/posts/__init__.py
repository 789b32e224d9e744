"""Live hashtag post counts: sources that watch the platforms, and the tally they feed."""
