"""The sample bucket policies of AWS's own delivery principals, judged and acted on by the enforcer in moto.

In remediate mode: the documented ALB access-log, CloudFront OAI and OAC policies (and a grant whose date
window had closed) are left alone; an OAC or log delivery acting for an untrusted account is removed;
a service with no source condition (the confused deputy) is alerted and kept.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from iamwarden.app.service import EnforcerService
from iamwarden.domain.findings import Outcome
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier

BUCKET_REGION = "eu-west-1"


def _put(account: Account, event: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    request = event["detail"]["requestParameters"]
    bucket, policy = request["bucketName"], request["bucketPolicy"]
    account.s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": BUCKET_REGION})
    account.s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    return bucket, policy


def _live(account: Account, bucket: str) -> dict[str, Any] | None:
    try:
        return dict(json.loads(account.s3.get_bucket_policy(Bucket=bucket)["Policy"]))
    except account.s3.exceptions.ClientError:
        return None


@pytest.fixture(autouse=True)
def _remediate(account: Account) -> None:
    for rule in ("s3-bucket-policy-public", "s3-bucket-policy-cross-account"):
        account.set(f"rules/{rule}/mode", "remediate")


@pytest.mark.parametrize(
    "sample",
    [
        "bucket-policy-alb-logs-elb-account.json",
        "bucket-policy-alb-logs-log-delivery.json",
        "bucket-policy-cloudfront-oai.json",
        "bucket-policy-cloudfront-oac.json",
        "bucket-policy-cloudtrail-service.json",
        "bucket-policy-expired-window.json",
    ],
)
def test_documented_delivery_policies_are_left_alone(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, sample: str
) -> None:
    event = load_event(sample)
    bucket, policy = _put(account, event)

    result = enforcer.handle(event)

    assert result["verdict"] == "compliant", result
    assert notifier.sent == []
    assert _live(account, bucket) == policy


@pytest.mark.parametrize(
    "sample", ["bucket-policy-cloudfront-oac-other-account.json", "bucket-policy-log-delivery-untrusted-source.json"]
)
def test_a_service_acting_for_an_untrusted_account_is_removed(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, sample: str
) -> None:
    event = load_event(sample)
    bucket, _ = _put(account, event)

    result = enforcer.handle(event)

    assert [finding["outcome"] for finding in result["findings"]] == ["remediated"]
    assert _live(account, bucket) is None  # every statement offended: the policy is deleted
    [notification] = notifier.sent
    assert notification.finding is not None
    assert "acting for account 999988887777" in notification.finding.reason


def test_a_service_without_a_source_condition_is_alerted_and_kept(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    event = load_event("bucket-policy-service-no-source-condition.json")
    bucket, policy = _put(account, event)

    result = enforcer.handle(event)

    assert [finding["outcome"] for finding in result["findings"]] == ["alerted"]
    assert _live(account, bucket) == policy
    [notification] = notifier.sent
    assert notification.outcome is Outcome.ALERTED
    assert notification.finding is not None
    assert "which account cloudtrail.amazonaws.com acts for" in notification.finding.needs_context[0]
