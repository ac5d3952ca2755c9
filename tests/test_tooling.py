"""A rendered project's own tooling passes as generated: ruff, sqlfluff, dg, dbt docs,
pre-commit, and every command of its GitHub Actions workflow, in one virtual environment."""

import json
import re
import shlex
import shutil

import pytest
from installed import SLOW_JOB, Project, rounded, warehouse_tables, workflow_steps

pytestmark = pytest.mark.project_suite

SLIM_CI_JOB = "slim-ci"
EXPECTED_JOBS = {"lint", "test", SLOW_JOB, SLIM_CI_JOB}
# What the workflow must run, wherever in its jobs. The default project's slow tests (its
# workflow's `slow` job) run in test_project_slow.py, and nowhere else in the template's suite.
EXPECTED_COMMANDS = {
    "uv sync",
    "make lint",
    "make manifest",
    "uv run dg check defs",
    "make test",
    "make test-slow",
    "make backfill",
    "make slim-ci",
}
# The project's DuckDB file (the workflow sets no DUCKDB_DATABASE), and the schema of the
# dbt target ci (profiles.yml), where slim CI builds.
DUCKDB_FILE = "data/dagster_dbt_pipeline.duckdb"
CI_SCHEMA = "ci"
GIT = ["git", "-c", "user.name=template test", "-c", "user.email=test@example.invalid"]


@pytest.fixture(scope="module")
def project(installed_project) -> Project:
    return installed_project


@pytest.fixture(scope="module")
def workflow(installed_project) -> dict:
    return installed_project.workflow()


def test_workflow_parses_with_the_expected_jobs(workflow):
    # YAML 1.1 (PyYAML) reads the key `on` as True.
    triggers = workflow.get("on", workflow.get(True))
    assert {"push", "pull_request"} <= set(triggers)
    assert set(workflow["jobs"]) == EXPECTED_JOBS
    for job in workflow["jobs"].values():
        assert job["runs-on"] == "ubuntu-latest"
        actions = [step["uses"].split("@")[0] for step in job["steps"] if "uses" in step]
        assert actions[:2] == ["actions/checkout", "astral-sh/setup-uv"]
    commands = [command for _, _, command, _, _ in workflow_steps(workflow)]
    assert EXPECTED_COMMANDS <= set(commands)
    # Commands run as written, here as on GitHub: no expression is left for Actions to fill in.
    assert not [command for command in commands if "${{" in command]


def test_ruff_check(project):
    project.run("uv run ruff check")


def test_ruff_format(project):
    project.run("uv run ruff format --check")


def test_sqlfluff_lints_the_dbt_models(project):
    models = next(project.root.glob("src/*/dbt/models"))
    result = project.run(f"uv run sqlfluff lint {models.relative_to(project.root)}")
    assert "All Finished" in result.stdout


def test_dg_check_defs(project):
    result = project.run("uv run dg check defs")
    assert "All definitions loaded successfully" in result.stdout


def test_make_docs_builds_the_dbt_docs_on_the_project_duckdb_file(project):
    project.run("make docs")
    target = next(project.root.glob("src/*/dbt/target"))
    assert (target / "index.html").is_file()
    assert (target / "catalog.json").is_file()
    # The catalog was read from the generated default file, inside the project.
    assert list((project.root / "data").glob("*.duckdb"))


def test_pre_commit_hooks_pass(project, tmp_path):
    if shutil.which("git") is None:
        pytest.skip("pre-commit needs git")
    # A copy: pre-commit needs a git repository, and the project folder stays as rendered.
    copy = tmp_path / "project"
    shutil.copytree(project.root, copy, symlinks=True, ignore=shutil.ignore_patterns(".venv", "data", "target"))
    git = "git -c user.name=test -c user.email=test@example.com"
    # The copy runs the tools of the project's .venv as they are (no sync into it).
    env = {"UV_PROJECT_ENVIRONMENT": str(project.root / ".venv"), "UV_NO_SYNC": "1"}
    result = project.run(f"{git} init -q && {git} add -A && uv run pre-commit run --all-files", cwd=copy, env=env)
    for hook in ("ruff check", "ruff format", "sqlfluff lint (dbt models)"):
        assert re.search(rf"^{re.escape(hook)}\.+Passed$", result.stdout, re.MULTILINE), result.stdout


@pytest.mark.quick
def test_make_test_passes(project):
    """The project's fast tests, as its CI's test job runs them: `make test` in the project's
    folder, no other setting (the workflow test below takes this run's result)."""
    result = project.run("make test")
    assert " passed" in result.stdout and " failed" not in result.stdout


def as_pull_request(project: Project) -> str:
    """The project as a git repository whose origin/main has another version of a staging
    model (the working tree keeps the project's): the pull request of the slim-ci job."""
    model = sorted((project.root / "src").glob("*/dbt/models/staging/*.sql"))[0]

    def git(*arguments: str) -> None:
        project.run(shlex.join([*GIT, *arguments]))

    git("init", "--quiet")
    git("add", "-A")
    git("commit", "--quiet", "-m", "project")
    git("checkout", "--quiet", "-b", "base")
    model.write_text(model.read_text() + "\n-- production's version\n")
    git("commit", "--quiet", "-am", "base")
    git("update-ref", "refs/remotes/origin/main", "HEAD")
    git("checkout", "--quiet", "-")
    git("branch", "--quiet", "-D", "base")
    return model.stem


def test_every_workflow_command_passes(project, workflow):
    """Every step of the workflow but the slow job's (test_project_slow.py runs those); the
    slim-ci job's in a pull request whose change is one staging model: its children are
    built in the ci target's schema, and nothing else is."""
    changed = as_pull_request(project)
    ran = []
    for job, step, command, folder, env in workflow_steps(workflow):
        if job != SLOW_JOB:
            project.run(command, cwd=project.root / folder, env=env)
            ran.append((job, step))
    assert {job for job, _ in ran} == EXPECTED_JOBS - {SLOW_JOB}
    tables = rounded(warehouse_tables(project.root / DUCKDB_FILE))
    built = {name.split(".", 1)[1] for name in tables if name.startswith(f"{CI_SCHEMA}.")}
    assert changed in built and len(built) > 1, built
    assert "stg_weekly_raw_data" not in built  # a model the change leaves out
    # Built whole from the raw data, and from production's tables where deferred: the rows of
    # the backfill's models.
    assert {name: tables[f"{CI_SCHEMA}.{name}"] for name in built} == {name: tables[f"main.{name}"] for name in built}
    # The code location's manifest still names the dev target's tables (the next tests load it).
    manifest = json.loads(next((project.root / "src").glob("*/dbt/target/manifest.json")).read_text())
    assert {node["schema"] for node in manifest["nodes"].values() if node["resource_type"] == "model"} == {"main"}
