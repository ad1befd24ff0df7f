"""One ext_proc worker process: `python -m aiplane.extproc.worker --port N --xds HOST:PORT`."""

from __future__ import annotations

import argparse
import asyncio
import signal

import structlog
import uvloop

from aiplane import logs
from aiplane.extproc.policy_client import follow_policy
from aiplane.extproc.routing import RoutingTable
from aiplane.extproc.server import DecisionServer, start_decision_server
from aiplane.translate import token_count

log = structlog.get_logger()


async def serve(host: str, port: int, xds_target: str, node_id: str) -> None:
    decision_server = DecisionServer()
    server, bound = await start_decision_server(decision_server, host, port)
    log.info("ext_proc worker serving", address=f"{host}:{bound}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    follower = asyncio.create_task(
        follow_policy(xds_target, node_id, lambda policy: decision_server.apply(RoutingTable(policy)))
    )
    # The tokenizer for count_tokens takes ~0.15 s to read: off the event loop, before any request needs it.
    await asyncio.to_thread(token_count.load)
    await stop.wait()
    follower.cancel()
    await server.stop(grace=1.0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="aiplane-extproc-worker")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--xds", required=True, help="control plane HOST:PORT")
    parser.add_argument("--node-id", default="extproc")
    args = parser.parse_args(argv)
    logs.configure(f"extproc:{args.port}")
    uvloop.run(serve(args.host, args.port, args.xds, args.node_id))


if __name__ == "__main__":
    main()
