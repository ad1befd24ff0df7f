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
  `context_management`, `output_config`, and any other field (but one that is null, which asks
  for nothing) or block type not listed here.
"""

from __future__ import annotations

from typing import Any

import orjson

from aiplane.translate.anthropic_wire import (
    DELTA_END,
    NOT_JSON,
    TEXT_BLOCK,
    TEXT_DELTA,
    THINKING_BLOCK,
    THINKING_DELTA,
    AnthropicStream,
    FieldApplier,
    apply_fields,
    block_text,
    has_tool_use,
    ignore,
    joined_texts,
    read_blocks,
    read_image,
    read_is_error,
    read_messages,
    read_stop_sequences,
    read_thinking,
    read_tool_choice,
    read_tool_schema,
    read_tool_use,
    read_tool_use_id,
    read_tools,
    read_user_id,
    refused_block,
    response_message,
    thinking_block,
    tool_result_text,
    tool_use_block,
    translated_error,
)
from aiplane.translate.anthropic_wire import wire_usage as anthropic_wire_usage
from aiplane.translate.base import StreamTranslator, Usage
from aiplane.translate.common import (
    JSON,
    TEXT_SEPARATOR,
    as_bool,
    as_dict,
    as_int,
    as_number,
    as_str,
    client_model,
    effort_for_budget,
    invalid,
    nonempty,
    openai_reasoning,
    openai_stream_error,
    openai_usage,
    tool_arguments,
)
from aiplane.translate.sse import SSEEvent

# ---------------------------------------------------------------------------------------------
# Request: Anthropic Messages body -> OpenAI Chat Completions body
# ---------------------------------------------------------------------------------------------


_PROVIDER = "OpenAI Chat Completions"  # how refusals name the provider's API


def _image_part(block: JSON, param: str) -> JSON:
    media_type, data = read_image(block, param, _PROVIDER)
    url = data if media_type is None else f"data:{media_type};base64,{data}"
    return {"type": "image_url", "image_url": {"url": url}}


def _tool_message(block: JSON, param: str) -> JSON:
    text = tool_result_text(block, param, _PROVIDER)
    if read_is_error(block, param):
        # OpenAI has no error flag on tool results: say it in the text so the model still knows.
        text = f"Error: {text}"
    return {"role": "tool", "tool_call_id": read_tool_use_id(block, param), "content": text}


def _user_messages(content: list[Any], param: str) -> list[JSON]:
    """One user turn: its tool results first (OpenAI wants them right after the tool calls), then the rest."""
    tool_messages: list[JSON] = []
    parts: list[JSON] = []
    for kind, block, where in read_blocks(content, param):
        if kind == "text":
            parts.append({"type": "text", "text": block_text(block, where)})
        elif kind == "image":
            parts.append(_image_part(block, where))
        elif kind == "tool_result":
            tool_messages.append(_tool_message(block, where))
        else:
            raise refused_block(kind, where, "in a user turn", _PROVIDER)
    if parts or not tool_messages:
        # One text part goes as a plain string: every OpenAI-compatible server accepts that.
        single_text = len(parts) == 1 and parts[0]["type"] == "text"
        tool_messages.append({"role": "user", "content": parts[0]["text"] if single_text else parts})
    return tool_messages


def _tool_call(block: JSON, param: str) -> JSON:
    call_id, name, tool_input = read_tool_use(block, param)
    try:
        arguments = orjson.dumps(tool_input).decode()
    except orjson.JSONEncodeError as e:  # e.g. an integer beyond 64 bits
        raise invalid(f"{param}.input", f"encodable as JSON ({e})") from None
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def _assistant_message(content: list[Any], param: str) -> JSON:
    texts: list[str] = []
    tool_calls: list[JSON] = []
    for kind, block, where in read_blocks(content, param):
        if kind == "text":
            texts.append(block_text(block, where))
        elif kind == "tool_use":
            tool_calls.append(_tool_call(block, where))
        elif kind not in ("thinking", "redacted_thinking"):
            raise refused_block(kind, where, "in an assistant turn", _PROVIDER)
    message: JSON = {"role": "assistant", "content": TEXT_SEPARATOR.join(texts) if texts else None}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return message


def _messages(value: Any) -> list[JSON]:
    messages: list[JSON] = []
    for role, content, param in read_messages(value):
        if isinstance(content, str):
            messages.append({"role": role, "content": content})
        elif role == "user":
            messages.extend(_user_messages(content, param))
        else:
            messages.append(_assistant_message(content, param))
    if not messages:
        raise invalid("messages", "a non-empty list")
    return messages


def _tool(tool: JSON, param: str) -> JSON:
    name, schema = read_tool_schema(tool, param)
    function: JSON = {"name": name, "parameters": schema}
    if "description" in tool:
        function["description"] = as_str(tool["description"], f"{param}.description")
    if "strict" in tool:
        function["strict"] = as_bool(tool["strict"], f"{param}.strict")
    return {"type": "function", "function": function}


def _apply_tool_choice(value: Any, out: JSON) -> None:
    choice = as_dict(value, "tool_choice")
    kind, name = read_tool_choice(choice)
    out["tool_choice"] = _TOOL_CHOICES[kind] if name is None else {"type": "function", "function": {"name": name}}
    if as_bool(choice.get("disable_parallel_tool_use", False), "tool_choice.disable_parallel_tool_use"):
        out["parallel_tool_calls"] = False


_TOOL_CHOICES = {"auto": "auto", "any": "required", "none": "none"}


def _apply_tools(value: Any, tool_choice: Any, out: JSON) -> None:
    tools = [_tool(tool, param) for tool, param in read_tools(value, _PROVIDER)]
    # OpenAI rejects an empty `tools` list, and `tool_choice` without tools.
    if tools:
        out["tools"] = tools
        if tool_choice is not None:
            _apply_tool_choice(tool_choice, out)


def _apply_system(value: Any, out: JSON) -> None:
    out["messages"].insert(0, {"role": "system", "content": joined_texts(value, "system", _PROVIDER)})


def _apply_max_tokens(value: Any, out: JSON) -> None:
    # `max_tokens`, not `max_completion_tokens`: every OpenAI-compatible server (vLLM, Ollama,
    # llama.cpp, Groq, Together, OpenRouter, ...) takes it, while many reject or ignore the newer
    # name. The cost: OpenAI's o-series and gpt-5 models accept only `max_completion_tokens`.
    out["max_tokens"] = as_int(value, "max_tokens")


def _apply_stop_sequences(value: Any, out: JSON) -> None:
    stops = read_stop_sequences(value)
    if stops:
        out["stop"] = stops


def _apply_stream(value: Any, out: JSON) -> None:
    if as_bool(value, "stream"):
        out["stream"] = True
        out["stream_options"] = {"include_usage": True}  # else OpenAI streams report no usage


def _apply_metadata(value: Any, out: JSON) -> None:
    user_id = read_user_id(value)
    if user_id is not None:
        out["user"] = user_id


def _apply_thinking(value: Any, out: JSON) -> None:
    # A token budget becomes the nearest of OpenAI's three efforts; `adaptive` and `disabled`
    # leave the choice to the model, which is what omitting `reasoning_effort` does.
    _, budget = read_thinking(value)
    if budget is not None:
        out["reasoning_effort"] = effort_for_budget(budget)


def _copy_number(name: str) -> FieldApplier:
    def apply(value: Any, out: JSON) -> None:
        out[name] = as_number(value, name)

    return apply


# Every top-level field a request may have, and what becomes of it, but for the messages, the
# tools and tool_choice (`anthropic_wire.TRANSLATED_APART`).
_FIELDS: dict[str, FieldApplier] = {
    "model": ignore,  # replaced by the upstream model
    "system": _apply_system,
    "max_tokens": _apply_max_tokens,
    "stop_sequences": _apply_stop_sequences,
    "temperature": _copy_number("temperature"),
    "top_p": _copy_number("top_p"),
    "stream": _apply_stream,
    "metadata": _apply_metadata,
    "thinking": _apply_thinking,
    "service_tier": ignore,
}


def translate_request(body: JSON, upstream_model: str) -> JSON:
    if not isinstance(body, dict):
        raise invalid("body", "a JSON object")
    out: JSON = {"model": upstream_model, "messages": _messages(body.get("messages"))}
    apply_fields(body, _FIELDS, out, _PROVIDER, null_is_absent=False)
    if "tools" in body:  # after the rest: tool_choice means nothing without tools
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
        content.append(thinking_block(reasoning))
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
            arguments = tool_arguments(function.get("arguments"))
            content.append(tool_use_block(call.get("id"), function.get("name"), arguments))
    refused = refusal is not None
    finish_reason, matched_stop = choice.get("finish_reason"), choice.get("stop_reason")
    stop_reason, stop_sequence = _stop(finish_reason, matched_stop, has_tool_use(content), refused)
    wire_usage, usage = _usage(body.get("usage"))
    model = nonempty(body.get("model")) or client_model(client_request)
    return response_message(body.get("id"), model, content, stop_reason, stop_sequence, wire_usage), usage


# ---------------------------------------------------------------------------------------------
# Streaming: OpenAI chat.completion.chunk events -> Anthropic message stream events
# ---------------------------------------------------------------------------------------------

_DONE = b"[DONE]"
_NO_USAGE = {"input_tokens": 0, "output_tokens": 0}  # message_start's, before the provider says any


class OpenAIToAnthropicStream(AnthropicStream):
    """One streamed response: OpenAI chunks in, Anthropic events out, one block open at a time.

    Anthropic clients expect a block to end before the next begins. OpenAI sends each tool
    call's argument deltas together; should a server interleave them, a late delta still goes
    to its tool call's block (SDKs accumulate by index), so no argument byte is lost.
    """

    __slots__ = ("_tool_prefixes", "_finish_reason", "_matched_stop", "_refused")

    def __init__(self, model: str) -> None:
        super().__init__(model)  # the open block's key: "text", "thinking" or a tool call's key
        self._tool_prefixes: dict[object, bytes] = {}  # tool call key -> delta prefix of its block
        self._finish_reason: Any = None
        self._matched_stop: Any = None
        self._refused = False

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
            status, message = openai_stream_error(chunk["error"])  # the stream has no HTTP status of its own
            self._error(status, message, out)
            return
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            self._wire_usage, self._usage = _usage(usage)
        if not self._started:
            self._start_message(chunk.get("id"), self._wire_usage or _NO_USAGE, out)
        choices = chunk.get("choices")
        if isinstance(choices, list) and choices and isinstance(choices[0], dict):
            self._on_choice(choices[0], out)

    def _on_choice(self, choice: JSON, out: list[bytes]) -> None:
        delta = choice.get("delta")
        if isinstance(delta, dict):
            reasoning = openai_reasoning(delta)
            if reasoning:
                self._delta("thinking", THINKING_BLOCK, THINKING_DELTA, reasoning, out)
            for key in ("content", "refusal"):
                text = nonempty(delta.get(key))
                if text:
                    self._delta("text", TEXT_BLOCK, TEXT_DELTA, text, out)
                    self._refused |= key == "refusal"
            tool_calls = delta.get("tool_calls")
            if isinstance(tool_calls, list):
                for call in tool_calls:
                    if isinstance(call, dict):
                        self._on_tool_call(call, out)
        finish_reason = choice.get("finish_reason")
        if finish_reason is not None:
            self._finish_reason, self._matched_stop = finish_reason, choice.get("stop_reason")

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
            tool_id = nonempty(call_id) or f"toolu_{self._message_id}_{self._next_index}"
            prefix = self._tool_prefixes[key] = self._open_tool(key, tool_id, function.get("name"), out)
        arguments = nonempty(function.get("arguments"))
        if arguments:
            out.append(prefix + orjson.dumps(arguments) + DELTA_END)

    def _end(self, out: list[bytes]) -> None:
        if not self._started:
            self._start_message(None, self._wire_usage or _NO_USAGE, out)
        used_tools = bool(self._tool_prefixes)
        stop_reason, stop_sequence = _stop(self._finish_reason, self._matched_stop, used_tools, self._refused)
        self._finish(stop_reason, stop_sequence, self._wire_usage, out)


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
        return translated_error(status, body)
