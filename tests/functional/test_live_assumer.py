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

from iamwarden.adapters.principals import LiveRoleDirectory
from iamwarden.app.service import EnforcerService
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier
from tests.functional.guardrail_cases import heartbeat_read_attachments
from tests.functional.test_live_context import _CountingClients

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
    heartbeat_read_attachments(account, "2026-11-01T00:00:00Z")  # before the attach: it is known to add it
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


def test_every_user_is_read_in_one_listing_and_holds_what_it_holds_read_alone(account: Account) -> None:
    """A trust naming the account reads its users: ``GetAccountAuthorizationDetails`` (users and groups) answers
    each user as ``GetUser``, its policy lists and its groups' would (moto's shapes), not five calls a user."""
    iam = account.iam
    weak = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    )
    limit_arn = iam.create_policy(PolicyName="limit", PolicyDocument=weak)["Policy"]["Arn"]
    iam.create_group(GroupName="devs")
    iam.put_group_policy(GroupName="devs", PolicyName="read", PolicyDocument=weak)
    iam.attach_group_policy(GroupName="devs", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    iam.create_group(GroupName="empty")
    for index in range(6):
        name = f"user-{index:02}"
        iam.create_user(UserName=name, **({"PermissionsBoundary": limit_arn} if index % 3 == 0 else {}))
        iam.put_user_policy(UserName=name, PolicyName="own", PolicyDocument=weak)
        if index % 2 == 0:
            iam.add_user_to_group(UserName=name, GroupName="devs")
            iam.add_user_to_group(UserName=name, GroupName="empty")
    listed = _CountingClients(account)
    directory = LiveRoleDirectory(listed)

    users = directory.users_of(HOME_ACCOUNT) or ()
    held = {arn: directory.principal(arn) for arn in users}

    assert len(users) == 6
    assert listed.calls.count("GetAccountAuthorizationDetails") == 1
    assert {"GetUser", "ListUserPolicies", "ListGroupsForUser", "ListGroupPolicies"}.isdisjoint(listed.calls)
    for arn in users:
        alone = LiveRoleDirectory(_CountingClients(account)).principal(arn)
        assert held[arn] == alone, arn
    in_groups = [user.groups for user in held.values() if user is not None and user.groups]
    assert in_groups == [(f"arn:aws:iam::{HOME_ACCOUNT}:group/devs", f"arn:aws:iam::{HOME_ACCOUNT}:group/empty")] * 3

    directory.observe(_user_event("AddUserToGroup", "user-01", groupName="devs"))
    listed.calls.clear()
    directory.principal(f"arn:aws:iam::{HOME_ACCOUNT}:user/user-01")
    assert "GetUser" in listed.calls  # changed since the listing: read alone


def _user_event(name: str, user: str, **request: str) -> dict[str, Any]:
    return {
        "account": HOME_ACCOUNT,
        "detail": {
            "eventSource": "iam.amazonaws.com",
            "eventName": name,
            "requestParameters": {"userName": user, **request},
        },
    }
