"""The API dialects aiplane speaks, and the table of (client, provider) pairs it can translate.

Both planes read these tables: Envoy's routes pick a decision filter by client
API, and a (client, provider) pair missing from `TRANSLATORS` is refused at
request time with a 400 in the client's dialect.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import unquote

from aiplane.policy import ModelProvider
from aiplane.translate import Translator
from aiplane.translate.anthropic_gemini import AnthropicToGemini
from aiplane.translate.anthropic_openai import AnthropicToOpenAI
from aiplane.translate.common import ANTHROPIC_ERROR_TYPES
from aiplane.translate.gemini_anthropic import GeminiToAnthropic
from aiplane.translate.gemini_openai import GeminiToOpenAI
from aiplane.translate.openai_anthropic import OpenAIToAnthropic
from aiplane.translate.openai_gemini import OpenAIToGemini

OPENAI = "openai"
ANTHROPIC = "anthropic"
GEMINI = "gemini"
AZURE_OPENAI = "azure_openai"


@dataclass(frozen=True, slots=True)
class ClientApi:
    """A request a client dialect sends: its method and path pattern (Python and RE2 alike).

    Gemini puts the model and the choice to stream in the path (`model`, `action` groups).
    """

    dialect: str
    method: str
    path: str


CLIENT_APIS: tuple[ClientApi, ...] = (
    ClientApi(OPENAI, "POST", r"/v1/chat/completions"),
    ClientApi(ANTHROPIC, "POST", r"/v1/messages"),
    ClientApi(
        GEMINI, "POST", r"/v1(?:beta)?/models/(?P<model>[^:]+):(?P<action>generateContent|streamGenerateContent)"
    ),
)


@dataclass(frozen=True, slots=True)
class ClientCall:
    """What a request's method and path say: the client's dialect, and for Gemini the model and streaming."""

    dialect: str
    model: str | None = None
    stream: bool | None = None


_LITERAL_CALLS = {(api.method, api.path): ClientCall(api.dialect) for api in CLIENT_APIS if "(" not in api.path}
_PATTERN_CALLS = [(api.method, re.compile(api.path), api.dialect) for api in CLIENT_APIS if "(" in api.path]


def client_call(method: str, path: str) -> ClientCall | None:
    call = _LITERAL_CALLS.get((method, path))
    if call is not None:
        return call
    for api_method, pattern, dialect in _PATTERN_CALLS:
        match = pattern.fullmatch(path)
        if match and method == api_method:
            return ClientCall(dialect, unquote(match["model"]), match["action"] == "streamGenerateContent")
    return None


@dataclass(frozen=True, slots=True)
class ProviderApi:
    """How a provider dialect is called: its API path and how it takes a key."""

    path: str  # versioned; the base URL's path is its prefix (see `Upstream.api_path`)
    key_header: str
    key_prefix: str = ""
    fixed_headers: tuple[tuple[str, str], ...] = ()
    stream_path: str | None = None  # when streaming is chosen by the path, not the body
    # `{model}` in a path: the model is named there, not in the body.
    dialect: str = ""  # the body format it speaks; "" means its own name


# Provider interfaces the decision server can send a request to, as the policy names them.
PROVIDER_APIS: Mapping[str, ProviderApi] = {
    OPENAI: ProviderApi("/v1/chat/completions", "authorization", "Bearer "),
    # docs.anthropic.com, "Versions": the version header is required on every request.
    ANTHROPIC: ProviderApi("/v1/messages", "x-api-key", fixed_headers=(("anthropic-version", "2023-06-01"),)),
    GEMINI: ProviderApi(
        "/v1beta/models/{model}:generateContent",
        "x-goog-api-key",
        stream_path="/v1beta/models/{model}:streamGenerateContent?alt=sse",
    ),
    # learn.microsoft.com, "Azure OpenAI REST API reference": the deployment names the model;
    # 2024-10-21 is the current GA data-plane version.
    AZURE_OPENAI: ProviderApi(
        "/openai/deployments/{model}/chat/completions?api-version=2024-10-21", "api-key", dialect=OPENAI
    ),
}


def provider_dialect(interface: str) -> str:
    """The body format a provider interface speaks."""
    return PROVIDER_APIS[interface].dialect or interface


# Every header a client may carry a key in; a request not passing the client's key through keeps none of them.
CREDENTIAL_HEADERS = ("authorization", "x-api-key", "x-goog-api-key", "api-key")

# Pairs that need translating; a client and a provider of one dialect need none.
TRANSLATORS: Mapping[tuple[str, str], Translator] = {
    (ANTHROPIC, OPENAI): AnthropicToOpenAI(),
    (OPENAI, ANTHROPIC): OpenAIToAnthropic(),
    (OPENAI, GEMINI): OpenAIToGemini(),
    (GEMINI, OPENAI): GeminiToOpenAI(),
    (ANTHROPIC, GEMINI): AnthropicToGemini(),
    (GEMINI, ANTHROPIC): GeminiToAnthropic(),
}


def anthropic_error_type(status: int) -> str:
    return ANTHROPIC_ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")


def translating_clients(usable: Iterable[ModelProvider]) -> frozenset[str]:
    """Client dialects that may meet a provider of another dialect under this policy."""
    dialects = {provider_dialect(entry.provider_interface) for entry in usable}
    return frozenset(api.dialect for api in CLIENT_APIS if dialects - {api.dialect})


def can_serve(client: str, interface: str) -> bool:
    return client == interface or (client, interface) in TRANSLATORS
