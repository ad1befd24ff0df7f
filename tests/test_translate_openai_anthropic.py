"""OpenAI Chat Completions clients served by an Anthropic Messages provider: the translation, as a specification.

Golden exchanges live in tests/fixtures/openai_anthropic (their README names the API reference
page each comes from); the tables below pin one feature per row. The official `openai` SDK
reads what the translator answers, as a client would.
"""

from __future__ import annotations

import re
from typing import Any

import openai
import orjson
import pytest
from client_streams import DONE, assembled, assert_openai_well_formed, openai_events, without_created
from hypothesis import given, settings
from hypothesis import strategies as st
from openai_client_requests import (
    ABSENT,
    BREAKPOINT,
    FUNCTION,
    HELLO,
    LOOP,
    PNG,
    REFUSED_BY_EVERY_PAIR,
    any_json_object,
    assert_ended_one_way_or_the_other,
    breakpoints,
    call,
    conversations,
    cut_anywhere,
    finish_reason,
    fixture_readers,
    json_values,
    mostly,
    msg,
    request_bodies,
    sdk_client,
    sdk_reassembled,
    stream_runner,
    text_parts,
    texts,
    user_parts,
)

from aiplane.translate import Translator, UnsupportedFeature, Usage
from aiplane.translate.anthropic_wire import DEFAULT_MAX_TOKENS
from aiplane.translate.common import THINKING_BUDGETS, effort_for_budget
from aiplane.translate.openai_anthropic import OpenAIToAnthropic

UPSTREAM = "claude-sonnet-4-5-20250929"
CLIENT_MODEL = "claude-sonnet-4-5"
CLIENT_REQUEST = {"model": CLIENT_MODEL}  # what a non-streamed answer is to
TRANSLATOR: Translator = OpenAIToAnthropic()
fixture, fixture_json = fixture_readers("openai_anthropic")
run_stream = stream_runner(TRANSLATOR, CLIENT_MODEL, b"data: {}\n\n")


def anthropic_stream(*events: dict[str, Any]) -> bytes:
    return b"".join(b"event: %s\ndata: %s\n\n" % (e["type"].encode(), orjson.dumps(e)) for e in events)


def message_start(usage: dict[str, int] | None = None, message_id: str = "msg_1") -> dict[str, Any]:
    message = {"id": message_id, "type": "message", "role": "assistant", "content": [], "model": UPSTREAM}
    return {"type": "message_start", "message": {**message, "stop_reason": None, "usage": usage or {"input_tokens": 10, "output_tokens": 1}}}


def block_start(index: int, block: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_start", "index": index, "content_block": block}


def block_delta(index: int, **delta: Any) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": delta}


def text(index: int, value: str) -> dict[str, Any]:
    return block_delta(index, type="text_delta", text=value)


def json_fragment(index: int, value: str) -> dict[str, Any]:
    return block_delta(index, type="input_json_delta", partial_json=value)


def block_stop(index: int) -> dict[str, Any]:
    return {"type": "content_block_stop", "index": index}


def message_delta(stop_reason: str | None = "end_turn", usage: dict[str, int] | None = None) -> dict[str, Any]:
    return {"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": None}, "usage": usage or {"output_tokens": 5}}


MESSAGE_STOP = {"type": "message_stop"}


def tool_block(index: int, call_id: str, name: str) -> dict[str, Any]:
    return block_start(index, {"type": "tool_use", "id": call_id, "name": name, "input": {}})


def base_request(**fields: Any) -> dict[str, Any]:
    return {"model": CLIENT_MODEL, "messages": [{"role": "user", "content": "Hi"}], **fields}


def translated(**fields: Any) -> dict[str, Any]:
    return TRANSLATOR.request(base_request(**fields), UPSTREAM)


def test_the_pair() -> None:
    assert (TRANSLATOR.client, TRANSLATOR.provider) == ("openai", "anthropic")


# ---------------------------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["text_request", "tool_request"])
def test_golden_requests(name: str) -> None:
    assert TRANSLATOR.request(fixture_json(f"{name}.openai.json"), UPSTREAM) == fixture_json(f"{name}.anthropic.json")


def test_the_request_is_not_modified() -> None:
    body = fixture_json("tool_request.openai.json")
    TRANSLATOR.request(body, UPSTREAM)
    assert body == fixture_json("tool_request.openai.json")


TOOL = {"name": "get_weather", "description": "Weather now", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}


def tool_use(call_id: str, tool_input: dict[str, Any], name: str = "get_weather") -> dict[str, Any]:
    return {"type": "tool_use", "id": call_id, "name": name, "input": tool_input}


def txt(value: str, **extra: Any) -> dict[str, Any]:
    return {"type": "text", "text": value, **extra}


EPHEMERAL = {"cache_control": {"type": "ephemeral"}}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({}, {"model": UPSTREAM, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": DEFAULT_MAX_TOKENS, "system": ABSENT}, id="model-replaced-max_tokens-default"),
        pytest.param({"max_tokens": 256}, {"max_tokens": 256}, id="max_tokens"),
        pytest.param({"max_completion_tokens": 300, "max_tokens": 256}, {"max_tokens": 300}, id="max_completion_tokens-wins"),
        pytest.param({"max_tokens": None}, {"max_tokens": DEFAULT_MAX_TOKENS}, id="max_tokens-null"),
        # System and developer messages.
        pytest.param(
            {"messages": [{"role": "system", "content": "Be brief."}, {"role": "developer", "content": [txt("Be kind.")]}, {"role": "user", "content": "Hi"}]},
            {"system": "Be brief.\n\nBe kind.", "messages": [{"role": "user", "content": "Hi"}]},
            id="system-and-developer-joined",
        ),
        pytest.param(
            {"messages": [{"role": "user", "content": "Hi"}, {"role": "system", "content": "Answer in French."}, {"role": "user", "content": "Bye"}]},
            {"system": "Answer in French.", "messages": [{"role": "user", "content": [txt("Hi"), txt("Bye")]}]},
            id="late-system-message-joins-the-prompt",
        ),
        pytest.param({"messages": [{"role": "system", "content": ""}, {"role": "user", "content": "Hi"}]}, {"system": ABSENT}, id="empty-system-omitted"),
        pytest.param(
            {"messages": [{"role": "system", "content": [txt("Long rules.", **BREAKPOINT)]}, {"role": "user", "content": "Hi"}]},
            {"system": [txt("Long rules.", **EPHEMERAL)]},
            id="system-cache-breakpoint-keeps-blocks",
        ),
        # User content parts.
        pytest.param({"messages": user_parts(txt("Hi"))}, {"messages": [{"role": "user", "content": [txt("Hi")]}]}, id="text-part"),
        pytest.param(
            {
                "messages": user_parts(
                    txt("What is this?"),
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}", "detail": "high"}},
                    {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
                )
            },
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            txt("What is this?"),
                            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
                            {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
                        ],
                    }
                ]
            },
            id="images-data-url-and-https-detail-dropped",
        ),
        pytest.param(
            {"messages": user_parts({"type": "file", "file": {"filename": "paper.pdf", "file_data": "data:application/pdf;base64,JVBERi0x"}})},
            {"messages": [{"role": "user", "content": [{"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0x"}, "title": "paper.pdf"}]}]},
            id="pdf-file-part",
        ),
        pytest.param(
            {"messages": user_parts(txt("Long document.", **BREAKPOINT), txt("Question?"))},
            {"messages": [{"role": "user", "content": [txt("Long document.", **EPHEMERAL), txt("Question?")]}]},
            id="prompt_cache_breakpoint-to-cache_control",
        ),
        pytest.param({"messages": [{"role": "user", "content": "Hi", "name": "alice"}]}, {"messages": [{"role": "user", "content": "Hi"}]}, id="name-dropped"),
        # Assistant turns.
        pytest.param(
            {"messages": [{"role": "user", "content": "Weather?"}, {"role": "assistant", "content": "", "tool_calls": [call("call_1", '{"city": "Zürich", "days": [1, 2]}')]}]},
            {"messages": [{"role": "user", "content": "Weather?"}, {"role": "assistant", "content": [tool_use("call_1", {"city": "Zürich", "days": [1, 2]})]}]},
            id="tool_calls-to-tool_use-empty-text-dropped",
        ),
        pytest.param(
            {"messages": [{"role": "user", "content": "Weather?"}, {"role": "assistant", "content": [txt("Checking.")], "tool_calls": [call("call_1", ""), call("call_2", "{}", "now")]}]},
            {"messages": [{"role": "user", "content": "Weather?"}, {"role": "assistant", "content": [txt("Checking."), tool_use("call_1", {}), tool_use("call_2", {}, "now")]}]},
            id="text-then-tool_calls-empty-arguments",
        ),
        pytest.param(
            {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": None, "refusal": "I can't help with that."}]},
            {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": [txt("I can't help with that.")]}]},
            id="assistant-refusal-is-text",
        ),
        pytest.param(
            {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": [txt("One."), {"type": "refusal", "refusal": "No."}]}]},
            {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": [txt("One."), txt("No.")]}]},
            id="assistant-parts",
        ),
        pytest.param(
            {"messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4", "reasoning_content": "Easy."}]},
            {"messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}]},
            id="reasoning_content-dropped",
        ),
        pytest.param(
            {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hel"}, {"role": "assistant", "content": "lo"}]},
            {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": [txt("Hel"), txt("lo")]}]},
            id="consecutive-assistant-turns-merged",
        ),
        # Tool results.
        pytest.param(
            {
                "messages": [
                    {"role": "user", "content": "Weather?"},
                    {"role": "assistant", "content": None, "tool_calls": [call("call_1", '{"city": "Paris"}'), call("call_2", '{"city": "Oslo"}')]},
                    {"role": "tool", "tool_call_id": "call_1", "content": "15 degrees"},
                    {"role": "tool", "tool_call_id": "call_2", "content": [txt("Rain"), txt("Wind")]},
                    {"role": "user", "content": "And tomorrow?"},
                ]
            },
            {
                "messages": [
                    {"role": "user", "content": "Weather?"},
                    {"role": "assistant", "content": [tool_use("call_1", {"city": "Paris"}), tool_use("call_2", {"city": "Oslo"})]},
                    {
                        "role": "user",
                        "content": [
                            {"type": "tool_result", "tool_use_id": "call_1", "content": "15 degrees"},
                            {"type": "tool_result", "tool_use_id": "call_2", "content": [txt("Rain"), txt("Wind")]},
                            txt("And tomorrow?"),
                        ],
                    },
                ]
            },
            id="tool-messages-and-next-user-message-in-one-turn",
        ),
        pytest.param(
            {
                "messages": [
                    {"role": "assistant", "content": None, "tool_calls": [call("call_1", "{}")]},
                    {"role": "user", "content": "Also this."},
                    {"role": "tool", "tool_call_id": "call_1", "content": "done"},
                ]
            },
            {
                "messages": [
                    {"role": "assistant", "content": [tool_use("call_1", {})]},
                    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_1", "content": "done"}, txt("Also this.")]},
                ]
            },
            id="tool-results-first-in-their-turn",
        ),
        # Tools.
        pytest.param({"tools": [FUNCTION]}, {"tools": [TOOL], "tool_choice": ABSENT}, id="tools"),
        pytest.param({"tools": [{"type": "function", "function": {"name": "now"}}]}, {"tools": [{"name": "now", "input_schema": {"type": "object", "properties": {}}}]}, id="tool-without-parameters"),
        pytest.param({"tools": [{"type": "function", "function": {**FUNCTION["function"], "strict": True}}]}, {"tools": [{**TOOL, "strict": True}]}, id="tool-strict"),
        pytest.param({"tools": [{"type": "function", "function": {**FUNCTION["function"], "strict": False}}]}, {"tools": [TOOL]}, id="tool-not-strict"),
        pytest.param({"tools": [FUNCTION], "tool_choice": "auto"}, {"tool_choice": {"type": "auto"}}, id="tool_choice-auto"),
        pytest.param({"tools": [FUNCTION], "tool_choice": "required"}, {"tool_choice": {"type": "any"}}, id="tool_choice-required"),
        pytest.param({"tools": [FUNCTION], "tool_choice": "none"}, {"tool_choice": {"type": "none"}}, id="tool_choice-none"),
        pytest.param(
            {"tools": [FUNCTION], "tool_choice": {"type": "function", "function": {"name": "get_weather"}}},
            {"tool_choice": {"type": "tool", "name": "get_weather"}},
            id="tool_choice-named",
        ),
        pytest.param({"tools": [FUNCTION], "parallel_tool_calls": False}, {"tool_choice": {"type": "auto", "disable_parallel_tool_use": True}}, id="no-parallel-calls"),
        pytest.param(
            {"tools": [FUNCTION], "tool_choice": "required", "parallel_tool_calls": False},
            {"tool_choice": {"type": "any", "disable_parallel_tool_use": True}},
            id="no-parallel-calls-required",
        ),
        pytest.param({"tools": [FUNCTION], "tool_choice": "none", "parallel_tool_calls": False}, {"tool_choice": {"type": "none"}}, id="no-parallel-calls-none"),
        pytest.param({"tools": [FUNCTION], "parallel_tool_calls": True}, {"tool_choice": ABSENT}, id="parallel-calls-default"),
        pytest.param({"tools": [], "tool_choice": "required"}, {"tools": ABSENT, "tool_choice": ABSENT}, id="no-tools-no-tool_choice"),
        # Sampling and limits.
        pytest.param({"stop": "END"}, {"stop_sequences": ["END"]}, id="stop-string"),
        pytest.param({"stop": ["\n\nHuman:", "END"]}, {"stop_sequences": ["\n\nHuman:", "END"]}, id="stop-list"),
        pytest.param({"stop": []}, {"stop_sequences": ABSENT}, id="stop-empty"),
        pytest.param({"temperature": 0.2, "top_p": 0.9}, {"temperature": 0.2, "top_p": 0.9}, id="temperature-top_p"),
        pytest.param({"temperature": 1}, {"temperature": 1}, id="temperature-1"),
        pytest.param({"stream": True, "stream_options": {"include_usage": True}}, {"stream": True, "stream_options": ABSENT}, id="stream-stream_options-dropped"),
        pytest.param({"stream": False}, {"stream": ABSENT}, id="stream-false"),
        pytest.param({"user": "user-42"}, {"metadata": {"user_id": "user-42"}, "user": ABSENT}, id="user"),
        pytest.param({"user": "user-42", "safety_identifier": "hash-42"}, {"metadata": {"user_id": "hash-42"}}, id="safety_identifier-wins"),
        pytest.param({"user": ""}, {"metadata": ABSENT}, id="user-empty"),
        pytest.param({"metadata": {"app": "x"}, "store": False}, {"metadata": ABSENT, "store": ABSENT}, id="openai-metadata-dropped"),
        # Structured outputs.
        pytest.param(
            {"response_format": {"type": "json_schema", "json_schema": {"name": "answer", "strict": True, "schema": {"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": False}}}},
            {"output_config": {"format": {"type": "json_schema", "schema": {"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": False}}}},
            id="response_format-json_schema",
        ),
        pytest.param({"response_format": {"type": "text"}}, {"output_config": ABSENT}, id="response_format-text"),
        # Fields that ask for nothing, and hints.
        pytest.param(
            {"n": 1, "logprobs": False, "top_logprobs": 0, "logit_bias": {}, "presence_penalty": 0, "frequency_penalty": 0.0, "modalities": ["text"], "verbosity": "medium"},
            {"n": ABSENT, "logprobs": ABSENT, "logit_bias": ABSENT, "presence_penalty": ABSENT, "modalities": ABSENT, "verbosity": ABSENT},
            id="defaults-accepted",
        ),
        pytest.param(
            {"seed": None, "audio": None, "prediction": None, "web_search_options": None, "functions": None, "temperature": None, "tools": None},
            {"seed": ABSENT, "temperature": ABSENT, "tools": ABSENT},
            id="nulls-accepted",
        ),
        pytest.param(
            {"service_tier": "flex", "prompt_cache_key": "k", "prompt_cache_retention": "24h", "prompt_cache_options": {"ttl": "30m"}},
            {"service_tier": ABSENT, "prompt_cache_key": ABSENT},
            id="hints-dropped",
        ),
    ],
)
def test_request_features(fields: dict[str, Any], expected: dict[str, Any]) -> None:
    out = translated(**fields)
    assert {key: out.get(key, ABSENT) for key in expected} == expected
    orjson.dumps(out)


@pytest.mark.parametrize(
    ("fields", "max_tokens", "budget"),
    [
        ({"reasoning_effort": "minimal"}, 1024 + DEFAULT_MAX_TOKENS, 1024),
        ({"reasoning_effort": "low"}, 2048 + DEFAULT_MAX_TOKENS, 2048),
        ({"reasoning_effort": "medium"}, 8192 + DEFAULT_MAX_TOKENS, 8192),
        ({"reasoning_effort": "high"}, 16384 + DEFAULT_MAX_TOKENS, 16384),
        ({"reasoning_effort": "xhigh"}, 24576 + DEFAULT_MAX_TOKENS, 24576),
        ({"reasoning_effort": "max"}, 32000, 28672),  # within what every thinking model accepts
        ({"reasoning_effort": "high", "max_completion_tokens": 64000}, 64000, 16384),
        ({"reasoning_effort": "high", "max_completion_tokens": 5000}, 5000, 4999),  # the budget fits the limit
        ({"reasoning_effort": "low", "max_tokens": 1025}, 1025, 1024),
        ({"reasoning_effort": "none"}, DEFAULT_MAX_TOKENS, None),
        ({"reasoning_effort": None, "max_tokens": 100}, 100, None),
    ],
)
def test_reasoning_effort_becomes_a_thinking_budget_within_max_tokens(fields: dict[str, Any], max_tokens: int, budget: int | None) -> None:
    out = translated(**fields)
    assert out["max_tokens"] == max_tokens
    assert out.get("thinking") == (None if budget is None else {"type": "enabled", "budget_tokens": budget})


@pytest.mark.parametrize(
    ("messages", "thinking"),
    [
        (LOOP[:1], True),
        (LOOP, False),  # Anthropic would want the signed thinking block the client never saw
        ([*LOOP, {"role": "user", "content": "And Oslo?"}], False),  # still the same assistant turn
        ([*LOOP, {"role": "assistant", "content": "15 degrees."}, {"role": "user", "content": "And Oslo?"}], True),
    ],
)
def test_thinking_is_off_while_a_tool_loop_goes_on(messages: list[dict[str, Any]], thinking: bool) -> None:
    out = translated(messages=messages, tools=[FUNCTION], reasoning_effort="medium", max_completion_tokens=2000 if not thinking else 20000)
    assert ("thinking" in out) is thinking
    assert out["max_tokens"] == (20000 if thinking else 2000)


def test_efforts_and_budgets_are_one_scale_both_ways() -> None:
    # What the Anthropic -> OpenAI pair makes of a budget is the effort that asked for it.
    for effort in ("low", "medium", "high"):
        assert effort_for_budget(THINKING_BUDGETS[effort]) == effort


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        # Features Anthropic cannot express.
        ({"presence_penalty": 0.5}, "presence_penalty"),
        ({"frequency_penalty": -1}, "frequency_penalty"),
        ({"seed": 42}, "seed"),
        ({"response_format": {"type": "json_object"}}, "response_format.type"),
        ({"temperature": 1.5}, "temperature"),
        ({"reasoning_effort": "low", "max_tokens": 1024}, "reasoning_effort"),  # no room for the smallest budget
        (msg([{"type": "input_audio", "input_audio": {"data": "x", "format": "wav"}}]), "messages[0].content[0].type"),
        (msg([{"type": "file", "file": {"file_data": "data:text/csv;base64,YQ=="}}]), "messages[0].content[0].file.file_data"),
        (msg([{"type": "image_url", "image_url": {"url": "ftp://example.com/cat.png"}}]), "messages[0].content[0].image_url.url"),
        ({"messages": [{"role": "tool", "tool_call_id": "c", "content": [{"type": "image_url", "image_url": {"url": "https://x"}}]}]}, "messages[0].content[0].type"),
        # Invalid shapes.
        ({"messages": [{"role": "tool", "tool_call_id": "c", "content": None}]}, "messages[0].content"),
        # What every pair refuses alike.
        *REFUSED_BY_EVERY_PAIR,
    ],
)
def test_requests_the_provider_cannot_serve_name_the_field(fields: dict[str, Any], param: str) -> None:
    with pytest.raises(UnsupportedFeature) as raised:
        translated(**fields)
    assert raised.value.param == param
    assert raised.value.message


def test_a_body_that_is_no_object_is_refused() -> None:
    with pytest.raises(UnsupportedFeature) as raised:
        TRANSLATOR.request([], UPSTREAM)  # type: ignore[arg-type]
    assert raised.value.param == "body"


# ---------------------------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "usage"),
    [
        ("text_response", Usage(input_tokens=3895, output_tokens=503, cached_input_tokens=1800)),
        ("tool_response", Usage(input_tokens=2520, output_tokens=89, cache_creation_input_tokens=2048)),
    ],
)
def test_golden_responses(name: str, usage: Usage) -> None:
    body, reported = TRANSLATOR.response(fixture_json(f"{name}.anthropic.json"), CLIENT_REQUEST)
    assert without_created(body) == fixture_json(f"{name}.openai.json")
    assert reported == usage


def message(*content: dict[str, Any], stop_reason: Any = "end_turn", usage: Any = None, **fields: Any) -> dict[str, Any]:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": UPSTREAM,
        "content": list(content),
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 5} if usage is None else usage,
        **fields,
    }


TOOL_USE = tool_use("toolu_1", {"city": "Paris"})


@pytest.mark.parametrize(
    ("stop_reason", "content", "finish_reason"),
    [
        ("end_turn", [txt("Hi")], "stop"),
        ("stop_sequence", [txt("1, 2, 3")], "stop"),
        ("pause_turn", [txt("Hi")], "stop"),
        ("max_tokens", [txt("Hi")], "length"),
        ("model_context_window_exceeded", [txt("Hi")], "length"),
        ("tool_use", [TOOL_USE], "tool_calls"),
        ("refusal", [txt("I can")], "content_filter"),
        ("end_turn", [TOOL_USE], "tool_calls"),  # a turn that called tools says so
        ("max_tokens", [TOOL_USE], "length"),  # ... unless its call was cut off
        (None, [txt("Hi")], "stop"),
        ("a_future_reason", [txt("Hi")], "stop"),
        (42, [txt("Hi")], "stop"),
    ],
)
def test_response_finish_reasons(stop_reason: Any, content: list[dict[str, Any]], finish_reason: str) -> None:
    body, _ = TRANSLATOR.response(message(*content, stop_reason=stop_reason), CLIENT_REQUEST)
    assert body["choices"][0]["finish_reason"] == finish_reason


def test_response_text_blocks_join_as_they_stream() -> None:
    # Text blocks are one answer cut where a citation or a tool call sat.
    body, _ = TRANSLATOR.response(message(txt("The sky is "), txt("blue", citations=[{"type": "char_location"}]), txt(".")), CLIENT_REQUEST)
    assert body["choices"][0]["message"]["content"] == "The sky is blue."


def test_response_tool_calls_keep_their_order_and_json_arguments() -> None:
    second = tool_use("toolu_2", {"q": ["é", 1.5, None]}, name="search")
    body, _ = TRANSLATOR.response(message(txt("Checking."), TOOL_USE, second, stop_reason="tool_use"), CLIENT_REQUEST)
    assert body["choices"][0]["message"]["tool_calls"] == [
        {"id": "toolu_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}},
        {"id": "toolu_2", "type": "function", "function": {"name": "search", "arguments": '{"q":["é",1.5,null]}'}},
    ]
    assert [orjson.loads(c["function"]["arguments"]) for c in body["choices"][0]["message"]["tool_calls"]] == [{"city": "Paris"}, {"q": ["é", 1.5, None]}]


def test_response_without_text_has_null_content_and_no_tool_calls_key() -> None:
    body, _ = TRANSLATOR.response(message(stop_reason="max_tokens"), CLIENT_REQUEST)
    assert body["choices"][0]["message"] == {"role": "assistant", "content": None, "refusal": None}


def test_response_thinking_becomes_reasoning_content_and_redacted_thinking_is_dropped() -> None:
    body, _ = TRANSLATOR.response(
        message({"type": "thinking", "thinking": "2 + 2 = 4.", "signature": "sig"}, {"type": "redacted_thinking", "data": "xyz"}, txt("4")), CLIENT_REQUEST)
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "4", "refusal": None, "reasoning_content": "2 + 2 = 4."}


@pytest.mark.parametrize(
    ("usage", "wire", "common"),
    [
        (
            {"input_tokens": 86, "cache_creation_input_tokens": 200, "cache_read_input_tokens": 1920, "output_tokens": 300},
            {"prompt_tokens": 2206, "completion_tokens": 300, "total_tokens": 2506, "prompt_tokens_details": {"cached_tokens": 1920, "cache_write_tokens": 200}},
            Usage(input_tokens=2206, output_tokens=300, cached_input_tokens=1920, cache_creation_input_tokens=200),
        ),
        ({}, {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0, "prompt_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0}}, Usage()),
        ("garbage", {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0, "prompt_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0}}, Usage()),
        ({"input_tokens": True, "output_tokens": "5", "cache_read_input_tokens": None}, {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0, "prompt_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0}}, Usage()),
    ],
)
def test_response_usage_counts_cache_reads_and_writes_as_prompt_tokens(usage: Any, wire: dict[str, Any], common: Usage) -> None:
    body, reported = TRANSLATOR.response(message(txt("Hi"), usage=usage), CLIENT_REQUEST)
    assert body["usage"] == wire
    assert reported == common


@pytest.mark.parametrize("body", [{}, {"content": "Hi", "id": 7, "model": None}, {"content": [None, "x", {"type": "text", "text": 5}, {"type": "tool_use", "input": [1]}]}])
def test_response_of_any_shape_is_still_a_chat_completion(body: dict[str, Any]) -> None:
    out, usage = TRANSLATOR.response(body, CLIENT_REQUEST)
    assert out["id"].startswith("chatcmpl-") and len(out["id"]) > 9 and out["model"] == CLIENT_MODEL  # the provider named none
    openai.types.chat.ChatCompletion.model_validate(out)
    assert usage == Usage()


# ---------------------------------------------------------------------------------------------
# Streaming
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "usage"),
    [
        ("text_stream", Usage(input_tokens=25, output_tokens=15)),
        ("tool_stream", Usage(input_tokens=472, output_tokens=89)),
        ("thinking_stream", None),  # the provider reported none
        ("error_stream", Usage(input_tokens=25, output_tokens=1)),
    ],
)
def test_golden_streams(name: str, usage: Usage | None) -> None:
    out, reported = run_stream(fixture(f"{name}.anthropic.sse"))
    assert openai_events(out) == openai_events(fixture(f"{name}.openai.sse"))
    assert reported == usage


@pytest.mark.parametrize("name", ["text_stream", "tool_stream", "thinking_stream"])
def test_golden_streams_are_well_formed(name: str) -> None:
    out, _ = run_stream(fixture(f"{name}.anthropic.sse"))
    assert_openai_well_formed(openai_events(out))


def test_stream_chunks_name_the_model_the_client_asked_for() -> None:
    out, _ = run_stream(fixture("text_stream.anthropic.sse"), model="my-alias")
    assert {chunk["model"] for chunk in openai_events(out)[:-1]} == {"my-alias"}


def test_stream_tool_argument_fragments_concatenate_to_the_full_json() -> None:
    provider_arguments = "".join(
        data["delta"]["partial_json"]
        for block in fixture("tool_stream.anthropic.sse").split(b"\n\n")
        if block.startswith(b"event: content_block_delta") and (data := orjson.loads(block.split(b"data: ", 1)[1]))["delta"]["type"] == "input_json_delta"
    )
    out, _ = run_stream(fixture("tool_stream.anthropic.sse"))
    calls = assembled(openai_events(out))["tool_calls"]
    assert calls == [{"id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "name": "get_weather", "arguments": provider_arguments}]
    assert orjson.loads(calls[0]["arguments"]) == {"location": "San Francisco, CA", "unit": "fahrenheit"}


def test_stream_tool_calls_are_indexed_among_tool_calls_only() -> None:
    out, _ = run_stream(
        anthropic_stream(
            message_start(),
            block_start(0, {"type": "thinking", "thinking": ""}),
            block_delta(0, type="thinking_delta", thinking="Two cities."),
            block_delta(0, type="signature_delta", signature="sig"),
            block_stop(0),
            block_start(1, {"type": "text", "text": ""}),
            text(1, "Checking both."),
            block_stop(1),
            tool_block(2, "toolu_a", "get_weather"),
            json_fragment(2, '{"city": "Par'),
            json_fragment(2, 'is"}'),
            block_stop(2),
            tool_block(3, "toolu_b", "get_weather"),
            json_fragment(3, '{"city": "Oslo"}'),
            block_stop(3),
            message_delta("tool_use"),
            MESSAGE_STOP,
        )
    )
    events = openai_events(out)
    assert_openai_well_formed(events)
    assert assembled(events) == {
        "content": "Checking both.",
        "reasoning_content": "Two cities.",
        "tool_calls": [
            {"id": "toolu_a", "name": "get_weather", "arguments": '{"city": "Paris"}'},
            {"id": "toolu_b", "name": "get_weather", "arguments": '{"city": "Oslo"}'},
        ],
    }
    starts = [c["choices"][0]["delta"]["tool_calls"][0] for c in events[:-1] if c["choices"] and "id" in (c["choices"][0]["delta"].get("tool_calls") or [{}])[0]]
    assert starts == [
        {"index": 0, "id": "toolu_a", "type": "function", "function": {"name": "get_weather", "arguments": ""}},
        {"index": 1, "id": "toolu_b", "type": "function", "function": {"name": "get_weather", "arguments": ""}},
    ]
    assert finish_reason(events) == "tool_calls"


def test_stream_tool_input_sent_whole_at_block_start_is_sent_once() -> None:
    # Anthropic starts with `input: {}` and streams it; a compatible server may send it whole.
    out, _ = run_stream(
        anthropic_stream(message_start(), block_start(0, {"type": "tool_use", "id": "toolu_a", "name": "f", "input": {"n": 1}}), block_stop(0), message_delta("tool_use"), MESSAGE_STOP)
    )
    assert assembled(openai_events(out))["tool_calls"] == [{"id": "toolu_a", "name": "f", "arguments": '{"n":1}'}]


def test_stream_deltas_of_blocks_an_openai_client_cannot_use_are_dropped() -> None:
    out, _ = run_stream(
        anthropic_stream(
            message_start(),
            block_start(0, {"type": "redacted_thinking", "data": "xyz"}),
            block_stop(0),
            block_start(1, {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}}),
            json_fragment(1, '{"query": "x"}'),
            block_stop(1),
            block_start(2, {"type": "text", "text": ""}),
            text(2, "Done."),
            block_delta(2, type="citations_delta", citation={"type": "char_location"}),
            block_stop(2),
            message_delta(),
            MESSAGE_STOP,
        )
    )
    events = openai_events(out)
    assert_openai_well_formed(events)
    assert assembled(events) == {"content": "Done.", "reasoning_content": "", "tool_calls": []}


@pytest.mark.parametrize(
    ("stop_reason", "expected"),
    [("end_turn", "stop"), ("stop_sequence", "stop"), ("max_tokens", "length"), ("tool_use", "tool_calls"), ("refusal", "content_filter"), ("pause_turn", "stop"), (None, "stop")],
)
def test_stream_finish_reasons(stop_reason: str | None, expected: str) -> None:
    out, _ = run_stream(anthropic_stream(message_start(), block_start(0, txt("")), text(0, "Hi"), block_stop(0), message_delta(stop_reason), MESSAGE_STOP))
    assert finish_reason(openai_events(out)) == expected


def test_stream_usage_takes_the_latest_cumulative_counts() -> None:
    start_usage = {"input_tokens": 5, "cache_read_input_tokens": 1000, "cache_creation_input_tokens": 200, "output_tokens": 1}
    out, usage = run_stream(
        anthropic_stream(
            message_start(start_usage),
            block_start(0, txt("")),
            text(0, "Hi"),
            block_stop(0),
            message_delta("end_turn", {"output_tokens": 42}),
            MESSAGE_STOP,
        )
    )
    assert openai_events(out)[-2]["usage"] == {
        "prompt_tokens": 1205,
        "completion_tokens": 42,
        "total_tokens": 1247,
        "prompt_tokens_details": {"cached_tokens": 1000, "cache_write_tokens": 200},
    }
    assert usage == Usage(input_tokens=1205, output_tokens=42, cached_input_tokens=1000, cache_creation_input_tokens=200)


TEXT = fixture("text_stream.anthropic.sse")
TOOL_STREAM = fixture("tool_stream.anthropic.sse")
WITHOUT_STOP = TEXT.split(b"event: message_stop")[0]
WITHOUT_DELTA = TEXT.split(b"event: message_delta")[0]


@pytest.mark.parametrize(
    ("chunks", "finish", "content"),
    [
        pytest.param([TEXT], "stop", "Hello! ¿Qué tal? 👋", id="complete"),
        pytest.param([WITHOUT_STOP], "stop", "Hello! ¿Qué tal? 👋", id="no-message_stop"),
        pytest.param([WITHOUT_DELTA], "stop", "Hello! ¿Qué tal? 👋", id="no-message_delta"),
        pytest.param([TEXT[: TEXT.index("¿Qué".encode())]], "stop", "Hello", id="cut-mid-event"),
        pytest.param([TEXT.replace(b'{"type": "message_stop"}\n\n', b'{"type": "message_stop"}\n')], "stop", "Hello! ¿Qué tal? 👋", id="message_stop-without-blank-line"),
        pytest.param([TOOL_STREAM.split(b"event: message_delta")[0]], "tool_calls", "Okay, let's check the weather for San Francisco, CA:", id="tool-call-cut-off"),
        pytest.param([], "stop", "", id="empty"),
        pytest.param([b'event: ping\ndata: {"type": "ping"}\n\n'], "stop", "", id="only-ping"),
        pytest.param([b": keep-alive\n\n", b"\n"], "stop", "", id="only-comments"),
        pytest.param([TEXT, TEXT], "stop", "Hello! ¿Qué tal? 👋", id="events-after-message_stop-ignored"),
        pytest.param([TEXT + b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"late"}}\n'], "stop", "Hello! ¿Qué tal? 👋", id="event-after-stop-pending-at-finish"),
        pytest.param([anthropic_stream(block_start(0, txt("")), text(0, "No start."), message_delta(), MESSAGE_STOP)], "stop", "No start.", id="no-message_start"),
    ],
)
def test_stream_has_exactly_one_finish_and_one_done(chunks: list[bytes], finish: str, content: str) -> None:
    out, _ = run_stream(*chunks)
    events = openai_events(out)
    assert_openai_well_formed(events)
    assert finish_reason(events) == finish
    assert assembled(events)["content"] == content


@pytest.mark.parametrize(
    ("error", "error_type", "code", "message"),
    [
        ({"type": "overloaded_error", "message": "Overloaded"}, "server_error", "overloaded_error", "Overloaded"),
        ({"type": "api_error", "message": "Internal server error"}, "server_error", "api_error", "Internal server error"),
        ({"type": "rate_limit_error", "message": "Slow down"}, "rate_limit_error", "rate_limit_error", "Slow down"),
        ({"type": "invalid_request_error", "message": "Bad"}, "invalid_request_error", "invalid_request_error", "Bad"),
        ({"type": "a_future_error"}, "server_error", "a_future_error", "the provider's stream reported an error"),
        ("boom", "server_error", None, "boom"),
        (None, "server_error", None, "the provider's stream reported an error"),
    ],
)
def test_stream_error_from_the_provider_ends_the_client_stream(error: Any, error_type: str, code: str | None, message: str) -> None:
    stream = TRANSLATOR.stream({"model": CLIENT_MODEL, "stream_options": {"include_usage": True}})
    out = stream.feed(anthropic_stream(message_start(), block_start(0, txt("")), text(0, "Hel"), {"type": "error", "error": error}, text(0, "lo")))
    events = openai_events(out)
    assert events[-1] == {"error": {"message": message, "type": error_type, "param": None, "code": code}}
    assert DONE not in events and not any(c.get("choices") and c["choices"][0]["finish_reason"] for c in events)
    assert stream.feed(anthropic_stream(text(0, "more"), MESSAGE_STOP)) == b""
    assert stream.finish() == b""


def test_stream_error_before_the_message_starts_is_the_whole_stream() -> None:
    out, usage = run_stream(b'event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}\n\n')
    assert openai_events(out) == [{"error": {"message": "Overloaded", "type": "server_error", "param": None, "code": "overloaded_error"}}]
    assert usage is None


@pytest.mark.parametrize("event", [b"data: {not json\n\n", b"data: [1, 2]\n\n", b"data: \xff\xfe\n\n", b"data: [DONE]\n\n"])
def test_stream_event_that_is_not_a_json_object_is_an_error(event: bytes) -> None:
    out, _ = run_stream(anthropic_stream(message_start(), block_start(0, txt("")), text(0, "Hi")), event)
    events = openai_events(out)
    assert events[-1]["error"]["type"] == "server_error" and DONE not in events


def test_stream_event_type_may_come_from_the_event_line_alone() -> None:
    out, _ = run_stream(b'event: content_block_delta\ndata: {"index": 0, "delta": {"type": "text_delta", "text": "Hi"}}\n\n')
    assert assembled(openai_events(out))["content"] == "Hi"


# ---------------------------------------------------------------------------------------------
# The official `openai` SDK reads what the translator answers
# ---------------------------------------------------------------------------------------------


def test_sdk_parses_a_translated_response() -> None:
    body, _ = TRANSLATOR.response(fixture_json("tool_response.anthropic.json"), CLIENT_REQUEST)
    completion = sdk_client(200, orjson.dumps(body)).chat.completions.create(model=CLIENT_MODEL, messages=HELLO)
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content == "I'll check the current weather in San Francisco for you."
    assert choice.message.tool_calls[0].function.name == "get_weather"
    assert orjson.loads(choice.message.tool_calls[0].function.arguments) == {"location": "San Francisco, CA", "unit": "celsius"}
    assert completion.usage.prompt_tokens == 2520 and completion.usage.completion_tokens == 89


@pytest.mark.parametrize("name", ["text_stream", "tool_stream", "thinking_stream"])
def test_sdk_reassembles_a_translated_stream(name: str) -> None:
    final, expected = sdk_reassembled(run_stream(fixture(f"{name}.anthropic.sse"))[0], CLIENT_MODEL)
    assert final.choices[0].message.content == (expected["content"] or None)


def test_sdk_raises_on_a_translated_stream_error() -> None:
    out, _ = run_stream(fixture("error_stream.anthropic.sse"))
    chunks = sdk_client(200, out, "text/event-stream").chat.completions.create(model=CLIENT_MODEL, messages=HELLO, stream=True)
    with pytest.raises(openai.APIError) as raised:
        list(chunks)
    assert (raised.value.message, raised.value.type, raised.value.code) == ("Overloaded", "server_error", "overloaded_error")


@pytest.mark.parametrize(
    ("status", "exception"),
    [(400, openai.BadRequestError), (401, openai.AuthenticationError), (403, openai.PermissionDeniedError), (404, openai.NotFoundError), (429, openai.RateLimitError), (529, openai.InternalServerError)],
)
def test_sdk_raises_its_usual_exception_on_a_translated_error(status: int, exception: type[Exception]) -> None:
    body = TRANSLATOR.error(status, b'{"type": "error", "error": {"type": "whatever_error", "message": "Nope"}}')
    with pytest.raises(exception) as raised:
        sdk_client(status, body).chat.completions.create(model=CLIENT_MODEL, messages=HELLO)
    assert raised.value.message.endswith("Nope") and raised.value.code == "whatever_error"  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def test_golden_error() -> None:
    assert orjson.loads(TRANSLATOR.error(404, fixture("error_404.anthropic.json"))) == fixture_json("error_404.openai.json")


@pytest.mark.parametrize(
    ("status", "anthropic_type", "openai_type"),
    [
        (400, "invalid_request_error", "invalid_request_error"),
        (401, "authentication_error", "authentication_error"),
        (402, "billing_error", "invalid_request_error"),
        (403, "permission_error", "permission_error"),
        (404, "not_found_error", "not_found_error"),
        (413, "request_too_large", "invalid_request_error"),
        (429, "rate_limit_error", "rate_limit_error"),
        (500, "api_error", "server_error"),
        (503, "overloaded_error", "server_error"),
        (504, "timeout_error", "server_error"),
        (529, "overloaded_error", "server_error"),
    ],
)
def test_error_type_follows_the_status_and_code_keeps_anthropics_type(status: int, anthropic_type: str, openai_type: str) -> None:
    body = orjson.dumps({"type": "error", "error": {"type": anthropic_type, "message": "m"}})
    assert orjson.loads(TRANSLATOR.error(status, body)) == {"error": {"message": "m", "type": openai_type, "param": None, "code": anthropic_type}}


@pytest.mark.parametrize(
    ("body", "message", "code"),
    [
        (b'{"error": "upstream unavailable"}', "upstream unavailable", None),
        (b'{"message": "Bad gateway"}', "Bad gateway", None),
        (b'{"type": "error", "error": {"type": "api_error"}}', '{"type": "error", "error": {"type": "api_error"}}', "api_error"),
        (b"<html><body>502 Bad Gateway</body></html>\n", "<html><body>502 Bad Gateway</body></html>", None),
        (b"\xff\xfeoops", "\ufffd\ufffdoops", None),
        (b"", "the provider answered HTTP 502 without a message", None),
    ],
)
def test_error_message_from_any_provider_body(body: bytes, message: str, code: str | None) -> None:
    assert orjson.loads(TRANSLATOR.error(502, body)) == {"error": {"message": message, "type": "server_error", "param": None, "code": code}}


def test_error_message_from_a_huge_body_is_cut() -> None:
    assert len(orjson.loads(TRANSLATOR.error(500, b"x" * 100_000))["error"]["message"]) == 1000


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------


urls = st.sampled_from([f"data:image/png;base64,{PNG}", "https://example.com/a.png", "data:image/png,x", "ftp://x", "data:application/pdf;base64,JVBER"])
parts = st.one_of(
    text_parts,
    st.fixed_dictionaries({"type": st.just("image_url"), "image_url": mostly(st.fixed_dictionaries({"url": mostly(urls)}, optional={"detail": texts}))}, optional=breakpoints),
    st.fixed_dictionaries(
        {"type": st.just("file"), "file": mostly(st.fixed_dictionaries({}, optional={"file_data": mostly(urls), "file_id": texts, "filename": mostly(texts)}))}
    ),
    st.fixed_dictionaries({"type": st.sampled_from(["refusal", "input_audio", "x"])}, optional={"refusal": mostly(texts)}),
)
messages = conversations(parts)
request_shaped = request_bodies(messages)


@settings(max_examples=300, deadline=None)
@given(any_json_object() | request_shaped)
def test_request_on_any_json_object_raises_nothing_but_unsupported_feature(body: dict[str, Any]) -> None:
    try:
        out = TRANSLATOR.request(body, UPSTREAM)
    except UnsupportedFeature as e:
        assert isinstance(e.param, str) and isinstance(e.message, str)
    else:
        orjson.dumps(out)  # what it returns can be sent
        assert isinstance(out["max_tokens"], int) and out["messages"]


@settings(max_examples=200, deadline=None)
@given(any_json_object() | st.fixed_dictionaries({"content": st.lists(json_values, max_size=4)}, optional={"usage": json_values, "stop_reason": json_values, "id": json_values}))
def test_response_of_any_json_object_is_a_chat_completion(body: dict[str, Any]) -> None:
    out, usage = TRANSLATOR.response(body, CLIENT_REQUEST)
    openai.types.chat.ChatCompletion.model_validate(out)
    assert isinstance(usage, Usage)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["text_stream", "tool_stream", "thinking_stream", "error_stream"]), st.data())
def test_a_stream_split_anywhere_translates_as_it_does_whole(name: str, data: st.DataObject) -> None:
    stream = fixture(f"{name}.anthropic.sse")
    whole_out, whole_usage = run_stream(stream)
    split_out, split_usage = run_stream(*cut_anywhere(stream, data))
    assert (openai_events(split_out), split_usage) == (openai_events(whole_out), whole_usage)


def test_a_stream_split_at_every_byte_translates_as_it_does_whole() -> None:
    stream = fixture("text_stream.anthropic.sse")
    whole, _ = run_stream(stream)
    split, _ = run_stream(*(stream[i : i + 1] for i in range(len(stream))))
    assert re.sub(rb'"created":\d+', b"", split) == re.sub(rb'"created":\d+', b"", whole)


golden_lines = [line + b"\n" for name in ("text_stream", "tool_stream", "thinking_stream") for line in fixture(f"{name}.anthropic.sse").split(b"\n")]
stream_pieces = st.sampled_from(golden_lines) | st.binary(max_size=40) | json_values.map(lambda value: b"data: " + orjson.dumps(value) + b"\n\n")


@settings(max_examples=300, deadline=None)
@given(st.lists(stream_pieces, max_size=16))
def test_any_bytes_fed_to_the_stream_translator_end_one_way_or_the_other(pieces: list[bytes]) -> None:
    assert_ended_one_way_or_the_other(run_stream(*pieces)[0])


def test_the_usage_chunk_comes_only_when_the_client_asked_for_it() -> None:
    # A client loop reading `chunk.choices[0]` must never meet a chunk without choices.
    golden = fixture("text_stream.anthropic.sse")
    asked = TRANSLATOR.stream({"model": CLIENT_MODEL, "stream_options": {"include_usage": True}})
    not_asked = TRANSLATOR.stream({"model": CLIENT_MODEL, "stream": True})
    with_usage = [e for e in openai_events(asked.feed(golden) + asked.finish()) if e is not DONE]
    without = [e for e in openai_events(not_asked.feed(golden) + not_asked.finish()) if e is not DONE]
    assert with_usage[-1]["choices"] == [] and with_usage[-1]["usage"]["completion_tokens"] > 0
    assert all(event["choices"] for event in without)
    assert without == with_usage[:-1]
    assert not_asked.usage == asked.usage  # the gateway still learns the usage
