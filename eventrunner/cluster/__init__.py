"""Several processes, one show: the change bus, the leader lease and the workers (Redis)."""
