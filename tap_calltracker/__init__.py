"""tap-calltracker: a Singer tap for the call-analytics REST API v1."""
