"""The policy: Plano's vocabulary, normalized into one immutable shape.

Legacy spellings (`llm_providers`, object-form `listeners`, ...) are rewritten before
validation by `legacy.py`; defaults that depend on other keys (a provider's base_url from
the catalog, a listener's port from its type) are filled in here, so a `Policy` dumped to
JSON and validated again is the same policy.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo, field_validator, model_validator

from .catalog import DEFAULT_API_PATH, INTERFACE_NAMES, KNOWN_PROVIDERS, Interface
from .gateway import GatewaySettings
from .sections import (
    Agent,
    Endpoint,
    EndpointName,
    Filter,
    MetricsSource,
    Overrides,
    PromptGuards,
    PromptTarget,
    RateLimit,
    RouteDescription,
    Routing,
    RoutingPreference,
    StateStorage,
    Tracing,
)
from .values import (
    Count,
    Frozen,
    FrozenMap,
    HttpUrlText,
    Port,
    Scalar,
    Seconds,
    consequence,
    env_reference,
    malformed,
    non_empty,
    violation,
)

# --- model providers ---------------------------------------------------------------------

_MODEL_REF = re.compile(r"[^/\s]+/\S+")


def _model_ref(value: str) -> str:
    if not _MODEL_REF.fullmatch(value):
        raise malformed("expected provider/model (e.g. openai/gpt-4o) or provider/* for all its models")
    name = value.partition("/")[2]
    if "*" in name and name != "*":
        raise malformed("a wildcard stands for the whole model name, as in openai/*")
    return value


ModelRef = Annotated[str, AfterValidator(_model_ref)]


class _UnlistedProvider:
    """Stands in for a base_url the catalog cannot supply, so that the base_url field
    reports it while the provider's other keys are still checked."""

    def __init__(self, provider: str | None, interface: str | None = None) -> None:
        self.provider = provider  # None when `model` is malformed
        self.interface = interface


# Bedrock's endpoint names its region: https://bedrock-runtime.{region}.amazonaws.com
_BEDROCK_HOST = re.compile(r"bedrock-runtime(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com")
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d+")
# Where AWS's own SDKs look for credentials, used when the policy names none.
_AWS_CREDENTIAL_VARIABLES = ("$AWS_ACCESS_KEY_ID", "$AWS_SECRET_ACCESS_KEY", "$AWS_SESSION_TOKEN")


class ModelProvider(Frozen):
    """An upstream model, or with `provider/*` every model of one provider."""

    model: ModelRef
    name: str  # defaults to `model`
    provider_interface: Interface  # defaults from the catalog; OpenAI-compatible otherwise
    base_url: HttpUrlText  # the API root, e.g. https://api.openai.com/v1
    access_key: str | None = None  # a literal or an unresolved `$VAR` / `${VAR}` reference
    default: bool = False
    passthrough_auth: bool = False  # forward the client's Authorization instead of access_key
    http_host: str | None = None
    headers: FrozenMap[str, str] = {}
    timeout: Seconds = 300.0
    routing_preferences: tuple[RouteDescription, ...] = ()
    capabilities: FrozenMap[str, Scalar] = {}
    # AWS Bedrock only. Requests are signed with SigV4 using these credentials (literals or `$VAR`
    # references; by default AWS's own variables), unless `access_key` holds a Bedrock API key.
    region: str | None = Field(None, validate_default=True)  # from base_url's host when not given
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None
    aws_session_token: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _fill_defaults(cls, data: Any) -> Any:
        if not isinstance(data, Mapping) or not isinstance(data.get("model"), str):
            return data
        provider = data["model"].partition("/")[0] if _MODEL_REF.fullmatch(data["model"]) else None
        known = KNOWN_PROVIDERS.get(provider) if provider else None
        filled = {"name": data["model"], **data}
        if data.get("provider_interface") is None:
            filled["provider_interface"] = known.interface if known else "openai"
        if data.get("base_url") is None:
            region, interface = data.get("region"), filled["provider_interface"]
            interface = INTERFACE_NAMES.get(interface) if isinstance(interface, str) else None
            if interface == "bedrock" and isinstance(region, str):
                filled["base_url"] = f"https://bedrock-runtime.{region}.amazonaws.com"
            elif known and known.base_url:
                filled["base_url"] = known.base_url
            else:
                filled["base_url"] = _UnlistedProvider(provider, interface)
        return filled

    @field_validator("provider_interface", mode="before")
    @classmethod
    def _interface_by_plano_name(cls, value: Any) -> Any:
        if isinstance(value, str) and value in INTERFACE_NAMES:
            return INTERFACE_NAMES[value]
        raise malformed(f"expected one of {', '.join(sorted(INTERFACE_NAMES))}")

    @field_validator("base_url", mode="before")
    @classmethod
    def _base_url_known(cls, value: Any) -> Any:
        if not isinstance(value, _UnlistedProvider):
            return value
        if value.provider is None:
            raise consequence()  # of the malformed model, which is reported
        if value.interface == "bedrock":
            raise violation("set region (for example us-east-1), or base_url")
        if value.provider in KNOWN_PROVIDERS:
            raise violation(f"provider '{value.provider}' has no public endpoint: set base_url")
        raise violation(
            f"unknown provider '{value.provider}' (known: {', '.join(sorted(KNOWN_PROVIDERS))}): "
            "set base_url, and provider_interface unless it speaks the OpenAI API"
        )

    @field_validator("base_url")
    @classmethod
    def _api_root_under_bare_host(cls, value: str, info: ValidationInfo) -> str:
        # Plano appends the provider's API path to a bare host; aiplane keeps the full root.
        if urlsplit(value).path or "provider_interface" not in info.data:
            return value
        return value + DEFAULT_API_PATH[info.data["provider_interface"]]

    @field_validator("region")
    @classmethod
    def _region_for_bedrock(cls, value: str | None, info: ValidationInfo) -> str | None:
        interface = info.data.get("provider_interface")
        if interface != "bedrock":
            if value is not None and interface is not None:
                raise violation("region is for provider_interface bedrock")
            return value
        if value is not None:
            if not _REGION.fullmatch(value):
                raise malformed("expected an AWS region such as us-east-1")
            return value
        host = urlsplit(str(info.data.get("base_url", ""))).hostname or ""
        found = _BEDROCK_HOST.fullmatch(host)
        if found is None and "base_url" in info.data:
            raise violation("set region: Bedrock's signatures name it, and base_url's host does not")
        return found[1] if found else None

    @field_validator("aws_access_key_id", "aws_secret_access_key", "aws_session_token")
    @classmethod
    def _aws_keys_for_bedrock(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("provider_interface") not in (None, "bedrock"):
            raise violation(f"{info.field_name} is for provider_interface bedrock")
        return value

    @field_validator("default")
    @classmethod
    def _default_names_one_model(cls, value: bool, info: ValidationInfo) -> bool:
        if value and info.data.get("model", "").endswith("/*"):
            raise violation("a wildcard provider cannot be the default: name one model, e.g. openai/gpt-4o-mini")
        return value

    @field_validator("routing_preferences")
    @classmethod
    def _preferences_name_one_model(
        cls, value: tuple[RouteDescription, ...], info: ValidationInfo
    ) -> tuple[RouteDescription, ...]:
        if value and info.data.get("model", "").endswith("/*"):
            raise violation("a wildcard provider cannot have routing_preferences")
        return value

    @property
    def provider(self) -> str:
        return self.model.partition("/")[0]

    @property
    def model_name(self) -> str:
        """The model as the provider knows it; `*` for a wildcard."""
        return self.model.partition("/")[2]

    @property
    def is_wildcard(self) -> bool:
        return self.model_name == "*"

    @property
    def access_key_env(self) -> str | None:
        """The environment variable `access_key` refers to, or None for a literal key."""
        return env_reference(self.access_key)

    def offers(self, model: str) -> bool:
        """Whether this provider serves `model`, written as provider/name or as a bare name."""
        if self.is_wildcard:
            return model.startswith(self.provider + "/") and len(model) > len(self.provider) + 1
        return model in (self.model, self.model_name)

    def resolved_access_key(self, env: Mapping[str, str]) -> str | None:
        """The key itself; call this only in the process that sends it upstream."""
        variable = self.access_key_env
        return env.get(variable) if variable else self.access_key

    @property
    def signs_requests(self) -> bool:
        """Whether requests are signed with AWS SigV4 (Bedrock without an API key or passthrough)."""
        return self.provider_interface == "bedrock" and self.access_key is None and not self.passthrough_auth

    def _aws_credential_refs(self) -> tuple[str, str, str]:
        given = (self.aws_access_key_id, self.aws_secret_access_key, self.aws_session_token)
        return tuple(value or default for value, default in zip(given, _AWS_CREDENTIAL_VARIABLES, strict=True))  # type: ignore[return-value]

    def resolved_aws_credentials(self, env: Mapping[str, str]) -> tuple[str, str, str | None] | None:
        """(access key id, secret, session token) for SigV4; None when a part is missing.
        Call this only in the process that signs."""
        values = [env.get(name) if (name := env_reference(ref)) else ref for ref in self._aws_credential_refs()]
        key_id, secret, token = values
        return (key_id, secret, token or None) if key_id and secret else None

    def unavailable_reason(self, env: Mapping[str, str]) -> str | None:
        if self.signs_requests:
            for ref in self._aws_credential_refs()[:2]:
                variable = env_reference(ref)
                if variable and not env.get(variable):
                    return f"environment variable {variable} is not set"
            return None
        variable = self.access_key_env
        if variable and not self.passthrough_auth and not env.get(variable):
            return f"environment variable {variable} is not set"
        return None


# --- listeners ---------------------------------------------------------------------------

ListenerType = Literal["model", "prompt", "agent"]

# Plano's ports for a listener that names none: LLM egress and prompt ingress.
_DEFAULT_LISTENER_PORTS: Mapping[str, int] = {"model": 12000, "prompt": 10000}


class ListenerAgent(Frozen):
    """An agent an agent listener may route to, by its id in `agents`."""

    id: str
    description: str
    default: bool = False
    input_filters: tuple[str, ...] = ()  # Plano's older `filter_chain`


class Listener(Frozen):
    name: str
    type: ListenerType
    address: str = "127.0.0.1"
    port: Port  # defaults by type, except for agent listeners
    timeout: Seconds = 300.0
    message_format: Literal["openai"] = "openai"
    router: Literal["plano_orchestrator_v1"] | None = None
    max_retries: Count | None = None
    agents: tuple[ListenerAgent, ...] = ()
    input_filters: tuple[str, ...] = ()
    output_filters: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _port_by_type(cls, data: Any) -> Any:
        if not isinstance(data, Mapping) or "port" in data or data.get("type") == "agent":
            return data
        kind = data.get("type")
        # A misspelt type is reported by itself; a model listener's port keeps the report to that.
        port = _DEFAULT_LISTENER_PORTS[kind] if kind in ("model", "prompt") else _DEFAULT_LISTENER_PORTS["model"]
        return {**data, "port": port}


DEFAULT_LISTENER = Listener(name="llm", type="model", port=10000)


# --- the policy --------------------------------------------------------------------------


class ModelAlias(Frozen):
    target: str  # provider/name, or a bare model name some provider serves


_VERSION = re.compile(r"v?\d+(\.\d+){0,2}(-[0-9A-Za-z.]+)?")


def _version(value: Any) -> Any:
    if isinstance(value, str) and _VERSION.fullmatch(value):
        return value
    raise malformed("expected a version string such as v0.3.0 (quote a bare number: '0.1')")


# Plano's version strings: v0.1, v0.1.0, 0.1-beta, 0.2.0, v0.2.0, v0.3.0, v0.4.0, ...
Version = Annotated[str, BeforeValidator(_version)]

# Sections parsed and validated, but not yet acted on by the gateway.
_NOT_YET_ENFORCED_SECTIONS = (
    "routing_preferences",
    "routing",
    "endpoints",
    "system_prompt",
    "prompt_targets",
    "prompt_guards",
    "agents",
    "filters",
    "ratelimits",
    "model_metrics_sources",
    "state_storage",
    "tracing",
    "overrides",
    "mode",
)
_NOT_YET_ENFORCED_LISTENER_KEYS = ("max_retries", "input_filters", "output_filters")
_NOT_YET_ENFORCED_PROVIDER_KEYS = ("http_host", "routing_preferences", "capabilities")


class Policy(Frozen):
    """A whole policy file, validated. Build it with `load_policy` or `parse_policy`."""

    version: Version
    listeners: Annotated[tuple[Listener, ...], AfterValidator(non_empty)] = (DEFAULT_LISTENER,)
    model_providers: tuple[ModelProvider, ...] = ()
    model_aliases: FrozenMap[str, ModelAlias] = {}
    routing_preferences: tuple[RoutingPreference, ...] = ()
    routing: Routing | None = None
    endpoints: FrozenMap[EndpointName, Endpoint] = {}
    system_prompt: str | None = None
    prompt_targets: tuple[PromptTarget, ...] = ()
    prompt_guards: PromptGuards | None = None
    agents: tuple[Agent, ...] = ()
    filters: tuple[Filter, ...] = ()
    ratelimits: tuple[RateLimit, ...] = ()
    model_metrics_sources: tuple[MetricsSource, ...] = ()
    state_storage: StateStorage | None = None
    tracing: Tracing | None = None
    overrides: Overrides | None = None
    mode: Literal["llm", "prompt"] | None = None
    gateway: GatewaySettings = GatewaySettings()

    @property
    def default_provider(self) -> ModelProvider | None:
        return next((provider for provider in self.model_providers if provider.default), None)

    def provider_status(self, env: Mapping[str, str] | None = None) -> tuple[tuple[ModelProvider, str | None], ...]:
        """Each provider with None when usable, or the reason it is disabled."""
        env = os.environ if env is None else env
        return tuple((provider, provider.unavailable_reason(env)) for provider in self.model_providers)

    def not_yet_enforced(self) -> tuple[str, ...]:
        """What this file asks for that aiplane parses but does not act on yet."""
        return tuple(self._not_yet_enforced())

    def _not_yet_enforced(self) -> Iterator[str]:
        yield from (section for section in _NOT_YET_ENFORCED_SECTIONS if getattr(self, section))
        for listener in self.listeners:
            if listener.type != "model":
                yield f"listener '{listener.name}': type {listener.type}"
            for key in _NOT_YET_ENFORCED_LISTENER_KEYS:
                if getattr(listener, key):
                    yield f"listener '{listener.name}': {key}"
        for provider in self.model_providers:
            for key in _NOT_YET_ENFORCED_PROVIDER_KEYS:
                if getattr(provider, key):
                    yield f"model provider '{provider.name}': {key}"
