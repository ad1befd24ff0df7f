"""Answers the decision server gives without reaching a provider, in the client's own dialect.

An OpenAI client gets `{"error": {"message", "type", "param", "code"}}`, an
Anthropic client `{"type": "error", "error": {"type", "message"}}`, a Gemini
client `{"error": {"code", "message", "status"}}`; all get an
`x-aiplane-error` header naming the cause, so a client's SDK raises its usual
exception and an operator can grep for the cause.
"""

from __future__ import annotations

import orjson
from envoy.config.core.v3.base_pb2 import HeaderValue, HeaderValueOption
from envoy.service.ext_proc.v3.external_processor_pb2 import (
    HeaderMutation,
    ImmediateResponse,
    ProcessingResponse,
)
from envoy.type.v3.http_status_pb2 import HttpStatus

from aiplane.dialects import ANTHROPIC, GEMINI, OPENAI, anthropic_error_type
from aiplane.translate.common import google_status

ERROR_HEADER = "x-aiplane-error"

# OpenAI's error `type` for each status the gateway itself answers.
_OPENAI_ERROR_TYPES = {
    400: "invalid_request_error",
    404: "invalid_request_error",
    413: "invalid_request_error",
    503: "service_unavailable",
    504: "timeout",
}


def _header(key: str, value: str) -> HeaderValueOption:
    return HeaderValueOption(header=HeaderValue(key=key, raw_value=value.encode()))


def json_reply(status: int, body: bytes, extra_headers: tuple[tuple[str, str], ...] = ()) -> ProcessingResponse:
    headers = [_header("content-type", "application/json"), *(_header(k, v) for k, v in extra_headers)]
    return ProcessingResponse(
        immediate_response=ImmediateResponse(
            status=HttpStatus(code=status),
            headers=HeaderMutation(set_headers=headers),
            body=body,
            details=f"aiplane_{status}",
        )
    )


def error_document(client: str, status: int, code: str, message: str, param: str | None = None) -> dict:
    if client == ANTHROPIC:
        return {"type": "error", "error": {"type": anthropic_error_type(status), "message": message}}
    if client == GEMINI:
        return {"error": {"code": status, "message": message, "status": google_status(status)}}
    error_type = _OPENAI_ERROR_TYPES.get(status, "invalid_request_error")
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}


def error_body(client: str, status: int, code: str, message: str, param: str | None = None) -> bytes:
    return orjson.dumps(error_document(client, status, code, message, param))


def error_reply(client: str, status: int, code: str, message: str, param: str | None = None) -> ProcessingResponse:
    return json_reply(status, error_body(client, status, code, message, param), ((ERROR_HEADER, code),))


def malformed_json(client: str, reason: str) -> ProcessingResponse:
    return error_reply(client, 400, "invalid_json", f"the request body is not valid JSON: {reason}")


def missing_model(client: str) -> ProcessingResponse:
    return error_reply(
        client, 400, "missing_model", "the request body has no `model`: name one of GET /v1/models", "model"
    )


def unknown_model(client: str, model: str, hint: str) -> ProcessingResponse:
    return error_reply(client, 404, "model_not_found", f"the model `{model}` does not exist{hint}", "model")


def unsupported_route(method: str, path: str) -> ProcessingResponse:
    return error_reply(OPENAI, 404, "unsupported_route", f"aiplane does not serve {method} {path}")


def unsupported_feature(client: str, param: str, message: str) -> ProcessingResponse:
    return error_reply(client, 400, "unsupported_feature", message, param)


def invalid_request(client: str, message: str) -> ProcessingResponse:
    return error_reply(client, 400, "invalid_request", message)


def not_offered(client: str, provider: str, dialect: str, operation: str) -> ProcessingResponse:
    message = f"provider `{provider}` speaks the {dialect} API, which has no {operation.replace('_', ' ')} endpoint"
    return error_reply(client, 400, "unsupported_operation", message)


def untranslatable(client: str, provider: str, interface: str) -> ProcessingResponse:
    message = (
        f"provider `{provider}` speaks the {interface} API, which aiplane cannot translate {client} requests to yet"
    )
    return error_reply(client, 400, "unsupported_dialect_pair", message)


def provider_disabled(client: str, provider: str, reason: str) -> ProcessingResponse:
    return error_reply(client, 503, "provider_disabled", f"provider `{provider}` is disabled: {reason}")


def no_policy() -> ProcessingResponse:
    return error_reply(OPENAI, 503, "no_policy", "the decision server has not received a policy yet; retry shortly")
