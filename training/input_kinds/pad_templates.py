"""How people draw each digit with a mouse: stroke templates, several styles per digit.

A template is a list of strokes (pen down ... pen up), each a dense polyline in a box one unit tall, x to the
right and y downwards as on a canvas; the digit spans y 0..1 and x about 0..0.6. ``training/input_kinds/pad.py``
perturbs, places and samples them like mouse events. Arcs are ellipse pieces: angle 0 points right, 90 down,
-90 up, so increasing angles run clockwise on the screen.
"""

from __future__ import annotations

import math

import numpy as np

Stroke = np.ndarray  # (n, 2) points, x and y
Template = list[Stroke]

ARC_STEP_DEGREES = 6.0


def arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float) -> Stroke:
    """Points along an ellipse from angle ``start`` to ``end`` (degrees; either direction)."""
    count = max(2, math.ceil(abs(end - start) / ARC_STEP_DEGREES) + 1)
    angles = np.radians(np.linspace(start, end, count))
    return np.stack([cx + rx * np.cos(angles), cy + ry * np.sin(angles)], axis=1)


def line(*points: tuple[float, float]) -> Stroke:
    """A polyline through ``points`` (straight pieces; pad.py samples them densely)."""
    return np.asarray(points, dtype=np.float64)


def bend(start: tuple[float, float], via: tuple[float, float], end: tuple[float, float]) -> Stroke:
    """A quadratic Bezier curve from ``start`` to ``end``, pulled towards ``via``."""
    t = np.linspace(0, 1, 21)[:, None]
    return np.asarray((1 - t) ** 2 * start + 2 * t * (1 - t) * np.asarray(via) + t**2 * np.asarray(end))


def joined(*pieces: Stroke) -> Stroke:
    """One stroke made of pieces drawn without lifting the pen."""
    return np.concatenate(pieces)


def zeros() -> list[Template]:
    return [
        [arc(0.3, 0.5, 0.28, 0.5, -95, 275)],  # from the top, anticlockwise on paper (clockwise here)
        [arc(0.3, 0.5, 0.27, 0.5, -80, -450)],  # from the top, the other way, a little overshoot
        [arc(0.25, 0.5, 0.2, 0.5, -120, 250)],  # narrow
    ]


def ones() -> list[Template]:
    return [
        [line((0.3, 0.0), (0.3, 1.0))],
        [line((0.1, 0.22), (0.32, 0.0), (0.32, 1.0))],  # with a flag
        [line((0.12, 0.2), (0.32, 0.0), (0.32, 1.0)), line((0.1, 1.0), (0.55, 1.0))],  # flag and foot
    ]


def twos() -> list[Template]:
    top = arc(0.3, 0.27, 0.27, 0.27, 200, 380)
    return [
        [joined(top, line((0.02, 1.0), (0.62, 1.0)))],
        [joined(top, line((0.14, 0.82)), arc(0.12, 0.9, 0.09, 0.08, -60, -400), line((0.62, 0.96)))],  # looped
        [joined(arc(0.28, 0.3, 0.26, 0.3, 190, 400), arc(0.62, 1.0, 0.6, 0.53, 200, 180), line((0.6, 1.0)))],
    ]


def threes() -> list[Template]:
    return [
        [joined(arc(0.3, 0.25, 0.25, 0.25, 200, 450), line((0.2, 0.5)), arc(0.3, 0.74, 0.28, 0.26, -90, 160))],
        [joined(line((0.05, 0.0), (0.55, 0.0), (0.22, 0.38)), arc(0.3, 0.7, 0.28, 0.3, -100, 160))],  # flat top
        [joined(arc(0.28, 0.26, 0.24, 0.24, 215, 440), arc(0.28, 0.75, 0.3, 0.25, -60, 165))],  # no inward point
    ]


def fours() -> list[Template]:
    return [
        [line((0.35, 0.0), (0.02, 0.62), (0.62, 0.62)), line((0.46, 0.28), (0.46, 1.0))],  # open, slanted
        [line((0.46, 1.0), (0.46, 0.0), (0.02, 0.65), (0.62, 0.65))],  # closed, one stroke
        [line((0.08, 0.0), (0.05, 0.55), (0.6, 0.55)), line((0.48, 0.04), (0.48, 1.0))],  # open, upright
    ]


def fives() -> list[Template]:
    belly = arc(0.28, 0.68, 0.27, 0.3, -125, 150)
    return [
        [joined(line((0.12, 0.0), (0.07, 0.45)), belly), line((0.12, 0.0), (0.56, 0.0))],  # bar drawn last
        [joined(line((0.56, 0.0), (0.12, 0.0), (0.07, 0.45)), belly)],  # one stroke
        [joined(line((0.1, 0.02), (0.06, 0.42)), arc(0.3, 0.7, 0.3, 0.28, -140, 130)), line((0.1, 0.02), (0.6, 0.0))],
    ]


def sixes() -> list[Template]:
    return [
        [joined(arc(0.58, 0.62, 0.55, 0.62, -95, -180), arc(0.3, 0.72, 0.27, 0.28, 180, 540))],
        [joined(line((0.48, 0.0), (0.1, 0.5)), arc(0.3, 0.73, 0.27, 0.27, 200, 560))],  # straight back
        [joined(arc(0.55, 0.6, 0.5, 0.6, -100, -170), arc(0.3, 0.75, 0.25, 0.25, 170, 520))],  # smaller loop
    ]


def sevens() -> list[Template]:
    bar_and_stem = line((0.02, 0.0), (0.6, 0.0), (0.22, 1.0))
    return [
        [bar_and_stem],
        [bar_and_stem, line((0.14, 0.52), (0.56, 0.5))],  # crossed
        [joined(line((0.02, 0.05), (0.6, 0.0)), bend((0.6, 0.0), (0.45, 0.6), (0.2, 1.0)))],  # curved stem
    ]


def eights() -> list[Template]:
    turns = np.linspace(0, 2 * math.pi, 61)
    height = 0.5 - 0.5 * np.cos(turns)
    figure = np.stack([0.3 - 0.24 * np.sin(2 * turns), height], axis=1)  # one stroke, S down and back up
    small_top = figure.copy()
    small_top[:, 1] = np.where(height < 0.5, 0.9 * height, 0.45 + 1.1 * (height - 0.5))
    small_top[:, 0] = 0.3 + (figure[:, 0] - 0.3) * np.where(height < 0.5, 0.8, 1.1)
    circles = [arc(0.3, 0.23, 0.2, 0.23, 0, 360), arc(0.3, 0.72, 0.26, 0.28, -90, 270)]
    return [[figure], [small_top], circles]


def nines() -> list[Template]:
    loop = arc(0.3, 0.27, 0.25, 0.27, 0, -360)  # from the right, over the top, round
    return [
        [joined(loop, line((0.55, 0.27), (0.53, 1.0)))],  # straight tail
        [joined(loop, arc(0.05, 0.3, 0.5, 0.7, 0, 100))],  # curved tail
        [joined(arc(0.3, 0.27, 0.26, 0.27, -20, -380), line((0.54, 0.2), (0.5, 1.0)))],
    ]


# Each digit's templates are stretched sideways by this factor, so that the drawings' median width in MNIST's
# 20 px box (after ``auto``, over the 50 drawings of each digit) is within a pixel of MNIST's test digits':
# 17, 6, 18, 14, 15, 18, 14, 15, 15, 14 px for 0-9 (measured 2026-12-01 on the first 150 of each digit with
# bench/stroke_stats.py's picture_stats; the drawings gave 16.5, 7, 18, 14, 15, 17, 14, 14, 15, 14).
WIDTH_SCALES = (1.45, 0.6, 1.4, 1.0, 1.15, 1.5, 1.12, 1.12, 1.22, 1.18)


def stretched(templates: list[Template], factor: float) -> list[Template]:
    return [[stroke * np.array([factor, 1.0]) for stroke in template] for template in templates]


TEMPLATES: tuple[list[Template], ...] = tuple(
    stretched(templates(), factor)
    for templates, factor in zip(
        (zeros, ones, twos, threes, fours, fives, sixes, sevens, eights, nines), WIDTH_SCALES, strict=True
    )
)
