"""The output folder: written to a temporary folder beside the target, moved into place at the end.

Rules (docs/cli.md):
- a failed or interrupted build leaves the previous output untouched and removes its temporary folder;
- the temporary folder's name carries the host, the process id and the process's start time; a
  build removes the temporary folders beside its target that a process of this host left when
  it was killed (SIGKILL, a crash, a power cut), and only those: never another host's, never a
  live process's;
- a build never deletes a file it did not write: only files listed in the previous
  ``.metadata.json`` (a previous dgsql output) are replaced or removed;
- a non-empty target that is not a previous dgsql output is refused unless ``force``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from dgsql.errors import UsageError
from dgsql.runtime.stopping import deferred

METADATA = ".metadata.json"
TEMP_PREFIX = ".dgsql-tmp-"


def previous_files(target: Path) -> set[str] | None:
    """Files a previous dgsql build wrote into ``target``, or None if it is not a dgsql output."""
    try:
        meta = json.loads((target / METADATA).read_text())
        return {t["file"] for t in meta["tables"].values()} | {METADATA}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def check_target(target: Path, force: bool) -> None:
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target}: is a file, not a folder; choose another --out-dir.")
    if target.is_dir() and any(target.iterdir()) and previous_files(target) is None and not force:
        raise UsageError(
            f"{target}: folder is not empty and holds no previous dgsql output; "
            "choose an empty --out-dir or pass --force to write into it."
        )
    parent = target.resolve().parent
    if not parent.is_dir():
        raise UsageError(f"{parent}: no such folder; create it or choose another --out-dir.")


def temp_path(target: Path) -> Path:
    """A fresh name for the temporary folder beside ``target`` (not created yet):
    ``.dgsql-tmp-<host>-<pid>-<start>-<random>``, ``<start>`` the process's start time in
    clock ticks since boot, ``x`` where the system does not tell it."""
    pid = os.getpid()
    start = _start_time(pid) or "x"
    return target.resolve().parent / f"{TEMP_PREFIX}{_host()}-{pid}-{start}-{secrets.token_hex(4)}"


TEMP_NAME = re.compile(r"(?P<host>.+)-(?P<pid>\d+)-(?P<start>\d+|x)-[0-9a-f]{8}")


def sweep(target: Path) -> list[tuple[Path, int]]:
    """Remove the temporary folders beside ``target`` whose build process is gone; return each
    removed folder with its size in bytes. Kept: another host's folders (a shared filesystem),
    a live process's, and names this version did not write."""
    parent = target.resolve().parent
    removed = []
    for path in sorted(parent.glob(f"{TEMP_PREFIX}*")):
        found = TEMP_NAME.fullmatch(path.name[len(TEMP_PREFIX) :])
        if not found or found["host"] != _host() or not path.is_dir() or path.is_symlink():
            continue
        if _alive(int(found["pid"]), found["start"]):
            continue
        size = _size(path)
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            removed.append((path, size))
    return removed


def _host() -> str:
    """This host's name as it goes into a folder name (the name's other fields follow it)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", socket.gethostname())[:64] or "localhost"


def _start_time(pid: int) -> str | None:
    """When process ``pid`` started, in clock ticks since boot (Linux ``/proc``), or None;
    with the pid it names one process, even after the pid is reused."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # the command name may hold spaces
    return fields[19] if fields[0] != "Z" else None  # a zombie has exited


def _alive(pid: int, start: str) -> bool:
    """Whether the process that named a folder ``pid``/``start`` still runs. Without start
    times (``x``: not Linux) a reused pid keeps a dead build's folder until that process ends."""
    if sys.platform == "win32":  # os.kill(pid, 0) would terminate the process there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        pass
    return start == "x" or _start_time(pid) == start


def _size(folder: Path) -> int:
    total = 0
    for root, _, names in os.walk(folder):
        for name in names:
            with suppress(OSError):  # another build sweeping the same folder
                total += os.lstat(os.path.join(root, name)).st_size
    return total


@contextmanager
def staging(target: Path, temp: Path, force: bool) -> Iterator[Path]:
    """Create the temporary folder ``temp``; on success move its files into ``target``.

    Whatever happens, ``temp`` is gone afterwards."""
    check_target(target, force)
    temp.mkdir()
    try:
        yield temp
        with deferred(published=True):  # a signal here would leave old and new files mixed
            _publish(temp, target)
    finally:
        with deferred():
            shutil.rmtree(temp, ignore_errors=True)


def _publish(temp: Path, target: Path) -> None:
    if not target.exists():
        os.replace(temp, target)
        return
    old = previous_files(target) or set()
    new = {p.name for p in temp.iterdir()}
    for name in sorted(new - {METADATA}):
        os.replace(temp / name, target / name)
    for name in sorted(old - new):
        (target / name).unlink(missing_ok=True)
    os.replace(temp / METADATA, target / METADATA)
