"""The dbt project's own rules and tests: every model is declared (description, typed and
described columns under an enforced contract, a tested key), every mart has dbt unit tests
(models/marts/_marts_unit_tests.yml) that pass on an empty warehouse, as `make unit-test`
runs them, and Dagster's runs leave those out (they test the code, not a window's data)."""

import json
from datetime import date
from pathlib import Path

import pytest
from pipeline_runs import Pipeline
from warehouses import new_warehouse, warehouse_env

from {{ cookiecutter.project_slug }}.partitions import DAILY_START_DATE
from {{ cookiecutter.project_slug }}.project import DBT_EXECUTABLE, dbt_project
from {{ cookiecutter.project_slug }}.resources import ProjectDbtCliResource
from {{ cookiecutter.project_slug }}.translator import MARTS_FOLDER

UNIT_TESTS = ["test", "--select", "test_type:unit"]
# The dbt model of each daily asset the run below materializes (the raw data feeds them).
DAILY_CHAIN = ["daily_raw_data", "stg_daily_raw_data", "mart_daily_data"]


def manifest() -> dict:
    return json.loads(Path(dbt_project.manifest_path).read_text())


# A key: a column tested not_null and unique, or unique within each period of a window.
KEY_TESTS = {"unique", "unique_in_period"}


def model_rule_breaches(manifest: dict) -> list[str]:
    """What each of the project's models lacks of the bar its neighbours set."""
    project = manifest["metadata"]["project_name"]
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["package_name"] == project]
    tests: dict[tuple[str, str], set[str]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test" and node.get("test_metadata") and node.get("column_name"):
            key = (node["attached_node"], node["column_name"])
            tests.setdefault(key, set()).add(node["test_metadata"]["name"])
    breaches = []
    for model in models:
        name, columns = model["name"], model["columns"].values()
        if not model["description"].strip():
            breaches.append(f"{name}: no description")
        if not model["config"]["contract"]["enforced"]:
            breaches.append(f"{name}: no enforced contract (config: contract: enforced: true)")
        if not columns:
            breaches.append(f"{name}: no columns declared")
        for column in columns:
            if not column["description"].strip() or not column.get("data_type"):
                breaches.append(f"{name}.{column['name']}: a description and a data_type, both")
        column_tests = [tests.get((model["unique_id"], column["name"]), set()) for column in columns]
        if not any("not_null" in names and KEY_TESTS & names for names in column_tests):
            breaches.append(f"{name}: no key (a column tested not_null and unique or unique_in_period)")
    return breaches


def test_every_model_is_declared_typed_and_keyed():
    """A model added (by hand or `dg scaffold`) without its YAML fails here, by name; its
    enforced contract makes dbt refuse a query whose columns are not the declared ones."""
    breaches = model_rule_breaches(manifest())
    assert not breaches, "Declare these in the models' YAML, as their neighbours are:\n" + "\n".join(breaches)


def test_every_mart_has_unit_tests():
    parsed = manifest()
    nodes = parsed["nodes"].values()
    marts = {node["name"] for node in nodes if node["resource_type"] == "model" and MARTS_FOLDER in node["fqn"][1:-1]}
    tested = {test["model"] for test in parsed["unit_tests"].values()}
    assert marts, "No model in models/marts"
    assert marts <= tested, f"Marts without a unit test: {sorted(marts - tested)}"


def test_the_unit_tests_pass_on_an_empty_warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for name, value in warehouse_env(new_warehouse(tmp_path, "unit_tests")).items():
        monkeypatch.setenv(name, value)
    dbt = ProjectDbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)
    invocation = dbt.cli(UNIT_TESTS, target_path=tmp_path / "target", raise_on_error=False).wait()
    results = invocation.get_artifact("run_results.json")["results"]
    failed = [result["unique_id"] for result in results if result["status"] != "pass"]
    assert invocation.is_successful() and not failed, f"Unit tests that did not pass: {failed}"
    assert len(results) == len(manifest()["unit_tests"])


def test_a_dagster_run_leaves_the_unit_tests_out(pipeline: Pipeline):
    result = pipeline.run(DAILY_CHAIN, date.fromisoformat(DAILY_START_DATE))
    assert result.success
    commands = [
        entry.user_message
        for entry in pipeline.instance.all_logs(result.run_id)
        if entry.user_message.startswith("Finished dbt command")
    ]
    assert commands, "The run started no dbt command"
    assert all("--exclude-resource-type unit_test" in command for command in commands), commands
