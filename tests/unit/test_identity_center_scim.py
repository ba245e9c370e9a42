"""identity-center-group-admin on SCIM provisioning: ``identitystore-scim:PatchGroup`` adding members to a group.

An external identity provider (or whoever holds the SCIM access token) provisions through Identity Center's SCIM
endpoint; CloudTrail records it from ``identitystore-scim.amazonaws.com`` with the group as ``requestParameters.id``,
the SCIM operations under ``httpBody.operations`` and their values hidden (``HIDDEN_DUE_TO_SECURITY_REASONS``: the
Identity Center User Guide's example records, events/README.md). The group is judged as for ``CreateGroupMembership``
(the same reading of its assignments); who was added is unknown when hidden (alert-only), and a named user's
membership is removed only when it is found live as on the console's path (created in the event's second).
"""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest

from iamwarden.domain.catalog import Severity
from iamwarden.domain.events import parse_event
from iamwarden.domain.findings import StepAction, Verdict
from iamwarden.domain.settings import Settings, load_settings
from iamwarden.guardrails.engine import judge_event
from iamwarden.guardrails.identity_center import _scim_added_users
from tests.conftest import load_event
from tests.unit.test_identity_center_console import EVENT_TIME, MEMBERSHIP, Live, Store
from tests.unit.test_identity_center_groups import (
    ADMIN,
    ADMIN_SET,
    GROUP,
    INSTANCE,
    READ_ONLY,
    READ_SET,
    STORE,
    USER,
    SsoAdmin,
)
from tests.unit.test_identity_center_user_takeover import Assignments
from tests.unit.test_identity_center_user_takeover import Live as TakeoverLive
from tests.unit.test_identity_center_user_takeover import Store as GroupsOf

RULE = "identity-center-group-admin"
TAKEOVER = "identity-center-user-takeover"
TAGS = "identity-center-session-tag-attribute"
SCIM = "identitystore-scim-add-user-to-admin-group.json"


class OneInstance(SsoAdmin):
    """The account's one Identity Center instance (a SCIM record names no identity store: it is the only one)."""

    def __init__(self, *args: Any, instances: int = 1, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instances = instances

    def _list_instances(self) -> list[dict[str, Any]]:
        other = {"InstanceArn": "arn:aws:sso:::instance/ssoins-0000000000000000", "IdentityStoreId": "d-0000000000"}
        ours = {"InstanceArn": INSTANCE, "IdentityStoreId": STORE, "OwnerAccountId": "111122223333"}
        return [{"Instances": [ours, other][: self.instances]}]


def _admin_group(store: Store | None = None, instances: int = 1) -> Live:
    sso = OneInstance({ADMIN_SET: ["444455556666"]}, {ADMIN_SET: {"managed": [ADMIN]}}, instances=instances)
    return Live(sso, store)


def _with_operations(*operations: Any) -> dict[str, Any]:
    event = copy.deepcopy(load_event(SCIM))
    event["detail"]["requestParameters"]["httpBody"]["operations"] = list(operations)
    return event


def _judge(event: dict[str, Any], live: Live | None, settings: Settings | None = None) -> Any:
    live_clients = (lambda account, region: live) if live is not None else None
    return judge_event(event, settings or Settings(), live_clients=live_clients)  # type: ignore[arg-type]


def _members(*users: str) -> dict[str, Any]:
    return {"op": "Add", "path": "members", "value": [{"value": user} for user in users]}


def test_offline_a_scim_membership_cannot_be_judged() -> None:
    judgement = _judge(load_event(SCIM), None)
    assert judgement.verdict is Verdict.IGNORED
    assert f"which permission sets Identity Center group {GROUP} is assigned" in judgement.reason


def test_hidden_members_added_to_an_admin_group_are_critical_and_alerted_never_removed() -> None:
    live = _admin_group()
    [finding] = _judge(load_event(SCIM), live).findings
    assert (finding.rule_id, finding.severity, finding.plan) == (RULE, Severity.CRITICAL, ())
    assert f"added members its record does not name to Identity Center group {GROUP} through SCIM" in finding.reason
    assert f"which is assigned {ADMIN_SET} (in account 444455556666), which grants AdministratorAccess" in (
        finding.reason
    )
    assert finding.needs_context == (
        f"which users the SCIM request added to group {GROUP} (CloudTrail records SCIM values as "
        "HIDDEN_DUE_TO_SECURITY_REASONS), so no membership can be told to be the event's",
    )
    assert live.store.calls == []  # no user to look a membership up for


def test_a_named_member_whose_membership_was_made_in_the_events_second_is_removed_exactly() -> None:
    live = _admin_group(Store(EVENT_TIME + timedelta(milliseconds=200)))
    [finding] = _judge(_with_operations(_members(USER)), live).findings
    assert (finding.severity, finding.needs_context) == (Severity.CRITICAL, ())
    assert f"added user {USER} to Identity Center group {GROUP} through SCIM" in finding.reason
    assert "adds a membership removed here back at its next sync" in finding.reason
    [step] = finding.plan
    assert step.action == StepAction.DELETE_GROUP_MEMBERSHIP
    assert dict(step.parameters) == {
        "identity_store_id": STORE,
        "membership_id": MEMBERSHIP,
        "group_id": GROUP,
        "user_id": USER,
    }
    assert live.store.calls == ["GetGroupMembershipId", "DescribeGroupMembership"]


def test_a_named_member_who_was_a_member_before_is_alerted_never_removed() -> None:
    created = EVENT_TIME - timedelta(days=2)
    [finding] = _judge(_with_operations(_members(USER)), _admin_group(Store(created))).findings
    assert (finding.severity, finding.plan) == (Severity.CRITICAL, ())
    assert finding.needs_context == (
        f"whether the event created membership {MEMBERSHIP} of user {USER} in group {GROUP}: Identity Store created "
        f"it at {created.isoformat()}, before the event (2026-11-20T10:14:31Z)",
    )


def test_a_named_member_without_a_creation_time_says_the_scim_record_names_no_membership() -> None:
    [finding] = _judge(_with_operations(_members(USER)), _admin_group(Store(None))).findings
    assert finding.plan == ()
    assert finding.needs_context == (
        f"whether membership {MEMBERSHIP} is the one the event created (the SCIM record names none, and "
        "DescribeGroupMembership gives no CreatedAt to tell)",
    )


@pytest.mark.parametrize(
    "operations",
    [
        [{"op": "remove", "path": f'members[value eq "{USER}"]'}],
        [{"op": "REPLACE", "path": "displayName", "value": "HIDDEN_DUE_TO_SECURITY_REASONS"}],
        [{"op": "replace", "path": "externalId", "value": "x"}, {"op": "Remove", "path": "members"}],
        [{"op": "replace", "value": {"displayName": "admins"}}],
    ],
)
def test_a_patch_that_adds_no_member_is_compliant_and_reads_nothing(operations: list[Any]) -> None:
    live = _admin_group()
    judgement = _judge(_with_operations(*operations), live)
    assert judgement.verdict is Verdict.COMPLIANT
    assert live.sso.calls == []


def test_a_group_holding_no_admin_set_is_compliant() -> None:
    sso = OneInstance({READ_SET: ["444455556666"]}, {READ_SET: {"managed": [READ_ONLY]}})
    assert _judge(load_event(SCIM), Live(sso)).verdict is Verdict.COMPLIANT


def test_when_the_account_has_no_single_instance_the_group_is_alerted_with_that_unknown() -> None:
    live = _admin_group(instances=2)
    [finding] = _judge(load_event(SCIM), live).findings
    assert (finding.severity, finding.plan) == (Severity.MEDIUM, ())
    assert finding.needs_context[0] == (
        f"which Identity Center instance holds group {GROUP} (the SCIM record names no identity store, and "
        "ListInstances in account 111122223333, eu-west-1, names 2), and so what the group is assigned"
    )
    assert "list_account_assignments_for_principal" not in live.sso.calls


def test_a_failed_scim_call_is_never_judged() -> None:
    event = _with_operations(_members(USER))
    event["detail"]["errorCode"] = "ValidationException"
    event["detail"]["errorMessage"] = "Missing path in PATCH request"
    live = _admin_group(Store(EVENT_TIME))
    judgement = _judge(event, live)
    assert judgement.verdict is Verdict.IGNORED
    assert judgement.findings == ()
    assert live.sso.calls == []


def test_a_record_without_the_group_is_refused_as_malformed() -> None:
    event = copy.deepcopy(load_event(SCIM))
    del event["detail"]["requestParameters"]["id"]
    assert _judge(event, _admin_group()).verdict is Verdict.INVALID


def _added(operations: Any) -> tuple[str, ...] | None:
    event = copy.deepcopy(load_event(SCIM))
    event["detail"]["requestParameters"]["httpBody"] = {"operations": operations} if operations != "none" else None
    return _scim_added_users(parse_event(event))


@pytest.mark.parametrize(
    ("operations", "users"),
    [
        ([_members("u-1", "u-2"), _members("u-2")], ("u-1", "u-2")),
        ([{"op": "add", "value": {"Members": [{"value": "u-1"}]}}], ("u-1",)),  # pathless, any spelling
        (
            [{"op": "add", "path": "urn:ietf:params:scim:schemas:core:2.0:Group:members", "value": [{"value": "u-3"}]}],
            ("u-3",),
        ),
        ([{"op": "replace", "path": "members", "value": [{"value": "u-4"}]}], ("u-4",)),
        ([{"op": "remove", "path": "members"}], ()),
        ([{"op": "replace", "path": "displayName", "value": "x"}], ()),
        ([{"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:Group:externalId", "value": "x"}], ()),
        ([{"op": "replace", "value": {"displayName": "x", "externalId": "y"}}], ()),
        ([{"op": "add", "value": {"urn:ietf:params:scim:schemas:core:2.0:Group:members": [{"value": "u"}]}}], None),
        ([{"op": "add", "value": {"urn:ietf:params:scim:schemas:core:2.0:Group": {"members": []}}}], None),
        ([{"op": "add", "path": "members.value", "value": "u-5"}], None),
        ([{"op": "add", "path": "HIDDEN_DUE_TO_SECURITY_REASONS", "value": "x"}], None),
        ([{"op": "replace", "path": "title", "value": "x"}], None),
        ([{"op": "add", "path": "members", "value": "HIDDEN_DUE_TO_SECURITY_REASONS"}], None),
        ([{"op": "add", "path": "members", "value": [{"value": "HIDDEN_DUE_TO_SECURITY_REASONS"}]}], None),
        ([{"op": "add", "path": "members", "value": [{"display": "no id"}]}], None),
        ([{"op": "add", "value": "HIDDEN_DUE_TO_SECURITY_REASONS"}], None),  # no path: which attribute is unknown
        ([{"op": "move", "path": "members", "value": []}], None),
        ([{"path": "members"}], None),
        (["add"], None),
        ([], None),
        ("none", None),
    ],
)
def test_which_users_a_patch_adds(operations: Any, users: tuple[str, ...] | None) -> None:
    assert _added(operations) == users


H = "HIDDEN_DUE_TO_SECURITY_REASONS"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "add", "value": {GROUP_SCHEMA + ":members": [{"value": USER}]}},  # URN-qualified key (RFC 7644)
        {"op": "add", "value": {GROUP_SCHEMA: {"members": [{"value": USER}]}}},  # schema object
        {"op": "add", "path": "members.value", "value": USER},  # a sub-attribute
        {"op": "add", "path": H, "value": H},  # a hidden path
        {"op": "add", "path": "someAttribute", "value": "x"},  # an unrecognised path
        {"op": "replace", "value": {"displayName": "x", "schemas": [GROUP_SCHEMA]}},  # a key not known harmless
    ],
)
def test_a_patch_that_may_add_a_member_under_another_spelling_is_critical_and_alerted(
    operation: dict[str, Any],
) -> None:
    """Only displayName/externalId are known to add no one: anything else may add a member (review s11 F2)."""
    live = _admin_group(Store(EVENT_TIME + timedelta(milliseconds=200)))
    [finding] = _judge(_with_operations(operation), live).findings
    assert (finding.severity, finding.plan) == (Severity.CRITICAL, ())
    assert f"added members its record does not name to Identity Center group {GROUP}" in finding.reason
    assert finding.needs_context[0].startswith(f"which users the SCIM request added to group {GROUP}")
    assert live.store.calls == []


@pytest.mark.parametrize(
    "operations",
    [
        # remove X, then add X back: X was a member before the request
        [{"op": "remove", "path": f'members[value eq "{USER}"]'}, _members(USER)],
        [{"op": "remove", "path": "members", "value": [{"value": USER}]}, _members(USER)],
        [{"op": "remove", "path": "members"}, _members(USER)],  # every member removed, then X added
        [{"op": "remove", "path": "members", "value": H}, _members(USER)],  # who was removed is hidden
        [{"op": "replace", "path": "members", "value": [{"value": USER}]}],  # the whole list, not what it added
    ],
)
def test_a_member_the_request_may_only_put_back_is_alerted_never_removed(operations: list[Any]) -> None:
    """A membership re-created in the event's second may be one that existed before: never removed (review F4)."""
    live = _admin_group(Store(EVENT_TIME + timedelta(milliseconds=200)))
    [finding] = _judge(_with_operations(*operations), live).findings
    assert (finding.severity, finding.plan) == (Severity.CRITICAL, ())
    assert f"added user {USER} to Identity Center group {GROUP}" in finding.reason
    assert finding.needs_context == (
        f"whether user {USER} was a member of group {GROUP} before the request (the same request removes members, or "
        "replaces the whole member list, so a membership created now may put back one that existed before)",
    )


def test_removing_another_member_does_not_stop_a_pure_add_from_being_removed() -> None:
    live = _admin_group(Store(EVENT_TIME + timedelta(milliseconds=200)))
    operations = [{"op": "remove", "path": 'members[value eq "someone-else"]'}, _members(USER)]
    [finding] = _judge(_with_operations(*operations), live).findings
    assert finding.needs_context == ()
    [step] = finding.plan
    assert step.action == StepAction.DELETE_GROUP_MEMBERSHIP


# --- SCIM user updates: identity-center-user-takeover -------------------------------------------------------------

USER_UPDATE = "identitystore-scim-update-admin-user-email.json"


class OneInstanceAssignments(Assignments):
    """Assignments by principal, in the account's one instance."""

    def _list_instances(self) -> list[dict[str, Any]]:
        return [{"Instances": [{"InstanceArn": INSTANCE, "IdentityStoreId": STORE}]}]


def _user_update(**request: Any) -> dict[str, Any]:
    event = copy.deepcopy(load_event(USER_UPDATE))
    event["detail"]["requestParameters"].update(request)
    return event


def _takeover_live(assigned: list[str], sets: dict[str, Any], **kwargs: Any) -> TakeoverLive:
    return TakeoverLive(OneInstanceAssignments({("GROUP", GROUP): assigned}, sets, **kwargs), GroupsOf([GROUP]))


def test_a_scim_email_change_of_an_administrator_is_critical_and_alerted() -> None:
    live = _takeover_live([ADMIN_SET], {ADMIN_SET: {"managed": [ADMIN]}})
    [finding] = _judge(load_event(USER_UPDATE), live).findings  # type: ignore[arg-type]
    assert (finding.rule_id, finding.severity, finding.plan) == (TAKEOVER, Severity.CRITICAL, ())
    assert f"changed the emails of Identity Center user {USER}" in finding.reason
    assert live.store.calls == 1  # the user's groups, in the one instance's store


@pytest.mark.parametrize(
    ("body", "verdict"),
    [
        ({"operations": [{"op": "replace", "path": "displayName", "value": "x"}]}, Verdict.COMPLIANT),
        (
            {"operations": [{"op": "replace", "value": {"userName": "HIDDEN_DUE_TO_SECURITY_REASONS"}}]},
            Verdict.VIOLATION,
        ),
        ({"operations": [{"op": "replace", "value": "HIDDEN_DUE_TO_SECURITY_REASONS"}]}, Verdict.VIOLATION),
        (
            {"Operations": [{"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:userName"}]},
            Verdict.VIOLATION,
        ),
    ],
)
def test_which_attributes_a_scim_patch_changes(body: dict[str, Any], verdict: Verdict) -> None:
    live = _takeover_live([ADMIN_SET], {ADMIN_SET: {"managed": [ADMIN]}})
    assert _judge(_user_update(httpBody=body), live).verdict is verdict  # type: ignore[arg-type]


# A complete PutUser body: the SCIM guide's PutUser makes userName, displayName, name.givenName and name.familyName
# required (https://docs.aws.amazon.com/singlesignon/latest/developerguide/putuser.html); values hidden, schemas and
# booleans in clear, as in the User Guide's SCIM CreateUser record
# (https://docs.aws.amazon.com/singlesignon/latest/userguide/scim-logging-using-cloudtrail.html).
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
PUT_BODY: dict[str, Any] = {
    "schemas": [USER_SCHEMA],
    "userName": H,
    "displayName": H,
    "name": {"givenName": H, "familyName": H},
    "active": True,
}


def test_a_scim_put_user_replaces_every_attribute_it_sends() -> None:
    event = _user_update(httpBody=PUT_BODY)
    event["detail"]["eventName"] = "PutUser"
    live = _takeover_live([ADMIN_SET], {ADMIN_SET: {"managed": [ADMIN]}})
    [finding] = _judge(event, live).findings  # type: ignore[arg-type]
    assert finding.severity is Severity.CRITICAL
    assert f"replaced Identity Center user {USER}, including its userName" in finding.reason
    assert "changed the userName" not in finding.reason  # the record does not say it differs (review F6)
    assert finding.needs_context == (
        f"whether the userName of user {USER} actually changed (a SCIM PutUser sends every attribute, and CloudTrail "
        "records the values as HIDDEN_DUE_TO_SECURITY_REASONS)",
    )


def test_a_scim_user_update_with_no_single_instance_is_medium_with_that_unknown() -> None:
    sso = Assignments({("GROUP", GROUP): [ADMIN_SET]}, {ADMIN_SET: {"managed": [ADMIN]}})  # two instances listed
    judgement = _judge(load_event(USER_UPDATE), TakeoverLive(sso, GroupsOf([GROUP])))  # type: ignore[arg-type]
    finding, tags = judgement.findings
    assert (finding.rule_id, finding.severity) == (TAKEOVER, Severity.MEDIUM)
    assert "identity store (the SCIM record names none)" in finding.needs_context[-1]
    assert (tags.rule_id, tags.severity) == (TAGS, Severity.MEDIUM)  # whether the emails are mapped, unknown too


def test_a_scim_title_change_mapped_to_a_session_tag_is_high() -> None:
    body = {"operations": [{"op": "replace", "path": "title", "value": "HIDDEN_DUE_TO_SECURITY_REASONS"}]}
    live = _takeover_live([READ_SET], {READ_SET: {"managed": [READ_ONLY]}}, mapping={"clearance": ["${path:title}"]})
    [finding] = _judge(_user_update(httpBody=body), live).findings  # type: ignore[arg-type]
    assert finding.severity is Severity.HIGH


ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#: A user who is no administrator, in an instance that maps ``clearance`` from the enterprise department and
#: ``t`` from the title (review s11 F3's probe p1).
ABAC = {"clearance": ["${path:enterprise.department}"], "t": ["${path:title}"]}


@pytest.mark.parametrize(
    ("event_name", "body", "named"),
    [
        ("PatchUser", {"operations": [{"op": "replace", "value": {ENTERPRISE: {"department": H}}}]}, True),
        ("PatchUser", {"operations": [{"op": "replace", "value": {ENTERPRISE + ":department": H}}]}, True),
        ("PutUser", {**PUT_BODY, "schemas": [USER_SCHEMA, ENTERPRISE], ENTERPRISE: {"department": H}}, True),
        ("PatchUser", {"operations": [{"op": "replace", "value": H}]}, False),  # pathless and hidden
        ("PatchUser", {"operations": [{"op": "replace", "value": {ENTERPRISE: H}}]}, False),  # the extension hidden
        ("PutUser", {**PUT_BODY, "schemas": [USER_SCHEMA, ENTERPRISE], ENTERPRISE: H}, False),
    ],
)
def test_a_scim_update_that_may_change_a_mapped_attribute_of_any_user_is_high_and_alerted(
    event_name: str, body: dict[str, Any], named: bool
) -> None:
    """Extension attributes under their schema's key, and updates that do not say what they set (review s11 F3)."""
    event = _user_update(id=USER, httpBody=body)
    event["detail"]["eventName"] = event_name
    live = _takeover_live([READ_SET], {READ_SET: {"managed": [READ_ONLY]}}, mapping=ABAC)
    [finding] = _judge(event, live).findings  # type: ignore[arg-type]
    assert (finding.rule_id, finding.severity, finding.plan) == (TAGS, Severity.HIGH, ())
    assert "aws:PrincipalTag/clearance <- ${path:enterprise.department}" in finding.reason
    if named:
        assert "department" in finding.reason.split(" of Identity Center user")[0]
    else:
        assert "(its record does not say which attributes)" in finding.reason
        assert "aws:PrincipalTag/t <- ${path:title}" in finding.reason
        assert finding.needs_context[0] == (
            f"which attributes of user {USER} the update changed, and so whether it changed a mapped one"
        )


def test_an_update_that_does_not_say_what_it_changed_is_compliant_only_when_no_attribute_is_mapped() -> None:
    event = _user_update(id=USER, httpBody={"operations": [{"op": "replace", "value": H}]})
    live = _takeover_live([READ_SET], {READ_SET: {"managed": [READ_ONLY]}}, mapping={"team": ["engineering"]})
    judgement = _judge(event, live)  # type: ignore[arg-type]
    assert judgement.verdict is Verdict.COMPLIANT  # a literal source reads no attribute of the user
    assert "changes no attribute instance" in judgement.reason


MAY_REMOVE = (
    "which a SCIM PUT may remove (RFC 7644 §3.5.1); Identity Center's SCIM guide says a PUT overwrites the user, not "
    "whether it clears an omitted attribute"
)


@pytest.mark.parametrize(
    "body",
    [
        PUT_BODY,  # the sign-in path, a user no admin
        {
            **PUT_BODY,
            "schemas": [USER_SCHEMA, ENTERPRISE],
            ENTERPRISE: {"employeeNumber": H},
        },  # the extension, no department
    ],
    ids=["core", "enterprise-without-department"],
)
def test_a_scim_put_user_that_only_omits_mapped_attributes_is_high_and_says_the_removal_is_unconfirmed(
    body: dict[str, Any],
) -> None:
    """RFC 7644 has a PUT replace the whole user, so a mapped attribute it leaves out may be removed; Identity Center's
    SCIM guide says a PUT overwrites the user but not whether an omitted attribute is cleared (other SCIM servers keep
    it): said unconfirmed, never stated as fact (s12 F2), yet high like the PatchUser remove of the same attribute,
    alerted only (review tidy-s13 F1)."""
    event = _user_update(id=USER, httpBody=body)
    event["detail"]["eventName"] = "PutUser"
    live = _takeover_live([READ_SET], {READ_SET: {"managed": [READ_ONLY]}}, mapping=ABAC)
    [finding] = _judge(event, live).findings  # type: ignore[arg-type]
    assert (finding.rule_id, finding.severity, finding.plan) == (TAGS, Severity.HIGH, ())
    assert f"replaced Identity Center user {USER} through SCIM (PutUser)" in finding.reason
    assert "without the attributes session tags are taken from (the body omits those of " in finding.reason
    assert MAY_REMOVE in finding.reason
    assert "removing every attribute" not in finding.reason
    assert "aws:PrincipalTag/clearance <- ${path:enterprise.department}" in finding.reason
    assert "aws:PrincipalTag/t <- ${path:title}" in finding.reason
    assert finding.needs_context[0] == (
        "whether the replacement changed or removed the attributes behind aws:PrincipalTag/clearance, "
        "aws:PrincipalTag/t (CloudTrail hides the values; the body omits those of aws:PrincipalTag/clearance, "
        f"aws:PrincipalTag/t, {MAY_REMOVE})"
    )


def test_a_mapped_attribute_left_out_of_a_scim_put_is_graded_as_its_patch_removal() -> None:
    """Whoever holds the SCIM token gets no lower grade for stripping a tag's source by PUT than by PATCH remove
    (review tidy-s13 F1): both high, both alerted only."""
    live = _takeover_live([READ_SET], {READ_SET: {"managed": [READ_ONLY]}}, mapping={"t": ["${path:title}"]})
    patch = _user_update(id=USER, httpBody={"operations": [{"op": "remove", "path": "title"}], "schemas": [H]})
    put = _user_update(id=USER, httpBody=PUT_BODY)
    put["detail"]["eventName"] = "PutUser"
    [removed] = _judge(patch, live).findings  # type: ignore[arg-type]
    [omitted] = _judge(put, live).findings  # type: ignore[arg-type]
    assert (removed.rule_id, removed.severity, removed.plan) == (TAGS, Severity.HIGH, ())
    assert (omitted.rule_id, omitted.severity, omitted.plan) == (removed.rule_id, removed.severity, removed.plan)
    assert f"the body omits those of aws:PrincipalTag/t, {MAY_REMOVE}" in omitted.needs_context[0]
    assert "omits" not in removed.needs_context[0]


def test_a_scim_put_user_that_sends_a_mapped_attribute_stays_high_and_names_the_omitted_ones_as_may_remove() -> None:
    event = _user_update(id=USER, httpBody={**PUT_BODY, "title": H})
    event["detail"]["eventName"] = "PutUser"
    live = _takeover_live([READ_SET], {READ_SET: {"managed": [READ_ONLY]}}, mapping=ABAC)
    [finding] = _judge(event, live).findings  # type: ignore[arg-type]
    assert finding.severity is Severity.HIGH  # the title it sends is the tag t's source
    assert "without the attributes" not in finding.reason
    assert f"the body omits those of aws:PrincipalTag/clearance, {MAY_REMOVE})" in finding.needs_context[0]


def test_a_scim_put_user_that_sends_every_mapped_attribute_names_none_as_omitted() -> None:
    body = {**PUT_BODY, "schemas": [USER_SCHEMA, ENTERPRISE], "title": H, ENTERPRISE: {"department": H}}
    event = _user_update(id=USER, httpBody=body)
    event["detail"]["eventName"] = "PutUser"
    live = _takeover_live([READ_SET], {READ_SET: {"managed": [READ_ONLY]}}, mapping=ABAC)
    [finding] = _judge(event, live).findings  # type: ignore[arg-type]
    assert finding.severity is Severity.HIGH
    assert "omits" not in finding.needs_context[0]


def test_a_scim_put_user_is_compliant_when_no_tag_reads_a_user_attribute() -> None:
    event = _user_update(id=USER, httpBody=PUT_BODY)
    event["detail"]["eventName"] = "PutUser"
    live = _takeover_live([READ_SET], {READ_SET: {"managed": [READ_ONLY]}}, mapping={"team": ["engineering"]})
    assert _judge(event, live).verdict is Verdict.COMPLIANT  # type: ignore[arg-type]


def test_a_scim_patch_that_omits_a_mapped_attribute_leaves_it_alone() -> None:
    """Only a PUT replaces the user: a PATCH of the display name changes no mapped attribute."""
    body = {"operations": [{"op": "replace", "path": "displayName", "value": H}]}
    live = _takeover_live([READ_SET], {READ_SET: {"managed": [READ_ONLY]}}, mapping=ABAC)
    assert _judge(_user_update(id=USER, httpBody=body), live).verdict is Verdict.COMPLIANT  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "body",
    [
        {**PUT_BODY, "title": H},  # every PUT sync sends the user name
        {"operations": [{"op": "replace", "path": "title", "value": H}, {"op": "replace", "path": "userName"}]},
    ],
    ids=["PutUser", "PatchUser"],
)
def test_muting_the_takeover_keeps_an_administrators_session_tag_attribute_alert(body: dict[str, Any]) -> None:
    """An operator who mutes the takeover (every PUT of an administrator is critical) keeps the alert on the mapped
    title: an attacker with the SCIM token cannot hide it by sending the user name along (review s12 F1)."""
    event = _user_update(id=USER, httpBody=body)
    event["detail"]["eventName"] = "PutUser" if "schemas" in body else "PatchUser"
    live = _takeover_live([ADMIN_SET], {ADMIN_SET: {"managed": [ADMIN]}}, mapping=ABAC)
    judgement = _judge(event, live, load_settings({"rules": {TAKEOVER: {"mode": "off"}}}))  # type: ignore[arg-type]
    [finding] = judgement.findings
    assert (finding.rule_id, finding.severity, finding.plan) == (TAGS, Severity.HIGH, ())
    assert "aws:PrincipalTag/t <- ${path:title}" in finding.reason
    assert judgement.verdict is Verdict.VIOLATION
