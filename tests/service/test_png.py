"""The hand-written PNG writer and reader: pixels must match Pillow's exactly, and anything the reader
does not handle (or any broken file) must be left to Pillow."""

from __future__ import annotations

import io
import struct
import tracemalloc
import zlib

import numpy as np
import pytest
from PIL import Image, ImageOps, PngImagePlugin

from service.images import ImageLimits, luminance, open_image_file, pixels_to_png
from service.png import (
    SIGNATURE,
    chunk,
    decode_plain_gray,
    decode_plain_grays,
    gray_png,
    inflated,
    plain_gray_size,
    png_size,
    scanlines,
)

MAX_PIXELS = 4096 * 4096


def read_gray_png(data: bytes, max_pixels: int) -> np.ndarray | None:
    """What the service's fast path gives: pixels of a plain grayscale PNG within ``max_pixels``, else None."""
    size = plain_gray_size(data)
    if size is None or size[0] * size[1] > max_pixels:
        return None
    return decode_plain_gray(data, *size)


def pillow_png(image: Image.Image, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **options)
    return buffer.getvalue()


def random_gray(shape: tuple[int, int], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


@pytest.mark.parametrize("shape", [(28, 28), (1, 1), (3, 200), (224, 224)])
def test_pillow_reads_back_the_exact_pixels(shape: tuple[int, int]) -> None:
    image = np.random.default_rng(0).integers(0, 256, size=shape, dtype=np.uint8)
    decoded = Image.open(io.BytesIO(gray_png(image)))
    decoded.load()  # checks every chunk's CRC and the zlib stream
    assert decoded.format == "PNG" and decoded.mode == "L" and decoded.info == {}
    assert np.array_equal(np.asarray(decoded), image)


@pytest.mark.parametrize("scale", [2, 3, 8, 20])
def test_upscaling_repeats_each_pixel_like_nearest_neighbour(scale: int) -> None:
    pixels = np.random.default_rng(scale).random((28, 28))
    data = pixels_to_png(pixels, scale=scale)
    scaled = np.asarray(Image.open(io.BytesIO(data)))
    side = 28 * scale
    reference = Image.fromarray((pixels * 255).round().astype(np.uint8)).resize((side, side), Image.Resampling.NEAREST)
    assert np.array_equal(scaled, np.asarray(reference))
    assert np.array_equal(decode_plain_gray(data, side, side), scaled)  # the copies' "up" rows read back too


def test_upscaled_writing_keeps_a_non_square_image_s_shape() -> None:
    image = np.random.default_rng(2).integers(0, 256, size=(3, 5), dtype=np.uint8)
    decoded = np.asarray(Image.open(io.BytesIO(gray_png(image, scale=4))))
    assert np.array_equal(decoded, np.repeat(np.repeat(image, 4, axis=0), 4, axis=1))


def paeth(left: int, up: int, up_left: int) -> int:
    estimate = left + up - up_left
    distances = (abs(estimate - left), abs(estimate - up), abs(estimate - up_left))
    return (left, up, up_left)[distances.index(min(distances))]


def png_with_row_filter(pixels: np.ndarray, filter_type: int) -> bytes:
    """An 8-bit grayscale PNG whose every row uses one PNG filter (0 none .. 4 paeth), written by hand."""
    height, width = pixels.shape
    rows, previous = b"", [0] * width
    for line in pixels.tolist():
        filtered = []
        for x, value in enumerate(line):
            left, up, up_left = (line[x - 1] if x else 0), previous[x], (previous[x - 1] if x else 0)
            predictor = [0, left, up, (left + up) // 2, paeth(left, up, up_left)][filter_type]
            filtered.append((value - predictor) % 256)
        rows += bytes([filter_type, *filtered])
        previous = line
    header = struct.pack(">II5B", width, height, 8, 0, 0, 0, 0)
    return SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("filter_type", [0, 1, 2, 3, 4])
def test_reader_undoes_every_row_filter(filter_type: int) -> None:
    pixels = random_gray((9, 13), seed=filter_type)
    data = png_with_row_filter(pixels, filter_type)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(data))), pixels), "the hand-written file is valid"
    assert np.array_equal(read_gray_png(data, MAX_PIXELS), pixels)


@pytest.mark.parametrize("shape", [(28, 28), (1, 1), (3, 200), (224, 224)])
def test_reader_matches_pillow_on_pillow_written_pngs(shape: tuple[int, int]) -> None:
    # Pillow picks a filter per row (here none, sub, up and paeth occur; average is covered above).
    smooth = np.add.outer(np.arange(shape[0]), np.arange(shape[1])).astype(np.uint8)
    for pixels in (random_gray(shape), smooth):
        data = pillow_png(Image.fromarray(pixels))
        assert np.array_equal(read_gray_png(data, MAX_PIXELS), np.asarray(Image.open(io.BytesIO(data))))


def test_reader_reads_its_own_writer_and_text_chunks() -> None:
    pixels = random_gray((28, 28))
    assert np.array_equal(read_gray_png(gray_png(pixels), MAX_PIXELS), pixels)
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", "test")
    with_text = pillow_png(Image.fromarray(pixels), pnginfo=info)
    assert np.array_equal(read_gray_png(with_text, MAX_PIXELS), pixels)


def oriented_by_text(pixels: np.ndarray, where: str) -> bytes:
    """A grayscale PNG whose orientation (6: turned a quarter) is in a text chunk, where Pillow also reads it."""
    info = PngImagePlugin.PngInfo()
    if where == "xmp":
        xmp = '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description tiff:Orientation="6"/></x:xmpmeta>'
        info.add_itxt("XML:com.adobe.xmp", xmp)
    else:  # EXIF as ImageMagick stores it in PNGs: hex digits under "Raw profile type exif"
        exif = Image.Exif()
        exif[0x0112] = 6
        raw = exif.tobytes()
        info.add_text("Raw profile type exif", f"\nexif\n{len(raw):8d}\n{raw.hex()}\n", zip=True)
    return pillow_png(Image.fromarray(pixels), pnginfo=info)


@pytest.mark.parametrize("where", ["xmp", "exif"])
def test_an_orientation_in_a_text_chunk_is_left_to_pillow_and_applied(where: str) -> None:
    pixels = random_gray((28, 28))
    data = oriented_by_text(pixels, where)
    assert read_gray_png(data, MAX_PIXELS) is None
    assert scanlines(data, 28, 28) is None, "not left to the micro-batch either"
    upright = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))))
    assert not np.array_equal(upright, pixels), "Pillow turns it"
    file = open_image_file(data, ImageLimits(len(data), MAX_PIXELS))
    assert np.array_equal(luminance(file, upright=True), upright.astype(np.float32) / 255)


def interlaced(data: bytes) -> bytes:
    """The same PNG with the IHDR's interlace flag set (Pillow cannot write interlaced PNGs)."""
    header = data[16:28] + b"\x01"
    return data[:16] + header + struct.pack(">I", zlib.crc32(header, zlib.crc32(b"IHDR"))) + data[33:]


def corrupt_crc(data: bytes) -> bytes:
    return data[:-20] + bytes([data[-20] ^ 0xFF]) + data[-19:]  # a byte inside the IDAT chunk


@pytest.mark.parametrize(
    "case",
    ["rgb", "palette", "16-bit", "interlaced", "transparency", "too many pixels", "truncated", "bad crc", "jpeg"],
)
def test_reader_leaves_everything_else_to_pillow(case: str) -> None:
    gray = Image.fromarray(random_gray((28, 28)))
    data = {
        "rgb": lambda: pillow_png(gray.convert("RGB")),
        "palette": lambda: pillow_png(gray.convert("P")),
        "16-bit": lambda: pillow_png(gray.convert("I;16")),
        "interlaced": lambda: interlaced(gray_png(np.asarray(gray))),
        "transparency": lambda: pillow_png(gray, transparency=0),
        "too many pixels": lambda: pillow_png(Image.new("L", (100, 100))),
        "truncated": lambda: gray_png(np.asarray(gray))[:-30],
        "bad crc": lambda: corrupt_crc(gray_png(np.asarray(gray))),
        "jpeg": lambda: (lambda buffer: (gray.save(buffer, format="JPEG"), buffer.getvalue())[1])(io.BytesIO()),
    }[case]()
    assert read_gray_png(data, max_pixels=28 * 28) is None


def test_png_size_reads_the_header_only() -> None:
    assert png_size(pillow_png(Image.new("L", (300, 20)))) == (300, 20)
    assert png_size(pillow_png(Image.new("RGB", (28, 28)))) == (28, 28)
    assert png_size(gray_png(random_gray((5, 7)))[:24]) == (7, 5), "the first 24 bytes are enough"
    assert png_size(b"GIF89a" + bytes(30)) is None
    assert png_size(b"\x89PNG\r\n\x1a\n") is None


def filtered_png(image: np.ndarray, filters: list[int]) -> bytes:
    """A grayscale PNG whose rows use the given filter types (0 none, 1 sub, 2 up, 3 average, 4 Paeth)."""
    height, width = image.shape
    pixels, prior, rows = image.astype(np.int32), np.zeros(width, np.int32), []
    for row, kind in zip(pixels, filters, strict=True):
        left = np.concatenate([[0], row[:-1]])
        upper_left = np.concatenate([[0], prior[:-1]])
        estimate = left + prior - upper_left
        paeth = np.where(
            (np.abs(estimate - left) <= np.abs(estimate - prior))
            & (np.abs(estimate - left) <= np.abs(estimate - upper_left)),
            left,
            np.where(np.abs(estimate - prior) <= np.abs(estimate - upper_left), prior, upper_left),
        )
        predicted = [np.zeros(width, np.int32), left, prior, (left + prior) // 2, paeth][kind]
        rows.append(bytes([kind]) + ((row - predicted) % 256).astype(np.uint8).tobytes())
        prior = row
    header = struct.pack(">II5B", width, height, 8, 0, 0, 0, 0)
    return SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b"")


@pytest.mark.parametrize("first_filter", [0, 1, 2, 3, 4])
def test_many_pngs_decoded_together_equal_each_decoded_by_pillow(first_filter: int) -> None:
    rng = np.random.default_rng(first_filter)
    images = [random_gray((28, 28), seed) for seed in range(12)]
    files = [filtered_png(image, [first_filter, *rng.integers(0, 5, 27).tolist()]) for image in images]
    for data, image in zip(files, images, strict=True):
        assert np.array_equal(np.asarray(Image.open(io.BytesIO(data))), image), "the test's writer is right"
    assert np.array_equal(decode_plain_grays(files, 28, 28), np.stack(images))  # type: ignore[arg-type]


def with_row_filter(image: np.ndarray, row: int, kind: int) -> bytes:
    """A grayscale PNG of ``image`` whose row ``row`` claims filter type ``kind`` (5 and up: no such filter)."""
    rows = bytearray(b"".join(b"\x00" + line.tobytes() for line in image))
    rows[row * (image.shape[1] + 1)] = kind
    header = struct.pack(">II5B", image.shape[1], image.shape[0], 8, 0, 0, 0, 0)
    return SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(rows))) + chunk(b"IEND", b"")


def test_pngs_that_cannot_be_decoded_together_are_left_to_the_one_by_one_reader() -> None:
    image = random_gray((28, 28))
    good = filtered_png(image, [0] * 28)
    assert np.array_equal(decode_plain_grays([good, good], 28, 28), np.stack([image, image]))  # type: ignore[arg-type]
    assert decode_plain_grays([good, good[:-20]], 28, 28) is None, "truncated"
    assert decode_plain_grays([good, pillow_png(Image.new("RGB", (28, 28)))], 28, 28) is None, "not grayscale"
    assert decode_plain_grays([good, good], 28, 27) is None, "not the size given"
    for row in (0, 5):
        assert decode_plain_grays([good, with_row_filter(image, row, 5)], 28, 28) is None, f"filter 5 in row {row}"


def gray_png_with_rows(rows: bytes, side: int = 28) -> bytes:
    """A grayscale PNG whose header says ``side`` x ``side`` and whose pixel data inflates to ``rows``."""
    header = struct.pack(">II5B", side, side, 8, 0, 0, 0, 0)
    return SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def test_pixel_data_inflating_to_more_or_less_than_the_header_says_is_left_to_pillow() -> None:
    rows = bytes(28 * 29)  # every row unfiltered and blank
    assert scanlines(gray_png_with_rows(rows), 28, 28) == rows
    for wrong in (rows + b"\x00", rows[:-1], bytes(20_000_000)):
        assert scanlines(gray_png_with_rows(wrong), 28, 28) is None
    bomb = zlib.compress(bytes(20_000_000), 9)
    tracemalloc.start()
    try:
        assert inflated(bomb, 812) is None
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000, "inflating stops one byte past the size, not at the 20 MB the stream holds"
    assert inflated(b"not zlib", 812) is None
