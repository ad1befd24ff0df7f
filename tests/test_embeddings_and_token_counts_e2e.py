"""OpenAI Embeddings and Anthropic's count_tokens through the real Envoy, with the official SDKs.

Embeddings reach an OpenAI-compatible provider and Azure as they are and Gemini translated; the mock
gives one text the same vector in every dialect, so the vectors must survive translation exactly.
count_tokens reaches an Anthropic provider as it is; for any other provider the gateway counts.
"""

from __future__ import annotations

import anthropic
import httpx
import openai
import pytest
from harness import Gateway, Ports, start_gateway

from aiplane.translate.token_count import count_tokens

pytestmark = pytest.mark.envoy

WORKERS = 1
TEXTS = ["The quick brown fox", "jumps over", "the lazy dog"]
HELLO = [{"role": "user", "content": "Hello, how many tokens is this?"}]


def policy(ports: Ports) -> str:
    mock = f"http://127.0.0.1:{ports.mock}"
    return f"""
version: v0.3.0
listeners:
  - {{type: model, name: llm, address: 127.0.0.1, port: {ports.listener}}}
model_providers:
  - model: gpt/text-embedding-3-small
    base_url: {mock}/v1
    provider_interface: openai
    access_key: openai-key
    default: true
  - model: azure/embedding-deployment
    base_url: {mock}
    provider_interface: azure_openai
    access_key: azure-key
  - model: gem/text-embedding-004
    base_url: {mock}/v1beta
    provider_interface: gemini
    access_key: gemini-key
  - model: claude/claude-mock
    base_url: {mock}/v1
    provider_interface: anthropic
    access_key: anthropic-key
{ports.gateway_section(WORKERS)}
"""


@pytest.fixture(scope="module")
def gateway(tmp_path_factory) -> Gateway:
    ports = Ports.pick(WORKERS)
    gw = start_gateway(policy(ports), tmp_path_factory.mktemp("embeddings"), ports)
    yield gw
    gw.stop()


@pytest.fixture
def gpt(gateway: Gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key="client-key", max_retries=0, timeout=20)


@pytest.fixture
def claude(gateway: Gateway) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=gateway.base_url, api_key="client-key", max_retries=0, timeout=20)


def vectors(response) -> list[list[float]]:
    return [item.embedding for item in sorted(response.data, key=lambda item: item.index)]


def test_an_openai_provider_gets_the_embeddings_request_as_it_is(gpt):
    raw = gpt.embeddings.with_raw_response.create(model="text-embedding-3-small", input=TEXTS, dimensions=64)
    assert raw.headers["x-mock-path"] == "/v1/embeddings"
    assert raw.headers["x-mock-authorization"] == "Bearer openai-key"
    assert [len(v) for v in vectors(raw.parse())] == [64, 64, 64]


def test_azure_gets_its_deployment_path_and_key(gpt):
    raw = gpt.embeddings.with_raw_response.create(model="embedding-deployment", input="Hello", dimensions=64)
    assert raw.headers["x-mock-path"] == "/openai/deployments/embedding-deployment/embeddings?api-version=2024-10-21"
    assert raw.headers["x-mock-azure-api-key"] == "azure-key"
    assert len(vectors(raw.parse())[0]) == 64


# Without an encoding_format the SDK asks for base64 itself, and decodes it.
@pytest.mark.parametrize("encoding", [{}, {"encoding_format": "float"}], ids=["base64", "float"])
def test_gemini_embeds_translated_and_the_vectors_arrive_intact(gpt, encoding):
    raw = gpt.embeddings.with_raw_response.create(model="text-embedding-004", input=TEXTS, dimensions=64, **encoding)
    assert raw.headers["x-mock-path"] == "/v1beta/models/text-embedding-004:batchEmbedContents"
    assert raw.headers["x-mock-goog-api-key"] == "gemini-key"
    translated = raw.parse()
    assert translated.model == "text-embedding-004" and translated.object == "list"
    reference = gpt.embeddings.create(model="text-embedding-3-small", input=TEXTS, dimensions=64, encoding_format="float")
    for got, expected in zip(vectors(translated), vectors(reference), strict=True):
        assert got == pytest.approx(expected, rel=1e-6)  # float32 on the wire when base64


def test_a_provider_without_embeddings_is_a_400_in_openais_shape(gpt):
    with pytest.raises(openai.BadRequestError) as caught:
        gpt.embeddings.create(model="claude-mock", input="Hello")
    assert caught.value.code == "unsupported_operation"
    assert "no embeddings endpoint" in caught.value.message


def test_a_field_the_provider_cannot_take_is_a_400_naming_it(gpt):
    with pytest.raises(openai.BadRequestError) as caught:
        gpt.embeddings.create(model="text-embedding-004", input=[[1, 2, 3]])
    assert caught.value.code == "unsupported_feature" and caught.value.param == "input"


def test_an_anthropic_provider_counts_its_own_tokens(claude):
    raw = claude.messages.with_raw_response.count_tokens(model="claude-mock", messages=HELLO)
    assert raw.headers["x-mock-path"] == "/v1/messages/count_tokens"
    assert raw.headers["x-mock-api-key"] == "anthropic-key"
    assert raw.parse().input_tokens > 0


def test_the_gateway_counts_for_a_provider_without_count_tokens(claude):
    raw = claude.messages.with_raw_response.count_tokens(model="text-embedding-3-small", system="Be brief", messages=HELLO)
    assert "x-mock-path" not in raw.headers  # answered by the gateway, no provider call
    expected = count_tokens({"model": "text-embedding-3-small", "system": "Be brief", "messages": HELLO})
    assert raw.parse().input_tokens == expected


def test_a_malformed_count_tokens_request_is_anthropics_400(gateway):
    response = httpx.post(
        f"{gateway.base_url}/v1/messages/count_tokens",
        json={"model": "text-embedding-3-small", "messages": "not a list"},
        headers={"anthropic-version": "2023-06-01"},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["type"] == "error" and response.json()["error"]["type"] == "invalid_request_error"
    assert "messages" in response.json()["error"]["message"]
