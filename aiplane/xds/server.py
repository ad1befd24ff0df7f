"""The ADS gRPC service: a thin async shell around the protocol state of each stream.

A stream's inbox holds, in arrival order, the client's requests and "snapshot changed" marks.
One loop takes them one at a time, asks the protocol state (`sotw.py`, `delta.py`) what to send,
and writes it. Requests are always answered against the snapshot the stream last pushed, so a
request that overtakes a snapshot change cannot get new routes before their new clusters.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import grpc
import structlog
from envoy.service.discovery.v3 import ads_pb2_grpc, discovery_pb2

from aiplane.xds.cache import SnapshotCache
from aiplane.xds.delta import DeltaStream
from aiplane.xds.snapshot import Snapshot
from aiplane.xds.sotw import SotwStream
from aiplane.xds.status import ProtocolName, StreamStatus, TypeStatus

log = structlog.get_logger(__name__)

Request = TypeVar("Request", discovery_pb2.DiscoveryRequest, discovery_pb2.DeltaDiscoveryRequest)
Response = TypeVar("Response", discovery_pb2.DiscoveryResponse, discovery_pb2.DeltaDiscoveryResponse)


class _ProtocolState(Protocol[Request, Response]):
    protocol: ProtocolName

    def on_request(self, request: Request, snapshot: Snapshot | None) -> list[Response]: ...

    def on_snapshot(self, snapshot: Snapshot) -> list[Response]: ...

    def types_status(self) -> dict[str, TypeStatus]: ...


_SNAPSHOT_CHANGED = object()
_CLOSED = object()  # the client ended its side of the stream


class _Connection:
    """A stream as the cache sees it: told of snapshot changes, showing its latest status."""

    def __init__(self, inbox: asyncio.Queue[Any], status: StreamStatus) -> None:
        self._loop = asyncio.get_running_loop()
        self._inbox = inbox
        self._change_queued = False
        self.status = status

    def snapshot_changed(self) -> None:
        self._loop.call_soon_threadsafe(self._queue_change)

    def _queue_change(self) -> None:
        # Changes coalesce: the loop always reads the latest snapshot when it gets to the mark.
        if not self._change_queued:
            self._change_queued = True
            self._inbox.put_nowait(_SNAPSHOT_CHANGED)

    async def next_event(self) -> Any:
        event = await self._inbox.get()
        if event is _SNAPSHOT_CHANGED:
            self._change_queued = False
        return event


async def _pump(requests: AsyncIterator[Any], inbox: asyncio.Queue[Any]) -> None:
    try:
        async for request in requests:
            inbox.put_nowait(request)
    finally:
        inbox.put_nowait(_CLOSED)


async def _serve(
    cache: SnapshotCache,
    requests: AsyncIterator[Request],
    new_state: Callable[[str], _ProtocolState[Request, Response]],
    write: Callable[[Response], Awaitable[None]],
) -> None:
    inbox: asyncio.Queue[Any] = asyncio.Queue()
    pump = asyncio.create_task(_pump(requests, inbox))
    try:
        first = await inbox.get()
        if first is not _CLOSED:
            await _converse(cache, first, inbox, new_state(first.node.id), write)
    finally:
        pump.cancel()
        # Surface a failure to read the stream instead of losing it with the task.
        with contextlib.suppress(asyncio.CancelledError):
            await pump


async def _converse(
    cache: SnapshotCache,
    first: Request,
    inbox: asyncio.Queue[Any],
    state: _ProtocolState[Request, Response],
    write: Callable[[Response], Awaitable[None]],
) -> None:
    """Serve one client: its requests and its group's snapshot changes, one at a time in arrival order."""
    node = first.node  # Envoy sets the node on the first request only
    group = cache.group_of(node)
    connection = _Connection(inbox, StreamStatus(node.id, group, state.protocol, {}))
    stream_log = log.bind(node_id=node.id, group=group, protocol=state.protocol)
    with cache.watch(group, connection):
        stream_log.info("xds.stream.open")
        snapshot = cache.get_snapshot(group)
        event: Any = first
        try:
            while event is not _CLOSED:
                if event is _SNAPSHOT_CHANGED:
                    snapshot = cache.get_snapshot(group)
                    assert snapshot is not None  # changes only ever set a snapshot
                    responses = state.on_snapshot(snapshot)
                else:
                    responses = state.on_request(event, snapshot)
                connection.status = StreamStatus(node.id, group, state.protocol, state.types_status())
                for response in responses:
                    await write(response)
                event = await connection.next_event()
        finally:
            stream_log.info("xds.stream.closed")


class AggregatedDiscoveryService(ads_pb2_grpc.AggregatedDiscoveryServiceServicer):
    """Both ADS variants, served from one snapshot cache. Responses go out through `context.write`."""

    def __init__(self, cache: SnapshotCache) -> None:
        self._cache = cache

    async def StreamAggregatedResources(  # noqa: N802 (gRPC's method name)
        self, request_iterator: AsyncIterator[discovery_pb2.DiscoveryRequest], context: grpc.aio.ServicerContext
    ) -> None:
        await _serve(self._cache, request_iterator, SotwStream, context.write)

    async def DeltaAggregatedResources(  # noqa: N802 (gRPC's method name)
        self, request_iterator: AsyncIterator[discovery_pb2.DeltaDiscoveryRequest], context: grpc.aio.ServicerContext
    ) -> None:
        await _serve(self._cache, request_iterator, DeltaStream, context.write)


@dataclass(frozen=True)
class XdsServer:
    """A started xDS server and the port it is bound to (useful when asked for port 0)."""

    grpc_server: grpc.aio.Server
    host: str
    port: int

    async def stop(self, grace: float | None = None) -> None:
        await self.grpc_server.stop(grace)


# The bootstrap's HTTP/2 keepalive pings every 30 s. With gRPC's default (at most one ping per
# 5 minutes without data) the server answered GOAWAY "too many pings" and reset an idle Envoy's
# ADS stream after about 2 minutes.
_SERVER_OPTIONS = [("grpc.http2.min_ping_interval_without_data_ms", 10_000)]


async def start_xds_server(cache: SnapshotCache, host: str = "127.0.0.1", port: int = 0) -> XdsServer:
    """Serve ADS for `cache` on host:port (port 0 picks a free port: read `XdsServer.port`)."""
    server = grpc.aio.server(options=_SERVER_OPTIONS)
    ads_pb2_grpc.add_AggregatedDiscoveryServiceServicer_to_server(AggregatedDiscoveryService(cache), server)
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    bound = server.add_insecure_port(address)
    await server.start()
    log.info("xds.server.started", host=host, port=bound)
    return XdsServer(server, host, bound)
