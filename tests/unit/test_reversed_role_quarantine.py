"""remediation-reversed on a role quarantine that failed part-way: it counts only for what its ``done`` shows.

A failed record's ``done`` says what it did (review s11 R7/R10): a deny-all that went on the role is a quarantine in
force, and deleting it is a reversal; a failed quarantine that put nothing on the role is none.

Issue 15: only a quarantine of this very role counts (the RoleId its record captured is the live role's); a role
deleted and re-created under the name is another principal (no reversal), and a record without a RoleId, or a role
that cannot be read, is a medium alert with nothing done.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

import pytest

from iamwarden.domain.recorded import PastRemediation
from iamwarden.guardrails.base import Evaluation
from iamwarden.guardrails.engine import judge_event
from iamwarden.guardrails.remediation_reversed import _role_not_judged
from iamwarden.guardrails.tampering import existed_when_recorded, of_this_role
from tests.conftest import SAMPLE_HOME_ACCOUNT, SAMPLE_OWN, load_event
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

    def __init__(self, role_id: str | None, created: datetime | None = None) -> None:
        self.role_id = role_id
        self.created = created

    def get_role(self, RoleName: str) -> dict[str, Any]:
        if self.role_id is None:
            raise _Gone()
        role = {"RoleName": RoleName, "RoleId": self.role_id, "Arn": ROLE_ARN}
        return {"Role": role if self.created is None else {**role, "CreateDate": self.created}}


class _Gone(Exception):
    response: dict[str, Any] = {"Error": {"Code": "NoSuchEntity"}}  # noqa: RUF012


def _judged(
    past: PastRemediation, live_id: str | None = ROLE_ID, *, live: bool = True, created: datetime | None = None
) -> list[Any]:
    clients = (lambda account, region: SimpleNamespace(iam=_Iam(live_id, created))) if live else None
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
    # The whole finding, pinned (review s13 D5 folded the role and user shapes into one helper).
    assert finding.needs_context == (
        f"whether role {ROLE} (RoleId {ROLE_ID if live else 'unknown'}) is the role IAM Warden quarantined in rem-9",
    )
    assert finding.offending == ({"remediation_id": "rem-9"},)
    assert finding.reason.endswith(
        "IAM Warden quarantined a role of that name in rem-9, but cannot tell whether it is this role (the record "
        "captured no RoleId, and the role's creation time cannot place it, or the role was not read live): nothing "
        "is done."
    )


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


# --- records made before RoleIds were captured: the live role's CreateDate places them (review s13 F3) -------------
# The record is of 2026-11-20T09:41:00Z. boto3 gives GetRole's CreateDate as an aware datetime.


def test_a_legacy_record_and_a_live_role_created_before_it_is_the_role_quarantined() -> None:
    """Names are unique at any instant: a role that existed when the quarantine was recorded is the one quarantined,
    so lifting its quarantine is a critical reversal, quarantined again (before: a medium alert, nothing done)."""
    [finding] = _judged(
        _quarantine("remediated", INLINE, role_id=None),
        "AROAANYLIVEROLEID0001",
        created=datetime(2026, 11, 1, tzinfo=UTC),
    )
    assert [step.action for step in finding.plan] == ["quarantine_role"]
    assert finding.severity.value == "critical"


def test_a_legacy_record_and_a_live_role_created_after_it_is_another_principal() -> None:
    created = datetime(2026, 11, 25, tzinfo=UTC)
    assert _judged(_quarantine("remediated", INLINE, role_id=None), "AROAANYLIVEROLEID0001", created=created) == []


def test_a_legacy_record_and_a_role_created_within_its_second_is_alerted_not_acted_on() -> None:
    """CreateDate has whole seconds: a role created in the record's own second cannot be placed before or after."""
    created = datetime(2026, 11, 20, 9, 40, 59, 500000, tzinfo=UTC)
    [finding] = _judged(_quarantine("remediated", INLINE, role_id=None), "AROAANYLIVEROLEID0001", created=created)
    assert finding.plan == ()
    assert finding.needs_context


def test_a_quarantined_role_gone_is_said_to_be_gone_not_re_created() -> None:
    """Review s13 F4: no role of the name exists: nothing was re-created, nothing is left to free."""
    context = SimpleNamespace(
        live_clients=lambda account, region: SimpleNamespace(iam=_Iam(None)),
        change=SimpleNamespace(account="111122223333", region="us-east-1"),
    )
    found = of_this_role(cast(Any, context), ROLE, [_quarantine("remediated", INLINE)])
    assert found.gone
    evaluation = _role_not_judged(cast(Any, context), Evaluation(), ROLE_ARN, ROLE, found=found, did="deleted it")
    assert evaluation.findings == []
    assert evaluation.compliant == [f"role {ROLE} no longer exists: no quarantine of it is left to free"]


# --- a stale record of another role never silences tampering on IAM Warden's own role (review s13 F1) --------------
# IAM Warden's own role, quarantined once (an impostor under its name, or its trust rewritten), then deleted and
# redeployed by its stack (a new RoleId). The old record stays in force. A write of the quarantine policy's name on
# the new role (a neutering Deny iam:*, lambda:* or its deletion) is IAM Warden's own role changed outside it.

OWN_ARN = f"arn:aws:iam::{SAMPLE_HOME_ACCOUNT}:role/{ROLE}"
_NEUTER = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": ["iam:*", "lambda:*"], "Resource": "*"}]}


def _own_event(event_name: str) -> dict[str, Any]:
    event = load_event(SAMPLE)
    event["account"] = SAMPLE_HOME_ACCOUNT
    event["detail"]["recipientAccountId"] = SAMPLE_HOME_ACCOUNT
    event["detail"]["userIdentity"]["accountId"] = SAMPLE_HOME_ACCOUNT
    event["detail"]["eventName"] = event_name
    if event_name == "PutRolePolicy":
        event["detail"]["requestParameters"]["policyDocument"] = json.dumps(_NEUTER)
    return event


def _own_findings(event_name: str, live_id: str, past: PastRemediation | None = None) -> dict[str, list[str]]:
    """Each rule's findings (rule id: severities) for the write, the record (by default a quarantine in force)
    being of RoleId ``ROLE_ID``."""
    past = past or _quarantine("remediated", INLINE)
    judgement = judge_event(
        _own_event(event_name),
        operators_settings()._replace(own=SAMPLE_OWN),
        recorded=Audit({OWN_ARN: [past]}),
        live_clients=lambda account, region: SimpleNamespace(iam=_Iam(live_id)),
    )
    found: dict[str, list[str]] = {}
    for finding in judgement.findings:
        found.setdefault(finding.rule_id, []).append(finding.severity.value)
    return found


@pytest.mark.parametrize("event_name", ["PutRolePolicy", "DeleteRolePolicy"])
def test_a_stale_quarantine_of_another_role_leaves_the_write_to_the_tampering_rule(event_name: str) -> None:
    """Before: tampering deferred to remediation-reversed (some quarantine of the ARN was in force), which found
    the role another principal: no finding at all."""
    assert _own_findings(event_name, "AROANEWSTACKROLEB000") == {"iamwarden-tampered": ["critical"]}


@pytest.mark.parametrize("event_name", ["PutRolePolicy", "DeleteRolePolicy"])
def test_the_quarantine_of_this_very_role_is_remediation_reversed_s_to_judge(event_name: str) -> None:
    """The control: the record is of the live role (same RoleId): its reversal, quarantined again."""
    assert _own_findings(event_name, ROLE_ID) == {"remediation-reversed": ["critical"]}


@pytest.mark.parametrize("event_name", ["PutRolePolicy", "DeleteRolePolicy"])
def test_a_failed_quarantine_of_this_very_role_that_put_no_deny_all_on_leaves_the_write_to_tampering(
    event_name: str,
) -> None:
    """A failed record with no deny-all line put nothing on the role: no quarantine is in force to reverse, so the
    write to IAM Warden's own role is tampering's (second reading s13 N2: without this filter, main's silence)."""
    failed = _quarantine("failed", f"revoked older sessions of role {ROLE}")
    assert _own_findings(event_name, ROLE_ID, failed) == {"iamwarden-tampered": ["critical"]}


@pytest.mark.parametrize(
    ("created", "recorded_at", "placed"),
    [
        (datetime(2026, 11, 20, 9, 0, tzinfo=UTC), "2026-11-20T09:41:00Z", True),
        (datetime(2026, 11, 20, 10, 0, tzinfo=UTC), "2026-11-20T09:41:00Z", False),
        (datetime(2026, 11, 20, 9, 41, tzinfo=UTC), "2026-11-20T09:41:00.500+00:00", None),  # within the second
        (None, "2026-11-20T09:41:00Z", None),  # no CreateDate
        ("2026-11-20T09:00:00Z", "not a time", None),  # an unreadable record time
    ],
)
def test_a_record_without_an_id_is_placed_by_the_principal_s_creation(
    created: object, recorded_at: str, placed: bool | None
) -> None:
    """Issue 15: the one rule for records without an id (names are unique at any instant): created after the record,
    another principal; within the second, unknown; before it, a role's record is placed (a user's stays unknown: users
    can be renamed into a name, review s14 F1)."""
    assert existed_when_recorded(created, recorded_at) is placed
