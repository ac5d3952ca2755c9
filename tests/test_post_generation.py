"""The post-generation step: builds the dbt manifest, and says plainly when it cannot."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TEMPLATE, clean_env, uv_executable

HOOK = TEMPLATE / "hooks" / "post_gen_project.py"


@pytest.fixture
def project(cookies) -> Path:
    result = cookies.bake()
    assert result.exit_code == 0, result.exception
    path = Path(result.project_path)
    shutil.rmtree(path / "src/dagster_dbt_pipeline/dbt/target")
    return path


def run_hook(project: Path, python: str, path_env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [python, str(HOOK)], cwd=project, env=clean_env(PATH=path_env), capture_output=True, text=True, check=False
    )


def test_without_dbt_generation_succeeds_and_says_what_to_run(project, tmp_path):
    bare = tmp_path / "bare"
    subprocess.run([uv_executable(), "venv", "--quiet", str(bare)], check=True, env=clean_env())
    result = run_hook(project, str(bare / "bin" / "python"), "/usr/bin:/bin")
    assert result.returncode == 0
    assert result.stdout.strip() == (
        f"dbt is not installed here, so the dbt manifest was not built yet. Next: cd {project} && make manifest"
    )
    assert not (project / "src/dagster_dbt_pipeline/dbt/target/manifest.json").exists()


def test_a_failing_parse_shows_dbts_error(project):
    model = project / "src/dagster_dbt_pipeline/dbt/models/marts/mart_daily_data.sql"
    model.write_text(model.read_text().replace("ref('stg_daily_raw_data')", "ref('no_such_model')"))
    result = run_hook(project, sys.executable, str(Path(sys.executable).parent) + ":/usr/bin:/bin")
    assert result.returncode == 0
    assert result.stdout.startswith("dbt parse failed; the project was generated, but its dbt manifest was not built:")
    assert "no_such_model" in result.stdout
    assert result.stdout.strip().endswith(f"Fix the error above, then: cd {project} && make manifest")
    assert "Traceback" not in result.stdout + result.stderr


def test_with_dbt_the_manifest_is_built(project):
    result = run_hook(project, sys.executable, str(Path(sys.executable).parent) + ":/usr/bin:/bin")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "dbt manifest built: src/dagster_dbt_pipeline/dbt/target/manifest.json"
    assert (project / "src/dagster_dbt_pipeline/dbt/target/manifest.json").is_file()


def test_an_unwritable_target_folder_is_reported_plainly(project):
    # dbt cannot create target/ where a file of that name stands (root may write anywhere,
    # so a permission bit would not stop it).
    (project / "src/dagster_dbt_pipeline/dbt/target").write_text("not a folder")
    result = run_hook(project, sys.executable, str(Path(sys.executable).parent) + ":/usr/bin:/bin")
    assert result.returncode == 0
    target = project / "src/dagster_dbt_pipeline/dbt/target"
    assert result.stdout.strip() == (
        f"Cannot build the dbt manifest: {target} is not a writable folder. "
        f"Fix that, then: cd {project} && make manifest"
    )
