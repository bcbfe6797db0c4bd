"""Behaviour shared by tap-crm and tap-calltracker: HTTP client, pacing, errors, settings."""
