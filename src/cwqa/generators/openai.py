"""The `openai` generator: any OpenAI-compatible chat-completions endpoint.

Works with OpenAI itself and with the servers that speak its protocol: Ollama
(`http://localhost:11434/v1`), llama.cpp's server, vLLM, LM Studio. Options come from
`settings.generator_options` first, then the environment:

    base_url         OPENAI_BASE_URL      (default https://api.openai.com/v1)
    api_key          OPENAI_API_KEY       (optional for local servers)
    model            CWQA_OPENAI_MODEL    (default gpt-4o-mini)
    context_tokens   passages' token budget in the prompt (tiktoken; default 3000)
    max_tokens       reply length (default 400)
    connect_timeout / read_timeout        seconds (default 5 / 60)
    retries / backoff                     extra attempts on 429, 5xx and connection errors (2),
                                          first wait in seconds, doubled each time (0.5)
    fallback         "extractive" to answer extractively when the endpoint fails
"""

from __future__ import annotations

import json
import os
import time
from typing import Iterator, Sequence

import httpx

from ..answers.model import Answer, BackendError, answer_from_text
from ..answers.options import OpenAIOptions
from ..answers.plugins import Generator
from ..answers.prompt import build_messages
from ..chunking import tiktoken_counter
from ..config import Settings
from ..passages import Hit

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "gpt-4o-mini"
MAX_WAIT = 8.0  # seconds: cap on one backoff wait, even when Retry-After asks for more

# Worth another attempt: the server is busy or broken for now, or the connection failed.
_RETRY_STATUS = {429, 500, 502, 503, 504}
_CONNECTION_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)


def _one_line(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class OpenAIGenerator(Generator):
    """Asks an OpenAI-compatible chat endpoint (OpenAI, Ollama, llama.cpp, vLLM, LM Studio)."""

    name = "openai"
    options_type = OpenAIOptions

    def __init__(self, settings: Settings | None = None):
        super().__init__(settings)
        options, env = self.options, os.environ
        self.base_url = (options.base_url or env.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        self.model = options.model or env.get("CWQA_OPENAI_MODEL") or DEFAULT_MODEL
        self.api_key = options.api_key or env.get("OPENAI_API_KEY") or ""
        self.context_tokens = options.context_tokens
        self.max_tokens = options.max_tokens
        self.temperature = options.temperature
        self.timeout = httpx.Timeout(connect=options.connect_timeout, read=options.read_timeout, write=10.0, pool=5.0)
        self.retries = options.retries
        self.backoff = options.backoff

    @property
    def url(self) -> str:
        return f"{self.base_url}/chat/completions"

    def payload(self, question: str, hits: Sequence[Hit], stream: bool = False) -> dict:
        """The request body: the shared prompt with the passages trimmed to the token budget."""
        return {
            "model": self.model,
            "messages": build_messages(question, hits, self.context_tokens, tiktoken_counter()),
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "stream": stream,
        }

    def generate(self, question: str, hits: Sequence[Hit]) -> Answer:
        """One request; the reply's text becomes the answer (checked later by verification)."""
        with httpx.Client(timeout=self.timeout) as client:
            response = self._send(client, self.payload(question, hits))
            try:
                body = self._read(response)
            finally:
                response.close()
        return answer_from_text(question, self._message_text(body), hits, self.name)

    def stream(self, question: str, hits: Sequence[Hit]) -> Iterator[str]:
        """Server-sent events (`stream: true`): yields text pieces as they arrive."""
        pieces: list[str] = []
        with httpx.Client(timeout=self.timeout) as client:
            response = self._send(client, self.payload(question, hits, stream=True))
            try:
                for piece in self._events(response):
                    pieces.append(piece)
                    yield piece
            finally:
                response.close()
        return answer_from_text(question, "".join(pieces), hits, self.name)

    # -- HTTP -----------------------------------------------------------------------------------

    def _headers(self) -> dict:
        headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def _send(self, client: httpx.Client, payload: dict) -> httpx.Response:
        """POST with bounded retries; returns an open 2xx response (the caller closes it)."""
        attempts = self.retries + 1
        for attempt in range(1, attempts + 1):
            try:
                request = client.build_request("POST", self.url, json=payload, headers=self._headers())
                response = client.send(request, stream=True)
            except httpx.ReadTimeout:
                # A slow model is not helped by asking again: say so at once.
                raise BackendError(f"openai: no reply from {self.url} within {self.timeout.read:g} s (read timeout)")
            except _CONNECTION_ERRORS as error:
                if attempt == attempts:
                    raise BackendError(
                        f"openai: cannot reach {self.url} after {attempts} attempts ({type(error).__name__}: {_one_line(error)})"
                    )
                self._wait(attempt, None)
                continue
            except httpx.HTTPError as error:
                raise BackendError(f"openai: request to {self.url} failed ({type(error).__name__}: {_one_line(error)})")
            if response.is_success:
                return response
            detail = self._error_detail(response)
            if response.status_code in _RETRY_STATUS and attempt < attempts:
                self._wait(attempt, response.headers.get("Retry-After"))
                continue
            after = f" after {attempt} attempts" if attempt > 1 else ""
            raise BackendError(f"openai: {self.url} answered {response.status_code}{after}: {detail}")
        raise AssertionError("unreachable")  # the loop always returns or raises

    def _wait(self, attempt: int, retry_after: str | None) -> None:
        delay = self.backoff * 2 ** (attempt - 1)
        if retry_after:
            try:
                delay = float(retry_after)
            except ValueError:
                pass  # an HTTP date: keep the exponential delay
        time.sleep(min(max(delay, 0.0), MAX_WAIT))

    @staticmethod
    def _error_detail(response: httpx.Response) -> str:
        try:
            text = response.read().decode("utf-8", "replace")
        except httpx.HTTPError:
            return response.reason_phrase
        finally:
            response.close()
        try:
            message = json.loads(text).get("error", {})
            text = message.get("message", text) if isinstance(message, dict) else str(message)
        except (ValueError, AttributeError):
            pass
        return _one_line(text or response.reason_phrase)

    def _read(self, response: httpx.Response) -> dict:
        try:
            raw = response.read()
        except httpx.ReadTimeout:
            raise BackendError(f"openai: reply from {self.url} stalled beyond {self.timeout.read:g} s (read timeout)")
        except httpx.HTTPError as error:
            raise BackendError(f"openai: reply from {self.url} broke off ({type(error).__name__})")
        try:
            body = json.loads(raw)
        except ValueError:
            raise BackendError(f"openai: malformed reply from {self.url} (not JSON: {_one_line(raw[:80].decode('utf-8', 'replace'))})")
        if not isinstance(body, dict):
            raise BackendError(f"openai: malformed reply from {self.url} (expected a JSON object)")
        return body

    def _message_text(self, body: dict) -> str:
        try:
            content = body["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise BackendError(f"openai: malformed reply from {self.url} (no choices[0].message.content)")
        if not isinstance(content, str):
            raise BackendError(f"openai: malformed reply from {self.url} (content is not text)")
        return content

    def _events(self, response: httpx.Response) -> Iterator[str]:
        """Text pieces from an SSE body: `data: {json}` lines, ending with `data: [DONE]`."""
        if response.headers.get("content-type", "").startswith("application/json"):
            # A server that ignores `stream: true` sends one whole reply: pass it on as one piece.
            yield self._message_text(self._read(response))
            return
        try:
            for line in response.iter_lines():
                if not line.startswith("data:"):
                    continue  # blank separators, comments, "event:" lines
                data = line[len("data:") :].strip()
                if data == "[DONE]":
                    return
                try:
                    event = json.loads(data)
                    delta = event["choices"][0].get("delta") or {}
                except (ValueError, KeyError, IndexError, TypeError, AttributeError):
                    raise BackendError(f"openai: malformed stream event from {self.url}: {_one_line(data, 80)}")
                piece = delta.get("content") if isinstance(delta, dict) else None
                if piece:
                    yield piece
        except httpx.ReadTimeout:
            raise BackendError(f"openai: stream from {self.url} stalled beyond {self.timeout.read:g} s (read timeout)")
        except httpx.HTTPError as error:
            raise BackendError(f"openai: stream from {self.url} broke off ({type(error).__name__})")
