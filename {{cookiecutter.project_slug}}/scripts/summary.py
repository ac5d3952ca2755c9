"""Print a short summary of every table in the project's warehouse ({{ cookiecutter.warehouse }})."""

from {{ cookiecutter.project_slug }}.dbt_relations import relation
{% if cookiecutter.warehouse == "postgres" -%}
from {{ cookiecutter.project_slug }}.project import postgres_settings
{% elif cookiecutter.warehouse == "duckdb" -%}
from {{ cookiecutter.project_slug }}.project import DUCKDB_PATH
{% endif -%}
from {{ cookiecutter.project_slug }}.resources import build_resources
{%- if cookiecutter.warehouse == "spark" %}
from {{ cookiecutter.project_slug }}.spark_warehouse import schema_prefix, spark_settings
{%- endif %}
from {{ cookiecutter.project_slug }}.sql import existing_tables, warehouse_tables

WEEKLY_SQL = """
    select category, cast(start_time as date) as week, daily_row_count, daily_value_sum, weekly_value
    from {weekly} order by week, category
"""
WEEKLY_ROWS_SHOWN = 50


def main() -> None:
    with build_resources()["warehouse"].connect() as con:
{%- if cookiecutter.warehouse == "spark" %}
        settings = spark_settings()
        print(f"Spark Thrift server: {settings['host']}:{settings['port']}, schema prefix '{schema_prefix()}'\n")
{%- elif cookiecutter.warehouse == "postgres" %}
        settings = postgres_settings()
        print(f"PostgreSQL database: {settings['dbname']} on {settings['host']}:{settings['port']}\n")
{%- else %}
        print(f"DuckDB file: {DUCKDB_PATH}\n")
{%- endif %}
        existing = existing_tables(con)
        print(f"{'table':<32} {'rows':>8}  {'categories':>10}  first start_time -> last start_time")
        for table in warehouse_tables():
            if table not in existing:
                print(f"{table:<32} {'not built yet':>22}")
                continue
            rows, categories, first, last = con.execute(
                f"select count(*), count(distinct category), min(start_time), max(start_time) from {table}"
            ).fetchall()[0]
            print(f"{table:<32} {rows:>8}  {categories:>10}  {first} -> {last}")
        weekly = relation("mart_weekly_data")
        if weekly not in existing:
            return
        print(f"\n{weekly}:")
        print(f"{'category':<12} {'week':<10} {'daily rows':>10} {'daily sum':>12} {'weekly value':>12}")
        shown = con.execute(WEEKLY_SQL.format(weekly=weekly)).fetchall()[:WEEKLY_ROWS_SHOWN]
        for category, week, rows, daily_sum, weekly_value in shown:
            print(f"{category:<12} {week!s:<10} {rows:>10} {daily_sum:>12.2f} {weekly_value:>12.2f}")


if __name__ == "__main__":
    main()
