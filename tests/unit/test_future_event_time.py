"""The engine rejects an event dated after its clock (audit s7 gap 13); offline (no clock given) it checks no times."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from iamwarden.alerts.message import build_message
from iamwarden.alerts.notifications import Notification
from iamwarden.domain.findings import Outcome, Verdict
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event

SAMPLE = "create-user-backdoor-cli.json"
EVENT_TIME = datetime(2026, 11, 21, 9, 14, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "verdict"),
    [
        (None, Verdict.VIOLATION),  # offline: not checked
        (EVENT_TIME, Verdict.VIOLATION),
        (EVENT_TIME - timedelta(minutes=5), Verdict.VIOLATION),  # at the edge of the skew
        (EVENT_TIME - timedelta(minutes=5, seconds=1), Verdict.INVALID),
        (EVENT_TIME - timedelta(days=400), Verdict.INVALID),
    ],
)
def test_an_event_more_than_five_minutes_ahead_of_the_clock_is_rejected(now: datetime | None, verdict: Verdict) -> None:
    judgement = judge_event(load_event(SAMPLE), Settings(), now=now)

    assert judgement.verdict is verdict
    assert judgement.rejected is (verdict is Verdict.INVALID)
    if verdict is Verdict.INVALID:
        assert judgement.findings == ()
        assert judgement.observed == ()
        assert judgement.reason.startswith("rejected: its eventTime 2026-11-21T09:14:07Z is after the enforcer's clock")
        assert "cannot come from the future" in judgement.reason


@pytest.mark.parametrize(("event_time", "envelope_time"), [("soon", None), ("zzzz", None), ("", ""), ("", None)])
def test_an_event_whose_time_does_not_read_is_rejected_live(event_time: str, envelope_time: str | None) -> None:
    """No CloudTrail record lacks a time: such an event comes from a direct invocation. Judged, it would be kept as
    the known-good state and hand its text to every step reading the change's time (review of mends-s11: a
    tampering restore's ``since`` of ``"zzzz"`` made a malformed revoke policy)."""
    event = copy.deepcopy(load_event(SAMPLE))
    event["detail"]["eventTime"] = event_time
    if envelope_time is None:
        event.pop("time", None)
    else:
        event["time"] = envelope_time

    judgement = judge_event(event, Settings(), now=EVENT_TIME)

    assert judgement.verdict is Verdict.INVALID
    assert judgement.rejected
    assert judgement.findings == ()
    assert judgement.observed == ()
    assert judgement.change is not None
    assert judgement.change.time == event_time
    assert judgement.reason.startswith(f"rejected: its eventTime {event_time!r} does not read as a time")
    assert "cannot come from the future" not in judgement.reason
    message = build_message(Notification(Outcome.REJECTED, change=judgement.change, error=judgement.reason))
    assert message.title == f"Event rejected: CreateUser is dated {event_time!r}, which is no time"


def test_an_empty_record_time_reads_the_envelope_s_as_the_parser_does() -> None:
    event = copy.deepcopy(load_event(SAMPLE))
    event["detail"]["eventTime"] = ""
    event["time"] = "2026-11-21T09:14:07Z"

    assert judge_event(event, Settings(), now=EVENT_TIME).verdict is Verdict.VIOLATION


def test_offline_an_unreadable_time_is_not_checked() -> None:
    event = copy.deepcopy(load_event(SAMPLE))
    event["detail"]["eventTime"] = "zzzz"

    assert judge_event(event, Settings(), now=None).verdict is Verdict.VIOLATION


def test_the_rejection_alert_says_the_event_is_dated_in_the_future() -> None:
    judgement = judge_event(load_event(SAMPLE), Settings(), now=EVENT_TIME - timedelta(days=1))
    assert judgement.change is not None
    message = build_message(Notification(Outcome.REJECTED, change=judgement.change, error=judgement.reason))
    assert message.title == "Event rejected: CreateUser is dated 2026-11-21T09:14:07Z, in the future"
    assert "Who invoked the enforcer directly" in str(message.sections)
