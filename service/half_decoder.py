"""The decoder with its weights stored as float16 and its arithmetic in float32 (fbgemm's packed fp16 linear).

One latent per call is what the demo's sliders send, and then decoding is bound by reading the decoder's weights
(10.6 MB as float32 for 10 -> 512 -> 2048 -> 784) from memory: half the bytes took a one-row decode from 1.04 to
0.84 ms here after 2 ms idle, 0.50 to 0.36 ms warm (medians; bench/decoder.py, BENCHMARKS.md). Float16 keeps 11
significant bits of each weight: with the model of commit b20802e, over latents up to the largest accepted (10
in every dimension), pixels moved by at most 1.6/255 and about 1 % of the 8-bit PNG pixels the service answers
came out one step apart.

Built only for the layout the training package exports (``decode = sigmoid(decoder(latents / latent_scale))``
with a decoder of Linear layers and ReLUs between them); the model runner checks it against the TorchScript
decode at load and keeps the TorchScript one if they differ by more than ``TOLERANCE``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

Decode = Callable[[Tensor], Tensor]
TOLERANCE = 2 / 255  # largest pixel difference (pixels in [0, 1]) from the float32 decode


def linear_layers(module: torch.jit.ScriptModule, part: str = "decoder") -> list[tuple[Tensor, Tensor | None]] | None:
    """The (weight, bias) of each Linear layer of ``module.<part>`` if it is Linear, ReLU, Linear, ..., Linear;
    else None."""
    layers = getattr(module, part, None)
    if layers is None:
        return None
    kinds = [getattr(child, "original_name", type(child).__name__) for child in layers.children()]
    expected = ["Linear" if index % 2 == 0 else "ReLU" for index in range(len(kinds))]
    if not kinds or kinds != expected or len(kinds) % 2 == 0:
        return None
    linears = [child for child in layers.children() if getattr(child, "original_name", "") == "Linear"]
    return [weight_and_bias(layer) for layer in linears]


def weight_and_bias(layer: torch.jit.ScriptModule) -> tuple[Tensor, Tensor | None]:
    return layer.weight.detach(), None if layer.bias is None else layer.bias.detach()


class HalfWeightDecoder:
    """``module.decode`` computed from float16 copies of its weights; the latent scale is folded into the first
    layer's."""

    def __init__(self, layers: list[tuple[Tensor, Tensor | None]], latent_scale: float) -> None:
        (first_weight, first_bias), *rest = layers
        self.latent_size = first_weight.shape[1]
        self.packed = [torch.ops.quantized.linear_prepack_fp16(first_weight / latent_scale, first_bias)]
        self.packed += [torch.ops.quantized.linear_prepack_fp16(weight, bias) for weight, bias in rest]

    def __call__(self, latents: Tensor) -> Tensor:
        hidden = latents
        for index, weights in enumerate(self.packed):
            if index > 0:
                hidden = torch.relu(hidden)
            hidden = torch.ops.quantized.linear_dynamic_fp16(hidden, weights)
        return torch.sigmoid(hidden).view(-1, 1, 28, 28)


def half_weight_decoder(module: torch.jit.ScriptModule) -> HalfWeightDecoder | None:
    """The float16 decoder of ``module``, or None if the model is not laid out as expected. Raises RuntimeError
    where torch has no fbgemm (the float16 packing's only engine: x86; arm64 builds have QNNPACK only)."""
    layers = linear_layers(module)
    scale = getattr(module, "latent_scale", None)
    if layers is None or not isinstance(scale, float) or scale <= 0:
        return None
    return HalfWeightDecoder(layers, scale)


def largest_difference(decode: Decode, reference: Decode, latent_size: int, max_latent: float) -> float:
    """Largest pixel difference between two decodes over latents from 0 to ``max_latent`` in each dimension."""
    latents = torch.rand(512, latent_size, generator=torch.Generator().manual_seed(0)) * max_latent
    latents[:latent_size] = torch.eye(latent_size)  # one-hot latents, where the demo's sliders start
    latents[-1] = max_latent
    with torch.inference_mode():
        return float((decode(latents) - reference(latents)).abs().max())
