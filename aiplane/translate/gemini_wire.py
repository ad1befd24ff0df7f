"""The Gemini generateContent wire, as every pair with Gemini clients reads and writes it.

Reading a client's request: protobuf JSON messages whose fields come in lowerCamelCase or
snake_case (`proto_message`), enums by name in any case, Gemini Schemas as JSON Schema, and the
field names of each message; the request's turns and their parts (`turns`, `content_parts`;
`alternating` for providers that want roles to alternate), the system instruction's texts,
function declarations with the function calling config (`function_calling`), function calls and
the responses that answer them (`FunctionCallPairing`), the generationConfig fields every provider
reads alike, thinking (`thinking_config`, `thinking_budget`), and the fields no provider takes
(`check_dropped_fields`). Refusals name the provider, which each reader is given.
Writing to the client: candidates and whole responses, usageMetadata, finish reasons, function
call parts, error bodies and events in Google's shape, and streams (`GeminiStream`, with
`BlockCalls` for providers that stream calls in content blocks). Shared by `gemini_openai.py`,
`gemini_anthropic.py` and `gemini_bedrock.py`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import orjson

from aiplane.translate.base import Usage
from aiplane.translate.common import (
    JSON,
    THINKING_BUDGETS,
    Param,
    as_bool,
    as_dict,
    as_int,
    as_list,
    as_str,
    as_str_list,
    google_status,
    invalid,
    nonempty,
    refuse,
    tool_arguments,
)
from aiplane.translate.sse import EventStreamTranslator


def camel(name: str) -> str:
    head, *words = name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in words)


def proto_message(value: Any, param: Param, fields: frozenset[str], provider: str) -> JSON:
    """A Gemini proto message with its field names in lowerCamelCase; a field it lacks is refused."""
    if not isinstance(value, dict):
        raise invalid(param, "an object")
    if fields.issuperset(value):
        return value  # the common case: nothing to rename
    renamed: JSON = {}
    for name, field in value.items():
        key = name if name in fields else camel(name)
        if key not in fields:
            raise refuse((param, name), f"the field `{name}`", provider)
        renamed[key] = field
    return renamed


def enum_value(value: Any, param: Param, names: dict[str, Any]) -> Any:
    """A protobuf enum value by its name, any case (Google's docs write both)."""
    if isinstance(value, str) and value in names:
        return names[value]  # the common case: the name as the proto spells it
    name = as_str(value, param).upper()
    if name not in names:
        raise invalid(param, f"one of `{'`, `'.join(names)}`")
    return names[name]


def json_text(value: Any, param: Param) -> str:
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError as e:  # an integer beyond 64 bits, nesting beyond orjson's limit
        raise invalid(param, f"encodable as JSON ({e})") from None


def json_object(value: Any, param: Param) -> tuple[JSON, str]:
    """An object (an empty one for None) and its JSON text."""
    if value is None:
        value = {}
    elif not isinstance(value, dict):
        raise invalid(param, "an object")
    return value, json_text(value, param)


# --- Schemas ---------------------------------------------------------------------------------

# Gemini's `Schema` is OpenAPI 3.0's subset, with the type names of its protobuf enum.
_SCHEMA_TYPES = {
    "TYPE_UNSPECIFIED": None,
    "STRING": "string",
    "NUMBER": "number",
    "INTEGER": "integer",
    "BOOLEAN": "boolean",
    "ARRAY": "array",
    "OBJECT": "object",
    "NULL": "null",
}
_INT64_KEYWORDS = frozenset({"minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties"})
# The keywords read here; any other (`description`, `enum`, `required`, ...) passes through as it is.
_SCHEMA_KEYWORDS = _INT64_KEYWORDS | {
    "type",
    "properties",
    "items",
    "anyOf",
    "nullable",
    "propertyOrdering",
    "example",
    "format",
}
_MAX_SCHEMA_DEPTH = 64  # deeper than any model takes; keeps the recursion far from Python's limit


def _limit(value: Any, param: Param) -> int:
    # protobuf JSON writes an int64 as a string, and reads it either way.
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            raise invalid(param, "an integer") from None
    limit = as_int(value, param)
    if not 0 <= limit < 2**63:
        raise invalid(param, "a non-negative 64-bit integer")
    return limit


def _ordered(properties: JSON, ordering: list[str]) -> JSON:
    """`properties` with those `ordering` names first, in that order."""
    return {prop: properties[prop] for prop in ordering if prop in properties} | properties


def json_schema(value: Any, param: Param, depth: int = 0) -> JSON:
    """A Gemini Schema as JSON Schema: lower-case types, `nullable` as a `null` type,
    `propertyOrdering` as the properties' order, `example` as `examples`, int64 limits as
    numbers. JSON Schema keywords Gemini's Schema lacks pass through as they are."""
    if depth > _MAX_SCHEMA_DEPTH:
        raise invalid(param, f"a schema nested at most {_MAX_SCHEMA_DEPTH} levels deep")
    out: JSON = {}
    nullable = False
    ordering: list[str] | None = None
    if not isinstance(value, dict):  # `as_dict` inline: a call less for each of a schema's many nodes
        raise invalid(param, "an object")
    for name, field in value.items():
        if field is None:
            continue
        key = camel(name) if "_" in name else name
        if key not in _SCHEMA_KEYWORDS:
            out[key] = field
            continue
        if key == "type":
            if isinstance(field, str) and field in _SCHEMA_TYPES:  # the common case, read without a call
                kind = _SCHEMA_TYPES[field]
            else:
                kind = enum_value(field, (param, name), _SCHEMA_TYPES)
            if kind is not None:
                out["type"] = kind
            continue
        where = (param, name)
        if key == "properties":
            properties: JSON = {}
            for prop, schema in as_dict(field, where).items():
                properties[prop] = json_schema(schema, (where, prop), depth + 1)
            out["properties"] = properties
        elif key == "items":
            out["items"] = json_schema(field, where, depth + 1)
        elif key == "anyOf":
            schemas: list[JSON] = []
            for i, schema in enumerate(as_list(field, where)):
                schemas.append(json_schema(schema, (where, i), depth + 1))
            out["anyOf"] = schemas
        elif key == "nullable":
            nullable = as_bool(field, where)
        elif key == "propertyOrdering":
            ordering = as_str_list(field, where)
        elif key == "example":
            out["examples"] = [field]
        elif key == "format":
            if as_str(field, where) != "enum":  # Gemini's marker for a string enum: JSON Schema has `enum` alone
                out["format"] = field
        else:
            out[key] = _limit(field, where)  # the int64 keywords, the only ones left
    if ordering and "properties" in out:
        out["properties"] = _ordered(out["properties"], ordering)
    if nullable:
        kind = out.get("type")
        if kind is not None:
            out["type"] = [kind, "null"]
            enum = out.get("enum")
            if isinstance(enum, list) and None not in enum:
                out["enum"] = [*enum, None]
        elif isinstance(out.get("anyOf"), list):
            out["anyOf"].append({"type": "null"})
    return out


# --- The request's messages -------------------------------------------------------------------------

CONTENT_FIELDS = frozenset({"role", "parts"})
PART_FIELDS = frozenset(
    {
        "text",
        "inlineData",
        "fileData",
        "functionCall",
        "functionResponse",
        "executableCode",
        "codeExecutionResult",
        "toolCall",
        "toolResponse",
        "videoMetadata",
        "thought",
        "thoughtSignature",
        "partMetadata",
        "mediaResolution",
    }
)
PART_HINTS = frozenset({"thought", "thoughtSignature", "partMetadata", "mediaResolution"})
PARTS_REFUSED = {
    "executableCode": "code the model ran with Gemini's code execution (`executableCode`)",
    "codeExecutionResult": "the result of Gemini's code execution (`codeExecutionResult`)",
    "toolCall": "a call of a Gemini server tool (`toolCall`)",
    "toolResponse": "the response of a Gemini server tool (`toolResponse`)",
    "videoMetadata": "video (`videoMetadata`)",
}
BLOB_FIELDS = frozenset({"mimeType", "data", "displayName"})
FILE_FIELDS = frozenset({"mimeType", "fileUri", "displayName"})
CALL_FIELDS = frozenset({"id", "name", "args"})
RESPONSE_FIELDS = frozenset({"id", "name", "response", "parts", "willContinue", "scheduling"})


TOOL_FIELDS = frozenset(
    {
        "functionDeclarations",
        "googleSearch",
        "googleSearchRetrieval",
        "codeExecution",
        "urlContext",
        "fileSearch",
        "googleMaps",
        "computerUse",
        "mcpServers",
        "retrieval",
        "enterpriseWebSearch",
    }
)
DECLARATION_FIELDS = frozenset(
    {"name", "description", "parameters", "parametersJsonSchema", "response", "responseJsonSchema", "behavior"}
)
BEHAVIORS = {"UNSPECIFIED": True, "BLOCKING": True, "NON_BLOCKING": False}


TOOL_CONFIG_FIELDS = frozenset({"functionCallingConfig", "retrievalConfig", "includeServerSideToolInvocations"})
CALLING_FIELDS = frozenset({"mode", "allowedFunctionNames"})
SAFETY_FIELDS = frozenset({"category", "threshold", "method"})


THINKING_FIELDS = frozenset({"includeThoughts", "thinkingBudget", "thinkingLevel"})
THINKING_LEVELS = {
    "THINKING_LEVEL_UNSPECIFIED": None,
    "MINIMAL": "minimal",
    "LOW": "low",
    "MEDIUM": "medium",
    "HIGH": "high",
}
REQUEST_FIELDS = frozenset(
    {
        "contents",
        "systemInstruction",
        "tools",
        "toolConfig",
        "safetySettings",
        "generationConfig",
        "cachedContent",
        "labels",
        "serviceTier",
        "store",
        "model",  # the decision server's, from the path
        "stream",  # the decision server's: true for streamGenerateContent
    }
)


def include_thoughts(request: JSON) -> bool:
    """Whether the client asked for thoughts, in either spelling; the request was read before."""
    config = request.get("generationConfig", request.get("generation_config"))
    if not isinstance(config, dict):
        return False
    thinking = config.get("thinkingConfig", config.get("thinking_config"))
    if not isinstance(thinking, dict):
        return False
    return thinking.get("includeThoughts", thinking.get("include_thoughts")) is True


# --- Reading the request ---------------------------------------------------------------------


def read_request(body: Any, provider: str) -> JSON:
    """The client's GenerateContentRequest, its field names in lowerCamelCase."""
    if not isinstance(body, dict):
        raise invalid("body", "a JSON object")
    return proto_message(body, "", REQUEST_FIELDS, provider)


def check_dropped_fields(request: JSON, provider: str) -> None:
    """The request fields no provider takes: hints checked and dropped (`safetySettings`: the
    provider's own moderation applies; `labels`: Google's billing labels), and what dropping would
    change refused (`cachedContent`, `store: true`)."""
    safety = request.get("safetySettings")
    if safety is not None:
        for i, item in enumerate(as_list(safety, "safetySettings")):
            proto_message(item, ("safetySettings", i), SAFETY_FIELDS, provider)
    if request.get("cachedContent") is not None:
        raise refuse("cachedContent", "content cached with Google (`cachedContent`)", provider)
    store = request.get("store")
    if store is not None and as_bool(store, "store"):
        raise refuse("store", "storing the response with the provider", provider)
    labels = request.get("labels")
    if labels is not None:
        as_dict(labels, "labels")


NOT_ONLY_THOUGHTS = "a list with more in it than thoughts"  # `contents` once thoughts and empty text are dropped


class FunctionCallPairing:
    """Pairs each `functionResponse` with a `functionCall` of the model turn before it.

    Providers pair them by id; Gemini's ids are optional, and SDKs leave them out. A call without
    one gets `id_prefix` and a number counting the calls in the request from 0: the same history
    gets the same ids in every request, which keeps the provider's prompt cache warm. A response
    with an id answers the call of that id; one without answers the first call of its name that is
    not answered yet, so parallel calls of one function are answered in the order they were made.
    """

    __slots__ = ("provider", "_prefix", "_made", "_open")

    def __init__(self, provider: str, id_prefix: str) -> None:
        self.provider = provider  # named in refusals
        self._prefix = id_prefix
        self._made = 0
        self._open: list[tuple[str, str]] = []  # (name, id) of the last model turn's calls not answered yet

    def model_turn(self) -> None:
        self._open = []

    def call(self, value: Any, param: Param) -> tuple[str, str, JSON, str]:
        """A `functionCall`'s id, name, args, and args as JSON text (what cannot go out as JSON is refused)."""
        call = proto_message(value, param, CALL_FIELDS, self.provider)
        name = as_str(call.get("name"), (param, "name"))
        call_id = call.get("id")
        call_id = as_str(call_id, (param, "id")) if call_id else f"{self._prefix}{self._made}"
        self._made += 1
        args, arguments = json_object(call.get("args"), (param, "args"))
        self._open.append((name, call_id))
        return call_id, name, args, arguments

    def answer_response(self, value: Any, param: Param, multimodal: str) -> tuple[str, JSON, str]:
        """A `functionResponse`'s call id, paired by `answer`, its response, and that as JSON text.

        A multimodal response is refused saying `multimodal`; so are non-blocking functions'.
        """
        provider = self.provider
        response = proto_message(value, param, RESPONSE_FIELDS, provider)
        name = as_str(response.get("name"), (param, "name"))
        if response.get("parts"):
            raise refuse((param, "parts"), multimodal, provider)
        if response.get("willContinue") is not None and as_bool(response["willContinue"], (param, "willContinue")):
            raise refuse(
                (param, "willContinue"), "a function response in several parts (non-blocking functions)", provider
            )
        if response.get("scheduling") is not None:
            raise refuse((param, "scheduling"), "scheduling a non-blocking function's response", provider)
        result, content = json_object(response.get("response"), (param, "response"))
        response_id = response.get("id")
        response_id = as_str(response_id, (param, "id")) if response_id else None
        return self.answer(name, response_id, param), result, content

    def answer(self, name: str, response_id: str | None, param: Param) -> str:
        for i, (call_name, call_id) in enumerate(self._open):
            if (call_id == response_id) if response_id else (call_name == name):
                del self._open[i]
                return call_id
        if response_id:
            return response_id  # an id the client knows of: whether it answers a call is the provider's to say
        raise invalid(
            (param, "name"), f"the name of a function the model called before and not yet answered (`{name}`)"
        )


Parts = Iterator[tuple[str, Param, Any]]  # a turn's parts: (field, param, value), see `content_parts`


def turns(value: Any, calls: FunctionCallPairing) -> Iterator[tuple[bool, Parts]]:
    """Each turn of `contents`: whether it is the model's, and its parts (`content_parts`), to be read
    before the next turn: a model turn starts the calls that the next user turn's function responses
    answer (`calls`)."""
    contents = as_list(value, "contents")
    if not contents:
        raise invalid("contents", "a non-empty list")
    provider = calls.provider
    for i, item in enumerate(contents):
        where = ("contents", i)
        content = proto_message(item, where, CONTENT_FIELDS, provider)
        role = content.get("role") or "user"  # a single-turn request may leave it out
        model = role == "model"
        if model:
            calls.model_turn()
        elif role != "user" and role != "function":  # `function`: the old role of function responses
            raise invalid((where, "role"), "`user` or `model`")
        param = (where, "parts")
        yield model, content_parts(as_list(content.get("parts"), param), param, model, provider)


def content_parts(parts: list[Any], param: Param, model: bool, provider: str) -> Parts:
    """A turn's parts as (field, param, value): `text`, `inlineData`, `fileData`, and `functionCall`
    in a model turn or `functionResponse` in a user turn. Thoughts and hints are dropped (no
    provider takes another model's thinking back); code execution and video parts are refused."""
    for j, value in enumerate(parts):
        where = (param, j)
        part = proto_message(value, where, PART_FIELDS, provider)
        thought = part.get("thought")
        if thought is not None and as_bool(thought, (where, "thought")):
            continue
        for name, field in part.items():
            if field is None or name in PART_HINTS:
                continue
            at = (where, name)
            if name == "text":
                pass  # the common case, first
            elif name == "functionCall":
                if not model:
                    raise invalid(at, "in a `model` turn (a user turn answers calls with `functionResponse`)")
            elif name == "functionResponse":
                if model:
                    raise invalid(at, "in a `user` turn (a model turn calls functions with `functionCall`)")
            elif name in PARTS_REFUSED:
                raise refuse(at, PARTS_REFUSED[name], provider)
            yield name, at, field


def _results_first(blocks: list[JSON], result_key: str) -> list[JSON]:
    results = [block for block in blocks if result_key in block]
    if results and len(results) < len(blocks):
        return results + [block for block in blocks if result_key not in block]
    return blocks


def alternating(roles_and_blocks: list[tuple[str, list[JSON]]], result_key: str) -> list[JSON]:
    """A Claude-style provider's messages for turns of (role, blocks): those without blocks (nothing
    but thoughts or empty text) left out, consecutive ones of a role merged, as Claude wants roles
    alternating (Gemini does not), with the function results (the blocks with `result_key`) first,
    as Claude wants them before anything else in a user turn."""
    messages: list[JSON] = []
    for role, blocks in roles_and_blocks:
        if not blocks:
            continue
        if messages and messages[-1]["role"] == role:
            blocks = messages.pop()["content"] + blocks
        # Only user turns have function results (`content_parts`); a single block is first already.
        if role == "user" and len(blocks) > 1:
            blocks = _results_first(blocks, result_key)
        messages.append({"role": role, "content": blocks})
    if not messages:
        raise invalid("contents", NOT_ONLY_THOUGHTS)
    return messages


def system_texts(value: Any, provider: str) -> list[str]:
    """The system instruction's texts, empty ones left out; a part other than text is refused."""
    content = proto_message(value, "systemInstruction", CONTENT_FIELDS, provider)
    texts = []
    for j, item in enumerate(as_list(content.get("parts"), "systemInstruction.parts")):
        where = ("systemInstruction.parts", j)
        for name, field in proto_message(item, where, PART_FIELDS, provider).items():
            if field is None or name in PART_HINTS:
                continue
            if name != "text":
                raise refuse((where, name), f"a `{name}` part in the system instruction", provider)
            text = as_str(field, (where, "text"))
            if text:
                texts.append(text)
    return texts


_URL_SAFE_BASE64 = str.maketrans("-_", "+/")


def standard_base64(data: str) -> str:
    """protobuf JSON takes bytes in URL-safe base64 and without padding too; providers want neither."""
    if "-" in data or "_" in data:
        data = data.translate(_URL_SAFE_BASE64)
    if len(data) % 4:
        data += "=" * (-len(data) % 4)
    return data


def inline_data(value: Any, param: Param, provider: str) -> tuple[str, str, Any]:
    """An `inlineData` part's media type, its data in standard base64, and its `displayName` as sent."""
    blob = proto_message(value, param, BLOB_FIELDS, provider)
    media_type = as_str(blob.get("mimeType"), (param, "mimeType"))
    data = as_str(blob.get("data"), (param, "data"))
    return media_type, standard_base64(data), blob.get("displayName")


def file_uri_and_type(value: Any, param: Param, provider: str) -> tuple[str, str]:
    """A `fileData` part's URI and media type ("" when left out): an http(s) URL, not Google's Files API."""
    file = proto_message(value, param, FILE_FIELDS, provider)
    uri = as_str(file.get("fileUri"), (param, "fileUri"))
    media_type = file.get("mimeType")
    media_type = "" if media_type is None else as_str(media_type, (param, "mimeType"))
    lowered = uri.lower()
    if not lowered.startswith(("https://", "http://")):
        raise refuse((param, "fileUri"), "a file that is not at an http(s) URL", provider)
    if lowered.startswith("https://generativelanguage.googleapis.com/"):
        raise refuse((param, "fileUri"), "a file in Google's Files API", provider)
    return uri, media_type


# --- Tools -----------------------------------------------------------------------------------


# A declared function as every provider takes one: its name, description, and parameters as JSON
# Schema (`parameters` made JSON Schema, or `parametersJsonSchema`); a plain tuple, as a NamedTuple
# costs ten times as much to make.
Declaration = tuple[str, str | None, JSON | None]


def _declaration(value: Any, param: Param, provider: str) -> Declaration:
    declaration = proto_message(value, param, DECLARATION_FIELDS, provider)
    name = as_str(declaration.get("name"), (param, "name"))
    description = declaration.get("description")
    if description is not None:
        description = as_str(description, (param, "description"))
    parameters, schema = declaration.get("parameters"), declaration.get("parametersJsonSchema")
    if parameters is not None and schema is not None:
        raise invalid((param, "parametersJsonSchema"), "left out when `parameters` is set")
    if parameters is not None:
        schema = json_schema(parameters, (param, "parameters"))
    elif schema is not None:
        schema = as_dict(schema, (param, "parametersJsonSchema"))
    behavior = declaration.get("behavior")
    if behavior is not None and not enum_value(behavior, (param, "behavior"), BEHAVIORS):
        raise refuse((param, "behavior"), "a non-blocking function", provider)
    # `response` and `responseJsonSchema` describe what the function returns: the model sees it
    # in the function response anyway, and no provider has anywhere to say it.
    return name, description, schema


def function_declarations(value: Any, provider: str) -> list[Declaration]:
    """The functions `tools` declares; Gemini's server tools are refused."""
    declarations = []
    for i, item in enumerate(as_list(value, "tools")):
        where = ("tools", i)
        for name, field in proto_message(item, where, TOOL_FIELDS, provider).items():
            if field is None:
                continue
            if name != "functionDeclarations":
                raise refuse((where, name), f"Gemini's server tool `{name}`", provider)
            at = (where, "functionDeclarations")
            for j, one in enumerate(as_list(field, at)):
                declarations.append(_declaration(one, (at, j), provider))
    return declarations


_MODES = {"MODE_UNSPECIFIED": "auto", "AUTO": "auto", "ANY": "any", "NONE": "none", "VALIDATED": None}
CALLING = "toolConfig.functionCallingConfig"
_MODE = f"{CALLING}.mode"
_ALLOWED = f"{CALLING}.allowedFunctionNames"


def function_calling(request: JSON, provider: str) -> tuple[list[Declaration], str | None, str | None]:
    """The request's `tools` and `toolConfig.functionCallingConfig`: the functions the model may
    call, the mode (`auto`, `any` or `none`; None when the request has no functionCallingConfig),
    and the one function the model must call, if any.

    `allowedFunctionNames` with one name and `ANY` is that function named; otherwise, unless the
    mode is `NONE`, the functions are those named, which no model can tell apart from the
    allowed ones. `VALIDATED` is refused: no provider validates calls against the schemas.
    """
    tools = request.get("tools")
    functions = [] if tools is None else function_declarations(tools, provider)
    value = request.get("toolConfig")
    calling = None if value is None else proto_message(value, "toolConfig", TOOL_CONFIG_FIELDS, provider)
    calling = None if calling is None else calling.get("functionCallingConfig")
    if calling is None:
        return functions, None, None
    calling = proto_message(calling, CALLING, CALLING_FIELDS, provider)
    mode = calling.get("mode")
    mode = "auto" if mode is None else enum_value(mode, _MODE, _MODES)
    if mode is None:
        raise refuse(_MODE, "function calling validated against the schemas (`VALIDATED`)", provider)
    allowed = calling.get("allowedFunctionNames")
    names = [] if allowed is None else as_str_list(allowed, _ALLOWED)
    if not functions or not names or mode == "none":
        return functions, mode, None
    declared = {function[0] for function in functions}
    for i, name in enumerate(names):
        if name not in declared:
            raise invalid((_ALLOWED, i), f"the name of a declared function (`{name}`)")
    if mode == "any" and len(names) == 1:
        return functions, mode, names[0]
    return [function for function in functions if function[0] in names], mode, None


# --- generationConfig ------------------------------------------------------------------------

CONFIG = "generationConfig"
THINKING = f"{CONFIG}.thinkingConfig"


def config_fields(config: JSON) -> Iterator[tuple[str, Param, Any]]:
    """A generationConfig's fields that are set: (name in lowerCamelCase, param as spelled, value)."""
    for key, value in config.items():
        if value is not None:
            yield camel(key) if "_" in key else key, (CONFIG, key), value


def check_text_output(value: Any, param: Param, provider: str) -> None:
    """`responseModalities`: text is the only output any provider here writes."""
    for i, modality in enumerate(as_list(value, param)):
        if as_str(modality, (param, i)).upper() != "TEXT":
            raise refuse((param, i), f"output of modality `{modality}`", provider)


# Flags asking for output no provider here writes: taken when false.
_OUTPUT_FLAGS = frozenset({"responseLogprobs", "audioTimestamp", "enableAffectiveDialog", "enableEnhancedCivicAnswers"})


def check_unmapped_config(name: str, param: Param, value: Any, provider: str) -> None:
    """A generationConfig field a provider has no counterpart of: taken when it asks for nothing
    (one candidate, text output, a flag set false) or is only a hint (`mediaResolution`: the
    provider sizes images itself), refused otherwise, as is any field not named here."""
    if name == "candidateCount":
        if as_int(value, param) != 1:
            raise refuse(param, "more than one candidate", provider)
    elif name == "responseModalities":
        check_text_output(value, param, provider)
    elif name in _OUTPUT_FLAGS:
        if as_bool(value, param):
            raise refuse(param, f"`{name}`", provider)
    elif name == "mediaResolution":
        as_str(value, param)
    else:
        raise refuse(param, f"`{name}`", provider)


def output_schema(media_type: str | None, schema: Any, json_schema: Any) -> Any:
    """Which of `responseSchema` and `responseJsonSchema` (as given, read or not) the output must
    follow, None for neither: not both, and only with `responseMimeType: application/json`."""
    if schema is not None and json_schema is not None:
        raise invalid(f"{CONFIG}.responseJsonSchema", "left out when `responseSchema` is set")
    if schema is None:
        schema = json_schema
    if schema is not None and media_type != "application/json":
        raise invalid(f"{CONFIG}.responseMimeType", "`application/json` with a response schema")
    return schema


def thinking_config(value: Any, provider: str) -> tuple[str | None, int | None]:
    """`thinkingConfig`'s level (`minimal` to `high`) or budget (-1: the model decides, 0: off, or
    a number of tokens), (None, None) when it says neither. `includeThoughts` is only checked here:
    it is the answer's business (`include_thoughts`)."""
    thinking = proto_message(value, THINKING, THINKING_FIELDS, provider)
    include = thinking.get("includeThoughts")
    if include is not None:
        as_bool(include, (THINKING, "includeThoughts"))
    budget, level = thinking.get("thinkingBudget"), thinking.get("thinkingLevel")
    if budget is not None and level is not None:
        raise invalid((THINKING, "thinkingLevel"), "left out when `thinkingBudget` is set")
    if level is not None:
        return enum_value(level, (THINKING, "thinkingLevel"), THINKING_LEVELS), None
    if budget is None:
        return None, None
    budget = as_int(budget, (THINKING, "thinkingBudget"))
    if budget < -1:
        raise invalid((THINKING, "thinkingBudget"), "-1 (dynamic), 0 (off) or a number of tokens")
    return None, budget


def thinking_budget(value: Any, provider: str, minimum: int) -> int | None:
    """`thinkingConfig` as a budget of tokens, for a provider that thinks within one (None: it does
    not think): a level's by `THINKING_BUDGETS`, the medium one for -1 (the provider needs a
    budget), and at least `minimum`."""
    level, budget = thinking_config(value, provider)
    if level is not None:
        return THINKING_BUDGETS[level]
    if not budget:
        return None
    if budget == -1:
        return THINKING_BUDGETS["medium"]
    return max(budget, minimum)


# --- Writing to the client -------------------------------------------------------------------


def usage_metadata(usage: Usage) -> JSON:
    """The common record as Gemini's usageMetadata: candidatesTokenCount leaves out the thoughts,
    which thoughtsTokenCount counts; zero counts of cache and thoughts are left out, as Gemini does."""
    thoughts = min(usage.reasoning_tokens, usage.output_tokens)
    metadata = {
        "promptTokenCount": usage.input_tokens,
        "candidatesTokenCount": usage.output_tokens - thoughts,
        "totalTokenCount": usage.input_tokens + usage.output_tokens,
    }
    if usage.cached_input_tokens:
        metadata["cachedContentTokenCount"] = usage.cached_input_tokens
    if thoughts:
        metadata["thoughtsTokenCount"] = thoughts
    return metadata


def candidate(parts: list[JSON], finish_reason: str, index: int = 0) -> JSON:
    # A candidate with nothing to say says "": `response.text` in Google's SDKs is then "", not None.
    return {
        "content": {"parts": parts or [{"text": ""}], "role": "model"},
        "finishReason": finish_reason,
        "index": index,
    }


def generate_content_response(candidates: list[JSON], usage: Usage, model: str, response_id: str) -> JSON:
    """A GenerateContentResponse: a whole answer, or a stream's last event."""
    return {
        "candidates": candidates,
        "usageMetadata": usage_metadata(usage),
        "modelVersion": model,
        "responseId": response_id,
    }


def google_error_body(status: int, message: str) -> bytes:
    return orjson.dumps({"error": {"code": status, "message": message, "status": google_status(status)}})


# Gemini's finishReason for the stop reasons Anthropic and Converse share (Converse took Claude's names).
CLAUDE_FINISH_REASONS = {
    "end_turn": "STOP",
    "stop_sequence": "STOP",
    "tool_use": "STOP",  # Gemini says STOP for a turn that ends in function calls
    "max_tokens": "MAX_TOKENS",
    "model_context_window_exceeded": "MAX_TOKENS",
}


def response_id(provider_id: Any) -> str:
    return nonempty(provider_id) or uuid.uuid4().hex


def finish_reason(reasons: dict[str, str], provider_reason: Any, finished: bool = True) -> str:
    """Gemini's finishReason for a provider's, by `reasons`: OTHER for one Gemini has no name for.
    Without one, STOP when the provider `finished` (a compatible server that leaves it out), OTHER
    for a stream cut off before."""
    if provider_reason is None:
        return "STOP" if finished else "OTHER"
    if not isinstance(provider_reason, str):
        return "STOP"
    return reasons.get(provider_reason, "OTHER")


def function_call_part(call_id: Any, name: Any, args: Any) -> JSON:
    """A provider's function call as a part: its id and name when strings, its arguments when an object."""
    # The provider's id goes to the client, which sends it back with the call and its response.
    call_id, name = nonempty(call_id), nonempty(name) or ""
    args = args if isinstance(args, dict) else {}
    call: JSON = {"id": call_id, "name": name, "args": args} if call_id else {"name": name, "args": args}
    return {"functionCall": call}


def streamed_call_part(call_id: Any, name: Any, fragments: list[str], start: Any) -> JSON:
    """A call whose arguments were streamed in JSON fragments, whole: arguments cut off or garbled
    are {}; without fragments, the arguments the call started with."""
    arguments = "".join(fragments)
    return function_call_part(call_id, name, tool_arguments(arguments) if arguments else start)


EVENT_END = b"\r\n\r\n"  # Gemini ends each event with CRLF CRLF; Google's SDKs take any line end
EVENT_START = b'data: {"candidates":[{"content":{"parts":['


def error_event(status: int, message: str) -> bytes:
    """An error as a stream event."""
    return b"data: " + google_error_body(status, message) + EVENT_END


NOT_JSON = error_event(502, "the provider's stream has an event that is not a JSON object")


class GeminiStream(EventStreamTranslator):
    """The client's side of a stream translator: Gemini `GenerateContentResponse` events, each with
    a candidate's new parts, the model and the response id; the last (`_last`), and only it, with
    every candidate's finishReason and the usage. A subclass reads the provider's events."""

    __slots__ = ("_model", "_thoughts", "_id", "_ids", "_ends")

    def __init__(self, model: str, thoughts: bool) -> None:
        super().__init__()
        self._model = model
        self._thoughts = thoughts  # whether the client asked for thoughts (`includeThoughts`)
        self._id = ""
        self._ids = b""  # the end of every event: the model and the response id
        self._ends: dict[int, bytes] = {}  # candidate index -> the bytes of an event after its parts

    def _start(self, provider_id: Any) -> None:
        """Fixes the response id: the provider's, when the event that starts its stream has one."""
        if not self._id:
            self._id = response_id(provider_id)
            self._ids = b'"modelVersion":%s,"responseId":%s}%s' % (
                orjson.dumps(self._model),
                orjson.dumps(self._id),
                EVENT_END,
            )

    def _send(self, part: bytes, out: list[bytes], index: int = 0) -> None:
        try:
            end = self._ends[index]
        except KeyError:  # the candidate's first event
            self._start(None)
            end = self._ends[index] = b'],"role":"model"},"index":%d}],%s' % (index, self._ids)
        out.append(EVENT_START + part + end)

    def _text(self, text: Any, out: list[bytes], thought: bool = False, index: int = 0) -> None:
        if isinstance(text, str) and text:
            part = b'{"text":%s,"thought":true}' if thought else b'{"text":%s}'
            self._send(part % orjson.dumps(text), out, index)

    def _last(self, candidates: list[JSON], out: list[bytes]) -> None:
        """The stream's last event, which ends it: `candidate`s with their finish reasons, and the usage."""
        self._start(None)
        last = generate_content_response(candidates, self._usage or Usage(), self._model, self._id)
        out.append(b"data: " + orjson.dumps(last) + EVENT_END)
        self._ended = True


class BlockCalls:
    """Function calls a provider streams in content blocks (Anthropic, Converse), by block index:
    their arguments arrive in JSON fragments, and Gemini sends a call whole, so each goes to the
    client when its block stops (`stop`), or at the end of the stream (`rest`)."""

    __slots__ = ("_calls",)

    def __init__(self) -> None:
        self._calls: dict[int, tuple[Any, Any, list[str], Any]] = {}  # (id, name, fragments, start args)

    def start(self, index: int, call_id: Any, name: Any, args: Any) -> None:
        """A call's block starts: its id, name, and arguments (whole, from a compatible server) as sent."""
        self._calls[index] = (call_id, name, [], args)

    def add(self, index: int, fragment: Any) -> None:
        call = self._calls.get(index)
        if call is not None and isinstance(fragment, str) and fragment:
            call[2].append(fragment)

    def stop(self, index: int) -> JSON | None:
        call = self._calls.pop(index, None)
        return None if call is None else streamed_call_part(*call)

    def rest(self) -> list[JSON]:
        parts = [streamed_call_part(*call) for call in self._calls.values()]
        self._calls = {}
        return parts
