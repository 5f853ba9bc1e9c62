"""The output folder: written to a temporary folder beside the target, moved into place at the end.

Rules (docs/cli.md):
- a failed or interrupted build leaves the previous output untouched and removes its temporary folder;
- a build never deletes a file it did not write: only files listed in the previous
  ``.metadata.json`` (a previous dgsql output) are replaced or removed;
- a non-empty target that is not a previous dgsql output is refused unless ``force``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dgsql.errors import UsageError

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
    """A fresh name for the temporary folder beside ``target`` (not created yet)."""
    return target.resolve().parent / f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"


@contextmanager
def staging(target: Path, temp: Path, force: bool) -> Iterator[Path]:
    """Create the temporary folder ``temp``; on success move its files into ``target``.

    Whatever happens, ``temp`` is gone afterwards."""
    check_target(target, force)
    temp.mkdir()
    try:
        yield temp
        _publish(temp, target)
    finally:
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
