"""OpenAI Chat Completions clients served by an Anthropic Messages provider.

Request fields are translated one by one; each field is either mapped, dropped because it is
only a hint the provider may ignore anyway, or refused with `UnsupportedFeature` because
dropping it would change what the client gets. A field that is null, or that holds the value
which asks for nothing (`n: 1`, `logprobs: false`, `presence_penalty: 0`, ...), is accepted:

- mapped: `messages` (`system` and `developer` messages become `system`; text, image and PDF
  file parts; assistant `tool_calls`; `tool` messages become `tool_result` blocks), `tools`,
  `tool_choice`, `parallel_tool_calls`, `stop`, `temperature` (0 to 1, Anthropic's range),
  `top_p`, `max_completion_tokens`/`max_tokens`, `stream`, `user`/`safety_identifier`,
  `reasoning_effort` (a thinking budget, but for a tool loop: see `in_tool_loop`),
  `response_format` `json_schema` (Anthropic's structured outputs), and a part's
  `prompt_cache_breakpoint` (`cache_control`);
- dropped hints: `stream_options` (honoured by the stream translator, not sent upstream), `metadata`
  (OpenAI keeps it only with stored completions), `service_tier`, `prompt_cache_key`,
  `prompt_cache_retention`, `prompt_cache_options`, an image's `detail`, participants' `name`,
  and the `reasoning_content` of earlier assistant turns (Anthropic takes thinking back only
  with its signature, which an OpenAI client never sees);
- refused: `n` above 1, `logprobs`, `top_logprobs`, `logit_bias`, non-zero `presence_penalty` and
  `frequency_penalty`, `seed`, audio (`modalities`, `audio`, `input_audio` parts), `prediction`,
  `web_search_options`, `store: true`, `moderation`, a `verbosity` other than `medium`,
  `response_format` `json_object` (Anthropic has no JSON mode without a schema), the deprecated
  `functions` and `function_call`, custom tools, files by id, and any field or part type not
  listed here.
"""

from __future__ import annotations

from typing import Any

import orjson

from aiplane.translate.anthropic_wire import (
    anthropic_usage,
    apply_max_tokens_and_thinking,
    event_index,
    merged_stream_usage,
    provider_stream_error,
)
from aiplane.translate.anthropic_wire import provider_error_type as _anthropic_error_type
from aiplane.translate.base import StreamTranslator, UnsupportedFeature, Usage
from aiplane.translate.common import (
    JSON,
    TEXT_SEPARATOR,
    as_bool,
    as_number,
    as_str,
    client_model,
    invalid,
    nonempty,
    read_provider_error,
    refuse,
)
from aiplane.translate.openai_wire import (
    ARGUMENTS_END,
    NO_JSON_MODE,
    NOT_JSON,
    READ_APART,
    ChunkStream,
    FieldRule,
    Text,
    answer,
    apply_fields,
    arguments_json,
    assistant_message,
    cache_breakpoint,
    completion,
    conversation,
    data_url,
    error_event,
    file_part,
    function_tools,
    image_url,
    is_http_url,
    max_tokens,
    parallel_tool_calls,
    response_format,
    response_tool_call,
    stop_sequences,
    stream_settings,
    temperature_to_1,
    text_content,
    text_part,
    thinking_budget,
    tool_choice,
    unmapped_fields,
    user_parts,
    wire_usage,
)
from aiplane.translate.openai_wire import error_body as openai_error_body
from aiplane.translate.openai_wire import finish_reason as openai_finish_reason
from aiplane.translate.sse import SSEEvent

PROVIDER = "Anthropic Messages"  # how refusals name the provider's API
_TAKES = "Anthropic takes a tool call's input as an object"

# ---------------------------------------------------------------------------------------------
# Request: OpenAI Chat Completions body -> Anthropic Messages body
# ---------------------------------------------------------------------------------------------


def _refuse(param: str, what: str) -> UnsupportedFeature:
    return refuse(param, what, PROVIDER)


def _cached(block: JSON, cached: bool) -> JSON:
    # OpenAI's explicit breakpoint ends a reusable prefix, as Anthropic's `cache_control` does.
    # Anthropic keeps it 5 minutes, OpenAI at least 30: a cost hint either way, never an answer.
    if cached:
        block["cache_control"] = {"type": "ephemeral"}
    return block


def _text_block(text: str, cached: bool) -> JSON:
    return _cached({"type": "text", "text": text}, cached)


def _image_block(part: JSON, param: str) -> JSON:
    url, where = image_url(part, param)
    found = data_url(url, where, PROVIDER)
    if found is not None:
        source = {"type": "base64", "media_type": found[0], "data": found[1]}
    elif is_http_url(url):
        source = {"type": "url", "url": url}
    else:
        raise _refuse(where, "an image URL that is neither http(s) nor a data URL")
    return _cached({"type": "image", "source": source}, cache_breakpoint(part, param))


def _document_block(part: JSON, param: str) -> JSON:
    found, filename, where = file_part(part, param, PROVIDER, "Anthropic")
    if found is None or found[0] != "application/pdf":
        raise _refuse(where, "a file other than a PDF in a base64 data URL")
    block: JSON = {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": found[1]}}
    if filename is not None:
        block["title"] = filename
    return _cached(block, cache_breakpoint(part, param))


_USER_PARTS = ("text", "image_url", "file")


def _user_content(content: Any, param: str) -> str | list[JSON]:
    if isinstance(content, str):
        return content
    blocks = []
    for kind, part, where in user_parts(content, param, _USER_PARTS, PROVIDER):
        if kind == "text":
            blocks.append(_text_block(*text_part(part, where)))
        elif kind == "image_url":
            blocks.append(_image_block(part, where))
        else:
            blocks.append(_document_block(part, where))
    return blocks


def _assistant_content(message: JSON, param: str) -> str | list[JSON]:
    texts, calls = assistant_message(message, param, PROVIDER, _TAKES)
    content = message.get("content")
    if isinstance(content, str) and message.get("tool_calls") is None and message.get("refusal") is None:
        return content
    blocks = [_text_block(text, cached) for text, cached in texts]
    for call_id, name, tool_input in calls:
        blocks.append({"type": "tool_use", "id": call_id, "name": name, "input": tool_input})
    return blocks


def _tool_result(message: JSON, param: str) -> JSON:
    content = message.get("content")
    return {
        "type": "tool_result",
        "tool_use_id": as_str(message.get("tool_call_id"), f"{param}.tool_call_id"),
        "content": (
            content
            if isinstance(content, str)
            else [_text_block(*text) for text in text_content(content, f"{param}.content", PROVIDER)]
        ),
    }


def _as_blocks(content: str | list[JSON]) -> list[JSON]:
    if isinstance(content, list):
        return content
    return [{"type": "text", "text": content}] if content else []


def _merged(first: str | list[JSON], second: str | list[JSON]) -> list[JSON]:
    """Two turns of one role as one: Anthropic wants the roles to alternate."""
    blocks = _as_blocks(first) + _as_blocks(second)
    # ... and a user turn's tool results before anything else in it.
    results = [block for block in blocks if block["type"] == "tool_result"]
    if results and len(results) < len(blocks):
        blocks = results + [block for block in blocks if block["type"] != "tool_result"]
    return blocks


def _apply_messages(value: Any, out: JSON) -> None:
    system: list[Text] = []
    turns: list[JSON] = []
    for role, message, where in conversation(value, system, PROVIDER):
        content: str | list[JSON]
        if role == "user":
            content = _user_content(message.get("content"), f"{where}.content")
        elif role == "assistant":
            content = _assistant_content(message, where)
        else:
            role, content = "user", [_tool_result(message, where)]
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"] = _merged(turns[-1]["content"], content)
        else:
            turns.append({"role": role, "content": content})
    if not turns:
        raise invalid("messages", "a list with a user or assistant message")
    if any(cached for _, cached in system):
        out["system"] = [_text_block(text, cached) for text, cached in system if text]
    else:
        text = TEXT_SEPARATOR.join(text for text, _ in system if text)
        if text:
            out["system"] = text
    out["messages"] = turns


def _tool(name: str, description: str | None, parameters: JSON | None, strict: bool) -> JSON:
    out: JSON = {"name": name}
    if description is not None:
        out["description"] = description
    # OpenAI takes a function without parameters; Anthropic wants a schema for every tool.
    out["input_schema"] = {"type": "object", "properties": {}} if parameters is None else parameters
    if strict:
        out["strict"] = True
    return out


_TOOL_CHOICES = {"auto": "auto", "required": "any", "none": "none", "function": "tool"}


def _tool_choice(value: Any, parallel: bool) -> JSON:
    mode, name = tool_choice(value, PROVIDER)
    choice: JSON = {"type": _TOOL_CHOICES[mode]}
    if name is not None:
        choice["name"] = name
    if not parallel and mode != "none":
        choice["disable_parallel_tool_use"] = True
    return choice


def _apply_tools(body: JSON, out: JSON) -> None:
    choice = body.get("tool_choice")
    parallel = parallel_tool_calls(body)
    tools = function_tools(body.get("tools"), PROVIDER, _tool)
    if tools:
        out["tools"] = tools
        if choice is not None or not parallel:
            out["tool_choice"] = _tool_choice("auto" if choice is None else choice, parallel)
    elif choice is not None:
        _tool_choice(choice, parallel)  # checked, but meaningless without tools


def _apply_max_tokens_and_reasoning(body: JSON, out: JSON) -> None:
    limit = max_tokens(body)
    effort = body.get("reasoning_effort")
    budget = None if effort is None else thinking_budget(effort) or None
    # Like OpenAI's reasoning tokens, Anthropic's thinking counts in max_tokens.
    apply_max_tokens_and_thinking(limit, budget, out, "reasoning_effort", "reasoning")


def _apply_user(body: JSON, out: JSON) -> None:
    # `safety_identifier` replaces `user` in OpenAI's API; both name the end user, as `user_id` does.
    user_id = None
    for name in ("user", "safety_identifier"):
        value = body.get(name)
        if value is not None:
            user_id = as_str(value, name) or user_id
    if user_id:
        out["metadata"] = {"user_id": user_id}


def _apply_stop(value: Any, out: JSON) -> None:
    stops = stop_sequences(value)
    if stops:
        out["stop_sequences"] = stops


def _apply_temperature(value: Any, out: JSON) -> None:
    out["temperature"] = temperature_to_1(value, PROVIDER, "Anthropic's")


def _apply_top_p(value: Any, out: JSON) -> None:
    out["top_p"] = as_number(value, "top_p")


def _apply_stream(value: Any, out: JSON) -> None:
    if as_bool(value, "stream"):
        out["stream"] = True


def _apply_response_format(value: Any, out: JSON) -> None:
    kind, spec = response_format(value)
    if kind == "json_object":
        # Anthropic constrains output to a schema or not at all: a schema that allows any
        # object is not one it takes (its objects need `additionalProperties: false`).
        raise _refuse("response_format.type", NO_JSON_MODE)
    if spec is not None:
        out["output_config"] = {"format": {"type": "json_schema", "schema": spec["schema"]}}


# Every top-level field a request may have, and what becomes of it (a null one asks for nothing),
# but for these, translated together:
_TRANSLATED_APART = READ_APART | {"reasoning_effort", "user", "safety_identifier"}
_FIELDS: dict[str, FieldRule] = {
    **unmapped_fields(PROVIDER),
    "stop": _apply_stop,
    "temperature": _apply_temperature,
    "top_p": _apply_top_p,
    "stream": _apply_stream,
    "response_format": _apply_response_format,
}


def translate_request(body: JSON, upstream_model: str) -> JSON:
    if not isinstance(body, dict):
        raise invalid("body", "a JSON object")
    out: JSON = {"model": upstream_model}
    _apply_messages(body.get("messages"), out)
    apply_fields(body, _FIELDS, _TRANSLATED_APART, out, PROVIDER)
    _apply_tools(body, out)
    _apply_max_tokens_and_reasoning(body, out)
    _apply_user(body, out)
    return out


# ---------------------------------------------------------------------------------------------
# Response: Anthropic message -> OpenAI chat.completion
# ---------------------------------------------------------------------------------------------

_FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",  # a server tool's long turn paused; aiplane sends no server tools
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


def _finish_reason(stop_reason: Any, used_tools: bool) -> str:
    """OpenAI's finish_reason for Anthropic's stop_reason."""
    return openai_finish_reason(_FINISH_REASONS, stop_reason, used_tools)


def translate_response(body: JSON, client_request: JSON) -> tuple[JSON, Usage]:
    content = body.get("content")
    texts: list[str] = []
    thoughts: list[str] = []
    tool_calls: list[JSON] = []
    for block in content if isinstance(content, list) else ():
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            text = nonempty(block.get("text"))
            if text:
                texts.append(text)
        elif kind == "thinking":
            thought = nonempty(block.get("thinking"))
            if thought:
                thoughts.append(thought)
        elif kind == "tool_use":
            tool_calls.append(response_tool_call(block.get("id"), block.get("name"), block.get("input")))
    usage = anthropic_usage(body.get("usage"))
    model = nonempty(body.get("model")) or client_model(client_request)
    reason = _finish_reason(body.get("stop_reason"), bool(tool_calls))
    return completion(body.get("id"), model, answer(texts, thoughts, tool_calls), reason, wire_usage(usage)), usage


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def translate_error(status: int, body: bytes) -> bytes:
    # `code` keeps Anthropic's own error type (`overloaded_error`, `request_too_large`, ...).
    message, parsed = read_provider_error(status, body)
    return openai_error_body(status, message, _anthropic_error_type(parsed))


def _stream_error(event: JSON) -> bytes:
    """An error event inside the provider's stream, which has no HTTP status of its own."""
    status, kind, message = provider_stream_error(event)
    return error_event(status, message, kind)


# ---------------------------------------------------------------------------------------------
# Streaming: Anthropic message stream events -> OpenAI chat.completion.chunk events
# ---------------------------------------------------------------------------------------------


class AnthropicToOpenAIStream(ChunkStream):
    """One streamed response: Anthropic events in, OpenAI chunks out; the completion starts
    with the message (see `ChunkStream`)."""

    __slots__ = ("_tool_prefixes", "_start_inputs", "_stop_reason", "_counts")
    _wire_usage = staticmethod(wire_usage)

    def __init__(self, model: str, include_usage: bool) -> None:
        super().__init__(model, include_usage)
        self._tool_prefixes: dict[int, bytes] = {}  # tool_use block index -> chunk up to its arguments
        self._start_inputs: dict[int, JSON] = {}  # tool_use blocks that started with their input
        self._stop_reason: Any = None
        self._counts: dict[str, int] | None = None

    def _on_cut(self, out: list[bytes]) -> None:
        self._end(out)

    def _on_event(self, sse: SSEEvent, out: list[bytes]) -> None:
        event = self._json_object(sse.data, NOT_JSON, out)
        if event is None:
            return
        kind = event.get("type") or sse.event
        if kind == "content_block_delta":
            self._on_delta(event, out)
        elif kind == "content_block_start":
            self._on_block_start(event, out)
        elif kind == "content_block_stop":
            index = event_index(event)
            start_input = self._start_inputs.pop(index, None)
            if start_input is not None:
                out.append(self._tool_prefixes[index] + orjson.dumps(arguments_json(start_input)) + ARGUMENTS_END)
        elif kind == "message_delta":
            self._start(None, out)
            delta = event.get("delta")
            if isinstance(delta, dict) and delta.get("stop_reason") is not None:
                self._stop_reason = delta["stop_reason"]
            self._count(event.get("usage"))
        elif kind == "message_start":
            message = event.get("message")
            message = message if isinstance(message, dict) else {}
            self._count(message.get("usage"))
            self._start(message.get("id"), out)
        elif kind == "message_stop":
            self._end(out)
        elif kind == "error":
            out.append(_stream_error(event))
            self._ended = True
        # `ping`, and event types Anthropic may add (its versioning policy says so), are skipped.

    def _on_delta(self, event: JSON, out: list[bytes]) -> None:
        delta = event.get("delta")
        if not isinstance(delta, dict):
            return
        kind = delta.get("type")
        if kind == "text_delta":
            self._text(b'{"content":', delta.get("text"), out)
        elif kind == "input_json_delta":
            index = event_index(event)
            prefix = self._tool_prefixes.get(index)
            fragment = nonempty(delta.get("partial_json"))
            if prefix is not None and fragment:
                self._start_inputs.pop(index, None)  # the deltas carry the input
                out.append(prefix + orjson.dumps(fragment) + ARGUMENTS_END)
        elif kind == "thinking_delta":
            self._text(b'{"reasoning_content":', delta.get("thinking"), out)
        # `signature_delta` (OpenAI clients cannot send thinking back) and `citations_delta` are dropped.

    def _on_block_start(self, event: JSON, out: list[bytes]) -> None:
        block = event.get("content_block")
        if not isinstance(block, dict):
            return
        kind = block.get("type")
        if kind == "text":
            self._text(b'{"content":', block.get("text"), out)
        elif kind == "thinking":
            self._text(b'{"reasoning_content":', block.get("thinking"), out)
        elif kind == "tool_use":
            index = event_index(event)
            self._tool_prefixes[index] = self._tool_call(block.get("id"), block.get("name"), "", out)
            # Anthropic starts every tool_use block with `input: {}` and streams the input;
            # a compatible server that sends it whole here gets it sent when the block ends.
            start_input = block.get("input")
            if isinstance(start_input, dict) and start_input:
                self._start_inputs[index] = start_input
        # Other blocks (redacted thinking, server tools' blocks) have nothing for an OpenAI client.

    def _count(self, usage: Any) -> None:
        # Anthropic's counts are cumulative: the latest value of each stands.
        if not isinstance(usage, dict):
            return
        self._counts = merged_stream_usage(self._counts, usage)
        self._usage = anthropic_usage(self._counts)

    def _end(self, out: list[bytes]) -> None:
        self._finish(_finish_reason(self._stop_reason, self._tool_calls > 0), out)
        self._done(out)


class OpenAIToAnthropic:
    """OpenAI Chat Completions clients, Anthropic Messages providers."""

    client = "openai"
    provider = "anthropic"

    def request(self, body: JSON, upstream_model: str) -> JSON:
        return translate_request(body, upstream_model)

    def response(self, body: JSON, client_request: JSON) -> tuple[JSON, Usage]:
        return translate_response(body, client_request)

    def stream(self, client_request: JSON) -> StreamTranslator:
        return AnthropicToOpenAIStream(*stream_settings(client_request))

    def error(self, status: int, body: bytes) -> bytes:
        return translate_error(status, body)
