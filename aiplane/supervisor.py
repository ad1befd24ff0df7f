"""`aiplane up`: the control plane, the ext_proc workers, Envoy and the mock provider, supervised as one unit.

The control plane (xDS server and admin API) runs in this process; everything
else is a child process. Children die with their parent (PR_SET_PDEATHSIG),
a worker or the mock that dies is restarted, and Envoy dying stops the unit.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import structlog

from aiplane.envoy_binary import envoy_path
from aiplane.policy import Policy
from aiplane.upstreams import parse_base_url
from aiplane.xds.bootstrap import render_bootstrap
from aiplane.xds.ca_bundle import system_ca_bundle
from aiplane.xds.cache import SnapshotCache
from aiplane.xds.resources import LLM_LISTENER_TYPES, build_resources, usable_providers
from aiplane.xds.server import start_xds_server
from aiplane.xds.snapshot import Snapshot
from aiplane.xds.status import StreamStatus

log = structlog.get_logger()

GATEWAY_GROUP = "aiplane-gateway"
EXTPROC_GROUP = "aiplane-extproc"
READY_TIMEOUT_S = 30.0
_LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True, slots=True)
class Layout:
    """Every address `up` binds, derived from the policy alone."""

    xds: tuple[str, int]
    admin: tuple[str, int]
    envoy_admin: tuple[str, int]
    worker_ports: tuple[int, ...]
    listeners: tuple[tuple[str, str, int], ...]  # (name, address, port) of LLM listeners
    mock_port: int | None  # set when a usable provider points at the mock

    def owned_ports(self) -> list[tuple[str, int, str]]:
        owned = [
            (*self.xds, "xDS server"),
            (*self.admin, "aiplane admin API"),
            (*self.envoy_admin, "Envoy admin"),
            *(("127.0.0.1", port, f"ext_proc worker {i}") for i, port in enumerate(self.worker_ports)),
            *((address, port, f"LLM listener '{name}'") for name, address, port in self.listeners),
        ]
        if self.mock_port is not None:
            owned.append(("127.0.0.1", self.mock_port, "mock provider"))
        return owned


def plan_layout(policy: Policy, env: Mapping[str, str]) -> Layout:
    gateway = policy.gateway
    mock_port = gateway.mock_provider.port
    points_at_mock = any(
        (u := parse_base_url(str(p.base_url))).host in _LOOPBACK_NAMES and u.port == mock_port
        for p in usable_providers(policy, env)
    )
    return Layout(
        xds=(gateway.xds.address, gateway.xds.port),
        admin=(gateway.admin.address, gateway.admin.port),
        envoy_admin=(gateway.envoy_admin.address, gateway.envoy_admin.port),
        worker_ports=tuple(gateway.extproc.ports()),
        listeners=tuple(
            (listener.name, listener.address, listener.port)
            for listener in policy.listeners
            if listener.type in LLM_LISTENER_TYPES
        ),
        mock_port=mock_port if points_at_mock else None,
    )


def ports_in_use(layout: Layout) -> list[str]:
    """A sentence for every port something else already holds."""
    taken = []
    for address, port, owner in layout.owned_ports():
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            # As Envoy and aiohttp bind: a TIME_WAIT leftover from an earlier run is not "in use".
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((address, port))
            except OSError as exc:
                taken.append(f"port {port} on {address} ({owner}) is already in use: {exc.strerror}")
    return taken


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: if the supervisor is killed, the child gets SIGTERM.
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Child:
    name: str
    argv: list[str]
    restart: bool
    process: asyncio.subprocess.Process | None = None
    restarts: int = 0
    started_at: float = 0.0

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            *self.argv, stdin=asyncio.subprocess.DEVNULL, preexec_fn=_die_with_parent, start_new_session=True
        )
        self.started_at = time.monotonic()

    async def stop(self, grace: float = 5.0) -> None:
        proc = self.process
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), grace)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()

    def status(self) -> dict:
        proc = self.process
        return {
            "name": self.name,
            "pid": proc.pid if proc else None,
            "running": bool(proc and proc.returncode is None),
            "restarts": self.restarts,
        }


@dataclass
class Supervisor:
    policy: Policy
    config_path: Path
    env: Mapping[str, str]
    delta: bool = False
    layout: Layout = field(init=False)
    cache: SnapshotCache = field(default_factory=SnapshotCache)
    workers: list[Child] = field(default_factory=list)
    envoy: Child | None = None
    mock: Child | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _exit_code: int = 0
    _run_dir: Path = field(init=False)

    def __post_init__(self) -> None:
        self.layout = plan_layout(self.policy, self.env)

    # ------------------------------------------------------------ the unit's life

    async def run(self) -> int:
        taken = ports_in_use(self.layout)
        if taken:
            for line in taken:
                print(f"aiplane: {line}", file=sys.stderr)
            return 1
        for section in self.policy.not_yet_enforced():
            log.warning("policy section parsed but not yet enforced", section=section)
        for entry, reason in self.policy.provider_status(self.env):
            if reason:
                log.info("provider disabled", provider=entry.name, reason=reason)

        self._run_dir = Path(tempfile.mkdtemp(prefix="aiplane-"))
        self.publish(self.policy)
        xds_server = await start_xds_server(self.cache, *self.layout.xds)
        from aiplane.admin import start_admin  # noqa: PLC0415 (keeps `validate` free of aiohttp.web)

        admin = await start_admin(self, *self.layout.admin)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._stop.set)
        try:
            await self._start_children()
            if await self._wait_ready():
                self._announce()
                await self._stop.wait()
            else:
                self._exit_code = 1
        finally:
            await self._stop_children()
            await admin.cleanup()
            await xds_server.stop(grace=0.5)
        return self._exit_code

    def publish(self, policy: Policy) -> None:
        """Build every resource from the policy and push one snapshot to Envoys and workers alike."""
        resources = build_resources(policy, self.env, self.layout.worker_ports, system_ca_bundle())
        snapshot = Snapshot.build(resources)
        self.cache.set_snapshot(GATEWAY_GROUP, snapshot)
        self.cache.set_snapshot(EXTPROC_GROUP, snapshot)
        self.policy = policy

    async def _start_children(self) -> None:
        python = sys.executable
        xds = f"{self.layout.xds[0]}:{self.layout.xds[1]}"
        if self.layout.mock_port is not None:
            self.mock = Child(
                "mock-provider",
                [python, "-m", "aiplane", "mock-provider", "--port", str(self.layout.mock_port)],
                restart=True,
            )
        self.workers = [
            Child(
                f"extproc-{i}",
                [
                    python,
                    "-m",
                    "aiplane.extproc.worker",
                    "--port",
                    str(port),
                    "--xds",
                    xds,
                    "--node-id",
                    f"extproc-{i}",
                ],
                restart=True,
            )
            for i, port in enumerate(self.layout.worker_ports)
        ]
        bootstrap = self._run_dir / "envoy-bootstrap.json"
        bootstrap.write_text(
            json.dumps(
                render_bootstrap(
                    node_id="aiplane-envoy-0",
                    node_cluster=GATEWAY_GROUP,
                    xds_host=self.layout.xds[0],
                    xds_port=self.layout.xds[1],
                    admin_host=self.layout.envoy_admin[0],
                    admin_port=self.layout.envoy_admin[1],
                    delta=self.delta,
                ),
                indent=2,
            )
        )
        argv = [str(envoy_path()), "-c", str(bootstrap), "--disable-hot-restart", "-l", "warning"]
        concurrency = self.policy.gateway.envoy_concurrency
        if concurrency != "auto":
            argv += ["--concurrency", str(concurrency)]
        self.envoy = Child("envoy", argv, restart=False)
        for child in self._children():
            await child.start()
            asyncio.create_task(self._watch(child))

    def _children(self) -> list[Child]:
        return [c for c in (self.mock, *self.workers, self.envoy) if c is not None]

    async def _watch(self, child: Child) -> None:
        while True:
            code = await child.process.wait()
            if self._stop.is_set():
                return
            if not child.restart:
                log.error("child exited; stopping aiplane", child=child.name, exit_code=code)
                self._exit_code = 1
                self._stop.set()
                return
            # Back off when a child dies right after starting, so a crash loop does not spin.
            quick = time.monotonic() - child.started_at < 2.0
            log.warning("child exited; restarting", child=child.name, exit_code=code, restarts=child.restarts)
            await asyncio.sleep(1.0 if quick else 0.05)
            if self._stop.is_set():
                return
            child.restarts += 1
            await child.start()

    async def _stop_children(self) -> None:
        self._stop.set()
        # Envoy first, so no new request reaches a worker that is going away.
        if self.envoy:
            await self.envoy.stop()
        await asyncio.gather(*(c.stop() for c in self._children()))

    # ------------------------------------------------------------ readiness

    async def _wait_ready(self) -> bool:
        deadline = time.monotonic() + READY_TIMEOUT_S
        envoy_admin_host, envoy_admin_port = self.layout.envoy_admin
        admin = f"http://{envoy_admin_host}:{envoy_admin_port}/ready"
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1)) as session:
            while time.monotonic() < deadline:
                if self._stop.is_set():
                    return False
                if await self._envoy_live(session, admin) and self._listeners_accept() and self._workers_have_policy():
                    return True
                await asyncio.sleep(0.05)
        log.error("aiplane did not become ready in time", timeout_s=READY_TIMEOUT_S)
        return False

    @staticmethod
    async def _envoy_live(session: aiohttp.ClientSession, url: str) -> bool:
        try:
            async with session.get(url) as response:
                return response.status == 200
        except (TimeoutError, aiohttp.ClientError):
            return False

    def _listeners_accept(self) -> bool:
        for _, address, port in self.layout.listeners:
            try:
                socket.create_connection((_reachable(address), port), timeout=0.2).close()
            except OSError:
                return False
        return True

    def _workers_have_policy(self) -> bool:
        return self.cache.acked_count(EXTPROC_GROUP) >= len(self.workers)

    def _announce(self) -> None:
        _, address, port = self.layout.listeners[0]
        base = f"http://{_reachable(address)}:{port}"
        default = self.policy.default_provider
        model = default.model_name if default and not default.is_wildcard else "MODEL"
        print(
            f"aiplane is ready: send OpenAI requests to {base}/v1\n"
            f"  curl {base}/v1/chat/completions -H 'content-type: application/json' "
            f"""-d '{{"model": "{model}", "messages": [{{"role": "user", "content": "Hello"}}]}}'\n"""
            f"  status: http://%s:%d/status   envoy admin: http://%s:%d/\n"
            % (*self.layout.admin, *self.layout.envoy_admin),
            flush=True,
        )

    def status(self) -> dict:
        return {
            "config": str(self.config_path),
            "listeners": [{"name": n, "address": a, "port": p} for n, a, p in self.layout.listeners],
            "workers": [
                {**c.status(), "port": port} for c, port in zip(self.workers, self.layout.worker_ports, strict=True)
            ],
            "envoy": self.envoy.status() if self.envoy else None,
            "mock_provider": self.mock.status() if self.mock else None,
            "not_yet_enforced": list(self.policy.not_yet_enforced()),
            "disabled_providers": {e.name: r for e, r in self.policy.provider_status(self.env) if r},
            "xds": [_stream_view(stream) for stream in self.cache.status()],
        }


def _stream_view(stream: StreamStatus) -> dict:
    return {
        "node_id": stream.node_id,
        "group": stream.group,
        "protocol": stream.protocol,
        "types": {
            type_url: {
                "sent_version": t.sent_version,
                "acked_version": t.acked_version,
                "last_nack": t.last_nack and {"version": t.last_nack.version, "detail": t.last_nack.detail},
            }
            for type_url, t in stream.types.items()
        },
    }


def _reachable(address: str) -> str:
    return "127.0.0.1" if address in ("0.0.0.0", "") else address
