from __future__ import annotations

import hashlib
import re

from aigw.auth.keys import (
    generate_admin_key,
    generate_key,
    hash_key,
    key_last4,
    key_prefix,
    looks_like_key,
    verify_hash,
)


def test_generated_key_format_and_entropy() -> None:
    keys = {generate_key() for _ in range(200)}
    assert len(keys) == 200
    for key in keys:
        assert re.fullmatch(r"sk-aig-[A-Za-z0-9]{40}", key)
        assert looks_like_key(key)


def test_hash_is_sha256_hex_of_the_whole_key() -> None:
    key = generate_key()
    assert hash_key(key) == hashlib.sha256(key.encode()).hexdigest()
    assert len(hash_key(key)) == 64


def test_prefix_and_last4() -> None:
    key = "sk-aig-AbCd" + "x" * 32 + "WXYZ"
    assert key_prefix(key) == "sk-aig-AbCd"
    assert key_last4(key) == "WXYZ"


def test_looks_like_key_rejects_garbage_cheaply() -> None:
    assert not looks_like_key("")
    assert not looks_like_key("Bearer sk-aig-abc")
    assert not looks_like_key("sk-aig-" + "a" * 31)  # too short
    assert not looks_like_key("sk-aig-" + "a" * 129)  # too long
    assert not looks_like_key("sk-aig-" + "a" * 39 + "!")
    assert not looks_like_key("sk-" + "a" * 40)  # an OpenAI key
    assert looks_like_key("sk-aig-" + "a" * 32)


def test_admin_key_is_distinct_from_client_keys() -> None:
    admin = generate_admin_key()
    assert admin.startswith("sk-aig-admin-")
    assert not looks_like_key(admin)


def test_verify_hash() -> None:
    key = generate_key()
    assert verify_hash(key, hash_key(key))
    assert not verify_hash(key + "x", hash_key(key))
    assert not verify_hash(key, None)
    assert not verify_hash(key, "")
    assert not verify_hash("bad \udcff ünï", hash_key(key))  # odd header bytes never raise
