"""Each response in one write: the buffered transport, and uvicorn serving through it."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest
import uvicorn
import uvloop
from starlette.types import Receive, Scope, Send

from service.http_protocol import HOLD_BYTES, BufferedWrites, OneWritePerResponse

Result = TypeVar("Result")


class FakeTransport:
    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.closed = self.aborted = self.eof = False

    def write(self, data: bytes) -> None:
        assert not (self.closed or self.eof), "written after close or write_eof"
        self.written.append(data)

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def write_eof(self) -> None:
        self.eof = True

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str) -> str:
        return f"extra {name}"


def run_strictly(scenario: Coroutine[Any, Any, Result], loop_kind: str = "asyncio") -> Result:
    """``scenario`` run on a fresh event loop (asyncio's or uvloop's) within 10 s; an error raised in any loop
    callback (which the loop would only log) fails the test."""
    errors: list[dict[str, Any]] = []

    async def strictly() -> Result:
        asyncio.get_running_loop().set_exception_handler(lambda loop, context: errors.append(context))
        async with asyncio.timeout(10):
            return await scenario

    result = uvloop.run(strictly()) if loop_kind == "uvloop" else asyncio.run(strictly())
    assert not errors, errors
    return result


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

    during, after, final = run_strictly(scenario())
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

    closing, aborting, first = run_strictly(scenario())
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

    assert run_strictly(scenario()).written == []


def test_large_writes_go_at_once_and_the_rest_keeps_its_order() -> None:
    """Past HOLD_BYTES the transport sees the data at once (its flow control can pause a streaming app);
    writelines is held like writes, and write_eof sends what is held first."""

    async def scenario() -> tuple[list[bytes], list[bytes], bool]:
        transport = FakeTransport()
        buffered = BufferedWrites(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
        buffered.write(b"small ")
        buffered.write(b"x" * HOLD_BYTES)
        at_once = list(transport.written)
        buffered.writelines([b"one ", b"two"])
        assert buffered.get_write_buffer_size() == len(b"one two")
        buffered.write_eof()
        return at_once, transport.written, transport.eof

    at_once, written, eof = run_strictly(scenario())
    assert at_once == [b"small " + b"x" * HOLD_BYTES]
    assert written == [*at_once, b"one two"] and eof


async def answers(scope: Scope, receive: Receive, send: Send) -> None:
    """/streamed: a body in two parts; /echo: the request body back; anything else: one body, with
    ``connection: close`` on /last."""
    assert scope["type"] == "http"
    if scope["path"] == "/streamed":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"part one, ", "more_body": True})
        await asyncio.sleep(0.01)
        await send({"type": "http.response.body", "body": b"part two"})
        return
    body = f"answer to {scope['path']}".encode()
    if scope["path"] == "/echo":
        body = (await receive())["body"]
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


def get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nhost: test\r\n\r\n".encode()


def is_answer(response: bytes, body: bytes) -> bool:
    return response.startswith(b"HTTP/1.1 200 OK\r\n") and response.endswith(b"\r\n\r\n" + body)


@pytest.mark.parametrize("loop_kind", ["asyncio", "uvloop"])
def test_uvicorn_sends_each_response_in_one_write(loop_kind: str) -> None:
    writes: list[bytes] = []

    class SpiedProtocol(OneWritePerResponse):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(Spy(transport, writes))  # type: ignore[arg-type]

    async def scenario() -> dict[str, Any]:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        config = uvicorn.Config(answers, http=SpiedProtocol, log_config=None, lifespan="off")
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve(sockets=[listener]))
        while not server.started:
            await asyncio.sleep(0.01)
        reader, writer = await asyncio.open_connection(*listener.getsockname())
        seen: dict[str, Any] = {"kept alive": []}
        for path in ("/one", "/two", "/three"):  # one keep-alive connection
            writer.write(get(path))
            seen["kept alive"].append(await read_response(reader))
        writer.write(get("/first") + get("/second"))  # pipelined: two requests in one packet
        seen["pipelined"] = [await read_response(reader), await read_response(reader)]
        writer.write(b"POST /echo HTTP/1.1\r\nhost: test\r\nexpect: 100-continue\r\ncontent-length: 5\r\n\r\n")
        seen["continue"] = await reader.readuntil(b"\r\n\r\n")  # the server asks for the body: sent promptly
        writer.write(b"hello")
        seen["echo"] = await read_response(reader)
        writer.write(get("/streamed"))
        seen["streamed"] = await reader.readuntil(b"0\r\n\r\n")
        writer.write(get("/last"))
        seen["last"] = await reader.read()  # the whole response, then the server closes the connection
        writer.close()
        server.should_exit = True
        await serving
        return seen

    seen = run_strictly(scenario(), loop_kind)
    for path, response in zip(("/one", "/two", "/three"), seen["kept alive"], strict=True):
        assert is_answer(response, f"answer to {path}".encode())
        assert response in writes, "status line, headers and body in one write"
    assert [
        is_answer(response, body)
        for response, body in zip(seen["pipelined"], [b"answer to /first", b"answer to /second"], strict=True)
    ] == [True, True]
    assert seen["continue"] == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert is_answer(seen["echo"], b"hello")
    assert b"part one, " in seen["streamed"] and b"part two" in seen["streamed"]
    assert is_answer(seen["last"], b"answer to /last")
    assert seen["last"] in writes, "written in one piece before the connection closed"
