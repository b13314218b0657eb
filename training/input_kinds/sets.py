"""The test set of each input kind: pictures made as a user would send them, read and preprocessed as the
service does (``mnist_form``: the file's luminance, then ``auto``), with their labels.

None of these is ever trained on: the printed digits use faces that training/printed.py does not, the pad
drawings and scans are made here from templates and from MNIST's test split.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from mnist_form.picture import file_luminance
from mnist_form.preprocess import preprocess_auto
from training.data import Split
from training.input_kinds import pad, scans
from training.input_kinds.digit_pictures import digit_pictures, picture_count
from training.input_kinds.pad_templates import TEMPLATES

KIND_NAMES = ("mnist", "printed", "pad", "scans")


@dataclass(frozen=True)
class KindSizes:
    """How many pictures the generated kinds hold, and the seed they are drawn with."""

    pad_per_digit: int = pad.PER_DIGIT
    scans: int = scans.COUNT
    seed: int = 0


DEFAULT_SIZES = KindSizes()


@dataclass(frozen=True)
class KindSet:
    """One input kind's test set: MNIST-form pictures as the model receives them, and their digits."""

    name: str
    description: str
    images: np.ndarray  # (N, 28, 28) float32 in [0, 1], white on black
    labels: np.ndarray  # (N,) uint8

    def __len__(self) -> int:
        return len(self.labels)


def through_auto(files: Iterable[bytes], total: int, name: str, progress: bool) -> np.ndarray:
    """Image files -> (N, 28, 28) float32: each file's luminance, then ``auto``, as the service does."""
    pictures = tqdm(files, total=total, desc=f"  {name}", unit="picture", leave=False, disable=not progress)
    return np.stack([preprocess_auto(file_luminance(data)) for data in pictures])


def mnist_set(test: Split) -> KindSet:
    count = f"{len(test):_}".replace("_", " ")  # 10 000, as the docs write it
    description = f"MNIST's {count} test digits as they are (28 x 28, preprocess=none)"
    return KindSet("mnist", description, test.images.astype(np.float32) / 255, test.labels)


def printed_files(labels: list[int]) -> Iterator[bytes]:
    """The printed pictures' files, made one at a time; each one's digit is appended to ``labels``."""
    for picture in digit_pictures():
        labels.append(picture.digit)
        yield picture.data


def printed_set(progress: bool = False) -> KindSet:
    count = picture_count()
    description = (
        f"{count} printed digits in faces training never sees (DejaVu, Pillow's), both polarities, "
        "120 and 600 px canvases, PNG and JPEG, through auto"
    )
    labels: list[int] = []
    images = through_auto(printed_files(labels), count, "printed", progress)
    return KindSet("printed", description, images, np.array(labels, dtype=np.uint8))


def pad_set(per_digit: int = pad.PER_DIGIT, seed: int = pad.SEED, progress: bool = False) -> KindSet:
    drawings = pad.pad_drawings(per_digit, seed)
    styles = sum(len(templates) for templates in TEMPLATES)
    description = (
        f"{len(drawings)} digits drawn on the demo's pad: synthetic mouse strokes ({styles} styles, seed {seed}) "
        "rendered as its 280 px canvas does, sent as its PNG, through auto"
    )
    files = (pad.export_png(pad.render(drawing.strokes)) for drawing in drawings)
    images = through_auto(files, len(drawings), "pad", progress)
    labels = np.array([drawing.digit for drawing in drawings], dtype=np.uint8)
    return KindSet("pad", description, images, labels)


def scans_set(test: Split, count: int = scans.COUNT, seed: int = scans.SEED, progress: bool = False) -> KindSet:
    count = min(count, len(test))
    settings = scans.scan_settings(count, seed)
    description = (
        f"MNIST's first {count} test digits scanned {min(scans.SCAN_SIDES)}-{max(scans.SCAN_SIDES)} px tall, "
        f"enlarged to {scans.UPSCALED_SIDE} px (bilinear or nearest), black on white PNG, through auto"
    )
    files = (scans.scan_png(test.images[index], setting) for index, setting in enumerate(settings))
    images = through_auto(files, count, "scans", progress)
    return KindSet("scans", description, images, test.labels[:count])


def kind_sets(test: Split, sizes: KindSizes = DEFAULT_SIZES, progress: bool = False) -> list[KindSet]:
    """Every input kind's test set, in KIND_NAMES order."""
    builders: dict[str, Callable[[], KindSet]] = {
        "mnist": lambda: mnist_set(test),
        "printed": lambda: printed_set(progress),
        "pad": lambda: pad_set(sizes.pad_per_digit, sizes.seed, progress),
        "scans": lambda: scans_set(test, sizes.scans, sizes.seed, progress),
    }
    return [builders[name]() for name in KIND_NAMES]
