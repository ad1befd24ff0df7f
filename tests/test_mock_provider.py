"""The mock provider speaks OpenAI's Chat Completions, Anthropic's Messages, Google's Gemini and AWS Bedrock's Converse
APIs and the three families' embeddings, authenticates Bedrock requests as AWS does, and obeys its x-mock-* headers."""

from __future__ import annotations

import base64
import math
import os
import re
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import anthropic
import botocore.session
import httpx
import openai
import orjson
import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config as BotocoreConfig
from botocore.credentials import Credentials
from botocore.eventstream import EventStreamBuffer
from botocore.exceptions import ClientError, EventStreamError
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types

from aiplane.mock_provider import (
    DEFAULT_MODEL,
    MOCK_AWS_ACCESS_KEY_ID,
    MOCK_AWS_SECRET_ACCESS_KEY,
    MODELS,
    MockProvider,
    embedding,
    mock_provider_in_thread,
)
from aiplane.translate.eventstream import EventStreamParser, is_exception

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


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
    },
}
TIME_TOOL = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}


def test_tool_call_through_the_openai_sdk(provider: MockProvider) -> None:
    client = sdk(provider, **{"x-mock-tool-call": "get_weather"})
    completion = client.chat.completions.create(
        model="gpt-test", messages=[{"role": "user", "content": "Weather in Paris?"}], tools=[WEATHER_TOOL]
    )

    [choice] = completion.choices
    assert choice.finish_reason == "tool_calls"
    assert choice.message.role == "assistant"
    assert choice.message.content is None
    [call] = choice.message.tool_calls or []
    assert re.fullmatch(r"call_mock_\d+", call.id)
    assert call.type == "function"
    assert call.function.name == "get_weather"
    assert call.function.arguments == '{"location": "Paris"}'
    assert orjson.loads(call.function.arguments) == {"location": "Paris"}

    again = client.chat.completions.create(model="gpt-test", messages=[], tools=[WEATHER_TOOL])
    assert (again.choices[0].message.tool_calls or [])[0].id != call.id


def test_tool_arguments_header_is_sent_verbatim(http: httpx.Client) -> None:
    arguments = '{"city":"Zürich","days":3,"units":["c"]}'
    response = http.post(
        "/v1/chat/completions",
        json=CHAT_BODY,
        headers={"x-mock-tool-call": "forecast", "x-mock-tool-arguments": arguments.encode()},
    )

    assert response.status_code == 200
    function = response.json()["choices"][0]["message"]["tool_calls"][0]["function"]
    assert function == {"name": "forecast", "arguments": arguments}


@pytest.mark.parametrize("chunks", [None, "3", "1", "1000"])
def test_streamed_tool_call_fragments_concatenate_to_the_arguments(provider: MockProvider, chunks: str | None) -> None:
    arguments = '{"location": "Paris", "unit": "celsius"}'
    headers = {"x-mock-tool-call": "get_weather", "x-mock-tool-arguments": arguments}
    if chunks is not None:
        headers["x-mock-chunks"] = chunks
    stream = sdk(provider, **headers).chat.completions.create(
        model="gpt-test",
        messages=[{"role": "user", "content": "Weather?"}],
        tools=[WEATHER_TOOL],
        stream=True,
        stream_options={"include_usage": True},
    )
    first, *fragments, finish, usage = list(stream)

    delta = first.choices[0].delta
    assert delta.role == "assistant"
    assert delta.content is None
    [opening] = delta.tool_calls or []
    assert (opening.index, opening.type) == (0, "function")
    assert opening.id is not None and opening.id.startswith("call_mock_")
    assert opening.function is not None
    assert (opening.function.name, opening.function.arguments) == ("get_weather", "")

    expected = min(int(chunks or 5), len(arguments))
    assert len(fragments) == expected
    pieces = []
    for chunk in fragments:
        [call] = chunk.choices[0].delta.tool_calls or []
        assert call.index == 0 and call.id is None
        assert call.function is not None and call.function.name is None
        assert call.function.arguments
        pieces.append(call.function.arguments)
    assert "".join(pieces) == arguments
    # Cut by length, not at JSON tokens, as real providers' fragments are.
    assert max(map(len, pieces)) - min(map(len, pieces)) <= 1

    assert finish.choices[0].finish_reason == "tool_calls"
    assert finish.choices[0].delta.tool_calls is None and finish.choices[0].delta.content is None
    assert usage.choices == [] and usage.usage is not None
    assert usage.usage.completion_tokens == expected


def test_streamed_tool_call_without_usage_ends_with_done(http: httpx.Client) -> None:
    response = http.post(
        "/v1/chat/completions", json={**CHAT_BODY, "stream": True}, headers={"x-mock-tool-call": "get_weather"}
    )

    events = sse_events(response)
    assert events[-1] == "[DONE]"
    assert events[-2]["choices"][0] == {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "tool_calls"}
    assert all("usage" not in event for event in events[:-1])
    fragments = [event["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"] for event in events[1:-2]]
    assert fragments == ['{"loc', "atio", 'n": ', '"Par', 'is"}']


@pytest.mark.parametrize("stream", [False, True])
def test_a_tool_result_comes_back_in_the_answer(provider: MockProvider, stream: bool) -> None:
    client = sdk(provider)
    messages: list[Any] = [{"role": "user", "content": "Weather in Paris?"}]
    call = (
        sdk(provider, **{"x-mock-tool-call": "get_weather"})
        .chat.completions.create(model="gpt-test", messages=messages, tools=[WEATHER_TOOL])
        .choices[0]
        .message
    )
    messages += [
        call.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": (call.tool_calls or [])[0].id, "content": "18°C and sunny"},
    ]

    if stream:
        chunks = list(
            client.chat.completions.create(model="gpt-test", messages=messages, tools=[WEATHER_TOOL], stream=True)
        )
        assert chunks[-1].choices[0].finish_reason == "stop"
        content = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
        assert len(chunks) == 1 + 5 + 1
    else:
        completion = client.chat.completions.create(model="gpt-test", messages=messages, tools=[WEATHER_TOOL])
        assert completion.choices[0].finish_reason == "stop"
        assert completion.choices[0].message.tool_calls is None
        content = completion.choices[0].message.content or ""
    assert content == "The tool said: 18°C and sunny"


def test_a_tool_result_given_as_content_parts_is_read_as_text(http: httpx.Client) -> None:
    parts = [{"type": "text", "text": "18°C"}, {"type": "text", "text": " and sunny"}]
    body = {**CHAT_BODY, "messages": [*CHAT_BODY["messages"], {"role": "tool", "tool_call_id": "c", "content": parts}]}
    content = http.post("/v1/chat/completions", json=body).json()["choices"][0]["message"]["content"]
    assert content == "The tool said: 18°C and sunny"


def test_only_a_tool_message_last_changes_the_text(http: httpx.Client) -> None:
    messages = [{"role": "tool", "tool_call_id": "c", "content": "old"}, {"role": "user", "content": "And now?"}]
    content = http.post("/v1/chat/completions", json={**CHAT_BODY, "messages": messages}).json()
    assert content["choices"][0]["message"]["content"] == "Hello from the aiplane mock"


def test_the_tool_call_header_wins_over_a_tool_result(http: httpx.Client) -> None:
    messages = [*CHAT_BODY["messages"], {"role": "tool", "tool_call_id": "c", "content": "18°C"}]
    response = http.post(
        "/v1/chat/completions", json={**CHAT_BODY, "messages": messages}, headers={"x-mock-tool-call": "get_time"}
    )
    choice = response.json()["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["tool_calls"][0]["function"]["name"] == "get_time"


@pytest.mark.parametrize(
    ("tools", "count"), [(None, "0"), ([], "0"), ([WEATHER_TOOL], "1"), ([WEATHER_TOOL, TIME_TOOL], "2")]
)
def test_the_tools_count_is_echoed(http: httpx.Client, tools: list[Any] | None, count: str) -> None:
    body = CHAT_BODY if tools is None else {**CHAT_BODY, "tools": tools}
    for stream in (False, True):
        response = http.post("/v1/chat/completions", json={**body, "stream": stream})
        assert response.status_code == 200
        assert response.headers["x-mock-tools"] == count


def test_the_tools_count_reaches_the_sdk(provider: MockProvider) -> None:
    raw = sdk(provider).chat.completions.with_raw_response.create(
        model="gpt-test", messages=[{"role": "user", "content": "Hi"}], tools=[WEATHER_TOOL, TIME_TOOL]
    )
    assert raw.headers["x-mock-tools"] == "2"


def test_tools_that_are_not_a_list_are_400(http: httpx.Client) -> None:
    response = http.post("/v1/chat/completions", json={**CHAT_BODY, "tools": {"type": "function"}})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "tools"


@pytest.mark.parametrize("arguments", ["not json", '["a", "list"]', '"text"', "42", "null", '{"open":'])
def test_tool_arguments_that_are_not_a_json_object_are_400(provider: MockProvider, arguments: str) -> None:
    client = sdk(provider, **{"x-mock-tool-call": "get_weather", "x-mock-tool-arguments": arguments})
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model="gpt-test", messages=[{"role": "user", "content": "Hi"}])
    assert raised.value.status_code == 400
    assert raised.value.param == "x-mock-tool-arguments"
    assert raised.value.type == "invalid_request_error"


@pytest.mark.parametrize("name", ["has space", "dots.not.allowed", "x" * 65])
def test_an_invalid_tool_name_is_400(http: httpx.Client, name: str) -> None:
    response = http.post("/v1/chat/completions", json=CHAT_BODY, headers={"x-mock-tool-call": name})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "x-mock-tool-call"


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


# Anthropic's Messages API, chosen by the `…/messages` path, obeys the same x-mock-* headers.

MESSAGES_BODY = {"model": "claude-test", "max_tokens": 100, "messages": [{"role": "user", "content": "Say hello."}]}
ANTHROPIC_VERSION = {"anthropic-version": "2023-06-01"}
CLAUDE_WEATHER_TOOL = {
    "name": "get_weather",
    "description": "The weather in a city.",
    "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
}
STREAM_EVENTS = ["message_start", "content_block_start", "ping"]
STREAM_END = ["content_block_stop", "message_delta", "message_stop"]


def claude(provider: MockProvider, prefix: str = "", **headers: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        base_url=provider.url + prefix, api_key="sk-ant-test", max_retries=0, default_headers=headers
    )


def post_messages(http: httpx.Client, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return http.post("/v1/messages", json=body, headers={**ANTHROPIC_VERSION, **(headers or {})})


def named_events(response: httpx.Response) -> list[tuple[str, Any]]:
    """An Anthropic event stream as (event name, decoded data) pairs; each data's `type` is its event's name."""
    assert response.headers["content-type"] == "text/event-stream"
    events = []
    for block in response.text.split("\n\n"):
        if block:
            event, data = block.split("\n")
            name, payload = event.removeprefix("event: "), orjson.loads(data.removeprefix("data: "))
            assert payload["type"] == name
            events.append((name, payload))
    return events


def assert_anthropic_error(response: httpx.Response, status: int, error_type: str) -> str:
    assert response.status_code == status
    body = response.json()
    assert body["type"] == "error"
    assert set(body["error"]) == {"type", "message"}
    assert body["error"]["type"] == error_type
    assert body["error"]["message"]
    return body["error"]["message"]


def test_message_through_the_anthropic_sdk(provider: MockProvider) -> None:
    message = claude(provider).messages.create(
        model="claude-test", max_tokens=100, messages=[{"role": "user", "content": "Hi"}]
    )

    assert re.fullmatch(r"msg_mock_\d+", message.id)
    assert (message.type, message.role, message.model) == ("message", "assistant", "claude-test")
    [block] = message.content
    assert block.type == "text" and block.text == "Hello from the aiplane mock"
    assert (message.stop_reason, message.stop_sequence) == ("end_turn", None)
    assert message.usage.output_tokens == 5
    assert message.usage.input_tokens > 0


def test_message_wire_format_is_anthropics(http: httpx.Client) -> None:
    body = orjson.dumps({**MESSAGES_BODY, "messages": [{"role": "user", "content": "x" * 4000}]})
    response = http.post("/v1/messages", content=body, headers=ANTHROPIC_VERSION)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    message = response.json()
    assert re.fullmatch(r"msg_mock_\d+", message.pop("id"))
    assert message == {
        "type": "message",
        "role": "assistant",
        "model": "claude-test",
        "content": [{"type": "text", "text": "Hello from the aiplane mock"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": len(body) // 4,
            "output_tokens": 5,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }


def test_messages_echo_the_api_key_path_and_tools(provider: MockProvider) -> None:
    raw = claude(provider, prefix="/custom/prefix").messages.with_raw_response.create(
        model="claude-test", max_tokens=10, messages=[{"role": "user", "content": "Hi"}], tools=[CLAUDE_WEATHER_TOOL]
    )

    # The SDK sends its key as `x-api-key` or, in recent versions, as a bearer token: each is echoed as sent.
    sent = raw.http_request.headers
    assert (sent.get("x-api-key"), sent.get("authorization")) in {("sk-ant-test", None), (None, "Bearer sk-ant-test")}
    assert raw.headers["x-mock-api-key"] == sent.get("x-api-key", "-")
    assert raw.headers["x-mock-authorization"] == sent.get("authorization", "-")
    assert raw.headers["x-mock-path"] == "/custom/prefix/v1/messages"
    assert raw.headers["x-mock-tools"] == "1"
    assert raw.parse().content[0].type == "text"


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/chat/completions", "/nowhere"])
def test_the_api_key_header_is_echoed_and_a_missing_one_is_a_dash(http: httpx.Client, path: str) -> None:
    with_key = http.post(path, json=MESSAGES_BODY, headers={**ANTHROPIC_VERSION, "x-api-key": "sk-ant-test"})
    without = http.post(path, json=MESSAGES_BODY, headers=ANTHROPIC_VERSION)
    assert with_key.headers["x-mock-api-key"] == "sk-ant-test"
    assert without.headers["x-mock-api-key"] == "-"


def test_streaming_through_the_anthropic_sdk_assembles_the_message(provider: MockProvider) -> None:
    client = claude(provider, **{"x-mock-chunks": "7"})
    with client.messages.stream(
        model="claude-test", max_tokens=100, messages=[{"role": "user", "content": "Hi"}]
    ) as stream:
        pieces = list(stream.text_stream)
        message = stream.get_final_message()

    assert len(pieces) == 7
    assert "".join(pieces) == "Hello from the aiplane mock provider. Hello"
    assert re.fullmatch(r"msg_mock_\d+", message.id)
    assert message.model == "claude-test"
    assert [(block.type, getattr(block, "text", None)) for block in message.content] == [("text", "".join(pieces))]
    assert message.stop_reason == "end_turn"
    assert message.usage.output_tokens == 7
    assert message.usage.input_tokens > 0


def test_streamed_wire_format_is_anthropics_event_sequence(http: httpx.Client) -> None:
    body = {**MESSAGES_BODY, "stream": True}
    events = named_events(post_messages(http, body, {"x-mock-chunks": "3"}))

    assert [name for name, _ in events] == [*STREAM_EVENTS, *["content_block_delta"] * 3, *STREAM_END]
    start = events[0][1]["message"]
    assert re.fullmatch(r"msg_mock_\d+", start.pop("id"))
    assert start == {
        "type": "message",
        "role": "assistant",
        "model": "claude-test",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {
            "input_tokens": len(orjson.dumps(body)) // 4,
            "output_tokens": 1,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }
    assert events[1][1] == {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
    assert events[2][1] == {"type": "ping"}
    deltas = [data for name, data in events if name == "content_block_delta"]
    assert [delta["delta"] for delta in deltas] == [
        {"type": "text_delta", "text": text} for text in ("Hello", " from", " the")
    ]
    assert all(delta["index"] == 0 for delta in deltas)
    assert events[-3][1] == {"type": "content_block_stop", "index": 0}
    assert events[-2][1] == {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": 3},
    }
    assert events[-1][1] == {"type": "message_stop"}


def test_anthropic_events_are_sent_as_they_are_produced(provider: MockProvider) -> None:
    headers = {**ANTHROPIC_VERSION, "x-mock-chunks": "3", "x-mock-chunk-interval-ms": "150"}
    arrivals: list[float] = []
    with httpx.Client(base_url=provider.url, timeout=10) as client:
        start = time.monotonic()
        with client.stream("POST", "/v1/messages", json={**MESSAGES_BODY, "stream": True}, headers=headers) as response:
            assert response.headers["transfer-encoding"] == "chunked"
            for line in response.iter_lines():
                if line.startswith("data: "):
                    arrivals.append(time.monotonic() - start)

    assert len(arrivals) == 3 + 3 + 3
    assert arrivals[0] < 0.3, "the first event waited for the whole stream"
    assert arrivals[-1] >= 0.45


@pytest.mark.parametrize("stream", [False, True])
def test_response_bytes_header_sizes_an_anthropic_reply(http: httpx.Client, stream: bool) -> None:
    response = post_messages(http, {**MESSAGES_BODY, "stream": stream}, {"x-mock-response-bytes": "10000"})
    if stream:
        events = named_events(response)
        text = "".join(data["delta"]["text"] for name, data in events if name == "content_block_delta")
    else:
        text = response.json()["content"][0]["text"]
    assert abs(len(text.encode()) - 10000) <= 100


def test_tool_use_through_the_anthropic_sdk(provider: MockProvider) -> None:
    arguments = '{"location": "Zürich", "days": 3}'
    client = claude(provider, **{"x-mock-tool-call": "get_weather", "x-mock-tool-arguments": arguments})
    message = client.messages.create(
        model="claude-test",
        max_tokens=100,
        messages=[{"role": "user", "content": "Weather?"}],
        tools=[CLAUDE_WEATHER_TOOL],
    )

    assert message.stop_reason == "tool_use"
    [block] = message.content
    assert block.type == "tool_use"
    assert re.fullmatch(r"toolu_mock_\d+", block.id)
    assert block.name == "get_weather"
    assert block.input == {"location": "Zürich", "days": 3}

    again = client.messages.create(model="claude-test", max_tokens=100, messages=[])
    assert again.content[0].type == "tool_use" and again.content[0].id != block.id


@pytest.mark.parametrize("chunks", [None, "3", "1", "1000"])
def test_streamed_tool_use_input_is_parsed_from_the_deltas(
    provider: MockProvider, http: httpx.Client, chunks: str | None
) -> None:
    arguments = '{"location": "Paris", "unit": "celsius"}'
    headers = {"x-mock-tool-call": "get_weather", "x-mock-tool-arguments": arguments}
    if chunks is not None:
        headers["x-mock-chunks"] = chunks
    expected = min(int(chunks or 5), len(arguments))

    with claude(provider, **headers).messages.stream(
        model="claude-test",
        max_tokens=100,
        messages=[{"role": "user", "content": "Weather?"}],
        tools=[CLAUDE_WEATHER_TOOL],
    ) as stream:
        message = stream.get_final_message()
    assert message.stop_reason == "tool_use"
    [block] = message.content
    assert block.type == "tool_use" and block.name == "get_weather"
    assert re.fullmatch(r"toolu_mock_\d+", block.id)
    assert block.input == {"location": "Paris", "unit": "celsius"}
    assert message.usage.output_tokens == expected

    events = named_events(post_messages(http, {**MESSAGES_BODY, "stream": True}, headers))
    assert [name for name, _ in events] == [*STREAM_EVENTS, *["content_block_delta"] * expected, *STREAM_END]
    opening = events[1][1]["content_block"]
    assert re.fullmatch(r"toolu_mock_\d+", opening.pop("id"))
    assert opening == {"type": "tool_use", "name": "get_weather", "input": {}}
    deltas = [data["delta"] for name, data in events if name == "content_block_delta"]
    assert {delta["type"] for delta in deltas} == {"input_json_delta"}
    pieces = [delta["partial_json"] for delta in deltas]
    assert all(pieces) and "".join(pieces) == arguments
    assert max(map(len, pieces)) - min(map(len, pieces)) <= 1
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"


@pytest.mark.parametrize("stream", [False, True])
def test_a_tool_result_comes_back_in_the_anthropic_answer(provider: MockProvider, stream: bool) -> None:
    messages: list[Any] = [{"role": "user", "content": "Weather in Paris?"}]
    call = claude(provider, **{"x-mock-tool-call": "get_weather"}).messages.create(
        model="claude-test", max_tokens=100, messages=messages, tools=[CLAUDE_WEATHER_TOOL]
    )
    tool_use = call.content[0]
    assert tool_use.type == "tool_use"
    messages += [
        {"role": "assistant", "content": [block.model_dump(exclude_none=True) for block in call.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_use.id, "content": "18°C and sunny"}]},
    ]

    client = claude(provider)
    if stream:
        with client.messages.stream(
            model="claude-test", max_tokens=100, messages=messages, tools=[CLAUDE_WEATHER_TOOL]
        ) as streamed:
            pieces = list(streamed.text_stream)
            answer = streamed.get_final_message()
        assert len(pieces) == 5
    else:
        answer = client.messages.create(
            model="claude-test", max_tokens=100, messages=messages, tools=[CLAUDE_WEATHER_TOOL]
        )
    assert answer.stop_reason == "end_turn"
    assert [(block.type, getattr(block, "text", None)) for block in answer.content] == [
        ("text", "The tool said: 18°C and sunny")
    ]


def test_an_anthropic_tool_result_given_as_blocks_is_read_as_text(http: httpx.Client) -> None:
    parts = [{"type": "text", "text": "18°C"}, {"type": "text", "text": " and sunny"}]
    result = {"type": "tool_result", "tool_use_id": "t", "content": parts}
    body = {**MESSAGES_BODY, "messages": [{"role": "user", "content": [result]}]}
    assert post_messages(http, body).json()["content"][0]["text"] == "The tool said: 18°C and sunny"


def test_only_a_tool_result_in_the_last_user_message_changes_the_text(http: httpx.Client) -> None:
    result = {"type": "tool_result", "tool_use_id": "t", "content": "old"}
    messages = [
        {"role": "user", "content": [result]},
        {"role": "assistant", "content": "Noted."},
        {"role": "user", "content": [{"type": "text", "text": "And now?"}]},
    ]
    body = {**MESSAGES_BODY, "messages": messages}
    assert post_messages(http, body).json()["content"][0]["text"] == "Hello from the aiplane mock"


@pytest.mark.parametrize(
    ("status", "error_class", "error_type"),
    [
        (400, anthropic.BadRequestError, "invalid_request_error"),
        (401, anthropic.AuthenticationError, "authentication_error"),
        (403, anthropic.PermissionDeniedError, "permission_error"),
        (404, anthropic.NotFoundError, "not_found_error"),
        (413, anthropic.ContentTooLargeError, "request_too_large"),
        (429, anthropic.RateLimitError, "rate_limit_error"),
        (500, anthropic.InternalServerError, "api_error"),
        (503, anthropic.ServiceUnavailableError, "api_error"),
        (504, anthropic.GatewayTimeoutError, "timeout_error"),
        (529, anthropic.OverloadedError, "overloaded_error"),
    ],
)
def test_status_header_reaches_the_anthropic_sdk_as_its_exception(
    provider: MockProvider, status: int, error_class: type[anthropic.APIStatusError], error_type: str
) -> None:
    for stream in (False, True):
        with pytest.raises(error_class) as raised:
            claude(provider, **{"x-mock-status": str(status)}).messages.create(
                model="claude-test", max_tokens=10, messages=[], stream=stream
            )
        error = raised.value
        assert error.status_code == status
        assert error.type == error_type
        assert error.body == {"type": "error", "error": {"type": error_type, "message": error.api_message}}
        assert ("retry-after" in error.response.headers) == (status == 429)


def test_a_missing_anthropic_version_is_400(http: httpx.Client) -> None:
    for path in ("/v1/messages", "/v1/messages/count_tokens"):
        response = http.post(path, json=MESSAGES_BODY, headers={"x-api-key": "sk-ant-test"})
        message = assert_anthropic_error(response, 400, "invalid_request_error")
        assert "anthropic-version" in message
        assert response.headers["x-mock-api-key"] == "sk-ant-test"


def test_a_missing_anthropic_version_reaches_the_sdk(provider: MockProvider) -> None:
    with pytest.raises(anthropic.BadRequestError, match="anthropic-version"):
        claude(provider).messages.create(
            model="claude-test", max_tokens=10, messages=[], extra_headers={"anthropic-version": anthropic.Omit()}
        )


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[1, 2]",
        orjson.dumps({"max_tokens": 10, "messages": []}),
        orjson.dumps({"model": "", "max_tokens": 10, "messages": []}),
        orjson.dumps({"model": 7, "max_tokens": 10, "messages": []}),
        orjson.dumps({"model": "m", "messages": []}),
        orjson.dumps({"model": "m", "max_tokens": "10", "messages": []}),
        orjson.dumps({"model": "m", "max_tokens": True, "messages": []}),
        orjson.dumps({"model": "m", "max_tokens": 1.5, "messages": []}),
        orjson.dumps({"model": "m", "max_tokens": 0, "messages": []}),
        orjson.dumps({"model": "m", "max_tokens": 10}),
        orjson.dumps({"model": "m", "max_tokens": 10, "messages": {"role": "user"}}),
        orjson.dumps({"model": "m", "max_tokens": 10, "messages": [], "tools": {"name": "t"}}),
    ],
)
def test_malformed_messages_are_400_in_anthropic_shape(http: httpx.Client, body: bytes) -> None:
    response = http.post("/v1/messages", content=body, headers=ANTHROPIC_VERSION)
    assert_anthropic_error(response, 400, "invalid_request_error")


def test_anthropic_routes_answer_errors_in_anthropic_shape(http: httpx.Client) -> None:
    message = assert_anthropic_error(http.get("/v1/messages"), 404, "not_found_error")
    assert message == "Invalid URL (GET /v1/messages)"
    response = post_messages(http, MESSAGES_BODY, {"x-mock-chunks": "-7"})
    assert "x-mock-chunks" in assert_anthropic_error(response, 400, "invalid_request_error")
    response = post_messages(http, MESSAGES_BODY, {"x-mock-tool-call": "get_weather", "x-mock-tool-arguments": "[]"})
    assert "x-mock-tool-arguments" in assert_anthropic_error(response, 400, "invalid_request_error")


def test_count_tokens_is_a_quarter_of_the_request_bytes(provider: MockProvider, http: httpx.Client) -> None:
    body = orjson.dumps({"model": "claude-test", "messages": [{"role": "user", "content": "x" * 4000}]})
    response = http.post("/prefix/v1/messages/count_tokens", content=body, headers=ANTHROPIC_VERSION)
    assert response.status_code == 200
    assert response.json() == {"input_tokens": len(body) // 4}
    assert response.headers["x-mock-path"] == "/prefix/v1/messages/count_tokens"

    counted = claude(provider).messages.count_tokens(model="claude-test", messages=[{"role": "user", "content": "Hi"}])
    assert counted.input_tokens > 0

    missing = http.post("/v1/messages/count_tokens", json={"model": "claude-test"}, headers=ANTHROPIC_VERSION)
    assert_anthropic_error(missing, 400, "invalid_request_error")


# x-mock-stream-error-after: a stream that fails mid-way, in either dialect.


@pytest.mark.parametrize(("after", "sent"), [("0", 0), ("2", 2), ("99", 5)])
def test_anthropic_stream_error_after_k_deltas(
    provider: MockProvider, http: httpx.Client, after: str, sent: int
) -> None:
    headers = {"x-mock-stream-error-after": after}
    events = named_events(post_messages(http, {**MESSAGES_BODY, "stream": True}, headers))

    assert [name for name, _ in events] == [*STREAM_EVENTS, *["content_block_delta"] * sent, "error"]
    assert events[-1][1] == {"type": "error", "error": {"type": "overloaded_error", "message": "mock overload"}}

    received: list[str] = []
    with pytest.raises(anthropic.APIStatusError) as raised:
        with claude(provider, **headers).messages.stream(
            model="claude-test", max_tokens=100, messages=[{"role": "user", "content": "Hi"}]
        ) as stream:
            received.extend(stream.text_stream)
    assert len(received) == sent
    assert raised.value.type == "overloaded_error"
    assert raised.value.api_message == "mock overload"


def test_anthropic_stream_error_cuts_a_tool_use_too(http: httpx.Client) -> None:
    headers = {"x-mock-tool-call": "get_weather", "x-mock-stream-error-after": "3"}
    events = named_events(post_messages(http, {**MESSAGES_BODY, "stream": True}, headers))
    assert [name for name, _ in events] == [*STREAM_EVENTS, *["content_block_delta"] * 3, "error"]
    assert {data["delta"]["type"] for name, data in events if name == "content_block_delta"} == {"input_json_delta"}


@pytest.mark.parametrize(("after", "sent"), [("0", 0), ("2", 2), ("99", 5)])
def test_openai_stream_error_after_k_chunks(provider: MockProvider, http: httpx.Client, after: str, sent: int) -> None:
    headers = {"x-mock-stream-error-after": after}
    body = {**CHAT_BODY, "stream": True, "stream_options": {"include_usage": True}}
    events = sse_events(http.post("/v1/chat/completions", json=body, headers=headers))

    assert "[DONE]" not in events
    assert events[-1] == {"error": {"message": "mock overload", "type": "server_error", "code": None}}
    chunks = events[:-1]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert [chunk["choices"][0]["delta"]["content"] for chunk in chunks[1:]] == list(
        ["Hello", " from", " the", " aiplane", " mock"][:sent]
    )
    assert all(chunk["choices"][0]["finish_reason"] is None for chunk in chunks)

    received: list[str] = []
    with pytest.raises(openai.APIError, match="mock overload") as raised:
        for chunk in sdk(provider, **headers).chat.completions.create(
            model="gpt-test", messages=[{"role": "user", "content": "Hi"}], stream=True
        ):
            received.append(chunk.choices[0].delta.content or "")
    assert len(received) == 1 + sent
    assert raised.value.body == {"message": "mock overload", "type": "server_error", "code": None}


def test_stream_error_header_leaves_unstreamed_replies_alone(http: httpx.Client) -> None:
    headers = {"x-mock-stream-error-after": "1"}
    completion = http.post("/v1/chat/completions", json=CHAT_BODY, headers=headers).json()
    assert completion["choices"][0]["finish_reason"] == "stop"
    assert post_messages(http, MESSAGES_BODY, headers).json()["stop_reason"] == "end_turn"


def test_an_invalid_stream_error_header_is_400(http: httpx.Client) -> None:
    response = http.post("/v1/chat/completions", json=CHAT_BODY, headers={"x-mock-stream-error-after": "-1"})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "x-mock-stream-error-after"


# Google's Gemini API, chosen by the `…/models/{model}:generateContent` path, obeys the same x-mock-* headers.

GEMINI_BODY = {"contents": [{"role": "user", "parts": [{"text": "Say hello."}]}]}
GENERATE = "/v1beta/models/gemini-test:generateContent"
STREAM = "/v1beta/models/gemini-test:streamGenerateContent?alt=sse"
GEMINI_WEATHER_TOOL = genai_types.Tool(
    function_declarations=[
        genai_types.FunctionDeclaration(
            name="get_weather",
            description="The weather in a city.",
            parameters_json_schema={"type": "object", "properties": {"location": {"type": "string"}}},
        )
    ]
)
WITH_WEATHER_TOOL = genai_types.GenerateContentConfig(tools=[GEMINI_WEATHER_TOOL])


def gemini(provider: MockProvider, prefix: str = "", **headers: str) -> genai.Client:
    """Google's SDK on the mock. Keep the client referenced while in use: once collected, it closes its connections."""
    return genai.Client(api_key="g-test", http_options={"base_url": provider.url + prefix, "headers": headers})


def gemini_events(response: httpx.Response) -> list[Any]:
    """A Gemini event stream's decoded `data:` payloads; every event must end with Google's CRLF CRLF."""
    assert response.headers["content-type"] == "text/event-stream"
    assert response.text.endswith("\r\n\r\n")
    blocks = response.text.split("\r\n\r\n")[:-1]
    assert all(block.startswith("data: ") and "\n" not in block for block in blocks)
    return [orjson.loads(block.removeprefix("data: ")) for block in blocks]


def assert_gemini_error(response: httpx.Response, status: int, google_status: str) -> str:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert set(error) == {"code", "message", "status"}
    assert (error["code"], error["status"]) == (status, google_status)
    assert error["message"]
    return error["message"]


def test_generate_content_through_the_google_sdk(provider: MockProvider) -> None:
    client = gemini(provider)
    response = client.models.generate_content(model="gemini-test", contents="Hi")

    assert response.text == "Hello from the aiplane mock"
    assert response.model_version == "gemini-test"
    assert response.response_id is not None and re.fullmatch(r"gemini-mock-\d+", response.response_id)
    [candidate] = response.candidates or []
    assert candidate.finish_reason == genai_types.FinishReason.STOP
    assert candidate.content is not None and candidate.content.role == "model"
    usage = response.usage_metadata
    assert usage is not None and usage.prompt_token_count and usage.prompt_token_count > 0
    assert usage.candidates_token_count == 5
    assert usage.total_token_count == usage.prompt_token_count + 5


def test_generate_content_wire_format_is_googles(http: httpx.Client) -> None:
    body = orjson.dumps({"contents": [{"role": "user", "parts": [{"text": "x" * 4000}]}]})
    response = http.post("/v1beta/models/gemini-2.5-flash:generateContent", content=body)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-mock-tools"] == "0"
    reply = response.json()
    assert re.fullmatch(r"gemini-mock-\d+", reply.pop("responseId"))
    assert reply == {
        "candidates": [
            {
                "content": {"parts": [{"text": "Hello from the aiplane mock"}], "role": "model"},
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": len(body) // 4,
            "candidatesTokenCount": 5,
            "totalTokenCount": len(body) // 4 + 5,
        },
        "modelVersion": "gemini-2.5-flash",
    }


def test_streaming_through_the_google_sdk(provider: MockProvider) -> None:
    client = gemini(provider, **{"x-mock-chunks": "7"})
    chunks = list(client.models.generate_content_stream(model="gemini-test", contents="Hi"))

    assert len(chunks) == 7
    assert "".join(chunk.text or "" for chunk in chunks) == "Hello from the aiplane mock provider. Hello"
    assert {chunk.model_version for chunk in chunks} == {"gemini-test"}
    assert len({chunk.response_id for chunk in chunks}) == 1
    *pieces, last = chunks
    assert all((chunk.candidates or [])[0].finish_reason is None and chunk.usage_metadata is None for chunk in pieces)
    assert (last.candidates or [])[0].finish_reason == genai_types.FinishReason.STOP
    assert last.usage_metadata is not None and last.usage_metadata.candidates_token_count == 7


def test_streamed_wire_format_is_googles_sse(http: httpx.Client) -> None:
    body = orjson.dumps(GEMINI_BODY)
    response = http.post(STREAM, content=body, headers={"x-mock-chunks": "3"})

    assert response.status_code == 200
    assert response.headers["x-mock-path"] == STREAM
    events = gemini_events(response)
    assert len({event.pop("responseId") for event in events}) == 1
    part_events: list[dict[str, Any]] = [
        {
            "candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "index": 0}],
            "modelVersion": "gemini-test",
        }
        for text in ("Hello", " from", " the")
    ]
    part_events[-1]["candidates"][0]["finishReason"] = "STOP"
    part_events[-1]["usageMetadata"] = {
        "promptTokenCount": len(body) // 4,
        "candidatesTokenCount": 3,
        "totalTokenCount": len(body) // 4 + 3,
    }
    assert events == part_events


def test_a_single_chunk_stream_is_one_finished_event(http: httpx.Client) -> None:
    [event] = gemini_events(http.post(STREAM, json=GEMINI_BODY, headers={"x-mock-chunks": "1"}))
    assert event["candidates"][0]["content"]["parts"] == [{"text": "Hello"}]
    assert event["candidates"][0]["finishReason"] == "STOP"
    assert event["usageMetadata"]["candidatesTokenCount"] == 1


def test_gemini_events_are_sent_as_they_are_produced(provider: MockProvider) -> None:
    headers = {"x-mock-latency-ms": "100", "x-mock-chunks": "3", "x-mock-chunk-interval-ms": "150"}
    arrivals: list[float] = []
    with httpx.Client(base_url=provider.url, timeout=10) as client:
        start = time.monotonic()
        with client.stream("POST", STREAM, json=GEMINI_BODY, headers=headers) as response:
            assert response.headers["transfer-encoding"] == "chunked"
            for line in response.iter_lines():
                if line.startswith("data: "):
                    arrivals.append(time.monotonic() - start)

    assert len(arrivals) == 3
    assert 0.25 <= arrivals[0] < 0.5, "the first event waited for the whole stream, or not for the latency"
    assert arrivals[-1] >= 0.55


@pytest.mark.parametrize("stream", [False, True])
def test_response_bytes_header_sizes_a_gemini_reply(http: httpx.Client, stream: bool) -> None:
    headers = {"x-mock-response-bytes": "10000"}
    if stream:
        events = gemini_events(http.post(STREAM, json=GEMINI_BODY, headers=headers))
        text = "".join(event["candidates"][0]["content"]["parts"][0]["text"] for event in events)
    else:
        reply = http.post(GENERATE, json=GEMINI_BODY, headers=headers).json()
        text = reply["candidates"][0]["content"]["parts"][0]["text"]
    assert abs(len(text.encode()) - 10000) <= 100


def test_the_array_stream_without_alt_sse_is_400(http: httpx.Client) -> None:
    response = http.post("/v1beta/models/gemini-test:streamGenerateContent", json=GEMINI_BODY)
    assert "alt=sse" in assert_gemini_error(response, 400, "INVALID_ARGUMENT")


@pytest.mark.parametrize("stream", [False, True])
def test_function_call_through_the_google_sdk(provider: MockProvider, stream: bool) -> None:
    arguments = '{"location": "Z\\u00fcrich", "days": 3}'  # a header's value is ASCII: JSON escapes it
    client = gemini(provider, **{"x-mock-tool-call": "get_weather", "x-mock-tool-arguments": arguments})
    if stream:
        # Gemini streams a function call whole, in one event that also finishes the stream.
        [response] = client.models.generate_content_stream(
            model="gemini-test", contents="Weather?", config=WITH_WEATHER_TOOL
        )
    else:
        response = client.models.generate_content(model="gemini-test", contents="Weather?", config=WITH_WEATHER_TOOL)

    [call] = response.function_calls or []
    assert (call.name, call.args, call.id) == ("get_weather", {"location": "Zürich", "days": 3}, None)
    assert (response.candidates or [])[0].finish_reason == genai_types.FinishReason.STOP
    assert response.usage_metadata is not None and response.usage_metadata.candidates_token_count == 5
    assert response.sdk_http_response is not None and response.sdk_http_response.headers is not None
    assert response.sdk_http_response.headers["x-mock-tools"] == "1"


def test_a_streamed_function_call_is_one_event_on_the_wire(http: httpx.Client) -> None:
    headers = {"x-mock-tool-call": "get_weather", "x-mock-chunks": "3"}
    [event] = gemini_events(http.post(STREAM, json=GEMINI_BODY, headers=headers))
    [candidate] = event["candidates"]
    assert candidate["content"] == {
        "parts": [{"functionCall": {"name": "get_weather", "args": {"location": "Paris"}}}],
        "role": "model",
    }
    assert candidate["finishReason"] == "STOP"
    assert event["usageMetadata"]["candidatesTokenCount"] == 3


@pytest.mark.parametrize(
    ("tools", "count"),
    [
        (None, "0"),
        ([], "0"),
        ([{"functionDeclarations": [{"name": "a"}]}], "1"),
        ([{"functionDeclarations": [{"name": "a"}, {"name": "b"}]}, {"googleSearch": {}}], "2"),
        ([{"function_declarations": [{"name": "a"}]}, {"functionDeclarations": [{"name": "b"}]}], "2"),
    ],
)
def test_the_gemini_function_declarations_count_is_echoed(http: httpx.Client, tools: Any, count: str) -> None:
    body = GEMINI_BODY if tools is None else {**GEMINI_BODY, "tools": tools}
    for path in (GENERATE, STREAM):
        response = http.post(path, json=body)
        assert response.status_code == 200
        assert response.headers["x-mock-tools"] == count


@pytest.mark.parametrize("stream", [False, True])
def test_a_function_response_comes_back_in_the_gemini_answer(provider: MockProvider, stream: bool) -> None:
    contents: list[Any] = [genai_types.Content(role="user", parts=[genai_types.Part(text="Weather in Paris?")])]
    calling = gemini(provider, **{"x-mock-tool-call": "get_weather"})
    call = calling.models.generate_content(model="gemini-test", contents=contents, config=WITH_WEATHER_TOOL)
    [function_call] = call.function_calls or []
    assert function_call.name is not None
    result = genai_types.Part.from_function_response(name=function_call.name, response={"result": "18°C and sunny"})
    contents += [(call.candidates or [])[0].content, genai_types.Content(role="user", parts=[result])]

    client = gemini(provider)
    if stream:
        chunks = list(
            client.models.generate_content_stream(model="gemini-test", contents=contents, config=WITH_WEATHER_TOOL)
        )
        assert len(chunks) == 5
        text = "".join(chunk.text or "" for chunk in chunks)
    else:
        response = client.models.generate_content(model="gemini-test", contents=contents, config=WITH_WEATHER_TOOL)
        assert response.function_calls is None
        text = response.text or ""
    assert text == "The tool said: 18°C and sunny"


@pytest.mark.parametrize(
    ("parts", "said"),
    [
        ([{"functionResponse": {"name": "f", "response": {"output": "sunny"}}}], "sunny"),
        ([{"functionResponse": {"name": "f", "response": {"content": "sunny"}}}], "sunny"),
        ([{"functionResponse": {"name": "f", "response": {"result": {"temp": 18}}}}], '{"temp":18}'),
        ([{"functionResponse": {"name": "f", "response": {"temp": 18, "sky": "clear"}}}], '{"temp":18,"sky":"clear"}'),
        ([{"function_response": {"name": "f", "response": {"result": "sunny"}}}], "sunny"),
        (
            [
                {"functionResponse": {"name": "f", "response": {"result": "18°C"}}},
                {"functionResponse": {"name": "g", "response": {"result": "12:00"}}},
            ],
            "18°C\n12:00",
        ),
    ],
)
def test_a_function_response_is_read_as_its_result_or_as_json(http: httpx.Client, parts: Any, said: str) -> None:
    body = {"contents": [*GEMINI_BODY["contents"], {"role": "user", "parts": parts}]}
    text = http.post(GENERATE, json=body).json()["candidates"][0]["content"]["parts"][0]["text"]
    assert text == "The tool said: " + said


def test_only_a_function_response_in_the_last_content_changes_the_text(http: httpx.Client) -> None:
    result = {"functionResponse": {"name": "f", "response": {"result": "old"}}}
    contents = [
        {"role": "user", "parts": [result]},
        {"role": "model", "parts": [{"text": "Noted."}]},
        *GEMINI_BODY["contents"],
    ]
    text = http.post(GENERATE, json={"contents": contents}).json()["candidates"][0]["content"]["parts"][0]["text"]
    assert text == "Hello from the aiplane mock"


def test_the_tool_call_header_wins_over_a_function_response(http: httpx.Client) -> None:
    result = {"functionResponse": {"name": "f", "response": {"result": "18°C"}}}
    body = {"contents": [{"role": "user", "parts": [result]}]}
    reply = http.post(GENERATE, json=body, headers={"x-mock-tool-call": "get_time"}).json()
    [part] = reply["candidates"][0]["content"]["parts"]
    assert part == {"functionCall": {"name": "get_time", "args": {"location": "Paris"}}}


@pytest.mark.parametrize(
    ("status", "error_class", "google_status"),
    [
        (400, genai_errors.ClientError, "INVALID_ARGUMENT"),
        (401, genai_errors.ClientError, "UNAUTHENTICATED"),
        (403, genai_errors.ClientError, "PERMISSION_DENIED"),
        (404, genai_errors.ClientError, "NOT_FOUND"),
        (429, genai_errors.ClientError, "RESOURCE_EXHAUSTED"),
        (500, genai_errors.ServerError, "INTERNAL"),
        (503, genai_errors.ServerError, "UNAVAILABLE"),
        (504, genai_errors.ServerError, "DEADLINE_EXCEEDED"),
    ],
)
def test_status_header_reaches_the_google_sdk_in_googles_error_shape(
    provider: MockProvider, status: int, error_class: type[genai_errors.APIError], google_status: str
) -> None:
    client = gemini(provider, **{"x-mock-status": str(status)})
    for stream in (False, True):
        with pytest.raises(error_class) as raised:
            if stream:
                list(client.models.generate_content_stream(model="gemini-test", contents="Hi"))
            else:
                client.models.generate_content(model="gemini-test", contents="Hi")
        error = raised.value
        assert (error.code, error.status) == (status, google_status)
        assert error.details == {"error": {"code": status, "message": error.message, "status": google_status}}


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[1, 2]",
        orjson.dumps({}),
        orjson.dumps({"contents": []}),
        orjson.dumps({"contents": {"role": "user", "parts": [{"text": "Hi"}]}}),
        orjson.dumps({"contents": "Hi"}),
        orjson.dumps({**GEMINI_BODY, "tools": {"functionDeclarations": []}}),
        orjson.dumps({**GEMINI_BODY, "tools": [{"functionDeclarations": {"name": "f"}}]}),
    ],
)
def test_malformed_gemini_requests_are_400_in_googles_shape(http: httpx.Client, body: bytes) -> None:
    for path in (GENERATE, STREAM):
        assert_gemini_error(http.post(path, content=body), 400, "INVALID_ARGUMENT")


def test_gemini_routes_answer_errors_in_googles_shape(http: httpx.Client) -> None:
    message = assert_gemini_error(http.get(GENERATE), 404, "NOT_FOUND")
    assert message == f"Invalid URL (GET {GENERATE})"
    assert_gemini_error(http.post("/v1beta/models/gemini-test:countTokens", json=GEMINI_BODY), 404, "NOT_FOUND")
    response = http.post(GENERATE, json=GEMINI_BODY, headers={"x-mock-chunks": "-7"})
    assert "x-mock-chunks" in assert_gemini_error(response, 400, "INVALID_ARGUMENT")
    response = http.post(GENERATE, json=GEMINI_BODY, headers={"x-mock-tool-call": "f", "x-mock-tool-arguments": "[]"})
    assert "x-mock-tool-arguments" in assert_gemini_error(response, 400, "INVALID_ARGUMENT")


def test_gemini_requests_echo_the_google_api_key_and_path(provider: MockProvider, http: httpx.Client) -> None:
    client = gemini(provider, prefix="/custom/prefix")
    response = client.models.generate_content(model="gemini-test", contents="Hi")
    assert response.sdk_http_response is not None and response.sdk_http_response.headers is not None
    echoed = response.sdk_http_response.headers
    assert echoed["x-mock-goog-api-key"] == "g-test"
    assert re.fullmatch(r"/custom/prefix/v1(beta)?/models/gemini-test:generateContent", echoed["x-mock-path"])

    # Vertex AI's paths and query-string keys are served and echoed as sent.
    vertex = "/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash:generateContent?key=q"
    on_vertex = http.post(vertex, json=GEMINI_BODY, headers={"Authorization": "Bearer ya29.token"})
    assert on_vertex.status_code == 200
    assert on_vertex.json()["modelVersion"] == "gemini-2.0-flash"
    assert on_vertex.headers["x-mock-path"] == vertex
    assert on_vertex.headers["x-mock-authorization"] == "Bearer ya29.token"
    assert on_vertex.headers["x-mock-goog-api-key"] == "-"


@pytest.mark.parametrize("path", [GENERATE, "/v1/messages", "/v1/chat/completions", "/nowhere"])
def test_the_google_api_key_header_is_echoed_and_a_missing_one_is_a_dash(http: httpx.Client, path: str) -> None:
    with_key = http.post(path, json=GEMINI_BODY, headers={"x-goog-api-key": "g-test"})
    without = http.post(path, json=GEMINI_BODY)
    assert with_key.headers["x-mock-goog-api-key"] == "g-test"
    assert without.headers["x-mock-goog-api-key"] == "-"


@pytest.mark.parametrize(("after", "sent"), [("0", 0), ("2", 2), ("99", 5)])
def test_gemini_stream_error_after_k_events(provider: MockProvider, http: httpx.Client, after: str, sent: int) -> None:
    headers = {"x-mock-stream-error-after": after}
    events = gemini_events(http.post(STREAM, json=GEMINI_BODY, headers=headers))

    assert events[-1] == {"error": {"code": 503, "message": "mock overload", "status": "UNAVAILABLE"}}
    pieces = events[:-1]
    assert [event["candidates"][0]["content"]["parts"][0]["text"] for event in pieces] == [
        "Hello",
        " from",
        " the",
        " aiplane",
        " mock",
    ][:sent]
    # Cut off: no event finishes the stream, even when every piece was sent.
    assert all("finishReason" not in event["candidates"][0] and "usageMetadata" not in event for event in pieces)

    received: list[str] = []
    client = gemini(provider, **headers)
    with pytest.raises(genai_errors.ServerError) as raised:
        for chunk in client.models.generate_content_stream(model="gemini-test", contents="Hi"):
            received.append(chunk.text or "")
    assert len(received) == sent
    assert (raised.value.code, raised.value.status, raised.value.message) == (503, "UNAVAILABLE", "mock overload")


@pytest.mark.parametrize(("after", "calls"), [("0", 0), ("1", 1), ("3", 1)])
def test_gemini_stream_error_cuts_a_function_call_too(http: httpx.Client, after: str, calls: int) -> None:
    headers = {"x-mock-tool-call": "get_weather", "x-mock-stream-error-after": after}
    *pieces, error = gemini_events(http.post(STREAM, json=GEMINI_BODY, headers=headers))
    assert error["error"]["status"] == "UNAVAILABLE"
    assert len(pieces) == calls
    for event in pieces:
        assert event["candidates"][0]["content"]["parts"][0]["functionCall"]["name"] == "get_weather"
        assert "finishReason" not in event["candidates"][0]


def test_stream_error_header_leaves_an_unstreamed_gemini_reply_alone(http: httpx.Client) -> None:
    reply = http.post(GENERATE, json=GEMINI_BODY, headers={"x-mock-stream-error-after": "1"}).json()
    assert reply["candidates"][0]["finishReason"] == "STOP"


# AWS Bedrock's Converse and ConverseStream, chosen by the `…/model/{modelId}/converse[-stream]` path, obey the same
# x-mock-* headers once the request is authenticated (with a SigV4 signature or a Bedrock API key).

CLAUDE_ON_BEDROCK = "anthropic.claude-3-5-sonnet-20240620-v1:0"
CONVERSE = "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
CONVERSE_STREAM = "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream"
CONVERSE_BODY = {"messages": [{"role": "user", "content": [{"text": "Say hello."}]}]}
BEARER = {"Authorization": "Bearer ABSKbW9jaw=="}
BEDROCK_WEATHER_TOOL = {
    "toolSpec": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "inputSchema": {"json": {"type": "object", "properties": {"location": {"type": "string"}}}},
    }
}
SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key "
    "and signing method. Consult the service documentation for details."
)


def bedrock_client(
    provider: MockProvider,
    access_key: str = MOCK_AWS_ACCESS_KEY_ID,
    secret: str = MOCK_AWS_SECRET_ACCESS_KEY,
) -> Any:
    """botocore's own bedrock-runtime client on the mock: it signs with SigV4 and reads the event-stream frames."""
    return botocore.session.get_session().create_client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=provider.url,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret,
        config=BotocoreConfig(retries={"max_attempts": 0}),
    )


@pytest.fixture(scope="module")
def bedrock(provider: MockProvider) -> Any:
    return bedrock_client(provider)


def sigv4(
    provider: MockProvider,
    path: str,
    body: bytes,
    *,
    access_key: str = MOCK_AWS_ACCESS_KEY_ID,
    secret: str = MOCK_AWS_SECRET_ACCESS_KEY,
    token: str | None = None,
    service: str = "bedrock",
    signer: type[SigV4Auth] = SigV4Auth,
) -> dict[str, str]:
    """The headers botocore signs a POST of `body` to `path` with, as an AWS SDK would, for httpx to send."""
    request = AWSRequest("POST", provider.url + path, data=body, headers={"Content-Type": "application/json"})
    signer(Credentials(access_key, secret, token), service, "us-west-2").add_auth(request)
    return dict(request.headers.items())


def signed_post(
    http: httpx.Client, provider: MockProvider, path: str, body: Any, headers: dict[str, str] | None = None
) -> httpx.Response:
    content = orjson.dumps(body)
    return http.post(path, content=content, headers={**sigv4(provider, path, content), **(headers or {})})


def frames(response: httpx.Response) -> list[tuple[str, Any]]:
    """An event stream's frames as (event or exception type, decoded payload), read with the gateway's parser.

    Every event's payload must carry Bedrock's padding field `p`, which is taken out here.
    """
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.amazon.eventstream"
    parser = EventStreamParser()
    events = [*parser.feed(response.content), *parser.finish()]
    decoded = []
    for event in events:
        payload = orjson.loads(event.data)
        if not is_exception(event.event):
            assert payload.pop("p") == "abcdefgh"
        decoded.append((event.event, payload))
    return decoded


def assert_bedrock_error(response: httpx.Response, status: int, exception: str) -> str:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-amzn-ErrorType"] == exception
    body = response.json()
    assert set(body) == {"message"} and body["message"]
    return body["message"]


def test_converse_through_botocore(bedrock: Any) -> None:
    response = bedrock.converse(
        modelId=CLAUDE_ON_BEDROCK,
        messages=[{"role": "user", "content": [{"text": "Hi"}]}],
        system=[{"text": "Be brief."}],
        inferenceConfig={"maxTokens": 100},
    )

    assert response["output"] == {
        "message": {"role": "assistant", "content": [{"text": "Hello from the aiplane mock"}]}
    }
    assert response["stopReason"] == "end_turn"
    usage = response["usage"]
    assert usage["outputTokens"] == 5
    assert usage["totalTokens"] == usage["inputTokens"] + 5
    echoed = response["ResponseMetadata"]["HTTPHeaders"]
    # botocore percent-encodes the model id's `:` in the path; the mock decodes it.
    assert echoed["x-mock-path"] == CONVERSE
    assert echoed["x-mock-signed-headers"] == "content-type;host;x-amz-date"
    assert re.fullmatch(r"\d{8}T\d{6}Z", echoed["x-mock-amz-date"])
    assert echoed["x-mock-tools"] == "0"


def test_converse_wire_format_is_bedrocks(http: httpx.Client) -> None:
    body = orjson.dumps(CONVERSE_BODY)
    response = http.post(CONVERSE, content=body, headers={**BEARER, "x-mock-chunks": "3"})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    tokens = len(body) // 4
    assert response.json() == {
        "output": {"message": {"role": "assistant", "content": [{"text": "Hello from the"}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": tokens, "outputTokens": 3, "totalTokens": tokens + 3},
        "metrics": {"latencyMs": 0},
    }
    assert response.headers["x-mock-authorization"] == BEARER["Authorization"]
    assert response.headers["x-mock-signed-headers"] == "-"
    assert response.headers["x-mock-amz-date"] == "-"


def test_converse_stream_through_botocore(bedrock: Any) -> None:
    response = bedrock.converse_stream(
        modelId=CLAUDE_ON_BEDROCK, messages=[{"role": "user", "content": [{"text": "Hi"}]}]
    )
    events = list(response["stream"])

    assert [next(iter(event)) for event in events] == [
        "messageStart",
        *["contentBlockDelta"] * 5,
        "contentBlockStop",
        "messageStop",
        "metadata",
    ]
    assert events[0]["messageStart"] == {"role": "assistant"}
    assert (
        "".join(event["contentBlockDelta"]["delta"]["text"] for event in events[1:6]) == "Hello from the aiplane mock"
    )
    assert events[-2]["messageStop"]["stopReason"] == "end_turn"
    assert events[-1]["metadata"]["usage"]["outputTokens"] == 5
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-mock-path"] == CONVERSE_STREAM


def test_converse_stream_frames_are_bedrocks(http: httpx.Client) -> None:
    body = orjson.dumps(CONVERSE_BODY)
    response = http.post(CONVERSE_STREAM, content=body, headers={**BEARER, "x-mock-chunks": "3"})

    tokens = len(body) // 4
    assert frames(response) == [
        ("messageStart", {"role": "assistant"}),
        ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Hello"}}),
        ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": " from"}}),
        ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": " the"}}),
        ("contentBlockStop", {"contentBlockIndex": 0}),
        ("messageStop", {"stopReason": "end_turn"}),
        (
            "metadata",
            {
                "usage": {"inputTokens": tokens, "outputTokens": 3, "totalTokens": tokens + 3},
                "metrics": {"latencyMs": 0},
            },
        ),
    ]
    # Each frame is an event, with the headers botocore's own reader expects.
    buffer = EventStreamBuffer()
    buffer.add_data(response.content)
    headers = [frame.headers for frame in buffer]
    assert all(h[":message-type"] == "event" and h[":content-type"] == "application/json" for h in headers)


def test_converse_stream_events_are_sent_as_they_are_produced(provider: MockProvider) -> None:
    headers = {**BEARER, "x-mock-chunks": "3", "x-mock-chunk-interval-ms": "150"}
    arrivals: list[float] = []
    with httpx.Client(base_url=provider.url, timeout=10) as client:
        start = time.monotonic()
        with client.stream("POST", CONVERSE_STREAM, json=CONVERSE_BODY, headers=headers) as response:
            parser = EventStreamParser()
            for chunk in response.iter_raw():
                arrivals.extend(time.monotonic() - start for _ in parser.feed(chunk))

    assert len(arrivals) == 1 + 3 + 3
    assert arrivals[0] < 0.3, "the first event waited for the whole stream"
    assert arrivals[-1] >= 0.45


@pytest.mark.parametrize("stream", [False, True])
def test_response_bytes_header_sizes_a_converse_reply(http: httpx.Client, stream: bool) -> None:
    headers = {**BEARER, "x-mock-response-bytes": "10000"}
    if stream:
        events = frames(http.post(CONVERSE_STREAM, json=CONVERSE_BODY, headers=headers))
        text = "".join(payload["delta"]["text"] for name, payload in events if name == "contentBlockDelta")
    else:
        text = http.post(CONVERSE, json=CONVERSE_BODY, headers=headers).json()["output"]["message"]["content"][0][
            "text"
        ]
    assert abs(len(text.encode()) - 10000) <= 100


@pytest.mark.parametrize("stream", [False, True])
def test_tool_use_through_botocore(bedrock: Any, stream: bool) -> None:
    arguments = '{"location": "Z\\u00fcrich", "days": 3}'  # a header's value is ASCII: JSON escapes it

    def add_headers(request: AWSRequest, **_: Any) -> None:
        request.headers["x-mock-tool-call"] = "get_weather"
        request.headers["x-mock-tool-arguments"] = arguments

    event = f"before-sign.bedrock-runtime.{'ConverseStream' if stream else 'Converse'}"
    bedrock.meta.events.register(event, add_headers)
    try:
        call = {
            "modelId": CLAUDE_ON_BEDROCK,
            "messages": [{"role": "user", "content": [{"text": "Weather?"}]}],
            "toolConfig": {"tools": [BEDROCK_WEATHER_TOOL]},
        }
        if stream:
            events = list(bedrock.converse_stream(**call)["stream"])
            start = events[1]["contentBlockStart"]["start"]["toolUse"]
            fragments = [
                e["contentBlockDelta"]["delta"]["toolUse"]["input"] for e in events if "contentBlockDelta" in e
            ]
            tool_use = {**start, "input": orjson.loads("".join(fragments))}
            stop_reason = events[-2]["messageStop"]["stopReason"]
        else:
            response = bedrock.converse(**call)
            [block] = response["output"]["message"]["content"]
            tool_use, stop_reason = block["toolUse"], response["stopReason"]
    finally:
        bedrock.meta.events.unregister(event, add_headers)

    assert tool_use["toolUseId"].startswith("tooluse_mock_")
    assert (tool_use["name"], tool_use["input"]) == ("get_weather", {"location": "Zürich", "days": 3})
    assert stop_reason == "tool_use"


@pytest.mark.parametrize("chunks", [None, "3", "1", "1000"])
def test_streamed_tool_use_input_arrives_in_fragments(http: httpx.Client, chunks: str | None) -> None:
    arguments = '{"location": "Paris", "unit": "celsius"}'
    headers = {**BEARER, "x-mock-tool-call": "get_weather", "x-mock-tool-arguments": arguments}
    if chunks is not None:
        headers["x-mock-chunks"] = chunks
    events = frames(http.post(CONVERSE_STREAM, json=CONVERSE_BODY, headers=headers))

    names = [name for name, _ in events]
    fragments = [payload["delta"]["toolUse"]["input"] for name, payload in events if name == "contentBlockDelta"]
    assert names == [
        "messageStart",
        "contentBlockStart",
        *["contentBlockDelta"] * len(fragments),
        "contentBlockStop",
        "messageStop",
        "metadata",
    ]
    start = events[1][1]
    assert start["contentBlockIndex"] == 0
    assert start["start"]["toolUse"]["name"] == "get_weather"
    assert start["start"]["toolUse"]["toolUseId"].startswith("tooluse_mock_")
    assert "".join(fragments) == arguments
    assert len(fragments) == min(int(chunks or 5), len(arguments))
    assert events[-2] == ("messageStop", {"stopReason": "tool_use"})
    assert events[-1][1]["usage"]["outputTokens"] == len(fragments)


@pytest.mark.parametrize("stream", [False, True])
def test_a_tool_result_comes_back_in_the_converse_answer(bedrock: Any, stream: bool) -> None:
    messages: list[Any] = [{"role": "user", "content": [{"text": "Weather in Paris?"}]}]
    tool_use = {"toolUseId": "tooluse_1", "name": "get_weather", "input": {"location": "Paris"}}
    messages += [
        {"role": "assistant", "content": [{"toolUse": tool_use}]},
        {
            "role": "user",
            "content": [
                {"toolResult": {"toolUseId": "tooluse_1", "content": [{"text": "18°C and sunny"}], "status": "success"}}
            ],
        },
    ]
    call = {"modelId": CLAUDE_ON_BEDROCK, "messages": messages, "toolConfig": {"tools": [BEDROCK_WEATHER_TOOL]}}
    if stream:
        events = list(bedrock.converse_stream(**call)["stream"])
        deltas = [event["contentBlockDelta"]["delta"]["text"] for event in events if "contentBlockDelta" in event]
        assert len(deltas) == 5
        text = "".join(deltas)
    else:
        response = bedrock.converse(**call)
        assert response["stopReason"] == "end_turn"
        text = response["output"]["message"]["content"][0]["text"]
    assert text == "The tool said: 18°C and sunny"


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ([{"toolResult": {"toolUseId": "t", "content": [{"json": {"temp": 18}}]}}], '{"temp":18}'),
        (
            [{"toolResult": {"toolUseId": "t", "content": [{"text": "18°C"}, {"json": {"sky": "clear"}}]}}],
            '18°C{"sky":"clear"}',
        ),
        (
            [
                {"toolResult": {"toolUseId": "a", "content": [{"text": "18°C"}], "status": "success"}},
                {"toolResult": {"toolUseId": "b", "content": [{"text": "12:00"}]}},
            ],
            "18°C\n12:00",
        ),
        (
            [
                {"toolResult": {"toolUseId": "t", "content": [{"text": "failed"}], "status": "error"}},
                {"text": "Go on."},
            ],
            "failed",
        ),
    ],
)
def test_a_bedrock_tool_result_is_read_as_its_text_and_json(http: httpx.Client, content: Any, said: str) -> None:
    body = {"messages": [{"role": "user", "content": content}]}
    text = http.post(CONVERSE, json=body, headers=BEARER).json()["output"]["message"]["content"][0]["text"]
    assert text == "The tool said: " + said


def test_only_a_tool_result_in_the_last_user_message_changes_the_converse_text(http: httpx.Client) -> None:
    result = {"toolResult": {"toolUseId": "t", "content": [{"text": "old"}]}}
    messages = [
        {"role": "user", "content": [result]},
        {"role": "assistant", "content": [{"text": "Noted."}]},
        *CONVERSE_BODY["messages"],
    ]
    reply = http.post(CONVERSE, json={"messages": messages}, headers=BEARER).json()
    assert reply["output"]["message"]["content"] == [{"text": "Hello from the aiplane mock"}]


def test_the_tool_call_header_wins_over_a_bedrock_tool_result(http: httpx.Client) -> None:
    result = {"toolResult": {"toolUseId": "t", "content": [{"text": "18°C"}]}}
    body = {"messages": [{"role": "user", "content": [result]}]}
    reply = http.post(CONVERSE, json=body, headers={**BEARER, "x-mock-tool-call": "get_time"}).json()
    [block] = reply["output"]["message"]["content"]
    assert block["toolUse"]["name"] == "get_time"
    assert block["toolUse"]["input"] == {"location": "Paris"}
    assert reply["stopReason"] == "tool_use"


@pytest.mark.parametrize(
    ("tools", "count"),
    [
        (None, "0"),
        ([BEDROCK_WEATHER_TOOL], "1"),
        ([BEDROCK_WEATHER_TOOL, {"toolSpec": {"name": "get_time", "inputSchema": {"json": {}}}}], "2"),
        ([BEDROCK_WEATHER_TOOL, {"cachePoint": {"type": "default"}}], "1"),
    ],
)
def test_the_bedrock_tool_spec_count_is_echoed(http: httpx.Client, tools: Any, count: str) -> None:
    body = CONVERSE_BODY if tools is None else {**CONVERSE_BODY, "toolConfig": {"tools": tools}}
    for path in (CONVERSE, CONVERSE_STREAM):
        response = http.post(path, json=body, headers=BEARER)
        assert response.status_code == 200
        assert response.headers["x-mock-tools"] == count


@pytest.mark.parametrize(("after", "sent"), [("0", 0), ("2", 2), ("99", 5)])
def test_converse_stream_error_after_k_deltas(bedrock: Any, http: httpx.Client, after: str, sent: int) -> None:
    headers = {**BEARER, "x-mock-stream-error-after": after}
    response = http.post(CONVERSE_STREAM, json=CONVERSE_BODY, headers=headers)
    *events, error = frames(response)

    assert error == ("modelStreamErrorException", {"message": "mock overload"})
    assert events == [
        ("messageStart", {"role": "assistant"}),
        *[
            ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": text}})
            for text in ["Hello", " from", " the", " aiplane", " mock"][:sent]
        ],
    ]
    buffer = EventStreamBuffer()
    buffer.add_data(response.content)
    *_, last = buffer
    assert last.headers[":message-type"] == "exception"
    assert last.headers[":exception-type"] == "modelStreamErrorException"

    # botocore raises the exception where the stream breaks.
    def add_header(request: AWSRequest, **_: Any) -> None:
        request.headers["x-mock-stream-error-after"] = after

    bedrock.meta.events.register("before-sign.bedrock-runtime.ConverseStream", add_header)
    received: list[Any] = []
    try:
        with pytest.raises(EventStreamError) as raised:
            for event in bedrock.converse_stream(modelId=CLAUDE_ON_BEDROCK, messages=CONVERSE_BODY["messages"])[
                "stream"
            ]:
                received.append(event)
    finally:
        bedrock.meta.events.unregister("before-sign.bedrock-runtime.ConverseStream", add_header)
    assert len(received) == 1 + sent
    assert raised.value.response["Error"] == {"Code": "modelStreamErrorException", "Message": "mock overload"}


def test_converse_stream_error_cuts_a_tool_use_too(http: httpx.Client) -> None:
    headers = {**BEARER, "x-mock-tool-call": "get_weather", "x-mock-stream-error-after": "2", "x-mock-chunks": "4"}
    events = frames(http.post(CONVERSE_STREAM, json=CONVERSE_BODY, headers=headers))
    assert [name for name, _ in events] == [
        "messageStart",
        "contentBlockStart",
        "contentBlockDelta",
        "contentBlockDelta",
        "modelStreamErrorException",
    ]


def test_stream_error_header_leaves_an_unstreamed_converse_reply_alone(http: httpx.Client) -> None:
    reply = http.post(CONVERSE, json=CONVERSE_BODY, headers={**BEARER, "x-mock-stream-error-after": "1"}).json()
    assert reply["stopReason"] == "end_turn"


@pytest.mark.parametrize(
    ("status", "exception"),
    [
        (400, "ValidationException"),
        (403, "AccessDeniedException"),
        (404, "ResourceNotFoundException"),
        (408, "ModelTimeoutException"),
        (424, "ModelErrorException"),
        (429, "ThrottlingException"),
        (500, "InternalServerException"),
        (503, "ServiceUnavailableException"),
        (409, "ValidationException"),
        (502, "InternalServerException"),
    ],
)
def test_status_header_answers_a_bedrock_error(http: httpx.Client, status: int, exception: str) -> None:
    for path in (CONVERSE, CONVERSE_STREAM, "/model/amazon.titan-embed-text-v2%3A0/invoke"):
        response = http.post(path, json=CONVERSE_BODY, headers={**BEARER, "x-mock-status": str(status)})
        assert assert_bedrock_error(response, status, exception) == f"mock error {status}, as asked by x-mock-status"
        assert ("retry-after" in response.headers) == (status == 429)


@pytest.mark.parametrize("status", [429, 503])
def test_status_header_reaches_botocore_as_its_client_error(provider: MockProvider, status: int) -> None:
    client = bedrock_client(provider)

    def add_header(request: AWSRequest, **_: Any) -> None:
        request.headers["x-mock-status"] = str(status)

    client.meta.events.register("before-sign.bedrock-runtime.*", add_header)
    for operation in (client.converse, client.converse_stream):
        with pytest.raises(ClientError) as raised:
            operation(modelId=CLAUDE_ON_BEDROCK, messages=CONVERSE_BODY["messages"])
        error = raised.value.response
        assert error["ResponseMetadata"]["HTTPStatusCode"] == status
        assert error["Error"]["Code"] == {429: "ThrottlingException", 503: "ServiceUnavailableException"}[status]


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[1, 2]",
        orjson.dumps({}),
        orjson.dumps({"messages": []}),
        orjson.dumps({"messages": {"role": "user", "content": [{"text": "Hi"}]}}),
        orjson.dumps({"messages": [{"role": "user", "content": "Hi"}]}),
        orjson.dumps({"messages": [{"role": "system", "content": [{"text": "Hi"}]}]}),
        orjson.dumps({"messages": [{"role": "assistant", "content": [{"text": "Hi"}]}]}),
        orjson.dumps({**CONVERSE_BODY, "system": "Be brief."}),
        orjson.dumps({**CONVERSE_BODY, "inferenceConfig": [1]}),
        orjson.dumps({**CONVERSE_BODY, "toolConfig": {"tools": []}}),
        orjson.dumps({**CONVERSE_BODY, "toolConfig": {"tools": BEDROCK_WEATHER_TOOL}}),
    ],
)
def test_malformed_converse_requests_are_400_validation_exceptions(http: httpx.Client, body: bytes) -> None:
    for path in (CONVERSE, CONVERSE_STREAM):
        assert_bedrock_error(http.post(path, content=body, headers=BEARER), 400, "ValidationException")


def test_bedrock_routes_answer_errors_in_bedrocks_shape(http: httpx.Client) -> None:
    message = assert_bedrock_error(http.get(CONVERSE, headers=BEARER), 404, "ResourceNotFoundException")
    assert message == f"Invalid URL (GET {CONVERSE.replace('%3A', ':')})"
    response = http.post("/model/m/invoke-with-response-stream", json={}, headers=BEARER)
    assert_bedrock_error(response, 404, "ResourceNotFoundException")
    response = http.post(CONVERSE, json=CONVERSE_BODY, headers={**BEARER, "x-mock-chunks": "0"})
    assert "x-mock-chunks" in assert_bedrock_error(response, 400, "ValidationException")


def test_an_arn_model_id_is_decoded_from_the_raw_path(http: httpx.Client) -> None:
    arn = "arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-3-5-sonnet"
    response = http.post(f"/model/{arn}/converse", json=CONVERSE_BODY, headers=BEARER)
    assert response.status_code == 200
    assert response.headers["x-mock-path"] == f"/model/{arn}/converse"


def test_the_latency_header_delays_a_converse_reply(http: httpx.Client) -> None:
    start = time.monotonic()
    response = http.post(CONVERSE, json=CONVERSE_BODY, headers={**BEARER, "x-mock-latency-ms": "200"})
    assert response.status_code == 200
    assert time.monotonic() - start >= 0.2


# Bedrock authentication, checked as AWS checks it.


@pytest.mark.parametrize("path", [CONVERSE, CONVERSE_STREAM])
def test_a_sigv4_signature_over_a_model_id_with_a_colon_is_accepted(
    http: httpx.Client, provider: MockProvider, path: str
) -> None:
    # The raw path holds `%3A`, which SigV4 signs as `%253A`: the mock must sign what it received, as AWS does.
    response = signed_post(http, provider, path, CONVERSE_BODY)
    assert response.status_code == 200
    assert response.headers["x-mock-path"] == path
    assert response.headers["x-mock-signed-headers"] == "content-type;host;x-amz-date"
    assert response.headers["x-mock-authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={MOCK_AWS_ACCESS_KEY_ID}/")


def test_a_signature_over_the_path_encoded_once_is_refused(http: httpx.Client, provider: MockProvider) -> None:
    # botocore's S3 signer does not encode the path again: a signer that forgets to is caught.
    content = orjson.dumps(CONVERSE_BODY)
    headers = sigv4(provider, CONVERSE, content, signer=S3SigV4Auth)
    response = http.post(CONVERSE, content=content, headers=headers)
    assert assert_bedrock_error(response, 403, "InvalidSignatureException") == SIGNATURE_MISMATCH
    # The encoding is all that differs: where the path has nothing to encode, the two signers agree.
    plain = "/model/mock-model/converse"
    response = http.post(plain, content=content, headers=sigv4(provider, plain, content, signer=S3SigV4Auth))
    assert response.status_code == 200


def test_a_tampered_body_is_an_invalid_signature(http: httpx.Client, provider: MockProvider) -> None:
    headers = sigv4(provider, CONVERSE, orjson.dumps(CONVERSE_BODY))
    tampered = orjson.dumps({"messages": [{"role": "user", "content": [{"text": "Say goodbye."}]}]})
    response = http.post(CONVERSE, content=tampered, headers=headers)
    assert assert_bedrock_error(response, 403, "InvalidSignatureException") == SIGNATURE_MISMATCH


def test_a_tampered_signed_header_or_path_is_an_invalid_signature(http: httpx.Client, provider: MockProvider) -> None:
    content = orjson.dumps(CONVERSE_BODY)
    headers = sigv4(provider, CONVERSE, content)
    second = "58Z" if headers["X-Amz-Date"].endswith("59Z") else "59Z"
    later = {**headers, "X-Amz-Date": headers["X-Amz-Date"][:-3] + second}
    assert_bedrock_error(http.post(CONVERSE, content=content, headers=later), 403, "InvalidSignatureException")
    assert_bedrock_error(http.post(CONVERSE_STREAM, content=content, headers=headers), 403, "InvalidSignatureException")
    # An unsigned header may change.
    response = http.post(CONVERSE, content=content, headers={**headers, "x-mock-chunks": "2"})
    assert response.status_code == 200


def test_a_session_token_that_was_signed_is_accepted(http: httpx.Client, provider: MockProvider) -> None:
    content = orjson.dumps(CONVERSE_BODY)
    headers = sigv4(provider, CONVERSE, content, token="FwoGZXIvYXdzEmock")
    response = http.post(CONVERSE, content=content, headers=headers)
    assert response.status_code == 200
    assert response.headers["x-mock-signed-headers"] == "content-type;host;x-amz-date;x-amz-security-token"
    assert response.headers["x-mock-amz-date"] == headers["X-Amz-Date"]

    other_token = {**headers, "X-Amz-Security-Token": "another"}
    assert_bedrock_error(http.post(CONVERSE, content=content, headers=other_token), 403, "InvalidSignatureException")


def test_a_wrong_secret_through_botocore_is_an_invalid_signature(provider: MockProvider) -> None:
    client = bedrock_client(provider, secret="not/the/secret")
    with pytest.raises(ClientError) as raised:
        client.converse(modelId=CLAUDE_ON_BEDROCK, messages=CONVERSE_BODY["messages"])
    error = raised.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error["Error"] == {"Code": "InvalidSignatureException", "Message": SIGNATURE_MISMATCH}


def test_an_unknown_access_key_is_an_unrecognized_client(http: httpx.Client, provider: MockProvider) -> None:
    content = orjson.dumps(CONVERSE_BODY)
    headers = sigv4(provider, CONVERSE, content, access_key="AKIDSOMEONEELSE")
    message = assert_bedrock_error(
        http.post(CONVERSE, content=content, headers=headers), 403, "UnrecognizedClientException"
    )
    assert message == "The security token included in the request is invalid."


@pytest.mark.parametrize(
    "path", [CONVERSE, CONVERSE_STREAM, "/model/amazon.titan-embed-text-v2%3A0/invoke", "/model/m/unknown-action"]
)
@pytest.mark.parametrize("authorization", [None, "", "Bearer"])
def test_no_authentication_is_a_missing_token_on_every_bedrock_route(
    http: httpx.Client, path: str, authorization: str | None
) -> None:
    # AWS authenticates first: the x-mock-* headers are not even read.
    headers = (
        {"x-mock-status": "500"} if authorization is None else {"Authorization": authorization, "x-mock-status": "500"}
    )
    response = http.post(path, json=CONVERSE_BODY, headers=headers)
    assert assert_bedrock_error(response, 403, "MissingAuthenticationTokenException") == "Missing Authentication Token"


def test_authentication_applies_to_bedrock_routes_alone(http: httpx.Client) -> None:
    assert http.post("/v1/chat/completions", json=CHAT_BODY).status_code == 200
    assert http.post(GENERATE, json=GEMINI_BODY).status_code == 200


def test_an_incomplete_signature_is_refused(http: httpx.Client, provider: MockProvider) -> None:
    content = orjson.dumps(CONVERSE_BODY)
    headers = sigv4(provider, CONVERSE, content)
    without_date = {name: value for name, value in headers.items() if name != "X-Amz-Date"}
    response = http.post(CONVERSE, content=content, headers=without_date)
    message = assert_bedrock_error(response, 403, "IncompleteSignatureException")
    assert "'X-Amz-Date'" in message

    no_signature = headers["Authorization"].rsplit(", Signature=", 1)[0]
    response = http.post(CONVERSE, content=content, headers={**headers, "Authorization": no_signature})
    assert "'Signature' parameter" in assert_bedrock_error(response, 403, "IncompleteSignatureException")

    response = http.post(CONVERSE, content=content, headers={**headers, "Authorization": "Basic dXNlcjpwYXNz"})
    assert_bedrock_error(response, 403, "IncompleteSignatureException")

    bad_date = {**headers, "X-Amz-Date": "yesterday"}
    assert_bedrock_error(http.post(CONVERSE, content=content, headers=bad_date), 403, "IncompleteSignatureException")


def test_a_signature_scoped_to_another_service_is_refused(http: httpx.Client, provider: MockProvider) -> None:
    content = orjson.dumps(CONVERSE_BODY)
    headers = sigv4(provider, CONVERSE, content, service="sagemaker")
    message = assert_bedrock_error(
        http.post(CONVERSE, content=content, headers=headers), 403, "InvalidSignatureException"
    )
    assert message == "Credential should be scoped to correct service: 'bedrock'."


def test_a_signature_without_the_host_is_refused(http: httpx.Client, provider: MockProvider) -> None:
    content = orjson.dumps(CONVERSE_BODY)
    headers = sigv4(provider, CONVERSE, content)
    headers["Authorization"] = headers["Authorization"].replace(
        "content-type;host;x-amz-date", "content-type;x-amz-date"
    )
    message = assert_bedrock_error(
        http.post(CONVERSE, content=content, headers=headers), 403, "InvalidSignatureException"
    )
    assert "'Host'" in message


def test_signed_headers_and_amz_date_are_echoed_on_every_route(http: httpx.Client, provider: MockProvider) -> None:
    content = orjson.dumps(CHAT_BODY)
    headers = sigv4(provider, "/v1/chat/completions", content)
    response = http.post("/v1/chat/completions", content=content, headers=headers)
    assert response.headers["x-mock-signed-headers"] == "content-type;host;x-amz-date"
    assert response.headers["x-mock-amz-date"] == headers["X-Amz-Date"]
    plain = http.post("/v1/chat/completions", json=CHAT_BODY)
    assert (plain.headers["x-mock-signed-headers"], plain.headers["x-mock-amz-date"]) == ("-", "-")


# Embeddings: OpenAI's (and Azure's), Gemini's and Amazon Titan's on Bedrock, one vector for one text in each.

TITAN_V2 = "/model/amazon.titan-embed-text-v2%3A0/invoke"
TITAN_G1 = "/model/amazon.titan-embed-text-v1/invoke"
EMBED_CONTENT = "/v1beta/models/text-embedding-004:embedContent"
BATCH_EMBED = "/v1beta/models/text-embedding-004:batchEmbedContents"


def norm(vector: list[float]) -> float:
    return math.sqrt(math.fsum(value * value for value in vector))


def float32s(encoded: str) -> list[float]:
    return list(struct.unpack(f"<{len(base64.b64decode(encoded)) // 4}f", base64.b64decode(encoded)))


def test_openai_embeddings_through_the_openai_sdk(provider: MockProvider, http: httpx.Client) -> None:
    client = sdk(provider)
    # The SDK asks for base64 when its caller names no format, and decodes it.
    response = client.embeddings.create(model="text-embedding-3-small", input=["Hello", "world"])

    assert response.model == "text-embedding-3-small"
    assert [item.index for item in response.data] == [0, 1]
    assert all(len(item.embedding) == 1536 for item in response.data)
    assert response.usage.prompt_tokens == response.usage.total_tokens == 2
    as_floats = http.post("/v1/embeddings", json={"model": "m", "input": ["Hello", "world"]}).json()
    assert [item.embedding for item in response.data] == [item["embedding"] for item in as_floats["data"]]


def test_openai_embeddings_wire_format(http: httpx.Client) -> None:
    text = "The quick brown fox jumps over the lazy dog"
    response = http.post(
        "/v1/embeddings", json={"model": "text-embedding-3-small", "input": text, "encoding_format": "float"}
    )

    assert response.status_code == 200
    answer = response.json()
    [item] = answer["data"]
    assert set(answer) == {"object", "data", "model", "usage"}
    assert (answer["object"], answer["model"]) == ("list", "text-embedding-3-small")
    assert answer["usage"] == {"prompt_tokens": len(text) // 4, "total_tokens": len(text) // 4}
    assert set(item) == {"object", "index", "embedding"}
    assert (item["object"], item["index"], len(item["embedding"])) == ("embedding", 0, 1536)
    assert abs(norm(item["embedding"]) - 1) < 1e-5
    again = http.post("/v1/embeddings", json={"model": "other", "input": [text]}).json()
    assert again["data"][0]["embedding"] == item["embedding"], "the same text must be the same vector"
    other = http.post("/v1/embeddings", json={"model": "other", "input": text + "."}).json()
    assert other["data"][0]["embedding"] != item["embedding"]


def test_base64_embeddings_are_the_same_float32_values(http: httpx.Client) -> None:
    body = {"model": "m", "input": ["a", "b"], "dimensions": 64}
    floats = http.post("/v1/embeddings", json=body).json()["data"]
    encoded = http.post("/v1/embeddings", json={**body, "encoding_format": "base64"}).json()["data"]
    assert [float32s(item["embedding"]) for item in encoded] == [item["embedding"] for item in floats]
    assert all(len(item["embedding"]) == 64 for item in floats)


@pytest.mark.parametrize(
    ("value", "tokens"),
    [([1, 2, 3], [3]), ([[1, 2], [3, 4, 5]], [2, 3]), (["hello there", [7]], [2, 1])],
)
def test_openai_embeddings_take_token_ids(http: httpx.Client, value: Any, tokens: list[int]) -> None:
    answer = http.post("/v1/embeddings", json={"model": "m", "input": value}).json()
    assert [item["index"] for item in answer["data"]] == list(range(len(tokens)))
    assert answer["usage"]["prompt_tokens"] == sum(tokens)


def test_shortened_embeddings_are_the_first_values_normalized_again(http: httpx.Client) -> None:
    full = http.post("/v1/embeddings", json={"model": "m", "input": "x"}).json()["data"][0]["embedding"]
    short = http.post("/v1/embeddings", json={"model": "m", "input": "x", "dimensions": 8}).json()["data"][0][
        "embedding"
    ]
    scale = norm(full[:8])
    assert short == pytest.approx([value / scale for value in full[:8]], rel=1e-5)


def test_azure_embeddings_take_the_deployment_as_the_model(http: httpx.Client) -> None:
    path = "/openai/deployments/my-embedder/embeddings?api-version=2024-10-21"
    response = http.post(path, json={"input": "Hello"}, headers={"api-key": "azure-key"})
    assert response.status_code == 200
    assert response.json()["model"] == "my-embedder"
    assert response.headers["x-mock-azure-api-key"] == "azure-key"
    assert response.headers["x-mock-path"] == path
    assert http.post(path, json={"input": "Hello", "model": "named"}).json()["model"] == "named"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": "Hello"}, "model"),
        ({"model": "m"}, "input"),
        ({"model": "m", "input": ""}, "input"),
        ({"model": "m", "input": []}, "input"),
        ({"model": "m", "input": ["ok", ""]}, "input"),
        ({"model": "m", "input": [[]]}, "input"),
        ({"model": "m", "input": [True]}, "input"),
        ({"model": "m", "input": {"text": "Hello"}}, "input"),
        ({"model": "m", "input": ["x"] * 2049}, "input"),
        ({"model": "m", "input": "x", "encoding_format": "int8"}, "encoding_format"),
        ({"model": "m", "input": "x", "dimensions": 0}, "dimensions"),
        ({"model": "m", "input": "x", "dimensions": 4096}, "dimensions"),
        ({"model": "m", "input": "x", "dimensions": "256"}, "dimensions"),
    ],
)
def test_malformed_openai_embeddings_are_400_in_openai_shape(http: httpx.Client, body: Any, param: str) -> None:
    response = http.post("/v1/embeddings", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["type"], error["param"]) == ("invalid_request_error", param)


def test_status_header_answers_an_openai_embeddings_error(provider: MockProvider) -> None:
    with pytest.raises(openai.RateLimitError):
        sdk(provider, **{"x-mock-status": "429"}).embeddings.create(model="m", input="x")
    with pytest.raises(openai.NotFoundError):
        sdk(provider).with_options(max_retries=0).get("/embeddings", cast_to=httpx.Response)


def test_gemini_embeddings_through_the_google_sdk(provider: MockProvider, http: httpx.Client) -> None:
    client = gemini(provider)
    response = client.models.embed_content(
        model="text-embedding-004",
        contents=["Hello", "world"],
        config=genai_types.EmbedContentConfig(output_dimensionality=256),
    )

    vectors = [embedding.values for embedding in response.embeddings or []]
    assert [len(vector or []) for vector in vectors] == [256, 256]
    single = http.post(EMBED_CONTENT, json={"content": {"parts": [{"text": "Hello"}]}, "outputDimensionality": 256})
    assert single.json() == {"embedding": {"values": vectors[0]}}
    assert response.sdk_http_response is not None and response.sdk_http_response.headers is not None
    assert response.sdk_http_response.headers["x-mock-path"].endswith("/models/text-embedding-004:batchEmbedContents")


def test_gemini_embeddings_wire_format(http: httpx.Client) -> None:
    requests = [
        {"model": "models/text-embedding-004", "content": {"parts": [{"text": "Hello"}]}},
        {
            "model": "models/text-embedding-004",
            "content": {"parts": [{"text": "wor"}, {"text": "ld"}]},
            "output_dimensionality": 3,
        },
    ]
    answer = http.post(BATCH_EMBED, json={"requests": requests}).json()
    [first, second] = answer["embeddings"]
    assert set(answer) == {"embeddings"} and set(first) == {"values"}
    assert len(first["values"]) == 768
    assert abs(norm(first["values"]) - 1) < 1e-5
    # A content's text parts are embedded together.
    world = http.post(EMBED_CONTENT, json={"content": {"parts": [{"text": "world"}]}, "outputDimensionality": 3}).json()
    assert second["values"] == world["embedding"]["values"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (EMBED_CONTENT, {}),
        (EMBED_CONTENT, {"content": {"parts": []}}),
        (EMBED_CONTENT, {"content": {"parts": [{"text": "x"}]}, "outputDimensionality": 0}),
        (BATCH_EMBED, {}),
        (BATCH_EMBED, {"requests": []}),
        (BATCH_EMBED, {"requests": [{"content": {"parts": [{"text": "x"}]}}]}),
        (BATCH_EMBED, {"requests": [{"model": "models/other", "content": {"parts": [{"text": "x"}]}}]}),
        (
            BATCH_EMBED,
            {"requests": [{"model": "models/text-embedding-004", "content": {"parts": [{"text": "x"}]}}] * 101},
        ),
    ],
)
def test_malformed_gemini_embeddings_are_400_in_googles_shape(http: httpx.Client, path: str, body: Any) -> None:
    assert_gemini_error(http.post(path, json=body), 400, "INVALID_ARGUMENT")


def test_gemini_embedding_routes_answer_errors_in_googles_shape(http: httpx.Client) -> None:
    body = {"content": {"parts": [{"text": "x"}]}}
    assert_gemini_error(
        http.post(EMBED_CONTENT, json=body, headers={"x-mock-status": "429"}), 429, "RESOURCE_EXHAUSTED"
    )
    assert_gemini_error(http.get(EMBED_CONTENT), 404, "NOT_FOUND")


def test_titan_embeddings_through_botocore(bedrock: Any) -> None:
    response = bedrock.invoke_model(
        modelId="amazon.titan-embed-text-v2:0", body=orjson.dumps({"inputText": "Hello world", "dimensions": 512})
    )
    answer = orjson.loads(response["body"].read())

    assert set(answer) == {"embedding", "inputTextTokenCount"}
    assert len(answer["embedding"]) == 512
    assert abs(norm(answer["embedding"]) - 1) < 1e-5
    assert answer["inputTextTokenCount"] == len("Hello world") // 4
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-mock-path"] == TITAN_V2


def test_titan_embeddings_wire_format(http: httpx.Client) -> None:
    default = http.post(TITAN_V2, json={"inputText": "Hello"}, headers=BEARER).json()
    assert len(default["embedding"]) == 1024
    raw = http.post(TITAN_V2, json={"inputText": "Hello", "normalize": False}, headers=BEARER).json()["embedding"]
    assert abs(norm(raw) - 1) > 0.1
    assert default["embedding"] == pytest.approx([value / norm(raw) for value in raw], rel=1e-5)
    g1 = http.post(TITAN_G1, json={"inputText": "Hello"}, headers=BEARER).json()
    assert len(g1["embedding"]) == 1536


@pytest.mark.parametrize(
    ("path", "body", "says"),
    [
        (TITAN_V2, {}, "required key [inputText] not found"),
        (TITAN_V2, {"inputText": ""}, "#/inputText"),
        (TITAN_V2, {"inputText": 3}, "#/inputText"),
        (TITAN_V2, {"inputText": "x", "dimensions": 300}, "#/dimensions: 300 is not a valid enum value"),
        (TITAN_V2, {"inputText": "x", "dimensions": "256"}, "#/dimensions"),
        (TITAN_V2, {"inputText": "x", "normalize": "yes"}, "#/normalize"),
        (TITAN_V2, {"inputText": "x", "embeddingConfig": {}}, "extraneous key [embeddingConfig] is not permitted"),
        (TITAN_G1, {"inputText": "x", "dimensions": 256}, "extraneous key [dimensions] is not permitted"),
        ("/model/anthropic.claude-v2/invoke", {"prompt": "Hi"}, "amazon.titan-embed"),
        (TITAN_V2, [1], "JSON object"),
    ],
)
def test_malformed_titan_requests_are_400_validation_exceptions(
    http: httpx.Client, path: str, body: Any, says: str
) -> None:
    assert says in assert_bedrock_error(http.post(path, json=body, headers=BEARER), 400, "ValidationException")


def test_titan_needs_authentication_too(http: httpx.Client, provider: MockProvider) -> None:
    assert_bedrock_error(http.post(TITAN_V2, json={"inputText": "x"}), 403, "MissingAuthenticationTokenException")
    assert signed_post(http, provider, TITAN_V2, {"inputText": "x"}).status_code == 200


@pytest.mark.parametrize("dimensions", [256, 512, 1024])
def test_one_text_is_one_vector_in_every_dialect(http: httpx.Client, dimensions: int) -> None:
    text = "Zürich in the rain"
    openai_vector = http.post("/v1/embeddings", json={"model": "m", "input": text, "dimensions": dimensions}).json()
    gemini_vector = http.post(
        EMBED_CONTENT, json={"content": {"parts": [{"text": text}]}, "outputDimensionality": dimensions}
    ).json()
    titan_vector = http.post(TITAN_V2, json={"inputText": text, "dimensions": dimensions}, headers=BEARER).json()
    assert openai_vector["data"][0]["embedding"] == gemini_vector["embedding"]["values"] == titan_vector["embedding"]
    assert embedding(text, dimensions) == tuple(titan_vector["embedding"])
