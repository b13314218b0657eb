"""Image decoding: header checks, limits and the path into MNIST form, without a model."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from mnist_form.errors import InputError
from service.errors import status_of
from service.images import (
    ImageLimits,
    decode_base64,
    luminance,
    open_image_file,
    pixels_to_png,
    to_mnist_form,
)
from training.input_kinds.digit_pictures import draw_digit, encode, fonts

LIMITS = ImageLimits(max_bytes=1_000_000, max_pixels=2000 * 2000)


def image_to_mnist(data: bytes, limits: ImageLimits, preprocess: str) -> np.ndarray:
    """Bytes of an image file -> MNIST form, as the service's request path does it for one file."""
    return to_mnist_form(open_image_file(data, limits), preprocess)


def picture(dark_on_light: bool, mode: str = "RGB", fmt: str = "PNG", offset: tuple[int, int] = (0, 0)) -> bytes:
    return encode(draw_digit(7, fonts(150)[0], 300, dark_on_light, mode, offset), fmt)


def decode(data: bytes) -> np.ndarray:
    return luminance(open_image_file(data, LIMITS), upright=False)


def centre_of_mass(pixels: np.ndarray) -> tuple[float, float]:
    rows, cols = np.indices(pixels.shape)
    return float((rows * pixels).sum() / pixels.sum()), float((cols * pixels).sum() / pixels.sum())


@pytest.mark.parametrize("dark_on_light", [True, False])
@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L"])
def test_auto_gives_mnist_form(dark_on_light: bool, mode: str) -> None:
    pixels = image_to_mnist(picture(dark_on_light, mode, offset=(-60, 40)), LIMITS, "auto")
    assert pixels.shape == (28, 28) and pixels.dtype == np.float32
    assert pixels.max() == pytest.approx(1.0, abs=0.05), "ink is white"
    assert pixels[0].max() == 0 and pixels[:, 0].max() == 0, "background is black at the border"
    rows = np.flatnonzero(pixels.max(axis=1) > 0.1)
    cols = np.flatnonzero(pixels.max(axis=0) > 0.1)
    assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 in (19, 20, 21), "longer side scaled to 20 px"
    row, col = centre_of_mass(pixels)
    assert abs(row - 14.0) <= 0.5 and abs(col - 14.0) <= 0.5, "centre of mass at MNIST's (14, 14)"


def test_polarity_and_format_do_not_change_the_result() -> None:
    reference = image_to_mnist(picture(True), LIMITS, "auto")
    for variant in (picture(False), picture(True, "RGBA"), picture(False, "L", "JPEG"), picture(True, fmt="JPEG")):
        assert np.abs(image_to_mnist(variant, LIMITS, "auto") - reference).mean() < 0.03


def test_mnist_form_input_is_nearly_unchanged_by_auto() -> None:
    """A 28x28 MNIST-form digit already in a 20 px box, centred, survives auto almost as is."""
    first = image_to_mnist(picture(False), LIMITS, "auto")
    again = image_to_mnist(pixels_to_png(first), LIMITS, "auto")
    assert np.abs(again - first).mean() < 0.03


def test_none_keeps_pixels_exactly() -> None:
    pixels = np.zeros((28, 28), np.float32)
    pixels[5:20, 10:14] = 1.0
    assert np.array_equal(image_to_mnist(pixels_to_png(pixels), LIMITS, "none"), pixels)


def test_blank_image_is_refused() -> None:
    blank = encode(Image.new("L", (50, 50), 255), "PNG")
    with pytest.raises(InputError) as error:
        image_to_mnist(blank, LIMITS, "auto")
    assert (status_of(error.value.code), error.value.code) == (422, "blank_image")


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"not an image at all", 415, "unsupported_image"),
        (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", 415, "unsupported_image"),
        (encode(Image.new("L", (28, 28)), "TIFF"), 415, "unsupported_image"),
        (encode(Image.new("L", (64, 64), 128), "PNG")[:60], 422, "corrupt_image"),
    ],
)
def test_bad_bytes_are_refused(data: bytes, status: int, code: str) -> None:
    with pytest.raises(InputError) as error:
        decode(data)
    assert (status_of(error.value.code), error.value.code) == (status, code)


def test_huge_dimensions_are_refused_from_the_header() -> None:
    huge = encode(Image.new("1", (5000, 5000)), "PNG")  # small file, 25 Mpx when decoded
    with pytest.raises(InputError) as error:
        open_image_file(huge, LIMITS)
    assert (status_of(error.value.code), error.value.code) == (413, "image_too_large")
    assert "5000x5000" in error.value.message


def test_animated_gif_uses_first_frame() -> None:
    frames = [Image.new("L", (28, 28), 0), Image.new("L", (28, 28), 255)]
    frames[0].paste(255, (10, 5, 18, 23))
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    pixels = image_to_mnist(buffer.getvalue(), LIMITS, "none")
    assert pixels[0, 0] == 0 and pixels[10, 12] == 1


@pytest.mark.parametrize(
    ("text", "code"), [("not base64!", "invalid_base64"), ("data:image/png,abc", "invalid_base64")]
)
def test_bad_base64_is_refused(text: str, code: str) -> None:
    with pytest.raises(InputError) as error:
        decode_base64(text, 1000)
    assert error.value.code == code


def test_output_png_has_no_metadata() -> None:
    image = Image.open(io.BytesIO(pixels_to_png(np.ones((28, 28), np.float32), scale=3)))
    assert image.size == (84, 84) and image.mode == "L" and not image.info


@pytest.mark.parametrize(("mode", "fmt"), [("L", "PNG"), ("RGB", "PNG"), ("L", "JPEG"), ("RGBA", "WEBP")])
def test_sizes_come_from_the_header_before_decoding(mode: str, fmt: str) -> None:
    file = open_image_file(encode(Image.new(mode, (300, 40)), fmt), LIMITS)
    assert (file.width, file.height, file.pixels) == (300, 40, 12_000)
    if mode == "L" and fmt == "PNG":
        assert file.pillow is None, "a plain grayscale PNG goes to the fast reader"
    else:
        assert file.pillow is not None and file.pillow.format == fmt


def test_damage_past_a_valid_header_is_found_when_decoding() -> None:
    """The header decides the path; a body that does not decode is still a 422, not a 500."""
    data = pixels_to_png(np.random.default_rng(0).random((28, 28)))
    broken = data[:60] + bytes(10) + data[70:]  # inside the pixel data; the IHDR is intact
    file = open_image_file(broken, LIMITS)
    assert (file.width, file.height, file.pillow) == (28, 28, None)
    with pytest.raises(InputError) as error:
        luminance(file, upright=False)
    assert error.value.code == "corrupt_image"
