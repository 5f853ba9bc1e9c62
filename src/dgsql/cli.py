"""The ``dgsql`` command line (Typer). Exit codes: 0 ok, 1 checks failed, 2 bad schema or
arguments, 3 DuckDB failed, 4 internal bug. stdout carries only the product (SQL,
JSON); progress and messages go to stderr. Tracebacks only with ``--debug``."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated

import duckdb
import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperOption

from dgsql import __version__
from dgsql.compiler import Compression, OutputFormat, Planned, load, plan_schema, render
from dgsql.compiler.parts import Parts, check_format, check_parts
from dgsql.compiler.render import resolve_compression
from dgsql.compiler.seeds import DEFAULT_SEED
from dgsql.dsl.json_schema import dataset_json_schema
from dgsql.dsl.problems import Problem
from dgsql.errors import DgsqlError, SchemaError, UsageError
from dgsql.runtime import session
from dgsql.runtime.build import build as run_build
from dgsql.runtime.report import DEFAULT_THRESHOLD
from dgsql.runtime.validate import checks_script, validate

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    invoke_without_command=True,
    help="Compile Datagen DSL v1 schemas to DuckDB SQL and generate deterministic synthetic data.",
)
err = Console(stderr=True, highlight=False)
state = {"debug": False}

SchemaArg = Annotated[
    Path, typer.Argument(help="Schema file, JSON or YAML (Datagen DSL v1).", show_default=False)
]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Treat every warning as an error (exit 2).")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Master seed; same seed, same data.")]
ScaleOpt = Annotated[float, typer.Option("--scale", help="Multiply every entity's rows by F.", min=0.0)]


def _funnel(action: Callable[[], int | None]) -> None:
    """The one error handler: DgsqlError → its exit code; anything else is a bug (exit 4)."""
    try:
        code = action() or 0
        sys.stdout.flush()  # a closed pipe shows here, inside the funnel, not at exit
    except BrokenPipeError:
        code = _closed_pipe()
    except DgsqlError as e:
        lines = e.lines() if isinstance(e, SchemaError) else str(e).splitlines()
        for line in lines:
            print(f"error: {line}", file=sys.stderr)
        if isinstance(e, SchemaError):
            _warn(e.warnings)
        if state["debug"]:
            traceback.print_exc()
        code = e.exit_code
    except KeyboardInterrupt:
        print("interrupted; the previous output is untouched.", file=sys.stderr)
        code = 130
    except duckdb.Error as e:
        print(f"error: DuckDB failed: {str(e).splitlines()[0]}", file=sys.stderr)
        if state["debug"]:
            traceback.print_exc()
        code = 3
    except Exception as e:  # noqa: BLE001 - the funnel for bugs
        print(
            f"internal error ({type(e).__name__}: {e}); please report it. Rerun with --debug for details.",
            file=sys.stderr,
        )
        if state["debug"]:
            traceback.print_exc()
        code = 4
    raise typer.Exit(code)


def _closed_pipe() -> int:
    """The reader of stdout went away (``dgsql emit-sql s.json | head``): end quietly with the
    status a process killed by SIGPIPE gets, as the Python docs advise (library/signal, "Note on
    SIGPIPE"): stdout now points at devnull so the flush at exit raises nothing."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # a stdout without a file descriptor (tests)
        pass
    finally:
        os.close(devnull)
    return 128 + signal.SIGPIPE.value if hasattr(signal, "SIGPIPE") else 1


def _flags_without_type(self: TyperOption, ctx: typer.Context) -> str | None:
    """Typer 0.29 shows ``<bool>`` beside on/off flags (``--force <bool>``): a flag takes no value."""
    return None if self.is_flag else _display_type_rich(self, ctx)


_display_type_rich = getattr(TyperOption, "display_type_rich", None)
if _display_type_rich is not None:  # older Typer versions print no type for flags
    TyperOption.display_type_rich = _flags_without_type  # type: ignore[method-assign]


def _warn(warnings: Sequence[Problem]) -> None:
    for problem in warnings:
        print(f"warning: {problem}", file=sys.stderr)


def _plan(schema: Path, *, seed: int, scale: float, sample: int | None, strict: bool) -> Planned:
    """The one front end of build, check and emit-sql: every problem, before any SQL."""
    planned = plan_schema(schema, seed=seed, scale=scale, sample=sample, strict=strict)
    _warn(planned.warnings)
    return planned


def _print_version(value: bool) -> None:
    if value:
        engine = importlib.metadata.version("duckdb")
        print(f"dgsql {__version__} (DuckDB {engine}, Python {platform.python_version()})")
        raise typer.Exit(0)


@app.callback()
def main_options(
    ctx: typer.Context,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit.", is_eager=True, callback=_print_version),
    ] = False,
) -> None:
    state["debug"] = debug
    if ctx.invoked_subcommand is None:
        print(ctx.get_help(), file=sys.stderr)
        raise typer.Exit(2)


Sample = Annotated[
    int | None,
    typer.Option("--sample", help="Dry run: cap every entity at N rows (facts follow their parents).", min=1),
]
Threshold = Annotated[
    float, typer.Option("--threshold", help="Quality score needed to pass.", min=0, max=100)
]
CompressionOpt = Annotated[
    Compression | None,
    typer.Option(
        "--compression",
        help="Codec: parquet takes snappy (the default, faster to write), zstd (smaller) or gzip; "
        "csv and jsonl take gzip or zstd (default none); duckdb takes none.",
        show_default=False,
    ),
]
FormatOpt = Annotated[
    OutputFormat,
    typer.Option(
        "--format",
        help="parquet (one file per table), csv (with a header), jsonl (JSON lines) or duckdb "
        "(one <dataset>.duckdb file of persistent tables).",
    ),
]
DatagenSample = Annotated[int | None, typer.Option("--dry-run-sample", hidden=True, min=1)]
PartsOpt = Annotated[
    int | None,
    typer.Option(
        "--parts",
        help="Split every table into N parts, <out-dir>/<table>/part-<i>.<ext>, whose concatenation "
        "is the single build (docs/parts.md).",
        min=1,
        show_default=False,
    ),
]
PartOpt = Annotated[
    int | None,
    typer.Option("--part", help="With --parts: only part I (0-based).", min=0, show_default=False),
]
StageOpt = Annotated[
    int | None,
    typer.Option(
        "--stage",
        help="With --part: only the tables of stage S (later stages read earlier ones' finished parts).",
        min=0,
        show_default=False,
    ),
]


def build(
    schema: SchemaArg,
    out_dir: Annotated[Path, typer.Option("--out-dir", "-o", help="Output folder.")] = Path("out"),
    seed: SeedOpt = DEFAULT_SEED,
    scale: ScaleOpt = 1.0,
    threads: Annotated[int | None, typer.Option("--threads", help="DuckDB threads.", min=1)] = None,
    memory_limit: Annotated[
        str | None, typer.Option("--memory-limit", help="DuckDB memory limit, e.g. 4GB.")
    ] = None,
    temp_dir: Annotated[Path | None, typer.Option("--temp-dir", help="Where DuckDB spills.")] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Write into a non-empty folder that is not a dgsql output.")
    ] = False,
    sample: Sample = None,
    dry_run_sample: DatagenSample = None,
    run_checks: Annotated[
        bool, typer.Option("--validate", help="Run every check in the build's session and print the report.")
    ] = False,
    threshold: Threshold = DEFAULT_THRESHOLD,
    compression: CompressionOpt = None,
    fmt: FormatOpt = OutputFormat.parquet,
    strict: StrictOpt = False,
    parts: PartsOpt = None,
    part: PartOpt = None,
    stage: StageOpt = None,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs", help="With --parts: parts built at a time, sharing threads and memory.", min=1
        ),
    ] = 1,
) -> None:
    """Compile SCHEMA and run it in one DuckDB session: <out-dir>/<table>.parquet + .metadata.json.

    A --sample dry run also validates. Exit 1 when validation fails its gate.

    Examples:
      dgsql build examples/hr_org.json -o out
      dgsql build schema.json -o out --scale 100 --validate
      dgsql build schema.json --sample 1000 --strict    # a quick dry run, warnings fail
      dgsql build schema.json --parts 8 --jobs 2         # 8 parts, 2 at a time"""

    def action() -> int:
        codec = resolve_compression(fmt, compression)
        _check_part_options(parts, part, stage)
        planned = _plan(schema, seed=seed, scale=scale, sample=sample or dry_run_sample, strict=strict)
        settings = session.Settings(threads, memory_limit, str(temp_dir) if temp_dir else None)
        if parts is not None:
            return _build_parts(
                planned, out_dir, parts, part, stage, jobs, codec, fmt, settings, force,
                checks=run_checks, dry_run=bool(sample or dry_run_sample), threshold=threshold,
            )  # fmt: skip
        with err.status("generating…"):
            result = run_build(
                planned,
                out_dir,
                compression=codec,
                fmt=fmt,
                settings=settings,
                force=force,
                run_checks=bool(run_checks or sample or dry_run_sample),
                on_table=lambda t: err.print(f"  {t.name}: {t.rows:,} rows in {t.seconds:.2f} s"),
                on_note=lambda note: err.print(f"note: {note}"),
            )
        report = result.report
        _summary(result, out_dir)
        if report is None:
            return 0
        report.render(err)
        return 0 if report.passed_gate(threshold) else 1

    _funnel(action)


def _check_part_options(parts: int | None, part: int | None, stage: int | None) -> None:
    if parts is None and part is not None:
        raise UsageError("--part: give --parts N too (the part count).")
    if part is None and stage is not None:
        raise UsageError("--stage: give --part I too (a stage of one part).")
    if parts is not None:
        check_parts(parts, part)


def _build_parts(
    planned: Planned,
    out_dir: Path,
    parts: int,
    part: int | None,
    stage: int | None,
    jobs: int,
    codec: Compression | None,
    fmt: OutputFormat,
    settings: session.Settings,
    force: bool,
    *,
    checks: bool,
    dry_run: bool,
    threshold: float,
) -> int:
    """``build --parts``: one part (``--part``), or every part ``jobs`` at a time, then the checks
    (asked for, or a dry run's)."""
    from dgsql.runtime import parts as part_runs

    check_format(planned.plan, fmt.value)
    if part is not None:
        if checks:
            raise UsageError(
                "--validate: checks need every part; run dgsql validate once all parts are built."
            )
        with err.status("generating…"):
            result = part_runs.build_part(
                planned, out_dir, parts=parts, index=part, stage=stage, compression=codec, fmt=fmt,
                settings=settings, force=force,
                on_table=lambda t: err.print(f"  {t.name}: {t.rows:,} rows in {t.seconds:.2f} s"),
            )  # fmt: skip
        _summary(result, out_dir)
        if dry_run:
            err.print("note: a lone part is not validated; run dgsql validate once every part is built.")
        return 0
    with err.status("generating…"):
        result = part_runs.build_parts(
            planned, out_dir, parts=parts, jobs=jobs, compression=codec, fmt=fmt, settings=settings,
            force=force,
            on_part=lambda p: err.print(f"  stage {p.stage} part {p.index}: {sum(t.rows for t in p.tables):,} rows in {p.seconds:.2f} s"),
        )  # fmt: skip
    _summary(result, out_dir)
    if not (checks or dry_run):
        return 0
    report = validate(planned.dataset, out_dir)
    report.render(err)
    return 0 if report.passed_gate(threshold) else 1


app.command("build")(build)
app.command("generate", help="Alias of build (Datagen's name).", hidden=True)(build)


@app.command()
def check(
    schema: SchemaArg,
    seed: SeedOpt = DEFAULT_SEED,
    scale: ScaleOpt = 1.0,
    sample: Sample = None,
    strict: StrictOpt = False,
) -> None:
    """Check SCHEMA without generating data: the same problems build and emit-sql report, the planned tables.

    Examples:
      dgsql check schema.json
      dgsql check schema.json --strict       # warnings fail too (CI)
      dgsql check schema.json --scale 100    # expected rows and size at that scale"""

    def action() -> int:
        planned = _plan(schema, seed=seed, scale=scale, sample=sample, strict=strict)
        table = Table(title=f"plan of {planned.dataset.metadata.name!r}", title_justify="left")
        for name, justify in (
            ("#", "right"),
            ("table", "left"),
            ("kind", "left"),
            ("expected rows", "right"),
            ("est. size", "right"),
        ):
            table.add_column(name, justify=justify)  # type: ignore[arg-type]
        for i, t in enumerate(planned.tables, 1):
            table.add_row(str(i), t.name, t.kind, f"{t.expected_rows:,.0f}", _size(t.estimated_bytes))
        total_rows = sum(t.expected_rows for t in planned.tables)
        total_bytes = sum(t.estimated_bytes for t in planned.tables)
        table.add_row("", "total", "", f"{total_rows:,.0f}", _size(total_bytes), style="bold")
        err.print(table)
        print("ok: the schema is valid and passes preflight.", file=sys.stderr)
        return 0

    _funnel(action)


@app.command("validate")
def validate_command(
    schema: SchemaArg,
    data_dir: Annotated[
        Path,
        typer.Option(
            "--data-dir", "-d", help="The build's folder (Parquet, CSV or JSON lines), or its .duckdb file."
        ),
    ],
    report_file: Annotated[
        Path | None, typer.Option("--report", "-o", help="Also write the JSON report to FILE.")
    ] = None,
    threshold: Threshold = DEFAULT_THRESHOLD,
    sql: Annotated[
        bool,
        typer.Option(
            "--sql", help="Print the checks as one script for the DuckDB CLI instead of running them."
        ),
    ] = False,
    strict: StrictOpt = False,
) -> None:
    """Check the data in DIR against every constraint and target of SCHEMA; print the report.

    Exit 0 when every primary- and foreign-key check passes and the score reaches the
    threshold, 1 otherwise, 2 on bad input."""

    def action() -> int:
        dataset, _, warnings = load(schema)
        if strict and warnings:
            raise SchemaError(warnings)
        _warn(warnings)
        if sql:
            sys.stdout.write(checks_script(dataset, data_dir.as_posix()))
            return 0
        report = validate(dataset, data_dir)
        report.render(err)
        if report_file is not None:
            report_file.write_text(json.dumps(report.to_json(), indent=2, default=str) + "\n")
        return 0 if report.passed_gate(threshold) else 1

    _funnel(action)


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return ""


def _summary(result: session.BuildResult, out_dir: Path) -> None:
    table = Table(title=f"wrote {out_dir}", title_justify="left")
    table.add_column("table")
    table.add_column("rows", justify="right")
    table.add_column("seconds", justify="right")
    table.add_column("rows/s", justify="right")
    for t in result.tables:
        rate = f"{t.rows / t.seconds:,.0f}" if t.seconds > 0 else "-"
        table.add_row(t.name, f"{t.rows:,}", f"{t.seconds:.2f}", rate)
    total_rate = f"{result.rows / result.seconds:,.0f}" if result.seconds > 0 else "-"
    table.add_row("total", f"{result.rows:,}", f"{result.seconds:.2f}", total_rate, style="bold")
    err.print(table)


@app.command("emit-sql")
def emit_sql(
    schema: SchemaArg,
    seed: SeedOpt = DEFAULT_SEED,
    scale: ScaleOpt = 1.0,
    out_dir: Annotated[
        str, typer.Option("--out-dir", "-o", help="Folder the script's COPY statements write to.")
    ] = "out",
    compression: CompressionOpt = None,
    fmt: FormatOpt = OutputFormat.parquet,
    into_db: Annotated[
        bool,
        typer.Option(
            "--into-db",
            help="No files: create persistent tables in the database the client has open "
            "(duckdb my.db < build.sql).",
        ),
    ] = False,
    strict: StrictOpt = False,
    parts: PartsOpt = None,
    part: PartOpt = None,
    stage: StageOpt = None,
) -> None:
    """Print the SQL script that `build` runs; any DuckDB client running it writes the same files.

    Examples:
      dgsql emit-sql schema.json --out-dir out > build.sql
      duckdb -c ".read build.sql"      # the stock DuckDB CLI writes the same rows
      dgsql emit-sql schema.json --into-db > build.sql && duckdb my.db < build.sql
      dgsql emit-sql schema.json --parts 8 --part 3 > part-3.sql"""

    def action() -> int:
        if not out_dir or "\n" in out_dir:
            raise UsageError("--out-dir: give a folder path on one line.")
        if into_db and (fmt is not OutputFormat.parquet or compression is not None):
            raise UsageError("--into-db writes tables, not files: drop --format and --compression.")
        codec = None if into_db else resolve_compression(fmt, compression)
        _check_part_options(parts, part, stage)
        if parts is not None and part is None:
            raise UsageError("--parts: a script writes one part; give --part I too.")
        planned = _plan(schema, seed=seed, scale=scale, sample=None, strict=strict)
        spec = Parts(parts, part, stage) if parts is not None and part is not None else None
        compiled = render(
            planned, out_dir.rstrip("/") or "/", codec, fmt=fmt, into="main" if into_db else None, parts=spec
        )
        sys.stdout.write(compiled.script.text)
        return 0

    _funnel(action)


@app.command("spark")
def spark_command(
    schema: SchemaArg,
    out: Annotated[
        str,
        typer.Option(
            "--out", help="Output folder every executor reaches (a path or file:// URI).", show_default=False
        ),
    ],
    parts: Annotated[
        int, typer.Option("--parts", help="Parts per table: one Spark task each per stage.", min=1)
    ],
    master: Annotated[
        str | None, typer.Option("--master", help="Spark master, e.g. local[2]; default: the session's.")
    ] = None,
    seed: SeedOpt = DEFAULT_SEED,
    scale: ScaleOpt = 1.0,
    sample: Sample = None,
    threads: Annotated[
        int | None,
        typer.Option("--threads", help="DuckDB threads per task (default spark.task.cpus).", min=1),
    ] = None,
    memory_limit: Annotated[
        str | None, typer.Option("--memory-limit", help="DuckDB memory limit per task, e.g. 4GB.")
    ] = None,
    compression: CompressionOpt = None,
    fmt: FormatOpt = OutputFormat.parquet,
    force: Annotated[
        bool, typer.Option("--force", help="Write into a non-empty folder that is not a dgsql output.")
    ] = False,
    strict: StrictOpt = False,
) -> None:
    """Generate SCHEMA on Spark: each part of each table a task running DuckDB in the executor.

    The same files as `dgsql build --parts N` (docs/parts.md); needs pip install 'dgsql[spark]'.

    Examples:
      dgsql spark schema.json --out /shared/out --parts 64 --master spark://host:7077
      dgsql spark schema.json --out /tmp/out --parts 8 --master 'local[2]'"""

    def action() -> int:
        from dgsql.compiler.source import read_source
        from dgsql.runtime.spark import run_spark

        codec = resolve_compression(fmt, compression)
        planned = _plan(schema, seed=seed, scale=scale, sample=sample, strict=strict)

        def progress(stage: int, done: list, seconds: float) -> None:
            rows = sum(t.rows for p in done for t in p.tables)
            err.print(f"  stage {stage}: {len(done)} parts, {rows:,} rows in {seconds:.2f} s")

        result = run_spark(
            planned, read_source(schema)[0], out, parts=parts, master=master, compression=codec, fmt=fmt,
            threads=threads, memory_limit=memory_limit, force=force, on_stage=progress,
        )  # fmt: skip
        _summary(result, Path(out))
        return 0

    _funnel(action)


@app.command("schema")
def schema_command() -> None:
    """Print the DSL's JSON Schema (draft 2020-12), for editors that complete and check schema files.

    Examples:
      dgsql schema > dgsql.schema.json     # then see docs/editors.md"""

    def action() -> int:
        sys.stdout.write(json.dumps(dataset_json_schema(), indent=2) + "\n")
        return 0

    _funnel(action)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
