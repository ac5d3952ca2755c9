"""A generated project holds no secret, and git ignores what must never be committed."""

import re
import subprocess
from pathlib import Path

import pytest
from conftest import clean_env

# A value on the same line; a reference to an environment variable (dbt's env_var, Dagster's
# `env:` on the next line, a shell's $NAME or $(command)) is not a value, nor a switch (true/false).
SECRET_ASSIGNMENT = re.compile(
    r"(password|passwd|secret|token|api[_-]?key)\s*[:=][ \t]*(?!'\{\{ env_var\(|\$|(?:true|false)\b)\S",
    re.IGNORECASE,
)
NEVER_COMMITTED = [
    ".env",
    "data/dagster_dbt_pipeline.duckdb",
    "data/dagster_dbt_pipeline.duckdb.wal",
    "src/dagster_dbt_pipeline/dbt/target/manifest.json",
    "src/dagster_dbt_pipeline/dbt/logs/dbt.log",
    ".venv/bin/python",
    ".tmp_dagster_home_x1/storage",
]


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def project(cookies_session, request) -> Path:
    result = cookies_session.bake(extra_context={"warehouse": request.param})
    assert result.exit_code == 0, result.exception
    return Path(result.project_path)


def test_no_secret_is_written_into_any_file(project):
    for path in project.rglob("*"):
        if path.is_file() and "target" not in path.parts and "logs" not in path.parts:
            assert not SECRET_ASSIGNMENT.search(path.read_text()), path


def test_credentials_and_paths_come_from_the_environment(project):
    profiles = (project / "src/dagster_dbt_pipeline/dbt/profiles.yml").read_text()
    env_example = (project / ".env.example").read_text()
    if "type: postgres" in profiles:
        for name in ["POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"]:
            assert f'env_var("{name}"' in profiles and f"\n# {name}=" in env_example, name
    else:
        assert 'env_var("DUCKDB_DATABASE"' in profiles
        assert "DUCKDB_DATABASE=" in env_example
    # The alert webhook: documented, never given a value.
    alerts = (project / "src/dagster_dbt_pipeline/defs/automation/alerts.py").read_text()
    assert 'WEBHOOK_ENV_VAR = "ALERT_WEBHOOK_URL"' in alerts
    assert "\n# ALERT_WEBHOOK_URL=\n" in env_example
    shared = (project / "deploy/dagster.yaml").read_text()
    for name in ["DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USER", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB"]:
        assert f"env: {name}\n" in shared and f"# {name}=" in env_example, name


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
