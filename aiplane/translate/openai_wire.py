"""The OpenAI Chat Completions wire, client side: responses, errors and stream chunks as OpenAI's SDKs read them."""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from aiplane.translate.common import JSON, client_model, nonempty, openai_error_type


def completion_id(provider_id: Any) -> str:
    return f"chatcmpl-{nonempty(provider_id) or uuid.uuid4().hex}"


def arguments_json(tool_input: Any) -> str:
    """A tool call's input object as the JSON text OpenAI's `arguments` holds."""
    try:
        return orjson.dumps(tool_input if isinstance(tool_input, dict) else {}).decode()
    except orjson.JSONEncodeError:
        return "{}"


def finish_reason(reasons: dict[str, str], provider_reason: Any, used_tools: bool) -> str:
    """OpenAI's finish_reason for a provider's, by `reasons`; OpenAI clients loop on `tool_calls`."""
    reason = reasons.get(provider_reason, "stop") if isinstance(provider_reason, str) else "stop"
    return "tool_calls" if reason == "stop" and used_tools else reason


def error_body(status: int, message: str, code: str | None) -> bytes:
    # `code` keeps the provider's own error type or status.
    return orjson.dumps({"error": {"message": message, "type": openai_error_type(status), "param": None, "code": code}})


def error_event(status: int, message: str, code: str | None) -> bytes:
    """An error as a stream event."""
    return b"data: " + error_body(status, message, code) + b"\n\n"


# Stream chunks: each is a chunk's prefix (see `chunk_prefix`), a delta, then one of these ends.
CHUNK_END = b',"logprobs":null,"finish_reason":null}]}\n\n'
DELTA_END = b"}" + CHUNK_END
ROLE_DELTA = b'{"role":"assistant","content":""' + DELTA_END
DONE = b"data: [DONE]\n\n"
NOT_JSON = error_event(500, "the provider's stream has an event that is not a JSON object", None)


def stream_settings(client_request: JSON) -> tuple[str, bool]:
    """The model a stream's chunks name, and whether the client asked for a usage chunk."""
    options = client_request.get("stream_options")
    include_usage = isinstance(options, dict) and options.get("include_usage") is True
    return client_model(client_request), include_usage


def chunk_prefix(chunk_id: str, created: int, model: str) -> bytes:
    """A chunk up to its delta: the same in every chunk of one completion."""
    return b'data: {"id":%s,"object":"chat.completion.chunk","created":%d,"model":%s,%s' % (
        orjson.dumps(chunk_id),
        created,
        orjson.dumps(model),
        b'"choices":[{"index":0,"delta":',
    )


def finish_chunk(prefix: bytes, reason: str) -> bytes:
    return prefix + b'{},"logprobs":null,"finish_reason":"%s"}]}\n\n' % reason.encode()


def usage_chunk(chunk_id: str, created: int, model: str, wire_usage: JSON) -> bytes:
    """The last chunk (`choices: []`), sent only when the client set `stream_options.include_usage`."""
    chunk = {
        "id": chunk_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [],
        "usage": wire_usage,
    }
    return b"data: " + orjson.dumps(chunk) + b"\n\n"
