"""The server stack `python -m service` runs: uvicorn with httptools parsing HTTP (each response in one write)
and uvloop's event loop."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import uvicorn
import uvloop
from starlette.applications import Starlette
from starlette.datastructures import State

from service.config import Settings
from service.drain import run_with_drain
from service.http_protocol import OneWritePerResponse
from service.serving import uvicorn_options


def test_uvicorn_serves_with_httptools_and_uvloop(tiny_model_path: Path) -> None:
    config = uvicorn.Config(Starlette(), **uvicorn_options(Settings(model_path=tiny_model_path)))
    config.load()
    assert config.http_protocol_class is OneWritePerResponse
    assert config.ws_protocol_class is None, "no WebSocket protocol is loaded"
    loop_factory = config.get_loop_factory()
    assert loop_factory is not None
    loop = loop_factory()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()


def test_the_service_runs_its_server_on_uvloop(monkeypatch: pytest.MonkeyPatch, tiny_model_path: Path) -> None:
    """``python -m service`` runs uvicorn itself (for the drain period), so uvicorn's loop setting alone does not
    decide the loop: the loop the server really runs on is checked."""
    loops: list[type[asyncio.AbstractEventLoop]] = []

    async def record_loop(server: uvicorn.Server, sockets: object = None) -> None:
        loops.append(type(asyncio.get_running_loop()))

    monkeypatch.setattr(uvicorn.Server, "serve", record_loop)
    options = uvicorn_options(Settings(model_path=tiny_model_path))
    run_with_drain(Starlette(), State(), 0.0, None, **options)
    assert loops == [uvloop.Loop]
