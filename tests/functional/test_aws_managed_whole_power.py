"""An AWS-managed attachment judged live on the principal's whole power, and roles' instance profiles read live.

Issue 13 items 3, 4 and 7 against moto (which bundles the AWS-managed documents and answers
``ListInstanceProfilesForRole``): attaching ``AmazonEC2FullAccess`` to a role that already may pass any role
completes ``CreateEC2WithExistingIP`` (iam-vulnerable's ``privesc3-CreateEC2WithExistingInstanceProfile``,
BishopFox/iam-vulnerable, modules/free-resources/privesc-paths) only when a stronger role is in an instance profile;
the remediation detaches that one policy, and only when the audit table's record says it was not there before.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from iamwarden.adapters.clients import ClientFactory
from iamwarden.adapters.principals import LiveRoleDirectory
from iamwarden.adapters.recorded import AuditRecorded
from iamwarden.app.heartbeat import SnapshotRefresh
from iamwarden.app.service import EnforcerService
from iamwarden.domain.findings import Outcome
from tests.aws_fixtures import HOME_ACCOUNT, REGION
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier

EC2_FULL = "arn:aws:iam::aws:policy/AmazonEC2FullAccess"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
EC2_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)
PASS_ANY_ROLE = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}]}
)
#: attach-admin-to-role.json happened at 2026-11-13T09:22:18Z; the heartbeat ran before it.
HEARTBEAT_BEFORE = "2026-11-01T00:00:00.000+00:00"


def _heartbeat(account: Account) -> None:
    """The heartbeat's read of what each principal holds, taken before the event (``guardrails.attachments``)."""
    store = AuditRecorded(account.audit(), account.dynamodb)
    cloudtrail = account.session.client("cloudtrail", region_name=REGION)
    SnapshotRefresh(
        store, cloudtrail, account.iam, HOME_ACCOUNT, region=REGION, clock=lambda: HEARTBEAT_BEFORE
    ).refresh()


def _scenario(account: Account, *, profiled: bool) -> None:
    """Role app may pass any role; role deploy-admin is an administrator EC2 may assume, in a profile or not."""
    account.iam.create_role(RoleName="app", AssumeRolePolicyDocument=EC2_TRUST)
    account.iam.put_role_policy(RoleName="app", PolicyName="pass-any-role", PolicyDocument=PASS_ANY_ROLE)
    account.iam.create_role(RoleName="deploy-admin", AssumeRolePolicyDocument=EC2_TRUST)
    account.iam.attach_role_policy(RoleName="deploy-admin", PolicyArn=ADMIN)
    if profiled:
        account.iam.create_instance_profile(InstanceProfileName="deploy-admin")
        account.iam.add_role_to_instance_profile(InstanceProfileName="deploy-admin", RoleName="deploy-admin")


def _attach(account: Account, policy_arn: str) -> dict[str, Any]:
    """Attach ``policy_arn`` to role app live; the AttachRolePolicy event that says so."""
    account.iam.attach_role_policy(RoleName="app", PolicyArn=policy_arn)
    event = copy.deepcopy(load_event("attach-admin-to-role.json"))
    event["detail"]["requestParameters"] = {"roleName": "app", "policyArn": policy_arn}
    return event


def _attached(account: Account) -> list[str]:
    return [p["PolicyArn"] for p in account.iam.list_attached_role_policies(RoleName="app")["AttachedPolicies"]]


def test_ec2_full_access_completing_an_older_pass_role_is_detached_and_only_it(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("rules/privilege-escalation/mode", "remediate")
    _scenario(account, profiled=True)
    _heartbeat(account)
    event = _attach(account, EC2_FULL)

    findings = {finding["rule"]: finding for finding in enforcer.handle(event)["findings"]}

    # Both rules find, each saying something different: what the policy is (alert), where it leads (remediated).
    assert findings["managed-policy-attached"]["outcome"] == Outcome.ALERTED
    assert findings["privilege-escalation"]["outcome"] == Outcome.REMEDIATED
    assert _attached(account) == []
    assert account.iam.list_role_policies(RoleName="app")["PolicyNames"] == ["pass-any-role"], "the older grant stays"
    escalation = next(
        sent.finding for sent in notifier.sent if sent.finding and sent.finding.rule_id != "managed-policy-attached"
    )
    assert escalation is not None
    assert "CreateEC2WithExistingIP" in escalation.reason
    assert "That leads to role deploy-admin, which is admin-equivalent" in escalation.reason
    assert "Role app already held the rest of it: iam:PassRole (inline app/pass-any-role)." in escalation.reason


def test_without_a_record_from_before_the_event_the_detach_is_only_planned(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("rules/privilege-escalation/mode", "remediate")
    _scenario(account, profiled=True)
    event = _attach(account, EC2_FULL)

    findings = {finding["rule"]: finding for finding in enforcer.handle(event)["findings"]}

    # Whether EC2FullAccess was attached before is not known: alerted with the plan, never carried out.
    assert findings["privilege-escalation"]["outcome"] == Outcome.ALERTED
    assert _attached(account) == [EC2_FULL]
    [escalation] = [
        sent.finding for sent in notifier.sent if sent.finding and sent.finding.rule_id == "privilege-escalation"
    ]
    assert escalation.needs_context == (
        "whether AmazonEC2FullAccess was already attached to role app before this event",
    )
    assert [step.parameters["policy_arn"] for step in escalation.plan] == [EC2_FULL]


def test_a_stronger_role_in_no_instance_profile_is_not_where_ec2_leads(
    account: Account, enforcer: EnforcerService
) -> None:
    account.set("rules/privilege-escalation/mode", "remediate")
    _scenario(account, profiled=False)
    _heartbeat(account)
    event = _attach(account, EC2_FULL)

    result = enforcer.handle(event)

    # The instance profiles, not read before, kept every role as where EC2 could lead; none is: passing a role to a
    # new instance leads nowhere. What the existing instances, launch templates and configurations of the regions not
    # read act as stays unknown (review s10 finding 11: ec2:* is no admin grant that settles it), so those methods
    # are alerted, never remediated.
    assert "privilege-escalation" in result["rules"]
    assert [(finding["rule"], finding["outcome"]) for finding in result["findings"]] == [
        ("managed-policy-attached", "alerted"),
        ("privilege-escalation", "alerted"),
    ]
    assert "CreateEC2WithExistingIP" not in result["reason"]
    assert "(not read: regions not configured)" in result["reason"]
    assert _attached(account) == [EC2_FULL]


def test_read_only_access_opens_nothing_on_the_whole_power(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/privilege-escalation/mode", "remediate")
    account.set("rules/managed-policy-attached/mode", "off")
    _scenario(account, profiled=True)
    _heartbeat(account)

    result = enforcer.handle(_attach(account, READ_ONLY))

    assert result["verdict"] == "compliant"
    assert "the AWS-managed policy ReadOnlyAccess (version" in result["reason"]
    assert _attached(account) == [READ_ONLY]


def test_the_live_directory_lists_a_roles_instance_profiles(account: Account) -> None:
    _scenario(account, profiled=True)
    account.iam.create_instance_profile(InstanceProfileName="spare")
    account.iam.add_role_to_instance_profile(InstanceProfileName="spare", RoleName="app")
    directory = LiveRoleDirectory(ClientFactory(HOME_ACCOUNT, account.config.member_role_name, session=account.session))

    assert directory.instance_profiles_of(f"arn:aws:iam::{HOME_ACCOUNT}:role/deploy-admin") == (
        f"arn:aws:iam::{HOME_ACCOUNT}:instance-profile/deploy-admin",
    )
    # Read with the authorization details, a role carries them without asking.
    directory.roles_matching(HOME_ACCOUNT, "*")
    app = directory.principal(f"arn:aws:iam::{HOME_ACCOUNT}:role/app")
    assert app is not None
    assert app.instance_profiles == (f"arn:aws:iam::{HOME_ACCOUNT}:instance-profile/spare",)
