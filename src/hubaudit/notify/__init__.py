"""Notifications: one notifier per channel (Slack, a signed webhook, email), sent once per run
and only when something new happened."""
