"""Receive the policy from the control plane over ADS, as Envoy receives its config.

A worker ACKs a policy it compiled and NACKs one it could not (with the reason),
keeping the last good one, so a remote worker fleet is updated by the same
versioned, acknowledged mechanism as the Envoys.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import grpc
import structlog
from envoy.config.core.v3.base_pb2 import Node
from envoy.service.discovery.v3 import ads_pb2_grpc
from envoy.service.discovery.v3.discovery_pb2 import DiscoveryRequest, DiscoveryResponse
from google.rpc.status_pb2 import Status

from aiplane.policy import Policy
from aiplane.xds.types import POLICY

log = structlog.get_logger()

_INVALID_ARGUMENT = 3


def decode_policy(response: DiscoveryResponse) -> Policy:
    for resource in response.resources:
        if resource.type_url == POLICY:
            return Policy.model_validate_json(resource.value)
    raise ValueError(f"the response for {POLICY} holds no policy")


async def _drain(queue: asyncio.Queue[DiscoveryRequest]) -> AsyncIterator[DiscoveryRequest]:
    while True:
        yield await queue.get()


async def follow_policy(
    xds_target: str, node_id: str, apply: Callable[[Policy], None], *, node_cluster: str = "aiplane-extproc"
) -> None:
    """Apply every policy the control plane pushes, forever, reconnecting with backoff."""
    version = ""
    backoff = 0.1
    while True:
        requests: asyncio.Queue[DiscoveryRequest] = asyncio.Queue()
        requests.put_nowait(
            DiscoveryRequest(
                node=Node(id=node_id, cluster=node_cluster),
                type_url=POLICY,
                version_info=version,
            )
        )
        try:
            async with grpc.aio.insecure_channel(xds_target) as channel:
                stream = ads_pb2_grpc.AggregatedDiscoveryServiceStub(channel).StreamAggregatedResources(
                    _drain(requests)
                )
                async for response in stream:
                    backoff = 0.1
                    ack = DiscoveryRequest(type_url=POLICY, response_nonce=response.nonce)
                    try:
                        apply(decode_policy(response))
                    except Exception as exc:  # any failure to compile is a NACK, never a crash
                        log.error("policy rejected", version=response.version_info, error=str(exc))
                        ack.error_detail.CopyFrom(Status(code=_INVALID_ARGUMENT, message=str(exc)))
                    else:
                        version = response.version_info
                        log.info("policy applied", version=version)
                    ack.version_info = version
                    requests.put_nowait(ack)
        except grpc.aio.AioRpcError as exc:
            log.warning(
                "control plane unreachable; retrying", target=xds_target, code=exc.code().name, retry_in=backoff
            )
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, 5.0)
