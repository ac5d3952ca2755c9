"""Check every answer before cookiecutter writes anything.

Each problem is printed on its own line, naming the prompt and the rule; generation then
stops and nothing is written. copier.yml holds the same rules as copier validators.
"""

import json
import keyword
import re
import sys
from datetime import date

# The answers as JSON, read when the hook runs: a value can never become code here.
ANSWERS_JSON = r"""{{ cookiecutter | tojson }}"""

# What each answer must be, a sentence per prompt. docs/prompts.md is generated from these
# (docs/generate_prompts.py); tests/test_docs.py fails when a prompt has none.
RULES = {
    "project_name": "Any text on one line, not empty.",
    "project_slug": (
        "A lowercase Python identifier, not a keyword, and not the name of a package the project "
        "imports (`dagster`, `dagster_dbt`, `dbt`, `duckdb`, `pytest`, `tests`)."
    ),
    "category_values": (
        "One or more names, comma-separated (copier also takes a YAML list). Each starts with a "
        "letter or digit and holds only letters, digits, spaces, `_`, `-` and `.`; no name twice."
    ),
    "partitioning": (
        "`time_x_category` (a partition per period and category) or `time` (a partition per "
        "period, every category in it; a run tag narrows a run to some categories)."
    ),
    "daily_start_date": "A real calendar date, `YYYY-MM-DD`.",
    "weekly_start_date": "A Monday, `YYYY-MM-DD`, not before `daily_start_date`.",
    "warehouse": (
        "`duckdb` (one local DuckDB file), `postgres` (a PostgreSQL server, from the "
        "`POSTGRES_*` environment variables at run time) or `spark` (a Spark Thrift server, from "
        "the `SPARK_*` variables; `make dev` starts a local one)."
    ),
    "raw_source": (
        "`synthetic` (rows the project makes, the same on every run) or `files` (Parquet or CSV "
        "files that land per period and category in a folder or an object store, loaded when they arrive)."
    ),
    "duckdb_path": (
        "A file path, relative to the project root or absolute, not ending in `/`; no quotes, "
        "braces, `%`, backslashes, line breaks or surrounding spaces. Used with `duckdb` only."
    ),
    "owner": (
        "`team:` and a name of letters, digits, `_`, `-` and `.`, or an email address: the owner "
        "of every asset in Dagster's catalog (dbt models take it from `dbt_project.yml`)."
    ),
}

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
CATEGORY = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9 _.-]*[A-Za-z0-9_.-])?")
# Package names that the generated code imports: a project named like one would shadow it.
IMPORTED_PACKAGES = {"dagster", "dagster_dbt", "dbt", "duckdb", "pytest", "tests"}
UNSAFE_PATH_CHARACTERS = set("\"'{}%\\\n\r\t")
# An owner as Dagster takes one (an email address, or `team:` and a name), in characters
# that are safe in YAML and Python strings.
OWNER = re.compile(r"team:[A-Za-z0-9][A-Za-z0-9_.-]*|[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+[.][A-Za-z]{2,7}")
# The answers that pick whole files, and their choices (the first is the default).
CHOICES = {
    "partitioning": ["time_x_category", "time"],
    "warehouse": ["duckdb", "postgres", "spark"],
    "raw_source": ["synthetic", "files"],
}


def check_project_name(value: str) -> list[str]:
    if not value.strip():
        return ["project_name: must not be empty."]
    if any(ch in value for ch in "\n\r"):
        return ["project_name: must be one line."]
    return []


def check_project_slug(value: str) -> list[str]:
    if not value.isidentifier() or not value.isascii():
        return [f"project_slug: '{value}' is not a Python identifier (use a-z, 0-9 and _, not starting with a digit)."]
    if keyword.iskeyword(value):
        return [f"project_slug: '{value}' is a Python keyword; choose another name."]
    if value != value.lower():
        return [f"project_slug: '{value}' must be lowercase."]
    if value in IMPORTED_PACKAGES:
        return [f"project_slug: '{value}' would shadow the package of the same name; choose another name."]
    return []


def check_category_values(value: str) -> list[str]:
    categories = [c.strip() for c in value.split(",")]
    if any(not c for c in categories):
        return ["category_values: needs one or more comma-separated names, none empty (e.g. A,B)."]
    problems = []
    for category in categories:
        if "|" in category:
            problems.append(f"category_values: '{category}' contains '|', which separates partition key parts.")
        elif not CATEGORY.fullmatch(category):
            problems.append(
                f"category_values: '{category}' may hold only letters, digits, spaces, '_', '-' and '.', "
                "starting with a letter or digit."
            )
    duplicates = sorted({c for c in categories if categories.count(c) > 1})
    if duplicates:
        problems.append(f"category_values: {', '.join(duplicates)} given more than once.")
    return problems


def parse_date(prompt: str, value: str, problems: list[str]) -> date | None:
    if not ISO_DATE.fullmatch(value):
        problems.append(f"{prompt}: '{value}' is not a date in the form YYYY-MM-DD.")
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        problems.append(f"{prompt}: '{value}' is not a real calendar date.")
        return None


def check_dates(daily_value: str, weekly_value: str) -> list[str]:
    problems: list[str] = []
    daily = parse_date("daily_start_date", daily_value, problems)
    weekly = parse_date("weekly_start_date", weekly_value, problems)
    if weekly is not None and weekly.weekday() != 0:
        problems.append(f"weekly_start_date: {weekly_value} is a {weekly:%A}; weeks start on a Monday.")
    if daily is not None and weekly is not None and weekly < daily:
        problems.append(
            f"weekly_start_date: {weekly_value} is before daily_start_date {daily_value}; a week needs its days."
        )
    return problems


def check_choice(name: str, value: str) -> list[str]:
    if value not in CHOICES[name]:
        return [f"{name}: '{value}' is not one of {', '.join(CHOICES[name])}."]
    return []


def check_duckdb_path(value: str) -> list[str]:
    if not value.strip():
        return ["duckdb_path: must not be empty (e.g. data/warehouse.duckdb)."]
    if value != value.strip() or set(value) & UNSAFE_PATH_CHARACTERS:
        return ["duckdb_path: must not contain quotes, braces, '%', backslashes, line breaks or surrounding spaces."]
    if value.endswith("/"):
        return [f"duckdb_path: '{value}' names a folder; give a file, e.g. {value}warehouse.duckdb."]
    return []


def check_owner(value: str) -> list[str]:
    if not OWNER.fullmatch(value):
        return ["owner: must be team:<name> (letters, digits, '_', '-' and '.') or an email address."]
    return []


def problems(answers: dict) -> list[str]:
    return [
        *check_project_name(answers["project_name"]),
        *check_project_slug(answers["project_slug"]),
        *check_category_values(answers["category_values"]),
        *check_choice("partitioning", answers["partitioning"]),
        *check_dates(answers["daily_start_date"], answers["weekly_start_date"]),
        *check_choice("warehouse", answers["warehouse"]),
        *check_choice("raw_source", answers["raw_source"]),
        *check_duckdb_path(answers["duckdb_path"]),
        *check_owner(answers["owner"]),
    ]


if __name__ == "__main__":
    found = problems(json.loads(ANSWERS_JSON))
    if found:
        print("\n".join(["Cannot generate the project:", *(f"  {p}" for p in found)]), file=sys.stderr)
        sys.exit(1)
