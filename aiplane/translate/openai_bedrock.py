"""OpenAI Chat Completions clients served by AWS Bedrock's Converse API.

The provider is called at `/model/{modelId}/converse`, or at `.../converse-stream` to stream:
the decision server builds that path, so the body names no model and says nothing about
streaming. Converse is structurally close to Anthropic Messages (one system prompt, turns that
alternate, tool calls and results as content blocks), and this pair follows
`openai_anthropic.py` wherever Converse allows. Request fields are translated one by one; each
is mapped, dropped because it is only a hint the provider may ignore anyway, or refused with
`UnsupportedFeature` because dropping it would change what the client gets. A field that is
null, or that holds the value which asks for nothing (`n: 1`, `logprobs: false`,
`presence_penalty: 0`, ...), is accepted:

- mapped: `messages` (`system` and `developer` messages become `system`; text parts, images
  in base64 data URLs, files in base64 data URLs (PDF, CSV, Word, Excel, HTML, text and
  Markdown documents, or images), `input_audio` parts; assistant `tool_calls` become `toolUse`
  blocks; `tool` messages become `toolResult` blocks in the next user turn), `tools` (a
  function's `strict` too), `tool_choice`, `stop`, `temperature` (0 to 1, Converse's range),
  `top_p`, `max_completion_tokens`/`max_tokens` (`inferenceConfig`), `reasoning_effort` (a
  Claude thinking budget in `additionalModelRequestFields`, but for a tool loop: see
  `bedrock_wire.in_tool_loop`; refused for a model other than Claude) and `response_format`
  `json_schema` (Converse's structured outputs, `outputConfig.textFormat`);
- dropped hints: `stream` (the path streams) and `stream_options` (honoured by the stream
  translator), `parallel_tool_calls` (Converse has no switch for it, and the client's format
  holds any number of calls either way), `user`, `safety_identifier`, `metadata` (OpenAI keeps
  it only with stored completions), `service_tier`, `prompt_cache_key`,
  `prompt_cache_retention`, `prompt_cache_options`, a part's `prompt_cache_breakpoint` (Bedrock
  refuses a `cachePoint` for every model without prompt caching, and a cost hint must not turn
  into an error), an image's `detail`, participants' `name`, and the `reasoning_content` of
  earlier assistant turns (Bedrock takes reasoning back only with its signature, which an
  OpenAI client never sees);
- refused: `n` above 1, `logprobs`, `top_logprobs`, `logit_bias`, non-zero `presence_penalty`
  and `frequency_penalty`, `seed`, audio output (`modalities`, `audio`), `prediction`,
  `web_search_options`, `store: true`, `moderation`, a `verbosity` other than `medium`,
  `response_format` `json_object` (Converse has no JSON mode without a schema), the deprecated
  `functions` and `function_call`, custom tools, an `allowed_tools` tool choice, images and
  files by URL or by id (Converse takes their bytes, or S3 locations), and any field or part
  type not listed here. Converse wants the tools declared whenever the conversation holds tool
  calls or results, and has no `none` tool choice: a conversation with tool calls is refused
  without `tools`, or with `tool_choice: "none"`.

Converse's answers name no model and no id: the client's model names the completion, and its
id is made up.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import orjson

from aiplane.translate.anthropic_wire import DEFAULT_MAX_TOKENS, MAX_DEFAULT_WITH_THINKING, MIN_THINKING_BUDGET
from aiplane.translate.base import StreamTranslator, UnsupportedFeature, Usage
from aiplane.translate.bedrock_wire import (
    DOCUMENT_FORMATS,
    IMAGE_FORMATS,
    PARSER,
    PROVIDER,
    bedrock_usage,
    document_name,
    in_tool_loop,
    read_error,
    stream_exception,
    takes_claude_fields,
    uses_tools,
)
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

_AUDIO_FORMATS = ("wav", "mp3")  # OpenAI's `input_audio` formats, both Converse audio formats

# ---------------------------------------------------------------------------------------------
# Request: OpenAI Chat Completions body -> Converse body
# ---------------------------------------------------------------------------------------------


def _refuse(param: str, what: str) -> UnsupportedFeature:
    return refuse(param, what, PROVIDER)


def _check_breakpoint(part: JSON, param: str) -> None:
    # OpenAI's explicit cache breakpoint is a cost hint: see the module's docstring.
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
    return media_type.lower(), data


def _image_block(part: JSON, param: str) -> JSON:
    _check_breakpoint(part, param)
    image_url = as_dict(part.get("image_url"), f"{param}.image_url")
    where = f"{param}.image_url.url"
    data_url = _data_url(as_str(image_url.get("url"), where), where)
    if data_url is None:
        raise _refuse(where, "an image by URL (Converse takes an image's bytes: send a base64 data URL)")
    image_format = IMAGE_FORMATS.get(data_url[0])
    if image_format is None:
        raise _refuse(where, f"an image of type `{data_url[0]}` (Converse takes PNG, JPEG, GIF and WebP)")
    return {"image": {"format": image_format, "source": {"bytes": data_url[1]}}}


def _file_block(part: JSON, param: str, names: set[str]) -> JSON:
    _check_breakpoint(part, param)
    file = as_dict(part.get("file"), f"{param}.file")
    file_data = file.get("file_data")
    where = f"{param}.file.file_data"
    if file_data is None and file.get("file_id") is not None:
        raise _refuse(f"{param}.file.file_id", "a file by id (OpenAI's file store is not Bedrock's)")
    data_url = _data_url(as_str(file_data, where), where)
    if data_url is None:
        raise _refuse(where, "a file that is not in a base64 data URL")
    filename = file.get("filename")
    if filename is not None:
        as_str(filename, f"{param}.file.filename")
    media_type, data = data_url
    document_format = DOCUMENT_FORMATS.get(media_type)
    if document_format is not None:
        # Converse names every document, uniquely within the request.
        name = document_name(filename, names)
        return {"document": {"format": document_format, "name": name, "source": {"bytes": data}}}
    image_format = IMAGE_FORMATS.get(media_type)
    if image_format is not None:
        return {"image": {"format": image_format, "source": {"bytes": data}}}
    raise _refuse(where, f"a file of type `{media_type}`")


def _audio_block(part: JSON, param: str) -> JSON:
    audio = as_dict(part.get("input_audio"), f"{param}.input_audio")
    audio_format = audio.get("format")
    if audio_format not in _AUDIO_FORMATS:
        raise invalid(f"{param}.input_audio.format", "`wav` or `mp3`")
    data = as_str(audio.get("data"), f"{param}.input_audio.data")
    return {"audio": {"format": audio_format, "source": {"bytes": data}}}


def _user_blocks(content: Any, param: str, names: set[str]) -> list[JSON]:
    if isinstance(content, str):
        # Converse refuses a text block without text.
        return [{"text": content}] if content else []
    if not isinstance(content, list):
        raise invalid(param, "a string or a list of content parts")
    blocks = []
    for i, part in enumerate(content):
        where = f"{param}[{i}]"
        kind = block_type(part, where)
        if kind == "text":
            text = _text(part, where)
            if text:
                blocks.append({"text": text})
        elif kind == "image_url":
            blocks.append(_image_block(part, where))
        elif kind == "file":
            blocks.append(_file_block(part, where, names))
        elif kind == "input_audio":
            blocks.append(_audio_block(part, where))
        else:
            raise _refuse(f"{where}.type", f"a `{kind}` part")
    return blocks


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
        raise invalid(where, "a JSON object in a string (Converse takes a tool call's input as an object)")
    return {
        "toolUse": {
            "toolUseId": as_str(call.get("id"), f"{param}.id"),
            "name": as_str(function.get("name"), f"{param}.function.name"),
            "input": tool_input,
        }
    }


def _assistant_blocks(message: JSON, param: str) -> list[JSON]:
    for name in ("function_call", "audio"):
        if message.get(name) is not None:
            raise _refuse(f"{param}.{name}", f"an assistant message's `{name}`")
    content = message.get("content")
    blocks: list[JSON] = []
    if isinstance(content, str):
        if content:
            blocks.append({"text": content})
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
                blocks.append({"text": text})
    elif content is not None:
        raise invalid(f"{param}.content", "a string, a list of content parts or null")
    refusal = message.get("refusal")
    if refusal is not None and as_str(refusal, f"{param}.refusal"):
        blocks.append({"text": refusal})
    tool_calls = message.get("tool_calls")
    if tool_calls is not None:
        where = f"{param}.tool_calls"
        blocks.extend(_tool_use(call, f"{where}[{i}]") for i, call in enumerate(as_list(tool_calls, where)))
    return blocks


def _tool_result(message: JSON, param: str) -> JSON:
    tool_use_id = as_str(message.get("tool_call_id"), f"{param}.tool_call_id")
    content = message.get("content")
    texts = [content] if isinstance(content, str) else _texts(content, f"{param}.content")
    # Converse refuses a text block without text: an empty result is an empty list.
    return {"toolResult": {"toolUseId": tool_use_id, "content": [{"text": text} for text in texts if text]}}


def _merged(first: list[JSON], second: list[JSON]) -> list[JSON]:
    """Two turns of one role as one: Converse wants the roles to alternate ..."""
    blocks = first + second
    # ... and (Anthropic's models say so) a user turn's tool results before anything else in it.
    results = [block for block in blocks if "toolResult" in block]
    if results and len(results) < len(blocks):
        blocks = results + [block for block in blocks if "toolResult" not in block]
    return blocks


def _apply_messages(value: Any, out: JSON) -> None:
    system: list[str] = []
    turns: list[JSON] = []
    names: set[str] = set()  # the documents' names so far
    for i, message in enumerate(as_list(value, "messages")):
        where = f"messages[{i}]"
        role = as_dict(message, where).get("role")
        if role == "user":
            blocks = _user_blocks(message.get("content"), f"{where}.content", names)
        elif role == "assistant":
            blocks = _assistant_blocks(message, where)
        elif role == "tool":
            role, blocks = "user", [_tool_result(message, where)]
        elif role in ("system", "developer"):
            # Converse has one system prompt, before the conversation: instructions given
            # later in it join the prompt, in their order.
            system.extend(_texts(message.get("content"), f"{where}.content"))
            continue
        else:
            raise invalid(f"{where}.role", "`system`, `developer`, `user`, `assistant` or `tool`")
        if not blocks:
            continue  # an empty message: Converse refuses a turn without content
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"] = _merged(turns[-1]["content"], blocks)
        else:
            turns.append({"role": role, "content": blocks})
    if not turns:
        raise invalid("messages", "a list with a user or assistant message that says something")
    text = TEXT_SEPARATOR.join(text for text in system if text)
    if text:
        out["system"] = [{"text": text}]
    out["messages"] = turns


def _tool(tool: Any, param: str) -> JSON:
    kind = as_dict(tool, param).get("type")
    if kind != "function":
        raise _refuse(f"{param}.type", f"a `{kind}` tool")
    function = as_dict(tool.get("function"), f"{param}.function")
    spec: JSON = {"name": as_str(function.get("name"), f"{param}.function.name")}
    description = function.get("description")
    if description is not None and as_str(description, f"{param}.function.description"):
        spec["description"] = description  # Converse refuses an empty one
    parameters = function.get("parameters")
    # OpenAI takes a function without parameters; Converse wants a schema for every tool.
    schema = {"type": "object", "properties": {}} if parameters is None else parameters
    spec["inputSchema"] = {"json": as_dict(schema, f"{param}.function.parameters")}
    strict = function.get("strict")
    if strict is not None and as_bool(strict, f"{param}.function.strict"):
        spec["strict"] = True
    return {"toolSpec": spec}


def _tool_choice(value: Any) -> JSON | None:
    """Converse's toolChoice for OpenAI's; None for `none`, which Converse says by sending no tools."""
    if isinstance(value, str):
        if value == "auto":
            return {"auto": {}}
        if value == "required":
            return {"any": {}}
        if value == "none":
            return None
        raise invalid("tool_choice", "`auto`, `required`, `none` or a named function")
    kind = as_dict(value, "tool_choice").get("type")
    if kind == "function":
        function = as_dict(value.get("function"), "tool_choice.function")
        return {"tool": {"name": as_str(function.get("name"), "tool_choice.function.name")}}
    if kind in ("allowed_tools", "custom"):
        raise _refuse("tool_choice.type", f"a tool_choice of type `{kind}`")
    raise invalid("tool_choice.type", "`function`")


def _apply_tools(body: JSON, out: JSON) -> None:
    value, choice = body.get("tools"), body.get("tool_choice")
    parallel = body.get("parallel_tool_calls")
    if parallel is not None:
        as_bool(parallel, "parallel_tool_calls")  # a hint: see the module's docstring
    tools = [] if value is None else [_tool(tool, f"tools[{i}]") for i, tool in enumerate(as_list(value, "tools"))]
    tool_choice = None if choice is None else _tool_choice(choice)  # checked even without tools
    if tools and (choice is None or tool_choice is not None):
        config: JSON = {"tools": tools}
        if tool_choice is not None:
            config["toolChoice"] = tool_choice
        out["toolConfig"] = config
    elif uses_tools(out["messages"]):
        if tools:
            raise _refuse(
                "tool_choice", "`none` in a conversation with tool calls (Converse has no `none` tool choice)"
            )
        raise _refuse("tools", "a conversation with tool calls but no `tools` (Converse wants them declared)")


def _apply_max_tokens_and_reasoning(body: JSON, upstream_model: str, out: JSON) -> None:
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
        if not takes_claude_fields(upstream_model):
            # Each vendor's models take their own reasoning fields, when they take any.
            raise _refuse("reasoning_effort", "a reasoning effort for a model other than Claude")
    # A tool loop goes on without thinking: Anthropic's models want the turn to start with the
    # signed thinking block they answered with, which an OpenAI client never sees.
    if budget is not None and not in_tool_loop(out["messages"]):
        # Like OpenAI's reasoning tokens, Anthropic's thinking counts in maxTokens, and the
        # budget must be below it.
        if max_tokens is None:
            max_tokens = min(budget + DEFAULT_MAX_TOKENS, MAX_DEFAULT_WITH_THINKING)
        budget = min(budget, max_tokens - 1)
        if budget < MIN_THINKING_BUDGET:
            raise _refuse(
                "reasoning_effort",
                f"reasoning within {max_tokens} tokens (Anthropic's models think with a budget of at "
                f"least {MIN_THINKING_BUDGET} tokens below `max_tokens`)",
            )
        out["additionalModelRequestFields"] = {"thinking": {"type": "enabled", "budget_tokens": budget}}
    if max_tokens is not None:
        out.setdefault("inferenceConfig", {})["maxTokens"] = max_tokens


def _apply_stop(value: Any, out: JSON) -> None:
    stops = [value] if isinstance(value, str) else as_list(value, "stop")
    # Converse refuses an empty stop sequence, which stops nothing.
    stops = [stop for i, stop in enumerate(stops) if as_str(stop, f"stop[{i}]")]
    if stops:
        out.setdefault("inferenceConfig", {})["stopSequences"] = stops


def _apply_temperature(value: Any, out: JSON) -> None:
    temperature = as_number(value, "temperature")
    if temperature > 1:
        # Scaling would change what every other value means.
        raise _refuse("temperature", "a temperature above 1 (Converse's range is 0 to 1)")
    out.setdefault("inferenceConfig", {})["temperature"] = temperature


def _apply_top_p(value: Any, out: JSON) -> None:
    out.setdefault("inferenceConfig", {})["topP"] = as_number(value, "top_p")


def _apply_stream(value: Any, out: JSON) -> None:
    as_bool(value, "stream")  # the path streams, not the body


def _apply_response_format(value: Any, out: JSON) -> None:
    kind = as_dict(value, "response_format").get("type")
    if kind == "json_schema":
        spec = as_dict(value.get("json_schema"), "response_format.json_schema")
        schema = as_dict(spec.get("schema"), "response_format.json_schema.schema")
        # Converse takes the schema as JSON text.
        definition: JSON = {"schema": orjson.dumps(schema).decode()}
        for key in ("name", "description"):
            field = spec.get(key)
            if field is not None and as_str(field, f"response_format.json_schema.{key}"):
                definition[key] = field
        out["outputConfig"] = {"textFormat": {"type": "json_schema", "structure": {"jsonSchema": definition}}}
    elif kind == "json_object":
        # Converse constrains output to a schema or not at all.
        raise _refuse("response_format.type", "JSON mode without a schema (send a `json_schema` instead)")
    elif kind != "text":
        raise invalid("response_format.type", "`text`, `json_schema` or `json_object`")


def _ignore(value: Any, out: JSON) -> None:
    """A hint the provider may ignore anyway."""


def _check_str(name: str) -> Callable[[Any, JSON], None]:
    def apply(value: Any, out: JSON) -> None:
        as_str(value, name)  # a hint Converse has no field for

    return apply


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
    }
)
_FIELDS: dict[str, Callable[[Any, JSON], None]] = {
    "model": _ignore,  # the path names the upstream model
    "stop": _apply_stop,
    "temperature": _apply_temperature,
    "top_p": _apply_top_p,
    "stream": _apply_stream,
    "stream_options": _ignore,
    "response_format": _apply_response_format,
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
    out: JSON = {}
    _apply_messages(body.get("messages"), out)
    for name, value in body.items():
        apply = _FIELDS.get(name)
        if apply is not None:
            if value is not None:
                apply(value, out)
        elif name not in _TRANSLATED_APART:
            raise _refuse(name, f"`{name}`")
    _apply_tools(body, out)
    _apply_max_tokens_and_reasoning(body, upstream_model, out)
    return out


# ---------------------------------------------------------------------------------------------
# Response: Converse response -> OpenAI chat.completion
# ---------------------------------------------------------------------------------------------

_FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
}


def _finish_reason(stop_reason: Any, used_tools: bool) -> str:
    """OpenAI's finish_reason for Converse's stopReason; other reasons (`malformed_model_output`,
    `malformed_tool_use`) end the answer with whatever it holds, as OpenAI's `stop` does."""
    return openai_finish_reason(_FINISH_REASONS, stop_reason, used_tools)


def _wire_usage(usage: Usage) -> JSON:
    """The common record as OpenAI's usage: its prompt_tokens count every prompt token, and its
    details say how many were read from the cache and (newer APIs) written to it."""
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "prompt_tokens_details": {
            "cached_tokens": usage.cached_input_tokens,
            "cache_write_tokens": usage.cache_creation_input_tokens,
        },
    }


def translate_response(body: JSON, model: str) -> tuple[JSON, Usage]:
    output = body.get("output")
    message = output.get("message") if isinstance(output, dict) else None
    content = message.get("content") if isinstance(message, dict) else None
    texts: list[str] = []
    thoughts: list[str] = []
    tool_calls: list[JSON] = []
    for block in content if isinstance(content, list) else ():
        if not isinstance(block, dict):
            continue
        text = nonempty(block.get("text"))
        if text:
            texts.append(text)
            continue
        tool_use = block.get("toolUse")
        if isinstance(tool_use, dict):
            function = {
                "name": nonempty(tool_use.get("name")) or "",
                "arguments": arguments_json(tool_use.get("input")),
            }
            call_id = nonempty(tool_use.get("toolUseId")) or f"call_{uuid.uuid4().hex}"
            tool_calls.append({"id": call_id, "type": "function", "function": function})
            continue
        reasoning = block.get("reasoningContent")
        reasoning_text = reasoning.get("reasoningText") if isinstance(reasoning, dict) else None
        if isinstance(reasoning_text, dict):
            thought = nonempty(reasoning_text.get("text"))
            if thought:
                thoughts.append(thought)
        # Redacted reasoning, images, citations and guard content have nothing for an OpenAI client.
    # Text blocks are one answer cut where a tool call or a citation sat: joined as streamed.
    answer: JSON = {"role": "assistant", "content": "".join(texts) if texts else None, "refusal": None}
    if thoughts:
        answer["reasoning_content"] = "".join(thoughts)
    if tool_calls:
        answer["tool_calls"] = tool_calls
    usage = bedrock_usage(body.get("usage"))
    return {
        "id": completion_id(None),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": answer,
                "logprobs": None,
                "finish_reason": _finish_reason(body.get("stopReason"), bool(tool_calls)),
            }
        ],
        "usage": _wire_usage(usage),
    }, usage


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def translate_error(status: int, body: bytes) -> bytes:
    # Bedrock names the exception in a header, not in its body: the status says what it was.
    return openai_error_body(status, read_error(status, body), None)


# ---------------------------------------------------------------------------------------------
# Streaming: ConverseStream events (event-stream frames) -> OpenAI chat.completion.chunk events
# ---------------------------------------------------------------------------------------------


def _block_index(event: JSON) -> int:
    """The content block index of a ConverseStream event; -1 when it has none."""
    index = event.get("contentBlockIndex")
    return index if isinstance(index, int) else -1


class BedrockToOpenAIStream(EventStreamTranslator):
    """One streamed response: ConverseStream events in, OpenAI chunks out.

    A text block starts with its first delta; a tool-use block with a `contentBlockStart` that
    names the call, then deltas of its input's JSON text. `messageStop` says why the answer
    ended, and `metadata`, after it, holds the usage: the finish chunk goes out at the first,
    the usage chunk and `[DONE]` once both came (or the stream stopped). Every chunk repeats the
    completion's id, creation time and model, so the bytes before each delta are computed once,
    when the message starts. The usage chunk (`choices: []`) comes only when the client set
    `stream_options.include_usage`, as OpenAI does: a client loop that reads `chunk.choices[0]`
    must not meet a chunk without choices.
    """

    __slots__ = (
        "_model",
        "_include_usage",
        "_created",
        "_completion_id",
        "_prefix",
        "_started",
        "_finished",
        "_has_metadata",
        "_stop_reason",
        "_tool_calls",
        "_tool_prefixes",
    )
    parser = PARSER

    def __init__(self, model: str, include_usage: bool) -> None:
        super().__init__()
        self._model = model
        self._include_usage = include_usage
        self._created = int(time.time())
        self._completion_id = ""
        self._prefix = b""  # a chunk up to its delta
        self._started = False
        self._finished = False  # the finish chunk went out
        self._has_metadata = False
        self._stop_reason: Any = None
        self._tool_calls = 0
        self._tool_prefixes: dict[int, bytes] = {}  # toolUse block index -> chunk up to its arguments

    def _on_cut(self, out: list[bytes]) -> None:
        self._end(out)

    def _on_event(self, sse: SSEEvent, out: list[bytes]) -> None:
        exception = stream_exception(sse.event, sse.data)
        if exception is not None:
            # Bedrock's exception type (`throttlingException`, ...) is the error's code.
            out.append(error_event(exception[0], exception[1], sse.event))
            self._ended = True
            return
        event = self._json_object(sse.data, NOT_JSON, out)
        if event is None:
            return
        kind = sse.event
        if kind == "contentBlockDelta":
            if not self._finished:
                self._on_delta(event, out)
        elif kind == "contentBlockStart":
            if not self._finished:
                self._on_block_start(event, out)
        elif kind == "messageStop":
            self._stop_reason = event.get("stopReason")
            self._finish(out)
            if self._has_metadata:
                self._end(out)
        elif kind == "metadata":
            usage = event.get("usage")
            if isinstance(usage, dict):
                self._usage = bedrock_usage(usage)
            self._has_metadata = True
            if self._finished:
                self._end(out)
        elif kind == "messageStart":
            self._start(out)
        # `contentBlockStop`, and event types Bedrock may add, are skipped.

    def _on_delta(self, event: JSON, out: list[bytes]) -> None:
        delta = event.get("delta")
        if not isinstance(delta, dict):
            return
        text = delta.get("text")
        if text is not None:
            self._append(b'{"content":', text, out)
            return
        tool_use = delta.get("toolUse")
        if isinstance(tool_use, dict):
            prefix = self._tool_prefixes.get(_block_index(event))
            fragment = nonempty(tool_use.get("input"))
            if prefix is not None and fragment:
                out.append(prefix + orjson.dumps(fragment) + b"}}]" + DELTA_END)
            return
        reasoning = delta.get("reasoningContent")
        if isinstance(reasoning, dict):
            self._append(b'{"reasoning_content":', reasoning.get("text"), out)
        # A reasoning `signature` or `redactedContent` (OpenAI clients cannot send them back),
        # and citations, are dropped.

    def _append(self, field: bytes, text: Any, out: list[bytes]) -> None:
        text = nonempty(text)
        if text:
            self._start(out)
            out.append(self._prefix + field + orjson.dumps(text) + DELTA_END)

    def _on_block_start(self, event: JSON, out: list[bytes]) -> None:
        start = event.get("start")
        tool_use = start.get("toolUse") if isinstance(start, dict) else None
        if not isinstance(tool_use, dict):
            return  # other blocks (tool results, images) have nothing for an OpenAI client
        self._start(out)
        n = self._tool_calls
        self._tool_calls += 1
        call = {
            "index": n,
            "id": nonempty(tool_use.get("toolUseId")) or f"call_{self._completion_id}_{n}",
            "type": "function",
            "function": {"name": nonempty(tool_use.get("name")) or "", "arguments": ""},
        }
        out.append(self._prefix + b'{"tool_calls":[' + orjson.dumps(call) + b"]" + DELTA_END)
        prefix = self._prefix + b'{"tool_calls":[{"index":%d,"function":{"arguments":' % n
        self._tool_prefixes[_block_index(event)] = prefix

    def _start(self, out: list[bytes]) -> None:
        if self._started:
            return
        self._started = True
        self._completion_id = completion_id(None)  # ConverseStream names no message
        self._prefix = chunk_prefix(self._completion_id, self._created, self._model)
        out.append(self._prefix + ROLE_DELTA)

    def _finish(self, out: list[bytes]) -> None:
        if self._finished:
            return
        self._start(out)
        self._finished = True
        out.append(finish_chunk(self._prefix, _finish_reason(self._stop_reason, self._tool_calls > 0)))

    def _end(self, out: list[bytes]) -> None:
        self._finish(out)
        if self._include_usage:
            wire_usage = _wire_usage(self._usage or Usage())
            out.append(usage_chunk(self._completion_id, self._created, self._model, wire_usage))
        out.append(DONE)
        self._ended = True


class OpenAIToBedrock:
    """OpenAI Chat Completions clients, Bedrock Converse providers."""

    client = "openai"
    provider = "bedrock"

    def request(self, body: JSON, upstream_model: str) -> JSON:
        return translate_request(body, upstream_model)  # the path names the model

    def response(self, body: JSON, client_request: JSON) -> tuple[JSON, Usage]:
        return translate_response(body, client_model(client_request))

    def stream(self, client_request: JSON) -> StreamTranslator:
        return BedrockToOpenAIStream(*stream_settings(client_request))

    def error(self, status: int, body: bytes) -> bytes:
        return translate_error(status, body)
