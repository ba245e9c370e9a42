"""iamwarden-tampered in member accounts (moto, three accounts): the member stack's own roles restored from their
own account's snapshot, which the heartbeat takes through the member's ``iamwarden-snapshot-reader`` role.

The enforcer acts in the member account through its member role (``iamwarden-remediator``, assumed by the
ClientFactory); the snapshot is keyed by that account's ARN of the role, so another account's role of the same
name, or a role of that name re-created at another path, never receives it.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from iamwarden.adapters.audit import AuditStatus
from iamwarden.adapters.clients import ClientFactory
from iamwarden.adapters.recorded import AuditRecorded
from iamwarden.app.executor import AccountClients, StepRun
from iamwarden.app.heartbeat import MemberSnapshots
from iamwarden.app.service import EnforcementFailedError, EnforcerService
from iamwarden.domain.declared_content import declared_grant
from iamwarden.domain.exceptions import AwsAccessError
from iamwarden.domain.findings import RemediationStep
from iamwarden.domain.recorded import OWN_ROLE
from iamwarden.guardrails.tampering import DENY_ALL as QUARANTINE
from iamwarden.guardrails.tampering import REVOKED_SESSIONS_POLICY, RevokeOwnRoleSessions
from tests.aws_fixtures import HOME_ACCOUNT, REGION
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier

RULE = "iamwarden-tampered"
MEMBER = "444455556666"
OTHER = "777788889999"
REMEDIATOR = "iamwarden-remediator"
PRUNER = "iamwarden-pruner-member"
OPERATOR = f"arn:aws:iam::{HOME_ACCOUNT}:user/secops"
#: The member template's trust of its remediation role: the central enforcer only (moto does not evaluate it).
MEMBER_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "OnlyTheCentralEnforcer",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{HOME_ACCOUNT}:root"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{HOME_ACCOUNT}:role/iamwarden-enforcer-{REGION}"}
            },
        }
    ],
}
INTRUDER_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999988887777:root"}, "Action": "sts:AssumeRole"}
    ],
}
CONTEXT = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*"}]}
DENY_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}


def _session(account: Account, account_id: str) -> boto3.Session:
    """Credentials acting in ``account_id`` (an administrator's there, as moto issues them)."""
    answer = account.session.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole", RoleSessionName="setup"
    )
    credentials = answer["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )


def _member_stack(iam: Any, path: str = "/") -> None:
    """The member stack's remediation and pruner roles as the StackSet creates them, each with an inline policy."""
    for role in (REMEDIATOR, PRUNER):
        iam.create_role(RoleName=role, Path=path, AssumeRolePolicyDocument=json.dumps(MEMBER_TRUST))
        iam.put_role_policy(RoleName=role, PolicyName="enforcer-judging-context", PolicyDocument=json.dumps(CONTEXT))


#: When the heartbeat ran in these tests: before the intruder's calls, whose events are the samples' (the earliest,
#: tamper-enforcer-role-policy.json, at 2026-11-13T09:22:18Z). A restore rests only on a snapshot older than the
#: change.
HEARTBEAT_RAN = "2026-11-01T00:00:00.000+00:00"


def _heartbeat_snapshots(account: Account, *members: str, at: str = HEARTBEAT_RAN) -> tuple[int, list[str]]:
    """One heartbeat refresh of ``members``, through their snapshot role, with the template's member role names."""
    factory = ClientFactory(HOME_ACCOUNT, "iamwarden-snapshot-reader", session=account.session)
    names = tuple(item.split("=", 1)[1] for item in os.environ["IAMWARDEN_MEMBER_ROLE_NAMES"].split(","))
    refresh = MemberSnapshots(
        AuditRecorded(account.audit(), account.dynamodb),
        lambda: members,
        lambda member: (factory.client("cloudtrail", member, REGION), factory.client("iam", member, REGION)),
        home_account=HOME_ACCOUNT,
        region=REGION,
        own_roles=names,
        # Before the sample events by default: a snapshot taken after a change may hold it, so it is no "before".
        clock=lambda: at,
    )
    return refresh.refresh()


def _event(sample: str, member: str, **request: Any) -> dict[str, Any]:
    """``sample`` as CloudTrail records it in ``member`` (every account field), with ``request`` parameters."""
    event: dict[str, Any] = json.loads(json.dumps(load_event(sample)).replace(HOME_ACCOUNT, member))
    event["detail"]["eventID"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{sample}/{member}/{sorted(request.items())}"))
    event["detail"]["requestParameters"] = {**event["detail"]["requestParameters"], **request}
    return event


def _trust_event(member: str, role: str = REMEDIATOR) -> dict[str, Any]:
    return _event("trust-update-unknown-account.json", member, roleName=role, policyDocument=json.dumps(INTRUDER_TRUST))


def _finding(result: dict[str, Any]) -> dict[str, Any]:
    [finding] = [finding for finding in result["findings"] if finding["rule"] == RULE]
    return dict(finding)


def _trust(iam: Any, role: str = REMEDIATOR) -> Any:
    return iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]


def test_the_heartbeat_snapshots_the_member_stacks_roles_keyed_by_that_accounts_arn(account: Account) -> None:
    _member_stack(_session(account, MEMBER).client("iam"))

    stored, problems = _heartbeat_snapshots(account, MEMBER)

    assert problems == []
    recorded = AuditRecorded(account.audit(), account.dynamodb)
    for role in (REMEDIATOR, PRUNER):
        snapshot = recorded.snapshot(OWN_ROLE, f"arn:aws:iam::{MEMBER}:role/{role}")
        assert snapshot is not None, role
        data = dict(snapshot.data)
        assert data.pop("role_id").startswith("AROA"), role  # how the engine knows the role (domain.own)
        assert data == {"trust_policy": MEMBER_TRUST, "inline": {"enforcer-judging-context": CONTEXT}}
    assert recorded.snapshot(OWN_ROLE, f"arn:aws:iam::{HOME_ACCOUNT}:role/{REMEDIATOR}") is None
    assert stored >= 2


def test_a_member_roles_trust_rewritten_is_put_back_through_the_member_role_and_undo_restores_the_intruders(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    iam = _session(account, MEMBER).client("iam")
    _member_stack(iam)
    _heartbeat_snapshots(account, MEMBER)
    iam.update_assume_role_policy(RoleName=REMEDIATOR, PolicyDocument=json.dumps(INTRUDER_TRUST))

    finding = _finding(enforcer.handle(_trust_event(MEMBER)))

    assert finding["outcome"] == "remediated"
    assert _trust(iam) == MEMBER_TRUST
    [record] = [r for r in account.audit().history(f"arn:aws:iam::{MEMBER}:role/{REMEDIATOR}") if r.rule == RULE]
    assert record.account == MEMBER
    assert {call["account"] for call in record.calls} == {MEMBER}, "acted in the member account only"
    assert f"IAM Warden's snapshot of {HEARTBEAT_RAN}" in record.plan[0]["summary"]
    undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert undo.status == AuditStatus.UNDO
    assert _trust(iam) == INTRUDER_TRUST


def _revokes(iam: Any) -> list[Any]:
    """The statements of the member role's session revoke."""
    document: Any = iam.get_role_policy(RoleName=REMEDIATOR, PolicyName=REVOKED_SESSIONS_POLICY)["PolicyDocument"]
    return list(document["Statement"])


def _assumed(account: Account) -> list[str]:
    """The member roles IAM Warden's clients assume from now on, in order (botocore's hook on the shared session)."""
    assumed: list[str] = []
    account.session.events.register(
        "provide-client-params.sts.AssumeRole", lambda params, **_: assumed.append(params["RoleArn"])
    )
    return assumed


def test_a_member_roles_trust_put_back_also_denies_the_sessions_issued_while_it_was_open(
    account: Account, enforcer: EnforcerService
) -> None:
    """Audit s7 gap 9: a session the intruder's trust let in outlives the restore (and a session named as IAM
    Warden's is never forwarded), so the restore also denies every session issued from the change until then;
    IAM Warden's own session, issued inside that window, is renewed. Undo lifts the revoke with the trust."""
    iam = _session(account, MEMBER).client("iam")
    _member_stack(iam)
    _heartbeat_snapshots(account, MEMBER)  # 20:00
    iam.update_assume_role_policy(RoleName=REMEDIATOR, PolicyDocument=json.dumps(INTRUDER_TRUST))
    event = _trust_event(MEMBER)
    event["detail"]["eventTime"] = event["time"] = "2026-12-04T20:05:00Z"
    assumed = _assumed(account)

    finding = _finding(enforcer.handle(event))

    assert finding["outcome"] == "remediated"
    assert _trust(iam) == MEMBER_TRUST
    [revoke] = _revokes(iam)
    assert (revoke["Effect"], revoke["Action"], revoke["Resource"]) == ("Deny", "*", "*")
    opened = revoke["Condition"]["DateGreaterThanEquals"]["aws:TokenIssueTime"]
    closed = revoke["Condition"]["DateLessThan"]["aws:TokenIssueTime"]
    assert opened == "2026-12-04T20:05:00.000+00:00"
    assert closed > opened
    remediator = f"arn:aws:iam::{MEMBER}:role/{REMEDIATOR}"
    calls = assumed.count(remediator)
    enforcer.executor.clients.client("iam", MEMBER, REGION).get_role(RoleName=REMEDIATOR)
    assert assumed.count(remediator) == calls + 1, "the revoked session is not used again"

    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)

    assert REVOKED_SESSIONS_POLICY not in iam.list_role_policies(RoleName=REMEDIATOR)["PolicyNames"]
    assert _trust(iam) == INTRUDER_TRUST


def test_a_second_window_adds_its_own_statement_and_a_retry_adds_none(account: Account) -> None:
    """One Deny per window; applying the same window twice changes nothing."""
    iam = _session(account, MEMBER).client("iam")
    _member_stack(iam)
    factory = ClientFactory(HOME_ACCOUNT, REMEDIATOR, session=account.session)
    aws = AccountClients(factory, MEMBER, REGION)
    action = RevokeOwnRoleSessions()
    arn = f"arn:aws:iam::{MEMBER}:role/{REMEDIATOR}"
    for since, now in (
        ("2026-12-04T20:05:00.000+00:00", "2026-12-04T20:06:00.000+00:00"),
        ("2026-12-04T20:05:00.000+00:00", "2026-12-04T20:07:00.000+00:00"),
        ("2026-12-04T21:00:00.000+00:00", "2026-12-04T21:01:00.000+00:00"),
    ):
        step = RemediationStep(RevokeOwnRoleSessions.action, arn, {"role_name": REMEDIATOR, "since": since}, "")
        action.apply(StepRun(aws, "f", now), step, action.capture(aws, step), [])

    statements = _revokes(iam)
    assert [s["Condition"]["DateLessThan"]["aws:TokenIssueTime"] for s in statements] == [
        "2026-12-04T20:06:00.000+00:00",
        "2026-12-04T21:01:00.000+00:00",
    ]


@pytest.mark.parametrize("change", ["overwritten", "added"])
def test_a_member_roles_inline_policy_is_put_back_from_its_snapshot_and_undo_restores_the_change(
    account: Account, enforcer: EnforcerService, change: str
) -> None:
    iam = _session(account, MEMBER).client("iam")
    _member_stack(iam)
    _heartbeat_snapshots(account, MEMBER)
    name = "enforcer-judging-context" if change == "overwritten" else "deny-everything"
    iam.put_role_policy(RoleName=PRUNER, PolicyName=name, PolicyDocument=json.dumps(DENY_ALL))
    event = _event(
        "tamper-enforcer-role-policy.json",
        MEMBER,
        roleName=PRUNER,
        policyName=name,
        policyDocument=json.dumps(DENY_ALL),
    )

    finding = _finding(enforcer.handle(event))

    assert finding["outcome"] == "remediated"
    assert iam.list_role_policies(RoleName=PRUNER)["PolicyNames"] == ["enforcer-judging-context"]
    assert iam.get_role_policy(RoleName=PRUNER, PolicyName="enforcer-judging-context")["PolicyDocument"] == CONTEXT
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert iam.get_role_policy(RoleName=PRUNER, PolicyName=name)["PolicyDocument"] == DENY_ALL


def test_without_a_snapshot_a_member_roles_rewritten_trust_is_quarantined_and_undo_lifts_it(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Nothing good to put back: whoever the new trust lets in gets nothing (a deny-all inline policy)."""
    iam = _session(account, MEMBER).client("iam")
    _member_stack(iam)
    iam.update_assume_role_policy(RoleName=REMEDIATOR, PolicyDocument=json.dumps(INTRUDER_TRUST))

    finding = _finding(enforcer.handle(_trust_event(MEMBER)))

    assert finding["outcome"] == "remediated"
    assert _trust(iam) == INTRUDER_TRUST  # nothing is guessed
    quarantine = iam.get_role_policy(RoleName=REMEDIATOR, PolicyName="iamwarden-quarantine")["PolicyDocument"]
    assert quarantine == QUARANTINE
    [alerted] = [n.finding for n in notifier.sent if n.finding is not None and n.finding.rule_id == RULE]
    assert alerted is not None
    assert f"trust policy of IAM Warden's role {REMEDIATOR}" in alerted.reason
    assert "no snapshot" in alerted.reason
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert "iamwarden-quarantine" not in iam.list_role_policies(RoleName=REMEDIATOR)["PolicyNames"]


def test_a_member_roles_rewritten_trust_read_by_the_heartbeat_is_never_snapshotted_the_role_is_quarantined(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Audit s7 gap 1: the heartbeat reads the intruder's trust after the change and before its judgement. It keeps
    no snapshot of it (it lets in another account) and says so; the member role has no declared trust in code, so
    nothing good is known: quarantined, never "restored" to the intruder's trust."""
    iam = _session(account, MEMBER).client("iam")
    _member_stack(iam)
    iam.update_assume_role_policy(RoleName=REMEDIATOR, PolicyDocument=json.dumps(INTRUDER_TRUST))
    _, problems = _heartbeat_snapshots(account, MEMBER, at="2026-11-22T10:02:30.000+00:00")

    finding = _finding(enforcer.handle(_trust_event(MEMBER)))

    assert any("lets in more than IAM Warden's security account" in problem for problem in problems)
    assert finding["outcome"] == "remediated"
    assert _trust(iam) == INTRUDER_TRUST
    assert "iamwarden-quarantine" in iam.list_role_policies(RoleName=REMEDIATOR)["PolicyNames"]


def test_a_member_snapshot_taken_after_an_inline_change_is_never_put_back(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """The heartbeat read the intruder's inline policy after the change (09:22:18): alert-only, saying so."""
    iam = _session(account, MEMBER).client("iam")
    _member_stack(iam)
    iam.put_role_policy(RoleName=PRUNER, PolicyName="enforcer-judging-context", PolicyDocument=json.dumps(DENY_ALL))
    _heartbeat_snapshots(account, MEMBER, at="2026-11-13T09:25:00.000+00:00")
    event = _event(
        "tamper-enforcer-role-policy.json",
        MEMBER,
        roleName=PRUNER,
        policyName="enforcer-judging-context",
        policyDocument=json.dumps(DENY_ALL),
    )

    finding = _finding(enforcer.handle(event))

    assert finding["outcome"] == "alerted"
    assert iam.get_role_policy(RoleName=PRUNER, PolicyName="enforcer-judging-context")["PolicyDocument"] == DENY_ALL
    [alerted] = [n.finding for n in notifier.sent if n.finding is not None and n.finding.rule_id == RULE]
    assert alerted is not None
    assert "taken at 2026-11-13T09:25:00.000+00:00, not before the change" in alerted.needs_context[0]


def test_one_members_snapshot_is_never_applied_to_another_accounts_role_of_the_same_name(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """MEMBER was snapshotted; OTHER's role of the same name was not: OTHER's change is alerted, never restored."""
    member_iam, other_iam = (_session(account, member).client("iam") for member in (MEMBER, OTHER))
    _member_stack(member_iam)
    _member_stack(other_iam)
    _heartbeat_snapshots(account, MEMBER)
    other_iam.update_assume_role_policy(RoleName=REMEDIATOR, PolicyDocument=json.dumps(INTRUDER_TRUST))

    finding = _finding(enforcer.handle(_trust_event(OTHER)))

    assert finding["outcome"] == "remediated"  # quarantined in OTHER (no snapshot there), never restored from MEMBER's
    assert _trust(other_iam) == INTRUDER_TRUST
    assert "iamwarden-quarantine" in other_iam.list_role_policies(RoleName=REMEDIATOR)["PolicyNames"]
    assert _trust(member_iam) == MEMBER_TRUST
    assert "iamwarden-quarantine" not in member_iam.list_role_policies(RoleName=REMEDIATOR)["PolicyNames"]


def test_a_look_alike_at_another_path_is_never_snapshotted(account: Account) -> None:
    """A role of the member stack's name at another path is someone else's: the heartbeat takes no snapshot of it."""
    _member_stack(_session(account, MEMBER).client("iam"), path="/lookalike/")

    _heartbeat_snapshots(account, MEMBER)

    recorded = AuditRecorded(account.audit(), account.dynamodb)
    assert recorded.snapshot(OWN_ROLE, f"arn:aws:iam::{MEMBER}:role/{REMEDIATOR}") is None
    assert recorded.snapshot(OWN_ROLE, f"arn:aws:iam::{MEMBER}:role/lookalike/{REMEDIATOR}") is None


def test_the_snapshot_is_never_written_into_a_look_alike_recreated_at_another_path(
    account: Account, enforcer: EnforcerService
) -> None:
    """The member role, snapshotted, then deleted and re-created at another path by someone else: its trust is
    rewritten; the remediation refuses to write the member role's snapshot into it and changes nothing."""
    iam = _session(account, MEMBER).client("iam")
    _member_stack(iam)
    _heartbeat_snapshots(account, MEMBER)
    iam.delete_role_policy(RoleName=PRUNER, PolicyName="enforcer-judging-context")
    iam.delete_role(RoleName=PRUNER)
    iam.create_role(RoleName=PRUNER, Path="/lookalike/", AssumeRolePolicyDocument=json.dumps(INTRUDER_TRUST))
    event = _trust_event(MEMBER, PRUNER)

    with pytest.raises(EnforcementFailedError, match="is not IAM Warden's"):
        enforcer.handle(event)  # the failure is alerted, and the event fails for its retry

    assert _trust(iam, PRUNER) == INTRUDER_TRUST
    [record] = [r for r in account.audit().history(f"arn:aws:iam::{MEMBER}:role/{PRUNER}") if r.rule == RULE]
    assert "is not IAM Warden's" in (record.error or "")
    assert {call["call"] for call in record.calls} == {"iam:GetRole"}, "it read the role and wrote nothing"


def test_when_the_enforcer_is_shut_out_of_the_member_the_restore_fails_and_is_alerted(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The remediator's trust rewritten without the central enforcer: AssumeRole is refused (moto does not evaluate
    trust policies, so the refusal is the ClientFactory's), the restore fails, and the alert still leaves."""
    iam = _session(account, MEMBER).client("iam")
    _member_stack(iam)
    _heartbeat_snapshots(account, MEMBER)
    iam.update_assume_role_policy(RoleName=REMEDIATOR, PolicyDocument=json.dumps(INTRUDER_TRUST))
    assume = ClientFactory._session_for

    def refused(self: ClientFactory, account_id: str, region: str) -> Any:
        if account_id == MEMBER:
            raise AwsAccessError(f"cannot assume arn:aws:iam::{MEMBER}:role/{REMEDIATOR}: AccessDenied")
        return assume(self, account_id, region)

    monkeypatch.setattr(ClientFactory, "_session_for", refused)

    with pytest.raises(EnforcementFailedError, match="AccessDenied"):
        enforcer.handle(_trust_event(MEMBER))

    assert _trust(iam) == INTRUDER_TRUST
    alerted = [n for n in notifier.sent if n.finding is not None and n.finding.rule_id == RULE]
    assert alerted, "the critical alert leaves although nothing could be restored"
    assert {n.outcome.value for n in alerted} == {"remediation_failed"}


REVERSED = "remediation-reversed"
HARMLESS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*"}]}


def _quarantined_remediator(account: Account, enforcer: EnforcerService) -> tuple[Any, str]:
    """The member remediator role, quarantined by IAM Warden (its trust rewritten, no snapshot to restore): its IAM
    client there, and the quarantine's remediation id."""
    iam = _session(account, MEMBER).client("iam")
    _member_stack(iam)
    iam.update_assume_role_policy(RoleName=REMEDIATOR, PolicyDocument=json.dumps(INTRUDER_TRUST))
    quarantine = _finding(enforcer.handle(_trust_event(MEMBER)))
    assert quarantine["outcome"] == "remediated"
    return iam, str(quarantine["remediation_id"])


def _quarantine_of(iam: Any) -> Any:
    if "iamwarden-quarantine" not in iam.list_role_policies(RoleName=REMEDIATOR)["PolicyNames"]:
        return None
    return iam.get_role_policy(RoleName=REMEDIATOR, PolicyName="iamwarden-quarantine")["PolicyDocument"]


def test_a_deleted_role_quarantine_is_a_remediation_reversed_put_back_and_undone_by_deleting_it(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    iam, _ = _quarantined_remediator(account, enforcer)
    iam.delete_role_policy(RoleName=REMEDIATOR, PolicyName="iamwarden-quarantine")
    event = _event("remediation-reversed-role-quarantine-deleted.json", MEMBER, roleName=REMEDIATOR)

    result = enforcer.handle(event)

    [finding] = result["findings"]  # iamwarden-tampered leaves IAM Warden's own quarantine to remediation-reversed
    assert finding["rule"] == REVERSED
    assert finding["outcome"] == "remediated"
    assert _quarantine_of(iam) == QUARANTINE
    [alert] = [n.finding for n in notifier.sent if n.finding is not None and n.finding.rule_id == REVERSED]
    assert alert is not None
    assert alert.severity.value == "critical"
    assert f"deleted the quarantine policy iamwarden-quarantine of role {REMEDIATOR}" in alert.reason
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert _quarantine_of(iam) is None


def test_an_overwritten_role_quarantine_is_put_back_and_undo_restores_the_overwrite(
    account: Account, enforcer: EnforcerService
) -> None:
    iam, _ = _quarantined_remediator(account, enforcer)
    iam.put_role_policy(RoleName=REMEDIATOR, PolicyName="iamwarden-quarantine", PolicyDocument=json.dumps(HARMLESS))
    event = _event(
        "tamper-enforcer-role-policy.json",
        MEMBER,
        roleName=REMEDIATOR,
        policyName="iamwarden-quarantine",
        policyDocument=json.dumps(HARMLESS),
    )

    result = enforcer.handle(event)

    [finding] = [f for f in result["findings"] if f["rule"] == REVERSED]
    assert finding["outcome"] == "remediated"
    assert RULE not in {f["rule"] for f in result["findings"]}
    assert _quarantine_of(iam) == QUARANTINE
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert _quarantine_of(iam) == HARMLESS


def test_a_role_quarantine_lifted_by_iamwarden_undo_is_no_reversal_and_its_deletion_is_tampering_again(
    account: Account, enforcer: EnforcerService
) -> None:
    """Only a quarantine in force is reversed; after an operator's undo the role is an own role like any."""
    iam, quarantine = _quarantined_remediator(account, enforcer)
    # The undo and the change it makes are an operator's (the sample's developer role, in any account).
    account.set("rules/iamwarden-tampered/operators", f"{OPERATOR},arn:aws:iam::*:role/developer")
    enforcer.executor.undo(quarantine, actor=OPERATOR)
    assert _quarantine_of(iam) is None
    event = _event("remediation-reversed-role-quarantine-deleted.json", MEMBER, roleName=REMEDIATOR)

    result = enforcer.handle(event)

    assert REVERSED not in {f["rule"] for f in result["findings"]}
    assert RULE in {f["rule"] for f in result["findings"]}


# --- the member forwarder role, declared whole by the member template (audit s7 gap 17) -------------------------


@pytest.mark.parametrize("change", ["policy", "trust"])
def test_a_member_forwarder_role_changed_is_put_back_as_declared_and_the_heartbeat_finds_it_whole(
    account: Account, enforcer: EnforcerService, change: str
) -> None:
    """No snapshot is needed (the member template declares the role whole), no session revoke is added (its
    sessions are EventBridge's), and undo puts the change back."""
    from iamwarden.app.heartbeat import MemberForwarding
    from tests.functional.test_heartbeat_member_snapshots import (
        CENTRAL_BUS,
        FORWARDING_ROLES,
        create_member_forwarder_role,
    )

    iam = _session(account, MEMBER).client("iam")
    _member_stack(iam)
    role = create_member_forwarder_role(iam, MEMBER)
    declared_policy = iam.get_role_policy(RoleName=role, PolicyName="forward-to-central-bus")["PolicyDocument"]
    declared_trust = _trust(iam, role)
    if change == "policy":
        iam.put_role_policy(RoleName=role, PolicyName="forward-to-central-bus", PolicyDocument=json.dumps(DENY_ALL))
        event = _event(
            "tamper-enforcer-role-policy.json",
            MEMBER,
            roleName=role,
            policyName="forward-to-central-bus",
            policyDocument=json.dumps(DENY_ALL),
        )
    else:
        iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(INTRUDER_TRUST))
        event = _trust_event(MEMBER, role)
    forwarding = MemberForwarding(CENTRAL_BUS, REGION, HOME_ACCOUNT, FORWARDING_ROLES)
    assert forwarding.path_problems(MEMBER, iam, None, datetime.now(UTC)), "the heartbeat sees the change"

    finding = _finding(enforcer.handle(event))

    assert finding["outcome"] == "remediated"
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == ["forward-to-central-bus"]
    assert iam.get_role_policy(RoleName=role, PolicyName="forward-to-central-bus")["PolicyDocument"] == declared_policy
    assert _trust(iam, role) == declared_trust
    assert forwarding.path_problems(MEMBER, iam, None, datetime.now(UTC)) == []
    undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert undo.status == AuditStatus.UNDO
    if change == "policy":
        assert iam.get_role_policy(RoleName=role, PolicyName="forward-to-central-bus")["PolicyDocument"] == DENY_ALL
    else:
        assert _trust(iam, role) == INTRUDER_TRUST


def test_a_grant_detached_from_the_member_remediation_role_is_attached_back_and_undo_detaches_it(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """In a member account, through the member role: the member stack's policy holding the document its template
    declares is attached back to that very role (its inline grant allows nothing else); undo detaches it again."""
    iam = _session(account, MEMBER).client("iam")
    _member_stack(iam)
    policy_arn = f"arn:aws:iam::{MEMBER}:policy/{REMEDIATOR}-remediations-1"
    document = declared_grant(policy_arn, account.config.own, MEMBER)
    assert document is not None
    iam.create_policy(PolicyName=f"{REMEDIATOR}-remediations-1", PolicyDocument=json.dumps(document))
    event = _event("tamper-detach-grant-from-enforcer-role.json", MEMBER, roleName=REMEDIATOR, policyArn=policy_arn)

    finding = _finding(enforcer.handle(event))

    assert finding["outcome"] == "remediated"
    attached = iam.list_attached_role_policies(RoleName=REMEDIATOR)["AttachedPolicies"]
    assert [policy["PolicyArn"] for policy in attached] == [policy_arn]
    undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert undo.status == AuditStatus.UNDO
    assert iam.list_attached_role_policies(RoleName=REMEDIATOR)["AttachedPolicies"] == []


def test_a_member_grant_holding_another_document_is_alerted_with_the_command_and_left(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    iam = _session(account, MEMBER).client("iam")
    _member_stack(iam)
    grant = iam.create_policy(PolicyName=f"{REMEDIATOR}-remediations-1", PolicyDocument=json.dumps(CONTEXT))
    policy_arn = grant["Policy"]["Arn"]
    event = _event("tamper-detach-grant-from-enforcer-role.json", MEMBER, roleName=REMEDIATOR, policyArn=policy_arn)

    finding = _finding(enforcer.handle(event))

    assert finding["outcome"] != "remediated"
    assert iam.list_attached_role_policies(RoleName=REMEDIATOR)["AttachedPolicies"] == []
    [alert] = [n for n in notifier.sent if n.finding is not None and n.finding.rule_id == RULE]
    assert alert.finding is not None
    assert "grants other than its template declares" in alert.finding.reason
    assert f"aws iam attach-role-policy --role-name {REMEDIATOR} --policy-arn {policy_arn}" in alert.finding.reason
