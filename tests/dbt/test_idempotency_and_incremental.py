"""Rebuilding on the same bronze changes nothing; an incremental build equals a full refresh."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from orchestration.pipeline import run_dbt, warehouse_path
from tests.conftest import NOW, UNIVERSE, Built, SecondIngestion, query_warehouse
from tests.dbt.reference import title_metrics
from tests.dbt.test_marts_against_truth import METRICS, _same
from tests.ingest_trakt.support import truth_of

GOLD = [
    "dim_title",
    "dim_user",
    "dim_date",
    "fct_comments",
    "fct_title_ratings_daily",
    "mart_title_engagement",
    "mart_title_engagement_weekly",
]
SILVER = ["stg_trakt__comments", "stg_trakt__titles", "stg_trakt__episodes", "stg_trakt__ratings"]


def table_digests(data_dir: Path, schema: str, tables: list[str]) -> dict[str, str]:
    """SHA-256 of each table's rows in a canonical order (every column, sorted)."""
    digests = {}
    with duckdb.connect(str(warehouse_path(data_dir)), read_only=True) as con:
        for table in tables:
            columns = [r[0] for r in con.execute(f"describe {schema}.{table}").fetchall()]
            order = ", ".join(f'"{c}"' for c in columns)
            rows = con.execute(f"select * from {schema}.{table} order by {order}").fetchall()
            digests[table] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return digests


def assert_equals_full_refresh(
    data: Path,
    tmp_path: Path,
    *,
    dbt_vars: dict[str, Any] | None = None,
    select: list[str] | None = None,
    tables: list[str] = GOLD,
) -> None:
    """A full refresh of the same lake, in a directory of its own, gives the same gold tables as
    the (incremental) build in ``data``."""
    full = tmp_path / "full"
    shutil.copytree(data, full, ignore=shutil.ignore_patterns("warehouse.duckdb*"))
    run_dbt(["run", "--full-refresh", *(select or [])], full, dbt_vars=dbt_vars)
    assert table_digests(data, "gold", tables) == table_digests(full, "gold", tables)


def test_rebuilding_on_the_same_bronze_changes_nothing(built: Built) -> None:
    before = table_digests(built.data_dir, "gold", GOLD) | table_digests(built.data_dir, "silver", SILVER)
    run_dbt(["build"], built.data_dir)
    after = table_digests(built.data_dir, "gold", GOLD) | table_digests(built.data_dir, "silver", SILVER)
    assert after == before


@pytest.mark.parametrize("explicit_as_of", [False, True], ids=["latest", "as_of_var"])
def test_incremental_build_equals_full_refresh(
    second_ingestion: SecondIngestion, tmp_path: Path, explicit_as_of: bool
) -> None:
    """Without vars the second build takes the incremental paths (touched days, pairs, weeks and
    users); with an explicit as_of_date var the per-title models recompute every title."""
    data = tmp_path / "incremental"
    shutil.copytree(second_ingestion.data, data)
    as_of = {"as_of_date": second_ingestion.now[:10]} if explicit_as_of else None
    run_dbt(["build"], data, dbt_vars=as_of)
    assert_equals_full_refresh(data, tmp_path, dbt_vars=as_of)
    # And both equal the truth at the new time.
    truth = truth_of(tmp_path / "truth", as_of=second_ingestion.now, now=NOW, **UNIVERSE)
    rows = query_warehouse(data, "select * from gold.mart_title_engagement")
    expected = title_metrics(list(truth.comments.values()), truth.titles, rows[0]["as_of_date"])
    bad = [(r["title_key"], m) for r in rows for m in METRICS if not _same(r[m], expected[r["title_key"]][m])]
    assert not bad, bad[:5]


def _append_to_bronze(
    lake: Path,
    table: str,
    versions_of: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
    days_later: int = 0,
) -> None:
    """Append to a bronze table the new versions ``versions_of`` makes from its rows, fetched an
    hour (and ``days_later`` days) after its newest row, as a later ingestion lands them."""
    from datetime import timedelta

    import pyarrow as pa
    from deltalake import DeltaTable, write_deltalake

    delta = DeltaTable(str(lake / table))
    rows = delta.to_pyarrow_table().to_pylist()
    fetched_at = max(row["fetched_at"] for row in rows) + timedelta(days=days_later, hours=1)
    stamped = [
        row | {"fetched_at": fetched_at, "ingest_date": fetched_at.date().isoformat()}
        for row in versions_of(rows)
    ]
    write_deltalake(
        str(lake / table),
        pa.Table.from_pylist(stamped, schema=pa.schema(delta.schema().to_arrow())),
        mode="append",
    )


def _now_stamp(days_later: int = 0) -> str:
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC) + timedelta(days=days_later)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _move_release_dates(lake: Path, shifts: dict[str, int]) -> None:
    """Append a new version of some movies with their release date moved by ``shifts`` days, as
    when Trakt corrects a release date: the titles' anchors move between two builds."""
    from datetime import date, timedelta

    def moved(titles: list[dict[str, Any]]) -> list[dict[str, Any]]:
        versions = []
        for row in titles:
            key = f"{row['title_media_type']}:{row['title_trakt_id']}"
            if key in shifts:
                payload = json.loads(row["payload"])
                released = date.fromisoformat(payload["released"]) + timedelta(days=shifts.pop(key))
                payload |= {"released": released.isoformat(), "updated_at": _now_stamp()}
                versions.append(row | {"payload": json.dumps(payload)})
        assert not shifts, f"titles not found in bronze: {shifts}"
        return versions

    _append_to_bronze(lake, "titles", moved)


def test_incremental_weeks_follow_moved_anchors(built: Built, tmp_path: Path) -> None:
    """The weekly mart emits only the weeks that can have changed; a title whose anchor moved is
    emitted whole. An anchor moved a year later shrinks the title's spine (its old last weeks
    must go), one moved a year earlier grows it: both must equal a full refresh. The two longest
    spines more than a year short of the last week shown (520), so that both can move."""
    longest = built.query(
        "select title_key from gold.mart_title_engagement_weekly where media_type = 'movie' "
        "group by title_key having max(week_index) < 520 - 53 order by max(week_index) desc, title_key limit 2"
    )
    assert len(longest) == 2
    later, earlier = (r["title_key"] for r in longest)
    data = tmp_path / "incremental"
    shutil.copytree(built.data_dir, data)
    weeks_before = {
        r["title_key"]: r["weeks"]
        for r in built.query(
            "select title_key, count(*) as weeks from gold.mart_title_engagement_weekly group by title_key"
        )
    }
    _move_release_dates(data / "lake" / "bronze", {later: 365, earlier: -365})
    run_dbt(["run"], data)
    assert_equals_full_refresh(data, tmp_path)
    with duckdb.connect(str(warehouse_path(data)), read_only=True) as con:
        weeks_after = dict(
            con.execute(
                "select title_key, count(*) from gold.mart_title_engagement_weekly group by title_key"
            ).fetchall()
        )
    assert weeks_after[later] < weeks_before[later]
    assert weeks_after[earlier] > weeks_before[earlier]


def test_a_default_build_after_a_look_into_the_past_equals_the_present(built: Built, tmp_path: Path) -> None:
    """An as_of_date var computes the marts as of an earlier day (titles without a comment by then
    have no weekly rows); the next default build must recompute every title, not only the new
    comments' (built_with_as_of(); the weekly mart then replaces its whole table)."""
    data = tmp_path / "data"
    shutil.copytree(built.data_dir, data)
    past = built.query(
        "select cast(min(created_at) + (max(created_at) - min(created_at)) / 2 as date) as day from gold.fct_comments"
    )[0]["day"].isoformat()
    run_dbt(["run"], data, dbt_vars={"as_of_date": past})
    count_titles = "select count(distinct title_key) from gold.mart_title_engagement_weekly"
    with duckdb.connect(str(warehouse_path(data)), read_only=True) as con:
        (titles_then,) = con.execute(count_titles).fetchall()[0]
    (titles_now,) = built.query(count_titles)[0].values()
    assert titles_then < titles_now, "the past must have fewer titles"
    run_dbt(["run"], data)
    assert table_digests(data, "gold", GOLD) == table_digests(built.data_dir, "gold", GOLD)


def _append_comment_versions(
    lake: Path,
    comment_ids: list[int],
    change: Callable[[dict[str, Any], int], dict[str, Any]],
    days_later: int = 0,
) -> None:
    """Append to bronze a version of each comment whose payload ``change(payload, position)``
    returns (an edit, or with a new id, a new comment)."""

    def changed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        latest: dict[int, dict[str, Any]] = {}
        for row in rows:
            key = int(row["record_id"])
            if key in comment_ids and (key not in latest or row["fetched_at"] > latest[key]["fetched_at"]):
                latest[key] = row
        assert sorted(latest) == sorted(comment_ids), "comments not found in bronze"
        versions = []
        for position, comment_id in enumerate(comment_ids):
            payload = change(json.loads(latest[comment_id]["payload"]), position)
            versions.append(
                latest[comment_id] | {"record_id": str(payload["id"]), "payload": json.dumps(payload)}
            )
        return versions

    _append_to_bronze(lake, "comments", changed, days_later)


def _edit_comments(lake: Path, comment_ids: list[int], extra_likes: int, days_later: int = 0) -> None:
    """New versions of some comments (more likes, a later updated_at), as a re-fetch finds when
    people like an old comment: nothing new is said, only counts move."""
    _append_comment_versions(
        lake,
        comment_ids,
        lambda payload, _: (
            payload | {"likes": int(payload["likes"]) + extra_likes, "updated_at": _now_stamp(days_later)}
        ),
        days_later,
    )


def _post_comments_now(
    lake: Path, like_comment_ids: list[int], first_new_id: int, days_later: int = 0
) -> None:
    """New comments, written today (or ``days_later``, and fetched then: the as-of date moves on),
    copies of the given ones (same title and author)."""
    now = _now_stamp(days_later)
    _append_comment_versions(
        lake,
        like_comment_ids,
        lambda payload, position: (
            payload
            | {"id": first_new_id + position, "created_at": now, "updated_at": now, "likes": 0, "replies": 0}
        ),
        days_later,
    )


def test_incremental_weeks_of_a_title_with_only_edited_comments(built: Built, tmp_path: Path) -> None:
    """A title whose only change is more likes on early comments re-emits just those weeks; every
    later week must stay (they are not emitted, and must not be taken for a shrunk spine)."""
    early = built.query(
        "select c.comment_id, w.title_key from gold.fct_comments as c "
        "inner join gold.mart_title_engagement_weekly as w on w.title_trakt_id = c.title_trakt_id "
        "and w.media_type = c.media_type and w.week_index = 0 "
        "where c.days_since_release < 7 and (select max(week_index) from gold.mart_title_engagement_weekly as x "
        "where x.title_key = w.title_key) >= 4 order by c.comment_id limit 1"
    )[0]
    data = tmp_path / "incremental"
    shutil.copytree(built.data_dir, data)
    _edit_comments(data / "lake" / "bronze", [int(early["comment_id"])], extra_likes=5)
    run_dbt(["run"], data)
    assert_equals_full_refresh(data, tmp_path)
    likes = "select sum(likes) as likes from gold.fct_comments"
    with duckdb.connect(str(warehouse_path(data)), read_only=True) as con:
        (after,) = con.execute(likes).fetchall()[0]
    assert after == built.query(likes)[0]["likes"] + 5


def test_incremental_weeks_follow_the_as_of_date(built: Built, tmp_path: Path) -> None:
    """Every title's spine runs to the week of the as-of date, or to its last active week if later,
    at most week 520 (ADR 0009): when a later ingestion moves the as-of date on by 30 days, the
    titles nobody commented on gain their empty weeks too, with the cumulative count they ended at."""
    edited = built.query("select min(comment_id) as comment_id from gold.fct_comments")[0]["comment_id"]
    spans = (
        "select title_key, any_value(anchor_date) as anchor_date, max(week_index) as last_week, "
        "max(week_index) filter (where comment_count > 0) as last_active_week, "
        "max(cumulative_comments) as total from gold.mart_title_engagement_weekly group by title_key"
    )
    as_of_query = "select cast(max(fetched_at) as date) as as_of from silver.stg_trakt__comments"
    before = {r["title_key"]: r for r in built.query(spans)}
    data = tmp_path / "incremental"
    shutil.copytree(built.data_dir, data)
    _edit_comments(data / "lake" / "bronze", [int(edited)], extra_likes=1, days_later=30)
    run_dbt(["run"], data)
    assert_equals_full_refresh(data, tmp_path)
    after = {r["title_key"]: r for r in query_warehouse(data, spans)}
    as_of = query_warehouse(data, as_of_query)[0]["as_of"]
    assert (as_of - built.query(as_of_query)[0]["as_of"]).days >= 30
    assert after.keys() == before.keys()
    for key, title in after.items():
        as_of_week = max((as_of - title["anchor_date"]).days, 0) // 7
        assert title["last_week"] == min(520, max(title["last_active_week"], as_of_week)), key
        assert title["total"] == before[key]["total"], key
    grown = [key for key in before if after[key]["last_week"] > before[key]["last_week"]]
    assert len(grown) > len(before) / 2


def test_incremental_recount_of_week_0_reads_the_pre_release_comments(built: Built, tmp_path: Path) -> None:
    """A comment first seen today can fall in week 0, which also holds the title's pre-release
    comments, however old. The weekly recount reads comments from a literal first day
    (macros/weekly_recount_first_day.sql); for week 0 that must be the title's first comment, not
    its anchor: the new comment's author is new, so week 0 gains exactly one commenter, and the
    pre-release commenters (more than a week before the anchor) must still be counted."""
    early = built.query(
        "select comment_id, title_trakt_id, media_type, anchor_date from gold.fct_comments "
        "where days_since_release < -7 and parent_id = 0 order by days_since_release, comment_id limit 1"
    )[0]
    (top_id,) = built.query("select max(comment_id) as top_id from gold.fct_comments")[0].values()
    week_0 = (
        "select unique_commenters from gold.mart_title_engagement_weekly "
        f"where title_trakt_id = {int(early['title_trakt_id'])} and media_type = '{early['media_type']}' "
        "and week_index = 0"
    )
    data = tmp_path / "incremental"
    shutil.copytree(built.data_dir, data)
    on_anchor_day = f"{early['anchor_date'].isoformat()}T12:00:00.000Z"
    _append_comment_versions(
        data / "lake" / "bronze",
        [int(early["comment_id"])],
        lambda payload, position: (
            payload
            | {
                "id": int(top_id) + 1 + position,
                "created_at": on_anchor_day,
                "updated_at": on_anchor_day,
                "likes": 0,
                "replies": 0,
                "user": payload["user"] | {"username": "late-reader", "ids": {"slug": "late-reader"}},
            }
        ),
    )
    run_dbt(["run"], data)
    assert_equals_full_refresh(data, tmp_path)
    with duckdb.connect(str(warehouse_path(data)), read_only=True) as con:
        (after,) = con.execute(week_0).fetchall()[0]
    assert after == built.query(week_0)[0]["unique_commenters"] + 1


def test_comments_in_date_order_after_full_and_incremental_builds(
    second_ingestion: SecondIngestion, tmp_path: Path
) -> None:
    """int_comments_ordered_by_date holds every current comment once, with its title, author and
    day; a full build stores them in date order (what lets a literal date filter skip row groups),
    and an incremental build appends only the comments it sees for the first time."""
    data = tmp_path / "incremental"
    shutil.copytree(second_ingestion.data, data)
    in_storage_order = (
        "select comment_id, created_date from silver.int_comments_ordered_by_date order by rowid"
    )
    with duckdb.connect(str(warehouse_path(data)), read_only=True) as con:
        before = con.execute(in_storage_order).fetchall()
        (seen_until,) = con.execute(
            "select max(first_fetched_at) from silver.int_comments_ordered_by_date"
        ).fetchall()[0]
    days = [day for _, day in before]
    assert before
    assert days == sorted(days)
    run_dbt(["run"], data)
    same = (
        "select count(*) from silver.stg_trakt__comments as s "
        "full join silver.int_comments_ordered_by_date as o on s.comment_id = o.comment_id "
        "where o.comment_id is null or s.comment_id is null or s.title_trakt_id <> o.title_trakt_id "
        "or s.title_media_type <> o.media_type or s.user_slug is distinct from o.user_slug "
        "or cast(s.created_at as date) <> o.created_date"
    )
    with duckdb.connect(str(warehouse_path(data)), read_only=True) as con:
        (mismatched,) = con.execute(same).fetchall()[0]
        after = con.execute(in_storage_order).fetchall()
        first_seen = {
            r[0]
            for r in con.execute(
                "select comment_id from silver.stg_trakt__comments where first_fetched_at > ?", [seen_until]
            ).fetchall()
        }
    assert mismatched == 0
    # The old rows stay where they were; the comments seen for the first time come after them,
    # themselves in date order.
    assert after[: len(before)] == before
    appended = after[len(before) :]
    assert first_seen
    assert {comment_id for comment_id, _ in appended} == first_seen
    assert [day for _, day in appended] == sorted(day for _, day in appended)


def test_incremental_weeks_past_the_last_week_shown(built: Built, tmp_path: Path) -> None:
    """A new comment past the mart's last week (var weekly_max_week; ten years by default) still
    grows its title's spine from the old last week up to the cap, with empty weeks. The spine runs
    to the as-of week (ADR 0009), so the comment comes three weeks later, and the cap is one week
    past the title's current last week."""
    title = built.query(
        "select w.title_trakt_id, w.media_type, max(w.week_index) as last_week, "
        "max(c.comment_id) as comment_id, (select max(comment_id) from gold.fct_comments) as top_id "
        "from gold.mart_title_engagement_weekly as w inner join gold.fct_comments as c "
        "on c.title_trakt_id = w.title_trakt_id and c.media_type = w.media_type "
        "where w.anchor_date < current_date - 70 and c.parent_id = 0 "
        "group by w.title_trakt_id, w.media_type order by last_week, w.title_trakt_id limit 1"
    )[0]
    cap = {"weekly_max_week": title["last_week"] + 1}
    # Only the weekly mart and what it reads: the cap changes nothing else, and the other gold
    # tables' incremental builds are the other tests' business.
    weekly = ["--select", "+mart_title_engagement_weekly"]
    data = tmp_path / "incremental"
    shutil.copytree(built.data_dir, data)
    run_dbt(["run", "--full-refresh", "--select", "mart_title_engagement_weekly"], data, dbt_vars=cap)
    _post_comments_now(
        data / "lake" / "bronze", [int(title["comment_id"])], int(title["top_id"]) + 1, days_later=21
    )
    run_dbt(["run", *weekly], data, dbt_vars=cap)
    assert_equals_full_refresh(
        data, tmp_path, dbt_vars=cap, select=weekly, tables=["mart_title_engagement_weekly"]
    )
    with duckdb.connect(str(warehouse_path(data)), read_only=True) as con:
        (last_week,) = con.execute(
            "select max(week_index) from gold.mart_title_engagement_weekly "
            "where title_trakt_id = ? and media_type = ?",
            [title["title_trakt_id"], title["media_type"]],
        ).fetchall()[0]
    assert last_week == cap["weekly_max_week"]


def test_builds_skip_duckdb_s_row_group_vacuum_unless_asked(
    built: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """dbt's DuckDB connection runs no vacuum tasks by default (an incremental build would rewrite
    the last row groups of every comment-grain table at each checkpoint, ADR 0006);
    TRAKT_DUCKDB_VACUUM_TASKS, which the weekly Dagster run sets, turns it back on — without
    costing a full parse: dbt keeps its saved parse across the change (the setting lives in a
    plugin, not in the profile's settings, which dbt hashes into its parse state). A malformed
    value stops dbt with one error line and no traceback."""
    data = tmp_path / "data"
    shutil.copytree(built.data_dir, data)
    query = "select current_setting('max_vacuum_tasks') as vacuum_tasks"

    def show_vacuum_tasks() -> tuple[int, set[str]]:
        """The setting dbt's connection has, and the names of the events dbt logged."""
        shown = run_dbt(
            ["--debug", "--log-format", "json", "show", "--inline", query, "--output", "json"], data
        )
        events = [json.loads(line) for line in shown.stdout.splitlines() if line.startswith("{")]
        preview = next(e["data"]["preview"] for e in events if e["info"]["name"] == "ShowNode")
        # The event's preview is the rows alone (stdout wraps them in {"show": ...}).
        return int(json.loads(preview)[0]["vacuum_tasks"]), {e["info"]["name"] for e in events}

    monkeypatch.delenv("TRAKT_DUCKDB_VACUUM_TASKS", raising=False)
    assert show_vacuum_tasks()[0] == 0
    monkeypatch.setenv("TRAKT_DUCKDB_VACUUM_TASKS", "100")
    tasks, events = show_vacuum_tasks()
    assert tasks == 100
    assert "PartialParsingSkipParsing" in events
    assert "UnableToPartialParse" not in events

    monkeypatch.setenv("TRAKT_DUCKDB_VACUUM_TASKS", "lots")
    refused = run_dbt(["show", "--inline", query], data, check=False)
    assert refused.returncode != 0
    output = refused.stdout + refused.stderr
    assert "TRAKT_DUCKDB_VACUUM_TASKS must be a whole number of vacuum tasks" in output
    assert "'lots'" in output
    assert "Traceback" not in output


def test_staging_built_before_the_word_count_moved_stops_and_says_how_to_rebuild(
    built: Built, tmp_path: Path
) -> None:
    """A warehouse whose staging predates word_count and is_spoiler (ADR 0006): an incremental build
    would append them empty for every older comment. It stops instead, with the command that
    rebuilds, leaves the table as it was, and that command gives the same gold as a fresh build."""
    data = tmp_path / "data"
    shutil.copytree(built.data_dir, data)
    with duckdb.connect(str(warehouse_path(data))) as con:
        con.execute("alter table silver.stg_trakt__comments drop column word_count")
        con.execute("alter table silver.stg_trakt__comments drop column is_spoiler")
    before = table_digests(data, "silver", ["stg_trakt__comments"])
    result = run_dbt(["run", "--select", "stg_trakt__comments"], data, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "dbt build --full-refresh --select stg_trakt__comments+" in output
    assert "Traceback" not in output
    assert table_digests(data, "silver", ["stg_trakt__comments"]) == before
    run_dbt(["run", "--full-refresh", "--select", "stg_trakt__comments+"], data)
    assert table_digests(data, "gold", GOLD) == table_digests(built.data_dir, "gold", GOLD)
