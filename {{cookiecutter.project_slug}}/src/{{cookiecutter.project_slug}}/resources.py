"""Resources: the {{ {"postgres": "PostgreSQL", "spark": "Spark"}.get(cookiecutter.warehouse, "DuckDB") }} warehouse the Python assets write to, and the dbt CLI."""

{% if cookiecutter.warehouse == "spark" -%}
import importlib.metadata
from collections.abc import Sequence
from functools import cached_property

import dagster as dg
from dagster_dbt import DbtCliResource
from packaging import version  # a dependency of dagster-dbt

from .project import DBT_EXECUTABLE, dbt_project
from .spark_warehouse import SparkWarehouse

# Spark replaces a window by a dynamic `insert overwrite` of its partitions, and two writers of
# one table at once (the same window twice, or a first run of a table that another creates)
# would race for the same partitions and files. Every step that writes (the Python assets
# and the dbt steps) is in this pool, which dagster.yaml limits to one step at a time; each
# step is one Spark job that the server spreads over its cores.
SPARK_POOL = "spark"
WAREHOUSE_POOL = SPARK_POOL
Warehouse = SparkWarehouse


{% elif cookiecutter.warehouse == "postgres" -%}
import importlib.metadata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property

import dagster as dg
import psycopg2  # the driver dbt-postgres and dagster-postgres use too
from dagster_dbt import DbtCliResource
from packaging import version  # a dependency of dagster-dbt

from .project import DBT_EXECUTABLE, dbt_project, postgres_settings

# PostgreSQL takes many writers at once: no pool, so runs and their steps go in parallel.
# Writers of one table take turns inside the database instead (see sql.py and the dbt
# macro lock_for_write).
WAREHOUSE_POOL = None
# dbt builds its models in this schema (profiles.yml); unqualified names resolve there.
MODELS_SCHEMA = "main"


class PostgresConnection:
    """A psycopg2 connection in autocommit mode, with the calls the asset code makes on either
    engine: `execute(sql, params)` returns a cursor to fetch from; `begin()`/`commit()` frame a transaction."""

    def __init__(self, connection):
        self.connection = connection

    def execute(self, sql: str, params: dict | None = None):
        cursor = self.connection.cursor()
        cursor.execute(sql, params)
        return cursor

    def begin(self) -> None:
        self.execute("begin")

    def commit(self) -> None:
        self.execute("commit")


class PostgresWarehouse(dg.ConfigurableResource):
    """The PostgreSQL database of POSTGRES_* (project.py); each `connect()` is one short-lived connection.

    The settings are read from the environment when connecting, never stored in the
    resource's config, so no password shows in the Dagster UI.
    """

    # Where unqualified table names resolve: the schema dbt builds its models in.
    models_schema: str = MODELS_SCHEMA

    @contextmanager
    def connect(self) -> Iterator[PostgresConnection]:
        connection = psycopg2.connect(**postgres_settings(), options=f"-c search_path={self.models_schema}")
        connection.autocommit = True
        try:
            yield PostgresConnection(connection)
        finally:
            connection.close()

    @contextmanager
    def lock_while_missing(self, tables: Sequence[str]) -> Iterator[None]:
        """Hold an advisory lock while any of `tables` (dbt models' schema.table) does not exist yet.

        dbt decides to create a table, rather than add to it, when its run starts; two
        first runs at once would both create it, and one would fail. So runs that find a
        model missing build one after the other (the later one then finds the table);
        once every model exists, nothing is locked and runs go in parallel.
        """
        with self.connect() as con:
            (missing,) = con.execute(
                "select %(count)s - count(*) from information_schema.tables "
                "where table_schema || '.' || table_name = any(%(tables)s)",
                {"count": len(tables), "tables": list(tables)},
            ).fetchone()
            if missing:
                # Held by this session until it ends: the connection closes after dbt.
                con.execute("select pg_advisory_lock(hashtext(%(key)s))", {"key": f"{self.models_schema} first build"})
            yield


Warehouse = PostgresWarehouse


{% else -%}
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

from .duckdb_lock import exclusive_access
from .project import DBT_EXECUTABLE, DUCKDB_PATH, dbt_project

# DuckDB lets one process write a file at a time. Every Python step that opens the file
# runs in this pool, which dagster.yaml limits to one step at a time across all runs; dbt
# steps wait for the file's lock instead (duckdb_lock.py).
DUCKDB_POOL = "duckdb"
WAREHOUSE_POOL = DUCKDB_POOL
# DuckDB keeps up to 80% of RAM by default; past this limit it spills to disk instead.
# dbt's profiles.yml reads the same variable.
MEMORY_LIMIT_ENV_VAR = "DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "1GB"


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


Warehouse = DuckDBWarehouse


{% endif -%}
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
{%- if cookiecutter.warehouse == "spark" %}
        "warehouse": SparkWarehouse(),
{%- elif cookiecutter.warehouse == "postgres" %}
        "warehouse": PostgresWarehouse(),
{%- else %}
        "warehouse": DuckDBWarehouse(path=str(DUCKDB_PATH)),
{%- endif %}
        "dbt": ProjectDbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE),
    }
