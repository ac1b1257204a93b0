"""Synthetic Trakt API v2 replayer with a known ground truth.

The replayer serves a deterministic universe of movies, shows, users, comments, replies and
ratings that is generated lazily from ``(seed, titles, now)``; see ``replayer/README.md``.
"""

__all__ = ["__version__"]
__version__ = "0.1.0"
