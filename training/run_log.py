"""The run's log: one line per epoch on the console and one JSON record per epoch in metrics.jsonl."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def metrics_path(run_dir: Path) -> Path:
    return run_dir / "metrics.jsonl"


def log_line(epoch: int, epochs: int, record: dict[str, Any]) -> str:
    """The console line for one epoch's record."""
    last_step = record.get("last_step_accuracy")
    return (
        f"epoch {epoch:3d}/{epochs} {record['phase']:>7}  loss {record['loss']:8.3f}  recon {record['recon']:7.3f}  "
        f"kl {record['kl']:6.3f}  test acc {100 * record['accuracy']:6.2f} %  "
        + (f"(last step {100 * last_step:6.2f} %)  " if last_step is not None else "")
        + f"test recon {record['recon_error']:6.2f}  {record['seconds']:5.1f} s"
    )


def log_epoch(run_dir: Path, epochs: int, record: dict[str, Any]) -> None:
    """Print the epoch's line and append its record to metrics.jsonl."""
    print(log_line(record["epoch"], epochs, record), flush=True)
    with metrics_path(run_dir).open("a") as log:
        log.write(json.dumps(record) + "\n")
