"""Drive the dashboard in Debian's Chromium through Playwright: for the browser tests and screenshots.

Chromium runs headless with a fresh profile and without any background networking, so nothing
leaves 127.0.0.1. ``wait_rendered`` waits until Streamlit has finished the script run, every element's
lazily loaded code has arrived and every Vega-Lite chart has drawn, which is when a page can be
asserted on or photographed.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
VIEWPORT = {"width": 1440, "height": 1000}
RENDER_TIMEOUT_MS = 30_000
SCRIPT_IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
QUIET_MS = 400
WATCH_MUTATIONS = """() => {
    window.__dashLastChange = performance.now();
    if (window.__dashObserver) return;
    window.__dashObserver = new MutationObserver(() => { window.__dashLastChange = performance.now(); });
    window.__dashObserver.observe(document.body, {subtree: true, childList: true, attributes: true});
}"""
QUIET = "ms => performance.now() - window.__dashLastChange > ms"
CHARTS_DRAWN = """() => {
    const charts = [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')];
    return charts.every(c => c.querySelector('svg.marks, canvas.marks'));
}"""
# Streamlit loads an element type's code (tables, charts, ...) the first time a page draws one and
# shows a skeleton in its place until then (React Suspense); the app shows one before its first run.
NOTHING_LOADING = """() => !document.querySelector(
    '[data-testid="stSkeleton"], [data-testid="stSkeletonElement"], [data-testid="stAppSkeleton"]'
)"""

CONTENT_HEIGHT = """() => Math.max(...[...document.querySelectorAll(
    '[data-testid="stMain"], [data-testid="stMainBlockContainer"], [data-testid="stSidebarContent"]'
)].map(e => e.scrollHeight))"""


@contextmanager
def chromium(executable: Path = CHROMIUM) -> Iterator[BrowserContext]:
    """A headless Chromium context with a fresh user-data-dir, closed (and removed) on exit."""
    if not executable.exists():
        raise FileNotFoundError(f"no Chromium at {executable}: install it with `make browser`")
    with tempfile.TemporaryDirectory(prefix="dash-chromium-") as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=str(executable),
            args=list(CHROMIUM_ARGS),
            headless=True,
            viewport=VIEWPORT,  # type: ignore[arg-type]
        )
        try:
            yield context
        finally:
            context.close()


def wait_rendered(page: Page, timeout_ms: int = RENDER_TIMEOUT_MS) -> None:
    """Wait for the script run to finish, the page to stop changing, every element's code to have
    loaded and every chart to be drawn.

    Streamlit reports the run finished before the browser has drawn all of it: tables and charts
    load their code lazily, a few hundred ms later, hence the quiet period. On a slow machine the
    code can take longer than the quiet period (a full ``make test`` once read a leaderboard whose
    chart was drawn but whose table was still a skeleton), hence the wait for every skeleton to go.
    """
    # Every page starts with a title: once it is there the first script run has begun.
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=timeout_ms)
    page.wait_for_selector(SCRIPT_IDLE, timeout=timeout_ms)
    page.evaluate(WATCH_MUTATIONS)
    page.wait_for_function(QUIET, arg=QUIET_MS, timeout=timeout_ms, polling=100)
    page.wait_for_function(NOTHING_LOADING, timeout=timeout_ms, polling=100)
    page.wait_for_function(CHARTS_DRAWN, timeout=timeout_ms)
    page.wait_for_selector(SCRIPT_IDLE, timeout=timeout_ms)


def open_page(context: BrowserContext, url: str) -> Page:
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(url)
    wait_rendered(page)
    return page


def screenshot(page: Page, path: Path) -> Path:
    """The whole page: Streamlit scrolls inside its main container, so grow the viewport to fit it."""
    height = VIEWPORT["height"]
    for _ in range(5):  # charts re-layout once they see the taller viewport: grow until it fits
        needed = int(page.evaluate(CONTENT_HEIGHT)) + 40
        if needed <= height:
            break
        height = needed
        page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
        wait_rendered(page)
        page.wait_for_timeout(300)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
    return path
