"""TorchScript export matches the eager model, and the card describes it."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from tests.conftest import TINY_MODEL
from training.card import card_path
from training.config import TrainConfig
from training.data import Mnist
from training.export import export_model, parity_error, script_model
from training.input_kinds.sets import KIND_NAMES, KindSizes
from training.model import RoutedVAE
from training.train import train

TINY_CONFIG = TrainConfig(model=TINY_MODEL, printed_digits=0)  # the tiny MNIST stand-in alone: fast


@pytest.mark.parametrize("scale", [1.0, 2.5])
def test_scripted_model_equals_eager_within_1e_5(scale: float) -> None:
    torch.manual_seed(0)
    model = RoutedVAE(TINY_MODEL)
    scripted = script_model(model, scale)
    images = torch.rand(64, 1, 28, 28)
    assert parity_error(model, scripted, images, scale) <= 1e-5
    # Only the unit changes: same argmax, same reconstruction.
    assert torch.equal(scripted.encode(images).argmax(1), model.encode(images).argmax(1))
    assert torch.allclose(scripted(images), model.decode(model.encode(images)), atol=1e-5)


def test_train_and_export_write_loadable_model_and_card(tmp_path: Path, tiny_mnist: Mnist) -> None:
    config = replace(
        TINY_CONFIG,
        epochs=2,
        decoder_epochs=0,
        batch_size=50,
        out=tmp_path / "m.pt",
        run_dir=tmp_path / "run",
    )
    result = train(config, mnist=tiny_mnist)
    card = export_model(result, config, ["--epochs", "2"], KindSizes(pad_per_digit=1, scans=10))
    loaded = torch.jit.load(str(config.out))
    latents = loaded.encode(torch.rand(3, 1, 28, 28))
    assert latents.shape == (3, 10) and torch.all(latents >= 0)
    assert loaded.decode(latents).shape == (3, 1, 28, 28)
    on_disk = json.loads(card_path(config.out).read_text())
    assert on_disk == card
    assert on_disk["training"]["command"] == "python -m training --epochs 2"
    assert len(on_disk["latent_statistics"]["per_digit"]) == 10
    assert len(on_disk["test_metrics"]["confusion_matrix"]) == 10
    kinds = on_disk["input_kinds"]
    assert (
        list(kinds) == list(KIND_NAMES)
        and list(on_disk).index("input_kinds") == list(on_disk).index("test_metrics") + 1
    )
    assert [kinds[name]["count"] for name in KIND_NAMES] == [100, 200, 10, 10]
    assert all(0 <= kind["accuracy"] <= 1 and kind["description"] for kind in kinds.values())
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2]


def test_resume_continues_from_checkpoint(tmp_path: Path, tiny_mnist: Mnist) -> None:
    base = replace(TINY_CONFIG, decoder_epochs=0, batch_size=50, out=tmp_path / "m.pt", run_dir=tmp_path / "run")
    train(replace(base, epochs=1), mnist=tiny_mnist)
    resumed = train(replace(base, epochs=3, resume=True), mnist=tiny_mnist)
    assert [record["epoch"] for record in resumed.history] == [2, 3]


def test_training_is_deterministic_on_cpu(tmp_path: Path, tiny_mnist: Mnist) -> None:
    config = replace(TINY_CONFIG, epochs=1, batch_size=50, run_dir=tmp_path / "run")
    first = train(config, mnist=tiny_mnist).model.state_dict()
    second = train(config, mnist=tiny_mnist).model.state_dict()
    assert all(torch.equal(first[key], second[key]) for key in first)


def test_decoder_phase_changes_only_the_decoder(tmp_path: Path, tiny_mnist: Mnist) -> None:
    base = replace(TINY_CONFIG, batch_size=50, run_dir=tmp_path / "run", l1_weight=0.2)
    routed = train(replace(base, epochs=1), mnist=tiny_mnist)
    state = {key: value.clone() for key, value in routed.model.state_dict().items()}
    both = train(replace(base, epochs=1, decoder_epochs=2), mnist=tiny_mnist)
    assert [record["phase"] for record in both.history] == ["routed", "decoder", "decoder"]
    after = both.model.state_dict()
    for key, value in state.items():
        if key.startswith("decoder."):
            assert not torch.equal(after[key], value), f"{key} should have trained"
        else:
            assert torch.equal(after[key], value), f"{key} changed in the decoder phase"


def test_weight_average_is_what_the_decoder_phase_and_export_get(tmp_path: Path, tiny_mnist: Mnist) -> None:
    base = replace(TINY_CONFIG, epochs=2, decoder_epochs=0, batch_size=50, ema_decay=0.0, run_dir=tmp_path / "run")
    last_step = train(base, mnist=tiny_mnist).model.state_dict()
    # Averaging never changes the training trajectory: a near-zero decay averages to the last step ...
    near_last = train(replace(base, ema_decay=1e-12), mnist=tiny_mnist)
    assert all(torch.allclose(near_last.model.state_dict()[key], value, atol=1e-6) for key, value in last_step.items())
    assert all(record["accuracy"] == record["last_step_accuracy"] for record in near_last.history)
    # ... and a real one hands on weights that differ from the last step's.
    averaged = train(replace(base, ema_decay=0.9), mnist=tiny_mnist).model.state_dict()
    assert not torch.allclose(averaged["encoder.0.weight"], last_step["encoder.0.weight"])


def test_resume_restores_the_weight_average(tmp_path: Path, tiny_mnist: Mnist) -> None:
    base = replace(TINY_CONFIG, decoder_epochs=0, batch_size=50, ema_decay=0.9)
    straight = train(replace(base, epochs=2, run_dir=tmp_path / "a"), mnist=tiny_mnist).model.state_dict()
    train(replace(base, epochs=1, run_dir=tmp_path / "b"), mnist=tiny_mnist)
    resumed = train(replace(base, epochs=2, run_dir=tmp_path / "b", resume=True), mnist=tiny_mnist).model.state_dict()
    assert all(torch.equal(resumed[key], value) for key, value in straight.items())


def test_with_a_weight_average_the_teacher_is_the_average(tmp_path: Path, tiny_mnist: Mnist) -> None:
    """The margin term's teacher is the weights that count at the end of the inhibited epochs: the moving
    average's when there is one (what a run of just those epochs would hand on), not the last step's."""
    base = replace(
        TINY_CONFIG, decoder_epochs=0, batch_size=50, inhibition_epochs=1, margin_weight=5.0, margin_teacher=True
    )
    averaged = replace(base, ema_decay=0.9)
    train(replace(averaged, epochs=2, run_dir=tmp_path / "a"), mnist=tiny_mnist)
    teacher = torch.load(tmp_path / "a" / "teacher.pt", weights_only=True)
    inhibited = train(replace(averaged, epochs=1, run_dir=tmp_path / "b"), mnist=tiny_mnist).model.state_dict()
    assert all(torch.equal(teacher[key], value) for key, value in inhibited.items())
    last_step = train(replace(base, epochs=1, run_dir=tmp_path / "c"), mnist=tiny_mnist).model.state_dict()
    assert not torch.equal(teacher["encoder.0.weight"], last_step["encoder.0.weight"])


def test_a_resumed_run_keeps_its_margin_teacher(tmp_path: Path, tiny_mnist: Mnist) -> None:
    """The teacher is the model at the end of the inhibited epochs; a run resumed after that point must use the
    same one (kept in the run folder), or it would train differently from a straight run."""
    base = replace(
        TINY_CONFIG, decoder_epochs=0, batch_size=50, inhibition_epochs=1, margin_weight=5.0, margin_teacher=True
    )
    straight = train(replace(base, epochs=3, run_dir=tmp_path / "a"), mnist=tiny_mnist).model.state_dict()
    assert (tmp_path / "a" / "teacher.pt").exists()
    train(replace(base, epochs=2, run_dir=tmp_path / "b"), mnist=tiny_mnist)
    resumed = train(replace(base, epochs=3, run_dir=tmp_path / "b", resume=True), mnist=tiny_mnist).model.state_dict()
    assert all(torch.equal(resumed[key], value) for key, value in straight.items())
    without = train(replace(base, epochs=3, margin_teacher=False, run_dir=tmp_path / "c"), mnist=tiny_mnist)
    assert not torch.equal(without.model.state_dict()["encoder.0.weight"], straight["encoder.0.weight"])
