from __future__ import annotations

import stat
from pathlib import Path

import pytest

from aigw.auth.secretbox import SecretBox, default_key_file, load_box
from aigw.config import Secret
from aigw.errors import ConfigError


def test_round_trip_and_context_binding() -> None:
    box = SecretBox.from_passphrase("server")
    sealed = box.seal("sk-provider-123", context="pkey_1")
    assert "sk-provider-123" not in sealed
    assert box.open(sealed, context="pkey_1").reveal() == "sk-provider-123"
    with pytest.raises(ConfigError):
        box.open(sealed, context="pkey_2")
    with pytest.raises(ConfigError, match="secret key changed"):
        SecretBox.from_passphrase("other").open(sealed, context="pkey_1")


def test_key_file_is_created_once_and_private(tmp_path: Path) -> None:
    path = tmp_path / "data" / "aigw.key"
    sealed = load_box(None, path).seal("x" * 10, context="c")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_box(None, path).open(sealed, context="c").reveal() == "x" * 10
    assert load_box(Secret("configured"), path) is not None


def test_default_key_file_sits_beside_sqlite() -> None:
    assert default_key_file("sqlite:////var/lib/aigw/aigw.db") == Path("/var/lib/aigw/aigw.key")
    assert default_key_file("postgresql://x@y/z") == Path("aigw.key")
