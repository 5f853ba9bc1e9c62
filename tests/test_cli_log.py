"""The command line for scripts (issue 16): -q, --log-format json, one meaning per short flag,
shell completion, and commands that import only what they need."""

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main

from dgsql.cli import app
from dgsql.dsl.problems import Problem, warning
from dgsql.log import Log, LogFormat, progress_text
from dgsql.runtime import progress

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
HR = ROOT / "examples" / "hr_org.json"
COMMANDS = ["build", "generate", "emit-sql", "check", "validate", "schema"]


def events(stderr: str) -> list[dict]:
    """Every stderr line as JSON: the test fails on a line that is not."""
    return [json.loads(line) for line in stderr.splitlines()]


def bad_schema(tmp_path: Path) -> Path:
    schema = json.loads(HR.read_text())
    schema["nodes"][1]["rows"] = -1
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(schema))
    return path


def warned_schema(tmp_path: Path) -> Path:
    """hr_org with one warning: a nullable column without null_rate."""
    schema = json.loads(HR.read_text())
    column = schema["nodes"][1]["columns"][-1]
    column["nullable"] = True
    column.pop("null_rate", None)
    path = tmp_path / "warned.json"
    path.write_text(json.dumps(schema))
    return path


# ------------------------------------------------------------------ start-up


def python(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``code`` run by a fresh Python that imports this checkout's dgsql."""
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env or {"PYTHONPATH": str(SRC)},
        check=False,
    )


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["build", "--help"], ["validate", "--help"]])
def test_version_and_help_import_neither_duckdb_faker_nor_sqlglot(args):
    code = (
        "import sys\n"
        f"sys.argv = ['dgsql', *{args!r}]\n"
        "from dgsql.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = ('duckdb', 'faker', 'sqlglot', 'networkx', 'dgsql.compiler', 'dgsql.runtime.session')\n"
        "print(sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    done = python(code)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "[]"


def test_a_build_imports_no_faker_and_starts_one_duckdb(tmp_path):
    code = (
        "import sys\n"
        f"sys.argv = ['dgsql', 'build', {str(HR)!r}, '-o', {str(tmp_path / 'out')!r}, '--scale', '0.1', '-q']\n"
        "from dgsql.cli import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
        "heavy = ('faker', 'networkx', 'yaml', 'rich', 'dgsql.runtime.validate')\n"
        "print([m for m in heavy if m in sys.modules], file=sys.stderr)\n"
        "render = sys.modules['dgsql.compiler.render']\n"
        "assert render._own_parser.cache_info().currsize == 0, 'a second DuckDB to parse-check'\n"
    )
    done = python(code)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "[]"


def test_import_dgsql_is_lazy_and_complete():
    code = (
        "import sys, dgsql\n"
        "assert 'duckdb' not in sys.modules, 'import dgsql loaded DuckDB'\n"
        "missing = [n for n in dgsql.__all__ if not hasattr(dgsql, n)]\n"
        "assert not missing, missing\n"
        "assert set(dgsql.__all__) <= set(dir(dgsql))\n"
        "print('ok')\n"
    )
    done = python(code)
    assert done.stdout.strip() == "ok", done.stderr


# ------------------------------------------------------------------ -q and --log-format json


def test_text_build_log_lists_tables_and_a_summary(dg, tmp_path):
    result = dg.cli("build", HR, "-o", tmp_path / "out", "--scale", "0.1")
    lines = result.stderr.splitlines()
    assert lines[:3] == [
        f"  {t}: {rows:,} rows in {line.split(' in ')[1]}"
        for t, rows, line in zip(
            ["department", "employee", "leave_request"], [6, 250, 918], lines, strict=False
        )
    ]
    assert lines[3] == f"wrote {tmp_path / 'out'}"
    assert lines[4].split() == ["table", "rows", "seconds", "rows/s"]
    assert lines[-1].split()[:2] == ["total", "1,174"]


def test_quiet_build_says_nothing_and_still_writes(dg, tmp_path):
    result = dg.cli("build", HR, "-o", tmp_path / "out", "--scale", "0.1", "-q")
    assert result.exit_code == 0
    assert result.stderr == ""
    assert (tmp_path / "out" / "employee.parquet").exists()


def test_quiet_keeps_errors_and_drops_warnings(dg, tmp_path):
    result = dg.cli("check", warned_schema(tmp_path), "--quiet")
    assert result.exit_code == 0 and result.stderr == ""
    loud = dg.cli("check", warned_schema(tmp_path))
    assert any(line.startswith("warning: nodes[1].columns[") for line in loud.stderr.splitlines())
    failed = dg.cli("check", bad_schema(tmp_path), "-q")
    assert failed.exit_code == 2
    assert failed.stderr.splitlines() and all(
        line.startswith("error: ") for line in failed.stderr.splitlines()
    )


def test_json_build_log_has_tables_and_summary(dg, tmp_path):
    result = dg.cli("build", HR, "-o", tmp_path / "out", "--scale", "0.1", "--log-format", "json")
    assert result.exit_code == 0, result.stderr
    log = events(result.stderr)
    started = [e["table"] for e in log if e["event"] == "table_started"]
    finished = {e["table"]: e for e in log if e["event"] == "table_finished"}
    assert started == ["department", "employee", "leave_request"] == list(finished)
    assert all(e["rows"] > 0 and e["seconds"] >= 0 for e in finished.values())
    (summary,) = [e for e in log if e["event"] == "summary"]
    assert summary["command"] == "build" and summary["rows"] == sum(e["rows"] for e in finished.values())
    meta = json.loads((tmp_path / "out" / ".metadata.json").read_text())
    assert {t["table"]: t["rows"] for t in summary["tables"]} == {
        k: v["rows"] for k, v in meta["tables"].items()
    }
    assert result.stdout == ""


def test_json_log_given_before_the_command(dg, tmp_path):
    result = dg.cli("--log-format", "json", "-q", "build", bad_schema(tmp_path), "-o", tmp_path / "out")
    assert result.exit_code == 2
    (problem,) = events(result.stderr)
    assert problem["event"] == "problem" and problem["severity"] == "error"
    assert problem["path"] == "nodes[1].rows"
    assert problem["line"].startswith("nodes[1].rows: ") and problem["fix"]
    assert not (tmp_path / "out").exists()


def test_json_problems_and_warnings_carry_path_message_and_fix(dg, tmp_path):
    result = dg.cli("check", warned_schema(tmp_path), "--log-format", "json")
    assert result.exit_code == 0
    log = events(result.stderr)
    warnings = [e for e in log if e["event"] == "problem"]
    assert warnings and all(e["severity"] == "warning" for e in warnings)
    for e in warnings:
        assert e["line"] == f"{e['path']}: {e['message']}; {e['fix']}"
    (summary,) = [e for e in log if e["event"] == "summary"]
    assert summary["command"] == "check" and [t["table"] for t in summary["tables"]][0] == "department"
    strict = events(dg.cli("check", warned_schema(tmp_path), "--strict", "--log-format", "json").stderr)
    assert {e["severity"] for e in strict if e["event"] == "problem"} == {"error"}


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_takes_quiet_and_log_format(dg, command):
    result = dg.cli(command, "--help")
    assert result.exit_code == 0
    assert "--quiet" in result.stdout and "--log-format" in result.stdout


def test_json_errors_other_than_problems(dg, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "mine.txt").write_text("x")
    result = dg.cli("build", HR, "-o", tmp_path / "out", "--log-format", "json")
    assert result.exit_code == 2
    (error,) = [e for e in events(result.stderr) if e["event"] == "error"]
    assert error["exit_code"] == 2 and "not empty" in error["message"]


def test_validate_json_log_has_the_report(dg, tmp_path):
    assert dg.cli("build", HR, "-o", tmp_path / "out", "--scale", "0.1", "-q").exit_code == 0
    result = dg.cli("validate", HR, "-d", tmp_path / "out", "--log-format", "json")
    (report,) = [e for e in events(result.stderr) if e["event"] == "report"]
    assert "quality_score" in json.dumps(report)
    assert result.exit_code in (0, 1)


# ------------------------------------------------------------------ flags


@pytest.mark.parametrize("flag", ["-o", "--out", "--out-dir"])
def test_build_output_flag_spellings(dg, tmp_path, flag):
    result = dg.cli("build", HR, flag, tmp_path / "data", "--scale", "0.1", "-q")
    assert result.exit_code == 0
    assert (tmp_path / "data" / ".metadata.json").exists()


@pytest.mark.parametrize("flag", ["-o", "--out", "--out-dir"])
def test_emit_sql_output_flag_spellings(dg, flag):
    result = dg.cli("emit-sql", HR, flag, "elsewhere")
    assert result.exit_code == 0 and "'elsewhere/employee.parquet'" in result.stdout


def test_validate_report_flag_and_its_removed_o(dg, tmp_path):
    assert dg.cli("build", HR, "-o", tmp_path / "out", "--scale", "0.1", "-q").exit_code == 0
    assert dg.cli("validate", HR, "-d", tmp_path / "out", "--report", tmp_path / "r1.json").exit_code == 0
    assert "quality_score" in (tmp_path / "r1.json").read_text()
    old = dg.cli("validate", HR, "-d", tmp_path / "out", "-o", tmp_path / "r2.json")
    assert old.exit_code == 2 and old.errors == [
        "-o: validate's -o was removed in 0.7.0; write --report FILE."
    ]
    assert not (tmp_path / "r2.json").exists()


def test_docs_table_of_short_flags_matches_the_commands():
    """docs/cli.md's table: each short flag names one thing, and every command follows it."""
    table = (ROOT / "docs" / "cli.md").read_text().split("## Short flags")[1].split("\n## ")[0]
    for row in ("| `-o` | `--out` |", "| `-d` | `--data-dir` |", "| `-f` |", "| `-q` | `--quiet` |"):
        assert row in table
    meaning = {"-o": "--out", "-d": "--data-dir", "-f": "--file", "-q": "--quiet"}
    group = typer.main.get_command(app)
    seen = set()
    for name, command in [("", group), *group.commands.items()]:
        for param in command.params:
            for short in [o for o in param.opts if len(o) == 2]:
                if (name, short) == ("validate", "-o"):  # removed; kept hidden to say what to write
                    assert param.hidden and param.opts == ["-o"]
                    continue
                assert short in meaning, f"{name} {short}: not in docs/cli.md's table"
                assert meaning[short] in param.opts, f"{name} {short} means {param.opts}"
                seen.add(short)
    assert seen == set(meaning)


def test_shell_completion_is_enabled(dg):
    assert "--install-completion" in dg.cli("--help").stdout
    script = dg.cli("--show-completion", "bash")
    assert script.exit_code == 0 and "complete" in script.stdout


# ------------------------------------------------------------------ the log and progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_on_a_terminal_only_in_text():
    assert Log(LogFormat.text, stream=Terminal()).shows_progress
    assert not Log(LogFormat.text, stream=io.StringIO()).shows_progress
    assert not Log(LogFormat.json, stream=Terminal()).shows_progress
    assert not Log(LogFormat.text, quiet=True, stream=Terminal()).shows_progress


def test_progress_text_has_rows_and_eta():
    assert progress_text(0.5, 2.0, 1_000_000) == "~500,000 of ~1,000,000 rows, ETA 2 s"
    assert progress_text(0.0, 2.0, 10) == "~0 of ~10 rows, ETA unknown"


def test_text_problems_cut_after_shown():
    stream = io.StringIO()
    errors = [Problem(f"nodes[{i}]", "bad; fix it.") for i in range(5)]
    Log(stream=stream).problems(errors, [warning("$", "odd; look.")], shown=2)
    assert stream.getvalue().splitlines() == [
        "error: nodes[0]: bad; fix it.",
        "error: nodes[1]: bad; fix it.",
        "error: ... and 3 more",
        "warning: $: odd; look.",
    ]


class SlowQuery:
    """A connection whose statement is a quarter done (query_progress gives percent)."""

    def query_progress(self) -> float:
        return 25.0


def test_watch_reports_the_running_statements_share(monkeypatch):
    import threading

    monkeypatch.setattr(progress, "EVERY", 0.01)
    seen: list[tuple[str, float]] = []
    heard = threading.Event()

    def report(table: str, done: float, seconds: float) -> None:
        seen.append((table, done))
        heard.set()

    with progress.watch(SlowQuery(), "orders", report):  # type: ignore[arg-type]
        assert heard.wait(10)
    assert seen[0] == ("orders", 0.25)
    count = len(seen)
    heard.clear()
    assert not heard.wait(0.05) and len(seen) == count  # the thread stopped with the block


def test_debug_traceback_goes_through_the_log():
    text, lines = io.StringIO(), io.StringIO()
    try:
        raise ValueError("boom")
    except ValueError:
        Log(stream=text).traceback()
        Log(LogFormat.json, stream=lines).traceback()
    assert text.getvalue().startswith("Traceback") and "ValueError: boom" in text.getvalue()
    (event,) = events(lines.getvalue())
    assert event["event"] == "traceback" and "ValueError: boom" in event["text"]


@pytest.mark.parametrize("cache", ["on", "off", "unwritable"])
def test_compiled_templates_are_cached_per_user_or_not_at_all(tmp_path, cache):
    root = tmp_path / "cache"
    env = {"PYTHONPATH": str(SRC), "XDG_CACHE_HOME": str(root)}
    if cache == "off":
        env["DGSQL_NO_CACHE"] = "1"
    if cache == "unwritable":
        root.write_text("a file where the cache folder would go")
    code = "import dgsql\nprint(len(str(dgsql.compile(" + repr(str(HR)) + ", out_dir='out'))))\n"
    runs = [python(code, env) for _ in range(2)]
    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr
    assert runs[0].stdout == runs[1].stdout  # the second run reads what the first one wrote
    cached = sorted((root / "dgsql" / "templates").glob("*.cache")) if root.is_dir() else []
    assert bool(cached) == (cache == "on")
