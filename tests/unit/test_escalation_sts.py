"""PMapper's STS edge (principalmapper/graphing/sts_edges.py at 91d2e60): assuming a stronger role (audit gap 6).

An identity-policy change granting ``sts:AssumeRole`` escalates when a role it reaches lets the holder in by its
trust policy (naming the holder, or its account, since the holder now holds the grant) and can do more than the
holder: admin-equivalent, or escalating further. A Deny or a boundary on the role keeps it out; a role that trusts
only a service or another principal, or that can do no more, is no path. The audit's probes (p4.py) as
authorization details.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from iamwarden.domain.authorization_details import authorization_details_directory
from iamwarden.domain.findings import Judgement, Verdict
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event

ACCOUNT = "111122223333"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _trust(principal: dict[str, str]) -> dict[str, Any]:
    return _doc({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"})


ROOT = _trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"})
APP = _trust({"AWS": f"arn:aws:iam::{ACCOUNT}:role/app"})
OTHER = _trust({"AWS": f"arn:aws:iam::{ACCOUNT}:role/other"})
EC2 = _trust({"Service": "ec2.amazonaws.com"})
LAMBDA = _trust({"Service": "lambda.amazonaws.com"})
ASSUME_ANY = _doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"})


def _role(name: str, trust: dict[str, Any], *, admin: bool = False, inline: dict[str, Any] | None = None) -> Any:
    return {
        "Path": "/",
        "RoleName": name,
        "RoleId": f"AROA{name.upper()}",
        "Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}",
        "AssumeRolePolicyDocument": trust,
        "RolePolicyList": [{"PolicyName": k, "PolicyDocument": v} for k, v in (inline or {}).items()],
        "AttachedManagedPolicies": [{"PolicyName": "AdministratorAccess", "PolicyArn": ADMIN}] if admin else [],
        "InstanceProfileList": [],
    }


def _details(*roles: Any) -> Any:
    admin = {
        "PolicyName": "AdministratorAccess",
        "Arn": ADMIN,
        "DefaultVersionId": "v1",
        "PolicyVersionList": [
            {
                "VersionId": "v1",
                "IsDefaultVersion": True,
                "Document": _doc({"Effect": "Allow", "Action": "*", "Resource": "*"}),
            }
        ],
    }
    return authorization_details_directory(
        {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": list(roles), "Policies": [admin]}
    )


def _put(document: dict[str, Any], name: str = "new") -> dict[str, Any]:
    event = copy.deepcopy(load_event("put-role-policy-admin-star.json"))
    event["detail"]["requestParameters"].update(roleName="app", policyName=name, policyDocument=json.dumps(document))
    return event


def _judge(document: dict[str, Any], *roles: Any) -> Judgement:
    directory = _details(
        _role("app", EC2, inline={"old": _doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})}), *roles
    )
    return judge_event(_put(document), Settings(), directory=directory)


def test_assuming_any_role_when_an_admin_role_trusts_the_account_is_an_escalation() -> None:
    [finding] = _judge(ASSUME_ANY, _role("admin-role", ROOT, admin=True)).findings

    assert (finding.rule_id, finding.certain) == ("privilege-escalation", True)
    assert "(AssumeStrongerRole)" in finding.reason
    assert "That leads to role admin-role, which is admin-equivalent" in finding.reason


def test_assuming_the_admin_role_by_name_is_an_escalation() -> None:
    named = _doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::{ACCOUNT}:role/admin-role"})

    [finding] = _judge(named, _role("admin-role", ROOT, admin=True)).findings

    assert finding.certain
    assert "AssumeStrongerRole" in finding.reason


def test_a_trust_naming_the_holder_lets_it_in_too() -> None:
    [finding] = _judge(ASSUME_ANY, _role("admin-role", APP, admin=True)).findings

    assert "That leads to role admin-role" in finding.reason


def test_a_role_that_trusts_only_a_service_or_another_principal_is_no_path() -> None:
    judgement = _judge(ASSUME_ANY, _role("admin-role", EC2, admin=True), _role("ops-admin", OTHER, admin=True))

    assert judgement.verdict is Verdict.COMPLIANT, judgement.reason


def test_a_role_that_can_do_no_more_is_no_path() -> None:
    reader = _role(
        "reader", ROOT, inline={"read": _doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})}
    )

    assert _judge(ASSUME_ANY, reader).verdict is Verdict.COMPLIANT


def test_a_deny_on_the_admin_role_keeps_the_holder_out() -> None:
    deny = {"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::{ACCOUNT}:role/admin-*"}
    document = _doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}, deny)

    assert _judge(document, _role("admin-role", ROOT, admin=True)).verdict is Verdict.COMPLIANT


def test_a_role_that_escalates_further_is_a_path() -> None:
    """A role trusting the account that may pass any role to Lambda, where an admin role exists: two steps."""
    deployer = _role(
        "deployer",
        ROOT,
        inline={
            "deploy": _doc(
                {
                    "Effect": "Allow",
                    "Action": ["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"],
                    "Resource": "*",
                }
            )
        },
    )

    [finding] = _judge(ASSUME_ANY, deployer, _role("admin-role", LAMBDA, admin=True)).findings

    assert "AssumeStrongerRole" in finding.reason
    assert "deployer" in finding.reason


def test_without_authorization_details_it_is_only_possible() -> None:
    [finding] = judge_event(_put(ASSUME_ANY), Settings()).findings

    assert not finding.certain
    assert any("which roles * trust it" in fact for fact in finding.needs_context)
