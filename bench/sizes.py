"""The command line the benchmarks over lake sizes share: ``--sizes N [N ...]``, one run per size."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

DEFAULT_SIZES = (1_000_000, 10_000_000)


def run_sizes(
    description: str, heading: str, one_size: Callable[[int], None], argv: Sequence[str] | None = None
) -> None:
    """Parse ``--sizes`` (comments; default 1M and 10M), print ``heading``, run ``one_size`` on each."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    args = parser.parse_args(argv)
    print(f"# {heading}")
    for size in args.sizes:
        one_size(size)
