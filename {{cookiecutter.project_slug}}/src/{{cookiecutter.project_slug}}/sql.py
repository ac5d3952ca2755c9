"""The SQL the Python assets run on the warehouse ({{ cookiecutter.warehouse }}), with its parameter style.

Raw rows are made inside the database, all partitions of a run in one statement. The id
is the partition key plus a row number, so it is unique across partitions, and every
value is a hash of (category, period, row): a rerun writes exactly the same rows.
"""

{% if cookiecutter.warehouse == "postgres" -%}
# Parameters: psycopg2's %(name)s, so a literal percent sign is written %%.
# Concurrent first runs would race to create the same schema or table (PostgreSQL's
# `if not exists` is not atomic): DDL takes a transaction-scoped advisory lock first.
DDL_LOCK = "select pg_advisory_xact_lock(hashtext('{{ cookiecutter.project_slug }} ddl'))"

RAW_TABLE_DDL = (
    "begin;\n"
    + DDL_LOCK
    + """;
create schema if not exists raw;
create table if not exists raw.{table} (
    id varchar not null,
    category varchar not null,
    start_time timestamp not null,
    value double precision not null
);
commit
"""
)

# The synthetic rows of a window, as raw_rows.py writes them and samples.py exports them.
RAW_ROWS_SELECT = """
select
    c.category || '|' || to_char(p.period_start, 'YYYY-MM-DD') || '|' || lpad(r.row_number::text, 6, '0') as id,
    c.category,
    p.period_start + (r.row_number * %(period_us)s / %(rows)s) * interval '1 microsecond' as start_time,
    round(
        ((hashtextextended(c.category || '|' || p.period_start::text || '|' || r.row_number, 0) %% 1000000 + 1000000)
        %% 1000000) / 100.0,
        2
    )::double precision as value
from unnest(%(categories)s::varchar[]) as c(category)
cross join generate_series(%(start)s::timestamp, %(end)s::timestamp - %(step)s::interval, %(step)s::interval)
    as p(period_start)
cross join generate_series(0, %(rows)s - 1) as r(row_number)
"""
RAW_ROWS_SQL = "insert into raw.{table}" + RAW_ROWS_SELECT

WINDOW_FILTER = "start_time >= %(start)s and start_time < %(end)s and category = any(%(categories)s)"

# Every (period start, category) of a window: `step` apart from `start`, before `end`.
WINDOW_PERIODS = """unnest(%(categories)s::varchar[]) as c(category)
cross join generate_series(%(start)s::timestamp, %(end)s::timestamp - %(step)s::interval, %(step)s::interval)
    as p(period_start)"""

# Runs of other partitions write the same table at once. Deleting a window and inserting
# it again is not safe against a concurrent run of the *same* window (its new rows are
# not seen by the other delete), so writers of one table take turns: for this short step,
# and a load of landed files from before it reads them until it commits (staging.py).
WRITE_LOCK_SQL = "select pg_advisory_xact_lock(hashtext('{table}'))"
DELETE_WINDOW_SQL = WRITE_LOCK_SQL + ";\ndelete from {table} where " + WINDOW_FILTER

CATEGORY_FILTER = "category = %(category)s"

# Checked rows of landed files (staging.py): staged as CSV, read by COPY.
STAGED_FILE_OPTIONS = "(format csv, header false)"
LOAD_STAGED_SQL = "copy raw.{table} (id, category, start_time, value) from stdin with (format csv)"
{%- if cookiecutter.raw_source == "files" %}

# The (period, category) pairs the landing area declares empty (a `<period>.empty` file,
# staging.py), by raw table: the raw data check counts them as complete.
EMPTY_PERIODS_DDL = (
    DDL_LOCK
    + """;
create schema if not exists landing;
create table if not exists landing.empty_periods (
    raw_table varchar not null,
    category varchar not null,
    start_time timestamp not null
);
"""
)
EMPTY_PERIOD_INSERT_SQL = (
    "insert into landing.empty_periods (raw_table, category, start_time) values (%(table)s, %(category)s, %(start)s)"
)
EMPTY_PERIODS_DELETE_SQL = "delete from landing.empty_periods where raw_table = %(table)s and " + WINDOW_FILTER
{%- endif %}

REPORT_TABLE_DDL = (
    "begin;\n"
    + DDL_LOCK
    + """;
create schema if not exists {schema};
create table if not exists {schema}.{table} as {select} limit 0;
commit
"""
)
{%- else -%}
# Parameters: DuckDB's $name.
RAW_TABLE_DDL = """
create schema if not exists raw;
create table if not exists raw.{table} (
    id varchar not null,
    category varchar not null,
    start_time timestamp not null,
    value double not null
)
"""

# The synthetic rows of a window, as raw_rows.py writes them and samples.py exports them.
RAW_ROWS_SELECT = """
select
    category || '|' || strftime(period_start, '%Y-%m-%d') || '|' || lpad(row_number::varchar, 6, '0') as id,
    category,
    period_start + to_microseconds(row_number * $period_us // $rows) as start_time,
    round((hash(category, period_start, row_number) % 1000000) / 100.0, 2) as value
from unnest($categories::varchar[]) as c(category)
cross join generate_series($start::timestamp, $end::timestamp - $step, $step) as p(period_start)
cross join range($rows) as r(row_number)
"""
RAW_ROWS_SQL = "insert into raw.{table}" + RAW_ROWS_SELECT

WINDOW_FILTER = "start_time >= $start and start_time < $end and category in (select unnest($categories::varchar[]))"

# Every (period start, category) of a window: `step` apart from `start`, before `end`.
WINDOW_PERIODS = """unnest($categories::varchar[]) as c(category)
cross join generate_series($start::timestamp, $end::timestamp - $step, $step) as p(period_start)"""

# A connection holds the DuckDB file alone (duckdb_lock.py): that is the writer's lock.
WRITE_LOCK_SQL = None
DELETE_WINDOW_SQL = "delete from {table} where " + WINDOW_FILTER

CATEGORY_FILTER = "category = $category"

# Checked rows of landed files (staging.py), staged as Parquet by an in-memory DuckDB.
STAGED_FILE_OPTIONS = "(format parquet)"
LOAD_STAGED_SQL = "insert into raw.{table} select id, category, start_time, value from read_parquet($staged)"
{%- if cookiecutter.raw_source == "files" %}

# The (period, category) pairs the landing area declares empty (a `<period>.empty` file,
# staging.py), by raw table: the raw data check counts them as complete.
EMPTY_PERIODS_DDL = """
create schema if not exists landing;
create table if not exists landing.empty_periods (
    raw_table varchar not null,
    category varchar not null,
    start_time timestamp not null
);
"""
EMPTY_PERIOD_INSERT_SQL = (
    "insert into landing.empty_periods (raw_table, category, start_time) values ($table, $category, $start)"
)
EMPTY_PERIODS_DELETE_SQL = "delete from landing.empty_periods where raw_table = $table and " + WINDOW_FILTER
{%- endif %}

REPORT_TABLE_DDL = """
create schema if not exists {schema};
create table if not exists {schema}.{table} as {select} limit 0
"""
{%- endif %}

# Every table the project writes: raw data (Python), dbt models, summaries (Python).
WAREHOUSE_TABLES = [
    "raw.daily_raw_data",
    "raw.weekly_raw_data",
{%- if cookiecutter.raw_source == "files" %}
    "landing.empty_periods",
{%- endif %}
    "main.stg_daily_raw_data",
    "main.stg_weekly_raw_data",
    "main.mart_daily_data",
    "main.mart_weekly_data",
    "reports.post_processing_daily",
    "reports.post_processing_weekly",
]
EXISTING_TABLES_SQL = """
    select table_schema || '.' || table_name from information_schema.tables
    where table_schema in ('raw', 'landing', 'main', 'reports')
"""

# Portable SQL: the same on both engines.
SUMMARY_SQL = {
    "post_processing_daily": """
        select category, date_trunc('day', start_time) as start_time,
               count(*) as row_count, sum(value) as value_sum
        from main.mart_daily_data
        where {window}
        group by category, date_trunc('day', start_time)
    """,
    "post_processing_weekly": """
        select category, start_time, daily_row_count as row_count,
               daily_value_sum as value_sum, weekly_value
        from main.mart_weekly_data
        where {window}
    """,
}

SUMMARY_TOTALS_SQL = """
    select category, count(*), cast(sum(row_count) as bigint), sum(value_sum)
    from {table} where {window} group by category order by category
"""

# The raw data check (defs/raw/checks.py): the (period start, category) pairs of a window
# with no row in raw.{table}; {unit} is the period, `day` or `week` (weeks start on Monday
# in both engines, as the weekly partitions do).
RAW_TABLE_EXISTS_SQL = (
    "select count(*) from information_schema.tables where table_schema = 'raw' and table_name = '{table}'"
)

# With landing files, pairs declared empty count as present; the declarations' table is
# made first, as a warehouse loaded before it existed has none.
MISSING_PERIODS_SQL = (
{%- if cookiecutter.raw_source == "files" %}
    EMPTY_PERIODS_DDL
    + """
    with present as (
        select distinct category, date_trunc('{unit}', start_time) as period_start
        from raw.{table}
        where """
    + WINDOW_FILTER
    + """
        union
        select category, start_time as period_start
        from landing.empty_periods
        where raw_table = '{table}' and """
    + WINDOW_FILTER
{%- else %}
    """
    with present as (
        select distinct category, date_trunc('{unit}', start_time) as period_start
        from raw.{table}
        where """
    + WINDOW_FILTER
{%- endif %}
    + """
    )
    select p.period_start, c.category
    from """
    + WINDOW_PERIODS
    + """
    left join present on present.category = c.category and present.period_start = p.period_start
    where present.category is null
"""
)
