"""Day two of a generated project, with copier and make as its docs/operations.md says: add a
category and fill only it, reach back to earlier days, then drop the category and purge its rows.

One DuckDB project made with copier from a git copy of this template; every step compares
the tables row by row with what they held before it.
"""

from pathlib import Path

import duckdb  # with dbt-duckdb, in the dev dependencies
import pytest
from conftest import TEMPLATE, module_constant, uv_executable
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
DOCUMENTED = [ADD_CATEGORY, FILL_CATEGORY, REACH_BACK, FILL_EARLIER, DROP_CATEGORY, PURGE]
SHOW_CATEGORIES = (
    '"$UV" run python -c "from dagster_dbt_pipeline.partitions import category_partitions as c; '
    'print(c.get_partition_keys())"'
)


def tables(database: Path, where: str = "true") -> dict[str, list[tuple]]:
    """Every table of the project's DuckDB file (its rows matching `where`), each sorted."""
    with duckdb.connect(str(database), read_only=True) as con:
        listed = con.execute("select table_schema || '.' || table_name from information_schema.tables order by 1")
        names = [name for (name,) in listed.fetchall()]
        return {name: sorted(con.execute(f"select * from {name} where {where}").fetchall()) for name in names}


def test_documented_commands_are_these():
    operations = (TEMPLATE / "{{cookiecutter.project_slug}}" / "docs" / "operations.md").read_text()
    for command in DOCUMENTED:
        assert command in operations, command


def test_add_a_category_reach_back_then_drop_and_purge_it(tmp_path):
    template = TemplateRepo(tmp_path / "template")
    project = tmp_path / "project"
    copy = ["copier", "copy", "--trust", "--defaults", "--data", f"daily_start_date={FIRST_WEEK[0]}"]
    run([*copy, str(template.path), str(project)], tmp_path)
    run(["git", "init", "--quiet", "--initial-branch=main"], project)
    commit_all(project, "Generated")
    database = tmp_path / "warehouse.duckdb"
    env = {"UV": uv_executable(), "DUCKDB_DATABASE": str(database)}

    def shell(command: str, fails: bool = False, **extra: str) -> str:
        return run(command, project, {**env, **extra}, fails=fails)

    def update(command: str, message: str) -> None:
        shell(command)
        commit_all(project, message)

    shell("make install")
    commit_all(project, "Lock the environment")  # copier updates a clean work tree only
    # More rows than later runs make: a later run that rewrote these rows would change them.
    shell(f"make backfill START={FIRST_WEEK[0]} END={FIRST_WEEK[1]}", RAW_ROWS_PER_PARTITION=str(FIRST_ROWS))
    first = tables(database)
    assert all(first.values()) and len(first) == 8
    assert tables(database, "category not in ('A', 'B')") == dict.fromkeys(first, [])

    # A new category, filled alone: A and B stay as they were, row by row.
    update(ADD_CATEGORY, "Category C")
    assert module_constant(project / "src" / SLUG / "partitions.py", "CATEGORIES") == ["A", "B", "C"]
    shell(FILL_CATEGORY)
    assert tables(database, "category in ('A', 'B')") == first
    with_c = tables(database)
    assert all(tables(database, "category = 'C'").values())

    # Earlier days: their rows come in, the later ones stay as they were.
    update(REACH_BACK, "From 2024-01-01")
    shell(FILL_EARLIER)
    assert tables(database, f"start_time >= '{FIRST_WEEK[0]}'") == with_c
    assert all(tables(database, f"start_time < '{FIRST_WEEK[0]}'").values())

    # Dropping C: its partitions leave Dagster, its rows stay until the purge.
    before_drop = tables(database)
    without_c = tables(database, "category <> 'C'")
    update(DROP_CATEGORY, "No category C")
    assert shell(SHOW_CATEGORIES).strip().splitlines()[-1] == "['A', 'B']"
    assert tables(database) == before_drop
    refused = shell("make purge-category CATEGORY=A", fails=True)
    assert "'A' is still a category of this project" in refused
    assert tables(database) == before_drop
    shell(PURGE)
    assert tables(database) == without_c
    # Every dbt test passes on the whole of every table (no run window): the marts are consistent.
    dbt_dir = f"src/{SLUG}/dbt"
    shell(f'"$UV" run dbt test --project-dir {dbt_dir} --profiles-dir {dbt_dir}')
