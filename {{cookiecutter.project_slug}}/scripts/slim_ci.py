"""Slim CI (make slim-ci): build the dbt models a change touched and their children, deferring the rest."""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from {{ cookiecutter.project_slug }}.project import DBT_EXECUTABLE, DBT_PROJECT_DIR, DBT_TARGET_ENV_VAR

# dbt targets of profiles.yml: the base's manifest names production's relations (what --defer
# reads); the changed models build for `ci`, in a schema of their own.
PROD_TARGET = "prod"
CI_TARGET = "ci"
SELECTION = "state:modified+"  # what changed, and everything downstream of it
# Where the base's manifest goes when it is parsed from a git ref (target/ is ignored by git).
BASE_STATE = "target/base-state"
# Where this script's own dbt commands write: every dbt command writes a manifest.json for
# its target, and target/manifest.json is Dagster's (parsed for DBT_TARGET; project.py).
OWN_TARGET_PATH = "target/slim-ci"


class SlimCIError(RuntimeError):
    """Something the user can fix: an unknown ref, no git repository, no manifest."""


def _run(command: list[str], cwd: Path, target: str | None = None) -> str:
    env = dict(os.environ) if target is None else {**os.environ, DBT_TARGET_ENV_VAR: target}
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SlimCIError(f"`{' '.join(command[:3])} ...` failed:\n{(result.stdout + result.stderr).strip()[-3000:]}")
    return result.stdout


def _dbt(arguments: list[str], dbt_dir: Path, target: str, profiles_dir: Path | None = None) -> str:
    folders = ["--project-dir", str(dbt_dir), "--profiles-dir", str(profiles_dir or dbt_dir)]
    if "--target-path" not in arguments:
        folders += ["--target-path", str(dbt_dir / OWN_TARGET_PATH)]
    return _run([DBT_EXECUTABLE, *arguments, *folders], dbt_dir, target)


def parse_ref(ref: str, dbt_dir: Path, state_dir: Path) -> Path:
    """The manifest of the dbt project in `dbt_dir` as git's `ref` has it, parsed for the prod
    target into `state_dir` (from a worktree of `ref`, removed after), with this checkout's
    profiles.yml: the connection belongs to the environment, not to the commit."""
    top = Path(_run(["git", "rev-parse", "--show-toplevel"], dbt_dir).strip())
    try:
        _run(["git", "rev-parse", "--verify", "--quiet", ref + "^{commit}"], top)
    except SlimCIError:
        raise SlimCIError(f"{ref!r} is not a commit of this repository: fetch it, or name another with BASE=") from None
    relative = dbt_dir.resolve().relative_to(top.resolve())
    with tempfile.TemporaryDirectory(prefix="slim-ci-") as folder:
        worktree = Path(folder) / "base"
        _run(["git", "worktree", "add", "--detach", "--quiet", str(worktree), ref], top)
        try:
            if not (worktree / relative / "dbt_project.yml").is_file():
                raise SlimCIError(f"{ref} has no dbt project at {relative}: nothing to compare with")
            state_dir.mkdir(parents=True, exist_ok=True)
            parse = ["parse", "--quiet", "--target-path", str(state_dir.resolve())]
            _dbt(parse, worktree / relative, PROD_TARGET, profiles_dir=dbt_dir)
        finally:
            _run(["git", "worktree", "remove", "--force", str(worktree)], top)
    return state_dir


def modified_models(dbt_dir: Path, state_dir: Path) -> list[str]:
    """The models of `dbt_dir` that differ from the manifest in `state_dir`, and their children."""
    selection = ["--select", SELECTION, "--state", str(state_dir), "--resource-type", "model"]
    output = _dbt(["ls", "--quiet", *selection, "--output", "json"], dbt_dir, CI_TARGET)
    return sorted(json.loads(line)["name"] for line in output.splitlines() if line.startswith("{"))


def build_modified(dbt_dir: Path, state_dir: Path) -> None:
    """dbt build of the changed models and their children for the ci target (DBT_TARGET may
    name another), the models it leaves out read from the state's relations (--defer)."""
    target = os.environ.get(DBT_TARGET_ENV_VAR, "").strip() or CI_TARGET
    arguments = ["build", "--select", SELECTION, "--defer", "--state", str(state_dir)]
    print(_dbt(arguments, dbt_dir, target), end="")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", default="origin/main", help="the git ref production runs (default origin/main)")
    parser.add_argument("--state", help="a folder holding production's manifest.json, instead of parsing --base")
    parser.add_argument("--list", action="store_true", help="print the models it would build; build nothing")
    args = parser.parse_args()
    try:
        if args.state:
            state = Path(args.state)
            if not (state / "manifest.json").is_file():
                raise SlimCIError(f"no manifest.json in {state}: give the folder production's manifest is in")
        else:
            state = parse_ref(args.base, DBT_PROJECT_DIR, DBT_PROJECT_DIR / BASE_STATE)
        if args.list:
            print("\n".join(modified_models(DBT_PROJECT_DIR, state)) or "(no model changed)")
        else:
            build_modified(DBT_PROJECT_DIR, state)
    except SlimCIError as error:
        sys.exit(f"make slim-ci: {error}")


if __name__ == "__main__":
    main()
