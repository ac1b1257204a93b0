"""The replayer's hidden per-title parameters, to check what an analysis of synthetic data recovers.

The demo data is generated: ``replayer.universe.catalog`` draws each title's activity shape (burst,
normal, evergreen, with a decay time constant) and its comment volume, independently of genre,
media type and everything else a title shows. Regenerating the catalogue (cheap and deterministic
from seed, titles, now and scale) lets a notebook compare its findings with that ground truth.
The universe is the demo's unless ``TRAKT_REPLAYER_UNIVERSE`` says otherwise, as JSON, e.g.
``{"seed": 31, "titles": 30, "scale": 0.2, "now": "2026-11-01T00:00:00Z"}``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import polars as pl

from orchestration.demo import DEMO_NOW, DEMO_SCALE, DEMO_SEED, DEMO_TITLES
from replayer.config import parse_instant
from replayer.universe.catalog import Catalog

ENV = "TRAKT_REPLAYER_UNIVERSE"


@dataclass(frozen=True)
class UniverseSpec:
    """What makes a replayer universe: the same four values give the same titles and comments."""

    seed: int = DEMO_SEED
    titles: int = DEMO_TITLES
    scale: float = DEMO_SCALE
    now: str = DEMO_NOW


def spec_from_env() -> UniverseSpec:
    """The universe named by ``$TRAKT_REPLAYER_UNIVERSE`` (JSON), else the demo's."""
    raw = os.environ.get(ENV)
    if not raw:
        return UniverseSpec()
    try:
        values = json.loads(raw)
        return UniverseSpec(**values)
    except (json.JSONDecodeError, TypeError) as exc:
        raise ValueError(f"{ENV} must be a JSON object with seed, titles, scale, now: {exc}") from None


def hidden_parameters(spec: UniverseSpec) -> pl.DataFrame:
    """One row per generated title: its keys, name, activity shape, decay constant and volume."""
    catalog = Catalog(spec.seed, spec.titles, parse_instant(spec.now), spec.scale)
    return pl.DataFrame(
        {
            "title_trakt_id": [t.trakt_id for t in catalog.titles],
            "media_type": [t.media_type for t in catalog.titles],
            "generated_title": [t.title for t in catalog.titles],
            "activity": [t.activity for t in catalog.titles],
            "tau_days": [t.tau_days for t in catalog.titles],
            "generated_top_level": [t.n_top for t in catalog.titles],
        }
    )


def attach(titles: pl.DataFrame, hidden: pl.DataFrame) -> pl.DataFrame | None:
    """``titles`` with the hidden parameters, or None unless every title is the generated one.

    Matching keys *and* names guards against comparing a snapshot with the wrong universe.
    """
    joined = titles.join(hidden, on=["title_trakt_id", "media_type"], how="left")
    if joined.height == 0 or not bool((joined["title"] == joined["generated_title"]).fill_null(False).all()):
        return None
    return joined
