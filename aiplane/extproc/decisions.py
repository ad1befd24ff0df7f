"""What to do with one LLM request: pure functions from ext_proc messages to answers.

The request-headers phase classifies the route and rejects what can be
rejected without a body; the request-body phase resolves the model and
rewrites the request for its provider. No I/O happens here.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from envoy.service.ext_proc.v3.external_processor_pb2 import (
    BodyResponse,
    CommonResponse,
    HeadersResponse,
    HttpBody,
    HttpHeaders,
    ProcessingResponse,
    TrailersResponse,
)

from aiplane.extproc import replies
from aiplane.extproc.routing import CHAT_COMPLETIONS, RoutingTable, header

MODELS = "/v1/models"

CONTINUE_HEADERS = ProcessingResponse(request_headers=HeadersResponse())
# Answers for phases the filter was not asked to send, so Envoy never waits on us.
CONTINUE = {
    "request_headers": CONTINUE_HEADERS,
    "response_headers": ProcessingResponse(response_headers=HeadersResponse()),
    "request_body": ProcessingResponse(request_body=BodyResponse()),
    "response_body": ProcessingResponse(response_body=BodyResponse()),
    "request_trailers": ProcessingResponse(request_trailers=TrailersResponse()),
    "response_trailers": ProcessingResponse(response_trailers=TrailersResponse()),
}


@dataclass(frozen=True, slots=True)
class HeadersDecision:
    response: ProcessingResponse
    awaits_body: bool  # True when the body phase will decide


def _method_and_path(headers: HttpHeaders) -> tuple[str, str]:
    path = method = ""
    for h in headers.headers.headers:
        if h.key == ":path":
            path = (h.raw_value or h.value.encode()).decode("latin-1")
        elif h.key == ":method":
            method = (h.raw_value or h.value.encode()).decode("latin-1")
    return method, path.partition("?")[0]


def on_request_headers(table: RoutingTable | None, headers: HttpHeaders) -> HeadersDecision:
    if table is None:
        return HeadersDecision(replies.no_policy(), False)
    method, path = _method_and_path(headers)
    if path == CHAT_COMPLETIONS and method == "POST":
        if headers.end_of_stream:
            return HeadersDecision(replies.malformed_json("the body is empty"), False)
        return HeadersDecision(CONTINUE_HEADERS, True)
    if path == MODELS and method == "GET":
        return HeadersDecision(replies.json_reply(200, table.models_body), False)
    return HeadersDecision(replies.unsupported_route(method, path), False)


def on_request_body(table: RoutingTable, body: HttpBody) -> ProcessingResponse:
    # Envoy enforces the body size limit while buffering (see xds.resources).
    try:
        doc = orjson.loads(body.body)
    except orjson.JSONDecodeError as exc:
        return replies.malformed_json(str(exc))
    if not isinstance(doc, dict):
        return replies.malformed_json("the body must be a JSON object")
    model = doc.get("model")
    if not isinstance(model, str):
        return replies.missing_model()
    resolution = table.resolve(model)
    if resolution is None:
        return replies.unknown_model(model, table.unknown_model_hint())
    route = resolution.route
    if route.disabled:
        return replies.provider_disabled(route.provider, route.disabled)

    common = CommonResponse(header_mutation=route.mutation, clear_route_cache=True)
    if resolution.upstream_model != model:
        doc["model"] = resolution.upstream_model
        new_body = orjson.dumps(doc)
        common.body_mutation.body = new_body
        common.header_mutation.set_headers.append(header("content-length", str(len(new_body))))
    return ProcessingResponse(request_body=BodyResponse(response=common))
