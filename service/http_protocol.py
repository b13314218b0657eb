"""uvicorn's httptools protocol, sending each response in one write.

uvicorn writes a response's status line and headers as soon as the app starts it, and its body as a second
write: two socket sends, two TCP segments, for a response that fits in one. On this CPU a loopback send costs
the serving core 10-20 µs (the receiving side's TCP work runs there too), as much as decoding the request's
image. Here the connection's writes wait in a buffer until the response is complete, the connection closes, or,
at the latest, the event loop's current pass ends (streamed responses and ``100 Continue`` go out then), and
leave as one send; past HOLD_BYTES they go at once, so that a large streamed body still meets the transport's
flow control. uvicorn takes the protocol class through its public ``http`` setting.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HOLD_BYTES = 64 * 1024  # asyncio's default high-water mark: more than this is sent at once


class BufferedWrites:
    """A transport whose writes are held until ``flush``, which runs by itself at the end of the loop's pass at
    the latest. Everything else goes straight to the transport it wraps."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport, self.loop = transport, loop
        self.pending: list[bytes] = []
        self.pending_bytes = 0

    def write(self, data: bytes) -> None:
        if not data:
            return
        if not self.pending:
            self.loop.call_soon(self.flush)
        self.pending.append(data)
        self.pending_bytes += len(data)
        if self.pending_bytes > HOLD_BYTES:
            self.flush()

    def writelines(self, lines: list[bytes]) -> None:
        for data in lines:
            self.write(data)

    def write_eof(self) -> None:
        self.flush()
        self.transport.write_eof()

    def flush(self) -> None:
        if not self.pending:
            return
        data = self.pending[0] if len(self.pending) == 1 else b"".join(self.pending)
        self.pending, self.pending_bytes = [], 0
        if not self.transport.is_closing():  # the peer went away: nothing to send to (uvloop would raise)
            self.transport.write(data)

    def close(self) -> None:
        self.flush()  # a closing transport still sends what it was given first
        self.transport.close()

    def abort(self) -> None:
        self.pending, self.pending_bytes = [], 0
        self.transport.abort()

    def get_write_buffer_size(self) -> int:
        return self.transport.get_write_buffer_size() + self.pending_bytes

    def __getattr__(self, name: str) -> Any:  # is_closing, get_extra_info, pause_reading, ...
        return getattr(self.transport, name)


class OneWritePerResponse(HttpToolsProtocol):
    """uvicorn's httptools protocol on a BufferedWrites transport, flushed as each response completes."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(cast(asyncio.Transport, BufferedWrites(transport, self.loop)))

    def on_response_complete(self) -> None:
        cast(BufferedWrites, self.transport).flush()
        super().on_response_complete()
