"""A throw-away PostgreSQL server for the load tests.

``initdb`` in a fresh temporary folder, started with ``pg_ctl`` listening on 127.0.0.1 only, on a
free port, with password (SCRAM) authentication over TCP; stopped and removed by :meth:`stop`.
initdb and postgres refuse to run as root, so as root the server runs as ``nobody`` in a folder
it owns. The binaries come from PATH or Debian's ``/usr/lib/postgresql/<version>/bin``
(``.ci/run`` installs the ``postgresql`` package when they are absent).
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RUN_AS = "nobody"
USER = "postgres"
SETTINGS = ["listen_addresses=127.0.0.1", "max_connections=30"]
FAST = ["fsync=off", "synchronous_commit=off", "full_page_writes=off"]
"A throw-away server keeps nothing after a crash (the tests'; a bench keeps PostgreSQL's defaults)."


class Unavailable(Exception):
    """No server could be started here (no binaries, or initdb or pg_ctl failed)."""


@dataclass
class PgServer:
    bindir: Path
    folder: Path
    port: int
    password: str
    owner: dict[str, Any]
    "``user``/``group``/``extra_groups`` for subprocess when running as root, else empty."

    host = "127.0.0.1"
    dbname = "postgres"

    def url(self, *, password: str | None = None, dbname: str | None = None) -> str:
        pw = self.password if password is None else password
        return f"postgresql://{USER}:{pw}@{self.host}:{self.port}/{dbname or self.dbname}"

    def stop(self) -> None:
        subprocess.run(
            [str(self.bindir / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            cwd=self.folder,
            check=False,
            timeout=60,
            **self.owner,
        )
        shutil.rmtree(self.folder, ignore_errors=True)


def find_bindir() -> Path | None:
    """The folder holding initdb and pg_ctl: PATH first, then Debian's newest version."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(os.path.realpath(on_path)).parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: [int(x) for x in re.findall(r"\d+", p.parent.parent.name)],
    )
    return versions[-1].parent if versions else None


def start(*, fast: bool = True) -> PgServer:
    bindir = find_bindir()
    if bindir is None:
        raise Unavailable("initdb and pg_ctl not found (install the postgresql package)")
    root = os.geteuid() == 0
    # as root, a folder nobody can reach: under /tmp, not a TMPDIR that may be root's own
    folder = Path(
        tempfile.mkdtemp(prefix="dgsql-pg-", dir="/tmp" if root and os.path.isdir("/tmp") else None)
    )
    owner: dict[str, Any] = {}
    if root:
        try:
            account = pwd.getpwnam(RUN_AS)
        except KeyError:
            shutil.rmtree(folder)
            raise Unavailable(
                f"running as root and there is no user {RUN_AS!r} to run the server as"
            ) from None
        os.chown(folder, account.pw_uid, account.pw_gid)
        owner = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    password = secrets.token_urlsafe(12)
    pwfile = folder / "pw"
    pwfile.write_text(password + "\n")
    if owner:
        os.chown(pwfile, owner["user"], owner["group"])
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "HOME": str(folder)}
    run = dict(capture_output=True, text=True, cwd=folder, env=env, check=False, timeout=120, **owner)
    try:
        done = subprocess.run(
            [str(bindir / "initdb"), "-D", str(folder / "data"), "-U", USER, "--auth-local=trust",
             "--auth-host=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C", "--no-sync"],
            **run,
        )  # fmt: skip
        if done.returncode != 0:
            raise Unavailable(f"initdb failed: {(done.stderr or done.stdout).strip()[-500:]}")
        pwfile.unlink()
        for _ in range(3):  # a free port may be taken before the server binds it
            port = _free_port()
            options = " ".join(
                f"-c {s}"
                for s in [
                    *SETTINGS,
                    *(FAST if fast else []),
                    f"port={port}",
                    f"unix_socket_directories={folder}",
                ]
            )
            done = subprocess.run(
                [str(bindir / "pg_ctl"), "-D", str(folder / "data"), "-l", str(folder / "log"),
                 "-o", options, "-w", "-t", "60", "start"],
                **run,
            )  # fmt: skip
            if done.returncode == 0:
                return PgServer(bindir, folder, port, password, owner)
        log = (folder / "log").read_text()[-500:] if (folder / "log").exists() else done.stderr
        raise Unavailable(f"pg_ctl start failed: {log.strip()}")
    except Unavailable:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    except (OSError, subprocess.SubprocessError) as e:
        shutil.rmtree(folder, ignore_errors=True)
        raise Unavailable(f"{type(e).__name__}: {e}") from e


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
