"""Loading the model for serving: freezing it for speed must not change what it computes, and the float16
decoder stays within its documented tolerance of the model's own or is not used."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch
from torch import nn

from service.half_decoder import TOLERANCE, HalfWeightDecoder, half_weight_decoder, largest_difference
from service.model import MAX_LATENT, ModelRunner, choose_decoder


def test_frozen_model_computes_what_the_exported_one_does(tiny_model_path: Path) -> None:
    exported = torch.jit.load(str(tiny_model_path))
    runner = ModelRunner.load(tiny_model_path, decoder_weights="float32")
    images = torch.rand(64, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    latents = torch.rand(64, 10, generator=torch.Generator().manual_seed(1)) * 5
    with torch.inference_mode():
        assert torch.allclose(runner.encode(images), exported.encode(images), atol=1e-6)
        assert torch.allclose(runner.decode(latents), exported.decode(latents), atol=1e-6)


def test_float16_decoder_is_the_default_and_decodes_within_tolerance(tiny_model_path: Path) -> None:
    exported = torch.jit.load(str(tiny_model_path))
    runner = ModelRunner.load(tiny_model_path)
    assert isinstance(runner.decoder, HalfWeightDecoder)
    latents = torch.rand(256, 10, generator=torch.Generator().manual_seed(2)) * MAX_LATENT
    with torch.inference_mode():
        gap = (runner.decode(latents) - exported.decode(latents)).abs().max().item()
    assert 0 < gap <= TOLERANCE  # not bit-identical (float16 weights), but close


def test_float16_decoder_folds_in_the_latent_scale(tiny_model_path: Path) -> None:
    exported = torch.jit.load(str(tiny_model_path))
    assert exported.latent_scale != 1.0  # else the folding would go untested
    half = half_weight_decoder(exported)
    assert half is not None and half.latent_size == 10
    assert largest_difference(half, exported.decode, 10, MAX_LATENT) <= TOLERANCE


class ConvolutionDecoder(nn.Module):
    """A model whose decoder is not Linear/ReLU layers: the float16 decoder does not apply to it."""

    def __init__(self) -> None:
        super().__init__()
        self.decoder = nn.Sequential(nn.Unflatten(1, (10, 1, 1)), nn.ConvTranspose2d(10, 1, 28))
        self.latent_scale = 1.0

    @torch.jit.export
    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decoder(latents)).view(-1, 1, 28, 28)


def test_other_decoder_layouts_keep_the_model_s_own_decode(caplog: pytest.LogCaptureFixture) -> None:
    module = torch.jit.script(ConvolutionDecoder())
    assert half_weight_decoder(module) is None
    with caplog.at_level(logging.WARNING, logger="service.model"):
        assert choose_decoder(module, module.decode) is module.decode
    assert "not the layout float16 needs" in caplog.text


def test_a_float16_decoder_too_far_from_the_model_is_not_used(
    tiny_model_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    exported = torch.jit.load(str(tiny_model_path))

    def brighter(latents: torch.Tensor) -> torch.Tensor:  # stands in for a decode float16 cannot match
        return (exported.decode(latents) + 3 * TOLERANCE).clamp(max=1)

    with caplog.at_level(logging.WARNING, logger="service.model"):
        assert choose_decoder(exported, brighter) is brighter
    assert "float16 ones moved pixels" in caplog.text
