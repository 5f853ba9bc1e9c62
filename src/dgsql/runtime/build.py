"""A build: run a compiled script in one locked DuckDB session into a staging folder, write
``.metadata.json``, optionally run the checks in the same session, then publish the folder.
``dgsql build`` and ``dgsql.build`` both call :func:`build`."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from dgsql.compiler import Compression, Planned, render
from dgsql.runtime import output, session
from dgsql.runtime.validate import validate


def build(
    planned: Planned,
    out_dir: Path,
    *,
    compression: Compression,
    settings: session.Settings | None = None,
    force: bool = False,
    run_checks: bool = False,
    on_table: Callable[[session.TableResult], None] = lambda _: None,
) -> session.BuildResult:
    """Write ``out_dir/<table>.parquet`` and ``.metadata.json``; a failure leaves the previous
    output untouched. With ``run_checks`` the result carries the checks' report."""
    settings = settings or session.Settings()
    output.check_target(out_dir, force)
    temp = output.temp_path(out_dir)
    compiled = render(planned, temp.as_posix(), compression)
    with output.staging(out_dir, temp, force):
        spill = temp / ".spill"
        if settings.temp_dir is None:
            settings = session.Settings(settings.threads, settings.memory_limit, spill.as_posix())
        con = session.connect(settings)
        try:
            result = session.run(
                compiled,
                con,
                on_table=on_table,
                writable=[temp.as_posix(), settings.temp_dir or spill.as_posix()],
            )
            meta = session.metadata(compiled, result, planned.plan.scale)
            (temp / output.METADATA).write_text(json.dumps(meta, indent=2) + "\n")
            result.report = validate(compiled.dataset, temp, con=con) if run_checks else None
        finally:
            con.close()
        shutil.rmtree(spill, ignore_errors=True)
    result.out_dir = out_dir
    return result
