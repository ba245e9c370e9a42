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
