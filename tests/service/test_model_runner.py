"""Loading the model for serving: freezing it for speed must not change what it computes."""

from __future__ import annotations

from pathlib import Path

import torch

from service.model import ModelRunner


def test_frozen_model_computes_what_the_exported_one_does(tiny_model_path: Path) -> None:
    exported = torch.jit.load(str(tiny_model_path))
    runner = ModelRunner.load(tiny_model_path)
    images = torch.rand(64, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    latents = torch.rand(64, 10, generator=torch.Generator().manual_seed(1)) * 5
    with torch.inference_mode():
        assert torch.allclose(runner.encode(images), exported.encode(images), atol=1e-6)
        assert torch.allclose(runner.decode(latents), exported.decode(latents), atol=1e-6)
