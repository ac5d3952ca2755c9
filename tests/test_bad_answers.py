"""Every rule of the pre-generation check: one clear line, no traceback, nothing written."""

import pytest
from conftest import own_traceback_frames, run_cookiecutter, run_copier

BAD_ANSWERS = {
    "empty name": ({"project_name": " "}, "project_name: must not be empty."),
    "slug not an identifier": (
        {"project_slug": "my-pipeline"},
        "project_slug: 'my-pipeline' is not a Python identifier (use a-z, 0-9 and _, not starting with a digit).",
    ),
    "slug starting with a digit": (
        {"project_slug": "1pipeline"},
        "project_slug: '1pipeline' is not a Python identifier (use a-z, 0-9 and _, not starting with a digit).",
    ),
    "slug is a keyword": ({"project_slug": "class"}, "project_slug: 'class' is a Python keyword; choose another name."),
    "slug not lowercase": ({"project_slug": "Pipeline"}, "project_slug: 'Pipeline' must be lowercase."),
    "slug shadows an import": (
        {"project_slug": "duckdb"},
        "project_slug: 'duckdb' would shadow the package of the same name; choose another name.",
    ),
    "empty category": (
        {"category_values": "A,,B"},
        "category_values: needs one or more comma-separated names, none empty (e.g. A,B).",
    ),
    "no category": (
        {"category_values": ""},
        "category_values: needs one or more comma-separated names, none empty (e.g. A,B).",
    ),
    "duplicate category": ({"category_values": "A, B ,A"}, "category_values: A given more than once."),
    "pipe in a category": (
        {"category_values": "A|B,C"},
        "category_values: 'A|B' contains '|', which separates partition key parts.",
    ),
    "quote in a category": (
        {"category_values": "A,it's"},
        "category_values: 'it's' may hold only letters, digits, spaces, '_', '-' and '.', "
        "starting with a letter or digit.",
    ),
    "malformed daily date": (
        {"daily_start_date": "01/02/2024", "weekly_start_date": "2024-01-01"},
        "daily_start_date: '01/02/2024' is not a date in the form YYYY-MM-DD.",
    ),
    "impossible daily date": (
        {"daily_start_date": "2023-02-29", "weekly_start_date": "2024-01-01"},
        "daily_start_date: '2023-02-29' is not a real calendar date.",
    ),
    "malformed weekly date": (
        {"weekly_start_date": "2024-1-8"},
        "weekly_start_date: '2024-1-8' is not a date in the form YYYY-MM-DD.",
    ),
    "weekly start not a Monday": (
        {"weekly_start_date": "2024-01-09"},
        "weekly_start_date: 2024-01-09 is a Tuesday; weeks start on a Monday.",
    ),
    "weekly start before the daily start": (
        {"daily_start_date": "2024-01-03", "weekly_start_date": "2024-01-01"},
        "weekly_start_date: 2024-01-01 is before daily_start_date 2024-01-03; a week needs its days.",
    ),
    "owner without team: or @": (
        {"owner": "data team"},
        "owner: must be team:<name> (letters, digits, '_', '-' and '.') or an email address.",
    ),
    "empty DuckDB path": ({"duckdb_path": ""}, "duckdb_path: must not be empty (e.g. data/warehouse.duckdb)."),
    "quote in the DuckDB path": (
        {"duckdb_path": "data/it's.duckdb"},
        "duckdb_path: must not contain quotes, braces, '%', backslashes, line breaks or surrounding spaces.",
    ),
    "DuckDB path is a folder": (
        {"duckdb_path": "data/"},
        "duckdb_path: 'data/' names a folder; give a file, e.g. data/warehouse.duckdb.",
    ),
}


@pytest.mark.parametrize("case", BAD_ANSWERS)
def test_cookiecutter_rejects(case, tmp_path, cookiecutter_config):
    answers, message = BAD_ANSWERS[case]
    output = tmp_path / "out"
    result = run_cookiecutter(output, cookiecutter_config, answers)
    assert result.returncode != 0
    assert f"  {message}\n" in result.stderr
    assert not own_traceback_frames(result.stdout + result.stderr)
    assert list(output.iterdir()) == []


@pytest.mark.parametrize("case", BAD_ANSWERS)
def test_copier_rejects_with_the_same_message(case, tmp_path):
    answers, message = BAD_ANSWERS[case]
    destination = tmp_path / "project"
    result = run_copier(destination, answers)
    assert result.returncode != 0
    assert f"Validation error for question '{message.split(':')[0]}': {message}" in result.stderr
    assert not own_traceback_frames(result.stdout + result.stderr)
    assert not destination.exists()


# A choice outside its list is refused by each engine itself, before the template's checks
# run, with the engine's own message (and its own traceback): nothing is written.
UNKNOWN_WAREHOUSE = {"warehouse": "mysql"}
ENGINE_MESSAGES = {
    "cookiecutter": (
        "mysql provided for choice variable warehouse, but the choices are ['duckdb', 'postgres', 'spark']."
    ),
    "copier": "Invalid choice for 'warehouse': 'mysql' is not in ['duckdb', 'postgres', 'spark']",
}


def template_frames(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip().startswith('File "') and "/hooks/" in line]


def test_cookiecutter_refuses_an_unknown_warehouse(tmp_path, cookiecutter_config):
    output = tmp_path / "out"
    result = run_cookiecutter(output, cookiecutter_config, UNKNOWN_WAREHOUSE)
    assert result.returncode != 0
    assert ENGINE_MESSAGES["cookiecutter"] in result.stderr
    assert not template_frames(result.stdout + result.stderr)
    assert list(output.iterdir()) == []


def test_copier_refuses_an_unknown_warehouse(tmp_path):
    destination = tmp_path / "project"
    result = run_copier(destination, UNKNOWN_WAREHOUSE)
    assert result.returncode != 0
    assert ENGINE_MESSAGES["copier"] in result.stderr
    assert not template_frames(result.stdout + result.stderr)
    assert not destination.exists()


def test_the_template_checks_the_warehouse_too():
    """Answers that reach the hook without the engine's check (a replay file, a script calling
    it) meet the same rule, with the message copier.yml's validator gives."""
    import importlib.util

    from conftest import TEMPLATE

    spec = importlib.util.spec_from_file_location("pre_gen_project", TEMPLATE / "hooks" / "pre_gen_project.py")
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    assert hook.check_choice("warehouse", "mysql") == ["warehouse: 'mysql' is not one of duckdb, postgres, spark."]
    assert hook.check_choice("warehouse", "postgres") == []
    assert hook.check_choice("partitioning", "category") == [
        "partitioning: 'category' is not one of time_x_category, time."
    ]
    assert hook.check_choice("partitioning", "time") == []
    assert hook.check_choice("raw_source", "kafka") == ["raw_source: 'kafka' is not one of synthetic, files."]
    assert hook.check_choice("raw_source", "files") == []
    questions = (TEMPLATE / "copier.yml").read_text()
    warehouse_rule = "warehouse: '{{ warehouse }}' is not one of duckdb, postgres, spark."
    assert warehouse_rule in questions.split("\nwarehouse:", 1)[1]
    assert (
        "partitioning: '{{ partitioning }}' is not one of time_x_category, time."
        in questions.split("\npartitioning:", 1)[1]
    )
    assert "raw_source: '{{ raw_source }}' is not one of synthetic, files." in questions.split("\nraw_source:", 1)[1]


def test_every_problem_is_listed_at_once(tmp_path, cookiecutter_config):
    answers = {"project_slug": "class", "category_values": "A,A", "weekly_start_date": "2024-01-09"}
    result = run_cookiecutter(tmp_path / "out", cookiecutter_config, answers)
    lines = [line.strip() for line in result.stderr.splitlines() if line.startswith("  ")]
    assert [line.split(":")[0] for line in lines] == ["project_slug", "category_values", "weekly_start_date"]
