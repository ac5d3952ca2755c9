"""A Dagster webserver of a rendered project (`dagster dev`, `dg dev`) and its GraphQL API, for tests."""

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import free_port

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


def graphql(base_url: str, query: str, variables: dict | None = None) -> dict:
    """POST a query to the webserver's GraphQL endpoint; its data, or a failed test."""
    request = urllib.request.Request(
        f"{base_url}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with _HTTP.open(request, timeout=30) as response:
        body = json.load(response)
    assert not body.get("errors"), body["errors"]
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


@contextmanager
def serve(command: list[str], project: Path, env: dict[str, str], log: Path) -> Iterator[Server]:
    """`command` (dagster dev, dg dev) on a free loopback port, until its code location loaded;
    stopped with all its processes afterwards."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, "-h", "127.0.0.1", "-p", str(port)],
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
                pytest.fail(f"{command[-1]} exited with {process.returncode}:\n{tail(log)}")
            if time.monotonic() > deadline:
                pytest.fail(f"{command[-1]} did not serve the code location in {START_TIMEOUT} s:\n{tail(log)}")
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
