"""Each response in one write: the buffered transport, and uvicorn serving through it."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import uvicorn
from starlette.types import Receive, Scope, Send

from service.http_protocol import BufferedWrites, OneWritePerResponse


class FakeTransport:
    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.closed = self.aborted = False

    def write(self, data: bytes) -> None:
        assert not self.closed, "written after close"
        self.written.append(data)

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str) -> str:
        return f"extra {name}"


def test_writes_wait_for_the_end_of_the_loop_pass_and_leave_as_one() -> None:
    async def scenario() -> list[list[bytes]]:
        transport = FakeTransport()
        buffered = BufferedWrites(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
        buffered.write(b"head ")
        buffered.write(b"")
        buffered.write(b"body")
        assert buffered.get_write_buffer_size() == len(b"head body")
        during = list(transport.written)
        await asyncio.sleep(0)  # the pass ends: the flush scheduled by the first write runs
        after = list(transport.written)
        buffered.write(b"next")
        buffered.flush()  # as at the end of a response: at once, and once
        await asyncio.sleep(0)
        return [during, after, transport.written]

    during, after, final = asyncio.run(scenario())
    assert during == []
    assert after == [b"head body"]
    assert final == [b"head body", b"next"]


def test_close_sends_what_is_waiting_first_abort_drops_it_and_the_rest_passes_through() -> None:
    async def scenario() -> tuple[FakeTransport, FakeTransport, BufferedWrites]:
        loop = asyncio.get_running_loop()
        closing, aborting = FakeTransport(), FakeTransport()
        first = BufferedWrites(closing, loop)  # type: ignore[arg-type]
        first.write(b"last words")
        first.close()
        second = BufferedWrites(aborting, loop)  # type: ignore[arg-type]
        second.write(b"never sent")
        second.abort()
        await asyncio.sleep(0)  # the flushes scheduled by the writes find nothing left to send
        return closing, aborting, first

    closing, aborting, first = asyncio.run(scenario())
    assert (closing.written, closing.closed) == ([b"last words"], True)
    assert (aborting.written, aborting.aborted) == ([], True)
    assert first.get_extra_info("peername") == "extra peername"


def test_nothing_is_written_to_a_transport_the_peer_closed() -> None:
    async def scenario() -> FakeTransport:
        transport = FakeTransport()
        buffered = BufferedWrites(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
        buffered.write(b"too late")
        transport.aborted = True  # the connection was lost meanwhile
        await asyncio.sleep(0)
        return transport

    assert asyncio.run(scenario()).written == []


async def two_kinds_of_response(scope: Scope, receive: Receive, send: Send) -> None:
    """/streamed: a body in two parts; anything else: one body, with ``connection: close`` on /last."""
    assert scope["type"] == "http"
    if scope["path"] == "/streamed":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"part one, ", "more_body": True})
        await asyncio.sleep(0.01)
        await send({"type": "http.response.body", "body": b"part two"})
        return
    body = f"answer to {scope['path']}".encode()
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    if scope["path"] == "/last":
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Spy:
    """A transport that records what reaches it."""

    def __init__(self, transport: Any, writes: list[bytes]) -> None:
        self.transport, self.writes = transport, writes

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))
        self.transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


async def read_response(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = [line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
    return head + await reader.readexactly(int(length[0].split(b":")[1]))


def test_uvicorn_sends_each_response_in_one_write() -> None:
    writes: list[bytes] = []

    class SpiedProtocol(OneWritePerResponse):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(Spy(transport, writes))  # type: ignore[arg-type]

    async def scenario() -> tuple[list[bytes], bytes, bytes]:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        config = uvicorn.Config(two_kinds_of_response, http=SpiedProtocol, log_config=None, lifespan="off")
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve(sockets=[listener]))
        while not server.started:
            await asyncio.sleep(0.01)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        answers = []
        for path in ("/one", "/two", "/three"):  # one keep-alive connection
            writer.write(f"GET {path} HTTP/1.1\r\nhost: test\r\n\r\n".encode())
            answers.append(await read_response(reader))
        writer.write(b"GET /streamed HTTP/1.1\r\nhost: test\r\n\r\n")
        streamed = await reader.readuntil(b"0\r\n\r\n")
        writer.write(b"GET /last HTTP/1.1\r\nhost: test\r\n\r\n")
        last = await reader.read()  # the whole response, then the server closes the connection
        writer.close()
        server.should_exit = True
        await serving
        return answers, streamed, last

    answers, streamed, last = asyncio.run(scenario())
    for path, answer in zip(("/one", "/two", "/three"), answers, strict=True):
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and answer.endswith(f"answer to {path}".encode())
        assert answer in writes, "status line, headers and body in one write"
    assert b"part one, " in streamed and b"part two" in streamed
    assert last.startswith(b"HTTP/1.1 200 OK\r\n") and last.endswith(b"answer to /last")
    assert last in writes, "written in one piece before the connection closed"
