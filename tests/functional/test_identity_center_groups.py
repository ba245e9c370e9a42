"""identity-center-group-admin end to end: the enforcer as Lambda wires it, against moto's sso-admin and identitystore.

moto knows Identity Center's instances, permission sets, assignments and group memberships; it lacks
``GetPermissionsBoundaryForPermissionSet``, which is answered ("no boundary", as Identity Center answers a set
without one) through botocore's before-call hook on the enforcer's own client; its ``DescribeGroupMembership``
gives no ``CreatedAt``, which the console's record is judged by, so an after-call hook adds it as Identity Store
answers. Undo runs with ``iamwarden undo``'s executor.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders

from iamwarden.app.service import EnforcerService
from iamwarden.domain.findings import Outcome
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier

OPERATOR = f"arn:aws:iam::{HOME_ACCOUNT}:user/secops"
REGION = "eu-west-1"
SAMPLE = "identitystore-add-user-to-admin-group.json"
RULE = "identity-center-group-admin"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"


class IdentityCenter:
    """moto's organisation instance in eu-west-1, its identity store, one group and two users in it."""

    def __init__(self, account: Account) -> None:
        self.sso = account.session.client("sso-admin", region_name=REGION)
        self.store = account.session.client("identitystore", region_name=REGION)
        [instance] = self.sso.list_instances()["Instances"]
        self.instance: str = instance["InstanceArn"]
        self.store_id: str = instance["IdentityStoreId"]
        self.group: str = self.store.create_group(IdentityStoreId=self.store_id, DisplayName="platform")["GroupId"]
        self.mallory = self._user("mallory")
        self.alice = self._user("alice")
        self._join(self.alice)

    def _user(self, name: str) -> str:
        user: str = self.store.create_user(
            IdentityStoreId=self.store_id,
            UserName=name,
            DisplayName=name,
            Name={"GivenName": name, "FamilyName": "Example"},
        )["UserId"]
        return user

    def _join(self, user: str) -> str:
        membership: str = self.store.create_group_membership(
            IdentityStoreId=self.store_id, GroupId=self.group, MemberId={"UserId": user}
        )["MembershipId"]
        return membership

    def assign(self, managed: str, inline: str = "") -> str:
        """A permission set holding ``managed`` (and ``inline``), assigned to the group in 444455556666."""
        arn: str = self.sso.create_permission_set(InstanceArn=self.instance, Name="GroupSet")["PermissionSet"][
            "PermissionSetArn"
        ]
        self.sso.attach_managed_policy_to_permission_set(
            InstanceArn=self.instance, PermissionSetArn=arn, ManagedPolicyArn=managed
        )
        if inline:
            self.sso.put_inline_policy_to_permission_set(
                InstanceArn=self.instance, PermissionSetArn=arn, InlinePolicy=inline
            )
        self.sso.create_account_assignment(
            InstanceArn=self.instance,
            TargetId="444455556666",
            TargetType="AWS_ACCOUNT",
            PermissionSetArn=arn,
            PrincipalType="GROUP",
            PrincipalId=self.group,
        )
        return arn

    def members(self) -> set[str]:
        listed = self.store.list_group_memberships(IdentityStoreId=self.store_id, GroupId=self.group)
        return {membership["MemberId"]["UserId"] for membership in listed["GroupMemberships"]}

    def mallory_joins(self) -> dict[str, Any]:
        """Mallory is added to the group, and the event CloudTrail records for it."""
        membership = self._join(self.mallory)
        event = load_event(SAMPLE)
        detail = event["detail"]
        detail["requestParameters"] = {
            "identityStoreId": self.store_id,
            "groupId": self.group,
            "memberId": {"userId": self.mallory},
        }
        detail["responseElements"] = {"membershipId": membership, "identityStoreId": self.store_id}
        return event


def _no_boundary(enforcer: EnforcerService) -> None:
    """moto lacks GetPermissionsBoundaryForPermissionSet: answer it as Identity Center answers a set without one."""

    def none(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        error = {"Code": "ResourceNotFoundException", "Message": "no permissions boundary"}
        return AWSResponse("https://sso.eu-west-1.amazonaws.com/", 404, HTTPHeaders(), None), {"Error": error}

    client = enforcer.executor.clients.client("sso-admin", HOME_ACCOUNT, REGION)
    client.meta.events.register("before-call.sso-admin.GetPermissionsBoundaryForPermissionSet", none)


@pytest.fixture
def center(account: Account, enforcer: EnforcerService) -> IdentityCenter:
    account.set(f"rules/{RULE}/mode", "remediate")
    _no_boundary(enforcer)
    return IdentityCenter(account)


def _only(result: dict[str, Any]) -> dict[str, Any]:
    [finding] = result["findings"]
    return dict(finding)


def test_a_user_added_to_a_group_holding_admin_is_removed_exactly_and_undo_adds_them_again(
    center: IdentityCenter, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    admin_set = center.assign(ADMIN)
    event = center.mallory_joins()
    assert center.members() == {center.alice, center.mallory}

    finding = _only(enforcer.handle(event))

    assert finding["outcome"] == Outcome.REMEDIATED
    assert finding["done"] == [f"removed user {center.mallory} from Identity Center group {center.group}"]
    assert center.members() == {center.alice}, "only the membership the event created"
    [alert] = notifier.sent
    assert alert.finding is not None
    assert alert.finding.rule_id == RULE
    assert f"{admin_set} (in account 444455556666), which grants AdministratorAccess" in alert.finding.reason

    undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)

    assert list(undo.restored) == [f"added user {center.mallory} to Identity Center group {center.group} again"]
    assert center.members() == {center.alice, center.mallory}


def test_a_group_holding_a_read_only_set_keeps_its_new_member(
    center: IdentityCenter, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    read = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]}
    center.assign(READ_ONLY, json.dumps(read))

    result = enforcer.handle(center.mallory_joins())

    assert result["verdict"] == "compliant"
    assert result["findings"] == []
    assert notifier.sent == []
    assert center.members() == {center.alice, center.mallory}


def test_an_identity_store_no_instance_holds_is_alerted_and_nothing_is_removed(
    center: IdentityCenter, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    center.assign(ADMIN)
    event = center.mallory_joins()
    event["detail"]["requestParameters"]["identityStoreId"] = "d-0000000000"

    finding = _only(enforcer.handle(event))

    assert finding["outcome"] == Outcome.ALERTED, "never removed on a guess"
    assert center.members() == {center.alice, center.mallory}
    [alert] = notifier.sent
    assert alert.finding is not None
    assert "which Identity Center instance holds identity store d-0000000000" in alert.finding.needs_context[0]


def test_a_membership_already_removed_is_done_with_nothing_to_do(
    center: IdentityCenter, enforcer: EnforcerService
) -> None:
    center.assign(ADMIN)
    event = center.mallory_joins()
    membership = event["detail"]["responseElements"]["membershipId"]
    center.store.delete_group_membership(IdentityStoreId=center.store_id, MembershipId=membership)

    finding = _only(enforcer.handle(event))

    assert finding["outcome"] == Outcome.REMEDIATED
    assert finding["done"] == []
    assert center.members() == {center.alice}


# --- the console's record (sso-directory AddMemberToGroup), and a delegated administrator ------------------------

CONSOLE = "sso-directory-add-user-to-admin-group.json"
SCIM = "identitystore-scim-add-user-to-admin-group.json"
MANAGEMENT = "999988887777"


def _console_event(center: IdentityCenter) -> dict[str, Any]:
    """Mallory is added in the console: the record names the user as ``member.memberId`` and no membership."""
    center._join(center.mallory)
    event = load_event(CONSOLE)
    event["detail"]["requestParameters"] = {
        "identityStoreId": center.store_id,
        "groupId": center.group,
        "member": {"memberId": center.mallory},
    }
    return event


def _created_at(enforcer: EnforcerService, created: datetime) -> None:
    """moto's DescribeGroupMembership gives no CreatedAt: add it to the enforcer's client, as Identity Store answers."""

    def add(parsed: dict[str, Any], **_: Any) -> None:
        parsed["CreatedAt"] = created

    client = enforcer.executor.clients.client("identitystore", HOME_ACCOUNT, REGION)
    client.meta.events.register("after-call.identitystore.DescribeGroupMembership", add)


def _event_time(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["detail"]["eventTime"])


def test_a_console_membership_into_an_admin_group_is_removed_exactly_and_undo_adds_it_again(
    center: IdentityCenter, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    admin_set = center.assign(ADMIN)
    event = _console_event(center)
    _created_at(enforcer, _event_time(event) + timedelta(milliseconds=420))

    finding = _only(enforcer.handle(event))

    assert finding["outcome"] == Outcome.REMEDIATED
    assert finding["done"] == [f"removed user {center.mallory} from Identity Center group {center.group}"]
    assert center.members() == {center.alice}, "only the membership the console made"
    [alert] = notifier.sent
    assert alert.finding is not None
    assert f"{admin_set} (in account 444455556666), which grants AdministratorAccess" in alert.finding.reason

    undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)

    assert list(undo.restored) == [f"added user {center.mallory} to Identity Center group {center.group} again"]
    assert center.members() == {center.alice, center.mallory}


def test_a_console_event_over_a_membership_made_before_it_removes_nothing(
    center: IdentityCenter, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    center.assign(ADMIN)
    event = _console_event(center)
    _created_at(enforcer, _event_time(event) - timedelta(days=2))

    finding = _only(enforcer.handle(event))

    assert finding["outcome"] == Outcome.ALERTED, "never removed on a guess"
    assert center.members() == {center.alice, center.mallory}
    [alert] = notifier.sent
    assert alert.finding is not None
    [unknown] = alert.finding.needs_context
    assert unknown.startswith("whether the event created membership")
    assert "before the event" in unknown


def _delegated(enforcer: EnforcerService, provisioned: list[str]) -> None:
    """The instance belongs to the management account; Identity Center refuses ListAccountAssignmentsForPrincipal.

    moto answers ListAccountsForProvisionedPermissionSet only after ProvisionPermissionSet (with the caller's
    account), where AWS provisions a set to each account it is assigned in: the hook answers ``provisioned``.
    """
    client = enforcer.executor.clients.client("sso-admin", HOME_ACCOUNT, REGION)

    def owned_by_the_management_account(parsed: dict[str, Any], **_: Any) -> None:
        for instance in parsed["Instances"]:
            instance["OwnerAccountId"] = MANAGEMENT

    def refused(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        error = {"Code": "AccessDeniedException", "Message": "not the management account"}
        return AWSResponse("https://sso.eu-west-1.amazonaws.com/", 400, HTTPHeaders(), None), {"Error": error}

    def accounts(parsed: dict[str, Any], **_: Any) -> None:
        parsed["AccountIds"] = provisioned

    client.meta.events.register("after-call.sso-admin.ListInstances", owned_by_the_management_account)
    client.meta.events.register("before-call.sso-admin.ListAccountAssignmentsForPrincipal", refused)
    client.meta.events.register("after-call.sso-admin.ListAccountsForProvisionedPermissionSet", accounts)


def test_in_a_delegated_administrator_an_admin_set_found_set_by_set_removes_the_membership(
    center: IdentityCenter, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    center.assign(ADMIN)
    event = center.mallory_joins()
    _delegated(enforcer, [MANAGEMENT, "444455556666"])

    finding = _only(enforcer.handle(event))

    assert finding["outcome"] == Outcome.REMEDIATED
    assert center.members() == {center.alice}
    [alert] = notifier.sent
    assert alert.finding is not None
    assert alert.finding.needs_context == ()


def test_in_a_delegated_administrator_a_group_found_nowhere_is_alerted_and_nothing_is_removed(
    center: IdentityCenter, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """The set is provisioned to the management account only: what the group holds there stays unknown."""
    center.assign(ADMIN)
    event = center.mallory_joins()
    _delegated(enforcer, [MANAGEMENT])

    finding = _only(enforcer.handle(event))

    assert finding["outcome"] == Outcome.ALERTED
    assert center.members() == {center.alice, center.mallory}
    [alert] = notifier.sent
    assert alert.finding is not None
    [unknown] = alert.finding.needs_context
    assert unknown.startswith(
        f"what group {center.group} is assigned in the management account {MANAGEMENT} (a delegated administrator "
        "may not read the permission sets provisioned there)"
    )


def _scim_event(center: IdentityCenter, members: Any) -> dict[str, Any]:
    """Mallory is added by SCIM provisioning: the record names the group as ``id`` and no identity store."""
    center._join(center.mallory)
    event = load_event(SCIM)
    event["detail"]["requestParameters"]["id"] = center.group
    event["detail"]["requestParameters"]["httpBody"]["operations"] = [
        {"op": "add", "path": "members", "value": members}
    ]
    return event


def test_a_scim_membership_into_an_admin_group_is_removed_exactly_and_undo_adds_it_again(
    center: IdentityCenter, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    admin_set = center.assign(ADMIN)
    event = _scim_event(center, [{"value": center.mallory}])
    _created_at(enforcer, _event_time(event) + timedelta(milliseconds=300))

    finding = _only(enforcer.handle(event))

    assert finding["outcome"] == Outcome.REMEDIATED
    assert finding["done"] == [f"removed user {center.mallory} from Identity Center group {center.group}"]
    assert center.members() == {center.alice}, "only the membership SCIM made"
    [alert] = notifier.sent
    assert alert.finding is not None
    assert f"{admin_set} (in account 444455556666), which grants AdministratorAccess" in alert.finding.reason
    assert "through SCIM" in alert.finding.reason

    undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)

    assert list(undo.restored) == [f"added user {center.mallory} to Identity Center group {center.group} again"]
    assert center.members() == {center.alice, center.mallory}


def test_a_scim_membership_whose_members_are_hidden_is_alerted_and_nothing_is_removed(
    center: IdentityCenter, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    center.assign(ADMIN)
    event = _scim_event(center, "HIDDEN_DUE_TO_SECURITY_REASONS")  # as CloudTrail records SCIM values

    finding = _only(enforcer.handle(event))

    assert finding["outcome"] == Outcome.ALERTED, "never removed on a guess"
    assert center.members() == {center.alice, center.mallory}
    [alert] = notifier.sent
    assert alert.finding is not None
    [unknown] = alert.finding.needs_context
    assert unknown.startswith(f"which users the SCIM request added to group {center.group}")
