"""The bench's warehouses section: a year's backfill and a new day on DuckDB, PostgreSQL and Spark."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from contextlib import contextmanager, nullcontext
from dataclasses import asdict
from datetime import date, timedelta
from pathlib import Path

import psutil
from bench_project import ANSWERS, DAILY_ASSETS, DROPPED_ENV, START, Project, key_range, render
from measuring import MIB, RESULTS, TEMPLATE, Measure, machine, measure

sys.path.insert(0, str(TEMPLATE / "tests"))
from postgres_server import throwaway_server  # noqa: E402
from webserver import free_port  # noqa: E402

WAREHOUSES = ["duckdb", "postgres", "spark"]
YEAR_DAYS = 365  # 2024-01-01..2024-12-30, as bench.py's full backfill
ROWS = 10_000  # raw rows per (day, category), as bench.py
GROWTH_DAYS = 28  # four whole weeks: both runs of scripts/backfill.py, a short window
GROWTH_FACTORS = [1, 10]  # x ROWS: how a run grows with its rows
SERVER_SAMPLE_SECONDS = 0.2  # a server's RSS moves slowly; a finer step only costs CPU
# summary.py's table lines: "<schema>.<table>  <rows>  <categories>  <first> -> <last>".
SUMMARY_LINE = re.compile(r"^(\w+\.\w+)\s+(\d+)\s+\d+\s")
COUNTED = ["raw.daily_raw_data", "main.mart_weekly_data"]  # the table's rows column
YEAR_KEY = "year"
PACKAGES = "dagster dagster-dbt dbt-core dbt-duckdb dbt-postgres dbt-spark duckdb pyspark pyhive".split()


class ServerSampler(threading.Thread):
    """Peak RSS and CPU time of a server and its children (Spark's JVM, PostgreSQL's backends),
    which are not in a measured command's process tree."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak = 0
        self._halt = threading.Event()

    def tree(self) -> list[psutil.Process]:
        return [self.process, *self.process.children(recursive=True)]

    def cpu(self) -> float:
        """User + system seconds of the server, its live children and the children it reaped."""
        reaped = self.process.cpu_times()
        total = reaped.children_user + reaped.children_system
        for proc in self.tree():
            with contextlib.suppress(psutil.NoSuchProcess):
                total += sum(proc.cpu_times()[:2])
        return total

    def rss(self) -> int:
        total = 0
        for proc in self.tree():
            with contextlib.suppress(psutil.NoSuchProcess):
                total += proc.memory_info().rss
        return total

    def run(self) -> None:
        while not self._halt.is_set() and self.process.is_running():
            self.peak = max(self.peak, self.rss())
            self._halt.wait(SERVER_SAMPLE_SECONDS)

    @contextmanager
    def around(self, result: dict):
        """Fill result["server"] with the server's peak RSS and CPU seconds while the block ran."""
        self.peak, cpu = 0, self.cpu()
        yield
        try:
            self.peak = max(self.peak, self.rss())
            result["server"] = {"peak_rss_mib": self.peak / MIB, "cpu": self.cpu() - cpu}
        except psutil.NoSuchProcess:
            result["server"] = {"peak_rss_mib": self.peak / MIB, "cpu": None, "died": True}


def listening_pid(port: int) -> int:
    """The pid of the process listening on 127.0.0.1:port (the PostgreSQL postmaster)."""
    conns = psutil.net_connections(kind="tcp")
    return next(c.pid for c in conns if c.status == psutil.CONN_LISTEN and c.laddr.port == port and c.pid)


class Warehouse:
    """One rendered project, its server (PostgreSQL, Spark) and its measures."""

    def __init__(self, name: str, args: argparse.Namespace, uv: str):
        self.name, self.args, self.uv = name, args, uv
        self.work = args.work / name
        shutil.rmtree(self.work, ignore_errors=True)
        (self.work / "logs").mkdir(parents=True)
        root, generated = render(self.work, "render", args.template, answers={**ANSWERS, "warehouse": name})
        env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
        sync = [uv, "sync", "--quiet", "--compile-bytecode"]
        measure(f"uv_sync_{name}", sync, root, env, self.work / "logs")
        self.project = Project(root, self.work, ROWS, uv, {})
        self.sampler: ServerSampler | None = None
        self.results: dict = {"generation": asdict(generated), "versions": package_versions(self.project.python)}

    @contextmanager
    def server(self):
        if self.name == "postgres":
            with throwaway_server() as pg:
                self.project.extra_env.update(pg.env("POSTGRES"))
                self.sampler = ServerSampler(listening_pid(pg.port))
                self.sampler.start()
                yield
        elif self.name == "spark":
            port = str(free_port())
            self.project.extra_env["SPARK_PORT"] = port
            server = [str(self.project.python), "-m", "bench_pipeline.spark_server"]
            env = self.project.env(None)
            heap = ["--heap", self.args.heap] if self.args.heap else []
            # Java's own JIT, as when the figures of docs/performance.md were measured.
            measure("spark_start", [*server, "start", "--full-jit", *heap], self.project.root, env, self.project.logs)
            pid = int((self.project.root / ".spark" / "server.pid").read_text().split()[0])
            self.results["heap"] = self.args.heap or default_heap(self.project.root)
            self.sampler = ServerSampler(pid)
            self.sampler.start()
            try:
                yield
            finally:
                measure("spark_stop", [*server, "stop"], self.project.root, env, self.project.logs, check=False)
        else:
            yield

    def timed(self, key: str, run) -> Measure:
        """Run `run()` (a measured command), with the server's share if any; keep it under `key`."""
        extra: dict = {}
        with self.sampler.around(extra) if self.sampler else nullcontext():
            result = run()
        result.extra.update(extra)
        if "server" in extra:
            print(f"  {'  + ' + self.name + ' server':<34} {'':>15} {extra['server']['cpu'] or 0:8.2f} s cpu "
                  f"{extra['server']['peak_rss_mib']:8.0f} MiB peak")  # fmt: skip
        self.results.setdefault(key, []).append(asdict(result))
        return result

    def backfill(self, key: str, first: date, last: date, rows: int, prefix: str) -> None:
        self.project.rows = rows
        db = self.project.db(key)
        self.project.extra_env["SPARK_SCHEMA_PREFIX"] = prefix
        self.timed(key, lambda: self.project.backfill(key, first, last, db, check=False))
        self.results[key][-1]["extra"]["rows"] = self.row_counts(db)

    def row_counts(self, db: Path) -> dict[str, int]:
        summary = [str(self.project.python), "scripts/summary.py"]
        out = subprocess.run(summary, cwd=self.project.root, env=self.project.env(db), capture_output=True, text=True)
        counts = {m[1]: int(m[2]) for line in out.stdout.splitlines() if (m := SUMMARY_LINE.match(line))}
        print(f"  rows: {counts or out.stderr[-500:]}")
        return counts

    def new_day(self, key: str, day: date) -> None:
        db = self.project.db(YEAR_KEY, fresh=False)
        self.project.rows = ROWS
        self.project.extra_env["SPARK_SCHEMA_PREFIX"] = ""
        for i in range(1, self.args.repeat + 1):
            name = f"{key}_{i}"
            self.timed(key, lambda name=name: self.project.materialize(name, DAILY_ASSETS, db, key_range=(
                key_range(day, day))))  # fmt: skip


def package_versions(python: Path) -> dict[str, str]:
    """Versions of PACKAGES installed in the project's venv (each warehouse has its own adapter)."""
    code = (
        "import importlib.metadata as m, json\n"
        f"print(json.dumps({{d.name: d.version for d in m.distributions() if d.name.lower() in {PACKAGES!r}}}))"
    )
    return json.loads(subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True).stdout)


def default_heap(root: Path) -> str:
    text = (root / "src" / "bench_pipeline" / "spark_server.py").read_text()
    found = re.search(r'^DEFAULT_HEAP = "(\w+)"', text, re.MULTILINE)
    return found[1] if found else "?"


def run_warehouse(name: str, args: argparse.Namespace, uv: str, out: dict) -> None:
    print(f"\n== {name} ==", flush=True)
    wh = Warehouse(name, args, uv)
    out[name] = wh.results
    last = START + timedelta(days=args.days - 1)
    with wh.server():
        if "growth" not in args.skip and name in args.growth:
            for factor in GROWTH_FACTORS:
                first_last = (START, START + timedelta(days=args.growth_days - 1))
                wh.backfill(f"growth_x{factor}", *first_last, ROWS * factor, f"growth_x{factor}_")
                save(args, out)
        if "year" not in args.skip:
            wh.backfill(YEAR_KEY, START, last, ROWS, "")
            save(args, out)
            if "new-day" not in args.skip:
                wh.new_day("new_day", last + timedelta(days=1))
    save(args, out)


def save(args: argparse.Namespace, out: dict) -> None:
    args.out.write_text(json.dumps(out, indent=1, default=str))


def cell(m: dict) -> tuple[str, str, str]:
    server = m["extra"].get("server")
    cpu = m["cpu"] + ((server or {}).get("cpu") or 0)
    memory = f"{m['peak_rss_mib']:,.0f} MiB"
    if server:
        memory += f" + server {server['peak_rss_mib']:,.0f} MiB"
    status = "" if m["returncode"] == 0 else f" FAILED ({m['returncode']})"
    return f"{m['wall']:.1f} s{status}", f"{cpu:.1f} s", memory


def report(out: dict, args: argparse.Namespace) -> str:
    lines = [
        f"{out['machine']['date']}, {out['machine']['nproc']} CPUs, {out['machine']['ram_gib']} GiB RAM",
        "",
        "| Measure | Warehouse | Wall | CPU | Peak memory | Rows (raw daily / mart weekly) | Load before |",
        "| ------- | --------- | ---- | --- | ----------- | ------------------------------ | ----------- |",
    ]
    labels = {YEAR_KEY: f"Backfill, {args.days} d x 4 cat x {ROWS:,} rows", "new_day": "New day (best of runs)"}
    labels |= {
        f"growth_x{f}": f"Backfill, {args.growth_days} d x 4 cat x {ROWS * f:,} rows (x{f})" for f in GROWTH_FACTORS
    }
    for key, label in labels.items():
        for name in WAREHOUSES:
            runs = out.get(name, {}).get(key)
            if not runs:
                continue
            best = min(runs, key=lambda m: m["wall"])
            rows = best["extra"].get("rows", {})
            counted = " / ".join(f"{rows[t]:,}" if t in rows else "-" for t in COUNTED)
            heap = f" (heap {out[name]['heap']})" if name == "spark" else ""
            lines.append(
                f"| {label} | {name}{heap} | {' | '.join(cell(best))} | {counted} | {best['load_before']:.1f} |"
            )
    return "\n".join(lines) + "\n"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--warehouses", default=",".join(WAREHOUSES), help="comma-separated (default: all three)")
    parser.add_argument("--days", type=int, default=YEAR_DAYS, help=f"days of the backfill (default {YEAR_DAYS})")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the new day, best kept (default 3)")
    parser.add_argument("--growth-days", type=int, default=GROWTH_DAYS, help=f"default {GROWTH_DAYS}")
    parser.add_argument("--growth", default="spark,duckdb", help="warehouses of the x1/x10 growth runs")
    parser.add_argument("--heap", help="Spark server JVM heap, e.g. 4g (default: the project's DEFAULT_HEAP)")
    parser.add_argument("--skip", action="append", default=[], choices=["year", "new-day", "growth"])
    parser.add_argument("--template", type=Path, default=TEMPLATE, help="render this copy of the template instead")
    parser.add_argument("--work", type=Path, default=RESULTS / "warehouses", help="work folder (deleted first)")
    parser.add_argument("--out", type=Path, default=RESULTS / "warehouses.json", help="results (and .md)")
    args = parser.parse_args()
    args.work, args.template = args.work.resolve(), args.template.resolve()
    args.growth = args.growth.split(",")
    return args


def main() -> None:
    args = parse_args()
    uv = os.environ.get("UV") or shutil.which("uv")
    if not uv:
        sys.exit("uv is needed: run `make bench-warehouses`.")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    out: dict = {"machine": machine(), "settings": {k: str(v) for k, v in vars(args).items()}}
    for name in args.warehouses.split(","):
        run_warehouse(name, args, uv, out)
    table = report(out, args)
    args.out.with_suffix(".md").write_text(table)
    print("\n" + table + f"Written: {args.out} and {args.out.with_suffix('.md')}")


if __name__ == "__main__":
    main()
