"""A fast local server speaking the OpenAI Chat Completions API.

Used by the tests, by the benchmark and by the default config, so that the
gateway answers without a real provider or an API key.

Routes are matched by path suffix, so any base_url prefix works
(`http://127.0.0.1:18100/custom/prefix/v1` is served like `.../v1`):

- `POST …/chat/completions`: a `chat.completion`, or with `"stream": true` a
  `text/event-stream` of `chat.completion.chunk` events ending in
  `data: [DONE]`; a final usage chunk is sent when the request asks for it
  with `stream_options.include_usage`, as OpenAI does.
- `GET …/models`: a list of mock models.
- anything else: 404. A malformed body, or one missing `model` or `messages`,
  gets 400. Errors use OpenAI's `{"error": {message, type, param, code}}`.

Request headers that choose the behaviour:

- `x-mock-latency-ms: N` wait N ms before the response starts.
- `x-mock-status: CODE` answer with that 4xx/5xx status and an OpenAI error
  body (429 is a `rate_limit_error` with `retry-after: 1`; 5xx a `server_error`).
- `x-mock-chunks: N` number of streamed content chunks, and of words in a
  non-streamed reply (default 5).
- `x-mock-chunk-interval-ms: N` delay between streamed chunks (default 0).
- `x-mock-response-bytes: N` make the reply's content about N bytes.

Every response echoes what the gateway sent upstream, for the gateway's tests:
`x-mock-path` (the request path as received, query included),
`x-mock-authorization` and `x-mock-host` (`-` when the header was absent).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import uvloop
from aiohttp import web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.http_parser import RawRequestMessage
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestHandler

DEFAULT_MODEL = "mock-gpt"
MODELS = (DEFAULT_MODEL, "mock-gpt-mini")
DEFAULT_CHUNKS = 5

# Requests with base64 images easily exceed aiohttp's 1 MiB default.
MAX_REQUEST_BYTES = 64 * 1024 * 1024
# Bounds on the behaviour headers, so one request cannot exhaust the server.
MAX_CHUNKS = 100_000
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
MAX_DELAY_MS = 600_000

_WORDS = ("Hello", "from", "the", "aiplane", "mock", "provider.")
_JSON_HEADERS = {"Content-Type": "application/json"}
_SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
_SSE_DONE = b"data: [DONE]\n\n"
_MODELS_BODY = orjson.dumps(
    {
        "object": "list",
        "data": [{"id": model, "object": "model", "created": 1_700_000_000, "owned_by": "aiplane"} for model in MODELS],
    }
)


class ProviderError(Exception):
    """An error answered in OpenAI's shape."""

    def __init__(self, status: int, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code

    @property
    def type(self) -> str:
        if self.status == 401:
            return "authentication_error"
        if self.status == 403:
            return "permission_error"
        if self.status == 429:
            return "rate_limit_error"
        if self.status >= 500:
            return "server_error"
        return "invalid_request_error"

    def response(self, echo: dict[str, str]) -> web.Response:
        body = {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}
        headers = {**_JSON_HEADERS, **echo}
        if self.status == 429:
            headers["retry-after"] = "1"
        return web.Response(status=self.status, body=orjson.dumps(body), headers=headers)


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


@dataclass(frozen=True, slots=True)
class Behaviour:
    """What the request's `x-mock-*` headers asked for."""

    latency_ms: int
    status: int | None
    chunks: int
    chunk_interval_ms: int
    response_bytes: int | None

    @classmethod
    def from_request(cls, request: web.BaseRequest) -> Behaviour:
        return cls(
            latency_ms=_int_header(request, "x-mock-latency-ms", 0, MAX_DELAY_MS) or 0,
            status=_int_header(request, "x-mock-status", 400, 599),
            chunks=_int_header(request, "x-mock-chunks", 1, MAX_CHUNKS) or DEFAULT_CHUNKS,
            chunk_interval_ms=_int_header(request, "x-mock-chunk-interval-ms", 0, MAX_DELAY_MS) or 0,
            response_bytes=_int_header(request, "x-mock-response-bytes", 0, MAX_RESPONSE_BYTES),
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


@dataclass(frozen=True, slots=True)
class ChatRequest:
    model: str
    stream: bool
    include_usage: bool
    prompt_tokens: int

    @classmethod
    def parse(cls, body: bytes) -> ChatRequest:
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise ProviderError(400, f"We could not parse the JSON body of your request: {exc}") from None
        if not isinstance(payload, dict):
            raise ProviderError(400, "The request body must be a JSON object.")
        model = payload.get("model")
        if not isinstance(model, str) or not model:
            raise ProviderError(
                400, "you must provide a model parameter", param="model", code="missing_required_parameter"
            )
        if not isinstance(payload.get("messages"), list):
            raise ProviderError(
                400, "Missing required parameter: 'messages'.", param="messages", code="missing_required_parameter"
            )
        stream_options = payload.get("stream_options")
        return cls(
            model=model,
            stream=payload.get("stream") is True,
            include_usage=isinstance(stream_options, dict) and stream_options.get("include_usage") is True,
            prompt_tokens=max(1, len(body) // 4),
        )


def _usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _sse(event: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(event) + b"\n\n"


class MockProvider:
    """A running mock provider; `close()` stops it."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.port = 0
        self._ids = itertools.count(1)
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

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        echo = {
            "x-mock-path": request.raw_path,
            "x-mock-authorization": request.headers.get("Authorization", "-"),
            "x-mock-host": request.headers.get("Host", "-"),
        }
        try:
            behaviour = Behaviour.from_request(request)
            if behaviour.latency_ms:
                await asyncio.sleep(behaviour.latency_ms / 1000)
            if behaviour.status is not None:
                raise ProviderError(behaviour.status, f"mock error {behaviour.status}, as asked by x-mock-status")
            path = request.path
            if request.method == "POST" and path.endswith("/chat/completions"):
                return await self._chat_completions(request, behaviour, echo)
            if request.method == "GET" and path.endswith("/models"):
                return web.Response(body=_MODELS_BODY, headers={**_JSON_HEADERS, **echo})
            raise ProviderError(404, f"Invalid URL ({request.method} {path})")
        except ProviderError as error:
            return error.response(echo)

    async def _chat_completions(
        self, request: web.BaseRequest, behaviour: Behaviour, echo: dict[str, str]
    ) -> web.StreamResponse:
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise ProviderError(413, f"The request body exceeds {MAX_REQUEST_BYTES} bytes.") from None
        chat = ChatRequest.parse(body)
        pieces = content_pieces(behaviour.chunks, behaviour.response_bytes)
        completion_id = f"chatcmpl-mock-{next(self._ids)}"
        created = int(time.time())
        if chat.stream:
            return await self._stream(request, chat, pieces, completion_id, created, behaviour.chunk_interval_ms, echo)
        completion = {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": chat.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "".join(pieces), "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": _usage(chat.prompt_tokens, len(pieces)),
            "system_fingerprint": "fp_mock",
        }
        return web.Response(body=orjson.dumps(completion), headers={**_JSON_HEADERS, **echo})

    async def _stream(
        self,
        request: web.BaseRequest,
        chat: ChatRequest,
        pieces: tuple[str, ...],
        completion_id: str,
        created: int,
        interval_ms: int,
        echo: dict[str, str],
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={**_SSE_HEADERS, **echo})
        await response.prepare(request)
        envelope: dict[str, Any] = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": chat.model,
        }
        # With include_usage, OpenAI sends `"usage": null` on every chunk but the last.
        if chat.include_usage:
            envelope["usage"] = None

        def chunk(delta: dict[str, str], finish_reason: str | None = None) -> bytes:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            return _sse({**envelope, "choices": [choice]})

        try:
            await response.write(chunk({"role": "assistant", "content": ""}))
            for piece in pieces:
                if interval_ms:
                    await asyncio.sleep(interval_ms / 1000)
                await response.write(chunk({"content": piece}))
            await response.write(chunk({}, "stop"))
            if chat.include_usage:
                await response.write(
                    _sse({**envelope, "choices": [], "usage": _usage(chat.prompt_tokens, len(pieces))})
                )
            await response.write(_SSE_DONE)
            await response.write_eof()
        except ConnectionError:
            pass  # The client left mid-stream, as clients may: nothing to report.
        return response


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
