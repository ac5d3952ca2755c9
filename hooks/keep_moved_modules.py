"""copier migration to v1.0.0, before the update: keep copies of changed modules that v1.0.0 removes.

v1.0.0 moves the code location into `defs/` (see CHANGELOG.md), and copier deletes every
file that the new release no longer has, changes and all. Run by copier (`_migrations` in
copier.yml) in the project's folder: each module that v1.0.0 removes and that changed
since git first saw it (your edits, or an earlier template update) is copied beside
itself as `<name>.pre-v1.0.0`, and one line says where its code lives now. Unchanged
modules are left for copier to remove. Standard library and git only; no network.
"""

import shutil
import subprocess
import sys
from pathlib import Path

SUFFIX = ".pre-v1.0.0"
# Module of the old layout (in src/<slug>/) -> where its code lives from v1.0.0 on.
MOVED = {
    "assets.py": "defs/raw/raw_data.py, defs/transform/dbt_models.py and defs/reports/summaries.py",
    "jobs.py": "defs/jobs/pipelines.py",
    "automation.py": "conditions.py (the conditions) and defs/automation/sensors.py (the sensor)",
}


def git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=False)


def changed_since_added(path: Path) -> bool:
    """True when the committed file differs from its first commit (or git does not know it)."""
    added = git("log", "--diff-filter=A", "--format=%H", "-1", "--", str(path)).stdout.strip()
    return not added or git("diff", "--quiet", added, "HEAD", "--", str(path)).returncode != 0


def main() -> None:
    # The package is the one folder under src/ (copier gives migrations no answers to read).
    for package in sorted(path.parent for path in Path("src").glob("*/definitions.py")):
        for name, new_home in MOVED.items():
            module = package / name
            if module.is_file() and changed_since_added(module):
                kept = module.with_name(name + SUFFIX)
                shutil.copy2(module, kept)
                print(
                    f"{module} changed since it was generated and this release removes it; its code now "
                    f"lives in {new_home} (in {package}). Your version is kept as {kept}: carry your "
                    "changes over, then delete that file.",
                    file=sys.stderr,
                )


if __name__ == "__main__":
    main()
