"""The response filter's stream: an answer translated by the plan the decision handed over.

The decision filter's stream never sees the answer, and the response filter's never sees the
request: everything the answer's translation needs travels in the plan (dynamic metadata).
"""

from __future__ import annotations

from pathlib import Path

import orjson
from client_streams import anthropic_events, assert_anthropic_well_formed
from envoy.config.core.v3.base_pb2 import HeaderMap, HeaderValue, Metadata
from envoy.service.ext_proc.v3.external_processor_pb2 import HttpBody, HttpHeaders, ProcessingRequest
from test_extproc_server import run

from aiplane.extproc import decisions
from aiplane.extproc.server import DecisionServer

FIXTURES = Path(__file__).parent / "fixtures"
CLAUDE_REQUEST = {"model": "my-alias", "max_tokens": 100, "messages": [{"role": "user", "content": "Hi"}]}


def plan(client: str, provider: str, request: dict, operation: str = "chat") -> Metadata:
    """The metadata context the response filter forwards: what the decision put there."""
    written = decisions.translation_plan(client, provider, operation, request)
    return Metadata(filter_metadata={"aiplane": written.fields["aiplane"].struct_value})


def response_headers(status: int, content_type: str, metadata: Metadata | None = None) -> ProcessingRequest:
    pairs = {":status": str(status), "content-type": content_type, "content-length": "123"}
    headers = HeaderMap(headers=[HeaderValue(key=k, raw_value=v.encode()) for k, v in pairs.items()])
    return ProcessingRequest(response_headers=HttpHeaders(headers=headers), metadata_context=metadata or Metadata())


def chunks(raw: bytes, size: int) -> list[ProcessingRequest]:
    pieces = [raw[i : i + size] for i in range(0, len(raw), size)]
    return [
        ProcessingRequest(response_body=HttpBody(body=piece, end_of_stream=i == len(pieces) - 1))
        for i, piece in enumerate(pieces)
    ]


def header_changes(response) -> tuple[dict[str, str], list[str]]:
    mutation = response.response_headers.response.header_mutation
    return {h.header.key: h.header.raw_value.decode() for h in mutation.set_headers}, list(mutation.remove_headers)


def bodies(responses) -> bytes:
    return b"".join(r.response_body.response.body_mutation.body for r in responses[1:])


def test_a_stream_is_translated_chunk_by_chunk_with_the_model_the_client_asked_for():
    raw = (FIXTURES / "anthropic_openai" / "text_stream.openai.sse").read_bytes()
    metadata = plan("anthropic", "openai", CLAUDE_REQUEST)
    responses = run(DecisionServer(), [response_headers(200, "text/event-stream", metadata), *chunks(raw, 97)])
    assert header_changes(responses[0]) == ({"content-type": "text/event-stream"}, ["content-length"])
    assert len(responses) == 1 + len(chunks(raw, 97))  # one answer per chunk, as it arrives
    events = anthropic_events(bodies(responses))
    assert_anthropic_well_formed(events)
    assert events[0][1]["message"]["model"] == "my-alias"


def test_a_json_answer_is_gathered_from_its_chunks_and_translated_whole():
    raw = (FIXTURES / "anthropic_openai" / "text_response.openai.json").read_bytes()
    metadata = plan("anthropic", "openai", CLAUDE_REQUEST)
    responses = run(DecisionServer(), [response_headers(200, "application/json", metadata), *chunks(raw, 200)])
    assert all(r.response_body.response.body_mutation.clear_body for r in responses[1:-1])
    answer = orjson.loads(bodies(responses))
    assert answer["type"] == "message" and answer["content"] == [{"type": "text", "text": "Hello! How can I assist you today?"}]


def test_a_provider_error_reaches_the_client_in_its_own_shape_even_when_it_asked_for_a_stream():
    raw = (FIXTURES / "anthropic_openai" / "error_401.openai.json").read_bytes()
    metadata = plan("anthropic", "openai", {**CLAUDE_REQUEST, "stream": True})
    responses = run(DecisionServer(), [response_headers(401, "application/json", metadata), *chunks(raw, 50)])
    assert header_changes(responses[0])[0] == {"content-type": "application/json"}
    error = orjson.loads(bodies(responses))
    assert error["type"] == "error" and error["error"]["type"] == "authentication_error"


def test_embeddings_from_gemini_come_back_as_openais_list_in_the_encoding_asked_for():
    folder = FIXTURES / "openai_embeddings"
    request = orjson.loads((folder / "gemini_request.openai.json").read_bytes())
    metadata = plan("openai", "gemini", request, operation="embeddings")
    raw = (folder / "gemini_response.gemini.json").read_bytes()
    responses = run(DecisionServer(), [response_headers(200, "application/json", metadata), *chunks(raw, 64)])
    assert orjson.loads(bodies(responses)) == orjson.loads((folder / "gemini_response.openai.json").read_bytes())


def test_without_a_plan_an_answer_passes_untouched():
    responses = run(DecisionServer(), [response_headers(200, "text/event-stream"), *chunks(b"data: {}\n\n", 4)])
    assert responses[0] == decisions.CONTINUE["response_headers"]
    assert all(r == decisions.CONTINUE["response_body"] for r in responses[1:])


def test_a_worker_without_a_policy_still_translates_answers():
    # A request decided by one worker may be answered through another, just restarted.
    server = DecisionServer()
    assert server.table is None
    raw = (FIXTURES / "anthropic_openai" / "text_response.openai.json").read_bytes()
    metadata = plan("anthropic", "openai", CLAUDE_REQUEST)
    responses = run(server, [response_headers(200, "application/json", metadata), *chunks(raw, 4096)])
    assert orjson.loads(bodies(responses))["type"] == "message"
