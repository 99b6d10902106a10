"""Hot-path ids: the shape of ``token_hex(12)``, unique within a process and across a fork."""

from __future__ import annotations

import os
import re

import pytest

from aigw.core import ids
from aigw.server.middleware import new_request_id

HEX24 = re.compile(r"[0-9a-f]{24}")


def test_ids_are_24_hex_digits_and_unique() -> None:
    made = [ids.unique_hex24() for _ in range(10_000)]
    assert all(HEX24.fullmatch(i) for i in made)
    assert len(set(made)) == len(made)
    assert re.fullmatch(r"req_[0-9a-f]{24}", new_request_id())


def test_counter_wrap_draws_a_new_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ids, "_COUNTER_LIMIT", 3)
    ids._reseed()  # the limit applies from the next prefix drawn
    made = [ids.unique_hex24() for _ in range(10)]
    assert len(set(made)) == 10
    assert len({i[:16] for i in made}) >= 4  # at most 3 ids per prefix
    assert [int(i[16:], 16) for i in made[:3]] == [0, 1, 2]  # prefix, then the counter
    monkeypatch.undo()
    ids._reseed()


def test_ids_count_up_from_a_random_prefix() -> None:
    first, second = ids.unique_hex24(), ids.unique_hex24()
    assert first[:16] == second[:16]
    assert int(second[16:], 16) == int(first[16:], 16) + 1


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_gets_its_own_prefix() -> None:
    parent = ids.unique_hex24()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next id and leave at once
        os.write(write, ids.unique_hex24().encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert HEX24.fullmatch(child)
    assert child[:16] != parent[:16]
