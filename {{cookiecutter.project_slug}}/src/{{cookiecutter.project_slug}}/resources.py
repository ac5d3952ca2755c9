"""Resources: the DuckDB warehouse the Python assets write to, and the dbt CLI."""

import fcntl
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


@contextmanager
def exclusive_access(database: Path) -> Iterator[None]:
    """Wait for, then hold, an OS lock on `<database>.lock` while the file is in use.

    The pool serialises steps, but Dagster's slot claim on its default SQLite storage is
    not atomic: two steps can, rarely, get the one slot at once. This lock is the last
    guard, so a writer waits instead of failing on DuckDB's own file lock. (POSIX only.)
    """
    database.parent.mkdir(parents=True, exist_ok=True)
    with open(database.with_name(database.name + ".lock"), "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


class DuckDBWarehouse(dg.ConfigurableResource):
    """A DuckDB file; each `connect()` is one short-lived connection, held alone."""

    path: str

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with exclusive_access(Path(self.path)):
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
