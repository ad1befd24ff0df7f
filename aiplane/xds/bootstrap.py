"""The Envoy bootstrap that points an Envoy at aiplane's control plane; everything else comes over ADS."""

from __future__ import annotations

from typing import Any

from aiplane.upstreams import is_ip_literal

XDS_CLUSTER = "aiplane_xds"


def _via_ads() -> dict[str, Any]:
    # A fresh dict each time: a shared one would come out of yaml.dump as an anchor and alias.
    return {"ads": {}, "resource_api_version": "V3"}


def _socket_address(host: str, port: int) -> dict[str, Any]:
    return {"socket_address": {"address": host, "port_value": port}}


def _xds_cluster(host: str, port: int) -> dict[str, Any]:
    return {
        "name": XDS_CLUSTER,
        # A name (a Kubernetes service, say) is resolved, and re-resolved when it moves.
        "type": "STATIC" if is_ip_literal(host) else "STRICT_DNS",
        "connect_timeout": "1s",
        "load_assignment": {
            "cluster_name": XDS_CLUSTER,
            "endpoints": [{"lb_endpoints": [{"endpoint": {"address": _socket_address(host, port)}}]}],
        },
        "typed_extension_protocol_options": {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                "explicit_http_config": {
                    # Pings notice a control plane that vanished without closing the connection.
                    "http2_protocol_options": {"connection_keepalive": {"interval": "30s", "timeout": "5s"}}
                },
            }
        },
        "upstream_connection_options": {
            "tcp_keepalive": {"keepalive_probes": 3, "keepalive_time": 30, "keepalive_interval": 5}
        },
    }


def render_bootstrap(
    *,
    node_id: str,
    node_cluster: str,
    xds_host: str,
    xds_port: int,
    admin_host: str = "127.0.0.1",
    admin_port: int = 9901,
    delta: bool = False,
) -> dict[str, Any]:
    """An Envoy v3 bootstrap as plain data (dump it as YAML or JSON) that takes all config over ADS.

    `node_cluster` selects the snapshot the node gets (see `aiplane.xds.cache.node_group`).
    """
    return {
        "node": {"id": node_id, "cluster": node_cluster},
        "admin": {"address": _socket_address(admin_host, admin_port)},
        "static_resources": {"clusters": [_xds_cluster(xds_host, xds_port)]},
        "dynamic_resources": {
            "ads_config": {
                "api_type": "DELTA_GRPC" if delta else "GRPC",
                "transport_api_version": "V3",
                "set_node_on_first_message_only": True,
                "grpc_services": [
                    {
                        "envoy_grpc": {
                            "cluster_name": XDS_CLUSTER,
                            # Reconnect quickly after a control-plane restart (Envoy backs off up to 30 s).
                            "retry_policy": {"retry_back_off": {"base_interval": "0.25s", "max_interval": "5s"}},
                        }
                    }
                ],
            },
            "cds_config": _via_ads(),
            "lds_config": _via_ads(),
        },
    }
