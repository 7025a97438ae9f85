"""The `openai` generator against a real HTTP server on 127.0.0.1 that speaks the
chat-completions protocol: plain and streamed replies, slowness, transient and persistent
failures, malformed bodies and a reply citing a passage that was never given."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cwqa.answers.model import ABSTAIN_PHRASE, BackendError
from cwqa.answers.options import OpenAIOptions
from cwqa.answers.plugins import get_generator
from cwqa.answers.run import generate_answer, stream_answer
from cwqa.config import Settings
from cwqa.errors import ConfigError, CwqaError
from cwqa.generators.openai import OpenAIGenerator
from test_generation import PASSAGES, NoEmbedder, make_hit

ANSWER = "Kennan wrote that Soviet power is impervious to logic of reason [2]. It does not work by fixed plans. [2]"


class ChatServer(BaseHTTPRequestHandler):
    """Behaves according to the first path segment: /<scenario>/v1/chat/completions."""

    protocol_version = "HTTP/1.1"
    requests: list[dict] = []
    counts: dict[str, int] = {}

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        scenario = self.path.strip("/").split("/")[0]
        ChatServer.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        ChatServer.counts[scenario] = ChatServer.counts.get(scenario, 0) + 1
        seen = ChatServer.counts[scenario]
        if scenario == "normal":
            return self._json(200, _completion(ANSWER))
        if scenario == "abstain":
            return self._json(200, _completion(ABSTAIN_PHRASE))
        if scenario == "cite7":
            return self._json(200, _completion("It does not take unnecessary risks. [2] It plans a war in 1947 [7]."))
        if scenario == "stream":
            return self._sse(["Kennan wrote that ", "Soviet power is impervious to logic of reason [", "2]. ", "It invades [", "9", "]."])
        if scenario == "slow":
            time.sleep(1.5)
            return self._json(200, _completion(ANSWER))
        if scenario == "flaky":  # one failure, then success
            return self._json(503, {"error": {"message": "overloaded"}}) if seen == 1 else self._json(200, _completion(ANSWER))
        if scenario == "ratelimited":
            if seen == 1:
                return self._json(429, {"error": {"message": "slow down"}}, {"Retry-After": "0"})
            return self._json(200, _completion(ANSWER))
        if scenario == "down":
            return self._json(500, {"error": {"message": "model crashed\nwith a traceback"}})
        if scenario == "unauthorised":
            return self._json(401, {"error": {"message": "Incorrect API key provided"}})
        if scenario == "malformed":
            return self._raw(200, b"{'this is': not json", "application/json")
        if scenario == "nochoices":
            return self._json(200, {"id": "x", "choices": []})
        self._json(404, {"error": {"message": f"no scenario {scenario}"}})

    def _json(self, status, payload, headers=None):
        self._raw(status, json.dumps(payload).encode(), "application/json", headers)

    def _raw(self, status, data: bytes, content_type: str, headers=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _sse(self, pieces):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        for piece in pieces:
            event = {"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
            self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b'data: {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}\n\ndata: [DONE]\n\n')
        self.close_connection = True


def _completion(text: str) -> dict:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": "test-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
    }


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), ChatServer)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def fresh_log():
    ChatServer.requests.clear()
    ChatServer.counts.clear()


@pytest.fixture(scope="module")
def hits():
    extra = [
        "Soviet efforts will be directed toward deepening differences between capitalist powers.",
        "Everything possible will be done to set major Western Powers against each other.",
    ]
    return [make_hit(text, n) for n, text in enumerate(PASSAGES + extra, start=1)]


@pytest.fixture(scope="module")
def embedder():
    from cwqa.embedding import get_embedder

    return get_embedder(Settings().model)


def openai(server, scenario, **options):
    options = {"base_url": f"{server}/{scenario}/v1", "model": "test-model", "api_key": "sk-test",
               "retries": 2, "backoff": 0.01, "read_timeout": 5, **options}
    return get_generator("openai", Settings(generator_options=options))


def test_an_answer_comes_back_with_verified_citations(server, hits, embedder):
    answer = generate_answer(openai(server, "normal"), "Does the Kremlin follow fixed plans?", hits, embedder)
    assert answer.generator == "openai" and not answer.abstained
    assert [s.citations for s in answer.sentences] == [[2], [2]]
    assert answer.sentences[1].method == "verbatim" and all(s.supported for s in answer.sentences)


def test_the_request_carries_model_key_and_numbered_cited_passages(server, hits, embedder):
    generate_answer(openai(server, "normal"), "Does the Kremlin follow fixed plans?", hits, embedder)
    (request,) = ChatServer.requests
    assert request["path"] == "/normal/v1/chat/completions" and request["auth"] == "Bearer sk-test"
    body = request["body"]
    assert body["model"] == "test-model" and body["stream"] is False and body["temperature"] == 0
    system, user = body["messages"]
    assert ABSTAIN_PHRASE in system["content"] and "[n]" in system["content"]
    assert '[1] Kennan, "Long Telegram", 22 Feb 1946, ¶1, p. 696\nUSSR still lives' in user["content"]
    assert "[5] " in user["content"] and "Question: Does the Kremlin follow fixed plans?" in user["content"]


def test_passages_beyond_the_token_budget_are_left_out_of_the_prompt(server, hits, embedder):
    generate_answer(openai(server, "normal", context_tokens=120), "q?", hits, embedder)
    user = ChatServer.requests[0]["body"]["messages"][1]["content"]
    assert "[1] " in user and "[5] " not in user


def test_options_fall_back_to_the_environment(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1/")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("CWQA_OPENAI_MODEL", "llama3.2")
    generator = OpenAIGenerator(Settings())
    assert (generator.url, generator.api_key, generator.model) == ("http://127.0.0.1:11434/v1/chat/completions", "sk-env", "llama3.2")
    assert generator.options == OpenAIOptions()  # nothing configured: the environment decides
    configured = OpenAIGenerator(Settings(generator_options={"model": "qwen2.5"}))
    assert configured.model == "qwen2.5"  # the config file's option wins over the environment


def test_options_are_typed_and_a_bad_value_is_a_one_line_error_naming_it():
    generator = get_generator("openai", Settings(generator_options={"retries": "3", "read_timeout": 2, "base_url": "http://x/v1"}))
    assert generator.options == OpenAIOptions(base_url="http://x/v1", read_timeout=2.0, retries=3)
    assert generator.retries == 3 and generator.timeout.read == 2.0
    with pytest.raises(ConfigError) as caught:
        get_generator("openai", Settings(generator_options={"retries": "x"}))
    message = str(caught.value)
    assert "'retries'" in message and "'x'" in message and "openai" in message and "\n" not in message


def test_a_citation_of_a_passage_not_given_is_removed_and_flagged(server, hits, embedder):
    answer = generate_answer(openai(server, "cite7"), "q?", hits, embedder)
    assert "[7]" not in answer.text and answer.invalid_citations == [7]
    assert answer.sentences[0].supported and answer.sentences[0].citations == [2]
    assert answer.sentences[1].citations == [] and not answer.sentences[1].supported


def test_the_abstain_phrase_becomes_an_abstention(server, hits):
    answer = generate_answer(openai(server, "abstain"), "Who was Truman?", hits, NoEmbedder())
    assert answer.abstained and answer.text == ABSTAIN_PHRASE and answer.cited == []


def test_streaming_yields_pieces_without_invalid_markers_then_the_verified_answer(server, hits, embedder):
    stream = stream_answer(openai(server, "stream"), "q?", hits, embedder)
    pieces = list(stream)
    assert len(pieces) >= 4 and "[9]" not in "".join(pieces) and "[2]" in "".join(pieces)
    assert ChatServer.requests[0]["body"]["stream"] is True
    answer = stream.answer
    assert answer.invalid_citations == [9] and answer.text.startswith("Kennan wrote that Soviet power")
    assert answer.sentences[0].citations == [2] and answer.verified


def test_a_slow_server_hits_the_read_timeout_without_retrying(server, hits):
    started = time.monotonic()
    with pytest.raises(BackendError, match="read timeout") as caught:
        generate_answer(openai(server, "slow", read_timeout=0.3), "q?", hits)
    assert time.monotonic() - started < 1.4 and ChatServer.counts["slow"] == 1
    assert "\n" not in str(caught.value) and isinstance(caught.value, CwqaError)


@pytest.mark.parametrize("scenario", ["flaky", "ratelimited"])
def test_a_transient_failure_is_retried(server, hits, scenario, embedder):
    answer = generate_answer(openai(server, scenario), "q?", hits, embedder)
    assert ChatServer.counts[scenario] == 2 and answer.sentences[0].citations == [2]


def test_a_persistent_server_error_gives_up_after_bounded_retries(server, hits):
    with pytest.raises(BackendError) as caught:
        generate_answer(openai(server, "down", retries=2), "q?", hits)
    assert ChatServer.counts["down"] == 3
    assert str(caught.value) == f"openai: {server}/down/v1/chat/completions answered 500 after 3 attempts: model crashed with a traceback"


def test_a_client_error_is_not_retried(server, hits):
    with pytest.raises(BackendError, match="401: Incorrect API key provided"):
        generate_answer(openai(server, "unauthorised"), "q?", hits)
    assert ChatServer.counts["unauthorised"] == 1


@pytest.mark.parametrize("scenario, message", [("malformed", "not JSON"), ("nochoices", "no choices")])
def test_a_malformed_reply_is_a_one_line_error(server, hits, scenario, message):
    with pytest.raises(BackendError, match=message) as caught:
        generate_answer(openai(server, scenario), "q?", hits)
    assert "\n" not in str(caught.value)


def test_an_unreachable_endpoint_is_retried_then_reported(hits):
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    generator = get_generator("openai", Settings(generator_options={"base_url": f"http://127.0.0.1:{port}/v1", "backoff": 0.01}))
    with pytest.raises(BackendError, match="cannot reach .* after 3 attempts"):
        generate_answer(generator, "q?", hits)


def test_a_failure_can_fall_back_to_the_extractive_answer(server, hits, embedder):
    generator = openai(server, "down", retries=0, fallback="extractive")
    answer = generate_answer(generator, "Is Soviet power sensitive to the logic of force?", hits, embedder)
    assert answer.generator == "extractive" and "answered 500" in answer.notice
    assert answer.sentences and all(s.method == "verbatim" for s in answer.sentences)
    stream = stream_answer(generator, "Is Soviet power sensitive to the logic of force?", hits, embedder)
    assert "".join(stream) == stream.answer.text and stream.answer.generator == "extractive"
