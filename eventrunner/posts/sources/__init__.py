"""Where posts come from: each platform's reader, run by the supervisor."""
