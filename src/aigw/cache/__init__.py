"""The response cache: exact-match and semantic, per account, in process or in Redis."""
