"""The resources every asset uses: the {% if cookiecutter.warehouse == "postgres" %}PostgreSQL{% else %}DuckDB{% endif %} warehouse and the dbt CLI."""

import dagster as dg

from ..resources import build_resources


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources=build_resources())
