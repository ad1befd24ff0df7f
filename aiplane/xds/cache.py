"""The current snapshot of every node group, and the streams watching them."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

from envoy.config.core.v3 import base_pb2

from aiplane.xds.snapshot import Snapshot
from aiplane.xds.status import StreamStatus


def node_group(node: base_pb2.Node) -> str:
    """Nodes of one Envoy cluster (`--service-cluster`, bootstrap `node.cluster`) share a snapshot."""
    return node.cluster or node.id


class Watcher(Protocol):
    """A connected stream, as the cache sees it."""

    def snapshot_changed(self) -> None:
        """Called on any thread after its group's snapshot was replaced; must not block."""

    @property
    def status(self) -> StreamStatus: ...


class SnapshotCache:
    """Snapshots by node group. `set_snapshot`, `get_snapshot` and `status` may be called from any thread."""

    def __init__(self, group_of: Callable[[base_pb2.Node], str] = node_group) -> None:
        self.group_of = group_of
        self._lock = threading.Lock()
        self._snapshots: dict[str, Snapshot] = {}
        self._watchers: dict[str, set[Watcher]] = {}

    def set_snapshot(self, group: str, snapshot: Snapshot) -> None:
        with self._lock:
            self._snapshots[group] = snapshot
            watchers = list(self._watchers.get(group, ()))
        for watcher in watchers:
            watcher.snapshot_changed()

    def get_snapshot(self, group: str) -> Snapshot | None:
        with self._lock:
            return self._snapshots.get(group)

    def status(self) -> list[StreamStatus]:
        """Every connected stream: its node, group, and per type what it was sent and answered."""
        with self._lock:
            watchers = [watcher for group in self._watchers.values() for watcher in group]
        return sorted((watcher.status for watcher in watchers), key=lambda status: (status.group, status.node_id))

    def acked_count(self, group: str) -> int:
        """How many streams of `group` have acknowledged its current snapshot for every type they use."""
        snapshot = self.get_snapshot(group)
        if snapshot is None:
            return 0
        return sum(
            bool(stream.types)
            and all(status.acked_version == snapshot.version(type_url) for type_url, status in stream.types.items())
            for stream in self.status()
            if stream.group == group
        )

    @contextmanager
    def watch(self, group: str, watcher: Watcher) -> Iterator[None]:
        """Keep `watcher` informed of `group`'s snapshot changes, and listed in `status`, while inside."""
        with self._lock:
            self._watchers.setdefault(group, set()).add(watcher)
        try:
            yield
        finally:
            with self._lock:
                watchers = self._watchers[group]
                watchers.discard(watcher)
                if not watchers:
                    del self._watchers[group]
