"""Resources: the DuckDB warehouse the Python assets write to, and the dbt CLI."""

import fcntl
import importlib.metadata
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource
from packaging import version  # a dependency of dagster-dbt

from .project import DBT_EXECUTABLE, DUCKDB_PATH, dbt_project

# DuckDB lets one process write a file at a time. Every step that opens the file runs in
# this pool, which dagster.yaml limits to one step at a time across all runs.
DUCKDB_POOL = "duckdb"
# DuckDB keeps up to 80% of RAM by default; past this limit it spills to disk instead.
# dbt's profiles.yml reads the same variable.
MEMORY_LIMIT_ENV_VAR = "DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "1GB"


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
            memory_limit = os.environ.get(MEMORY_LIMIT_ENV_VAR, DEFAULT_MEMORY_LIMIT)
            connection = duckdb.connect(self.path, config={"memory_limit": memory_limit})
            try:
                yield connection
            finally:
                connection.close()


class ProjectDbtCliResource(DbtCliResource):
    """The dbt CLI resource, without two start-up costs per dbt command that this project never uses.

    Before every `dbt ...` it starts, dagster-dbt 0.29 runs `dbt --version` in a new process
    (to tell dbt-core from dbt Fusion) and builds an in-process dbt adapter (only used by
    fetch_row_counts / fetch_column_metadata). Here dbt is this venv's own dbt-core, and
    neither fetch is used: about 5 s of CPU saved per dbt step (docs/performance.md).
    Both are private methods of dagster-dbt: check them when moving its pin.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None


def build_resources() -> dict[str, dg.ConfigurableResource]:
    return {
        "warehouse": DuckDBWarehouse(path=str(DUCKDB_PATH)),
        "dbt": ProjectDbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE),
    }
