"""Persistence: tables (``tables``), migrations (Alembic), and one repository module per area."""
