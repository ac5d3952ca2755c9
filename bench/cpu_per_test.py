"""A pytest plugin: the CPU seconds each test uses, its own and its finished child processes'.

The template's suite is bound by CPU on two cores (its tests start projects, Dagster and
dbt processes), so what a test costs the suite is its CPU, not its wall time: a test that
waits for a sensor tick leaves the cores to the other worker. Used for the table of
docs/performance.md, "Test suite":

    PYTHONPATH=bench CPU_PER_TEST=/tmp/cpu.jsonl uv run pytest -p cpu_per_test \
        -n 2 --dist loadfile --no-loadscope-reorder

Each worker appends one JSON line per test (wall, self and children seconds) to
CPU_PER_TEST; the controller prints the sums per module at the end. A child counts once it
has been waited for: a daemon's runs count when the daemon reaps them.
"""

import json
import os
import resource
import time
from collections import defaultdict
from pathlib import Path

import pytest

LOG = Path(os.environ.get("CPU_PER_TEST", "cpu_per_test.jsonl"))


def cpu_seconds() -> tuple[float, float]:
    """(this process, its reaped children): user + system seconds so far."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem):
    own, children = cpu_seconds()
    started = time.monotonic()
    yield
    own_after, children_after = cpu_seconds()
    record = {
        "test": item.nodeid,
        "wall": time.monotonic() - started,
        "self": own_after - own,
        "children": children_after - children,
    }
    with LOG.open("a") as log:
        log.write(json.dumps(record) + "\n")


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or not LOG.exists():  # a worker, or nothing ran
        return
    modules: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for line in LOG.read_text().splitlines():
        record = json.loads(line)
        totals = modules[record["test"].split("::")[0]]
        totals[0] += 1
        totals[1] += record["wall"]
        totals[2] += record["self"] + record["children"]
    terminalreporter.write_sep("=", f"CPU per module ({LOG})")
    for module, (tests, wall, cpu) in sorted(modules.items(), key=lambda item: -item[1][2]):
        terminalreporter.write_line(f"{module:45s} {tests:4d} tests {wall:8.1f} s wall {cpu:8.1f} s CPU")
    total = sum(cpu for _, _, cpu in modules.values())
    terminalreporter.write_line(f"{'all':45s} {sum(t for t, _, _ in modules.values()):4d} tests {total:17.1f} s CPU")
