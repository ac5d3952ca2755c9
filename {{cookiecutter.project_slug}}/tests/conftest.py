"""Fixtures and the order of the test modules; the tools the tests share are in pipeline_runs.py
and warehouses.py.

Nothing here imports Dagster or the code location at import time: pytest-xdist's controller
imports this file before it starts its workers, and importing pipeline_runs.py took 3.6 to
4.1 s. The fixtures import those modules when a test first needs them.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

# The longest modules of `make test` first: its two workers take whole modules in collection
# order (--no-loadscope-reorder), so these two (real runs through dbt: about 35 s and
# 9 s) start at once, one on each.
LONGEST_FIRST = ["test_pipeline.py", "test_event_storage.py"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: index for index, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: a module keeps its order


@pytest.fixture(scope="session", autouse=True)
def drop_made_warehouses() -> Iterator[None]:
    """What the session's tests made in the warehouse is dropped when it ends (warehouses.py)."""
    yield
    import warehouses

    warehouses.drop_made_warehouses()


@pytest.fixture
def instance():
    """A temporary Dagster instance (pipeline_runs.temporary_instance)."""
    from pipeline_runs import temporary_instance

    with temporary_instance() as made:
        yield made


@pytest.fixture
def pipeline(tmp_path: Path, instance, monkeypatch: pytest.MonkeyPatch):
    """Runs through Dagster against a new warehouse for this test (pipeline_runs.Pipeline)."""
    from pipeline_runs import Pipeline
    from warehouses import new_warehouse

    return Pipeline(new_warehouse(tmp_path, "warehouse"), instance, monkeypatch)
{%- if cookiecutter.raw_source == "files" %}


@pytest.fixture(autouse=True)
def landing_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test lands its files in its own folder (LANDING_URL), processes it starts included."""
    from {{ cookiecutter.project_slug }}.landing import LANDING_URL_ENV_VAR

    folder = tmp_path / "landing"
    monkeypatch.setenv(LANDING_URL_ENV_VAR, str(folder))
    yield folder
{%- endif %}
