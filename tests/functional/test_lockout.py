"""A policy that shuts IAM Warden out is alerted, never tried (review s11 F9), end to end in moto.

In ``remediate`` mode an ordinary public bucket policy or key policy is rewritten; the same policy with a Deny of the
policy calls to everyone but the intruder (S3), or without any statement letting the account's IAM policies in (KMS),
is alerted critical with no plan: the enforcer makes no call to the resource at all, and the live policy stays as the
change left it. The events are the samples ``bucket-policy-public-read.json`` and ``kms-put-key-policy-public.json``
(CloudTrail records in the EventBridge envelope) with their policies changed.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from iamwarden.app.service import EnforcerService
from iamwarden.domain.findings import Outcome
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier

ACCOUNT = "111122223333"
BUCKET = "acme-invoices"
PUBLIC_READ = {
    "Sid": "PublicRead",
    "Effect": "Allow",
    "Principal": "*",
    "Action": "s3:GetObject",
    "Resource": f"arn:aws:s3:::{BUCKET}/*",
}
KEEP_OUT = {
    "Sid": "OnlyTerraformChangesThis",
    "Effect": "Deny",
    "Principal": "*",
    "Action": ["s3:PutBucketPolicy", "s3:DeleteBucketPolicy"],
    "Resource": f"arn:aws:s3:::{BUCKET}",
    "Condition": {"ArnNotEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/terraform-deployer"}},
}


def _bucket_event(account: Account, *statements: dict[str, Any]) -> dict[str, Any]:
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    account.s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    account.s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(document))
    event = copy.deepcopy(load_event("bucket-policy-public-read.json"))
    event["detail"]["requestParameters"]["bucketPolicy"] = document
    return event


def _calls(enforcer: EnforcerService, event: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    with enforcer.executor.clients.call_log.recording() as calls:
        findings = enforcer.handle(event)["findings"]
    return findings, [call.iam_action for call in calls]


def test_an_ordinary_public_bucket_policy_is_rewritten(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/s3-bucket-policy-public/mode", "remediate")
    event = _bucket_event(account, PUBLIC_READ)
    [finding], calls = _calls(enforcer, event)
    assert finding["outcome"] == Outcome.REMEDIATED
    assert "s3:DeleteBucketPolicy" in calls


def test_a_bucket_policy_that_denies_iam_warden_the_policy_calls_is_alerted_and_never_tried(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("rules/s3-bucket-policy-public/mode", "remediate")
    event = _bucket_event(account, PUBLIC_READ, KEEP_OUT)
    [finding], calls = _calls(enforcer, event)
    assert finding["outcome"] != Outcome.REMEDIATED
    assert [call for call in calls if call.startswith("s3:")] == []
    live = json.loads(account.s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    assert [s["Sid"] for s in live["Statement"]] == ["PublicRead", "OnlyTerraformChangesThis"]
    alert = notifier.sent[-1].finding
    assert alert is not None
    assert alert.severity.value == "critical"
    assert alert.plan == ()
    assert alert.needs_context == ("IAM Warden is denied s3:PutBucketPolicy by statement 1 (OnlyTerraformChangesThis)",)


def test_a_public_key_policy_that_lets_no_iam_policy_in_is_alerted_and_never_tried(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("rules/kms-key-policy-public/mode", "remediate")
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "InsiderOnly",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/developer"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {"Sid": "AnyoneDecrypts", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt"},
        ],
    }
    kms = account.session.client("kms", region_name="eu-west-1")
    key = kms.create_key(Policy=json.dumps(document), BypassPolicyLockoutSafetyCheck=True)["KeyMetadata"]["Arn"]
    event = copy.deepcopy(load_event("kms-put-key-policy-public.json"))
    request = event["detail"]["requestParameters"]
    request.update(keyId=key, policy=json.dumps(document), bypassPolicyLockoutSafetyCheck=True)
    findings, calls = _calls(enforcer, event)
    by_rule = {f["rule"]: f for f in findings}
    assert set(by_rule) == {"kms-key-policy-public", "kms-key-policy-locks-out-account"}
    assert by_rule["kms-key-policy-public"]["outcome"] != Outcome.REMEDIATED
    assert [call for call in calls if call.startswith("kms:")] == []
    assert json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"]) == document
    severities = {sent.finding.rule_id: sent.finding.severity.value for sent in notifier.sent if sent.finding}
    assert severities == {"kms-key-policy-public": "critical", "kms-key-policy-locks-out-account": "critical"}
