"""What Dagster's catalog shows of each asset (catalog.py, translator.py): owners, layer
groups, table names, typed columns and links to the code."""

import json
import os
import subprocess
import sys

import dagster as dg
import pytest

from {{ cookiecutter.project_slug }}.catalog import GIT_REVISION_VARS, GIT_URL_VAR, OWNERS
from {{ cookiecutter.project_slug }}.definitions import defs
from {{ cookiecutter.project_slug }}.project import PACKAGE_DIR, dbt_project

# Each asset's layer, in the order data flows.
LAYERS = {
    "daily_raw_data": "raw",
    "weekly_raw_data": "raw",
    "stg_daily_raw_data": "staging",
    "stg_weekly_raw_data": "staging",
    "mart_daily_data": "marts",
    "mart_weekly_data": "marts",
    "post_processing_daily": "reports",
    "post_processing_weekly": "reports",
}
REPOSITORY, REVISION = "https://github.com/example/pipeline", "0123abc"


@pytest.fixture(scope="module")
def specs() -> dict[str, dg.AssetSpec]:
    return {spec.key.to_user_string(): spec for spec in defs().resolve_all_asset_specs()}


def test_every_asset_has_its_owner_layer_and_table(specs: dict[str, dg.AssetSpec]):
    assert {name: spec.group_name for name, spec in specs.items()} == LAYERS
    assert all(spec.owners == OWNERS for spec in specs.values())
    tables = {name: spec.metadata.get("dagster/table_name", "") for name, spec in specs.items()}
    assert all(table.endswith(f".{name}") for name, table in tables.items()), tables


def test_every_dbt_column_shows_its_declared_type(specs: dict[str, dg.AssetSpec]):
    nodes = json.loads(dbt_project.manifest_path.read_text())["nodes"].values()
    models = [node for node in nodes if node["resource_type"] == "model"]
    assert models and {model["name"] for model in models} <= set(specs)
    for model in models:
        schema = specs[model["name"]].metadata.get("dagster/column_schema")
        shown = [(column.name, column.type) for column in schema.columns] if schema else []
        declared = [(column["name"], column["data_type"]) for column in model["columns"].values()]
        assert shown == declared and all(data_type for _, data_type in declared), model["name"]


def test_every_asset_points_at_its_code(specs: dict[str, dg.AssetSpec]):
    for name, spec in specs.items():
        files = [ref.file_path for ref in spec.metadata["dagster/code_references"].code_references]
        assert files and all(os.path.isfile(path) for path in files), name
        if LAYERS.get(name) in {"staging", "marts"}:
            assert any(path.endswith(f"/{name}.sql") for path in files), files


def test_code_references_link_into_the_repository_when_it_is_known():
    """As in a Dagster+ deployment: the repository's URL (here with a trailing slash) and
    revision in the environment."""
    code = (
        f"from {PACKAGE_DIR.name}.definitions import defs\n"
        "for spec in defs().resolve_all_asset_specs():\n"
        "    print(*(ref.url for ref in spec.metadata['dagster/code_references'].code_references))"
    )
    env = {**os.environ, GIT_URL_VAR: f"{REPOSITORY}/", GIT_REVISION_VARS[0]: REVISION}
    shown = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    urls = shown.stdout.split()
    prefix = f"{REPOSITORY}/tree/{REVISION}/src/{PACKAGE_DIR.name}/"
    assert len(urls) >= len(LAYERS) and all(url.startswith(prefix) for url in urls), urls
