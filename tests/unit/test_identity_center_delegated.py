"""A delegated administrator's reads of a group's (or user's) assignments, against botocore's Stubber.

Identity Center answers ``ListAccountAssignmentsForPrincipal`` only in the management account ("This action must be
called from the management account containing your organization instance", its API reference). Refused in a
delegated administrator account, the judgement reads set by set instead: ``ListPermissionSets``, each set's
``ListAccountsForProvisionedPermissionSet``, then ``ListAccountAssignments`` of each account but the management
account's, filtered to the principal (review ic s10 finding 4). The Stubber checks each call's parameters and each
answer against botocore's sso-admin model. A refusal IAM itself words ("is not authorized to perform") is IAM
Warden's missing grant, never explained as the delegated administrator's limit.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from iamwarden.adapters.errors import PermanentAwsError
from iamwarden.domain.catalog import Severity
from iamwarden.domain.findings import StepAction, Verdict
from iamwarden.domain.settings import Settings, load_settings
from iamwarden.guardrails.engine import judge_event
from iamwarden.guardrails.identity_center import Instance, _refused_to_delegate
from tests.conftest import load_event
from tests.unit.test_identity_center_groups import ADMIN, ADMIN_SET, GROUP, INSTANCE, READ_SET, STORE

RULE = "identity-center-group-admin"
API = "identitystore-add-user-to-admin-group.json"
HOME = "111122223333"
MANAGEMENT = "999988887777"
MEMBER = "444455556666"
#: IAM's wording when the caller holds no grant (the Access Denied error messages of the IAM User Guide).
NOT_GRANTED = (
    f"User: arn:aws:sts::{HOME}:assumed-role/iamwarden-enforcer/x is not authorized to perform: "
    f"sso:ListAccountAssignmentsForPrincipal on resource: {INSTANCE}"
)


class Live:
    """The enforcer's live clients of the event's account: a stubbed sso-admin client."""

    def __init__(self, sso: Any) -> None:
        self.sso = sso

    def client(self, service: str) -> Any:
        assert service == "sso-admin", service
        return self.sso


def _stubbed() -> tuple[Any, Stubber]:
    client = boto3.client("sso-admin", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    stubber.add_response(
        "list_instances",
        {"Instances": [{"InstanceArn": INSTANCE, "IdentityStoreId": STORE, "OwnerAccountId": MANAGEMENT}]},
        {},
    )
    return client, stubber


def _refuse_for_principal(stubber: Stubber, code: str = "AccessDeniedException", message: str = "Denied") -> None:
    stubber.add_client_error(
        "list_account_assignments_for_principal",
        service_error_code=code,
        service_message=message,
        http_status_code=400 if code == "ValidationException" else 403,
        expected_params={"InstanceArn": INSTANCE, "PrincipalId": GROUP, "PrincipalType": "GROUP"},
    )


def _assignments(stubber: Stubber, permission_set: str, account: str, principals: list[tuple[str, str]]) -> None:
    stubber.add_response(
        "list_account_assignments",
        {
            "AccountAssignments": [
                {"AccountId": account, "PermissionSetArn": permission_set, "PrincipalType": kind, "PrincipalId": who}
                for kind, who in principals
            ]
        },
        {"InstanceArn": INSTANCE, "AccountId": account, "PermissionSetArn": permission_set},
    )


def _accounts(stubber: Stubber, permission_set: str, accounts: list[str]) -> None:
    stubber.add_response(
        "list_accounts_for_provisioned_permission_set",
        {"AccountIds": accounts},
        {"InstanceArn": INSTANCE, "PermissionSetArn": permission_set},
    )


def _admin_set_reads(stubber: Stubber) -> None:
    ids = {"InstanceArn": INSTANCE, "PermissionSetArn": ADMIN_SET}
    stubber.add_response(
        "list_managed_policies_in_permission_set",
        {"AttachedManagedPolicies": [{"Name": "AdministratorAccess", "Arn": ADMIN}]},
        ids,
    )
    stubber.add_response("get_inline_policy_for_permission_set", {}, ids)
    stubber.add_response(
        "list_customer_managed_policy_references_in_permission_set", {"CustomerManagedPolicyReferences": []}, ids
    )
    stubber.add_client_error(
        "get_permissions_boundary_for_permission_set",
        service_error_code="ResourceNotFoundException",
        expected_params=ids,
    )


def _judge(client: Any, settings: Settings | None = None) -> Any:
    live = Live(client)
    return judge_event(load_event(API), settings or Settings(), live_clients=lambda account, region: live)  # type: ignore[arg-type,return-value]


def test_an_admin_set_found_set_by_set_is_critical_and_removes_exactly_the_membership() -> None:
    client, stubber = _stubbed()
    _refuse_for_principal(stubber)
    stubber.add_response("list_permission_sets", {"PermissionSets": [ADMIN_SET, READ_SET]}, {"InstanceArn": INSTANCE})
    _accounts(stubber, ADMIN_SET, [MANAGEMENT, MEMBER])  # the management account's assignments are not read
    _assignments(stubber, ADMIN_SET, MEMBER, [("USER", "someone"), ("GROUP", GROUP)])
    _accounts(stubber, READ_SET, [MEMBER])
    _assignments(stubber, READ_SET, MEMBER, [("GROUP", "another-group")])
    _admin_set_reads(stubber)
    with stubber:
        [finding] = _judge(client).findings
        stubber.assert_no_pending_responses()
    assert (finding.rule_id, finding.severity, finding.needs_context) == (RULE, Severity.CRITICAL, ())
    assert f"{ADMIN_SET} (in account {MEMBER}), which grants AdministratorAccess" in finding.reason
    assert READ_SET not in finding.reason
    [step] = finding.plan
    assert step.action == StepAction.DELETE_GROUP_MEMBERSHIP


def test_a_group_with_no_assignment_found_set_by_set_is_still_unknown_in_the_management_account() -> None:
    client, stubber = _stubbed()
    _refuse_for_principal(stubber, "ValidationException")
    stubber.add_response("list_permission_sets", {"PermissionSets": [ADMIN_SET]}, {"InstanceArn": INSTANCE})
    _accounts(stubber, ADMIN_SET, [MEMBER])
    _assignments(stubber, ADMIN_SET, MEMBER, [("GROUP", "another-group"), ("USER", GROUP)])  # the ID, but a user
    with stubber:
        [finding] = _judge(client).findings
        stubber.assert_no_pending_responses()
    assert (finding.severity, finding.plan != []) == (Severity.MEDIUM, True)
    [unknown] = finding.needs_context
    assert unknown.startswith(f"what group {GROUP} is assigned in the management account {MANAGEMENT}")
    assert f"read set by set from account {HOME}" in unknown


def test_an_account_whose_assignments_are_refused_is_named_never_taken_as_none() -> None:
    client, stubber = _stubbed()
    _refuse_for_principal(stubber)
    stubber.add_response("list_permission_sets", {"PermissionSets": [ADMIN_SET]}, {"InstanceArn": INSTANCE})
    _accounts(stubber, ADMIN_SET, [MEMBER])
    stubber.add_client_error(
        "list_account_assignments",
        service_error_code="AccessDeniedException",
        http_status_code=403,
        expected_params={"InstanceArn": INSTANCE, "AccountId": MEMBER, "PermissionSetArn": ADMIN_SET},
    )
    with stubber:
        [finding] = _judge(client).findings
    assert finding.severity is Severity.MEDIUM
    management, refused = finding.needs_context
    assert management.startswith(f"what group {GROUP} is assigned in the management account")
    assert refused.startswith(f"whether group {GROUP} holds permission set {ADMIN_SET} in {MEMBER}: ")
    assert "ListAccountAssignments was refused (AccessDeniedException)" in refused
    assert "or IAM Warden's role lacks the grant" in refused


def test_a_refused_list_of_sets_leaves_the_group_unknown_with_both_refusals() -> None:
    client, stubber = _stubbed()
    _refuse_for_principal(stubber)
    stubber.add_client_error("list_permission_sets", service_error_code="AccessDeniedException", http_status_code=403)
    with stubber:
        [finding] = _judge(client).findings
    assert finding.severity is Severity.MEDIUM
    [unknown] = finding.needs_context
    assert "ListAccountAssignmentsForPrincipal was refused" in unknown
    assert "ListPermissionSets was refused" in unknown


def test_iams_own_refusal_is_iam_wardens_missing_grant_not_the_delegated_administrators_limit() -> None:
    client, stubber = _stubbed()
    _refuse_for_principal(stubber, message=NOT_GRANTED)
    with stubber:
        judgement = _judge(client)
        stubber.assert_no_pending_responses()  # no set-by-set reads: the grant is missing, not the account's right
    assert judgement.verdict is Verdict.IGNORED
    [unreadable] = judgement.unjudged
    assert "IAM Warden's role may read it" in unreadable.reason


def test_a_missing_grant_for_a_set_by_set_read_is_an_error() -> None:
    client, stubber = _stubbed()
    _refuse_for_principal(stubber)
    stubber.add_client_error(
        "list_permission_sets",
        service_error_code="AccessDeniedException",
        service_message=NOT_GRANTED.replace("ListAccountAssignmentsForPrincipal", "ListPermissionSets"),
        http_status_code=403,
    )
    with stubber:
        judgement = _judge(client)
    assert judgement.verdict is Verdict.IGNORED
    [unreadable] = judgement.unjudged
    assert unreadable.plan == ()


def _error(code: str, operation: str, message: str = "refused") -> PermanentAwsError:
    return PermanentAwsError(f"{operation}: {message}", code=code, operation=operation)


DELEGATED = Instance(INSTANCE, MANAGEMENT)


@pytest.mark.parametrize(
    ("error", "instance", "explained"),
    [
        (_error("AccessDeniedException", "ListAccountAssignmentsForPrincipal"), DELEGATED, "only there"),
        (_error("ValidationException", "ListAccountAssignmentsForPrincipal"), DELEGATED, "only there"),
        (_error("AccessDeniedException", "ListManagedPoliciesInPermissionSet"), DELEGATED, "lacks the grant"),
        (_error("AccessDenied", "ListAccountAssignments"), DELEGATED, "lacks the grant"),
        # a malformed request is no limit of the account's
        (_error("ValidationException", "ListManagedPoliciesInPermissionSet"), DELEGATED, None),
        # IAM's own wording: IAM Warden's grant is missing
        (_error("AccessDeniedException", "ListPermissionSets", NOT_GRANTED), DELEGATED, None),
        (_error("ResourceNotFoundException", "ListAccountAssignmentsForPrincipal"), DELEGATED, None),
        # the owner's own account, or an owner not known: always an error
        (_error("AccessDeniedException", "ListAccountAssignmentsForPrincipal"), Instance(INSTANCE, HOME), None),
        (_error("AccessDeniedException", "ListAccountAssignmentsForPrincipal"), Instance(INSTANCE, None), None),
        (_error("AccessDeniedException", "ListAccountAssignmentsForPrincipal"), None, None),
    ],
)
def test_which_refusals_are_the_delegated_administrators_limit(
    error: PermanentAwsError, instance: Instance | None, explained: str | None
) -> None:
    why = _refused_to_delegate(error, instance, HOME)
    if explained is None:
        assert why is None
    else:
        assert why is not None
        assert explained in why
        assert f"the management account {MANAGEMENT}" in why


def test_an_organisation_too_big_to_read_stops_at_the_limit_and_says_the_rest_is_unknown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("iamwarden.guardrails.identity_center.DELEGATED_READ_LIMIT", 50)
    client, stubber = _stubbed()
    _refuse_for_principal(stubber)
    sets = [f"arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-{n:016x}" for n in range(40)]
    stubber.add_response("list_permission_sets", {"PermissionSets": sets}, {"InstanceArn": INSTANCE})
    # 1 call for the sets, then 2 per set: 24 sets read whole, the 25th's accounts are the 50th call.
    for permission_set in sets[:24]:
        _accounts(stubber, permission_set, [MEMBER])
        _assignments(stubber, permission_set, MEMBER, [("GROUP", "another-group")])
    _accounts(stubber, sets[24], [MEMBER])
    with stubber:
        [finding] = _judge(client).findings
        stubber.assert_no_pending_responses()  # and no 51st call: the Stubber would have refused it
    assert finding.severity is Severity.MEDIUM
    management, cut = finding.needs_context
    assert management.startswith(f"what group {GROUP} is assigned in the management account")
    assert cut.startswith(f"what else group {GROUP} is assigned: the set-by-set read was cut short after 50 ")
    assert "before ListAccountAssignments" in cut


def test_an_admin_set_found_before_the_limit_still_settles_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("iamwarden.guardrails.identity_center.DELEGATED_READ_LIMIT", 3)
    client, stubber = _stubbed()
    _refuse_for_principal(stubber)
    stubber.add_response("list_permission_sets", {"PermissionSets": [ADMIN_SET, READ_SET]}, {"InstanceArn": INSTANCE})
    _accounts(stubber, ADMIN_SET, [MEMBER])
    _assignments(stubber, ADMIN_SET, MEMBER, [("GROUP", GROUP)])
    _admin_set_reads(stubber)  # judging the found set is not the set-by-set read
    with stubber:
        [finding] = _judge(client).findings
        stubber.assert_no_pending_responses()
    assert (finding.severity, finding.needs_context) == (Severity.CRITICAL, ())
    [step] = finding.plan
    assert step.action == StepAction.DELETE_GROUP_MEMBERSHIP


def test_each_page_of_a_read_is_a_call_of_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("iamwarden.guardrails.identity_center.DELEGATED_READ_LIMIT", 2)
    client, stubber = _stubbed()
    _refuse_for_principal(stubber)
    stubber.add_response(
        "list_permission_sets", {"PermissionSets": [READ_SET], "NextToken": "more"}, {"InstanceArn": INSTANCE}
    )
    stubber.add_response(
        "list_permission_sets",
        {"PermissionSets": [ADMIN_SET], "NextToken": "again"},
        {"InstanceArn": INSTANCE, "NextToken": "more"},
    )
    with stubber:
        [finding] = _judge(client).findings
        stubber.assert_no_pending_responses()
    assert finding.severity is Severity.MEDIUM
    assert "cut short after 2 Identity Center calls" in finding.needs_context[-1]
    assert "before ListPermissionSets" in finding.needs_context[-1]


def test_an_ordinary_organisation_fits_the_limit_and_its_last_admin_set_is_critical_and_removed() -> None:
    """Thirty sets, the admin set listed last: read whole (61 calls), critical and removed as on main (review F1)."""
    client, stubber = _stubbed()
    _refuse_for_principal(stubber)
    sets = [f"arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-{n:016x}" for n in range(29)] + [ADMIN_SET]
    stubber.add_response("list_permission_sets", {"PermissionSets": sets}, {"InstanceArn": INSTANCE})
    for permission_set in sets:
        _accounts(stubber, permission_set, [MEMBER])
        who = GROUP if permission_set == ADMIN_SET else "another-group"
        _assignments(stubber, permission_set, MEMBER, [("GROUP", who)])
    _admin_set_reads(stubber)
    with stubber:
        [finding] = _judge(client).findings
        stubber.assert_no_pending_responses()
    assert (finding.severity, finding.needs_context) == (Severity.CRITICAL, ())
    [step] = finding.plan
    assert step.action == StepAction.DELETE_GROUP_MEMBERSHIP


def test_the_sets_admin_permission_sets_names_are_walked_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """Listed last but named: walked first, so a limit of 3 calls still finds it (critical, removed, nothing read)."""
    monkeypatch.setattr("iamwarden.guardrails.identity_center.DELEGATED_READ_LIMIT", 3)
    client, stubber = _stubbed()
    _refuse_for_principal(stubber)
    stubber.add_response("list_permission_sets", {"PermissionSets": [READ_SET, ADMIN_SET]}, {"InstanceArn": INSTANCE})
    _accounts(stubber, ADMIN_SET, [MEMBER])
    _assignments(stubber, ADMIN_SET, MEMBER, [("GROUP", GROUP)])
    settings = load_settings({"rules": {"permission-set-admin": {"admin_permission_sets": [ADMIN_SET]}}})
    with stubber:
        [finding] = _judge(client, settings).findings
        stubber.assert_no_pending_responses()
    assert finding.severity is Severity.CRITICAL
    assert "in admin_permission_sets" in finding.reason
    [step] = finding.plan
    assert step.action == StepAction.DELETE_GROUP_MEMBERSHIP


def test_a_page_read_before_the_limit_still_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The budget runs out between two pages of ListAccountAssignments: the first page's admin set settles it."""
    monkeypatch.setattr("iamwarden.guardrails.identity_center.DELEGATED_READ_LIMIT", 3)
    client, stubber = _stubbed()
    _refuse_for_principal(stubber)
    stubber.add_response("list_permission_sets", {"PermissionSets": [ADMIN_SET]}, {"InstanceArn": INSTANCE})
    _accounts(stubber, ADMIN_SET, [MEMBER])
    stubber.add_response(
        "list_account_assignments",
        {
            "AccountAssignments": [
                {"AccountId": MEMBER, "PermissionSetArn": ADMIN_SET, "PrincipalType": "GROUP", "PrincipalId": GROUP}
            ],
            "NextToken": "more",
        },
        {"InstanceArn": INSTANCE, "AccountId": MEMBER, "PermissionSetArn": ADMIN_SET},
    )
    _admin_set_reads(stubber)
    with stubber:
        [finding] = _judge(client).findings
        stubber.assert_no_pending_responses()
    assert (finding.severity, finding.needs_context) == (Severity.CRITICAL, ())
    [step] = finding.plan
    assert step.action == StepAction.DELETE_GROUP_MEMBERSHIP
