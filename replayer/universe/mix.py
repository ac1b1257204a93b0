"""Stateless pseudo-random numbers: a SplitMix64 finaliser over (seed, key, salt).

Used where a value must be a pure function of an identifier (a user, a comment, a request) and
constructing a numpy generator per identifier would be too slow for the serving path.
"""

from __future__ import annotations

MASK64 = (1 << 64) - 1


def mix64(*parts: int) -> int:
    """Hash integers to a well-mixed unsigned 64-bit integer (deterministic across runs)."""
    z = 0x9E3779B97F4A7C15
    for part in parts:
        z = (z ^ (part & MASK64)) * 0xBF58476D1CE4E5B9 & MASK64
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB & MASK64
        z ^= z >> 31
        z = (z + 0x9E3779B97F4A7C15) & MASK64
    return z


def unit(*parts: int) -> float:
    """A uniform float in [0, 1) from the hash of ``parts``."""
    return (mix64(*parts) >> 11) * (1.0 / (1 << 53))
