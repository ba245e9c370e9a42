"""A bucket policy's ``CanonicalUser`` principal resolved live: is it a CloudFront origin access identity?

The enforcer, wired as in Lambda against moto, judges events/bucket-policy-cloudfront-oai-canonical-user.json
(the CloudFront guide's legacy OAI policy in CanonicalUser form). moto 5 has no CloudFront origin access
identities, so CloudFront's answers come from botocore's Stubber on the enforcer's own CloudFront client; S3,
SSM, DynamoDB and the audit trail are moto's. An identity of the bucket's account is private (compliant,
nothing changed); an id CloudFront does not list, or a denied listing, is a canonical user of unknown owner
(alerted with needs_context, never removed); a throttled listing fails the event for a retry.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber

from iamwarden.adapters.audit import AuditStatus
from iamwarden.adapters.origin_access_identities import CLOUDFRONT_REGION
from iamwarden.app.service import EnforcerService
from iamwarden.domain.exceptions import IamWardenError
from iamwarden.domain.findings import Outcome
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier

SAMPLE = "bucket-policy-cloudfront-oai-canonical-user.json"
BUCKET_REGION = "eu-west-1"
BUCKET = "acme-website-assets"
RULE = "s3-bucket-policy-cross-account"
OAI_CANONICAL = "7484f72035b528db5217af113d13da06734212320103f8d6c520c58a7585a2f1"
LIST = "list_cloud_front_origin_access_identities"


def _listing(*items: tuple[str, str]) -> dict[str, Any]:
    return {
        "CloudFrontOriginAccessIdentityList": {
            "Marker": "",
            "MaxItems": 100,
            "IsTruncated": False,
            "Quantity": len(items),
            "Items": [{"Id": oai, "S3CanonicalUserId": canonical, "Comment": ""} for oai, canonical in items],
        }
    }


@pytest.fixture
def cloudfront(enforcer: EnforcerService) -> Iterator[Stubber]:
    """CloudFront as the enforcer's client of the home account sees it (moto has no origin access identities)."""
    client = enforcer.executor.clients.client("cloudfront", HOME_ACCOUNT, CLOUDFRONT_REGION)
    with Stubber(client) as stubber:
        yield stubber


@pytest.fixture(autouse=True)
def _remediate(account: Account) -> None:
    account.set(f"rules/{RULE}/mode", "remediate")


def _put(account: Account) -> dict[str, Any]:
    """The bucket with the sample's policy on it, as the change the event records left it."""
    policy = load_event(SAMPLE)["detail"]["requestParameters"]["bucketPolicy"]
    account.s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": BUCKET_REGION})
    account.s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))
    return dict(policy)


def _live(account: Account) -> dict[str, Any]:
    return dict(json.loads(account.s3.get_bucket_policy(Bucket=BUCKET)["Policy"]))


def test_an_identity_of_the_bucket_account_is_private(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, cloudfront: Stubber
) -> None:
    policy = _put(account)
    cloudfront.add_response(LIST, _listing(("E2QWRUHAPOMQZL", "0" * 64), ("E3RHU1WBNHA9QZ", OAI_CANONICAL)), {})

    result = enforcer.handle(load_event(SAMPLE))

    assert result["verdict"] == "compliant", result
    assert notifier.sent == []
    assert _live(account) == policy
    cloudfront.assert_no_pending_responses()


def test_an_id_cloudfront_does_not_list_is_alerted_with_what_is_unknown_and_kept(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, cloudfront: Stubber
) -> None:
    policy = _put(account)
    cloudfront.add_response(LIST, _listing(("E2QWRUHAPOMQZL", "0" * 64)), {})
    event = load_event(SAMPLE)

    result = enforcer.handle(event)

    assert result["verdict"] == "violation"
    assert [finding["outcome"] for finding in result["findings"]] == ["alerted"]
    assert _live(account) == policy
    [notification] = notifier.sent
    assert notification.outcome is Outcome.ALERTED
    assert notification.finding is not None
    [fact] = notification.finding.needs_context
    assert f"ListCloudFrontOriginAccessIdentities in account {HOME_ACCOUNT} lists no origin access identity" in fact
    [record] = account.audit().for_event(event["detail"]["eventID"])
    assert record.status == AuditStatus.ALERTED


def test_a_denied_listing_is_alerted_and_nothing_changes(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, cloudfront: Stubber
) -> None:
    policy = _put(account)
    cloudfront.add_client_error(LIST, "AccessDenied", "not authorized", 403)

    result = enforcer.handle(load_event(SAMPLE))

    assert [finding["outcome"] for finding in result["findings"]] == ["alerted"]
    assert _live(account) == policy
    [notification] = notifier.sent
    assert notification.finding is not None
    [fact] = notification.finding.needs_context
    assert "ListCloudFrontOriginAccessIdentities failed in account 111122223333" in fact
    assert "AccessDenied" in fact


def test_a_throttled_listing_fails_the_event_for_a_retry(
    account: Account, enforcer: EnforcerService, cloudfront: Stubber
) -> None:
    policy = _put(account)
    cloudfront.add_client_error(LIST, "Throttling", "Rate exceeded", 400)

    with pytest.raises(IamWardenError, match="Throttling"):
        enforcer.handle(load_event(SAMPLE))
    assert _live(account) == policy
