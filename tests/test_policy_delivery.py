"""Workers receive the policy over ADS: they apply a good one, NACK a bad one and keep the last good one."""

from __future__ import annotations

import asyncio

from google.protobuf import any_pb2

from aiplane.extproc.policy_client import follow_policy
from aiplane.policy import Policy, parse_policy
from aiplane.xds import types
from aiplane.xds.cache import SnapshotCache
from aiplane.xds.server import start_xds_server
from aiplane.xds.snapshot import Snapshot

GROUP = "aiplane-extproc"


def policy_snapshot(payload: bytes) -> Snapshot:
    return Snapshot.build({types.POLICY: [("aiplane.policy", any_pb2.Any(type_url=types.POLICY, value=payload))]})


def good_policy(model: str) -> bytes:
    text = f"version: v0.2.0\nmodel_providers:\n  - {{model: mock/{model}, base_url: 'http://127.0.0.1:1/v1', default: true}}\n"
    return parse_policy(text, env={}).model_dump_json().encode()


async def until(predicate, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


def test_a_worker_applies_good_policies_and_nacks_a_bad_one():
    async def scenario():
        cache = SnapshotCache()
        cache.set_snapshot(GROUP, policy_snapshot(good_policy("first")))
        server = await start_xds_server(cache)
        applied: list[Policy] = []
        follower = asyncio.create_task(follow_policy(f"127.0.0.1:{server.port}", "worker-0", applied.append))
        try:
            await until(lambda: len(applied) == 1)
            assert applied[0].model_providers[0].model == "mock/first"

            bad = policy_snapshot(b'{"version": "v0.2.0", "model_providers": "not a list"}')
            cache.set_snapshot(GROUP, bad)
            await until(lambda: cache.status() and cache.status()[0].types[types.POLICY].last_nack is not None)
            nack = cache.status()[0].types[types.POLICY].last_nack
            assert nack.version == bad.version(types.POLICY) and "model_providers" in nack.detail
            assert len(applied) == 1  # the last good policy stays in force

            fixed = policy_snapshot(good_policy("second"))
            cache.set_snapshot(GROUP, fixed)
            await until(lambda: len(applied) == 2)
            assert applied[1].model_providers[0].model == "mock/second"
            await until(lambda: cache.acked_count(GROUP) == 1)
        finally:
            follower.cancel()
            await server.stop(0)

    asyncio.run(scenario())
