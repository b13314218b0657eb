"""What the comparison servers share: the model path and the PNG helpers a hand-written server would use."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image

MODEL_PATH = Path(os.environ.get("BENCH_MODEL", Path(__file__).resolve().parents[2] / "models" / "routed-vae.pt"))


def load_model() -> torch.jit.ScriptModule:
    """The model, run on one torch thread: each server is pinned to one core, as ours runs with
    ROUTED_VAE_TORCH_THREADS=1; more threads there would only contend for that core."""
    torch.set_num_threads(1)
    model: torch.jit.ScriptModule = torch.jit.load(str(MODEL_PATH), map_location="cpu")
    model.eval()
    return model


def png_to_pixels(data: bytes) -> np.ndarray:
    """A 28x28 grayscale PNG -> (28, 28) float32 in [0, 1], taken as it is."""
    return np.asarray(Image.open(io.BytesIO(data)).convert("L"), dtype=np.float32) / 255


def pixels_to_png(pixels: np.ndarray, scale: int = 1) -> bytes:
    image = Image.fromarray((pixels.clip(0, 1) * 255).round().astype(np.uint8), mode="L")
    if scale > 1:
        image = image.resize((28 * scale, 28 * scale), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def prediction(latent: torch.Tensor) -> dict[str, object]:
    return {"digit": int(latent.argmax()), "latent": latent.tolist()}
