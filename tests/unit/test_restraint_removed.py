"""restraint-removed: a Deny taken away (a policy detached or deleted, a group left) judged on the whole power.

The directory may be read before the change (authorization details: the removed policy is still held) or after
it (live: it is gone); BEFORE is always the principal with what was removed, AFTER the same without it, so the
verdict is the same either way, except that a deleted inline document is known only before.
"""

from __future__ import annotations

from typing import Any

import pytest

from iamwarden.domain.authorization_details import authorization_details_directory
from iamwarden.domain.catalog import Severity
from iamwarden.domain.findings import Verdict
from iamwarden.domain.managed_documents import PolicyVersion
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event

ACCOUNT = "111122223333"
GUARD_ARN = f"arn:aws:iam::{ACCOUNT}:policy/deny-iam-guard"
RULE = "restraint-removed"


def _document(effect: str, *actions: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": effect, "Action": list(actions), "Resource": "*"}]}


DENY_IAM = _document("Deny", "iam:*")
#: A guard that denies everything (as a quarantine does): behind it, Allow * grants nothing.
DENY_ALL = _document("Deny", "*")
ALLOW_ALL = _document("Allow", "*")
READ_ONLY = _document("Allow", "s3:GetObject")


def _inline(name: str, document: dict[str, Any]) -> dict[str, Any]:
    return {"PolicyName": name, "PolicyDocument": document}


def _role(inline: list[dict[str, Any]], attached: list[str] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    return {
        "Path": "/",
        "RoleName": "app-backend",
        "Arn": f"arn:aws:iam::{ACCOUNT}:role/app-backend",
        "AssumeRolePolicyDocument": _document("Allow", "sts:AssumeRole") | {"Statement": []},
        "InstanceProfileList": [],
        "RolePolicyList": inline,
        "AttachedManagedPolicies": [{"PolicyName": arn.rsplit("/", 1)[-1], "PolicyArn": arn} for arn in attached],
    }


def _guard_policy(document: dict[str, Any]) -> dict[str, Any]:
    return {
        "PolicyName": "deny-iam-guard",
        "Arn": GUARD_ARN,
        "Path": "/",
        "DefaultVersionId": "v1",
        "AttachmentCount": 1,
        "IsAttachable": True,
        "PolicyVersionList": [{"Document": document, "VersionId": "v1", "IsDefaultVersion": True}],
    }


def _details(
    roles: list[dict[str, Any]] = (),  # type: ignore[assignment]
    users: list[dict[str, Any]] = (),  # type: ignore[assignment]
    groups: list[dict[str, Any]] = (),  # type: ignore[assignment]
    policies: list[dict[str, Any]] = (),  # type: ignore[assignment]
) -> Any:
    return authorization_details_directory(
        {
            "RoleDetailList": list(roles),
            "UserDetailList": list(users),
            "GroupDetailList": list(groups),
            "Policies": list(policies),
        }
    )


class GuardDocuments:
    """The live reader of managed policies: the guard's default version (None: deleted since)."""

    def __init__(self, document: dict[str, Any] | None) -> None:
        self.document = document

    def default_version(self, account: str, policy_arn: str) -> PolicyVersion | None:
        assert policy_arn == GUARD_ARN
        return None if self.document is None else PolicyVersion("v1", self.document)

    def version(self, account: str, policy_arn: str, version_id: str) -> PolicyVersion | None:
        return self.default_version(account, policy_arn)


# --- a managed Deny detached -------------------------------------------------------------------------


@pytest.mark.parametrize("read", ["before", "after"])
def test_detaching_the_deny_that_kept_allow_all_in_check_is_a_critical_finding(read: str) -> None:
    attached = [GUARD_ARN] if read == "before" else []
    directory = _details([_role([_inline("everything", ALLOW_ALL)], attached)], policies=[_guard_policy(DENY_ALL)])

    result = judge_event(
        load_event("detach-deny-guard-from-role.json"), Settings(), GuardDocuments(DENY_ALL), directory
    )

    [finding] = result.findings
    assert finding.rule_id == RULE
    assert finding.severity is Severity.CRITICAL
    assert finding.needs_context == ()
    assert finding.plan == (), "never remediated: putting a Deny back would need iam:AttachRolePolicy on any role"
    assert "detached arn:aws:iam::111122223333:policy/deny-iam-guard from role app-backend" in finding.reason
    assert f"aws iam attach-role-policy --role-name app-backend --policy-arn {GUARD_ARN}" in finding.reason


def test_detaching_a_policy_without_a_deny_opens_nothing() -> None:
    directory = _details([_role([_inline("everything", ALLOW_ALL)], [GUARD_ARN])], policies=[_guard_policy(READ_ONLY)])

    result = judge_event(
        load_event("detach-deny-guard-from-role.json"), Settings(), GuardDocuments(READ_ONLY), directory
    )

    assert result.verdict is Verdict.COMPLIANT
    assert "held no Deny" in result.reason


def test_a_deny_that_kept_nothing_risky_in_check_is_compliant() -> None:
    directory = _details([_role([_inline("read", READ_ONLY)], [GUARD_ARN])], policies=[_guard_policy(DENY_IAM)])

    result = judge_event(
        load_event("detach-deny-guard-from-role.json"), Settings(), GuardDocuments(DENY_IAM), directory
    )

    assert result.verdict is Verdict.COMPLIANT
    assert "kept nothing admin-equivalent or escalating in check" in result.reason


def test_a_role_already_admin_despite_the_deny_gains_nothing() -> None:
    """The guard denies one s3 action: the role was an administrator before the detach too."""
    guard = _document("Deny", "s3:DeleteBucket")
    directory = _details([_role([_inline("everything", ALLOW_ALL)], [GUARD_ARN])], policies=[_guard_policy(guard)])

    result = judge_event(load_event("detach-deny-guard-from-role.json"), Settings(), GuardDocuments(guard), directory)

    assert result.verdict is Verdict.COMPLIANT


def test_a_detached_policy_deleted_since_has_nothing_to_put_back() -> None:
    directory = _details([_role([_inline("everything", ALLOW_ALL)])])

    result = judge_event(load_event("detach-deny-guard-from-role.json"), Settings(), GuardDocuments(None), directory)

    assert result.verdict is Verdict.COMPLIANT
    assert "no longer exists" in result.reason


def test_without_the_detached_document_the_change_cannot_be_judged() -> None:
    result = judge_event(load_event("detach-deny-guard-from-role.json"), Settings())

    assert result.findings == ()
    assert result.verdict is Verdict.IGNORED
    assert "cannot judge" in result.reason
    assert "reads it live" in result.reason


def test_a_principal_the_directory_cannot_read_is_alerted_with_what_is_unknown() -> None:
    result = judge_event(
        load_event("detach-deny-guard-from-role.json"), Settings(), GuardDocuments(DENY_ALL), _details()
    )

    [finding] = result.findings
    assert finding.needs_context, "alerted, never acted on: what the Deny kept in check is not known"
    assert "which held a Deny" in finding.reason


# --- an inline Deny deleted --------------------------------------------------------------------------


def test_deleting_an_inline_deny_known_from_details_taken_before_is_a_finding() -> None:
    directory = _details([_role([_inline("everything", ALLOW_ALL), _inline("deny-iam", DENY_ALL)])])

    result = judge_event(load_event("delete-deny-inline-from-role.json"), Settings(), directory=directory)

    [finding] = result.findings
    assert finding.rule_id == RULE
    assert finding.needs_context == ()
    assert "aws iam put-role-policy --role-name app-backend --policy-name deny-iam" in finding.reason


def test_deleting_an_inline_policy_live_leaves_an_admin_alerted_with_the_document_unknown() -> None:
    """Read after the deletion: the document is gone, and IAM keeps no history of inline policies."""
    directory = _details([_role([_inline("everything", ALLOW_ALL)])])

    result = judge_event(load_event("delete-deny-inline-from-role.json"), Settings(), directory=directory)

    [finding] = result.findings
    assert finding.severity is Severity.HIGH
    assert any("what inline policy deny-iam of role app-backend held" in fact for fact in finding.needs_context)


def test_deleting_an_inline_policy_live_from_a_harmless_role_is_compliant() -> None:
    directory = _details([_role([_inline("read", READ_ONLY)])])

    result = judge_event(load_event("delete-deny-inline-from-role.json"), Settings(), directory=directory)

    assert result.verdict is Verdict.COMPLIANT


def test_deleting_an_inline_policy_without_a_directory_cannot_be_judged() -> None:
    result = judge_event(load_event("delete-deny-inline-from-role.json"), Settings())

    assert result.findings == ()
    assert result.verdict is Verdict.IGNORED
    assert "--authorization-details taken before the deletion" in result.reason


# --- a group holding the Deny left -------------------------------------------------------------------


def _build_bot(groups: list[str]) -> dict[str, Any]:
    return {
        "Path": "/",
        "UserName": "build-bot",
        "Arn": f"arn:aws:iam::{ACCOUNT}:user/build-bot",
        "UserPolicyList": [_inline("deploy", _document("Allow", "iam:*"))],
        "GroupList": groups,
        "AttachedManagedPolicies": [],
    }


def _restricted(document: dict[str, Any]) -> dict[str, Any]:
    return {
        "Path": "/",
        "GroupName": "restricted",
        "Arn": f"arn:aws:iam::{ACCOUNT}:group/restricted",
        "GroupPolicyList": [_inline("no-iam-writes", document)],
        "AttachedManagedPolicies": [],
    }


@pytest.mark.parametrize("groups", [["restricted"], []], ids=["read-before", "read-after"])
def test_leaving_the_group_whose_deny_kept_the_user_in_check_is_a_finding(groups: list[str]) -> None:
    directory = _details(users=[_build_bot(groups)], groups=[_restricted(DENY_IAM)])

    result = judge_event(load_event("remove-user-from-restricted-group.json"), Settings(), directory=directory)

    [finding] = result.findings
    assert finding.rule_id == RULE
    assert finding.severity is Severity.CRITICAL
    assert "removed user build-bot from group restricted" in finding.reason
    assert "aws iam add-user-to-group --group-name restricted --user-name build-bot" in finding.reason
    assert finding.plan == ()


def test_leaving_a_group_that_only_granted_is_compliant() -> None:
    directory = _details(users=[_build_bot(["restricted"])], groups=[_restricted(READ_ONLY)])

    result = judge_event(load_event("remove-user-from-restricted-group.json"), Settings(), directory=directory)

    assert result.verdict is Verdict.COMPLIANT


def test_a_group_deny_detached_is_judged_for_each_member() -> None:
    group = {
        "Path": "/",
        "GroupName": "restricted",
        "Arn": f"arn:aws:iam::{ACCOUNT}:group/restricted",
        "GroupPolicyList": [],
        "AttachedManagedPolicies": [{"PolicyName": "deny-iam-guard", "PolicyArn": GUARD_ARN}],
    }
    directory = _details(users=[_build_bot(["restricted"])], groups=[group], policies=[_guard_policy(DENY_IAM)])
    event = load_event("detach-deny-guard-from-role.json")
    event["detail"]["eventName"] = "DetachGroupPolicy"
    event["detail"]["requestParameters"] = {"groupName": "restricted", "policyArn": GUARD_ARN}

    result = judge_event(event, Settings(), GuardDocuments(DENY_IAM), directory)

    [finding] = result.findings
    assert "build-bot: " in finding.reason
    assert "aws iam attach-group-policy --group-name restricted" in finding.reason


def test_detaching_the_deny_that_blocked_a_self_escalation_names_the_method() -> None:
    """iam:PutRolePolicy on itself (issue 13 item 2), held back by a Deny of exactly that action."""
    guard = _document("Deny", "iam:PutRolePolicy")
    role = _role([_inline("self-service", _document("Allow", "iam:PutRolePolicy"))], [GUARD_ARN])
    directory = _details([role], policies=[_guard_policy(guard)])

    result = judge_event(load_event("detach-deny-guard-from-role.json"), Settings(), GuardDocuments(guard), directory)

    [finding] = result.findings
    assert "iam:PutRolePolicy" in finding.reason
    assert finding.needs_context == ()
