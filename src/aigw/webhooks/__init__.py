"""Signed webhooks: a transactional outbox of deliveries, retried with backoff for 24 h."""
