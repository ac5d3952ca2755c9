"""Print a short summary of every table in the project's DuckDB file."""

import duckdb

from {{ cookiecutter.project_slug }}.project import DUCKDB_PATH

TABLES = [
    "raw.daily_raw_data",
    "raw.weekly_raw_data",
    "main.stg_daily_raw_data",
    "main.stg_weekly_raw_data",
    "main.mart_daily_data",
    "main.mart_weekly_data",
    "reports.post_processing_daily",
    "reports.post_processing_weekly",
]


def main() -> None:
    with duckdb.connect(str(DUCKDB_PATH), read_only=True) as con:
        print(f"DuckDB file: {DUCKDB_PATH}\n")
        print(f"{'table':<32} {'rows':>8}  {'categories':>10}  first start_time -> last start_time")
        for table in TABLES:
            rows, categories, first, last = con.execute(
                f"select count(*), count(distinct category), min(start_time), max(start_time) from {table}"
            ).fetchall()[0]
            print(f"{table:<32} {rows:>8}  {categories:>10}  {first} -> {last}")
        print("\nmain.mart_weekly_data:")
        con.sql(
            "select category, start_time::date as week, daily_row_count, "
            "round(daily_value_sum, 2) as daily_value_sum, round(weekly_value, 2) as weekly_value "
            "from main.mart_weekly_data order by week, category"
        ).show(max_rows=50)


if __name__ == "__main__":
    main()
