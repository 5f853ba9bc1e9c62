"""Stopping on a signal: SIGTERM (how CI runners, containers and Kubernetes stop a job) is
handled like Ctrl-C, promptly, and the build cleans up after itself (docs/cli.md, "Stopping").

DuckDB runs a statement in C++. Its Python client runs Python's signal handlers between the
tasks it runs on the main thread; a handler that only raises ends the call, but the statement
may run on to its end first (measured: from 0 s to all of it — 13 s of a 14 s ``COPY``, 2 min
of a long count), while ``con.interrupt()`` stops it within ~10 ms. And the main thread can
stay in one DuckDB task for seconds (a SIGTERM 8 s into a 20 s ``COPY`` stopped it 9 s later
with the handler alone, 0.6 s with the watcher). So the signal also wakes a watcher thread through ``signal.set_wakeup_fd``, which
interrupts every connection registered with :func:`interruptible` at once; the handler
interrupts them too (it may run before the watcher) and raises :class:`Stopped`. DuckDB
reports the stop as ``RuntimeError("Query interrupted")`` or ``duckdb.InterruptException``
(and code in between may wrap those), so :func:`stop_on_signals` turns whatever ends a block
that received a signal into :class:`Stopped`.

A library installs no signal handler behind its caller's back: ``dgsql.build`` runs without
one unless the caller wraps it in ``with dgsql.stop_on_signals():``; the CLI does that for
every command. Only the standard library is imported here (the CLI imports it at start).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interruptible(Protocol):
    def interrupt(self) -> None: ...


class Stopped(KeyboardInterrupt):
    """A block under :func:`stop_on_signals` was stopped by signal ``signum``; a process
    ends with ``exit_code`` (128 + the signal's number: 130 for SIGINT, 143 for SIGTERM)."""

    def __init__(self, signum: int, published: bool = False) -> None:
        self.signum = signum
        self.published = published
        "The signal came while the new files were moved into place: they are all there."
        outcome = "the new output is in place" if published else "the previous output is untouched"
        super().__init__(f"interrupted ({signal.Signals(signum).name}); {outcome}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class _State:
    """Process-wide, as signal handlers are. Touched by the handler without a lock: the handler
    runs in the main thread between bytecodes and could otherwise wait on a lock its own thread
    holds; list appends, removals and copies are atomic in CPython."""

    signum: int | None = None
    "The first signal the current :func:`stop_on_signals` block received."
    shielded = 0
    "Depth of :func:`deferred` sections: a signal there is recorded, not raised."
    running: list[Interruptible] = []


@contextmanager
def stop_on_signals(signals: tuple[signal.Signals, ...] = SIGNALS) -> Iterator[None]:
    """Handle ``signals`` (SIGINT and SIGTERM) in the block: a running DuckDB statement of
    dgsql's is interrupted, the block ends with :class:`Stopped`, and the previous handlers
    are restored after it. A second signal while stopping is ignored so that the cleanup
    finishes (SIGKILL still ends the process; the next build removes what it left). Python
    lets only the main thread install handlers: elsewhere the block runs without them."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, _handle) for s in signals}
    outer, _State.signum = _State.signum, None
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)  # set_wakeup_fd's requirement
    previous_wakeup = signal.set_wakeup_fd(wake_write)
    watcher = threading.Thread(target=_watch, args=(wake_read, set(signals)), daemon=True)
    watcher.start()
    try:
        yield
        if _State.signum is not None:  # a signal whose Stopped the block caught itself
            raise Stopped(_State.signum)
    except BaseException as e:
        if _State.signum is None or isinstance(e, Stopped):
            raise
        raise Stopped(_State.signum) from e
    finally:
        signal.set_wakeup_fd(previous_wakeup)
        for s, handler in previous.items():
            signal.signal(s, handler)
        os.close(wake_write)  # the watcher reads the end of the pipe and returns
        watcher.join()
        os.close(wake_read)
        _State.signum = outer


def _watch(wake_read: int, signals: set[int]) -> None:
    """Interrupt the running statements as soon as one of ``signals`` arrives, even while the
    main thread is inside a long DuckDB task and cannot run the Python handler yet."""
    while received := os.read(wake_read, 64):
        if signals.intersection(received):
            _interrupt_running()


def _interrupt_running() -> None:
    for con in list(_State.running):
        con.interrupt()


def _handle(signum: int, _frame: object) -> None:
    if _State.signum is not None:
        return
    _State.signum = signum
    if _State.shielded:
        return
    _interrupt_running()  # the watcher may not have run yet: the statement must stop before the raise
    raise Stopped(signum)


@contextmanager
def interruptible(con: Interruptible) -> Iterator[None]:
    """Register ``con`` so that a signal interrupts its running statement at once."""
    _State.running.append(con)
    try:
        yield
    finally:
        _State.running.remove(con)


@contextmanager
def deferred(published: bool = False) -> Iterator[None]:
    """A section a signal must not cut in half (moving files into place, removing the
    temporary folder): a signal there is raised as :class:`Stopped` when the section ends.
    ``published``: the section puts the new output in place."""
    before = _State.signum
    _State.shielded += 1
    try:
        yield
    finally:
        _State.shielded -= 1
    if before is None and _State.signum is not None and not _State.shielded:
        raise Stopped(_State.signum, published=published)
