"""A replayed or stale event is judged and alerted, never remediated (review s8 section 10, ``domain.replays``).

An intruder who archives the central bus and replays old violating events would have IAM Warden apply again the
remediations operators undid. EventBridge marks a replayed event with ``replay-name`` in its envelope.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from iamwarden.app.service import EnforcerService
from iamwarden.domain.replays import DEFAULT_MAX_EVENT_AGE, held_back
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier
from tests.functional.test_tampering import BUS_STATEMENT, _alerts, _bus_statements, _central_bus, _finding

NOW = datetime(2026, 11, 13, 9, 30, tzinfo=UTC)  # eight minutes after the sample's eventTime


def _bus_statement_removed(account: Account, enforcer: EnforcerService) -> tuple[Any, dict[str, Any]]:
    events = _central_bus(account, enforcer)
    events.remove_permission(EventBusName="iamwarden-central", StatementId=BUS_STATEMENT)
    return events, copy.deepcopy(load_event("tamper-remove-bus-permission.json"))


def test_a_replayed_event_is_alerted_saying_so_and_nothing_is_put_back(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    events, event = _bus_statement_removed(account, enforcer)
    event["replay-name"] = "weeks-later"

    finding = _finding(enforcer.handle(event))

    assert finding["outcome"] != "remediated"
    assert _bus_statements(events) == []
    [alert] = _alerts(notifier)
    assert any("replayed from an EventBridge archive (replay 'weeks-later')" in n for n in alert.finding.needs_context)


def test_an_event_older_than_any_live_delivery_is_alerted_and_a_fresh_one_remediated(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    events, event = _bus_statement_removed(account, enforcer)
    enforcer.max_event_age = DEFAULT_MAX_EVENT_AGE
    enforcer.clock = lambda: NOW + timedelta(days=20)

    finding = _finding(enforcer.handle(event))

    assert finding["outcome"] != "remediated"
    assert _bus_statements(events) == []
    [alert] = _alerts(notifier)
    assert any("older than any live delivery (90000 s" in n for n in alert.finding.needs_context)

    enforcer.clock = lambda: NOW
    fresh = copy.deepcopy(event)
    fresh["detail"]["eventID"] = "a1b2c3d4-0000-4000-8000-fresh0000001"
    assert _finding(enforcer.handle(fresh))["outcome"] == "remediated"
    assert len(_bus_statements(events)) == 1


def test_held_back_reads_the_replay_mark_and_the_age_only_when_bounded() -> None:
    event = load_event("tamper-remove-bus-permission.json")
    time = event["detail"]["eventTime"]
    assert held_back(event, time, NOW + timedelta(days=20), None) is None
    assert held_back(event, time, NOW, DEFAULT_MAX_EVENT_AGE) is None
    assert held_back(event, time, NOW - timedelta(minutes=8) + DEFAULT_MAX_EVENT_AGE, DEFAULT_MAX_EVENT_AGE) is None
    assert held_back(event, time, NOW + timedelta(days=2), DEFAULT_MAX_EVENT_AGE) is not None
    assert held_back(event, "not a time", NOW, DEFAULT_MAX_EVENT_AGE) is None
    assert held_back({**event, "replay-name": "r1"}, time, None, None) is not None
