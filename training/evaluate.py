"""`python -m training.evaluate MODEL.pt`: metrics JSON, PNG figures and a markdown report, with the accuracy
on each input kind (MNIST test, printed digits, pad-like drawings, low-resolution scans; training/input_kinds)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from training.card import card_path
from training.data import DataError, load_mnist, sha256_of
from training.figures import (
    save_activation_histograms,
    save_confusion_matrix,
    save_reconstructions,
    save_sweep_grid,
)
from training.input_kinds.evaluation import evaluate_kinds, markdown_table, update_card
from training.input_kinds.sets import DEFAULT_SIZES, KindSizes
from training.metrics import classification_metrics, run_split

RECONSTRUCTION_SAMPLES = 16


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m training.evaluate",
        description="Evaluate an exported routed VAE on the 10 000 MNIST test images and on each input kind "
        "(printed digits, pad-like drawings, low-resolution scans).",
    )
    parser.add_argument("model", type=Path, help="TorchScript file written by `python -m training`")
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=Path("reports/latest"),
        help="where metrics.json, the figures and report.md go (default: reports/latest)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="folder with the four MNIST IDX files (default: the cached PyPI wheel)",
    )
    parser.add_argument(
        "--slider-max",
        type=float,
        default=None,
        help="largest strength in the sweep grid (default: the card's slider_max, else 3)",
    )
    parser.add_argument(
        "--update-card",
        action="store_true",
        help="also write the per-kind figures into the model's card (the .json beside it) as its input_kinds "
        "section, leaving the rest of the card as it is (default: the card is only read)",
    )
    return parser


def default_slider_max(model_path: Path) -> float:
    card = card_path(model_path)
    if card.exists():
        return float(json.loads(card.read_text()).get("slider_max", 3.0))
    return 3.0


def card_problem(model_path: Path) -> str | None:
    """Why the model's card cannot take its input_kinds figures (missing, or another model's), or None."""
    card = card_path(model_path)
    if not card.is_file():
        return f"--update-card: {model_path} has no card ({card} does not exist)"
    recorded = json.loads(card.read_text()).get("sha256")
    if recorded != sha256_of(model_path):
        return f"--update-card: {card} describes another model (its sha256 is not {model_path}'s)"
    return None


def kinds_section(kinds: dict[str, Any]) -> list[str]:
    """The report's input-kind table, and what each kind's pictures are."""
    described = [f"- **{name}**: {result['description']}." for name, result in kinds.items()]
    return ["## Accuracy per input kind", "", *markdown_table(kinds), "", *described, ""]


def write_report(out_dir: Path, model_path: Path, metrics: dict[str, Any]) -> None:
    per_digit = " | ".join(f"{100 * a:.1f}" for a in metrics["per_digit_accuracy"])
    lines = [
        f"# Evaluation of `{model_path.name}`",
        "",
        f"Test images: {metrics['images']}",
        "",
        "| metric | value |",
        "| --- | --- |",
        f"| argmax accuracy | {100 * metrics['argmax_accuracy']:.2f} % |",
        f"| squared reconstruction error per image | {metrics['recon_error_per_image']:.2f} |",
        f"| ... per pixel | {metrics['recon_error_per_pixel']:.4f} |",
        f"| images whose own dimension is 0 | {100 * metrics['own_dimension_zero_fraction']:.2f} % |",
        "",
        "Per-digit accuracy (%), digits 0-9:",
        "",
        "| " + " | ".join(str(d) for d in range(10)) + " |",
        "|" + " --- |" * 10,
        f"| {per_digit} |",
        "",
        *kinds_section(metrics["input_kinds"]),
        "## Latent sweep: decode(s · e_k)",
        "![sweep](sweep.png)",
        "",
        "## Reconstructions",
        "![reconstructions](reconstructions.png)",
        "",
        "## Confusion matrix",
        "![confusion](confusion.png)",
        "",
        "## Activation histograms",
        "![histograms](histograms.png)",
        "",
    ]
    (out_dir / "report.md").write_text("\n".join(lines))


def evaluate_file(
    model_path: Path,
    out_dir: Path,
    data_dir: Path | None,
    maximum: float,
    sizes: KindSizes = DEFAULT_SIZES,
    progress: bool = False,
) -> dict[str, Any]:
    """metrics.json, the figures and report.md in ``out_dir``; the metrics, with ``input_kinds`` among them."""
    model = torch.jit.load(str(model_path), map_location="cpu").eval()
    test = load_mnist(data_dir).test
    latents, errors = run_split(model, test)
    metrics = classification_metrics(latents, errors, test.labels)
    started = time.monotonic()
    metrics["input_kinds"] = evaluate_kinds(model, test, sizes, progress)
    metrics["input_kinds_seconds"] = round(time.monotonic() - started, 1)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    save_sweep_grid(model, out_dir / "sweep.png", maximum)
    picks = np.arange(RECONSTRUCTION_SAMPLES)
    save_reconstructions(model, test.images[picks], test.labels[picks], out_dir / "reconstructions.png")
    save_confusion_matrix(np.array(metrics["confusion_matrix"]), out_dir / "confusion.png")
    save_activation_histograms(latents, test.labels, out_dir / "histograms.png")
    write_report(out_dir, model_path, metrics)
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.model.is_file():
        parser.error(f"model file {args.model} does not exist")
    if args.update_card and (problem := card_problem(args.model)):
        parser.error(problem)
    maximum = args.slider_max if args.slider_max is not None else default_slider_max(args.model)
    try:
        metrics = evaluate_file(args.model, args.out_dir, args.data_dir, maximum, progress=True)
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print("\n".join(markdown_table(metrics["input_kinds"])))
    if args.update_card:
        update_card(card_path(args.model), metrics["input_kinds"])
        print(f"input_kinds written into {card_path(args.model)}")
    print(
        f"argmax accuracy {100 * metrics['argmax_accuracy']:.2f} %, "
        f"reconstruction error {metrics['recon_error_per_image']:.2f} per image; "
        f"report in {args.out_dir / 'report.md'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
