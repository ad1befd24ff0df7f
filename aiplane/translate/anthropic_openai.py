"""Anthropic Messages clients served by an OpenAI Chat Completions provider.

Request fields are translated one by one; each field is either mapped, dropped because it is
only a hint the provider may ignore anyway, or refused with `UnsupportedFeature` because
dropping it would change what the client gets:

- mapped: `system`, `messages` (text, image, tool_use, tool_result blocks), `tools`,
  `tool_choice`, `stop_sequences`, `temperature`, `top_p`, `max_tokens`, `stream`,
  `metadata.user_id`, `thinking`;
- dropped hints: `cache_control` on any block or tool (OpenAI caches prompts by itself),
  `service_tier`, and `thinking`/`redacted_thinking` blocks of earlier assistant turns (Chat
  Completions has no way to send reasoning back; OpenAI discards it between turns anyway);
- refused: `top_k`, documents, images from the Files API, images inside tool results,
  server tools (web search, code execution, ...), `mcp_servers`, `container`,
  `context_management`, `output_config`, and any field or block type not listed here.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import orjson

from aiplane.translate.anthropic_wire import BLOCK_START as _BLOCK_START
from aiplane.translate.anthropic_wire import (
    DELTA_END,
    EVENT_END,
    INPUT_JSON_DELTA,
    NOT_JSON,
    block_delta_prefix,
    block_stop,
    message_delta,
    message_id,
    message_start,
)
from aiplane.translate.anthropic_wire import ERROR as _ERROR
from aiplane.translate.anthropic_wire import MESSAGE_STOP as _MESSAGE_STOP
from aiplane.translate.anthropic_wire import error_body as _error_body
from aiplane.translate.anthropic_wire import error_type as _error_type
from aiplane.translate.anthropic_wire import wire_usage as anthropic_wire_usage
from aiplane.translate.base import StreamTranslator, UnsupportedFeature, Usage
from aiplane.translate.common import (
    JSON,
    TEXT_SEPARATOR,
    as_bool,
    as_dict,
    as_int,
    as_list,
    as_number,
    as_str,
    block_type,
    client_model,
    effort_for_budget,
    invalid,
    nonempty,
    openai_reasoning,
    openai_stream_error,
    openai_usage,
    read_provider_error,
    refuse,
    tool_arguments,
)
from aiplane.translate.sse import EventStreamTranslator, SSEEvent

# ---------------------------------------------------------------------------------------------
# Request: Anthropic Messages body -> OpenAI Chat Completions body
# ---------------------------------------------------------------------------------------------


def _refuse(param: str, what: str) -> UnsupportedFeature:
    return refuse(param, what, "OpenAI Chat Completions")


def _texts(blocks: Any, param: str) -> str:
    """A list of text blocks (a system prompt, a tool result) as one string."""
    texts = []
    for i, block in enumerate(as_list(blocks, param)):
        where = f"{param}[{i}]"
        kind = block_type(block, where)
        if kind != "text":
            raise _refuse(f"{where}.type", f"a `{kind}` block here")
        texts.append(as_str(block.get("text"), f"{where}.text"))
    return TEXT_SEPARATOR.join(texts)


def _text_or_blocks(value: Any, param: str) -> str:
    return value if isinstance(value, str) else _texts(value, param)


def _image_part(block: JSON, param: str) -> JSON:
    source = as_dict(block.get("source"), f"{param}.source")
    kind = source.get("type")
    if kind == "base64":
        media_type = as_str(source.get("media_type"), f"{param}.source.media_type")
        data = as_str(source.get("data"), f"{param}.source.data")
        url = f"data:{media_type};base64,{data}"
    elif kind == "url":
        url = as_str(source.get("url"), f"{param}.source.url")
    else:
        raise _refuse(f"{param}.source.type", f"an image source of type `{kind}`")
    return {"type": "image_url", "image_url": {"url": url}}


def _tool_message(block: JSON, param: str) -> JSON:
    content = block.get("content", "")
    text = _text_or_blocks(content, f"{param}.content")
    if as_bool(block.get("is_error", False), f"{param}.is_error"):
        # OpenAI has no error flag on tool results: say it in the text so the model still knows.
        text = f"Error: {text}"
    return {"role": "tool", "tool_call_id": as_str(block.get("tool_use_id"), f"{param}.tool_use_id"), "content": text}


def _user_messages(content: list[Any], param: str) -> list[JSON]:
    """One user turn: its tool results first (OpenAI wants them right after the tool calls), then the rest."""
    tool_messages: list[JSON] = []
    parts: list[JSON] = []
    for i, block in enumerate(content):
        where = f"{param}[{i}]"
        kind = block_type(block, where)
        if kind == "text":
            parts.append({"type": "text", "text": as_str(block.get("text"), f"{where}.text")})
        elif kind == "image":
            parts.append(_image_part(block, where))
        elif kind == "tool_result":
            tool_messages.append(_tool_message(block, where))
        else:
            raise _refuse(f"{where}.type", f"a `{kind}` block in a user turn")
    if parts or not tool_messages:
        # One text part goes as a plain string: every OpenAI-compatible server accepts that.
        single_text = len(parts) == 1 and parts[0]["type"] == "text"
        tool_messages.append({"role": "user", "content": parts[0]["text"] if single_text else parts})
    return tool_messages


def _tool_call(block: JSON, param: str) -> JSON:
    try:
        arguments = orjson.dumps(as_dict(block.get("input"), f"{param}.input")).decode()
    except orjson.JSONEncodeError as e:  # e.g. an integer beyond 64 bits
        raise invalid(f"{param}.input", f"encodable as JSON ({e})") from None
    return {
        "id": as_str(block.get("id"), f"{param}.id"),
        "type": "function",
        "function": {"name": as_str(block.get("name"), f"{param}.name"), "arguments": arguments},
    }


def _assistant_message(content: list[Any], param: str) -> JSON:
    texts: list[str] = []
    tool_calls: list[JSON] = []
    for i, block in enumerate(content):
        where = f"{param}[{i}]"
        kind = block_type(block, where)
        if kind == "text":
            texts.append(as_str(block.get("text"), f"{where}.text"))
        elif kind == "tool_use":
            tool_calls.append(_tool_call(block, where))
        elif kind not in ("thinking", "redacted_thinking"):
            raise _refuse(f"{where}.type", f"a `{kind}` block in an assistant turn")
    message: JSON = {"role": "assistant", "content": TEXT_SEPARATOR.join(texts) if texts else None}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return message


def _messages(value: Any) -> list[JSON]:
    messages: list[JSON] = []
    for i, message in enumerate(as_list(value, "messages")):
        where = f"messages[{i}]"
        role = as_dict(message, where).get("role")
        if role not in ("user", "assistant"):
            raise invalid(f"{where}.role", "`user` or `assistant`")
        content = message.get("content")
        if isinstance(content, str):
            messages.append({"role": role, "content": content})
        elif not isinstance(content, list):
            raise invalid(f"{where}.content", "a string or a list of content blocks")
        elif role == "user":
            messages.extend(_user_messages(content, f"{where}.content"))
        else:
            messages.append(_assistant_message(content, f"{where}.content"))
    if not messages:
        raise invalid("messages", "a non-empty list")
    return messages


def _tool(tool: Any, param: str) -> JSON:
    kind = as_dict(tool, param).get("type", "custom")
    if kind != "custom":
        raise _refuse(f"{param}.type", f"the server tool `{kind}`")
    function: JSON = {
        "name": as_str(tool.get("name"), f"{param}.name"),
        "parameters": as_dict(tool.get("input_schema"), f"{param}.input_schema"),
    }
    if "description" in tool:
        function["description"] = as_str(tool["description"], f"{param}.description")
    if "strict" in tool:
        function["strict"] = as_bool(tool["strict"], f"{param}.strict")
    return {"type": "function", "function": function}


def _apply_tool_choice(value: Any, out: JSON) -> None:
    choice = as_dict(value, "tool_choice")
    kind = choice.get("type")
    if kind == "tool":
        out["tool_choice"] = {"type": "function", "function": {"name": as_str(choice.get("name"), "tool_choice.name")}}
    elif kind in _TOOL_CHOICES:
        out["tool_choice"] = _TOOL_CHOICES[kind]
    else:
        raise invalid("tool_choice.type", "`auto`, `any`, `tool` or `none`")
    if as_bool(choice.get("disable_parallel_tool_use", False), "tool_choice.disable_parallel_tool_use"):
        out["parallel_tool_calls"] = False


_TOOL_CHOICES = {"auto": "auto", "any": "required", "none": "none"}


def _apply_tools(value: Any, tool_choice: Any, out: JSON) -> None:
    tools = [_tool(tool, f"tools[{i}]") for i, tool in enumerate(as_list(value, "tools"))]
    # OpenAI rejects an empty `tools` list, and `tool_choice` without tools.
    if tools:
        out["tools"] = tools
        if tool_choice is not None:
            _apply_tool_choice(tool_choice, out)


def _apply_system(value: Any, out: JSON) -> None:
    out["messages"].insert(0, {"role": "system", "content": _text_or_blocks(value, "system")})


def _apply_max_tokens(value: Any, out: JSON) -> None:
    # `max_tokens`, not `max_completion_tokens`: every OpenAI-compatible server (vLLM, Ollama,
    # llama.cpp, Groq, Together, OpenRouter, ...) takes it, while many reject or ignore the newer
    # name. The cost: OpenAI's o-series and gpt-5 models accept only `max_completion_tokens`.
    out["max_tokens"] = as_int(value, "max_tokens")


def _apply_stop_sequences(value: Any, out: JSON) -> None:
    stops = [as_str(stop, f"stop_sequences[{i}]") for i, stop in enumerate(as_list(value, "stop_sequences"))]
    if stops:
        out["stop"] = stops


def _apply_stream(value: Any, out: JSON) -> None:
    if as_bool(value, "stream"):
        out["stream"] = True
        out["stream_options"] = {"include_usage": True}  # else OpenAI streams report no usage


def _apply_metadata(value: Any, out: JSON) -> None:
    user_id = as_dict(value, "metadata").get("user_id")
    if user_id is not None:
        out["user"] = as_str(user_id, "metadata.user_id")


def _apply_thinking(value: Any, out: JSON) -> None:
    # A token budget becomes the nearest of OpenAI's three efforts; `adaptive` and `disabled`
    # leave the choice to the model, which is what omitting `reasoning_effort` does.
    thinking = as_dict(value, "thinking")
    kind = thinking.get("type")
    if kind == "enabled":
        budget = as_int(thinking.get("budget_tokens"), "thinking.budget_tokens")
        out["reasoning_effort"] = effort_for_budget(budget)
    elif kind not in ("disabled", "adaptive"):
        raise invalid("thinking.type", "`enabled`, `adaptive` or `disabled`")


def _copy_number(name: str) -> Callable[[Any, JSON], None]:
    def apply(value: Any, out: JSON) -> None:
        out[name] = as_number(value, name)

    return apply


def _ignore(value: Any, out: JSON) -> None:
    """A hint the provider may ignore anyway."""


# Every top-level field a request may have, and what becomes of it, but for these:
_TRANSLATED_APART = frozenset({"messages", "tools", "tool_choice"})  # tool_choice means nothing without tools
_FIELDS: dict[str, Callable[[Any, JSON], None]] = {
    "model": _ignore,  # replaced by the upstream model
    "system": _apply_system,
    "max_tokens": _apply_max_tokens,
    "stop_sequences": _apply_stop_sequences,
    "temperature": _copy_number("temperature"),
    "top_p": _copy_number("top_p"),
    "stream": _apply_stream,
    "metadata": _apply_metadata,
    "thinking": _apply_thinking,
    "service_tier": _ignore,
}


def translate_request(body: JSON, upstream_model: str) -> JSON:
    if not isinstance(body, dict):
        raise invalid("body", "a JSON object")
    out: JSON = {"model": upstream_model, "messages": _messages(body.get("messages"))}
    for name, value in body.items():
        apply = _FIELDS.get(name)
        if apply is not None:
            apply(value, out)
        elif name not in _TRANSLATED_APART:
            raise _refuse(name, f"`{name}`")
    if "tools" in body:
        _apply_tools(body["tools"], body.get("tool_choice"), out)
    return out


# ---------------------------------------------------------------------------------------------
# Response: OpenAI chat.completion -> Anthropic message
# ---------------------------------------------------------------------------------------------

_STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}


def _stop(finish_reason: Any, matched_stop: Any, used_tools: bool, refused: bool) -> tuple[str, str | None]:
    """Anthropic's stop_reason and stop_sequence for an OpenAI finish_reason.

    OpenAI does not say which stop sequence matched; vLLM and others do, in the choice's
    `stop_reason`, and only then is it `stop_sequence`. Some servers finish a tool call with
    `stop`; Anthropic clients loop on `tool_use`, so a turn that called tools says so.
    """
    if finish_reason == "stop" and isinstance(matched_stop, str):
        return "stop_sequence", matched_stop
    reason = _STOP_REASONS.get(finish_reason, "end_turn") if isinstance(finish_reason, str) else "end_turn"
    if reason == "end_turn" and (used_tools or refused):
        reason = "tool_use" if used_tools else "refusal"
    return reason, None


def _usage(value: Any) -> tuple[JSON, Usage]:
    """OpenAI usage as Anthropic's wire usage and the common record.

    OpenAI's prompt_tokens include the cached ones; Anthropic's input_tokens exclude cache reads,
    which it counts in cache_read_input_tokens. The common record counts them in both, as documented.
    """
    usage = openai_usage(value)
    return anthropic_wire_usage(usage), usage


def translate_response(body: JSON, client_request: JSON) -> tuple[JSON, Usage]:
    choices = body.get("choices")
    choice = choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else {}
    message = choice.get("message")
    message = message if isinstance(message, dict) else {}
    content: list[JSON] = []
    reasoning = openai_reasoning(message)
    if reasoning:
        content.append({"type": "thinking", "thinking": reasoning, "signature": ""})
    text = nonempty(message.get("content"))
    if text:
        content.append({"type": "text", "text": text})
    refusal = nonempty(message.get("refusal"))
    if refusal:
        content.append({"type": "text", "text": refusal})
    tool_calls = message.get("tool_calls")
    for call in tool_calls if isinstance(tool_calls, list) else ():
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict):
            content.append(
                {
                    "type": "tool_use",
                    "id": nonempty(call.get("id")) or f"toolu_{uuid.uuid4().hex}",
                    "name": nonempty(function.get("name")) or "",
                    "input": tool_arguments(function.get("arguments")),
                }
            )
    used_tools = any(block["type"] == "tool_use" for block in content)
    refused = refusal is not None
    stop_reason, stop_sequence = _stop(choice.get("finish_reason"), choice.get("stop_reason"), used_tools, refused)
    wire_usage, usage = _usage(body.get("usage"))
    return {
        "id": message_id(body.get("id")),
        "type": "message",
        "role": "assistant",
        "model": nonempty(body.get("model")) or client_model(client_request),
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
        "usage": wire_usage,
    }, usage


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def translate_error(status: int, body: bytes) -> bytes:
    message, _ = read_provider_error(status, body)
    return _error_body(_error_type(status), message)


def _stream_error(error: Any) -> bytes:
    """An error object the provider sent inside its stream, which has no HTTP status of its own."""
    status, message = openai_stream_error(error)
    return _error_body(_error_type(status), message)


# ---------------------------------------------------------------------------------------------
# Streaming: OpenAI chat.completion.chunk events -> Anthropic message stream events
# ---------------------------------------------------------------------------------------------

_DONE = b"[DONE]"

# The content_block_start payload of each kind of block, and its deltas' type and field.
_TEXT = ({"type": "text", "text": ""}, b'"text_delta","text":')
_THINKING = ({"type": "thinking", "thinking": "", "signature": ""}, b'"thinking_delta","thinking":')


class OpenAIToAnthropicStream(EventStreamTranslator):
    """One streamed response: OpenAI chunks in, Anthropic events out, one block open at a time.

    Anthropic clients expect a block to end before the next begins. OpenAI sends each tool
    call's argument deltas together; should a server interleave them, a late delta still goes
    to its tool call's block (SDKs accumulate by index), so no argument byte is lost.
    """

    __slots__ = (
        "_model",
        "_message_id",
        "_started",
        "_next_index",
        "_open",
        "_open_index",
        "_open_prefix",
        "_tool_prefixes",
        "_finish_reason",
        "_matched_stop",
        "_refused",
        "_wire_usage",
    )

    def __init__(self, model: str) -> None:
        super().__init__()
        self._model = model
        self._message_id = ""
        self._started = False
        self._next_index = 0
        self._open: object = None  # the open block: "text", "thinking", a tool call's key, or None
        self._open_index = 0
        self._open_prefix = b""  # a delta event for the open block, up to its text
        self._tool_prefixes: dict[object, bytes] = {}  # tool call key -> delta prefix of its block
        self._finish_reason: Any = None
        self._matched_stop: Any = None
        self._refused = False
        self._wire_usage: JSON | None = None

    def _on_cut(self, out: list[bytes]) -> None:
        self._end(out)

    def _on_event(self, event: SSEEvent, out: list[bytes]) -> None:
        data = event.data
        if data == _DONE:
            self._end(out)
            return
        chunk = self._json_object(data, NOT_JSON, out)
        if chunk is None:
            return
        if "error" in chunk:
            out.append(_ERROR + _stream_error(chunk["error"]) + EVENT_END)
            self._ended = True
            return
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            self._wire_usage, self._usage = _usage(usage)
        if not self._started:
            self._start(chunk.get("id"), out)
        choices = chunk.get("choices")
        if isinstance(choices, list) and choices and isinstance(choices[0], dict):
            self._on_choice(choices[0], out)

    def _on_choice(self, choice: JSON, out: list[bytes]) -> None:
        delta = choice.get("delta")
        if isinstance(delta, dict):
            reasoning = openai_reasoning(delta)
            if reasoning:
                self._append("thinking", _THINKING, reasoning, out)
            for key in ("content", "refusal"):
                text = nonempty(delta.get(key))
                if text:
                    self._append("text", _TEXT, text, out)
                    self._refused |= key == "refusal"
            tool_calls = delta.get("tool_calls")
            if isinstance(tool_calls, list):
                for call in tool_calls:
                    if isinstance(call, dict):
                        self._on_tool_call(call, out)
        finish_reason = choice.get("finish_reason")
        if finish_reason is not None:
            self._finish_reason, self._matched_stop = finish_reason, choice.get("stop_reason")

    def _append(self, kind: str, block: tuple[JSON, bytes], text: str, out: list[bytes]) -> None:
        if self._open != kind:
            start, delta_type = block
            self._open_block(kind, start, delta_type, out)
        out.append(self._open_prefix + orjson.dumps(text) + DELTA_END)

    def _on_tool_call(self, call: JSON, out: list[bytes]) -> None:
        # OpenAI keys a call's deltas by `index`; a server that sends none keys them by `id`,
        # or continues the open call. Keys are tuples so none equals "text" or "thinking".
        index, call_id = call.get("index"), call.get("id")
        if isinstance(index, int) and not isinstance(index, bool):
            key: object = ("index", index)
        elif isinstance(call_id, str):
            key = ("id", call_id)
        else:
            key = self._open if self._open in self._tool_prefixes else ("index", 0)
        function = call.get("function")
        function = function if isinstance(function, dict) else {}
        prefix = self._tool_prefixes.get(key)
        if prefix is None:
            start = {
                "type": "tool_use",
                "id": nonempty(call_id) or f"toolu_{self._message_id}_{self._next_index}",
                "name": nonempty(function.get("name")) or "",
                "input": {},
            }
            prefix = self._tool_prefixes[key] = self._open_block(key, start, INPUT_JSON_DELTA, out)
        arguments = nonempty(function.get("arguments"))
        if arguments:
            out.append(prefix + orjson.dumps(arguments) + DELTA_END)

    def _open_block(self, key: object, start: JSON, delta_type: bytes, out: list[bytes]) -> bytes:
        self._close_block(out)
        index = self._next_index
        self._next_index += 1
        self._open, self._open_index = key, index
        start_event = {"type": "content_block_start", "index": index, "content_block": start}
        out.append(_BLOCK_START + orjson.dumps(start_event) + EVENT_END)
        self._open_prefix = block_delta_prefix(index, delta_type)
        return self._open_prefix

    def _close_block(self, out: list[bytes]) -> None:
        if self._open is not None:
            out.append(block_stop(self._open_index))
            self._open = None

    def _start(self, completion_id: Any, out: list[bytes]) -> None:
        self._started = True
        self._message_id = message_id(completion_id)
        wire_usage = self._wire_usage or {"input_tokens": 0, "output_tokens": 0}
        out.append(message_start(self._message_id, self._model, wire_usage))

    def _end(self, out: list[bytes]) -> None:
        if not self._started:
            self._start(None, out)
        self._close_block(out)
        used_tools = bool(self._tool_prefixes)
        stop_reason, stop_sequence = _stop(self._finish_reason, self._matched_stop, used_tools, self._refused)
        out.append(message_delta(stop_reason, stop_sequence, self._wire_usage))
        out.append(_MESSAGE_STOP)
        self._ended = True


class AnthropicToOpenAI:
    """Anthropic Messages clients, OpenAI Chat Completions providers."""

    client = "anthropic"
    provider = "openai"

    def request(self, body: JSON, upstream_model: str) -> JSON:
        return translate_request(body, upstream_model)

    def response(self, body: JSON, client_request: JSON) -> tuple[JSON, Usage]:
        return translate_response(body, client_request)

    def stream(self, client_request: JSON) -> StreamTranslator:
        return OpenAIToAnthropicStream(client_model(client_request))

    def error(self, status: int, body: bytes) -> bytes:
        return translate_error(status, body)
