"""The webserver's GraphQL API as the UI calls it, and the processes of a shared instance (test_image.py)."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

STOP_TIMEOUT = 20  # seconds for a process group to exit after Ctrl-C before it is killed
_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, never through a proxy
# One document, one operation per request (operationName).
OPERATIONS = """
query Workspace { workspaceOrError { ... on Workspace { locationEntries { name loadStatus locationOrLoadError {
  __typename ... on RepositoryLocation { repositories { name } } ... on PythonError { message } } } } } }
mutation Reload($name: String!) { reloadRepositoryLocation(repositoryLocationName: $name) { __typename } }
mutation LaunchRun($p: ExecutionParams!) { launchRun(executionParams: $p) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on Error { message } ... on PythonError { message } } }
mutation Backfill($p: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $p) {
  __typename ... on LaunchBackfillSuccess { backfillId } ... on Error { message } ... on PythonError { message } } }
query Run($id: ID!) { status: runOrError(runId: $id) { ... on Run { status } } }
query BackfillStatus($id: String!) {
  status: partitionBackfillOrError(backfillId: $id) { ... on PartitionBackfill { status } } }
query BackfillRuns($id: String!) { runsOrError(filter: {tags: [{key: "dagster/backfill", value: $id}]}) {
  ... on Runs { results { runId status } } } }
query Events($id: ID!) { logsForRun(runId: $id) { ... on EventConnection { events { __typename
  ... on MessageEvent { message } ... on ExecutionStepFailureEvent { error { message } } } } } }
"""
RUN_DONE = {"SUCCESS", "FAILURE", "CANCELED"}
BACKFILL_DONE = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}


def graphql(url: str, operation: str, variables: dict | None = None) -> dict:
    """The data of one operation of OPERATIONS; GraphQL errors fail the test."""
    body = json.dumps({"query": OPERATIONS, "operationName": operation, "variables": variables or {}}).encode()
    request = urllib.request.Request(f"{url}/graphql", data=body, headers={"Content-Type": "application/json"})
    with _HTTP.open(request, timeout=60) as response:
        answer = json.load(response)
    assert not answer.get("errors"), answer["errors"]
    return answer["data"]


def loaded_location(url: str) -> tuple[str, str] | None:
    """(code location, repository) once the webserver reached the code server, else None; a load
    error (the code server was not up yet) is reloaded, as the UI's Reload button does."""
    try:
        entries = graphql(url, "Workspace")["workspaceOrError"]["locationEntries"]
        location = entries[0]["locationOrLoadError"] if entries else None
        if location and location["__typename"] == "RepositoryLocation":
            return entries[0]["name"], location["repositories"][0]["name"]
        if location and entries[0]["loadStatus"] == "LOADED":
            graphql(url, "Reload", {"name": entries[0]["name"]})
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        pass  # not serving yet
    return None


def events(url: str, run_id: str) -> list[dict]:
    """The run's event log, as the UI's run page shows it."""
    return graphql(url, "Events", {"id": run_id})["logsForRun"]["events"]


def wait_for(url: str, operation: str, run_or_backfill_id: str, done: set[str], timeout: float) -> str:
    """Poll the status of a run (Run) or a backfill (BackfillStatus) until it is in `done`."""
    deadline = time.monotonic() + timeout
    while (status := graphql(url, operation, {"id": run_or_backfill_id})["status"]["status"]) not in done:
        assert time.monotonic() < deadline, f"{run_or_backfill_id} still {status} after {timeout:.0f} s"
        time.sleep(1)
    return status


def stop_group(process: subprocess.Popen) -> None:
    """Ctrl-C for the process group, SIGKILL after STOP_TIMEOUT: Dagster's processes may not exit."""
    for sig, wait in ((signal.SIGINT, STOP_TIMEOUT), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=wait)
            return
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
