"""OpenAI Embeddings clients served by Gemini `batchEmbedContents` and Amazon Titan Text Embeddings: the translation, as a specification.

Golden exchanges live in tests/fixtures/openai_embeddings (their README names the API reference
page each comes from); the tables below pin one field per row. The official `openai` SDK sends
the requests and reads what the translators answer, as a client would, base64 included.
"""

from __future__ import annotations

import array
import base64
import struct
from pathlib import Path
from typing import Any

import openai
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiplane.dialects import EMBEDDING_TRANSLATORS
from aiplane.translate import UnsupportedFeature, Usage
from aiplane.translate.base import EmbeddingTranslator
from aiplane.translate.embeddings import OpenAIToGeminiEmbeddings, OpenAIToTitanEmbeddings

try:  # the HTTP library the installed `openai` SDK is built on
    import httpx2 as http
except ImportError:  # pragma: no cover - older SDKs
    import httpx as http  # type: ignore[no-redef]

FIXTURES = Path(__file__).parent / "fixtures" / "openai_embeddings"
GEMINI: EmbeddingTranslator = OpenAIToGeminiEmbeddings()
TITAN: EmbeddingTranslator = OpenAIToTitanEmbeddings()
GEMINI_MODEL = "gemini-embedding-001"
TITAN_MODEL = "amazon.titan-embed-text-v2:0"
CLIENT_MODEL = "text-embedding-3-small"
BOTH = [pytest.param(GEMINI, GEMINI_MODEL, id="gemini"), pytest.param(TITAN, TITAN_MODEL, id="titan")]


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str) -> Any:
    return orjson.loads(fixture(name))


def gemini_answer(*vectors: list[float], **fields: Any) -> dict[str, Any]:
    return {"embeddings": [{"values": values} for values in vectors], **fields}


def titan_answer(values: Any, tokens: int = 5) -> dict[str, Any]:
    return {"embedding": values, "inputTextTokenCount": tokens}


def float32(values: list[float]) -> list[float]:
    """The values as float32 holds them: what OpenAI's base64 carries."""
    return list(struct.unpack(f"<{len(values)}f", struct.pack(f"<{len(values)}f", *values)))


def test_the_dialect_table_names_a_translator_for_each_provider_with_another_embeddings_api() -> None:
    assert {name: translator.provider for name, translator in EMBEDDING_TRANSLATORS.items()} == {
        "gemini": "gemini",
        "bedrock": "bedrock",
    }
    assert isinstance(EMBEDDING_TRANSLATORS["gemini"], OpenAIToGeminiEmbeddings)
    assert isinstance(EMBEDDING_TRANSLATORS["bedrock"], OpenAIToTitanEmbeddings)


# ---------------------------------------------------------------------------------------------
# Golden exchanges
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("translator", "upstream", "name", "provider_side"),
    [(GEMINI, GEMINI_MODEL, "gemini_request", "gemini"), (TITAN, TITAN_MODEL, "titan_request", "bedrock")],
    ids=["gemini", "titan"],
)
def test_golden_requests(translator: EmbeddingTranslator, upstream: str, name: str, provider_side: str) -> None:
    body = fixture_json(f"{name}.openai.json")
    assert translator.request(body, upstream) == fixture_json(f"{name}.{provider_side}.json")
    assert body == fixture_json(f"{name}.openai.json")  # the client's body is not modified


@pytest.mark.parametrize(
    ("translator", "name", "provider_side", "tokens"),
    [(GEMINI, "gemini", "gemini", 0), (TITAN, "titan", "bedrock", 9)],
    ids=["gemini", "titan"],
)
def test_golden_responses(translator: EmbeddingTranslator, name: str, provider_side: str, tokens: int) -> None:
    body, usage = translator.response(
        fixture_json(f"{name}_response.{provider_side}.json"), fixture_json(f"{name}_request.openai.json")
    )
    assert orjson.loads(orjson.dumps(body)) == fixture_json(f"{name}_response.openai.json")
    assert usage == Usage(input_tokens=tokens)


@pytest.mark.parametrize(
    ("translator", "name", "provider_side"),
    [(GEMINI, "gemini", "gemini"), (TITAN, "titan", "bedrock")],
    ids=["gemini", "titan"],
)
def test_golden_errors(translator: EmbeddingTranslator, name: str, provider_side: str) -> None:
    out = translator.error(400, fixture(f"{name}_error_400.{provider_side}.json"))
    assert orjson.loads(out) == fixture_json(f"{name}_error_400.openai.json")


# ---------------------------------------------------------------------------------------------
# Requests: field by field
# ---------------------------------------------------------------------------------------------


def gemini_request(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": f"models/{GEMINI_MODEL}", "content": {"parts": [{"text": text}]}, **extra}


@pytest.mark.parametrize(
    ("fields", "gemini", "titan"),
    [
        ({"input": "Hi"}, {"requests": [gemini_request("Hi")]}, {"inputText": "Hi"}),
        ({"input": ["Hi"]}, {"requests": [gemini_request("Hi")]}, {"inputText": "Hi"}),
        (
            {"input": ["a", "b", "c"]},
            {"requests": [gemini_request("a"), gemini_request("b"), gemini_request("c")]},
            None,
        ),  # in order; Titan: one only
        (
            {"input": "Hi", "dimensions": 256},
            {"requests": [gemini_request("Hi", outputDimensionality=256)]},
            {"inputText": "Hi", "dimensions": 256},
        ),
        (
            {"input": ["a", "b"], "dimensions": 8},
            {"requests": [gemini_request("a", outputDimensionality=8), gemini_request("b", outputDimensionality=8)]},
            None,
        ),
        (
            {"input": "Hi", "dimensions": None},
            {"requests": [gemini_request("Hi")]},
            {"inputText": "Hi"},
        ),  # null asks for nothing
        (
            {"input": "Hi", "encoding_format": "float"},
            {"requests": [gemini_request("Hi")]},
            {"inputText": "Hi"},
        ),  # the response's business
        ({"input": "Hi", "encoding_format": "base64"}, {"requests": [gemini_request("Hi")]}, {"inputText": "Hi"}),
        ({"input": "Hi", "encoding_format": None}, {"requests": [gemini_request("Hi")]}, {"inputText": "Hi"}),
        (
            {"input": "Hi", "user": "user-1"},
            {"requests": [gemini_request("Hi")]},
            {"inputText": "Hi"},
        ),  # a monitoring hint: dropped
        ({"input": "Hi", "user": None}, {"requests": [gemini_request("Hi")]}, {"inputText": "Hi"}),
        (
            {"input": "Hi", "model": "anything"},
            {"requests": [gemini_request("Hi")]},
            {"inputText": "Hi"},
        ),  # the path names the model
        (
            {"input": "<|endoftext|> ✓ \x00"},
            {"requests": [gemini_request("<|endoftext|> ✓ \x00")]},
            {"inputText": "<|endoftext|> ✓ \x00"},
        ),  # text is text
    ],
)
def test_request_fields(fields: dict[str, Any], gemini: dict[str, Any], titan: dict[str, Any] | None) -> None:
    body = {"model": CLIENT_MODEL, **fields}
    assert GEMINI.request(body, GEMINI_MODEL) == gemini
    if titan is not None:
        assert TITAN.request(body, TITAN_MODEL) == titan


def test_gemini_model_already_named_as_a_resource_is_not_prefixed_twice() -> None:
    assert GEMINI.request({"input": "Hi"}, f"models/{GEMINI_MODEL}") == {"requests": [gemini_request("Hi")]}


REFUSED_BY_BOTH = [
    ({}, "input"),  # required
    ({"input": None}, "input"),
    ({"input": ""}, "input"),  # OpenAI refuses empty inputs too
    ({"input": []}, "input"),
    ({"input": ["a", ""]}, "input[1]"),
    ({"input": ["a", 3.5]}, "input[1]"),
    ({"input": ["a", None]}, "input[1]"),
    ({"input": ["a", ["b"]]}, "input[1]"),
    ({"input": 42}, "input"),
    ({"input": {"text": "Hi"}}, "input"),
    ({"input": [1, 2, 3]}, "input"),  # token ids: neither provider takes them
    ({"input": [[1, 2], [3]]}, "input"),
    ({"input": ["Hi", 7]}, "input"),
    ({"input": "Hi", "encoding_format": "int8"}, "encoding_format"),
    ({"input": "Hi", "encoding_format": 1}, "encoding_format"),
    ({"input": "Hi", "dimensions": "256"}, "dimensions"),
    ({"input": "Hi", "dimensions": 0}, "dimensions"),
    ({"input": "Hi", "dimensions": -8}, "dimensions"),
    ({"input": "Hi", "dimensions": 256.0}, "dimensions"),
    ({"input": "Hi", "dimensions": True}, "dimensions"),
    ({"input": "Hi", "user": 7}, "user"),
    ({"input": "Hi", "input_type": "query"}, "input_type"),  # any field OpenAI does not define
    ({"input": "Hi", "task_type": "RETRIEVAL_QUERY"}, "task_type"),
    ({"input": "Hi", "stream": False}, "stream"),
]


@pytest.mark.parametrize(("translator", "upstream"), BOTH)
@pytest.mark.parametrize(("fields", "param"), REFUSED_BY_BOTH)
def test_refusals_name_the_field(
    translator: EmbeddingTranslator, upstream: str, fields: dict[str, Any], param: str
) -> None:
    with pytest.raises(UnsupportedFeature) as refused:
        translator.request({"model": CLIENT_MODEL, **fields}, upstream)
    assert refused.value.param == param
    assert param.split("[")[0] in refused.value.message


@pytest.mark.parametrize(("translator", "upstream"), BOTH)
@pytest.mark.parametrize("body", [None, [], "input", 1])
def test_a_body_that_is_not_an_object_is_refused(translator: EmbeddingTranslator, upstream: str, body: Any) -> None:
    with pytest.raises(UnsupportedFeature) as refused:
        translator.request(body, upstream)
    assert refused.value.param == "body"


def test_titan_embeds_one_text_per_request() -> None:
    with pytest.raises(UnsupportedFeature) as refused:
        TITAN.request({"model": CLIENT_MODEL, "input": ["a", "b"]}, TITAN_MODEL)
    assert refused.value.param == "input" and "one text per request" in refused.value.message


@pytest.mark.parametrize("g1", ["amazon.titan-embed-text-v1", "amazon.titan-embed-g1-text-02"])
def test_titan_g1_takes_no_dimensions(g1: str) -> None:
    assert TITAN.request({"input": "Hi"}, g1) == {"inputText": "Hi"}
    with pytest.raises(UnsupportedFeature) as refused:
        TITAN.request({"input": "Hi", "dimensions": 256}, g1)
    assert refused.value.param == "dimensions"


def test_translators_keep_no_state_between_requests() -> None:
    first = GEMINI.request({"input": ["a", "b"], "dimensions": 4}, GEMINI_MODEL)
    GEMINI.request({"input": "c"}, "other-model")
    assert GEMINI.request({"input": ["a", "b"], "dimensions": 4}, GEMINI_MODEL) == first


# ---------------------------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------------------------

VECTOR = [0.0023064255, -0.009327292, 0.015797347, -0.0077780345, 1, 0]  # a JSON number may parse as an int


def test_float_embeddings_keep_the_providers_values_exactly() -> None:
    body, _ = GEMINI.response(
        gemini_answer(VECTOR, [0.5] * 6), {"model": CLIENT_MODEL, "input": ["a", "b"], "encoding_format": "float"}
    )
    assert [item["embedding"] for item in body["data"]] == [VECTOR, [0.5] * 6]
    assert [item["index"] for item in body["data"]] == [0, 1]
    assert orjson.loads(orjson.dumps(body))["data"][0]["embedding"] == VECTOR


@pytest.mark.parametrize("client_format", [None, "float"])
def test_floats_unless_the_client_asked_for_base64(client_format: str | None) -> None:
    client = {"model": CLIENT_MODEL, "input": "a"} | ({"encoding_format": client_format} if client_format else {})
    body, _ = TITAN.response(titan_answer(VECTOR), client)
    assert body["data"][0]["embedding"] == VECTOR


@pytest.mark.parametrize(
    ("translator", "answer"), [(GEMINI, gemini_answer(VECTOR)), (TITAN, titan_answer(VECTOR))], ids=["gemini", "titan"]
)
def test_base64_is_little_endian_float32(translator: EmbeddingTranslator, answer: dict[str, Any]) -> None:
    body, _ = translator.response(answer, {"model": CLIENT_MODEL, "input": "a", "encoding_format": "base64"})
    encoded = body["data"][0]["embedding"]
    assert isinstance(encoded, str)
    raw = base64.b64decode(encoded, validate=True)
    assert list(struct.unpack(f"<{len(VECTOR)}f", raw)) == float32(VECTOR)
    assert array.array("f", raw).tolist() == float32(VECTOR)  # how the `openai` SDK decodes it (on little-endian hosts)


def test_the_answer_names_the_clients_model_and_reports_usage() -> None:
    body, usage = TITAN.response(titan_answer([0.1, 0.2], tokens=12), {"model": "my-alias", "input": "a"})
    assert body["model"] == "my-alias" and body["object"] == "list"
    assert body["usage"] == {"prompt_tokens": 12, "total_tokens": 12} and usage == Usage(input_tokens=12)
    body, _ = TITAN.response(titan_answer([0.1]), {"input": "a"})
    assert body["model"] == ""  # a request without a model name


def test_gemini_usage_is_zero_unless_the_answer_carries_usage_metadata() -> None:
    client = {"model": CLIENT_MODEL, "input": "a"}
    assert GEMINI.response(gemini_answer([0.1]), client)[1] == Usage()
    body, usage = GEMINI.response(gemini_answer([0.1], usageMetadata={"promptTokenCount": 4}), client)
    assert body["usage"] == {"prompt_tokens": 4, "total_tokens": 4} and usage == Usage(input_tokens=4)
    assert GEMINI.response(gemini_answer([0.1], usageMetadata={"promptTokenCount": "4"}), client)[1] == Usage()


def test_titan_embeddings_by_type_stands_in_for_a_missing_embedding() -> None:
    body, _ = TITAN.response(
        {"embeddingsByType": {"float": [0.25]}, "inputTextTokenCount": 2}, {"model": CLIENT_MODEL, "input": "a"}
    )
    assert body["data"][0]["embedding"] == [0.25]


@pytest.mark.parametrize(
    ("translator", "answer", "client_input"),
    [
        (GEMINI, [], "a"),
        (GEMINI, {}, "a"),
        (GEMINI, {"embeddings": None}, "a"),
        (GEMINI, {"embeddings": []}, "a"),  # fewer embeddings than inputs
        (GEMINI, gemini_answer([0.1], [0.2]), "a"),  # more
        (GEMINI, gemini_answer([0.1]), ["a", "b"]),
        (GEMINI, {"embeddings": [{"values": None}]}, "a"),
        (GEMINI, {"embeddings": [{"values": []}]}, "a"),
        (GEMINI, {"embeddings": [{"values": [0.1, "x"]}]}, "a"),
        (GEMINI, {"embeddings": [{"values": [0.1, True]}]}, "a"),
        (GEMINI, {"embeddings": [[0.1]]}, "a"),
        (TITAN, {}, "a"),
        (TITAN, {"embedding": "0.1,0.2"}, "a"),
        (TITAN, {"embedding": [None]}, "a"),
        (TITAN, {"message": "throttled"}, "a"),
    ],
)
@pytest.mark.parametrize("encoding_format", ["float", "base64"])
def test_an_answer_without_one_embedding_per_input_is_unreadable(
    translator: EmbeddingTranslator, answer: Any, client_input: Any, encoding_format: str
) -> None:
    # ValueError: the decision server answers the client a 502 rather than invent vectors.
    with pytest.raises(ValueError):
        translator.response(answer, {"model": CLIENT_MODEL, "input": client_input, "encoding_format": encoding_format})


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("translator", "status", "body", "message", "error_type", "code"),
    [
        (
            GEMINI,
            429,
            b'{"error": {"code": 429, "message": "Quota", "status": "RESOURCE_EXHAUSTED"}}',
            "Quota",
            "rate_limit_error",
            "RESOURCE_EXHAUSTED",
        ),
        (
            GEMINI,
            404,
            b'{"error": {"code": 404, "message": "models/x is not found", "status": "NOT_FOUND"}}',
            "models/x is not found",
            "not_found_error",
            "NOT_FOUND",
        ),
        (GEMINI, 503, b"<html>Service Unavailable</html>", "<html>Service Unavailable</html>", "server_error", None),
        (GEMINI, 500, b"", "the provider answered HTTP 500 without a message", "server_error", None),
        (
            TITAN,
            429,
            b'{"message": "Too many requests, please wait before trying again."}',
            "Too many requests, please wait before trying again.",
            "rate_limit_error",
            None,
        ),
        (TITAN, 403, b'{"Message": "User is not authorized"}', "User is not authorized", "permission_error", None),
        (TITAN, 502, b"\xff\xfe not utf-8", "\ufffd\ufffd not utf-8", "server_error", None),
    ],
)
def test_provider_errors_become_openai_errors(
    translator: EmbeddingTranslator, status: int, body: bytes, message: str, error_type: str, code: str | None
) -> None:
    assert orjson.loads(translator.error(status, body)) == {
        "error": {"message": message, "type": error_type, "param": None, "code": code}
    }


# ---------------------------------------------------------------------------------------------
# The official `openai` SDK, end to end through the translators
# ---------------------------------------------------------------------------------------------


class Gateway:
    """A mock transport that does what the gateway does: translate the SDK's request, answer it
    as the provider would (with `vectors`), and translate the answer back."""

    def __init__(self, translator: EmbeddingTranslator, upstream: str, provider_answer: Any) -> None:
        self.translator, self.upstream, self.provider_answer = translator, upstream, provider_answer
        self.client_bodies: list[dict[str, Any]] = []
        self.provider_bodies: list[dict[str, Any]] = []

    def __call__(self, request: Any) -> Any:
        client_body = orjson.loads(request.content)
        self.client_bodies.append(client_body)
        self.provider_bodies.append(self.translator.request(client_body, self.upstream))
        body, _ = self.translator.response(self.provider_answer, client_body)
        return http.Response(200, content=orjson.dumps(body), headers={"content-type": "application/json"})

    def client(self) -> openai.OpenAI:
        return openai.OpenAI(
            api_key="client-key",
            base_url="http://aiplane.test/v1",
            max_retries=0,
            # Not strict: the SDK's model types an embedding as a list of floats, and validates
            # nothing before its parser decodes the base64 OpenAI itself sends.
            http_client=http.Client(transport=http.MockTransport(self)),
        )


SDK_VECTOR = [0.0023064255, -0.009327292, 0.015797347, -0.0077780345, 0.1, -0.3333333333, 0.7071067811, 1e-8]


@pytest.mark.parametrize(
    ("translator", "upstream", "answer", "inputs"),
    [
        (GEMINI, GEMINI_MODEL, gemini_answer(SDK_VECTOR, [-x for x in SDK_VECTOR]), ["first", "second"]),
        (TITAN, TITAN_MODEL, titan_answer(SDK_VECTOR, tokens=3), "only"),
    ],
    ids=["gemini", "titan"],
)
def test_sdk_default_asks_for_base64_and_decodes_the_float32_values(
    translator: EmbeddingTranslator, upstream: str, answer: Any, inputs: Any
) -> None:
    gateway = Gateway(translator, upstream, answer)
    result = gateway.client().embeddings.create(model=CLIENT_MODEL, input=inputs)
    assert gateway.client_bodies[0]["encoding_format"] == "base64"  # what the SDK sends when the caller names no format
    expected = [float32(SDK_VECTOR), float32([-x for x in SDK_VECTOR])][: len(result.data)]
    assert [item.embedding for item in result.data] == expected  # decoded exactly, bit for bit
    assert [item.index for item in result.data] == list(range(len(expected)))
    assert result.model == CLIENT_MODEL


@pytest.mark.parametrize(
    ("translator", "upstream", "answer"),
    [(GEMINI, GEMINI_MODEL, gemini_answer(SDK_VECTOR)), (TITAN, TITAN_MODEL, titan_answer(SDK_VECTOR, tokens=3))],
    ids=["gemini", "titan"],
)
def test_sdk_asking_for_floats_gets_the_providers_values(
    translator: EmbeddingTranslator, upstream: str, answer: Any
) -> None:
    gateway = Gateway(translator, upstream, answer)
    result = gateway.client().embeddings.create(
        model=CLIENT_MODEL, input="text", encoding_format="float", dimensions=8, user="u1"
    )
    assert result.data[0].embedding == SDK_VECTOR
    assert gateway.provider_bodies[0] in (
        {
            "requests": [
                {"model": f"models/{GEMINI_MODEL}", "content": {"parts": [{"text": "text"}]}, "outputDimensionality": 8}
            ]
        },
        {"inputText": "text", "dimensions": 8},
    )


def test_sdk_asking_for_base64_gets_the_string() -> None:
    gateway = Gateway(TITAN, TITAN_MODEL, fixture_json("titan_response.bedrock.json"))
    result = gateway.client().embeddings.create(model=CLIENT_MODEL, input="text", encoding_format="base64")
    assert result.data[0].embedding == "AABAPwAAAL8AAIA+AAAAvg=="  # type: ignore[comparison-overlap]
    assert result.usage.prompt_tokens == result.usage.total_tokens == 9


def test_sdk_raises_its_usual_exception_on_a_translated_error() -> None:
    body = GEMINI.error(429, fixture("gemini_error_400.gemini.json"))

    def reply(request: Any) -> Any:
        return http.Response(429, content=body, headers={"content-type": "application/json"})

    client = openai.OpenAI(
        api_key="k",
        base_url="http://aiplane.test/v1",
        max_retries=0,
        http_client=http.Client(transport=http.MockTransport(reply)),
    )
    with pytest.raises(openai.RateLimitError) as raised:
        client.embeddings.create(model=CLIENT_MODEL, input="x")
    assert raised.value.code == "INVALID_ARGUMENT" and "at most 100 requests" in raised.value.message


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


def mostly(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Valid values, and now and then any JSON value, so examples get deep into the request before failing."""
    return st.integers(0, 7).flatmap(lambda draw: valid if draw else json_values)


texts = st.text(max_size=8)
request_shaped = st.fixed_dictionaries(
    {"input": mostly(texts | st.lists(mostly(texts), max_size=4) | st.lists(st.integers(0, 100_000), max_size=3))},
    optional={
        "model": mostly(texts),
        "encoding_format": mostly(st.sampled_from(["float", "base64", "int8"])),
        "dimensions": mostly(st.integers(-2, 4096)),
        "user": mostly(texts),
        "extra": json_values,
    },
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.text(max_size=12), json_values, max_size=6) | request_shaped | json_values,
    st.sampled_from([GEMINI, TITAN]),
)
def test_request_on_any_json_raises_nothing_but_unsupported_feature(body: Any, translator: EmbeddingTranslator) -> None:
    try:
        out = translator.request(body, "model-x")
    except UnsupportedFeature as e:
        assert isinstance(e.param, str) and isinstance(e.message, str)
    else:
        orjson.dumps(out)  # what it returns can be sent
        inputs = [body["input"]] if isinstance(body["input"], str) else body["input"]
        if translator is GEMINI:
            assert [r["content"]["parts"][0]["text"] for r in out["requests"]] == inputs
        else:
            assert [out["inputText"]] == inputs
        assert all(isinstance(text, str) and text for text in inputs)


numbers = st.floats(-1, 1, width=32) | st.integers(-3, 3)
vectors = mostly(st.lists(numbers, min_size=1, max_size=8))
provider_answers = (
    st.fixed_dictionaries(
        {"embeddings": mostly(st.lists(mostly(st.fixed_dictionaries({"values": vectors})), max_size=3))},
        optional={"usageMetadata": json_values},
    )
    | st.fixed_dictionaries(
        {"embedding": vectors},
        optional={"inputTextTokenCount": mostly(st.integers(0, 10_000)), "embeddingsByType": json_values},
    )
    | json_values
)
client_requests = st.fixed_dictionaries(
    {"input": texts | st.lists(texts, min_size=1, max_size=3)},
    optional={"model": mostly(texts), "encoding_format": st.sampled_from(["float", "base64"])},
)
CAUGHT = (
    orjson.JSONDecodeError,
    orjson.JSONEncodeError,
    UnsupportedFeature,
    TypeError,
    KeyError,
    ValueError,
)  # what the decision server catches


@settings(max_examples=400, deadline=None)
@given(provider_answers, client_requests, st.sampled_from([GEMINI, TITAN]))
def test_response_of_any_json_is_an_embedding_list_or_an_error_the_server_catches(
    answer: Any, client: dict[str, Any], translator: EmbeddingTranslator
) -> None:
    try:
        body, usage = translator.response(answer, client)
        sent = orjson.dumps(body)
    except CAUGHT:
        return
    received = orjson.loads(sent)
    if client.get("encoding_format") == "base64":
        for item in received["data"]:  # decoded as the `openai` SDK does
            item["embedding"] = array.array("f", base64.b64decode(item["embedding"], validate=True)).tolist()
    parsed = openai.types.CreateEmbeddingResponse.model_validate(received)
    assert isinstance(usage, Usage) and parsed.usage.prompt_tokens == usage.input_tokens
    expected = 1 if isinstance(client["input"], str) else len(client["input"])
    assert [item.index for item in parsed.data] == list(range(expected))
    assert all(item.embedding for item in parsed.data)


@settings(max_examples=200, deadline=None)
@given(st.integers(400, 599), st.binary(max_size=64) | json_values.map(orjson.dumps), st.sampled_from([GEMINI, TITAN]))
def test_any_provider_error_body_becomes_an_openai_error(
    status: int, body: bytes, translator: EmbeddingTranslator
) -> None:
    error = orjson.loads(translator.error(status, body))["error"]
    assert set(error) == {"message", "type", "param", "code"} and isinstance(error["message"], str) and error["message"]
