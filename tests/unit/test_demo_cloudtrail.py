"""The demo's CloudTrail records have the shapes of the samples in events/ and are judged like them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from demo import cloudtrail
from demo.cloudtrail import Caller
from iamwarden.domain.findings import Verdict
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event

CALLER = Caller(
    "123456789012",
    "developer",
    "arn:aws:iam::123456789012:role/developer",
    "AROA2KPU3GRUGI7A2PA3U",
    "dev@example.com",
    "ASIAKIEZ4IB7HMEHD6QZ",
    "203.0.113.61",
    "2026-11-21T10:00:00Z",
)
CREATED = datetime(2026, 11, 21, 9, 14, 7, tzinfo=UTC)


def _shape(value: Any) -> Any:
    """Keys (recursively) and value types, without the values."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(item) for item in value[:1]]
    return type(value).__name__


def test_iam_dates_read_like_cloudtrails() -> None:
    assert cloudtrail.iam_date(CREATED) == "Nov 21, 2026 9:14:07 AM"
    assert cloudtrail.iam_date(datetime(2026, 1, 2, 0, 5, 9, tzinfo=UTC)) == "Jan 2, 2026 12:05:09 AM"


def test_an_attachment_record_has_the_samples_shape_and_is_a_violation() -> None:
    event = cloudtrail.attach_role_policy(
        CALLER, "us-east-1", "app-backend", "arn:aws:iam::aws:policy/AdministratorAccess"
    )
    sample = load_event("attach-admin-to-role.json")
    sample["detail"].pop("sessionCredentialFromConsole")
    sample["detail"]["tlsDetails"] = event["detail"]["tlsDetails"]
    assert _shape(event) == _shape(sample)
    judgement = judge_event(event, Settings())
    assert judgement.verdict is Verdict.VIOLATION
    assert [finding.rule_id for finding in judgement.findings] == ["managed-policy-attached"]


def test_a_create_user_record_is_a_violation_on_the_created_user() -> None:
    user = {
        "Path": "/",
        "UserName": "backdoor-admin",
        "UserId": "AIDAX",
        "Arn": "arn:aws:iam::123456789012:user/backdoor-admin",
        "CreateDate": CREATED,
    }
    event = cloudtrail.create_user(CALLER, "us-east-1", user)
    assert event["detail"]["responseElements"]["user"]["createDate"] == "Nov 21, 2026 9:14:07 AM"
    judgement = judge_event(event, Settings())
    assert judgement.verdict is Verdict.VIOLATION
    assert [finding.resource_arn for finding in judgement.findings] == ["arn:aws:iam::123456789012:user/backdoor-admin"]


def test_a_bucket_policy_record_has_the_samples_shape() -> None:
    sample = load_event("bucket-policy-unknown-account.json")
    policy = sample["detail"]["requestParameters"]["bucketPolicy"]
    event = cloudtrail.put_bucket_policy(CALLER, "eu-west-1", "acme-exports", policy, 403)
    sample["detail"]["userIdentity"] = event["detail"]["userIdentity"]
    sample["detail"]["additionalEventData"].pop("x-amz-id-2")
    assert _shape(event) == _shape(sample)
    assert event["detail"]["requestParameters"]["Host"] == "acme-exports.s3.eu-west-1.amazonaws.com"
    judgement = judge_event(event, Settings())
    assert judgement.verdict is Verdict.VIOLATION
    assert [finding.rule_id for finding in judgement.findings] == ["s3-bucket-policy-cross-account"]
