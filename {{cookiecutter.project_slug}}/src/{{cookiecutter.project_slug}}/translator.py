"""How dbt nodes become Dagster assets: keys, layer groups, partition mappings, automation, freshness."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtProject

from .conditions import daily_freshness, downstream_condition, weekly_freshness
from .partitions import daily_to_weekly

# dbt tags that choose a model's partitions; the tag is also the dbt selection.
DAILY_TAG = "daily"
WEEKLY_TAG = "weekly"
# Models in this folder of models/ are what consumers read: they carry the freshness policy
# of their cadence tag (conditions.py); staging models only feed them and have none.
MARTS_FOLDER = "marts"
FRESHNESS_BY_TAG = {DAILY_TAG: daily_freshness, WEEKLY_TAG: weekly_freshness}


def layer_group(props: Mapping[str, Any]) -> str | None:
    """A model's layer: the folder under models/ that holds it (staging, marts); None at the top."""
    folders = props.get("fqn", [])[1:-1]
    return folders[0] if folders else None


def freshness_policy(props: Mapping[str, Any]) -> dg.FreshnessPolicy | None:
    """The freshness policy of a mart model's cadence tag; None for other models."""
    if MARTS_FOLDER not in props.get("fqn", [])[1:-1]:
        return None
    policies = [policy for tag, policy in FRESHNESS_BY_TAG.items() if tag in props.get("tags", [])]
    return policies[0] if len(policies) == 1 else None


class CustomizedDagsterDbtTranslator(DagsterDbtTranslator):
    """dbt sources are the raw Dagster assets of the same name; models are keyed by name, grouped
    by layer, run on automation, and marts carry their cadence's freshness policy."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        # A model's key is its name, whichever schema it builds in: dagster-dbt would put the
        # layer's +schema (dbt_project.yml) in front, and a table moved by layer_schemas
        # would become a new asset without its history. meta.dagster.asset_key still wins.
        props = dbt_resource_props
        if props["resource_type"] == "model":
            props = {**props, "config": {**props.get("config", {}), "schema": None}}
        return super().get_asset_key(props)

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "source":
            return spec.replace_attributes(key=dg.AssetKey(props["name"]))
        return spec.replace_attributes(
            group_name=layer_group(props) or spec.group_name,
            automation_condition=downstream_condition,
            freshness_policy=freshness_policy(props),
        )

    def get_partition_mapping(
        self, dbt_resource_props: Mapping[str, Any], dbt_parent_resource_props: Mapping[str, Any]
    ) -> dg.PartitionMapping | None:
        child_tags = set(dbt_resource_props.get("tags", []))
        parent_tags = set(dbt_parent_resource_props.get("tags", []))
        if WEEKLY_TAG in child_tags and DAILY_TAG in parent_tags:
            return daily_to_weekly
        return None
