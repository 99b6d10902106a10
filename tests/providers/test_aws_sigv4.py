"""SigV4 against AWS's published test-suite vectors (aws-sig-v4-test-suite: get-vanilla,
get-vanilla-query-order-key-case, post-vanilla; credentials AKIDEXAMPLE, 2015-08-30)."""

from __future__ import annotations

import datetime as dt

import pytest

from aigw.providers.aws_sigv4 import Credentials, sign

EXAMPLE = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
AT = dt.datetime(2015, 8, 30, 12, 36, 0, tzinfo=dt.UTC)
SCOPE = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"


@pytest.mark.parametrize(
    ("method", "url", "signature"),
    [
        ("GET", "https://example.amazonaws.com/",
         "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        ("GET", "https://example.amazonaws.com/?Param2=value2&Param1=value1",
         "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
        ("POST", "https://example.amazonaws.com/",
         "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
    ],
)  # fmt: skip
def test_aws_test_suite_vectors(method: str, url: str, signature: str) -> None:
    headers = sign(method, url, {}, b"", EXAMPLE, region="us-east-1", service="service", now=AT)
    assert headers["X-Amz-Date"] == "20150830T123600Z"
    assert headers["Authorization"] == (
        f"AWS4-HMAC-SHA256 Credential={SCOPE}, SignedHeaders=host;x-amz-date, Signature={signature}"
    )


def test_session_token_and_extra_headers_are_signed() -> None:
    creds = Credentials("AKIDEXAMPLE", "s3cr3t-value", "token-123")
    headers = sign("POST", "https://bedrock-runtime.us-west-2.amazonaws.com/model/m:0/converse",
                   {"Content-Type": "application/json"}, b"{}", creds, region="us-west-2",
                   service="bedrock", now=AT)  # fmt: skip
    assert headers["X-Amz-Security-Token"] == "token-123"
    assert (
        "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,"
        in (headers["Authorization"])
    )
    assert "s3cr3t-value" not in repr(creds)
