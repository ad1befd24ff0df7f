"""Anthropic clients through the real Envoy: the official `anthropic` SDK against an OpenAI-compatible provider.

The gateway and its policy are the ones `test_gateway_e2e` uses (state-of-the-world and delta xDS).
"""

from __future__ import annotations

import anthropic
import httpx
import pytest
from test_gateway_e2e import SECRET, gateway  # noqa: F401 (the fixture)

pytestmark = pytest.mark.envoy

HELLO = [{"role": "user", "content": "Hello"}]
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "The weather in a city",
    "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
}


@pytest.fixture
def claude(gateway) -> anthropic.Anthropic:  # noqa: F811 (the fixture)
    return anthropic.Anthropic(base_url=gateway.base_url, api_key="client-anthropic-key", max_retries=0, timeout=20)


def test_a_message_is_answered_in_anthropics_shape_with_the_gateways_key(claude):
    raw = claude.messages.with_raw_response.create(model="mock-gpt", max_tokens=200, messages=HELLO, system="Be brief")
    message = raw.parse()
    assert message.type == "message" and message.role == "assistant"
    assert message.content[0].type == "text" and message.content[0].text
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0
    assert raw.headers["x-mock-authorization"] == f"Bearer {SECRET}"
    assert raw.headers["x-mock-path"] == "/v1/chat/completions"


def test_a_streamed_message_has_exactly_one_start_and_one_stop(claude):
    events = list(
        claude.messages.create(
            model="mock-gpt", max_tokens=200, messages=HELLO, stream=True, extra_headers={"x-mock-chunks": "6"}
        )
    )
    kinds = [event.type for event in events]
    assert kinds.count("message_start") == 1 and kinds[0] == "message_start"
    assert kinds.count("message_stop") == 1 and kinds[-1] == "message_stop"
    deltas = [e.delta.text for e in events if e.type == "content_block_delta"]
    assert len(deltas) == 6
    message_delta = next(e for e in events if e.type == "message_delta")
    assert message_delta.delta.stop_reason == "end_turn" and message_delta.usage.output_tokens > 0


def test_the_sdks_stream_helper_assembles_the_final_message(claude):
    with claude.messages.stream(model="fast", max_tokens=200, messages=HELLO) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text and final.content[0].text == text


def tool_call_headers() -> dict[str, str]:
    return {"x-mock-tool-call": "get_weather", "x-mock-tool-arguments": '{"location": "Paris", "unit": "celsius"}'}


@pytest.mark.parametrize("streamed", [False, True])
def test_a_tool_call_round_trip(claude, streamed):
    ask = {"model": "mock-gpt", "max_tokens": 200, "tools": [WEATHER_TOOL], "extra_headers": tool_call_headers()}
    question = [{"role": "user", "content": "Weather in Paris?"}]
    if streamed:
        with claude.messages.stream(messages=question, **ask) as stream:
            first = stream.get_final_message()
    else:
        first = claude.messages.create(messages=question, **ask)
    assert first.stop_reason == "tool_use"
    call = next(block for block in first.content if block.type == "tool_use")
    assert call.name == "get_weather" and call.input == {"location": "Paris", "unit": "celsius"}

    answer = claude.messages.create(
        model="mock-gpt",
        max_tokens=200,
        tools=[WEATHER_TOOL],
        messages=[
            *question,
            {"role": "assistant", "content": [block.model_dump(exclude_none=True) for block in first.content]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "18 degrees"}]},
        ],
    )
    assert "18 degrees" in answer.content[0].text


def test_errors_come_in_anthropics_shape(claude, gateway):  # noqa: F811 (the fixture)
    with pytest.raises(anthropic.NotFoundError) as caught:
        claude.messages.create(model="no-such-model", max_tokens=10, messages=HELLO)
    assert caught.value.body["error"]["type"] == "not_found_error"
    assert caught.value.response.headers["x-aiplane-error"] == "model_not_found"

    with pytest.raises(anthropic.RateLimitError) as caught:
        claude.messages.create(model="mock-gpt", max_tokens=10, messages=HELLO, extra_headers={"x-mock-status": "429"})
    assert caught.value.body["type"] == "error" and caught.value.body["error"]["type"] == "rate_limit_error"

    with pytest.raises(anthropic.InternalServerError) as caught:
        claude.messages.create(model="dead/dead-gpt", max_tokens=10, messages=HELLO)
    assert caught.value.status_code == 503
    assert caught.value.body["error"]["type"] == "overloaded_error"
    assert caught.value.response.headers["x-aiplane-error"] == "provider_unreachable"

    malformed = httpx.post(f"{gateway.base_url}/v1/messages", content=b"{nope", timeout=10)
    assert malformed.status_code == 400 and malformed.json()["error"]["type"] == "invalid_request_error"


def test_models_are_listed_in_anthropics_shape(claude):
    ids = [model.id for model in claude.models.list()]
    assert "mock/mock-gpt" in ids and "fast" in ids
