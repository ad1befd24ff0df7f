"""`aiplane up` as a user runs it: it starts, restarts a dead worker, stops cleanly, and refuses a taken port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

import httpx
import pytest
from harness import AIPLANE, Ports, is_free, pid_alive, start_gateway

pytestmark = pytest.mark.envoy

WORKERS = 2


def policy(ports: Ports) -> str:
    return f"""
version: v0.2.0
listeners:
  - {{type: model, name: llm, address: 127.0.0.1, port: {ports.listener}}}
model_providers:
  - name: mock
    model: mock/mock-gpt
    base_url: http://127.0.0.1:{ports.mock}/v1
    access_key: lifecycle-key
    default: true
tracing:
  random_sampling: 10
{ports.gateway_section(WORKERS)}
"""


def ask(base_url: str) -> httpx.Response:
    body = {"model": "mock-gpt", "messages": [{"role": "user", "content": "Hi"}]}
    return httpx.post(f"{base_url}/v1/chat/completions", json=body, timeout=10)


def wait_for(predicate, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_up_serves_restarts_a_dead_worker_and_stops_without_orphans(tmp_path):
    ports = Ports.pick(WORKERS)
    gateway = start_gateway(policy(ports), tmp_path, ports)
    try:
        assert "aiplane is ready" in gateway.log() and f"http://127.0.0.1:{ports.listener}/v1" in gateway.log()
        assert "not yet enforced" in gateway.log() and "section='tracing'" in gateway.log()
        assert ask(gateway.base_url).status_code == 200
        status = gateway.status()
        assert [w["port"] for w in status["workers"]] == [ports.worker_base, ports.worker_base + 1]
        pids = [w["pid"] for w in status["workers"]] + [status["envoy"]["pid"], status["mock_provider"]["pid"]]
        assert all(pid_alive(pid) for pid in pids)

        victim = status["workers"][0]["pid"]
        os.kill(victim, signal.SIGKILL)
        assert wait_for(lambda: gateway.status()["workers"][0]["restarts"] == 1)
        assert gateway.status()["workers"][0]["pid"] != victim
        # Every request succeeds once the worker is back (both workers take turns).
        assert wait_for(lambda: all(ask(gateway.base_url).status_code == 200 for _ in range(6)))
        pids.append(gateway.status()["workers"][0]["pid"])
    finally:
        code = gateway.stop()
    assert code == 0
    assert wait_for(lambda: not any(pid_alive(pid) for pid in pids), timeout=5)
    for port in (ports.listener, ports.admin, ports.envoy_admin, ports.xds, ports.mock, ports.worker_base):
        assert is_free(port), port


def test_up_refuses_a_port_in_use_naming_it(tmp_path):
    ports = Ports.pick(WORKERS)
    (tmp_path / "aiplane.yaml").write_text(policy(ports))
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", ports.listener))
        squatter.listen()
        done = subprocess.run(
            [*AIPLANE, "up", "-c", str(tmp_path / "aiplane.yaml")], capture_output=True, text=True, timeout=30
        )
    assert done.returncode == 1
    assert f"port {ports.listener}" in done.stderr and "LLM listener 'llm'" in done.stderr
