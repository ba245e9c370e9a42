"""An event dated after the enforcer's clock is rejected (audit s7 gap 13): a direct invocation of the enforcer can
carry any payload, and a forged record dated 2099 would otherwise be the newest "observed" state for good."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from iamwarden.app.service import EnforcerService
from iamwarden.domain.findings import Outcome
from iamwarden.domain.recorded import POLICY_DEFAULT
from tests.functional.conftest import Account, RecordingNotifier
from tests.functional.test_recorded_defaults import (
    ESCALATION,
    SAFE,
    _default,
    _deploy_policy,
    _snapshot,
    _stage,
    _version_event,
)

NOW = datetime(2026, 12, 5, 4, 30, tzinfo=UTC)


def test_a_forged_future_event_is_rejected_and_the_staged_escalation_is_still_remediated(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """The probe of gap 13 (F1), with its expected outcome: the forged record is never kept."""
    enforcer.clock = lambda: NOW
    arn = _deploy_policy(account)
    forged = _version_event(arn, "v9", default=False, at="2099-01-01T00:00:00Z", document=SAFE)
    forged["detail"]["eventID"] = "00000000-0000-4000-8000-0000000f0e93"

    result = enforcer.handle(forged)

    assert result["verdict"] == "invalid"
    assert "rejected: its eventTime 2099-01-01T00:00:00Z is after the enforcer's clock" in result["reason"]
    assert result["findings"] == []
    assert _snapshot(account, POLICY_DEFAULT, arn) is None  # nothing kept
    [alert] = notifier.sent
    assert (alert.outcome, alert.finding) == (Outcome.REJECTED, None)
    assert "cannot come from the future" in (alert.error or "")

    # The real sequence of s6 gap 6 afterwards: staged at 04:00, made the default at 04:05, put back to v1.
    _stage(account, enforcer, arn)
    account.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(ESCALATION), SetAsDefault=True)
    result = enforcer.handle(_version_event(arn, "v3", default=True, at="2026-12-05T04:05:00Z"))
    assert [(f["rule"], f["outcome"]) for f in result["findings"]] == [("privilege-escalation", Outcome.REMEDIATED)]
    assert _default(account, arn) == "v1"


def test_an_event_within_the_clock_skew_is_judged_and_kept_no_later_than_now(
    account: Account, enforcer: EnforcerService
) -> None:
    arn = _deploy_policy(account)
    enforcer.clock = lambda: NOW
    ahead = _version_event(arn, "v2", default=False, at="2026-12-05T04:34:00Z", document=SAFE)  # 4 minutes ahead
    account.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(SAFE), SetAsDefault=False)

    result = enforcer.handle(ahead)

    assert result["verdict"] == "compliant", result["reason"]
    kept = _snapshot(account, POLICY_DEFAULT, arn)
    assert kept is not None
    assert kept.taken_at == NOW.isoformat(timespec="milliseconds")  # clamped to the enforcer's clock


def test_six_minutes_ahead_is_rejected(account: Account, enforcer: EnforcerService) -> None:
    arn = _deploy_policy(account)
    enforcer.clock = lambda: NOW - timedelta(minutes=6)
    result = enforcer.handle(_version_event(arn, "v2", default=False, at="2026-12-05T04:30:00Z", document=SAFE))
    assert result["verdict"] == "invalid"
    assert "more than the 5 minutes of clock skew" in result["reason"]


@pytest.mark.parametrize("at", ["zzzz", ""])
def test_an_event_whose_time_does_not_read_is_rejected_and_nothing_kept(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, at: str
) -> None:
    """The gap 13 probe with an unreadable time (mends-s11): kept as "zzzz" its state would sort after every real
    ``taken_at`` in the audit table and be the newest observed state for good; kept as of now it would still be a
    forged known-good state. No CloudTrail record lacks a time, so it is refused as a time to come is."""
    arn = _deploy_policy(account)
    enforcer.clock = lambda: NOW
    forged = _version_event(arn, "v2", default=False, at=at, document=SAFE)
    forged.pop("time", None)  # no envelope time to fall back on either
    account.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(SAFE), SetAsDefault=False)

    result = enforcer.handle(forged)

    assert result["verdict"] == "invalid", result["reason"]
    assert "does not read as a time" in result["reason"]
    assert _snapshot(account, POLICY_DEFAULT, arn) is None  # nothing kept
    [alert] = notifier.sent
    assert (alert.outcome, alert.finding) == (Outcome.REJECTED, None)
