"""What every translator to AWS Bedrock's Converse API shares: reading its usage, its errors and
its stream exceptions, and the image formats it takes.

Converse (`POST /model/{modelId}/converse`) and ConverseStream (`.../converse-stream`) take one
body shape for every model Bedrock hosts; the stream arrives in event-stream frames
(`aiplane.translate.eventstream`), one Converse stream event per frame.
Reference: docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html and
API_runtime_ConverseStream.html.
"""

from __future__ import annotations

from typing import Any

from aiplane.translate.base import Usage
from aiplane.translate.common import count, nonempty, read_provider_error
from aiplane.translate.eventstream import EventStreamParser, is_exception

PROVIDER = "Bedrock Converse"  # how refusals name the provider's API
PARSER = EventStreamParser  # a stream translator's `parser`

# Converse's image `format`, by the MIME type clients send.
IMAGE_FORMATS = {
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/jpg": "jpeg",
    "image/gif": "gif",
    "image/webp": "webp",
}

# The HTTP status of each Bedrock exception: the status Converse answers with, and what a stream
# exception (which arrives after a 200) is reported as. Keys are the event-stream spelling.
EXCEPTION_STATUS = {
    "validationException": 400,
    "serviceQuotaExceededException": 400,
    "accessDeniedException": 403,
    "resourceNotFoundException": 404,
    "modelTimeoutException": 408,
    "modelStreamErrorException": 424,
    "modelErrorException": 424,
    "throttlingException": 429,
    "modelNotReadyException": 429,
    "internalServerException": 500,
    "serviceUnavailableException": 503,
}


def bedrock_usage(value: Any) -> Usage:
    """A Converse `usage` object as the common record. Like Anthropic's, Bedrock's inputTokens
    exclude the prompt tokens read from or written to its cache; the common record counts them."""
    usage = value if isinstance(value, dict) else {}
    cache_read = count(usage.get("cacheReadInputTokens"))
    cache_written = count(usage.get("cacheWriteInputTokens"))
    return Usage(
        input_tokens=count(usage.get("inputTokens")) + cache_read + cache_written,
        output_tokens=count(usage.get("outputTokens")),
        cached_input_tokens=cache_read,
        cache_creation_input_tokens=cache_written,
    )


def read_error(status: int, body: bytes) -> str:
    """The message of a Bedrock error body: `{"message": ...}`, or `{"Message": ...}` from some
    AWS front ends."""
    message, parsed = read_provider_error(status, body)
    if isinstance(parsed, dict) and "message" not in parsed:
        message = nonempty(parsed.get("Message")) or message
    return message


def stream_exception(event: str, data: bytes) -> tuple[int, str] | None:
    """The status and message of an exception frame in a ConverseStream; None for an event."""
    if not is_exception(event):
        return None
    status = EXCEPTION_STATUS.get(event, 500)
    return status, read_error(status, data) if data else f"Bedrock reported {event}"


# ---------------------------------------------------------------------------------------------
# Building a Converse request (appended with gemini_bedrock)
# ---------------------------------------------------------------------------------------------

# Converse's document `format`, by the MIME type clients send (API_runtime_DocumentBlock).
DOCUMENT_FORMATS = {
    "application/pdf": "pdf",
    "text/csv": "csv",
    "application/msword": "doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "text/html": "html",
    "text/plain": "txt",
    "text/markdown": "md",
}

# The vendors whose models Bedrock hosts, as the first part of a model id names them.
_VENDORS = frozenset(
    {
        "ai21",
        "amazon",
        "anthropic",
        "cohere",
        "deepseek",
        "google",
        "luma",
        "meta",
        "minimax",
        "mistral",
        "moonshot",
        "moonshotai",
        "nvidia",
        "openai",
        "qwen",
        "stability",
        "twelvelabs",
        "writer",
    }
)


def model_vendor(model_id: str) -> str | None:
    """The vendor a Bedrock model id names: `anthropic` for `anthropic.claude-sonnet-4-5-20250929-v1:0`,
    for a cross-region inference profile (`us.anthropic.claude-...`) and a foundation model's ARN;
    None for an id that names none (an application inference profile's or a provisioned model's ARN)."""
    name = model_id.rsplit("/", 1)[-1].lower()
    for segment in name.split(".", 2)[:2]:
        if segment in _VENDORS:
            return segment
    return None


def takes_claude_fields(model_id: str) -> bool:
    """Whether the model takes Claude's `additionalModelRequestFields` (`top_k`, `thinking`): a
    Claude model, or one whose id does not say (Bedrock answers if it is not Claude)."""
    vendor = model_vendor(model_id)
    return vendor is None or vendor == "anthropic"


def in_tool_loop(messages: list[dict]) -> bool:
    """Whether the last assistant message of a Converse request calls tools (`toolUse` blocks), so
    the request continues that turn: Claude then wants the turn's own thinking block back first,
    signature and all, or no thinking (see `anthropic_wire.in_tool_loop`)."""
    for message in reversed(messages):
        if message["role"] == "assistant":
            return any("toolUse" in block for block in message["content"])
    return False


# ---------------------------------------------------------------------------------------------
# Building a Converse request (appended with openai_bedrock)
# ---------------------------------------------------------------------------------------------

_DOCUMENT_NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-()[]")
_MAX_DOCUMENT_NAME = 200


def document_name(filename: str | None, taken: set[str]) -> str:
    """A Converse document `name` for a file called `filename` (None: unnamed), unique among the
    `taken` names (lowercase) of the request, which it joins.

    Converse wants every document named, with alphanumerics, hyphens, parentheses, square
    brackets and single spaces only (API_runtime_DocumentBlock), and refuses a request whose
    documents share a name: the file's extension goes, other characters become spaces, and a
    name already taken gets a `-2`, `-3`, ... suffix.
    """
    stem = filename or ""
    dot = stem.rfind(".")
    if dot > 0:
        stem = stem[:dot]
    kept = "".join(c if c in _DOCUMENT_NAME_CHARACTERS else " " for c in stem)
    base = " ".join(kept.split())[:_MAX_DOCUMENT_NAME].strip() or "document"
    name, n = base, 1
    while name.lower() in taken:
        n += 1
        suffix = f"-{n}"
        name = base[: _MAX_DOCUMENT_NAME - len(suffix)] + suffix
    taken.add(name.lower())
    return name


def uses_tools(messages: list[dict]) -> bool:
    """Whether a Converse request's messages hold tool calls or results (`toolUse`, `toolResult`
    blocks): Bedrock then refuses the request unless it declares tools in `toolConfig`."""
    return any("toolUse" in block or "toolResult" in block for message in messages for block in message["content"])
