"""cookiecutter renders a complete, parseable project for every answer set."""

import ast
import json
import re
import tomllib
from pathlib import Path

import pytest
from conftest import (
    ANSWER_SETS,
    assert_every_file_parses,
    module_constant,
    run_cookiecutter,
    run_project_suite,
    without_choice_free_modules,
)

EXPECTED_FILES = [
    "README.md",
    "Makefile",
    "pyproject.toml",
    "dagster.yaml",
    ".env.example",
    ".gitignore",
    ".sqlfluff",
    ".pre-commit-config.yaml",
    ".github/workflows/ci.yml",
    "scripts/backfill.py",
    "scripts/summary.py",
    "scripts/purge_category.py",
    "scripts/slim_ci.py",
    "docs/operations.md",
    "Dockerfile",
    ".dockerignore",
    "docs/deploy.md",
    "deploy/dagster.yaml",
    "deploy/workspace.yaml",
    "deploy/helm-values.yaml",
    "build.yaml",
    "container_context.yaml",
    "tests/conftest.py",
    "tests/pipeline_runs.py",
    "tests/warehouses.py",
    "tests/test_definitions.py",
    "tests/test_pipeline.py",
    "tests/test_automation.py",
    "tests/test_project.py",
    "tests/test_rebuild.py",
    "tests/test_categories.py",
    "tests/test_alerts.py",
    "tests/test_checks.py",
    "tests/test_slim_ci.py",
    "src/{slug}/definitions.py",
    "src/{slug}/defs/__init__.py",
    "src/{slug}/defs/raw/raw_data.py",
    "src/{slug}/defs/raw/checks.py",
    "src/{slug}/defs/transform/dbt_models.py",
    "src/{slug}/defs/reports/summaries.py",
    "src/{slug}/defs/automation/sensors.py",
    "src/{slug}/defs/automation/alerts.py",
    "src/{slug}/defs/jobs/pipelines.py",
    "src/{slug}/defs/resources.py",
    "src/{slug}/partitions.py",
    "src/{slug}/windows.py",
    "src/{slug}/resources.py",
    "src/{slug}/project.py",
    "src/{slug}/translator.py",
    "src/{slug}/conditions.py",
    "src/{slug}/sql.py",
    "src/{slug}/dbt_relations.py",
    "src/{slug}/dbt/dbt_project.yml",
    "src/{slug}/dbt/profiles.yml",
    "src/{slug}/dbt/macros/cross_engine.sql",
    "src/{slug}/dbt/macros/require_window_columns.sql",
    "src/{slug}/dbt/macros/generate_schema_name.sql",
    "src/{slug}/dbt/models/sources.yml",
    "src/{slug}/dbt/models/staging/stg_daily_raw_data.sql",
    "src/{slug}/dbt/models/staging/stg_weekly_raw_data.sql",
    "src/{slug}/dbt/models/marts/mart_daily_data.sql",
    "src/{slug}/dbt/models/marts/mart_weekly_data.sql",
    "src/{slug}/dbt/target/manifest.json",
]


@pytest.fixture(scope="session")
def rendered(cookies_session):
    """Render each answer set once per session; `rendered(name)` gives the project folder."""
    projects: dict[str, Path] = {}

    def render(name: str) -> Path:
        if name not in projects:
            result = cookies_session.bake(extra_context=ANSWER_SETS[name])
            assert result.exit_code == 0, result.exception
            projects[name] = Path(result.project_path)
        return projects[name]

    return render


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_renders_the_whole_tree(rendered, name):
    project = rendered(name)
    slug = project.name
    for relative in EXPECTED_FILES:
        assert (project / relative.format(slug=slug)).is_file(), relative
    assert not (project / ".copier-answers.yml").exists()
    assert_every_file_parses(project)


def test_answers_reach_the_generated_code(rendered):
    project = rendered("regions")
    partitions = project / "src/regional_sales/partitions.py"
    assert module_constant(partitions, "CATEGORIES") == ["north", "south-east", "WEST_2"]
    assert module_constant(partitions, "DAILY_START_DATE") == "2023-12-28"
    assert module_constant(partitions, "WEEKLY_START_DATE") == "2024-01-01"  # the first Monday on or after
    assert module_constant(project / "src/regional_sales/project.py", "DEFAULT_DUCKDB_PATH") == "warehouse/sales.duckdb"


# What the rest of the code location, the scripts and the tests use of partitions.py.
PARTITIONS_INTERFACE = {
    "CATEGORIES",
    "DAILY_START_DATE",
    "WEEKLY_START_DATE",
    "RANGE_START_TAG",
    "RANGE_END_TAG",
    "daily_periods",
    "weekly_periods",
    "daily_partitions",
    "weekly_partitions",
    "daily_to_weekly",
    "single_run",
    "partition_key",
    "run_tags",
    "partition_window",
}


def module_names(path: Path) -> set[str]:
    """The names a module defines at its top level."""
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign):
            names |= {target.id for target in node.targets if isinstance(target, ast.Name)}
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
    return names


def test_each_partitioning_is_one_module_behind_one_interface(rendered):
    by_category, by_time = rendered("defaults"), rendered("regions")
    multi = by_category / "src/dagster_dbt_pipeline/partitions.py"
    single = by_time / "src/regional_sales/partitions.py"
    assert PARTITIONS_INTERFACE <= module_names(multi)
    assert PARTITIONS_INTERFACE <= module_names(single)
    assert "MultiPartitionsDefinition" in multi.read_text()
    assert "MultiPartitionsDefinition" not in single.read_text() and "CATEGORIES_TAG" in module_names(single)
    # The tests of the run tag come with the choice that has it.
    assert (by_time / "tests/test_category_tag.py").is_file()
    assert not (by_category / "tests/test_category_tag.py").exists()


# What each raw source's defs/raw/raw_data.py defines: the same two assets.
RAW_ASSETS = {"daily_raw_data", "weekly_raw_data"}
# The modules, script and tests only the files source brings.
FILES_ONLY = [
    "src/{slug}/landing.py",
    "src/{slug}/staging.py",
    "src/{slug}/file_contract.py",
    "src/{slug}/samples.py",
    "src/{slug}/defs/automation/landing_sensor.py",
    "scripts/sample_files.py",
    "tests/test_landing.py",
    "tests/test_landing_contract.py",
    "tests/test_landing_sensor.py",
]


def test_each_raw_source_is_one_module_behind_one_interface(rendered):
    synthetic, files = rendered("defaults"), rendered("regions")
    for project in (synthetic, files):
        assert RAW_ASSETS <= module_names(project / f"src/{project.name}/defs/raw/raw_data.py")
        assert "def prepare_raw_input" in (project / "tests/raw_input.py").read_text()
    for relative in FILES_ONLY:
        assert (files / relative.format(slug=files.name)).is_file(), relative
        assert not (synthetic / relative.format(slug=synthetic.name)).exists(), relative
    # Only the synthetic assets have a cron; files are loaded when the sensor sees them arrive.
    assert "automation_condition" in (synthetic / f"src/{synthetic.name}/defs/raw/raw_data.py").read_text()
    assert "automation_condition" not in (files / f"src/{files.name}/defs/raw/raw_data.py").read_text()
    assert "\nsample-files:" in (files / "Makefile").read_text()
    assert "sample-files" not in (synthetic / "Makefile").read_text()
    assert "fsspec" in dependencies(files) and "fsspec" not in dependencies(synthetic)
    extras = tomllib.loads((files / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert set(extras) == {"s3", "gcs", "azure"}
    assert "LANDING_URL" in (files / ".env.example").read_text()
    assert "LANDING_URL" not in (synthetic / ".env.example").read_text()


def dependencies(project: Path) -> set[str]:
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    return {re.split(r"[\[<>=~ ]", requirement)[0] for requirement in pyproject["project"]["dependencies"]}


def test_each_warehouse_brings_only_its_engine(rendered):
    duck, postgres = rendered("defaults"), rendered("postgres")
    assert {"dbt-duckdb", "duckdb"} <= dependencies(duck)
    assert not {"dbt-postgres", "psycopg2-binary"} & dependencies(duck)
    assert {"dbt-postgres", "psycopg2-binary"} <= dependencies(postgres)
    assert not {"dbt-duckdb", "duckdb"} & dependencies(postgres)
    # Spark: dbt-spark with its Thrift client; DuckDB (in memory) makes and checks the rows it stages.
    spark = rendered("spark")
    assert {"dbt-spark", "duckdb"} <= dependencies(spark)
    assert not {"dbt-duckdb", "dbt-postgres", "psycopg2-binary"} & dependencies(spark)
    # All can use a shared instance on PostgreSQL (deploy/dagster.yaml).
    assert "dagster-postgres" in dependencies(duck) & dependencies(postgres) & dependencies(spark)

    assert "type: duckdb" in (duck / "src/dagster_dbt_pipeline/dbt/profiles.yml").read_text()
    assert "type: postgres" in (postgres / "src/shared_warehouse/dbt/profiles.yml").read_text()
    # The pool that lets one DuckDB writer in at a time, only where DuckDB is.
    assert "default_limit: 1" in (duck / "dagster.yaml").read_text()
    assert "default_limit" not in (postgres / "dagster.yaml").read_text()
    assert module_constant(duck / "src/dagster_dbt_pipeline/resources.py", "DUCKDB_POOL") == "duckdb"
    assert "\nWAREHOUSE_POOL = DUCKDB_POOL\n" in (duck / "src/dagster_dbt_pipeline/resources.py").read_text()
    assert module_constant(postgres / "src/shared_warehouse/resources.py", "WAREHOUSE_POOL") is None
    assert "type: spark" in (spark / "src/store_metrics/dbt/profiles.yml").read_text()
    assert "default_limit: 1" in (spark / "dagster.yaml").read_text()
    assert module_constant(spark / "src/store_metrics/resources.py", "SPARK_POOL") == "spark"
    # No DuckDB in the code, tests and scripts of a PostgreSQL project (but in the macros
    # that dispatch on the engine, the same file for both).
    for folder in ("src", "tests", "scripts"):
        for path in (postgres / folder).rglob("*"):
            skipped = {"target", "logs", "__pycache__", "cross_engine.sql"}
            if path.is_file() and not skipped & set(path.parts):
                assert "duckdb" not in path.read_text().lower(), path


def test_dbt_models_are_the_same_for_every_warehouse(rendered):
    """SQL that differs between engines is in dispatched macros, not in copies of models."""
    duck = rendered("defaults") / "src/dagster_dbt_pipeline/dbt/models"
    for other in (rendered("postgres") / "src/shared_warehouse", rendered("spark") / "src/store_metrics"):
        for model in duck.rglob("*.sql"):
            assert model.read_text() == (other / "dbt/models" / model.relative_to(duck)).read_text(), model.name
    macros = (duck.parent / "macros" / "cross_engine.sql").read_text()
    for name in ("round_cents", "date_key", "lock_for_write"):
        assert f"adapter.dispatch('{name}')" in macros and f"postgres__{name}" in macros, name


def test_a_name_stays_text(rendered):
    project = rendered("quoted_name")
    description = tomllib.loads((project / "pyproject.toml").read_text())["project"]["description"]
    assert description == 'Dagster + dbt pipeline: Bob\'s "quoted" pipeline \\ """'
    assert (project / "README.md").read_text().startswith("# Bob's")


def test_post_generation_builds_the_dbt_manifest(rendered):
    project = rendered("defaults")
    manifest = json.loads((project / "src/dagster_dbt_pipeline/dbt/target/manifest.json").read_text())
    models = {node["name"] for node in manifest["nodes"].values() if node["resource_type"] == "model"}
    assert models == {"stg_daily_raw_data", "stg_weekly_raw_data", "mart_daily_data", "mart_weekly_data"}


def test_cookiecutter_renders_jinja_given_on_its_command_line(tmp_path, cookiecutter_config):
    """cookiecutter's own behaviour, documented in the README: answers passed on its
    command line are rendered as templates (copier keeps them as typed)."""
    result = run_cookiecutter(tmp_path, cookiecutter_config, {"project_name": "Sum {{ 7 * 7 }}"})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "sum_49" / "README.md").read_text().startswith("# Sum 49\n")


@pytest.mark.project_suite
def test_a_files_project_by_time_passes_its_own_tests(rendered):
    """regions (DuckDB, time partitions, landing files): every pair of choices the default
    project (test_tooling.py) and the PostgreSQL ones (test_postgres.py, test_landing_store.py)
    leave out, but the modules no answer changes (conftest.CHOICE_FREE_MODULES). The slow
    tests do not depend on the answers (test_tooling.py runs them once), but for the landing
    files sensor's property test, which only files projects have."""
    project = rendered("regions")
    run_project_suite(project, PYTEST_ARGS=without_choice_free_modules())
    run_project_suite(project, "test-slow", PYTEST_ARGS="tests/test_landing_sensor.py")


# What a project with one category runs: its code location, partitions and pipeline runs.
ONE_CATEGORY_TESTS = "tests/test_definitions.py tests/test_partitions.py tests/test_pipeline.py"


@pytest.mark.project_suite
def test_a_project_starts_without_uv_and_runs_with_one_category(rendered, tmp_path):
    """quoted_name, on a machine as a new user's may be: uv is not installed, so its Makefile
    installs uv with pip into .cache/tools first, then the project (its quoted name in
    pyproject.toml), compiling every package where PYTHONDONTWRITEBYTECODE is set (as on some
    CI machines); then its one category's partitions and runs. (Its other choices are the
    default project's, whose whole suite test_tooling.py runs.)"""
    project = rendered("quoted_name")
    run_project_suite(
        project, without_uv=tmp_path, PYTHONDONTWRITEBYTECODE="1", PYTEST_WORKERS="0", PYTEST_ARGS=ONE_CATEGORY_TESTS
    )
    assert (project / ".cache" / "tools" / "bin" / "uv").is_file()
    # Only `make install` could write these: no test imports sqlfluff (the tests themselves
    # run with PYTHONDONTWRITEBYTECODE unset, so the packages they import prove nothing).
    assert list((project / ".venv").glob("lib/python*/site-packages/sqlfluff/__pycache__/*.pyc"))
