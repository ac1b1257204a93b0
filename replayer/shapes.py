"""JSON shapes of Trakt's standard media objects, as ``../shared/trakt-api.md`` documents them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from replayer.universe.catalog import DAY, Episode, Season, Title
from replayer.universe.world import Universe, iso_one

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _date(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def title_ids(title: Title) -> dict[str, Any]:
    ids: dict[str, Any] = {"trakt": title.trakt_id, "slug": title.slug}
    if title.media_type == "show":
        ids["tvdb"] = title.tvdb
    ids["imdb"] = title.imdb
    ids["tmdb"] = title.tmdb
    return ids


def title_object(u: Universe, title: Title, t: int, full: bool) -> dict[str, Any]:
    """A movie or show object; ``extended=full`` adds the summary fields."""
    obj: dict[str, Any] = {"title": title.title, "year": title.year, "ids": title_ids(title)}
    if not full:
        return obj
    rating = u.catalog.rating(title, t)
    comment_count = u.visible_comment_count(title, t)
    obj.update(
        {
            "tagline": f"Every {title.title.split()[-1].lower()} has a story.",
            "overview": f"{title.title} follows a story told through {', '.join(title.genres)}.",
        }
    )
    if title.media_type == "movie":
        obj["released"] = _date(title.release_ts)
    else:
        first = datetime.fromtimestamp(title.release_ts, UTC)
        obj["first_aired"] = iso_one(title.release_ts)
        obj["airs"] = {"day": WEEKDAYS[first.weekday()], "time": first.strftime("%H:%M"), "timezone": "UTC"}
        obj["network"] = title.network
        obj["aired_episodes"] = u.catalog.aired_episodes(title, t)
    obj.update(
        {
            "runtime": title.runtime,
            "country": title.country,
            "trailer": None,
            "homepage": f"https://example.org/{title.slug}",
            "status": u.catalog.status(title, t),
            "rating": rating["rating"],
            "votes": rating["votes"],
            "comment_count": comment_count,
            "updated_at": iso_one(min(t, max(title.release_ts, u.anchor - 30 * DAY))),
            "language": title.language,
            "languages": [title.language],
            "available_translations": sorted({title.language, "en"}),
            "genres": list(title.genres),
            "certification": title.certification,
            "original_title": title.title,
        }
    )
    return obj


def season_ids(season: Season) -> dict[str, Any]:
    return {"trakt": season.trakt_id, "tvdb": season.tvdb, "tmdb": season.tmdb}


def episode_object(ep: Episode, full: bool) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "season": ep.season,
        "number": ep.number,
        "title": ep.title,
        "ids": {"trakt": ep.trakt_id, "tvdb": ep.tvdb, "imdb": ep.imdb, "tmdb": ep.tmdb},
    }
    if full:
        obj["first_aired"] = iso_one(ep.first_aired)
        obj["runtime"] = 45
        obj["overview"] = f"Episode {ep.number} of season {ep.season}."
    return obj


def season_object(season: Season, t: int, *, episodes: bool, full: bool) -> dict[str, Any]:
    obj: dict[str, Any] = {"number": season.number, "ids": season_ids(season)}
    if full:
        obj.update(
            {
                "title": f"Season {season.number}",
                "first_aired": iso_one(season.first_aired),
                "episode_count": len(season.episodes),
                "aired_episodes": sum(1 for e in season.episodes if e.first_aired <= t),
                "overview": None,
            }
        )
    if episodes:
        obj["episodes"] = [episode_object(e, full) for e in season.episodes]
    return obj


def find_season(u: Universe, title: Title, number: int) -> Season | None:
    for season in u.catalog.episodes_of(title.index):
        if season.number == number:
            return season
    return None


def find_episode(u: Universe, title: Title, season: int, number: int) -> Episode | None:
    found = find_season(u, title, season)
    if found is None:
        return None
    for ep in found.episodes:
        if ep.number == number:
            return ep
    return None


def item_wrapper(
    u: Universe, title: Title, grain: int, season: int, episode: int, t: int, full: bool
) -> dict[str, Any]:
    """``{type, movie|show|season|episode[, show]}`` for a comment's attached item."""
    if title.media_type == "movie":
        return {"type": "movie", "movie": title_object(u, title, t, full)}
    show = title_object(u, title, t, full)
    if grain == 1:
        found = find_season(u, title, season)
        assert found is not None  # nosec B101  # a comment's grain is one of its title's seasons
        return {"type": "season", "season": season_object(found, t, episodes=False, full=full), "show": show}
    if grain == 2:
        ep = find_episode(u, title, season, episode)
        assert ep is not None  # nosec B101  # a comment's grain is one of its title's episodes
        return {"type": "episode", "episode": episode_object(ep, full), "show": show}
    return {"type": "show", "show": show}
