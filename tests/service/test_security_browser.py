"""The demo page and /docs under their Content-Security-Policy, and the demo with API keys on, in Chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.service.live_server import serving
from tests.service.test_demo_browser import MODEL, SCREENSHOTS, browser  # noqa: F401  (browser: a fixture)

pytestmark = pytest.mark.browser

KEY = "browser-key-0123456789abcdef"
# Chromium reports every 4xx answer as a console error; the demo's first, keyless request is meant to get one.
EXPECTED_401 = re.compile(r"^Failed to load resource: the server responded with a status of 401")
# The CDN files /docs loads, replaced by a stand-in (no internet here) that starts like Swagger UI: it fetches
# the schema from the URL the page's inline script passes and writes its title into the page.
SWAGGER_STANDIN = """
window.SwaggerUIBundle = function (options) {
  fetch(options.url).then((response) => response.json()).then((schema) => {
    const paths = Object.keys(schema.paths).length;
    document.querySelector(options.dom_id).textContent = `${schema.info.title}: ${paths} paths`;
  });
  return {};
};
window.SwaggerUIBundle.presets = { apis: {} };
window.SwaggerUIBundle.SwaggerUIStandalonePreset = {};
"""


@pytest.fixture(scope="module")
def keyed_server() -> Iterator[str]:
    with serving(MODEL, env={"ROUTED_VAE_API_KEYS": KEY}) as url:
        yield url


class Watched:
    """A page with its console errors and the URLs it requested."""

    def __init__(self, launched: Any) -> None:
        self.context = launched.new_context(viewport={"width": 1200, "height": 1000})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.urls: list[str] = []
        self.page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("request", lambda request: self.urls.append(request.url))

    def unexpected_errors(self) -> list[str]:
        return [error for error in self.errors if not EXPECTED_401.match(error)]


@pytest.fixture
def watched(browser: Any) -> Iterator[Watched]:  # noqa: F811
    watched = Watched(browser)
    yield watched
    watched.context.close()


def enter_key(page: Any, key: str) -> None:
    page.wait_for_selector("#key-dialog[open]")
    page.get_by_test_id("key-input").fill(key)
    page.get_by_test_id("key-submit").click()


def test_with_keys_on_the_demo_asks_for_a_key_and_works(watched: Watched, keyed_server: str) -> None:
    page = watched.page
    response = page.goto(keyed_server)
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page.wait_for_selector("#key-dialog[open]")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "demo-key-dialog.png"))
    enter_key(page, "not-the-key-0123456789")
    page.wait_for_function("() => document.getElementById('key-error').textContent.includes('not accepted')")
    enter_key(page, KEY)
    page.wait_for_function("() => document.getElementById('output-image').src.startsWith('blob:')")
    assert page.locator("#model-line").text_content().startswith("Model ")
    page.get_by_test_id("random-digit").click()
    page.wait_for_function("() => document.getElementById('status').textContent.startsWith('Random test digit')")
    page.screenshot(path=str(SCREENSHOTS / "demo-keys-on.png"), full_page=True)
    assert page.evaluate("sessionStorage.getItem('routed-vae-api-key')") == KEY
    assert page.get_by_test_id("forget-key").is_visible()
    assert not [url for url in watched.urls if KEY in url], "the key never travels in a URL"
    assert watched.unexpected_errors() == []


def test_the_key_lasts_for_the_tab_and_can_be_forgotten(watched: Watched, keyed_server: str) -> None:
    page = watched.page
    page.goto(keyed_server)
    enter_key(page, KEY)
    page.wait_for_function("() => document.getElementById('output-image').src.startsWith('blob:')")
    page.reload()
    page.wait_for_function("() => document.getElementById('output-image').src.startsWith('blob:')")
    assert not page.locator("#key-dialog").is_visible(), "no second prompt after a reload"
    page.get_by_test_id("forget-key").click()
    assert page.evaluate("sessionStorage.getItem('routed-vae-api-key')") is None
    page.get_by_test_id("reset").click()  # the next request has no key: asked again
    page.wait_for_selector("#key-dialog[open]")
    assert watched.unexpected_errors() == []


def test_a_policy_violation_is_blocked_and_shows_as_a_console_error(watched: Watched, keyed_server: str) -> None:
    """What makes 'no console errors' mean 'no CSP violations': the browser reports each one there."""
    page = watched.page
    page.goto(keyed_server)
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.inlineRan = true';"
        " document.body.appendChild(s); }"
    )
    page.wait_for_timeout(100)
    assert page.evaluate("window.inlineRan === undefined")
    assert any("Content Security Policy" in error for error in watched.unexpected_errors())


def test_the_docs_page_runs_under_its_own_policy(watched: Watched, keyed_server: str) -> None:
    page = watched.page
    script = SWAGGER_STANDIN
    page.route(
        "https://cdn.jsdelivr.net/**/*.js", lambda route: route.fulfill(body=script, content_type="text/javascript")
    )
    page.route("https://cdn.jsdelivr.net/**/*.css", lambda route: route.fulfill(body="", content_type="text/css"))
    page.route("https://fastapi.tiangolo.com/**", lambda route: route.fulfill(status=204))
    page.goto(f"{keyed_server}/docs")
    page.wait_for_function("() => document.getElementById('swagger-ui').textContent.startsWith('routed-vae:')")
    assert watched.unexpected_errors() == []
