"""Persistence end to end in moto: a quarantine an intruder lifts is put back, an operator's undo is not a reversal,
a boundary is restored from the heartbeat's snapshot, a group nobody can read is only alerted.

The contract test (test_guardrail_contract.py) covers each rule's remediation, partial failure and undo;
here the stories that run through several events and IAM Warden's own audit table.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from iamwarden.adapters.audit import AuditStatus
from iamwarden.adapters.recorded import AuditRecorded, take_boundary_snapshots
from iamwarden.app.service import EnforcerService
from iamwarden.domain.findings import Outcome
from iamwarden.domain.recorded import BOUNDARY
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier
from tests.functional.guardrail_cases import heartbeat_read_attachments

OPERATOR = f"arn:aws:iam::{HOME_ACCOUNT}:user/secops"
USER_ARN = f"arn:aws:iam::{HOME_ACCOUNT}:user/backdoor-admin"


def _quarantined(account: Account, enforcer: EnforcerService) -> tuple[str, str]:
    """backdoor-admin created with a key and quarantined by the enforcer; its key id and remediation id."""
    account.set("rules/iam-user-created/mode", "remediate")
    account.set("rules/remediation-reversed/mode", "remediate")
    account.iam.create_user(UserName="backdoor-admin")
    key = account.iam.create_access_key(UserName="backdoor-admin")["AccessKey"]["AccessKeyId"]
    [finding] = enforcer.handle(load_event("create-user-backdoor-cli.json"))["findings"]
    assert finding["outcome"] == Outcome.REMEDIATED
    return key, str(finding["remediation_id"])


def _keys(account: Account) -> dict[str, str]:
    listed = account.iam.list_access_keys(UserName="backdoor-admin")["AccessKeyMetadata"]
    return {key["AccessKeyId"]: key["Status"] for key in listed}


def _policies(account: Account) -> list[str]:
    return list(account.iam.list_user_policies(UserName="backdoor-admin")["PolicyNames"])


def _event(sample: str, event_id: str, **request: Any) -> dict[str, Any]:
    event = load_event(sample)
    event["detail"]["eventID"] = event_id
    event["detail"]["requestParameters"].update(request)
    return event


def _reversal(result: dict[str, Any]) -> dict[str, Any]:
    [finding] = [f for f in result["findings"] if f["rule"] == "remediation-reversed"]
    return dict(finding)


def test_a_reactivated_key_of_a_quarantined_user_is_deactivated_again_and_reported(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    key, quarantine = _quarantined(account, enforcer)
    account.iam.update_access_key(UserName="backdoor-admin", AccessKeyId=key, Status="Active")

    result = enforcer.handle(
        _event("update-access-key-reactivated.json", "00000000-0000-4000-8000-00000000be01", accessKeyId=key)
    )

    finding = _reversal(result)
    assert finding["outcome"] == Outcome.REMEDIATED
    assert _keys(account) == {key: "Inactive"}
    [alert] = [n for n in notifier.sent if n.finding is not None and n.finding.rule_id == "remediation-reversed"]
    assert alert.finding is not None
    assert alert.finding.severity.value == "critical"
    assert alert.finding.reason.startswith("Remediation reversed: ")
    assert quarantine in alert.finding.reason


def test_a_deleted_quarantine_policy_is_put_back(account: Account, enforcer: EnforcerService) -> None:
    _quarantined(account, enforcer)
    account.iam.delete_user_policy(UserName="backdoor-admin", PolicyName="iamwarden-quarantine")

    result = enforcer.handle(_event("delete-quarantine-policy.json", "00000000-0000-4000-8000-00000000be02"))

    assert _reversal(result)["outcome"] == Outcome.REMEDIATED
    assert _policies(account) == ["iamwarden-quarantine"]


HARMLESS = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]}
)
DENY_ALL = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "IamWardenQuarantine", "Effect": "Deny", "Action": "*", "Resource": "*"}],
    }
)


def _overwrite(event_id: str, document: str) -> dict[str, Any]:
    """A PutUserPolicy of the quarantine policy (a real PutUserPolicy record's shape, the policy replaced)."""
    return _event(
        "put-user-policy-own-access-keys.json",
        event_id,
        userName="backdoor-admin",
        policyName="iamwarden-quarantine",
        policyDocument=document,
    )


def test_an_overwritten_quarantine_policy_is_put_back(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    _quarantined(account, enforcer)
    account.iam.put_user_policy(UserName="backdoor-admin", PolicyName="iamwarden-quarantine", PolicyDocument=HARMLESS)

    result = enforcer.handle(_overwrite("00000000-0000-4000-8000-00000000be06", HARMLESS))

    finding = _reversal(result)
    assert finding["outcome"] == Outcome.REMEDIATED
    [alert] = [n for n in notifier.sent if n.finding is not None and n.finding.rule_id == "remediation-reversed"]
    assert alert.finding is not None
    assert "overwrote the quarantine policy iamwarden-quarantine" in alert.finding.reason
    document = account.iam.get_user_policy(UserName="backdoor-admin", PolicyName="iamwarden-quarantine")
    assert document["PolicyDocument"]["Statement"] == [
        {"Sid": "IamWardenQuarantine", "Effect": "Deny", "Action": "*", "Resource": "*"}
    ]


def test_the_quarantine_policy_put_back_unchanged_is_no_reversal(account: Account, enforcer: EnforcerService) -> None:
    _quarantined(account, enforcer)

    result = enforcer.handle(_overwrite("00000000-0000-4000-8000-00000000be07", DENY_ALL))

    assert [f for f in result["findings"] if f["rule"] == "remediation-reversed"] == []


def test_another_inline_policy_of_a_quarantined_user_is_left_to_the_identity_policy_rules(
    account: Account, enforcer: EnforcerService
) -> None:
    _quarantined(account, enforcer)

    result = enforcer.handle(
        _event(
            "put-user-policy-own-access-keys.json", "00000000-0000-4000-8000-00000000be08", userName="backdoor-admin"
        )
    )

    assert [f for f in result["findings"] if f["rule"] == "remediation-reversed"] == []


def test_a_new_key_for_a_quarantined_user_is_deactivated(account: Account, enforcer: EnforcerService) -> None:
    old, _ = _quarantined(account, enforcer)
    account.iam.delete_access_key(UserName="backdoor-admin", AccessKeyId=old)
    new = account.iam.create_access_key(UserName="backdoor-admin")["AccessKey"]["AccessKeyId"]
    event = load_event("create-access-key-for-other-user.json")
    event["detail"]["eventID"] = "00000000-0000-4000-8000-00000000be03"
    event["detail"]["requestParameters"]["userName"] = "backdoor-admin"
    event["detail"]["responseElements"]["accessKey"].update({"accessKeyId": new, "userName": "backdoor-admin"})

    result = enforcer.handle(event)

    assert {f["rule"] for f in result["findings"]} == {"access-key-created", "remediation-reversed"}
    assert _reversal(result)["outcome"] == Outcome.REMEDIATED
    assert _keys(account) == {new: "Inactive"}


def _by(event: dict[str, Any], arn: str) -> dict[str, Any]:
    """The event as made by the IAM user ``arn`` (an undo's calls are made with the undoer's own credentials)."""
    event["detail"]["userIdentity"].update(arn=arn, userName=arn.rpartition("/")[2])
    return event


def test_an_operators_undo_is_no_reversal(account: Account, enforcer: EnforcerService) -> None:
    key, quarantine = _quarantined(account, enforcer)
    account.set("rules/iamwarden-tampered/operators", OPERATOR)
    enforcer.executor.undo(quarantine, actor=OPERATOR)
    assert _keys(account) == {key: "Active"}

    event = _event("update-access-key-reactivated.json", "00000000-0000-4000-8000-00000000be04", accessKeyId=key)
    result = enforcer.handle(_by(event, OPERATOR))

    assert result["verdict"] == "compliant", result["reason"]
    assert "never deactivated" in result["reason"]
    assert _keys(account) == {key: "Active"}


INTRUDER = f"arn:aws:iam::{HOME_ACCOUNT}:user/alice"  # the sample's actor


@pytest.mark.parametrize(
    ("how", "why"),
    [
        # A1 of the s7 audit: an UpdateItem marks the quarantine undone; nobody ran iamwarden undo.
        ("table write", "no undo record says who undid it"),
        # A3: the intruder runs iamwarden undo with their own admin credentials.
        ("undo by a non-operator", f"was run by {INTRUDER}, who is not an operator"),
        # An operator's undo, but the key is set Active again by someone else.
        ("change by a non-operator", f"this change was made by {INTRUDER}, who is not an operator"),
    ],
)
def test_a_quarantine_marked_undone_without_an_operators_undo_is_reversed_again(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, how: str, why: str
) -> None:
    key, quarantine = _quarantined(account, enforcer)
    account.set("rules/iamwarden-tampered/operators", OPERATOR)
    if how == "table write":
        account.dynamodb.update_item(
            TableName=account.config.audit_table,
            Key={"remediation_id": {"S": quarantine}},
            UpdateExpression="SET #s = :undone",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":undone": {"S": "undone"}},
        )
        account.iam.update_access_key(UserName="backdoor-admin", AccessKeyId=key, Status="Active")
    else:
        enforcer.executor.undo(quarantine, actor=INTRUDER if how == "undo by a non-operator" else OPERATOR)
    assert _keys(account) == {key: "Active"}
    notifier.sent.clear()

    event = _event("update-access-key-reactivated.json", "00000000-0000-4000-8000-00000000be14", accessKeyId=key)
    finding = _reversal(enforcer.handle(event))

    assert finding["outcome"] == Outcome.REMEDIATED
    assert _keys(account) == {key: "Inactive"}
    [alert] = notifier.sent
    assert alert.finding is not None
    assert (alert.outcome, alert.finding.severity.value) == (Outcome.REMEDIATED, "critical")
    assert f"{quarantine} is marked undone, but" in alert.finding.reason
    assert why in alert.finding.reason


def test_a_key_iam_warden_never_touched_is_no_reversal(account: Account, enforcer: EnforcerService) -> None:
    account.iam.create_user(UserName="backdoor-admin")
    key = account.iam.create_access_key(UserName="backdoor-admin")["AccessKey"]["AccessKeyId"]

    result = enforcer.handle(
        _event("update-access-key-reactivated.json", "00000000-0000-4000-8000-00000000be05", accessKeyId=key)
    )

    assert (result["verdict"], result["findings"]) == ("compliant", [])


def test_an_admin_boundary_is_replaced_by_the_snapshotted_one_taken_as_the_heartbeat_takes_it(
    account: Account, enforcer: EnforcerService
) -> None:
    iam = account.iam
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    boundary = iam.create_policy(PolicyName="deployer-boundary", PolicyDocument=json.dumps(document))["Policy"]["Arn"]
    trust = json.dumps({"Version": "2012-10-17", "Statement": []})
    iam.create_role(RoleName="team-deployer", AssumeRolePolicyDocument=trust, PermissionsBoundary=boundary)
    iam.create_role(RoleName="unbounded", AssumeRolePolicyDocument=trust)
    snapshots = take_boundary_snapshots(iam, HOME_ACCOUNT, "2026-11-20T09:00:00Z")
    by_arn = {snapshot.resource_arn: snapshot.data for snapshot in snapshots}
    role_arn = f"arn:aws:iam::{HOME_ACCOUNT}:role/team-deployer"
    assert by_arn[role_arn] == {"boundary_arn": boundary}
    assert by_arn[f"arn:aws:iam::{HOME_ACCOUNT}:role/unbounded"] == {"boundary_arn": None}
    AuditRecorded(account.audit(), account.dynamodb).put_all(snapshots)
    account.set("rules/permissions-boundary-weakened/mode", "remediate")
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    iam.put_role_permissions_boundary(RoleName="team-deployer", PermissionsBoundary=admin)

    [finding] = enforcer.handle(load_event("put-role-permissions-boundary-admin.json"))["findings"]

    assert finding["outcome"] == Outcome.REMEDIATED
    assert iam.get_role(RoleName="team-deployer")["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert iam.get_role(RoleName="team-deployer")["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == admin
    assert AuditRecorded(account.audit(), account.dynamodb).snapshot(BOUNDARY, role_arn) is not None


def test_a_removed_boundary_with_no_snapshot_is_alerted_only(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    trust = json.dumps({"Version": "2012-10-17", "Statement": []})
    account.iam.create_role(RoleName="team-deployer", AssumeRolePolicyDocument=trust)
    account.set("rules/permissions-boundary-weakened/mode", "remediate")

    [finding] = enforcer.handle(load_event("delete-role-permissions-boundary.json"))["findings"]

    assert finding["outcome"] == Outcome.ALERTED
    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    assert record.status == AuditStatus.ALERTED
    assert "no snapshot" in (record.error or "")
    [alert] = notifier.sent
    assert alert.finding is not None
    assert alert.finding.needs_context


def test_without_a_directory_a_group_membership_is_alerted_and_kept(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    enforcer.directory = None  # an enforcer that cannot read the account's principals
    account.iam.create_group(GroupName="platform-admins")
    account.iam.attach_group_policy(
        GroupName="platform-admins", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
    )
    account.iam.create_user(UserName="build-bot")
    account.iam.add_user_to_group(GroupName="platform-admins", UserName="build-bot")
    account.set("rules/group-membership-escalation/mode", "remediate")

    [finding] = enforcer.handle(copy.deepcopy(load_event("add-user-to-admin-group.json")))["findings"]

    assert finding["outcome"] == Outcome.ALERTED
    groups = account.iam.list_groups_for_user(UserName="build-bot")["Groups"]
    assert [group["GroupName"] for group in groups] == ["platform-admins"]
    [alert] = notifier.sent
    assert alert.finding is not None
    # Also not known here: whether build-bot was in the group before (no heartbeat read yet; test_reattach.py).
    assert alert.finding.needs_context[0] == (
        "what the policies of group platform-admins grant (no directory of the account's principals)"
    )


def test_a_group_that_escalates_without_admin_is_a_finding(account: Account, enforcer: EnforcerService) -> None:
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iam:AttachUserPolicy", "Resource": "*"}],
    }
    account.iam.create_group(GroupName="platform-admins")
    account.iam.put_group_policy(GroupName="platform-admins", PolicyName="attach", PolicyDocument=json.dumps(document))
    account.iam.create_user(UserName="build-bot")
    heartbeat_read_attachments(account, "2026-11-01T00:00:00Z")  # the event adds what the read did not see
    account.iam.add_user_to_group(GroupName="platform-admins", UserName="build-bot")
    account.set("rules/group-membership-escalation/mode", "remediate")

    [finding] = enforcer.handle(load_event("add-user-to-admin-group.json"))["findings"]

    assert finding["outcome"] == Outcome.REMEDIATED
    assert account.iam.list_groups_for_user(UserName="build-bot")["Groups"] == []


def _allow(*actions: str) -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}]}
    )


def _lambda_devs_and_an_admin_function_role(account: Account) -> None:
    """Group lambda-devs may create and invoke functions; role admin-fn (Lambda may assume it) is an administrator."""
    account.iam.create_group(GroupName="platform-admins")  # the sample's group name
    account.iam.put_group_policy(
        GroupName="platform-admins",
        PolicyName="lambda",
        PolicyDocument=_allow("lambda:CreateFunction", "lambda:InvokeFunction"),
    )
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    account.iam.create_role(RoleName="admin-fn", AssumeRolePolicyDocument=json.dumps(trust))
    account.iam.attach_role_policy(RoleName="admin-fn", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    account.iam.create_user(UserName="build-bot")
    account.set("rules/group-membership-escalation/mode", "remediate")


def test_a_group_that_completes_what_the_user_already_holds_is_a_finding_naming_the_older_grant(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """The group alone escalates nobody; with the user's own iam:PassRole it creates an admin function."""
    _lambda_devs_and_an_admin_function_role(account)
    account.iam.put_user_policy(UserName="build-bot", PolicyName="pass", PolicyDocument=_allow("iam:PassRole"))
    heartbeat_read_attachments(account, "2026-11-01T00:00:00Z")  # the event adds what the read did not see
    account.iam.add_user_to_group(GroupName="platform-admins", UserName="build-bot")

    [finding] = enforcer.handle(load_event("add-user-to-admin-group.json"))["findings"]

    assert finding["outcome"] == Outcome.REMEDIATED
    assert account.iam.list_groups_for_user(UserName="build-bot")["Groups"] == []
    [alert] = notifier.sent
    assert alert.finding is not None
    assert "with what the user already held (iam:PassRole (inline build-bot/pass))" in alert.finding.reason
    assert _policies_of(account, "build-bot") == ["pass"], "the user's own policy is not the membership's to remove"


def test_a_group_that_completes_nothing_for_this_user_is_compliant(account: Account, enforcer: EnforcerService) -> None:
    _lambda_devs_and_an_admin_function_role(account)  # the user may pass no role
    account.iam.add_user_to_group(GroupName="platform-admins", UserName="build-bot")

    result = enforcer.handle(load_event("add-user-to-admin-group.json"))

    assert result["findings"] == []
    assert [g["GroupName"] for g in account.iam.list_groups_for_user(UserName="build-bot")["Groups"]] == [
        "platform-admins"
    ]


def _policies_of(account: Account, user: str) -> list[str]:
    return list(account.iam.list_user_policies(UserName=user)["PolicyNames"])
