"""tap-crm: a Singer tap for the CRM REST API v3."""
