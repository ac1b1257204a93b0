"""Dashboard fixtures: the published snapshot of the shared build, a dashboard serving it on a
free 127.0.0.1 port, and a headless Chromium (Debian's, through Playwright) to look at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page

from dash import data
from dash.browser import chromium
from dash.server import Dashboard
from tests.conftest import Built


@pytest.fixture(scope="session")
def snapshot(built: Built) -> data.Snapshot:
    loaded = data.load_snapshot(built.data_dir)
    assert isinstance(loaded, data.Snapshot), loaded
    return loaded


@pytest.fixture(scope="module")
def dashboard(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    """``make dash`` on the shared build's data dir (read-only: the dashboard only reads it)."""
    log = tmp_path_factory.mktemp("dash") / "streamlit.log"
    with Dashboard(built.data_dir, log=log) as dash:
        yield dash


@pytest.fixture(scope="module")
def browser(built: Built) -> Iterator[BrowserContext]:
    """Module-scoped, and after ``built``: Playwright's sync API keeps an asyncio loop running in
    this thread while it is open, so no ``asyncio.run`` (the ingestion) may happen meanwhile."""
    with chromium() as context:
        yield context


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the browser tests leave a screenshot of every page they looked at."""
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def page(browser: BrowserContext) -> Iterator[Page]:
    tab = browser.new_page()
    yield tab
    tab.close()
