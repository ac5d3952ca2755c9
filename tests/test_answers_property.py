"""Any answer a person can type is either rejected, by both engines alike, or renders a
project whose every file parses (and, for a few, whose definitions load).

Answers go straight into the generation context, as typed at a prompt: no engine renders
them as templates (cookiecutter does that only for answers given on its command line).
"""

import importlib.util
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import jinja2
import pytest
import yaml
from conftest import TEMPLATE, assert_every_file_parses
from cookiecutter.generate import generate_files
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2.sandbox import SandboxedEnvironment

COOKIECUTTER = json.loads((TEMPLATE / "cookiecutter.json").read_text())
COPIER = yaml.safe_load((TEMPLATE / "copier.yml").read_text())
QUESTIONS = [name for name in COOKIECUTTER if not name.startswith("_")]


def load_hook():
    spec = importlib.util.spec_from_file_location("pre_gen_project", TEMPLATE / "hooks" / "pre_gen_project.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HOOK = load_hook()
COPIER_ENV = SandboxedEnvironment(extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"])
COOKIECUTTER_ENV = jinja2.Environment()


def cookiecutter_default(name: str, answers: dict) -> str:
    if isinstance(COOKIECUTTER[name], list):  # a choice: its first item
        return COOKIECUTTER[name][0]
    return COOKIECUTTER_ENV.from_string(COOKIECUTTER[name]).render(cookiecutter=answers)


def copier_default(name: str, answers: dict) -> str:
    return COPIER_ENV.from_string(COPIER[name]["default"]).render(**answers)


def copier_problems(answers: dict) -> list[str]:
    """What copier's validators say, each question in turn, as copier asks them."""
    found = []
    for name in QUESTIONS:
        message = COPIER_ENV.from_string(COPIER[name]["validator"]).render(**answers).strip()
        found += [line for line in message.splitlines() if line]
    return found


# Characters people type into names: quotes, backslashes, braces, Jinja, non-ASCII letters.
NAME_TEXT = st.text(alphabet=st.sampled_from(list("aZé ßÇ9'\"\\{}%#-_.|")), max_size=24)
NAMES = st.one_of(
    NAME_TEXT,
    st.sampled_from(['Bob\'s "pipeline"', 'ends in """', "{{ 7 * 7 }}", "{% raw %}x", "Ünïcode Straße", "  "]),
)
CATEGORY = st.text(alphabet=st.sampled_from(list("aB3 _-.|'é")), min_size=0, max_size=8)
CATEGORIES = st.lists(CATEGORY, min_size=1, max_size=4).map(",".join)
SPECIAL_DAYS = [date(2024, 2, 28), date(2024, 2, 29), date(2023, 12, 31), date(2024, 1, 1), date(2100, 2, 28)]
DAYS = st.one_of(st.dates(min_value=date(1999, 1, 1), max_value=date(2031, 12, 31)), st.sampled_from(SPECIAL_DAYS))
DATE_TEXT = st.one_of(
    DAYS.map(date.isoformat), st.sampled_from(["2023-02-29", "2024-13-01", "2024-1-8", "", "01/02/2024"])
)
PATHS = st.sampled_from(
    ["data/w.duckdb", "/var/tmp/x/w.duckdb", "", "data/", "it's.duckdb", "a{b}.duckdb", " w.duckdb"]
)
OWNERS = st.sampled_from(
    ["team:data", "me@example.com", "", "team:", "data team", "team:a b", "team:x'y", "a@b", "me@example.com\n"]
)


@st.composite
def answer_sets(draw) -> dict:
    answers = {"project_name": draw(NAMES)}
    answers["project_slug"] = draw(
        st.one_of(
            st.just(cookiecutter_default("project_slug", answers)),
            st.sampled_from(["ok_name", "Bad", "class", "9x", "dbt"]),
        )
    )
    answers["category_values"] = draw(CATEGORIES)
    answers["partitioning"] = draw(st.sampled_from(["time_x_category", "time", "category"]))
    answers["daily_start_date"] = draw(DATE_TEXT)
    weekly_default = cookiecutter_default("weekly_start_date", answers)
    answers["weekly_start_date"] = draw(st.one_of(st.just(weekly_default), DATE_TEXT))
    # Outside the choices (mysql, category, kafka) only for the checks: the engines refuse them first.
    answers["warehouse"] = draw(st.sampled_from(["duckdb", "postgres", "mysql"]))
    answers["raw_source"] = draw(st.sampled_from(["synthetic", "files", "kafka"]))
    answers["duckdb_path"] = draw(PATHS)
    answers["owner"] = draw(OWNERS)
    return answers


VALID_CATEGORY = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,6}", fullmatch=True)


@st.composite
def accepted_answer_sets(draw) -> dict:
    """Answers built from parts the rules accept (the odd rejected one is filtered out)."""
    answers = {"project_name": draw(NAMES.filter(str.strip))}
    answers["project_slug"] = cookiecutter_default("project_slug", answers)
    answers["category_values"] = ", ".join(draw(st.lists(VALID_CATEGORY, min_size=1, max_size=4, unique=True)))
    answers["partitioning"] = draw(st.sampled_from(["time_x_category", "time"]))
    answers["daily_start_date"] = draw(DAYS).isoformat()
    answers["weekly_start_date"] = cookiecutter_default("weekly_start_date", answers)
    answers["warehouse"] = draw(st.sampled_from(["duckdb", "postgres", "spark"]))
    answers["raw_source"] = draw(st.sampled_from(["synthetic", "files"]))
    answers["duckdb_path"] = draw(st.sampled_from(["data/w.duckdb", "/var/tmp/x/w.duckdb"]))
    answers["owner"] = draw(st.sampled_from(["team:data", "team:ml-ops.2", "someone@example.org"]))
    return answers


def render(answers: dict, output: Path) -> Path:
    """Render the template with these answers, as generation does, without the hooks."""
    context = {"cookiecutter": {**COOKIECUTTER, **answers, "_template": str(TEMPLATE)}}
    return Path(generate_files(repo_dir=str(TEMPLATE), context=context, output_dir=str(output), accept_hooks=False))


def assert_sql_is_untouched(project: Path, reference: Path) -> None:
    """SQL files hold only dbt's own Jinja: no answer may change them."""
    for sql in sorted(project.rglob("*.sql")):
        relative = sql.relative_to(project).parts[2:]  # below src/<slug>/
        expected = next(reference.rglob("/".join(relative)))
        assert sql.read_text() == expected.read_text(), sql


def default_answers() -> dict:
    answers: dict = {}
    for name in QUESTIONS:
        answers[name] = cookiecutter_default(name, answers)
    return answers


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    return render(default_answers(), tmp_path_factory.mktemp("reference"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answers=answer_sets())
def test_engines_agree_and_accepted_answers_render(answers, tmp_path_factory, reference):
    for name in ("project_slug", "weekly_start_date"):
        partial = {key: value for key, value in answers.items() if key != name}
        assert copier_default(name, partial) == cookiecutter_default(name, partial)

    expected = HOOK.problems(answers)
    assert copier_problems(answers) == expected
    if expected:
        return
    project = render(answers, tmp_path_factory.mktemp("render"))
    assert_every_file_parses(project)
    assert_sql_is_untouched(project, reference)


def load_definitions(project: Path) -> subprocess.CompletedProcess:
    """dbt parse and load the code location, in a fresh interpreter (this suite's venv)."""
    slug = next((project / "src").iterdir()).name
    env = {**os.environ, "PYTHONPATH": str(project / "src"), "DUCKDB_DATABASE": str(project / "test.duckdb")}
    code = f"import {slug}.definitions as d; print(len(d.defs().resolve_asset_graph().get_all_asset_keys()))"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)


@pytest.mark.slow_property
@settings(
    max_examples=int(os.environ.get("SLOW_PROPERTY_EXAMPLES", "3")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much],
)
@given(answers=accepted_answer_sets().filter(lambda answers: not HOOK.problems(answers)))
def test_accepted_answers_give_a_loading_code_location(answers, tmp_path_factory):
    project = render(answers, tmp_path_factory.mktemp("load"))
    result = load_definitions(project)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "8"
