"""Anthropic Messages clients served by AWS Bedrock's Converse API: the translation, as a specification.

Golden exchanges live in tests/fixtures/anthropic_bedrock (their README names the API reference
page each comes from); the tables below pin one feature per row. ConverseStream's frames are
stored there as readable `[event, payload]` pairs and encoded here.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import anthropic
import anthropic.types as at
import httpx2
import orjson
import pytest
from anthropic_client_requests import (
    ADAPTER,
    CLIENT_MODEL,
    IMAGE_B64,
    IMAGE_URL,
    any_json_object,
    assert_the_sdk_takes,
    assert_translated_or_refused,
    base_request,
    cut_anywhere,
    ended_once,
    fixture_readers,
    json_values,
    mostly,
    msg,
    request_bodies,
    stream_runner,
    texts,
    user,
)
from client_streams import anthropic_events, assert_anthropic_well_formed
from hypothesis import given, settings
from hypothesis import strategies as st

from aiplane.translate import Translator, UnsupportedFeature, Usage
from aiplane.translate.anthropic_bedrock import AnthropicToBedrock
from aiplane.translate.eventstream import encode

UPSTREAM = "anthropic.claude-sonnet-4-5-20250929-v1:0"
TRANSLATOR: Translator = AnthropicToBedrock()
ABSENT = object()  # an expected value meaning "this key is not in the output"
MESSAGE_ID = re.compile(r"msg_[0-9a-f]{32}")
TOOL_ID = re.compile(r"toolu_[0-9a-f]{32}(_\d+)?")
fixture, fixture_json = fixture_readers("anthropic_bedrock")
run_stream = stream_runner(TRANSLATOR)


def frames(*events: tuple[str, Any]) -> bytes:
    """ConverseStream bytes: one event-stream frame per (event or exception type, payload)."""
    return b"".join(encode(event, payload if isinstance(payload, bytes) else orjson.dumps(payload)) for event, payload in events)


def bedrock_stream(name: str) -> bytes:
    return frames(*(tuple(pair) for pair in fixture_json(f"{name}.bedrock.json")))


def masked_events(raw: bytes) -> list[tuple[str, dict[str, Any]]]:
    """The client's events, the message id the translator made checked and replaced by `msg_*`."""
    events = anthropic_events(raw)
    for name, data in events:
        if name == "message_start":
            assert MESSAGE_ID.fullmatch(data["message"]["id"])
            data["message"]["id"] = "msg_*"
    return events


def masked(message: dict[str, Any]) -> dict[str, Any]:
    assert MESSAGE_ID.fullmatch(message["id"])
    return {**message, "id": "msg_*"}


def translated(upstream: str = UPSTREAM, **fields: Any) -> dict[str, Any]:
    return TRANSLATOR.request(base_request(**fields), upstream)


def test_the_pair() -> None:
    assert (TRANSLATOR.client, TRANSLATOR.provider) == ("anthropic", "bedrock")


# ---------------------------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["text_request", "tool_request"])
def test_golden_requests(name: str) -> None:
    assert TRANSLATOR.request(fixture_json(f"{name}.anthropic.json"), UPSTREAM) == fixture_json(f"{name}.bedrock.json")


def test_the_request_is_not_modified() -> None:
    body = fixture_json("tool_request.anthropic.json")
    TRANSLATOR.request(body, UPSTREAM)
    assert body == fixture_json("tool_request.anthropic.json")


PDF = {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0xLjQ="}}
TOOL = {"name": "get_weather", "description": "Weather now", "input_schema": {"type": "object", "properties": {}}}
TOOL_SPEC = {"toolSpec": {"name": "get_weather", "description": "Weather now", "inputSchema": {"json": {"type": "object", "properties": {}}}}}
CACHE = {"type": "ephemeral"}
CACHE_POINT = {"cachePoint": {"type": "default"}}
TOOL_USE = {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Zürich"}}
TOOL_LOOP = [
    {"role": "user", "content": "Weather?"},
    {"role": "assistant", "content": [TOOL_USE]},
    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"}]},
]


def assistant(*blocks: Any) -> list[dict[str, Any]]:
    return [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": list(blocks)}]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({}, {"messages": [{"role": "user", "content": [{"text": "Hi"}]}], "inferenceConfig": {"maxTokens": 256}, "modelId": ABSENT, "model": ABSENT}, id="no-model-in-the-body"),
        pytest.param({"system": "Be brief."}, {"system": [{"text": "Be brief."}]}, id="system-string"),
        pytest.param({"system": ""}, {"system": ABSENT}, id="system-empty"),
        pytest.param(
            {"system": [{"type": "text", "text": "Be brief.", "cache_control": CACHE}, {"type": "text", "text": "Be kind."}]},
            {"system": [{"text": "Be brief."}, CACHE_POINT, {"text": "Be kind."}]},
            id="system-blocks-cache_control-is-a-cache-point-after",
        ),
        pytest.param(
            {"messages": [{"role": "user", "content": "A"}, {"role": "user", "content": [{"type": "text", "text": "B"}]}, {"role": "assistant", "content": "C"}, {"role": "assistant", "content": "D"}]},
            {"messages": [{"role": "user", "content": [{"text": "A"}, {"text": "B"}]}, {"role": "assistant", "content": [{"text": "C"}, {"text": "D"}]}]},
            id="consecutive-same-role-merged",
        ),
        pytest.param(
            {"messages": user({"type": "text", "text": "What is this?", "citations": None}, IMAGE_B64, dict(IMAGE_B64, source=dict(IMAGE_B64["source"], media_type="image/jpeg")))},
            {"messages": [{"role": "user", "content": [{"text": "What is this?"}, {"image": {"format": "png", "source": {"bytes": "iVBORw0KGgo="}}}, {"image": {"format": "jpeg", "source": {"bytes": "iVBORw0KGgo="}}}]}]},
            id="images-base64",
        ),
        pytest.param(
            {"messages": user(dict(PDF, title="Q3 report: draft.pdf", context="Internal"), dict(PDF, title="Q3 report: draft.pdf"), PDF, {"type": "text", "text": "Summarize."})},
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"document": {"format": "pdf", "name": "Q3 report draft", "source": {"bytes": "JVBERi0xLjQ="}, "context": "Internal"}},
                            {"document": {"format": "pdf", "name": "Q3 report draft-2", "source": {"bytes": "JVBERi0xLjQ="}}},
                            {"document": {"format": "pdf", "name": "document", "source": {"bytes": "JVBERi0xLjQ="}}},
                            {"text": "Summarize."},
                        ],
                    }
                ]
            },
            id="pdf-documents-named-uniquely",
        ),
        pytest.param(
            {"messages": user({"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "Grüezi"}, "citations": {"enabled": False}})},
            {"messages": [{"role": "user", "content": [{"document": {"format": "txt", "name": "document", "source": {"bytes": base64.b64encode("Grüezi".encode()).decode()}}}]}]},
            id="text-document-as-bytes",
        ),
        pytest.param(
            {"messages": user({"type": "text", "text": "Long context", "cache_control": CACHE}, dict(IMAGE_B64, cache_control={"type": "ephemeral", "ttl": "5m"}))},
            {"messages": [{"role": "user", "content": [{"text": "Long context"}, CACHE_POINT, {"image": {"format": "png", "source": {"bytes": "iVBORw0KGgo="}}}, CACHE_POINT]}]},
            id="message-cache_control-5m-is-the-default",
        ),
        pytest.param({"cache_control": CACHE}, {"messages": [{"role": "user", "content": [{"text": "Hi"}, CACHE_POINT]}]}, id="top-level-cache_control-after-the-last-block"),
        pytest.param(
            {"messages": [*TOOL_LOOP[:2], {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "sunny", "cache_control": CACHE}, IMAGE_B64, PDF], "is_error": False, "cache_control": CACHE}]}], "tools": [TOOL]},
            {
                "messages": [
                    {"role": "user", "content": [{"text": "Weather?"}]},
                    {"role": "assistant", "content": [{"toolUse": {"toolUseId": "toolu_1", "name": "get_weather", "input": {"city": "Zürich"}}}]},
                    {
                        "role": "user",
                        "content": [
                            {
                                "toolResult": {
                                    "toolUseId": "toolu_1",
                                    "content": [{"text": "sunny"}, {"image": {"format": "png", "source": {"bytes": "iVBORw0KGgo="}}}, {"document": {"format": "pdf", "name": "document", "source": {"bytes": "JVBERi0xLjQ="}}}],
                                }
                            },
                            CACHE_POINT,
                        ],
                    },
                ],
                "toolConfig": {"tools": [TOOL_SPEC]},
            },
            id="tool_use-and-tool_result-with-image-and-document",
        ),
        pytest.param(
            {"messages": user({"type": "tool_result", "tool_use_id": "t1", "content": "no such city", "is_error": True}, {"type": "tool_result", "tool_use_id": "t2"}, {"type": "tool_result", "tool_use_id": "t3", "content": ""})},
            {"messages": [{"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "no such city"}], "status": "error"}}, {"toolResult": {"toolUseId": "t2", "content": []}}, {"toolResult": {"toolUseId": "t3", "content": []}}]}]},
            id="tool_result-error-and-empty",
        ),
        pytest.param(
            {"messages": assistant({"type": "thinking", "thinking": "Hmm.", "signature": "c2ln"}, {"type": "redacted_thinking", "data": "cmVkYWN0ZWQ="}, {"type": "thinking", "thinking": "No signature.", "signature": ""}, {"type": "text", "text": "Hello"})},
            {
                "messages": [
                    {"role": "user", "content": [{"text": "Hi"}]},
                    {
                        "role": "assistant",
                        "content": [
                            {"reasoningContent": {"reasoningText": {"text": "Hmm.", "signature": "c2ln"}}},
                            {"reasoningContent": {"redactedContent": "cmVkYWN0ZWQ="}},
                            {"reasoningContent": {"reasoningText": {"text": "No signature."}}},
                            {"text": "Hello"},
                        ],
                    },
                ]
            },
            id="thinking-blocks-as-reasoningContent",
        ),
        pytest.param({"tools": [dict(TOOL, cache_control=CACHE)]}, {"toolConfig": {"tools": [TOOL_SPEC, CACHE_POINT]}}, id="tools-cache_control"),
        pytest.param(
            {"tools": [dict(TOOL, type="custom", strict=True, description="", eager_input_streaming=True, allowed_callers=["direct"], defer_loading=False)]},
            {"toolConfig": {"tools": [{"toolSpec": {"name": "get_weather", "inputSchema": {"json": {"type": "object", "properties": {}}}, "strict": True}}]}},
            id="tool-strict-empty-description-dropped",
        ),
        pytest.param({"tools": [TOOL], "tool_choice": {"type": "auto", "disable_parallel_tool_use": True}}, {"toolConfig": {"tools": [TOOL_SPEC], "toolChoice": {"auto": {}}}}, id="tool_choice-auto"),
        pytest.param({"tools": [TOOL], "tool_choice": {"type": "any"}}, {"toolConfig": {"tools": [TOOL_SPEC], "toolChoice": {"any": {}}}}, id="tool_choice-any"),
        pytest.param({"tools": [TOOL], "tool_choice": {"type": "tool", "name": "get_weather"}}, {"toolConfig": {"tools": [TOOL_SPEC], "toolChoice": {"tool": {"name": "get_weather"}}}}, id="tool_choice-tool"),
        pytest.param({"tools": [TOOL], "tool_choice": {"type": "none"}}, {"toolConfig": ABSENT}, id="tool_choice-none-sends-no-tools"),
        pytest.param({"tools": [], "tool_choice": {"type": "any"}}, {"toolConfig": ABSENT}, id="no-tools-no-toolConfig"),
        pytest.param({"stop_sequences": ["\n\nHuman:", "END"]}, {"inferenceConfig": {"maxTokens": 256, "stopSequences": ["\n\nHuman:", "END"]}, "additionalModelResponseFieldPaths": ["/stop_sequence"]}, id="stop_sequences"),
        pytest.param({"stop_sequences": []}, {"inferenceConfig": {"maxTokens": 256}, "additionalModelResponseFieldPaths": ABSENT}, id="stop_sequences-empty"),
        pytest.param({"temperature": 0.2, "top_p": 0.9, "max_tokens": None}, {"inferenceConfig": {"temperature": 0.2, "topP": 0.9}}, id="temperature-top_p-null-max_tokens"),
        pytest.param({"top_k": 40}, {"additionalModelRequestFields": {"top_k": 40}}, id="top_k"),
        pytest.param({"thinking": {"type": "enabled", "budget_tokens": 4096}}, {"additionalModelRequestFields": {"thinking": {"type": "enabled", "budget_tokens": 4096}}}, id="thinking-enabled"),
        pytest.param({"thinking": {"type": "adaptive", "display": "summarized"}}, {"additionalModelRequestFields": {"thinking": {"type": "adaptive", "display": "summarized"}}}, id="thinking-adaptive"),
        pytest.param({"thinking": {"type": "disabled"}}, {"additionalModelRequestFields": {"thinking": {"type": "disabled"}}}, id="thinking-disabled"),
        pytest.param({"output_config": {"effort": "high"}}, {"outputConfig": {"effort": "high"}}, id="output_config-effort"),
        pytest.param(
            {"output_config": {"format": {"type": "json_schema", "schema": {"type": "object", "properties": {"a": {"type": "integer"}}}}, "effort": None}},
            {"outputConfig": {"textFormat": {"type": "json_schema", "structure": {"jsonSchema": {"schema": '{"type":"object","properties":{"a":{"type":"integer"}}}'}}}}},
            id="output_config-format",
        ),
        pytest.param({"stream": True, "metadata": {"user_id": "user-42"}, "service_tier": "standard_only", "speed": "standard"}, {"stream": ABSENT, "requestMetadata": ABSENT, "serviceTier": ABSENT}, id="hints-dropped"),
    ],
)
def test_request_features(fields: dict[str, Any], expected: dict[str, Any]) -> None:
    out = translated(**fields)
    assert {key: out.get(key, ABSENT) for key in expected} == expected


@pytest.mark.parametrize("upstream", ["meta.llama3-3-70b-instruct-v1:0", "us.amazon.nova-pro-v1:0"])
def test_claude_fields_for_another_model(upstream: str) -> None:
    assert "additionalModelRequestFields" not in translated(upstream, thinking={"type": "disabled"})
    for fields, param in [({"top_k": 5}, "top_k"), ({"thinking": {"type": "enabled", "budget_tokens": 2048}}, "thinking.type")]:
        with pytest.raises(UnsupportedFeature) as raised:
            translated(upstream, **fields)
        assert raised.value.param == param


@pytest.mark.parametrize("upstream", ["us.anthropic.claude-sonnet-4-5-20250929-v1:0", "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123"])
def test_claude_fields_for_claude_or_a_model_that_does_not_say(upstream: str) -> None:
    assert translated(upstream, top_k=5)["additionalModelRequestFields"] == {"top_k": 5}


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        # Features Converse cannot express.
        ({"mcp_servers": [{"type": "url", "url": "https://mcp.example.com", "name": "x"}]}, "mcp_servers"),
        ({"container": "container_1"}, "container"),
        ({"context_management": {"edits": []}}, "context_management"),
        ({"inference_geo": "eu"}, "inference_geo"),
        ({"diagnostics": {"previous_message_id": "msg_1"}}, "diagnostics"),
        ({"speed": "fast"}, "speed"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"a_future_field": 1}, "a_future_field"),
        ({"output_config": {"task_budget": 1}}, "output_config.task_budget"),
        (msg([IMAGE_URL]), "messages[0].content[0].source.type"),
        (msg([{"type": "image", "source": {"type": "file", "file_id": "file_1"}}]), "messages[0].content[0].source.type"),
        (msg([{"type": "image", "source": {"type": "base64", "media_type": "image/bmp", "data": "x"}}]), "messages[0].content[0].source.media_type"),
        (msg([dict(IMAGE_B64, transformations={"crop": {}})]), "messages[0].content[0].transformations"),
        (msg([{"type": "document", "source": {"type": "url", "url": "https://example.com/a.pdf"}}]), "messages[0].content[0].source.type"),
        (msg([{"type": "document", "source": {"type": "content", "content": []}}]), "messages[0].content[0].source.type"),
        (msg([{"type": "document", "source": {"type": "base64", "media_type": "image/png", "data": "x"}}]), "messages[0].content[0].source.media_type"),
        (msg([dict(PDF, citations={"enabled": True})]), "messages[0].content[0].citations.enabled"),
        (msg([{"type": "search_result", "source": "s", "title": "t", "content": []}]), "messages[0].content[0].type"),
        (msg([{"type": "tool_result", "tool_use_id": "t", "content": [{"type": "search_result"}]}]), "messages[0].content[0].content[0].type"),
        (msg([{"type": "server_tool_use", "id": "s", "name": "web_search", "input": {}}], role="assistant"), "messages[0].content[0].type"),
        ({"tools": [{"type": "web_search_20250305", "name": "web_search"}]}, "tools[0].type"),
        ({"tools": [dict(TOOL, input_examples=[{"location": "Paris"}])]}, "tools[0].input_examples"),
        ({"tools": [dict(TOOL, allowed_callers=["code_execution_20250825"])]}, "tools[0].allowed_callers"),
        ({"tools": [dict(TOOL, defer_loading=True)]}, "tools[0].defer_loading"),
        ({"messages": TOOL_LOOP, "tools": [TOOL], "tool_choice": {"type": "none"}}, "tool_choice.type"),
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
        (msg([{"type": "text", "text": "x", "cache_control": {"type": "persistent"}}]), "messages[0].content[0].cache_control.type"),
        (msg([{"type": "text", "text": "x", "cache_control": {"type": "ephemeral", "ttl": "1d"}}]), "messages[0].content[0].cache_control.ttl"),
        (msg([TOOL_USE]), "messages[0].content[0].type"),  # a tool call in a user turn
        (msg([{"type": "tool_result", "tool_use_id": "t"}], role="assistant"), "messages[0].content[0].type"),
        (msg([IMAGE_B64], role="assistant"), "messages[0].content[0].type"),
        (msg([dict(TOOL_USE, input="{}")], role="assistant"), "messages[0].content[0].input"),
        (msg([{"type": "thinking", "thinking": "x"}], role="assistant"), "messages[0].content[0].signature"),
        (msg([{"type": "redacted_thinking"}], role="assistant"), "messages[0].content[0].data"),
        (msg([{"type": "tool_result", "content": "x"}]), "messages[0].content[0].tool_use_id"),
        (msg([{"type": "tool_result", "tool_use_id": "t", "is_error": "yes"}]), "messages[0].content[0].is_error"),
        (msg([{"type": "image", "source": {"type": "base64", "data": "x"}}]), "messages[0].content[0].source.media_type"),
        (msg([dict(PDF, title=3)]), "messages[0].content[0].title"),
        ({"tools": [{"name": "f"}]}, "tools[0].input_schema"),
        ({"tools": [TOOL], "tool_choice": {"type": "all"}}, "tool_choice.type"),
        ({"tools": [TOOL], "tool_choice": {"type": "tool"}}, "tool_choice.name"),
        ({"tool_choice": {"type": "all"}}, "tool_choice.type"),  # checked even without tools
        ({"thinking": {"type": "on"}}, "thinking.type"),
        ({"thinking": {"type": ["enabled"]}}, "thinking.type"),  # any JSON value, a list too
        ({"thinking": {"type": "enabled", "budget_tokens": "lots"}}, "thinking.budget_tokens"),
        ({"output_config": {"format": {"type": "xml"}}}, "output_config.format.type"),
        ({"max_tokens": "256"}, "max_tokens"),
        ({"temperature": True}, "temperature"),
        ({"top_k": 1.5}, "top_k"),
        ({"stream": "yes"}, "stream"),
        ({"speed": "slow"}, "speed"),
        ({"stop_sequences": "END"}, "stop_sequences"),
        ({"metadata": {"user_id": 42}}, "metadata.user_id"),
        ({"cache_control": "ephemeral"}, "cache_control"),
    ],
)
def test_requests_the_provider_cannot_serve_name_the_field(fields: dict[str, Any], param: str) -> None:
    with pytest.raises(UnsupportedFeature) as raised:
        translated(**fields)
    assert raised.value.param == param
    assert raised.value.message


def test_a_null_field_asks_for_nothing() -> None:
    # The SDK sends null for an optional parameter given as None.
    assert translated(container=None, context_management=None, temperature=None, system=None) == translated()


def test_a_tool_whose_type_is_null_is_a_custom_tool() -> None:
    assert translated(tools=[{**TOOL, "type": None}]) == translated(tools=[TOOL])


# ---------------------------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "usage"),
    [
        ("text_response", Usage(input_tokens=1292, output_tokens=12, cached_input_tokens=1024, cache_creation_input_tokens=256)),
        ("tool_response", Usage(input_tokens=375, output_tokens=96)),
    ],
)
def test_golden_responses(name: str, usage: Usage) -> None:
    out, got = TRANSLATOR.response(fixture_json(f"{name}.bedrock.json"), {"model": CLIENT_MODEL})
    assert masked(out) == fixture_json(f"{name}.anthropic.json")
    assert got == usage
    at.Message.model_validate(out)  # the real SDK's type takes it


def converse(*content: dict[str, Any], stop: Any = "end_turn", fields: Any = None, usage: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"output": {"message": {"role": "assistant", "content": list(content)}}, "stopReason": stop, "usage": usage, "metrics": {"latencyMs": 1}}
    if fields is not None:
        body["additionalModelResponseFields"] = fields
    return body


CALL = {"toolUse": {"toolUseId": "tooluse_1", "name": "f", "input": {}}}


@pytest.mark.parametrize(
    ("stop", "content", "fields", "expected"),
    [
        ("end_turn", [{"text": "hi"}], None, ("end_turn", None)),
        ("tool_use", [CALL], None, ("tool_use", None)),
        ("end_turn", [CALL], None, ("tool_use", None)),  # a turn that called tools says so
        ("max_tokens", [{"text": "hi"}], None, ("max_tokens", None)),
        ("stop_sequence", [{"text": "1, 2, 3"}], {"stop_sequence": "4"}, ("stop_sequence", "4")),
        ("stop_sequence", [{"text": "1, 2, 3"}], None, ("stop_sequence", None)),  # a model that does not say which
        ("stop_sequence", [{"text": "1, 2, 3"}], {"stop_sequence": None}, ("stop_sequence", None)),
        ("model_context_window_exceeded", [{"text": "hi"}], None, ("model_context_window_exceeded", None)),
        ("guardrail_intervened", [{"text": "Sorry, the model cannot answer this question."}], None, ("refusal", None)),
        ("content_filtered", [], None, ("refusal", None)),
        ("malformed_model_output", [], None, ("end_turn", None)),
        ("malformed_tool_use", [CALL], None, ("tool_use", None)),
        (None, [{"text": "hi"}], None, ("end_turn", None)),
        ("a_future_reason", [{"text": "hi"}], None, ("end_turn", None)),
    ],
)
def test_response_stop_reasons(stop: Any, content: list[dict[str, Any]], fields: Any, expected: tuple[str, str | None]) -> None:
    out, _ = TRANSLATOR.response(converse(*content, stop=stop, fields=fields), {"model": CLIENT_MODEL})
    assert (out["stop_reason"], out["stop_sequence"]) == expected
    at.Message.model_validate(out)


def test_response_blocks_in_order() -> None:
    out, _ = TRANSLATOR.response(
        converse(
            {"reasoningContent": {"reasoningText": {"text": "Let me think."}}},
            {"reasoningContent": {"redactedContent": "c2VjcmV0"}},
            {"text": "Checking."},
            {"text": ""},
            {"toolUse": {"toolUseId": "tooluse_a", "name": "f", "input": {"x": [1]}}},
            {"toolUse": {"name": "g", "input": "not an object"}},
            {"image": {"format": "png", "source": {"bytes": "x"}}},
            {"citationsContent": {}},
            "garbage",
            stop="tool_use",
        ),
        {"model": CLIENT_MODEL},
    )
    assert out["content"][:5] == [
        {"type": "thinking", "thinking": "Let me think.", "signature": ""},
        {"type": "redacted_thinking", "data": "c2VjcmV0"},
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "tooluse_a", "name": "f", "input": {"x": [1]}},
        {"type": "tool_use", "id": out["content"][4]["id"], "name": "g", "input": {}},
    ]
    assert len(out["content"]) == 5 and TOOL_ID.fullmatch(out["content"][4]["id"])
    at.Message.model_validate(out)


def test_response_names_the_model_the_client_asked_for_and_a_new_id() -> None:
    first, _ = TRANSLATOR.response(converse({"text": "hi"}), {"model": "my-alias"})
    second, _ = TRANSLATOR.response(converse({"text": "hi"}), {"model": "my-alias"})
    assert first["model"] == second["model"] == "my-alias"
    assert MESSAGE_ID.fullmatch(first["id"]) and first["id"] != second["id"]


@pytest.mark.parametrize("body", [{}, {"output": None, "usage": "x"}, {"output": {"message": {"content": [None, 3, {"text": 5}]}}}, {"output": {"message": []}}])
def test_response_to_anything_is_a_message(body: dict[str, Any]) -> None:
    out, usage = TRANSLATOR.response(body, {})
    at.Message.model_validate(out)
    assert usage == Usage() and out["content"] == [] and out["model"] == ""


# ---------------------------------------------------------------------------------------------
# Streams
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "usage"),
    [
        ("text_stream", Usage(input_tokens=12, output_tokens=14)),
        ("tool_stream", Usage(input_tokens=1399, output_tokens=96, cached_input_tokens=1024)),
        ("error_stream", None),
    ],
)
def test_golden_streams(name: str, usage: Usage | None) -> None:
    out, reported = run_stream(bedrock_stream(name))
    assert masked_events(out) == anthropic_events(fixture(f"{name}.anthropic.sse"))
    assert reported == usage


@pytest.mark.parametrize("name", ["text_stream", "tool_stream"])
def test_stream_events_are_well_formed_and_the_sdk_types_take_them(name: str) -> None:
    out, _ = run_stream(bedrock_stream(name))
    assert_the_sdk_takes(out)


def test_stream_message_start_names_the_model_the_client_asked_for() -> None:
    out, _ = run_stream(bedrock_stream("text_stream"), model="my-alias")
    assert anthropic_events(out)[0][1]["message"]["model"] == "my-alias"


SDK_MODEL = "claude-opus-4-7"  # what the SDK sends; the answers are canned


def sdk_client(status: int, body: bytes, content_type: str) -> anthropic.Anthropic:
    """The real Anthropic SDK, answered with `body` as if by the gateway."""
    transport = httpx2.MockTransport(lambda request: httpx2.Response(status, content=body, headers={"content-type": content_type}))
    return anthropic.Anthropic(api_key="k", base_url="http://gateway.test", max_retries=0, http_client=httpx2.Client(transport=transport))


def test_the_sdk_accumulates_the_streamed_message() -> None:
    out, _ = run_stream(bedrock_stream("tool_stream"))
    params = base_request(model=SDK_MODEL, tools=[TOOL])
    with sdk_client(200, out, "text/event-stream").messages.stream(**params) as stream:
        message = stream.get_final_message()
    assert message.model_dump(include={"content", "stop_reason", "stop_sequence", "usage"}, exclude_none=True) == {
        "content": [
            {"type": "thinking", "thinking": "The user wants the most popular song on WZPZ. The top_song tool takes a call sign.", "signature": "ErcBCkgIAhABGAIiQMuuSGcnCKVkhlzm7Qw5b7YJG/L9yE4nuXzp2A=="},
            {"type": "text", "text": "I'll look that up for you."},
            {"type": "tool_use", "id": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "name": "top_song", "input": {"sign": "WZPZ"}},
        ],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 375, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 1024, "output_tokens": 96},
    }


def test_the_sdk_takes_the_response_and_raises_the_errors() -> None:
    body, _ = TRANSLATOR.response(fixture_json("tool_response.bedrock.json"), {"model": CLIENT_MODEL})
    message = sdk_client(200, orjson.dumps(body), "application/json").messages.create(**base_request(model=SDK_MODEL))
    assert [block.type for block in message.content] == ["thinking", "text", "tool_use"]
    with pytest.raises(anthropic.RateLimitError, match="Too many requests"):
        sdk_client(429, TRANSLATOR.error(429, fixture("error_429.bedrock.json")), "application/json").messages.create(**base_request(model=SDK_MODEL))
    out, _ = run_stream(bedrock_stream("error_stream"))
    with pytest.raises(anthropic.APIStatusError, match="Too many requests"), sdk_client(200, out, "text/event-stream").messages.stream(**base_request(model=SDK_MODEL)) as stream:
        stream.get_final_message()


TEXT = [("messageStart", {"role": "assistant"}), ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Hel"}}), ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "lo"}})]
STOP = ("contentBlockStop", {"contentBlockIndex": 0})
END = ("messageStop", {"stopReason": "end_turn"})
METADATA = ("metadata", {"usage": {"inputTokens": 5, "outputTokens": 2, "totalTokens": 7}, "metrics": {"latencyMs": 9}})
WHOLE = frames(*TEXT, STOP, END, METADATA)


@pytest.mark.parametrize(
    ("chunks", "stop_reason", "texts", "output_tokens"),
    [
        pytest.param([WHOLE], "end_turn", ["Hello"], 2, id="complete"),
        pytest.param([frames(*TEXT, STOP, END)], "end_turn", ["Hello"], 0, id="no-metadata"),
        pytest.param([frames(*TEXT)], "end_turn", ["Hello"], 0, id="no-block-stop-no-message-stop"),
        pytest.param([frames(*TEXT, STOP, METADATA, END)], "end_turn", ["Hello"], 2, id="metadata-before-message-stop"),
        pytest.param([WHOLE[:-9]], "end_turn", ["Hello"], 0, id="cut-mid-frame"),
        pytest.param([frames(*TEXT[1:], END, METADATA)], "end_turn", ["Hello"], 2, id="no-message-start"),
        pytest.param([frames(("contentBlockStart", {"contentBlockIndex": 0, "start": {"toolUse": {"toolUseId": "t", "name": "f"}}}), ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"toolUse": {"input": '{"a"'}}}))], "tool_use", [], 0, id="tool-call-cut-off"),
        pytest.param([], "end_turn", [], 0, id="empty"),
        pytest.param([frames(("messageStart", {"role": "assistant"}))], "end_turn", [], 0, id="only-message-start"),
        pytest.param([WHOLE, frames(*TEXT, END, METADATA)], "end_turn", ["Hello"], 2, id="events-after-the-end-ignored"),
        pytest.param([frames(*TEXT, ("aFutureEvent", {"x": 1}), ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"aFutureDelta": {}}}), STOP, END, METADATA)], "end_turn", ["Hello"], 2, id="unknown-events-ignored"),
    ],
)
def test_stream_has_exactly_one_message_start_and_stop(chunks: list[bytes], stop_reason: str, texts: list[str], output_tokens: int) -> None:
    out, _ = run_stream(*chunks)
    events = anthropic_events(out)
    assert_anthropic_well_formed(events)
    assert events[-2][1]["delta"]["stop_reason"] == stop_reason
    assert events[-2][1]["usage"]["output_tokens"] == output_tokens
    assert [data["delta"].get("text") for name, data in events if name == "content_block_delta" and data["delta"]["type"] == "text_delta"] in ([], texts, ["Hel", "lo"])
    for _, data in events:
        ADAPTER.validate_python(data)


def test_stream_message_delta_waits_for_metadata() -> None:
    stream = TRANSLATOR.stream({"model": CLIENT_MODEL})
    before = anthropic_events(stream.feed(frames(*TEXT, STOP, END)))
    assert [name for name, _ in before][-1] == "content_block_stop"
    after = anthropic_events(stream.feed(frames(METADATA)))
    assert [name for name, _ in after] == ["message_delta", "message_stop"]
    assert after[0][1]["usage"] == {"input_tokens": 5, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 2}
    assert stream.usage == Usage(input_tokens=5, output_tokens=2)
    assert stream.finish() == b""


def test_stream_stop_sequence_claude_names() -> None:
    out, _ = run_stream(frames(*TEXT, STOP, ("messageStop", {"stopReason": "stop_sequence", "additionalModelResponseFields": {"stop_sequence": "END"}}), METADATA))
    assert anthropic_events(out)[-2][1]["delta"] == {"stop_reason": "stop_sequence", "stop_sequence": "END"}


@pytest.mark.parametrize(("stop", "expected"), [("guardrail_intervened", "refusal"), ("content_filtered", "refusal"), ("max_tokens", "max_tokens"), ("model_context_window_exceeded", "model_context_window_exceeded")])
def test_stream_stop_reasons(stop: str, expected: str) -> None:
    out, _ = run_stream(frames(*TEXT, STOP, ("messageStop", {"stopReason": stop}), METADATA))
    assert anthropic_events(out)[-2][1]["delta"] == {"stop_reason": expected, "stop_sequence": None}


def test_stream_usage_counts_cache_reads_and_writes_apart() -> None:
    usage = {"inputTokens": 10, "outputTokens": 3, "totalTokens": 1313, "cacheReadInputTokens": 1000, "cacheWriteInputTokens": 300}
    out, got = run_stream(frames(*TEXT, STOP, END, ("metadata", {"usage": usage, "metrics": {"latencyMs": 1}})))
    assert anthropic_events(out)[-2][1]["usage"] == {"input_tokens": 10, "cache_creation_input_tokens": 300, "cache_read_input_tokens": 1000, "output_tokens": 3}
    assert got == Usage(input_tokens=1310, output_tokens=3, cached_input_tokens=1000, cache_creation_input_tokens=300)


def test_stream_redacted_reasoning_is_one_whole_block() -> None:
    first, second = base64.b64encode(b"se").decode(), base64.b64encode(b"cret").decode()
    out, _ = run_stream(
        frames(
            ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"reasoningContent": {"redactedContent": first}}}),
            ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"reasoningContent": {"redactedContent": second}}}),
            ("contentBlockStop", {"contentBlockIndex": 0}),
            ("contentBlockDelta", {"contentBlockIndex": 1, "delta": {"text": "Hi"}}),
            END,
            METADATA,
        )
    )
    events = anthropic_events(out)
    assert_anthropic_well_formed(events)
    assert [(name, data.get("content_block")) for name, data in events[1:3]] == [
        ("content_block_start", {"type": "redacted_thinking", "data": base64.b64encode(b"secret").decode()}),
        ("content_block_stop", None),
    ]
    for _, data in events:
        ADAPTER.validate_python(data)


@pytest.mark.parametrize("index", [None, [0], {"i": 0}, "0", 1.5])
def test_stream_block_index_that_is_no_integer(index: Any) -> None:
    out, _ = run_stream(
        frames(
            ("contentBlockStart", {"contentBlockIndex": index, "start": {"toolUse": {"toolUseId": "t", "name": "f"}}}),
            ("contentBlockDelta", {"contentBlockIndex": index, "delta": {"toolUse": {"input": "{}"}}}),
            ("contentBlockStop", {"contentBlockIndex": index}),
            ("contentBlockDelta", {"contentBlockIndex": index, "delta": {"text": "Hi"}}),
            END,
            METADATA,
        )
    )
    events = anthropic_events(out)
    assert_anthropic_well_formed(events)
    assert [data["content_block"]["type"] for name, data in events if name == "content_block_start"] == ["tool_use", "text"]


def test_stream_blocks_without_stops_and_a_tool_without_a_start_still_alternate() -> None:
    out, _ = run_stream(
        frames(
            ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": "Think."}}}),
            ("contentBlockDelta", {"contentBlockIndex": 1, "delta": {"text": "Say."}}),
            ("contentBlockDelta", {"contentBlockIndex": 2, "delta": {"toolUse": {"input": "{}"}}}),
            ("contentBlockDelta", {"contentBlockIndex": 3, "delta": {"reasoningContent": {"signature": "c2ln"}}}),
            ("messageStop", {"stopReason": "end_turn"}),
        )
    )
    events = anthropic_events(out)
    assert_anthropic_well_formed(events)
    starts = [data["content_block"] for name, data in events if name == "content_block_start"]
    assert [block["type"] for block in starts] == ["thinking", "text", "tool_use", "thinking"]
    assert TOOL_ID.fullmatch(starts[2]["id"]) and starts[2]["name"] == ""
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"


@pytest.mark.parametrize(
    ("exception", "payload", "error_type", "message"),
    [
        ("throttlingException", {"message": "Too many requests"}, "rate_limit_error", "Too many requests"),
        ("validationException", {"message": "Bad input"}, "invalid_request_error", "Bad input"),
        ("internalServerException", {"Message": "Oops"}, "api_error", "Oops"),
        ("serviceUnavailableException", {"message": "Busy"}, "overloaded_error", "Busy"),
        ("modelStreamErrorException", {"message": "Stream broke", "originalStatusCode": 500}, "api_error", "Stream broke"),
        ("aFutureException", b"", "api_error", "Bedrock reported aFutureException"),
    ],
)
def test_stream_exception_from_the_provider_ends_the_client_stream(exception: str, payload: Any, error_type: str, message: str) -> None:
    stream = TRANSLATOR.stream({"model": CLIENT_MODEL})
    out = stream.feed(frames(*TEXT, (exception, payload)))
    events = anthropic_events(out)
    assert [name for name, _ in events] == ["message_start", "content_block_start", "content_block_delta", "content_block_delta", "error"]
    assert events[-1][1] == {"type": "error", "error": {"type": error_type, "message": message}}
    at.ErrorResponse.model_validate(events[-1][1])  # what the SDK raises APIStatusError from
    assert stream.feed(frames(STOP, END, METADATA)) == b""
    assert stream.finish() == b""


def test_stream_exception_before_anything_is_the_only_event() -> None:
    out, _ = run_stream(frames(("throttlingException", {"message": "slow down"})))
    assert [name for name, _ in anthropic_events(out)] == ["error"]


@pytest.mark.parametrize("payload", [b"{not json", b"[1, 2]", b"\xff\xfe"])
def test_stream_event_that_is_not_a_json_object_is_an_error(payload: bytes) -> None:
    out, _ = run_stream(frames(*TEXT), frames(("contentBlockDelta", payload)))
    name, data = anthropic_events(out)[-1]
    assert (name, data["error"]["type"]) == ("error", "api_error")


def test_stream_corrupt_frame_is_an_error() -> None:
    broken = bytearray(WHOLE)
    broken[40] ^= 0xFF  # inside the first frame: its checksum no longer matches
    out, _ = run_stream(bytes(broken))
    assert [name for name, _ in anthropic_events(out)] == ["error"]


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def test_golden_error() -> None:
    assert orjson.loads(TRANSLATOR.error(429, fixture("error_429.bedrock.json"))) == fixture_json("error_429.anthropic.json")


@pytest.mark.parametrize(
    ("status", "error_type"),
    [(400, "invalid_request_error"), (403, "permission_error"), (404, "not_found_error"), (408, "timeout_error"), (424, "api_error"), (429, "rate_limit_error"), (500, "api_error"), (503, "overloaded_error")],
)
def test_error_type_follows_the_status(status: int, error_type: str) -> None:
    out = orjson.loads(TRANSLATOR.error(status, b'{"message": "m"}'))
    assert out == {"type": "error", "error": {"type": error_type, "message": "m"}}
    at.ErrorResponse.model_validate(out)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"Message": "User is not authorized"}', "User is not authorized"),  # some AWS front ends
        (b"<html>Bad Gateway</html>", "<html>Bad Gateway</html>"),
        (b"", "the provider answered HTTP 502 without a message"),
    ],
)
def test_error_message_from_any_provider_body(body: bytes, message: str) -> None:
    assert orjson.loads(TRANSLATOR.error(502, body))["error"]["message"] == message


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------

cache_controls = st.none() | st.fixed_dictionaries({"type": mostly(st.just("ephemeral"))}, optional={"ttl": st.sampled_from(["5m", "1h", "2h"])})
block_types = st.sampled_from(["text", "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking", "x"])
text_blocks = st.fixed_dictionaries({"type": st.sampled_from(["text", "text", "image", "document"]), "text": mostly(texts)}, optional={"cache_control": cache_controls})
blocks = st.fixed_dictionaries(
    {"type": block_types},
    optional={
        "text": mostly(texts),
        "source": st.fixed_dictionaries(
            {"type": st.sampled_from(["base64", "text", "url", "file"])},
            optional={"media_type": mostly(st.sampled_from(["image/png", "image/gif", "application/pdf", "text/plain", "x"])), "data": mostly(texts), "url": mostly(texts)},
        ),
        "title": mostly(texts),
        "citations": mostly(st.fixed_dictionaries({"enabled": st.booleans()})),
        "id": mostly(texts),
        "name": mostly(texts),
        "input": mostly(st.dictionaries(texts, json_values, max_size=3)),
        "tool_use_id": mostly(texts),
        "content": mostly(texts | st.lists(text_blocks, max_size=3)),
        "is_error": mostly(st.booleans()),
        "thinking": mostly(texts),
        "signature": mostly(texts),
        "data": mostly(texts),
        "cache_control": cache_controls,
    },
)
request_shaped = request_bodies(
    blocks,
    text_blocks,
    tool_fields={"cache_control": cache_controls, "defer_loading": mostly(st.booleans())},
    max_tokens=mostly(st.integers(0, 4096)),
    top_k=mostly(st.integers(0, 100)),
    output_config=mostly(st.fixed_dictionaries({}, optional={"effort": mostly(texts), "format": mostly(st.fixed_dictionaries({"type": st.just("json_schema"), "schema": mostly(st.dictionaries(texts, json_values, max_size=2))}))})),
    cache_control=cache_controls,
    speed=mostly(st.sampled_from(["standard", "fast"])),
)


@settings(max_examples=300, deadline=None)
@given(any_json_object() | request_shaped, st.sampled_from([UPSTREAM, "meta.llama3-3-70b-instruct-v1:0"]))
def test_request_on_any_json_object_raises_nothing_but_unsupported_feature(body: dict[str, Any], upstream: str) -> None:
    assert_translated_or_refused(TRANSLATOR, body, upstream)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["text_stream", "tool_stream", "error_stream"]), st.data())
def test_a_stream_split_anywhere_translates_as_it_does_whole(name: str, data: st.DataObject) -> None:
    stream = bedrock_stream(name)
    whole, usage = run_stream(stream)
    split, split_usage = run_stream(*cut_anywhere(stream, data))
    assert masked_events(split) == masked_events(whole) and split_usage == usage


@pytest.mark.parametrize("name", ["text_stream", "tool_stream"])
def test_a_stream_fed_byte_by_byte_translates_as_it_does_whole(name: str) -> None:
    stream = bedrock_stream(name)
    whole, _ = run_stream(stream)
    split, _ = run_stream(*(stream[i : i + 1] for i in range(len(stream))))
    assert masked_events(split) == masked_events(whole)


golden_frames = [frames(tuple(pair)) for name in ("text_stream", "tool_stream") for pair in fixture_json(f"{name}.bedrock.json")]
event_names = st.sampled_from(["messageStart", "contentBlockStart", "contentBlockDelta", "contentBlockStop", "messageStop", "metadata", "throttlingException", "x"])
stream_pieces = (
    st.sampled_from(golden_frames)
    | st.binary(max_size=40)
    | st.tuples(event_names, json_values).map(lambda pair: frames(pair))
    | st.tuples(event_names, st.fixed_dictionaries({"contentBlockIndex": st.integers(0, 3) | json_values}, optional={"delta": json_values, "start": json_values, "stopReason": json_values, "usage": json_values})).map(lambda pair: frames(pair))
)


def test_input_for_a_tool_call_already_finished_ends_the_stream_with_an_error() -> None:
    # Converse finishes each block before the next; a stream that goes back cannot be told in Anthropic's grammar.
    out, _ = run_stream(frames(
        ("messageStart", {"role": "assistant"}),
        ("contentBlockStart", {"contentBlockIndex": 2, "start": {"toolUse": {"toolUseId": "t1", "name": "f"}}}),
        ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Hi"}}),
        ("contentBlockDelta", {"contentBlockIndex": 2, "delta": {"toolUse": {"input": "{}"}}}),
    ))
    events = ended_once(out)
    assert events[-1][0] == "error" and "went back to a tool call" in events[-1][1]["error"]["message"]
    assert [name for name, _ in events].count("content_block_start") == 2


@settings(max_examples=300, deadline=None)
@given(st.lists(stream_pieces, max_size=12))
def test_any_bytes_fed_to_the_stream_translator_end_one_way_or_the_other(pieces: list[bytes]) -> None:
    out, _ = run_stream(*pieces)
    events = ended_once(out)
    if events[-1][0] == "message_stop":
        assert_anthropic_well_formed(events)
    for name, data in events:
        at.ErrorResponse.model_validate(data) if name == "error" else ADAPTER.validate_python(data)
