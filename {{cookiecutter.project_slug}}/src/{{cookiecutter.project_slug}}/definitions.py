"""The code location: every asset, job, sensor and resource of the project."""

import dagster as dg

from . import assets
from .automation import automation_sensor
from .jobs import daily_pipeline_job, weekly_pipeline_job
from .resources import build_resources

defs = dg.Definitions(
    assets=dg.load_assets_from_modules([assets]),
    jobs=[daily_pipeline_job, weekly_pipeline_job],
    sensors=[automation_sensor],
    resources=build_resources(),
{%- if cookiecutter.warehouse == "postgres" %}
    # The steps of one run follow each other (raw data, dbt, summary); runs go in parallel.
    # Running the steps in the run's own process saves starting a Python process (and
    # importing Dagster and dbt) for each step.
{%- else %}
    # Every step opens the DuckDB file and so waits for the one-slot "duckdb" pool: steps
    # never run side by side. Running them in the run's own process saves starting a
    # Python process (and importing Dagster and dbt) for each step.
{%- endif %}
    executor=dg.in_process_executor,
)
