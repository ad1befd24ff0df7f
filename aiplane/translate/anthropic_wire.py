"""The Anthropic Messages wire, client side: errors and stream events as Anthropic's SDKs read them."""

from __future__ import annotations

import uuid

import orjson

from aiplane.translate.base import Usage
from aiplane.translate.common import ANTHROPIC_ERROR_STATUS, ANTHROPIC_ERROR_TYPES, count, nonempty, refuse
from aiplane.translate.sse import event_prefix


def error_type(status: int) -> str:
    """Anthropic's error type for an HTTP status; other statuses by their class."""
    return ANTHROPIC_ERROR_TYPES.get(status) or ("invalid_request_error" if 400 <= status < 500 else "api_error")


def error_body(kind: str, message: str) -> bytes:
    return orjson.dumps({"type": "error", "error": {"type": kind, "message": message}})


# Each stream event up to its data.
MESSAGE_START = event_prefix("message_start")
BLOCK_START = event_prefix("content_block_start")
BLOCK_DELTA = event_prefix("content_block_delta")
BLOCK_STOP = event_prefix("content_block_stop")
MESSAGE_DELTA = event_prefix("message_delta")
MESSAGE_STOP = event_prefix("message_stop") + b'{"type":"message_stop"}\n\n'
ERROR = event_prefix("error")
EVENT_END = b"\n\n"
DELTA_END = b"}}\n\n"  # a content_block_delta event after its delta's last field
INPUT_JSON_DELTA = b'"input_json_delta","partial_json":'  # the type and field of a tool_use block's deltas
NOT_JSON = ERROR + error_body("api_error", "the provider's stream has an event that is not a JSON object") + EVENT_END


def message_id(provider_id: object) -> str:
    return f"msg_{nonempty(provider_id) or uuid.uuid4().hex}"


def message_start(message_id: str, model: str, wire_usage: dict) -> bytes:
    """The `message_start` event of an answer that has not begun: no content, no stop reason."""
    message = {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "content": [],
        "model": model,
        "stop_reason": None,
        "stop_sequence": None,
        "usage": wire_usage,
    }
    return MESSAGE_START + orjson.dumps({"type": "message_start", "message": message}) + EVENT_END


def message_delta(stop_reason: str, stop_sequence: str | None, wire_usage: dict | None) -> bytes:
    """The `message_delta` event that says why the answer stopped (`message_stop` follows it)."""
    delta = {
        "type": "message_delta",
        "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence},
        "usage": wire_usage or {"output_tokens": 0},
    }
    return MESSAGE_DELTA + orjson.dumps(delta) + EVENT_END


def block_delta_prefix(index: int, delta_type: bytes) -> bytes:
    """A `content_block_delta` event up to its delta's type (`delta_type`, JSON text) and field."""
    return b'%s{"type":"content_block_delta","index":%d,"delta":{"type":%s' % (BLOCK_DELTA, index, delta_type)


def wire_usage(usage: Usage) -> dict:
    """The common record as Anthropic's usage, whose input_tokens exclude the prompt tokens read
    from and written to the cache, which it counts apart."""
    cached, created = usage.cached_input_tokens, usage.cache_creation_input_tokens
    return {
        "input_tokens": max(usage.input_tokens - cached - created, 0),
        "cache_creation_input_tokens": created,
        "cache_read_input_tokens": cached,
        "output_tokens": usage.output_tokens,
    }


def block_stop(index: int) -> bytes:
    return b'%s{"type":"content_block_stop","index":%d}\n\n' % (BLOCK_STOP, index)


# ---------------------------------------------------------------------------------------------
# Anthropic as the provider (moved here from `openai_anthropic.py`)
# ---------------------------------------------------------------------------------------------

# Anthropic requires `max_tokens`; a client may leave it out. 4096 is what every Claude
# model accepts (Claude 3 Haiku's and Opus's ceiling), so the default is valid whatever the upstream.
DEFAULT_MAX_TOKENS = 4096
# With thinking on, the default leaves DEFAULT_MAX_TOKENS to the answer after the thinking budget,
# within the 32000 output tokens every model that thinks accepts (Claude Opus 4 and 4.1 the fewest).
MAX_DEFAULT_WITH_THINKING = 32000
MIN_THINKING_BUDGET = 1024  # Anthropic's smallest `budget_tokens`


def in_tool_loop(turns: list[dict]) -> bool:
    """Whether the last assistant turn called tools, so this request continues that turn.

    With thinking on, Anthropic wants such a turn to start with the thinking block it answered
    with, signature and all, which a client of another dialect never sees: it answers 400 and
    says to turn thinking off. So the tool loop goes on without it, and the next user turn thinks again.
    """
    for turn in reversed(turns):
        if turn["role"] == "assistant":
            content = turn["content"]
            return isinstance(content, list) and any(block["type"] == "tool_use" for block in content)
    return False


def apply_max_tokens_and_thinking(max_tokens: int | None, budget: int | None, out: dict, param: str, what: str) -> None:
    """`max_tokens`, and `thinking` with `budget` (None: off), into the Anthropic request `out`.

    Anthropic's thinking counts in max_tokens, and the budget must be below it: within a small
    limit the thinking gets all but the last token of it. A limit too small for the smallest
    budget is refused at `param`, saying it of `what` (`reasoning`, `thinking`).
    """
    if budget is None or in_tool_loop(out["messages"]):
        out["max_tokens"] = DEFAULT_MAX_TOKENS if max_tokens is None else max_tokens
        return
    if max_tokens is None:
        max_tokens = min(budget + DEFAULT_MAX_TOKENS, MAX_DEFAULT_WITH_THINKING)
    budget = min(budget, max_tokens - 1)
    if budget < MIN_THINKING_BUDGET:
        raise refuse(
            param,
            f"{what} within {max_tokens} tokens (Anthropic thinks with a budget of at least "
            f"{MIN_THINKING_BUDGET} tokens below `max_tokens`)",
            "Anthropic Messages",
        )
    out["max_tokens"] = max_tokens
    out["thinking"] = {"type": "enabled", "budget_tokens": budget}


def anthropic_usage(value: object) -> Usage:
    """Anthropic usage as the common record: Anthropic's input_tokens exclude the prompt tokens
    read from or written to its cache, which the common record's input_tokens count."""
    usage = value if isinstance(value, dict) else {}
    cache_read = count(usage.get("cache_read_input_tokens"))
    cache_written = count(usage.get("cache_creation_input_tokens"))
    return Usage(
        input_tokens=count(usage.get("input_tokens")) + cache_read + cache_written,
        output_tokens=count(usage.get("output_tokens")),
        cached_input_tokens=cache_read,
        cache_creation_input_tokens=cache_written,
    )


def provider_error_type(parsed: object) -> str | None:
    """The `error.type` of an Anthropic error body (`overloaded_error`, `request_too_large`, ...)."""
    error = parsed.get("error") if isinstance(parsed, dict) else None
    return nonempty(error.get("type")) if isinstance(error, dict) else None


def provider_stream_error(event: dict) -> tuple[int, str | None, str]:
    """The status, Anthropic type and message of an `error` event in the provider's stream,
    which has no HTTP status of its own."""
    error = event.get("error")
    error = error if isinstance(error, dict) else {"message": error}
    kind = nonempty(error.get("type"))
    message = nonempty(error.get("message")) or "the provider's stream reported an error"
    return ANTHROPIC_ERROR_STATUS.get(kind or "", 500), kind, message


# The usage counts an Anthropic stream's `message_start` and `message_delta` events carry.
STREAM_USAGE_KEYS = ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens", "output_tokens")


def merged_stream_usage(counts: dict[str, int] | None, usage: dict) -> dict[str, int]:
    """`counts` (all zero when None) with the counts `usage` holds: Anthropic's counts are
    cumulative, so the latest value of each stands."""
    counts = counts if counts is not None else dict.fromkeys(STREAM_USAGE_KEYS, 0)
    for key in STREAM_USAGE_KEYS:
        value = usage.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            counts[key] = value
    return counts


def event_index(event: dict) -> int:
    """The content block index of a provider stream event; -1 when it has none."""
    index = event.get("index")
    return index if isinstance(index, int) else -1
