"""Start `aiplane up` as a user would, on free loopback ports, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

AIPLANE = [sys.executable, "-m", "aiplane"]
READY_LINE = "aiplane is ready"


def free_ports(count: int, consecutive: bool = False) -> list[int]:
    """Ports nothing listens on now (the kernel's choice; or a free consecutive run)."""
    if consecutive:
        for base in range(20000 + os.getpid() % 20000, 60000, 97):
            if all(is_free(base + i) for i in range(count)):
                return [base + i for i in range(count)]
        raise RuntimeError("no consecutive free ports")
    socks = [socket.socket() for _ in range(count)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def is_free(port: int) -> bool:
    """Nothing listens on the port (a TIME_WAIT leftover does not count: servers bind past it)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@dataclass
class Ports:
    listener: int
    admin: int
    envoy_admin: int
    xds: int
    mock: int
    dead: int  # nothing listens here: a provider that is down
    worker_base: int

    @classmethod
    def pick(cls, workers: int) -> Ports:
        listener, admin, envoy_admin, xds, mock, dead = free_ports(6)
        return cls(listener, admin, envoy_admin, xds, mock, dead, free_ports(workers, consecutive=True)[0])

    def gateway_section(self, workers: int) -> str:
        return f"""
gateway:
  admin: {{address: 127.0.0.1, port: {self.admin}}}
  envoy_admin: {{address: 127.0.0.1, port: {self.envoy_admin}}}
  xds: {{address: 127.0.0.1, port: {self.xds}}}
  extproc: {{workers: {workers}, base_port: {self.worker_base}}}
  mock_provider: {{port: {self.mock}}}
"""


@dataclass
class Gateway:
    process: subprocess.Popen
    ports: Ports
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.listener}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def status(self) -> dict:
        return httpx.get(f"http://127.0.0.1:{self.ports.admin}/status", timeout=5).json()

    def config_dump(self) -> str:
        return httpx.get(f"http://127.0.0.1:{self.ports.envoy_admin}/config_dump?include_eds", timeout=5).text

    def stop(self, timeout: float = 15) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)


def start_gateway(config: str, workdir: Path, ports: Ports, *, delta: bool = False, env: dict | None = None,
                  timeout: float = 40) -> Gateway:
    config_path = workdir / "aiplane.yaml"
    config_path.write_text(config)
    log_path = workdir / "aiplane.log"
    argv = [*AIPLANE, "up", "-c", str(config_path), *(["--delta"] if delta else [])]
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(argv, stdout=log_file, stderr=subprocess.STDOUT, env=env, cwd=workdir)
    gateway = Gateway(process, ports, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if READY_LINE in gateway.log():
            return gateway
        if process.poll() is not None:
            raise RuntimeError(f"aiplane up exited with {process.returncode}:\n{gateway.log()}")
        time.sleep(0.05)
    gateway.stop()
    raise RuntimeError(f"aiplane up was not ready within {timeout}s:\n{gateway.log()}")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False
