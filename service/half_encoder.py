"""The encoder with its weights stored as float16 and its arithmetic in float32 (fbgemm's packed fp16 linear),
as service/half_decoder.py does for the decoder.

Under load the encoder's 4.2 MB of float32 weights (784 -> 1024 -> 256 -> 10, then the 10 x 10 mean head) come
from memory for every micro-batch, not from the caches: timed alone with caches evicted first (one torch
thread, 2026-12-02), a 40-row batch took 31-32 µs a row with float32 weights and 24.5 with float16 ones, a
one-row call 360 and 220 µs. Float16 keeps 11 significant bits of each weight: with the committed model, over
the 10 000 MNIST test digits, latents moved by at most 0.0016 (the largest latent is about 9) and every
digit's argmax stayed the same (accuracy 97.23 % either way).

Built only for the layout the training package exports (``encode = relu(mean_head(encoder(flatten(images)))) *
latent_scale`` with an encoder of Linear layers and ReLUs between them); the model runner checks it against the
TorchScript encode at load and keeps the TorchScript one if they differ by more than ``TOLERANCE``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from service.half_decoder import linear_layers, weight_and_bias

Encode = Callable[[Tensor], Tensor]
TOLERANCE = 0.01  # largest latent difference from the float32 encode (latents of digits reach about 10)


class HalfWeightEncoder:
    """``module.encode`` computed from float16 copies of its weights."""

    def __init__(self, layers: list[tuple[Tensor, Tensor | None]], latent_scale: float) -> None:
        *hidden, head = layers
        self.packed = [torch.ops.quantized.linear_prepack_fp16(weight, bias) for weight, bias in hidden]
        self.head = torch.ops.quantized.linear_prepack_fp16(*head)
        self.latent_scale = latent_scale

    def __call__(self, images: Tensor) -> Tensor:
        hidden = torch.flatten(images, 1)
        for index, weights in enumerate(self.packed):
            if index > 0:
                hidden = torch.relu(hidden)
            hidden = torch.ops.quantized.linear_dynamic_fp16(hidden, weights)
        return torch.relu(torch.ops.quantized.linear_dynamic_fp16(hidden, self.head)) * self.latent_scale


def half_weight_encoder(module: torch.jit.ScriptModule) -> HalfWeightEncoder | None:
    """The float16 encoder of ``module``, or None if the model is not laid out as expected. Raises RuntimeError
    where torch has no fbgemm (the float16 packing's only engine: x86; arm64 builds have QNNPACK only)."""
    layers = linear_layers(module, "encoder")
    head = getattr(module, "mean_head", None)
    scale = getattr(module, "latent_scale", None)
    if layers is None or head is None or getattr(head, "original_name", "") != "Linear":
        return None
    if not isinstance(scale, float) or scale <= 0:
        return None
    return HalfWeightEncoder([*layers, weight_and_bias(head)], scale)


def largest_latent_difference(encode: Encode, reference: Encode) -> float:
    """Largest latent difference between two encodes over random pictures, a blank one and a full one."""
    images = torch.rand(512, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    images[0], images[-1] = 0.0, 1.0
    with torch.inference_mode():
        return float((encode(images) - reference(images)).abs().max())
