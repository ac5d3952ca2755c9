"""copier and cookiecutter: the same questions, and byte-identical projects from the same answers."""

import filecmp
import json
from pathlib import Path

import pytest
import yaml
from conftest import ANSWER_SETS, TEMPLATE, module_constant, run_copier
from cookiecutter.main import cookiecutter
from copier import run_copy

# What generation builds (dbt parse) or what only one engine writes.
NOT_COMPARED = {"target", "logs", ".copier-answers.yml", "__pycache__"}


def cookiecutter_questions() -> dict:
    questions = json.loads((TEMPLATE / "cookiecutter.json").read_text())
    return {name: value for name, value in questions.items() if not name.startswith("_")}


def copier_questions() -> dict:
    config = yaml.safe_load((TEMPLATE / "copier.yml").read_text())
    return {name: value for name, value in config.items() if not name.startswith("_") and name != "cookiecutter"}


def normalized_default(default) -> str:
    """A default as cookiecutter spells it: a list is its comma-separated string."""
    if isinstance(default, list):
        return ",".join(default)
    return default.replace("cookiecutter.", "")


def test_same_questions_in_the_same_order():
    assert list(copier_questions()) == list(cookiecutter_questions())


def test_same_help_texts():
    prompts = json.loads((TEMPLATE / "cookiecutter.json").read_text())["__prompts__"]
    assert {name: question["help"] for name, question in copier_questions().items()} == prompts


def cookiecutter_default(value):
    """A list in cookiecutter.json is a choice, whose first item is the default."""
    return value[0] if isinstance(value, list) else value


def test_same_defaults():
    expected = {
        name: normalized_default(cookiecutter_default(value)) for name, value in cookiecutter_questions().items()
    }
    actual = {name: normalized_default(question["default"]) for name, question in copier_questions().items()}
    assert actual == expected


def test_same_choices():
    choices = {name: value for name, value in cookiecutter_questions().items() if isinstance(value, list)}
    assert choices == {
        "partitioning": ["time_x_category", "time"],
        "warehouse": ["duckdb", "postgres", "spark"],
        "raw_source": ["synthetic", "files"],
    }
    copier = {name: question["choices"] for name, question in copier_questions().items() if "choices" in question}
    assert copier == choices


def test_every_question_has_a_validator():
    assert all("validator" in question for question in copier_questions().values())


def tree(root: Path) -> list[str]:
    return sorted(
        str(path.relative_to(root)) for path in root.rglob("*") if not NOT_COMPARED & set(path.relative_to(root).parts)
    )


def assert_same_tree(left: Path, right: Path) -> None:
    files = tree(left)
    assert files == tree(right)
    regular = [name for name in files if (left / name).is_file()]
    _, mismatch, errors = filecmp.cmpfiles(left, right, regular, shallow=False)
    assert mismatch == [] and errors == []


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_copier_and_cookiecutter_render_the_same_project(name, tmp_path, cookiecutter_config):
    """Neither engine runs the dbt parse that generation ends with (copier's task, cookiecutter's
    hooks): its target/ is not compared, and each engine's is checked on its own
    (test_copier_writes_its_answers_and_builds_the_manifest, test_post_generation.py)."""
    answers = ANSWER_SETS[name]
    # The template's working tree, uncommitted edits included (vcs_ref HEAD), less the task.
    copied = run_copy(
        str(TEMPLATE),
        tmp_path / "copier",
        user_defaults=answers,
        defaults=True,
        unsafe=True,
        vcs_ref="HEAD",
        quiet=True,
        skip_tasks=True,
    )
    baked = cookiecutter(
        str(TEMPLATE),
        no_input=True,
        extra_context=answers,
        output_dir=str(tmp_path / "cookiecutter"),
        config_file=str(cookiecutter_config),
        accept_hooks=False,
    )
    assert_same_tree(Path(copied.dst_path), Path(baked))


def test_copier_writes_its_answers_and_builds_the_manifest(tmp_path):
    destination = tmp_path / "project"
    result = run_copier(destination, {"category_values": "[north, south]", "project_name": "Sum {{ 7 * 7 }}"})
    assert result.returncode == 0, result.stderr
    answers = yaml.safe_load((destination / ".copier-answers.yml").read_text())
    assert answers["category_values"] == ["north", "south"]
    assert answers["project_name"] == "Sum {{ 7 * 7 }}"
    assert {"_commit", "_src_path"} <= set(answers)
    assert (destination / "src/sum_7_7/dbt/target/manifest.json").is_file()
    # copier keeps an answer as typed: no template in it is rendered.
    assert (destination / "README.md").read_text().startswith("# Sum {{ 7 * 7 }}\n")
    assert module_constant(destination / "src/sum_7_7/partitions.py", "CATEGORIES") == ["north", "south"]
