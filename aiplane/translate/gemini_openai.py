"""Gemini generateContent clients served by an OpenAI Chat Completions provider.

A Gemini client names the model in the path (`POST /v1beta/models/{model}:generateContent`, or
`:streamGenerateContent?alt=sse`); the decision server adds it to the body as `model`, and
`stream`, before translating: they are not Gemini fields. Gemini's REST API is protobuf JSON,
which takes every field name in lowerCamelCase or as the proto's snake_case (Google's own curl
examples write `system_instruction`, `inline_data`, `mime_type`), and so does this translator.
A null field is an absent one, as in protobuf JSON.

Request fields are translated one by one; each field is either mapped, dropped because it is
only a hint the provider may ignore anyway, or refused with `UnsupportedFeature` because
dropping it would change what the client gets:

- mapped: `systemInstruction`; `contents` (roles `user` and `model`, and `function`, the old role
  of function responses) with `text`, `inlineData` images, `fileData` images at http(s) URLs,
  `functionCall` and `functionResponse` parts (see `gemini_wire.FunctionCallPairing` for their
  ids); `tools`' `functionDeclarations` (`parameters`, a Gemini Schema made JSON Schema, or
  `parametersJsonSchema`); `toolConfig.functionCallingConfig`; and in `generationConfig`:
  `temperature`, `topP`, `maxOutputTokens`, `stopSequences`, `candidateCount` (`n`),
  `presencePenalty`, `frequencyPenalty`, `seed`, `responseMimeType` with `responseSchema` or
  `responseJsonSchema` (`response_format`), `thinkingConfig` (`reasoning_effort`),
  `mediaResolution` (images' `detail`), `responseModalities: ["TEXT"]`;
- dropped hints: `safetySettings` (OpenAI takes no thresholds: the provider's own moderation
  applies, whatever the client asked for), `thought` parts and `thoughtSignature`s of earlier
  model turns (Chat Completions takes no reasoning back), function declarations' `response`
  schemas, parts' `partMetadata` and `mediaResolution`, `thinkingConfig.includeThoughts` (honoured
  by streams: see `GeminiToOpenAI.stream`), `labels`, `serviceTier`, `toolConfig.retrievalConfig`
  and `includeServerSideToolInvocations` (no server tool gets through);
- refused: `topK`, `cachedContent`, `store: true`, logprobs, output other than text (`speechConfig`,
  `imageConfig`, other `responseModalities`), server tools (`googleSearch`, `codeExecution`,
  `urlContext`, ...), `VALIDATED` function calling, non-blocking functions, inline data other
  than images, files in Google's Files API or not at an http(s) URL, multimodal function
  responses, `executableCode`, `codeExecutionResult` and `videoMetadata` parts, and any field
  this list does not name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

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
from aiplane.translate.gemini_wire import (
    BEHAVIORS as _BEHAVIORS,
)
from aiplane.translate.gemini_wire import (
    BLOB_FIELDS as _BLOB_FIELDS,
)
from aiplane.translate.gemini_wire import (
    CALL_FIELDS as _CALL_FIELDS,
)
from aiplane.translate.gemini_wire import (
    CALLING_FIELDS as _CALLING_FIELDS,
)
from aiplane.translate.gemini_wire import (
    CONTENT_FIELDS as _CONTENT_FIELDS,
)
from aiplane.translate.gemini_wire import (
    DECLARATION_FIELDS as _DECLARATION_FIELDS,
)
from aiplane.translate.gemini_wire import (
    EVENT_END,
    EVENT_START,
    NOT_JSON,
    FunctionCallPairing,
    error_event,
    file_uri_and_type,
    function_call_part,
    proto_message,
    standard_base64,
)
from aiplane.translate.gemini_wire import (
    PART_FIELDS as _PART_FIELDS,
)
from aiplane.translate.gemini_wire import (
    PART_HINTS as _PART_HINTS,
)
from aiplane.translate.gemini_wire import (
    PARTS_REFUSED as _PARTS_REFUSED,
)
from aiplane.translate.gemini_wire import (
    REQUEST_FIELDS as _REQUEST_FIELDS,
)
from aiplane.translate.gemini_wire import (
    SAFETY_FIELDS as _SAFETY_FIELDS,
)
from aiplane.translate.gemini_wire import (
    THINKING_FIELDS as _THINKING_FIELDS,
)
from aiplane.translate.gemini_wire import (
    THINKING_LEVELS as _THINKING_LEVELS,
)
from aiplane.translate.gemini_wire import (
    TOOL_CONFIG_FIELDS as _TOOL_CONFIG_FIELDS,
)
from aiplane.translate.gemini_wire import (
    TOOL_FIELDS as _TOOL_FIELDS,
)
from aiplane.translate.gemini_wire import (
    enum_value as _enum,
)
from aiplane.translate.gemini_wire import finish_reason as gemini_finish_reason
from aiplane.translate.gemini_wire import (
    google_error_body as _error_body,
)
from aiplane.translate.gemini_wire import (
    include_thoughts as _include_thoughts,
)
from aiplane.translate.gemini_wire import (
    is_thought as _is_thought,
)
from aiplane.translate.gemini_wire import (
    json_schema as _json_schema,
)
from aiplane.translate.gemini_wire import (
    json_text as _json_text,
)
from aiplane.translate.gemini_wire import (
    parts_or_empty as _parts_or_empty,
)
from aiplane.translate.gemini_wire import response_id as _response_id
from aiplane.translate.gemini_wire import (
    usage_metadata as _usage_metadata,
)
from aiplane.translate.sse import EventStreamTranslator, SSEEvent

# ---------------------------------------------------------------------------------------------
# Request: Gemini GenerateContentRequest -> OpenAI Chat Completions body
# ---------------------------------------------------------------------------------------------


_PROVIDER = "OpenAI Chat Completions"


def _refuse(param: str, what: str) -> UnsupportedFeature:
    return refuse(param, what, _PROVIDER)


def _message(value: Any, param: str, fields: frozenset[str]) -> JSON:
    return proto_message(value, param, fields, _PROVIDER)


# --- Contents ----------------------------------------------------------------------------------


def _image_part(url: str, detail: str | None) -> JSON:
    image_url = {"url": url} if detail is None else {"url": url, "detail": detail}
    return {"type": "image_url", "image_url": image_url}


def _inline_image(value: Any, param: str, detail: str | None) -> JSON:
    blob = _message(value, param, _BLOB_FIELDS)
    media_type = as_str(blob.get("mimeType"), f"{param}.mimeType")
    data = as_str(blob.get("data"), f"{param}.data")
    if not media_type.lower().startswith("image/"):
        raise _refuse(f"{param}.mimeType", f"inline data of type `{media_type}` (images only)")
    return _image_part(f"data:{media_type};base64,{standard_base64(data)}", detail)


def _file_image(value: Any, param: str, detail: str | None) -> JSON:
    uri, media_type = file_uri_and_type(value, param, _PROVIDER)
    if not media_type.lower().startswith("image/"):
        raise _refuse(f"{param}.mimeType", f"a file of type `{media_type or 'unknown'}` (images only)")
    return _image_part(uri, detail)


class _Calls(FunctionCallPairing):
    """OpenAI tool calls for a request's function calls; a call without an id gets `call_<n>`."""

    __slots__ = ()

    def call(self, value: Any, param: str) -> JSON:
        call = _message(value, param, _CALL_FIELDS)
        name = as_str(call.get("name"), f"{param}.name")
        call_id = call.get("id")
        call_id = as_str(call_id, f"{param}.id") if call_id else f"call_{self._made}"
        self._made += 1
        args = call.get("args")
        arguments = "{}" if args is None else _json_text(as_dict(args, f"{param}.args"), f"{param}.args")
        self._open.append((name, call_id))
        return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def _tool_message(value: Any, param: str, calls: _Calls) -> JSON:
    multimodal = "a multimodal function response (OpenAI tool results are text)"
    call_id, content = calls.answer_response(value, param, _PROVIDER, multimodal)
    return {"role": "tool", "tool_call_id": call_id, "content": content}


def _user_messages(parts: list[Any], param: str, calls: _Calls, detail: str | None) -> list[JSON]:
    """One user turn: its function responses first (OpenAI wants them right after the calls), then the rest."""
    tool_messages: list[JSON] = []
    content: list[JSON] = []
    for j, value in enumerate(parts):
        where = f"{param}[{j}]"
        part = _message(value, where, _PART_FIELDS)
        if _is_thought(part, where):
            continue
        for name, field in part.items():
            if field is None or name in _PART_HINTS:
                continue
            at = f"{where}.{name}"
            if name == "text":
                text = as_str(field, at)
                if text:
                    content.append({"type": "text", "text": text})
            elif name == "inlineData":
                content.append(_inline_image(field, at, detail))
            elif name == "fileData":
                content.append(_file_image(field, at, detail))
            elif name == "functionResponse":
                tool_messages.append(_tool_message(field, at, calls))
            elif name == "functionCall":
                raise invalid(at, "in a `model` turn (a user turn answers calls with `functionResponse`)")
            else:
                raise _refuse(at, _PARTS_REFUSED[name])
    if content or not tool_messages:
        # One text part goes as a plain string: every OpenAI-compatible server accepts that.
        single_text = len(content) == 1 and content[0]["type"] == "text"
        tool_messages.append({"role": "user", "content": content[0]["text"] if single_text else content or ""})
    return tool_messages


def _assistant_message(parts: list[Any], param: str, calls: _Calls) -> JSON | None:
    texts: list[str] = []
    tool_calls: list[JSON] = []
    calls.model_turn()
    for j, value in enumerate(parts):
        where = f"{param}[{j}]"
        part = _message(value, where, _PART_FIELDS)
        if _is_thought(part, where):
            continue
        for name, field in part.items():
            if field is None or name in _PART_HINTS:
                continue
            at = f"{where}.{name}"
            if name == "text":
                texts.append(as_str(field, at))
            elif name == "functionCall":
                tool_calls.append(calls.call(field, at))
            elif name in ("inlineData", "fileData"):
                raise _refuse(at, "media in a `model` turn (OpenAI takes images from the user only)")
            elif name == "functionResponse":
                raise invalid(at, "in a `user` turn (a model turn calls functions with `functionCall`)")
            else:
                raise _refuse(at, _PARTS_REFUSED[name])
    # A model turn's text parts are one answer cut into pieces, as it was streamed: joined as they are.
    text = "".join(texts)
    if not text and not tool_calls:
        return None  # nothing but thoughts: nothing OpenAI takes back
    message: JSON = {"role": "assistant", "content": text or None}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return message


def _messages(value: Any, detail: str | None) -> list[JSON]:
    contents = as_list(value, "contents")
    if not contents:
        raise invalid("contents", "a non-empty list")
    messages: list[JSON] = []
    calls = _Calls()
    for i, item in enumerate(contents):
        where = f"contents[{i}]"
        content = _message(item, where, _CONTENT_FIELDS)
        role = content.get("role") or "user"  # a single-turn request may leave it out
        parts = as_list(content.get("parts"), f"{where}.parts")
        if role == "model":
            message = _assistant_message(parts, f"{where}.parts", calls)
            if message is not None:
                messages.append(message)
        elif role in ("user", "function"):
            messages.extend(_user_messages(parts, f"{where}.parts", calls, detail))
        else:
            raise invalid(f"{where}.role", "`user` or `model`")
    if not messages:
        raise invalid("contents", "a list with more in it than thoughts")
    return messages


def _system_message(value: Any) -> JSON | None:
    content = _message(value, "systemInstruction", _CONTENT_FIELDS)
    texts = []
    for j, item in enumerate(as_list(content.get("parts"), "systemInstruction.parts")):
        where = f"systemInstruction.parts[{j}]"
        part = _message(item, where, _PART_FIELDS)
        for name, field in part.items():
            if field is None or name in _PART_HINTS:
                continue
            if name != "text":
                raise _refuse(f"{where}.{name}", f"a `{name}` part in the system instruction")
            text = as_str(field, f"{where}.text")
            if text:
                texts.append(text)
    return {"role": "system", "content": TEXT_SEPARATOR.join(texts)} if texts else None


# --- Tools -------------------------------------------------------------------------------------


def _function(value: Any, param: str) -> JSON:
    declaration = _message(value, param, _DECLARATION_FIELDS)
    function: JSON = {"name": as_str(declaration.get("name"), f"{param}.name")}
    description = declaration.get("description")
    if description is not None:
        function["description"] = as_str(description, f"{param}.description")
    parameters, json_schema = declaration.get("parameters"), declaration.get("parametersJsonSchema")
    if parameters is not None and json_schema is not None:
        raise invalid(f"{param}.parametersJsonSchema", "left out when `parameters` is set")
    if parameters is not None:
        function["parameters"] = _json_schema(parameters, f"{param}.parameters")
    elif json_schema is not None:
        function["parameters"] = as_dict(json_schema, f"{param}.parametersJsonSchema")
    # Without parameters, OpenAI takes a function with none, as Gemini does.
    behavior = declaration.get("behavior")
    if behavior is not None and not _enum(behavior, f"{param}.behavior", _BEHAVIORS):
        raise _refuse(f"{param}.behavior", "a non-blocking function")
    # `response` and `responseJsonSchema` describe what the function returns: the model sees it
    # in the function response anyway, and OpenAI has nowhere to say it.
    return {"type": "function", "function": function}


def _functions(value: Any) -> list[JSON]:
    functions = []
    for i, item in enumerate(as_list(value, "tools")):
        where = f"tools[{i}]"
        tool = _message(item, where, _TOOL_FIELDS)
        for name, field in tool.items():
            if field is None:
                continue
            if name != "functionDeclarations":
                raise _refuse(f"{where}.{name}", f"Gemini's server tool `{name}`")
            at = f"{where}.functionDeclarations"
            functions.extend(_function(declaration, f"{at}[{j}]") for j, declaration in enumerate(as_list(field, at)))
    return functions


_MODES = {"MODE_UNSPECIFIED": "auto", "AUTO": "auto", "ANY": "required", "NONE": "none", "VALIDATED": None}


def _apply_tool_config(value: Any, out: JSON) -> None:
    """Gemini's function calling mode as OpenAI's `tool_choice`.

    `allowedFunctionNames` limits the functions the model may call: one name with `ANY` is
    OpenAI's named choice; otherwise the tools sent are those named, which no model can tell apart.
    """
    config = _message(value, "toolConfig", _TOOL_CONFIG_FIELDS)
    calling = config.get("functionCallingConfig")
    tools = out.get("tools")
    if calling is None:
        return
    where = "toolConfig.functionCallingConfig"
    calling = _message(calling, where, _CALLING_FIELDS)
    mode = calling.get("mode")
    choice = "auto" if mode is None else _enum(mode, f"{where}.mode", _MODES)
    if choice is None:
        raise _refuse(f"{where}.mode", "function calling validated against the schemas (`VALIDATED`)")
    allowed = calling.get("allowedFunctionNames")
    names = [] if allowed is None else as_list(allowed, f"{where}.allowedFunctionNames")
    names = [as_str(name, f"{where}.allowedFunctionNames[{i}]") for i, name in enumerate(names)]
    if not tools:
        return  # OpenAI rejects a tool_choice without tools
    if names and choice != "none":
        declared = {tool["function"]["name"] for tool in tools}
        for i, name in enumerate(names):
            if name not in declared:
                raise invalid(f"{where}.allowedFunctionNames[{i}]", f"the name of a declared function (`{name}`)")
        if choice == "required" and len(names) == 1:
            out["tool_choice"] = {"type": "function", "function": {"name": names[0]}}
            return
        out["tools"] = [tool for tool in tools if tool["function"]["name"] in names]
    out["tool_choice"] = choice


def _check_safety_settings(value: Any) -> None:
    for i, item in enumerate(as_list(value, "safetySettings")):
        _message(item, f"safetySettings[{i}]", _SAFETY_FIELDS)


# --- generationConfig --------------------------------------------------------------------------

# An image's `detail` for a media resolution; the others leave the choice to the provider.
_MEDIA_RESOLUTIONS = {
    "MEDIA_RESOLUTION_UNSPECIFIED": None,
    "MEDIA_RESOLUTION_LOW": "low",
    "MEDIA_RESOLUTION_MEDIUM": None,
    "MEDIA_RESOLUTION_HIGH": "high",
    "MEDIA_RESOLUTION_ULTRA_HIGH": "high",
}
_CONFIG_PARAM = "generationConfig"


def _apply_thinking(value: Any, out: JSON) -> None:
    # A budget becomes the nearest of OpenAI's three efforts; 0 (thinking off) and -1 (the
    # model decides) leave the choice to the model, which is what omitting `reasoning_effort`
    # does: models that cannot stop thinking reject the efforts that ask it to.
    where = f"{_CONFIG_PARAM}.thinkingConfig"
    thinking = _message(value, where, _THINKING_FIELDS)
    include = thinking.get("includeThoughts")
    if include is not None:
        as_bool(include, f"{where}.includeThoughts")
    budget, level = thinking.get("thinkingBudget"), thinking.get("thinkingLevel")
    if budget is not None and level is not None:
        raise invalid(f"{where}.thinkingLevel", "left out when `thinkingBudget` is set")
    if level is not None:
        effort = _enum(level, f"{where}.thinkingLevel", _THINKING_LEVELS)
        if effort is not None:
            out["reasoning_effort"] = effort
    elif budget is not None:
        budget = as_int(budget, f"{where}.thinkingBudget")
        if budget > 0:
            out["reasoning_effort"] = effort_for_budget(budget)
        elif budget not in (0, -1):
            raise invalid(f"{where}.thinkingBudget", "-1 (dynamic), 0 (off) or a number of tokens")


def _apply_response_format(config: JSON, out: JSON) -> None:
    media_type = config.get("responseMimeType")
    media_type = None if media_type is None else as_str(media_type, f"{_CONFIG_PARAM}.responseMimeType").lower()
    schema, json_schema = config.get("responseSchema"), config.get("responseJsonSchema")
    if schema is not None and json_schema is not None:
        raise invalid(f"{_CONFIG_PARAM}.responseJsonSchema", "left out when `responseSchema` is set")
    if schema is not None or json_schema is not None:
        if media_type != "application/json":
            raise invalid(f"{_CONFIG_PARAM}.responseMimeType", "`application/json` with a response schema")
        if schema is not None:
            schema = _json_schema(schema, f"{_CONFIG_PARAM}.responseSchema")
        else:
            schema = as_dict(json_schema, f"{_CONFIG_PARAM}.responseJsonSchema")
        out["response_format"] = {"type": "json_schema", "json_schema": {"name": "response", "schema": schema}}
    elif media_type == "application/json":
        out["response_format"] = {"type": "json_object"}
    elif media_type not in (None, "text/plain"):
        raise _refuse(f"{_CONFIG_PARAM}.responseMimeType", f"a response of type `{media_type}`")


def _copy_number(name: str, to: str) -> Callable[[Any, JSON], None]:
    def apply(value: Any, out: JSON) -> None:
        out[to] = as_number(value, f"{_CONFIG_PARAM}.{name}")

    return apply


def _apply_max_output_tokens(value: Any, out: JSON) -> None:
    # `max_tokens`, not `max_completion_tokens`, as for Anthropic clients: every OpenAI-compatible
    # server takes it (OpenAI's o-series and gpt-5 models take only the newer name).
    out["max_tokens"] = as_int(value, f"{_CONFIG_PARAM}.maxOutputTokens")


def _apply_stop_sequences(value: Any, out: JSON) -> None:
    where = f"{_CONFIG_PARAM}.stopSequences"
    stops = [as_str(stop, f"{where}[{i}]") for i, stop in enumerate(as_list(value, where))]
    if stops:
        out["stop"] = stops


def _apply_candidate_count(value: Any, out: JSON) -> None:
    n = as_int(value, f"{_CONFIG_PARAM}.candidateCount")
    if n < 1:
        raise invalid(f"{_CONFIG_PARAM}.candidateCount", "at least 1")
    if n > 1:
        out["n"] = n


def _apply_seed(value: Any, out: JSON) -> None:
    out["seed"] = as_int(value, f"{_CONFIG_PARAM}.seed")


def _apply_modalities(value: Any, out: JSON) -> None:
    where = f"{_CONFIG_PARAM}.responseModalities"
    for i, modality in enumerate(as_list(value, where)):
        if as_str(modality, f"{where}[{i}]").upper() != "TEXT":
            raise _refuse(f"{where}[{i}]", f"output of modality `{modality}`")


def _check_int(value: Any, out: JSON) -> None:
    as_int(value, f"{_CONFIG_PARAM}.logprobs")  # inert without responseLogprobs, which is refused


def _only(noop: Callable[[Any], bool], name: str, what: str) -> Callable[[Any, JSON], None]:
    """A field the provider cannot honour, accepted with the one value that asks for nothing."""

    def apply(value: Any, out: JSON) -> None:
        if not noop(value):
            raise _refuse(f"{_CONFIG_PARAM}.{name}", what)

    return apply


def _never(value: Any) -> bool:
    return False


def _is_false(value: Any) -> bool:
    return value is False


def _together(value: Any, out: JSON) -> None:
    """Translated with other fields, after the others."""


# Every field of a generationConfig, and what becomes of it.
_CONFIG: dict[str, Callable[[Any, JSON], None]] = {
    "temperature": _copy_number("temperature", "temperature"),
    "topP": _copy_number("topP", "top_p"),
    "presencePenalty": _copy_number("presencePenalty", "presence_penalty"),
    "frequencyPenalty": _copy_number("frequencyPenalty", "frequency_penalty"),
    "maxOutputTokens": _apply_max_output_tokens,
    "stopSequences": _apply_stop_sequences,
    "candidateCount": _apply_candidate_count,
    "seed": _apply_seed,
    "responseModalities": _apply_modalities,
    "thinkingConfig": _apply_thinking,
    "responseMimeType": _together,
    "responseSchema": _together,
    "responseJsonSchema": _together,
    "mediaResolution": _together,  # read before the contents, for their images
    "logprobs": _check_int,
    "topK": _only(_never, "topK", "top-k sampling (`topK`)"),
    "responseLogprobs": _only(_is_false, "responseLogprobs", "log probabilities"),
    "speechConfig": _only(_never, "speechConfig", "speech output"),
    "imageConfig": _only(_never, "imageConfig", "image output"),
    "audioTimestamp": _only(_is_false, "audioTimestamp", "audio timestamps"),
    "enableAffectiveDialog": _only(_is_false, "enableAffectiveDialog", "affective dialog"),
    "enableEnhancedCivicAnswers": _only(_is_false, "enableEnhancedCivicAnswers", "Gemini's enhanced civic answers"),
    "routingConfig": _only(_never, "routingConfig", "Vertex AI's model routing"),
    "modelSelectionConfig": _only(_never, "modelSelectionConfig", "Vertex AI's model selection"),
}
_CONFIG_FIELDS = frozenset(_CONFIG)


def _apply_generation_config(config: JSON, out: JSON) -> None:
    for name, value in config.items():
        if value is not None:
            _CONFIG[name](value, out)
    _apply_response_format(config, out)


def _image_detail(config: JSON) -> str | None:
    resolution = config.get("mediaResolution")
    if resolution is None:
        return None
    detail: str | None = _enum(resolution, f"{_CONFIG_PARAM}.mediaResolution", _MEDIA_RESOLUTIONS)
    return detail


# --- The request -------------------------------------------------------------------------------


def translate_request(body: JSON, upstream_model: str) -> JSON:
    if not isinstance(body, dict):
        raise invalid("body", "a JSON object")
    request = _message(body, "", _REQUEST_FIELDS)
    config = request.get("generationConfig")
    config = {} if config is None else _message(config, _CONFIG_PARAM, _CONFIG_FIELDS)
    messages = _messages(request.get("contents"), _image_detail(config))
    system = request.get("systemInstruction")
    if system is not None:
        system_message = _system_message(system)
        if system_message is not None:
            messages.insert(0, system_message)
    out: JSON = {"model": upstream_model, "messages": messages}
    _apply_generation_config(config, out)
    tools = request.get("tools")
    if tools is not None:
        functions = _functions(tools)
        if functions:  # OpenAI rejects an empty `tools` list
            out["tools"] = functions
    tool_config = request.get("toolConfig")
    if tool_config is not None:
        _apply_tool_config(tool_config, out)
    safety_settings = request.get("safetySettings")
    if safety_settings is not None:
        _check_safety_settings(safety_settings)
    if request.get("cachedContent") is not None:
        raise _refuse("cachedContent", "content cached with Google (`cachedContent`)")
    store = request.get("store")
    if store is not None and as_bool(store, "store"):
        raise _refuse("store", "storing the response with the provider")
    labels = request.get("labels")
    if labels is not None:
        as_dict(labels, "labels")  # billing labels of Google's: the provider bills its own way
    if request.get("stream") is True:
        out["stream"] = True
        out["stream_options"] = {"include_usage": True}  # else OpenAI streams report no usage
    return out


# ---------------------------------------------------------------------------------------------
# Response: OpenAI chat.completion -> Gemini GenerateContentResponse
# ---------------------------------------------------------------------------------------------

# Gemini reports STOP for a turn that ends in function calls; `function_call` is OpenAI's old name.
_FINISH_REASONS = {
    "stop": "STOP",
    "length": "MAX_TOKENS",
    "tool_calls": "STOP",
    "function_call": "STOP",
    "content_filter": "SAFETY",
}


def _finish_reason(reason: Any) -> str:
    """Gemini's finishReason for an OpenAI finish_reason."""
    return gemini_finish_reason(_FINISH_REASONS, reason)


def _candidate(choice: JSON, position: int, thoughts: bool) -> JSON:
    message = choice.get("message")
    message = message if isinstance(message, dict) else {}
    parts: list[JSON] = []
    reasoning = openai_reasoning(message) if thoughts else None
    if reasoning:
        parts.append({"text": reasoning, "thought": True})
    for key in ("content", "refusal"):
        text = nonempty(message.get(key))
        if text:
            parts.append({"text": text})
    tool_calls = message.get("tool_calls")
    for call in tool_calls if isinstance(tool_calls, list) else ():
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict):
            name = nonempty(function.get("name")) or ""
            parts.append(function_call_part(nonempty(call.get("id")), name, tool_arguments(function.get("arguments"))))
    index = choice.get("index")
    return {
        "content": {"parts": _parts_or_empty(parts), "role": "model"},
        "finishReason": _finish_reason(choice.get("finish_reason")),
        "index": index if isinstance(index, int) and not isinstance(index, bool) else position,
    }


def translate_response(body: Any, client_request: JSON) -> tuple[JSON, Usage]:
    """Reasoning text a provider returns becomes `thought` parts only for a client that asked
    (`includeThoughts`), as Gemini itself does."""
    body = body if isinstance(body, dict) else {}
    choices = body.get("choices")
    choices = [choice for choice in choices if isinstance(choice, dict)] if isinstance(choices, list) else []
    thoughts = _include_thoughts(client_request)
    candidates = [_candidate(choice, position, thoughts) for position, choice in enumerate(choices)]
    if not candidates:
        candidates = [{"content": {"parts": _parts_or_empty([]), "role": "model"}, "finishReason": "OTHER", "index": 0}]
    usage = openai_usage(body.get("usage"))
    return {
        "candidates": candidates,
        "usageMetadata": _usage_metadata(usage),
        "modelVersion": nonempty(body.get("model")) or client_model(client_request),
        "responseId": _response_id(body.get("id")),
    }, usage


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def translate_error(status: int, body: bytes) -> bytes:
    message, _ = read_provider_error(status, body)
    return _error_body(status, message)


# ---------------------------------------------------------------------------------------------
# Streaming: OpenAI chat.completion.chunk events -> Gemini GenerateContentResponse events
# ---------------------------------------------------------------------------------------------

_DONE = b"[DONE]"


class _Choice:
    """One candidate's state: its function calls, whose arguments arrive in fragments."""

    __slots__ = ("calls", "open", "finish_reason")

    def __init__(self) -> None:
        # call key -> [id, name, argument fragments, sent]; insertion ordered
        self.calls: dict[object, list[Any]] = {}
        self.open: object = None  # the key of the call whose fragments arrive now
        self.finish_reason: Any = None


class OpenAIToGeminiStream(EventStreamTranslator):
    """One streamed response: OpenAI chunks in, Gemini `GenerateContentResponse` events out.

    Text goes out as it comes. Gemini sends a function call whole, so a call's argument
    fragments are kept until the next call starts (and the call is sent then, when its arguments
    are a whole JSON object: a server that interleaves two calls' fragments loses none) or the
    stream ends. The last event, and only it, carries the finishReason of every candidate, the
    calls not sent yet and the usage, which OpenAI reports after the finish_reason. A stream cut
    off before the provider said it finished ends with finishReason OTHER.
    """

    __slots__ = (
        "_model",
        "_include_thoughts",
        "_response_id",
        "_tail",
        "_event_ends",
        "_started",
        "_choices",
    )

    def __init__(self, model: str, include_thoughts: bool) -> None:
        super().__init__()
        self._model = model
        self._include_thoughts = include_thoughts
        self._response_id = ""
        self._tail = b""  # the end of every event after its candidates
        self._event_ends: dict[int, bytes] = {}  # candidate index -> the bytes after its parts
        self._started = False
        self._choices: dict[int, _Choice] = {}

    def _on_cut(self, out: list[bytes]) -> None:
        self._end(out, done=False)

    def _on_event(self, event: SSEEvent, out: list[bytes]) -> None:
        data = event.data
        if data == _DONE:
            self._end(out, done=True)
            return
        chunk = self._json_object(data, NOT_JSON, out)
        if chunk is None:
            return
        error = chunk.get("error")
        if error is not None:
            status, message = openai_stream_error(error)
            out.append(error_event(status, message))
            self._ended = True
            return
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            self._usage = openai_usage(usage)
        if not self._started:
            self._start(chunk.get("id"))
        choices = chunk.get("choices")
        if isinstance(choices, list):
            for choice in choices:
                if isinstance(choice, dict):
                    self._on_choice(choice, out)

    def _on_choice(self, choice: JSON, out: list[bytes]) -> None:
        index = choice.get("index")
        index = index if isinstance(index, int) and not isinstance(index, bool) else 0
        state = self._choices.get(index)
        if state is None:
            state = self._choices[index] = _Choice()
        delta = choice.get("delta")
        if isinstance(delta, dict):
            if self._include_thoughts:
                reasoning = openai_reasoning(delta)
                if reasoning:
                    self._send(index, b'{"text":%s,"thought":true}' % orjson.dumps(reasoning), out)
            for key in ("content", "refusal"):
                text = nonempty(delta.get(key))
                if text:
                    self._send(index, b'{"text":%s}' % orjson.dumps(text), out)
            tool_calls = delta.get("tool_calls")
            if isinstance(tool_calls, list):
                for call in tool_calls:
                    if isinstance(call, dict):
                        self._on_tool_call(state, index, call, out)
        finish_reason = choice.get("finish_reason")
        if finish_reason is not None:
            state.finish_reason = finish_reason

    def _on_tool_call(self, state: _Choice, index: int, call: JSON, out: list[bytes]) -> None:
        # OpenAI keys a call's deltas by `index`; a server that sends none keys them by `id`,
        # or continues the open call. Keys are tuples so none equals another kind.
        call_index, call_id = call.get("index"), call.get("id")
        if isinstance(call_index, int) and not isinstance(call_index, bool):
            key: object = ("index", call_index)
        elif isinstance(call_id, str):
            key = ("id", call_id)
        else:
            key = state.open if state.open is not None else ("index", 0)
        function = call.get("function")
        function = function if isinstance(function, dict) else {}
        entry = state.calls.get(key)
        if entry is None:
            if state.open is not None:
                self._send_if_whole(state, index, out)
            entry = state.calls[key] = [nonempty(call_id), nonempty(function.get("name")) or "", [], False]
            state.open = key
        arguments = nonempty(function.get("arguments"))
        if arguments and not entry[3]:
            entry[2].append(arguments)

    def _send_if_whole(self, state: _Choice, index: int, out: list[bytes]) -> None:
        entry = state.calls[state.open]
        if entry[3]:
            return
        arguments = "".join(entry[2])
        try:
            args = orjson.loads(arguments) if arguments.strip() else {}
        except orjson.JSONDecodeError:
            return  # not whole yet: its fragments may still come
        if isinstance(args, dict):
            entry[3] = True
            self._send(index, orjson.dumps(function_call_part(entry[0], entry[1], args)), out)

    def _send(self, index: int, part: bytes, out: list[bytes]) -> None:
        end = self._event_ends.get(index)
        if end is None:
            end = self._event_ends[index] = b'],"role":"model"},"index":%d}],%s' % (index, self._tail)
        out.append(EVENT_START + part + end)

    def _start(self, completion_id: Any) -> None:
        self._started = True
        self._response_id = _response_id(completion_id)
        self._tail = b'"modelVersion":%s,"responseId":%s}%s' % (
            orjson.dumps(self._model),
            orjson.dumps(self._response_id),
            EVENT_END,
        )

    def _end(self, out: list[bytes], done: bool) -> None:
        if not self._started:
            self._start(None)
        choices = self._choices or {0: _Choice()}
        candidates = []
        for index in sorted(choices):
            state = choices[index]
            parts = [
                function_call_part(call_id, name, tool_arguments("".join(fragments) or "{}"))
                for call_id, name, fragments, sent in state.calls.values()
                if not sent
            ]
            if state.finish_reason is not None:
                finish_reason = _finish_reason(state.finish_reason)
            else:
                finish_reason = "STOP" if done else "OTHER"  # the provider said [DONE], or nothing
            candidates.append(
                {
                    "content": {"parts": _parts_or_empty(parts), "role": "model"},
                    "finishReason": finish_reason,
                    "index": index,
                }
            )
        event = {
            "candidates": candidates,
            "usageMetadata": _usage_metadata(self._usage or Usage()),
            "modelVersion": self._model,
            "responseId": self._response_id,
        }
        out.append(b"data: " + orjson.dumps(event) + EVENT_END)
        self._ended = True


class GeminiToOpenAI:
    """Gemini generateContent clients, OpenAI Chat Completions providers."""

    client = "gemini"
    provider = "openai"

    def request(self, body: JSON, upstream_model: str) -> JSON:
        return translate_request(body, upstream_model)

    def response(self, body: JSON, client_request: JSON) -> tuple[JSON, Usage]:
        return translate_response(body, client_request)

    def stream(self, client_request: JSON) -> StreamTranslator:
        """Reasoning text goes to the client as `thought` parts when it set `includeThoughts`."""
        return OpenAIToGeminiStream(client_model(client_request), _include_thoughts(client_request))

    def error(self, status: int, body: bytes) -> bytes:
        return translate_error(status, body)
