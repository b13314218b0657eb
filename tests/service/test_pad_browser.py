"""Pad-like drawings replayed with real mouse events on the demo page, against the Python rendering of the same
strokes (training/input_kinds/pad.py) sent through /classify: the page must see and read them alike."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.pad_browser import CHROMIUM, demo_page, replay, summary
from tests.service.live_server import serving
from training.input_kinds import pad

pytestmark = pytest.mark.browser

MODEL = Path(os.environ.get("ROUTED_VAE_TEST_MODEL", Path(__file__).resolve().parents[2] / "models" / "routed-vae.pt"))
OUTPUT = Path(os.environ.get("TEST_OUTPUT_DIR", "test-output"))
PER_DIGIT = 5
# Measured 2026-12-01 with the committed model: the page and the Python rendering agreed on 49 of these 50
# drawings, their canvases 0.17 % of full ink apart per pixel on average (0.26 % at most). The one that differs
# is a tie: a 6 whose latents for 5 and 6 are 0.984 and 0.985 on the page, 1.003 and 0.989 in Python. One
# more such tie is allowed.
AGREEMENT = 0.96
CANVAS_DIFFERENCE = 0.005


@pytest.fixture(scope="module")
def page_and_url() -> Iterator[tuple[object, str]]:
    pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    with serving(MODEL) as url, demo_page(url) as page:
        yield page, url


def test_the_page_reads_pad_drawings_as_the_python_rendering_does(page_and_url: tuple[object, str]) -> None:
    page, url = page_and_url
    drawings = [pad.drawing(digit, index) for digit in range(10) for index in range(PER_DIGIT)]
    started = time.monotonic()
    results = [replay(page, url, drawing) for drawing in drawings]
    report = summary(results, time.monotonic() - started)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / "pad-browser.json").write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"{len(results)} pad drawings: browser {report['browser_accuracy']:.1%}, Python rendering "
        f"{report['rendered_accuracy']:.1%}, agreement {report['agreement']:.1%}, canvas difference mean "
        f"{report['canvas_difference_mean']:.4f} max {report['canvas_difference_max']:.4f}; "
        f"wrong in the browser: {report['browser_wrong']}"
    )
    assert report["canvas_difference_max"] <= CANVAS_DIFFERENCE, report
    assert report["agreement"] >= AGREEMENT, report
