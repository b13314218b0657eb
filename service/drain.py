"""Rolling updates: on SIGTERM the service turns unready at once but keeps answering for a drain period, then
stops as uvicorn does (no new connections, in-flight requests finish within the graceful timeout) and exits 0.

Kubernetes removes a terminating pod from its Service's endpoints at the same time as it sends SIGTERM, and
proxies and load balancers learn of it a little later; answering during the drain period covers that gap. A
second SIGTERM or SIGINT skips the rest of the drain; a SIGINT during the graceful shutdown forces it.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket

import uvicorn
import uvloop
from starlette.datastructures import State
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("service.drain")
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Drain:
    """What the first stop signal starts: readiness off, a drain period, then uvicorn's graceful shutdown."""

    def __init__(self, server: uvicorn.Server, state: State, seconds: float) -> None:
        self.server, self.state, self.seconds = server, state, seconds
        self.draining = False

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        """Take SIGTERM and SIGINT over from uvicorn (whose handler would stop accepting at once)."""
        for stop_signal in STOP_SIGNALS:
            loop.add_signal_handler(stop_signal, self.on_signal, stop_signal, loop)

    def on_signal(self, received: signal.Signals, loop: asyncio.AbstractEventLoop) -> None:
        if self.draining:
            if self.server.should_exit and received == signal.SIGINT:
                self.server.force_exit = True
            self.stop()
            return
        self.draining = True
        self.state.ready, self.state.draining = False, True  # /readyz answers 503 from now on
        logger.info("%s: not ready; serving for %.1f s more, then shutting down", received.name, self.seconds)
        loop.call_later(self.seconds, self.stop)

    def stop(self) -> None:
        self.server.should_exit = True


class CloseConnectionsWhileDraining:
    """While draining, answers carry ``Connection: close``, so keep-alive clients reconnect to another replica."""

    def __init__(self, app: ASGIApp, state: State) -> None:
        self.app, self.state = app, state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not getattr(self.state, "draining", False):
            await self.app(scope, receive, send)
            return

        async def send_closing(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        await self.app(scope, receive, send_closing)


async def serve_until_drained(server: uvicorn.Server, drain: Drain, sockets: list[socket.socket] | None) -> None:
    """Run uvicorn; once it has started (model loaded, port open), stop signals go through ``drain``."""
    serving = asyncio.create_task(server.serve(sockets))
    while not server.started and not serving.done():
        await asyncio.sleep(0.02)
    if server.started and not server.should_exit:
        drain.install(asyncio.get_running_loop())
    await serving


def run_with_drain(
    app: ASGIApp, state: State, drain_seconds: float, sockets: list[socket.socket] | None, **uvicorn_options: object
) -> None:
    """``uvicorn.run(app, **uvicorn_options)`` (on ``sockets`` when given: a worker's, bound by its supervisor),
    with the drain period on the first stop signal."""
    server = uvicorn.Server(uvicorn.Config(CloseConnectionsWhileDraining(app, state), **uvicorn_options))  # type: ignore[arg-type]
    # On uvloop's event loop, as uvicorn's own ``run`` would pick it: ``asyncio.run`` alone gives asyncio's slower
    # default loop, whatever uvicorn's ``loop`` option says.
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(serve_until_drained(server, Drain(server, state, drain_seconds), sockets))
