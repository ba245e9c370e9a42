"""IAM Roles Anywhere (botocore Stubber: moto has no Roles Anywhere) and IAM Identity Center (moto's sso-admin).

Each remediation is run by the enforcer as Lambda wires it and undone with ``iamwarden undo``'s executor; with
the Stubber, every call and its parameters are checked, in order.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.stub import Stubber

from iamwarden.adapters.clients import ClientFactory
from iamwarden.app.executor import AccountClients, StepRun
from iamwarden.app.service import EnforcerService
from iamwarden.domain.exceptions import UndoError
from iamwarden.domain.findings import Outcome, RemediationStep
from iamwarden.guardrails.identity_center import DeletePermissionSetInlinePolicy
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier

OPERATOR = f"arn:aws:iam::{HOME_ACCOUNT}:user/secops"
REGION = "eu-west-1"
TRUST_ANCHOR = "2b2a7e1c-5d3f-4a8e-9c61-0d7f3e5b1a90"
PROFILE = "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9"
INSTANCE = "arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6"
ADMIN_INLINE = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


def _only(result: dict[str, Any]) -> dict[str, Any]:
    [finding] = result["findings"]
    return dict(finding)


def _anchor(enabled: bool) -> dict[str, Any]:
    arn = f"arn:aws:rolesanywhere:{REGION}:{HOME_ACCOUNT}:trust-anchor/{TRUST_ANCHOR}"
    source = {"sourceType": "CERTIFICATE_BUNDLE", "sourceData": {"x509CertificateData": "-----BEGIN CERTIFICATE-----"}}
    return {"trustAnchor": {"trustAnchorId": TRUST_ANCHOR, "trustAnchorArn": arn, "enabled": enabled, "source": source}}


def test_an_unknown_trust_anchor_is_disabled_and_undo_enables_it(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("rules/roles-anywhere-trust-anchor/mode", "remediate")
    client = enforcer.executor.clients.client("rolesanywhere", HOME_ACCOUNT, REGION)
    ident = {"trustAnchorId": TRUST_ANCHOR}
    with Stubber(client) as stubber:
        stubber.add_response("get_trust_anchor", _anchor(enabled=True), ident)
        stubber.add_response("disable_trust_anchor", _anchor(enabled=False), ident)
        finding = _only(enforcer.handle(load_event("rolesanywhere-trust-anchor-bundle.json")))
        stubber.assert_no_pending_responses()
        stubber.add_response("get_trust_anchor", _anchor(enabled=False), ident)
        stubber.add_response("enable_trust_anchor", _anchor(enabled=True), ident)
        undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
        stubber.assert_no_pending_responses()

    assert finding["outcome"] == Outcome.REMEDIATED
    assert finding["done"] == [f"disabled Roles Anywhere trust-anchor {TRUST_ANCHOR}"]
    assert list(undo.restored) == [f"enabled Roles Anywhere trust-anchor {TRUST_ANCHOR} again"]
    [alert] = notifier.sent
    assert alert.finding is not None
    assert alert.finding.severity.value == "critical"


def test_a_trust_anchor_disabled_meanwhile_is_left_alone(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/roles-anywhere-trust-anchor/mode", "remediate")
    client = enforcer.executor.clients.client("rolesanywhere", HOME_ACCOUNT, REGION)
    with Stubber(client) as stubber:
        stubber.add_response("get_trust_anchor", _anchor(enabled=False), {"trustAnchorId": TRUST_ANCHOR})
        finding = _only(enforcer.handle(load_event("rolesanywhere-trust-anchor-bundle.json")))
        stubber.assert_no_pending_responses()

    assert finding["outcome"] == Outcome.REMEDIATED
    assert finding["done"] == []


def test_a_new_profile_is_disabled(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/roles-anywhere-trust-anchor/mode", "remediate")
    client = enforcer.executor.clients.client("rolesanywhere", HOME_ACCOUNT, REGION)
    profile = {"profile": {"profileId": PROFILE, "enabled": True}}
    with Stubber(client) as stubber:
        stubber.add_response("get_profile", profile, {"profileId": PROFILE})
        stubber.add_response("disable_profile", profile, {"profileId": PROFILE})
        finding = _only(enforcer.handle(load_event("rolesanywhere-create-profile.json")))
        stubber.assert_no_pending_responses()

    assert finding["done"] == [f"disabled Roles Anywhere profile {PROFILE}"]


def _sso(account: Account) -> Any:
    return account.session.client("sso-admin", region_name=REGION)


def _permission_set(account: Account) -> str:
    arn: str = _sso(account).create_permission_set(InstanceArn=INSTANCE, Name="DevOps")["PermissionSet"][
        "PermissionSetArn"
    ]
    return arn


def test_an_admin_inline_policy_of_a_permission_set_is_deleted_and_undo_puts_it_back(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    arn = _permission_set(account)
    sso = _sso(account)
    sso.put_inline_policy_to_permission_set(InstanceArn=INSTANCE, PermissionSetArn=arn, InlinePolicy=ADMIN_INLINE)
    event = load_event("sso-put-inline-policy-read.json")
    event["detail"]["requestParameters"].update({"permissionSetArn": arn, "inlinePolicy": ADMIN_INLINE})
    account.set("rules/permission-set-admin/mode", "remediate")

    finding = _only(enforcer.handle(event))

    assert finding["outcome"] == Outcome.REMEDIATED
    assert not sso.get_inline_policy_for_permission_set(InstanceArn=INSTANCE, PermissionSetArn=arn).get("InlinePolicy")
    [alert] = notifier.sent
    assert alert.finding is not None
    assert "not the one it replaced" in alert.finding.reason
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    inline = sso.get_inline_policy_for_permission_set(InstanceArn=INSTANCE, PermissionSetArn=arn)["InlinePolicy"]
    assert json.loads(inline) == json.loads(ADMIN_INLINE)


def _inline(account: Account, arn: str) -> Any:
    text = (
        _sso(account)
        .get_inline_policy_for_permission_set(InstanceArn=INSTANCE, PermissionSetArn=arn)
        .get("InlinePolicy")
    )
    return json.loads(text) if text else None


def _admin_put(arn: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The published-shape sample that keeps a one-bucket read and adds ``*`` on ``*``, aimed at ``arn``."""
    event = load_event("sso-put-inline-policy-admin.json")
    event["detail"]["requestParameters"]["permissionSetArn"] = arn
    return event, json.loads(event["detail"]["requestParameters"]["inlinePolicy"])


def test_an_admin_statement_put_beside_a_read_deletes_the_policy_and_the_alert_gives_the_rest_back_as_a_command(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    arn = _permission_set(account)
    event, document = _admin_put(arn)
    _sso(account).put_inline_policy_to_permission_set(
        InstanceArn=INSTANCE, PermissionSetArn=arn, InlinePolicy=json.dumps(document)
    )
    account.set("rules/permission-set-admin/mode", "remediate")

    finding = _only(enforcer.handle(event))

    assert finding["outcome"] == Outcome.REMEDIATED
    assert _inline(account, arn) is None
    alert = notifier.sent[0]
    assert alert.finding is not None
    rest = json.dumps({"Version": "2012-10-17", "Statement": [document["Statement"][0]]}, separators=(",", ":"))
    assert "the delete also takes the rest of that policy (all but Break)" in alert.finding.reason
    assert f"--permission-set-arn {arn} --inline-policy '{rest}'" in alert.finding.reason
    aws = AccountClients(ClientFactory(HOME_ACCOUNT, session=account.session), HOME_ACCOUNT, REGION)
    [step] = alert.finding.plan
    action = DeletePermissionSetInlinePolicy()
    done: list[str] = []  # the same step run again (a retry) finds the policy gone: nothing more is done
    action.apply(StepRun(aws, "f-1", "2026-12-06T08:00:00.000+00:00"), step, action.capture(aws, step), done)
    assert done == []
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert _inline(account, arn) == document


def test_an_inline_policy_changed_since_the_event_is_left_to_its_own_event(
    account: Account, enforcer: EnforcerService
) -> None:
    arn = _permission_set(account)
    event, _ = _admin_put(arn)
    later = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}]}
    _sso(account).put_inline_policy_to_permission_set(
        InstanceArn=INSTANCE, PermissionSetArn=arn, InlinePolicy=json.dumps(later)
    )
    account.set("rules/permission-set-admin/mode", "remediate")

    finding = _only(enforcer.handle(event))

    assert finding["done"] == []
    assert _inline(account, arn) == later
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)  # nothing was done: nothing to undo
    assert _inline(account, arn) == later


def test_undo_is_refused_when_the_set_has_another_inline_policy_since(
    account: Account, enforcer: EnforcerService
) -> None:
    arn = _permission_set(account)
    event, document = _admin_put(arn)
    sso = _sso(account)
    sso.put_inline_policy_to_permission_set(
        InstanceArn=INSTANCE, PermissionSetArn=arn, InlinePolicy=json.dumps(document)
    )
    account.set("rules/permission-set-admin/mode", "remediate")
    finding = _only(enforcer.handle(event))
    later = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}]}
    sso.put_inline_policy_to_permission_set(InstanceArn=INSTANCE, PermissionSetArn=arn, InlinePolicy=json.dumps(later))

    with pytest.raises(UndoError, match="has another inline policy since the remediation"):
        enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert _inline(account, arn) == later


def test_a_plan_recorded_before_the_event_document_was_kept_deletes_and_undoes_as_then(
    account: Account,
) -> None:
    arn = _permission_set(account)
    sso = _sso(account)
    sso.put_inline_policy_to_permission_set(InstanceArn=INSTANCE, PermissionSetArn=arn, InlinePolicy=ADMIN_INLINE)
    aws = AccountClients(ClientFactory(HOME_ACCOUNT, session=account.session), HOME_ACCOUNT, REGION)
    step = RemediationStep(
        DeletePermissionSetInlinePolicy.action, arn, {"instance_arn": INSTANCE, "permission_set_arn": arn}
    )
    action = DeletePermissionSetInlinePolicy()
    before = action.capture(aws, step)
    done: list[str] = []
    action.apply(StepRun(aws, "f-1", "2026-12-06T08:00:00.000+00:00"), step, before, done)
    assert done[0] == f"deleted the inline policy of permission set {arn}"
    assert _inline(account, arn) is None
    assert action.undo(aws, step, before) == [f"put the inline policy of permission set {arn} back"]
    assert _inline(account, arn) == json.loads(ADMIN_INLINE)


def _assignments(account: Account, arn: str) -> list[tuple[str, str]]:
    listed = _sso(account).list_account_assignments(
        InstanceArn=INSTANCE, AccountId="444455556666", PermissionSetArn=arn
    )
    return [(a["PrincipalType"], a["PrincipalId"]) for a in listed["AccountAssignments"]]


def test_an_assignment_of_an_admin_set_is_deleted_exactly_and_undo_assigns_again(
    account: Account, enforcer: EnforcerService
) -> None:
    arn = _permission_set(account)
    event = load_event("sso-assign-admin-permission-set.json")
    request = event["detail"]["requestParameters"]
    request["permissionSetArn"] = arn
    for principal in (request["principalId"], "0c0ffee0-aaaa-bbbb-cccc-000000000001"):
        _sso(account).create_account_assignment(
            InstanceArn=INSTANCE,
            TargetId="444455556666",
            TargetType="AWS_ACCOUNT",
            PermissionSetArn=arn,
            PrincipalType="USER",
            PrincipalId=principal,
        )
    account.set("rules/permission-set-admin/mode", "remediate")
    account.set("rules/permission-set-admin/admin_permission_sets", arn)
    before = _assignments(account, arn)

    finding = _only(enforcer.handle(event))

    assert finding["outcome"] == Outcome.REMEDIATED
    assert _assignments(account, arn) == [("USER", "0c0ffee0-aaaa-bbbb-cccc-000000000001")], "only that assignment"
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert sorted(_assignments(account, arn)) == sorted(before)


def test_a_detached_admin_policy_is_provisioned_to_the_accounts(account: Account, enforcer: EnforcerService) -> None:
    """A permission set provisioned to accounts gets ProvisionPermissionSet after the change (moto cannot: Stubber)."""
    account.set("rules/permission-set-admin/mode", "remediate")
    event = load_event("sso-attach-admin-to-permission-set.json")
    request = event["detail"]["requestParameters"]
    sets = {"InstanceArn": INSTANCE, "PermissionSetArn": request["permissionSetArn"]}
    admin = request["managedPolicyArn"]
    client = enforcer.executor.clients.client("sso-admin", HOME_ACCOUNT, REGION)
    with Stubber(client) as stubber:
        stubber.add_response(
            "list_managed_policies_in_permission_set",
            {"AttachedManagedPolicies": [{"Name": "AdministratorAccess", "Arn": admin}]},
            sets,
        )
        stubber.add_response("detach_managed_policy_from_permission_set", {}, {**sets, "ManagedPolicyArn": admin})
        stubber.add_response("list_accounts_for_provisioned_permission_set", {"AccountIds": ["444455556666"]}, sets)
        stubber.add_response(
            "provision_permission_set",
            {"PermissionSetProvisioningStatus": {"Status": "IN_PROGRESS"}},
            {**sets, "TargetType": "ALL_PROVISIONED_ACCOUNTS"},
        )
        finding = _only(enforcer.handle(event))
        stubber.assert_no_pending_responses()

    assert finding["done"] == [
        f"detached {admin} from permission set {request['permissionSetArn']}",
        f"provisioned permission set {request['permissionSetArn']} to its accounts",
    ]


# --- an assignment judged by what the permission set grants, read live (no admin_permission_sets) --------------

SET_ARN = "arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-0a1b2c3d4e5f6a7b"
SET_IDS = {"InstanceArn": INSTANCE, "PermissionSetArn": SET_ARN}
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
ASSIGNMENT = {
    "InstanceArn": INSTANCE,
    "PermissionSetArn": SET_ARN,
    "TargetId": "444455556666",
    "TargetType": "AWS_ACCOUNT",
    "PrincipalType": "USER",
    "PrincipalId": "94482488-3041-7026-18f3-0ecc0f8e1f4f",
}


def _set_reads(
    stubber: Stubber, managed: list[str], inline: str = "", references: int = 0, boundary: bool = False
) -> None:
    """The reads that judge what the set grants, in order (the boundary is read only when something is admin: here
    when AdministratorAccess is among the managed policies)."""
    stubber.add_response(
        "list_managed_policies_in_permission_set",
        {"AttachedManagedPolicies": [{"Name": arn.rsplit("/", 1)[-1], "Arn": arn} for arn in managed]},
        SET_IDS,
    )
    stubber.add_response("get_inline_policy_for_permission_set", {"InlinePolicy": inline} if inline else {}, SET_IDS)
    stubber.add_response(
        "list_customer_managed_policy_references_in_permission_set",
        {"CustomerManagedPolicyReferences": [{"Name": f"team-{n}", "Path": "/"} for n in range(references)]},
        SET_IDS,
    )
    admin = any(arn.endswith("/AdministratorAccess") for arn in managed)
    if admin and boundary:
        stubber.add_response(
            "get_permissions_boundary_for_permission_set",
            {"PermissionsBoundary": {"ManagedPolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}},
            SET_IDS,
        )
    elif admin:
        stubber.add_client_error(
            "get_permissions_boundary_for_permission_set", "ResourceNotFoundException", expected_params=SET_IDS
        )


def _assigned(stubber: Stubber, assigned: bool) -> None:
    found = [{k: ASSIGNMENT[k] for k in ("PrincipalType", "PrincipalId", "PermissionSetArn")}] if assigned else []
    stubber.add_response(
        "list_account_assignments",
        {"AccountAssignments": [{**a, "AccountId": "444455556666"} for a in found]},
        {"InstanceArn": INSTANCE, "AccountId": "444455556666", "PermissionSetArn": SET_ARN},
    )


def test_an_assignment_of_a_set_holding_administrator_access_is_deleted_without_any_pattern(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("rules/permission-set-admin/mode", "remediate")
    client = enforcer.executor.clients.client("sso-admin", HOME_ACCOUNT, REGION)
    with Stubber(client) as stubber:
        _set_reads(stubber, [ADMIN, "arn:aws:iam::aws:policy/ReadOnlyAccess"])
        _assigned(stubber, True)
        stubber.add_response(
            "delete_account_assignment", {"AccountAssignmentDeletionStatus": {"Status": "IN_PROGRESS"}}, ASSIGNMENT
        )
        finding = _only(enforcer.handle(load_event("sso-assign-admin-permission-set.json")))
        stubber.assert_no_pending_responses()

    assert finding["outcome"] == Outcome.REMEDIATED
    [alert] = notifier.sent
    assert alert.finding is not None
    assert f"assigned permission set {SET_ARN}, which grants AdministratorAccess" in alert.finding.reason
    assert alert.finding.needs_context == ()


def test_a_set_with_a_boundary_or_customer_managed_policies_is_alerted_with_what_is_unknown(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("rules/permission-set-admin/mode", "remediate")
    client = enforcer.executor.clients.client("sso-admin", HOME_ACCOUNT, REGION)
    with Stubber(client) as stubber:
        _set_reads(stubber, [ADMIN], references=1, boundary=True)
        finding = _only(enforcer.handle(load_event("sso-assign-admin-permission-set.json")))
        stubber.assert_no_pending_responses()

    assert finding["outcome"] == Outcome.ALERTED, "never removed on a guess"
    [alert] = notifier.sent
    assert alert.finding is not None
    assert alert.finding.needs_context == (
        f"what the customer-managed policies team-0 of permission set {SET_ARN} grant (each account holds its own "
        "policy of that name)",
        f"how far the permissions boundary of permission set {SET_ARN} narrows it",
    )


def test_an_assignment_of_a_read_only_set_is_compliant(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/permission-set-admin/mode", "remediate")
    client = enforcer.executor.clients.client("sso-admin", HOME_ACCOUNT, REGION)
    read = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]}
    )
    with Stubber(client) as stubber:
        _set_reads(stubber, ["arn:aws:iam::aws:policy/ReadOnlyAccess"], inline=read)
        result = enforcer.handle(load_event("sso-assign-admin-permission-set.json"))
        stubber.assert_no_pending_responses()

    assert result["findings"] == []
    assert result["verdict"] == "compliant"


def test_an_unreadable_set_is_no_verdict_and_nothing_is_removed(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("rules/permission-set-admin/mode", "remediate")
    client = enforcer.executor.clients.client("sso-admin", HOME_ACCOUNT, REGION)
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "list_managed_policies_in_permission_set", "AccessDeniedException", expected_params=SET_IDS
        )
        result = enforcer.handle(load_event("sso-assign-admin-permission-set.json"))
        stubber.assert_no_pending_responses()

    [finding] = result["findings"]
    assert finding["outcome"] == Outcome.NOTEWORTHY
    assert finding["done"] == []
    [alert] = notifier.sent
    assert alert.finding is not None
    assert alert.finding.plan == ()
    assert "could not read" in alert.finding.reason
    assert "AccessDeniedException" in alert.finding.reason


def _profile(enabled: bool) -> dict[str, Any]:
    arn = f"arn:aws:rolesanywhere:{REGION}:{HOME_ACCOUNT}:profile/{PROFILE}"
    return {"profile": {"profileId": PROFILE, "profileArn": arn, "name": "ci-admin", "enabled": enabled}}


def _disabled_profile(stubber: Stubber, enforcer: EnforcerService) -> dict[str, Any]:
    """roles-anywhere-trust-anchor disables the new profile ci-admin (its remediation, in force)."""
    ident = {"profileId": PROFILE}
    stubber.add_response("get_profile", _profile(enabled=True), ident)
    stubber.add_response("disable_profile", _profile(enabled=False), ident)
    finding = _only(enforcer.handle(load_event("rolesanywhere-create-profile.json")))
    stubber.assert_no_pending_responses()
    assert finding["done"] == [f"disabled Roles Anywhere profile {PROFILE}"]
    return finding


def test_a_disabled_profile_is_enabled_again_by_undo(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/roles-anywhere-trust-anchor/mode", "remediate")
    client = enforcer.executor.clients.client("rolesanywhere", HOME_ACCOUNT, REGION)
    ident = {"profileId": PROFILE}
    with Stubber(client) as stubber:
        finding = _disabled_profile(stubber, enforcer)
        stubber.add_response("get_profile", _profile(enabled=False), ident)
        stubber.add_response("enable_profile", _profile(enabled=True), ident)
        undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
        stubber.assert_no_pending_responses()

    assert list(undo.restored) == [f"enabled Roles Anywhere profile {PROFILE} again"]


def test_undo_of_a_profile_enabled_meanwhile_changes_nothing(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/roles-anywhere-trust-anchor/mode", "remediate")
    client = enforcer.executor.clients.client("rolesanywhere", HOME_ACCOUNT, REGION)
    with Stubber(client) as stubber:
        finding = _disabled_profile(stubber, enforcer)
        stubber.add_response("get_profile", _profile(enabled=True), {"profileId": PROFILE})
        undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
        stubber.assert_no_pending_responses()  # read, and no EnableProfile

    assert list(undo.restored) == []


def test_undo_of_a_profile_deleted_meanwhile_says_so(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/roles-anywhere-trust-anchor/mode", "remediate")
    client = enforcer.executor.clients.client("rolesanywhere", HOME_ACCOUNT, REGION)
    with Stubber(client) as stubber:
        finding = _disabled_profile(stubber, enforcer)
        stubber.add_client_error("get_profile", "ResourceNotFoundException", http_status_code=404)
        with pytest.raises(UndoError, match=f"Roles Anywhere profile {PROFILE} no longer exists"):
            enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)


def test_a_profile_enabled_again_by_hand_is_disabled_again_and_reported_critical(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("rules/roles-anywhere-trust-anchor/mode", "remediate")
    client = enforcer.executor.clients.client("rolesanywhere", HOME_ACCOUNT, REGION)
    ident = {"profileId": PROFILE}
    with Stubber(client) as stubber:
        first = _disabled_profile(stubber, enforcer)
        stubber.add_response("get_profile", _profile(enabled=True), ident)
        stubber.add_response("disable_profile", _profile(enabled=False), ident)
        reversal = _only(enforcer.handle(load_event("rolesanywhere-enable-profile.json")))
        stubber.assert_no_pending_responses()
        stubber.add_response("get_profile", _profile(enabled=False), ident)
        stubber.add_response("enable_profile", _profile(enabled=True), ident)
        undo = enforcer.executor.undo(reversal["remediation_id"], actor=OPERATOR)
        stubber.assert_no_pending_responses()

    assert reversal["rule"] == "remediation-reversed"
    assert reversal["outcome"] == Outcome.REMEDIATED
    assert reversal["done"] == [f"disabled Roles Anywhere profile {PROFILE}"]
    alert = notifier.sent[-1]
    assert alert.finding is not None
    assert alert.finding.severity.value == "critical"
    assert first["remediation_id"] in alert.finding.reason
    assert list(undo.restored) == [f"enabled Roles Anywhere profile {PROFILE} again"]


def test_a_trust_anchor_enabled_again_after_an_operators_undo_is_no_reversal(
    account: Account, enforcer: EnforcerService
) -> None:
    account.set("rules/roles-anywhere-trust-anchor/mode", "remediate")
    # The operator's undo, and its EnableTrustAnchor made with the operator's role (the sample's developer).
    account.set("rules/iamwarden-tampered/operators", f"{OPERATOR},arn:aws:iam::{HOME_ACCOUNT}:role/developer")
    client = enforcer.executor.clients.client("rolesanywhere", HOME_ACCOUNT, REGION)
    ident = {"trustAnchorId": TRUST_ANCHOR}
    with Stubber(client) as stubber:
        stubber.add_response("get_trust_anchor", _anchor(enabled=True), ident)
        stubber.add_response("disable_trust_anchor", _anchor(enabled=False), ident)
        finding = _only(enforcer.handle(load_event("rolesanywhere-trust-anchor-bundle.json")))
        stubber.add_response("get_trust_anchor", _anchor(enabled=False), ident)
        stubber.add_response("enable_trust_anchor", _anchor(enabled=True), ident)
        enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
        result = enforcer.handle(load_event("rolesanywhere-enable-trust-anchor.json"))
        stubber.assert_no_pending_responses()

    assert (result["verdict"], result["findings"]) == ("compliant", [])


def test_a_trust_anchor_enabled_again_by_hand_is_disabled_again(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/roles-anywhere-trust-anchor/mode", "remediate")
    client = enforcer.executor.clients.client("rolesanywhere", HOME_ACCOUNT, REGION)
    ident = {"trustAnchorId": TRUST_ANCHOR}
    with Stubber(client) as stubber:
        stubber.add_response("get_trust_anchor", _anchor(enabled=True), ident)
        stubber.add_response("disable_trust_anchor", _anchor(enabled=False), ident)
        enforcer.handle(load_event("rolesanywhere-trust-anchor-bundle.json"))
        stubber.add_response("get_trust_anchor", _anchor(enabled=True), ident)
        stubber.add_response("disable_trust_anchor", _anchor(enabled=False), ident)
        reversal = _only(enforcer.handle(load_event("rolesanywhere-enable-trust-anchor.json")))
        stubber.assert_no_pending_responses()

    assert (reversal["rule"], reversal["done"]) == (
        "remediation-reversed",
        [f"disabled Roles Anywhere trust-anchor {TRUST_ANCHOR}"],
    )


def test_a_trust_anchor_iam_warden_never_disabled_is_no_reversal(account: Account, enforcer: EnforcerService) -> None:
    result = enforcer.handle(load_event("rolesanywhere-enable-trust-anchor.json"))

    assert (result["verdict"], result["findings"]) == ("compliant", [])
