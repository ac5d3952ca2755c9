"""A rendered project's own tooling passes as generated: ruff, sqlfluff, dg, dbt docs,
pre-commit, and every command of its GitHub Actions workflow, in one virtual environment."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import clean_env, uv_executable

pytestmark = pytest.mark.project_suite

WORKFLOW = Path(".github/workflows/ci.yml")
EXPECTED_JOBS = {"lint", "test", "slow"}
# What the workflow must run, wherever in its jobs. The slow tests of the default project
# run here, as its workflow runs them, and nowhere else in the template's suite.
EXPECTED_COMMANDS = {"uv sync", "make lint", "make manifest", "uv run dg check defs", "make test", "make test-slow"}


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

    def run(self, command: str, cwd: Path | None = None, env: dict[str, str] | None = None):
        """`command` in bash, as GitHub Actions runs a step (-e, pipefail); the test fails on an error.

        A command that already passed with the same folder and environment is not run again.
        """
        cwd = cwd or self.root
        key = (command, str(cwd), tuple(sorted((env or {}).items())))
        if key not in self.done:
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


@pytest.fixture(scope="module")
def rendered(cookies_session) -> Path:
    result = cookies_session.bake()
    assert result.exit_code == 0, result.exception
    return Path(result.project_path)


@pytest.fixture(scope="module")
def project(rendered: Path, tmp_path_factory) -> Project:
    project = Project(rendered, tmp_path_factory.mktemp("tool-home"))
    project.run("make install")
    return project


@pytest.fixture(scope="module")
def workflow(rendered: Path) -> dict:
    return yaml.safe_load((rendered / WORKFLOW).read_text())


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
            env = {key: str(value) for key, value in {**job_env, **step.get("env", {})}.items()}
            yield job_name, name, step["run"], folder, env


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


def test_every_workflow_command_passes(project, workflow):
    ran = []
    for job, step, command, folder, env in workflow_steps(workflow):
        project.run(command, cwd=project.root / folder, env=env)
        ran.append((job, step))
    assert {job for job, _ in ran} == EXPECTED_JOBS
