"""remediation-reversed on a function IAM Warden stopped for running as its role (audit s6 gap 8).

``stop_function`` sets a foreign function given one of IAM Warden's roles to reserved concurrency 0. Raising that
concurrency again or deleting it starts the function as IAM Warden once more: it is stopped again.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from iamwarden.domain.findings import Judgement, Verdict
from iamwarden.domain.recorded import PastRemediation
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event
from tests.unit.test_reversed_roles_anywhere import Audit, operators_settings, undone_by_operator

FUNCTION_ARN = "arn:aws:lambda:us-east-1:111122223333:function:ops-helper"
ROLE = "arn:aws:iam::111122223333:role/iamwarden-enforcer-us-east-1"
SAMPLES = ("reversed-stopped-function-concurrency-deleted.json", "reversed-stopped-function-concurrency-raised.json")


def _stopped(status: str = "remediated", function: str = "ops-helper", *, done: bool = True) -> PastRemediation:
    """``done`` as ``StopFunction.apply`` begins it (empty: nothing was stopped)."""
    step = {"action": "stop_function", "parameters": {"function_name": function, "role": ROLE}}
    lines = (f"stopped function {function} (reserved concurrency 0, it was unreserved): it runs as IAM Warden's role",)
    return PastRemediation(
        "rem-7", "iamwarden-tampered", status, "2026-11-20T09:41:00Z", (step,), lines if done else ()
    )


def _judge(event: dict[str, Any], audit: Audit | None) -> Judgement:
    return judge_event(event, Settings(), recorded=audit)


@pytest.mark.parametrize("sample", SAMPLES)
def test_a_function_iam_warden_stopped_and_started_again_is_stopped_again(sample: str) -> None:
    [finding] = _judge(load_event(sample), Audit({FUNCTION_ARN: [_stopped()]})).findings

    assert (finding.rule_id, finding.severity.value, finding.resource_arn) == (
        "remediation-reversed",
        "critical",
        FUNCTION_ARN,
    )
    assert "rem-7 (iamwarden-tampered) had stopped because it runs as IAM Warden's role" in finding.reason
    [step] = finding.plan
    assert (step.action, dict(step.parameters)) == ("stop_function", {"function_name": "ops-helper", "role": ROLE})


def test_the_reason_says_what_was_done() -> None:
    deleted, raised = (_judge(load_event(s), Audit({FUNCTION_ARN: [_stopped()]})).findings[0] for s in SAMPLES)
    assert "deleted its reserved concurrency of function ops-helper" in deleted.reason
    assert "set its reserved concurrency to 5 of function ops-helper" in raised.reason


def test_a_function_named_by_its_arn_is_the_same_function() -> None:
    event = copy.deepcopy(load_event(SAMPLES[0]))
    event["detail"]["requestParameters"]["functionName"] = f"{FUNCTION_ARN}:$LATEST"
    [finding] = _judge(event, Audit({FUNCTION_ARN: [_stopped()]})).findings
    assert finding.plan[0].parameters["function_name"] == "ops-helper"


@pytest.mark.parametrize(
    "past",
    [undone_by_operator(_stopped()), _stopped(status="failed", done=False), _stopped(function="other-function")],
    ids=["undone by an operator's iamwarden undo", "never done", "another function"],
)
def test_an_undone_or_failed_stop_or_another_function_is_no_reversal(past: PastRemediation) -> None:
    judgement = judge_event(load_event(SAMPLES[0]), operators_settings(), recorded=Audit({FUNCTION_ARN: [past]}))
    assert judgement.verdict is Verdict.COMPLIANT
    assert "IAM Warden never stopped function ops-helper" in judgement.reason


@pytest.mark.parametrize("sample", SAMPLES)
def test_a_failed_remediation_that_did_stop_it_is_reversed_too(sample: str) -> None:
    """A failed remediation counts for what its done shows (review s11 R7/R10): this function was stopped."""
    judgement = judge_event(
        load_event(sample), operators_settings(), recorded=Audit({FUNCTION_ARN: [_stopped("failed")]})
    )

    [finding] = judgement.findings
    assert (finding.rule_id, finding.severity.value) == ("remediation-reversed", "critical")
    assert [step.action for step in finding.plan] == ["stop_function"]


def test_a_failed_remediation_that_stopped_another_function_is_no_reversal() -> None:
    past = _stopped("failed")._replace(done=("stopped function ops-helper-2 (reserved concurrency 0, it was 5)",))
    judgement = judge_event(load_event(SAMPLES[0]), operators_settings(), recorded=Audit({FUNCTION_ARN: [past]}))
    assert judgement.verdict is Verdict.COMPLIANT


def test_stopping_it_again_by_hand_is_no_reversal() -> None:
    event = copy.deepcopy(load_event(SAMPLES[1]))
    event["detail"]["requestParameters"]["reservedConcurrentExecutions"] = 0
    assert _judge(event, Audit({FUNCTION_ARN: [_stopped()]})).verdict is Verdict.COMPLIANT


def test_offline_without_the_audit_table_it_says_what_it_cannot_know() -> None:
    judgement = _judge(load_event(SAMPLES[0]), None)
    assert judgement.findings == ()
    assert "whether IAM Warden stopped function ops-helper is in its audit table" in judgement.reason
