"""OpenAI Embeddings clients (`POST /v1/embeddings`) served by Gemini's and Amazon Titan's embedding APIs.

OpenAI's request names a `model`, which the decision server resolves to the upstream model and
puts in the path; the fields are read one by one, and any field not listed is refused with
`UnsupportedFeature` naming it (a null field asks for nothing):

- `input`: a string or a list of strings, none empty (OpenAI refuses empty ones too). Lists of
  token ids (`[1, 2]` or `[[1, 2]]`), which OpenAI takes, are refused: neither provider takes
  tokens, and cl100k token ids are not text either can read.
- `dimensions`: Gemini's `outputDimensionality`, Titan's `dimensions` (Titan Text Embeddings V2
  takes 256, 512 or 1024; the provider answers any other value with a 400 of its own).
- `encoding_format`: `float` or `base64`. Neither provider has it: the embeddings arrive as
  JSON numbers and are given to the client in the format it asked for. The official `openai`
  SDKs ask for `base64` when their caller names no format, and decode it as little-endian
  float32 values (OpenAI's own format), so `base64` is that: the float32 bytes, base64.
- `user`: an abuse-monitoring hint with no equivalent: dropped.
- `model`: the path names the upstream model; not sent.

The answer names the model the client asked for, as OpenAI's does, and reports
`usage.prompt_tokens`: Titan's `inputTextTokenCount`, and for Gemini, whose
`batchEmbedContents` answer documents no token count, a `usageMetadata.promptTokenCount` if one
comes, else 0. A provider answer that is not a list of embeddings, one per input, raises
ValueError: the decision server answers the client a 502, rather than invent vectors.

Gemini: `POST /v1beta/models/{model}:batchEmbedContents` (ai.google.dev/api/embeddings), one
EmbedContentRequest per input, in order; every request names the path's model, as Gemini
requires. No `taskType`: OpenAI has no such field, and Gemini's default serves every task.

Titan: Bedrock `InvokeModel`, `POST /model/{modelId}/invoke`
(docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-embed-text.html): one text
per request, so a list of more than one input is refused. `normalize` is not sent: Titan V2
normalizes by default (as OpenAI's embeddings are), and Titan G1, which takes `inputText` alone,
refuses any other field; for the same reason `dimensions` is refused for G1 models.
"""

from __future__ import annotations

import array
import base64
import sys
from typing import Any

from aiplane.translate.base import UnsupportedFeature, Usage
from aiplane.translate.bedrock_wire import read_error as bedrock_error_message
from aiplane.translate.common import (
    JSON,
    as_int,
    as_str,
    client_model,
    count,
    invalid,
    nonempty,
    read_provider_error,
    refuse,
)
from aiplane.translate.gemini_provider_wire import google_error
from aiplane.translate.openai_wire import error_body

_GEMINI = "Gemini batchEmbedContents"
_TITAN = "Amazon Titan Text Embeddings"
_TITAN_G1 = "Amazon Titan Embeddings G1 - Text"

# Every field OpenAI's embeddings request takes.
_FIELDS = frozenset({"input", "model", "encoding_format", "dimensions", "user"})
_FORMATS = ("float", "base64")
_LITTLE_ENDIAN = sys.byteorder == "little"
_NUMBER_TYPES = frozenset({float, int})  # what JSON numbers parse to (never bool)

# ---------------------------------------------------------------------------------------------
# Request
# ---------------------------------------------------------------------------------------------


def _is_token(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _texts(value: Any, provider: str) -> list[str]:
    """The texts to embed, in order."""
    if isinstance(value, str):
        if not value:
            raise invalid("input", "a non-empty string or a list of non-empty strings")
        return [value]
    if not isinstance(value, list):
        raise invalid("input", "a string or a list of strings")
    if not value:
        raise invalid("input", "a non-empty list")
    for i, item in enumerate(value):
        if isinstance(item, str):
            if not item:
                raise invalid(f"input[{i}]", "a non-empty string")
        elif _is_token(item) or (isinstance(item, list) and all(_is_token(token) for token in item)):
            raise refuse("input", "Token ids in `input` (send the text)", provider)
        else:
            raise invalid(f"input[{i}]", "a string")
    return value


def _read(body: Any, provider: str) -> tuple[list[str], int | None]:
    """The texts and the dimensions a client's request asks for; raises UnsupportedFeature."""
    if not isinstance(body, dict):
        raise invalid("body", "a JSON object")
    for name in body:
        if name not in _FIELDS:
            raise refuse(name, f"`{name}`", provider)
    texts = _texts(body.get("input"), provider)
    encoding_format = body.get("encoding_format")
    if encoding_format is not None and encoding_format not in _FORMATS:
        raise invalid("encoding_format", '"float" or "base64"')
    if body.get("user") is not None:
        as_str(body["user"], "user")
    dimensions = body.get("dimensions")
    if dimensions is not None and as_int(dimensions, "dimensions") < 1:
        raise invalid("dimensions", "a positive integer")
    return texts, dimensions


# ---------------------------------------------------------------------------------------------
# Response
# ---------------------------------------------------------------------------------------------


def _vector(values: Any, as_base64: bool, index: int) -> list[float] | str:
    """One embedding as OpenAI gives it: a list of floats, or little-endian float32 in base64."""
    if not isinstance(values, list) or not values or not set(map(type, values)) <= _NUMBER_TYPES:
        raise ValueError(f"embedding {index} from the provider is not a list of numbers")
    if not as_base64:
        return values
    try:
        floats = array.array("f", values)
    except OverflowError as exc:  # an integer beyond any float: not from JSON
        raise ValueError(f"embedding {index} from the provider holds a number out of range") from exc
    if not _LITTLE_ENDIAN:
        floats.byteswap()
    return base64.b64encode(floats).decode("ascii")


def _expected_count(client_request: JSON) -> int | None:
    """How many embeddings the client asked for; None when its request does not say."""
    value = client_request.get("input")
    return 1 if isinstance(value, str) else len(value) if isinstance(value, list) else None


def _openai_response(vectors: list[Any], prompt_tokens: int, client_request: JSON) -> tuple[JSON, Usage]:
    expected = _expected_count(client_request)
    if expected is not None and len(vectors) != expected:
        raise ValueError(f"the provider sent {len(vectors)} embeddings for {expected} inputs")
    as_base64 = client_request.get("encoding_format") == "base64"
    data = [
        {"object": "embedding", "index": i, "embedding": _vector(values, as_base64, i)}
        for i, values in enumerate(vectors)
    ]
    body = {
        "object": "list",
        "data": data,
        "model": client_model(client_request),
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
    }
    return body, Usage(input_tokens=prompt_tokens)


def _as_object(body: Any) -> JSON:
    if not isinstance(body, dict):
        raise ValueError("the provider's answer is not a JSON object")
    return body


# ---------------------------------------------------------------------------------------------
# The translators
# ---------------------------------------------------------------------------------------------


class OpenAIToGeminiEmbeddings:
    """OpenAI Embeddings to Gemini `batchEmbedContents`."""

    provider = "gemini"

    def request(self, body: JSON, upstream_model: str) -> JSON:
        texts, dimensions = _read(body, _GEMINI)
        model = upstream_model if upstream_model.startswith("models/") else f"models/{upstream_model}"
        requests = []
        for text in texts:
            request: JSON = {"model": model, "content": {"parts": [{"text": text}]}}
            if dimensions is not None:
                request["outputDimensionality"] = dimensions
            requests.append(request)
        return {"requests": requests}

    def response(self, body: JSON, client_request: JSON) -> tuple[JSON, Usage]:
        body = _as_object(body)
        embeddings = body.get("embeddings")
        if not isinstance(embeddings, list):
            raise ValueError("the provider's answer has no `embeddings` list")
        vectors = [item.get("values") if isinstance(item, dict) else None for item in embeddings]
        usage = body.get("usageMetadata")
        prompt_tokens = count(usage.get("promptTokenCount")) if isinstance(usage, dict) else 0
        return _openai_response(vectors, prompt_tokens, client_request)

    def error(self, status: int, body: bytes) -> bytes:
        # `code` keeps Google's own status (`INVALID_ARGUMENT`, `RESOURCE_EXHAUSTED`, ...).
        message, parsed = read_provider_error(status, body)
        return error_body(status, message, nonempty(google_error(parsed).get("status")))


def _is_titan_g1(model: str) -> bool:
    return "titan-embed-text-v1" in model or "titan-embed-g1-text" in model


class OpenAIToTitanEmbeddings:
    """OpenAI Embeddings to Amazon Titan Text Embeddings (Bedrock `InvokeModel`)."""

    provider = "bedrock"

    def request(self, body: JSON, upstream_model: str) -> JSON:
        texts, dimensions = _read(body, _TITAN)
        if len(texts) > 1:
            raise UnsupportedFeature(
                "input", f"{_TITAN} embeds one text per request: send the {len(texts)} inputs in separate requests"
            )
        out: JSON = {"inputText": texts[0]}
        if dimensions is not None:
            if _is_titan_g1(upstream_model):
                raise refuse("dimensions", "`dimensions`", _TITAN_G1)
            out["dimensions"] = dimensions
        return out

    def response(self, body: JSON, client_request: JSON) -> tuple[JSON, Usage]:
        body = _as_object(body)
        values = body.get("embedding")
        if values is None:  # Titan V2 also sends `embeddingsByType`, which holds the same floats
            by_type = body.get("embeddingsByType")
            values = by_type.get("float") if isinstance(by_type, dict) else None
        return _openai_response([values], count(body.get("inputTextTokenCount")), client_request)

    def error(self, status: int, body: bytes) -> bytes:
        # Bedrock names the exception in a header (`x-amzn-ErrorType`), not in the body.
        return error_body(status, bedrock_error_message(status, body), None)
