"""Failure alerts: every failed run is logged in one line and, if ALERT_WEBHOOK_URL is set, posted there as JSON."""

import http.client
import json
import os
import urllib.parse
import urllib.request

import dagster as dg

# Read at every evaluation, so a changed .env applies at the next code location reload.
# Webhook URLs often carry their credential in the path: the URL is never logged.
WEBHOOK_ENV_VAR = "ALERT_WEBHOOK_URL"
UI_URL_ENV_VAR = "DAGSTER_UI_URL"
# Where `dagster dev` and `dg dev` serve the UI unless told otherwise.
DEFAULT_UI_URL = "http://localhost:3000"
# One sensor tick handles up to 5 failed runs (DAGSTER_RUN_STATUS_SENSOR_PROCESS_LIMIT) and
# must end within 60 s (DAGSTER_SENSOR_GRPC_TIMEOUT_SECONDS): 5 x 5 s leaves room for the rest.
POST_TIMEOUT_SECONDS = 5
WEBHOOK_SCHEMES = ("http", "https")
# What Dagster tags a run with: one partition, or the range of a single-run backfill.
PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
# What a failed POST can raise: connection and HTTP errors, timeouts (OSError, urllib's
# URLError and HTTPError among them), a malformed URL, a broken HTTP response.
POST_ERRORS = (OSError, ValueError, http.client.HTTPException)


def alert_message(context: dg.RunFailureSensorContext) -> dict:
    """The failed run as a JSON-ready mapping; `text` is the line that is logged."""
    run = context.dagster_run
    steps = [event.step_key for event in context.get_step_failure_events() if event.step_key]
    start, end = run.tags.get(RANGE_START_TAG), run.tags.get(RANGE_END_TAG)
    partition_range = {"start": start, "end": end} if start and end else None
    base_url = os.environ.get(UI_URL_ENV_VAR) or DEFAULT_UI_URL
    message = {
        "run_id": run.run_id,
        "job_name": run.job_name,
        "failed_steps": list(dict.fromkeys(steps)),
        "partition": run.tags.get(PARTITION_TAG),
        "partition_range": partition_range,
        "run_url": f"{base_url.rstrip('/')}/runs/{run.run_id}",
        "reason": context.failure_event.message,
    }
    return {"text": alert_line(message), **message}


def alert_line(message: dict) -> str:
    partition = message["partition"]
    if partition is None and message["partition_range"]:
        partition = "{start}...{end}".format(**message["partition_range"])
    steps = ", ".join(message["failed_steps"]) or "none"
    return (
        f"Run {message['run_id']} of job {message['job_name']} failed; failed steps: {steps}; "
        f"partition: {partition or 'none'}; {message['run_url']}"
    )


def post_alert(url: str, message: dict) -> None:
    """POST `message` as JSON to `url`; raises one of POST_ERRORS when that fails."""
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in WEBHOOK_SCHEMES:
        raise ValueError(f"the URL must start with http:// or https://, not {scheme or 'no scheme'}")
    request = urllib.request.Request(
        url,
        data=json.dumps(message).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=POST_TIMEOUT_SECONDS) as response:
        response.read()


@dg.run_failure_sensor(
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=f"Logs every failed run of this code location and posts it to {WEBHOOK_ENV_VAR} when set.",
)
def failure_alert_sensor(context: dg.RunFailureSensorContext) -> None:
    message = alert_message(context)
    context.log.error(message["text"])
    url = os.environ.get(WEBHOOK_ENV_VAR, "").strip()
    if not url:
        return
    try:
        post_alert(url, message)
    except POST_ERRORS as error:
        context.log.warning(f"The alert for run {message['run_id']} was not posted to {WEBHOOK_ENV_VAR}: {error}")
