"""Every dg command a user meets works in a rendered project: list, check, scaffold, launch, dev.

The commands run in the default project with its .venv (installed.py), as its README shows
them (`uv run dg ...`). Files that a test scaffolds are removed when it ends.
"""

import json
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb  # with dbt-duckdb, in the dev dependencies
import pytest
from conftest import module_constant, uv_executable
from installed import Project, warehouse_tables
from webserver import graphql, serve

pytestmark = pytest.mark.project_suite

SLUG = "dagster_dbt_pipeline"
DBT_MODELS = {"stg_daily_raw_data", "stg_weekly_raw_data", "mart_daily_data", "mart_weekly_data"}
# The Python checks: one blocking data check on each raw asset, besides the dbt tests.
RAW_CHECKS = {("daily_raw_data", "raw_has_every_period"), ("weekly_raw_data", "raw_has_every_period")}
JOBS = {"daily_pipeline", "weekly_pipeline", "raw_data_checks"}
# Freshness policies (deadline cron, lower bound in seconds) of the marts and reports.
FRESHNESS = {
    "mart_daily_data": ("0 4 * * *", 4 * 3600),
    "post_processing_daily": ("0 4 * * *", 4 * 3600),
    "mart_weekly_data": ("0 4 * * 1", 4 * 3600),
    "post_processing_weekly": ("0 4 * * 1", 4 * 3600),
}
DAILY_CHAIN = "daily_raw_data,stg_daily_raw_data,mart_daily_data,post_processing_daily"
WEEKLY_CHAIN = "weekly_raw_data,stg_weekly_raw_data,mart_weekly_data,post_processing_weekly"
# The first week of the default answers (2024-01-01 is a Monday): seven days and one week.
FIRST_DAY, LAST_DAY = "2024-01-01", "2024-01-07"
# What dg's schedule scaffold targets, and the README's fix for this project.
SCAFFOLD_TARGET = 'target="*"'
ONE_CADENCE = 'job_name="daily_pipeline"'
ASSET_NODES = """{ assetNodes { assetKey { path } internalFreshnessPolicy {
    ... on CronFreshnessPolicy { deadlineCron lowerBoundDeltaSeconds } } } }"""


@pytest.fixture(scope="module")
def project(installed_project: Project) -> Project:
    return installed_project


def listed(project: Project) -> dict:
    """`dg list defs --json`, run now."""
    output = project.run("uv run dg list defs --json", again=True).stdout
    return json.loads(output[output.index("{") :])


def names(listing: dict, section: str, field: str = "name") -> set[str]:
    return {entry[field] for entry in listing.get(section, [])}


@contextmanager
def scaffolded(project: Project, kind: str, path: str) -> Iterator[Path]:
    """`dg scaffold defs <kind> <path>`; the file it wrote, removed afterwards."""
    file = project.root / "src" / SLUG / "defs" / path
    assert not file.exists()
    try:
        project.run(f"uv run dg scaffold defs {kind} {path}", again=True)
        assert file.is_file()
        yield file
    finally:
        file.unlink(missing_ok=True)


def test_dg_list_defs_shows_the_whole_code_location(project):
    listing = listed(project)
    expected = module_constant(project.root / "tests" / "test_definitions.py", "EXPECTED_ASSETS")
    assert names(listing, "assets", "asset_key") == expected
    # Every dbt test is a check of its model; the raw assets have their data check.
    manifest = json.loads(next(project.root.glob("src/*/dbt/target/manifest.json")).read_text())
    tests = [node for node in manifest["nodes"].values() if node["resource_type"] == "test"]
    assert len(listing["asset_checks"]) == len(tests) + len(RAW_CHECKS) and tests
    assert names(listing, "asset_checks", "asset_key") == DBT_MODELS | {asset for asset, _ in RAW_CHECKS}
    raw_assets = {asset for asset, _ in RAW_CHECKS}
    checks = {(check["asset_key"], check["name"]) for check in listing["asset_checks"]}
    assert {check for check in checks if check[0] in raw_assets} == RAW_CHECKS
    assert names(listing, "jobs") == JOBS
    assert names(listing, "sensors") == {"automation_sensor", "failure_alert_sensor"}
    assert names(listing, "resources") == {"warehouse", "dbt"}
    assert names(listing, "schedules") == set()


def test_dg_check_yaml(project):
    assert "All component YAML validated successfully" in project.run("uv run dg check yaml").stdout


def test_a_scaffolded_asset_and_sensor_load_at_once(project):
    with (
        scaffolded(project, "dagster.asset", "raw/orders.py"),
        scaffolded(project, "dagster.sensor", "automation/late_data.py"),
    ):
        listing = listed(project)
        assert "orders" in names(listing, "assets", "asset_key")
        assert names(listing, "sensors") == {"automation_sensor", "failure_alert_sensor", "late_data"}
        assert "All definitions loaded successfully" in project.run("uv run dg check defs", again=True).stdout
    assert "orders" not in names(listed(project), "assets", "asset_key")


def test_a_scaffolded_schedule_loads_once_it_names_one_cadence(project):
    readme = (project.root / "README.md").read_text()
    assert f"replace `{SCAFFOLD_TARGET}` with `{ONE_CADENCE}`" in readme
    with scaffolded(project, "dagster.schedule", "jobs/nightly.py") as file:
        # As scaffolded, it targets every asset: daily and weekly ones cannot share a run.
        check = subprocess.run(
            [uv_executable(), "run", "dg", "check", "defs"],
            cwd=project.root,
            env=project.env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert check.returncode != 0
        assert "Selected assets must have the same partitions definitions" in check.stdout + check.stderr
        # The README's one edit.
        text = file.read_text()
        assert SCAFFOLD_TARGET in text
        file.write_text(text.replace(SCAFFOLD_TARGET, ONE_CADENCE))
        assert names(listed(project), "schedules") == {"nightly"}


def test_dg_launch_of_a_range_leaves_the_rows_of_make_backfill(project, tmp_path):
    categories = module_constant(project.root / "src" / SLUG / "partitions.py", "CATEGORIES")
    by_make, by_dg = tmp_path / "make.duckdb", tmp_path / "dg.duckdb"
    project.run(f"make backfill START={FIRST_DAY} END={LAST_DAY}", env={"DUCKDB_DATABASE": str(by_make)})
    # The README's run of the raw data checks alone, on what make backfill wrote.
    readme = (project.root / "README.md").read_text()
    check_alone = re.search(r"^(uv run dg launch --job raw_data_checks .*?)\n```", readme, re.S | re.M).group(1)
    checked = project.run(check_alone, env={"DUCKDB_DATABASE": str(by_make)})
    assert (checked.stdout + checked.stderr).count("ASSET_CHECK_EVALUATION - Asset check 'raw_has_every_period'") == 2
    for chain, last in ((DAILY_CHAIN, LAST_DAY), (WEEKLY_CHAIN, FIRST_DAY)):
        partition_range = f"{categories[0]}|{FIRST_DAY}...{categories[-1]}|{last}"
        result = project.run(
            f'uv run dg launch --assets {chain} --partition-range "{partition_range}"',
            env={"DUCKDB_DATABASE": str(by_dg)},
        )
        # One run for the whole range, every category.
        assert result.stdout.count("RUN_SUCCESS") + result.stderr.count("RUN_SUCCESS") == 1
    made, launched = warehouse_tables(by_make), warehouse_tables(by_dg)
    assert len(made) == 8 and all(made.values())  # raw, staging, marts and reports, none empty
    assert launched == made


def test_dg_launch_runs_the_raw_data_checks_alone(project, tmp_path):
    """The checks' own job, from the CLI: dg launch has no option to select checks."""
    categories = module_constant(project.root / "src" / SLUG / "partitions.py", "CATEGORIES")
    warehouse, lost_day = tmp_path / "checked.duckdb", "2024-01-03"
    env = {"DUCKDB_DATABASE": str(warehouse)}
    partition_range = f"{categories[0]}|{FIRST_DAY}...{categories[-1]}|{LAST_DAY}"
    project.run(f'uv run dg launch --assets daily_raw_data --partition-range "{partition_range}"', env=env)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            f"delete from raw.daily_raw_data where category = '{categories[0]}' "
            f"and cast(start_time as date) = '{lost_day}'"
        )
    window = {"first_period": FIRST_DAY, "last_period": LAST_DAY}
    config = {"ops": {"daily_raw_data_raw_has_every_period": {"config": window}}}
    command = [uv_executable(), "run", "dg", "launch", "--job", "raw_data_checks", "--config-json", json.dumps(config)]
    launch = subprocess.run(
        command, cwd=project.root, env={**project.env, **env}, capture_output=True, text=True, check=False
    )
    output = launch.stdout + launch.stderr
    assert launch.returncode != 0
    # The daily check names the one lost pair; the weekly one (no weekly rows) fails too.
    pairs = 7 * len(categories)
    assert f"raw.daily_raw_data has no rows for 1 of the {pairs} (period, category) pairs" in output
    assert f"Missing: ({lost_day}, {categories[0]})." in output
    assert "raw.weekly_raw_data does not exist" in output


def test_dg_dev_serves_the_eight_assets(project, tmp_path):
    expected = module_constant(project.root / "tests" / "test_definitions.py", "EXPECTED_ASSETS")
    env = {**project.env, "DUCKDB_DATABASE": str(tmp_path / "pipeline.duckdb")}
    command = [uv_executable(), "run", "dg", "dev"]
    with serve(command, project.root, env, tmp_path / "dg-dev.log") as server:
        assert server.location == SLUG
        nodes = graphql(server.base_url, ASSET_NODES)["assetNodes"]
        assert {"/".join(node["assetKey"]["path"]) for node in nodes} == expected
        # The freshness policies show in the webserver (`dg list defs` has no field for them).
        policies = {
            "/".join(node["assetKey"]["path"]): tuple(node["internalFreshnessPolicy"].values())
            for node in nodes
            if node["internalFreshnessPolicy"]
        }
        assert policies == FRESHNESS
