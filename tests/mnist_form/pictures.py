"""Luminance pictures of digits for comparing preprocessing pipelines: MNIST-sized digits, scans, photos."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from service.images import ImageLimits, luminance, open_image_file
from training.input_kinds.digit_pictures import digit_pictures

SAMPLES = Path(__file__).resolve().parents[2] / "service" / "static" / "mnist-samples.json"
LIMITS = ImageLimits(max_bytes=10_000_000, max_pixels=4096 * 4096)


def mnist_samples() -> tuple[np.ndarray, np.ndarray]:
    """The 200 MNIST test digits bundled with the demo page: (200, 28, 28) uint8 and their labels."""
    samples = json.loads(SAMPLES.read_text())
    pixels = [np.frombuffer(base64.b64decode(text), dtype=np.uint8) for text in samples["pixels"]]
    return np.stack(pixels).reshape(-1, 28, 28), np.asarray(samples["labels"])


def gray(pixels: np.ndarray) -> np.ndarray:
    return pixels.astype(np.float32) / 255


def decoded(data: bytes) -> np.ndarray:
    """Luminance of an image file, as the service decodes it for ``auto``."""
    return luminance(open_image_file(data, LIMITS), upright=True)


def encoded(image: Image.Image, fmt: str, quality: int = 85) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **({"quality": quality} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def scan(digit: np.ndarray, side: int = 112) -> np.ndarray:
    """A black-on-white picture of an MNIST digit at ``side`` px, as a scanner would give it."""
    return gray(np.asarray(Image.fromarray(255 - digit).resize((side, side), Image.Resampling.BILINEAR)))


def thickened(digit: np.ndarray, size: int = 3) -> np.ndarray:
    """An MNIST digit drawn with a thicker pen (strokes widened by a maximum filter)."""
    return np.asarray(Image.fromarray(digit).filter(ImageFilter.MaxFilter(size)))


def photo(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An MNIST digit photographed: either polarity, on a canvas up to 640 px, off centre, uneven light,
    sensor noise, then JPEG compression."""
    canvas_w, canvas_h = int(rng.integers(60, 641)), int(rng.integers(60, 481))
    side = int(rng.integers(24, max(25, min(canvas_w, canvas_h) - 10)))
    ink = np.asarray(Image.fromarray(digit).resize((side, side), Image.Resampling.BICUBIC), dtype=np.float32) / 255
    top, left = int(rng.integers(0, canvas_h - side + 1)), int(rng.integers(0, canvas_w - side + 1))
    picture = np.zeros((canvas_h, canvas_w), np.float32)
    picture[top : top + side, left : left + side] = ink
    light = np.linspace(0.75, 1.0, canvas_w, dtype=np.float32)[None, :]
    paper, pen = (0.9 * light, 0.1) if rng.random() < 0.5 else (0.1 * light, 0.9)
    values = paper + (pen - paper) * picture + rng.normal(0, 0.03, picture.shape).astype(np.float32)
    image = Image.fromarray((values.clip(0, 1) * 255).round().astype(np.uint8))
    return decoded(encoded(image.convert("RGB"), "JPEG", int(rng.integers(50, 95))))


def printed_pictures() -> list[np.ndarray]:
    """The 200 printed-digit pictures of the service's tests (fonts, colours, RGBA, JPEG, canvases to 600 px)."""
    return [decoded(picture.data) for picture in digit_pictures()]


def all_kinds(count: int = 200, seed: int = 0) -> dict[str, list[np.ndarray]]:
    """Every kind of picture the pipelines are compared on, ``count`` of the MNIST-based ones each."""
    digits, _ = mnist_samples()
    digits = digits[:count]
    rng = np.random.default_rng(seed)
    return {
        "MNIST test digits (28 x 28)": [gray(digit) for digit in digits],
        "thick-pen MNIST digits (28 x 28)": [gray(thickened(digit)) for digit in digits],
        "scans (112 x 112, black on white)": [scan(digit) for digit in digits[:50]],
        "photos (noise, uneven light, JPEG, canvases to 640 px)": [photo(digit, rng) for digit in digits[:50]],
        "printed digits (fonts, RGB/RGBA/L, PNG/JPEG)": printed_pictures(),
    }
