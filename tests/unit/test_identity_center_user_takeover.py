"""identity-center-user-takeover: an administrator's user name or emails changed (``identitystore:UpdateUser``).

Alerted only. Whether the user holds an administrator permission set, directly or through its groups, is read
through stubs shaped like the sso-admin and identitystore clients (tests/unit/test_identity_center_groups.py's
sso-admin stub); the functional contract case (tests/functional/guardrail_cases.py) runs it on moto.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from iamwarden.adapters.errors import TransientAwsError
from iamwarden.domain.catalog import Severity
from iamwarden.domain.findings import Verdict
from iamwarden.domain.settings import Settings, load_settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event
from tests.unit.test_identity_center_console import MANAGEMENT, Owned
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
    _Paginator,
)

RULE = "identity-center-user-takeover"
#: The attribute alerts' own rule (review s11 F7): muted apart from the takeover of an administrator.
TAGS = "identity-center-session-tag-attribute"
SAMPLE = "identitystore-update-admin-user-email.json"


class Assignments(SsoAdmin):
    """Assignments by principal: ``by`` maps (type, id) to the permission sets assigned in 444455556666."""

    def __init__(
        self,
        by: dict[tuple[str, str], list[str]],
        sets: dict[str, Any],
        *,
        mapping: dict[str, list[str]] | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__({}, sets, **kwargs)
        self.by = by
        self.principals: list[tuple[str, str]] = []
        #: The instance's attributes for access control (tag key -> sources); None: none configured; a str: the
        #: error code its read fails with.
        self.mapping = mapping

    def describe_instance_access_control_attribute_configuration(self, **ids: str) -> dict[str, Any]:
        self.calls.append("describe_instance_access_control_attribute_configuration")
        assert ids == {"InstanceArn": INSTANCE}
        if isinstance(self.mapping, str):
            raise AwsError(self.mapping, 403)
        if self.mapping is None:
            raise AwsError("ResourceNotFoundException", 404)
        attributes = [{"Key": key, "Value": {"Source": sources}} for key, sources in self.mapping.items()]
        return {
            "Status": "ENABLED",
            "InstanceAccessControlAttributeConfiguration": {"AccessControlAttributes": attributes},
        }

    def _list_account_assignments_for_principal(self, **kwargs: str) -> list[dict[str, Any]]:
        assert kwargs["InstanceArn"] == INSTANCE
        principal = (kwargs["PrincipalType"], kwargs["PrincipalId"])
        self.principals.append(principal)
        if self.error:
            raise AwsError(self.error, 403)
        rows = [{"AccountId": "444455556666", "PermissionSetArn": arn} for arn in self.by.get(principal, [])]
        return [{"AccountAssignments": rows}]


class OwnedAssignments(Assignments, Owned):
    """Assignments by principal, in an instance owned by ``owner``."""


class Store:
    """The user's groups in the identity store."""

    def __init__(self, groups: list[str]) -> None:
        self.groups = groups
        self.calls = 0

    def get_paginator(self, operation: str) -> Any:
        assert operation == "list_group_memberships_for_member"
        store = self

        class Pages:
            def paginate(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
                assert kwargs == {"IdentityStoreId": STORE, "MemberId": {"UserId": USER}}
                store.calls += 1
                yield {"GroupMemberships": [{"GroupId": group, "MemberId": {"UserId": USER}} for group in store.groups]}

        return Pages()


class Live:
    def __init__(self, sso: SsoAdmin, store: Store) -> None:
        self.sso = sso
        self.store = store

    def client(self, service: str) -> Any:
        return {"sso-admin": self.sso, "identitystore": self.store}[service]


def _judge(event: dict[str, Any], live: Live | None, settings: Settings | None = None) -> Any:
    live_clients = (lambda account, region: live) if live is not None else None
    return judge_event(event, settings or Settings(), live_clients=live_clients)  # type: ignore[arg-type]


def _updated(*paths: str) -> dict[str, Any]:
    event = copy.deepcopy(load_event(SAMPLE))
    operations = [{"attributePath": path, "attributeValue": "HIDDEN_DUE_TO_SECURITY_REASONS"} for path in paths]
    event["detail"]["requestParameters"]["operations"] = operations
    return event


def _group_admin() -> Live:
    return Live(Assignments({("GROUP", GROUP): [ADMIN_SET]}, {ADMIN_SET: {"managed": [ADMIN]}}), Store([GROUP]))


def test_offline_an_email_change_cannot_be_judged() -> None:
    judgement = _judge(load_event(SAMPLE), None)
    assert judgement.verdict is Verdict.IGNORED
    assert f"whether Identity Center user {USER} holds an administrator permission set" in judgement.reason


@pytest.mark.parametrize(
    ("paths", "named"),
    [
        (("emails",), "emails"),
        (("userName",), "userName"),
        (("emails[0].value", "displayName"), "emails"),
        # Review ic s10 finding 1: attribute names are case-insensitive, and may be schema-qualified.
        (("UserName",), "userName"),
        (("Emails[0].Value",), "emails"),
        (("urn:ietf:params:scim:schemas:core:2.0:User:userName",), "userName"),
    ],
)
def test_a_sign_in_attribute_of_a_group_administrator_changed_is_critical_and_alerted_only(
    paths: tuple[str, ...], named: str
) -> None:
    live = _group_admin()
    [finding] = _judge(_updated(*paths), live).findings
    assert (finding.rule_id, finding.severity, finding.plan, finding.needs_context) == (
        RULE,
        Severity.CRITICAL,
        (),
        (),
    )
    assert finding.resource_arn == f"arn:aws:identitystore:::user/{USER}"
    assert f"changed the {named} of Identity Center user {USER}, who holds {ADMIN_SET}" in finding.reason
    assert "Check that the new values are the user's own." in finding.reason
    assert live.sso.principals == [("USER", USER), ("GROUP", GROUP)]  # type: ignore[attr-defined]


def test_both_sign_in_attributes_are_named() -> None:
    [finding] = _judge(_updated("userName", "emails"), _group_admin()).findings
    assert "changed the emails and userName of Identity Center user" in finding.reason


def test_a_set_assigned_to_the_user_itself_counts() -> None:
    live = Live(Assignments({("USER", USER): [ADMIN_SET]}, {ADMIN_SET: {"managed": [ADMIN]}}), Store([]))
    [finding] = _judge(_updated("emails"), live).findings
    assert finding.severity is Severity.CRITICAL


def test_a_set_named_in_admin_permission_sets_is_admin_without_reading_it() -> None:
    settings = load_settings({"rules": {"permission-set-admin": {"admin_permission_sets": [ADMIN_SET]}}})
    live = Live(Assignments({("GROUP", GROUP): [ADMIN_SET]}, {}), Store([GROUP]))
    [finding] = _judge(_updated("emails"), live, settings).findings
    assert f"the administrator permission set {ADMIN_SET}" in finding.reason
    assert "list_managed_policies_in_permission_set" not in live.sso.calls


def test_other_attributes_no_session_tag_is_taken_from_are_compliant_and_only_the_mapping_is_read() -> None:
    live = _group_admin()
    judgement = _judge(_updated("displayName", "name.givenName", "title"), live)
    assert judgement.verdict is Verdict.COMPLIANT
    assert f"the update of Identity Center user {USER} changes no attribute instance" in (judgement.reason)
    assert live.store.calls == 0
    assert live.sso.calls == ["list_instances", "describe_instance_access_control_attribute_configuration"]


# --- attributes mapped to session tags (attributes for access control) ----------------------------------------


def _not_admin(mapping: dict[str, list[str]] | str | None) -> Live:
    sso = Assignments({("GROUP", GROUP): [READ_SET]}, {READ_SET: {"managed": [READ_ONLY]}}, mapping=mapping)
    return Live(sso, Store([GROUP]))


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("title", "${path:title}"),
        ("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "${path:enterprise.department}"),
        ("name.familyName", "${path:name.familyName}"),
        ("Addresses[0].locality", "${path:addresses[primary eq true].locality}"),
    ],
)
def test_an_attribute_a_session_tag_is_taken_from_is_high_for_any_user(path: str, source: str) -> None:
    live = _not_admin({"clearance": [source], "team": ["${path:userType}"]})
    [finding] = _judge(_updated(path), live).findings
    assert (finding.rule_id, finding.severity, finding.plan) == (TAGS, Severity.HIGH, ())
    assert f"which instance {INSTANCE} maps to session tags (aws:PrincipalTag/clearance <- {source})" in (
        finding.reason
    )
    assert "aws:PrincipalTag/team" not in finding.reason
    assert finding.needs_context == (
        "which policies test aws:PrincipalTag/clearance and what they grant for the new value (IAM Warden does not "
        "read them; the record may also hide the value)",
    )
    assert live.store.calls == 0  # any user: whether it holds an admin set is not what makes it


def test_an_attribute_no_tag_is_taken_from_is_compliant() -> None:
    live = _not_admin({"clearance": ["${path:enterprise.department}"], "fixed": ["literal"]})
    judgement = _judge(_updated("title", "displayName"), live)
    assert judgement.verdict is Verdict.COMPLIANT


def test_a_sign_in_change_of_a_user_who_is_no_administrator_still_weighs_the_mapped_attributes() -> None:
    live = _not_admin({"clearance": ["${path:title}"]})
    [finding] = _judge(_updated("emails[0].value", "title"), live).findings
    assert finding.severity is Severity.HIGH
    assert f"changed the emails, title of Identity Center user {USER}" in finding.reason  # sign-in ones too (F5)


def test_offline_a_mapped_attribute_cannot_be_judged() -> None:
    judgement = _judge(_updated("title"), None)
    assert judgement.verdict is Verdict.IGNORED
    assert f"whether the title of Identity Center user {USER} are mapped to session tags" in judgement.reason


def test_a_mapping_that_cannot_be_read_is_alerted_medium_with_why() -> None:
    [finding] = _judge(_updated("title"), _not_admin("AccessDeniedException")).findings
    assert (finding.severity, finding.plan) == (Severity.MEDIUM, ())
    [unknown] = finding.needs_context
    assert unknown.startswith(f"whether instance {INSTANCE} maps the title to session tags (")
    assert "DescribeInstanceAccessControlAttributeConfiguration" in unknown


def test_a_throttled_mapping_read_is_retried() -> None:
    with pytest.raises(TransientAwsError):
        _judge(_updated("title"), _not_admin("ThrottlingException"))


def test_an_identity_store_no_instance_holds_leaves_the_mapping_unknown() -> None:
    sso = Assignments({}, {}, mapping={"clearance": ["${path:title}"]}, store="d-0000000001")
    [finding] = _judge(_updated("title"), Live(sso, Store([]))).findings
    assert finding.severity is Severity.MEDIUM
    assert "no Identity Center instance holds identity store" in finding.needs_context[0]


def test_a_user_without_administrator_sets_is_compliant() -> None:
    live = Live(Assignments({("GROUP", GROUP): [READ_SET]}, {READ_SET: {"managed": [READ_ONLY]}}), Store([GROUP]))
    judgement = _judge(_updated("emails"), live)
    assert judgement.verdict is Verdict.COMPLIANT
    assert f"Identity Center user {USER} holds no administrator permission set" in judgement.reason


@pytest.mark.parametrize("operations", [None, [], [{"attributeValue": "x"}], [{"attributePath": ""}], "emails"])
def test_a_record_that_does_not_say_what_changed_is_judged_with_that_unknown(operations: Any) -> None:
    event = copy.deepcopy(load_event(SAMPLE))
    event["detail"]["requestParameters"]["operations"] = operations
    [finding] = _judge(event, _group_admin()).findings
    assert finding.severity is Severity.CRITICAL
    assert f"updated Identity Center user {USER} (its record does not say what)" in finding.reason
    assert finding.needs_context == (f"which attributes of user {USER} the update changed",)


def test_sets_that_cannot_be_judged_are_alerted_medium() -> None:
    sets = {READ_SET: {"managed": [READ_ONLY], "references": ["org-admin"]}}
    live = Live(Assignments({("GROUP", GROUP): [READ_SET]}, sets), Store([GROUP]))
    [finding] = _judge(_updated("emails"), live).findings
    assert finding.severity is Severity.MEDIUM
    assert "whose permission sets could not all be judged" in finding.reason
    assert finding.needs_context[0].startswith("what the customer-managed policies org-admin of permission set")


def test_an_unknown_identity_store_is_alerted_medium() -> None:
    live = Live(Assignments({}, {}, store="d-1111111111"), Store([GROUP]))
    finding, tags = _judge(_updated("emails"), live).findings
    assert (finding.rule_id, finding.severity) == (RULE, Severity.MEDIUM)
    assert finding.needs_context == (
        f"which Identity Center instance holds identity store {STORE}, and so what user {USER} is assigned",
    )
    # whether the emails are a session tag's source is unknown too, under the attribute alerts' own rule (s12 F1)
    assert (tags.rule_id, tags.severity) == (TAGS, Severity.MEDIUM)


def test_a_delegated_administrators_refused_reads_are_read_set_by_set_and_alerted_with_what_stays_unknown() -> None:
    """No set is assigned in a member account: the management account's assignments stay unknown (medium)."""
    live = Live(OwnedAssignments({}, {}, owner=MANAGEMENT, error="AccessDeniedException"), Store([GROUP]))
    [finding] = _judge(_updated("emails"), live).findings
    assert finding.severity is Severity.MEDIUM
    assert [unknown.split(" (")[0] for unknown in finding.needs_context] == [
        f"what user {USER} is assigned in the management account {MANAGEMENT}",
        f"what group {GROUP} is assigned in the management account {MANAGEMENT}",
    ]
    assert all("read set by set from account 111122223333" in unknown for unknown in finding.needs_context)


class Delegated:
    """A delegated administrator's sso-admin: ``sets`` permission sets of one account each, the last assigned to
    ``holder`` (review F1's probe p6)."""

    def __init__(self, sets: int, holder: tuple[str, str]) -> None:
        self.sets = [f"arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-{n:016x}" for n in range(sets)]
        self.holder = holder
        self.calls: list[str] = []

    def get_paginator(self, operation: str) -> Any:
        self.calls.append(operation)
        return _Paginator(getattr(self, "_" + operation))

    def _list_instances(self) -> list[dict[str, Any]]:
        return [{"Instances": [{"InstanceArn": INSTANCE, "IdentityStoreId": STORE, "OwnerAccountId": MANAGEMENT}]}]

    def _list_account_assignments_for_principal(self, **kwargs: str) -> list[dict[str, Any]]:
        raise AwsError("AccessDeniedException", 403)

    def _list_permission_sets(self, **kwargs: str) -> list[dict[str, Any]]:
        return [{"PermissionSets": self.sets}]

    def _list_accounts_for_provisioned_permission_set(self, **kwargs: str) -> list[dict[str, Any]]:
        return [{"AccountIds": ["444455556666"]}]

    def _list_account_assignments(self, **kwargs: str) -> list[dict[str, Any]]:
        kind, who = self.holder if kwargs["PermissionSetArn"] == self.sets[-1] else ("GROUP", "someone")
        found = {"AccountId": "444455556666", "PermissionSetArn": kwargs["PermissionSetArn"]}
        return [{"AccountAssignments": [found | {"PrincipalType": kind, "PrincipalId": who}]}]

    def _list_managed_policies_in_permission_set(self, **kwargs: str) -> list[dict[str, Any]]:
        admin = kwargs["PermissionSetArn"] == self.sets[-1]
        return [{"AttachedManagedPolicies": [{"Name": "AdministratorAccess", "Arn": ADMIN}] if admin else []}]

    def get_inline_policy_for_permission_set(self, **kwargs: str) -> dict[str, Any]:
        return {}

    def list_customer_managed_policy_references_in_permission_set(self, **kwargs: str) -> dict[str, Any]:
        return {"CustomerManagedPolicyReferences": []}

    def get_permissions_boundary_for_permission_set(self, **kwargs: str) -> dict[str, Any]:
        raise AwsError("ResourceNotFoundException", 404)

    def describe_instance_access_control_attribute_configuration(self, **kwargs: str) -> dict[str, Any]:
        raise AwsError("ResourceNotFoundException", 404)  # no attributes for access control


@pytest.mark.parametrize("holder", [("USER", USER), ("GROUP", "g3")])
def test_the_user_and_its_groups_are_walked_once_so_an_ordinary_organisation_is_read_whole(
    holder: tuple[str, str],
) -> None:
    """A user in 3 groups, 20 sets: one walk for all four principals (main found it critical; review F1)."""
    sso = Delegated(20, holder)
    [finding] = _judge(_updated("emails"), Live(sso, Store(["g1", "g2", "g3"]))).findings  # type: ignore[arg-type]
    assert finding.severity is Severity.CRITICAL
    assert sso.calls.count("list_permission_sets") == 1
    assert sso.calls.count("list_account_assignments") == 20


def test_the_user_and_its_groups_share_one_budget_of_set_by_set_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("iamwarden.guardrails.identity_center.DELEGATED_READ_LIMIT", 1)
    sso = Delegated(2, ("GROUP", "g3"))
    [finding] = _judge(_updated("emails"), Live(sso, Store(["g1", "g3"]))).findings  # type: ignore[arg-type]
    assert finding.severity is Severity.MEDIUM
    assert sso.calls.count("list_permission_sets") == 1  # the one call, for all three principals
    assert finding.needs_context[-1].startswith(
        f"what else user {USER} and groups g1, g3 are assigned: the set-by-set read was cut short after 1 Identity "
        "Center calls"
    )


def test_in_the_management_account_a_refused_read_is_unreadable() -> None:
    live = Live(OwnedAssignments({}, {}, owner="111122223333", error="AccessDeniedException"), Store([GROUP]))
    judgement = _judge(_updated("emails"), live)
    assert judgement.verdict is Verdict.IGNORED
    [unreadable] = judgement.unjudged
    assert unreadable.plan == ()


def test_a_refused_group_read_is_unreadable() -> None:
    class Refused(Store):
        def get_paginator(self, operation: str) -> Any:
            raise AwsError("AccessDeniedException", 403)

    judgement = _judge(_updated("emails"), Live(_group_admin().sso, Refused([])))
    assert judgement.verdict is Verdict.IGNORED
    [unreadable] = judgement.unjudged
    assert "ListGroupMembershipsForMember" in unreadable.reason


@pytest.mark.parametrize("key", ["identityStoreId", "userId"])
def test_a_record_without_its_ids_is_refused_as_malformed(key: str) -> None:
    event = copy.deepcopy(load_event(SAMPLE))
    del event["detail"]["requestParameters"][key]
    judgement = _judge(event, _group_admin())
    assert judgement.verdict is Verdict.INVALID
    assert f"detail.requestParameters.{key}" in judgement.reason


@pytest.mark.parametrize(
    ("path", "source"),
    [("userName", "${path:userName}"), ("emails[0].value", "${path:emails[primary eq true].value}")],
)
def test_a_mapped_sign_in_attribute_of_a_user_who_is_no_administrator_is_high(path: str, source: str) -> None:
    """userName and email are common tag sources: renaming a user hands it another's tag-scoped access (F5)."""
    live = _not_admin({"owner": [source]})
    [finding] = _judge(_updated(path), live).findings
    assert (finding.severity, finding.plan) == (Severity.HIGH, ())
    assert f"aws:PrincipalTag/owner <- {source}" in finding.reason
    assert "describe_instance_access_control_attribute_configuration" in live.sso.calls


def test_the_attribute_alerts_are_muted_apart_from_the_takeover_of_an_administrator() -> None:
    """identity-provider syncs of a mapped attribute alert all day: an operator who switches those alerts off keeps
    the takeover of an administrator, and the other way round (review s11 F7)."""
    tags_off = load_settings({"rules": {TAGS: {"mode": "off"}}})
    [finding] = _judge(_updated("emails"), _group_admin(), tags_off).findings
    assert (finding.rule_id, finding.severity) == (RULE, Severity.CRITICAL)
    mapped = {"clearance": ["${path:title}"]}
    assert _judge(_updated("title"), _not_admin(mapped), tags_off).findings == ()

    takeover_off = load_settings({"rules": {RULE: {"mode": "off"}}})
    [finding] = _judge(_updated("title"), _not_admin(mapped), takeover_off).findings
    assert (finding.rule_id, finding.severity) == (TAGS, Severity.HIGH)
    assert _judge(_updated("emails"), _group_admin(), takeover_off).findings == ()


def _admin_mapped(mapping: dict[str, list[str]]) -> Live:
    sso = Assignments({("GROUP", GROUP): [ADMIN_SET]}, {ADMIN_SET: {"managed": [ADMIN]}}, mapping=mapping)
    return Live(sso, Store([GROUP]))


def _undecided_mapped(mapping: dict[str, list[str]]) -> Live:
    sets = {READ_SET: {"managed": [READ_ONLY], "references": ["org-admin"]}}
    return Live(Assignments({("GROUP", GROUP): [READ_SET]}, sets, mapping=mapping), Store([GROUP]))


@pytest.mark.parametrize(
    "live",
    [
        pytest.param(_admin_mapped, id="administrator"),
        pytest.param(_undecided_mapped, id="sets-not-all-judged"),
    ],
)
@pytest.mark.parametrize(
    "settings",
    [
        pytest.param({"mode": "off"}, id="takeover-off"),
        pytest.param({"allow_resources": [f"arn:aws:identitystore:::user/{USER}"]}, id="takeover-excepted"),
        pytest.param({}, id="default"),
    ],
)
def test_a_mapped_attribute_changed_beside_a_sign_in_attribute_is_judged_whatever_the_takeover_rule_says(
    live: Any, settings: dict[str, Any]
) -> None:
    """Adding the user name to a PATCH of ``title`` must not hide the title under the takeover rule: muted, excepted
    or judged, the session-tag alert stays, an administrator's above all (review s12 F1)."""
    mapped = {"clearance": ["${path:title}"]}
    judgement = _judge(_updated("title", "userName"), live(mapped), load_settings({"rules": {RULE: settings}}))
    [tags] = [finding for finding in judgement.findings if finding.rule_id == TAGS]
    assert (tags.severity, tags.plan) == (Severity.HIGH, ())
    assert "aws:PrincipalTag/clearance <- ${path:title}" in tags.reason
    assert judgement.verdict is Verdict.VIOLATION
    assert (RULE in {finding.rule_id for finding in judgement.findings}) is (settings == {})


def test_a_mapped_attribute_changed_beside_a_sign_in_attribute_in_an_unknown_store_stays_alerted() -> None:
    """No instance holds the store: the takeover cannot be judged (medium), and neither can the mapping, under its
    own rule, so muting the takeover keeps it."""
    sso = Assignments({}, {}, mapping={"clearance": ["${path:title}"]}, store="d-1111111111")
    takeover_off = load_settings({"rules": {RULE: {"mode": "off"}}})
    [finding] = _judge(_updated("title", "emails"), Live(sso, Store([])), takeover_off).findings
    assert (finding.rule_id, finding.severity) == (TAGS, Severity.MEDIUM)
    assert "no Identity Center instance holds identity store" in finding.needs_context[0]


def test_an_administrators_mapped_sign_in_attribute_is_also_a_session_tag_change() -> None:
    """The takeover rule judges the sign-in; the tag taken from it is the session-tag rule's, muted or not."""
    takeover_off = load_settings({"rules": {RULE: {"mode": "off"}}})
    [finding] = _judge(_updated("userName"), _admin_mapped({"owner": ["${path:userName}"]}), takeover_off).findings
    assert (finding.rule_id, finding.severity) == (TAGS, Severity.HIGH)
    judgement = _judge(_updated("userName"), _admin_mapped({"owner": ["${path:userName}"]}))
    assert [(f.rule_id, f.severity) for f in judgement.findings] == [(RULE, Severity.CRITICAL), (TAGS, Severity.HIGH)]
