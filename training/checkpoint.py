"""The run's checkpoint: model, optimiser, weight average and RNG after each epoch, so a run can resume."""

from __future__ import annotations

from pathlib import Path

import torch
from torch.optim.swa_utils import AveragedModel

from training.model import RoutedVAE


def checkpoint_path(run_dir: Path) -> Path:
    return run_dir / "checkpoint.pt"


def save_checkpoint(
    path: Path, model: RoutedVAE, optimizer: torch.optim.Optimizer, epoch: int, averaged: AveragedModel | None
) -> None:
    """Write the state after ``epoch`` epochs; through a temporary file, so a crash never leaves half a file."""
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "epoch": epoch,
        "rng": torch.get_rng_state(),
        "averaged": averaged.state_dict() if averaged is not None else None,
    }
    temporary = path.with_suffix(".tmp")
    torch.save(state, temporary)
    temporary.replace(path)


def load_checkpoint(
    path: Path, model: RoutedVAE, optimizer: torch.optim.Optimizer, averaged: AveragedModel | None
) -> int:
    """Restore model, optimiser, weight average and RNG; returns the number of epochs already done."""
    if not path.exists():
        raise FileNotFoundError(f"--resume: no checkpoint at {path}; train without --resume first.")
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    torch.set_rng_state(state["rng"])
    if averaged is not None and state.get("averaged") is not None:
        averaged.load_state_dict(state["averaged"])
    return int(state["epoch"])
