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
IMAGE_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/jpg": "jpeg", "image/gif": "gif", "image/webp": "webp"}

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
