"""AWS event-stream framing (`application/vnd.amazon.eventstream`): how Bedrock streams.

Each frame is binary: a prelude (total length, headers length, CRC), typed headers, a JSON
payload and a CRC of the whole. Frames as Bedrock sends them (checksums right, string headers)
are read here; from the first other frame on, botocore's `EventStreamBuffer` reads the stream,
as it reads every frame there is (or says why it cannot). This module turns them into the same
`(event, data)` pairs the SSE parser gives, so one stream-translator shell serves both framings:

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


_PRELUDE = struct.Struct(">III")  # total length, headers length, CRC of the two
_CRC = struct.Struct(">I")
# Larger frames are botocore's to judge: these are at most its limits in every version (16 MB before 24).
_MAX_HEADERS_LENGTH = 128 * 1024
_MAX_PAYLOAD_LENGTH = 16 * 1024 * 1024


class EventStreamParser:
    """Feed it a stream's bytes as they arrive, split anywhere; it returns each complete frame once."""

    __slots__ = ("_data", "_botocore", "_broken")

    def __init__(self) -> None:
        self._data = b""  # what is here of a frame still to come
        self._botocore: EventStreamBuffer | None = None  # reads the stream once a frame is not as Bedrock's are
        self._broken = False

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        if self._broken or not chunk:
            return []
        events: list[SSEEvent] = []
        botocore = self._botocore
        if botocore is None:
            botocore = self._read_frames(self._data + chunk, events)
        else:
            botocore.add_data(chunk)
        if botocore is not None:
            self._read_with(botocore, events)
        return events

    def _read_frames(self, data: bytes, events: list[SSEEvent]) -> EventStreamBuffer | None:
        """The complete frames in `data` as Bedrock sends them; the stream is botocore's from any
        other frame on, and then this returns its buffer."""
        start = 0
        while len(data) - start >= 12:
            total_length, headers_length, crc = _PRELUDE.unpack_from(data, start)
            if (
                binascii.crc32(data[start : start + 8]) != crc
                or headers_length > _MAX_HEADERS_LENGTH
                or not 0 <= total_length - headers_length - 16 <= _MAX_PAYLOAD_LENGTH
            ):
                return self._hand_over(data[start:])
            end = start + total_length
            if len(data) < end:
                break  # the rest of the frame is still to come
            if binascii.crc32(data[start + 8 : end - 4], crc) != _CRC.unpack_from(data, end - 4)[0]:
                return self._hand_over(data[start:])
            headers_end = start + 12 + headers_length
            headers = _string_headers(data, start + 12, headers_end)
            if headers is None:
                return self._hand_over(data[start:])
            events.append(_as_event(headers, data[headers_end : end - 4]))
            start = end
        self._data = data[start:]
        return None

    def _hand_over(self, data: bytes) -> EventStreamBuffer:
        """The stream from `data` on, botocore's for good."""
        self._data = b""
        botocore = self._botocore = EventStreamBuffer()
        botocore.add_data(data)
        return botocore

    def _read_with(self, botocore: EventStreamBuffer, events: list[SSEEvent]) -> None:
        try:
            for frame in botocore:
                events.append(_as_event(frame.headers, frame.payload))
        # botocore checks lengths and checksums; headers that pass them can still be garbage.
        except (ParserError, KeyError, struct.error, UnicodeDecodeError) as exc:
            self._broken = True
            events.append(_exception("internalServerException", f"unreadable event-stream frame: {exc}"))

    def finish(self) -> list[SSEEvent]:
        """The stream ended; a frame cut off in the middle is dropped, as an incomplete SSE event is."""
        return []


def _string_headers(data: bytes, start: int, end: int) -> dict[str, str] | None:
    """A frame's headers in `data[start:end]` when every one is a string, named once, as Bedrock's
    are; None for any other, which botocore reads."""
    headers: dict[str, str] = {}
    while start < end:
        name_end = start + 1 + data[start]
        value_start = name_end + 3
        if value_start > end or data[name_end] != _STRING:
            return None
        value_end = value_start + int.from_bytes(data[name_end + 1 : value_start], "big")
        if value_end > end:
            return None
        try:
            name = data[start + 1 : name_end].decode()
            value = data[value_start:value_end].decode()
        except UnicodeDecodeError:
            return None
        if name in headers:
            return None
        headers[name] = value
        start = value_end
    return headers


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
