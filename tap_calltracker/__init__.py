"""tap-calltracker: a Singer tap for the call-analytics API (Aircall Public API v1)."""
