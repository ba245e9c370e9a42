"""The guardrail contract: every rule in the registry shows the same behaviours end to end.

Each test is parametrised over ``RULES`` (every rule id) and runs one behaviour through the
enforcer service as Lambda wires it (judge, mode, executor, audit table, alerts) against a moto
account, reading the live state back with boto3. The per-rule data lives in
tests/functional/guardrail_cases.py; a rule without a case fails here, so a new guardrail cannot
land without its contract. A behaviour moto cannot support for a rule is declared in its case
with the reason and runs as a strict xfail (it fails once moto supports it, so the entry goes).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders

from iamwarden.adapters.audit import AuditRecord, AuditStatus
from iamwarden.adapters.clients import ApiCall
from iamwarden.app.service import EnforcementFailedError, EnforcerService
from iamwarden.domain.exceptions import UndoError
from iamwarden.domain.findings import Outcome
from iamwarden.guardrails.registry import RULES
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier
from tests.functional.guardrail_cases import CASES, Behaviour, GuardrailCase, Scenario

CASE_FILE = "tests/functional/guardrail_cases.py"
OWN_IDENTITY: Mapping[str, Any] = load_event("create-user-by-warden.json")["detail"]["userIdentity"]
OPERATOR = f"arn:aws:iam::{HOME_ACCOUNT}:user/secops"


#: What a rule with nothing to put back (``GuardrailCase.alert_only``) cannot show: it shows
#: ``test_a_rule_with_nothing_to_put_back_alerts_in_every_mode`` instead.
PLAN_BEHAVIOURS = frozenset(
    {Behaviour.REMEDIATED, Behaviour.ALERT_ONLY, Behaviour.DUPLICATE, Behaviour.PARTIAL_FAILURE, Behaviour.UNDO}
)


def _rules(behaviour: Behaviour) -> list[Any]:
    """Every registered rule id; a declared moto gap for ``behaviour`` makes it a strict xfail.

    A rule whose findings have no plan by design is left out of the behaviours that need one.
    """
    params = []
    for rule in sorted(RULES):
        case = CASES.get(rule)
        if case is not None and case.alert_only and behaviour in PLAN_BEHAVIOURS:
            continue
        gap = case.moto_gaps.get(behaviour) if case else None
        marks = [pytest.mark.xfail(strict=True, reason=f"moto cannot: {gap}")] if gap else []
        params.append(pytest.param(rule, id=rule, marks=marks))
    return params


def _case(rule: str) -> GuardrailCase:
    case = CASES.get(rule)
    if case is None:
        pytest.fail(f"guardrail rule {rule} has no contract case: add a GuardrailCase for it to {CASE_FILE}")
    return case


def _prepare(account: Account, rule: str, mode: str, scenario: Scenario, **settings: str) -> dict[str, Any]:
    """Set the rule's mode and the scenario's settings, build its live state; return its event."""
    account.set(f"rules/{rule}/mode", mode)
    for name, value in {**scenario.settings, **settings}.items():
        account.set(name, value)
    return scenario.prepare(account)


@contextmanager
def _calls(enforcer: EnforcerService) -> Iterator[list[ApiCall]]:
    """Every AWS call the enforcer makes to customer resources (its own tables and parameters are not listed)."""
    with enforcer.executor.clients.call_log.recording() as calls:
        yield calls


def _writes(calls: list[ApiCall]) -> list[str]:
    return [call.iam_action for call in calls if call.writes]


def _is_write(action: str) -> bool:
    """Whether a recorded call (``iam:DetachRolePolicy``) writes; reads may fail with "not found" by design."""
    return not action.split(":", 1)[1].startswith(("Get", "List", "Describe", "Head"))


def _outcomes(result: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The result's findings by rule (one finding per rule and event)."""
    by_rule = {finding["rule"]: finding for finding in result["findings"]}
    assert len(by_rule) == len(result["findings"]), result["findings"]
    return by_rule


def _record(account: Account, event: Mapping[str, Any], rule: str) -> AuditRecord:
    [record] = [r for r in account.audit().for_event(event["detail"]["eventID"]) if r.rule == rule]
    return record


def _alerts(notifier: RecordingNotifier, rule: str) -> list[Any]:
    return [n for n in notifier.sent if n.finding is not None and n.finding.rule_id == rule]


def _refuse(
    enforcer: EnforcerService, event: Mapping[str, Any], service: str, operation: str, *, ahead: bool = False
) -> None:
    """Make ``operation`` of the enforcer's ``service`` client answer AccessDenied, as AWS would (``ahead``: before
    the session's hooks that emulate what moto lacks)."""

    def refused(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        error = {"Code": "AccessDenied", "Message": f"injected: {operation} is not allowed"}
        return AWSResponse("https://aws.amazon.com/", 403, HTTPHeaders(), None), {
            "Error": error,
            "ResponseMetadata": {"HTTPStatusCode": 403},
        }

    client = enforcer.executor.clients.client(service, event["account"], event["detail"]["awsRegion"])
    register = client.meta.events.register_first if ahead else client.meta.events.register
    register(f"before-call.{client.meta.service_model.service_id.hyphenize()}.{operation}", refused)


def test_every_case_is_a_registered_rule() -> None:
    """A case for a rule that no longer exists is stale; each case is filed under its own rule id."""
    assert set(CASES) <= set(RULES), f"cases for unknown rules: {sorted(set(CASES) - set(RULES))}"
    assert all(case.rule == rule for rule, case in CASES.items())
    for case in CASES.values():
        assert case.rule in case.expected_findings
        assert case.expected_findings <= set(RULES)


@pytest.mark.parametrize("rule", _rules(Behaviour.REMEDIATED))
def test_a_violation_in_remediate_mode_is_remediated_and_recorded(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, rule: str
) -> None:
    case = _case(rule)
    event = _prepare(account, rule, "remediate", case.violation)
    before = case.violation.state(account)

    result = enforcer.handle(copy.deepcopy(event))

    assert result["verdict"] == "violation", result["reason"]
    outcomes = _outcomes(result)
    assert set(outcomes) == case.expected_findings
    finding = outcomes[rule]
    assert finding["outcome"] == Outcome.REMEDIATED
    assert finding["done"], "a remediation of a violating live state changes something"
    assert all(outcomes[other]["outcome"] == Outcome.ALERTED for other in set(outcomes) - {rule})
    assert before != case.remediated
    assert case.violation.state(account) == case.remediated
    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    assert (record.kind, record.status, record.rule) == ("remediation", AuditStatus.REMEDIATED, rule)
    assert record.event_id == event["detail"]["eventID"]
    assert record.plan
    assert record.before, "the before-state is recorded"
    assert list(record.done) == finding["done"]
    writes = [call for call in record.calls if _is_write(call["call"])]
    assert writes, "the writes made are recorded"
    assert all(call["ok"] for call in writes)
    [alert] = _alerts(notifier, rule)
    assert alert.outcome is Outcome.REMEDIATED
    assert alert.remediation_id == finding["remediation_id"]
    assert list(alert.actions) == finding["done"]
    assert len(notifier.sent) == len(outcomes)


@pytest.mark.parametrize("rule", _rules(Behaviour.ALERT_ONLY))
def test_alert_mode_leaves_the_live_state_and_alerts_the_plan(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, rule: str
) -> None:
    case = _case(rule)
    event = _prepare(account, rule, "alert", case.violation)
    before = case.violation.state(account)

    with _calls(enforcer) as calls:
        result = enforcer.handle(copy.deepcopy(event))

    outcomes = _outcomes(result)
    assert set(outcomes) == case.expected_findings
    assert {finding["outcome"] for finding in outcomes.values()} == {Outcome.ALERTED}
    assert _writes(calls) == []
    assert case.violation.state(account) == before
    record = _record(account, event, rule)
    assert record.status == AuditStatus.ALERTED
    assert record.plan, "the plan remediate mode would run is recorded"
    assert not record.before
    assert not record.done
    [alert] = _alerts(notifier, rule)
    assert alert.outcome is Outcome.ALERTED
    assert alert.remediation_id == record.remediation_id
    assert alert.actions
    assert list(alert.actions) == [step["summary"] for step in record.plan]


@pytest.mark.parametrize("rule", _rules(Behaviour.COMPLIANT))
def test_a_compliant_change_is_left_alone(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, rule: str
) -> None:
    case = _case(rule)
    event = _prepare(account, rule, "remediate", case.compliant)
    before = case.compliant.state(account)

    with _calls(enforcer) as calls:
        result = enforcer.handle(copy.deepcopy(event))

    assert rule in result["rules"], f"the compliant sample is not judged by {rule}: {result['reason']}"
    assert (result["verdict"], result["findings"]) == ("compliant", []), result["reason"]
    assert _writes(calls) == []
    assert case.compliant.state(account) == before
    assert account.audit().for_event(event["detail"]["eventID"]) == []
    assert notifier.sent == []


@pytest.mark.parametrize("rule", _rules(Behaviour.DUPLICATE))
def test_the_same_event_twice_is_acted_on_once(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, rule: str
) -> None:
    case = _case(rule)
    event = _prepare(account, rule, "remediate", case.violation)
    first = enforcer.handle(copy.deepcopy(event))
    alerts = list(notifier.sent)
    records = account.audit().for_event(event["detail"]["eventID"])

    with _calls(enforcer) as calls:
        second = enforcer.handle(copy.deepcopy(event))

    assert second == first, "answered from the first delivery's idempotency record"
    # Judged again before Idempotency answers it (only an event with something to record goes through it), so a
    # rule that reads live context reads it again; nothing is written.
    assert _writes(calls) == [], "a delivered-again event writes nothing"
    assert notifier.sent == alerts, "no second alert"
    assert account.audit().for_event(event["detail"]["eventID"]) == records
    assert case.violation.state(account) == case.remediated


def _assert_ignored(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, case: GuardrailCase, event: dict[str, Any]
) -> str:
    """Handle ``event`` (a variant of the violation, with its live state in place); it must change nothing."""
    before = case.violation.state(account)

    with _calls(enforcer) as calls:
        result = enforcer.handle(event)

    assert (result["verdict"], result["findings"]) == ("ignored", [])
    assert calls == [], "an ignored change makes no AWS call"
    assert case.violation.state(account) == before
    assert account.audit().for_event(event["detail"]["eventID"]) == []
    assert notifier.sent == []
    return str(result["reason"])


@pytest.mark.parametrize("rule", _rules(Behaviour.OWN_ROLE))
def test_the_same_change_by_iam_wardens_own_role_is_ignored(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, rule: str
) -> None:
    case = _case(rule)
    event = _prepare(account, rule, "remediate", case.violation)
    event["detail"]["userIdentity"] = copy.deepcopy(dict(OWN_IDENTITY))

    reason = _assert_ignored(account, enforcer, notifier, case, event)

    assert reason == f"made by IAM Warden's own role {OWN_IDENTITY['sessionContext']['sessionIssuer']['arn']}"


@pytest.mark.parametrize("rule", _rules(Behaviour.FAILED_CALL))
def test_the_same_change_as_a_failed_call_is_ignored(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, rule: str
) -> None:
    case = _case(rule)
    event = _prepare(account, rule, "remediate", case.violation)
    detail = event["detail"]
    detail["errorCode"], detail["errorMessage"] = "AccessDenied", "User is not authorized to perform this operation"
    detail["responseElements"] = None

    reason = _assert_ignored(account, enforcer, notifier, case, event)

    assert reason.startswith("failed call (AccessDenied)"), reason


@pytest.mark.parametrize("rule", _rules(Behaviour.PARTIAL_FAILURE))
def test_a_failed_write_is_recorded_with_what_was_and_was_not_done_and_alerted(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, rule: str
) -> None:
    case = _case(rule)
    failure = case.partial_failure
    assert failure is not None, f"{rule} has a plan: its case names the write to make fail"
    event = _prepare(account, rule, "remediate", case.violation, **failure.settings)
    before = case.violation.state(account)
    for operation in (failure.operation, *failure.also):
        _refuse(enforcer, event, failure.service, operation, ahead=failure.ahead)

    with pytest.raises(EnforcementFailedError) as raised:
        enforcer.handle(copy.deepcopy(event))

    record = _record(account, event, rule)
    assert [f.record.remediation_id for f in raised.value.failures] == [record.remediation_id]
    assert record.status == AuditStatus.FAILED
    assert len(record.done) == failure.done_before + failure.done_after, record.done
    error = record.error or ""
    assert f"{failure.operation} failed with AccessDenied" in error
    assert f"done: {'; '.join(record.done) or 'nothing'}; not done: " in error
    assert "not done: nothing" not in error, "the failed step is named as not done"
    writes = [call for call in record.calls if _is_write(call["call"])]
    refused = ["AccessDenied"] * (1 + len(failure.also))
    assert [call.get("error") for call in writes if not call["ok"]] == refused, "only the injected writes"
    assert all(call["ok"] for call in writes[len(writes) - failure.writes_after :]), "only what the case says follows"
    assert not writes[len(writes) - failure.writes_after - 1]["ok"], "nothing else is written after the failure"
    assert len(writes) == failure.done_before + len(refused) + failure.writes_after
    assert record.before, "the before-state was recorded before the first write"
    after = case.violation.state(account)
    assert (after == before) is (failure.done_before + failure.writes_after == 0)
    [alert] = _alerts(notifier, rule)
    assert alert.outcome is Outcome.REMEDIATION_FAILED
    assert alert.remediation_id == record.remediation_id
    assert list(alert.actions) == list(record.done)
    assert "AccessDenied" in (alert.error or "")


@pytest.mark.parametrize("rule", _rules(Behaviour.UNDO))
def test_undo_restores_the_exact_before_state(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, rule: str
) -> None:
    case = _case(rule)
    event = _prepare(account, rule, "remediate", case.violation)
    before = case.violation.state(account)
    finding = _outcomes(enforcer.handle(copy.deepcopy(event)))[rule]
    assert case.violation.state(account) == case.remediated
    [alert] = _alerts(notifier, rule)

    if case.undo_refused is not None:
        assert alert.undoable is False, "the alert says the remediation cannot be undone"
        with pytest.raises(UndoError):
            enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
        assert case.violation.state(account) == case.remediated
        record = account.audit().get(finding["remediation_id"])
        assert record is not None
        assert record.status == AuditStatus.REMEDIATED
        return

    undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)

    assert alert.undoable is True
    assert case.violation.state(account) == before
    assert undo.restored
    assert (undo.kind, undo.status, undo.undoes, undo.actor) == (
        "undo",
        AuditStatus.UNDO,
        finding["remediation_id"],
        OPERATOR,
    )
    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    assert (record.status, record.undone_by) == (AuditStatus.UNDONE, undo.remediation_id)


@pytest.mark.parametrize("rule", sorted(rule for rule, case in CASES.items() if case.alert_only))
@pytest.mark.parametrize("mode", ["alert", "remediate"])
def test_a_rule_with_nothing_to_put_back_alerts_in_every_mode(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, rule: str, mode: str
) -> None:
    case = _case(rule)
    event = _prepare(account, rule, mode, case.violation)

    with _calls(enforcer) as calls:
        result = enforcer.handle(copy.deepcopy(event))

    outcomes = _outcomes(result)
    assert set(outcomes) == case.expected_findings
    assert outcomes[rule]["outcome"] == Outcome.ALERTED, "nothing to carry out: alerted, never 'remediated'"
    writes = [call for call in calls if not call.operation.startswith(("Get", "List", "Describe"))]
    assert writes == [], "the judgement may read live state (restraint-removed reads the principal), never write"
    record = _record(account, event, rule)
    assert (record.status, list(record.plan), list(record.done)) == (AuditStatus.ALERTED, [], [])
    [alert] = _alerts(notifier, rule)
    assert alert.outcome is Outcome.ALERTED
    assert alert.finding is not None
    assert alert.finding.severity.value == case.alert_severity


def test_every_rule_with_a_plan_names_a_write_to_make_fail() -> None:
    for rule, case in CASES.items():
        assert (case.partial_failure is None) is bool(case.alert_only), rule
