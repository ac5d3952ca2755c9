"""The template repository itself: its generated docs are current, its links resolve, and
its own Python (hooks, tests, bench, docs scripts) is ruff-clean."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TEMPLATE

# [text](target) in markdown, target without a scheme or an anchor-only reference.
LINK = re.compile(r"\[[^\]]*\]\(([^)#\s]+)(?:#[^)]*)?\)")
DOCUMENTS = sorted([TEMPLATE / "README.md", TEMPLATE / "CHANGELOG.md", *(TEMPLATE / "docs").glob("*.md")])
PYTHON_DIRS = ["hooks", "tests", "bench", "docs"]
PROJECT = TEMPLATE / "{{cookiecutter.project_slug}}"
# `make x` as a command: at the start of a line (after VAR=value settings) or of a code span.
MAKE_COMMAND = re.compile(r"(?:^|`|\()[ \t]*(?:[A-Z_]+=\S+[ \t]+)*make ([a-z][a-z-]*)", re.MULTILINE)


def load_rules() -> dict[str, str]:
    namespace: dict = {}
    exec((TEMPLATE / "hooks" / "pre_gen_project.py").read_text(), namespace)
    return namespace["RULES"]


def test_every_prompt_has_a_documented_rule():
    prompts = [name for name in json.loads((TEMPLATE / "cookiecutter.json").read_text()) if not name.startswith("_")]
    assert list(load_rules()) == prompts


def test_the_prompts_reference_is_what_the_script_writes():
    result = subprocess.run(
        [sys.executable, "docs/generate_prompts.py", "--check"], cwd=TEMPLATE, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr or result.stdout


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(TEMPLATE)))
def test_relative_links_resolve(document: Path):
    targets = [target for target in LINK.findall(document.read_text()) if "://" not in target]
    missing = [target for target in targets if not (document.parent / target).exists()]
    assert not missing, f"{document.name} links to missing files: {missing}"


def make_targets(makefile: Path) -> set[str]:
    return set(re.findall(r"^([a-z][a-z-]*):", makefile.read_text(), re.MULTILINE))


@pytest.mark.parametrize(
    "document", [*DOCUMENTS, PROJECT / "README.md"], ids=lambda path: str(path.relative_to(TEMPLATE))
)
def test_documented_make_targets_exist(document: Path):
    """Every `make <target>` in the docs names a target of the template's or the project's Makefile."""
    targets = make_targets(TEMPLATE / "Makefile") | make_targets(PROJECT / "Makefile")
    named = set(MAKE_COMMAND.findall(document.read_text()))
    assert named - targets == set()


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=" ".join)
def test_template_python_is_ruff_clean(command: list[str]):
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *command, *PYTHON_DIRS], cwd=TEMPLATE, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
