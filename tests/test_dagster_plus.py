"""The Dagster+ files of a rendered project pass the vendor's own checks, run offline."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import clean_env, uv_executable

# What `dg plus deploy start` does before it first calls Dagster+: write the dagster_cloud.yaml
# of the project from pyproject.toml, build.yaml and container_context.yaml, and check it with
# dagster-cloud-cli; then what the Dagster+ Kubernetes agent does with the container context
# (dagster_k8s). For each project folder given, one JSON line: the location, or the errors.
# These are the vendor's internal functions, not a public API: check them when moving the pins.
VALIDATE = """
import json, sys, tempfile
from pathlib import Path
import yaml
from dagster_cloud_cli.commands.ci.checks import check_dagster_cloud_yaml
from dagster_dg_cli.cli.utils import create_temp_dagster_cloud_yaml_file
from dagster_dg_core.context import DgContext
from dagster_k8s.container_context import K8sContainerContext

for folder in sys.argv[1:]:
    try:
        context = DgContext.from_file_discovery_and_command_line_config(Path(folder), {})
        with tempfile.TemporaryDirectory() as statedir:
            path = Path(create_temp_dagster_cloud_yaml_file(context, statedir))
            errors = check_dagster_cloud_yaml(path).errors
            [location] = yaml.safe_load(path.read_text())["locations"]
        if not errors:
            K8sContainerContext.create_from_config(location.get("container_context"))
        print(json.dumps({"errors": errors, "location": location}))
    except (Exception, SystemExit) as error:
        print(json.dumps({"errors": [f"{type(error).__name__}: {error}"], "location": None}))
"""

# A key misspelled in each file: dagster-cloud-cli rejects the first (its models forbid unknown
# keys), dagster_k8s the second (dagster-cloud-cli takes any container context).
BROKEN = {
    "build.yaml": ("registry:", "registy:"),
    "container_context.yaml": ("env_secrets:", "env_secret:"),
}


@pytest.fixture(scope="module")
def project(cookies_session) -> Path:
    result = cookies_session.bake()
    assert result.exit_code == 0, result.exception
    return Path(result.project_path)


def pinned(project: Path, package: str) -> str:
    """The version the rendered pyproject.toml pins for a package."""
    return re.search(rf'"{package}==([^"]+)"', (project / "pyproject.toml").read_text()).group(1)


def vendor_check(project: Path, *folders: Path) -> list[dict]:
    """Run VALIDATE in a throwaway environment with the vendor's packages at the project's pins:
    dg (which brings dagster-cloud-cli) and dagster-k8s, released with dagster-dbt. After the
    first time uv takes them from its cache; nothing is added to this repository's dependencies."""
    pins = {"dagster-dg-cli": pinned(project, "dagster-dg-cli"), "dagster-k8s": pinned(project, "dagster-dbt")}
    command = [uv_executable(), "run", "--no-project", "--quiet", *(f"--with={name}=={pins[name]}" for name in pins)]
    result = subprocess.run(
        [*command, "python", "-c", VALIDATE, *map(str, folders)],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def test_dagster_plus_files_pass_the_vendor_checks_and_fail_on_a_misspelled_key(project, tmp_path):
    broken = {}
    for name, (good, bad) in BROKEN.items():
        copy = broken[name] = tmp_path / name.replace(".", "_")
        shutil.copytree(project, copy, ignore=shutil.ignore_patterns("target", "logs"))
        text = (copy / name).read_text()
        assert good in text, name
        (copy / name).write_text(text.replace(good, bad))
    [checked, *rejected] = vendor_check(project, project, *broken.values())

    assert checked["errors"] == [], checked["errors"]
    location = checked["location"]
    slug = project.name
    assert location["location_name"] == slug
    assert location["code_source"] == {"module_name": f"{slug}.definitions"}
    assert Path(location["build"]["directory"]) == project.resolve()
    # The same image repository and the same secret as the Helm route.
    helm = yaml.safe_load((project / "deploy/helm-values.yaml").read_text())
    [deployment] = helm["dagster-user-deployments"]["deployments"]
    assert location["build"]["registry"] == deployment["image"]["repository"]
    secrets = [secret["name"] for secret in deployment["envSecrets"]]
    assert location["container_context"]["k8s"]["env_secrets"] == secrets

    for (name, (_, bad)), result in zip(BROKEN.items(), rejected, strict=True):
        assert result["errors"], f"a misspelled key in {name} passed the checks"
        # The misspelled key itself, quoted as each checker quotes it (not inside a list of known keys).
        key = re.escape(bad.rstrip(":"))
        assert re.search(f"[.\"']{key}[\"']", " ".join(result["errors"])), result["errors"]
