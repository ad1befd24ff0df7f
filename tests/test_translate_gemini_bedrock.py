"""Gemini generateContent clients served by AWS Bedrock's Converse API: the translation, as a specification.

Golden exchanges live in tests/fixtures/gemini_bedrock (its README names their sources). Bedrock
streams are event-stream frames; the fixtures hold them as `[event, payload]` pairs, encoded here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from gemini_client_requests import (
    CLIENT_MODEL,
    CLIENT_REQUEST,
    Gateway,
    ask_for_recipes,
    get_weather,
    sdk_client,
    split,
    translate_stream,
)
from gemini_client_requests import assert_well_formed as well_formed
from gemini_client_requests import gemini_events as events
from google.genai import types
from hypothesis import given, settings
from hypothesis import strategies as st

from aiplane.translate import UnsupportedFeature
from aiplane.translate.bedrock_wire import model_vendor, takes_claude_fields
from aiplane.translate.eventstream import encode
from aiplane.translate.gemini_bedrock import GeminiToBedrock

FIXTURES = Path(__file__).parent / "fixtures" / "gemini_bedrock"
UPSTREAM = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
LLAMA = "meta.llama3-1-70b-instruct-v1:0"
THOUGHTFUL = {"model": CLIENT_MODEL, "generationConfig": {"thinkingConfig": {"includeThoughts": True}}}
T = GeminiToBedrock()
STREAMS = ["text_stream", "tool_stream", "thinking_stream", "error_stream"]
_RESPONSE_ID = re.compile(rb'"responseId":"[0-9a-f]{32}"')


def fx(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def frames(*pairs: tuple[str, Any] | list[Any]) -> bytes:
    """Bedrock's event-stream bytes for `[event, payload]` pairs."""
    return b"".join(encode(event, orjson.dumps(payload)) for event, payload in pairs)


def bedrock_stream(name: str) -> bytes:
    return frames(*orjson.loads(fx(f"{name}.bedrock.json")))


def same_ids(raw: bytes) -> bytes:
    """A stream's random response id as the fixtures write it, once checked to be one id throughout."""
    assert len(set(_RESPONSE_ID.findall(raw))) <= 1
    return _RESPONSE_ID.sub(b'"responseId":"RESPONSE_ID"', raw)


def run(*chunks: bytes, request: dict[str, Any] | None = None) -> bytes:
    return same_ids(translate_stream(T, *chunks, request=request)[0])


def req(**extra: Any) -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "model": CLIENT_MODEL, "stream": False, **extra}


def refused(body: dict[str, Any], upstream: str = UPSTREAM) -> str:
    with pytest.raises(UnsupportedFeature) as e:
        T.request(body, upstream)
    return e.value.param


def converse(*content: dict[str, Any], stop: str = "end_turn", **extra: Any) -> dict[str, Any]:
    return {"output": {"message": {"role": "assistant", "content": list(content)}}, "stopReason": stop, **extra}


# --- goldens --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["text_request", "tool_request"])
def test_request_goldens(name: str) -> None:
    body = orjson.loads(fx(f"{name}.gemini.json"))
    assert T.request(body, UPSTREAM) == orjson.loads(fx(f"{name}.bedrock.json"))
    assert body == orjson.loads(fx(f"{name}.gemini.json"))  # the client's body is not modified


@pytest.mark.parametrize("name", ["text_response", "tool_response"])
def test_response_goldens(name: str) -> None:
    out, usage = T.response(orjson.loads(fx(f"{name}.bedrock.json")), CLIENT_REQUEST)
    assert re.fullmatch("[0-9a-f]{32}", out["responseId"])
    assert {**out, "responseId": "RESPONSE_ID"} == orjson.loads(fx(f"{name}.gemini.json"))
    assert usage.input_tokens == out["usageMetadata"]["promptTokenCount"]
    types.GenerateContentResponse.model_validate(out)


@pytest.mark.parametrize("name", STREAMS)
def test_stream_goldens_and_split_anywhere(name: str) -> None:
    request = THOUGHTFUL if name == "thinking_stream" else CLIENT_REQUEST
    raw = bedrock_stream(name)
    whole = run(raw, request=request)
    assert whole == fx(f"{name}.gemini.sse")
    if name != "error_stream":
        well_formed(events(whole))
    for cut in range(len(raw) + 1):  # every byte position: preludes, headers, checksums, UTF-8
        assert run(raw[:cut], raw[cut:], request=request) == whole


def test_stream_byte_by_byte() -> None:
    raw = bedrock_stream("tool_stream")
    assert run(*(raw[i : i + 1] for i in range(len(raw)))) == fx("tool_stream.gemini.sse")


def test_stream_usage_is_reported() -> None:
    stream = T.stream(CLIENT_REQUEST)
    stream.feed(bedrock_stream("tool_stream"))
    assert stream.usage is not None
    assert (stream.usage.input_tokens, stream.usage.output_tokens, stream.usage.cached_input_tokens) == (414, 72, 320)


def test_error_goldens() -> None:
    assert orjson.loads(T.error(429, fx("error_429.bedrock.json"))) == orjson.loads(fx("error_429.gemini.json"))


@pytest.mark.parametrize(
    "status, body, google, message",
    [
        (400, b'{"message":"Malformed input request, please reformat your input and try again."}', "INVALID_ARGUMENT", "Malformed input"),
        (403, b'{"Message":"User is not authorized"}', "PERMISSION_DENIED", "not authorized"),
        (404, b'{"message":"The provided model identifier is invalid."}', "NOT_FOUND", "model identifier"),
        (500, b"<html>oops</html>", "INTERNAL", "oops"),
        (503, b"", "UNAVAILABLE", "503"),
    ],
)
def test_errors_keep_the_status(status: int, body: bytes, google: str, message: str) -> None:
    error = orjson.loads(T.error(status, body))["error"]
    assert error["code"] == status and error["status"] == google and message in error["message"]


# --- request features -------------------------------------------------------------------------


def test_minimal_request_names_no_model_and_no_stream() -> None:
    # The model and the streaming go in the URL path (`/model/{id}/converse-stream`), which the decision server builds.
    assert T.request(req(stream=True), UPSTREAM) == {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}


def test_generation_config() -> None:
    cfg = {"temperature": 0.5, "top_p": 0.9, "topK": 40, "maxOutputTokens": 100, "stopSequences": ["X"], "candidateCount": 1, "responseMimeType": "text/plain"}
    out = T.request(req(generationConfig=cfg), UPSTREAM)
    assert out["inferenceConfig"] == {"temperature": 0.5, "topP": 0.9, "maxTokens": 100, "stopSequences": ["X"]}
    assert out["additionalModelRequestFields"] == {"top_k": 40}


@pytest.mark.parametrize(
    "cfg, param",
    [
        ({"candidateCount": 2}, "generationConfig.candidateCount"),
        ({"presencePenalty": 0.1}, "generationConfig.presencePenalty"),
        ({"frequencyPenalty": 0.1}, "generationConfig.frequencyPenalty"),
        ({"seed": 1}, "generationConfig.seed"),
        ({"responseLogprobs": True}, "generationConfig.responseLogprobs"),
        ({"temperature": 1.5}, "generationConfig.temperature"),
        ({"responseMimeType": "application/json"}, "generationConfig.responseMimeType"),
        ({"responseMimeType": "text/x.enum"}, "generationConfig.responseMimeType"),
        ({"responseSchema": {"type": "OBJECT"}}, "generationConfig.responseMimeType"),
        ({"responseMimeType": "application/json", "responseSchema": {"type": "OBJECT"}, "responseJsonSchema": {}}, "generationConfig.responseJsonSchema"),
        ({"responseModalities": ["TEXT", "IMAGE"]}, "generationConfig.responseModalities[1]"),
        ({"maxOutputTokens": 500, "thinkingConfig": {"thinkingBudget": 2048}}, "generationConfig.thinkingConfig"),
        ({"thinkingConfig": {"thinkingBudget": -2}}, "generationConfig.thinkingConfig.thinkingBudget"),
    ],
)
def test_refused_config(cfg: dict[str, Any], param: str) -> None:
    assert refused(req(generationConfig=cfg)) == param


def test_structured_output() -> None:
    schema = {"type": "OBJECT", "properties": {"name": {"type": "STRING"}}, "propertyOrdering": ["name"]}
    out = T.request(req(generationConfig={"response_mime_type": "application/json", "response_schema": schema}), UPSTREAM)
    assert out["outputConfig"] == {"textFormat": {"type": "json_schema", "structure": {"jsonSchema": {"schema": '{"type":"object","properties":{"name":{"type":"string"}}}'}}}}
    out = T.request(req(generationConfig={"responseMimeType": "application/json", "responseJsonSchema": {"type": "array"}}), UPSTREAM)
    assert out["outputConfig"]["textFormat"]["structure"]["jsonSchema"] == {"schema": '{"type":"array"}'}


def test_top_k_and_thinking_go_only_to_models_that_take_claudes_fields() -> None:
    assert refused(req(generationConfig={"topK": 5}), LLAMA) == "generationConfig.topK"
    assert refused(req(generationConfig={"thinkingConfig": {"thinkingBudget": 2048}}), LLAMA) == "generationConfig.thinkingConfig"
    # off, or only asking to see thoughts, is fine for any model
    assert "additionalModelRequestFields" not in T.request(req(generationConfig={"thinkingConfig": {"thinkingBudget": 0, "includeThoughts": True}}), LLAMA)
    # an id that names no vendor (an application inference profile) is taken to be Claude's
    profile = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3"
    assert T.request(req(generationConfig={"topK": 5}), profile)["additionalModelRequestFields"] == {"top_k": 5}


@pytest.mark.parametrize(
    "model, vendor",
    [
        ("anthropic.claude-3-5-sonnet-20240620-v1:0", "anthropic"),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic"),
        ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic"),
        ("arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-v2", "anthropic"),
        ("meta.llama3-1-70b-instruct-v1:0", "meta"),
        ("eu.amazon.nova-pro-v1:0", "amazon"),
        ("arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123", None),
        ("upstream-model", None),
    ],
)
def test_model_vendor(model: str, vendor: str | None) -> None:
    assert model_vendor(model) == vendor
    assert takes_claude_fields(model) == (vendor in (None, "anthropic"))


def test_thinking() -> None:
    out = T.request(req(generationConfig={"thinkingConfig": {"thinkingBudget": 2000}}), UPSTREAM)
    assert out["additionalModelRequestFields"] == {"thinking": {"type": "enabled", "budget_tokens": 2000}}
    assert out["inferenceConfig"] == {"maxTokens": 6096}
    out = T.request(req(generationConfig={"thinking_config": {"thinking_level": "high"}, "max_output_tokens": 20000, "topK": 3}), UPSTREAM)
    assert out["additionalModelRequestFields"] == {"top_k": 3, "thinking": {"type": "enabled", "budget_tokens": 16384}}
    assert out["inferenceConfig"]["maxTokens"] == 20000
    out = T.request(req(generationConfig={"thinkingConfig": {"thinkingBudget": -1}}), UPSTREAM)
    assert out["additionalModelRequestFields"]["thinking"]["budget_tokens"] == 8192
    out = T.request(req(generationConfig={"thinkingConfig": {"thinkingBudget": 100}}), UPSTREAM)
    assert out["additionalModelRequestFields"]["thinking"]["budget_tokens"] == 1024  # Claude's smallest
    assert "additionalModelRequestFields" not in T.request(req(generationConfig={"thinkingConfig": {"thinkingBudget": 0}}), UPSTREAM)


def test_system_blocks_and_blank_text() -> None:
    body = req(
        system_instruction={"parts": [{"text": "a"}, {"text": "  "}, {"text": "b"}]},
        contents=[{"role": "user", "parts": [{"text": ""}, {"text": "x"}, {"text": "\n"}]}, {"role": "user", "parts": [{"text": "  "}]}],
    )
    out = T.request(body, UPSTREAM)
    assert out["system"] == [{"text": "a"}, {"text": "b"}]
    assert out["messages"] == [{"role": "user", "content": [{"text": "x"}]}]
    assert refused(req(contents=[{"role": "user", "parts": [{"text": " "}]}])) == "contents"
    assert refused(req(systemInstruction={"parts": [{"inlineData": {"mimeType": "image/png", "data": "AA"}}]})) == "systemInstruction.parts[0].inlineData"


def test_roles_merge_and_alternate() -> None:
    body = req(
        contents=[
            {"parts": [{"text": "a"}]},
            {"role": "user", "parts": [{"text": "b"}]},
            {"role": "model", "parts": [{"text": "c"}, {"text": "hidden", "thought": True}]},
            {"role": "model", "parts": [{"text": "d", "thoughtSignature": "c2ln"}]},
            {"role": "user", "parts": [{"text": "e"}]},
        ]
    )
    assert T.request(body, UPSTREAM)["messages"] == [
        {"role": "user", "content": [{"text": "a"}, {"text": "b"}]},
        {"role": "assistant", "content": [{"text": "c"}, {"text": "d"}]},
        {"role": "user", "content": [{"text": "e"}]},
    ]
    assert refused(req(contents=[{"role": "system", "parts": [{"text": "a"}]}])) == "contents[0].role"


def test_images_and_documents() -> None:
    body = req(
        contents=[
            {
                "role": "user",
                "parts": [
                    {"inline_data": {"mime_type": "image/png", "data": "iVBO-_w"}},
                    {"inlineData": {"mimeType": "image/JPEG", "data": "/9j/"}},
                    {"inlineData": {"mimeType": "application/pdf", "data": "JVBERi0="}},
                    {"inlineData": {"mimeType": "text/csv; charset=utf-8", "data": "YSxi"}},
                    {"inlineData": {"mimeType": "application/pdf", "data": "JVBERi0=", "displayName": "Q3 report (final).pdf"}},
                    {"text": "Compare them"},
                ],
            }
        ],
    )
    assert T.request(body, UPSTREAM)["messages"][0]["content"] == [
        {"image": {"format": "png", "source": {"bytes": "iVBO+/w="}}},
        {"image": {"format": "jpeg", "source": {"bytes": "/9j/"}}},
        {"document": {"format": "pdf", "name": "document", "source": {"bytes": "JVBERi0="}}},
        {"document": {"format": "csv", "name": "document-2", "source": {"bytes": "YSxi"}}},
        {"document": {"format": "pdf", "name": "Q3 report (final)", "source": {"bytes": "JVBERi0="}}},
        {"text": "Compare them"},
    ]


@pytest.mark.parametrize(
    "part, param",
    [
        ({"inlineData": {"mimeType": "audio/wav", "data": "AA"}}, "contents[0].parts[0].inlineData.mimeType"),
        ({"fileData": {"mimeType": "image/jpeg", "fileUri": "https://x.test/a.jpg"}}, "contents[0].parts[0].fileData"),
        ({"fileData": {"mimeType": "application/pdf", "fileUri": "gs://bucket/a.pdf"}}, "contents[0].parts[0].fileData"),
        ({"executableCode": {"code": "x"}}, "contents[0].parts[0].executableCode"),
        ({"videoMetadata": {"fps": 1}}, "contents[0].parts[0].videoMetadata"),
        ({"text": "a", "unknownField": 1}, "contents[0].parts[0].unknownField"),
    ],
)
def test_refused_parts(part: dict[str, Any], param: str) -> None:
    assert refused(req(contents=[{"role": "user", "parts": [part]}])) == param


def test_media_in_a_model_turn_is_refused() -> None:
    turns = [{"role": "user", "parts": [{"text": "a"}]}, {"role": "model", "parts": [{"inlineData": {"mimeType": "image/png", "data": "AA"}}]}]
    assert refused(req(contents=turns)) == "contents[1].parts[0].inlineData"


WEATHER = {"name": "w", "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}}}
CLOCK = {"name": "clock", "description": ""}


def call(city: str, **extra: Any) -> dict[str, Any]:
    return {"functionCall": {"name": "w", "args": {"city": city}, **extra}}


def answer(city: str, **extra: Any) -> dict[str, Any]:
    return {"functionResponse": {"name": "w", "response": {"t": city}, **extra}}


def test_tool_round_trip_parallel_calls_by_name_and_order() -> None:
    body = req(
        contents=[
            {"role": "user", "parts": [{"text": "weather?"}]},
            {"role": "model", "parts": [{"text": "Checking."}, call("A"), call("B")]},
            {"role": "user", "parts": [{"text": "thanks"}, answer("A"), answer("B")]},
        ],
        tools=[{"functionDeclarations": [WEATHER, CLOCK]}],
        toolConfig={"functionCallingConfig": {"mode": "ANY"}},
        generationConfig={"thinkingConfig": {"thinkingBudget": 4000}},
    )
    out = T.request(body, UPSTREAM)
    assert out["messages"][1]["content"] == [
        {"text": "Checking."},
        {"toolUse": {"toolUseId": "tooluse_gemini_0", "name": "w", "input": {"city": "A"}}},
        {"toolUse": {"toolUseId": "tooluse_gemini_1", "name": "w", "input": {"city": "B"}}},
    ]
    # tool results first in their turn, each answering its call in order
    assert out["messages"][2]["content"] == [
        {"toolResult": {"toolUseId": "tooluse_gemini_0", "content": [{"json": {"t": "A"}}]}},
        {"toolResult": {"toolUseId": "tooluse_gemini_1", "content": [{"json": {"t": "B"}}]}},
        {"text": "thanks"},
    ]
    assert out["toolConfig"] == {
        "tools": [
            {"toolSpec": {"name": "w", "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}}}}}},
            {"toolSpec": {"name": "clock", "inputSchema": {"json": {"type": "object", "properties": {}}}}},
        ],
        "toolChoice": {"any": {}},
    }
    assert "additionalModelRequestFields" not in out  # a tool loop continues without thinking
    # the response's functionCall carries Bedrock's toolUseId, which the client sends back
    resp, _ = T.response(converse({"toolUse": {"toolUseId": "tooluse_9", "name": "w", "input": {"city": "C"}}}, stop="tool_use"), CLIENT_REQUEST)
    part = resp["candidates"][0]["content"]["parts"][0]
    again = req(contents=[{"role": "model", "parts": [part]}, {"role": "user", "parts": [{"functionResponse": {"id": "tooluse_9", "name": "w", "response": {}}}]}], tools=[{"functionDeclarations": [WEATHER]}])
    assert T.request(again, UPSTREAM)["messages"][1]["content"][0]["toolResult"] == {"toolUseId": "tooluse_9", "content": [{"json": {}}]}


def test_function_role_and_unanswerable_responses() -> None:
    turns = [{"role": "model", "parts": [call("A")]}, {"role": "function", "parts": [answer("A")]}]
    assert T.request(req(contents=turns, tools=[{"functionDeclarations": [WEATHER]}]), UPSTREAM)["messages"][1]["role"] == "user"
    assert refused(req(contents=[{"role": "user", "parts": [answer("A")]}])) == "contents[0].parts[0].functionResponse.name"
    assert refused(req(contents=[{"role": "user", "parts": [call("A")]}])) == "contents[0].parts[0].functionCall"
    multimodal = {"functionResponse": {"name": "w", "response": {}, "parts": [{"inlineData": {"mimeType": "image/png", "data": "AA"}}]}}
    assert refused(req(contents=[{"role": "model", "parts": [call("A")]}, {"role": "user", "parts": [multimodal]}])) == "contents[1].parts[0].functionResponse.parts"


@pytest.mark.parametrize(
    "calling, expected",
    [
        ({"mode": "AUTO"}, {"tools": ["w", "clock"]}),
        ({}, {"tools": ["w", "clock"]}),
        ({"mode": "any", "allowedFunctionNames": ["clock"]}, {"tools": ["w", "clock"], "toolChoice": {"tool": {"name": "clock"}}}),
        ({"mode": "ANY", "allowedFunctionNames": ["clock", "w"]}, {"tools": ["w", "clock"], "toolChoice": {"any": {}}}),
        ({"mode": "AUTO", "allowedFunctionNames": ["clock"]}, {"tools": ["clock"]}),
        ({"mode": "NONE"}, None),
    ],
)
def test_function_calling_modes(calling: dict[str, Any], expected: dict[str, Any] | None) -> None:
    out = T.request(req(tools=[{"functionDeclarations": [WEATHER, CLOCK]}], toolConfig={"functionCallingConfig": calling}), UPSTREAM)
    config = out.get("toolConfig")
    if expected is None:
        assert config is None
        return
    assert [tool["toolSpec"]["name"] for tool in config["tools"]] == expected["tools"]
    assert config.get("toolChoice") == expected.get("toolChoice")


def test_refused_tools() -> None:
    tools = [{"functionDeclarations": [WEATHER, CLOCK]}]
    assert refused(req(tools=[{"googleSearch": {}}])) == "tools[0].googleSearch"
    assert refused(req(tools=tools, toolConfig={"functionCallingConfig": {"mode": "VALIDATED"}})) == "toolConfig.functionCallingConfig.mode"
    assert refused(req(tools=tools, toolConfig={"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["nope"]}})) == "toolConfig.functionCallingConfig.allowedFunctionNames[0]"
    assert refused(req(tools=[{"functionDeclarations": [{"name": "f", "behavior": "NON_BLOCKING"}]}])) == "tools[0].functionDeclarations[0].behavior"
    # Converse wants tools declared once the conversation has calls, and has no choice forbidding them
    history = [{"role": "user", "parts": [{"text": "a"}]}, {"role": "model", "parts": [call("A")]}, {"role": "user", "parts": [answer("A")]}]
    assert refused(req(contents=history, tools=tools, toolConfig={"functionCallingConfig": {"mode": "NONE"}})) == "toolConfig.functionCallingConfig.mode"
    assert refused(req(contents=history)) == "tools"
    assert refused(req(contents=history, toolConfig={"functionCallingConfig": {"mode": "AUTO"}})) == "tools"


@pytest.mark.parametrize(
    "extra, param",
    [
        ({"cachedContent": "cachedContents/x"}, "cachedContent"),
        ({"store": True}, "store"),
        ({"contents": []}, "contents"),
        ({"unknown": 1}, "unknown"),
        ({"safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE", "extra": 1}]}, "safetySettings[0].extra"),
    ],
)
def test_refused_request_fields(extra: dict[str, Any], param: str) -> None:
    assert refused(req(**extra)) == param


def test_dropped_hints() -> None:
    body = req(
        safetySettings=[{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
        labels={"team": "a"},
        serviceTier="standard",
        store=False,
        generationConfig={"mediaResolution": "MEDIA_RESOLUTION_LOW"},
    )
    assert T.request(body, UPSTREAM) == {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}


# --- responses ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "stop, reason",
    [
        ("end_turn", "STOP"),
        ("stop_sequence", "STOP"),
        ("tool_use", "STOP"),
        ("max_tokens", "MAX_TOKENS"),
        ("model_context_window_exceeded", "MAX_TOKENS"),
        ("guardrail_intervened", "SAFETY"),
        ("content_filtered", "SAFETY"),
        ("malformed_tool_use", "MALFORMED_FUNCTION_CALL"),
        ("weird", "OTHER"),
    ],
)
def test_finish_reasons(stop: str, reason: str) -> None:
    out, _ = T.response(converse(stop=stop), CLIENT_REQUEST)
    assert out["candidates"][0]["finishReason"] == reason
    evs = events(run(frames(("messageStart", {"role": "assistant"}), ("messageStop", {"stopReason": stop}), ("metadata", {"usage": {}}))))
    assert well_formed(evs)["candidates"][0]["finishReason"] == reason


def test_response_usage_with_the_prompt_cache() -> None:
    usage = {"inputTokens": 10, "outputTokens": 5, "totalTokens": 115, "cacheReadInputTokens": 60, "cacheWriteInputTokens": 40}
    out, counted = T.response(converse({"text": "x"}, usage=usage), CLIENT_REQUEST)
    assert out["usageMetadata"] == {"promptTokenCount": 110, "candidatesTokenCount": 5, "totalTokenCount": 115, "cachedContentTokenCount": 60}
    assert (counted.cached_input_tokens, counted.cache_creation_input_tokens) == (60, 40)


THINKING_ANSWER = converse({"reasoningContent": {"reasoningText": {"text": "Hmm.", "signature": "s"}}}, {"text": "4"})


def test_thinking_reaches_only_a_client_that_asked_for_thoughts() -> None:
    asked, _ = T.response(THINKING_ANSWER, THOUGHTFUL)
    assert asked["candidates"][0]["content"]["parts"] == [{"text": "Hmm.", "thought": True}, {"text": "4"}]
    plain, _ = T.response(THINKING_ANSWER, CLIENT_REQUEST)
    assert plain["candidates"][0]["content"]["parts"] == [{"text": "4"}]
    assert plain["modelVersion"] == CLIENT_MODEL  # Converse names no model: the client's is reported


@pytest.mark.parametrize("body", [None, [], {}, {"output": None}, {"output": {"message": {"content": [None, {"toolUse": "x"}, {"image": {}}, {"text": None}]}}}])
def test_a_response_of_any_shape_still_has_a_candidate(body: Any) -> None:
    out, usage = T.response(body, {})
    assert out["candidates"][0]["content"]["parts"] == [{"text": ""}] and usage.input_tokens == 0
    types.GenerateContentResponse.model_validate(out)


# --- streams -----------------------------------------------------------------------------------

TOOL_EVENTS = [
    ("messageStart", {"role": "assistant"}),
    ("contentBlockStart", {"contentBlockIndex": 0, "start": {"toolUse": {"toolUseId": "tooluse_1", "name": "f"}}}),
    ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"toolUse": {"input": '{"a":'}}}),
    ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"toolUse": {"input": "1}"}}}),
    ("contentBlockStop", {"contentBlockIndex": 0}),
    ("messageStop", {"stopReason": "tool_use"}),
]


@pytest.mark.parametrize("keep", range(len(TOOL_EVENTS)))
def test_truncated_stream_still_ends(keep: int) -> None:
    out = well_formed(events(run(frames(*TOOL_EVENTS[:keep]))))
    assert out["candidates"][0]["finishReason"] == "OTHER"


def test_stream_cut_after_message_stop_keeps_its_reason() -> None:
    evs = events(run(frames(*TOOL_EVENTS)))
    assert well_formed(evs)["candidates"][0]["finishReason"] == "STOP"
    assert evs[0]["candidates"][0]["content"]["parts"] == [{"functionCall": {"id": "tooluse_1", "name": "f", "args": {"a": 1}}}]


def test_a_call_cut_off_mid_arguments_gets_empty_args() -> None:
    evs = events(run(frames(*TOOL_EVENTS[:3])))
    assert evs[-1]["candidates"][0]["content"]["parts"] == [{"functionCall": {"id": "tooluse_1", "name": "f", "args": {}}}]


def test_the_last_event_waits_for_metadata_which_may_come_first() -> None:
    stream = T.stream(CLIENT_REQUEST)
    assert stream.feed(frames(("messageStop", {"stopReason": "max_tokens"}))) == b""
    last = events(stream.feed(frames(("metadata", {"usage": {"inputTokens": 3, "outputTokens": 4}}))))
    assert last[-1]["candidates"][0]["finishReason"] == "MAX_TOKENS" and last[-1]["usageMetadata"]["totalTokenCount"] == 7
    stream = T.stream(CLIENT_REQUEST)
    assert stream.feed(frames(("metadata", {"usage": {"inputTokens": 3}}))) == b""
    assert events(stream.feed(frames(("messageStop", {"stopReason": "end_turn"}))))[-1]["usageMetadata"]["promptTokenCount"] == 3


def test_parallel_calls_go_out_whole_each_at_its_stop() -> None:
    raw = frames(
        ("contentBlockStart", {"contentBlockIndex": 1, "start": {"toolUse": {"toolUseId": "t1", "name": "f"}}}),
        ("contentBlockStart", {"contentBlockIndex": 2, "start": {"toolUse": {"toolUseId": "t2", "name": "g"}}}),
        ("contentBlockDelta", {"contentBlockIndex": 2, "delta": {"toolUse": {"input": '{"b":2}'}}}),
        ("contentBlockDelta", {"contentBlockIndex": 1, "delta": {"toolUse": {"input": '{"a":1}'}}}),
        ("contentBlockStop", {"contentBlockIndex": 2}),
        ("contentBlockStop", {"contentBlockIndex": 1}),
        ("messageStop", {"stopReason": "tool_use"}),
        ("metadata", {"usage": {}}),
    )
    evs = events(run(raw))
    calls = [part["functionCall"] for e in evs[:-1] for part in e["candidates"][0]["content"]["parts"]]
    assert calls == [{"id": "t2", "name": "g", "args": {"b": 2}}, {"id": "t1", "name": "f", "args": {"a": 1}}]


@pytest.mark.parametrize(
    "exception, code, status",
    [
        ("throttlingException", 429, "RESOURCE_EXHAUSTED"),
        ("modelStreamErrorException", 424, "INTERNAL"),
        ("validationException", 400, "INVALID_ARGUMENT"),
        ("internalServerException", 500, "INTERNAL"),
        ("serviceUnavailableException", 503, "UNAVAILABLE"),
        ("somethingNewException", 500, "INTERNAL"),
    ],
)
def test_mid_stream_exceptions_end_the_stream_with_an_error(exception: str, code: int, status: str) -> None:
    raw = frames(("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Hi"}}), (exception, {"message": "bad"}))
    evs = events(run(raw + frames(("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "after"}}))))
    assert evs[0]["candidates"][0]["content"]["parts"] == [{"text": "Hi"}]
    assert evs[1:] == [{"error": {"code": code, "message": "bad", "status": status}}]  # and nothing after it


def test_corrupt_frames_end_the_stream_with_an_error() -> None:
    raw = bytearray(frames(("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Hi"}})))
    raw[-1] ^= 0xFF  # a bad checksum
    evs = events(run(bytes(raw)))
    assert len(evs) == 1 and evs[0]["error"]["code"] == 500


def test_not_json_ends_with_error() -> None:
    evs = events(run(encode("contentBlockDelta", b"nope") + frames(("messageStop", {}))))
    assert len(evs) == 1 and evs[0]["error"]["code"] == 502


def test_reasoning_in_streams_only_for_a_client_that_asked() -> None:
    raw = bedrock_stream("thinking_stream")
    texts = [p.get("text") for e in events(run(raw)) for p in e["candidates"][0]["content"]["parts"]]
    assert texts == ["27 * 453 = 12,231", ""]


def test_unknown_events_and_fields_are_skipped() -> None:
    raw = frames(("somethingNew", {"x": 1}), ("contentBlockStart", {"contentBlockIndex": 0, "start": {"image": {}}}), ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"citation": {}}}))
    assert well_formed(events(run(raw)))["candidates"][0]["finishReason"] == "OTHER"


# --- properties ---------------------------------------------------------------------------------

JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(), lambda c: st.lists(c) | st.dictionaries(st.text(), c), max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_request_raises_only_unsupported(body: Any) -> None:
    for candidate in (
        body,
        {"contents": body},
        {"contents": [{"parts": body}]},
        {"contents": [{"parts": [body]}]},
        {"contents": [{"role": "model", "parts": [{"functionCall": body}]}, {"parts": [{"functionResponse": body}]}]},
        req(generationConfig=body),
        req(tools=body),
        req(tools=[{"functionDeclarations": [WEATHER]}], toolConfig=body),
        req(systemInstruction=body),
    ):
        for upstream in (UPSTREAM, LLAMA):
            try:
                T.request(candidate, upstream)
            except UnsupportedFeature:
                pass


@settings(max_examples=200, deadline=None)
@given(JSON_VALUES)
def test_response_of_any_json_never_raises(body: Any) -> None:
    for candidate in (body, {"output": {"message": {"content": body}}, "usage": body, "stopReason": body}, {"output": {"message": {"content": [body]}}}):
        out, _ = T.response(candidate, THOUGHTFUL)
        types.GenerateContentResponse.model_validate(out)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.integers(min_value=0, max_value=300))
def test_arbitrary_bytes_never_raise(data: bytes, cut: int) -> None:
    run(data[:cut], data[cut:])
    T.error(500, data)


# Payloads of any shape, with the keys Converse events have more often than chance would give them.
KEYS = st.sampled_from(["contentBlockIndex", "delta", "start", "text", "toolUse", "toolUseId", "name", "input", "reasoningContent", "stopReason", "usage", "inputTokens", "message"]) | st.text()
SCALARS = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.integers(0, 3) | st.floats(allow_nan=False) | st.text() | st.sampled_from(["end_turn", "tool_use", '{"a":', "1}"])
FRAME_VALUES = st.recursive(SCALARS, lambda c: st.lists(c) | st.dictionaries(KEYS, c), max_leaves=20)
EVENT_TYPES = st.sampled_from(["messageStart", "contentBlockStart", "contentBlockDelta", "contentBlockStop", "messageStop", "metadata", "throttlingException", "other"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(EVENT_TYPES, FRAME_VALUES), max_size=8))
def test_arbitrary_frames_never_raise_and_end_properly(pairs: list[tuple[str, Any]]) -> None:
    evs = events(run(frames(*pairs), request=THOUGHTFUL))
    assert evs
    if "error" not in evs[-1]:
        well_formed(evs)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(STREAMS), st.lists(st.integers(min_value=0, max_value=4000), max_size=6))
def test_split_anywhere_equals_whole(name: str, cuts: list[int]) -> None:
    raw = bedrock_stream(name)
    assert run(*split(raw, cuts), request=THOUGHTFUL) == run(raw, request=THOUGHTFUL)


# --- Google's SDK, in process -------------------------------------------------------------------


def gateway(answer: bytes, status: int = 200) -> Gateway:
    """The gateway between Google's SDK and Bedrock, answering `answer` (a golden Converse body or stream)."""
    return Gateway(T, UPSTREAM, answer, status)


def test_the_sdk_generates_content() -> None:
    provider = gateway(fx("text_response.bedrock.json"))
    config = types.GenerateContentConfig(
        system_instruction="You are a cat. Your name is Neko.",
        temperature=0.5,
        max_output_tokens=100,
        stop_sequences=["Title"],
        safety_settings=[types.SafetySetting(category="HARM_CATEGORY_HARASSMENT", threshold="BLOCK_NONE")],
    )
    response = sdk_client(provider).models.generate_content(model=CLIENT_MODEL, contents="Hello there", config=config)
    assert response.text.startswith("Here is a list of 3 pop songs")
    assert response.candidates[0].finish_reason == types.FinishReason.STOP
    assert response.usage_metadata.total_token_count == 185 and response.model_version == CLIENT_MODEL
    assert provider.requests[0] == {
        "messages": [{"role": "user", "content": [{"text": "Hello there"}]}],
        "system": [{"text": "You are a cat. Your name is Neko."}],
        "inferenceConfig": {"temperature": 0.5, "maxTokens": 100, "stopSequences": ["Title"]},
    }


def test_the_sdk_streams_content_with_thoughts() -> None:
    provider = gateway(bedrock_stream("thinking_stream"))
    config = types.GenerateContentConfig(thinking_config=types.ThinkingConfig(include_thoughts=True, thinking_budget=2048))
    chunks = list(sdk_client(provider).models.generate_content_stream(model=CLIENT_MODEL, contents="27 * 453?", config=config))
    parts = [part for chunk in chunks for part in chunk.candidates[0].content.parts]
    assert [part.text for part in parts if part.thought] == ["The user asks for 27 * 453.", " 27 * 453 = 12231."]
    assert "".join(part.text for part in parts if not part.thought) == "27 * 453 = 12,231"
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP and chunks[-1].usage_metadata.total_token_count == 149
    assert provider.requests[0]["additionalModelRequestFields"] == {"thinking": {"type": "enabled", "budget_tokens": 2048}}


def test_the_sdk_takes_structured_output_with_a_pydantic_schema() -> None:
    provider = gateway(fx("text_response.bedrock.json"))
    ask_for_recipes(provider)
    schema = orjson.loads(provider.requests[0]["outputConfig"]["textFormat"]["structure"]["jsonSchema"]["schema"])
    assert schema["type"] == "array" and schema["items"]["properties"]["ingredients"]["type"] == "array"


@pytest.mark.parametrize("streamed", [False, True])
def test_the_sdk_calls_a_function_and_answers_it(streamed: bool) -> None:
    provider = gateway(bedrock_stream("tool_stream") if streamed else fx("tool_response.bedrock.json"))
    client = sdk_client(provider)
    config = types.GenerateContentConfig(tools=[get_weather], automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True))
    question = types.Content(role="user", parts=[types.Part.from_text(text="What is the most popular song on WZPZ?")])
    if streamed:
        parts = [part for chunk in client.models.generate_content_stream(model=CLIENT_MODEL, contents=[question], config=config) for part in chunk.candidates[0].content.parts]
    else:
        parts = client.models.generate_content(model=CLIENT_MODEL, contents=[question], config=config).candidates[0].content.parts
    calls = [part.function_call for part in parts if part.function_call]
    assert [(c.id, c.name, c.args) for c in calls] == [("tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "top_song", {"sign": "WZPZ"})]
    model_turn = types.Content(role="model", parts=[part for part in parts if part.function_call])
    result = types.Part.from_function_response(name="top_song", response={"song": "Elemental Hotel"})
    result.function_response.id = calls[0].id
    provider.answer = fx("text_response.bedrock.json")
    client.models.generate_content(model=CLIENT_MODEL, contents=[question, model_turn, types.Content(role="user", parts=[result])], config=config)
    sent = provider.requests[-1]
    assert sent["messages"][1]["content"][0]["toolUse"]["toolUseId"] == "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q"
    assert sent["messages"][2]["content"][0]["toolResult"] == {"toolUseId": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "content": [{"json": {"song": "Elemental Hotel"}}]}
    assert sent["toolConfig"]["tools"][0]["toolSpec"]["name"] == "get_weather"


def test_the_sdk_raises_the_providers_error() -> None:
    from google.genai import errors

    provider = gateway(fx("error_429.bedrock.json"), status=429)
    with pytest.raises(errors.ClientError) as e:
        sdk_client(provider).models.generate_content(model=CLIENT_MODEL, contents="Hi")
    assert e.value.code == 429 and "Too many requests" in e.value.message


def test_the_sdk_raises_a_mid_stream_exception() -> None:
    from google.genai import errors

    provider = gateway(bedrock_stream("error_stream"))
    with pytest.raises(errors.APIError) as e:
        list(sdk_client(provider).models.generate_content_stream(model=CLIENT_MODEL, contents="Tell me a story"))
    assert e.value.code == 429
