"""`copier update` brings template releases into existing projects and keeps users' edits.

Each test works on a temporary git copy of this template, released as v1.0.0; a project
is made from that release, committed and edited, then the template changes and is
released as v1.1.0, and the project is updated. The commands are the ones in
docs/updating.md (test_documented_commands_are_these keeps the two together).
"""

import re
from pathlib import Path

import pytest
import yaml
from conftest import TEMPLATE, module_constant
from template_git import TemplateRepo, commit_all, run

UPDATE = "copier update --trust --defaults"
UPDATE_WITH_ANSWERS = "copier update --trust --defaults --data category_values=A,B,C --data daily_start_date=2023-12-25"
UPDATE_WITH_REJECTS = "copier update --trust --defaults --conflict rej"
SWITCH_TO_POSTGRES = "copier update --trust --defaults --data warehouse=postgres"
SWITCH_TO_SPARK = "copier update --trust --defaults --data warehouse=spark"
SWITCH_TO_TIME = "copier update --trust --defaults --data partitioning=time"
SWITCH_TO_FILES = "copier update --trust --defaults --data raw_source=files"
ADOPT = 'git add .copier-answers.yml && git commit -m "Adopt copier updates"'
DOCUMENTED = [UPDATE, UPDATE_WITH_ANSWERS, UPDATE_WITH_REJECTS, ADOPT]

README_LINE = "make test         # the project's tests"
NOTES = "\n## Team notes\n\nOur own words.\n"
# What a project holds that copier does not render: git, build outputs, the answers file.
NOT_RENDERED = {".git", "target", "logs", ".copier-answers.yml", "__pycache__"}
NEW_SETTING = "# Release 1.1: a comment the template added to dagster.yaml."


# The copies here are updated and compared, never run: copier's task (the dbt parse that
# generation ends with; test_copier.py checks it) is skipped, and target/ is not compared.
COPY = ["copier", "copy", "--trust", "--defaults", "--skip-tasks"]


@pytest.fixture
def template(tmp_path: Path) -> TemplateRepo:
    return TemplateRepo(tmp_path / "template")


def copier_project(template: TemplateRepo, destination: Path) -> Path:
    run(
        [*COPY, "--vcs-ref", "v1.0.0", str(template.path), str(destination)],
        destination.parent,
    )
    run(["git", "init", "--quiet", "--initial-branch=main"], destination)
    commit_all(destination, "Generated")
    return destination


def release_v1_1(template: TemplateRepo) -> None:
    """The template change every test updates to: a new line and a changed line."""
    template.edit("dagster.yaml", "run_retries:", f"{NEW_SETTING}\nrun_retries:")
    template.edit("README.md", README_LINE, README_LINE + " (a minute)")
    template.release("v1.1.0")


def rendered_files(root: Path) -> dict[str, bytes]:
    """Every file copier renders, by path, with its bytes."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file() and not NOT_RENDERED & set(path.relative_to(root).parts)
    }


def assert_fresh_copy_plus_notes(project: Path, template: TemplateRepo, answers: list[str], tmp_path: Path) -> None:
    """`project` holds what a fresh copy of the template's last release with `answers` holds,
    file for file, and the notes a user added to its README."""
    fresh = tmp_path / "fresh"
    data = [option for answer in answers for option in ("--data", answer)]
    run([*COPY, *data, str(template.path), str(fresh)], tmp_path)
    assert (project / "README.md").read_text() == (fresh / "README.md").read_text() + NOTES
    (project / "README.md").write_text((fresh / "README.md").read_text())
    assert rendered_files(project) == rendered_files(fresh)


def test_documented_commands_are_these():
    doc = (TEMPLATE / "docs" / "updating.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", doc, flags=re.S)
    documented = [line.strip() for block in blocks for line in block.splitlines() if line.strip()]
    expected = [
        UPDATE,
        UPDATE_WITH_ANSWERS,
        SWITCH_TO_POSTGRES,
        SWITCH_TO_SPARK,
        SWITCH_TO_TIME,
        SWITCH_TO_FILES,
        ADOPT,
        UPDATE,
        UPDATE_WITH_REJECTS,
    ]
    assert documented == expected


def test_update_brings_changes_and_new_answers_and_keeps_edits(template, tmp_path):
    project = copier_project(template, tmp_path / "project")
    (project / "README.md").write_text((project / "README.md").read_text() + NOTES)
    commit_all(project, "Our notes")
    release_v1_1(template)

    run(UPDATE_WITH_ANSWERS, project)

    assert NEW_SETTING in (project / "dagster.yaml").read_text()
    readme = (project / "README.md").read_text()
    assert readme.endswith(NOTES) and README_LINE + " (a minute)" in readme
    partitions = project / "src/dagster_dbt_pipeline/partitions.py"
    assert module_constant(partitions, "CATEGORIES") == ["A", "B", "C"]
    assert module_constant(partitions, "DAILY_START_DATE") == "2023-12-25"
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "v1.1.0"
    # File for file a fresh copy with the project's answers: a project of the kind whose own
    # suite runs in test_tooling.py (DuckDB, categories by time, synthetic rows). The weekly
    # start keeps its earlier answer, as every question the update was given no answer for.
    answered = ["category_values=A,B,C", "daily_start_date=2023-12-25", "weekly_start_date=2024-01-01"]
    assert answers["weekly_start_date"] == "2024-01-01"
    assert_fresh_copy_plus_notes(project, template, answered, tmp_path)


# A choice switched by an update: (its command, the answer, a file of the project, what it then holds).
SWITCHES = [
    (SWITCH_TO_POSTGRES, "warehouse=postgres", "src/dagster_dbt_pipeline/dbt/profiles.yml", "type: postgres"),
    (SWITCH_TO_SPARK, "warehouse=spark", "src/dagster_dbt_pipeline/dbt/profiles.yml", "type: spark"),
    (SWITCH_TO_TIME, "partitioning=time", "src/dagster_dbt_pipeline/partitions.py", "CATEGORIES_TAG = "),
    (SWITCH_TO_FILES, "raw_source=files", "src/dagster_dbt_pipeline/defs/raw/raw_data.py", "load_window"),
]


@pytest.mark.parametrize(("command", "answer", "path", "text"), SWITCHES, ids=[switch[1] for switch in SWITCHES])
def test_an_update_switches_a_choice_as_a_fresh_copy_has_it(template, tmp_path, command, answer, path, text):
    project = copier_project(template, tmp_path / "project")
    (project / "README.md").write_text((project / "README.md").read_text() + NOTES)
    commit_all(project, "Our notes")

    run(command, project)

    assert_fresh_copy_plus_notes(project, template, [answer], tmp_path)
    assert text in (project / path).read_text()
    name, value = answer.split("=")
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())[name] == value


def test_conflicting_edits_get_markers_or_rej_files(template, tmp_path):
    inline = copier_project(template, tmp_path / "inline")
    rejects = copier_project(template, tmp_path / "rejects")
    for project in (inline, rejects):
        readme = project / "README.md"
        readme.write_text(readme.read_text().replace(README_LINE, README_LINE + " (ours)"))
        commit_all(project, "Our wording")
    release_v1_1(template)

    run(UPDATE, inline)
    readme = (inline / "README.md").read_text()
    assert "<<<<<<< before updating" in readme and ">>>>>>> after updating" in readme
    assert README_LINE + " (ours)" in readme and README_LINE + " (a minute)" in readme
    assert NEW_SETTING in (inline / "dagster.yaml").read_text()

    # With .rej files the template's line goes into the file, and ours into the .rej.
    run(UPDATE_WITH_REJECTS, rejects)
    assert README_LINE + " (a minute)" in (rejects / "README.md").read_text()
    assert "+" + README_LINE + " (ours)" in (rejects / "README.md.rej").read_text()


def test_a_cookiecutter_project_is_adopted_and_updated(template, tmp_path, cookiecutter_config):
    output = tmp_path / "out"
    run(
        [
            "cookiecutter",
            "--no-input",
            "--accept-hooks=no",  # as COPY: its dbt parse is not used here
            "--config-file",
            str(cookiecutter_config),
            "-o",
            str(output),
            str(template.path),
        ],
        tmp_path,
    )
    project = output / "dagster_dbt_pipeline"
    assert not (project / ".copier-answers.yml").exists()
    run(["git", "init", "--quiet", "--initial-branch=main"], project)
    commit_all(project, "Generated with cookiecutter")
    release_v1_1(template)

    answers = {
        "_commit": "v1.0.0",
        "_src_path": str(template.path),
        "project_name": "Dagster dbt pipeline",
        "project_slug": "dagster_dbt_pipeline",
        "category_values": "A,B",
        "daily_start_date": "2024-01-01",
        "weekly_start_date": "2024-01-01",
        "duckdb_path": "data/dagster_dbt_pipeline.duckdb",
    }
    (project / ".copier-answers.yml").write_text(yaml.safe_dump(answers))
    run(ADOPT, project)
    run(UPDATE, project)

    assert NEW_SETTING in (project / "dagster.yaml").read_text()
    assert README_LINE + " (a minute)" in (project / "README.md").read_text()
    status = run(["git", "status", "--porcelain"], project)
    changed = sorted(line[3:] for line in status.splitlines())
    assert changed == [".copier-answers.yml", "README.md", "dagster.yaml"]
