"""Security headers on every response, the demo page's strict policy, the docs page's own, and CORS."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.config import ConfigurationError, Settings
from service.cors import parse_origins
from service.main import STATIC_DIR, create_app
from tests.service.conftest import assert_error

LISTED = "https://digits.example"
UNLISTED = "https://elsewhere.example"
KEY = "cors-test-key-0123456789"


def directives(policy: str) -> dict[str, list[str]]:
    parsed = (part.split() for part in policy.split(";") if part.strip())
    return {name: sources for name, *sources in parsed}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/", 200),
        ("GET", "/static/app.js", 200),
        ("GET", "/healthz", 200),
        ("GET", "/v1/model", 200),
        ("GET", "/metrics", 200),
        ("GET", "/openapi.json", 200),
        ("GET", "/no/such/path", 404),
        ("GET", "/classify", 405),
        ("POST", "/decode", 422),
    ],
)
def test_every_response_carries_the_security_headers(client: TestClient, method: str, path: str, status: int) -> None:
    response = client.request(method, path, json={} if method == "POST" else None)
    assert response.status_code == status
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    policy = directives(response.headers["content-security-policy"])
    assert policy["default-src"] == ["'self'"] and policy["frame-ancestors"] == ["'none'"]


def test_the_demo_page_policy_allows_no_inline_code(client: TestClient) -> None:
    policy = directives(client.get("/").headers["content-security-policy"])
    assert "script-src" not in policy and "style-src" not in policy, "scripts and styles fall back to 'self'"
    assert policy["img-src"] == ["'self'", "data:", "blob:"]
    assert not any("unsafe" in source for sources in policy.values() for source in sources)


class InlineCodeFinder(HTMLParser):
    """Collects what a strict policy would block: inline scripts, <style>, style and on* attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script" and not dict(attrs).get("src"):
            self.found.append("inline <script>")
        if tag == "style":
            self.found.append("<style>")
        self.found += [f"{tag} {name}=" for name, _ in attrs if name == "style" or name.startswith("on")]
        self.found += [f"{tag} {name}=javascript:" for name, value in attrs if (value or "").startswith("javascript:")]


def test_the_demo_page_holds_no_inline_code() -> None:
    finder = InlineCodeFinder()
    finder.feed((STATIC_DIR / "index.html").read_text())
    assert finder.found == []
    script = (STATIC_DIR / "app.js").read_text()
    assert not re.search(r"style\s*=|\bon[a-z]+\s*=\s*[\"']|eval\(|new Function", script)


def test_the_docs_page_allows_its_own_inline_script_by_hash_and_still_loads(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200 and "SwaggerUIBundle" in response.text
    assert int(response.headers["content-length"]) == len(response.content)
    inline = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    policy = directives(response.headers["content-security-policy"])
    assert policy["script-src"] == ["'self'", "https://cdn.jsdelivr.net", f"'sha256-{digest}'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "validatorUrl" in response.text, "no validator badge fetched from swagger.io"


def test_redoc_is_not_served(client: TestClient) -> None:
    assert_error(client.get("/redoc"), 404, "not_found")


@pytest.fixture
def cors(tiny_model_path: Path) -> Iterator[TestClient]:
    settings = Settings(model_path=tiny_model_path, cors_origins=f"{LISTED}, http://localhost:5173", api_keys=KEY)
    with TestClient(create_app(settings)) as client:
        yield client


def preflight(client: TestClient, origin: str, headers: str = "authorization,content-type") -> object:
    request_headers = {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": headers,
    }
    return client.options("/classify", headers=request_headers)


def cors_headers(response: object) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}  # type: ignore[attr-defined]


def test_a_listed_origin_gets_its_preflight_answered_without_a_key(cors: TestClient) -> None:
    response = preflight(cors, LISTED, "authorization,x-api-key,content-type")
    assert response.status_code == 200  # type: ignore[attr-defined]
    headers = cors_headers(response)
    assert headers["access-control-allow-origin"] == LISTED
    allowed = set(headers["access-control-allow-headers"].lower().split(", "))
    assert {"authorization", "x-api-key", "content-type"} <= allowed
    assert "access-control-allow-credentials" not in headers
    assert response.headers["x-content-type-options"] == "nosniff"  # type: ignore[attr-defined]


def test_an_unlisted_origin_gets_no_cors_headers(cors: TestClient) -> None:
    response = preflight(cors, UNLISTED)
    assert cors_headers(response) == {}
    assert_error(response, 401, "unauthorized")  # the preflight goes on to the app, which wants a key
    assert cors_headers(cors.get("/v1/model", headers={"Origin": UNLISTED, "X-API-Key": KEY})) == {}


def test_a_listed_origin_can_read_answers_and_errors(cors: TestClient) -> None:
    ok = cors.get("/v1/model", headers={"Origin": LISTED, "Authorization": f"Bearer {KEY}"})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == LISTED
    assert "retry-after" in ok.headers["access-control-expose-headers"].lower()
    refused = cors.get("/v1/model", headers={"Origin": LISTED})
    assert_error(refused, 401, "unauthorized")
    assert refused.headers["access-control-allow-origin"] == LISTED, "a page can read why it was refused"


def test_a_listed_origin_asking_for_other_headers_is_refused(cors: TestClient) -> None:
    response = preflight(cors, LISTED, "x-secret")
    assert response.status_code == 400  # type: ignore[attr-defined]


@pytest.mark.parametrize("origin", ["https://digits.example/", "digits.example", "https://a.example/path", "*"])
def test_an_origin_a_browser_never_sends_is_a_configuration_error(origin: str) -> None:
    with pytest.raises(ConfigurationError, match="not an origin"):
        parse_origins(origin)


def test_cors_is_off_by_default(client: TestClient) -> None:
    assert cors_headers(preflight(client, LISTED)) == {}
