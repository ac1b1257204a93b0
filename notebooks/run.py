"""Execute the notebooks top to bottom against ``$TRAKT_DATA_DIR``; exit non-zero on any error.

    python -m notebooks.run                      # every notebooks/*.ipynb → $TRAKT_DATA_DIR/notebooks/
    python -m notebooks.run --in-place           # refresh the committed outputs
    python -m notebooks.run --output-dir out notebooks/durability_drivers.ipynb

Each notebook runs in a fresh ``python3`` kernel from the interpreter running this script (so the
project's virtualenv, whatever ``python`` is on PATH), started in the notebook's folder, with
``TRAKT_DATA_DIR`` set and, unless ``--in-place``, ``NOTEBOOK_RESULTS_DIR`` pointing at the output
directory, where a notebook may write its key numbers as JSON. A failing cell is printed with its
source and traceback; the executed notebook is still written so that the error can be read there.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from notebooks.snapshot import MANIFEST, data_dir

NOTEBOOKS = Path(__file__).resolve().parent
RESULTS_ENV = "NOTEBOOK_RESULTS_DIR"
EXIT_FAILED, EXIT_USAGE = 1, 2
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # IPython colours its tracebacks; a CI log wants plain text


class NotebookFailed(RuntimeError):
    """A cell raised, timed out, or the kernel died; the message names the notebook and the cell."""


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """A notebook as nbformat v4 (typed wrapper: nbformat's own functions carry no annotations)."""
    notebook: nbformat.NotebookNode = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    return notebook


def write_notebook(notebook: nbformat.NotebookNode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)  # type: ignore[no-untyped-call]


def execute(
    source: Path, target: Path, *, env: Mapping[str, str] | None = None, timeout: int = 600
) -> nbformat.NotebookNode:
    """Run ``source`` in a fresh kernel and write the executed notebook to ``target``.

    ``env`` is the kernel's whole environment (default: this process's). ``source`` is only read,
    so ``target`` may be a copy elsewhere or ``source`` itself.
    """
    notebook = read_notebook(source)
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=timeout,
        record_timing=False,
        resources={"metadata": {"path": str(source.parent)}},
    )
    failure: str | None = None
    try:
        client.execute(env=dict(env if env is not None else os.environ))
    except CellExecutionError as exc:
        failure = ANSI.sub("", str(exc))
    except (CellTimeoutError, DeadKernelError) as exc:
        failure = f"{type(exc).__name__}: {exc}"
    write_notebook(notebook, target)
    if failure is not None:
        raise NotebookFailed(f"{source.name} failed (executed copy: {target}):\n{failure}")
    return notebook


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m notebooks.run", description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebooks/*.ipynb")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--output-dir", type=Path, help="default: $TRAKT_DATA_DIR/notebooks")
    where.add_argument("--in-place", action="store_true", help="overwrite each notebook with its outputs")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    root = data_dir()
    if not (root / "published" / MANIFEST).is_file():
        print(
            f"notebooks: error: no published snapshot under {root}/published; "
            "run `make demo` first or set TRAKT_DATA_DIR",
            file=sys.stderr,
        )
        return EXIT_USAGE
    sources = args.notebooks or sorted(NOTEBOOKS.glob("*.ipynb"))
    missing = [str(path) for path in sources if not path.is_file()]
    if missing or not sources:
        print(f"notebooks: error: no such notebook: {', '.join(missing) or NOTEBOOKS}", file=sys.stderr)
        return EXIT_USAGE
    output = None if args.in_place else (args.output_dir or root / "notebooks").resolve()
    env = {**os.environ, "TRAKT_DATA_DIR": str(root)}
    if output is not None:
        env[RESULTS_ENV] = str(output)
    failed = 0
    for source in sources:
        target = source if output is None else output / source.name
        try:
            execute(source.resolve(), target, env=env, timeout=args.timeout)
        except NotebookFailed as exc:
            failed += 1
            print(f"notebooks: FAILED {exc}", file=sys.stderr)
            continue
        print(f"notebooks: ok {source.name} -> {target}")
    return EXIT_FAILED if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
