"""Anthropic Messages clients served by a Gemini `generateContent` provider.

The decision server builds the path (`/v1beta/models/{model}:generateContent`, or
`:streamGenerateContent?alt=sse`), so the body names no model and says nothing about
streaming. Request fields are translated one by one; each is mapped, dropped because it is
only a hint the provider may ignore anyway, or refused with `UnsupportedFeature`:

- mapped: `system` (`systemInstruction`), `messages` (text, base64 and URL images, tool_use
  blocks as `functionCall` parts, tool_result blocks as `functionResponse` parts), `tools`
  (their `input_schema` as `parametersJsonSchema`, full JSON Schema), `tool_choice`,
  `stop_sequences`, `temperature`, `top_p`, `top_k`, `max_tokens` and `thinking` (an
  `enabled` budget, at most Gemini's, or `adaptive` as Gemini's dynamic budget, both with
  thought summaries; `disabled` leaves the model's default, as some Gemini models cannot stop
  thinking);
- dropped hints: `stream` (the path streams), `metadata`, `service_tier`, `cache_control`
  (Gemini caches prompt prefixes by itself), `tool_choice.disable_parallel_tool_use` (Gemini
  has no switch for it; an Anthropic client reads any number of calls), a tool's `strict`,
  and `thinking`/`redacted_thinking` blocks of earlier turns (Gemini takes thoughts back only
  as its own signatures);
- refused: documents, images from the Files API, images in tool results, server tools,
  `mcp_servers`, `container`, `context_management`, `output_config`, and any field or block
  type not listed here.

Gemini pairs a function response with its call by name, not id: a tool_result's function name
is the name of the earlier tool_use with its `tool_use_id`. Ids are not sent, as some Gemini
deployments refuse them; the ids of calls in answers are made here (`toolu_...`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import orjson

from aiplane.translate.anthropic_wire import (
    BLOCK_START,
    DELTA_END,
    ERROR,
    EVENT_END,
    INPUT_JSON_DELTA,
    MESSAGE_STOP,
    NOT_JSON,
    block_delta_prefix,
    block_stop,
    error_body,
    error_type,
    message_delta,
    message_id,
    message_start,
)
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
    count,
    invalid,
    nonempty,
    read_provider_error,
    refuse,
)
from aiplane.translate.gemini_provider_wire import (
    MAX_THINKING_BUDGET,
    SAFETY_FINISH_REASONS,
    apply_function_tools,
    candidate_parts,
    file_data,
    first_candidate,
    merged_parts,
    prompt_blocked,
    sign_function_calls,
    stream_error,
)
from aiplane.translate.sse import EventStreamTranslator, SSEEvent

# ---------------------------------------------------------------------------------------------
# Request: Anthropic Messages body -> Gemini GenerateContentRequest body
# ---------------------------------------------------------------------------------------------


def _refuse(param: str, what: str) -> UnsupportedFeature:
    return refuse(param, what, "Gemini generateContent")


def _check_cache_control(block: JSON, param: str) -> None:
    value = block.get("cache_control")
    if value is not None:
        as_dict(value, f"{param}.cache_control")  # a cost hint: Gemini caches prefixes itself


def _text(block: JSON, param: str) -> str:
    _check_cache_control(block, param)
    return as_str(block.get("text"), f"{param}.text")


def _texts(value: Any, param: str) -> str:
    """A string, or a list of text blocks (a system prompt, a tool result), as one string."""
    if isinstance(value, str):
        return value
    texts = []
    for i, block in enumerate(as_list(value, param)):
        where = f"{param}[{i}]"
        kind = block_type(block, where)
        if kind != "text":
            raise _refuse(f"{where}.type", f"a `{kind}` block here")
        texts.append(_text(block, where))
    return TEXT_SEPARATOR.join(texts)


def _image_part(block: JSON, param: str) -> JSON:
    _check_cache_control(block, param)
    source = as_dict(block.get("source"), f"{param}.source")
    kind = source.get("type")
    if kind == "base64":
        media_type = as_str(source.get("media_type"), f"{param}.source.media_type")
        return {"inlineData": {"mimeType": media_type, "data": as_str(source.get("data"), f"{param}.source.data")}}
    if kind == "url":
        url = as_str(source.get("url"), f"{param}.source.url")
        if not url[:8].lower().startswith(("https://", "http://")):
            raise _refuse(f"{param}.source.url", "an image URL that is not http(s)")
        return file_data(url)
    raise _refuse(f"{param}.source.type", f"an image source of type `{kind}`")


def _function_response(block: JSON, param: str, call_names: dict[str, str]) -> JSON:
    _check_cache_control(block, param)
    where = f"{param}.tool_use_id"
    name = call_names.get(as_str(block.get("tool_use_id"), where))
    if name is None:
        raise invalid(
            where, "the id of a tool_use block in an earlier assistant turn (Gemini wants the function's name)"
        )
    text = _texts(block.get("content", ""), f"{param}.content")
    # Gemini takes an object: its `output` key holds a function's output, its `error` key an error.
    key = "error" if as_bool(block.get("is_error", False), f"{param}.is_error") else "output"
    return {"functionResponse": {"name": name, "response": {key: text}}}


def _user_parts(content: list[Any], param: str, call_names: dict[str, str]) -> list[JSON]:
    parts: list[JSON] = []
    for i, block in enumerate(content):
        where = f"{param}[{i}]"
        kind = block_type(block, where)
        if kind == "text":
            text = _text(block, where)
            if text:  # Gemini refuses a part without data, which an empty text is
                parts.append({"text": text})
        elif kind == "image":
            parts.append(_image_part(block, where))
        elif kind == "tool_result":
            parts.append(_function_response(block, where, call_names))
        else:
            raise _refuse(f"{where}.type", f"a `{kind}` block in a user turn")
    return merged_parts(parts, [])  # function responses first, right after the calls


def _model_parts(content: list[Any], param: str, call_names: dict[str, str]) -> list[JSON]:
    parts: list[JSON] = []
    for i, block in enumerate(content):
        where = f"{param}[{i}]"
        kind = block_type(block, where)
        if kind == "text":
            text = _text(block, where)
            if text:
                parts.append({"text": text})
        elif kind == "tool_use":
            _check_cache_control(block, where)
            call_id = as_str(block.get("id"), f"{where}.id")
            name = as_str(block.get("name"), f"{where}.name")
            args = as_dict(block.get("input"), f"{where}.input")
            call_names[call_id] = name
            parts.append({"functionCall": {"name": name, "args": args}})
        elif kind not in ("thinking", "redacted_thinking"):
            raise _refuse(f"{where}.type", f"a `{kind}` block in an assistant turn")
    return parts


def _contents(value: Any) -> list[JSON]:
    turns: list[JSON] = []
    call_names: dict[str, str] = {}  # tool_use id -> function name
    for i, message in enumerate(as_list(value, "messages")):
        where = f"messages[{i}]"
        role = as_dict(message, where).get("role")
        if role not in ("user", "assistant"):
            raise invalid(f"{where}.role", "`user` or `assistant`")
        content = message.get("content")
        if isinstance(content, str):
            parts = [{"text": content}] if content else []
        elif not isinstance(content, list):
            raise invalid(f"{where}.content", "a string or a list of content blocks")
        elif role == "user":
            parts = _user_parts(content, f"{where}.content", call_names)
        else:
            parts = _model_parts(content, f"{where}.content", call_names)
        role = "user" if role == "user" else "model"
        if not parts:
            continue  # Gemini refuses a turn without parts
        if turns and turns[-1]["role"] == role:
            turns[-1]["parts"] = merged_parts(turns[-1]["parts"], parts)
        else:
            turns.append({"role": role, "parts": parts})
    if not turns:
        raise invalid("messages", "a list with a message that says something")
    sign_function_calls(turns)
    return turns


def _function_declaration(tool: Any, param: str) -> JSON:
    kind = as_dict(tool, param).get("type", "custom")
    if kind != "custom":
        raise _refuse(f"{param}.type", f"the server tool `{kind}`")
    _check_cache_control(tool, param)
    out: JSON = {"name": as_str(tool.get("name"), f"{param}.name")}
    description = tool.get("description")
    if description is not None:
        out["description"] = as_str(description, f"{param}.description")
    out["parametersJsonSchema"] = as_dict(tool.get("input_schema"), f"{param}.input_schema")
    if tool.get("strict") is not None:
        as_bool(tool["strict"], f"{param}.strict")  # Gemini has no per-function strict mode
    return out


_CALLING_MODES = {"auto": "AUTO", "any": "ANY", "none": "NONE"}


def _function_calling_config(value: Any) -> JSON:
    choice = as_dict(value, "tool_choice")
    if choice.get("disable_parallel_tool_use") is not None:
        as_bool(choice["disable_parallel_tool_use"], "tool_choice.disable_parallel_tool_use")
    kind = choice.get("type")
    if kind == "tool":
        return {"mode": "ANY", "allowedFunctionNames": [as_str(choice.get("name"), "tool_choice.name")]}
    if isinstance(kind, str) and kind in _CALLING_MODES:
        return {"mode": _CALLING_MODES[kind]}
    raise invalid("tool_choice.type", "`auto`, `any`, `tool` or `none`")


def _apply_tools(body: JSON, out: JSON) -> None:
    value, choice = body.get("tools"), body.get("tool_choice")
    tools = [] if value is None else as_list(value, "tools")
    declarations = [_function_declaration(tool, f"tools[{i}]") for i, tool in enumerate(tools)]
    config = None if choice is None else _function_calling_config(choice)  # checked even without tools
    apply_function_tools(declarations, config, out)


def _apply_system(value: Any, out: JSON, config: JSON) -> None:
    text = _texts(value, "system")
    if text:
        out["systemInstruction"] = {"parts": [{"text": text}]}


def _apply_stop_sequences(value: Any, out: JSON, config: JSON) -> None:
    stops = [as_str(stop, f"stop_sequences[{i}]") for i, stop in enumerate(as_list(value, "stop_sequences"))]
    if stops:
        config["stopSequences"] = stops


def _apply_max_tokens(value: Any, out: JSON, config: JSON) -> None:
    config["maxOutputTokens"] = as_int(value, "max_tokens")  # Gemini's thinking counts in it, as Anthropic's does


def _apply_thinking(value: Any, out: JSON, config: JSON) -> None:
    thinking = as_dict(value, "thinking")
    kind = thinking.get("type")
    if kind == "enabled":
        budget = as_int(thinking.get("budget_tokens"), "thinking.budget_tokens")
        config["thinkingConfig"] = {"thinkingBudget": min(max(budget, 0), MAX_THINKING_BUDGET), "includeThoughts": True}
    elif kind == "adaptive":
        config["thinkingConfig"] = {"thinkingBudget": -1, "includeThoughts": True}  # Gemini's dynamic thinking
    elif kind != "disabled":
        raise invalid("thinking.type", "`enabled`, `adaptive` or `disabled`")


def _apply_metadata(value: Any, out: JSON, config: JSON) -> None:
    user_id = as_dict(value, "metadata").get("user_id")
    if user_id is not None:
        as_str(user_id, "metadata.user_id")  # Gemini has no field for it


def _apply_stream(value: Any, out: JSON, config: JSON) -> None:
    as_bool(value, "stream")  # the path streams, not the body


def _number(name: str, key: str) -> Callable[[Any, JSON, JSON], None]:
    def apply(value: Any, out: JSON, config: JSON) -> None:
        config[key] = as_number(value, name)

    return apply


def _apply_top_k(value: Any, out: JSON, config: JSON) -> None:
    config["topK"] = as_int(value, "top_k")


def _ignore(value: Any, out: JSON, config: JSON) -> None:
    """A hint the provider may ignore anyway."""


_TRANSLATED_APART = frozenset({"messages", "tools", "tool_choice"})
_FIELDS: dict[str, Callable[[Any, JSON, JSON], None]] = {
    "model": _ignore,  # the path names the upstream model
    "system": _apply_system,
    "max_tokens": _apply_max_tokens,
    "stop_sequences": _apply_stop_sequences,
    "temperature": _number("temperature", "temperature"),
    "top_p": _number("top_p", "topP"),
    "top_k": _apply_top_k,
    "thinking": _apply_thinking,
    "stream": _apply_stream,
    "metadata": _apply_metadata,
    "service_tier": _ignore,
}


def translate_request(body: JSON) -> JSON:
    if not isinstance(body, dict):
        raise invalid("body", "a JSON object")
    out: JSON = {}
    config: JSON = {}
    contents = _contents(body.get("messages"))
    for name, value in body.items():
        apply = _FIELDS.get(name)
        if apply is not None:
            if value is not None:
                apply(value, out, config)
        elif name not in _TRANSLATED_APART:
            raise _refuse(name, f"`{name}`")
    out["contents"] = contents
    _apply_tools(body, out)
    if config:
        out["generationConfig"] = config
    return out


# ---------------------------------------------------------------------------------------------
# Response: Gemini GenerateContentResponse -> Anthropic message
# ---------------------------------------------------------------------------------------------


def _stop_reason(finish_reason: Any, used_tools: bool) -> str:
    """Anthropic's stop_reason for Gemini's finishReason; Anthropic clients loop on `tool_use`.

    Gemini does not say which stop sequence matched, so `stop_sequence` is never claimed.
    Other reasons (`LANGUAGE`, `OTHER`, `MALFORMED_FUNCTION_CALL`, none) end the turn.
    """
    if finish_reason == "MAX_TOKENS":
        return "max_tokens"
    if isinstance(finish_reason, str) and finish_reason in SAFETY_FINISH_REASONS:
        return "refusal"
    return "tool_use" if used_tools else "end_turn"


def _usage(value: Any) -> tuple[JSON, Usage]:
    """Gemini's usageMetadata as Anthropic's wire usage and the common record.

    Gemini's promptTokenCount counts the cached tokens too; Anthropic's input_tokens exclude
    cache reads, which it counts in cache_read_input_tokens. Gemini counts thinking apart from
    the candidates; Anthropic's output_tokens count both.
    """
    usage = value if isinstance(value, dict) else {}
    prompt = count(usage.get("promptTokenCount"))
    cached = min(count(usage.get("cachedContentTokenCount")), prompt)
    thoughts = count(usage.get("thoughtsTokenCount"))
    output = count(usage.get("candidatesTokenCount")) + thoughts
    common = Usage(input_tokens=prompt, output_tokens=output, cached_input_tokens=cached, reasoning_tokens=thoughts)
    return anthropic_wire_usage(common), common


def _tool_input(args: Any) -> JSON:
    return args if isinstance(args, dict) else {}


def translate_response(body: JSON, client_request: JSON) -> tuple[JSON, Usage]:
    candidate = first_candidate(body)
    content: list[JSON] = []
    for part in candidate_parts(candidate) if candidate is not None else ():
        if not isinstance(part, dict):
            continue
        text = nonempty(part.get("text"))
        if text:
            kind, field = ("thinking", "thinking") if part.get("thought") is True else ("text", "text")
            if content and content[-1]["type"] == kind:
                content[-1][field] += text  # one answer cut where Gemini's chunks fell
            else:
                content.append({"type": "text", "text": text} if kind == "text" else _thinking_block(text))
        call = part.get("functionCall")
        if isinstance(call, dict):
            content.append(
                {
                    "type": "tool_use",
                    "id": f"toolu_{uuid.uuid4().hex}",
                    "name": nonempty(call.get("name")) or "",
                    "input": _tool_input(call.get("args")),
                }
            )
        # Inline data, executable code and other parts have nothing for an Anthropic client.
    used_tools = any(block["type"] == "tool_use" for block in content)
    if candidate is None and prompt_blocked(body):
        stop_reason = "refusal"
    else:
        stop_reason = _stop_reason(None if candidate is None else candidate.get("finishReason"), used_tools)
    wire_usage, usage = _usage(body.get("usageMetadata"))
    return {
        "id": message_id(body.get("responseId")),
        "type": "message",
        "role": "assistant",
        "model": nonempty(body.get("modelVersion")) or client_model(client_request),
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": wire_usage,
    }, usage


def _thinking_block(text: str) -> JSON:
    # Gemini's thought signatures are not Anthropic's: the block carries none.
    return {"type": "thinking", "thinking": text, "signature": ""}


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def translate_error(status: int, body: bytes) -> bytes:
    message, _ = read_provider_error(status, body)
    return error_body(error_type(status), message)


# ---------------------------------------------------------------------------------------------
# Streaming: Gemini `streamGenerateContent?alt=sse` events -> Anthropic message stream events
# ---------------------------------------------------------------------------------------------

_TEXT_START = b'"text","text":""}}\n\n'
_THINKING_START = b'"thinking","thinking":"","signature":""}}\n\n'
_TEXT_DELTA = b'"text_delta","text":'
_THINKING_DELTA = b'"thinking_delta","thinking":'


class GeminiToAnthropicStream(EventStreamTranslator):
    """One streamed response: Gemini events in, Anthropic events out, one block open at a time.

    Each Gemini event is a whole GenerateContentResponse with the next parts of the answer; a
    function call comes whole, in one part, and becomes a tool_use block with its whole input
    in one input_json_delta. The event with a `finishReason` is the last; Gemini sends no other
    end, so a stream that stops without one ends as it stands when the provider's stream ends.
    """

    __slots__ = (
        "_model",
        "_message_id",
        "_started",
        "_next_index",
        "_open",
        "_open_prefix",
        "_used_tools",
        "_wire_usage",
    )

    def __init__(self, model: str) -> None:
        super().__init__()
        self._model = model
        self._message_id = ""
        self._started = False
        self._next_index = 0
        self._open: str | None = None  # "text" or "thinking": the open block's kind
        self._open_prefix = b""  # a delta event for the open block, up to its text
        self._used_tools = False
        self._wire_usage: JSON | None = None

    def _on_cut(self, out: list[bytes]) -> None:
        self._end(_stop_reason(None, self._used_tools), out)

    def _on_event(self, event: SSEEvent, out: list[bytes]) -> None:
        data = event.data
        event = self._json_object(data, NOT_JSON, out)
        if event is None:
            return
        error = event.get("error")
        if error is not None:
            status, message, _ = stream_error(error)
            out.append(ERROR + error_body(error_type(status), message) + EVENT_END)
            self._ended = True
            return
        usage = event.get("usageMetadata")
        if isinstance(usage, dict):
            self._wire_usage, self._usage = _usage(usage)  # Gemini's counts are cumulative
        if not self._started:
            self._start(event.get("responseId"), out)
        candidate = first_candidate(event)
        if candidate is None:
            if prompt_blocked(event):
                self._end("refusal", out)
            return
        for part in candidate_parts(candidate):
            if isinstance(part, dict):
                self._on_part(part, out)
        finish_reason = candidate.get("finishReason")
        if finish_reason is not None:
            self._end(_stop_reason(finish_reason, self._used_tools), out)

    def _on_part(self, part: JSON, out: list[bytes]) -> None:
        text = nonempty(part.get("text"))
        if text:
            kind = "thinking" if part.get("thought") is True else "text"
            if self._open != kind:
                start, delta = (_THINKING_START, _THINKING_DELTA) if kind == "thinking" else (_TEXT_START, _TEXT_DELTA)
                self._open_block(kind, start, delta, out)
            out.append(self._open_prefix + orjson.dumps(text) + DELTA_END)
        call = part.get("functionCall")
        if isinstance(call, dict):
            self._close_block(out)
            index = self._next_index
            self._next_index += 1
            self._used_tools = True
            block = {
                "type": "tool_use",
                "id": f"toolu_{self._message_id[4:]}_{index}",
                "name": nonempty(call.get("name")) or "",
                "input": {},
            }
            start = {"type": "content_block_start", "index": index, "content_block": block}
            out.append(BLOCK_START + orjson.dumps(start) + EVENT_END)
            try:
                partial = orjson.dumps(_tool_input(call.get("args")))
            except orjson.JSONEncodeError:
                partial = b"{}"
            out.append(block_delta_prefix(index, INPUT_JSON_DELTA) + orjson.dumps(partial.decode()) + DELTA_END)
            out.append(block_stop(index))
        # Thought signatures, inline data and code parts have nothing for an Anthropic client.

    def _open_block(self, kind: str, start: bytes, delta: bytes, out: list[bytes]) -> None:
        self._close_block(out)
        index = self._next_index
        self._next_index += 1
        self._open = kind
        out.append(
            b'%s{"type":"content_block_start","index":%d,"content_block":{"type":%s' % (BLOCK_START, index, start)
        )
        self._open_prefix = block_delta_prefix(index, delta)

    def _close_block(self, out: list[bytes]) -> None:
        if self._open is not None:
            out.append(block_stop(self._next_index - 1))
            self._open = None

    def _start(self, response_id: Any, out: list[bytes]) -> None:
        self._started = True
        self._message_id = message_id(response_id)
        wire_usage = dict(self._wire_usage or {"input_tokens": 0, "output_tokens": 0})
        wire_usage["output_tokens"] = 0  # the answer has not begun: its count comes in message_delta
        out.append(message_start(self._message_id, self._model, wire_usage))

    def _end(self, stop_reason: str, out: list[bytes]) -> None:
        if not self._started:
            self._start(None, out)
        self._close_block(out)
        out.append(message_delta(stop_reason, None, self._wire_usage))
        out.append(MESSAGE_STOP)
        self._ended = True


class AnthropicToGemini:
    """Anthropic Messages clients, Gemini generateContent providers."""

    client = "anthropic"
    provider = "gemini"

    def request(self, body: JSON, upstream_model: str) -> JSON:
        return translate_request(body)  # the path names the model

    def response(self, body: JSON, client_request: JSON) -> tuple[JSON, Usage]:
        return translate_response(body, client_request)

    def stream(self, client_request: JSON) -> StreamTranslator:
        return GeminiToAnthropicStream(client_model(client_request))

    def error(self, status: int, body: bytes) -> bytes:
        return translate_error(status, body)
