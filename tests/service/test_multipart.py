"""The multipart reader over a body already in memory (the HTTP-level cases are in test_bad_inputs.py)."""

from __future__ import annotations

import random

import pytest
from python_multipart.multipart import MultipartParser, parse_options_header

from mnist_form.errors import InputError
from service.errors import status_of
from service.multipart import parse_multipart

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
        (b"no delimiter anywhere", TYPE, 400, "invalid_multipart"),
        (body(("file", "a.png", b"x"))[: -len(b"--xyz--\r\n") - 2], TYPE, 400, "invalid_multipart"),
        (b"--xyz\r\nContent-Disposition: form-data; name=file\r\nx\r\n--xyz--\r\n", TYPE, 400, "invalid_multipart"),
        (b"--xyzabc\r\n\r\nx\r\n--xyz--\r\n", TYPE, 400, "invalid_multipart"),
        (b"--xyz\r\n\r\nx\r\n--xyz--\r\n", TYPE, 400, "invalid_multipart"),
    ],
    ids=[
        "no boundary",
        "part without a name",
        "broken part header",
        "more parts than allowed",
        "boundary absent from the body",
        "no closing boundary",
        "headers never end",
        "text after the boundary",
        "part with no headers",
    ],
)
def test_malformed_bodies_are_refused(data: bytes, content_type: str, status: int, code: str) -> None:
    with pytest.raises(InputError) as error:
        parse_multipart(data, content_type, 3)
    assert (status_of(error.value.code), error.value.code) == (status, code)


def test_preamble_epilogue_padding_and_header_forms_are_understood() -> None:
    data = (
        b"preamble to ignore\r\n--xyz  \r\n"
        b'content-disposition: form-data; name="file"; filename="C:\\dir\\a \\"b\\".png"\r\n'
        b"Content-Type: image/png\r\n\r\n1\r\n"
        b'--xyz\r\nContent-Disposition:form-data;name=plain;FILENAME=""\r\n\r\n2\r\n'
        b"--xyz--\r\nepilogue --xyz to ignore"
    )
    parts = parse_multipart(data, TYPE, 10)
    assert [(part.name, part.filename, part.data) for part in parts] == [
        ("file", 'a "b".png', b"1"),  # python-multipart keeps only the last part of a Windows path
        ("plain", "", b"2"),
    ]


class ReferenceCollector:
    """python-multipart's streaming parser's callbacks, collecting (name, filename, data) per part."""

    def __init__(self) -> None:
        self.parts: list[tuple[str, str | None, bytes]] = []
        self.header = b""

    def on_part_begin(self) -> None:
        self.parts.append(("", None, b""))

    def on_header_field(self, chunk: bytes, start: int, end: int) -> None:
        self.header = chunk[start:end].lower()

    def on_header_value(self, chunk: bytes, start: int, end: int) -> None:
        if self.header == b"content-disposition":
            options = parse_options_header(chunk[start:end])[1]
            filename = options.get(b"filename")
            name = options[b"name"].decode("latin-1")
            self.parts[-1] = (name, None if filename is None else filename.decode("latin-1"), self.parts[-1][2])

    def on_part_data(self, chunk: bytes, start: int, end: int) -> None:
        name, filename, data = self.parts[-1]
        self.parts[-1] = (name, filename, data + chunk[start:end])


def reference_parts(data: bytes, boundary: bytes) -> list[tuple[str, str | None, bytes]]:
    """The same body through python-multipart's streaming parser."""
    collector = ReferenceCollector()
    callbacks = {name: getattr(collector, name) for name in vars(ReferenceCollector) if name.startswith("on_")}
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    parser.write(data)
    parser.finalize()
    return collector.parts


def random_payload(rng: random.Random) -> bytes:
    """Bytes that look like a boundary, line breaks and dashes as often as anything else, but never hold the
    boundary itself (RFC 2046: a client picks a boundary that its data does not contain)."""
    pieces = [b"\r\n", b"--", b"-", b"\r", b"\n", b"--xy", b"\r\n--xy", b"xyz", bytes([rng.randrange(256)])]
    while True:
        payload = b"".join(rng.choice(pieces) for _ in range(rng.randrange(40)))
        if b"--xyz" not in payload:
            return payload


def test_bodies_split_like_python_multipart() -> None:
    rng = random.Random(7)
    for _ in range(300):
        filenames = [None, "", "a.png", "ü.png", "a;b.png"]
        parts = [
            (rng.choice(["file", "note", "x y"]), rng.choice(filenames), random_payload(rng))
            for _ in range(rng.randrange(1, 6))
        ]
        data = body(*parts)
        expected = reference_parts(data, b"xyz")
        assert [payload for _, _, payload in expected] == [payload for _, _, payload in parts]
        assert [(part.name, part.filename, part.data) for part in parse_multipart(data, TYPE, 10)] == expected


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data; boundary=xyz",
        'multipart/form-data;boundary="xyz"',
        "Multipart/Form-Data; charset=utf-8; boundary=xyz",
        'multipart/form-data; boundary="xyz"; charset=utf-8',
    ],
)
def test_every_spelling_of_the_boundary_parameter_is_read(content_type: str) -> None:
    (part,) = parse_multipart(body(("file", "a.png", b"x")), content_type, 10)
    assert (part.name, part.filename, part.data) == ("file", "a.png", b"x")
