"""The rules judge a statement with ``fresh_exposure`` (their whole-document verdict is kept by ``judged_once``):
it must answer exactly what ``exposure_of`` answers, on first sight and from its per-statement cache.

Compared on every statement of the sample events and the escalation corpora, and on generated statements
(principals, restricting and other conditions, dates, networks, canonical users), offline, with a Region and
time, and with live lookups that answer and that are denied.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iamwarden.domain import exposure
from iamwarden.domain.events import instant
from iamwarden.domain.exceptions import InvalidEventError
from iamwarden.domain.exposure import (
    Circumstances,
    NetworkOwner,
    OriginAccessIdentity,
    TrustBoundary,
    exposure_of,
    fresh_exposure,
)
from iamwarden.domain.policy import Statement, parse_policy
from iamwarden.guardrails.bucket_policy import BUCKET_POLICY_RULE
from tests.policy_corpus import corpus_documents

ROOT = Path(__file__).resolve().parents[2]
BOUNDARY = TrustBoundary(
    "111122223333", frozenset({"444455556666"}), "o-a1b2c3d4e5", frozenset({"vpce-0a1b2c3d"}), frozenset({"a" * 64})
)


class _Owners:
    def owner_of(self, network_id: str, account: str, region: str) -> NetworkOwner:
        if network_id.endswith("1"):
            return NetworkOwner(None, "DescribeVpcEndpoints was denied")
        return NetworkOwner("999988887777" if network_id.endswith("9") else account, "EC2 says so")


class _Identities:
    def identity_of(self, canonical_user: str, account: str) -> OriginAccessIdentity:
        if canonical_user.startswith("b"):
            return OriginAccessIdentity("E2QWRUHAPOMQZL", "CloudFront lists it")
        return OriginAccessIdentity(None, "CloudFront lists no such identity")


CIRCUMSTANCES = (
    None,
    Circumstances("us-east-1", instant("2026-03-02T10:00:00Z")),
    Circumstances("eu-west-1", instant("2019-01-01T00:00:00Z"), _Owners(), _Identities()),
)


def _statements() -> list[Statement]:
    found: list[Statement] = []
    for document in corpus_documents():
        try:
            found.extend(parse_policy(document).statements)
        except InvalidEventError:
            continue
    return found


STATEMENTS = _statements()


def _assert_same(statement: Statement) -> None:
    for circumstances in CIRCUMSTANCES:
        exposure._EXPOSURES.clear()
        first_sight = exposure_of(statement, BOUNDARY, circumstances)
        kept = exposure_of(statement, BOUNDARY, circumstances)
        assert fresh_exposure(statement, BOUNDARY, circumstances) == first_sight == kept


def test_every_corpus_statement_is_judged_as_exposure_of_judges_it() -> None:
    assert len(STATEMENTS) > 400
    for statement in STATEMENTS:
        _assert_same(statement)


_accounts = st.sampled_from(["111122223333", "444455556666", "999988887777", "*", "arn:aws:iam::999988887777:root"])
_principal = st.one_of(
    st.just("*"),
    st.fixed_dictionaries(
        {},
        optional={
            "AWS": st.lists(_accounts, min_size=1, max_size=2),
            "Service": st.sampled_from(["logging.s3.amazonaws.com", "cloudtrail.amazonaws.com", "*.amazonaws.com"]),
            "Federated": st.sampled_from(
                ["cognito-identity.amazonaws.com", "arn:aws:iam::999988887777:saml-provider/x"]
            ),
            "CanonicalUser": st.sampled_from(["a" * 64, "b" * 64, "c" * 64, "not-hex"]),
        },
    ),
)
_keys = st.sampled_from(
    [
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:SourceAccount",
        "aws:SourceArn",
        "aws:PrincipalArn",
        "aws:SourceVpce",
        "aws:SourceVpc",
        "aws:CurrentTime",
        "aws:userid",
        "aws:SecureTransport",
        "s3:x-amz-acl",
    ]
)
_values = st.lists(
    st.sampled_from(
        [
            "o-a1b2c3d4e5",
            "o-zzzzzzzzzz",
            "o-*",
            "111122223333",
            "999988887777",
            "arn:aws:iam::999988887777:role/x",
            "arn:aws:*:*:111122223333:*",
            "vpce-0a1b2c3d",
            "vpce-01",
            "vpce-09",
            "vpc-02",
            "2020-01-01T00:00:00Z",
            "2030-01-01T00:00:00Z",
            "true",
            "not-an-id",
        ]
    ),
    min_size=1,
    max_size=2,
)
_operators = st.sampled_from(
    [
        "StringEquals",
        "StringLike",
        "StringNotEquals",
        "ArnLike",
        "ForAnyValue:StringLike",
        "StringEqualsIfExists",
        "DateLessThan",
        "Bool",
    ]
)
_statement: st.SearchStrategy[dict[str, Any]] = st.fixed_dictionaries(
    {
        "Effect": st.sampled_from(["Allow", "Allow", "Deny"]),
        "Action": st.one_of(st.just("s3:GetObject"), st.just([])),
        "Resource": st.sampled_from(["arn:aws:s3:::b/*", "arn:aws:s3:::b/AWSLogs/999988887777/*"]),
    },
    optional={
        "Principal": _principal,
        "NotPrincipal": st.just({"AWS": "111122223333"}),
        "Condition": st.dictionaries(_operators, st.dictionaries(_keys, _values, min_size=1, max_size=2), max_size=2),
    },
)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_statement)
def test_a_generated_statement_is_judged_as_exposure_of_judges_it(raw: dict[str, Any]) -> None:
    if "Principal" in raw and "NotPrincipal" in raw:
        del raw["NotPrincipal"]
    _assert_same(parse_policy({"Statement": [raw]}).statements[0])


@pytest.mark.parametrize("circumstances", CIRCUMSTANCES, ids=["offline", "region-and-time", "live"])
def test_the_rules_whole_verdicts_are_the_statement_by_statement_answers(circumstances: Circumstances | None) -> None:
    documents = [parse_policy({"Statement": [statement.raw]}) for statement in STATEMENTS[:300]]
    for policy in documents:
        expected = tuple(exposure_of(statement, BOUNDARY, circumstances) for statement in policy.statements)
        assert BUCKET_POLICY_RULE.exposures(policy, BOUNDARY, circumstances) == expected
