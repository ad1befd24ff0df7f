"""What translating costs on the hot path, for every pair: at most 50 µs of CPU for a 2 KB
request and 20 µs per streamed event (the issue's targets; `make bench` measures the gateway
around them).

The request is each pair's golden tool request (tools, a call and its result: the costly
parts), its first text lengthened until the body is 2,048 bytes, as a longer conversation
would make it. The streams are the pair's golden tool and text streams from the provider.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from timing import cpu_seconds_per_call

from aiplane.dialects import TRANSLATORS
from aiplane.translate.eventstream import encode

FIXTURES = Path(__file__).parent / "fixtures"
PAIRS = sorted(TRANSLATORS)
IDS = [f"{client}-{provider}" for client, provider in PAIRS]
UPSTREAM_MODELS = {
    "openai": "gpt-4o",
    "anthropic": "claude-sonnet-4-5",
    "gemini": "gemini-2.5-flash",
    "bedrock": "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
}
REQUEST_BYTES = 2048
REQUEST_LIMIT = 50e-6
EVENT_LIMIT = 20e-6


def lengthened(doc: Any, by: int) -> bool:
    """Lengthens the first text in `doc` (a `content` or `text` string) by `by` characters."""
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    for key, value in items:
        if key in ("content", "text") and isinstance(value, str):
            doc[key] = value + (" and then" * by)[:by]
            return True
        if lengthened(value, by):
            return True
    return False


def two_kb_request(client: str, provider: str) -> dict[str, Any]:
    doc = orjson.loads((FIXTURES / f"{client}_{provider}" / f"tool_request.{client}.json").read_bytes())
    missing = REQUEST_BYTES - len(orjson.dumps(doc))
    assert missing >= 0 and lengthened(doc, missing)
    assert len(orjson.dumps(doc)) == REQUEST_BYTES
    return doc


def provider_streams(client: str, provider: str) -> list[tuple[bytes, int]]:
    """The pair's golden provider streams, each with its number of events."""
    streams = []
    for name in ("tool_stream", "text_stream"):
        for path in (FIXTURES / f"{client}_{provider}").glob(f"{name}.{provider}.*"):
            if path.suffix == ".json":  # Bedrock's: [event, payload] pairs, sent as event-stream frames
                pairs = orjson.loads(path.read_bytes())
                streams.append((b"".join(encode(event, orjson.dumps(data)) for event, data in pairs), len(pairs)))
            else:
                raw = path.read_bytes()
                streams.append((raw, raw.count(b"data:")))
    return streams


@pytest.mark.parametrize(("client", "provider"), PAIRS, ids=IDS)
def test_a_2kb_request_is_translated_in_at_most_50us(client: str, provider: str) -> None:
    translator, body = TRANSLATORS[(client, provider)], two_kb_request(client, provider)
    took = cpu_seconds_per_call(lambda: translator.request(body, UPSTREAM_MODELS[provider]), 1000, under=REQUEST_LIMIT)
    print(f"\n{client}->{provider}: {took * 1e6:.1f} µs per 2 KB request")
    assert took < REQUEST_LIMIT


@pytest.mark.parametrize(("client", "provider"), PAIRS, ids=IDS)
def test_a_streamed_event_is_translated_in_at_most_20us(client: str, provider: str) -> None:
    translator = TRANSLATORS[(client, provider)]
    streams = provider_streams(client, provider)
    assert len(streams) == 2
    total_events = sum(events for _, events in streams)

    def translate_both() -> None:
        for raw, _ in streams:
            stream = translator.stream({"model": "m"})
            stream.feed(raw)
            stream.finish()

    took = cpu_seconds_per_call(translate_both, 100, under=EVENT_LIMIT * total_events) / total_events
    print(f"\n{client}->{provider}: {took * 1e6:.2f} µs per streamed event")
    assert took < EVENT_LIMIT
