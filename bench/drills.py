"""Reliability drills (issue #7): break the pipeline on purpose, recover, and check gold against the truth.

Each drill runs replayer → ingest → dbt build, injects one failure (API faults, kill -9, a vanished
API host, a live clock, schema drift, a locked warehouse, a damaged checkpoint, a full disk, a lost
disk, a rate-limit lockout), lets the pipeline recover the way an operator would (``run --resume``, a
retry, a full re-scan, a restore from the backup), and compares
``gold.fct_comments`` with the replayer's ground truth. A drill passes only when no record is lost,
duplicated or wrong and every exit code is the one the failure should produce.

    python bench/drills.py [--short] [--only NAME ...]

``--short`` uses tiny universes and short outages (what CI runs, via tests/drills); the default is the
long version whose numbers are tabled in docs/reliability.md.

Each run is compared with a baseline (``bench/baselines/drills-long.json``, or ``drills-short.json``
with ``--short``): a drill that now fails, loses, duplicates or corrupts more rows, makes many more
HTTP requests or takes much longer to fail or to recover is a regression, and the runner exits 1.
``--save-baseline`` replaces the baseline's rows with this run's (after a deliberate change),
``--json PATH`` writes the figures, ``--no-baseline`` skips the comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess  # nosec B404  # runs our own CLIs, never a shell
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest.mock import patch

import duckdb
import yaml

ROOT = Path(__file__).resolve().parents[1]
# Run as `python bench/drills.py`, sys.path[0] is bench/, whose replayer.py would shadow the package.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

from ingest_trakt.bronze import BronzeLake  # noqa: E402
from ingest_trakt.state import StateStore  # noqa: E402
from orchestration.pipeline import DbtError, run_dbt, warehouse_path  # noqa: E402
from replayer.process import ReplayerProcess  # noqa: E402
from tests.ingest_trakt.support import KEY, Truth, quarantined_ids, truth_of  # noqa: E402

NOW = "2026-11-01T00:00:00Z"
# A tiny drill ingests in seconds; one still running after this long is hung (and is killed).
HANG_SECONDS = 120
HUNG = -999  # the exit code recorded for a hung ingestion
BASELINES = ROOT / "bench" / "baselines"
# Tolerances of the comparison with the baseline. Requests: retries of randomly injected faults and
# the pages re-read after a kill vary from run to run; a real regression (a resume that re-reads
# every page, a retry loop) multiplies them. Seconds: this machine's runs of one drill differ by up
# to 1.5x; a fail-fast that stopped failing fast, or a recovery that re-scans, costs far more.
REQUESTS_TOLERANCE = 0.25
REQUESTS_NOISE = 50  # below this many more requests, no finding: a few retries either way
SECONDS_FACTOR = 2.0
SECONDS_NOISE = 10.0
LOCKOUT_WORKERS = 4  # the lockout drill's TRAKT_CONCURRENCY (the default), stated so its check can count


@dataclass
class Result:
    """One row of the drill table."""

    drill: str
    params: str
    lost: int = -1
    duplicates: int = -1
    wrong: int = -1
    recover_s: float = 0.0
    exit_codes: list[int] = field(default_factory=list)
    expected_ok: bool = False
    note: str = ""
    skipped: str = ""
    # HTTP requests the ingestion made, as the state store recorded them at the end of the drill
    # (every run in it, a resumed run's processes merged); -1 when there is no state to read.
    requests: int = -1
    # Seconds from the fault to the exit that reports it (the lost API host, the full disk, the
    # damaged checkpoint, the locked warehouse); None for drills whose fault is ridden out.
    fail_s: float | None = None

    @property
    def key(self) -> str:
        return row_key({"drill": self.drill, "params": self.params})

    def as_dict(self) -> dict[str, Any]:
        return {
            "drill": self.drill,
            "params": self.params,
            "verdict": self.verdict,
            "lost": self.lost,
            "duplicates": self.duplicates,
            "wrong": self.wrong,
            "requests": self.requests,
            "fail_s": None if self.fail_s is None else round(self.fail_s, 1),
            "recover_s": round(self.recover_s, 1),
            "exit_codes": self.exit_codes,
            "note": self.skipped or self.note,
        }

    @property
    def verdict(self) -> str:
        if self.skipped:
            return "SKIP"
        clean = self.lost == 0 and self.duplicates == 0 and self.wrong == 0
        return "PASS" if clean and self.expected_ok else "FAIL"

    def row(self) -> str:
        codes = ",".join(str(c) for c in self.exit_codes) or "-"
        note = self.skipped or self.note
        fail = "-" if self.fail_s is None else f"{self.fail_s:.1f}"
        requests = "-" if self.requests < 0 else str(self.requests)
        return (
            f"| {self.drill} | {self.params} | {self.lost} | {self.duplicates} | {self.wrong} "
            f"| {requests} | {fail} | {self.recover_s:.1f} | {codes} | {self.verdict} | {note} |"
        )


HEADER = (
    "| drill | parameters | lost | duplicates | wrong | requests | fail (s) | recover (s) | exit codes "
    "| verdict | notes |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|"
)


def row_key(row: dict[str, Any]) -> str:
    """What matches a row with the baseline's: the drill and its parameters (universe, rates, ...)."""
    return f"{row['drill']} | {row['params']}"


@dataclass(frozen=True)
class Finding:
    """One difference between a drill's row and the baseline's row for the same drill and parameters."""

    key: str
    figure: str
    baseline: Any
    now: Any
    regression: bool

    def line(self) -> str:
        kind = "REGRESSION" if self.regression else "changed"
        return f"{kind}: {self.key}: {self.figure} {self.baseline} -> {self.now}"


def _slower(baseline: float | None, now: float | None) -> bool:
    if baseline is None or now is None:
        return False
    return now > baseline * SECONDS_FACTOR + SECONDS_NOISE


def compare_with_baseline(
    results: list[dict[str, Any]], baseline: list[dict[str, Any]], *, timings: bool = True
) -> list[Finding]:
    """What changed since the baseline, row by row (rows are matched on drill and parameters).

    Regressions: a verdict that is no longer PASS; more lost, duplicated or wrong rows; requests
    above the baseline's by more than REQUESTS_TOLERANCE (and REQUESTS_NOISE); with ``timings``,
    a time to fail or to recover above SECONDS_FACTOR times the baseline's plus SECONDS_NOISE.
    Changed exit codes and rows only one side has are reported, not counted as regressions: a
    drill may accept several exit codes, and a new drill has no baseline yet.
    """
    before = {row_key(row): row for row in baseline}
    findings: list[Finding] = []
    seen = set()
    for row in results:
        key = row_key(row)
        seen.add(key)
        old = before.get(key)
        if old is None:
            findings.append(Finding(key, "row", "absent", "new", regression=False))
            continue
        if row["verdict"] == "SKIP" or old["verdict"] == "SKIP":
            continue
        if row["verdict"] != old["verdict"]:
            findings.append(Finding(key, "verdict", old["verdict"], row["verdict"], row["verdict"] != "PASS"))
        for figure in ("lost", "duplicates", "wrong"):
            if row[figure] != old[figure]:
                findings.append(Finding(key, figure, old[figure], row[figure], row[figure] > old[figure]))
        if old["requests"] >= 0 and row["requests"] >= 0 and row["requests"] != old["requests"]:
            more = row["requests"] - old["requests"]
            regression = more > REQUESTS_NOISE and more > old["requests"] * REQUESTS_TOLERANCE
            findings.append(Finding(key, "requests", old["requests"], row["requests"], regression))
        if row["exit_codes"] != old["exit_codes"]:
            findings.append(
                Finding(key, "exit codes", old["exit_codes"], row["exit_codes"], regression=False)
            )
        if timings:
            for figure in ("fail_s", "recover_s"):
                if _slower(old[figure], row[figure]):
                    findings.append(Finding(key, figure, old[figure], row[figure], regression=True))
    for key in before.keys() - seen:
        findings.append(Finding(key, "row", "present", "not run", regression=False))
    return findings


def load_baseline(path: Path) -> list[dict[str, Any]]:
    """The rows of a baseline file; a clear error (SystemExit) when it cannot be read."""
    try:
        document = json.loads(path.read_text())
        rows = document["drills"]
        if not isinstance(rows, list):
            raise TypeError("drills is not a list")
        return rows
    except FileNotFoundError:
        raise SystemExit(
            f"drills: no baseline at {path} (run once with --save-baseline, or --no-baseline)"
        ) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise SystemExit(f"drills: {path} is not a drills baseline ({type(exc).__name__}: {exc})") from None


def save_baseline(path: Path, results: list[dict[str, Any]], short: bool) -> None:
    """Write this run's rows over the baseline's rows for the same drills and parameters."""
    rows = {row_key(row): row for row in (load_baseline(path) if path.exists() else [])}
    # Without the notes, which name this run's temporary directories; with the day, since the
    # rows of drills not run this time keep theirs.
    today = time.strftime("%Y-%m-%d", time.gmtime())
    rows |= {
        row_key(row): {**{k: v for k, v in row.items() if k != "note"}, "measured_on": today}
        for row in results
        if row["verdict"] != "SKIP"
    }
    document = {"short": short, "drills": list(rows.values())}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1) + "\n")


@dataclass(frozen=True)
class Universe:
    seed: int
    titles: int
    scale: float

    def flags(self) -> dict[str, Any]:
        return {"seed": self.seed, "titles": self.titles, "scale": self.scale}

    def __str__(self) -> str:
        return f"{self.titles} titles x{self.scale}"


class Drill:
    """A drill's working directory, its environment and the shared compare step."""

    def __init__(self, workdir: Path, universe: Universe, short: bool) -> None:
        self.workdir = workdir
        self.universe = universe
        # The short (CI) drills build only what gold.fct_comments needs and skip dbt's data tests,
        # which tests/dbt runs anyway: dbt start-up dominates a tiny drill.
        self.dbt_args = ["run", "--select", "+fct_comments"] if short else ["build"]
        self.data = workdir / "data"
        self.data.mkdir(parents=True, exist_ok=True)

    def env(self, proc_url: str, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "TRAKT_CLIENT_ID": KEY,
            "TRAKT_BASE_URL": proc_url,
            "TRAKT_DATA_DIR": str(self.data),
            "TRAKT_RATE_LIMIT": "100000/1",
            "TRAKT_BACKOFF_BASE_SECONDS": "0.01",
            "TRAKT_BACKOFF_MAX_SECONDS": "0.2",
            "TRAKT_MAX_TITLES": "10000",
            "OPENLINEAGE_DISABLED": "true",
            **extra,
        }

    def spawn(self, url: str, *args: str, **extra: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(  # nosec B603  # our own interpreter and module
            [sys.executable, "-m", "ingest_trakt", "run", *args],
            env=self.env(url, **extra),
            cwd=self.data,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def ingest(self, url: str, *args: str, **extra: str) -> tuple[int, str]:
        """Run ``trakt-ingest run``; a run still going after ``HANG_SECONDS`` is hung: kill it."""
        child = self.spawn(url, *args, **extra)
        try:
            _, err = child.communicate(timeout=HANG_SECONDS)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            return HUNG, f"ingestion hung: no exit after {HANG_SECONDS} s (killed)"
        return child.returncode, err.decode(errors="replace")

    def truth(self, as_of: str | None = None, **flags: Any) -> Truth:
        out = Path(tempfile.mkdtemp(dir=self.workdir, prefix="truth-"))
        return truth_of(out, as_of=as_of, now=NOW, **self.universe.flags(), **flags)

    def build(self) -> int:
        # Only for this call: the drills may run inside the test suite's process.
        with patch.dict(os.environ, {"OPENLINEAGE_DISABLED": "true"}):
            return run_dbt(self.dbt_args, self.data, check=False).returncode

    def requests(self, counter: str = "requests") -> int:
        """A request counter (``requests``, ``rate_limited``, ...) summed over every run the state
        store holds (a resumed run's processes merged); -1 without a state store."""
        state_dir = self.data / "state"
        if not (state_dir / "ingest.sqlite").exists():
            return -1
        state = StateStore(state_dir)
        try:
            summaries = [run["summary"] or {} for run in state.runs(limit=1000)]
        finally:
            state.close()
        return sum(int((summary.get("requests") or {}).get(counter, 0)) for summary in summaries)

    def compare(self, truth: Truth, result: Result) -> None:
        """Lost, duplicated and wrong rows of gold.fct_comments against the truth's valid comments."""
        with duckdb.connect(str(warehouse_path(self.data)), read_only=True) as con:
            rows = con.execute(
                "select comment_id, likes, replies, parent_id, user_slug, title_key, grain "
                "from gold.fct_comments"
            ).fetchall()
        want = truth.valid
        seen: dict[int, tuple[Any, ...]] = {}
        duplicates = 0
        for cid, *values in rows:
            duplicates += cid in seen
            seen[cid] = tuple(values)
        wrong = 0
        for cid, got in seen.items():
            t = want.get(cid)
            expected = (
                None
                if t is None
                else (
                    t["likes"],
                    t["replies"],
                    t["parent_id"],
                    t["user_slug"],
                    f"{t['title_media_type']}:{t['title_trakt_id']}",
                    t["media_type"],
                )
            )
            wrong += expected != got  # a row the truth does not have counts as wrong too
        result.lost = len(set(want) - set(seen))
        result.duplicates = duplicates
        result.wrong = wrong
        result.requests = self.requests()


def has_traceback(text: str) -> bool:
    """A Python traceback, plain or as typer/rich draws it (the ``❱`` marks the failing line)."""
    return "Traceback" in text or "\u2771" in text


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def profile_file(directory: Path, name: str, body: dict[str, Any]) -> Path:
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"name": name, "description": "reliability drill", **body}))
    return path


def chaos_profile(rate: float) -> dict[str, Any]:
    """Transport faults summing to ``rate`` of requests, plus the pagination lies of ``chaos``."""
    return {
        "faults": {
            "server_error": round(rate * 0.6, 4),
            "cloudflare_error": round(rate * 0.2, 4),
            "html_body_share": 0.5,
            "connection_reset": round(rate * 0.1, 4),
            "truncated_json": round(rate * 0.1, 4),
            "latency_spike": 0.01,
            "latency_spike_seconds": 0.2,
            "duplicate_items": 0.05,
            "item_count_off_by_one": 0.3,
            "storm_start": 0.002,
            "storm_seconds": 0.5,
        },
    }


# --- drills --------------------------------------------------------------------------------------


def drill_chaos(workdir: Path, short: bool) -> list[Result]:
    rates = [0.2] if short else [0.05, 0.1, 0.2]
    universe = Universe(11, 10, 0.1) if short else Universe(11, 20, 0.2)
    results = []
    for rate in rates:
        drill = Drill(workdir / f"chaos-{rate}", universe, short)
        path = profile_file(drill.workdir, f"chaos{int(rate * 100)}", chaos_profile(rate))
        result = Result("chaos", f"{universe}, {rate:.0%} of requests fail")
        with ReplayerProcess(now=NOW, profile_file=path, **universe.flags()) as proc:
            start = time.monotonic()
            code, err = drill.ingest(proc.base_url)
            result.exit_codes.append(code)
            result.exit_codes.append(drill.build())
            result.recover_s = time.monotonic() - start
        drill.compare(drill.truth(), result)
        result.expected_ok = result.exit_codes == [0, 0]
        result.note = "ingest + build wall time" if code == 0 else err.strip()[-200:]
        results.append(result)
    return results


def drill_kill9(workdir: Path, short: bool) -> list[Result]:
    points = 3 if short else 10
    universe = Universe(29, 20, 0.3) if short else Universe(29, 60, 0.5)
    drill = Drill(workdir / "kill9", universe, short)
    result = Result("kill -9", f"{universe}, {points} kills")
    rng = random.Random(2026)
    with ReplayerProcess(now=NOW, **universe.flags()) as proc:
        kills = 0
        while kills < points:
            child = drill.spawn(proc.base_url, "--resume", TRAKT_FLUSH_RECORDS="200")
            try:
                child.wait(timeout=rng.uniform(0.8, 2.0) if short else rng.uniform(1.0, 2.5))
                result.exit_codes.append(child.returncode)
                break  # finished before the next kill: the universe was too small for more
            except subprocess.TimeoutExpired:
                child.send_signal(signal.SIGKILL)
                child.wait()
                kills += 1
                result.exit_codes.append(child.returncode)
        start = time.monotonic()
        code, err = 0, ""
        if kills == points:  # else the last child finished the run: a resume would start another
            code, err = drill.ingest(proc.base_url, "--resume")
            result.exit_codes.append(code)
        result.exit_codes.append(drill.build())
        result.recover_s = time.monotonic() - start
    state = StateStore(drill.data / "state")
    runs = len(state.runs())
    state.close()
    drill.compare(drill.truth(), result)
    result.expected_ok = (
        kills == points and result.exit_codes[-2:] == [0, 0] and runs == 1
    )  # every restart resumed the same run
    result.note = f"{kills} kills landed, {runs} run(s) in state; recover = final resume + build"
    if code:
        result.note += f"; {err.strip()[-200:]}"
    return [result]


def drill_api_gone(workdir: Path, short: bool) -> list[Result]:
    outage = 3.0 if short else 30.0
    universe = Universe(5, 20, 0.3) if short else Universe(5, 30, 0.3)
    drill = Drill(workdir / "api-gone", universe, short)
    result = Result("API gone", f"{universe}, replayer killed for {outage:.0f} s")
    port = free_port()
    proc = ReplayerProcess(now=NOW, port=port, **universe.flags()).start()
    child = drill.spawn(proc.base_url, TRAKT_FLUSH_RECORDS="200")
    try:
        time.sleep(1.0)
        proc.kill()
        killed_at = time.monotonic()
        try:  # the fail-fast exits during the outage: time it (communicate keeps reading stderr)
            child.communicate(timeout=outage)
            result.fail_s = time.monotonic() - killed_at
        except subprocess.TimeoutExpired:
            pass  # still retrying when the API comes back (it may ride the outage out)
        time.sleep(max(0.0, outage - (time.monotonic() - killed_at)))
        proc = ReplayerProcess(now=NOW, port=port, **universe.flags()).start()
        child.communicate(timeout=900)
        if result.fail_s is None and child.returncode != 0:  # failed only after the API was back
            result.fail_s = time.monotonic() - killed_at
        result.exit_codes.append(child.returncode)
        if child.returncode == 0:
            result.fail_s = None  # it rode the outage out: nothing failed
        else:  # fail-fast on a lost host: the operator resumes
            code, _ = drill.ingest(proc.base_url, "--resume")
            result.exit_codes.append(code)
        result.exit_codes.append(drill.build())
        result.recover_s = time.monotonic() - killed_at - outage
    finally:
        proc.__exit__(None, None, None)
    drill.compare(drill.truth(), result)
    first = result.exit_codes[0]
    # A 30 s outage must trip the fail-fast (exit 4); so does discovery lost to connection failures
    # (it once ended in exit 1 when the 3 s outage began before discovery). In the short version the
    # last task can still use up its retries before 20 connection failures in a row are seen (exit
    # 1, tasks given up): either way nothing is lost and --resume completes.
    allowed = (0, 4) if not short else (0, 1, 4)
    result.expected_ok = first in allowed and result.exit_codes[-2:] == [0, 0]
    result.note = (
        "first run rode out the outage" if first == 0 else f"first run exited {first}, then --resume"
    ) + "; recover = after the API is back"
    return [result]


def drill_schema_drift(workdir: Path, short: bool) -> list[Result]:
    universe = Universe(13, 12, 0.2) if short else Universe(13, 30, 0.3)
    drill = Drill(workdir / "drift", universe, short)
    body = {
        "drift": {
            "extra_fields": 0.1,
            "legacy_user_rating": 0.2,
            "missing_optional": 0.1,
            "contract_break": 0.01,
        }
    }
    path = profile_file(drill.workdir, "drift", body)
    result = Result("schema drift", f"{universe}, 1% contract breaks, 40% drift")
    with ReplayerProcess(now=NOW, profile_file=path, **universe.flags()) as proc:
        start = time.monotonic()
        code, _ = drill.ingest(proc.base_url)
        result.exit_codes += [code, drill.build()]
        result.recover_s = time.monotonic() - start
    truth = drill.truth(profile_file=str(path))
    drill.compare(truth, result)
    quarantined = quarantined_ids(drill.data)
    state = StateStore(drill.data / "state")
    drift = state.drift()
    state.close()
    exact = quarantined == truth.invalid
    result.expected_ok = exact and bool(drift) and result.exit_codes == [0, 0]
    result.note = (
        f"quarantine {'==' if exact else '!='} truth ({len(quarantined)} vs {len(truth.invalid)}); "
        f"{len(drift)} drift kinds reported"
    )
    return [result]


LOCKER = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
time.sleep(600)
"""


def drill_warehouse_lock(workdir: Path, short: bool) -> list[Result]:
    universe = Universe(17, 8, 0.1) if short else Universe(17, 20, 0.2)
    drill = Drill(workdir / "lock", universe, short)
    result = Result("warehouse locked", f"{universe}, another process holds the DuckDB file")
    with ReplayerProcess(now=NOW, **universe.flags()) as proc:
        code, _ = drill.ingest(proc.base_url)
        result.exit_codes.append(code)
    warehouse = warehouse_path(drill.data)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    duckdb.connect(str(warehouse)).close()
    locker = subprocess.Popen(  # nosec B603  # our own interpreter
        [sys.executable, "-c", LOCKER, str(warehouse)], stdout=subprocess.PIPE
    )
    try:
        assert locker.stdout is not None  # nosec B101  # narrowing for mypy
        locker.stdout.readline()
        # What an operator reads is run_dbt's error (make pipeline prints it, Dagster shows it).
        message = ""
        with patch.dict(os.environ, {"OPENLINEAGE_DISABLED": "true"}):
            blocked = time.monotonic()
            try:
                run_dbt(drill.dbt_args, drill.data)
                result.exit_codes.append(0)
            except DbtError as exc:
                result.exit_codes.append(exc.exit_code)
                result.fail_s = time.monotonic() - blocked
                message = str(exc)
        clear = "\n" not in message and "locked by another process" in message
        traceback = has_traceback(message)
    finally:
        locker.kill()
        locker.wait()
    released = time.monotonic()
    result.exit_codes.append(drill.build())
    result.recover_s = time.monotonic() - released
    drill.compare(drill.truth(), result)
    result.expected_ok = result.exit_codes[0] == 0 and result.exit_codes[1] != 0 and clear
    result.expected_ok &= result.exit_codes[2] == 0
    result.note = (
        f"blocked build's error is {'one line naming the lock' if clear else 'NOT one line naming the lock'}"
    )
    if traceback:
        result.note += " (with a Python traceback)"
    result.note += "; recover = retry after release"
    return [result]


def drill_checkpoint(workdir: Path, short: bool) -> list[Result]:
    universe = Universe(19, 10, 0.15) if short else Universe(19, 20, 0.2)
    results = []
    for damage in ("corrupted",) if short else ("corrupted", "deleted"):
        drill = Drill(workdir / f"checkpoint-{damage}", universe, short)
        result = Result("checkpoint", f"{universe}, state store {damage}")
        with ReplayerProcess(now=NOW, **universe.flags()) as proc:
            code, _ = drill.ingest(proc.base_url)
            result.exit_codes.append(code)
            state_dir = drill.data / "state"
            if damage == "deleted":
                shutil.rmtree(state_dir)
                detected = True  # nothing to detect: no state means a first run
            else:
                for path in state_dir.glob("ingest.sqlite*"):
                    path.write_bytes(b"this is not a sqlite database\x00" * 64)
            start = time.monotonic()
            code, err = drill.ingest(proc.base_url, "--resume")
            result.exit_codes.append(code)
            if damage == "corrupted":
                result.fail_s = time.monotonic() - start
                detected = code != 0 and not has_traceback(err)
                result.note = err.strip().splitlines()[-1][:160] if err.strip() else "no message"
                shutil.rmtree(state_dir)  # the operator's fix: move the state away
            code, err = drill.ingest(proc.base_url, "--full-refresh")
            result.exit_codes += [code, drill.build()]
            result.recover_s = time.monotonic() - start
        drill.compare(drill.truth(), result)
        result.expected_ok = detected and result.exit_codes[-2:] == [0, 0]
        if damage == "deleted":
            result.note = "--resume starts afresh, --full-refresh re-scans"
        results.append(result)
    return results


@contextmanager
def tmpfs(path: Path, size: str) -> Iterator[str | None]:
    """Mount a small tmpfs at ``path``; yields the reason when mounting is not permitted."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(  # nosec B603 B607  # mount(8) with fixed arguments
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        yield f"mount -t tmpfs not permitted: {mounted.stderr.strip()[:120]}"
        return
    try:
        yield None
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)  # nosec


def drill_disk_full(workdir: Path, short: bool) -> list[Result]:
    universe = Universe(23, 15, 0.3) if short else Universe(23, 30, 0.5)
    size = "1m" if short else "2m"
    result = Result("disk full", f"{universe}, lake on a {size} tmpfs")
    mount_point = workdir / "disk-full" / "mnt"
    with tmpfs(mount_point, size) as reason:
        if reason:
            result.skipped = reason
            return [result]
        drill = Drill(mount_point, universe, short)
        with ReplayerProcess(now=NOW, **universe.flags()) as proc:
            started = time.monotonic()
            code, err = drill.ingest(proc.base_url, TRAKT_FLUSH_RECORDS="200")
            result.exit_codes.append(code)
            if code != 0:
                result.fail_s = time.monotonic() - started  # from the start: the disk fills as it runs
            lake = BronzeLake(drill.data / "lake" / "bronze")
            readable = []
            for table in ("titles", "comments", "episodes", "ratings", "quarantine"):
                try:
                    lake.read(table)
                    readable.append(table)
                except Exception as exc:  # any failure to read is the finding
                    result.note += f"{table} unreadable: {str(exc)[:80]}; "
            traceback = has_traceback(err)
            if traceback:
                result.note += "a Python traceback was printed; "
            if code != 5:
                result.note += f"first run said: {(err.strip().splitlines() or ['nothing'])[-1][:200]}; "
            # Recovery: move the data to a roomy disk and resume.
            roomy = Drill(workdir / "disk-full" / "roomy", universe, short)
            shutil.rmtree(roomy.data)
            shutil.copytree(drill.data, roomy.data)
            start = time.monotonic()
            code, _ = roomy.ingest(proc.base_url, "--resume")
            result.exit_codes += [code, roomy.build()]
            result.recover_s = time.monotonic() - start
        roomy.compare(roomy.truth(), result)
    result.expected_ok = (
        result.exit_codes[0] == 5 and not traceback and len(readable) == 5 and result.exit_codes[1:] == [0, 0]
    )
    result.note += f"{len(readable)}/5 tables readable after the failure; recover = copy + --resume"
    return [result]


def drill_live_clock(workdir: Path, short: bool) -> list[Result]:
    universe = Universe(37, 12, 0.2) if short else Universe(37, 20, 0.3)
    speed = 86_400.0  # a universe day per wall second: new comments, edits and likes during the run
    drill = Drill(workdir / "live", universe, short)
    result = Result("live clock", f"{universe}, clock x{speed:.0f}, then incremental")
    with ReplayerProcess(now=NOW, clock="live", speed=speed, **universe.flags()) as proc:
        code, err = drill.ingest(proc.base_url)
        result.exit_codes.append(code)
        frozen = proc.clock(freeze=True)
        as_of = str(frozen.get("now") or proc.health()["now"])
        start = time.monotonic()
        code, err = drill.ingest(proc.base_url)
        result.exit_codes += [code, drill.build()]
        result.recover_s = time.monotonic() - start
    drill.compare(drill.truth(as_of=as_of), result)
    result.expected_ok = result.exit_codes == [0, 0, 0]
    result.note = f"truth as of {as_of}; recover = incremental run + build"
    if code:
        result.note += f"; {err.strip()[-160:]}"
    return [result]


def drill_lockout(workdir: Path, short: bool) -> list[Result]:
    """The client overshoots a budget it was not told, and the API locks its key out (Trakt was seen
    to refuse everything for about five minutes after repeated 429s). The run must wait each
    ``Retry-After`` out and adopt the budget the 429 states, not knock on the locked door."""
    lockout = 3.0 if short else 30.0
    universe = Universe(41, 10, 0.1) if short else Universe(41, 30, 0.3)
    # Well under what the client does unthrottled on a slow machine, so the lockout always happens.
    budget = "30/1" if short else "200/4"
    drill = Drill(workdir / "lockout", universe, short)
    # No X-Ratelimit on successful answers: the client learns the budget from the first 429 only.
    path = profile_file(drill.workdir, "lockout", {"lockout_seconds": lockout})
    result = Result("lockout", f"{universe}, {budget} per key, {lockout:.0f} s lockout after a 429")
    with ReplayerProcess(now=NOW, profile_file=path, rate_limit=budget, **universe.flags()) as proc:
        start = time.monotonic()
        code, err = drill.ingest(proc.base_url, TRAKT_CONCURRENCY=str(LOCKOUT_WORKERS))
        result.exit_codes += [code, drill.build()]
        result.recover_s = time.monotonic() - start
    drill.compare(drill.truth(), result)
    refused = drill.requests("rate_limited")
    # At least one 429, or the drill did not drill anything. Each worker may have a request in
    # flight when the lockout starts; one more after waiting would mean it came back before the
    # lockout ended or ignored the stated budget.
    result.expected_ok = result.exit_codes == [0, 0] and 1 <= refused <= LOCKOUT_WORKERS
    result.note = f"{refused} answers 429 for {LOCKOUT_WORKERS} workers; recover = ingest + build wall time"
    if code:
        result.note += f"; {err.strip()[-160:]}"
    return [result]


def drill_disk_lost(workdir: Path, short: bool) -> list[Result]:
    """The data directory's disk is lost two days after the last backup: restore the backup into a
    new directory (make restore), then the next incremental run and build must end at the truth
    of the moment, comments posted and edited since the backup included."""
    universe = Universe(29, 10, 0.2) if short else Universe(29, 30, 0.5)
    drill = Drill(workdir / "disk-lost", universe, short)
    backup = drill.workdir / "backup"
    result = Result("disk lost", f"{universe}, lost 2 days after the backup, then restored")

    def backup_command(proc_url: str, *args: str) -> int:
        return subprocess.run(  # nosec B603  # our own interpreter and module
            [sys.executable, "-m", "orchestration.backup", *args],
            env={k: v for k, v in drill.env(proc_url).items() if k != "TRAKT_BACKUP_DIR"},
            capture_output=True,
            check=False,
            timeout=HANG_SECONDS,
        ).returncode

    with ReplayerProcess(now=NOW, **universe.flags()) as proc:
        code, _ = drill.ingest(proc.base_url)
        result.exit_codes += [code, backup_command(proc.base_url, "create", "--to", str(backup))]
        moved = proc.clock(advance_seconds=2 * 86_400)
        code, _ = drill.ingest(proc.base_url)  # what the lost disk held beyond the backup
        result.exit_codes.append(code)
        shutil.rmtree(drill.data)
        start = time.monotonic()
        result.exit_codes.append(backup_command(proc.base_url, "restore", "--from", str(backup)))
        code, err = drill.ingest(proc.base_url)
        result.exit_codes += [code, drill.build()]
        result.recover_s = time.monotonic() - start
    drill.compare(drill.truth(as_of=str(moved["now"])), result)
    state = StateStore(drill.data / "state")
    try:
        modes = [(run["summary"] or {}).get("mode") for run in state.runs(limit=10)]
    finally:
        state.close()
    # The restored state holds the run before the backup and the one after the restore, which must
    # have resumed from the restored checkpoints (a lost state store would make it a full scan).
    result.expected_ok = result.exit_codes == [0, 0, 0, 0, 0, 0] and modes[:1] == ["incremental"]
    result.note = f"runs in the restored state, newest first: {modes}; recover = restore + ingest + build"
    if code:
        result.note += f"; {err.strip()[-160:]}"
    return [result]


DRILLS: dict[str, Callable[[Path, bool], list[Result]]] = {
    "chaos": drill_chaos,
    "kill9": drill_kill9,
    "api-gone": drill_api_gone,
    "live-clock": drill_live_clock,
    "schema-drift": drill_schema_drift,
    "warehouse-lock": drill_warehouse_lock,
    "checkpoint": drill_checkpoint,
    "disk-full": drill_disk_full,
    "disk-lost": drill_disk_lost,
    "lockout": drill_lockout,
}


def run(names: list[str], short: bool, workdir: Path) -> list[Result]:
    results: list[Result] = []
    print(HEADER, flush=True)
    for name in names:
        started = time.monotonic()
        try:
            rows = DRILLS[name](workdir / name, short)
        except Exception as exc:  # a drill that crashes is a failed drill, not a crash
            rows = [Result(name, "-", note=f"drill crashed: {type(exc).__name__}: {str(exc)[:200]}")]
        for row in rows:
            print(row.row(), flush=True)
        print(f"<!-- {name}: {time.monotonic() - started:.1f} s -->", flush=True)
        results += rows
    return results


def default_baseline(short: bool) -> Path:
    return BASELINES / ("drills-short.json" if short else "drills-long.json")


def report_findings(findings: list[Finding], baseline: Path, timings: bool) -> int:
    """Print the comparison with the baseline; the number of regressions."""
    regressions = [f for f in findings if f.regression]
    print(f"\nCompared with {baseline}" + ("" if timings else " (timings not compared)") + ":")
    for finding in findings:
        print(f"  {finding.line()}")
    if not findings:
        print("  every figure as in the baseline (within its tolerances)")
    print(f"  {len(regressions)} regression(s)", flush=True)
    return len(regressions)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="tiny universes and short outages (CI)")
    parser.add_argument("--only", nargs="+", choices=sorted(DRILLS), metavar="NAME", help="drills to run")
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write this run's figures as JSON")
    parser.add_argument(
        "--baseline", type=Path, metavar="PATH", help="compare with this baseline (default: bench/baselines/)"
    )
    parser.add_argument("--no-baseline", action="store_true", help="do not compare with a baseline")
    parser.add_argument(
        "--no-timings", action="store_true", help="compare counts only, not times (for a loaded machine)"
    )
    parser.add_argument(
        "--save-baseline", action="store_true", help="write this run's rows into the baseline instead"
    )
    args = parser.parse_args(argv)
    names = args.only or list(DRILLS)
    baseline_path = args.baseline or default_baseline(args.short)
    # Read the baseline before hours of drills, so a wrong path fails at once.
    baseline = None if args.no_baseline or args.save_baseline else load_baseline(baseline_path)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        results = run(names, args.short, args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="drills-") as tmp:
            results = run(names, args.short, Path(tmp))
    rows = [r.as_dict() for r in results]
    if args.json:
        args.json.write_text(json.dumps({"short": args.short, "drills": rows}, indent=1) + "\n")
    failed = [r for r in results if r.verdict == "FAIL"]
    if args.save_baseline:
        if failed:
            print(f"\nNot saved: {len(failed)} drill(s) failed; a baseline holds passing drills only.")
        else:
            save_baseline(baseline_path, rows, args.short)
            print(f"\nBaseline saved: {baseline_path}")
    regressions = 0
    if baseline is not None:
        findings = compare_with_baseline(rows, baseline, timings=not args.no_timings)
        regressions = report_findings(findings, baseline_path, timings=not args.no_timings)
    return 1 if failed or regressions else 0


if __name__ == "__main__":
    sys.exit(main())
