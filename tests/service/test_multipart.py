"""The multipart reader over a body already in memory (the HTTP-level cases are in test_bad_inputs.py)."""

from __future__ import annotations

import pytest

from service.multipart import MultipartError, parse_multipart

TYPE = "multipart/form-data; boundary=xyz"


def body(*parts: tuple[str, str | None, bytes]) -> bytes:
    chunks = []
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
        chunks.append(f"--xyz\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n")
    return b"".join(chunks) + b"--xyz--\r\n"


def test_parts_keep_order_names_filenames_and_exact_bytes() -> None:
    payloads = [bytes(range(256)) * 3, b"\r\n--xy not a boundary\r\n", b""]
    parts = parse_multipart(body(*[("file", f"{i}.png", data) for i, data in enumerate(payloads)]), TYPE, 10)
    assert [(part.name, part.filename, part.data) for part in parts] == [
        ("file", f"{i}.png", data) for i, data in enumerate(payloads)
    ]


def test_a_field_has_no_filename() -> None:
    (part,) = parse_multipart(body(("note", None, b"hi")), TYPE, 10)
    assert (part.name, part.filename, part.data) == ("note", None, b"hi")


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code"),
    [
        (body(("file", "a.png", b"x")), "multipart/form-data", 400, "invalid_multipart"),
        (b"--xyz\r\nContent-Type: image/png\r\n\r\nx\r\n--xyz--\r\n", TYPE, 400, "invalid_multipart"),
        (b"--xyz\r\nno colon in this header line\r\n\r\nx\r\n--xyz--\r\n", TYPE, 400, "invalid_multipart"),
        (body(*[("file", "a.png", b"x")] * 4), TYPE, 413, "too_many_images"),
    ],
    ids=["no boundary", "part without a name", "broken part header", "more parts than allowed"],
)
def test_malformed_bodies_are_refused(data: bytes, content_type: str, status: int, code: str) -> None:
    with pytest.raises(MultipartError) as error:
        parse_multipart(data, content_type, 3)
    assert (error.value.status, error.value.code) == (status, code)
