"""A retried quarantine whose deny-all is lifted between attempts is told once, critical (issue 15).

``iam-user-created`` sends its failure alert once per remediation (the first attempt's, at the rule's severity while
a deny-all held); it does not page again when a later attempt finds the quarantine no longer holding. The lift itself
is ``remediation-reversed``'s: the ``DeleteUserPolicy`` / ``DeleteUserPermissionsBoundary`` of the quarantine's
deny-all is a critical finding that quarantines the user again, recorded as its own remediation. These tests pin
that: one critical alert, from ``remediation-reversed``, with the re-quarantine in the audit table, and no second
page from the retried ``iam-user-created``.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from iamwarden.adapters.audit import AuditStatus
from iamwarden.app.service import EnforcementFailedError, EnforcerService
from iamwarden.domain.catalog import Severity
from iamwarden.domain.findings import Outcome
from iamwarden.domain.quarantine import QUARANTINE_POLICY_NAME
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier
from tests.functional.test_persistence import _event

USER = "backdoor-admin"


def _throttled_once(account: Account) -> None:
    """The first ``UpdateAccessKey`` refused ``Throttling`` (a passing refusal: the event is retried); later ones go
    through."""
    calls: list[bool] = []

    def refuse(**_: Any) -> None:
        calls.append(True)
        if len(calls) == 1:
            raise ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "UpdateAccessKey")

    account.session.events.register_first("before-call.iam.UpdateAccessKey", refuse)


def _refuse_boundaries(**_: Any) -> None:
    raise ClientError({"Error": {"Code": "AccessDenied", "Message": "explicit deny in an SCP"}}, "PutUserBoundary")


def _lift(account: Account, enforcer: EnforcerService, both: bool) -> list[dict[str, Any]]:
    """Someone lifts the quarantine's deny-all (with ``both``, the inline policy and the boundary, two calls); the
    events judged, in order: the findings."""
    account.iam.delete_user_policy(UserName=USER, PolicyName=QUARANTINE_POLICY_NAME)
    events = [("delete-quarantine-policy.json", "00000000-0000-4000-8000-00000015a001")]
    if both:
        account.iam.delete_user_permissions_boundary(UserName=USER)
        events.append(("delete-user-permissions-boundary.json", "00000000-0000-4000-8000-00000015a002"))
    findings: list[dict[str, Any]] = []
    for sample, event_id in events:
        findings += enforcer.handle(_event(sample, event_id, userName=USER))["findings"]
    return findings


@pytest.mark.parametrize("both", [False, True], ids=["one-deny-all-held", "both-lifted-by-two-calls"])
def test_a_retried_quarantine_lifted_between_attempts_is_told_critical_by_remediation_reversed_only(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, both: bool
) -> None:
    """Attempt 1 puts the deny-all on (``one-deny-all-held``: only the inline policy, the boundary refused by an
    SCP) and a key write is throttled, so the event is retried; before the retry someone lifts the deny-all. The
    lift is told by ``remediation-reversed``, critical, once per call that lifted a deny-all, and the user is
    quarantined again under its own record; the retried ``iam-user-created`` ends remediated and pages nothing
    critical and no second failure."""
    account.set("rules/iam-user-created/mode", "remediate")
    account.set("rules/remediation-reversed/mode", "remediate")
    account.iam.create_user(UserName=USER)
    key = account.iam.create_access_key(UserName=USER)["AccessKey"]["AccessKeyId"]
    _throttled_once(account)
    if not both:
        account.session.events.register_first("before-call.iam.PutUserPermissionsBoundary", _refuse_boundaries)
    with pytest.raises(EnforcementFailedError):  # attempt 1: a deny-all on, the key write throttled: retried
        enforcer.handle(load_event("create-user-backdoor-cli.json"))
    [failed] = [n for n in notifier.sent if n.outcome is Outcome.REMEDIATION_FAILED]
    assert failed.finding is not None
    assert failed.finding.severity is Severity.HIGH  # the deny-all held: the rule's own severity

    lifted = len(notifier.sent)
    reversals = [f for f in _lift(account, enforcer, both) if f["rule"] == "remediation-reversed"]

    assert [f["outcome"] for f in reversals] == [Outcome.REMEDIATED] * (2 if both else 1)
    told = [(n.finding.rule_id, n.finding.severity) for n in notifier.sent[lifted:] if n.finding is not None]
    assert told == [("remediation-reversed", Severity.CRITICAL)] * len(reversals)
    record = account.audit().get(str(reversals[0]["remediation_id"]))
    assert record is not None  # the re-quarantine is recorded as its own remediation
    assert record.remediation_id != failed.remediation_id
    assert record.rule == "remediation-reversed"
    assert record.status == AuditStatus.REMEDIATED
    assert QUARANTINE_POLICY_NAME in account.iam.list_user_policies(UserName=USER)["PolicyNames"]
    sent = len(notifier.sent)

    retry = enforcer.handle(load_event("create-user-backdoor-cli.json"))  # attempt 2 of the first remediation

    assert [f["outcome"] for f in retry["findings"] if f["rule"] == "iam-user-created"] == [Outcome.REMEDIATED]
    again = notifier.sent[sent:]
    assert not [n for n in again if n.outcome is Outcome.REMEDIATION_FAILED]  # no second failure page
    assert [n.finding.severity for n in again if n.finding is not None] == [Severity.HIGH]  # the rule's own
    critical = [n for n in notifier.sent if n.finding is not None and n.finding.severity is Severity.CRITICAL]
    assert [n.finding.rule_id for n in critical if n.finding is not None] == ["remediation-reversed"] * len(reversals)
    keys = {k["AccessKeyId"]: k["Status"] for k in account.iam.list_access_keys(UserName=USER)["AccessKeyMetadata"]}
    assert keys == {key: "Inactive"}
