"""A throwaway PostgreSQL cluster on a Unix socket in a temporary directory, for the tests.

Debian's server binaries (`apt-get install postgresql`); `initdb` refuses root, so as root the
cluster runs as the `postgres` user and the directory is handed to it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from urllib.parse import quote

BIN = Path(os.environ.get("PANEL_PG_BIN", "/usr/lib/postgresql/15/bin"))


def available() -> bool:
    return (BIN / "initdb").exists()


class Cluster:
    """`initdb`, `pg_ctl start` on a socket only (no TCP), `pg_ctl stop` at the end."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="panel-pg-"))
        self.data = self.root / "data"
        self.socket = self.root / "sock"
        self.user = "postgres" if os.geteuid() == 0 else None

    def _run(self, *args: str) -> None:
        cmd = [*args] if self.user is None else ["runuser", "-u", self.user, "--", *args]
        subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120)

    def start(self) -> Cluster:
        self.socket.mkdir()
        if self.user is not None:
            os.chmod(self.root, 0o755)
            shutil.chown(self.root, self.user)
            shutil.chown(self.socket, self.user)
        self._run(
            str(BIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
        )
        opts = f"-k {self.socket} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
        self._run(
            str(BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            opts,
            "-w",
            "-l",
            str(self.root / "log"),
            "start",
        )
        return self

    def stop(self) -> None:
        try:
            self._run(str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@/{dbname}?host={quote(str(self.socket), safe='')}"

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)
