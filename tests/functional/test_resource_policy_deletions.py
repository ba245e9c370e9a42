"""A policy deletion reaches IAM Warden's record (issue 13 item 7): the next put's statements are all its own.

``DeleteBucketPolicy`` and SQS ``SetQueueAttributes`` with ``Policy`` "" record an empty document at their time, so a
statement once accepted in alert mode (older), deleted with the policy and put back later, is the later change's and is
removed; a deletion that failed (``errorCode``) changes nothing.

Shapes: ``DeleteBucketPolicy`` names the bucket as ``requestParameters.bucketName`` (the Amazon S3 User Guide's
CloudTrail log file example: ``{"bucketName": "myawsbucket"}``; records seen in public remediators' tests also carry
``Host`` and ``policy: ""``), built here from the ``bucket-policy-unknown-account.json`` sample. The SQS API reference
says "To delete a queue's access control policy, set the policy to ``""``"; the event is the ``sqs-policy-public.json``
sample (``queueUrl`` and ``attributes.Policy``) with its policy changed.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from iamwarden.adapters.recorded import AuditRecorded
from iamwarden.app.service import EnforcerService
from iamwarden.domain.findings import Outcome
from iamwarden.domain.recorded import RESOURCE_POLICY
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier
from tests.functional.test_resource_policy_history import (
    BUCKET,
    CROSS,
    OWN,
    TLS_ONLY,
    VENDOR,
    _document,
    _put,
    _record,
    _vendor_accepted,
)


def _delete(account: Account, step: int, *, error: str | None = None) -> dict[str, Any]:
    """Step ``step``'s ``DeleteBucketPolicy`` (applied live in moto first unless it failed)."""
    event = _put(account, step, error="AccessDenied")  # the envelope and times of step ``step``; nothing applied
    detail = event["detail"]
    detail.pop("errorCode")
    detail.pop("errorMessage")
    detail["eventName"] = "DeleteBucketPolicy"
    detail["requestParameters"] = {"bucketName": BUCKET, "Host": f"{BUCKET}.s3.eu-west-1.amazonaws.com", "policy": ""}
    if error is not None:
        detail.update(errorCode=error, errorMessage="Access Denied")
    else:
        account.s3.delete_bucket_policy(Bucket=BUCKET)
    return event


@pytest.fixture
def bucket(account: Account) -> Account:
    account.s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    return account


def test_a_deleted_bucket_policy_clears_the_record_so_a_later_put_is_all_the_change_s(
    bucket: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    _vendor_accepted(bucket, enforcer)

    result = enforcer.handle(_delete(bucket, 2))

    assert result["verdict"] == "compliant"
    kept = _record(bucket)
    assert kept is not None
    assert (kept.taken_at, kept.data) == ("2026-11-19T11:02:00.000+00:00", {"policy": {"Statement": []}, "pending": []})
    [finding] = enforcer.handle(_put(bucket, 3, OWN, VENDOR, TLS_ONLY))["findings"]
    assert (finding["rule"], finding["outcome"]) == (CROSS, Outcome.REMEDIATED)
    assert json.loads(bucket.s3.get_bucket_policy(Bucket=BUCKET)["Policy"]) == _document(OWN, TLS_ONLY)
    alert = notifier.sent[-1].finding
    assert alert is not None
    assert "predate" not in alert.reason  # the record says there was nothing before: no "may predate" either


def test_a_failed_bucket_policy_deletion_changes_nothing(bucket: Account, enforcer: EnforcerService) -> None:
    _vendor_accepted(bucket, enforcer)

    result = enforcer.handle(_delete(bucket, 2, error="AccessDenied"))

    assert (result["verdict"], result["findings"]) == ("ignored", [])
    kept = _record(bucket)
    assert kept is not None
    assert (kept.taken_at, kept.data["policy"]) == ("2026-11-19T11:01:00.000+00:00", _document(VENDOR))
    [finding] = enforcer.handle(_put(bucket, 3, VENDOR, TLS_ONLY))["findings"]
    assert finding["outcome"] == Outcome.ALERTED  # still older: the policy was never deleted


# --- SQS: SetQueueAttributes with Policy "" -------------------------------------------------------------------------

QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/111122223333/orders-events"
QUEUE_ARN = "arn:aws:sqs:eu-west-1:111122223333:orders-events"
QUEUE_CROSS = "sqs-queue-policy-cross-account"
Q_OWN = {
    "Sid": "OwnAccount",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
    "Action": "sqs:*",
    "Resource": QUEUE_ARN,
}
Q_VENDOR = {
    **Q_OWN,
    "Sid": "VendorSend",
    "Principal": {"AWS": "arn:aws:iam::999988887777:root"},
    "Action": "sqs:SendMessage",
}
Q_TLS = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "sqs:*",
    "Resource": QUEUE_ARN,
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def _set(account: Account, step: int, policy: dict[str, Any] | None) -> dict[str, Any]:
    """Step ``step``'s ``SetQueueAttributes`` of ``Policy`` (None: "" , the removal), applied live first."""
    event = copy.deepcopy(load_event("sqs-policy-public.json"))
    when = f"2026-12-02T09:1{step}:00Z"
    event["time"] = event["detail"]["eventTime"] = when
    event["id"] = f"3d06f95d-bd64-464f-8483-b1a882b37d1{step}"
    event["detail"]["eventID"] = f"095a7a84-e9cd-4736-86fb-eefd81dcda0{step}"
    text = json.dumps(policy) if policy is not None else ""
    event["detail"]["requestParameters"]["attributes"] = {"Policy": text}
    account.session.client("sqs", region_name="eu-west-1").set_queue_attributes(
        QueueUrl=QUEUE_URL, Attributes={"Policy": text}
    )
    return event


def _queue_policy(account: Account) -> Any:
    attributes = account.session.client("sqs", region_name="eu-west-1").get_queue_attributes(
        QueueUrl=QUEUE_URL, AttributeNames=["Policy"]
    )
    text = attributes.get("Attributes", {}).get("Policy")
    return json.loads(text) if text else None


def test_a_queue_policy_set_to_nothing_clears_the_record_so_a_later_put_is_all_the_change_s(
    account: Account, enforcer: EnforcerService
) -> None:
    account.session.client("sqs", region_name="eu-west-1").create_queue(QueueName="orders-events")
    recorded = AuditRecorded(account.audit(), account.dynamodb)
    account.set(f"rules/{QUEUE_CROSS}/mode", "alert")
    [first] = enforcer.handle(_set(account, 1, _document(Q_OWN, Q_VENDOR)))["findings"]
    assert first["outcome"] == Outcome.ALERTED
    account.set(f"rules/{QUEUE_CROSS}/mode", "remediate")
    # Without the removal the vendor's share would be older here: alerted, never removed.

    assert enforcer.handle(_set(account, 2, None))["verdict"] == "compliant"

    kept = recorded.snapshot(RESOURCE_POLICY, QUEUE_ARN)
    assert kept is not None
    assert kept.data == {"policy": {"Statement": []}, "pending": []}
    [finding] = enforcer.handle(_set(account, 3, _document(Q_OWN, Q_VENDOR, Q_TLS)))["findings"]
    assert (finding["rule"], finding["outcome"]) == (QUEUE_CROSS, Outcome.REMEDIATED)
    assert _queue_policy(account) == _document(Q_OWN, Q_TLS)


def test_without_the_removal_the_queue_share_stays_older(account: Account, enforcer: EnforcerService) -> None:
    """The control: the same steps without the removal leave the vendor's share alerted and in place."""
    account.session.client("sqs", region_name="eu-west-1").create_queue(QueueName="orders-events")
    account.set(f"rules/{QUEUE_CROSS}/mode", "alert")
    enforcer.handle(_set(account, 1, _document(Q_OWN, Q_VENDOR)))
    account.set(f"rules/{QUEUE_CROSS}/mode", "remediate")

    [finding] = enforcer.handle(_set(account, 3, _document(Q_OWN, Q_VENDOR, Q_TLS)))["findings"]

    assert finding["outcome"] == Outcome.ALERTED
    assert _queue_policy(account) == _document(Q_OWN, Q_VENDOR, Q_TLS)
