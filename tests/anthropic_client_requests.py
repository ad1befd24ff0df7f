"""What the test files of every pair with Anthropic clients share: the request they start from, fixture
readers, a stream runner, the SDK's stream event types, Hypothesis strategies for request-shaped
bodies and any stream bytes, and the timing checks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic.types as at
import orjson
import pydantic
from client_streams import Event, anthropic_events, assert_anthropic_well_formed
from hypothesis import strategies as st

from aiplane.translate import Translator, UnsupportedFeature, Usage

CLIENT_MODEL = "claude-sonnet-4-5"
IMAGE_B64 = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}
IMAGE_URL = {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}}
ADAPTER = pydantic.TypeAdapter(at.RawMessageStreamEvent)  # the SDK's type of every stream event


def fixture_readers(pair: str) -> tuple[Callable[[str], bytes], Callable[[str], Any]]:
    """Readers of the golden files in tests/fixtures/`pair`: as bytes, and as JSON."""
    folder = Path(__file__).parent / "fixtures" / pair

    def fixture(name: str) -> bytes:
        return (folder / name).read_bytes()

    def fixture_json(name: str) -> Any:
        return orjson.loads(fixture(name))

    return fixture, fixture_json


def base_request(**fields: Any) -> dict[str, Any]:
    return {"model": CLIENT_MODEL, "max_tokens": 256, "messages": [{"role": "user", "content": "Hi"}], **fields}


def msg(content: Any, role: str = "user") -> dict[str, Any]:
    return {"messages": [{"role": role, "content": content}]}


def user(*blocks: Any) -> list[dict[str, Any]]:
    return [{"role": "user", "content": list(blocks)}]


def stream_runner(translator: Translator) -> Callable[..., tuple[bytes, Usage | None]]:
    """`run_stream(*chunks, model=...)`: the client's stream for the provider's `chunks`, fed one
    by one and finished, and the usage it reported; checked to end once, for good."""

    def run_stream(*chunks: bytes, model: str = CLIENT_MODEL) -> tuple[bytes, Usage | None]:
        stream = translator.stream({"model": model})
        out = b"".join(stream.feed(chunk) for chunk in chunks) + stream.finish()
        assert stream.finish() == b""  # ended once, for good
        return out, stream.usage

    return run_stream


def assert_the_sdk_takes(out: bytes) -> list[Event]:
    """The client's stream, well formed, every event one the SDK's own type takes."""
    events = anthropic_events(out)
    assert_anthropic_well_formed(events)
    for _, data in events:
        ADAPTER.validate_python(data)
    return events


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
texts = st.text(max_size=8)


def mostly(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Valid values, and now and then any JSON value, so examples get deep into the request before failing."""
    return st.integers(0, 7).flatmap(lambda draw: valid if draw else json_values)


BLOCK_TYPES = st.sampled_from(
    ["text", "image", "tool_use", "tool_result", "thinking", "redacted_thinking", "document", "x"]
)
TEXT_BLOCKS = st.fixed_dictionaries({"type": st.sampled_from(["text", "text", "image"]), "text": mostly(texts)})
BLOCKS = st.fixed_dictionaries(
    {"type": BLOCK_TYPES},
    optional={
        "text": mostly(texts),
        "source": st.fixed_dictionaries(
            {"type": st.sampled_from(["base64", "url", "file"])},
            optional={"media_type": mostly(texts), "data": mostly(texts), "url": mostly(texts)},
        ),
        "id": mostly(texts),
        "name": mostly(texts),
        "input": mostly(st.dictionaries(texts, json_values, max_size=3)),
        "tool_use_id": mostly(texts),
        "content": mostly(texts | st.lists(TEXT_BLOCKS, max_size=3)),
        "is_error": mostly(st.booleans()),
    },
)


def request_bodies(
    blocks: st.SearchStrategy[Any] = BLOCKS,
    text_blocks: st.SearchStrategy[Any] = TEXT_BLOCKS,
    tool_fields: dict[str, st.SearchStrategy[Any]] | None = None,
    **fields: st.SearchStrategy[Any],
) -> st.SearchStrategy[dict[str, Any]]:
    """Request-shaped bodies, mostly valid: messages of `blocks`, a system prompt of `text_blocks`,
    tools that may have `tool_fields` too, and `fields` besides (or instead of) the usual ones."""
    messages = st.lists(
        st.fixed_dictionaries(
            {
                "role": st.sampled_from(["user", "assistant"] * 4 + ["system"]),
                "content": mostly(texts | st.lists(blocks, max_size=4)),
            }
        ),
        min_size=1,
        max_size=4,
    )
    tool = st.fixed_dictionaries(
        {"name": mostly(texts), "input_schema": mostly(st.dictionaries(texts, json_values, max_size=2))},
        optional={
            "type": mostly(st.just("custom")),
            "description": mostly(texts),
            "strict": mostly(st.booleans()),
            **(tool_fields or {}),
        },
    )
    usual = {
        "model": texts,
        "max_tokens": mostly(st.integers(1, 4096)),
        "system": mostly(texts | st.lists(text_blocks, max_size=2)),
        "tools": mostly(st.lists(tool, max_size=2)),
        "tool_choice": mostly(
            st.fixed_dictionaries(
                {"type": st.sampled_from(["auto", "any", "tool", "none", "x"])},
                optional={"name": mostly(texts), "disable_parallel_tool_use": mostly(st.booleans())},
            )
        ),
        "stop_sequences": mostly(st.lists(texts, max_size=3)),
        "temperature": mostly(st.floats(0, 1)),
        "top_p": mostly(st.floats(0, 1)),
        "stream": mostly(st.booleans()),
        "metadata": mostly(st.fixed_dictionaries({}, optional={"user_id": mostly(texts)})),
        "thinking": mostly(
            st.fixed_dictionaries(
                {"type": st.sampled_from(["enabled", "disabled", "adaptive", "x"])},
                optional={"budget_tokens": mostly(st.integers(1024, 64000))},
            )
        ),
        "service_tier": texts,
    }
    return st.fixed_dictionaries({"messages": mostly(messages)}, optional={**usual, **fields})


def any_json_object() -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.text(max_size=12), json_values, max_size=6)


def assert_translated_or_refused(translator: Translator, body: dict[str, Any], upstream: str) -> None:
    """A request is translated into something that can be sent, or refused naming the field: nothing else."""
    try:
        out = translator.request(body, upstream)
    except UnsupportedFeature as e:
        assert isinstance(e.param, str) and isinstance(e.message, str)
    else:
        orjson.dumps(out)  # what it returns can be sent


def cut_anywhere(stream: bytes, data: st.DataObject) -> list[bytes]:
    """`stream` in pieces cut where Hypothesis draws."""
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=12)))
    return [stream[start:end] for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True)]


def sse_pieces(streams: list[bytes]) -> st.SearchStrategy[bytes]:
    """Pieces of SSE streams: the lines of `streams`, any bytes, and events of any JSON value."""
    lines = [line + b"\n" for stream in streams for line in stream.split(b"\n")]
    return (
        st.sampled_from(lines)
        | st.binary(max_size=40)
        | json_values.map(lambda value: b"data: " + orjson.dumps(value) + b"\n\n")
    )


def ended_once(out: bytes) -> list[Event]:
    """The client's stream, which ends one way or the other: `message_stop` or an error, once."""
    events = anthropic_events(out)
    names = [name for name, _ in events]
    assert names.count("message_start") <= 1 and names.count("message_stop") <= 1
    assert names[-1] in ("message_stop", "error")
    return events
