"""trust-policy-untrusted, s3-acl-public and s3-public-access-block-disabled end to end against moto.

Per rule: remediate mode fixes the live state, read back from moto; alert mode
leaves it alone; a resource already compliant is not touched; undo restores
the exact before-state, or merges it into a state changed since.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.exceptions import ClientError

from iamwarden.adapters.audit import AuditStatus
from iamwarden.adapters.recorded import AuditRecorded
from iamwarden.app.service import EnforcerService
from iamwarden.domain.exceptions import AuditError, UndoError
from iamwarden.domain.recorded import PUBLIC_ACCESS_BLOCK, Snapshot
from iamwarden.domain.rule_exceptions import ExceptionScope
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.public_access_block import ALL_BLOCKED
from iamwarden.guardrails.trust_policy import NO_ONE_MAY_ASSUME
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account

BUCKET_REGION = "eu-west-1"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
EC2 = {"Sid": "Ec2", "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
LAMBDA = {
    "Sid": "Lambda",
    "Effect": "Allow",
    "Principal": {"Service": "lambda.amazonaws.com"},
    "Action": "sts:AssumeRole",
}
OUTSIDER = {
    "Sid": "Contractor",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::999988887777:root"},
    "Action": "sts:AssumeRole",
}


def _document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


# --- trust-policy-untrusted -------------------------------------------------------------------


def _trust(account: Account, role: str) -> dict[str, Any]:
    return dict(account.iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"])


def _role(account: Account, role: str, document: dict[str, Any]) -> None:
    account.iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(document))


def _set_trust(account: Account, role: str, document: dict[str, Any]) -> None:
    account.iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(document))


def _trust_event(role: str, document: dict[str, Any]) -> dict[str, Any]:
    """The UpdateAssumeRolePolicy sample, as a new event that sets ``document`` on ``role``."""
    event = copy.deepcopy(load_event("trust-update-unknown-account.json"))
    event["id"] = str(uuid.uuid4())
    event["detail"]["eventID"] = str(uuid.uuid4())
    event["detail"]["requestParameters"] = {"roleName": role, "policyDocument": json.dumps(document)}
    return event


def _event_trust(sample: str) -> dict[str, Any]:
    request = load_event(sample)["detail"]["requestParameters"]
    text = request.get("policyDocument") or request["assumeRolePolicyDocument"]
    return dict(json.loads(text))


def test_remediate_removes_the_outsider_and_undo_puts_it_back(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/trust-policy-untrusted/mode", "remediate")
    bad = _event_trust("trust-update-unknown-account.json")
    _role(account, "app-deployer", bad)

    [finding] = enforcer.handle(load_event("trust-update-unknown-account.json"))["findings"]

    assert finding["outcome"] == "remediated"
    assert _trust(account, "app-deployer")["Statement"] == [EC2]
    enforcer.executor.undo(finding["remediation_id"])
    assert _trust(account, "app-deployer") == bad


def test_a_policy_of_only_offending_statements_gets_the_deny_all_placeholder(
    account: Account, enforcer: EnforcerService
) -> None:
    account.set("rules/trust-policy-untrusted/mode", "remediate")
    bad = _event_trust("trust-create-role-public.json")
    _role(account, "debug-role", bad)

    [finding] = enforcer.handle(load_event("trust-create-role-public.json"))["findings"]

    assert _trust(account, "debug-role")["Statement"] == [NO_ONE_MAY_ASSUME]
    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    assert "deny-all statement" in record.done[0]
    enforcer.executor.undo(finding["remediation_id"])
    assert _trust(account, "debug-role") == bad


def test_the_last_known_good_copy_brings_back_what_a_later_change_dropped(
    account: Account, enforcer: EnforcerService
) -> None:
    """The first remediation leaves EC2's statement; a later change that drops it gets that copy back."""
    account.set("rules/trust-policy-untrusted/mode", "remediate")
    _role(account, "app-deployer", _document(EC2, OUTSIDER))
    [first] = enforcer.handle(_trust_event("app-deployer", _document(EC2, OUTSIDER)))["findings"]
    assert _trust(account, "app-deployer")["Statement"] == [EC2]

    only_outsider = _document(OUTSIDER)
    _set_trust(account, "app-deployer", only_outsider)
    [second] = enforcer.handle(_trust_event("app-deployer", only_outsider))["findings"]

    assert _trust(account, "app-deployer")["Statement"] == [EC2]
    record = account.audit().get(second["remediation_id"])
    assert record is not None
    assert record.done == [
        f"set the trust policy of role app-deployer to the last known good copy restored by {first['remediation_id']}"
    ]
    enforcer.executor.undo(second["remediation_id"])
    assert _trust(account, "app-deployer") == only_outsider


def test_a_good_statement_added_since_wins_over_the_known_copy(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/trust-policy-untrusted/mode", "remediate")
    _role(account, "app-deployer", _document(EC2, OUTSIDER))
    enforcer.handle(_trust_event("app-deployer", _document(EC2, OUTSIDER)))

    changed = _document(LAMBDA, OUTSIDER)
    _set_trust(account, "app-deployer", changed)
    enforcer.handle(_trust_event("app-deployer", changed))

    assert _trust(account, "app-deployer")["Statement"] == [LAMBDA]


def test_an_undone_remediation_is_no_known_good_copy(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/trust-policy-untrusted/mode", "remediate")
    _role(account, "app-deployer", _document(EC2, OUTSIDER))
    [first] = enforcer.handle(_trust_event("app-deployer", _document(EC2, OUTSIDER)))["findings"]
    enforcer.executor.undo(first["remediation_id"])

    _set_trust(account, "app-deployer", _document(OUTSIDER))
    enforcer.handle(_trust_event("app-deployer", _document(OUTSIDER)))

    assert _trust(account, "app-deployer")["Statement"] == [NO_ONE_MAY_ASSUME]


def test_a_trust_policy_fixed_since_is_not_touched(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/trust-policy-untrusted/mode", "remediate")
    _role(account, "app-deployer", _document(EC2))

    [finding] = enforcer.handle(load_event("trust-update-unknown-account.json"))["findings"]

    assert _trust(account, "app-deployer") == _document(EC2)
    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    assert record.done == []
    assert {call["call"] for call in record.calls} == {"iam:GetRole"}
    assert enforcer.executor.undo(finding["remediation_id"]).restored == ()


def test_undo_merges_into_a_trust_policy_changed_since(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/trust-policy-untrusted/mode", "remediate")
    _role(account, "app-deployer", _event_trust("trust-update-unknown-account.json"))
    [finding] = enforcer.handle(load_event("trust-update-unknown-account.json"))["findings"]
    _set_trust(account, "app-deployer", _document(EC2, LAMBDA))

    undo = enforcer.executor.undo(finding["remediation_id"])

    assert _trust(account, "app-deployer")["Statement"] == [EC2, LAMBDA, OUTSIDER]
    assert undo.restored == ("restored 1 statement(s) into the current trust policy of role app-deployer",)


def test_undo_of_a_deleted_role_fails_and_is_recorded(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/trust-policy-untrusted/mode", "remediate")
    _role(account, "debug-role", _event_trust("trust-create-role-public.json"))
    [finding] = enforcer.handle(load_event("trust-create-role-public.json"))["findings"]
    account.iam.delete_role(RoleName="debug-role")

    with pytest.raises(UndoError, match="role debug-role no longer exists"):
        enforcer.executor.undo(finding["remediation_id"])
    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    assert record.status == AuditStatus.REMEDIATED


def test_a_role_deleted_before_remediation_is_done(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/trust-policy-untrusted/mode", "remediate")

    [finding] = enforcer.handle(load_event("trust-create-role-public.json"))["findings"]

    assert finding["outcome"] == "remediated"
    assert finding["done"] == []


def test_trust_alert_mode_changes_nothing(account: Account, enforcer: EnforcerService) -> None:
    bad = _event_trust("trust-github-oidc-wildcard-subject.json")
    _role(account, "github-deploy", bad)

    [finding] = enforcer.handle(load_event("trust-github-oidc-wildcard-subject.json"))["findings"]

    assert finding["outcome"] == "alerted"
    assert _trust(account, "github-deploy") == bad


# --- s3-acl-public ---------------------------------------------------------------------------


def _bucket(account: Account, bucket: str, ownership: str = "ObjectWriter") -> None:
    account.s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": BUCKET_REGION})
    account.s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": ownership}]}
    )


def _groups(grants: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(g["Grantee"].get("URI") or g["Grantee"].get("ID", ""), g["Permission"]) for g in grants}


def _bucket_grants(account: Account, bucket: str) -> list[dict[str, Any]]:
    return list(account.s3.get_bucket_acl(Bucket=bucket)["Grants"])


def test_remediate_removes_the_public_bucket_grant_and_undo_restores_it(
    account: Account, enforcer: EnforcerService
) -> None:
    account.set("rules/s3-acl-public/mode", "remediate")
    _bucket(account, "acme-website")
    account.s3.put_bucket_acl(Bucket="acme-website", ACL="public-read")
    before = _bucket_grants(account, "acme-website")

    [finding] = enforcer.handle(load_event("acl-bucket-public-read.json"))["findings"]

    assert finding["outcome"] == "remediated"
    after = _bucket_grants(account, "acme-website")
    assert (ALL_USERS, "READ") not in _groups(after)
    assert _groups(after) == _groups(before) - {(ALL_USERS, "READ")}
    assert any(g["Permission"] == "FULL_CONTROL" for g in after)  # the owner's grant is kept
    enforcer.executor.undo(finding["remediation_id"])
    assert _groups(_bucket_grants(account, "acme-website")) == _groups(before)


def test_other_grants_are_kept(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/s3-acl-public/mode", "remediate")
    _bucket(account, "acme-reports")
    owner = account.s3.get_bucket_acl(Bucket="acme-reports")["Owner"]
    grants = [
        {"Grantee": {"Type": "CanonicalUser", "ID": owner["ID"]}, "Permission": "FULL_CONTROL"},
        {"Grantee": {"Type": "Group", "URI": AUTHENTICATED_USERS}, "Permission": "READ"},
        {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/s3/LogDelivery"}, "Permission": "WRITE"},
    ]
    account.s3.put_bucket_acl(Bucket="acme-reports", AccessControlPolicy={"Owner": owner, "Grants": grants})

    enforcer.handle(load_event("acl-bucket-authenticated-users-grant.json"))

    assert _groups(_bucket_grants(account, "acme-reports")) == {
        (owner["ID"], "FULL_CONTROL"),
        ("http://acs.amazonaws.com/groups/s3/LogDelivery", "WRITE"),
    }


def send_object_acl_bodies_as_grant_headers(s3: Any) -> None:
    """moto's PutObjectAcl ignores an AccessControlPolicy body: send the same grants as x-amz-grant-* headers."""
    headers = {"READ": "GrantRead", "WRITE": "GrantWrite", "READ_ACP": "GrantReadACP", "WRITE_ACP": "GrantWriteACP"}
    headers["FULL_CONTROL"] = "GrantFullControl"

    def as_headers(params: dict[str, Any], **_: Any) -> None:
        policy = params.pop("AccessControlPolicy", None)
        if policy is None:
            return
        for grant in policy["Grants"]:
            grantee = grant["Grantee"]
            who = f'uri="{grantee["URI"]}"' if "URI" in grantee else f'id="{grantee["ID"]}"'
            name = headers[grant["Permission"]]
            params[name] = f"{params[name]}, {who}" if name in params else who

    s3.meta.events.register("provide-client-params.s3.PutObjectAcl", as_headers)


def test_remediate_removes_the_public_object_grant(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/s3-acl-public/mode", "remediate")
    send_object_acl_bodies_as_grant_headers(enforcer.executor.clients.client("s3", HOME_ACCOUNT, BUCKET_REGION))
    key = "2026/11/invoice-1042.pdf"
    _bucket(account, "acme-invoices")
    account.s3.put_object(Bucket="acme-invoices", Key=key, Body=b"invoice", ACL="public-read")

    [finding] = enforcer.handle(load_event("acl-object-public-read.json"))["findings"]

    grants = account.s3.get_object_acl(Bucket="acme-invoices", Key=key)["Grants"]
    assert (ALL_USERS, "READ") not in _groups(grants)
    assert finding["done"] == [
        f"removed AllUsers READ from the ACL of object {key} in bucket acme-invoices; kept 1 other grant(s)"
    ]
    enforcer.executor.undo(finding["remediation_id"])
    assert (ALL_USERS, "READ") in _groups(account.s3.get_object_acl(Bucket="acme-invoices", Key=key)["Grants"])


def test_the_undos_exception_for_an_object_names_it_exactly(account: Account, enforcer: EnforcerService) -> None:
    """Review s11 F15: ``*.csv`` is a legal object key; the undo's exception for it must not exempt every CSV."""
    from datetime import UTC, datetime

    from iamwarden.app.exception_desk import undo_with_exception
    from iamwarden.guardrails.engine import judge_event
    from tests.functional.test_exceptions import Clock, desk_of

    account.set("rules/s3-acl-public/mode", "remediate")
    send_object_acl_bodies_as_grant_headers(enforcer.executor.clients.client("s3", HOME_ACCOUNT, BUCKET_REGION))
    _bucket(account, "acme-invoices")
    account.s3.put_object(Bucket="acme-invoices", Key="*.csv", Body=b"a,b", ACL="public-read")
    event = copy.deepcopy(load_event("acl-object-public-read.json"))
    event["detail"]["requestParameters"]["key"] = "*.csv"
    [finding] = enforcer.handle(event)["findings"]
    assert finding["outcome"] == "remediated"
    desk = desk_of(account, Clock(datetime(2026, 11, 22, 10, 30, tzinfo=UTC)))

    _, exception = undo_with_exception(
        enforcer.executor, desk, finding["remediation_id"], "arn:aws:iam::111122223333:user/secops", 2
    )

    assert exception is not None
    [stored] = desk.list()  # as the table gives it back to the enforcer
    assert stored.scope == ExceptionScope(
        "s3-acl-public", resource_pattern="arn:aws:s3:::acme-invoices/*.csv", literal=True
    )
    assert "exactly" in stored.scope.describe()
    other = copy.deepcopy(event)
    other["detail"]["requestParameters"]["key"] = "exports/customers.csv"
    at = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)
    assert judge_event(other, Settings(), exceptions=[stored], now=at).verdict.value == "violation"
    assert judge_event(event, Settings(), exceptions=[stored], now=at).verdict.value == "compliant"


def test_a_bucket_with_acls_disabled_is_left_alone(account: Account, enforcer: EnforcerService) -> None:
    """BucketOwnerEnforced: S3 ignores ACLs and rejects ACL changes, so nothing public remains to remove."""
    account.set("rules/s3-acl-public/mode", "remediate")
    _bucket(account, "acme-website", ownership="BucketOwnerEnforced")

    [finding] = enforcer.handle(load_event("acl-bucket-public-read.json"))["findings"]

    assert finding["outcome"] == "remediated"
    assert finding["done"] == []
    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    assert record.before[0] == {"exists": True, "acls_enabled": False, "ownership": "BucketOwnerEnforced"}
    assert {call["call"] for call in record.calls} == {"s3:GetBucketOwnershipControls"}


def _reject_acl_changes(enforcer: EnforcerService) -> None:
    """S3's answer to an ACL change once Object Ownership is BucketOwnerEnforced (moto does not enforce it)."""

    def rejected(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        error = {"Code": "AccessControlListNotSupported", "Message": "The bucket does not allow ACLs"}
        response = AWSResponse("https://s3.amazonaws.com/", 400, HTTPHeaders(), None)
        return response, {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 400}}

    s3 = enforcer.executor.clients.client("s3", HOME_ACCOUNT, BUCKET_REGION)
    s3.meta.events.register("before-call.s3.PutBucketAcl", rejected)


def test_acls_disabled_between_capture_and_apply_count_as_done(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/s3-acl-public/mode", "remediate")
    _bucket(account, "acme-website")
    account.s3.put_bucket_acl(Bucket="acme-website", ACL="public-read")
    _reject_acl_changes(enforcer)

    [finding] = enforcer.handle(load_event("acl-bucket-public-read.json"))["findings"]

    assert finding["outcome"] == "remediated"
    assert finding["done"] == []


def test_undo_after_acls_were_disabled_says_why_it_cannot(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/s3-acl-public/mode", "remediate")
    _bucket(account, "acme-website")
    account.s3.put_bucket_acl(Bucket="acme-website", ACL="public-read")
    [finding] = enforcer.handle(load_event("acl-bucket-public-read.json"))["findings"]
    _reject_acl_changes(enforcer)

    with pytest.raises(UndoError, match="ACLs are now disabled on bucket acme-website"):
        enforcer.executor.undo(finding["remediation_id"])


def test_acl_alert_mode_changes_nothing(account: Account, enforcer: EnforcerService) -> None:
    _bucket(account, "acme-website")
    account.s3.put_bucket_acl(Bucket="acme-website", ACL="public-read")
    before = _bucket_grants(account, "acme-website")

    [finding] = enforcer.handle(load_event("acl-bucket-public-read.json"))["findings"]

    assert finding["outcome"] == "alerted"
    assert _bucket_grants(account, "acme-website") == before


def test_an_acl_made_private_since_is_not_touched(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/s3-acl-public/mode", "remediate")
    _bucket(account, "acme-website")

    [finding] = enforcer.handle(load_event("acl-bucket-public-read.json"))["findings"]

    assert finding["done"] == []
    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    assert {call["call"] for call in record.calls} == {"s3:GetBucketOwnershipControls", "s3:GetBucketAcl"}


# --- s3-public-access-block-disabled -----------------------------------------------------------

WEBSITE = {**ALL_BLOCKED, "BlockPublicPolicy": False, "RestrictPublicBuckets": False}  # a public site, by its policy
ALL_OFF = dict.fromkeys(ALL_BLOCKED, False)


def _bucket_block(account: Account, bucket: str) -> dict[str, bool] | None:
    try:
        return dict(account.s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"])
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NoSuchPublicAccessBlockConfiguration":
            raise
        return None


def _kept_block(account: Account, arn: str, configuration: Mapping[str, bool] | None) -> None:
    """The configuration an earlier call the enforcer judged left (kept as the enforcer keeps it)."""
    AuditRecorded(account.audit(), account.dynamodb).put(
        Snapshot(
            PUBLIC_ACCESS_BLOCK,
            arn,
            "2026-11-20T09:00:00.000+00:00",
            {"configuration": None if configuration is None else dict(configuration), "account": HOME_ACCOUNT},
        )
    )


def _block_record(account: Account, arn: str) -> Snapshot | None:
    return AuditRecorded(account.audit(), account.dynamodb).snapshot(PUBLIC_ACCESS_BLOCK, arn)


def _pab_bucket(account: Account, bucket: str, live: Mapping[str, bool] | None) -> None:
    account.s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": BUCKET_REGION})
    if live is None:
        account.s3.delete_public_access_block(Bucket=bucket)
    else:
        account.s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=dict(live))


def test_a_deleted_bucket_block_is_restored_exactly_as_kept_and_undo_deletes_it_again(
    account: Account, enforcer: EnforcerService
) -> None:
    account.set("rules/s3-public-access-block-disabled/mode", "remediate")
    _pab_bucket(account, "acme-website", None)
    _kept_block(account, "arn:aws:s3:::acme-website", WEBSITE)

    [finding] = enforcer.handle(load_event("pab-bucket-deleted.json"))["findings"]

    assert finding["outcome"] == "remediated"
    assert _bucket_block(account, "acme-website") == WEBSITE  # what was on before, no more
    record = _block_record(account, "arn:aws:s3:::acme-website")
    assert record is not None
    assert record.data == {
        "configuration": WEBSITE,
        "account": HOME_ACCOUNT,
    }  # what the remediation left is the next call's before
    enforcer.executor.undo(finding["remediation_id"])
    assert _bucket_block(account, "acme-website") is None


def test_a_hardening_call_with_an_earlier_record_is_only_noted_and_kept(
    account: Account, enforcer: EnforcerService
) -> None:
    """Review s11 F10: turning two settings on where the policy ones were deliberately off is no weakening."""
    account.set("rules/s3-public-access-block-disabled/mode", "remediate")
    _pab_bucket(account, "acme-exports", WEBSITE)
    _kept_block(account, "arn:aws:s3:::acme-exports", ALL_OFF)

    result = enforcer.handle(load_event("pab-bucket-partly-off.json"))

    # a low note that the two stay off (the record may be stale), never a remediation (second reading s12)
    [note] = result["findings"]
    assert (note["outcome"], note["done"]) == ("alerted", [])
    assert _bucket_block(account, "acme-exports") == WEBSITE
    record = _block_record(account, "arn:aws:s3:::acme-exports")
    assert record is not None
    assert record.data == {"configuration": WEBSITE, "account": HOME_ACCOUNT}


def test_only_the_setting_turned_off_is_turned_on_and_undo_restores_exactly(
    account: Account, enforcer: EnforcerService
) -> None:
    account.set("rules/s3-public-access-block-disabled/mode", "remediate")
    _pab_bucket(account, "acme-exports", WEBSITE)
    _kept_block(account, "arn:aws:s3:::acme-exports", {**WEBSITE, "BlockPublicPolicy": True})

    [finding] = enforcer.handle(load_event("pab-bucket-partly-off.json"))["findings"]

    assert finding["outcome"] == "remediated"
    assert finding["done"] == ["turned BlockPublicPolicy on for bucket acme-exports"]
    assert _bucket_block(account, "acme-exports") == {**WEBSITE, "BlockPublicPolicy": True}
    undo = enforcer.executor.undo(finding["remediation_id"])
    assert _bucket_block(account, "acme-exports") == WEBSITE
    assert undo.restored == ("turned BlockPublicPolicy off again for bucket acme-exports, as before",)


def test_without_an_earlier_record_the_block_is_alerted_only(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/s3-public-access-block-disabled/mode", "remediate")
    _pab_bucket(account, "acme-exports", WEBSITE)

    result = enforcer.handle(load_event("pab-bucket-partly-off.json"))
    [finding] = result["findings"]

    assert finding["outcome"] != "remediated"
    assert "turned off" not in result["reason"]
    assert "which settings were on before is unknown" in result["reason"]
    assert _bucket_block(account, "acme-exports") == WEBSITE
    record = _block_record(account, "arn:aws:s3:::acme-exports")
    assert record is not None  # kept whatever the verdict: the next call is judged against it
    assert record.data == {"configuration": WEBSITE, "account": HOME_ACCOUNT}


def test_all_four_always_turns_every_setting_on_and_undo_puts_back_the_call(
    account: Account, enforcer: EnforcerService
) -> None:
    account.set("rules/s3-public-access-block-disabled/mode", "remediate")
    account.set("rules/s3-public-access-block-disabled/all_four", "always")
    _pab_bucket(account, "acme-exports", WEBSITE)

    [finding] = enforcer.handle(load_event("pab-bucket-partly-off.json"))["findings"]

    assert finding["outcome"] == "remediated"
    assert _bucket_block(account, "acme-exports") == ALL_BLOCKED
    undo = enforcer.executor.undo(finding["remediation_id"])
    assert _bucket_block(account, "acme-exports") == WEBSITE
    assert undo.restored == (
        "turned BlockPublicPolicy, RestrictPublicBuckets off again for bucket acme-exports, as before",
    )


def test_the_account_block_is_restored_through_s3_control(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/s3-public-access-block-disabled/mode", "remediate")
    s3control = account.session.client("s3control", region_name="us-east-1")
    s3control.put_public_access_block(AccountId=HOME_ACCOUNT, PublicAccessBlockConfiguration=ALL_OFF)
    _kept_block(account, f"arn:aws:s3::{HOME_ACCOUNT}:public-access-block", ALL_BLOCKED)

    [finding] = enforcer.handle(load_event("pab-account-off.json"))["findings"]

    live = s3control.get_public_access_block(AccountId=HOME_ACCOUNT)["PublicAccessBlockConfiguration"]
    assert live == ALL_BLOCKED
    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    assert {call["call"] for call in record.calls} == {
        "s3:GetAccountPublicAccessBlock",
        "s3:PutAccountPublicAccessBlock",
    }
    enforcer.executor.undo(finding["remediation_id"])
    assert s3control.get_public_access_block(AccountId=HOME_ACCOUNT)["PublicAccessBlockConfiguration"] == ALL_OFF


def test_a_failed_account_call_is_ignored_and_keeps_nothing(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/s3-public-access-block-disabled/mode", "remediate")
    arn = f"arn:aws:s3::{HOME_ACCOUNT}:public-access-block"
    _kept_block(account, arn, ALL_BLOCKED)

    result = enforcer.handle(load_event("pab-account-access-denied.json"))

    assert result["verdict"] == "ignored"
    record = _block_record(account, arn)
    assert record is not None
    assert record.data == {
        "configuration": ALL_BLOCKED,
        "account": HOME_ACCOUNT,
    }  # the failed call's settings are no one's "before"


def test_undo_keeps_a_setting_turned_off_since(account: Account, enforcer: EnforcerService) -> None:
    """Undo turns off only what the remediation turned on; it leaves a later change alone."""
    account.set("rules/s3-public-access-block-disabled/mode", "remediate")
    _pab_bucket(account, "acme-exports", WEBSITE)
    _kept_block(account, "arn:aws:s3:::acme-exports", ALL_BLOCKED)
    [finding] = enforcer.handle(load_event("pab-bucket-partly-off.json"))["findings"]
    assert _bucket_block(account, "acme-exports") == ALL_BLOCKED
    later = {**ALL_BLOCKED, "IgnorePublicAcls": False}
    account.s3.put_public_access_block(Bucket="acme-exports", PublicAccessBlockConfiguration=later)

    enforcer.executor.undo(finding["remediation_id"])

    assert _bucket_block(account, "acme-exports") == {
        **later,
        "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False,
    }


def test_a_block_already_on_is_not_touched(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/s3-public-access-block-disabled/mode", "remediate")
    _pab_bucket(account, "acme-exports", ALL_BLOCKED)
    _kept_block(account, "arn:aws:s3:::acme-exports", ALL_BLOCKED)

    [finding] = enforcer.handle(load_event("pab-bucket-partly-off.json"))["findings"]

    assert finding["done"] == []
    assert enforcer.executor.undo(finding["remediation_id"]).restored == ()


def test_block_alert_mode_changes_nothing(account: Account, enforcer: EnforcerService) -> None:
    _pab_bucket(account, "acme-website", None)
    _kept_block(account, "arn:aws:s3:::acme-website", ALL_BLOCKED)

    [finding] = enforcer.handle(load_event("pab-bucket-deleted.json"))["findings"]

    assert finding["outcome"] == "alerted"
    assert _bucket_block(account, "acme-website") is None


# Review s12: calls in the same CloudTrail second (times have one-second resolution), undo, no record.


def _block_call(configuration: Mapping[str, bool], time: str = "2026-11-22T10:18:58Z") -> dict[str, Any]:
    """pab-bucket-partly-off.json with ``configuration`` at ``time``, as another call (its own ids)."""
    event = copy.deepcopy(load_event("pab-bucket-partly-off.json"))
    event["id"] = str(uuid.uuid4())
    event["time"] = event["detail"]["eventTime"] = time
    event["detail"]["eventID"] = str(uuid.uuid4())
    event["detail"]["requestParameters"]["PublicAccessBlockConfiguration"].update(configuration)
    return event


def _made(account: Account, *configurations: Mapping[str, bool]) -> None:
    """The calls' effect on S3, in the order they were made (before the enforcer judges them)."""
    for configuration in configurations:
        account.s3.put_public_access_block(Bucket="acme-exports", PublicAccessBlockConfiguration=dict(configuration))


@pytest.mark.parametrize("mode", ["remediate", "alert"])
@pytest.mark.parametrize("seeded", [None, ALL_BLOCKED])
def test_two_calls_in_one_second_leave_no_record_that_silences_a_later_turn_off(
    account: Account, enforcer: EnforcerService, mode: str, seeded: Mapping[str, bool] | None
) -> None:
    """Review s12 F1: all four off then all on in one second (judged in that order) left an "all off" record, and
    a turn-off a day later was compliant, said nowhere."""
    account.set("rules/s3-public-access-block-disabled/mode", mode)
    _pab_bucket(account, "acme-exports", ALL_BLOCKED)
    if seeded is not None:
        _kept_block(account, "arn:aws:s3:::acme-exports", seeded)
    _made(account, ALL_OFF, ALL_BLOCKED)
    [off] = enforcer.handle(_block_call(ALL_OFF))["findings"]
    assert enforcer.handle(_block_call(ALL_BLOCKED))["verdict"] == "compliant"
    record = _block_record(account, "arn:aws:s3:::acme-exports")
    assert record is not None
    if off["outcome"] != "remediated":
        assert record.unusable  # two states in one second: neither is known to be the last

    _made(account, ALL_OFF)
    later = enforcer.handle(_block_call(ALL_OFF, "2026-11-23T10:00:00Z"))

    assert later["verdict"] == "violation"
    [finding] = later["findings"]
    assert finding["outcome"] == ("remediated" if mode == "remediate" else "alerted")
    assert _bucket_block(account, "acme-exports") == (ALL_BLOCKED if mode == "remediate" else ALL_OFF)


def test_a_turn_off_in_the_second_of_a_hardening_call_is_still_remediated(
    account: Account, enforcer: EnforcerService
) -> None:
    """Review s12 F2: a compliant call right before the weakening, in its second, made the weakening alert-only."""
    account.set("rules/s3-public-access-block-disabled/mode", "remediate")
    _pab_bucket(account, "acme-exports", ALL_BLOCKED)
    _kept_block(account, "arn:aws:s3:::acme-exports", ALL_BLOCKED)
    _made(account, ALL_BLOCKED, ALL_OFF)

    assert enforcer.handle(_block_call(ALL_BLOCKED))["verdict"] == "compliant"
    [finding] = enforcer.handle(_block_call(ALL_OFF))["findings"]

    assert finding["outcome"] == "remediated"
    assert _bucket_block(account, "acme-exports") == ALL_BLOCKED


def test_a_partial_then_a_full_turn_off_in_one_second_leave_all_four_on(
    account: Account, enforcer: EnforcerService
) -> None:
    """Review s12 F2 (P6): the first call's remediation turns its one setting on; the second's, of the same second
    and so with no "before", still turns every setting on, and the record says what is live."""
    account.set("rules/s3-public-access-block-disabled/mode", "remediate")
    _pab_bucket(account, "acme-exports", ALL_BLOCKED)
    _kept_block(account, "arn:aws:s3:::acme-exports", ALL_BLOCKED)
    partial = {**ALL_BLOCKED, "BlockPublicPolicy": False}
    _made(account, partial, ALL_OFF)

    [first] = enforcer.handle(_block_call(partial))["findings"]
    [second] = enforcer.handle(_block_call(ALL_OFF))["findings"]

    assert (first["outcome"], second["outcome"]) == ("remediated", "remediated")
    assert _bucket_block(account, "acme-exports") == ALL_BLOCKED
    record = _block_record(account, "arn:aws:s3:::acme-exports")
    assert record is not None
    assert not record.unusable
    assert record.data["configuration"] == ALL_BLOCKED


def test_without_a_record_turning_all_four_off_is_remediated_and_undo_puts_the_call_back(
    account: Account, enforcer: EnforcerService
) -> None:
    """Review s12 F3: no reading of "everything off" is a hardening, so the first turn-off is not left alert-only."""
    account.set("rules/s3-public-access-block-disabled/mode", "remediate")
    _pab_bucket(account, "acme-exports", ALL_BLOCKED)
    _made(account, ALL_OFF)

    result = enforcer.handle(_block_call(ALL_OFF))
    [finding] = result["findings"]

    assert finding["outcome"] == "remediated"
    assert "which settings were on before is unknown" in result["reason"]
    assert _bucket_block(account, "acme-exports") == ALL_BLOCKED
    enforcer.executor.undo(finding["remediation_id"])
    assert _bucket_block(account, "acme-exports") == ALL_OFF


def test_after_an_undo_the_same_call_again_is_not_remediated(account: Account, enforcer: EnforcerService) -> None:
    """Review s12 F4: the undo keeps what it left, so re-applying the undone configuration is no turn-off."""
    account.set("rules/s3-public-access-block-disabled/mode", "remediate")
    _pab_bucket(account, "acme-exports", ALL_BLOCKED)
    _kept_block(account, "arn:aws:s3:::acme-exports", ALL_BLOCKED)
    _made(account, WEBSITE)
    [finding] = enforcer.handle(_block_call(WEBSITE))["findings"]
    assert finding["outcome"] == "remediated"

    enforcer.executor.undo(finding["remediation_id"])
    record = _block_record(account, "arn:aws:s3:::acme-exports")
    assert record is not None
    assert record.data == {"configuration": WEBSITE, "account": HOME_ACCOUNT}

    _made(account, WEBSITE)
    # The undo is dated by the real clock, so the next call is a second after it (CloudTrail's resolution).
    next_call = (datetime.now(UTC) + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    again = enforcer.handle(_block_call(WEBSITE, next_call))
    [note] = again["findings"]  # no turn-off: at most the low note that two stay off, nothing done
    assert (note["outcome"], note["done"]) == ("alerted", [])
    assert _bucket_block(account, "acme-exports") == WEBSITE


def test_an_undo_whose_record_cannot_be_read_back_says_so(account: Account, enforcer: EnforcerService) -> None:
    """The undo is done even when the read-back for the record fails; it says the record was not restored."""
    account.set("rules/s3-public-access-block-disabled/mode", "remediate")
    _pab_bucket(account, "acme-exports", ALL_BLOCKED)
    _kept_block(account, "arn:aws:s3:::acme-exports", ALL_BLOCKED)
    _made(account, WEBSITE)
    [finding] = enforcer.handle(_block_call(WEBSITE))["findings"]
    recorded = enforcer.executor.recorded
    assert recorded is not None

    def broken(snapshot: Snapshot) -> bool:
        raise AuditError("table unavailable")

    enforcer.executor.recorded = type("Broken", (), {"keep": staticmethod(broken), "snapshot": recorded.snapshot})()
    undo = enforcer.executor.undo(finding["remediation_id"])

    assert _bucket_block(account, "acme-exports") == WEBSITE
    assert any("NOT restored: IAM Warden's record of arn:aws:s3:::acme-exports" in line for line in undo.restored)
