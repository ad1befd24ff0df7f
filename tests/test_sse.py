"""The server-sent events parser and writer every translator shares."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiplane.translate.sse import SSEEvent, SSEParser, event_prefix, format_event


def parse_whole(stream: bytes) -> list[SSEEvent]:
    parser = SSEParser()
    return parser.feed(stream) + parser.finish()


def parse_in_pieces(stream: bytes, cuts: list[int]) -> list[SSEEvent]:
    parser = SSEParser()
    events: list[SSEEvent] = []
    start = 0
    for cut in [*sorted(cuts), len(stream)]:
        events += parser.feed(stream[start:cut])
        start = cut
    return events + parser.finish()


@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        (b"data: {}\n\n", [SSEEvent("message", b"{}")]),
        (b"data:{}\n\n", [SSEEvent("message", b"{}")]),  # the space after the colon is optional
        (b"data:  two spaces\n\n", [SSEEvent("message", b" two spaces")]),  # only one is dropped
        (b"event: ping\ndata: {}\n\n", [SSEEvent("ping", b"{}")]),
        (b"data: a\ndata: b\n\n", [SSEEvent("message", b"a\nb")]),  # lines of one event joined with LF
        (b"data: a\r\n\r\ndata: b\r\rdata: c\n\n", [SSEEvent("message", b"a"), SSEEvent("message", b"b"), SSEEvent("message", b"c")]),
        (b": keep-alive\n\ndata: x\n\n", [SSEEvent("message", b"x")]),  # comments dispatch nothing
        (b"event: ping\n\n", []),  # an event without data is not dispatched
        (b"id: 7\nretry: 10\ndata: x\n\n", [SSEEvent("message", b"x")]),
        (b"data\n\n", [SSEEvent("message", b"")]),  # a field name alone has an empty value
        (b"\n\n\ndata: x\n\n\n\n", [SSEEvent("message", b"x")]),  # extra blank lines
        (b"data: [DONE]\n\n", [SSEEvent("message", b"[DONE]")]),
    ],
)
def test_parses_events(stream: bytes, expected: list[SSEEvent]) -> None:
    assert parse_whole(stream) == expected


def test_an_event_is_returned_once_its_blank_line_arrives() -> None:
    parser = SSEParser()
    assert parser.feed(b'data: {"a"') == []
    assert parser.feed(b":1}\n") == []
    assert parser.feed(b"\ndata: next") == [SSEEvent("message", b'{"a":1}')]


def test_a_crlf_split_between_chunks_is_one_line_end() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: a\r") == []
    assert parser.feed(b"\n") == []  # the LF completes the CR's line end: no blank line yet
    assert parser.feed(b"data: b\r") == []
    assert parser.feed(b"\n\r\n") == [SSEEvent("message", b"a\nb")]


def test_a_utf8_character_split_between_chunks_arrives_whole() -> None:
    text = "data: ¿Qué tal? 👋\n\n".encode()
    for cut in range(len(text)):
        assert parse_in_pieces(text, [cut]) == [SSEEvent("message", "¿Qué tal? 👋".encode())]


def test_finish_dispatches_complete_lines_whose_blank_line_never_came() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: a\n\ndata: [DONE]\n") == [SSEEvent("message", b"a")]
    assert parser.finish() == [SSEEvent("message", b"[DONE]")]
    assert parser.finish() == []


def test_finish_drops_a_line_cut_off_without_its_line_end() -> None:
    parser = SSEParser()
    parser.feed(b'data: {"trunc')
    assert parser.finish() == []


def test_finish_resets_the_parser() -> None:
    parser = SSEParser()
    parser.feed(b"data: a\r")
    parser.finish()
    assert parser.feed(b"\ndata: b\n\n") == [SSEEvent("message", b"b")]


def test_format_event() -> None:
    assert format_event(b'{"type":"ping"}', "ping") == b'event: ping\ndata: {"type":"ping"}\n\n'
    assert format_event(b"[DONE]") == b"data: [DONE]\n\n"
    assert format_event(b"a\nb\r\nc") == b"data: a\ndata: b\ndata: c\n\n"  # line breaks need one data line each
    assert event_prefix("message_stop") == b"event: message_stop\ndata: "


event_names = st.sampled_from([None, "message", "ping", "content_block_delta"])
payloads = st.binary(max_size=40).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(payloads, event_names), max_size=6), st.data())
def test_what_format_event_writes_parses_back_however_it_is_split(events: list[tuple[bytes, str | None]], data: st.DataObject) -> None:
    stream = b"".join(format_event(payload, name) for payload, name in events)
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=8))
    expected = [SSEEvent(name or "message", payload) for payload, name in events]
    assert parse_in_pieces(stream, cuts) == expected


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.data())
def test_any_bytes_split_anywhere_parse_as_they_do_whole(stream: bytes, data: st.DataObject) -> None:
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=8))
    assert parse_in_pieces(stream, cuts) == parse_whole(stream)
