"""cookiecutter renders a complete, parseable project for every answer set."""

import json
import tomllib
from pathlib import Path

import pytest
from conftest import (
    ANSWER_SETS,
    SUITE_ANSWER_SETS,
    assert_every_file_parses,
    module_constant,
    run_cookiecutter,
    run_project_suite,
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
    "tests/conftest.py",
    "tests/test_definitions.py",
    "tests/test_pipeline.py",
    "tests/test_automation.py",
    "src/{slug}/definitions.py",
    "src/{slug}/assets.py",
    "src/{slug}/partitions.py",
    "src/{slug}/resources.py",
    "src/{slug}/project.py",
    "src/{slug}/jobs.py",
    "src/{slug}/translator.py",
    "src/{slug}/automation.py",
    "src/{slug}/dbt/dbt_project.yml",
    "src/{slug}/dbt/profiles.yml",
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
@pytest.mark.parametrize("name", SUITE_ANSWER_SETS)
def test_rendered_project_passes_its_own_tests(rendered, name):
    # The slow multi-run tests do not depend on the answers: test_tooling.py runs them once.
    run_project_suite(rendered(name))
