"""Day two of a generated project, with copier and make as its docs/operations.md says: add a
category and fill only it, reach back to earlier days, drop the category and purge its rows,
then switch to landing files (docs/updating.md) and load files of the rows it had, and give
the dbt layers schemas of their own.

A project made with copier from a git copy of this template, on DuckDB; every step compares
the tables row by row with what they held before it. What differs on PostgreSQL is proven
there by other tests: a backfill's rows (test_postgres.py, against `dg launch`), a category
filled alone and a smaller rerun (the project's own tests, run by test_postgres.py), a
dropped category purged (its slow tests), landing files (test_landing_store.py).
"""

import duckdb  # with dbt-duckdb, in the dev dependencies
import pytest
from conftest import TEMPLATE, module_constant, uv_executable
from installed import rounded
from template_git import TemplateRepo, commit_all, run

pytestmark = pytest.mark.project_suite

SLUG = "dagster_dbt_pipeline"
FIRST_WEEK = ("2024-01-08", "2024-01-14")  # Monday to Sunday: the project's first days
EARLIER_WEEK = ("2024-01-01", "2024-01-07")
FIRST_ROWS = 30  # raw rows per day and category of the first backfill (later ones: the default, 24)
# The commands of the generated docs/operations.md, with these values.
ADD_CATEGORY = "copier update --trust --defaults --data category_values=A,B,C"
REACH_BACK = "copier update --trust --defaults --data daily_start_date=2024-01-01 --data weekly_start_date=2024-01-01"
FILL_CATEGORY = f"make backfill START={FIRST_WEEK[0]} END={FIRST_WEEK[1]} CATEGORIES=C"
FILL_EARLIER = f"make backfill START={EARLIER_WEEK[0]} END={EARLIER_WEEK[1]}"
DROP_CATEGORY = "copier update --trust --defaults --data category_values=A,B"
PURGE = "make purge-category CATEGORY=C"
# Landing files instead of synthetic rows (docs/updating.md), then files of the earlier week.
SWITCH_TO_FILES = "copier update --trust --defaults --data raw_source=files"
LAND_EARLIER = f"make sample-files START={EARLIER_WEEK[0]} END={EARLIER_WEEK[1]}"
LAND_FIRST = f"make sample-files START={FIRST_WEEK[0]} END={FIRST_WEEK[1]}"
# Schemas per layer (docs/operations.md): the models' tables move, the rest stays.
LAYER_SCHEMAS = {"main.stg_": "main_staging.stg_", "main.mart_": "main_marts.mart_"}
FILL_ALL = f"make backfill START={EARLIER_WEEK[0]} END={FIRST_WEEK[1]}"
DOCUMENTED = [ADD_CATEGORY, FILL_CATEGORY, REACH_BACK, FILL_EARLIER, DROP_CATEGORY, PURGE, "make manifest"]
SHOW_CATEGORIES = (
    '"$UV" run python -c "from dagster_dbt_pipeline.partitions import category_partitions as c; '
    'print(c.get_partition_keys())"'
)


# The schemas the project writes.
PROJECT_TABLES = (
    "select table_schema || '.' || table_name from information_schema.tables "
    "where table_schema in ('raw', 'main', 'main_staging', 'main_marts', 'reports') order by 1"
)


class Tables:
    """The project's warehouse as the test reads it."""

    def __init__(self, env: dict[str, str], connect):
        self.env = env  # what the project needs to use it
        self.connect = connect

    def drop(self, *names: str) -> None:
        connection = self.connect(read_only=False)
        try:
            for name in names:
                connection.execute(f"drop table {name}")
        finally:
            connection.close()

    def __call__(self, where: str = "true") -> dict[str, list[tuple]]:
        """Every table (its rows matching `where`), each sorted."""
        connection = self.connect()
        try:
            cursor = connection.cursor()
            cursor.execute(PROJECT_TABLES)
            names = [name for (name,) in cursor.fetchall()]
            contents = {}
            for name in names:
                cursor.execute(f"select * from {name} where {where}")
                contents[name] = sorted(cursor.fetchall())
            return contents
        finally:
            connection.close()


@pytest.fixture
def warehouse(tmp_path) -> Tables:
    """The project's DuckDB file, in the test's folder."""
    path = tmp_path / "warehouse.duckdb"
    return Tables({"DUCKDB_DATABASE": str(path)}, lambda read_only=True: duckdb.connect(str(path), read_only=read_only))


def test_documented_commands_are_these():
    operations = (TEMPLATE / "{{cookiecutter.project_slug}}" / "docs" / "operations.md").read_text()
    for command in DOCUMENTED:
        assert command in operations, command


def test_add_a_category_reach_back_then_drop_and_purge_it(tmp_path, warehouse):
    tables = warehouse
    template = TemplateRepo(tmp_path / "template")
    project = tmp_path / "project"
    copy = ["copier", "copy", "--trust", "--defaults", "--data", f"daily_start_date={FIRST_WEEK[0]}"]
    run([*copy, str(template.path), str(project)], tmp_path)
    run(["git", "init", "--quiet", "--initial-branch=main"], project)
    commit_all(project, "Generated")
    env = {"UV": uv_executable(), **tables.env}

    def shell(command: str, fails: bool = False, **extra: str) -> str:
        return run(command, project, {**env, **extra}, fails=fails)

    def update(command: str, message: str) -> None:
        shell(command)
        commit_all(project, message)

    shell("make install")
    commit_all(project, "Lock the environment")  # copier updates a clean work tree only
    # More rows than later runs make: a later run that rewrote these rows would change them.
    shell(f"make backfill START={FIRST_WEEK[0]} END={FIRST_WEEK[1]}", RAW_ROWS_PER_PARTITION=str(FIRST_ROWS))
    first = tables()
    assert all(first.values()) and len(first) == 8
    assert tables("category not in ('A', 'B')") == dict.fromkeys(first, [])

    # A new category, filled alone: A and B stay as they were, row by row.
    update(ADD_CATEGORY, "Category C")
    assert module_constant(project / "src" / SLUG / "partitions.py", "CATEGORIES") == ["A", "B", "C"]
    shell(FILL_CATEGORY)
    assert tables("category in ('A', 'B')") == first
    with_c = tables()
    assert all(tables("category = 'C'").values())

    # Earlier days: their rows come in, the later ones stay as they were.
    update(REACH_BACK, "From 2024-01-01")
    shell(FILL_EARLIER)
    assert tables(f"start_time >= '{FIRST_WEEK[0]}'") == with_c
    assert all(tables(f"start_time < '{FIRST_WEEK[0]}'").values())

    # Dropping C: its partitions leave Dagster, its rows stay until the purge.
    before_drop = tables()
    without_c = tables("category <> 'C'")
    update(DROP_CATEGORY, "No category C")
    assert shell(SHOW_CATEGORIES).strip().splitlines()[-1] == "['A', 'B']"
    assert tables() == before_drop
    refused = shell("make purge-category CATEGORY=A", fails=True)
    assert "'A' is still a category of this project" in refused
    assert tables() == before_drop
    shell(PURGE)
    assert tables() == without_c

    # Landing files from now on: the update leaves every row; files holding the rows the
    # synthetic source made load to exactly the same tables.
    update(SWITCH_TO_FILES, "Landing files")
    assert tables() == without_c
    shell(LAND_EARLIER)
    shell(FILL_EARLIER)
    # The reports' sums of doubles may differ in the last bits: rows come back in another order.
    assert rounded(tables()) == rounded(without_c)
    # Every dbt test passes on the whole of every table (no run window): the marts are consistent.
    dbt_dir = f"src/{SLUG}/dbt"
    shell(f'"$UV" run dbt test --project-dir {dbt_dir} --profiles-dir {dbt_dir}')

    # Schemas per layer: with the old model tables dropped, the files of the first week landed
    # (the rows of its first backfill) and every day rebuilt, the models' rows are the same in
    # their new schemas, and the reports, rebuilt from there, too.
    shell(LAND_FIRST, RAW_ROWS_PER_PARTITION=str(FIRST_ROWS))
    before_move = rounded(tables())
    moved_names = {name: new_name(name) for name in before_move}
    dbt_project = project / dbt_dir / "dbt_project.yml"
    dbt_project.write_text(dbt_project.read_text().replace("layer_schemas: false", "layer_schemas: true"))
    tables.drop(*(name for name, moved in moved_names.items() if moved != name))
    shell("make manifest")
    shell(FILL_ALL)
    assert rounded(tables()) == {moved_names[name]: rows for name, rows in before_move.items()}


def new_name(table: str) -> str:
    """Where a table is with schemas per layer."""
    for old, new in LAYER_SCHEMAS.items():
        if table.startswith(old):
            return new + table.removeprefix(old)
    return table
