"""A throwaway PostgreSQL server for the tests that run the store on PostgreSQL as well as SQLite.

Started once per session from the PostgreSQL binaries on this machine (`initdb`, `pg_ctl`; Debian puts them in
/usr/lib/postgresql/<version>/bin, and .ci/run installs them), on a free port of 127.0.0.1 and a socket
directory of its own, trusting local connections. PostgreSQL refuses to run as root: as root the server runs
as the `postgres` user the Debian package creates. Without the binaries (or, as root, without that user) the
PostgreSQL variants are skipped.
Each test gets a schema of its own (`postgres_url`), dropped afterwards. `store` gives each test every store
the server runs on: memory, a SQLite file, and PostgreSQL.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy

from rolegate.store.interface import Store
from rolegate.store.memory import MemoryStore
from rolegate.store.sql.store import SqlStore

DRIVER = "postgresql+psycopg"
USER = "rolegate"


def _binaries() -> Path | None:
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    return versions[-1].parent if versions else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _run(command: list[str]) -> None:
    done = subprocess.run(_as_server_user(command), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")


def _can_run_server() -> bool:
    """Root may not run PostgreSQL; it runs it as the `postgres` user, which must exist."""
    if os.geteuid() != 0:
        return True
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return False
    return shutil.which("runuser") is not None


class PostgresServer:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.admin = sqlalchemy.create_engine(f"{base_url}/postgres", isolation_level="AUTOCOMMIT")
        self._schemas = itertools.count()

    def fresh_schema(self) -> tuple[str, str]:
        """(schema, URL whose connections use it)."""
        name = f"test_{os.getpid()}_{next(self._schemas)}"
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE SCHEMA {name}")
        return name, f"{self.base_url}/postgres?options=-csearch_path%3D{name}"

    def drop_schema(self, name: str) -> None:
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {name} CASCADE")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer | None]:
    binaries = _binaries()
    if binaries is None or not _can_run_server():
        yield None
        return
    home = Path(tempfile.mkdtemp(prefix="rolegate-pg-"))
    data = home / "data"
    if os.geteuid() == 0:
        shutil.chown(home, "postgres")
    port = _free_port()
    _run([str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", USER, "-E", "UTF8"])
    options = f"-k {home} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off"
    _run([str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(home / "log"), "-w", "start"])
    server = PostgresServer(f"{DRIVER}://{USER}@127.0.0.1:{port}")
    try:
        yield server
    finally:
        server.admin.dispose()
        stop = [str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]
        subprocess.run(_as_server_user(stop), check=False, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer | None) -> Iterator[str]:
    """A database URL on the session's PostgreSQL server, in a schema of this test's own."""
    if postgres_server is None:
        pytest.skip("PostgreSQL is not installed (initdb and pg_ctl not found)")
    schema, url = postgres_server.fresh_schema()
    yield url
    postgres_server.drop_schema(schema)


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Every store the server runs on; PostgreSQL's on the session's server above."""
    made: Store
    if request.param == "memory":
        made = MemoryStore()
    elif request.param == "sqlite":
        made = SqlStore(f"sqlite:///{tmp_path / 'db.sqlite'}")
    else:
        made = SqlStore(request.getfixturevalue("postgres_url"))
    yield made
    made.close()
