"""A held policy whose text names a key twice, read every way by the live enforcer (moto; issue 13, item 3).

moto keeps a policy document's text as it was given (``GetRolePolicy`` answers it; botocore's
``json_decode_policies`` then keeps each key's last value): the live directory keeps the text before that decode
(``adapters.principals._keep_texts``), so an attach is judged on every reading of what the role already holds. A
method the held policy completes in some reading only is alerted, never remediated; one it completes in every
reading is remediated as before.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from iamwarden.adapters.clients import ClientFactory
from iamwarden.adapters.principals import LiveRoleDirectory
from iamwarden.app.service import EnforcerService
from iamwarden.domain.findings import Outcome
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier
from tests.functional.test_aws_managed_whole_power import EC2_TRUST, _heartbeat
from tests.functional.test_live_context import _admin_role

LAMBDA = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["lambda:CreateFunction", "lambda:InvokeFunction"], "Resource": "*"}
        ],
    }
)
HELD = "inline app/pass"


def _text(body: str) -> str:
    return '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",' + body + "}]}"


def _attach(account: Account, held: str) -> tuple[str, dict[str, Any]]:
    """Role app holding inline ``pass`` (``held``, as text), a Lambda policy attached to it live after the heartbeat;
    the AttachRolePolicy event."""
    _admin_role(account)
    account.iam.create_role(RoleName="app", AssumeRolePolicyDocument=EC2_TRUST)
    account.iam.put_role_policy(RoleName="app", PolicyName="pass", PolicyDocument=held)
    arn = account.iam.create_policy(PolicyName="deploy-functions", PolicyDocument=LAMBDA)["Policy"]["Arn"]
    _heartbeat(account)
    account.iam.attach_role_policy(RoleName="app", PolicyArn=arn)
    event = copy.deepcopy(load_event("attach-customer-managed.json"))
    event["detail"]["requestParameters"] = {"roleName": "app", "policyArn": arn}
    return arn, event


def _attached(account: Account) -> list[str]:
    return [p["PolicyArn"] for p in account.iam.list_attached_role_policies(RoleName="app")["AttachedPolicies"]]


def test_the_live_directory_keeps_the_readings_of_a_held_inline_text(account: Account) -> None:
    # What the tests below rest on: moto answers GetRolePolicy with the text as given, and the directory reads it
    # every way (botocore alone would give the last value only).
    account.iam.create_role(RoleName="app", AssumeRolePolicyDocument=EC2_TRUST)
    text = _text('"Action":"iam:PassRole","Action":"s3:GetObject","Resource":"*"')
    account.iam.put_role_policy(RoleName="app", PolicyName="pass", PolicyDocument=text)
    assert account.iam.get_role_policy(RoleName="app", PolicyName="pass")["PolicyDocument"]["Statement"][0][
        "Action"
    ] == ("s3:GetObject")
    directory = LiveRoleDirectory(ClientFactory(HOME_ACCOUNT, account.config.member_role_name, session=account.session))

    role = directory.principal(f"arn:aws:iam::{HOME_ACCOUNT}:role/app")

    assert role is not None
    [held] = role.policies
    assert held.source == HELD
    assert held.policy.statements[0].actions == ("s3:getobject",)
    assert [reading.statements[0].actions for reading in held.readings] == [("iam:passrole",)]


def test_a_method_the_held_policy_completes_in_another_reading_only_is_alerted_and_left(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    # main: compliant (the held policy read with its last value passes nothing).
    account.set("rules/privilege-escalation/mode", "remediate")
    arn, event = _attach(account, _text('"Action":"iam:PassRole","Action":"s3:GetObject","Resource":"*"'))

    [finding] = [f for f in enforcer.handle(event)["findings"] if f["rule"] == "privilege-escalation"]

    assert finding["outcome"] == Outcome.ALERTED
    assert _attached(account) == [arn]
    [alert] = [sent for sent in notifier.sent if sent.finding and sent.finding.rule_id == "privilege-escalation"]
    assert alert.finding is not None
    assert not alert.finding.certain
    assert "PassExistingRoleToNewLambdaThenInvoke" in alert.finding.reason
    assert alert.finding.needs_context[-1].startswith(f"which way AWS reads {HELD}: it names a key twice")


def test_a_method_the_held_policy_completes_with_its_last_value_only_is_no_longer_remediated(
    account: Account, enforcer: EnforcerService
) -> None:
    # main: remediated (boto3's reading passes any role); the first value passes none.
    account.set("rules/privilege-escalation/mode", "remediate")
    arn, event = _attach(account, _text('"Action":"s3:GetObject","Action":"iam:PassRole","Resource":"*"'))

    [finding] = [f for f in enforcer.handle(event)["findings"] if f["rule"] == "privilege-escalation"]

    assert finding["outcome"] == Outcome.ALERTED
    assert _attached(account) == [arn]


def test_a_method_every_reading_completes_is_remediated_as_before(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/privilege-escalation/mode", "remediate")
    every_role = f'"Resource":"arn:aws:iam::{HOME_ACCOUNT}:role/*","Resource":"*"'
    _arn, event = _attach(account, _text(f'"Action":"iam:PassRole",{every_role}'))

    [finding] = [f for f in enforcer.handle(event)["findings"] if f["rule"] == "privilege-escalation"]

    assert finding["outcome"] == Outcome.REMEDIATED
    assert _attached(account) == []


def test_the_live_directory_keeps_the_readings_of_held_managed_boundary_and_group_texts(account: Account) -> None:
    # Review F6: besides a role's inline text, a held managed policy (GetPolicyVersion), the permissions boundary,
    # and a group's inline policy (a user's) keep their other reading, whether each is read directly or through
    # GetAccountAuthorizationDetails (roles_matching and users_of read it first).
    text = _text('"Action":"iam:PassRole","Action":"s3:GetObject","Resource":"*"')
    iam = account.iam
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=EC2_TRUST)
    arn = iam.create_policy(PolicyName="m", PolicyDocument=text)["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="app", PolicyArn=arn)
    iam.put_role_permissions_boundary(RoleName="app", PermissionsBoundary=arn)
    iam.create_user(UserName="u")
    iam.create_group(GroupName="g")
    iam.add_user_to_group(GroupName="g", UserName="u")
    iam.put_group_policy(GroupName="g", PolicyName="gp", PolicyDocument=text)
    for through_details in (False, True):
        directory = LiveRoleDirectory(
            ClientFactory(HOME_ACCOUNT, account.config.member_role_name, session=account.session)
        )
        if through_details:
            directory.roles_matching(HOME_ACCOUNT, "*")
            directory.users_of(HOME_ACCOUNT)

        role = directory.principal(f"arn:aws:iam::{HOME_ACCOUNT}:role/app")
        user = directory.principal(f"arn:aws:iam::{HOME_ACCOUNT}:user/u")

        assert role is not None
        assert user is not None
        [managed] = role.policies
        [group] = user.policies
        for held, readings in ((managed.policy, managed.readings), (role.boundary, role.boundary_readings)):
            assert held is not None
            assert held.statements[0].actions == ("s3:getobject",), through_details
            assert [r.statements[0].actions for r in readings] == [("iam:passrole",)], through_details
        assert group.source.startswith("group g: ")
        assert [r.statements[0].actions for r in group.readings] == [("iam:passrole",)], through_details
