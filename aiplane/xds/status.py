"""What each stream was sent and how its client answered: ACK and NACK bookkeeping, and the
read-only view of it that the admin API shows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import structlog
from google.rpc import status_pb2

log = structlog.get_logger(__name__)

ProtocolName = Literal["sotw", "delta"]


@dataclass(frozen=True)
class Nack:
    version: str  # the version the client rejected
    detail: str  # the client's reason (Envoy's error message)


@dataclass(frozen=True)
class TypeStatus:
    sent_version: str | None  # version of the latest response sent for this type
    acked_version: str | None
    last_nack: Nack | None  # kept after later ACKs: compare its version with acked_version


@dataclass(frozen=True)
class StreamStatus:
    node_id: str
    group: str
    protocol: ProtocolName
    types: Mapping[str, TypeStatus]


class AckTracker:
    """Matches a client's answers to the responses sent for one type on one stream.

    An answer is a request whose `response_nonce` names a response we sent; it is a NACK when it
    carries `error_detail`, whatever its version. An answer to a superseded response is recorded
    too (a NACK of it is worth reporting), though only the latest nonce is current.
    """

    def __init__(self, *, node_id: str, type_url: str) -> None:
        self._log = log.bind(node_id=node_id, type_url=type_url)
        self._unanswered: dict[str, str] = {}  # nonce -> version, in the order sent
        self.latest_nonce = ""
        self._sent_version: str | None = None
        self._acked_version: str | None = None
        self._last_nack: Nack | None = None

    def sent(self, nonce: str, version: str) -> None:
        self._unanswered[nonce] = version
        self.latest_nonce = nonce
        self._sent_version = version

    def assume_acked(self, version: str) -> None:
        """The client reconnected already running `version`, which it had acknowledged before."""
        self._sent_version = self._acked_version = version

    def is_current(self, nonce: str) -> bool:
        """Whether a request answers the latest response (or, before any, is the first request)."""
        return nonce == self.latest_nonce

    def answer(self, nonce: str, error_detail: status_pb2.Status | None) -> None:
        if nonce not in self._unanswered:
            return
        # Answers come in order, and a client may skip some (Envoy may answer only the latest of
        # the responses that arrived while it held that type paused): earlier ones never will be.
        for earlier in list(self._unanswered):
            version = self._unanswered.pop(earlier)
            if earlier == nonce:
                break
        if error_detail is None:
            self._acked_version = version
            return
        self._last_nack = Nack(version=version, detail=error_detail.message)
        self._log.warning("xds.nack", version=version, detail=error_detail.message, code=error_detail.code)

    def status(self) -> TypeStatus:
        return TypeStatus(self._sent_version, self._acked_version, self._last_nack)
