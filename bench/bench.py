"""Benchmark a rendered project on this machine: `make bench` (README: docs/performance.md).

Renders the template with fixed answers (4 categories, daily from 2024-01-01), builds the
project's venv with uv, then measures:

1. a full backfill (365 days x 4 categories, RAW_ROWS_PER_PARTITION rows each) through all
   8 assets with the project's own single-run backfill, scripts/backfill.py START END;
   then the same backfill launched as the UI does, by GraphQL against `make dev`
   (ui_backfill.py), its runs read back from the instance;
2. the same work as one run per partition, measured on a small window and scaled;
3. the floor: the same SQL in one plain DuckDB process (bench/floor.py);
4. the cost of one new day after 7 days and after 365 days of history;
5. generation (render + dbt parse), definitions load and the project's own test suite.

Wall time, CPU time (user + system, whole process tree) and peak memory (the sum of RSS
over the process tree, sampled with psutil) are taken for each command. Runs in the
template's venv with psutil added: `uv run --with psutil python bench/bench.py`.
The table goes to stdout and bench/results/latest.md; details to latest.json; every
command's output to bench/results/work/logs/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path

from bench_project import (
    CATEGORIES,
    DAILY_ASSETS,
    DROPPED_ENV,
    MODULE,
    SLUG,
    START,
    WEEKLY_ASSETS,
    Project,
    key_range,
    render,
    weeks_inside,
)
from bench_report import build_report
from measuring import RESULTS, TEMPLATE, machine, measure, versions
from run_records import read_event_log
from ui_backfill import tables_differ, ui_backfill

FLOOR_SCRIPT = TEMPLATE / "bench" / "floor.py"
MEASURES = ["full", "ui", "per-partition", "floor", "incremental", "tests"]


@dataclass
class Bench:
    """One bench run: its options, the project, and the measures so far (saved as they come)."""

    args: argparse.Namespace
    project: Project
    info: dict
    measures: dict = field(default_factory=dict)

    @property
    def last_day(self):
        return START + timedelta(days=self.args.days - 1)

    def save(self) -> None:
        progress = self.args.out.with_suffix(".partial.json")
        progress.write_text(json.dumps({"info": self.info, "measures": self.measures}, indent=1, default=str))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=365, help="days in the full backfill (default 365)")
    parser.add_argument("--rows", type=int, default=10_000, help="raw rows per (day, category) (default 10000)")
    parser.add_argument("--repeat", type=int, default=3, help="repeats of the short measurements, best kept")
    parser.add_argument("--work", type=Path, default=RESULTS / "work", help="work folder (deleted first)")
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.md", help="the markdown table")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment for every project command (to try a setting)",
    )
    parser.add_argument("--skip", action="append", default=[], choices=MEASURES, help="leave a measurement out")
    parser.add_argument("--project", type=Path, help="reuse an already rendered and synced project (no render)")
    parser.add_argument(
        "--template",
        type=Path,
        default=TEMPLATE,
        help="render this copy of the template instead (to measure a change against the current one)",
    )
    parser.add_argument("--report-from", type=Path, metavar="JSON", help="only rebuild the table from a results JSON")
    return parser.parse_args()


def report_again(args: argparse.Namespace) -> None:
    """--report-from: the table again from a results JSON (and the event log, when still there)."""
    saved = json.loads(args.report_from.read_text())
    full = saved["measures"].get("full")
    if full:
        home = TEMPLATE / Path(full["log"]).parent.parent / "homes" / "full_backfill"
        if home.is_dir():
            full["extra"]["events"] = read_event_log(home, full["started"])
    args.days, args.rows = saved["info"]["settings"]["days"], saved["info"]["settings"]["rows"]
    report = build_report(saved["info"], saved["measures"], args)
    out = args.report_from.with_suffix(".md") if args.out == RESULTS / "latest.md" else args.out
    out.write_text(report)
    print(report)


def generation(args: argparse.Namespace, work: Path, uv: str, info: dict, measures: dict) -> Path:
    """5a. Generation: render + dbt parse (post-generation hook), best of --repeat; then the venv."""
    print("Generation (cookiecutter render + dbt parse):")
    if args.project:
        measures["generation"] = []
        return args.project.resolve()
    template = args.template.resolve()
    info["template"] = str(template)
    root, first = render(work, "render", template)
    others = [render(work, f"render_{i}", template)[1] for i in range(2, args.repeat + 1)]
    for i in range(2, args.repeat + 1):
        shutil.rmtree(work / f"render_{i}", ignore_errors=True)
    measures["generation"] = [asdict(m) for m in [first, *others]]
    print("Project venv (uv sync --compile-bytecode, as make install; not a target):")
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
    sync = [uv, "sync", "--quiet", "--compile-bytecode"]
    measures["uv_sync"] = asdict(measure("uv_sync", sync, root, env, work / "logs"))
    return root


def definitions_load(bench: Bench) -> None:
    """5b. Definitions load, with the manifest from generation."""
    print("Definitions load (python -c 'from <slug>.definitions import defs; defs()'):")
    project = bench.project
    db = project.db("definitions")
    # definitions.py builds its Definitions when `defs()` is called (dg's layout), not on import.
    load = [str(project.python), "-c", f"from {MODULE} import defs; defs()"]
    bench.measures["definitions"] = [
        asdict(measure(f"definitions_{i}", load, project.root, project.env(db), project.logs))
        for i in range(1, bench.args.repeat + 1)
    ]


def full_backfill(bench: Bench) -> None:
    """1. Full backfill: scripts/backfill.py START END (one daily run, one weekly run)."""
    print(f"1. Full backfill {START}..{bench.last_day} (scripts/backfill.py):")
    full = bench.project.backfill("full_backfill", START, bench.last_day, bench.project.db("full", fresh=False))
    bench.measures["full"] = asdict(full)


def ui_backfills(bench: Bench) -> None:
    """1b. The same days, categories and rows, launched as the UI does: all 8 assets in one
    backfill; then (1c) the daily assets, and the weekly ones once those are done."""
    project, args = bench.project, bench.args
    weeks = weeks_inside(START, bench.last_day)
    ranges = [(DAILY_ASSETS, *key_range(START, bench.last_day).split("..."))]
    ranges += [(WEEKLY_ASSETS, *key_range(*weeks).split("..."))] if weeks else []
    for name, one_by_one in (("ui", False), ("ui_one_by_one", True)):
        print(f"1{'c' if one_by_one else 'b'}. The same backfill launched as the UI does ({name}):")
        ui_db, load = project.db(name), os.getloadavg()[0]
        home = project.dagster_home(name)
        log = project.logs / f"{name}.log"
        launched = ui_backfill(project.root, project.uv, project.env(ui_db, home), log, ranges, one_by_one)
        bench.measures[name] = {**asdict(launched), "load_before": load}
        if "full" not in args.skip:
            bench.measures[name]["differ"] = tables_differ(project.db("full", fresh=False), ui_db)
        print(f"  {name} {launched.wall:8.2f} s wall, {len(launched.runs)} runs, {launched.status}", flush=True)
        bench.save()


def new_days(bench: Bench) -> None:
    """4. One new day (daily chain, all categories, one run) after 7 days and after all days."""
    print("4. Incremental: one new day of the daily chain after 7 days and after the full history:")
    project, args = bench.project, bench.args
    short_db, full_db = project.db("short"), project.db("full", fresh=False)
    project.backfill("history_7_days", START, START + timedelta(days=6), short_db)
    if "full" in args.skip:
        project.backfill("history_full", START, bench.last_day, project.db("full"))
    for key, name, db, day in (
        ("new_day_after_7", "new_day_after_7", short_db, START + timedelta(days=7)),
        ("new_day_after_full", f"new_day_after_{args.days}", full_db, bench.last_day + timedelta(days=1)),
    ):
        bench.measures[key] = [
            asdict(project.materialize(f"{name}_{i}", DAILY_ASSETS, db, key_range=key_range(day, day)))
            for i in range(1, args.repeat + 1)
        ]


def per_partition_runs(bench: Bench) -> None:
    """2. One run per partition on 3 days x 2 categories, then 1 week x 2 categories."""
    print("2. One run per partition (3 days x 2 categories, then 1 week x 2 categories):")
    project = bench.project
    pp_db = project.db("per_partition")
    window_days = [START + timedelta(days=i) for i in range(3)]
    cats = CATEGORIES[:2]
    daily_runs = [
        project.materialize(f"per_partition_{cat}_{day}", DAILY_ASSETS, pp_db, key=f"{cat}|{day}")
        for day in window_days
        for cat in cats
    ]
    # The rest of the first week for those categories, in one run (not measured), so the
    # weekly runs read seven days.
    project.materialize(
        "per_partition_rest_of_week",
        DAILY_ASSETS,
        pp_db,
        key_range=key_range(START + timedelta(days=3), START + timedelta(days=6), cats),
    )
    weekly_runs = [
        project.materialize(f"per_partition_{cat}_week_{START}", WEEKLY_ASSETS, pp_db, key=f"{cat}|{START}")
        for cat in cats
    ]
    bench.measures["per_partition_daily"] = [asdict(m) for m in daily_runs]
    bench.measures["per_partition_weekly"] = [asdict(m) for m in weekly_runs]


def floor(bench: Bench) -> None:
    """3. The floor: the same SQL in one plain DuckDB process."""
    print("3. Floor (plain DuckDB, one process):")
    project, args = bench.project, bench.args
    floor_json = project.work / "floor.json"
    cmd = [str(project.python), str(FLOOR_SCRIPT), "--sql", str(project.root / "src" / SLUG / "sql.py")]
    cmd += ["--db", str(project.db("floor")), "--start", str(START), "--days", str(args.days)]
    cmd += ["--categories", ",".join(CATEGORIES), "--rows", str(args.rows), "--json", str(floor_json)]
    result = measure("floor", cmd, project.root, project.env(None), project.logs)
    result.extra["stages"] = json.loads(floor_json.read_text())
    bench.measures["floor"] = asdict(result)


def project_tests(bench: Bench) -> None:
    """5c. The project's own test suite, as a user runs it: make test (all but the slow tests)."""
    print("5c. The generated project's tests (make test):")
    project = bench.project
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
    env.update(project.extra_env)
    command = ["make", "test", f"UV={project.uv}"]
    bench.measures["tests"] = asdict(measure("project_tests", command, project.root, env, project.logs))


# Each measure, in the order it runs, by its --skip name.
STEPS = [
    ("full", full_backfill),
    ("ui", ui_backfills),
    ("incremental", new_days),
    ("per-partition", per_partition_runs),
    ("floor", floor),
    ("tests", project_tests),
]


def main() -> None:
    if "--scale" in sys.argv:  # the scale section alone (scale.py), with its own options
        import scale

        sys.argv.remove("--scale")
        scale.main()
        return
    if "--landing-sensor" in sys.argv:  # the landing files sensor at scale (landing_sensor.py), its own options
        import landing_sensor

        sys.argv.remove("--landing-sensor")
        landing_sensor.main()
        return
    if "--landing" in sys.argv:  # the landing files section alone (landing.py), with its own options
        import landing

        sys.argv.remove("--landing")
        landing.main()
        return
    args = parse_args()
    if args.report_from:
        report_again(args)
        return
    uv = os.environ.get("UV") or shutil.which("uv")
    if not uv:
        sys.exit("uv is needed: run `make bench`.")
    extra_env = dict(item.split("=", 1) for item in args.env)
    work = args.work.resolve()
    if not args.project:
        shutil.rmtree(work, ignore_errors=True)
    (work / "logs").mkdir(parents=True, exist_ok=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    info = {
        "machine": machine(),
        "settings": {"days": args.days, "rows": args.rows, "categories": CATEGORIES, "env": extra_env},
    }
    print(f"Benchmark: {args.days} days x {len(CATEGORIES)} categories x {args.rows} rows; work folder {work}")
    measures: dict = {}
    root = generation(args, work, uv, info, measures)
    bench = Bench(args, Project(root, work, args.rows, uv, extra_env), info, measures)
    info["versions"] = versions(bench.project.python)
    definitions_load(bench)
    bench.project.db("full")  # a new file for the full backfill, which the later measures read
    for name, step in STEPS:
        bench.save()
        if name not in args.skip:
            step(bench)
    bench.save()
    report = build_report(info, measures, args)
    args.out.write_text(report)
    args.out.with_suffix(".json").write_text(json.dumps({"info": info, "measures": measures}, indent=1, default=str))
    args.out.with_suffix(".partial.json").unlink(missing_ok=True)
    print()
    print(report)
    print(f"Written: {args.out} and {args.out.with_suffix('.json')}")


if __name__ == "__main__":
    main()
