"""Export a trained RoutedVAE as TorchScript with a JSON model card beside it."""

from __future__ import annotations

import json
from typing import Any

import torch
from torch import Tensor, nn

from training.card import build_card, card_path
from training.config import TrainConfig
from training.data import Split
from training.input_kinds.sets import DEFAULT_SIZES, KindSizes
from training.model import RoutedVAE
from training.train import TrainResult

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


def parity_sample(split: Split, count: int = 256) -> Tensor:
    return torch.from_numpy(split.images[:count]).float().div(255).unsqueeze(1)


def export_model(
    result: TrainResult, config: TrainConfig, argv: list[str], kind_sizes: KindSizes | None = DEFAULT_SIZES
) -> dict[str, Any]:
    """Write the TorchScript file and its card; refuse when scripting changed the outputs. The card measures
    the model on every input kind (``kind_sizes``; None leaves that section out)."""
    scale = unit_scale(result.model, result.mnist.train)
    scripted = script_model(result.model, scale)
    gap = parity_error(result.model, scripted, parity_sample(result.mnist.test), scale)
    if gap > PARITY_TOLERANCE:
        raise RuntimeError(f"TorchScript export differs from the eager model by {gap:.2e}")
    config.out.parent.mkdir(parents=True, exist_ok=True)
    scripted.save(str(config.out))
    card = build_card(result, config, argv, config.out, scripted, kind_sizes)
    card["export_parity_max_abs_error"] = gap
    card["latent_scale"] = scale
    card_path(config.out).write_text(json.dumps(card, indent=2) + "\n")
    return card
