"""Gateway-wide traffic from the request log, in time buckets: what adoption and rankings show.

Counts every account (it is the gateway's own usage, not one customer's) and only requests
that were served (status below 400). Aggregated in SQL per model and bucket, so one query
returns at most models x buckets rows however many requests were logged.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, func, literal_column, select

from aigw.store.db import Database
from aigw.store.tables import request_log

_r = request_log.c


@dataclass(frozen=True, slots=True)
class TrafficRow:
    model: str
    bucket_ms: int  # start of the bucket, unix ms
    requests: int
    tokens: int  # prompt + completion


async def traffic(
    db: Database, *, since_ms: int, bucket_ms: int, until_ms: int | None = None
) -> list[TrafficRow]:
    """Served requests and tokens per model and ``bucket_ms``-wide bucket in [since, until)."""
    # An inline constant, as in store.usage: PostgreSQL must see the same GROUP BY expression.
    bucket = (_r.created_at // literal_column(str(bucket_ms), BigInteger)).label("bucket")
    # Grouping by an expression, not the bare column, keeps SQLite from walking the
    # (model, created_at) index over the whole table for the GROUP BY: it then reads only the
    # created_at range (measured: 90 ms -> a few ms for 24 hours of 200,000 rows).
    model = func.coalesce(_r.model, "").label("model")
    query = (
        select(
            model,
            bucket,
            func.count(),
            func.sum(_r.prompt_tokens + _r.completion_tokens),
        )
        .where(_r.created_at >= since_ms, _r.status < 400)
        .group_by(model, bucket)
    )
    if until_ms is not None:
        query = query.where(_r.created_at < until_ms)
    async with db.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [
        TrafficRow(str(model_id), int(b) * bucket_ms, int(n), int(tokens or 0))
        for model_id, b, n, tokens in rows
        if model_id
    ]
