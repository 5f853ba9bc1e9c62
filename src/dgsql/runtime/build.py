"""A build: run a compiled script in one locked DuckDB session into a staging folder, write
``.metadata.json``, optionally run the checks in the same session, then publish the folder.
``dgsql build`` and ``dgsql.build`` both call :func:`build`."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from dgsql.compiler import KEY_LIMIT, Compression, OutputFormat, Planned, render
from dgsql.runtime import output, session
from dgsql.runtime.progress import OnProgress


def build(
    planned: Planned,
    out_dir: Path,
    *,
    compression: Compression | None,
    fmt: OutputFormat = OutputFormat.parquet,
    settings: session.Settings | None = None,
    force: bool = False,
    run_checks: bool = False,
    on_table: Callable[[session.TableResult], None] = lambda _: None,
    on_note: Callable[[str], None] = lambda _: None,
    on_start: Callable[[str, float], None] = lambda *_: None,
    on_progress: OnProgress | None = None,
) -> session.BuildResult:
    """Write ``out_dir/<table>.<format>`` (or one ``.duckdb`` file) and ``.metadata.json``; a
    failure leaves the previous output untouched. With ``run_checks`` the result carries the
    checks' report. ``on_note`` hears what the build leaves out (a primary key not declared)
    and each temporary folder a killed build had left beside ``out_dir`` that it removed;
    ``on_start`` and ``on_progress`` are :func:`session.run`'s."""
    settings = settings or session.Settings()
    output.check_target(out_dir, force)
    for path, size in output.sweep(out_dir):
        on_note(f"removed {path.name} ({size / 1e6:,.1f} MB), left by a build whose process is gone.")
    temp = output.temp_path(out_dir)
    spill = temp / ".spill"
    if settings.temp_dir is None:
        settings = session.Settings(settings.threads, settings.memory_limit, spill.as_posix())
    con = session.connect(settings)  # first: its parser checks the script as it is rendered
    try:
        compiled = render(planned, temp.as_posix(), compression, fmt=fmt, parser=con)
        if compiled.script.target.persistent:
            for table in planned.tables:
                if table.expected_rows > KEY_LIMIT and planned.dataset.node(table.name).pk:
                    on_note(
                        f"{table.name}: primary key not declared in the database (over {KEY_LIMIT:,} rows)."
                    )
        with output.staging(out_dir, temp, force):
            result = session.run(
                compiled,
                con,
                on_table=on_table,
                writable=[temp.as_posix(), settings.temp_dir or spill.as_posix()],
                on_start=on_start,
                on_progress=on_progress,
            )
            meta = session.metadata(compiled, result, planned.plan.scale)
            (temp / output.METADATA).write_text(json.dumps(meta, indent=2) + "\n")
            if run_checks:  # a database file is read after its detach, in a session of its own
                from dgsql.runtime.validate import validate  # the checks load when they run

                result.report = validate(
                    compiled.dataset, temp, con=None if fmt is OutputFormat.duckdb else con
                )
            con.close()  # before the spill folder goes, and before the folder is published
            shutil.rmtree(spill, ignore_errors=True)
    finally:
        con.close()
    result.out_dir = out_dir
    return result
