"""How the v2 routes sit in the service: docs, metrics, request ids, overload, body limits, compression, readiness."""

from __future__ import annotations

import asyncio
import gzip
import json
import zlib
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from service import endpoints
from service.config import Settings
from service.main import create_app
from service.metrics import Metrics
from service.middleware import OverloadMiddleware
from tests.service.conftest import assert_error
from tests.service.oip.conftest import assert_protocol_error

ENCODER = "/v2/models/routed-vae-encoder/infer"
V2_TEMPLATES = {
    endpoints.OIP_SERVER, endpoints.OIP_LIVE, endpoints.OIP_READY, endpoints.OIP_MODEL, endpoints.OIP_MODEL_READY,
    endpoints.OIP_INFER, endpoints.OIP_VERSION, endpoints.OIP_VERSION_READY, endpoints.OIP_VERSION_INFER,
}  # fmt: skip


def encode_request(rows: int = 1) -> dict[str, object]:
    return {"inputs": [{"name": "pixels", "shape": [rows, 28, 28], "datatype": "FP32", "data": [0.5] * (784 * rows)}]}


def test_every_v2_route_is_documented(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert set(schema["paths"]) >= V2_TEMPLATES
    for path in (endpoints.OIP_INFER, endpoints.OIP_VERSION_INFER):
        operation = schema["paths"][path]["post"]
        assert set(operation["requestBody"]["content"]) == {"application/json", "application/octet-stream"}
        assert {"200", "400", "404", "413", "415", "503"} <= set(operation["responses"])
        assert {"Inference-Header-Content-Length", "Content-Encoding"} <= {p["name"] for p in operation["parameters"]}
    request_schema = schema["paths"][endpoints.OIP_INFER]["post"]["requestBody"]["content"]["application/json"]
    assert "$ref" not in json.dumps(request_schema), "the request schema is self-contained"
    assert schema["components"]["schemas"]["ProtocolError"]["required"] == ["error"]


def test_metrics_label_v2_routes_by_template(client: TestClient) -> None:
    assert client.post(ENCODER, json=encode_request(3)).status_code == 200
    client.get("/v2/models/routed-vae-encoder")
    metrics = client.get("/metrics").text
    assert 'routed_vae_requests_total{endpoint="/v2/models/{name}/infer",method="POST",status="200"} 1.0' in metrics
    assert 'endpoint="/v2/models/{name}",method="GET",status="200"' in metrics
    assert 'routed_vae_images_total{endpoint="/v2/models/routed-vae-encoder/infer"} 3.0' in metrics


def test_v2_answers_carry_the_request_id(client: TestClient) -> None:
    response = client.post(ENCODER, json=encode_request(), headers={"X-Request-ID": "trace-7"})
    assert response.status_code == 200 and response.headers["x-request-id"] == "trace-7"
    refused = client.post(ENCODER, content=b"{", headers={"X-Request-ID": "trace-8"})
    assert refused.status_code == 400 and refused.headers["x-request-id"] == "trace-8"


@pytest.mark.parametrize(
    ("accept", "encoding"),
    [("gzip", "gzip"), ("deflate", "deflate"), ("gzip, deflate", "gzip"), ("gzip;q=0, deflate", "deflate"),
     ("identity", None), ("", None), ("br", None), ("*", "gzip")],
)  # fmt: skip
def test_responses_compressed_as_accept_encoding_asks(client: TestClient, accept: str, encoding: str | None) -> None:
    plain = client.post(ENCODER, json=encode_request(), headers={"Accept-Encoding": "identity"}).content
    with client.stream("POST", ENCODER, json=encode_request(), headers={"Accept-Encoding": accept}) as response:
        wire = b"".join(response.iter_raw())
    assert response.headers.get("content-encoding") == encoding
    assert response.headers["vary"] == "Accept-Encoding"
    inflate = {"gzip": gzip.decompress, "deflate": zlib.decompress, None: bytes}[encoding]
    assert inflate(wire) == plain


def test_compressed_request_bodies_are_read(client: TestClient) -> None:
    body = json.dumps(encode_request(2)).encode()
    expected = client.post(ENCODER, content=body).json()
    for encoding, packed in (("gzip", gzip.compress(body)), ("deflate", zlib.compress(body)), ("identity", body)):
        response = client.post(ENCODER, content=packed, headers={"Content-Encoding": encoding})
        assert response.json() == expected, encoding


def test_binary_outputs_follow_the_json(client: TestClient) -> None:
    document = encode_request(2) | {"parameters": {"binary_data_output": True}}
    response = client.post(ENCODER, json=document, headers={"Accept-Encoding": "identity"})
    length = int(response.headers["inference-header-content-length"])
    assert response.headers["content-type"] == "application/octet-stream"
    header = json.loads(response.content[:length])
    assert header["outputs"][0]["parameters"] == {"binary_data_size": 2 * 10 * 4}
    latents = np.frombuffer(response.content[length:], dtype="<f4").reshape(2, 10)
    json_answer = client.post(ENCODER, json=encode_request(2)).json()["outputs"][0]["data"]
    assert np.array_equal(latents.ravel(), np.array(json_answer, dtype=np.float32))


def test_unknown_v2_paths_and_methods_answer_in_the_protocols_shape(client: TestClient) -> None:
    assert "No route" in assert_protocol_error(client.get("/v2/repository/index"), 404)
    assert "not allowed" in assert_protocol_error(client.get(ENCODER), 405)
    assert_error(client.get("/v1/nothing"), 404, "not_found")  # the service's own paths keep their shape


def test_the_body_limit_answers_in_each_paths_shape(tiny_model_path: Path) -> None:
    with TestClient(create_app(Settings(model_path=tiny_model_path, max_body_bytes=2048))) as client:
        assert_protocol_error(client.post(ENCODER, content=b" " * 4096), 413)
        assert_error(client.post("/decode", content=b" " * 4096), 413, "payload_too_large")
        metrics = client.get("/metrics").text
    assert 'endpoint="/v2/models/{name}/infer",method="POST",status="413"' in metrics


def test_keys_and_rate_limits_answer_v2_in_the_protocols_shape(tiny_model_path: Path) -> None:
    key = "v2-test-key-0123456789"
    settings = Settings(model_path=tiny_model_path, api_keys=key, rate_limit_rps=0.01, rate_limit_burst=1)
    with TestClient(create_app(settings)) as client:
        assert client.get("/v2/health/ready").status_code == 200, "probes stay open"
        refused = client.post(ENCODER, json=encode_request())
        assert_protocol_error(refused, 401)
        assert refused.headers["www-authenticate"].startswith("Bearer")
        keyed = {"Authorization": f"Bearer {key}"}
        assert client.post(ENCODER, json=encode_request(), headers=keyed).status_code == 200
        limited = client.post(ENCODER, json=encode_request(), headers=keyed)
        assert_protocol_error(limited, 429)
        assert int(limited.headers["retry-after"]) >= 1


def test_before_the_model_is_loaded_v2_says_503(tiny_model_path: Path) -> None:
    client = TestClient(create_app(Settings(model_path=tiny_model_path)))  # no `with`: the lifespan has not run
    assert client.get("/v2/health/live").json() == {"live": True}
    for path in ("/v2/health/ready", "/v2/models/routed-vae-encoder/ready", "/v2/models/routed-vae-encoder"):
        response = client.get(path)
        assert_protocol_error(response, 503)
        assert response.headers["retry-after"] == "1"
    assert_protocol_error(client.post(ENCODER, json=encode_request()), 503)
    assert_protocol_error(client.get("/v2/models/resnet50/ready"), 404)


def test_while_draining_v2_is_unready_but_still_infers(client: TestClient) -> None:
    state = client.app.state  # type: ignore[attr-defined]
    state.ready, state.draining = False, True  # what service/drain.py sets on SIGTERM
    try:
        assert "shutting down" in assert_protocol_error(client.get("/v2/health/ready"), 503)
        assert_protocol_error(client.get("/v2/models/routed-vae-encoder/ready"), 503)
        assert client.post(ENCODER, json=encode_request()).status_code == 200
    finally:
        state.ready, state.draining = True, False


def test_the_overload_limit_counts_v2_inference() -> None:
    assert endpoints.runs_inference(ENCODER)
    assert endpoints.runs_inference("/v2/models/routed-vae-classifier/versions/1.0.0/infer")
    assert not endpoints.runs_inference("/v2/models/routed-vae-encoder")
    assert not endpoints.runs_inference("/v2/models/a/b/infer")
    assert endpoints.oip_infer_template("/v2/models/x/versions/2/infer") == endpoints.OIP_VERSION_INFER


async def two_requests_at_a_limit_of_one(path: str) -> tuple[list[Message], int]:
    """Two requests to ``path`` through OverloadMiddleware(max_in_flight=1) while the first holds its slot:
    what the middleware sent, and how many reached the app."""
    release, reached = asyncio.Event(), []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        reached.append(scope["path"])
        if len(reached) == 1:
            await release.wait()

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    middleware = OverloadMiddleware(app, Metrics(), max_in_flight=1, retry_after=1)
    scope = {"type": "http", "method": "POST", "path": path, "headers": []}
    first = asyncio.create_task(middleware(scope, receive, send))
    await asyncio.sleep(0)
    await middleware(scope, receive, send)
    release.set()
    await first
    return sent, len(reached)


def test_an_overloaded_v2_infer_is_503_in_the_protocols_shape() -> None:
    (start, body), reached = asyncio.run(two_requests_at_a_limit_of_one(ENCODER))
    assert reached == 1 and start["status"] == 503 and (b"retry-after", b"1") in start["headers"]
    assert set(json.loads(body["body"])) == {"error"}
    assert asyncio.run(two_requests_at_a_limit_of_one("/v2/models/routed-vae-encoder")) == ([], 2), "not counted"
