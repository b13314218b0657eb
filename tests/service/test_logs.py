"""Structured logs: one JSON object per request, carrying the id the response returns."""

from __future__ import annotations

import json
import logging
import re

import pytest
from fastapi.testclient import TestClient

from service.logs import configure_logging
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
