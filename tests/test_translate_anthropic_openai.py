"""Anthropic Messages clients served by an OpenAI Chat Completions provider: the translation, as a specification.

Golden exchanges live in tests/fixtures/anthropic_openai (their README names the API reference
page each comes from); the tables below pin one feature per row.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from anthropic_client_requests import (
    CLIENT_MODEL,
    IMAGE_B64,
    IMAGE_URL,
    any_json_object,
    assert_translated_or_refused,
    base_request,
    cut_anywhere,
    ended_once,
    fixture_readers,
    msg,
    request_bodies,
    sse_pieces,
    stream_runner,
    user,
)
from client_streams import anthropic_events, assembled_blocks, assert_anthropic_well_formed
from hypothesis import given, settings
from hypothesis import strategies as st

from aiplane.translate import Translator, UnsupportedFeature, Usage
from aiplane.translate.anthropic_openai import AnthropicToOpenAI

UPSTREAM = "gpt-4o-mini"
CLIENT_REQUEST = {"model": CLIENT_MODEL}  # what a non-streamed answer is to
TRANSLATOR: Translator = AnthropicToOpenAI()
ABSENT = object()  # an expected value meaning "this key is not in the output"
fixture, fixture_json = fixture_readers("anthropic_openai")
run_stream = stream_runner(TRANSLATOR)


def openai_stream(*chunks: dict[str, Any], done: bool = True) -> bytes:
    events = [b"data: " + orjson.dumps({"id": "chatcmpl-1", "object": "chat.completion.chunk", **c}) + b"\n\n" for c in chunks]
    return b"".join(events) + (b"data: [DONE]\n\n" if done else b"")


def delta(finish_reason: str | None = None, **fields: Any) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": fields, "finish_reason": finish_reason}]}


def translated(**fields: Any) -> dict[str, Any]:
    return TRANSLATOR.request(base_request(**fields), UPSTREAM)


def test_the_pair() -> None:
    assert (TRANSLATOR.client, TRANSLATOR.provider) == ("anthropic", "openai")


# ---------------------------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["text_request", "tool_request"])
def test_golden_requests(name: str) -> None:
    assert TRANSLATOR.request(fixture_json(f"{name}.anthropic.json"), UPSTREAM) == fixture_json(f"{name}.openai.json")


def test_the_request_is_not_modified() -> None:
    body = fixture_json("tool_request.anthropic.json")
    TRANSLATOR.request(body, UPSTREAM)
    assert body == fixture_json("tool_request.anthropic.json")


TOOL = {"name": "get_weather", "description": "Weather now", "input_schema": {"type": "object", "properties": {}}}
FUNCTION = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}, "description": "Weather now"}}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({}, {"model": UPSTREAM, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 256}, id="model-replaced-max_tokens-kept"),
        pytest.param({"system": "Be brief."}, {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]}, id="system-string"),
        pytest.param(
            {"system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}, {"type": "text", "text": "Be kind."}]},
            {"messages": [{"role": "system", "content": "Be brief.\n\nBe kind."}, {"role": "user", "content": "Hi"}]},
            id="system-blocks-joined-cache_control-dropped",
        ),
        pytest.param({"messages": user({"type": "text", "text": "Hi"})}, {"messages": [{"role": "user", "content": "Hi"}]}, id="one-text-block-is-a-string"),
        pytest.param(
            {"messages": user({"type": "text", "text": "What is this?"}, IMAGE_B64, IMAGE_URL)},
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "text", "text": "What is this?"},
                            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                            {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
                        ],
                    }
                ]
            },
            id="images-base64-and-url",
        ),
        pytest.param(
            {
                "messages": [
                    {"role": "user", "content": "Weather?"},
                    {
                        "role": "assistant",
                        "content": [
                            {"type": "thinking", "thinking": "Let me check.", "signature": "sig"},
                            {"type": "redacted_thinking", "data": "xyz"},
                            {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Zürich", "days": [1, 2]}},
                        ],
                    },
                ]
            },
            {
                "messages": [
                    {"role": "user", "content": "Weather?"},
                    {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {"id": "toolu_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Zürich","days":[1,2]}'}}
                        ],
                    },
                ]
            },
            id="tool_use-to-tool_calls-thinking-dropped",
        ),
        pytest.param(
            {"messages": [{"role": "assistant", "content": [{"type": "text", "text": "One."}, {"type": "text", "text": "Two."}]}]},
            {"messages": [{"role": "assistant", "content": "One.\n\nTwo."}]},
            id="assistant-text-blocks-joined",
        ),
        pytest.param(
            {
                "messages": user(
                    {"type": "text", "text": "And now?"},
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": "15 degrees"},
                    {"type": "tool_result", "tool_use_id": "toolu_2", "content": [{"type": "text", "text": "Rain"}, {"type": "text", "text": "Wind"}]},
                )
            },
            {
                "messages": [
                    {"role": "tool", "tool_call_id": "toolu_1", "content": "15 degrees"},
                    {"role": "tool", "tool_call_id": "toolu_2", "content": "Rain\n\nWind"},
                    {"role": "user", "content": "And now?"},
                ]
            },
            id="tool_results-first-then-user-text",
        ),
        pytest.param(
            {"messages": user({"type": "tool_result", "tool_use_id": "toolu_1", "content": "no such city", "is_error": True}, {"type": "tool_result", "tool_use_id": "toolu_2"})},
            {"messages": [{"role": "tool", "tool_call_id": "toolu_1", "content": "Error: no such city"}, {"role": "tool", "tool_call_id": "toolu_2", "content": ""}]},
            id="tool_result-error-and-empty-no-user-message",
        ),
        pytest.param({"tools": [dict(TOOL, cache_control={"type": "ephemeral"})]}, {"tools": [FUNCTION], "tool_choice": ABSENT}, id="tools"),
        pytest.param({"tools": [dict(TOOL, strict=True)]}, {"tools": [{"type": "function", "function": dict(FUNCTION["function"], strict=True)}]}, id="tool-strict"),
        pytest.param({"tools": [TOOL], "tool_choice": {"type": "auto"}}, {"tool_choice": "auto", "parallel_tool_calls": ABSENT}, id="tool_choice-auto"),
        pytest.param({"tools": [TOOL], "tool_choice": {"type": "any"}}, {"tool_choice": "required"}, id="tool_choice-any"),
        pytest.param({"tools": [TOOL], "tool_choice": {"type": "none"}}, {"tool_choice": "none"}, id="tool_choice-none"),
        pytest.param(
            {"tools": [TOOL], "tool_choice": {"type": "tool", "name": "get_weather", "disable_parallel_tool_use": True}},
            {"tool_choice": {"type": "function", "function": {"name": "get_weather"}}, "parallel_tool_calls": False},
            id="tool_choice-tool-no-parallel",
        ),
        pytest.param({"tools": [], "tool_choice": {"type": "any"}}, {"tools": ABSENT, "tool_choice": ABSENT}, id="no-tools-no-tool_choice"),
        pytest.param({"stop_sequences": ["\n\nHuman:", "END"]}, {"stop": ["\n\nHuman:", "END"]}, id="stop_sequences"),
        pytest.param({"stop_sequences": []}, {"stop": ABSENT}, id="stop_sequences-empty"),
        pytest.param({"temperature": 0.2, "top_p": 0.9}, {"temperature": 0.2, "top_p": 0.9}, id="temperature-top_p"),
        pytest.param({"stream": True}, {"stream": True, "stream_options": {"include_usage": True}}, id="stream"),
        pytest.param({"stream": False}, {"stream": ABSENT, "stream_options": ABSENT}, id="stream-false"),
        pytest.param({"metadata": {"user_id": "user-42"}}, {"user": "user-42"}, id="metadata-user_id"),
        pytest.param({"metadata": {}}, {"user": ABSENT}, id="metadata-empty"),
        pytest.param({"thinking": {"type": "enabled", "budget_tokens": 1024}}, {"reasoning_effort": "low"}, id="thinking-small-budget"),
        pytest.param({"thinking": {"type": "enabled", "budget_tokens": 8000}}, {"reasoning_effort": "medium"}, id="thinking-medium-budget"),
        pytest.param({"thinking": {"type": "enabled", "budget_tokens": 32000}}, {"reasoning_effort": "high"}, id="thinking-large-budget"),
        pytest.param({"thinking": {"type": "disabled"}}, {"reasoning_effort": ABSENT}, id="thinking-disabled"),
        pytest.param({"thinking": {"type": "adaptive"}}, {"reasoning_effort": ABSENT}, id="thinking-adaptive"),
        pytest.param({"service_tier": "standard_only"}, {"service_tier": ABSENT}, id="service_tier-dropped"),
    ],
)
def test_request_features(fields: dict[str, Any], expected: dict[str, Any]) -> None:
    out = translated(**fields)
    assert {key: out.get(key, ABSENT) for key in expected} == expected
    assert "max_completion_tokens" not in out and "top_k" not in out


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        # Features OpenAI cannot express.
        ({"top_k": 40}, "top_k"),
        ({"mcp_servers": [{"type": "url", "url": "https://mcp.example.com", "name": "x"}]}, "mcp_servers"),
        ({"container": "container_1"}, "container"),
        ({"context_management": {"edits": []}}, "context_management"),
        ({"output_config": {"effort": "high"}}, "output_config"),
        ({"a_future_field": 1}, "a_future_field"),
        (msg([{"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "x"}}]), "messages[0].content[0].type"),
        (msg([{"type": "image", "source": {"type": "file", "file_id": "file_1"}}]), "messages[0].content[0].source.type"),
        (msg([{"type": "tool_result", "tool_use_id": "t", "content": [IMAGE_B64]}]), "messages[0].content[0].content[0].type"),
        ({"tools": [{"type": "web_search_20250305", "name": "web_search"}]}, "tools[0].type"),
        ({"system": [{"type": "image", "source": {}}]}, "system[0].type"),
        # Invalid shapes.
        ({"messages": "Hi"}, "messages"),
        ({"messages": []}, "messages"),
        ({"messages": ["Hi"]}, "messages[0]"),
        (msg("Hi", role="system"), "messages[0].role"),
        (msg(42), "messages[0].content"),
        (msg(["Hi"]), "messages[0].content[0]"),
        (msg([{"text": "no type"}]), "messages[0].content[0].type"),
        (msg([{"type": "text", "text": None}]), "messages[0].content[0].text"),
        (msg([{"type": "future_block"}]), "messages[0].content[0].type"),
        (msg([{"type": "tool_use", "id": "t", "name": "f", "input": {}}]), "messages[0].content[0].type"),  # a tool call in a user turn
        (msg([{"type": "tool_result", "tool_use_id": "t"}], role="assistant"), "messages[0].content[0].type"),
        (msg([IMAGE_URL], role="assistant"), "messages[0].content[0].type"),
        (msg([{"type": "tool_use", "id": "t", "name": "f", "input": "{}"}], role="assistant"), "messages[0].content[0].input"),
        (msg([{"type": "tool_use", "id": "t", "name": "f", "input": {"n": 2**70}}], role="assistant"), "messages[0].content[0].input"),
        (msg([{"type": "tool_result", "content": "x"}]), "messages[0].content[0].tool_use_id"),
        (msg([{"type": "tool_result", "tool_use_id": "t", "is_error": "yes"}]), "messages[0].content[0].is_error"),
        (msg([{"type": "image", "source": {"type": "base64", "data": "x"}}]), "messages[0].content[0].source.media_type"),
        ({"tools": [{"name": "f"}]}, "tools[0].input_schema"),
        ({"tools": [TOOL], "tool_choice": {"type": "all"}}, "tool_choice.type"),
        ({"tools": [TOOL], "tool_choice": {"type": ["auto"]}}, "tool_choice.type"),  # any JSON value, a list too
        ({"tools": [TOOL], "tool_choice": {"type": "tool"}}, "tool_choice.name"),
        ({"thinking": {"type": "on"}}, "thinking.type"),
        ({"thinking": {"type": "enabled", "budget_tokens": "lots"}}, "thinking.budget_tokens"),
        ({"max_tokens": "256"}, "max_tokens"),
        ({"temperature": True}, "temperature"),
        ({"stream": "yes"}, "stream"),
        ({"stop_sequences": "END"}, "stop_sequences"),
        ({"metadata": {"user_id": 42}}, "metadata.user_id"),
    ],
)
def test_requests_the_provider_cannot_serve_name_the_field(fields: dict[str, Any], param: str) -> None:
    with pytest.raises(UnsupportedFeature) as raised:
        translated(**fields)
    assert raised.value.param == param
    assert raised.value.message


def test_a_null_field_the_provider_has_no_use_for_asks_for_nothing() -> None:
    # The SDK sends null for an optional parameter given as None.
    assert translated(container=None, context_management=None, top_k=None) == translated()


def test_a_tool_whose_type_is_null_is_a_custom_tool() -> None:
    assert translated(tools=[{**TOOL, "type": None}]) == translated(tools=[TOOL])


# ---------------------------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "usage"),
    [("text_response", Usage(input_tokens=19, output_tokens=10)), ("tool_response", Usage(input_tokens=82, output_tokens=17))],
)
def test_golden_responses(name: str, usage: Usage) -> None:
    assert TRANSLATOR.response(fixture_json(f"{name}.openai.json"), CLIENT_REQUEST) == (fixture_json(f"{name}.anthropic.json"), usage)


def completion(message: dict[str, Any] | None = None, usage: Any = None, **choice: Any) -> dict[str, Any]:
    choice = {"index": 0, "message": {"role": "assistant", "content": "Hi", **(message or {})}, "finish_reason": "stop", **choice}
    return {"id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-mini", "choices": [choice], "usage": usage}


CALL = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}


@pytest.mark.parametrize(
    ("finish_reason", "extra", "stop"),
    [
        ("stop", {}, ("end_turn", None)),
        ("stop", {"stop_reason": "###"}, ("stop_sequence", "###")),  # vLLM names the stop sequence that matched
        ("stop", {"stop_reason": 128009}, ("end_turn", None)),  # ... or the stop token, which is no sequence
        ("length", {}, ("max_tokens", None)),
        ("tool_calls", {"message": {"tool_calls": [CALL]}}, ("tool_use", None)),
        ("function_call", {}, ("tool_use", None)),
        ("content_filter", {}, ("refusal", None)),
        ("stop", {"message": {"tool_calls": [CALL]}}, ("tool_use", None)),  # servers that finish tool calls with `stop`
        (None, {}, ("end_turn", None)),
        ("eos", {}, ("end_turn", None)),
    ],
)
def test_response_stop_reasons(finish_reason: str | None, extra: dict[str, Any], stop: tuple[str, str | None]) -> None:
    body, _ = TRANSLATOR.response(completion(finish_reason=finish_reason, **extra), CLIENT_REQUEST)
    assert (body["stop_reason"], body["stop_sequence"]) == stop


def test_response_usage_counts_cache_reads_apart_and_reasoning_in_output() -> None:
    usage = {
        "prompt_tokens": 2006,
        "completion_tokens": 300,
        "total_tokens": 2306,
        "prompt_tokens_details": {"cached_tokens": 1920},
        "completion_tokens_details": {"reasoning_tokens": 192},
    }
    body, common = TRANSLATOR.response(completion(usage=usage), CLIENT_REQUEST)
    assert body["usage"] == {"input_tokens": 86, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 1920, "output_tokens": 300}
    assert common == Usage(input_tokens=2006, output_tokens=300, cached_input_tokens=1920, reasoning_tokens=192)


@pytest.mark.parametrize("usage", [None, {}, {"prompt_tokens": None, "prompt_tokens_details": None}])
def test_response_without_usage_counts_zero(usage: Any) -> None:
    body, common = TRANSLATOR.response(completion(usage=usage), CLIENT_REQUEST)
    assert body["usage"]["input_tokens"] == body["usage"]["output_tokens"] == 0
    assert common == Usage()


@pytest.mark.parametrize("key", ["reasoning_content", "reasoning"])
def test_response_reasoning_becomes_a_thinking_block_first(key: str) -> None:
    body, _ = TRANSLATOR.response(completion({key: "2 + 2 = 4.", "content": "4"}), CLIENT_REQUEST)
    assert body["content"] == [{"type": "thinking", "thinking": "2 + 2 = 4.", "signature": ""}, {"type": "text", "text": "4"}]


def test_response_refusal_is_text_with_stop_reason_refusal() -> None:
    body, _ = TRANSLATOR.response(completion({"content": None, "refusal": "I can't help with that."}), CLIENT_REQUEST)
    assert body["content"] == [{"type": "text", "text": "I can't help with that."}]
    assert body["stop_reason"] == "refusal"


def test_response_tool_calls_keep_text_and_order() -> None:
    calls = [CALL, {"id": "call_2", "type": "function", "function": {"name": "g", "arguments": '{"x": [1]}'}}]
    body, _ = TRANSLATOR.response(completion({"content": "Checking.", "tool_calls": calls}, finish_reason="tool_calls"), CLIENT_REQUEST)
    assert body["content"] == [
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "call_1", "name": "f", "input": {}},
        {"type": "tool_use", "id": "call_2", "name": "g", "input": {"x": [1]}},
    ]


@pytest.mark.parametrize("arguments", ['{"city": "Par', "[1, 2]", None])
def test_response_tool_arguments_that_are_no_json_object_become_an_empty_input(arguments: Any) -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": arguments}}
    body, _ = TRANSLATOR.response(completion({"tool_calls": [call]}, finish_reason="length"), CLIENT_REQUEST)
    assert body["content"][1]["input"] == {}
    assert body["stop_reason"] == "max_tokens"


def test_response_without_id_still_gets_a_message_id() -> None:
    body, _ = TRANSLATOR.response({"choices": [{"message": {"content": "Hi"}, "finish_reason": "stop"}]}, CLIENT_REQUEST)
    assert body["id"].startswith("msg_") and len(body["id"]) > 4


# ---------------------------------------------------------------------------------------------
# Streaming
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "usage"),
    [
        ("text_stream", Usage(input_tokens=9, output_tokens=12)),
        ("tool_stream", Usage(input_tokens=1180, output_tokens=46, cached_input_tokens=1024)),
        ("error_stream", None),
    ],
)
def test_golden_streams(name: str, usage: Usage | None) -> None:
    out, reported = run_stream(fixture(f"{name}.openai.sse"))
    assert anthropic_events(out) == anthropic_events(fixture(f"{name}.anthropic.sse"))
    assert reported == usage


def test_stream_message_start_names_the_model_the_client_asked_for() -> None:
    out, _ = run_stream(fixture("text_stream.openai.sse"), model="my-alias")
    assert anthropic_events(out)[0][1]["message"]["model"] == "my-alias"


def test_stream_tool_argument_deltas_concatenate_to_the_full_json() -> None:
    provider_arguments: dict[int, str] = {}
    for block in fixture("tool_stream.openai.sse").split(b"\n\n"):
        if block.startswith(b"data: {"):
            for choice in orjson.loads(block[6:])["choices"]:
                for call in choice["delta"].get("tool_calls") or []:
                    provider_arguments[call["index"]] = provider_arguments.get(call["index"], "") + call["function"]["arguments"]
    out, _ = run_stream(fixture("tool_stream.openai.sse"))
    client_arguments: dict[int, str] = {}
    for name, data in anthropic_events(out):
        if name == "content_block_delta":
            client_arguments[data["index"]] = client_arguments.get(data["index"], "") + data["delta"]["partial_json"]
    assert client_arguments == provider_arguments
    assert [orjson.loads(arguments) for arguments in client_arguments.values()] == [{"location": "Paris, France"}, {"location": "Bogotá, Colombia"}]


TEXT = fixture("text_stream.openai.sse")
TOOL_STREAM = fixture("tool_stream.openai.sse")
WITHOUT_DONE = TEXT.replace(b"data: [DONE]\n\n", b"")
WITHOUT_FINISH = openai_stream(delta(role="assistant", content=""), delta(content="Hel"), done=False)


@pytest.mark.parametrize(
    ("chunks", "stop_reason", "text"),
    [
        pytest.param([TEXT], "end_turn", "Hello! ¿Qué tal? 👋", id="complete"),
        pytest.param([WITHOUT_DONE], "end_turn", "Hello! ¿Qué tal? 👋", id="no-DONE"),
        pytest.param([WITHOUT_FINISH], "end_turn", "Hel", id="no-finish-reason-no-DONE"),
        pytest.param([TEXT[: len(TEXT) // 2]], "end_turn", "Hello", id="cut-mid-event"),
        pytest.param([TEXT.replace(b"data: [DONE]\n\n", b"data: [DONE]\n")], "end_turn", "Hello! ¿Qué tal? 👋", id="DONE-without-blank-line"),
        pytest.param([TOOL_STREAM.split(b'"finish_reason":"tool_calls"')[0]], "tool_use", None, id="tool-call-cut-off"),
        pytest.param([], "end_turn", None, id="empty"),
        pytest.param([b"data: [DONE]\n\n"], "end_turn", None, id="only-DONE"),
        pytest.param([b": keep-alive\n\n", b"\n"], "end_turn", None, id="only-comments"),
        pytest.param([TEXT, TEXT], "end_turn", "Hello! ¿Qué tal? 👋", id="events-after-DONE-ignored"),
        pytest.param([TEXT + b'data: {"choices":[{"delta":{"content":"late"}}]}\n'], "end_turn", "Hello! ¿Qué tal? 👋", id="event-after-DONE-pending-at-finish"),
    ],
)
def test_stream_has_exactly_one_message_start_and_stop(chunks: list[bytes], stop_reason: str, text: str | None) -> None:
    out, _ = run_stream(*chunks)
    events = anthropic_events(out)
    assert_anthropic_well_formed(events)
    assert events[-2][1]["delta"]["stop_reason"] == stop_reason
    texts = [block["text"] for block in assembled_blocks(events) if block["type"] == "text"]
    assert texts == ([] if text is None else [text])


def test_stream_reasoning_becomes_a_thinking_block_before_the_text() -> None:
    usage = {"prompt_tokens": 10, "completion_tokens": 30, "completion_tokens_details": {"reasoning_tokens": 20}}
    out, reported = run_stream(
        openai_stream(
            delta(role="assistant", reasoning_content="Two plus "),
            delta(reasoning_content="two is four."),
            delta(content="4"),
            delta("stop"),
            {"choices": [], "usage": usage},
        )
    )
    events = anthropic_events(out)
    assert_anthropic_well_formed(events)
    assert [data["delta"]["type"] for name, data in events if name == "content_block_delta"] == ["thinking_delta", "thinking_delta", "text_delta"]
    assert assembled_blocks(events) == [{"type": "thinking", "thinking": "Two plus two is four.", "signature": ""}, {"type": "text", "text": "4"}]
    assert reported == Usage(input_tokens=10, output_tokens=30, reasoning_tokens=20)
    assert events[-2][1]["usage"]["output_tokens"] == 30


def test_stream_text_then_tool_call_then_text_are_three_blocks() -> None:
    call = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"a":1}'}}
    out, _ = run_stream(openai_stream(delta(content="Let me look."), delta(tool_calls=[call]), delta(content="Done."), delta("tool_calls")))
    events = anthropic_events(out)
    assert_anthropic_well_formed(events)
    assert assembled_blocks(events) == [
        {"type": "text", "text": "Let me look."},
        {"type": "tool_use", "id": "call_1", "name": "f", "input": {"a": 1}},
        {"type": "text", "text": "Done."},
    ]
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"


def test_stream_tool_calls_without_index_are_keyed_by_id() -> None:
    out, _ = run_stream(
        openai_stream(
            delta(tool_calls=[{"id": "call_a", "function": {"name": "f", "arguments": '{"n":'}}]),
            delta(tool_calls=[{"function": {"arguments": "1}"}}]),  # continues the open call
            delta(tool_calls=[{"id": "call_b", "function": {"name": "g", "arguments": "{}"}}]),
            delta("stop"),  # some servers finish tool calls with `stop`
        )
    )
    events = anthropic_events(out)
    assert_anthropic_well_formed(events)
    assert assembled_blocks(events) == [
        {"type": "tool_use", "id": "call_a", "name": "f", "input": {"n": 1}},
        {"type": "tool_use", "id": "call_b", "name": "g", "input": {}},
    ]
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"


def test_stream_interleaved_tool_call_deltas_lose_no_argument() -> None:
    out, _ = run_stream(
        openai_stream(
            delta(tool_calls=[{"index": 0, "id": "call_a", "function": {"name": "f", "arguments": '{"a":'}}]),
            delta(tool_calls=[{"index": 1, "id": "call_b", "function": {"name": "g", "arguments": '{"b":2}'}}]),
            delta(tool_calls=[{"index": 0, "function": {"arguments": "1}"}}]),
            delta("tool_calls"),
        )
    )
    assert [block["input"] for block in assembled_blocks(anthropic_events(out))] == [{"a": 1}, {"b": 2}]


def test_stream_stop_sequence_named_by_the_provider() -> None:
    out, _ = run_stream(openai_stream(delta(content="1, 2, 3"), {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop", "stop_reason": "4"}]}))
    assert anthropic_events(out)[-2][1]["delta"] == {"stop_reason": "stop_sequence", "stop_sequence": "4"}


@pytest.mark.parametrize(
    ("error", "error_type", "message"),
    [
        ({"message": "Slow down", "type": "requests", "code": "rate_limit_exceeded"}, "rate_limit_error", "Slow down"),
        ({"message": "Bad input", "type": "invalid_request_error", "code": None}, "invalid_request_error", "Bad input"),
        ({"message": "Provider returned error", "code": 502}, "api_error", "Provider returned error"),  # OpenRouter sends a status
        ({"message": "Overloaded", "code": 529}, "overloaded_error", "Overloaded"),
        ("boom", "api_error", "boom"),
        ({}, "api_error", "the provider's stream reported an error"),
    ],
)
def test_stream_error_from_the_provider_ends_the_client_stream(error: Any, error_type: str, message: str) -> None:
    stream = TRANSLATOR.stream({"model": CLIENT_MODEL})
    out = stream.feed(openai_stream(delta(content="Hel")).replace(b"data: [DONE]", b"data: " + orjson.dumps({"error": error})))
    events = anthropic_events(out)
    assert events[-1] == ("error", {"type": "error", "error": {"type": error_type, "message": message}})
    assert [name for name, _ in events].count("message_stop") == 0  # as Anthropic's own streams end on an error
    assert stream.feed(b'data: {"choices":[{"delta":{"content":"more"}}]}\n\n') == b""
    assert stream.finish() == b""


@pytest.mark.parametrize("event", [b"data: {not json\n\n", b"data: [1, 2]\n\n", b"data: \xff\xfe\n\n"])
def test_stream_event_that_is_not_a_json_object_is_an_error(event: bytes) -> None:
    out, _ = run_stream(openai_stream(delta(content="Hi"), done=False), event)
    name, data = anthropic_events(out)[-1]
    assert (name, data["error"]["type"]) == ("error", "api_error")


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def test_golden_error() -> None:
    assert orjson.loads(TRANSLATOR.error(401, fixture("error_401.openai.json"))) == fixture_json("error_401.anthropic.json")


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (402, "billing_error"),
        (403, "permission_error"),
        (404, "not_found_error"),
        (413, "request_too_large"),
        (422, "invalid_request_error"),
        (429, "rate_limit_error"),
        (500, "api_error"),
        (502, "api_error"),
        (503, "overloaded_error"),
        (504, "timeout_error"),
        (529, "overloaded_error"),
    ],
)
def test_error_type_follows_the_status(status: int, error_type: str) -> None:
    body = orjson.dumps({"error": {"message": "m", "type": "whatever", "param": None, "code": None}})
    assert orjson.loads(TRANSLATOR.error(status, body)) == {"type": "error", "error": {"type": error_type, "message": "m"}}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"error": "model not loaded"}', "model not loaded"),
        (b'{"object": "error", "message": "The model `x` does not exist.", "code": 404}', "The model `x` does not exist."),  # vLLM
        (b'{"detail": "Not Found"}', "Not Found"),  # FastAPI-based servers
        (b'[{"error": {"code": 400, "message": "API key not valid.", "status": "INVALID_ARGUMENT"}}]', "API key not valid."),  # Gemini
        (b'{"error": {"code": 5}}', '{"error": {"code": 5}}'),  # no message: the body says more than nothing
        (b"<html><body>502 Bad Gateway</body></html>\n", "<html><body>502 Bad Gateway</body></html>"),
        (b"\xff\xfeoops", "\ufffd\ufffdoops"),
        (b"", "the provider answered HTTP 502 without a message"),
    ],
)
def test_error_message_from_any_provider_body(body: bytes, message: str) -> None:
    assert orjson.loads(TRANSLATOR.error(502, body)) == {"type": "error", "error": {"type": "api_error", "message": message}}


def test_error_message_from_a_huge_body_is_cut() -> None:
    assert len(orjson.loads(TRANSLATOR.error(500, b"x" * 100_000))["error"]["message"]) == 1000


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------

request_shaped = request_bodies()


@settings(max_examples=200, deadline=None)
@given(any_json_object() | request_shaped)
def test_request_on_any_json_object_raises_nothing_but_unsupported_feature(body: dict[str, Any]) -> None:
    assert_translated_or_refused(TRANSLATOR, body, UPSTREAM)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["text_stream", "tool_stream", "error_stream"]), st.data())
def test_a_stream_split_anywhere_translates_as_it_does_whole(name: str, data: st.DataObject) -> None:
    stream = fixture(f"{name}.openai.sse")
    assert run_stream(*cut_anywhere(stream, data)) == run_stream(stream)


stream_pieces = sse_pieces([fixture(f"{name}.openai.sse") for name in ("text_stream", "tool_stream")])


@settings(max_examples=200, deadline=None)
@given(st.lists(stream_pieces, max_size=12))
def test_any_bytes_fed_to_the_stream_translator_end_one_way_or_the_other(pieces: list[bytes]) -> None:
    out, _ = run_stream(*pieces)
    names = [name for name, _ in ended_once(out)]
    if names[-1] == "message_stop":
        assert names[0] == "message_start"
