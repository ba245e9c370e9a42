"""remediation-reversed on a role quarantine that failed part-way: it counts only for what its ``done`` shows.

A failed record's ``done`` says what it did (review s11 R7/R10): a deny-all that went on the role is a quarantine in
force, and deleting it is a reversal; a failed quarantine that put nothing on the role is none.

Issue 15: only a quarantine of this very role counts (the RoleId its record captured is the live role's); a role
deleted and re-created under the name is another principal (no reversal), and a record without a RoleId, or a role
that cannot be read, is a medium alert with nothing done.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

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


ROLE_ID = "AROAEXAMPLEQUARANTINED"


def _quarantine(status: str, *done: str, role_id: str | None = ROLE_ID) -> PastRemediation:
    step = {"action": "quarantine_role", "parameters": {"role_name": ROLE, "policy_name": "iamwarden-quarantine"}}
    before = {"exists": True, "policy": None, "boundary": None, **({"role_id": role_id} if role_id else {})}
    return PastRemediation("rem-9", "iamwarden-tampered", status, "2026-11-20T09:41:00Z", (step,), done, (before,))


class _Iam:
    """The live role as ``GetRole`` answers it (its RoleId), or NoSuchEntity."""

    def __init__(self, role_id: str | None) -> None:
        self.role_id = role_id

    def get_role(self, RoleName: str) -> dict[str, Any]:
        if self.role_id is None:
            raise _Gone()
        return {"Role": {"RoleName": RoleName, "RoleId": self.role_id, "Arn": ROLE_ARN}}


class _Gone(Exception):
    response: dict[str, Any] = {"Error": {"Code": "NoSuchEntity"}}  # noqa: RUF012


def _judged(past: PastRemediation, live_id: str | None = ROLE_ID, *, live: bool = True) -> list[Any]:
    clients = (lambda account, region: SimpleNamespace(iam=_Iam(live_id))) if live else None
    judgement = judge_event(
        load_event(SAMPLE), operators_settings(), recorded=Audit({ROLE_ARN: [past]}), live_clients=clients
    )
    return [f for f in judgement.findings if f.rule_id == "remediation-reversed"]


def _reversal_findings(past: PastRemediation) -> list[str]:
    return [f.plan[0].action for f in _judged(past)]


@pytest.mark.parametrize(
    "past",
    [_quarantine("remediated", INLINE), _quarantine("failed", INLINE), _quarantine("failed", BOUNDARY)],
    ids=["remediated", "failed after the inline deny-all", "failed after the deny-all boundary"],
)
def test_a_quarantine_whose_done_shows_a_deny_all_is_put_back(past: PastRemediation) -> None:
    assert _reversal_findings(past) == ["quarantine_role"]


def test_a_role_re_created_under_the_quarantined_name_is_another_principal() -> None:
    """Deleted and re-created (another RoleId): its quarantine policy deleted reverses nothing, nothing is done."""
    assert _judged(_quarantine("remediated", INLINE), "AROAEXAMPLERECREATED0") == []


def test_a_quarantined_role_gone_is_no_reversal() -> None:
    assert _judged(_quarantine("remediated", INLINE), None) == []


@pytest.mark.parametrize(
    ("past", "live"),
    [(_quarantine("remediated", INLINE, role_id=None), True), (_quarantine("remediated", INLINE), False)],
    ids=["record without a RoleId", "live role unreadable (offline)"],
)
def test_a_role_quarantine_that_cannot_say_whose_it_was_is_alerted_not_acted_on(
    past: PastRemediation, live: bool
) -> None:
    [finding] = _judged(past, live=live)
    assert finding.plan == ()
    assert finding.severity.value == "medium"
    assert finding.needs_context


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
