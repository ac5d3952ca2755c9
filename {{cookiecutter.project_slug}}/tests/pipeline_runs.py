"""Shared test tools: real partition runs through Dagster, against a warehouse made for the
test (warehouses.py).

The tests import them from here; conftest.py holds only fixtures and hooks, and imports
this module inside the fixtures, so pytest-xdist's controller starts its workers without
importing Dagster and the code location first (3.6 to 4.1 s).
"""

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import dagster as dg
import pytest
from raw_input import prepare_raw_input
from warehouses import column_types, copy_warehouse, lose_ids, lose_rows, query, warehouse_env, warehouse_resource

from {{ cookiecutter.project_slug }}.definitions import defs
from {{ cookiecutter.project_slug }}.defs.raw.checks import CHECK_NAME
from {{ cookiecutter.project_slug }}.defs.transform.dbt_models import WITHOUT_UNIT_TESTS
from {{ cookiecutter.project_slug }}.partitions import RANGE_END_TAG, RANGE_START_TAG, run_tags
from {{ cookiecutter.project_slug }}.project import DBT_EXECUTABLE, PACKAGE_DIR, PROJECT_ROOT, dbt_project
from {{ cookiecutter.project_slug }}.resources import ProjectDbtCliResource

# The code location as Dagster loads it, and its assets and checks (to run some of them).
DEFS = defs()
ALL_ASSETS = [*(DEFS.assets or []), *(DEFS.asset_checks or [])]
DAILY_ASSETS = ["daily_raw_data", "stg_daily_raw_data", "mart_daily_data", "post_processing_daily"]
WEEKLY_ASSETS = ["weekly_raw_data", "stg_weekly_raw_data", "mart_weekly_data", "post_processing_weekly"]
DBT_TABLES = ["stg_daily_raw_data", "stg_weekly_raw_data", "mart_daily_data", "mart_weekly_data"]
# dbt starts from an earlier parse (partial_parse.msgpack) only in the environment that made
# it: the profile's settings are part of its check, and each warehouse of the tests has its
# own (warehouse_env). So each environment gets a target folder (DBT_TARGET_PATH: where
# dagster-dbt puts its steps' folders and looks for that file), and the first step's parse
# is kept there for the next ones, as target/ keeps prepare_manifest()'s for a deployment.
DBT_TARGETS = tempfile.TemporaryDirectory(prefix="dbt-targets-")
PARTIAL_PARSE_FILE = "partial_parse.msgpack"


def partition_range(first: date, last: date) -> str:
    """`--partition-range` of the Dagster CLI for periods first..last, every category."""
    (tags,) = run_tags(first, last)
    return f"{tags[RANGE_START_TAG]}...{tags[RANGE_END_TAG]}"


class Pipeline:
    """Runs partitions of the real assets (real dbt) against one warehouse (warehouses.py)."""

    def __init__(self, location, instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch):
        self.instance = instance
        self.monkeypatch = monkeypatch
        self.use(location)

    def use(self, location) -> None:
        """Point Python assets and dbt (through the variable warehouse_env names) at `location`."""
        self.location = location
        for name, value in dbt_env(location).items():
            self.monkeypatch.setenv(name, value)
        self.resources = {
            "warehouse": warehouse_resource(location),
            "dbt": ProjectDbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE),
        }

    def run(
        self,
        selection: list[str],
        first: date,
        last: date | None = None,
        categories: list[str] | None = None,
        rows: int | None = None,
        ops: dict | None = None,
        tags: dict[str, str] | None = None,
        raise_on_error: bool = True,
        prepare: bool = True,
    ) -> dg.ExecuteInProcessResult:
        """One run over periods first..last (default: first) for `categories` (default: all;
        neighbours in the project's order), as a single-run backfill makes it; `ops` adds run
        config by op name, `tags` run tags. The checks of the selected assets run with them, as
        in every run of them. `prepare` makes the raw input first (tests/raw_input.py)."""
        (range_tags,) = run_tags(first, last or first, categories)
        raw_ops = (
            prepare_raw_input(self.resources["warehouse"], selection, first, last or first, categories, rows)
            if prepare
            else {}
        )
        ops = {**raw_ops, **(ops or {})}
        dbt_env(self.location)  # keeps the last run's parse
        return dg.materialize(
            ALL_ASSETS,
            selection=selection,
            resources=self.resources,
            instance=self.instance,
            run_config={"ops": ops} if ops else None,
            tags={**(tags or {}), **range_tags},
            raise_on_error=raise_on_error,
        )

    def check(self, asset: str, **window) -> dg.AssetCheckEvaluation:
        """A run of `asset`'s raw data check alone, for `window` (its config); its result."""
        check_key = dg.AssetCheckKey(dg.AssetKey(asset), CHECK_NAME)
        op_name = f"{asset}_{CHECK_NAME}"
        result = dg.materialize(
            ALL_ASSETS,
            selection=dg.AssetSelection.checks(check_key),
            resources=self.resources,
            instance=self.instance,
            run_config={"ops": {op_name: {"config": window}}},
            raise_on_error=False,
        )
        (evaluation,) = result.get_asset_check_evaluations()
        return evaluation

    def lose_rows(self, table: str, category: str, start: date, end: date) -> None:
        """Delete the rows of `category` in [start, end) from raw.<table>, as a lost load leaves it."""
        lose_rows(self.location, table, category, start, end)

    def lose_ids(self, table: str, start: date, end: date) -> None:
        lose_ids(self.location, table, start, end)

    def query(self, sql: str) -> list[tuple]:
        return query(self.location, sql)

    def table(self, name: str) -> list[tuple]:
        """Every row of a table, sorted (the same on both engines)."""
        return sorted(self.query(f"select * from {name}"))

    def column_types(self, table: str) -> dict[str, str]:
        return column_types(self.location, table)

    def dbt_tables(self) -> dict[str, list[tuple]]:
        return {name: self.table(name) for name in DBT_TABLES}

    def full_refresh_copy(self, folder: Path, select: str | None = None) -> dict[str, list[tuple]]:
        """Rebuild the dbt models (all, or `select`) from scratch over a copy of the raw data; return them."""
        original = self.location
        self.use(copy_warehouse(original, folder, "full_refresh"))
        try:
            dbt = self.resources["dbt"]
            command = ["build", "--full-refresh", *WITHOUT_UNIT_TESTS, *(["--select", select] if select else [])]
            dbt.cli(command, target_path=Path(folder) / "target").wait()
            return {name: self.table(name) for name in DBT_TABLES if not select or self.has_table(name)}
        finally:
            self.use(original)

    def has_table(self, name: str) -> bool:
        return bool(self.column_types(name))


# In-process runs keep no compute logs (no test reads them): Dagster's local compute log
# manager starts two `tail -F` processes and two orphan watchers per step in the test
# process, and a leftover one that pytest sees unreaped fails whichever test is running.
NO_COMPUTE_LOGS = {
    "compute_logs": {"module": "dagster._core.storage.noop_compute_log_manager", "class": "NoOpComputeLogManager"}
}


@contextmanager
def temporary_instance(overrides: dict | None = None) -> Iterator[dg.DagsterInstance]:
    """A temporary Dagster instance for in-process runs: Dagster's test instance, without compute logs."""
    with dg.instance_for_test(overrides={**NO_COMPUTE_LOGS, **(overrides or {})}) as made:
        yield made


# ------------------------------------------------------------- a copy of the project
def copy_package(folder: Path, with_manifest: bool) -> Path:
    """The project's pyproject.toml (dg reads it) and package in `folder`, with the manifest it
    has now or without one."""
    ignored = ["logs", "__pycache__"] + ([] if with_manifest else ["target"])
    copy = folder / "src" / PACKAGE_DIR.name
    shutil.copytree(PACKAGE_DIR, copy, ignore=shutil.ignore_patterns(*ignored))
    shutil.copy(PROJECT_ROOT / "pyproject.toml", folder)
    return copy


def package_env(folder: Path, warehouse) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(folder / "src"), **warehouse_env(warehouse)}


def dbt_env(location) -> dict[str, str]:
    """warehouse_env(location), and the dbt target folder of that environment for this
    project, which holds a parse made in it once a dbt step has run there."""
    env = warehouse_env(location)
    key = hashlib.sha256(json.dumps(sorted(env.items())).encode()).hexdigest()[:16]
    folder = Path(DBT_TARGETS.name) / key
    folder.mkdir(exist_ok=True)
    if not (folder / PARTIAL_PARSE_FILE).exists():
        made = sorted(folder.glob(f"*/{PARTIAL_PARSE_FILE}"), key=lambda path: path.stat().st_mtime)
        if made:
            shutil.copy(made[-1], folder / PARTIAL_PARSE_FILE)
    return {**env, "DBT_TARGET_PATH": str(folder)}
