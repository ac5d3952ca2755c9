"""`copier update` across v1.0.0, which moved the code location into defs/ (CHANGELOG.md).

In a temporary clone of this template, the last commit of the old layout is released as
v0.9.0 and this tree as v1.0.0. A project made from v0.9.0 is updated as docs/updating.md
says: unchanged, it becomes what a fresh copy of v1.0.0 holds; with changes in a module
that v1.0.0 removes, copier's migration keeps that module beside itself.
"""

import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import TEMPLATE, clean_env
from template_git import GIT_IDENTITY, commit_all, copy_template_files, run
from test_update import UPDATE

OLD_LAYOUT = "4e7f12d"  # the last commit with src/<slug>/assets.py, jobs.py and automation.py
OLD, NEW = "v0.9.0", "v1.0.0"
PACKAGE = Path("src/dagster_dbt_pipeline")
REMOVED = ["assets.py", "jobs.py", "automation.py"]
KEPT_SUFFIX = ".pre-v1.0.0"
NOT_SOURCES = {".git", "target", "logs", "__pycache__", ".copier-answers.yml"}


@pytest.fixture
def template(tmp_path: Path) -> Path:
    """A clone of this template with the old layout released as v0.9.0 and this tree as v1.0.0."""
    shallow = subprocess.run(
        ["git", "rev-parse", "--is-shallow-repository"], cwd=TEMPLATE, capture_output=True, text=True, check=False
    )
    if shallow.stdout.strip() == "true":
        pytest.skip("A shallow clone of the template lacks the commit of the old layout: git fetch --unshallow.")
    clone = tmp_path / "template"
    run(["git", "clone", "--quiet", str(TEMPLATE), str(clone)], tmp_path)
    run(["git", "checkout", "--quiet", "-B", "release", OLD_LAYOUT], clone)
    run(["git", "tag", OLD], clone)
    # This tree, committed or not, as the next release.
    run(["git", "rm", "-r", "--quiet", "."], clone)
    copy_template_files(clone)
    commit_all(clone, f"Release {NEW}")
    run(["git", "tag", NEW], clone)
    return clone


def copy(template: Path, destination: Path, *options: str) -> Path:
    """A copy to update and compare, never run: copier's task (the dbt parse) is skipped."""
    run(
        ["copier", "copy", "--trust", "--defaults", "--skip-tasks", *options, str(template), str(destination)],
        destination.parent,
    )
    return destination


def old_project(template: Path, destination: Path) -> Path:
    project = copy(template, destination, "--vcs-ref", OLD)
    assert all((project / PACKAGE / name).is_file() for name in REMOVED)
    run(["git", "init", "--quiet", "--initial-branch=main"], project)
    commit_all(project, "Generated")
    return project


def update(project: Path) -> subprocess.CompletedProcess:
    """The documented update command; its output, stderr included."""
    result = subprocess.run(
        UPDATE, shell=True, cwd=project, env=clean_env(**GIT_IDENTITY), capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def sources(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file() and not NOT_SOURCES & set(path.relative_to(root).parts)
    }


def test_an_unchanged_project_becomes_a_fresh_copy_of_the_new_layout(template, tmp_path):
    project = old_project(template, tmp_path / "project")

    update(project)

    fresh = copy(template, tmp_path / "fresh")
    assert sources(project) == sources(fresh)
    assert not list(project.rglob(f"*{KEPT_SUFFIX}"))
    assert (project / PACKAGE / "defs" / "raw" / "raw_data.py").is_file()
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["_commit"] == NEW


def test_a_changed_module_that_moved_is_kept_beside_the_new_layout(template, tmp_path):
    project = old_project(template, tmp_path / "project")
    assets = project / PACKAGE / "assets.py"
    ours = assets.read_text().replace("DEFAULT_ROWS_PER_PARTITION = 24", "DEFAULT_ROWS_PER_PARTITION = 48")
    assert ours != assets.read_text()
    assets.write_text(ours)
    commit_all(project, "Our row count")

    result = update(project)

    kept = project / PACKAGE / f"assets.py{KEPT_SUFFIX}"
    assert kept.read_text() == ours
    assert not assets.exists()
    # Only the changed module is kept; the others went as copier removes them.
    assert sorted(path.name for path in project.rglob(f"*{KEPT_SUFFIX}")) == [kept.name]
    assert not any((project / PACKAGE / name).exists() for name in REMOVED)
    assert f"Your version is kept as {PACKAGE / kept.name}" in result.stderr
    # The new layout has the template's value; the user carries theirs over by hand.
    assert "DEFAULT_ROWS_PER_PARTITION = 24" in (project / PACKAGE / "raw_rows.py").read_text()
    docs = (TEMPLATE / "docs" / "updating.md").read_text()
    assert f"`<module>{KEPT_SUFFIX}`" in docs
