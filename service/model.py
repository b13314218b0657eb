"""Loads the TorchScript model after checking its sha256 against the card, and runs it. No HTTP here."""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, get_args

import torch
from torch import Tensor

from service.config import WeightPrecision
from service.half_decoder import TOLERANCE, Decode, half_weight_decoder, largest_difference
from service.half_encoder import TOLERANCE as ENCODER_TOLERANCE
from service.half_encoder import Encode, half_weight_encoder, largest_latent_difference
from service.limits import LATENT_SIZE, MAX_LATENT

logger = logging.getLogger("service.model")


class ModelLoadError(RuntimeError):
    """The model or its card is missing, unreadable or tampered with, or the model does not give one latent
    dimension per digit; the message says which."""


def card_path_for(model_path: Path) -> Path:
    return model_path.with_suffix(".json")


def read_card(model_path: Path) -> dict[str, Any]:
    path = card_path_for(model_path)
    try:
        card: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError as error:
        raise ModelLoadError(f"model card {path} not found; it must sit beside the model file") from error
    except (OSError, ValueError) as error:
        raise ModelLoadError(f"model card {path} is unreadable: {error}") from error
    if not isinstance(card, dict) or "sha256" not in card:
        raise ModelLoadError(f"model card {path} has no sha256 field")
    return card


def verify_sha256(model_path: Path, expected: str) -> bytes:
    """The model's bytes, read once, after checking them against the card (loading runs code)."""
    try:
        data = model_path.read_bytes()
    except FileNotFoundError as error:
        raise ModelLoadError(f"model file {model_path} not found (set ROUTED_VAE_MODEL_PATH)") from error
    except OSError as error:
        raise ModelLoadError(f"model file {model_path} is unreadable: {error}") from error
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise ModelLoadError(
            f"model file {model_path} has sha256 {actual}, but its card says {expected}; refusing to load it"
        )
    return data


def freeze_for_inference(module: torch.jit.ScriptModule) -> torch.jit.ScriptModule:
    """Weights folded in as constants (no attribute lookups per call): about 15 % faster per batch here.

    The arithmetic is the same; ``tests/service/test_model_runner.py`` checks the outputs against the unfrozen model.
    """
    frozen: torch.jit.ScriptModule = torch.jit.freeze(module.eval(), preserved_attrs=["encode", "decode"])
    return frozen


HalfT = TypeVar("HalfT", bound=Callable[[Tensor], Tensor])


def choose_half_weights(
    part: str, moved: str, make_half: Callable[[], HalfT | None], measure: Callable[[HalfT], float], tolerance: float
) -> HalfT | None:
    """The float16-weight ``part`` ("encoder" or "decoder") if this torch can run one, the model's layout allows
    one and ``measure`` puts it within ``tolerance`` of the model's own (what it moved: ``moved``); else None, with
    a warning saying why."""
    try:
        half = make_half()
        if half is None:
            logger.warning("the %s keeps float32 weights: the model's %s is not the layout float16 needs", part, part)
            return None
        difference = measure(half)
    except RuntimeError as error:  # no fbgemm in this torch build (arm64 has QNNPACK only)
        logger.warning("the %s keeps float32 weights: this torch cannot pack float16 ones (%s)", part, error)
        return None
    if not difference <= tolerance:  # also refuses NaN
        logger.warning("the %s keeps float32 weights: float16 ones moved %s by %.4f", part, moved, difference)
        return None
    logger.info("the %s runs from float16 weights (%s within %.4f of float32)", part, moved, difference)
    return half


def choose_decoder(module: torch.jit.ScriptModule, exact: Decode) -> Decode:
    """The float16-weight decoder (service/half_decoder.py) if it can be used, else ``exact``."""
    half = choose_half_weights(
        "decoder",
        "pixels",
        lambda: half_weight_decoder(module),
        lambda half: largest_difference(half, exact, half.latent_size, MAX_LATENT),
        TOLERANCE,
    )
    return exact if half is None else half


def choose_encoder(module: torch.jit.ScriptModule, exact: Encode) -> Encode:
    """The float16-weight encoder (service/half_encoder.py) if it can be used, else ``exact``."""
    half = choose_half_weights(
        "encoder",
        "latents",
        lambda: half_weight_encoder(module),
        lambda half: largest_latent_difference(half, exact),
        ENCODER_TOLERANCE,
    )
    return exact if half is None else half


@dataclass
class ModelRunner:
    """The loaded model and its card; ``encode`` and ``decode`` work on CPU tensors. ``encoder`` and ``decoder``
    are the functions they run: the TorchScript model's, or the same from float16 weights (service/half_encoder.py,
    service/half_decoder.py)."""

    card: dict[str, Any]
    decoder: Decode
    encoder: Encode

    @classmethod
    def load(
        cls,
        model_path: Path,
        decoder_weights: WeightPrecision = "float16",
        encoder_weights: WeightPrecision = "float16",
    ) -> ModelRunner:
        card = read_card(model_path)
        data = verify_sha256(model_path, str(card["sha256"]))
        try:
            module = torch.jit.load(io.BytesIO(data), map_location="cpu")
        except Exception as error:  # TorchScript raises many types for a corrupt archive
            raise ModelLoadError(f"model file {model_path} could not be loaded: {error}") from error
        for name, value in (("decoder_weights", decoder_weights), ("encoder_weights", encoder_weights)):
            if value not in get_args(WeightPrecision):
                raise ValueError(f"{name} must be one of {get_args(WeightPrecision)}, not {value!r}")
        frozen = freeze_for_inference(module)
        decoder = choose_decoder(module, frozen.decode) if decoder_weights == "float16" else frozen.decode
        encoder = choose_encoder(module, frozen.encode) if encoder_weights == "float16" else frozen.encode
        runner = cls(card=card, decoder=decoder, encoder=encoder)
        runner.warm_up()
        return runner

    def warm_up(self) -> None:
        """Run every shape class once so the first request pays no start-up cost; check outputs, and that the
        model gives one latent dimension per digit (the routes take the argmax of each latent as its digit)."""
        for rows in (1, 8, 64):
            latents = self.encode(torch.rand(rows, 1, 28, 28))
            if latents.shape != (rows, LATENT_SIZE):
                raise ModelLoadError(f"the model encodes to {tuple(latents.shape[1:])}, not ({LATENT_SIZE},) latents")
            self.decode(latents)

    @torch.inference_mode()
    def encode(self, images: Tensor) -> Tensor:
        """(N, 1, 28, 28) float in [0, 1] -> (N, K) non-negative latents."""
        return self._checked(self.encoder(images), "encode")

    @torch.inference_mode()
    def decode(self, latents: Tensor) -> Tensor:
        """(N, K) latents -> (N, 1, 28, 28) images in [0, 1]."""
        return self._checked(self.decoder(latents), "decode")

    @staticmethod
    def _checked(output: Tensor, what: str) -> Tensor:
        if not bool(torch.isfinite(output).all()):
            raise FloatingPointError(f"model {what} produced non-finite values")
        return output
