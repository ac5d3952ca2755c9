"""The bench's scale section: what a project costs against its categories and years of history.

`make bench BENCH_ARGS=--scale` (or `python bench/scale.py` in the template's venv). For every
number of categories (C0001, C0002, ...) and every history length (daily partitions from that
many years before today), a project is rendered and measured for:
- definitions load (a new process importing the code location);
- one automation evaluation, twice in a row, on an empty instance (automation_ticks.py);
- a new day: scripts/backfill.py for yesterday alone, every category (the daily chain in
  one run), on a new sqlite instance on disk, as `make dev` keeps one;
- a backfill of the last BACKFILL_DAYS days of every category (scripts/backfill.py) on the
  sqlite instance `make dev` uses (on disk), then the same on the PostgreSQL instance of
  deploy/dagster.yaml (a throwaway local server): wall time, materializations stored, and the
  raw daily step's time per materialization (its rows are few: storing events dominates);
- the automation evaluation again, on the sqlite instance that now holds the backfill;
- the UI's queries against that instance: a daily asset's partition status and health, and
  the launch of a backfill of one day of every category.
Each partitioning choice asked for (--partitioning) is measured the same way; --backfill-days
sets the backfill's length (a year: 365).
The table goes to bench/results/scale.md, details to scale.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import sys
import time
from contextlib import closing, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench_project import render
from measuring import RESULTS, TEMPLATE, Measure, machine, measure, versions
from run_records import read_event_log
from scale_report import build_table

TESTS = TEMPLATE / "tests"
sys.path.insert(0, str(TESTS))
from postgres_server import PostgresServer, throwaway_server  # noqa: E402
from webserver import ServerError, asset_range, graphql, host_and_port, launch_backfill, serve  # noqa: E402

SLUG = "scale_pipeline"
TICKS_SCRIPT = TEMPLATE / "bench" / "automation_ticks.py"
BACKFILL_DAYS = 14
ROWS = 24  # raw rows per (day, category): the project's default, so storing events dominates
DAILY_ASSET = "daily_raw_data"
DAILY_STEP = "daily_raw_data"
RAW_MATERIALIZATIONS_SQL = (
    "select count(*) from event_logs where dagster_event_type = 'ASSET_MATERIALIZATION' and step_key = ?"
)
# What the asset page asks for a partitioned asset (the UI's PartitionHealthQuery and its
# partition counts).
PARTITION_HEALTH = """query Health($key: AssetKeyInput!) {
  assetNodeOrError(assetKey: $key) {
    ... on AssetNode {
      partitionKeysByDimension { name partitionKeys }
      partitionStats { numMaterialized numPartitions numFailed numMaterializing }
      assetPartitionStatuses {
        __typename
        ... on MultiPartitionStatuses { primaryDimensionName ranges { primaryDimStartKey primaryDimEndKey } }
      }
    }
  }
}"""


def categories(count: int) -> list[str]:
    return [f"C{index:04d}" for index in range(1, count + 1)]


def answers(count: int, years: int, partitioning: str) -> dict[str, str]:
    first_day = datetime.now(UTC).date() - timedelta(days=365 * years)
    return {
        "project_name": "Scale Pipeline",
        "project_slug": SLUG,
        "category_values": ",".join(categories(count)),
        "daily_start_date": str(first_day),
        "partitioning": partitioning,
    }


def day_keys(partitioning: str, count: int, day: str) -> tuple[str, str]:
    """The first and last partition key of one day of every category."""
    if partitioning == "time":
        return day, day
    return f"{categories(count)[0]}|{day}", f"{categories(count)[-1]}|{day}"


class ScaleProject:
    """A rendered project of the scale section: its commands, each measured."""

    def __init__(self, root: Path, work: Path, uv: str):
        self.root, self.work, self.uv = root, work, uv
        self.logs = work / "logs"
        self.python = root / ".venv" / "bin" / "python"

    def env(self, home: Path | None = None, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "DAGSTER_HOME", "PYTHONPATH"}}
        env["PATH"] = f"{self.root / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env.update(RAW_ROWS_PER_PARTITION=str(ROWS), DUCKDB_DATABASE=str(self.work / "warehouse.duckdb"))
        if home is not None:
            env["DAGSTER_HOME"] = str(home)
        env.update(extra)
        return env

    def home(self, name: str, config: Path) -> Path:
        home = self.work / "homes" / name
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        shutil.copy(config, home / "dagster.yaml")
        return home

    def ticks(self, name: str, home: Path | None, ticks: int = 2) -> dict:
        cmd = [str(self.python), str(TICKS_SCRIPT), f"{SLUG}.definitions", str(ticks)]
        result = measure(name, cmd, self.root, self.env(home), self.logs, check=False)
        lines = Path(TEMPLATE / result.log).read_text().splitlines() if result.returncode == 0 else []
        found = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
        return {"measure": result.__dict__, **found}

    def backfill(self, name: str, home: Path, days: int, **extra: str) -> Measure:
        """scripts/backfill.py over the last `days` days, every category, on a new warehouse."""
        (self.work / "warehouse.duckdb").unlink(missing_ok=True)
        last = datetime.now(UTC).date() - timedelta(days=1)
        cmd = [str(self.python), "scripts/backfill.py", str(last - timedelta(days=days - 1)), str(last)]
        return measure(name, cmd, self.root, self.env(home, **extra), self.logs, check=False)


def postgres_events(server: PostgresServer, database: str) -> dict:
    """Materializations stored in the instance database, and the raw daily step's durations."""
    connection = server.connect(database)
    with closing(connection), connection.cursor() as cursor:
        cursor.execute("select count(*) from event_logs where dagster_event_type = 'ASSET_MATERIALIZATION'")
        (materializations,) = cursor.fetchone()
        cursor.execute(RAW_MATERIALIZATIONS_SQL.replace("?", "%s"), (DAILY_STEP,))
        (raw,) = cursor.fetchone()
        cursor.execute(
            "select run_id, dagster_event_type, extract(epoch from timestamp) from event_logs"
            " where step_key = %s and dagster_event_type in ('STEP_START', 'STEP_SUCCESS') order by id",
            (DAILY_STEP,),
        )
        marks: dict[str, dict[str, float]] = {}
        for run_id, kind, moment in cursor.fetchall():
            marks.setdefault(run_id, {})[kind] = float(moment)
    steps = [m["STEP_SUCCESS"] - m["STEP_START"] for m in marks.values() if len(m) == 2]
    return {"materializations": materializations, "raw_materializations": raw, "daily_raw_step": sum(steps)}


def sqlite_events(home: Path, started: float) -> dict:
    """The same from the sqlite instance in `home` (one database per run)."""
    runs = read_event_log(home, started)
    raw = 0
    for db in (home / "history" / "runs").glob("*.db"):
        if db.name != "index.db":
            with sqlite3.connect(db) as connection:
                (count,) = connection.execute(RAW_MATERIALIZATIONS_SQL, (DAILY_STEP,)).fetchone()
            raw += count
    return {
        "materializations": sum(run["counts"].get("ASSET_MATERIALIZATION", 0) for run in runs),
        "raw_materializations": raw,
        "daily_raw_step": sum(run["steps"].get(DAILY_STEP, 0.0) for run in runs),
    }


def ui_queries(project: ScaleProject, home: Path, count: int, partitioning: str) -> dict:
    """The asset page's partition queries and a one-day backfill launch, timed against a webserver."""
    first, last = day_keys(partitioning, count, str(datetime.now(UTC).date() - timedelta(days=1)))
    command = [str(project.root / ".venv" / "bin" / "dagster-webserver"), "-m", f"{SLUG}.definitions"]
    timings: dict[str, float | str] = {}
    try:
        with serve(command, project.root, project.env(home), project.logs / "ui.log", host_and_port) as server:
            for name, call in [
                (
                    "partition_health",
                    lambda: graphql(server.base_url, PARTITION_HEALTH, {"key": {"path": [DAILY_ASSET]}}),
                ),
                (
                    "launch_one_day",
                    lambda: launch_backfill(
                        server.base_url,
                        {"partitionsByAssets": [asset_range(DAILY_ASSET, first, last)]},
                    ),
                ),
            ]:
                started = time.perf_counter()
                try:
                    call()
                    timings[name] = time.perf_counter() - started
                except (ServerError, OSError) as error:
                    timings[name] = f"failed after {time.perf_counter() - started:.1f} s: {str(error)[:200]}"
    except ServerError as error:
        timings["server"] = str(error)[:300]
    return timings


def measure_project(
    count: int, years: int, partitioning: str, args: argparse.Namespace, server: PostgresServer | None
) -> dict:
    name = f"{partitioning}_c{count}_y{years}"
    work = args.work / name
    shutil.rmtree(work, ignore_errors=True)
    (work / "logs").mkdir(parents=True)
    print(f"{partitioning}: {count} categories x {years} year(s):", flush=True)
    root, generation = render(work, "render", args.template, answers(count, years, partitioning), SLUG)
    project = ScaleProject(root, work, args.uv)
    measure(f"{name}_sync", [args.uv, "sync", "--compile-bytecode", "--quiet"], root, project.env(), project.logs)
    out: dict = {"partitioning": partitioning, "categories": count, "years": years, "generation": generation.wall}
    out["backfill_days"] = args.backfill_days
    out["versions"] = versions(project.python)
    load = [str(project.python), "-c", f"from {SLUG}.definitions import defs; defs()"]
    out["definitions"] = min(
        measure(f"{name}_definitions_{i}", load, root, project.env(), project.logs).wall for i in range(2)
    )
    out["ticks_empty"] = project.ticks(f"{name}_ticks_empty", None)
    if "new-day" not in args.skip:
        home = project.home("new_day", root / "dagster.yaml")
        run = project.backfill(f"{name}_new_day", home, days=1)
        out["new_day"] = {"wall": run.wall, "ok": run.returncode == 0, **sqlite_events(home, run.started)}
    if "sqlite" not in args.skip:
        home = project.home("sqlite", root / "dagster.yaml")
        run = project.backfill(f"{name}_backfill_sqlite", home, args.backfill_days)
        out["backfill_sqlite"] = {"wall": run.wall, "ok": run.returncode == 0, **sqlite_events(home, run.started)}
        out["ticks_history"] = project.ticks(f"{name}_ticks_history", home)
        if "ui" not in args.skip:
            out["ui"] = ui_queries(project, home, count, partitioning)
    if server is not None:
        database = f"scale_{name}"
        connection = server.connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(f'drop database if exists "{database}"')
                cursor.execute(f'create database "{database}"')
        finally:
            connection.close()
        pg_home = project.home("postgres", root / "deploy" / "dagster.yaml")
        run = project.backfill(
            f"{name}_backfill_postgres", pg_home, args.backfill_days, **server.env("DAGSTER_PG", database)
        )
        out["backfill_postgres"] = {"wall": run.wall, "ok": run.returncode == 0, **postgres_events(server, database)}
    if not args.keep:
        shutil.rmtree(root / ".venv", ignore_errors=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--categories", default="4,100,1000", help="numbers of categories (default 4,100,1000)")
    parser.add_argument("--years", default="1,3", help="years of daily partitions (default 1,3)")
    parser.add_argument(
        "--partitioning", default="time_x_category", help="partitioning choices, comma-separated (time_x_category,time)"
    )
    parser.add_argument("--backfill-days", type=int, default=BACKFILL_DAYS, help="days of the backfills (default 14)")
    parser.add_argument("--work", type=Path, default=RESULTS / "scale-work", help="work folder")
    parser.add_argument("--out", type=Path, default=RESULTS / "scale.md", help="the markdown table")
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=["new-day", "sqlite", "postgres", "ui"],
        help="leave a measure out (sqlite: the 14-day backfill there, the ticks after it and the UI queries)",
    )
    parser.add_argument("--keep", action="store_true", help="keep each project's venv")
    parser.add_argument("--template", type=Path, default=TEMPLATE, help="render this copy of the template instead")
    args = parser.parse_args()
    args.uv = os.environ.get("UV") or shutil.which("uv")
    if not args.uv:
        sys.exit("uv is needed: run `make bench BENCH_ARGS=--scale`.")
    args.work = args.work.resolve()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sizes = [
        (int(c), int(y), p)
        for p in args.partitioning.split(",")
        for c in args.categories.split(",")
        for y in args.years.split(",")
    ]
    results: dict = {"machine": machine(), "load": round(os.getloadavg()[0], 2), "projects": []}
    partial = args.out.with_suffix(".json")
    with throwaway_server() if "postgres" not in args.skip else nullcontext() as server:
        for count, years, partitioning in sizes:
            results["projects"].append(measure_project(count, years, partitioning, args, server))
            partial.write_text(json.dumps(results, indent=1, default=str))
    table = build_table(results)
    args.out.write_text(table)
    print(table)


if __name__ == "__main__":
    main()
