"""Loading the model for serving: freezing it for speed must not change what it computes, and the float16
decoder stays within its documented tolerance of the model's own or is not used."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch
from torch import nn

from service.half_decoder import TOLERANCE, HalfWeightDecoder, half_weight_decoder, largest_difference, linear_layers
from service.limits import MAX_LATENT
from service.model import ModelLoadError, ModelRunner, choose_decoder
from tests.service.conftest import without_fbgemm


def test_frozen_model_computes_what_the_exported_one_does(tiny_model_path: Path) -> None:
    exported = torch.jit.load(str(tiny_model_path))
    runner = ModelRunner.load(tiny_model_path, decoder_weights="float32", encoder_weights="float32")
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


class ScaledDecoder(nn.Module):
    """The exported layout (Linear, ReLU, Linear, ReLU, Linear; latents divided by the scale) with a scale
    far from 1, so that a decoder leaving the scale out lands well outside the tolerance."""

    def __init__(self, latent_scale: float, bias: bool = True) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.decoder = nn.Sequential(
            nn.Linear(10, 32, bias=bias), nn.ReLU(), nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 784)
        )
        self.latent_scale = latent_scale

    @torch.jit.export
    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decoder(latents / self.latent_scale)).view(-1, 1, 28, 28)


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
def test_float16_decoder_folds_in_the_latent_scale(bias: bool) -> None:
    module = torch.jit.script(ScaledDecoder(latent_scale=0.25, bias=bias))
    half = half_weight_decoder(module)
    assert half is not None and half.latent_size == 10
    assert largest_difference(half, module.decode, 10, MAX_LATENT) <= TOLERANCE
    layers = linear_layers(module)
    assert layers is not None
    unscaled = HalfWeightDecoder(layers, latent_scale=1.0)
    assert largest_difference(unscaled, module.decode, 10, MAX_LATENT) > 10 * TOLERANCE


def test_decoders_not_ending_in_a_linear_layer_are_refused() -> None:
    module = torch.jit.script(ScaledDecoder(latent_scale=2.0))
    module_without_last = torch.jit.script(nn.Sequential(*list(ScaledDecoder(2.0).decoder)[:-1]))
    assert linear_layers(module) is not None
    holder = nn.Module()
    holder.decoder = module_without_last
    assert linear_layers(holder) is None  # Linear, ReLU, Linear, ReLU: ends in a ReLU


def test_without_fbgemm_the_model_s_own_decode_is_kept(caplog: pytest.LogCaptureFixture) -> None:
    module = torch.jit.script(ScaledDecoder(latent_scale=2.0))
    with without_fbgemm(), caplog.at_level(logging.WARNING, logger="service.model"):
        assert choose_decoder(module, module.decode) is module.decode
    assert "cannot pack float16 ones" in caplog.text
    assert isinstance(choose_decoder(module, module.decode), HalfWeightDecoder)  # with fbgemm back


def test_unknown_decoder_weights_are_refused(tiny_model_path: Path) -> None:
    with pytest.raises(ValueError, match="decoder_weights must be one of"):
        ModelRunner.load(tiny_model_path, decoder_weights="fp16")  # type: ignore[arg-type]


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


@pytest.mark.parametrize("flaw", ["brighter", "nan"])
def test_a_float16_decoder_too_far_from_the_model_is_not_used(
    tiny_model_path: Path, caplog: pytest.LogCaptureFixture, flaw: str
) -> None:
    exported = torch.jit.load(str(tiny_model_path))

    def flawed(latents: torch.Tensor) -> torch.Tensor:  # stands in for a decode float16 cannot match
        pixels = exported.decode(latents)
        return (pixels + 3 * TOLERANCE).clamp(max=1) if flaw == "brighter" else pixels * float("nan")

    with caplog.at_level(logging.WARNING, logger="service.model"):
        assert choose_decoder(exported, flawed) is flawed
    assert "float16 ones moved pixels" in caplog.text


def test_a_model_without_one_latent_dimension_per_digit_is_refused() -> None:
    """The routes read each latent's argmax as its digit: a model with another latent width must not start."""

    def decode(latents: torch.Tensor) -> torch.Tensor:
        return torch.zeros(len(latents), 1, 28, 28)

    for width in (9, 11):
        runner = ModelRunner(card={}, decoder=decode, encoder=lambda images, k=width: torch.zeros(len(images), k))
        with pytest.raises(ModelLoadError, match=rf"encodes to \({width},\), not \(10,\)"):
            runner.warm_up()
    ModelRunner(card={}, decoder=decode, encoder=lambda images: torch.zeros(len(images), 10)).warm_up()
