"""Dagster code location: partitioned raw data, incremental dbt models on {% if cookiecutter.warehouse == "postgres" %}PostgreSQL{% else %}DuckDB{% endif %}, summaries."""
