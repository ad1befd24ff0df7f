"""The response filter translates answers from `response_view(request)`, never the request itself:
for every pair, the view must give what the whole request gives, streamed or not."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest

from aiplane.dialects import EMBEDDING_TRANSLATORS, TRANSLATORS
from aiplane.translate.eventstream import encode
from aiplane.translate.response_view import response_view

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def fixed_ids(monkeypatch):
    """Ids and timestamps a translator makes up are the same in both runs compared."""
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=7))
    monkeypatch.setattr(time, "time", lambda: 1_700_000_000.0)


def provider_stream(path: Path) -> bytes:
    if path.suffix == ".json":  # Bedrock's: [event, payload] pairs, as event-stream frames
        return b"".join(encode(event, orjson.dumps(payload)) for event, payload in orjson.loads(path.read_bytes()))
    return path.read_bytes()


def requests_seen(client: str, folder: Path) -> list[dict[str, Any]]:
    """The pair's golden requests, and each with every field an answer depends on switched on."""
    golden = [orjson.loads(p.read_bytes()) for p in sorted(folder.glob(f"*_request.{client}.json"))]
    asked = {
        "openai": {"stream_options": {"include_usage": True}},
        "gemini": {"generationConfig": {"thinkingConfig": {"includeThoughts": True, "thinkingBudget": 1024}}},
        "anthropic": {"model": "another-name"},
    }[client]
    return golden + [{**request, **asked} for request in golden]


PAIRS = sorted(TRANSLATORS)


@pytest.mark.parametrize(("client", "provider"), PAIRS, ids=[f"{c}-{p}" for c, p in PAIRS])
def test_answers_translate_the_same_from_the_view_as_from_the_whole_request(client, provider):
    translator = TRANSLATORS[(client, provider)]
    folder = FIXTURES / f"{client}_{provider}"
    answers = [orjson.loads(p.read_bytes()) for p in sorted(folder.glob(f"*_response.{provider}.json"))]
    streams = [provider_stream(p) for p in sorted(folder.glob(f"*_stream.{provider}.*"))]
    assert answers and streams
    for request in requests_seen(client, folder):
        view = response_view(request)
        assert len(orjson.dumps(view)) < 200  # it travels with every message of the answer
        for answer in answers:
            assert translator.response(answer, view) == translator.response(answer, request)
        for raw in streams:
            whole, cut = translator.stream(request), translator.stream(view)
            assert whole.feed(raw) + whole.finish() == cut.feed(raw) + cut.finish()
            assert whole.usage == cut.usage


@pytest.mark.parametrize("provider", sorted(EMBEDDING_TRANSLATORS))
@pytest.mark.parametrize("encoding", [None, "float", "base64"])
def test_embeddings_translate_the_same_from_the_view_in_any_encoding(provider, encoding):
    translator = EMBEDDING_TRANSLATORS[provider]
    prefix = "titan" if provider == "bedrock" else provider
    folder = FIXTURES / "openai_embeddings"
    request = orjson.loads((folder / f"{prefix}_request.openai.json").read_bytes())
    if encoding is not None:
        request["encoding_format"] = encoding
    answer = orjson.loads((folder / f"{prefix}_response.{provider}.json").read_bytes())
    assert translator.response(answer, response_view(request)) == translator.response(answer, request)


def test_the_view_keeps_how_many_inputs_were_sent_not_their_text():
    view = response_view({"model": "m", "input": ["a" * 10_000] * 3, "encoding_format": "base64"})
    assert view == {"model": "m", "input": [None, None, None], "encoding_format": "base64"}
    assert response_view({"model": "m", "input": "text"})["input"] == ""
