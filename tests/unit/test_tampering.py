"""iamwarden-tampered judged on real sample shapes: what is IAM Warden's is known by exact name, never guessed."""

from __future__ import annotations

import copy
import json
import shlex
from typing import Any

import pytest
from moto.events.models import EventPattern

from iamwarden.domain import declared
from iamwarden.domain.catalog import Mode, Severity
from iamwarden.domain.declared_content import (
    declared_alert_key_policy,
    declared_fallback_topic_policy,
    declared_grant,
    declared_rule,
    rule_differences,
)
from iamwarden.domain.findings import Verdict
from iamwarden.domain.recorded import OWN_ROLE, OWN_SECRET, OWN_SUBSCRIPTION, Snapshot
from iamwarden.domain.settings import Settings, load_settings
from iamwarden.guardrails.engine import judge_event
from iamwarden.guardrails.tampering import RESTORED_TARGET_ID, bus_policy_differences
from tests.conftest import SAMPLE_OWN, load_event
from tests.member_patterns import by_stack_sets

RULE = "iamwarden-tampered"
MEMBER = "444455556666"


def judge(event: dict[str, Any], **values: Any) -> Any:
    return judge_event(event, load_settings(values)._replace(own=SAMPLE_OWN))


def sample(file: str, /, **parameters: Any) -> dict[str, Any]:
    event = copy.deepcopy(load_event(file))
    event["detail"]["requestParameters"].update(parameters)
    return event


def in_member_account(event: dict[str, Any]) -> dict[str, Any]:
    moved: dict[str, Any] = json.loads(json.dumps(event).replace("111122223333", MEMBER))
    return moved


def test_tampering_is_critical_and_remediated_by_default() -> None:
    [finding] = judge(load_event("tamper-disable-forwarder.json")).findings
    assert (finding.rule_id, finding.severity, finding.mode) == (RULE, Severity.CRITICAL, Mode.REMEDIATE)
    [step] = finding.plan
    assert step.action == "enable_own_rule"
    assert step.target == "arn:aws:events:us-east-1:111122223333:rule/iamwarden-forward-own-events"
    assert step.parameters == {"rule_name": "iamwarden-forward-own-events", "event_bus_name": "default"}


def test_a_rule_on_the_central_bus_is_named_with_its_bus_whether_by_name_or_arn() -> None:
    by_arn = "arn:aws:events:us-east-1:111122223333:event-bus/iamwarden-central"
    for bus in ("iamwarden-central", by_arn):
        event = sample("tamper-disable-forwarder.json", name="iamwarden-iam-user-created", eventBusName=bus)
        [finding] = judge(event).findings
        assert (
            finding.resource_arn
            == "arn:aws:events:us-east-1:111122223333:rule/iamwarden-central/iamwarden-iam-user-created"
        )
        assert finding.plan[0].parameters["event_bus_name"] == "iamwarden-central"
    # The same name on the default bus is no rule of IAM Warden's.
    event = sample("tamper-disable-forwarder.json", name="iamwarden-iam-user-created")
    assert judge(event).verdict is Verdict.COMPLIANT


def test_what_cannot_be_put_back_by_an_api_is_alerted_with_the_redeploy_command() -> None:
    for name in ("tamper-remove-targets.json", "tamper-enforcer-code.json", "tamper-enforcer-role-policy.json"):
        [finding] = [f for f in judge(load_event(name)).findings if f.rule_id == RULE]
        assert finding.plan == (), name
        assert "aws cloudformation detect-stack-drift --stack-name iamwarden" in finding.reason, name


def test_a_member_accounts_rule_is_put_back_by_its_stack_set_instance_not_the_central_stack() -> None:
    event = sample("tamper-remove-targets.json", rule="iamwarden-forward-iam", ids=["central-bus"])
    del event["detail"]["requestParameters"]["eventBusName"]
    [finding] = [f for f in judge(in_member_account(event)).findings if f.rule_id == RULE]
    assert finding.plan == ()
    stack_set = "update-stack-instances --stack-set-name <the member StackSet, iamwarden-member in the README>"
    assert f"{stack_set} --accounts {MEMBER} --regions us-east-1" in finding.reason
    assert "sam deploy" not in finding.reason


def test_the_enforcers_concurrency_goes_back_to_what_the_template_declares() -> None:
    [finding] = judge(load_event("tamper-enforcer-concurrency-zero.json")).findings
    assert finding.plan[0].parameters == {"function_name": "iamwarden-enforcer", "declared": None}
    own = SAMPLE_OWN._replace(reserved_concurrency={"iamwarden-enforcer": 20})
    event = sample(
        "tamper-enforcer-concurrency-zero.json",
        functionName="arn:aws:lambda:us-east-1:111122223333:function:iamwarden-enforcer",
    )
    [finding] = judge_event(event, Settings(own=own)).findings
    assert finding.plan[0].parameters == {"function_name": "iamwarden-enforcer", "declared": 20}
    # Removing the declared reservation is tampering too; removing an undeclared one is alerted, nothing to do.
    delete = sample("tamper-enforcer-concurrency-zero.json")
    delete["detail"]["eventName"] = "DeleteFunctionConcurrency20171031"
    assert judge_event(delete, Settings(own=own)).findings[0].plan[0].parameters["declared"] == 20
    assert judge(delete).findings[0].plan == ()


def test_a_settings_change_by_an_operator_is_accepted_and_by_anyone_else_alerted_or_restored() -> None:
    event = load_event("tamper-setting-changed.json")
    [finding] = judge(event).findings
    assert finding.plan == ()  # settings_guard: alert (the default)
    [finding] = judge(event, rules={RULE: {"settings_guard": "restore"}}).findings
    assert finding.plan == ()  # offline the history, which says which earlier version is known good, is not read
    assert "a known good version of /iamwarden/rules/iam-user-created/mode before version 2" in finding.needs_context[0]
    operator = judge(event, rules={RULE: {"operators": ["arn:aws:iam::111122223333:role/developer"]}})
    assert operator.verdict is Verdict.COMPLIANT
    assert "is an operator" in operator.reason
    # CloudFormation writing a declared setting: offline its value is unknown (CloudTrail does not record it), so
    # whether it is the template's is not known: high, alert-only (test_tampering_content has the live cases).
    [written] = judge(load_event("tamper-setting-by-cloudformation.json")).findings
    assert written.severity is Severity.HIGH
    assert written.plan == ()
    assert "CloudTrail does not record a parameter's value" in written.needs_context[0]


def test_operators_that_match_everyone_are_refused() -> None:
    from iamwarden.domain.settings import parse_settings

    settings, problems = parse_settings({"rules": {RULE: {"operators": ["arn:aws:iam::*:role/*"]}}})
    assert [problem.key for problem in problems] == [f"rules/{RULE}/operators"]
    assert settings.rule(RULE).patterns("operators") == ()
    assert settings.rule(RULE).mode is Mode.REMEDIATE  # the guard itself never drops to alert (audit s7 gap 3)


def test_a_parameter_outside_the_settings_prefix_is_not_iam_wardens() -> None:
    for name in ("/iamwardenx/mode", "/other/iamwarden/mode"):
        assert judge(sample("tamper-setting-changed.json", name=name)).verdict is Verdict.COMPLIANT


@pytest.mark.parametrize(
    ("role", "account"),
    [
        ("iamwarden-enforcer-eu-west-1", "111122223333"),  # the prefix, from another stack
        ("iamwarden-enforcer", "111122223333"),
        ("iamwarden-remediator", "111122223333"),  # a member role's name in the security account
        ("iamwarden-enforcer-us-east-1", MEMBER),  # the enforcer's name in a member account
    ],
)
def test_a_look_alike_role_is_no_role_of_iam_wardens(role: str, account: str) -> None:
    event = sample("tamper-enforcer-role-policy.json", roleName=role)
    if account != "111122223333":
        event = in_member_account(event)
    assert RULE not in {finding.rule_id for finding in judge(event).findings}


def test_the_member_stacks_roles_and_rules_are_its_own_in_member_accounts() -> None:
    role = in_member_account(sample("tamper-attach-to-enforcer-role.json", roleName="iamwarden-remediator"))
    [finding] = [f for f in judge(role).findings if f.rule_id == RULE]
    assert finding.plan[0].action == "detach_managed_policy"
    assert finding.plan[0].target == f"arn:aws:iam::{MEMBER}:role/iamwarden-remediator"
    rule = in_member_account(sample("tamper-disable-forwarder.json", name="iamwarden-forward-guard-a"))
    assert [f.rule_id for f in judge(rule).findings] == [RULE]
    # The security account's rules and functions do not exist in a member account.
    home_rule = in_member_account(load_event("tamper-disable-forwarder.json"))
    assert judge(home_rule).verdict is Verdict.COMPLIANT
    assert judge(in_member_account(load_event("tamper-enforcer-code.json"))).verdict is Verdict.COMPLIANT


def test_without_an_own_identity_nothing_is_iam_wardens() -> None:
    """Offline (``iamwarden evaluate`` with no deployment environment) no name pattern is trusted either way."""
    assert judge_event(load_event("tamper-disable-forwarder.json"), Settings()).verdict is Verdict.COMPLIANT


# --- the own roles' trust and inline policies, put back (issue 15 item 2) --------------------------------

ENFORCER_ROLE = "iamwarden-enforcer-us-east-1"
ENFORCER_ARN = f"arn:aws:iam::111122223333:role/{ENFORCER_ROLE}"
SNAPSHOT_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
RUNTIME = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]}


class Snapshots:
    """``Recorded`` holding one own-role snapshot (or none), and no remediations."""

    def __init__(self, *snapshots: Snapshot) -> None:
        self._snapshots = {(s.kind, s.resource_arn): s for s in snapshots}

    def remediations(self, resource_arn: str) -> list[Any]:
        return []

    def snapshot(self, kind: str, resource_arn: str) -> Snapshot | None:
        return self._snapshots.get((kind, resource_arn))


def _own_role_snapshot(arn: str = ENFORCER_ARN) -> Snapshot:
    return Snapshot(
        OWN_ROLE, arn, "2026-11-13T09:00:00Z", {"trust_policy": SNAPSHOT_TRUST, "inline": {"enforcer-runtime": RUNTIME}}
    )


def judge_recorded(event: dict[str, Any], recorded: Snapshots | None) -> Any:
    return judge_event(event, Settings(own=SAMPLE_OWN), recorded=recorded)


def _tampered(judgement: Any) -> Any:
    [finding] = [f for f in judgement.findings if f.rule_id == RULE]
    return finding


def test_a_member_roles_rewritten_trust_policy_is_put_back_from_a_snapshot_taken_before_the_change() -> None:
    event = in_member_account(sample("trust-update-unknown-account.json", roleName="iamwarden-remediator"))
    snapshot = _own_role_snapshot(f"arn:aws:iam::{MEMBER}:role/iamwarden-remediator")
    finding = _tampered(judge_recorded(event, Snapshots(snapshot)))
    [step, revoke] = finding.plan
    assert revoke.action == "revoke_own_role_sessions"  # then the sessions issued while it was open (gap 9)
    assert revoke.parameters["since"] == "2026-11-22T10:01:49.000+00:00"
    assert step.action == "restore_own_role_document"
    assert step.parameters["restore_to"] == SNAPSHOT_TRUST
    assert step.parameters["document"] == "trust"
    assert step.parameters["changed_to"] == json.loads(event["detail"]["requestParameters"]["policyDocument"])
    assert finding.needs_context == ()
    assert finding.severity is Severity.CRITICAL


def test_the_trust_policy_the_template_declares_is_put_back_before_any_snapshot() -> None:
    """The template's document is a fact; a snapshot is only what the heartbeat last read (audit s7 gap 1)."""
    event = sample("trust-update-unknown-account.json", roleName=ENFORCER_ROLE)
    for recorded in (Snapshots(_own_role_snapshot()), Snapshots(), None):  # a snapshot, none yet, or offline
        [step] = _tampered(judge_recorded(event, recorded)).plan
        [statement] = step.parameters["restore_to"]["Statement"]
        assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "111122223333"}}
        assert "template declares" in step.summary


def _late_snapshot(arn: str = ENFORCER_ARN) -> Snapshot:
    """A snapshot taken after the samples' changes (trust 2026-11-22T10:01:49Z, inline 2026-11-13T09:22:18Z)."""
    return _own_role_snapshot(arn)._replace(taken_at="2026-11-22T10:02:30Z")


def test_a_snapshot_taken_after_the_change_is_never_put_back() -> None:
    """It may hold the change itself (the heartbeat reads what is live, whenever it is invoked): the inline policy
    is alert-only saying so, a member role's trust is quarantined saying so (audit s7 gap 1)."""
    inline = _tampered(judge_recorded(load_event("tamper-enforcer-role-policy.json"), Snapshots(_late_snapshot())))
    assert inline.plan == ()
    [missing] = inline.needs_context
    assert "snapshot of it was taken at 2026-11-22T10:02:30Z, not before the change at 2026-11-13T09:22:18Z" in missing
    remediator = f"arn:aws:iam::{MEMBER}:role/iamwarden-remediator"
    event = in_member_account(sample("trust-update-unknown-account.json", roleName="iamwarden-remediator"))
    trust = _tampered(judge_recorded(event, Snapshots(_late_snapshot(remediator))))
    [step] = trust.plan
    assert step.action == "quarantine_role"
    assert "not before the change" in trust.reason


@pytest.mark.parametrize("document", ["{not json", None])
def test_an_event_without_a_readable_document_is_refused_before_any_restore(document: str | None) -> None:
    """The restore acts only while the event's document is live (``changed_to``): that document is always known."""
    event = sample("tamper-enforcer-role-policy.json", policyDocument=document)
    judgement = judge_recorded(event, Snapshots(_own_role_snapshot()))
    # Still alerted as tampering (critical), but nothing is put back on an event whose document cannot be read;
    # the rules that need the document say they could not judge it (review s11 F19: never a silent "invalid").
    [tampered] = judgement.findings
    assert tampered.rule_id == "iamwarden-tampered"
    assert tampered.plan == ()
    assert any("does not carry a readable one" in fact for fact in tampered.needs_context)
    assert {unjudged.rule_id for unjudged in judgement.unjudged} >= {"inline-policy-admin"}


def test_a_member_roles_trust_policy_without_a_snapshot_is_quarantined_saying_what_is_missing() -> None:
    """Nothing to put back, and whoever the new trust lets in would stand in IAM Warden's place: deny it all."""
    event = in_member_account(sample("trust-update-unknown-account.json", roleName="iamwarden-remediator"))
    finding = _tampered(judge_recorded(event, Snapshots()))
    [step] = finding.plan
    assert step.action == "quarantine_role"
    assert finding.needs_context == ()
    assert "trust policy of IAM Warden's role iamwarden-remediator" in finding.reason
    assert "no snapshot" in finding.reason
    assert "IAM Warden cannot act through it until it is put back" in finding.reason


def test_an_overwritten_inline_policy_is_put_back_and_an_added_one_deleted_from_the_snapshot() -> None:
    recorded = Snapshots(_own_role_snapshot())
    [overwritten] = _tampered(judge_recorded(load_event("tamper-enforcer-role-policy.json"), recorded)).plan
    assert (overwritten.parameters["policy_name"], overwritten.parameters["restore_to"]) == (
        "enforcer-runtime",
        RUNTIME,
    )
    added = sample("tamper-enforcer-role-policy.json", policyName="backdoor")
    [deleted] = _tampered(judge_recorded(added, recorded)).plan
    assert deleted.parameters["restore_to"] is None
    assert deleted.summary.startswith("delete the inline policy backdoor")


def test_an_inline_policy_without_a_snapshot_is_alerted_only_saying_so() -> None:
    for recorded, why in ((Snapshots(), "no snapshot"), (None, "offline")):
        finding = _tampered(judge_recorded(load_event("tamper-enforcer-role-policy.json"), recorded))
        assert finding.plan == ()
        [missing] = finding.needs_context
        assert why in missing
        assert "aws cloudformation detect-stack-drift" in finding.reason


def test_an_own_role_snapshot_newer_than_the_change_is_never_put_back_it_may_hold_the_change() -> None:
    """A heartbeat that ran between the intruder's call and its judgement read the intruder's document: the trust
    goes back to what the template declares (a fact), a member role's is quarantined, an inline policy is alerted."""
    newer = _own_role_snapshot()._replace(taken_at="2026-11-25T00:00:00Z")
    trust = sample("trust-update-unknown-account.json", roleName=ENFORCER_ROLE)  # eventTime 2026-11-22T10:01:49Z
    [step] = _tampered(judge_recorded(trust, Snapshots(newer))).plan
    assert "template declares" in step.summary
    assert step.parameters["restore_to"] != SNAPSHOT_TRUST

    member = in_member_account(sample("trust-update-unknown-account.json", roleName="iamwarden-remediator"))
    member_arn = f"arn:aws:iam::{MEMBER}:role/iamwarden-remediator"
    quarantined = _tampered(
        judge_recorded(member, Snapshots(_own_role_snapshot(member_arn)._replace(taken_at="2026-11-25T00:00:00Z")))
    )
    assert [step.action for step in quarantined.plan] == ["quarantine_role"]
    assert (
        "IAM Warden's snapshot of it was taken at 2026-11-25T00:00:00Z, not before the change at "
        "2026-11-22T10:01:49Z, so it may already hold the change" in quarantined.reason
    )

    inline = _tampered(judge_recorded(load_event("tamper-enforcer-role-policy.json"), Snapshots(newer)))
    assert inline.plan == ()
    assert inline.needs_context == (
        f"the inline policy enforcer-runtime of IAM Warden's role {ENFORCER_ROLE} before this change (IAM Warden's "
        "snapshot of it was taken at 2026-11-25T00:00:00Z, not before the change at 2026-11-13T09:22:18Z, so it may "
        "already hold the change)",
    )


@pytest.mark.parametrize(
    ("role", "account"),
    [("iamwarden-enforcer-eu-west-1", "111122223333"), (ENFORCER_ROLE, MEMBER)],
)
def test_a_look_alike_roles_trust_policy_is_judged_like_any_others(role: str, account: str) -> None:
    event = sample("trust-update-unknown-account.json", roleName=role)
    if account != "111122223333":
        event = in_member_account(event)
    rules = {f.rule_id for f in judge_recorded(event, Snapshots(_own_role_snapshot())).findings}
    assert rules == {"trust-policy-untrusted"}


def test_put_targets_on_an_own_rule_is_tampering_alerted_with_the_redeploy_command() -> None:
    """Same target id and ARN, input overridden: the rule stays enabled and routes a constant (audit 15, gap 2)."""
    [finding] = judge(load_event("tamper-put-targets.json")).findings
    assert finding.rule_id == RULE
    assert finding.resource_arn == "arn:aws:events:us-east-1:111122223333:rule/iamwarden-tampered-stack"
    assert finding.plan == ()
    assert "inputTransformer replacing the event" in finding.reason
    assert "aws cloudformation detect-stack-drift --stack-name iamwarden" in finding.reason


def test_put_targets_pointing_an_own_rule_elsewhere_or_on_a_look_alike_rule() -> None:
    elsewhere = sample(
        "tamper-put-targets.json",
        targets=[{"id": "iamwarden-tampered-stack", "arn": "arn:aws:sqs:us-east-1:999988887777:sink"}],
    )
    [finding] = judge(elsewhere).findings
    assert "arn:aws:sqs:us-east-1:999988887777:sink" in finding.reason
    assert "replacing the event" not in finding.reason
    look_alike = sample("tamper-put-targets.json", rule="iamwarden-tampered-stack-copy")
    assert judge(look_alike).verdict is Verdict.COMPLIANT


def test_put_targets_on_a_member_forwarding_rule_is_tampering() -> None:
    event = sample(
        "tamper-put-targets.json",
        rule="iamwarden-forward-iam",
        targets=[{"id": "central-bus", "arn": "arn:aws:events:us-east-1:222222222222:event-bus/default"}],
    )
    event["account"] = event["detail"]["recipientAccountId"] = "222222222222"
    event["detail"]["userIdentity"]["accountId"] = "222222222222"
    [finding] = judge(event).findings
    assert finding.resource_arn == "arn:aws:events:us-east-1:222222222222:rule/iamwarden-forward-iam"


DENY_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]})
HOME_ROLES = (
    "iamwarden-heartbeat-us-east-1",
    "iamwarden-exception-watch-us-east-1",
    "iamwarden-slack-interactions-us-east-1",
    "iamwarden-event-forwarder-us-east-1",
)


@pytest.mark.parametrize("role", HOME_ROLES)
def test_a_deny_on_any_of_the_stacks_roles_is_tampering_and_deleted_as_its_template_declares_none(role: str) -> None:
    """A Deny on the heartbeat's, the exception watch's, the Slack endpoint's or the forwarder's role silences part
    of the loop: every role of the stack is an own role (audit 15, gap 3). Its template declares no policy ``x``:
    deleted on that fact, with or without a snapshot, offline too."""
    arn = f"arn:aws:iam::111122223333:role/{role}"
    event = sample("tamper-enforcer-role-policy.json", roleName=role, policyName="x", policyDocument=DENY_ALL)

    for recorded in (Snapshots(_own_role_snapshot(arn)), None):
        finding = _tampered(judge_recorded(event, recorded))
        assert finding.severity is Severity.CRITICAL
        [step] = finding.plan
        assert (step.action, step.target, step.parameters["restore_to"]) == ("restore_own_role_document", arn, None)
        assert finding.needs_context == ()
        if role.startswith("iamwarden-event-forwarder-"):  # declared whole by its template (FORWARDER_ROLES)
            assert step.parameters["source"] == "the documents its template declares"
        else:
            assert "declares no inline policy x" in step.summary


def test_the_event_forwarders_declared_trust_is_eventbridges() -> None:
    event = sample("trust-update-unknown-account.json", roleName="iamwarden-event-forwarder-us-east-1")
    [step] = _tampered(judge_recorded(event, None)).plan
    [statement] = step.parameters["restore_to"]["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-southeast-2", "us-gov-west-1"])
def test_a_deny_on_a_member_forwarder_of_any_region_is_tampering(region: str) -> None:
    role = f"iamwarden-member-forwarder-{region}"
    event = in_member_account(
        sample("tamper-enforcer-role-policy.json", roleName=role, policyName="x", policyDocument=DENY_ALL)
    )

    finding = _tampered(judge_recorded(event, Snapshots()))

    assert finding.resource_arn == f"arn:aws:iam::{MEMBER}:role/{role}"
    [step] = finding.plan  # declared whole by the member template (audit s7 gap 17): the added policy is deleted
    assert (step.action, step.parameters["policy_name"], step.parameters["restore_to"]) == (
        "restore_own_role_document",
        "x",
        None,
    )
    assert not finding.needs_context


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"])
def test_a_member_forwarders_policy_and_trust_are_put_back_as_the_member_template_declares(region: str) -> None:
    """Audit s7 gap 17: the inline policy rewritten with a Deny, or the trust refusing EventBridge, goes back to the
    declared document (its central bus in the security account's region), with no session revoke: the role's
    sessions are EventBridge's."""
    role = f"iamwarden-member-forwarder-{region}"
    deny = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]})
    rewritten = in_member_account(
        sample(
            "tamper-enforcer-role-policy.json", roleName=role, policyName="forward-to-central-bus", policyDocument=deny
        )
    )
    [step] = _tampered(judge_recorded(rewritten, Snapshots())).plan
    [statement] = step.parameters["restore_to"]["Statement"]
    assert statement["Action"] == "events:PutEvents"
    assert statement["Resource"] == "arn:aws:events:us-east-1:111122223333:event-bus/iamwarden-central"

    trust = in_member_account(sample("trust-update-unknown-account.json", roleName=role))
    [step] = _tampered(judge_recorded(trust, Snapshots())).plan
    [statement] = step.parameters["restore_to"]["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": MEMBER}}


@pytest.mark.parametrize(
    ("role", "member"),
    [
        ("iamwarden-member-forwarder-not-a-region", True),
        ("iamwarden-member-forwarder-us-east-1-copy", True),
        ("iamwarden-member-forwarder-us-east-1", False),  # the security account has no member forwarder
        ("iamwarden-heartbeat-eu-west-1", False),  # another region's name: no role of this stack
    ],
)
def test_look_alikes_of_the_new_own_roles_are_no_tampering(role: str, member: bool) -> None:
    event = sample("tamper-enforcer-role-policy.json", roleName=role, policyName="x", policyDocument=DENY_ALL)
    event = in_member_account(event) if member else event
    assert RULE not in {f.rule_id for f in judge_recorded(event, Snapshots()).findings}


def test_a_member_forwarder_name_never_exempts_what_its_role_does() -> None:
    """The region-named member roles guard changes to them; a role taking such a name is judged like any other."""
    event = in_member_account(load_event("create-user-backdoor-cli.json"))
    identity = event["detail"]["userIdentity"]
    identity.update(
        {
            "type": "AssumedRole",
            "arn": f"arn:aws:sts::{MEMBER}:assumed-role/iamwarden-member-forwarder-us-west-2/x",
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "arn": f"arn:aws:iam::{MEMBER}:role/iamwarden-member-forwarder-us-west-2",
                    "accountId": MEMBER,
                    "userName": "iamwarden-member-forwarder-us-west-2",
                }
            },
        }
    )
    assert judge_recorded(event, None).verdict is Verdict.VIOLATION


# --- CloudFormation is IAM Warden's own stack only for what its templates declare (audit 15, gap 4) ---------


def by_cloudformation(event: dict[str, Any]) -> dict[str, Any]:
    """The change as another stack's deployment makes it: the deployer's session, invoked by CloudFormation."""
    event["detail"]["userIdentity"]["invokedBy"] = "cloudformation.amazonaws.com"
    return event


def _tampering(judgement: Any) -> list[Any]:
    return [f for f in judgement.findings if f.rule_id == RULE]


def test_another_stacks_inline_policy_on_the_enforcers_role_is_tampering() -> None:
    """The reviewer's probe: a stack declaring AWS::IAM::RolePolicy attacker-stack-deny (Deny *) on the enforcer."""
    event = by_cloudformation(
        sample("tamper-enforcer-role-policy.json", policyName="attacker-stack-deny", policyDocument=DENY_ALL)
    )

    [finding] = _tampering(judge_recorded(event, Snapshots(_own_role_snapshot())))

    assert "through CloudFormation, but the inline policy 'attacker-stack-deny'" in finding.reason
    assert "which IAM Warden's stack does not declare" in finding.reason
    assert finding.plan[0].parameters["restore_to"] is None  # deleted: not in the snapshot


def test_the_stacks_own_inline_policy_written_by_cloudformation_is_its_deployment() -> None:
    event = by_cloudformation(
        sample("tamper-enforcer-role-policy.json", policyName="enforcer-runtime", policyDocument=json.dumps(RUNTIME))
    )
    assert _tampering(judge_recorded(event, Snapshots(_own_role_snapshot()))) == []


@pytest.mark.parametrize(
    ("policy", "declared"),
    [
        ("arn:aws:iam::111122223333:policy/iamwarden-enforcer-remediations-2-us-east-1", True),
        ("arn:aws:iam::111122223333:policy/attacker-stack-policy", False),
        ("arn:aws:iam::111122223333:policy/iamwarden-enforcer-remediations-2-not-a-region", False),
    ],
)
def test_a_managed_policy_attached_by_cloudformation_must_be_declared(policy: str, declared: bool) -> None:
    event = by_cloudformation(sample("tamper-attach-to-enforcer-role.json", policyArn=policy))
    assert bool(_tampering(judge_recorded(event, Snapshots()))) is not declared


@pytest.mark.parametrize(
    ("statement", "source_arn", "declared"),
    [
        ("iamwarden-EnforcerFunctionIamUserCreatedPermission-1A2B3C4D5E6F", True, True),
        # another stack's name, or an undeclared logical id, for a permission for any rule
        ("attacker-stack-EnforcerFunctionIamUserCreatedPermission-1A2B3C4D5E6F", False, False),
        ("iamwarden-AttackerPermission-1A2B3C4D5E6F", False, False),
        # whatever its name, a permission that lets in only what the template declares lets in nothing more
        ("attacker-stack-EnforcerFunctionIamUserCreatedPermission-1A2B3C4D5E6F", True, True),
    ],
)
def test_a_lambda_permission_by_cloudformation_must_be_one_the_stack_declares(
    statement: str, source_arn: bool, declared: bool
) -> None:
    event = by_cloudformation(sample("tamper-enforcer-code.json"))
    event["detail"]["eventName"] = "AddPermission20150331v2"
    event["detail"]["requestParameters"] = {
        "functionName": "iamwarden-enforcer",
        "statementId": statement,
        "action": "lambda:InvokeFunction",
        "principal": "events.amazonaws.com",
        **({"sourceArn": USER_CREATED_RULE_ARN} if source_arn else {}),
    }
    assert bool(_tampering(judge_recorded(event, None))) is not declared


@pytest.mark.parametrize(
    ("relative", "declared"),
    [
        ("rules/iam-user-created/mode", True),
        ("rules/iamwarden-tampered/operators", False),
        ("managed_accounts", False),
    ],
)
def test_a_setting_created_by_cloudformation_must_be_one_the_stack_declares(relative: str, declared: bool) -> None:
    event = by_cloudformation(load_event("tamper-setting-changed.json"))
    event["detail"]["requestParameters"]["name"] = f"/iamwarden/{relative}"
    findings = _tampering(judge_recorded(event, None))
    # A declared setting's value is then compared (offline unknown: alert-only); an undeclared one is tampering
    # (critical; offline what to put back is unknown, which it says).
    assert findings
    for finding in findings:
        assert ("CloudTrail does not record a parameter's value" in " ".join(finding.needs_context)) is declared
        assert (finding.severity is Severity.CRITICAL) is not declared


def test_an_event_invoke_config_by_another_stack_is_tampering() -> None:
    event = by_cloudformation(sample("tamper-enforcer-code.json"))
    event["detail"]["eventName"] = "PutFunctionEventInvokeConfig"
    event["detail"]["requestParameters"] = {"functionName": "iamwarden-heartbeat", "maximumRetryAttempts": 0}
    assert _tampering(judge_recorded(event, None))


ORGANIZATION = "o-a1b2c3d4e5"
CENTRAL_BUS = "arn:aws:events:us-east-1:111122223333:event-bus/iamwarden-central"


def judge_with_organization(event: dict[str, Any]) -> Any:
    return judge_event(event, Settings(own=SAMPLE_OWN._replace(organization_id=ORGANIZATION)))


DECLARED_BUS_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "OrganizationAccountsPutEvents",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "events:PutEvents",
            "Resource": CENTRAL_BUS,
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORGANIZATION}},
        }
    ],
}


def test_removing_the_central_bus_statement_puts_the_declared_policy_back_whole() -> None:
    [finding] = judge_with_organization(load_event("tamper-remove-bus-permission.json")).findings
    assert (finding.rule_id, finding.severity, finding.resource_arn) == (RULE, Severity.CRITICAL, CENTRAL_BUS)
    [step] = finding.plan
    assert step.action == "restore_central_bus_policy"
    assert step.parameters == {"event_bus_name": "iamwarden-central", "policy": DECLARED_BUS_POLICY}
    # Removing all statements, rewriting this one, the whole policy, or a statement added beside the declared one
    # (a Deny overrides the Allow; another Allow admits forged events: review s8 section 2): the same restore.
    deny = {"Sid": "Maintenance", "Effect": "Deny", "Principal": "*", "Action": "events:PutEvents"}
    for parameters in (
        {"statementId": None, "removeAllPermissions": True},
        {"statementId": "OrganizationAccountsPutEvents", "action": "events:PutEvents", "principal": "999988887777"},
        {"statementId": None, "policy": '{"Version":"2012-10-17","Statement":[]}'},
        {"statementId": None, "policy": json.dumps({"Statement": [*DECLARED_BUS_POLICY["Statement"], deny]})},
        {"statementId": "let-me-in", "action": "events:PutEvents", "principal": "999988887777"},
    ):
        event = sample("tamper-remove-bus-permission.json", **parameters)
        if "action" in parameters or "policy" in parameters:
            event["detail"]["eventName"] = "PutPermission"
        [finding] = [f for f in judge_with_organization(event).findings if f.rule_id == RULE]
        assert [step.action for step in finding.plan] == ["restore_central_bus_policy"], parameters


def test_a_central_bus_change_that_cannot_be_put_back_exactly_is_alerted_with_the_redeploy_command() -> None:
    # No organisation: the template declares no policy, so there is nothing exact to put back.
    [finding] = judge(load_event("tamper-remove-bus-permission.json")).findings
    assert finding.plan == ()
    assert "iamwarden-central" in finding.reason
    assert "sam deploy --stack-name iamwarden" in finding.reason
    # A deleted bus: alerted.
    [finding] = judge_with_organization(load_event("tamper-delete-central-bus.json")).findings
    assert (finding.rule_id, finding.plan, finding.resource_arn) == (RULE, (), CENTRAL_BUS)


def test_bus_policy_differences_name_each_missing_and_each_undeclared_statement() -> None:
    [declared_statement] = DECLARED_BUS_POLICY["Statement"]
    assert bus_policy_differences(DECLARED_BUS_POLICY, DECLARED_BUS_POLICY) == []
    # EventBridge writes a one-item list and "anyone" as {"AWS": "*"}: still the same.
    written = {**declared_statement, "Principal": {"AWS": "*"}, "Action": ["events:PutEvents"]}
    assert bus_policy_differences({"Statement": [written]}, DECLARED_BUS_POLICY) == []
    deny = {"Sid": "Maintenance", "Effect": "Deny", "Principal": "*", "Action": "events:PutEvents"}
    assert bus_policy_differences({"Statement": [declared_statement, deny]}, DECLARED_BUS_POLICY) == [
        "an undeclared Deny statement Maintenance"
    ]
    other = {**declared_statement, "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-other12345"}}}
    assert bus_policy_differences({"Statement": other}, DECLARED_BUS_POLICY) == [
        "the statement OrganizationAccountsPutEvents is missing or changed",
        "an undeclared Allow statement OrganizationAccountsPutEvents",
    ]
    assert bus_policy_differences(None, DECLARED_BUS_POLICY) == [
        "the statement OrganizationAccountsPutEvents is missing or changed"
    ]


def test_a_bus_that_is_not_the_central_bus_is_not_iam_wardens() -> None:
    assert judge(load_event("tamper-remove-other-bus-permission.json")).verdict is Verdict.COMPLIANT
    # The default bus (no bus named), and the central bus's name in a member account.
    assert judge(sample("tamper-remove-bus-permission.json", eventBusName=None)).verdict is Verdict.COMPLIANT
    moved = in_member_account(load_event("tamper-remove-bus-permission.json"))
    assert judge_with_organization(moved).verdict is Verdict.COMPLIANT


def test_the_alert_path_changed_is_tampering_and_what_an_api_puts_back_exactly_is_planned() -> None:
    [finding] = judge(load_event("tamper-unsubscribe-alerts.json")).findings
    assert (finding.rule_id, finding.plan) == (RULE, ())  # an e-mail endpoint must confirm again: alerted
    assert "sam deploy --stack-name iamwarden" in finding.reason
    [finding] = judge(load_event("tamper-disable-alert-key.json")).findings
    [step] = finding.plan
    assert (step.action, step.parameters) == ("restore_own_key", {"key_id": SAMPLE_OWN.alert_key})
    scheduled = sample("tamper-disable-alert-key.json", keyId=SAMPLE_OWN.alert_key, pendingWindowInDays=7)
    scheduled["detail"]["eventName"] = "ScheduleKeyDeletion"
    assert "cancel its deletion" in judge(scheduled).findings[0].plan[0].summary
    [finding] = judge(load_event("tamper-disable-alarm-actions.json")).findings
    [step] = finding.plan
    assert (step.action, step.parameters) == (
        "enable_own_alarm_actions",
        {"alarm_names": ["iamwarden-heartbeat-missing"]},
    )
    deleted = load_event("tamper-disable-alarm-actions.json")
    deleted["detail"]["eventName"] = "DeleteAlarms"
    [step] = judge(deleted).findings[0].plan  # written back as the template declares it
    assert (step.action, step.parameters["alarm_name"]) == ("restore_own_alarm", "iamwarden-heartbeat-missing")
    for name in ("DeleteTopic", "SetTopicAttributes"):
        event = sample("tamper-unsubscribe-alerts.json", subscriptionArn=None, topicArn=SAMPLE_OWN.alert_topic)
        event["detail"]["eventName"] = name
        assert judge(event).findings[0].rule_id == RULE, name


def test_the_fallback_topic_deleted_or_its_policy_changed_is_tampering_and_its_declared_policy_is_put_back() -> None:
    fallback = SAMPLE_OWN.alert_fallback_topic
    [deleted] = judge(load_event("tamper-delete-fallback-topic.json")).findings
    assert (deleted.rule_id, deleted.severity, deleted.plan) == (RULE, Severity.CRITICAL, ())
    assert deleted.resource_arn == fallback
    assert "sam deploy --stack-name iamwarden" in deleted.reason
    [closed] = judge(load_event("tamper-fallback-topic-policy.json")).findings
    [step] = closed.plan
    declared = declared_fallback_topic_policy(SAMPLE_OWN, "aws")
    assert declared is not None
    assert step.action == "restore_fallback_topic_attribute"
    assert step.parameters["restore_to"] == declared
    assert step.parameters["attribute"] == "Policy"
    assert declared["Statement"][0]["Principal"]["AWS"] == [
        SAMPLE_OWN.home_roles["enforcer"],
        SAMPLE_OWN.home_roles["pruner"],
        SAMPLE_OWN.home_roles["heartbeat"],
    ]
    # The declared policy (the stack's own deploy, or the restore's own event) is no tampering.
    same = sample("tamper-fallback-topic-policy.json", attributeValue=json.dumps(declared))
    assert judge(same).verdict is Verdict.COMPLIANT
    # Another key: put back to the AWS-managed one; another attribute: alerted with the redeploy.
    rekeyed = sample("tamper-fallback-topic-policy.json", attributeName="KmsMasterKeyId", attributeValue="alias/mine")
    [step] = judge(rekeyed).findings[0].plan
    assert (step.parameters["attribute"], step.parameters["restore_to"]) == ("KmsMasterKeyId", "alias/aws/sns")
    renamed = sample("tamper-fallback-topic-policy.json", attributeName="DisplayName", attributeValue="x")
    assert judge(renamed).findings[0].plan == ()
    # Its subscription removed: alerted.
    gone = sample("tamper-unsubscribe-alerts.json", subscriptionArn=f"{fallback}:c3019def")
    assert judge(gone).findings[0].rule_id == RULE
    # Without its roles known, the policy cannot be put back: alerted with what is missing.
    unknown = judge_event(
        load_event("tamper-fallback-topic-policy.json"), Settings(own=SAMPLE_OWN._replace(home_roles={}))
    )
    [finding] = unknown.findings
    assert finding.plan == ()
    assert finding.needs_context


def test_the_alert_topic_deleted_or_its_policy_changed_is_tampering() -> None:
    for sample_file in ("tamper-delete-alert-topic.json", "tamper-alert-topic-policy.json"):
        [finding] = judge(load_event(sample_file)).findings
        assert (finding.rule_id, finding.resource_arn) == (RULE, SAMPLE_OWN.alert_topic), sample_file


def test_another_topic_key_or_alarm_is_not_iam_wardens() -> None:
    other_topic = "arn:aws:sns:us-east-1:111122223333:iamwarden-alerts-copy:c3019def"
    assert judge(sample("tamper-unsubscribe-alerts.json", subscriptionArn=other_topic)).verdict is Verdict.COMPLIANT
    assert judge(sample("tamper-disable-alert-key.json", keyId="1234abcd-12ab")).verdict is Verdict.COMPLIANT
    event = sample("tamper-disable-alarm-actions.json", alarmNames=["iamwarden-heartbeat-missing-copy"])
    assert judge(event).verdict is Verdict.COMPLIANT
    # Without the key in the environment (the stack has none), no key is IAM Warden's.
    unkeyed = judge_event(
        load_event("tamper-disable-alert-key.json"), Settings(own=SAMPLE_OWN._replace(alert_key=None))
    )
    assert unkeyed.verdict is Verdict.COMPLIANT


# --- batch calls report failed entries in their response, not in errorCode --------------------------------------


def with_response(file: str, response: dict[str, Any]) -> dict[str, Any]:
    event = copy.deepcopy(load_event(file))
    event["detail"]["responseElements"] = response
    return event


FAILED_TARGET = {"targetId": "iamwarden-tampered-stack", "errorCode": "AccessDeniedException", "errorMessage": "no"}


@pytest.mark.parametrize(
    ("file", "response"),
    [
        ("tamper-put-targets.json", {"failedEntryCount": 1, "failedEntries": [FAILED_TARGET]}),
        ("tamper-remove-targets.json", {"failedEntryCount": 1, "failedEntries": [FAILED_TARGET]}),
        (
            "tamper-delete-settings.json",
            {
                "deletedParameters": [],
                "invalidParameters": [
                    "/iamwarden/rules/iamwarden-tampered/mode",
                    "/iamwarden/rules/iam-user-created/mode",
                ],
            },
        ),
    ],
)
def test_a_batch_call_whose_every_entry_failed_changed_nothing_and_is_ignored(
    file: str, response: dict[str, Any]
) -> None:
    assert judge(load_event(file)).verdict is Verdict.VIOLATION  # the sample as it succeeded
    judgement = judge(with_response(file, response))
    assert judgement.verdict is Verdict.IGNORED
    assert "failed call (every entry of the batch failed" in judgement.reason
    assert judgement.findings == ()


def test_a_batch_call_with_some_entries_failed_is_judged_on_what_it_did() -> None:
    put = sample(
        "tamper-put-targets.json",
        targets=[
            load_event("tamper-put-targets.json")["detail"]["requestParameters"]["targets"][0],
            {"id": "extra", "arn": "arn:aws:sqs:us-east-1:111122223333:elsewhere"},
        ],
    )
    failed = [{**FAILED_TARGET, "targetId": "extra"}]
    put["detail"]["responseElements"] = {"failedEntryCount": 1, "failedEntries": failed}
    assert judge(put).verdict is Verdict.VIOLATION
    # DeleteParameters: only the names it deleted count; an invalid name under the prefix is no write of the guard's.
    partly = with_response(
        "tamper-delete-settings.json",
        {"deletedParameters": ["/iamwarden/rules/iam-user-created/mode"], "invalidParameters": ["/iamwarden/nope"]},
    )
    [finding] = judge(partly).findings
    assert "iam-user-created/mode" in finding.reason
    assert "iamwarden-tampered/mode" not in finding.reason


def test_an_exception_item_written_into_the_table_never_exempts_tampering() -> None:
    """The audit's forgery: an approved, ten-year exception for iamwarden-tampered written straight into the table."""
    from datetime import UTC, datetime

    from iamwarden.domain.rule_exceptions import ExceptionScope, ExceptionStatus, RuleException

    event = load_event("tamper-enforcer-code.json")
    actor = event["detail"]["userIdentity"].get("arn")
    forged = RuleException(
        exception_id="forged-1",
        scope=ExceptionScope(RULE, actor_pattern=actor),
        reason="x",
        requester=actor,
        requested_at=datetime(2026, 1, 1, tzinfo=UTC),
        days=3650,
        status=ExceptionStatus.APPROVED,
        approver="nobody",
        approved_at=datetime(2026, 1, 1, tzinfo=UTC),
        expires_at=datetime(2036, 1, 1, tzinfo=UTC),
    )
    settings = load_settings({})._replace(own=SAMPLE_OWN)
    judgement = judge_event(event, settings, exceptions=[forged])
    assert judgement.verdict is Verdict.VIOLATION
    assert [f.rule_id for f in judgement.findings] == [RULE]


# --- the stack itself: only operators deploy IAM Warden -----------------------------------------------------------

DEVELOPER = "arn:aws:iam::111122223333:role/developer"


def test_deleting_iam_wardens_stack_is_critical_and_says_how_to_get_it_back() -> None:
    [finding] = judge(load_event("tamper-delete-stack.json")).findings
    assert finding.rule_id == RULE
    assert finding.severity is Severity.CRITICAL
    assert finding.plan == ()
    assert "DeleteStack on its stack iamwarden" in finding.reason
    assert "sam deploy --stack-name iamwarden" in finding.reason
    assert finding.resource_arn == "arn:aws:cloudformation:us-east-1:111122223333:stack/iamwarden"


def test_an_update_of_the_stack_by_anyone_but_an_operator_is_alerted_high_and_by_an_operator_accepted() -> None:
    event = load_event("tamper-update-stack.json")
    [finding] = judge(event).findings
    assert finding.severity is Severity.HIGH
    assert f"rules/{RULE}/operators" in finding.reason
    deploy = judge(event, rules={RULE: {"operators": [DEVELOPER]}})
    assert deploy.verdict is Verdict.COMPLIANT
    assert "is an operator" in deploy.reason


@pytest.mark.parametrize(
    "stack",
    ["iamwarden", "arn:aws:cloudformation:us-east-1:111122223333:stack/iamwarden/5f0c3b10-c1a2-11f0-9a4c-0e1b2c3d4e5f"],
)
def test_the_stack_is_known_by_its_name_or_its_stack_id(stack: str) -> None:
    assert judge(sample("tamper-update-stack.json", stackName=stack)).verdict is Verdict.VIOLATION


@pytest.mark.parametrize("stack", ["iamwarden-dev", "orders", "arn:aws:cloudformation:us-east-1:1:stack/orders/x"])
def test_another_stack_is_not_iam_wardens(stack: str) -> None:
    judgement = judge(sample("tamper-update-stack.json", stackName=stack))
    assert judgement.verdict is Verdict.COMPLIANT
    assert judgement.findings == ()


# --- an own role given to another function (audit 15 gap 1), an own role name taken (gap 4) ---------------------


ENFORCER_ROLE_ARN = "arn:aws:iam::111122223333:role/iamwarden-enforcer-us-east-1"


@pytest.mark.parametrize(
    "file", ["tamper-function-given-enforcer-role.json", "tamper-function-role-changed-to-enforcer.json"]
)
def test_a_function_given_an_own_role_is_stopped(file: str) -> None:
    event = load_event(file)
    function = event["detail"]["requestParameters"]["functionName"]
    [finding] = judge(event).findings
    assert (finding.rule_id, finding.severity, finding.mode) == (RULE, Severity.CRITICAL, Mode.REMEDIATE)
    assert finding.resource_arn == f"arn:aws:lambda:us-east-1:111122223333:function:{function}"
    [step] = finding.plan
    assert step.action == "stop_function"
    assert step.parameters == {"function_name": function, "role": ENFORCER_ROLE_ARN}
    assert f"lets whoever controls function {function} act as IAM Warden (enforcer)" in finding.reason
    assert finding.needs_context == ()


@pytest.mark.parametrize(
    "role",
    [
        "arn:aws:iam::111122223333:role/IAMWARDEN-ENFORCER-US-EAST-1",  # IAM role names are case-insensitive
        "arn:aws:iam::111122223333:role/any/path/iamwarden-enforcer-us-east-1",  # ... and unique whatever the path
        "arn:aws:iam::111122223333:role/iamwarden-pruner-us-east-1",
        "arn:aws:iam::111122223333:role/iamwarden-heartbeat-us-east-1",
    ],
)
def test_every_spelling_of_an_own_role_in_the_security_account_is_that_role(role: str) -> None:
    event = sample("tamper-function-given-enforcer-role.json", role=role)
    [finding] = judge(event).findings
    assert finding.plan[0].action == "stop_function"


@pytest.mark.parametrize(
    "role",
    [
        "arn:aws:iam::111122223333:role/orders-worker",  # a role of its own
        "arn:aws:iam::999988887777:role/iamwarden-enforcer-us-east-1",  # the name in another account: not IAM Warden's
        "arn:aws:iam::111122223333:role/iamwarden-enforcer-eu-west-1",  # a name no stack of this deployment has
    ],
)
def test_a_function_given_any_other_role_is_no_tampering(role: str) -> None:
    event = sample("tamper-function-given-enforcer-role.json", role=role)
    judgement = judge(event)
    assert judgement.verdict is Verdict.COMPLIANT
    assert judgement.findings == ()


def test_a_namesake_of_an_own_function_in_another_region_given_an_own_role_is_stopped() -> None:
    """Audit s6 gap 2: the function's name is IAM Warden's, its region is not, and it runs as the enforcer."""
    event = load_event("tamper-enforcer-namesake-in-another-region.json")
    assert event["detail"]["awsRegion"] != SAMPLE_OWN.home_region
    [finding] = judge(event).findings
    assert (finding.rule_id, finding.severity, finding.mode) == (RULE, Severity.CRITICAL, Mode.REMEDIATE)
    [step] = finding.plan
    assert step.action == "stop_function"
    assert step.target == "arn:aws:lambda:eu-west-1:111122223333:function:iamwarden-enforcer"
    # In the stack's own region the same event is a change of IAM Warden's own function: alerted, never stopped.
    home = json.loads(json.dumps(event).replace("eu-west-1", "us-east-1"))
    [own] = judge(home).findings
    assert own.plan == ()
    assert "its function iamwarden-enforcer" in own.reason
    # Where the stack's region is not known (offline), the name alone decides, as before.
    unknown = judge_event(event, load_settings({})._replace(own=SAMPLE_OWN._replace(home_region=None)))
    assert [f.plan for f in unknown.findings] == [()]


@pytest.mark.parametrize(
    ("file", "role"),
    [
        ("tamper-update-role-max-session-enforcer.json", "iamwarden-enforcer-us-east-1"),
        ("tamper-update-role-max-session-remediator.json", "iamwarden-remediator"),
    ],
)
def test_a_longer_maximum_session_of_an_own_role_is_put_back(file: str, role: str) -> None:
    """Audit s6 gap 3: a 12-hour session outlives the restore of a rewritten trust policy."""
    event = load_event(file)
    [finding] = judge(event).findings
    assert (finding.rule_id, finding.severity, finding.mode) == (RULE, Severity.CRITICAL, Mode.REMEDIATE)
    [step] = finding.plan
    assert step.action == "restore_own_role_session_duration"
    assert step.parameters == {"role_name": role, "duration": 43200}
    assert "maximum session set to 43200 seconds" in finding.reason


@pytest.mark.parametrize("parameters", [{"maxSessionDuration": 900}, {"maxSessionDuration": 7200}])
def test_any_maximum_session_but_the_declared_one_is_tampering(parameters: dict[str, Any]) -> None:
    event = sample("tamper-update-role-max-session-enforcer.json", **parameters)
    [finding] = judge(event).findings
    assert finding.plan[0].parameters["duration"] == parameters["maxSessionDuration"]


def test_a_description_or_the_declared_maximum_is_no_tampering_and_another_role_is_not_judged() -> None:
    described = load_event("tamper-update-role-max-session-enforcer.json")
    described["detail"]["requestParameters"] = {"roleName": "iamwarden-enforcer-us-east-1", "description": "x"}
    assert judge(described).findings == ()
    assert judge(sample("tamper-update-role-max-session-enforcer.json", maxSessionDuration=3600)).findings == ()
    other = sample("tamper-update-role-max-session-enforcer.json", roleName="orders-worker")
    assert judge(other).findings == ()


def test_termination_protection_switched_off_is_critical_and_switched_on_is_fine() -> None:
    off = sample("tamper-update-stack.json", enableTerminationProtection=False)
    off["detail"]["eventName"] = "UpdateTerminationProtection"
    [finding] = judge(off).findings
    assert finding.severity is Severity.CRITICAL
    assert "--enable-termination-protection" in finding.reason
    on = copy.deepcopy(off)
    on["detail"]["requestParameters"]["enableTerminationProtection"] = True
    assert judge(on).verdict is Verdict.COMPLIANT


def test_a_change_set_executed_by_its_arn_alone_names_no_stack_and_its_creation_is_what_is_judged() -> None:
    execute = load_event("tamper-update-stack.json")
    execute["detail"]["eventName"] = "ExecuteChangeSet"
    execute["detail"]["requestParameters"] = {
        "changeSetName": "arn:aws:cloudformation:us-east-1:111122223333:changeSet/evil/0a1b2c3d"
    }
    assert judge(execute).findings == ()
    create = sample("tamper-update-stack.json", changeSetName="evil", changeSetType="UPDATE")
    create["detail"]["eventName"] = "CreateChangeSet"
    [finding] = judge(create).findings
    assert "CreateChangeSet on its stack iamwarden" in finding.reason


def _cloudformation_put_role_policy(document: dict[str, Any]) -> dict[str, Any]:
    """A PutRolePolicy CloudFormation makes (invokedBy, as the sample of the stack's own policy version shows)."""
    event = sample("tamper-own-policy-by-cloudformation.json")
    event["source"] = "aws.iam"
    event["detail"]["eventName"] = "PutRolePolicy"
    event["detail"]["requestParameters"] = {
        "roleName": ENFORCER_ROLE,
        "policyName": "enforcer-runtime",
        "policyDocument": json.dumps(document),
    }
    return event


def test_a_declared_role_policy_written_by_cloudformation_as_deployed_is_the_stacks_own() -> None:
    judgement = judge_recorded(_cloudformation_put_role_policy(RUNTIME), Snapshots(_own_role_snapshot()))
    assert [f for f in judgement.findings if f.rule_id == RULE] == []


def test_a_declared_role_policy_written_by_cloudformation_unlike_the_snapshot_is_alerted_never_put_back() -> None:
    """The audit's other stack declaring AWS::IAM::RolePolicy enforcer-runtime = Deny * on the enforcer's role."""
    deny = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
    finding = _tampered(judge_recorded(_cloudformation_put_role_policy(deny), Snapshots(_own_role_snapshot())))
    assert finding.severity is Severity.HIGH
    assert finding.plan == ()
    assert finding.needs_context
    assert "differs from IAM Warden's snapshot of 2026-11-13T09:00:00Z" in finding.reason
    # Without a snapshot there is nothing to compare with: the declared name is the stack's deployment, as before.
    without = judge_recorded(_cloudformation_put_role_policy(deny), Snapshots())
    assert [f for f in without.findings if f.rule_id == RULE] == []


def test_a_cloudformation_role_policy_against_a_snapshot_newer_than_it_is_never_put_back() -> None:
    """Issue 15, second reading: a snapshot read after the change may hold the change itself. Judged here: the
    comparison only ever alerts (high, alert-only, no plan) or defers to the declared name, so a newer snapshot
    neither restores anything nor exempts what a missing snapshot would not exempt too (the deploy's own snapshot
    follows the roles, so requiring an older one would alert on every deploy)."""
    deny = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
    after = "2026-11-25T00:00:00Z"  # the change: 2026-11-24T10:15:00Z
    holds_the_change = Snapshot(
        OWN_ROLE, ENFORCER_ARN, after, {"trust_policy": SNAPSHOT_TRUST, "inline": {"enforcer-runtime": deny}}
    )
    equal = judge_recorded(_cloudformation_put_role_policy(deny), Snapshots(holds_the_change))
    without = judge_recorded(_cloudformation_put_role_policy(deny), Snapshots())
    assert [f for f in equal.findings if f.rule_id == RULE] == [f for f in without.findings if f.rule_id == RULE] == []

    later_state = Snapshots(_own_role_snapshot()._replace(taken_at=after))
    finding = _tampered(judge_recorded(_cloudformation_put_role_policy(deny), later_state))
    assert (finding.severity, finding.plan) == (Severity.HIGH, ())
    assert finding.needs_context


# --- its Slack secrets ----------------------------------------------------------------------------------------

SECRET_ARN = "arn:aws:secretsmanager:us-east-1:111122223333:secret:iamwarden/slack/security-Xq3bZ9"  # noqa: S105


@pytest.mark.parametrize(
    ("secret_id", "own"),
    [
        ("iamwarden/slack/security", True),
        (SECRET_ARN, True),
        ("arn:aws:secretsmanager:us-east-1:111122223333:secret:iamwarden/slack/security", True),
        ("iamwarden/slack/bot", True),
        ("iamwarden/slack/security-old", False),
        ("arn:aws:secretsmanager:us-east-1:111122223333:secret:iamwarden/slack/security-old-P0q9Lm", False),
        ("arn:aws:secretsmanager:eu-west-1:111122223333:secret:iamwarden/slack/security-Xq3bZ9", False),
        ("arn:aws:secretsmanager:us-east-1:999988887777:secret:iamwarden/slack/security-Xq3bZ9", False),
        # The signing secret: a value the intruder knows lets them forge a button click (undo, exception).
        ("iamwarden/slack/signing", True),
        ("arn:aws:secretsmanager:us-east-1:111122223333:secret:iamwarden/slack/signing", True),
        ("iamwarden/slack/signing-old", False),
        ("iamwarden/slack/sign", False),
    ],
)
def test_the_slack_secrets_are_known_by_exact_arn_or_name_never_by_prefix(secret_id: str, own: bool) -> None:
    findings = _tampering(judge(sample("tamper-slack-secret-value.json", secretId=secret_id)))
    assert bool(findings) is own


def test_a_deployed_secrets_full_arn_is_matched_exactly() -> None:
    """Deployed, ``!Ref`` gives the full ARN: its name and its suffix-less ARN name it too, another suffix not."""
    own = SAMPLE_OWN._replace(secrets=frozenset({SECRET_ARN}))
    assert own.own_secret(SECRET_ARN, "111122223333", "us-east-1") == SECRET_ARN
    assert own.own_secret("iamwarden/slack/security", "111122223333", "us-east-1") == SECRET_ARN
    assert own.own_secret(SECRET_ARN[:-7], "111122223333", "us-east-1") == SECRET_ARN
    assert own.own_secret(SECRET_ARN[:-6] + "Zz9999", "111122223333", "us-east-1") is None  # re-created by anyone
    assert own.own_secret("iamwarden/slack/security", "111122223333", "eu-west-1") is None
    assert own.own_secret("iamwarden/slack/security", MEMBER, "us-east-1") is None


SECRET = "iamwarden/slack/security"  # noqa: S105 - the secret's name, no credential
#: The sample's new version (its clientRequestToken and answer's versionId).
INTRUDER_VERSION = "6f1d9a2e-3b7c-4e58-9d0a-1c2b3d4e5f60"


def _secret_record(
    version: str = "v-good", *, tampered: bool = False, at: str = "2026-11-13T09:00:00.000+00:00"
) -> Snapshot:
    """What the enforcer keeps of a judged change to the webhook secret (an operator's, unless ``tampered``)."""
    data = {"current_version": version, "tampered": tampered, "event_id": "e-before"}
    return Snapshot(OWN_SECRET, SECRET, at, data)


def _moved(version: str = "v-intruder", stage: str = "AWSCURRENT", **parameters: Any) -> dict[str, Any]:
    """``UpdateSecretVersionStage`` moving ``AWSCURRENT`` to ``version`` (botocore's request shape, camel-cased as
    CloudTrail records request parameters; the API reference: the version the label is removed from is named)."""
    event = sample("tamper-slack-secret-value.json", versionStage=stage, moveToVersionId=version, **parameters)
    event["detail"]["eventName"] = "UpdateSecretVersionStage"
    del event["detail"]["requestParameters"]["clientRequestToken"]
    event["detail"]["responseElements"] = {"arn": SECRET_ARN, "name": SECRET}
    return event


def test_a_new_secret_value_gives_awscurrent_back_to_the_version_known_good_and_a_staged_one_is_only_alerted() -> None:
    judgement = judge_recorded(load_event("tamper-slack-secret-value.json"), Snapshots(_secret_record()))
    [finding] = _tampering(judgement)
    assert (finding.severity, finding.mode, finding.needs_context) == (Severity.CRITICAL, Mode.REMEDIATE, ())
    [step] = finding.plan
    assert step.action == "restore_own_secret_version"
    assert step.parameters == {
        "secret_id": SECRET,
        "changed_to": INTRUDER_VERSION,
        "restore_to": "v-good",
        "source": "current since IAM Warden's record of 2026-11-13T09:00:00.000+00:00",
    }
    # Kept as the next change's "before" (unless this one is put back): the intruder's version, marked as such.
    [kept] = judgement.observed
    assert kept == Snapshot(
        OWN_SECRET,
        SECRET,
        "2026-11-13T09:22:18.000+00:00",
        {"current_version": INTRUDER_VERSION, "tampered": True, "event_id": "00000000-0000-0000-0000-00003ae66c1"},
        whatever_the_verdict=True,  # kept from an alerted violation too: it marks itself tampered
    )

    staged = sample("tamper-slack-secret-value.json", versionStages=["NEXT"])
    [finding] = _tampering(judge_recorded(staged, Snapshots(_secret_record())))
    assert (finding.severity, finding.plan) == (Severity.HIGH, ())

    other_label = _moved(stage="AWSPENDING", removeFromVersionId="v-good")
    [finding] = _tampering(judge_recorded(other_label, Snapshots(_secret_record())))
    assert (finding.severity, finding.plan) == (Severity.HIGH, ())


def test_a_moved_awscurrent_goes_back_to_the_version_the_event_names_only_when_known_good() -> None:
    [finding] = _tampering(judge_recorded(_moved(removeFromVersionId="v-good"), Snapshots(_secret_record())))
    assert (finding.plan[0].parameters["changed_to"], finding.plan[0].parameters["restore_to"]) == (
        "v-intruder",
        "v-good",
    )

    [unnamed] = _tampering(judge_recorded(_moved(), Snapshots(_secret_record())))
    assert unnamed.plan == ()
    assert unnamed.needs_context == (
        f"which version of {SECRET} the change took AWSCURRENT from (the event names no removeFromVersionId)",
    )

    [other] = _tampering(judge_recorded(_moved(removeFromVersionId="v-unknown"), Snapshots(_secret_record())))
    assert other.plan == ()
    assert other.needs_context == (
        f"version v-unknown of {SECRET} (the one the change took AWSCURRENT from) known good "
        "(IAM Warden's record of 2026-11-13T09:00:00.000+00:00 knows version v-good current, not v-unknown)",
    )


@pytest.mark.parametrize(
    ("recorded", "unknown"),
    [
        (None, "offline there is no audit table to read IAM Warden's record of it from"),
        (
            Snapshots(),
            "IAM Warden has no record of its current version: it keeps one of each change an operator or the stack "
            "makes",
        ),
        (
            Snapshots(_secret_record(at="2026-11-13T09:25:00.000+00:00")),
            "IAM Warden's record of 2026-11-13T09:25:00.000+00:00 is newer than the change of 2026-11-13T09:22:18Z, "
            "so it may be the change itself",
        ),
        (
            Snapshots(_secret_record(at="2026-11-13T09:22:18.000+00:00")),
            "IAM Warden's record of 2026-11-13T09:22:18.000+00:00 is newer than the change of 2026-11-13T09:22:18Z, "
            "so it may be the change itself",
        ),
        (
            Snapshots(_secret_record("v-first-intruder", tampered=True)),
            "version v-first-intruder, current before it, was made current by a change judged as tampering, "
            "e-before: never a version to put back",
        ),
        (
            Snapshots(_secret_record(INTRUDER_VERSION)),
            "IAM Warden's record of 2026-11-13T09:00:00.000+00:00 names no other version",
        ),
    ],
    ids=["offline", "no-record", "newer-record", "same-second-record", "tampered-record", "record-of-the-change"],
)
def test_a_new_secret_value_without_a_version_known_good_before_it_is_alert_only(
    recorded: Snapshots | None, unknown: str
) -> None:
    [finding] = _tampering(judge_recorded(load_event("tamper-slack-secret-value.json"), recorded))
    assert finding.plan == ()
    assert finding.needs_context == (f"the version of {SECRET} current before it, known good ({unknown})",)
    assert f"it cannot be put back without the version of {SECRET} current before it, known good" in finding.reason


def test_an_operators_or_the_stacks_new_value_is_kept_as_a_version_known_good() -> None:
    operator = judge_event(
        load_event("tamper-slack-secret-value.json"),
        load_settings({"rules": {RULE: {"operators": ["arn:aws:iam::111122223333:role/developer"]}}})._replace(
            own=SAMPLE_OWN
        ),
        recorded=Snapshots(),
    )
    assert operator.verdict is Verdict.COMPLIANT
    [kept] = operator.observed
    assert (kept.kind, kept.resource_arn, kept.data["current_version"], kept.data["tampered"]) == (
        OWN_SECRET,
        SECRET,
        INTRUDER_VERSION,
        False,
    )
    stack = judge_recorded(by_cloudformation(load_event("tamper-slack-secret-value.json")), Snapshots())
    assert _tampering(stack) == []
    assert [snapshot.data["tampered"] for snapshot in stack.observed] == [False]
    # Offline nothing is kept (no audit table), and a change that makes nothing current keeps nothing.
    assert judge(load_event("tamper-slack-secret-value.json")).observed == ()
    staged = sample("tamper-slack-secret-value.json", versionStages=["NEXT"])
    assert judge_recorded(staged, Snapshots()).observed == ()


class _KeptRecords(Snapshots):
    """The audit table's snapshots as the enforcer keeps them: a record is replaced only by a later one."""

    def keep(self, snapshot: Snapshot) -> None:
        held = self.snapshot(snapshot.kind, snapshot.resource_arn)
        if held is None or held.taken_before(snapshot.taken_at):
            self._snapshots[(snapshot.kind, snapshot.resource_arn)] = snapshot


def _put_value(version: str, at: str) -> dict[str, Any]:
    event = sample("tamper-slack-secret-value.json", clientRequestToken=version)
    event["detail"]["eventTime"] = at
    event["detail"]["eventID"] = f"e-{version}"
    event["detail"]["responseElements"]["versionId"] = version
    return event


@pytest.mark.parametrize("order", ["in-order", "reversed"])
@pytest.mark.parametrize("first_put_back", [True, False], ids=["first-put-back", "first-left"])
def test_two_intruder_versions_in_a_row_never_restore_the_first_intruders_version(
    order: str, first_put_back: bool
) -> None:
    """v1 (an operator's) -> v2 -> v3 (the intruder's, both made before either is judged): whatever the order they
    are judged in, and whether the first judged is put back (then not kept) or left (alert mode: kept), a restore
    targets only v1, never v2; the restore then acts only if v1 is what the change replaced (AWSPREVIOUS, checked
    at apply: the functional test)."""
    records = _KeptRecords(_secret_record("v1"))
    events = [_put_value("v2", "2026-11-13T09:22:18Z"), _put_value("v3", "2026-11-13T09:23:18Z")]
    if order == "reversed":
        events.reverse()
    targets: list[str] = []
    for index, event in enumerate(events):
        judgement = judge_recorded(event, records)
        [finding] = _tampering(judgement)
        targets.extend(step.parameters["restore_to"] for step in finding.plan)
        if not (index == 0 and first_put_back):
            for snapshot in judgement.observed:
                records.keep(snapshot)
    assert "v2" not in targets
    assert set(targets) <= {"v1"}
    assert targets  # the first one judged restores v1 (taken before both); the second is v1 or alert-only


def test_a_new_value_without_a_version_id_is_alerted_saying_what_is_missing() -> None:
    event = sample("tamper-slack-secret-value.json")
    del event["detail"]["requestParameters"]["clientRequestToken"]
    event["detail"]["responseElements"] = None
    [finding] = _tampering(judge(event))
    assert finding.plan == ()
    assert finding.needs_context
    assert "AWSCURRENT" in finding.needs_context[0]


def test_a_deleted_secret_is_restored_and_a_policy_put_on_it_deleted() -> None:
    [deleted] = _tampering(judge(load_event("tamper-slack-secret-deleted.json")))
    assert [step.action for step in deleted.plan] == ["restore_own_secret"]
    assert deleted.plan[0].parameters["recovery_window"] == 7
    [policy] = _tampering(judge(load_event("tamper-slack-secret-policy.json")))
    assert [step.action for step in policy.plan] == ["remove_own_secret_policy"]


def test_cloudformation_may_update_the_secret_but_declares_no_policy_or_rotation_on_it() -> None:
    assert _tampering(judge(by_cloudformation(load_event("tamper-slack-secret-value.json")))) == []
    [finding] = _tampering(judge(by_cloudformation(load_event("tamper-slack-secret-policy.json"))))
    assert "through CloudFormation, but a resource policy on iamwarden/slack/security" in finding.reason


# --- the alert topic's subscriptions ----------------------------------------------------------------------------

SUBSCRIPTION = "arn:aws:sns:us-east-1:111122223333:iamwarden-alerts:c3019def-3714-403e-ba29-eb14079d5c69"


def _subscription_snapshot(**attributes: str) -> Snapshot:
    data = {"topic": "arn:aws:sns:us-east-1:111122223333:iamwarden-alerts", "attributes": attributes}
    return Snapshot(OWN_SUBSCRIPTION, SUBSCRIPTION, "2026-11-13T09:00:00Z", data)


def test_a_filter_policy_on_an_alert_subscription_is_removed_when_the_snapshot_had_none() -> None:
    event = load_event("tamper-subscription-filter-policy.json")
    [finding] = _tampering(judge_recorded(event, Snapshots(_subscription_snapshot(RawMessageDelivery="false"))))
    assert (finding.severity, finding.mode) == (Severity.CRITICAL, Mode.REMEDIATE)
    [step] = finding.plan
    assert step.action == "restore_own_subscription_attribute"
    assert step.parameters["restore_to"] == "{}"
    assert step.parameters["changed_to"] == '{"severity":["none"]}'


def test_a_subscription_attribute_the_snapshot_held_is_put_back_and_one_it_lacks_is_only_alerted() -> None:
    held = Snapshots(_subscription_snapshot(FilterPolicy='{"severity":["critical"]}'))
    [finding] = _tampering(judge_recorded(load_event("tamper-subscription-filter-policy.json"), held))
    assert finding.plan[0].parameters["restore_to"] == '{"severity":["critical"]}'

    redrive = sample("tamper-subscription-filter-policy.json", attributeName="RedrivePolicy", attributeValue="{}")
    [finding] = _tampering(judge_recorded(redrive, held))
    assert finding.plan == ()
    assert "holds none" in finding.needs_context[0]


def test_a_subscription_snapshot_newer_than_the_change_is_not_put_back_it_may_hold_the_change() -> None:
    """A heartbeat that ran between the change and its judgement (or a redelivered event) read the intruder's value:
    putting it "back" would rest on a guess, so the finding is alert-only and says which snapshot is too new."""
    event = load_event("tamper-subscription-filter-policy.json")  # eventTime 2026-11-13T09:22:18Z
    newer = _subscription_snapshot(FilterPolicy='{"severity":["none"]}')._replace(taken_at="2026-11-13T09:25:00.000Z")
    [finding] = _tampering(judge_recorded(event, Snapshots(newer)))
    assert finding.plan == ()
    assert finding.needs_context == (
        "its FilterPolicy before this change (IAM Warden's snapshot of 2026-11-13T09:25:00.000Z is newer than the "
        "change of 2026-11-13T09:22:18Z, so it may already hold the change)",
    )
    same_second = newer._replace(taken_at="2026-11-13T09:22:18.000Z")  # not before: it may hold the change too
    [finding] = _tampering(judge_recorded(event, Snapshots(same_second)))
    assert finding.plan == ()
    older = newer._replace(taken_at="2026-11-13T09:22:17.999Z")
    [finding] = _tampering(judge_recorded(event, Snapshots(older)))
    assert [step.action for step in finding.plan] == ["restore_own_subscription_attribute"]


def test_without_a_snapshot_a_subscription_change_is_alerted_saying_what_is_missing() -> None:
    [finding] = _tampering(judge_recorded(load_event("tamper-subscription-filter-policy.json"), Snapshots()))
    assert finding.plan == ()
    assert "the heartbeat takes one of each confirmed subscription" in finding.needs_context[0]
    [offline] = _tampering(judge(load_event("tamper-subscription-filter-policy.json")))
    assert "offline" in offline.needs_context[0]


def test_update_secret_with_a_new_value_gives_awscurrent_back_and_without_one_is_alerted() -> None:
    event = sample("tamper-slack-secret-value.json", kmsKeyId="arn:aws:kms:us-east-1:999988887777:key/k")
    event["detail"]["eventName"] = "UpdateSecret"
    [finding] = _tampering(judge_recorded(event, Snapshots(_secret_record())))
    assert finding.plan[0].parameters["changed_to"] == "6f1d9a2e-3b7c-4e58-9d0a-1c2b3d4e5f60"
    assert finding.plan[0].parameters["restore_to"] == "v-good"

    event["detail"]["responseElements"] = {"arn": SECRET_ARN, "name": "iamwarden/slack/security"}
    [finding] = _tampering(judge(event))
    assert finding.plan == ()
    assert "update-secret --secret-id iamwarden/slack/security --kms-key-id" in finding.reason


def test_a_function_created_in_a_member_account_is_no_tampering() -> None:
    """Only the security account's functions may run as its roles (their trust names its account)."""
    event = in_member_account(load_event("tamper-function-given-enforcer-role.json"))
    event["detail"]["requestParameters"]["role"] = ENFORCER_ROLE_ARN
    assert judge(event).verdict is Verdict.COMPLIANT


def test_the_enforcer_is_never_stopped_and_another_own_function_given_another_role_is() -> None:
    """The enforcer is never stopped: a change of its role is alerted as a change of the function. Another own
    function whose configuration changed outside its stack is stopped (audit s7 gap 0)."""
    mine = sample("tamper-function-role-changed-to-enforcer.json", functionName="iamwarden-enforcer")
    [finding] = judge(mine).findings
    assert finding.plan == ()
    assert "its function iamwarden-enforcer" in finding.reason
    other = sample(
        "tamper-function-role-changed-to-enforcer.json",
        functionName="iamwarden-prune-worker",
        role="arn:aws:iam::111122223333:role/iamwarden-enforcer-us-east-1",
    )
    [finding] = judge(other).findings
    assert [step.action for step in finding.plan] == ["stop_function"]
    assert "its function iamwarden-prune-worker" in finding.reason


def test_cloudformation_giving_an_own_role_to_another_function_is_not_the_stack() -> None:
    event = load_event("tamper-function-given-enforcer-role.json")
    event["detail"]["userIdentity"] = copy.deepcopy(
        load_event("tamper-setting-by-cloudformation.json")["detail"]["userIdentity"]
    )
    [finding] = judge(event).findings
    assert "through CloudFormation, but the function ops-helper, given one of its roles" in finding.reason
    assert finding.plan[0].action == "stop_function"


def test_a_function_with_a_role_of_its_own_is_compliant() -> None:
    judgement = judge(load_event("create-function-own-role.json"))
    assert judgement.verdict is Verdict.COMPLIANT


def _create_role(name: str, trust: dict[str, Any]) -> dict[str, Any]:
    """A CreateRole in the member account MEMBER, with exactly ``trust``."""
    event = in_member_account(sample("trust-lambda-service.json", roleName=name))
    event["detail"]["requestParameters"]["assumeRolePolicyDocument"] = json.dumps(trust)
    return event


ATTACKER_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{MEMBER}:role/developer"}, "Action": "sts:AssumeRole"}
    ],
}
#: The member remediator's trust as member/template.yaml declares it: the security account, its enforcer only.
DECLARED_MEMBER_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "OnlyTheCentralEnforcer",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"ArnEquals": {"aws:PrincipalArn": ENFORCER_ROLE_ARN}},
        }
    ],
}


@pytest.mark.parametrize("name", ["iamwarden-remediator", "iamwarden-pruner-member", "iamwarden-snapshot-reader"])
def test_a_role_created_under_an_own_role_name_is_quarantined(name: str) -> None:
    """Audit 15 gap 4 (probe p9a): a look-alike created in a member account would stand where IAM Warden's role is."""
    [finding] = [f for f in judge(_create_role(name, ATTACKER_TRUST)).findings if f.rule_id == RULE]
    assert finding.severity is Severity.CRITICAL
    [step] = finding.plan
    assert step.action == "quarantine_role"
    assert step.parameters == {"role_name": name, "policy_name": "iamwarden-quarantine"}
    assert step.target == f"arn:aws:iam::{MEMBER}:role/{name}"
    assert "update-stack-instances" in finding.reason


def test_a_role_created_under_an_own_name_with_the_declared_trust_is_still_not_the_stacks_unless_cloudformation() -> (
    None
):
    by_hand = _create_role("iamwarden-remediator", DECLARED_MEMBER_TRUST)
    assert [f.plan[0].action for f in judge(by_hand).findings if f.rule_id == RULE] == ["quarantine_role"]
    by_stack = by_stack_sets(copy.deepcopy(by_hand), MEMBER)
    # The trust names the security account (in_member_account moved every account id of the event).
    by_stack["detail"]["requestParameters"]["assumeRolePolicyDocument"] = json.dumps(DECLARED_MEMBER_TRUST)
    assert not [f for f in judge(by_stack).findings if f.rule_id == RULE]


def test_cloudformation_creating_an_own_role_name_that_trusts_others_is_not_the_stack() -> None:
    event = by_stack_sets(_create_role("iamwarden-remediator", ATTACKER_TRUST), MEMBER)
    [finding] = [f for f in judge(event).findings if f.rule_id == RULE]
    assert "lets in more than IAM Warden's security account" in finding.reason
    assert finding.plan[0].action == "quarantine_role"


def test_a_role_of_any_other_name_is_left_to_the_trust_policy_rule() -> None:
    judgement = judge(_create_role("iamwarden-remediator-copy", ATTACKER_TRUST))
    assert not [f for f in judgement.findings if f.rule_id == RULE]


BREAK_GLASS = {"break_glass_principals": ["arn:aws:iam::*:role/BreakGlassAdmin"]}


_ADMIN = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{MEMBER}:root"}, "Action": "sts:AssumeRole"}
        ],
    }
)
_BREAK_GLASS_CHANGES = {
    "CreateRole": None,
    "UpdateAssumeRolePolicy": {"roleName": "BreakGlassAdmin", "policyDocument": _TRUST},
    "PutRolePolicy": {"roleName": "BreakGlassAdmin", "policyName": "more", "policyDocument": _ADMIN},
    "AttachRolePolicy": {"roleName": "BreakGlassAdmin", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
}


@pytest.mark.parametrize("name", list(_BREAK_GLASS_CHANGES))
def test_a_role_a_break_glass_pattern_names_created_or_widened_by_anyone_is_alerted_never_undone(name: str) -> None:
    """Audit s6 gap 12: break-glass is known by ARN pattern; a role of that name made in any account is it."""
    event = copy.deepcopy(load_event("tamper-create-break-glass-role-in-member.json"))
    event["detail"]["eventName"] = name
    if _BREAK_GLASS_CHANGES[name] is not None:
        event["detail"]["requestParameters"] = _BREAK_GLASS_CHANGES[name]
    [finding] = [f for f in judge(event, **BREAK_GLASS).findings if f.rule_id == RULE]
    assert finding.severity is Severity.CRITICAL
    assert finding.plan == ()
    assert finding.resource_arn == f"arn:aws:iam::{MEMBER}:role/BreakGlassAdmin"
    assert "its break-glass exemption, role BreakGlassAdmin" in finding.reason
    assert "alerted only" in finding.reason


def test_without_break_glass_patterns_or_for_another_role_or_a_read_nothing_is_found() -> None:
    event = load_event("tamper-create-break-glass-role-in-member.json")
    assert [f for f in judge(event).findings if f.rule_id == RULE] == []
    other = sample("tamper-create-break-glass-role-in-member.json", roleName="BreakGlassAdminTwo")
    assert [f for f in judge(other, **BREAK_GLASS).findings if f.rule_id == RULE] == []
    detached = copy.deepcopy(event)
    detached["detail"]["eventName"] = "DetachRolePolicy"  # narrows the role: nothing to see
    assert [f for f in judge(detached, **BREAK_GLASS).findings if f.rule_id == RULE] == []


# --- the alert path silenced quietly (audit s6 gaps 1 and 7) ----------------------------------------------------

ALERT_KEY = "arn:aws:kms:us-east-1:111122223333:key/mrk-iamwarden-alerts"


def _silencing(event: dict[str, Any]) -> Any:
    [finding] = [f for f in judge(event).findings if f.rule_id == RULE]
    return finding


def _key_policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _declared_key_policy() -> dict[str, Any]:
    declared = declared_alert_key_policy(SAMPLE_OWN, "aws")
    assert declared is not None
    return declared


def test_the_declared_alert_key_policy_is_the_templates_with_this_stacks_account_and_roles() -> None:
    declared = _declared_key_policy()
    sids = [statement["Sid"] for statement in declared["Statement"]]
    assert sids == ["AccountAdministers", "SnsAndAlarmsUseTheKey", "EnforcerPublishes"]
    assert declared["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    assert declared["Statement"][2]["Principal"]["AWS"] == [
        SAMPLE_OWN.home_roles["enforcer"],
        SAMPLE_OWN.home_roles["pruner"],
    ]
    assert "${" not in json.dumps(declared)
    # Without the stack's roles nothing is guessed.
    assert declared_alert_key_policy(SAMPLE_OWN._replace(home_roles={}), "aws") is None


def test_a_key_policy_that_drops_sns_from_the_alert_key_is_put_back_as_declared() -> None:
    finding = _silencing(load_event("tamper-alert-key-policy-services-dropped.json"))
    assert finding.severity is Severity.CRITICAL
    assert finding.needs_context == ()
    [step] = finding.plan
    assert step.action == "restore_own_key_policy"
    assert step.target == ALERT_KEY
    assert step.parameters["restore_to"] == _declared_key_policy()
    assert [s["Sid"] for s in step.parameters["changed_to"]["Statement"]] == ["AccountAdministers"]


def test_a_key_policy_that_locks_iam_warden_out_is_alerted_naming_who_must_put_it_back() -> None:
    finding = _silencing(load_event("tamper-alert-key-policy-locked.json"))
    assert finding.severity is Severity.CRITICAL
    assert finding.plan == ()
    assert "IAM Warden cannot put it back" in finding.reason
    assert "leaves only through Slack" in finding.reason
    assert f"aws kms put-key-policy --key-id {ALERT_KEY} --policy-name default" in finding.reason


@pytest.mark.parametrize(
    ("statement", "restorable"),
    [
        ({"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "kms:*", "Resource": "*"}, True),
        (
            {"Effect": "Allow", "Principal": {"AWS": SAMPLE_OWN.home_roles["enforcer"]}, "Action": "KMS:Put*"},
            True,
        ),
        # A condition the enforcer may not meet, or the action not granted: no restore is attempted.
        (
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": "kms:*",
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
            },
            False,
        ),
        ({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:Decrypt"}, False),
        ({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999988887777:root"}, "Action": "kms:*"}, False),
    ],
)
def test_the_restore_is_planned_only_while_the_new_policy_lets_the_account_or_enforcer_put_it(
    statement: dict[str, Any], restorable: bool
) -> None:
    event = sample("tamper-alert-key-policy-locked.json", policy=_key_policy(statement))
    finding = _silencing(event)
    assert bool(finding.plan) is restorable


@pytest.mark.parametrize(
    "deny",
    [
        {"Effect": "Deny", "Principal": "*", "Action": "kms:PutKeyPolicy"},
        {"Effect": "Deny", "Principal": "*", "Action": "kms:Put*"},
        {"Effect": "Deny", "Principal": "*", "NotAction": "kms:Decrypt"},
    ],
)
def test_a_deny_that_may_cover_put_key_policy_means_no_restore_is_planned(deny: dict[str, Any]) -> None:
    allow = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*"}
    assert _silencing(sample("tamper-alert-key-policy-locked.json", policy=_key_policy(allow, deny))).plan == ()


def test_the_declared_key_policy_put_on_the_alert_key_is_compliant() -> None:
    event = sample("tamper-alert-key-policy-locked.json", policy=json.dumps(_declared_key_policy()))
    assert [f for f in judge(event).findings if f.rule_id == RULE] == []


def test_the_alert_key_is_known_by_its_id_only_in_its_own_region_and_account() -> None:
    locked = load_event("tamper-alert-key-policy-locked.json")
    by_id = sample("tamper-alert-key-policy-locked.json", keyId="mrk-iamwarden-alerts")
    assert _silencing(by_id).resource_arn == ALERT_KEY
    # A key of the same id elsewhere (a multi-region replica, another account) is judged as any key.
    # (Its policy lets in only one role, so the account's IAM policies no longer reach it: that rule's finding.)
    lookalike = judge(load_event("tamper-lookalike-alert-key-policy-other-region.json")).findings
    assert [f.rule_id for f in lookalike] == ["kms-key-policy-locks-out-account"]
    elsewhere = in_member_account(locked)
    assert all(f.rule_id != RULE for f in judge(elsewhere).findings)


def test_a_data_protection_policy_on_the_alert_topic_is_removed() -> None:
    finding = _silencing(load_event("tamper-alert-topic-data-protection.json"))
    assert finding.severity is Severity.CRITICAL
    [step] = finding.plan
    assert step.action == "remove_own_topic_data_protection"
    assert step.parameters["topic_arn"] == SAMPLE_OWN.alert_topic
    assert '"Deny"' in step.parameters["changed_to"]


def test_removing_the_topics_data_protection_policy_or_another_topics_is_no_tampering() -> None:
    removed = sample("tamper-alert-topic-data-protection.json", dataProtectionPolicy="")
    assert [f for f in judge(removed).findings if f.rule_id == RULE] == []
    other = sample(
        "tamper-alert-topic-data-protection.json", resourceArn="arn:aws:sns:us-east-1:111122223333:iamwarden-alerts-x"
    )
    assert judge(other).verdict is not Verdict.VIOLATION
    elsewhere = sample(
        "tamper-alert-topic-data-protection.json", resourceArn="arn:aws:sns:eu-west-1:111122223333:iamwarden-alerts"
    )
    assert judge(elsewhere).verdict is not Verdict.VIOLATION


def test_an_own_alarm_redefined_is_written_back_as_declared_and_another_alarm_is_not() -> None:
    finding = _silencing(load_event("tamper-heartbeat-alarm-overwritten.json"))
    [step] = finding.plan
    assert finding.severity is Severity.CRITICAL
    assert step.action == "restore_own_alarm"
    assert (step.parameters["restore_to"]["Threshold"], step.parameters["restore_to"]["TreatMissingData"]) == (
        1,
        "breaching",
    )
    assert "iamwarden-heartbeat-missing" in finding.resource_arn
    judged = judge_event(
        load_event("tamper-heartbeat-alarm-overwritten.json"), Settings(own=SAMPLE_OWN._replace(home_region=None))
    )
    [unknown_region] = [f for f in judged.findings if f.rule_id == RULE]
    assert unknown_region.plan == ()  # the declaration cannot be filled in: alerted with the redeploy command
    assert "sam deploy --stack-name iamwarden" in unknown_region.reason
    other = sample("tamper-heartbeat-alarm-overwritten.json", alarmName="iamwarden-heartbeat-missing-2")
    assert judge(other).verdict is not Verdict.VIOLATION
    assert judge(in_member_account(load_event("tamper-heartbeat-alarm-overwritten.json"))).verdict is not (
        Verdict.VIOLATION
    )


def test_the_central_bus_given_another_key_or_a_dead_letter_queue_is_critical() -> None:
    finding = _silencing(load_event("tamper-central-bus-kms-key.json"))
    assert finding.severity is Severity.CRITICAL
    assert "the KMS key arn:aws:kms:us-east-1:111122223333:key/0a1b2c3d-attacker" in finding.reason
    dead = sample("tamper-central-bus-kms-key.json", kmsKeyIdentifier=None, deadLetterConfig={"arn": "arn:aws:sqs:x"})
    assert "dead-letter config" in _silencing(dead).reason
    described = sample("tamper-central-bus-kms-key.json", kmsKeyIdentifier=None, description="bus")
    assert _silencing(described).severity is Severity.HIGH
    other = sample("tamper-central-bus-kms-key.json", name="iamwarden-central-2")
    assert judge(other).verdict is not Verdict.VIOLATION
    assert judge(in_member_account(load_event("tamper-central-bus-kms-key.json"))).verdict is not Verdict.VIOLATION


# --- the audit table's resource policy (audit s7 gap 6) ---------------------------------------------------------


@pytest.mark.parametrize(
    "sample", ["tamper-audit-table-policy-deleted.json", "tamper-audit-table-policy-replaced.json"]
)
def test_the_own_tables_resource_policy_changed_is_critical_tampering_with_the_way_back(sample: str) -> None:
    """Where the operators are not known (no IAMWARDEN_OPERATOR_ROLE_ARNS), the alert says how to put it back."""
    own = SAMPLE_OWN._replace(operator_role_arns=None)
    [finding] = [f for f in judge_event(load_event(sample), Settings(own=own)).findings if f.rule_id == RULE]

    assert finding.severity.value == "critical"
    assert finding.resource_arn == "arn:aws:dynamodb:us-east-1:111122223333:table/iamwarden-audit"
    assert "the resource policy of its table iamwarden-audit" in finding.reason
    assert "aws dynamodb put-resource-policy --resource-arn arn:aws:dynamodb:us-east-1" in finding.reason
    assert "a redeploy alone does not" in finding.reason


@pytest.mark.parametrize(
    "resource_arn",
    [
        "arn:aws:dynamodb:us-east-1:111122223333:table/orders",  # not an own table
        "arn:aws:dynamodb:eu-west-1:111122223333:table/iamwarden-audit",  # a namesake in another region
        "arn:aws:dynamodb:us-east-1:444455556666:table/iamwarden-audit",  # another account's
        "not an arn",
    ],
)
def test_another_tables_resource_policy_is_not_iam_wardens(resource_arn: str) -> None:
    event = load_event("tamper-audit-table-policy-deleted.json")
    event["detail"]["requestParameters"]["resourceArn"] = resource_arn

    assert [f for f in judge_event(event, Settings(own=SAMPLE_OWN)).findings if f.rule_id == RULE] == []


def test_an_operators_change_of_the_tables_policy_is_alerted_too() -> None:
    """Only settings and secrets are the operators' to change by hand; the tables are the stack's, like every
    other own resource (the policy lets operators change it so that fixing it needs no root)."""
    event = load_event("tamper-audit-table-policy-deleted.json")

    judgement = judge(event, rules={RULE: {"operators": ["arn:aws:iam::111122223333:role/developer"]}})

    assert [f.severity.value for f in judgement.findings if f.rule_id == RULE] == ["critical"]


def test_an_archive_of_or_a_replay_into_the_buses_the_enforcer_reads_is_critical_and_alerted() -> None:
    """Review s8 section 10: an archive replayed weeks later would redo remediations operators undid."""
    for name, command in (
        ("tamper-archive-central-bus.json", "aws events delete-archive --archive-name keep-everything"),
        ("tamper-replay-into-central-bus.json", "aws events cancel-replay --replay-name weeks-later"),
    ):
        [finding] = judge(load_event(name)).findings
        assert (finding.rule_id, finding.severity, finding.plan, finding.resource_arn) == (
            RULE,
            Severity.CRITICAL,
            (),
            CENTRAL_BUS,
        )
        assert command in finding.reason
    # The security account's default bus forwards its own events to the central bus: the same.
    default_bus = "arn:aws:events:us-east-1:111122223333:event-bus/default"
    archived = sample("tamper-archive-central-bus.json", eventSourceArn=default_bus)
    [finding] = judge(archived).findings
    assert finding.resource_arn == default_bus


def test_an_archive_or_a_replay_of_any_other_bus_is_not_iam_wardens() -> None:
    for source in (
        "arn:aws:events:us-east-1:111122223333:event-bus/orders",
        "arn:aws:events:us-east-1:999988887777:event-bus/iamwarden-central",
        "not-an-arn",
    ):
        assert judge(sample("tamper-archive-central-bus.json", eventSourceArn=source)).verdict is Verdict.COMPLIANT
    replay = sample("tamper-replay-into-central-bus.json")
    replay["detail"]["requestParameters"]["destination"] = {"arn": "arn:aws:events:us-east-1:111122223333:event-bus/x"}
    assert judge(replay).verdict is Verdict.COMPLIANT
    assert judge(in_member_account(load_event("tamper-archive-central-bus.json"))).verdict is Verdict.COMPLIANT


# --- a permission added to an own function (review s8 section 11; issue 15 item 2) --------------------------------

ADDED = "tamper-enforcer-permission-added.json"
HEARTBEAT_RULE_ARN = "arn:aws:events:us-east-1:111122223333:rule/iamwarden-heartbeat"
USER_CREATED_RULE_ARN = "arn:aws:events:us-east-1:111122223333:rule/iamwarden-central/iamwarden-iam-user-created"


def _added(**request: Any) -> dict[str, Any]:
    event = load_event(ADDED)
    event["detail"]["requestParameters"] = request
    event["detail"]["responseElements"] = None  # judged on the request alone
    return event


def test_an_undeclared_permission_on_an_own_function_is_removed_by_its_statement_id() -> None:
    [finding] = _tampering(judge(load_event(ADDED)))

    assert finding.severity is Severity.CRITICAL
    [step] = finding.plan
    assert step.action == "remove_lambda_permission"
    assert step.parameters == {
        "resource": "arn:aws:lambda:us-east-1:111122223333:function:iamwarden-enforcer",
        "statements": [{"sid": "partner-invoke", "match": "sid"}],
        # undo adds it back as the event added it
        "permission": {"Action": "lambda:InvokeFunction", "Principal": "999988887777"},
    }
    assert "partner-invoke" in step.summary


def test_a_permission_on_an_own_functions_alias_is_removed_from_that_alias() -> None:
    event = _added(
        functionName="iamwarden-prune-worker",
        statementId="x",
        action="lambda:InvokeFunction",
        principal="s3.amazonaws.com",
        qualifier="live",
    )
    [finding] = _tampering(judge(event))
    [step] = finding.plan
    assert step.parameters["resource"] == "arn:aws:lambda:us-east-1:111122223333:function:iamwarden-prune-worker:live"


@pytest.mark.parametrize(
    ("function", "request_parameters"),
    [
        # the heartbeat's own schedule: SAM's HeartbeatFunctionEvery5MinutesPermission, re-added by hand
        (
            "iamwarden-heartbeat",
            {"action": "lambda:InvokeFunction", "principal": "events.amazonaws.com", "sourceArn": HEARTBEAT_RULE_ARN},
        ),
        (
            "iamwarden-enforcer",
            {
                "action": "lambda:InvokeFunction",
                "principal": "events.amazonaws.com",
                "sourceArn": USER_CREATED_RULE_ARN,
            },
        ),
        # the Slack endpoint's URL is public by design (it checks Slack's signature)
        (
            "iamwarden-slack-interactions",
            {"action": "lambda:InvokeFunctionUrl", "principal": "*", "functionUrlAuthType": "NONE"},
        ),
    ],
)
def test_a_declared_permission_re_added_by_hand_is_compliant(function: str, request_parameters: dict[str, Any]) -> None:
    event = _added(functionName=function, statementId="re-added", **request_parameters)

    judgement = judge(event)

    assert _tampering(judgement) == []  # the same with anything else in it is removed (the test below)


@pytest.mark.parametrize(
    ("function", "request_parameters"),
    [
        # a declared rule's ARN, but for another function: the heartbeat's schedule does not target the enforcer
        (
            "iamwarden-enforcer",
            {"action": "lambda:InvokeFunction", "principal": "events.amazonaws.com", "sourceArn": HEARTBEAT_RULE_ARN},
        ),
        # EventBridge, but for any rule (no source ARN) or for a rule of another account
        ("iamwarden-enforcer", {"action": "lambda:InvokeFunction", "principal": "events.amazonaws.com"}),
        (
            "iamwarden-enforcer",
            {
                "action": "lambda:InvokeFunction",
                "principal": "events.amazonaws.com",
                "sourceArn": USER_CREATED_RULE_ARN.replace("111122223333", "999988887777"),
            },
        ),
        # a declared statement with something more in it
        (
            "iamwarden-heartbeat",
            {
                "action": "lambda:InvokeFunction",
                "principal": "events.amazonaws.com",
                "sourceArn": HEARTBEAT_RULE_ARN,
                "principalOrgID": "o-a1b2c3d4e5",
            },
        ),
        # a public URL permission on a function the template gives no URL
        ("iamwarden-enforcer", {"action": "lambda:InvokeFunctionUrl", "principal": "*", "functionUrlAuthType": "NONE"}),
        # the Slack endpoint invoked directly by everyone, not only through its URL
        ("iamwarden-slack-interactions", {"action": "lambda:InvokeFunction", "principal": "*"}),
    ],
)
def test_an_undeclared_permission_is_removed_whatever_it_is_named(
    function: str, request_parameters: dict[str, Any]
) -> None:
    # named like the stack's own permissions: the name is no declaration
    sid = "iamwarden-HeartbeatFunctionEvery5MinutesPermission-X"
    event = _added(functionName=function, statementId=sid, **request_parameters)

    [finding] = _tampering(judge(event))

    assert [step.action for step in finding.plan] == ["remove_lambda_permission"]


@pytest.mark.parametrize(
    "where",
    [
        {"functionName": "arn:aws:lambda:eu-west-1:111122223333:function:iamwarden-enforcer"},  # another region
        {"functionName": "iamwarden-enforcer-copy"},  # an iamwarden- name of another stack
    ],
)
def test_a_look_alike_functions_permission_is_judged_like_any_other(where: dict[str, str]) -> None:
    event = load_event(ADDED)
    event["detail"]["requestParameters"].update(where)
    if where["functionName"].startswith("arn:aws:lambda:eu-west-1"):
        event["detail"]["awsRegion"] = event["region"] = "eu-west-1"
    judgement = judge(event)
    assert _tampering(judgement) == []
    # the cross-account rule judges it as any function's
    assert [f.rule_id for f in judgement.findings] == ["lambda-permission-cross-account"]
    # another account's function of the same name is not IAM Warden's either
    assert _tampering(judge(in_member_account(load_event(ADDED)))) == []


def test_a_failed_add_permission_is_never_remediated() -> None:
    event = load_event(ADDED)
    event["detail"]["errorCode"] = "AccessDeniedException"
    event["detail"]["errorMessage"] = "not authorized"
    event["detail"]["responseElements"] = None

    judgement = judge(event)

    assert [f for f in judgement.findings if f.plan] == []
    assert _tampering(judgement) == []


# --- the own tables' resource policy put back (issue 15 item 2) --------------------------------------------------

SECOPS_ROLE = "arn:aws:iam::111122223333:role/secops"


def _table_policy_finding(own: Any, file: str = "tamper-audit-table-policy-replaced.json") -> Any:
    [finding] = [f for f in judge_event(load_event(file), Settings(own=own)).findings if f.rule_id == RULE]
    return finding


@pytest.mark.parametrize("operators", [(), (SECOPS_ROLE,)])
@pytest.mark.parametrize("file", ["tamper-audit-table-policy-deleted.json", "tamper-audit-table-policy-replaced.json"])
def test_the_own_tables_policy_is_put_back_with_the_stacks_operators(operators: tuple[str, ...], file: str) -> None:
    finding = _table_policy_finding(SAMPLE_OWN._replace(operator_role_arns=operators), file)

    assert finding.certain
    [step] = finding.plan
    assert step.action == "restore_own_table_policy"
    assert step.parameters["table_arn"] == "arn:aws:dynamodb:us-east-1:111122223333:table/iamwarden-audit"
    statements = {s["Sid"]: s for s in step.parameters["policy"]["Statement"]}
    writers = statements["OnlyIamWardenWritesItems"]["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
    changers = statements["OnlyTheStackChangesThisPolicy"]["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
    assert SAMPLE_OWN.home_roles["enforcer"] in writers
    assert SAMPLE_OWN.home_roles["heartbeat"] in writers
    assert changers == [SAMPLE_OWN.home_roles["enforcer"], *operators]
    assert (SECOPS_ROLE in writers) is bool(operators)
    assert "${" not in json.dumps(step.parameters["policy"])


def test_without_the_stacks_operators_the_tables_policy_is_alerted_saying_so() -> None:
    finding = _table_policy_finding(SAMPLE_OWN._replace(operator_role_arns=None))  # no IAMWARDEN_OPERATOR_ROLE_ARNS

    assert finding.plan == ()
    assert "OperatorRoleArns" in " ".join(finding.needs_context)
    assert "aws dynamodb put-resource-policy" in finding.reason


def test_a_table_policy_that_would_shut_iam_warden_out_is_never_put() -> None:
    """The declared policy names the roles by their template names: a stack whose roles are named otherwise
    would have its own functions (or the enforcer's next restore) denied."""
    roles = dict(SAMPLE_OWN.home_roles, enforcer="arn:aws:iam::111122223333:role/renamed-enforcer")
    finding = _table_policy_finding(SAMPLE_OWN._replace(home_roles=roles, operator_role_arns=()))

    assert finding.plan == ()
    assert any("iamwarden-enforcer-us-east-1" in need for need in finding.needs_context)


@pytest.mark.parametrize(
    ("environment", "operators"),
    [
        ({}, None),  # not passed (a function other than the enforcer, or offline): not known
        ({"IAMWARDEN_OPERATOR_ROLE_ARNS": ""}, ()),  # the parameter's default: no operators
        (
            {"IAMWARDEN_OPERATOR_ROLE_ARNS": f"{SECOPS_ROLE}, arn:aws:iam::111122223333:role/oncall"},
            (SECOPS_ROLE, "arn:aws:iam::111122223333:role/oncall"),
        ),
    ],
)
def test_the_operators_come_from_the_enforcers_environment(
    environment: dict[str, str], operators: tuple[str, ...] | None
) -> None:
    from iamwarden.app.config import own_identity_from_environment

    assert own_identity_from_environment(environment).operator_role_arns == operators


def test_cloudformations_permission_under_a_declared_name_must_also_say_what_the_template_declares() -> None:
    """A stack named like ``iamwarden-EnforcerFunction...`` names its own permissions like the declared ones."""
    declared = by_cloudformation(
        _added(
            functionName="iamwarden-enforcer",
            statementId="iamwarden-EnforcerFunctionIamUserCreatedPermission-1A2B3C4D5E6F",
            action="lambda:InvokeFunction",
            principal="events.amazonaws.com",
            sourceArn=USER_CREATED_RULE_ARN,
        )
    )
    assert _tampering(judge_recorded(declared, None)) == []

    wider = copy.deepcopy(declared)
    wider["detail"]["requestParameters"].update(principal="999988887777")
    del wider["detail"]["requestParameters"]["sourceArn"]
    [finding] = _tampering(judge_recorded(wider, None))
    assert "which the template does not declare" in finding.reason
    assert [step.action for step in finding.plan] == ["remove_lambda_permission"]


# --- own roles in any case (review s10 finding 8) ---------------------------------------------------------------


@pytest.mark.parametrize(
    "file",
    [
        "tamper-enforcer-role-policy.json",
        "tamper-attach-to-enforcer-role.json",
        "tamper-boundary-on-enforcer-role.json",
        "tamper-update-role-max-session-enforcer.json",
        "tamper-update-role-max-session-remediator.json",
    ],
)
@pytest.mark.parametrize("spelled", [str.upper, str.title])
def test_an_own_role_named_in_another_case_is_that_role(file: str, spelled: Any) -> None:
    """IAM role names are unique in an account whatever their case: another case names the own role itself."""
    event = load_event(file)
    exact = judge(event)
    renamed = sample(file, roleName=spelled(event["detail"]["requestParameters"]["roleName"]))

    judged = judge(renamed)

    assert [(f.rule_id, f.severity) for f in judged.findings] == [(f.rule_id, f.severity) for f in exact.findings]
    assert [f.rule_id for f in judged.findings] == [RULE]


def test_a_role_whose_name_only_resembles_an_own_role_is_not_judged() -> None:
    event = sample("tamper-update-role-max-session-enforcer.json", roleName="iamwarden-enforcer-us-east-1x")
    assert judge(event).findings == ()


@pytest.mark.parametrize(
    ("role", "routed"),
    [
        ("IAMWARDEN-ENFORCER-US-EAST-1", True),
        ("iamwarden-enforcer-us-east-1", True),
        ("IAMWARDEN-MEMBER-FORWARDER-EU-WEST-1", True),
        ("Iamwarden-Snapshot-Reader", True),
        ("orders-worker", False),
    ],
)
def test_the_tampered_roles_route_matches_own_role_names_in_any_case(role: str, routed: bool) -> None:
    """The generated route (``declared.OWN_RULE_CONTENT``), through moto's EventBridge pattern engine."""
    content = json.loads(declared.OWN_RULE_CONTENT["iamwarden-central/iamwarden-tampered-roles"])
    own = {"${role:enforcer}": "iamwarden-enforcer-us-east-1", "${member-role:remediator}": "iamwarden-remediator"}
    text = json.dumps(content["pattern"])
    for placeholder, name in own.items():
        text = text.replace(placeholder, name)
    event = sample("tamper-update-role-max-session-enforcer.json", roleName=role)

    assert EventPattern.load(text).matches_event(event) is routed  # type: ignore[arg-type]


# --- a declared remediation grant detached from an own role: attached back only as declared (issue 15 item 2) --

DETACHED = "tamper-detach-grant-from-enforcer-role.json"
ENFORCER_GRANT = "arn:aws:iam::111122223333:policy/iamwarden-enforcer-remediations-1-us-east-1"
MEMBER_GRANT = f"arn:aws:iam::{MEMBER}:policy/iamwarden-remediator-remediations-2"
ENFORCER_COMMAND = f"aws iam attach-role-policy --role-name iamwarden-enforcer-us-east-1 --policy-arn {ENFORCER_GRANT}"


def test_a_grant_detached_from_the_enforcers_role_is_planned_back_with_its_declared_document() -> None:
    """The step carries the exact declared role, ARN and document: it attaches nothing else, and only once the
    live policy is read to hold that document (``ReattachOwnGrant``)."""
    [finding] = _tampering(judge(load_event(DETACHED)))

    assert finding.severity is Severity.CRITICAL
    [step] = finding.plan
    assert step.action == "reattach_own_grant"
    assert step.target == "arn:aws:iam::111122223333:role/iamwarden-enforcer-us-east-1"
    assert step.parameters == {
        "role_name": "iamwarden-enforcer-us-east-1",
        "policy_arn": ENFORCER_GRANT,
        "document": declared_grant(ENFORCER_GRANT, SAMPLE_OWN, "111122223333"),
    }
    assert step.parameters["document"]["Statement"][0]["Sid"] == "QuarantineUsers"
    assert finding.resource_arn == "arn:aws:iam::111122223333:role/iamwarden-enforcer-us-east-1"


def test_an_operators_detach_offline_is_alert_only_with_the_undo_unknown() -> None:
    """Offline there is no audit table to prove an operator's detach is ``iamwarden undo`` of IAM Warden's re-attach
    (issue 15 item 2/4): the plan stays, alert-only, with that unknown named. Anyone else's is judged as before."""
    operators = {"rules": {RULE: {"operators": ["arn:aws:iam::111122223333:role/developer"]}}}

    [finding] = _tampering(judge(load_event(DETACHED), **operators))
    [plain] = _tampering(judge(load_event(DETACHED)))

    [unknown] = finding.needs_context
    assert unknown.startswith(
        f"whether this detach is an operator's iamwarden undo of IAM Warden's re-attach of {ENFORCER_GRANT}"
    )
    assert "no audit table here" in unknown
    assert [step.action for step in finding.plan] == ["reattach_own_grant"]
    assert ENFORCER_COMMAND in finding.reason
    assert plain.needs_context == ()
    assert plain.plan == finding.plan


def test_the_step_names_the_declared_role_and_policy_whatever_the_events_case() -> None:
    event = sample(
        DETACHED,
        roleName="IAMWarden-Enforcer-US-East-1",
        policyArn=ENFORCER_GRANT.upper().replace("ARN:AWS:IAM::", "arn:aws:iam::"),
    )
    [finding] = _tampering(judge(event))
    [step] = finding.plan
    assert (step.parameters["role_name"], step.parameters["policy_arn"]) == (
        "iamwarden-enforcer-us-east-1",
        ENFORCER_GRANT,
    )
    assert finding.resource_arn == "arn:aws:iam::111122223333:role/iamwarden-enforcer-us-east-1"


def test_a_grant_detached_from_the_member_remediation_role_is_planned_back_with_the_member_document() -> None:
    event = in_member_account(sample(DETACHED, roleName="iamwarden-remediator", policyArn=MEMBER_GRANT))
    [finding] = _tampering(judge(event))
    assert finding.severity is Severity.CRITICAL
    [step] = finding.plan
    assert step.parameters["role_name"] == "iamwarden-remediator"
    assert step.parameters["policy_arn"] == MEMBER_GRANT
    assert step.parameters["document"] == declared_grant(MEMBER_GRANT, SAMPLE_OWN, MEMBER)
    assert step.parameters["document"] is not None
    assert finding.resource_arn == f"arn:aws:iam::{MEMBER}:role/iamwarden-remediator"


def test_with_the_declared_document_unknown_the_grant_is_alerted_with_the_exact_command_only() -> None:
    """The stack's UserRemediation decides what a grant holds: not known, nothing is attached on a guess."""
    settings = load_settings({})._replace(own=SAMPLE_OWN._replace(user_remediation=None))
    [finding] = _tampering(judge_event(load_event(DETACHED), settings))
    assert finding.plan == ()
    assert ENFORCER_COMMAND in finding.reason
    assert "the stack's UserRemediation" in " ".join(finding.needs_context)
    assert "still holds the document its template declares" in finding.reason


@pytest.mark.parametrize(
    ("account", "role", "policy"),
    [
        # another account's, another path's or another region's policy of that name is not the declared one
        (
            "111122223333",
            "iamwarden-enforcer-us-east-1",
            "arn:aws:iam::999988887777:policy/iamwarden-enforcer-remediations-1-us-east-1",
        ),
        (
            "111122223333",
            "iamwarden-enforcer-us-east-1",
            "arn:aws:iam::111122223333:policy/x/iamwarden-enforcer-remediations-1-us-east-1",
        ),
        (
            "111122223333",
            "iamwarden-enforcer-us-east-1",
            "arn:aws:iam::111122223333:policy/iamwarden-enforcer-remediations-1-eu-west-1",
        ),
        # an operator's own policy on the enforcer's role: alerted with what to do, never attached back by guess
        ("111122223333", "iamwarden-enforcer-us-east-1", "arn:aws:iam::aws:policy/ReadOnlyAccess"),
        # the member stack's grant is not the enforcer's, nor the enforcer's grant a member role's
        (
            "111122223333",
            "iamwarden-enforcer-us-east-1",
            "arn:aws:iam::111122223333:policy/iamwarden-remediator-remediations-1",
        ),
        (MEMBER, "iamwarden-remediator", f"arn:aws:iam::{MEMBER}:policy/iamwarden-enforcer-remediations-1-us-east-1"),
        # another own role (the pruner's member role) holds no declared grant
        (MEMBER, "iamwarden-pruner-member", MEMBER_GRANT),
        # the member grant of another account
        (MEMBER, "iamwarden-remediator", "arn:aws:iam::777788889999:policy/iamwarden-remediator-remediations-2"),
    ],
)
def test_only_the_declared_grant_of_that_very_role_gets_the_command(account: str, role: str, policy: str) -> None:
    event = sample(DETACHED, roleName=role, policyArn=policy)
    if account == MEMBER:
        event = in_member_account(event)
        event["detail"]["requestParameters"]["policyArn"] = policy
    [finding] = _tampering(judge(event))
    assert finding.severity is Severity.CRITICAL
    assert finding.plan == ()
    assert "put it back" in finding.reason
    assert "attach-role-policy" not in finding.reason


def test_a_failed_detach_of_a_grant_is_never_remediated() -> None:
    event = load_event(DETACHED)
    event["detail"]["errorCode"] = "AccessDenied"
    event["detail"]["errorMessage"] = "not authorized"
    assert [f for f in judge(event).findings if f.plan] == []


def test_the_stacks_own_detach_of_its_grant_is_its_deployment() -> None:
    assert _tampering(judge_recorded(by_cloudformation(load_event(DETACHED)), Snapshots())) == []


# --- a deleted, re-patterned or un-targeted own rule: the exact commands that put it back (issue 15 item 2) -------


def rule_commands(reason: str) -> dict[str, dict[str, str]]:
    """Each ``aws events`` command the alert gives (put-rule, remove-targets, put-targets), by name, its options
    parsed as the shell would (the CLI's shorthand ``--targets``; ``--ids`` as one space-separated value)."""
    found = {}
    for command in ("put-rule", "remove-targets", "put-targets"):
        if f"aws events {command} " not in reason:
            continue
        text = reason.split(f"aws events {command} ", 1)[1]
        for end in (", then ", " (", "; "):
            text = text.split(end, 1)[0]
        words = shlex.split(text)
        options: dict[str, str] = {}
        for word in words:
            if word.startswith("--"):
                options[word.removeprefix("--")] = ""
                last = word.removeprefix("--")
            else:
                options[last] = f"{options[last]} {word}".strip()
        found[command] = options
    return found


@pytest.mark.parametrize(
    ("file", "key", "commands"),
    [
        ("tamper-delete-rule.json", "iamwarden-forward-own-events", {"put-rule", "put-targets"}),
        ("tamper-put-rule.json", "iamwarden-tampered-stack", {"put-rule"}),  # a PutRule touches no target
        ("tamper-remove-targets.json", "iamwarden-central/iamwarden-iam-user-created", {"put-targets"}),
        ("tamper-put-targets.json", "iamwarden-tampered-stack", {"remove-targets", "put-targets"}),
    ],
)
def test_the_alert_gives_the_commands_that_write_the_declared_rule(file: str, key: str, commands: set[str]) -> None:
    [finding] = _tampering(judge(load_event(file)))
    assert finding.plan == ()

    given = rule_commands(finding.reason)

    assert set(given) == commands
    declared = declared_rule(key, SAMPLE_OWN, "aws", "us-east-1", "111122223333")
    assert declared is not None
    bus, _, name = key.rpartition("/")
    if "put-rule" in given:
        rule = given["put-rule"]
        as_put_rule = {"eventPattern": rule.get("event-pattern"), "scheduleExpression": rule.get("schedule-expression")}
        assert rule_differences({**as_put_rule, "state": rule["state"]}, declared) == []
        assert (rule["name"], rule.get("event-bus-name", ""), rule["region"]) == (name, bus, "us-east-1")
    if "put-targets" in given:
        targets = given["put-targets"]
        assert (targets["rule"], targets.get("event-bus-name", ""), targets["region"]) == (name, bus, "us-east-1")
        shorthand = dict(item.split("=", 1) for item in targets["targets"].split(","))
        assert shorthand["Arn"] == declared.target
        assert not {"Input", "InputPath", "InputTransformer"} & set(shorthand)
    assert "detect-stack-drift --stack-name iamwarden" in finding.reason


def test_a_target_put_back_after_a_targets_event_only_when_none_with_the_declared_arn_is_left() -> None:
    """Review s15 F2: a target of the declared ARN still there (another id was removed or added) is not doubled."""
    for file in ("tamper-remove-targets.json", "tamper-put-targets.json"):
        reason = _tampering(judge(load_event(file)))[0].reason
        assert "if aws events list-targets-by-rule --region us-east-1 " in reason
        assert reason.index("list-targets-by-rule") < reason.index("aws events put-targets")
    deleted = _tampering(judge(load_event("tamper-delete-rule.json")))[0].reason
    assert "list-targets-by-rule" not in deleted  # a deleted rule has no target left


def test_every_target_a_put_targets_put_is_removed_first() -> None:
    """Review s15 F2 (probe1 "puttargets two targets"): the declared id pointed at another account's bus plus a
    queue there; both are removed by their exact ids before the declared target is put back."""
    targets = [
        {"id": "iamwarden-tampered-stack", "arn": "arn:aws:events:us-east-1:999999999999:event-bus/default"},
        {"id": "x2", "arn": "arn:aws:sqs:us-east-1:999999999999:exfil"},
    ]
    [finding] = _tampering(judge(sample("tamper-put-targets.json", targets=targets)))
    given = rule_commands(finding.reason)
    assert given["remove-targets"] == {
        "region": "us-east-1",
        "rule": "iamwarden-tampered-stack",
        "ids": "iamwarden-tampered-stack x2",
    }
    assert finding.reason.index("aws events remove-targets") < finding.reason.index("aws events put-targets")
    assert given["put-targets"]["targets"].startswith(f"Id={RESTORED_TARGET_ID},")


def test_the_put_back_target_keeps_the_id_the_event_removed_or_overwrote() -> None:
    removed = rule_commands(_tampering(judge(load_event("tamper-remove-targets.json")))[0].reason)["put-targets"]
    overwritten = rule_commands(_tampering(judge(load_event("tamper-put-targets.json")))[0].reason)["put-targets"]
    deleted = rule_commands(_tampering(judge(load_event("tamper-delete-rule.json")))[0].reason)["put-targets"]
    assert removed["targets"].startswith("Id=EnforcerFunctionIamUserCreatedLambdaTarget,")
    assert overwritten["targets"].startswith("Id=iamwarden-tampered-stack,")
    assert deleted["targets"].startswith("Id=iamwarden-restored,")
    # the forwarder's target is the central bus, put with the role EventBridge forwards with
    assert deleted["targets"].endswith(",RoleArn=arn:aws:iam::111122223333:role/iamwarden-event-forwarder-us-east-1")


def test_a_schedule_rule_is_put_back_with_its_schedule() -> None:
    event = sample("tamper-delete-rule.json", name="iamwarden-heartbeat")
    given = rule_commands(_tampering(judge(event))[0].reason)
    assert given["put-rule"]["schedule-expression"] == "rate(5 minutes)"
    assert "event-pattern" not in given["put-rule"]
    assert "Arn=arn:aws:lambda:us-east-1:111122223333:function:iamwarden-heartbeat" in given["put-targets"]["targets"]


def test_a_repatterned_and_disabled_rule_is_enabled_and_given_the_put_rule_command() -> None:
    """Review s15 F5: re-enabling puts back the state only; the pattern needs the put-rule command."""
    event = sample("tamper-put-rule.json", eventPattern='{"source":["nothing.never"]}', state="DISABLED")
    [finding] = _tampering(judge(event))
    assert [step.action for step in finding.plan] == ["enable_own_rule"]
    assert "it will be put back" not in finding.reason
    assert "its pattern or schedule is not put back" in finding.reason
    assert rule_commands(finding.reason)["put-rule"]["state"] == "ENABLED"


def test_disabling_alone_is_put_back_by_enabling() -> None:
    [finding] = _tampering(judge(sample("tamper-put-rule.json", state="DISABLED", eventPattern=None)))
    assert [step.action for step in finding.plan] == ["enable_own_rule"]
    assert "put-rule" not in finding.reason


def test_the_commands_name_the_stacks_region_whatever_region_the_event_names() -> None:
    """Review s15 F7 (probe3.py): the central bus, and the stack's rules, are in the stack's region only."""
    event = load_event("tamper-delete-rule.json")
    event["region"] = event["detail"]["awsRegion"] = "eu-west-1"
    [finding] = _tampering(judge(event))
    given = rule_commands(finding.reason)
    assert given["put-rule"]["region"] == given["put-targets"]["region"] == "us-east-1"
    assert ":events:us-east-1:" in given["put-targets"]["targets"]
    assert "eu-west-1" not in given["put-targets"]["targets"]
    assert "a rule of that name in eu-west-1 is not one it declares" in finding.reason


def test_without_what_the_declared_rule_names_or_in_a_member_account_only_the_redeploy_command_is_given() -> None:
    unknown = judge_event(
        load_event("tamper-put-rule.json"), load_settings({})._replace(own=SAMPLE_OWN._replace(home_roles={}))
    )
    [finding] = _tampering(unknown)
    assert "put-rule" not in finding.reason
    assert "detect-stack-drift" in finding.reason
    member = in_member_account(sample("tamper-delete-rule.json", name="iamwarden-forward-guard-a"))
    [finding] = _tampering(judge(member))
    assert "put-rule" not in finding.reason
    assert "update-stack-instances" in finding.reason


@pytest.mark.parametrize("policy", ["enforcer-runtime", "attacker-stack"])
def test_a_stack_writing_attach_any_policy_onto_the_enforcers_role_is_a_critical_escalation(policy: str) -> None:
    """Review s15 F3 (probe2.py): AttachRolePolicy is no documented escalation of the enforcer. A CloudFormation-made
    inline policy on its role that may attach any policy to it stays critical and is rewritten, as on main."""
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": "*"},
            {"Effect": "Allow", "Action": "iam:AttachRolePolicy", "Resource": "*"},
        ],
    }
    event = by_cloudformation(
        sample("tamper-enforcer-role-policy.json", policyName=policy, policyDocument=json.dumps(document))
    )
    findings = judge_recorded(event, Snapshots(_own_role_snapshot())).findings
    [escalation] = [f for f in findings if f.rule_id == "privilege-escalation"]
    assert escalation.severity is Severity.CRITICAL
    assert "AttachRolePolicy" in {item.get("method") for item in escalation.offending}
    assert [step.action for step in escalation.plan] == ["rewrite_inline_policy"]


# --- an own function's event invoke config: the event names (issue 15 item 2, s17) ---------------------------

INVOKE_CONFIG_SAMPLES = (
    "tamper-enforcer-invoke-config-put.json",
    "tamper-enforcer-invoke-config-update.json",
    "tamper-enforcer-invoke-config-deleted.json",
)


def _spelled(file: str, suffix: str) -> dict[str, Any]:
    event = copy.deepcopy(load_event(file))
    event["detail"]["eventName"] += suffix
    return event


@pytest.mark.parametrize("suffix", ["", "20190925"])
@pytest.mark.parametrize("file", INVOKE_CONFIG_SAMPLES)
def test_an_invoke_config_change_under_either_spelling_is_put_back_as_declared(file: str, suffix: str) -> None:
    """The guide names the plain event (Put, Update) or none (Delete); Lambda's version-suffixed spelling of the
    2019-09-25 API is judged the same, never missed."""
    [finding] = judge(_spelled(file, suffix)).findings
    assert (finding.rule_id, finding.severity) == (RULE, Severity.CRITICAL)
    [step] = finding.plan
    assert step.action == "restore_function_invoke_config"
    assert step.target == "arn:aws:lambda:us-east-1:111122223333:function:iamwarden-enforcer"
    assert step.parameters["declared"]["DestinationConfig"] == {
        "OnFailure": {"Destination": "arn:aws:sqs:us-east-1:111122223333:iamwarden-enforcer-dlq"}
    }


@pytest.mark.parametrize("suffix", ["", "20190925"])
@pytest.mark.parametrize("file", INVOKE_CONFIG_SAMPLES)
def test_an_invoke_config_change_under_either_spelling_is_routed_to_the_enforcer(file: str, suffix: str) -> None:
    """The generated route on the security account's bus (``iamwarden-tampered-stack``), through moto's engine."""
    content = json.loads(declared.OWN_RULE_CONTENT["iamwarden-tampered-stack"])

    routed = EventPattern.load(json.dumps(content["pattern"])).matches_event(_spelled(file, suffix))  # type: ignore[arg-type]

    assert routed is True


def test_another_version_suffix_is_not_taken_for_an_invoke_config_event() -> None:
    """Only the spellings named are judged: a name merely ending like one is not IAM Warden's to act on."""
    event = _spelled("tamper-enforcer-invoke-config-put.json", "20150331")
    assert judge(event).findings == ()
