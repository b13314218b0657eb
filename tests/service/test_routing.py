"""DirectRoutes: a POST to a listed path goes straight to its handler; everything else passes on."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send

from service.errors import ApiError
from service.routing import DirectRoutes


async def framework(scope: Scope, receive: Receive, send: Send) -> None:
    """Stands for the rest of the app: answers every request it gets with where it went."""
    await PlainTextResponse(f"framework {scope['method']} {scope['path']}")(scope, receive, send)


async def echo_length(request: Request) -> Response:
    return PlainTextResponse(f"direct {len(await request.body())} bytes")


async def refuse(request: Request) -> Response:
    raise ApiError(415, "unsupported_media_type", "No.", headers={"X-Why": "test"})


def client() -> TestClient:
    return TestClient(DirectRoutes(framework, {"/hot": echo_length, "/refuse": refuse}))


def test_a_post_to_a_listed_path_calls_its_handler_with_the_body() -> None:
    response = client().post("/hot", content=b"12345")
    assert (response.status_code, response.text) == (200, "direct 5 bytes")


def test_other_methods_and_paths_pass_on_to_the_app() -> None:
    http = client()
    assert http.get("/hot").text == "framework GET /hot"  # the router answers 405 in the real app
    assert http.post("/elsewhere").text == "framework POST /elsewhere"
    assert http.post("/hot/more").text == "framework POST /hot/more"


def test_an_api_error_is_answered_in_the_error_shape_with_its_headers() -> None:
    response = client().post("/refuse")
    assert response.status_code == 415
    assert response.json() == {"error": {"code": "unsupported_media_type", "message": "No."}}
    assert response.headers["x-why"] == "test"
