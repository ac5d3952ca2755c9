"""Dagster code location: partitioned raw data, incremental dbt models on DuckDB, summaries."""
