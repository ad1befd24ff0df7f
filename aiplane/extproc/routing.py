"""Model resolution: which provider serves a requested model, decided by pure lookups.

Everything that can be computed from the policy alone (upstream paths, header
mutations, credentials, the `/v1/models` body) is computed here once, when a
policy arrives, so the per-request path only does dictionary lookups.

Resolution order for a requested `model`:
1. a `model_aliases` entry is replaced by its target;
2. `provider/name` names a provider entry exactly, else that provider's `provider/*`;
3. a bare `name` names the entry whose model is `name` (the default entry first);
   else, when exactly one enabled wildcard provider exists, that provider;
4. an empty model, `default` or `none` (Plano's clients send these) goes to the default provider.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

import orjson
from envoy.config.core.v3.base_pb2 import HeaderValue, HeaderValueOption
from envoy.service.ext_proc.v3.external_processor_pb2 import HeaderMutation

from aiplane.dialects import (
    AWS_SIGNATURE_HEADERS,
    CREDENTIAL_HEADERS,
    PROVIDER_APIS,
    provider_dialect,
    translating_clients,
)
from aiplane.extproc.sigv4 import AwsCredentials, SigV4Signer
from aiplane.policy import ModelProvider, Policy
from aiplane.upstreams import ROUTE_HEADER, parse_base_url

_DEFAULT_NAMES = frozenset({"", "default", "none"})

OVERWRITE = HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD
ADD_IF_ABSENT = HeaderValueOption.HeaderAppendAction.ADD_IF_ABSENT


def header(key: str, value: str, action: int = OVERWRITE) -> HeaderValueOption:
    return HeaderValueOption(header=HeaderValue(key=key, raw_value=value.encode()), append_action=action)


@dataclass(frozen=True, slots=True)
class Route:
    """One provider entry, ready to apply to a request."""

    provider: str  # the entry's name, as the user wrote it
    dialect: str  # the body format its API speaks
    upstream_model: str | None  # None for a wildcard entry: the requested name is used
    mutation: HeaderMutation  # authority, route header, credentials, extra headers
    disabled: str | None  # why the entry cannot serve, or None
    # upstream paths by what they serve (see `ProviderApi.paths`); `{model}` in them names the model.
    paths: Mapping[str, str]
    signer: SigV4Signer | None = None  # signs each request once its body is final (Bedrock)
    # (header, prefix) the provider takes a key in, when it takes the client's own (passthrough_auth):
    # a client of another dialect sent it in its own dialect's header.
    passthrough_key: tuple[str, str] | None = None

    def path_for(self, upstream_model: str, serving: str) -> str | None:
        """The path for `chat`, `stream`, `embeddings` or `count_tokens`; None when the provider has none."""
        path = self.paths.get(serving)
        if path is None or "{model}" not in path:
            return path
        return path.replace("{model}", quote(upstream_model, safe=""))


@dataclass(frozen=True, slots=True)
class Resolution:
    route: Route
    upstream_model: str


def _compile_route(entry: ModelProvider, disabled: str | None, env: Mapping[str, str]) -> Route:
    upstream = parse_base_url(str(entry.base_url))
    api = PROVIDER_APIS[entry.provider_interface]
    paths = {serving: upstream.api_path(path) for serving, path in api.paths().items()}
    set_headers = [
        header(":authority", upstream.authority),
        header(ROUTE_HEADER, entry.name),
        *(header(k, v, ADD_IF_ABSENT) for k, v in api.fixed_headers),  # a same-dialect client's own wins
        *(header(k, v) for k, v in entry.headers.items()),
    ]
    remove_headers: list[str] = []
    key = None if disabled else entry.resolved_access_key(env)
    signer = None if disabled else _signer(entry, upstream.authority, env)
    if not entry.passthrough_auth:
        if key:
            set_headers.append(header(api.key_header, api.key_prefix + key))
        # A signed request's `authorization` is the signature, set once the body is final.
        kept = api.key_header if key or signer else None
        remove_headers += [name for name in CREDENTIAL_HEADERS if name != kept]
    if signer is not None:
        # AWS headers the signature does not set: a client's would confuse AWS. (A header is never
        # both removed and set in one mutation: Envoy's order between the two is not a contract.)
        remove_headers += [name for name in AWS_SIGNATURE_HEADERS if name not in signer.header_names]
    return Route(
        provider=entry.name,
        dialect=provider_dialect(entry.provider_interface),
        upstream_model=None if entry.is_wildcard else entry.model_name,
        mutation=HeaderMutation(set_headers=set_headers, remove_headers=remove_headers),
        disabled=disabled,
        paths=paths,
        signer=signer,
        passthrough_key=(api.key_header, api.key_prefix) if entry.passthrough_auth else None,
    )


def _signer(entry: ModelProvider, host: str, env: Mapping[str, str]) -> SigV4Signer | None:
    credentials = entry.resolved_aws_credentials(env) if entry.signs_requests else None
    if credentials is None or entry.region is None:
        return None
    return SigV4Signer(AwsCredentials(*credentials), entry.region, "bedrock", host)


class RoutingTable:
    """The compiled, immutable form of a policy's model routing."""

    def __init__(self, policy: Policy, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        self._exact: dict[str, Route] = {}
        self._wildcards: dict[str, Route] = {}
        self._default: Route | None = None
        listed: list[tuple[str, str]] = []
        # The default entry claims its bare name first.
        availability = policy.provider_status(env)
        self.translating_clients, self.translated_clients = translating_clients(
            entry for entry, disabled in availability if not disabled
        )
        ordered = sorted(availability, key=lambda item: not item[0].default)
        for entry, disabled in ordered:
            route = _compile_route(entry, disabled, env)
            if entry.is_wildcard:
                self._wildcards.setdefault(entry.provider, route)
                continue
            self._exact.setdefault(entry.model, route)
            self._exact.setdefault(entry.model_name, route)
            if entry.default:
                self._default = route
            if not disabled:
                listed.append((entry.model, entry.provider))
        enabled_wildcards = [r for r in self._wildcards.values() if not r.disabled]
        self._sole_wildcard = enabled_wildcards[0] if len(enabled_wildcards) == 1 else None
        self._aliases = {alias: spec.target for alias, spec in policy.model_aliases.items()}
        for alias in self._aliases:
            resolution = self._resolve_name(alias)
            if resolution and not resolution.route.disabled:
                listed.append((alias, "aiplane"))
        self.models_body: bytes = orjson.dumps(
            {
                "object": "list",
                "data": [{"id": mid, "object": "model", "created": 0, "owned_by": owner} for mid, owner in listed],
            }
        )
        ids = [mid for mid, _ in listed]
        self.gemini_models_body: bytes = orjson.dumps(
            {
                "models": [
                    {
                        "name": f"models/{mid}",
                        "displayName": mid,
                        "supportedGenerationMethods": ["generateContent", "streamGenerateContent"],
                    }
                    for mid in ids
                ]
            }
        )
        self.anthropic_models_body: bytes = orjson.dumps(
            {
                "data": [
                    {"type": "model", "id": mid, "display_name": mid, "created_at": "1970-01-01T00:00:00Z"}
                    for mid in ids
                ],
                "has_more": False,
                "first_id": ids[0] if ids else None,
                "last_id": ids[-1] if ids else None,
            }
        )

    def resolve(self, model: str) -> Resolution | None:
        resolution = self._resolve_name(model)
        if resolution is None and model.strip().lower() in _DEFAULT_NAMES and self._default:
            return Resolution(self._default, self._default.upstream_model or model)
        return resolution

    def _resolve_name(self, model: str) -> Resolution | None:
        name = self._aliases.get(model, model)
        route = self._exact.get(name)
        if route is not None:
            return Resolution(route, route.upstream_model or name)
        provider, slash, rest = name.partition("/")
        if slash:
            route = self._wildcards.get(provider)
            return Resolution(route, rest) if route and rest else None
        if self._sole_wildcard is not None and name:
            return Resolution(self._sole_wildcard, name)
        return None

    def unknown_model_hint(self) -> str:
        if len(self._wildcards) > 1:
            return "; name it as provider/model, for example " + ", ".join(f"{p}/{{model}}" for p in self._wildcards)
        return "; GET /v1/models lists the models this gateway serves"
