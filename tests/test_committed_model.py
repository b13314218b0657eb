"""The committed model: its card against a fresh evaluation, and end to end through the service.

These are the only tests that depend on the committed model's numbers, and they compare them with a
fresh measurement rather than with constants.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.images import pixels_to_png
from service.main import create_app
from training.data import Mnist, load_mnist
from training.evaluate import evaluate_file
from training.input_kinds import pad
from training.input_kinds.digit_pictures import digit_pictures
from training.input_kinds.sets import KIND_NAMES

MODEL = Path(__file__).resolve().parent.parent / "models" / "routed-vae.pt"
E2E_IMAGES = 500

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def mnist() -> Mnist:
    return load_mnist()


@pytest.fixture(scope="module")
def card() -> dict[str, object]:
    return dict(json.loads(MODEL.with_suffix(".json").read_text()))


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(model_path=MODEL))) as test_client:
        yield test_client


def test_card_matches_fresh_evaluation(tmp_path: Path, card: dict[str, object]) -> None:
    metrics = evaluate_file(MODEL, tmp_path, None, 3.0)
    recorded = card["test_metrics"]
    assert isinstance(recorded, dict)
    assert metrics["argmax_accuracy"] == pytest.approx(recorded["argmax_accuracy"], abs=1e-4)
    assert metrics["recon_error_per_image"] == pytest.approx(recorded["recon_error_per_image"], rel=1e-3)
    assert metrics["confusion_matrix"] == recorded["confusion_matrix"]
    kinds = card["input_kinds"]
    assert isinstance(kinds, dict) and list(kinds) == list(metrics["input_kinds"]) == list(KIND_NAMES)
    for name, fresh in metrics["input_kinds"].items():
        assert fresh["count"] == kinds[name]["count"] and fresh["description"] == kinds[name]["description"]
        # The pictures are made afresh: allow one of them to come out differently (another libjpeg, Pillow).
        assert fresh["accuracy"] == pytest.approx(kinds[name]["accuracy"], abs=1.01 / fresh["count"]), name
    assert metrics["input_kinds"]["mnist"]["accuracy"] == metrics["argmax_accuracy"]
    for figure in ("sweep.png", "reconstructions.png", "confusion.png", "histograms.png", "report.md"):
        assert (tmp_path / figure).stat().st_size > 0


def test_committed_model_beats_the_seed_accuracy(card: dict[str, object]) -> None:
    """Argmax accuracy >= the seed's claimed 92.58 %."""
    metrics = card["test_metrics"]
    assert isinstance(metrics, dict)
    assert metrics["argmax_accuracy"] >= 0.9258


def test_committed_model_reconstructs_as_well_as_the_seed(card: dict[str, object]) -> None:
    """Per-image squared reconstruction error <= the seed's measured 26.5."""
    metrics = card["test_metrics"]
    assert isinstance(metrics, dict)
    assert metrics["recon_error_per_image"] <= 26.5


def classify_pngs(client: TestClient, mnist: Mnist, preprocess: str) -> float:
    """Accuracy of /classify on the first E2E_IMAGES test images posted as PNG files."""
    images, labels = mnist.test.images[:E2E_IMAGES], mnist.test.labels[:E2E_IMAGES]
    correct = 0
    for start in range(0, E2E_IMAGES, 100):
        files = [
            ("file", (f"{i}.png", pixels_to_png(images[i] / 255.0), "image/png")) for i in range(start, start + 100)
        ]
        response = client.post(f"/classify?preprocess={preprocess}", files=files)
        assert response.status_code == 200, response.text
        digits = [p["digit"] for p in response.json()["predictions"]]
        correct += int((np.array(digits) == labels[start : start + 100]).sum())
    return correct / E2E_IMAGES


def offline_accuracy(card: dict[str, object], mnist: Mnist) -> float:
    import torch

    model = torch.jit.load(str(MODEL))
    images = torch.from_numpy(mnist.test.images[:E2E_IMAGES]).float().div(255).unsqueeze(1)
    predictions = model.encode(images).argmax(dim=1).numpy()
    return float((predictions == mnist.test.labels[:E2E_IMAGES]).mean())


@pytest.mark.parametrize("preprocess", ["none", "auto"])
def test_classify_over_http_matches_offline_accuracy(
    client: TestClient, mnist: Mnist, card: dict[str, object], preprocess: str
) -> None:
    served = classify_pngs(client, mnist, preprocess)
    offline = offline_accuracy(card, mnist)
    print(f"{E2E_IMAGES} MNIST test PNGs, preprocess={preprocess}: served {served:.4f}, offline {offline:.4f}")
    assert abs(served - offline) <= 0.005


def test_font_digits_are_classified(client: TestClient, card: dict[str, object]) -> None:
    """Printed digits are not handwriting: the rate is printed, and guarded against regressions.

    Measured with the committed model (2026-12-02, commit 3eba569's recipe; trained with 9 000 printed digits from
    faces that are not among these): 99 % (198/200, since `auto` thins strokes from half width 5.8, commit b5c7fcc;
    the misses are DejaVu Sans Bold's 4 at 600 px in both polarities; 192 with thinning from 6.5, when Pillow's
    face's bold 6 and its 9 at 600 px were misread too); the previous models read 182 (f939db6) and 190 (a28edd0).
    Models trained on MNIST alone got 72.5-82 % (every printed 9 read as 8, closed-top 4s, serif and mono zeros),
    and 58 % before `auto` thinned strokes thicker than handwriting's.
    """
    pictures = list(digit_pictures())
    wrong = []
    for picture in pictures:
        response = client.post("/classify", files={"file": ("d", picture.data, "application/octet-stream")})
        assert response.status_code == 200, (picture.description, response.text)
        if response.json()["predictions"][0]["digit"] != picture.digit:
            wrong.append(picture.description)
    rate = 1 - len(wrong) / len(pictures)
    print(f"font digits: {len(pictures) - len(wrong)}/{len(pictures)} = {rate:.1%} right; wrong: {wrong}")
    assert rate >= 0.95
    kinds = card["input_kinds"]
    assert isinstance(kinds, dict)
    assert rate == kinds["printed"]["accuracy"]  # the evaluation reads the pictures as the service does


def test_pad_drawings_sent_as_the_page_sends_them_score_as_the_card_says(
    client: TestClient, card: dict[str, object]
) -> None:
    """The demo page posts the pad's PNG as a data URL in JSON to /classify?preprocess=auto."""
    drawings = pad.pad_drawings()
    right = 0
    for start in range(0, len(drawings), 50):
        batch = drawings[start : start + 50]
        urls = [
            "data:image/png;base64," + base64.b64encode(pad.export_png(pad.render(d.strokes))).decode() for d in batch
        ]
        response = client.post("/classify?preprocess=auto", json={"images": urls})
        assert response.status_code == 200, response.text
        right += sum(p["digit"] == d.digit for p, d in zip(response.json()["predictions"], batch, strict=True))
    kinds = card["input_kinds"]
    assert isinstance(kinds, dict)
    print(f"pad drawings through the service: {right}/{len(drawings)}")
    assert right / len(drawings) == kinds["pad"]["accuracy"]
