"""OpenAI Chat Completions clients served by a Gemini generateContent provider: the translation, as a specification.

Golden exchanges live in tests/fixtures/openai_gemini (their README names the API reference
page each comes from); the tables below pin one feature per row. The official `openai` SDK
reads what the translator answers, as a client would.
"""

from __future__ import annotations

import itertools
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
    PNG,
    REFUSED_BY_EVERY_PAIR,
    any_json_object,
    assert_ended_one_way_or_the_other,
    assistant,
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
from aiplane.translate.common import THINKING_BUDGETS
from aiplane.translate.gemini_provider_wire import MAX_THINKING_BUDGET, SKIP_THOUGHT_SIGNATURE
from aiplane.translate.openai_gemini import OpenAIToGemini

UPSTREAM = "gemini-2.5-flash-preview-09-2025"
CLIENT_MODEL = "gemini-2.5-flash"
CLIENT_REQUEST = {"model": CLIENT_MODEL}  # what a non-streamed answer is to
TRANSLATOR: Translator = OpenAIToGemini()
fixture, fixture_json = fixture_readers("openai_gemini")
run_stream = stream_runner(TRANSLATOR, CLIENT_MODEL, b'data: {"candidates": []}\r\n\r\n', stream=True)
GENERATED_ID = re.compile(r"call_[0-9a-f]{32}")


def gemini_stream(*events: dict[str, Any]) -> bytes:
    """Events as Gemini's `alt=sse` stream writes them: one `data:` line each, CRLF line ends."""
    return b"".join(b"data: " + orjson.dumps(event) + b"\r\n\r\n" for event in events)


def response(*parts: dict[str, Any], finish: str | None = "STOP", usage: Any = None, **fields: Any) -> dict[str, Any]:
    """A GenerateContentResponse (a whole response, or one stream event) with one candidate."""
    candidate: dict[str, Any] = {"content": {"parts": list(parts), "role": "model"}, "index": 0}
    if finish is not None:
        candidate["finishReason"] = finish
    body: dict[str, Any] = {"candidates": [candidate], "modelVersion": UPSTREAM, "responseId": "resp_1", **fields}
    if usage is not None:
        body["usageMetadata"] = usage
    return body


def event(*parts: dict[str, Any], finish: str | None = None, usage: Any = None, **fields: Any) -> dict[str, Any]:
    return response(*parts, finish=finish, usage=usage, **fields)


def txt(value: str, **extra: Any) -> dict[str, Any]:
    return {"text": value, **extra}


def thought(value: str) -> dict[str, Any]:
    return {"text": value, "thought": True}


def function_call(name: str, args: Any, **extra: Any) -> dict[str, Any]:
    return {"functionCall": {"name": name, "args": args, **extra}}


def base_request(**fields: Any) -> dict[str, Any]:
    return {"model": CLIENT_MODEL, "messages": [{"role": "user", "content": "Hi"}], **fields}


def translated(**fields: Any) -> dict[str, Any]:
    return TRANSLATOR.request(base_request(**fields), UPSTREAM)


def test_the_pair() -> None:
    assert (TRANSLATOR.client, TRANSLATOR.provider) == ("openai", "gemini")


# ---------------------------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["text_request", "tool_request"])
def test_golden_requests(name: str) -> None:
    assert TRANSLATOR.request(fixture_json(f"{name}.openai.json"), UPSTREAM) == fixture_json(f"{name}.gemini.json")


def test_the_request_is_not_modified() -> None:
    body = fixture_json("tool_request.openai.json")
    TRANSLATOR.request(body, UPSTREAM)
    assert body == fixture_json("tool_request.openai.json")


def test_the_path_names_the_model_and_chooses_to_stream() -> None:
    out = translated(stream=True, stream_options={"include_usage": True})
    assert not {"model", "stream", "stream_options", "streamOptions"} & set(out) and "generationConfig" not in out


DECLARATION = {"name": "get_weather", "description": "Weather now", "parametersJsonSchema": {"type": "object", "properties": {"city": {"type": "string"}}}}
TOOLS = [{"functionDeclarations": [DECLARATION]}]


def signed(part: dict[str, Any]) -> dict[str, Any]:
    return {**part, "thoughtSignature": SKIP_THOUGHT_SIGNATURE}


def answer(name: str, output: str) -> dict[str, Any]:
    return {"functionResponse": {"name": name, "response": {"output": output}}}


def text_part(value: str, **extra: Any) -> dict[str, Any]:
    return {"type": "text", "text": value, **extra}


def user(*parts: dict[str, Any]) -> dict[str, Any]:
    return {"role": "user", "parts": list(parts)}


def model(*parts: dict[str, Any]) -> dict[str, Any]:
    return {"role": "model", "parts": list(parts)}


def image(url: str, **extra: Any) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": url, **extra}}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({}, {"contents": [user(txt("Hi"))], "systemInstruction": ABSENT, "generationConfig": ABSENT, "tools": ABSENT}, id="minimal"),
        # System and developer messages.
        pytest.param(
            {"messages": [{"role": "system", "content": "Be brief."}, {"role": "developer", "content": [text_part("Be kind.")]}, {"role": "user", "content": "Hi"}]},
            {"systemInstruction": {"parts": [txt("Be brief.\n\nBe kind.")]}, "contents": [user(txt("Hi"))]},
            id="system-and-developer-joined",
        ),
        pytest.param(
            {"messages": [{"role": "user", "content": "Hi"}, {"role": "system", "content": "Answer in French."}, {"role": "user", "content": "Bye"}]},
            {"systemInstruction": {"parts": [txt("Answer in French.")]}, "contents": [user(txt("Hi"), txt("Bye"))]},
            id="late-system-message-joins-the-instruction",
        ),
        pytest.param({"messages": [{"role": "system", "content": ""}, {"role": "user", "content": "Hi"}]}, {"systemInstruction": ABSENT}, id="empty-system-omitted"),
        pytest.param(
            {"messages": [{"role": "system", "content": [text_part("Long rules.", **BREAKPOINT)]}, {"role": "user", "content": "Hi"}]},
            {"systemInstruction": {"parts": [txt("Long rules.")]}},
            id="system-cache-breakpoint-dropped",
        ),
        # User content parts.
        pytest.param({"messages": user_parts(text_part("Hi"), text_part(""), text_part("there", **BREAKPOINT))}, {"contents": [user(txt("Hi"), txt("there"))]}, id="text-parts-empty-dropped"),
        pytest.param(
            {"messages": user_parts(text_part("What is this?"), image(f"data:image/png;base64,{PNG}", detail="high"))},
            {"contents": [user(txt("What is this?"), {"inlineData": {"mimeType": "image/png", "data": PNG}})]},
            id="data-url-image-inline-detail-dropped",
        ),
        pytest.param({"messages": user_parts(image("https://example.com/cat.jpg"))}, {"contents": [user({"fileData": {"fileUri": "https://example.com/cat.jpg", "mimeType": "image/jpeg"}})]}, id="https-image-file-data"),
        pytest.param(
            {"messages": user_parts(image("HTTP://example.com/a/b.PNG?size=2#top"))},
            {"contents": [user({"fileData": {"fileUri": "HTTP://example.com/a/b.PNG?size=2#top", "mimeType": "image/png"}})]},
            id="image-type-from-the-path-only",
        ),
        pytest.param({"messages": user_parts(image("https://example.com/render?id=7"))}, {"contents": [user({"fileData": {"fileUri": "https://example.com/render?id=7"}})]}, id="image-type-unknown-left-out"),
        pytest.param({"messages": user_parts(image("https://example.com/v1.2/cat"))}, {"contents": [user({"fileData": {"fileUri": "https://example.com/v1.2/cat"}})]}, id="dot-in-a-folder-is-no-extension"),
        pytest.param(
            {"messages": user_parts({"type": "file", "file": {"filename": "paper.pdf", "file_data": "data:application/pdf;base64,JVBERi0x"}})},
            {"contents": [user({"inlineData": {"mimeType": "application/pdf", "data": "JVBERi0x"}})]},
            id="pdf-file-inline-filename-dropped",
        ),
        pytest.param(
            {"messages": user_parts({"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}})},
            {"contents": [user({"inlineData": {"mimeType": "audio/wav", "data": "UklGRg=="}})]},
            id="input-audio-inline",
        ),
        pytest.param({"messages": [{"role": "user", "content": "Hi", "name": "alice"}]}, {"contents": [user(txt("Hi"))]}, id="name-dropped"),
        pytest.param(
            {"messages": [{"role": "user", "content": ""}, {"role": "user", "content": "Hi"}]},
            {"contents": [user(txt("Hi"))]},
            id="empty-message-dropped",
        ),
        # Assistant turns.
        pytest.param(
            {"messages": [{"role": "user", "content": "Weather?"}, {"role": "assistant", "content": "", "tool_calls": [call("call_1", '{"city": "Zürich", "days": [1, 2]}')]}]},
            {"contents": [user(txt("Weather?")), model(signed({"functionCall": {"name": "get_weather", "args": {"city": "Zürich", "days": [1, 2]}}}))]},
            id="tool_calls-to-functionCall-signed-empty-text-dropped",
        ),
        pytest.param(
            {"messages": [{"role": "user", "content": "Weather?"}, {"role": "assistant", "content": [text_part("Checking.")], "tool_calls": [call("call_1", ""), call("call_2", "{}", "now")]}]},
            {
                "contents": [
                    user(txt("Weather?")),
                    model(txt("Checking."), signed({"functionCall": {"name": "get_weather", "args": {}}}), {"functionCall": {"name": "now", "args": {}}}),
                ]
            },
            id="text-then-calls-only-the-first-call-signed",
        ),
        pytest.param(
            {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": None, "refusal": "I can't help with that."}]},
            {"contents": [user(txt("Hi")), model(txt("I can't help with that."))]},
            id="assistant-refusal-is-text",
        ),
        pytest.param(
            {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": [text_part("One."), {"type": "refusal", "refusal": "No."}]}]},
            {"contents": [user(txt("Hi")), model(txt("One."), txt("No."))]},
            id="assistant-parts",
        ),
        pytest.param(
            {"messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4", "reasoning_content": "Easy."}]},
            {"contents": [user(txt("2+2?")), model(txt("4"))]},
            id="reasoning_content-dropped",
        ),
        pytest.param(
            {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hel"}, {"role": "assistant", "content": "lo"}]},
            {"contents": [user(txt("Hi")), model(txt("Hel"), txt("lo"))]},
            id="consecutive-assistant-turns-merged",
        ),
        pytest.param(
            {"messages": [{"role": "assistant", "content": "Hello! Ask me anything."}, {"role": "user", "content": "Hi"}]},
            {"contents": [model(txt("Hello! Ask me anything.")), user(txt("Hi"))]},
            id="conversation-may-open-with-the-model",
        ),
        # Tool results.
        pytest.param(
            {
                "messages": [
                    {"role": "user", "content": "Weather?"},
                    {"role": "assistant", "content": None, "tool_calls": [call("call_1", '{"city": "Paris"}'), call("call_2", '{"q": "Oslo"}', "search")]},
                    {"role": "tool", "tool_call_id": "call_1", "content": "15 degrees"},
                    {"role": "tool", "tool_call_id": "call_2", "content": [text_part("Rain"), text_part("Wind")]},
                    {"role": "user", "content": "And tomorrow?"},
                ]
            },
            {
                "contents": [
                    user(txt("Weather?")),
                    model(signed({"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}), {"functionCall": {"name": "search", "args": {"q": "Oslo"}}}),
                    user(answer("get_weather", "15 degrees"), answer("search", "Rain\n\nWind"), txt("And tomorrow?")),
                ]
            },
            id="tool-messages-name-their-function-and-join-the-next-user-turn",
        ),
        pytest.param(
            {
                "messages": [
                    {"role": "assistant", "content": None, "tool_calls": [call("call_1", "{}")]},
                    {"role": "user", "content": "Also this."},
                    {"role": "tool", "tool_call_id": "call_1", "content": '{"ok": true}'},
                ]
            },
            {"contents": [model(signed({"functionCall": {"name": "get_weather", "args": {}}})), user(answer("get_weather", '{"ok": true}'), txt("Also this."))]},
            id="function-responses-first-in-their-turn-json-text-kept-as-output",
        ),
        pytest.param(
            {
                "messages": [
                    {"role": "user", "content": "Go"},
                    {"role": "assistant", "content": None, "tool_calls": [call("call_1", "{}", "step_one")]},
                    {"role": "tool", "tool_call_id": "call_1", "content": "done"},
                    {"role": "assistant", "content": None, "tool_calls": [call("call_2", "{}", "step_two")]},
                    {"role": "tool", "tool_call_id": "call_2", "content": ""},
                ]
            },
            {
                "contents": [
                    user(txt("Go")),
                    model(signed({"functionCall": {"name": "step_one", "args": {}}})),
                    user(answer("step_one", "done")),
                    model(signed({"functionCall": {"name": "step_two", "args": {}}})),
                    user(answer("step_two", "")),
                ]
            },
            id="every-step-of-a-tool-loop-signed",
        ),
        # Tools.
        pytest.param({"tools": [FUNCTION]}, {"tools": TOOLS, "toolConfig": ABSENT}, id="tools-json-schema"),
        pytest.param({"tools": [{"type": "function", "function": {"name": "now"}}]}, {"tools": [{"functionDeclarations": [{"name": "now"}]}]}, id="tool-without-parameters"),
        pytest.param(
            {"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "$defs": {"a": {"type": "string"}}, "properties": {"x": {"$ref": "#/$defs/a"}}}}}]},
            {"tools": [{"functionDeclarations": [{"name": "f", "parametersJsonSchema": {"type": "object", "$defs": {"a": {"type": "string"}}, "properties": {"x": {"$ref": "#/$defs/a"}}}}]}]},
            id="tool-schema-passed-whole",
        ),
        pytest.param({"tools": [{"type": "function", "function": {**FUNCTION["function"], "strict": True}}]}, {"tools": TOOLS}, id="tool-strict-dropped"),
        pytest.param({"tools": [FUNCTION], "tool_choice": "auto"}, {"toolConfig": {"functionCallingConfig": {"mode": "AUTO"}}}, id="tool_choice-auto"),
        pytest.param({"tools": [FUNCTION], "tool_choice": "required"}, {"toolConfig": {"functionCallingConfig": {"mode": "ANY"}}}, id="tool_choice-required"),
        pytest.param({"tools": [FUNCTION], "tool_choice": "none"}, {"toolConfig": {"functionCallingConfig": {"mode": "NONE"}}}, id="tool_choice-none"),
        pytest.param(
            {"tools": [FUNCTION], "tool_choice": {"type": "function", "function": {"name": "get_weather"}}},
            {"toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}}},
            id="tool_choice-named",
        ),
        pytest.param({"tools": [FUNCTION], "parallel_tool_calls": False}, {"tools": TOOLS, "toolConfig": ABSENT}, id="parallel_tool_calls-dropped"),
        pytest.param({"tools": [], "tool_choice": "required"}, {"tools": ABSENT, "toolConfig": ABSENT}, id="no-tools-no-tool_choice"),
        # Generation config.
        pytest.param({"max_tokens": 256}, {"generationConfig": {"maxOutputTokens": 256}}, id="max_tokens"),
        pytest.param({"max_completion_tokens": 300, "max_tokens": 256}, {"generationConfig": {"maxOutputTokens": 300}}, id="max_completion_tokens-wins"),
        pytest.param({"stop": "END"}, {"generationConfig": {"stopSequences": ["END"]}}, id="stop-string"),
        pytest.param({"stop": ["\n\nHuman:", "END"]}, {"generationConfig": {"stopSequences": ["\n\nHuman:", "END"]}}, id="stop-list"),
        pytest.param({"stop": []}, {"generationConfig": ABSENT}, id="stop-empty"),
        pytest.param({"temperature": 1.5, "top_p": 0.9}, {"generationConfig": {"temperature": 1.5, "topP": 0.9}}, id="temperature-top_p"),
        pytest.param({"seed": 42}, {"generationConfig": {"seed": 42}}, id="seed"),
        pytest.param(
            {"presence_penalty": 0.5, "frequency_penalty": -1}, {"generationConfig": {"presencePenalty": 0.5, "frequencyPenalty": -1}}, id="penalties"
        ),
        pytest.param({"presence_penalty": 0, "frequency_penalty": 0.0}, {"generationConfig": ABSENT}, id="zero-penalties-not-sent"),
        pytest.param({"response_format": {"type": "json_object"}}, {"generationConfig": {"responseMimeType": "application/json"}}, id="response_format-json_object"),
        pytest.param(
            {"response_format": {"type": "json_schema", "json_schema": {"name": "answer", "strict": True, "schema": {"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": False}}}},
            {"generationConfig": {"responseMimeType": "application/json", "responseJsonSchema": {"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": False}}},
            id="response_format-json_schema",
        ),
        pytest.param({"response_format": {"type": "text"}}, {"generationConfig": ABSENT}, id="response_format-text"),
        # Fields that ask for nothing, and hints.
        pytest.param(
            {"n": 1, "logprobs": False, "top_logprobs": 0, "logit_bias": {}, "modalities": ["text"], "verbosity": "medium", "store": False},
            {"generationConfig": ABSENT},
            id="defaults-accepted",
        ),
        pytest.param(
            {"seed": None, "audio": None, "prediction": None, "web_search_options": None, "functions": None, "temperature": None, "tools": None, "reasoning_effort": None},
            {"generationConfig": ABSENT, "tools": ABSENT},
            id="nulls-accepted",
        ),
        pytest.param(
            {
                "user": "user-42",
                "safety_identifier": "hash-42",
                "metadata": {"app": "x"},
                "service_tier": "flex",
                "prompt_cache_key": "k",
                "prompt_cache_retention": "24h",
                "prompt_cache_options": {"ttl": "30m"},
                "stream": False,
            },
            {"generationConfig": ABSENT, "user": ABSENT, "metadata": ABSENT},
            id="hints-dropped",
        ),
    ],
)
def test_request_features(fields: dict[str, Any], expected: dict[str, Any]) -> None:
    out = translated(**fields)
    assert {key: out.get(key, ABSENT) for key in expected} == expected
    orjson.dumps(out)


@pytest.mark.parametrize(
    ("effort", "thinking"),
    [
        ("minimal", {"thinkingBudget": 1024, "includeThoughts": True}),
        ("low", {"thinkingBudget": 2048, "includeThoughts": True}),
        ("medium", {"thinkingBudget": 8192, "includeThoughts": True}),
        ("high", {"thinkingBudget": 16384, "includeThoughts": True}),
        ("xhigh", {"thinkingBudget": 24576, "includeThoughts": True}),
        ("max", {"thinkingBudget": 24576, "includeThoughts": True}),  # within what every 2.5 model that thinks accepts
        ("none", {"thinkingBudget": 0}),
    ],
)
def test_reasoning_effort_becomes_a_thinking_budget(effort: str, thinking: dict[str, Any]) -> None:
    out = translated(reasoning_effort=effort, max_completion_tokens=30000)
    assert out["generationConfig"] == {"maxOutputTokens": 30000, "thinkingConfig": thinking}


def test_thinking_budgets_are_the_shared_scale_capped() -> None:
    assert all(translated(reasoning_effort=e)["generationConfig"]["thinkingConfig"]["thinkingBudget"] == min(b, MAX_THINKING_BUDGET) for e, b in THINKING_BUDGETS.items())


def test_a_tool_message_takes_the_name_of_the_latest_call_with_its_id() -> None:
    # Clients reuse ids across turns (some number them per turn): the call before the result counts.
    messages = [
        {"role": "user", "content": "Go"},
        {"role": "assistant", "content": None, "tool_calls": [call("call_0", "{}", "first")]},
        {"role": "tool", "tool_call_id": "call_0", "content": "1"},
        {"role": "assistant", "content": None, "tool_calls": [call("call_0", "{}", "second")]},
        {"role": "tool", "tool_call_id": "call_0", "content": "2"},
    ]
    contents = translated(messages=messages)["contents"]
    assert [part["functionResponse"]["name"] for turn in contents for part in turn["parts"] if "functionResponse" in part] == ["first", "second"]


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        # Features Gemini cannot express.
        (msg([{"type": "image_url", "image_url": {"url": "ftp://example.com/cat.png"}}]), "messages[0].content[0].image_url.url"),
        (msg([{"type": "image_url", "image_url": {"url": "data:;base64,iVBO"}}]), "messages[0].content[0].image_url.url"),
        (msg([{"type": "refusal", "refusal": "x"}]), "messages[0].content[0].type"),
        # A tool result Gemini cannot name the function of.
        ({"messages": [{"role": "tool", "tool_call_id": "call_1", "content": "15 degrees"}]}, "messages[0].tool_call_id"),
        (
            {"messages": [{"role": "user", "content": "Hi"}, {"role": "tool", "tool_call_id": "call_1", "content": "x"}, {"role": "assistant", "content": None, "tool_calls": [call("call_1", "{}")]}]},
            "messages[1].tool_call_id",
        ),
        ({"messages": [*assistant(content=None, tool_calls=[call("call_1", "{}")])["messages"], {"role": "tool", "tool_call_id": "call_2", "content": "x"}]}, "messages[2].tool_call_id"),
        # Invalid shapes.
        ({"messages": [{"role": "user", "content": ""}]}, "messages"),
        (msg([{"type": "input_audio", "input_audio": {"data": "x", "format": "flac"}}]), "messages[0].content[0].input_audio.format"),
        (msg([{"type": "input_audio", "input_audio": {"format": "mp3"}}]), "messages[0].content[0].input_audio.data"),
        (msg([{"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBE", "filename": 7}}]), "messages[0].content[0].file.filename"),
        (assistant(content=None, tool_calls=[{"id": "c", "type": "function", "function": {"arguments": "{}"}}]), "messages[1].tool_calls[0].function.name"),
        ({"messages": [*assistant(content=None, tool_calls=[call("c", "{}")])["messages"], {"role": "tool", "tool_call_id": "c", "content": None}]}, "messages[2].content"),
        ({"tools": [{"type": "function", "function": {"name": "f", "description": 7}}]}, "tools[0].function.description"),
        ({"tools": [], "tool_choice": "any"}, "tool_choice"),  # checked even without tools
        ({"seed": 4.2}, "seed"),
        ({"presence_penalty": "high"}, "presence_penalty"),
        ({"frequency_penalty": False}, "frequency_penalty"),
        ({"safety_identifier": ["x"]}, "safety_identifier"),
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


def with_generated_ids(body: dict[str, Any]) -> dict[str, Any]:
    """The completion with the tool call ids the translator made, checked and written `call_*`."""
    calls = body["choices"][0]["message"].get("tool_calls") or []
    assert len({c["id"] for c in calls}) == len(calls)
    for c in calls:
        assert GENERATED_ID.fullmatch(c["id"])
        c["id"] = "call_*"
    return body


@pytest.mark.parametrize(
    ("name", "usage"),
    [
        ("text_response", Usage(input_tokens=2048, output_tokens=64, cached_input_tokens=1024, reasoning_tokens=55)),
        ("tool_response", Usage(input_tokens=97, output_tokens=164, reasoning_tokens=128)),
    ],
)
def test_golden_responses(name: str, usage: Usage) -> None:
    body, reported = TRANSLATOR.response(fixture_json(f"{name}.gemini.json"), CLIENT_REQUEST)
    assert with_generated_ids(without_created(body)) == fixture_json(f"{name}.openai.json")
    assert reported == usage


WEATHER = function_call("get_weather", {"city": "Paris"})


@pytest.mark.parametrize(
    ("finish", "parts", "expected"),
    [
        ("STOP", [txt("Hi")], "stop"),
        ("MAX_TOKENS", [txt("Hi")], "length"),
        ("SAFETY", [], "content_filter"),
        ("RECITATION", [txt("Once upon")], "content_filter"),
        ("BLOCKLIST", [], "content_filter"),
        ("PROHIBITED_CONTENT", [], "content_filter"),
        ("SPII", [], "content_filter"),
        ("IMAGE_SAFETY", [], "content_filter"),
        ("STOP", [WEATHER], "tool_calls"),  # a turn that called tools says so
        ("MAX_TOKENS", [WEATHER], "length"),  # ... unless it was cut off
        ("MALFORMED_FUNCTION_CALL", [], "stop"),
        ("LANGUAGE", [], "stop"),
        ("OTHER", [txt("Hi")], "stop"),
        ("FINISH_REASON_UNSPECIFIED", [txt("Hi")], "stop"),
        ("A_FUTURE_REASON", [txt("Hi")], "stop"),
        (None, [txt("Hi")], "stop"),
        (None, [WEATHER], "tool_calls"),
    ],
)
def test_response_finish_reasons(finish: str | None, parts: list[dict[str, Any]], expected: str) -> None:
    body, _ = TRANSLATOR.response(response(*parts, finish=finish), CLIENT_REQUEST)
    assert body["choices"][0]["finish_reason"] == expected


def test_response_text_parts_join_and_thoughts_become_reasoning_content() -> None:
    parts = [thought("2 + 2 "), thought("= 4."), txt("The answer "), {"text": "", "thoughtSignature": "c2ln"}, txt("is 4.")]
    body, _ = TRANSLATOR.response(response(*parts), CLIENT_REQUEST)
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "The answer is 4.", "refusal": None, "reasoning_content": "2 + 2 = 4."}


def test_response_tool_calls_keep_their_order_gemini_ids_and_json_arguments() -> None:
    second = function_call("search", {"q": ["é", 1.5, None]}, id="fc_2")
    body, _ = TRANSLATOR.response(response(txt("Checking."), function_call("get_weather", {"city": "Paris"}, id="fc_1"), second), CLIENT_REQUEST)
    message = body["choices"][0]["message"]
    assert message["content"] == "Checking."
    assert message["tool_calls"] == [
        {"id": "fc_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}},
        {"id": "fc_2", "type": "function", "function": {"name": "search", "arguments": '{"q":["é",1.5,null]}'}},
    ]


def test_response_tool_calls_without_ids_get_unique_ones() -> None:
    body, _ = TRANSLATOR.response(response(WEATHER, WEATHER, function_call("now", None)), CLIENT_REQUEST)
    calls = with_generated_ids(body)["choices"][0]["message"]["tool_calls"]
    assert [c["function"] for c in calls] == [{"name": "get_weather", "arguments": '{"city":"Paris"}'}] * 2 + [{"name": "now", "arguments": "{}"}]


def test_response_drops_parts_an_openai_client_cannot_use() -> None:
    parts = [{"inlineData": {"mimeType": "image/png", "data": PNG}}, {"executableCode": {"language": "PYTHON", "code": "1"}}, txt("Done.")]
    body, _ = TRANSLATOR.response(response(*parts), CLIENT_REQUEST)
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "Done.", "refusal": None}


def test_response_to_a_blocked_prompt_is_a_content_filter_completion() -> None:
    blocked = {"promptFeedback": {"blockReason": "SAFETY", "safetyRatings": []}, "usageMetadata": {"promptTokenCount": 12, "totalTokenCount": 12}, "modelVersion": UPSTREAM}
    body, usage = TRANSLATOR.response(blocked, CLIENT_REQUEST)
    assert body["choices"] == [{"index": 0, "message": {"role": "assistant", "content": None, "refusal": None}, "logprobs": None, "finish_reason": "content_filter"}]
    assert body["usage"]["prompt_tokens"] == 12 and usage == Usage(input_tokens=12)
    openai.types.chat.ChatCompletion.model_validate(body)


@pytest.mark.parametrize(
    ("usage", "wire", "common"),
    [
        (
            {"promptTokenCount": 5000, "cachedContentTokenCount": 4000, "candidatesTokenCount": 300, "thoughtsTokenCount": 700, "totalTokenCount": 6000},
            {"prompt_tokens": 5000, "completion_tokens": 1000, "total_tokens": 6000, "prompt_tokens_details": {"cached_tokens": 4000}, "completion_tokens_details": {"reasoning_tokens": 700}},
            Usage(input_tokens=5000, output_tokens=1000, cached_input_tokens=4000, reasoning_tokens=700),
        ),
        ({}, {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0, "prompt_tokens_details": {"cached_tokens": 0}, "completion_tokens_details": {"reasoning_tokens": 0}}, Usage()),
        ("garbage", {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0, "prompt_tokens_details": {"cached_tokens": 0}, "completion_tokens_details": {"reasoning_tokens": 0}}, Usage()),
        (
            {"promptTokenCount": True, "candidatesTokenCount": "5", "thoughtsTokenCount": None, "cachedContentTokenCount": 1.5},
            {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0, "prompt_tokens_details": {"cached_tokens": 0}, "completion_tokens_details": {"reasoning_tokens": 0}},
            Usage(),
        ),
    ],
)
def test_response_usage_counts_thinking_as_completion_tokens(usage: Any, wire: dict[str, Any], common: Usage) -> None:
    body, reported = TRANSLATOR.response(response(txt("Hi"), usage=usage), CLIENT_REQUEST)
    assert body["usage"] == wire
    assert reported == common


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"candidates": "x", "responseId": 7, "modelVersion": None},
        {"candidates": [None]},
        {"candidates": [{"content": {"parts": [None, "x", {"text": 5}, {"functionCall": {"name": 3, "args": [1]}}, {"functionCall": "f"}]}}]},
        {"candidates": [{"content": "Hi", "finishReason": 1}]},
        {"promptFeedback": "SAFETY"},
    ],
)
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
        ("text_stream", Usage(input_tokens=8, output_tokens=35, reasoning_tokens=23)),
        ("tool_stream", Usage(input_tokens=97, output_tokens=164, reasoning_tokens=128)),
        ("error_stream", Usage(input_tokens=8)),
    ],
)
def test_golden_streams(name: str, usage: Usage | None) -> None:
    out, reported = run_stream(fixture(f"{name}.gemini.sse"))
    assert openai_events(out) == openai_events(fixture(f"{name}.openai.sse"))
    assert reported == usage


@pytest.mark.parametrize("name", ["text_stream", "tool_stream"])
def test_golden_streams_are_well_formed(name: str) -> None:
    out, _ = run_stream(fixture(f"{name}.gemini.sse"))
    assert_openai_well_formed(openai_events(out))


def test_stream_chunks_name_the_model_the_client_asked_for() -> None:
    out, _ = run_stream(fixture("text_stream.gemini.sse"), model="my-alias")
    assert {chunk["model"] for chunk in openai_events(out)[:-1]} == {"my-alias"}


def test_stream_with_lf_line_ends_translates_as_with_crlf() -> None:
    crlf, _ = run_stream(fixture("text_stream.gemini.sse"))
    lf, _ = run_stream(fixture("text_stream.gemini.sse").replace(b"\r\n", b"\n"))
    assert openai_events(lf) == openai_events(crlf)


def test_stream_function_calls_come_whole_indexed_among_calls_only() -> None:
    out, _ = run_stream(
        gemini_stream(
            event(thought("Two cities.")),
            event(txt("Checking both.")),
            event(function_call("get_weather", {"city": "Paris"}, id="fc_a"), function_call("get_weather", {"city": "Oslo"})),
            event(txt(" Done"), finish="STOP"),
        )
    )
    events = openai_events(out)
    assert_openai_well_formed(events)
    assert assembled(events) == {
        "content": "Checking both. Done",
        "reasoning_content": "Two cities.",
        "tool_calls": [
            {"id": "fc_a", "name": "get_weather", "arguments": '{"city":"Paris"}'},
            {"id": "call_chatcmpl-resp_1_1", "name": "get_weather", "arguments": '{"city":"Oslo"}'},
        ],
    }
    starts = [c["choices"][0]["delta"]["tool_calls"][0] for c in events[:-1] if c["choices"] and c["choices"][0]["delta"].get("tool_calls")]
    assert starts == [
        {"index": 0, "id": "fc_a", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}},
        {"index": 1, "id": "call_chatcmpl-resp_1_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'}},
    ]
    assert finish_reason(events) == "tool_calls"


def test_stream_drops_parts_an_openai_client_cannot_use() -> None:
    out, _ = run_stream(
        gemini_stream(
            event({"text": "", "thoughtSignature": "c2ln"}, {"inlineData": {"mimeType": "image/png", "data": PNG}}, None, "x"),
            event(txt("Done."), {"codeExecutionResult": {"outcome": "OUTCOME_OK"}}, finish="STOP"),
        )
    )
    events = openai_events(out)
    assert_openai_well_formed(events)
    assert assembled(events) == {"content": "Done.", "reasoning_content": "", "tool_calls": []}


@pytest.mark.parametrize(
    ("finish", "parts", "expected"),
    [
        ("STOP", [txt("Hi")], "stop"),
        ("MAX_TOKENS", [txt("Hi")], "length"),
        ("SAFETY", [], "content_filter"),
        ("RECITATION", [txt("Hi")], "content_filter"),
        ("PROHIBITED_CONTENT", [], "content_filter"),
        ("STOP", [WEATHER], "tool_calls"),
        ("MAX_TOKENS", [WEATHER], "length"),
        ("MALFORMED_FUNCTION_CALL", [], "stop"),
        ("OTHER", [txt("Hi")], "stop"),
    ],
)
def test_stream_finish_reasons(finish: str, parts: list[dict[str, Any]], expected: str) -> None:
    out, _ = run_stream(gemini_stream(event(txt("...")), event(*parts, finish=finish)))
    assert finish_reason(openai_events(out)) == expected


def test_stream_usage_takes_the_latest_cumulative_counts() -> None:
    out, usage = run_stream(
        gemini_stream(
            event(txt("Hi"), usage={"promptTokenCount": 1200, "cachedContentTokenCount": 1000, "totalTokenCount": 1200}),
            event(txt("!"), finish="STOP", usage={"promptTokenCount": 1200, "cachedContentTokenCount": 1000, "candidatesTokenCount": 2, "thoughtsTokenCount": 40, "totalTokenCount": 1242}),
        )
    )
    assert openai_events(out)[-2]["usage"] == {
        "prompt_tokens": 1200,
        "completion_tokens": 42,
        "total_tokens": 1242,
        "prompt_tokens_details": {"cached_tokens": 1000},
        "completion_tokens_details": {"reasoning_tokens": 40},
    }
    assert usage == Usage(input_tokens=1200, output_tokens=42, cached_input_tokens=1000, reasoning_tokens=40)


def test_stream_to_a_blocked_prompt_ends_with_content_filter() -> None:
    blocked = {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, "usageMetadata": {"promptTokenCount": 9, "totalTokenCount": 9}, "responseId": "r"}
    out, usage = run_stream(gemini_stream(blocked))
    events = openai_events(out)
    assert_openai_well_formed(events)
    assert finish_reason(events) == "content_filter" and assembled(events)["content"] == ""
    assert usage == Usage(input_tokens=9)


TEXT = fixture("text_stream.gemini.sse")
TOOL_STREAM = fixture("tool_stream.gemini.sse")
LAST_EVENT = TEXT.rindex(b"data: ")


@pytest.mark.parametrize(
    ("chunks", "finish", "content"),
    [
        pytest.param([TEXT], "stop", "Hello! ¿Qué tal? 👋 How can I help you today?", id="complete"),
        pytest.param([TEXT[:LAST_EVENT]], "stop", "Hello! ¿Qué tal? 👋 How can I help", id="no-finish-reason"),
        pytest.param([TEXT[: TEXT.index("¿Qué".encode())]], "stop", "Hello", id="cut-mid-event"),
        pytest.param([TEXT[:-2]], "stop", "Hello! ¿Qué tal? 👋 How can I help you today?", id="last-event-without-blank-line"),
        pytest.param([TEXT[:-4]], "stop", "Hello! ¿Qué tal? 👋 How can I help", id="last-line-cut-before-its-end"),
        pytest.param([TOOL_STREAM[: TOOL_STREAM.rindex(b"data: ")]], "tool_calls", "", id="tool-call-then-cut-off"),
        pytest.param([], "stop", "", id="empty"),
        pytest.param([b": keep-alive\r\n\r\n", b"\r\n"], "stop", "", id="only-comments"),
        pytest.param([b'data: {"candidates": []}\r\n\r\n'], "stop", "", id="no-candidates"),
        pytest.param([TEXT, TEXT], "stop", "Hello! ¿Qué tal? 👋 How can I help you today?", id="events-after-the-finish-ignored"),
        pytest.param([TEXT + b'data: {"candidates": [{"content": {"parts": [{"text": "late"}]}}]}\r\n'], "stop", "Hello! ¿Qué tal? 👋 How can I help you today?", id="event-after-finish-pending-at-end"),
        pytest.param([gemini_stream({"candidates": [{"content": {"parts": [{"text": "No ids."}]}, "finishReason": "STOP"}]})], "stop", "No ids.", id="no-response-id"),
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
        ({"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}, "server_error", "UNAVAILABLE", "The model is overloaded."),
        ({"code": 500, "message": "An internal error has occurred.", "status": "INTERNAL"}, "server_error", "INTERNAL", "An internal error has occurred."),
        ({"code": 429, "message": "Quota exceeded.", "status": "RESOURCE_EXHAUSTED"}, "rate_limit_error", "RESOURCE_EXHAUSTED", "Quota exceeded."),
        ({"code": 400, "message": "Bad.", "status": "INVALID_ARGUMENT"}, "invalid_request_error", "INVALID_ARGUMENT", "Bad."),
        ({"message": "Slow down.", "status": "RESOURCE_EXHAUSTED"}, "rate_limit_error", "RESOURCE_EXHAUSTED", "Slow down."),  # the status names the code
        ({"message": "No key.", "status": "PERMISSION_DENIED"}, "permission_error", "PERMISSION_DENIED", "No key."),
        ({"code": "504", "status": "DEADLINE_EXCEEDED"}, "server_error", "DEADLINE_EXCEEDED", "the provider's stream reported an error"),
        ({"code": 200, "status": "A_FUTURE_STATUS"}, "server_error", "A_FUTURE_STATUS", "the provider's stream reported an error"),
        ("boom", "server_error", None, "boom"),
        ({}, "server_error", None, "the provider's stream reported an error"),
    ],
)
def test_stream_error_from_the_provider_ends_the_client_stream(error: Any, error_type: str, code: str | None, message: str) -> None:
    stream = TRANSLATOR.stream({"model": CLIENT_MODEL, "stream_options": {"include_usage": True}})
    out = stream.feed(gemini_stream(event(txt("Hel")), {"error": error}, event(txt("lo"), finish="STOP")))
    events = openai_events(out)
    assert events[-1] == {"error": {"message": message, "type": error_type, "param": None, "code": code}}
    assert DONE not in events and not any(c.get("choices") and c["choices"][0]["finish_reason"] for c in events)
    assert assembled(events[:-1])["content"] == "Hel"
    assert stream.feed(gemini_stream(event(txt("more"), finish="STOP"))) == b""
    assert stream.finish() == b""


def test_stream_error_before_anything_else_is_the_whole_stream() -> None:
    out, usage = run_stream(b'data: {"error": {"code": 503, "message": "Overloaded", "status": "UNAVAILABLE"}}\r\n\r\n')
    assert openai_events(out) == [{"error": {"message": "Overloaded", "type": "server_error", "param": None, "code": "UNAVAILABLE"}}]
    assert usage is None


@pytest.mark.parametrize("bad", [b"data: {not json\r\n\r\n", b"data: [1, 2]\r\n\r\n", b"data: \xff\xfe\r\n\r\n", b"data: [DONE]\r\n\r\n"])
def test_stream_event_that_is_not_a_json_object_is_an_error(bad: bytes) -> None:
    out, _ = run_stream(gemini_stream(event(txt("Hi"))), bad)
    events = openai_events(out)
    assert events[-1]["error"]["type"] == "server_error" and DONE not in events


def test_the_usage_chunk_comes_only_when_the_client_asked_for_it() -> None:
    # A client loop reading `chunk.choices[0]` must never meet a chunk without choices.
    asked = TRANSLATOR.stream({"model": CLIENT_MODEL, "stream_options": {"include_usage": True}})
    not_asked = TRANSLATOR.stream({"model": CLIENT_MODEL, "stream": True})
    also_not_asked = TRANSLATOR.stream({"model": CLIENT_MODEL, "stream_options": {"include_usage": "yes"}})
    with_usage = [e for e in openai_events(asked.feed(TEXT) + asked.finish()) if e is not DONE]
    without = [e for e in openai_events(not_asked.feed(TEXT) + not_asked.finish()) if e is not DONE]
    assert with_usage[-1]["choices"] == [] and with_usage[-1]["usage"]["completion_tokens"] > 0
    assert all(event["choices"] for event in without)
    assert without == with_usage[:-1]
    assert not_asked.usage == asked.usage  # the gateway still learns the usage
    assert all(e["choices"] for e in openai_events(also_not_asked.feed(TEXT)) if e is not DONE)


def test_stream_for_a_request_without_a_model_name() -> None:
    stream = TRANSLATOR.stream({"messages": []})
    assert {e["model"] for e in openai_events(stream.feed(TEXT)) if e is not DONE} == {""}


# ---------------------------------------------------------------------------------------------
# The official `openai` SDK reads what the translator answers
# ---------------------------------------------------------------------------------------------


def test_sdk_parses_a_translated_response() -> None:
    body, _ = TRANSLATOR.response(fixture_json("tool_response.gemini.json"), CLIENT_REQUEST)
    completion = sdk_client(200, orjson.dumps(body)).chat.completions.create(model=CLIENT_MODEL, messages=HELLO)
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    assert [(c.function.name, orjson.loads(c.function.arguments)) for c in choice.message.tool_calls] == [
        ("get_weather", {"location": "Paris, France"}),
        ("get_weather", {"location": "Bogotá, Colombia"}),
    ]
    assert completion.usage.prompt_tokens == 97 and completion.usage.completion_tokens == 164
    assert completion.usage.completion_tokens_details.reasoning_tokens == 128


@pytest.mark.parametrize("name", ["text_stream", "tool_stream"])
def test_sdk_reassembles_a_translated_stream(name: str) -> None:
    final, expected = sdk_reassembled(run_stream(fixture(f"{name}.gemini.sse"))[0], CLIENT_MODEL)
    assert (final.choices[0].message.content or "") == expected["content"]  # the role chunk's `content: ""` starts it, as OpenAI's does


def test_sdk_raises_on_a_translated_stream_error() -> None:
    out, _ = run_stream(fixture("error_stream.gemini.sse"))
    chunks = sdk_client(200, out, "text/event-stream").chat.completions.create(model=CLIENT_MODEL, messages=HELLO, stream=True)
    with pytest.raises(openai.APIError) as raised:
        list(chunks)
    assert (raised.value.message, raised.value.type, raised.value.code) == ("The model is overloaded. Please try again later.", "server_error", "UNAVAILABLE")


@pytest.mark.parametrize(
    ("status", "google_status", "exception"),
    [
        (400, "INVALID_ARGUMENT", openai.BadRequestError),
        (400, "FAILED_PRECONDITION", openai.BadRequestError),
        (401, "UNAUTHENTICATED", openai.AuthenticationError),
        (403, "PERMISSION_DENIED", openai.PermissionDeniedError),
        (404, "NOT_FOUND", openai.NotFoundError),
        (429, "RESOURCE_EXHAUSTED", openai.RateLimitError),
        (500, "INTERNAL", openai.InternalServerError),
        (503, "UNAVAILABLE", openai.InternalServerError),
        (504, "DEADLINE_EXCEEDED", openai.InternalServerError),
    ],
)
def test_sdk_raises_its_usual_exception_on_a_translated_error(status: int, google_status: str, exception: type[Exception]) -> None:
    body = TRANSLATOR.error(status, orjson.dumps({"error": {"code": status, "message": "Nope", "status": google_status}}))
    with pytest.raises(exception) as raised:
        sdk_client(status, body).chat.completions.create(model=CLIENT_MODEL, messages=HELLO)
    assert raised.value.message.endswith("Nope") and raised.value.code == google_status  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def test_golden_error() -> None:
    assert orjson.loads(TRANSLATOR.error(429, fixture("error_429.gemini.json"))) == fixture_json("error_429.openai.json")


@pytest.mark.parametrize(
    ("status", "google_status", "openai_type"),
    [
        (400, "INVALID_ARGUMENT", "invalid_request_error"),
        (400, "FAILED_PRECONDITION", "invalid_request_error"),
        (401, "UNAUTHENTICATED", "authentication_error"),
        (402, "RESOURCE_EXHAUSTED", "invalid_request_error"),  # prepaid credits spent
        (403, "PERMISSION_DENIED", "permission_error"),
        (404, "NOT_FOUND", "not_found_error"),
        (429, "RESOURCE_EXHAUSTED", "rate_limit_error"),
        (499, "CANCELLED", "invalid_request_error"),
        (500, "INTERNAL", "server_error"),
        (503, "UNAVAILABLE", "server_error"),
        (504, "DEADLINE_EXCEEDED", "server_error"),
    ],
)
def test_error_type_follows_the_status_and_code_keeps_googles_status(status: int, google_status: str, openai_type: str) -> None:
    body = orjson.dumps({"error": {"code": status, "message": "m", "status": google_status}})
    assert orjson.loads(TRANSLATOR.error(status, body)) == {"error": {"message": "m", "type": openai_type, "param": None, "code": google_status}}


@pytest.mark.parametrize(
    ("body", "message", "code"),
    [
        (b'[{"error": {"code": 502, "message": "Bad gateway.", "status": "UNAVAILABLE"}}]', "Bad gateway.", "UNAVAILABLE"),  # without alt=sse
        (b'{"error": "upstream unavailable"}', "upstream unavailable", None),
        (b'{"message": "Bad gateway"}', "Bad gateway", None),
        (b'{"error": {"code": 502, "status": "UNAVAILABLE"}}', '{"error": {"code": 502, "status": "UNAVAILABLE"}}', "UNAVAILABLE"),
        (b'{"error": {"message": "m", "status": 7}}', "m", None),
        (b"<html><body>502 Bad Gateway</body></html>\n", "<html><body>502 Bad Gateway</body></html>", None),
        (b"\xff\xfeoops", "\ufffd\ufffdoops", None),
        (b"[]", "[]", None),
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


urls = st.sampled_from(
    [f"data:image/png;base64,{PNG}", "https://example.com/a.png", "http://x/y.webp?q", "data:image/png,x", "ftp://x", "data:application/pdf;base64,JVBER", "data:;base64,x"]
)
parts = st.one_of(
    text_parts,
    st.fixed_dictionaries({"type": st.just("image_url"), "image_url": mostly(st.fixed_dictionaries({"url": mostly(urls)}, optional={"detail": texts}))}, optional=breakpoints),
    st.fixed_dictionaries(
        {"type": st.just("file"), "file": mostly(st.fixed_dictionaries({}, optional={"file_data": mostly(urls), "file_id": texts, "filename": mostly(texts)}))}
    ),
    st.fixed_dictionaries({"type": st.just("input_audio"), "input_audio": mostly(st.fixed_dictionaries({"data": mostly(texts), "format": mostly(st.sampled_from(["wav", "mp3", "ogg"]))}))}),
    st.fixed_dictionaries({"type": st.sampled_from(["refusal", "x"])}, optional={"refusal": mostly(texts)}),
)
call_ids = st.sampled_from(["call_1", "call_2", "call_3"])
messages = conversations(parts, call_ids, tool_weight=2)
request_shaped = request_bodies(
    messages,
    temperature=mostly(st.floats(0, 2)),
    seed=mostly(st.integers(-(2**31), 2**31 - 1)),
    presence_penalty=mostly(st.sampled_from([0, 0.0, 0.5, -1])),
    frequency_penalty=mostly(st.floats(-2, 2)),
)


@settings(max_examples=300, deadline=None)
@given(any_json_object() | request_shaped)
def test_request_on_any_json_object_raises_nothing_but_unsupported_feature(body: dict[str, Any]) -> None:
    try:
        out = TRANSLATOR.request(body, UPSTREAM)
    except UnsupportedFeature as e:
        assert isinstance(e.param, str) and isinstance(e.message, str)
    else:
        orjson.dumps(out)  # what it returns can be sent
        assert out["contents"] and all(turn["parts"] and turn["role"] in ("user", "model") for turn in out["contents"])
        assert all(a["role"] != b["role"] for a, b in itertools.pairwise(out["contents"]))  # the roles alternate
        assert not {"model", "stream", "stream_options"} & set(out)


valid_parts = st.one_of(
    st.builds(text_part, texts),
    st.builds(image, st.sampled_from([f"data:image/png;base64,{PNG}", "https://example.com/a.png", "http://x/y"])),
    st.just({"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBER"}}),
    st.builds(lambda f: {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": f}}, st.sampled_from(["wav", "mp3"])),
)
valid_calls = st.lists(st.builds(call, call_ids, st.sampled_from(['{"a": 1}', "{}", ""]), st.sampled_from(["f", "g"])), max_size=3)
valid_messages = st.lists(
    st.one_of(
        st.fixed_dictionaries({"role": st.sampled_from(["system", "developer"]), "content": texts | st.lists(st.builds(text_part, texts), max_size=2)}),
        st.fixed_dictionaries({"role": st.just("user"), "content": texts | st.lists(valid_parts, max_size=3)}),
        st.fixed_dictionaries({"role": st.just("assistant")}, optional={"content": st.none() | texts, "tool_calls": valid_calls, "refusal": texts}),
        st.fixed_dictionaries({"role": st.just("tool"), "tool_call_id": call_ids, "content": texts | st.lists(st.builds(text_part, texts), max_size=2)}),
    ),
    min_size=1,
    max_size=8,
)
DATA_KEYS = {"text", "inlineData", "fileData", "functionCall", "functionResponse"}


@settings(max_examples=300, deadline=None)
@given(valid_messages)
def test_valid_conversations_translate_to_alternating_turns_of_well_formed_parts(messages: list[dict[str, Any]]) -> None:
    try:
        out = translated(messages=messages)
    except UnsupportedFeature as e:
        # The only refusals: a tool result that answers no earlier call, or nothing to send.
        assert e.param.endswith(".tool_call_id") or e.param == "messages"
        return
    contents = out["contents"]
    assert contents and all(a["role"] != b["role"] for a, b in itertools.pairwise(contents))
    for turn in contents:
        assert turn["parts"]
        for part in turn["parts"]:
            assert len(DATA_KEYS & set(part)) == 1 and part.get("text", "x")  # one datum, never an empty text
        calls = [part for part in turn["parts"] if "functionCall" in part]
        assert [part.get("thoughtSignature") for part in calls] == [SKIP_THOUGHT_SIGNATURE] + [None] * (len(calls) - 1) if calls else True
        answers = [i for i, part in enumerate(turn["parts"]) if "functionResponse" in part]
        assert answers == list(range(len(answers)))  # function responses open their turn
    results = [part for turn in contents for part in turn["parts"] if "functionResponse" in part]
    assert len(results) == sum(message["role"] == "tool" for message in messages)


@settings(max_examples=200, deadline=None)
@given(
    any_json_object()
    | st.fixed_dictionaries(
        {"candidates": st.lists(st.fixed_dictionaries({}, optional={"content": st.fixed_dictionaries({"parts": st.lists(json_values, max_size=4)}), "finishReason": json_values}) | json_values, max_size=2)},
        optional={"usageMetadata": json_values, "promptFeedback": json_values, "responseId": json_values, "modelVersion": json_values},
    )
)
def test_response_of_any_json_object_is_a_chat_completion(body: dict[str, Any]) -> None:
    out, usage = TRANSLATOR.response(body, CLIENT_REQUEST)
    openai.types.chat.ChatCompletion.model_validate(out)
    assert isinstance(usage, Usage)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["text_stream", "tool_stream", "error_stream"]), st.data())
def test_a_stream_split_anywhere_translates_as_it_does_whole(name: str, data: st.DataObject) -> None:
    stream = fixture(f"{name}.gemini.sse")
    whole_out, whole_usage = run_stream(stream)
    split_out, split_usage = run_stream(*cut_anywhere(stream, data))
    assert (openai_events(split_out), split_usage) == (openai_events(whole_out), whole_usage)


def test_a_stream_split_at_every_byte_translates_as_it_does_whole() -> None:
    whole, _ = run_stream(TEXT)
    split, _ = run_stream(*(TEXT[i : i + 1] for i in range(len(TEXT))))
    assert re.sub(rb'"created":\d+', b"", split) == re.sub(rb'"created":\d+', b"", whole)


golden_lines = [line + b"\r\n" for name in ("text_stream", "tool_stream") for line in fixture(f"{name}.gemini.sse").split(b"\r\n")]
stream_pieces = st.sampled_from(golden_lines) | st.binary(max_size=40) | json_values.map(lambda value: b"data: " + orjson.dumps(value) + b"\r\n\r\n")


@settings(max_examples=300, deadline=None)
@given(st.lists(stream_pieces, max_size=16))
def test_any_bytes_fed_to_the_stream_translator_end_one_way_or_the_other(pieces: list[bytes]) -> None:
    assert_ended_one_way_or_the_other(run_stream(*pieces)[0])
