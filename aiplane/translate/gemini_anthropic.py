"""Gemini generateContent clients served by an Anthropic Messages provider.

The client's body is read as `gemini_openai` reads it (see its docstring: protobuf JSON in
either spelling, `model` and `stream` added by the decision server, a null field is an absent
one), with the readers every Gemini-client pair shares in `gemini_wire`, which also writes the
answers and streams; the Anthropic body is built as `openai_anthropic` builds it, with the
pieces both share in `anthropic_wire`.

- mapped: `systemInstruction` (`system`); `contents` (roles `user`, `model`, and `function`)
  with `text`, `inlineData` images and PDFs (`image`/`document` blocks), `fileData` images and
  PDFs at http(s) URLs, `functionCall` (`tool_use`) and `functionResponse` (`tool_result`);
  `functionDeclarations` (`tools`, schemas made JSON Schema as `gemini_openai` does);
  `toolConfig.functionCallingConfig` (`tool_choice`); and in `generationConfig`: `temperature`
  (0 to 1, Anthropic's range), `topP`, `topK`, `maxOutputTokens` (`max_tokens`, else
  `DEFAULT_MAX_TOKENS`), `stopSequences`, `candidateCount: 1`, `thinkingConfig` (`thinking`:
  a budget, at least Anthropic's 1024; a level by `THINKING_BUDGETS`; -1 as `medium`, see
  `gemini_wire.thinking_budget`; but not in a tool loop, see `in_tool_loop`),
  `responseModalities: ["TEXT"]`;
- dropped hints: `safetySettings`, `thought` parts and `thoughtSignature`s (Anthropic takes
  thinking back only with its own signature), declarations' `response` schemas, `labels`,
  `serviceTier`, `mediaResolution`, `toolConfig.retrievalConfig`;
- refused: `candidateCount` above 1, `presencePenalty`, `frequencyPenalty`, `seed`, logprobs,
  `responseMimeType`/`responseSchema` (JSON mode), output other than text, `cachedContent`,
  `store: true`, server tools, `VALIDATED` mode, non-blocking functions, other inline data,
  Google's Files API, multimodal function responses, code execution and video parts, and any
  field not named here.

Gemini's function calls have optional ids; a call without one gets `toolu_gemini_<n>` (n counting
the request's calls from 0, so a history gets the same ids every time), and a response without
one answers the first unanswered call of its name (`gemini_wire.FunctionCallPairing`).
Anthropic's `toolu_` ids go back to the client in `functionCall.id`, which Google's SDKs send back.
"""

from __future__ import annotations

from typing import Any

import orjson

from aiplane.translate.anthropic_wire import (
    MIN_THINKING_BUDGET,
    anthropic_usage,
    apply_max_tokens_and_thinking,
    event_index,
    merged_stream_usage,
    provider_error_type,
    provider_stream_error,
)
from aiplane.translate.base import StreamTranslator, UnsupportedFeature, Usage
from aiplane.translate.common import (
    JSON,
    TEXT_SEPARATOR,
    Param,
    as_bool,
    as_dict,
    as_int,
    as_number,
    as_str,
    as_str_list,
    client_model,
    nonempty,
    read_provider_error,
    refuse,
)
from aiplane.translate.gemini_wire import (
    CLAUDE_FINISH_REASONS,
    CONFIG,
    NOT_JSON,
    THINKING,
    BlockCalls,
    FunctionCallPairing,
    GeminiStream,
    Parts,
    alternating,
    candidate,
    check_dropped_fields,
    check_unmapped_config,
    config_fields,
    error_event,
    file_uri_and_type,
    finish_reason,
    function_call_part,
    function_calling,
    generate_content_response,
    google_error_body,
    include_thoughts,
    inline_data,
    read_request,
    response_id,
    system_texts,
    thinking_budget,
    turns,
)
from aiplane.translate.sse import SSEEvent

_PROVIDER = "Anthropic Messages"


def _refuse(param: Param, what: str) -> UnsupportedFeature:
    return refuse(param, what, _PROVIDER)


# ---------------------------------------------------------------------------------------------
# Request: Gemini GenerateContentRequest -> Anthropic Messages body
# ---------------------------------------------------------------------------------------------

_IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})  # Anthropic's


def _media_block(media_type: str, source: JSON, param: Param) -> JSON:
    lowered = media_type.lower()
    if lowered in _IMAGE_TYPES:
        return {"type": "image", "source": source}
    if lowered == "application/pdf":
        return {"type": "document", "source": source}
    raise _refuse(param, f"media of type `{media_type or 'unknown'}` (JPEG, PNG, GIF, WebP images and PDFs only)")


def _inline_block(value: Any, param: Param) -> JSON:
    media_type, data, _ = inline_data(value, param, _PROVIDER)
    source = {"type": "base64", "media_type": media_type.lower(), "data": data}
    return _media_block(media_type, source, (param, "mimeType"))


def _file_block(value: Any, param: Param) -> JSON:
    uri, media_type = file_uri_and_type(value, param, _PROVIDER)
    return _media_block(media_type, {"type": "url", "url": uri}, (param, "mimeType"))


def _blocks(parts: Parts, calls: FunctionCallPairing, model: bool) -> list[JSON]:
    blocks: list[JSON] = []
    for name, at, field in parts:
        if name == "text":
            text = as_str(field, at)
            if text:  # Anthropic refuses empty text blocks
                blocks.append({"type": "text", "text": text})
        elif name == "functionCall":
            call_id, function, args, _ = calls.call(field, at)
            blocks.append({"type": "tool_use", "id": call_id, "name": function, "input": args})
        elif name == "functionResponse":
            call_id, _, content = calls.answer_response(field, at, "a multimodal function response")
            blocks.append({"type": "tool_result", "tool_use_id": call_id, "content": content})
        elif model:
            raise _refuse(at, "media in a `model` turn (Anthropic takes images from the user only)")
        else:
            blocks.append(_inline_block(field, at) if name == "inlineData" else _file_block(field, at))
    return blocks


def _messages(value: Any) -> list[JSON]:
    calls = FunctionCallPairing(_PROVIDER, "toolu_gemini_")
    roles_and_blocks = []
    for model, parts in turns(value, calls):
        roles_and_blocks.append(("assistant" if model else "user", _blocks(parts, calls, model)))
    return alternating(roles_and_blocks, "tool_use_id")  # tool_result blocks are those with a `tool_use_id`


def _tool(name: str, description: str | None, parameters: JSON | None) -> JSON:
    tool: JSON = {"name": name}
    if description is not None:
        tool["description"] = description
    # Anthropic wants an object schema for every tool; Gemini takes a function without parameters.
    tool["input_schema"] = parameters or {"type": "object", "properties": {}}
    return tool


def _apply_tools(request: JSON, out: JSON) -> None:
    """The declared functions as `tools`, and Gemini's mode as Anthropic's `tool_choice`."""
    functions, mode, named = function_calling(request, _PROVIDER)
    if not functions:
        return  # Anthropic takes no tool_choice without tools
    out["tools"] = [_tool(*function) for function in functions]
    if named is not None:
        out["tool_choice"] = {"type": "tool", "name": named}
    elif mode is not None:
        out["tool_choice"] = {"type": mode}  # Anthropic names the modes as `function_calling` does


def _apply_config(config: JSON, out: JSON) -> int | None:
    """The generationConfig's fields on `out`; returns the thinking budget asked for."""
    budget = None
    for name, at, value in config_fields(config):
        if name == "temperature":
            temperature = as_number(value, at)
            if temperature > 1:
                raise _refuse(at, "a temperature above 1 (Anthropic's range is 0 to 1)")
            out["temperature"] = temperature
        elif name == "topP":
            out["top_p"] = as_number(value, at)
        elif name == "topK":
            out["top_k"] = as_int(value, at)
        elif name == "maxOutputTokens":
            out["max_tokens"] = as_int(value, at)
        elif name == "stopSequences":
            stops = as_str_list(value, at)
            if stops:
                out["stop_sequences"] = stops
        elif name == "thinkingConfig":
            budget = thinking_budget(value, _PROVIDER, MIN_THINKING_BUDGET)
        elif name == "responseMimeType":
            if as_str(value, at).lower() != "text/plain":
                raise _refuse(at, f"a response of type `{value}`")
        else:
            check_unmapped_config(name, at, value, _PROVIDER)
    return budget


def translate_request(body: JSON, upstream_model: str) -> JSON:
    request = read_request(body, _PROVIDER)
    out: JSON = {"model": upstream_model}
    system = request.get("systemInstruction")
    if system is not None:
        texts = system_texts(system, _PROVIDER)
        if texts:
            out["system"] = TEXT_SEPARATOR.join(texts)
    out["messages"] = _messages(request.get("contents"))
    config = request.get("generationConfig")
    budget = None if config is None else _apply_config(as_dict(config, CONFIG), out)
    _apply_tools(request, out)
    check_dropped_fields(request, _PROVIDER)
    apply_max_tokens_and_thinking(out.get("max_tokens"), budget, out, THINKING, "thinking")
    stream = request.get("stream")
    if stream is not None and as_bool(stream, "stream"):
        out["stream"] = True
    return out


# ---------------------------------------------------------------------------------------------
# Response: Anthropic message -> Gemini GenerateContentResponse
# ---------------------------------------------------------------------------------------------

_FINISH_REASONS = {**CLAUDE_FINISH_REASONS, "pause_turn": "STOP", "refusal": "SAFETY"}


def translate_response(body: Any, client_request: JSON) -> tuple[JSON, Usage]:
    """Thinking becomes `thought` parts only for a client that asked (`includeThoughts`), as Gemini itself does."""
    body = body if isinstance(body, dict) else {}
    content = body.get("content")
    thoughts = include_thoughts(client_request)
    parts: list[JSON] = []
    for block in content if isinstance(content, list) else ():
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            text = nonempty(block.get("text"))
            if text:
                parts.append({"text": text})
        elif kind == "tool_use":
            parts.append(function_call_part(block.get("id"), block.get("name"), block.get("input")))
        elif kind == "thinking" and thoughts:
            thinking = nonempty(block.get("thinking"))
            if thinking:
                parts.append({"text": thinking, "thought": True})
    usage = anthropic_usage(body.get("usage"))
    answer = [candidate(parts, finish_reason(_FINISH_REASONS, body.get("stop_reason")))]
    model = nonempty(body.get("model")) or client_model(client_request)
    return generate_content_response(answer, usage, model, response_id(body.get("id"))), usage


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def translate_error(status: int, body: bytes) -> bytes:
    message, parsed = read_provider_error(status, body)
    kind = provider_error_type(parsed)
    if kind == "overloaded_error" and status < 500:
        status = 529
    return google_error_body(status, message)


# ---------------------------------------------------------------------------------------------
# Streaming: Anthropic message stream events -> Gemini GenerateContentResponse events
# ---------------------------------------------------------------------------------------------


class AnthropicToGeminiStream(GeminiStream):
    """One streamed response: Anthropic events in, Gemini `GenerateContentResponse` events out.

    Text (and thinking, when the client set `includeThoughts`) goes out as it comes; a tool_use
    block's input arrives in JSON fragments and its `functionCall` goes out whole when the block
    stops. The last event, and only it, carries the finishReason and the usage; a stream cut off
    before `message_stop` ends with finishReason OTHER, with any call not sent yet.
    """

    __slots__ = ("_calls", "_stop", "_counts")

    def __init__(self, model: str, thoughts: bool) -> None:
        super().__init__(model, thoughts)
        self._calls = BlockCalls()
        self._stop: Any = None
        self._counts: dict[str, int] | None = None

    def _on_cut(self, out: list[bytes]) -> None:
        self._end(out, stopped=False)

    def _on_event(self, sse: SSEEvent, out: list[bytes]) -> None:
        event = self._json_object(sse.data, NOT_JSON, out)
        if event is None:
            return
        kind = event.get("type") or sse.event
        if kind == "content_block_delta":
            delta = event.get("delta")
            if not isinstance(delta, dict):
                return
            delta_kind = delta.get("type")
            if delta_kind == "text_delta":
                self._text(delta.get("text"), out)
            elif delta_kind == "input_json_delta":
                self._calls.add(event_index(event), delta.get("partial_json"))
            elif delta_kind == "thinking_delta" and self._thoughts:
                self._text(delta.get("thinking"), out, thought=True)
        elif kind == "content_block_start":
            block = event.get("content_block")
            if not isinstance(block, dict):
                return
            block_kind = block.get("type")
            if block_kind == "text":
                self._text(block.get("text"), out)
            elif block_kind == "thinking" and self._thoughts:
                self._text(block.get("thinking"), out, thought=True)
            elif block_kind == "tool_use":
                self._calls.start(event_index(event), block.get("id"), block.get("name"), block.get("input"))
        elif kind == "content_block_stop":
            part = self._calls.stop(event_index(event))
            if part is not None:
                self._send(orjson.dumps(part), out)
        elif kind == "message_delta":
            delta = event.get("delta")
            if isinstance(delta, dict) and delta.get("stop_reason") is not None:
                self._stop = delta["stop_reason"]
            self._count(event.get("usage"))
        elif kind == "message_start":
            message = event.get("message")
            message = message if isinstance(message, dict) else {}
            self._count(message.get("usage"))
            self._start(message.get("id"))
        elif kind == "message_stop":
            self._end(out, stopped=True)
        elif kind == "error":
            status, _, message = provider_stream_error(event)
            out.append(error_event(status, message))
            self._ended = True
        # `ping` and event types Anthropic may add are skipped.

    def _count(self, usage: Any) -> None:
        if not isinstance(usage, dict):
            return
        counts = merged_stream_usage(self._counts, usage)
        self._counts = counts
        self._usage = anthropic_usage(counts)

    def _end(self, out: list[bytes], stopped: bool) -> None:
        self._last([candidate(self._calls.rest(), finish_reason(_FINISH_REASONS, self._stop, stopped))], out)


class GeminiToAnthropic:
    """Gemini generateContent clients, Anthropic Messages providers."""

    client = "gemini"
    provider = "anthropic"

    def request(self, body: JSON, upstream_model: str) -> JSON:
        return translate_request(body, upstream_model)

    def response(self, body: JSON, client_request: JSON) -> tuple[JSON, Usage]:
        return translate_response(body, client_request)

    def stream(self, client_request: JSON) -> StreamTranslator:
        return AnthropicToGeminiStream(client_model(client_request), include_thoughts(client_request))

    def error(self, status: int, body: bytes) -> bytes:
        return translate_error(status, body)
