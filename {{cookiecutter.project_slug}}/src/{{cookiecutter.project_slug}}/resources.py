"""Resources: the DuckDB warehouse the Python assets write to, and the dbt CLI."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource

from .project import DBT_EXECUTABLE, DUCKDB_PATH, dbt_project

# DuckDB lets one process write a file at a time. Every step that opens the file runs in
# this pool, which dagster.yaml limits to one step at a time across all runs.
DUCKDB_POOL = "duckdb"


class DuckDBWarehouse(dg.ConfigurableResource):
    """A DuckDB file; each `connect()` is one short-lived connection."""

    path: str

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        connection = duckdb.connect(self.path)
        try:
            yield connection
        finally:
            connection.close()


def build_resources() -> dict[str, dg.ConfigurableResource]:
    return {
        "warehouse": DuckDBWarehouse(path=str(DUCKDB_PATH)),
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE),
    }
