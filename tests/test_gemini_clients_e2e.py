"""Gemini clients and providers through the real Envoy, with Google's official `google-genai` SDK.

An OpenAI-compatible, a Gemini and an Anthropic provider, all the mock; state-of-the-world and delta xDS.
"""

from __future__ import annotations

import os

import anthropic
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from harness import Gateway, Ports, start_gateway

pytestmark = pytest.mark.envoy

WORKERS = 1
GEMINI_KEY = "gemini-dialects-key"


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
    access_key: openai-dialects-key
    default: true
  - name: gem
    model: gem/gemini-mock
    base_url: {mock}/v1beta
    provider_interface: gemini
    access_key: $AIPLANE_E2E_GEMINI_KEY
  - name: claude
    model: claude/claude-mock
    base_url: {mock}/v1
    provider_interface: anthropic
    access_key: anthropic-dialects-key
{ports.gateway_section(WORKERS)}
"""


@pytest.fixture(scope="module", params=["sotw", "delta"])
def gateway(request, tmp_path_factory) -> Gateway:
    ports = Ports.pick(WORKERS)
    env = {**os.environ, "AIPLANE_E2E_GEMINI_KEY": GEMINI_KEY}
    gw = start_gateway(policy(ports), tmp_path_factory.mktemp(request.param), ports, delta=request.param == "delta", env=env)
    yield gw
    gw.stop()


@pytest.fixture
def gemini(gateway: Gateway) -> genai.Client:
    return genai.Client(api_key="client-key", http_options=types.HttpOptions(base_url=gateway.base_url, timeout=20_000))


@pytest.fixture
def gpt(gateway: Gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key="client-key", max_retries=0, timeout=20)


@pytest.mark.parametrize("model", ["gemini-mock", "mock-gpt", "claude-mock"])
def test_a_gemini_client_is_answered_in_geminis_shape(gemini, model):
    # From the Gemini provider as is, and from the others translated.
    response = gemini.models.generate_content(model=model, contents="Hello")
    assert response.text
    assert response.candidates[0].finish_reason == types.FinishReason.STOP
    assert response.usage_metadata.candidates_token_count > 0


@pytest.mark.parametrize("model", ["gemini-mock", "mock-gpt", "claude-mock"])
def test_a_gemini_client_streams(gemini, model):
    chunks = list(gemini.models.generate_content_stream(model=model, contents="Hello"))
    assert "".join(chunk.text or "" for chunk in chunks)
    finishing = [c for c in chunks if c.candidates and c.candidates[0].finish_reason]
    assert len(finishing) == 1 and finishing[0] is chunks[-1]


def test_a_gemini_client_gets_errors_in_googles_shape(gemini):
    with pytest.raises(genai_errors.ClientError) as caught:
        gemini.models.generate_content(model="no-such-model", contents="Hello")
    assert caught.value.code == 404 and caught.value.status == "NOT_FOUND"


def test_an_openai_client_reaches_a_gemini_provider_translated(gpt):
    raw = gpt.chat.completions.with_raw_response.create(model="gemini-mock", messages=[{"role": "user", "content": "Hello"}])
    completion = raw.parse()
    assert completion.choices[0].message.content and completion.choices[0].finish_reason == "stop"
    assert raw.headers["x-mock-path"] == "/v1beta/models/gemini-mock:generateContent"
    assert raw.headers["x-mock-goog-api-key"] == GEMINI_KEY
    chunks = list(gpt.chat.completions.create(model="gemini-mock", messages=[{"role": "user", "content": "Hi"}], stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) and chunks[-1].choices[0].finish_reason == "stop"


def test_an_anthropic_client_reaches_a_gemini_provider_translated(gateway):
    claude = anthropic.Anthropic(base_url=gateway.base_url, api_key="client-key", max_retries=0, timeout=20)
    raw = claude.messages.with_raw_response.create(model="gemini-mock", max_tokens=100, messages=[{"role": "user", "content": "Hello"}])
    message = raw.parse()
    assert message.type == "message" and message.content[0].text and message.stop_reason == "end_turn"
    assert raw.headers["x-mock-goog-api-key"] == GEMINI_KEY
    with claude.messages.stream(model="gemini-mock", max_tokens=100, messages=[{"role": "user", "content": "Hi"}]) as stream:
        assert "".join(stream.text_stream)
