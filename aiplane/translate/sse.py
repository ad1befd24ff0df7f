"""Server-sent events: an incremental parser for provider streams and a writer for client streams.

Works on bytes throughout: events are cut at line boundaries, which are ASCII, so a UTF-8
character split across network chunks is reassembled before anyone decodes it, and the
`data` of an event goes to orjson as bytes without a decode/encode round trip.
Follows the WHATWG event-stream rules a proxy needs (LF, CRLF and CR line ends; `:`
comments; one optional space after the colon; multi-line data joined with LF; an event
without data is not dispatched); `id` and `retry` are ignored: a translator never reconnects.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson

from aiplane.translate.base import Usage

DEFAULT_EVENT = "message"  # the type of an event that names none
_DATA_FIELD = b"data"
_EVENT_FIELD = b"event"
_FAST_DATA = b"data: "  # the one-line `data: ...` event every OpenAI-style chunk is
_LF = b"\n"
_BLANK_LINE = b"\n\n"
_EVENT_END = b"\n\n"


class SSEEvent(NamedTuple):
    event: str
    data: bytes


class SSEParser:
    """Feed it a stream's bytes as they arrive, split anywhere; it returns each complete event once."""

    __slots__ = ("_buffer", "_scan_from", "_after_cr")

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._scan_from = 0  # where the next search for a blank line starts: earlier bytes hold none
        self._after_cr = False  # the last chunk ended in CR: a LF opening the next one is the same line end

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        if not chunk:
            return []
        if self._after_cr or b"\r" in chunk:
            chunk = self._normalize_line_ends(chunk)
        buffer = self._buffer
        buffer += chunk
        events: list[SSEEvent] = []
        start = 0
        while (end := buffer.find(_BLANK_LINE, self._scan_from)) != -1:
            event = _parse_block(bytes(buffer[start:end]))
            if event is not None:
                events.append(event)
            start = self._scan_from = end + 2
        if start:
            del buffer[:start]
        # A blank line can straddle this chunk and the next: rescan the last byte.
        self._scan_from = max(len(buffer) - 1, 0)
        return events

    def finish(self) -> list[SSEEvent]:
        """The stream ended: the pending event's complete lines, as if a blank line had followed.

        Servers often omit the blank line after their last event (`data: [DONE]\\n`); a line cut
        off without its line end is incomplete and dropped, as the spec drops an incomplete event.
        """
        buffer, self._buffer, self._scan_from, self._after_cr = self._buffer, bytearray(), 0, False
        complete = buffer.rfind(_LF)
        if complete == -1:
            return []
        event = _parse_block(bytes(buffer[:complete]))
        return [] if event is None else [event]

    def _normalize_line_ends(self, chunk: bytes) -> bytes:
        # Rewrite CRLF and CR as LF so the rest only looks for LF; a CRLF split between two
        # chunks is the CR ending one and the LF opening the next.
        if self._after_cr and chunk[:1] == _LF:
            chunk = chunk[1:]
        self._after_cr = chunk[-1:] == b"\r"
        return chunk.replace(b"\r\n", _LF).replace(b"\r", _LF)


def _parse_block(block: bytes) -> SSEEvent | None:
    """One event's lines (without the blank line that ends it), or None when it carries no data."""
    if block.startswith(_FAST_DATA) and _LF not in block:
        return SSEEvent(DEFAULT_EVENT, block[6:])
    event = DEFAULT_EVENT
    data: list[bytes] = []
    for line in block.split(_LF):
        colon = line.find(b":")
        if colon == 0:  # a comment, e.g. a keep-alive
            continue
        if colon == -1:
            field, value = line, b""
        else:
            field, value = line[:colon], line[colon + 1 :]
            if value[:1] == b" ":
                value = value[1:]
        if field == _DATA_FIELD:
            data.append(value)
        elif field == _EVENT_FIELD:
            event = value.decode("utf-8", "replace") or DEFAULT_EVENT
    if not data:
        return None
    return SSEEvent(event, _LF.join(data))


def event_prefix(event: str | None) -> bytes:
    """The bytes that open an event up to its data, for writers that precompute them per event type."""
    return b"data: " if event is None else b"event: " + event.encode() + b"\ndata: "


def format_event(data: bytes, event: str | None = None) -> bytes:
    """One event on the wire; data with line breaks becomes several `data:` lines, as the spec requires."""
    if b"\n" in data or b"\r" in data:
        lines = data.replace(b"\r\n", _LF).replace(b"\r", _LF).split(_LF)
        data = b"\ndata: ".join(lines)
    return event_prefix(event) + data + _EVENT_END


class EventStreamTranslator:
    """The shell every stream translator shares: provider events parsed from bytes split
    anywhere, each translated by `_on_event`, and the client's stream ended exactly once.

    A subclass writes client bytes into `out`, sets `_ended` once the client's stream is over
    (its own end, or an error), and says in `_on_cut` how to end it when the provider's stream
    stops without its own end. `parser` reads the provider's framing: SSE, or any parser with
    the same `feed`/`finish` (Bedrock's event-stream frames).
    """

    __slots__ = ("_parser", "_ended", "_usage")
    parser: type = SSEParser

    def __init__(self) -> None:
        self._parser = self.parser()
        self._ended = False
        self._usage: Usage | None = None

    @property
    def usage(self) -> Usage | None:
        return self._usage

    def feed(self, chunk: bytes) -> bytes:
        return b"" if self._ended else self._translate(self._parser.feed(chunk), cut=False)

    def finish(self) -> bytes:
        return b"" if self._ended else self._translate(self._parser.finish(), cut=True)

    def _translate(self, events: list[SSEEvent], cut: bool) -> bytes:
        out: list[bytes] = []
        for event in events:
            self._on_event(event, out)
            if self._ended:
                break
        if cut and not self._ended:
            self._on_cut(out)
        return b"".join(out)

    def _json_object(self, data: bytes, not_json: bytes, out: list[bytes]) -> dict[str, Any] | None:
        """An event's data as a JSON object; None when it is not one, and then `not_json` (the
        client's error event saying so) ends the client's stream."""
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError:
            value = None
        if isinstance(value, dict):
            return value
        out.append(not_json)
        self._ended = True
        return None

    def _on_event(self, event: SSEEvent, out: list[bytes]) -> None:
        raise NotImplementedError

    def _on_cut(self, out: list[bytes]) -> None:
        raise NotImplementedError
