"""SigV4 as the gateway signs Bedrock requests: the same signature botocore, AWS's own SDK, computes."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from aiplane.extproc.sigv4 import AwsCredentials, SigV4Signer

HOST = "bedrock-runtime.us-east-1.amazonaws.com"
NOW = 1_763_880_000.0  # 2025-11-23T06:40:00Z
BODY = b'{"messages":[{"role":"user","content":[{"text":"' + "héllo ".encode() * 300 + b'"}]}]}'


def botocore_headers(path: str, body: bytes, token: str | None, host: str = HOST) -> dict[str, str]:
    request = AWSRequest(method="POST", url=f"https://{host}{path}", data=body)
    pinned = datetime.datetime.fromtimestamp(NOW, datetime.UTC).replace(tzinfo=None)
    with mock.patch("botocore.auth.get_current_datetime", return_value=pinned):
        SigV4Auth(Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token), "bedrock", "us-east-1").add_auth(request)
    return {name.lower(): value for name, value in request.headers.items()}


@pytest.mark.parametrize("token", [None, "FQoGZXIvYXdzEJr//////////wEaDHtoken"])
@pytest.mark.parametrize(
    "path",
    [
        "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse",  # a model id with `:`, encoded once in the URL
        "/model/amazon.titan-embed-text-v2%3A0/invoke",
        "/proxy/prefix/model/meta.llama3-70b-instruct-v1%3A0/converse-stream",
        "/model/x/converse?b=2&a=1%3A",
    ],
)
def test_signature_is_the_one_botocore_computes(path: str, token: str | None) -> None:
    signer = SigV4Signer(AwsCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token), "us-east-1", "bedrock", HOST)
    ours = dict(signer.headers("POST", path, BODY, NOW))
    theirs = botocore_headers(path, BODY, token)
    assert ours["x-amz-date"] == theirs["x-amz-date"] == "20251123T064000Z"
    assert ours["authorization"] == theirs["authorization"]
    assert ours.get("x-amz-security-token") == theirs.get("x-amz-security-token") == token


def test_a_host_with_a_port_is_signed_as_sent() -> None:
    signer = SigV4Signer(AwsCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"), "us-east-1", "bedrock", "127.0.0.1:18100")
    ours = dict(signer.headers("POST", "/model/m/converse", BODY, NOW))
    assert ours["authorization"] == botocore_headers("/model/m/converse", BODY, None, host="127.0.0.1:18100")["authorization"]


def test_the_signature_covers_the_body_and_the_day() -> None:
    signer = SigV4Signer(AwsCredentials("AKIDEXAMPLE", "secret"), "us-east-1", "bedrock", HOST)
    first = dict(signer.headers("POST", "/model/m/converse", BODY, NOW))
    assert dict(signer.headers("POST", "/model/m/converse", BODY + b" ", NOW))["authorization"] != first["authorization"]
    next_day = dict(signer.headers("POST", "/model/m/converse", BODY, NOW + 86_400))
    assert "/20251124/us-east-1/bedrock/aws4_request" in next_day["authorization"]


def test_credentials_never_print_their_secret() -> None:
    assert "secret" not in repr(AwsCredentials("AKIDEXAMPLE", "secret", "token"))
