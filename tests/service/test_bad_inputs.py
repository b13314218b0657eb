"""SECURITY.md checklist items 1-13: each bad input gets its exact status and code, and the next good request works."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from service.config import Settings
from service.main import create_app
from service.png import SIGNATURE, chunk
from tests.service.conftest import assert_error, digit_png, png_bytes

JSON = {"Content-Type": "application/json"}
LATENT = [0.0] * 10


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    status: int
    code: str
    content: bytes | None = None
    headers: dict[str, str] | None = None
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None


def multipart(*parts: tuple[str, bytes]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [(name, ("f.png", data, "image/png")) for name, data in parts]


def image_b64(image: Image.Image, fmt: str = "PNG") -> str:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return base64.b64encode(buffer.getvalue()).decode()


def png_bomb() -> bytes:
    header = struct.pack(">II5B", 28, 28, 8, 0, 0, 0, 0)
    pixels = zlib.compress(bytes(20_000_000), 9)
    return SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


CASES = [
    # 2. malformed JSON, wrong Content-Type, invalid UTF-8, empty body
    Case("malformed json", "/decode", 400, "invalid_json", b'{"latents": [[0,', JSON),
    Case("malformed json images", "/classify", 400, "invalid_json", b"{nope", JSON),
    Case("wrong content type", "/decode", 415, "unsupported_media_type", b"latents=1", {"Content-Type": "text/plain"}),
    Case("wrong content type images", "/classify", 415, "unsupported_media_type", b"x", {"Content-Type": "text/plain"}),
    Case("invalid utf-8", "/classify", 400, "invalid_json", b'{"images": ["\xff\xfe"]}', JSON),
    Case("invalid utf-8 decode", "/decode", 400, "invalid_json", b'{"latents": "\xff"}', JSON),
    Case("empty body", "/classify", 400, "empty_body", b"", JSON),
    Case("empty body decode", "/decode", 422, "validation_error", b"", JSON),
    # 3. deeply nested JSON
    Case("deep nesting images", "/classify", 400, "invalid_json", b"[" * 100_000, JSON),
    Case("deep nesting decode", "/decode", 400, "invalid_json", b"[" * 100_000, JSON),
    # 4. non-finite latents
    Case("nan latent", "/decode", 422, "validation_error", b'{"latents": [[NaN,0,0,0,0,0,0,0,0,0]]}', JSON),
    Case("huge float latent", "/decode", 422, "validation_error", b'{"latents": [[1e999,0,0,0,0,0,0,0,0,0]]}', JSON),
    Case(
        "nan pixel",
        "/classify",
        422,
        "validation_error",
        json.dumps({"images": [[[0.0] * 28] * 28]}).replace("0.0", "NaN", 1).encode(),
        JSON,
    ),
    # 5. integer literals longer than 4300 digits
    Case(
        "long int latent",
        "/decode",
        400,
        "invalid_json",
        b'{"latents": [[' + b"9" * 5000 + b",0,0,0,0,0,0,0,0,0]]}",
        JSON,
    ),
    Case("long int sample", "/sample", 400, "invalid_json", b'{"seed": ' + b"1" * 5000 + b"}", JSON),
    # 6. wrong shapes
    Case("latent too short", "/decode", 422, "validation_error", json.dumps({"latents": [[0] * 9]}).encode(), JSON),
    Case(
        "strings for numbers", "/decode", 422, "validation_error", json.dumps({"latents": [["0"] * 10]}).encode(), JSON
    ),
    Case("empty latents", "/decode", 422, "validation_error", b'{"latents": []}', JSON),
    Case("boolean seed", "/sample", 422, "validation_error", b'{"seed": false}', JSON),
    Case("boolean latent", "/decode", 422, "validation_error", b'{"latents": [[true,0,0,0,0,0,0,0,0,0]]}', JSON),
    Case(
        "latent batch too big",
        "/decode",
        422,
        "validation_error",
        json.dumps({"latents": [LATENT] * 257}).encode(),
        JSON,
    ),
    Case(
        "pixel rows wrong",
        "/classify",
        422,
        "validation_error",
        json.dumps({"images": [[[0.0] * 27] * 28]}).encode(),
        JSON,
    ),
    Case(
        "pixel out of range",
        "/classify",
        422,
        "validation_error",
        json.dumps({"images": [[[2.0] * 28] * 28]}).encode(),
        JSON,
    ),
    Case("empty images", "/classify", 422, "validation_error", b'{"images": []}', JSON),
    Case("images not a list", "/classify", 422, "validation_error", b'{"images": 5}', JSON),
    # 7. base64
    Case("bad base64", "/classify", 422, "invalid_base64", b'{"images": ["abc$def"]}', JSON),
    # 8. not an image, truncated, outside the allowlist
    Case("not an image", "/classify", 415, "unsupported_image", files=multipart(("file", b"hello world"))),
    Case(
        "truncated png",
        "/classify",
        422,
        "corrupt_image",
        files=multipart(("file", png_bytes(Image.new("L", (64, 64), 200))[:70])),
    ),
    Case(
        "tiff refused",
        "/classify",
        415,
        "unsupported_image",
        json.dumps({"images": [image_b64(Image.new("L", (28, 28)), "TIFF")]}).encode(),
        JSON,
    ),
    Case(
        "eps refused",
        "/classify",
        415,
        "unsupported_image",
        files=multipart(("file", b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n")),
    ),
    # 9. decompression bombs and huge dimensions
    Case(
        "huge dimensions",
        "/classify",
        413,
        "image_too_large",
        files=multipart(("file", png_bytes(Image.new("1", (5000, 5000))))),
    ),
    # 12. multipart abuse
    Case(
        "field without filename",
        "/classify",
        422,
        "unexpected_field",
        files=None,
        content=b'--b\r\nContent-Disposition: form-data; name="note"\r\n\r\nhi\r\n--b--\r\n',
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    ),
    Case(
        "malformed boundary",
        "/classify",
        400,
        "invalid_multipart",
        b"garbage without boundary",
        {"Content-Type": "multipart/form-data"},
    ),
    Case(
        "no file parts",
        "/classify",
        422,
        "no_images",
        b"--b--\r\n",
        {"Content-Type": "multipart/form-data; boundary=b"},
    ),
    Case("too many files", "/classify", 413, "too_many_images", files=multipart(*[("file", digit_png())] * 300)),
    # A 28 x 28 header over 20 MB of blank rows (20 KB deflated): read as the 28 x 28 it claims, at that cost.
    Case("pixel data far past its header", "/classify", 422, "blank_image", files=multipart(("file", png_bomb()))),
]


def assert_still_serving(client: TestClient) -> None:
    response = client.post("/classify", files={"file": ("ok.png", digit_png(), "image/png")})
    assert response.status_code == 200, response.text
    assert client.post("/decode", json={"latents": [LATENT]}).status_code == 200


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_is_refused_and_service_survives(client: TestClient, case: Case) -> None:
    response = client.post(case.path, content=case.content, headers=case.headers, files=case.files)
    error = assert_error(response, case.status, case.code)
    assert "Traceback" not in str(error) and "/work/" not in str(error) and "site-packages" not in str(error)
    assert_still_serving(client)


# 1. oversized bodies, by Content-Length and chunked


@pytest.fixture
def small_limit_client(settings: Settings) -> Iterator[TestClient]:
    limited = settings.model_copy(update={"max_body_bytes": 4096})
    with TestClient(create_app(limited)) as test_client:
        yield test_client


def test_oversized_body_with_content_length_is_413(small_limit_client: TestClient) -> None:
    response = small_limit_client.post("/decode", content=b"x" * 10_000, headers=JSON)
    assert_error(response, 413, "payload_too_large")
    assert_still_serving(small_limit_client)


def test_oversized_chunked_body_is_413(small_limit_client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b"[" * 1000

    response = small_limit_client.post("/classify", content=chunks(), headers=JSON)
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert_error(response, 413, "payload_too_large")
    assert_still_serving(small_limit_client)


# 11. metadata: output PNGs carry none (see test_api), input EXIF orientation is applied, not trusted blindly


def test_exif_and_text_chunks_are_ignored_safely(client: TestClient) -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<script>alert(1)</script>" * 1000)
    buffer = io.BytesIO()
    Image.open(io.BytesIO(digit_png(56))).save(buffer, format="PNG", pnginfo=info)
    response = client.post("/classify", files={"file": ("m.png", buffer.getvalue(), "image/png")})
    assert response.status_code == 200


# 13. overload: past the concurrency limit, 503 with Retry-After; admitted requests still succeed


def test_overload_answers_503_with_retry_after(settings: Settings) -> None:
    limited = settings.model_copy(update={"max_concurrent_requests": 2, "micro_batch_wait_ms": 50.0})
    app = create_app(limited)

    async def burst() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            body = {"latents": [LATENT] * 64}
            return list(await asyncio.gather(*[http.post("/decode", json=body) for _ in range(12)]))

    async def run() -> list[httpx.Response]:
        async with app.router.lifespan_context(app):
            return await burst()

    responses = asyncio.run(run())
    statuses = sorted(response.status_code for response in responses)
    assert set(statuses) == {200, 503}, statuses
    for response in responses:
        if response.status_code == 503:
            assert_error(response, 503, "overloaded")
            assert response.headers["retry-after"] == "1"
