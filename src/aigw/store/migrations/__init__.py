"""Alembic migrations; run through ``Database.migrate()``."""
