"""Pad-like drawings: digits drawn with a mouse on the demo page's pad, made from stroke templates.

What the pad does (service/static/index.html, app.js): a 280 x 280 canvas filled black; while the button is
down, every pointermove strokes one segment from the previous point to the new one in white, 20 px wide, with
round caps and joins, anti-aliased by the browser; nothing is drawn for a press without a move. Letting go
sends ``canvas.toDataURL("image/png")`` (the whole 280 x 280 canvas, RGBA, opaque) to
``/classify?preprocess=auto``; a digit of several strokes is classified after each stroke, the last answer
is the one that stays. Pen strokes here are polylines in canvas pixels, as mouse events would give them, so
the same drawing can be replayed on the real page (bench/pad_browser.py) and rendered here as the canvas
would: round-capped capsules, anti-aliased by 4 x 4 supersampling.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from training.input_kinds.pad_templates import TEMPLATES, Stroke, Template

CANVAS = 280  # the pad's width and height in canvas pixels
LINE_WIDTH = 24.0  # context.lineWidth in service/static/app.js (a test keeps the two equal)
SUPERSAMPLE = 4  # coverage of each pixel from SUPERSAMPLE x SUPERSAMPLE samples
MARGIN = 14.0  # px between the drawing's centre line and the canvas edge, at least
PER_DIGIT = 50
SEED = 0
UNIT_STEP = 0.01  # templates are resampled this finely (in template units) before they are bent


@dataclass(frozen=True)
class PadDrawing:
    """One drawing: pen strokes as (n, 2) arrays of canvas coordinates, x right and y down."""

    digit: int
    style: int
    strokes: tuple[np.ndarray, ...]

    def as_lists(self) -> list[list[list[float]]]:
        """The strokes as plain lists, e.g. to replay them in a browser."""
        return [[[float(x), float(y)] for x, y in stroke] for stroke in self.strokes]


def resample(stroke: Stroke, spacing: np.ndarray | float) -> Stroke:
    """Points along ``stroke`` ``spacing`` apart (a scalar, or one gap per step, cycled), both ends kept."""
    lengths = np.hypot(*np.diff(stroke, axis=0).T)
    along = np.concatenate([[0.0], np.cumsum(lengths)])
    given = np.atleast_1d(np.asarray(spacing, dtype=np.float64))
    gaps = np.resize(given, int(along[-1] / given.min()) + 2)
    marks = np.cumsum(np.concatenate([[0.0], gaps]))
    marks = np.append(marks[marks < along[-1] - 0.3 * gaps.min()], along[-1])
    return np.stack([np.interp(marks, along, stroke[:, 0]), np.interp(marks, along, stroke[:, 1])], axis=1)


def wobble(stroke: Stroke, rng: np.random.Generator) -> Stroke:
    """A hand's slow wander: two sinusoids of random phase along the stroke's length, in x and in y."""
    along = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(stroke, axis=0).T))])
    moved = stroke.copy()
    for axis in (0, 1):
        for _ in range(2):
            wavelength, amplitude = rng.uniform(0.3, 0.9), rng.uniform(0.004, 0.02)
            moved[:, axis] += amplitude * np.sin(2 * np.pi * along / wavelength + rng.uniform(0, 2 * np.pi))
    return moved


def affine(rng: np.random.Generator) -> np.ndarray:
    """Aspect, slant (mostly to the right, as handwriting leans) and a small rotation, as a 2 x 2 matrix."""
    aspect = rng.uniform(0.75, 1.3)
    slant = float(np.clip(rng.normal(0.12, 0.15), -0.25, 0.45))
    angle = np.radians(rng.uniform(-8.0, 8.0))
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    shear = np.array([[1.0, -slant], [0.0, 1.0]])  # x moves right as y goes up
    return np.asarray(rotation @ shear @ np.diag([aspect, 1.0]))


def place(strokes: list[Stroke], rng: np.random.Generator) -> list[Stroke]:
    """Scale to a drawn height of 110-240 px (narrower when too wide) and put somewhere near the middle."""
    points = np.concatenate(strokes)
    low, high = points.min(axis=0), points.max(axis=0)
    room = CANVAS - 2 * MARGIN
    scale = min(rng.uniform(110.0, 240.0) / (high[1] - low[1]), room / (high[0] - low[0]))
    size = (high - low) * scale
    slack = np.maximum(room - size, 0) / 2
    centre = CANVAS / 2 + slack * np.clip(rng.normal(0, 0.4, 2), -1, 1)
    return [(stroke - (low + high) / 2) * scale + centre for stroke in strokes]


def as_mouse_events(stroke: Stroke, rng: np.random.Generator) -> Stroke:
    """Points where pointermove events would fire: 3-10 px apart (the hand's speed), a little jitter,
    smoothed over three events, rounded to 1/100 px; always at least two points (a press and a move)."""
    speed = rng.uniform(3.0, 10.0)
    events = resample(stroke, speed * rng.uniform(0.7, 1.3, 64))
    events[1:-1] += rng.normal(0, 0.5, events[1:-1].shape)
    if len(events) > 3:
        events[1:-1] = (events[:-2] + events[1:-1] + events[2:]) / 3
    events = np.clip(events, 1.0, CANVAS - 1.0)
    if len(events) < 2:
        events = np.stack([events[0], events[0] + 1.0])
    return np.round(events, 2)


def drawing(digit: int, index: int, seed: int = SEED) -> PadDrawing:
    """Drawing ``index`` of ``digit``: a template style in turn, bent, placed and sampled with its own
    generator, so the same (digit, index, seed) always gives the same drawing."""
    rng = np.random.default_rng([seed, digit, index])
    templates: list[Template] = TEMPLATES[digit]
    style = index % len(templates)
    matrix = affine(rng)
    bent = [wobble(resample(stroke, UNIT_STEP), rng) @ matrix.T for stroke in templates[style]]
    strokes = tuple(as_mouse_events(stroke, rng) for stroke in place(bent, rng))
    return PadDrawing(digit, style, strokes)


def pad_drawings(per_digit: int = PER_DIGIT, seed: int = SEED) -> list[PadDrawing]:
    """``per_digit`` drawings of each digit, digit 0's first; the first n of each are the same for any count."""
    return [drawing(digit, index, seed) for digit in range(10) for index in range(per_digit)]


def render(strokes: tuple[np.ndarray, ...] | list[np.ndarray], line_width: float = LINE_WIDTH) -> np.ndarray:
    """The pad's canvas after these strokes: ink 0 (black) .. 1 (white), 280 x 280, in steps of 1/255.

    Every segment is a ``line_width``-wide capsule (round caps and joins); a pixel's ink is the share of its
    SUPERSAMPLE x SUPERSAMPLE samples that the strokes cover. Measured against Chromium's canvas after the same
    mouse events (bench/pad_browser.py, 2026-12-01): mean absolute difference 0.1-0.2 % of full ink per pixel,
    total ink within 0.5 %.
    """
    side, radius = CANVAS * SUPERSAMPLE, line_width / 2 * SUPERSAMPLE
    image = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(image)
    for stroke in strokes:
        # Pillow's pixel (i, j) is the sample at (i + 0.5, j + 0.5) in supersampled units.
        points = [(float(x), float(y)) for x, y in stroke * SUPERSAMPLE - 0.5]
        for x, y in points:
            draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=255)
        draw.line(points, fill=255, width=round(2 * radius))
    return np.asarray(image.reduce(SUPERSAMPLE), dtype=np.float32) / 255


def export_png(ink: np.ndarray) -> bytes:
    """What ``canvas.toDataURL("image/png")`` sends: the whole canvas as an opaque RGBA PNG."""
    gray = Image.fromarray((ink * 255).round().astype(np.uint8), "L")
    buffer = io.BytesIO()
    Image.merge("RGBA", (gray, gray, gray, Image.new("L", gray.size, 255))).save(buffer, format="PNG")
    return buffer.getvalue()
