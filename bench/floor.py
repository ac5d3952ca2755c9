"""The floor: the pipeline's work as plain DuckDB SQL in one Python process.

Raw rows are made with the very statements of the project's sql.py (read from the file,
not imported, so neither Dagster nor dbt is loaded); staging, marts and summaries are the
dbt models and summary queries written out as CREATE TABLE AS SELECT over the whole range.
`--checks` also runs the equivalent of the dbt tests (unique, not null, accepted values).

Usage: python bench/floor.py --sql <project>/src/<slug>/sql.py --db floor.duckdb \
           --start 2024-01-01 --days 365 --categories A,B,C,D --rows 10000 [--json out.json]
"""

from __future__ import annotations

import argparse
import ast
import json
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb


def sql_constants(source: str, names: tuple[str, ...] = ("RAW_TABLE_DDL", "RAW_ROWS_SELECT", "WINDOW_FILTER")) -> dict:
    """String constants assigned at the top level of a rendered DuckDB project's sql.py (its source)."""
    found = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name in names and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                found[name] = node.value.value
    missing = set(names) - set(found)
    if missing:
        raise SystemExit(f"sql.py no longer defines {sorted(missing)} as plain strings; update bench/floor.py.")
    return found


def make_raw(con, sql: dict, table: str, start: datetime, end: datetime, step: timedelta, rows: int, categories):
    """What write_raw_rows does for one window (without the delete: the table is new)."""
    con.execute(sql["RAW_TABLE_DDL"].format(table=table))
    con.execute(
        f"insert into raw.{table}" + sql["RAW_ROWS_SELECT"],
        {
            "start": start,
            "end": end,
            "categories": list(categories),
            "step": step,
            "period_us": step // timedelta(microseconds=1),
            "rows": rows,
        },
    )


def window(start: datetime, end: datetime, categories) -> str:
    """The partition_window() macro, rendered."""
    cats = ", ".join("'" + c.replace("'", "''") + "'" for c in categories)
    return f"start_time >= timestamp '{start}' and start_time < timestamp '{end}' and category in ({cats})"


TRANSFORMS = {
    "stg_daily_raw_data": """
        create table main.stg_daily_raw_data as
        select id, category, start_time, cast(value as double) as value
        from raw.daily_raw_data where {daily}""",
    "mart_daily_data": """
        create table main.mart_daily_data as
        select id, category, start_time, cast(start_time as date) as day, value
        from main.stg_daily_raw_data where {daily}""",
    "stg_weekly_raw_data": """
        create table main.stg_weekly_raw_data as
        select id, category, start_time, cast(value as double) as value
        from raw.weekly_raw_data where {weekly}""",
    "mart_weekly_data": """
        create table main.mart_weekly_data as
        with weekly as (
            select category, start_time, round(sum(value), 2) as weekly_value
            from main.stg_weekly_raw_data where {weekly}
            group by category, start_time
        ),
        daily as (
            select category, date_trunc('week', start_time) as start_time,
                   count(*) as daily_row_count, round(sum(value), 2) as daily_value_sum
            from main.stg_daily_raw_data where {weekly}
            group by category, date_trunc('week', start_time)
        )
        select weekly.category || '|' || strftime(weekly.start_time, '%Y-%m-%d') as id,
               weekly.category, weekly.start_time,
               coalesce(daily.daily_row_count, 0) as daily_row_count,
               coalesce(daily.daily_value_sum, 0) as daily_value_sum,
               weekly.weekly_value
        from weekly left join daily
          on weekly.category = daily.category and weekly.start_time = daily.start_time""",
    "post_processing_daily": """
        create table reports.post_processing_daily as
        select category, date_trunc('day', start_time) as start_time, count(*) as row_count, sum(value) as value_sum
        from main.mart_daily_data where {daily} group by all""",
    "post_processing_weekly": """
        create table reports.post_processing_weekly as
        select category, start_time, daily_row_count as row_count, daily_value_sum as value_sum, weekly_value
        from main.mart_weekly_data where {weekly}""",
}

# The dbt tests of _staging.yml and _marts.yml, as queries that return failing rows.
CHECKS = {
    "stg_daily_raw_data": ["id", "category", "start_time", "value"],
    "mart_daily_data": ["id", "category", "start_time", "day"],
    "stg_weekly_raw_data": ["id", "category", "start_time", "value"],
    "mart_weekly_data": ["id", "category", "start_time", "daily_row_count"],
}


def run_checks(con, categories) -> int:
    failures = 0
    accepted = ", ".join("'" + c.replace("'", "''") + "'" for c in categories)
    for table, not_null in CHECKS.items():
        queries = [f"select id from main.{table} group by id having count(*) > 1"]
        queries += [f"select 1 from main.{table} where {column} is null" for column in not_null]
        queries.append(f"select 1 from main.{table} where category not in ({accepted})")
        for query in queries:
            failures += con.execute(f"select count(*) from ({query})").fetchone()[0]
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sql", type=Path, required=True, help="the rendered project's sql.py")
    parser.add_argument("--db", default=":memory:")
    parser.add_argument("--start", type=date.fromisoformat, default=date(2024, 1, 1))
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--categories", default="A,B,C,D")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--memory-limit", help="DuckDB memory_limit, e.g. 1GB (default: DuckDB's, 80%% of RAM)")
    args = parser.parse_args()

    t_start = time.perf_counter()
    sql = sql_constants(args.sql.read_text())
    categories = args.categories.split(",")
    start = datetime.combine(args.start, datetime.min.time())
    end = start + timedelta(days=args.days)
    # Whole weeks inside the range, as scripts/backfill.py chooses them.
    week_start = start + timedelta(days=(7 - start.weekday()) % 7)
    week_end = week_start + timedelta(weeks=(end - week_start).days // 7)

    stages: dict[str, float] = {}
    con = duckdb.connect(args.db)
    if args.memory_limit:
        con.execute(f"set memory_limit = '{args.memory_limit}'")
    con.execute("create schema if not exists reports")

    def stage(name: str, fn) -> None:
        t0 = time.perf_counter()
        fn()
        stages[name] = round(time.perf_counter() - t0, 3)

    stage(
        "daily_raw_data",
        lambda: make_raw(con, sql, "daily_raw_data", start, end, timedelta(days=1), args.rows, categories),
    )
    stage(
        "weekly_raw_data",
        lambda: make_raw(con, sql, "weekly_raw_data", week_start, week_end, timedelta(weeks=1), 1, categories),
    )
    daily, weekly = window(start, end, categories), window(week_start, week_end, categories)
    for name, statement in TRANSFORMS.items():
        stage(name, lambda s=statement: con.execute(s.format(daily=daily, weekly=weekly)))
    stages["total_transform"] = round(sum(stages.values()), 3)
    t0 = time.perf_counter()
    failures = run_checks(con, categories)
    stages["checks"] = round(time.perf_counter() - t0, 3)
    counts = {
        table: con.execute(f"select count(*) from {table}").fetchone()[0]
        for table in ("raw.daily_raw_data", "main.mart_daily_data", "main.mart_weekly_data")
    }
    con.close()
    stages["process_total"] = round(time.perf_counter() - t_start, 3)
    expected = args.days * len(categories) * args.rows
    if counts["main.mart_daily_data"] != expected or failures:
        raise SystemExit(f"Floor check failed: {counts}, {failures} failing test rows (expected {expected} daily rows)")
    print(json.dumps({"stages": stages, "counts": counts}))
    if args.json:
        args.json.write_text(json.dumps(stages))


if __name__ == "__main__":
    main()
