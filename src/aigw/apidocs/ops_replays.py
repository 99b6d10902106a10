"""Operations of replays, shadow rules and evals (replays/, evals/)."""

from __future__ import annotations

from aigw.apidocs.schema_parts import BOOL, INT, NUM, STR, S, obj

_ARR_STR: S = {"type": "array", "items": STR}

REPLAY_OPERATIONS: dict[tuple[str, str], S] = {
    ("POST", "/v1/replays"): {
        "summary": "Replay (or, with shadow, start in the background) a past request on "
        "another model; 201 with the Replay record.",
        "tags": ["replays"],
        "body": obj(
            {"source_request_id": STR, "target_model": STR, "shadow": BOOL},
            ("source_request_id", "target_model"),
        ),
    },
    ("GET", "/v1/replays"): {
        "summary": "List replays (newest first).",
        "tags": ["replays"],
        "query": {
            "limit": INT,
            "after": STR,
            "shadow": BOOL,
            "rule_id": STR,
            "target_model": STR,
        },
    },
    ("GET", "/v1/replays/{id}"): {"summary": "A replay.", "tags": ["replays"]},
    ("POST", "/v1/shadow-rules"): {
        "summary": "Mirror a share of live traffic for a model to a candidate model.",
        "tags": ["replays"],
        "body": obj(
            {"source_model": STR, "target_model": STR, "share": NUM},
            ("source_model", "target_model"),
        ),
    },
    ("GET", "/v1/shadow-rules"): {"summary": "List shadow rules.", "tags": ["replays"]},
    ("DELETE", "/v1/shadow-rules/{id}"): {
        "summary": "Delete a shadow rule.",
        "tags": ["replays"],
    },
    ("POST", "/v1/evals"): {
        "summary": "Run an eval across candidate models (201 finished, 202 running).",
        "tags": ["evals"],
        "body": obj(
            {
                "name": STR,
                "metric": {"type": "string", "enum": ["quality", "cost", "speed"]},
                "candidate_models": _ARR_STR,
                "dataset": {"type": "array", "items": {"type": "object"}},
                "judge_model": STR,
                "match": {
                    "type": "string",
                    "enum": ["normalized", "exact", "json", "contains"],
                },
                "params": {"type": "object"},
                "wait": BOOL,
            },
            ("name", "candidate_models", "dataset"),
        ),
    },
    ("GET", "/v1/evals"): {
        "summary": "List eval runs.",
        "tags": ["evals"],
        "query": {"limit": INT, "after": STR},
    },
    ("GET", "/v1/evals/{id}"): {
        "summary": "An eval run (?include=results adds every call).",
        "tags": ["evals"],
        "query": {"include": STR},
    },
}
