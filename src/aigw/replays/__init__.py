"""Replays and shadow traffic: past requests re-run on other models, compared."""
