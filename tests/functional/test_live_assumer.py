"""Audit gap 12 live (against moto): a role that writes users' policies, read with who may assume it.

The enforcer reads the role's trust policy (GetAccountAuthorizationDetails for roles, or GetRole), the users it
names (or, for a trust naming the account, the account's users: GetAccountAuthorizationDetails for users) and
each one's own policies and groups. A user who may assume the role and is among what the grant writes makes
the grant an escalation; a role only Lambda may assume stays compliant.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from iamwarden.app.service import EnforcerService
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier

WRITES_USERS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "iam:AttachUserPolicy", "Resource": "*"}],
}
LAMBDA_TRUST = {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}


def _trust(statement: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _setup(account: Account, trust: dict[str, Any]) -> str:
    """User dana (allowed sts:AssumeRole on app-backend), role app-backend with ``trust``, and the customer-managed
    policy user-admin (iam:AttachUserPolicy on ``*``) attached to the role, as the event says."""
    iam = account.iam
    role_arn: str = iam.create_role(RoleName="app-backend", AssumeRolePolicyDocument=_trust(trust))["Role"]["Arn"]
    iam.create_user(UserName="dana")
    assume = {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}
    iam.put_user_policy(UserName="dana", PolicyName="assume-app", PolicyDocument=_trust(assume))
    policy_arn: str = iam.create_policy(PolicyName="user-admin", PolicyDocument=json.dumps(WRITES_USERS))["Policy"][
        "Arn"
    ]
    iam.attach_role_policy(RoleName="app-backend", PolicyArn=policy_arn)
    return policy_arn


def _attach_event(policy_arn: str) -> dict[str, Any]:
    event = copy.deepcopy(load_event("attach-customer-managed.json"))
    event["detail"]["requestParameters"].update(roleName="app-backend", policyArn=policy_arn)
    return event


def _attached(account: Account) -> list[str]:
    return [
        p["PolicyName"] for p in account.iam.list_attached_role_policies(RoleName="app-backend")["AttachedPolicies"]
    ]


def test_a_user_the_trust_names_is_found_and_the_attachment_removed(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("rules/privilege-escalation/mode", "remediate")
    names_dana = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{HOME_ACCOUNT}:user/dana"}}
    policy_arn = _setup(account, {**names_dana, "Action": "sts:AssumeRole"})

    [finding] = enforcer.handle(_attach_event(policy_arn))["findings"]

    assert (finding["rule"], finding["outcome"]) == ("privilege-escalation", "remediated"), finding
    [alert] = [n.finding for n in notifier.sent if n.finding is not None]
    assert "(AttachAssumerUserPolicy)" in alert.reason
    assert "user dana, which can assume role app-backend (its trust policy names it)" in alert.reason
    assert _attached(account) == []


def test_a_trust_naming_the_account_lets_in_the_users_listed_live(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("rules/privilege-escalation/mode", "remediate")
    root = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{HOME_ACCOUNT}:root"}, "Action": "sts:AssumeRole"}
    policy_arn = _setup(account, root)

    [finding] = enforcer.handle(_attach_event(policy_arn))["findings"]

    assert (finding["rule"], finding["outcome"]) == ("privilege-escalation", "remediated"), finding
    [alert] = [n.finding for n in notifier.sent if n.finding is not None]
    assert "its trust policy admits the account, and it is allowed sts:AssumeRole on it" in alert.reason
    assert _attached(account) == []


def test_a_role_only_lambda_may_assume_stays(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/privilege-escalation/mode", "remediate")
    policy_arn = _setup(account, LAMBDA_TRUST)

    result = enforcer.handle(_attach_event(policy_arn))

    assert result["verdict"] == "compliant", result
    assert _attached(account) == ["user-admin"]
