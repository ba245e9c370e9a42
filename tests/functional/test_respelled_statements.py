"""Remediation finds the event's statement however the service stored it (review s11 F18).

moto stores policies verbatim, so each test writes the live document in the service's re-spelling itself and runs
the enforcer on the event's spelling. The re-spellings: a bare account id principal stored as the account's root
ARN (IAM User Guide, "IAM JSON policy elements: Principal", AWS account principals: the account ARN and the
shortened account id behave the same, and a service may convert the id to the ARN when the policy is saved),
action names in another case (action names are case insensitive), ``"Principal": "*"`` as ``{"AWS": "*"}``, a
one-element list for a string, another key and list order. When the live policy still lets the event's grantee in
through a statement that is not the event's, the step fails and says so: never "already safe".
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from iamwarden.app.service import EnforcementFailedError, EnforcerService
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier

REGION = "eu-west-1"
OUTSIDER = "999988887777"
ROOT = f"arn:aws:iam::{OUTSIDER}:root"


def _document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _failure(notifier: RecordingNotifier, rule: str) -> list[str]:
    return [n.outcome.value for n in notifier.sent if n.finding is not None and n.finding.rule_id == rule]


# --- S3 bucket policy --------------------------------------------------------------------------------------------

BUCKET = "acme-exports"
OWN_BUCKET_STATEMENT: dict[str, Any] = {
    "Sid": "OwnAccount",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{HOME_ACCOUNT}:root"},
    "Action": "s3:GetObject",
    "Resource": f"arn:aws:s3:::{BUCKET}/*",
}
#: The event's spelling: a bare account id, lower-case actions.
VENDOR_BUCKET_STATEMENT: dict[str, Any] = {
    "Sid": "ShareWithVendor",
    "Effect": "Allow",
    "Principal": {"AWS": OUTSIDER},
    "Action": ["s3:GetObject", "s3:ListBucket"],
    "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
}


def _bucket_event(*statements: dict[str, Any]) -> dict[str, Any]:
    event = copy.deepcopy(load_event("bucket-policy-unknown-account.json"))
    event["detail"]["requestParameters"]["bucketPolicy"] = _document(*statements)
    return event


def _bucket(account: Account, *live: dict[str, Any]) -> None:
    account.s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    account.s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(_document(*live)))


def _bucket_policy(account: Account) -> dict[str, Any] | None:
    try:
        return dict(json.loads(account.s3.get_bucket_policy(Bucket=BUCKET)["Policy"]))
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NoSuchBucketPolicy":
            raise
        return None


@pytest.mark.parametrize(
    "stored",
    [
        {**VENDOR_BUCKET_STATEMENT, "Principal": {"AWS": ROOT}},
        {**VENDOR_BUCKET_STATEMENT, "Principal": {"AWS": [ROOT]}, "Action": ["s3:listbucket", "S3:GetObject"]},
        {
            "Resource": list(reversed(VENDOR_BUCKET_STATEMENT["Resource"])),
            "Action": ["S3:ListBucket", "S3:GETOBJECT"],
            "Principal": {"AWS": ROOT},
            "Effect": "Allow",
        },
    ],
    ids=["root-arn", "one-element-list-and-action-case", "sid-less-key-order"],
)
def test_a_re_spelt_bucket_statement_is_removed(
    account: Account, enforcer: EnforcerService, stored: dict[str, Any]
) -> None:
    account.set("rules/s3-bucket-policy-cross-account/mode", "remediate")
    _bucket(account, OWN_BUCKET_STATEMENT, stored)

    [finding] = enforcer.handle(_bucket_event(OWN_BUCKET_STATEMENT, VENDOR_BUCKET_STATEMENT))["findings"]

    assert finding["outcome"] == "remediated"
    assert _bucket_policy(account) == _document(OWN_BUCKET_STATEMENT)
    enforcer.executor.undo(finding["remediation_id"])
    assert _bucket_policy(account) == _document(OWN_BUCKET_STATEMENT, stored)


def test_a_trusted_accounts_own_grant_left_after_a_complete_removal_is_no_failure(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Review R2: only the grantees the rule judged offending are looked for after the cut, not a trusted
    account the event's statement named too and that its own older statement still lets in."""
    partner = "444455556666"
    account.set("rules/s3-bucket-policy-cross-account/mode", "remediate")
    account.set("trusted_accounts", partner)
    partner_read = {**OWN_BUCKET_STATEMENT, "Sid": "PartnerRead", "Principal": {"AWS": partner}, "Action": "s3:*"}
    event_statement = {**VENDOR_BUCKET_STATEMENT, "Principal": {"AWS": [partner, OUTSIDER]}}
    stored = {**event_statement, "Principal": {"AWS": [f"arn:aws:iam::{partner}:root", ROOT]}}
    _bucket(account, partner_read, stored)

    [finding] = enforcer.handle(_bucket_event(partner_read, event_statement))["findings"]

    assert finding["outcome"] == "remediated"
    assert _bucket_policy(account) == _document(partner_read)
    assert _failure(notifier, "s3-bucket-policy-cross-account") == ["remediated"]


def test_a_condition_value_stored_in_another_spelling_fails_the_step_rather_than_already_safe(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Review R2b: the event's statement stored with a condition value re-spelt (hypothetical: an IP as its /32
    CIDR) matches no statement by meaning; the grant is still live under the event's key test, so the step fails
    and says so instead of "nothing to change"."""
    account.set("rules/s3-bucket-policy-cross-account/mode", "remediate")
    event_statement = {**VENDOR_BUCKET_STATEMENT, "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.5"}}}
    stored = {**event_statement, "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.5/32"}}}
    _bucket(account, OWN_BUCKET_STATEMENT, stored)

    with pytest.raises(EnforcementFailedError, match=f"still lets in {OUTSIDER}.*no statement matches"):
        enforcer.handle(_bucket_event(OWN_BUCKET_STATEMENT, event_statement))

    assert _bucket_policy(account) == _document(OWN_BUCKET_STATEMENT, stored)
    assert _failure(notifier, "s3-bucket-policy-cross-account") == ["remediation_failed"]


def test_a_live_grant_to_the_outsider_that_is_not_the_events_fails_the_step(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("rules/s3-bucket-policy-cross-account/mode", "remediate")
    broader = {**VENDOR_BUCKET_STATEMENT, "Principal": {"AWS": ROOT}, "Action": "s3:*"}
    _bucket(account, OWN_BUCKET_STATEMENT, broader)

    with pytest.raises(EnforcementFailedError, match=f"still lets in {OUTSIDER}.*needs a person"):
        enforcer.handle(_bucket_event(OWN_BUCKET_STATEMENT, VENDOR_BUCKET_STATEMENT))

    assert _bucket_policy(account) == _document(OWN_BUCKET_STATEMENT, broader)
    assert _failure(notifier, "s3-bucket-policy-cross-account") == ["remediation_failed"]


def test_only_the_events_statement_goes_another_accounts_and_a_conditioned_one_stay(
    account: Account, enforcer: EnforcerService
) -> None:
    account.set("rules/s3-bucket-policy-cross-account/mode", "remediate")
    stored = {**VENDOR_BUCKET_STATEMENT, "Principal": {"AWS": ROOT}}
    other = {**VENDOR_BUCKET_STATEMENT, "Sid": "Other", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}}
    narrower = {
        **stored,
        "Sid": "OnlyFromVpce",
        "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0a1b2c3d4e5f60718"}},
    }
    _bucket(account, OWN_BUCKET_STATEMENT, stored, other, narrower)

    [finding] = enforcer.handle(_bucket_event(OWN_BUCKET_STATEMENT, VENDOR_BUCKET_STATEMENT))["findings"]

    assert finding["outcome"] == "remediated"
    assert _bucket_policy(account) == _document(OWN_BUCKET_STATEMENT, other, narrower)


# --- SQS queue policy and KMS key policy ---------------------------------------------------------------------------


def _queue(account: Account, policy: dict[str, Any]) -> Any:
    sqs = account.session.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="orders-events")["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    return sqs, url


def test_a_public_queue_statement_stored_as_aws_star_is_removed(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/sqs-queue-policy-public/mode", "remediate")
    event = load_event("sqs-policy-public.json")
    sent = json.loads(event["detail"]["requestParameters"]["attributes"]["Policy"])
    own, public = sent["Statement"]
    assert public["Principal"] == "*"
    stored = {**public, "Principal": {"AWS": "*"}, "Action": ["SQS:ReceiveMessage", "SQS:SendMessage"]}
    sqs, url = _queue(account, {**sent, "Statement": [own, stored]})

    [finding] = enforcer.handle(event)["findings"]

    assert finding["outcome"] == "remediated"
    live = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    assert live["Statement"] == [own]


def test_a_key_policy_statement_stored_with_the_root_arn_is_removed(
    account: Account, enforcer: EnforcerService
) -> None:
    account.set("rules/kms-key-policy-cross-account/mode", "remediate")
    kms = account.session.client("kms", region_name=REGION)
    event = load_event("kms-put-key-policy-unknown-account.json")
    sent = json.loads(event["detail"]["requestParameters"]["policy"])
    own, vendor = sent["Statement"]
    vendor = {**vendor, "Principal": {"AWS": OUTSIDER}}  # the event's spelling: a bare account id
    stored = {**vendor, "Principal": {"AWS": ROOT}, "Action": ["KMS:DescribeKey", "kms:decrypt"]}
    key_id = kms.create_key(Policy=json.dumps({**sent, "Statement": [own, stored]}))["KeyMetadata"]["KeyId"]
    event["detail"]["requestParameters"]["policy"] = json.dumps({**sent, "Statement": [own, vendor]})
    sample_arn = event["detail"]["resources"][0]["ARN"]
    text = json.dumps(event).replace(sample_arn, f"arn:aws:kms:{REGION}:{HOME_ACCOUNT}:key/{key_id}")
    event = json.loads(text.replace(sample_arn.rsplit("/", 1)[-1], key_id))

    [finding] = enforcer.handle(event)["findings"]

    assert finding["outcome"] == "remediated"
    live = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    assert live["Statement"] == [own]


# --- IAM role trust policy -----------------------------------------------------------------------------------------

EC2 = {"Sid": "Ec2", "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
CONTRACTOR = {"Sid": "Contractor", "Effect": "Allow", "Principal": {"AWS": OUTSIDER}, "Action": "sts:AssumeRole"}


def _trust_event(document: dict[str, Any]) -> dict[str, Any]:
    event = copy.deepcopy(load_event("trust-update-unknown-account.json"))
    event["detail"]["requestParameters"] = {"roleName": "app-deployer", "policyDocument": json.dumps(document)}
    return event


def _trust(account: Account) -> dict[str, Any]:
    return dict(account.iam.get_role(RoleName="app-deployer")["Role"]["AssumeRolePolicyDocument"])


def test_a_trust_statement_iam_stored_with_the_root_arn_is_removed(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/trust-policy-untrusted/mode", "remediate")
    stored = {**CONTRACTOR, "Principal": {"AWS": ROOT}, "Action": ["sts:AssumeRole"]}
    account.iam.create_role(RoleName="app-deployer", AssumeRolePolicyDocument=json.dumps(_document(EC2, stored)))

    [finding] = enforcer.handle(_trust_event(_document(EC2, CONTRACTOR)))["findings"]

    assert finding["outcome"] == "remediated"
    assert _trust(account)["Statement"] == [EC2]
    enforcer.executor.undo(finding["remediation_id"])
    assert _trust(account)["Statement"] == [EC2, stored]


def test_a_trust_principal_cut_finds_the_root_arn_entry(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/trust-policy-untrusted/mode", "remediate")
    both = {**CONTRACTOR, "Principal": {"AWS": [OUTSIDER, f"arn:aws:iam::{HOME_ACCOUNT}:role/ci"]}}
    account.iam.create_role(RoleName="ci", AssumeRolePolicyDocument=json.dumps(_document(EC2)))
    stored = {**both, "Principal": {"AWS": [f"arn:aws:iam::{HOME_ACCOUNT}:role/ci", ROOT]}}
    account.iam.create_role(RoleName="app-deployer", AssumeRolePolicyDocument=json.dumps(_document(EC2, stored)))

    [finding] = enforcer.handle(_trust_event(_document(EC2, both)))["findings"]

    assert finding["outcome"] == "remediated"
    kept = {**CONTRACTOR, "Principal": {"AWS": f"arn:aws:iam::{HOME_ACCOUNT}:role/ci"}}
    assert _trust(account)["Statement"] == [EC2, kept]


def test_a_live_trust_that_still_admits_the_outsider_otherwise_fails_the_step(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("rules/trust-policy-untrusted/mode", "remediate")
    other = {**CONTRACTOR, "Principal": {"AWS": ROOT}, "Action": ["sts:AssumeRole", "sts:TagSession"]}
    account.iam.create_role(RoleName="app-deployer", AssumeRolePolicyDocument=json.dumps(_document(EC2, other)))

    with pytest.raises(EnforcementFailedError, match=f"role app-deployer still lets in {OUTSIDER}.*needs a person"):
        enforcer.handle(_trust_event(_document(EC2, CONTRACTOR)))

    assert _trust(account)["Statement"] == [EC2, other]
    assert _failure(notifier, "trust-policy-untrusted") == ["remediation_failed"]
