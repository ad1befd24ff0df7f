"""The API dialects aiplane speaks, and the table of (client, provider) pairs it can translate.

Both planes read this one table: a provider entry whose interface no client can
reach is disabled with the reason (its models answer 503 `provider_disabled`)
and gets no Envoy route or cluster; a pair missing from the table is refused at
request time with a 400 in the client's dialect.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from aiplane.policy import ModelProvider, Policy
from aiplane.translate import Translator
from aiplane.translate.anthropic_openai import AnthropicToOpenAI
from aiplane.translate.common import ANTHROPIC_ERROR_TYPES
from aiplane.translate.openai_anthropic import OpenAIToAnthropic

OPENAI = "openai"
ANTHROPIC = "anthropic"

# Client dialects, by the request a client sends.
CLIENT_ROUTES: Mapping[tuple[str, str], str] = {
    ("POST", "/v1/chat/completions"): OPENAI,
    ("POST", "/v1/messages"): ANTHROPIC,
}

@dataclass(frozen=True, slots=True)
class ProviderApi:
    """How a provider dialect is called: its API path and how it takes a key."""

    path: str  # versioned; the base URL's path is its prefix (see `Upstream.api_path`)
    key_header: str
    key_prefix: str = ""
    fixed_headers: tuple[tuple[str, str], ...] = ()


# Provider interfaces the decision server can send a request to, as the policy names them.
PROVIDER_APIS: Mapping[str, ProviderApi] = {
    OPENAI: ProviderApi("/v1/chat/completions", "authorization", "Bearer "),
    # docs.anthropic.com, "Versions": the version header is required on every request.
    ANTHROPIC: ProviderApi("/v1/messages", "x-api-key", fixed_headers=(("anthropic-version", "2023-06-01"),)),
}
SUPPORTED_PROVIDER_INTERFACES = frozenset(PROVIDER_APIS)
# Every header a client may carry a key in; a request not passing the client's key through keeps none of them.
CREDENTIAL_HEADERS = ("authorization", "x-api-key", "x-goog-api-key", "api-key")

# Pairs that need translating; a client and a provider of one dialect need none.
TRANSLATORS: Mapping[tuple[str, str], Translator] = {
    (ANTHROPIC, OPENAI): AnthropicToOpenAI(),
    (OPENAI, ANTHROPIC): OpenAIToAnthropic(),
}

def anthropic_error_type(status: int) -> str:
    return ANTHROPIC_ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")


def translating_clients(usable: Iterable[ModelProvider]) -> frozenset[str]:
    """Client dialects that may meet a provider of another dialect under this policy."""
    interfaces = {entry.provider_interface for entry in usable}
    return frozenset(client for client in set(CLIENT_ROUTES.values()) if interfaces - {client})


def can_serve(client: str, interface: str) -> bool:
    return client == interface or (client, interface) in TRANSLATORS


def unsupported_reason(entry: ModelProvider) -> str | None:
    if entry.provider_interface in SUPPORTED_PROVIDER_INTERFACES:
        return None
    supported = ", ".join(sorted(SUPPORTED_PROVIDER_INTERFACES))
    return f"provider_interface `{entry.provider_interface}` is not supported yet (supported: {supported})"


def provider_availability(policy: Policy, env: Mapping[str, str]) -> tuple[tuple[ModelProvider, str | None], ...]:
    """Each provider entry and why it cannot serve, or None when it can."""
    return tuple((entry, reason or unsupported_reason(entry)) for entry, reason in policy.provider_status(env))
