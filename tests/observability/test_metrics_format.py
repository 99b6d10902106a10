"""The Prometheus exposition we write is the text format Prometheus parses, and logs are JSON
objects carrying the request id."""

from __future__ import annotations

import io
import logging
import re

import orjson

from aigw.observability.logs import REQUEST_ID, JsonFormatter, TextFormatter
from aigw.observability.metrics import Collected, Counter, Histogram, render

SAMPLE = re.compile(
    r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*",?)*\})? '
    r"(-?[0-9.e+]+|\+Inf|-Inf|NaN)$"
)


def _check(text: str) -> list[str]:
    assert text.endswith("\n")
    samples = []
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            continue
        assert SAMPLE.match(line), line
        samples.append(line)
    return samples


def test_counter_and_collected_render_with_escaped_labels() -> None:
    counter = Counter("aigw_x_total", "Things.", ("provider", "model"))
    counter.inc(("sim", 'we"ird\\mo\ndel'))
    counter.inc(("sim", 'we"ird\\mo\ndel'), 2.5)
    gauge = Collected("aigw_state", "A gauge.", ("d",), lambda: [(("a",), 2.0)])
    text = render([counter, gauge])
    assert "# TYPE aigw_x_total counter" in text and "# TYPE aigw_state gauge" in text
    assert 'aigw_x_total{provider="sim",model="we\\"ird\\\\mo\\ndel"} 3.5' in text
    assert 'aigw_state{d="a"} 2' in text
    assert len(_check(text)) == 2


def test_histogram_buckets_are_cumulative_with_sum_and_count() -> None:
    hist = Histogram("aigw_latency_seconds", "Latency.", ("model",), (0.1, 1.0))
    for value in (0.05, 0.5, 0.7, 3.0):
        hist.observe(("m",), value)
    samples = _check(render([hist]))
    assert samples == [
        'aigw_latency_seconds_bucket{model="m",le="0.1"} 1',
        'aigw_latency_seconds_bucket{model="m",le="1"} 3',
        'aigw_latency_seconds_bucket{model="m",le="+Inf"} 4',
        'aigw_latency_seconds_sum{model="m"} 4.25',
        'aigw_latency_seconds_count{model="m"} 4',
    ]


def _record(msg: str, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("aigw.routing", logging.WARNING, __file__, 1, msg, (), None)
    for name, value in extra.items():
        setattr(record, name, value)
    return record


def test_json_log_lines_carry_the_request_id_and_fields() -> None:
    token = REQUEST_ID.set("req_abc123")
    try:
        line = JsonFormatter().format(_record("fell back", fields={"attempts": 2}))
        text = TextFormatter().format(_record("fell back"))
    finally:
        REQUEST_ID.reset(token)
    data = orjson.loads(line)
    assert data["request_id"] == "req_abc123" and data["attempts"] == 2
    assert (data["level"], data["logger"], data["message"]) == (
        "WARNING",
        "aigw.routing",
        "fell back",
    )
    assert data["time"].endswith("Z")
    assert text.endswith("[req_abc123]")
    outside = orjson.loads(JsonFormatter(worker=2).format(_record("idle")))
    assert "request_id" not in outside and outside["worker"] == 2


def test_configure_sends_json_to_stderr() -> None:
    from aigw.observability.logs import configure

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure("info", "json")
        stream = io.StringIO()
        root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
        logging.getLogger("aigw.test").info("hello %s", "there")
        assert orjson.loads(stream.getvalue())["message"] == "hello there"
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
