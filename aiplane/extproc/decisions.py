"""What to do with one LLM request: pure functions from ext_proc messages to answers.

Two filters call the decision server, each on its own ext_proc stream:
- the decision filter, on every request:
  - request headers: the client's dialect from the path; what can be answered without a
    body is answered (`/v1/models`, unknown routes). The body follows at once.
  - request body: resolve the model, translate the body for the provider's dialect, rewrite
    path, host and credentials, and pick the provider's route. When the answer needs
    translating too, that route has the response filter on, and the decision hands it a
    translation plan in dynamic metadata.
- the response filter, only on answers to translate:
  - response headers: read the plan, then the status and content type.
  - response body: translate, event by event for streams; a JSON answer (or an error) is
    gathered from its chunks and translated whole.

An `Exchange` carries what one stream's earlier messages learned to the next. No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson
from envoy.service.ext_proc.v3.external_processor_pb2 import (
    BodyMutation,
    BodyResponse,
    CommonResponse,
    HeaderMutation,
    HeadersResponse,
    HttpBody,
    HttpHeaders,
    ProcessingResponse,
    TrailersResponse,
)
from google.protobuf.struct_pb2 import Struct

from aiplane.dialects import (
    ANTHROPIC,
    CHAT,
    COUNT_TOKENS,
    CREDENTIAL_HEADERS,
    EMBEDDINGS,
    ClientCall,
    can_serve,
    client_call,
    client_key,
    translator_for,
)
from aiplane.extproc import replies
from aiplane.extproc.routing import RoutingTable, header
from aiplane.translate import EmbeddingTranslator, StreamTranslator, Translator, UnsupportedFeature
from aiplane.translate.response_view import response_view
from aiplane.translate.token_count import count_tokens_response
from aiplane.upstreams import METADATA_NAMESPACE

GEMINI_MODELS = "/v1beta/models"
_MODEL_LISTS = frozenset({"/v1/models", GEMINI_MODELS})
# API headers of a client dialect, not forwarded to another dialect's provider (keys: see routing).
_CLIENT_ONLY_HEADERS = {ANTHROPIC: ("anthropic-version", "anthropic-beta")}

# A provider's stream: server-sent events, or Bedrock's event-stream frames; clients always get SSE.
_STREAM_TYPES = ("text/event-stream", "application/vnd.amazon.eventstream")

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
class Exchange:
    """What a request's headers showed, for its body."""

    call: ClientCall  # what the request's method and path said
    client_key: str | None = None  # the key the client sent, for a provider that takes the client's own

    @property
    def client(self) -> str:
        return self.call.dialect


@dataclass(frozen=True, slots=True)
class HeadersDecision:
    response: ProcessingResponse
    exchange: Exchange | None  # None: answered, nothing more to decide


# The headers each phase reads, as sets built once.
_REQUEST_HEADERS_READ = frozenset({":method", ":path", "anthropic-version", *CREDENTIAL_HEADERS})
_RESPONSE_HEADERS_READ = frozenset({":status", "content-type"})


def _pseudo_headers(headers: HttpHeaders, names: frozenset[str]) -> dict[str, str]:
    found = {}
    for h in headers.headers.headers:
        if h.key in names:
            found[h.key] = (h.raw_value or h.value.encode()).decode("latin-1")
    return found


def on_request_headers(table: RoutingTable, headers: HttpHeaders) -> HeadersDecision:
    found = _pseudo_headers(headers, _REQUEST_HEADERS_READ)
    method, path = found.get(":method", ""), found.get(":path", "").partition("?")[0]
    call = client_call(method, path)
    if call is not None:
        if headers.end_of_stream:
            return HeadersDecision(replies.malformed_json(call.dialect, "the body is empty"), None)
        return HeadersDecision(CONTINUE_HEADERS, Exchange(call, client_key=client_key(found)))
    if method == "GET" and path in _MODEL_LISTS:
        if path == GEMINI_MODELS:
            body = table.gemini_models_body
        else:
            body = table.anthropic_models_body if "anthropic-version" in found else table.models_body
        return HeadersDecision(replies.json_reply(200, body), None)
    return HeadersDecision(replies.unsupported_route(method, path), None)


def on_request_body(table: RoutingTable, exchange: Exchange, body: HttpBody) -> ProcessingResponse:
    client, call = exchange.client, exchange.call
    try:
        doc = orjson.loads(body.body)
    except orjson.JSONDecodeError as exc:
        return replies.malformed_json(client, str(exc))
    if not isinstance(doc, dict):
        return replies.malformed_json(client, "the body must be a JSON object")
    model = call.model if call.model is not None else doc.get("model")
    if not isinstance(model, str):
        return replies.missing_model(client)
    resolution = table.resolve(model)
    if resolution is None:
        return replies.unknown_model(client, model, table.unknown_model_hint())
    route = resolution.route
    if route.disabled:
        return replies.provider_disabled(client, route.provider, route.disabled)

    if call.operation == CHAT:
        if not can_serve(client, route.dialect):
            return replies.untranslatable(client, route.provider, route.dialect)
        stream = call.stream if call.stream is not None else doc.get("stream") is True
        serving = "stream" if stream else CHAT
    elif call.operation == EMBEDDINGS:
        serving = EMBEDDINGS
    elif route.dialect != ANTHROPIC:  # count_tokens: a provider without it is answered here
        try:
            return replies.json_reply(200, count_tokens_response(doc))
        except ValueError as exc:
            return replies.invalid_request(client, str(exc))
    else:
        serving = COUNT_TOKENS
    path = route.path_for(resolution.upstream_model, serving)
    if path is None:
        return replies.not_offered(client, route.provider, route.dialect, call.operation)

    translator = translator_for(client, route.dialect, call.operation)
    plan = None
    if translator is not None:
        if call.model is not None:
            # A client that names the model in the path: the translator sees it in the body.
            doc = {**doc, "model": model, "stream": stream}
        try:
            translated = translator.request(doc, resolution.upstream_model)
        except UnsupportedFeature as exc:
            return replies.unsupported_feature(client, exc.param, exc.message)
        # The provider's route with the response filter on, told by `plan` how to translate the answer.
        common = CommonResponse(header_mutation=route.translated_mutation, clear_route_cache=True)
        common.header_mutation.remove_headers.extend(_CLIENT_ONLY_HEADERS.get(client, ()))
        if route.passthrough_key is not None and exchange.client_key:
            _pass_key_on(common.header_mutation, route.passthrough_key, exchange.client_key)
        plan = translation_plan(client, route.dialect, call.operation, doc)
        doc = translated
    else:
        common = CommonResponse(header_mutation=route.mutation, clear_route_cache=True)
    common.header_mutation.set_headers.append(header(":path", path))
    if translator is None:
        if call.model is None and resolution.upstream_model != model:
            doc["model"] = resolution.upstream_model
        elif route.signer is None:
            return ProcessingResponse(request_body=BodyResponse(response=common))  # the body as it came
    try:
        new_body = orjson.dumps(doc)
    except orjson.JSONEncodeError as exc:  # e.g. nested deeper than a provider body may be
        return replies.malformed_json(client, str(exc))
    common.body_mutation.body = new_body
    set_headers = common.header_mutation.set_headers
    set_headers.append(header("content-length", str(len(new_body))))
    if route.signer is not None:
        # Signed last: the signature covers the body exactly as sent.
        set_headers.extend(header(k, v) for k, v in route.signer.headers("POST", path, new_body))
    return ProcessingResponse(request_body=BodyResponse(response=common), dynamic_metadata=plan)


def _pass_key_on(mutation: HeaderMutation, key_header: tuple[str, str], key: str) -> None:
    """The client's own key, moved into the header the provider's dialect takes it in."""
    name, prefix = key_header
    mutation.set_headers.append(header(name, prefix + key))
    mutation.remove_headers.extend(other for other in CREDENTIAL_HEADERS if other != name)


# --- The response filter's stream: one answer to translate ---------------------------------

_PLAN = "translation"


def translation_plan(client: str, provider: str, operation: str, request: dict) -> Struct:
    """Dynamic metadata telling the response filter how to translate the answer to `request`."""
    plan = {"client": client, "provider": provider, "operation": operation, "request": response_view(request)}
    metadata = Struct()
    metadata.fields[METADATA_NAMESPACE].struct_value.fields[_PLAN].string_value = orjson.dumps(plan).decode()
    return metadata


@dataclass(slots=True)
class Answer:
    """What one answer's translation carries from chunk to chunk."""

    translator: Translator | EmbeddingTranslator
    request: dict  # the client's request, as `response_view` cut it
    stream: StreamTranslator | None = None  # for a stream: its translator, fed chunk by chunk
    error_status: int = 0  # the provider's status when it answered with an error
    gathered: bytearray = field(default_factory=bytearray)  # a body translated whole, until its last chunk


def _read_plan(metadata) -> Answer | None:
    """The decision's plan from the metadata the response filter forwards; None without one."""
    if METADATA_NAMESPACE not in metadata.filter_metadata:
        return None
    fields = metadata.filter_metadata[METADATA_NAMESPACE].fields
    if _PLAN not in fields:
        return None
    plan = orjson.loads(fields[_PLAN].string_value)
    translator = translator_for(plan["client"], plan["provider"], plan["operation"])
    return None if translator is None else Answer(translator, plan["request"])


def on_response_headers(headers: HttpHeaders, metadata) -> tuple[ProcessingResponse, Answer | None]:
    """The answer's headers, with the decision's plan (`metadata`, the request's metadata context)."""
    answer = _read_plan(metadata)
    if answer is None:  # only a decision sends an answer here; without its plan, nothing to translate
        return CONTINUE["response_headers"], None
    found = _pseudo_headers(headers, _RESPONSE_HEADERS_READ)
    status = int(found.get(":status", "200"))
    mutation = HeaderMutation(remove_headers=["content-length"])  # the translated body has another length
    if status >= 400:
        answer.error_status = status
        mutation.set_headers.append(header("content-type", "application/json"))
    elif found.get("content-type", "").startswith(_STREAM_TYPES) and hasattr(answer.translator, "stream"):
        # Only chat streams: an embeddings translator has no `stream`, and its answer is translated whole.
        answer.stream = answer.translator.stream(answer.request)
        mutation.set_headers.append(header("content-type", "text/event-stream"))
    response = ProcessingResponse(response_headers=HeadersResponse(response=CommonResponse(header_mutation=mutation)))
    return response, answer


def _replace_body(new_body: bytes) -> ProcessingResponse:
    mutation = BodyMutation(body=new_body) if new_body else BodyMutation(clear_body=True)
    return ProcessingResponse(response_body=BodyResponse(response=CommonResponse(body_mutation=mutation)))


def on_response_body(answer: Answer, body: HttpBody) -> ProcessingResponse:
    if answer.stream is not None:
        out = answer.stream.feed(body.body)
        if body.end_of_stream:
            out += answer.stream.finish()
        return _replace_body(out)
    answer.gathered += body.body
    if not body.end_of_stream:
        return _replace_body(b"")  # the client gets the answer whole, translated, with its last chunk
    translator, whole = answer.translator, bytes(answer.gathered)
    if answer.error_status:
        return _replace_body(translator.error(answer.error_status, whole))
    try:
        translated, _usage = translator.response(orjson.loads(whole), answer.request)
        return _replace_body(orjson.dumps(translated))
    except (orjson.JSONDecodeError, orjson.JSONEncodeError, UnsupportedFeature, TypeError, KeyError, ValueError) as exc:
        # A provider answer that cannot be read is the provider's failure, said in the client's dialect.
        return _replace_body(translator.error(502, f"unreadable provider response: {exc}".encode()))
