"""`python -m bench.thinning`: the committed model's accuracy per input kind at several stroke-thinning thresholds.

``auto`` thins strokes whose half width at STROKE_SIDE px is above THICK_HALF_STROKE. This measures what other
thresholds would read: MNIST's test digits sent through ``auto`` (their pictures as they are), the printed, pad
and scans input kinds, and, with ``--faces``, digits in any other font files, drawn on the printed kind's
canvases with its offsets and outline, both polarities (RGB PNG only). Faces that neither training nor the
printed test set uses tell whether a threshold generalises or only fits the 200 printed test pictures.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from PIL import ImageFont

import mnist_form.batch
import mnist_form.preprocess
from mnist_form.picture import file_luminance
from mnist_form.preprocess import THICK_HALF_STROKE, preprocess_auto
from training.data import Split, load_mnist
from training.input_kinds.digit_pictures import CANVASES, draw_digit, encode
from training.input_kinds.evaluation import predictions
from training.input_kinds.sets import kind_sets

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_THRESHOLDS = (6.5, 6.2, 6.0, 5.8, 5.5)


@contextmanager
def thinning_from(threshold: float) -> Iterator[None]:
    """``auto`` thins strokes above ``threshold`` meanwhile: ``preprocess_auto`` reads its module's constant at
    each call; the batch path keeps its own copy and a screen tuned to the default, so there the copy is set too
    and every digit is measured (screen 0)."""
    saved = mnist_form.preprocess.THICK_HALF_STROKE, mnist_form.batch.STROKE_SCREEN
    mnist_form.preprocess.THICK_HALF_STROKE = mnist_form.batch.THICK_HALF_STROKE = threshold
    mnist_form.batch.STROKE_SCREEN = 0.0
    try:
        yield
    finally:
        mnist_form.preprocess.THICK_HALF_STROKE = mnist_form.batch.THICK_HALF_STROKE = saved[0]
        mnist_form.batch.STROKE_SCREEN = saved[1]


FacePictures = tuple[list[np.ndarray], np.ndarray, list[str]]  # luminances, digits, face names


def face_pictures(faces: list[Path]) -> FacePictures:
    """Luminance of every digit in each face on the printed kind's canvases (RGB PNG), with labels and face names."""
    grays, labels, names = [], [], []
    for canvas, offset in CANVASES:
        for face in faces:
            font = ImageFont.truetype(str(face), canvas // 2)
            for digit in range(10):
                for dark_on_light in (True, False):
                    picture = draw_digit(digit, font, canvas, dark_on_light, "RGB", offset)
                    grays.append(file_luminance(encode(picture, "PNG")))
                    labels.append(digit)
                    names.append(face.stem)
    return grays, np.array(labels), names


def through_auto(grays: list[np.ndarray]) -> np.ndarray:
    return np.stack([preprocess_auto(gray) for gray in grays])


def measure(model: torch.jit.ScriptModule, threshold: float, test: Split, faces: FacePictures) -> dict[str, str]:
    """One row of the table: right / total for each kind at ``threshold``, and the other faces' commonest misses
    (when ``faces`` has pictures)."""
    row = {"threshold": f"{threshold:g}"}
    with thinning_from(threshold):
        kinds = {
            "mnist through auto": (through_auto([image.astype(np.float32) / 255 for image in test.images]), test.labels)
        }
        kinds |= {kind.name: (kind.images, kind.labels) for kind in kind_sets(test) if kind.name != "mnist"}
        grays, face_labels, names = faces
        if grays:
            kinds["other faces"] = (through_auto(grays), face_labels)
        guesses = {name: predictions(model, images) for name, (images, _) in kinds.items()}
    for name, (_, labels) in kinds.items():
        row[name] = f"{int((guesses[name] == labels).sum())}/{len(labels)}"
    if grays:
        pairs = zip(names, face_labels, guesses["other faces"], strict=True)
        misses = Counter(f"{face}: {label} as {guess}" for face, label, guess in pairs if label != guess)
        row["other faces' commonest misses"] = ", ".join(f"{miss} ({n})" for miss, n in misses.most_common(3))
    return row


def table(rows: list[dict[str, str]]) -> str:
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "| " + " | ".join("---" for _ in columns) + " |"]
    return "\n".join(lines + ["| " + " | ".join(row[column] for column in columns) + " |" for row in rows])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.thinning", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "routed-vae.pt", help="TorchScript model")
    parser.add_argument(
        "--thresholds", type=float, nargs="+", default=DEFAULT_THRESHOLDS, help="half widths to thin strokes above"
    )
    parser.add_argument("--faces", type=Path, nargs="*", default=[], help="other .ttf/.otf files to draw digits in")
    args = parser.parse_args(argv)
    missing = [str(face) for face in [args.model, *args.faces] if not face.is_file()]
    if missing:
        parser.error(f"no such file: {', '.join(missing)}")
    model = torch.jit.load(str(args.model))
    test = load_mnist().test
    print(f"auto thins strokes above {THICK_HALF_STROKE:g} today; right / total per kind:")
    faces = face_pictures(args.faces)
    print(table([measure(model, threshold, test, faces) for threshold in args.thresholds]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
