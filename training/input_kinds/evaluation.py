"""Accuracy per input kind, for the evaluation report and the model card's ``input_kinds`` section."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import torch

from training.data import Split
from training.input_kinds.sets import DEFAULT_SIZES, KindSet, KindSizes, kind_sets
from training.metrics import BATCH, Autoencoder


@torch.no_grad()
def predictions(model: Autoencoder, images: np.ndarray) -> np.ndarray:
    """The argmax digit of each (28, 28) float32 MNIST-form picture, as the service computes it."""
    batches = torch.from_numpy(images).unsqueeze(1).split(BATCH)
    return torch.cat([model.encode(batch).argmax(dim=1) for batch in batches]).numpy()


def kind_result(model: Autoencoder, kind: KindSet) -> dict[str, Any]:
    """Accuracy, per-digit accuracy (None for a digit the set lacks) and the commonest mistakes of one kind."""
    predicted = predictions(model, kind.images)
    labels = kind.labels.astype(np.int64)
    per_digit = [float((predicted[labels == d] == d).mean()) if (labels == d).any() else None for d in range(10)]
    pairs = zip(labels, predicted, strict=True)
    mistakes = Counter(f"{label} read as {guess}" for label, guess in pairs if label != guess)
    return {
        "description": kind.description,
        "count": len(kind),
        "accuracy": float((predicted == labels).mean()),
        "correct": int((predicted == labels).sum()),
        "per_digit_accuracy": [None if a is None else round(a, 4) for a in per_digit],
        "mistakes": dict(mistakes.most_common(8)),
    }


def evaluate_kinds(
    model: Autoencoder, test: Split, sizes: KindSizes = DEFAULT_SIZES, progress: bool = False
) -> dict[str, dict[str, Any]]:
    """Every input kind's figures, keyed by kind name (mnist, printed, pad, scans)."""
    return {kind.name: kind_result(model, kind) for kind in kind_sets(test, sizes, progress)}


def card_section(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """What the model card keeps of each kind: accuracy, count and what the pictures are."""
    return {
        name: {"accuracy": result["accuracy"], "count": result["count"], "description": result["description"]}
        for name, result in results.items()
    }


def with_input_kinds(card: dict[str, Any], section: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``card`` with its ``input_kinds`` section set, placed right after ``test_metrics`` as export puts it."""
    rest = {key: value for key, value in card.items() if key != "input_kinds"}
    if "test_metrics" not in rest:
        return {**rest, "input_kinds": section}
    updated: dict[str, Any] = {}
    for key, value in rest.items():
        updated[key] = value
        if key == "test_metrics":
            updated["input_kinds"] = section
    return updated


def update_card(card_file: Path, results: dict[str, dict[str, Any]]) -> None:
    """Rewrite an existing card with these figures as its ``input_kinds`` section; nothing else changes."""
    card = json.loads(card_file.read_text())
    card_file.write_text(json.dumps(with_input_kinds(card, card_section(results)), indent=2) + "\n")


def markdown_table(results: dict[str, dict[str, Any]]) -> list[str]:
    """One row per kind: accuracy, right of how many, commonest mistakes."""
    lines = ["| input kind | accuracy | right | commonest mistakes |", "| --- | ---: | ---: | --- |"]
    for name, result in results.items():
        mistakes = ", ".join(f"{text} ({count})" for text, count in list(result["mistakes"].items())[:4])
        accuracy = 100 * result["accuracy"]
        lines.append(f"| {name} | {accuracy:.2f} % | {result['correct']}/{result['count']} | {mistakes or '-'} |")
    return lines
