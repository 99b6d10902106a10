"""The circuit breaker's states and the trailing windows, on a fake clock (pure code)."""

from __future__ import annotations

from aigw.routing.breaker import CLOSED, HALF_OPEN, OPEN, Breaker, Window


def _breaker() -> Breaker:
    return Breaker(failure_rate=0.5, min_requests=4, window=10.0, cooldown=5.0)


def test_window_counts_age_out() -> None:
    window = Window(10.0, buckets=10)
    window.add(True, 100.0)
    window.add(False, 104.5)
    assert window.counts(105.0) == (1, 1)
    assert window.counts(110.2) == (0, 1), "the success 10 s ago has left the window"
    assert window.counts(130.0) == (0, 0)


def test_opens_on_the_failure_rate_only_with_enough_calls() -> None:
    breaker = _breaker()
    for t in (1.0, 2.0, 3.0):
        assert not breaker.failure(t), "3 calls are below min_requests"
    assert breaker.state == CLOSED
    breaker.success(3.5)
    assert breaker.failure(4.0), "3 of 5 failed: over 50%"
    assert breaker.state == OPEN and breaker.opens == 1
    assert not breaker.allow(6.0) and breaker.retry_in(6.0) == 3.0


def test_a_healthy_mix_stays_closed() -> None:
    breaker = _breaker()
    for i in range(20):
        breaker.success(float(i))
        if i % 3 == 0:
            assert not breaker.failure(float(i))
    assert breaker.state == CLOSED


def test_half_open_lets_one_probe_through() -> None:
    breaker = _breaker()
    for t in range(4):
        breaker.failure(float(t))
    assert breaker.state == OPEN
    assert breaker.available(9.0) and breaker.allow(9.0)
    assert breaker.state == HALF_OPEN
    assert not breaker.allow(9.1), "one probe at a time"
    breaker.success(9.5)
    assert breaker.state == CLOSED and breaker.allow(9.6)


def test_a_failed_probe_reopens_and_a_silent_one_is_released() -> None:
    breaker = _breaker()
    for t in range(4):
        breaker.failure(float(t))
    assert breaker.allow(9.0)
    assert breaker.failure(9.2) and breaker.state == OPEN and breaker.opens == 2
    assert not breaker.allow(10.0)
    assert breaker.allow(14.5)  # cool-down again
    breaker.release()  # the probe told nothing (a client error, a hang-up)
    assert breaker.allow(14.6)
    assert not breaker.allow(14.7)
    assert breaker.allow(20.0), "a probe whose outcome never came stops blocking"
