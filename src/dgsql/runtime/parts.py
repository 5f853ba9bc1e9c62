"""Building parts (docs/parts.md): one part of every table in its own DuckDB session, or every
part on this machine, ``jobs`` at a time, stage by stage.

- :func:`run_part` runs one part of one stage: its script writes into a fresh folder beside the
  data folder, then its files move into ``<data>/<table>/`` one by one (``os.replace``): a part
  replaces its own files and never touches another part's, so running it again (a retried
  task) is safe.
- :func:`build_part` is ``dgsql build --parts N --part I``: every stage of part I, in order,
  straight into the output folder, and ``.metadata.part-I.json``.
- :func:`build_parts` is ``dgsql build --parts N``: every part into a staging folder, moved
  into place at the end with ``.metadata.json`` (a failed build leaves the previous output).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from dgsql.compiler import Compiled, Compression, OutputFormat, Planned, render
from dgsql.compiler.parts import (
    Parts,
    check_format,
    check_parts,
    check_stage,
    loaded,
    part_file,
    stage_count,
    stages,
)
from dgsql.errors import UsageError
from dgsql.runtime import output, session

RENDERING = threading.Lock()
"Parts run in threads (``build_parts``); they render one at a time."
PART_METADATA = ".metadata.part-{index}.json"
"What a lone part writes beside the tables (``.metadata.json`` is written by whoever runs all parts)."
SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)?\s*$", re.IGNORECASE)
UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}
UNITS |= {"KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


@dataclass(frozen=True)
class PartResult:
    index: int
    stage: int
    tables: list[session.TableResult]
    seconds: float


def run_part(
    planned: Planned,
    data_dir: Path,
    parts: int,
    index: int,
    stage: int,
    *,
    compression: Compression | None,
    fmt: OutputFormat = OutputFormat.parquet,
    settings: session.Settings | None = None,
    read_dir: Path | None = None,
) -> PartResult:
    """Write part ``index`` of the tables of ``stage`` into ``data_dir/<table>/``, reading the
    finished tables of earlier stages from ``read_dir`` (default ``data_dir``)."""
    read_dir = read_dir or data_dir
    settings = settings or session.Settings()
    started = time.perf_counter()
    data_dir.mkdir(parents=True, exist_ok=True)
    temp = output.temp_path(data_dir)
    temp.mkdir()
    try:
        compiled = _compiled(planned, temp, read_dir, parts, index, stage, compression, fmt)
        # each session spills into a folder of its own (sessions of one process would share
        # DuckDB's temporary file names)
        spill = (Path(settings.temp_dir) if settings.temp_dir else temp) / f".spill-{temp.name}"
        settings = session.Settings(settings.threads, settings.memory_limit, spill.as_posix())
        _check_inputs(planned, read_dir, parts, stage)
        con = session.connect(settings)
        try:
            writable = [
                temp.as_posix(),
                data_dir.resolve().as_posix(),
                read_dir.resolve().as_posix(),
                spill.as_posix(),
            ]
            result = session.run(compiled, con, writable=writable)
        finally:
            con.close()
        shutil.rmtree(spill, ignore_errors=True)
        for table in result.tables:
            name = compiled.script.target.file(table.name, planned.dataset.metadata.name)
            (data_dir / name).parent.mkdir(exist_ok=True)
            os.replace(temp / name, data_dir / name)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return PartResult(index, stage, result.tables, time.perf_counter() - started)


def _compiled(
    planned: Planned,
    temp: Path,
    data_dir: Path,
    parts: int,
    index: int,
    stage: int,
    compression: Compression | None,
    fmt: OutputFormat,
) -> Compiled:
    spec = Parts(parts, index, stage, data_dir.resolve().as_posix())
    with RENDERING:  # the compiler's parse check shares one DuckDB connection
        return render(planned, temp.as_posix(), compression, fmt=fmt, parts=spec)


def _check_inputs(planned: Planned, data_dir: Path, parts: int, stage: int, own: int | None = None) -> None:
    """A one-line UsageError when a finished table this stage reads is not all there (but for
    part ``own``'s files, which the part writes itself in an earlier stage)."""
    stage_of = stages(planned.plan)
    for table in loaded(planned.plan, stage):
        for i in range(parts):
            path = data_dir / part_file(table.name, i, OutputFormat.parquet.value)
            if i != own and not path.is_file():
                earlier = stage_of[table.name]
                raise UsageError(
                    f"{path}: missing; stage {stage} reads table {table.name!r} of stage {earlier}: "
                    f"build stage {earlier} of every part first (--part I --stage {earlier})."
                )


def build_part(
    planned: Planned,
    out_dir: Path,
    *,
    parts: int,
    index: int,
    stage: int | None = None,
    compression: Compression | None,
    fmt: OutputFormat = OutputFormat.parquet,
    settings: session.Settings | None = None,
    force: bool = False,
    on_table: Callable[[session.TableResult], None] = lambda _: None,
    on_note: Callable[[str], None] = lambda _: None,
) -> session.BuildResult:
    """``dgsql build --parts N --part I``: part ``index`` of every table (of ``stage`` only, or of
    every stage in order) into ``out_dir``, and its ``.metadata.part-<index>.json``.

    Every stage of a lone part (no ``stage``) whose earlier stages' other parts are not in
    ``out_dir`` computes them itself first, into a scratch folder beside ``out_dir`` removed at
    the end, and reads them from there: the part then needs nothing from another machine and
    still writes only its own files (at the cost of those earlier stages' other parts)."""
    check_parts(parts, index)
    check_format(planned.plan, fmt.value)
    check_stage(planned.plan, stage)
    count = stage_count(planned.plan)
    check_folder(out_dir, force)
    chosen = range(count) if stage is None else [stage]
    scratch = None
    try:
        for s in chosen:  # before writing anything
            _check_inputs(planned, out_dir, parts, s, own=index if stage is None else None)
    except UsageError:
        if stage is not None or count == 1:
            raise
        scratch = output.temp_path(out_dir)  # a lone part with no earlier stages beside it
    result = session.BuildResult(out_dir=out_dir)
    started = time.perf_counter()
    try:
        if scratch is not None:
            earlier = "stage 0" if count == 2 else f"stages 0 to {count - 2}"
            on_note(
                f"{earlier} of the other parts are not in {out_dir}: this part computes them itself, "
                "in a scratch folder removed at the end (docs/parts.md)."
            )
            for s in range(count - 1):
                for other in range(parts):
                    run_part(
                        planned, scratch, parts, other, s, compression=compression, fmt=fmt, settings=settings
                    )
        for s in chosen:
            done = run_part(
                planned, out_dir, parts, index, s, compression=compression, fmt=fmt, settings=settings,
                read_dir=scratch,
            )  # fmt: skip
            for table in done.tables:
                result.tables.append(table)
                on_table(table)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    result.seconds = time.perf_counter() - started
    compiled = _compiled(planned, out_dir, out_dir, parts, index, 0, compression, fmt)
    meta = session.metadata(compiled, result, planned.plan.scale)
    meta["parts"] = {"count": parts, "index": index, "stage": stage}
    name = (
        PART_METADATA.format(index=index) if stage is None else f".metadata.part-{index}.stage-{stage}.json"
    )
    (out_dir / name).write_text(json.dumps(meta, indent=2) + "\n")
    return result


def build_parts(
    planned: Planned,
    out_dir: Path,
    *,
    parts: int,
    jobs: int = 1,
    compression: Compression | None,
    fmt: OutputFormat = OutputFormat.parquet,
    settings: session.Settings | None = None,
    force: bool = False,
    on_part: Callable[[PartResult], None] = lambda _: None,
) -> session.BuildResult:
    """``dgsql build --parts N``: every part on this machine, ``jobs`` at a time (each in its own
    session with the threads and memory limit divided among the jobs), stage by stage, into a
    staging folder moved into place at the end with ``.metadata.json``."""
    check_parts(parts, None)
    check_format(planned.plan, fmt.value)
    if jobs < 1:
        raise UsageError(f"--jobs {jobs}: give at least 1.")
    check_folder(out_dir, force)
    each = divided(settings or session.Settings(), min(jobs, parts))
    temp = output.temp_path(out_dir)
    temp.mkdir()
    started = time.perf_counter()
    done: list[PartResult] = []
    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:  # DuckDB runs without the GIL
            for stage in range(stage_count(planned.plan)):
                futures = [
                    pool.submit(
                        run_part,
                        planned,
                        temp,
                        parts,
                        i,
                        stage,
                        compression=compression,
                        fmt=fmt,
                        settings=each,
                    )
                    for i in range(parts)
                ]
                for future in futures:
                    part = future.result()
                    done.append(part)
                    on_part(part)
        result = session.BuildResult(out_dir=out_dir, seconds=time.perf_counter() - started)
        meta = parts_metadata(planned, done, parts, compression, fmt, result.seconds)
        result.tables = [
            session.TableResult(name, t["rows"], t["seconds"]) for name, t in meta["tables"].items()
        ]
        (temp / output.METADATA).write_text(json.dumps(meta, indent=2) + "\n")
        publish(temp, out_dir)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return result


def build_in_parts(
    planned: Planned,
    out_dir: Path,
    *,
    parts: int,
    part: int | None = None,
    stage: int | None = None,
    jobs: int = 1,
    compression: Compression | None,
    fmt: OutputFormat = OutputFormat.parquet,
    settings: session.Settings | None = None,
    force: bool = False,
    run_checks: bool = False,
    on_table: Callable[[session.TableResult], None] = lambda _: None,
    on_note: Callable[[str], None] = lambda _: None,
    on_part: Callable[[PartResult], None] = lambda _: None,
) -> session.BuildResult:
    """``build --parts N`` from the command line or Python: part ``part`` alone
    (:func:`build_part`), or every part (:func:`build_parts`) and, with ``run_checks``, the
    checks of the whole (a lone part cannot be checked: a UsageError)."""
    check_parts(parts, part, stage)
    check_format(planned.plan, fmt.value)
    if part is not None:
        if run_checks:
            raise UsageError(
                "--validate: checks need every part; run dgsql validate once all parts are built."
            )
        return build_part(
            planned, out_dir, parts=parts, index=part, stage=stage, compression=compression, fmt=fmt,
            settings=settings, force=force, on_table=on_table, on_note=on_note,
        )  # fmt: skip
    result = build_parts(
        planned, out_dir, parts=parts, jobs=jobs, compression=compression, fmt=fmt, settings=settings,
        force=force, on_part=on_part,
    )  # fmt: skip
    if run_checks:
        from dgsql.runtime.validate import validate  # the checks load when they run

        result.report = validate(planned.dataset, out_dir)
    return result


def parts_metadata(
    planned: Planned,
    done: list[PartResult],
    parts: int,
    compression: Compression | None,
    fmt: OutputFormat,
    seconds: float,
) -> dict:
    """``.metadata.json`` of a build of every part: per table its rows, its part files and the
    rows of each (docs/parts.md)."""
    by_table: dict[str, list[tuple[int, session.TableResult]]] = {}
    for part in sorted(done, key=lambda p: (p.stage, p.index)):
        for table in part.tables:
            by_table.setdefault(table.name, []).append((part.index, table))
    order = [t.name for t in planned.plan.tables]
    result = session.BuildResult(
        [
            session.TableResult(
                name, sum(t.rows for _, t in by_table[name]), max(t.seconds for _, t in by_table[name])
            )
            for name in order
            if name in by_table
        ],
        seconds,
    )
    compiled = _compiled(planned, Path("."), Path("."), parts, 0, 0, compression, fmt)
    meta = session.metadata(compiled, result, planned.plan.scale)
    extension = compiled.script.target.file("t", "").split(".", 1)[1]
    for name, table in meta["tables"].items():
        table["file"] = f"{name}/part-*.{extension}"
        table["parts"] = [
            {"file": part_file(name, i, extension), "rows": t.rows, "seconds": round(t.seconds, 4)}
            for i, t in sorted(by_table[name], key=lambda x: x[0])
        ]
    meta["parts"] = {"count": parts, "stages": stage_count(planned.plan)}
    return meta


def divided(settings: session.Settings, jobs: int) -> session.Settings:
    """Each job's share of the machine: the threads (all cores when not given) and the memory
    limit (DuckDB's default, 80% of the memory, when not given) divided by ``jobs``."""
    threads = max(1, (settings.threads or os.cpu_count() or 1) // jobs)
    if settings.memory_limit is None:
        total = int(0.8 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    else:
        found = SIZE.match(settings.memory_limit)
        if found is None:
            raise UsageError(f"--memory-limit: {settings.memory_limit!r} is not a size; write e.g. 4GB.")
        total = int(float(found.group(1)) * UNITS[(found.group(2) or "B").upper()])
    return session.Settings(threads, f"{max(total // jobs // 2**20, 64)}MiB", settings.temp_dir)


def check_folder(out_dir: Path, force: bool) -> None:
    """Parts write beside other parts: the folder may hold a previous dgsql output (of parts or
    not), else it must be empty (or ``force``)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"{out_dir}: is a file, not a folder; choose another --out-dir.")
    ours = out_dir.is_dir() and (
        (out_dir / output.METADATA).is_file() or any(out_dir.glob(".metadata.part-*.json"))
    )
    if out_dir.is_dir() and any(out_dir.iterdir()) and not ours and not force:
        raise UsageError(
            f"{out_dir}: folder is not empty and holds no previous dgsql output; "
            "choose an empty --out-dir or pass --force to write into it."
        )
    parent = out_dir.resolve().parent
    if not parent.is_dir():
        raise UsageError(f"{parent}: no such folder; create it or choose another --out-dir.")


def publish(temp: Path, target: Path) -> None:
    """Move a build of every part into ``target``: its table folders' files one by one, then
    the files the previous ``.metadata.json`` listed that this build did not write are removed
    (no other file is touched), then ``.metadata.json``."""
    if not target.exists():
        os.replace(temp, target)
        return
    old = _listed(target)
    new = set()
    for folder in sorted(p for p in temp.iterdir() if p.is_dir()):
        (target / folder.name).mkdir(exist_ok=True)
        for file in sorted(folder.iterdir()):
            os.replace(file, target / folder.name / file.name)
            new.add(f"{folder.name}/{file.name}")
    for name in sorted(old - new):
        (target / name).unlink(missing_ok=True)
    os.replace(temp / output.METADATA, target / output.METADATA)


def write_metadata(folder: Path, meta: dict) -> None:
    """``.metadata.json`` of parts written in place (Spark): the files the previous one listed
    that this build did not write are removed first (no other file is touched)."""
    new = {p["file"] for table in meta["tables"].values() for p in table["parts"]}
    for name in sorted(_listed(folder) - new):
        (folder / name).unlink(missing_ok=True)
    (folder / output.METADATA).write_text(json.dumps(meta, indent=2) + "\n")


def _listed(target: Path) -> set[str]:
    """The files the previous ``.metadata.json`` in ``target`` lists (a build's or every part's)."""
    try:
        meta = json.loads((target / output.METADATA).read_text())
        found = set()
        for table in meta["tables"].values():
            found |= {p["file"] for p in table.get("parts", [])} or {table["file"]}
        return {f for f in found if isinstance(f, str) and "*" not in f}
    except (OSError, ValueError, KeyError, TypeError):
        return set()
