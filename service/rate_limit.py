"""Per-client rate limits: a token bucket per API key (per client address when keys are off), 429 beyond.

The buckets live in this process: with several workers or replicas each keeps its own, so a client may get
up to (processes x rate). A shared limit belongs in the gateway in front (SECURITY.md).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from service.endpoints import is_open
from service.errors import error_response_at
from service.metrics import Metrics

# Clients remembered at once; the least recently seen is forgotten first (it starts again with a full bucket).
MAX_CLIENTS = 65536
# Refills are sums of float time differences: a token due now may come to 0.9999999999.
ROUNDING = 1e-9


class TokenBuckets:
    """A bucket of ``burst`` tokens per client, refilled at ``rate`` tokens a second; a request takes one."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client -> (tokens, when)

    def take(self, client: str) -> float:
        """0 if the request may go ahead (a token is taken), else the seconds until a token is back."""
        now = self.clock()
        tokens, then = self.buckets.pop(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - then) * self.rate)
        wait = 0.0 if tokens >= 1 - ROUNDING else (1 - tokens) / self.rate
        self.buckets[client] = (tokens - 1 if wait == 0 else tokens, now)
        if len(self.buckets) > MAX_CLIENTS:
            self.buckets.popitem(last=False)
        return wait


def client_of(scope: Scope) -> str:
    """The accepted API key's id, else the client address (behind a proxy, the proxy's unless it forwards it)."""
    key_id: str | None = scope.get("state", {}).get("key_id")
    if key_id is not None:
        return "key:" + key_id
    client = scope.get("client")
    return "address:" + (client[0] if client else "unknown")


class RateLimitMiddleware:
    """Answers 429 ``rate_limited`` with Retry-After (whole seconds) to a client past its rate; open paths are free."""

    def __init__(self, app: ASGIApp, metrics: Metrics, rate: float, burst: int) -> None:
        self.app, self.metrics = app, metrics
        self.buckets = TokenBuckets(rate, burst or max(1, math.ceil(rate)))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_open(scope["path"]):
            await self.app(scope, receive, send)
            return
        wait = self.buckets.take(client_of(scope))
        if wait == 0:
            await self.app(scope, receive, send)
            return
        self.metrics.rate_limited.inc()
        retry_after = max(1, math.ceil(wait))
        response = error_response_at(
            scope["path"],
            "rate_limited",
            f"Too many requests: at most {self.buckets.rate:g} a second, {self.buckets.burst} at once; "
            f"retry in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )
        await response(scope, receive, send)
