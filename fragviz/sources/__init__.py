"""Sources: each knows one outside world and returns a Snapshot and/or a History."""
