"""Smoke benchmark of the hot path: raw-row generation and the transformations, in DuckDB.

Runs in about a second and asserts results only, never timings: pytest-benchmark records
how long a round takes, so a slowdown shows in its table (and in `--benchmark-compare`
against a saved run, `--benchmark-autosave`), while the test never fails on a slow or busy
machine.

It reads RAW_TABLE_DDL, RAW_ROWS_SELECT and WINDOW_FILTER from the template's sql.py, rendered
with Jinja for a DuckDB project and parsed, not imported (neither Dagster nor dbt is
needed), and the transformations from bench/floor.py, the benchmark's plain-DuckDB floor:
it fails as soon as the two drift apart.

    uv run pytest tests/test_hot_path.py
"""

from __future__ import annotations

import importlib.util
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import jinja2

ROOT = Path(__file__).resolve().parents[1]
SQL_MODULE = (
    ROOT
    / "{{cookiecutter.project_slug}}"
    / "src"
    / "{{cookiecutter.project_slug}}"
    / '{% if cookiecutter.warehouse != "spark" %}sql.py{% endif %}'
)

spec = importlib.util.spec_from_file_location("bench_floor", ROOT / "bench" / "floor.py")
floor = importlib.util.module_from_spec(spec)
spec.loader.exec_module(floor)

SQL = floor.sql_constants(jinja2.Template(SQL_MODULE.read_text()).render(cookiecutter={"warehouse": "duckdb"}))
START = datetime(2024, 1, 1)  # a Monday
DAYS = 7
CATEGORIES = ["A", "B"]
ROWS = 500  # per (day, category)


def write_window(con: duckdb.DuckDBPyConnection, start: datetime, days: int, categories: list[str], rows: int) -> int:
    """What the daily_raw_data asset does for one run: replace the window, count it."""
    params = {"start": start, "end": start + timedelta(days=days), "categories": categories}
    con.execute(SQL["RAW_TABLE_DDL"].format(table="daily_raw_data"))
    con.execute(f"delete from raw.daily_raw_data where {SQL['WINDOW_FILTER']}", params)
    step = timedelta(days=1)
    con.execute(
        "insert into raw.daily_raw_data" + SQL["RAW_ROWS_SELECT"],
        {**params, "step": step, "period_us": step // timedelta(microseconds=1), "rows": rows},
    )
    return con.execute(f"select count(*) from raw.daily_raw_data where {SQL['WINDOW_FILTER']}", params).fetchone()[0]


def pipeline_round() -> dict[str, object]:
    """Raw rows for a week x 2 categories, rerun once, then staging, marts and summaries."""
    con = duckdb.connect(":memory:")
    try:
        first = write_window(con, START, DAYS, CATEGORIES, ROWS)
        checksum = con.execute("select sum(hash(id, start_time, value)) from raw.daily_raw_data").fetchone()[0]
        rerun = write_window(con, START + timedelta(days=2), 2, CATEGORIES, ROWS)  # replace two days
        floor.make_raw(
            con, SQL, "weekly_raw_data", START, START + timedelta(weeks=1), timedelta(weeks=1), 1, CATEGORIES
        )
        con.execute("create schema if not exists reports")
        window = floor.window(START, START + timedelta(days=DAYS), CATEGORIES)
        for statement in floor.TRANSFORMS.values():
            con.execute(statement.format(daily=window, weekly=window))
        return {
            "first": first,
            "rerun": rerun,
            "checksum_before": checksum,
            "checksum_after": con.execute("select sum(hash(id, start_time, value)) from raw.daily_raw_data").fetchone()[
                0
            ],
            "raw": con.execute(
                "select count(*), count(distinct id), min(start_time), max(start_time) from raw.daily_raw_data"
            ).fetchone(),
            "outside_day": con.execute(
                "select count(*) from raw.daily_raw_data where start_time >= "
                "cast(split_part(id, '|', 2) as date) + interval 1 day "
                "or start_time < cast(split_part(id, '|', 2) as date)"
            ).fetchone()[0],
            "mart_daily": con.execute("select count(*) from main.mart_daily_data").fetchone()[0],
            "mart_weekly": con.execute(
                "select category, daily_row_count from main.mart_weekly_data order by all"
            ).fetchall(),
            "summary_daily": con.execute(
                "select count(*), sum(row_count) from reports.post_processing_daily"
            ).fetchone(),
            "failing_checks": floor.run_checks(con, CATEGORIES),
        }
    finally:
        con.close()


def test_hot_path_round(benchmark) -> None:
    result = benchmark(pipeline_round)
    expected = DAYS * len(CATEGORIES) * ROWS
    assert result["first"] == expected
    assert result["rerun"] == 2 * len(CATEGORIES) * ROWS
    # Replacing a window writes exactly the same rows again: nothing duplicated or changed.
    assert result["checksum_after"] == result["checksum_before"]
    rows, distinct_ids, first_time, last_time = result["raw"]
    assert rows == distinct_ids == expected
    assert first_time == START and last_time < START + timedelta(days=DAYS)
    assert result["outside_day"] == 0
    assert result["mart_daily"] == expected
    assert result["mart_weekly"] == [(category, DAYS * ROWS) for category in CATEGORIES]
    assert result["summary_daily"] == (DAYS * len(CATEGORIES), expected)
    assert result["failing_checks"] == 0
