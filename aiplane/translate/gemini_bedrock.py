"""Gemini generateContent clients served by AWS Bedrock's Converse API (`converse`, `converse-stream`).

The client's body is read as `gemini_anthropic` reads it (protobuf JSON in either spelling, `model`
and `stream` added by the decision server, a null field an absent one), with the readers every
Gemini-client pair shares in `gemini_wire`, which also writes the answers and streams; the
Converse body is built with the pieces in `bedrock_wire`. The model goes in the URL path
(`/model/{modelId}/converse`), which the decision server builds, so the body names none; nor
does it say whether to stream: that is the path too.

- mapped: `systemInstruction` (`system` text blocks); `contents` (roles `user`, `model`, and
  `function`; consecutive turns of one role merged, as Converse wants them alternating) with
  `text`, `inlineData` images (`image`) and documents (`document`: PDF, CSV, Word, Excel, HTML,
  text and Markdown, named by `displayName` or `document`, see `bedrock_wire.document_name`),
  `functionCall` (`toolUse`) and `functionResponse` (`toolResult` with the response as `json`);
  `functionDeclarations` (`toolConfig.tools`, schemas made JSON Schema as `gemini_openai` does);
  `toolConfig.functionCallingConfig` (`toolChoice`: `AUTO` is Converse's default, `ANY` is `any`,
  or `tool` for one allowed name; `NONE` leaves the tools out, Converse having no way to forbid
  calls); and in `generationConfig`: `temperature`, `topP`, `maxOutputTokens`, `stopSequences`
  (`inferenceConfig`), `topK` and `thinkingConfig` (in `additionalModelRequestFields` as Claude
  spells them, `top_k` and `thinking`: see `bedrock_wire.takes_claude_fields`; a thinking budget
  as `gemini_anthropic` makes it, with `gemini_wire.thinking_budget`, and no thinking in a tool
  loop), `responseMimeType: application/json` with `responseSchema` (made JSON Schema) or
  `responseJsonSchema` (Converse's structured output, `outputConfig.textFormat`, as
  `openai_bedrock` maps OpenAI's `json_schema`), `candidateCount: 1`, `responseModalities: ["TEXT"]`;
- dropped hints: `safetySettings` (Bedrock's guardrails are configured apart), `thought` parts and
  `thoughtSignature`s (Claude takes thinking back only with its own signature), declarations'
  `response` schemas, `labels`, `serviceTier`, `mediaResolution`, `toolConfig.retrievalConfig`;
- refused: `candidateCount` above 1, a `temperature` above 1 (Converse's range is 0 to 1),
  `presencePenalty`, `frequencyPenalty`, `seed`, logprobs, JSON output without a schema
  (Converse has no JSON mode), output other than text, `cachedContent`, `store: true`, server
  tools, `VALIDATED` mode, function calls or responses in the conversation without `tools`, or
  with mode `NONE` (Converse takes them only with the tools declared, and has no choice that
  forbids calling them), non-blocking functions, `fileData` (Converse takes media inline or from
  S3, never by URL), other inline media, media in `model` turns, multimodal function responses,
  code execution and video parts, `topK` and thinking for a model whose id names a vendor other
  than Anthropic, and any field not named here.

Function calls without an id get `tooluse_gemini_<n>` (n counting the request's calls from 0, so a
history gets the same ids every time), and a response without one answers the first unanswered call
of its name (`gemini_wire.FunctionCallPairing`). Bedrock's `toolUseId`s go back to the client in
`functionCall.id`, which Google's SDKs send back. Converse answers name no model and no id: the
client's answer names the model it asked for, under a fresh response id.
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
    model_vendor,
    read_error,
    stream_exception,
    takes_claude_fields,
    uses_tools,
)
from aiplane.translate.common import (
    JSON,
    Param,
    as_bool,
    as_dict,
    as_int,
    as_number,
    as_str,
    as_str_list,
    client_model,
    nonempty,
    refuse,
)
from aiplane.translate.gemini_wire import (
    CALLING,
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
    finish_reason,
    function_call_part,
    function_calling,
    generate_content_response,
    google_error_body,
    include_thoughts,
    inline_data,
    json_schema,
    json_text,
    output_schema,
    read_request,
    response_id,
    system_texts,
    thinking_budget,
    turns,
)
from aiplane.translate.sse import SSEEvent


def _refuse(param: Param, what: str) -> UnsupportedFeature:
    return refuse(param, what, PROVIDER)


# ---------------------------------------------------------------------------------------------
# Request: Gemini GenerateContentRequest -> Converse body
# ---------------------------------------------------------------------------------------------

_MEDIA = "images (PNG, JPEG, GIF, WebP) and documents (PDF, CSV, DOC, DOCX, XLS, XLSX, HTML, TXT, Markdown)"


def _media(value: Any, param: Param, documents: set[str]) -> JSON:
    """An image or a document; Converse wants documents named, each differently (`documents`: the names taken)."""
    media_type, data, display_name = inline_data(value, param, PROVIDER)
    lowered = media_type.partition(";")[0].strip().lower()
    image = IMAGE_FORMATS.get(lowered)  # Converse takes media as bytes (base64 in JSON)
    if image is not None:
        return {"image": {"format": image, "source": {"bytes": data}}}
    document = DOCUMENT_FORMATS.get(lowered)
    if document is None:
        raise _refuse((param, "mimeType"), f"media of type `{media_type or 'unknown'}` ({_MEDIA} only)")
    display_name = None if display_name is None else as_str(display_name, (param, "displayName"))
    name = document_name(display_name, documents)
    return {"document": {"format": document, "name": name, "source": {"bytes": data}}}


def _blocks(parts: Parts, calls: FunctionCallPairing, model: bool, documents: set[str]) -> list[JSON]:
    blocks: list[JSON] = []
    for name, at, field in parts:
        if name == "text":
            text = as_str(field, at)
            if text and not text.isspace():  # Converse refuses blank text blocks
                blocks.append({"text": text})
        elif name == "functionCall":
            call_id, function, args, _ = calls.call(field, at)
            blocks.append({"toolUse": {"toolUseId": call_id, "name": function, "input": args}})
        elif name == "functionResponse":
            call_id, response, _ = calls.answer_response(field, at, "a multimodal function response")
            blocks.append({"toolResult": {"toolUseId": call_id, "content": [{"json": response}]}})
        elif name == "fileData":
            raise _refuse(at, "a file by URI (`fileData`): Converse takes media inline (`inlineData`) or from S3")
        elif model:
            raise _refuse(at, "media in a `model` turn (models take media from the user only)")
        else:
            blocks.append(_media(field, at, documents))
    return blocks


def _messages(value: Any) -> list[JSON]:
    calls = FunctionCallPairing(PROVIDER, "tooluse_gemini_")
    documents: set[str] = set()
    roles_and_blocks = []
    for model, parts in turns(value, calls):
        roles_and_blocks.append(("assistant" if model else "user", _blocks(parts, calls, model, documents)))
    return alternating(roles_and_blocks, "toolResult")  # Claude, behind Converse, wants them as Anthropic does


def _tool(name: str, description: str | None, parameters: JSON | None) -> JSON:
    spec: JSON = {"name": name}
    if description:
        spec["description"] = description  # Converse refuses an empty one
    # Converse wants an object schema for every tool; Gemini takes a function without parameters.
    spec["inputSchema"] = {"json": parameters or {"type": "object", "properties": {}}}
    return {"toolSpec": spec}


def _apply_tools(request: JSON, out: JSON) -> None:
    """The declared functions, and Gemini's mode as Converse's `toolChoice`, into `out["toolConfig"]`.

    `AUTO` is Converse's default; `NONE` sends no tools: Converse has no choice that forbids
    calling them. Converse wants tools declared whenever the conversation has function calls or
    responses."""
    functions, mode, named = function_calling(request, PROVIDER)
    if not functions or mode == "none":
        if not uses_tools(out["messages"]):
            return
        if functions:
            raise _refuse(
                f"{CALLING}.mode",
                "forbidding function calls (`NONE`) in a conversation that has some (Converse takes "
                "function calls and responses only with the tools declared, and has no choice forbidding them)",
            )
        raise _refuse("tools", "a conversation with function calls but no `tools` (Converse wants them declared)")
    config: JSON = {"tools": [_tool(*function) for function in functions]}
    if named is not None:
        config["toolChoice"] = {"tool": {"name": named}}
    elif mode == "any":
        config["toolChoice"] = {"any": {}}
    out["toolConfig"] = config


def _claude_only(upstream_model: str, param: Param, what: str) -> None:
    if not takes_claude_fields(upstream_model):
        vendor = model_vendor(upstream_model)
        raise _refuse(param, f"{what} for a `{vendor}` model (Bedrock takes it in Claude's spelling only)")


def _apply_config(config: JSON, out: JSON, upstream_model: str) -> int | None:
    """The generationConfig's fields on `out`; returns the thinking budget asked for."""
    inference: JSON = {}
    extra: JSON = {}
    budget = None
    media_type, schema, raw_schema = None, None, None
    for name, at, value in config_fields(config):
        if name == "temperature":
            temperature = as_number(value, at)
            if temperature > 1:
                # Scaling would change what every other value means.
                raise _refuse(at, "a temperature above 1 (Converse's range is 0 to 1)")
            inference["temperature"] = temperature
        elif name == "topP":
            inference["topP"] = as_number(value, at)
        elif name == "maxOutputTokens":
            inference["maxTokens"] = as_int(value, at)
        elif name == "stopSequences":
            stops = as_str_list(value, at)
            if stops:
                inference["stopSequences"] = stops
        elif name == "topK":
            top_k = as_int(value, at)
            _claude_only(upstream_model, at, "top-k sampling")
            extra["top_k"] = top_k
        elif name == "thinkingConfig":
            budget = thinking_budget(value, PROVIDER, MIN_THINKING_BUDGET)
            if budget is not None:
                _claude_only(upstream_model, at, "a thinking budget")
        elif name == "responseMimeType":
            media_type = as_str(value, at).lower()
        elif name == "responseSchema":
            schema = json_schema(value, at)
        elif name == "responseJsonSchema":
            raw_schema = as_dict(value, at)
        else:
            check_unmapped_config(name, at, value, PROVIDER)
    _apply_response_format(media_type, output_schema(media_type, schema, raw_schema), out)
    if inference:
        out["inferenceConfig"] = inference
    if extra:
        out["additionalModelRequestFields"] = extra
    return budget


def _apply_response_format(media_type: str | None, schema: JSON | None, out: JSON) -> None:
    """Gemini's JSON output with a schema as Converse's structured output (`outputConfig.textFormat`,
    which takes the schema as JSON text); JSON mode without a schema cannot be said."""
    if schema is not None:
        text = json_text(schema, (CONFIG, "responseJsonSchema"))
        out["outputConfig"] = {"textFormat": {"type": "json_schema", "structure": {"jsonSchema": {"schema": text}}}}
    elif media_type == "application/json":
        raise _refuse(
            f"{CONFIG}.responseMimeType",
            "JSON output without a schema (Converse constrains output to a schema or not at all)",
        )
    elif media_type not in (None, "text/plain"):
        raise _refuse(f"{CONFIG}.responseMimeType", f"a response of type `{media_type}`")


def _apply_thinking(budget: int | None, out: JSON) -> None:
    """Claude's `thinking` with `budget` (None: off), as `anthropic_wire.apply_max_tokens_and_thinking`
    makes it: thinking counts in maxTokens and its budget must be below it."""
    if budget is None or in_tool_loop(out["messages"]):
        return
    inference = out.setdefault("inferenceConfig", {})
    max_tokens = inference.get("maxTokens")
    if max_tokens is None:
        max_tokens = min(budget + DEFAULT_MAX_TOKENS, MAX_DEFAULT_WITH_THINKING)
    budget = min(budget, max_tokens - 1)
    if budget < MIN_THINKING_BUDGET:
        raise _refuse(
            THINKING,
            f"thinking within {max_tokens} tokens (Claude thinks with a budget of at least "
            f"{MIN_THINKING_BUDGET} tokens below `maxOutputTokens`)",
        )
    inference["maxTokens"] = max_tokens
    out.setdefault("additionalModelRequestFields", {})["thinking"] = {"type": "enabled", "budget_tokens": budget}


def translate_request(body: JSON, upstream_model: str) -> JSON:
    request = read_request(body, PROVIDER)
    out: JSON = {"messages": _messages(request.get("contents"))}
    system = request.get("systemInstruction")
    if system is not None:
        blocks = [{"text": text} for text in system_texts(system, PROVIDER) if not text.isspace()]
        if blocks:
            out["system"] = blocks
    config = request.get("generationConfig")
    budget = None if config is None else _apply_config(as_dict(config, CONFIG), out, upstream_model)
    _apply_tools(request, out)
    check_dropped_fields(request, PROVIDER)
    stream = request.get("stream")
    if stream is not None:
        as_bool(stream, "stream")  # the decision server's: it picks `converse-stream` by it
    _apply_thinking(budget, out)
    return out


# ---------------------------------------------------------------------------------------------
# Response: Converse response -> Gemini GenerateContentResponse
# ---------------------------------------------------------------------------------------------

_FINISH_REASONS = {
    **CLAUDE_FINISH_REASONS,
    "guardrail_intervened": "SAFETY",
    "content_filtered": "SAFETY",
    "malformed_tool_use": "MALFORMED_FUNCTION_CALL",
}


def _reasoning_text(block: Any) -> str | None:
    reasoning = block.get("reasoningText") if isinstance(block, dict) else None
    return nonempty(reasoning.get("text")) if isinstance(reasoning, dict) else None


def translate_response(body: Any, client_request: JSON) -> tuple[JSON, Usage]:
    """Reasoning becomes `thought` parts only for a client that asked (`includeThoughts`), as Gemini itself does.
    Converse answers carry no id (only the x-amzn-requestid header): the client's gets a fresh one."""
    body = body if isinstance(body, dict) else {}
    output = body.get("output")
    message = output.get("message") if isinstance(output, dict) else None
    content = message.get("content") if isinstance(message, dict) else None
    thoughts = include_thoughts(client_request)
    parts: list[JSON] = []
    for block in content if isinstance(content, list) else ():
        if not isinstance(block, dict):
            continue
        if "text" in block:
            text = nonempty(block["text"])
            if text:
                parts.append({"text": text})
        elif "toolUse" in block:
            tool_use = block["toolUse"]
            if isinstance(tool_use, dict):
                parts.append(function_call_part(tool_use.get("toolUseId"), tool_use.get("name"), tool_use.get("input")))
        elif "reasoningContent" in block and thoughts:
            text = _reasoning_text(block["reasoningContent"])
            if text:
                parts.append({"text": text, "thought": True})
    usage = bedrock_usage(body.get("usage"))
    answer = [candidate(parts, finish_reason(_FINISH_REASONS, body.get("stopReason")))]
    return generate_content_response(answer, usage, client_model(client_request), response_id(None)), usage


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def translate_error(status: int, body: bytes) -> bytes:
    return google_error_body(status, read_error(status, body))


# ---------------------------------------------------------------------------------------------
# Streaming: ConverseStream events -> Gemini GenerateContentResponse events
# ---------------------------------------------------------------------------------------------


def _block_index(event: JSON) -> int:
    index = event.get("contentBlockIndex")
    return index if isinstance(index, int) else -1


class BedrockToGeminiStream(GeminiStream):
    """One streamed response: ConverseStream event-stream frames in, Gemini `GenerateContentResponse`
    events out.

    Text (and reasoning, when the client set `includeThoughts`) goes out as it comes; a toolUse
    block's input arrives in JSON fragments and its `functionCall` goes out whole when the block
    stops. The last event, and only it, carries the finishReason and the usage: it goes out once
    both `messageStop` (the stop reason) and `metadata` (the usage, which follows it) have arrived.
    A stream cut off before `messageStop` ends with finishReason OTHER, with any call not sent yet;
    an exception frame (`throttlingException`, ...) ends it with Google's error event.
    """

    __slots__ = ("_calls", "_stop", "_stopped")
    parser = PARSER

    def __init__(self, model: str, thoughts: bool) -> None:
        super().__init__(model, thoughts)
        self._calls = BlockCalls()
        self._stop: Any = None
        self._stopped = False

    def _on_cut(self, out: list[bytes]) -> None:
        self._end(out)

    def _on_event(self, frame: SSEEvent, out: list[bytes]) -> None:
        kind = frame.event
        failure = stream_exception(kind, frame.data)
        if failure is not None:
            out.append(error_event(*failure))
            self._ended = True
            return
        event = self._json_object(frame.data, NOT_JSON, out)
        if event is None:
            return
        if kind == "contentBlockDelta":
            delta = event.get("delta")
            if not isinstance(delta, dict):
                return
            if "text" in delta:
                self._text(delta["text"], out)
            elif "toolUse" in delta:
                tool_use = delta["toolUse"]
                if isinstance(tool_use, dict):
                    self._calls.add(_block_index(event), tool_use.get("input"))
            elif "reasoningContent" in delta and self._thoughts:
                reasoning = delta["reasoningContent"]
                if isinstance(reasoning, dict):  # its `signature` and `redactedContent` are Claude's alone
                    self._text(reasoning.get("text"), out, thought=True)
        elif kind == "contentBlockStart":
            start = event.get("start")
            tool_use = start.get("toolUse") if isinstance(start, dict) else None
            if isinstance(tool_use, dict):
                self._calls.start(_block_index(event), tool_use.get("toolUseId"), tool_use.get("name"), {})
        elif kind == "contentBlockStop":
            part = self._calls.stop(_block_index(event))
            if part is not None:
                self._send(orjson.dumps(part), out)
        elif kind == "messageStop":
            self._stop = event.get("stopReason")
            self._stopped = True
            if self._usage is not None:  # metadata came first
                self._end(out)
        elif kind == "metadata":
            self._usage = bedrock_usage(event.get("usage"))
            if self._stopped:
                self._end(out)
        elif kind == "messageStart":
            self._start(None)  # Converse names no id: the client's is fresh
        # Event types Bedrock may add are skipped; so are the padding (`p`) and fields it adds.

    def _end(self, out: list[bytes]) -> None:
        self._last([candidate(self._calls.rest(), finish_reason(_FINISH_REASONS, self._stop, self._stopped))], out)


class GeminiToBedrock:
    """Gemini generateContent clients, Bedrock Converse providers."""

    client = "gemini"
    provider = "bedrock"

    def request(self, body: JSON, upstream_model: str) -> JSON:
        return translate_request(body, upstream_model)

    def response(self, body: JSON, client_request: JSON) -> tuple[JSON, Usage]:
        return translate_response(body, client_request)

    def stream(self, client_request: JSON) -> StreamTranslator:
        return BedrockToGeminiStream(client_model(client_request), include_thoughts(client_request))

    def error(self, status: int, body: bytes) -> bytes:
        return translate_error(status, body)
