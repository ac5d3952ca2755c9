"""Failure alerts: every failed run is logged in one line and, if ALERT_WEBHOOK_URL is set, posted there as JSON."""

import base64
import http.client
import json
import os
import re
import socket
import urllib.error
import urllib.parse
import urllib.request

import dagster as dg

# Read at every evaluation, so a changed .env applies at the next code location reload.
# Webhook URLs often carry their credential in the path (Slack's do), the query or a
# user:password@ part: no part of the URL but its scheme and host is ever logged, and no error
# message is quoted either, since they can hold the URL (describe_failure).
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
# A host name or IP address as a URL's host may be logged: anything else is not shown.
LOGGABLE_HOST = re.compile(r"[a-z0-9.:\-]+")


class WebhookURLError(ValueError):
    """ALERT_WEBHOOK_URL cannot be a webhook URL; the message quotes no part of it."""


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
    """POST `message` as JSON to `url` (a user:password@ part as HTTP basic authentication).
    What a failed POST raises: connection and HTTP errors, timeouts (OSError, urllib's URLError
    and HTTPError among them), a malformed URL (ValueError), a broken HTTP response."""
    if any(character.isspace() or not character.isprintable() for character in url):
        raise WebhookURLError("it holds a space or a control character (quote-encode them: %20)")
    try:
        parts = urllib.parse.urlsplit(url)
        _ = parts.port  # a malformed port raises here
    except ValueError:
        raise WebhookURLError("it is not a valid URL") from None
    if parts.scheme not in WEBHOOK_SCHEMES or not parts.hostname:
        raise WebhookURLError("it must start with http:// or https:// and a host")
    headers = {"Content-Type": "application/json"}
    if parts.username is not None or parts.password is not None:
        credentials = ":".join(urllib.parse.unquote(part or "") for part in (parts.username, parts.password))
        headers["Authorization"] = "Basic " + base64.b64encode(credentials.encode()).decode()
        url = urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    request = urllib.request.Request(url, data=json.dumps(message).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=POST_TIMEOUT_SECONDS) as response:
        response.read()


def webhook_origin(url: str) -> str:
    """The scheme and host of `url`, all of it that may be logged."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "a malformed URL"
    if parts.scheme not in WEBHOOK_SCHEMES or not LOGGABLE_HOST.fullmatch(host):
        return "a malformed URL"
    return f"{parts.scheme}://[{host}]" if ":" in host else f"{parts.scheme}://{host}"


def describe_failure(error: BaseException) -> str:
    """Why a POST failed, in fixed words: error messages can quote the URL (http.client's
    InvalidURL quotes its path, or "password@host" of a user:password@ URL), so none is shown."""
    if isinstance(error, WebhookURLError):
        return f"{WEBHOOK_ENV_VAR} is not a webhook URL: {error}"
    if isinstance(error, urllib.error.HTTPError):
        return f"the webhook answered HTTP {error.code}"
    reason = error.reason if isinstance(error, urllib.error.URLError) else error
    if isinstance(reason, TimeoutError):
        return f"no answer within {POST_TIMEOUT_SECONDS} s"
    if isinstance(reason, socket.gaierror):
        return "the host name could not be resolved"
    if isinstance(reason, OSError):
        return f"the connection failed ({type(reason).__name__})"
    if isinstance(error, http.client.HTTPException):
        return f"the answer was not HTTP ({type(error).__name__})"
    return f"the URL was refused ({type(error).__name__})"


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
    except Exception as error:  # any error: its message is never shown, nor its traceback
        context.log.warning(
            f"The alert for run {message['run_id']} was not posted to {WEBHOOK_ENV_VAR} "
            f"({webhook_origin(url)}): {describe_failure(error)}"
        )
