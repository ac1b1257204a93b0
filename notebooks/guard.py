"""Skip the rest of a notebook when there is nothing to analyse, so it still runs top to bottom.

Without data every analysis cell would fail on a missing frame, and a run that stops on a
``NameError`` buries the one message that matters ("run ``make demo`` first"). The notebook shows
that message instead and calls :func:`skip_remaining_cells`: IPython then runs every later code
cell as an empty one. The analysis cells stay plain Python, free of ``if have_data:`` blocks.
"""

from __future__ import annotations

from IPython.core.getipython import get_ipython


def _blank(lines: list[str]) -> list[str]:
    """An IPython input transformer that turns any cell into an empty one."""
    del lines
    return []


def skip_remaining_cells() -> bool:
    """Make the current IPython kernel skip every code cell after this one; False outside IPython."""
    shell = get_ipython()
    if shell is None:
        return False
    if _blank not in shell.input_transformers_cleanup:
        shell.input_transformers_cleanup.append(_blank)
    return True
