"""Slim CI (make slim-ci, scripts/slim_ci.py) and dbt targets: against a git ref's manifest,
exactly the changed model and its children are selected; a manifest parsed for another dbt
target than the process's, or rewritten by dbt run by hand, is parsed again."""

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from dagster_dbt import DbtProject

from {{ cookiecutter.project_slug }} import project
from {{ cookiecutter.project_slug }}.project import DBT_EXECUTABLE, DBT_PROJECT_DIR, DBT_TARGET_ENV_VAR, PROJECT_ROOT

CHANGED_MODEL = "stg_daily_raw_data"  # a staging model: its marts are its children
GIT = ["git", "-c", "user.name=slim-ci test", "-c", "user.email=test@example.invalid"]


def load_script():
    spec = importlib.util.spec_from_file_location("slim_ci", PROJECT_ROOT / "scripts" / "slim_ci.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def descendant_models(manifest: dict, model: str) -> set[str]:
    """The model and every model downstream of it, from the manifest's child map."""
    found, todo = set(), [f"model.{manifest['metadata']['project_name']}.{model}"]
    while todo:
        node = todo.pop()
        if node.startswith("model.") and node not in found:
            found.add(node)
            todo.extend(manifest["child_map"].get(node, []))
    return {node.rsplit(".", 1)[-1] for node in found}


def test_a_changed_model_selects_itself_and_its_children_only(tmp_path: Path):
    """A git repository holding a copy of the dbt project; the base is its commit (parsed for
    the prod target), the change an edited staging model (listed for the ci target: another
    target's schema alone marks no model as changed)."""
    slim_ci = load_script()
    repo = tmp_path / "repo"
    dbt_dir = repo / DBT_PROJECT_DIR.relative_to(PROJECT_ROOT)
    shutil.copytree(DBT_PROJECT_DIR, dbt_dir, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    for command in (["init", "--quiet"], ["add", "-A"], ["commit", "--quiet", "-m", "base"]):
        subprocess.run([*GIT, *command], cwd=repo, check=True, capture_output=True)

    state = slim_ci.parse_ref("HEAD", dbt_dir, tmp_path / "state")
    model = next(dbt_dir.glob(f"models/**/{CHANGED_MODEL}.sql"))
    model.write_text(model.read_text() + "\n-- a change of the model's SQL\n")
    manifest = json.loads((state / "manifest.json").read_text())
    expected = descendant_models(manifest, CHANGED_MODEL)
    all_models = {node["name"] for node in manifest["nodes"].values() if node["resource_type"] == "model"}
    assert CHANGED_MODEL in expected and len(expected) > 1 and expected != all_models
    assert slim_ci.modified_models(dbt_dir, state) == sorted(expected)
    # Its dbt commands leave target/manifest.json alone: Dagster's, for the target it runs.
    assert not (dbt_dir / "target" / "manifest.json").exists()


def test_an_unknown_base_is_named(tmp_path: Path):
    slim_ci = load_script()
    subprocess.run([*GIT, "init", "--quiet"], cwd=tmp_path, check=True)
    with pytest.raises(slim_ci.SlimCIError, match="'no-such-ref' is not a commit of this repository"):
        slim_ci.parse_ref("no-such-ref", tmp_path, tmp_path / "state")


def test_a_manifest_of_another_target_is_stale(monkeypatch: pytest.MonkeyPatch):
    """Relation names come from the manifest (dbt_relations.py): one parsed for dev names dev's."""
    monkeypatch.delenv(DBT_TARGET_ENV_VAR, raising=False)
    assert project.parse_record()["target"] == project.dbt_target() == "dev"
    assert not project.manifest_is_stale()
    monkeypatch.setenv(DBT_TARGET_ENV_VAR, "ci")
    assert project.manifest_is_stale()


def test_dbt_run_by_hand_in_the_dbt_folder_makes_the_manifest_stale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """dbt run by hand rewrites target/manifest.json and the partial-parse file for its own
    target and environment: the next load parses again (Dagster's dbt steps start from it)."""
    copy = tmp_path / "dbt"
    shutil.copytree(DBT_PROJECT_DIR, copy, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    (copy / "target").mkdir()
    for name in [*project.PARSED_FILES, project.PARSE_RECORD_FILE]:
        shutil.copy2(DBT_PROJECT_DIR / "target" / name, copy / "target" / name)
    monkeypatch.setattr(project, "dbt_project", DbtProject(project_dir=copy))
    assert not project.manifest_is_stale()
    by_hand = [DBT_EXECUTABLE, "parse", "--quiet", "--project-dir", str(copy), "--profiles-dir", str(copy)]
    subprocess.run(by_hand, cwd=copy, check=True)
    assert project.manifest_is_stale()
