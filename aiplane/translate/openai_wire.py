"""The OpenAI Chat Completions wire, client side: what OpenAI clients send, read the same way for
every provider, and what they receive (responses, errors and stream chunks as OpenAI's SDKs read them).

Readers of the request raise `UnsupportedFeature` naming the field (see `common`). A refusal
names the provider's API (`provider`, e.g. "Anthropic Messages"); what the providers do with
what was read is each pair's own. The readers every request goes through check a field's type
inline, and call its `as_*` checker only to raise, naming the field: building every field's
name on every request cost more than the checks.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any

import orjson

from aiplane.translate.base import Usage
from aiplane.translate.common import (
    JSON,
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
    openai_error_type,
    refuse,
)
from aiplane.translate.sse import EventStreamTranslator

# ---------------------------------------------------------------------------------------------
# Reading the client's request: messages and their parts
# ---------------------------------------------------------------------------------------------

Text = tuple[str, bool]  # a text, and whether the client put a prompt cache breakpoint after it
ToolCall = tuple[str, str, JSON]  # an assistant's tool call: its id, the function's name, its arguments


# What a provider makes of a function tool: its name, description, parameters (a JSON Schema
# object, or None when the function takes none) and whether calls must follow them strictly.
ToolBuilder = Callable[[str, str | None, JSON | None, bool], JSON]


def conversation(value: Any, system: list[Text], provider: str) -> Iterator[tuple[str, JSON, str]]:
    """The `messages` but for instructions, each as its role (`user`, `assistant` or `tool`), the
    message and the param naming it. The texts of `system` and `developer` messages join
    `system`: every provider here has one system prompt, before the conversation, so
    instructions given later in it join the prompt, in their order."""
    for i, message in enumerate(as_list(value, "messages")):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            as_dict(message, where)  # raises: see the module's docstring
        role = message.get("role")
        if role == "user" or role == "assistant" or role == "tool":
            yield role, message, where
        elif role == "system" or role == "developer":
            system.extend(text_content(message.get("content"), f"{where}.content", provider))
        else:
            raise invalid(f"{where}.role", "`system`, `developer`, `user`, `assistant` or `tool`")


def cache_breakpoint(part: JSON, param: str) -> bool:
    """Whether a content part asks for a prompt cache breakpoint after it (OpenAI's explicit caching)."""
    breakpoint = part.get("prompt_cache_breakpoint")
    if breakpoint is None:
        return False
    as_dict(breakpoint, f"{param}.prompt_cache_breakpoint")
    return True


def text_part(part: JSON, param: str) -> Text:
    cached = "prompt_cache_breakpoint" in part and cache_breakpoint(part, param)
    text = part.get("text")
    if not isinstance(text, str):
        as_str(text, f"{param}.text")  # raises: see the module's docstring
    return text, cached


def user_parts(content: Any, param: str, kinds: Collection[str], provider: str) -> Iterator[tuple[str, JSON, str]]:
    """The parts of a user message's content list, each as its type, the part and the param
    naming it; a part of a type not in `kinds` is refused. A string content is the caller's."""
    if not isinstance(content, list):
        raise invalid(param, "a string or a list of content parts")
    for i, part in enumerate(content):
        where = f"{param}[{i}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if not isinstance(kind, str):
            block_type(part, where)  # raises: see the module's docstring
        if kind not in kinds:
            raise refuse(f"{where}.type", f"a `{kind}` part", provider)
        yield kind, part, where


def text_content(content: Any, param: str, provider: str) -> list[Text]:
    """The content of a system, developer or tool message: a string or text parts."""
    if isinstance(content, str):
        return [(content, False)]
    if not isinstance(content, list):
        raise invalid(param, "a string or a list of text parts")
    texts = []
    for i, part in enumerate(content):
        where = f"{param}[{i}]"
        kind = block_type(part, where)
        if kind != "text":
            raise refuse(f"{where}.type", f"a `{kind}` part here", provider)
        texts.append(text_part(part, where))
    return texts


def data_url(url: str, param: str, provider: str) -> tuple[str, str] | None:
    """The media type and base64 data of a `data:` URL; None for any other URL."""
    if url[:5].lower() != "data:":
        return None
    header, comma, data = url[5:].partition(",")
    media_type, *parameters = header.split(";")
    if not comma or not parameters or parameters[-1].lower() != "base64":
        raise refuse(param, "a data URL that is not base64-encoded", provider)
    return media_type, data


def is_http_url(url: str) -> bool:
    return url[:8].lower().startswith(("https://", "http://"))


def image_url(part: JSON, param: str) -> tuple[str, str]:
    """An `image_url` part's URL, and the param naming it (its `detail` is a hint every provider drops)."""
    where = f"{param}.image_url.url"
    return as_str(as_dict(part.get("image_url"), f"{param}.image_url").get("url"), where), where


def file_part(part: JSON, param: str, provider: str, owner: str) -> tuple[tuple[str, str] | None, str | None, str]:
    """A `file` part's data URL (see `data_url`), its filename and the param naming its data; a
    file by id is refused, as OpenAI's file store is not the provider's (`owner`'s)."""
    file = as_dict(part.get("file"), f"{param}.file")
    file_data = file.get("file_data")
    where = f"{param}.file.file_data"
    if file_data is None and file.get("file_id") is not None:
        raise refuse(f"{param}.file.file_id", f"a file by id (OpenAI's file store is not {owner}'s)", provider)
    found = data_url(as_str(file_data, where), where, provider)
    filename = file.get("filename")
    return found, None if filename is None else as_str(filename, f"{param}.file.filename"), where


def input_audio(part: JSON, param: str) -> tuple[str, str]:
    """An `input_audio` part's format (`wav` or `mp3`, OpenAI's two) and base64 data."""
    audio = as_dict(part.get("input_audio"), f"{param}.input_audio")
    audio_format = audio.get("format")
    if audio_format not in ("wav", "mp3"):
        raise invalid(f"{param}.input_audio.format", "`wav` or `mp3`")
    return audio_format, as_str(audio.get("data"), f"{param}.input_audio.data")


def tool_call(call: Any, param: str, provider: str, takes: str) -> ToolCall:
    """An assistant's tool call; `takes` says how the provider takes its arguments, which must be an object."""
    kind = as_dict(call, param).get("type", "function")
    if kind != "function":
        raise refuse(f"{param}.type", f"a `{kind}` tool call", provider)
    # Each `as_*` below only raises: see the module's docstring.
    function, call_id = call.get("function"), call.get("id")
    if not isinstance(function, dict):
        as_dict(function, f"{param}.function")
    arguments, name = function.get("arguments"), function.get("name")
    if not isinstance(arguments, str):
        as_str(arguments, f"{param}.function.arguments")
    try:
        # Some clients send "" for a call without arguments; OpenAI's models send "{}".
        parsed = orjson.loads(arguments) if arguments.strip() else {}
    except orjson.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict):
        raise invalid(f"{param}.function.arguments", f"a JSON object in a string ({takes})")
    if not isinstance(call_id, str):
        as_str(call_id, f"{param}.id")
    if not isinstance(name, str):
        as_str(name, f"{param}.function.name")
    return call_id, name, parsed


def assistant_message(message: JSON, param: str, provider: str, takes: str) -> tuple[list[Text], list[ToolCall]]:
    """An assistant message's texts (its content's, then its refusal) and tool calls. Empty texts
    are left out: providers refuse empty text blocks, and OpenAI clients send `content: ""`
    beside tool calls. A refusal is what the model said, so it goes back as text."""
    for name in ("function_call", "audio"):
        if message.get(name) is not None:
            raise refuse(f"{param}.{name}", f"an assistant message's `{name}`", provider)
    content = message.get("content")
    texts: list[Text] = []
    if isinstance(content, str):
        if content:
            texts.append((content, False))
    elif isinstance(content, list):
        for i, part in enumerate(content):
            where = f"{param}.content[{i}]"
            kind = block_type(part, where)
            if kind == "text":
                text = text_part(part, where)
            elif kind == "refusal":
                text = (as_str(part.get("refusal"), f"{where}.refusal"), False)
            else:
                raise refuse(f"{where}.type", f"a `{kind}` part in an assistant message", provider)
            if text[0]:
                texts.append(text)
    elif content is not None:
        raise invalid(f"{param}.content", "a string, a list of content parts or null")
    refusal = message.get("refusal")
    if refusal is not None and as_str(refusal, f"{param}.refusal"):
        texts.append((refusal, False))
    calls: list[ToolCall] = []
    value = message.get("tool_calls")
    if value is not None:
        where = f"{param}.tool_calls"
        for i, call in enumerate(as_list(value, where)):
            calls.append(tool_call(call, f"{where}[{i}]", provider, takes))
    return texts, calls


# ---------------------------------------------------------------------------------------------
# Reading the client's request: tools, limits and sampling
# ---------------------------------------------------------------------------------------------


def function_tools(value: Any, provider: str, build: ToolBuilder) -> list[JSON]:
    """The `tools`, each as `build` makes it: functions only (custom tools are OpenAI's own)."""
    if value is None:
        return []
    tools = []
    for i, tool in enumerate(as_list(value, "tools")):
        param = f"tools[{i}]"
        kind = as_dict(tool, param).get("type")
        if kind != "function":
            raise refuse(f"{param}.type", f"a `{kind}` tool", provider)
        # Each `as_*` below only raises: see the module's docstring.
        function = tool.get("function")
        if not isinstance(function, dict):
            as_dict(function, f"{param}.function")
        name, description, parameters = function.get("name"), function.get("description"), function.get("parameters")
        if not isinstance(name, str):
            as_str(name, f"{param}.function.name")
        if description is not None and not isinstance(description, str):
            as_str(description, f"{param}.function.description")
        if parameters is not None and not isinstance(parameters, dict):
            as_dict(parameters, f"{param}.function.parameters")
        strict = function.get("strict")
        strict = strict is not None and as_bool(strict, f"{param}.function.strict")
        tools.append(build(name, description, parameters, strict))
    return tools


def tool_choice(value: Any, provider: str) -> tuple[str, str | None]:
    """A `tool_choice` as its mode (`auto`, `required`, `none` or `function`) and, for `function`, the name."""
    if isinstance(value, str):
        if value not in ("auto", "required", "none"):
            raise invalid("tool_choice", "`auto`, `required`, `none` or a named function")
        return value, None
    kind = as_dict(value, "tool_choice").get("type")
    if kind == "function":
        function = as_dict(value.get("function"), "tool_choice.function")
        return kind, as_str(function.get("name"), "tool_choice.function.name")
    if kind in ("allowed_tools", "custom"):
        raise refuse("tool_choice.type", f"a tool_choice of type `{kind}`", provider)
    raise invalid("tool_choice.type", "`function`")


def parallel_tool_calls(body: JSON) -> bool:
    value = body.get("parallel_tool_calls")
    return True if value is None else as_bool(value, "parallel_tool_calls")


def max_tokens(body: JSON) -> int | None:
    """The output limit: `max_completion_tokens`, which replaced `max_tokens` in OpenAI's API, first."""
    limit = body.get("max_completion_tokens")
    if limit is not None:
        return as_int(limit, "max_completion_tokens")
    limit = body.get("max_tokens")
    return None if limit is None else as_int(limit, "max_tokens")


_EFFORTS = f"one of `none`, `{'`, `'.join(THINKING_BUDGETS)}`"


def thinking_budget(effort: Any) -> int:
    """The thinking budget a `reasoning_effort` asks for (see `THINKING_BUDGETS`); 0 for `none`."""
    if effort == "none":
        return 0
    if not isinstance(effort, str) or effort not in THINKING_BUDGETS:
        raise invalid("reasoning_effort", _EFFORTS)
    return THINKING_BUDGETS[effort]


def stop_sequences(value: Any) -> list[str]:
    stops = [value] if isinstance(value, str) else as_list(value, "stop")
    return [as_str(stop, f"stop[{i}]") for i, stop in enumerate(stops)]


def temperature_to_1(value: Any, provider: str, whose: str) -> float | int:
    """A temperature for a provider whose range is 0 to 1 (OpenAI's is 0 to 2): one above is
    refused, since scaling would change what every other value means."""
    temperature = as_number(value, "temperature")
    if temperature > 1:
        raise refuse("temperature", f"a temperature above 1 ({whose} range is 0 to 1)", provider)
    return temperature


NO_JSON_MODE = "JSON mode without a schema (send a `json_schema` instead)"  # for providers without one


def response_format(value: Any) -> tuple[str, JSON | None]:
    """A `response_format` as its type (`text`, `json_object` or `json_schema`) and, for
    `json_schema`, its `json_schema` object, whose `schema` is an object."""
    kind = as_dict(value, "response_format").get("type")
    if kind == "json_schema":
        spec = as_dict(value.get("json_schema"), "response_format.json_schema")
        as_dict(spec.get("schema"), "response_format.json_schema.schema")
        return kind, spec
    if kind != "text" and kind != "json_object":
        raise invalid("response_format.type", "`text`, `json_schema` or `json_object`")
    return kind, None


# ---------------------------------------------------------------------------------------------
# Reading the client's request: the top-level fields
# ---------------------------------------------------------------------------------------------

FieldRule = Callable[[Any, JSON], None]  # what a field's value (never null) does to the provider's request


def ignore(value: Any, out: JSON) -> None:
    """A hint the provider may ignore anyway."""


def checked_hint(check: Callable[[Any, str], Any], name: str) -> FieldRule:
    """A hint the provider has no field for, checked (`as_str`, `as_bool`) all the same."""

    def apply(value: Any, out: JSON) -> None:
        check(value, name)

    return apply


def only(noop: Callable[[Any], bool], name: str, what: str, provider: str) -> FieldRule:
    """A field the provider cannot honour, accepted with the one value that asks for nothing."""

    def apply(value: Any, out: JSON) -> None:
        if not noop(value):
            raise refuse(name, what, provider)

    return apply


def is_zero(value: Any) -> bool:
    return type(value) in (int, float) and value == 0


def never(value: Any) -> bool:
    return False


# Hints every provider drops: the upstream model replaces `model` (in the body or the path); the
# stream translator honours `stream_options`; OpenAI keeps `metadata` only with stored
# completions; the rest tune OpenAI's own serving and caching.
HINTS = (
    "model",
    "stream_options",
    "metadata",
    "service_tier",
    "prompt_cache_key",
    "prompt_cache_retention",
    "prompt_cache_options",
)

# Fields no provider here can honour, each with the one value that asks for nothing and what
# any other value asks for; a provider that does map one (Gemini's penalties and seed) says so.
NOOPS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "n": (lambda n: type(n) is int and n == 1, "more than one choice (`n` above 1)"),
    "logprobs": (lambda v: v is False, "log probabilities"),
    "top_logprobs": (lambda v: type(v) is int and v == 0, "log probabilities"),
    "logit_bias": (lambda v: v == {}, "`logit_bias`"),
    "presence_penalty": (is_zero, "a presence penalty"),
    "frequency_penalty": (is_zero, "a frequency penalty"),
    "seed": (never, "a seed"),
    "modalities": (lambda v: v == ["text"], "an output modality other than text"),
    "audio": (never, "audio output"),
    "prediction": (never, "a predicted output"),
    "web_search_options": (never, "OpenAI's web search"),
    "store": (lambda v: v is False, "storing the completion with the provider"),
    "moderation": (never, "OpenAI's moderation"),
    "verbosity": (lambda v: v == "medium", "a verbosity other than `medium`"),
    "functions": (never, "the deprecated `functions` (send `tools`)"),
    "function_call": (never, "the deprecated `function_call` (send `tool_choice`)"),
}


def unmapped_fields(provider: str) -> dict[str, FieldRule]:
    """The rules of `HINTS` and `NOOPS` for `provider`: a pair adds (and overrides with) its own."""
    rules: dict[str, FieldRule] = dict.fromkeys(HINTS, ignore)
    rules.update((name, only(noop, name, what, provider)) for name, (noop, what) in NOOPS.items())
    return rules


# The fields a pair reads from the body apart from the others, with the readers above
# (`conversation`, `function_tools`, `tool_choice`, `parallel_tool_calls`, `max_tokens`).
READ_APART = frozenset(
    {"messages", "tools", "tool_choice", "parallel_tool_calls", "max_tokens", "max_completion_tokens"}
)


def apply_fields(body: JSON, rules: Mapping[str, FieldRule], apart: Collection[str], out: JSON, provider: str) -> None:
    """Every top-level field by its rule (a null one asks for nothing); one without a rule is
    refused, unless the pair translates it `apart`."""
    for name, value in body.items():
        rule = rules.get(name)
        if rule is not None:
            if value is not None:
                rule(value, out)
        elif name not in apart:
            raise refuse(name, f"`{name}`", provider)


# ---------------------------------------------------------------------------------------------
# Responses and errors
# ---------------------------------------------------------------------------------------------


def completion_id(provider_id: Any) -> str:
    return f"chatcmpl-{nonempty(provider_id) or uuid.uuid4().hex}"


def arguments_json(tool_input: Any) -> str:
    """A tool call's input object as the JSON text OpenAI's `arguments` holds."""
    try:
        return orjson.dumps(tool_input if isinstance(tool_input, dict) else {}).decode()
    except orjson.JSONEncodeError:
        return "{}"


def finish_reason(reasons: dict[str, str], provider_reason: Any, used_tools: bool) -> str:
    """OpenAI's finish_reason for a provider's, by `reasons`; OpenAI clients loop on `tool_calls`."""
    reason = reasons.get(provider_reason, "stop") if isinstance(provider_reason, str) else "stop"
    return "tool_calls" if reason == "stop" and used_tools else reason


def wire_usage(usage: Usage) -> JSON:
    """The common record as OpenAI's usage, for providers that bill cache writes (Anthropic's
    models): prompt_tokens count every prompt token, and the details say how many were read
    from the cache and (newer APIs) written to it."""
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "prompt_tokens_details": {
            "cached_tokens": usage.cached_input_tokens,
            "cache_write_tokens": usage.cache_creation_input_tokens,
        },
    }


def response_tool_call(call_id: Any, name: Any, tool_input: Any) -> JSON:
    """A tool call in a chat.completion message; one the provider gave no id gets a unique one."""
    function = {"name": nonempty(name) or "", "arguments": arguments_json(tool_input)}
    return {"id": nonempty(call_id) or f"call_{uuid.uuid4().hex}", "type": "function", "function": function}


def answer(texts: list[str], thoughts: list[str], tool_calls: list[JSON]) -> JSON:
    """A chat.completion's message. Its texts are one answer cut where a tool call, a citation
    or a provider's chunk sat: joined as streamed; its thoughts become `reasoning_content`."""
    message: JSON = {"role": "assistant", "content": "".join(texts) if texts else None, "refusal": None}
    if thoughts:
        message["reasoning_content"] = "".join(thoughts)
    if tool_calls:
        message["tool_calls"] = tool_calls
    return message


def completion(provider_id: Any, model: str, message: JSON, reason: str, usage: JSON) -> JSON:
    """A chat.completion of one choice, `message`, that ended for `reason`."""
    return {
        "id": completion_id(provider_id),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": reason}],
        "usage": usage,
    }


def error_body(status: int, message: str, code: str | None) -> bytes:
    # `code` keeps the provider's own error type or status.
    return orjson.dumps({"error": {"message": message, "type": openai_error_type(status), "param": None, "code": code}})


def error_event(status: int, message: str, code: str | None) -> bytes:
    """An error as a stream event."""
    return b"data: " + error_body(status, message, code) + b"\n\n"


# ---------------------------------------------------------------------------------------------
# Streams
# ---------------------------------------------------------------------------------------------

# Stream chunks: each is a chunk's prefix (see `chunk_prefix`), a delta, then one of these ends.
CHUNK_END = b',"logprobs":null,"finish_reason":null}]}\n\n'
DELTA_END = b"}" + CHUNK_END
ROLE_DELTA = b'{"role":"assistant","content":""' + DELTA_END
ARGUMENTS_END = b"}}]" + DELTA_END  # after a tool call's arguments fragment
DONE = b"data: [DONE]\n\n"
NOT_JSON = error_event(500, "the provider's stream has an event that is not a JSON object", None)


def stream_settings(client_request: JSON) -> tuple[str, bool]:
    """The model a stream's chunks name, and whether the client asked for a usage chunk."""
    options = client_request.get("stream_options")
    include_usage = isinstance(options, dict) and options.get("include_usage") is True
    return client_model(client_request), include_usage


def chunk_prefix(chunk_id: str, created: int, model: str) -> bytes:
    """A chunk up to its delta: the same in every chunk of one completion."""
    return b'data: {"id":%s,"object":"chat.completion.chunk","created":%d,"model":%s,%s' % (
        orjson.dumps(chunk_id),
        created,
        orjson.dumps(model),
        b'"choices":[{"index":0,"delta":',
    )


def finish_chunk(prefix: bytes, reason: str) -> bytes:
    return prefix + b'{},"logprobs":null,"finish_reason":"%s"}]}\n\n' % reason.encode()


def usage_chunk(chunk_id: str, created: int, model: str, wire_usage: JSON) -> bytes:
    """The last chunk (`choices: []`), sent only when the client set `stream_options.include_usage`."""
    chunk = {
        "id": chunk_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [],
        "usage": wire_usage,
    }
    return b"data: " + orjson.dumps(chunk) + b"\n\n"


class ChunkStream(EventStreamTranslator):
    """The client's side of a stream translator to OpenAI clients; a subclass reads the provider's events.

    Every chunk repeats the completion's id, creation time and model, so the bytes before each
    delta are computed once, when the completion starts with its role chunk. The stream ends with
    the finish chunk, then a usage chunk (`choices: []`) only when the client set
    `stream_options.include_usage`, as OpenAI does: a client loop that reads `chunk.choices[0]`
    must not meet a chunk without choices. `_wire_usage` writes the usage as the provider counts it.
    """

    __slots__ = ("_model", "_include_usage", "_created", "_completion_id", "_prefix", "_started", "_tool_calls")
    _wire_usage: Callable[[Usage], JSON]

    def __init__(self, model: str, include_usage: bool) -> None:
        super().__init__()
        self._model = model
        self._include_usage = include_usage
        self._created = int(time.time())
        self._completion_id = ""
        self._prefix = b""  # a chunk up to its delta
        self._started = False
        self._tool_calls = 0

    def _start(self, provider_id: Any, out: list[bytes]) -> None:
        if self._started:
            return
        self._started = True
        self._completion_id = completion_id(provider_id)
        self._prefix = chunk_prefix(self._completion_id, self._created, self._model)
        out.append(self._prefix + ROLE_DELTA)

    def _text(self, field: bytes, text: Any, out: list[bytes]) -> None:
        """A delta of `field` (`{"content":` or `{"reasoning_content":`), when `text` says something."""
        text = nonempty(text)
        if text:
            self._start(None, out)
            out.append(self._prefix + field + orjson.dumps(text) + DELTA_END)

    def _tool_call(self, call_id: Any, name: Any, arguments: str, out: list[bytes]) -> bytes:
        """A tool call's first chunk, with its id (made up when the provider gave none) and name;
        returns the bytes before the arguments fragment in the chunks that carry the rest."""
        self._start(None, out)
        n = self._tool_calls
        self._tool_calls += 1
        call = {
            "index": n,
            "id": nonempty(call_id) or f"call_{self._completion_id}_{n}",
            "type": "function",
            "function": {"name": nonempty(name) or "", "arguments": arguments},
        }
        out.append(self._prefix + b'{"tool_calls":[' + orjson.dumps(call) + b"]" + DELTA_END)
        return self._prefix + b'{"tool_calls":[{"index":%d,"function":{"arguments":' % n

    def _finish(self, reason: str, out: list[bytes]) -> None:
        self._start(None, out)
        out.append(finish_chunk(self._prefix, reason))

    def _done(self, out: list[bytes]) -> None:
        """After the finish chunk: the usage chunk the client may have asked for, and `[DONE]`."""
        if self._include_usage:
            wire = self._wire_usage(self._usage or Usage())
            out.append(usage_chunk(self._completion_id, self._created, self._model, wire))
        out.append(DONE)
        self._ended = True
