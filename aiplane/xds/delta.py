"""Incremental ADS (DeltaAggregatedResources): which responses one stream needs.

No I/O, like `sotw.py`. Per type, the stream knows what the client subscribed to and which
version of each resource it holds, and sends only the difference.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field

from envoy.service.discovery.v3 import discovery_pb2

from aiplane.xds.snapshot import Resources, Snapshot
from aiplane.xds.status import AckTracker, ProtocolName, TypeStatus
from aiplane.xds.types import CLUSTER, ENDPOINT, REMOVED_LAST, WILDCARD, awaited_endpoints, in_push_order


@dataclass
class _Subscription:
    wildcard: bool
    names: set[str]  # explicit subscriptions, remembered even before they exist
    acks: AckTracker
    # name -> version the client holds, as it reported or as we last sent it (rejected or not,
    # so a NACKed resource is sent again only when it changes).
    held: dict[str, str] = field(default_factory=dict)

    def covers(self, name: str) -> bool:
        return self.wildcard or name in self.names

    def update(self, subscribe: Iterable[str], unsubscribe: Iterable[str]) -> None:
        for name in subscribe:
            if name == WILDCARD:
                self.wildcard = True
            else:
                self.names.add(name)
        for name in unsubscribe:
            if name == WILDCARD:
                self.wildcard = False
            else:
                self.names.discard(name)
        # The client drops what it no longer subscribes to; it needs no removal for those.
        self.held = {name: version for name, version in self.held.items() if self.covers(name)}


def _changed(subscription: _Subscription, resources: Resources, owed: frozenset[str]) -> list[str]:
    """Names of covered resources the client lacks or holds at another version, and of those owed."""
    return [
        name
        for name in sorted(resources.items)
        if name in owed or (subscription.covers(name) and subscription.held.get(name) != resources.versions[name])
    ]


def _gone(subscription: _Subscription, resources: Resources) -> list[str]:
    return sorted(name for name in subscription.held if name not in resources.items)


class DeltaStream:
    """Protocol state of one incremental ADS stream."""

    protocol: ProtocolName = "delta"

    def __init__(self, node_id: str) -> None:
        self._node_id = node_id
        self._subscriptions: dict[str, _Subscription] = {}
        self._nonces = itertools.count(1)
        # As in SotW: endpoints of added or changed clusters go with the next EDS push, whether the
        # client holds them or has yet to subscribe to them.
        self._endpoints_owed: frozenset[str] = frozenset()

    def on_request(
        self, request: discovery_pb2.DeltaDiscoveryRequest, snapshot: Snapshot | None
    ) -> list[discovery_pb2.DeltaDiscoveryResponse]:
        type_url = request.type_url
        subscription = self._subscriptions.get(type_url)
        if subscription is None:
            subscribe = list(request.resource_names_subscribe)
            subscription = _Subscription(
                # The first request subscribing to nothing is a wildcard subscription.
                wildcard=not subscribe or WILDCARD in subscribe,
                names=set(subscribe) - {WILDCARD},
                acks=AckTracker(node_id=self._node_id, type_url=type_url),
                held=dict(request.initial_resource_versions),
            )
            self._subscriptions[type_url] = subscription
        else:
            # Subscriptions count even on a stale nonce: the client will not repeat them.
            subscription.update(request.resource_names_subscribe, request.resource_names_unsubscribe)
            subscription.acks.answer(
                request.response_nonce, request.error_detail if request.HasField("error_detail") else None
            )
        if snapshot is None:
            return []
        resources = snapshot.resources(type_url)
        return self._respond(type_url, resources, self._changed(type_url, resources), _gone(subscription, resources))

    def on_snapshot(self, snapshot: Snapshot) -> list[discovery_pb2.DeltaDiscoveryResponse]:
        responses: list[discovery_pb2.DeltaDiscoveryResponse] = []
        for type_url in in_push_order(self._subscriptions):
            resources = snapshot.resources(type_url)
            removed = [] if type_url in REMOVED_LAST else _gone(self._subscriptions[type_url], resources)
            responses += self._respond(type_url, resources, self._changed(type_url, resources), removed)
        for type_url in in_push_order(self._subscriptions.keys() & REMOVED_LAST):
            resources = snapshot.resources(type_url)
            responses += self._respond(type_url, resources, [], _gone(self._subscriptions[type_url], resources))
        return responses

    def types_status(self) -> dict[str, TypeStatus]:
        return {type_url: subscription.acks.status() for type_url, subscription in self._subscriptions.items()}

    def _changed(self, type_url: str, resources: Resources) -> list[str]:
        owed = self._endpoints_owed if type_url == ENDPOINT else frozenset()
        return _changed(self._subscriptions[type_url], resources, owed)

    def _respond(
        self, type_url: str, resources: Resources, changed: list[str], removed: list[str]
    ) -> list[discovery_pb2.DeltaDiscoveryResponse]:
        if not changed and not removed:
            return []
        subscription = self._subscriptions[type_url]
        if type_url == CLUSTER:
            self._endpoints_owed |= awaited_endpoints(resources.items[name] for name in changed)
        elif type_url == ENDPOINT and changed:
            self._endpoints_owed = frozenset()
        for name in changed:
            subscription.held[name] = resources.versions[name]
        for name in removed:
            del subscription.held[name]
        nonce = str(next(self._nonces))
        subscription.acks.sent(nonce, resources.version)
        return [
            discovery_pb2.DeltaDiscoveryResponse(
                system_version_info=resources.version,
                type_url=type_url,
                nonce=nonce,
                resources=[
                    discovery_pb2.Resource(name=name, version=resources.versions[name], resource=resources.items[name])
                    for name in changed
                ],
                removed_resources=removed,
            )
        ]
