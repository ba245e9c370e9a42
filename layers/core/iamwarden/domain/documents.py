"""Decode the policy documents CloudTrail records carry, within AWS's size limits.

CloudTrail gives a policy document in one of three forms: a JSON object (S3's
``bucketPolicy``), a JSON string (IAM's ``policyDocument``), or a URL-encoded
JSON string (as IAM's Get*Policy APIs return it). A document larger than AWS
accepts for its kind cannot come from a successful call and is rejected after
work linear in its length, which the EventBridge event limit already bounds.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import Enum
from typing import Any
from urllib.parse import unquote

from iamwarden.domain.events import MAX_EVENT_BYTES, json_type_name
from iamwarden.domain.exceptions import InvalidEventError


class PolicyKind(Enum):
    """Kinds of policy document, each with AWS's documented size limit.

    IAM limits count characters excluding whitespace (IAM and STS quotas);
    S3 limits a bucket policy to 20 KB. Trust policies default to 2,048
    characters but can be raised to 4,096 by quota, so 4,096 is the most a
    genuine one can have. Inline limits are per entity in aggregate, so one
    document can use all of it.
    """

    MANAGED = ("managed policy", 6_144, False)
    INLINE_USER = ("user inline policy", 2_048, False)
    INLINE_ROLE = ("role inline policy", 10_240, False)
    INLINE_GROUP = ("group inline policy", 5_120, False)
    TRUST = ("role trust policy", 4_096, False)
    BUCKET = ("bucket policy", 20_480, True)
    #: DynamoDB resource-based policies (tables and streams): 20 KB, whitespace included (DynamoDB quotas).
    DYNAMODB = ("DynamoDB resource policy", 20_480, True)
    #: EFS file system policies: 20,000 characters (Amazon EFS quotas), counted here as bytes to stay safe.
    EFS = ("file system policy", 20_000, True)
    #: OpenSearch domain access policies: a domain configuration field, held to the bucket policy's 20 KB here.
    OPENSEARCH = ("domain access policy", 20_480, True)

    def __init__(self, label: str, limit: int, counts_whitespace: bool) -> None:
        self.label = label
        self.limit = limit
        self.counts_whitespace = counts_whitespace


_WHITESPACE = (" ", "\t", "\r", "\n")


def decode_policy_document(value: object, kind: PolicyKind, *, field: str) -> dict[str, Any]:
    """Return the policy document in ``value`` as a dict, or raise ``InvalidEventError``.

    ``field`` names where the document was found, for the error message.
    """
    if isinstance(value, Mapping):
        try:
            # ensure_ascii=False: a \uXXXX escape would count one character as six.
            compact = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        except (TypeError, ValueError, RecursionError) as exc:
            raise InvalidEventError(f"{field} is not a JSON policy document: {exc}") from exc
        _check_size(compact, kind, field)
        return dict(value)
    if not isinstance(value, str):
        raise InvalidEventError(
            f"{field} must be a policy document (JSON object or string), got {json_type_name(value)}"
        )
    if len(value) > MAX_EVENT_BYTES:
        raise InvalidEventError(f"{field} is {len(value)} characters, more than any EventBridge event can carry")
    text = value.strip()
    if text.startswith("%"):  # URL-encoded, possibly after encoded whitespace (%0A%7B…)
        text = unquote(text)
    _check_size(text, kind, field)
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InvalidEventError(f"{field} does not parse as JSON: {str(exc).splitlines()[0]}") from exc
    if not isinstance(document, dict):
        raise InvalidEventError(f"{field} must be a JSON object, got {json_type_name(document)}")
    return document


def _check_size(text: str, kind: PolicyKind, field: str) -> None:
    if kind.counts_whitespace:
        size = len(text.encode("utf-8", "surrogatepass"))  # JSON "\ud800" decodes to a lone surrogate
        unit = "bytes"
    else:
        size = len(text) - sum(text.count(ch) for ch in _WHITESPACE)
        unit = "non-whitespace characters"
    if size > kind.limit:
        raise InvalidEventError(
            f"{field} is {size} {unit}, over AWS's {kind.limit} limit for a {kind.label}: it cannot be genuine"
        )
