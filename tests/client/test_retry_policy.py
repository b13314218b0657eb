"""The retry rule on its own: which answers are retried, for how long, and never past the timeout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from routed_vae_client.retrying import RetryBudget, retry_after_seconds


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_retry_after_as_seconds_or_http_date() -> None:
    now = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("2") == 2.0 and retry_after_seconds(" 0.5 ") == 0.5
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=7), usegmt=True), now) == 7.0
    assert retry_after_seconds(format_datetime(now - timedelta(seconds=7), usegmt=True), now) == 0.0
    assert retry_after_seconds("-3") == 0.0
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None


def test_503_and_429_are_retried_as_often_as_allowed() -> None:
    budget = RetryBudget(retries=2, timeout=60, clock=FakeClock())
    assert budget.delay(429, "1") == 1.0
    assert budget.delay(503, "3") == 3.0
    assert budget.delay(503, "1") is None, "two retries used"


def test_other_answers_are_not_retried() -> None:
    budget = RetryBudget(retries=5, timeout=60, clock=FakeClock())
    assert [budget.delay(status, "1") for status in (200, 400, 413, 422, 500, 502)] == [None] * 6


def test_without_retry_after_the_waits_double() -> None:
    budget = RetryBudget(retries=4, timeout=60, clock=FakeClock())
    assert [budget.delay(503, None) for _ in range(4)] == [0.5, 1.0, 2.0, 4.0]


def test_no_wait_goes_past_the_timeout() -> None:
    clock = FakeClock()
    budget = RetryBudget(retries=10, timeout=5, clock=clock)
    assert budget.delay(503, "3") == 3.0
    clock.now += 3.5
    assert budget.delay(503, "2") is None, "3.5 + 2 > 5 seconds"
    assert budget.delay(503, "1") == 1.0, "3.5 + 1 fits"
