"""The protocol's tensor datatypes as numpy arrays: binary (little-endian, row-major) and JSON element lists.

BYTES elements travel in binary as a 4-byte little-endian length followed by that many bytes, and in JSON
as strings. Every check here raises ``OipError`` (400) naming the tensor, so a client learns what to fix.
"""

from __future__ import annotations

import math
import struct
from typing import Any

import numpy as np

from service.oip.errors import OipError

BYTES = "BYTES"
# Binary and JSON forms of every datatype the codec reads; BF16 has no numpy type and is refused.
NUMPY_TYPES: dict[str, np.dtype[Any]] = {
    name: np.dtype(kind).newbyteorder("<")
    for name, kind in {
        "BOOL": np.bool_,
        "UINT8": np.uint8,
        "UINT16": np.uint16,
        "UINT32": np.uint32,
        "UINT64": np.uint64,
        "INT8": np.int8,
        "INT16": np.int16,
        "INT32": np.int32,
        "INT64": np.int64,
        "FP16": np.float16,
        "FP32": np.float32,
        "FP64": np.float64,
    }.items()
}
DATATYPES = (*NUMPY_TYPES, BYTES)
LENGTH_PREFIX = struct.Struct("<I")


def element_count(shape: tuple[int, ...]) -> int:
    """Elements in a tensor of this shape (Python ints: a huge shape cannot overflow)."""
    return math.prod(shape)


def datatype_of(array: np.ndarray) -> str:
    """The protocol's name for a numeric array's element type."""
    for name, kind in NUMPY_TYPES.items():
        if array.dtype == kind:
            return name
    raise TypeError(f"no protocol datatype for {array.dtype}")


def array_from_binary(name: str, datatype: str, shape: tuple[int, ...], raw: bytearray) -> np.ndarray:
    """A tensor from its binary data: numeric as packed elements, BYTES as length-prefixed elements.

    ``raw`` is a bytearray so that numeric arrays are writable (torch warns about read-only ones)."""
    count = element_count(shape)
    if datatype == BYTES:
        return object_array(split_bytes_elements(name, raw, count), shape)
    kind = NUMPY_TYPES[datatype]
    if len(raw) != count * kind.itemsize:
        raise OipError(
            f"Input '{name}': binary_data_size is {len(raw)} bytes, but shape {list(shape)} of {datatype} "
            f"needs {count * kind.itemsize}."
        )
    return np.frombuffer(raw, dtype=kind).reshape(shape)


def split_bytes_elements(name: str, raw: bytes | bytearray, count: int) -> list[bytes]:
    """``count`` BYTES elements that fill ``raw`` exactly, each a 4-byte length and then its bytes."""
    elements, offset = [], 0
    for index in range(count):  # each pass consumes at least 4 bytes, so a huge count stops at the data's end
        if offset + LENGTH_PREFIX.size > len(raw):
            raise OipError(f"Input '{name}': BYTES element {index} of {count} is missing (data ends at byte {offset}).")
        (length,) = LENGTH_PREFIX.unpack_from(raw, offset)
        offset += LENGTH_PREFIX.size
        if length > len(raw) - offset:
            raise OipError(
                f"Input '{name}': BYTES element {index} says {length} bytes, but only {len(raw) - offset} remain."
            )
        elements.append(bytes(raw[offset : offset + length]))
        offset += length
    if offset != len(raw):
        raise OipError(f"Input '{name}': {len(raw) - offset} bytes follow its {count} BYTES elements.")
    return elements


def object_array(elements: list[bytes], shape: tuple[int, ...]) -> np.ndarray:
    """BYTES elements as a numpy object array of this shape (numpy would otherwise pad them to one length)."""
    array = np.empty(len(elements), dtype=object)
    array[:] = elements
    return array.reshape(shape)


def json_type(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", dict: "an object"}
    return names.get(type(value), "null")


def binary_of(array: np.ndarray) -> bytes:
    """A numeric array's binary data: little-endian, row-major, no padding."""
    return np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()


def flatten_json(name: str, data: list[Any], depth: int) -> list[Any]:
    """JSON tensor data, flat or nested at most ``depth`` levels, as one row-major list."""
    items = data
    for _ in range(depth):
        if not any(isinstance(item, list) for item in items):
            return items
        flat: list[Any] = []
        for item in items:
            if isinstance(item, list):
                flat.extend(item)
            else:
                flat.append(item)
        items = flat
    if any(isinstance(item, list) for item in items):
        raise OipError(f"Input '{name}': data is nested more deeply than its shape.")
    return items


def is_element(value: Any, datatype: str) -> bool:
    """Whether a JSON value is an element of ``datatype``: no bool for numbers, no number for BOOL."""
    kind = type(value)
    if datatype == BYTES:
        return kind is str
    if datatype == "BOOL":
        return kind is bool
    if datatype.startswith("FP"):
        return kind is int or kind is float
    return kind is int


def array_from_json(name: str, datatype: str, shape: tuple[int, ...], data: list[Any]) -> np.ndarray:
    """A tensor from JSON data; BYTES strings become their UTF-8 bytes."""
    items = flatten_json(name, data, max(len(shape), 1))
    count = element_count(shape)
    if len(items) != count:
        raise OipError(f"Input '{name}': shape {list(shape)} holds {count} elements, but data has {len(items)}.")
    wrong = next((index for index, item in enumerate(items) if not is_element(item, datatype)), None)
    if wrong is not None:
        raise OipError(f"Input '{name}': element {wrong} is {json_type(items[wrong])}, not {datatype}.")
    if datatype == BYTES:
        return object_array([item.encode() for item in items], shape)
    try:
        return np.array(items, dtype=NUMPY_TYPES[datatype]).reshape(shape)
    except OverflowError as error:
        raise OipError(f"Input '{name}': a value is out of range for {datatype}.") from error
