"""Answers the decision server gives without reaching a provider.

Every error is in OpenAI's shape, `{"error": {"message", "type", "param",
"code"}}`, with an `x-aiplane-error` header naming the cause, so a client's SDK
raises its usual exception and an operator can grep for the cause.
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

ERROR_HEADER = "x-aiplane-error"

# OpenAI's error `type` for each status the gateway itself answers.
_ERROR_TYPES = {
    400: "invalid_request_error",
    404: "invalid_request_error",
    405: "invalid_request_error",
    503: "service_unavailable",
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


def error_reply(status: int, code: str, message: str, param: str | None = None) -> ProcessingResponse:
    body = orjson.dumps({"error": {"message": message, "type": _ERROR_TYPES[status], "param": param, "code": code}})
    return json_reply(status, body, ((ERROR_HEADER, code),))


def malformed_json(reason: str) -> ProcessingResponse:
    return error_reply(400, "invalid_json", f"the request body is not valid JSON: {reason}")


def missing_model() -> ProcessingResponse:
    return error_reply(400, "missing_model", "the request body has no `model`: name one of GET /v1/models", "model")


def unknown_model(model: str, hint: str) -> ProcessingResponse:
    return error_reply(404, "model_not_found", f"the model `{model}` does not exist{hint}", "model")


def unsupported_route(method: str, path: str) -> ProcessingResponse:
    return error_reply(404, "unsupported_route", f"aiplane does not serve {method} {path}")


def provider_disabled(provider: str, reason: str) -> ProcessingResponse:
    return error_reply(503, "provider_disabled", f"provider `{provider}` is disabled: {reason}")


def no_policy() -> ProcessingResponse:
    return error_reply(503, "no_policy", "the decision server has not received a policy yet; retry shortly")
