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
    Param,
    as_dict,
    as_int,
    as_number,
    as_str,
    as_str_list,
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
    CONFIG,
    NOT_JSON,
    NOT_ONLY_THOUGHTS,
    FunctionCallPairing,
    GeminiStream,
    Parts,
    candidate,
    check_dropped_fields,
    check_text_output,
    enum_value,
    error_event,
    file_uri_and_type,
    finish_reason,
    function_call_part,
    function_calling,
    generate_content_response,
    google_error_body,
    include_thoughts,
    inline_data,
    json_schema,
    output_schema,
    proto_message,
    read_request,
    response_id,
    streamed_call_part,
    system_texts,
    thinking_config,
    turns,
)
from aiplane.translate.sse import SSEEvent

# ---------------------------------------------------------------------------------------------
# Request: Gemini GenerateContentRequest -> OpenAI Chat Completions body
# ---------------------------------------------------------------------------------------------


_PROVIDER = "OpenAI Chat Completions"


def _refuse(param: Param, what: str) -> UnsupportedFeature:
    return refuse(param, what, _PROVIDER)


# --- Contents ----------------------------------------------------------------------------------


def _image_part(url: str, detail: str | None) -> JSON:
    image_url = {"url": url} if detail is None else {"url": url, "detail": detail}
    return {"type": "image_url", "image_url": image_url}


def _inline_image(value: Any, param: Param, detail: str | None) -> JSON:
    media_type, data, _ = inline_data(value, param, _PROVIDER)
    if not media_type.lower().startswith("image/"):
        raise _refuse((param, "mimeType"), f"inline data of type `{media_type}` (images only)")
    return _image_part(f"data:{media_type};base64,{data}", detail)


def _file_image(value: Any, param: Param, detail: str | None) -> JSON:
    uri, media_type = file_uri_and_type(value, param, _PROVIDER)
    if not media_type.lower().startswith("image/"):
        raise _refuse((param, "mimeType"), f"a file of type `{media_type or 'unknown'}` (images only)")
    return _image_part(uri, detail)


def _tool_call(value: Any, param: Param, calls: FunctionCallPairing) -> JSON:
    call_id, name, _, arguments = calls.call(value, param)
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def _tool_message(value: Any, param: Param, calls: FunctionCallPairing) -> JSON:
    multimodal = "a multimodal function response (OpenAI tool results are text)"
    call_id, _, content = calls.answer_response(value, param, multimodal)
    return {"role": "tool", "tool_call_id": call_id, "content": content}


def _user_messages(parts: Parts, calls: FunctionCallPairing, detail: str | None) -> list[JSON]:
    """One user turn: its function responses first (OpenAI wants them right after the calls), then the rest."""
    tool_messages: list[JSON] = []
    content: list[JSON] = []
    for name, at, field in parts:
        if name == "text":
            text = as_str(field, at)
            if text:
                content.append({"type": "text", "text": text})
        elif name == "inlineData":
            content.append(_inline_image(field, at, detail))
        elif name == "fileData":
            content.append(_file_image(field, at, detail))
        else:  # functionResponse
            tool_messages.append(_tool_message(field, at, calls))
    if content or not tool_messages:
        # One text part goes as a plain string: every OpenAI-compatible server accepts that.
        single_text = len(content) == 1 and content[0]["type"] == "text"
        tool_messages.append({"role": "user", "content": content[0]["text"] if single_text else content or ""})
    return tool_messages


def _assistant_message(parts: Parts, calls: FunctionCallPairing) -> JSON | None:
    texts: list[str] = []
    tool_calls: list[JSON] = []
    for name, at, field in parts:
        if name == "text":
            texts.append(as_str(field, at))
        elif name == "functionCall":
            tool_calls.append(_tool_call(field, at, calls))
        else:
            raise _refuse(at, "media in a `model` turn (OpenAI takes images from the user only)")
    # A model turn's text parts are one answer cut into pieces, as it was streamed: joined as they are.
    text = "".join(texts)
    if not text and not tool_calls:
        return None  # nothing but thoughts: nothing OpenAI takes back
    message: JSON = {"role": "assistant", "content": text or None}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return message


def _messages(value: Any, detail: str | None) -> list[JSON]:
    messages: list[JSON] = []
    calls = FunctionCallPairing(_PROVIDER, "call_")
    for model, parts in turns(value, calls):
        if model:
            message = _assistant_message(parts, calls)
            if message is not None:
                messages.append(message)
        else:
            messages.extend(_user_messages(parts, calls, detail))
    if not messages:
        raise invalid("contents", NOT_ONLY_THOUGHTS)
    return messages


def _system_message(value: Any) -> JSON | None:
    texts = system_texts(value, _PROVIDER)
    return {"role": "system", "content": TEXT_SEPARATOR.join(texts)} if texts else None


# --- Tools -------------------------------------------------------------------------------------


def _function(name: str, description: str | None, parameters: JSON | None) -> JSON:
    function: JSON = {"name": name}
    if description is not None:
        function["description"] = description
    if parameters is not None:  # without, OpenAI takes a function with none, as Gemini does
        function["parameters"] = parameters
    return {"type": "function", "function": function}


_TOOL_CHOICES = {"auto": "auto", "any": "required", "none": "none"}  # OpenAI's for Gemini's modes


def _apply_tools(request: JSON, out: JSON) -> None:
    """The declared functions as `tools`, and Gemini's function calling mode as OpenAI's `tool_choice`."""
    functions, mode, named = function_calling(request, _PROVIDER)
    if not functions:
        return  # OpenAI rejects an empty `tools` list, and a tool_choice without tools
    out["tools"] = [_function(*function) for function in functions]
    if named is not None:
        out["tool_choice"] = {"type": "function", "function": {"name": named}}
    elif mode is not None:
        out["tool_choice"] = _TOOL_CHOICES[mode]


# --- generationConfig --------------------------------------------------------------------------

# An image's `detail` for a media resolution; the others leave the choice to the provider.
_MEDIA_RESOLUTIONS = {
    "MEDIA_RESOLUTION_UNSPECIFIED": None,
    "MEDIA_RESOLUTION_LOW": "low",
    "MEDIA_RESOLUTION_MEDIUM": None,
    "MEDIA_RESOLUTION_HIGH": "high",
    "MEDIA_RESOLUTION_ULTRA_HIGH": "high",
}


def _apply_thinking(value: Any, out: JSON) -> None:
    # A budget becomes the nearest of OpenAI's three efforts; 0 (thinking off) and -1 (the model
    # decides) leave the choice to the model, which is what omitting `reasoning_effort` does:
    # models that cannot stop thinking reject the efforts that ask it to.
    level, budget = thinking_config(value, _PROVIDER)
    effort = level if budget is None else effort_for_budget(budget) if budget > 0 else None
    if effort is not None:
        out["reasoning_effort"] = effort


def _apply_response_format(config: JSON, out: JSON) -> None:
    media_type = config.get("responseMimeType")
    media_type = None if media_type is None else as_str(media_type, (CONFIG, "responseMimeType")).lower()
    schema, raw_schema = config.get("responseSchema"), config.get("responseJsonSchema")
    if output_schema(media_type, schema, raw_schema) is not None:
        if schema is not None:
            schema = json_schema(schema, (CONFIG, "responseSchema"))
        else:
            schema = as_dict(raw_schema, (CONFIG, "responseJsonSchema"))
        out["response_format"] = {"type": "json_schema", "json_schema": {"name": "response", "schema": schema}}
    elif media_type == "application/json":
        out["response_format"] = {"type": "json_object"}
    elif media_type not in (None, "text/plain"):
        raise _refuse(f"{CONFIG}.responseMimeType", f"a response of type `{media_type}`")


def _copy_number(name: str, to: str) -> Callable[[Any, JSON], None]:
    def apply(value: Any, out: JSON) -> None:
        out[to] = as_number(value, (CONFIG, name))

    return apply


def _apply_max_output_tokens(value: Any, out: JSON) -> None:
    # `max_tokens`, not `max_completion_tokens`, as for Anthropic clients: every OpenAI-compatible
    # server takes it (OpenAI's o-series and gpt-5 models take only the newer name).
    out["max_tokens"] = as_int(value, (CONFIG, "maxOutputTokens"))


def _apply_stop_sequences(value: Any, out: JSON) -> None:
    stops = as_str_list(value, (CONFIG, "stopSequences"))
    if stops:
        out["stop"] = stops


def _apply_candidate_count(value: Any, out: JSON) -> None:
    n = as_int(value, (CONFIG, "candidateCount"))
    if n < 1:
        raise invalid(f"{CONFIG}.candidateCount", "at least 1")
    if n > 1:
        out["n"] = n


def _apply_seed(value: Any, out: JSON) -> None:
    out["seed"] = as_int(value, (CONFIG, "seed"))


def _apply_modalities(value: Any, out: JSON) -> None:
    check_text_output(value, (CONFIG, "responseModalities"), _PROVIDER)


def _check_int(value: Any, out: JSON) -> None:
    as_int(value, (CONFIG, "logprobs"))  # inert without responseLogprobs, which is refused


def _only(noop: Callable[[Any], bool], name: str, what: str) -> Callable[[Any, JSON], None]:
    """A field the provider cannot honour, accepted with the one value that asks for nothing."""

    def apply(value: Any, out: JSON) -> None:
        if not noop(value):
            raise _refuse(f"{CONFIG}.{name}", what)

    return apply


def _never(value: Any) -> bool:
    return False


def _is_false(value: Any) -> bool:
    return value is False


def _together(value: Any, out: JSON) -> None:
    """Translated with other fields, after the others."""


# Every field of a generationConfig, and what becomes of it.
_APPLY: dict[str, Callable[[Any, JSON], None]] = {
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
_CONFIG_FIELDS = frozenset(_APPLY)


def _apply_generation_config(config: JSON, out: JSON) -> None:
    for name, value in config.items():
        if value is not None:
            _APPLY[name](value, out)
    _apply_response_format(config, out)


def _image_detail(config: JSON) -> str | None:
    resolution = config.get("mediaResolution")
    if resolution is None:
        return None
    detail: str | None = enum_value(resolution, (CONFIG, "mediaResolution"), _MEDIA_RESOLUTIONS)
    return detail


# --- The request -------------------------------------------------------------------------------


def translate_request(body: JSON, upstream_model: str) -> JSON:
    request = read_request(body, _PROVIDER)
    config = request.get("generationConfig")
    config = {} if config is None else proto_message(config, CONFIG, _CONFIG_FIELDS, _PROVIDER)
    messages = _messages(request.get("contents"), _image_detail(config))
    system = request.get("systemInstruction")
    if system is not None:
        system_message = _system_message(system)
        if system_message is not None:
            messages.insert(0, system_message)
    out: JSON = {"model": upstream_model, "messages": messages}
    _apply_generation_config(config, out)
    _apply_tools(request, out)
    check_dropped_fields(request, _PROVIDER)
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
            arguments = tool_arguments(function.get("arguments"))
            parts.append(function_call_part(call.get("id"), function.get("name"), arguments))
    index = choice.get("index")
    index = index if isinstance(index, int) and not isinstance(index, bool) else position
    return candidate(parts, finish_reason(_FINISH_REASONS, choice.get("finish_reason")), index)


def translate_response(body: Any, client_request: JSON) -> tuple[JSON, Usage]:
    """Reasoning text a provider returns becomes `thought` parts only for a client that asked
    (`includeThoughts`), as Gemini itself does."""
    body = body if isinstance(body, dict) else {}
    choices = body.get("choices")
    choices = [choice for choice in choices if isinstance(choice, dict)] if isinstance(choices, list) else []
    thoughts = include_thoughts(client_request)
    candidates = [_candidate(choice, position, thoughts) for position, choice in enumerate(choices)]
    usage = openai_usage(body.get("usage"))
    model = nonempty(body.get("model")) or client_model(client_request)
    if not candidates:
        candidates = [candidate([], "OTHER")]
    return generate_content_response(candidates, usage, model, response_id(body.get("id"))), usage


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def translate_error(status: int, body: bytes) -> bytes:
    message, _ = read_provider_error(status, body)
    return google_error_body(status, message)


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


class OpenAIToGeminiStream(GeminiStream):
    """One streamed response: OpenAI chunks in, Gemini `GenerateContentResponse` events out.

    Text goes out as it comes. Gemini sends a function call whole, so a call's argument
    fragments are kept until the next call starts (and the call is sent then, when its arguments
    are a whole JSON object: a server that interleaves two calls' fragments loses none) or the
    stream ends. The last event, and only it, carries the finishReason of every candidate, the
    calls not sent yet and the usage, which OpenAI reports after the finish_reason. A stream cut
    off before the provider said it finished ends with finishReason OTHER.
    """

    __slots__ = ("_choices",)

    def __init__(self, model: str, include_thoughts: bool) -> None:
        super().__init__(model, include_thoughts)
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
        if not self._id:
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
            if self._thoughts:
                self._text(openai_reasoning(delta), out, True, index)
            for key in ("content", "refusal"):
                text = delta.get(key)
                if text:  # most deltas have only one of them
                    self._text(text, out, False, index)
            tool_calls = delta.get("tool_calls")
            if isinstance(tool_calls, list):
                for call in tool_calls:
                    if isinstance(call, dict):
                        self._on_tool_call(state, index, call, out)
        reason = choice.get("finish_reason")
        if reason is not None:
            state.finish_reason = reason

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
            self._send(orjson.dumps(function_call_part(entry[0], entry[1], args)), out, index)

    def _end(self, out: list[bytes], done: bool) -> None:
        choices = self._choices or {0: _Choice()}
        candidates = []
        for index in sorted(choices):
            state = choices[index]
            parts = [
                streamed_call_part(call_id, name, fragments, {})
                for call_id, name, fragments, sent in state.calls.values()
                if not sent
            ]
            # Without a finish_reason: STOP when the provider said [DONE], OTHER when it said nothing.
            candidates.append(candidate(parts, finish_reason(_FINISH_REASONS, state.finish_reason, done), index))
        self._last(candidates, out)


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
        return OpenAIToGeminiStream(client_model(client_request), include_thoughts(client_request))

    def error(self, status: int, body: bytes) -> bytes:
        return translate_error(status, body)
