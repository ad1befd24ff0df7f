"""The Anthropic Messages wire.

Client side, for every translator from Anthropic clients: their requests read as each provider
reads them alike (messages, content blocks, tools, `tool_choice`, `thinking`, the table of
top-level fields), and answers, errors and stream events written as Anthropic's SDKs read them.
Provider side: the pieces translators to an Anthropic provider share.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import orjson

from aiplane.translate.base import UnsupportedFeature, Usage
from aiplane.translate.common import (
    ANTHROPIC_ERROR_STATUS,
    ANTHROPIC_ERROR_TYPES,
    JSON,
    TEXT_SEPARATOR,
    as_bool,
    as_dict,
    as_int,
    as_list,
    as_str,
    count,
    invalid,
    nonempty,
    read_provider_error,
    refuse,
)
from aiplane.translate.sse import EventStreamTranslator, event_prefix


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


def one_of(values: tuple[str, ...]) -> str:
    """`values` as a refusal lists them: "`a`, `b` or `c`"."""
    return ", ".join(f"`{value}`" for value in values[:-1]) + f" or `{values[-1]}`"


# ---------------------------------------------------------------------------------------------
# The client's request, read alike whatever the provider
# ---------------------------------------------------------------------------------------------

# What becomes of one top-level field: its value written into the provider's body `out`, or
# checked and dropped.
FieldApplier = Callable[[Any, JSON], None]

# Read apart from a translator's table of fields: the messages before the rest, the tools after it.
TRANSLATED_APART = frozenset({"messages", "tools", "tool_choice"})


def ignore(value: Any, out: JSON) -> None:
    """A field with nothing for the provider: a hint it may ignore anyway, or `model`, which the upstream's replaces."""


def apply_fields(
    body: JSON,
    fields: Mapping[str, FieldApplier],
    out: JSON,
    provider: str,
    apart: frozenset[str] = TRANSLATED_APART,
    *,
    null_is_absent: bool,
) -> None:
    """Each top-level field of `body` by its applier in `fields`. A field in neither `fields` nor
    `apart` has no equivalent for `provider` and is refused, naming it, unless it is null: a null
    asks for nothing (`container: null` is how the SDK says no container).

    `null_is_absent`: a null field of the table is skipped too; otherwise its applier reads the
    null as a value, and refuses it.
    """
    for name, value in body.items():
        apply = fields.get(name)
        if apply is not None:
            if value is not None or not null_is_absent:
                apply(value, out)
        elif value is not None and name not in apart:
            raise refuse(name, f"`{name}`", provider)


# The readers of messages and blocks run once per item of the request: their checks are
# written out, so that a param is formatted only where it may be needed.


def read_messages(value: Any) -> Iterator[tuple[str, str | list[Any], str]]:
    """Each message's role (`user` or `assistant`), its content (a string, or a list of content
    blocks) and, for a list, the content's param ("" for a string), checked as it comes."""
    for i, message in enumerate(as_list(value, "messages")):
        if not isinstance(message, dict):
            raise invalid(f"messages[{i}]", "an object")
        role = message.get("role")
        if role != "user" and role != "assistant":
            raise invalid(f"messages[{i}].role", "`user` or `assistant`")
        content = message.get("content")
        if isinstance(content, str):
            yield role, content, ""
        elif isinstance(content, list):
            yield role, content, f"messages[{i}].content"
        else:
            raise invalid(f"messages[{i}].content", "a string or a list of content blocks")


def read_blocks(content: list[Any], param: str) -> Iterator[tuple[str, JSON, str]]:
    """Each content block's type, the block, and its param (as `common.block_type` checks them)."""
    for i, block in enumerate(content):
        where = f"{param}[{i}]"
        if not isinstance(block, dict):
            raise invalid(where, "an object")
        kind = block.get("type")
        if not isinstance(kind, str):
            raise invalid(f"{where}.type", "a string")
        yield kind, block, where


def refused_block(kind: str, param: str, place: str, provider: str) -> UnsupportedFeature:
    """A content block of a type `provider` cannot take `place` (`in a user turn`, `here`, ...)."""
    return refuse(f"{param}.type", f"a `{kind}` block {place}", provider)


def block_text(block: JSON, param: str) -> str:
    text = block.get("text")
    if isinstance(text, str):
        return text
    raise invalid(f"{param}.text", "a string")


def joined_texts(value: Any, param: str, provider: str, text: Callable[[JSON, str], str] = block_text) -> str:
    """A string, or a list of text blocks (a system prompt, a tool result) read by `text`, as one string."""
    if isinstance(value, str):
        return value
    texts = []
    for kind, block, where in read_blocks(as_list(value, param), param):
        if kind != "text":
            raise refused_block(kind, where, "here", provider)
        texts.append(text(block, where))
    return TEXT_SEPARATOR.join(texts)


def tool_result_text(block: JSON, param: str, provider: str, text: Callable[[JSON, str], str] = block_text) -> str:
    """A tool_result's content (a string, or text blocks read by `text`) as one string."""
    content = block.get("content", "")
    return content if isinstance(content, str) else joined_texts(content, f"{param}.content", provider, text)


def read_image(block: JSON, param: str, provider: str) -> tuple[str | None, str]:
    """An image block's media type and base64 data, or None and its URL; an image from the Files
    API (or of any other source) is refused."""
    source = as_dict(block.get("source"), f"{param}.source")
    kind = source.get("type")
    if kind == "base64":
        media_type = as_str(source.get("media_type"), f"{param}.source.media_type")
        return media_type, as_str(source.get("data"), f"{param}.source.data")
    if kind == "url":
        return None, as_str(source.get("url"), f"{param}.source.url")
    raise refuse(f"{param}.source.type", f"an image source of type `{kind}`", provider)


def read_tools(value: Any, provider: str) -> Iterator[tuple[JSON, str]]:
    """Each tool the client defines, and its param; a server tool (web search, code execution,
    ...) is refused. A custom tool's `type` is `custom` or null (the SDK's type allows both)."""
    for i, tool in enumerate(as_list(value, "tools")):
        param = f"tools[{i}]"
        if not isinstance(tool, dict):
            raise invalid(param, "an object")
        kind = tool.get("type")
        if kind is not None and kind != "custom":
            raise refuse(f"{param}.type", f"the server tool `{kind}`", provider)
        yield tool, param


def read_tool_schema(tool: JSON, param: str) -> tuple[str, JSON]:
    """A custom tool's name and the JSON Schema of its input."""
    name, schema = tool.get("name"), tool.get("input_schema")
    if not isinstance(name, str):
        raise invalid(f"{param}.name", "a string")
    if not isinstance(schema, dict):
        raise invalid(f"{param}.input_schema", "an object")
    return name, schema


def read_tool_use(block: JSON, param: str) -> tuple[str, str, JSON]:
    """A tool_use block of an earlier assistant turn: the call's id, the tool's name, its input."""
    call_id, name, tool_input = block.get("id"), block.get("name"), block.get("input")
    if not isinstance(call_id, str):
        raise invalid(f"{param}.id", "a string")
    if not isinstance(name, str):
        raise invalid(f"{param}.name", "a string")
    if not isinstance(tool_input, dict):
        raise invalid(f"{param}.input", "an object")
    return call_id, name, tool_input


def read_tool_use_id(block: JSON, param: str) -> str:
    """The id of the tool_use block a tool_result answers."""
    value = block.get("tool_use_id")
    if isinstance(value, str):
        return value
    raise invalid(f"{param}.tool_use_id", "a string")


def read_is_error(block: JSON, param: str) -> bool:
    """Whether a tool_result reports an error; false when it does not say."""
    value = block.get("is_error", False)
    if value is True or value is False:
        return value
    raise invalid(f"{param}.is_error", "true or false")


TOOL_CHOICES = ("auto", "any", "tool", "none")


def read_tool_choice(choice: JSON) -> tuple[str, str | None]:
    """A `tool_choice` object's type, and the tool's name when the type is `tool`."""
    kind = choice.get("type")
    if kind == "tool":
        return kind, as_str(choice.get("name"), "tool_choice.name")
    if kind in TOOL_CHOICES:  # a tuple: a JSON value of any type compares, unlike with a set
        return kind, None
    raise invalid("tool_choice.type", one_of(TOOL_CHOICES))


def check_parallel_switch(choice: JSON) -> None:
    """`tool_choice.disable_parallel_tool_use`, checked and dropped by a provider that has no such
    switch: an Anthropic client reads any number of calls."""
    value = choice.get("disable_parallel_tool_use")
    if value is not None:
        as_bool(value, "tool_choice.disable_parallel_tool_use")


def read_stop_sequences(value: Any) -> list[str]:
    return [as_str(stop, f"stop_sequences[{i}]") for i, stop in enumerate(as_list(value, "stop_sequences"))]


def read_user_id(metadata: Any) -> str | None:
    """`metadata.user_id`, when the client names one."""
    value = as_dict(metadata, "metadata").get("user_id")
    return None if value is None else as_str(value, "metadata.user_id")


THINKING_TYPES = ("enabled", "adaptive", "disabled")


def read_thinking(value: Any, kinds: tuple[str, ...] = THINKING_TYPES) -> tuple[str, int | None]:
    """The client's `thinking`: its type, one of `kinds`, and the token budget an `enabled` one names."""
    config = as_dict(value, "thinking")
    kind = config.get("type")
    if kind not in kinds:  # a tuple: a JSON value of any type compares, unlike with a set
        raise invalid("thinking.type", one_of(kinds))
    if kind == "enabled":
        return kind, as_int(config.get("budget_tokens"), "thinking.budget_tokens")
    return kind, None


# ---------------------------------------------------------------------------------------------
# Answers to the client: the message, its errors, and its stream
# ---------------------------------------------------------------------------------------------


def response_message(
    provider_id: Any, model: str, content: list[JSON], stop_reason: str, stop_sequence: str | None, usage: JSON
) -> JSON:
    """A whole answer as Anthropic's `message`; its id made from the provider's, when it gives one."""
    return {
        "id": message_id(provider_id),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
        "usage": usage,
    }


def tool_use_block(provider_id: Any, name: Any, tool_input: Any) -> JSON:
    """A tool call as a tool_use block: an id the provider does not give is made, an input that is
    not an object is an empty one."""
    return {
        "type": "tool_use",
        "id": nonempty(provider_id) or f"toolu_{uuid.uuid4().hex}",
        "name": nonempty(name) or "",
        "input": tool_input if isinstance(tool_input, dict) else {},
    }


def thinking_block(text: str, signature: str = "") -> JSON:
    # Only Anthropic signs its thinking; another provider's block carries an empty signature.
    return {"type": "thinking", "thinking": text, "signature": signature}


def has_tool_use(content: list[JSON]) -> bool:
    """Whether an answer called tools: then it stops with `tool_use`, on which Anthropic clients loop."""
    return any(block["type"] == "tool_use" for block in content)


def client_error(status: int, message: str) -> bytes:
    """An error body for an Anthropic client, its type by the status."""
    return error_body(error_type(status), message)


def translated_error(status: int, body: bytes) -> bytes:
    """A provider's error answer (its body any bytes) as an error body for an Anthropic client."""
    message, _ = read_provider_error(status, body)
    return client_error(status, message)


def error_event(status: int, message: str) -> bytes:
    """An error as the event that ends the client's stream."""
    return ERROR + client_error(status, message) + EVENT_END


# Blocks as they start (empty), and the type and field of their deltas.
TEXT_BLOCK = b'{"type":"text","text":""}'
THINKING_BLOCK = b'{"type":"thinking","thinking":"","signature":""}'
TEXT_DELTA = b'"text_delta","text":'
THINKING_DELTA = b'"thinking_delta","thinking":'
SIGNATURE_DELTA = b'"signature_delta","signature":'


def block_start(index: int, block: bytes) -> bytes:
    """A `content_block_start` event; `block` is the block as it starts, as JSON."""
    return b'%s{"type":"content_block_start","index":%d,"content_block":%s}\n\n' % (BLOCK_START, index, block)


class AnthropicStream(EventStreamTranslator):
    """The client's side of a stream translator to Anthropic clients: one message, its blocks one
    at a time (a block ends before the next begins, as the SDKs expect), then its end or an error,
    once. A subclass reads its provider's events and writes them with these.
    """

    __slots__ = (
        "_model",
        "_message_id",
        "_started",
        "_next_index",
        "_open",
        "_open_index",
        "_open_prefix",
        "_wire_usage",
    )

    def __init__(self, model: str) -> None:
        super().__init__()
        self._model = model  # the model the client asked for, which the events name
        self._message_id = ""
        self._started = False
        self._next_index = 0  # the index the next block gets
        self._open: Any = None  # the open block's key (the subclass's own), or None
        self._open_index = 0
        self._open_prefix = b""  # a delta event for the open block, up to its delta's value
        self._wire_usage: JSON | None = None  # the latest usage, as Anthropic's

    def _start_message(self, provider_id: Any, usage: JSON, out: list[bytes]) -> None:
        self._started = True
        self._message_id = message_id(provider_id)
        out.append(message_start(self._message_id, self._model, usage))

    def _made_tool_id(self) -> str:
        """An id for the next block's tool call, which the provider does not name: unique in the message."""
        return f"toolu_{self._message_id[4:]}_{self._next_index}"

    def _open_block(self, key: Any, block: bytes, delta_type: bytes, out: list[bytes]) -> bytes:
        """Ends the open block and starts the next, `block` its JSON; returns its delta prefix."""
        self._close_block(out)
        index = self._next_index
        self._next_index = index + 1
        self._open, self._open_index = key, index
        out.append(block_start(index, block))
        prefix = self._open_prefix = block_delta_prefix(index, delta_type)
        return prefix

    def _open_tool(self, key: Any, tool_id: str, name: Any, out: list[bytes]) -> bytes:
        """Starts a tool_use block, whose input comes in `input_json_delta`s; returns their prefix."""
        block = orjson.dumps(tool_use_block(tool_id, name, None))
        return self._open_block(key, block, INPUT_JSON_DELTA, out)

    def _delta(self, key: Any, block: bytes, delta_type: bytes, text: str, out: list[bytes]) -> None:
        """`text` into the block `key`, started as `block` unless it is the open one."""
        if self._open != key:
            self._open_block(key, block, delta_type, out)
        out.append(self._open_prefix + orjson.dumps(text) + DELTA_END)

    def _close_block(self, out: list[bytes]) -> None:
        if self._open is not None:
            out.append(block_stop(self._open_index))
            self._open = None

    def _finish(self, stop_reason: str, stop_sequence: str | None, usage: JSON | None, out: list[bytes]) -> None:
        """Ends the message (the caller has started it): why it stopped, its usage, `message_stop`."""
        self._close_block(out)
        out.append(message_delta(stop_reason, stop_sequence, usage))
        out.append(MESSAGE_STOP)
        self._ended = True

    def _error(self, status: int, message: str, out: list[bytes]) -> None:
        """Ends the client's stream with an error event, as Anthropic's own streams end on one."""
        out.append(error_event(status, message))
        self._ended = True


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
