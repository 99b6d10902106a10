"""Scale-out tests use the local PostgreSQL and Redis (tests/dbfixtures.py,
tests/redisfixture.py): required, failing rather than skipping, under CI."""
