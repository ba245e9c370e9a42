"""adapters/errors: what AWS said, "already gone", transient or permanent; on real botocore exceptions."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
)

from iamwarden.adapters.errors import (
    GONE_CODES,
    AwsCallError,
    PermanentAwsError,
    TransientAwsError,
    classify,
    describe,
    error_code,
    http_status,
    ignoring,
    is_aws_error,
    is_gone,
    is_transient,
    response_error_code,
)
from iamwarden.domain.exceptions import IamWardenError

ENDPOINT = "https://iam.amazonaws.com/"


def client_error(
    code: str | None, message: str | None = "went wrong", status: int = 400, operation: str = "GetPolicyVersion"
) -> ClientError:
    """A ClientError as botocore builds it from a parsed error response."""
    error: dict[str, Any] = {}
    if code is not None:
        error["Code"] = code
    if message is not None:
        error["Message"] = message
    response: dict[str, Any] = {"Error": error, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, operation)  # type: ignore[arg-type]


class ShapedLikeAClientError(Exception):
    """Duck-typed: anything with a ``response`` is read the same way, and never trusted to be well formed."""

    def __init__(self, response: object) -> None:
        super().__init__("shaped")
        self.response = response


# --- error_code, http_status, describe -------------------------------------------------------------


def test_error_code_and_status_of_a_client_error() -> None:
    exc = client_error("AccessDenied", status=403)

    assert error_code(exc) == "AccessDenied"
    assert http_status(exc) == 403


def test_error_code_of_a_classified_error_is_its_code() -> None:
    assert error_code(PermanentAwsError("x", code="NoSuchEntity")) == "NoSuchEntity"
    assert error_code(TransientAwsError("x")) is None


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("not AWS"),
        EndpointConnectionError(endpoint_url=ENDPOINT),
        client_error(None),
        ShapedLikeAClientError({"Error": "not a mapping"}),
        ShapedLikeAClientError(["not", "a", "response"]),
    ],
    ids=["not-aws", "no-answer", "no-code", "malformed-error", "malformed-response"],
)
def test_no_error_code(exc: BaseException) -> None:
    assert error_code(exc) is None


def test_error_code_of_a_parsed_response() -> None:
    assert response_error_code({"Error": {"Code": "AccessDenied"}, "ResponseMetadata": {}}) == "AccessDenied"
    assert response_error_code({"Policy": {}}) is None
    assert response_error_code(None) is None


def test_no_http_status_without_response_metadata() -> None:
    assert http_status(EndpointConnectionError(endpoint_url=ENDPOINT)) is None
    assert http_status(ClientError({"Error": {"Code": "X"}}, "GetRole")) is None
    assert http_status(ClientError({"Error": {}, "ResponseMetadata": {"HTTPStatusCode": "500"}}, "GetRole")) is None  # type: ignore[typeddict-item]


def test_describe_is_code_and_message_on_one_line() -> None:
    exc = client_error("MalformedPolicyDocument", "Syntax errors in policy.\n  Line 3:\tunexpected }")

    assert describe(exc) == "MalformedPolicyDocument: Syntax errors in policy. Line 3: unexpected }"


def test_describe_without_a_message_is_the_code() -> None:
    assert describe(client_error("NoSuchEntity", None)) == "NoSuchEntity"


def test_describe_of_other_errors_is_their_text_or_their_type() -> None:
    assert describe(EndpointConnectionError(endpoint_url=ENDPOINT)) == (
        f'Could not connect to the endpoint URL: "{ENDPOINT}"'
    )
    assert describe(ValueError("two\nlines")) == "two lines"
    assert describe(ValueError()) == "ValueError"
    assert describe(ValueError("  \n ")) == "ValueError"


# --- is_gone, ignoring ---------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(GONE_CODES))
def test_gone_codes_are_gone(code: str) -> None:
    assert is_gone(client_error(code, status=404))


@pytest.mark.parametrize(
    "exc", [client_error("AccessDenied"), EndpointConnectionError(endpoint_url=ENDPOINT), KeyError("NoSuchEntity")]
)
def test_other_errors_are_not_gone(exc: BaseException) -> None:
    assert not is_gone(exc)


def test_ignoring_swallows_already_gone_by_default() -> None:
    with ignoring():
        raise client_error("NoSuchEntity", status=404)
    with ignoring():
        raise PermanentAwsError("DeleteRolePolicy: NoSuchEntity", code="NoSuchEntity")


def test_ignoring_the_codes_it_is_given_and_only_those() -> None:
    with ignoring("NoSuchTagSet"):
        raise client_error("NoSuchTagSet", status=404)
    with pytest.raises(ClientError), ignoring("NoSuchTagSet"):
        raise client_error("NoSuchEntity", status=404)


@pytest.mark.parametrize(
    "exc", [client_error("AccessDenied", status=403), EndpointConnectionError(endpoint_url=ENDPOINT), KeyError("x")]
)
def test_ignoring_re_raises_everything_else(exc: Exception) -> None:
    with pytest.raises(type(exc)), ignoring():
        raise exc


def test_ignoring_lets_the_block_finish_when_nothing_fails() -> None:
    ran = []
    with ignoring():
        ran.append(True)
    assert ran == [True]


# --- transient or permanent ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "exc",
    [
        client_error("Throttling"),
        client_error("ThrottlingException"),
        client_error("TooManyRequestsException", status=429),
        client_error("ProvisionedThroughputExceededException"),
        client_error("RequestLimitExceeded", status=503),
        client_error("ServiceFailure", status=500),  # a 5xx whatever its code
        client_error(None, status=503),  # a 5xx with no error body
        EndpointConnectionError(endpoint_url=ENDPOINT),
        ConnectionClosedError(endpoint_url=ENDPOINT),
        ReadTimeoutError(endpoint_url=ENDPOINT),
        ConnectTimeoutError(endpoint_url=ENDPOINT),
        ConnectionResetError("reset by peer"),
        TransientAwsError("already classified"),
    ],
    ids=lambda exc: type(exc).__name__ + (f"-{error_code(exc)}" if error_code(exc) else ""),
)
def test_transient(exc: BaseException) -> None:
    assert is_transient(exc)
    assert isinstance(classify(exc), TransientAwsError)


@pytest.mark.parametrize(
    "exc",
    [
        client_error("AccessDenied", status=403),
        client_error("NoSuchEntity", status=404),
        client_error("MalformedPolicyDocument"),
        client_error("LimitExceeded", status=409),  # IAM's quota, not throttling: retrying will not help
        client_error(None, status=400),
        ClientError({"Error": {"Code": "ValidationError"}}, "GetRole"),  # no status at all
        NoCredentialsError(),
        ParamValidationError(report="Missing required parameter"),
        ValueError("not AWS"),
        PermanentAwsError("already classified"),
    ],
    ids=lambda exc: type(exc).__name__ + (f"-{error_code(exc)}" if error_code(exc) else ""),
)
def test_permanent(exc: BaseException) -> None:
    assert not is_transient(exc)
    assert isinstance(classify(exc), PermanentAwsError)


def test_classify_keeps_code_operation_and_resource_and_says_them() -> None:
    arn = "arn:aws:iam::111122223333:policy/app-deploy"
    exc = classify(client_error("AccessDenied", "not authorized", status=403), resource=arn)

    assert isinstance(exc, PermanentAwsError)
    assert isinstance(exc, IamWardenError)
    assert str(exc) == "GetPolicyVersion: AccessDenied: not authorized"
    assert (exc.code, exc.operation, exc.resource) == ("AccessDenied", "GetPolicyVersion", arn)
    assert exc.access_denied


def test_classify_names_the_operation_it_is_given() -> None:
    exc = classify(EndpointConnectionError(endpoint_url=ENDPOINT), "GetPolicy")

    assert str(exc) == f'GetPolicy: Could not connect to the endpoint URL: "{ENDPOINT}"'
    assert (exc.code, exc.operation, exc.resource) == (None, "GetPolicy", None)


def test_classify_without_an_operation_has_no_prefix() -> None:
    assert str(classify(NoCredentialsError())) == "Unable to locate credentials"


def test_a_denial_is_access_denied_and_other_permanent_errors_are_not() -> None:
    assert classify(client_error("AccessDeniedException", status=400)).access_denied  # type: ignore[attr-defined]
    assert not classify(client_error("NoSuchEntity", status=404)).access_denied  # type: ignore[attr-defined]


def test_classify_returns_an_error_that_is_already_classified() -> None:
    exc: AwsCallError = TransientAwsError("GetPolicy: Throttling", code="Throttling")

    assert classify(exc, "Other") is exc


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (client_error("AccessDenied"), True),
        (EndpointConnectionError(endpoint_url=ENDPOINT), True),
        (NoCredentialsError(), True),
        (ValueError("x"), False),
        (PermanentAwsError("x"), False),
    ],
)
def test_is_aws_error(exc: BaseException, expected: bool) -> None:
    assert is_aws_error(exc) is expected
