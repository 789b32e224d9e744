"""Live topics: the documents the realtime protocol carries, and the hub that publishes them."""
