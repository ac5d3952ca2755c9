"""The default project's slow tests (property, concurrency, retries, kills), run by the `slow`
job of its GitHub workflow, step by step as that job runs them.

A module of its own (not in test_tooling.py, which runs the other jobs), so that the
template's CI runs it in a job of its own: it is the longest single part of the suite.
"""

import pytest
from installed import SLOW_JOB, workflow_steps

pytestmark = pytest.mark.project_suite


def test_the_slow_job_passes(installed_project):
    steps = [step for step in workflow_steps(installed_project.workflow()) if step[0] == SLOW_JOB]
    commands = [command for _, _, command, _, _ in steps]
    assert "make test-slow" in commands, commands
    results = {
        command: installed_project.run(command, cwd=installed_project.root / folder, env=env)
        for _, _, command, folder, env in steps
    }
    slow = results["make test-slow"].stdout
    assert " passed" in slow and " failed" not in slow and " deselected" in slow, slow[-2000:]
