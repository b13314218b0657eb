"""The model card: the JSON file beside the exported model that says what it is, how it was made and how it scores."""

from __future__ import annotations

import math
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from training.config import TrainConfig
from training.data import CANONICAL_MD5, sha256_of
from training.input_kinds.evaluation import card_section, evaluate_kinds
from training.input_kinds.sets import DEFAULT_SIZES, KindSizes
from training.metrics import Autoencoder, classification_metrics, latent_statistics, run_split
from training.train import TrainResult, config_as_json

MODEL_NAME = "routed-vae-mnist"
CARD_VERSION = "1.0.0"


def card_path(model_path: Path) -> Path:
    """Where the card of ``model_path`` lives: beside it, with a .json suffix."""
    return model_path.with_suffix(".json")


def slider_max(statistics: dict[str, Any]) -> float:
    """Upper end of the demo's sliders: covers 99.9 % of own-digit activations, at least 3."""
    return float(max(3, math.ceil(statistics["own_dimension_quantiles"]["0.999"])))


def latent_dimensions(latent_size: int) -> list[dict[str, Any]]:
    return [{"index": k, "digit": k, "meaning": f"how much of digit {k}; 0 means none"} for k in range(latent_size)]


def data_provenance(config: TrainConfig) -> dict[str, Any]:
    """Where the training images came from: canonical MNIST, and the printed digits when any were added."""
    provenance: dict[str, Any] = {
        "source": "canonical MNIST (LeCun, Cortes, Burges), CC BY-SA 3.0",
        "md5": CANONICAL_MD5,
    }
    if config.printed_digits:
        from training.printed import TYPEFACES

        provenance["printed_digits"] = {
            "count": config.printed_digits,
            "typefaces": list(TYPEFACES),
            "source": "rendered by training/printed.py from the faces in matplotlib's wheel (STIX, Computer Modern) "
            "and in the pinned font-* wheels (Lato, Source Sans Pro, Red Hat Display, Manrope, Hanken Grotesk, "
            "Caladea, Fredoka One, Fjalla One), put through the service's auto preprocessing; used for training only",
        }
    return provenance


def architecture(result: TrainResult, config: TrainConfig) -> dict[str, Any]:
    """The network's layer widths, parameter count and what encode and decode compute."""
    return {
        "kind": "MLP variational autoencoder with gradient-routed latent",
        "encoder": [784, *config.model.encoder_widths, config.model.latent_size],
        "decoder": [config.model.latent_size, *config.model.decoder_widths, 784],
        "parameters": sum(p.numel() for p in result.model.parameters()),
        "latent": "encode(x) = latent_scale * ReLU(mean head), so the median own-digit activation is 1; "
        "decode(z) = sigmoid(decoder(z / latent_scale)), 28x28 in [0, 1]",
    }


def training_record(result: TrainResult, config: TrainConfig, argv: list[str]) -> dict[str, Any]:
    """The command, configuration and time of the run, and its last epoch's figures."""
    return {
        "command": "python -m training " + " ".join(argv),
        "config": config_as_json(config),
        "seed": config.seed,
        "epochs_run": len(result.history),
        "seconds": result.seconds(),
        "data_seconds": result.data_seconds,
        "final_epoch": result.history[-1] if result.history else None,
    }


def build_card(
    result: TrainResult,
    config: TrainConfig,
    argv: list[str],
    model_path: Path,
    scripted: Autoencoder,
    kind_sizes: KindSizes | None = DEFAULT_SIZES,
) -> dict[str, Any]:
    """The model card: identity, training recipe, data provenance, test metrics, accuracy per input kind
    (left out when ``kind_sizes`` is None), latent statistics."""
    test_latents, test_errors = run_split(scripted, result.mnist.test)
    train_latents, _ = run_split(scripted, result.mnist.train)
    statistics = latent_statistics(train_latents, result.mnist.train.labels)
    kinds = None if kind_sizes is None else evaluate_kinds(scripted, result.mnist.test, kind_sizes, progress=True)
    return {
        "name": MODEL_NAME,
        "version": CARD_VERSION,
        "file": model_path.name,
        "sha256": sha256_of(model_path),
        "size_bytes": model_path.stat().st_size,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "architecture": architecture(result, config),
        "training": training_record(result, config, argv),
        "data": data_provenance(config),
        "environment": {"torch": torch.__version__, "python": platform.python_version()},
        "test_metrics": classification_metrics(test_latents, test_errors, result.mnist.test.labels),
        **({} if kinds is None else {"input_kinds": card_section(kinds)}),
        "latent_dimensions": latent_dimensions(config.model.latent_size),
        "latent_statistics": statistics,
        "slider_max": slider_max(statistics),
    }
