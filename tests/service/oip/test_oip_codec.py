"""The codec against tritonclient's own encoder and decoder: what the client builds we read, what we build it reads."""

from __future__ import annotations

import gzip
import zlib

import numpy as np
import pytest
import tritonclient.http as triton
from tritonclient.utils import serialize_byte_tensor

from service.oip.codec import OutputTensor, encode_infer_response, parse_infer_request
from service.oip.compression import accepted_encoding, compress, inflate
from service.oip.datatypes import array_from_json, split_bytes_elements
from service.oip.errors import OipError


def client_body(inputs: list[triton.InferInput], **options: object) -> tuple[bytes, str | None]:
    """The body and Inference-Header-Content-Length tritonclient would send."""
    body, json_size = triton.InferenceServerClient.generate_request_body(inputs, **options)  # type: ignore[arg-type]
    return body, None if json_size is None else str(json_size)


def client_input(name: str, array: np.ndarray, datatype: str, binary: bool) -> triton.InferInput:
    item = triton.InferInput(name, list(array.shape), datatype)
    item.set_data_from_numpy(array, binary_data=binary)
    return item


@pytest.mark.parametrize("binary", [True, False])
@pytest.mark.parametrize(
    ("datatype", "array"),
    [
        ("FP32", np.linspace(0, 1, 24, dtype=np.float32).reshape(2, 3, 4)),
        ("UINT8", np.arange(12, dtype=np.uint8).reshape(3, 4)),
        ("INT64", np.array([-(2**62), 0, 2**62], dtype=np.int64)),
        ("FP16", np.array([[0.5, -2.0]], dtype=np.float16)),
        ("BOOL", np.array([True, False, True])),
    ],
)
def test_numeric_tensors_as_tritonclient_sends_them(datatype: str, array: np.ndarray, binary: bool) -> None:
    body, header_length = client_body([client_input("x", array, datatype, binary)], request_id="r1")
    request = parse_infer_request(body, header_length)
    tensor = request.inputs["x"]
    assert request.id == "r1" and tensor.binary == binary and tensor.datatype == datatype
    assert tensor.data.dtype == array.dtype and np.array_equal(tensor.data, array)
    assert request.outputs is None and request.binary_output, "no outputs named: tritonclient asks for binary"


def test_bytes_tensors_as_tritonclient_sends_them() -> None:
    elements = [b"", b"\x00\xff binary", "ünïcode".encode(), b"x" * 1000]
    array = np.array(elements, dtype=object)
    body, header_length = client_body([client_input("blob", array, "BYTES", binary=True)])
    assert list(parse_infer_request(body, header_length).inputs["blob"].data) == elements
    texts = np.array([b"plain", "ünïcode".encode()], dtype=object)
    body, header_length = client_body([client_input("text", texts, "BYTES", binary=False)])
    assert header_length is None
    assert list(parse_infer_request(body, header_length).inputs["text"].data) == list(texts)


def test_bytes_elements_split_as_tritonclient_joins_them() -> None:
    elements = [b"a", b"", b"longer element"]
    raw = serialize_byte_tensor(np.array(elements, dtype=object)).item()
    assert split_bytes_elements("x", raw, 3) == elements
    with pytest.raises(OipError, match="missing"):
        split_bytes_elements("x", raw, 4)
    with pytest.raises(OipError, match="follow"):
        split_bytes_elements("x", raw + b"!", 3)


def test_several_binary_inputs_are_read_in_order() -> None:
    first, second = np.arange(6, dtype=np.float32), np.array([b"one", b"two"], dtype=object)
    inputs = [client_input("a", first, "FP32", True), client_input("b", second, "BYTES", True)]
    request = parse_infer_request(*client_body(inputs))
    assert np.array_equal(request.inputs["a"].data, first) and list(request.inputs["b"].data) == list(second)


def test_requested_outputs_keep_their_order_and_binary_flags() -> None:
    outputs = [triton.InferRequestedOutput("b", binary_data=False), triton.InferRequestedOutput("a")]
    body, header_length = client_body([client_input("x", np.zeros(1, np.float32), "FP32", False)], outputs=outputs)
    request = parse_infer_request(body, header_length)
    assert [(output.name, output.binary) for output in request.outputs or ()] == [("b", False), ("a", True)]


def test_nested_and_flat_json_data_are_the_same_tensor() -> None:
    flat = array_from_json("x", "FP32", (2, 2), [1, 2.5, 3, 4])
    nested = array_from_json("x", "FP32", (2, 2), [[1, 2.5], [3, 4]])
    assert np.array_equal(flat, nested) and flat.dtype == np.float32
    with pytest.raises(OipError, match="nested more deeply"):
        array_from_json("x", "FP32", (2,), [[[1]], [[2]]])
    with pytest.raises(OipError, match="null"):
        array_from_json("x", "FP32", (2,), [1, None])


@pytest.mark.parametrize("binary", [True, False])
def test_tritonclient_reads_our_responses(binary: bool) -> None:
    latent = np.random.default_rng(0).random((3, 10), dtype=np.float32)
    digit = np.array([7, 0, 9], dtype=np.int64)
    outputs = [OutputTensor("digit", digit, binary), OutputTensor("latent", latent, not binary)]
    encoded = encode_infer_response("m", "1", "id-9", outputs)
    header_length = None if encoded.header_length is None else str(encoded.header_length)
    for encoding, packed in ((None, encoded.body), ("gzip", compress(encoded.body, "gzip"))):
        result = triton.InferenceServerClient.parse_response_body(packed, False, header_length, encoding)
        assert result.get_response()["id"] == "id-9" and result.get_response()["model_version"] == "1"
        assert np.array_equal(result.as_numpy("digit"), digit) and np.array_equal(result.as_numpy("latent"), latent)


def test_the_response_has_no_id_when_the_request_had_none() -> None:
    encoded = encode_infer_response("m", "1", None, [OutputTensor("y", np.zeros(2, np.float32), False)])
    assert encoded.header_length is None and b'"id"' not in encoded.body


def test_inflate_holds_the_inflated_size_to_the_limit() -> None:
    body = b"{" + b" " * 998 + b"}"
    assert inflate(gzip.compress(body), "gzip", 1000) == body
    assert inflate(zlib.compress(body), "Deflate", 1000) == body
    with pytest.raises(OipError) as too_large:
        inflate(gzip.compress(body + b" "), "gzip", 1000)
    assert too_large.value.status == 413
    with pytest.raises(OipError) as unsupported:
        inflate(body, "br", 1000)
    assert unsupported.value.status == 415


@pytest.mark.parametrize(
    ("header", "chosen"),
    [(None, None), ("gzip", "gzip"), ("deflate", "deflate"), ("deflate, gzip", "gzip"), ("gzip;q=0", None),
     ("GZIP;q=0.5", "gzip"), ("*;q=0", None), ("*, gzip;q=0", "deflate"), ("br, identity", None), ("gzip;q=x", None)],
)  # fmt: skip
def test_accept_encoding(header: str | None, chosen: str | None) -> None:
    assert accepted_encoding(header) == chosen
