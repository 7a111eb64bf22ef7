"""Who uses the service: manager accounts, link tokens, rate limits, the audit log."""
