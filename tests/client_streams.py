"""What OpenAI and Anthropic clients receive from a stream translator: parsers and grammar checks
shared by the test files of every pair with that client dialect."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest
from openai.types.chat import ChatCompletionChunk

DONE = "[DONE]"
Event = tuple[str, dict[str, Any]]


def without_created(document: dict[str, Any]) -> dict[str, Any]:
    """The document with `created`, which is the time of the translation, checked and set to 0."""
    created = document.get("created")
    if created:
        assert isinstance(created, int) and abs(created - time.time()) < 60
    return {**document, "created": 0} if "created" in document else document


def openai_events(raw: bytes) -> list[Any]:
    """The client's stream as parsed chunks (and "[DONE]"); every event must be exactly `data: ...\\n\\n`."""
    assert raw == b"" or raw.endswith(b"\n\n")
    events: list[Any] = []
    for block in raw.split(b"\n\n")[:-1]:
        assert block.startswith(b"data: ") and b"\n" not in block
        data = block[6:]
        events.append(DONE if data == b"[DONE]" else without_created(orjson.loads(data)))
    return events


def assert_openai_well_formed(events: list[Any]) -> None:
    """OpenAI's stream grammar as aiplane writes it: a role chunk first; one chunk with a finish_reason,
    the last with choices; then the usage chunk; then one [DONE]; one id, model and creation time throughout."""
    assert events.count(DONE) == 1 and events[-1] == DONE
    chunks = events[:-1]
    for chunk in chunks:
        ChatCompletionChunk.model_validate(chunk)  # the SDK's own type takes every chunk
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    finishes = [i for i, chunk in enumerate(chunks) if chunk["choices"] and chunk["choices"][0]["finish_reason"]]
    assert finishes == [len(chunks) - 2]
    assert chunks[-1]["choices"] == [] and "usage" in chunks[-1]
    assert len({(c["id"], c["model"], c["created"], c["object"]) for c in chunks}) == 1
    assert chunks[0]["object"] == "chat.completion.chunk" and chunks[0]["id"].startswith("chatcmpl-")


def assembled(events: list[Any]) -> dict[str, Any]:
    """The message an OpenAI SDK accumulates from the chunks' deltas."""
    message: dict[str, Any] = {"content": "", "reasoning_content": "", "tool_calls": {}}
    for chunk in events:
        if chunk == DONE or not chunk["choices"]:
            continue
        delta = chunk["choices"][0]["delta"]
        for key in ("content", "reasoning_content"):
            message[key] += delta.get(key) or ""
        for call in delta.get("tool_calls") or []:
            known = message["tool_calls"].setdefault(call["index"], {"id": None, "name": None, "arguments": ""})
            if "id" in call:
                assert known["id"] is None  # id and name come once, with the first delta
                known["id"], known["name"] = call["id"], call["function"]["name"]
            known["arguments"] += call["function"]["arguments"]
    message["tool_calls"] = [message["tool_calls"][i] for i in sorted(message["tool_calls"])]
    return message


def anthropic_events(raw: bytes) -> list[Event]:
    """The client's stream as (event, data) pairs; every event must be exactly `event: X\\ndata: {json}\\n\\n`."""
    assert raw == b"" or raw.endswith(b"\n\n")
    events = []
    for block in raw.split(b"\n\n")[:-1]:
        event_line, data_line = block.split(b"\n")
        assert event_line.startswith(b"event: ") and data_line.startswith(b"data: ")
        name, data = event_line[7:].decode(), orjson.loads(data_line[6:])
        assert data["type"] == name  # Anthropic repeats the event type in its data
        events.append((name, data))
    return events


def assert_anthropic_well_formed(events: list[Event]) -> None:
    """Anthropic's stream grammar: one message_start, blocks opened and closed in index order, one message_delta, one message_stop."""
    names = [name for name, _ in events]
    assert names.count("message_start") == 1 and names[0] == "message_start"
    assert names.count("message_stop") == 1 and names[-1] == "message_stop"
    assert names.count("message_delta") == 1 and names[-2] == "message_delta"
    open_index, next_index = None, 0
    for name, data in events[1:-2]:
        if name == "content_block_start":
            assert open_index is None and data["index"] == next_index
            open_index, next_index = next_index, next_index + 1
        elif name in ("content_block_delta", "content_block_stop"):
            assert data["index"] == open_index
            if name == "content_block_stop":
                open_index = None
        else:
            pytest.fail(f"unexpected {name} inside the message")
    assert open_index is None


def assembled_blocks(events: list[Event]) -> list[dict[str, Any]]:
    """The content an Anthropic SDK accumulates from the stream's block events."""
    blocks: list[dict[str, Any]] = []
    for name, data in events:
        if name == "content_block_start":
            blocks.append(dict(data["content_block"], partial_json=""))
        elif name == "content_block_delta":
            block, d = blocks[data["index"]], data["delta"]
            field = {"text_delta": "text", "thinking_delta": "thinking", "input_json_delta": "partial_json"}[d["type"]]
            block[field] += d["text" if field == "text" else field]
    for block in blocks:
        partial = block.pop("partial_json")
        if block["type"] == "tool_use":
            block["input"] = orjson.loads(partial)
    return blocks
