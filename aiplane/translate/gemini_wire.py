"""The Gemini generateContent wire, as every pair with Gemini clients reads and writes it.

Reading a client's request: protobuf JSON messages whose fields come in lowerCamelCase or
snake_case (`proto_message`), enums by name in any case, Gemini Schemas as JSON Schema, and the
field names of each message; pairing function responses with calls (`FunctionCallPairing`).
Writing to the client: usageMetadata, error bodies and events in Google's shape, the empty-text
part of a candidate with nothing to say, function call parts, response ids and finish reasons,
and the bytes around a stream's events. Shared by `gemini_openai.py` and `gemini_anthropic.py`.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from aiplane.translate.base import Usage
from aiplane.translate.common import (
    JSON,
    as_bool,
    as_dict,
    as_int,
    as_list,
    as_str,
    google_status,
    invalid,
    nonempty,
    refuse,
)


def camel(name: str) -> str:
    head, *words = name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in words)


def proto_message(value: Any, param: str, fields: frozenset[str], provider: str) -> JSON:
    """A Gemini proto message with its field names in lowerCamelCase; a field it lacks is refused."""
    message = as_dict(value, param) if param else value
    for name in message:
        if name not in fields:
            break
    else:
        return message  # the common case: nothing to rename
    renamed: JSON = {}
    for name, field in message.items():
        key = name if name in fields else camel(name)
        if key not in fields:
            raise refuse(f"{param}.{name}" if param else name, f"the field `{name}`", provider)
        renamed[key] = field
    return renamed


def enum_value(value: Any, param: str, names: dict[str, Any]) -> Any:
    """A protobuf enum value by its name, any case (Google's docs write both)."""
    name = as_str(value, param).upper()
    if name not in names:
        raise invalid(param, f"one of `{'`, `'.join(names)}`")
    return names[name]


def json_text(value: Any, param: str) -> str:
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError as e:  # an integer beyond 64 bits, nesting beyond orjson's limit
        raise invalid(param, f"encodable as JSON ({e})") from None


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
_MAX_SCHEMA_DEPTH = 64  # deeper than any model takes; keeps the recursion far from Python's limit


def _limit(value: Any, param: str) -> int:
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


def json_schema(value: Any, param: str, depth: int = 0) -> JSON:
    """A Gemini Schema as JSON Schema: lower-case types, `nullable` as a `null` type,
    `propertyOrdering` as the properties' order, `example` as `examples`, int64 limits as
    numbers. JSON Schema keywords Gemini's Schema lacks pass through as they are."""
    if depth > _MAX_SCHEMA_DEPTH:
        raise invalid(param, f"a schema nested at most {_MAX_SCHEMA_DEPTH} levels deep")
    out: JSON = {}
    nullable = False
    ordering: list[str] = []
    for name, field in as_dict(value, param).items():
        key = camel(name) if "_" in name else name
        where = f"{param}.{name}"
        if field is None:
            continue
        if key == "type":
            kind = enum_value(field, where, _SCHEMA_TYPES)
            if kind is not None:
                out["type"] = kind
        elif key == "properties":
            out["properties"] = {
                prop: json_schema(schema, f"{where}.{prop}", depth + 1)
                for prop, schema in as_dict(field, where).items()
            }
        elif key == "items":
            out["items"] = json_schema(field, where, depth + 1)
        elif key == "anyOf":
            out["anyOf"] = [json_schema(s, f"{where}[{i}]", depth + 1) for i, s in enumerate(as_list(field, where))]
        elif key == "nullable":
            nullable = as_bool(field, where)
        elif key == "propertyOrdering":
            ordering = [as_str(prop, f"{where}[{i}]") for i, prop in enumerate(as_list(field, where))]
        elif key == "example":
            out["examples"] = [field]
        elif key == "format":
            if as_str(field, where) != "enum":  # Gemini's marker for a string enum: JSON Schema has `enum` alone
                out["format"] = field
        elif key in _INT64_KEYWORDS:
            out[key] = _limit(field, where)
        else:
            out[key] = field
    if ordering and "properties" in out:
        properties = out["properties"]
        ordered = {prop: properties[prop] for prop in ordering if prop in properties}
        out["properties"] = ordered | properties
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


def is_thought(part: JSON, param: str) -> bool:
    thought = part.get("thought")
    return thought is not None and as_bool(thought, f"{param}.thought")


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


def parts_or_empty(parts: list[JSON]) -> list[JSON]:
    # A candidate with nothing to say says "": `response.text` in Google's SDKs is then "", not None.
    return parts or [{"text": ""}]


def google_error_body(status: int, message: str) -> bytes:
    return orjson.dumps({"error": {"code": status, "message": message, "status": google_status(status)}})


def include_thoughts(request: JSON) -> bool:
    """Whether the client asked for thoughts, in either spelling; the request was read before."""
    config = request.get("generationConfig", request.get("generation_config"))
    if not isinstance(config, dict):
        return False
    thinking = config.get("thinkingConfig", config.get("thinking_config"))
    if not isinstance(thinking, dict):
        return False
    return thinking.get("includeThoughts", thinking.get("include_thoughts")) is True


# --- Writing to the client ---------------------------------------------------------------------

_URL_SAFE_BASE64 = str.maketrans("-_", "+/")


def standard_base64(data: str) -> str:
    """protobuf JSON takes bytes in URL-safe base64 and without padding too; providers want neither."""
    if "-" in data or "_" in data:
        data = data.translate(_URL_SAFE_BASE64)
    if len(data) % 4:
        data += "=" * (-len(data) % 4)
    return data


def file_uri_and_type(value: Any, param: str, provider: str) -> tuple[str, str]:
    """A `fileData` part's URI and media type ("" when left out): an http(s) URL, not Google's Files API."""
    file = proto_message(value, param, FILE_FIELDS, provider)
    uri = as_str(file.get("fileUri"), f"{param}.fileUri")
    media_type = file.get("mimeType")
    media_type = "" if media_type is None else as_str(media_type, f"{param}.mimeType")
    lowered = uri.lower()
    if not lowered.startswith(("https://", "http://")):
        raise refuse(f"{param}.fileUri", "a file that is not at an http(s) URL", provider)
    if lowered.startswith("https://generativelanguage.googleapis.com/"):
        raise refuse(f"{param}.fileUri", "a file in Google's Files API", provider)
    return uri, media_type


class FunctionCallPairing:
    """Pairs each `functionResponse` with a `functionCall` of the model turn before it.

    Providers pair them by id; Gemini's ids are optional, and SDKs leave them out. A call without
    one gets an id numbered by `_made`, counting the calls in the request from 0: the same history
    gets the same ids in every request, which keeps the provider's prompt cache warm. A response
    with an id answers the call of that id; one without answers the first call of its name that is
    not answered yet, so parallel calls of one function are answered in the order they were made.
    Each pair's subclass makes the provider's call from a `functionCall` (`call`).
    """

    __slots__ = ("_made", "_open")

    def __init__(self) -> None:
        self._made = 0
        self._open: list[tuple[str, str]] = []  # (name, id) of the last model turn's calls not answered yet

    def model_turn(self) -> None:
        self._open = []

    def answer_response(self, value: Any, param: str, provider: str, multimodal: str) -> tuple[str, str]:
        """A `functionResponse`'s call id, paired by `answer`, and its response as JSON text.

        A multimodal response is refused saying `multimodal`; so are non-blocking functions'.
        """
        response = proto_message(value, param, RESPONSE_FIELDS, provider)
        name = as_str(response.get("name"), f"{param}.name")
        if response.get("parts"):
            raise refuse(f"{param}.parts", multimodal, provider)
        if response.get("willContinue") is not None and as_bool(response["willContinue"], f"{param}.willContinue"):
            raise refuse(
                f"{param}.willContinue", "a function response in several parts (non-blocking functions)", provider
            )
        if response.get("scheduling") is not None:
            raise refuse(f"{param}.scheduling", "scheduling a non-blocking function's response", provider)
        result = response.get("response")
        content = "{}" if result is None else json_text(as_dict(result, f"{param}.response"), f"{param}.response")
        response_id = response.get("id")
        response_id = as_str(response_id, f"{param}.id") if response_id else None
        return self.answer(name, response_id, param), content

    def answer(self, name: str, response_id: str | None, param: str) -> str:
        for i, (call_name, call_id) in enumerate(self._open):
            if (call_id == response_id) if response_id else (call_name == name):
                del self._open[i]
                return call_id
        if response_id:
            return response_id  # an id the client knows of: whether it answers a call is the provider's to say
        raise invalid(
            f"{param}.name", f"the name of a function the model called before and not yet answered (`{name}`)"
        )


def response_id(provider_id: Any) -> str:
    return nonempty(provider_id) or uuid.uuid4().hex


def finish_reason(reasons: dict[str, str], provider_reason: Any) -> str:
    """Gemini's finishReason for a provider's, by `reasons`: OTHER for one Gemini has no name for."""
    if not isinstance(provider_reason, str):
        return "STOP"  # a compatible server that leaves it out of a whole response
    return reasons.get(provider_reason, "OTHER")


def function_call_part(call_id: str | None, name: str, args: JSON) -> JSON:
    # The provider's id goes to the client, which sends it back with the call and its response.
    call: JSON = {"id": call_id, "name": name, "args": args} if call_id else {"name": name, "args": args}
    return {"functionCall": call}


EVENT_END = b"\r\n\r\n"  # Gemini ends each event with CRLF CRLF; Google's SDKs take any line end
EVENT_START = b'data: {"candidates":[{"content":{"parts":['


def error_event(status: int, message: str) -> bytes:
    """An error as a stream event."""
    return b"data: " + google_error_body(status, message) + EVENT_END


NOT_JSON = error_event(502, "the provider's stream has an event that is not a JSON object")
