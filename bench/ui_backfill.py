"""The backfill as the UI launches it: GraphQL `launchPartitionBackfill` against `make dev`.

bench.py calls `ui_backfill(...)`; the runs are read back from the instance's sqlite files
(`history/runs.db` and one event log per run) for their count, overlap and breakdown.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS))
from webserver import asset_range, launch_backfill, make_dev_address, serve, wait_for_backfill  # noqa: E402

# A year of 4 categories took 4.5 to 10 minutes here; a stuck backfill ends the bench instead.
BACKFILL_TIMEOUT = 3600  # s
# Decimals to which floating-point columns are compared (tables_differ).
FLOAT_DECIMALS = 6
# Run events that mark the phases of a run, by the names sqlite storage keeps for them.
PHASES = {
    "PIPELINE_ENQUEUED": "enqueued",  # created by the backfill daemon, in the run queue
    "PIPELINE_STARTING": "launched",  # taken from the queue, its process being started
    "PIPELINE_START": "started",  # the process has loaded the definitions
    "PIPELINE_SUCCESS": "ended",
    "PIPELINE_FAILURE": "ended",
}


@dataclass
class Launched:
    """What the UI path did: timings from the launch, the backfill's status, its runs."""

    wall: float  # launch mutation to the backfill's final status
    last_run_end: float  # launch mutation to the end of its last run
    status: str
    runs: list[dict]


def run_record(home: Path, run_id: str, status: str, tags: dict[str, str], launched_at: float) -> dict:
    """One run's phases (seconds after the launch) and step times, from its event log."""
    con = sqlite3.connect(home / "history" / "runs" / f"{run_id}.db")
    try:
        rows = con.execute("select dagster_event_type, step_key, timestamp from event_logs order by id").fetchall()
    finally:
        con.close()

    def at(stamp: str) -> float:
        return datetime.fromisoformat(stamp).replace(tzinfo=UTC).timestamp() - launched_at

    marks: dict[str, float] = {}
    step_starts: dict[str, float] = {}
    steps: dict[str, float] = {}
    materializations = 0
    for event_type, step_key, stamp in rows:
        if event_type in PHASES:
            marks.setdefault(PHASES[event_type], at(stamp))
        elif event_type == "STEP_START":
            step_starts[step_key] = at(stamp)
        elif event_type in ("STEP_SUCCESS", "STEP_FAILURE") and step_key in step_starts:
            steps[step_key] = at(stamp) - step_starts[step_key]
        elif event_type == "ASSET_MATERIALIZATION":
            materializations += 1
    launched, start, end = marks.get("launched"), marks.get("started"), marks.get("ended")
    return {
        "run_id": run_id,
        "status": status,
        "range": f"{tags.get('dagster/asset_partition_range_start')}...{tags.get('dagster/asset_partition_range_end')}",
        "steps": steps,
        "materializations": materializations,
        "created": marks.get("enqueued", 0.0),
        "launched": launched,
        "started": start,
        "ended": end,
        # Waiting in the run queue (the one-slot pool holds runs back, besides the run limit).
        "queued": (launched - marks.get("enqueued", 0.0)) if launched is not None else None,
        # Launch to the run's start: the new process, its imports and the definitions load.
        "process_start": (start - launched) if start is not None and launched is not None else None,
        # Inside the run but in no step: waiting for the pool's slot between steps, and the end.
        "between_steps": (end - start - sum(steps.values())) if start is not None and end is not None else None,
    }


def backfill_runs(home: Path, backfill_id: str, launched_at: float) -> list[dict]:
    """Every run of the backfill, in order of creation."""
    con = sqlite3.connect(home / "history" / "runs.db")
    try:
        ids = con.execute(
            "select runs.run_id, runs.status from runs join run_tags on run_tags.run_id = runs.run_id"
            " where run_tags.key = 'dagster/backfill' and run_tags.value = ?",
            (backfill_id,),
        ).fetchall()
        tag_sql = "select key, value from run_tags where run_id = ?"
        tags = {run_id: dict(con.execute(tag_sql, (run_id,))) for run_id, _ in ids}
    finally:
        con.close()
    runs = [run_record(home, run_id, status, tags[run_id], launched_at) for run_id, status in ids]
    return sorted(runs, key=lambda run: run["created"])


def overlap(runs: list[dict]) -> dict:
    """How the runs shared the time: summed run time, time with at least one run, most at once."""
    spans = sorted((run["launched"], run["ended"]) for run in runs if run["launched"] is not None and run["ended"])
    busy, most, edge = 0.0, 0, None
    for start, end in spans:
        if edge is None or start > edge:
            busy += end - start
            edge = end
        elif end > edge:
            busy += end - edge
            edge = end
    for start, _ in spans:
        most = max(most, sum(1 for s, e in spans if s <= start < e))
    return {"summed": sum(end - start for start, end in spans), "busy": busy, "most_at_once": most}


def ui_backfill(
    root: Path, uv: str, env: dict[str, str], log: Path, ranges: list[tuple[str, str, str]], one_by_one: bool = False
) -> Launched:
    """Serve the project with `make dev` (instance in env's DAGSTER_HOME), launch a backfill
    of every (comma-separated assets, first key, last key) in `ranges` as the UI does
    (multi-partition keys: every category in between), and wait for the daemon to finish it.

    One backfill for all ranges, or with `one_by_one` one backfill per range, each launched
    once the one before it is done (the daily assets, then the weekly ones)."""
    selections = [[asset_range(asset, first, last) for asset in assets.split(",")] for assets, first, last in ranges]
    if not one_by_one:
        selections = [[entry for selection in selections for entry in selection]]
    home = Path(env["DAGSTER_HOME"])
    statuses, backfill_ids = [], []
    with serve(["make", "dev", f"UV={uv}"], root, env, log, make_dev_address) as server:
        launched_at = time.time()
        for selection in selections:
            backfill_ids.append(launch_backfill(server.base_url, {"partitionsByAssets": selection, "title": "bench"}))
            statuses.append(wait_for_backfill(server.base_url, backfill_ids[-1], BACKFILL_TIMEOUT))
        wall = time.time() - launched_at
    runs = [run for backfill_id in backfill_ids for run in backfill_runs(home, backfill_id, launched_at)]
    last_end = max((run["ended"] or 0.0 for run in runs), default=0.0)
    status = statuses[0] if len(set(statuses)) == 1 else ", ".join(statuses)
    return Launched(wall=wall, last_run_end=last_end, status=status, runs=runs)


def tables_differ(first: Path, second: Path) -> dict[str, int]:
    """Rows of each table of `first` missing from `second` or the other way round (0: equal).

    Floating-point columns are compared to 6 decimals: a sum over the same rows can end in
    other last bits when DuckDB adds them in another order (other runs, other threads).
    """
    import duckdb  # the template's dev dependencies have it, with dbt-duckdb

    with duckdb.connect() as con:
        con.execute("set enable_progress_bar = false")
        con.execute(f"attach '{first}' as a (read_only)")
        con.execute(f"attach '{second}' as b (read_only)")
        names = con.execute(
            "select schema_name || '.' || table_name from duckdb_tables() where database_name = 'a' order by 1"
        ).fetchall()
        differ = {}
        for (name,) in names:
            columns = con.execute(f"describe a.{name}").fetchall()
            select = ", ".join(
                f"round({column}, {FLOAT_DECIMALS})" if kind in ("DOUBLE", "FLOAT") else column
                for column, kind, *_ in columns
            )
            only_in = "(select count(*) from (select {s} from {x}.{t} except all select {s} from {y}.{t}))"
            (count,) = con.execute(
                "select "
                + only_in.format(s=select, x="a", y="b", t=name)
                + " + "
                + only_in.format(s=select, x="b", y="a", t=name)
            ).fetchone()
            differ[name] = count
        return differ


def report(launched: dict, cli_wall: float | None) -> list[str]:
    """The lines of the bench's report about the UI path: phases, then one row per run."""
    runs = launched["runs"]
    first = min((run["created"] for run in runs), default=0.0)
    shared = overlap(runs)
    lines = [
        f"Backfill launched as the UI does: {len(runs)} runs, status {launched['status']}, "
        f"{launched['wall']:.1f} s from the launch to the backfill's end"
        + (f" ({launched['wall'] / cli_wall:.2f}x the CLI's single run)." if cli_wall else "."),
        "",
        "| Phase | Seconds |",
        "| --- | --- |",
        f"| launch to the first run created (the backfill daemon's next pass, every 30 s) | {first:.1f} |",
        f"| first run created to the end of the last run | {launched['last_run_end'] - first:.1f} |",
        f"| - time with at least one run in progress | {shared['busy']:.1f} |",
        f"| - run time summed over the runs (at most {shared['most_at_once']} at once) | {shared['summed']:.1f} |",
        f"| end of the last run to the backfill marked done (the daemon's next pass) "
        f"| {launched['wall'] - launched['last_run_end']:.1f} |",
        "",
        "| Run (partitions) | Created | Queued | Process start | Steps | Between steps | Ended |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]

    def num(value: float | None) -> str:
        return "" if value is None else f"{value:.1f}"

    for run in runs:
        steps = ", ".join(f"{step} {seconds:.1f}" for step, seconds in run["steps"].items())
        lines.append(
            f"| {run['range']} | {num(run['created'])} | {num(run['queued'])} | {num(run['process_start'])} "
            f"| {steps} | {num(run['between_steps'])} | {num(run['ended'])} |"
        )
    return lines
