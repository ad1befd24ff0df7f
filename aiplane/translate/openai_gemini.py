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

import time
import uuid
from collections.abc import Callable
from typing import Any

import orjson

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

_AUDIO_TYPES = {"wav": "audio/wav", "mp3": "audio/mp3"}  # OpenAI's `input_audio` formats

# ---------------------------------------------------------------------------------------------
# Request: OpenAI Chat Completions body -> Gemini GenerateContentRequest body
# ---------------------------------------------------------------------------------------------


def _refuse(param: str, what: str) -> UnsupportedFeature:
    return refuse(param, what, "Gemini generateContent")


def _check_breakpoint(part: JSON, param: str) -> None:
    # OpenAI's explicit cache breakpoint is a cost hint; Gemini caches repeated prefixes itself.
    breakpoint = part.get("prompt_cache_breakpoint")
    if breakpoint is not None:
        as_dict(breakpoint, f"{param}.prompt_cache_breakpoint")


def _text(part: JSON, param: str) -> str:
    _check_breakpoint(part, param)
    return as_str(part.get("text"), f"{param}.text")


def _data_url(url: str, param: str) -> tuple[str, str] | None:
    """The media type and base64 data of a `data:` URL; None for any other URL."""
    if url[:5].lower() != "data:":
        return None
    header, comma, data = url[5:].partition(",")
    media_type, *parameters = header.split(";")
    if not comma or not parameters or parameters[-1].lower() != "base64":
        raise _refuse(param, "a data URL that is not base64-encoded")
    if not media_type:
        raise _refuse(param, "a data URL without a media type")
    return media_type, data


def _image_part(part: JSON, param: str) -> JSON:
    _check_breakpoint(part, param)
    image_url = as_dict(part.get("image_url"), f"{param}.image_url")
    where = f"{param}.image_url.url"
    url = as_str(image_url.get("url"), where)
    data_url = _data_url(url, where)
    if data_url is not None:
        return {"inlineData": {"mimeType": data_url[0], "data": data_url[1]}}
    if not url[:8].lower().startswith(("https://", "http://")):
        raise _refuse(where, "an image URL that is neither http(s) nor a data URL")
    # Gemini fetches public and signed http(s) URLs given as `fileData`.
    return file_data(url)


def _file_part(part: JSON, param: str) -> JSON:
    _check_breakpoint(part, param)
    file = as_dict(part.get("file"), f"{param}.file")
    file_data = file.get("file_data")
    where = f"{param}.file.file_data"
    if file_data is None and file.get("file_id") is not None:
        raise _refuse(f"{param}.file.file_id", "a file by id (OpenAI's file store is not Gemini's)")
    data_url = _data_url(as_str(file_data, where), where)
    if data_url is None:
        raise _refuse(where, "a file that is not in a base64 data URL")
    filename = file.get("filename")
    if filename is not None:
        as_str(filename, f"{param}.file.filename")  # Gemini's inline data has no name
    return {"inlineData": {"mimeType": data_url[0], "data": data_url[1]}}


def _audio_part(part: JSON, param: str) -> JSON:
    audio = as_dict(part.get("input_audio"), f"{param}.input_audio")
    audio_format = audio.get("format")
    if not isinstance(audio_format, str) or audio_format not in _AUDIO_TYPES:
        raise invalid(f"{param}.input_audio.format", "`wav` or `mp3`")
    data = as_str(audio.get("data"), f"{param}.input_audio.data")
    return {"inlineData": {"mimeType": _AUDIO_TYPES[audio_format], "data": data}}


def _user_parts(content: Any, param: str) -> list[JSON]:
    if isinstance(content, str):
        # Gemini refuses a part without data, which an empty text is.
        return [{"text": content}] if content else []
    if not isinstance(content, list):
        raise invalid(param, "a string or a list of content parts")
    parts = []
    for i, part in enumerate(content):
        where = f"{param}[{i}]"
        kind = block_type(part, where)
        if kind == "text":
            text = _text(part, where)
            if text:
                parts.append({"text": text})
        elif kind == "image_url":
            parts.append(_image_part(part, where))
        elif kind == "file":
            parts.append(_file_part(part, where))
        elif kind == "input_audio":
            parts.append(_audio_part(part, where))
        else:
            raise _refuse(f"{where}.type", f"a `{kind}` part")
    return parts


def _texts(content: Any, param: str) -> list[str]:
    """The content of a system, developer or tool message: a string or text parts."""
    if isinstance(content, str):
        return [content]
    if not isinstance(content, list):
        raise invalid(param, "a string or a list of text parts")
    texts = []
    for i, part in enumerate(content):
        where = f"{param}[{i}]"
        kind = block_type(part, where)
        if kind != "text":
            raise _refuse(f"{where}.type", f"a `{kind}` part here")
        texts.append(_text(part, where))
    return texts


def _function_call(call: Any, param: str, call_names: dict[str, str]) -> JSON:
    kind = as_dict(call, param).get("type", "function")
    if kind != "function":
        raise _refuse(f"{param}.type", f"a `{kind}` tool call")
    function = as_dict(call.get("function"), f"{param}.function")
    where = f"{param}.function.arguments"
    arguments = as_str(function.get("arguments"), where)
    try:
        # Some clients send "" for a call without arguments; OpenAI's models send "{}".
        args = orjson.loads(arguments) if arguments.strip() else {}
    except orjson.JSONDecodeError:
        args = None
    if not isinstance(args, dict):
        raise invalid(where, "a JSON object in a string (Gemini takes a function call's args as an object)")
    call_id = as_str(call.get("id"), f"{param}.id")
    name = as_str(function.get("name"), f"{param}.function.name")
    call_names[call_id] = name
    return {"functionCall": {"name": name, "args": args}}


def _model_parts(message: JSON, param: str, call_names: dict[str, str]) -> list[JSON]:
    for name in ("function_call", "audio"):
        if message.get(name) is not None:
            raise _refuse(f"{param}.{name}", f"an assistant message's `{name}`")
    content = message.get("content")
    parts: list[JSON] = []
    if isinstance(content, str):
        if content:
            parts.append({"text": content})
    elif isinstance(content, list):
        for i, part in enumerate(content):
            where = f"{param}.content[{i}]"
            kind = block_type(part, where)
            if kind == "text":
                text = _text(part, where)
            elif kind == "refusal":
                text = as_str(part.get("refusal"), f"{where}.refusal")
            else:
                raise _refuse(f"{where}.type", f"a `{kind}` part in an assistant message")
            if text:
                parts.append({"text": text})
    elif content is not None:
        raise invalid(f"{param}.content", "a string, a list of content parts or null")
    refusal = message.get("refusal")
    if refusal is not None and as_str(refusal, f"{param}.refusal"):
        parts.append({"text": refusal})
    tool_calls = message.get("tool_calls")
    if tool_calls is not None:
        where = f"{param}.tool_calls"
        for i, call in enumerate(as_list(tool_calls, where)):
            parts.append(_function_call(call, f"{where}[{i}]", call_names))
    return parts


def _function_response(message: JSON, param: str, call_names: dict[str, str]) -> JSON:
    where = f"{param}.tool_call_id"
    name = call_names.get(as_str(message.get("tool_call_id"), where))
    if name is None:
        raise invalid(where, "the id of a tool call in an earlier assistant message (Gemini wants the function's name)")
    content = message.get("content")
    text = content if isinstance(content, str) else TEXT_SEPARATOR.join(_texts(content, f"{param}.content"))
    # Gemini takes an object: its `output` key holds a function's output (its `error` key, an error).
    return {"functionResponse": {"name": name, "response": {"output": text}}}


def _apply_messages(value: Any, out: JSON) -> None:
    system: list[str] = []
    turns: list[JSON] = []
    call_names: dict[str, str] = {}  # tool call id -> function name
    for i, message in enumerate(as_list(value, "messages")):
        where = f"messages[{i}]"
        role = as_dict(message, where).get("role")
        if role == "user":
            parts = _user_parts(message.get("content"), f"{where}.content")
        elif role == "assistant":
            role, parts = "model", _model_parts(message, where, call_names)
        elif role == "tool":
            role, parts = "user", [_function_response(message, where, call_names)]
        elif role in ("system", "developer"):
            # Gemini has one system instruction, before the conversation: instructions given
            # later in it join the instruction, in their order.
            system.extend(_texts(message.get("content"), f"{where}.content"))
            continue
        else:
            raise invalid(f"{where}.role", "`system`, `developer`, `user`, `assistant` or `tool`")
        if not parts:
            continue  # an empty message: Gemini refuses a turn without parts
        if turns and turns[-1]["role"] == role:
            turns[-1]["parts"] = _merged(turns[-1]["parts"], parts)
        else:
            turns.append({"role": role, "parts": parts})
    if not turns:
        raise invalid("messages", "a list with a user or assistant message that says something")
    _sign_function_calls(turns)
    text = TEXT_SEPARATOR.join(text for text in system if text)
    if text:
        out["systemInstruction"] = {"parts": [{"text": text}]}
    out["contents"] = turns


def _function_declaration(tool: Any, param: str) -> JSON:
    kind = as_dict(tool, param).get("type")
    if kind != "function":
        raise _refuse(f"{param}.type", f"a `{kind}` tool")
    function = as_dict(tool.get("function"), f"{param}.function")
    out: JSON = {"name": as_str(function.get("name"), f"{param}.function.name")}
    description = function.get("description")
    if description is not None:
        out["description"] = as_str(description, f"{param}.function.description")
    parameters = function.get("parameters")
    if parameters is not None:
        # Full JSON Schema, as OpenAI takes it; `parameters` would want Gemini's OpenAPI subset.
        out["parametersJsonSchema"] = as_dict(parameters, f"{param}.function.parameters")
    strict = function.get("strict")
    if strict is not None:
        as_bool(strict, f"{param}.function.strict")  # Gemini has no per-function strict mode
    return out


_CALLING_MODES = {"auto": "AUTO", "required": "ANY", "none": "NONE"}


def _function_calling_config(value: Any) -> JSON:
    if isinstance(value, str):
        if value not in _CALLING_MODES:
            raise invalid("tool_choice", "`auto`, `required`, `none` or a named function")
        return {"mode": _CALLING_MODES[value]}
    kind = as_dict(value, "tool_choice").get("type")
    if kind == "function":
        function = as_dict(value.get("function"), "tool_choice.function")
        name = as_str(function.get("name"), "tool_choice.function.name")
        return {"mode": "ANY", "allowedFunctionNames": [name]}
    if kind in ("allowed_tools", "custom"):
        raise _refuse("tool_choice.type", f"a tool_choice of type `{kind}`")
    raise invalid("tool_choice.type", "`function`")


def _apply_tools(body: JSON, out: JSON) -> None:
    value, choice = body.get("tools"), body.get("tool_choice")
    parallel = body.get("parallel_tool_calls")
    if parallel is not None:
        as_bool(parallel, "parallel_tool_calls")
    tools = [] if value is None else as_list(value, "tools")
    declarations = [_function_declaration(tool, f"tools[{i}]") for i, tool in enumerate(tools)]
    config = None if choice is None else _function_calling_config(choice)  # checked even without tools
    apply_function_tools(declarations, config, out)


def _apply_max_tokens(body: JSON, config: JSON) -> None:
    limit = body.get("max_completion_tokens")
    name = "max_completion_tokens"
    if limit is None:
        limit, name = body.get("max_tokens"), "max_tokens"
    if limit is not None:
        # Like OpenAI's reasoning tokens, Gemini's thinking counts in the output limit.
        config["maxOutputTokens"] = as_int(limit, name)


def _apply_reasoning_effort(value: Any, config: JSON) -> None:
    if value == "none":
        config["thinkingConfig"] = {"thinkingBudget": 0}  # a model that must think answers 400
    elif isinstance(value, str) and value in THINKING_BUDGETS:
        budget = min(THINKING_BUDGETS[value], MAX_THINKING_BUDGET)
        # Thought summaries come back as `reasoning_content`, as Anthropic's thinking does.
        config["thinkingConfig"] = {"thinkingBudget": budget, "includeThoughts": True}
    else:
        raise invalid("reasoning_effort", f"one of `none`, `{'`, `'.join(THINKING_BUDGETS)}`")


def _apply_stop(value: Any, config: JSON) -> None:
    stops = [value] if isinstance(value, str) else as_list(value, "stop")
    stops = [as_str(stop, f"stop[{i}]") for i, stop in enumerate(stops)]
    if stops:
        config["stopSequences"] = stops


def _apply_response_format(value: Any, config: JSON) -> None:
    kind = as_dict(value, "response_format").get("type")
    if kind == "json_schema":
        spec = as_dict(value.get("json_schema"), "response_format.json_schema")
        schema = as_dict(spec.get("schema"), "response_format.json_schema.schema")
        config["responseMimeType"] = "application/json"
        config["responseJsonSchema"] = schema  # full JSON Schema, as `parametersJsonSchema`
    elif kind == "json_object":
        config["responseMimeType"] = "application/json"
    elif kind != "text":
        raise invalid("response_format.type", "`text`, `json_schema` or `json_object`")


def _number(name: str, key: str) -> Callable[[Any, JSON], None]:
    def apply(value: Any, config: JSON) -> None:
        config[key] = as_number(value, name)

    return apply


def _penalty(name: str, key: str) -> Callable[[Any, JSON], None]:
    def apply(value: Any, config: JSON) -> None:
        # Zero asks for nothing, and not every Gemini model takes penalties: it is not sent.
        if as_number(value, name):
            config[key] = value

    return apply


def _apply_seed(value: Any, config: JSON) -> None:
    config["seed"] = as_int(value, "seed")


def _apply_stream(value: Any, config: JSON) -> None:
    as_bool(value, "stream")  # the path streams, not the body


def _ignore(value: Any, config: JSON) -> None:
    """A hint the provider may ignore anyway."""


def _check_str(name: str) -> Callable[[Any, JSON], None]:
    def apply(value: Any, config: JSON) -> None:
        as_str(value, name)  # a hint Gemini has no field for

    return apply


def _only(noop: Callable[[Any], bool], name: str, what: str) -> Callable[[Any, JSON], None]:
    """A field the provider cannot honour, accepted with the one value that asks for nothing."""

    def apply(value: Any, config: JSON) -> None:
        if not noop(value):
            raise _refuse(name, what)

    return apply


def _never(value: Any) -> bool:
    return False


# Every top-level field a request may have, and what becomes of it (a null one asks for
# nothing): most set a `generationConfig` field. These are translated apart:
_TRANSLATED_APART = frozenset(
    {"messages", "tools", "tool_choice", "parallel_tool_calls", "max_tokens", "max_completion_tokens"}
)
_FIELDS: dict[str, Callable[[Any, JSON], None]] = {
    "model": _ignore,  # the path names the upstream model
    "stop": _apply_stop,
    "temperature": _number("temperature", "temperature"),
    "top_p": _number("top_p", "topP"),
    "seed": _apply_seed,
    "presence_penalty": _penalty("presence_penalty", "presencePenalty"),
    "frequency_penalty": _penalty("frequency_penalty", "frequencyPenalty"),
    "response_format": _apply_response_format,
    "reasoning_effort": _apply_reasoning_effort,
    "stream": _apply_stream,
    "stream_options": _ignore,
    "user": _check_str("user"),
    "safety_identifier": _check_str("safety_identifier"),
    "metadata": _ignore,
    "service_tier": _ignore,
    "prompt_cache_key": _ignore,
    "prompt_cache_retention": _ignore,
    "prompt_cache_options": _ignore,
    "n": _only(lambda n: type(n) is int and n == 1, "n", "more than one choice (`n` above 1)"),
    "logprobs": _only(lambda v: v is False, "logprobs", "log probabilities"),
    "top_logprobs": _only(lambda v: type(v) is int and v == 0, "top_logprobs", "log probabilities"),
    "logit_bias": _only(lambda v: v == {}, "logit_bias", "`logit_bias`"),
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


def translate_request(body: JSON) -> JSON:
    if not isinstance(body, dict):
        raise invalid("body", "a JSON object")
    out: JSON = {}
    _apply_messages(body.get("messages"), out)
    config: JSON = {}
    for name, value in body.items():
        apply = _FIELDS.get(name)
        if apply is not None:
            if value is not None:
                apply(value, config)
        elif name not in _TRANSLATED_APART:
            raise _refuse(name, f"`{name}`")
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


def _usage(value: Any) -> tuple[JSON, Usage]:
    """Gemini's usageMetadata as OpenAI's wire usage and the common record.

    Gemini's promptTokenCount counts the cached tokens too, as OpenAI's prompt_tokens do;
    its thinking tokens are counted apart from the candidates', where OpenAI's completion
    tokens count both and say how many were reasoning.
    """
    usage = value if isinstance(value, dict) else {}
    prompt = count(usage.get("promptTokenCount"))
    cached = count(usage.get("cachedContentTokenCount"))
    thoughts = count(usage.get("thoughtsTokenCount"))
    completion = count(usage.get("candidatesTokenCount")) + thoughts
    wire = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached},
        "completion_tokens_details": {"reasoning_tokens": thoughts},
    }
    common = Usage(input_tokens=prompt, output_tokens=completion, cached_input_tokens=cached, reasoning_tokens=thoughts)
    return wire, common


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
            function = {"name": nonempty(call.get("name")) or "", "arguments": arguments_json(call.get("args"))}
            call_id = nonempty(call.get("id")) or f"call_{uuid.uuid4().hex}"
            tool_calls.append({"id": call_id, "type": "function", "function": function})
        # Inline data, executable code and other parts have nothing for an OpenAI client.
    # Text parts are one answer cut where Gemini's chunks or a function call fell.
    message: JSON = {"role": "assistant", "content": "".join(texts) if texts else None, "refusal": None}
    if thoughts:
        message["reasoning_content"] = "".join(thoughts)
    if tool_calls:
        message["tool_calls"] = tool_calls
    if candidate is None and _blocked(body):
        finish_reason = "content_filter"  # the client still learns the prompt tokens it paid for
    else:
        finish_reason = _finish_reason(None if candidate is None else candidate.get("finishReason"), bool(tool_calls))
    wire_usage, usage = _usage(body.get("usageMetadata"))
    return {
        "id": completion_id(body.get("responseId")),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": nonempty(body.get("modelVersion")) or client_model(client_request),
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}],
        "usage": wire_usage,
    }, usage


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


class GeminiToOpenAIStream(EventStreamTranslator):
    """One streamed response: Gemini events in, OpenAI chunks out.

    Each Gemini event is a whole GenerateContentResponse holding the next parts of the answer;
    a function call comes whole, in one part. The event with a `finishReason` is the last;
    Gemini sends no other end. Every chunk repeats the completion's id, creation time and
    model, so the bytes before each delta are computed once, when the stream starts. The
    stream ends with a usage chunk (`choices: []`) only when the client set
    `stream_options.include_usage`, as OpenAI does: a client loop that reads
    `chunk.choices[0]` must not meet a chunk without choices.
    """

    __slots__ = (
        "_model",
        "_include_usage",
        "_created",
        "_completion_id",
        "_prefix",
        "_started",
        "_tool_calls",
        "_usage_metadata",
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
        self._usage_metadata: JSON | None = None

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
            # Gemini's counts are cumulative: the latest stand.
            self._usage_metadata = usage
            self._usage = _usage(usage)[1]
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
        text = nonempty(part.get("text"))
        if text:
            field = b'{"reasoning_content":' if part.get("thought") is True else b'{"content":'
            out.append(self._prefix + field + orjson.dumps(text) + DELTA_END)
        call = part.get("functionCall")
        if isinstance(call, dict):
            n = self._tool_calls
            self._tool_calls += 1
            tool_call = {
                "index": n,
                "id": nonempty(call.get("id")) or f"call_{self._completion_id}_{n}",
                "type": "function",
                "function": {"name": nonempty(call.get("name")) or "", "arguments": arguments_json(call.get("args"))},
            }
            out.append(self._prefix + b'{"tool_calls":[' + orjson.dumps(tool_call) + b"]" + DELTA_END)
        # Thought signatures (OpenAI clients cannot send them back), inline data and code parts are dropped.

    def _start(self, response_id: Any, out: list[bytes]) -> None:
        if self._started:
            return
        self._started = True
        self._completion_id = completion_id(response_id)
        self._prefix = chunk_prefix(self._completion_id, self._created, self._model)
        out.append(self._prefix + ROLE_DELTA)

    def _end(self, finish_reason: str, out: list[bytes]) -> None:
        self._start(None, out)
        out.append(finish_chunk(self._prefix, finish_reason))
        if self._include_usage:
            out.append(usage_chunk(self._completion_id, self._created, self._model, _usage(self._usage_metadata)[0]))
        out.append(DONE)
        self._ended = True


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
