"""AWS event-stream framing (`application/vnd.amazon.eventstream`): how Bedrock streams.

Each frame is binary: a prelude (total length, headers length, CRC), typed headers, a JSON
payload and a CRC of the whole. botocore's `EventStreamBuffer` reads the frames (checksums
included); this module turns them into the same `(event, data)` pairs the SSE parser gives, so
one stream-translator shell serves both framings:

- an event frame (`:message-type: event`) is `(its :event-type, its payload)`;
- an exception frame (`:message-type: exception`) is `(its :exception-type, its payload)`;
  exception types end in `Exception`, event types never do (`is_exception`);
- an error frame, or bytes that are not a valid frame, end the stream with an exception pair
  saying so: nothing after a corrupt frame can be trusted to be framed right.

`encode` writes frames, for the mock provider and the tests.
"""

from __future__ import annotations

import binascii
import struct

import orjson
from botocore.eventstream import EventStreamBuffer, ParserError

from aiplane.translate.sse import SSEEvent

CONTENT_TYPE = "application/vnd.amazon.eventstream"
_STRING = 7  # the header value type of every header Bedrock sends


def is_exception(event: str) -> bool:
    return event.endswith("Exception")


class EventStreamParser:
    """Feed it a stream's bytes as they arrive, split anywhere; it returns each complete frame once."""

    __slots__ = ("_buffer", "_broken")

    def __init__(self) -> None:
        self._buffer = EventStreamBuffer()
        self._broken = False

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        if self._broken or not chunk:
            return []
        self._buffer.add_data(chunk)
        events: list[SSEEvent] = []
        try:
            for frame in self._buffer:
                events.append(_as_event(frame.headers, frame.payload))
        # botocore checks lengths and checksums; headers that pass them can still be garbage.
        except (ParserError, KeyError, struct.error, UnicodeDecodeError) as exc:
            self._broken = True
            events.append(_exception("internalServerException", f"unreadable event-stream frame: {exc}"))
        return events

    def finish(self) -> list[SSEEvent]:
        """The stream ended; a frame cut off in the middle is dropped, as an incomplete SSE event is."""
        return []


def _as_event(headers: dict, payload: bytes) -> SSEEvent:
    kind = headers.get(":message-type", "event")
    if kind == "event":
        return SSEEvent(str(headers.get(":event-type", "")), payload)
    if kind == "exception":
        return SSEEvent(str(headers.get(":exception-type", "internalServerException")), payload)
    return _exception("internalServerException", str(headers.get(":error-message", "event-stream error")))


def _exception(kind: str, message: str) -> SSEEvent:
    return SSEEvent(kind, orjson.dumps({"message": message}))


def _header(name: str, value: str) -> bytes:
    name_bytes, value_bytes = name.encode(), value.encode()
    return bytes([len(name_bytes)]) + name_bytes + bytes([_STRING]) + struct.pack(">H", len(value_bytes)) + value_bytes


def encode(event: str, payload: bytes) -> bytes:
    """One frame as Bedrock sends it: an event, or an exception when `event` names one."""
    if is_exception(event):
        headers = _header(":exception-type", event) + _header(":content-type", "application/json")
        headers += _header(":message-type", "exception")
    else:
        headers = _header(":event-type", event) + _header(":content-type", "application/json")
        headers += _header(":message-type", "event")
    prelude = struct.pack(">II", 12 + len(headers) + len(payload) + 4, len(headers))
    frame = prelude + struct.pack(">I", binascii.crc32(prelude)) + headers + payload
    return frame + struct.pack(">I", binascii.crc32(frame))
