"""AWS Signature Version 4 for one HTTP request (pure: hashing only, no I/O).

The canonical request signs the method, the path exactly as it goes on the wire (URI-encoded
once more, as every service but S3 wants), the sorted query, the signed headers and the
payload's SHA-256. Checked against AWS's published test-suite vectors in
tests/providers/test_aws_sigv4.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"


@dataclass(frozen=True, slots=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def __repr__(self) -> str:
        return f"Credentials({self.access_key_id!r}, secret=***)"


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = _hmac(("AWS4" + secret).encode(), date)
    key = _hmac(key, region)
    key = _hmac(key, service)
    return _hmac(key, "aws4_request")


def canonical_request(
    method: str, url: str, headers: Mapping[str, str], payload_hash: str
) -> tuple[str, str]:
    """(canonical request, signed header names) for headers already lower-cased."""
    parts = urlsplit(url)
    path = quote(parts.path or "/", safe="/~")
    query = "&".join(
        sorted(
            f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        )
    )
    names = sorted(headers)
    lines = "".join(f"{n}:{' '.join(headers[n].strip().split())}\n" for n in names)
    signed = ";".join(names)
    return "\n".join([method.upper(), path, query, lines, signed, payload_hash]), signed


def sign(
    method: str,
    url: str,
    headers: Mapping[str, str],
    payload: bytes,
    credentials: Credentials,
    *,
    region: str,
    service: str,
    now: dt.datetime | None = None,
) -> dict[str, str]:
    """``headers`` plus ``X-Amz-Date``, the session token if any, and ``Authorization``."""
    moment = now or dt.datetime.now(dt.UTC)
    amz_date = moment.strftime("%Y%m%dT%H%M%SZ")
    out = dict(headers)
    out["X-Amz-Date"] = amz_date
    if credentials.session_token:
        out["X-Amz-Security-Token"] = credentials.session_token
    to_sign = {k.lower(): v for k, v in out.items()}
    to_sign["host"] = urlsplit(url).netloc
    request, signed = canonical_request(method, url, to_sign, hashlib.sha256(payload).hexdigest())
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join(
        [ALGORITHM, amz_date, scope, hashlib.sha256(request.encode()).hexdigest()]
    )
    key = signing_key(credentials.secret_access_key, amz_date[:8], region, service)
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    out["Authorization"] = (
        f"{ALGORITHM} Credential={credentials.access_key_id}/{scope}, "
        f"SignedHeaders={signed}, Signature={signature}"
    )
    return out
