"""The API dialects aiplane speaks, and the table of (client, provider) pairs it can translate.

Both planes read these tables: Envoy's routes pick a decision filter by client
API, and a (client, provider) pair missing from `TRANSLATORS` is refused at
request time with a 400 in the client's dialect.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote

from aiplane.translate import EmbeddingTranslator, Translator
from aiplane.translate.anthropic_bedrock import AnthropicToBedrock
from aiplane.translate.anthropic_gemini import AnthropicToGemini
from aiplane.translate.anthropic_openai import AnthropicToOpenAI
from aiplane.translate.common import ANTHROPIC_ERROR_TYPES
from aiplane.translate.embeddings import OpenAIToGeminiEmbeddings, OpenAIToTitanEmbeddings
from aiplane.translate.gemini_anthropic import GeminiToAnthropic
from aiplane.translate.gemini_bedrock import GeminiToBedrock
from aiplane.translate.gemini_openai import GeminiToOpenAI
from aiplane.translate.openai_anthropic import OpenAIToAnthropic
from aiplane.translate.openai_bedrock import OpenAIToBedrock
from aiplane.translate.openai_gemini import OpenAIToGemini

if TYPE_CHECKING:
    from aiplane.policy import ModelProvider  # the policy checks its providers against these tables

OPENAI = "openai"
ANTHROPIC = "anthropic"
GEMINI = "gemini"
AZURE_OPENAI = "azure_openai"
BEDROCK = "bedrock"


# What a client asks a model for.
CHAT = "chat"
EMBEDDINGS = "embeddings"
COUNT_TOKENS = "count_tokens"


@dataclass(frozen=True, slots=True)
class ClientApi:
    """A request a client dialect sends: its method and path pattern (Python and RE2 alike).

    Gemini puts the model and the choice to stream in the path (`model`, `action` groups).
    """

    dialect: str
    method: str
    path: str
    operation: str = CHAT


CLIENT_APIS: tuple[ClientApi, ...] = (
    ClientApi(OPENAI, "POST", r"/v1/chat/completions"),
    ClientApi(OPENAI, "POST", r"/v1/embeddings", EMBEDDINGS),
    ClientApi(ANTHROPIC, "POST", r"/v1/messages"),
    ClientApi(ANTHROPIC, "POST", r"/v1/messages/count_tokens", COUNT_TOKENS),
    ClientApi(
        GEMINI, "POST", r"/v1(?:beta)?/models/(?P<model>[^/]+):(?P<action>generateContent|streamGenerateContent)"
    ),
)


CLIENT_DIALECTS: tuple[str, ...] = tuple(dict.fromkeys(api.dialect for api in CLIENT_APIS))


@dataclass(frozen=True, slots=True)
class ClientCall:
    """What a request's method and path say: the client's dialect and what it asks for, and for
    Gemini the model and streaming."""

    dialect: str
    model: str | None = None
    stream: bool | None = None
    operation: str = CHAT


_LITERAL_CALLS = {
    (api.method, api.path): ClientCall(api.dialect, operation=api.operation)
    for api in CLIENT_APIS
    if "(" not in api.path
}
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
    embeddings_path: str | None = None  # None: the provider has no embeddings API
    count_tokens_path: str | None = None  # None: the gateway counts (see `aiplane.translate.token_count`)

    def paths(self) -> dict[str, str]:
        """Its API paths by what they serve: `chat`, `stream` and, where it has them, the others."""
        optional = {EMBEDDINGS: self.embeddings_path, COUNT_TOKENS: self.count_tokens_path}
        return {CHAT: self.path, "stream": self.stream_path or self.path} | {
            key: path for key, path in optional.items() if path
        }


# Provider interfaces the decision server can send a request to, as the policy names them.
PROVIDER_APIS: Mapping[str, ProviderApi] = {
    OPENAI: ProviderApi("/v1/chat/completions", "authorization", "Bearer ", embeddings_path="/v1/embeddings"),
    # docs.anthropic.com, "Versions": the version header is required on every request.
    ANTHROPIC: ProviderApi(
        "/v1/messages",
        "x-api-key",
        fixed_headers=(("anthropic-version", "2023-06-01"),),
        count_tokens_path="/v1/messages/count_tokens",
    ),
    GEMINI: ProviderApi(
        "/v1beta/models/{model}:generateContent",
        "x-goog-api-key",
        stream_path="/v1beta/models/{model}:streamGenerateContent?alt=sse",
        embeddings_path="/v1beta/models/{model}:batchEmbedContents",
    ),
    # learn.microsoft.com, "Azure OpenAI REST API reference": the deployment names the model;
    # 2024-10-21 is the current GA data-plane version.
    AZURE_OPENAI: ProviderApi(
        "/openai/deployments/{model}/chat/completions?api-version=2024-10-21",
        "api-key",
        dialect=OPENAI,
        embeddings_path="/openai/deployments/{model}/embeddings?api-version=2024-10-21",
    ),
    # docs.aws.amazon.com, Bedrock API reference, Converse and ConverseStream; embeddings are Titan's,
    # through InvokeModel. The key is a Bedrock API key (a bearer token); without one, requests are
    # signed with SigV4 (`aiplane.extproc.sigv4`).
    BEDROCK: ProviderApi(
        "/model/{model}/converse",
        "authorization",
        "Bearer ",
        stream_path="/model/{model}/converse-stream",
        embeddings_path="/model/{model}/invoke",
    ),
}


def provider_dialect(interface: str) -> str:
    """The body format a provider interface speaks."""
    return PROVIDER_APIS[interface].dialect or interface


# Every header a client may carry a key in; a request not passing the client's key through keeps none of them.
CREDENTIAL_HEADERS = ("authorization", "x-api-key", "x-goog-api-key", "api-key")


def client_key(headers: Mapping[str, str]) -> str | None:
    """The key a client sent, in whichever dialect's header: `authorization: Bearer K`,
    `x-api-key`, `x-goog-api-key` or `api-key`."""
    for name in CREDENTIAL_HEADERS:
        value = headers.get(name)
        if value:
            return value[7:] if name == "authorization" and value[:7].lower() == "bearer " else value
    return None


# Headers that sign an AWS request; a signed request carries only the gateway's own.
AWS_SIGNATURE_HEADERS = ("x-amz-date", "x-amz-security-token", "x-amz-content-sha256")

# Pairs that need translating; a client and a provider of one dialect need none.
TRANSLATORS: Mapping[tuple[str, str], Translator] = {
    (ANTHROPIC, OPENAI): AnthropicToOpenAI(),
    (OPENAI, ANTHROPIC): OpenAIToAnthropic(),
    (OPENAI, GEMINI): OpenAIToGemini(),
    (GEMINI, OPENAI): GeminiToOpenAI(),
    (ANTHROPIC, GEMINI): AnthropicToGemini(),
    (GEMINI, ANTHROPIC): GeminiToAnthropic(),
    # Bedrock is a provider dialect only: no client speaks Converse.
    (OPENAI, BEDROCK): OpenAIToBedrock(),
    (ANTHROPIC, BEDROCK): AnthropicToBedrock(),
    (GEMINI, BEDROCK): GeminiToBedrock(),
}


# OpenAI Embeddings clients served by another provider's embeddings API, by the provider's dialect;
# an OpenAI-compatible provider needs none, Anthropic has no embeddings API.
EMBEDDING_TRANSLATORS: Mapping[str, EmbeddingTranslator] = {
    GEMINI: OpenAIToGeminiEmbeddings(),
    BEDROCK: OpenAIToTitanEmbeddings(),
}


def anthropic_error_type(status: int) -> str:
    return ANTHROPIC_ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")


def translating_clients(usable: Iterable[ModelProvider]) -> tuple[frozenset[str], frozenset[str]]:
    """The client dialects that may meet a provider of another dialect under this policy, and,
    among them, those that meet nothing else (no provider speaks them: every answer they get
    is translated)."""
    spoken = frozenset(provider_dialect(entry.provider_interface) for entry in usable)
    may = frozenset(api.dialect for api in CLIENT_APIS if spoken - {api.dialect})
    return may, frozenset(client for client in may if client not in spoken)


def can_serve(client: str, dialect: str) -> bool:
    return client == dialect or (client, dialect) in TRANSLATORS
