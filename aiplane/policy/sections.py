"""Plano's sections beyond providers and listeners, parsed as Plano's schema defines them.

aiplane does not act on these yet; `Policy.not_yet_enforced()` names the ones a file uses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from .values import (
    Count,
    Frozen,
    FrozenMap,
    HostPort,
    HttpUrlText,
    PositiveCount,
    Scalar,
    Seconds,
    malformed,
    non_empty,
    violation,
)

# --- routing -----------------------------------------------------------------------------


class RouteDescription(Frozen):
    """A task category the router model matches requests against."""

    name: str
    description: str


class SelectionPolicy(Frozen):
    prefer: Literal["cheapest", "fastest", "long_context_quality", "none"]


class RoutingPreference(RouteDescription):
    """Plano v0.4's top-level form: a task category and the models that may serve it, best first."""

    models: Annotated[tuple[str, ...], AfterValidator(non_empty)]
    selection_policy: SelectionPolicy | None = None


class SessionCache(Frozen):
    type: Literal["memory", "redis"] = "memory"
    url: str | None = None
    tenant_header: str | None = None

    @model_validator(mode="after")
    def _redis_needs_url(self) -> SessionCache:
        if self.type == "redis" and self.url is None:
            raise violation("a redis session_cache needs a url")
        return self


class Routing(Frozen):
    """The router model and session affinity. `llm_provider` names a provider by `name`."""

    llm_provider: str | None = None
    model: str | None = None
    session_ttl_seconds: PositiveCount | None = None
    session_max_entries: Annotated[int, Field(strict=True, ge=1, le=10000)] | None = None
    session_cache: SessionCache | None = None


# --- upstream endpoints, prompt targets, guards ------------------------------------------

_ENDPOINT_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9_]*")


def _endpoint_name(value: str) -> str:
    if not _ENDPOINT_NAME.fullmatch(value):
        raise malformed("an endpoint name is letters, digits and underscores, starting with a letter")
    return value


EndpointName = Annotated[str, AfterValidator(_endpoint_name)]


def _one_or_many(value: Any) -> Any:
    return (value,) if isinstance(value, str) else value


class Endpoint(Frozen):
    """A named upstream API; several addresses are load-balanced round robin."""

    endpoint: Annotated[tuple[HostPort, ...], AfterValidator(non_empty)]
    connect_timeout: Seconds | None = None
    protocol: Literal["http", "https"] = "http"
    http_host: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _single_address_as_list(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "endpoint" in data:
            return {**data, "endpoint": _one_or_many(data["endpoint"])}
        return data


class PromptParameter(Frozen):
    name: str
    description: str
    type: str
    required: bool = False
    default: Scalar | None = None
    enum: tuple[Scalar, ...] | None = None
    in_path: bool = False
    format: str | None = None


class PromptTargetEndpoint(Frozen):
    """The `endpoints` entry (by name) and path a prompt target calls."""

    name: str
    path: str
    http_method: Literal["GET", "POST"] | None = None
    http_headers: FrozenMap[str, str] = {}


class PromptTarget(Frozen):
    name: str
    description: str
    default: bool = False
    auto_llm_dispatch_on_response: bool = False
    parameters: tuple[PromptParameter, ...] = ()
    endpoint: PromptTargetEndpoint | None = None
    system_prompt: str | None = None


class GuardException(Frozen):
    message: str


class JailbreakGuard(Frozen):
    on_exception: GuardException


class InputGuards(Frozen):
    jailbreak: JailbreakGuard


class PromptGuards(Frozen):
    input_guards: InputGuards | None = None


# --- agents and filters ------------------------------------------------------------------


class Agent(Frozen):
    id: str
    url: HttpUrlText


class Filter(Frozen):
    """A request/response filter service; `tool` defaults to the filter's id, as in Plano."""

    id: str
    url: HttpUrlText
    type: Literal["mcp", "http"] = "mcp"
    transport: Literal["streamable-http"] = "streamable-http"
    tool: str

    @model_validator(mode="before")
    @classmethod
    def _tool_defaults_to_id(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "tool" not in data and isinstance(data.get("id"), str):
            return {**data, "tool": data["id"]}
        return data


# --- limits, metrics, state, tracing, overrides ------------------------------------------


class RateLimitSelector(Frozen):
    key: str
    value: str


class TokenLimit(Frozen):
    tokens: PositiveCount
    unit: Literal["second", "minute", "hour", "day"]


class RateLimit(Frozen):
    """A token quota for one model (a provider's model or name), per selector value."""

    model: str
    selector: RateLimitSelector
    limit: TokenLimit


class CostMetricsSource(Frozen):
    type: Literal["cost"]
    provider: Literal["digitalocean"]
    refresh_interval: PositiveCount | None = None
    model_aliases: FrozenMap[str, str] = {}


class LatencyMetricsSource(Frozen):
    type: Literal["latency"]
    provider: Literal["prometheus"]
    url: str
    query: str
    refresh_interval: PositiveCount | None = None


MetricsSource = Annotated[CostMetricsSource | LatencyMetricsSource, Field(discriminator="type")]


class StateStorage(Frozen):
    """Conversation state for the Responses API; `connection_string` may hold `$VAR` references."""

    type: Literal["memory", "postgres"]
    connection_string: str | None = None

    @model_validator(mode="after")
    def _postgres_needs_connection_string(self) -> StateStorage:
        if self.type == "postgres" and self.connection_string is None:
            raise violation("a postgres state_storage needs a connection_string")
        return self


class SpanAttributes(Frozen):
    header_prefixes: tuple[str, ...] = ()
    static: FrozenMap[str, str] = {}


class PosthogExporter(Frozen):
    type: Literal["posthog"]
    url: str
    api_key: str
    distinct_id_header: str | None = None
    enabled: bool | None = None
    capture_messages: bool | None = None


class Tracing(Frozen):
    random_sampling: Annotated[int, Field(strict=True, ge=0, le=100)] | None = None
    trace_arch_internal: bool | None = None
    opentracing_grpc_endpoint: str | None = None
    span_attributes: SpanAttributes | None = None
    exporters: tuple[PosthogExporter, ...] = ()


class ModelCapabilitiesSource(Frozen):
    url: HttpUrlText
    refresh_interval: PositiveCount | None = None


class Overrides(Frozen):
    prompt_target_intent_matching_threshold: float | None = None
    optimize_context_window: bool | None = None
    use_agent_orchestrator: bool | None = None
    disable_signals: bool | None = None
    upstream_connect_timeout: Seconds | None = None
    upstream_tls_ca_path: str | None = None
    upstream_timeout_ms: Count | None = None
    llm_routing_model: str | None = None
    agent_orchestration_model: str | None = None
    orchestrator_model_context_length: PositiveCount | None = None
    empty_pool_behavior: Literal["error", "warning"] | None = None
    model_capabilities_source: ModelCapabilitiesSource | None = None
