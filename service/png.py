"""A minimal PNG writer for 8-bit grayscale images (what /decode, /sample and /preprocess answer with).

Pillow's PNG encoder spent about 0.2 ms on a 28 x 28 digit here, mostly setting up its compressor and
trying five row filters; these images need neither. Rows are stored unfiltered and deflated at zlib
level 1: about 30 µs for 28 x 28 and 0.14 ms for the demo's 224 x 224, and any PNG reader opens them.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"
GRAYSCALE_8_BIT = (8, 0, 0, 0, 0)  # bit depth, colour type, compression, filter method, no interlace


def chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(data, zlib.crc32(kind))
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def gray_png(image: np.ndarray) -> bytes:
    """(H, W) uint8 -> PNG bytes, with no metadata."""
    height, width = image.shape
    rows = np.zeros((height, width + 1), dtype=np.uint8)  # each row starts with filter type 0 (none)
    rows[:, 1:] = image
    header = struct.pack(">II5B", width, height, *GRAYSCALE_8_BIT)
    compressor = zlib.compressobj(1)
    pixels = compressor.compress(rows.tobytes()) + compressor.flush()
    return SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
