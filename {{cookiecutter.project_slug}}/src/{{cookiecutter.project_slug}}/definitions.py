"""The code location: everything under defs/, run in one process per run."""

from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions.merge(
        dg.load_from_defs_folder(path_within_project=Path(__file__).parent),
{%- if cookiecutter.warehouse == "postgres" %}
        # The steps of one run follow each other (raw data, dbt, summary); runs go in parallel.
        # Running the steps in the run's own process saves starting a Python process (and
        # importing Dagster and dbt) for each step.
{%- else %}
        # The steps of one run follow each other (raw data, dbt, summary), each waiting for
        # {{ "its turn in the spark pool" if cookiecutter.warehouse == "spark" else "the DuckDB file" }}. Running them in the run's own process saves starting a Python
        # process (and importing Dagster and dbt) for each step.
{%- endif %}
        dg.Definitions(executor=dg.in_process_executor),
    )
