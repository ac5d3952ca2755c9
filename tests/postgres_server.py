"""A throwaway PostgreSQL server on loopback, for the tests and the bench (no pytest here)."""

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from webserver import free_port

# Debian's `postgresql` package puts its binaries here (.ci/run installs it); TEST_POSTGRES_BIN
# names another folder.
POSTGRES_BIN_DIRS = [
    Path(os.environ.get("TEST_POSTGRES_BIN", "/nonexistent")),
    *sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True),
]
SERVER_START_TIMEOUT = 60  # seconds


class ServerError(Exception):
    """The server could not be set up or started; the message says why."""


@dataclass
class PostgresServer:
    host: str
    port: int
    user: str
    password: str
    admin_database: str = "postgres"

    def env(self, prefix: str = "POSTGRES", database: str | None = None) -> dict[str, str]:
        """Connection settings as a rendered project reads them (POSTGRES_*) or its shared instance (DAGSTER_PG_*)."""
        return {
            f"{prefix}_HOST": self.host,
            f"{prefix}_PORT": str(self.port),
            f"{prefix}_USER": self.user,
            f"{prefix}_PASSWORD": self.password,
            f"{prefix}_DB": database or self.admin_database,
        }

    def connect(self, database: str | None = None):
        import psycopg2  # with dagster-postgres, in the dev dependencies

        connection = psycopg2.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=database or self.admin_database,
            connect_timeout=5,
        )
        connection.autocommit = True
        return connection

    def answers(self) -> bool:
        try:
            self.connect().close()
        except Exception:  # noqa: BLE001 - any failure means: not this server
            return False
        return True


def postgres_binaries() -> Path | None:
    return next((folder for folder in POSTGRES_BIN_DIRS if (folder / "initdb").is_file()), None)


def as_server_user(command: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: as root, run them as the `postgres` user."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@contextmanager
def throwaway_server() -> Iterator[PostgresServer]:
    """A new server on a free loopback port, data in a temporary folder, stopped and removed after."""
    binaries = postgres_binaries()
    if binaries is None:
        raise ServerError("No PostgreSQL server binaries (initdb) here: apt-get install postgresql.")
    # Not under a private temporary folder: the server runs as `postgres`.
    folder = Path(tempfile.mkdtemp(prefix="template-postgres-"))
    data, sockets = folder / "data", folder / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        for path in (folder, sockets):
            os.chown(path, account.pw_uid, account.pw_gid)
    run = {"capture_output": True, "text": True, "check": False}
    init = subprocess.run(
        as_server_user([str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
        **run,
    )
    if init.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise ServerError(f"initdb failed:\n{init.stdout}\n{init.stderr}")
    port = free_port()
    # A throwaway server: durability settings off, for speed.
    options = f"-h 127.0.0.1 -p {port} -k {sockets} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    ctl = [str(binaries / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-o", options]
    start = subprocess.run(as_server_user([*ctl, "-w", "-t", str(SERVER_START_TIMEOUT), "start"]), **run)
    server = PostgresServer(host="127.0.0.1", port=port, user="postgres", password="")
    try:
        if start.returncode != 0:
            log = (folder / "server.log").read_text(errors="replace") if (folder / "server.log").exists() else ""
            raise ServerError(f"The PostgreSQL server did not start:\n{start.stdout}\n{start.stderr}\n{log[-3000:]}")
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while not server.answers():
            if time.monotonic() > deadline:
                raise ServerError("The PostgreSQL server started but does not answer on 127.0.0.1.")
            time.sleep(0.5)
        yield server
    finally:
        subprocess.run(as_server_user([*ctl[:3], "-m", "immediate", "stop"]), **run)
        shutil.rmtree(folder, ignore_errors=True)
