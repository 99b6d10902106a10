"""Authentication: the API-key scheme (``keys``, pure) and the in-memory key cache (``cache``)."""
