"""What a measured run left behind: its Dagster event log and its dbt results and logs."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path


def read_event_log(home: Path, started: float) -> list[dict]:
    """Per run: step durations and event counts from the sqlite event log in `home`."""
    runs_dir = home / "history" / "runs"
    runs = []
    for db in sorted(runs_dir.glob("*.db")):
        if db.name == "index.db":
            continue
        con = sqlite3.connect(db)
        try:
            rows = con.execute("select dagster_event_type, step_key, timestamp from event_logs order by id").fetchall()
        finally:
            con.close()
        if not rows:
            continue

        def ts(value: str) -> float:
            return datetime.fromisoformat(value).replace(tzinfo=UTC).timestamp()

        counts: dict[str, int] = {}
        steps: dict[str, dict[str, float]] = {}
        marks: dict[str, float] = {}
        for event_type, step_key, stamp in rows:
            if event_type is None:
                continue
            counts[event_type] = counts.get(event_type, 0) + 1
            moment = ts(stamp)
            marks.setdefault("first_event", moment)
            if event_type in ("RUN_START", "RUN_SUCCESS", "RUN_FAILURE", "PIPELINE_START", "PIPELINE_SUCCESS"):
                marks[event_type] = moment
            if step_key and event_type in ("STEP_START", "STEP_SUCCESS", "STEP_FAILURE", "STEP_OUTPUT"):
                steps.setdefault(step_key, {}).setdefault(event_type, moment)
        marks["last_event"] = ts(rows[-1][2])
        run = {
            "run_db": db.name,
            "counts": counts,
            "startup": marks["first_event"] - started,
            "create_run": marks.get("RUN_START", marks.get("PIPELINE_START", marks["first_event"]))
            - marks["first_event"],
            "steps": {
                step: times.get("STEP_SUCCESS", times.get("STEP_FAILURE", marks["last_event"])) - times["STEP_START"]
                for step, times in steps.items()
                if "STEP_START" in times
            },
            # The first output of a step: its own work is done, its events follow.
            "step_outputs": {
                step: times["STEP_OUTPUT"] - times["STEP_START"]
                for step, times in steps.items()
                if "STEP_START" in times and "STEP_OUTPUT" in times
            },
            "step_starts": {
                step: times["STEP_START"] - started for step, times in steps.items() if "STEP_START" in times
            },
            "run_end": marks["last_event"] - started,
        }
        runs.append(run)
    runs.sort(key=lambda r: r["startup"])
    # A later run of the same command starts where the one before it ended.
    for before, run in zip(runs, runs[1:], strict=False):
        run["startup"] -= before["run_end"]
    return runs


def read_dbt_results(target: Path, started: float) -> list[dict]:
    """dbt invocations written under target/ since `started`: elapsed, parse, models, tests."""
    found = []
    for results in target.glob("*/run_results.json"):
        if results.stat().st_mtime < started:
            continue
        data = json.loads(results.read_text())
        models = [r for r in data["results"] if r["unique_id"].startswith("model.")]
        tests = [r for r in data["results"] if r["unique_id"].startswith("test.")]
        log_times = read_dbt_log(results.parent / "dbt.log")
        invoked = datetime.fromisoformat(data["metadata"]["invocation_started_at"].replace("Z", "+00:00"))
        generated = datetime.fromisoformat(data["metadata"]["generated_at"].replace("Z", "+00:00"))
        first_log = log_times.get("MainReportVersion", invoked.timestamp())
        parsed = log_times.get("FoundStats", first_log)
        found.append(
            {
                "dir": results.parent.name,
                "invocation": (generated - invoked).total_seconds(),
                "elapsed": data.get("elapsed_time"),
                # From dbt's first log line (its imports done) to "Found N models": project
                # load and parse (never partial here: the vars change on every run).
                "parse": parsed - first_log,
                "execute": log_times.get("CommandCompleted", generated.timestamp()) - parsed,
                "models": {r["unique_id"].split(".")[-1]: round(r["execution_time"], 3) for r in models},
                "tests_total": round(sum(r["execution_time"] for r in tests), 3),
                "tests": len(tests),
                "first_log": first_log - started,
                "invoked_at": invoked.timestamp() - started,
                "partial_parse_refused": log_times.get("UnableToPartialParse") is not None,
            }
        )
    found.sort(key=lambda r: r["invoked_at"])
    return found


def read_dbt_log(path: Path) -> dict[str, float]:
    """Epoch time of the first event of each name in a dbt JSON log."""
    times: dict[str, float] = {}
    if not path.exists():
        return times
    for line in path.read_text().splitlines():
        try:
            info = json.loads(line)["info"]
        except (ValueError, KeyError):
            continue
        if info["name"] not in times:
            times[info["name"]] = datetime.fromisoformat(info["ts"].replace("Z", "+00:00")).timestamp()
    return times
