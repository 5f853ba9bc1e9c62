"""Stopping cleanly: a signal interrupts DuckDB and ends the block with ``Stopped``; the next
build removes the temporary folders a killed build left, only this host's dead ones. The
subprocess builds stopped by a signal or killed are in test_hostile.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

import dgsql
from dgsql.runtime import output, session
from dgsql.runtime.stopping import Stopped, _watch, deferred, interruptible, stop_on_signals

HAS_PROC = Path("/proc/self/stat").exists()


def _signal_soon(sig: int, after: float = 0.3) -> None:
    threading.Timer(after, os.kill, (os.getpid(), sig)).start()


def _temp_folder(parent: Path, host: str, pid: int, start: str, size: int = 1000) -> Path:
    folder = parent / f"{output.TEMP_PREFIX}{host}-{pid}-{start}-0123abcd"
    (folder / ".spill").mkdir(parents=True)
    (folder / "t.parquet").write_bytes(b"x" * size)
    return folder


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()  # reaped: the pid names no process now
    return proc.pid


def test_sweep_removes_only_this_hosts_folders_whose_process_is_gone(tmp_path: Path) -> None:
    host, me, dead = output._host(), os.getpid(), _dead_pid()
    gone = _temp_folder(tmp_path, host, dead, "x", size=1500)
    kept = [
        _temp_folder(tmp_path, host, me, output._start_time(me) or "x"),  # alive: this process
        _temp_folder(tmp_path, "ci-runner-7", dead, "x"),  # another host's, on a shared filesystem
        _temp_folder(tmp_path, f"{host}x", dead, "x"),  # a host whose name only starts like ours
    ]
    old = tmp_path / f"{output.TEMP_PREFIX}{dead}-0123abcd"  # dgsql 0.5.0's name: no host
    old.mkdir()
    assert output.sweep(tmp_path / "out") == [(gone, 1500)]
    assert not gone.exists()
    assert all(p.exists() for p in [*kept, old])


@pytest.mark.skipif(not HAS_PROC, reason="process start times come from /proc")
def test_sweep_tells_a_reused_pid_by_its_start_time(tmp_path: Path) -> None:
    me = os.getpid()
    start = output._start_time(me)
    assert start is not None and start.isdigit()
    reused = _temp_folder(tmp_path, output._host(), me, str(int(start) + 1))  # another process, same pid
    mine = _temp_folder(tmp_path, output._host(), me, start)
    assert output.sweep(tmp_path / "out") == [(reused, 1000)]
    assert mine.exists()


def test_temp_folder_name_carries_host_pid_and_start(tmp_path: Path) -> None:
    name = output.temp_path(tmp_path / "out").name
    found = output.TEMP_NAME.fullmatch(name[len(output.TEMP_PREFIX) :])
    assert found is not None, name
    assert (found["host"], int(found["pid"])) == (output._host(), os.getpid())
    assert found["start"] == (output._start_time(os.getpid()) or "x")


def test_sigterm_interrupts_a_running_statement_and_raises_stopped() -> None:
    previous = signal.getsignal(signal.SIGTERM)
    con = duckdb.connect()
    _signal_soon(signal.SIGTERM)
    started = time.perf_counter()
    with pytest.raises(Stopped) as stopped, stop_on_signals(), interruptible(con):
        # minutes of work on one thread (range() is scanned on one): only an interrupt ends it early
        con.execute("SELECT count(*) FROM range(20_000_000_000) WHERE hash(range) % 7 = 0").fetchall()
    assert time.perf_counter() - started < 30
    assert (stopped.value.signum, stopped.value.exit_code) == (signal.SIGTERM, 143)
    assert str(stopped.value) == "interrupted (SIGTERM); the previous output is untouched"
    assert signal.getsignal(signal.SIGTERM) is previous
    assert con.execute("SELECT 42").fetchall() == [(42,)]  # the connection still works


class FakeConnection:
    def __init__(self) -> None:
        self.interrupts = 0

    def interrupt(self) -> None:
        self.interrupts += 1


def test_a_signal_interrupts_every_registered_connection() -> None:
    running, done = FakeConnection(), FakeConnection()
    with interruptible(done):
        pass
    with pytest.raises(Stopped), stop_on_signals(), interruptible(running):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(10)
    assert (running.interrupts >= 1, done.interrupts) == (True, 0)


def test_the_watcher_interrupts_without_the_main_thread() -> None:
    """The wakeup byte a signal writes is enough: no Python handler has to run first."""
    con = FakeConnection()
    read, write = os.pipe()
    os.write(write, bytes([signal.SIGUSR1, signal.SIGTERM, signal.SIGTERM]))
    os.close(write)
    with interruptible(con):
        _watch(read, {signal.SIGINT, signal.SIGTERM})  # returns at the end of the pipe
    os.close(read)
    assert con.interrupts == 1  # one read held both SIGTERMs; SIGUSR1 is not ours


def test_a_signal_in_python_code_raises_stopped() -> None:
    with pytest.raises(Stopped) as stopped, stop_on_signals():
        _signal_soon(signal.SIGINT, after=0)
        time.sleep(10)
    assert stopped.value.exit_code == 130
    assert isinstance(stopped.value, KeyboardInterrupt)  # callers catching Ctrl-C still do


def test_a_signal_while_files_move_into_place_waits_for_the_move() -> None:
    moved = []
    with pytest.raises(Stopped) as stopped, stop_on_signals():
        with deferred(published=True):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)  # the handler has run: it did not raise here
            moved.append("all files")
    assert moved == ["all files"]
    assert stopped.value.published
    assert str(stopped.value) == "interrupted (SIGTERM); the new output is in place"


def test_whatever_ends_a_signalled_block_becomes_stopped() -> None:
    with pytest.raises(Stopped) as stopped, stop_on_signals():
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(10)
        except Stopped:
            raise RuntimeError("Query interrupted") from None  # what DuckDB's client raises
    assert isinstance(stopped.value.__cause__, RuntimeError)


def test_stop_on_signals_outside_the_main_thread_installs_nothing() -> None:
    seen = []

    def run() -> None:
        with stop_on_signals():
            seen.append(signal.getsignal(signal.SIGTERM))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert seen == [signal.getsignal(signal.SIGTERM)]


def test_the_library_installs_no_handler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    during = {}
    real_run = session.run

    def spy(*args, **kwargs):
        during.update({s: signal.getsignal(s) for s in before})
        return real_run(*args, **kwargs)

    monkeypatch.setattr(session, "run", spy)
    dgsql.build(Path(__file__).parents[1] / "examples" / "hr_org.json", tmp_path / "out")
    assert during == before
