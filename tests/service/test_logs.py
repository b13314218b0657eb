"""Structured logs: one JSON object per request, carrying the id the response returns."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re

import httpx
import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.logs import ACCESS_LOGGER, AccessLog, JsonLinesHandler, configure_logging, only_handler
from service.main import create_app
from tests.service.conftest import digit_png


def keep_logging_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    """configure_logging changes process-wide state; monkeypatch puts it back after the test."""
    for name in ("service", "uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        for attribute in ("handlers", "level", "propagate", "disabled"):
            monkeypatch.setattr(logger, attribute, getattr(logger, attribute))
    for switch in ("logThreads", "logProcesses", "logMultiprocessing", "_srcfile"):
        monkeypatch.setattr(logging, switch, getattr(logging, switch))


def test_each_request_is_one_json_line_with_its_request_id(
    client: TestClient, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    keep_logging_as_it_is(monkeypatch)
    configure_logging("info")  # binds the handler to the captured stderr
    capsys.readouterr()
    response = client.post("/classify", files={"file": digit_png()}, headers={"X-Request-ID": "trace-42"})
    assert response.headers["x-request-id"] == "trace-42"
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    (access,) = [line for line in lines if line.get("logger") == "service.access"]
    assert access["request_id"] == "trace-42"
    assert (access["method"], access["path"], access["status"]) == ("POST", "/classify", 200)
    assert access["duration_ms"] > 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}", access["time"])


def test_fresh_request_ids_are_distinct_hex_and_unsafe_ones_are_replaced(client: TestClient) -> None:
    ids = [client.get("/healthz").headers["x-request-id"] for _ in range(3)]
    ids.append(client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"}).headers["x-request-id"])
    assert len(set(ids)) == 4
    assert all(re.fullmatch(r"[0-9a-f]{32}", request_id) for request_id in ids)


def test_access_lines_go_through_logging_when_another_handler_would_write_them(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Without configure_logging's handler (an application's own logging set-up), each request is a record."""
    with caplog.at_level(logging.INFO, logger="service.access"):
        client.post("/classify", files={"file": digit_png()}, headers={"X-Request-ID": "trace-43"})
    (record,) = [record for record in caplog.records if record.name == "service.access"]
    assert record.getMessage() == "request"
    assert (record.request_id, record.path, record.status) == ("trace-43", "/classify", 200)  # type: ignore[attr-defined]


def test_the_direct_access_line_is_the_formatter_s_line(monkeypatch: pytest.MonkeyPatch) -> None:
    keep_logging_as_it_is(monkeypatch)
    configure_logging("info")
    handler = logging.getLogger("service").handlers[0]
    assert isinstance(handler, JsonLinesHandler)
    monkeypatch.setattr(handler, "stream", io.StringIO())
    fields = {"request_id": "r1", "method": "GET", "path": "/healthz", "status": 200, "duration_ms": 0.5}
    logging.getLogger("service.access").info("request", extra=fields)
    with monkeypatch.context() as patch:
        patch.setattr(logging.Logger, "info", lambda *args, **kwargs: pytest.fail("went through logging"))
        AccessLog()(dict(reversed(fields.items())))  # in any order: the line keeps the formatter's
    through_logging, direct = (json.loads(line) for line in handler.stream.getvalue().splitlines())
    assert list(direct) == list(through_logging) == ["time", "level", "logger", "message", "pid", *fields]
    assert {**direct, "time": None} == {**through_logging, "time": None}


def test_a_failed_write_is_reported_once_as_logging_reports_one_and_nothing_raises(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    keep_logging_as_it_is(monkeypatch)
    configure_logging("info")
    handler = logging.getLogger("service").handlers[0]

    class FullPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BlockingIOError("the pipe is full")

    monkeypatch.setattr(handler, "stream", FullPipe())
    access_log = AccessLog()

    async def three_requests_in_one_pass() -> None:
        for request_id in ("r2", "r3"):
            access_log({"request_id": request_id, "status": 200}, at_once=False)
        access_log({"request_id": "r4", "status": 200})  # all three in one write, which fails: nothing raises

    asyncio.run(three_requests_in_one_pass())
    report = capsys.readouterr().err
    assert report.count("Logging error") == 1, "reported as logging reports a failed write, once"
    assert "3 access log line(s) could not be written" in report


def test_only_configure_logging_s_handler_alone_is_written_to_directly(monkeypatch: pytest.MonkeyPatch) -> None:
    keep_logging_as_it_is(monkeypatch)
    configure_logging("info")
    access, service = logging.getLogger("service.access"), logging.getLogger("service")
    handler = service.handlers[0]
    assert isinstance(handler, JsonLinesHandler)
    assert only_handler(access, logging.INFO) is handler
    assert only_handler(access, logging.DEBUG) is handler
    with monkeypatch.context() as patch:
        patch.setattr(handler, "level", logging.WARNING)
        assert only_handler(access, logging.INFO) is None, "the handler would drop the line"
    with monkeypatch.context() as patch:
        patch.setattr(service, "handlers", [handler, logging.NullHandler()])
        assert only_handler(access, logging.INFO) is None, "another handler would see it too"
    with monkeypatch.context() as patch:
        patch.setattr(access, "filters", [logging.Filter("elsewhere")])
        assert only_handler(access, logging.INFO) is None, "a filter could drop it"
    with monkeypatch.context() as patch:
        patch.setattr(handler, "formatter", logging.Formatter())
        assert only_handler(access, logging.INFO) is None, "the application chose another format"
    with monkeypatch.context() as patch:
        patch.setattr(service, "propagate", True)
        patch.setattr(logging.getLogger(), "handlers", [logging.NullHandler()])
        assert only_handler(access, logging.INFO) is None, "the root's handler would see it too"
        patch.setattr(logging.getLogger(), "handlers", [])
        assert only_handler(access, logging.INFO) is handler, "propagating to no handler changes nothing"


class CountedWrites(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += ACCESS_LOGGER in text  # writes of access lines; the app's own lines go alone
        return super().write(text)


def test_access_lines_of_one_loop_pass_leave_together_in_one_write(monkeypatch: pytest.MonkeyPatch) -> None:
    keep_logging_as_it_is(monkeypatch)
    configure_logging("info")
    stream = CountedWrites()
    monkeypatch.setattr(logging.getLogger("service").handlers[0], "stream", stream)

    def ids() -> list[str]:
        return [json.loads(line)["request_id"] for line in stream.getvalue().splitlines()]

    async def scenario() -> None:
        access_log = AccessLog()
        for request_id in ("a", "b", "c"):
            access_log({"request_id": request_id, "status": 200}, at_once=False)
        assert stream.writes == 0, "waiting for the end of the pass"
        await asyncio.sleep(0)
        assert (stream.writes, ids()) == (1, ["a", "b", "c"])
        access_log({"request_id": "d", "status": 200}, at_once=False)
        access_log({"request_id": "e", "status": 200})  # at once, with the waiting line first
        assert (stream.writes, ids()) == (2, ["a", "b", "c", "d", "e"])
        await asyncio.sleep(0)
        assert stream.writes == 2, "nothing was left waiting"

    asyncio.run(scenario())
    AccessLog()({"request_id": "f", "status": 200}, at_once=False)  # no event loop here: written at once
    assert (stream.writes, ids()[-1]) == (3, "f")


def test_concurrent_requests_are_all_logged_and_a_lone_one_at_once(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Requests completing while others are in flight wait for the end of the loop's pass; none is lost."""
    keep_logging_as_it_is(monkeypatch)
    configure_logging("info")
    stream = CountedWrites()
    monkeypatch.setattr(logging.getLogger("service").handlers[0], "stream", stream)
    app = create_app(settings)

    def logged() -> list[str]:
        lines = [json.loads(line) for line in stream.getvalue().splitlines()]
        return sorted(line["request_id"] for line in lines if line["logger"] == "service.access")

    async def scenario() -> None:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:

                async def classify(request_id: str) -> int:
                    files = {"file": ("digit.png", digit_png(), "image/png")}
                    headers = {"X-Request-ID": request_id}
                    return (await client.post("/classify", files=files, headers=headers)).status_code

                ids = [f"together-{index}" for index in range(8)]
                assert await asyncio.gather(*map(classify, ids)) == [200] * 8
                assert logged() == ids, "the last to finish wrote them all"
                assert stream.writes < len(ids), "lines of one pass shared a write"
                assert await classify("alone") == 200
                assert logged() == sorted([*ids, "alone"]), "written before the response was returned"

    asyncio.run(scenario())


def test_lines_waiting_for_a_loop_that_has_gone_are_written_by_the_next_one(monkeypatch: pytest.MonkeyPatch) -> None:
    keep_logging_as_it_is(monkeypatch)
    configure_logging("info")
    stream = CountedWrites()
    monkeypatch.setattr(logging.getLogger("service").handlers[0], "stream", stream)
    access_log = AccessLog()

    async def log_and_stop_the_loop() -> None:
        access_log({"request_id": "stranded", "status": 200}, at_once=False)
        asyncio.get_running_loop().stop()  # the loop stops at the end of this pass, before the flush's

    loop = asyncio.new_event_loop()
    loop.run_until_complete(log_and_stop_the_loop())
    loop.close()
    assert stream.getvalue() == "", "the flush never ran"

    async def log_on_a_new_loop() -> None:
        access_log({"request_id": "next", "status": 200}, at_once=False)
        await asyncio.sleep(0)

    asyncio.run(log_on_a_new_loop())
    lines = [json.loads(line)["request_id"] for line in stream.getvalue().splitlines()]
    assert lines == ["stranded", "next"]
