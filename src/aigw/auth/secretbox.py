"""Encrypt secrets at rest (BYOK provider keys) with the server's key: AES-256-GCM.

The key comes from ``AIGW_SECRET_KEY`` (any string; hashed to 32 bytes), or from a key file
that the first start creates (mode 0600) beside the database. Replicas sharing a database
must share the key: set ``AIGW_SECRET_KEY`` on all of them.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from aigw.config import Secret
from aigw.errors import ConfigError

log = logging.getLogger("aigw.auth")

_VERSION = "v1"


class SecretBox:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ConfigError("the secret key must be 32 bytes")
        self._aead = AESGCM(key)

    @classmethod
    def from_passphrase(cls, passphrase: str) -> SecretBox:
        return cls(hashlib.sha256(passphrase.encode()).digest())

    def seal(self, plaintext: str, *, context: str) -> str:
        """Ciphertext as text; ``context`` (e.g. the row id) is bound to it, so a ciphertext
        copied onto another row does not decrypt."""
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return _VERSION + ":" + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, ciphertext: str, *, context: str) -> Secret:
        version, _, body = ciphertext.partition(":")
        if version != _VERSION:
            raise ConfigError("unknown ciphertext version")
        raw = base64.urlsafe_b64decode(body.encode())
        try:
            plain = self._aead.decrypt(raw[:12], raw[12:], context.encode())
        except InvalidTag:
            raise ConfigError(
                "cannot decrypt a stored provider key: the server's secret key changed"
            ) from None
        return Secret(plain.decode())


def load_box(configured: Secret | None, key_file: Path) -> SecretBox:
    """The configured key, else the key file (created on first start)."""
    if configured:
        return SecretBox.from_passphrase(configured.reveal())
    if key_file.exists():
        return SecretBox.from_passphrase(key_file.read_text().strip())
    key_file.parent.mkdir(parents=True, exist_ok=True)
    passphrase = secrets.token_urlsafe(32)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(passphrase + "\n")
    log.warning(
        "generated the server's secret key in %s (keep it; set AIGW_SECRET_KEY on every "
        "replica sharing this database)",
        key_file,
    )
    return SecretBox.from_passphrase(passphrase)


def default_key_file(database_url: str) -> Path:
    """``aigw.key`` beside a SQLite database file, else in the working directory."""
    if database_url.startswith("sqlite:///"):
        return Path(database_url[len("sqlite:///") :]).parent / "aigw.key"
    return Path("aigw.key")
