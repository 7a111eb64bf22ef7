"""Outbound integrations: signed webhooks, Slack and Microsoft Teams messages, delivered through an outbox."""
