"""A pytest plugin: the CPU time each test module costs, printed before the slowest durations.

The suite runs on a machine whose processors are busy for the whole run, so its length is
the CPU its processes need, not the wall time of its longest tests (docs/performance.md,
"Test suite"). Each test's CPU is that of the test process and of every process it waited
for (getrusage: the project's make, uv, dbt and Dagster processes; a run worker a daemon
reaped); a process left running on its own and stopped by another (a Spark server started
by `make spark-start`) is not counted.
"""

import resource
from collections import defaultdict

import pytest

CPU_PROPERTY = "cpu_seconds"
MODULES_SHOWN = 15  # the suite has about 30 modules; the first 15 hold nearly all its CPU
START = pytest.StashKey[float]()
# CPU seconds by test module, where reports arrive: the test process or xdist's controller.
REPORTED: defaultdict[str, float] = defaultdict(float)


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    item.stash[START] = cpu_seconds()
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if call.when == "teardown" and START in item.stash:
        # Fixtures set up for a module count for its first test, as --durations shows them.
        outcome.get_result().user_properties.append((CPU_PROPERTY, cpu_seconds() - item.stash[START]))


def pytest_runtest_logreport(report):
    if report.when != "teardown":
        return
    seconds = dict(report.user_properties).get(CPU_PROPERTY)
    if seconds is not None:
        REPORTED[report.nodeid.split("::")[0]] += seconds


def pytest_terminal_summary(terminalreporter):
    if not REPORTED:
        return
    terminalreporter.section("CPU seconds by test module")
    ranked = sorted(REPORTED.items(), key=lambda pair: -pair[1])
    for module, seconds in ranked[:MODULES_SHOWN]:
        terminalreporter.write_line(f"{seconds:8.1f}  {module}")
    terminalreporter.write_line(f"{sum(REPORTED.values()):8.1f}  in all ({len(ranked)} modules)")
