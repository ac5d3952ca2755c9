"""Rendered projects' `make image-test`: each image built here and its code server run in a container.

No image registry is reachable here: the Dockerfile's BASE_IMAGE and UV_IMAGE are made from
Debian's repository and this suite's uv (container_images.py), once, and kept in the engine's
storage. The builds run with chroot isolation and the host network, the containers with runc and
a containers.conf without default rlimits (the machine the suite is measured on needs both:
its default OCI runtime cannot set rlimits). The projects' own test
(tests/test_image.py of each) then builds, checks the image, and runs a shared instance's code
server in a container against this session's PostgreSQL server (conftest.postgres_server).
Two projects, pairwise with the other suites: DuckDB with time x category partitions and
synthetic rows (the defaults), PostgreSQL with time partitions and landing files.
"""

import subprocess
from pathlib import Path

import pytest
from conftest import PostgresServer, clean_env, uv_executable
from container_images import ImageError, image_id, image_test_settings, missing_tools, remove_image

pytestmark = pytest.mark.project_suite

PROJECTS = {
    "duckdb": {"project_slug": "image_duckdb", "category_values": "A,B"},
    "postgres": {
        "project_slug": "image_postgres",
        "warehouse": "postgres",
        "raw_source": "files",
        "partitioning": "time",
        "category_values": "east,west",
    },
}
IMAGE_TESTS = 3  # the tests of a project's tests/test_image.py


@pytest.fixture(scope="module")
def settings() -> dict[str, str]:
    """IMAGE_BUILD_OPTIONS, IMAGE_RUN_OPTIONS, CONTAINERS_CONF for `make image-test` here."""
    missing = missing_tools()
    if missing:
        pytest.skip(f"Not found: {', '.join(missing)}, to build and run images (.ci/run installs them from Debian).")
    try:
        return image_test_settings(uv_executable())
    except ImageError as error:
        pytest.fail(str(error))


@pytest.mark.parametrize("warehouse", PROJECTS)
def test_make_image_test_passes(warehouse, settings, cookies_session, postgres_server: PostgresServer):
    result = cookies_session.bake(extra_context=PROJECTS[warehouse])
    assert result.exit_code == 0, result.exception
    project = Path(result.project_path)
    # The instance's throwaway database in this session's server; a PostgreSQL warehouse's too.
    env = {**settings, **postgres_server.env("DAGSTER_PG")}
    if warehouse == "postgres":
        env.update(postgres_server.env())
    tag = f"localhost/{project.name.replace('_', '-')}:image-test"
    previous = image_id(tag)
    made = subprocess.run(
        ["make", "image-test", f"UV={uv_executable()}"],
        cwd=project,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        check=False,
    )
    output = f"{made.stdout[-6000:]}\n{made.stderr[-3000:]}"
    assert made.returncode == 0, output
    assert f"{IMAGE_TESTS} passed" in made.stdout and "skipped" not in made.stdout, output
    # The image stays (the next run's build reuses its layers); the one it replaced goes.
    if previous and previous != image_id(tag):
        remove_image(previous)
