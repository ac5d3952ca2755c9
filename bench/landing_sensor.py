"""The bench's landing sensor section: the landing files sensor at scale, on S3 (moto) and on a local folder.

`make bench BENCH_ARGS=--landing-sensor` (or `python bench/landing_sensor.py` in the template's
venv; `--categories 4,100,1000` chooses the projects). For each number of categories a
`raw_source=files` project is rendered (categories C0001..., daily partitions from a year
before today) and installed with its `s3` extra, then for each store:
- the landing area is filled with a year of small files (every ended day but yesterday, every
  ended week; each file "arrived" an hour after its period ended): in S3, straight into the
  in-process backend of the moto server the project reaches on 127.0.0.1 (no HTTP PUTs);
- a year's bulk load is recorded in a sqlite Dagster instance on disk with the project's
  dagster.yaml: one materialization per partition, whose `landed` metadata holds the signature
  the sensor computes from the listing (landing_sensor_ticks.py `records`), stored in batches
  of 1,000 through the project's event storage, as a range run stores them;
- the sensor runs in the project's venv (landing_sensor_ticks.py `ticks`) over rounds of ticks
  (a round: until every group of folders was listed once): from an empty cursor, idle, after
  one old file changed, after the nightly drop (yesterday's file of every category), a month
  later with nothing new (the recent boundary moved); each tick's wall time, listing and
  comparison time, S3 calls (botocore's event hooks on the s3fs client) and runs requested,
  the cursor's size, the peak memory; the slowest tick is run again under cProfile (at
  --profile-at categories);
- the comparison of one group of folders with the records, alone (landing_records_query.py):
  timed, under cProfile, and again once sqlite has planner statistics (ANALYZE).
moto looks at every key of the bucket to answer a LIST (0.3 to 0.5 s a call at 1,000
categories x a year, where a real store answers from an index): the bench gives it an index
of key names (IndexedListing), and measures a LIST with and without it.
The table goes to bench/results/landing_sensor.md, details to landing_sensor.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import time
from bisect import bisect_left
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import boto3
import duckdb
from bench_project import Project, render
from landing_sensor_report import report
from measuring import RESULTS, TEMPLATE, machine, measure
from moto.core import DEFAULT_ACCOUNT_ID
from moto.s3.models import S3Backend, s3_backends
from moto.server import ThreadedMotoServer

TICKS_SCRIPT = TEMPLATE / "bench" / "landing_sensor_ticks.py"
QUERY_SCRIPT = TEMPLATE / "bench" / "landing_records_query.py"
SLUG = "sensor_pipeline"
BUCKET = "landing-bench"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
ARRIVAL_DELAY = timedelta(hours=1)  # a file lands an hour after its period ends
LIST_SAMPLES = 3


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--categories", default="4,100,1000", help="numbers of categories (default 4,100,1000)")
    parser.add_argument("--stores", default="s3,local", help="landing stores to measure (default s3,local)")
    parser.add_argument("--profile-at", type=int, default=100, help="categories whose slowest ticks are profiled")
    parser.add_argument(
        "--work", type=Path, default=RESULTS / "landing_sensor_work", help="work folder (deleted first)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "landing_sensor.md", help="the markdown table")
    return parser.parse_args()


class IndexedListing:
    """moto's LIST with an index of key names: it looks at the listed folder's keys (and one
    key per sub-folder) instead of every key of the bucket. Counts the LIST calls it answers."""

    def __init__(self):
        self.original = S3Backend.list_objects
        self.names: dict[str, list[str]] = {}
        self.calls = 0
        self.enabled = True

    def install(self) -> None:
        index = self

        def list_objects(backend, bucket, prefix, delimiter, marker, max_keys):
            index.calls += 1
            if index.enabled and prefix:
                bucket = SimpleNamespace(keys=index.subset(bucket, prefix, delimiter))
            return index.original(backend, bucket, prefix, delimiter, marker, max_keys)

        S3Backend.list_objects = list_objects

    def subset(self, bucket, prefix: str, delimiter: str | None) -> dict:
        names = self.names.get(bucket.name)
        if names is None or len(names) != len(bucket.keys):  # keys were added: index again
            names = self.names[bucket.name] = sorted(bucket.keys.keys())
        chosen, at = {}, bisect_left(names, prefix)
        while at < len(names) and names[at].startswith(prefix):
            name = names[at]
            chosen[name] = bucket.keys[name]
            rest = name[len(prefix) :]
            if delimiter and delimiter in rest:  # one key stands for its sub-folder: skip the others
                folder = prefix + rest.split(delimiter, 1)[0] + delimiter
                at = bisect_left(names, folder[:-1] + chr(ord(folder[-1]) + 1), at)
            else:
                at += 1
        return chosen


def categories(count: int) -> list[str]:
    return [f"C{index:04d}" for index in range(1, count + 1)]


def answers(count: int) -> dict[str, str]:
    return {
        "project_name": "Sensor Pipeline",
        "project_slug": SLUG,
        "raw_source": "files",
        "category_values": ",".join(categories(count)),
        "daily_start_date": str(datetime.now(UTC).date() - timedelta(days=365)),
    }


def landing_files(periods: dict[str, list[str]]) -> list[tuple[str, str, datetime]]:
    """(asset, period, arrival) of the year's files: every ended period but yesterday's day (the nightly drop)."""
    files = []
    for asset, keys in periods.items():
        length = timedelta(days=1 if asset == "daily_raw_data" else 7)
        kept = keys[:-1] if asset == "daily_raw_data" else keys
        files += [(asset, key, datetime.fromisoformat(key) + length + ARRIVAL_DELAY) for key in kept]
    return files


def fill_bucket(prefix: str, files: list, names: list[str], content: bytes) -> None:
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["global"]
    for asset, period, arrived in files:
        for category in names:
            key = backend.put_object(BUCKET, f"{prefix}/{asset}/{category}/{period}.parquet", content)
            key.last_modified = arrived


def fill_folder(folder: Path, files: list, names: list[str], content: bytes) -> None:
    for category in names:
        for asset in {asset for asset, _, _ in files}:
            (folder / asset / category).mkdir(parents=True, exist_ok=True)
    for asset, period, arrived in files:
        stamp = arrived.replace(tzinfo=UTC).timestamp()
        for category in names:
            path = folder / asset / category / f"{period}.parquet"
            path.write_bytes(content)
            os.utime(path, (stamp, stamp))


def small_parquet(work: Path) -> bytes:
    path = work / "small.parquet"
    with duckdb.connect() as con:
        con.execute(f"copy (select 1 as id, 1.0 as value) to '{path}' (format parquet)")
    return path.read_bytes()


def list_seconds(endpoint: str, prefix: str, index: IndexedListing) -> dict[str, float]:
    """One folder's LIST from a client, with moto's own scan of every key and with the index."""
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=CREDENTIALS["AWS_DEFAULT_REGION"],
    )
    seconds = {}
    for name, enabled in (("moto", False), ("indexed", True)):
        index.enabled = enabled
        started = time.perf_counter()
        for _ in range(LIST_SAMPLES):
            client.list_objects_v2(Bucket=BUCKET, Prefix=f"{prefix}/", Delimiter="/")
        seconds[name] = (time.perf_counter() - started) / LIST_SAMPLES
    index.enabled = True
    return seconds


def bucket_listing(prefix: str) -> dict[str, list]:
    """Each file of the bucket as a LIST gives it: category, period, size, last modified, ETag."""
    listed: dict[str, list] = {}
    for name, key in s3_backends[DEFAULT_ACCOUNT_ID]["global"].buckets[BUCKET].keys.items():
        if name.startswith(f"{prefix}/"):
            _, asset, category, file_name = name.split("/")
            modified = key.last_modified.replace(microsecond=0, tzinfo=UTC).timestamp()
            listed.setdefault(asset, []).append(
                [category, file_name.split(".")[0], key.size, modified, key.etag.strip('"')]
            )
    return listed


def sensor_runs(
    project: Project, name: str, env: dict, index: IndexedListing, records: list[str], profile: bool
) -> dict:
    """The bulk load's records (`records`: the command that makes them), then the rounds of ticks, on one store."""
    home = project.work / "homes" / name  # made here, or a copy of another store's
    if not home.is_dir():
        home = project.dagster_home(name)
    env = {**env, "DAGSTER_HOME": str(home)}
    out = project.work / f"{name}.json"
    command = [str(project.python), str(TICKS_SCRIPT), SLUG]
    loaded = measure(f"{name}_records", [*command, records[0], str(out), *records[1:]], project.root, env, project.logs)
    result = {"records": {**asdict(loaded), **json.loads(out.read_text()), "how": records[0]}}
    lists_before = index.calls
    profiled = str(project.logs / f"{name}.prof") if profile else "-"
    ticked = measure(f"{name}_ticks", [*command, "ticks", str(out), profiled], project.root, env, project.logs)
    result["ticks"] = {**asdict(ticked), **json.loads(out.read_text()), "server_lists": index.calls - lists_before}
    result["home_bytes"] = sum(path.stat().st_size for path in home.rglob("*") if path.is_file())
    return result


def one_count(count: int, args, uv: str, work: Path, endpoint: str, index: IndexedListing) -> dict:
    root, _ = render(work, f"c{count}", answers=answers(count), slug=SLUG)
    project = Project(root, work, 24, uv, {})
    sync_env = {k: v for k, v in project.env(None).items() if k != "VIRTUAL_ENV"}
    measure(f"uv_sync_{count}", [uv, "sync", "--quiet", "--extra", "s3"], root, sync_env, project.logs)
    periods_json = work / f"periods_{count}.json"
    measure(
        f"periods_{count}",
        [str(project.python), str(TICKS_SCRIPT), SLUG, "periods", str(periods_json)],
        root,
        project.env(None),
        project.logs,
    )
    periods = json.loads(periods_json.read_text())["periods"]
    files, names, content = landing_files(periods), categories(count), small_parquet(work)
    result: dict = {"categories": count, "files": len(files) * count, "load": os.getloadavg()[0], "stores": {}}
    profile = count == args.profile_at
    if "s3" in args.stores:
        prefix = f"c{count}"
        started = time.perf_counter()
        fill_bucket(prefix, files, names, content)
        result["fill_s3_s"] = time.perf_counter() - started
        result["list_one_folder_s"] = list_seconds(endpoint, f"{prefix}/daily_raw_data/{names[0]}", index)
        listing = work / f"listing_{count}.json"
        listing.write_text(json.dumps(bucket_listing(prefix)))
        env = project.env(None, LANDING_URL=f"s3://{BUCKET}/{prefix}", LANDING_S3_ENDPOINT_URL=endpoint, **CREDENTIALS)
        s3 = sensor_runs(project, f"s3_{count}", env, index, ["records", str(listing)], profile)
        result["stores"]["s3"] = s3
        s3_backends[DEFAULT_ACCOUNT_ID]["global"].buckets[BUCKET].keys.clear()  # the memory back
        index.names.clear()
    if "local" in args.stores:
        folder = work / f"landing_{count}"
        started = time.perf_counter()
        fill_folder(folder, files, names, content)
        result["fill_local_s"] = time.perf_counter() - started
        env = project.env(None, LANDING_URL=str(folder))
        records = ["records"]
        if "s3" in args.stores:  # the S3 store's records (ticks write none), with the local files' signatures
            shutil.copytree(work / "homes" / f"s3_{count}", work / "homes" / f"local_{count}")
            records = ["rewrite"]
        result["stores"]["local"] = sensor_runs(project, f"local_{count}", env, index, records, profile)
        shutil.rmtree(folder)
    if "s3" in args.stores:  # the comparison's cost, last: it gives the instance planner statistics
        out = work / f"query_{count}.json"
        command = [str(project.python), str(QUERY_SCRIPT), SLUG, str(work / f"listing_{count}.json"), str(out)]
        env = project.env(None, work / "homes" / f"s3_{count}")
        measure(f"records_query_{count}", command, root, env, project.logs)
        result["records_query"] = json.loads(out.read_text())
    shutil.rmtree(work / "homes")  # gigabytes at 1,000 categories
    shutil.rmtree(root.parent)  # the project, with its venv
    return result


def main() -> None:
    args = parse_args()
    uv = os.environ.get("UV") or shutil.which("uv")
    work = args.work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    (work / "logs").mkdir(parents=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    index = IndexedListing()
    index.install()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        **{k.lower(): v for k, v in CREDENTIALS.items() if "KEY" in k},
        region_name=CREDENTIALS["AWS_DEFAULT_REGION"],
    ).create_bucket(Bucket=BUCKET)
    results: dict = {"machine": machine(), "load": os.getloadavg()[0], "date": str(date.today()), "counts": []}
    try:
        for count in [int(value) for value in args.categories.split(",")]:
            print(f"{count} categories:", flush=True)
            results["counts"].append(one_count(count, args, uv, work, endpoint, index))
            results["load_after"] = os.getloadavg()[0]
            args.out.with_suffix(".json").write_text(json.dumps(results, indent=1, default=str))
    finally:
        server.stop()
    table = report(results)
    args.out.write_text(table)
    print(table)


if __name__ == "__main__":
    main()
