"""Each optimisation's measured gain: the same build with the optimisation switched off and on.

    python bench/optimisations.py [--repeat 3]

Every run is a fresh process (`dgsql` built in-process there); "off" patches the compiler back
to the plain technique. Reports the median wall seconds and CPU seconds of the build (DuckDB's
threads included) and writes bench/results/optimisations.md. No test asserts on these times.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

CHILD = """
import json, resource, sys, time
from pathlib import Path
from dgsql.compiler import compile_schema, plan as plan_module
from dgsql.runtime import session
off, schema, scale, out = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3]), Path(sys.argv[4])
if off == "recompute":
    plan_module._pure_columns = lambda *a, **k: frozenset()
compiled = compile_schema(schema, seed=42, scale=scale, out_dir=out.as_posix())
out.mkdir(parents=True, exist_ok=True)
r0 = resource.getrusage(resource.RUSAGE_SELF)
result = session.run(compiled, session.connect(session.Settings()))
r1 = resource.getrusage(resource.RUSAGE_SELF)
cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
print(json.dumps({"wall": result.seconds, "cpu": cpu, "rows": result.rows, "rss_mb": r1.ru_maxrss / 1024}))
"""

CASES = [
    (
        "recompute",
        "lookups recompute pure columns at the picked row instead of joining (and sorting)",
        ROOT / "tests" / "acceptance" / "ride_hailing.json",
        2.0,
    ),
    (
        "recompute",
        "the same, at ten times the rows",
        ROOT / "tests" / "acceptance" / "ride_hailing.json",
        20.0,
    ),
]


def run(off: str, schema: Path, scale: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="dgsql-opt-") as tmp:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, off, str(schema), str(scale), str(Path(tmp) / "out")],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    lines = [
        "# Optimisations: measured gains\n",
        f"`python bench/optimisations.py --repeat {args.repeat}`: median of {args.repeat} fresh processes each; "
        "CPU seconds include DuckDB's threads.\n",
        "| optimisation | schema | rows | off: wall s / CPU s / peak RSS MB | on: wall s / CPU s / peak RSS MB | wall gain |",
        "|---|---|---|---|---|---|",
    ]
    for name, what, schema, scale in CASES:
        off = [run(name, schema, scale) for _ in range(args.repeat)]
        on = [run("none", schema, scale) for _ in range(args.repeat)]
        wall_off, wall_on = (statistics.median(r["wall"] for r in rs) for rs in (off, on))
        cpu_off, cpu_on = (statistics.median(r["cpu"] for r in rs) for rs in (off, on))
        rss_off, rss_on = (statistics.median(r["rss_mb"] for r in rs) for rs in (off, on))
        lines.append(
            f"| {what} | {schema.stem} ×{scale:g} | {on[0]['rows']:,} | {wall_off:.2f} / {cpu_off:.2f} / {rss_off:.0f} | "
            f"{wall_on:.2f} / {cpu_on:.2f} / {rss_on:.0f} | {wall_off / wall_on:.2f}× |"
        )
    text = "\n".join(lines) + "\n"
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "optimisations.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
