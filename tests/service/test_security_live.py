"""API keys, rate limits, the metrics port and CORS against real server processes (`python -m service`).

The protected-route table is generated from the app's own routes and the endpoint registry, so a route
added later is checked without anyone remembering to list it here.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount

from routed_vae_client import Client, RoutedVAEError
from service import endpoints
from service.config import Settings
from service.main import create_app
from tests.service.conftest import assert_error
from tests.service.live_server import free_port, start_service, wait_ready
from tests.service.oip.conftest import assert_protocol_error

KEY_A = "live-alpha-0123456789abcdef"
KEY_B = "live-bravo-0123456789abcdef"
KEY_C = "live-charlie-0123456789abcdef"  # only its sha256 is in the key file
WRONG = "live-wrong-0123456789abcdef"
LISTED = "https://digits.example"
# What must stay reachable without a key, written out here on purpose (not read from service/endpoints.py).
EXPECTED_OPEN = {"/", "/healthz", "/readyz", "/docs", "/docs/oauth2-redirect", "/openapi.json", "/static/app.js"}
EXPECTED_OPEN |= {"/v2/health/live", "/v2/health/ready"}  # the Open Inference Protocol's probes


class Server(NamedTuple):
    url: str
    log: Path
    metrics_url: str | None


def key_id(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:8]


def serve(model: Path, folder: Path, env: dict[str, str]) -> Iterator[Server]:
    port, log = free_port(), folder / "server.log"
    metrics_port = env.get("ROUTED_VAE_METRICS_PORT")
    with log.open("wb") as sink:
        process = start_service(model, port, stderr=sink.fileno(), env=env)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(url)  # /readyz is open: probes need no key
            yield Server(url, log, f"http://127.0.0.1:{metrics_port}" if metrics_port else None)
        finally:
            process.terminate()
            process.wait(timeout=20)


@pytest.fixture(scope="module")
def keyed(tiny_model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Keys from the variable (A, B) and from a file (C, as its sha256); metrics on the main port."""
    folder = tmp_path_factory.mktemp("keyed")
    key_file = folder / "api-keys"
    key_file.write_text(f"# one key, stored as its digest\nsha256:{hashlib.sha256(KEY_C.encode()).hexdigest()}\n")
    env = {"ROUTED_VAE_API_KEYS": f"{KEY_A},{KEY_B}", "ROUTED_VAE_API_KEYS_FILE": str(key_file)}
    yield from serve(tiny_model_path, folder, env)


@pytest.fixture(scope="module")
def limited(tiny_model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Keys A and B at 10 requests a second, burst 10; metrics on a port of their own; one CORS origin."""
    env = {
        "ROUTED_VAE_API_KEYS": f"{KEY_A},{KEY_B}",
        "ROUTED_VAE_RATE_LIMIT_RPS": "10",
        "ROUTED_VAE_RATE_LIMIT_BURST": "10",
        "ROUTED_VAE_METRICS_PORT": str(free_port()),
        "ROUTED_VAE_CORS_ORIGINS": LISTED,
    }
    yield from serve(tiny_model_path, tmp_path_factory.mktemp("limited"), env)


def concrete(path: str) -> str:
    """A route template with every parameter filled in."""
    return re.sub(r"{[^}]+}", "x", path)


def route_table(model: Path) -> list[tuple[str, str]]:
    """(method, path) for every route of an app with keys on, and every path the registry names."""
    app = create_app(Settings(model_path=model, api_keys=KEY_A))
    table: set[tuple[str, str]] = set()
    # FastAPI keeps included routers as one entry each; iter_route_contexts (what its OpenAPI generator
    # walks) yields every route inside them with its full path.
    for route in iter_route_contexts(app.routes):
        assert route.path is not None
        if isinstance(route.original_route, Mount):
            table.add(("GET", f"{route.path}/app.js"))
        else:
            table |= {(method, concrete(route.path)) for method in route.methods or {"GET"}}
    routed = {path for _, path in table}
    named = [value for name, value in vars(endpoints).items() if not name.startswith("_")]  # not __file__
    registry = {value for value in named if isinstance(value, str) and value.startswith("/")}
    table |= {("GET", path) for path in registry - routed}
    return sorted((method, path) for method, path in table if method != "HEAD")


def test_the_route_table_covers_every_endpoint(tiny_model_path: Path) -> None:
    paths = {path for _, path in route_table(tiny_model_path)}
    assert set(endpoints.INFERENCE_PATHS) | {endpoints.MODEL_CARD, endpoints.METRICS} | EXPECTED_OPEN <= paths


def test_protected_routes_need_a_right_key(keyed: Server, tiny_model_path: Path) -> None:
    """No key and a wrong key: 401 unauthorized with a Bearer challenge; any right key by either header: through."""
    right = [{"Authorization": f"Bearer {KEY_A}"}, {"X-API-Key": KEY_B}, {"Authorization": f"bearer {KEY_C}"}]
    protected = [(method, path) for method, path in route_table(tiny_model_path) if path not in EXPECTED_OPEN]
    with httpx.Client(base_url=keyed.url, timeout=10) as http:
        for number, (method, path) in enumerate(protected):
            for headers in ({}, {"Authorization": f"Bearer {WRONG}"}, {"X-API-Key": WRONG}):
                response = http.request(method, path, headers=headers)
                if endpoints.speaks_oip(path):  # the Open Inference Protocol's own error shape
                    assert_protocol_error(response, 401)
                else:
                    assert_error(response, 401, "unauthorized")
                assert response.headers["www-authenticate"].startswith("Bearer"), (method, path)
            response = http.request(method, path, headers=right[number % len(right)])
            assert response.status_code not in (401, 403) and response.status_code < 500, (method, path, response.text)
    assert len(protected) >= 8, protected


def test_open_routes_answer_without_a_key(keyed: Server) -> None:
    with httpx.Client(base_url=keyed.url, timeout=10) as http:
        for path in sorted(EXPECTED_OPEN):
            assert http.get(path).status_code == 200, path
        assert http.get("/metrics", headers={"X-API-Key": KEY_A}).status_code == 200
        assert_error(http.get("/metrics"), 401, "unauthorized")
        assert http.post("/classify", headers={"X-API-Key": KEY_A}, json={"images": []}).status_code == 422


def test_logs_name_keys_by_id_and_never_hold_a_key(keyed: Server) -> None:
    with httpx.Client(base_url=keyed.url, timeout=10) as http:
        for key in (KEY_A, KEY_B, KEY_C):
            assert http.get("/v1/model", headers={"X-API-Key": key}).status_code == 200
        assert http.get("/v1/model", headers={"X-API-Key": WRONG}).status_code == 401
    time.sleep(0.2)  # the access log line is written after the response
    text = keyed.log.read_text()
    for secret in (KEY_A, KEY_B, KEY_C, WRONG):
        assert secret not in text
    entries = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    model_requests = [entry for entry in entries if entry.get("path") == "/v1/model"]
    logged_ids = {entry.get("key_id") for entry in model_requests if entry["status"] == 200}
    assert {key_id(KEY_A), key_id(KEY_B), key_id(KEY_C)} <= logged_ids
    assert all("key_id" not in entry for entry in model_requests if entry["status"] == 401)


def test_one_key_past_its_rate_gets_429_and_another_key_is_unaffected(limited: Server) -> None:
    latent = {"latents": [[0, 0, 0, 2, 0, 0, 0, 0, 0, 0]]}
    with httpx.Client(base_url=limited.url, timeout=10, headers={"X-API-Key": KEY_A}) as http:
        began = time.perf_counter()
        responses = [http.post("/decode", json=latent) for _ in range(40)]
        elapsed = time.perf_counter() - began
        others = [http.post("/decode", json=latent, headers={"X-API-Key": KEY_B}) for _ in range(5)]
    accepted = sum(response.status_code == 200 for response in responses)
    refused = [response for response in responses if response.status_code == 429]
    print(f"40 requests in {elapsed:.3f} s: {accepted} accepted, {len(refused)} refused with 429")
    assert accepted + len(refused) == 40
    assert 10 <= accepted <= min(20, 10 + int(10 * elapsed) + 1)
    for response in refused:
        assert_error(response, 429, "rate_limited")
        assert response.headers["retry-after"].isdigit() and int(response.headers["retry-after"]) >= 1
    assert [response.status_code for response in others] == [200] * 5
    assert limited.metrics_url is not None
    metrics = httpx.get(f"{limited.metrics_url}/metrics", timeout=10).text
    assert f"routed_vae_rate_limited_total {float(len(refused))}" in metrics


def test_metrics_are_served_on_their_own_port_only(limited: Server) -> None:
    assert limited.metrics_url is not None
    scraped = httpx.get(f"{limited.metrics_url}/metrics", timeout=10)
    assert scraped.status_code == 200 and "routed_vae_requests_total" in scraped.text
    with httpx.Client(base_url=limited.url, timeout=10) as http:
        assert_error(http.get("/metrics"), 401, "unauthorized")
        assert_error(http.get("/metrics", headers={"X-API-Key": KEY_B}), 404, "not_found")


def test_cors_preflights_from_a_listed_and_an_unlisted_origin(limited: Server) -> None:
    asked = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-api-key,content-type"}
    with httpx.Client(base_url=limited.url, timeout=10) as http:
        listed = http.options("/classify", headers={"Origin": LISTED, **asked})
        unlisted = http.options("/classify", headers={"Origin": "https://elsewhere.example", **asked})
    assert listed.status_code == 200 and listed.headers["access-control-allow-origin"] == LISTED
    assert "x-api-key" in listed.headers["access-control-allow-headers"].lower()
    assert not [name for name in unlisted.headers if name.startswith("access-control-")]
    assert unlisted.status_code == 401


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ROUTED_VAE_API_KEYS_FILE": "/nonexistent/keys"}, "cannot read ROUTED_VAE_API_KEYS_FILE"),
        ({"ROUTED_VAE_API_KEYS": "short"}, "at least 16 characters"),
        ({"ROUTED_VAE_CORS_ORIGINS": "https://digits.example/"}, "is not an origin"),
    ],
)
def test_unusable_security_settings_stop_start_up(tiny_model_path: Path, env: dict[str, str], message: str) -> None:
    process = start_service(tiny_model_path, free_port(), env=env)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 2
    assert message in stderr.decode() and "Traceback" not in stderr.decode()


def test_metrics_port_equal_to_the_main_port_stops_start_up(tiny_model_path: Path) -> None:
    port = free_port()
    process = start_service(tiny_model_path, port, env={"ROUTED_VAE_METRICS_PORT": str(port)})
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 2 and "must differ" in stderr.decode()


def test_keys_are_not_echoed_when_the_variable_is_malformed(tiny_model_path: Path) -> None:
    process = start_service(tiny_model_path, free_port(), env={"ROUTED_VAE_API_KEYS": f"{KEY_A},short-key9"})
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 2 and "at least 16" in stderr.decode()
    assert KEY_A not in stderr.decode() and "short-key9" not in stderr.decode()


def test_the_python_client_sends_its_key_and_waits_out_429s(keyed: Server, limited: Server) -> None:
    with Client(keyed.url, api_key=KEY_A) as client:
        assert client.model_card()["name"]
    with Client(keyed.url, api_key="") as anonymous, pytest.raises(RoutedVAEError) as refused:
        anonymous.model_card()
    assert (refused.value.status, refused.value.code) == (401, "unauthorized")
    with Client(limited.url, api_key=KEY_B, retries=5) as client:
        began = time.perf_counter()
        cards = [client.model_card() for _ in range(25)]  # past the burst: the client honours Retry-After
        elapsed = time.perf_counter() - began
    assert len(cards) == 25 and elapsed >= 1.0, elapsed
