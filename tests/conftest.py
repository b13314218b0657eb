"""Shared fixtures: tiny models and tiny synthetic MNIST-shaped data, built in tmp_path."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from training.config import ModelConfig, TrainConfig
from training.data import Mnist, Split
from training.export import export_model
from training.train import train

TINY_MODEL = ModelConfig(encoder_widths=(32,), decoder_widths=(32,))


def synthetic_split(count: int, seed: int) -> Split:
    """Random 28x28 uint8 images with labels 0..9 cycling, so every digit is present."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
    labels = (np.arange(count) % 10).astype(np.uint8)
    return Split(images=images, labels=labels)


@pytest.fixture
def tiny_mnist() -> Mnist:
    return Mnist(train=synthetic_split(200, seed=1), test=synthetic_split(100, seed=2))


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny trained-and-exported model with a real card, built once per test session."""
    folder = tmp_path_factory.mktemp("model")
    mnist = Mnist(train=synthetic_split(200, seed=1), test=synthetic_split(100, seed=2))
    config = replace(
        TrainConfig(model=TINY_MODEL), epochs=1, batch_size=100, out=folder / "tiny.pt", run_dir=folder / "run"
    )
    export_model(train(config, mnist=mnist), config, ["--tiny"], kind_sizes=None)  # no input kinds: fast
    return config.out
