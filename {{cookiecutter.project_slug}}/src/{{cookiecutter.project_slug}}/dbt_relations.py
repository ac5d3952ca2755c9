"""Where the dbt models' tables are (schema.table), as the dbt manifest names them."""

import json
from functools import cache

from .project import dbt_project

# The models whose tables the Python side reads (reports), lists (make summary) or purges.
DBT_MODELS = ("stg_daily_raw_data", "stg_weekly_raw_data", "mart_daily_data", "mart_weekly_data")


@cache
def _relations() -> dict[str, str]:
    # Read once a process: a changed dbt project means a new manifest and new processes.
    manifest = json.loads(dbt_project.manifest_path.read_text())
    return {
        node["name"]: f"{node['schema']}.{node['alias']}"
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }


def relation(model: str) -> str:
    """`schema.table` of a dbt model: main.mart_daily_data, or main_marts.… with layer_schemas."""
    try:
        return _relations()[model]
    except KeyError:
        raise KeyError(f"no dbt model {model!r} in {dbt_project.manifest_path}: run `make manifest`") from None


def model_tables() -> list[str]:
    """The tables of DBT_MODELS, in that order."""
    return [relation(model) for model in DBT_MODELS]
