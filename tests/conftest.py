"""Template tests: answer sets, rendering with cookiecutter, and running a rendered project."""

import ast
import os
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from postgres_server import PostgresServer, ServerError, postgres_binaries, throwaway_server

# The CPU each test module costs, printed after the durations (tests/cpu_time.py).
pytest_plugins = ["cpu_time"]

TEMPLATE = Path(__file__).resolve().parents[1]

# Answer sets every engine must render; the defaults plus ones that move every prompt.
ANSWER_SETS: dict[str, dict[str, str]] = {
    "defaults": {},
    "regions": {
        "project_name": "Regional Sales",
        "category_values": " north , south-east,WEST_2 ",
        "daily_start_date": "2023-12-28",
        "duckdb_path": "warehouse/sales.duckdb",
        "partitioning": "time",
        "raw_source": "files",
    },
    "quoted_name": {
        "project_name": 'Bob\'s "quoted" pipeline \\ """',
        "project_slug": "quoted_pipeline",
        "category_values": "solo",
        "daily_start_date": "2024-02-27",
        "weekly_start_date": "2024-03-11",
    },
    "leap_day": {
        "project_name": "Leap",
        "category_values": "x1,Y-2,z.3",
        "daily_start_date": "2024-02-29",
        "duckdb_path": "/var/tmp/leap/leap.duckdb",
    },
    # Its suite needs a PostgreSQL server: tests/test_postgres.py runs it.
    "postgres": {
        "project_name": "Shared warehouse",
        "category_values": "east,west",
        "daily_start_date": "2024-03-04",
        "warehouse": "postgres",
        "partitioning": "time",
    },
    # Its suites need Java (a local Spark Thrift server): tests/test_spark.py runs them.
    "spark": {
        "project_name": "Store metrics",
        "category_values": "north,south",
        "daily_start_date": "2024-03-04",
        "warehouse": "spark",
    },
    "spark_files_time": {
        "project_name": "Spark landing",
        "category_values": "north,south",
        "daily_start_date": "2024-03-04",
        "warehouse": "spark",
        "raw_source": "files",
        "partitioning": "time",
    },
    # Landing files in an S3 bucket: tests/test_landing_store.py runs it.
    "postgres_files": {
        "project_name": "Landed files",
        "category_values": "east,west",
        "daily_start_date": "2024-03-04",
        "warehouse": "postgres",
        "raw_source": "files",
    },
}


# What generation builds: not part of the rendered sources.
BUILD_OUTPUTS = {"target", "logs", "__pycache__"}


def source_files(project: Path) -> list[Path]:
    return [
        path
        for path in project.rglob("*")
        if path.is_file() and not BUILD_OUTPUTS & set(path.relative_to(project).parts)
    ]


def assert_every_file_parses(project: Path) -> None:
    """No template syntax is left, and every Python, YAML and TOML file parses."""
    for path in source_files(project):
        text = path.read_text()
        assert "cookiecutter" not in text, path
        assert "{% raw" not in text and "{%- raw" not in text, path
        if path.suffix == ".py":
            ast.parse(text, filename=str(path))
        elif path.suffix in {".yml", ".yaml"}:
            yaml.safe_load(text)
        elif path.suffix == ".toml":
            tomllib.loads(text)


def module_constant(path: Path, name: str):
    """The literal value assigned to `name` at the top of a rendered Python module."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and [target.id for target in node.targets] == [name]:
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} is not assigned in {path}")


def uv_executable() -> str:
    """The uv that runs this suite (`uv run` exports UV), else the one on PATH."""
    uv = os.environ.get("UV") or shutil.which("uv")
    if not uv:
        pytest.fail("uv is needed to build the rendered projects' environments; run the tests with `make test`.")
    return uv


# What points a rendered project at a database or an instance: never inherited from the
# shell running this suite, only given on purpose (PostgresServer.env).
# PYTHONDONTWRITEBYTECODE (set on some CI machines) is left out too: a project's processes
# then write their .pyc files themselves and `make install` need not compile every package
# (the rendered Makefile); the one test that gives it checks that install compiles.
DATABASE_SETTINGS = ("HOST", "PORT", "USER", "PASSWORD", "DB")
SPARK_SETTINGS = ("HOST", "PORT", "USER", "AUTH", "PASSWORD", "SCHEMA_PREFIX", "STAGING_DIR", "HTTP_PATH")
PROJECT_SETTINGS = (
    {"VIRTUAL_ENV", "DUCKDB_DATABASE", "PYTHONPATH", "DAGSTER_HOME", "PYTHONDONTWRITEBYTECODE"}
    | {f"{prefix}_{name}" for prefix in ("POSTGRES", "DAGSTER_PG") for name in DATABASE_SETTINGS}
    | {f"SPARK_{name}" for name in SPARK_SETTINGS}
)


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a rendered project: this suite's venv, DuckDB path and database settings left out."""
    env = {k: v for k, v in os.environ.items() if k not in PROJECT_SETTINGS}
    env.update(extra)
    return env


def path_without_uv(folder: Path) -> str:
    """PATH as a machine without uv has it: each folder holding uv is replaced by one in
    `folder` with links to its other programs (python3, make and the rest stay found)."""
    folders = []
    for index, entry in enumerate(os.environ["PATH"].split(os.pathsep)):
        original = Path(entry)
        if not (original / "uv").exists():
            folders.append(entry)
            continue
        copy = folder / str(index)
        copy.mkdir(parents=True)
        for program in original.iterdir():
            if program.name not in {"uv", "uvx"}:
                (copy / program.name).symlink_to(program)
        folders.append(str(copy))
    return os.pathsep.join(folders)


# Test modules of a rendered project whose subject the warehouse, the raw source and the
# partitioning leave alone: Dagster's event storage, alerts, the catalog, the translator,
# slim CI's selection (dbt parse and ls). The default project's suite (test_tooling.py) runs
# them; the PostgreSQL, Spark and files-by-time projects leave them out (on Spark,
# test_event_storage.py alone took 97 s of test time).
CHOICE_FREE_MODULES = [
    "test_alerts.py",
    "test_catalog.py",
    "test_event_storage.py",
    "test_slim_ci.py",
    "test_translator.py",
]


def without_choice_free_modules() -> str:
    """PYTEST_ARGS for a rendered project's `make test` that leave out CHOICE_FREE_MODULES."""
    return " ".join(f"--ignore=tests/{name}" for name in CHOICE_FREE_MODULES)


def run_project_suite(project: Path, target: str = "test", without_uv: Path | None = None, **env: str) -> None:
    """`make test` inside a rendered project: a new .venv from its pyproject.toml, then its
    tests but the slow multi-run ones (test_tooling.py runs those, as the project's CI does).
    `target` names another make target (test-slow); `env` adds settings (a database).
    `without_uv` (a scratch folder): uv neither on PATH nor given, so the Makefile installs it."""
    uv = [] if without_uv else [f"UV={uv_executable()}"]
    project_env = clean_env(**env)
    if without_uv:
        # `uv run` exports UV, which the Makefile would take; pip's downloads stay in this
        # checkout, as uv's do (the Makefile's UV_CACHE_DIR).
        project_env.pop("UV", None)
        project_env.update(PATH=path_without_uv(without_uv), PIP_CACHE_DIR=str(TEMPLATE / ".cache" / "pip"))
    result = subprocess.run(
        ["make", target, *uv],
        cwd=project,
        env=project_env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"The rendered project's tests failed:\n{result.stdout[-6000:]}\n{result.stderr[-4000:]}")
    assert " passed" in result.stdout and " failed" not in result.stdout


# The longest modules first, the longest of all first: two workers take whole modules
# (`make test`: --dist loadfile) in this order (--no-loadscope-reorder; pytest-xdist would
# otherwise start the modules with the most tests first, and these, with few, ran last).
LONGEST_FIRST = [
    "test_spark.py",
    "test_spark_pairs.py",
    "test_project_slow.py",
    "test_postgres.py",
    "test_tooling.py",
    "test_landing_store.py",
    "test_render.py",
    # Two image builds and shared instances: 263 s in the suite with the images' layers cached
    # (163 s alone on a quiet machine, 104 s of CPU), 381 s without them.
    "test_image.py",
    "test_ui_backfill.py",
    "test_dg.py",
    "test_day_two.py",
    "test_update.py",
    "test_browser.py",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: index for index, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: a module's order is kept


@pytest.fixture
def cookiecutter_config(tmp_path: Path) -> Path:
    """A cookiecutter user config whose replay and clone folders are temporary."""
    config = tmp_path / "cookiecutter-config.yaml"
    config.write_text(f'cookiecutters_dir: "{tmp_path / "cookiecutters"}"\nreplay_dir: "{tmp_path / "replay"}"\n')
    return config


def own_traceback_frames(output: str) -> list[str]:
    """Traceback lines from anything but the engines themselves.

    cookiecutter logs a failed hook, and copier a failed validator given with --data, with
    a traceback of its own; the template's checks print none.
    """
    engines = ("/cookiecutter/", "/copier/", "/bin/copier", "/plumbum/")
    frames = [line for line in output.splitlines() if line.strip().startswith('File "')]
    return [frame for frame in frames if not any(engine in frame for engine in engines)]


def run_copier(destination: Path, answers: dict[str, str], *options: str) -> subprocess.CompletedProcess:
    """The copier command line, as a user runs it, without prompts."""
    command = ["copier", "copy", "--trust", "--defaults", *options]
    command += [f"--data={key}={value}" for key, value in answers.items()]
    return subprocess.run(
        [*command, str(TEMPLATE), str(destination)], capture_output=True, text=True, env=clean_env(), check=False
    )


def run_cookiecutter(output: Path, config: Path, answers: dict[str, str]) -> subprocess.CompletedProcess:
    """The cookiecutter command line, as a user runs it, without prompts."""
    output.mkdir(parents=True, exist_ok=True)
    command = ["cookiecutter", "--no-input", "--config-file", str(config), "--output-dir", str(output), str(TEMPLATE)]
    command += [f"{key}={value}" for key, value in answers.items()]
    return subprocess.run(command, capture_output=True, text=True, env=clean_env(), check=False)


# ----------------------------------------------------------------------------- PostgreSQL
# Tests of projects rendered with warehouse=postgres need a server. One given by
# TEST_POSTGRES_HOST/PORT/USER/PASSWORD is used when it answers (the tests create and drop
# their own databases in it); otherwise the session starts a throwaway server from the
# PostgreSQL binaries (Debian's `postgresql` package; .ci/run installs it) on a free
# loopback port, with its data in a temporary folder, and stops it at the end.
@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    given = os.environ.get("TEST_POSTGRES_HOST")
    if given:
        server = PostgresServer(
            host=given,
            port=int(os.environ.get("TEST_POSTGRES_PORT", "5432")),
            user=os.environ.get("TEST_POSTGRES_USER", "postgres"),
            password=os.environ.get("TEST_POSTGRES_PASSWORD", ""),
        )
        if not server.answers():
            pytest.fail(f"TEST_POSTGRES_HOST is set, but no PostgreSQL server answers at {given}:{server.port}.")
        yield server
        return
    if postgres_binaries() is None:
        pytest.skip("No PostgreSQL server binaries (initdb) here: apt-get install postgresql (.ci/run does).")
    try:
        with throwaway_server() as server:
            yield server
    except ServerError as error:
        pytest.fail(str(error))


# The default project, rendered and installed once per worker, for the modules that use it
# (imported last: installed.py uses the helpers above).
from installed import installed_project  # noqa: E402, F401
