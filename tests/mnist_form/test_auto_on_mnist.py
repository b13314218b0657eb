"""``auto`` on the real MNIST test set: the fast pipeline against the reference, and the committed model's
accuracy through each (slow: reads MNIST, runs the reference pipeline on 10 000 digits)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from mnist_form.batch import STROKE_SCREEN, preprocess_auto_many
from mnist_form.preprocess import THICK_HALF_STROKE, preprocess_auto
from tests.mnist_form import reference_preprocess as reference
from tests.mnist_form.test_batch import MAX_SCREENED_SHARE, SCREEN_MARGIN, screened_and_measured
from tests.mnist_form.test_preprocess_reference import TOLERANCE
from training import printed
from training.data import Mnist, load_mnist

MODEL = Path(__file__).resolve().parents[2] / "models" / "routed-vae.pt"
REQUEST = 256  # images per request at most: ``auto`` sees them together

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def mnist() -> Mnist:
    return load_mnist()


def through_auto(images: np.ndarray, pipeline: str) -> np.ndarray:
    grays = [image.astype(np.float32) / 255 for image in images]
    if pipeline == "reference":
        return np.stack([reference.preprocess_auto(gray) for gray in grays])
    if pipeline == "one by one":
        return np.stack([preprocess_auto(gray) for gray in grays])
    return np.concatenate(
        [preprocess_auto_many(grays[start : start + REQUEST]) for start in range(0, len(grays), REQUEST)]
    )


def test_every_mnist_test_digit_matches_the_reference(mnist: Mnist) -> None:
    expected = through_auto(mnist.test.images, "reference")
    for pipeline in ("one by one", "in requests of 256"):
        differences = np.abs(through_auto(mnist.test.images, pipeline) - expected).max(axis=(1, 2))
        assert differences.max() <= TOLERANCE, f"{pipeline}: {int((differences > TOLERANCE).sum())} digits differ"


def test_no_thick_mnist_digit_screens_as_thin(mnist: Mnist) -> None:
    """The stroke screen of preprocess_auto_many lets every thick test digit through to the stroke measurement,
    with a margin, and spares most of the others."""
    measured = np.array([screened_and_measured(image.astype(np.float32) / 255) for image in mnist.test.images])
    screens, thick = measured[:, 0], measured[:, 1] > THICK_HALF_STROKE
    assert thick.sum() > 100, "too few thick digits for this test to mean anything"
    assert screens[thick].min() >= SCREEN_MARGIN * STROKE_SCREEN
    assert (screens >= STROKE_SCREEN).mean() <= MAX_SCREENED_SHARE


def test_accuracy_through_auto_does_not_drop(mnist: Mnist) -> None:
    """The committed model on the first 2000 test digits, given each pipeline's output as the service gives it."""
    model = torch.jit.load(str(MODEL), map_location="cpu").eval()
    images, labels = mnist.test.images[:2000], mnist.test.labels[:2000]
    accuracy = {}
    for pipeline in ("reference", "in requests of 256"):
        with torch.no_grad():
            latents = model.encode(torch.from_numpy(through_auto(images, pipeline)).unsqueeze(1))
        accuracy[pipeline] = float((latents.argmax(dim=1).numpy() == labels).mean())
    assert accuracy["in requests of 256"] >= accuracy["reference"] > 0.9, accuracy


def test_printed_training_digits_are_the_same_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Training renders printed digits through ``auto``: the same pictures, byte for byte, with either pipeline,
    so a retrain sees the same data."""
    fast = printed.printed_digits(300, seed=0)
    monkeypatch.setattr(printed, "preprocess_auto", reference.preprocess_auto)
    assert np.array_equal(fast.images, printed.printed_digits(300, seed=0).images)
