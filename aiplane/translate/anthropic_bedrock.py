"""Anthropic Messages clients served by AWS Bedrock's Converse API.

The decision server builds the path (`/model/{modelId}/converse`, or `.../converse-stream`),
so the body names no model and says nothing about streaming. Converse has fields of its own for
what every model takes; what only Claude takes goes in `additionalModelRequestFields`, which
Bedrock hands to the model as it is, so it is written in Claude's own spelling, and only for a
model id that names Claude or no vendor (`bedrock_wire.takes_claude_fields`). Request fields are
translated one by one; each is mapped, dropped because it is only a hint, or refused with
`UnsupportedFeature`:

- mapped: `system`; `messages`: text, base64 images, base64 PDF and plain-text documents
  (named by their `title`, cut to the characters Converse allows), tool_use blocks as
  `toolUse`, tool_result blocks as `toolResult` (text, image and document content, `is_error`
  as `status: error`), thinking and redacted_thinking blocks of earlier turns as
  `reasoningContent` (text and signature; the redacted data as it came); consecutive messages of
  one role merged into one; `tools` (as `toolSpec`, `strict` kept); `tool_choice` (`auto`,
  `any`, `tool`; `none` by sending no tools); `max_tokens`, `temperature`, `top_p` and
  `stop_sequences` (`inferenceConfig`; with stop sequences the response is asked for Claude's
  `/stop_sequence`, so the client learns which one matched); `top_k` and `thinking`
  (`additionalModelRequestFields`); `output_config` (`outputConfig`: its `effort`, and a
  `json_schema` format as `textFormat`); `cache_control` on a system block, a message block
  or a tool, and at the top level (on the last block): a `cachePoint` right after the block
  (Anthropic caches the prompt up to and including the marked block, Bedrock the prompt
  before a cache point: the same prefix), a `1h` ttl kept;
- dropped hints: `stream` (the path streams), `metadata` (Converse's `requestMetadata` only
  labels invocation logs), `service_tier`, `speed: standard`, `tool_choice.disable_parallel_tool_use`
  (Converse has no switch for it; an Anthropic client reads any number of calls), a tool's
  `eager_input_streaming`, the `citations` of earlier text blocks, `thinking: disabled` for a
  model other than Claude (it is Claude's switch), and `cache_control` inside a
  tool_result's content (Converse has no cache point there: the tool_result's own one serves);
- refused: images and documents by URL or from the Files API, documents of other sources or
  with citations enabled, images of other types than Converse's four, server tools, tools with
  `input_examples`, `allowed_callers` or `defer_loading`, `tool_choice: none` in a conversation
  that already used tools (Converse then wants the tools, and cannot forbid calling them),
  `max_tokens: 0` (Converse cannot just warm the cache), `top_k` and `thinking` other than
  `disabled` for a model other than Claude, `speed: fast`, `mcp_servers`,
  `container`, `context_management`, `inference_geo`, `diagnostics`, and any other field or block
  type not listed here. A top-level field that is null asks for nothing, as if absent.

Converse answers with no message id and no model: the id is made here, and the model is the one
the client asked for. Its stream reports usage in a `metadata` event after `messageStop`, so the
client's `message_delta` waits for it (or for the end of the stream).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import orjson

from aiplane.translate.anthropic_wire import (
    DELTA_END,
    NOT_JSON,
    SIGNATURE_DELTA,
    TEXT_BLOCK,
    TEXT_DELTA,
    THINKING_BLOCK,
    THINKING_DELTA,
    THINKING_TYPES,
    TRANSLATED_APART,
    AnthropicStream,
    FieldApplier,
    apply_fields,
    block_delta_prefix,
    block_start,
    block_text,
    check_parallel_switch,
    client_error,
    has_tool_use,
    ignore,
    read_blocks,
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
    tool_use_block,
    wire_usage,
)
from aiplane.translate.base import StreamTranslator, Usage
from aiplane.translate.bedrock_wire import (
    IMAGE_FORMATS,
    PARSER,
    PROVIDER,
    bedrock_usage,
    document_name,
    read_error,
    stream_exception,
    takes_claude_fields,
    uses_tools,
)
from aiplane.translate.common import (
    JSON,
    as_bool,
    as_dict,
    as_int,
    as_list,
    as_number,
    as_str,
    client_model,
    invalid,
    nonempty,
    refuse,
)
from aiplane.translate.sse import SSEEvent

# ---------------------------------------------------------------------------------------------
# Request: Anthropic Messages body -> Converse body
# ---------------------------------------------------------------------------------------------


def _cache_point(value: Any, param: str) -> JSON | None:
    """An Anthropic `cache_control` as the Converse cache point that follows the marked block."""
    if value is None:
        return None
    control = as_dict(value, param)
    if control.get("type") != "ephemeral":
        raise invalid(f"{param}.type", "`ephemeral`")
    ttl = control.get("ttl")
    if ttl is None or ttl == "5m":  # Bedrock's default, which older regions know without a ttl
        return {"cachePoint": {"type": "default"}}
    if ttl == "1h":
        return {"cachePoint": {"type": "default", "ttl": "1h"}}
    raise invalid(f"{param}.ttl", "`5m` or `1h`")


def _add(blocks: list[JSON], block: JSON, source: JSON, param: str) -> None:
    """`block`, translated from the client's `source`, and the cache point its cache_control asks for."""
    blocks.append(block)
    control = source.get("cache_control")
    if control is not None:  # the param is formatted only for a block that has one
        point = _cache_point(control, f"{param}.cache_control")
        if point is not None:
            blocks.append(point)


def _text(block: JSON, param: str) -> JSON:
    return {"text": block_text(block, param)}


def _image(block: JSON, param: str) -> JSON:
    if block.get("transformations") is not None:
        raise refuse(f"{param}.transformations", "image transformations", PROVIDER)
    source = as_dict(block.get("source"), f"{param}.source")
    kind = source.get("type")
    if kind != "base64":
        raise refuse(
            f"{param}.source.type", f"an image source of type `{kind}` (Converse takes the image's bytes)", PROVIDER
        )
    media_type = as_str(source.get("media_type"), f"{param}.source.media_type")
    image_format = IMAGE_FORMATS.get(media_type)
    if image_format is None:
        raise refuse(f"{param}.source.media_type", f"an image of type `{media_type}`", PROVIDER)
    data = as_str(source.get("data"), f"{param}.source.data")
    return {"image": {"format": image_format, "source": {"bytes": data}}}


def _document(block: JSON, param: str, names: set[str]) -> JSON:
    source = as_dict(block.get("source"), f"{param}.source")
    kind = source.get("type")
    if kind == "base64":
        media_type = as_str(source.get("media_type"), f"{param}.source.media_type")
        if media_type != "application/pdf":
            raise refuse(f"{param}.source.media_type", f"a base64 document of type `{media_type}`", PROVIDER)
        document_format, data = "pdf", as_str(source.get("data"), f"{param}.source.data")
    elif kind == "text":
        text = as_str(source.get("data"), f"{param}.source.data")
        try:
            document_format, data = "txt", base64.b64encode(text.encode()).decode()
        except UnicodeEncodeError:
            raise invalid(f"{param}.source.data", "valid Unicode text") from None
    else:
        raise refuse(f"{param}.source.type", f"a document source of type `{kind}`", PROVIDER)
    citations = block.get("citations")
    if citations is not None:
        enabled = as_dict(citations, f"{param}.citations").get("enabled")
        if enabled is not None and as_bool(enabled, f"{param}.citations.enabled"):
            raise refuse(f"{param}.citations.enabled", "citations", PROVIDER)
    title = block.get("title")
    title = None if title is None else as_str(title, f"{param}.title")
    name = document_name(title, names)
    document: JSON = {"format": document_format, "name": name, "source": {"bytes": data}}
    about = block.get("context")
    if about is not None:
        document["context"] = as_str(about, f"{param}.context")
    return {"document": document}


def _tool_result(block: JSON, param: str, names: set[str]) -> JSON:
    content = block.get("content")
    items: list[JSON] = []
    if isinstance(content, str):
        if content:  # Converse refuses a blank text; an empty result is no content
            items.append({"text": content})
    elif content is not None:
        for kind, item, where in read_blocks(as_list(content, f"{param}.content"), f"{param}.content"):
            if kind == "text":
                items.append(_text(item, where))
            elif kind == "image":
                items.append(_image(item, where))
            elif kind == "document":
                items.append(_document(item, where, names))
            else:
                raise refused_block(kind, where, "in a tool result", PROVIDER)
            if item.get("cache_control") is not None:
                _cache_point(item["cache_control"], f"{where}.cache_control")  # checked; no place for it
    result: JSON = {"toolUseId": read_tool_use_id(block, param), "content": items}
    is_error = block.get("is_error")
    if is_error is not None and as_bool(is_error, f"{param}.is_error"):
        result["status"] = "error"
    return {"toolResult": result}


def _user_blocks(content: list[Any], param: str, names: set[str]) -> list[JSON]:
    blocks: list[JSON] = []
    for kind, block, where in read_blocks(content, param):
        if kind == "text":
            _add(blocks, _text(block, where), block, where)
        elif kind == "image":
            _add(blocks, _image(block, where), block, where)
        elif kind == "document":
            _add(blocks, _document(block, where, names), block, where)
        elif kind == "tool_result":
            _add(blocks, _tool_result(block, where, names), block, where)
        else:
            raise refused_block(kind, where, "in a user turn", PROVIDER)
    return blocks


def _tool_use(block: JSON, param: str) -> JSON:
    call_id, name, tool_input = read_tool_use(block, param)
    return {"toolUse": {"toolUseId": call_id, "name": name, "input": tool_input}}


def _thinking(block: JSON, param: str) -> JSON:
    reasoning = {"text": as_str(block.get("thinking"), f"{param}.thinking")}
    signature = as_str(block.get("signature"), f"{param}.signature")
    if signature:
        reasoning["signature"] = signature
    return {"reasoningContent": {"reasoningText": reasoning}}


def _redacted_thinking(block: JSON, param: str) -> JSON:
    # The data goes back as it came from Bedrock (`redactedContent`, base64 on the JSON wire).
    return {"reasoningContent": {"redactedContent": as_str(block.get("data"), f"{param}.data")}}


def _assistant_blocks(content: list[Any], param: str) -> list[JSON]:
    blocks: list[JSON] = []
    for kind, block, where in read_blocks(content, param):
        if kind == "text":
            _add(blocks, _text(block, where), block, where)
        elif kind == "tool_use":
            _add(blocks, _tool_use(block, where), block, where)
        elif kind == "thinking":
            _add(blocks, _thinking(block, where), block, where)
        elif kind == "redacted_thinking":
            _add(blocks, _redacted_thinking(block, where), block, where)
        else:
            raise refused_block(kind, where, "in an assistant turn", PROVIDER)
    return blocks


def _messages(value: Any, names: set[str]) -> list[JSON]:
    turns: list[JSON] = []
    for role, content, param in read_messages(value):
        if isinstance(content, str):
            blocks = [{"text": content}]
        elif role == "user":
            blocks = _user_blocks(content, param, names)
        else:
            blocks = _assistant_blocks(content, param)
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)  # Converse wants the roles to alternate
        else:
            turns.append({"role": role, "content": blocks})
    if not turns:
        raise invalid("messages", "a non-empty list")
    return turns


def _tools(value: Any) -> list[JSON]:
    tools: list[JSON] = []
    for tool, param in read_tools(value, PROVIDER):
        if tool.get("input_examples"):
            raise refuse(f"{param}.input_examples", "a tool's `input_examples`", PROVIDER)
        callers = tool.get("allowed_callers")  # `direct` is the default
        if callers is not None and any(caller != "direct" for caller in as_list(callers, f"{param}.allowed_callers")):
            raise refuse(f"{param}.allowed_callers", "a tool called from code execution", PROVIDER)
        if tool.get("defer_loading") is not None and as_bool(tool["defer_loading"], f"{param}.defer_loading"):
            raise refuse(f"{param}.defer_loading", "a tool loaded on demand", PROVIDER)
        if tool.get("eager_input_streaming") is not None:
            as_bool(tool["eager_input_streaming"], f"{param}.eager_input_streaming")  # how it streams, not what
        name, schema = read_tool_schema(tool, param)
        spec: JSON = {"name": name, "inputSchema": {"json": schema}}
        description = tool.get("description")
        if description is not None and as_str(description, f"{param}.description"):
            spec["description"] = description  # Converse refuses an empty one
        if tool.get("strict") is not None:
            spec["strict"] = as_bool(tool["strict"], f"{param}.strict")
        _add(tools, {"toolSpec": spec}, tool, param)
    return tools


_NO_CHOICE = object()  # the client named no tool_choice


def _tool_choice(value: Any) -> object:
    """Converse's toolChoice; None for `none`, which Converse says by sending no tools."""
    choice = as_dict(value, "tool_choice")
    check_parallel_switch(choice)  # Converse has none
    kind, name = read_tool_choice(choice)
    if kind == "none":
        return None
    return {kind: {}} if name is None else {"tool": {"name": name}}


def _apply_tools(body: JSON, out: JSON) -> None:
    value, choice_value = body.get("tools"), body.get("tool_choice")
    tools = [] if value is None else _tools(value)
    choice = _NO_CHOICE if choice_value is None else _tool_choice(choice_value)  # checked even without tools
    if not tools:
        return  # Converse refuses an empty tool list, and a choice without tools
    if choice is None:
        if uses_tools(out["messages"]):
            raise refuse(
                "tool_choice.type",
                "`none` in a conversation with tool_use or tool_result blocks (Converse then wants the "
                "tools, and cannot forbid calling them)",
                PROVIDER,
            )
        return
    config: JSON = {"tools": tools}
    if choice is not _NO_CHOICE:
        config["toolChoice"] = choice
    out["toolConfig"] = config


def _nested(out: JSON, key: str) -> JSON:
    """The object at `out[key]`, made when a field first writes into it."""
    inner = out.get(key)
    if inner is None:
        inner = out[key] = {}
    return inner


def _inference(out: JSON) -> JSON:
    return _nested(out, "inferenceConfig")


def _extra(out: JSON) -> JSON:
    """Claude's own fields, which Bedrock hands it as they are."""
    return _nested(out, "additionalModelRequestFields")


def _apply_system(value: Any, out: JSON) -> None:
    if isinstance(value, str):
        if value:  # Converse refuses a blank system text
            out["system"] = [{"text": value}]
        return
    blocks: list[JSON] = []
    for kind, block, where in read_blocks(as_list(value, "system"), "system"):
        if kind != "text":
            raise refused_block(kind, where, "in the system prompt", PROVIDER)
        text = block_text(block, where)
        point = _cache_point(block.get("cache_control"), f"{where}.cache_control")
        if text:
            blocks.append({"text": text})
        if point is not None and blocks:
            blocks.append(point)
    if blocks:
        out["system"] = blocks


def _apply_max_tokens(value: Any, out: JSON) -> None:
    max_tokens = as_int(value, "max_tokens")
    if max_tokens < 1:
        raise refuse("max_tokens", f"`max_tokens: {max_tokens}` (Converse answers with at least one token)", PROVIDER)
    _inference(out)["maxTokens"] = max_tokens


def _apply_stop_sequences(value: Any, out: JSON) -> None:
    stops = read_stop_sequences(value)
    if stops:
        _inference(out)["stopSequences"] = stops
        # Converse says `stop_sequence` without saying which: Claude's own answer does, when asked.
        out["additionalModelResponseFieldPaths"] = ["/stop_sequence"]


def _number(name: str, key: str) -> FieldApplier:
    def apply(value: Any, out: JSON) -> None:
        _inference(out)[key] = as_number(value, name)

    return apply


def _apply_top_k(value: Any, out: JSON) -> None:
    _extra(out)["top_k"] = as_int(value, "top_k")


_THINKING_TYPES = (*THINKING_TYPES, "between_tools")


def _apply_thinking(value: Any, out: JSON) -> None:
    # Claude's own parameter, passed on whole: `display` and the like need no translation.
    read_thinking(value, _THINKING_TYPES)
    _extra(out)["thinking"] = dict(value)


def _apply_output_config(value: Any, out: JSON) -> None:
    config = as_dict(value, "output_config")
    converse: JSON = {}
    for key, item in config.items():
        if item is None:
            continue
        if key == "effort":
            converse["effort"] = as_str(item, "output_config.effort")
        elif key == "format":
            converse["textFormat"] = _text_format(as_dict(item, "output_config.format"))
        else:
            raise refuse(f"output_config.{key}", f"`output_config.{key}`", PROVIDER)
    if converse:
        out["outputConfig"] = converse


def _text_format(value: JSON) -> JSON:
    if value.get("type") != "json_schema":
        raise invalid("output_config.format.type", "`json_schema`")
    schema = as_dict(value.get("schema"), "output_config.format.schema")
    try:
        text = orjson.dumps(schema).decode()  # Converse takes the schema as a string
    except orjson.JSONEncodeError as e:
        raise invalid("output_config.format.schema", f"encodable as JSON ({e})") from None
    return {"type": "json_schema", "structure": {"jsonSchema": {"schema": text}}}


def _apply_metadata(value: Any, out: JSON) -> None:
    read_user_id(value)  # Converse's requestMetadata only labels invocation logs


def _apply_stream(value: Any, out: JSON) -> None:
    as_bool(value, "stream")  # the path streams, not the body


def _apply_speed(value: Any, out: JSON) -> None:
    if value == "fast":
        raise refuse("speed", "`speed: fast`", PROVIDER)
    if value != "standard":
        raise invalid("speed", "`standard` or `fast`")


# Every top-level field a request may have, and what becomes of it, but for these:
_TRANSLATED_APART = TRANSLATED_APART | {"cache_control"}  # on the last block, whatever the fields say
_FIELDS: dict[str, FieldApplier] = {
    "model": ignore,  # the path names the upstream model
    "system": _apply_system,
    "max_tokens": _apply_max_tokens,
    "stop_sequences": _apply_stop_sequences,
    "temperature": _number("temperature", "temperature"),
    "top_p": _number("top_p", "topP"),
    "top_k": _apply_top_k,
    "thinking": _apply_thinking,
    "output_config": _apply_output_config,
    "stream": _apply_stream,
    "metadata": _apply_metadata,
    "service_tier": ignore,
    "speed": _apply_speed,
}


def translate_request(body: JSON, upstream_model: str) -> JSON:
    if not isinstance(body, dict):
        raise invalid("body", "a JSON object")
    out: JSON = {"messages": _messages(body.get("messages"), set())}
    apply_fields(body, _FIELDS, out, PROVIDER, _TRANSLATED_APART, null_is_absent=True)
    point = _cache_point(body.get("cache_control"), "cache_control")
    if point is not None:
        out["messages"][-1]["content"].append(point)  # after the last block, as Anthropic places it
    _apply_tools(body, out)
    if "additionalModelRequestFields" in out and not takes_claude_fields(upstream_model):
        _without_claude_fields(out)
    return out


def _without_claude_fields(out: JSON) -> None:
    """A model other than Claude takes neither `top_k` nor `thinking` in Claude's spelling:
    `thinking: disabled` is what it does anyway, the rest is refused."""
    fields = out.pop("additionalModelRequestFields")
    if "top_k" in fields:
        raise refuse("top_k", "`top_k` for a model other than Claude", PROVIDER)
    if fields["thinking"]["type"] != "disabled":
        raise refuse("thinking.type", "Claude's `thinking` for a model other than Claude", PROVIDER)


# ---------------------------------------------------------------------------------------------
# Response: Converse response -> Anthropic message
# ---------------------------------------------------------------------------------------------

_STOP_REASONS = {
    "end_turn": "end_turn",
    "tool_use": "tool_use",
    "max_tokens": "max_tokens",
    "stop_sequence": "stop_sequence",
    "model_context_window_exceeded": "model_context_window_exceeded",
    "guardrail_intervened": "refusal",
    "content_filtered": "refusal",
}


def _stop(stop_reason: Any, fields: Any, used_tools: bool) -> tuple[str, str | None]:
    """Anthropic's stop_reason and stop_sequence for a Converse stopReason.

    Claude on Bedrock names the stop sequence that matched in `additionalModelResponseFields`
    when the request asks for it; other models do not, and then it is null. Anthropic clients
    loop on `tool_use`, so a turn that called tools says so; other reasons
    (`malformed_model_output`, `malformed_tool_use`, none) end the turn.
    """
    reason = _STOP_REASONS.get(stop_reason) if isinstance(stop_reason, str) else None
    if reason is None or reason == "end_turn":
        return ("tool_use" if used_tools else "end_turn"), None
    if reason == "stop_sequence" and isinstance(fields, dict):
        return reason, nonempty(fields.get("stop_sequence"))
    return reason, None


_ZERO_USAGE = {"input_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 0}


def _reasoning_block(reasoning: JSON) -> JSON | None:
    text = reasoning.get("reasoningText")
    if isinstance(text, dict):
        thinking, signature = text.get("text"), text.get("signature")
        return thinking_block(
            thinking if isinstance(thinking, str) else "", signature if isinstance(signature, str) else ""
        )
    redacted = nonempty(reasoning.get("redactedContent"))
    return None if redacted is None else {"type": "redacted_thinking", "data": redacted}


def translate_response(body: JSON, model: str) -> tuple[JSON, Usage]:
    content: list[JSON] = []
    output = body.get("output")
    message = output.get("message") if isinstance(output, dict) else None
    blocks = message.get("content") if isinstance(message, dict) else None
    for block in blocks if isinstance(blocks, list) else ():
        if not isinstance(block, dict):
            continue
        text = nonempty(block.get("text"))
        if text is not None:
            content.append({"type": "text", "text": text})
            continue
        tool = block.get("toolUse")
        if isinstance(tool, dict):
            content.append(tool_use_block(tool.get("toolUseId"), tool.get("name"), tool.get("input")))
            continue
        reasoning = block.get("reasoningContent")
        if isinstance(reasoning, dict):
            translated = _reasoning_block(reasoning)
            if translated is not None:
                content.append(translated)
        # Images, citations and guard content have nothing for an Anthropic client.
    fields = body.get("additionalModelResponseFields")
    stop_reason, stop_sequence = _stop(body.get("stopReason"), fields, has_tool_use(content))
    usage = bedrock_usage(body.get("usage"))
    return response_message(None, model, content, stop_reason, stop_sequence, wire_usage(usage)), usage  # no id


# ---------------------------------------------------------------------------------------------
# Streaming: ConverseStream events -> Anthropic message stream events
# ---------------------------------------------------------------------------------------------


class ConverseToAnthropicStream(AnthropicStream):
    """One streamed response: ConverseStream events in, Anthropic events out, one block open at a time.

    Converse numbers its blocks as Anthropic does, but opens only tool-use blocks with a
    `contentBlockStart`: a text or reasoning block begins with its first delta, and that is where
    its `content_block_start` is written. A redacted reasoning block is one whole
    `redacted_thinking` block, written when it ends. The stop reason (`messageStop`) comes before
    the usage (`metadata`): the client's `message_delta` waits for both, or for the end of the
    provider's stream.
    """

    __slots__ = ("_redacted", "_tool_prefixes", "_stop_reason", "_stop_fields", "_stopped")
    parser = PARSER

    def __init__(self, model: str) -> None:
        super().__init__(model)  # the open block's key: its kind and Converse's block index
        self._redacted: list[str] = []  # the open redacted_thinking block's data, in pieces
        self._tool_prefixes: dict[int, bytes] = {}  # Converse block index -> input delta prefix of its tool block
        self._stop_reason: Any = None
        self._stop_fields: Any = None
        self._stopped = False  # messageStop came; `_wire_usage` stays None until metadata comes

    def _on_cut(self, out: list[bytes]) -> None:
        self._end(out)

    def _on_event(self, event: SSEEvent, out: list[bytes]) -> None:
        handler = _HANDLERS.get(event.event)
        if handler is None:
            exception = stream_exception(event.event, event.data)
            if exception is not None:
                status, message = exception
                self._error(status, message, out)
            return  # events Converse may add later mean nothing to this client
        payload = self._json_object(event.data, NOT_JSON, out)
        if payload is None:
            return
        if not self._started:
            self._start_message(None, _ZERO_USAGE, out)  # Converse names no id
        handler(self, payload, out)

    def _on_block_start(self, payload: JSON, out: list[bytes]) -> None:
        start = payload.get("start")
        tool = start.get("toolUse") if isinstance(start, dict) else None
        if isinstance(tool, dict):
            self._open_tool_block(_block_index(payload), tool, out)

    def _on_block_delta(self, payload: JSON, out: list[bytes]) -> None:
        delta = payload.get("delta")
        if not isinstance(delta, dict):
            return
        source = _block_index(payload)
        text = nonempty(delta.get("text"))
        if text is not None:
            self._delta(("text", source), TEXT_BLOCK, TEXT_DELTA, text, out)
        tool = delta.get("toolUse")
        if isinstance(tool, dict):
            partial = nonempty(tool.get("input"))
            prefix = self._tool_prefixes.get(source)
            if prefix is None:  # a tool block Converse did not start: it still gets one
                prefix = self._open_tool_block(source, {}, out)
            elif self._open != ("tool", source):
                # Converse finishes a block before the next; input for a closed call cannot be sent faithfully.
                self._error(502, "the provider's stream went back to a tool call it had finished", out)
                return
            if partial is not None:
                out.append(prefix + orjson.dumps(partial) + DELTA_END)
        reasoning = delta.get("reasoningContent")
        if isinstance(reasoning, dict):
            self._on_reasoning(source, reasoning, out)

    def _on_reasoning(self, source: int, reasoning: JSON, out: list[bytes]) -> None:
        text = nonempty(reasoning.get("text"))
        if text is not None:
            self._delta(("thinking", source), THINKING_BLOCK, THINKING_DELTA, text, out)
        signature = nonempty(reasoning.get("signature"))
        if signature is not None:
            if self._open != ("thinking", source):
                self._open_block(("thinking", source), THINKING_BLOCK, THINKING_DELTA, out)
            prefix = block_delta_prefix(self._open_index, SIGNATURE_DELTA)
            out.append(prefix + orjson.dumps(signature) + DELTA_END)
        redacted = nonempty(reasoning.get("redactedContent"))
        if redacted is not None:
            if self._open != ("redacted", source):
                self._open_redacted(("redacted", source), out)
            self._redacted.append(redacted)

    def _on_block_stop(self, payload: JSON, out: list[bytes]) -> None:
        if self._open is not None and self._open[1] == _block_index(payload):
            self._close_block(out)

    def _on_message_stop(self, payload: JSON, out: list[bytes]) -> None:
        self._close_block(out)
        self._stop_reason = payload.get("stopReason")
        self._stop_fields = payload.get("additionalModelResponseFields")
        self._stopped = True
        if self._wire_usage is not None:
            self._end(out)

    def _on_metadata(self, payload: JSON, out: list[bytes]) -> None:
        usage = payload.get("usage")
        if isinstance(usage, dict):
            self._usage = bedrock_usage(usage)
            self._wire_usage = wire_usage(self._usage)
            if self._stopped:
                self._end(out)

    def _open_tool_block(self, source: int, tool: JSON, out: list[bytes]) -> bytes:
        tool_id = nonempty(tool.get("toolUseId")) or self._made_tool_id()
        prefix = self._tool_prefixes[source] = self._open_tool(("tool", source), tool_id, tool.get("name"), out)
        return prefix

    def _open_redacted(self, key: tuple[str, int], out: list[bytes]) -> None:
        """Opens a redacted_thinking block, written whole when it closes: its data comes in pieces."""
        self._close_block(out)
        self._open, self._open_index = key, self._next_index
        self._next_index += 1

    def _close_block(self, out: list[bytes]) -> None:
        if self._open is not None and self._open[0] == "redacted":
            block = {"type": "redacted_thinking", "data": _joined_base64(self._redacted)}
            out.append(block_start(self._open_index, orjson.dumps(block)))
            self._redacted = []
        AnthropicStream._close_block(self, out)

    def _end(self, out: list[bytes]) -> None:
        if not self._started:
            self._start_message(None, _ZERO_USAGE, out)
        stop_reason, stop_sequence = _stop(self._stop_reason, self._stop_fields, bool(self._tool_prefixes))
        self._finish(stop_reason, stop_sequence, self._wire_usage or _ZERO_USAGE, out)


def _block_index(payload: JSON) -> int:
    """The Converse block index an event names; -1 when it names none."""
    index = payload.get("contentBlockIndex")
    return index if isinstance(index, int) else -1


def _joined_base64(pieces: list[str]) -> str:
    """Base64 data that came in pieces as one: each piece stands alone, so a piece ending in
    padding cannot just be followed by the next."""
    if len(pieces) == 1:
        return pieces[0]
    try:
        return base64.b64encode(b"".join(base64.b64decode(piece, validate=True) for piece in pieces)).decode()
    except ValueError:
        return "".join(pieces)


def _on_message_start(stream: ConverseToAnthropicStream, payload: JSON, out: list[bytes]) -> None:
    """The message began: `_on_event` has written its message_start."""


_HANDLERS: dict[str, Callable[[ConverseToAnthropicStream, JSON, list[bytes]], None]] = {
    "messageStart": _on_message_start,
    "contentBlockStart": ConverseToAnthropicStream._on_block_start,
    "contentBlockDelta": ConverseToAnthropicStream._on_block_delta,
    "contentBlockStop": ConverseToAnthropicStream._on_block_stop,
    "messageStop": ConverseToAnthropicStream._on_message_stop,
    "metadata": ConverseToAnthropicStream._on_metadata,
}


class AnthropicToBedrock:
    """Anthropic Messages clients, Bedrock Converse providers."""

    client = "anthropic"
    provider = "bedrock"

    def request(self, body: JSON, upstream_model: str) -> JSON:
        return translate_request(body, upstream_model)  # the path names the model; its vendor, what it takes

    def response(self, body: JSON, client_request: JSON) -> tuple[JSON, Usage]:
        return translate_response(body, client_model(client_request))

    def stream(self, client_request: JSON) -> StreamTranslator:
        return ConverseToAnthropicStream(client_model(client_request))

    def error(self, status: int, body: bytes) -> bytes:
        return client_error(status, read_error(status, body))  # Bedrock's error shapes
