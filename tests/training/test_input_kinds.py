"""Test sets by input kind (training/input_kinds): scans, printed digits, every kind together, the figures per
kind in the evaluation and the card."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import Tensor

from tests.conftest import synthetic_split
from training.evaluate import main as evaluate_main
from training.input_kinds import scans
from training.input_kinds.digit_pictures import FONT_DIR, FONT_FILES, digit_pictures
from training.input_kinds.evaluation import evaluate_kinds, markdown_table, update_card, with_input_kinds
from training.input_kinds.sets import KIND_NAMES, KindSet, KindSizes, kind_sets, pad_set, scans_set

SMALL = KindSizes(pad_per_digit=1, scans=20)


class AlwaysThree:
    """A stand-in model whose latent always points at digit 3."""

    def encode(self, images: Tensor) -> Tensor:
        latents = torch.zeros(len(images), 10)
        latents[:, 3] = 1
        return latents

    def decode(self, latents: Tensor) -> Tensor:
        return torch.zeros(len(latents), 1, 28, 28)


@pytest.fixture(scope="module")
def small_sets() -> list[KindSet]:
    return kind_sets(synthetic_split(30, seed=5), SMALL)


def test_scan_settings_are_seeded_and_8_to_16_px_tall() -> None:
    settings = scans.scan_settings(200, seed=0)
    assert settings == scans.scan_settings(200, seed=0) and settings != scans.scan_settings(200, seed=1)
    assert {s.side for s in settings} == set(range(8, 17)) and {s.upscale for s in settings} == {"bilinear", "nearest"}
    assert [s.picture_side for s in (scans.Scan(8, "nearest"), scans.Scan(16, "nearest"))] == [11, 22]


@pytest.mark.parametrize("upscale", ["nearest", "bilinear"])
def test_a_scan_is_a_112_px_black_on_white_png_enlarged_from_a_few_pixels(upscale: str) -> None:
    digit = np.zeros((28, 28), np.uint8)
    digit[4:24, 12:16] = 255  # a 20 px tall stroke, as MNIST sizes digits
    scan = scans.Scan(10, upscale)
    image = Image.open(io.BytesIO(scans.scan_png(digit, scan)))
    assert image.format == "PNG" and image.mode == "L" and image.size == (112, 112)
    pixels = np.asarray(image)
    assert pixels[0].min() == 255 and pixels.min() < 100  # white paper, dark ink
    if upscale == "nearest":  # blocks of equal rows: no more than the scanned picture had
        distinct_rows = 1 + np.count_nonzero(np.any(np.diff(pixels.astype(int), axis=0) != 0, axis=1))
        assert distinct_rows <= scan.picture_side
    small = np.asarray(Image.fromarray(255 - digit).resize((14, 14), Image.Resampling.BOX))
    assert np.count_nonzero((small < 200).any(axis=1)) <= scan.side + 1  # the digit is 10 px tall when scanned


def test_the_printed_set_is_the_200_pictures_in_faces_training_does_not_use() -> None:
    if not all((FONT_DIR / name).exists() for name in FONT_FILES):
        pytest.skip("the DejaVu fonts are not installed (apt-get install fonts-dejavu-core)")
    pictures = list(digit_pictures())
    assert len(pictures) == 200 and len({p.description for p in pictures}) == 200
    assert [sum(p.digit == digit for p in pictures) for digit in range(10)] == [20] * 10


def test_every_kind_is_built_in_order_in_mnist_form(small_sets: list[KindSet]) -> None:
    assert [kind.name for kind in small_sets] == list(KIND_NAMES)
    assert [len(kind) for kind in small_sets[::2]] == [30, 10]  # mnist (the split given), pad (1 per digit)
    assert len(small_sets[3]) == 20 and small_sets[3].labels.tolist() == [i % 10 for i in range(20)]
    for kind in small_sets:
        assert kind.images.dtype == np.float32 and kind.images.shape == (len(kind), 28, 28)
        assert kind.images.min() >= 0 and kind.images.max() <= 1 and kind.description
    for kind in small_sets[1:]:  # through auto: the margin MNIST leaves around its 20 px box
        assert kind.images[:, :2].max() == 0 and kind.images[:, :, -2:].max() == 0


def test_the_same_sizes_give_the_same_pictures(small_sets: list[KindSet]) -> None:
    split = synthetic_split(30, seed=5)
    assert np.array_equal(pad_set(per_digit=1, seed=0).images, small_sets[2].images)
    assert np.array_equal(scans_set(split, 20, seed=0).images, small_sets[3].images)
    assert not np.array_equal(scans_set(split, 20, seed=1).images, small_sets[3].images)


def test_the_evaluation_reports_every_kind(small_sets: list[KindSet], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("training.input_kinds.evaluation.kind_sets", lambda test, sizes, progress: small_sets)
    results = evaluate_kinds(AlwaysThree(), synthetic_split(30, seed=5), SMALL)
    assert list(results) == list(KIND_NAMES)
    for name, kind in zip(KIND_NAMES, small_sets, strict=True):
        result = results[name]
        share = float((kind.labels == 3).mean())
        assert (
            result["accuracy"] == share
            and result["count"] == len(kind)
            and result["correct"] == round(share * len(kind))
        )
        assert result["per_digit_accuracy"][3] == 1.0 and result["per_digit_accuracy"][4] == 0.0
        assert result["mistakes"]["4 read as 3"] == int((kind.labels == 4).sum())
    table = markdown_table(results)
    assert len(table) == 2 + len(KIND_NAMES) and table[3].startswith("| printed | 10.00 % | 20/200 |")


def test_the_card_section_goes_after_test_metrics_and_nothing_else_changes(tmp_path: Path) -> None:
    card = {"name": "m", "test_metrics": {"argmax_accuracy": 0.9}, "slider_max": 6.0, "input_kinds": {"old": {}}}
    placed = with_input_kinds(card, {"pad": {}})
    assert list(placed) == ["name", "test_metrics", "input_kinds", "slider_max"] and placed["input_kinds"] == {
        "pad": {}
    }
    path = tmp_path / "card.json"
    path.write_text(json.dumps(card, indent=2) + "\n")
    result = {"description": "drawn", "count": 500, "accuracy": 0.95, "correct": 475, "per_digit_accuracy": []}
    update_card(path, {"pad": {**result, "mistakes": {}}})
    written = json.loads(path.read_text())
    assert written["input_kinds"] == {"pad": {"accuracy": 0.95, "count": 500, "description": "drawn"}}
    assert {key: value for key, value in written.items() if key != "input_kinds"} == {
        key: value for key, value in card.items() if key != "input_kinds"
    }


def test_update_card_refuses_a_missing_or_foreign_card(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "model.pt"
    model.write_bytes(b"a model")  # refused before anything is loaded
    with pytest.raises(SystemExit) as missing:
        evaluate_main([str(model), "--update-card"])
    assert missing.value.code == 2 and "has no card" in capsys.readouterr().err
    model.with_suffix(".json").write_text(json.dumps({"sha256": "0" * 64}))
    with pytest.raises(SystemExit) as foreign:
        evaluate_main([str(model), "--update-card"])
    assert foreign.value.code == 2 and "describes another model" in capsys.readouterr().err


@pytest.mark.slow
def test_evaluate_reports_the_kinds_and_updates_the_card(tmp_path: Path, tiny_model_path: Path) -> None:
    model = tmp_path / "model.pt"
    shutil.copy(tiny_model_path, model)
    shutil.copy(tiny_model_path.with_suffix(".json"), model.with_suffix(".json"))
    before = json.loads(model.with_suffix(".json").read_text())
    assert evaluate_main([str(model), "--out-dir", str(tmp_path / "report"), "--update-card"]) == 0
    after = json.loads(model.with_suffix(".json").read_text())
    assert {key: value for key, value in after.items() if key != "input_kinds"} == before
    assert {name: kind["count"] for name, kind in after["input_kinds"].items()} == {
        "mnist": 10000,
        "printed": 200,
        "pad": 500,
        "scans": 1000,
    }
    metrics = json.loads((tmp_path / "report" / "metrics.json").read_text())
    assert metrics["input_kinds"]["mnist"]["accuracy"] == metrics["argmax_accuracy"]
    assert "## Accuracy per input kind" in (tmp_path / "report" / "report.md").read_text()
