"""A checkout without a dbt manifest (target/ is not committed) builds one when it loads."""

import os
import shutil
import subprocess
import sys

import pytest

from {{ cookiecutter.project_slug }}.project import PACKAGE_DIR


@pytest.mark.slow  # a new process that imports dagster-dbt and runs `dbt parse`: about 15 s
def test_a_missing_manifest_is_built_on_first_load(tmp_path):
    copy = tmp_path / "src" / PACKAGE_DIR.name
    shutil.copytree(PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("target", "logs", "__pycache__"))
    manifest = copy / "dbt" / "target" / "manifest.json"
    assert not manifest.exists()
{%- if cookiecutter.warehouse == "postgres" %}
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "src")}
{%- else %}
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "src"), "DUCKDB_DATABASE": str(tmp_path / "db.duckdb")}
{%- endif %}
    subprocess.run([sys.executable, "-c", f"import {PACKAGE_DIR.name}.project"], cwd=tmp_path, env=env, check=True)
    assert manifest.is_file()
