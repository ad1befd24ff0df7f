"""The mock provider speaks OpenAI's Chat Completions API and obeys its x-mock-* headers."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import orjson
import pytest

from aiplane.mock_provider import DEFAULT_MODEL, MODELS, MockProvider, mock_provider_in_thread

CHAT_BODY = {"model": "gpt-test", "messages": [{"role": "user", "content": "Say hello."}]}


@pytest.fixture(scope="module")
def provider() -> Iterator[MockProvider]:
    with mock_provider_in_thread("127.0.0.1", 0) as running:
        yield running


@pytest.fixture()
def http(provider: MockProvider) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=provider.url, timeout=10) as client:
        yield client


def sdk(provider: MockProvider, prefix: str = "/v1", **headers: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=provider.url + prefix, api_key="sk-test", max_retries=0, default_headers=headers)


def sse_events(response: httpx.Response) -> list[Any]:
    """The `data:` payloads of an event stream, JSON-decoded except `[DONE]`."""
    payloads = [line.removeprefix("data: ") for line in response.text.split("\n\n") if line]
    return [payload if payload == "[DONE]" else orjson.loads(payload) for payload in payloads]


def test_port_zero_binds_a_free_loopback_port(provider: MockProvider) -> None:
    assert provider.host == "127.0.0.1"
    assert provider.port > 0


def test_completion_through_the_openai_sdk(provider: MockProvider) -> None:
    completion = sdk(provider).chat.completions.create(model="gpt-test", messages=[{"role": "user", "content": "Hi"}])

    assert completion.id.startswith("chatcmpl-mock-")
    assert completion.object == "chat.completion"
    assert completion.model == "gpt-test"
    [choice] = completion.choices
    assert choice.message.role == "assistant"
    assert choice.message.content == "Hello from the aiplane mock"
    assert choice.finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 5
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + 5


def test_completion_ids_differ_between_requests(provider: MockProvider) -> None:
    client = sdk(provider)
    ids = {client.chat.completions.create(model="m", messages=[]).id for _ in range(3)}
    assert len(ids) == 3


def test_prompt_tokens_are_a_quarter_of_the_request_bytes(http: httpx.Client) -> None:
    body = orjson.dumps({**CHAT_BODY, "messages": [{"role": "user", "content": "x" * 4000}]})
    usage = http.post("/v1/chat/completions", content=body).json()["usage"]
    assert usage["prompt_tokens"] == len(body) // 4


def test_streaming_through_the_openai_sdk_ends_with_a_usage_chunk(provider: MockProvider) -> None:
    stream = sdk(provider).chat.completions.create(
        model="gpt-test",
        messages=[{"role": "user", "content": "Hi"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)

    assert {chunk.model for chunk in chunks} == {"gpt-test"}
    assert len({chunk.id for chunk in chunks}) == 1
    first, *content, finish, usage = chunks
    assert first.choices[0].delta.role == "assistant"
    assert first.choices[0].delta.content == ""
    assert "".join(chunk.choices[0].delta.content or "" for chunk in content) == "Hello from the aiplane mock"
    assert len(content) == 5
    assert finish.choices[0].finish_reason == "stop"
    assert finish.choices[0].delta.content is None
    assert usage.choices == []
    assert usage.usage is not None and usage.usage.completion_tokens == 5
    assert all(chunk.usage is None for chunk in chunks[:-1])


def test_streaming_without_include_usage_sends_no_usage(http: httpx.Client) -> None:
    response = http.post("/v1/chat/completions", json={**CHAT_BODY, "stream": True})

    assert response.headers["content-type"] == "text/event-stream"
    events = sse_events(response)
    assert events[-1] == "[DONE]"
    assert events[-2]["choices"][0]["finish_reason"] == "stop"
    assert all(event != "[DONE]" and "usage" not in event for event in events[:-1])


def test_streamed_events_are_sent_as_they_are_produced(provider: MockProvider) -> None:
    headers = {"x-mock-chunks": "3", "x-mock-chunk-interval-ms": "150"}
    arrivals: list[float] = []
    with httpx.Client(base_url=provider.url, timeout=10) as client:
        start = time.monotonic()
        with client.stream(
            "POST", "/v1/chat/completions", json={**CHAT_BODY, "stream": True}, headers=headers
        ) as response:
            assert response.headers["transfer-encoding"] == "chunked"
            for line in response.iter_lines():
                if line:
                    arrivals.append(time.monotonic() - start)

    assert len(arrivals) == 1 + 3 + 1 + 1  # role, content, finish, [DONE]
    assert arrivals[0] < 0.3, "the first event waited for the whole stream"
    assert arrivals[-1] >= 0.45


def test_latency_header_delays_the_response(http: httpx.Client) -> None:
    start = time.monotonic()
    response = http.post("/v1/chat/completions", json=CHAT_BODY, headers={"x-mock-latency-ms": "300"})
    assert response.status_code == 200
    assert time.monotonic() - start >= 0.3


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (429, "rate_limit_error"),
        (500, "server_error"),
        (503, "server_error"),
    ],
)
def test_status_header_answers_an_openai_error(http: httpx.Client, status: int, error_type: str) -> None:
    response = http.post("/v1/chat/completions", json=CHAT_BODY, headers={"x-mock-status": str(status)})

    assert response.status_code == status
    error = response.json()["error"]
    assert error["type"] == error_type
    assert set(error) == {"message", "type", "param", "code"}
    assert ("retry-after" in response.headers) == (status == 429)


def test_rate_limit_reaches_the_sdk_with_retry_after(provider: MockProvider) -> None:
    with pytest.raises(openai.RateLimitError) as raised:
        sdk(provider, **{"x-mock-status": "429"}).chat.completions.create(model="m", messages=[])
    assert raised.value.response.headers["retry-after"] == "1"


def test_chunks_header_sets_the_number_of_words_and_chunks(http: httpx.Client) -> None:
    headers = {"x-mock-chunks": "8"}
    completion = http.post("/v1/chat/completions", json=CHAT_BODY, headers=headers).json()
    events = sse_events(http.post("/v1/chat/completions", json={**CHAT_BODY, "stream": True}, headers=headers))

    assert len(completion["choices"][0]["message"]["content"].split()) == 8
    assert completion["usage"]["completion_tokens"] == 8
    content_events = [event for event in events[1:-2] if event["choices"][0]["delta"].get("content")]
    assert len(content_events) == 8


@pytest.mark.parametrize("stream", [False, True])
def test_response_bytes_header_sizes_the_content(http: httpx.Client, stream: bool) -> None:
    response = http.post(
        "/v1/chat/completions", json={**CHAT_BODY, "stream": stream}, headers={"x-mock-response-bytes": "10000"}
    )
    if stream:
        content = "".join(event["choices"][0]["delta"].get("content", "") for event in sse_events(response)[:-1])
    else:
        content = response.json()["choices"][0]["message"]["content"]
    assert abs(len(content.encode()) - 10000) <= 100


def test_responses_echo_path_authorization_and_host(http: httpx.Client, provider: MockProvider) -> None:
    response = http.post(
        "/custom/prefix/v1/chat/completions?api-version=1",
        json=CHAT_BODY,
        headers={"Authorization": "Bearer injected-key", "Host": "api.example.test"},
    )

    assert response.status_code == 200
    assert response.headers["x-mock-path"] == "/custom/prefix/v1/chat/completions?api-version=1"
    assert response.headers["x-mock-authorization"] == "Bearer injected-key"
    assert response.headers["x-mock-host"] == "api.example.test"


def test_errors_echo_too_and_a_missing_authorization_is_a_dash(http: httpx.Client, provider: MockProvider) -> None:
    response = http.get("/nowhere")
    assert response.headers["x-mock-path"] == "/nowhere"
    assert response.headers["x-mock-authorization"] == "-"
    assert response.headers["x-mock-host"] == f"127.0.0.1:{provider.port}"


def test_a_base_url_path_prefix_is_served(provider: MockProvider) -> None:
    completion = sdk(provider, prefix="/custom/prefix/v1").chat.completions.create(model="m", messages=[])
    assert completion.choices[0].message.content == "Hello from the aiplane mock"


def test_models_lists_the_mock_models(http: httpx.Client) -> None:
    response = http.get("/openai/v1/models")

    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "list"
    assert [model["id"] for model in body["data"]] == list(MODELS)
    assert DEFAULT_MODEL in MODELS


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (b"{not json", None),
        (b"[1, 2]", None),
        (orjson.dumps({"messages": []}), "model"),
        (orjson.dumps({"model": "m"}), "messages"),
    ],
)
def test_malformed_requests_are_400_in_openai_shape(http: httpx.Client, body: bytes, param: str | None) -> None:
    response = http.post("/v1/chat/completions", content=body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert error["message"]


@pytest.mark.parametrize("header", ["x-mock-latency-ms", "x-mock-status", "x-mock-chunks", "x-mock-response-bytes"])
def test_an_invalid_behaviour_header_is_400(http: httpx.Client, header: str) -> None:
    response = http.post("/v1/chat/completions", json=CHAT_BODY, headers={header: "-7"})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == header


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/v1/unknown"), ("GET", "/v1/chat/completions"), ("POST", "/v1/models")]
)
def test_unknown_routes_are_404_in_openai_shape(http: httpx.Client, method: str, path: str) -> None:
    response = http.request(method, path)

    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "message": f"Invalid URL ({method} {path})",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }


def test_run_mock_provider_announces_its_address_and_exits_cleanly_on_sigterm() -> None:
    code = "from aiplane.mock_provider import run_mock_provider; run_mock_provider('127.0.0.1', 0)"
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.fullmatch(r"mock provider listening on (http://127\.0\.0\.1:(\d+))\n", line)
        assert match, line
        assert httpx.get(match[1] + "/v1/models", timeout=5).status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
        process.wait()
