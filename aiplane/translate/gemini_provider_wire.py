"""The Gemini `generateContent` wire, provider side: what every pair with a Gemini provider needs
to build its requests and read its answers, streams and errors (readers never raise). Moved here
from `openai_gemini.py`, which uses them as before; `gemini_wire.py` is the client side."""

from __future__ import annotations

from typing import Any

from aiplane.translate.common import JSON

# Gemini 3 wants the first `functionCall` part of each model turn to carry the thought
# signature it answered with, and answers 400 without one; a client of another dialect never
# sees signatures. Gemini's thought-signature guide documents this value for function calls
# the model did not make itself (history from another model, or rebuilt by a client).
SKIP_THOUGHT_SIGNATURE = "skip_thought_signature_validator"

# The thinking budget every Gemini 2.5 model that thinks accepts at most (Flash and Flash-Lite
# stop at 24576; Pro at 32768).
MAX_THINKING_BUDGET = 24576

# Media types for an image URL's file extension: Gemini fetches the file itself, and the
# type, which its `fileData` does not require, is left out for any other extension.
IMAGE_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "heic": "image/heic",
    "heif": "image/heif",
    "gif": "image/gif",
}


def file_data(url: str) -> JSON:
    """A `fileData` part for an http(s) URL, with the media type its extension names, if any."""
    data = {"fileUri": url}
    name = url.partition("?")[0].partition("#")[0].rpartition("/")[2]
    media_type = IMAGE_TYPES.get(name.rpartition(".")[2].lower()) if "." in name else None
    if media_type is not None:
        data["mimeType"] = media_type
    return {"fileData": data}


def merged_parts(first: list[JSON], second: list[JSON]) -> list[JSON]:
    """Two turns of one role as one, function responses first, right after the calls they answer."""
    parts = first + second
    responses = [part for part in parts if "functionResponse" in part]
    if responses and len(responses) < len(parts):
        parts = responses + [part for part in parts if "functionResponse" not in part]
    return parts


def sign_function_calls(turns: list[JSON]) -> None:
    """Give the first function call of each model turn the signature Gemini 3 wants."""
    for turn in turns:
        if turn["role"] == "model":
            for part in turn["parts"]:
                if "functionCall" in part:
                    part["thoughtSignature"] = SKIP_THOUGHT_SIGNATURE
                    break


# Gemini's finish reasons that say the answer was withheld or cut for its content.
def apply_function_tools(declarations: list[JSON], calling_config: JSON | None, out: JSON) -> None:
    """The request's `tools` and `toolConfig`: without declarations, a tool choice means nothing."""
    if declarations:
        out["tools"] = [{"functionDeclarations": declarations}]
        if calling_config is not None:
            out["toolConfig"] = {"functionCallingConfig": calling_config}


SAFETY_FINISH_REASONS = frozenset(
    {
        "SAFETY",
        "RECITATION",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "IMAGE_RECITATION",
    }
)


def first_candidate(body: JSON) -> JSON | None:
    candidates = body.get("candidates")
    if isinstance(candidates, list) and candidates and isinstance(candidates[0], dict):
        return candidates[0]
    return None


def candidate_parts(candidate: JSON) -> list[Any] | tuple[()]:
    content = candidate.get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    return parts if isinstance(parts, list) else ()


def prompt_blocked(body: JSON) -> bool:
    """Whether the prompt was blocked: Gemini then answers no candidate, and says why."""
    feedback = body.get("promptFeedback")
    return isinstance(feedback, dict) and feedback.get("blockReason") is not None


# The HTTP status of each of Google's canonical error codes (google.rpc.Code), for an error
# in a stream that gives its status by name only.
HTTP_STATUS = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "OUT_OF_RANGE": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ABORTED": 409,
    "ALREADY_EXISTS": 409,
    "RESOURCE_EXHAUSTED": 429,
    "CANCELLED": 499,
    "UNKNOWN": 500,
    "INTERNAL": 500,
    "DATA_LOSS": 500,
    "UNIMPLEMENTED": 501,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}


def google_error(parsed: Any) -> JSON:
    """The `error` object of a parsed Google error body, or {}."""
    if isinstance(parsed, list) and parsed:
        parsed = parsed[0]  # Gemini's stream without `alt=sse` is a JSON array, errors too
    error = parsed.get("error") if isinstance(parsed, dict) else None
    return error if isinstance(error, dict) else {}


def stream_error(error: Any) -> tuple[int, str, str | None]:
    """The HTTP status, message and Google status name of an error event inside a Gemini stream."""
    error = error if isinstance(error, dict) else {"message": error}
    status = error.get("status")
    status = status if isinstance(status, str) and status else None
    code = error.get("code")
    if not (isinstance(code, int) and not isinstance(code, bool) and 400 <= code <= 599):
        code = HTTP_STATUS.get(status or "", 500)
    message = error.get("message")
    message = message if isinstance(message, str) and message else "the provider's stream reported an error"
    return code, message, status
