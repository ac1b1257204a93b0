"""``python -m dash.screenshots`` refuses a data dir without a snapshot with a message, not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from dash import screenshots


def test_no_snapshot_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert screenshots.main(["--data-dir", str(tmp_path), "--out", str(tmp_path / "img")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("screenshots: error: No published snapshot")
    assert "make demo" in err
    assert not (tmp_path / "img").exists()
