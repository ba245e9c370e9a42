"""The judgement of s3-acl-cross-account: whose canonical ids are trusted, and when it cannot know (issue 18)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from iamwarden.domain.findings import Judgement, Verdict
from iamwarden.domain.settings import Settings, parse_settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event

SAMPLE = "acl-bucket-canonical-user-grant.json"
OWNER = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
OTHER = "c3f1e2d4a5b6978812a3b4c5d6e7f80912a3b4c5d6e7f8091a2b3c4d5e6f7a8b"
PARTNER = "d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d"


def _trusting(*ids: str) -> Settings:
    settings, problems = parse_settings({"rules": {"s3-acl-cross-account": {"trusted_canonical_ids": list(ids)}}})
    assert not problems
    return settings


def _judge(settings: Settings, request: dict[str, Any] | None = None) -> Judgement:
    event = copy.deepcopy(load_event(SAMPLE))
    if request is not None:
        event["detail"]["requestParameters"] = {"bucketName": "acme-reports", **request}
        if "key" in request:
            event["detail"]["eventName"] = "PutObjectAcl"
    return judge_event(event, settings)


def _finding(judgement: Judgement) -> Any:
    [finding] = [f for f in judgement.findings if f.rule_id == "s3-acl-cross-account"]
    return finding


def test_without_the_trusted_list_a_grant_is_alerted_never_remediated() -> None:
    finding = _finding(_judge(Settings()))

    assert finding.needs_context, "whose the canonical id is cannot be known"
    assert finding.plan[0].parameters["canonical_ids"] == [OTHER]


def test_with_the_trusted_list_an_unlisted_id_is_remediable() -> None:
    finding = _finding(_judge(_trusting(PARTNER)))

    assert finding.needs_context == ()
    assert finding.plan[0].parameters == {"bucket": "acme-reports", "canonical_ids": [OTHER]}


def test_a_listed_id_is_compliant_and_the_owner_always_is() -> None:
    judgement = _judge(_trusting(OTHER.upper()))  # canonical ids compare case-insensitively

    assert judgement.verdict is Verdict.COMPLIANT, judgement.reason


@pytest.mark.parametrize(
    ("request_parameters", "grantees"),
    [
        ({"x-amz-grant-read": f'id="{OTHER}"'}, [OTHER]),
        ({"x-amz-grant-full-control": [f'id="{OWNER}", id="{OTHER}"']}, [OWNER, OTHER]),  # no Owner in a header call
        ({"x-amz-grant-write": 'uri="http://acs.amazonaws.com/groups/s3/LogDelivery"'}, []),
        ({"x-amz-acl": ["bucket-owner-full-control"]}, []),
    ],
)
def test_grant_headers_are_read(request_parameters: dict[str, Any], grantees: list[str]) -> None:
    judgement = _judge(_trusting(PARTNER), request_parameters)

    found = [f for f in judgement.findings if f.rule_id == "s3-acl-cross-account"]
    assert [g["grantee"] for f in found for g in f.offending] == grantees


def test_an_email_grantee_is_never_remediated_on_a_guess() -> None:
    finding = _finding(_judge(_trusting(PARTNER), {"x-amz-grant-read": 'emailAddress="ops@partner.example"'}))

    assert any("e-mail" in fact for fact in finding.needs_context)
    assert finding.plan[0].parameters["canonical_ids"] == []


def test_an_acl_that_is_not_an_object_is_invalid() -> None:
    judgement = _judge(Settings(), {"AccessControlPolicy": "private"})

    assert judgement.verdict is Verdict.INVALID


def test_an_object_acl_names_the_object() -> None:
    request = {"key": "drop/2026-11-23.csv", "x-amz-grant-read": f'id="{OTHER}"'}
    finding = _finding(_judge(_trusting(PARTNER), request))

    assert finding.resource_arn == "arn:aws:s3:::acme-reports/drop/2026-11-23.csv"
    assert finding.plan[0].parameters["key"] == "drop/2026-11-23.csv"
