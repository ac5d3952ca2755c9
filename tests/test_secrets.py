"""A generated project holds no secret, and git ignores what must never be committed."""

import re
import subprocess
from pathlib import Path

import pytest
from conftest import clean_env

SECRET_ASSIGNMENT = re.compile(r"(password|passwd|secret|token|api[_-]?key)\s*[:=]\s*\S", re.IGNORECASE)
NEVER_COMMITTED = [
    ".env",
    "data/dagster_dbt_pipeline.duckdb",
    "data/dagster_dbt_pipeline.duckdb.wal",
    "src/dagster_dbt_pipeline/dbt/target/manifest.json",
    "src/dagster_dbt_pipeline/dbt/logs/dbt.log",
    ".venv/bin/python",
    ".tmp_dagster_home_x1/storage",
]


@pytest.fixture(scope="module")
def project(cookies_session) -> Path:
    result = cookies_session.bake()
    assert result.exit_code == 0, result.exception
    return Path(result.project_path)


def test_no_secret_is_written_into_any_file(project):
    for path in project.rglob("*"):
        if path.is_file() and "target" not in path.parts and "logs" not in path.parts:
            assert not SECRET_ASSIGNMENT.search(path.read_text()), path


def test_credentials_and_paths_come_from_the_environment(project):
    profiles = (project / "src/dagster_dbt_pipeline/dbt/profiles.yml").read_text()
    assert 'env_var("DUCKDB_DATABASE"' in profiles
    assert "DUCKDB_DATABASE=" in (project / ".env.example").read_text()


@pytest.mark.parametrize("relative", NEVER_COMMITTED)
def test_git_ignores(project, relative):
    subprocess.run(["git", "init", "--quiet"], cwd=project, check=True, env=clean_env())
    result = subprocess.run(
        ["git", "check-ignore", "--no-index", "--quiet", relative], cwd=project, env=clean_env(), check=False
    )
    assert result.returncode == 0, f"{relative} is not ignored by the generated .gitignore"


def test_git_keeps_the_project_files(project):
    for relative in [".env.example", "dagster.yaml", "src/dagster_dbt_pipeline/dbt/profiles.yml"]:
        result = subprocess.run(["git", "check-ignore", "--no-index", "--quiet", relative], cwd=project, check=False)
        assert result.returncode == 1, f"{relative} should be committed"
