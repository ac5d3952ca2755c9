"""The event storage of dagster.yaml for a test's own Dagster process, noting the size of each batch it writes."""

import os

from {{ cookiecutter.project_slug }}.event_storage import BatchedSqliteEventLogStorage

PROBE_FILE_ENV_VAR = "BATCH_PROBE_FILE"


class BatchProbeEventLogStorage(BatchedSqliteEventLogStorage):
    def _index_batch(self, events, statements) -> None:
        super()._index_batch(events, statements)
        with open(os.environ[PROBE_FILE_ENV_VAR], "a") as probe:
            probe.write(f"{len(events)}\n")
