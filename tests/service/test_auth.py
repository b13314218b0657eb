"""API keys: how they are read, matched and named, and the 401 every protected path answers without one."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.api_keys import KeyRing, digest_of, key_ring, presented_key
from service.config import ConfigurationError, Settings
from service.endpoints import is_open
from service.main import create_app
from tests.service.conftest import assert_error, digit_png

KEY_A = "alpha-key-0123456789abcdef"
KEY_B = "bravo-key-0123456789abcdef"
KEY_C = "charlie-key-0123456789abcdef"  # only its sha256 is written down


def sha256_hex(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "api-keys"
    path.write_text(f"# keys for the tests\n\n{KEY_B}\nsha256:{sha256_hex(KEY_C).upper()}\n")
    return path


@pytest.fixture
def keyed(tiny_model_path: Path, key_file: Path) -> Iterator[TestClient]:
    settings = Settings(model_path=tiny_model_path, api_keys=f" {KEY_A} ,", api_keys_file=key_file)
    with TestClient(create_app(settings)) as client:
        yield client


def test_keys_come_from_the_variable_and_the_file_as_digests(tiny_model_path: Path, key_file: Path) -> None:
    ring = key_ring(Settings(model_path=tiny_model_path, api_keys=KEY_A, api_keys_file=key_file))
    assert set(ring.digests) == {digest_of(KEY_A), digest_of(KEY_B), digest_of(KEY_C)}
    for key in (KEY_A, KEY_B, KEY_C):
        assert ring.match(key) == sha256_hex(key)[:8]
    assert ring.match(KEY_A + "x") is None
    assert ring.match(KEY_A[:-1]) is None
    assert ring.match("") is None


def test_no_keys_means_key_checks_are_off(tiny_model_path: Path) -> None:
    assert not key_ring(Settings(model_path=tiny_model_path))
    assert not key_ring(Settings(model_path=tiny_model_path, api_keys=" , "))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "holds no key"),
        ("# only a comment\n", "holds no key"),
        ("sha256:abc\n", "64 hex digits"),
        (f"sha256:{'g' * 64}\n", "64 hex digits"),
        ("short\n", "at least 16 characters"),
    ],
)
def test_unusable_key_files_stop_start_up(tiny_model_path: Path, tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "keys"
    path.write_text(content)
    with pytest.raises(ConfigurationError, match=message):
        key_ring(Settings(model_path=tiny_model_path, api_keys_file=path))


def test_missing_key_file_and_short_keys_stop_start_up(tiny_model_path: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read"):
        key_ring(Settings(model_path=tiny_model_path, api_keys_file=tmp_path / "absent"))
    with pytest.raises(ConfigurationError, match="at least 16"):
        key_ring(Settings(model_path=tiny_model_path, api_keys="password"))


def test_settings_never_show_the_keys(tiny_model_path: Path) -> None:
    settings = Settings(model_path=tiny_model_path, api_keys=KEY_A)
    assert KEY_A not in repr(settings) and KEY_A not in str(settings.model_dump())


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([(b"authorization", b"Bearer abc")], "abc"),
        ([(b"authorization", b"bearer   abc ")], "abc"),
        ([(b"x-api-key", b"abc")], "abc"),
        ([(b"authorization", b"Basic dXNlcjpwdw=="), (b"x-api-key", b"abc")], "abc"),
        ([(b"authorization", b"Basic dXNlcjpwdw==")], None),
        ([(b"authorization", b"Bearer ")], None),
        ([], None),
    ],
)
def test_the_key_is_taken_from_bearer_or_x_api_key(headers: list[tuple[bytes, bytes]], expected: str | None) -> None:
    assert presented_key({"type": "http", "headers": headers}) == expected


def test_key_ring_matches_digests_written_in_any_case() -> None:
    ring = KeyRing((bytes.fromhex(sha256_hex(KEY_C)),))
    assert ring.match(KEY_C) == sha256_hex(KEY_C)[:8]


def test_without_a_key_a_model_endpoint_is_401_with_a_bearer_challenge(keyed: TestClient) -> None:
    response = keyed.get("/v1/model")
    assert_error(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == 'Bearer realm="routed-vae"'
    wrong = keyed.get("/v1/model", headers={"Authorization": f"Bearer {KEY_A}x"})
    error = assert_error(wrong, 401, "unauthorized")
    assert (
        wrong.headers["www-authenticate"].startswith("Bearer ")
        and 'error="invalid_token"' in wrong.headers["www-authenticate"]
    )
    assert KEY_A not in wrong.text and "not valid" in str(error["message"])


def test_each_key_works_by_either_header(keyed: TestClient) -> None:
    files = {"file": ("one.png", digit_png(), "image/png")}
    assert keyed.post("/classify", files=files, headers={"Authorization": f"Bearer {KEY_A}"}).status_code == 200
    assert keyed.post("/classify", files=files, headers={"X-API-Key": KEY_B}).status_code == 200
    assert keyed.get("/v1/model", headers={"authorization": f"bearer {KEY_C}"}).status_code == 200


def test_probes_demo_and_docs_stay_open_and_unknown_paths_need_a_key(keyed: TestClient) -> None:
    for path in ("/healthz", "/readyz", "/", "/static/app.js", "/docs", "/openapi.json"):
        assert keyed.get(path).status_code == 200, path
    assert_error(keyed.get("/metrics"), 401, "unauthorized")
    assert keyed.get("/metrics", headers={"X-API-Key": KEY_A}).status_code == 200
    assert_error(keyed.get("/no/such/path"), 401, "unauthorized")
    assert_error(keyed.get("/no/such/path", headers={"X-API-Key": KEY_A}), 404, "not_found")


@pytest.mark.parametrize(
    ("path", "open_"),
    [
        ("/healthz", True),
        ("/static/app.js", True),
        ("/v2/health/ready", True),
        ("/healthz/", False),
        ("/static", False),
        ("/static/../v1/model", False),
        ("/v2/health/../models/x/infer", False),
        ("/v2/models/x/infer", False),
        ("/metrics", False),
    ],
)
def test_open_paths_are_listed_and_cannot_be_climbed_out_of(path: str, open_: bool) -> None:
    assert is_open(path) is open_


def test_openapi_documents_the_keys_on_protected_operations_only(keyed: TestClient) -> None:
    schema = keyed.get("/openapi.json").json()
    assert set(schema["components"]["securitySchemes"]) == {"bearer", "apiKey"}
    assert schema["paths"]["/classify"]["post"]["security"] == [{"bearer": []}, {"apiKey": []}]
    assert schema["paths"]["/v1/model"]["get"]["security"]
    assert "security" not in schema["paths"]["/healthz"]["get"]


def test_keys_off_by_default(client: TestClient) -> None:
    assert client.get("/v1/model").status_code == 200
    assert "securitySchemes" not in client.get("/openapi.json").json()["components"]
