"""The floor: a Starlette app that only reads each request's body and answers constant JSON, on the same
uvicorn stack as ours (httptools, uvloop). No server that reads the same requests can be faster on this
core, so each case's floor shows how far every server is from the limit.

Run: python -m bench.servers.floor --port 8103
"""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

ANSWER = b'{"predictions":[{"digit":7,"confidence":1.0,"latent":[0,0,0,0,0,0,0,1,0,0]}]}'


async def answer(request: Request) -> Response:
    await request.body()
    return Response(ANSWER, media_type="application/json")


app = Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST"])])

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8103)
    port = parser.parse_args().port
    uvicorn.run(app, host="127.0.0.1", port=port, http="httptools", loop="uvloop", ws="none", log_level="warning")
