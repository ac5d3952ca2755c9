"""Where things live: the project root, {{ {"postgres": "the PostgreSQL settings", "spark": "the dbt folder"}.get(cookiecutter.warehouse, "the DuckDB file") }} and the one dbt project object."""

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

PACKAGE_DIR = Path(__file__).resolve().parent
# src layout: <root>/src/<package>/project.py. Relative paths are read from the root,
# which is also where `dagster dev` and the Makefile run.
PROJECT_ROOT = PACKAGE_DIR.parents[1]
DBT_PROJECT_DIR = PACKAGE_DIR / "dbt"

{% if cookiecutter.warehouse == "postgres" -%}
# The PostgreSQL database shared by the Python assets and dbt (profiles.yml reads the same
# variables). Values live only in the environment or .env, never in a file of the project.
# The defaults fit a local server; the password has none.
POSTGRES_SETTINGS = {
    # psycopg2 keyword: (environment variable, default)
    "host": ("POSTGRES_HOST", "localhost"),
    "port": ("POSTGRES_PORT", "5432"),
    "user": ("POSTGRES_USER", "postgres"),
    "password": ("POSTGRES_PASSWORD", ""),
    "dbname": ("POSTGRES_DB", "{{ cookiecutter.project_slug }}"),
}
POSTGRES_DB_ENV_VAR = POSTGRES_SETTINGS["dbname"][0]

{% elif cookiecutter.warehouse == "duckdb" -%}
DUCKDB_ENV_VAR = "DUCKDB_DATABASE"
DEFAULT_DUCKDB_PATH = {{ cookiecutter.duckdb_path | tojson }}
# A DuckDB service (MotherDuck: `md:<database>`) is named by URL, not by a path: kept as given.
REMOTE_DUCKDB_PREFIX = "md:"

{% endif -%}
# The dbt installed next to this interpreter, so a venv that is not activated (and a
# `dbtf` elsewhere on PATH) cannot swap in another dbt.
DBT_EXECUTABLE = shutil.which("dbt", path=str(Path(sys.executable).parent)) or "dbt"


{% if cookiecutter.warehouse == "postgres" -%}
def postgres_settings() -> dict[str, str]:
    """Connection settings from the POSTGRES_* variables, read at each call (tests switch databases)."""
    return {keyword: os.environ.get(name) or default for keyword, (name, default) in POSTGRES_SETTINGS.items()}


{% elif cookiecutter.warehouse == "duckdb" -%}
def resolve_duckdb_path() -> Path:
    """The DuckDB file from DUCKDB_DATABASE (or the generated default), made absolute.

    dbt runs inside the dbt folder while Dagster runs from the project root, so a
    relative path would name two different files. It is resolved against the project
    root once and exported, and dbt's profiles.yml reads the exported value.
    """
    raw = os.environ.get(DUCKDB_ENV_VAR, "").strip() or DEFAULT_DUCKDB_PATH
    if raw.startswith(REMOTE_DUCKDB_PREFIX):
        return Path(raw)
    path = Path(raw).expanduser()
    if not path.is_absolute():
        path = PROJECT_ROOT / path
    return path.resolve()


DUCKDB_PATH = resolve_duckdb_path()
os.environ[DUCKDB_ENV_VAR] = str(DUCKDB_PATH)

{% endif -%}
dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


# What `dbt parse` reads: when one of these files is newer than target/manifest.json (a
# model added or changed, a test's accepted values updated by `copier update`), the
# manifest no longer describes the project and Dagster would load the old one.
DBT_SOURCE_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".md", ".py"}
# What dbt writes or installs: never a reason to parse again.
DBT_BUILD_DIRS = {"target", "logs", "dbt_packages", "__pycache__"}


def newest_dbt_source_mtime() -> float:
    """The modification time of the newest file that `dbt parse` reads."""
    newest = 0.0
    for folder, subfolders, files in os.walk(DBT_PROJECT_DIR):
        subfolders[:] = [name for name in subfolders if name not in DBT_BUILD_DIRS]
        for name in files:
            if os.path.splitext(name)[1] in DBT_SOURCE_SUFFIXES:
                newest = max(newest, os.stat(os.path.join(folder, name)).st_mtime)
    return newest


# The dbt target (profiles.yml) comes from DBT_TARGET, dbt's own variable.
DBT_TARGET_ENV_VAR = "DBT_TARGET"
DEFAULT_DBT_TARGET = "dev"  # profiles.yml's `target:`
# What prepare_manifest() parsed, recorded beside the manifest: the dbt target (the manifest
# names each model's relation for it, dbt_relations.py reads them) and the modification
# times of the files it put in target/. dbt run by hand in the dbt folder (`dbt build`,
# `make unit-test`) rewrites those files for its own target and environment; the record no
# longer matches them and the next load parses again. So Dagster's dbt steps start from a
# partial-parse file made in their own environment: dbt parses the whole project again
# when its profile, target or `--vars` differ from the file's.
PARSE_RECORD_FILE = "dagster_parse.json"
PARSED_FILES = ("manifest.json", "partial_parse.msgpack")


def dbt_target() -> str:
    """The dbt target of this process: DBT_TARGET, or profiles.yml's default."""
    return os.environ.get(DBT_TARGET_ENV_VAR, "").strip() or DEFAULT_DBT_TARGET


def parsed_files(folder: Path) -> dict[str, int]:
    """The modification times (ns) of the parse's files that are in `folder`."""
    times = {}
    for name in PARSED_FILES:
        try:
            times[name] = (folder / name).stat().st_mtime_ns
        except FileNotFoundError:
            pass
    return times


def parse_record() -> dict:
    """What prepare_manifest() recorded of the parse in target/ ({} when it made none)."""
    try:
        record = json.loads((dbt_project.manifest_path.parent / PARSE_RECORD_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}  # a file cut short or edited: parse again


def manifest_is_stale() -> bool:
    """True when target/manifest.json is missing, older than a file of the dbt project, parsed
    for another dbt target than this process's, or not the one prepare_manifest() left."""
    try:
        built = dbt_project.manifest_path.stat().st_mtime
    except FileNotFoundError:
        return True
    record = parse_record()
    target = dbt_project.manifest_path.parent
    return (
        newest_dbt_source_mtime() > built
        or record.get("target") != dbt_target()
        or record.get("files") != parsed_files(target)
    )


def prepare_manifest() -> None:
    """Parse the dbt project (what `dbt parse` does) and put the new manifest in place.

    dbt writes into a folder of its own, and the finished files replace the old ones by
    rename: a process that loads at the same moment reads the old or the new one, whole.
    """
    target = dbt_project.manifest_path.parent
    target.mkdir(parents=True, exist_ok=True)
    dbt = DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)
    with tempfile.TemporaryDirectory(prefix="parse-", dir=target) as parse_dir:
        dbt.cli(["parse", "--quiet"], target_path=Path(parse_dir)).wait()
        # The partial-parse file first: the manifest's arrival is what a reader checks.
        for name in reversed(PARSED_FILES):
            if (Path(parse_dir) / name).exists():
                os.replace(Path(parse_dir) / name, target / name)
        record = {"target": dbt_target(), "files": parsed_files(target)}
        (Path(parse_dir) / PARSE_RECORD_FILE).write_text(json.dumps(record) + "\n")
        os.replace(Path(parse_dir) / PARSE_RECORD_FILE, target / PARSE_RECORD_FILE)


# Every entry point (dagster dev, dg, the Dagster CLI, a code server, the tests) imports
# this module before it reads the manifest: build it when it is missing or stale. When
# nothing changed this costs one walk over the dbt folder (docs/performance.md).
# `python -m <package>.project` (make manifest, the Dockerfile) parses once, whatever it finds.
if __name__ == "__main__":
    prepare_manifest()
elif manifest_is_stale():
    prepare_manifest()
