"""Parse the generated dbt project so target/manifest.json exists when generation ends.

Run by cookiecutter (post-generation hook) and by copier (a task, on copy only), in the
new project's folder. It needs no network and never fails the generation: when dbt is
missing or cannot parse, it says so and what to run; the project also parses by itself
the first time its code location loads.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

PARSE_TIMEOUT_SECONDS = 300


def find_dbt() -> str | None:
    """dbt next to this interpreter first (the one running cookiecutter or copier), then PATH."""
    return shutil.which("dbt", path=str(Path(sys.executable).parent)) or shutil.which("dbt")


def main(project_root: Path) -> int:
    dbt_dirs = sorted(project_root.glob("src/*/dbt/dbt_project.yml"))
    if not dbt_dirs:
        print(f"No dbt project found under {project_root / 'src'}; skipped dbt parse.")
        return 0
    dbt_dir = dbt_dirs[0].parent
    next_step = f"cd {project_root} && make manifest"
    target = dbt_dir / "target"
    folder = target if target.exists() else dbt_dir
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        print(f"Cannot build the dbt manifest: {target} is not a writable folder. Fix that, then: {next_step}")
        return 0
    dbt = find_dbt()
    if dbt is None:
        print(f"dbt is not installed here, so the dbt manifest was not built yet. Next: {next_step}")
        return 0
    try:
        result = subprocess.run(
            [dbt, "parse", "--quiet", "--project-dir", str(dbt_dir), "--profiles-dir", str(dbt_dir)],
            cwd=dbt_dir,
            capture_output=True,
            text=True,
            timeout=PARSE_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        print(f"dbt parse could not run ({error}). Next: {next_step}")
        return 0
    if result.returncode != 0:
        print("dbt parse failed; the project was generated, but its dbt manifest was not built:")
        print((result.stdout + result.stderr).strip())
        print(f"Fix the error above, then: {next_step}")
        return 0
    print(f"dbt manifest built: {(dbt_dir / 'target' / 'manifest.json').relative_to(project_root)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path.cwd()))
