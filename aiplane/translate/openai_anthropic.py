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

import time
import uuid
from collections.abc import Callable
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
    THINKING_BUDGETS,
    as_bool,
    as_dict,
    as_int,
    as_list,
    as_number,
    as_str,
    block_type,
    client_model,
    invalid,
    nonempty,
    read_provider_error,
    refuse,
)
from aiplane.translate.openai_wire import (
    DELTA_END,
    DONE,
    NOT_JSON,
    ROLE_DELTA,
    arguments_json,
    chunk_prefix,
    completion_id,
    error_event,
    finish_chunk,
    stream_settings,
    usage_chunk,
)
from aiplane.translate.openai_wire import error_body as openai_error_body
from aiplane.translate.openai_wire import finish_reason as openai_finish_reason
from aiplane.translate.sse import EventStreamTranslator, SSEEvent

# ---------------------------------------------------------------------------------------------
# Request: OpenAI Chat Completions body -> Anthropic Messages body
# ---------------------------------------------------------------------------------------------


def _refuse(param: str, what: str) -> UnsupportedFeature:
    return refuse(param, what, "Anthropic Messages")


def _cache_control(part: JSON, block: JSON, param: str) -> JSON:
    # OpenAI's explicit breakpoint ends a reusable prefix, as Anthropic's `cache_control` does.
    # Anthropic keeps it 5 minutes, OpenAI at least 30: a cost hint either way, never an answer.
    breakpoint = part.get("prompt_cache_breakpoint")
    if breakpoint is not None:
        as_dict(breakpoint, f"{param}.prompt_cache_breakpoint")
        block["cache_control"] = {"type": "ephemeral"}
    return block


def _text_block(part: JSON, param: str) -> JSON:
    return _cache_control(part, {"type": "text", "text": as_str(part.get("text"), f"{param}.text")}, param)


def _data_url(url: str, param: str) -> tuple[str, str] | None:
    """The media type and base64 data of a `data:` URL; None for any other URL."""
    if url[:5].lower() != "data:":
        return None
    header, comma, data = url[5:].partition(",")
    media_type, *parameters = header.split(";")
    if not comma or not parameters or parameters[-1].lower() != "base64":
        raise _refuse(param, "a data URL that is not base64-encoded")
    return media_type, data


def _image_block(part: JSON, param: str) -> JSON:
    image_url = as_dict(part.get("image_url"), f"{param}.image_url")
    where = f"{param}.image_url.url"
    url = as_str(image_url.get("url"), where)
    data_url = _data_url(url, where)
    if data_url is not None:
        source = {"type": "base64", "media_type": data_url[0], "data": data_url[1]}
    elif url[:8].lower().startswith(("https://", "http://")):
        source = {"type": "url", "url": url}
    else:
        raise _refuse(where, "an image URL that is neither http(s) nor a data URL")
    return _cache_control(part, {"type": "image", "source": source}, param)


def _document_block(part: JSON, param: str) -> JSON:
    file = as_dict(part.get("file"), f"{param}.file")
    file_data = file.get("file_data")
    where = f"{param}.file.file_data"
    if file_data is None and file.get("file_id") is not None:
        raise _refuse(f"{param}.file.file_id", "a file by id (OpenAI's file store is not Anthropic's)")
    data_url = _data_url(as_str(file_data, where), where)
    if data_url is None or data_url[0] != "application/pdf":
        raise _refuse(where, "a file other than a PDF in a base64 data URL")
    source = {"type": "base64", "media_type": "application/pdf", "data": data_url[1]}
    block: JSON = {"type": "document", "source": source}
    filename = file.get("filename")
    if filename is not None:
        block["title"] = as_str(filename, f"{param}.file.filename")
    return _cache_control(part, block, param)


def _user_content(content: Any, param: str) -> str | list[JSON]:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise invalid(param, "a string or a list of content parts")
    blocks = []
    for i, part in enumerate(content):
        where = f"{param}[{i}]"
        kind = block_type(part, where)
        if kind == "text":
            blocks.append(_text_block(part, where))
        elif kind == "image_url":
            blocks.append(_image_block(part, where))
        elif kind == "file":
            blocks.append(_document_block(part, where))
        else:
            raise _refuse(f"{where}.type", f"a `{kind}` part")
    return blocks


def _text_blocks(content: Any, param: str) -> list[JSON]:
    """The content of a system, developer or tool message: a string or text parts."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if not isinstance(content, list):
        raise invalid(param, "a string or a list of text parts")
    blocks = []
    for i, part in enumerate(content):
        where = f"{param}[{i}]"
        kind = block_type(part, where)
        if kind != "text":
            raise _refuse(f"{where}.type", f"a `{kind}` part here")
        blocks.append(_text_block(part, where))
    return blocks


def _tool_use(call: Any, param: str) -> JSON:
    kind = as_dict(call, param).get("type", "function")
    if kind != "function":
        raise _refuse(f"{param}.type", f"a `{kind}` tool call")
    function = as_dict(call.get("function"), f"{param}.function")
    where = f"{param}.function.arguments"
    arguments = as_str(function.get("arguments"), where)
    try:
        # Some clients send "" for a call without arguments; OpenAI's models send "{}".
        tool_input = orjson.loads(arguments) if arguments.strip() else {}
    except orjson.JSONDecodeError:
        tool_input = None
    if not isinstance(tool_input, dict):
        raise invalid(where, "a JSON object in a string (Anthropic takes a tool call's input as an object)")
    return {
        "type": "tool_use",
        "id": as_str(call.get("id"), f"{param}.id"),
        "name": as_str(function.get("name"), f"{param}.function.name"),
        "input": tool_input,
    }


def _assistant_content(message: JSON, param: str) -> str | list[JSON]:
    content = message.get("content")
    tool_calls = message.get("tool_calls")
    refusal = message.get("refusal")
    for name in ("function_call", "audio"):
        if message.get(name) is not None:
            raise _refuse(f"{param}.{name}", f"an assistant message's `{name}`")
    if isinstance(content, str) and tool_calls is None and refusal is None:
        return content
    blocks: list[JSON] = []
    if isinstance(content, str):
        blocks.append({"type": "text", "text": content})
    elif isinstance(content, list):
        for i, part in enumerate(content):
            where = f"{param}.content[{i}]"
            kind = block_type(part, where)
            if kind == "text":
                blocks.append(_text_block(part, where))
            elif kind == "refusal":
                blocks.append({"type": "text", "text": as_str(part.get("refusal"), f"{where}.refusal")})
            else:
                raise _refuse(f"{where}.type", f"a `{kind}` part in an assistant message")
    elif content is not None:
        raise invalid(f"{param}.content", "a string, a list of content parts or null")
    if refusal is not None:
        blocks.append({"type": "text", "text": as_str(refusal, f"{param}.refusal")})
    if tool_calls is not None:
        where = f"{param}.tool_calls"
        blocks.extend(_tool_use(call, f"{where}[{i}]") for i, call in enumerate(as_list(tool_calls, where)))
    # Anthropic refuses empty text blocks; OpenAI clients send `content: ""` beside tool calls.
    return [block for block in blocks if block["type"] != "text" or block["text"]]


def _tool_result(message: JSON, param: str) -> JSON:
    content = message.get("content")
    return {
        "type": "tool_result",
        "tool_use_id": as_str(message.get("tool_call_id"), f"{param}.tool_call_id"),
        "content": content if isinstance(content, str) else _text_blocks(content, f"{param}.content"),
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
    system: list[JSON] = []
    turns: list[JSON] = []
    for i, message in enumerate(as_list(value, "messages")):
        where = f"messages[{i}]"
        role = as_dict(message, where).get("role")
        content: str | list[JSON]
        if role == "user":
            content = _user_content(message.get("content"), f"{where}.content")
        elif role == "assistant":
            content = _assistant_content(message, where)
        elif role == "tool":
            role, content = "user", [_tool_result(message, where)]
        elif role in ("system", "developer"):
            # Anthropic has one system prompt, before the conversation: instructions given
            # later in it join the prompt, in their order.
            system.extend(_text_blocks(message.get("content"), f"{where}.content"))
            continue
        else:
            raise invalid(f"{where}.role", "`system`, `developer`, `user`, `assistant` or `tool`")
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"] = _merged(turns[-1]["content"], content)
        else:
            turns.append({"role": role, "content": content})
    if not turns:
        raise invalid("messages", "a list with a user or assistant message")
    if any("cache_control" in block for block in system):
        out["system"] = [block for block in system if block["text"]]
    else:
        text = TEXT_SEPARATOR.join(block["text"] for block in system if block["text"])
        if text:
            out["system"] = text
    out["messages"] = turns


def _tool(tool: Any, param: str) -> JSON:
    kind = as_dict(tool, param).get("type")
    if kind != "function":
        raise _refuse(f"{param}.type", f"a `{kind}` tool")
    function = as_dict(tool.get("function"), f"{param}.function")
    out: JSON = {"name": as_str(function.get("name"), f"{param}.function.name")}
    description = function.get("description")
    if description is not None:
        out["description"] = as_str(description, f"{param}.function.description")
    parameters = function.get("parameters")
    # OpenAI takes a function without parameters; Anthropic wants a schema for every tool.
    schema = {"type": "object", "properties": {}} if parameters is None else parameters
    out["input_schema"] = as_dict(schema, f"{param}.function.parameters")
    strict = function.get("strict")
    if strict is not None and as_bool(strict, f"{param}.function.strict"):
        out["strict"] = True
    return out


_TOOL_CHOICES = {"auto": "auto", "required": "any", "none": "none"}


def _tool_choice(value: Any, parallel: bool) -> JSON:
    if isinstance(value, str):
        if value not in _TOOL_CHOICES:
            raise invalid("tool_choice", "`auto`, `required`, `none` or a named function")
        choice: JSON = {"type": _TOOL_CHOICES[value]}
    else:
        kind = as_dict(value, "tool_choice").get("type")
        if kind == "function":
            function = as_dict(value.get("function"), "tool_choice.function")
            choice = {"type": "tool", "name": as_str(function.get("name"), "tool_choice.function.name")}
        elif kind in ("allowed_tools", "custom"):
            raise _refuse("tool_choice.type", f"a tool_choice of type `{kind}`")
        else:
            raise invalid("tool_choice.type", "`function`")
    if not parallel and choice["type"] != "none":
        choice["disable_parallel_tool_use"] = True
    return choice


def _apply_tools(body: JSON, out: JSON) -> None:
    value, choice = body.get("tools"), body.get("tool_choice")
    parallel = body.get("parallel_tool_calls")
    parallel = True if parallel is None else as_bool(parallel, "parallel_tool_calls")
    tools = [] if value is None else [_tool(tool, f"tools[{i}]") for i, tool in enumerate(as_list(value, "tools"))]
    if tools:
        out["tools"] = tools
        if choice is not None or not parallel:
            out["tool_choice"] = _tool_choice("auto" if choice is None else choice, parallel)
    elif choice is not None:
        _tool_choice(choice, parallel)  # checked, but meaningless without tools


def _apply_max_tokens_and_reasoning(body: JSON, out: JSON) -> None:
    limit = body.get("max_completion_tokens")
    name = "max_completion_tokens"
    if limit is None:
        limit, name = body.get("max_tokens"), "max_tokens"
    max_tokens = None if limit is None else as_int(limit, name)
    effort = body.get("reasoning_effort")
    budget = None
    if effort is not None and effort != "none":
        if not isinstance(effort, str) or effort not in THINKING_BUDGETS:
            raise invalid("reasoning_effort", f"one of `none`, `{'`, `'.join(THINKING_BUDGETS)}`")
        budget = THINKING_BUDGETS[effort]
    # Like OpenAI's reasoning tokens, Anthropic's thinking counts in max_tokens.
    apply_max_tokens_and_thinking(max_tokens, budget, out, "reasoning_effort", "reasoning")


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
    stops = [value] if isinstance(value, str) else as_list(value, "stop")
    stops = [as_str(stop, f"stop[{i}]") for i, stop in enumerate(stops)]
    if stops:
        out["stop_sequences"] = stops


def _apply_temperature(value: Any, out: JSON) -> None:
    temperature = as_number(value, "temperature")
    if temperature > 1:
        # Scaling would change what every other value means (both APIs default to 1).
        raise _refuse("temperature", "a temperature above 1 (Anthropic's range is 0 to 1)")
    out["temperature"] = temperature


def _apply_top_p(value: Any, out: JSON) -> None:
    out["top_p"] = as_number(value, "top_p")


def _apply_stream(value: Any, out: JSON) -> None:
    if as_bool(value, "stream"):
        out["stream"] = True


def _apply_response_format(value: Any, out: JSON) -> None:
    kind = as_dict(value, "response_format").get("type")
    if kind == "json_schema":
        spec = as_dict(value.get("json_schema"), "response_format.json_schema")
        schema = as_dict(spec.get("schema"), "response_format.json_schema.schema")
        out["output_config"] = {"format": {"type": "json_schema", "schema": schema}}
    elif kind == "json_object":
        # Anthropic constrains output to a schema or not at all: a schema that allows any
        # object is not one it takes (its objects need `additionalProperties: false`).
        raise _refuse("response_format.type", "JSON mode without a schema (send a `json_schema` instead)")
    elif kind != "text":
        raise invalid("response_format.type", "`text`, `json_schema` or `json_object`")


def _ignore(value: Any, out: JSON) -> None:
    """A hint the provider may ignore anyway."""


def _only(noop: Callable[[Any], bool], name: str, what: str) -> Callable[[Any, JSON], None]:
    """A field the provider cannot honour, accepted with the one value that asks for nothing."""

    def apply(value: Any, out: JSON) -> None:
        if not noop(value):
            raise _refuse(name, what)

    return apply


def _is_zero(value: Any) -> bool:
    return type(value) in (int, float) and value == 0


def _never(value: Any) -> bool:
    return False


# Every top-level field a request may have, and what becomes of it (a null one asks for nothing),
# but for these, translated together:
_TRANSLATED_APART = frozenset(
    {
        "messages",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "max_tokens",
        "max_completion_tokens",
        "reasoning_effort",
        "user",
        "safety_identifier",
    }
)
_FIELDS: dict[str, Callable[[Any, JSON], None]] = {
    "model": _ignore,  # replaced by the upstream model
    "stop": _apply_stop,
    "temperature": _apply_temperature,
    "top_p": _apply_top_p,
    "stream": _apply_stream,
    "stream_options": _ignore,
    "response_format": _apply_response_format,
    "metadata": _ignore,
    "service_tier": _ignore,
    "prompt_cache_key": _ignore,
    "prompt_cache_retention": _ignore,
    "prompt_cache_options": _ignore,
    "n": _only(lambda n: type(n) is int and n == 1, "n", "more than one choice (`n` above 1)"),
    "logprobs": _only(lambda v: v is False, "logprobs", "log probabilities"),
    "top_logprobs": _only(lambda v: type(v) is int and v == 0, "top_logprobs", "log probabilities"),
    "logit_bias": _only(lambda v: v == {}, "logit_bias", "`logit_bias`"),
    "presence_penalty": _only(_is_zero, "presence_penalty", "a presence penalty"),
    "frequency_penalty": _only(_is_zero, "frequency_penalty", "a frequency penalty"),
    "seed": _only(_never, "seed", "a seed"),
    "modalities": _only(lambda v: v == ["text"], "modalities", "an output modality other than text"),
    "audio": _only(_never, "audio", "audio output"),
    "prediction": _only(_never, "prediction", "a predicted output"),
    "web_search_options": _only(_never, "web_search_options", "OpenAI's web search"),
    "store": _only(lambda v: v is False, "store", "storing the completion with the provider"),
    "moderation": _only(_never, "moderation", "OpenAI's moderation"),
    "verbosity": _only(lambda v: v == "medium", "verbosity", "a verbosity other than `medium`"),
    "functions": _only(_never, "functions", "the deprecated `functions` (send `tools`)"),
    "function_call": _only(_never, "function_call", "the deprecated `function_call` (send `tool_choice`)"),
}


def translate_request(body: JSON, upstream_model: str) -> JSON:
    if not isinstance(body, dict):
        raise invalid("body", "a JSON object")
    out: JSON = {"model": upstream_model}
    _apply_messages(body.get("messages"), out)
    for name, value in body.items():
        apply = _FIELDS.get(name)
        if apply is not None:
            if value is not None:
                apply(value, out)
        elif name not in _TRANSLATED_APART:
            raise _refuse(name, f"`{name}`")
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


def _usage(value: Any) -> tuple[JSON, Usage]:
    """Anthropic usage as OpenAI's wire usage and the common record.

    Anthropic's input_tokens exclude the prompt tokens read from or written to its cache;
    OpenAI's prompt_tokens, like the common record's input_tokens, count every prompt token, and
    its details say how many were read from the cache and (newer APIs) written to it.
    """
    usage = anthropic_usage(value)
    wire = {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "prompt_tokens_details": {
            "cached_tokens": usage.cached_input_tokens,
            "cache_write_tokens": usage.cache_creation_input_tokens,
        },
    }
    return wire, usage


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
            function = {"name": nonempty(block.get("name")) or "", "arguments": arguments_json(block.get("input"))}
            call_id = nonempty(block.get("id")) or f"call_{uuid.uuid4().hex}"
            tool_calls.append({"id": call_id, "type": "function", "function": function})
    # Text blocks are one answer cut where a tool call or a citation sat: joined as streamed.
    message: JSON = {"role": "assistant", "content": "".join(texts) if texts else None, "refusal": None}
    if thoughts:
        message["reasoning_content"] = "".join(thoughts)
    if tool_calls:
        message["tool_calls"] = tool_calls
    wire_usage, usage = _usage(body.get("usage"))
    return {
        "id": completion_id(body.get("id")),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": nonempty(body.get("model")) or client_model(client_request),
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": _finish_reason(body.get("stop_reason"), bool(tool_calls)),
            }
        ],
        "usage": wire_usage,
    }, usage


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


class AnthropicToOpenAIStream(EventStreamTranslator):
    """One streamed response: Anthropic events in, OpenAI chunks out.

    Every chunk repeats the completion's id, creation time and model, so the bytes before each
    delta are computed once, when the message starts. The stream ends with a usage chunk
    (`choices: []`) only when the client set `stream_options.include_usage`, as OpenAI does: a
    client loop that reads `chunk.choices[0]` must not meet a chunk without choices.
    """

    __slots__ = (
        "_model",
        "_created",
        "_completion_id",
        "_prefix",
        "_started",
        "_tool_calls",
        "_tool_prefixes",
        "_start_inputs",
        "_stop_reason",
        "_counts",
        "_include_usage",
    )

    def __init__(self, model: str, include_usage: bool) -> None:
        super().__init__()
        self._model = model
        self._include_usage = include_usage
        self._created = int(time.time())
        self._completion_id = ""
        self._prefix = b""  # a chunk up to its delta
        self._started = False
        self._tool_calls = 0
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
                out.append(self._tool_prefixes[index] + orjson.dumps(arguments_json(start_input)) + b"}}]" + DELTA_END)
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
            self._append(b'{"content":', delta.get("text"), out)
        elif kind == "input_json_delta":
            index = event_index(event)
            prefix = self._tool_prefixes.get(index)
            fragment = nonempty(delta.get("partial_json"))
            if prefix is not None and fragment:
                self._start_inputs.pop(index, None)  # the deltas carry the input
                out.append(prefix + orjson.dumps(fragment) + b"}}]" + DELTA_END)
        elif kind == "thinking_delta":
            self._append(b'{"reasoning_content":', delta.get("thinking"), out)
        # `signature_delta` (OpenAI clients cannot send thinking back) and `citations_delta` are dropped.

    def _append(self, field: bytes, text: Any, out: list[bytes]) -> None:
        text = nonempty(text)
        if text:
            self._start(None, out)
            out.append(self._prefix + field + orjson.dumps(text) + DELTA_END)

    def _on_block_start(self, event: JSON, out: list[bytes]) -> None:
        block = event.get("content_block")
        if not isinstance(block, dict):
            return
        kind = block.get("type")
        if kind == "text":
            self._append(b'{"content":', block.get("text"), out)
        elif kind == "thinking":
            self._append(b'{"reasoning_content":', block.get("thinking"), out)
        elif kind == "tool_use":
            self._start(None, out)
            index, n = event_index(event), self._tool_calls
            self._tool_calls += 1
            call = {
                "index": n,
                "id": nonempty(block.get("id")) or f"call_{self._completion_id}_{n}",
                "type": "function",
                "function": {"name": nonempty(block.get("name")) or "", "arguments": ""},
            }
            out.append(self._prefix + b'{"tool_calls":[' + orjson.dumps(call) + b"]" + DELTA_END)
            self._tool_prefixes[index] = self._prefix + b'{"tool_calls":[{"index":%d,"function":{"arguments":' % n
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
        counts = merged_stream_usage(self._counts, usage)
        self._counts = counts
        self._usage = _usage(counts)[1]

    def _start(self, message_id: Any, out: list[bytes]) -> None:
        if self._started:
            return
        self._started = True
        self._completion_id = completion_id(message_id)
        self._prefix = chunk_prefix(self._completion_id, self._created, self._model)
        out.append(self._prefix + ROLE_DELTA)

    def _end(self, out: list[bytes]) -> None:
        self._start(None, out)
        finish_reason = _finish_reason(self._stop_reason, self._tool_calls > 0)
        out.append(finish_chunk(self._prefix, finish_reason))
        if self._include_usage:
            out.append(usage_chunk(self._completion_id, self._created, self._model, _usage(self._counts)[0]))
        out.append(DONE)
        self._ended = True


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
