"""Build Envoy's resources from a policy: pure functions, run once per policy.

What Envoy gets:
- one listener per LLM listener in the policy, each an HTTP connection manager
  with the ext_proc filter then the router, routes over RDS;
- one route configuration, `aiplane_llm`: a route per usable provider entry,
  matched on the `x-aiplane-route` header the decision server sets, with the
  entry's timeout and retries; anything unmatched gets a 404 in OpenAI's shape;
- one cluster per distinct provider upstream (TLS with SNI and SAN checks for
  https), and the `aiplane_extproc` cluster whose endpoints are the workers.

Provider keys are never part of these resources: only the workers hold them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from envoy.config.accesslog.v3 import accesslog_pb2 as al
from envoy.config.cluster.v3 import circuit_breaker_pb2, cluster_pb2
from envoy.config.common.mutation_rules.v3.mutation_rules_pb2 import HeaderMutationRules
from envoy.config.core.v3 import address_pb2, base_pb2, config_source_pb2, grpc_service_pb2, protocol_pb2
from envoy.config.core.v3.substitution_format_string_pb2 import SubstitutionFormatString
from envoy.config.endpoint.v3 import endpoint_components_pb2 as ep
from envoy.config.endpoint.v3 import endpoint_pb2
from envoy.config.listener.v3 import listener_components_pb2, listener_pb2
from envoy.config.route.v3 import route_components_pb2 as rc
from envoy.config.route.v3 import route_pb2
from envoy.extensions.filters.http.ext_proc.v3 import ext_proc_pb2, processing_mode_pb2
from envoy.extensions.filters.http.router.v3.router_pb2 import Router
from envoy.extensions.filters.network.http_connection_manager.v3 import http_connection_manager_pb2 as hcm
from envoy.extensions.transport_sockets.tls.v3 import common_pb2 as tls_common
from envoy.extensions.transport_sockets.tls.v3 import tls_pb2
from envoy.extensions.upstreams.http.v3.http_protocol_options_pb2 import HttpProtocolOptions
from envoy.type.matcher.v3.regex_pb2 import RegexMatcher
from envoy.type.matcher.v3.string_pb2 import StringMatcher
from google.protobuf import any_pb2, duration_pb2, struct_pb2, wrappers_pb2

from aiplane.dialects import ANTHROPIC, CLIENT_APIS, GEMINI, OPENAI, translating_clients
from aiplane.extproc.replies import error_body, error_document
from aiplane.policy import ModelProvider, Policy
from aiplane.upstreams import ROUTE_HEADER, Upstream, parse_base_url
from aiplane.xds import types

EXTPROC_CLUSTER = "aiplane_extproc"
DIRECT_EXT_PROC = "aiplane.ext_proc.direct"
TRANSLATING_EXT_PROC = "aiplane.ext_proc.translating"
LLM_ROUTES = "aiplane_llm"
LLM_LISTENER_TYPES = frozenset({"model", "prompt"})
POLICY_NAME = "aiplane.policy"

_ADS = config_source_pb2.ConfigSource(
    ads=config_source_pb2.AggregatedConfigSource(), resource_api_version=config_source_pb2.ApiVersion.V3
)
_HTTP_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
# LLM traffic is few, long requests: Envoy's default of 1024 would cap concurrency.
_CIRCUIT_BREAKERS = circuit_breaker_pb2.CircuitBreakers(
    thresholds=[
        circuit_breaker_pb2.CircuitBreakers.Thresholds(
            max_connections=wrappers_pb2.UInt32Value(value=100_000),
            max_pending_requests=wrappers_pb2.UInt32Value(value=100_000),
            max_requests=wrappers_pb2.UInt32Value(value=100_000),
            max_retries=wrappers_pb2.UInt32Value(value=1_000),
        )
    ]
)


def _pack(message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message, deterministic=True)  # stable bytes, stable versions
    return packed


def _seconds(value: float) -> duration_pb2.Duration:
    duration = duration_pb2.Duration()
    duration.FromNanoseconds(int(value * 1e9))
    return duration


def _struct(doc: Mapping) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(doc)
    return struct


def _header_option(key: str, value: str) -> base_pb2.HeaderValueOption:
    return base_pb2.HeaderValueOption(
        header=base_pb2.HeaderValue(key=key, value=value),
        append_action=base_pb2.HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD,
    )


# ---------------------------------------------------------------- listeners


def _status_filter(status: int) -> al.AccessLogFilter:
    return al.AccessLogFilter(
        status_code_filter=al.StatusCodeFilter(
            comparison=al.ComparisonFilter(
                op=al.ComparisonFilter.Op.EQ,
                value=base_pb2.RuntimeUInt32(default_value=status, runtime_key="aiplane.unused"),
            )
        )
    )


def _flags_filter(*flags: str) -> al.AccessLogFilter:
    return al.AccessLogFilter(response_flag_filter=al.ResponseFlagFilter(flags=flags))


def _client_filter(client: str) -> al.AccessLogFilter:
    paths = "|".join(api.path for api in CLIENT_APIS if api.dialect == client)
    # `:path` carries the query string too.
    regex = RegexMatcher(regex=f"^(?:{paths})(?:\\?.*)?$")
    return al.AccessLogFilter(
        header_filter=al.HeaderFilter(
            header=rc.HeaderMatcher(name=":path", string_match=StringMatcher(safe_regex=regex))
        )
    )


def _local_reply_config(max_body_bytes: int) -> hcm.LocalReplyConfig:
    """Envoy's own error replies, rewritten into the client's dialect.

    Only replies Envoy makes itself are matched here (by response flag or by a
    status the decision server never uses), so the decision server's own
    answers pass through untouched. Each error gets one mapper per non-OpenAI
    client dialect (matched by path), then OpenAI's for everything else.
    """
    errors = [  # (which replies, status to send, message, code)
        (_flags_filter("UH", "UF", "URX", "UO"), 503, "the provider is unreachable: %LOCAL_REPLY_BODY%",
         "provider_unreachable"),
        (_flags_filter("UT"), 504, "the provider did not answer in time: %LOCAL_REPLY_BODY%", "provider_timeout"),
        # Envoy enforces the body limit while buffering for ext_proc.
        (_status_filter(413), 413, f"the request body exceeds the gateway's limit of {max_body_bytes} bytes",
         "request_too_large"),
        # Envoy answers 500 when the decision server fails; aiplane never answers 500.
        (_status_filter(500), 503, "the gateway's decision server is unavailable: %LOCAL_REPLY_BODY%",
         "decision_server_unavailable"),
    ]  # fmt: skip
    mappers = []
    for client in (ANTHROPIC, GEMINI, OPENAI):
        for which, status, message, code in errors:
            if client != OPENAI:
                which = al.AccessLogFilter(and_filter=al.AndFilter(filters=[which, _client_filter(client)]))
            mappers.append(
                hcm.ResponseMapper(
                    filter=which,
                    status_code=wrappers_pb2.UInt32Value(value=status),
                    body_format_override=SubstitutionFormatString(
                        json_format=_struct(error_document(client, status, code, message)),
                        content_type="application/json",
                    ),
                    headers_to_add=[_header_option("x-aiplane-error", code)],
                )
            )
    return hcm.LocalReplyConfig(mappers=mappers)


def _ext_proc_filter(name: str, message_timeout: float, *, translating: bool) -> hcm.HttpFilter:
    """The decision server's filter; `translating` lets it switch the response phases on.

    Envoy honours a mode override (at request or response headers) only when the body waited
    for the answer to the request headers. A direct exchange instead sends the body at once,
    one round trip less (measured: p50 1.23 -> 0.97 ms, worker CPU 638 -> 516 us at concurrency 1).
    Tried and dropped: a translating filter with the response phases on from the start and the
    body sent at once saves that round trip, but Envoy ignores the override that would switch the
    body phase off again at response headers, so a same-dialect stream paid one ext_proc message
    per chunk (15 messages instead of 3 for a 10-chunk stream). Nor can the response headers be
    sent statically instead of by the request-headers override: with the body not waiting, the
    override at response headers that turns the body phase on is ignored too. Nor does a second
    filter pay: a response filter with fixed modes, turned on by the provider route the decision
    picks and fed the plan in dynamic metadata, lets a stream's first chunk go without waiting
    for the headers' answer, but opening its own gRPC stream per request cost more than the round
    trips it saved (interleaved runs: time to first token +0.4 ms p50, +300 us of worker CPU per
    translated request).
    """
    mode = processing_mode_pb2.ProcessingMode
    config = ext_proc_pb2.ExternalProcessor(
        grpc_service=grpc_service_pb2.GrpcService(
            envoy_grpc=grpc_service_pb2.GrpcService.EnvoyGrpc(cluster_name=EXTPROC_CLUSTER),
            # The side stream lives as long as the HTTP stream: longer than any LLM stream.
            timeout=_seconds(3600),
        ),
        processing_mode=mode(
            request_header_mode=mode.SEND,
            request_body_mode=mode.BUFFERED,
            response_header_mode=mode.SKIP,
            response_body_mode=mode.NONE,
            request_trailer_mode=mode.SKIP,
            response_trailer_mode=mode.SKIP,
        ),
        message_timeout=_seconds(message_timeout),
        mutation_rules=HeaderMutationRules(allow_all_routing=wrappers_pb2.BoolValue(value=True)),
        allow_mode_override=translating,
        send_body_without_waiting_for_header_response=not translating,
    )
    return hcm.HttpFilter(name=name, typed_config=_pack(config))


def llm_listener(name: str, address: str, port: int, policy: Policy) -> listener_pb2.Listener:
    manager = hcm.HttpConnectionManager(
        stat_prefix=f"llm_{name}",
        codec_type=hcm.HttpConnectionManager.CodecType.AUTO,
        rds=hcm.Rds(route_config_name=LLM_ROUTES, config_source=_ADS),
        # Each route enables one of the two (see `llm_routes`). A filter reads its route when
        # the request reaches it, so the translating one goes first: after the direct one has
        # re-routed a request to a provider route, no decision filter is left to run again.
        http_filters=[
            _ext_proc_filter(TRANSLATING_EXT_PROC, policy.gateway.extproc.message_timeout, translating=True),
            _ext_proc_filter(DIRECT_EXT_PROC, policy.gateway.extproc.message_timeout, translating=False),
            hcm.HttpFilter(name="envoy.filters.http.router", typed_config=_pack(Router())),
        ],
        local_reply_config=_local_reply_config(policy.gateway.max_request_body_bytes),
    )
    return listener_pb2.Listener(
        name=f"llm_{name}",
        address=address_pb2.Address(socket_address=address_pb2.SocketAddress(address=address, port_value=port)),
        # ext_proc buffers the whole body; this is the largest body it accepts.
        per_connection_buffer_limit_bytes=wrappers_pb2.UInt32Value(value=policy.gateway.max_request_body_bytes),
        filter_chains=[
            listener_components_pb2.FilterChain(
                filters=[
                    listener_components_pb2.Filter(
                        name="envoy.filters.network.http_connection_manager", typed_config=_pack(manager)
                    )
                ]
            )
        ],
    )


# ---------------------------------------------------------------- routes


def _only(filter_name: str) -> dict[str, any_pb2.Any]:
    """Per-route config that leaves `filter_name` the only decision filter on."""
    other = TRANSLATING_EXT_PROC if filter_name == DIRECT_EXT_PROC else DIRECT_EXT_PROC
    return {other: _pack(ext_proc_pb2.ExtProcPerRoute(disabled=True))}


def _error_route(name: str, match: rc.RouteMatch, filter_name: str) -> rc.Route:
    """Answers what the decision server left without a provider route: never, unless something broke."""
    body = error_body(OPENAI, 404, "no_route", "no provider route matched this request").decode()
    return rc.Route(
        name=name,
        match=match,
        direct_response=rc.DirectResponseAction(status=404, body=base_pb2.DataSource(inline_string=body)),
        response_headers_to_add=[
            _header_option("content-type", "application/json"),
            _header_option("x-aiplane-error", "no_route"),
        ],
        typed_per_filter_config=_only(filter_name),
    )


def _provider_route(entry: ModelProvider, upstream: Upstream) -> rc.Route:
    return rc.Route(
        name=entry.name,
        match=rc.RouteMatch(
            prefix="/",
            headers=[rc.HeaderMatcher(name=ROUTE_HEADER, string_match=StringMatcher(exact=entry.name))],
        ),
        route=rc.RouteAction(
            cluster=upstream.cluster_name,
            timeout=_seconds(entry.timeout),
            retry_policy=rc.RetryPolicy(
                retry_on="connect-failure,refused-stream", num_retries=wrappers_pb2.UInt32Value(value=2)
            ),
        ),
        request_headers_to_remove=[ROUTE_HEADER],
        # Only a request that arrives already carrying the route header is first matched here.
        typed_per_filter_config=_only(TRANSLATING_EXT_PROC),
    )


def llm_routes(providers: Sequence[ModelProvider], translating: frozenset[str]) -> route_pb2.RouteConfiguration:
    """Provider routes, selected by the decision server's header; before a decision, one route
    per client API picks the decision filter: the translating one when that client may meet a
    provider of another dialect."""
    routes = [_provider_route(entry, parse_base_url(str(entry.base_url))) for entry in providers]
    for api in CLIENT_APIS:
        match = rc.RouteMatch(
            safe_regex=RegexMatcher(regex=f"^{api.path}$"),
            headers=[rc.HeaderMatcher(name=":method", string_match=StringMatcher(exact=api.method))],
        )
        filter_name = TRANSLATING_EXT_PROC if api.dialect in translating else DIRECT_EXT_PROC
        routes.append(_error_route(f"{api.dialect}_{api.operation}", match, filter_name))
    routes.append(_error_route("no_route", rc.RouteMatch(prefix="/"), TRANSLATING_EXT_PROC))
    return route_pb2.RouteConfiguration(
        name=LLM_ROUTES, virtual_hosts=[rc.VirtualHost(name="llm", domains=["*"], routes=routes)]
    )


# ---------------------------------------------------------------- clusters and endpoints


def _load_assignment(name: str, addresses: Sequence[tuple[str, int]]) -> endpoint_pb2.ClusterLoadAssignment:
    return endpoint_pb2.ClusterLoadAssignment(
        cluster_name=name,
        endpoints=[
            ep.LocalityLbEndpoints(
                lb_endpoints=[
                    ep.LbEndpoint(
                        endpoint=ep.Endpoint(
                            address=address_pb2.Address(
                                socket_address=address_pb2.SocketAddress(address=host, port_value=port)
                            )
                        )
                    )
                    for host, port in addresses
                ]
            )
        ],
    )


def _http_options(*, http2: bool = False, alpn: bool = False) -> dict[str, any_pb2.Any]:
    keepalive = protocol_pb2.KeepaliveSettings(interval=_seconds(30), timeout=_seconds(10))
    h2 = protocol_pb2.Http2ProtocolOptions(connection_keepalive=keepalive)
    if alpn:
        options = HttpProtocolOptions(
            auto_config=HttpProtocolOptions.AutoHttpConfig(
                http_protocol_options=protocol_pb2.Http1ProtocolOptions(), http2_protocol_options=h2
            )
        )
    elif http2:
        options = HttpProtocolOptions(
            explicit_http_config=HttpProtocolOptions.ExplicitHttpConfig(http2_protocol_options=h2)
        )
    else:
        options = HttpProtocolOptions(
            explicit_http_config=HttpProtocolOptions.ExplicitHttpConfig(
                http_protocol_options=protocol_pb2.Http1ProtocolOptions()
            )
        )
    return {_HTTP_OPTIONS: _pack(options)}


def _tls_socket(host: str, ca_bundle: str) -> base_pb2.TransportSocket:
    context = tls_pb2.UpstreamTlsContext(
        sni=host,
        common_tls_context=tls_pb2.CommonTlsContext(
            alpn_protocols=["h2", "http/1.1"],
            validation_context=tls_common.CertificateValidationContext(
                trusted_ca=base_pb2.DataSource(filename=ca_bundle),
                match_typed_subject_alt_names=[
                    tls_common.SubjectAltNameMatcher(
                        san_type=tls_common.SubjectAltNameMatcher.SanType.DNS, matcher=StringMatcher(exact=host)
                    )
                ],
            ),
        ),
    )
    return base_pb2.TransportSocket(name="envoy.transport_sockets.tls", typed_config=_pack(context))


def provider_cluster(upstream: Upstream, ca_bundle: str) -> cluster_pb2.Cluster:
    cluster = cluster_pb2.Cluster(
        name=upstream.cluster_name,
        connect_timeout=_seconds(10),
        circuit_breakers=_CIRCUIT_BREAKERS,
        typed_extension_protocol_options=_http_options(alpn=upstream.tls),
    )
    if upstream.is_ip:
        cluster.type = cluster_pb2.Cluster.DiscoveryType.EDS
        cluster.eds_cluster_config.eds_config.CopyFrom(_ADS)
    else:
        cluster.type = cluster_pb2.Cluster.DiscoveryType.LOGICAL_DNS
        cluster.dns_lookup_family = cluster_pb2.Cluster.DnsLookupFamily.V4_PREFERRED
        cluster.load_assignment.CopyFrom(_load_assignment(upstream.cluster_name, [(upstream.host, upstream.port)]))
    if upstream.tls:
        cluster.transport_socket.CopyFrom(_tls_socket(upstream.host, ca_bundle))
    return cluster


def extproc_cluster() -> cluster_pb2.Cluster:
    return cluster_pb2.Cluster(
        name=EXTPROC_CLUSTER,
        type=cluster_pb2.Cluster.DiscoveryType.EDS,
        eds_cluster_config=cluster_pb2.Cluster.EdsClusterConfig(eds_config=_ADS),
        connect_timeout=_seconds(1),
        circuit_breakers=_CIRCUIT_BREAKERS,
        typed_extension_protocol_options=_http_options(http2=True),
    )


# ---------------------------------------------------------------- everything


def usable_providers(policy: Policy, env: Mapping[str, str]) -> list[ModelProvider]:
    """Entries that can serve: a disabled one gets no route and no cluster (and no DNS lookups)."""
    return [entry for entry, disabled in policy.provider_status(env) if disabled is None]


def policy_resource(policy: Policy) -> any_pb2.Any:
    """The policy as the workers receive it; secrets stay `$VAR` references."""
    return any_pb2.Any(type_url=types.POLICY, value=policy.model_dump_json().encode())


def build_resources(
    policy: Policy, env: Mapping[str, str], worker_ports: Sequence[int], ca_bundle: str
) -> dict[str, list]:
    providers = usable_providers(policy, env)
    upstreams = {u.cluster_name: u for u in (parse_base_url(str(p.base_url)) for p in providers)}
    clusters = [extproc_cluster(), *(provider_cluster(u, ca_bundle) for u in upstreams.values())]
    endpoints = [_load_assignment(EXTPROC_CLUSTER, [("127.0.0.1", port) for port in worker_ports])]
    endpoints += [_load_assignment(u.cluster_name, [(u.host, u.port)]) for u in upstreams.values() if u.is_ip]
    translating, _ = translating_clients(providers)
    listeners = [
        llm_listener(lst.name, lst.address, lst.port, policy)
        for lst in policy.listeners
        if lst.type in LLM_LISTENER_TYPES
    ]
    return {
        types.CLUSTER: clusters,
        types.ENDPOINT: endpoints,
        types.LISTENER: listeners,
        types.ROUTE: [llm_routes(providers, translating)],
        types.POLICY: [(POLICY_NAME, policy_resource(policy))],
    }
