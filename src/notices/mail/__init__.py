"""Email: subscribers, the outbox, composing and sending, alerts, reminders and digests."""
