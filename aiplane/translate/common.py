"""What every dialect pair shares: reading a client's body field by field, and reading what a provider sent.

Readers of the client's body raise `UnsupportedFeature` naming the field, so a request the
translator cannot make sense of is a 400 saying where, never another exception. Readers of
the provider's answers never raise: whatever a provider sends, the client gets an answer.
"""

from __future__ import annotations

from typing import Any

import orjson

from aiplane.translate.base import UnsupportedFeature, Usage

JSON = dict[str, Any]

# Joins text blocks where the other dialect takes one string (a system prompt, a tool result):
# a paragraph break keeps blocks apart without inventing any other markup.
TEXT_SEPARATOR = "\n\n"

# ---------------------------------------------------------------------------------------------
# Reading the client's request
# ---------------------------------------------------------------------------------------------


# Where a field is in the client's body, as an error names it (`contents[0].parts[1].text`): that
# text, or (parent, key) for a field of an object (its name) or an item of a list (its index),
# made text (`param_text`) only when an error names it. Readers of large bodies pass pairs: the
# text of every field read, made whether or not an error names it, costs a sixth of the reading.
Param = str | tuple["Param", str | int]


def param_text(param: Param) -> str:
    """The text of a param; ("", name) names a field of the body itself."""
    keys: list[str | int] = []
    while isinstance(param, tuple):
        param, key = param
        keys.append(key)
    text = param
    for key in reversed(keys):
        text = f"{text}[{key}]" if isinstance(key, int) else f"{text}.{key}" if text else key
    return text


def refuse(param: Param, what: str, provider: str) -> UnsupportedFeature:
    """`what` the client asked for has no equivalent in the `provider` dialect."""
    return UnsupportedFeature(param_text(param), f"{what} cannot be expressed for a provider that speaks {provider}")


def invalid(param: Param, expected: str) -> UnsupportedFeature:
    text = param_text(param)
    return UnsupportedFeature(text, f"`{text}` must be {expected}")


def as_dict(value: Any, param: Param) -> JSON:
    if not isinstance(value, dict):
        raise invalid(param, "an object")
    return value


def as_list(value: Any, param: Param) -> list[Any]:
    if not isinstance(value, list):
        raise invalid(param, "a list")
    return value


def as_str(value: Any, param: Param) -> str:
    if not isinstance(value, str):
        raise invalid(param, "a string")
    return value


def as_str_list(value: Any, param: Param) -> list[str]:
    """A list of strings."""
    for i, item in enumerate(as_list(value, param)):
        if not isinstance(item, str):
            raise invalid((param, i), "a string")
    return value


def as_int(value: Any, param: Param) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise invalid(param, "an integer")
    return value


def as_number(value: Any, param: Param) -> float | int:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise invalid(param, "a number")
    return value


def as_bool(value: Any, param: Param) -> bool:
    if not isinstance(value, bool):
        raise invalid(param, "true or false")
    return value


def block_type(block: Any, param: str) -> str:
    """The `type` of a content block (Anthropic) or content part (OpenAI)."""
    return as_str(as_dict(block, param).get("type"), f"{param}.type")


# ---------------------------------------------------------------------------------------------
# Reading what the provider sent
# ---------------------------------------------------------------------------------------------


def nonempty(value: Any) -> str | None:
    """A provider's string, when it is one and says something: compatible servers send nulls and other types."""
    return value if isinstance(value, str) and value else None


def client_model(client_request: JSON) -> str:
    """The model the client's request names, which its stream's events name too; "" when none."""
    model = client_request.get("model")
    return model if isinstance(model, str) else ""


def count(value: Any) -> int:
    """A token count, or 0 for anything that is not one."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


_MAX_MESSAGE_CHARS = 1000  # of a provider body that is not JSON, e.g. a proxy's HTML page


def _message_in(parsed: Any) -> str | None:
    """The message in the error shapes providers answer with: OpenAI's and Anthropic's
    `{"error": {"message"}}`, `{"error": "..."}`, `{"message"}`, FastAPI's `{"detail"}`,
    and Gemini's OpenAI endpoint, which wraps its error in a list."""
    if isinstance(parsed, list) and parsed:
        parsed = parsed[0]
    if not isinstance(parsed, dict):
        return None
    error = parsed.get("error")
    holder = error if isinstance(error, dict) else parsed
    return nonempty(error) or nonempty(holder.get("message")) or nonempty(holder.get("detail"))


def read_provider_error(status: int, body: bytes) -> tuple[str, Any]:
    """A provider's error body (any bytes) as a message for the client, and the body parsed (None if not JSON)."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        parsed = None
    message = _message_in(parsed)
    if message is None:
        text = body.decode("utf-8", "replace").strip()
        message = text[:_MAX_MESSAGE_CHARS] if text else f"the provider answered HTTP {status} without a message"
    return message, parsed


# ---------------------------------------------------------------------------------------------
# Reading what an OpenAI Chat Completions provider sent
# ---------------------------------------------------------------------------------------------


def openai_usage(value: Any) -> Usage:
    """An OpenAI `usage` object as the common record; a count missing or malformed is 0.

    OpenAI's prompt_tokens include the cached ones and its completion_tokens the reasoning
    ones, as the common record counts them.
    """
    usage = value if isinstance(value, dict) else {}
    prompt_details = usage.get("prompt_tokens_details")
    completion_details = usage.get("completion_tokens_details")
    return Usage(
        input_tokens=count(usage.get("prompt_tokens")),
        output_tokens=count(usage.get("completion_tokens")),
        cached_input_tokens=count(prompt_details.get("cached_tokens")) if isinstance(prompt_details, dict) else 0,
        reasoning_tokens=(
            count(completion_details.get("reasoning_tokens")) if isinstance(completion_details, dict) else 0
        ),
    )


def openai_reasoning(message: JSON) -> str | None:
    """The reasoning text in a message or delta: OpenAI itself returns none; DeepSeek and vLLM
    send `reasoning_content`, OpenRouter, Groq, Ollama and newer vLLM send `reasoning`."""
    return nonempty(message.get("reasoning_content")) or nonempty(message.get("reasoning"))


def tool_arguments(arguments: Any) -> JSON:
    """A tool call's `arguments` string as the object other dialects take; arguments a model
    truncated or garbled become an empty one."""
    try:
        parsed = orjson.loads(arguments) if isinstance(arguments, str) else None
    except orjson.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


# The status an OpenAI error `type` (or `code`) stands for, for errors that arrive mid-stream.
OPENAI_ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "rate_limit_error": 429,
    "rate_limit_exceeded": 429,
    "insufficient_quota": 429,
    "server_error": 500,
    "service_unavailable": 503,
}


def openai_stream_error(error: Any) -> tuple[int, str]:
    """The status and message of an error an OpenAI-compatible provider sent inside its stream,
    which has no HTTP status of its own: OpenRouter puts one in `code`, OpenAI names a type."""
    error = error if isinstance(error, dict) else {"message": error}
    code, kind = error.get("code"), error.get("type")
    if isinstance(code, int) and not isinstance(code, bool):
        status = code
    else:
        status = next(
            (OPENAI_ERROR_STATUS[k] for k in (kind, code) if isinstance(k, str) and k in OPENAI_ERROR_STATUS), 500
        )
    return status, nonempty(error.get("message")) or "the provider's stream reported an error"


# ---------------------------------------------------------------------------------------------
# Error vocabularies of the client dialects
# ---------------------------------------------------------------------------------------------

# Anthropic's error type for each HTTP status (its API reference, "Errors").
ANTHROPIC_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",  # Bedrock's model timeout
    413: "request_too_large",
    424: "api_error",  # Bedrock's model error: the model failed, not the request
    429: "rate_limit_error",
    500: "api_error",
    503: "overloaded_error",
    504: "timeout_error",
    529: "overloaded_error",
}

# ... and the status each type stands for, for errors that arrive mid-stream without one
# (the lowest, where two share a type).
ANTHROPIC_ERROR_STATUS = {kind: status for status, kind in sorted(ANTHROPIC_ERROR_TYPES.items(), reverse=True)}

# OpenAI's error type for each status, for errors given to OpenAI clients: its SDKs choose the
# exception by the status alone, and read the type as text.
OPENAI_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout",  # Bedrock's model timeout
    424: "server_error",  # Bedrock's model error: the model failed, not the request
    429: "rate_limit_error",
}


def openai_error_type(status: int) -> str:
    return OPENAI_ERROR_TYPES.get(status) or ("server_error" if status >= 500 else "invalid_request_error")


# The `status` Google APIs (Gemini's among them) name an HTTP status by in their errors
# (`{"error": {"code", "message", "status"}}`): the google.rpc.Code each status stands for in
# googleapis' google/rpc/code.proto, where several codes share 400 and 500, the one Gemini's
# troubleshooting guide names. 402, 408 and 529 are not Google's; the nearest code says them.
GOOGLE_ERROR_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    402: "FAILED_PRECONDITION",  # Gemini says this when billing must be set up first
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    409: "ABORTED",
    416: "OUT_OF_RANGE",
    424: "INTERNAL",  # Bedrock's model error
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
    529: "UNAVAILABLE",  # Anthropic's "overloaded"
}


def google_status(status: int) -> str:
    """The google.rpc.Code name for an HTTP status; other statuses by their class."""
    found = GOOGLE_ERROR_STATUS.get(status)
    if found is not None:
        return found
    return "INTERNAL" if status >= 500 else "INVALID_ARGUMENT" if status >= 400 else "UNKNOWN"


# ---------------------------------------------------------------------------------------------
# Reasoning: OpenAI's effort levels and Anthropic's thinking budgets, one scale for both ways
# ---------------------------------------------------------------------------------------------

# The thinking budget an effort asks for. Each maps back to its own effort through
# `effort_for_budget` (but `minimal`, which OpenAI providers do not all take, maps back to
# `low`, and `xhigh` and `max`, to `high`): 1024 is Anthropic's smallest budget.
THINKING_BUDGETS = {"minimal": 1024, "low": 2048, "medium": 8192, "high": 16384, "xhigh": 24576, "max": 28672}


def effort_for_budget(budget: int) -> str:
    """The nearest of OpenAI's three classic efforts for a thinking budget."""
    return "low" if budget < 4096 else "medium" if budget < 16384 else "high"
