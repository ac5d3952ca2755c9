"""Shared test tools: a DuckDB file in a temp folder and real partition runs through Dagster."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from {{ cookiecutter.project_slug }} import assets
from {{ cookiecutter.project_slug }}.project import DBT_EXECUTABLE, DUCKDB_ENV_VAR, dbt_project
from {{ cookiecutter.project_slug }}.resources import DuckDBWarehouse, ProjectDbtCliResource
from {{ cookiecutter.project_slug }}.translator import DAILY_TAG, WEEKLY_TAG

ALL_ASSETS = dg.load_assets_from_modules([assets])
DAILY_ASSETS = ["daily_raw_data", "stg_daily_raw_data", "mart_daily_data", "post_processing_daily"]
WEEKLY_ASSETS = ["weekly_raw_data", "stg_weekly_raw_data", "mart_weekly_data", "post_processing_weekly"]
DBT_TABLES_BY_TAG = {
    DAILY_TAG: ["stg_daily_raw_data", "mart_daily_data"],
    WEEKLY_TAG: ["stg_weekly_raw_data", "mart_weekly_data"],
}
DBT_TABLES = [table for tables in DBT_TABLES_BY_TAG.values() for table in tables]
# What Dagster sets on a single-run backfill of a partition range.
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


class Pipeline:
    """Runs partitions of the real assets (real dbt) against one DuckDB file."""

    def __init__(self, path: Path, instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch):
        self.path = path
        self.instance = instance
        self.monkeypatch = monkeypatch
        self.use(path)

    def use(self, path: Path) -> None:
        """Point Python assets and dbt (through DUCKDB_DATABASE) at `path`."""
        self.path = path
        self.monkeypatch.setenv(DUCKDB_ENV_VAR, str(path))
        self.resources = {
            "warehouse": DuckDBWarehouse(path=str(path)),
            "dbt": ProjectDbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE),
        }

    def run(
        self, selection: list[str], first_key: str, last_key: str | None = None, rows: int | None = None
    ) -> dg.ExecuteInProcessResult:
        """One run over the partition range first_key...last_key, as a single-run backfill does."""
        run_config = None
        if rows is not None:
            run_config = {"ops": {"daily_raw_data": {"config": {"rows_per_partition": rows}}}}
        return dg.materialize(
            ALL_ASSETS,
            selection=selection,
            resources=self.resources,
            instance=self.instance,
            run_config=run_config,
            tags={RANGE_START_TAG: first_key, RANGE_END_TAG: last_key or first_key},
        )

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.path), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def table(self, name: str) -> list[tuple]:
        return self.query(f"select * from {name} order by all")

    def dbt_tables(self) -> dict[str, list[tuple]]:
        return {name: self.table(name) for name in DBT_TABLES}

    def full_refresh_copy(self, folder: Path, tag: str | None = None) -> dict[str, list[tuple]]:
        """Rebuild the dbt models (those tagged `tag`, or all) from scratch over a copy of the
        raw data; return their tables."""
        copy = folder / "full_refresh.duckdb"
        shutil.copy(self.path, copy)
        original = self.path
        self.use(copy)
        try:
            select = ["--select", f"tag:{tag}"] if tag else []
            self.resources["dbt"].cli(["build", "--full-refresh", *select], target_path=folder / "target").wait()
            return {name: self.table(name) for name in (DBT_TABLES_BY_TAG[tag] if tag else DBT_TABLES)}
        finally:
            self.use(original)


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as test_instance:
        yield test_instance


@pytest.fixture
def pipeline(tmp_path: Path, instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch) -> Pipeline:
    return Pipeline(tmp_path / "warehouse.duckdb", instance, monkeypatch)
