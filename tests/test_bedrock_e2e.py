"""AWS Bedrock behind the gateway, through the real Envoy, with the official SDKs of the three client dialects.

The mock plays Bedrock: Converse, ConverseStream (event-stream frames) and Titan embeddings, and it
checks every SigV4 signature with botocore, as AWS would. State-of-the-world and delta xDS.
"""

from __future__ import annotations

import base64
import os
import struct

import anthropic
import httpx
import openai
import pytest
from client_streams import anthropic_events, assert_anthropic_well_formed
from google import genai
from google.genai import types
from harness import Gateway, Ports, start_gateway

from aiplane.mock_provider import MOCK_AWS_ACCESS_KEY_ID, MOCK_AWS_SECRET_ACCESS_KEY

pytestmark = pytest.mark.envoy

WORKERS = 1
CLAUDE = "anthropic.claude-3-5-sonnet-20240620-v1:0"
BEDROCK_API_KEY = "bedrock-api-key-e2e"
HELLO = [{"role": "user", "content": "Hello"}]


def policy(ports: Ports) -> str:
    mock = f"http://127.0.0.1:{ports.mock}"
    return f"""
version: v0.3.0
listeners:
  - {{type: model, name: llm, address: 127.0.0.1, port: {ports.listener}}}
model_providers:
  - model: gpt/mock-gpt
    base_url: {mock}/v1
    provider_interface: openai
    access_key: openai-key
    default: true
  - model: bedrock/{CLAUDE}
    base_url: {mock}
    region: us-east-1
  - model: bedrock/amazon.titan-embed-text-v2:0
    base_url: {mock}
    region: us-east-1
  - model: keyed/amazon.nova-pro-v1:0
    provider_interface: amazon_bedrock
    base_url: {mock}
    region: us-west-2
    access_key: $AIPLANE_E2E_BEDROCK_API_KEY
  - model: forged/amazon.nova-lite-v1:0
    provider_interface: bedrock
    base_url: {mock}
    region: us-east-1
    aws_access_key_id: {MOCK_AWS_ACCESS_KEY_ID}
    aws_secret_access_key: not-the-secret
{ports.gateway_section(WORKERS)}
"""


@pytest.fixture(scope="module", params=["sotw", "delta"])
def gateway(request, tmp_path_factory) -> Gateway:
    ports = Ports.pick(WORKERS)
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": MOCK_AWS_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": MOCK_AWS_SECRET_ACCESS_KEY,
        "AIPLANE_E2E_BEDROCK_API_KEY": BEDROCK_API_KEY,
    }
    env.pop("AWS_SESSION_TOKEN", None)
    gw = start_gateway(policy(ports), tmp_path_factory.mktemp(request.param), ports, delta=request.param == "delta", env=env)
    yield gw
    gw.stop()


@pytest.fixture
def gpt(gateway: Gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key="client-key", max_retries=0, timeout=20)


@pytest.fixture
def claude(gateway: Gateway) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=gateway.base_url, api_key="client-key", max_retries=0, timeout=20)


@pytest.fixture
def gemini(gateway: Gateway) -> genai.Client:
    return genai.Client(api_key="client-key", http_options=types.HttpOptions(base_url=gateway.base_url, timeout=20_000))


def test_an_openai_client_reaches_bedrock_converse_signed_with_sigv4(gpt):
    raw = gpt.chat.completions.with_raw_response.create(model=CLAUDE, messages=HELLO)
    completion = raw.parse()
    assert completion.choices[0].message.content and completion.choices[0].finish_reason == "stop"
    assert completion.model == CLAUDE and completion.usage.completion_tokens > 0
    # The model id is one path segment, its `:` encoded; the mock checked the signature over it.
    assert raw.headers["x-mock-path"] == "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
    assert raw.headers["x-mock-authorization"].startswith(
        f"AWS4-HMAC-SHA256 Credential={MOCK_AWS_ACCESS_KEY_ID}/"
    )
    assert "/us-east-1/bedrock/aws4_request" in raw.headers["x-mock-authorization"]
    assert raw.headers["x-mock-signed-headers"] == "host;x-amz-date"


def test_an_openai_client_streams_from_bedrock(gpt):
    chunks = list(gpt.chat.completions.create(model=CLAUDE, messages=HELLO, stream=True, stream_options={"include_usage": True}, extra_headers={"x-mock-chunks": "4"}))
    texts = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(texts) == 4
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 4


def test_an_openai_client_round_trips_a_tool_call_through_bedrock(gpt):
    tools = [{"type": "function", "function": {"name": "weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]
    first = gpt.chat.completions.create(
        model=CLAUDE, messages=HELLO, tools=tools,
        extra_headers={"x-mock-tool-call": "weather", "x-mock-tool-arguments": '{"city": "Paris"}'},
    )
    call = first.choices[0].message.tool_calls[0]
    assert first.choices[0].finish_reason == "tool_calls" and call.function.name == "weather"
    assert call.function.arguments.replace(" ", "") == '{"city":"Paris"}'
    second = gpt.chat.completions.create(
        model=CLAUDE, tools=tools,
        messages=[*HELLO, first.choices[0].message.model_dump(exclude_none=True), {"role": "tool", "tool_call_id": call.id, "content": "18C"}],
    )
    assert "18C" in second.choices[0].message.content


def test_an_anthropic_client_reaches_bedrock_streamed_and_not(gateway, claude):
    message = claude.messages.create(model=CLAUDE, max_tokens=100, messages=HELLO)
    assert message.content[0].text and message.stop_reason == "end_turn" and message.model == CLAUDE
    with claude.messages.stream(model=CLAUDE, max_tokens=100, messages=HELLO, extra_headers={"x-mock-chunks": "3"}) as stream:
        final = stream.get_final_message()
    assert final.content[0].text and final.stop_reason == "end_turn" and final.usage.output_tokens == 3
    raw = httpx.post(
        f"{gateway.base_url}/v1/messages",
        json={"model": CLAUDE, "max_tokens": 100, "messages": HELLO, "stream": True},
        headers={"anthropic-version": "2023-06-01", "x-mock-chunks": "3"},
        timeout=20,
    )
    assert_anthropic_well_formed(anthropic_events(raw.content))  # one message_start, one message_stop


def test_a_gemini_client_reaches_bedrock_streamed_and_not(gemini):
    response = gemini.models.generate_content(model=CLAUDE, contents="Hello")
    assert response.text and response.candidates[0].finish_reason == types.FinishReason.STOP
    pieces = list(gemini.models.generate_content_stream(model=CLAUDE, contents="Hello", config=types.GenerateContentConfig(http_options=types.HttpOptions(headers={"x-mock-chunks": "3"}))))
    assert "".join(p.text or "" for p in pieces)
    assert pieces[-1].candidates[0].finish_reason == types.FinishReason.STOP


def test_a_bedrock_api_key_is_sent_as_a_bearer_token_unsigned(gpt):
    raw = gpt.chat.completions.with_raw_response.create(model="amazon.nova-pro-v1:0", messages=HELLO)
    assert raw.parse().choices[0].message.content
    assert raw.headers["x-mock-authorization"] == f"Bearer {BEDROCK_API_KEY}"
    assert raw.headers["x-mock-signed-headers"] == "-"


def test_a_wrong_secret_is_bedrocks_403_in_the_clients_dialect(gpt, claude):
    with pytest.raises(openai.PermissionDeniedError) as caught:
        gpt.chat.completions.create(model="amazon.nova-lite-v1:0", messages=HELLO)
    assert "signature we calculated does not match" in caught.value.message
    with pytest.raises(anthropic.PermissionDeniedError) as refused:
        claude.messages.create(model="amazon.nova-lite-v1:0", max_tokens=10, messages=HELLO)
    assert refused.value.body["error"]["type"] == "permission_error"


def test_a_bedrock_stream_failing_midway_ends_in_an_error_event(gateway):
    response = httpx.post(
        f"{gateway.base_url}/v1/chat/completions",
        json={"model": CLAUDE, "messages": HELLO, "stream": True},
        headers={"x-mock-chunks": "4", "x-mock-stream-error-after": "2"},
        timeout=20,
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    events = [line for line in response.text.split("\n") if line.startswith("data: ")]
    assert '"error"' in events[-1] and "mock overload" in events[-1]
    assert "data: [DONE]" not in response.text


def test_an_openai_client_embeds_with_titan_in_both_encodings(gpt):
    raw = gpt.embeddings.with_raw_response.create(model="amazon.titan-embed-text-v2:0", input="Hello", dimensions=256)
    embedded = raw.parse()  # the SDK asked for base64 and decoded it
    assert raw.headers["x-mock-path"] == "/model/amazon.titan-embed-text-v2%3A0/invoke"
    assert len(embedded.data) == 1 and len(embedded.data[0].embedding) == 256
    assert embedded.usage.prompt_tokens > 0
    as_floats = gpt.embeddings.create(model="amazon.titan-embed-text-v2:0", input="Hello", dimensions=256, encoding_format="float")
    assert as_floats.data[0].embedding == pytest.approx(embedded.data[0].embedding, rel=1e-6)
    packed = base64.b64decode(gpt.embeddings.with_raw_response.create(model="amazon.titan-embed-text-v2:0", input="Hello", dimensions=256).http_response.json()["data"][0]["embedding"])
    assert len(struct.unpack(f"<{256}f", packed)) == 256


def test_aws_secrets_reach_neither_envoy_nor_the_logs(gateway, gpt):
    gpt.chat.completions.create(model=CLAUDE, messages=HELLO)
    dump = gateway.config_dump()
    for secret in (MOCK_AWS_SECRET_ACCESS_KEY, "not-the-secret", BEDROCK_API_KEY):
        assert secret not in dump
        assert secret not in gateway.log()
