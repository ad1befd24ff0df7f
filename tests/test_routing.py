"""Model resolution and the decision server's answers, without Envoy."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from envoy.config.core.v3.base_pb2 import HeaderMap, HeaderValue
from envoy.extensions.filters.http.ext_proc.v3.processing_mode_pb2 import ProcessingMode
from envoy.service.ext_proc.v3.external_processor_pb2 import HttpBody, HttpHeaders

from aiplane import dialects
from aiplane.dialects import ClientCall
from aiplane.extproc import decisions
from aiplane.extproc.decisions import Exchange
from aiplane.extproc.routing import ADD_IF_ABSENT, RoutingTable
from aiplane.policy import parse_policy

POLICY = """
version: v0.2.0
model_providers:
  - name: mock
    model: mock/mock-gpt
    base_url: http://127.0.0.1:18100/v1
    provider_interface: openai
    access_key: $MOCK_KEY
    default: true
  - model: openai/gpt-4o
    access_key: $OPENAI_API_KEY
  - model: openai/*
    access_key: $OPENAI_API_KEY
  - model: groq/*
    access_key: $GROQ_API_KEY
  - name: local
    model: ollama/llama3
    base_url: http://127.0.0.1:11434
    passthrough_auth: true
  - model: gemini/gemini-2.5-flash
    access_key: $MOCK_KEY
model_aliases:
  fast: {target: mock/mock-gpt}
  smart: {target: openai/gpt-4o-mini}
"""


def table(**env: str) -> RoutingTable:
    env = {"MOCK_KEY": "mk", **env}
    return RoutingTable(parse_policy(POLICY, env=env), env=env)


def resolved(t: RoutingTable, model: str) -> tuple[str, str] | None:
    r = t.resolve(model)
    return None if r is None else (r.route.provider, r.upstream_model)


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        ("mock/mock-gpt", ("mock", "mock-gpt")),  # provider/name
        ("mock-gpt", ("mock", "mock-gpt")),  # bare name
        ("fast", ("mock", "mock-gpt")),  # alias
        ("openai/gpt-4o", ("openai/gpt-4o", "gpt-4o")),  # exact entry beats the wildcard
        ("openai/o3-mini", ("openai/*", "o3-mini")),  # wildcard
        ("smart", ("openai/*", "gpt-4o-mini")),  # alias to a wildcard-offered model
        ("default", ("mock", "mock-gpt")),  # Plano clients ask for the default this way
        ("", ("mock", "mock-gpt")),
        ("llama3", ("local", "llama3")),
        ("no-such-model", None),
        ("nosuchprovider/x", None),
        ("openai/", None),
    ],
)
def test_model_resolution(requested, expected):
    assert resolved(table(OPENAI_API_KEY="ok", GROQ_API_KEY="gk"), requested) == expected


def test_a_bare_name_goes_to_the_only_enabled_wildcard_provider():
    assert resolved(table(OPENAI_API_KEY="ok"), "gpt-5") == ("openai/*", "gpt-5")
    assert resolved(table(OPENAI_API_KEY="ok", GROQ_API_KEY="gk"), "gpt-5") is None  # ambiguous


def test_a_provider_without_its_key_resolves_but_is_disabled():
    r = table().resolve("openai/gpt-4o")
    assert r is not None and "OPENAI_API_KEY" in r.route.disabled


def test_a_pair_without_a_translator_is_a_400_in_the_clients_dialect(monkeypatch):
    # Validation refuses such a policy (test_policy); a worker still refuses such a pair, should a
    # policy validated elsewhere, by a gateway with more translators, reach it.
    routes = table()
    monkeypatch.delitem(dialects.TRANSLATORS, ("anthropic", "gemini"))
    body = HttpBody(body=b'{"model": "gemini/gemini-2.5-flash", "max_tokens": 5, "messages": []}', end_of_stream=True)
    immediate = decisions.on_request_body(routes, Exchange(ClientCall("anthropic")), body).immediate_response
    assert immediate.status.code == 400
    error = orjson.loads(immediate.body)
    assert error["type"] == "error" and error["error"]["type"] == "invalid_request_error"
    assert "gemini" in error["error"]["message"]


def test_models_list_has_enabled_models_and_usable_aliases():
    ids = [m["id"] for m in orjson.loads(table().models_body)["data"]]
    assert ids == ["mock/mock-gpt", "ollama/llama3", "gemini/gemini-2.5-flash", "fast"]


def headers(method: str, path: str, end_of_stream: bool = False, **extra: str) -> HttpHeaders:
    pairs = {":method": method, ":path": path, **{k.replace("_", "-"): v for k, v in extra.items()}}
    return HttpHeaders(
        headers=HeaderMap(headers=[HeaderValue(key=k, raw_value=v.encode()) for k, v in pairs.items()]),
        end_of_stream=end_of_stream,
    )


def mutation_of(response) -> dict[str, str]:
    common = response.request_body.response
    return {h.header.key: h.header.raw_value.decode() for h in common.header_mutation.set_headers}


def default_table(**env: str) -> RoutingTable:
    text = (Path(__file__).resolve().parent.parent / "config" / "aiplane.yaml").read_text()
    return RoutingTable(parse_policy(text, env=env), env=env)


def test_request_headers_wait_for_the_body_of_a_chat_completion():
    # Every provider of the default policy speaks OpenAI: nothing to translate, no response phases.
    decision = decisions.on_request_headers(default_table(), headers("POST", "/v1/chat/completions?x=1"))
    assert decision.exchange.client == "openai" and decision.response == decisions.CONTINUE_HEADERS


def test_a_client_that_may_meet_another_dialect_switches_the_response_phase_on():
    # This policy also has a Gemini provider.
    decision = decisions.on_request_headers(table(), headers("POST", "/v1/chat/completions"))
    assert decision.response.mode_override.response_header_mode == ProcessingMode.SEND


def test_a_gemini_client_names_the_model_and_streaming_in_the_path():
    path = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    call = decisions.on_request_headers(table(), headers("POST", path)).exchange.call
    assert (call.dialect, call.model, call.stream) == ("gemini", "gemini-2.5-flash", True)
    listed = orjson.loads(decisions.on_request_headers(table(), headers("GET", "/v1beta/models")).response.immediate_response.body)
    assert listed["models"][0]["name"] == "models/mock/mock-gpt"


def test_a_client_that_may_meet_its_own_dialect_decides_the_answers_body_at_its_headers():
    # OpenAI clients may meet the OpenAI providers here: the body phase stays off until the answer says.
    mode = decisions.on_request_headers(table(), headers("POST", "/v1/chat/completions")).response.mode_override
    assert (mode.response_header_mode, mode.response_body_mode) == (ProcessingMode.SEND, ProcessingMode.NONE)


def test_a_client_no_provider_speaks_to_gets_its_whole_answer_in_full_duplex():
    # No provider here speaks Anthropic's API: every answer is translated, and the first chunk
    # need not wait for the answer to the headers.
    decision = decisions.on_request_headers(table(), headers("POST", "/v1/messages"))
    assert decision.exchange.client == "anthropic" and decision.exchange.duplex
    mode = decision.response.mode_override
    assert (mode.request_header_mode, mode.request_body_mode) == (ProcessingMode.SEND, ProcessingMode.BUFFERED)
    assert (mode.response_header_mode, mode.response_body_mode) == (ProcessingMode.SEND, ProcessingMode.FULL_DUPLEX_STREAMED)
    assert mode.response_trailer_mode == ProcessingMode.SEND


def duplex_exchange(body: dict) -> Exchange:
    exchange = decisions.on_request_headers(table(), headers("POST", "/v1/messages")).exchange
    decisions.on_request_body(table(), exchange, HttpBody(body=orjson.dumps(body), end_of_stream=True))
    return exchange


def response_headers(status: int, content_type: str) -> HttpHeaders:
    pairs = {":status": str(status), "content-type": content_type}
    return HttpHeaders(headers=HeaderMap(headers=[HeaderValue(key=k, raw_value=v.encode()) for k, v in pairs.items()]))


def streamed(response) -> tuple[bytes, bool]:
    out = response.response_body.response.body_mutation.streamed_response
    return out.body, out.end_of_stream


def test_in_full_duplex_a_json_answer_is_gathered_from_its_chunks_and_translated_at_its_end():
    exchange = duplex_exchange({"model": "fast", "max_tokens": 10, "messages": [{"role": "user", "content": "Hi"}]})
    answer = decisions.on_response_headers(exchange, response_headers(200, "application/json"))
    assert not answer.HasField("mode_override")  # the modes were set at the request's headers
    raw = orjson.dumps({"id": "c1", "model": "mock-gpt", "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello"}, "finish_reason": "stop"}]})
    first = decisions.on_response_body(exchange, HttpBody(body=raw[:20]))
    assert streamed(first) == (b"", False)
    body, end = streamed(decisions.on_response_body(exchange, HttpBody(body=raw[20:], end_of_stream=True)))
    assert end and orjson.loads(body)["content"] == [{"type": "text", "text": "Hello"}]


def test_in_full_duplex_a_stream_is_translated_chunk_by_chunk_and_ended_once():
    exchange = duplex_exchange({"model": "fast", "max_tokens": 10, "stream": True, "messages": [{"role": "user", "content": "Hi"}]})
    decisions.on_response_headers(exchange, response_headers(200, "text/event-stream"))
    chunk = b'data: {"id":"c1","model":"m","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}\n\n'
    body, end = streamed(decisions.on_response_body(exchange, HttpBody(body=chunk)))
    assert b"event: message_start" in body and b"Hi" in body and not end
    body, end = streamed(decisions.on_response_body(exchange, HttpBody(body=b"data: [DONE]\n\n", end_of_stream=True)))
    assert end and body.count(b"event: message_stop") == 1


@pytest.mark.parametrize(
    ("request_headers", "status", "code"),
    [
        (headers("POST", "/v1/chat/completions", end_of_stream=True), 400, "invalid_json"),
        (headers("GET", "/v1/chat/completions"), 404, "unsupported_route"),
        (headers("POST", "/v2/anything"), 404, "unsupported_route"),
    ],
)
def test_request_headers_reject_what_needs_no_body(request_headers, status, code):
    response = decisions.on_request_headers(table(), request_headers).response
    immediate = response.immediate_response
    assert immediate.status.code == status
    assert orjson.loads(immediate.body)["error"]["code"] == code


def test_models_is_answered_from_the_policy_in_the_clients_shape():
    immediate = decisions.on_request_headers(table(), headers("GET", "/v1/models")).response.immediate_response
    assert immediate.status.code == 200 and orjson.loads(immediate.body)["object"] == "list"
    anthropic = headers("GET", "/v1/models", anthropic_version="2023-06-01")
    listed = orjson.loads(decisions.on_request_headers(table(), anthropic).response.immediate_response.body)
    assert listed["data"][0] == {"type": "model", "id": "mock/mock-gpt", "display_name": "mock/mock-gpt", "created_at": "1970-01-01T00:00:00Z"}
    assert listed["has_more"] is False


def test_the_body_is_rewritten_for_the_provider_with_credentials_and_route():
    body = orjson.dumps({"model": "fast", "messages": [{"role": "user", "content": "hi"}]})
    response = decisions.on_request_body(table(), Exchange(ClientCall("openai")), HttpBody(body=body, end_of_stream=True))
    common = response.request_body.response
    assert common.clear_route_cache
    new_body = common.body_mutation.body
    assert orjson.loads(new_body)["model"] == "mock-gpt"
    set_headers = mutation_of(response)
    assert set_headers[":path"] == "/v1/chat/completions"
    assert set_headers[":authority"] == "127.0.0.1:18100"
    assert set_headers["x-aiplane-route"] == "mock"
    assert set_headers["authorization"] == "Bearer mk"
    assert set_headers["content-length"] == str(len(new_body))


def test_an_unchanged_model_leaves_the_body_alone():
    body = orjson.dumps({"model": "mock-gpt", "messages": []})
    response = decisions.on_request_body(table(), Exchange(ClientCall("openai")), HttpBody(body=body, end_of_stream=True))
    assert not response.request_body.response.HasField("body_mutation")
    assert "content-length" not in mutation_of(response)


def test_passthrough_keeps_the_clients_authorization_and_others_drop_it_without_a_key():
    local = decisions.on_request_body(table(), Exchange(ClientCall("openai")), HttpBody(body=b'{"model": "llama3"}', end_of_stream=True))
    common = local.request_body.response
    assert "authorization" not in mutation_of(local)
    assert "authorization" not in common.header_mutation.remove_headers
    assert mutation_of(local)[":path"] == "/v1/chat/completions"  # base_url without a path gets /v1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{", 400, "invalid_json"),
        (b'"a string"', 400, "invalid_json"),
        (b'{"messages": []}', 400, "missing_model"),
        (b'{"model": "nope"}', 404, "model_not_found"),
        (b'{"model": "groq/llama"}', 503, "provider_disabled"),
        (b'{"model": "fast", "x": ' + b"[" * 300 + b"]" * 300 + b"}", 400, "invalid_json"),  # too deep to re-encode
    ],
)
def test_bad_bodies_get_openai_errors(body, status, code):
    response = decisions.on_request_body(table(), Exchange(ClientCall("openai")), HttpBody(body=body, end_of_stream=True))
    immediate = response.immediate_response
    assert immediate.status.code == status
    assert orjson.loads(immediate.body)["error"]["code"] == code
    assert {h.header.key: h.header.raw_value for h in immediate.headers.set_headers}["x-aiplane-error"] == code.encode()


def test_a_key_in_the_environment_turns_its_provider_on_in_the_default_config():
    without = default_table()
    assert without.resolve("openai/gpt-4o").route.disabled
    assert without.resolve("mock-gpt").route.disabled is None
    with_key = default_table(OPENAI_API_KEY="sk-x")
    assert with_key.resolve("openai/gpt-4o").route.disabled is None
    assert with_key.resolve("gpt-4o").route.provider == "openai/*"  # the only enabled wildcard


def test_an_anthropic_provider_is_called_on_its_own_path_with_its_own_key_header():
    policy = parse_policy(
        "version: v0.2.0\nmodel_providers:\n  - {model: anthropic/*, access_key: $ANTHROPIC_API_KEY, default: false}\n"
        "  - {model: mock/m, base_url: 'http://127.0.0.1:1/v1', default: true}\n",
        env={"ANTHROPIC_API_KEY": "ak"},
    )
    route = RoutingTable(policy, env={"ANTHROPIC_API_KEY": "ak"}).resolve("anthropic/claude-x").route
    set_headers = {h.header.key: (h.header.raw_value.decode(), h.append_action) for h in route.mutation.set_headers}
    assert route.path_for("claude-x", "stream") == "/v1/messages"
    assert set_headers[":authority"][0] == "api.anthropic.com"
    assert set_headers["x-api-key"][0] == "ak"
    assert set_headers["anthropic-version"] == ("2023-06-01", ADD_IF_ABSENT)  # a client's own version wins
    assert "authorization" not in set_headers
    assert set(route.mutation.remove_headers) == {"authorization", "x-goog-api-key", "api-key"}


# --- AWS Bedrock: signed once the body is final ----------------------------------------------

BEDROCK_POLICY = """
version: v0.3.0
model_providers:
  - model: bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0
    region: us-west-2
    default: true
  - model: keyed/amazon.nova-pro-v1:0
    provider_interface: bedrock
    region: us-west-2
    base_url: https://bedrock-runtime.us-west-2.amazonaws.com
    access_key: $BEDROCK_KEY
"""
AWS_ENV = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "BEDROCK_KEY": "bk"}


def bedrock_answer(model: str, env: dict[str, str] = AWS_ENV):
    routes = RoutingTable(parse_policy(BEDROCK_POLICY, env=env), env=env)
    body = orjson.dumps({"model": model, "messages": [{"role": "user", "content": "Hi"}]})
    return decisions.on_request_body(routes, Exchange(ClientCall("openai")), HttpBody(body=body, end_of_stream=True))


def test_a_bedrock_request_is_signed_over_the_translated_body_and_the_path_it_is_sent_on():
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    answer = bedrock_answer("anthropic.claude-3-5-sonnet-20240620-v1:0")
    common, sent = answer.request_body.response, mutation_of(answer)
    assert sent[":path"] == "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
    assert sent[":authority"] == "bedrock-runtime.us-west-2.amazonaws.com"
    assert "messages" in orjson.loads(common.body_mutation.body) and "model" not in orjson.loads(common.body_mutation.body)
    # botocore, given what Envoy will send, computes the same signature at the same instant.
    request = AWSRequest(method="POST", url=f"https://{sent[':authority']}{sent[':path']}", data=common.body_mutation.body)
    request.context["timestamp"] = sent["x-amz-date"]
    signer = SigV4Auth(Credentials(AWS_ENV["AWS_ACCESS_KEY_ID"], AWS_ENV["AWS_SECRET_ACCESS_KEY"]), "bedrock", "us-west-2")
    request.headers["X-Amz-Date"] = sent["x-amz-date"]
    expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    assert sent["authorization"].endswith(f"Signature={expected}")
    # The signature's own headers are set, never also removed; a client's stray AWS headers are.
    assert not {"authorization", "x-amz-date"} & set(common.header_mutation.remove_headers)
    assert {"x-amz-security-token", "x-amz-content-sha256", "x-api-key"} <= set(common.header_mutation.remove_headers)


def test_a_session_token_is_signed_and_sent():
    answer = bedrock_answer("anthropic.claude-3-5-sonnet-20240620-v1:0", env={**AWS_ENV, "AWS_SESSION_TOKEN": "tok"})
    common, sent = answer.request_body.response, mutation_of(answer)
    assert sent["x-amz-security-token"] == "tok" and "SignedHeaders=host;x-amz-date;x-amz-security-token," in sent["authorization"]
    assert "x-amz-security-token" not in common.header_mutation.remove_headers


def test_a_bedrock_api_key_is_a_bearer_token_and_nothing_is_signed():
    sent = mutation_of(bedrock_answer("amazon.nova-pro-v1:0"))
    assert sent["authorization"] == "Bearer bk" and "x-amz-date" not in sent


def test_bedrock_without_credentials_is_disabled_naming_the_variable():
    env = {"AWS_SECRET_ACCESS_KEY": "s"}
    policy = BEDROCK_POLICY.replace("    default: true\n", "")
    routes = RoutingTable(parse_policy(policy, env=env), env=env)
    route = routes.resolve("anthropic.claude-3-5-sonnet-20240620-v1:0").route
    assert route.disabled == "environment variable AWS_ACCESS_KEY_ID is not set" and route.signer is None


def test_a_passthrough_provider_gets_the_clients_key_in_its_own_dialects_header():
    # An Anthropic client's x-api-key, for an OpenAI-compatible provider that takes the client's own key.
    t = table()
    decision = decisions.on_request_headers(t, headers("POST", "/v1/messages", anthropic_version="2023-06-01", x_api_key="sk-user"))
    body = HttpBody(body=orjson.dumps({"model": "llama3", "max_tokens": 5, "messages": [{"role": "user", "content": "Hi"}]}), end_of_stream=True)
    response = decisions.on_request_body(t, decision.exchange, body)
    assert mutation_of(response)["authorization"] == "Bearer sk-user"
    assert {"x-api-key", "x-goog-api-key", "api-key"} <= set(response.request_body.response.header_mutation.remove_headers)
    assert "authorization" not in response.request_body.response.header_mutation.remove_headers


def test_an_openai_client_keeps_its_own_authorization_on_a_passthrough_provider_of_its_dialect():
    t = table()
    decision = decisions.on_request_headers(t, headers("POST", "/v1/chat/completions", authorization="Bearer sk-user"))
    response = decisions.on_request_body(t, decision.exchange, HttpBody(body=b'{"model": "llama3"}', end_of_stream=True))
    assert "authorization" not in mutation_of(response)  # untouched: Envoy forwards the client's own header
    assert "authorization" not in response.request_body.response.header_mutation.remove_headers
