"""Observability: Prometheus metrics and the structured log."""
