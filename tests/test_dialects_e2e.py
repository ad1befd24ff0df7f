"""Clients and providers of different dialects behind one gateway, through the real Envoy.

Here the policy has an OpenAI-compatible and an Anthropic provider (both the mock), so every
client may meet a provider of another dialect and takes the translating decision filter.
"""

from __future__ import annotations

import os

import anthropic
import openai
import pytest
from harness import Gateway, Ports, start_gateway

pytestmark = pytest.mark.envoy

WORKERS = 1
OPENAI_KEY = "sk-dialects-openai"
ANTHROPIC_KEY = "sk-ant-dialects"
HELLO = [{"role": "user", "content": "Hello"}]


def policy(ports: Ports) -> str:
    mock = f"http://127.0.0.1:{ports.mock}"
    return f"""
version: v0.2.0
listeners:
  - {{type: model, name: llm, address: 127.0.0.1, port: {ports.listener}}}
model_providers:
  - name: gpt
    model: gpt/mock-gpt
    base_url: {mock}/v1
    provider_interface: openai
    access_key: {OPENAI_KEY}
    default: true
  - name: claude
    model: claude/claude-mock
    base_url: {mock}/v1
    provider_interface: anthropic
    access_key: $AIPLANE_E2E_ANTHROPIC_KEY
  - name: azure
    model: azure/mock-deployment
    base_url: {mock}
    provider_interface: azure_openai
    access_key: azure-dialects-key
{ports.gateway_section(WORKERS)}
"""


@pytest.fixture(scope="module", params=["sotw", "delta"])
def gateway(request, tmp_path_factory) -> Gateway:
    ports = Ports.pick(WORKERS)
    env = {**os.environ, "AIPLANE_E2E_ANTHROPIC_KEY": ANTHROPIC_KEY}
    gw = start_gateway(policy(ports), tmp_path_factory.mktemp(request.param), ports, delta=request.param == "delta", env=env)
    yield gw
    gw.stop()


@pytest.fixture
def claude(gateway: Gateway) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=gateway.base_url, api_key="client-key", max_retries=0, timeout=20)


@pytest.fixture
def gpt(gateway: Gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key="client-key", max_retries=0, timeout=20)


def test_an_anthropic_client_reaches_an_anthropic_provider_untranslated_with_the_gateways_key(claude):
    raw = claude.messages.with_raw_response.create(model="claude-mock", max_tokens=100, messages=HELLO)
    message = raw.parse()
    assert message.id.startswith("msg_mock_")  # the provider's own answer, not a translation
    assert message.content[0].text
    assert raw.headers["x-mock-path"] == "/v1/messages"
    assert raw.headers["x-mock-api-key"] == ANTHROPIC_KEY
    assert raw.headers["x-mock-authorization"] == "-"  # the client's own key is not forwarded


def test_an_anthropic_client_streams_from_an_anthropic_provider(claude):
    with claude.messages.stream(model="claude-mock", max_tokens=100, messages=HELLO) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text and final.stop_reason == "end_turn"


def test_an_openai_client_still_reaches_an_openai_provider_through_the_translating_filter(gpt):
    raw = gpt.chat.completions.with_raw_response.create(model="mock-gpt", messages=HELLO)
    assert raw.parse().choices[0].message.content
    assert raw.headers["x-mock-authorization"] == f"Bearer {OPENAI_KEY}"
    assert raw.headers["x-mock-api-key"] == "-"


def test_an_anthropic_client_reaches_an_openai_provider_translated(claude):
    message = claude.messages.create(model="gpt/mock-gpt", max_tokens=100, messages=HELLO)
    assert message.type == "message" and message.content[0].text


def test_an_openai_client_reaches_an_anthropic_provider_translated_with_the_right_key(gpt):
    raw = gpt.chat.completions.with_raw_response.create(model="claude/claude-mock", messages=HELLO)
    completion = raw.parse()
    assert completion.object == "chat.completion" and completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "stop" and completion.usage.completion_tokens > 0
    assert raw.headers["x-mock-path"] == "/v1/messages"
    assert raw.headers["x-mock-api-key"] == ANTHROPIC_KEY
    assert raw.headers["x-mock-authorization"] == "-"


def test_an_openai_client_streams_from_an_anthropic_provider(gpt):
    chunks = list(
        gpt.chat.completions.create(
            model="claude-mock", messages=HELLO, stream=True, extra_headers={"x-mock-chunks": "4"}
        )
    )
    # No usage chunk was asked for, so every chunk has a choice (the common client loop).
    assert all(chunk.choices for chunk in chunks)
    assert len([c for c in chunks if c.choices[0].delta.content]) == 4
    assert chunks[-1].choices[0].finish_reason == "stop"
    with_usage = list(
        gpt.chat.completions.create(
            model="claude-mock", messages=HELLO, stream=True, stream_options={"include_usage": True}
        )
    )
    assert with_usage[-1].choices == [] and with_usage[-1].usage.completion_tokens > 0


def test_an_openai_client_calls_tools_on_an_anthropic_provider(gpt):
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    headers = {"x-mock-tool-call": "get_weather", "x-mock-tool-arguments": '{"location": "Paris"}'}
    with gpt.chat.completions.stream(model="claude-mock", messages=HELLO, tools=tools, extra_headers=headers) as stream:
        final = stream.get_final_completion()
    call = final.choices[0].message.tool_calls[0]
    assert final.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather" and call.function.arguments == '{"location": "Paris"}'


def test_a_field_anthropic_cannot_express_is_a_400_naming_it(gpt):
    with pytest.raises(openai.BadRequestError) as caught:
        gpt.chat.completions.create(model="claude-mock", messages=HELLO, n=2)
    assert caught.value.code == "unsupported_feature" and caught.value.param == "n"
    assert caught.value.response.headers["x-aiplane-error"] == "unsupported_feature"


def test_an_azure_openai_deployment_is_called_on_its_path_with_its_key_header(gpt, claude):
    raw = gpt.chat.completions.with_raw_response.create(model="azure/mock-deployment", messages=HELLO)
    assert raw.parse().choices[0].message.content
    assert raw.headers["x-mock-path"] == "/openai/deployments/mock-deployment/chat/completions?api-version=2024-10-21"
    assert raw.headers["x-mock-azure-api-key"] == "azure-dialects-key"
    assert raw.headers["x-mock-authorization"] == "-"
    # Azure speaks OpenAI's bodies: an Anthropic client reaches it through the Anthropic/OpenAI translator.
    assert claude.messages.create(model="mock-deployment", max_tokens=50, messages=HELLO).content[0].text
