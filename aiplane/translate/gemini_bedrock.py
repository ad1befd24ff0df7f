"""Gemini generateContent clients served by AWS Bedrock's Converse API (`converse`, `converse-stream`).

The client's body is read as `gemini_anthropic` reads it (protobuf JSON in either spelling, `model`
and `stream` added by the decision server, a null field an absent one), with the readers in
`gemini_wire`; the Converse body is built with the pieces in `bedrock_wire`. The model goes in the
URL path (`/model/{modelId}/converse`), which the decision server builds, so the body names none;
nor does it say whether to stream: that is the path too.

- mapped: `systemInstruction` (`system` text blocks); `contents` (roles `user`, `model`, and
  `function`; consecutive turns of one role merged, as Converse wants them alternating) with
  `text`, `inlineData` images (`image`) and documents (`document`: PDF, CSV, Word, Excel, HTML,
  text and Markdown, named by `displayName` or `document`, see `bedrock_wire.document_name`),
  `functionCall` (`toolUse`) and `functionResponse` (`toolResult` with the response as `json`);
  `functionDeclarations` (`toolConfig.tools`, schemas made JSON Schema as `gemini_openai` does);
  `toolConfig.functionCallingConfig` (`toolChoice`: `AUTO` is Converse's default, `ANY` is `any`,
  or `tool` for one allowed name; `NONE` leaves the tools out, Converse having no way to forbid
  calls); and in `generationConfig`: `temperature`,
  `topP`, `maxOutputTokens`, `stopSequences` (`inferenceConfig`), `topK` and `thinkingConfig`
  (in `additionalModelRequestFields` as Claude spells them, `top_k` and `thinking`: see
  `bedrock_wire.takes_claude_fields`; a thinking budget as `gemini_anthropic` makes it, and no
  thinking in a tool loop), `responseMimeType: application/json` with `responseSchema` (made JSON
  Schema) or `responseJsonSchema` (Converse's structured output, `outputConfig.textFormat`, as
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

import uuid
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
from aiplane.translate.sse import EventStreamTranslator, SSEEvent

_CONFIG = "generationConfig"


def _refuse(param: str, what: str) -> UnsupportedFeature:
    return refuse(param, what, PROVIDER)


def _message(value: Any, param: str, fields: frozenset[str]) -> JSON:
    return proto_message(value, param, fields, PROVIDER)


# ---------------------------------------------------------------------------------------------
# Request: Gemini GenerateContentRequest -> Converse body
# ---------------------------------------------------------------------------------------------

_MEDIA = "images (PNG, JPEG, GIF, WebP) and documents (PDF, CSV, DOC, DOCX, XLS, XLSX, HTML, TXT, Markdown)"


class _Turns(FunctionCallPairing):
    """What building the messages keeps track of: function calls (their ids, see
    `FunctionCallPairing`) and the names of documents, which Converse wants named, each differently."""

    __slots__ = ("_documents",)

    def __init__(self) -> None:
        super().__init__()
        self._documents: set[str] = set()

    def call(self, value: Any, param: str) -> JSON:
        call = _message(value, param, CALL_FIELDS)
        name = as_str(call.get("name"), f"{param}.name")
        call_id = call.get("id")
        call_id = as_str(call_id, f"{param}.id") if call_id else f"tooluse_gemini_{self._made}"
        self._made += 1
        args = call.get("args")
        tool_input = {} if args is None else as_dict(args, f"{param}.args")
        json_text(tool_input, f"{param}.args")  # refuses what cannot go out as JSON
        self._open.append((name, call_id))
        return {"toolUse": {"toolUseId": call_id, "name": name, "input": tool_input}}

    def result(self, value: Any, param: str) -> JSON:
        call_id, _ = self.answer_response(value, param, PROVIDER, "a multimodal function response")
        response = value.get("response")  # checked to be an object, or absent, by answer_response
        return {"toolResult": {"toolUseId": call_id, "content": [{"json": {} if response is None else response}]}}

    def media(self, value: Any, param: str) -> JSON:
        blob = _message(value, param, BLOB_FIELDS)
        media_type = as_str(blob.get("mimeType"), f"{param}.mimeType")
        data = standard_base64(as_str(blob.get("data"), f"{param}.data"))
        lowered = media_type.partition(";")[0].strip().lower()
        image = IMAGE_FORMATS.get(lowered)  # Converse takes media as bytes (base64 in JSON)
        if image is not None:
            return {"image": {"format": image, "source": {"bytes": data}}}
        document = DOCUMENT_FORMATS.get(lowered)
        if document is None:
            raise _refuse(f"{param}.mimeType", f"media of type `{media_type or 'unknown'}` ({_MEDIA} only)")
        display_name = blob.get("displayName")
        display_name = None if display_name is None else as_str(display_name, f"{param}.displayName")
        name = document_name(display_name, self._documents)
        return {"document": {"format": document, "name": name, "source": {"bytes": data}}}


def _blocks(parts: list[Any], param: str, turns: _Turns, model: bool) -> list[JSON]:
    if model:
        turns.model_turn()
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
                if text and not text.isspace():  # Converse refuses blank text blocks
                    blocks.append({"text": text})
            elif name == "functionCall":
                if not model:
                    raise invalid(at, "in a `model` turn (a user turn answers calls with `functionResponse`)")
                blocks.append(turns.call(field, at))
            elif name == "functionResponse":
                if model:
                    raise invalid(at, "in a `user` turn (a model turn calls functions with `functionCall`)")
                blocks.append(turns.result(field, at))
            elif name == "inlineData":
                if model:
                    raise _refuse(at, "media in a `model` turn (models take media from the user only)")
                blocks.append(turns.media(field, at))
            elif name == "fileData":
                raise _refuse(at, "a file by URI (`fileData`): Converse takes media inline (`inlineData`) or from S3")
            else:
                raise _refuse(at, PARTS_REFUSED[name])
    return blocks


def _messages(value: Any) -> list[JSON]:
    contents = as_list(value, "contents")
    if not contents:
        raise invalid("contents", "a non-empty list")
    messages: list[JSON] = []
    turns = _Turns()
    for i, item in enumerate(contents):
        where = f"contents[{i}]"
        content = _message(item, where, CONTENT_FIELDS)
        role = content.get("role") or "user"
        if role not in ("user", "model", "function"):
            raise invalid(f"{where}.role", "`user` or `model`")
        model = role == "model"
        blocks = _blocks(as_list(content.get("parts"), f"{where}.parts"), f"{where}.parts", turns, model)
        if not blocks:
            continue  # nothing but thoughts or blank text
        converse_role = "assistant" if model else "user"
        if messages and messages[-1]["role"] == converse_role:
            blocks = messages[-1]["content"] + blocks
            messages.pop()
        # Claude, behind Converse, wants a user turn's tool results before anything else in it.
        results = [block for block in blocks if "toolResult" in block]
        if results and len(results) < len(blocks):
            blocks = results + [block for block in blocks if "toolResult" not in block]
        messages.append({"role": converse_role, "content": blocks})
    if not messages:
        raise invalid("contents", "a list with more in it than thoughts")
    return messages


def _system(value: Any) -> list[JSON]:
    content = _message(value, "systemInstruction", CONTENT_FIELDS)
    blocks = []
    for j, item in enumerate(as_list(content.get("parts"), "systemInstruction.parts")):
        where = f"systemInstruction.parts[{j}]"
        part = _message(item, where, PART_FIELDS)
        for name, field in part.items():
            if field is None or name in PART_HINTS:
                continue
            if name != "text":
                raise _refuse(f"{where}.{name}", f"a `{name}` part in the system instruction")
            text = as_str(field, f"{where}.text")
            if text and not text.isspace():
                blocks.append({"text": text})
    return blocks


def _tool(value: Any, param: str) -> JSON:
    declaration = _message(value, param, DECLARATION_FIELDS)
    spec: JSON = {"name": as_str(declaration.get("name"), f"{param}.name")}
    description = declaration.get("description")
    if description is not None and as_str(description, f"{param}.description"):
        spec["description"] = description  # Converse refuses an empty one
    parameters, schema = declaration.get("parameters"), declaration.get("parametersJsonSchema")
    if parameters is not None and schema is not None:
        raise invalid(f"{param}.parametersJsonSchema", "left out when `parameters` is set")
    if parameters is not None:
        schema = json_schema(parameters, f"{param}.parameters")
    elif schema is not None:
        schema = as_dict(schema, f"{param}.parametersJsonSchema")
    # Converse wants an object schema for every tool; Gemini takes a function without parameters.
    spec["inputSchema"] = {"json": schema or {"type": "object", "properties": {}}}
    behavior = declaration.get("behavior")
    if behavior is not None and not enum_value(behavior, f"{param}.behavior", BEHAVIORS):
        raise _refuse(f"{param}.behavior", "a non-blocking function")
    return {"toolSpec": spec}


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


def _apply_tools(tools: list[JSON], value: Any, out: JSON) -> None:
    """The declared tools, and Gemini's mode as Converse's `toolChoice`, into `out["toolConfig"]`.

    `allowedFunctionNames` with one name and `ANY` is a named tool; otherwise the tools sent are
    those named. `NONE` sends no tools: Converse has no choice that forbids calling them. Converse
    wants tools declared whenever the conversation has function calls or responses."""
    choice, names = "auto", []
    calling = None if value is None else _message(value, "toolConfig", TOOL_CONFIG_FIELDS).get("functionCallingConfig")
    where = "toolConfig.functionCallingConfig"
    if calling is not None:
        calling = _message(calling, where, CALLING_FIELDS)
        mode = calling.get("mode")
        choice = "auto" if mode is None else enum_value(mode, f"{where}.mode", _MODES)
        if choice is None:
            raise _refuse(f"{where}.mode", "function calling validated against the schemas (`VALIDATED`)")
        allowed = calling.get("allowedFunctionNames")
        names = [] if allowed is None else as_list(allowed, f"{where}.allowedFunctionNames")
        names = [as_str(name, f"{where}.allowedFunctionNames[{i}]") for i, name in enumerate(names)]
    if not tools or choice == "none":
        if not uses_tools(out["messages"]):
            return
        if tools:
            raise _refuse(
                f"{where}.mode",
                "forbidding function calls (`NONE`) in a conversation that has some (Converse takes "
                "function calls and responses only with the tools declared, and has no choice forbidding them)",
            )
        raise _refuse("tools", "a conversation with function calls but no `tools` (Converse wants them declared)")
    config: JSON = {"tools": tools}
    if names:
        declared = {tool["toolSpec"]["name"] for tool in tools}
        for i, name in enumerate(names):
            if name not in declared:
                raise invalid(f"{where}.allowedFunctionNames[{i}]", f"the name of a declared function (`{name}`)")
        if choice == "any" and len(names) == 1:
            config["toolChoice"] = {"tool": {"name": names[0]}}
            out["toolConfig"] = config
            return
        config["tools"] = [tool for tool in tools if tool["toolSpec"]["name"] in names]
    if choice == "any":
        config["toolChoice"] = {"any": {}}
    out["toolConfig"] = config


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
        return THINKING_BUDGETS["medium"]  # dynamic: Claude needs a budget, the middle one
    if budget == 0:
        return None
    if budget < 0:
        raise invalid(f"{where}.thinkingBudget", "-1 (dynamic), 0 (off) or a number of tokens")
    return max(budget, MIN_THINKING_BUDGET)


def _claude_only(upstream_model: str, param: str, what: str) -> None:
    if not takes_claude_fields(upstream_model):
        vendor = model_vendor(upstream_model)
        raise _refuse(param, f"{what} for a `{vendor}` model (Bedrock takes it in Claude's spelling only)")


def _apply_config(config: JSON, out: JSON, upstream_model: str) -> int | None:
    """The generationConfig's fields on `out`; returns the thinking budget asked for."""
    inference: JSON = {}
    extra: JSON = {}
    budget = None
    media_type, schema, raw_schema = None, None, None
    for key, value in config.items():
        if value is None:
            continue
        name = camel(key) if "_" in key else key
        at = f"{_CONFIG}.{key}"
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
            stops = [as_str(stop, f"{at}[{i}]") for i, stop in enumerate(as_list(value, at))]
            if stops:
                inference["stopSequences"] = stops
        elif name == "topK":
            top_k = as_int(value, at)
            _claude_only(upstream_model, at, "top-k sampling")
            extra["top_k"] = top_k
        elif name == "candidateCount":
            if as_int(value, at) != 1:
                raise _refuse(at, "more than one candidate")
        elif name == "thinkingConfig":
            budget = _thinking_budget(value)
            if budget is not None:
                _claude_only(upstream_model, at, "a thinking budget")
        elif name == "responseModalities":
            for i, modality in enumerate(as_list(value, at)):
                if as_str(modality, f"{at}[{i}]").upper() != "TEXT":
                    raise _refuse(f"{at}[{i}]", f"output of modality `{modality}`")
        elif name == "responseMimeType":
            media_type = as_str(value, at).lower()
        elif name == "responseSchema":
            schema = json_schema(value, at)
        elif name == "responseJsonSchema":
            raw_schema = as_dict(value, at)
        elif name in ("responseLogprobs", "audioTimestamp", "enableAffectiveDialog", "enableEnhancedCivicAnswers"):
            if as_bool(value, at):
                raise _refuse(at, f"`{name}`")
        elif name == "mediaResolution":
            as_str(value, at)  # a hint: Bedrock's models size images themselves
        else:
            raise _refuse(at, f"`{name}`")
    if schema is not None and raw_schema is not None:
        raise invalid(f"{_CONFIG}.responseJsonSchema", "left out when `responseSchema` is set")
    _apply_response_format(media_type, schema if raw_schema is None else raw_schema, out)
    if inference:
        out["inferenceConfig"] = inference
    if extra:
        out["additionalModelRequestFields"] = extra
    return budget


def _apply_response_format(media_type: str | None, schema: JSON | None, out: JSON) -> None:
    """Gemini's JSON output with a schema as Converse's structured output (`outputConfig.textFormat`,
    which takes the schema as JSON text); JSON mode without a schema cannot be said."""
    where = f"{_CONFIG}.responseMimeType"
    if schema is not None:
        if media_type != "application/json":
            raise invalid(where, "`application/json` with a response schema")
        text = json_text(schema, f"{_CONFIG}.responseJsonSchema")
        out["outputConfig"] = {"textFormat": {"type": "json_schema", "structure": {"jsonSchema": {"schema": text}}}}
    elif media_type == "application/json":
        raise _refuse(where, "JSON output without a schema (Converse constrains output to a schema or not at all)")
    elif media_type not in (None, "text/plain"):
        raise _refuse(where, f"a response of type `{media_type}`")


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
            f"{_CONFIG}.thinkingConfig",
            f"thinking within {max_tokens} tokens (Claude thinks with a budget of at least "
            f"{MIN_THINKING_BUDGET} tokens below `maxOutputTokens`)",
        )
    inference["maxTokens"] = max_tokens
    out.setdefault("additionalModelRequestFields", {})["thinking"] = {"type": "enabled", "budget_tokens": budget}


def translate_request(body: JSON, upstream_model: str) -> JSON:
    if not isinstance(body, dict):
        raise invalid("body", "a JSON object")
    request = _message(body, "", REQUEST_FIELDS)
    out: JSON = {"messages": _messages(request.get("contents"))}
    system = request.get("systemInstruction")
    if system is not None:
        blocks = _system(system)
        if blocks:
            out["system"] = blocks
    config = request.get("generationConfig")
    budget = None if config is None else _apply_config(as_dict(config, _CONFIG), out, upstream_model)
    tools = request.get("tools")
    _apply_tools([] if tools is None else _tools(tools), request.get("toolConfig"), out)
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
    stream = request.get("stream")
    if stream is not None:
        as_bool(stream, "stream")  # the decision server's: it picks `converse-stream` by it
    _apply_thinking(budget, out)
    return out


# ---------------------------------------------------------------------------------------------
# Response: Converse response -> Gemini GenerateContentResponse
# ---------------------------------------------------------------------------------------------

_FINISH_REASONS = {
    "end_turn": "STOP",
    "stop_sequence": "STOP",
    "tool_use": "STOP",  # Gemini says STOP for a turn that ends in function calls
    "max_tokens": "MAX_TOKENS",
    "model_context_window_exceeded": "MAX_TOKENS",
    "guardrail_intervened": "SAFETY",
    "content_filtered": "SAFETY",
    "malformed_tool_use": "MALFORMED_FUNCTION_CALL",
}


def _finish_reason(stop_reason: Any) -> str:
    return gemini_finish_reason(_FINISH_REASONS, stop_reason)


def _function_call(tool_use: JSON) -> JSON:
    tool_input = tool_use.get("input")
    name = nonempty(tool_use.get("name")) or ""
    args = tool_input if isinstance(tool_input, dict) else {}
    return function_call_part(nonempty(tool_use.get("toolUseId")), name, args)


def _reasoning_text(block: Any) -> str | None:
    reasoning = block.get("reasoningText") if isinstance(block, dict) else None
    return nonempty(reasoning.get("text")) if isinstance(reasoning, dict) else None


def _response_id() -> str:
    return uuid.uuid4().hex  # Converse answers carry no id (only the x-amzn-requestid header)


def translate_response(body: Any, client_request: JSON) -> tuple[JSON, Usage]:
    """Reasoning becomes `thought` parts only for a client that asked (`includeThoughts`), as Gemini itself does."""
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
            if isinstance(block["toolUse"], dict):
                parts.append(_function_call(block["toolUse"]))
        elif "reasoningContent" in block and thoughts:
            text = _reasoning_text(block["reasoningContent"])
            if text:
                parts.append({"text": text, "thought": True})
    usage = bedrock_usage(body.get("usage"))
    return {
        "candidates": [
            {
                "content": {"parts": parts_or_empty(parts), "role": "model"},
                "finishReason": _finish_reason(body.get("stopReason")),
                "index": 0,
            }
        ],
        "usageMetadata": usage_metadata(usage),
        "modelVersion": client_model(client_request),
        "responseId": _response_id(),
    }, usage


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def translate_error(status: int, body: bytes) -> bytes:
    return google_error_body(status, read_error(status, body))


# ---------------------------------------------------------------------------------------------
# Streaming: ConverseStream events -> Gemini GenerateContentResponse events
# ---------------------------------------------------------------------------------------------

_TEXT_PART = b'{"text":%s}'
_THOUGHT_PART = b'{"text":%s,"thought":true}'


def _block_index(event: JSON) -> int:
    index = event.get("contentBlockIndex")
    return index if isinstance(index, int) else -1


class BedrockToGeminiStream(EventStreamTranslator):
    """One streamed response: ConverseStream event-stream frames in, Gemini `GenerateContentResponse`
    events out.

    Text (and reasoning, when the client set `includeThoughts`) goes out as it comes; a toolUse
    block's input arrives in JSON fragments and its `functionCall` goes out whole when the block
    stops. The last event, and only it, carries the finishReason and the usage: it goes out once
    both `messageStop` (the stop reason) and `metadata` (the usage, which follows it) have arrived.
    A stream cut off before `messageStop` ends with finishReason OTHER, with any call not sent yet;
    an exception frame (`throttlingException`, ...) ends it with Google's error event.
    """

    __slots__ = ("_model", "_thoughts", "_ids", "_tail", "_calls", "_stop", "_stopped")
    parser = PARSER

    def __init__(self, model: str, thoughts: bool) -> None:
        super().__init__()
        self._model = model
        self._thoughts = thoughts
        self._ids = b""  # the end of every event: the model and the response id
        self._tail = b""  # an event after its parts
        self._calls: dict[int, list[Any]] = {}  # block index -> [toolUseId, name, input fragments]
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
                self._text(delta["text"], _TEXT_PART, out)
            elif "toolUse" in delta:
                tool_use = delta["toolUse"]
                call = self._calls.get(_block_index(event))
                fragment = nonempty(tool_use.get("input")) if isinstance(tool_use, dict) else None
                if call is not None and fragment:
                    call[2].append(fragment)
            elif "reasoningContent" in delta and self._thoughts:
                reasoning = delta["reasoningContent"]
                if isinstance(reasoning, dict):  # its `signature` and `redactedContent` are Claude's alone
                    self._text(reasoning.get("text"), _THOUGHT_PART, out)
        elif kind == "contentBlockStart":
            start = event.get("start")
            tool_use = start.get("toolUse") if isinstance(start, dict) else None
            if isinstance(tool_use, dict):
                self._calls[_block_index(event)] = [
                    nonempty(tool_use.get("toolUseId")),
                    nonempty(tool_use.get("name")) or "",
                    [],
                ]
        elif kind == "contentBlockStop":
            call = self._calls.pop(_block_index(event), None)
            if call is not None:
                self._send(orjson.dumps(_call_part(call)), out)
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
            self._start()
        # Event types Bedrock may add are skipped; so are the padding (`p`) and fields it adds.

    def _text(self, text: Any, part: bytes, out: list[bytes]) -> None:
        if isinstance(text, str) and text:
            self._send(part % orjson.dumps(text), out)

    def _send(self, part: bytes, out: list[bytes]) -> None:
        if not self._tail:
            self._start()
        out.append(EVENT_START + part + self._tail)

    def _start(self) -> None:
        if self._tail:
            return
        self._ids = b'"modelVersion":%s,"responseId":"%s"}%s' % (
            orjson.dumps(self._model),
            _response_id().encode(),
            EVENT_END,
        )
        self._tail = b'],"role":"model"},"index":0}],' + self._ids

    def _end(self, out: list[bytes]) -> None:
        if not self._tail:
            self._start()
        parts = [_call_part(call) for call in self._calls.values()]
        self._calls = {}
        if self._stop is not None:
            finish_reason = _finish_reason(self._stop)
        else:
            finish_reason = "STOP" if self._stopped else "OTHER"
        tail = b'],"role":"model"},"finishReason":"%s","index":0}],"usageMetadata":%s,%s' % (
            finish_reason.encode(),
            orjson.dumps(usage_metadata(self._usage or Usage())),
            self._ids,
        )
        out.append(EVENT_START + b",".join(orjson.dumps(part) for part in parts_or_empty(parts)) + tail)
        self._ended = True


def _call_part(call: list[Any]) -> JSON:
    call_id, name, fragments = call
    arguments = "".join(fragments)
    try:
        parsed = orjson.loads(arguments) if arguments else {}
    except orjson.JSONDecodeError:
        parsed = None  # a call cut off mid-arguments
    return _function_call({"toolUseId": call_id, "name": name, "input": parsed})


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
