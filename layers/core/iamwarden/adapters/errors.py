"""AWS errors, handled once: the code, a description, "already gone", transient or permanent.

Duck-typed on purpose: a botocore ``ClientError`` carries ``response["Error"]``,
and reading it needs no botocore import, so the guardrails' remediation actions
can use these helpers and still never import boto3 or botocore.

* ``error_code`` / ``describe``: what AWS said, in one line an operator can read.
* ``ignoring(*codes)``: "already gone counts as done", as in Cloud Custodian.
* ``classify``: ``TransientAwsError`` (retry: throttling, 5xx, timeouts, connection
  errors) or ``PermanentAwsError`` (AccessDenied, validation, anything else).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from iamwarden.domain.exceptions import IamWardenError

#: What a command says when neither ``--region`` nor the environment names a region.
NO_REGION = (
    "no AWS region: pass --region REGION or set AWS_REGION or AWS_DEFAULT_REGION (the region of the IAM Warden stack)"
)

#: "The thing is not there (any more)": a remediation that finds this has nothing left to do.
GONE_CODES = frozenset(
    {
        "NoSuchEntity",
        "NoSuchBucket",
        "NoSuchBucketPolicy",
        "NoSuchKey",
        "NoSuchPublicAccessBlockConfiguration",
        "ResourceNotFoundException",
        "NotFoundException",
        "NotFound",
    }
)

#: Error codes AWS documents as worth retrying (throttling and service-side trouble).
TRANSIENT_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "SlowDown",
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "EC2ThrottledException",
    }
)

#: botocore exception class names that mean the request never got an answer.
_TRANSIENT_CLASSES = frozenset(
    {
        "EndpointConnectionError",
        "ConnectionClosedError",
        "ReadTimeoutError",
        "ConnectTimeoutError",
        "ConnectionError",
        "ProxyConnectionError",
        "HTTPClientError",
    }
)

_ACCESS_DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"})


class AwsCallError(IamWardenError):
    """An AWS call failed; ``code`` is AWS's error code (None when no answer came back).

    ``resource`` is what the call was about (an ARN), when the caller knows it.
    """

    def __init__(
        self, message: str, *, code: str | None = None, operation: str | None = None, resource: str | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.operation = operation
        self.resource = resource


class TransientAwsError(AwsCallError):
    """Worth retrying: throttled, a 5xx, a timeout, a dropped connection."""


class PermanentAwsError(AwsCallError):
    """Retrying will not help: denied, invalid, or anything AWS does not call transient."""

    @property
    def access_denied(self) -> bool:
        return self.code in _ACCESS_DENIED


def _response(exc: BaseException) -> dict[str, Any] | None:
    response = getattr(exc, "response", None)
    return response if isinstance(response, dict) else None


def is_access_denied(exc: BaseException | None) -> bool:
    """Whether ``exc`` (a botocore ClientError or an ``AwsCallError``) is AWS refusing the caller."""
    return exc is not None and error_code(exc) in _ACCESS_DENIED


def is_key_lockout_refusal(exc: BaseException | None) -> bool:
    """Whether ``exc`` is KMS's policy lockout safety check refusing a PutKeyPolicy: it answers
    ``MalformedPolicyDocumentException`` ("The new key policy will not allow you to update the key policy in the
    future."), not AccessDenied (review s13 round 2, N4; as seen in data-dot-all/dataall PR #961 and
    terraform-aws-modules/terraform-aws-kms#14)."""
    return exc is not None and error_code(exc) == "MalformedPolicyDocumentException"


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError (or anything shaped like one, or an ``AwsCallError``), else None."""
    if isinstance(exc, AwsCallError):
        return exc.code
    return response_error_code(_response(exc))


def response_error_code(response: object) -> str | None:
    """The error code in a parsed botocore response (what an ``after-call`` hook is given), else None."""
    error = response.get("Error") if isinstance(response, dict) else None
    code = error.get("Code") if isinstance(error, dict) else None
    return str(code) if code else None


def http_status(exc: BaseException) -> int | None:
    response = _response(exc)
    metadata = response.get("ResponseMetadata") if response else None
    status = metadata.get("HTTPStatusCode") if isinstance(metadata, dict) else None
    return status if isinstance(status, int) else None


def describe(exc: BaseException) -> str:
    """``Code: message`` for an AWS error, the exception's own text otherwise; one line, never a raw dump."""
    code = error_code(exc)
    response = _response(exc)
    error = response.get("Error") if response else None
    message = error.get("Message") if isinstance(error, dict) else None
    if not code:
        return " ".join(str(exc).split()) or type(exc).__name__
    text = f"{code}: {message}" if message else code
    return " ".join(text.split())


def is_gone(exc: BaseException) -> bool:
    return error_code(exc) in GONE_CODES


def is_transient(exc: BaseException) -> bool:
    """Throttling, a 5xx, a timeout or a connection that never answered."""
    if isinstance(exc, TransientAwsError):
        return True
    if isinstance(exc, AwsCallError):
        return False
    if error_code(exc) in TRANSIENT_CODES:
        return True
    status = http_status(exc)
    if status is not None:
        return status >= 500
    return any(cls.__name__ in _TRANSIENT_CLASSES for cls in type(exc).__mro__)


#: Error codes and botocore classes that say a request reached AWS and its answer was lost (a 5xx, the connection
#: dropped or timed out while waiting for the answer): AWS may have applied it. A throttle, a refused connection or a
#: connect timeout says it did not (review2 quarrole-s15 R1).
_ANSWER_LOST = frozenset(
    {
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "ReadTimeoutError",
        "ConnectionClosedError",
    }
)


def unclear_code(code: str) -> bool:
    """Whether a recorded error code (``error_code`` or the exception's class name) says the call's answer was lost
    (a 5xx, a read timeout, a connection closed while waiting): AWS may have applied it. A refusal (AccessDenied, a
    full quota ``LimitExceeded``) or a throttle or connect failure (the request was not taken) says it did not."""
    return code in _ANSWER_LOST


def is_aws_error(exc: BaseException) -> bool:
    """A botocore ClientError or BotoCoreError (by shape and module), without importing botocore."""
    if _response(exc) is not None:
        return True
    return any(cls.__module__.startswith("botocore") for cls in type(exc).__mro__)


def classify(exc: BaseException, operation: str | None = None, *, resource: str | None = None) -> AwsCallError:
    """The transient or permanent ``AwsCallError`` for an AWS exception; raise it ``from exc``.

    ``operation`` defaults to the ClientError's own (``GetPolicyVersion``); the message starts with it.
    """
    if isinstance(exc, AwsCallError):
        return exc
    kind = TransientAwsError if is_transient(exc) else PermanentAwsError
    operation = operation or getattr(exc, "operation_name", None) or None
    prefix = f"{operation}: " if operation else ""
    return kind(prefix + describe(exc), code=error_code(exc), operation=operation, resource=resource)


@contextmanager
def ignoring(*codes: str) -> Iterator[None]:
    """Swallow AWS errors with one of ``codes`` (default: the "already gone" codes); re-raise the rest.

    ``with ignoring("NoSuchEntity"): iam.delete_user_policy(...)`` makes a delete idempotent.
    """
    wanted = frozenset(codes) or GONE_CODES
    try:
        yield
    except Exception as exc:
        if error_code(exc) in wanted:
            return
        raise
