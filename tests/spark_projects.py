"""Projects rendered with warehouse=spark: rendering, `make` as a user runs it, and a local server.

The projects start their servers themselves, from the pyspark package's jars and Debian's
Java (.ci/run installs openjdk-17-jre-headless): `make test` starts one per test process,
`make spark-start` one for the commands a user runs.
"""

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import clean_env, uv_executable
from webserver import free_port

NEEDS_JAVA = pytest.mark.skipif(
    shutil.which("java") is None, reason="No Java runtime: apt-get install openjdk-17-jre-headless (.ci/run does)"
)


def bake(cookies_session, answers: dict[str, str]) -> Path:
    result = cookies_session.bake(extra_context=answers)
    assert result.exit_code == 0, result.exception
    return Path(result.project_path)


def make(project: Path, *arguments: str, **env: str) -> str:
    """`make ...` in `project`, as a user runs it; its output (the test fails if it does)."""
    command = ["make", *arguments, f"UV={uv_executable()}"]
    result = subprocess.run(command, cwd=project, env=clean_env(**env), capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{command}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result.stdout


@contextmanager
def local_server(project: Path) -> Iterator[dict[str, str]]:
    """The project's local server (`make spark-start`) on a free port: the settings that reach it."""
    settings = {"SPARK_PORT": str(free_port())}
    make(project, "spark-start", **settings)
    try:
        yield settings
    finally:
        make(project, "spark-stop", **settings)
