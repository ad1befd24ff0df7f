"""What Gemini clients send to and receive from a translator: stream parsers and grammar checks,
a stream runner and Google's SDK against a translator in process, shared by the test
files of every pair with Gemini clients (tests/test_translate_gemini_*.py)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpx
import orjson

from aiplane.translate import Translator, Usage

try:
    from google.genai import types as genai_types
except ImportError:  # the SDK's checks are skipped where it is not installed
    genai_types = None

CLIENT_MODEL = "gemini-2.5-flash"
CLIENT_REQUEST = {"model": CLIENT_MODEL}  # what a non-streamed answer is to
STREAM_REQUEST = {"model": CLIENT_MODEL, "stream": True}  # what the decision server hands a stream


def gemini_events(raw: bytes) -> list[dict[str, Any]]:
    """The client's stream as its events' data; every event must be exactly `data: {json}\\r\\n\\r\\n`, as Gemini's are."""
    assert raw == b"" or raw.endswith(b"\r\n\r\n")
    events = []
    for block in raw.split(b"\r\n\r\n")[:-1]:
        assert block.startswith(b"data: {") and b"\n" not in block and b"\r" not in block
        events.append(orjson.loads(block[6:]))
    return events


def translate_stream(
    translator: Translator, *chunks: bytes, request: dict[str, Any] | None = None
) -> tuple[bytes, Usage | None]:
    """What the client gets for a provider's stream fed in `chunks`, and the usage; the stream ends once, for good."""
    stream = translator.stream(request or STREAM_REQUEST)
    out = b"".join(stream.feed(chunk) for chunk in chunks) + stream.finish()
    assert stream.finish() == b"" and stream.feed(b"more") == b""
    return out, stream.usage


def split(raw: bytes, cuts: Iterable[int]) -> list[bytes]:
    """`raw` cut at each of `cuts` (in any order; those beyond its end cut at the end)."""
    points = sorted(min(cut, len(raw)) for cut in cuts)
    return [raw[start:end] for start, end in zip([0, *points], [*points, len(raw)], strict=True)]


def finish_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [event for event in events if any("finishReason" in candidate for candidate in event.get("candidates", []))]


def assert_well_formed(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Exactly one event carries a finishReason, for every candidate, with the usage: the last one. One
    response id and a model throughout, every candidate the model's with parts, and Google's SDK type
    takes every event (it forbids fields it does not know). Returns the last event."""
    assert events and finish_events(events) == [events[-1]]
    last = events[-1]
    assert all("finishReason" in candidate for candidate in last["candidates"])
    assert "usageMetadata" in last
    for event in events:
        assert event["modelVersion"] and event["responseId"] == events[0]["responseId"]
        assert all(c["content"]["role"] == "model" and c["content"]["parts"] for c in event["candidates"])
        if genai_types is not None:
            genai_types.GenerateContentResponse.model_validate(event)
    return last


# --- Google's SDK, in process ----------------------------------------------------------------


class Gateway:
    """The gateway between Google's SDK and a provider, in process: what the decision server does with
    a Gemini request (the model and the stream of its path added to the body), then the provider's
    `answer` (a golden body, or a stream fed in pieces of 7 bytes) translated back."""

    def __init__(self, translator: Translator, upstream: str, answer: bytes, status: int = 200) -> None:
        self.translator, self.upstream = translator, upstream
        self.answer, self.status = answer, status
        self.requests: list[dict[str, Any]] = []  # what the provider was sent

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        model, _, method = path.rpartition("/")[2].partition(":")
        stream = method == "streamGenerateContent"
        # google-genai 1.x calls /v1beta, 3.x /v1: both are the Gemini API.
        assert path.startswith(("/v1beta/models/", "/v1/models/"))
        assert method in ("generateContent", "streamGenerateContent")
        body = {**orjson.loads(request.content), "model": model, "stream": stream}
        translator = self.translator
        self.requests.append(translator.request(body, self.upstream))
        if self.status != 200:
            return httpx.Response(self.status, content=translator.error(self.status, self.answer))
        if stream:
            assert request.url.params.get("alt") == "sse"
            pieces = [self.answer[i : i + 7] for i in range(0, len(self.answer), 7)]
            out, _ = translate_stream(translator, *pieces, request=body)
            return httpx.Response(200, content=out, headers={"content-type": "text/event-stream"})
        return httpx.Response(200, json=translator.response(orjson.loads(self.answer), body)[0])


def sdk_client(gateway: Gateway) -> Any:
    """Google's SDK client, calling `gateway`."""
    from google import genai

    transport = httpx.Client(transport=httpx.MockTransport(gateway))
    return genai.Client(api_key="client-key", http_options=genai.types.HttpOptions(httpx_client=transport))


def ask_for_recipes(gateway: Gateway) -> None:
    """Google's SDK asks for JSON output in the schema of a pydantic model: a list of recipes."""
    from pydantic import BaseModel

    class Recipe(BaseModel):
        recipe_name: str
        ingredients: list[str]

    config = {"response_mime_type": "application/json", "response_schema": list[Recipe]}
    sdk_client(gateway).models.generate_content(model=CLIENT_MODEL, contents="Cookies?", config=config)


def get_weather(location: str) -> str:
    """The weather now in a city."""
    return "15 degrees"
