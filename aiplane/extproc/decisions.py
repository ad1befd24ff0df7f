"""What to do with one LLM request: pure functions from ext_proc messages to answers.

- request headers: the client's dialect from the path; what can be answered without a
  body is answered (`/v1/models`, unknown routes). A client whose dialect may need
  translating switches the response-headers phase on; one no provider speaks gets its
  whole answer in full duplex.
- request body: resolve the model, translate the body for the provider's dialect,
  rewrite path, host and credentials.
- response headers (translated exchanges only): switch the body phase on, STREAMED for
  SSE and BUFFERED for JSON, or leave it off when nothing needs translating; in full
  duplex the modes are set already.
- response body: translate, chunk by chunk for streams; in full duplex a JSON answer
  comes in chunks too, gathered and translated whole at its end.

One `Exchange` per ext_proc stream carries what earlier phases learned. No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson
from envoy.extensions.filters.http.ext_proc.v3.processing_mode_pb2 import ProcessingMode
from envoy.service.ext_proc.v3.external_processor_pb2 import (
    BodyMutation,
    BodyResponse,
    CommonResponse,
    HeaderMutation,
    HeadersResponse,
    HttpBody,
    HttpHeaders,
    ProcessingResponse,
    StreamedBodyResponse,
    TrailersResponse,
)

from aiplane.dialects import (
    ANTHROPIC,
    CHAT,
    COUNT_TOKENS,
    CREDENTIAL_HEADERS,
    EMBEDDING_TRANSLATORS,
    EMBEDDINGS,
    TRANSLATORS,
    ClientCall,
    can_serve,
    client_call,
    client_key,
)
from aiplane.extproc import replies
from aiplane.extproc.routing import RoutingTable, header
from aiplane.translate import EmbeddingTranslator, StreamTranslator, Translator, UnsupportedFeature
from aiplane.translate.token_count import count_tokens_response

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


def _mode(response_headers: int, response_body: int, response_trailers: int = ProcessingMode.SKIP) -> ProcessingMode:
    # An override replaces the whole mode, so it restates the request side.
    return ProcessingMode(
        request_header_mode=ProcessingMode.SEND,
        request_body_mode=ProcessingMode.BUFFERED,
        response_header_mode=response_headers,
        response_body_mode=response_body,
        request_trailer_mode=ProcessingMode.SKIP,
        response_trailer_mode=response_trailers,
    )


# Envoy honours a mode override at request headers, before the provider is known, and at response
# headers. A client that may meet a provider of another dialect sees the response headers, and
# `on_response_headers` switches the body on (STREAMED or BUFFERED) or leaves it off: Envoy then
# holds the first chunk until that answer is back.
_SEE_RESPONSE_HEADERS = ProcessingResponse(
    request_headers=HeadersResponse(), mode_override=_mode(ProcessingMode.SEND, ProcessingMode.NONE)
)
# A client no provider speaks to gets every answer translated: its whole answer comes in full
# duplex, where Envoy sends the first chunk along without waiting for the answer to the headers
# (one round trip less to the first token). The trailers are Envoy's sign the duplex is done.
_SEE_WHOLE_ANSWER = ProcessingResponse(
    request_headers=HeadersResponse(),
    mode_override=_mode(ProcessingMode.SEND, ProcessingMode.FULL_DUPLEX_STREAMED, ProcessingMode.SEND),
)


@dataclass(slots=True)
class Exchange:
    """What one request has shown so far."""

    call: ClientCall  # what the request's method and path said
    request: dict | None = None  # the client's own body, when it is translated
    translator: Translator | EmbeddingTranslator | None = None  # None: the provider speaks the client's dialect
    stream: StreamTranslator | None = None
    error_status: int = 0  # the provider's status when it answered with an error
    client_key: str | None = None  # the key the client sent, for a provider that takes the client's own
    duplex: bool = False  # the answer's body comes in full duplex (`_SEE_WHOLE_ANSWER`)
    gathered: bytearray = field(default_factory=bytearray)  # in duplex, a body translated whole, until its end

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
        duplex = call.dialect in table.translated_clients
        if duplex:
            response = _SEE_WHOLE_ANSWER
        else:
            response = _SEE_RESPONSE_HEADERS if call.dialect in table.translating_clients else CONTINUE_HEADERS
        return HeadersDecision(response, Exchange(call, client_key=client_key(found), duplex=duplex))
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

    translator: Translator | EmbeddingTranslator | None
    if call.operation == CHAT:
        if not can_serve(client, route.dialect):
            return replies.untranslatable(client, route.provider, route.dialect)
        stream = call.stream if call.stream is not None else doc.get("stream") is True
        serving, translator = "stream" if stream else CHAT, TRANSLATORS.get((client, route.dialect))
        if translator is not None and call.model is not None:
            # A client that names the model in the path: the translator sees it in the body.
            doc = {**doc, "model": model, "stream": stream}
    elif call.operation == EMBEDDINGS:
        serving, translator = EMBEDDINGS, EMBEDDING_TRANSLATORS.get(route.dialect)
    elif route.dialect != ANTHROPIC:  # count_tokens: a provider without it is answered here
        try:
            return replies.json_reply(200, count_tokens_response(doc))
        except ValueError as exc:
            return replies.invalid_request(client, str(exc))
    else:
        serving, translator = COUNT_TOKENS, None
    path = route.path_for(resolution.upstream_model, serving)
    if path is None:
        return replies.not_offered(client, route.provider, route.dialect, call.operation)

    common = CommonResponse(header_mutation=route.mutation, clear_route_cache=True)
    common.header_mutation.set_headers.append(header(":path", path))
    signed = route.signer is not None
    if translator is not None:
        try:
            translated = translator.request(doc, resolution.upstream_model)
        except UnsupportedFeature as exc:
            return replies.unsupported_feature(client, exc.param, exc.message)
        common.header_mutation.remove_headers.extend(_CLIENT_ONLY_HEADERS.get(client, ()))
        if route.passthrough_key is not None and exchange.client_key:
            _pass_key_on(common.header_mutation, route.passthrough_key, exchange.client_key)
        exchange.request, exchange.translator, doc = doc, translator, translated
    elif call.model is None and resolution.upstream_model != model:
        doc["model"] = resolution.upstream_model
    elif not signed:
        return ProcessingResponse(request_body=BodyResponse(response=common))
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
    return ProcessingResponse(request_body=BodyResponse(response=common))


def _pass_key_on(mutation: HeaderMutation, key_header: tuple[str, str], key: str) -> None:
    """The client's own key, moved into the header the provider's dialect takes it in."""
    name, prefix = key_header
    mutation.set_headers.append(header(name, prefix + key))
    mutation.remove_headers.extend(other for other in CREDENTIAL_HEADERS if other != name)


def on_response_headers(exchange: Exchange, headers: HttpHeaders) -> ProcessingResponse:
    if exchange.translator is None:
        if exchange.duplex:  # the modes are set: the body comes, and goes back as it is
            return CONTINUE["response_headers"]
        return ProcessingResponse(
            response_headers=HeadersResponse(), mode_override=_mode(ProcessingMode.SKIP, ProcessingMode.NONE)
        )
    found = _pseudo_headers(headers, _RESPONSE_HEADERS_READ)
    status = int(found.get(":status", "200"))
    mutation = HeaderMutation(remove_headers=["content-length"])  # the translated body has another length
    if status >= 400:
        exchange.error_status = status
        mutation.set_headers.append(header("content-type", "application/json"))
        body_mode = ProcessingMode.BUFFERED
    elif found.get("content-type", "").startswith(_STREAM_TYPES) and hasattr(exchange.translator, "stream"):
        # Only chat streams: an embeddings translator has no `stream`, and its answer is buffered.
        exchange.stream = exchange.translator.stream(exchange.request)
        mutation.set_headers.append(header("content-type", "text/event-stream"))
        body_mode = ProcessingMode.STREAMED
    else:
        body_mode = ProcessingMode.BUFFERED
    answer = HeadersResponse(response=CommonResponse(header_mutation=mutation))
    if exchange.duplex:
        return ProcessingResponse(response_headers=answer)
    return ProcessingResponse(response_headers=answer, mode_override=_mode(ProcessingMode.SEND, body_mode))


def _replace_body(exchange: Exchange, new_body: bytes, end_of_stream: bool) -> ProcessingResponse:
    if exchange.duplex:
        streamed = StreamedBodyResponse(body=new_body, end_of_stream=end_of_stream)
        mutation = BodyMutation(streamed_response=streamed)
    else:
        mutation = BodyMutation(body=new_body) if new_body else BodyMutation(clear_body=True)
    return ProcessingResponse(response_body=BodyResponse(response=CommonResponse(body_mutation=mutation)))


def on_response_body(exchange: Exchange, body: HttpBody) -> ProcessingResponse:
    translator, end = exchange.translator, body.end_of_stream
    if translator is None:
        return _replace_body(exchange, body.body, end) if exchange.duplex else CONTINUE["response_body"]
    if exchange.stream is not None:
        out = exchange.stream.feed(body.body)
        if end:
            out += exchange.stream.finish()
        return _replace_body(exchange, out, end)
    if exchange.duplex and not end:  # a body translated whole comes in chunks in duplex
        exchange.gathered += body.body
        return _replace_body(exchange, b"", False)
    whole = bytes(exchange.gathered + body.body) if exchange.gathered else body.body
    if exchange.error_status:
        return _replace_body(exchange, translator.error(exchange.error_status, whole), True)
    try:
        translated, _usage = translator.response(orjson.loads(whole), exchange.request or {})
        return _replace_body(exchange, orjson.dumps(translated), True)
    except (orjson.JSONDecodeError, orjson.JSONEncodeError, UnsupportedFeature, TypeError, KeyError, ValueError) as exc:
        # A provider answer that cannot be read is the provider's failure, said in the client's dialect.
        return _replace_body(exchange, translator.error(502, f"unreadable provider response: {exc}".encode()), True)
