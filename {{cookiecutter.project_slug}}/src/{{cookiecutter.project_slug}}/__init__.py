"""Dagster code location: partitioned raw data, incremental dbt models on {{ {"postgres": "PostgreSQL", "spark": "Spark"}.get(cookiecutter.warehouse, "DuckDB") }}, summaries."""

import os

# Dagster stores the materializations of a range run in batches of this many events when
# DAGSTER_EVENT_BATCH_SIZE is set (read at every event, by the process that runs the steps or
# creates the runs): one insert on PostgreSQL, one transaction on the sqlite instance of
# dagster.yaml (event_storage.py). Dagster's default is 0 (off). Every process that loads
# this package, for its code or for dagster.yaml's event storage, gets 1000 however Dagster
# was started: `dg dev`, `dagster dev`, `dagster asset materialize`, a run worker, a code
# server. A value already set (the Makefile's, .env's, the Dockerfile's) wins; 0 turns it off.
EVENT_BATCH_SIZE_ENV_VAR = "DAGSTER_EVENT_BATCH_SIZE"
DEFAULT_EVENT_BATCH_SIZE = "1000"
os.environ.setdefault(EVENT_BATCH_SIZE_ENV_VAR, DEFAULT_EVENT_BATCH_SIZE)
