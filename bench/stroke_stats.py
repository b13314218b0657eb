"""`python -m bench.stroke_stats`: what the model sees of each input kind, against MNIST, after `auto`.

For the 28 x 28 pictures the model receives: stroke width (ink mass over skeleton length, the skeleton by
Zhang-Suen thinning of the pixels above one half), how much of the ink is grey edge rather than solid stroke,
and how large the digit is in MNIST's 20 px box. With ``--pad-variants`` it also redraws the pad-like drawings
with other pad settings (line width, a blur on the canvas) and gives the committed model's accuracy on each.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageFilter

from mnist_form.picture import file_luminance
from mnist_form.preprocess import preprocess_auto
from training.data import load_mnist
from training.input_kinds import pad
from training.input_kinds.evaluation import predictions
from training.input_kinds.sets import KindSet, kind_sets

ROOT = Path(__file__).resolve().parent.parent
NEIGHBOURS = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))  # P2..P9, clockwise


def neighbours(mask: np.ndarray) -> list[np.ndarray]:
    padded = np.pad(mask, 1)
    height, width = mask.shape
    return [padded[1 + dy : 1 + dy + height, 1 + dx : 1 + dx + width] for dy, dx in NEIGHBOURS]


def thin(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning: the one-pixel-wide skeleton of a binary picture."""
    skeleton = mask.copy()
    changed = True
    while changed:
        changed = False
        for step in (0, 1):
            p = neighbours(skeleton)
            count = sum(n.astype(int) for n in p)
            transitions = sum((~p[i] & p[(i + 1) % 8]).astype(int) for i in range(8))
            if step == 0:
                ends = ~(p[0] & p[2] & p[4]) & ~(p[2] & p[4] & p[6])
            else:
                ends = ~(p[0] & p[2] & p[6]) & ~(p[0] & p[4] & p[6])
            remove = skeleton & (count >= 2) & (count <= 6) & (transitions == 1) & ends
            if remove.any():
                skeleton &= ~remove
                changed = True
    return skeleton


def picture_stats(image: np.ndarray) -> dict[str, float]:
    """Stroke width, edge share and size of one 28 x 28 MNIST-form picture."""
    solid = image > 0.5
    skeleton = max(1, int(thin(solid).sum()))
    ink = image > 0.1
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return {
        "stroke_width_px": float(image.sum()) / skeleton,  # ink mass per pixel of centre line
        "solid_width_px": float(solid.sum()) / skeleton,
        "skeleton_px": float(skeleton),
        "ink_mass": float(image.sum()),
        "grey_share": float(((image > 0.1) & (image < 0.9)).sum() / max(1, ink.sum())),
        "full_share": float((image >= 0.99).sum() / max(1, ink.sum())),
        "height_px": float(rows[-1] - rows[0] + 1),
        "width_px": float(cols[-1] - cols[0] + 1),
    }


def kind_stats(images: np.ndarray) -> dict[str, float]:
    """Medians of ``picture_stats`` over a kind's pictures."""
    rows = [picture_stats(image) for image in images]
    return {key: round(float(np.median([row[key] for row in rows])), 3) for key in rows[0]}


def blurred(ink: np.ndarray, sigma: float) -> np.ndarray:
    if sigma == 0:
        return ink
    image = Image.fromarray((ink * 255).round().astype(np.uint8)).filter(ImageFilter.GaussianBlur(sigma))
    return np.asarray(image, dtype=np.float32) / 255


def pad_variant(drawings: list[pad.PadDrawing], line_width: float, sigma: float) -> np.ndarray:
    """The pad set drawn with another line width and a Gaussian blur of the canvas, through auto."""
    canvases = [blurred(pad.render(d.strokes, line_width), sigma) for d in drawings]
    return np.stack([preprocess_auto(file_luminance(pad.export_png(canvas))) for canvas in canvases])


def variants(model: Callable[[np.ndarray], np.ndarray], widths: list[float], sigmas: list[float]) -> list[Any]:
    drawings = pad.pad_drawings()
    labels = np.array([d.digit for d in drawings])
    rows = []
    for width in widths:
        for sigma in sigmas:
            images = pad_variant(drawings, width, sigma)
            accuracy = float((model(images) == labels).mean())
            rows.append({"line_width": width, "blur_sigma": sigma, "accuracy": accuracy, **kind_stats(images)})
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return rows


def measure(model_path: Path, pad_variants: bool) -> dict[str, Any]:
    scripted = torch.jit.load(str(model_path), map_location="cpu").eval()
    sets: list[KindSet] = kind_sets(load_mnist().test)
    report: dict[str, Any] = {"kinds": {kind.name: kind_stats(kind.images) for kind in sets}}
    report["mnist_through_auto"] = kind_stats(np.stack([preprocess_auto(image) for image in sets[0].images[:2000]]))
    if pad_variants:
        report["pad_variants"] = variants(
            lambda images: predictions(scripted, images), [12, 16, 20, 24, 28], [0.0, 1.0, 2.0]
        )
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stroke_stats", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "routed-vae.pt", help="default: %(default)s")
    parser.add_argument("--pad-variants", action="store_true", help="also redraw the pad set with other settings")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.model, args.pad_variants), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
