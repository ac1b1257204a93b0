"""Screenshots of the dashboard's pages for the docs: leaderboard.png, title.png and health.png.

    python -m dash.screenshots --out docs/img [--data-dir DIR | --url http://127.0.0.1:8501]

Without ``--url`` it starts the dashboard itself on ``--data-dir`` (default ``$TRAKT_DATA_DIR``,
else ``./data``, which ``make demo`` writes) on a free port, and stops it afterwards.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError

from dash import data
from dash.browser import chromium, open_page, screenshot
from dash.server import Dashboard, DashboardFailed

PAGES = {"leaderboard": "/", "title": "/title", "health": "/health"}


def capture(base_url: str, out: Path) -> list[Path]:
    """One full-page PNG per page of the dashboard at ``base_url``."""
    written = []
    with chromium() as context:
        for name, path in PAGES.items():
            page = open_page(context, base_url.rstrip("/") + path)
            written.append(screenshot(page, out / f"{name}.png"))
    return written


@contextmanager
def _dashboard(url: str | None, data_dir: Path) -> Iterator[str]:
    """The given dashboard's URL, or one started here for as long as the block runs."""
    if url:
        yield url
        return
    with Dashboard(data_dir) as dash:
        yield dash.url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dash.screenshots", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/img"), help="folder for the PNGs")
    parser.add_argument("--url", help="a running dashboard (default: start one on --data-dir)")
    parser.add_argument("--data-dir", type=Path, default=None, help="default: $TRAKT_DATA_DIR, else ./data")
    args = parser.parse_args(argv)
    data_dir = (args.data_dir or data.data_dir_from_env()).resolve()
    if not args.url:
        snapshot = data.load_snapshot(data_dir)
        if isinstance(snapshot, data.Missing):
            print(f"screenshots: error: {snapshot.reason}", file=sys.stderr)
            return 2
    try:
        with _dashboard(args.url, data_dir) as url:
            for path in capture(url, args.out):
                print(f"wrote {path}")
    except (DashboardFailed, FileNotFoundError, PlaywrightError) as exc:
        print(f"screenshots: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
