"""OpenAI Chat Completions clients served by a Gemini `generateContent` provider.

The provider is called at `/v1beta/models/{model}:generateContent`, or at
`:streamGenerateContent?alt=sse` to stream: the decision server builds that path, so the body
names no model and says nothing about streaming. Request fields are translated one by one;
each is mapped, dropped because it is only a hint the provider may ignore anyway, or refused
with `UnsupportedFeature` because dropping it would change what the client gets. A field that
is null, or that holds the value which asks for nothing (`n: 1`, `logprobs: false`,
`presence_penalty: 0`, ...), is accepted:

- mapped: `messages` (`system` and `developer` messages become `systemInstruction`; text,
  image, file and input audio parts; assistant `tool_calls` become `functionCall` parts;
  `tool` messages become `functionResponse` parts), `tools` (their JSON Schema as
  `parametersJsonSchema`, which takes full JSON Schema), `tool_choice`, `stop`, `temperature`,
  `top_p`, `max_completion_tokens`/`max_tokens`, `seed`, non-zero `presence_penalty` and
  `frequency_penalty`, `response_format` (`json_object` and `json_schema`, the latter as
  `responseJsonSchema`) and `reasoning_effort` (a thinking budget, with thought summaries);
- dropped hints: `stream` and `stream_options` (the path streams; the options are honoured
  by the stream translator), `parallel_tool_calls` (Gemini has no switch for it, and the
  client's format holds any number of calls either way), a function's `strict`, `user`,
  `safety_identifier`, `metadata`, `service_tier`, `prompt_cache_key`,
  `prompt_cache_retention`, `prompt_cache_options`, a part's `prompt_cache_breakpoint`
  (Gemini caches prompt prefixes by itself), an image's `detail`, a file's `filename`,
  participants' `name`, and the `reasoning_content` of earlier assistant turns (Gemini
  takes thoughts back only as its own signatures, which an OpenAI client never sees);
- refused: `n` above 1, `logprobs`, `top_logprobs`, `logit_bias`, audio output (`modalities`,
  `audio`), `prediction`, `web_search_options`, `store: true`, `moderation`, a `verbosity`
  other than `medium`, the deprecated `functions` and `function_call`, custom tools, an
  `allowed_tools` tool choice, files by id, and any field or part type not listed here.

Tool call ids are not sent: Gemini's request schema refuses `id` in `functionCall` and
`functionResponse` parts on some of its deployments, and pairs a response with its call by
name and order. A `tool` message's function name, which Gemini needs, is the name of the
earlier call with its `tool_call_id`.
"""

from __future__ import annotations

from typing import Any

from aiplane.translate.base import StreamTranslator, UnsupportedFeature, Usage
from aiplane.translate.common import (
    JSON,
    TEXT_SEPARATOR,
    as_bool,
    as_int,
    as_number,
    as_str,
    client_model,
    count,
    invalid,
    nonempty,
    read_provider_error,
    refuse,
)
from aiplane.translate.gemini_provider_wire import MAX_THINKING_BUDGET, apply_function_tools, file_data
from aiplane.translate.gemini_provider_wire import candidate_parts as _parts
from aiplane.translate.gemini_provider_wire import first_candidate as _candidate
from aiplane.translate.gemini_provider_wire import google_error as _google_error
from aiplane.translate.gemini_provider_wire import merged_parts as _merged
from aiplane.translate.gemini_provider_wire import prompt_blocked as _blocked
from aiplane.translate.gemini_provider_wire import sign_function_calls as _sign_function_calls
from aiplane.translate.gemini_provider_wire import stream_error as gemini_stream_error
from aiplane.translate.openai_wire import (
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
    checked_hint,
    completion,
    conversation,
    data_url,
    error_event,
    file_part,
    function_tools,
    image_url,
    input_audio,
    is_http_url,
    max_tokens,
    parallel_tool_calls,
    response_format,
    response_tool_call,
    stop_sequences,
    stream_settings,
    text_content,
    text_part,
    thinking_budget,
    tool_choice,
    unmapped_fields,
    user_parts,
)
from aiplane.translate.openai_wire import error_body as openai_error_body
from aiplane.translate.openai_wire import finish_reason as openai_finish_reason
from aiplane.translate.sse import SSEEvent

PROVIDER = "Gemini generateContent"  # how refusals name the provider's API
_TAKES = "Gemini takes a function call's args as an object"
_AUDIO_TYPES = {"wav": "audio/wav", "mp3": "audio/mp3"}  # OpenAI's `input_audio` formats

# ---------------------------------------------------------------------------------------------
# Request: OpenAI Chat Completions body -> Gemini GenerateContentRequest body
# ---------------------------------------------------------------------------------------------


def _refuse(param: str, what: str) -> UnsupportedFeature:
    return refuse(param, what, PROVIDER)


def _inline_data(found: tuple[str, str], param: str) -> JSON:
    """An `inlineData` part for a data URL's media type and data: Gemini wants the type."""
    media_type, data = found
    if not media_type:
        raise _refuse(param, "a data URL without a media type")
    return {"inlineData": {"mimeType": media_type, "data": data}}


def _image_part(part: JSON, param: str) -> JSON:
    cache_breakpoint(part, param)  # checked: see `_user_parts`
    url, where = image_url(part, param)
    found = data_url(url, where, PROVIDER)
    if found is not None:
        return _inline_data(found, where)
    if not is_http_url(url):
        raise _refuse(where, "an image URL that is neither http(s) nor a data URL")
    # Gemini fetches public and signed http(s) URLs given as `fileData`.
    return file_data(url)


def _file_part(part: JSON, param: str) -> JSON:
    cache_breakpoint(part, param)
    found, _, where = file_part(part, param, PROVIDER, "Gemini")  # Gemini's inline data has no name
    if found is None:
        raise _refuse(where, "a file that is not in a base64 data URL")
    return _inline_data(found, where)


_USER_PARTS = ("text", "image_url", "file", "input_audio")


def _user_parts(content: Any, param: str) -> list[JSON]:
    # A part's cache breakpoint is checked, and dropped: OpenAI's explicit breakpoint is a cost
    # hint, and Gemini caches repeated prefixes by itself.
    if isinstance(content, str):
        # Gemini refuses a part without data, which an empty text is.
        return [{"text": content}] if content else []
    parts = []
    for kind, part, where in user_parts(content, param, _USER_PARTS, PROVIDER):
        if kind == "text":
            text, _ = text_part(part, where)
            if text:
                parts.append({"text": text})
        elif kind == "image_url":
            parts.append(_image_part(part, where))
        elif kind == "file":
            parts.append(_file_part(part, where))
        else:
            audio_format, data = input_audio(part, where)
            parts.append({"inlineData": {"mimeType": _AUDIO_TYPES[audio_format], "data": data}})
    return parts


def _model_parts(message: JSON, param: str, call_names: dict[str, str]) -> list[JSON]:
    texts, calls = assistant_message(message, param, PROVIDER, _TAKES)
    parts = []
    for text, _ in texts:
        parts.append({"text": text})
    for call_id, name, args in calls:
        call_names[call_id] = name
        parts.append({"functionCall": {"name": name, "args": args}})
    return parts


def _function_response(message: JSON, param: str, call_names: dict[str, str]) -> JSON:
    where = f"{param}.tool_call_id"
    name = call_names.get(as_str(message.get("tool_call_id"), where))
    if name is None:
        raise invalid(where, "the id of a tool call in an earlier assistant message (Gemini wants the function's name)")
    content = message.get("content")
    if not isinstance(content, str):
        content = TEXT_SEPARATOR.join(text for text, _ in text_content(content, f"{param}.content", PROVIDER))
    # Gemini takes an object: its `output` key holds a function's output (its `error` key, an error).
    return {"functionResponse": {"name": name, "response": {"output": content}}}


def _apply_messages(value: Any, out: JSON) -> None:
    system: list[Text] = []
    turns: list[JSON] = []
    call_names: dict[str, str] = {}  # tool call id -> function name
    for role, message, where in conversation(value, system, PROVIDER):
        if role == "user":
            parts = _user_parts(message.get("content"), f"{where}.content")
        elif role == "assistant":
            role, parts = "model", _model_parts(message, where, call_names)
        else:
            role, parts = "user", [_function_response(message, where, call_names)]
        if not parts:
            continue  # an empty message: Gemini refuses a turn without parts
        if turns and turns[-1]["role"] == role:
            turns[-1]["parts"] = _merged(turns[-1]["parts"], parts)
        else:
            turns.append({"role": role, "parts": parts})
    if not turns:
        raise invalid("messages", "a list with a user or assistant message that says something")
    _sign_function_calls(turns)
    text = TEXT_SEPARATOR.join(text for text, _ in system if text)
    if text:
        out["systemInstruction"] = {"parts": [{"text": text}]}
    out["contents"] = turns


def _function_declaration(name: str, description: str | None, parameters: JSON | None, strict: bool) -> JSON:
    # `strict` is dropped: Gemini has no per-function strict mode.
    out: JSON = {"name": name}
    if description is not None:
        out["description"] = description
    if parameters is not None:
        # Full JSON Schema, as OpenAI takes it; `parameters` would want Gemini's OpenAPI subset.
        out["parametersJsonSchema"] = parameters
    return out


_CALLING_MODES = {"auto": "AUTO", "required": "ANY", "none": "NONE"}


def _function_calling_config(value: Any) -> JSON:
    mode, name = tool_choice(value, PROVIDER)
    if name is not None:
        return {"mode": "ANY", "allowedFunctionNames": [name]}
    return {"mode": _CALLING_MODES[mode]}


def _apply_tools(body: JSON, out: JSON) -> None:
    choice = body.get("tool_choice")
    parallel_tool_calls(body)  # checked: a hint, see the module's docstring
    declarations = function_tools(body.get("tools"), PROVIDER, _function_declaration)
    config = None if choice is None else _function_calling_config(choice)  # checked even without tools
    apply_function_tools(declarations, config, out)


def _apply_max_tokens(body: JSON, config: JSON) -> None:
    limit = max_tokens(body)
    if limit is not None:
        # Like OpenAI's reasoning tokens, Gemini's thinking counts in the output limit.
        config["maxOutputTokens"] = limit


def _apply_reasoning_effort(value: Any, config: JSON) -> None:
    budget = thinking_budget(value)
    if not budget:
        config["thinkingConfig"] = {"thinkingBudget": 0}  # `none`: a model that must think answers 400
    else:
        # Thought summaries come back as `reasoning_content`, as Anthropic's thinking does.
        config["thinkingConfig"] = {"thinkingBudget": min(budget, MAX_THINKING_BUDGET), "includeThoughts": True}


def _apply_stop(value: Any, config: JSON) -> None:
    stops = stop_sequences(value)
    if stops:
        config["stopSequences"] = stops


def _apply_response_format(value: Any, config: JSON) -> None:
    kind, spec = response_format(value)
    if kind != "text":
        config["responseMimeType"] = "application/json"
    if spec is not None:
        config["responseJsonSchema"] = spec["schema"]  # full JSON Schema, as `parametersJsonSchema`


def _number(name: str, key: str) -> FieldRule:
    def apply(value: Any, config: JSON) -> None:
        config[key] = as_number(value, name)

    return apply


def _penalty(name: str, key: str) -> FieldRule:
    def apply(value: Any, config: JSON) -> None:
        # Zero asks for nothing, and not every Gemini model takes penalties: it is not sent.
        if as_number(value, name):
            config[key] = value

    return apply


def _apply_seed(value: Any, config: JSON) -> None:
    config["seed"] = as_int(value, "seed")


# Every top-level field a request may have, and what becomes of it (a null one asks for
# nothing): most set a `generationConfig` field. Those in `READ_APART` are translated apart.
_FIELDS: dict[str, FieldRule] = {
    **unmapped_fields(PROVIDER),
    "stop": _apply_stop,
    "temperature": _number("temperature", "temperature"),
    "top_p": _number("top_p", "topP"),
    "seed": _apply_seed,
    "presence_penalty": _penalty("presence_penalty", "presencePenalty"),
    "frequency_penalty": _penalty("frequency_penalty", "frequencyPenalty"),
    "response_format": _apply_response_format,
    "reasoning_effort": _apply_reasoning_effort,
    "stream": checked_hint(as_bool, "stream"),  # the path streams, not the body
    "user": checked_hint(as_str, "user"),  # hints Gemini has no field for
    "safety_identifier": checked_hint(as_str, "safety_identifier"),
}


def translate_request(body: JSON) -> JSON:
    if not isinstance(body, dict):
        raise invalid("body", "a JSON object")
    out: JSON = {}
    _apply_messages(body.get("messages"), out)
    config: JSON = {}
    apply_fields(body, _FIELDS, READ_APART, config, PROVIDER)
    _apply_tools(body, out)
    _apply_max_tokens(body, config)
    if config:
        out["generationConfig"] = config
    return out


# ---------------------------------------------------------------------------------------------
# Response: Gemini GenerateContentResponse -> OpenAI chat.completion
# ---------------------------------------------------------------------------------------------

_FINISH_REASONS = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "IMAGE_PROHIBITED_CONTENT": "content_filter",
    "IMAGE_RECITATION": "content_filter",
}


def _finish_reason(finish_reason: Any, used_tools: bool) -> str:
    """OpenAI's finish_reason for Gemini's; OpenAI clients loop on `tool_calls`.

    Other reasons (`LANGUAGE`, `OTHER`, `MALFORMED_FUNCTION_CALL`, ...) end the answer with
    whatever it holds, as OpenAI's `stop` does.
    """
    return openai_finish_reason(_FINISH_REASONS, finish_reason, used_tools)


def _usage(value: Any) -> Usage:
    """Gemini's usageMetadata as the common record: its promptTokenCount counts the cached
    tokens too, as the record's input tokens do; its thinking tokens are counted apart from the
    candidates', where the record's output tokens count both and say how many were reasoning."""
    usage = value if isinstance(value, dict) else {}
    thoughts = count(usage.get("thoughtsTokenCount"))
    return Usage(
        input_tokens=count(usage.get("promptTokenCount")),
        output_tokens=count(usage.get("candidatesTokenCount")) + thoughts,
        cached_input_tokens=count(usage.get("cachedContentTokenCount")),
        reasoning_tokens=thoughts,
    )


def _openai_usage(usage: Usage) -> JSON:
    """The common record as OpenAI's usage, which says, as Gemini does, how many tokens were reasoning."""
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_input_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }


def translate_response(body: JSON, client_request: JSON) -> tuple[JSON, Usage]:
    candidate = _candidate(body)
    texts: list[str] = []
    thoughts: list[str] = []
    tool_calls: list[JSON] = []
    for part in _parts(candidate) if candidate is not None else ():
        if not isinstance(part, dict):
            continue
        text = nonempty(part.get("text"))
        if text:
            (thoughts if part.get("thought") is True else texts).append(text)
        call = part.get("functionCall")
        if isinstance(call, dict):
            tool_calls.append(response_tool_call(call.get("id"), call.get("name"), call.get("args")))
        # Inline data, executable code and other parts have nothing for an OpenAI client.
    if candidate is None and _blocked(body):
        reason = "content_filter"  # the client still learns the prompt tokens it paid for
    else:
        reason = _finish_reason(None if candidate is None else candidate.get("finishReason"), bool(tool_calls))
    usage = _usage(body.get("usageMetadata"))
    model = nonempty(body.get("modelVersion")) or client_model(client_request)
    message = answer(texts, thoughts, tool_calls)
    return completion(body.get("responseId"), model, message, reason, _openai_usage(usage)), usage


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def translate_error(status: int, body: bytes) -> bytes:
    # `code` keeps Google's own status (`RESOURCE_EXHAUSTED`, `UNAVAILABLE`, ...).
    message, parsed = read_provider_error(status, body)
    return openai_error_body(status, message, nonempty(_google_error(parsed).get("status")))


def _stream_error(error: Any) -> bytes:
    """An error event inside the provider's stream, which the stream's HTTP status does not tell."""
    code, message, google_status = gemini_stream_error(error)
    return error_event(code, message, google_status)


# ---------------------------------------------------------------------------------------------
# Streaming: Gemini `streamGenerateContent?alt=sse` events -> OpenAI chat.completion.chunk events
# ---------------------------------------------------------------------------------------------


class GeminiToOpenAIStream(ChunkStream):
    """One streamed response: Gemini events in, OpenAI chunks out (see `ChunkStream`).

    Each Gemini event is a whole GenerateContentResponse holding the next parts of the answer;
    a function call comes whole, in one part. The event with a `finishReason` is the last;
    Gemini sends no other end. The completion starts with the first event.
    """

    __slots__ = ()
    _wire_usage = staticmethod(_openai_usage)

    def _on_cut(self, out: list[bytes]) -> None:
        # The stream ended without a finish reason: cut off, or a compatible server's.
        self._end(_finish_reason(None, self._tool_calls > 0), out)

    def _on_event(self, sse: SSEEvent, out: list[bytes]) -> None:
        event = self._json_object(sse.data, NOT_JSON, out)
        if event is None:
            return
        error = event.get("error")
        if error is not None:
            out.append(_stream_error(error))
            self._ended = True
            return
        self._start(event.get("responseId"), out)
        usage = event.get("usageMetadata")
        if isinstance(usage, dict):
            self._usage = _usage(usage)  # Gemini's counts are cumulative: the latest stand
        candidate = _candidate(event)
        if candidate is None:
            if _blocked(event):
                self._end("content_filter", out)
            return
        for part in _parts(candidate):
            if isinstance(part, dict):
                self._on_part(part, out)
        finish_reason = candidate.get("finishReason")
        if finish_reason is not None:
            self._end(_finish_reason(finish_reason, self._tool_calls > 0), out)

    def _on_part(self, part: JSON, out: list[bytes]) -> None:
        self._text(b'{"reasoning_content":' if part.get("thought") is True else b'{"content":', part.get("text"), out)
        call = part.get("functionCall")
        if isinstance(call, dict):
            self._tool_call(call.get("id"), call.get("name"), arguments_json(call.get("args")), out)
        # Thought signatures (OpenAI clients cannot send them back), inline data and code parts are dropped.

    def _end(self, finish_reason: str, out: list[bytes]) -> None:
        self._finish(finish_reason, out)
        self._done(out)


class OpenAIToGemini:
    """OpenAI Chat Completions clients, Gemini generateContent providers."""

    client = "openai"
    provider = "gemini"

    def request(self, body: JSON, upstream_model: str) -> JSON:
        return translate_request(body)  # the path names the model

    def response(self, body: JSON, client_request: JSON) -> tuple[JSON, Usage]:
        return translate_response(body, client_request)

    def stream(self, client_request: JSON) -> StreamTranslator:
        return GeminiToOpenAIStream(*stream_settings(client_request))

    def error(self, status: int, body: bytes) -> bytes:
        return translate_error(status, body)
