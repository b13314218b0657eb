"""gzip and deflate: request bodies inflated within a size limit, responses compressed when the client asks.

A compressed body's own size is held to the body limit by the middleware; the inflated size is held to the
same limit here, by inflating at most one byte past it, so a small "zip bomb" costs at most that much memory.
"""

from __future__ import annotations

import zlib

from service.oip.errors import OipError

# zlib's window bits: 31 reads and writes the gzip format; 15 the zlib format, which is what HTTP's "deflate" is.
WINDOW_BITS = {"gzip": 31, "x-gzip": 31, "deflate": 15}
RESPONSE_ENCODINGS = ("gzip", "deflate")  # in order of preference
COMPRESSION_LEVEL = 6  # zlib's own default; Python's gzip module defaults to 9, the slowest


def inflate(body: bytes, content_encoding: str | None, limit: int) -> bytes:
    """The body as sent before Content-Encoding; 413 past ``limit`` bytes, 415 for unknown encodings."""
    encoding = (content_encoding or "identity").strip().lower()
    if encoding == "identity":
        return body
    if encoding not in WINDOW_BITS:
        raise OipError(f"Content-Encoding '{encoding[:40]}' is not supported; send gzip, deflate or identity.", 415)
    inflater = zlib.decompressobj(WINDOW_BITS[encoding])
    try:
        inflated = inflater.decompress(body, limit + 1)
    except zlib.error as error:
        raise OipError(f"The {encoding} body is corrupt: {error}.") from error
    if len(inflated) > limit:
        raise OipError(f"The request body inflates to more than {limit} bytes, the limit.", 413)
    if not inflater.eof:
        raise OipError(f"The {encoding} body is truncated.")
    if inflater.unused_data:
        raise OipError(f"{len(inflater.unused_data)} bytes follow the end of the {encoding} data.")
    return inflated


def accepted_encoding(accept_encoding: str | None) -> str | None:
    """gzip or deflate if the Accept-Encoding header accepts it (q > 0, or by "*"), gzip first; else None."""
    accepted: set[str] = set()
    refused: set[str] = set()
    for item in (accept_encoding or "").lower().split(","):
        coding, _, parameters = item.partition(";")
        quality = parameters.strip().removeprefix("q=") or "1"
        try:
            wanted = float(quality) > 0
        except ValueError:
            wanted = False
        (accepted if wanted else refused).add(coding.strip())
    for name in RESPONSE_ENCODINGS:
        if name in accepted or ("*" in accepted and name not in refused):
            return name
    return None


def compress(body: bytes, encoding: str) -> bytes:
    """``body`` in the gzip or deflate (zlib) format."""
    compressor = zlib.compressobj(COMPRESSION_LEVEL, zlib.DEFLATED, WINDOW_BITS[encoding])
    return compressor.compress(body) + compressor.flush()
