"""The float16-weight encoder: the default, within its tolerance of the model's own encode, or not used."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch
from torch import nn

from service.half_encoder import TOLERANCE, HalfWeightEncoder, half_weight_encoder, largest_latent_difference
from service.model import ModelRunner, choose_encoder
from tests.service.conftest import without_fbgemm


def test_float16_encoder_is_the_default_and_encodes_within_tolerance(tiny_model_path: Path) -> None:
    exported = torch.jit.load(str(tiny_model_path))
    runner = ModelRunner.load(tiny_model_path)
    assert isinstance(runner.encoder, HalfWeightEncoder)
    images = torch.rand(256, 1, 28, 28, generator=torch.Generator().manual_seed(3))
    with torch.inference_mode():
        gap = (runner.encode(images) - exported.encode(images)).abs().max().item()
    assert 0 < gap <= TOLERANCE  # not bit-identical (float16 weights), but close
    exact = ModelRunner.load(tiny_model_path, encoder_weights="float32")
    assert not isinstance(exact.encoder, HalfWeightEncoder), "float32: the model's own encode"


class ScaledEncoder(nn.Module):
    """The exported layout (Linear, ReLU, Linear, ReLU, Linear; a Linear mean head; relu; times the scale) with a
    scale far from 1, so that an encoder leaving the scale out lands well outside the tolerance."""

    def __init__(self, latent_scale: float, bias: bool = True) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.encoder = nn.Sequential(
            nn.Linear(784, 64, bias=bias), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10)
        )
        self.mean_head = nn.Linear(10, 10, bias=bias)
        self.latent_scale = latent_scale

    @torch.jit.export
    def encode(self, images: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.mean_head(self.encoder(torch.flatten(images, 1)))) * self.latent_scale


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
def test_float16_encoder_applies_the_latent_scale(bias: bool) -> None:
    module = torch.jit.script(ScaledEncoder(latent_scale=40.0, bias=bias))
    half = half_weight_encoder(module)
    assert half is not None
    assert largest_latent_difference(half, module.encode) <= TOLERANCE
    unscaled = HalfWeightEncoder([*half_layers(module)], latent_scale=1.0)
    assert largest_latent_difference(unscaled, module.encode) > TOLERANCE, "the scale matters at this size"


def half_layers(module: torch.jit.ScriptModule) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
    linears = [*[child for child in module.encoder.children() if child.original_name == "Linear"], module.mean_head]
    return [(layer.weight.detach(), None if layer.bias is None else layer.bias.detach()) for layer in linears]


class ConvolutionEncoder(nn.Module):
    """A model whose encoder is not Linear/ReLU layers: the float16 encoder does not apply to it."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(1, 10, 28), nn.Flatten())
        self.mean_head = nn.Linear(10, 10)
        self.latent_scale = 1.0

    @torch.jit.export
    def encode(self, images: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.mean_head(self.encoder(images)))


def test_other_encoder_layouts_keep_the_model_s_own_encode(caplog: pytest.LogCaptureFixture) -> None:
    module = torch.jit.script(ConvolutionEncoder())
    assert half_weight_encoder(module) is None
    with caplog.at_level(logging.WARNING, logger="service.model"):
        assert choose_encoder(module, module.encode) is module.encode
    assert "not the layout float16 needs" in caplog.text


def test_without_fbgemm_the_model_s_own_encode_is_kept(caplog: pytest.LogCaptureFixture) -> None:
    module = torch.jit.script(ScaledEncoder(latent_scale=2.0))
    with without_fbgemm(), caplog.at_level(logging.WARNING, logger="service.model"):
        assert choose_encoder(module, module.encode) is module.encode
    assert "cannot pack float16 ones" in caplog.text
    assert isinstance(choose_encoder(module, module.encode), HalfWeightEncoder)  # with fbgemm back


@pytest.mark.parametrize("flaw", ["shifted", "nan"])
def test_a_float16_encoder_too_far_from_the_model_is_not_used(
    tiny_model_path: Path, caplog: pytest.LogCaptureFixture, flaw: str
) -> None:
    exported = torch.jit.load(str(tiny_model_path))

    def flawed(images: torch.Tensor) -> torch.Tensor:  # stands in for an encode float16 cannot match
        latents = exported.encode(images)
        return latents + 3 * TOLERANCE if flaw == "shifted" else latents * float("nan")

    with caplog.at_level(logging.WARNING, logger="service.model"):
        assert choose_encoder(exported, flawed) is flawed
    assert "float16 ones moved latents" in caplog.text


def test_unknown_encoder_weights_are_refused(tiny_model_path: Path) -> None:
    with pytest.raises(ValueError, match="encoder_weights must be one of"):
        ModelRunner.load(tiny_model_path, encoder_weights="fp16")  # type: ignore[arg-type]
