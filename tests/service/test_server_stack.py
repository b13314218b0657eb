"""The server stack `python -m service` runs: uvicorn with httptools parsing HTTP and uvloop's event loop."""

from __future__ import annotations

from pathlib import Path

import uvicorn
import uvloop
from starlette.applications import Starlette
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from service.config import Settings
from service.serving import uvicorn_options


def test_uvicorn_serves_with_httptools_and_uvloop(tiny_model_path: Path) -> None:
    config = uvicorn.Config(Starlette(), **uvicorn_options(Settings(model_path=tiny_model_path)))
    config.load()
    assert config.http_protocol_class is HttpToolsProtocol
    assert config.ws_protocol_class is None, "no WebSocket protocol is loaded"
    loop_factory = config.get_loop_factory()
    assert loop_factory is not None
    loop = loop_factory()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()
