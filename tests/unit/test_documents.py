"""decode_policy_document: the three forms CloudTrail uses, and AWS's size limit for each kind."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from iamwarden.domain.documents import PolicyKind, decode_policy_document
from iamwarden.domain.events import MAX_EVENT_BYTES
from iamwarden.domain.exceptions import InvalidEventError

POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "PublicRead",
            "Effect": "Allow",
            "Principal": "*",
            "Action": ["s3:GetObject"],
            "Resource": "arn:aws:s3:::acme-invoices/*",
            "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
        }
    ],
}
_PREFIX = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/'
_SUFFIX = '"}]}'


def document_of_size(size: int, fill: str = "x") -> str:
    """Compact JSON text of exactly ``size`` characters (all non-whitespace when ``fill`` is)."""
    text = _PREFIX + fill * (size - len(_PREFIX) - len(_SUFFIX)) + _SUFFIX
    assert len(text) == size
    return text


def spaced(text: str) -> str:
    """The same document with whitespace between every token and around it."""
    body = json.dumps(json.loads(text), indent=" " * 400).replace(",", " ,\r\n\t ").replace(":", " :  ")
    return "\n\t " * 1000 + body + "\n" * 1000


def decode(value: object, kind: PolicyKind = PolicyKind.BUCKET) -> dict[str, Any]:
    return decode_policy_document(value, kind, field="detail.requestParameters.policyDocument")


# --- the three forms ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "form",
    [
        POLICY,
        json.dumps(POLICY),
        json.dumps(POLICY, indent=2),
        quote(json.dumps(POLICY)),
        quote(json.dumps(POLICY), safe=""),
        "%7b" + quote(json.dumps(POLICY))[3:],
        "  \n" + json.dumps(POLICY) + "\n",
        "\n" + quote(json.dumps(POLICY)) + " ",
    ],
    ids=[
        "object",
        "json",
        "json-indented",
        "url-encoded",
        "url-encoded-strict",
        "url-encoded-lowercase",
        "json-padded",
        "url-padded",
    ],
)
@pytest.mark.parametrize("kind", list(PolicyKind), ids=[kind.name for kind in PolicyKind])
def test_object_json_and_url_encoded_forms_decode_to_the_same_dict(form: object, kind: PolicyKind) -> None:
    assert decode(form, kind) == POLICY


def test_url_encoded_form_really_is_percent_encoded() -> None:
    encoded = quote(json.dumps(POLICY))
    assert encoded.startswith("%7B")
    assert "{" not in encoded


def test_object_form_returns_a_plain_dict_copy() -> None:
    decoded = decode(POLICY)
    assert decoded == POLICY
    assert decoded is not POLICY


# --- size limits ----------------------------------------------------------------------------------


def test_limits_per_kind_are_the_documented_aws_quotas() -> None:
    assert {kind: kind.limit for kind in PolicyKind} == {
        PolicyKind.MANAGED: 6_144,
        PolicyKind.INLINE_USER: 2_048,
        PolicyKind.INLINE_ROLE: 10_240,
        PolicyKind.INLINE_GROUP: 5_120,
        PolicyKind.TRUST: 4_096,
        PolicyKind.BUCKET: 20_480,
        PolicyKind.QUEUE: 8_192,
        PolicyKind.TOPIC: 30_720,
        PolicyKind.FUNCTION: 20_480,
        PolicyKind.KEY: 32_768,
        PolicyKind.SECRET: 20_480,
        PolicyKind.REPOSITORY: 10_240,
        PolicyKind.EVENT_BUS: 10_240,
        PolicyKind.DYNAMODB: 20_480,
        PolicyKind.EFS: 20_000,
        PolicyKind.OPENSEARCH: 102_400,
        PolicyKind.BACKUP_VAULT: 253_952,
        PolicyKind.GLACIER_VAULT: 20_480,
        PolicyKind.LOGS_DESTINATION: 5_120,
    }
    iam_kinds = {PolicyKind.MANAGED, PolicyKind.INLINE_USER, PolicyKind.INLINE_ROLE, PolicyKind.INLINE_GROUP}
    # IAM counts characters without whitespace; every resource policy's service counts all of it.
    assert {kind for kind in PolicyKind if not kind.counts_whitespace} == iam_kinds | {PolicyKind.TRUST}


IAM_KINDS = [kind for kind in PolicyKind if not kind.counts_whitespace]


@pytest.mark.parametrize("kind", list(PolicyKind), ids=[kind.name for kind in PolicyKind])
def test_document_at_the_limit_is_accepted_and_one_over_is_rejected(kind: PolicyKind) -> None:
    at_limit = document_of_size(kind.limit)
    assert decode(at_limit, kind)["Version"] == "2012-10-17"
    assert decode(quote(at_limit), kind)["Version"] == "2012-10-17"  # counted after URL-decoding
    assert decode(json.loads(at_limit), kind)["Version"] == "2012-10-17"
    over = document_of_size(kind.limit + 1)
    pattern = rf"over AWS's {kind.limit} limit for a {kind.label}: it cannot be genuine"
    for form in (over, quote(over), json.loads(over)):
        with pytest.raises(InvalidEventError, match=pattern):
            decode(form, kind)


def test_managed_policy_with_lots_of_whitespace_is_counted_without_it() -> None:
    text = spaced(document_of_size(6_000))
    assert len(text) > 2 * PolicyKind.MANAGED.limit  # the whitespace alone would break the limit
    assert decode(text, PolicyKind.MANAGED)["Statement"][0]["Effect"] == "Allow"
    assert decode(quote(text.strip()), PolicyKind.MANAGED)["Statement"][0]["Effect"] == "Allow"


def test_managed_policy_of_6145_non_whitespace_characters_is_rejected_however_spaced() -> None:
    text = spaced(document_of_size(6_145))
    with pytest.raises(InvalidEventError, match=r"is 6145 non-whitespace characters, over AWS's 6144 limit"):
        decode(text, PolicyKind.MANAGED)


@pytest.mark.parametrize("kind", IAM_KINDS, ids=[kind.name for kind in IAM_KINDS])
def test_iam_kinds_ignore_whitespace_at_the_limit(kind: PolicyKind) -> None:
    text = spaced(document_of_size(kind.limit))
    assert len(text) > kind.limit
    assert decode(text, kind)["Version"] == "2012-10-17"
    with pytest.raises(InvalidEventError, match="non-whitespace characters"):
        decode(spaced(document_of_size(kind.limit + 1)), kind)


def test_iam_kinds_count_characters_not_bytes() -> None:
    text = document_of_size(PolicyKind.MANAGED.limit, fill="é")
    assert len(text.encode()) > PolicyKind.MANAGED.limit
    assert decode(text, PolicyKind.MANAGED)["Version"] == "2012-10-17"
    assert decode(json.loads(text), PolicyKind.MANAGED)["Version"] == "2012-10-17"


def test_bucket_policy_counts_whitespace() -> None:
    text = document_of_size(20_000).replace(",", ",\n" + " " * 480, 1)
    assert len(text) == 20_481
    with pytest.raises(InvalidEventError, match=r"is 20481 bytes, over AWS's 20480 limit for a bucket policy"):
        decode(text, PolicyKind.BUCKET)
    assert decode(text.replace(" ", "", 1), PolicyKind.BUCKET)["Version"] == "2012-10-17"


def test_surrounding_whitespace_is_not_part_of_the_document() -> None:
    text = "\n" * 1_000 + document_of_size(PolicyKind.BUCKET.limit) + " " * 1_000
    assert decode(text, PolicyKind.BUCKET)["Version"] == "2012-10-17"


def test_bucket_policy_counts_utf8_bytes_not_characters() -> None:
    text = document_of_size(15_000, fill="é")
    assert len(text) < PolicyKind.BUCKET.limit < len(text.encode())
    with pytest.raises(InvalidEventError, match=r"bytes, over AWS's 20480 limit"):
        decode(text, PolicyKind.BUCKET)


def test_bucket_policy_object_with_non_ascii_values_is_measured_in_utf8_not_escapes() -> None:
    """A \\uXXXX escape is six bytes; the character is two or three, so escaping must not count."""
    policy = {
        **POLICY,
        "Statement": [{**POLICY["Statement"][0], "Condition": {"StringNotLike": {"s3:prefix": ["日本" * 2_000]}}}],
    }
    assert len(json.dumps(policy, separators=(",", ":"))) > PolicyKind.BUCKET.limit
    assert len(json.dumps(policy, separators=(",", ":"), ensure_ascii=False).encode()) < PolicyKind.BUCKET.limit
    assert decode(policy, PolicyKind.BUCKET) == policy


def test_object_form_is_measured_compactly() -> None:
    """An object has no whitespace of its own: it is measured as compact JSON."""
    at_limit = json.loads(document_of_size(PolicyKind.BUCKET.limit))
    assert len(json.dumps(at_limit)) > PolicyKind.BUCKET.limit  # json.dumps' default separators add spaces
    assert decode(at_limit, PolicyKind.BUCKET) == at_limit


def test_string_longer_than_any_event_is_rejected_before_any_work() -> None:
    with pytest.raises(InvalidEventError, match=r"more than any EventBridge event can carry"):
        decode(" " * (MAX_EVENT_BYTES + 1), PolicyKind.MANAGED)


def test_lone_surrogate_in_a_string_document_is_measured_not_crashed() -> None:
    """JSON text may carry "\\ud800", which decodes to a character UTF-8 cannot encode."""
    assert decode('{"Statement": [], "Id": "\ud800"}', PolicyKind.BUCKET)["Id"] == "\ud800"
    assert decode({"Statement": [], "Id": "\ud800"}, PolicyKind.BUCKET)["Id"] == "\ud800"


# --- what is not a policy document ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([POLICY], r"must be a policy document \(JSON object or string\), got a list"),
        (42, r"must be a policy document \(JSON object or string\), got a number"),
        (1.5, r"got a number"),
        (None, r"must be a policy document \(JSON object or string\), got null"),
        (True, r"got a boolean"),
        (json.dumps(POLICY).encode(), r"got bytes"),
        ('{"Version": "2012-10-17", "Statement": [', r"does not parse as JSON"),
        ("", r"does not parse as JSON"),
        ("   ", r"does not parse as JSON"),
        ("not json", r"does not parse as JSON"),
        ("%7Bnot%20json%7D", r"does not parse as JSON"),
        ("%7B%22a%22%3A", r"does not parse as JSON"),
        ("[" * 5_000, r"does not parse as JSON"),
        ('[{"Statement": []}]', r"must be a JSON object, got a list"),
        ('"{\\"Statement\\": []}"', r"must be a JSON object, got a string"),
        ("42", r"must be a JSON object, got a number"),
        ("null", r"must be a JSON object, got null"),
        ({"Statement": {1, 2}}, r"is not a JSON policy document"),
    ],
    ids=[
        "list",
        "int",
        "float",
        "none",
        "bool",
        "bytes",
        "truncated",
        "empty",
        "blank",
        "text",
        "url-encoded-garbage",
        "url-encoded-truncated",
        "deeply-nested",
        "json-array",
        "json-string",
        "json-number",
        "json-null",
        "unserialisable-object",
    ],
)
def test_values_that_are_not_policy_documents_are_rejected(value: object, message: str) -> None:
    with pytest.raises(InvalidEventError, match=message):
        decode(value, PolicyKind.MANAGED)


def test_error_names_the_field() -> None:
    with pytest.raises(InvalidEventError, match=r"^detail\.requestParameters\.bucketPolicy does not parse as JSON"):
        decode_policy_document("{", PolicyKind.BUCKET, field="detail.requestParameters.bucketPolicy")


def test_self_referencing_object_is_rejected() -> None:
    policy: dict[str, Any] = {"Version": "2012-10-17"}
    policy["Statement"] = policy
    with pytest.raises(InvalidEventError, match="is not a JSON policy document"):
        decode(policy)


def test_url_encoded_document_after_encoded_whitespace_is_decoded() -> None:
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    encoded = quote("\n  " + json.dumps(document))  # starts with %0A%20%20%7B
    assert encoded.startswith("%0A")
    assert decode_policy_document(encoded, PolicyKind.MANAGED, field="policyDocument") == document
