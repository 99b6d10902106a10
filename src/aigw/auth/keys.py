"""API-key format and hashing (pure: no I/O).

A key is ``sk-aig-`` followed by 40 random letters and digits (~238 bits). Only its SHA-256
hash is stored. A plain fast hash is the right tool here: slow password hashes (bcrypt,
argon2) exist to make guessing *low-entropy* secrets expensive, but a 238-bit random key cannot
be guessed, and a fast hash lets every request be authenticated with one dict lookup.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from dataclasses import dataclass

KEY_PREFIX = "sk-aig-"
ADMIN_KEY_PREFIX = "sk-aig-admin-"
KEY_RANDOM_CHARS = 40
PREFIX_CHARS = 11  # "sk-aig-" + 4 random characters, shown in listings

_ALPHABET = string.ascii_letters + string.digits
_KEY_RE = re.compile(r"sk-aig-[A-Za-z0-9]{32,128}")


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """What an authenticated request knows about its key (held in the in-memory cache)."""

    key_id: str
    account_id: str
    account_name: str
    key_name: str | None
    # A sub-account's key spends from the parent's wallet under the sub-account's cap.
    sub_account_id: str | None = None
    # The key's limits (its own, else its account's default; None: the gateway's default).
    rate_limit_rpm: int | None = None
    rate_limit_tpm: int | None = None


def _random_chars(n: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(n))


def generate_key() -> str:
    """A new client API key: ``sk-aig-`` + 40 random alphanumerics."""
    return KEY_PREFIX + _random_chars(KEY_RANDOM_CHARS)


def generate_admin_key() -> str:
    """A new admin key; the distinct prefix keeps it from ever being mistaken for a client key."""
    return ADMIN_KEY_PREFIX + _random_chars(KEY_RANDOM_CHARS)


def hash_key(key: str) -> str:
    """SHA-256 hex of the whole key (see the module docstring for why a fast hash is right)."""
    # surrogatepass: a header can decode to lone surrogates; hashing must never raise.
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def verify_hash(token: str, stored_hash: str | None) -> bool:
    """Constant-time check of ``token`` against a stored hash (for single secrets like admin)."""
    if not stored_hash:
        return False
    return hmac.compare_digest(hash_key(token), stored_hash)


def looks_like_key(token: str) -> bool:
    """Cheap shape check, so garbage tokens are rejected without hashing or a lookup."""
    return _KEY_RE.fullmatch(token) is not None


def key_prefix(key: str) -> str:
    """The non-secret start of a key (``sk-aig-AbCd``), shown so users can tell keys apart."""
    return key[:PREFIX_CHARS]


def key_last4(key: str) -> str:
    return key[-4:]
