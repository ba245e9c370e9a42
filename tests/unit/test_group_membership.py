"""group-membership-escalation judged with the member's whole power, offline from authorization details.

A group that escalates nobody alone may complete a path with what the user already holds; the details file may
be read before the membership (the user's GroupList without the group) or after it (with it): the verdict is
the same.
"""

from __future__ import annotations

from typing import Any

import pytest

from iamwarden.domain.authorization_details import authorization_details_directory
from iamwarden.domain.findings import Verdict
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event

ACCOUNT = "111122223333"


def _inline(name: str, *actions: str) -> dict[str, Any]:
    return {
        "PolicyName": name,
        "PolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}],
        },
    }


def _details(user_policies: list[dict[str, Any]], groups: list[str]) -> dict[str, Any]:
    """build-bot, group platform-admins (create and invoke functions), role admin-fn (Lambda's, administrator)."""
    return {
        "UserDetailList": [
            {
                "Path": "/",
                "UserName": "build-bot",
                "Arn": f"arn:aws:iam::{ACCOUNT}:user/build-bot",
                "UserPolicyList": user_policies,
                "GroupList": groups,
                "AttachedManagedPolicies": [],
            }
        ],
        "GroupDetailList": [
            {
                "Path": "/",
                "GroupName": "platform-admins",
                "Arn": f"arn:aws:iam::{ACCOUNT}:group/platform-admins",
                "GroupPolicyList": [_inline("lambda", "lambda:CreateFunction", "lambda:InvokeFunction")],
                "AttachedManagedPolicies": [],
            }
        ],
        "RoleDetailList": [
            {
                "Path": "/",
                "RoleName": "admin-fn",
                "Arn": f"arn:aws:iam::{ACCOUNT}:role/admin-fn",
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                },
                "InstanceProfileList": [],
                "RolePolicyList": [_inline("admin", "*")],
                "AttachedManagedPolicies": [],
            }
        ],
        "Policies": [],
    }


@pytest.mark.parametrize("groups", [[], ["platform-admins"]], ids=["read-before", "read-after"])
def test_a_group_completing_the_users_own_pass_role_is_a_finding(groups: list[str]) -> None:
    directory = authorization_details_directory(_details([_inline("pass", "iam:PassRole")], groups))

    result = judge_event(load_event("add-user-to-admin-group.json"), Settings(), directory=directory)

    [finding] = result.findings
    assert result.verdict is Verdict.VIOLATION
    assert finding.rule_id == "group-membership-escalation"
    assert "with what the user already held (iam:PassRole (inline build-bot/pass))" in finding.reason
    assert finding.needs_context == ()
    if groups:  # the details are the account before the event: build-bot was in the group, nothing was added
        assert finding.plan == ()
        assert finding.reason.endswith(
            "user build-bot was in group platform-admins before this event: nothing was added; remove it by hand if "
            "it should not be there."
        )
        return
    [step] = finding.plan
    assert step.parameters == {"user_name": "build-bot", "group_name": "platform-admins"}


@pytest.mark.parametrize("groups", [[], ["platform-admins"]], ids=["read-before", "read-after"])
def test_a_group_completing_nothing_for_this_user_is_compliant(groups: list[str]) -> None:
    directory = authorization_details_directory(_details([_inline("read", "s3:GetObject")], groups))

    result = judge_event(load_event("add-user-to-admin-group.json"), Settings(), directory=directory)

    assert result.verdict is Verdict.COMPLIANT
    assert "alone or with what user build-bot holds" in result.reason


def test_a_user_who_already_escalated_gains_nothing_new_from_the_group() -> None:
    """The same path held before the membership (the user's own policy grants all three actions) is not new."""
    own = [_inline("all", "iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction")]
    directory = authorization_details_directory(_details(own, ["platform-admins"]))

    result = judge_event(load_event("add-user-to-admin-group.json"), Settings(), directory=directory)

    assert result.verdict is Verdict.COMPLIANT


# --- an admin group is admin for this member only when nothing it rests on is unknown (issue 13, session 11) --------

ADMIN = {"Effect": "Allow", "Action": "*", "Resource": "*"}


def _admin_details(
    *,
    group_statement: dict[str, Any] = ADMIN,
    user_statements: list[dict[str, Any]] | None = None,
    boundary: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """build-bot (its own policy ``user_statements``, perhaps a boundary) and platform-admins (``group_statement``)."""
    details = _details([], [])
    user = details["UserDetailList"][0]
    if user_statements:
        user["UserPolicyList"] = [
            {"PolicyName": "own", "PolicyDocument": {"Version": "2012-10-17", "Statement": user_statements}}
        ]
    group = details["GroupDetailList"][0]
    group["GroupPolicyList"] = [
        {"PolicyName": "admin", "PolicyDocument": {"Version": "2012-10-17", "Statement": [group_statement]}}
    ]
    if boundary is not None:
        arn = f"arn:aws:iam::{ACCOUNT}:policy/fence"
        user["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": arn}
        details["Policies"] = [
            {
                "PolicyName": "fence",
                "Arn": arn,
                "Path": "/",
                "DefaultVersionId": "v1",
                "AttachmentCount": 0,
                "PermissionsBoundaryUsageCount": 1,
                "IsAttachable": True,
                "PolicyVersionList": [
                    {
                        "Document": {"Version": "2012-10-17", "Statement": [boundary]},
                        "VersionId": "v1",
                        "IsDefaultVersion": True,
                    }
                ],
            }
        ]
    return details


def _membership(details: dict[str, Any]) -> Any:
    directory = authorization_details_directory(details)
    return judge_event(load_event("add-user-to-admin-group.json"), Settings(), directory=directory)


def test_an_admin_group_is_certain_for_a_member_nothing_restrains() -> None:
    [finding] = _membership(_admin_details()).findings

    assert finding.severity == "critical"
    assert finding.needs_context == ()
    assert finding.plan


MFA = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


@pytest.mark.parametrize(
    "details",
    [
        _admin_details(group_statement={**ADMIN, "Condition": MFA}),
        _admin_details(user_statements=[{"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": MFA}]),
        _admin_details(boundary={**ADMIN, "Condition": MFA}),
        _admin_details(
            user_statements=[{"Effect": "Deny", "Action": "*", "Resource": "arn:aws:*:*:${aws:PrincipalTag/home}:*"}]
        ),
        _admin_details(boundary={"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}),
        _admin_details(boundary={"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}),
        _admin_details(user_statements=[{"Effect": "Deny", "Action": "*", "Resource": "*"}]),
    ],
    ids=[
        "condition-on-the-grant",
        "conditional-deny",
        "conditional-boundary",
        "unresolved-variable-deny",
        "boundary-cap",
        "notaction-boundary",
        "unconditional-guard",
    ],
)
def test_a_group_admin_by_itself_is_removed_whatever_the_member_holds(details: dict[str, Any]) -> None:
    """Review s11 findings 1-4: main's verdict on the group alone is the floor. A condition in the group's own
    policy, a member's guard, boundary or doubt never leaves the membership in force (removing the guard later is
    alerted only, and the membership would then arm the user)."""
    [finding] = _membership(details).findings

    assert finding.severity == "critical"
    assert finding.needs_context == ()
    assert [step.action.value for step in finding.plan] == ["remove_user_from_group"]


def test_a_guarded_member_is_told_it_gains_nothing_now_but_is_removed() -> None:
    details = _admin_details(user_statements=[{"Effect": "Deny", "Action": "*", "Resource": "*"}])

    [finding] = _membership(details).findings

    assert "User build-bot gains none of it now" in finding.reason
    assert "undone all the same" in finding.reason
    assert finding.plan


def test_a_member_that_could_not_be_read_does_not_weaken_the_removal() -> None:
    details = _admin_details()
    details["UserDetailList"][0]["GroupList"] = ["missing-group"]  # a group the details lack: the user is unread

    [finding] = _membership(details).findings

    assert finding.needs_context == ()
    assert finding.plan
