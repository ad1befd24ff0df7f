"""The resource types aiplane serves over ADS, the order they are pushed in, and what waits on what."""

from __future__ import annotations

from collections.abc import Iterable

from envoy.config.cluster.v3 import cluster_pb2
from google.protobuf import any_pb2

CLUSTER = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
ENDPOINT = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
LISTENER = "type.googleapis.com/envoy.config.listener.v3.Listener"
ROUTE = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
SECRET = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"
# aiplane's own type: the policy for the ext_proc workers, an Any whose value is the policy's JSON.
POLICY = "type.googleapis.com/aiplane.v1.Policy"

# Envoy's update sequencing: a cluster exists before its endpoints, both before the listener and
# routes that send traffic to them.
PUSH_ORDER: tuple[str, ...] = (CLUSTER, ENDPOINT, LISTENER, ROUTE, SECRET, POLICY)

# Types a client subscribes to whole when it names nothing (CDS and LDS by the xDS rules; the
# policy because a worker always wants all of it). Other types are requested by name.
WILDCARD_BY_DEFAULT = frozenset({CLUSTER, LISTENER, POLICY})

WILDCARD = "*"

# Types whose dropped resources are removed only after every other type was pushed, so routes
# have moved off a cluster before it disappears (Envoy's make-before-break sequencing). Listeners
# are not deferred: a renamed listener on the same address must replace the old one at once.
REMOVED_LAST = frozenset({CLUSTER})


def in_push_order(type_urls: Iterable[str]) -> list[str]:
    """The given type URLs in push order; types aiplane does not know go last, by name."""
    rank = {type_url: index for index, type_url in enumerate(PUSH_ORDER)}
    return sorted(type_urls, key=lambda type_url: (rank.get(type_url, len(rank)), type_url))


def awaited_endpoints(clusters: Iterable[any_pb2.Any]) -> frozenset[str]:
    """Names of the ClusterLoadAssignments these clusters wait for: an EDS cluster stays warming,
    unused by routes, until its endpoints arrive, even when they did not change."""
    names = set()
    for packed in clusters:
        cluster = cluster_pb2.Cluster()
        packed.Unpack(cluster)
        if cluster.type == cluster_pb2.Cluster.EDS:
            names.add(cluster.eds_cluster_config.service_name or cluster.name)
    return frozenset(names)
