"""State-of-the-world ADS (StreamAggregatedResources): which responses one stream needs.

No I/O: the stream shell in `server.py` feeds requests and snapshots in and writes out what comes
back, so every protocol decision here can be tested with plain calls.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from envoy.service.discovery.v3 import discovery_pb2

from aiplane.xds.snapshot import Resources, Snapshot
from aiplane.xds.status import AckTracker, ProtocolName, TypeStatus
from aiplane.xds.types import (
    CLUSTER,
    ENDPOINT,
    REMOVED_LAST,
    WILDCARD,
    WILDCARD_BY_DEFAULT,
    awaited_endpoints,
    in_push_order,
)


@dataclass
class _Subscription:
    wildcard: bool
    names: frozenset[str]  # requested names, remembered even before they exist
    acks: AckTracker
    sent: Resources | None = None  # content of the latest response (rejected or not)


def _requested(type_url: str, names: Sequence[str]) -> tuple[bool, frozenset[str]]:
    wildcard = WILDCARD in names or (not names and type_url in WILDCARD_BY_DEFAULT)
    return wildcard, frozenset(names) - {WILDCARD}


def _wanted(subscription: _Subscription, resources: Resources) -> Resources:
    return resources if subscription.wildcard else resources.only(sorted(subscription.names))


def _keeping_dropped(wanted: Resources, sent: Resources | None) -> Resources:
    """`wanted` plus what the client was sent and `wanted` drops: the first step of a removal."""
    dropped = {name: packed for name, packed in (sent.items.items() if sent else ()) if name not in wanted.items}
    return Resources.of({**wanted.items, **dropped}) if dropped else wanted


def _needs_push(sent: Resources | None, staged: Resources, *, wildcard: bool, forced: bool) -> bool:
    if not wildcard and not staged.items:
        # Nothing requested exists, and SotW cannot tell a client that a named resource is gone.
        return False
    if forced or sent is None:
        return True
    # Same version and nothing new requested: the client has it. This is also what keeps a
    # NACKed version from being sent again until the snapshot changes.
    return staged.version != sent.version or not staged.items.keys() <= sent.items.keys()


def _added_or_changed(sent: Resources | None, staged: Resources) -> list[str]:
    return [name for name, version in staged.versions.items() if sent is None or sent.versions.get(name) != version]


class SotwStream:
    """Protocol state of one state-of-the-world ADS stream."""

    protocol: ProtocolName = "sotw"

    def __init__(self, node_id: str) -> None:
        self._node_id = node_id
        self._subscriptions: dict[str, _Subscription] = {}
        self._nonces = itertools.count(1)
        # Endpoints of the clusters the latest CDS pushes added or changed. Envoy keeps such a
        # cluster warming until they arrive, even unchanged, and routes to it fail meanwhile; so
        # the next EDS push carries them, before Envoy asks and before the routes that use them.
        self._endpoints_owed: frozenset[str] = frozenset()

    def on_request(
        self, request: discovery_pb2.DiscoveryRequest, snapshot: Snapshot | None
    ) -> list[discovery_pb2.DiscoveryResponse]:
        type_url = request.type_url
        subscription = self._subscriptions.get(type_url)
        if subscription is None:
            subscription = self._subscribe(request, snapshot)
        else:
            subscription.acks.answer(
                request.response_nonce, request.error_detail if request.HasField("error_detail") else None
            )
            if not subscription.acks.is_current(request.response_nonce):
                # Stale: a newer response is on its way, and the client will answer that one.
                return []
            subscription.wildcard, subscription.names = _requested(type_url, request.resource_names)
        if snapshot is None:
            return []
        return self._push_if_needed(type_url, snapshot.resources(type_url))

    def on_snapshot(self, snapshot: Snapshot) -> list[discovery_pb2.DiscoveryResponse]:
        responses: list[discovery_pb2.DiscoveryResponse] = []
        for type_url in in_push_order(self._subscriptions):
            responses += self._push_if_needed(
                type_url, snapshot.resources(type_url), keep_dropped=type_url in REMOVED_LAST
            )
        for type_url in in_push_order(self._subscriptions.keys() & REMOVED_LAST):
            responses += self._push_if_needed(type_url, snapshot.resources(type_url))
        return responses

    def types_status(self) -> dict[str, TypeStatus]:
        return {type_url: subscription.acks.status() for type_url, subscription in self._subscriptions.items()}

    def _subscribe(self, request: discovery_pb2.DiscoveryRequest, snapshot: Snapshot | None) -> _Subscription:
        type_url = request.type_url
        wildcard, names = _requested(type_url, request.resource_names)
        subscription = _Subscription(wildcard, names, AckTracker(node_id=self._node_id, type_url=type_url))
        self._subscriptions[type_url] = subscription
        if snapshot is not None and request.version_info and request.version_info == snapshot.version(type_url):
            # A client reconnecting with the version we serve already holds what we would send.
            subscription.sent = _wanted(subscription, snapshot.resources(type_url))
            subscription.acks.assume_acked(request.version_info)
        return subscription

    def _push_if_needed(
        self, type_url: str, resources: Resources, *, keep_dropped: bool = False
    ) -> list[discovery_pb2.DiscoveryResponse]:
        subscription = self._subscriptions[type_url]
        staged = _wanted(subscription, resources)
        if keep_dropped:
            staged = _keeping_dropped(staged, subscription.sent)
        owed = self._endpoints_owed & resources.items.keys() if type_url == ENDPOINT else frozenset()
        if owed:
            staged = resources.only(sorted(staged.items.keys() | owed))
        if not _needs_push(subscription.sent, staged, wildcard=subscription.wildcard, forced=bool(owed)):
            return []
        if type_url == CLUSTER:
            added_or_changed = _added_or_changed(subscription.sent, staged)
            self._endpoints_owed |= awaited_endpoints(staged.items[name] for name in added_or_changed)
        elif type_url == ENDPOINT:
            self._endpoints_owed = frozenset()
        nonce = str(next(self._nonces))
        subscription.sent = staged
        subscription.acks.sent(nonce, staged.version)
        return [
            discovery_pb2.DiscoveryResponse(
                version_info=staged.version,
                type_url=type_url,
                nonce=nonce,
                resources=[staged.items[name] for name in sorted(staged.items)],
            )
        ]
