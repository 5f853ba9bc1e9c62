"""Headless Chromium, driven over the Chrome DevTools protocol on a pipe (``--remote-debugging-pipe``:
JSON messages separated by NUL bytes on file descriptors 3 and 4), so no websocket client and
no port are needed.

:func:`open_page` loads a file with the network off and reports what the page did: console
messages and exceptions, every request it made, and the value of a script evaluated in it;
it can save a screenshot.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FLAGS = [
    "--headless",
    "--no-sandbox",  # tests run as root in CI containers
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--disable-domain-reliability",
    "--disable-breakpad",
    "--disable-client-side-phishing-detection",
    "--metrics-recording-only",
    "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=http://127.0.0.1:9",
    "--hide-scrollbars",
]
TRAMPOLINE = "import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); os.execv(sys.argv[3], sys.argv[3:])"
LOCAL_SCHEMES = ("file:", "data:", "about:")


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class PageRun:
    console: list[str] = field(default_factory=list)
    "Console errors and uncaught exceptions."
    requests: list[str] = field(default_factory=list)
    "Every URL the page requested."
    value: Any = None
    "The evaluated script's value."

    @property
    def remote_requests(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(LOCAL_SCHEMES)]


def _high(fd: int) -> int:
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return moved


class _Pipe:
    def __init__(self, binary: str, profile: str):
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        # above 3 and 4, so that moving one onto 3 cannot clobber the other
        to_child_r, from_child_w = (_high(fd) for fd in (to_child_r, from_child_w))

        self.log = tempfile.TemporaryFile()
        # the child reads commands on fd 3 and writes replies on fd 4: a Python trampoline moves
        # them there (sh takes no fd above 9; preexec_fn's fds would be closed after it)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                TRAMPOLINE,
                str(to_child_r),
                str(from_child_w),
                binary,
                *FLAGS,
                f"--user-data-dir={profile}",
                "--remote-debugging-pipe",
            ],
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=self.log,
            pass_fds=(to_child_r, from_child_w),
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._next = 0
        self.events: list[dict[str, Any]] = []

    def send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        self._next += 1
        msg: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_child, json.dumps(msg).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {method} within {timeout} s")
            self.events.append(self._read())

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                self.log.seek(0)
                raise RuntimeError(
                    "chromium closed the pipe: " + self.log.read().decode(errors="replace")[-2000:]
                )
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (RuntimeError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_child)
        os.close(self._from_child)
        self.log.close()


def open_page(
    path: Path,
    script: str,
    *,
    screenshot: Path | None = None,
    width: int = 1280,
    height: int = 900,
    full_page: bool = False,
    timeout: float = 30.0,
    binary: str | None = None,
) -> PageRun:
    """Load ``path`` offline in headless Chromium, evaluate ``script`` (an expression; its
    value comes back as JSON) and optionally save a PNG screenshot."""
    binary = binary or chromium()
    if binary is None:
        raise FileNotFoundError("chromium is not installed")
    with tempfile.TemporaryDirectory(prefix="dg-chromium-") as profile:
        pipe = _Pipe(binary, profile)
        try:
            target = pipe.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                pipe.send(f"{domain}.enable", session=session)
            pipe.send(
                "Network.emulateNetworkConditions",
                {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
                session=session,
            )
            pipe.send(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
                session=session,
            )
            pipe.events.clear()
            pipe.send("Page.navigate", {"url": Path(path).resolve().as_uri()}, session=session)
            pipe.wait_for("Page.loadEventFired", timeout)
            result = pipe.send(
                "Runtime.evaluate", {"expression": script, "returnByValue": True}, session=session
            )
            run = PageRun(value=result.get("result", {}).get("value"))
            if "exceptionDetails" in result:
                run.console.append(f"script: {result['exceptionDetails'].get('text')}")
            if screenshot is not None:
                params: dict[str, Any] = {"format": "png", "captureBeyondViewport": full_page}
                if full_page:
                    size = pipe.send(
                        "Runtime.evaluate",
                        {
                            "expression": "[document.body.scrollWidth, document.body.scrollHeight]",
                            "returnByValue": True,
                        },
                        session=session,
                    )["result"]["value"]
                    params["clip"] = {"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1}
                shot = pipe.send("Page.captureScreenshot", params, session=session)
                Path(screenshot).write_bytes(base64.b64decode(shot["data"]))
            pipe.send("Runtime.evaluate", {"expression": "0"}, session=session)  # drain late events
        finally:
            pipe.close()
    for event in pipe.events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            run.console.append(
                " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            )
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            run.console.append(str(details.get("exception", {}).get("description") or details.get("text")))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            run.console.append(params["entry"].get("text", ""))
        elif method == "Network.requestWillBeSent":
            run.requests.append(params.get("request", {}).get("url", ""))
    return run
