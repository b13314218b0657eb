"""Pad-like drawings (training/input_kinds/pad.py): deterministic, shaped like mouse strokes, rendered as the
demo's canvas renders them."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
from PIL import Image

from training.input_kinds import pad
from training.input_kinds.pad_templates import TEMPLATES
from training.input_kinds.sets import pad_set


def test_a_seed_gives_the_same_drawings_and_another_seed_others() -> None:
    first, again, other = pad.drawing(4, 7, seed=0), pad.drawing(4, 7, seed=0), pad.drawing(4, 7, seed=1)
    assert len(first.strokes) == len(again.strokes)
    assert all(np.array_equal(a, b) for a, b in zip(first.strokes, again.strokes, strict=True))
    assert not all(
        len(a) == len(b) and np.array_equal(a, b) for a, b in zip(first.strokes, other.strokes, strict=False)
    )


def test_every_digit_comes_in_turn_with_its_styles_and_more_drawings_keep_the_first_ones() -> None:
    drawings = pad.pad_drawings(per_digit=4)
    assert [d.digit for d in drawings] == [digit for digit in range(10) for _ in range(4)]
    assert all(len(TEMPLATES[digit]) >= 3 for digit in range(10))  # several ways to draw each digit
    assert [d.style for d in drawings[:4]] == [0, 1, 2, 0]
    fewer = pad.pad_drawings(per_digit=2)
    same = zip(fewer[2].strokes, drawings[4].strokes, strict=True)  # digit 1's first drawing either way
    assert all(np.array_equal(a, b) for a, b in same)


def test_strokes_are_mouse_events_inside_the_pad() -> None:
    for drawing in pad.pad_drawings(per_digit=3):
        points = np.concatenate(drawing.strokes)
        assert points.min() >= 0 and points.max() <= pad.CANVAS
        height = points[:, 1].max() - points[:, 1].min()
        assert 90 <= height <= pad.CANVAS, (drawing.digit, height)
        for stroke in drawing.strokes:
            gaps = np.hypot(*np.diff(stroke, axis=0).T)
            assert len(stroke) >= 2 and gaps.max() < 20, (drawing.digit, gaps.max())
        assert drawing.as_lists()[0][0] == [float(v) for v in drawing.strokes[0][0]]


def test_the_pen_is_as_wide_as_the_demo_pages() -> None:
    page = (Path(__file__).resolve().parents[2] / "service" / "static" / "app.js").read_text()
    assert [float(width) for width in re.findall(r"context\.lineWidth = (\d+(?:\.\d+)?);", page)] == [pad.LINE_WIDTH]


def test_a_line_is_as_wide_as_the_pen_with_round_caps_and_antialiased_edges() -> None:
    ink = pad.render([np.array([[100.0, 140.3], [180.0, 140.3]])], line_width=20.0)
    assert ink.shape == (pad.CANVAS, pad.CANVAS) and ink.dtype == np.float32
    assert abs(ink[:, 140].sum() - 20) < 0.3  # across the line: 20 px of ink
    assert abs(ink.sum() - (80 * 20 + np.pi * 10**2)) < 0.01 * ink.sum()  # a capsule: round caps at both ends
    assert ink[140, 140] == 1 and ink[0].max() == 0 and ink[:, :85].max() == 0
    edge = ink[:, 140][(ink[:, 140] > 0) & (ink[:, 140] < 1)]
    assert len(edge) == 2  # one grey pixel on each side: the line's edges fall between pixels


def test_the_export_is_the_whole_canvas_as_an_opaque_rgba_png() -> None:
    drawing = pad.drawing(8, 0)
    image = Image.open(io.BytesIO(pad.export_png(pad.render(drawing.strokes))))
    assert image.format == "PNG" and image.mode == "RGBA" and image.size == (pad.CANVAS, pad.CANVAS)
    pixels = np.asarray(image)
    assert (pixels[..., 3] == 255).all() and (pixels[..., 0] == pixels[..., 2]).all()
    assert pixels[0, 0, 0] == 0 and pixels[..., 0].max() == 255  # white ink on the black pad


def test_the_pad_set_is_in_mnist_form_with_the_drawings_digits() -> None:
    kind = pad_set(per_digit=1)
    assert kind.name == "pad" and len(kind) == 10 and kind.labels.tolist() == list(range(10))
    assert kind.images.shape == (10, 28, 28) and kind.images.dtype == np.float32
    rows, cols = np.indices((28, 28))
    for image in kind.images:
        assert image.max() == 1 and image[:2].max() == 0 and image[:, :2].max() == 0
        assert abs((rows * image).sum() / image.sum() - 14) < 1 and abs((cols * image).sum() / image.sum() - 14) < 1
    assert "500" not in kind.description and "10 digits drawn on the demo's pad" in kind.description
