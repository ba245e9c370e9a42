"""identity-center-group-admin on the console's record, and Identity Center read from a delegated administrator.

The Identity Center console records a membership as ``sso-directory:AddMemberToGroup`` (events/README.md cites the
published record): ``member.memberId``, no ``responseElements``, so the membership is read live and removed only
when Identity Store created it in the event's second. Read from a delegated administrator account (the instance's
``OwnerAccountId`` is the management account), Identity Center refuses some reads: those are alerted with
``needs_context`` saying so, never remediated. Identity Center is played by the stubs of
tests/unit/test_identity_center_groups.py (the functional tests run the same on moto).
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from iamwarden.adapters.errors import TransientAwsError
from iamwarden.domain.catalog import Severity
from iamwarden.domain.findings import StepAction, Verdict
from iamwarden.domain.settings import Settings, load_settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event
from tests.unit.test_identity_center_groups import (
    ADMIN,
    ADMIN_SET,
    GROUP,
    INSTANCE,
    READ_ONLY,
    READ_SET,
    STORE,
    USER,
    AwsError,
    SsoAdmin,
)

RULE = "identity-center-group-admin"
CONSOLE = "sso-directory-add-user-to-admin-group.json"
API = "identitystore-add-user-to-admin-group.json"
HOME = "111122223333"
MANAGEMENT = "999988887777"
#: The console sample's eventTime, 2026-11-20T10:14:31Z.
EVENT_TIME = datetime(2026, 11, 20, 10, 14, 31, tzinfo=UTC)
MEMBERSHIP = "417c6641-a192-7016-9693-56259f1182ed"
REFUSED = f"a delegated administrator of Identity Center instance {INSTANCE}, which belongs to the management account"


class Owned(SsoAdmin):
    """An instance whose ``OwnerAccountId`` is ``owner``; reads of the sets in ``refused`` fail with ``code``."""

    def __init__(self, *args: Any, owner: str, refused: tuple[str, ...] = (), code: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner
        self.refused = refused
        self.code = code

    def _list_instances(self) -> list[dict[str, Any]]:
        pages = super()._list_instances()
        for page in pages:
            for instance in page["Instances"]:
                instance["OwnerAccountId"] = self.owner
        return pages

    # What a delegated administrator reads instead of ListAccountAssignmentsForPrincipal (set by set).
    def _list_permission_sets(self, **ids: str) -> list[dict[str, Any]]:
        assert ids == {"InstanceArn": INSTANCE}
        return [{"PermissionSets": sorted(self.assignments)}]

    def _list_accounts_for_provisioned_permission_set(self, **ids: str) -> list[dict[str, Any]]:
        return [{"AccountIds": [self.owner, *self.assignments[ids["PermissionSetArn"]]]}]

    def _list_account_assignments(self, **ids: str) -> list[dict[str, Any]]:
        assert ids["AccountId"] != self.owner, "the management account's assignments are not the delegate's to read"
        found = {"AccountId": ids["AccountId"], "PermissionSetArn": ids["PermissionSetArn"]}
        return [{"AccountAssignments": [{**found, "PrincipalType": "GROUP", "PrincipalId": GROUP}]}]

    def _list_managed_policies_in_permission_set(self, **ids: str) -> list[dict[str, Any]]:
        if ids["PermissionSetArn"] in self.refused:
            raise AwsError(self.code, 400)
        return super()._list_managed_policies_in_permission_set(**ids)


class Store:
    """The identity store's answers about one user's membership of the group; calls recorded."""

    def __init__(self, created: datetime | None, *, member: bool = True, error: str | None = None) -> None:
        self.created = created
        self.member = member
        self.error = error
        self.calls: list[str] = []

    def get_group_membership_id(self, **ids: Any) -> dict[str, Any]:
        self.calls.append("GetGroupMembershipId")
        assert ids == {"IdentityStoreId": STORE, "GroupId": GROUP, "MemberId": {"UserId": USER}}
        if self.error:
            raise AwsError(self.error, 400)
        if not self.member:
            raise AwsError("ResourceNotFoundException", 404)
        return {"MembershipId": MEMBERSHIP, "IdentityStoreId": STORE}

    def describe_group_membership(self, **ids: Any) -> dict[str, Any]:
        self.calls.append("DescribeGroupMembership")
        assert ids == {"IdentityStoreId": STORE, "MembershipId": MEMBERSHIP}
        found: dict[str, Any] = {"MembershipId": MEMBERSHIP, "GroupId": GROUP, "MemberId": {"UserId": USER}}
        if self.created is not None:
            found["CreatedAt"] = self.created
        return found


class Live:
    """The enforcer's live clients of the event's account: sso-admin and identitystore."""

    def __init__(self, sso: SsoAdmin, store: Store | None = None) -> None:
        self.sso = sso
        self.store = store or Store(EVENT_TIME)

    def client(self, service: str) -> Any:
        return {"sso-admin": self.sso, "identitystore": self.store}[service]


def _judge(event: dict[str, Any], live: Live | None, settings: Settings | None = None) -> Any:
    live_clients = (lambda account, region: live) if live is not None else None
    return judge_event(event, settings or Settings(), live_clients=live_clients)  # type: ignore[arg-type]


def _admin_group(store: Store | None = None) -> Live:
    return Live(SsoAdmin({ADMIN_SET: ["444455556666"]}, {ADMIN_SET: {"managed": [ADMIN]}}), store)


# --- the console's record -------------------------------------------------------------------------------------


def test_offline_the_console_record_cannot_be_judged() -> None:
    judgement = _judge(load_event(CONSOLE), None)
    assert judgement.verdict is Verdict.IGNORED
    assert f"which permission sets Identity Center group {GROUP} is assigned" in judgement.reason


@pytest.mark.parametrize("offset", [timedelta(0), timedelta(milliseconds=350), timedelta(seconds=4, microseconds=9)])
def test_a_console_membership_made_in_the_events_second_is_removed_exactly(offset: timedelta) -> None:
    live = _admin_group(Store(EVENT_TIME + offset))
    [finding] = _judge(load_event(CONSOLE), live).findings
    assert (finding.rule_id, finding.severity, finding.needs_context) == (RULE, Severity.CRITICAL, ())
    assert f"added user {USER} to Identity Center group {GROUP}, which is assigned {ADMIN_SET}" in finding.reason
    [step] = finding.plan
    assert step.action == StepAction.DELETE_GROUP_MEMBERSHIP
    assert step.target == f"arn:aws:identitystore:::membership/{MEMBERSHIP}"
    assert dict(step.parameters) == {
        "identity_store_id": STORE,
        "membership_id": MEMBERSHIP,
        "group_id": GROUP,
        "user_id": USER,
    }
    assert live.store.calls == ["GetGroupMembershipId", "DescribeGroupMembership"]


@pytest.mark.parametrize(
    ("created", "when"),
    [
        (EVENT_TIME - timedelta(milliseconds=1), "before"),
        (EVENT_TIME - timedelta(days=30), "before"),
        (EVENT_TIME + timedelta(seconds=5), "after"),
        (EVENT_TIME + timedelta(minutes=3), "after"),
    ],
)
def test_a_membership_created_outside_the_events_second_is_alerted_never_removed(created: datetime, when: str) -> None:
    [finding] = _judge(load_event(CONSOLE), _admin_group(Store(created))).findings
    assert finding.severity is Severity.CRITICAL
    assert finding.plan == ()
    assert finding.needs_context == (
        f"whether the event created membership {MEMBERSHIP} of user {USER} in group {GROUP}: Identity Store created "
        f"it at {created.isoformat()}, {when} the event (2026-11-20T10:14:31Z)",
    )


def test_a_membership_whose_creation_time_is_not_given_is_alerted_never_removed() -> None:
    [finding] = _judge(load_event(CONSOLE), _admin_group(Store(None))).findings
    assert finding.plan == ()
    assert finding.needs_context == (
        f"whether membership {MEMBERSHIP} is the one the event created (the console's record names none, and "
        "DescribeGroupMembership gives no CreatedAt to tell)",
    )


def test_a_naive_creation_time_is_read_as_utc() -> None:
    [finding] = _judge(load_event(CONSOLE), _admin_group(Store(EVENT_TIME.replace(tzinfo=None)))).findings
    assert finding.needs_context == ()
    assert finding.plan


def test_a_user_no_longer_in_the_group_is_alerted_with_nothing_to_remove() -> None:
    [finding] = _judge(load_event(CONSOLE), _admin_group(Store(EVENT_TIME, member=False))).findings
    assert finding.plan == ()
    assert finding.needs_context == (
        f"which membership the event created: user {USER} is not a member of group {GROUP} now "
        "(GetGroupMembershipId finds none), so there is none to remove",
    )


def test_a_refused_membership_read_is_alerted_with_the_error_never_removed() -> None:
    [finding] = _judge(load_event(CONSOLE), _admin_group(Store(EVENT_TIME, error="AccessDeniedException"))).findings
    assert finding.severity is Severity.CRITICAL, "the group is still known to hold an admin set"
    assert finding.plan == ()
    [unknown] = finding.needs_context
    assert unknown.startswith("which membership the event created (the console's record names none, and ")
    assert "GetGroupMembershipId: AccessDeniedException" in unknown


def test_a_throttled_membership_read_is_raised_to_be_retried() -> None:
    with pytest.raises(TransientAwsError):
        _judge(load_event(CONSOLE), _admin_group(Store(EVENT_TIME, error="ThrottlingException")))


def test_a_group_without_admin_sets_reads_no_membership() -> None:
    live = Live(SsoAdmin({READ_SET: ["444455556666"]}, {READ_SET: {"managed": [READ_ONLY]}}))
    judgement = _judge(load_event(CONSOLE), live)
    assert judgement.verdict is Verdict.COMPLIANT
    assert live.store.calls == []


def test_an_unknown_identity_store_is_alerted_with_the_console_membership_resolved_for_the_alert() -> None:
    live = Live(SsoAdmin({ADMIN_SET: ["444455556666"]}, {}, store="d-1111111111"))
    [finding] = _judge(load_event(CONSOLE), live).findings
    assert finding.severity is Severity.MEDIUM
    assert finding.plan, "the alert says what remediation would do"
    assert finding.needs_context[0].startswith(f"which Identity Center instance holds identity store {STORE}")


@pytest.mark.parametrize("member", [None, {}, {"memberId": ""}, {"userId": USER}, "94482488"])
def test_a_console_record_without_a_member_is_refused_as_malformed(member: Any) -> None:
    event = copy.deepcopy(load_event(CONSOLE))
    event["detail"]["requestParameters"]["member"] = member
    judgement = _judge(event, _admin_group())
    assert judgement.verdict is Verdict.INVALID
    assert "detail.requestParameters.member.memberId must be a non-empty string" in judgement.reason


def test_the_published_console_shape_is_the_samples() -> None:
    """The record of "Add User to Group in Identity Center" (events/README.md): these members, nothing returned."""
    detail = load_event(CONSOLE)["detail"]
    assert (detail["eventSource"], detail["eventName"]) == ("sso-directory.amazonaws.com", "AddMemberToGroup")
    assert set(detail["requestParameters"]) == {"identityStoreId", "groupId", "member"}
    assert set(detail["requestParameters"]["member"]) == {"memberId"}
    assert detail["responseElements"] is None


# --- a delegated administrator's reads -------------------------------------------------------------------------


def _delegated(assignments: dict[str, list[str]], sets: dict[str, Any], **kwargs: Any) -> Owned:
    return Owned(assignments, sets, owner=MANAGEMENT, **kwargs)


@pytest.mark.parametrize("code", ["AccessDeniedException", "ValidationException"])
def test_a_group_whose_assignments_a_delegated_administrator_may_not_list_is_read_set_by_set(code: str) -> None:
    """Refused ListAccountAssignmentsForPrincipal: the admin set is found set by set, and the membership removed."""
    sso = _delegated({ADMIN_SET: ["444455556666"]}, {ADMIN_SET: {"managed": [ADMIN]}}, error=code)
    [finding] = _judge(load_event(API), Live(sso)).findings
    assert (finding.rule_id, finding.severity, finding.needs_context) == (RULE, Severity.CRITICAL, ())
    [step] = finding.plan
    assert step.action == StepAction.DELETE_GROUP_MEMBERSHIP
    assert {"list_permission_sets", "list_account_assignments"} <= set(sso.calls)


def test_a_group_found_in_no_member_account_is_alerted_with_the_management_account_unknown() -> None:
    sso = _delegated({READ_SET: ["444455556666"]}, {READ_SET: {"managed": [READ_ONLY]}}, error="ValidationException")
    [finding] = _judge(load_event(API), Live(sso)).findings
    assert (finding.rule_id, finding.severity) == (RULE, Severity.MEDIUM)
    assert finding.plan, "the alert says what remediation would do"
    [management] = finding.needs_context  # the read-only set is judged: nothing else is unknown
    assert management == (
        f"what group {GROUP} is assigned in the management account {MANAGEMENT} (a delegated administrator may not "
        "read the permission sets provisioned there): ListAccountAssignmentsForPrincipal, which would say, is "
        f"answered only there; the assignments below were read set by set from account {HOME}"
    )


def test_in_the_management_account_a_refused_read_stays_an_error() -> None:
    """The instance is this account's own: a refusal is IAM Warden's missing grant, reported as unreadable."""
    live = Live(Owned({ADMIN_SET: ["444455556666"]}, {}, owner=HOME, error="AccessDeniedException"))
    judgement = _judge(load_event(API), live)
    assert judgement.verdict is Verdict.IGNORED
    [unreadable] = judgement.unjudged
    assert unreadable.plan == ()
    assert "IAM Warden's role may read it" in unreadable.reason


def test_a_throttled_read_in_a_delegated_administrator_is_retried_not_explained() -> None:
    live = Live(_delegated({ADMIN_SET: ["444455556666"]}, {}, error="ThrottlingException"))
    with pytest.raises(TransientAwsError):
        _judge(load_event(API), live)


def test_a_set_a_delegated_administrator_may_not_read_is_undecided() -> None:
    live = Live(
        _delegated(
            {READ_SET: ["111122223333"]},
            {READ_SET: {"managed": [ADMIN]}},
            refused=(READ_SET,),
            code="AccessDeniedException",
        )
    )
    [finding] = _judge(load_event(API), live).findings
    assert finding.severity is Severity.MEDIUM
    assert "whose assigned permission sets could not all be judged" in finding.reason
    [unknown] = finding.needs_context
    assert unknown.startswith(
        f"what permission set {READ_SET} grants: ListManagedPoliciesInPermissionSet was refused (AccessDeniedException)"
    )
    assert f"{REFUSED} {MANAGEMENT}" in unknown


def test_one_readable_admin_set_settles_it_whatever_a_refused_one_hides() -> None:
    live = Live(
        _delegated(
            {ADMIN_SET: ["444455556666"], READ_SET: ["111122223333"]},
            {ADMIN_SET: {"managed": [ADMIN]}},
            refused=(READ_SET,),
            code="AccessDeniedException",
        )
    )
    [finding] = _judge(load_event(API), live).findings
    assert (finding.severity, finding.needs_context) == (Severity.CRITICAL, ())
    assert finding.plan


ASSIGN = "sso-assign-admin-permission-set.json"


def _assigned_set() -> str:
    return str(load_event(ASSIGN)["detail"]["requestParameters"]["permissionSetArn"])


def test_an_assignment_whose_set_a_delegated_administrator_may_not_read_is_alerted_never_removed() -> None:
    permission_set = _assigned_set()
    sso = _delegated({}, {}, refused=(permission_set,), code="AccessDeniedException")
    event = copy.deepcopy(load_event(ASSIGN))
    event["detail"]["requestParameters"]["instanceArn"] = INSTANCE
    [finding] = _judge(event, Live(sso)).findings
    assert (finding.rule_id, finding.severity) == ("permission-set-admin", Severity.MEDIUM)
    assert f"assigned permission set {permission_set}, which could not be read, to user" in finding.reason
    [step] = finding.plan
    assert step.action == StepAction.DELETE_ACCOUNT_ASSIGNMENT
    [unknown] = finding.needs_context
    assert unknown.startswith(f"what permission set {permission_set} grants: ListManagedPoliciesInPermissionSet was ")
    assert f"{REFUSED} {MANAGEMENT}" in unknown


def test_an_assignment_whose_set_is_refused_in_the_management_account_is_unreadable() -> None:
    permission_set = _assigned_set()
    sso = Owned({}, {}, owner=HOME, refused=(permission_set,), code="AccessDeniedException")
    event = copy.deepcopy(load_event(ASSIGN))
    event["detail"]["requestParameters"]["instanceArn"] = INSTANCE
    judgement = _judge(event, Live(sso))
    assert judgement.verdict is Verdict.IGNORED
    [unreadable] = judgement.unjudged
    assert unreadable.plan == ()


def test_a_set_named_in_admin_permission_sets_needs_no_read_in_a_delegated_administrator() -> None:
    permission_set = _assigned_set()
    sso = _delegated({}, {}, refused=(permission_set,), code="AccessDeniedException")
    settings = load_settings({"rules": {"permission-set-admin": {"admin_permission_sets": [permission_set]}}})
    [finding] = _judge(load_event(ASSIGN), Live(sso), settings).findings
    assert (finding.severity, finding.needs_context) == (Severity.CRITICAL, ())
    assert sso.calls == []
