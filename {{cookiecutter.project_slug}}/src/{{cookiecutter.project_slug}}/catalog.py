"""What Dagster's catalog shows of each asset besides its code: owners, layer groups, tables, code links."""

import os
from collections.abc import Mapping

import dagster as dg

from .project import PROJECT_ROOT

# Who answers for the assets (the project's `owner` answer): Python assets carry it, dbt
# models get it from dbt_project.yml's +meta (a model's own meta.dagster.owners wins).
OWNERS = ["{{ cookiecutter.owner }}"]
# Groups are layers, in the order data flows: raw (Python), the dbt models by the folder
# under models/ that holds them (staging, marts), reports (Python).
RAW_GROUP = "raw"
REPORTS_GROUP = "reports"
# Where the code is hosted, as Dagster+ sets them in its deployments (set them by hand
# elsewhere): code references become links into the repository at that revision. The
# project's root is taken to be the repository's root.
GIT_URL_VAR = "DAGSTER_CLOUD_GIT_URL"
GIT_REVISION_VARS = ("DAGSTER_CLOUD_GIT_SHA", "DAGSTER_CLOUD_GIT_BRANCH")
ANCHOR_FILE = "pyproject.toml"
# Dagster's metadata key for the table an asset writes (dbt models get it from dagster-dbt).
TABLE_NAME_KEY = "dagster/table_name"


def table_name(table: str) -> Mapping[str, str]:
    """Metadata naming the table (schema.table) that an asset writes."""
    return {TABLE_NAME_KEY: table}


def with_code_references(asset: dg.AssetsDefinition) -> dg.AssetsDefinition:
    """`asset` with the file and line of its code (for dbt models, with their SQL files), linked
    into the repository when its URL and revision are known (GIT_URL_VAR, GIT_REVISION_VARS)."""
    (referenced,) = dg.with_source_code_references([asset])
    url = os.environ.get(GIT_URL_VAR, "").strip().rstrip("/")  # a trailing slash would double in links
    revision = next((os.environ[name].strip() for name in GIT_REVISION_VARS if os.environ.get(name, "").strip()), "")
    if not (url and revision):
        return referenced
    mapping = dg.AnchorBasedFilePathMapping(
        local_file_anchor=PROJECT_ROOT / ANCHOR_FILE, file_anchor_path_in_repository=ANCHOR_FILE
    )
    (linked,) = dg.link_code_references_to_git(
        [referenced], git_url=url, git_branch=revision, file_path_mapping=mapping
    )
    return linked
