"""Jobs: each cadence end to end, raw data to summary, for manual runs and backfills."""

import dagster as dg
from dagster_dbt import build_dbt_asset_selection

from ...translator import DAILY_TAG, WEEKLY_TAG
from ..raw.checks import CHECK_NAME
from ..transform import dbt_models

daily_pipeline_job = dg.define_asset_job(
    "daily_pipeline",
    selection=dg.AssetSelection.assets("daily_raw_data", "post_processing_daily")
    | build_dbt_asset_selection([dbt_models.daily_dbt_models], dbt_select=f"tag:{DAILY_TAG}"),
    description="Daily raw data, its dbt models and the daily summary.",
)

weekly_pipeline_job = dg.define_asset_job(
    "weekly_pipeline",
    selection=dg.AssetSelection.assets("weekly_raw_data", "post_processing_weekly")
    | build_dbt_asset_selection([dbt_models.weekly_dbt_models], dbt_select=f"tag:{WEEKLY_TAG}"),
    description="Weekly raw data, its dbt models and the weekly summary (needs its days).",
)

raw_data_checks_job = dg.define_asset_job(
    "raw_data_checks",
    selection=dg.AssetSelection.checks(
        *(dg.AssetCheckKey(dg.AssetKey(asset), CHECK_NAME) for asset in ("daily_raw_data", "weekly_raw_data"))
    ),
    description="The raw data checks alone, for the periods of their run config (default: all).",
)
