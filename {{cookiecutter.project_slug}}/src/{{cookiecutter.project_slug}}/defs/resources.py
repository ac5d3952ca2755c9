"""The resources every asset uses: the {{ {"postgres": "PostgreSQL", "spark": "Spark"}.get(cookiecutter.warehouse, "DuckDB") }} warehouse and the dbt CLI."""

import dagster as dg

from ..resources import build_resources


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources=build_resources())
