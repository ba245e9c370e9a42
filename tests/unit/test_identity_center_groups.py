"""identity-center-group-admin: a user added to an Identity Center group judged by what the group is assigned.

The judgement reads Identity Center through a stub shaped like the sso-admin client (the functional tests run it
against moto and botocore's Stubber); the membership's removal and undo are checked on an identity store stub for
the paths moto does not take (a membership moved since, ConflictException on undo).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from iamwarden.domain.catalog import Severity
from iamwarden.domain.findings import RemediationStep, StepAction, Verdict
from iamwarden.domain.settings import Settings, load_settings
from iamwarden.guardrails.engine import judge_event
from iamwarden.guardrails.identity_center import DeleteGroupMembership
from tests.conftest import load_event

RULE = "identity-center-group-admin"
SAMPLE = "identitystore-add-user-to-admin-group.json"
STORE = "d-9067a1b2c3"
GROUP = "d1cb25d0-b061-705c-90da-b2b62e4f01f8"
USER = "94482488-3041-7026-18f3-0ecc0f8e1f4f"
MEMBERSHIP = "317b5530-f081-7005-8582-45148f0071dc"
INSTANCE = "arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6"
ADMIN_SET = "arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-0a1b2c3d4e5f6a7b"
READ_SET = "arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1b2c3d4e5f6a7b8c"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"


class AwsError(Exception):
    """Shaped like botocore's ClientError (``adapters.errors`` reads it by shape)."""

    def __init__(self, code: str, status: int = 400) -> None:
        super().__init__(code)
        self.response = {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}


class _Paginator:
    """A paginator whose pages depend on the call's arguments."""

    def __init__(self, pages: Any) -> None:
        self.pages = pages

    def paginate(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        yield from self.pages(**kwargs)


class SsoAdmin:
    """Instances, the group's assignments and what each set holds, shaped as sso-admin answers; calls recorded."""

    def __init__(
        self,
        assignments: Mapping[str, list[str]],
        sets: Mapping[str, Mapping[str, Any]],
        *,
        store: str = STORE,
        error: str | None = None,
    ) -> None:
        self.assignments = assignments
        self.sets = sets
        self.store = store
        self.error = error
        self.calls: list[str] = []

    def client(self, service: str) -> Any:
        assert service == "sso-admin"
        return self

    def get_paginator(self, operation: str) -> _Paginator:
        self.calls.append(operation)
        return _Paginator(getattr(self, f"_{operation}"))

    def _list_instances(self) -> list[dict[str, Any]]:
        other = {"InstanceArn": "arn:aws:sso:::instance/ssoins-0000000000000000", "IdentityStoreId": "d-0000000000"}
        return [{"Instances": [other]}, {"Instances": [{"InstanceArn": INSTANCE, "IdentityStoreId": self.store}]}]

    def _list_account_assignments_for_principal(self, **kwargs: str) -> list[dict[str, Any]]:
        assert kwargs == {"InstanceArn": INSTANCE, "PrincipalId": GROUP, "PrincipalType": "GROUP"}
        if self.error:
            raise AwsError(self.error, 403)
        return [
            {
                "AccountAssignments": [
                    {"AccountId": account, "PermissionSetArn": arn, "PrincipalType": "GROUP", "PrincipalId": GROUP}
                    for arn, accounts in self.assignments.items()
                    for account in accounts
                ]
            }
        ]

    def _list_managed_policies_in_permission_set(self, **ids: str) -> list[dict[str, Any]]:
        managed = self._set(ids, "managed", [])
        return [{"AttachedManagedPolicies": [{"Name": arn.rsplit("/", 1)[-1], "Arn": arn} for arn in managed]}]

    def _set(self, ids: Mapping[str, str], key: str, default: Any) -> Any:
        assert ids["InstanceArn"] == INSTANCE
        return self.sets.get(ids["PermissionSetArn"], {}).get(key, default)

    def get_inline_policy_for_permission_set(self, **ids: str) -> dict[str, Any]:
        inline = self._set(ids, "inline", "")
        return {"InlinePolicy": inline} if inline else {}

    def list_customer_managed_policy_references_in_permission_set(self, **ids: str) -> dict[str, Any]:
        references = self._set(ids, "references", [])
        return {"CustomerManagedPolicyReferences": [{"Name": name, "Path": "/"} for name in references]}

    def get_permissions_boundary_for_permission_set(self, **ids: str) -> dict[str, Any]:
        if not self._set(ids, "boundary", False):
            raise AwsError("ResourceNotFoundException", 404)
        return {"PermissionsBoundary": {"ManagedPolicyArn": READ_ONLY}}


def _judge(event: dict[str, Any], live: SsoAdmin | None = None, settings: Settings | None = None) -> Any:
    live_clients = (lambda account, region: live) if live is not None else None
    return judge_event(event, settings or Settings(), live_clients=live_clients)  # type: ignore[arg-type]


def _live(assignments: Mapping[str, list[str]], sets: Mapping[str, Mapping[str, Any]], **kwargs: Any) -> SsoAdmin:
    return SsoAdmin(assignments, sets, **kwargs)


def test_offline_a_membership_cannot_be_judged() -> None:
    judgement = _judge(load_event(SAMPLE))
    assert judgement.verdict is Verdict.IGNORED
    assert judgement.findings == ()
    assert f"which permission sets Identity Center group {GROUP} is assigned" in judgement.reason


def test_a_user_added_to_a_group_holding_an_admin_set_is_critical_and_its_membership_is_deleted_exactly() -> None:
    live = _live({ADMIN_SET: ["444455556666", "555566667777"]}, {ADMIN_SET: {"managed": [ADMIN, READ_ONLY]}})
    [finding] = _judge(load_event(SAMPLE), live).findings
    assert (finding.rule_id, finding.severity) == (RULE, Severity.CRITICAL)
    assert finding.resource_arn == f"arn:aws:identitystore:::group/{GROUP}"
    assert finding.needs_context == ()
    assert f"added user {USER} to Identity Center group {GROUP}" in finding.reason
    assert f"{ADMIN_SET} (in accounts 444455556666, 555566667777), which grants AdministratorAccess" in finding.reason
    [step] = finding.plan
    assert step.action == StepAction.DELETE_GROUP_MEMBERSHIP
    assert step.target == f"arn:aws:identitystore:::membership/{MEMBERSHIP}"
    assert dict(step.parameters) == {
        "identity_store_id": STORE,
        "membership_id": MEMBERSHIP,
        "group_id": GROUP,
        "user_id": USER,
    }


def test_an_escalating_inline_policy_of_an_assigned_set_makes_the_group_admin_too() -> None:
    inline = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": ["iam:AttachRolePolicy", "iam:AttachUserPolicy"], "Resource": "*"}
            ],
        }
    )
    live = _live({READ_SET: ["444455556666"]}, {READ_SET: {"managed": [READ_ONLY], "inline": inline}})
    [finding] = _judge(load_event(SAMPLE), live).findings
    assert finding.severity is Severity.CRITICAL
    assert "inline: escalation" in finding.reason
    assert finding.needs_context == ()


def test_a_group_holding_only_read_only_sets_is_compliant() -> None:
    statement = {"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}
    read = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    live = _live({READ_SET: ["444455556666"]}, {READ_SET: {"managed": [READ_ONLY], "inline": read}})
    judgement = _judge(load_event(SAMPLE), live)
    assert judgement.verdict is Verdict.COMPLIANT
    assert f"no permission set assigned to Identity Center group {GROUP} grants admin" in judgement.reason


def test_a_group_without_assignments_is_compliant_and_no_set_is_read() -> None:
    live = _live({}, {})
    judgement = _judge(load_event(SAMPLE), live)
    assert judgement.verdict is Verdict.COMPLIANT
    assert f"Identity Center group {GROUP} holds no account assignment" in judgement.reason
    assert live.calls == ["list_instances", "list_account_assignments_for_principal"]


def test_an_unknown_identity_store_is_alerted_with_what_is_unknown_never_remediated() -> None:
    live = _live({ADMIN_SET: ["444455556666"]}, {ADMIN_SET: {"managed": [ADMIN]}}, store="d-1111111111")
    [finding] = _judge(load_event(SAMPLE), live).findings
    assert finding.severity is Severity.MEDIUM
    assert finding.plan, "the alert says what remediation would do"
    assert finding.needs_context == (
        f"which Identity Center instance holds identity store {STORE} (ListInstances in account 111122223333, "
        f"eu-west-1, names none), and so what group {GROUP} is assigned",
    )


def test_an_admin_set_narrowed_by_a_boundary_is_alerted_with_the_boundary_unknown() -> None:
    live = _live({ADMIN_SET: ["444455556666"]}, {ADMIN_SET: {"managed": [ADMIN], "boundary": True}})
    [finding] = _judge(load_event(SAMPLE), live).findings
    assert finding.severity is Severity.CRITICAL
    assert finding.needs_context == (f"how far the permissions boundary of permission set {ADMIN_SET} narrows it",)


def test_one_certain_admin_set_settles_it_whatever_another_leaves_unknown() -> None:
    live = _live(
        {ADMIN_SET: ["444455556666"], READ_SET: ["444455556666"]},
        {ADMIN_SET: {"managed": [ADMIN]}, READ_SET: {"managed": [ADMIN], "boundary": True}},
    )
    [finding] = _judge(load_event(SAMPLE), live).findings
    assert finding.needs_context == ()
    assert ADMIN_SET in finding.reason
    assert READ_SET in finding.reason


def test_sets_that_cannot_be_judged_are_alerted_medium_with_what_is_unknown() -> None:
    live = _live({READ_SET: ["444455556666"]}, {READ_SET: {"managed": [READ_ONLY], "references": ["org-admin"]}})
    [finding] = _judge(load_event(SAMPLE), live).findings
    assert finding.severity is Severity.MEDIUM
    assert "whose assigned permission sets could not all be judged" in finding.reason
    assert finding.needs_context == (
        f"what the customer-managed policies org-admin of permission set {READ_SET} grant (each account holds its "
        "own policy of that name)",
    )


def test_a_set_named_in_admin_permission_sets_is_admin_without_reading_it() -> None:
    settings = load_settings({"rules": {"permission-set-admin": {"admin_permission_sets": [ADMIN_SET]}}})
    live = _live({ADMIN_SET: ["444455556666"]}, {})
    [finding] = _judge(load_event(SAMPLE), live, settings).findings
    assert f"the administrator permission set {ADMIN_SET}" in finding.reason
    assert finding.needs_context == ()
    assert "list_managed_policies_in_permission_set" not in live.calls


def test_a_record_without_the_membership_id_is_alert_only() -> None:
    event = copy.deepcopy(load_event(SAMPLE))
    event["detail"]["responseElements"] = None
    live = _live({ADMIN_SET: ["444455556666"]}, {ADMIN_SET: {"managed": [ADMIN]}})
    [finding] = _judge(event, live).findings
    assert finding.plan == ()
    assert finding.needs_context == ("which membership the event created (its responseElements carry no membershipId)",)


def test_the_identity_store_may_be_named_by_its_arn() -> None:
    event = copy.deepcopy(load_event(SAMPLE))
    arn = f"arn:aws:identitystore::111122223333:identitystore/{STORE}"
    event["detail"]["requestParameters"]["identityStoreId"] = arn
    live = _live({ADMIN_SET: ["444455556666"]}, {ADMIN_SET: {"managed": [ADMIN]}})
    [finding] = _judge(event, live).findings
    assert (finding.severity, finding.needs_context) == (Severity.CRITICAL, ())


def test_an_unreadable_group_is_no_verdict_and_nothing_is_removed() -> None:
    live = _live({ADMIN_SET: ["444455556666"]}, {}, error="AccessDeniedException")
    judgement = _judge(load_event(SAMPLE), live)
    assert judgement.verdict is Verdict.IGNORED
    [unreadable] = judgement.unjudged
    assert unreadable.plan == ()
    assert "AccessDeniedException" in unreadable.reason


@pytest.mark.parametrize(
    ("member", "message"),
    [(None, "memberId.userId"), ({"userId": ""}, "memberId.userId"), ({"groupId": GROUP}, "memberId.userId")],
)
def test_a_record_without_a_user_is_refused_as_malformed(member: Any, message: str) -> None:
    event = copy.deepcopy(load_event(SAMPLE))
    event["detail"]["requestParameters"]["memberId"] = member
    judgement = _judge(event, _live({}, {}))
    assert judgement.verdict is Verdict.INVALID
    assert message in judgement.reason


def test_an_admin_set_assigned_to_a_group_is_judged_as_one_assigned_to_a_user() -> None:
    """permission-set-admin: CreateAccountAssignment with PrincipalType GROUP deletes exactly that assignment."""
    event = copy.deepcopy(load_event("sso-assign-admin-permission-set.json"))
    event["detail"]["requestParameters"].update({"principalType": "GROUP", "principalId": GROUP})
    settings = load_settings({"rules": {"permission-set-admin": {"admin_permission_sets": [ADMIN_SET]}}})
    [finding] = judge_event(event, settings).findings
    assert finding.rule_id == "permission-set-admin"
    assert f"to group {GROUP} in account 444455556666" in finding.reason
    [step] = finding.plan
    assert step.action == StepAction.DELETE_ACCOUNT_ASSIGNMENT
    assert (step.parameters["principal_type"], step.parameters["principal_id"]) == ("GROUP", GROUP)


# --- removing the membership, and undo -------------------------------------------------------------------------


class IdentityStore:
    """One identity store's memberships, by id; each call recorded."""

    def __init__(self, memberships: dict[str, tuple[str, str]], conflict: bool = False) -> None:
        self.memberships = memberships
        self.conflict = conflict
        self.calls: list[str] = []

    def client(self, service: str) -> Any:
        assert service == "identitystore"
        return self

    def describe_group_membership(self, IdentityStoreId: str, MembershipId: str) -> dict[str, Any]:
        self.calls.append("DescribeGroupMembership")
        if MembershipId not in self.memberships:
            raise AwsError("ResourceNotFoundException", 404)
        group, user = self.memberships[MembershipId]
        return {"MembershipId": MembershipId, "GroupId": group, "MemberId": {"UserId": user}}

    def delete_group_membership(self, IdentityStoreId: str, MembershipId: str) -> None:
        self.calls.append("DeleteGroupMembership")
        if MembershipId not in self.memberships:
            raise AwsError("ResourceNotFoundException", 404)
        del self.memberships[MembershipId]

    def get_group_membership_id(self, **ids: Any) -> dict[str, Any]:
        self.calls.append("GetGroupMembershipId")
        for membership, pair in self.memberships.items():
            if pair == (ids["GroupId"], ids["MemberId"]["UserId"]):
                return {"MembershipId": membership, "IdentityStoreId": ids["IdentityStoreId"]}
        raise AwsError("ResourceNotFoundException", 404)

    def create_group_membership(self, **ids: Any) -> dict[str, Any]:
        self.calls.append("CreateGroupMembership")
        if self.conflict:
            raise AwsError("ConflictException", 409)
        self.memberships["new-membership"] = (ids["GroupId"], ids["MemberId"]["UserId"])
        return {"MembershipId": "new-membership", "IdentityStoreId": ids["IdentityStoreId"]}


class _Run:
    def __init__(self, aws: IdentityStore) -> None:
        self.aws = aws


STEP = RemediationStep(
    DeleteGroupMembership.action,
    f"arn:aws:identitystore:::membership/{MEMBERSHIP}",
    {"identity_store_id": STORE, "membership_id": MEMBERSHIP, "group_id": GROUP, "user_id": USER},
    "delete the membership",
)
ACTION = DeleteGroupMembership()


def test_the_membership_is_deleted_and_undo_adds_the_user_again() -> None:
    store = IdentityStore({MEMBERSHIP: (GROUP, USER), "other": (GROUP, "someone-else")})
    before = ACTION.capture(store, STEP)  # type: ignore[arg-type]
    done: list[str] = []
    ACTION.apply(_Run(store), STEP, before, done)  # type: ignore[arg-type]
    assert before == {"member": True}
    assert done == [f"removed user {USER} from Identity Center group {GROUP}"]
    assert store.memberships == {"other": (GROUP, "someone-else")}, "exactly that membership"
    assert ACTION.undo(store, STEP, before) == [f"added user {USER} to Identity Center group {GROUP} again"]  # type: ignore[arg-type]
    assert store.memberships["new-membership"] == (GROUP, USER)


def test_a_membership_gone_or_moved_since_is_left_alone() -> None:
    for memberships in ({}, {MEMBERSHIP: ("another-group", USER)}):
        store = IdentityStore(dict(memberships))
        before = ACTION.capture(store, STEP)  # type: ignore[arg-type]
        done: list[str] = []
        ACTION.apply(_Run(store), STEP, before, done)  # type: ignore[arg-type]
        assert (before, done) == ({"member": False}, [])
        assert "DeleteGroupMembership" not in store.calls
        assert ACTION.undo(store, STEP, before) == []  # type: ignore[arg-type]


def test_a_membership_deleted_between_capture_and_apply_counts_as_done() -> None:
    store = IdentityStore({})
    done: list[str] = []
    ACTION.apply(_Run(store), STEP, {"member": True}, done)  # type: ignore[arg-type]
    assert done == []
    assert store.calls == ["DeleteGroupMembership"]


def test_undo_adds_nothing_when_the_user_is_a_member_again_or_the_store_says_so() -> None:
    again = IdentityStore({"readded": (GROUP, USER)})
    assert ACTION.undo(again, STEP, {"member": True}) == []  # type: ignore[arg-type]
    assert "CreateGroupMembership" not in again.calls
    conflict = IdentityStore({}, conflict=True)
    assert ACTION.undo(conflict, STEP, {"member": True}) == []  # type: ignore[arg-type]
    assert conflict.calls == ["GetGroupMembershipId", "CreateGroupMembership"]


def test_undo_raises_what_it_cannot_read() -> None:
    class Denied(IdentityStore):
        def get_group_membership_id(self, **ids: Any) -> dict[str, Any]:
            raise AwsError("AccessDeniedException", 403)

    with pytest.raises(AwsError):
        ACTION.undo(Denied({}), STEP, {"member": True})  # type: ignore[arg-type]
