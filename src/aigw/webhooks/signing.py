"""``X-Gateway-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "{t}.{body}">`` (Stripe's scheme,
which ``aigateway.verify_webhook`` checks)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

HEADER = "X-Gateway-Signature"
EVENT_TYPES = (
    "job.completed",
    "job.failed",
    "batch.completed",
    "balance.low",
    "usage.threshold",
    "key.rotated",
)


def new_secret() -> str:
    return "whsec_" + secrets.token_hex(24)


def signature(secret: str, body: bytes, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"
