"""The Anthropic Messages wire, client side: errors and stream events as Anthropic's SDKs read them."""

from __future__ import annotations

import orjson

from aiplane.translate.base import Usage
from aiplane.translate.common import ANTHROPIC_ERROR_STATUS, ANTHROPIC_ERROR_TYPES, count, nonempty
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
