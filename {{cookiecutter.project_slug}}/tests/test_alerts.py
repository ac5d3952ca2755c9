"""Failure alerts: a real failed run, the code location's own sensor, a webhook on 127.0.0.1."""

import base64
import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer

import dagster as dg
import pytest
from pipeline_runs import ALL_ASSETS, DEFS, Pipeline

from {{ cookiecutter.project_slug }}.defs.automation.alerts import DEFAULT_UI_URL, UI_URL_ENV_VAR, WEBHOOK_ENV_VAR
from {{ cookiecutter.project_slug }}.partitions import (
    CATEGORIES,
    DAILY_START_DATE,
    RANGE_END_TAG,
    RANGE_START_TAG,
    partition_key,
)
from {{ cookiecutter.project_slug }}.raw_rows import FAULT_ENV_VAR

(SENSOR,) = [sensor for sensor in DEFS.sensors or [] if sensor.name == "failure_alert_sensor"]
FAILING_ASSET = "daily_raw_data"
FIRST_KEY = partition_key(DAILY_START_DATE, CATEGORIES[0])
LAST_KEY = partition_key(DAILY_START_DATE, CATEGORIES[-1])
# Any base works: the link is only written into the alert, never opened.
UI_URL = "http://127.0.0.1:3999/dagster/"
# The parts of a webhook URL that grant the right to post: none may be logged.
SECRET_PATH, SECRET_QUERY, USERINFO = "/services/T0001/B0002/Xsecretpath", "sig=Qsecret", "alerter:Pw0rd"
SECRETS = ["T0001", "Xsecretpath", "Qsecret", "alerter", "Pw0rd"]


@dataclass
class Webhook:
    """An HTTP server on loopback that keeps every POST and answers with `status`."""

    url: str
    status: int = HTTPStatus.OK
    posts: list[dict] = field(default_factory=list)


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            hook.posts.append({"path": self.path, "headers": dict(self.headers), "body": body})
            self.send_response(hook.status)
            self.end_headers()

        def log_message(self, *args) -> None:  # no access log in the test output
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    hook = Webhook(url=f"http://127.0.0.1:{server.server_port}/hooks/alerts")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def failing_run(pipeline: Pipeline, **kwargs) -> Callable[[], dg.DagsterRun]:
    """A run of the raw daily asset that fails after writing its rows (FAIL_FIRST_ATTEMPT)."""

    def run() -> dg.DagsterRun:
        pipeline.monkeypatch.setenv(FAULT_ENV_VAR, FAILING_ASSET)
        result = dg.materialize(
            ALL_ASSETS,
            selection=[FAILING_ASSET],
            resources=pipeline.resources,
            instance=pipeline.instance,
            raise_on_error=False,
            **kwargs,
        )
        assert not result.success
        return result.dagster_run

    return run


@dataclass
class Tick:
    run: dg.DagsterRun  # the failed run
    cursor: str | None
    log: list[str]  # what the sensor wrote to stderr, line by line
    said: str  # everything the run and the sensor wrote to stdout and stderr


def sensor_after(instance: dg.DagsterInstance, run: Callable[[], dg.DagsterRun], capfd: pytest.CaptureFixture) -> Tick:
    """The sensor's tick that follows `run`, as a running sensor sees it: a first tick sets its
    cursor before the run, the next one handles the failures stored since."""
    first = SENSOR.evaluate_tick(dg.build_sensor_context(instance=instance))
    assert first.cursor, first.skip_message
    failed = run()
    run_output = capfd.readouterr()  # the run's own log
    tick = SENSOR.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=first.cursor))
    (reaction,) = tick.dagster_run_reactions
    assert reaction.dagster_run.run_id == failed.run_id
    assert reaction.error is None, reaction.error  # the sensor itself did not fail
    output = capfd.readouterr()
    said = "\n".join([run_output.out, run_output.err, output.out, output.err])
    return Tick(failed, tick.cursor, output.err.splitlines(), said)


def assert_no_secret(tick: Tick, instance: dg.DagsterInstance, caplog: pytest.LogCaptureFixture) -> None:
    """No part of the webhook URL's path, query or user:password@ in what the run and the sensor
    wrote, the logs Python captured, nor any event or tag of the instance's runs."""
    stored = [str(event) for run in instance.get_runs() for event in instance.all_logs(run.run_id)]
    stored += [str(run.tags) for run in instance.get_runs()]
    everything = "\n".join([tick.said, caplog.text, *stored])
    assert tick.run.run_id in everything  # what is searched holds the run's events
    assert [secret for secret in SECRETS if secret in everything] == []


def test_a_failed_range_run_is_posted_to_the_webhook(pipeline, webhook, monkeypatch, capfd):
    monkeypatch.setenv(WEBHOOK_ENV_VAR, webhook.url)
    monkeypatch.setenv(UI_URL_ENV_VAR, UI_URL)
    tags = {RANGE_START_TAG: FIRST_KEY, RANGE_END_TAG: LAST_KEY}
    tick = sensor_after(pipeline.instance, failing_run(pipeline, tags=tags), capfd)
    run = tick.run

    (post,) = webhook.posts
    assert post["path"] == "/hooks/alerts"
    assert post["headers"]["Content-Type"] == "application/json"
    alert = json.loads(post["body"])
    assert alert["run_id"] == run.run_id
    assert alert["job_name"] == run.job_name
    assert alert["failed_steps"] == [FAILING_ASSET]
    assert alert["partition"] is None
    assert alert["partition_range"] == {"start": FIRST_KEY, "end": LAST_KEY}
    assert alert["run_url"] == f"http://127.0.0.1:3999/dagster/runs/{run.run_id}"
    assert FAILING_ASSET in alert["reason"]
    (line,) = tick.log
    assert line.endswith(alert["text"])
    assert f"partition: {FIRST_KEY}...{LAST_KEY};" in alert["text"]


def test_without_a_webhook_the_failure_is_logged_and_nothing_is_posted(pipeline, webhook, monkeypatch, capfd):
    monkeypatch.delenv(WEBHOOK_ENV_VAR, raising=False)
    monkeypatch.delenv(UI_URL_ENV_VAR, raising=False)
    tick = sensor_after(pipeline.instance, failing_run(pipeline, partition_key=FIRST_KEY), capfd)
    run = tick.run

    assert webhook.posts == []
    (line,) = tick.log
    assert line.endswith(
        f"Run {run.run_id} of job {run.job_name} failed; failed steps: {FAILING_ASSET}; "
        f"partition: {FIRST_KEY}; {DEFAULT_UI_URL}/runs/{run.run_id}"
    )


def test_a_webhook_that_fails_is_logged_without_its_secrets_and_the_sensor_goes_on(
    pipeline, webhook, monkeypatch, capfd, caplog
):
    webhook.status = HTTPStatus.INTERNAL_SERVER_ERROR
    origin = webhook.url.removesuffix("/hooks/alerts")
    url = origin.replace("//", f"//{USERINFO}@") + f"{SECRET_PATH}?{SECRET_QUERY}"
    monkeypatch.setenv(WEBHOOK_ENV_VAR, url)
    tick = sensor_after(pipeline.instance, failing_run(pipeline, partition_key=FIRST_KEY), capfd)

    assert_no_secret(tick, pipeline.instance, caplog)
    (post,) = webhook.posts  # user:password@ sent as basic authentication
    assert post["path"] == f"{SECRET_PATH}?{SECRET_QUERY}"
    assert post["headers"]["Authorization"] == "Basic " + base64.b64encode(USERINFO.encode()).decode()
    (failure, warning) = tick.log  # no traceback
    assert f"Run {tick.run.run_id} of job" in failure
    not_posted = f"The alert for run {tick.run.run_id} was not posted to {WEBHOOK_ENV_VAR} (http://127.0.0.1)"
    assert warning.endswith(f"{not_posted}: the webhook answered HTTP 500")
    # The failure is handled: the next tick starts after it and posts nothing again.
    again = SENSOR.evaluate_tick(dg.build_sensor_context(instance=pipeline.instance, cursor=tick.cursor))
    assert again.dagster_run_reactions == [] and len(webhook.posts) == 1


def closed_port() -> int:
    with socket.socket() as probe:  # a port nothing listens on once this closes
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        # A space pasted into the path: http.client's InvalidURL quotes the path, or, with a
        # user:password@ part and no port, "password@host" as a port it cannot read.
        (f"http://{USERINFO}@127.0.0.1{SECRET_PATH} x?{SECRET_QUERY}", "is not a webhook URL: it holds a space"),
        (f"http://{USERINFO}@127.0.0.1:x{SECRET_PATH}", "is not a webhook URL: it is not a valid URL"),
        ("closed port", "the connection failed (ConnectionRefusedError)"),
    ],
    ids=["space", "bad-port", "refused"],
)
def test_a_webhook_url_that_cannot_be_posted_to_is_never_quoted(url, reason, pipeline, monkeypatch, capfd, caplog):
    if url == "closed port":
        url = f"http://{USERINFO}@127.0.0.1:{closed_port()}{SECRET_PATH}?{SECRET_QUERY}"
    monkeypatch.setenv(WEBHOOK_ENV_VAR, url)
    tick = sensor_after(pipeline.instance, failing_run(pipeline, partition_key=FIRST_KEY), capfd)

    assert_no_secret(tick, pipeline.instance, caplog)
    (_, warning) = tick.log  # no traceback
    assert f"was not posted to {WEBHOOK_ENV_VAR} (http://127.0.0.1): " in warning
    assert reason in warning
