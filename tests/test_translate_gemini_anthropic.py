"""Gemini generateContent clients served by an Anthropic Messages provider: the translation, as a specification.

Golden exchanges live in tests/fixtures/gemini_anthropic (its README names their sources).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from gemini_client_requests import CLIENT_MODEL, CLIENT_REQUEST, split, translate_stream
from gemini_client_requests import assert_well_formed as well_formed
from gemini_client_requests import gemini_events as events
from google.genai import types
from hypothesis import given, settings
from hypothesis import strategies as st

from aiplane.translate import UnsupportedFeature
from aiplane.translate.gemini_anthropic import GeminiToAnthropic

FIXTURES = Path(__file__).parent / "fixtures" / "gemini_anthropic"
UPSTREAM = "claude-sonnet-4-5"
T = GeminiToAnthropic()


def fx(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def run(*chunks: bytes, request: dict[str, Any] | None = None) -> bytes:
    return translate_stream(T, *chunks, request=request)[0]


def sse(*evs: dict[str, Any]) -> bytes:
    return b"".join(b"event: %s\ndata: %s\n\n" % (e["type"].encode(), orjson.dumps(e)) for e in evs)


def req(**extra: Any) -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "model": CLIENT_MODEL, "stream": False, **extra}


# --- goldens --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["text_request", "tool_request"])
def test_request_goldens(name: str) -> None:
    assert T.request(orjson.loads(fx(f"{name}.gemini.json")), UPSTREAM) == orjson.loads(fx(f"{name}.anthropic.json"))


@pytest.mark.parametrize("name", ["text_response", "tool_response"])
def test_response_goldens(name: str) -> None:
    out, _ = T.response(orjson.loads(fx(f"{name}.anthropic.json")), CLIENT_REQUEST)
    assert out == orjson.loads(fx(f"{name}.gemini.json"))
    types.GenerateContentResponse.model_validate(out)


@pytest.mark.parametrize("name", ["text_stream", "tool_stream", "thinking_stream"])
def test_stream_goldens_and_split_anywhere(name: str) -> None:
    request = {"model": CLIENT_MODEL, "generationConfig": {"thinkingConfig": {"includeThoughts": name == "thinking_stream"}}}
    raw = fx(f"{name}.anthropic.sse")
    whole = run(raw, request=request)
    assert events(whole) == events(fx(f"{name}.gemini.sse"))
    well_formed(events(whole))
    for cut in range(0, len(raw), 7):
        assert events(run(raw[:cut], raw[cut:], request=request)) == events(whole)


def test_error_goldens() -> None:
    assert orjson.loads(T.error(404, fx("error_404.anthropic.json"))) == orjson.loads(fx("error_404.gemini.json"))
    evs = events(run(fx("error_stream.anthropic.sse")))
    assert evs[-1] == {"error": {"code": 503, "message": "Overloaded", "status": "UNAVAILABLE"}}


def test_error_any_bytes() -> None:
    body = orjson.loads(T.error(500, b"<html>oops</html>"))
    assert body["error"]["code"] == 500 and body["error"]["status"] == "INTERNAL" and "oops" in body["error"]["message"]


# --- request features -------------------------------------------------------------------------


def test_defaults_and_stream_key() -> None:
    out = T.request(req(stream=True), UPSTREAM)
    assert out == {"model": UPSTREAM, "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}], "max_tokens": 4096, "stream": True}


def test_generation_config() -> None:
    cfg = {"temperature": 0.5, "top_p": 0.9, "topK": 40, "maxOutputTokens": 100, "stopSequences": ["X"], "candidateCount": 1}
    out = T.request(req(generationConfig=cfg), UPSTREAM)
    assert (out["temperature"], out["top_p"], out["top_k"], out["max_tokens"], out["stop_sequences"]) == (0.5, 0.9, 40, 100, ["X"])


@pytest.mark.parametrize(
    "cfg, param",
    [
        ({"temperature": 1.5}, "generationConfig.temperature"),
        ({"candidateCount": 2}, "generationConfig.candidateCount"),
        ({"presencePenalty": 0.1}, "generationConfig.presencePenalty"),
        ({"seed": 1}, "generationConfig.seed"),
        ({"responseMimeType": "application/json"}, "generationConfig.responseMimeType"),
        ({"responseModalities": ["IMAGE"]}, "generationConfig.responseModalities[0]"),
        ({"maxOutputTokens": 500, "thinkingConfig": {"thinkingBudget": 2048}}, "generationConfig.thinkingConfig"),
    ],
)
def test_refused_config(cfg: dict[str, Any], param: str) -> None:
    with pytest.raises(UnsupportedFeature) as e:
        T.request(req(generationConfig=cfg), UPSTREAM)
    assert e.value.param == param


def test_thinking() -> None:
    out = T.request(req(generationConfig={"thinkingConfig": {"thinkingBudget": 2000}}), UPSTREAM)
    assert out["thinking"] == {"type": "enabled", "budget_tokens": 2000} and out["max_tokens"] == 6096
    out = T.request(req(generationConfig={"thinking_config": {"thinking_level": "high"}, "max_output_tokens": 20000}), UPSTREAM)
    assert out["thinking"]["budget_tokens"] == 16384 and out["max_tokens"] == 20000
    assert "thinking" not in T.request(req(generationConfig={"thinkingConfig": {"thinkingBudget": 0}}), UPSTREAM)


def test_system_images_and_pdf() -> None:
    body = req(
        system_instruction={"parts": [{"text": "a"}, {"text": "b"}]},
        contents=[
            {
                "role": "user",
                "parts": [
                    {"inline_data": {"mime_type": "image/png", "data": "iVBO-_w"}},
                    {"inlineData": {"mimeType": "application/pdf", "data": "JVBERi0="}},
                    {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://x.test/a.jpg"}},
                ],
            }
        ],
    )
    out = T.request(body, UPSTREAM)
    assert out["system"] == "a\n\nb"
    assert out["messages"][0]["content"] == [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBO+/w="}},
        {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="}},
        {"type": "image", "source": {"type": "url", "url": "https://x.test/a.jpg"}},
    ]
    for part, param in [
        ({"inlineData": {"mimeType": "audio/wav", "data": "AA"}}, "contents[0].parts[0].inlineData.mimeType"),
        ({"executableCode": {"code": "x"}}, "contents[0].parts[0].executableCode"),
    ]:
        with pytest.raises(UnsupportedFeature) as e:
            T.request(req(contents=[{"role": "user", "parts": [part]}]), UPSTREAM)
        assert e.value.param == param


def test_tool_round_trip_parallel_calls_by_name_and_order() -> None:
    call = lambda city: {"functionCall": {"name": "w", "args": {"city": city}}}  # noqa: E731
    answer = lambda city: {"functionResponse": {"name": "w", "response": {"t": city}}}  # noqa: E731
    body = req(
        contents=[
            {"role": "user", "parts": [{"text": "weather?"}]},
            {"role": "model", "parts": [call("A"), call("B")]},
            {"role": "user", "parts": [answer("A"), answer("B"), {"text": "thanks"}]},
        ],
        tools=[{"functionDeclarations": [{"name": "w", "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}}}]}],
        toolConfig={"functionCallingConfig": {"mode": "ANY"}},
        generationConfig={"thinkingConfig": {"thinkingBudget": 4000}},
    )
    out = T.request(body, UPSTREAM)
    assert [b["id"] for b in out["messages"][1]["content"]] == ["toolu_gemini_0", "toolu_gemini_1"]
    results = out["messages"][2]["content"]
    assert [(b["tool_use_id"], b["content"]) for b in results[:2]] == [("toolu_gemini_0", '{"t":"A"}'), ("toolu_gemini_1", '{"t":"B"}')]
    assert out["tools"][0]["input_schema"] == {"type": "object", "properties": {"city": {"type": "string"}}}
    assert out["tool_choice"] == {"type": "any"}
    assert "thinking" not in out  # a tool loop continues without thinking
    # the response's functionCall carries Anthropic's id, which the client sends back
    resp, _ = T.response({"content": [{"type": "tool_use", "id": "toolu_9", "name": "w", "input": {"city": "C"}}], "stop_reason": "tool_use"}, CLIENT_REQUEST)
    part = resp["candidates"][0]["content"]["parts"][0]
    again = req(contents=[{"role": "model", "parts": [part]}, {"role": "user", "parts": [{"functionResponse": {"id": "toolu_9", "name": "w", "response": {}}}]}])
    assert T.request(again, UPSTREAM)["messages"][1]["content"][0]["tool_use_id"] == "toolu_9"


def test_refused_tools() -> None:
    for tools, param in [([{"googleSearch": {}}], "tools[0].googleSearch")]:
        with pytest.raises(UnsupportedFeature) as e:
            T.request(req(tools=tools), UPSTREAM)
        assert e.value.param == param
    with pytest.raises(UnsupportedFeature):
        T.request(req(tools=[{"functionDeclarations": [{"name": "f"}]}], toolConfig={"functionCallingConfig": {"mode": "VALIDATED"}}), UPSTREAM)


# --- responses ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "stop, reason",
    [("end_turn", "STOP"), ("stop_sequence", "STOP"), ("tool_use", "STOP"), ("max_tokens", "MAX_TOKENS"), ("refusal", "SAFETY"), ("weird", "OTHER")],
)
def test_finish_reasons(stop: str, reason: str) -> None:
    out, _ = T.response({"content": [], "stop_reason": stop}, CLIENT_REQUEST)
    assert out["candidates"][0]["finishReason"] == reason
    evs = events(run(sse({"type": "message_start", "message": {"id": "m"}}, {"type": "message_delta", "delta": {"stop_reason": stop}}, {"type": "message_stop"})))
    assert well_formed(evs)["candidates"][0]["finishReason"] == reason


# --- streams -----------------------------------------------------------------------------------


@pytest.mark.parametrize("keep", [0, 1, 2, 3, 4])
def test_truncated_stream(keep: int) -> None:
    evs = [
        {"type": "message_start", "message": {"id": "m", "usage": {"input_tokens": 5}}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": '{"a":'}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": "1}"}},
    ]
    out = well_formed(events(run(sse(*evs[:keep]))))
    assert out["candidates"][0]["finishReason"] == "OTHER"


def test_not_json_ends_with_error() -> None:
    evs = events(run(b"data: nope\n\n" + sse({"type": "message_stop"})))
    assert len(evs) == 1 and evs[0]["error"]["code"] == 502  # and nothing after it


@settings(max_examples=300, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(), lambda c: st.lists(c) | st.dictionaries(st.text(), c), max_leaves=20))
def test_request_raises_only_unsupported(body: Any) -> None:
    for candidate in (body, {"contents": body}, {"contents": [{"parts": body}]}, {"contents": [{"parts": [body]}]}, req(generationConfig=body), req(tools=body)):
        try:
            T.request(candidate, UPSTREAM)
        except UnsupportedFeature:
            pass


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.integers(min_value=0, max_value=300))
def test_arbitrary_bytes_never_raise(data: bytes, cut: int) -> None:
    run(data[:cut], data[cut:])
    T.error(500, data)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(["text_stream", "tool_stream", "thinking_stream"]), st.lists(st.integers(min_value=0, max_value=4000), max_size=6))
def test_split_anywhere_equals_whole(name: str, cuts: list[int]) -> None:
    raw = fx(f"{name}.anthropic.sse")
    assert run(*split(raw, cuts)) == run(raw)


THINKING_ANSWER = {"model": "claude-sonnet-4-5-20250929", "content": [{"type": "thinking", "thinking": "Hmm.", "signature": "s"}, {"type": "text", "text": "4"}], "stop_reason": "end_turn"}
ASKED_FOR_THOUGHTS = {**CLIENT_REQUEST, "generationConfig": {"thinkingConfig": {"includeThoughts": True}}}


def test_thinking_reaches_only_a_client_that_asked_for_thoughts() -> None:
    asked, _ = T.response(THINKING_ANSWER, ASKED_FOR_THOUGHTS)
    assert asked["candidates"][0]["content"]["parts"] == [{"text": "Hmm.", "thought": True}, {"text": "4"}]
    plain, _ = T.response(THINKING_ANSWER, CLIENT_REQUEST)
    assert plain["candidates"][0]["content"]["parts"] == [{"text": "4"}]


def test_model_version_is_the_providers_model_or_else_the_one_the_client_asked_for() -> None:
    assert T.response(THINKING_ANSWER, CLIENT_REQUEST)[0]["modelVersion"] == "claude-sonnet-4-5-20250929"
    assert T.response({"content": [], "stop_reason": "end_turn"}, CLIENT_REQUEST)[0]["modelVersion"] == CLIENT_MODEL
