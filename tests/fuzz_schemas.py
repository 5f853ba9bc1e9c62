"""The long fuzz run: N random mutations of the example schemas, every unexpected outcome kept.

    python tests/fuzz_schemas.py [N=10000] [SEED=0]

Same mutations as ``test_hostile.test_fuzzed_schemas_never_crash`` (drop, rename, retype keys;
out-of-range numbers; random strings), but it does not stop at the first failure: it prints a
summary line per 500 cases and every case whose exit code is not 0/1/2, that prints a traceback,
or that leaves files behind on exit 2. Results are recorded in docs/cli.md (fuzzing).
"""

from __future__ import annotations

import collections
import copy
import json
import random
import sys
import tempfile
from pathlib import Path

from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dgsql.cli import app  # noqa: E402
from test_hostile import BASES, _mutate, _paths  # noqa: E402

JUNK = [None, True, False, 0, -1, 1, 10**12, -(10**12), 0.5, -0.0, 1e300, "", "x", "nodes.id", "ö'\";--",
        [], [1, 2], {}, {"a": 1}]  # fmt: skip


def mutate(rng: random.Random) -> dict:
    doc = copy.deepcopy(rng.choice(BASES))
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(_paths(doc))
        doc = _mutate(
            doc,
            path,
            rng.choice(["drop", "rename", "retype"]),
            rng.choice(JUNK),
            rng.choice(["", "x", "rows"]),
        )
    for node in doc.get("nodes", []) if isinstance(doc.get("nodes"), list) else []:
        if isinstance(node, dict) and isinstance(node.get("rows"), int) and node["rows"] > 3000:
            node["rows"] = 3000
    return doc


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 0)
    runner = CliRunner()
    codes: collections.Counter[int] = collections.Counter()
    bad = 0
    with tempfile.TemporaryDirectory(prefix="dgsql-fuzz-") as tmp:
        for i in range(n):
            doc = mutate(rng)
            case = Path(tmp) / f"c{i}"
            case.mkdir()
            (case / "schema.json").write_text(json.dumps(doc))
            out = case / "out"
            result = runner.invoke(
                app, ["build", str(case / "schema.json"), "-o", str(out), "--sample", "300"]
            )
            codes[result.exit_code] += 1
            problem = (
                result.exit_code not in (0, 1, 2)
                or "Traceback" in result.output
                or (result.exit_code == 2 and out.exists())
                or list(case.glob(".dgsql-tmp-*"))
            )
            if problem:
                bad += 1
                print(f"UNEXPECTED case {i}: exit {result.exit_code}: {result.output.strip()[-300:]}")
                print(json.dumps(doc)[:2000])
            if (i + 1) % 500 == 0:
                print(f"{i + 1} cases: exits {dict(sorted(codes.items()))}, unexpected {bad}", flush=True)
    print(f"done: {n} cases, exits {dict(sorted(codes.items()))}, unexpected {bad}")


if __name__ == "__main__":
    main()
