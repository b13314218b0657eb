"""`python -m bench.pad_browser`: the pad-like drawings, drawn with real mouse events on the demo page.

Starts `python -m service` with the model on a free loopback port, opens the demo page in headless Chromium
(Debian's, through Playwright), and for each drawing of training/input_kinds/pad.py: clears the pad, moves the
mouse to each stroke's first point, presses, moves through the stroke's points, lets go, waits for the page's
prediction (the page classifies after every stroke; the last stroke's answer is the drawing's) and reads it.
It also reads the pad's canvas back and compares it with the Python rendering of the same strokes, and
classifies that rendering through /classify, so the two paths can be compared drawing by drawing.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from training.input_kinds import pad

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Headless Chromium as the browser tests run it too: no sandbox (containers), no GPU, nothing fetched.
HEADLESS_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
# These two let a mouse event through without waiting for a 60 Hz frame: a drawing takes 0.4-1.3 s instead
# of 0.6-2.1 s, and the page's canvas matches the Python rendering as closely.
CHROMIUM_ARGS = [*HEADLESS_ARGS, "--disable-frame-rate-limit", "--disable-gpu-vsync"]
STATUS = "document.getElementById('status').textContent"


@dataclass(frozen=True)
class Replayed:
    """One drawing as the page read it, beside the Python rendering of the same strokes."""

    digit: int
    style: int
    page: int  # the page's prediction
    rendered: int  # /classify?preprocess=auto of the Python rendering's PNG
    canvas_difference: float  # mean |page canvas - Python rendering| over the pad, 0..1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(model: Path) -> Iterator[str]:
    """The URL of a ready `python -m service` process serving ``model``, stopped afterwards."""
    port = free_port()
    env = {**os.environ, "ROUTED_VAE_PORT": str(port), "ROUTED_VAE_MODEL_PATH": str(model)}
    process = subprocess.Popen([sys.executable, "-m", "service"], env=env, cwd=ROOT, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if urllib.request.urlopen(f"{url}/readyz", timeout=1).status == 200:
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the service at {url} did not become ready") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


@contextmanager
def demo_page(url: str) -> Iterator[Any]:
    """The demo page in headless Chromium, loaded and ready to draw on."""
    from playwright.sync_api import sync_playwright  # the dev extra

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 1000})
            page.goto(url)
            page.wait_for_function("() => document.getElementById('output-image').src.startsWith('blob:')")
            yield page
        finally:
            browser.close()


def draw_on_page(page: Any, drawing: pad.PadDrawing) -> int:
    """Draw ``drawing`` on the cleared pad with the mouse, one stroke at a time; the page's last prediction."""
    page.click("#clear")
    box = page.get_by_test_id("draw-canvas").bounding_box()
    scale = box["width"] / pad.CANVAS, box["height"] / pad.CANVAS  # what the page's point() undoes
    for stroke in drawing.strokes:
        page.evaluate(f"{STATUS} = ''")
        points = [(box["x"] + x * scale[0], box["y"] + y * scale[1]) for x, y in stroke]
        page.mouse.move(*points[0])
        page.mouse.down()
        for point in points[1:]:
            page.mouse.move(*point)
        page.mouse.up()
        page.wait_for_function(f"() => {STATUS} !== ''")
        status = str(page.evaluate(STATUS))
        if not status.startswith("Your drawing"):
            raise RuntimeError(f"the page did not classify the drawing: {status}")
    return int(page.get_by_test_id("prediction").text_content())


def page_canvas(page: Any) -> np.ndarray:
    """The pad's pixels as the page holds them: luminance 0..1, 280 x 280."""
    url = str(page.evaluate("document.getElementById('draw-canvas').toDataURL('image/png')"))
    data = base64.b64decode(url.partition(",")[2])
    return np.asarray(Image.open(io.BytesIO(data)).convert("L"), dtype=np.float32) / 255


def classify_png(url: str, data: bytes) -> int:
    """/classify?preprocess=auto of one PNG sent as the page sends it (a data URL in JSON)."""
    body = json.dumps({"images": ["data:image/png;base64," + base64.b64encode(data).decode()]}).encode()
    request = urllib.request.Request(
        f"{url}/classify?preprocess=auto", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(json.load(response)["predictions"][0]["digit"])


def replay(page: Any, url: str, drawing: pad.PadDrawing) -> Replayed:
    """One drawing on the page and through the Python rendering."""
    predicted = draw_on_page(page, drawing)
    rendering = pad.render(drawing.strokes)
    difference = float(np.abs(page_canvas(page) - rendering).mean())
    return Replayed(drawing.digit, drawing.style, predicted, classify_png(url, pad.export_png(rendering)), difference)


def summary(results: list[Replayed], seconds: float) -> dict[str, Any]:
    """Accuracy of the page and of the Python rendering, how often they agree, and where the page was wrong."""
    page_right = [r.page == r.digit for r in results]
    return {
        "drawings": len(results),
        "browser_accuracy": float(np.mean(page_right)),
        "rendered_accuracy": float(np.mean([r.rendered == r.digit for r in results])),
        "agreement": float(np.mean([r.page == r.rendered for r in results])),
        "canvas_difference_mean": float(np.mean([r.canvas_difference for r in results])),
        "canvas_difference_max": float(np.max([r.canvas_difference for r in results])),
        "browser_wrong": [f"{r.digit} (style {r.style}) read as {r.page}" for r in results if r.page != r.digit],
        "seconds": round(seconds, 1),
    }


def measure(model: Path, drawings: list[pad.PadDrawing], progress: bool = True) -> dict[str, Any]:
    from tqdm import tqdm

    started = time.monotonic()
    with serving(model) as url, demo_page(url) as page:
        results = [replay(page, url, drawing) for drawing in tqdm(drawings, unit="drawing", disable=not progress)]
    return {**summary(results, time.monotonic() - started), "results": [asdict(r) for r in results]}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.pad_browser", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "routed-vae.pt", help="default: %(default)s")
    parser.add_argument("--per-digit", type=int, default=pad.PER_DIGIT, help="drawings of each digit (default: 50)")
    parser.add_argument("--seed", type=int, default=pad.SEED, help="the drawings' seed (default: 0)")
    parser.add_argument("--out", type=Path, default=None, help="also write the figures and every drawing as JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"error: Chromium not found at {CHROMIUM} (apt-get install chromium)", file=sys.stderr)
        return 2
    report = measure(args.model, pad.pad_drawings(args.per_digit, args.seed))
    if args.out is not None:
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    report.pop("results")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
