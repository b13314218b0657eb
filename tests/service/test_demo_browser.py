"""The demo page in headless Chromium (Debian's), driven by Playwright, against a live server on loopback."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.pad_browser import CHROMIUM, HEADLESS_ARGS
from tests.service.live_server import serving

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = [*HEADLESS_ARGS, "--disable-sync"]
MODEL = Path(os.environ.get("ROUTED_VAE_TEST_MODEL", Path(__file__).resolve().parents[2] / "models" / "routed-vae.pt"))
SCREENSHOTS = Path(os.environ.get("TEST_OUTPUT_DIR", "test-output"))


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with serving(MODEL) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: object, server: str) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1200, "height": 1000})  # type: ignore[attr-defined]
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda message: page.console_errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    page.goto(server)
    page.wait_for_function("() => document.getElementById('output-image').src.startsWith('blob:')")
    yield page
    assert page.console_errors == [], page.console_errors
    context.close()


def output_src(page: object) -> str:
    return str(page.get_by_test_id("output-image").get_attribute("src"))  # type: ignore[attr-defined]


def test_moving_slider_3_changes_the_output_image(page: object) -> None:
    before = output_src(page)
    page.get_by_test_id("slider-3").fill("2.5")  # type: ignore[attr-defined]
    page.wait_for_function(f"() => document.getElementById('output-image').src !== '{before}'")  # type: ignore[attr-defined]
    assert output_src(page) != before
    assert page.locator("#value-3").text_content() == "2.50"  # type: ignore[attr-defined]


def test_random_test_digit_predicts_the_label_mostly(page: object) -> None:
    right = 0
    trials = 12
    for _ in range(trials):
        page.get_by_test_id("random-digit").click()  # type: ignore[attr-defined]
        page.wait_for_function("() => document.getElementById('status').textContent.startsWith('Random test digit')")  # type: ignore[attr-defined]
        status = page.locator("#status").text_content()  # type: ignore[attr-defined]
        label = status.split("label ")[1].split(",")[0]
        predicted = page.get_by_test_id("prediction").text_content()  # type: ignore[attr-defined]
        right += int(label == predicted)
        page.evaluate("document.getElementById('status').textContent = ''")  # type: ignore[attr-defined]
    assert right >= trials * 0.75, f"{right}/{trials}"


def draw(page: object, points: list[tuple[float, float]]) -> str:
    """Draw a stroke through canvas-relative points (0..1) and return the prediction."""
    box = page.get_by_test_id("draw-canvas").bounding_box()  # type: ignore[attr-defined]
    mouse = page.mouse  # type: ignore[attr-defined]
    xy = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in points]
    mouse.move(*xy[0])
    mouse.down()
    for point in xy[1:]:
        mouse.move(*point, steps=4)
    mouse.up()
    page.wait_for_function("() => document.getElementById('status').textContent.startsWith('Your drawing')")  # type: ignore[attr-defined]
    return str(page.get_by_test_id("prediction").text_content())  # type: ignore[attr-defined]


def test_vertical_stroke_is_a_one(page: object) -> None:
    assert draw(page, [(0.5, 0.15), (0.5, 0.85)]) == "1"


def test_loop_is_a_zero(page: object) -> None:
    import math

    loop = [
        (0.5 + 0.22 * math.sin(t / 20 * 2 * math.pi), 0.5 - 0.32 * math.cos(t / 20 * 2 * math.pi)) for t in range(21)
    ]
    assert draw(page, loop) == "0"


def test_reset_zeroes_the_sliders(page: object) -> None:
    page.get_by_test_id("reset").click()  # type: ignore[attr-defined]
    values = [page.get_by_test_id(f"slider-{k}").input_value() for k in range(10)]  # type: ignore[attr-defined]
    assert all(float(v) == 0 for v in values)


@pytest.mark.parametrize(("width", "name"), [(1200, "desktop"), (390, "phone")])
def test_screenshots(browser: object, server: str, width: int, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": width, "height": 900})  # type: ignore[attr-defined]
    page.goto(server)
    page.wait_for_function("() => document.getElementById('output-image').src.startsWith('blob:')")
    page.get_by_test_id("random-digit").click()
    page.wait_for_function("() => document.getElementById('status').textContent.startsWith('Random test digit')")
    path = SCREENSHOTS / f"demo-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "no horizontal scrolling"
    page.close()
