"""Gemini generateContent clients served by an OpenAI Chat Completions provider: the translation, as a specification.

Golden exchanges live in tests/fixtures/gemini_openai (their README names the API reference
page each comes from); the tables below pin one feature per row. Google's own SDK checks the
output where it is installed: its types take every response and event, and the SDK itself runs
against the translator over an in-process transport.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from gemini_client_requests import (
    CLIENT_MODEL,
    CLIENT_REQUEST,
    Gateway,
    ask_for_recipes,
    assert_well_formed,
    finish_events,
    gemini_events,
    get_weather,
    sdk_client,
    split,
    translate_stream,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from aiplane.translate import Translator, UnsupportedFeature, Usage
from aiplane.translate.gemini_openai import GeminiToOpenAI

FIXTURES = Path(__file__).parent / "fixtures" / "gemini_openai"
UPSTREAM = "gpt-4o-mini"
TRANSLATOR: Translator = GeminiToOpenAI()
ABSENT = object()  # an expected value meaning "this key is not in the output"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str) -> Any:
    return orjson.loads(fixture(name))


def run_stream(*chunks: bytes, request: dict[str, Any] | None = None) -> tuple[bytes, Usage | None]:
    return translate_stream(TRANSLATOR, *chunks, request=request)


def openai_stream(*chunks: dict[str, Any], done: bool = True) -> bytes:
    events = [b"data: " + orjson.dumps({"id": "chatcmpl-1", "object": "chat.completion.chunk", **c}) + b"\n\n" for c in chunks]
    return b"".join(events) + (b"data: [DONE]\n\n" if done else b"")


def delta(finish_reason: str | None = None, index: int = 0, **fields: Any) -> dict[str, Any]:
    return {"choices": [{"index": index, "delta": fields, "finish_reason": finish_reason}]}


def assembled(events: list[dict[str, Any]], index: int = 0) -> tuple[str, list[dict[str, Any]], str]:
    """What a client accumulates from the stream for one candidate: its text, its function calls, its finishReason."""
    text, calls, finish_reason = "", [], ""
    for event in events:
        for candidate in event["candidates"]:
            if candidate["index"] != index:
                continue
            for part in candidate["content"]["parts"]:
                if "functionCall" in part:
                    calls.append(part["functionCall"])
                elif not part.get("thought"):
                    text += part["text"]
            finish_reason = candidate.get("finishReason", finish_reason)
    return text, calls, finish_reason


def base_request(**fields: Any) -> dict[str, Any]:
    # What the decision server hands over: the client's body, with the model and stream of its path.
    return {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}], "model": CLIENT_MODEL, "stream": False, **fields}


def translated(**fields: Any) -> dict[str, Any]:
    return TRANSLATOR.request(base_request(**fields), UPSTREAM)


def test_the_pair() -> None:
    assert (TRANSLATOR.client, TRANSLATOR.provider) == ("gemini", "openai")


# ---------------------------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["text_request", "tool_request"])
def test_golden_requests(name: str) -> None:
    assert TRANSLATOR.request(fixture_json(f"{name}.gemini.json"), UPSTREAM) == fixture_json(f"{name}.openai.json")


def test_the_request_is_not_modified() -> None:
    body = fixture_json("tool_request.gemini.json")
    TRANSLATOR.request(body, UPSTREAM)
    assert body == fixture_json("tool_request.gemini.json")


PNG = {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}
PNG_URL = "data:image/png;base64,iVBORw0KGgo="
CAT = {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://example.com/cat.jpg"}}
WEATHER = {"name": "get_weather", "description": "Weather now", "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}}}
WEATHER_FUNCTION = {
    "type": "function",
    "function": {"name": "get_weather", "description": "Weather now", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}},
}
TIME = {"name": "get_time"}
NEWS = {"name": "get_news"}
THREE_TOOLS = [{"functionDeclarations": [WEATHER, TIME, NEWS]}]


def user(*parts: Any) -> list[dict[str, Any]]:
    return [{"role": "user", "parts": list(parts)}]


def turns(*contents: tuple[str, list[Any]]) -> list[dict[str, Any]]:
    return [{"role": role, "parts": parts} for role, parts in contents]


def call(name: str, args: Any = None, **extra: Any) -> dict[str, Any]:
    function_call = {"name": name, **({} if args is None else {"args": args}), **extra}
    return {"functionCall": function_call}


def answer(name: str, response: Any, **extra: Any) -> dict[str, Any]:
    return {"functionResponse": {"name": name, "response": response, **extra}}


def tool_call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def tool_message(call_id: str, content: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "content": content}


def schema(value: Any) -> dict[str, Any]:
    return {"tools": [{"functionDeclarations": [{"name": "f", "parameters": value}]}]}


def config(**fields: Any) -> dict[str, Any]:
    return {"generationConfig": fields}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        # The request and its contents.
        pytest.param({}, {"model": UPSTREAM, "messages": [{"role": "user", "content": "Hi"}], "stream": ABSENT, "max_tokens": ABSENT, "tools": ABSENT}, id="model-replaced"),
        pytest.param({"stream": True}, {"stream": True, "stream_options": {"include_usage": True}}, id="stream"),
        pytest.param(
            {"systemInstruction": {"parts": [{"text": "Be brief."}, {"text": "Be kind."}]}},
            {"messages": [{"role": "system", "content": "Be brief.\n\nBe kind."}, {"role": "user", "content": "Hi"}]},
            id="systemInstruction-parts-joined",
        ),
        pytest.param(
            {"system_instruction": {"role": "system", "parts": [{"text": "Be brief."}]}},
            {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]},
            id="system_instruction-snake_case-role-ignored",
        ),
        pytest.param({"systemInstruction": {"parts": [{"text": ""}]}}, {"messages": [{"role": "user", "content": "Hi"}]}, id="systemInstruction-empty"),
        pytest.param({"contents": [{"parts": [{"text": "Hi"}]}]}, {"messages": [{"role": "user", "content": "Hi"}]}, id="role-left-out-is-user"),
        pytest.param(
            {"contents": user({"text": "What is this?"}, PNG, CAT)},
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "text", "text": "What is this?"},
                            {"type": "image_url", "image_url": {"url": PNG_URL}},
                            {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
                        ],
                    }
                ]
            },
            id="images-inline-and-by-url",
        ),
        pytest.param(
            {"contents": user({"inline_data": {"mime_type": "image/webp", "data": "UklG-_w"}}), "generation_config": {"media_resolution": "MEDIA_RESOLUTION_LOW"}},
            {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/webp;base64,UklG+/w=", "detail": "low"}}]}]},
            id="inline_data-snake_case-url-safe-unpadded-low-resolution",
        ),
        pytest.param(
            {"contents": user(CAT), "generationConfig": {"mediaResolution": "MEDIA_RESOLUTION_HIGH"}},
            {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg", "detail": "high"}}]}]},
            id="mediaResolution-high",
        ),
        pytest.param(
            {"contents": user({"text": "Hi", "partMetadata": {"k": "v"}}, {"text": ""})},
            {"messages": [{"role": "user", "content": "Hi"}]},
            id="partMetadata-and-empty-text-dropped",
        ),
        pytest.param(
            {"contents": turns(("user", [{"text": "Hi"}]), ("model", [{"text": "Thinking…", "thought": True}, {"text": "Hel", "thoughtSignature": "c2ln"}, {"text": "lo!"}]))},
            {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]},
            id="model-text-joined-thoughts-and-signatures-dropped",
        ),
        pytest.param(
            {"contents": turns(("user", [{"text": "Hi"}]), ("model", [{"text": "Hmm", "thought": True}]), ("user", [{"text": "Well?"}]))},
            {"messages": [{"role": "user", "content": "Hi"}, {"role": "user", "content": "Well?"}]},
            id="model-turn-of-thoughts-only-dropped",
        ),
        # Function calls and their responses.
        pytest.param(
            {"contents": turns(("user", [{"text": "Weather?"}]), ("model", [call("get_weather", {"city": "Zürich"}, id="call_abc")]), ("user", [answer("get_weather", {"temp": 15}, id="call_abc")]))},
            {
                "messages": [
                    {"role": "user", "content": "Weather?"},
                    {"role": "assistant", "content": None, "tool_calls": [tool_call("call_abc", "get_weather", '{"city":"Zürich"}')]},
                    tool_message("call_abc", '{"temp":15}'),
                ]
            },
            id="ids-given-are-kept",
        ),
        pytest.param(
            {
                "contents": turns(
                    ("user", [{"text": "Paris and Rome?"}]),
                    ("model", [{"text": "Checking."}, call("get_weather", {"city": "Paris"}), call("get_weather", {"city": "Rome"})]),
                    ("user", [answer("get_weather", {"temp": 15}), answer("get_weather", {"temp": 25})]),
                )
            },
            {
                "messages": [
                    {"role": "user", "content": "Paris and Rome?"},
                    {
                        "role": "assistant",
                        "content": "Checking.",
                        "tool_calls": [tool_call("call_0", "get_weather", '{"city":"Paris"}'), tool_call("call_1", "get_weather", '{"city":"Rome"}')],
                    },
                    tool_message("call_0", '{"temp":15}'),
                    tool_message("call_1", '{"temp":25}'),
                ]
            },
            id="parallel-calls-of-one-function-answered-in-order",
        ),
        pytest.param(
            {
                "contents": turns(
                    ("user", [{"text": "Time and news?"}]),
                    ("model", [call("get_time"), call("get_news", {})]),
                    ("user", [answer("get_news", {"items": []}), {"text": "Thanks"}, answer("get_time", {"now": "12:00"})]),
                    ("model", [call("get_time")]),
                    ("function", [answer("get_time", {"now": "12:01"})]),
                )
            },
            {
                "messages": [
                    {"role": "user", "content": "Time and news?"},
                    {"role": "assistant", "content": None, "tool_calls": [tool_call("call_0", "get_time", "{}"), tool_call("call_1", "get_news", "{}")]},
                    tool_message("call_1", '{"items":[]}'),
                    tool_message("call_0", '{"now":"12:00"}'),
                    {"role": "user", "content": "Thanks"},
                    {"role": "assistant", "content": None, "tool_calls": [tool_call("call_2", "get_time", "{}")]},
                    tool_message("call_2", '{"now":"12:01"}'),
                ]
            },
            id="responses-by-name-results-first-role-function-ids-count-on",
        ),
        pytest.param(
            {"contents": turns(("user", [{"text": "Go"}]), ("model", [{"function_call": {"name": "f", "args": {"n": 1}}}]), ("user", [{"function_response": {"name": "f"}}]))},
            {"messages": [{"role": "user", "content": "Go"}, {"role": "assistant", "content": None, "tool_calls": [tool_call("call_0", "f", '{"n":1}')]}, tool_message("call_0", "{}")]},
            id="snake_case-parts-response-without-body",
        ),
        pytest.param(
            {"contents": turns(("model", [call("f")]), ("user", [answer("f", {}, id="client-id")]))},
            {"messages": [{"role": "assistant", "content": None, "tool_calls": [tool_call("call_0", "f", "{}")]}, tool_message("client-id", "{}")]},
            id="response-id-of-no-call-passed-on",
        ),
        # Tools.
        pytest.param({"tools": [{"functionDeclarations": [WEATHER]}]}, {"tools": [WEATHER_FUNCTION], "tool_choice": ABSENT}, id="tools"),
        pytest.param(
            {"tools": [{"function_declarations": [{"name": "f", "parametersJsonSchema": {"type": "object", "additionalProperties": False}, "response": {"type": "STRING"}}]}]},
            {"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "additionalProperties": False}}}]},
            id="parametersJsonSchema-as-is-response-schema-dropped",
        ),
        pytest.param({"tools": [{"functionDeclarations": [TIME]}]}, {"tools": [{"type": "function", "function": {"name": "get_time"}}]}, id="function-without-parameters"),
        pytest.param({"tools": [{"functionDeclarations": [dict(TIME, behavior="BLOCKING")]}, {"functionDeclarations": [NEWS]}]}, {"tools": [{"type": "function", "function": {"name": "get_time"}}, {"type": "function", "function": {"name": "get_news"}}]}, id="tools-flattened-blocking"),
        pytest.param({"tools": [], "toolConfig": {"functionCallingConfig": {"mode": "ANY"}}}, {"tools": ABSENT, "tool_choice": ABSENT}, id="no-tools-no-tool_choice"),
        pytest.param({"tools": [{"functionDeclarations": []}]}, {"tools": ABSENT}, id="no-declarations"),
        pytest.param(schema({"type": "OBJECT", "properties": {"b": {"type": "STRING"}, "a": {"type": "INTEGER"}}, "propertyOrdering": ["a", "b"]}), {"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}}}}}]}, id="schema-propertyOrdering"),
        pytest.param(
            schema({"type": "object", "properties": {"tags": {"type": "ARRAY", "items": {"type": "STRING", "format": "enum", "enum": ["a", "b"], "nullable": True}, "max_items": "5", "minItems": 1}}}),
            {"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"tags": {"type": "array", "items": {"type": ["string", "null"], "enum": ["a", "b", None]}, "maxItems": 5, "minItems": 1}}}}}]},
            id="schema-lower-case-int64-strings-snake_case-nullable-enum",
        ),
        pytest.param(
            schema({"anyOf": [{"type": "NUMBER", "minimum": 0}, {"type": "BOOLEAN"}], "nullable": True, "example": 3, "title": "T", "type": "TYPE_UNSPECIFIED", "description": None}),
            {"tools": [{"type": "function", "function": {"name": "f", "parameters": {"anyOf": [{"type": "number", "minimum": 0}, {"type": "boolean"}, {"type": "null"}], "examples": [3], "title": "T"}}}]},
            id="schema-anyOf-nullable-example-unspecified-type",
        ),
        # Tool config.
        pytest.param({"tools": THREE_TOOLS, "toolConfig": {"functionCallingConfig": {"mode": "AUTO"}}}, {"tool_choice": "auto"}, id="mode-AUTO"),
        pytest.param({"tools": THREE_TOOLS, "toolConfig": {"functionCallingConfig": {"mode": "MODE_UNSPECIFIED"}}}, {"tool_choice": "auto"}, id="mode-unspecified"),
        pytest.param({"tools": THREE_TOOLS, "toolConfig": {"functionCallingConfig": {}}}, {"tool_choice": "auto"}, id="mode-left-out"),
        pytest.param({"tools": THREE_TOOLS, "toolConfig": {"functionCallingConfig": {"mode": "ANY"}}}, {"tool_choice": "required"}, id="mode-ANY"),
        pytest.param({"tools": THREE_TOOLS, "tool_config": {"function_calling_config": {"mode": "none"}}}, {"tool_choice": "none"}, id="mode-none-lower-case-snake_case"),
        pytest.param(
            {"tools": THREE_TOOLS, "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_time"]}}},
            {"tool_choice": {"type": "function", "function": {"name": "get_time"}}, "tools": [WEATHER_FUNCTION, {"type": "function", "function": {"name": "get_time"}}, {"type": "function", "function": {"name": "get_news"}}]},
            id="ANY-one-name-is-a-named-choice",
        ),
        pytest.param(
            {"tools": THREE_TOOLS, "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_news", "get_time"]}}},
            {"tool_choice": "required", "tools": [{"type": "function", "function": {"name": "get_time"}}, {"type": "function", "function": {"name": "get_news"}}]},
            id="ANY-names-limit-the-tools",
        ),
        pytest.param(
            {"tools": THREE_TOOLS, "toolConfig": {"functionCallingConfig": {"mode": "AUTO", "allowedFunctionNames": ["get_time"]}}},
            {"tool_choice": "auto", "tools": [{"type": "function", "function": {"name": "get_time"}}]},
            id="AUTO-names-limit-the-tools",
        ),
        pytest.param({"tools": THREE_TOOLS, "toolConfig": {"retrievalConfig": {"latLng": {"latitude": 1, "longitude": 2}}}}, {"tool_choice": ABSENT}, id="retrievalConfig-dropped"),
        # generationConfig.
        pytest.param(config(temperature=0.2, topP=0.9, maxOutputTokens=100), {"temperature": 0.2, "top_p": 0.9, "max_tokens": 100}, id="temperature-topP-maxOutputTokens"),
        pytest.param({"generation_config": {"max_output_tokens": 100, "top_p": 1}}, {"max_tokens": 100, "top_p": 1}, id="generation_config-snake_case"),
        pytest.param(config(stopSequences=["END", "\n\n"]), {"stop": ["END", "\n\n"]}, id="stopSequences"),
        pytest.param(config(stopSequences=[]), {"stop": ABSENT}, id="stopSequences-empty"),
        pytest.param(config(candidateCount=1), {"n": ABSENT}, id="candidateCount-1"),
        pytest.param(config(candidateCount=3), {"n": 3}, id="candidateCount-is-n"),
        pytest.param(config(presencePenalty=0.5, frequencyPenalty=-0.5, seed=42), {"presence_penalty": 0.5, "frequency_penalty": -0.5, "seed": 42}, id="penalties-seed"),
        pytest.param(config(responseMimeType="text/plain", responseModalities=["TEXT"], responseLogprobs=False, logprobs=3), {"response_format": ABSENT, "logprobs": ABSENT}, id="text-plain-modality-text-no-logprobs"),
        pytest.param(config(responseMimeType="application/json"), {"response_format": {"type": "json_object"}}, id="json-mode"),
        pytest.param(
            config(responseMimeType="application/json", responseSchema={"type": "ARRAY", "items": {"type": "OBJECT", "properties": {"recipeName": {"type": "STRING"}}}}),
            {"response_format": {"type": "json_schema", "json_schema": {"name": "response", "schema": {"type": "array", "items": {"type": "object", "properties": {"recipeName": {"type": "string"}}}}}}},
            id="responseSchema",
        ),
        pytest.param(
            config(responseMimeType="application/json", responseJsonSchema={"type": "object", "properties": {"x": {"$ref": "#/$defs/X"}}, "$defs": {"X": {"type": "integer"}}}),
            {"response_format": {"type": "json_schema", "json_schema": {"name": "response", "schema": {"type": "object", "properties": {"x": {"$ref": "#/$defs/X"}}, "$defs": {"X": {"type": "integer"}}}}}},
            id="responseJsonSchema-as-is",
        ),
        pytest.param(config(thinkingConfig={"thinkingBudget": 1024}), {"reasoning_effort": "low"}, id="thinkingBudget-small"),
        pytest.param(config(thinkingConfig={"thinkingBudget": 8192, "includeThoughts": True}), {"reasoning_effort": "medium"}, id="thinkingBudget-medium-includeThoughts"),
        pytest.param(config(thinkingConfig={"thinking_budget": 24576}), {"reasoning_effort": "high"}, id="thinking_budget-large"),
        pytest.param(config(thinkingConfig={"thinkingBudget": 0}), {"reasoning_effort": ABSENT}, id="thinkingBudget-off"),
        pytest.param(config(thinkingConfig={"thinkingBudget": -1}), {"reasoning_effort": ABSENT}, id="thinkingBudget-dynamic"),
        pytest.param(config(thinkingConfig={"thinkingLevel": "low"}), {"reasoning_effort": "low"}, id="thinkingLevel-low"),
        pytest.param(config(thinkingConfig={"thinkingLevel": "HIGH"}), {"reasoning_effort": "high"}, id="thinkingLevel-HIGH"),
        pytest.param(config(thinkingConfig={"thinkingLevel": "MINIMAL"}), {"reasoning_effort": "minimal"}, id="thinkingLevel-MINIMAL"),
        # Hints, and nulls.
        pytest.param(
            {"safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}], "labels": {"team": "a"}, "serviceTier": "flex", "store": False},
            {"safety_settings": ABSENT, "service_tier": ABSENT, "metadata": ABSENT, "store": ABSENT},
            id="safetySettings-labels-serviceTier-dropped",
        ),
        pytest.param({"generationConfig": None, "tools": None, "toolConfig": None, "systemInstruction": None}, {"messages": [{"role": "user", "content": "Hi"}], "tools": ABSENT}, id="nulls-are-absent"),
        pytest.param(config(temperature=None, topK=None, responseSchema=None), {"temperature": ABSENT}, id="null-config-fields-are-absent"),
    ],
)
def test_request_features(fields: dict[str, Any], expected: dict[str, Any]) -> None:
    out = translated(**fields)
    assert {key: out.get(key, ABSENT) for key in expected} == expected
    assert "top_k" not in out and "max_completion_tokens" not in out


def contents(*parts: Any, role: str = "user") -> dict[str, Any]:
    return {"contents": [{"role": role, "parts": list(parts)}]}


MODEL_CALL = ("model", [call("f")])


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        # Features OpenAI cannot express.
        (config(topK=40), "generationConfig.topK"),
        ({"cachedContent": "cachedContents/abc"}, "cachedContent"),
        ({"store": True}, "store"),
        ({"a_future_field": 1}, "a_future_field"),
        (config(aFutureOption=1), "generationConfig.aFutureOption"),
        (config(responseLogprobs=True), "generationConfig.responseLogprobs"),
        (config(speechConfig={"voiceConfig": {}}), "generationConfig.speechConfig"),
        (config(imageConfig={"aspectRatio": "1:1"}), "generationConfig.imageConfig"),
        (config(responseModalities=["TEXT", "IMAGE"]), "generationConfig.responseModalities[1]"),
        (config(responseMimeType="text/x.enum", responseSchema={"type": "STRING", "enum": ["a"]}), "generationConfig.responseMimeType"),
        (config(responseMimeType="text/x.enum"), "generationConfig.responseMimeType"),
        (config(enableEnhancedCivicAnswers=True), "generationConfig.enableEnhancedCivicAnswers"),
        ({"tools": [{"googleSearch": {}}]}, "tools[0].googleSearch"),
        ({"tools": [{"functionDeclarations": [TIME], "codeExecution": {}}]}, "tools[0].codeExecution"),
        ({"tools": [{"url_context": {}}]}, "tools[0].urlContext"),  # paths name fields as Gemini documents them
        ({"tools": THREE_TOOLS, "toolConfig": {"functionCallingConfig": {"mode": "VALIDATED"}}}, "toolConfig.functionCallingConfig.mode"),
        ({"tools": [{"functionDeclarations": [dict(TIME, behavior="NON_BLOCKING")]}]}, "tools[0].functionDeclarations[0].behavior"),
        (contents({"inlineData": {"mimeType": "audio/wav", "data": "UklGRg=="}}), "contents[0].parts[0].inlineData.mimeType"),
        (contents({"inlineData": {"mimeType": "application/pdf", "data": "JVBERi0="}}), "contents[0].parts[0].inlineData.mimeType"),
        (contents({"fileData": {"mimeType": "image/png", "fileUri": "gs://bucket/cat.png"}}), "contents[0].parts[0].fileData.fileUri"),
        (contents({"fileData": {"mimeType": "image/png", "fileUri": "https://generativelanguage.googleapis.com/v1beta/files/abc"}}), "contents[0].parts[0].fileData.fileUri"),
        (contents({"fileData": {"mimeType": "video/mp4", "fileUri": "https://www.youtube.com/watch?v=9hE5-98ZeCg"}}), "contents[0].parts[0].fileData.mimeType"),
        (contents({"fileData": {"fileUri": "https://example.com/cat"}}), "contents[0].parts[0].fileData.mimeType"),
        (contents(PNG, role="model"), "contents[0].parts[0].inlineData"),
        (contents({"executableCode": {"language": "PYTHON", "code": "1"}}, role="model"), "contents[0].parts[0].executableCode"),
        (contents({"codeExecutionResult": {"outcome": "OUTCOME_OK"}}), "contents[0].parts[0].codeExecutionResult"),
        (contents({"videoMetadata": {"fps": 1}}), "contents[0].parts[0].videoMetadata"),
        (contents({"aFuturePart": {}}), "contents[0].parts[0].aFuturePart"),
        ({"contents": turns(MODEL_CALL, ("user", [answer("f", {}, parts=[PNG])]))}, "contents[1].parts[0].functionResponse.parts"),
        ({"contents": turns(MODEL_CALL, ("user", [answer("f", {}, willContinue=True)]))}, "contents[1].parts[0].functionResponse.willContinue"),
        ({"contents": turns(MODEL_CALL, ("user", [answer("f", {}, scheduling="SILENT")]))}, "contents[1].parts[0].functionResponse.scheduling"),
        ({"systemInstruction": {"parts": [PNG]}}, "systemInstruction.parts[0].inlineData"),
        # Invalid shapes.
        ({"contents": []}, "contents"),
        ({"contents": None}, "contents"),
        ({"contents": "Hi"}, "contents"),
        ({"contents": ["Hi"]}, "contents[0]"),
        ({"contents": [{"role": "model", "parts": [{"text": "Hmm", "thought": True}]}]}, "contents"),
        ({"contents": [{"role": "system", "parts": [{"text": "Hi"}]}]}, "contents[0].role"),
        ({"contents": [{"role": "user", "parts": {"text": "Hi"}}]}, "contents[0].parts"),
        ({"contents": [{"role": "user", "text": "Hi"}]}, "contents[0].text"),
        (contents("Hi"), "contents[0].parts[0]"),
        (contents({"text": 42}), "contents[0].parts[0].text"),
        (contents({"text": "Hi", "thought": "yes"}), "contents[0].parts[0].thought"),
        (contents({"inlineData": {"mimeType": "image/png"}}), "contents[0].parts[0].inlineData.data"),
        (contents(call("f")), "contents[0].parts[0].functionCall"),
        (contents(answer("f", {}), role="model"), "contents[0].parts[0].functionResponse"),
        (contents(answer("f", {})), "contents[0].parts[0].functionResponse.name"),  # answers no call
        ({"contents": turns(MODEL_CALL, ("user", [answer("g", {})]))}, "contents[1].parts[0].functionResponse.name"),
        ({"contents": turns(MODEL_CALL, ("user", [answer("f", {}), answer("f", {})]))}, "contents[1].parts[1].functionResponse.name"),
        ({"contents": turns(MODEL_CALL, ("user", [answer("f", "done")]))}, "contents[1].parts[0].functionResponse.response"),
        (contents(call("f", "{}"), role="model"), "contents[0].parts[0].functionCall.args"),
        (contents(call("f", {"n": 2**70}), role="model"), "contents[0].parts[0].functionCall.args"),
        (contents({"functionCall": {"args": {}}}, role="model"), "contents[0].parts[0].functionCall.name"),
        (contents({"functionCall": {"name": "f", "partialArgs": []}}, role="model"), "contents[0].parts[0].functionCall.partialArgs"),
        ({"tools": {"functionDeclarations": [TIME]}}, "tools"),
        ({"tools": [{"functionDeclarations": [{"description": "no name"}]}]}, "tools[0].functionDeclarations[0].name"),
        ({"tools": [{"functionDeclarations": [dict(WEATHER, parametersJsonSchema={})]}]}, "tools[0].functionDeclarations[0].parametersJsonSchema"),
        (schema({"type": "STRANGE"}), "tools[0].functionDeclarations[0].parameters.type"),
        (schema({"type": "OBJECT", "properties": []}), "tools[0].functionDeclarations[0].parameters.properties"),
        (schema({"type": "ARRAY", "items": {"type": "STRING", "maxItems": "many"}}), "tools[0].functionDeclarations[0].parameters.items.maxItems"),
        (schema({"type": "ARRAY", "minItems": -1}), "tools[0].functionDeclarations[0].parameters.minItems"),
        (schema({"type": "STRING", "nullable": "yes"}), "tools[0].functionDeclarations[0].parameters.nullable"),
        ({"tools": THREE_TOOLS, "toolConfig": {"functionCallingConfig": {"mode": "SOMETIMES"}}}, "toolConfig.functionCallingConfig.mode"),
        ({"tools": THREE_TOOLS, "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_mood"]}}}, "toolConfig.functionCallingConfig.allowedFunctionNames[0]"),
        ({"tools": THREE_TOOLS, "toolConfig": {"functionCallingConfig": {"allowedFunctionNames": "get_time"}}}, "toolConfig.functionCallingConfig.allowedFunctionNames"),
        (config(responseSchema={"type": "STRING"}), "generationConfig.responseMimeType"),
        (config(responseMimeType="application/json", responseSchema={"type": "STRING"}, responseJsonSchema={"type": "string"}), "generationConfig.responseJsonSchema"),
        (config(thinkingConfig={"thinkingBudget": 1024, "thinkingLevel": "LOW"}), "generationConfig.thinkingConfig.thinkingLevel"),
        (config(thinkingConfig={"thinkingBudget": -2}), "generationConfig.thinkingConfig.thinkingBudget"),
        (config(thinkingConfig={"thinkingLevel": "EXTREME"}), "generationConfig.thinkingConfig.thinkingLevel"),
        (config(thinkingConfig={"includeThoughts": "yes"}), "generationConfig.thinkingConfig.includeThoughts"),
        (config(candidateCount=0), "generationConfig.candidateCount"),
        (config(maxOutputTokens="100"), "generationConfig.maxOutputTokens"),
        (config(temperature=True), "generationConfig.temperature"),
        (config(stopSequences="END"), "generationConfig.stopSequences"),
        (config(mediaResolution="MEDIA_RESOLUTION_HUGE"), "generationConfig.mediaResolution"),
        ({"generationConfig": []}, "generationConfig"),
        ({"safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "level": "LOW"}]}, "safetySettings[0].level"),
        ({"labels": ["a"]}, "labels"),
    ],
)
def test_requests_the_provider_cannot_serve_name_the_field(fields: dict[str, Any], param: str) -> None:
    with pytest.raises(UnsupportedFeature) as raised:
        translated(**fields)
    assert raised.value.param == param
    assert raised.value.message


def test_schemas_nested_beyond_reason_are_refused() -> None:
    deep: dict[str, Any] = {"type": "STRING"}
    for _ in range(100):
        deep = {"type": "ARRAY", "items": deep}
    with pytest.raises(UnsupportedFeature) as raised:
        translated(**schema(deep))
    assert raised.value.param.endswith(".items") and "nested" in raised.value.message


# ---------------------------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "usage"),
    [("text_response", Usage(input_tokens=19, output_tokens=10)), ("tool_response", Usage(input_tokens=82, output_tokens=17))],
)
def test_golden_responses(name: str, usage: Usage) -> None:
    assert TRANSLATOR.response(fixture_json(f"{name}.openai.json"), CLIENT_REQUEST) == (fixture_json(f"{name}.gemini.json"), usage)


def completion(message: dict[str, Any] | None = None, usage: Any = None, **choice: Any) -> dict[str, Any]:
    choice = {"index": 0, "message": {"role": "assistant", "content": "Hi", **(message or {})}, "finish_reason": "stop", **choice}
    return {"id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-mini", "choices": [choice], "usage": usage}


CALL = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}


@pytest.mark.parametrize(
    ("finish_reason", "expected"),
    [
        ("stop", "STOP"),
        ("length", "MAX_TOKENS"),
        ("tool_calls", "STOP"),  # Gemini reports STOP for a turn that calls functions
        ("function_call", "STOP"),
        ("content_filter", "SAFETY"),
        (None, "STOP"),  # a whole response from a server that leaves it out
        ("abort", "OTHER"),  # a reason Gemini has no name for
    ],
)
def test_response_finish_reasons(finish_reason: str | None, expected: str) -> None:
    body, _ = TRANSLATOR.response(completion(finish_reason=finish_reason), CLIENT_REQUEST)
    assert body["candidates"][0]["finishReason"] == expected


def test_response_usage_counts_thoughts_apart_and_cache_within_the_prompt() -> None:
    usage = {
        "prompt_tokens": 2006,
        "completion_tokens": 300,
        "total_tokens": 2306,
        "prompt_tokens_details": {"cached_tokens": 1920},
        "completion_tokens_details": {"reasoning_tokens": 192},
    }
    body, common = TRANSLATOR.response(completion(usage=usage), CLIENT_REQUEST)
    assert body["usageMetadata"] == {
        "promptTokenCount": 2006,
        "candidatesTokenCount": 108,
        "totalTokenCount": 2306,
        "cachedContentTokenCount": 1920,
        "thoughtsTokenCount": 192,
    }
    assert common == Usage(input_tokens=2006, output_tokens=300, cached_input_tokens=1920, reasoning_tokens=192)


@pytest.mark.parametrize("usage", [None, {}, {"prompt_tokens": None, "prompt_tokens_details": None, "completion_tokens_details": 3}])
def test_response_without_usage_counts_zero(usage: Any) -> None:
    body, common = TRANSLATOR.response(completion(usage=usage), CLIENT_REQUEST)
    assert body["usageMetadata"] == {"promptTokenCount": 0, "candidatesTokenCount": 0, "totalTokenCount": 0}
    assert common == Usage()


def test_response_text_then_function_calls_in_order_with_their_ids() -> None:
    calls = [CALL, {"id": "call_2", "type": "function", "function": {"name": "g", "arguments": '{"x": [1]}'}}]
    body, _ = TRANSLATOR.response(completion({"content": "Checking.", "tool_calls": calls}, finish_reason="tool_calls"), CLIENT_REQUEST)
    assert body["candidates"][0]["content"]["parts"] == [
        {"text": "Checking."},
        {"functionCall": {"id": "call_1", "name": "f", "args": {}}},
        {"functionCall": {"id": "call_2", "name": "g", "args": {"x": [1]}}},
    ]


@pytest.mark.parametrize("arguments", ['{"city": "Par', "[1, 2]", None, ""])
def test_response_arguments_that_are_no_json_object_become_empty_args(arguments: Any) -> None:
    call_without_id = {"type": "function", "function": {"name": "f", "arguments": arguments}}
    body, _ = TRANSLATOR.response(completion({"content": None, "tool_calls": [call_without_id]}, finish_reason="length"), CLIENT_REQUEST)
    assert body["candidates"][0]["content"]["parts"] == [{"functionCall": {"name": "f", "args": {}}}]
    assert body["candidates"][0]["finishReason"] == "MAX_TOKENS"


def test_response_refusal_is_text_and_reasoning_is_left_out() -> None:
    body, _ = TRANSLATOR.response(completion({"content": None, "refusal": "I can't help with that.", "reasoning_content": "Hmm."}), CLIENT_REQUEST)
    assert body["candidates"][0]["content"]["parts"] == [{"text": "I can't help with that."}]


def test_response_several_choices_are_candidates() -> None:
    choices = [
        {"index": 0, "message": {"role": "assistant", "content": "One"}, "finish_reason": "stop"},
        {"index": 1, "message": {"role": "assistant", "content": "Two"}, "finish_reason": "length"},
    ]
    body, _ = TRANSLATOR.response({"id": "chatcmpl-1", "model": "m", "choices": choices}, CLIENT_REQUEST)
    assert [(c["index"], c["content"]["parts"], c["finishReason"]) for c in body["candidates"]] == [
        (0, [{"text": "One"}], "STOP"),
        (1, [{"text": "Two"}], "MAX_TOKENS"),
    ]


@pytest.mark.parametrize("body", [{}, {"choices": []}, {"choices": ["x", None]}, [], "x", None, {"choices": [{"message": None}]}])
def test_a_response_of_any_shape_still_has_a_candidate_and_an_id(body: Any) -> None:
    out, usage = TRANSLATOR.response(body, CLIENT_REQUEST)
    assert len(out["candidates"]) == 1 and out["candidates"][0]["content"]["parts"] == [{"text": ""}]
    assert out["responseId"] and usage == Usage()


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
    assert gemini_events(out) == gemini_events(fixture(f"{name}.gemini.sse"))
    assert out == fixture(f"{name}.gemini.sse")  # byte for byte: CRLF CRLF after each event, compact JSON
    assert reported == usage


def test_stream_names_the_model_the_client_asked_for() -> None:
    out, _ = run_stream(fixture("text_stream.openai.sse"), request={"model": "my-alias", "stream": True})
    assert {event["modelVersion"] for event in gemini_events(out)} == {"my-alias"}


TEXT = fixture("text_stream.openai.sse")
TOOL_STREAM = fixture("tool_stream.openai.sse")
WITHOUT_DONE = TEXT.replace(b"data: [DONE]\n\n", b"")
WITHOUT_FINISH = openai_stream(delta(role="assistant", content=""), delta(content="Hel"), done=False)
TEXT_ANSWER = "Hello! ¿Qué tal? 👋"


@pytest.mark.parametrize(
    ("chunks", "finish_reason", "text", "calls"),
    [
        pytest.param([TEXT], "STOP", TEXT_ANSWER, 0, id="complete"),
        pytest.param([WITHOUT_DONE], "STOP", TEXT_ANSWER, 0, id="no-DONE"),
        pytest.param([WITHOUT_FINISH], "OTHER", "Hel", 0, id="cut-off-no-finish-reason-no-DONE"),
        pytest.param([TEXT[: len(TEXT) // 2]], "OTHER", "Hello", 0, id="cut-mid-event"),
        pytest.param([openai_stream(delta(content="Hi"))], "STOP", "Hi", 0, id="DONE-without-finish-reason"),
        pytest.param([TEXT.replace(b"data: [DONE]\n\n", b"data: [DONE]\n")], "STOP", TEXT_ANSWER, 0, id="DONE-without-blank-line"),
        pytest.param([TOOL_STREAM.split(b'"finish_reason":"tool_calls"')[0]], "OTHER", "", 2, id="tool-calls-cut-off"),
        pytest.param([TOOL_STREAM.split(b"Bogot")[0]], "OTHER", "", 2, id="tool-call-cut-mid-arguments"),
        pytest.param([], "OTHER", "", 0, id="empty"),
        pytest.param([b"data: [DONE]\n\n"], "STOP", "", 0, id="only-DONE"),
        pytest.param([b": keep-alive\n\n", b"\n"], "OTHER", "", 0, id="only-comments"),
        pytest.param([TEXT, TEXT], "STOP", TEXT_ANSWER, 0, id="events-after-DONE-ignored"),
        pytest.param([TEXT + b'data: {"choices":[{"delta":{"content":"late"}}]}\n'], "STOP", TEXT_ANSWER, 0, id="event-after-DONE-pending-at-finish"),
    ],
)
def test_stream_has_exactly_one_finish_reason(chunks: list[bytes], finish_reason: str, text: str, calls: int) -> None:
    out, _ = run_stream(*chunks)
    events = gemini_events(out)
    assert_well_formed(events)
    assert assembled(events) == (text, assembled(events)[1], finish_reason)
    assert len(assembled(events)[1]) == calls


def test_stream_function_calls_arrive_whole_with_the_arguments_streamed() -> None:
    provider_arguments: dict[int, str] = {}
    for block in TOOL_STREAM.split(b"\n\n"):
        if block.startswith(b"data: {"):
            for choice in orjson.loads(block[6:])["choices"]:
                for tool_call_delta in choice["delta"].get("tool_calls") or []:
                    index = tool_call_delta["index"]
                    provider_arguments[index] = provider_arguments.get(index, "") + tool_call_delta["function"]["arguments"]
    out, _ = run_stream(TOOL_STREAM)
    _, calls, _ = assembled(gemini_events(out))
    assert [c["args"] for c in calls] == [orjson.loads(provider_arguments[i]) for i in sorted(provider_arguments)]


def test_stream_a_cut_off_call_gets_empty_args() -> None:
    out, _ = run_stream(TOOL_STREAM.split(b"Bogot")[0])
    _, calls, _ = assembled(gemini_events(out))
    assert [c["args"] for c in calls] == [{"location": "Paris, France"}, {}]


def test_stream_text_goes_out_at_once_and_a_call_when_the_next_starts() -> None:
    first = {"index": 0, "id": "call_a", "type": "function", "function": {"name": "f", "arguments": '{"a":1}'}}
    second = {"index": 1, "id": "call_b", "type": "function", "function": {"name": "g", "arguments": ""}}
    out, _ = run_stream(
        openai_stream(
            delta(content="Let me look."),
            delta(tool_calls=[first]),
            delta(tool_calls=[second]),
            delta(tool_calls=[{"index": 1, "function": {"arguments": '{"b":'}}]),
            delta(tool_calls=[{"index": 1, "function": {"arguments": "2}"}}]),
            delta("tool_calls"),
        )
    )
    events = gemini_events(out)
    assert [event["candidates"][0]["content"]["parts"] for event in events] == [
        [{"text": "Let me look."}],
        [{"functionCall": {"id": "call_a", "name": "f", "args": {"a": 1}}}],
        [{"functionCall": {"id": "call_b", "name": "g", "args": {"b": 2}}}],
    ]
    assert assert_well_formed(events)["candidates"][0]["finishReason"] == "STOP"


def test_stream_interleaved_argument_fragments_lose_nothing() -> None:
    out, _ = run_stream(
        openai_stream(
            delta(tool_calls=[{"index": 0, "id": "call_a", "function": {"name": "f", "arguments": '{"a":'}}]),
            delta(tool_calls=[{"index": 1, "id": "call_b", "function": {"name": "g", "arguments": '{"b":2}'}}]),
            delta(tool_calls=[{"index": 0, "function": {"arguments": "1}"}}]),
            delta("tool_calls"),
        )
    )
    events = gemini_events(out)
    assert_well_formed(events)
    assert [c["args"] for c in assembled(events)[1]] == [{"a": 1}, {"b": 2}]


def test_stream_calls_without_index_are_keyed_by_id() -> None:
    out, _ = run_stream(
        openai_stream(
            delta(tool_calls=[{"id": "call_a", "function": {"name": "f", "arguments": '{"n":'}}]),
            delta(tool_calls=[{"function": {"arguments": "1}"}}]),  # continues the open call
            delta(tool_calls=[{"id": "call_b", "function": {"name": "g", "arguments": "{}"}}]),
            delta("stop"),
        )
    )
    events = gemini_events(out)
    assert_well_formed(events)
    assert assembled(events)[1] == [{"id": "call_a", "name": "f", "args": {"n": 1}}, {"id": "call_b", "name": "g", "args": {}}]


REASONING_STREAM = openai_stream(
    delta(role="assistant", reasoning_content="Two plus "),
    delta(reasoning="two is four."),
    delta(content="4"),
    delta("stop"),
    {"choices": [], "usage": {"prompt_tokens": 10, "completion_tokens": 30, "completion_tokens_details": {"reasoning_tokens": 20}}},
)


@pytest.mark.parametrize(("include_thoughts", "thoughts"), [(True, ["Two plus ", "two is four."]), (False, [])])
def test_stream_reasoning_is_thought_parts_when_the_client_asked(include_thoughts: bool, thoughts: list[str]) -> None:
    request = {"model": CLIENT_MODEL, "generation_config": {"thinking_config": {"include_thoughts": include_thoughts}}}
    out, usage = run_stream(REASONING_STREAM, request=request)
    events = gemini_events(out)
    last = assert_well_formed(events)
    parts = [part for event in events for part in event["candidates"][0]["content"]["parts"]]
    assert [part["text"] for part in parts if part.get("thought")] == thoughts
    assert assembled(events)[0] == "4"
    assert last["usageMetadata"] == {"promptTokenCount": 10, "candidatesTokenCount": 10, "totalTokenCount": 40, "thoughtsTokenCount": 20}
    assert usage == Usage(input_tokens=10, output_tokens=30, reasoning_tokens=20)


def test_stream_several_candidates_each_finish_in_the_last_event() -> None:
    out, _ = run_stream(
        openai_stream(
            delta(content="One", index=0),
            delta(content="Two", index=1),
            delta(tool_calls=[{"index": 0, "id": "call_1", "function": {"name": "f", "arguments": "{}"}}], index=1),
            delta("stop", index=0),
            delta("tool_calls", index=1),
        )
    )
    events = gemini_events(out)
    last = assert_well_formed(events)
    assert [(c["index"], c["finishReason"]) for c in last["candidates"]] == [(0, "STOP"), (1, "STOP")]
    assert assembled(events, 0)[:2] == ("One", [])
    assert assembled(events, 1)[:2] == ("Two", [{"id": "call_1", "name": "f", "args": {}}])


@pytest.mark.parametrize(
    ("error", "code", "status", "message"),
    [
        ({"message": "Slow down", "type": "requests", "code": "rate_limit_exceeded"}, 429, "RESOURCE_EXHAUSTED", "Slow down"),
        ({"message": "Bad input", "type": "invalid_request_error", "code": None}, 400, "INVALID_ARGUMENT", "Bad input"),
        ({"message": "Provider returned error", "code": 502}, 502, "INTERNAL", "Provider returned error"),  # OpenRouter sends a status
        ({"message": "Overloaded", "code": 503}, 503, "UNAVAILABLE", "Overloaded"),
        ("boom", 500, "INTERNAL", "boom"),
        ({}, 500, "INTERNAL", "the provider's stream reported an error"),
    ],
)
def test_stream_error_from_the_provider_ends_the_client_stream(error: Any, code: int, status: str, message: str) -> None:
    stream = TRANSLATOR.stream({"model": CLIENT_MODEL})
    out = stream.feed(openai_stream(delta(content="Hel")).replace(b"data: [DONE]", b"data: " + orjson.dumps({"error": error})))
    events = gemini_events(out)
    assert events[-1] == {"error": {"code": code, "message": message, "status": status}}
    assert finish_events(events) == []  # an error ends the stream, as Gemini's own do
    assert stream.feed(b'data: {"choices":[{"delta":{"content":"more"}}]}\n\n') == b""
    assert stream.finish() == b""


def test_stream_a_null_error_is_no_error() -> None:
    out, _ = run_stream(openai_stream({**delta(content="Hi"), "error": None}))
    assert assembled(gemini_events(out)) == ("Hi", [], "STOP")


@pytest.mark.parametrize("event", [b"data: {not json\n\n", b"data: [1, 2]\n\n", b"data: \xff\xfe\n\n"])
def test_stream_event_that_is_not_a_json_object_is_an_error(event: bytes) -> None:
    out, _ = run_stream(openai_stream(delta(content="Hi"), done=False), event)
    assert gemini_events(out)[-1]["error"]["code"] == 502


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def test_golden_error() -> None:
    assert orjson.loads(TRANSLATOR.error(429, fixture("error_429.openai.json"))) == fixture_json("error_429.gemini.json")


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (400, "INVALID_ARGUMENT"),
        (401, "UNAUTHENTICATED"),
        (402, "FAILED_PRECONDITION"),
        (403, "PERMISSION_DENIED"),
        (404, "NOT_FOUND"),
        (408, "DEADLINE_EXCEEDED"),
        (409, "ABORTED"),
        (413, "INVALID_ARGUMENT"),
        (422, "INVALID_ARGUMENT"),
        (429, "RESOURCE_EXHAUSTED"),
        (499, "CANCELLED"),
        (500, "INTERNAL"),
        (501, "UNIMPLEMENTED"),
        (502, "INTERNAL"),
        (503, "UNAVAILABLE"),
        (504, "DEADLINE_EXCEEDED"),
        (529, "UNAVAILABLE"),
    ],
)
def test_error_status_follows_the_http_status(code: int, status: str) -> None:
    body = orjson.dumps({"error": {"message": "m", "type": "whatever", "param": None, "code": None}})
    assert orjson.loads(TRANSLATOR.error(code, body)) == {"error": {"code": code, "message": "m", "status": status}}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"error": "model not loaded"}', "model not loaded"),
        (b'{"object": "error", "message": "The model `x` does not exist.", "code": 404}', "The model `x` does not exist."),  # vLLM
        (b'{"detail": "Not Found"}', "Not Found"),
        (b"<html><body>502 Bad Gateway</body></html>\n", "<html><body>502 Bad Gateway</body></html>"),
        (b"\xff\xfeoops", "\ufffd\ufffdoops"),
        (b"", "the provider answered HTTP 502 without a message"),
    ],
)
def test_error_message_from_any_provider_body(body: bytes, message: str) -> None:
    assert orjson.loads(TRANSLATOR.error(502, body)) == {"error": {"code": 502, "message": message, "status": "INTERNAL"}}


# ---------------------------------------------------------------------------------------------
# Google's SDK
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def genai() -> Any:
    return pytest.importorskip("google.genai")


@pytest.mark.parametrize("name", ["text_response", "tool_response"])
def test_the_sdks_type_takes_every_response(genai: Any, name: str) -> None:
    body, _ = TRANSLATOR.response(fixture_json(f"{name}.openai.json"), CLIENT_REQUEST)
    genai.types.GenerateContentResponse.model_validate(body)  # it forbids fields it does not know


@pytest.mark.parametrize("chunks", [[TEXT], [TOOL_STREAM], [REASONING_STREAM], [WITHOUT_FINISH], [TOOL_STREAM.split(b"Bogot")[0]], []])
def test_the_sdks_type_takes_every_event(genai: Any, chunks: list[bytes]) -> None:
    out, _ = run_stream(*chunks, request={"model": CLIENT_MODEL, "generationConfig": {"thinkingConfig": {"includeThoughts": True}}})
    for event in gemini_events(out):
        genai.types.GenerateContentResponse.model_validate(event)


def gateway(answer: bytes, status: int = 200) -> Gateway:
    """The gateway between Google's SDK and an OpenAI provider, answering `answer` (a golden OpenAI body or stream)."""
    return Gateway(TRANSLATOR, UPSTREAM, answer, status)


def test_the_sdk_generates_content(genai: Any) -> None:
    provider = gateway(fixture("text_response.openai.json"))
    config = genai.types.GenerateContentConfig(
        system_instruction="You are a cat. Your name is Neko.",
        temperature=0.5,
        max_output_tokens=100,
        stop_sequences=["Title"],
        safety_settings=[genai.types.SafetySetting(category="HARM_CATEGORY_HARASSMENT", threshold="BLOCK_NONE")],
        thinking_config=genai.types.ThinkingConfig(thinking_budget=1024),
    )
    response = sdk_client(provider).models.generate_content(model=CLIENT_MODEL, contents="Hello there", config=config)
    assert response.text == "Hello! How can I assist you today?"
    assert response.candidates[0].finish_reason == genai.types.FinishReason.STOP
    assert response.usage_metadata.total_token_count == 29
    assert provider.requests[0]["messages"] == [{"role": "system", "content": "You are a cat. Your name is Neko."}, {"role": "user", "content": "Hello there"}]
    assert provider.requests[0]["reasoning_effort"] == "low"


def test_the_sdk_streams_content(genai: Any) -> None:
    provider = gateway(TEXT)
    chunks = list(sdk_client(provider).models.generate_content_stream(model=CLIENT_MODEL, contents="Hello"))
    assert "".join(chunk.text for chunk in chunks) == TEXT_ANSWER
    assert [chunk.candidates[0].finish_reason for chunk in chunks][-1] == genai.types.FinishReason.STOP
    assert chunks[-1].usage_metadata.prompt_token_count == 9
    assert provider.requests[0]["stream"] is True


def test_the_sdk_takes_structured_output_with_a_pydantic_schema(genai: Any) -> None:
    provider = gateway(fixture("text_response.openai.json"))
    ask_for_recipes(provider)
    schema_sent = provider.requests[0]["response_format"]["json_schema"]["schema"]
    assert schema_sent["type"] == "array" and schema_sent["items"]["properties"]["ingredients"]["type"] == "array"


@pytest.mark.parametrize("name", ["tool_response", "tool_stream"])
def test_the_sdk_calls_a_function_and_answers_it(genai: Any, name: str) -> None:
    streamed = name == "tool_stream"
    provider = gateway(fixture(f"{name}.openai.{'sse' if streamed else 'json'}"))
    client = sdk_client(provider)
    config = genai.types.GenerateContentConfig(
        tools=[get_weather], automatic_function_calling=genai.types.AutomaticFunctionCallingConfig(disable=True)
    )
    question = genai.types.Content(role="user", parts=[genai.types.Part.from_text(text="Weather in Paris and Bogotá?")])
    if streamed:
        parts = [part for chunk in client.models.generate_content_stream(model=CLIENT_MODEL, contents=[question], config=config) for part in chunk.candidates[0].content.parts]
    else:
        parts = client.models.generate_content(model=CLIENT_MODEL, contents=[question], config=config).candidates[0].content.parts
    calls = [part.function_call for part in parts if part.function_call]
    assert calls and all(call.args for call in calls)
    assert provider.requests[0]["tools"][0]["function"]["name"] == "get_weather"
    assert provider.requests[0]["tools"][0]["function"]["parameters"]["properties"]["location"]["type"] == "string"

    # The next turn: the calls as the model made them, and their results as the SDK builds them (by name, no id).
    answers = [genai.types.Part.from_function_response(name=call.name, response={"result": "15 degrees"}) for call in calls]
    history = [question, genai.types.Content(role="model", parts=[p for p in parts if p.function_call]), genai.types.Content(role="user", parts=answers)]
    provider.answer = fixture("text_response.openai.json")
    client.models.generate_content(model=CLIENT_MODEL, contents=history, config=config)
    messages = provider.requests[-1]["messages"]
    call_ids = [tool_call["id"] for tool_call in messages[1]["tool_calls"]]
    assert call_ids == [call.id for call in calls]  # the provider's own ids came back
    assert [message["tool_call_id"] for message in messages[2:]] == call_ids


@pytest.mark.parametrize(("status", "kind"), [(429, "ClientError"), (401, "ClientError"), (503, "ServerError")])
def test_the_sdk_raises_a_provider_error_with_its_code_and_status(genai: Any, status: int, kind: str) -> None:
    provider = gateway(fixture("error_429.openai.json"), status=status)
    with pytest.raises(getattr(genai.errors, kind)) as raised:
        sdk_client(provider).models.generate_content(model=CLIENT_MODEL, contents="Hi")
    assert raised.value.code == status and raised.value.status == orjson.loads(TRANSLATOR.error(status, b""))["error"]["status"]
    assert raised.value.message.startswith("Rate limit reached")


def test_the_sdk_raises_an_error_in_the_stream(genai: Any) -> None:
    provider = gateway(fixture("error_stream.openai.sse"))
    chunks = []
    with pytest.raises(genai.errors.ServerError) as raised:
        for chunk in sdk_client(provider).models.generate_content_stream(model=CLIENT_MODEL, contents="Hi"):
            chunks.append(chunk.text)
    assert chunks == ["Hello"] and raised.value.code == 500 and raised.value.status == "INTERNAL"


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
texts = st.text(max_size=8)


def mostly(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Valid values, and now and then any JSON value, so examples get deep into the request before failing."""
    return st.integers(0, 7).flatmap(lambda draw: valid if draw else json_values)


names = st.sampled_from(["f", "g"])
schemas = st.recursive(
    st.fixed_dictionaries({"type": st.sampled_from(["STRING", "INTEGER", "number", "TYPE_UNSPECIFIED", "x"])}, optional={"nullable": mostly(st.booleans()), "enum": st.lists(texts, max_size=2), "format": st.sampled_from(["enum", "date-time"])}),
    lambda children: st.fixed_dictionaries(
        {"type": st.sampled_from(["OBJECT", "ARRAY"])},
        optional={"properties": st.dictionaries(texts, children, max_size=3), "items": children, "anyOf": st.lists(children, max_size=2), "propertyOrdering": st.lists(texts, max_size=2), "maxItems": mostly(st.sampled_from(["3", 3, "x"]))},
    ),
    max_leaves=8,
)
parts = st.one_of(
    st.fixed_dictionaries({"text": mostly(texts)}, optional={"thought": mostly(st.booleans()), "thoughtSignature": texts}),
    st.fixed_dictionaries({"inlineData": st.fixed_dictionaries({"mimeType": st.sampled_from(["image/png", "audio/wav"]), "data": mostly(texts)})}),
    st.fixed_dictionaries({"fileData": st.fixed_dictionaries({"fileUri": st.sampled_from(["https://x/a.png", "gs://b/a.png"])}, optional={"mimeType": texts})}),
    st.fixed_dictionaries({"functionCall": st.fixed_dictionaries({"name": mostly(names)}, optional={"id": mostly(texts), "args": mostly(st.dictionaries(texts, json_values, max_size=2))})}),
    st.fixed_dictionaries({"functionResponse": st.fixed_dictionaries({"name": mostly(names)}, optional={"id": mostly(texts), "response": mostly(st.dictionaries(texts, json_values, max_size=2))})}),
    json_values,
)
gemini_contents = st.lists(
    st.fixed_dictionaries({"parts": mostly(st.lists(parts, max_size=3))}, optional={"role": st.sampled_from(["user", "model"] * 4 + ["function", "system"])}),
    min_size=1,
    max_size=4,
)
request_shaped = st.fixed_dictionaries(
    {"contents": mostly(gemini_contents), "model": texts, "stream": st.booleans()},
    optional={
        "systemInstruction": mostly(st.fixed_dictionaries({"parts": st.lists(parts, max_size=2)})),
        "tools": mostly(st.lists(st.fixed_dictionaries({"functionDeclarations": st.lists(st.fixed_dictionaries({"name": mostly(names)}, optional={"parameters": mostly(schemas), "parametersJsonSchema": mostly(st.dictionaries(texts, json_values, max_size=2))}), max_size=2)}), max_size=2)),
        "toolConfig": mostly(st.fixed_dictionaries({"functionCallingConfig": st.fixed_dictionaries({}, optional={"mode": st.sampled_from(["AUTO", "ANY", "NONE", "VALIDATED", "x"]), "allowedFunctionNames": mostly(st.lists(names, max_size=2))})})),
        "safetySettings": mostly(st.lists(st.fixed_dictionaries({"category": texts, "threshold": texts}), max_size=2)),
        "generationConfig": mostly(
            st.fixed_dictionaries(
                {},
                optional={
                    "temperature": mostly(st.floats(0, 2)),
                    "topP": mostly(st.floats(0, 1)),
                    "topK": st.integers(1, 40),
                    "maxOutputTokens": mostly(st.integers(1, 4096)),
                    "stopSequences": mostly(st.lists(texts, max_size=2)),
                    "candidateCount": mostly(st.integers(0, 3)),
                    "responseMimeType": st.sampled_from(["text/plain", "application/json", "text/x.enum"]),
                    "responseSchema": mostly(schemas),
                    "responseJsonSchema": mostly(st.dictionaries(texts, json_values, max_size=2)),
                    "thinkingConfig": mostly(st.fixed_dictionaries({}, optional={"thinkingBudget": mostly(st.integers(-2, 32768)), "thinkingLevel": st.sampled_from(["low", "HIGH", "x"]), "includeThoughts": mostly(st.booleans())})),
                    "mediaResolution": st.sampled_from(["MEDIA_RESOLUTION_LOW", "x"]),
                },
            )
        ),
    },
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=12), json_values, max_size=6) | request_shaped)
def test_request_on_any_json_object_raises_nothing_but_unsupported_feature(body: dict[str, Any]) -> None:
    try:
        out = TRANSLATOR.request(body, UPSTREAM)
    except UnsupportedFeature as e:
        assert isinstance(e.param, str) and isinstance(e.message, str)
    else:
        orjson.dumps(out)  # what it returns can be sent


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["text_stream", "tool_stream", "error_stream"]), st.data())
def test_a_stream_split_anywhere_translates_as_it_does_whole(name: str, data: st.DataObject) -> None:
    stream = fixture(f"{name}.openai.sse")
    pieces = split(stream, data.draw(st.lists(st.integers(0, len(stream)), max_size=12)))
    assert run_stream(*pieces) == run_stream(stream)


def test_a_stream_split_at_every_byte_translates_as_it_does_whole() -> None:
    for name in ("text_stream", "tool_stream"):
        stream = fixture(f"{name}.openai.sse")
        assert run_stream(*(stream[i : i + 1] for i in range(len(stream)))) == run_stream(stream)


golden_lines = [line + b"\n" for name in ("text_stream", "tool_stream") for line in fixture(f"{name}.openai.sse").split(b"\n")]
stream_pieces = st.sampled_from(golden_lines) | st.binary(max_size=40) | json_values.map(lambda value: b"data: " + orjson.dumps(value) + b"\n\n")


@settings(max_examples=300, deadline=None)
@given(st.lists(stream_pieces, max_size=12))
def test_any_bytes_fed_to_the_stream_translator_end_one_way_or_the_other(pieces: list[bytes]) -> None:
    out, _ = run_stream(*pieces)
    events = gemini_events(out)
    assert events
    if "error" in events[-1]:
        assert finish_events(events) == []
    else:
        assert_well_formed(events)


def test_reasoning_reaches_only_a_client_that_asked_for_thoughts() -> None:
    answer = completion({"content": "4", "reasoning_content": "Hmm."})
    asked = {**CLIENT_REQUEST, "generationConfig": {"thinkingConfig": {"includeThoughts": True}}}
    body, _ = TRANSLATOR.response(answer, asked)
    assert body["candidates"][0]["content"]["parts"] == [{"text": "Hmm.", "thought": True}, {"text": "4"}]
    body, _ = TRANSLATOR.response(answer, CLIENT_REQUEST)
    assert body["candidates"][0]["content"]["parts"] == [{"text": "4"}]


def test_model_version_is_the_providers_model_or_else_the_one_the_client_asked_for() -> None:
    assert TRANSLATOR.response({**completion({"content": "4"}), "model": "gpt-4o-mini-2024"}, CLIENT_REQUEST)[0]["modelVersion"] == "gpt-4o-mini-2024"
    assert TRANSLATOR.response({"choices": []}, CLIENT_REQUEST)[0]["modelVersion"] == CLIENT_MODEL
