"""Export a trained RoutedVAE as TorchScript with a JSON model card beside it."""

from __future__ import annotations

import hashlib
import json
import math
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from training.config import TrainConfig
from training.data import CANONICAL_MD5, Split
from training.metrics import classification_metrics, latent_statistics, run_split
from training.model import RoutedVAE
from training.train import TrainResult, config_as_json

MODEL_NAME = "routed-vae-mnist"
CARD_VERSION = "1.0.0"
PARITY_TOLERANCE = 1e-5


class InferenceModel(nn.Module):
    """What the service runs: ``encode`` images to latents, ``decode`` latents to images.

    The exported latent is ``latent_scale * ReLU(mean head)`` and ``decode`` divides by the same
    scale, so nothing but the unit changes: argmax and reconstructions are exactly the eager model's.
    The scale makes 1.0 the typical (median) activation of an image's own digit dimension.
    """

    def __init__(self, model: RoutedVAE, latent_scale: float = 1.0) -> None:
        super().__init__()
        self.encoder = model.encoder
        self.mean_head = model.mean_head
        self.decoder = model.decoder
        self.latent_size = model.config.latent_size
        self.latent_scale = latent_scale

    @torch.jit.export
    def encode(self, images: Tensor) -> Tensor:
        """(N, 1, 28, 28) in [0, 1], MNIST form -> (N, K) latent = scale * ReLU(mean head), all >= 0."""
        return torch.relu(self.mean_head(self.encoder(images.flatten(1)))) * self.latent_scale

    @torch.jit.export
    def decode(self, latents: Tensor) -> Tensor:
        """(N, K) latents -> (N, 1, 28, 28) images in [0, 1], white digit on black."""
        return torch.sigmoid(self.decoder(latents / self.latent_scale)).view(-1, 1, 28, 28)

    def forward(self, images: Tensor) -> Tensor:
        return self.decode(self.encode(images))


def script_model(model: RoutedVAE, latent_scale: float = 1.0) -> torch.jit.ScriptModule:
    return torch.jit.script(InferenceModel(model.cpu().eval(), latent_scale))


@torch.no_grad()
def unit_scale(model: RoutedVAE, split: Split) -> float:
    """The factor that makes the median own-digit activation on ``split`` equal to 1."""
    model.eval()
    latents = torch.cat([model.encode(batch) for batch in parity_sample(split, len(split)).split(2000)])
    labels = torch.from_numpy(split.labels.astype("int64"))
    own = latents[torch.arange(len(labels)), labels]
    median = float(own[own > 0].median()) if bool((own > 0).any()) else 1.0
    return 1.0 / median


@torch.no_grad()
def parity_error(
    model: RoutedVAE, scripted: torch.jit.ScriptModule, images: Tensor, latent_scale: float = 1.0
) -> float:
    """Largest absolute difference between eager and scripted outputs (in the eager model's units)."""
    model.eval()
    latents = model.encode(images)
    encode_gap = (scripted.encode(images) / latent_scale - latents).abs().max().item()
    decode_gap = (scripted.decode(latents * latent_scale) - model.decode(latents)).abs().max().item()
    return float(max(encode_gap, decode_gap))


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


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
            "source": "rendered by training/printed.py from the STIX and Computer Modern faces in matplotlib's "
            "wheel, put through the service's auto preprocessing; used for training only",
        }
    return provenance


def build_card(
    result: TrainResult, config: TrainConfig, argv: list[str], model_path: Path, scripted: Any
) -> dict[str, Any]:
    """The model card: identity, training recipe, data provenance, test metrics, latent statistics."""
    test_latents, test_errors = run_split(scripted, result.mnist.test)
    train_latents, _ = run_split(scripted, result.mnist.train)
    statistics = latent_statistics(train_latents, result.mnist.train.labels)
    return {
        "name": MODEL_NAME,
        "version": CARD_VERSION,
        "file": model_path.name,
        "sha256": sha256_file(model_path),
        "size_bytes": model_path.stat().st_size,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "architecture": {
            "kind": "MLP variational autoencoder with gradient-routed latent",
            "encoder": [784, *config.model.encoder_widths, config.model.latent_size],
            "decoder": [config.model.latent_size, *config.model.decoder_widths, 784],
            "parameters": sum(p.numel() for p in result.model.parameters()),
            "latent": "encode(x) = latent_scale * ReLU(mean head), so the median own-digit activation is 1; "
            "decode(z) = sigmoid(decoder(z / latent_scale)), 28x28 in [0, 1]",
        },
        "training": {
            "command": "python -m training " + " ".join(argv),
            "config": config_as_json(config),
            "seed": config.seed,
            "epochs_run": len(result.history),
            "seconds": result.seconds(),
            "data_seconds": result.data_seconds,
            "final_epoch": result.history[-1] if result.history else None,
        },
        "data": data_provenance(config),
        "environment": {"torch": torch.__version__, "python": platform.python_version()},
        "test_metrics": classification_metrics(test_latents, test_errors, result.mnist.test.labels),
        "latent_dimensions": latent_dimensions(config.model.latent_size),
        "latent_statistics": statistics,
        "slider_max": slider_max(statistics),
    }


def parity_sample(split: Split, count: int = 256) -> Tensor:
    return torch.from_numpy(split.images[:count]).float().div(255).unsqueeze(1)


def export_model(result: TrainResult, config: TrainConfig, argv: list[str]) -> dict[str, Any]:
    """Write the TorchScript file and its card; refuse when scripting changed the outputs."""
    scale = unit_scale(result.model, result.mnist.train)
    scripted = script_model(result.model, scale)
    gap = parity_error(result.model, scripted, parity_sample(result.mnist.test), scale)
    if gap > PARITY_TOLERANCE:
        raise RuntimeError(f"TorchScript export differs from the eager model by {gap:.2e}")
    config.out.parent.mkdir(parents=True, exist_ok=True)
    scripted.save(str(config.out))
    card = build_card(result, config, argv, config.out, scripted)
    card["export_parity_max_abs_error"] = gap
    card["latent_scale"] = scale
    card_path(config.out).write_text(json.dumps(card, indent=2) + "\n")
    return card


def card_path(model_path: Path) -> Path:
    return model_path.with_suffix(".json")
