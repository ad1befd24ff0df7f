"""aiplane end to end: the official OpenAI SDK → the real Envoy → aiplane's decision → the mock provider.

Every test runs twice, with Envoy configured over state-of-the-world and over delta xDS.
"""

from __future__ import annotations

import os

import httpx
import openai
import pytest
from harness import Gateway, Ports, start_gateway

pytestmark = pytest.mark.envoy

SECRET = "sk-aiplane-e2e-secret-7f3a9c"
CLIENT_KEY = "client-own-key-123"
WORKERS = 2
BODY_LIMIT = 64 * 1024


def policy(ports: Ports) -> str:
    mock = f"http://127.0.0.1:{ports.mock}"
    return f"""
version: v0.2.0
listeners:
  - type: model
    name: llm
    address: 127.0.0.1
    port: {ports.listener}
model_providers:
  - name: mock
    model: mock/mock-gpt
    base_url: {mock}/v1
    access_key: $AIPLANE_E2E_KEY
    default: true
  - name: prefixed
    model: prefixed/prefixed-gpt
    base_url: {mock}/custom/prefix
    provider_interface: openai
    access_key: prefixed-key
  - name: passthrough
    model: passthrough/pass-gpt
    base_url: {mock}/v1
    provider_interface: openai
    passthrough_auth: true
  - name: dead
    model: dead/dead-gpt
    base_url: http://127.0.0.1:{ports.dead}/v1
    provider_interface: openai
    access_key: dead-key
  - name: slow
    model: slow/slow-gpt
    base_url: {mock}/v1
    provider_interface: openai
    access_key: slow-key
    timeout: 0.5s
  - name: secure
    model: secure/tls-gpt
    base_url: https://127.0.0.1:{ports.dead}/v1
    provider_interface: openai
    access_key: secure-key
  - model: openai/*
    access_key: $AIPLANE_E2E_UNSET_KEY
model_aliases:
  fast:
    target: mock/mock-gpt
{ports.gateway_section(WORKERS)}
  max_request_body_bytes: {BODY_LIMIT}
"""


@pytest.fixture(scope="module", params=["sotw", "delta"])
def gateway(request, tmp_path_factory) -> Gateway:
    ports = Ports.pick(WORKERS)
    env = {k: v for k, v in os.environ.items() if k != "AIPLANE_E2E_UNSET_KEY"}
    env["AIPLANE_E2E_KEY"] = SECRET
    gw = start_gateway(
        policy(ports), tmp_path_factory.mktemp(request.param), ports, delta=request.param == "delta", env=env
    )
    yield gw
    gw.stop()


@pytest.fixture
def client(gateway: Gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key=CLIENT_KEY, max_retries=0, timeout=20)


def chat(client: openai.OpenAI, model: str, **kwargs):
    return client.chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": "Hello"}], **kwargs
    )


def test_a_completion_reaches_the_provider_with_the_gateways_key_not_the_clients(client, gateway):
    raw = chat(client, "mock-gpt")
    completion = raw.parse()
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content
    assert completion.model == "mock-gpt"
    assert raw.headers["x-mock-authorization"] == f"Bearer {SECRET}"
    assert raw.headers["x-mock-path"] == "/v1/chat/completions"
    assert raw.headers["x-mock-host"] == f"127.0.0.1:{gateway.ports.mock}"


def test_provider_slash_model_and_alias_and_default_resolve_to_the_provider_model(client):
    for requested in ("mock/mock-gpt", "fast", "default"):
        completion = chat(client, requested).parse()
        assert completion.model == "mock-gpt", requested


def test_streaming_arrives_as_chunks_with_a_final_usage_chunk(client):
    stream = client.chat.completions.create(
        model="mock-gpt",
        messages=[{"role": "user", "content": "Hello"}],
        stream=True,
        stream_options={"include_usage": True},
        extra_headers={"x-mock-chunks": "7"},
    )
    chunks = list(stream)
    content = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(content) == 7
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


def test_streaming_is_not_buffered_by_the_gateway(gateway):
    # Chunks 300 ms apart must reach the client one by one, not all at the end.
    import time

    body = {"model": "mock-gpt", "stream": True, "messages": [{"role": "user", "content": "Hi"}]}
    headers = {"x-mock-chunks": "3", "x-mock-chunk-interval-ms": "300"}
    arrivals = []
    start = time.monotonic()
    with httpx.stream("POST", f"{gateway.base_url}/v1/chat/completions", json=body, headers=headers, timeout=20) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("data:"):
                arrivals.append(time.monotonic() - start)
    assert arrivals[-1] - arrivals[0] > 0.5
    assert arrivals[0] < 0.5


def test_a_base_url_path_is_a_prefix_and_the_model_is_renamed_for_the_provider(client):
    raw = chat(client, "prefixed/prefixed-gpt")
    assert raw.headers["x-mock-path"] == "/custom/prefix/v1/chat/completions"
    assert raw.headers["x-mock-authorization"] == "Bearer prefixed-key"
    assert raw.parse().model == "prefixed-gpt"


def test_a_client_cannot_choose_the_provider_route_itself(client):
    # The decision still runs and overwrites the header: the mock gets the gateway's key, not the client's.
    raw = chat(client, "mock-gpt", extra_headers={"x-aiplane-route": "passthrough"})
    assert raw.headers["x-mock-authorization"] == f"Bearer {SECRET}"


def test_passthrough_auth_forwards_the_clients_own_key(client):
    raw = chat(client, "passthrough/pass-gpt")
    assert raw.headers["x-mock-authorization"] == f"Bearer {CLIENT_KEY}"


def test_models_lists_the_configured_models_and_aliases(client):
    ids = {m.id for m in client.models.list()}
    assert {"mock/mock-gpt", "prefixed/prefixed-gpt", "passthrough/pass-gpt", "fast"} <= ids
    assert not any(i.startswith("openai/") for i in ids)  # disabled: no key


def test_an_unknown_model_is_a_404_model_not_found(client):
    with pytest.raises(openai.NotFoundError) as caught:
        chat(client, "no-such-model")
    assert caught.value.code == "model_not_found"
    assert caught.value.response.headers["x-aiplane-error"] == "model_not_found"


def test_a_provider_without_its_key_is_refused_with_the_reason(client):
    with pytest.raises(openai.InternalServerError) as caught:
        chat(client, "openai/gpt-4o")
    assert caught.value.status_code == 503
    assert caught.value.code == "provider_disabled"
    assert "AIPLANE_E2E_UNSET_KEY" in caught.value.message


@pytest.mark.parametrize("model", ["dead/dead-gpt", "secure/tls-gpt"])
def test_an_unreachable_provider_is_a_503_in_openai_shape(client, model):
    with pytest.raises(openai.InternalServerError) as caught:
        chat(client, model)
    assert caught.value.status_code == 503
    assert caught.value.code == "provider_unreachable"
    assert caught.value.response.headers["x-aiplane-error"] == "provider_unreachable"


def test_a_provider_slower_than_its_timeout_is_a_504_in_openai_shape(client):
    with pytest.raises(openai.APIStatusError) as caught:
        chat(client, "slow/slow-gpt", extra_headers={"x-mock-latency-ms": "1500"})
    assert caught.value.status_code == 504
    assert caught.value.response.headers["x-aiplane-error"] == "provider_timeout"
    assert caught.value.response.json()["error"]["code"] == "provider_timeout"


def post(gateway: Gateway, content, headers=None) -> httpx.Response:
    return httpx.post(
        f"{gateway.base_url}/v1/chat/completions",
        content=content,
        headers={"content-type": "application/json", **(headers or {})},
        timeout=20,
    )


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "invalid_json"),
        (b"[1, 2]", 400, "invalid_json"),
        (b'{"messages": []}', 400, "missing_model"),
        (b'{"model": 7, "messages": []}', 400, "missing_model"),
    ],
)
def test_bad_requests_get_an_openai_error(gateway, body, status, code):
    response = post(gateway, body)
    assert response.status_code == status
    assert response.headers["x-aiplane-error"] == code
    error = response.json()["error"]
    assert error["code"] == code and error["type"] == "invalid_request_error" and error["message"]


def test_a_body_under_the_limit_is_served(gateway):
    body = b'{"model": "mock-gpt", "messages": [{"role": "user", "content": "' + b"x" * (BODY_LIMIT - 1024) + b'"}]}'
    assert post(gateway, body).status_code == 200


def test_a_body_over_the_limit_is_a_413_whether_sized_or_chunked(gateway):
    big = b'{"model": "mock-gpt", "messages": [{"role": "user", "content": "' + b"x" * BODY_LIMIT + b'"}]}'
    sized = post(gateway, big)
    chunked = post(gateway, (big[i : i + 8192] for i in range(0, len(big), 8192)))
    for response in (sized, chunked):
        assert response.status_code == 413
        assert response.headers["x-aiplane-error"] == "request_too_large"
        assert response.json()["error"]["code"] == "request_too_large"


def test_an_unserved_path_is_a_404_in_openai_shape(gateway):
    response = httpx.get(f"{gateway.base_url}/v1/nothing-here", timeout=10)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unsupported_route"


def test_provider_errors_pass_through_with_their_status(client):
    with pytest.raises(openai.RateLimitError) as caught:
        chat(client, "mock-gpt", extra_headers={"x-mock-status": "429"})
    assert caught.value.status_code == 429


def test_the_provider_key_appears_nowhere_in_envoy_or_aiplane_logs(client, gateway):
    chat(client, "mock-gpt")  # the key has been used at least once
    dump = gateway.config_dump()
    assert "aiplane_extproc" in dump  # a real dump, not an error page
    assert SECRET not in dump
    assert SECRET not in gateway.log()
    assert "prefixed-key" not in dump


def test_config_is_active_in_envoy_not_warming(gateway):
    dump = httpx.get(f"http://127.0.0.1:{gateway.ports.envoy_admin}/config_dump", timeout=5).json()
    listeners = next(c for c in dump["configs"] if c["@type"].endswith("ListenersConfigDump"))
    dynamic = listeners["dynamic_listeners"]
    assert [d["name"] for d in dynamic] == ["llm_llm"]
    assert all("active_state" in d and "warming_state" not in d for d in dynamic)
    clusters = next(c for c in dump["configs"] if c["@type"].endswith("ClustersConfigDump"))
    active = {c["cluster"]["name"]: c["cluster"] for c in clusters["dynamic_active_clusters"]}
    assert "aiplane_extproc" in active and "dynamic_warming_clusters" not in clusters
    tls = active[f"llm|https|127.0.0.1|{gateway.ports.dead}"]["transport_socket"]["typed_config"]
    assert tls["sni"] == "127.0.0.1"
