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
    as_bool,
    as_number,
    as_str,
    client_model,
    invalid,
    nonempty,
    refuse,
)
from aiplane.translate.openai_wire import (
    ARGUMENTS_END,
    NO_JSON_MODE,
    NOT_JSON,
    READ_APART,
    ChunkStream,
    FieldRule,
    Text,
    answer,
    apply_fields,
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
    max_tokens,
    parallel_tool_calls,
    response_format,
    response_tool_call,
    stop_sequences,
    stream_settings,
    temperature_to_1,
    text_content,
    text_part,
    thinking_budget,
    tool_choice,
    unmapped_fields,
    user_parts,
    wire_usage,
)
from aiplane.translate.openai_wire import error_body as openai_error_body
from aiplane.translate.openai_wire import finish_reason as openai_finish_reason
from aiplane.translate.sse import SSEEvent

_TAKES = "Converse takes a tool call's input as an object"

# ---------------------------------------------------------------------------------------------
# Request: OpenAI Chat Completions body -> Converse body
# ---------------------------------------------------------------------------------------------


def _refuse(param: str, what: str) -> UnsupportedFeature:
    return refuse(param, what, PROVIDER)


def _image_block(part: JSON, param: str) -> JSON:
    cache_breakpoint(part, param)  # checked: see `_user_blocks`
    url, where = image_url(part, param)
    found = data_url(url, where, PROVIDER)
    if found is None:
        raise _refuse(where, "an image by URL (Converse takes an image's bytes: send a base64 data URL)")
    media_type = found[0].lower()
    image_format = IMAGE_FORMATS.get(media_type)
    if image_format is None:
        raise _refuse(where, f"an image of type `{media_type}` (Converse takes PNG, JPEG, GIF and WebP)")
    return {"image": {"format": image_format, "source": {"bytes": found[1]}}}


def _file_block(part: JSON, param: str, names: set[str]) -> JSON:
    cache_breakpoint(part, param)
    found, filename, where = file_part(part, param, PROVIDER, "Bedrock")
    if found is None:
        raise _refuse(where, "a file that is not in a base64 data URL")
    media_type, data = found[0].lower(), found[1]
    document_format = DOCUMENT_FORMATS.get(media_type)
    if document_format is not None:
        # Converse names every document, uniquely within the request.
        name = document_name(filename, names)
        return {"document": {"format": document_format, "name": name, "source": {"bytes": data}}}
    image_format = IMAGE_FORMATS.get(media_type)
    if image_format is not None:
        return {"image": {"format": image_format, "source": {"bytes": data}}}
    raise _refuse(where, f"a file of type `{media_type}`")


_USER_PARTS = ("text", "image_url", "file", "input_audio")


def _user_blocks(content: Any, param: str, names: set[str]) -> list[JSON]:
    # A part's cache breakpoint is checked, and dropped: see the module's docstring.
    if isinstance(content, str):
        # Converse refuses a text block without text.
        return [{"text": content}] if content else []
    blocks = []
    for kind, part, where in user_parts(content, param, _USER_PARTS, PROVIDER):
        if kind == "text":
            text, _ = text_part(part, where)
            if text:
                blocks.append({"text": text})
        elif kind == "image_url":
            blocks.append(_image_block(part, where))
        elif kind == "file":
            blocks.append(_file_block(part, where, names))
        else:
            # OpenAI's two `input_audio` formats are both Converse audio formats.
            audio_format, data = input_audio(part, where)
            blocks.append({"audio": {"format": audio_format, "source": {"bytes": data}}})
    return blocks


def _assistant_blocks(message: JSON, param: str) -> list[JSON]:
    texts, calls = assistant_message(message, param, PROVIDER, _TAKES)
    blocks = []
    for text, _ in texts:
        blocks.append({"text": text})
    for call_id, name, tool_input in calls:
        blocks.append({"toolUse": {"toolUseId": call_id, "name": name, "input": tool_input}})
    return blocks


def _tool_result(message: JSON, param: str) -> JSON:
    tool_use_id = as_str(message.get("tool_call_id"), f"{param}.tool_call_id")
    texts = text_content(message.get("content"), f"{param}.content", PROVIDER)
    # Converse refuses a text block without text: an empty result is an empty list.
    return {"toolResult": {"toolUseId": tool_use_id, "content": [{"text": text} for text, _ in texts if text]}}


def _merged(first: list[JSON], second: list[JSON]) -> list[JSON]:
    """Two turns of one role as one: Converse wants the roles to alternate ..."""
    blocks = first + second
    # ... and (Anthropic's models say so) a user turn's tool results before anything else in it.
    results = [block for block in blocks if "toolResult" in block]
    if results and len(results) < len(blocks):
        blocks = results + [block for block in blocks if "toolResult" not in block]
    return blocks


def _apply_messages(value: Any, out: JSON) -> None:
    system: list[Text] = []
    turns: list[JSON] = []
    names: set[str] = set()  # the documents' names so far
    for role, message, where in conversation(value, system, PROVIDER):
        if role == "user":
            blocks = _user_blocks(message.get("content"), f"{where}.content", names)
        elif role == "assistant":
            blocks = _assistant_blocks(message, where)
        else:
            role, blocks = "user", [_tool_result(message, where)]
        if not blocks:
            continue  # an empty message: Converse refuses a turn without content
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"] = _merged(turns[-1]["content"], blocks)
        else:
            turns.append({"role": role, "content": blocks})
    if not turns:
        raise invalid("messages", "a list with a user or assistant message that says something")
    text = TEXT_SEPARATOR.join(text for text, _ in system if text)
    if text:
        out["system"] = [{"text": text}]
    out["messages"] = turns


def _tool(name: str, description: str | None, parameters: JSON | None, strict: bool) -> JSON:
    spec: JSON = {"name": name}
    if description:
        spec["description"] = description  # Converse refuses an empty one
    # OpenAI takes a function without parameters; Converse wants a schema for every tool.
    spec["inputSchema"] = {"json": {"type": "object", "properties": {}} if parameters is None else parameters}
    if strict:
        spec["strict"] = True
    return {"toolSpec": spec}


_TOOL_CHOICES = {"auto": "auto", "required": "any", "function": "tool"}


def _tool_choice(value: Any) -> JSON | None:
    """Converse's toolChoice for OpenAI's; None for `none`, which Converse says by sending no tools."""
    mode, name = tool_choice(value, PROVIDER)
    if mode == "none":
        return None
    return {_TOOL_CHOICES[mode]: {} if name is None else {"name": name}}


def _apply_tools(body: JSON, out: JSON) -> None:
    choice = body.get("tool_choice")
    parallel_tool_calls(body)  # checked: a hint, see the module's docstring
    tools = function_tools(body.get("tools"), PROVIDER, _tool)
    converse_choice = None if choice is None else _tool_choice(choice)  # checked even without tools
    if tools and (choice is None or converse_choice is not None):
        config: JSON = {"tools": tools}
        if converse_choice is not None:
            config["toolChoice"] = converse_choice
        out["toolConfig"] = config
    elif uses_tools(out["messages"]):
        if tools:
            raise _refuse(
                "tool_choice", "`none` in a conversation with tool calls (Converse has no `none` tool choice)"
            )
        raise _refuse("tools", "a conversation with tool calls but no `tools` (Converse wants them declared)")


def _apply_max_tokens_and_reasoning(body: JSON, upstream_model: str, out: JSON) -> None:
    limit = max_tokens(body)
    effort = body.get("reasoning_effort")
    budget = None if effort is None else thinking_budget(effort) or None
    if budget is not None and not takes_claude_fields(upstream_model):
        # Each vendor's models take their own reasoning fields, when they take any.
        raise _refuse("reasoning_effort", "a reasoning effort for a model other than Claude")
    # A tool loop goes on without thinking: Anthropic's models want the turn to start with the
    # signed thinking block they answered with, which an OpenAI client never sees.
    if budget is not None and not in_tool_loop(out["messages"]):
        # Like OpenAI's reasoning tokens, Anthropic's thinking counts in maxTokens, and the
        # budget must be below it.
        if limit is None:
            limit = min(budget + DEFAULT_MAX_TOKENS, MAX_DEFAULT_WITH_THINKING)
        budget = min(budget, limit - 1)
        if budget < MIN_THINKING_BUDGET:
            raise _refuse(
                "reasoning_effort",
                f"reasoning within {limit} tokens (Anthropic's models think with a budget of at "
                f"least {MIN_THINKING_BUDGET} tokens below `max_tokens`)",
            )
        out["additionalModelRequestFields"] = {"thinking": {"type": "enabled", "budget_tokens": budget}}
    if limit is not None:
        out.setdefault("inferenceConfig", {})["maxTokens"] = limit


def _apply_stop(value: Any, out: JSON) -> None:
    # Converse refuses an empty stop sequence, which stops nothing.
    stops = [stop for stop in stop_sequences(value) if stop]
    if stops:
        out.setdefault("inferenceConfig", {})["stopSequences"] = stops


def _apply_temperature(value: Any, out: JSON) -> None:
    out.setdefault("inferenceConfig", {})["temperature"] = temperature_to_1(value, PROVIDER, "Converse's")


def _apply_top_p(value: Any, out: JSON) -> None:
    out.setdefault("inferenceConfig", {})["topP"] = as_number(value, "top_p")


def _apply_response_format(value: Any, out: JSON) -> None:
    kind, spec = response_format(value)
    if kind == "json_object":
        # Converse constrains output to a schema or not at all.
        raise _refuse("response_format.type", NO_JSON_MODE)
    if spec is not None:
        # Converse takes the schema as JSON text.
        definition: JSON = {"schema": orjson.dumps(spec["schema"]).decode()}
        for key in ("name", "description"):
            field = spec.get(key)
            if field is not None and as_str(field, f"response_format.json_schema.{key}"):
                definition[key] = field
        out["outputConfig"] = {"textFormat": {"type": "json_schema", "structure": {"jsonSchema": definition}}}


# Every top-level field a request may have, and what becomes of it (a null one asks for nothing),
# but for these, translated together:
_TRANSLATED_APART = READ_APART | {"reasoning_effort"}
_FIELDS: dict[str, FieldRule] = {
    **unmapped_fields(PROVIDER),
    "stop": _apply_stop,
    "temperature": _apply_temperature,
    "top_p": _apply_top_p,
    "stream": checked_hint(as_bool, "stream"),  # the path streams, not the body
    "response_format": _apply_response_format,
    "user": checked_hint(as_str, "user"),  # hints Converse has no field for
    "safety_identifier": checked_hint(as_str, "safety_identifier"),
}


def translate_request(body: JSON, upstream_model: str) -> JSON:
    if not isinstance(body, dict):
        raise invalid("body", "a JSON object")
    out: JSON = {}
    _apply_messages(body.get("messages"), out)
    apply_fields(body, _FIELDS, _TRANSLATED_APART, out, PROVIDER)
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
            tool_calls.append(
                response_tool_call(tool_use.get("toolUseId"), tool_use.get("name"), tool_use.get("input"))
            )
            continue
        reasoning = block.get("reasoningContent")
        reasoning_text = reasoning.get("reasoningText") if isinstance(reasoning, dict) else None
        if isinstance(reasoning_text, dict):
            thought = nonempty(reasoning_text.get("text"))
            if thought:
                thoughts.append(thought)
        # Redacted reasoning, images, citations and guard content have nothing for an OpenAI client.
    usage = bedrock_usage(body.get("usage"))
    reason = _finish_reason(body.get("stopReason"), bool(tool_calls))
    return completion(None, model, answer(texts, thoughts, tool_calls), reason, wire_usage(usage)), usage


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


class BedrockToOpenAIStream(ChunkStream):
    """One streamed response: ConverseStream events in, OpenAI chunks out (see `ChunkStream`).

    A text block starts with its first delta; a tool-use block with a `contentBlockStart` that
    names the call, then deltas of its input's JSON text. `messageStop` says why the answer
    ended, and `metadata`, after it, holds the usage: the finish chunk goes out at the first,
    the usage chunk and `[DONE]` once both came (or the stream stopped).
    """

    __slots__ = ("_finished", "_has_metadata", "_stop_reason", "_tool_prefixes")
    parser = PARSER
    _wire_usage = staticmethod(wire_usage)

    def __init__(self, model: str, include_usage: bool) -> None:
        super().__init__(model, include_usage)
        self._finished = False  # the finish chunk went out
        self._has_metadata = False
        self._stop_reason: Any = None
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
            self._finish_once(out)
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
            self._start(None, out)  # ConverseStream names no message
        # `contentBlockStop`, and event types Bedrock may add, are skipped.

    def _on_delta(self, event: JSON, out: list[bytes]) -> None:
        delta = event.get("delta")
        if not isinstance(delta, dict):
            return
        text = delta.get("text")
        if text is not None:
            self._text(b'{"content":', text, out)
            return
        tool_use = delta.get("toolUse")
        if isinstance(tool_use, dict):
            prefix = self._tool_prefixes.get(_block_index(event))
            fragment = nonempty(tool_use.get("input"))
            if prefix is not None and fragment:
                out.append(prefix + orjson.dumps(fragment) + ARGUMENTS_END)
            return
        reasoning = delta.get("reasoningContent")
        if isinstance(reasoning, dict):
            self._text(b'{"reasoning_content":', reasoning.get("text"), out)
        # A reasoning `signature` or `redactedContent` (OpenAI clients cannot send them back),
        # and citations, are dropped.

    def _on_block_start(self, event: JSON, out: list[bytes]) -> None:
        start = event.get("start")
        tool_use = start.get("toolUse") if isinstance(start, dict) else None
        if not isinstance(tool_use, dict):
            return  # other blocks (tool results, images) have nothing for an OpenAI client
        prefix = self._tool_call(tool_use.get("toolUseId"), tool_use.get("name"), "", out)
        self._tool_prefixes[_block_index(event)] = prefix

    def _finish_once(self, out: list[bytes]) -> None:
        if not self._finished:
            self._finished = True
            self._finish(_finish_reason(self._stop_reason, self._tool_calls > 0), out)

    def _end(self, out: list[bytes]) -> None:
        self._finish_once(out)
        self._done(out)


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
