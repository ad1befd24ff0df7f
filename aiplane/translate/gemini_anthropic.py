"""Gemini generateContent clients served by an Anthropic Messages provider.

The client's body is read as `gemini_openai` reads it (see its docstring: protobuf JSON in
either spelling, `model` and `stream` added by the decision server, a null field is an absent
one), with the readers both share in `gemini_wire`; the Anthropic body is built as
`openai_anthropic` builds it, with the pieces both share in `anthropic_wire`.

- mapped: `systemInstruction` (`system`); `contents` (roles `user`, `model`, and `function`)
  with `text`, `inlineData` images and PDFs (`image`/`document` blocks), `fileData` images and
  PDFs at http(s) URLs, `functionCall` (`tool_use`) and `functionResponse` (`tool_result`);
  `functionDeclarations` (`tools`, schemas made JSON Schema as `gemini_openai` does);
  `toolConfig.functionCallingConfig` (`tool_choice`); and in `generationConfig`: `temperature`
  (0 to 1, Anthropic's range), `topP`, `topK`, `maxOutputTokens` (`max_tokens`, else
  `DEFAULT_MAX_TOKENS`), `stopSequences`, `candidateCount: 1`, `thinkingConfig` (`thinking`:
  a budget, at least Anthropic's 1024; a level by `THINKING_BUDGETS`; -1 as `medium`; but not in
  a tool loop, see `in_tool_loop`), `responseModalities: ["TEXT"]`;
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
one answers the first unanswered call of its name, as in `gemini_openai`. Anthropic's `toolu_`
ids go back to the client in `functionCall.id`, which Google's SDKs send back.
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
    THINKING_BUDGETS,
    as_bool,
    as_dict,
    as_int,
    as_list,
    as_number,
    as_str,
    client_model,
    invalid,
    nonempty,
    read_provider_error,
    refuse,
)
from aiplane.translate.gemini_wire import (
    BEHAVIORS,
    BLOB_FIELDS,
    CALL_FIELDS,
    CALLING_FIELDS,
    CONTENT_FIELDS,
    DECLARATION_FIELDS,
    EVENT_END,
    EVENT_START,
    NOT_JSON,
    PART_FIELDS,
    PART_HINTS,
    PARTS_REFUSED,
    REQUEST_FIELDS,
    SAFETY_FIELDS,
    THINKING_FIELDS,
    THINKING_LEVELS,
    TOOL_CONFIG_FIELDS,
    TOOL_FIELDS,
    FunctionCallPairing,
    camel,
    enum_value,
    error_event,
    file_uri_and_type,
    function_call_part,
    google_error_body,
    include_thoughts,
    is_thought,
    json_schema,
    json_text,
    parts_or_empty,
    proto_message,
    standard_base64,
    usage_metadata,
)
from aiplane.translate.gemini_wire import finish_reason as gemini_finish_reason
from aiplane.translate.gemini_wire import response_id as _response_id
from aiplane.translate.sse import EventStreamTranslator, SSEEvent

_PROVIDER = "Anthropic Messages"
_CONFIG = "generationConfig"


def _refuse(param: str, what: str) -> UnsupportedFeature:
    return refuse(param, what, _PROVIDER)


def _message(value: Any, param: str, fields: frozenset[str]) -> JSON:
    return proto_message(value, param, fields, _PROVIDER)


# ---------------------------------------------------------------------------------------------
# Request: Gemini GenerateContentRequest -> Anthropic Messages body
# ---------------------------------------------------------------------------------------------

_IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})  # Anthropic's


def _media_block(media_type: str, source: JSON, param: str) -> JSON:
    lowered = media_type.lower()
    if lowered in _IMAGE_TYPES:
        return {"type": "image", "source": source}
    if lowered == "application/pdf":
        return {"type": "document", "source": source}
    raise _refuse(param, f"media of type `{media_type or 'unknown'}` (JPEG, PNG, GIF, WebP images and PDFs only)")


def _inline_block(value: Any, param: str) -> JSON:
    blob = _message(value, param, BLOB_FIELDS)
    media_type = as_str(blob.get("mimeType"), f"{param}.mimeType")
    data = as_str(blob.get("data"), f"{param}.data")
    source = {"type": "base64", "media_type": media_type.lower(), "data": standard_base64(data)}
    return _media_block(media_type, source, f"{param}.mimeType")


def _file_block(value: Any, param: str) -> JSON:
    uri, media_type = file_uri_and_type(value, param, _PROVIDER)
    return _media_block(media_type, {"type": "url", "url": uri}, f"{param}.mimeType")


class _Calls(FunctionCallPairing):
    """Anthropic tool_use blocks for a request's function calls; a call without an id gets `toolu_gemini_<n>`."""

    __slots__ = ()

    def call(self, value: Any, param: str) -> JSON:
        call = _message(value, param, CALL_FIELDS)
        name = as_str(call.get("name"), f"{param}.name")
        call_id = call.get("id")
        call_id = as_str(call_id, f"{param}.id") if call_id else f"toolu_gemini_{self._made}"
        self._made += 1
        args = call.get("args")
        tool_input = {} if args is None else as_dict(args, f"{param}.args")
        json_text(tool_input, f"{param}.args")  # refuses what cannot go out as JSON
        self._open.append((name, call_id))
        return {"type": "tool_use", "id": call_id, "name": name, "input": tool_input}


def _tool_result(value: Any, param: str, calls: _Calls) -> JSON:
    call_id, content = calls.answer_response(value, param, _PROVIDER, "a multimodal function response")
    return {"type": "tool_result", "tool_use_id": call_id, "content": content}


def _blocks(parts: list[Any], param: str, calls: _Calls, model: bool) -> list[JSON]:
    if model:
        calls.model_turn()
    blocks: list[JSON] = []
    for j, value in enumerate(parts):
        where = f"{param}[{j}]"
        part = _message(value, where, PART_FIELDS)
        if is_thought(part, where):
            continue
        for name, field in part.items():
            if field is None or name in PART_HINTS:
                continue
            at = f"{where}.{name}"
            if name == "text":
                text = as_str(field, at)
                if text:  # Anthropic refuses empty text blocks
                    blocks.append({"type": "text", "text": text})
            elif name == "functionCall":
                if not model:
                    raise invalid(at, "in a `model` turn (a user turn answers calls with `functionResponse`)")
                blocks.append(calls.call(field, at))
            elif name == "functionResponse":
                if model:
                    raise invalid(at, "in a `user` turn (a model turn calls functions with `functionCall`)")
                blocks.append(_tool_result(field, at, calls))
            elif name in ("inlineData", "fileData"):
                if model:
                    raise _refuse(at, "media in a `model` turn (Anthropic takes images from the user only)")
                blocks.append(_inline_block(field, at) if name == "inlineData" else _file_block(field, at))
            else:
                raise _refuse(at, PARTS_REFUSED[name])
    return blocks


def _messages(value: Any) -> list[JSON]:
    contents = as_list(value, "contents")
    if not contents:
        raise invalid("contents", "a non-empty list")
    turns: list[JSON] = []
    calls = _Calls()
    for i, item in enumerate(contents):
        where = f"contents[{i}]"
        content = _message(item, where, CONTENT_FIELDS)
        role = content.get("role") or "user"
        if role not in ("user", "model", "function"):
            raise invalid(f"{where}.role", "`user` or `model`")
        model = role == "model"
        blocks = _blocks(as_list(content.get("parts"), f"{where}.parts"), f"{where}.parts", calls, model)
        if not blocks:
            continue  # nothing but thoughts or empty text
        anthropic_role = "assistant" if model else "user"
        if turns and turns[-1]["role"] == anthropic_role:
            blocks = turns[-1]["content"] + blocks
            turns.pop()
        # Anthropic wants a user turn's tool results before anything else in it.
        results = [block for block in blocks if block["type"] == "tool_result"]
        if results and len(results) < len(blocks):
            blocks = results + [block for block in blocks if block["type"] != "tool_result"]
        turns.append({"role": anthropic_role, "content": blocks})
    if not turns:
        raise invalid("contents", "a list with more in it than thoughts")
    return turns


def _system(value: Any) -> str:
    content = _message(value, "systemInstruction", CONTENT_FIELDS)
    texts = []
    for j, item in enumerate(as_list(content.get("parts"), "systemInstruction.parts")):
        where = f"systemInstruction.parts[{j}]"
        part = _message(item, where, PART_FIELDS)
        for name, field in part.items():
            if field is None or name in PART_HINTS:
                continue
            if name != "text":
                raise _refuse(f"{where}.{name}", f"a `{name}` part in the system instruction")
            text = as_str(field, f"{where}.text")
            if text:
                texts.append(text)
    return TEXT_SEPARATOR.join(texts)


def _tool(value: Any, param: str) -> JSON:
    declaration = _message(value, param, DECLARATION_FIELDS)
    tool: JSON = {"name": as_str(declaration.get("name"), f"{param}.name")}
    description = declaration.get("description")
    if description is not None:
        tool["description"] = as_str(description, f"{param}.description")
    parameters, schema = declaration.get("parameters"), declaration.get("parametersJsonSchema")
    if parameters is not None and schema is not None:
        raise invalid(f"{param}.parametersJsonSchema", "left out when `parameters` is set")
    if parameters is not None:
        schema = json_schema(parameters, f"{param}.parameters")
    elif schema is not None:
        schema = as_dict(schema, f"{param}.parametersJsonSchema")
    # Anthropic wants an object schema for every tool; Gemini takes a function without parameters.
    tool["input_schema"] = {"type": "object", "properties": {}} if not schema else schema
    behavior = declaration.get("behavior")
    if behavior is not None and not enum_value(behavior, f"{param}.behavior", BEHAVIORS):
        raise _refuse(f"{param}.behavior", "a non-blocking function")
    return tool


def _tools(value: Any) -> list[JSON]:
    tools = []
    for i, item in enumerate(as_list(value, "tools")):
        where = f"tools[{i}]"
        for name, field in _message(item, where, TOOL_FIELDS).items():
            if field is None:
                continue
            if name != "functionDeclarations":
                raise _refuse(f"{where}.{name}", f"Gemini's server tool `{name}`")
            at = f"{where}.functionDeclarations"
            tools.extend(_tool(declaration, f"{at}[{j}]") for j, declaration in enumerate(as_list(field, at)))
    return tools


_MODES = {"MODE_UNSPECIFIED": "auto", "AUTO": "auto", "ANY": "any", "NONE": "none", "VALIDATED": None}


def _apply_tool_config(value: Any, out: JSON) -> None:
    """Gemini's mode as Anthropic's `tool_choice`; `allowedFunctionNames` with one name and `ANY`
    is a named tool, otherwise the tools sent are those named."""
    calling = _message(value, "toolConfig", TOOL_CONFIG_FIELDS).get("functionCallingConfig")
    if calling is None:
        return
    where = "toolConfig.functionCallingConfig"
    calling = _message(calling, where, CALLING_FIELDS)
    mode = calling.get("mode")
    choice = "auto" if mode is None else enum_value(mode, f"{where}.mode", _MODES)
    if choice is None:
        raise _refuse(f"{where}.mode", "function calling validated against the schemas (`VALIDATED`)")
    allowed = calling.get("allowedFunctionNames")
    names = [] if allowed is None else as_list(allowed, f"{where}.allowedFunctionNames")
    names = [as_str(name, f"{where}.allowedFunctionNames[{i}]") for i, name in enumerate(names)]
    tools = out.get("tools")
    if not tools:
        return  # Anthropic takes no tool_choice without tools
    if names and choice != "none":
        declared = {tool["name"] for tool in tools}
        for i, name in enumerate(names):
            if name not in declared:
                raise invalid(f"{where}.allowedFunctionNames[{i}]", f"the name of a declared function (`{name}`)")
        if choice == "any" and len(names) == 1:
            out["tool_choice"] = {"type": "tool", "name": names[0]}
            return
        out["tools"] = [tool for tool in tools if tool["name"] in names]
    out["tool_choice"] = {"type": choice}


def _thinking_budget(value: Any) -> int | None:
    where = f"{_CONFIG}.thinkingConfig"
    thinking = _message(value, where, THINKING_FIELDS)
    include = thinking.get("includeThoughts")
    if include is not None:
        as_bool(include, f"{where}.includeThoughts")
    budget, level = thinking.get("thinkingBudget"), thinking.get("thinkingLevel")
    if budget is not None and level is not None:
        raise invalid(f"{where}.thinkingLevel", "left out when `thinkingBudget` is set")
    if level is not None:
        effort = enum_value(level, f"{where}.thinkingLevel", THINKING_LEVELS)
        return None if effort is None else THINKING_BUDGETS[effort]
    if budget is None:
        return None
    budget = as_int(budget, f"{where}.thinkingBudget")
    if budget == -1:
        return THINKING_BUDGETS["medium"]  # dynamic: Anthropic needs a budget, the middle one
    if budget == 0:
        return None
    if budget < 0:
        raise invalid(f"{where}.thinkingBudget", "-1 (dynamic), 0 (off) or a number of tokens")
    return max(budget, MIN_THINKING_BUDGET)


def _apply_config(config: JSON, out: JSON) -> int | None:
    """The generationConfig's fields on `out`; returns the thinking budget asked for."""
    budget = None
    for key, value in config.items():
        if value is None:
            continue
        name = camel(key) if "_" in key else key
        at = f"{_CONFIG}.{key}"
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
            stops = [as_str(stop, f"{at}[{i}]") for i, stop in enumerate(as_list(value, at))]
            if stops:
                out["stop_sequences"] = stops
        elif name == "candidateCount":
            if as_int(value, at) != 1:
                raise _refuse(at, "more than one candidate")
        elif name == "thinkingConfig":
            budget = _thinking_budget(value)
        elif name == "responseModalities":
            for i, modality in enumerate(as_list(value, at)):
                if as_str(modality, f"{at}[{i}]").upper() != "TEXT":
                    raise _refuse(f"{at}[{i}]", f"output of modality `{modality}`")
        elif name == "responseMimeType":
            if as_str(value, at).lower() != "text/plain":
                raise _refuse(at, f"a response of type `{value}`")
        elif name in ("responseLogprobs", "audioTimestamp", "enableAffectiveDialog", "enableEnhancedCivicAnswers"):
            if as_bool(value, at):
                raise _refuse(at, f"`{name}`")
        elif name == "mediaResolution":
            as_str(value, at)  # a hint: Anthropic sizes images itself
        else:
            raise _refuse(at, f"`{name}`")
    return budget


def translate_request(body: JSON, upstream_model: str) -> JSON:
    if not isinstance(body, dict):
        raise invalid("body", "a JSON object")
    request = _message(body, "", REQUEST_FIELDS)
    out: JSON = {"model": upstream_model}
    system = request.get("systemInstruction")
    if system is not None:
        text = _system(system)
        if text:
            out["system"] = text
    out["messages"] = _messages(request.get("contents"))
    config = request.get("generationConfig")
    budget = None if config is None else _apply_config(as_dict(config, _CONFIG), out)
    tools = request.get("tools")
    if tools is not None:
        declared = _tools(tools)
        if declared:
            out["tools"] = declared
    tool_config = request.get("toolConfig")
    if tool_config is not None:
        _apply_tool_config(tool_config, out)
    safety = request.get("safetySettings")
    if safety is not None:
        for i, item in enumerate(as_list(safety, "safetySettings")):
            _message(item, f"safetySettings[{i}]", SAFETY_FIELDS)
    if request.get("cachedContent") is not None:
        raise _refuse("cachedContent", "content cached with Google (`cachedContent`)")
    store = request.get("store")
    if store is not None and as_bool(store, "store"):
        raise _refuse("store", "storing the response with the provider")
    labels = request.get("labels")
    if labels is not None:
        as_dict(labels, "labels")
    apply_max_tokens_and_thinking(out.get("max_tokens"), budget, out, f"{_CONFIG}.thinkingConfig", "thinking")
    stream = request.get("stream")
    if stream is not None and as_bool(stream, "stream"):
        out["stream"] = True
    return out


# ---------------------------------------------------------------------------------------------
# Response: Anthropic message -> Gemini GenerateContentResponse
# ---------------------------------------------------------------------------------------------

_FINISH_REASONS = {
    "end_turn": "STOP",
    "stop_sequence": "STOP",
    "tool_use": "STOP",  # Gemini says STOP for a turn that ends in function calls
    "pause_turn": "STOP",
    "max_tokens": "MAX_TOKENS",
    "model_context_window_exceeded": "MAX_TOKENS",
    "refusal": "SAFETY",
}


def _finish_reason(stop_reason: Any) -> str:
    return gemini_finish_reason(_FINISH_REASONS, stop_reason)


def _function_call(block: JSON) -> JSON:
    tool_input = block.get("input")
    name = nonempty(block.get("name")) or ""
    return function_call_part(nonempty(block.get("id")), name, tool_input if isinstance(tool_input, dict) else {})


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
            parts.append(_function_call(block))
        elif kind == "thinking" and thoughts:
            thinking = nonempty(block.get("thinking"))
            if thinking:
                parts.append({"text": thinking, "thought": True})
    usage = anthropic_usage(body.get("usage"))
    return {
        "candidates": [
            {
                "content": {"parts": parts_or_empty(parts), "role": "model"},
                "finishReason": _finish_reason(body.get("stop_reason")),
                "index": 0,
            }
        ],
        "usageMetadata": usage_metadata(usage),
        "modelVersion": nonempty(body.get("model")) or client_model(client_request),
        "responseId": _response_id(body.get("id")),
    }, usage


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


class AnthropicToGeminiStream(EventStreamTranslator):
    """One streamed response: Anthropic events in, Gemini `GenerateContentResponse` events out.

    Text (and thinking, when the client set `includeThoughts`) goes out as it comes; a tool_use
    block's input arrives in JSON fragments and its `functionCall` goes out whole when the block
    stops. The last event, and only it, carries the finishReason and the usage; a stream cut off
    before `message_stop` ends with finishReason OTHER, with any call not sent yet.
    """

    __slots__ = (
        "_model",
        "_thoughts",
        "_tail",
        "_started",
        "_calls",
        "_stop",
        "_counts",
    )

    def __init__(self, model: str, thoughts: bool) -> None:
        super().__init__()
        self._model = model
        self._thoughts = thoughts
        self._tail = b""  # an event after its parts
        self._started = False
        self._calls: dict[int, list[Any]] = {}  # block index -> [id, name, fragments, start input]
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
                call = self._calls.get(event_index(event))
                fragment = nonempty(delta.get("partial_json"))
                if call is not None and fragment:
                    call[2].append(fragment)
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
                start_input = block.get("input")
                self._calls[event_index(event)] = [
                    nonempty(block.get("id")),
                    nonempty(block.get("name")) or "",
                    [],
                    start_input if isinstance(start_input, dict) else {},
                ]
        elif kind == "content_block_stop":
            call = self._calls.pop(event_index(event), None)
            if call is not None:
                self._send(orjson.dumps(_call_part(call)), out)
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

    def _text(self, text: Any, out: list[bytes], thought: bool = False) -> None:
        text = nonempty(text)
        if text:
            part = b'{"text":%s,"thought":true}' if thought else b'{"text":%s}'
            self._send(part % orjson.dumps(text), out)

    def _send(self, part: bytes, out: list[bytes]) -> None:
        if not self._started:
            self._start(None)
        out.append(EVENT_START + part + self._tail)

    def _start(self, message_id: Any) -> None:
        if self._started:
            return
        self._started = True
        self._tail = b'],"role":"model"},"index":0}],"modelVersion":%s,"responseId":%s}%s' % (
            orjson.dumps(self._model),
            orjson.dumps(_response_id(message_id)),
            EVENT_END,
        )

    def _count(self, usage: Any) -> None:
        if not isinstance(usage, dict):
            return
        counts = merged_stream_usage(self._counts, usage)
        self._counts = counts
        self._usage = anthropic_usage(counts)

    def _end(self, out: list[bytes], stopped: bool) -> None:
        if not self._started:
            self._start(None)
        parts = [_call_part(call) for call in self._calls.values()]
        self._calls = {}
        if self._stop is not None:
            finish_reason = _finish_reason(self._stop)
        else:
            finish_reason = "STOP" if stopped else "OTHER"
        tail = b'],"role":"model"},"finishReason":"%s","index":0}],"usageMetadata":%s,%s' % (
            finish_reason.encode(),
            orjson.dumps(usage_metadata(self._usage or Usage())),
            self._tail[self._tail.index(b'"modelVersion"') :],
        )
        out.append(EVENT_START + b",".join(orjson.dumps(part) for part in parts_or_empty(parts)) + tail)
        self._ended = True


def _call_part(call: list[Any]) -> JSON:
    call_id, name, fragments, start_input = call
    arguments = "".join(fragments)
    if arguments:
        try:
            parsed = orjson.loads(arguments)
        except orjson.JSONDecodeError:
            parsed = None
        tool_input = parsed if isinstance(parsed, dict) else {}
    else:
        tool_input = start_input  # a compatible server that sends the input whole in the start
    return _function_call({"id": call_id, "name": name, "input": tool_input})


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
