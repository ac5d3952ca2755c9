"""Delete every row of a category that the project no longer has, from every table it writes.

After `copier update --data category_values=...` drops a category, its partitions leave
Dagster but its rows stay in the warehouse ({{ cookiecutter.warehouse }}), where runs never touch
them again. This removes them, in one transaction, and says how many rows went from each
table. It refuses a category the project still has.

Usage: python scripts/purge_category.py CATEGORY      (make purge-category CATEGORY=...)
"""

import sys

from {{ cookiecutter.project_slug }}.partitions import CATEGORIES
from {{ cookiecutter.project_slug }}.resources import build_resources
from {{ cookiecutter.project_slug }}.sql import CATEGORY_FILTER, delete_category, existing_tables, warehouse_tables


def main(args: list[str]) -> None:
    if len(args) != 1 or not args[0].strip():
        sys.exit("Usage: make purge-category CATEGORY=<a category this project no longer has>")
    category = args[0].strip()
    if category in CATEGORIES:
        sys.exit(
            f"'{category}' is still a category of this project (partitions.py: {', '.join(CATEGORIES)}); "
            "drop it first with `copier update --trust --defaults --data category_values=...`, then purge it."
        )
    params = {"category": category}
    with build_resources()["warehouse"].connect() as con:
        existing = existing_tables(con)
        tables = [table for table in warehouse_tables() if table in existing]
        con.begin()
        deleted = {}
        for table in tables:
            (deleted[table],) = con.execute(f"select count(*) from {table} where {CATEGORY_FILTER}", params).fetchone()
            delete_category(con, table, category)
        con.commit()
    for table in tables:
        print(f"{table:<32} {deleted[table]:>8} rows of '{category}' deleted")
    print(f"Category '{category}' purged from {len(tables)} tables.")


if __name__ == "__main__":
    main(sys.argv[1:])
