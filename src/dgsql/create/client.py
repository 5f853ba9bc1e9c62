"""The chat-completions client of ``dgsql create``: any OpenAI-compatible endpoint (OpenAI,
Ollama, vLLM, llama.cpp's server, LM Studio, Azure OpenAI) through the official ``openai``
package, imported only when ``create`` runs (``pip install 'dgsql[llm]'``).

Asks for structured output first (the reply's JSON Schema), steps down to JSON mode when the
server refuses that with a 400 or 422, then to plain text; the reply extractor reads all
three. Retries 408, 409, 429, 5xx, timeouts and refused connections a bounded number of times
with exponential backoff (honouring ``Retry-After``); every other failure is one line, exit 3.
The API key goes to the ``openai`` client only: no message of this module contains it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from dgsql.create.prompt import Message, structured_format
from dgsql.errors import DgsqlError, UsageError

OPENAI_URL = "https://api.openai.com/v1"
NO_KEY = "no-key"
"The key sent to a server given by --base-url when none is set (local servers ignore it)."
MODES = ("json_schema", "json_object", "text")
"Reply formats asked for, best first: structured output, JSON mode, plain text."
RETRIED = frozenset({408, 409, 429})
BACKOFF_SECONDS = 1.0
"First wait before a retry, doubled each time (tests make it tiny)."
MAX_WAIT_SECONDS = 60.0
CONNECT_TIMEOUT = 10.0
INSTALL_HINT = "the openai package is not installed; pip install 'dgsql[llm]' (or pip install openai)."


class EndpointError(DgsqlError):
    """The endpoint cannot be reached, refuses the request or keeps failing (exit 3)."""

    exit_code = 3


@dataclass(frozen=True)
class Endpoint:
    """Where to send requests and how. ``api_key`` is never shown (not in ``repr`` either)."""

    base_url: str
    model: str
    api_key: str
    timeout: float = 300.0
    retries: int = 3

    def __repr__(self) -> str:
        return f"Endpoint(base_url={self.shown_url!r}, model={self.model!r})"

    @property
    def shown_url(self) -> str:
        """The base URL without credentials or query (which may hold secrets), for messages."""
        parts = urlsplit(self.base_url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path, "", ""))


def endpoint_from(
    base_url: str | None,
    model: str | None,
    *,
    timeout: float = 300.0,
    retries: int = 3,
    environ: dict[str, str] | None = None,
) -> Endpoint:
    """The endpoint from flags, else ``DGSQL_LLM_BASE_URL`` / ``DGSQL_LLM_MODEL`` /
    ``DGSQL_LLM_API_KEY`` (falling back to ``OPENAI_API_KEY``); raises UsageError (exit 2)."""
    env = os.environ if environ is None else environ
    url = (base_url or env.get("DGSQL_LLM_BASE_URL") or env.get("OPENAI_BASE_URL") or "").strip()
    given = bool(url)
    url = url or OPENAI_URL
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"--base-url: {Endpoint(url, '', '').shown_url!r} is not an http(s) URL; give the API root, "
            "e.g. http://localhost:11434/v1."
        )
    model = (model or env.get("DGSQL_LLM_MODEL") or "").strip()
    if not model:
        raise UsageError("--model: no model named; give --model NAME or set DGSQL_LLM_MODEL.")
    key = (env.get("DGSQL_LLM_API_KEY") or env.get("OPENAI_API_KEY") or "").strip()
    if not key:
        if not given:
            raise UsageError(
                "no API key for OpenAI: set DGSQL_LLM_API_KEY (or OPENAI_API_KEY), or give --base-url "
                "of a server that needs none."
            )
        key = NO_KEY
    return Endpoint(url, model, key, timeout, retries)


@dataclass(frozen=True)
class Completion:
    text: str | None
    finish_reason: str | None
    mode: str
    "The reply format the server answered in (one of MODES)."


def load_openai() -> Any:
    """The ``openai`` module, or UsageError with the install hint (exit 2)."""
    try:
        import openai
    except ImportError:
        raise UsageError(INSTALL_HINT) from None
    return openai


class ChatClient:
    """One conversation's client: remembers the best reply format the server accepted."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        backoff: float | None = None,
        on_note: Callable[[str], None] = lambda _: None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.endpoint = endpoint
        self.backoff = BACKOFF_SECONDS if backoff is None else backoff
        self.on_note = on_note
        self.sleep = sleep
        self.mode = MODES[0]
        self.requests = 0
        openai = load_openai()
        self._errors = openai
        parts = urlsplit(endpoint.base_url)
        query = dict(parse_qsl(parts.query))
        headers = {}
        if "api-version" in query and endpoint.api_key != NO_KEY:
            headers["api-key"] = endpoint.api_key  # Azure OpenAI's deployment URLs read this header
        self._client = openai.OpenAI(
            base_url=urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")),
            api_key=endpoint.api_key,
            timeout=openai.Timeout(endpoint.timeout, connect=min(CONNECT_TIMEOUT, endpoint.timeout)),
            max_retries=0,  # retried here, with a backoff the tests can shorten
            default_headers=headers or None,
            default_query=query or None,
        )

    def complete(self, messages: Sequence[Message]) -> Completion:
        """The model's answer to ``messages``; raises EndpointError (exit 3)."""
        while True:
            try:
                response = self._send(messages)
            except self._errors.APIStatusError as e:
                if e.status_code in (400, 422) and self.mode != MODES[-1]:
                    refused, self.mode = self.mode, MODES[MODES.index(self.mode) + 1]
                    self.on_note(
                        f"the endpoint refused response_format {refused} ({self._status(e)}); "
                        f"asking for {self.mode.replace('_', ' ')} instead."
                    )
                    continue
                raise EndpointError(self._refusal(e)) from None
            return self._completion(response)

    def _send(self, messages: Sequence[Message]) -> Any:
        """One request, retried on 408/409/429/5xx, timeouts and connection errors."""
        openai = self._errors
        kwargs: dict[str, Any] = {"model": self.endpoint.model, "messages": list(messages)}
        if self.mode == "json_schema":
            kwargs["response_format"] = structured_format()
        elif self.mode == "json_object":
            kwargs["response_format"] = {"type": "json_object"}
        tries = self.endpoint.retries + 1
        for attempt in range(tries):
            self.requests += 1
            try:
                return self._client.chat.completions.create(**kwargs)
            except openai.APIStatusError as e:
                if e.status_code not in RETRIED and e.status_code < 500:
                    raise
                if attempt + 1 == tries:
                    raise EndpointError(
                        f"the endpoint {self.endpoint.shown_url} keeps failing ({self._status(e)}; "
                        f"{tries} tries); try again later or check the server."
                    ) from None
                wait = self._wait(attempt, e.response.headers.get("retry-after"))
                self.on_note(f"{self._status(e)}; retrying in {wait:.2g} s ({attempt + 1} of {tries - 1}).")
            except openai.APITimeoutError:
                if attempt + 1 == tries:
                    raise EndpointError(
                        f"the endpoint {self.endpoint.shown_url} did not answer within {self.endpoint.timeout:g} s "
                        f"({tries} tries); raise --timeout or check the server."
                    ) from None
                wait = self._wait(attempt, None)
                self.on_note(f"no answer within {self.endpoint.timeout:g} s; retrying in {wait:.2g} s.")
            except openai.APIConnectionError as e:
                if attempt + 1 == tries:
                    cause = self._redact(
                        str(e.__cause__ or e).splitlines()[0] if str(e.__cause__ or e) else ""
                    )
                    raise EndpointError(
                        f"cannot reach {self.endpoint.shown_url} ({cause or 'connection error'}; {tries} tries); "
                        "start the server or fix --base-url."
                    ) from None
                wait = self._wait(attempt, None)
                self.on_note(f"cannot connect; retrying in {wait:.2g} s.")
            except openai.OpenAIError as e:  # a reply the client cannot read, …
                raise EndpointError(
                    f"the endpoint {self.endpoint.shown_url} answered unreadably ({self._redact(_first_line(e))})."
                ) from None
            self.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _completion(self, response: Any) -> Completion:
        choices = getattr(response, "choices", None) or []
        if not choices:
            raise EndpointError(f"the endpoint {self.endpoint.shown_url} answered without a message.")
        choice = choices[0]
        message = getattr(choice, "message", None)
        refusal = getattr(message, "refusal", None)
        if refusal:
            raise EndpointError(f"the model refused: {self._redact(' '.join(str(refusal).split()))[:300]}")
        text = getattr(message, "content", None)
        return Completion(
            text if isinstance(text, str) else None, getattr(choice, "finish_reason", None), self.mode
        )

    def _wait(self, attempt: int, retry_after: str | None) -> float:
        wait = self.backoff * 2**attempt
        if retry_after is not None:
            try:
                wait = max(wait, float(retry_after))
            except ValueError:
                pass
        return min(wait, MAX_WAIT_SECONDS)

    def _status(self, e: Any) -> str:
        body = getattr(e, "body", None)
        message = body.get("message") if isinstance(body, dict) else None
        if message is None and isinstance(body, dict) and isinstance(body.get("error"), dict):
            message = body["error"].get("message")
        text = " ".join(str(message or "").split())
        text = self._redact(text)[:200]
        return f"HTTP {e.status_code}" + (f": {text}" if text else "")

    def _refusal(self, e: Any) -> str:
        where = self.endpoint.shown_url
        status = self._status(e)
        if e.status_code in (401, 403):
            return f"the endpoint {where} refused the request ({status}); check DGSQL_LLM_API_KEY."
        if e.status_code == 404:
            return (
                f"the endpoint {where} has no such model or path ({status}); check --model, and that "
                "--base-url is the API root (…/v1)."
            )
        return f"the endpoint {where} refused the request ({status})."

    def _redact(self, text: str) -> str:
        key = self.endpoint.api_key
        return text.replace(key, "***") if key and key != NO_KEY else text


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__
