"""The images a rendered project's Dockerfile is built from, made here: no image registry is reachable.

The base is Debian bookworm from Debian's package repository (debootstrap, minbase with
python3, python3-venv and ca-certificates) with this machine's CA bundle (package downloads
may go through a proxy whose CA only that bundle holds); the uv image holds only /uv, the uv
that runs this suite. Both are tagged in the engine's local storage and reused while present
(the CA bundle's digest and uv's version are in their tags); the debootstrap folder is kept in
this checkout's .cache/images, never in the home folder. No pytest here.
"""

import fcntl
import hashlib
import io
import os
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
IMAGES_DIR = TEMPLATE / ".cache" / "images"
ENGINE = os.environ.get("CONTAINER_ENGINE", "podman")
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
PACKAGES = "python3,python3-venv,ca-certificates"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# What an imported root file system lacks and official images set: a PATH (the Dockerfile
# extends it), UTF-8 text, and the CA bundle for Python's and uv's TLS.
IMAGE_CONFIG = [
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    f"ENV SSL_CERT_FILE={CA_BUNDLE}",
]
# Left out of the base image: apt's downloaded packages and lists, and the mount points'
# contents (debootstrap mounts /proc and /sys while it installs).
TAR_EXCLUDES = ["./proc/*", "./sys/*", "./dev/*", "./var/cache/apt/*", "./var/lib/apt/lists/*", "./tmp/*"]
# Where the Debian tools are (a non-root PATH may lack the sbin folders).
SYSTEM_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/local/sbin", "/usr/sbin", "/sbin"])
DEBOOTSTRAP_TIMEOUT = 3600  # seconds: 100 s here, 14 min once on a loaded machine (downloads)


class ImageError(RuntimeError):
    """An image could not be made; the message has the command's output."""


def which(program: str) -> str | None:
    return shutil.which(program, path=SYSTEM_PATH)


def containers_conf(folder: Path = IMAGES_DIR) -> Path:
    """A containers.conf for CONTAINERS_CONF: no default rlimits, which the OCI runtime cannot
    set on some machines (the one this suite is measured on); written here, never to /etc."""
    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "containers.conf"
    conf.write_text("[containers]\ndefault_ulimits = []\n")
    return conf


def engine_env(folder: Path = IMAGES_DIR) -> dict[str, str]:
    """The environment for the engine (and for a project's `make image-test`)."""
    return {**os.environ, "CONTAINERS_CONF": str(containers_conf(folder)), "PATH": SYSTEM_PATH}


def engine(*args: str, stdin: bytes | None = None, folder: Path = IMAGES_DIR) -> subprocess.CompletedProcess:
    return subprocess.run([ENGINE, *args], input=stdin, capture_output=True, env=engine_env(folder), check=False)


def image_exists(tag: str) -> bool:
    return engine("image", "exists", tag).returncode == 0


def image_id(tag: str) -> str | None:
    found = engine("image", "inspect", "--format", "{{.Id}}", tag)
    return found.stdout.decode().strip() if found.returncode == 0 else None


def remove_image(image: str) -> None:
    """Remove an image and its untagged parents (its build's layers); one still in use stays."""
    engine("rmi", image)


def missing_tools() -> list[str]:
    """What this machine lacks to make and run the images (Debian packages); empty when nothing.
    debootstrap only counts while the base image is not in the engine's storage yet."""
    missing = [program for program in (ENGINE, "runc") if which(program) is None]
    if which("debootstrap") is None and (missing or not image_exists(base_tag())):
        missing.append("debootstrap")
    return missing


def run_checked(command: list[str], timeout: float | None = None, **options) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, check=False, timeout=timeout, **options)
    if result.returncode != 0:
        output = (result.stdout or b"")[-3000:] + (result.stderr or b"")[-3000:]
        shown = " ".join(command[:4])
        raise ImageError(f"{shown} ... failed ({result.returncode}):\n{output.decode(errors='replace')}")
    return result


@contextmanager
def locked(folder: Path) -> Iterator[None]:
    """One maker at a time, across the suite's workers."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def base_tag() -> str:
    digest = hashlib.sha256(CA_BUNDLE.read_bytes()).hexdigest()[:12] if CA_BUNDLE.exists() else "no-ca"
    return f"localhost/template-test-base:{SUITE}-{digest}"


def base_image(folder: Path = IMAGES_DIR) -> str:
    """The base image's tag: Debian's python3 with this machine's CA bundle, made once."""
    tag = base_tag()
    with locked(folder):
        if image_exists(tag):
            return tag
        rootfs, done = folder / SUITE, folder / f"{SUITE}.done"
        if not done.exists():
            if rootfs.exists():
                shutil.rmtree(rootfs)  # an interrupted debootstrap: start again
            debs = folder / "debs"  # the downloaded packages, kept for a rerun
            debs.mkdir(parents=True, exist_ok=True)
            command = [which("debootstrap") or "debootstrap", "--variant=minbase", f"--include={PACKAGES}"]
            command += [f"--cache-dir={debs}", SUITE, str(rootfs), MIRROR]
            run_checked(command, timeout=DEBOOTSTRAP_TIMEOUT, env={**os.environ, "PATH": SYSTEM_PATH})
            done.touch()
        if CA_BUNDLE.exists():
            shutil.copyfile(CA_BUNDLE, rootfs / CA_BUNDLE.relative_to("/"))
        excludes = [f"--exclude={pattern}" for pattern in TAR_EXCLUDES]
        archive = run_checked(["tar", "--numeric-owner", *excludes, "-C", str(rootfs), "-c", "."]).stdout
        changes = [option for change in IMAGE_CONFIG for option in ("--change", change)]
        imported = engine("import", *changes, "-", tag, stdin=archive, folder=folder)
        if imported.returncode != 0:
            raise ImageError(f"{ENGINE} import failed:\n{imported.stderr.decode(errors='replace')}")
        return tag


def uv_image(uv: str, folder: Path = IMAGES_DIR) -> str:
    """The tag of an image holding only /uv: the binary `uv`, as the uv images of a registry hold it."""
    version = run_checked([uv, "--version"]).stdout.decode().split()[1]
    tag = f"localhost/template-test-uv:{version}"
    with locked(folder):
        if image_exists(tag):
            return tag
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            info = archive.gettarinfo(os.path.realpath(uv), arcname="uv")
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            info.mode = 0o755
            with open(os.path.realpath(uv), "rb") as binary:
                archive.addfile(info, binary)
        imported = engine("import", "-", tag, stdin=buffer.getvalue(), folder=folder)
        if imported.returncode != 0:
            raise ImageError(f"{ENGINE} import failed:\n{imported.stderr.decode(errors='replace')}")
        return tag


def image_test_settings(uv: str, folder: Path = IMAGES_DIR) -> dict[str, str]:
    """What a project's `make image-test` needs here: both images as build arguments, the
    build's isolation and network, the runtime, and the containers.conf."""
    build = ["--isolation", "chroot", "--network", "host"]
    build += ["--build-arg", f"BASE_IMAGE={base_image(folder)}", "--build-arg", f"UV_IMAGE={uv_image(uv, folder)}"]
    return {
        "CONTAINER_ENGINE": ENGINE,
        "IMAGE_BUILD_OPTIONS": " ".join(build),
        "IMAGE_RUN_OPTIONS": "--runtime runc",
        "CONTAINERS_CONF": str(containers_conf(folder)),
    }
