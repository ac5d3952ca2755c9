"""How dbt nodes become Dagster assets: source keys, partition mappings, automation."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtProject

from .conditions import downstream_condition
from .partitions import daily_to_weekly

# dbt tags that choose a model's partitions; the tag is also the dbt selection.
DAILY_TAG = "daily"
WEEKLY_TAG = "weekly"


class CustomizedDagsterDbtTranslator(DagsterDbtTranslator):
    """dbt sources are the raw Dagster assets of the same name; models run on automation."""

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "source":
            return spec.replace_attributes(key=dg.AssetKey(props["name"]))
        return spec.replace_attributes(automation_condition=downstream_condition)

    def get_partition_mapping(
        self, dbt_resource_props: Mapping[str, Any], dbt_parent_resource_props: Mapping[str, Any]
    ) -> dg.PartitionMapping | None:
        child_tags = set(dbt_resource_props.get("tags", []))
        parent_tags = set(dbt_parent_resource_props.get("tags", []))
        if WEEKLY_TAG in child_tags and DAILY_TAG in parent_tags:
            return daily_to_weekly
        return None
