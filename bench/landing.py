"""The bench's landing section: loading landed files against making synthetic rows.

`make bench BENCH_ARGS=--landing` (or `python bench/landing.py` in the template's venv).
Renders the bench's project twice, `raw_source=synthetic` and `raw_source=files` (4
categories, days from 2024-01-01), then for --days x 4 categories x --rows rows a day:
- `scripts/sample_files.py` (make sample-files): the landing folder, from the generator;
- the landing files sensor on that folder (landing_tick.py, in-process): the first tick,
  with every file new; a tick with nothing new; a tick after one file is delivered again;
- the full backfill (scripts/backfill.py, as `make backfill`) of each project, files from
  Parquet against the synthetic rows, and the raw tables compared.
The table goes to bench/results/landing.md, details to landing.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path

import duckdb
from bench_project import ANSWERS, SLUG, START, Project, render
from measuring import RESULTS, TEMPLATE, machine, measure

TICK_SCRIPT = TEMPLATE / "bench" / "landing_tick.py"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=365, help="days of files and of the backfill (default 365)")
    parser.add_argument("--rows", type=int, default=10_000, help="raw rows per (day, category) (default 10000)")
    parser.add_argument("--repeat", type=int, default=3, help="repeats of the idle sensor tick, best kept")
    parser.add_argument("--work", type=Path, default=RESULTS / "landing_work", help="work folder (deleted first)")
    parser.add_argument("--out", type=Path, default=RESULTS / "landing.md", help="the markdown table")
    return parser.parse_args()


def setup(work: Path, name: str, answers: dict, args, uv: str) -> Project:
    root, generated = render(work, name, answers=answers)
    project = Project(root, work, args.rows, uv, {})
    env = {k: v for k, v in project.env(None).items() if k != "VIRTUAL_ENV"}
    measure(f"uv_sync_{name}", [uv, "sync", "--quiet", "--compile-bytecode"], root, env, project.logs)
    return project


def raw_rows(db: Path) -> tuple:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "select count(*), sum(hash(id, category, start_time, value)) from raw.daily_raw_data"
        ).fetchone()


def main() -> None:
    args = parse_args()
    uv = os.environ.get("UV") or shutil.which("uv")
    work = args.work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    (work / "logs").mkdir(parents=True)
    last = START + timedelta(days=args.days - 1)
    results: dict = {"machine": machine(), "days": args.days, "rows": args.rows, "load": os.getloadavg()[0]}

    synthetic = setup(work, "synthetic", ANSWERS, args, uv)
    files = setup(work, "files", {**ANSWERS, "raw_source": "files"}, args, uv)
    landing = work / "landing"
    files.extra_env["LANDING_URL"] = str(landing)

    print(f"Sample files, {START}..{last}:")
    command = [str(files.python), "scripts/sample_files.py", str(START), str(last)]
    results["sample_files"] = asdict(measure("sample_files", command, files.root, files.env(None), files.logs))
    results["landing_bytes"] = sum(path.stat().st_size for path in landing.rglob("*") if path.is_file())

    print("The landing files sensor's ticks:")
    tick = subprocess.run(
        [str(files.python), str(TICK_SCRIPT), SLUG, str(args.repeat)],
        cwd=files.root,
        env=files.env(None),
        capture_output=True,
        text=True,
        check=True,
    )
    results["sensor"] = json.loads(tick.stdout.strip().splitlines()[-1])

    for name, project in (("synthetic", synthetic), ("files", files)):
        print(f"Full backfill, {name}:")
        db = project.db(f"{name}_full")
        results[f"backfill_{name}"] = asdict(project.backfill(f"backfill_{name}", START, last, db))
        results[f"raw_{name}"] = raw_rows(db)
    results["same_raw_rows"] = results["raw_synthetic"] == results["raw_files"]

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=1, default=str))
    table = report(results)
    args.out.write_text(table)
    print(table)


def report(results: dict) -> str:
    sensor = results["sensor"]
    synthetic, files = results["backfill_synthetic"], results["backfill_files"]
    lines = [
        f"{results['days']} days x 4 categories x {results['rows']} rows a day; "
        f"load {results['load']:.1f} at the start",
        "",
        "| Measure | Synthetic | Files (Parquet) |",
        "|---|---|---|",
        f"| Landing files written (`make sample-files`) | | {results['sample_files']['wall']:.1f} s, "
        f"{sensor['files']} files, {results['landing_bytes'] / 2**20:.0f} MiB |",
        f"| Full backfill, wall (`make backfill`) | {synthetic['wall']:.1f} s | {files['wall']:.1f} s |",
        f"| Full backfill, peak memory | {synthetic['peak_rss_mib']:.0f} MiB | {files['peak_rss_mib']:.0f} MiB |",
        f"| Raw rows equal | | {'yes' if results['same_raw_rows'] else 'NO'} ({results['raw_files'][0]} rows) |",
        f"| Sensor, first tick (every file new) | | {sensor['first_tick_s']:.2f} s, "
        f"{sensor['first_tick_runs']} runs requested |",
        f"| Sensor, tick with nothing new (best of repeats) | | {sensor['idle_tick_s']:.2f} s |",
        f"| Sensor, tick after one file delivered again | | {sensor['one_file_again_s']:.2f} s, "
        f"{sensor['one_file_again_runs']} run |",
        f"| Sensor cursor | | {sensor['cursor_bytes']} bytes |",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
