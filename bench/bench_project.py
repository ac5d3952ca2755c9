"""The project the bench renders (fixed answers) and its commands, each measured."""

from __future__ import annotations

import os
import shutil
from datetime import date, timedelta
from pathlib import Path

from measuring import TEMPLATE, Measure, measure
from run_records import read_dbt_results, read_event_log

MEMORY_DIR = Path("/dev/shm")  # where scripts/backfill.py keeps its throwaway Dagster instance

SLUG = "bench_pipeline"
ANSWERS = {
    "project_name": "Bench Pipeline",
    "project_slug": SLUG,
    "category_values": "A,B,C,D",
    "daily_start_date": "2024-01-01",
}
CATEGORIES = ANSWERS["category_values"].split(",")
START = date.fromisoformat(ANSWERS["daily_start_date"])
DAILY_ASSETS = "daily_raw_data,stg_daily_raw_data,mart_daily_data,post_processing_daily"
WEEKLY_ASSETS = "weekly_raw_data,stg_weekly_raw_data,mart_weekly_data,post_processing_weekly"
MODULE = f"{SLUG}.definitions"
# Variables of the caller that must not leak into the rendered project.
DROPPED_ENV = {
    "VIRTUAL_ENV",
    "PYTHONPATH",
    "DUCKDB_DATABASE",
    "DAGSTER_HOME",
    "RAW_ROWS_PER_PARTITION",
    "FAIL_FIRST_ATTEMPT",
    "UV_PROJECT_ENVIRONMENT",
    "UV_RUN_RECURSION_DEPTH",
}


class Project:
    def __init__(self, root: Path, work: Path, rows: int, uv: str, extra_env: dict[str, str]):
        self.root = root
        self.work = work
        self.rows = rows
        self.uv = uv
        self.extra_env = extra_env
        self.logs = work / "logs"
        self.python = root / ".venv" / "bin" / "python"

    def env(self, db: Path | None, home: Path | None = None, **extra: str) -> dict[str, str]:
        """What `uv run` gives a command in the project: its venv first on PATH."""
        env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
        venv = self.root / ".venv"
        env["VIRTUAL_ENV"] = str(venv)
        env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env["PYTHONUNBUFFERED"] = "1"
        env["RAW_ROWS_PER_PARTITION"] = str(self.rows)
        if db is not None:
            env["DUCKDB_DATABASE"] = str(db)
        if home is not None:
            env["DAGSTER_HOME"] = str(home)
        env.update(self.extra_env)
        env.update(extra)
        return env

    def dagster_home(self, name: str, in_memory: bool = False) -> Path:
        """A new instance folder holding the project's dagster.yaml, kept for reading the event log.

        Without DAGSTER_HOME the CLI makes the same kind of instance in a temporary folder
        (sqlite storage, dagster.yaml from the project root) and deletes it on exit;
        scripts/backfill.py puts that folder in /dev/shm when it can, and `in_memory` does
        the same here so the backfill is measured as `make backfill` runs it.
        """
        base = self.work / "homes"
        if in_memory and MEMORY_DIR.is_dir():
            base = MEMORY_DIR / f"bench-homes-{self.work.name}"
        home = base / name
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        shutil.copy(self.root / "dagster.yaml", home / "dagster.yaml")
        return home

    def db(self, name: str, fresh: bool = True) -> Path:
        path = self.work / "db" / f"{name}.duckdb"
        path.parent.mkdir(parents=True, exist_ok=True)
        if fresh:
            for suffix in ("", ".wal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return path

    def backfill(self, name: str, first: date, last: date, db: Path, check: bool = True) -> Measure:
        home = self.dagster_home(name, in_memory=True)
        cmd = [str(self.python), "scripts/backfill.py", str(first), str(last)]
        result = measure(name, cmd, self.root, self.env(db, home), self.logs, check=check)
        result.extra["events"] = read_event_log(home, result.started)
        if home.is_relative_to(MEMORY_DIR):  # read; give the memory back
            shutil.rmtree(home)
        result.extra["dbt"] = read_dbt_results(self.dbt_target(), result.started)
        return result

    def materialize(
        self, name: str, assets: str, db: Path, *, key: str | None = None, key_range: str | None = None
    ) -> Measure:
        home = self.dagster_home(name)
        cmd = [str(self.python), "-m", "dagster", "asset", "materialize", "-m", MODULE, "--select", assets]
        cmd += ["--partition", key] if key else ["--partition-range", key_range]
        result = measure(name, cmd, self.root, self.env(db, home), self.logs)
        result.extra["events"] = read_event_log(home, result.started)
        result.extra["dbt"] = read_dbt_results(self.dbt_target(), result.started)
        return result

    def dbt_target(self) -> Path:
        return self.root / "src" / SLUG / "dbt" / "target"


def key_range(first: date, last: date, categories: list[str] = CATEGORIES) -> str:
    return f"{categories[0]}|{first}...{categories[-1]}|{last}"


def render(
    work: Path, name: str, template: Path = TEMPLATE, answers: dict[str, str] = ANSWERS, slug: str = SLUG
) -> tuple[Path, Measure]:
    """cookiecutter --no-input with `answers` (the fixed ones); its post-generation hook runs dbt parse."""
    out = work / name
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    config = work / "cookiecutter.yaml"
    config.write_text(f'cookiecutters_dir: "{work / "cookiecutters"}"\nreplay_dir: "{work / "replay"}"\n')
    # The template venv's cookiecutter, so the hook finds the dbt next to its interpreter.
    cookiecutter = TEMPLATE / ".venv" / "bin" / "cookiecutter"
    if not cookiecutter.exists():
        cookiecutter = Path(shutil.which("cookiecutter") or "cookiecutter")
    cmd = [str(cookiecutter), "--no-input", "--config-file", str(config), "--output-dir", str(out), str(template)]
    cmd += [f"{key}={value}" for key, value in answers.items()]
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
    result = measure(f"generate_{name}", cmd, work, env, work / "logs")
    return out / slug, result


def weeks_inside(first: date, last: date) -> tuple[date, date] | None:
    """First and last Monday of the whole weeks inside [first, last], as scripts/backfill.py does."""
    first_monday = first + timedelta(days=(7 - first.weekday()) % 7)
    last_sunday = last - timedelta(days=(last.weekday() + 1) % 7)
    last_monday = last_sunday - timedelta(days=6)
    return (first_monday, last_monday) if first_monday <= last_monday else None
