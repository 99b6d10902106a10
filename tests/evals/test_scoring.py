"""Eval scoring (pure): matching modes, the judge's verdict parsing, summaries, the winner."""

from __future__ import annotations

import pytest

from aigw.evals.scoring import ItemResult, match_mode, matches, parse_judge, summarize, winner


@pytest.mark.parametrize(
    ("answer", "expected", "mode", "ok"),
    [
        ("4", "4", "exact", True),
        (" 4. ", "4", "exact", False),
        (" 4. ", "4", "normalized", True),
        ("ROME", "rome", "normalized", True),
        ("The answer is Rome.", "rome", "contains", True),
        ("The answer is Milan.", "rome", "contains", False),
        ('```json\n{"a": [1, 2]}\n```', {"a": [1, 2]}, "json", True),
        ('{"a": [2, 1]}', {"a": [1, 2]}, "json", False),
        ("not json", {"a": 1}, "json", False),
        ('{"b": 1}', '{"b":1}', "json", True),
    ],
)
def test_matches(answer: str, expected: object, mode: str, ok: bool) -> None:
    assert matches(answer, expected, mode) is ok


def test_match_mode_follows_the_item_then_the_value() -> None:
    assert match_mode("x", "exact", "normalized") == "exact"
    assert match_mode({"a": 1}, None, "normalized") == "json"
    assert match_mode("x", "bogus", "contains") == "contains"


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("7/10", 0.7),
        ("Score: 9", 0.9),
        ("**8**", 0.8),
        ("I'd give it a 6.", 0.6),
        ("Rating is 7.5 out of 10", 0.75),
        ("10", 1.0),
        ("On item 3 of 12 I'd say 4/10", 0.4),
        ("excellent", None),
        ("42", None),
    ],
)
def test_parse_judge(text: str, score: float | None) -> None:
    assert parse_judge(text) == score


def _r(model: str, score: float | None, cost: int, latency: int, ok: bool = True) -> ItemResult:
    return ItemResult(model, 0, ok, "x", score, cost, 0, latency)


def test_winner_by_metric_with_tie_breaks() -> None:
    models = ["a", "b", "c"]
    results = [
        _r("a", 1.0, 300, 50),
        _r("a", 0.0, 300, 50),
        _r("b", 1.0, 100, 90),
        _r("b", 0.0, 100, 90),
        _r("c", 1.0, 50, 10),
        _r("c", None, 0, 0, ok=False),
    ]
    summary = summarize(models, results)
    assert summary["a"].score == 0.5 and summary["c"].score == 1.0 and summary["c"].errors == 1
    assert winner("quality", models, summary) == "c"
    assert winner("cost", models, summary) == "b"  # c failed a call
    assert winner("speed", models, summary) == "a"
    tie = summarize(["a", "b"], [_r("a", 1.0, 300, 50), _r("b", 1.0, 100, 90)])
    assert winner("quality", ["a", "b"], tie) == "b"  # same score: the cheaper


def test_a_model_that_answered_nothing_cannot_win() -> None:
    summary = summarize(["a"], [_r("a", None, 0, 0, ok=False)])
    assert winner("quality", ["a"], summary) is None
