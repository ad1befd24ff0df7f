"""The xDS protocol, driven through fake streams: requests in through a queue, responses out into a list."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import Any

import pytest
import structlog
from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.core.v3 import base_pb2
from envoy.config.endpoint.v3 import endpoint_pb2
from envoy.config.listener.v3 import listener_pb2
from envoy.config.route.v3 import route_pb2
from envoy.service.discovery.v3 import discovery_pb2
from google.protobuf import any_pb2
from google.protobuf.message import Message
from google.rpc import status_pb2

from aiplane.xds import (
    CLUSTER,
    ENDPOINT,
    LISTENER,
    POLICY,
    ROUTE,
    Nack,
    Snapshot,
    SnapshotCache,
    node_group,
)
from aiplane.xds.server import AggregatedDiscoveryService
from aiplane.xds.types import awaited_endpoints

NODE = base_pb2.Node(id="envoy-1", cluster="edge")
GROUP = "edge"

# ---------------------------------------------------------------- resources


def cluster(name: str, timeout_ms: int = 1000) -> cluster_pb2.Cluster:
    message = cluster_pb2.Cluster(name=name, type=cluster_pb2.Cluster.EDS)
    message.connect_timeout.FromMilliseconds(timeout_ms)
    return message


def endpoints(name: str, port: int = 8080) -> endpoint_pb2.ClusterLoadAssignment:
    message = endpoint_pb2.ClusterLoadAssignment(cluster_name=name)
    address = message.endpoints.add().lb_endpoints.add().endpoint.address.socket_address
    address.address, address.port_value = "127.0.0.1", port
    return message


def listener(name: str, port: int = 10000) -> listener_pb2.Listener:
    message = listener_pb2.Listener(name=name)
    message.address.socket_address.address, message.address.socket_address.port_value = "127.0.0.1", port
    return message


def route(name: str, to_cluster: str = "a") -> route_pb2.RouteConfiguration:
    message = route_pb2.RouteConfiguration(name=name)
    entry = message.virtual_hosts.add(name="all", domains=["*"]).routes.add()
    entry.match.prefix, entry.route.cluster = "/", to_cluster
    return message


def type_url_of(message: Message) -> str:
    return "type.googleapis.com/" + message.DESCRIPTOR.full_name


def snapshot(*messages: Message) -> Snapshot:
    by_type: dict[str, list[Message]] = {}
    for message in messages:
        by_type.setdefault(type_url_of(message), []).append(message)
    return Snapshot.build(by_type)


# The config most tests start from: two clusters, their endpoints, a listener and its routes.
BASE = (cluster("a"), cluster("b"), endpoints("a"), endpoints("b"), listener("main"), route("routes"))

_MESSAGE_CLASSES = {
    CLUSTER: cluster_pb2.Cluster,
    ENDPOINT: endpoint_pb2.ClusterLoadAssignment,
    LISTENER: listener_pb2.Listener,
    ROUTE: route_pb2.RouteConfiguration,
}


def names_in(response: discovery_pb2.DiscoveryResponse | discovery_pb2.DeltaDiscoveryResponse) -> list[str]:
    if isinstance(response, discovery_pb2.DeltaDiscoveryResponse):
        return [resource.name for resource in response.resources]
    found = []
    for packed in response.resources:
        message = _MESSAGE_CLASSES[packed.type_url]()
        packed.Unpack(message)
        found.append(getattr(message, "cluster_name" if packed.type_url == ENDPOINT else "name"))
    return found


# ---------------------------------------------------------------- requests


def rejection(detail: str) -> status_pb2.Status:
    return status_pb2.Status(code=3, message=detail)


def sotw(
    type_url: str,
    names: Iterable[str] = (),
    *,
    version: str = "",
    nonce: str = "",
    error: status_pb2.Status | None = None,
    node: base_pb2.Node | None = None,
) -> discovery_pb2.DiscoveryRequest:
    request = discovery_pb2.DiscoveryRequest(
        type_url=type_url, resource_names=list(names), version_info=version, response_nonce=nonce
    )
    if node is not None:
        request.node.CopyFrom(node)
    if error is not None:
        request.error_detail.CopyFrom(error)
    return request


def ack(response: discovery_pb2.DiscoveryResponse, names: Iterable[str] = ()) -> discovery_pb2.DiscoveryRequest:
    return sotw(response.type_url, names, version=response.version_info, nonce=response.nonce)


def delta(
    type_url: str,
    subscribe: Iterable[str] = (),
    *,
    unsubscribe: Iterable[str] = (),
    nonce: str = "",
    initial_versions: Mapping[str, str] | None = None,
    error: status_pb2.Status | None = None,
    node: base_pb2.Node | None = None,
) -> discovery_pb2.DeltaDiscoveryRequest:
    request = discovery_pb2.DeltaDiscoveryRequest(
        type_url=type_url,
        resource_names_subscribe=list(subscribe),
        resource_names_unsubscribe=list(unsubscribe),
        response_nonce=nonce,
        initial_resource_versions=dict(initial_versions or {}),
    )
    if node is not None:
        request.node.CopyFrom(node)
    if error is not None:
        request.error_detail.CopyFrom(error)
    return request


# ---------------------------------------------------------------- fake streams


async def settle() -> None:
    """Let the server's tasks run until they wait for the next request (no real I/O is involved)."""
    for _ in range(20):
        await asyncio.sleep(0)


class FakeStream:
    """One client's ADS stream: `send` queues a request and returns what the server answered.

    It is also the servicer context, the server writing its responses through `write`.
    """

    def __init__(self, rpc: Callable[[AsyncIterator[Any], Any], Awaitable[None]]) -> None:
        self._requests: asyncio.Queue[Any] = asyncio.Queue()
        self.responses: list[Any] = []
        self._task = asyncio.create_task(rpc(self._request_stream(), self))

    async def _request_stream(self) -> AsyncIterator[Any]:
        while (request := await self._requests.get()) is not None:
            yield request

    async def write(self, response: Any) -> None:
        self.responses.append(response)

    async def send(self, request: Any) -> list[Any]:
        return await self.after(lambda: self._requests.put_nowait(request))

    async def after(self, action: Callable[[], None]) -> list[Any]:
        """What the server sends once `action` (a request, a new snapshot) has been handled."""
        seen = len(self.responses)
        action()
        await settle()
        return self.responses[seen:]

    async def close(self) -> None:
        self._requests.put_nowait(None)
        await asyncio.wait_for(self._task, 1)


async def publish(cache: SnapshotCache, stream: FakeStream, new: Snapshot) -> list[Any]:
    """What `stream` is sent when its group's snapshot becomes `new`."""
    return await stream.after(lambda: cache.set_snapshot(GROUP, new))


def scenario(body: Callable[[SnapshotCache, AggregatedDiscoveryService], Awaitable[None]]) -> None:
    cache = SnapshotCache()
    asyncio.run(body(cache, AggregatedDiscoveryService(cache)))


def sotw_stream(service: AggregatedDiscoveryService) -> FakeStream:
    return FakeStream(service.StreamAggregatedResources)


def delta_stream(service: AggregatedDiscoveryService) -> FakeStream:
    return FakeStream(service.DeltaAggregatedResources)


async def subscribe_all_sotw(stream: FakeStream) -> dict[str, discovery_pb2.DiscoveryResponse]:
    """Subscribe like Envoy: CDS, then EDS for the clusters, LDS, then RDS for the listener; ACK each."""
    latest = {}
    for request in (
        sotw(CLUSTER, node=NODE),
        sotw(ENDPOINT, ["a", "b"]),
        sotw(LISTENER),
        sotw(ROUTE, ["routes"]),
    ):
        (response,) = await stream.send(request)
        latest[response.type_url] = response
        assert await stream.send(ack(response, request.resource_names)) == []
    return latest


# ---------------------------------------------------------------- snapshots


def test_versions_derive_from_content_not_from_build_order() -> None:
    first = snapshot(cluster("a"), cluster("b"))
    same = snapshot(cluster("b"), cluster("a"))
    changed = snapshot(cluster("a"), cluster("b", timeout_ms=2000))
    assert first.version(CLUSTER) == same.version(CLUSTER)
    assert first.version(CLUSTER) != changed.version(CLUSTER)
    assert first.resources(CLUSTER).versions["a"] == changed.resources(CLUSTER).versions["a"]
    assert first.resources(CLUSTER).versions["b"] != changed.resources(CLUSTER).versions["b"]


def test_a_type_absent_from_the_snapshot_is_empty_with_a_stable_version() -> None:
    assert dict(snapshot(cluster("a")).resources(LISTENER).items) == {}
    assert snapshot(cluster("a")).version(LISTENER) == snapshot(cluster("b")).version(LISTENER)


def test_a_ready_any_is_given_with_its_name() -> None:
    policy = any_pb2.Any(type_url=POLICY, value=b'{"version": "v1"}')
    built = Snapshot.build({POLICY: [("default", policy)]})
    assert built.resources(POLICY).items["default"].value == b'{"version": "v1"}'


def test_build_rejects_a_resource_listed_under_another_type() -> None:
    with pytest.raises(ValueError, match="listed under"):
        Snapshot.build({LISTENER: [cluster("a")]})


def test_build_rejects_two_resources_with_one_name() -> None:
    with pytest.raises(ValueError, match="two .* named 'a'"):
        Snapshot.build({CLUSTER: [cluster("a"), cluster("a", timeout_ms=5)]})


def test_a_cluster_awaits_the_endpoints_named_by_its_eds_service_name() -> None:
    renamed = cluster("a")
    renamed.eds_cluster_config.service_name = "a-endpoints"
    static = cluster_pb2.Cluster(name="s", type=cluster_pb2.Cluster.STATIC)
    packed = Snapshot.build({CLUSTER: [renamed, static, cluster("b")]}).resources(CLUSTER).items.values()
    assert awaited_endpoints(packed) == {"a-endpoints", "b"}


def test_nodes_are_grouped_by_cluster_then_by_id() -> None:
    assert node_group(base_pb2.Node(id="envoy-1", cluster="edge")) == "edge"
    assert node_group(base_pb2.Node(id="envoy-1")) == "envoy-1"


# ---------------------------------------------------------------- state of the world


def test_sotw_subscription_serves_every_type_and_pushes_changes_in_order() -> None:
    async def body(cache: SnapshotCache, service: AggregatedDiscoveryService) -> None:
        cache.set_snapshot(GROUP, snapshot(*BASE))
        stream = sotw_stream(service)
        # Subscribed in reverse to show that pushes follow CDS, EDS, LDS, RDS, not subscription order.
        for request in (sotw(ROUTE, ["routes"], node=NODE), sotw(LISTENER), sotw(ENDPOINT, ["a", "b"]), sotw(CLUSTER)):
            (response,) = await stream.send(request)
            assert response.version_info == cache.get_snapshot(GROUP).version(request.type_url)
            await stream.send(ack(response, request.resource_names))
        changed = snapshot(
            cluster("a", 5), cluster("b"), endpoints("a", 9), endpoints("b"), listener("main", 2), route("routes", "b")
        )
        pushed = await publish(cache, stream, changed)
        assert [response.type_url for response in pushed] == [CLUSTER, ENDPOINT, LISTENER, ROUTE]
        assert [names_in(response) for response in pushed] == [["a", "b"], ["a", "b"], ["main"], ["routes"]]
        await stream.close()

    scenario(body)


def test_sotw_ack_records_the_version_and_sends_nothing() -> None:
    async def body(cache: SnapshotCache, service: AggregatedDiscoveryService) -> None:
        cache.set_snapshot(GROUP, snapshot(*BASE))
        stream = sotw_stream(service)
        (response,) = await stream.send(sotw(CLUSTER, node=NODE))
        assert cache.status()[0].types[CLUSTER].acked_version is None
        assert await stream.send(ack(response)) == []
        (status,) = cache.status()
        assert (status.node_id, status.group, status.protocol) == ("envoy-1", "edge", "sotw")
        assert status.types[CLUSTER].sent_version == status.types[CLUSTER].acked_version == response.version_info
        assert cache.acked_count(GROUP) == 1
        cache.set_snapshot(GROUP, snapshot(cluster("c")))
        assert cache.acked_count(GROUP) == 0
        await stream.close()
        assert cache.status() == []

    scenario(body)


def test_sotw_nack_is_logged_recorded_and_not_answered_until_the_snapshot_changes() -> None:
    async def body(cache: SnapshotCache, service: AggregatedDiscoveryService) -> None:
        cache.set_snapshot(GROUP, snapshot(*BASE))
        stream = sotw_stream(service)
        good = (await subscribe_all_sotw(stream))[LISTENER]
        bad = snapshot(*BASE[:4], listener("main", 1), route("routes"))
        (rejected,) = await publish(cache, stream, bad)
        with structlog.testing.capture_logs() as logs:
            # Recognised by error_detail, even though this request names the rejected version.
            nack = sotw(LISTENER, version=rejected.version_info, nonce=rejected.nonce, error=rejection("port 1 denied"))
            assert await stream.send(nack) == []
            # Envoy repeats its request; the rejected version is not sent again.
            assert await stream.send(sotw(LISTENER, version=good.version_info, nonce=rejected.nonce)) == []
        assert logs == [
            {
                "event": "xds.nack",
                "log_level": "warning",
                "node_id": "envoy-1",
                "type_url": LISTENER,
                "version": rejected.version_info,
                "detail": "port 1 denied",
                "code": 3,
            }
        ]
        listeners = cache.status()[0].types[LISTENER]
        assert listeners.acked_version == good.version_info
        assert listeners.last_nack == Nack(version=rejected.version_info, detail="port 1 denied")
        # A snapshot that leaves listeners as they were (routes change) sends no listener either.
        unchanged = await publish(cache, stream, snapshot(*BASE[:4], listener("main", 1), route("routes", "b")))
        assert [response.type_url for response in unchanged] == [ROUTE]
        fixed = snapshot(*BASE[:4], listener("main", 10001), route("routes", "b"))
        (resent,) = await publish(cache, stream, fixed)
        assert (resent.type_url, resent.version_info) == (LISTENER, fixed.version(LISTENER))
        await stream.close()

    scenario(body)


def test_sotw_request_with_a_stale_nonce_is_ignored() -> None:
    async def body(cache: SnapshotCache, service: AggregatedDiscoveryService) -> None:
        cache.set_snapshot(GROUP, snapshot(*BASE))
        stream = sotw_stream(service)
        await stream.send(sotw(CLUSTER, node=NODE))
        (first,) = await stream.send(sotw(ENDPOINT, ["a"]))
        (second,) = await publish(cache, stream, snapshot(*BASE[:2], endpoints("a", 2), *BASE[3:]))
        # Answers `first`, which `second` superseded: the name it adds is ignored (Envoy asks again
        # when it answers `second`); what it says of `first` is still recorded.
        assert await stream.send(ack(first, ["a", "b"])) == []
        endpoint_status = cache.status()[0].types[ENDPOINT]
        assert (endpoint_status.sent_version, endpoint_status.acked_version) == (second.version_info, first.version_info)
        (third,) = await publish(cache, stream, snapshot(*BASE[:2], endpoints("a", 3), *BASE[3:]))
        assert names_in(third) == ["a"]
        await stream.close()

    scenario(body)


def test_sotw_reconnect_with_the_current_version_gets_nothing_again() -> None:
    async def body(cache: SnapshotCache, service: AggregatedDiscoveryService) -> None:
        current = snapshot(*BASE)
        cache.set_snapshot(GROUP, current)
        stream = sotw_stream(service)
        assert await stream.send(sotw(CLUSTER, version=current.version(CLUSTER), node=NODE)) == []
        assert await stream.send(sotw(ENDPOINT, ["a", "b"], version=current.version(ENDPOINT))) == []
        assert cache.status()[0].types[CLUSTER].acked_version == current.version(CLUSTER)
        # A client holding an older version is brought up to date.
        (response,) = await stream.send(sotw(LISTENER, version="0123456789abcdef"))
        assert response.version_info == current.version(LISTENER)
        await stream.close()

    scenario(body)


def test_sotw_names_requested_before_they_exist_are_pushed_when_they_appear() -> None:
    async def body(cache: SnapshotCache, service: AggregatedDiscoveryService) -> None:
        cache.set_snapshot(GROUP, snapshot(cluster("a"), endpoints("a")))
        stream = sotw_stream(service)
        await stream.send(sotw(CLUSTER, node=NODE))
        (response,) = await stream.send(sotw(ENDPOINT, ["a", "b"]))
        assert names_in(response) == ["a"]
        assert await stream.send(ack(response, ["a", "b"])) == []
        pushed = await publish(cache, stream, snapshot(cluster("a"), endpoints("a"), endpoints("b")))
        assert [(response.type_url, names_in(response)) for response in pushed] == [(ENDPOINT, ["a", "b"])]
        await stream.close()

    scenario(body)


def test_sotw_newly_requested_names_are_sent_at_the_same_version() -> None:
    async def body(cache: SnapshotCache, service: AggregatedDiscoveryService) -> None:
        cache.set_snapshot(GROUP, snapshot(*BASE))
        stream = sotw_stream(service)
        (first,) = await stream.send(sotw(ENDPOINT, ["a"], node=NODE))
        (second,) = await stream.send(ack(first, ["a", "b"]))
        assert (names_in(second), second.version_info) == (["a", "b"], first.version_info)
        await stream.close()

    scenario(body)


def test_sotw_nothing_is_sent_before_the_group_has_a_snapshot() -> None:
    async def body(cache: SnapshotCache, service: AggregatedDiscoveryService) -> None:
        stream = sotw_stream(service)
        assert await stream.send(sotw(CLUSTER, node=NODE)) == []
        assert await stream.after(lambda: cache.set_snapshot("another-group", snapshot(*BASE))) == []
        pushed = await publish(cache, stream, snapshot(*BASE))
        assert [(response.type_url, names_in(response)) for response in pushed] == [(CLUSTER, ["a", "b"])]
        await stream.close()

    scenario(body)


def test_sotw_endpoints_are_sent_again_after_clusters_change() -> None:
    async def body(cache: SnapshotCache, service: AggregatedDiscoveryService) -> None:
        cache.set_snapshot(GROUP, snapshot(*BASE))
        stream = sotw_stream(service)
        before = await subscribe_all_sotw(stream)
        pushed = await publish(cache, stream, snapshot(cluster("a", 5), *BASE[1:]))
        assert [response.type_url for response in pushed] == [CLUSTER, ENDPOINT]
        assert pushed[1].version_info == before[ENDPOINT].version_info  # unchanged, sent anyway
        assert names_in(pushed[1]) == ["a", "b"]
        assert pushed[1].nonce != before[ENDPOINT].nonce
        await stream.close()

    scenario(body)


def test_sotw_clusters_are_removed_only_after_routes_moved_off_them() -> None:
    async def body(cache: SnapshotCache, service: AggregatedDiscoveryService) -> None:
        cache.set_snapshot(GROUP, snapshot(*BASE))
        stream = sotw_stream(service)
        await subscribe_all_sotw(stream)
        moved = snapshot(
            cluster("a"), cluster("c"), endpoints("a"), endpoints("c"), listener("main"), route("routes", "c")
        )
        pushed = await publish(cache, stream, moved)
        assert [(response.type_url, names_in(response)) for response in pushed] == [
            (CLUSTER, ["a", "b", "c"]),  # c added, b still there for the routes in use
            (ENDPOINT, ["a", "c"]),  # c's endpoints before Envoy asks, so c is warm before routes use it
            (ROUTE, ["routes"]),
            (CLUSTER, ["a", "c"]),
        ]
        assert pushed[-1].version_info == moved.version(CLUSTER)
        assert pushed[0].version_info not in (moved.version(CLUSTER), snapshot(*BASE).version(CLUSTER))
        await stream.close()

    scenario(body)


# ---------------------------------------------------------------- delta


async def delta_response(
    stream: FakeStream, request: discovery_pb2.DeltaDiscoveryRequest
) -> discovery_pb2.DeltaDiscoveryResponse:
    """The one response to `request`, then ACKed."""
    (response,) = await stream.send(request)
    assert await stream.send(delta(response.type_url, nonce=response.nonce)) == []
    return response


def test_delta_wildcard_and_named_subscriptions() -> None:
    async def body(cache: SnapshotCache, service: AggregatedDiscoveryService) -> None:
        current = snapshot(*BASE, route("other"))
        cache.set_snapshot(GROUP, current)
        stream = delta_stream(service)
        clusters = await delta_response(stream, delta(CLUSTER, node=NODE))
        assert [(resource.name, resource.version) for resource in clusters.resources] == [
            ("a", current.resources(CLUSTER).versions["a"]),
            ("b", current.resources(CLUSTER).versions["b"]),
        ]
        assert clusters.system_version_info == current.version(CLUSTER)
        assert names_in(await delta_response(stream, delta(ROUTE, ["routes"]))) == ["routes"]
        (status,) = cache.status()
        assert status.protocol == "delta"
        assert status.types[CLUSTER].acked_version == current.version(CLUSTER)
        await stream.close()

    scenario(body)


def test_delta_sends_only_changed_resources_and_removals() -> None:
    async def body(cache: SnapshotCache, service: AggregatedDiscoveryService) -> None:
        cache.set_snapshot(GROUP, snapshot(listener("one", 1), listener("two", 2), listener("three", 3)))
        stream = delta_stream(service)
        await delta_response(stream, delta(LISTENER, node=NODE))
        changed = snapshot(listener("one", 1), listener("two", 20), listener("four", 4))
        (response,) = await publish(cache, stream, changed)
        assert names_in(response) == ["four", "two"]
        assert list(response.removed_resources) == ["three"]
        await stream.close()

    scenario(body)


def test_delta_unsubscribed_names_are_no_longer_sent_and_resubscribing_sends_them_again() -> None:
    async def body(cache: SnapshotCache, service: AggregatedDiscoveryService) -> None:
        cache.set_snapshot(GROUP, snapshot(*BASE))
        stream = delta_stream(service)
        first = await delta_response(stream, delta(ENDPOINT, ["a", "b"], node=NODE))
        assert names_in(first) == ["a", "b"]
        assert await stream.send(delta(ENDPOINT, unsubscribe=["b"], nonce=first.nonce)) == []
        # The client dropped b when it unsubscribed, so b comes again, though unchanged.
        again = await delta_response(stream, delta(ENDPOINT, ["b"], nonce=first.nonce))
        assert names_in(again) == ["b"]
        assert await stream.send(delta(ENDPOINT, unsubscribe=["b"], nonce=again.nonce)) == []
        changed = snapshot(*BASE[:2], endpoints("a", 2), endpoints("b", 2))
        (pushed,) = await publish(cache, stream, changed)
        assert names_in(pushed) == ["a"]
        await stream.close()

    scenario(body)


def test_delta_subscription_on_a_stale_nonce_is_honoured() -> None:
    async def body(cache: SnapshotCache, service: AggregatedDiscoveryService) -> None:
        cache.set_snapshot(GROUP, snapshot(*BASE))
        stream = delta_stream(service)
        (first,) = await stream.send(delta(ENDPOINT, ["a"], node=NODE))
        superseding = await publish(cache, stream, snapshot(*BASE[:2], endpoints("a", 2), *BASE[3:]))
        assert len(superseding) == 1
        (response,) = await stream.send(delta(ENDPOINT, ["b"], nonce=first.nonce))
        assert names_in(response) == ["b"]
        await stream.close()

    scenario(body)


def test_delta_initial_resource_versions_are_respected() -> None:
    async def body(cache: SnapshotCache, service: AggregatedDiscoveryService) -> None:
        current = snapshot(*BASE)
        cache.set_snapshot(GROUP, current)
        stream = delta_stream(service)
        held = {"a": current.resources(CLUSTER).versions["a"], "b": "0123456789abcdef", "gone": "0123456789abcdef"}
        (response,) = await stream.send(delta(CLUSTER, initial_versions=held, node=NODE))
        assert names_in(response) == ["b"]
        assert list(response.removed_resources) == ["gone"]
        await stream.close()

    scenario(body)


def test_delta_nack_is_recorded_and_the_resource_not_resent_until_it_changes() -> None:
    async def body(cache: SnapshotCache, service: AggregatedDiscoveryService) -> None:
        cache.set_snapshot(GROUP, snapshot(listener("one", 1), listener("two", 2)))
        stream = delta_stream(service)
        await delta_response(stream, delta(LISTENER, node=NODE))
        bad = snapshot(listener("one", 2), listener("two", 2))
        (rejected,) = await publish(cache, stream, bad)
        with structlog.testing.capture_logs() as logs:
            assert await stream.send(delta(LISTENER, nonce=rejected.nonce, error=rejection("duplicate address"))) == []
        assert [(log["event"], log["version"]) for log in logs] == [("xds.nack", bad.version(LISTENER))]
        assert cache.status()[0].types[LISTENER].last_nack == Nack(bad.version(LISTENER), "duplicate address")
        (fixed,) = await publish(cache, stream, snapshot(listener("one", 3), listener("two", 2)))
        assert names_in(fixed) == ["one"]
        await stream.close()

    scenario(body)


def test_delta_clusters_are_removed_last_and_endpoints_resent_after_cluster_changes() -> None:
    async def body(cache: SnapshotCache, service: AggregatedDiscoveryService) -> None:
        cache.set_snapshot(GROUP, snapshot(*BASE))
        stream = delta_stream(service)
        await delta_response(stream, delta(CLUSTER, node=NODE))
        await delta_response(stream, delta(ENDPOINT, ["a", "b"]))
        await delta_response(stream, delta(ROUTE, ["routes"]))
        moved = snapshot(cluster("a", 5), cluster("c"), endpoints("a"), endpoints("c"), route("routes", "c"))
        pushed = await publish(cache, stream, moved)
        assert [(response.type_url, names_in(response), list(response.removed_resources)) for response in pushed] == [
            (CLUSTER, ["a", "c"], []),
            # a's endpoints are unchanged but follow its cluster change; c's come before Envoy asks.
            (ENDPOINT, ["a", "c"], ["b"]),
            (ROUTE, ["routes"], []),
            (CLUSTER, [], ["b"]),
        ]
        # Envoy then subscribes to c's endpoints, which it already has.
        assert await stream.send(delta(ENDPOINT, ["c"], nonce=pushed[1].nonce)) == []
        await stream.close()

    scenario(body)
