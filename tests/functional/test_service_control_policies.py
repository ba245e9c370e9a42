"""``scp-blinds-iamwarden`` with the enforcer as Lambda wires it, reading the organisation in moto (issue 15 item 3).

moto's Organizations keeps policies, their attachments (``FullAWSAccess`` on the root and each new OU, as AWS does)
and answers ``ListPoliciesForTarget`` and ``DescribePolicy``: the enforcer reads them through its own credentials,
as it does when it runs in the management account. The audit table (moto's DynamoDB) keeps what it read.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from iamwarden.app.service import EnforcerService
from iamwarden.domain.findings import Outcome
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier

#: An allow-list that lets through what many workloads need, and none of what IAM Warden calls but S3.
ONLY_COMPUTE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["ec2:*", "s3:*"], "Resource": "*"}],
}
SERVICES = ("cloudtrail", "events", "lambda", "sts", "iam", "guardduty", "securityhub", "config", "sns", "sqs")
WITH_IAMWARDEN = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [f"{s}:*" for s in (*SERVICES, "dynamodb", "ssm", "s3", "kms", "secretsmanager")],
            "Resource": "*",
        }
    ],
}
#: Nobody but IAM Warden's roles may change its roles or functions.
GUARD = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Deny",
            "Action": ["iam:*", "lambda:*"],
            "Resource": ["arn:aws:iam::*:role/iamwarden-*", "arn:aws:lambda:*:*:function:iamwarden-*"],
            "Condition": {"ArnNotLike": {"aws:PrincipalArn": ["arn:aws:iam::*:role/iamwarden-*"]}},
        }
    ],
}
DENY_AUDIT = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "cloudtrail:*", "Resource": "*"}]}


class Organization:
    """The organisation in moto, as the management account's administrators change it."""

    def __init__(self, account: Account) -> None:
        self.client = account.session.client("organizations", region_name="us-east-1")
        self.client.create_organization(FeatureSet="ALL")
        self.root = self.client.list_roots()["Roots"][0]["Id"]
        self.ou = self.client.create_organizational_unit(ParentId=self.root, Name="workloads")["OrganizationalUnit"][
            "Id"
        ]

    def policy(self, name: str, document: dict[str, Any]) -> str:
        created = self.client.create_policy(
            Name=name, Description=name, Type="SERVICE_CONTROL_POLICY", Content=json.dumps(document)
        )
        return str(created["Policy"]["PolicySummary"]["Id"])


@pytest.fixture
def organization(account: Account) -> Organization:
    return Organization(account)


def _event(name: str, policy_id: str, target: str | None, second: int, at: str | None = None) -> dict[str, Any]:
    event = copy.deepcopy(load_event("organizations-scp-detach.json"))
    detail = event["detail"]
    detail["eventName"] = name
    detail["requestParameters"] = {"policyId": policy_id, **({"targetId": target} if target else {})}
    event["time"] = detail["eventTime"] = at or f"2026-11-20T10:00:{second:02d}Z"
    event["id"] = f"5cc8cdda-c174-b837-f9ea-71560af780{second:02d}"
    detail["eventID"] = f"5cc8cdda-c174-b837-f9ea-71560af781{second:02d}"
    return event


def _alert(notifier: RecordingNotifier) -> Any:
    finding = notifier.sent[-1].finding
    assert finding is not None
    return finding


def test_full_aws_access_detached_where_only_an_allow_list_without_iamwarden_is_left_is_critical(
    organization: Organization, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    compute = organization.policy("compute-only", ONLY_COMPUTE)
    organization.client.attach_policy(PolicyId=compute, TargetId=organization.ou)
    organization.client.detach_policy(PolicyId="p-FullAWSAccess", TargetId=organization.ou)

    result = enforcer.handle(_event("DetachPolicy", "p-FullAWSAccess", organization.ou, 1))

    [finding] = result["findings"]
    assert finding["outcome"] == Outcome.ALERTED
    alert = _alert(notifier)
    assert (alert.severity.value, alert.plan, alert.needs_context) == ("critical", (), ())
    assert f"compute-only ({compute})" in alert.reason
    assert "cloudtrail:DescribeTrails" in alert.reason
    assert f"attach-policy --policy-id p-FullAWSAccess --target-id {organization.ou}" in alert.reason


def test_full_aws_access_detached_where_an_allow_list_lets_iamwarden_through_is_compliant(
    organization: Organization, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    allowed = organization.policy("with-iamwarden", WITH_IAMWARDEN)
    organization.client.attach_policy(PolicyId=allowed, TargetId=organization.ou)
    organization.client.detach_policy(PolicyId="p-FullAWSAccess", TargetId=organization.ou)

    result = enforcer.handle(_event("DetachPolicy", "p-FullAWSAccess", organization.ou, 2))

    assert (result["verdict"], result["findings"], notifier.sent) == ("compliant", [], [])


def test_a_policy_written_before_iamwarden_watched_is_read_kept_and_dropped_when_deleted(
    organization: Organization, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    blinding = organization.policy("audit-noise", DENY_AUDIT)
    organization.client.attach_policy(PolicyId=blinding, TargetId=organization.ou)
    enforcer.handle(_event("AttachPolicy", blinding, organization.ou, 3))
    assert _alert(notifier).severity.value == "critical"  # read live

    organization.client.detach_policy(PolicyId=blinding, TargetId=organization.ou)
    organization.client.delete_policy(PolicyId=blinding)
    # The live read is dated by the read (now), so only events after it may fall back on it.
    later = [(datetime.now(UTC) + timedelta(seconds=n)).strftime("%Y-%m-%dT%H:%M:%SZ") for n in (2, 3, 4)]
    enforcer.handle(_event("AttachPolicy", blinding, organization.root, 4, later[0]))
    assert _alert(notifier).severity.value == "critical"  # the read kept judges it: it can no longer be read

    deleted = enforcer.handle(_event("DeletePolicy", blinding, None, 5, later[1]))
    assert deleted["verdict"] == "compliant"  # it guarded nothing
    enforcer.handle(_event("AttachPolicy", blinding, organization.root, 6, later[2]))
    unknown = _alert(notifier)
    assert unknown.severity.value == "medium"  # dropped, and gone from Organizations
    assert "DescribePolicy failed" in unknown.needs_context[0]


# The whole path (scplevels-s11): moto answers ListParents, ListPoliciesForTarget, ListPolicies and MoveAccount.

WITHOUT_TRAILS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "NotAction": "cloudtrail:*", "Resource": "*"}],
}


def _moved(account: str, source: str, destination: str, second: int) -> dict[str, Any]:
    event = copy.deepcopy(load_event("organizations-account-moved.json"))
    event["detail"]["requestParameters"] = {
        "accountId": account,
        "sourceParentId": source,
        "destinationParentId": destination,
    }
    event["time"] = event["detail"]["eventTime"] = f"2026-11-20T10:01:{second:02d}Z"
    event["id"] = f"5cc8cdda-c174-b837-f9ea-71560af782{second:02d}"
    event["detail"]["eventID"] = f"5cc8cdda-c174-b837-f9ea-71560af783{second:02d}"
    return event


def _team_and_account(organization: Organization) -> tuple[str, str]:
    """An OU nested under ``workloads``, and a member account (still under the root)."""
    team = organization.client.create_organizational_unit(ParentId=organization.ou, Name="team")["OrganizationalUnit"][
        "Id"
    ]
    created = organization.client.create_account(Email="member@example.com", AccountName="member")
    return str(team), str(created["CreateAccountStatus"]["AccountId"])


def test_an_account_moved_under_an_ou_whose_parent_is_an_allow_list_without_iamwarden_is_critical(
    organization: Organization, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """The destination (``team``) keeps FullAWSAccess; its parent (``workloads``) allows everything but CloudTrail."""
    team, member = _team_and_account(organization)
    no_trails = organization.policy("no-trails", WITHOUT_TRAILS)
    organization.client.attach_policy(PolicyId=no_trails, TargetId=organization.ou)
    organization.client.detach_policy(PolicyId="p-FullAWSAccess", TargetId=organization.ou)
    organization.client.move_account(AccountId=member, SourceParentId=organization.root, DestinationParentId=team)

    result = enforcer.handle(_moved(member, organization.root, team, 1))

    [finding] = result["findings"]
    assert finding["outcome"] == Outcome.ALERTED
    alert = _alert(notifier)
    assert (alert.severity.value, alert.plan, alert.needs_context) == ("critical", (), ())
    assert f"no service control policy attached to {organization.ou} (no-trails ({no_trails})) allows" in alert.reason
    assert "cloudtrail:DescribeTrails" in alert.reason


def test_an_account_moved_under_ous_that_all_allow_iamwarden_is_compliant(
    organization: Organization, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    team, member = _team_and_account(organization)
    no_trails = organization.policy("no-trails", WITHOUT_TRAILS)
    organization.client.attach_policy(PolicyId=no_trails, TargetId=organization.ou)  # FullAWSAccess stays beside it
    organization.client.move_account(AccountId=member, SourceParentId=organization.root, DestinationParentId=team)

    result = enforcer.handle(_moved(member, organization.root, team, 2))

    assert (result["verdict"], result["findings"], notifier.sent) == ("compliant", [], [])


def test_an_account_moved_under_an_rcp_that_denies_assuming_roles_is_critical(
    organization: Organization, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Review-scp F4: an RCP on the destination that denies sts:AssumeRole keeps IAM Warden out of the account's
    member role; the SCPs alone (FullAWSAccess everywhere) would pass the move."""
    team, member = _team_and_account(organization)
    organization.client.enable_policy_type(RootId=organization.root, PolicyType="RESOURCE_CONTROL_POLICY")
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole", "Resource": "*"}],
    }
    no_assume = organization.client.create_policy(
        Name="no-assume", Description="no-assume", Type="RESOURCE_CONTROL_POLICY", Content=json.dumps(document)
    )["Policy"]["PolicySummary"]["Id"]
    organization.client.attach_policy(PolicyId=no_assume, TargetId=team)
    organization.client.move_account(AccountId=member, SourceParentId=organization.root, DestinationParentId=team)

    result = enforcer.handle(_moved(member, organization.root, team, 3))

    [finding] = result["findings"]
    assert finding["outcome"] == Outcome.ALERTED
    alert = _alert(notifier)
    assert (alert.severity.value, alert.plan, alert.needs_context) == ("critical", (), ())
    assert f"resource control policy no-assume ({no_assume}) attached to {team} denies" in alert.reason
    assert "sts:AssumeRole" in alert.reason


def test_a_policy_type_disabled_where_a_guard_exists_is_high(
    organization: Organization, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    guard = organization.policy("guard-iamwarden", GUARD)
    event = copy.deepcopy(load_event("organizations-scp-type-disabled.json"))
    event["detail"]["requestParameters"] = {"rootId": organization.root, "policyType": "SERVICE_CONTROL_POLICY"}

    enforcer.handle(event)

    alert = _alert(notifier)
    assert alert.severity.value == "high"
    assert f"guard-iamwarden ({guard}), which guards IAM Warden's roles" in alert.reason


def test_a_detach_that_leaves_its_level_allowing_iamwarden_under_a_parent_that_does_not_is_high(
    organization: Organization, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """``team`` keeps an allow-list with what IAM Warden needs; ``workloads`` above it already lacks CloudTrail."""
    team, _ = _team_and_account(organization)
    no_trails = organization.policy("no-trails", WITHOUT_TRAILS)
    organization.client.attach_policy(PolicyId=no_trails, TargetId=organization.ou)
    organization.client.detach_policy(PolicyId="p-FullAWSAccess", TargetId=organization.ou)
    allowed = organization.policy("with-iamwarden", WITH_IAMWARDEN)
    organization.client.attach_policy(PolicyId=allowed, TargetId=team)
    organization.client.detach_policy(PolicyId="p-FullAWSAccess", TargetId=team)

    enforcer.handle(_event("DetachPolicy", "p-FullAWSAccess", team, 7))

    alert = _alert(notifier)
    assert (alert.severity.value, alert.needs_context) == ("high", ())
    assert f"attached to {organization.ou} (no-trails ({no_trails})) allows" in alert.reason
    assert "not by this change" in alert.reason
