"""A Dagster webserver of a rendered project (`dagster dev`, `dg dev`) and its GraphQL API, for tests and the bench."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT = 180  # seconds for the server to serve the loaded code location
STOP_TIMEOUT = 30  # seconds for it to shut down before it is killed

# Loopback only: never through a proxy from the environment.
_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))

WORKSPACE = """{
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError {
          __typename
          ... on RepositoryLocation { repositories { name } }
          ... on PythonError { message }
        }
      }
    }
  }
}"""


class ServerError(RuntimeError):
    """The server exited, never served its code location, or answered with errors."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def graphql(base_url: str, query: str, variables: dict | None = None) -> dict:
    """POST a query to the webserver's GraphQL endpoint; its data, or a failed test."""
    request = urllib.request.Request(
        f"{base_url}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with _HTTP.open(request, timeout=30) as response:
        body = json.load(response)
    if body.get("errors"):
        raise ServerError(f"GraphQL errors: {body['errors']}")
    return body["data"]


def tail(path: Path, chars: int = 4000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else ""


def loaded_location(base_url: str) -> tuple[str, str] | None:
    """(code location, repository) once the only code location has loaded, else None."""
    workspace = graphql(base_url, WORKSPACE)["workspaceOrError"]
    assert workspace["__typename"] == "Workspace", workspace
    entries = workspace["locationEntries"]
    if len(entries) != 1 or entries[0]["loadStatus"] != "LOADED":
        return None
    location = entries[0]["locationOrLoadError"]
    assert location["__typename"] == "RepositoryLocation", f"The code location did not load: {location}"
    return entries[0]["name"], location["repositories"][0]["name"]


def stop_process_group(process: subprocess.Popen) -> None:
    """Ctrl-C for the whole group (webserver, daemon, code servers, runs), then kill."""
    try:
        os.killpg(process.pid, signal.SIGINT)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        pass
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)  # anyone left in the group?
        except ProcessLookupError:
            return
        time.sleep(0.2)
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=10)


@dataclass
class Server:
    base_url: str
    location: str  # code location name
    repository: str
    log: Path  # the server's output


def host_and_port(host: str, port: int) -> list[str]:
    """The options of `dagster dev` and `dg dev` that choose where the webserver listens."""
    return ["-h", host, "-p", str(port)]


def make_dev_address(host: str, port: int) -> list[str]:
    """The same for a project's `make dev`, which passes DEV_ARGS on to `dagster dev`."""
    return [f"DEV_ARGS={' '.join(host_and_port(host, port))}"]


@contextmanager
def serve(command: list[str], project: Path, env: dict[str, str], log: Path, address=host_and_port) -> Iterator[Server]:
    """`command` (dagster dev, dg dev, make dev) on a free loopback port, given to it by
    `address(host, port)`, until its code location loaded; stopped with all its processes afterwards."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, *address("127.0.0.1", port)],
            cwd=project,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        found = None
        while found is None:
            if process.poll() is not None:
                raise ServerError(f"{command[-1]} exited with {process.returncode}:\n{tail(log)}")
            if time.monotonic() > deadline:
                raise ServerError(f"{command[-1]} did not serve the code location in {START_TIMEOUT} s:\n{tail(log)}")
            try:
                with _HTTP.open(f"{base_url}/server_info", timeout=5) as response:
                    assert json.load(response)["dagster_webserver_version"]
                found = loaded_location(base_url)
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if found is None:
                time.sleep(1)
        yield Server(base_url, *found, log)
    finally:
        stop_process_group(process)


# --------------------------------------------------------------------------- backfills

LAUNCH_BACKFILL = """mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on Error { message }
  }
}"""

BACKFILL_STATUS = """query Backfill($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill { status }
    ... on PythonError { message }
  }
}"""

# Statuses after which the backfill daemon does no more for a backfill.
BACKFILL_DONE = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}


def asset_range(asset: str, start: str, end: str) -> dict:
    """One entry of `partitionsByAssets`: the partitions from `start` to `end` of `asset`, as the
    UI's launch dialog sends a range (multi-partition keys span every category in between)."""
    return {"assetKey": {"path": [asset]}, "partitions": {"range": {"start": start, "end": end}}}


def launch_backfill(base_url: str, params: dict) -> str:
    """launchPartitionBackfill with `params` (LaunchBackfillParams); the new backfill's id."""
    launched = graphql(base_url, LAUNCH_BACKFILL, {"params": params})["launchPartitionBackfill"]
    if launched["__typename"] != "LaunchBackfillSuccess":
        raise ServerError(f"The backfill was not launched: {launched}")
    return launched["backfillId"]


def wait_for_backfill(base_url: str, backfill_id: str, timeout: float, poll: float = 1.0) -> str:
    """Poll the backfill until the daemon is done with it; its final status."""
    deadline = time.monotonic() + timeout
    while True:
        backfill = graphql(base_url, BACKFILL_STATUS, {"id": backfill_id})["partitionBackfillOrError"]
        if backfill["__typename"] != "PartitionBackfill":
            raise ServerError(f"Backfill {backfill_id}: {backfill}")
        if backfill["status"] in BACKFILL_DONE:
            return backfill["status"]
        if time.monotonic() > deadline:
            raise ServerError(f"Backfill {backfill_id} still {backfill['status']} after {timeout:.0f} s")
        time.sleep(poll)
