"""What the test files of every pair with OpenAI Chat Completions clients share: request builders,
fixture readers, a stream runner, the official `openai` SDK as the client of what a translator
answers, Hypothesis strategies for request-shaped bodies and the checks of any stream's end."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
import orjson
from client_streams import DONE, assembled, assert_openai_well_formed, openai_events
from hypothesis import strategies as st

from aiplane.translate import Translator, Usage
from aiplane.translate.common import THINKING_BUDGETS

try:  # the HTTP library the installed `openai` SDK is built on
    import httpx2 as http
except ImportError:  # pragma: no cover - older SDKs
    import httpx as http  # type: ignore[no-redef]

ABSENT = object()  # an expected value meaning "this key is not in the output"
PNG = "iVBORw0KGgo="
FUNCTION = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather now",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
BREAKPOINT = {"prompt_cache_breakpoint": {"mode": "explicit"}}
HELLO = [{"role": "user", "content": "Hello!"}]  # what the SDK sends: the translator's answers do not depend on it


def fixture_readers(pair: str) -> tuple[Callable[[str], bytes], Callable[[str], Any]]:
    """Readers of the golden files in tests/fixtures/`pair`: as bytes, and as JSON."""
    folder = Path(__file__).parent / "fixtures" / pair

    def fixture(name: str) -> bytes:
        return (folder / name).read_bytes()

    def fixture_json(name: str) -> Any:
        return orjson.loads(fixture(name))

    return fixture, fixture_json


def call(call_id: str, arguments: str, name: str = "get_weather") -> dict[str, Any]:
    """An assistant message's tool call."""
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def user_parts(*parts: Any) -> list[dict[str, Any]]:
    return [{"role": "user", "content": list(parts)}]


def msg(content: Any, role: str = "user", **extra: Any) -> dict[str, Any]:
    """Request fields with one message."""
    return {"messages": [{"role": role, "content": content, **extra}]}


def assistant(**fields: Any) -> dict[str, Any]:
    """Request fields with a user message, then an assistant message of `fields`."""
    return {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", **fields}]}


# A tool loop: the assistant called a tool, and the client sends its result.
LOOP = [
    {"role": "user", "content": "Weather in Paris?"},
    {"role": "assistant", "content": "Checking.", "tool_calls": [call("call_1", '{"city": "Paris"}')]},
    {"role": "tool", "tool_call_id": "call_1", "content": "15 degrees"},
]


# Requests every pair with OpenAI clients refuses, and the field each refusal names: `openai_wire`
# reads the client's request for all of them. Each pair's test adds its own.
REFUSED_BY_EVERY_PAIR = [
    # Fields no provider here can honour, and fields OpenAI does not have.
    ({"n": 2}, "n"),
    ({"logprobs": True}, "logprobs"),
    ({"top_logprobs": 5}, "top_logprobs"),
    ({"logit_bias": {"50256": -100}}, "logit_bias"),
    ({"modalities": ["text", "audio"]}, "modalities"),
    ({"audio": {"voice": "alloy", "format": "wav"}}, "audio"),
    ({"prediction": {"type": "content", "content": "x"}}, "prediction"),
    ({"web_search_options": {}}, "web_search_options"),
    ({"store": True}, "store"),
    ({"moderation": {"model": "omni-moderation-latest"}}, "moderation"),
    ({"verbosity": "low"}, "verbosity"),
    ({"functions": [{"name": "f", "parameters": {}}]}, "functions"),
    ({"function_call": "auto"}, "function_call"),
    ({"a_future_field": 1}, "a_future_field"),
    ({"a_future_field": None}, "a_future_field"),
    ({"top_k": 40}, "top_k"),
    # Parts, tool calls and tools every pair refuses alike.
    (msg([{"type": "file", "file": {"file_id": "file-abc"}}]), "messages[0].content[0].file.file_id"),
    (msg([{"type": "file", "file": {"filename": "a.pdf"}}]), "messages[0].content[0].file.file_data"),
    (msg([{"type": "file", "file": {"file_data": "JVBERi0x"}}]), "messages[0].content[0].file.file_data"),
    (
        msg([{"type": "image_url", "image_url": {"url": "data:image/svg+xml,%3Csvg%3E"}}]),
        "messages[0].content[0].image_url.url",
    ),
    ({"tools": [{"type": "custom", "custom": {"name": "grammar"}}]}, "tools[0].type"),
    (
        {"tools": [FUNCTION], "tool_choice": {"type": "allowed_tools", "allowed_tools": {"mode": "auto", "tools": []}}},
        "tool_choice.type",
    ),
    (
        assistant(content=None, tool_calls=[{"id": "c", "type": "custom", "custom": {"name": "g", "input": "x"}}]),
        "messages[1].tool_calls[0].type",
    ),
    (assistant(content=None, function_call={"name": "f", "arguments": "{}"}), "messages[1].function_call"),
    (assistant(content=None, audio={"id": "audio_1"}), "messages[1].audio"),
    (
        msg([{"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}], role="system"),
        "messages[0].content[0].type",
    ),
    # Invalid shapes.
    ({"messages": "Hi"}, "messages"),
    ({"messages": []}, "messages"),
    ({"messages": [{"role": "system", "content": "Only rules."}]}, "messages"),
    ({"messages": ["Hi"]}, "messages[0]"),
    (msg("Hi", role="function", name="f"), "messages[0].role"),
    (msg(42), "messages[0].content"),
    (msg(None), "messages[0].content"),
    (msg(["Hi"]), "messages[0].content[0]"),
    (msg([{"text": "no type"}]), "messages[0].content[0].type"),
    (msg([{"type": "text", "text": None}]), "messages[0].content[0].text"),
    (msg([{"type": "image_url", "image_url": "https://example.com/a.png"}]), "messages[0].content[0].image_url"),
    (
        msg([{"type": "image_url", "image_url": {"url": "data:image/png;base64"}}]),
        "messages[0].content[0].image_url.url",
    ),
    (
        msg([{"type": "text", "text": "x", "prompt_cache_breakpoint": "yes"}]),
        "messages[0].content[0].prompt_cache_breakpoint",
    ),
    (assistant(content=None, tool_calls=[call("c", '{"city": "Par')]), "messages[1].tool_calls[0].function.arguments"),
    (assistant(content=None, tool_calls=[call("c", "[1, 2]")]), "messages[1].tool_calls[0].function.arguments"),
    (
        assistant(
            content=None, tool_calls=[{"id": "c", "type": "function", "function": {"name": "f", "arguments": {"a": 1}}}]
        ),
        "messages[1].tool_calls[0].function.arguments",
    ),
    (
        assistant(content=None, tool_calls=[{"type": "function", "function": {"name": "f", "arguments": "{}"}}]),
        "messages[1].tool_calls[0].id",
    ),
    (assistant(content=None, tool_calls={"id": "c"}), "messages[1].tool_calls"),
    (assistant(content=42), "messages[1].content"),
    (assistant(content=[{"type": "image_url", "image_url": {"url": "https://x"}}]), "messages[1].content[0].type"),
    (assistant(content="x", refusal=7), "messages[1].refusal"),
    ({"messages": [{"role": "tool", "content": "15 degrees"}]}, "messages[0].tool_call_id"),
    (msg(7, role="developer"), "messages[0].content"),
    ({"tools": FUNCTION}, "tools"),
    ({"tools": [{"type": "function"}]}, "tools[0].function"),
    ({"tools": [{"type": "function", "function": {"parameters": {}}}]}, "tools[0].function.name"),
    ({"tools": [{"type": "function", "function": {"name": "f", "parameters": "{}"}}]}, "tools[0].function.parameters"),
    ({"tools": [{"type": "function", "function": {"name": "f", "strict": "yes"}}]}, "tools[0].function.strict"),
    ({"tools": [FUNCTION], "tool_choice": "any"}, "tool_choice"),
    ({"tools": [FUNCTION], "tool_choice": {"type": "function"}}, "tool_choice.function"),
    ({"tools": [FUNCTION], "tool_choice": {"type": "function", "function": {}}}, "tool_choice.function.name"),
    ({"tools": [FUNCTION], "tool_choice": {"type": "tool", "name": "f"}}, "tool_choice.type"),
    ({"tools": [FUNCTION], "parallel_tool_calls": "no"}, "parallel_tool_calls"),
    ({"reasoning_effort": "extreme"}, "reasoning_effort"),
    ({"reasoning_effort": ["high"]}, "reasoning_effort"),
    ({"max_tokens": "256"}, "max_tokens"),
    ({"max_completion_tokens": 1.5}, "max_completion_tokens"),
    ({"temperature": "hot"}, "temperature"),
    ({"top_p": True}, "top_p"),
    ({"stream": "yes"}, "stream"),
    ({"stop": 42}, "stop"),
    ({"stop": ["END", 4]}, "stop[1]"),
    ({"user": 42}, "user"),
    ({"response_format": "json"}, "response_format"),
    ({"response_format": {"type": "json_schema"}}, "response_format.json_schema"),
    ({"response_format": {"type": "json_schema", "json_schema": {"name": "x"}}}, "response_format.json_schema.schema"),
    ({"response_format": {"type": "yaml"}}, "response_format.type"),
]


def finish_reason(events: list[Any]) -> str:
    """The finish reason of a stream that ends with its finish chunk, the usage chunk and [DONE]."""
    return events[-3]["choices"][0]["finish_reason"]


def stream_runner(
    translator: Translator, client_model: str, after_end: bytes, **request: Any
) -> Callable[..., tuple[bytes, Usage | None]]:
    """`run_stream(*chunks, model=client_model)`: the client's stream (with a usage chunk) for the
    provider's `chunks`, fed one by one and finished, and the usage it reported; checked to end
    once, for good: nothing comes of finishing again, or of `after_end`, an event that would
    otherwise say something. `request` holds more fields of the client's request."""

    def run_stream(*chunks: bytes, model: str = client_model) -> tuple[bytes, Usage | None]:
        stream = translator.stream({"model": model, **request, "stream_options": {"include_usage": True}})
        out = b"".join(stream.feed(chunk) for chunk in chunks) + stream.finish()
        assert stream.finish() == b"" and stream.feed(after_end) == b""
        return out, stream.usage

    return run_stream


def cut_anywhere(stream: bytes, data: st.DataObject) -> list[bytes]:
    """`stream` in pieces cut where Hypothesis draws."""
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=12)))
    return [stream[start:end] for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True)]


def assert_ended_one_way_or_the_other(out: bytes) -> None:
    """The client's stream ends with an error event, without [DONE], or is well formed."""
    events = openai_events(out)
    if "error" in events[-1]:
        assert DONE not in events
    else:
        assert_openai_well_formed(events)


# ---------------------------------------------------------------------------------------------
# The official `openai` SDK reads what the translator answers
# ---------------------------------------------------------------------------------------------


def sdk_client(status: int, body: bytes, content_type: str = "application/json") -> openai.OpenAI:
    """The SDK, strict, against a server that answers every request with `body`."""

    def reply(request: Any) -> Any:
        return http.Response(status, content=body, headers={"content-type": content_type})

    return openai.OpenAI(
        api_key="client-key",
        base_url="http://aiplane.test/v1",
        max_retries=0,
        http_client=http.Client(transport=http.MockTransport(reply)),
        _strict_response_validation=True,
    )


def sdk_reassembled(out: bytes, model: str) -> tuple[Any, dict[str, Any]]:
    """The completion the SDK's stream helper accumulates from the client's stream `out`, checked
    against the chunks (tool calls, finish reason, usage), and the message the chunks assemble,
    whose content the caller compares."""
    with sdk_client(200, out, "text/event-stream").chat.completions.stream(model=model, messages=HELLO) as stream:
        final = stream.get_final_completion()
    events = openai_events(out)
    expected = assembled(events)
    calls = final.choices[0].message.tool_calls or []
    assert [(c.id, c.function.name, c.function.arguments) for c in calls] == [
        (c["id"], c["name"], c["arguments"]) for c in expected["tool_calls"]
    ]
    assert final.choices[0].finish_reason == finish_reason(events)
    assert final.usage is not None and final.usage.total_tokens == events[-2]["usage"]["total_tokens"]
    return final, expected


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


def any_json_object() -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.text(max_size=12), json_values, max_size=6)


breakpoints = {"prompt_cache_breakpoint": mostly(st.just({"mode": "explicit"}))}
text_parts = st.fixed_dictionaries({"type": st.just("text"), "text": mostly(texts)}, optional=breakpoints)
arguments = st.sampled_from(['{"a": 1}', "{}", "", "[1]", '{"a": ', '{"n": 100000000000000000000000}']) | texts
instructions = st.fixed_dictionaries(
    {"role": st.sampled_from(["system", "developer"]), "content": mostly(texts | st.lists(text_parts, max_size=2))}
)
functions = st.fixed_dictionaries(
    {
        "type": mostly(st.just("function")),
        "function": mostly(
            st.fixed_dictionaries(
                {"name": mostly(texts)},
                optional={
                    "parameters": mostly(st.dictionaries(texts, json_values, max_size=2)),
                    "description": mostly(texts),
                    "strict": mostly(st.booleans()),
                },
            )
        ),
    }
)


def user_messages(parts: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"role": st.just("user"), "content": mostly(texts | st.lists(parts, max_size=3))}, optional={"name": texts}
    )


def assistant_messages(call_ids: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Assistant messages with text and refusal parts, and tool calls of `call_ids`."""
    tool_calls = st.lists(
        st.fixed_dictionaries(
            {
                "id": mostly(call_ids),
                "function": mostly(st.fixed_dictionaries({"name": mostly(texts), "arguments": mostly(arguments)})),
            },
            optional={"type": mostly(st.just("function"))},
        ),
        max_size=3,
    )
    refusal_parts = st.fixed_dictionaries({"type": st.just("refusal"), "refusal": mostly(texts)})
    return st.fixed_dictionaries(
        {"role": st.just("assistant")},
        optional={
            "content": mostly(st.none() | texts | st.lists(st.one_of(text_parts, refusal_parts), max_size=2)),
            "tool_calls": mostly(tool_calls),
            "refusal": mostly(st.none() | texts),
        },
    )


def tool_messages(call_ids: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "role": st.just("tool"),
            "tool_call_id": mostly(call_ids),
            "content": mostly(texts | st.lists(text_parts, max_size=2)),
        }
    )


def conversations(
    parts: st.SearchStrategy[Any], call_ids: st.SearchStrategy[str] = texts, tool_weight: int = 1
) -> st.SearchStrategy[list[Any]]:
    """Lists of messages, mostly valid: instructions, users' of `parts`, assistants', and tools'
    (`tool_weight` times as likely as instructions), with tool calls and results of `call_ids`."""
    users, assistants, results = user_messages(parts), assistant_messages(call_ids), tool_messages(call_ids)
    kinds = st.one_of(instructions, users, users, assistants, *[results] * tool_weight)
    return st.lists(st.integers(0, 24).flatmap(lambda draw: kinds if draw else json_values), min_size=1, max_size=6)


def request_bodies(
    messages: st.SearchStrategy[Any], **fields: st.SearchStrategy[Any]
) -> st.SearchStrategy[dict[str, Any]]:
    """Request-shaped bodies, mostly valid: `messages`, the usual fields, and `fields` besides (or instead of) them."""
    function_choice = st.fixed_dictionaries(
        {"type": st.just("function"), "function": mostly(st.fixed_dictionaries({"name": mostly(texts)}))}
    )
    json_schema = st.fixed_dictionaries({"schema": mostly(st.dictionaries(texts, json_values, max_size=2))})
    usual = {
        "model": texts,
        "max_tokens": mostly(st.integers(1, 64000)),
        "max_completion_tokens": mostly(st.integers(1, 64000)),
        "tools": mostly(st.lists(functions, max_size=2)),
        "tool_choice": mostly(st.sampled_from(["auto", "required", "none", "any"]) | function_choice),
        "parallel_tool_calls": mostly(st.booleans()),
        "stop": mostly(texts | st.lists(texts, max_size=3)),
        "temperature": mostly(st.floats(0, 1.2)),
        "top_p": mostly(st.floats(0, 1)),
        "stream": mostly(st.booleans()),
        "stream_options": mostly(st.just({"include_usage": True})),
        "user": mostly(texts),
        "reasoning_effort": mostly(st.sampled_from([*THINKING_BUDGETS, "none", "x"])),
        "response_format": mostly(
            st.fixed_dictionaries(
                {"type": st.sampled_from(["text", "json_schema", "json_object"])},
                optional={"json_schema": mostly(json_schema)},
            )
        ),
        "n": mostly(st.sampled_from([1, 1, 1, 2])),
        "presence_penalty": mostly(st.sampled_from([0, 0.0, 0.0, 0.5])),
        "logprobs": mostly(st.sampled_from([False, False, False, True])),
    }
    return st.fixed_dictionaries({"messages": mostly(messages)}, optional={**usual, **fields})
