"""OpenAI Chat Completions clients served by AWS Bedrock's Converse API: the translation, as a specification.

Golden exchanges live in tests/fixtures/openai_bedrock (their README names the API reference
page each comes from); Bedrock's streams are binary event-stream frames, so their fixtures are
readable `[event, payload]` lists the tests frame with `eventstream.encode`. The tables below
pin one feature per row. The official `openai` SDK reads what the translator answers, as a
client would.
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
from aiplane.translate.bedrock_wire import document_name
from aiplane.translate.eventstream import encode
from aiplane.translate.openai_bedrock import OpenAIToBedrock

UPSTREAM = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
CLIENT_MODEL = "claude-sonnet-4-5"
TRANSLATOR: Translator = OpenAIToBedrock()
fixture, fixture_json = fixture_readers("openai_bedrock")
CLIENT_REQUEST = {"model": CLIENT_MODEL, "messages": [{"role": "user", "content": "Hi"}]}


def frames(*events: tuple[str, Any]) -> bytes:
    """Bedrock's stream: one event-stream frame per `(event, payload)`; a payload in bytes is sent as is."""
    return b"".join(encode(event, payload if isinstance(payload, bytes) else orjson.dumps(payload)) for event, payload in events)


def bedrock_stream(name: str) -> bytes:
    return frames(*(tuple(pair) for pair in fixture_json(f"{name}.bedrock.json")))


run_stream = stream_runner(TRANSLATOR, CLIENT_MODEL, frames(("messageStop", {"stopReason": "end_turn"})))


def normalized(events: list[Any]) -> list[Any]:
    """The events with the completion's id, which Converse does not give and the translator makes up, set to `chatcmpl-0`."""
    ids = {event["id"] for event in events if isinstance(event, dict) and "id" in event}
    assert len(ids) <= 1 and all(i.startswith("chatcmpl-") and len(i) > 9 for i in ids)
    return [{**event, "id": "chatcmpl-0"} if isinstance(event, dict) and "id" in event else event for event in events]


def text(value: str, index: int = 0) -> tuple[str, dict[str, Any]]:
    return ("contentBlockDelta", {"contentBlockIndex": index, "delta": {"text": value}, "p": "abcd"})


def tool_start(index: int, call_id: str, name: str) -> tuple[str, dict[str, Any]]:
    return ("contentBlockStart", {"contentBlockIndex": index, "start": {"toolUse": {"toolUseId": call_id, "name": name}}})


def tool_input(index: int, fragment: str) -> tuple[str, dict[str, Any]]:
    return ("contentBlockDelta", {"contentBlockIndex": index, "delta": {"toolUse": {"input": fragment}}})


def reasoning(index: int, **delta: Any) -> tuple[str, dict[str, Any]]:
    return ("contentBlockDelta", {"contentBlockIndex": index, "delta": {"reasoningContent": delta}})


def block_stop(index: int) -> tuple[str, dict[str, Any]]:
    return ("contentBlockStop", {"contentBlockIndex": index})


def message_stop(stop_reason: Any = "end_turn") -> tuple[str, dict[str, Any]]:
    return ("messageStop", {"stopReason": stop_reason, "p": "abcdefgh"})


def metadata(usage: dict[str, int] | None = None) -> tuple[str, dict[str, Any]]:
    return ("metadata", {"usage": usage or {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15}, "metrics": {"latencyMs": 100}})


MESSAGE_START = ("messageStart", {"role": "assistant", "p": "abc"})


def base_request(**fields: Any) -> dict[str, Any]:
    return {"model": CLIENT_MODEL, "messages": [{"role": "user", "content": "Hi"}], **fields}


def translated(upstream: str = UPSTREAM, **fields: Any) -> dict[str, Any]:
    return TRANSLATOR.request(base_request(**fields), upstream)


def test_the_pair() -> None:
    assert (TRANSLATOR.client, TRANSLATOR.provider) == ("openai", "bedrock")


# ---------------------------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["text_request", "tool_request"])
def test_golden_requests(name: str) -> None:
    assert TRANSLATOR.request(fixture_json(f"{name}.openai.json"), UPSTREAM) == fixture_json(f"{name}.bedrock.json")


def test_the_request_is_not_modified() -> None:
    body = fixture_json("tool_request.openai.json")
    TRANSLATOR.request(body, UPSTREAM)
    assert body == fixture_json("tool_request.openai.json")


TOOL = {"toolSpec": {"name": "get_weather", "description": "Weather now", "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}}}}}}
HI = [{"role": "user", "content": [{"text": "Hi"}]}]


def tool_use(call_id: str, tool_input: dict[str, Any], name: str = "get_weather") -> dict[str, Any]:
    return {"toolUse": {"toolUseId": call_id, "name": name, "input": tool_input}}


def tool_result(call_id: str, *texts: str) -> dict[str, Any]:
    return {"toolResult": {"toolUseId": call_id, "content": [{"text": t} for t in texts]}}


def txt(value: str, **extra: Any) -> dict[str, Any]:
    return {"type": "text", "text": value, **extra}


def t(value: str) -> dict[str, str]:
    return {"text": value}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param(
            {},
            {"messages": HI, "system": ABSENT, "inferenceConfig": ABSENT, "toolConfig": ABSENT, "additionalModelRequestFields": ABSENT, "model": ABSENT, "stream": ABSENT},
            id="model-in-the-path-no-default-max_tokens",
        ),
        pytest.param({"max_tokens": 256}, {"inferenceConfig": {"maxTokens": 256}}, id="max_tokens"),
        pytest.param({"max_completion_tokens": 300, "max_tokens": 256}, {"inferenceConfig": {"maxTokens": 300}}, id="max_completion_tokens-wins"),
        pytest.param({"max_tokens": None}, {"inferenceConfig": ABSENT}, id="max_tokens-null"),
        # System and developer messages.
        pytest.param(
            {"messages": [{"role": "system", "content": "Be brief."}, {"role": "developer", "content": [txt("Be kind.")]}, {"role": "user", "content": "Hi"}]},
            {"system": [t("Be brief.\n\nBe kind.")], "messages": HI},
            id="system-and-developer-joined",
        ),
        pytest.param(
            {"messages": [{"role": "user", "content": "Hi"}, {"role": "system", "content": "Answer in French."}, {"role": "user", "content": "Bye"}]},
            {"system": [t("Answer in French.")], "messages": [{"role": "user", "content": [t("Hi"), t("Bye")]}]},
            id="late-system-message-joins-the-prompt",
        ),
        pytest.param({"messages": [{"role": "system", "content": ""}, {"role": "user", "content": "Hi"}]}, {"system": ABSENT}, id="empty-system-omitted"),
        pytest.param(
            {"messages": [{"role": "system", "content": [txt("Long rules.", **BREAKPOINT)]}, {"role": "user", "content": [txt("Hi", **BREAKPOINT)]}]},
            {"system": [t("Long rules.")], "messages": HI},
            id="prompt_cache_breakpoint-dropped",
        ),
        # User content parts.
        pytest.param({"messages": user_parts(txt("Hi"))}, {"messages": HI}, id="text-part"),
        pytest.param(
            {"messages": [{"role": "user", "content": ""}, {"role": "user", "content": [txt(""), txt("Hi")]}]},
            {"messages": HI},
            id="empty-texts-and-messages-dropped",
        ),
        pytest.param(
            {
                "messages": user_parts(
                    txt("What is this?"),
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}", "detail": "high"}},
                    {"type": "image_url", "image_url": {"url": "data:image/jpg;base64,/9j/4A=="}},
                    {"type": "image_url", "image_url": {"url": "DATA:IMAGE/WEBP;BASE64,UklGRg=="}},
                )
            },
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            t("What is this?"),
                            {"image": {"format": "png", "source": {"bytes": PNG}}},
                            {"image": {"format": "jpeg", "source": {"bytes": "/9j/4A=="}}},
                            {"image": {"format": "webp", "source": {"bytes": "UklGRg=="}}},
                        ],
                    }
                ]
            },
            id="images-in-data-urls-detail-dropped",
        ),
        pytest.param(
            {
                "messages": user_parts(
                    {"type": "file", "file": {"filename": "Q3 report (final).pdf", "file_data": "data:application/pdf;base64,JVBERi0x"}},
                    {"type": "file", "file": {"file_data": "data:text/csv;base64,YSxi"}},
                    {"type": "file", "file": {"filename": "scan.png", "file_data": f"data:image/png;base64,{PNG}"}},
                )
            },
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"document": {"format": "pdf", "name": "Q3 report (final)", "source": {"bytes": "JVBERi0x"}}},
                            {"document": {"format": "csv", "name": "document", "source": {"bytes": "YSxi"}}},
                            {"image": {"format": "png", "source": {"bytes": PNG}}},
                        ],
                    }
                ]
            },
            id="file-parts-documents-and-images",
        ),
        pytest.param(
            {"messages": user_parts({"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}})},
            {"messages": [{"role": "user", "content": [{"audio": {"format": "wav", "source": {"bytes": "UklGRg=="}}}]}]},
            id="input_audio",
        ),
        pytest.param({"messages": [{"role": "user", "content": "Hi", "name": "alice"}]}, {"messages": HI}, id="name-dropped"),
        # Assistant turns.
        pytest.param(
            {"messages": [{"role": "user", "content": "Weather?"}, {"role": "assistant", "content": "", "tool_calls": [call("call_1", '{"city": "Zürich", "days": [1, 2]}')]}], "tools": [FUNCTION]},
            {"messages": [{"role": "user", "content": [t("Weather?")]}, {"role": "assistant", "content": [tool_use("call_1", {"city": "Zürich", "days": [1, 2]})]}]},
            id="tool_calls-to-toolUse-empty-text-dropped",
        ),
        pytest.param(
            {"messages": [{"role": "user", "content": "Weather?"}, {"role": "assistant", "content": [txt("Checking.")], "tool_calls": [call("call_1", ""), call("call_2", "{}", "now")]}], "tools": [FUNCTION]},
            {"messages": [{"role": "user", "content": [t("Weather?")]}, {"role": "assistant", "content": [t("Checking."), tool_use("call_1", {}), tool_use("call_2", {}, "now")]}]},
            id="text-then-tool_calls-empty-arguments",
        ),
        pytest.param(
            {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": None, "refusal": "I can't help with that."}]},
            {"messages": [*HI, {"role": "assistant", "content": [t("I can't help with that.")]}]},
            id="assistant-refusal-is-text",
        ),
        pytest.param(
            {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": [txt("One."), {"type": "refusal", "refusal": "No."}]}]},
            {"messages": [*HI, {"role": "assistant", "content": [t("One."), t("No.")]}]},
            id="assistant-parts",
        ),
        pytest.param(
            {"messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4", "reasoning_content": "Easy."}]},
            {"messages": [{"role": "user", "content": [t("2+2?")]}, {"role": "assistant", "content": [t("4")]}]},
            id="reasoning_content-dropped",
        ),
        pytest.param(
            {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hel"}, {"role": "assistant", "content": "lo"}]},
            {"messages": [*HI, {"role": "assistant", "content": [t("Hel"), t("lo")]}]},
            id="consecutive-assistant-turns-merged",
        ),
        pytest.param(
            {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": ""}, {"role": "user", "content": "Hello?"}]},
            {"messages": [{"role": "user", "content": [t("Hi"), t("Hello?")]}]},
            id="empty-assistant-turn-dropped-users-merged",
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
                ],
                "tools": [FUNCTION],
            },
            {
                "messages": [
                    {"role": "user", "content": [t("Weather?")]},
                    {"role": "assistant", "content": [tool_use("call_1", {"city": "Paris"}), tool_use("call_2", {"city": "Oslo"})]},
                    {"role": "user", "content": [tool_result("call_1", "15 degrees"), tool_result("call_2", "Rain", "Wind"), t("And tomorrow?")]},
                ]
            },
            id="tool-messages-and-next-user-message-in-one-turn",
        ),
        pytest.param(
            {
                "messages": [
                    {"role": "assistant", "content": None, "tool_calls": [call("call_1", "{}")]},
                    {"role": "user", "content": "Also this."},
                    {"role": "tool", "tool_call_id": "call_1", "content": ""},
                ],
                "tools": [FUNCTION],
            },
            {
                "messages": [
                    {"role": "assistant", "content": [tool_use("call_1", {})]},
                    {"role": "user", "content": [{"toolResult": {"toolUseId": "call_1", "content": []}}, t("Also this.")]},
                ]
            },
            id="tool-results-first-in-their-turn-empty-result",
        ),
        # Tools.
        pytest.param({"tools": [FUNCTION]}, {"toolConfig": {"tools": [TOOL]}}, id="tools"),
        pytest.param(
            {"tools": [{"type": "function", "function": {"name": "now", "description": ""}}]},
            {"toolConfig": {"tools": [{"toolSpec": {"name": "now", "inputSchema": {"json": {"type": "object", "properties": {}}}}}]}},
            id="tool-without-parameters-or-description",
        ),
        pytest.param({"tools": [{"type": "function", "function": {**FUNCTION["function"], "strict": True}}]}, {"toolConfig": {"tools": [{"toolSpec": {**TOOL["toolSpec"], "strict": True}}]}}, id="tool-strict"),
        pytest.param({"tools": [{"type": "function", "function": {**FUNCTION["function"], "strict": False}}]}, {"toolConfig": {"tools": [TOOL]}}, id="tool-not-strict"),
        pytest.param({"tools": [FUNCTION], "tool_choice": "auto"}, {"toolConfig": {"tools": [TOOL], "toolChoice": {"auto": {}}}}, id="tool_choice-auto"),
        pytest.param({"tools": [FUNCTION], "tool_choice": "required"}, {"toolConfig": {"tools": [TOOL], "toolChoice": {"any": {}}}}, id="tool_choice-required"),
        pytest.param(
            {"tools": [FUNCTION], "tool_choice": {"type": "function", "function": {"name": "get_weather"}}},
            {"toolConfig": {"tools": [TOOL], "toolChoice": {"tool": {"name": "get_weather"}}}},
            id="tool_choice-function",
        ),
        pytest.param({"tools": [FUNCTION], "tool_choice": "none"}, {"toolConfig": ABSENT}, id="tool_choice-none-sends-no-tools"),
        pytest.param({"tools": [FUNCTION], "parallel_tool_calls": False}, {"toolConfig": {"tools": [TOOL]}}, id="parallel_tool_calls-dropped"),
        pytest.param({"tools": [], "tool_choice": "required"}, {"toolConfig": ABSENT}, id="no-tools-no-toolConfig"),
        # Sampling and limits.
        pytest.param({"stop": "END"}, {"inferenceConfig": {"stopSequences": ["END"]}}, id="stop-string"),
        pytest.param({"stop": ["\n\nHuman:", "", "END"]}, {"inferenceConfig": {"stopSequences": ["\n\nHuman:", "END"]}}, id="stop-list-empty-dropped"),
        pytest.param({"stop": []}, {"inferenceConfig": ABSENT}, id="stop-empty"),
        pytest.param({"temperature": 0.2, "top_p": 0.9}, {"inferenceConfig": {"temperature": 0.2, "topP": 0.9}}, id="temperature-top_p"),
        pytest.param({"temperature": 1}, {"inferenceConfig": {"temperature": 1}}, id="temperature-1"),
        pytest.param({"stream": True, "stream_options": {"include_usage": True}}, {"stream": ABSENT, "stream_options": ABSENT}, id="stream-in-the-path"),
        pytest.param({"user": "user-42", "safety_identifier": "hash-42", "metadata": {"app": "x"}, "store": False}, {"user": ABSENT, "metadata": ABSENT, "requestMetadata": ABSENT}, id="user-and-metadata-dropped"),
        # Structured outputs.
        pytest.param(
            {"response_format": {"type": "json_schema", "json_schema": {"name": "answer", "description": "The answer.", "strict": True, "schema": {"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": False}}}},
            {
                "outputConfig": {
                    "textFormat": {
                        "type": "json_schema",
                        "structure": {"jsonSchema": {"schema": '{"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":false}', "name": "answer", "description": "The answer."}},
                    }
                }
            },
            id="response_format-json_schema",
        ),
        pytest.param({"response_format": {"type": "text"}}, {"outputConfig": ABSENT}, id="response_format-text"),
        # Fields that ask for nothing, and hints.
        pytest.param(
            {"n": 1, "logprobs": False, "top_logprobs": 0, "logit_bias": {}, "presence_penalty": 0, "frequency_penalty": 0.0, "modalities": ["text"], "verbosity": "medium"},
            {"n": ABSENT, "logprobs": ABSENT, "logit_bias": ABSENT, "presence_penalty": ABSENT, "modalities": ABSENT, "verbosity": ABSENT, "inferenceConfig": ABSENT},
            id="defaults-accepted",
        ),
        pytest.param(
            {"seed": None, "audio": None, "prediction": None, "web_search_options": None, "functions": None, "temperature": None, "tools": None, "reasoning_effort": None},
            {"seed": ABSENT, "inferenceConfig": ABSENT, "toolConfig": ABSENT, "additionalModelRequestFields": ABSENT},
            id="nulls-accepted",
        ),
        pytest.param(
            {"service_tier": "flex", "prompt_cache_key": "k", "prompt_cache_retention": "24h", "prompt_cache_options": {"ttl": "30m"}},
            {"service_tier": ABSENT, "serviceTier": ABSENT, "prompt_cache_key": ABSENT},
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
        ({"reasoning_effort": "none"}, None, None),
        ({"reasoning_effort": None, "max_tokens": 100}, 100, None),
    ],
)
def test_reasoning_effort_becomes_a_thinking_budget_within_max_tokens(fields: dict[str, Any], max_tokens: int | None, budget: int | None) -> None:
    out = translated(**fields)
    assert out.get("inferenceConfig", {}).get("maxTokens") == max_tokens
    expected = None if budget is None else {"thinking": {"type": "enabled", "budget_tokens": budget}}
    assert out.get("additionalModelRequestFields") == expected


@pytest.mark.parametrize(
    ("messages", "thinking"),
    [
        (LOOP[:1], True),
        (LOOP, False),  # Claude would want the signed thinking block the client never saw
        ([*LOOP, {"role": "user", "content": "And Oslo?"}], False),  # still the same assistant turn
        ([*LOOP, {"role": "assistant", "content": "15 degrees."}, {"role": "user", "content": "And Oslo?"}], True),
    ],
)
def test_thinking_is_off_while_a_tool_loop_goes_on(messages: list[dict[str, Any]], thinking: bool) -> None:
    out = translated(messages=messages, tools=[FUNCTION], reasoning_effort="medium", max_completion_tokens=2000 if not thinking else 20000)
    assert ("additionalModelRequestFields" in out) is thinking
    assert out["inferenceConfig"]["maxTokens"] == (20000 if thinking else 2000)


@pytest.mark.parametrize(
    ("upstream", "thinks"),
    [
        ("anthropic.claude-sonnet-4-5-20250929-v1:0", True),
        ("global.anthropic.claude-opus-4-5-20251101-v1:0", True),
        ("arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3", True),  # Bedrock answers if it is not Claude
        ("amazon.nova-pro-v1:0", False),
        ("us.meta.llama3-3-70b-instruct-v1:0", False),
    ],
)
def test_reasoning_effort_is_claudes_thinking(upstream: str, thinks: bool) -> None:
    assert translated(upstream, reasoning_effort="none") == {"messages": HI}  # asks for nothing from any model
    if thinks:
        assert "thinking" in translated(upstream, reasoning_effort="low")["additionalModelRequestFields"]
    else:
        with pytest.raises(UnsupportedFeature) as raised:
            translated(upstream, reasoning_effort="low")
        assert raised.value.param == "reasoning_effort"


def test_document_names_are_unique_and_what_converse_takes() -> None:
    taken: set[str] = set()
    names = [document_name(n, taken) for n in ["report.pdf", "Report.docx", "report", None, None, "my_notes v2.final.md", "分析.pdf", "a  b\tc.txt", "x" * 300 + ".pdf", "x" * 300]]
    assert names[:8] == ["report", "Report-2", "report-3", "document", "document-2", "my notes v2 final", "document-3", "a b c"]
    assert names[8] == "x" * 200 and names[9] == "x" * 198 + "-2"
    assert len({name.lower() for name in names}) == len(names)
    assert all(re.fullmatch(r"[A-Za-z0-9()\[\]-]+( [A-Za-z0-9()\[\]-]+)*", name) and len(name) <= 200 for name in names)


def test_document_names_are_unique_across_the_conversation() -> None:
    pdf = {"type": "file", "file": {"filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBERi0x"}}
    out = translated(messages=[{"role": "user", "content": [pdf]}, {"role": "assistant", "content": "Read."}, {"role": "user", "content": [pdf, txt("Again.")]}])
    names = [block["document"]["name"] for message in out["messages"] for block in message["content"] if "document" in block]
    assert names == ["a", "a-2"]


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        # Features Converse cannot express.
        ({"presence_penalty": 0.5}, "presence_penalty"),
        ({"frequency_penalty": -1}, "frequency_penalty"),
        ({"seed": 42}, "seed"),
        ({"response_format": {"type": "json_object"}}, "response_format.type"),
        ({"temperature": 1.5}, "temperature"),
        ({"reasoning_effort": "low", "max_tokens": 1024}, "reasoning_effort"),  # no room for the smallest budget
        (msg([{"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]), "messages[0].content[0].image_url.url"),
        (msg([{"type": "image_url", "image_url": {"url": "http://example.com/cat.png"}}]), "messages[0].content[0].image_url.url"),
        (msg([{"type": "image_url", "image_url": {"url": "s3://bucket/cat.png"}}]), "messages[0].content[0].image_url.url"),
        (msg([{"type": "image_url", "image_url": {"url": "data:image/svg+xml;base64,PHN2Zz4="}}]), "messages[0].content[0].image_url.url"),
        (msg([{"type": "file", "file": {"file_data": "data:application/zip;base64,UEsDBA=="}}]), "messages[0].content[0].file.file_data"),
        (msg([{"type": "input_audio", "input_audio": {"data": "x", "format": "flac"}}]), "messages[0].content[0].input_audio.format"),
        (msg([{"type": "input_audio", "input_audio": {"format": "wav"}}]), "messages[0].content[0].input_audio.data"),
        (msg([{"type": "video_url", "video_url": {"url": "https://x"}}]), "messages[0].content[0].type"),
        # Converse wants the tools declared when the conversation holds tool calls, and has no `none`.
        ({"messages": LOOP}, "tools"),
        ({"messages": LOOP, "tools": []}, "tools"),
        ({"messages": LOOP, "tools": [FUNCTION], "tool_choice": "none"}, "tool_choice"),
        ({"messages": [{"role": "tool", "tool_call_id": "c", "content": [{"type": "image_url", "image_url": {"url": "https://x"}}]}]}, "messages[0].content[0].type"),
        # Invalid shapes.
        ({"messages": [{"role": "user", "content": ""}]}, "messages"),
        (msg([{"type": "file", "file": {"filename": 7, "file_data": "data:application/pdf;base64,JVBERi0x"}}]), "messages[0].content[0].file.filename"),
        ({"messages": [{"role": "tool", "tool_call_id": "c", "content": None}]}, "messages[0].content"),
        ({"tools": [{"type": "function", "function": {"name": "f", "description": 5}}]}, "tools[0].function.description"),
        ({"tool_choice": "any"}, "tool_choice"),  # checked even without tools
        ({"safety_identifier": ["x"]}, "safety_identifier"),
        ({"response_format": {"type": "json_schema", "json_schema": {"name": 1, "schema": {}}}}, "response_format.json_schema.name"),
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


def respond(body: dict[str, Any], model: str = CLIENT_MODEL) -> tuple[dict[str, Any], Usage]:
    out, usage = TRANSLATOR.response(body, {**CLIENT_REQUEST, "model": model})
    assert out["id"].startswith("chatcmpl-") and len(out["id"]) > 9
    return {**without_created(out), "id": "chatcmpl-0"}, usage


@pytest.mark.parametrize(
    ("name", "usage"),
    [
        ("text_response", Usage(input_tokens=1819, output_tokens=12, cached_input_tokens=1800)),
        ("tool_response", Usage(input_tokens=2469, output_tokens=96, cache_creation_input_tokens=2048)),
    ],
)
def test_golden_responses(name: str, usage: Usage) -> None:
    body, reported = respond(fixture_json(f"{name}.bedrock.json"))
    assert body == fixture_json(f"{name}.openai.json")
    assert reported == usage


def converse(*content: dict[str, Any], stop_reason: Any = "end_turn", usage: Any = None, **fields: Any) -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": list(content)}},
        "stopReason": stop_reason,
        "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15} if usage is None else usage,
        "metrics": {"latencyMs": 100},
        **fields,
    }


TOOL_USE = tool_use("tooluse_1", {"city": "Paris"})


def test_response_is_named_by_the_model_the_client_asked_for() -> None:
    body, _ = respond(converse(t("Hi")), model="my-alias")
    assert body["model"] == "my-alias"
    out, _ = TRANSLATOR.response(converse(t("Hi")), {"messages": []})
    assert out["model"] == ""


@pytest.mark.parametrize(
    ("stop_reason", "content", "finish_reason"),
    [
        ("end_turn", [t("Hi")], "stop"),
        ("stop_sequence", [t("1, 2, 3")], "stop"),
        ("max_tokens", [t("Hi")], "length"),
        ("model_context_window_exceeded", [t("Hi")], "length"),
        ("tool_use", [TOOL_USE], "tool_calls"),
        ("guardrail_intervened", [t("Sorry.")], "content_filter"),
        ("content_filtered", [t("")], "content_filter"),
        ("malformed_model_output", [t("Hi")], "stop"),
        ("end_turn", [TOOL_USE], "tool_calls"),  # a turn that called tools says so
        ("max_tokens", [TOOL_USE], "length"),  # ... unless its call was cut off
        (None, [t("Hi")], "stop"),
        ("a_future_reason", [t("Hi")], "stop"),
        (42, [t("Hi")], "stop"),
    ],
)
def test_response_finish_reasons(stop_reason: Any, content: list[dict[str, Any]], finish_reason: str) -> None:
    body, _ = respond(converse(*content, stop_reason=stop_reason))
    assert body["choices"][0]["finish_reason"] == finish_reason


def test_response_text_blocks_join_as_they_stream() -> None:
    body, _ = respond(converse(t("The sky is "), {"citationsContent": {"citations": []}}, t("blue"), t(".")))
    assert body["choices"][0]["message"]["content"] == "The sky is blue."


def test_response_tool_calls_keep_their_order_and_json_arguments() -> None:
    second = tool_use("tooluse_2", {"q": ["é", 1.5, None]}, name="search")
    body, _ = respond(converse(t("Checking."), TOOL_USE, second, stop_reason="tool_use"))
    assert body["choices"][0]["message"]["tool_calls"] == [
        {"id": "tooluse_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}},
        {"id": "tooluse_2", "type": "function", "function": {"name": "search", "arguments": '{"q":["é",1.5,null]}'}},
    ]


def test_response_without_text_has_null_content_and_no_tool_calls_key() -> None:
    body, _ = respond(converse(stop_reason="max_tokens"))
    assert body["choices"][0]["message"] == {"role": "assistant", "content": None, "refusal": None}


def test_response_reasoning_becomes_reasoning_content_and_redacted_reasoning_is_dropped() -> None:
    body, _ = respond(
        converse(
            {"reasoningContent": {"reasoningText": {"text": "2 + 2 = 4.", "signature": "sig"}}},
            {"reasoningContent": {"redactedContent": "eHl6"}},
            t("4"),
        )
    )
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "4", "refusal": None, "reasoning_content": "2 + 2 = 4."}


ZERO_WIRE = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0, "prompt_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0}}


@pytest.mark.parametrize(
    ("usage", "wire", "common"),
    [
        (
            {"inputTokens": 86, "cacheWriteInputTokens": 200, "cacheReadInputTokens": 1920, "outputTokens": 300, "totalTokens": 2506},
            {"prompt_tokens": 2206, "completion_tokens": 300, "total_tokens": 2506, "prompt_tokens_details": {"cached_tokens": 1920, "cache_write_tokens": 200}},
            Usage(input_tokens=2206, output_tokens=300, cached_input_tokens=1920, cache_creation_input_tokens=200),
        ),
        ({}, ZERO_WIRE, Usage()),
        ("garbage", ZERO_WIRE, Usage()),
        ({"inputTokens": True, "outputTokens": "5", "cacheReadInputTokens": None}, ZERO_WIRE, Usage()),
    ],
)
def test_response_usage_counts_cache_reads_and_writes_as_prompt_tokens(usage: Any, wire: dict[str, Any], common: Usage) -> None:
    body, reported = respond(converse(t("Hi"), usage=usage))
    assert body["usage"] == wire
    assert reported == common


@pytest.mark.parametrize(
    "body",
    [{}, {"output": "Hi"}, {"output": {"message": {"content": "Hi"}}}, converse(None, "x", {"text": 5}, {"toolUse": {"input": [1]}}, {"reasoningContent": {"reasoningText": "x"}})],
)
def test_response_of_any_shape_is_still_a_chat_completion(body: dict[str, Any]) -> None:
    out, usage = TRANSLATOR.response(body, CLIENT_REQUEST)
    assert out["id"].startswith("chatcmpl-") and out["model"] == CLIENT_MODEL
    openai.types.chat.ChatCompletion.model_validate(out)
    assert usage == (Usage(input_tokens=10, output_tokens=5) if "usage" in body else Usage())


# ---------------------------------------------------------------------------------------------
# Streaming
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "usage"),
    [
        ("text_stream", Usage(input_tokens=25, output_tokens=15)),
        ("tool_stream", Usage(input_tokens=1921, output_tokens=58, cached_input_tokens=1500)),
        ("thinking_stream", Usage(input_tokens=46, output_tokens=213)),
        ("error_stream", None),  # the stream failed before its metadata
    ],
)
def test_golden_streams(name: str, usage: Usage | None) -> None:
    out, reported = run_stream(bedrock_stream(name))
    assert normalized(openai_events(out)) == openai_events(fixture(f"{name}.openai.sse"))
    assert reported == usage


@pytest.mark.parametrize("name", ["text_stream", "tool_stream", "thinking_stream"])
def test_golden_streams_are_well_formed(name: str) -> None:
    out, _ = run_stream(bedrock_stream(name))
    assert_openai_well_formed(openai_events(out))


def test_stream_chunks_name_the_model_the_client_asked_for() -> None:
    out, _ = run_stream(bedrock_stream("text_stream"), model="my-alias")
    assert {chunk["model"] for chunk in openai_events(out)[:-1]} == {"my-alias"}


def test_stream_tool_argument_fragments_concatenate_to_the_full_json() -> None:
    pairs = fixture_json("tool_stream.bedrock.json")
    provider_arguments = "".join(p["delta"]["toolUse"]["input"] for e, p in pairs if e == "contentBlockDelta" and "toolUse" in p["delta"])
    out, _ = run_stream(bedrock_stream("tool_stream"))
    calls = assembled(openai_events(out))["tool_calls"]
    assert calls == [{"id": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "name": "top_song", "arguments": provider_arguments}]
    assert orjson.loads(calls[0]["arguments"]) == {"sign": "WZPZ"}


def test_stream_tool_calls_are_indexed_among_tool_calls_only() -> None:
    out, _ = run_stream(
        frames(
            MESSAGE_START,
            reasoning(0, text="Two cities."),
            reasoning(0, signature="sig"),
            block_stop(0),
            text("Checking both.", 1),
            block_stop(1),
            tool_start(2, "tooluse_a", "get_weather"),
            tool_input(2, '{"city": "Par'),
            tool_input(2, 'is"}'),
            block_stop(2),
            tool_start(3, "tooluse_b", "get_weather"),
            tool_input(3, '{"city": "Oslo"}'),
            block_stop(3),
            message_stop("tool_use"),
            metadata(),
        )
    )
    events = openai_events(out)
    assert_openai_well_formed(events)
    assert assembled(events) == {
        "content": "Checking both.",
        "reasoning_content": "Two cities.",
        "tool_calls": [
            {"id": "tooluse_a", "name": "get_weather", "arguments": '{"city": "Paris"}'},
            {"id": "tooluse_b", "name": "get_weather", "arguments": '{"city": "Oslo"}'},
        ],
    }
    starts = [c["choices"][0]["delta"]["tool_calls"][0] for c in events[:-1] if c["choices"] and "id" in (c["choices"][0]["delta"].get("tool_calls") or [{}])[0]]
    assert starts == [
        {"index": 0, "id": "tooluse_a", "type": "function", "function": {"name": "get_weather", "arguments": ""}},
        {"index": 1, "id": "tooluse_b", "type": "function", "function": {"name": "get_weather", "arguments": ""}},
    ]
    assert finish_reason(events) == "tool_calls"


def test_stream_events_an_openai_client_cannot_use_are_dropped() -> None:
    out, _ = run_stream(
        frames(
            MESSAGE_START,
            reasoning(0, redactedContent="eHl6"),
            block_stop(0),
            ("contentBlockStart", {"contentBlockIndex": 1, "start": {"toolResult": {"toolUseId": "srv_1"}}}),
            tool_input(1, '{"query": "x"}'),  # no toolUse start: not a call the client can see
            block_stop(1),
            text("Done.", 2),
            ("contentBlockDelta", {"contentBlockIndex": 2, "delta": {"citation": {"title": "x"}}}),
            ("contentBlockDelta", {"contentBlockIndex": [2], "delta": {"toolUse": {"input": "x"}}}),
            ("contentBlockDelta", {"contentBlockIndex": 2, "delta": "x"}),
            ("contentBlockStart", {"contentBlockIndex": 3, "start": None}),
            ("aFutureEvent", {"x": 1}),
            block_stop(2),
            message_stop(),
            metadata(),
        )
    )
    events = openai_events(out)
    assert_openai_well_formed(events)
    assert assembled(events) == {"content": "Done.", "reasoning_content": "", "tool_calls": []}


@pytest.mark.parametrize(
    ("stop_reason", "expected"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"),
        ("tool_use", "tool_calls"),
        ("guardrail_intervened", "content_filter"),
        ("content_filtered", "content_filter"),
        ("malformed_tool_use", "stop"),
        (None, "stop"),
    ],
)
def test_stream_finish_reasons(stop_reason: str | None, expected: str) -> None:
    out, _ = run_stream(frames(MESSAGE_START, text("Hi"), block_stop(0), message_stop(stop_reason), metadata()))
    assert finish_reason(openai_events(out)) == expected


def test_stream_usage_comes_from_the_metadata_event() -> None:
    usage = {"inputTokens": 5, "cacheReadInputTokens": 1000, "cacheWriteInputTokens": 200, "outputTokens": 42, "totalTokens": 1247}
    out, reported = run_stream(frames(MESSAGE_START, text("Hi"), block_stop(0), message_stop(), metadata(usage)))
    assert openai_events(out)[-2]["usage"] == {
        "prompt_tokens": 1205,
        "completion_tokens": 42,
        "total_tokens": 1247,
        "prompt_tokens_details": {"cached_tokens": 1000, "cache_write_tokens": 200},
    }
    assert reported == Usage(input_tokens=1205, output_tokens=42, cached_input_tokens=1000, cache_creation_input_tokens=200)


def test_stream_finish_chunk_goes_out_at_message_stop_and_done_after_the_metadata() -> None:
    stream = TRANSLATOR.stream({"model": CLIENT_MODEL, "stream_options": {"include_usage": True}})
    before = openai_events(stream.feed(frames(MESSAGE_START, text("Hi"), message_stop("max_tokens"))))
    assert before[-1]["choices"][0]["finish_reason"] == "length" and DONE not in before
    after = openai_events(stream.feed(frames(metadata())) + stream.finish())
    assert [e if e == DONE else e["choices"] for e in after] == [[], DONE]
    assert_openai_well_formed(normalized(before + after))


def test_stream_metadata_before_message_stop_still_ends_once() -> None:
    out, usage = run_stream(frames(MESSAGE_START, text("Hi"), metadata(), text(" there"), message_stop("max_tokens")))
    events = openai_events(out)
    assert_openai_well_formed(events)
    assert finish_reason(events) == "length" and assembled(events)["content"] == "Hi there"
    assert usage == Usage(input_tokens=10, output_tokens=5)


TEXT = bedrock_stream("text_stream")
TOOL_STREAM = bedrock_stream("tool_stream")
TEXT_EVENTS = [tuple(pair) for pair in fixture_json("text_stream.bedrock.json")]
TOOL_EVENTS = [tuple(pair) for pair in fixture_json("tool_stream.bedrock.json")]


@pytest.mark.parametrize(
    ("chunks", "finish", "content"),
    [
        pytest.param([TEXT], "stop", "Hello! ¿Qué tal? 👋", id="complete"),
        pytest.param([frames(*TEXT_EVENTS[:-1])], "stop", "Hello! ¿Qué tal? 👋", id="no-metadata"),
        pytest.param([frames(*TEXT_EVENTS[:-2])], "stop", "Hello! ¿Qué tal? 👋", id="no-messageStop"),
        pytest.param([frames(*TEXT_EVENTS[:2])], "stop", "Hello", id="cut-after-a-delta"),
        pytest.param([TEXT[: TEXT.index("¿Qué".encode())]], "stop", "Hello", id="cut-mid-frame"),
        pytest.param([frames(*TOOL_EVENTS[:7])], "tool_calls", "I'll look up the most popular song on WZPZ.", id="tool-call-cut-off"),
        pytest.param([], "stop", "", id="empty"),
        pytest.param([frames(MESSAGE_START)], "stop", "", id="only-messageStart"),
        pytest.param([b"\x00\x00\x00"], "stop", "", id="a-partial-prelude"),
        pytest.param([TEXT, TEXT], "stop", "Hello! ¿Qué tal? 👋", id="events-after-the-end-ignored"),
        pytest.param([frames(*TEXT_EVENTS[:-1], text("late"), message_stop("max_tokens"), TEXT_EVENTS[-1])], "stop", "Hello! ¿Qué tal? 👋", id="deltas-after-messageStop-ignored"),
        pytest.param([frames(text("No start."), message_stop(), metadata())], "stop", "No start.", id="no-messageStart"),
    ],
)
def test_stream_has_exactly_one_finish_and_one_done(chunks: list[bytes], finish: str, content: str) -> None:
    out, _ = run_stream(*chunks)
    events = openai_events(out)
    assert_openai_well_formed(events)
    assert finish_reason(events) == finish
    assert assembled(events)["content"] == content


@pytest.mark.parametrize(
    ("exception", "payload", "error_type", "message"),
    [
        ("throttlingException", {"message": "Too many requests, please wait before trying again."}, "rate_limit_error", "Too many requests, please wait before trying again."),
        ("modelStreamErrorException", {"message": "Model stream error", "originalStatusCode": 500, "originalMessage": "x"}, "server_error", "Model stream error"),
        ("validationException", {"message": "Input is too long for requested model."}, "invalid_request_error", "Input is too long for requested model."),
        ("internalServerException", {"message": "Internal server error"}, "server_error", "Internal server error"),
        ("serviceUnavailableException", {"Message": "Service unavailable"}, "server_error", "Service unavailable"),
        ("aFutureException", {"message": "New."}, "server_error", "New."),
        ("throttlingException", b"", "rate_limit_error", "Bedrock reported throttlingException"),
        ("throttlingException", b"<html>Slow down</html>", "rate_limit_error", "<html>Slow down</html>"),
    ],
)
def test_stream_exception_from_bedrock_ends_the_client_stream(exception: str, payload: Any, error_type: str, message: str) -> None:
    stream = TRANSLATOR.stream({"model": CLIENT_MODEL, "stream_options": {"include_usage": True}})
    out = stream.feed(frames(MESSAGE_START, text("Hel"), (exception, payload), text("lo")))
    events = openai_events(out)
    assert events[-1] == {"error": {"message": message, "type": error_type, "param": None, "code": exception}}
    assert DONE not in events and not any(c.get("choices") and c["choices"][0]["finish_reason"] for c in events)
    assert stream.feed(frames(text("more"), message_stop(), metadata())) == b""
    assert stream.finish() == b""


def test_stream_exception_before_the_message_starts_is_the_whole_stream() -> None:
    out, usage = run_stream(frames(("throttlingException", {"message": "Too many requests"})))
    assert openai_events(out) == [{"error": {"message": "Too many requests", "type": "rate_limit_error", "param": None, "code": "throttlingException"}}]
    assert usage is None


@pytest.mark.parametrize("payload", [b"{not json", b"[1, 2]", b"\xff\xfe", b""])
def test_stream_event_that_is_not_a_json_object_is_an_error(payload: bytes) -> None:
    out, _ = run_stream(frames(MESSAGE_START, text("Hi"), ("contentBlockDelta", payload)))
    events = openai_events(out)
    assert events[-1]["error"]["type"] == "server_error" and DONE not in events


def test_an_unreadable_frame_is_an_error() -> None:
    corrupt = bytearray(frames(text("Hi")))
    corrupt[-1] ^= 0xFF  # the message checksum no longer matches
    out, _ = run_stream(frames(MESSAGE_START), bytes(corrupt), frames(message_stop(), metadata()))
    events = openai_events(out)
    assert events[-1]["error"]["type"] == "server_error" and "unreadable event-stream frame" in events[-1]["error"]["message"]
    assert DONE not in events


# ---------------------------------------------------------------------------------------------
# The official `openai` SDK reads what the translator answers
# ---------------------------------------------------------------------------------------------


def test_sdk_parses_a_translated_response() -> None:
    body, _ = TRANSLATOR.response(fixture_json("tool_response.bedrock.json"), CLIENT_REQUEST)
    completion = sdk_client(200, orjson.dumps(body)).chat.completions.create(model=CLIENT_MODEL, messages=HELLO)
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content == "I'll look up the most popular song on WZPZ."
    assert choice.message.tool_calls[0].function.name == "top_song"
    assert orjson.loads(choice.message.tool_calls[0].function.arguments) == {"sign": "WZPZ"}
    assert completion.usage.prompt_tokens == 2469 and completion.usage.completion_tokens == 96
    assert completion.model == CLIENT_MODEL


@pytest.mark.parametrize("name", ["text_stream", "tool_stream", "thinking_stream"])
def test_sdk_reassembles_a_translated_stream(name: str) -> None:
    final, expected = sdk_reassembled(run_stream(bedrock_stream(name))[0], CLIENT_MODEL)
    assert final.choices[0].message.content == (expected["content"] or None)


def test_sdk_raises_on_a_translated_stream_exception() -> None:
    out, _ = run_stream(bedrock_stream("error_stream"))
    chunks = sdk_client(200, out, "text/event-stream").chat.completions.create(model=CLIENT_MODEL, messages=HELLO, stream=True)
    with pytest.raises(openai.APIError) as raised:
        list(chunks)
    assert (raised.value.message, raised.value.type, raised.value.code) == ("Too many requests, please wait before trying again.", "rate_limit_error", "throttlingException")


@pytest.mark.parametrize(
    ("status", "exception"),
    [
        (400, openai.BadRequestError),
        (403, openai.PermissionDeniedError),
        (404, openai.NotFoundError),
        (408, openai.APIStatusError),
        (424, openai.APIStatusError),
        (429, openai.RateLimitError),
        (500, openai.InternalServerError),
        (503, openai.InternalServerError),
    ],
)
def test_sdk_raises_its_usual_exception_on_a_translated_error(status: int, exception: type[Exception]) -> None:
    body = TRANSLATOR.error(status, b'{"message": "Nope"}')
    with pytest.raises(exception) as raised:
        sdk_client(status, body).chat.completions.create(model=CLIENT_MODEL, messages=HELLO)
    assert raised.value.message.endswith("Nope")  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def test_golden_error() -> None:
    assert orjson.loads(TRANSLATOR.error(429, fixture("error_429.bedrock.json"))) == fixture_json("error_429.openai.json")


@pytest.mark.parametrize(
    ("status", "openai_type"),
    [
        (400, "invalid_request_error"),  # ValidationException, ServiceQuotaExceededException
        (403, "permission_error"),  # AccessDeniedException
        (404, "not_found_error"),  # ResourceNotFoundException
        (408, "timeout"),  # ModelTimeoutException
        (424, "server_error"),  # ModelErrorException
        (429, "rate_limit_error"),  # ThrottlingException, ModelNotReadyException
        (500, "server_error"),  # InternalServerException
        (503, "server_error"),  # ServiceUnavailableException
    ],
)
def test_error_type_follows_the_status(status: int, openai_type: str) -> None:
    assert orjson.loads(TRANSLATOR.error(status, b'{"message": "m"}')) == {"error": {"message": "m", "type": openai_type, "param": None, "code": None}}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"message": "Bad gateway"}', "Bad gateway"),
        (b'{"Message": "User is not authorized"}', "User is not authorized"),
        (b'{"error": "upstream unavailable"}', "upstream unavailable"),
        (b"<html><body>502 Bad Gateway</body></html>\n", "<html><body>502 Bad Gateway</body></html>"),
        (b"\xff\xfeoops", "\ufffd\ufffdoops"),
        (b"", "the provider answered HTTP 502 without a message"),
    ],
)
def test_error_message_from_any_provider_body(body: bytes, message: str) -> None:
    assert orjson.loads(TRANSLATOR.error(502, body)) == {"error": {"message": message, "type": "server_error", "param": None, "code": None}}


def test_error_message_from_a_huge_body_is_cut() -> None:
    assert len(orjson.loads(TRANSLATOR.error(500, b"x" * 100_000))["error"]["message"]) == 1000


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------


urls = st.sampled_from([f"data:image/png;base64,{PNG}", "https://example.com/a.png", "data:image/png,x", "ftp://x", "data:application/pdf;base64,JVBER", "data:;base64,x"])
parts = st.one_of(
    text_parts,
    st.fixed_dictionaries({"type": st.just("image_url"), "image_url": mostly(st.fixed_dictionaries({"url": mostly(urls)}, optional={"detail": texts}))}, optional=breakpoints),
    st.fixed_dictionaries(
        {"type": st.just("file"), "file": mostly(st.fixed_dictionaries({}, optional={"file_data": mostly(urls), "file_id": texts, "filename": mostly(texts)}))}
    ),
    st.fixed_dictionaries({"type": st.just("input_audio"), "input_audio": mostly(st.fixed_dictionaries({"data": mostly(texts), "format": mostly(st.sampled_from(["wav", "mp3", "flac"]))}))}),
    st.fixed_dictionaries({"type": st.sampled_from(["refusal", "x"])}, optional={"refusal": mostly(texts)}),
)
messages = conversations(parts)
request_shaped = request_bodies(
    messages,
    response_format=mostly(
        st.fixed_dictionaries(
            {"type": st.sampled_from(["text", "json_schema", "json_object"])},
            optional={"json_schema": mostly(st.fixed_dictionaries({"schema": mostly(st.dictionaries(texts, json_values, max_size=2))}, optional={"name": mostly(texts), "description": mostly(texts)}))},
        )
    ),
)


@settings(max_examples=300, deadline=None)
@given(any_json_object() | request_shaped, st.sampled_from([UPSTREAM, "amazon.nova-lite-v1:0", "x"]))
def test_request_on_any_json_object_raises_nothing_but_unsupported_feature(body: dict[str, Any], upstream: str) -> None:
    try:
        out = TRANSLATOR.request(body, upstream)
    except UnsupportedFeature as e:
        assert isinstance(e.param, str) and isinstance(e.message, str)
    else:
        orjson.dumps(out)  # what it returns can be sent
        assert out["messages"] and all(message["content"] for message in out["messages"])
        roles = [message["role"] for message in out["messages"]]
        assert all(a != b for a, b in zip(roles, roles[1:], strict=False))  # the roles alternate
        assert not any(block.get("text") == "" for message in out["messages"] for block in message["content"])
        assert "toolConfig" in out or not any("toolUse" in b or "toolResult" in b for m in out["messages"] for b in m["content"])


@settings(max_examples=200, deadline=None)
@given(
    any_json_object()
    | st.fixed_dictionaries(
        {"output": st.fixed_dictionaries({"message": st.fixed_dictionaries({"content": st.lists(json_values, max_size=4)})})},
        optional={"usage": json_values, "stopReason": json_values},
    )
)
def test_response_of_any_json_object_is_a_chat_completion(body: dict[str, Any]) -> None:
    out, usage = TRANSLATOR.response(body, CLIENT_REQUEST)
    openai.types.chat.ChatCompletion.model_validate(out)
    assert isinstance(usage, Usage)


STREAMS = ["text_stream", "tool_stream", "thinking_stream", "error_stream"]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(STREAMS), st.data())
def test_a_stream_split_anywhere_translates_as_it_does_whole(name: str, data: st.DataObject) -> None:
    stream = bedrock_stream(name)
    whole_out, whole_usage = run_stream(stream)
    split_out, split_usage = run_stream(*cut_anywhere(stream, data))
    assert (normalized(openai_events(split_out)), split_usage) == (normalized(openai_events(whole_out)), whole_usage)


@pytest.mark.parametrize("name", STREAMS)
def test_a_stream_split_at_every_byte_translates_as_it_does_whole(name: str) -> None:
    stream = bedrock_stream(name)
    whole, _ = run_stream(stream)
    split, _ = run_stream(*(stream[i : i + 1] for i in range(len(stream))))
    assert normalized(openai_events(split)) == normalized(openai_events(whole))


golden_frames = [frames(tuple(pair)) for name in STREAMS for pair in fixture_json(f"{name}.bedrock.json")]
stream_pieces = (
    st.sampled_from(golden_frames)
    | st.binary(max_size=40)
    | st.tuples(st.sampled_from(["messageStart", "contentBlockStart", "contentBlockDelta", "contentBlockStop", "messageStop", "metadata", "x", "throttlingException"]), json_values).map(
        lambda pair: frames((pair[0], pair[1]))
    )
)


@settings(max_examples=300, deadline=None)
@given(st.lists(stream_pieces, max_size=16))
def test_any_bytes_fed_to_the_stream_translator_end_one_way_or_the_other(pieces: list[bytes]) -> None:
    assert_ended_one_way_or_the_other(run_stream(*pieces)[0])


def test_the_usage_chunk_comes_only_when_the_client_asked_for_it() -> None:
    # A client loop reading `chunk.choices[0]` must never meet a chunk without choices.
    asked = TRANSLATOR.stream({"model": CLIENT_MODEL, "stream_options": {"include_usage": True}})
    not_asked = TRANSLATOR.stream({"model": CLIENT_MODEL, "stream": True})
    with_usage = [e for e in normalized(openai_events(asked.feed(TEXT) + asked.finish())) if e is not DONE]
    without = [e for e in normalized(openai_events(not_asked.feed(TEXT) + not_asked.finish())) if e is not DONE]
    assert with_usage[-1]["choices"] == [] and with_usage[-1]["usage"]["completion_tokens"] > 0
    assert all(event["choices"] for event in without)
    assert [{**e, "created": 0} for e in without] == [{**e, "created": 0} for e in with_usage[:-1]]
    assert not_asked.usage == asked.usage  # the gateway still learns the usage
