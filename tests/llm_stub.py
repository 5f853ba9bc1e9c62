"""A local OpenAI-compatible chat-completions server for the tests of ``dgsql create``: it
listens on 127.0.0.1 (a free port), answers ``POST /v1/chat/completions`` from a script of
replies, and records every request (headers and JSON body) for the tests to assert on.

It speaks the API's JSON: a request must have ``model`` and ``messages`` (each with ``role``
and string ``content``), and a ``response_format`` of type ``json_schema`` (with ``name`` and
``schema``), ``json_object`` or ``text``; anything else gets OpenAI's 400 error object. Replies
are ``chat.completion`` objects; errors are ``{"error": {"message", "type", "code"}}``.

Script steps (the last one repeats when the script runs out):

- ``Reply(content)``: 200 with that assistant message (a dict is sent as its JSON text);
- ``Status(code, message)``: that HTTP error (``retry_after`` adds the header);
- ``Slow(seconds, step)``: waits, then answers ``step``;
- ``Refuse(formats, step)``: 400 when the request asks for one of ``formats``
  (``"json_schema"``, ``"json_object"``), without using up the step; else answers ``step``.

Nothing here reaches beyond the loopback interface.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    content: str | dict[str, Any] | None
    finish_reason: str = "stop"
    refusal: str | None = None


@dataclass(frozen=True)
class Status:
    code: int
    message: str = "scripted failure"
    retry_after: str | None = None
    kind: str = "server_error"


@dataclass(frozen=True)
class Slow:
    seconds: float
    step: Any


@dataclass(frozen=True)
class Refuse:
    formats: tuple[str, ...]
    step: Any


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def response_format(self) -> str:
        return (self.body.get("response_format") or {}).get("type", "text")

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.body["messages"]

    @property
    def last_user(self) -> str:
        return next(m["content"] for m in reversed(self.messages) if m["role"] == "user")


@dataclass
class StubServer:
    script: list[Any]
    requests: list[Request] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    def __enter__(self) -> StubServer:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw)
                except json.JSONDecodeError:
                    body = {}
                with stub._lock:
                    stub.requests.append(Request(self.path, dict(self.headers.items()), body))
                if self.path.split("?")[0].rstrip("/") != "/v1/chat/completions" and not self.path.startswith(
                    "/openai/"
                ):
                    return self._error(404, f"no route {self.path}", "not_found")
                problem = _invalid(body)
                if problem:
                    return self._error(400, problem, "invalid_request_error")
                self._answer(stub._next(body), body)

            def _answer(self, step: Any, body: dict[str, Any]) -> None:
                if isinstance(step, Slow):
                    time.sleep(step.seconds)
                    return self._answer(step.step, body)
                if isinstance(step, Status):
                    return self._error(step.code, step.message, step.kind, step.retry_after)
                content = step.content if not isinstance(step.content, dict) else json.dumps(step.content)
                message = {"role": "assistant", "content": content, "refusal": step.refusal}
                self._send(
                    200,
                    {
                        "id": f"chatcmpl-{len(stub.requests)}",
                        "object": "chat.completion",
                        "created": 1_700_000_000,
                        "model": body.get("model"),
                        "choices": [{"index": 0, "message": message, "finish_reason": step.finish_reason}],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                    },
                )

            def _error(self, code: int, message: str, kind: str, retry_after: str | None = None) -> None:
                headers = {"Retry-After": retry_after} if retry_after is not None else {}
                self._send(
                    code, {"error": {"message": message, "type": kind, "param": None, "code": None}}, headers
                )

            def _send(
                self, code: int, payload: dict[str, Any], headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self._lock = threading.Lock()
        self._position = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def _next(self, body: dict[str, Any]) -> Any:
        """The step answering ``body``: a refused format answers 400 and keeps the step."""
        with self._lock:
            step = self.script[min(self._position, len(self.script) - 1)]
            if isinstance(step, Refuse):
                if (body.get("response_format") or {}).get("type") in step.formats:
                    return Status(
                        400, "response_format is not supported by this server", kind="invalid_request_error"
                    )
                step = step.step
            self._position += 1
            return step


def _invalid(body: dict[str, Any]) -> str | None:
    """What OpenAI's API would refuse in a request body, or None."""
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "you must provide a model parameter"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages must be a non-empty array"
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant", "developer"):
            return f"messages[{i}].role is invalid"
        if not isinstance(m.get("content"), str):
            return f"messages[{i}].content must be a string"
    fmt = body.get("response_format")
    if fmt is not None:
        kind = fmt.get("type") if isinstance(fmt, dict) else None
        if kind == "json_schema":
            spec = fmt.get("json_schema")
            if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
                return "response_format.json_schema.name is required"
            if not isinstance(spec.get("schema"), dict):
                return "response_format.json_schema.schema must be an object"
        elif kind not in ("json_object", "text"):
            return f"response_format.type {kind!r} is invalid"
    return None
