"""aiplane's xDS control plane: versioned snapshots served over ADS (state-of-the-world and delta)."""

from aiplane.xds.bootstrap import render_bootstrap
from aiplane.xds.cache import SnapshotCache, node_group
from aiplane.xds.server import XdsServer, start_xds_server
from aiplane.xds.snapshot import ResourceInput, Snapshot
from aiplane.xds.status import Nack, StreamStatus, TypeStatus
from aiplane.xds.types import CLUSTER, ENDPOINT, LISTENER, POLICY, ROUTE, SECRET

__all__ = [
    "CLUSTER",
    "ENDPOINT",
    "LISTENER",
    "POLICY",
    "ROUTE",
    "SECRET",
    "Nack",
    "ResourceInput",
    "Snapshot",
    "SnapshotCache",
    "StreamStatus",
    "TypeStatus",
    "XdsServer",
    "node_group",
    "render_bootstrap",
    "start_xds_server",
]
