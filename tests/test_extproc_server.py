"""The decision server's stream handling: one ext_proc stream is one HTTP request."""

from __future__ import annotations

import asyncio

from envoy.service.ext_proc.v3.external_processor_pb2 import HttpBody, ProcessingRequest
from test_routing import POLICY, headers

from aiplane.extproc.routing import RoutingTable
from aiplane.extproc.server import DecisionServer
from aiplane.policy import parse_policy

ENV = {"MOCK_KEY": "mk"}


def run(server: DecisionServer, requests: list[ProcessingRequest], between=None) -> list:
    async def incoming():
        for i, request in enumerate(requests):
            if i and between:
                between()
            yield request

    async def collect():
        return [response async for response in server.Process(incoming(), None)]

    return asyncio.run(collect())


def serving(policy_text: str = POLICY) -> DecisionServer:
    server = DecisionServer()
    server.apply(RoutingTable(parse_policy(policy_text, env=ENV), env=ENV))
    return server


CHAT = [
    ProcessingRequest(request_headers=headers("POST", "/v1/chat/completions")),
    ProcessingRequest(request_body=HttpBody(body=b'{"model": "fast", "messages": []}', end_of_stream=True)),
]


def test_a_chat_request_gets_a_headers_answer_then_a_body_answer():
    responses = run(serving(), CHAT)
    assert [r.WhichOneof("response") for r in responses] == ["request_headers", "request_body"]


def test_the_stream_ends_after_an_immediate_answer_even_if_a_body_follows():
    requests = [ProcessingRequest(request_headers=headers("POST", "/v1/unknown")), CHAT[1]]
    responses = run(serving(), requests)
    assert [r.WhichOneof("response") for r in responses] == ["immediate_response"]


def test_a_policy_swapped_mid_request_does_not_change_that_request():
    server = serving()
    renamed = POLICY.replace("fast: {target: mock/mock-gpt}", "fast: {target: openai/gpt-4o}")
    responses = run(server, CHAT, between=lambda: server.apply(RoutingTable(parse_policy(renamed, env=ENV), env=ENV)))
    route = {h.header.key: h.header.raw_value for h in responses[1].request_body.response.header_mutation.set_headers}
    assert route["x-aiplane-route"] == b"mock"
    assert run(server, CHAT)[1].immediate_response.status.code == 503  # the new policy: openai has no key


def test_without_a_policy_every_request_is_a_503():
    responses = run(DecisionServer(), CHAT)
    assert len(responses) == 1 and responses[0].immediate_response.status.code == 503
