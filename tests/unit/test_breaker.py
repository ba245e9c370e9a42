"""The circuit breaker's decision and its settings, without AWS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from iamwarden.domain.breaker import BreakerSettings, LedgerEntry, count_in_window, decide
from iamwarden.domain.exceptions import SettingsProblem
from iamwarden.domain.settings import matches_everything, parse_settings

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
TEN = BreakerSettings(max_remediations=10, window_minutes=15)


def entries(*minutes_ago: int) -> list[LedgerEntry]:
    return [LedgerEntry(NOW - timedelta(minutes=ago), f"rem-{index}") for index, ago in enumerate(minutes_ago)]


def test_only_remediations_within_the_window_count() -> None:
    assert count_in_window(entries(0, 5, 14, 15, 16, 60), now=NOW, settings=TEN, since=None) == 4


def test_only_remediations_after_the_switch_was_turned_on_count() -> None:
    since = NOW - timedelta(minutes=3)
    assert count_in_window(entries(0, 2, 4, 10), now=NOW, settings=TEN, since=since) == 2


def test_a_retried_remediation_counts_once() -> None:
    same = [LedgerEntry(NOW, "rem-a"), LedgerEntry(NOW - timedelta(minutes=1), "rem-a"), LedgerEntry(NOW, "rem-b")]
    assert count_in_window(same, now=NOW, settings=TEN, since=None) == 2


def test_ten_are_allowed_and_the_eleventh_trips_per_account_before_total() -> None:
    assert decide(switch_value="on", counts={"111122223333": 10, "total": 10}, settings=TEN).allowed
    decision = decide(switch_value="on", counts={"total": 11, "111122223333": 11}, settings=TEN)
    assert not decision.allowed
    assert decision.tripped
    assert decision.scope == "111122223333"
    assert decision.reason == (
        "the circuit breaker tripped: 11 remediations in account 111122223333 within 15 minutes, "
        "more than the 10 allowed"
    )
    total = decide(switch_value="on", counts={"111122223333": 4, "444455556666": 4, "total": 11}, settings=TEN)
    assert (total.tripped, total.scope) == (True, "total")
    assert "in total" in total.reason


@pytest.mark.parametrize("value", ["off", "OFF", " off ", "maybe", ""])
def test_a_switch_that_is_not_on_holds_everything(value: str) -> None:
    decision = decide(switch_value=value, counts={"total": 0}, settings=TEN)
    assert not decision.allowed
    assert not decision.tripped
    assert "switched off" in decision.reason


def test_a_missing_switch_is_on() -> None:
    assert decide(switch_value=None, counts={"total": 1}, settings=TEN).allowed


@pytest.mark.parametrize("text", ["", "not-a-time|rem-1", "2026-12-04T12:00:00|rem-1", "2026-12-04T12:00:00+00:00|"])
def test_a_ledger_entry_that_does_not_parse_is_dropped(text: str) -> None:
    assert LedgerEntry.decode(text) is None


def test_a_ledger_entry_round_trips() -> None:
    entry = LedgerEntry(NOW, "rem-abc")
    assert LedgerEntry.decode(entry.encode()) == entry


def test_breaker_settings_are_read_and_bounded() -> None:
    settings, problems = parse_settings({"breaker": {"max_remediations": "25", "window_minutes": 5}})
    assert problems == []
    assert settings.breaker == BreakerSettings(25, 5)
    _, problems = parse_settings({"breaker": {"max_remediations": "0", "window_minutes": "soon", "other": 1}})
    assert {problem.key for problem in problems} == {
        "breaker/max_remediations",
        "breaker/window_minutes",
        "breaker/other",
    }
    settings, _ = parse_settings({"breaker": {"max_remediations": True}})
    assert settings.breaker == BreakerSettings()


def test_the_kill_switch_setting_is_on_or_off_and_unreadable_means_off() -> None:
    assert parse_settings({})[0].enforcement is True
    assert parse_settings({"enforcement": "off"})[0].enforcement is False
    assert parse_settings({"enforcement": False})[0].enforcement is False  # YAML's unquoted off
    settings, problems = parse_settings({"enforcement": "paused"})
    assert settings.enforcement is False
    assert problems == [
        SettingsProblem("enforcement", "must be on or off, got 'paused'; enforcement is off until it is fixed")
    ]


@pytest.mark.parametrize(
    ("pattern", "everything"),
    [
        ("*", True),
        ("**", True),
        ("/", True),
        ("/*", True),
        ("arn:aws:iam::*:role/*", True),
        ("arn:aws:iam::111122223333:role/*", True),
        ("arn:*", True),
        ("arn:aws:s3:::*", True),
        ("service-role/*", True),
        ("iamwarden-*", False),
        ("arn:aws:iam::*:role/BreakGlassAdmin", False),
        ("arn:aws:iam::111122223333:role/ci-*", False),
        ("/service-accounts/", False),
        ("AWSLambdaBasicExecutionRole", False),
        ("???", False),
        # Every session of one role names that role (audit s7 gap 15); every session of every role does not.
        ("arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_SecurityOps_0a1b2c3d4e5f6a7b/*", False),
        ("arn:aws:sts::*:assumed-role/BreakGlassAdmin/*", False),
        ("arn:aws:sts::111122223333:assumed-role/*/*", True),
        ("arn:aws:sts::111122223333:assumed-role/*", True),
        # A session name is the caller's choice: every role's session "alice" is anyone who says so.
        ("arn:aws:sts::111122223333:assumed-role/*/alice", True),
    ],
)
def test_what_matches_everything(pattern: str, everything: bool) -> None:
    assert matches_everything(pattern) is everything


def test_settings_that_would_switch_the_guard_off_are_refused() -> None:
    settings, problems = parse_settings(
        {
            "break_glass_principals": ["arn:aws:iam::*:role/*"],
            "rules": {
                "managed-policy-attached": {"mode": "remediate", "allow_actors": ["*"]},
                "iam-user-created": {"mode": "remediate", "allow_paths": ["/"]},
                "s3-bucket-policy-public": {"mode": "remediate", "allow_resources": ["arn:aws:s3:::acme-*"]},
            },
        }
    )
    keys = {problem.key: problem.message for problem in problems}
    assert set(keys) == {
        "break_glass_principals",
        "rules/managed-policy-attached/allow_actors",
        "rules/iam-user-created/allow_paths",
    }
    assert "nothing would ever be remediated" in keys["break_glass_principals"]
    assert "switch the rule off" in keys["rules/managed-policy-attached/allow_actors"]
    # Each falls back: the defaults for the globals, alert mode for the rules; the rest stays as given.
    assert settings.break_glass_principals == ()
    assert settings.rule("managed-policy-attached").mode.value == "alert"
    assert settings.rule("iam-user-created").mode.value == "alert"
    assert settings.rule("s3-bucket-policy-public").mode.value == "remediate"
