"""When to try a request again: after a 503 or 429, as long as Retry-After, ``retries`` and the timeout allow."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

RETRY_STATUSES = frozenset({429, 503})
# Without a Retry-After the waits grow 0.5, 1, 2, ... seconds.
FIRST_BACKOFF_SECONDS = 0.5


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a Retry-After header asks for (delay-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RetryBudget:
    """The retries one request may still make; it never waits past ``timeout`` seconds from its start."""

    def __init__(self, retries: int, timeout: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.retries_left, self.clock = retries, clock
        self.deadline = clock() + timeout
        self.waits = 0

    def delay(self, status: int, retry_after: str | None) -> float | None:
        """Seconds to wait before trying again, or None to give up and report this answer."""
        if status not in RETRY_STATUSES or self.retries_left <= 0:
            return None
        wait = retry_after_seconds(retry_after)
        if wait is None:
            wait = FIRST_BACKOFF_SECONDS * 2**self.waits
        if self.clock() + wait > self.deadline:
            return None
        self.retries_left -= 1
        self.waits += 1
        return wait
