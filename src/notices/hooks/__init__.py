"""Outbound integrations: signed webhooks, Slack and Teams channels, delivered through their own outbox."""
