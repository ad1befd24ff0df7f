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
  `mcp_servers`, `container`, `context_management`, `output_config`, and any other field or
  block type not listed here. A top-level field that is null asks for nothing, as if absent.

Gemini pairs a function response with its call by name, not id: a tool_result's function name
is the name of the earlier tool_use with its `tool_use_id`. Ids are not sent, as some Gemini
deployments refuse them; the ids of calls in answers are made here (`toolu_...`).
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
    TRANSLATED_APART,
    AnthropicStream,
    FieldApplier,
    apply_fields,
    check_parallel_switch,
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
    as_bool,
    as_dict,
    as_int,
    as_number,
    as_str,
    client_model,
    count,
    invalid,
    nonempty,
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
from aiplane.translate.sse import SSEEvent

# ---------------------------------------------------------------------------------------------
# Request: Anthropic Messages body -> Gemini GenerateContentRequest body
# ---------------------------------------------------------------------------------------------


_PROVIDER = "Gemini generateContent"  # how refusals name the provider's API


def _check_cache_control(block: JSON, param: str) -> None:
    value = block.get("cache_control")
    if value is not None:
        as_dict(value, f"{param}.cache_control")  # a cost hint: Gemini caches prefixes itself


def _text(block: JSON, param: str) -> str:
    _check_cache_control(block, param)
    return as_str(block.get("text"), f"{param}.text")


def _image_part(block: JSON, param: str) -> JSON:
    _check_cache_control(block, param)
    media_type, data = read_image(block, param, _PROVIDER)
    if media_type is not None:
        return {"inlineData": {"mimeType": media_type, "data": data}}
    url = data
    if not url[:8].lower().startswith(("https://", "http://")):
        raise refuse(f"{param}.source.url", "an image URL that is not http(s)", _PROVIDER)
    return file_data(url)


def _function_response(block: JSON, param: str, call_names: dict[str, str]) -> JSON:
    _check_cache_control(block, param)
    name = call_names.get(read_tool_use_id(block, param))
    if name is None:
        raise invalid(
            f"{param}.tool_use_id",
            "the id of a tool_use block in an earlier assistant turn (Gemini wants the function's name)",
        )
    text = tool_result_text(block, param, _PROVIDER, _text)
    # Gemini takes an object: its `output` key holds a function's output, its `error` key an error.
    key = "error" if read_is_error(block, param) else "output"
    return {"functionResponse": {"name": name, "response": {key: text}}}


def _user_parts(content: list[Any], param: str, call_names: dict[str, str]) -> list[JSON]:
    parts: list[JSON] = []
    for kind, block, where in read_blocks(content, param):
        if kind == "text":
            text = _text(block, where)
            if text:  # Gemini refuses a part without data, which an empty text is
                parts.append({"text": text})
        elif kind == "image":
            parts.append(_image_part(block, where))
        elif kind == "tool_result":
            parts.append(_function_response(block, where, call_names))
        else:
            raise refused_block(kind, where, "in a user turn", _PROVIDER)
    return merged_parts(parts, [])  # function responses first, right after the calls


def _model_parts(content: list[Any], param: str, call_names: dict[str, str]) -> list[JSON]:
    parts: list[JSON] = []
    for kind, block, where in read_blocks(content, param):
        if kind == "text":
            text = _text(block, where)
            if text:
                parts.append({"text": text})
        elif kind == "tool_use":
            _check_cache_control(block, where)
            call_id, name, args = read_tool_use(block, where)
            call_names[call_id] = name
            parts.append({"functionCall": {"name": name, "args": args}})
        elif kind not in ("thinking", "redacted_thinking"):
            raise refused_block(kind, where, "in an assistant turn", _PROVIDER)
    return parts


def _contents(value: Any) -> list[JSON]:
    turns: list[JSON] = []
    call_names: dict[str, str] = {}  # tool_use id -> function name
    for role, content, param in read_messages(value):
        if isinstance(content, str):
            parts = [{"text": content}] if content else []
        elif role == "user":
            parts = _user_parts(content, param, call_names)
        else:
            parts = _model_parts(content, param, call_names)
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


def _function_declaration(tool: JSON, param: str) -> JSON:
    _check_cache_control(tool, param)
    name, schema = read_tool_schema(tool, param)
    out: JSON = {"name": name}
    description = tool.get("description")
    if description is not None:
        out["description"] = as_str(description, f"{param}.description")
    out["parametersJsonSchema"] = schema
    if tool.get("strict") is not None:
        as_bool(tool["strict"], f"{param}.strict")  # Gemini has no per-function strict mode
    return out


_CALLING_MODES = {"auto": "AUTO", "any": "ANY", "none": "NONE"}


def _function_calling_config(value: Any) -> JSON:
    choice = as_dict(value, "tool_choice")
    check_parallel_switch(choice)  # Gemini has none
    kind, name = read_tool_choice(choice)
    return {"mode": _CALLING_MODES[kind]} if name is None else {"mode": "ANY", "allowedFunctionNames": [name]}


def _apply_tools(body: JSON, out: JSON) -> None:
    value, choice = body.get("tools"), body.get("tool_choice")
    tools = () if value is None else read_tools(value, _PROVIDER)
    declarations = [_function_declaration(tool, param) for tool, param in tools]
    config = None if choice is None else _function_calling_config(choice)  # checked even without tools
    apply_function_tools(declarations, config, out)


def _apply_stop_sequences(value: Any, config: JSON) -> None:
    stops = read_stop_sequences(value)
    if stops:
        config["stopSequences"] = stops


def _apply_max_tokens(value: Any, config: JSON) -> None:
    config["maxOutputTokens"] = as_int(value, "max_tokens")  # Gemini's thinking counts in it, as Anthropic's does


def _apply_thinking(value: Any, config: JSON) -> None:
    kind, budget = read_thinking(value)
    if budget is not None:
        config["thinkingConfig"] = {"thinkingBudget": min(max(budget, 0), MAX_THINKING_BUDGET), "includeThoughts": True}
    elif kind == "adaptive":
        config["thinkingConfig"] = {"thinkingBudget": -1, "includeThoughts": True}  # Gemini's dynamic thinking


def _apply_metadata(value: Any, config: JSON) -> None:
    read_user_id(value)  # Gemini has no field for it


def _apply_stream(value: Any, config: JSON) -> None:
    as_bool(value, "stream")  # the path streams, not the body


def _number(name: str, key: str) -> FieldApplier:
    def apply(value: Any, config: JSON) -> None:
        config[key] = as_number(value, name)

    return apply


def _apply_top_k(value: Any, config: JSON) -> None:
    config["topK"] = as_int(value, "top_k")


# Every top-level field a request may have, and what becomes of it in `generationConfig`, but for
# these: the system prompt is the body's own `systemInstruction`.
_TRANSLATED_APART = TRANSLATED_APART | {"system"}
_FIELDS: dict[str, FieldApplier] = {
    "model": ignore,  # the path names the upstream model
    "max_tokens": _apply_max_tokens,
    "stop_sequences": _apply_stop_sequences,
    "temperature": _number("temperature", "temperature"),
    "top_p": _number("top_p", "topP"),
    "top_k": _apply_top_k,
    "thinking": _apply_thinking,
    "stream": _apply_stream,
    "metadata": _apply_metadata,
    "service_tier": ignore,
}


def translate_request(body: JSON) -> JSON:
    if not isinstance(body, dict):
        raise invalid("body", "a JSON object")
    contents = _contents(body.get("messages"))
    config: JSON = {}
    apply_fields(body, _FIELDS, config, _PROVIDER, _TRANSLATED_APART, null_is_absent=True)
    out: JSON = {}
    system = body.get("system")
    if system is not None:
        text = joined_texts(system, "system", _PROVIDER, _text)
        if text:
            out["systemInstruction"] = {"parts": [{"text": text}]}
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
                # Gemini's thought signatures are not Anthropic's: the block carries none.
                content.append({"type": "text", "text": text} if kind == "text" else thinking_block(text))
        call = part.get("functionCall")
        if isinstance(call, dict):
            content.append(tool_use_block(None, call.get("name"), call.get("args")))  # Gemini names no id
        # Inline data, executable code and other parts have nothing for an Anthropic client.
    if candidate is None and prompt_blocked(body):
        stop_reason = "refusal"
    else:
        stop_reason = _stop_reason(None if candidate is None else candidate.get("finishReason"), has_tool_use(content))
    wire_usage, usage = _usage(body.get("usageMetadata"))
    model = nonempty(body.get("modelVersion")) or client_model(client_request)
    return response_message(body.get("responseId"), model, content, stop_reason, None, wire_usage), usage


# ---------------------------------------------------------------------------------------------
# Streaming: Gemini `streamGenerateContent?alt=sse` events -> Anthropic message stream events
# ---------------------------------------------------------------------------------------------

_NO_USAGE = {"input_tokens": 0, "output_tokens": 0}


class GeminiToAnthropicStream(AnthropicStream):
    """One streamed response: Gemini events in, Anthropic events out, one block open at a time.

    Each Gemini event is a whole GenerateContentResponse with the next parts of the answer; a
    function call comes whole, in one part, and becomes a tool_use block with its whole input
    in one input_json_delta. The event with a `finishReason` is the last; Gemini sends no other
    end, so a stream that stops without one ends as it stands when the provider's stream ends.
    """

    __slots__ = ("_used_tools",)

    def __init__(self, model: str) -> None:
        super().__init__(model)  # the open block's key: "text", "thinking" or "tool"
        self._used_tools = False

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
            self._error(status, message, out)
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
            if part.get("thought") is True:
                self._delta("thinking", THINKING_BLOCK, THINKING_DELTA, text, out)
            else:
                self._delta("text", TEXT_BLOCK, TEXT_DELTA, text, out)
        call = part.get("functionCall")
        if isinstance(call, dict):
            self._used_tools = True
            prefix = self._open_tool("tool", self._made_tool_id(), call.get("name"), out)
            try:
                partial = orjson.dumps(_tool_input(call.get("args")))
            except orjson.JSONEncodeError:
                partial = b"{}"
            out.append(prefix + orjson.dumps(partial.decode()) + DELTA_END)
            self._close_block(out)
        # Thought signatures, inline data and code parts have nothing for an Anthropic client.

    def _start(self, response_id: Any, out: list[bytes]) -> None:
        usage = dict(self._wire_usage or _NO_USAGE)
        usage["output_tokens"] = 0  # the answer has not begun: its count comes in message_delta
        self._start_message(response_id, usage, out)

    def _end(self, stop_reason: str, out: list[bytes]) -> None:
        if not self._started:
            self._start(None, out)
        self._finish(stop_reason, None, self._wire_usage, out)


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
        return translated_error(status, body)
