"""iamwarden-tampered and the member stack itself (audit s8 finding 1).

A member admin deletes or updates the member StackSet's instance in their account. CloudFormation then acts with
the admin's credentials: each deletion of a forwarding rule or a member role's policy carries ``invokedBy``
CloudFormation. Before, every such change was "IAM Warden's own stack deploying" (compliant) and the
``DeleteStack`` itself was never forwarded. Now:

* the stack's own operations are forwarded by the guard rules and judged: anyone but the StackSets service is
  critical; the service's update is left to the changes it makes; its deletion is alerted, alert-only, since the
  event names the execution role only;
* a change CloudFormation makes in a member account under anyone's session but the StackSets execution role's is
  judged like anyone's (restored where the change is restorable); under that role, a change with no content to
  compare (a deletion) is alerted high, alert-only: the event cannot show the stack behind it.
"""

from __future__ import annotations

from typing import Any

from iamwarden.app.service import EnforcerService
from iamwarden.domain.catalog import Severity
from iamwarden.domain.findings import Finding
from tests.functional.conftest import Account, RecordingNotifier
from tests.functional.test_tampering_members import (
    MEMBER,
    REMEDIATOR,
    RULE,
    _event,
    _heartbeat_snapshots,
    _member_stack,
    _session,
)

CLOUDFORMATION = "cloudformation.amazonaws.com"
MEMBER_STACK = "StackSet-iamwarden-member-0a1b2c3d-4e5f-6789-abcd-ef0123456789"
#: The StackSets service's execution role in the member account (service-managed StackSet: created by the service).
STACK_SETS_ROLE = "stacksets-exec-c2f6a349c14169d235450f9b214de3d1"


def _as(event: dict[str, Any], role: str, *, by_cloudformation: bool = False) -> dict[str, Any]:
    """``event`` made by a session of ``role`` in the member account (CloudFormation's on its behalf if said)."""
    identity = event["detail"]["userIdentity"]
    identity["type"] = "AssumedRole"
    identity["arn"] = f"arn:aws:sts::{MEMBER}:assumed-role/{role}/session"
    identity["principalId"] = "AROAEXAMPLECALLER001:session"
    identity["sessionContext"] = {
        "sessionIssuer": {
            "type": "Role",
            "principalId": "AROAEXAMPLECALLER001",
            "arn": f"arn:aws:iam::{MEMBER}:role/{role}",
            "accountId": MEMBER,
            "userName": role,
        },
        "attributes": {"creationDate": "2026-11-13T08:57:18Z", "mfaAuthenticated": "false"},
    }
    if by_cloudformation:
        identity["invokedBy"] = CLOUDFORMATION
        event["detail"]["sourceIPAddress"] = CLOUDFORMATION
        event["detail"]["userAgent"] = CLOUDFORMATION
    return event


def _stack_event(name: str, role: str, **request: Any) -> dict[str, Any]:
    event = _as(_event("tamper-member-stack-deleted.json", MEMBER, **request), role)
    event["detail"]["eventName"] = name
    event["detail"]["eventID"] = event["detail"]["eventID"][:-8] + f"{abs(hash((name, role))) % 10**8:08d}"
    return event


def _handled(enforcer: EnforcerService, notifier: RecordingNotifier, event: dict[str, Any]) -> list[Finding]:
    """The iamwarden-tampered findings ``event`` gave, as alerted (each finding's alert left)."""
    sent = len(notifier.sent)
    result = enforcer.handle(event)
    findings = [n.finding for n in notifier.sent[sent:] if n.finding is not None and n.finding.rule_id == RULE]
    assert len(findings) == len([f for f in result["findings"] if f["rule"] == RULE])
    return findings


def _outcome(result: dict[str, Any]) -> str:
    [finding] = [finding for finding in result["findings"] if finding["rule"] == RULE]
    return str(finding["outcome"])


def test_a_member_admin_deleting_the_member_stack_is_critical_tampering(
    enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    event = _as(_event("tamper-member-stack-deleted.json", MEMBER), "admin")

    [finding] = _handled(enforcer, notifier, event)

    assert finding.severity is Severity.CRITICAL
    assert finding.resource_arn == f"arn:aws:cloudformation:us-east-1:{MEMBER}:stack/{MEMBER_STACK}"
    assert "create-stack-instances --stack-set-name iamwarden-member" in finding.reason
    assert f"Accounts={MEMBER}" in finding.reason


def test_a_member_admin_updating_the_member_stack_is_critical_tampering(
    enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    for name in ("UpdateStack", "CreateChangeSet", "ExecuteChangeSet", "SetStackPolicy"):
        [finding] = _handled(enforcer, notifier, _stack_event(name, "admin"))
        assert finding.severity is Severity.CRITICAL, name
        assert "only the member StackSet deploys it" in finding.reason, name


def test_the_stack_by_its_arn_is_the_member_stack_too(enforcer: EnforcerService, notifier: RecordingNotifier) -> None:
    arn = f"arn:aws:cloudformation:us-east-1:{MEMBER}:stack/{MEMBER_STACK}/0a1b2c3d-0000-0000-0000-000000000000"
    [finding] = _handled(enforcer, notifier, _stack_event("UpdateStack", "admin", stackName=arn))
    assert finding.severity is Severity.CRITICAL


def test_another_stack_in_the_member_account_is_not_iamwardens(
    enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    for stack in ("app-stack", "StackSet-other-member-0a1b2c3d", "iamwarden"):
        assert _handled(enforcer, notifier, _stack_event("DeleteStack", "admin", stackName=stack)) == [], stack


def test_the_stacksets_services_update_is_left_to_the_changes_it_makes(
    enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    result = enforcer.handle(_stack_event("UpdateStack", STACK_SETS_ROLE))
    assert result["verdict"] == "compliant", result
    assert not notifier.sent


def test_the_stacksets_services_deletion_is_alerted_never_exempted_on_its_roles_name(
    enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """A member admin can create a role named stacksets-exec-*: the deletion is alerted (high, alert-only)."""
    event = _stack_event("DeleteStack", STACK_SETS_ROLE)
    [finding] = _handled(enforcer, notifier, event)
    assert finding.severity is Severity.HIGH
    assert not finding.plan
    assert any("can create a role of that name" in fact for fact in finding.needs_context)


def test_a_look_alike_stacksets_role_name_exempts_nothing(
    enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Only the service's role pattern (stacksets-exec- and 32 hex digits) counts as the StackSet's."""
    for role in ("stacksets-exec-admin", f"{STACK_SETS_ROLE}0", "AWSCloudFormationStackSetExecutionRole"):
        [finding] = _handled(enforcer, notifier, _stack_event("UpdateStack", role))
        assert finding.severity is Severity.CRITICAL, role


def test_cloudformation_deleting_a_member_rule_for_a_member_admin_is_tampering(
    enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """The deletions a member admin's DeleteStack makes: each carries invokedBy CloudFormation, under the admin's
    session. Before, each was compliant ("IAM Warden's own stack deploying")."""
    for rule in ("iamwarden-forward-guard-a", "iamwarden-forward-iam", "iamwarden-forward-s3"):
        event = _as(_event("tamper-delete-rule.json", MEMBER, name=rule), "admin", by_cloudformation=True)
        [finding] = _handled(enforcer, notifier, event)
        assert finding.severity is Severity.CRITICAL, rule
        assert "the member StackSet's service did not run" in finding.reason, rule


def test_cloudformation_deleting_a_member_rule_as_the_stacksets_role_is_alerted_alert_only(
    enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    rule = "iamwarden-forward-guard-b"
    event = _as(_event("tamper-delete-rule.json", MEMBER, name=rule), STACK_SETS_ROLE, by_cloudformation=True)
    [finding] = _handled(enforcer, notifier, event)
    assert finding.severity is Severity.HIGH
    assert not finding.plan
    assert finding.needs_context


def test_cloudformation_deleting_a_member_roles_policy_for_a_member_admin_is_put_back(
    account: Account, enforcer: EnforcerService
) -> None:
    """The restore from the heartbeat's snapshot runs as for anyone's deletion (before: compliant, nothing done)."""
    iam = _session(account, MEMBER).client("iam")
    _member_stack(iam)
    _heartbeat_snapshots(account, MEMBER)
    iam.delete_role_policy(RoleName=REMEDIATOR, PolicyName="enforcer-judging-context")
    event = _event("tamper-member-policy-deleted.json", MEMBER)
    event["detail"]["eventName"] = "DeleteRolePolicy"
    event["detail"]["requestParameters"] = {"roleName": REMEDIATOR, "policyName": "enforcer-judging-context"}
    event = _as(event, "admin", by_cloudformation=True)

    assert _outcome(enforcer.handle(event)) == "remediated"

    assert "enforcer-judging-context" in iam.list_role_policies(RoleName=REMEDIATOR)["PolicyNames"]
