"""Commands that talk to a running gateway over HTTP (``aigw usage``, ``aigw tail``)."""
