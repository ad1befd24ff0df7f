"""The ext_proc gRPC servicer: a thin async shell over `decisions`.

Envoy opens one stream per HTTP request. The routing table in force when the
stream opens serves the whole request, so a policy swap mid-request never mixes
two policies; an `Exchange` carries what one phase learned to the next.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from envoy.service.ext_proc.v3 import external_processor_pb2_grpc as ext_proc_grpc
from envoy.service.ext_proc.v3.external_processor_pb2 import ProcessingRequest, ProcessingResponse

from aiplane.extproc import decisions, replies
from aiplane.extproc.routing import RoutingTable


class DecisionServer(ext_proc_grpc.ExternalProcessorServicer):
    def __init__(self) -> None:
        self.table: RoutingTable | None = None

    def apply(self, table: RoutingTable) -> None:
        """Swap in a new policy; streams already running keep the one they started with."""
        self.table = table

    async def Process(  # noqa: N802 (gRPC's method name)
        self, request_iterator: AsyncIterator[ProcessingRequest], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[ProcessingResponse]:
        table = self.table
        if table is None:
            yield replies.no_policy()
            return
        exchange: decisions.Exchange | None = None
        async for request in request_iterator:
            phase = request.WhichOneof("request")
            if phase == "request_headers":
                decision = decisions.on_request_headers(table, request.request_headers)
                yield decision.response
                exchange = decision.exchange
                if exchange is None:
                    return  # answered: Envoy ignores anything more on this stream
            elif exchange is None:
                yield decisions.CONTINUE[phase]
            elif phase == "request_body":
                yield decisions.on_request_body(table, exchange, request.request_body)
            elif phase == "response_headers":
                yield decisions.on_response_headers(exchange, request.response_headers)
            elif phase == "response_body":
                yield decisions.on_response_body(exchange, request.response_body)
            else:
                yield decisions.CONTINUE[phase]


async def start_decision_server(server_impl: DecisionServer, host: str, port: int) -> tuple[grpc.aio.Server, int]:
    server = grpc.aio.server(
        options=[
            # One port per worker: a port conflict must fail loudly, not be shared.
            ("grpc.so_reuseport", 0),
            ("grpc.max_receive_message_length", 64 * 1024 * 1024),
            ("grpc.max_send_message_length", 64 * 1024 * 1024),
            ("grpc.http2.max_pings_without_data", 0),
            ("grpc.keepalive_permit_without_calls", 1),
        ]
    )
    ext_proc_grpc.add_ExternalProcessorServicer_to_server(server_impl, server)
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"cannot bind the ext_proc worker to {host}:{port}")
    await server.start()
    return server, bound
