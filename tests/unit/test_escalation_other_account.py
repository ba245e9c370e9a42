"""IAM calls act only in the caller's account (s8 review 13 finding 8): an IAM resource pattern of another
account reaches nothing for an iam: method; a self method on roles says "its own role" only when a pattern can
name the holder."""

from __future__ import annotations

from iamwarden.domain.escalation import EscalationPath, assess, assess_principal
from iamwarden.domain.policy import parse_policy
from iamwarden.domain.principals import NamedPolicy, PrincipalPolicies

ACCOUNT = "111122223333"
OTHER = "999988887777"
HOLDER = f"arn:aws:iam::{ACCOUNT}:role/app"


def _paths(action: str | list[str], resource: str, holder: str | None = HOLDER) -> dict[str, EscalationPath]:
    policy = parse_policy(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]}
    )
    risk = (
        assess(policy)
        if holder is None
        else assess_principal(PrincipalPolicies(holder, (NamedPolicy("inline app/p", policy),)))
    )
    return {path.method.name: path for path in risk.escalations}


def test_another_accounts_roles_reach_nothing_for_iam_methods() -> None:
    assert "PutRolePolicy" not in _paths("iam:PutRolePolicy", f"arn:aws:iam::{OTHER}:role/*")
    assert "CreateEC2WithExistingIP" not in _paths(["iam:PassRole", "ec2:RunInstances"], f"arn:aws:iam::{OTHER}:role/*")


def test_another_accounts_users_reach_nothing_for_credential_methods() -> None:
    assert "CreateAccessKey" not in _paths("iam:CreateAccessKey", f"arn:aws:iam::{OTHER}:user/*")


def test_the_holders_account_a_wildcard_account_and_star_still_reach() -> None:
    assert "PutRolePolicy" in _paths("iam:PutRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/*")
    assert "PutRolePolicy" in _paths("iam:PutRolePolicy", "arn:aws:iam::*:role/*")
    assert "PutRolePolicy" in _paths("iam:PutRolePolicy", "*")


def test_a_document_judged_alone_keeps_any_account() -> None:
    # The holder is unknown: the account it names may be the holder's own.
    assert "PutRolePolicy" in _paths("iam:PutRolePolicy", f"arn:aws:iam::{OTHER}:role/*", holder=None)


def test_another_accounts_role_stays_reachable_for_sts_assume_role() -> None:
    # sts:AssumeRole crosses accounts (the role's trust policy decides): not an IAM call.
    assert "AssumeStrongerRole" in _paths("sts:AssumeRole", f"arn:aws:iam::{OTHER}:role/*")


def test_its_own_role_only_when_a_pattern_can_name_the_holder() -> None:
    own = _paths("iam:PutRolePolicy", HOLDER)["PutRolePolicy"]
    other = _paths("iam:PutRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/deploy-*")["PutRolePolicy"]
    assert "It can write its own role an inline policy" in own.explain()
    assert "its own role" not in other.explain()
    assert f"on a role arn:aws:iam::{ACCOUNT}:role/deploy-* names, and act as it" in other.explain()
