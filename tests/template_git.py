"""Git for template tests: a temporary git copy of this template, released with tags, and commands."""

import shutil
import subprocess
from pathlib import Path

from conftest import TEMPLATE, clean_env

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Template tests",
    "GIT_AUTHOR_EMAIL": "tests@example.invalid",
    "GIT_COMMITTER_NAME": "Template tests",
    "GIT_COMMITTER_EMAIL": "tests@example.invalid",
    "GIT_CONFIG_GLOBAL": "/dev/null",
}


def run(command: str | list[str], cwd: Path, env: dict[str, str] | None = None, fails: bool = False) -> str:
    """Run a command (a shell line, as documented, or an argument list); its stdout, or with
    `fails` its whole output, asserting that it failed."""
    result = subprocess.run(
        command,
        cwd=cwd,
        shell=isinstance(command, str),
        env={**clean_env(**GIT_IDENTITY), **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    if fails:
        assert result.returncode != 0, f"{command} succeeded:\n{result.stdout}"
        return result.stdout + result.stderr
    assert result.returncode == 0, f"{command}\n{result.stdout[-6000:]}\n{result.stderr[-4000:]}"
    return result.stdout


def copy_template_files(destination: Path) -> None:
    """This template's files as they are now, committed or not (git's view, ignored files left out)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=TEMPLATE,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for name in filter(None, listed):
        if (TEMPLATE / name).is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(TEMPLATE / name, destination / name)


class TemplateRepo:
    """A git copy of this template (its current files, committed or not)."""

    def __init__(self, path: Path):
        self.path = path
        copy_template_files(path)
        run(["git", "init", "--quiet", "--initial-branch=main"], path)
        self.release("v1.0.0")

    def release(self, tag: str) -> None:
        run(["git", "add", "--all"], self.path)
        run(["git", "commit", "--quiet", "--allow-empty", "-m", f"Release {tag}"], self.path)
        run(["git", "tag", tag], self.path)

    def edit(self, relative: str, old: str, new: str) -> None:
        file = self.path / "{{cookiecutter.project_slug}}" / relative
        text = file.read_text()
        assert old in text, relative
        file.write_text(text.replace(old, new, 1))


def commit_all(project: Path, message: str) -> None:
    run(["git", "add", "--all"], project)
    run(["git", "commit", "--quiet", "-m", message], project)
