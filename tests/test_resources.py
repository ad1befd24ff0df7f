"""What Envoy is given for a policy: clusters, routes and listeners, never a provider key."""

from __future__ import annotations

from envoy.config.cluster.v3.cluster_pb2 import Cluster
from envoy.extensions.filters.http.ext_proc.v3.ext_proc_pb2 import ExternalProcessor, ExtProcPerRoute
from envoy.extensions.filters.http.ext_proc.v3.processing_mode_pb2 import ProcessingMode
from envoy.extensions.filters.network.http_connection_manager.v3.http_connection_manager_pb2 import (
    HttpConnectionManager,
)
from envoy.extensions.transport_sockets.tls.v3.tls_pb2 import UpstreamTlsContext

from aiplane.policy import parse_policy
from aiplane.xds import types
from aiplane.xds.resources import EXTPROC_CLUSTER, build_resources

POLICY = """
version: v0.2.0
listeners:
  - {type: model, name: llm, address: 127.0.0.1, port: 10000}
  - {type: agent, name: agents, port: 8001, router: plano_orchestrator_v1, agents: [{id: a, description: an agent}]}
agents: [{id: a, url: "http://127.0.0.1:9000"}]
model_providers:
  - model: openai/gpt-4o
    access_key: $OPENAI_API_KEY
    default: true
    timeout: 90s
  - model: groq/*
    access_key: $GROQ_API_KEY
  - name: local
    model: ollama/llama3
    base_url: http://127.0.0.1:11434
gateway:
  max_request_body_bytes: 2048
"""
ENV = {"OPENAI_API_KEY": "sk-never-in-envoy"}
CA = "/etc/ssl/certs/ca-certificates.crt"


def resources():
    return build_resources(parse_policy(POLICY, env=ENV), ENV, [18001, 18002], CA)


def by_name(items) -> dict:
    return {item.name if hasattr(item, "name") else item.cluster_name: item for item in items}


def test_https_providers_get_a_tls_cluster_with_sni_the_system_cas_and_a_san_check():
    cluster = by_name(resources()[types.CLUSTER])["llm|https|api.openai.com|443"]
    assert cluster.type == Cluster.DiscoveryType.LOGICAL_DNS
    tls = UpstreamTlsContext()
    cluster.transport_socket.typed_config.Unpack(tls)
    assert tls.sni == "api.openai.com"
    validation = tls.common_tls_context.validation_context
    assert validation.trusted_ca.filename == CA
    assert validation.match_typed_subject_alt_names[0].matcher.exact == "api.openai.com"


def test_plain_http_to_an_ip_is_an_eds_cluster_with_its_endpoint_pushed():
    r = resources()
    cluster = by_name(r[types.CLUSTER])["llm|http|127.0.0.1|11434"]
    assert cluster.type == Cluster.DiscoveryType.EDS and not cluster.HasField("transport_socket")
    assignment = by_name(r[types.ENDPOINT])["llm|http|127.0.0.1|11434"]
    assert assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value == 11434


def test_the_workers_are_the_endpoints_of_the_ext_proc_cluster():
    assignment = by_name(resources()[types.ENDPOINT])[EXTPROC_CLUSTER]
    ports = [e.endpoint.address.socket_address.port_value for e in assignment.endpoints[0].lb_endpoints]
    assert ports == [18001, 18002]


def test_a_provider_without_its_key_gets_no_route_and_no_cluster():
    r = resources()
    assert not any("groq" in name for name in by_name(r[types.CLUSTER]))
    routes = r[types.ROUTE][0].virtual_hosts[0].routes
    assert [route.name for route in routes] == [
        "openai/gpt-4o", "local", "openai_chat", "openai_embeddings", "anthropic_chat", "anthropic_count_tokens", "gemini_chat", "no_route"
    ]


def test_routes_match_the_decision_header_with_llm_timeouts_and_retries():
    openai, local, *_, fallback = resources()[types.ROUTE][0].virtual_hosts[0].routes
    assert openai.match.headers[0].name == "x-aiplane-route"
    assert openai.match.headers[0].string_match.exact == "openai/gpt-4o"
    assert openai.route.timeout.seconds == 90 and local.route.timeout.seconds == 300
    assert openai.route.retry_policy.retry_on == "connect-failure,refused-stream"
    assert list(openai.request_headers_to_remove) == ["x-aiplane-route"]
    assert fallback.direct_response.status == 404


def decision_filters(listener) -> dict[str, ExternalProcessor]:
    manager = HttpConnectionManager()
    listener.filter_chains[0].filters[0].typed_config.Unpack(manager)
    assert manager.http_filters[-1].name == "envoy.filters.http.router"
    filters = {}
    for http_filter in manager.http_filters[:-1]:
        filters[http_filter.name] = ExternalProcessor()
        http_filter.typed_config.Unpack(filters[http_filter.name])
    return filters


def test_llm_listeners_decide_with_ext_proc_before_routing():
    listeners = resources()[types.LISTENER]
    assert [listener.name for listener in listeners] == ["llm_llm"]  # the agent listener is not built yet
    assert listeners[0].per_connection_buffer_limit_bytes.value == 2048
    filters = decision_filters(listeners[0])
    assert list(filters) == ["aiplane.ext_proc.translating", "aiplane.ext_proc.direct"]
    for ext_proc in filters.values():
        mode = ext_proc.processing_mode
        assert (mode.request_header_mode, mode.request_body_mode) == (ProcessingMode.SEND, ProcessingMode.BUFFERED)
        assert (mode.response_header_mode, mode.response_body_mode) == (ProcessingMode.SKIP, ProcessingMode.NONE)
        assert ext_proc.message_timeout.seconds >= 5 and not ext_proc.failure_mode_allow
    # Only the translating one may switch response phases on, which needs the body to wait.
    assert filters["aiplane.ext_proc.translating"].allow_mode_override
    assert not filters["aiplane.ext_proc.translating"].send_body_without_waiting_for_header_response
    assert filters["aiplane.ext_proc.direct"].send_body_without_waiting_for_header_response


def enabled_filter(route) -> str:
    (disabled,) = route.typed_per_filter_config
    per_route = ExtProcPerRoute()
    route.typed_per_filter_config[disabled].Unpack(per_route)
    assert per_route.disabled
    return ({"aiplane.ext_proc.translating", "aiplane.ext_proc.direct"} - {disabled}).pop()


def test_each_client_api_gets_the_direct_filter_unless_its_clients_may_need_translating():
    routes = {route.name: route for route in resources()[types.ROUTE][0].virtual_hosts[0].routes}
    # Every provider here speaks OpenAI: OpenAI clients never need translating, Anthropic clients always.
    assert enabled_filter(routes["openai_chat"]) == enabled_filter(routes["openai_embeddings"]) == "aiplane.ext_proc.direct"
    assert enabled_filter(routes["anthropic_chat"]) == "aiplane.ext_proc.translating"
    assert enabled_filter(routes["anthropic_count_tokens"]) == "aiplane.ext_proc.translating"
    # A request that arrives with the route header already set is still decided, translating if need be.
    assert enabled_filter(routes["openai/gpt-4o"]) == "aiplane.ext_proc.translating"
    assert enabled_filter(routes["no_route"]) == "aiplane.ext_proc.translating"


def test_no_provider_key_is_ever_in_envoys_resources():
    everything = b"".join(
        item.SerializeToString() for type_url, items in resources().items() if type_url != types.POLICY for item in items
    )
    assert b"sk-never-in-envoy" not in everything
    assert b"OPENAI_API_KEY" not in everything
