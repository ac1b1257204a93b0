"""Deterministic text: comment sentences, titles, user names.

Comment bodies are runs of consecutive sentences from a bank generated once per seed. A comment
is then two integers (first sentence, sentence count), its word count is a prefix-sum difference,
and the ``review`` flag (200 words or more, as Trakt sets it) is computed without building text.
"""

from __future__ import annotations

import re

import numpy as np

_SPOILER_TAG = re.compile(r"\[/?spoiler\]")

SUBJECTS = [
    "The lead",
    "The villain",
    "The score",
    "The ending",
    "This episode",
    "The pacing",
    "The cast",
    "The cinematography",
    "The second act",
    "The finale",
    "The dialogue",
    "The soundtrack",
    "The director",
    "The plot twist",
    "The opening scene",
    "The writing",
    "The editing",
    "The supporting cast",
    "The world building",
    "The chemistry between them",
    "The premise",
    "The last twenty minutes",
    "The cliffhanger",
    "The visual effects",
    "The humour",
]
VERBS = [
    "carries",
    "ruins",
    "elevates",
    "drags down",
    "surprised",
    "nails",
    "undercuts",
    "saves",
    "overstays",
    "rewards",
    "frustrates",
    "delivers",
    "wastes",
    "redeems",
    "builds",
    "sells",
]
OBJECTS = [
    "the whole story",
    "every quiet moment",
    "the tension",
    "the emotional payoff",
    "the first half",
    "the mystery",
    "the characters",
    "the atmosphere",
    "the big reveal",
    "the romance",
    "the action",
    "the slower episodes",
    "the message",
    "the mood",
    "my expectations",
    "the rewatch value",
]
ADJECTIVES = [
    "stunning",
    "slow",
    "brilliant",
    "messy",
    "haunting",
    "forgettable",
    "gripping",
    "bloated",
    "clever",
    "uneven",
    "gorgeous",
    "predictable",
    "heartfelt",
    "tense",
    "charming",
    "bleak",
    "ambitious",
    "hilarious",
    "underrated",
    "overrated",
    "beautifully shot",
    "hard to watch",
]
OPENERS = [
    "Honestly,",
    "To be fair,",
    "I think",
    "For me,",
    "Overall,",
    "Surprisingly,",
    "Sadly,",
    "Without a doubt,",
    "In the end,",
    "At first",
    "On a rewatch,",
    "My take:",
]
CLOSERS = [
    "Worth a watch.",
    "Would not recommend.",
    "Can't wait for more.",
    "Still thinking about it.",
    "Solid 7 out of 10.",
    "Absolute masterpiece.",
    "Skip it.",
    "Better than I expected.",
    "Watch it with friends.",
    "The hype is real.",
    "Not for everyone.",
    "Give it a chance.",
]
EXTRAS = [
    "and the music stayed with me for days",
    "even if the middle drags a little",
    "which nobody saw coming",
    "although the budget clearly ran out",
    "and I mean that as praise",
    "despite a shaky start",
    "like nothing else this year",
    "in a way that feels earned",
    "for better or worse",
    "without ever feeling rushed",
]
EMOJI = [":smiley:", ":heart:", ":fire:", ":thumbsup:", ":cry:", ":joy:", ":popcorn:", ":clap:"]

TITLE_ADJECTIVES = [
    "Silent",
    "Broken",
    "Golden",
    "Hidden",
    "Last",
    "Crimson",
    "Midnight",
    "Frozen",
    "Distant",
    "Electric",
    "Savage",
    "Quiet",
    "Wild",
    "Lost",
    "Burning",
    "Hollow",
    "Iron",
    "Velvet",
    "Shattered",
    "Endless",
    "Secret",
    "Northern",
    "Restless",
    "Bright",
    "Dark",
    "Paper",
    "Glass",
    "Stolen",
]
TITLE_NOUNS = [
    "Harbor",
    "Kingdom",
    "Signal",
    "Garden",
    "Empire",
    "Witness",
    "Horizon",
    "Protocol",
    "River",
    "Orchard",
    "Station",
    "Circus",
    "Frontier",
    "Archive",
    "Lighthouse",
    "Machine",
    "Covenant",
    "Island",
    "Tides",
    "Summer",
    "Mirror",
    "Crown",
    "Voyage",
    "Heist",
    "Parade",
    "Descent",
    "Echo",
    "Outpost",
    "Cartel",
    "Academy",
    "District",
    "Colony",
    "Orbit",
    "Dynasty",
    "Storm",
]
TITLE_PLACES = [
    "Avalon",
    "Brighton",
    "Cairo",
    "Denver",
    "Everglade",
    "Fairhaven",
    "Galway",
    "Helsinki",
    "Ironwood",
    "Juneau",
    "Kyoto",
    "Lisbon",
    "Marrakesh",
    "Nairobi",
    "Oslo",
    "Prague",
    "Quebec",
]
FIRST_NAMES = [
    "Alex",
    "Sam",
    "Jordan",
    "Maria",
    "Chen",
    "Priya",
    "Lukas",
    "Amara",
    "Diego",
    "Yuki",
    "Noah",
    "Fatima",
    "Olga",
    "Liam",
    "Zoe",
    "Ibrahim",
    "Elena",
    "Kai",
    "Nia",
    "Mateo",
    "Hana",
    "Omar",
]
HANDLE_WORDS = [
    "movie",
    "film",
    "cinema",
    "binge",
    "couch",
    "reel",
    "screen",
    "popcorn",
    "series",
    "plot",
    "scene",
    "critic",
    "watcher",
    "fan",
    "buff",
    "geek",
    "night",
    "late",
    "pixel",
    "noir",
]


def count_words(text: str) -> int:
    """Trakt's word count for the review rule: whitespace tokens once ``[spoiler]`` tags are removed.

    ``docs/metrics.md`` defines ``word_count`` the same way, so the replayer's ``review`` flag and
    the warehouse's ``is_review``/``word_count`` always agree.
    """
    return len(_SPOILER_TAG.sub("", text).split())


def _sentence(rng: np.random.Generator) -> str:
    kind = int(rng.integers(0, 6))
    subject = SUBJECTS[int(rng.integers(len(SUBJECTS)))]
    if kind == 0:
        body = f"{subject} {VERBS[int(rng.integers(len(VERBS)))]} {OBJECTS[int(rng.integers(len(OBJECTS)))]}."
    elif kind == 1:
        body = (
            f"{OPENERS[int(rng.integers(len(OPENERS)))]} {subject.lower()} was "
            f"{ADJECTIVES[int(rng.integers(len(ADJECTIVES)))]}."
        )
    elif kind == 2:
        body = (
            f"{subject} is {ADJECTIVES[int(rng.integers(len(ADJECTIVES)))]} "
            f"{EXTRAS[int(rng.integers(len(EXTRAS)))]}."
        )
    elif kind == 3:
        body = CLOSERS[int(rng.integers(len(CLOSERS)))]
    elif kind == 4:
        body = (
            f"{OPENERS[int(rng.integers(len(OPENERS)))]} {subject.lower()} "
            f"{VERBS[int(rng.integers(len(VERBS)))]} {OBJECTS[int(rng.integers(len(OBJECTS)))]} "
            f"{EXTRAS[int(rng.integers(len(EXTRAS)))]}."
        )
    else:
        body = (
            f"{subject} felt {ADJECTIVES[int(rng.integers(len(ADJECTIVES)))]} and "
            f"{ADJECTIVES[int(rng.integers(len(ADJECTIVES)))]}."
        )
    if rng.random() < 0.06:
        body = f"{body} {EMOJI[int(rng.integers(len(EMOJI)))]}"
    return body


class SentenceBank:
    """A ring of sentences with prefix word counts, so a comment is ``(start, count)``."""

    SIZE = 4096

    def __init__(self, seed: int) -> None:
        rng = np.random.default_rng([seed, 0x5E47])
        base = [_sentence(rng) for _ in range(self.SIZE)]
        # Doubled so that any run of up to SIZE sentences is a plain slice.
        self.sentences: list[str] = base + base
        words = np.array([count_words(s) for s in self.sentences], dtype=np.int64)
        self.prefix = np.concatenate([[0], np.cumsum(words)])
        self.edit_note = "Edit: after a rewatch I changed my mind a little."
        self.edit_words = count_words(self.edit_note)

    def runs_for_words(self, starts: np.ndarray, target_words: np.ndarray) -> np.ndarray:
        """The number of sentences from each start needed to reach at least ``target_words``."""
        goal = self.prefix[starts] + target_words
        ends = np.searchsorted(self.prefix, goal, side="left")
        counts = np.maximum(ends - starts, 1)
        return np.asarray(np.minimum(counts, self.SIZE), dtype=np.int64)

    def words(self, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Word counts of the runs ``(start, count)``, vectorised."""
        return np.asarray(self.prefix[starts + counts] - self.prefix[starts], dtype=np.int64)

    def text(self, start: int, count: int, spoiler_tag: bool, edited: bool) -> str:
        """The comment body; a tagged spoiler wraps the last sentence in ``[spoiler]...[/spoiler]``."""
        parts = self.sentences[start : start + count]
        if spoiler_tag:
            parts = [*parts[:-1], f"[spoiler]{parts[-1]}[/spoiler]"]
        body = " ".join(parts)
        if edited:
            body = f"{body} {self.edit_note}"
        return body


def slugify(text: str) -> str:
    """Trakt-style slug: lower case, runs of anything but letters and digits become one dash."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
