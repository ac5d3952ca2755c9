"""A rendered default project with its .venv, shared by the tooling, slow-job and dg tests (one install a worker)."""

import os
import subprocess
from pathlib import Path

import duckdb  # with dbt-duckdb, in the dev dependencies
import pytest
import yaml
from conftest import clean_env, uv_executable

# The rendered project's GitHub workflow, and its job that runs the slow tests.
WORKFLOW = Path(".github/workflows/ci.yml")
SLOW_JOB = "slow"
# What GitHub fills in for the expressions of the workflow's settings, here: a pull request
# into main (test_tooling.py makes the project a git repository with that branch).
GITHUB_EXPRESSIONS = {"${{ github.base_ref }}": "main"}


def filled_in(value) -> str:
    text = str(value)
    for expression, filled in GITHUB_EXPRESSIONS.items():
        text = text.replace(expression, filled)
    assert "${{" not in text, f"an expression the tests do not fill in: {text}"
    return text


def workflow_steps(workflow: dict):
    """(job, step, command, working folder, env) of every `run:` step, in order."""
    base_env = workflow.get("env", {})
    for job_name, job in workflow["jobs"].items():
        job_env = {**base_env, **job.get("env", {})}
        job_folder = job.get("defaults", {}).get("run", {}).get("working-directory", ".")
        for index, step in enumerate(job["steps"]):
            if "uses" in step:
                continue
            assert step.get("shell", "bash") == "bash", (job_name, step)
            name = step.get("name", f"step {index + 1}")
            folder = step.get("working-directory", job_folder)
            env = {key: filled_in(value) for key, value in {**job_env, **step.get("env", {})}.items()}
            yield job_name, name, step["run"], folder, env


def warehouse_tables(path: Path) -> dict[str, list[tuple]]:
    """Every table of a project's DuckDB file, each sorted."""
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables order by 1"
        ).fetchall()
        return {table: sorted(con.execute(f"select * from {table}").fetchall()) for (table,) in tables}


def rounded(contents: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """Tables with every float rounded to 6 decimals: sums of doubles differ in the last digits
    with the order rows are read in (PostgreSQL reads a reloaded table in a new order)."""
    return {
        name: [tuple(round(value, 6) if isinstance(value, float) else value for value in row) for row in rows]
        for name, rows in contents.items()
    }


class Project:
    """A rendered project with its .venv; runs commands in it, each command once."""

    def __init__(self, root: Path, home: Path):
        self.root = root
        uv = Path(uv_executable())
        # The workflow calls `uv` by name; the Makefile reads UV from the environment.
        path = f"{uv.parent}{os.pathsep}{os.environ.get('PATH', '')}"
        self.env = clean_env(UV=str(uv), PATH=path, PRE_COMMIT_HOME=str(home / "pre-commit"))
        self.env.pop("DAGSTER_HOME", None)
        self.done: dict[tuple, subprocess.CompletedProcess] = {}

    def run(self, command: str, cwd: Path | None = None, env: dict[str, str] | None = None, again: bool = False):
        """`command` in bash, as GitHub Actions runs a step (-e, pipefail); the test fails on an error.

        A command that already passed with the same folder and environment is not run again,
        unless `again` (its output depends on files a test changed).
        """
        cwd = cwd or self.root
        key = (command, str(cwd), tuple(sorted((env or {}).items())))
        if again or key not in self.done:
            result = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", command],
                cwd=cwd,
                env={**self.env, **(env or {})},
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                pytest.fail(
                    f"`{command}` failed in {cwd} (exit {result.returncode}):\n"
                    f"{result.stdout[-6000:]}\n{result.stderr[-4000:]}"
                )
            self.done[key] = result
        return self.done[key]

    def workflow(self) -> dict:
        return yaml.safe_load((self.root / WORKFLOW).read_text())


@pytest.fixture(scope="session")
def installed_project(cookies_session, tmp_path_factory) -> Project:
    """The default project, rendered once per session, after `make install`."""
    result = cookies_session.bake()
    assert result.exit_code == 0, result.exception
    project = Project(Path(result.project_path), tmp_path_factory.mktemp("tool-home"))
    project.run("make install")
    return project
