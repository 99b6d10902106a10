"""Where the recorded provider traffic lives (copied from the shared fixtures; see
tests/fixtures/README.md for provenance and how each file was recorded)."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(relative: str) -> Path:
    path = FIXTURES / relative
    if not path.exists():
        raise FileNotFoundError(f"missing recorded fixture {relative}")
    return path


def sse_from_chunks_jsonl(relative: str) -> bytes:
    """Re-frame a ``*.chunks.jsonl`` recording (SSE framing stripped) as an SSE body."""
    lines = [line for line in fixture(relative).read_bytes().splitlines() if line.strip()]
    return b"".join(b"data: " + line + b"\n\n" for line in lines) + b"data: [DONE]\n\n"
