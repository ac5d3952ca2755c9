"""Template tests: answer sets, rendering with cookiecutter, and running a rendered project."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

TEMPLATE = Path(__file__).resolve().parents[1]

# Answer sets every engine must render; the defaults plus ones that move every prompt.
ANSWER_SETS: dict[str, dict[str, str]] = {
    "defaults": {},
    "regions": {
        "project_name": "Regional Sales",
        "category_values": " north , south-east,WEST_2 ",
        "daily_start_date": "2023-12-28",
        "duckdb_path": "warehouse/sales.duckdb",
    },
    "quoted_name": {
        "project_name": 'Bob\'s "quoted" pipeline {{ 7 * 7 }} """',
        "project_slug": "quoted_pipeline",
        "category_values": "solo",
        "daily_start_date": "2024-02-27",
        "weekly_start_date": "2024-03-11",
    },
}


def uv_executable() -> str:
    """The uv that runs this suite (`uv run` exports UV), else the one on PATH."""
    uv = os.environ.get("UV") or shutil.which("uv")
    if not uv:
        pytest.fail("uv is needed to build the rendered projects' environments; run the tests with `make test`.")
    return uv


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a rendered project: this suite's venv and DuckDB path left out."""
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "DUCKDB_DATABASE", "PYTHONPATH"}}
    env.update(extra)
    return env


def run_project_suite(project: Path) -> None:
    """`make test` inside a rendered project: a new .venv from its pyproject.toml, then its tests."""
    result = subprocess.run(
        ["make", "test", f"UV={uv_executable()}"],
        cwd=project,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"The rendered project's tests failed:\n{result.stdout[-6000:]}\n{result.stderr[-4000:]}")
    assert " passed" in result.stdout and " failed" not in result.stdout


@pytest.fixture
def cookiecutter_config(tmp_path: Path) -> Path:
    """A cookiecutter user config whose replay and clone folders are temporary."""
    config = tmp_path / "cookiecutter-config.yaml"
    config.write_text(f'cookiecutters_dir: "{tmp_path / "cookiecutters"}"\nreplay_dir: "{tmp_path / "replay"}"\n')
    return config


def run_cookiecutter(output: Path, config: Path, answers: dict[str, str]) -> subprocess.CompletedProcess:
    """The cookiecutter command line, as a user runs it, without prompts."""
    output.mkdir(parents=True, exist_ok=True)
    command = ["cookiecutter", "--no-input", "--config-file", str(config), "--output-dir", str(output), str(TEMPLATE)]
    command += [f"{key}={value}" for key, value in answers.items()]
    return subprocess.run(command, capture_output=True, text=True, env=clean_env(), check=False)
