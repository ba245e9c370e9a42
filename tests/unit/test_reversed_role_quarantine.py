"""remediation-reversed on a role quarantine that failed part-way: it counts only for what its ``done`` shows.

A failed record's ``done`` says what it did (review s11 R7/R10): a deny-all that went on the role is a quarantine in
force, and deleting it is a reversal; a failed quarantine that put nothing on the role is none.
"""

from __future__ import annotations

import pytest

from iamwarden.domain.recorded import PastRemediation
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event
from tests.unit.test_reversed_roles_anywhere import Audit, operators_settings

SAMPLE = "remediation-reversed-role-quarantine-deleted.json"
ROLE = "iamwarden-heartbeat-us-east-1"
ROLE_ARN = f"arn:aws:iam::111122223333:role/{ROLE}"
INLINE = f"put the deny-all inline policy iamwarden-quarantine on role {ROLE}"
BOUNDARY = f"set the deny-all permissions boundary arn:aws:iam::aws:policy/AWSDenyAll on role {ROLE}"


def _quarantine(status: str, *done: str) -> PastRemediation:
    step = {"action": "quarantine_role", "parameters": {"role_name": ROLE, "policy_name": "iamwarden-quarantine"}}
    return PastRemediation("rem-9", "iamwarden-tampered", status, "2026-11-20T09:41:00Z", (step,), done)


def _reversal_findings(past: PastRemediation) -> list[str]:
    judgement = judge_event(load_event(SAMPLE), operators_settings(), recorded=Audit({ROLE_ARN: [past]}))
    return [f.plan[0].action for f in judgement.findings if f.rule_id == "remediation-reversed"]


@pytest.mark.parametrize(
    "past",
    [_quarantine("remediated", INLINE), _quarantine("failed", INLINE), _quarantine("failed", BOUNDARY)],
    ids=["remediated", "failed after the inline deny-all", "failed after the deny-all boundary"],
)
def test_a_quarantine_whose_done_shows_a_deny_all_is_put_back(past: PastRemediation) -> None:
    assert _reversal_findings(past) == ["quarantine_role"]


@pytest.mark.parametrize(
    "past",
    [
        _quarantine("failed"),
        _quarantine("failed", "put the deny-all inline policy iamwarden-quarantine on role another-role"),
    ],
    ids=["never done", "done on another role"],
)
def test_a_failed_quarantine_that_put_nothing_on_the_role_is_no_reversal(past: PastRemediation) -> None:
    judgement = judge_event(load_event(SAMPLE), operators_settings(), recorded=Audit({ROLE_ARN: [past]}))
    assert not [f for f in judgement.findings if f.rule_id == "remediation-reversed"]
