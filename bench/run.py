"""Benchmark the mock provider, Envoy alone and aiplane in one run, under wrk.

Each scenario gets a 2 KB non-streaming request at each concurrency: an OpenAI
chat completion, and through aiplane also the translated pairs (an Anthropic
client to the OpenAI mock, an OpenAI client to an Anthropic provider). Then a
sequential streaming client measures the time to the first content event. The
gateway's processes run on core 0; wrk, the mock and this harness share core
1, so the load generator does not steal the gateway's CPU. Results go to
bench/results/<UTC timestamp>.md and bench/results/latest.md. See README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import math
import os
import platform
import re
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

import httpx
import orjson

from aiplane.envoy_binary import envoy_path
from aiplane.mock_provider import DEFAULT_MODEL

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO / "bench" / "results"
ENVOY_ONLY_TEMPLATE = REPO / "envoy" / "bench-envoy-only.yaml"
AIPLANE_CONFIG = REPO / "bench" / "aiplane-bench.yaml"
# The same gateway plus a provider speaking Anthropic's API: with a provider of another dialect in the
# policy, OpenAI clients go through the translating decision filter, so it gets its own `aiplane up`.
AIPLANE_DIALECTS_CONFIG = REPO / "bench" / "aiplane-bench-dialects.yaml"
ANTHROPIC_MODEL = "mock-claude"  # the Anthropic provider entry's model in AIPLANE_DIALECTS_CONFIG
BEDROCK_MODEL = "anthropic.claude-mock-v1:0"  # the Bedrock provider entry's model there

HOST = "127.0.0.1"
CHAT_PATH = "/v1/chat/completions"
MESSAGES_PATH = "/v1/messages"
ANTHROPIC_HEADERS = {"anthropic-version": "2023-06-01"}
BODY_BYTES = 2048
MAX_TOKENS = 256
CONCURRENCIES = (1, 16, 64)
# Streams: many events per reply, sequential requests after a warm-up.
STREAM_CHUNKS = 20
STREAM_HEADERS = {"x-mock-chunks": str(STREAM_CHUNKS)}

MOCK_PORT = 18100
# Envoy alone stays off aiplane's ports (10000, 9901), so the two never clash.
ENVOY_ONLY_PORT = 10001
ENVOY_ONLY_ADMIN_PORT = 9902
AIPLANE_PORT = 10000
AIPLANE_ADMIN_PORT = 9900

GATEWAY_CORE = "0"
LOAD_CORE = "1"
STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


class StartupError(RuntimeError):
    """A process under test did not come up; the message says why."""


@dataclass(frozen=True)
class Request:
    """One kind of request a scenario sends."""

    label: str  # for the report
    path: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    def with_headers(self, extra: Mapping[str, str]) -> Request:
        return Request(self.label, self.path, self.body, {**self.headers, **extra})


def padded_body(build: Callable[[str], dict[str, object]]) -> bytes:
    """The JSON of `build(question)`, the question padded so the body is exactly BODY_BYTES bytes."""
    room = BODY_BYTES - len(orjson.dumps(build("")))
    body = orjson.dumps(build(("Summarise the benchmark results in one line. " * (room // 40 + 1))[:room]))
    assert len(body) == BODY_BYTES
    return body


def chat_request(model: str = DEFAULT_MODEL, *, stream: bool = False) -> Request:
    """An OpenAI chat completion of exactly BODY_BYTES bytes."""

    def build(question: str) -> dict[str, object]:
        messages = [
            {"role": "system", "content": "You are a concise assistant."},
            {"role": "user", "content": question},
        ]
        return {"model": model, "messages": messages, **({"stream": True} if stream else {})}

    streaming = ", streaming" if stream else ""
    return Request(f"OpenAI chat `POST {CHAT_PATH}`, model `{model}`{streaming}", CHAT_PATH, padded_body(build))


def messages_request(*, stream: bool = False) -> Request:
    """An Anthropic Messages request of exactly BODY_BYTES bytes, for the OpenAI mock model."""

    def build(question: str) -> dict[str, object]:
        return {
            "model": DEFAULT_MODEL,
            "max_tokens": MAX_TOKENS,
            "system": "You are a concise assistant.",
            "messages": [{"role": "user", "content": question}],
            **({"stream": True} if stream else {}),
        }

    streaming = ", streaming" if stream else ""
    label = f"Anthropic Messages `POST {MESSAGES_PATH}`, model `{DEFAULT_MODEL}`{streaming}"
    return Request(label, MESSAGES_PATH, padded_body(build), ANTHROPIC_HEADERS)


# ---------------------------------------------------------------------------
# Processes


@dataclass
class Started:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, lines: int = 3) -> str:
        text = self.log.read_text(errors="replace").strip().splitlines()
        return " | ".join(text[-lines:]) or "(no output)"


class Processes:
    """Starts pinned processes, each in its own process group, and stops them all on exit."""

    def __init__(self, log_dir: Path) -> None:
        self._log_dir = log_dir
        self._running: list[Started] = []

    def start(self, name: str, argv: Sequence[str], core: str) -> Started:
        log = self._log_dir / f"{name}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                ["taskset", "-c", core, *argv],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=REPO,
                # Its own group: Ctrl-C reaches only us, and we stop its children with it.
                start_new_session=True,
            )
        started = Started(name, process, log)
        self._running.append(started)
        return started

    def stop(self, started: Started) -> None:
        self._running.remove(started)
        for sig, wait_s in ((signal.SIGTERM, STOP_TIMEOUT_S), (signal.SIGKILL, None)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(started.process.pid, sig)
            try:
                started.process.wait(timeout=wait_s)
                return
            except subprocess.TimeoutExpired:
                print(f"  {started.name} ignored SIGTERM for {STOP_TIMEOUT_S:.0f}s: killing it")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        for started in reversed(list(self._running)):
            self.stop(started)


def wait_until_ready(started: Started, why_not_ready: Callable[[], str | None]) -> None:
    """Poll until `why_not_ready` returns None; fail if the process exits or time runs out."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    reason = "no answer yet"
    while time.monotonic() < deadline:
        if started.process.poll() is not None:
            raise StartupError(f"{started.name} exited with code {started.process.returncode}: {started.log_tail()}")
        not_ready = why_not_ready()
        if not_ready is None:
            return
        reason = not_ready
        time.sleep(0.1)
    raise StartupError(f"{started.name} not ready after {STARTUP_TIMEOUT_S:.0f}s ({reason}): {started.log_tail()}")


def ensure_ports_free(ports: Sequence[int]) -> None:
    busy = [str(port) for port in ports if port_in_use(port)]
    if busy:
        raise StartupError(f"port(s) {', '.join(busy)} on {HOST} already in use (is `make run` running?)")


def port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((HOST, port)) == 0


def proc_stat(pid: int) -> list[str]:
    """Fields of /proc/<pid>/stat from the 3rd (state) on: the 2nd, the command name, may hold spaces."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def is_running(pid: int) -> bool:
    """True unless the process is gone or a zombie waiting to be reaped."""
    try:
        return proc_stat(pid)[0] != "Z"
    except FileNotFoundError:
        return False


def cpu_affinity(pid: int) -> str:
    cores = sorted(os.sched_getaffinity(pid))
    return ",".join(map(str, cores))


def pin_to_core(pid: int, core: str) -> None:
    """Move every thread of a running process to one core."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        os.sched_setaffinity(int(task.name), {int(core)})


def envoy_concurrency(pid: int) -> str:
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    if b"--concurrency" in argv:
        return f"--concurrency {argv[argv.index(b'--concurrency') + 1].decode()}"
    return "no --concurrency: one worker thread per core"


def cpu_seconds(pids: Sequence[int]) -> float:
    """User plus system CPU time used so far by these processes (all their threads)."""
    ticks = 0
    for pid in pids:
        fields = proc_stat(pid)
        ticks += int(fields[11]) + int(fields[12])  # utime and stime, the 14th and 15th fields
    return ticks / CLOCK_TICKS_PER_S


# ---------------------------------------------------------------------------
# HTTP probes


def http_request(
    port: int, method: str, path: str, body: bytes | None = None, headers: Mapping[str, str] | None = None
) -> tuple[int, bytes]:
    """One request on a keep-alive connection that we close: the TIME_WAIT stays on our side,
    so the server's port can be bound again at once (urllib's `Connection: close` makes the server close first)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        connection.request(method, path, body, {"Content-Type": "application/json", **(headers or {})})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def request_probe(port: int, request: Request) -> Callable[[], str | None]:
    """A readiness check: one such request through `port` must answer 200."""

    def why_not_ready() -> str | None:
        try:
            status, answer = http_request(port, "POST", request.path, request.body, request.headers)
        except OSError as error:
            return str(error)
        return None if status == 200 else f"HTTP {status}: {answer[:200]!r}"

    return why_not_ready


# ---------------------------------------------------------------------------
# wrk

WRK_SCRIPT = """\
wrk.method = "POST"
wrk.path = "{path}"
wrk.headers["Content-Type"] = "application/json"
{headers}wrk.body = [==[{body}]==]

-- One machine-readable line; latencies in microseconds.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH_RESULT %d %d %.0f %.0f %d %d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""
WRK_RESULT = re.compile(r"^BENCH_RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)$", re.MULTILINE)


@dataclass(frozen=True)
class WrkResult:
    requests: int
    duration_s: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.duration_s


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk not found: installing the Debian package `wrk` (apt-get update; apt-get install -y wrk)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "update"], ["apt-get", "install", "-y", "wrk"]):
        subprocess.run(argv, check=True, env=env, timeout=600, stdout=subprocess.DEVNULL)
    installed = shutil.which("wrk")
    if not installed:
        raise SystemExit("apt-get installed wrk but it is not on PATH")
    return installed


class Wrk:
    def __init__(self, binary: str, work_dir: Path) -> None:
        self.binary = binary
        self._work_dir = work_dir
        self._scripts: dict[tuple[object, ...], Path] = {}

    def script(self, request: Request) -> Path:
        """The Lua script sending `request`, written once per kind of request."""
        key = (request.path, request.body, tuple(request.headers.items()))
        if key not in self._scripts:
            assert b"]==]" not in request.body, "the body would end the Lua long string"
            headers = "".join(f'wrk.headers["{name}"] = "{value}"\n' for name, value in request.headers.items())
            script = self._work_dir / f"request-{len(self._scripts)}.lua"
            script.write_text(WRK_SCRIPT.format(path=request.path, headers=headers, body=request.body.decode()))
            self._scripts[key] = script
        return self._scripts[key]

    def run(self, port: int, request: Request, concurrency: int, duration_s: int) -> WrkResult:
        argv = [
            "taskset", "-c", LOAD_CORE, self.binary,
            "-t1", f"-c{concurrency}", f"-d{duration_s}s", "--timeout", "10s", "--latency",
            "-s", str(self.script(request)), f"http://{HOST}:{port}{request.path}",
        ]  # fmt: skip
        completed = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=duration_s + 30)
        match = WRK_RESULT.search(completed.stdout)
        if completed.returncode != 0 or not match:
            raise RuntimeError(f"wrk failed (exit {completed.returncode}): {completed.stdout}{completed.stderr}")
        requests, duration_us, p50_us, p99_us, non_2xx, socket_errors = map(int, match.groups())
        return WrkResult(requests, duration_us / 1e6, p50_us / 1000, p99_us / 1000, non_2xx, socket_errors)


# ---------------------------------------------------------------------------
# Scenarios


@dataclass(frozen=True)
class Point:
    concurrency: int
    wrk: WrkResult
    # CPU µs per request of each process group we watch, e.g. {"ext_proc": 85.0}.
    cpu_us_per_request: dict[str, float]


@dataclass
class Scenario:
    name: str
    request: Request
    where: str  # what serves it, for the report
    # The scenario whose latency at the same concurrency this one's is compared with (aiplane vs Envoy alone).
    latency_baseline: str | None = None
    # The scenario whose ext_proc CPU this one's is compared with (a translation vs the untranslated path).
    cpu_baseline: str | None = None
    points: list[Point] = field(default_factory=list)
    skipped: str | None = None


@dataclass(frozen=True)
class Target:
    """A running system to load: its port, and the processes whose CPU we account."""

    port: int
    watched_pids: dict[str, list[int]]


@dataclass(frozen=True)
class Settings:
    duration_s: int
    warmup_s: int
    stream_requests: int
    stream_warmup: int


def measure(scenario: Scenario, target: Target, wrk: Wrk, settings: Settings) -> None:
    print(f"{scenario.name}: warming up for {settings.warmup_s}s")
    wrk.run(target.port, scenario.request, max(CONCURRENCIES), settings.warmup_s)
    for concurrency in CONCURRENCIES:
        before = {name: cpu_seconds(pids) for name, pids in target.watched_pids.items()}
        result = wrk.run(target.port, scenario.request, concurrency, settings.duration_s)
        after = {name: cpu_seconds(pids) for name, pids in target.watched_pids.items()}
        per_request = {name: (after[name] - before[name]) * 1e6 / max(result.requests, 1) for name in before}
        scenario.points.append(Point(concurrency, result, per_request))
        print(
            f"  c={concurrency:<3} {result.requests_per_s:9.0f} req/s  p50 {result.p50_ms:7.3f} ms"
            f"  p99 {result.p99_ms:7.3f} ms  errors {result.non_2xx + result.socket_errors}"
        )


# ---------------------------------------------------------------------------
# Streams: time to first token


@dataclass(frozen=True)
class StreamResult:
    requests: int
    events: int  # SSE events the client received, over all measured requests
    ttft_ms: list[float]  # send to the first event carrying content, one per successful request
    errors: int
    cpu_s: dict[str, float]  # CPU seconds of each watched process group during the point

    def percentile_ms(self, fraction: float) -> float | None:
        """Nearest-rank percentile."""
        if not self.ttft_ms:
            return None
        ordered = sorted(self.ttft_ms)
        return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]

    def cpu_us_per_event(self, name: str) -> float | None:
        return self.cpu_s[name] * 1e6 / self.events if name in self.cpu_s and self.events else None


@dataclass
class Stream:
    name: str
    request: Request
    where: str
    latency_baseline: str | None = None
    cpu_baseline: str | None = None
    result: StreamResult | None = None
    skipped: str | None = None


def carries_content(event: bytes) -> bool:
    """Whether an SSE event holds generated text: an OpenAI chunk's `delta.content` or an Anthropic
    `content_block_delta`'s `delta.text`."""
    for line in event.split(b"\n"):
        if not line.startswith(b"data:"):
            continue
        try:
            data = orjson.loads(line[5:])
        except orjson.JSONDecodeError:
            return False  # OpenAI's `[DONE]`
        if not isinstance(data, dict):
            return False
        if data.get("type") == "content_block_delta":
            return bool((data.get("delta") or {}).get("text"))
        choices = data.get("choices") or [{}]
        return bool((choices[0].get("delta") or {}).get("content"))
    return False


def stream_once(client: httpx.Client, url: str, request: Request) -> tuple[float | None, int]:
    """Send one streaming request; the ms to its first content event (None if none came) and its event count."""
    first: float | None = None
    events = 0
    buffer = b""
    started = time.perf_counter()
    with client.stream("POST", url, content=request.body, headers=request.headers) as response:
        for chunk in response.iter_raw():
            arrived = time.perf_counter()
            buffer = (buffer + chunk).replace(b"\r\n", b"\n")
            *complete, buffer = buffer.split(b"\n\n")
            for event in complete:
                if not event.strip():
                    continue
                events += 1
                if first is None and carries_content(event):
                    first = (arrived - started) * 1000
        if response.status_code != 200:
            return None, events
    return first, events


def measure_stream(stream: Stream, target: Target, settings: Settings) -> None:
    """Sequential streaming requests from this process (pinned to the load core), after a warm-up."""
    url = f"http://{HOST}:{target.port}{stream.request.path}"
    headers = {"Content-Type": "application/json", **stream.request.headers}
    request = Request(stream.request.label, stream.request.path, stream.request.body, headers)
    print(f"{stream.name}: {settings.stream_warmup} warm-up and {settings.stream_requests} streamed requests")
    with httpx.Client(timeout=10) as client:
        for _ in range(settings.stream_warmup):
            stream_once(client, url, request)
        before = {name: cpu_seconds(pids) for name, pids in target.watched_pids.items()}
        ttft: list[float] = []
        events = errors = 0
        for _ in range(settings.stream_requests):
            try:
                first, received = stream_once(client, url, request)
            except httpx.HTTPError:
                first, received = None, 0
            events += received
            if first is None:
                errors += 1
            else:
                ttft.append(first)
        after = {name: cpu_seconds(pids) for name, pids in target.watched_pids.items()}
    stream.result = StreamResult(
        settings.stream_requests, events, ttft, errors, {name: after[name] - before[name] for name in before}
    )
    p50, p99 = stream.result.percentile_ms(0.5), stream.result.percentile_ms(0.99)
    print(
        f"  TTFT p50 {format_ms(p50)} ms  p99 {format_ms(p99)} ms"
        f"  {events / max(settings.stream_requests, 1):.1f} events/request  errors {errors}"
    )


def start_mock(processes: Processes, probe: Request) -> Started:
    ensure_ports_free([MOCK_PORT])
    code = f"from aiplane.mock_provider import run_mock_provider; run_mock_provider({HOST!r}, {MOCK_PORT})"
    mock = processes.start("mock", [sys.executable, "-c", code], LOAD_CORE)
    wait_until_ready(mock, request_probe(MOCK_PORT, probe))
    return mock


def start_envoy_only(processes: Processes, probe: Request, work_dir: Path) -> Started:
    ensure_ports_free([ENVOY_ONLY_PORT, ENVOY_ONLY_ADMIN_PORT])
    config = work_dir / "envoy-only.yaml"
    config.write_text(
        string.Template(ENVOY_ONLY_TEMPLATE.read_text()).substitute(
            listen_port=ENVOY_ONLY_PORT, admin_port=ENVOY_ONLY_ADMIN_PORT, mock_port=MOCK_PORT
        )
    )
    argv = [str(envoy_path()), "-c", str(config), "--concurrency", "1", "--disable-hot-restart", "--log-level", "warn"]
    envoy = processes.start("envoy-only", argv, GATEWAY_CORE)
    wait_until_ready(envoy, request_probe(ENVOY_ONLY_PORT, probe))
    return envoy


@dataclass(frozen=True)
class AiplaneStatus:
    """The pids `GET /status` on aiplane's admin API reports."""

    workers: list[int]
    envoy: int
    mock: int | None

    @classmethod
    def fetch(cls) -> AiplaneStatus:
        try:
            code, answer = http_request(AIPLANE_ADMIN_PORT, "GET", "/status")
        except OSError as error:
            raise StartupError(f"GET /status failed: {error}") from error
        if code != 200:
            raise StartupError(f"GET /status answered HTTP {code}: {answer[:200]!r}")
        try:
            status = orjson.loads(answer)
            mock = status.get("mock_provider")
            parsed = cls(
                workers=[int(worker["pid"]) for worker in status["workers"]],
                envoy=int(status["envoy"]["pid"]),
                mock=int(mock["pid"]) if mock else None,
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise StartupError(f"GET /status did not give the workers' and Envoy's pids: {error!r}") from error
        if not parsed.workers:
            raise StartupError("GET /status lists no ext_proc workers")
        return parsed

    def pids(self) -> list[int]:
        return [*self.workers, self.envoy, *([self.mock] if self.mock else [])]


def start_aiplane(processes: Processes, config: Path, probes: Sequence[Request]) -> tuple[Started, AiplaneStatus]:
    """Start `aiplane up -c config` on the gateway core, ready when every probe answers 200;
    StartupError says why it could not be benchmarked."""
    aiplane = Path(sys.executable).with_name("aiplane")
    if not aiplane.exists():
        raise StartupError(f"{aiplane} not found (run `make install`)")
    # `aiplane up` checks its own ports and says which one is taken.
    started = processes.start(config.stem, [str(aiplane), "up", "-c", str(config)], GATEWAY_CORE)
    announced = f"http://{HOST}:{AIPLANE_PORT}"
    wait_until_ready(
        started, lambda: None if announced in started.log.read_text(errors="replace") else f"no {announced} line"
    )
    for probe in probes:
        wait_until_ready(started, request_probe(AIPLANE_PORT, probe))
    status = AiplaneStatus.fetch()
    if status.mock is not None:
        # aiplane up started the mock on the gateway core, where it would steal the gateway's CPU.
        pin_to_core(status.mock, LOAD_CORE)
    return started, status


def describe_aiplane_pinning(aiplane: Started, status: AiplaneStatus, config: Path) -> str:
    mock = f"; its mock provider moved to core {cpu_affinity(status.mock)}" if status.mock else ""
    return (
        f"{aiplane.name} (`aiplane up -c {config.relative_to(REPO)}`) and its children"
        f" on core {cpu_affinity(aiplane.process.pid)}"
        f" (Envoy on {cpu_affinity(status.envoy)} with {envoy_concurrency(status.envoy)},"
        f" {len(status.workers)} ext_proc worker(s) on {', '.join(cpu_affinity(pid) for pid in status.workers)}){mock}"
    )


def stop_aiplane(processes: Processes, started: Started, status: AiplaneStatus) -> None:
    processes.stop(started)
    # aiplane up must stop its own children; say so, and clean up, if one outlived it.
    for pid in status.pids():
        if is_running(pid):
            print(f"  warning: pid {pid} outlived `aiplane up`: killing it")
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


# ---------------------------------------------------------------------------
# Report


def format_ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def format_us(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def format_us1(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def difference(value: float | None, baseline: float | None) -> float | None:
    return None if value is None or baseline is None else value - baseline


def results_table(scenarios: Sequence[Scenario]) -> str:
    points = {scenario.name: {point.concurrency: point for point in scenario.points} for scenario in scenarios}
    rows = [
        (
            "| Scenario | Concurrency | Requests/s | p50 ms | p99 ms | Added p50 ms | Added p99 ms "
            "| ext_proc CPU µs/req | Translation's extra ext_proc µs/req | Envoy CPU µs/req | Errors |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for scenario in scenarios:
        if scenario.skipped:
            rows.append(f"| {scenario.name} | — | skipped (see below) | | | | | | | | |")
        for point in scenario.points:
            wrk = point.wrk
            latency_base = points.get(scenario.latency_baseline or "", {}).get(point.concurrency)
            cpu_base = points.get(scenario.cpu_baseline or "", {}).get(point.concurrency)
            ext_proc = point.cpu_us_per_request.get("ext_proc")
            rows.append(
                f"| {scenario.name} | {point.concurrency} | {wrk.requests_per_s:.0f} "
                f"| {format_ms(wrk.p50_ms)} | {format_ms(wrk.p99_ms)} "
                f"| {format_ms(difference(wrk.p50_ms, latency_base and latency_base.wrk.p50_ms))} "
                f"| {format_ms(difference(wrk.p99_ms, latency_base and latency_base.wrk.p99_ms))} "
                f"| {format_us(ext_proc)} "
                f"| {format_us(difference(ext_proc, cpu_base and cpu_base.cpu_us_per_request.get('ext_proc')))} "
                f"| {format_us(point.cpu_us_per_request.get('envoy'))} "
                f"| {wrk.non_2xx + wrk.socket_errors} |"
            )
    return "\n".join(rows)


def streams_table(streams: Sequence[Stream]) -> str:
    results = {stream.name: stream.result for stream in streams if stream.result}
    rows = [
        (
            "| Stream | Requests | Events/request | TTFT p50 ms | TTFT p99 ms | Added TTFT p50 ms | Added TTFT p99 ms "
            "| ext_proc CPU µs/event | Translation's share µs/event | Envoy CPU µs/event | Errors |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for stream in streams:
        result = stream.result
        if result is None:
            rows.append(f"| {stream.name} | — | skipped (see below) | | | | | | | | |")
            continue
        latency_base = results.get(stream.latency_baseline or "")
        cpu_base = results.get(stream.cpu_baseline or "")
        ext_proc = result.cpu_us_per_event("ext_proc")
        p50, p99 = result.percentile_ms(0.5), result.percentile_ms(0.99)
        rows.append(
            f"| {stream.name} | {result.requests} | {result.events / max(result.requests, 1):.1f} "
            f"| {format_ms(p50)} | {format_ms(p99)} "
            f"| {format_ms(difference(p50, latency_base and latency_base.percentile_ms(0.5)))} "
            f"| {format_ms(difference(p99, latency_base and latency_base.percentile_ms(0.99)))} "
            f"| {format_us1(ext_proc)} "
            f"| {format_us1(difference(ext_proc, cpu_base and cpu_base.cpu_us_per_event('ext_proc')))} "
            f"| {format_us1(result.cpu_us_per_event('envoy'))} | {result.errors} |"
        )
    return "\n".join(rows)


def command_output(argv: Sequence[str]) -> str:
    """First line a version-printing command writes (`wrk -v` exits 1 after printing it)."""
    completed = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=10)
    return (completed.stdout or completed.stderr).strip().split("\n")[0]


def machine_description(load_before: float) -> str:
    cpu_model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    # Other work on the machine skews every number: the load average before the run shows it.
    return f"{os.cpu_count()} cores, {cpu_model}, Linux {platform.release()}; load average {load_before:.2f} before the run"


def write_report(
    scenarios: Sequence[Scenario],
    streams: Sequence[Stream],
    pinning: Sequence[str],
    settings: Settings,
    started_at: datetime,
    load_before: float,
) -> Path:
    wrk_version = command_output(["wrk", "-v"]).split(" Copyright")[0]
    envoy_version = command_output([str(envoy_path()), "--version"]).split("version: ", 1)[-1]
    skipped = [item for item in (*scenarios, *streams) if item.skipped]
    report = (
        "\n".join(
            [
                f"# aiplane benchmark, {started_at:%Y-%m-%d %H:%M:%S} UTC",
                "",
                f"- Requests: {BODY_BYTES}-byte bodies, non-streaming under wrk; what each scenario sends and to what:",
                *(f"  - `{item.name}`: {item.request.label}, to {item.where}." for item in scenarios),
                (
                    f"- Load: {wrk_version}, 1 thread, {settings.duration_s}s per point"
                    f" after a {settings.warmup_s}s warm-up per scenario; latencies are wrk's percentiles."
                ),
                f"- Machine: {machine_description(load_before)}.",
                f"- Envoy: {envoy_version}.",
                "- Pinning (read back with sched_getaffinity): " + "; ".join(pinning) + ".",
                (
                    "- Added latency is the scenario minus Envoy alone at the same concurrency. CPU µs/req is the"
                    " utime+stime the processes used during the point, from /proc/<pid>/stat, over the requests wrk"
                    " counted. A translation's extra ext_proc CPU is its ext_proc µs/req minus the untranslated"
                    " `aiplane` row's at the same concurrency."
                ),
                "",
                results_table(scenarios),
                "",
                "## Streaming: time to first token",
                "",
                (
                    f"- One sequential httpx client in the harness process (core {LOAD_CORE}), {settings.stream_warmup}"
                    f" warm-up then {settings.stream_requests} measured requests per stream, `x-mock-chunks:"
                    f" {STREAM_CHUNKS}`; TTFT is from sending the request to the arrival of the first SSE event"
                    " carrying content (an OpenAI `delta.content`, an Anthropic `content_block_delta`)."
                ),
                *(f"  - `{item.name}`: {item.request.label}, to {item.where}." for item in streams),
                (
                    "- Added TTFT is the stream minus Envoy alone's. CPU µs/event is the processes' utime+stime"
                    " during the measured requests over the SSE events the client received (all events, see"
                    " Events/request); the translation's share is the translated stream's ext_proc µs/event minus"
                    " the untranslated aiplane stream's (the same content pieces upstream: an OpenAI stream, or for Bedrock its Converse stream)."
                ),
                "",
                streams_table(streams),
                "",
                *(f"- {item.name} skipped: {item.skipped}" for item in skipped),
            ]
        ).rstrip("\n")
        + "\n"
    )
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    dated = RESULTS_DIR / f"{started_at:%Y%m%dT%H%M%SZ}.md"
    for path in (dated, RESULTS_DIR / "latest.md"):
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(report)
        temporary.replace(path)
    print()
    print(report)
    return dated


# ---------------------------------------------------------------------------
# Main


def run_aiplane(
    processes: Processes,
    config: Path,
    scenarios: Sequence[Scenario],
    streams: Sequence[Stream],
    wrk: Wrk,
    settings: Settings,
    pinning: list[str],
) -> None:
    """One `aiplane up -c config`, loaded with each scenario then each stream; all are skipped if it cannot start."""
    everything: list[Scenario | Stream] = [*scenarios, *streams]
    try:
        aiplane, status = start_aiplane(processes, config, [item.request for item in everything])
    except StartupError as error:
        for item in everything:
            item.skipped = f"`aiplane up -c {config.relative_to(REPO)}`: {error}"
        print(f"{config.name}: skipped: {error}")
        return
    pinning.append(describe_aiplane_pinning(aiplane, status, config))
    try:
        target = Target(AIPLANE_PORT, {"ext_proc": status.workers, "envoy": [status.envoy]})
        for scenario in scenarios:
            measure(scenario, target, wrk, settings)
        for stream in streams:
            measure_stream(stream, target, settings)
    finally:
        stop_aiplane(processes, aiplane, status)


def run(settings: Settings) -> Path:
    started_at = datetime.now(UTC)
    load_before = os.getloadavg()[0]
    wrk_binary = ensure_wrk()
    # The streaming client runs in this process: on the load core, with wrk and the mock.
    # (Every process started later is pinned by taskset itself.)
    os.sched_setaffinity(0, {int(LOAD_CORE)})
    chat = chat_request()
    mock_only = "the mock directly"
    envoy_alone = "Envoy alone"
    plain = f"aiplane, `{AIPLANE_CONFIG.relative_to(REPO)}` (one OpenAI provider)"
    dialects = (
        f"aiplane, `{AIPLANE_DIALECTS_CONFIG.relative_to(REPO)}`"
        " (plus providers with `provider_interface: anthropic` and `bedrock`)"
    )
    mock_scenario = Scenario("mock", chat, mock_only)
    envoy_scenario = Scenario("envoy-only", chat, envoy_alone)
    aiplane_scenarios = [
        Scenario("aiplane", chat, plain, latency_baseline="envoy-only"),
        Scenario(
            "aiplane anthropic→openai", messages_request(), plain, latency_baseline="envoy-only", cpu_baseline="aiplane"
        ),
    ]
    dialects_scenarios = [
        Scenario(
            "aiplane openai→anthropic",
            chat_request(ANTHROPIC_MODEL),
            dialects,
            latency_baseline="envoy-only",
            cpu_baseline="aiplane",
        ),
        Scenario(
            "aiplane openai→bedrock",
            chat_request(BEDROCK_MODEL),
            dialects,
            latency_baseline="envoy-only",
            cpu_baseline="aiplane",
        ),
    ]
    scenarios = [mock_scenario, envoy_scenario, *aiplane_scenarios, *dialects_scenarios]
    envoy_stream = Stream("envoy-only stream", chat_request(stream=True).with_headers(STREAM_HEADERS), envoy_alone)
    aiplane_streams = [
        Stream("aiplane stream", envoy_stream.request, plain, latency_baseline="envoy-only stream"),
        Stream(
            "aiplane anthropic→openai stream",
            messages_request(stream=True).with_headers(STREAM_HEADERS),
            plain,
            latency_baseline="envoy-only stream",
            cpu_baseline="aiplane stream",
        ),
    ]
    dialects_streams = [
        Stream(
            "aiplane openai→bedrock stream",
            chat_request(BEDROCK_MODEL, stream=True).with_headers(STREAM_HEADERS),
            dialects,
            latency_baseline="envoy-only stream",
            cpu_baseline="aiplane stream",
        )
    ]
    streams = [envoy_stream, *aiplane_streams, *dialects_streams]
    pinning = [f"wrk on core {LOAD_CORE}", f"this harness (the streaming client) on core {cpu_affinity(os.getpid())}"]
    with tempfile.TemporaryDirectory(prefix="aiplane-bench-") as tmp, Processes(Path(tmp)) as processes:
        work_dir = Path(tmp)
        wrk = Wrk(wrk_binary, work_dir)

        mock = start_mock(processes, chat)
        pinning.append(f"mock on core {cpu_affinity(mock.process.pid)}")
        measure(mock_scenario, Target(MOCK_PORT, {}), wrk, settings)

        envoy = start_envoy_only(processes, chat, work_dir)
        pinning.append(f"Envoy alone (--concurrency 1) on core {cpu_affinity(envoy.process.pid)}")
        envoy_target = Target(ENVOY_ONLY_PORT, {"envoy": [envoy.process.pid]})
        measure(envoy_scenario, envoy_target, wrk, settings)
        measure_stream(envoy_stream, envoy_target, settings)
        processes.stop(envoy)

        # aiplane up runs a mock provider of its own on MOCK_PORT, as it does for any provider pointing there.
        processes.stop(mock)
        run_aiplane(processes, AIPLANE_CONFIG, aiplane_scenarios, aiplane_streams, wrk, settings, pinning)
        run_aiplane(processes, AIPLANE_DIALECTS_CONFIG, dialects_scenarios, dialects_streams, wrk, settings, pinning)
    return write_report(scenarios, streams, pinning, settings, started_at, load_before)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description="Benchmark the mock, Envoy alone and aiplane."
    )
    parser.add_argument("--duration", type=int, default=8, help="seconds of load per point (default 8)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per scenario (default 2)")
    parser.add_argument(
        "--stream-requests", type=int, default=200, help="measured streaming requests per stream (default 200)"
    )
    parser.add_argument(
        "--stream-warmup", type=int, default=20, help="warm-up streaming requests per stream (default 20)"
    )
    args = parser.parse_args(argv)
    # SIGINT and SIGTERM unwind as KeyboardInterrupt, so every started process is stopped
    # (SIGINT explicitly: a background job starts with it ignored).
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.default_int_handler)
    try:
        path = run(
            Settings(
                duration_s=args.duration,
                warmup_s=args.warmup,
                stream_requests=args.stream_requests,
                stream_warmup=args.stream_warmup,
            )
        )
    except StartupError as error:
        raise SystemExit(f"benchmark failed: {error}") from None
    except KeyboardInterrupt:
        raise SystemExit("benchmark interrupted; every process it started was stopped") from None
    print(f"\nwrote {path} and {path.with_name('latest.md')}")


if __name__ == "__main__":
    main()
