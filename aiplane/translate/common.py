"""What every dialect pair shares: reading a client's body field by field, and reading what a provider sent.

Readers of the client's body raise `UnsupportedFeature` naming the field, so a request the
translator cannot make sense of is a 400 saying where, never another exception. Readers of
the provider's answers never raise: whatever a provider sends, the client gets an answer.
"""

from __future__ import annotations

from typing import Any

import orjson

from aiplane.translate.base import UnsupportedFeature

JSON = dict[str, Any]

# Joins text blocks where the other dialect takes one string (a system prompt, a tool result):
# a paragraph break keeps blocks apart without inventing any other markup.
TEXT_SEPARATOR = "\n\n"

# ---------------------------------------------------------------------------------------------
# Reading the client's request
# ---------------------------------------------------------------------------------------------


def refuse(param: str, what: str, provider: str) -> UnsupportedFeature:
    """`what` the client asked for has no equivalent in the `provider` dialect."""
    return UnsupportedFeature(param, f"{what} cannot be expressed for a provider that speaks {provider}")


def invalid(param: str, expected: str) -> UnsupportedFeature:
    return UnsupportedFeature(param, f"`{param}` must be {expected}")


def as_dict(value: Any, param: str) -> JSON:
    if not isinstance(value, dict):
        raise invalid(param, "an object")
    return value


def as_list(value: Any, param: str) -> list[Any]:
    if not isinstance(value, list):
        raise invalid(param, "a list")
    return value


def as_str(value: Any, param: str) -> str:
    if not isinstance(value, str):
        raise invalid(param, "a string")
    return value


def as_int(value: Any, param: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise invalid(param, "an integer")
    return value


def as_number(value: Any, param: str) -> float | int:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise invalid(param, "a number")
    return value


def as_bool(value: Any, param: str) -> bool:
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


# Anthropic's error type for each HTTP status (its API reference, "Errors").
ANTHROPIC_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    503: "overloaded_error",
    504: "timeout_error",
    529: "overloaded_error",
}

# ... and the status each type stands for, for errors that arrive mid-stream without one
# (the lowest, where two share a type).
ANTHROPIC_ERROR_STATUS = {kind: status for status, kind in sorted(ANTHROPIC_ERROR_TYPES.items(), reverse=True)}

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
