"""The one small interface every dialect pair implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts in one shape for every provider: what limits, budgets and metrics read."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0  # part of input_tokens read from the provider's prompt cache
    cache_creation_input_tokens: int = 0  # part of input_tokens written to it
    reasoning_tokens: int = 0  # part of output_tokens spent thinking


class UnsupportedFeature(Exception):
    """The client asked for something the provider's API cannot express: a 400 naming the field."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param
        self.message = message


class StreamTranslator(Protocol):
    """Translates one streamed response, event by event, as its bytes arrive."""

    def feed(self, chunk: bytes) -> bytes:
        """Provider stream bytes in (split anywhere, even inside a UTF-8 character); client stream bytes out."""

    def finish(self) -> bytes:
        """The provider's stream ended: whatever the client's stream still needs to end properly."""

    @property
    def usage(self) -> Usage | None:
        """The usage reported so far, once the provider reported any."""


class Translator(Protocol):
    """A (client dialect, provider dialect) pair. Stateless: one instance serves every request."""

    client: str
    provider: str

    def request(self, body: dict[str, Any], upstream_model: str) -> dict[str, Any]:
        """The client's request body as the provider's; raises UnsupportedFeature."""

    def response(self, body: dict[str, Any], client_request: dict[str, Any]) -> tuple[dict[str, Any], Usage]:
        """The provider's (successful, non-streamed) response body to `client_request` as the
        client's, and its usage. A provider that names no model in its answer (Bedrock) is
        reported under the model the client asked for."""

    def stream(self, client_request: dict[str, Any]) -> StreamTranslator:
        """A fresh translator for one streamed response to `client_request`, the client's own body
        (the model name it asked for, the stream options it set)."""

    def error(self, status: int, body: bytes) -> bytes:
        """The provider's error body (any bytes) as an error body in the client's dialect; status kept."""


class EmbeddingTranslator(Protocol):
    """An OpenAI Embeddings client (`POST /v1/embeddings`) served by another provider's embedding API."""

    provider: str

    def request(self, body: dict[str, Any], upstream_model: str) -> dict[str, Any]:
        """The client's request body as the provider's; raises UnsupportedFeature."""

    def response(self, body: dict[str, Any], client_request: dict[str, Any]) -> tuple[dict[str, Any], Usage]:
        """The provider's embeddings as OpenAI's `{"object": "list", "data": [...]}`, in the
        `encoding_format` the client asked for, and the usage."""

    def error(self, status: int, body: bytes) -> bytes:
        """The provider's error body (any bytes) as an OpenAI error body; status kept."""
