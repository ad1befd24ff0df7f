"""aiplane's admin API: `/healthz`, `/status` and `/metrics` on the admin port."""

from __future__ import annotations

from typing import TYPE_CHECKING

import prometheus_client
from aiohttp import web

if TYPE_CHECKING:
    from aiplane.supervisor import Supervisor


async def start_admin(supervisor: Supervisor, host: str, port: int) -> web.AppRunner:
    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def status(_: web.Request) -> web.Response:
        return web.json_response(supervisor.status())

    async def metrics(_: web.Request) -> web.Response:
        return web.Response(body=prometheus_client.generate_latest(), content_type="text/plain", charset="utf-8")

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/status", status)
    app.router.add_get("/metrics", metrics)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
