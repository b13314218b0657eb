"""Bad v2 requests: each gets its exact 4xx as {"error": "<message>"}, and the next good request still works."""

from __future__ import annotations

import gzip
import json
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.main import create_app
from tests.service.oip.conftest import assert_protocol_error

ENCODER = "/v2/models/routed-vae-encoder/infer"
DECODER = "/v2/models/routed-vae-decoder/infer"
CLASSIFIER = "/v2/models/routed-vae-classifier/infer"
BODY_LIMIT = 1024 * 1024
ONE_ROW = np.zeros((1, 28, 28), dtype=np.float32)


def request(*inputs: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"inputs": list(inputs), **fields}


def pixels(data: list[Any] | None = None, shape: list[int] | None = None, datatype: str = "FP32") -> dict[str, Any]:
    tensor: dict[str, Any] = {"name": "pixels", "shape": shape or [1, 28, 28], "datatype": datatype}
    tensor["data"] = [0.0] * 784 if data is None else data
    return tensor


def binary(name: str, shape: list[int], datatype: str, size: Any) -> dict[str, Any]:
    return {"name": name, "shape": shape, "datatype": datatype, "parameters": {"binary_data_size": size}}


def with_binary(
    document: dict[str, Any], data: bytes, header_length: str | None = None
) -> tuple[bytes, dict[str, str]]:
    """A body of the JSON then ``data``, and its Inference-Header-Content-Length header."""
    header = json.dumps(document).encode()
    return header + data, {"Inference-Header-Content-Length": header_length or str(len(header))}


def element(data: bytes, declared: int | None = None) -> bytes:
    """One BYTES element: a 4-byte little-endian length (``declared``, else the true one), then the bytes."""
    return struct.pack("<I", len(data) if declared is None else declared) + data


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    status: int
    content: bytes
    headers: dict[str, str] = field(default_factory=dict)
    says: str = ""  # a fragment the message must hold


def json_case(name: str, path: str, status: int, document: Any, says: str = "") -> Case:
    return Case(name, path, status, json.dumps(document).encode(), {"Content-Type": "application/json"}, says)


def binary_case(
    name: str, path: str, document: dict[str, Any], data: bytes, says: str, length: str | None = None
) -> Case:
    content, headers = with_binary(document, data, length)
    return Case(name, path, 400, content, headers, says)


ONE_ROW_BINARY = request(binary("pixels", [1, 28, 28], "FP32", 3136))
IMAGE_BYTES = request(binary("image", [2], "BYTES", 4 + 5 + 4 + 1))
ONE_VALUE = json.dumps(request(pixels([0.5], shape=[1]))).encode()
DEEP_DATA = ONE_VALUE.replace(b"[0.5]", b"[" * 10_000 + b"0.5" + b"]" * 10_000)
LAST_PIXEL_1E999 = json.dumps(request(pixels([0.0] * 783 + [0.5]))).replace("0.5", "1e999").encode()
PADDED = json.dumps(request(pixels())).encode() + b" " * (8 * BODY_LIMIT)  # valid JSON padded to 8x the limit
CASES = [
    # Triton's binary extension: lengths and sizes that do not add up
    binary_case("header length past the body", ENCODER, ONE_ROW_BINARY, ONE_ROW.tobytes(), "Inference-Header", "99999"),
    binary_case("header length not a number", ENCODER, ONE_ROW_BINARY, ONE_ROW.tobytes(), "Inference-Header", "-5"),
    binary_case(
        "negative binary_data_size",
        ENCODER,
        request(binary("pixels", [1, 28, 28], "FP32", -3136)),
        ONE_ROW.tobytes(),
        "binary_data_size",
    ),
    binary_case(
        "huge binary_data_size",
        ENCODER,
        request(binary("pixels", [1, 28, 28], "FP32", 2**62)),
        ONE_ROW.tobytes(),
        "runs past",
    ),
    binary_case(
        "binary_data_size not a number",
        ENCODER,
        request(binary("pixels", [1, 28, 28], "FP32", "3136")),
        ONE_ROW.tobytes(),
        "binary_data_size",
    ),
    binary_case(
        "binary size not the shape's",
        ENCODER,
        request(binary("pixels", [2, 28, 28], "FP32", 3136)),
        ONE_ROW.tobytes(),
        "needs 6272",
    ),
    binary_case(
        "binary bytes nobody claims", ENCODER, ONE_ROW_BINARY, ONE_ROW.tobytes() + b"\0" * 8, "belong to no input"
    ),
    binary_case(
        "BYTES length overruns", CLASSIFIER, IMAGE_BYTES, element(b"12345", 4000) + element(b"6"), "4000 bytes"
    ),
    binary_case(
        "BYTES element missing", CLASSIFIER, request(binary("image", [2], "BYTES", 9)), element(b"12345"), "missing"
    ),
    binary_case(
        "BYTES bytes left over",
        CLASSIFIER,
        request(binary("image", [1], "BYTES", 9)),
        element(b"1") + b"xxxx",
        "follow",
    ),
    binary_case(
        "both data and binary",
        ENCODER,
        request(pixels() | {"parameters": {"binary_data_size": 3136}}),
        ONE_ROW.tobytes(),
        "both",
    ),
    # compression
    Case("gzip bomb", ENCODER, 413, gzip.compress(PADDED), {"Content-Encoding": "gzip"}, "inflates"),
    Case("deflate bomb", ENCODER, 413, zlib.compress(PADDED), {"Content-Encoding": "deflate"}, "inflates"),
    Case("corrupt gzip", ENCODER, 400, b"\x1f\x8b" + b"not gzip at all", {"Content-Encoding": "gzip"}, "corrupt"),
    Case("truncated gzip", ENCODER, 400, gzip.compress(PADDED[:5000])[:-20], {"Content-Encoding": "gzip"}, "truncated"),
    Case("unknown encoding", ENCODER, 415, b"{}", {"Content-Encoding": "br"}, "br"),
    Case("body over the limit", ENCODER, 413, b" " * (BODY_LIMIT + 1), {}, "at most"),
    # JSON itself
    Case("10 000-deep JSON", ENCODER, 400, b"[" * 10_000 + b"]" * 10_000, {}, "nested too deeply"),
    Case("10 000-deep data", ENCODER, 400, DEEP_DATA, {}, "nested too deeply"),
    Case("malformed JSON", ENCODER, 400, b'{"inputs": [', {}, "malformed"),
    Case("not UTF-8", ENCODER, 400, b'{"id": "\xff\xfe"}', {}, "UTF-8"),
    Case("NaN literal", ENCODER, 400, ONE_VALUE.replace(b"0.5", b"NaN"), {}, "NaN"),
    Case("empty body", ENCODER, 400, b"", {}, "empty"),
    json_case("no inputs", ENCODER, 400, {"inputs": []}, "inputs"),
    json_case("negative dimension", ENCODER, 400, request(pixels(shape=[-1, 28, 28])), "shape"),
    json_case("unknown datatype", ENCODER, 400, request(pixels(datatype="FP8")), "datatype"),
    json_case("id not a string", ENCODER, 400, request(pixels(), id=42), "id"),
    # tensors the models refuse
    json_case("wrong shape", ENCODER, 400, request(pixels([0.0] * 56, shape=[2, 28])), "[-1, 28, 28]"),
    json_case("wrong datatype", ENCODER, 400, request(pixels(datatype="FP64")), "FP32 or UINT8"),
    json_case("element count", ENCODER, 400, request(pixels([0.0] * 700)), "784 elements"),
    json_case("booleans as FP32", ENCODER, 400, request(pixels([True] * 784)), "boolean"),
    json_case("pixel out of range", ENCODER, 400, request(pixels([1.5] * 784)), "from 0 to 1"),
    Case("pixel 1e999", ENCODER, 400, LAST_PIXEL_1E999, {}, "finite"),
    json_case("UINT8 out of range", ENCODER, 400, request(pixels([300] * 784, datatype="UINT8")), "out of range"),
    json_case(
        "latent out of range",
        DECODER,
        400,
        request({"name": "latent", "shape": [1, 10], "datatype": "FP32", "data": [11.0] * 10}),
        "0 to 10",
    ),
    json_case(
        "too many rows",
        ENCODER,
        400,
        request(pixels([0] * 257 * 784, shape=[257, 28, 28], datatype="UINT8")),
        "1 to 256",
    ),
    json_case("unknown input", ENCODER, 400, request(pixels() | {"name": "image"}), "no input 'image'"),
    json_case(
        "two classifier inputs",
        CLASSIFIER,
        400,
        request(pixels(), {"name": "image", "shape": [1], "datatype": "BYTES", "data": ["eA=="]}),
        "one input",
    ),
    json_case("duplicate input", ENCODER, 400, request(pixels(), pixels()), "twice"),
    json_case("unknown output", ENCODER, 400, request(pixels(), outputs=[{"name": "digit"}]), "no output 'digit'"),
    json_case(
        "classification output",
        CLASSIFIER,
        400,
        request(pixels(), outputs=[{"name": "digit", "parameters": {"classification": 3}}]),
        "classification",
    ),
    json_case(
        "binary_data_output not a boolean",
        ENCODER,
        400,
        request(pixels(), parameters={"binary_data_output": "yes"}),
        "true or false",
    ),
    json_case(
        "preprocess unknown", CLASSIFIER, 400, request(pixels(), parameters={"preprocess": "sideways"}), "preprocess"
    ),
    json_case(
        "invalid base64 image",
        CLASSIFIER,
        400,
        request({"name": "image", "shape": [1], "datatype": "BYTES", "data": ["%%%"]}),
        "base64",
    ),
    binary_case(
        "not an image", CLASSIFIER, request(binary("image", [1], "BYTES", 4 + 12)), element(b"not an image"), "Image 0"
    ),
    json_case("unknown model", "/v2/models/resnet50/infer", 404, request(pixels()), "resnet50"),
    json_case(
        "unknown version", "/v2/models/routed-vae-encoder/versions/7/infer", 404, request(pixels()), "version '7'"
    ),
]


@pytest.fixture(scope="module")
def client(tiny_model_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(model_path=tiny_model_path, max_body_bytes=BODY_LIMIT))) as test_client:
        yield test_client


def assert_good_request_works(client: TestClient) -> None:
    content, headers = with_binary(ONE_ROW_BINARY, ONE_ROW.tobytes())
    response = client.post(ENCODER, content=content, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["outputs"][0]["shape"] == [1, 10]


def test_the_table_is_large_enough() -> None:
    assert len(CASES) >= 15 and len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_is_refused_in_the_protocols_shape(client: TestClient, case: Case) -> None:
    response = client.post(case.path, content=case.content, headers=case.headers)
    message = assert_protocol_error(response, case.status)
    assert case.says in message, message
    assert_good_request_works(client)


def test_a_bomb_inflates_no_further_than_the_limit(client: TestClient) -> None:
    """A body under the limit that inflates 100-fold past it is refused; exactly the limit inflated is not."""
    bomb = gzip.compress(PADDED)
    assert len(bomb) < BODY_LIMIT and len(bomb) * 100 < len(PADDED)
    exact = json.dumps(request(pixels())).encode().ljust(BODY_LIMIT)
    response = client.post(ENCODER, content=gzip.compress(exact), headers={"Content-Encoding": "gzip"})
    assert response.status_code == 200, "a body that inflates to exactly the limit is accepted"
    assert_protocol_error(
        client.post(ENCODER, content=gzip.compress(exact + b" "), headers={"Content-Encoding": "gzip"}), 413
    )
