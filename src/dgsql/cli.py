"""The ``dgsql`` command line (Typer). Exit codes: 0 ok, 1 checks failed, 2 bad schema or
arguments, 3 DuckDB failed, 4 internal bug, 130/143 stopped by SIGINT/SIGTERM. stdout carries
only the product (SQL, JSON); progress and messages go to stderr. Tracebacks only with
``--debug``."""

from __future__ import annotations

import os
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from typer.core import TyperOption

from dgsql import __version__
from dgsql.errors import DgsqlError, SchemaError, UsageError
from dgsql.log import Log, LogFormat
from dgsql.options import (
    CHART_ROWS,
    DEFAULT_SEED,
    DEFAULT_THRESHOLD,
    Compression,
    OutputFormat,
    resolve_compression,
)
from dgsql.runtime.pg_options import IfExists, parse_target
from dgsql.runtime.stopping import Stopped, stop_on_signals

if TYPE_CHECKING:
    from dgsql.compiler import Planned
    from dgsql.dsl.model import Dataset
    from dgsql.runtime.postgres import Progress
    from dgsql.runtime.report import Report
    from dgsql.runtime.session import Settings

# The commands import the compiler, DuckDB and Faker when they run: `--help`, `--version` and
# shell completion never load them (tests/test_cli_log.py checks it; bench/bench_startup.py
# times it).

app = typer.Typer(
    no_args_is_help=True,
    invoke_without_command=True,
    help="Compile Datagen DSL v1 schemas to DuckDB SQL and generate deterministic synthetic data.",
)
state: dict = {"debug": False, "quiet": False, "log_format": LogFormat.text}

SchemaArg = Annotated[
    Path, typer.Argument(help="Schema file, JSON or YAML (Datagen DSL v1).", show_default=False)
]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Treat every warning as an error (exit 2).")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Master seed; same seed, same data.")]
ScaleOpt = Annotated[float, typer.Option("--scale", help="Multiply every entity's rows by F.", min=0.0)]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print errors only (stderr).")]
LogFormatOpt = Annotated[
    LogFormat | None,
    typer.Option(
        "--log-format",
        help="text (the default) or json: one JSON object per event and line on stderr.",
        show_default=False,
    ),
]


def _log(quiet: bool, log_format: LogFormat | None) -> Log:
    """The command's stderr: its own -q/--log-format, else those given before the command."""
    return Log(log_format or state["log_format"], quiet or state["quiet"])


def _funnel(action: Callable[[], int | None], log: Log) -> None:
    """The one error handler: DgsqlError → its exit code; anything else is a bug (exit 4)."""
    try:
        with stop_on_signals():  # SIGTERM like Ctrl-C: the running statement is interrupted
            code = action() or 0
        sys.stdout.flush()  # a closed pipe shows here, inside the funnel, not at exit
    except BrokenPipeError:
        code = _closed_pipe()
    except SchemaError as e:
        log.problems(e.problems, e.warnings, shown=e.max_shown)
        if state["debug"]:
            log.traceback()
        code = e.exit_code
    except DgsqlError as e:
        log.error(str(e), e.exit_code)
        if state["debug"]:
            log.traceback()
        code = e.exit_code
    except KeyboardInterrupt as e:
        stopped = e if isinstance(e, Stopped) else Stopped(signal.SIGINT)
        log.error(f"{stopped}.", stopped.exit_code, prefix="")
        code = stopped.exit_code
    except Exception as e:  # noqa: BLE001 - the funnel for bugs
        duckdb = sys.modules.get("duckdb")  # not loaded: the error cannot be DuckDB's
        if duckdb is not None and isinstance(e, duckdb.Error):
            log.error(f"DuckDB failed: {str(e).splitlines()[0]}", 3)
            code = 3
        else:
            message = (
                f"internal error ({type(e).__name__}: {e}); please report it. Rerun with --debug for details."
            )
            log.error(message, 4, prefix="")
            code = 4
        if state["debug"]:
            log.traceback()
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


def _plan(schema: Path, log: Log, *, seed: int, scale: float, sample: int | None, strict: bool) -> Planned:
    """The one front end of build, check and emit-sql: every problem, before any SQL."""
    from dgsql.compiler import plan_schema

    planned = plan_schema(schema, seed=seed, scale=scale, sample=sample, strict=strict)
    log.problems((), planned.warnings)
    return planned


def _print_version(value: bool) -> None:
    """dgsql, DuckDB and Python versions, read without importing DuckDB."""
    if value:
        from importlib.metadata import version

        python = ".".join(map(str, sys.version_info[:3]))
        print(f"dgsql {__version__} (DuckDB {version('duckdb')}, Python {python})")
        raise typer.Exit(0)


@app.callback()
def main_options(
    ctx: typer.Context,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit.", is_eager=True, callback=_print_version),
    ] = False,
    quiet: QuietOpt = False,
    log_format: LogFormatOpt = None,
) -> None:
    """Options given here apply to every command (`dgsql -q --log-format json build …`)."""
    state.update(debug=debug, quiet=quiet, log_format=log_format or LogFormat.text)
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
HtmlOpt = Annotated[
    Path | None,
    typer.Option(
        "--html",
        help="Also write the HTML report (checks and declared-vs-observed charts) to FILE.",
        show_default=False,
    ),
]
ToOpt = Annotated[
    str | None,
    typer.Option(
        "--to",
        help="Load into PostgreSQL: postgresql://user@host:port/db (the password from PGPASSWORD or "
        "~/.pgpass is best; one in the URL is never printed). docs/postgres.md",
        show_default=False,
    ),
]
PgSchemaOpt = Annotated[str, typer.Option("--pg-schema", help="PostgreSQL schema of the tables.")]
IfExistsOpt = Annotated[
    IfExists,
    typer.Option(
        "--if-exists",
        help="When a table exists: fail (change nothing), replace (swap in the new tables atomically) "
        "or append (add the rows).",
    ),
]


PartsOpt = Annotated[
    int | None,
    typer.Option(
        "--parts",
        help="Split every table into N parts, <out>/<table>/part-<i>.<ext>, whose concatenation "
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


OutOpt = Annotated[
    Path,
    typer.Option("--out", "-o", "--out-dir", help="The data folder (--out-dir: its name before 0.5.0)."),
]


def build(
    ctx: typer.Context,
    schema: SchemaArg,
    out_dir: OutOpt = Path("out"),
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
    html: HtmlOpt = None,
    to: ToOpt = None,
    pg_schema: PgSchemaOpt = "public",
    if_exists: IfExistsOpt = IfExists.fail,
    parts: PartsOpt = None,
    part: PartOpt = None,
    stage: StageOpt = None,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs", help="With --parts: parts built at a time, sharing threads and memory.", min=1
        ),
    ] = 1,
    strict: StrictOpt = False,
    quiet: QuietOpt = False,
    log_format: LogFormatOpt = None,
) -> None:
    """Compile SCHEMA and run it in one DuckDB session: <out>/<table>.parquet + .metadata.json.

    A --sample dry run also validates; so does --html, which writes the HTML report too.
    Exit 1 when validation fails its gate. With --to, the data is then loaded into PostgreSQL
    (the files go to a temporary folder unless -o is given); data that fails its checks is not
    loaded.

    Examples:
      dgsql build examples/hr_org.json -o out
      dgsql build schema.json -o out --scale 100 --validate
      dgsql build schema.json --sample 1000 --strict    # a quick dry run, warnings fail
      dgsql build schema.json -q --log-format json       # CI: errors only, as JSON lines
      dgsql build schema.json --to postgresql://me@localhost:5432/app --if-exists replace
      dgsql build schema.json --parts 8 --jobs 2         # 8 parts, 2 at a time"""
    log = _log(quiet, log_format)

    def action() -> int:
        from dgsql.compiler.parts import check_parts
        from dgsql.runtime import session
        from dgsql.runtime.build import build as run_build

        if to is not None:
            parse_target(to)  # a bad URL fails before the build
        codec = resolve_compression(fmt, compression)
        check_parts(parts, part, stage)
        if parts is not None and (to is not None or html is not None):
            raise UsageError("--parts: load or chart the parts once built (dgsql load, dgsql report).")
        planned = _plan(schema, log, seed=seed, scale=scale, sample=sample or dry_run_sample, strict=strict)
        settings = session.Settings(threads, memory_limit, str(temp_dir) if temp_dir else None)
        if parts is not None:
            return _build_parts(
                planned, out_dir, parts, part, stage, jobs, codec, fmt, settings, force, log,
                checks=run_checks, dry_run=bool(sample or dry_run_sample), threshold=threshold,
            )  # fmt: skip
        source = ctx.get_parameter_source("out_dir")  # Typer's own click: compare by name
        given = source is not None and source.name != "DEFAULT"
        with _build_folder(out_dir, keep=to is None or given) as folder:
            with log.running("generating…"):
                result = run_build(
                    planned,
                    folder,
                    compression=codec,
                    fmt=fmt,
                    settings=settings,
                    force=force,
                    run_checks=bool(run_checks or sample or dry_run_sample or html),
                    on_table=lambda t: log.table_finished(t.name, t.rows, t.seconds),
                    on_note=log.note,
                    on_start=log.table_started,
                    on_progress=log.table_progress if log.shows_progress else None,
                )
            log.built(result, str(folder))
            report = result.report
            if report is not None:
                log.report(report)
                if html is not None:
                    _write_html(html, planned.dataset, folder, report, log)
                if not report.passed_gate(threshold):
                    if to is not None:
                        log.note("not loaded into PostgreSQL: the checks failed.")
                    return 1
            if to is not None:
                _load(planned.dataset, folder, to, pg_schema, if_exists, log, threads)
        return 0

    _funnel(action, log)


def _write_html(
    path: Path,
    dataset: Dataset,
    data_dir: Path,
    report: Report | None,
    log: Log,
    chart_rows: int | None = CHART_ROWS,
) -> None:
    from dgsql.report import html_report, write_html

    with log.running("charting…"):
        write_html(path, html_report(dataset, data_dir, report=report, chart_rows=chart_rows))
    log.message(f"wrote the HTML report to {path}", event="wrote", path=str(path))


def _build_parts(
    planned: Planned,
    out_dir: Path,
    parts: int,
    part: int | None,
    stage: int | None,
    jobs: int,
    codec: Compression | None,
    fmt: OutputFormat,
    settings: Settings,
    force: bool,
    log: Log,
    *,
    checks: bool,
    dry_run: bool,
    threshold: float,
) -> int:
    """``build --parts``: one part (``--part``), or every part ``jobs`` at a time, then the checks
    (asked for, or a dry run's)."""
    from dgsql.runtime import parts as part_runs

    def part_done(p: part_runs.PartResult) -> None:
        rows = sum(t.rows for t in p.tables)
        log.message(
            f"  stage {p.stage} part {p.index}: {rows:,} rows in {p.seconds:.2f} s",
            event="part_finished", stage=p.stage, part=p.index, rows=rows, seconds=round(p.seconds, 4),
        )  # fmt: skip

    with log.running("generating…"):
        result = part_runs.build_in_parts(
            planned, out_dir, parts=parts, part=part, stage=stage, jobs=jobs, compression=codec, fmt=fmt,
            settings=settings, force=force, run_checks=checks or (dry_run and part is None),
            on_table=lambda t: log.table_finished(t.name, t.rows, t.seconds), on_note=log.note,
            on_part=part_done,
        )  # fmt: skip
    log.built(result, str(out_dir))
    if part is not None and dry_run:
        log.note("a lone part is not validated; run dgsql validate once every part is built.")
    if result.report is None:
        return 0
    log.report(result.report)
    return 0 if result.report.passed_gate(threshold) else 1


@contextmanager
def _build_folder(out_dir: Path, *, keep: bool) -> Iterator[Path]:
    """``out_dir``, or (``build --to`` without ``-o``) a temporary folder removed after."""
    if keep:
        yield out_dir
        return
    with tempfile.TemporaryDirectory(prefix="dgsql-load-") as scratch:
        yield Path(scratch) / "data"


def _load(
    dataset: Dataset,
    data_dir: Path,
    to: str,
    pg_schema: str,
    if_exists: IfExists,
    log: Log,
    threads: int | None = None,
) -> None:
    from dgsql.runtime import postgres  # DuckDB, the compiler, psycopg: only when loading

    def progress(line: Progress) -> None:
        fields = dict(line.fields)
        log.message(line.text, event=f"load_{fields.pop('event', 'progress')}", **fields)

    postgres.load(
        dataset, data_dir, to, pg_schema=pg_schema, if_exists=if_exists, progress=progress, threads=threads
    )


app.command("build")(build)
app.command("generate", help="Alias of build (Datagen's name).", hidden=True)(build)


@app.command()
def check(
    schema: SchemaArg,
    seed: SeedOpt = DEFAULT_SEED,
    scale: ScaleOpt = 1.0,
    sample: Sample = None,
    strict: StrictOpt = False,
    quiet: QuietOpt = False,
    log_format: LogFormatOpt = None,
) -> None:
    """Check SCHEMA without generating data: the same problems build and emit-sql report, the planned tables.

    Examples:
      dgsql check schema.json
      dgsql check schema.json --strict       # warnings fail too (CI)
      dgsql check schema.json --scale 100    # expected rows and size at that scale"""
    log = _log(quiet, log_format)

    def action() -> int:
        planned = _plan(schema, log, seed=seed, scale=scale, sample=sample, strict=strict)
        log.plan(planned.dataset.metadata.name, planned.tables)
        log.message("ok: the schema is valid and passes preflight.", event="ok")
        return 0

    _funnel(action, log)


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
        Path | None, typer.Option("--report", help="Also write the JSON report to FILE.", show_default=False)
    ] = None,
    report_o: Annotated[Path | None, typer.Option("-o", hidden=True)] = None,
    threshold: Threshold = DEFAULT_THRESHOLD,
    sql: Annotated[
        bool,
        typer.Option(
            "--sql", help="Print the checks as one script for the DuckDB CLI instead of running them."
        ),
    ] = False,
    html: HtmlOpt = None,
    strict: StrictOpt = False,
    quiet: QuietOpt = False,
    log_format: LogFormatOpt = None,
) -> None:
    """Check the data in DIR against every constraint and target of SCHEMA; print the report.

    Exit 0 when every primary- and foreign-key check passes, no check of a declared law fails
    and the score reaches the threshold; 1 otherwise, 2 on bad input.

    Examples:
      dgsql validate schema.json -d out --report report.json
      dgsql validate schema.json -d out --html report.html    # the checks and charts, offline"""
    log = _log(quiet, log_format)

    def action() -> int:
        import json

        from dgsql.compiler import load
        from dgsql.runtime.validate import checks_script, validate

        target = report_file
        if report_o is not None:  # validate's -o, deprecated in 0.6: -o is a command's main output
            raise UsageError("-o: validate's -o was removed in 0.7.0; write --report FILE.")
        dataset, _, warnings = load(schema)
        if strict and warnings:
            raise SchemaError(warnings)
        log.problems((), warnings)
        if sql:
            sys.stdout.write(checks_script(dataset, data_dir.as_posix()))
            return 0
        report = validate(dataset, data_dir)
        log.report(report)
        if target is not None:
            target.write_text(json.dumps(report.to_json(), indent=2, default=str) + "\n")
        if html is not None:
            _write_html(html, dataset, data_dir, report, log)
        return 0 if report.passed_gate(threshold) else 1

    _funnel(action, log)


@app.command("report")
def report_command(
    schema: SchemaArg,
    data_dir: Annotated[
        Path,
        typer.Option(
            "--data-dir", "-d", help="The build's folder (Parquet, CSV or JSON lines), or its .duckdb file."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="The HTML file to write.")] = Path("report.html"),
    chart_rows: Annotated[
        int,
        typer.Option(
            "--chart-rows", help="Charts read at most the first N rows of a table; 0: every row.", min=0
        ),
    ] = CHART_ROWS,
    strict: StrictOpt = False,
    quiet: QuietOpt = False,
    log_format: LogFormatOpt = None,
) -> None:
    """Write the HTML report of the data in DIR: every check, and every column's declared
    law charted against the data. Opens offline; exit 0 whatever the checks say (2 on bad input).

    Examples:
      dgsql report schema.json -d out -o report.html
      dgsql validate schema.json -d out --html report.html   # the same page, with validate's exit code"""
    log = _log(quiet, log_format)

    def action() -> int:
        from dgsql.compiler import load

        dataset, _, warnings = load(schema)
        if strict and warnings:
            raise SchemaError(warnings)
        log.problems((), warnings)
        _write_html(out, dataset, data_dir, None, log, chart_rows or None)
        return 0

    _funnel(action, log)


@app.command("load")
def load_command(
    schema: SchemaArg,
    data_dir: Annotated[
        Path,
        typer.Option(
            "--data-dir",
            "-d",
            help="The build's folder (any format it writes, part folders), or its .duckdb file.",
        ),
    ],
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="postgresql://user@host:port/db (the password from PGPASSWORD or ~/.pgpass is best; "
            "one in the URL is never printed).",
            show_default=False,
        ),
    ],
    pg_schema: PgSchemaOpt = "public",
    if_exists: IfExistsOpt = IfExists.fail,
    strict: StrictOpt = False,
    quiet: QuietOpt = False,
    log_format: LogFormatOpt = None,
) -> None:
    """Load the tables a build wrote into PostgreSQL, with primary and foreign keys, in one transaction.

    A failed or interrupted load changes nothing. docs/postgres.md has the types and the rules.

    Examples:
      dgsql load schema.json -d out --to postgresql://me@localhost:5432/app
      dgsql load schema.json -d out --to postgresql://me@db/app --pg-schema demo --if-exists replace"""
    log = _log(quiet, log_format)

    def action() -> int:
        from dgsql.compiler import load

        parse_target(to)
        dataset, _, warnings = load(schema)
        if strict and warnings:
            raise SchemaError(warnings)
        log.problems((), warnings)
        _load(dataset, data_dir, to, pg_schema, if_exists, log)
        return 0

    _funnel(action, log)


@app.command("emit-sql")
def emit_sql(
    schema: SchemaArg,
    seed: SeedOpt = DEFAULT_SEED,
    scale: ScaleOpt = 1.0,
    out_dir: Annotated[
        str,
        typer.Option(
            "--out",
            "-o",
            "--out-dir",
            help="The folder the script's COPY statements write (the data folder).",
        ),
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
    parts: PartsOpt = None,
    part: PartOpt = None,
    stage: StageOpt = None,
    strict: StrictOpt = False,
    quiet: QuietOpt = False,
    log_format: LogFormatOpt = None,
) -> None:
    """Print the SQL script that `build` runs; any DuckDB client running it writes the same files.

    Examples:
      dgsql emit-sql schema.json -o out > build.sql
      duckdb -c ".read build.sql"      # the stock DuckDB CLI writes the same rows
      dgsql emit-sql schema.json --into-db > build.sql && duckdb my.db < build.sql
      dgsql emit-sql schema.json --parts 8 --part 3 > part-3.sql"""
    log = _log(quiet, log_format)

    def action() -> int:
        from dgsql.compiler import render
        from dgsql.compiler.parts import Parts, check_parts

        if not out_dir or "\n" in out_dir:
            raise UsageError("--out: give a folder path on one line.")
        if into_db and (fmt is not OutputFormat.parquet or compression is not None):
            raise UsageError("--into-db writes tables, not files: drop --format and --compression.")
        codec = None if into_db else resolve_compression(fmt, compression)
        check_parts(parts, part, stage)
        if parts is not None and part is None:
            raise UsageError("--parts: a script writes one part; give --part I too.")
        planned = _plan(schema, log, seed=seed, scale=scale, sample=None, strict=strict)
        spec = Parts(parts, part, stage) if parts is not None and part is not None else None
        compiled = render(
            planned, out_dir.rstrip("/") or "/", codec, fmt=fmt, into="main" if into_db else None, parts=spec
        )
        sys.stdout.write(compiled.script.text)
        return 0

    _funnel(action, log)


@app.command("spark")
def spark_command(
    schema: SchemaArg,
    out: Annotated[
        str,
        typer.Option(
            "--out",
            "-o",
            help="Output folder every executor reaches (a path or file:// URI).",
            show_default=False,
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
    quiet: QuietOpt = False,
    log_format: LogFormatOpt = None,
) -> None:
    """Generate SCHEMA on Spark: each part of each table a task running DuckDB in the executor.

    The same files as `dgsql build --parts N` (docs/parts.md); needs pip install 'dgsql[spark]'.

    Examples:
      dgsql spark schema.json -o /shared/out --parts 64 --master spark://host:7077
      dgsql spark schema.json -o /tmp/out --parts 8 --master 'local[2]'"""
    log = _log(quiet, log_format)

    def action() -> int:
        from dgsql.compiler.source import read_source
        from dgsql.runtime.spark import run_spark

        codec = resolve_compression(fmt, compression)
        planned = _plan(schema, log, seed=seed, scale=scale, sample=sample, strict=strict)

        def progress(stage: int, done: list, seconds: float) -> None:
            rows = sum(t.rows for p in done for t in p.tables)
            log.message(
                f"  stage {stage}: {len(done)} parts, {rows:,} rows in {seconds:.2f} s",
                event="stage_finished", stage=stage, parts=len(done), rows=rows, seconds=round(seconds, 4),
            )  # fmt: skip

        with log.running("generating on Spark…"):
            result = run_spark(
                planned, read_source(schema)[0], out, parts=parts, master=master, compression=codec, fmt=fmt,
                threads=threads, memory_limit=memory_limit, force=force, on_stage=progress,
            )  # fmt: skip
        log.built(result, out)
        return 0

    _funnel(action, log)


@app.command("schema")
def schema_command(quiet: QuietOpt = False, log_format: LogFormatOpt = None) -> None:
    """Print the DSL's JSON Schema (draft 2020-12), for editors that complete and check schema files.

    Examples:
      dgsql schema > dgsql.schema.json     # then see docs/editors.md"""
    log = _log(quiet, log_format)

    def action() -> int:
        import json

        from dgsql.dsl.json_schema import dataset_json_schema

        sys.stdout.write(json.dumps(dataset_json_schema(), indent=2) + "\n")
        return 0

    _funnel(action, log)


@app.command("create")
def create_command(
    description: Annotated[
        str | None,
        typer.Argument(help="The data, in plain words; - reads it from standard input.", show_default=False),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Schema file to write: .json, .yaml or .yml.")
    ] = Path("schema.json"),
    brief: Annotated[
        Path | None, typer.Option("--file", "-f", help="Read the description (or more of it) from FILE.")
    ] = None,
    rows: Annotated[
        str, typer.Option("--rows", help="Total rows wanted over all tables, e.g. 100k or 2M.")
    ] = "100k",
    build_dir: Annotated[
        Path | None, typer.Option("--build", help="Also build the schema into this folder and validate it.")
    ] = None,
    model: Annotated[
        str | None,
        typer.Option("--model", help="Model name; default $DGSQL_LLM_MODEL.", show_default=False),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="API root of an OpenAI-compatible server; default $DGSQL_LLM_BASE_URL, else OpenAI's.",
            show_default=False,
        ),
    ] = None,
    max_rounds: Annotated[
        int, typer.Option("--max-rounds", help="Drafts at most (the first and its repairs).", min=1, max=20)
    ] = 4,
    no_questions: Annotated[
        bool,
        typer.Option("--no-questions", help="The model asks nothing; it assumes defaults and lists them."),
    ] = False,
    seed: SeedOpt = DEFAULT_SEED,
    max_rows: Annotated[
        str, typer.Option("--max-rows", help="A draft expecting more rows goes back to the model.")
    ] = "10M",
    threshold: Threshold = DEFAULT_THRESHOLD,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds to wait for each answer.", min=0.001)
    ] = 300.0,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing schema file.")] = False,
) -> None:
    """Write a schema from a DESCRIPTION with a language model; every draft is checked, built as a sample
    and validated, its problems sent back, until one passes (docs/create.md).

    Any OpenAI-compatible endpoint; the key comes from DGSQL_LLM_API_KEY (or OPENAI_API_KEY).
    Exit 1 when no draft passes in --max-rounds (the last is saved as <out>.draft.json), 3 when the
    endpoint cannot be reached or refuses.

    Examples:
      dgsql create "E-commerce with customers, products, orders, reviews" -o shop.json --model gpt-4.1-mini
      dgsql create -f brief.md -o iot.yaml --rows 2M --base-url http://localhost:11434/v1 --model qwen2.5-coder:14b
      echo "clinics, patients, visits" | dgsql create - --no-questions --build out"""

    log = _log(False, None)  # create reports through its own console (not yet dgsql.log's events)

    def action() -> int:
        from dgsql.create import command as create_cmd

        return create_cmd.run(
            description=description,
            brief=brief,
            out=out,
            force=force,
            rows=rows,
            max_rows=max_rows,
            max_rounds=max_rounds,
            no_questions=no_questions,
            seed=seed,
            threshold=threshold,
            base_url=base_url,
            model=model,
            timeout=timeout,
            build_dir=build_dir,
            console=log.console(),
        )

    _funnel(action, log)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
