"""A multipart/form-data body, already in memory, split into its parts. No HTTP here: errors are MultipartError.

python-multipart does the parsing. Driving its parser directly over the whole body, instead of going
through Starlette's form machinery (an UploadFile and a spooled temporary file per part), costs about
60 µs instead of 160 µs for a one-image request on this CPU, and a third as much for 256 images.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header


class MultipartError(ValueError):
    """A body that cannot be used; ``status`` and ``code`` say how to answer it."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Part:
    name: str | None = None
    filename: str | None = None  # present (possibly empty) only for file parts
    chunks: list[bytes] = field(default_factory=list)

    @property
    def data(self) -> bytes:
        return b"".join(self.chunks)


def boundary_of(content_type: str) -> bytes:
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise MultipartError(400, "invalid_multipart", "The multipart body is malformed: no boundary in Content-Type.")
    return boundary


class PartCollector:
    """Callbacks for python-multipart that gather at most ``max_parts`` parts."""

    def __init__(self, max_parts: int) -> None:
        self.max_parts = max_parts
        self.parts: list[Part] = []
        self.header_name = b""
        self.headers: dict[bytes, bytes] = {}

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
        }

    def on_part_begin(self) -> None:
        if len(self.parts) == self.max_parts:
            raise MultipartError(413, "too_many_images", f"At most {self.max_parts} images per request.")
        self.parts.append(Part())
        self.headers = {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name = data[start:end].lower()

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.headers[self.header_name] = self.headers.get(self.header_name, b"") + data[start:end]

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.headers.get(b"content-disposition"))
        part = self.parts[-1]
        if b"name" not in options:
            raise MultipartError(400, "invalid_multipart", "A part has no name in its Content-Disposition header.")
        part.name = options[b"name"].decode("latin-1")
        if b"filename" in options:
            part.filename = options[b"filename"].decode("latin-1")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        self.parts[-1].chunks.append(data[start:end])


def parse_multipart(body: bytes, content_type: str, max_parts: int) -> list[Part]:
    """Every part of ``body``; more than ``max_parts`` parts, or a malformed body, raise MultipartError."""
    collector = PartCollector(max_parts)
    parser = MultipartParser(boundary_of(content_type), collector.callbacks())  # type: ignore[arg-type]
    try:
        parser.write(body)
        parser.finalize()
    except MultipartParseError as error:
        raise MultipartError(400, "invalid_multipart", f"The multipart body is malformed: {error}") from error
    return collector.parts
