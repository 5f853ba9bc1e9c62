"""Parts as Spark tasks (docs/parts.md, "Spark"): the driver plans the stages; each stage is one
Spark job of ``parts`` tasks, each running its part's script in its own DuckDB session inside
the executor and writing its files to the output folder (a path every executor reaches). A
task replaces only its own files, so Spark's retries are safe. The driver prints each stage's
progress and writes ``.metadata.json`` at the end.

PySpark is an optional extra (``pip install 'dgsql[spark]'``), imported only here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dgsql.compiler import Compression, OutputFormat, Planned, plan_schema
from dgsql.compiler.parts import check_format, check_parts, stage_count
from dgsql.errors import UsageError
from dgsql.runtime import session
from dgsql.runtime.parts import PartResult, check_folder, parts_metadata, run_part, write_metadata

LOCAL_SCHEMES = ("file://",)


@dataclass(frozen=True)
class Job:
    """What a task needs to plan and run its part: the schema's object (plans are rebuilt in
    the executor, deterministically) and the options."""

    schema: dict[str, Any]
    seed: int
    scale: float
    sample: int | None
    out: str
    parts: int
    compression: str | None
    format: str
    threads: int | None
    memory_limit: str | None

    def planned(self) -> Planned:
        return plan_schema(self.schema, seed=self.seed, scale=self.scale, sample=self.sample)


def output_path(uri: str) -> Path:
    """The folder of ``--out``: a local path or a ``file://`` URI, which every executor must
    reach (a shared filesystem, or an object store mounted as one)."""
    for scheme in LOCAL_SCHEMES:
        if uri.startswith(scheme):
            return Path(uri[len(scheme) :])
    if "://" in uri:
        raise UsageError(
            f"--out {uri}: parts are written by DuckDB inside each executor, to a path every executor "
            "reaches; mount the store (e.g. /dbfs/…, s3fs, gcsfuse) and give that path."
        )
    return Path(uri)


def _task(job: Job, stage: int, index: int) -> tuple[int, int, list[tuple[str, int, float]], float]:
    """One Spark task: part ``index`` of ``stage`` (picklable: plain values in, plain values out)."""
    done = run_part(
        job.planned(),
        Path(job.out),
        job.parts,
        index,
        stage,
        compression=Compression(job.compression) if job.compression else None,
        fmt=OutputFormat(job.format),
        settings=session.Settings(job.threads, job.memory_limit),
    )
    return done.index, done.stage, [(t.name, t.rows, t.seconds) for t in done.tables], done.seconds


def run_spark(
    planned: Planned,
    schema: dict[str, Any],
    out: str,
    *,
    parts: int,
    master: str | None = None,
    compression: Compression | None,
    fmt: OutputFormat = OutputFormat.parquet,
    threads: int | None = None,
    memory_limit: str | None = None,
    force: bool = False,
    on_stage: Callable[[int, list[PartResult], float], None] = lambda *_: None,
) -> session.BuildResult:
    """Every part of ``planned`` as Spark tasks, stage by stage, into ``out``; ``.metadata.json``."""
    check_parts(parts, None)
    check_format(planned.plan, fmt.value)
    folder = output_path(out)
    check_folder(folder, force)
    folder.mkdir(exist_ok=True)
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError("dgsql spark: PySpark is not installed; pip install 'dgsql[spark]'.") from None
    builder = SparkSession.builder.appName(f"dgsql {planned.dataset.metadata.name}").config(
        "spark.ui.showConsoleProgress",
        "false",  # the driver prints each stage's progress
    )
    if master is not None:
        builder = builder.master(master)
    spark = builder.getOrCreate()
    context = spark.sparkContext
    context.setLogLevel("ERROR")
    task_cpus = int(context.getConf().get("spark.task.cpus", "1"))
    job = Job(
        schema,
        planned.plan.seed,
        planned.plan.scale,
        planned.plan.sample,
        folder.resolve().as_posix(),
        parts,
        compression.value if compression else None,
        fmt.value,
        threads or task_cpus,
        memory_limit,
    )
    started = time.perf_counter()
    done: list[PartResult] = []
    for stage in range(stage_count(planned.plan)):
        t0 = time.perf_counter()
        context.setJobDescription(f"dgsql {planned.dataset.metadata.name}: stage {stage}, {parts} parts")
        rows = context.parallelize(range(parts), parts).map(lambda i, s=stage: _task(job, s, i)).collect()
        results = [
            PartResult(i, s, [session.TableResult(*t) for t in tables], seconds)
            for i, s, tables, seconds in rows
        ]
        done += results
        on_stage(stage, results, time.perf_counter() - t0)
    seconds = time.perf_counter() - started
    meta = parts_metadata(planned, done, parts, compression, fmt, seconds)
    meta["spark"] = {"master": context.master, "task_cpus": task_cpus}
    write_metadata(folder, meta)
    result = session.BuildResult(out_dir=folder, seconds=seconds)
    result.tables = [session.TableResult(name, t["rows"], t["seconds"]) for name, t in meta["tables"].items()]
    return result
