"""The printed input kind: digits in faces the training set's printed digits (training/printed.py) never use,
in fonts, thick strokes, colours, canvases and off centre, as PNG and JPEG files. The service's tests use them
too; the evaluation reads them through ``auto`` (training/input_kinds/sets.py)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = ("DejaVuSans-Bold.ttf", "DejaVuSans.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSansMono-Bold.ttf")


def fonts(size: int) -> list[ImageFont.FreeTypeFont | ImageFont.ImageFont]:
    """DejaVu faces where installed, plus Pillow's bundled font, which is always there."""
    found: list[ImageFont.FreeTypeFont | ImageFont.ImageFont] = [
        ImageFont.truetype(str(FONT_DIR / name), size) for name in FONT_FILES if (FONT_DIR / name).exists()
    ]
    found.append(ImageFont.load_default(size=size))
    return found


@dataclass(frozen=True)
class Picture:
    digit: int
    description: str
    data: bytes


def draw_digit(
    digit: int,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    canvas: int,
    dark_on_light: bool,
    mode: str,
    offset: tuple[int, int],
) -> Image.Image:
    ink, paper = ((20, 20, 30), (245, 240, 230)) if dark_on_light else ((250, 250, 250), (15, 20, 25))
    if mode == "RGBA":
        image = Image.new("RGBA", (canvas, canvas), (*paper, 0))  # transparent paper
        fill: tuple[int, ...] = (*ink, 255)
    else:
        image = Image.new("RGB", (canvas, canvas), paper)
        fill = ink
    draw = ImageDraw.Draw(image)
    x, y = canvas // 2 + offset[0], canvas // 2 + offset[1]
    stroke = max(1, canvas // 60)
    draw.text((x, y), str(digit), font=font, fill=fill, anchor="mm", stroke_width=stroke, stroke_fill=fill)
    return image if mode in ("RGB", "RGBA") else image.convert(mode)


def encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    (image.convert("RGB") if fmt == "JPEG" and image.mode == "RGBA" else image).save(buffer, format=fmt)
    return buffer.getvalue()


CANVASES = ((120, (0, 0)), (600, (-140, 90)))  # side in px, the digit's offset from the middle


def picture_count() -> int:
    """How many pictures ``digit_pictures`` makes here: 200 where the four DejaVu faces are installed."""
    return len(CANVASES) * len(fonts(10)) * 10 * 2


def digit_pictures() -> Iterator[Picture]:
    """Every digit in several fonts, both polarities, RGB/RGBA/L, PNG/JPEG, canvases up to 600 px."""
    for canvas, offset in CANVASES:
        for font_index, font in enumerate(fonts(canvas // 2)):
            for digit in range(10):
                for dark_on_light in (True, False):
                    mode = ("RGB", "RGBA", "L")[(digit + font_index) % 3]
                    fmt = "PNG" if mode == "RGBA" or digit % 2 else "JPEG"
                    image = draw_digit(digit, font, canvas, dark_on_light, mode, offset)
                    description = (
                        f"{digit} font{font_index} {canvas}px {'dark' if dark_on_light else 'light'} {mode} {fmt}"
                    )
                    yield Picture(digit, description, encode(image, fmt))
