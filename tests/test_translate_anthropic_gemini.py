"""Anthropic Messages clients served by a Gemini generateContent provider: the translation, as a specification.

Golden exchanges live in tests/fixtures/anthropic_gemini (their README names the API reference
page each comes from); the tables below pin one feature per row.
"""

from __future__ import annotations

import re
from typing import Any

import anthropic.types as at
import orjson
import pytest
from anthropic_client_requests import (
    CLIENT_MODEL,
    any_json_object,
    assert_the_sdk_takes,
    assert_translated_or_refused,
    base_request,
    cut_anywhere,
    ended_once,
    fixture_readers,
    mostly,
    msg,
    request_bodies,
    sse_pieces,
    stream_runner,
)
from client_streams import anthropic_events, assembled_blocks, assert_anthropic_well_formed
from hypothesis import given, settings
from hypothesis import strategies as st

from aiplane.translate import Translator, UnsupportedFeature, Usage
from aiplane.translate.anthropic_gemini import AnthropicToGemini
from aiplane.translate.gemini_provider_wire import MAX_THINKING_BUDGET, SKIP_THOUGHT_SIGNATURE

UPSTREAM = "gemini-2.5-flash"
CLIENT_REQUEST = {"model": CLIENT_MODEL}  # what a non-streamed answer is to
TRANSLATOR: Translator = AnthropicToGemini()
TOOLU = re.compile(r"toolu_[0-9a-f]{32}")
fixture, fixture_json = fixture_readers("anthropic_gemini")
run_stream = stream_runner(TRANSLATOR)


def gemini_stream(*events: dict[str, Any]) -> bytes:
    return b"".join(b"data: " + orjson.dumps({"responseId": "r1", **e}) + b"\r\n\r\n" for e in events)


def cand(*parts: dict[str, Any], finish: str | None = None, usage: dict[str, Any] | None = None) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": list(parts)}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    event: dict[str, Any] = {"candidates": [candidate]}
    if usage is not None:
        event["usageMetadata"] = usage
    return event


def translated(**fields: Any) -> dict[str, Any]:
    return TRANSLATOR.request(base_request(**fields), UPSTREAM)


def test_the_pair() -> None:
    assert (TRANSLATOR.client, TRANSLATOR.provider) == ("anthropic", "gemini")


# ---------------------------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["text_request", "tool_request"])
def test_golden_requests(name: str) -> None:
    assert TRANSLATOR.request(fixture_json(f"{name}.anthropic.json"), UPSTREAM) == fixture_json(f"{name}.gemini.json")


def test_the_request_is_not_modified() -> None:
    body = fixture_json("tool_request.anthropic.json")
    TRANSLATOR.request(body, UPSTREAM)
    assert body == fixture_json("tool_request.anthropic.json")


TOOL = {"name": "get_weather", "input_schema": {"type": "object"}}
CALL = {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}


def turns(*messages: Any) -> dict[str, Any]:
    return {"messages": list(messages)}


@pytest.mark.parametrize(
    ("fields", "key", "expected"),
    [
        ({"system": [{"type": "text", "text": "A"}, {"type": "text", "text": "B", "cache_control": {"type": "ephemeral"}}]}, "systemInstruction", {"parts": [{"text": "A\n\nB"}]}),
        ({"system": ""}, "systemInstruction", None),
        ({"temperature": 0.2, "top_p": 0.5, "top_k": 40}, "generationConfig", {"maxOutputTokens": 256, "temperature": 0.2, "topP": 0.5, "topK": 40}),
        ({"stop_sequences": ["END", "STOP"]}, "generationConfig", {"maxOutputTokens": 256, "stopSequences": ["END", "STOP"]}),
        ({"stop_sequences": []}, "generationConfig", {"maxOutputTokens": 256}),
        ({"thinking": {"type": "enabled", "budget_tokens": 4096}}, "generationConfig", {"maxOutputTokens": 256, "thinkingConfig": {"thinkingBudget": 4096, "includeThoughts": True}}),
        ({"thinking": {"type": "enabled", "budget_tokens": 60000}}, "generationConfig", {"maxOutputTokens": 256, "thinkingConfig": {"thinkingBudget": MAX_THINKING_BUDGET, "includeThoughts": True}}),
        ({"thinking": {"type": "adaptive"}}, "generationConfig", {"maxOutputTokens": 256, "thinkingConfig": {"thinkingBudget": -1, "includeThoughts": True}}),
        ({"thinking": {"type": "disabled"}}, "generationConfig", {"maxOutputTokens": 256}),
        ({"stream": True, "metadata": {"user_id": "u1"}, "service_tier": "auto"}, "generationConfig", {"maxOutputTokens": 256}),
        ({"tools": [TOOL], "tool_choice": {"type": "any"}}, "toolConfig", {"functionCallingConfig": {"mode": "ANY"}}),
        ({"tools": [TOOL], "tool_choice": {"type": "none"}}, "toolConfig", {"functionCallingConfig": {"mode": "NONE"}}),
        ({"tools": [TOOL], "tool_choice": {"type": "tool", "name": "get_weather", "disable_parallel_tool_use": True}}, "toolConfig", {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}}),
        ({"tools": [], "tool_choice": {"type": "any"}}, "toolConfig", None),
        ({"tools": [{**TOOL, "type": "custom", "description": "d", "strict": True, "cache_control": {"type": "ephemeral"}}]}, "tools", [{"functionDeclarations": [{"name": "get_weather", "description": "d", "parametersJsonSchema": {"type": "object"}}]}]),
        (turns({"role": "user", "content": [{"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBO"}}, {"type": "text", "text": "What is this?"}]}), "contents", [{"role": "user", "parts": [{"inlineData": {"mimeType": "image/png", "data": "iVBO"}}, {"text": "What is this?"}]}]),
        (turns({"role": "user", "content": [{"type": "image", "source": {"type": "url", "url": "https://x.test/a.JPG?s=1"}}]}), "contents", [{"role": "user", "parts": [{"fileData": {"fileUri": "https://x.test/a.JPG?s=1", "mimeType": "image/jpeg"}}]}]),
        # multi-turn text; consecutive user turns merge; empty texts and thinking blocks are dropped
        (
            turns(
                {"role": "user", "content": "Hi"},
                {"role": "user", "content": [{"type": "text", "text": ""}, {"type": "text", "text": "there"}]},
                {"role": "assistant", "content": [{"type": "thinking", "thinking": "t", "signature": "s"}, {"type": "text", "text": "Hello"}]},
                {"role": "user", "content": "Bye"},
            ),
            "contents",
            [{"role": "user", "parts": [{"text": "Hi"}, {"text": "there"}]}, {"role": "model", "parts": [{"text": "Hello"}]}, {"role": "user", "parts": [{"text": "Bye"}]}],
        ),
        # tool results are matched to calls by name, errors go under `error`, the first call is signed
        (
            turns(
                {"role": "user", "content": "Weather?"},
                {"role": "assistant", "content": [CALL, {**CALL, "id": "toolu_2", "name": "get_time", "input": {}}]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_2", "content": [{"type": "text", "text": "noon"}]},
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": "boom", "is_error": True},
                    {"type": "text", "text": "thanks"},
                ]},
            ),
            "contents",
            [
                {"role": "user", "parts": [{"text": "Weather?"}]},
                {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": SKIP_THOUGHT_SIGNATURE}, {"functionCall": {"name": "get_time", "args": {}}}]},
                {"role": "user", "parts": [{"functionResponse": {"name": "get_time", "response": {"output": "noon"}}}, {"functionResponse": {"name": "get_weather", "response": {"error": "boom"}}}, {"text": "thanks"}]},
            ],
        ),
    ],
)
def test_request_features(fields: dict[str, Any], key: str, expected: Any) -> None:
    out = translated(**fields)
    assert out.get(key) == expected
    assert "model" not in out and "stream" not in out


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"container": "c"}, "container"),
        ({"mcp_servers": []}, "mcp_servers"),
        ({"output_config": {}}, "output_config"),
        ({"tools": [{"type": "web_search_20250305", "name": "web_search"}]}, "tools[0].type"),
        ({"tools": [TOOL], "tool_choice": {"type": "x"}}, "tool_choice.type"),
        ({"tools": [TOOL], "tool_choice": {"type": ["auto"]}}, "tool_choice.type"),  # any JSON value, a list too
        ({"thinking": {"type": "enabled"}}, "thinking.budget_tokens"),
        ({"thinking": {"type": "x"}}, "thinking.type"),
        ({"max_tokens": "9"}, "max_tokens"),
        (msg([{"type": "document", "source": {}}]), "messages[0].content[0].type"),
        (msg([{"type": "image", "source": {"type": "file", "file_id": "f"}}]), "messages[0].content[0].source.type"),
        (msg([{"type": "image", "source": {"type": "url", "url": "ftp://x"}}]), "messages[0].content[0].source.url"),
        (msg([{"type": "tool_result", "tool_use_id": "nope", "content": "x"}]), "messages[0].content[0].tool_use_id"),
        (msg([{"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "image", "source": {}}]}]), "messages[0].content[0].tool_use_id"),
        (msg([{"type": "server_tool_use"}], role="assistant"), "messages[0].content[0].type"),
        (msg("x", role="system"), "messages[0].role"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "user", "content": ""}]}, "messages"),
    ],
)
def test_requests_the_provider_cannot_serve_name_the_field(fields: dict[str, Any], param: str) -> None:
    with pytest.raises(UnsupportedFeature) as e:
        translated(**fields)
    assert e.value.param == param


def test_a_null_field_asks_for_nothing() -> None:
    # The SDK sends null for an optional parameter given as None.
    assert translated(container=None, context_management=None, temperature=None, system=None) == translated()


def test_a_tool_whose_type_is_null_is_a_custom_tool() -> None:
    assert translated(tools=[{**TOOL, "type": None}]) == translated(tools=[TOOL])


def test_an_image_in_a_tool_result_is_refused() -> None:
    body = turns({"role": "user", "content": "q"}, {"role": "assistant", "content": [CALL]}, {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "image", "source": {}}]}]})
    with pytest.raises(UnsupportedFeature) as e:
        translated(**body)
    assert e.value.param == "messages[2].content[0].content[0].type"


# ---------------------------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------------------------


def masked(message: dict[str, Any]) -> dict[str, Any]:
    """The message with the tool_use ids the translator made (Gemini gives none) made comparable."""
    for block in message["content"]:
        if block["type"] == "tool_use":
            assert TOOLU.fullmatch(block["id"])
            block["id"] = "toolu_*"
    return message


@pytest.mark.parametrize(
    ("name", "usage"),
    [
        ("text_response", Usage(input_tokens=2048, output_tokens=64, cached_input_tokens=1024, reasoning_tokens=55)),
        ("tool_response", Usage(input_tokens=97, output_tokens=164, reasoning_tokens=128)),
    ],
)
def test_golden_responses(name: str, usage: Usage) -> None:
    out, got = TRANSLATOR.response(fixture_json(f"{name}.gemini.json"), CLIENT_REQUEST)
    assert masked(out) == masked(fixture_json(f"{name}.anthropic.json"))
    assert got == usage
    at.Message.model_validate(out)  # the real SDK's type takes it


def test_response_tool_use_ids_are_unique() -> None:
    out, _ = TRANSLATOR.response(fixture_json("tool_response.gemini.json"), CLIENT_REQUEST)
    ids = [b["id"] for b in out["content"] if b["type"] == "tool_use"]
    assert len(set(ids)) == len(ids) == 2


@pytest.mark.parametrize(
    ("finish", "parts", "stop_reason"),
    [
        ("STOP", [{"text": "hi"}], "end_turn"),
        ("STOP", [{"functionCall": {"name": "f", "args": {}}}], "tool_use"),
        ("MAX_TOKENS", [{"text": "hi"}], "max_tokens"),
        ("SAFETY", [], "refusal"),
        ("RECITATION", [{"text": "hi"}], "refusal"),
        ("PROHIBITED_CONTENT", [], "refusal"),
        ("MALFORMED_FUNCTION_CALL", [], "end_turn"),
        (None, [{"text": "hi"}], "end_turn"),
    ],
)
def test_response_stop_reasons(finish: str | None, parts: list[dict[str, Any]], stop_reason: str) -> None:
    out, _ = TRANSLATOR.response(cand(*parts, finish=finish), CLIENT_REQUEST)
    assert (out["stop_reason"], out["stop_sequence"]) == (stop_reason, None)
    at.Message.model_validate(out)


def test_response_to_a_blocked_prompt_is_a_refusal_with_its_usage() -> None:
    out, usage = TRANSLATOR.response({"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 7}}, CLIENT_REQUEST)
    assert (out["content"], out["stop_reason"], out["usage"]["input_tokens"]) == ([], "refusal", 7)
    assert usage == Usage(input_tokens=7)


def test_response_text_parts_join_and_function_calls_keep_order() -> None:
    out, _ = TRANSLATOR.response(cand({"text": "a", "thought": True}, {"text": "b", "thought": True}, {"text": "c"}, {"text": "d"}, {"functionCall": {"name": "f", "args": "bad"}}, {"text": "e"}, finish="STOP"), CLIENT_REQUEST)
    assert [(b["type"], b.get("text") or b.get("thinking") or b.get("input")) for b in out["content"]] == [("thinking", "ab"), ("text", "cd"), ("tool_use", {}), ("text", "e")]
    assert out["stop_reason"] == "tool_use"


@pytest.mark.parametrize("body", [{}, {"candidates": None, "usageMetadata": "x"}, {"candidates": [1]}, {"candidates": [{"content": {"parts": [None, 3, {"inlineData": {}}]}}]}])
def test_response_to_anything_is_a_message(body: dict[str, Any]) -> None:
    out, usage = TRANSLATOR.response(body, CLIENT_REQUEST)
    at.Message.model_validate(out)
    assert usage == Usage() and out["id"].startswith("msg_")


# ---------------------------------------------------------------------------------------------
# Streams
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "usage"),
    [
        ("text_stream", Usage(input_tokens=8, output_tokens=35, reasoning_tokens=23)),
        ("tool_stream", Usage(input_tokens=97, output_tokens=164, reasoning_tokens=128)),
        ("error_stream", Usage(input_tokens=8)),
    ],
)
def test_golden_streams(name: str, usage: Usage) -> None:
    out, got = run_stream(fixture(f"{name}.gemini.sse"))
    assert out == fixture(f"{name}.anthropic.sse")
    assert got == usage


@pytest.mark.parametrize("name", ["text_stream", "tool_stream"])
def test_stream_events_are_well_formed_and_the_sdk_types_take_them(name: str) -> None:
    out, _ = run_stream(fixture(f"{name}.gemini.sse"))
    assert_the_sdk_takes(out)


def test_stream_tool_round_trip() -> None:
    """Calls streamed to the client, sent back with results, reach Gemini as calls and responses by name."""
    out, _ = run_stream(fixture("tool_stream.gemini.sse"))
    events = anthropic_events(out)
    blocks = assembled_blocks(events)
    assert [b["type"] for b in blocks] == ["thinking", "tool_use", "tool_use"]
    assert [b["input"] for b in blocks[1:]] == [{"location": "Paris, France"}, {"location": "Bogotá, Colombia"}]
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"
    calls = [b for b in blocks if b["type"] == "tool_use"]
    results = [{"type": "tool_result", "tool_use_id": b["id"], "content": f"sunny in {b['input']['location']}"} for b in calls]
    body = turns({"role": "user", "content": "Weather in Paris and Bogotá?"}, {"role": "assistant", "content": blocks}, {"role": "user", "content": results})
    contents = translated(**body, tools=[TOOL])["contents"]
    assert [p["functionCall"]["name"] for p in contents[1]["parts"]] == ["get_weather", "get_weather"]
    assert contents[2]["parts"] == [{"functionResponse": {"name": "get_weather", "response": {"output": r["content"]}}} for r in results]


def test_stream_input_is_one_whole_partial_json() -> None:
    out, _ = run_stream(gemini_stream(cand({"functionCall": {"name": "f", "args": {"a": [1, {"b": "ü"}]}}}, finish="STOP")))
    deltas = [d for n, d in anthropic_events(out) if n == "content_block_delta"]
    assert [d["delta"] for d in deltas] == [{"type": "input_json_delta", "partial_json": '{"a":[1,{"b":"ü"}]}'}]


@pytest.mark.parametrize(
    ("stream", "stop_reason", "text"),
    [
        (gemini_stream(cand({"text": "a"}), cand({"text": "b"}, finish="STOP")), "end_turn", "ab"),
        (gemini_stream(cand({"text": "a"}, finish="MAX_TOKENS")), "max_tokens", "a"),
        (gemini_stream(cand({"text": "a"}), cand(finish="SAFETY")), "refusal", "a"),
        (gemini_stream({"promptFeedback": {"blockReason": "OTHER"}}), "refusal", None),
        (gemini_stream(cand({"text": "a"})), "end_turn", "a"),  # cut off without a finish reason
        (gemini_stream(cand({"text": "a"}))[:-9], "end_turn", None),  # cut inside an event
        (b"", "end_turn", None),  # no event at all
        (gemini_stream(cand({"text": "a"}, finish="STOP"), cand({"text": "late"}, finish="STOP")), "end_turn", "a"),
    ],
)
def test_stream_has_exactly_one_message_start_and_stop(stream: bytes, stop_reason: str, text: str | None) -> None:
    out, _ = run_stream(stream)
    events = anthropic_events(out)
    assert_anthropic_well_formed(events)
    assert events[-2][1]["delta"]["stop_reason"] == stop_reason
    blocks = assembled_blocks(events)
    assert (blocks[0]["text"] if blocks else None) == text


def test_stream_thinking_text_call_text_are_four_blocks_in_order() -> None:
    out, _ = run_stream(gemini_stream(cand({"text": "t", "thought": True}, {"text": "a"}), cand({"functionCall": {"name": "f"}}, {"text": "b"}, finish="STOP")))
    events = anthropic_events(out)
    assert_anthropic_well_formed(events)
    assert [b["type"] for b in assembled_blocks(events)] == ["thinking", "text", "tool_use", "text"]
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"


def test_stream_usage_is_the_latest_and_counts_cache_reads_apart() -> None:
    usage = {"promptTokenCount": 100, "cachedContentTokenCount": 60, "candidatesTokenCount": 5, "thoughtsTokenCount": 3}
    out, got = run_stream(gemini_stream(cand({"text": "a"}, usage={"promptTokenCount": 100}), cand(finish="STOP", usage=usage)))
    events = anthropic_events(out)
    assert events[0][1]["message"]["usage"]["input_tokens"] == 100
    assert events[-2][1]["usage"] == {"input_tokens": 40, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 60, "output_tokens": 8}
    assert got == Usage(input_tokens=100, output_tokens=8, cached_input_tokens=60, reasoning_tokens=3)


@pytest.mark.parametrize(
    ("error", "error_type", "message"),
    [
        ({"code": 429, "message": "slow down", "status": "RESOURCE_EXHAUSTED"}, "rate_limit_error", "slow down"),
        ({"message": "gone", "status": "UNAVAILABLE"}, "overloaded_error", "gone"),
        ({"code": 400, "message": "bad"}, "invalid_request_error", "bad"),
        ("plain", "api_error", "plain"),
        ({}, "api_error", "the provider's stream reported an error"),
    ],
)
def test_stream_error_from_the_provider_ends_the_client_stream(error: Any, error_type: str, message: str) -> None:
    out, _ = run_stream(gemini_stream(cand({"text": "a"}), {"error": error}, cand({"text": "b"}, finish="STOP")))
    events = anthropic_events(out)
    assert [n for n, _ in events] == ["message_start", "content_block_start", "content_block_delta", "error"]
    assert events[-1][1]["error"] == {"type": error_type, "message": message}
    at.ErrorResponse.model_validate(events[-1][1])  # what the SDK raises APIStatusError from


@pytest.mark.parametrize("event", [b"data: {not json\r\n\r\n", b"data: [1, 2]\n\n", b"data: \xff\xfe\n\n"])
def test_stream_event_that_is_not_a_json_object_is_an_error(event: bytes) -> None:
    out, _ = run_stream(event)
    assert [n for n, _ in anthropic_events(out)] == ["error"]


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def test_golden_error() -> None:
    assert orjson.loads(TRANSLATOR.error(429, fixture("error_429.gemini.json"))) == fixture_json("error_429.anthropic.json")


@pytest.mark.parametrize(
    ("status", "error_type"),
    [(400, "invalid_request_error"), (401, "authentication_error"), (403, "permission_error"), (404, "not_found_error"), (429, "rate_limit_error"), (500, "api_error"), (503, "overloaded_error"), (504, "timeout_error"), (418, "invalid_request_error"), (502, "api_error")],
)
def test_error_type_follows_the_status(status: int, error_type: str) -> None:
    body = orjson.dumps({"error": {"code": status, "message": "m", "status": "X"}})
    out = orjson.loads(TRANSLATOR.error(status, body))
    assert out == {"type": "error", "error": {"type": error_type, "message": "m"}}
    at.ErrorResponse.model_validate(out)


@pytest.mark.parametrize(("body", "message"), [(b"<html>Bad Gateway</html>", "<html>Bad Gateway</html>"), (b"", "the provider answered HTTP 502 without a message"), (b"[{\"error\": {\"message\": \"arr\"}}]", "arr")])
def test_error_message_from_any_provider_body(body: bytes, message: str) -> None:
    assert orjson.loads(TRANSLATOR.error(502, body))["error"]["message"] == message


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------

request_shaped = request_bodies(top_k=mostly(st.integers(0, 100)))


@settings(max_examples=200, deadline=None)
@given(any_json_object() | request_shaped)
def test_request_on_any_json_object_raises_nothing_but_unsupported_feature(body: dict[str, Any]) -> None:
    assert_translated_or_refused(TRANSLATOR, body, UPSTREAM)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["text_stream", "tool_stream", "error_stream"]), st.data())
def test_a_stream_split_anywhere_translates_as_it_does_whole(name: str, data: st.DataObject) -> None:
    stream = fixture(f"{name}.gemini.sse")
    assert run_stream(*cut_anywhere(stream, data)) == run_stream(stream)


stream_pieces = sse_pieces([fixture(f"{name}.gemini.sse") for name in ("text_stream", "tool_stream")])


@settings(max_examples=200, deadline=None)
@given(st.lists(stream_pieces, max_size=12))
def test_any_bytes_fed_to_the_stream_translator_end_one_way_or_the_other(pieces: list[bytes]) -> None:
    out, _ = run_stream(*pieces)
    events = ended_once(out)
    if events[-1][0] == "message_stop":
        assert_anthropic_well_formed(events)
