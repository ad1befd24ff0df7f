"""The control plane against the real Envoy: config arrives, applies, changes, and a rejected one is NACKed."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.core.v3 import config_source_pb2
from envoy.config.endpoint.v3 import endpoint_pb2
from envoy.config.listener.v3 import listener_pb2
from envoy.config.route.v3 import route_pb2
from envoy.extensions.filters.http.router.v3 import router_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import http_connection_manager_pb2 as hcm_pb2

from aiplane.envoy_binary import envoy_path
from aiplane.xds import CLUSTER, ENDPOINT, LISTENER, ROUTE, Snapshot, SnapshotCache, render_bootstrap, start_xds_server

pytestmark = pytest.mark.envoy

GROUP = "edge"
UPSTREAM = "upstream"
ROUTES = "routes"

T = TypeVar("T")


def eventually(probe: Callable[[], T], what: str, timeout: float = 5.0) -> T:
    """The first truthy result of `probe`, polled until `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = probe()
        except (httpx.HTTPError, KeyError) as exc:
            result, last = None, exc  # not up yet
        else:
            last = result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}; last saw {last!r}")
        time.sleep(0.02)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---------------------------------------------------------------- the config Envoy gets


def via_ads() -> config_source_pb2.ConfigSource:
    return config_source_pb2.ConfigSource(ads={}, resource_api_version=config_source_pb2.V3)


def config(
    *, upstream_port: int, listener_port: int, route_tag: str, path_regex: str | None = None, cluster: str = UPSTREAM
) -> Snapshot:
    """One EDS cluster, its endpoints, one listener using RDS, and routes tagging responses with `route_tag`."""
    upstream = cluster_pb2.Cluster(name=cluster, type=cluster_pb2.Cluster.EDS)
    upstream.connect_timeout.FromSeconds(1)
    upstream.eds_cluster_config.eds_config.CopyFrom(via_ads())

    assignment = endpoint_pb2.ClusterLoadAssignment(cluster_name=cluster)
    address = assignment.endpoints.add().lb_endpoints.add().endpoint.address.socket_address
    address.address, address.port_value = "127.0.0.1", upstream_port

    manager = hcm_pb2.HttpConnectionManager(stat_prefix="ingress")
    manager.rds.route_config_name = ROUTES
    manager.rds.config_source.CopyFrom(via_ads())
    router = manager.http_filters.add(name="envoy.filters.http.router")
    router.typed_config.Pack(router_pb2.Router(), deterministic=True)
    ingress = listener_pb2.Listener(name="ingress")
    ingress.address.socket_address.address, ingress.address.socket_address.port_value = "127.0.0.1", listener_port
    ingress.filter_chains.add().filters.add(name="envoy.filters.network.http_connection_manager").typed_config.Pack(
        manager, deterministic=True
    )

    routes = route_pb2.RouteConfiguration(name=ROUTES)
    host = routes.virtual_hosts.add(name="all", domains=["*"])
    entry = host.routes.add()
    if path_regex is None:
        entry.match.prefix = "/"
    else:
        entry.match.safe_regex.regex = path_regex
    entry.route.cluster = cluster
    header = entry.response_headers_to_add.add().header
    header.key, header.value = "x-route", route_tag

    return Snapshot.build({CLUSTER: [upstream], ENDPOINT: [assignment], LISTENER: [ingress], ROUTE: [routes]})


# ---------------------------------------------------------------- processes


class _Upstream(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = f"upstream saw {self.path}".encode()
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's signature)
        pass


@pytest.fixture
def upstream_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join(5)


@dataclass
class ControlPlane:
    cache: SnapshotCache
    port: int


@pytest.fixture
def control_plane() -> Iterator[ControlPlane]:
    """The xDS server on its own event loop thread, as the test's own code is synchronous."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    cache = SnapshotCache()
    server = asyncio.run_coroutine_threadsafe(start_xds_server(cache, "127.0.0.1", 0), loop).result(5)
    yield ControlPlane(cache, server.port)
    asyncio.run_coroutine_threadsafe(server.stop(0), loop).result(5)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


@dataclass
class Envoy:
    admin: str  # base URL of the admin API
    log: Path

    def config_dump(self) -> dict[str, Any]:
        dump = httpx.get(f"{self.admin}/config_dump", trust_env=False).raise_for_status().json()
        return {section["@type"].rsplit(".", 1)[-1]: section for section in dump["configs"]}


@pytest.fixture(params=[False, True], ids=["sotw", "delta"])
def envoy(request: pytest.FixtureRequest, control_plane: ControlPlane, tmp_path: Path) -> Iterator[Envoy]:
    bootstrap = tmp_path / "bootstrap.json"
    bootstrap.write_text(
        json.dumps(
            render_bootstrap(
                node_id="envoy-test",
                node_cluster=GROUP,
                xds_host="127.0.0.1",
                xds_port=control_plane.port,
                admin_port=0,
                delta=request.param,
            )
        )
    )
    admin_address, log = tmp_path / "admin-address", tmp_path / "envoy.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [str(envoy_path()), "-c", str(bootstrap), "--concurrency", "1", "--use-dynamic-base-id", "-l", "warning"]
            + ["--admin-address-path", str(admin_address)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        address = eventually(
            lambda: admin_address.exists() and admin_address.read_text().strip(), "Envoy's admin is up"
        )
        yield Envoy(f"http://{address}", log)
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        print(log.read_text())  # shown by pytest when the test failed


# ---------------------------------------------------------------- checks


def active_listener(envoy: Envoy) -> bool:
    listeners = envoy.config_dump()["ListenersConfigDump"].get("dynamic_listeners", [])
    return [(entry["name"], "active_state" in entry, "warming_state" in entry) for entry in listeners] == [
        ("ingress", True, False)
    ]


def active_clusters(envoy: Envoy) -> list[str]:
    clusters = envoy.config_dump()["ClustersConfigDump"].get("dynamic_active_clusters", [])
    return [entry["cluster"]["name"] for entry in clusters]


def get(port: int, path: str = "/hello") -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{port}{path}", trust_env=False, timeout=2)


def route_tag(port: int) -> str | None:
    response = get(port)
    return response.headers.get("x-route") if response.status_code == 200 else None


# ---------------------------------------------------------------- tests


def test_bootstrap_passes_envoy_validation(tmp_path: Path) -> None:
    for delta in (False, True):
        path = tmp_path / f"bootstrap-{delta}.json"
        bootstrap = render_bootstrap(
            node_id="envoy-1", node_cluster=GROUP, xds_host="127.0.0.1", xds_port=18000, delta=delta
        )
        path.write_text(json.dumps(bootstrap))
        result = subprocess.run(
            [str(envoy_path()), "--mode", "validate", "-c", str(path), "--use-dynamic-base-id", "-l", "warning"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_envoy_applies_the_snapshot_and_its_changes(
    control_plane: ControlPlane, envoy: Envoy, upstream_port: int
) -> None:
    listener_port = free_port()
    control_plane.cache.set_snapshot(
        GROUP, config(upstream_port=upstream_port, listener_port=listener_port, route_tag="v1")
    )

    eventually(lambda: active_listener(envoy), "the listener is active, not warming")
    assert active_clusters(envoy) == [UPSTREAM]
    response = eventually(lambda: get(listener_port), "the listener answers")
    assert (response.status_code, response.text, response.headers["x-route"]) == (200, "upstream saw /hello", "v1")

    control_plane.cache.set_snapshot(
        GROUP, config(upstream_port=upstream_port, listener_port=listener_port, route_tag="v2")
    )
    eventually(lambda: route_tag(listener_port) == "v2", "the changed route is applied")
    eventually(lambda: control_plane.cache.acked_count(GROUP) == 1, "Envoy acknowledged every type")


def test_a_rejected_snapshot_is_nacked_and_the_last_good_one_keeps_serving(
    control_plane: ControlPlane, envoy: Envoy, upstream_port: int
) -> None:
    listener_port = free_port()
    good = config(upstream_port=upstream_port, listener_port=listener_port, route_tag="good")
    control_plane.cache.set_snapshot(GROUP, good)
    eventually(lambda: route_tag(listener_port) == "good", "the good config serves")

    bad = config(upstream_port=upstream_port, listener_port=listener_port, route_tag="bad", path_regex="(")
    control_plane.cache.set_snapshot(GROUP, bad)

    def route_nack() -> Any:
        (stream,) = control_plane.cache.status()
        return stream.types[ROUTE].last_nack

    nack = eventually(route_nack, "Envoy NACKs the routes")
    assert nack.version == bad.version(ROUTE)
    assert "missing )" in nack.detail
    (stream,) = control_plane.cache.status()
    assert stream.types[ROUTE].acked_version == good.version(ROUTE)
    assert [route_tag(listener_port) for _ in range(3)] == ["good"] * 3
    assert active_listener(envoy)

    fixed = config(upstream_port=upstream_port, listener_port=listener_port, route_tag="fixed")
    control_plane.cache.set_snapshot(GROUP, fixed)
    eventually(lambda: route_tag(listener_port) == "fixed", "a later good snapshot is applied")


def test_moving_routes_to_new_clusters_loses_no_request(
    control_plane: ControlPlane, envoy: Envoy, upstream_port: int
) -> None:
    listener_port = free_port()

    def serving(name: str) -> Snapshot:
        return config(upstream_port=upstream_port, listener_port=listener_port, route_tag=name, cluster=name)

    control_plane.cache.set_snapshot(GROUP, serving("c0"))
    eventually(lambda: route_tag(listener_port) == "c0", "the first cluster serves")
    statuses: Counter[int] = Counter()
    stop = threading.Event()

    def send_requests() -> None:
        with httpx.Client(trust_env=False, timeout=2) as client:
            while not stop.is_set():
                statuses[client.get(f"http://127.0.0.1:{listener_port}/").status_code] += 1

    sender = threading.Thread(target=send_requests)
    sender.start()
    try:
        for step in range(1, 11):
            control_plane.cache.set_snapshot(GROUP, serving(f"c{step}"))
            time.sleep(0.05)
        eventually(lambda: route_tag(listener_port) == "c10", "the last cluster serves")
    finally:
        stop.set()
        sender.join(5)
    assert statuses[200] > 100
    assert set(statuses) == {200}, statuses
    eventually(lambda: active_clusters(envoy) == ["c10"], "the clusters no route uses are removed")
