"""A fast local server speaking OpenAI's, Anthropic's, Google's Gemini and AWS Bedrock's chat and embeddings APIs.

Used by the tests, by the benchmark and by the default config, so that the
gateway answers without a real provider or an API key.

The path chooses the dialect. Routes are matched by path suffix, so any
base_url prefix works (`http://127.0.0.1:18100/custom/prefix/v1` is served
like `.../v1`):

- `POST …/chat/completions` (OpenAI): a `chat.completion`, or with
  `"stream": true` a `text/event-stream` of `chat.completion.chunk` events
  ending in `data: [DONE]`; a final usage chunk is sent when the request asks
  for it with `stream_options.include_usage`, as OpenAI does.
- `GET …/models` (OpenAI): a list of mock models.
- `POST …/messages` (Anthropic): a `message` (`id: msg_mock_<n>`, one content
  block, `stop_reason`, `stop_sequence: null`, `usage` with input, output and
  zero cache tokens), or with `"stream": true` Anthropic's named events:
  `message_start` (empty content, input tokens), `content_block_start`,
  `ping`, one `content_block_delta` per piece, `content_block_stop`,
  `message_delta` (`stop_reason`, `usage.output_tokens`) and `message_stop`.
- `POST …/messages/count_tokens` (Anthropic): `{"input_tokens": N}`.
- `POST …/models/{model}:generateContent` (Gemini, under Google AI's
  `/v1beta` or Vertex AI's `…/publishers/google`): a `GenerateContentResponse`
  (`candidates[0]` with `content {role: "model", parts}`, `finishReason:
  "STOP"`, `index: 0`; `usageMetadata` with prompt, candidates and total
  token counts; `modelVersion`, the model named in the path; `responseId:
  gemini-mock-<n>`).
- `POST …/models/{model}:streamGenerateContent?alt=sse` (Gemini): one
  `data: {GenerateContentResponse}` event per piece, each ended by `\r\n\r\n`
  as Google ends them, with no closing sentinel; the last piece's event also
  carries `finishReason` and `usageMetadata`. Without `alt=sse` Google
  streams one JSON array instead: the mock answers that with 400.
- `POST …/model/{modelId}/converse` (Bedrock Converse; the model id
  percent-encoded in the path, `%3A` for its `:`, and decoded): `{"output":
  {"message": {role: "assistant", content: [{"text"}]}}, "stopReason":
  "end_turn", "usage": {inputTokens, outputTokens, totalTokens}, "metrics":
  {"latencyMs": 0}}`.
- `POST …/model/{modelId}/converse-stream` (Bedrock ConverseStream): an
  `application/vnd.amazon.eventstream` of binary event frames
  (`aiplane.translate.eventstream`), in Bedrock's order: `messageStart
  {role}`, one `contentBlockDelta {contentBlockIndex: 0, delta: {text}}` per
  piece (no `contentBlockStart` before text, as Bedrock sends none),
  `contentBlockStop`, `messageStop {stopReason}` and `metadata {usage,
  metrics}`. Every event's payload also carries Bedrock's padding field `"p":
  "abcdefgh"`, which readers must ignore.
- `POST …/model/{modelId}/invoke` (Bedrock InvokeModel) for Amazon Titan
  Text Embeddings, model ids starting with `amazon.titan-embed`: `{"inputText":
  str, "dimensions"?: 256 | 512 | 1024 (default 1024), "normalize"?: bool
  (default true)}` answers `{"embedding": [...], "inputTextTokenCount": N}`.
  The G1 models (`amazon.titan-embed-text-v1`, `amazon.titan-embed-g1-text-02`)
  take `inputText` alone and answer 1536 values. Any other field is refused,
  as Titan refuses it (`Malformed input request: #: extraneous key [...]`),
  and so is InvokeModel for any other model (400).
- `POST …/embeddings` (OpenAI, and Azure OpenAI's
  `…/openai/deployments/{deployment}/embeddings`, where the deployment names
  the model when the body does not): `input` a string, a list of strings, a
  list of token ids or a list of lists of them (up to 2048 inputs, none
  empty; token ids are embedded as their JSON text), `model`, optional
  `encoding_format` (`float`, or `base64`: the little-endian float32 values,
  base64, as OpenAI sends them) and `dimensions` (1 to 3072, default 1536)
  answer `{"object": "list", "data": [{"object": "embedding", "index", "embedding"}],
  "model", "usage": {prompt_tokens, total_tokens}}`.
- `POST …/models/{model}:embedContent` (Gemini): `{"content": {"parts":
  [{"text"}]}, "outputDimensionality"?}` answers `{"embedding": {"values":
  [...]}}` (default 768 values, at most 3072); `…:batchEmbedContents`:
  `{"requests": [EmbedContentRequest, ...]}` (1 to 100, each naming
  `"model": "models/{model}"`, the path's model, as Gemini requires) answers
  `{"embeddings": [{"values": [...]}, ...]}`, in order.
- anything else: 404 in the dialect its path suffix names (OpenAI's when none).

Embeddings are the same function in every dialect (`embedding`): the same
text at the same size is the same vector, whichever API asked. The values are
deterministic (SHAKE-256 of the text, as 16-bit integers scaled into [-1,
1)), float32 numbers (so base64 carries them unchanged), normalized to unit
length unless Titan's `normalize: false` asks otherwise; a shorter vector's
raw values are a longer one's first ones, normalized again. Token counts
(`prompt_tokens`, `inputTextTokenCount`) are each text's UTF-8 bytes / 4 (at
least 1), or the number of token ids given.

Input tokens (`prompt_tokens`, `input_tokens`, `promptTokenCount`, `inputTokens`) are the request body's
bytes / 4. A chat completion or message body must be a JSON object with a `model` string and a `messages` list;
Anthropic's messages also need an integer `max_tokens` (from 1), and every
Anthropic route needs an `anthropic-version` header, as Anthropic does. Errors
are 400s in the dialect's shape: OpenAI's `{"error": {message, type, param,
code}}` or Anthropic's `{"type": "error", "error": {type, message}}`. A
Gemini body must be a JSON object with a non-empty `contents` list (and
`tools`, if any, a list); its errors are Google's `{"error": {code, message,
status}}`, `status` naming the canonical code (400 `INVALID_ARGUMENT`, 401
`UNAUTHENTICATED`, 403 `PERMISSION_DENIED`, 404 `NOT_FOUND`, 429
`RESOURCE_EXHAUSTED`, 500 `INTERNAL`, 503 `UNAVAILABLE`, 504
`DEADLINE_EXCEEDED`, …). A Converse body must be a JSON object with a
non-empty `messages` list of `{role: "user" | "assistant", content: [blocks]}`,
the first a user's; `system`, if any, a list, `inferenceConfig` an object and
`toolConfig.tools` a non-empty list. Bedrock's errors, on every Bedrock route,
are AWS's REST shape: the body `{"message": ...}` and the exception named in
the `x-amzn-ErrorType` header (400 `ValidationException`, 403
`AccessDeniedException`, 404 `ResourceNotFoundException`, 408
`ModelTimeoutException`, 424 `ModelErrorException`, 429
`ThrottlingException`, 500 `InternalServerException`, 503
`ServiceUnavailableException`; other 5xx `InternalServerException`, other 4xx
`ValidationException`).

Every Bedrock route (`…/model/{modelId}/…`, served or not) is authenticated
first, before any `x-mock-*` header is read, as AWS does, with either:

- a Bedrock API key: `Authorization: Bearer <anything non-empty>`;
- a SigV4 signature: `Authorization: AWS4-HMAC-SHA256
  Credential=<access key id>/<yyyymmdd>/<region>/bedrock/aws4_request,
  SignedHeaders=<names>, Signature=<hex>` with `x-amz-date`, made with
  `MOCK_AWS_ACCESS_KEY_ID` and `MOCK_AWS_SECRET_ACCESS_KEY` in any region.
  The mock recomputes the signature with botocore's own signer from the
  request as received: its method, its raw path and query (SigV4 encodes the
  path once more, `%3A` becoming `%253A`, as services other than S3 do), its
  body and exactly the headers SignedHeaders lists (`host` among them;
  `x-amz-security-token` too when one was signed; any token is accepted), at
  the time `x-amz-date` states (no clock-skew check).

Otherwise 403, worded as AWS words it: no Authorization (or an empty
Bearer) `MissingAuthenticationTokenException` "Missing Authentication
Token"; a signature missing a part or `x-amz-date`, or a malformed date or
credential scope, `IncompleteSignatureException`; another access key id
`UnrecognizedClientException` "The security token included in the request
is invalid."; a scope for another service or day, no signed `host`, or a
signature that differs `InvalidSignatureException` ("The request signature
we calculated does not match the signature you provided. …").

Request headers that choose the behaviour, in any dialect:

- `x-mock-latency-ms: N` wait N ms before the response starts.
- `x-mock-status: CODE` answer with that 4xx/5xx status and an error body.
  429 is a `rate_limit_error` with `retry-after: 1`. OpenAI's 5xx are
  `server_error`; Anthropic's types follow its docs (401
  `authentication_error`, 403 `permission_error`, 404 `not_found_error`, 413
  `request_too_large`, 504 `timeout_error`, 529 `overloaded_error`, other
  5xx `api_error`, other 4xx `invalid_request_error`).
- `x-mock-chunks: N` number of streamed content pieces, and of words in a
  non-streamed reply (default 5).
- `x-mock-chunk-interval-ms: N` delay before each streamed piece (default 0).
- `x-mock-response-bytes: N` make the reply's content about N bytes.
- `x-mock-stream-error-after: K` fail a stream mid-way: after K pieces (all
  of them if there are fewer) send the dialect's error event and end the
  stream, without the finish events: OpenAI's `data: {"error": {"message":
  "mock overload", "type": "server_error", "code": null}}` and no `[DONE]`;
  Anthropic's `event: error` with an `overloaded_error` and no
  `message_stop`; Gemini's `data: {"error": {"code": 503, "message": "mock
  overload", "status": "UNAVAILABLE"}}` and no `finishReason` (a function
  call, sent whole, counts as one piece); Bedrock's exception frame
  `modelStreamErrorException` (`:message-type: exception`, payload
  `{"message": "mock overload"}`) and no `contentBlockStop`, `messageStop` or
  `metadata`. Non-streamed requests ignore it.
- `x-mock-tool-call: NAME` answer with one call of the function NAME instead
  of text. OpenAI: `content: null`, `tool_calls: [{id: "call_mock_<n>",
  type: "function", function: {name, arguments}}]` and `finish_reason:
  "tool_calls"`; streamed, the first chunk carries the role, id, name and
  `arguments: ""`, then the pieces carry fragments of the arguments text.
  Anthropic: one `tool_use` block `{id: "toolu_mock_<n>", name, input}` and
  `stop_reason: "tool_use"`; streamed, `content_block_start` carries the
  block with `input: {}`, then `input_json_delta` events carry the fragments
  as `partial_json`. Fragments are `x-mock-chunks` (fewer if the text is
  shorter), cut mid-token as real providers do, and concatenate to the whole.
  Gemini: one `functionCall {name, args}` part (no id) and `finishReason:
  "STOP"`, streamed whole in one event, as Gemini streams calls; the usage
  counts the fragments it would have had. Bedrock: one `toolUse` block
  `{toolUseId: "tooluse_mock_<n>", name, input}` and `stopReason:
  "tool_use"`; streamed, `contentBlockStart {contentBlockIndex: 0, start:
  {toolUse: {toolUseId, name}}}`, then one `contentBlockDelta` per fragment
  with `delta: {toolUse: {input: <fragment>}}`.
  This header wins over the tool-result answer below, so a test can chain
  several calls.
- `x-mock-tool-arguments: JSON` the call's arguments, a JSON object sent
  verbatim (default `{"location": "Paris"}`).

When the request ends with a tool's result (and no tool call was asked for),
the reply is `The tool said: <the result's text>`, split into `x-mock-chunks`
pieces when streamed, so a tool-call round trip can see the result arrive;
`x-mock-response-bytes` does not apply to it. OpenAI: the last message has
`role: "tool"`. Anthropic: the last `user` message holds `tool_result`
blocks (their texts joined by newlines). Gemini: the last content holds
`functionResponse` parts, each read as its `response`'s `output` (the key
Google documents), `result` or `content` field, else as the whole `response`,
a string as it is and anything else as compact JSON (joined by newlines).
Bedrock: the last `user` message holds `toolResult` blocks, each read as its
`content`'s `text` blocks and `json` blocks (as compact JSON), joined (the
results by newlines).

A header with a value out of range, or arguments that are not a JSON object,
get 400 naming the header (in `param`, for OpenAI).

Every response echoes what the gateway sent upstream, for the gateway's tests:
`x-mock-path` (the request path as received, query included),
`x-mock-authorization`, `x-mock-api-key` (from `x-api-key`), `x-mock-azure-api-key` (from `api-key`),
`x-mock-goog-api-key` (from `x-goog-api-key`) and `x-mock-host` (`-` when the
header was absent), `x-mock-amz-date` (from `x-amz-date`) and
`x-mock-signed-headers` (the SignedHeaders list of a SigV4 Authorization, `-`
when there is none); chat completions, messages, Gemini's and Converse replies
also echo `x-mock-tools`, the number of `tools` in the request body (for
Gemini, of function declarations in its `tools[].functionDeclarations`; for
Converse, of `toolSpec` entries in its `toolConfig.tools`; 0 when none).
Embeddings ignore the behaviour headers but `x-mock-latency-ms` and
`x-mock-status`.
"""

from __future__ import annotations

import array
import asyncio
import base64
import contextlib
import functools
import hashlib
import hmac
import itertools
import math
import re
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote

import orjson
import uvloop
from aiohttp import web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.http_parser import RawRequestMessage
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestHandler
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials

from aiplane.translate.eventstream import CONTENT_TYPE as EVENT_STREAM_CONTENT_TYPE
from aiplane.translate.eventstream import encode

DEFAULT_MODEL = "mock-gpt"
MODELS = (DEFAULT_MODEL, "mock-gpt-mini")
DEFAULT_CHUNKS = 5

# Requests with base64 images easily exceed aiohttp's 1 MiB default.
MAX_REQUEST_BYTES = 64 * 1024 * 1024
# Bounds on the behaviour headers, so one request cannot exhaust the server.
MAX_CHUNKS = 100_000
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
MAX_DELAY_MS = 600_000

# The only AWS credentials a SigV4-signed Bedrock request is accepted with.
MOCK_AWS_ACCESS_KEY_ID = "AKIDMOCKAIPLANE"
MOCK_AWS_SECRET_ACCESS_KEY = "mock/secret/key"

# Embedding sizes: each API's default, and the largest `dimensions` OpenAI and Gemini requests may ask for.
OPENAI_EMBEDDING_DIMENSIONS = 1536
GEMINI_EMBEDDING_DIMENSIONS = 768
TITAN_EMBEDDING_DIMENSIONS = 1024  # Titan Text Embeddings V2; it takes 256, 512 or 1024
TITAN_G1_EMBEDDING_DIMENSIONS = 1536  # Titan G1 models, which take `inputText` alone
MAX_EMBEDDING_DIMENSIONS = 3072

DEFAULT_TOOL_ARGUMENTS = '{"location": "Paris"}'
# OpenAI's rule for function names.
_TOOL_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")

_WORDS = ("Hello", "from", "the", "aiplane", "mock", "provider.")
_JSON_HEADERS = {"Content-Type": "application/json"}
_SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
_MODELS_BODY = orjson.dumps(
    {
        "object": "list",
        "data": [{"id": model, "object": "model", "created": 1_700_000_000, "owned_by": "aiplane"} for model in MODELS],
    }
)
_STREAM_ERROR_MESSAGE = "mock overload"


class ProviderError(Exception):
    """An error answered with `status`, in the shape of the dialect the request's path names.

    `code` is OpenAI's error `code`, or on a Bedrock route the AWS exception's name when the status alone
    does not name it (`MissingAuthenticationTokenException`, ...).
    """

    def __init__(self, status: int, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code

    def response(self, echo: dict[str, str], dialect: Dialect) -> web.Response:
        headers = {**_JSON_HEADERS, **dialect.error_headers(self), **echo}
        if self.status == 429:
            headers["retry-after"] = "1"
        return web.Response(status=self.status, body=dialect.error_body(self), headers=headers)


def _int_header(request: web.BaseRequest, name: str, minimum: int, maximum: int) -> int | None:
    raw = request.headers.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if not minimum <= value <= maximum:
        raise ProviderError(400, f"{name} must be an integer from {minimum} to {maximum}, got {raw!r}", param=name)
    return value


@functools.lru_cache(maxsize=64)
def _is_json_object(raw: str) -> bool:
    try:
        return isinstance(orjson.loads(raw), dict)
    except orjson.JSONDecodeError:
        return False


def _tool_call_header(request: web.BaseRequest) -> tuple[str, str] | None:
    """The (name, arguments text) of the tool call the headers ask for, if any."""
    headers = request.headers
    arguments = headers.get("x-mock-tool-arguments")
    if arguments is not None and not _is_json_object(arguments):
        raise ProviderError(
            400, f"x-mock-tool-arguments must be a JSON object, got {arguments!r}", param="x-mock-tool-arguments"
        )
    name = headers.get("x-mock-tool-call")
    if name is None:
        return None
    if not _TOOL_NAME.fullmatch(name):
        raise ProviderError(
            400,
            f"x-mock-tool-call must be a function name matching {_TOOL_NAME.pattern}, got {name!r}",
            param="x-mock-tool-call",
        )
    return name, DEFAULT_TOOL_ARGUMENTS if arguments is None else arguments


@dataclass(frozen=True, slots=True)
class Behaviour:
    """What the request's `x-mock-*` headers asked for."""

    latency_ms: int
    status: int | None
    chunks: int
    chunk_interval_ms: int
    response_bytes: int | None
    stream_error_after: int | None
    tool_call: tuple[str, str] | None

    @classmethod
    def from_request(cls, request: web.BaseRequest) -> Behaviour:
        return cls(
            latency_ms=_int_header(request, "x-mock-latency-ms", 0, MAX_DELAY_MS) or 0,
            status=_int_header(request, "x-mock-status", 400, 599),
            chunks=_int_header(request, "x-mock-chunks", 1, MAX_CHUNKS) or DEFAULT_CHUNKS,
            chunk_interval_ms=_int_header(request, "x-mock-chunk-interval-ms", 0, MAX_DELAY_MS) or 0,
            response_bytes=_int_header(request, "x-mock-response-bytes", 0, MAX_RESPONSE_BYTES),
            stream_error_after=_int_header(request, "x-mock-stream-error-after", 0, MAX_CHUNKS),
            tool_call=_tool_call_header(request),
        )


@functools.lru_cache(maxsize=64)
def content_pieces(chunks: int, response_bytes: int | None) -> tuple[str, ...]:
    """The reply's content split into `chunks` pieces, about `response_bytes` long in all."""
    if response_bytes is None:
        return tuple(("" if i == 0 else " ") + _WORDS[i % len(_WORDS)] for i in range(chunks))
    base, extra = divmod(response_bytes, chunks)
    filler = "mock " * (base // 5 + 2)
    # Every piece carries at least one character: an empty delta is not content.
    return tuple(filler[: max(1, base + (i < extra))] for i in range(chunks))


def split_text(text: str, chunks: int) -> tuple[str, ...]:
    """`text` cut into `chunks` non-empty pieces of near-equal length (fewer if it is shorter), mid-token."""
    count = max(1, min(chunks, len(text)))
    base, extra = divmod(len(text), count)
    bounds = [0]
    for i in range(count):
        bounds.append(bounds[-1] + base + (i < extra))
    return tuple(text[bounds[i] : bounds[i + 1]] for i in range(count))


# A tool call's arguments usually repeat from request to request: cut them once.
_argument_fragments = functools.lru_cache(maxsize=64)(split_text)


def _text_of(content: Any) -> str:
    """A message's content as text: a string, or the text parts of a content-part list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part["text"] for part in content if isinstance(part, dict) and isinstance(part.get("text"), str))
    return ""


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # a JSON object's text, sent verbatim


@dataclass(frozen=True, slots=True)
class Reply:
    """The assistant's answer, in no dialect yet: text in pieces, or one tool call with its arguments in pieces.

    A reply `cut_off` is a stream failing mid-way: its pieces are sent, then an error instead of the finish.
    """

    pieces: tuple[str, ...]
    tool_call: ToolCall | None = None
    cut_off: bool = False

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    def cut(self, count: int) -> Reply:
        """This reply's first `count` pieces, cut off there."""
        return Reply(self.pieces[:count], self.tool_call, cut_off=True)


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """What the reply depends on in a request, whatever its dialect."""

    model: str
    stream: bool
    include_usage: bool
    input_tokens: int
    tools: int
    tool_result: str | None


def _load_object(body: bytes) -> dict[str, Any]:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ProviderError(400, f"We could not parse the JSON body of your request: {exc}") from None
    if not isinstance(payload, dict):
        raise ProviderError(400, "The request body must be a JSON object.")
    return payload


def _input_tokens(body: bytes) -> int:
    return max(1, len(body) // 4)


def _sse(event: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(event) + b"\n\n"


def _named_event(name: str, data: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


def _framed(before: bytes, pieces: Iterable[str], after: bytes) -> Iterator[bytes]:
    """One event per piece: the piece as a JSON string between two constant parts."""
    return (before + orjson.dumps(piece) + after for piece in pieces)


# The three parts of a stream: events sent at once, one event per piece, and the closing events
# (which a reply cut off replaces by the dialect's `stream_error`).
StreamEvents = tuple[Sequence[bytes], Iterable[bytes], Sequence[bytes]]


class Dialect(Protocol):
    """How one API frames requests, replies, streams and errors."""

    tool_id_prefix: str
    stream_error: bytes  # the event that ends a stream failing mid-way
    stream_headers: dict[str, str]  # a stream's content type

    def error_body(self, error: ProviderError) -> bytes: ...

    def error_headers(self, error: ProviderError) -> dict[str, str]: ...

    def message(self, chat: ChatRequest, reply: Reply, number: int) -> bytes: ...

    def stream(self, chat: ChatRequest, reply: Reply, number: int) -> StreamEvents: ...


_NO_HEADERS: dict[str, str] = {}


class ServerSentEvents:
    """What the dialects that stream server-sent events share: the stream's headers; errors told in the body alone."""

    stream_headers = _SSE_HEADERS

    @staticmethod
    def error_headers(error: ProviderError) -> dict[str, str]:
        return _NO_HEADERS


# A chunk's `"delta":{…}` for a text piece or an arguments fragment, around the piece's JSON string.
_OPENAI_TEXT_DELTA = (b'{"content":', b"}")
_OPENAI_ARGUMENTS_DELTA = (b'{"tool_calls":[{"index":0,"function":{"arguments":', b"}}]}")
_OPENAI_CHUNK_END = b',"logprobs":null,"finish_reason":null}]}\n\n'
_OPENAI_DONE = b"data: [DONE]\n\n"


class OpenAIChat(ServerSentEvents):
    """OpenAI's Chat Completions."""

    tool_id_prefix = "call_mock_"
    stream_error = _sse({"error": {"message": _STREAM_ERROR_MESSAGE, "type": "server_error", "code": None}})

    @staticmethod
    def error_type(status: int) -> str:
        if status == 401:
            return "authentication_error"
        if status == 403:
            return "permission_error"
        if status == 429:
            return "rate_limit_error"
        if status >= 500:
            return "server_error"
        return "invalid_request_error"

    def error_body(self, error: ProviderError) -> bytes:
        return orjson.dumps(
            {
                "error": {
                    "message": error.message,
                    "type": self.error_type(error.status),
                    "param": error.param,
                    "code": error.code,
                }
            }
        )

    def parse(self, body: bytes) -> ChatRequest:
        payload = _load_object(body)
        model = payload.get("model")
        if not isinstance(model, str) or not model:
            raise ProviderError(
                400, "you must provide a model parameter", param="model", code="missing_required_parameter"
            )
        messages = payload.get("messages")
        if not isinstance(messages, list):
            raise ProviderError(
                400, "Missing required parameter: 'messages'.", param="messages", code="missing_required_parameter"
            )
        tools = payload.get("tools")
        if tools is not None and not isinstance(tools, list):
            raise ProviderError(400, "Invalid type for 'tools': expected an array.", param="tools")
        last = messages[-1] if messages else None
        tool_result = _text_of(last.get("content")) if isinstance(last, dict) and last.get("role") == "tool" else None
        stream_options = payload.get("stream_options")
        return ChatRequest(
            model=model,
            stream=payload.get("stream") is True,
            include_usage=isinstance(stream_options, dict) and stream_options.get("include_usage") is True,
            input_tokens=_input_tokens(body),
            tools=len(tools) if tools else 0,
            tool_result=tool_result,
        )

    @staticmethod
    def _usage(chat: ChatRequest, reply: Reply) -> dict[str, int]:
        completion_tokens = len(reply.pieces)
        return {
            "prompt_tokens": chat.input_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": chat.input_tokens + completion_tokens,
        }

    def message(self, chat: ChatRequest, reply: Reply, number: int) -> bytes:
        call = reply.tool_call
        if call is None:
            message = {"role": "assistant", "content": reply.text, "refusal": None}
        else:
            function = {"name": call.name, "arguments": call.arguments}
            message = {
                "role": "assistant",
                "content": None,
                "refusal": None,
                "tool_calls": [{"id": call.id, "type": "function", "function": function}],
            }
        completion = {
            "id": f"chatcmpl-mock-{number}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": chat.model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": "stop" if call is None else "tool_calls",
                }
            ],
            "usage": self._usage(chat, reply),
            "system_fingerprint": "fp_mock",
        }
        return orjson.dumps(completion)

    def stream(self, chat: ChatRequest, reply: Reply, number: int) -> StreamEvents:
        envelope: dict[str, Any] = {
            "id": f"chatcmpl-mock-{number}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": chat.model,
        }
        # With include_usage, OpenAI sends `"usage": null` on every chunk but the last.
        if chat.include_usage:
            envelope["usage"] = None

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            return _sse({**envelope, "choices": [choice]})

        call = reply.tool_call
        if call is None:
            first = chunk({"role": "assistant", "content": ""})
            delta_open, delta_close = _OPENAI_TEXT_DELTA
        else:
            opening = {"index": 0, "id": call.id, "type": "function", "function": {"name": call.name, "arguments": ""}}
            first = chunk({"role": "assistant", "content": None, "tool_calls": [opening]})
            delta_open, delta_close = _OPENAI_ARGUMENTS_DELTA
        # Every piece's chunk is the envelope, the delta and a constant end: build the constant parts once.
        chunk_open = b"data: " + orjson.dumps(envelope)[:-1] + b',"choices":[{"index":0,"delta":'
        pieces = _framed(chunk_open + delta_open, reply.pieces, delta_close + _OPENAI_CHUNK_END)
        tail = [chunk({}, "stop" if call is None else "tool_calls")]
        if chat.include_usage:
            tail.append(_sse({**envelope, "choices": [], "usage": self._usage(chat, reply)}))
        tail.append(_OPENAI_DONE)
        return (first,), pieces, tail


def _anthropic_field(payload: dict[str, Any], name: str, kind: type, kind_name: str) -> Any:
    """`payload[name]`, which must be a `kind`; else a 400 worded as Anthropic words it."""
    value = payload.get(name)
    if value is None:
        raise ProviderError(400, f"{name}: Field required", param=name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ProviderError(400, f"{name}: Input should be a valid {kind_name}", param=name)
    return value


def _anthropic_tool_result(messages: list[Any]) -> str | None:
    """The text of the `tool_result` blocks in the last user message, if it holds any."""
    last_user = next((m for m in reversed(messages) if isinstance(m, dict) and m.get("role") == "user"), None)
    content = last_user.get("content") if last_user is not None else None
    if not isinstance(content, list):
        return None
    results = [
        _text_of(block.get("content"))
        for block in content
        if isinstance(block, dict) and block.get("type") == "tool_result"
    ]
    return "\n".join(results) if results else None


# Anthropic's error `type` by HTTP status (docs.anthropic.com, "Errors").
_ANTHROPIC_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
# A `content_block_delta` event for a text piece or an arguments fragment, around the piece's JSON string.
_ANTHROPIC_DELTA = b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":'
_ANTHROPIC_TEXT_DELTA = (_ANTHROPIC_DELTA + b'"text_delta","text":', b"}}\n\n")
_ANTHROPIC_JSON_DELTA = (_ANTHROPIC_DELTA + b'"input_json_delta","partial_json":', b"}}\n\n")
_ANTHROPIC_PING = _named_event("ping", {"type": "ping"})
_ANTHROPIC_BLOCK_STOP = _named_event("content_block_stop", {"type": "content_block_stop", "index": 0})
_ANTHROPIC_MESSAGE_STOP = _named_event("message_stop", {"type": "message_stop"})
ANTHROPIC_VERSION_HEADER = "anthropic-version"


class AnthropicMessages(ServerSentEvents):
    """Anthropic's Messages."""

    tool_id_prefix = "toolu_mock_"
    stream_error = _named_event(
        "error", {"type": "error", "error": {"type": "overloaded_error", "message": _STREAM_ERROR_MESSAGE}}
    )

    @staticmethod
    def error_type(status: int) -> str:
        return _ANTHROPIC_ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")

    def error_body(self, error: ProviderError) -> bytes:
        error_type = self.error_type(error.status)
        return orjson.dumps({"type": "error", "error": {"type": error_type, "message": error.message}})

    def parse(self, body: bytes, *, counting: bool = False) -> ChatRequest:
        """A Messages request, or with `counting` a count_tokens one (which has no `max_tokens`)."""
        payload = _load_object(body)
        model = _anthropic_field(payload, "model", str, "string")
        if not model:
            raise ProviderError(400, "model: String should have at least 1 character", param="model")
        if not counting and _anthropic_field(payload, "max_tokens", int, "integer") < 1:
            raise ProviderError(400, "max_tokens: Input should be greater than or equal to 1", param="max_tokens")
        messages = _anthropic_field(payload, "messages", list, "list")
        tools = payload.get("tools")
        if tools is not None and not isinstance(tools, list):
            raise ProviderError(400, "tools: Input should be a valid list", param="tools")
        return ChatRequest(
            model=model,
            stream=payload.get("stream") is True,
            include_usage=False,
            input_tokens=_input_tokens(body),
            tools=len(tools) if tools else 0,
            tool_result=_anthropic_tool_result(messages),
        )

    @staticmethod
    def _usage(input_tokens: int, output_tokens: int) -> dict[str, int]:
        return {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }

    @staticmethod
    def _message(
        chat: ChatRequest, number: int, content: list[Any], stop_reason: str | None, output_tokens: int
    ) -> dict[str, Any]:
        return {
            "id": f"msg_mock_{number}",
            "type": "message",
            "role": "assistant",
            "model": chat.model,
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": AnthropicMessages._usage(chat.input_tokens, output_tokens),
        }

    def message(self, chat: ChatRequest, reply: Reply, number: int) -> bytes:
        call = reply.tool_call
        if call is None:
            block: dict[str, Any] = {"type": "text", "text": reply.text}
        else:
            # The arguments were checked to be a JSON object: embed their text as the input, verbatim.
            block = {"type": "tool_use", "id": call.id, "name": call.name, "input": orjson.Fragment(call.arguments)}
        stop_reason = "end_turn" if call is None else "tool_use"
        return orjson.dumps(self._message(chat, number, [block], stop_reason, len(reply.pieces)))

    def stream(self, chat: ChatRequest, reply: Reply, number: int) -> StreamEvents:
        call = reply.tool_call
        if call is None:
            block: dict[str, Any] = {"type": "text", "text": ""}
            delta_open, delta_close = _ANTHROPIC_TEXT_DELTA
        else:
            block = {"type": "tool_use", "id": call.id, "name": call.name, "input": {}}
            delta_open, delta_close = _ANTHROPIC_JSON_DELTA
        # As Anthropic does, message_start counts one output token; message_delta gives the total.
        start = self._message(chat, number, [], None, 1)
        head = (
            _named_event("message_start", {"type": "message_start", "message": start}),
            _named_event("content_block_start", {"type": "content_block_start", "index": 0, "content_block": block}),
            _ANTHROPIC_PING,
        )
        message_delta = {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn" if call is None else "tool_use", "stop_sequence": None},
            "usage": {"output_tokens": len(reply.pieces)},
        }
        tail = (_ANTHROPIC_BLOCK_STOP, _named_event("message_delta", message_delta), _ANTHROPIC_MESSAGE_STOP)
        return head, _framed(delta_open, reply.pieces, delta_close), tail


def _gemini_sse(event: dict[str, Any]) -> bytes:
    # Google ends each event with CRLFs, where OpenAI and Anthropic use bare LFs.
    return b"data: " + orjson.dumps(event) + b"\r\n\r\n"


def _either(mapping: dict[str, Any], camel: str, snake: str) -> Any:
    """A field Google's JSON parser accepts under its lowerCamelCase or its snake_case name."""
    return mapping[camel] if camel in mapping else mapping.get(snake)


def _function_response_text(function_response: Any) -> str:
    """A `functionResponse` as text: its response's `output`, `result` or `content` field if any, else all of it."""
    response = function_response.get("response") if isinstance(function_response, dict) else None
    if isinstance(response, dict):
        # `output` is the key Google documents; `result` and `content` are common too.
        key = next((key for key in ("output", "result", "content") if key in response), None)
        if key is not None:
            response = response[key]
    return response if isinstance(response, str) else orjson.dumps(response).decode()


def _gemini_tool_result(contents: list[Any]) -> str | None:
    """The text of the `functionResponse` parts of the last content, if it holds any."""
    last = contents[-1]
    parts = last.get("parts") if isinstance(last, dict) else None
    if not isinstance(parts, list):
        return None
    results = [
        _function_response_text(response)
        for part in parts
        if isinstance(part, dict) and (response := _either(part, "functionResponse", "function_response")) is not None
    ]
    return "\n".join(results) if results else None


def _gemini_function_count(tools: Any) -> int:
    """The number of function declarations in a request's `tools`."""
    if tools is None:
        return 0
    if not isinstance(tools, list):
        raise ProviderError(400, "Invalid JSON payload received. 'tools' must be a list of Tool objects.")
    count = 0
    for tool in tools:
        if not isinstance(tool, dict):
            continue
        declarations = _either(tool, "functionDeclarations", "function_declarations")
        if declarations is None:
            continue
        if not isinstance(declarations, list):
            raise ProviderError(400, "Invalid JSON payload received. 'functionDeclarations' must be a list.")
        count += len(declarations)
    return count


# Google's canonical error `status` by HTTP status (ai.google.dev, "Troubleshooting": backend error codes).
_GEMINI_ERROR_STATUSES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    402: "RESOURCE_EXHAUSTED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_GEMINI_ARRAY_STREAM_MESSAGE = (
    "The mock provider streams only as server-sent events: add alt=sse to the streamGenerateContent URL."
)
# `…/models/{model}:{method}`, as Google AI (`/v1beta/models/…`) and Vertex AI (`…/publishers/google/models/…`) name it.
_GEMINI_ROUTE = re.compile(r"/models/([^/:]+):([A-Za-z]+)")


class GeminiGenerateContent(ServerSentEvents):
    """Google's Gemini `generateContent` and `streamGenerateContent` (with `alt=sse`)."""

    tool_id_prefix = "call_mock_"  # unused: Gemini's function calls carry no id
    stream_error = _gemini_sse({"error": {"code": 503, "message": _STREAM_ERROR_MESSAGE, "status": "UNAVAILABLE"}})

    @staticmethod
    def error_status(status: int) -> str:
        return _GEMINI_ERROR_STATUSES.get(status, "INTERNAL" if status >= 500 else "INVALID_ARGUMENT")

    def error_body(self, error: ProviderError) -> bytes:
        status = self.error_status(error.status)
        return orjson.dumps({"error": {"code": error.status, "message": error.message, "status": status}})

    def parse(self, body: bytes, *, model: str, stream: bool) -> ChatRequest:
        """A request to `model` (from the path), streamed when the path's method is streamGenerateContent."""
        payload = _load_object(body)
        contents = payload.get("contents")
        if contents is not None and not isinstance(contents, list):
            raise ProviderError(400, "Invalid JSON payload received. 'contents' must be a list of Content objects.")
        if not contents:
            raise ProviderError(400, "* GenerateContentRequest.contents: contents is not specified")
        return ChatRequest(
            model=model,
            stream=stream,
            include_usage=False,
            input_tokens=_input_tokens(body),
            tools=_gemini_function_count(payload.get("tools")),
            tool_result=_gemini_tool_result(contents),
        )

    @staticmethod
    def _part(reply: Reply) -> dict[str, Any]:
        call = reply.tool_call
        if call is None:
            return {"text": reply.text}
        # The arguments were checked to be a JSON object: embed their text as the args, verbatim.
        return {"functionCall": {"name": call.name, "args": orjson.Fragment(call.arguments)}}

    @staticmethod
    def _response(
        chat: ChatRequest, number: int, part: dict[str, Any], finished: bool, output_tokens: int
    ) -> dict[str, Any]:
        """A GenerateContentResponse holding one part; `finished` adds the finish reason and the usage."""
        candidate: dict[str, Any] = {"content": {"parts": [part], "role": "model"}, "index": 0}
        response: dict[str, Any] = {"candidates": [candidate]}
        if finished:
            candidate["finishReason"] = "STOP"
            response["usageMetadata"] = {
                "promptTokenCount": chat.input_tokens,
                "candidatesTokenCount": output_tokens,
                "totalTokenCount": chat.input_tokens + output_tokens,
            }
        response["modelVersion"] = chat.model
        response["responseId"] = f"gemini-mock-{number}"
        return response

    def message(self, chat: ChatRequest, reply: Reply, number: int) -> bytes:
        return orjson.dumps(self._response(chat, number, self._part(reply), True, len(reply.pieces)))

    def stream(self, chat: ChatRequest, reply: Reply, number: int) -> StreamEvents:
        """One event per text piece, the last with the finish reason and usage; a function call in one event.

        A reply cut off sends its pieces without a finish.
        """
        output_tokens = len(reply.pieces)
        finished = not reply.cut_off
        if reply.tool_call is not None:
            # Gemini streams a function call whole, in one event (none if the stream fails before it).
            event = self._response(chat, number, self._part(reply), finished, output_tokens)
            return (), ((_gemini_sse(event),) if reply.pieces else ()), ()
        # The pieces but the last differ only in their text: build the constant parts of their events once
        # (the empty text is the event's first string: the model named in the path is never empty).
        before, after = orjson.dumps(self._response(chat, number, {"text": ""}, False, 0)).split(b'""', 1)
        *middle, last = reply.pieces or ("",)
        before, after = b"data: " + before, after + b"\r\n\r\n"
        events: Iterable[bytes] = _framed(before, middle if finished else reply.pieces, after)
        if finished:
            closing = _gemini_sse(self._response(chat, number, {"text": last}, True, output_tokens))
            events = itertools.chain(events, (closing,))
        return (), events, ()


# Bedrock's exception names by HTTP status (docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html).
_BEDROCK_EXCEPTIONS = {
    400: "ValidationException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    408: "ModelTimeoutException",
    424: "ModelErrorException",
    429: "ThrottlingException",
    500: "InternalServerException",
    503: "ServiceUnavailableException",
}
# Bedrock pads every stream event's payload with a field `p` of filler characters, to hide the length of its
# content: the mock pads too, so that translators are tested against it. Appended to a payload without its `}`.
_BEDROCK_PADDING = b',"p":"abcdefgh"}'


def _bedrock_event(name: str, payload: dict[str, Any]) -> bytes:
    """One ConverseStream event frame, its payload padded as Bedrock pads it."""
    return encode(name, orjson.dumps(payload)[:-1] + _BEDROCK_PADDING)


_BEDROCK_MESSAGE_START = _bedrock_event("messageStart", {"role": "assistant"})
_BEDROCK_BLOCK_STOP = _bedrock_event("contentBlockStop", {"contentBlockIndex": 0})
_BEDROCK_MESSAGE_STOP = {
    reason: _bedrock_event("messageStop", {"stopReason": reason}) for reason in ("end_turn", "tool_use")
}
# A `contentBlockDelta` payload for a text piece or an arguments fragment, around the piece's JSON string.
_BEDROCK_TEXT_DELTA = (b'{"contentBlockIndex":0,"delta":{"text":', b"}" + _BEDROCK_PADDING)
_BEDROCK_INPUT_DELTA = (b'{"contentBlockIndex":0,"delta":{"toolUse":{"input":', b"}}" + _BEDROCK_PADDING)
_bedrock_delta = functools.partial(encode, "contentBlockDelta")
_BEDROCK_ROLES = ("user", "assistant")


def _bedrock_tool_result_text(result: dict[str, Any]) -> str:
    """A `toolResult` as text: its `text` blocks as they are, its `json` blocks as compact JSON."""
    content = result.get("content")
    if not isinstance(content, list):
        return ""
    texts = []
    for block in content:
        if not isinstance(block, dict):
            continue
        if isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif "json" in block:
            texts.append(orjson.dumps(block["json"]).decode())
    return "".join(texts)


def _bedrock_tool_result(messages: list[Any]) -> str | None:
    """The text of the `toolResult` blocks in the last user message, if it holds any."""
    last_user = next((m for m in reversed(messages) if m["role"] == "user"), None)
    if last_user is None:
        return None
    results = [
        _bedrock_tool_result_text(block["toolResult"])
        for block in last_user["content"]
        if isinstance(block, dict) and isinstance(block.get("toolResult"), dict)
    ]
    return "\n".join(results) if results else None


def _bedrock_tool_count(tool_config: Any) -> int:
    """The number of `toolSpec` entries in a request's `toolConfig`."""
    if tool_config is None:
        return 0
    tools = tool_config.get("tools") if isinstance(tool_config, dict) else None
    if not isinstance(tools, list) or not tools:
        raise ProviderError(400, "toolConfig.tools must be a non-empty list of tools.")
    return sum(1 for tool in tools if isinstance(tool, dict) and "toolSpec" in tool)


class BedrockConverse:
    """AWS Bedrock's Converse and ConverseStream (whose events come in event-stream frames)."""

    tool_id_prefix = "tooluse_mock_"
    stream_error = encode("modelStreamErrorException", orjson.dumps({"message": _STREAM_ERROR_MESSAGE}))
    stream_headers = {"Content-Type": EVENT_STREAM_CONTENT_TYPE}

    @staticmethod
    def exception_name(status: int) -> str:
        return _BEDROCK_EXCEPTIONS.get(status, "InternalServerException" if status >= 500 else "ValidationException")

    def error_headers(self, error: ProviderError) -> dict[str, str]:
        # Bedrock names the exception in a header; its body holds the message alone.
        return {"x-amzn-ErrorType": error.code or self.exception_name(error.status)}

    def error_body(self, error: ProviderError) -> bytes:
        return orjson.dumps({"message": error.message})

    def parse(self, body: bytes, *, model: str, stream: bool) -> ChatRequest:
        """A request to `model` (from the path), streamed when the path's action is converse-stream."""
        payload = _load_object(body)
        messages = payload.get("messages")
        if not isinstance(messages, list) or not messages:
            raise ProviderError(400, "The messages field must be a non-empty list of messages.")
        for number, message in enumerate(messages, 1):
            if (
                not isinstance(message, dict)
                or message.get("role") not in _BEDROCK_ROLES
                or not isinstance(message.get("content"), list)
            ):
                raise ProviderError(
                    400,
                    f"1 validation error detected: Value at 'messages.{number}.member' failed to satisfy constraint: "
                    "Member must have a role (user or assistant) and a list of content blocks",
                )
        if messages[0]["role"] != "user":
            raise ProviderError(
                400,
                "A conversation must start with a user message. Try again with a conversation that starts with a "
                "user message.",
            )
        if not isinstance(payload.get("system", []), list):
            raise ProviderError(400, "system must be a list of system content blocks.")
        if not isinstance(payload.get("inferenceConfig", {}), dict):
            raise ProviderError(400, "inferenceConfig must be an object.")
        return ChatRequest(
            model=model,
            stream=stream,
            include_usage=False,
            input_tokens=_input_tokens(body),
            tools=_bedrock_tool_count(payload.get("toolConfig")),
            tool_result=_bedrock_tool_result(messages),
        )

    @staticmethod
    def _usage(chat: ChatRequest, reply: Reply) -> dict[str, int]:
        output_tokens = len(reply.pieces)
        return {
            "inputTokens": chat.input_tokens,
            "outputTokens": output_tokens,
            "totalTokens": chat.input_tokens + output_tokens,
        }

    def message(self, chat: ChatRequest, reply: Reply, number: int) -> bytes:
        call = reply.tool_call
        if call is None:
            block: dict[str, Any] = {"text": reply.text}
        else:
            # The arguments were checked to be a JSON object: embed their text as the input, verbatim.
            block = {"toolUse": {"toolUseId": call.id, "name": call.name, "input": orjson.Fragment(call.arguments)}}
        answer = {
            "output": {"message": {"role": "assistant", "content": [block]}},
            "stopReason": "end_turn" if call is None else "tool_use",
            "usage": self._usage(chat, reply),
            "metrics": {"latencyMs": 0},
        }
        return orjson.dumps(answer)

    def stream(self, chat: ChatRequest, reply: Reply, number: int) -> StreamEvents:
        """messageStart, one contentBlockDelta per piece, contentBlockStop, messageStop and metadata.

        A tool call's block opens with a contentBlockStart naming it; Bedrock sends none before text.
        """
        call = reply.tool_call
        if call is None:
            head: tuple[bytes, ...] = (_BEDROCK_MESSAGE_START,)
            delta_open, delta_close = _BEDROCK_TEXT_DELTA
        else:
            start = {"contentBlockIndex": 0, "start": {"toolUse": {"toolUseId": call.id, "name": call.name}}}
            head = (_BEDROCK_MESSAGE_START, _bedrock_event("contentBlockStart", start))
            delta_open, delta_close = _BEDROCK_INPUT_DELTA
        metadata = _bedrock_event("metadata", {"usage": self._usage(chat, reply), "metrics": {"latencyMs": 0}})
        tail = (_BEDROCK_BLOCK_STOP, _BEDROCK_MESSAGE_STOP["end_turn" if call is None else "tool_use"], metadata)
        return head, map(_bedrock_delta, _framed(delta_open, reply.pieces, delta_close)), tail


# `…/model/{modelId}/{action}`, the model id percent-encoded (`%3A` for its `:`, `%2F` in an ARN's `/`).
_BEDROCK_ROUTE = re.compile(r"/model/([^/]+)/([a-z-]+)")
_TITAN_EMBEDDINGS = "amazon.titan-embed"
_TITAN_G1_MODELS = frozenset(("amazon.titan-embed-text-v1", "amazon.titan-embed-g1-text-02"))
_TITAN_V2_FIELDS = frozenset(("inputText", "dimensions", "normalize"))
_TITAN_G1_FIELDS = frozenset(("inputText",))
_TITAN_DIMENSIONS = (256, 512, 1024)


def _titan_malformed(problem: str) -> ProviderError:
    return ProviderError(400, f"Malformed input request: {problem}, please reformat your input and try again.")


def titan_embedding(body: bytes, model: str) -> bytes:
    """An Amazon Titan Text Embeddings answer (InvokeModel) to `body`, for `model`."""
    if not model.startswith(_TITAN_EMBEDDINGS):
        raise ProviderError(
            400,
            f"The mock's InvokeModel serves only Amazon Titan embedding models (amazon.titan-embed-*), not {model}.",
        )
    payload = _load_object(body)
    g1 = model in _TITAN_G1_MODELS
    extra = next((key for key in payload if key not in (_TITAN_G1_FIELDS if g1 else _TITAN_V2_FIELDS)), None)
    if extra is not None:
        raise _titan_malformed(f"#: extraneous key [{extra}] is not permitted")
    text = payload.get("inputText")
    if text is None:
        raise _titan_malformed("#: required key [inputText] not found")
    if not isinstance(text, str) or not text:
        raise _titan_malformed("#/inputText: expected a non-empty string")
    dimensions = payload.get("dimensions", TITAN_G1_EMBEDDING_DIMENSIONS if g1 else TITAN_EMBEDDING_DIMENSIONS)
    if not g1 and (type(dimensions) is not int or dimensions not in _TITAN_DIMENSIONS):
        raise _titan_malformed(f"#/dimensions: {orjson.dumps(dimensions).decode()} is not a valid enum value")
    normalize = payload.get("normalize", True)
    if not isinstance(normalize, bool):
        raise _titan_malformed(f"#/normalize: expected type: Boolean, found: {type(normalize).__name__}")
    answer = {"embedding": _embedding_json(text, dimensions, normalize), "inputTextTokenCount": _text_tokens(text)}
    return orjson.dumps(answer)


# SigV4 (docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html), checked with botocore's own signer.
_AWS4 = "AWS4-HMAC-SHA256"
_MOCK_AWS_CREDENTIALS = Credentials(MOCK_AWS_ACCESS_KEY_ID, MOCK_AWS_SECRET_ACCESS_KEY)
_AMZ_DATE = re.compile(r"\d{8}T\d{6}Z")
_SIGNED_HEADERS = re.compile(r"SignedHeaders=([^,\s]*)")
_SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key "
    "and signing method. Consult the service documentation for details."
)


def _aws_auth_error(exception: str, message: str) -> ProviderError:
    return ProviderError(403, message, code=exception)


def _signed_headers(authorization: str) -> str:
    """The SignedHeaders list of a SigV4 Authorization header; `-` when it has none."""
    found = _SIGNED_HEADERS.search(authorization) if _AWS4 in authorization else None
    return found[1] if found is not None else "-"


class _SigV4Verifier(SigV4Auth):
    """botocore's SigV4 signer, signing exactly the headers a received request lists in its SignedHeaders."""

    def __init__(self, region: str, service: str, signed: HTTPHeaders) -> None:
        super().__init__(_MOCK_AWS_CREDENTIALS, service, region)
        self._signed = signed

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        # botocore's own choice leaves out some headers (user-agent, expect, ...): a signer may have signed them.
        return self._signed

    def signature_of(self, method: str, url: str, body: bytes, amz_date: str) -> str:
        # The headers are given by headers_to_sign alone: none on the request, so that the payload hash is the
        # body's own, never what an x-amz-content-sha256 header claims.
        request = AWSRequest(method=method, url=url, data=body)
        request.context["timestamp"] = amz_date  # add_auth would sign at the current time: sign at the request's
        return self.signature(self.string_to_sign(request, self.canonical_request(request)), request)


def authenticate_aws(request: web.BaseRequest, body: bytes) -> None:
    """Let a Bedrock request through with an API key (`Bearer …`) or a valid SigV4 signature; else 403, as AWS words it.

    The signature is recomputed from the request as received: the method, the raw path (which SigV4 encodes once
    more, `%3A` becoming `%253A`, as services other than S3 do), the body and the headers it says it signed.
    """
    headers = request.headers
    authorization = headers.get("Authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return
    if not authorization or scheme.lower() == "bearer":
        raise _aws_auth_error("MissingAuthenticationTokenException", "Missing Authentication Token")
    fields = {}
    if scheme == _AWS4:
        for item in credentials.split(","):
            name, _, value = item.strip().partition("=")
            fields[name] = value
    amz_date = headers.get("x-amz-date", "")
    problems = [
        f"Authorization header requires '{name}' parameter."
        for name in ("Credential", "Signature", "SignedHeaders")
        if not fields.get(name)
    ]
    if not amz_date:
        problems.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    if problems:
        raise _aws_auth_error("IncompleteSignatureException", " ".join(problems) + f" Authorization={authorization}")
    if not _AMZ_DATE.fullmatch(amz_date):
        raise _aws_auth_error(
            "IncompleteSignatureException", f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'."
        )
    scope = fields["Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise _aws_auth_error(
            "IncompleteSignatureException",
            f"Credential should be <access key>/<date>/<region>/<service>/aws4_request: '{fields['Credential']}'.",
        )
    access_key_id, day, region, service, _ = scope
    if access_key_id != MOCK_AWS_ACCESS_KEY_ID:
        raise _aws_auth_error("UnrecognizedClientException", "The security token included in the request is invalid.")
    if service != "bedrock":
        raise _aws_auth_error("InvalidSignatureException", "Credential should be scoped to correct service: 'bedrock'.")
    if day != amz_date[:8]:
        raise _aws_auth_error(
            "InvalidSignatureException",
            f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{day}' != '{amz_date[:8]}', from '{amz_date}'.",
        )
    names = fields["SignedHeaders"].split(";")
    if "host" not in names:
        raise _aws_auth_error(
            "InvalidSignatureException", "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
        )
    signed = HTTPHeaders()
    for name in names:
        for value in headers.getall(name, ()):
            signed[name] = value
    url = f"http://{headers.get('Host', '')}{request.raw_path}"
    expected = _SigV4Verifier(region, service, signed).signature_of(request.method, url, body, amz_date)
    if not hmac.compare_digest(expected, fields["Signature"]):
        raise _aws_auth_error("InvalidSignatureException", _SIGNATURE_MISMATCH)


# Embeddings: one function for every dialect, so that the same text at the same size is the same vector in each.


@functools.lru_cache(maxsize=256)
def embedding(text: str, dimensions: int, normalize: bool = True) -> tuple[float, ...]:
    """The mock's embedding of `text`: deterministic, and the same in every dialect.

    The raw values are SHAKE-256 of the text read as 16-bit integers scaled into [-1, 1), so a shorter vector's
    raw values are a longer one's first ones (as shortened OpenAI embeddings are); `normalize` scales the vector
    to unit length. The values are float32 numbers, so that OpenAI's base64 encoding carries them unchanged.
    """
    raw = array.array("h", hashlib.shake_256(text.encode()).digest(2 * dimensions))
    if sys.byteorder == "big":
        raw.byteswap()  # the same values on every machine
    values = [value / 32768 for value in raw]
    if normalize:
        norm = math.sqrt(math.fsum(value * value for value in values)) or 1.0
        values = [value / norm for value in values]
    return tuple(array.array("f", values))


@functools.lru_cache(maxsize=256)
def _embedding_json(text: str, dimensions: int, normalize: bool = True) -> orjson.Fragment:
    return orjson.Fragment(orjson.dumps(embedding(text, dimensions, normalize)))


@functools.lru_cache(maxsize=256)
def _embedding_base64(text: str, dimensions: int) -> str:
    """The embedding as OpenAI's `base64` encoding gives it: little-endian float32 values, base64."""
    values = array.array("f", embedding(text, dimensions))
    if sys.byteorder == "big":
        values.byteswap()
    return base64.b64encode(values.tobytes()).decode()


def _text_tokens(text: str) -> int:
    return max(1, len(text.encode()) // 4)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _dimensions(value: Any, default: int, name: str) -> int:
    if value is None:
        return default
    if not _is_int(value) or not 1 <= value <= MAX_EMBEDDING_DIMENSIONS:
        raise ProviderError(
            400, f"{name} must be an integer from 1 to {MAX_EMBEDDING_DIMENSIONS}, got {value!r}", param=name
        )
    return value


_OPENAI_MAX_EMBEDDING_INPUTS = 2048
_OPENAI_INVALID_INPUT = (
    "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference."
)
_ENCODING_FORMATS = ("float", "base64")
# Azure OpenAI's `…/openai/deployments/{deployment}/embeddings`: the deployment names the model.
_AZURE_EMBEDDINGS = re.compile(r"/deployments/([^/]+)/embeddings")


def _openai_embedding_inputs(value: Any) -> list[tuple[str, int]]:
    """Each input's text and tokens: a string, or a list of token ids (embedded as its JSON text)."""
    if value is None:
        raise ProviderError(
            400, "Missing required parameter: 'input'.", param="input", code="missing_required_parameter"
        )
    if isinstance(value, str) or (isinstance(value, list) and value and all(_is_int(token) for token in value)):
        value = [value]
    if not isinstance(value, list) or not 0 < len(value) <= _OPENAI_MAX_EMBEDDING_INPUTS:
        raise ProviderError(400, _OPENAI_INVALID_INPUT, param="input")
    inputs = []
    for item in value:
        if isinstance(item, str) and item:
            inputs.append((item, _text_tokens(item)))
        elif isinstance(item, list) and item and all(_is_int(token) for token in item):
            inputs.append((orjson.dumps(item).decode(), len(item)))
        else:
            raise ProviderError(400, _OPENAI_INVALID_INPUT, param="input")
    return inputs


def openai_embeddings(body: bytes, path: str) -> bytes:
    """An OpenAI (or Azure OpenAI, the deployment in `path` naming the model) embeddings answer to `body`."""
    payload = _load_object(body)
    model = payload.get("model")
    if model is None and (deployment := _AZURE_EMBEDDINGS.search(path)) is not None:
        model = unquote(deployment[1])
    if not isinstance(model, str) or not model:
        raise ProviderError(400, "you must provide a model parameter", param="model", code="missing_required_parameter")
    inputs = _openai_embedding_inputs(payload.get("input"))
    encoding_format = payload.get("encoding_format") or "float"
    if encoding_format not in _ENCODING_FORMATS:
        raise ProviderError(
            400,
            f"Invalid value: {encoding_format!r}. Supported values are: 'float' and 'base64'.",
            param="encoding_format",
        )
    dimensions = _dimensions(payload.get("dimensions"), OPENAI_EMBEDDING_DIMENSIONS, "dimensions")
    data = [
        {
            "object": "embedding",
            "index": index,
            "embedding": _embedding_json(text, dimensions)
            if encoding_format == "float"
            else _embedding_base64(text, dimensions),
        }
        for index, (text, _) in enumerate(inputs)
    ]
    tokens = sum(count for _, count in inputs)
    answer = {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    return orjson.dumps(answer)


_GEMINI_MAX_BATCH = 100


def _gemini_embed_request(request: Any, where: str) -> orjson.Fragment:
    """The embedding of one EmbedContentRequest (`where` names it in errors): its text parts, joined."""
    content = request.get("content") if isinstance(request, dict) else None
    text = _text_of(content.get("parts")) if isinstance(content, dict) else ""
    if not text:
        raise ProviderError(400, f"* {where}.content: content is not specified")
    dimensions = _either(request, "outputDimensionality", "output_dimensionality")
    return _embedding_json(text, _dimensions(dimensions, GEMINI_EMBEDDING_DIMENSIONS, f"{where}.outputDimensionality"))


def gemini_embeddings(body: bytes, model: str, *, batch: bool) -> bytes:
    """A Gemini `embedContent` answer to `body`, or with `batch` a `batchEmbedContents` one, for `model`."""
    payload = _load_object(body)
    if not batch:
        return orjson.dumps({"embedding": {"values": _gemini_embed_request(payload, "EmbedContentRequest")}})
    requests = payload.get("requests")
    if not isinstance(requests, list) or not requests:
        raise ProviderError(400, "* BatchEmbedContentsRequest.requests: requests is not specified")
    if len(requests) > _GEMINI_MAX_BATCH:
        raise ProviderError(
            400, f"* BatchEmbedContentsRequest.requests: at most {_GEMINI_MAX_BATCH} requests can be in one batch"
        )
    embeddings = []
    for index, request in enumerate(requests):
        where = f"BatchEmbedContentsRequest.requests[{index}]"
        if not isinstance(request, dict) or request.get("model") != f"models/{model}":
            raise ProviderError(400, f"* {where}.model: every request must name the batch's model, models/{model}")
        embeddings.append({"values": _gemini_embed_request(request, where)})
    return orjson.dumps({"embeddings": embeddings})


OPENAI = OpenAIChat()
ANTHROPIC = AnthropicMessages()
GEMINI = GeminiGenerateContent()
BEDROCK = BedrockConverse()


def _require_anthropic_version(request: web.BaseRequest) -> None:
    if ANTHROPIC_VERSION_HEADER not in request.headers:
        raise ProviderError(400, f"{ANTHROPIC_VERSION_HEADER}: header is required")


async def _read_body(request: web.BaseRequest) -> bytes:
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise ProviderError(413, f"The request body exceeds {MAX_REQUEST_BYTES} bytes.") from None


async def _write_stream(
    request: web.BaseRequest, headers: dict[str, str], events: StreamEvents, interval_ms: int
) -> web.StreamResponse:
    """Send a stream event by event, as it is produced, waiting `interval_ms` before each piece."""
    head, pieces, tail = events
    response = web.StreamResponse(headers=headers)
    await response.prepare(request)
    try:
        for event in head:
            await response.write(event)
        for event in pieces:
            if interval_ms:
                await asyncio.sleep(interval_ms / 1000)
            await response.write(event)
        for event in tail:
            await response.write(event)
        await response.write_eof()
    except ConnectionError:
        pass  # The client left mid-stream, as clients may: nothing to report.
    return response


Handler = Callable[[web.BaseRequest, Behaviour, dict[str, str]], Awaitable[web.StreamResponse]]


class MockProvider:
    """A running mock provider; `close()` stops it."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.port = 0
        self._ids = itertools.count(1)
        self._call_ids = itertools.count(1)
        self._runner: web.ServerRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self, port: int) -> None:
        server = web.Server(self._handle, request_factory=self._make_request, access_log=None)
        # A mock has nothing worth draining: stop within a second.
        self._runner = web.ServerRunner(server, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, port).start()
        self.port = self._runner.addresses[0][1]

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _make_request(
        self,
        message: RawRequestMessage,
        payload: StreamReader,
        protocol: RequestHandler,
        writer: AbstractStreamWriter,
        task: asyncio.Task[None],
    ) -> web.BaseRequest:
        return web.BaseRequest(
            message, payload, protocol, writer, task, asyncio.get_running_loop(), client_max_size=MAX_REQUEST_BYTES
        )

    def _route(self, method: str, path: str, raw_path: str) -> tuple[Handler | None, Dialect]:
        """The handler for a request (None when there is none) and the dialect its path names.

        `path` is percent-decoded, `raw_path` as received, query excluded: Bedrock's model ids are read from it,
        since an ARN's `/` arrives as `%2F`.
        """
        if path.endswith("/chat/completions"):
            return (self._chat_completions if method == "POST" else None), OPENAI
        if path.endswith("/messages"):
            return (self._messages if method == "POST" else None), ANTHROPIC
        if path.endswith("/messages/count_tokens"):
            return (self._count_tokens if method == "POST" else None), ANTHROPIC
        if path.endswith("/models") and method == "GET":
            return self._models, OPENAI
        if path.endswith("/embeddings"):
            return (self._embeddings if method == "POST" else None), OPENAI
        gemini = _GEMINI_ROUTE.search(path)
        if gemini is not None and gemini.end() == len(path):
            model, gemini_method = gemini.groups()
            if method != "POST":
                return None, GEMINI
            if gemini_method in ("generateContent", "streamGenerateContent"):
                return functools.partial(
                    self._generate_content, model=model, stream=gemini_method == "streamGenerateContent"
                ), GEMINI
            if gemini_method in ("embedContent", "batchEmbedContents"):
                return functools.partial(
                    self._embed_content, model=model, batch=gemini_method == "batchEmbedContents"
                ), GEMINI
            return None, GEMINI
        bedrock = _BEDROCK_ROUTE.search(raw_path)
        if bedrock is not None and bedrock.end() == len(raw_path):
            model, action = unquote(bedrock[1]), bedrock[2]
            if method != "POST":
                return None, BEDROCK
            if action in ("converse", "converse-stream"):
                return functools.partial(self._converse, model=model, stream=action == "converse-stream"), BEDROCK
            if action == "invoke":
                return functools.partial(self._invoke, model=model), BEDROCK
            return None, BEDROCK
        return None, OPENAI

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        headers = request.headers
        echo = {
            "x-mock-path": request.raw_path,
            "x-mock-authorization": headers.get("Authorization", "-"),
            "x-mock-api-key": headers.get("x-api-key", "-"),
            "x-mock-azure-api-key": headers.get("api-key", "-"),
            "x-mock-host": headers.get("Host", "-"),
            "x-mock-goog-api-key": headers.get("x-goog-api-key", "-"),
            "x-mock-amz-date": headers.get("x-amz-date", "-"),
            "x-mock-signed-headers": _signed_headers(headers.get("Authorization", "")),
        }
        method, path = request.method, request.path
        handler, dialect = self._route(method, path, request.raw_path.partition("?")[0])
        try:
            if dialect is BEDROCK:
                # AWS authenticates a request before anything else: even a route it does not serve.
                authenticate_aws(request, await _read_body(request))
            behaviour = Behaviour.from_request(request)
            if behaviour.latency_ms:
                await asyncio.sleep(behaviour.latency_ms / 1000)
            if behaviour.status is not None:
                raise ProviderError(behaviour.status, f"mock error {behaviour.status}, as asked by x-mock-status")
            if handler is None:
                raise ProviderError(404, f"Invalid URL ({method} {path})")
            return await handler(request, behaviour, echo)
        except ProviderError as error:
            return error.response(echo, dialect)

    async def _models(self, request: web.BaseRequest, behaviour: Behaviour, echo: dict[str, str]) -> web.Response:
        return web.Response(body=_MODELS_BODY, headers={**_JSON_HEADERS, **echo})

    async def _chat_completions(
        self, request: web.BaseRequest, behaviour: Behaviour, echo: dict[str, str]
    ) -> web.StreamResponse:
        chat = OPENAI.parse(await _read_body(request))
        return await self._answer(request, behaviour, echo, OPENAI, chat)

    async def _messages(
        self, request: web.BaseRequest, behaviour: Behaviour, echo: dict[str, str]
    ) -> web.StreamResponse:
        _require_anthropic_version(request)
        chat = ANTHROPIC.parse(await _read_body(request))
        return await self._answer(request, behaviour, echo, ANTHROPIC, chat)

    async def _generate_content(
        self, request: web.BaseRequest, behaviour: Behaviour, echo: dict[str, str], *, model: str, stream: bool
    ) -> web.StreamResponse:
        if stream and request.query.get("alt") != "sse":
            raise ProviderError(400, _GEMINI_ARRAY_STREAM_MESSAGE, param="alt")
        chat = GEMINI.parse(await _read_body(request), model=model, stream=stream)
        return await self._answer(request, behaviour, echo, GEMINI, chat)

    async def _converse(
        self, request: web.BaseRequest, behaviour: Behaviour, echo: dict[str, str], *, model: str, stream: bool
    ) -> web.StreamResponse:
        chat = BEDROCK.parse(await _read_body(request), model=model, stream=stream)
        return await self._answer(request, behaviour, echo, BEDROCK, chat)

    async def _embeddings(self, request: web.BaseRequest, behaviour: Behaviour, echo: dict[str, str]) -> web.Response:
        answer = openai_embeddings(await _read_body(request), request.path)
        return web.Response(body=answer, headers={**_JSON_HEADERS, **echo})

    async def _embed_content(
        self, request: web.BaseRequest, behaviour: Behaviour, echo: dict[str, str], *, model: str, batch: bool
    ) -> web.Response:
        answer = gemini_embeddings(await _read_body(request), model, batch=batch)
        return web.Response(body=answer, headers={**_JSON_HEADERS, **echo})

    async def _invoke(
        self, request: web.BaseRequest, behaviour: Behaviour, echo: dict[str, str], *, model: str
    ) -> web.Response:
        answer = titan_embedding(await _read_body(request), model)
        return web.Response(body=answer, headers={**_JSON_HEADERS, **echo})

    async def _count_tokens(self, request: web.BaseRequest, behaviour: Behaviour, echo: dict[str, str]) -> web.Response:
        _require_anthropic_version(request)
        chat = ANTHROPIC.parse(await _read_body(request), counting=True)
        return web.Response(body=orjson.dumps({"input_tokens": chat.input_tokens}), headers={**_JSON_HEADERS, **echo})

    def _reply(self, chat: ChatRequest, behaviour: Behaviour, dialect: Dialect) -> Reply:
        if behaviour.tool_call is not None:
            name, arguments = behaviour.tool_call
            call = ToolCall(f"{dialect.tool_id_prefix}{next(self._call_ids)}", name, arguments)
            return Reply(_argument_fragments(arguments, behaviour.chunks), call)
        if chat.tool_result is not None:
            return Reply(split_text("The tool said: " + chat.tool_result, behaviour.chunks))
        return Reply(content_pieces(behaviour.chunks, behaviour.response_bytes))

    async def _answer(
        self,
        request: web.BaseRequest,
        behaviour: Behaviour,
        echo: dict[str, str],
        dialect: Dialect,
        chat: ChatRequest,
    ) -> web.StreamResponse:
        echo["x-mock-tools"] = str(chat.tools)
        reply = self._reply(chat, behaviour, dialect)
        number = next(self._ids)
        if not chat.stream:
            return web.Response(body=dialect.message(chat, reply, number), headers={**_JSON_HEADERS, **echo})
        if behaviour.stream_error_after is not None:
            reply = reply.cut(behaviour.stream_error_after)
        head, pieces, tail = dialect.stream(chat, reply, number)
        if reply.cut_off:
            # Fail mid-way: the error event replaces the closing events.
            tail = (dialect.stream_error,)
        headers = {**dialect.stream_headers, **echo}
        return await _write_stream(request, headers, (head, pieces, tail), behaviour.chunk_interval_ms)


async def start_mock_provider(host: str = "127.0.0.1", port: int = 18100) -> MockProvider:
    """Start serving on host:port (0 picks a free port) and return the running provider."""
    provider = MockProvider(host)
    await provider.start(port)
    return provider


async def _serve_until_signalled(host: str, port: int) -> None:
    provider = await start_mock_provider(host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    print(f"mock provider listening on {provider.url}", flush=True)
    try:
        await stop.wait()
    finally:
        await provider.close()


def run_mock_provider(host: str, port: int) -> None:
    """Serve until SIGINT or SIGTERM: the `aiplane mock-provider` command."""
    uvloop.run(_serve_until_signalled(host, port))


@contextlib.contextmanager
def mock_provider_in_thread(host: str = "127.0.0.1", port: int = 0) -> Iterator[MockProvider]:
    """Run a mock provider on its own event loop in a background thread, for synchronous tests."""
    loop = uvloop.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="mock-provider", daemon=True)
    thread.start()
    try:
        provider = asyncio.run_coroutine_threadsafe(start_mock_provider(host, port), loop).result(timeout=10)
        try:
            yield provider
        finally:
            asyncio.run_coroutine_threadsafe(provider.close(), loop).result(timeout=10)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
