"""The catalogue: movies and shows (with seasons and episodes), users and ratings.

Title-level facts are generated at start-up in one vectorised pass (cheap even for 200k titles);
episodes and comments are generated per title on first use and cached in bounded LRU caches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np

from replayer.universe.mix import mix64
from replayer.universe.text import (
    FIRST_NAMES,
    HANDLE_WORDS,
    TITLE_ADJECTIVES,
    TITLE_NOUNS,
    TITLE_PLACES,
    slugify,
)

MediaType = Literal["movie", "show"]
DAY = 86_400

MOVIE_GENRES = [
    "action",
    "adventure",
    "animation",
    "comedy",
    "crime",
    "documentary",
    "drama",
    "family",
    "fantasy",
    "history",
    "horror",
    "music",
    "mystery",
    "romance",
    "science-fiction",
    "thriller",
    "war",
    "western",
]
SHOW_GENRES = [*MOVIE_GENRES, "reality", "anime", "soap", "talk-show"]
NETWORKS = ["HBO", "Netflix", "BBC One", "AMC", "FX", "Hulu", "Apple TV+", "NBC", "ABC", "Prime Video"]
COUNTRIES = ["us", "gb", "fr", "de", "jp", "kr", "ca", "es", "it", "in"]
MOVIE_CERTS = ["G", "PG", "PG-13", "R", None]
SHOW_CERTS = ["TV-G", "TV-PG", "TV-14", "TV-MA", None]
ACTIVITY_KINDS = ("burst", "normal", "evergreen")


@dataclass(frozen=True, slots=True)
class Episode:
    season: int
    number: int
    trakt_id: int
    tvdb: int
    imdb: str | None
    tmdb: int | None
    title: str
    first_aired: int


@dataclass(frozen=True, slots=True)
class Season:
    number: int
    trakt_id: int
    tvdb: int
    tmdb: int | None
    first_aired: int
    episodes: tuple[Episode, ...]


@dataclass(frozen=True, slots=True)
class Title:
    """One movie or show. ``release_ts`` is the release date (movies) or first_aired (shows)."""

    index: int
    media_type: MediaType
    trakt_id: int
    slug: str
    title: str
    year: int
    release_ts: int
    imdb: str | None
    tmdb: int | None
    tvdb: int | None
    genres: tuple[str, ...]
    runtime: int
    country: str
    language: str
    certification: str | None
    network: str | None
    popularity: float
    n_top: int
    n_replies: int
    activity: str
    tau_days: float
    pre_share: float
    votes_final: int
    rating_mean: float
    id_base: int

    @property
    def n_comments(self) -> int:
        return self.n_top + self.n_replies


def _title_name(rng: np.random.Generator) -> str:
    pattern = int(rng.integers(0, 5))
    adjective = TITLE_ADJECTIVES[int(rng.integers(len(TITLE_ADJECTIVES)))]
    noun = TITLE_NOUNS[int(rng.integers(len(TITLE_NOUNS)))]
    if pattern == 0:
        return f"The {adjective} {noun}"
    if pattern == 1:
        return f"{adjective} {noun}"
    if pattern == 2:
        return f"The {noun} of {TITLE_PLACES[int(rng.integers(len(TITLE_PLACES)))]}"
    if pattern == 3:
        return f"{noun}: {adjective} {TITLE_NOUNS[int(rng.integers(len(TITLE_NOUNS)))]}"
    return f"{adjective} {noun} {int(rng.integers(2, 5))}"


def _year_of(ts: int) -> int:
    return int(np.datetime64(ts, "s").astype("datetime64[Y]").astype(int) + 1970)


class Catalog:
    """Movies and shows of the universe, addressable by index, trakt id, slug and imdb id."""

    def __init__(self, seed: int, n_titles: int, anchor: int, scale: float) -> None:
        self.seed = seed
        self.anchor = anchor
        self.scale = scale
        self.n_movies = max(1, round(n_titles * 0.6)) if n_titles > 1 else 1
        self.n_shows = n_titles - self.n_movies
        self.titles: list[Title] = self._generate(n_titles)
        self.movies = [t for t in self.titles if t.media_type == "movie"]
        self.shows = [t for t in self.titles if t.media_type == "show"]
        self._by_key: dict[tuple[MediaType, str], Title] = {}
        for title in self.titles:
            for key in (str(title.trakt_id), title.slug, title.imdb):
                if key:
                    self._by_key.setdefault((title.media_type, key), title)
        # Comment ids are contiguous per title; this sorted array finds a comment's title.
        self.id_bases = np.array([t.id_base for t in self.titles], dtype=np.int64)
        self.id_ends = self.id_bases + np.array([t.n_comments for t in self.titles], dtype=np.int64)
        self.episodes_of = lru_cache(maxsize=4096)(self._episodes_of)

    # -- generation -------------------------------------------------------------------------
    def _generate(self, n_titles: int) -> list[Title]:
        rng = np.random.default_rng([self.seed, 0x717E])
        trakt_ids = self._trakt_ids(rng)
        cols = self._title_columns(rng, n_titles)
        seen_slugs: set[str] = set()
        return [self._build_title(i, int(trakt_ids[i]), cols, seen_slugs) for i in range(n_titles)]

    def _trakt_ids(self, rng: np.random.Generator) -> np.ndarray:
        movie_ids = rng.choice(np.arange(1, 400_000), size=self.n_movies, replace=False)
        show_ids = rng.choice(np.arange(1, 250_000), size=max(self.n_shows, 0), replace=False)
        if self.n_shows:
            # Movie and show ids are separate sequences on Trakt and do overlap: force a few
            # collisions so that every consumer has to key titles by (trakt_id, media_type).
            used = set(show_ids.tolist())
            candidates = [int(m) for m in movie_ids if int(m) not in used]
            for k in range(min(max(1, self.n_shows // 20), len(candidates))):
                show_ids[k] = candidates[k]
        return np.concatenate([movie_ids, show_ids])

    def _title_columns(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        """Vectorised title-level numbers: release, volume, activity shape, ratings, id blocks."""
        # Release anchors: 5% upcoming, 25% within the last year, the rest 1-15 years old.
        bucket = rng.random(n)
        days_ago = np.where(
            bucket < 0.05,
            -rng.uniform(1, 120, n),
            np.where(bucket < 0.30, rng.uniform(0, 365, n), rng.uniform(365, 15 * 365, n)),
        )
        release_day = (self.anchor // DAY) - np.floor(days_ago).astype(np.int64)
        show_hour = rng.integers(0, 24, n)
        # Heavy-tailed lifetime comment volume: lognormal, median ~220 and mean ~800 at scale 1.
        n_top = np.round(rng.lognormal(mean=5.40, sigma=1.6, size=n) * self.scale).astype(np.int64)
        n_top = np.minimum(n_top, int(250_000 * self.scale) + 1)
        n_top[rng.random(n) < 0.02] = 0
        n_replies = np.round(n_top * rng.uniform(0.08, 0.45, n)).astype(np.int64)
        kind = rng.choice(3, size=n, p=[0.3, 0.5, 0.2])
        tau = np.select(
            [kind == 0, kind == 1],
            [rng.uniform(2, 10, n), rng.uniform(20, 120, n)],
            rng.uniform(200, 1500, n),
        )
        pre_share = np.where(rng.random(n) < 0.6, rng.uniform(0.0, 0.08, n), 0.0)
        votes_final = np.round(n_top * rng.uniform(3, 12, n) + rng.lognormal(3, 1.2, n)).astype(np.int64)
        rating_mean = np.clip(rng.normal(6.8, 1.0, n), 2.0, 9.5)
        gaps = rng.integers(1, 60, n)
        id_base = 10_000 + np.concatenate([[0], np.cumsum(n_top + n_replies + gaps)[:-1]])
        return {
            "release_ts": release_day * DAY + np.where(np.arange(n) < self.n_movies, 0, show_hour * 3600),
            "n_top": n_top,
            "n_replies": n_replies,
            "popularity": (n_top + 1) / (float(np.mean(n_top)) + 1.0),
            "kind": kind,
            "tau": tau,
            "pre_share": pre_share,
            "votes_final": votes_final,
            "rating_mean": rating_mean,
            "id_base": id_base,
        }

    def _build_title(self, i: int, trakt_id: int, cols: dict[str, np.ndarray], seen_slugs: set[str]) -> Title:
        """Names, ids and descriptive fields of title ``i`` from its own generator."""
        trng = np.random.default_rng([self.seed, 0x717E, i])
        media: MediaType = "movie" if i < self.n_movies else "show"
        name = _title_name(trng)
        release_ts = int(cols["release_ts"][i])
        year = _year_of(release_ts)
        slug = slugify(name) + (f"-{year}" if media == "movie" else "")
        if slug in seen_slugs:
            slug = f"{slugify(name)}-{year}"
        if slug in seen_slugs:
            slug = f"{slugify(name)}-{year}-{i}"
        seen_slugs.add(slug)
        genre_pool = MOVIE_GENRES if media == "movie" else SHOW_GENRES
        genres = tuple(sorted(trng.choice(genre_pool, size=int(trng.integers(1, 4)), replace=False).tolist()))
        imdb = None if trng.random() < 0.05 else f"tt{int(trng.integers(100_000, 9_999_999)):07d}"
        tmdb = None if trng.random() < 0.03 else int(trng.integers(1, 1_200_000))
        tvdb = int(trng.integers(70_000, 450_000)) if media == "show" else None
        certs = MOVIE_CERTS if media == "movie" else SHOW_CERTS
        runtime = int(trng.integers(80, 180)) if media == "movie" else int(trng.integers(20, 65))
        country = COUNTRIES[int(trng.integers(len(COUNTRIES)))]
        language = "en" if trng.random() < 0.8 else str(trng.choice(["fr", "de", "ja", "ko", "es"]))
        return Title(
            index=i,
            media_type=media,
            trakt_id=trakt_id,
            slug=slug,
            title=name,
            year=year,
            release_ts=release_ts,
            imdb=imdb,
            tmdb=tmdb,
            tvdb=tvdb,
            genres=genres,
            runtime=runtime,
            country=country,
            language=language,
            certification=certs[int(trng.integers(len(certs)))],
            network=NETWORKS[int(trng.integers(len(NETWORKS)))] if media == "show" else None,
            popularity=float(cols["popularity"][i]),
            n_top=int(cols["n_top"][i]),
            n_replies=int(cols["n_replies"][i]),
            activity=ACTIVITY_KINDS[int(cols["kind"][i])],
            tau_days=float(cols["tau"][i]),
            pre_share=float(cols["pre_share"][i]),
            votes_final=int(cols["votes_final"][i]),
            rating_mean=float(cols["rating_mean"][i]),
            id_base=int(cols["id_base"][i]),
        )

    def _episodes_of(self, index: int) -> tuple[Season, ...]:
        """Seasons and episodes of a show, generated on first use."""
        title = self.titles[index]
        if title.media_type != "show":
            return ()
        rng = np.random.default_rng([self.seed, 0xE915, index])
        n_seasons = int(min(1 + rng.geometric(0.35), 10))
        seasons: list[Season] = []
        premiere = title.release_ts
        for s in range(1, n_seasons + 1):
            n_eps = int(rng.integers(6, 23))
            episodes = []
            for e in range(1, n_eps + 1):
                aired = premiere + (e - 1) * 7 * DAY
                episodes.append(
                    Episode(
                        season=s,
                        number=e,
                        trakt_id=5_000_000 + index * 4_000 + s * 100 + e,
                        tvdb=3_000_000 + index * 4_000 + s * 100 + e,
                        imdb=None
                        if rng.random() < 0.3
                        else f"tt{int(rng.integers(1_000_000, 9_999_999)):07d}",
                        tmdb=None if rng.random() < 0.05 else int(rng.integers(60_000, 4_000_000)),
                        title=f"{TITLE_ADJECTIVES[int(rng.integers(len(TITLE_ADJECTIVES)))]} "
                        f"{TITLE_NOUNS[int(rng.integers(len(TITLE_NOUNS)))]}",
                        first_aired=aired,
                    )
                )
            seasons.append(
                Season(
                    number=s,
                    trakt_id=1_000_000 + index * 20 + s,
                    tvdb=500_000 + index * 20 + s,
                    tmdb=None if rng.random() < 0.05 else int(rng.integers(3_000, 400_000)),
                    first_aired=premiere,
                    episodes=tuple(episodes),
                )
            )
            premiere = episodes[-1].first_aired + int(rng.uniform(150, 400)) * DAY
        return tuple(seasons)

    # -- look-ups ---------------------------------------------------------------------------
    def find(self, media: MediaType, key: str) -> Title | None:
        """Find a title by trakt id, slug or imdb id, as Trakt's ``:id`` path segment allows."""
        return self._by_key.get((media, key))

    def title_of_comment(self, comment_id: int) -> Title | None:
        pos = int(np.searchsorted(self.id_bases, comment_id, side="right")) - 1
        if pos < 0 or comment_id >= int(self.id_ends[pos]):
            return None
        return self.titles[pos]

    def status(self, title: Title, now: int) -> str:
        if title.media_type == "movie":
            if title.release_ts <= now:
                return "released"
            return ("post production", "in production", "planned")[title.index % 3]
        seasons = self.episodes_of(title.index)
        if title.release_ts > now:
            return ("upcoming", "in production", "planned")[title.index % 3]
        last_aired = seasons[-1].episodes[-1].first_aired
        if last_aired > now - 60 * DAY:
            return "returning series"
        return "ended" if title.index % 4 else "canceled"

    def aired_episodes(self, title: Title, now: int) -> int:
        return sum(1 for s in self.episodes_of(title.index) for e in s.episodes if e.first_aired <= now)

    def votes_at(self, title: Title, now: int) -> int:
        """Votes grow after release with a 180-day time constant; none before release."""
        age_days = (now - title.release_ts) / DAY
        if age_days <= 0:
            return 0
        return int(title.votes_final * (1.0 - math.exp(-age_days / 180.0)))

    def rating_distribution(self, title: Title, now: int) -> dict[str, int]:
        """Votes 1-10 as a distribution that sums exactly to ``votes_at`` (largest remainder)."""
        votes = self.votes_at(title, now)
        ks = np.arange(1, 11)
        weights = np.exp(-((ks - title.rating_mean) ** 2) / (2 * 1.8**2))
        weights[0] += 0.02
        weights[9] += 0.05
        probs = weights / weights.sum()
        raw = probs * votes
        counts = np.floor(raw).astype(np.int64)
        short = votes - int(counts.sum())
        if short:
            order = np.argsort(-(raw - counts), kind="stable")[:short]
            counts[order] += 1
        return {str(k): int(c) for k, c in zip(ks, counts, strict=True)}

    def rating(self, title: Title, now: int) -> dict[str, Any]:
        dist = self.rating_distribution(title, now)
        votes = sum(dist.values())
        mean = sum(int(k) * v for k, v in dist.items()) / votes if votes else 0.0
        return {"rating": round(mean, 5), "votes": votes, "distribution": dist}

    def watchers(self, title: Title, now: int, window_days: float) -> int:
        """Analytic viewing activity (no comment generation): decays after release."""
        age_days = (now - title.release_ts) / DAY
        if age_days < 0:
            return 0
        decay = math.exp(-age_days / max(title.tau_days * 3, 30.0))
        base = title.popularity * 40.0 * (window_days**0.7)
        evergreen = 0.15 if title.activity == "evergreen" else 0.02
        return int(base * (decay + evergreen))


class UserPool:
    """Commenters. Activity is heavy-tailed: low indexes comment far more often.

    A user is a pure function of ``(seed, index)``, cached, so memory stays bounded.
    """

    def __init__(self, seed: int, size: int) -> None:
        self.seed = seed
        self.size = size
        self._salt = mix64(seed, 0x05E2)
        # Activity is heavy-tailed, so a modest cache holds nearly every busy commenter.
        self.user = lru_cache(maxsize=50_000)(self._user)

    def draw(self, rng: np.random.Generator, count: int) -> np.ndarray:
        # P(index < k) = (k / size) ** 0.4: the top 1% of users write about 16% of comments.
        return np.minimum((self.size * rng.random(count) ** 2.5).astype(np.int64), self.size - 1)

    def _user(self, index: int) -> dict[str, Any]:
        bits = mix64(self._salt, index)

        def pick(options: list[str], shift: int) -> str:
            return options[(bits >> shift) % len(options)]

        handle = pick(HANDLE_WORDS, 0)
        style = (bits >> 8) % 3
        first = pick(FIRST_NAMES, 12)
        if style == 0:
            username = f"{handle}_{first.lower()}{index}"
        elif style == 1:
            username = f"{first}{handle.title()}{index}"
        else:
            username = f"{handle.upper()}{index}x"
        private = (bits >> 56) % 100 < 8
        user: dict[str, Any] = {"username": username, "private": private}
        if not private:
            name_roll = (bits >> 20) % 100
            if name_roll < 15:
                user["name"] = None
            elif name_roll < 20:
                user["name"] = ""
            else:
                user["name"] = f"{pick(FIRST_NAMES, 28)} {chr(65 + (bits >> 36) % 26)}."
            user["vip"] = (bits >> 44) % 100 < 10
            user["vip_ep"] = (bits >> 52) % 100 < 2
        # Usernames are letters, digits and underscores, so this is Trakt's slug rule.
        user["ids"] = {"slug": username.lower().replace("_", "-")}
        return user
