"""`python -m training.seeds --seeds 0 1 2 -- [training flags]`: the same recipe over several seeds.

Each seed is trained with exactly the given training flags (only --seed, --out and --run-dir differ),
evaluated on the test set, and summarised in a table: final accuracy, reconstruction error, wall time,
and time to first reach 95 % test accuracy. ``--export SEED`` exports that seed's model (the committed
one) with the table in its card.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from training.card import card_path
from training.cli import build_parser as build_training_parser
from training.cli import config_from_args
from training.data import Split, load_mnist
from training.export import export_model
from training.metrics import evaluate_model
from training.train import TrainResult, train

QUALITY_BAR = 0.95


def time_to_accuracy(history: list[dict[str, Any]], bar: float, data_seconds: float = 0.0) -> float | None:
    """Cumulative training seconds (data preparation first) until the first epoch whose test accuracy
    reaches ``bar``."""
    elapsed = data_seconds
    for record in history:
        elapsed += float(record["seconds"])
        if record["accuracy"] >= bar:
            return round(elapsed, 1)
    return None


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    accuracies = [row["argmax_accuracy"] for row in rows]
    errors = [row["recon_error_per_image"] for row in rows]
    return {
        "seeds": len(rows),
        "accuracy_min": min(accuracies),
        "accuracy_median": statistics.median(accuracies),
        "recon_error_max": max(errors),
        "recon_error_median": statistics.median(errors),
    }


def markdown_table(rows: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    lines = [
        "| seed | test argmax accuracy | recon error / image | train seconds | seconds to 95 % |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        reached = "not reached" if row["seconds_to_95"] is None else f"{row['seconds_to_95']:.0f}"
        lines.append(
            f"| {row['seed']} | {100 * row['argmax_accuracy']:.2f} % | {row['recon_error_per_image']:.2f} | "
            f"{row['seconds']:.0f} | {reached} |"
        )
    lines.append(
        f"\nMin accuracy {100 * summary['accuracy_min']:.2f} %, median {100 * summary['accuracy_median']:.2f} %; "
        f"median recon error {summary['recon_error_median']:.2f}, worst {summary['recon_error_max']:.2f}."
    )
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """The parser for `python -m training.seeds`; the training flags follow ``--``."""
    parser = argparse.ArgumentParser(prog="python -m training.seeds", description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds to train (default: 0 1 2)")
    parser.add_argument("--out-dir", type=Path, default=Path("runs/seeds"), help="(default: runs/seeds)")
    parser.add_argument(
        "--export",
        type=int,
        metavar="SEED",
        help="export this seed's model to the training --out path, with the table in its card (default: none)",
    )
    parser.add_argument("train_args", nargs=argparse.REMAINDER, help="training flags, after --")
    return parser


def seed_row(seed: int, result: TrainResult, test: Split) -> dict[str, Any]:
    """One seed's line of the table: test accuracy and reconstruction error, time, time to the quality bar."""
    metrics = evaluate_model(result.model.eval(), test)
    return {
        "seed": seed,
        "argmax_accuracy": metrics["argmax_accuracy"],
        "recon_error_per_image": metrics["recon_error_per_image"],
        "seconds": result.seconds(),
        "seconds_to_95": time_to_accuracy(result.history, QUALITY_BAR, result.data_seconds),
    }


def write_sweep(out_dir: Path, sweep: dict[str, Any], exported: Path | None) -> None:
    """seeds.json and seeds.md in ``out_dir``; the sweep also goes into the exported model's card, if any."""
    table = markdown_table(sweep["rows"], sweep["summary"])
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "seeds.json").write_text(json.dumps(sweep, indent=2) + "\n")
    (out_dir / "seeds.md").write_text(table + "\n")
    print(table)
    if exported is not None:
        card = json.loads(card_path(exported).read_text())
        card["seed_sweep"] = sweep
        card_path(exported).write_text(json.dumps(card, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Train every seed with the same flags, tabulate the results and export the chosen seed's model."""
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    train_args = [a for a in args.train_args if a != "--"]
    base = config_from_args(build_training_parser().parse_args(train_args))
    mnist = load_mnist(base.data_dir)
    rows = []
    for seed in args.seeds:
        folder = args.out_dir / f"seed-{seed}"
        config = replace(base, seed=seed, out=folder / "model.pt", run_dir=folder)
        result = train(config, mnist=mnist)
        if seed == args.export:
            export_model(result, replace(config, out=base.out), [*train_args, "--seed", str(seed)])
        rows.append(seed_row(seed, result, mnist.test))
        print(json.dumps(rows[-1]), flush=True)
    sweep = {"command": " ".join(["python -m training.seeds", *argv]), "rows": rows, "summary": summarise(rows)}
    write_sweep(args.out_dir, sweep, base.out if args.export is not None else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
