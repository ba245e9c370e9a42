"""One reading of an event's time (``domain.events.event_instant``), shared by the enforcer's checks, the snapshots'
order and the live directory's cache horizon, so none reads a time another does not.

CloudTrail writes ``eventTime`` as ISO 8601 UTC with ``Z`` and whole seconds ("2026-11-21T09:14:07Z", the CloudTrail
record contents reference; every sample in ``events/``); EventBridge's envelope ``time`` is the same instant.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iamwarden.adapters.principals import LiveRoleDirectory
from iamwarden.domain.events import event_instant, event_time, instant, parse_event
from iamwarden.domain.exceptions import InvalidEventError
from iamwarden.domain.recorded import Snapshot, no_later_than, observed_at
from tests.unit.test_events import make_event

AT = datetime(2026, 11, 21, 9, 14, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-21T09:14:07Z", AT),
        ("2026-11-21T09:14:07+00:00", AT),
        ("2026-11-21T09:14:07", AT),  # no zone: UTC, never the machine's local time
        ("2026-11-21T09:14:07.250Z", AT + timedelta(milliseconds=250)),
        ("2026-11-21T09:14:07.123456+00:00", AT + timedelta(microseconds=123456)),
        ("2026-11-21T10:14:07+01:00", AT),
        ("2026-11-21T09:14:07.000+0000", AT),  # Lambda's LastModified spelling
        ("1795252447", AT),  # epoch seconds, as a condition's date may be written
    ],
)
def test_instant_reads_each_spelling_of_one_moment(text: str, expected: datetime) -> None:
    found = instant(text)
    assert found == expected
    assert found is not None
    assert found.tzinfo is not None


@pytest.mark.parametrize("value", ["", "yesterday", "2026-13-01T00:00:00Z", "2026-11-21T25:00:00Z", "9" * 40, None, 0])
def test_instant_of_what_is_not_a_time_is_none(value: Any) -> None:
    assert instant(value) is None


def _envelope(event_time: Any = ..., envelope_time: Any = ...) -> dict[str, Any]:
    event = make_event(eventTime=event_time)
    if envelope_time is ...:
        del event["time"]
    else:
        event["time"] = envelope_time
    return event


@pytest.mark.parametrize(
    ("event_time_", "envelope_time", "expected"),
    [
        ("2026-11-21T09:14:07Z", "2026-11-21T09:15:00Z", AT),  # the record's own time first
        (..., "2026-11-21T09:14:07Z", AT),  # no eventTime: the envelope's
        ("", "2026-11-21T09:14:07Z", AT),  # an empty eventTime says nothing
        ("2026-11-21T09:14:07", ..., AT),  # naive: UTC
        (..., ..., None),  # missing
        ("not a time", "2026-11-21T09:14:07Z", None),  # a malformed eventTime is not replaced by another time
    ],
)
def test_event_instant_of_a_raw_event(event_time_: Any, envelope_time: Any, expected: datetime | None) -> None:
    assert event_instant(_envelope(event_time_, envelope_time)) == expected


def test_event_instant_of_a_raw_event_without_a_record() -> None:
    assert event_instant({"time": "2026-11-21T09:14:07Z", "detail": "x"}) == AT
    assert event_instant({}) is None


def test_event_instant_of_a_parsed_event_is_its_raw_reading() -> None:
    raw = make_event(eventTime="2026-11-21T09:14:07.5Z")
    assert event_instant(parse_event(raw)) == event_instant(raw) == AT + timedelta(milliseconds=500)


_TIMES = st.one_of(
    st.just(...),
    st.none(),
    st.sampled_from(["", "2026-11-21T09:14:07Z", "2026-11-21T09:14:07", "garbage"]),
    st.integers(0, 2),
    st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(_TIMES, _TIMES)
def test_parse_event_keeps_the_time_event_time_reads(event_time_: Any, envelope_time: Any) -> None:
    """``parse_event`` and the tolerant reader pick the same field; a time of the wrong type is refused by the
    parser and passed over by the reader (which reads events not yet judged)."""
    raw = _envelope(event_time_, envelope_time)
    readable = (str, type(None), type(...))
    if (not isinstance(event_time_, str) or not event_time_) and (
        not isinstance(event_time_, readable) or not isinstance(envelope_time, readable)
    ):
        with pytest.raises(InvalidEventError, match=r"(?i)\btime|eventTime"):
            parse_event(raw)
        return
    change = parse_event(raw)
    assert change.time == event_time(raw)
    assert event_instant(change) == event_instant(raw)


def test_a_snapshot_and_an_event_read_a_naive_time_the_same_way() -> None:
    snapshot = Snapshot("kind", "arn", "2026-11-21T09:14:06", {})
    assert snapshot.taken_before("2026-11-21T09:14:07Z")
    assert not snapshot.taken_before("2026-11-21T09:14:06Z")
    assert observed_at("2026-11-21T09:14:07") == "2026-11-21T09:14:07.000+00:00"


# --- the live directory's cache horizon -------------------------------------------------------------------


@pytest.fixture
def far_from_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's local time five hours behind UTC (a POSIX zone: no time zone database needed)."""
    monkeypatch.setenv("TZ", "EST5")
    time.tzset()
    assert datetime(2026, 11, 21, 9, 14, 7).astimezone(UTC) != AT  # the zone took effect
    yield
    monkeypatch.undo()
    time.tzset()


def _directory(now: datetime) -> LiveRoleDirectory:
    origin = 1_000_000.0  # the cache's clock has another origin than the wall clock, as time.monotonic has
    return LiveRoleDirectory(object(), clock=lambda: origin, wall=now.timestamp)  # type: ignore[arg-type]


@pytest.mark.usefixtures("far_from_utc")
@pytest.mark.parametrize("spelling", ["2026-11-21T09:14:07", "2026-11-21T09:14:07Z", "2026-11-21T04:14:07-05:00"])
def test_the_cache_horizon_reads_a_naive_event_time_as_utc(spelling: str) -> None:
    """An event 10 s old: an answer read 5 s ago is younger than it, so still used; one read 15 s ago is not. Read
    as local time (five hours later), the naive time would put the horizon at now and refuse the younger one."""
    directory = _directory(AT + timedelta(seconds=10))
    directory.observe(make_event(eventTime=spelling))
    now = 1_000_000.0
    assert directory._fresh(now - 5)
    assert not directory._fresh(now - 15)


def test_the_cache_horizon_of_an_event_without_a_readable_time_is_now() -> None:
    directory = _directory(AT)
    directory.observe(make_event(eventTime="garbage"))
    assert not directory._fresh(1_000_000.0 - 0.001)
    assert directory._fresh(1_000_000.0)


def test_the_cache_horizon_is_never_after_now() -> None:
    """An event dated ahead of the wall clock (skew) puts the horizon at now, never later."""
    directory = _directory(AT)
    directory.observe(make_event(eventTime=(AT + timedelta(minutes=3)).isoformat()))
    assert directory._fresh(1_000_000.0)


@pytest.mark.parametrize("taken_at", ["zzzz", "", "2026-11-21T09:14:08Z"])
def test_a_snapshot_dated_unreadably_or_ahead_is_kept_as_of_now(taken_at: str) -> None:
    """Unreadable ("zzzz" > "2026-…" as text) or later than ``now``: dated ``now``, never after the next real one."""
    kept = no_later_than(Snapshot("kind", "arn", taken_at, {}), AT)
    assert kept.taken_at == "2026-11-21T09:14:07.000+00:00"


def test_a_snapshot_dated_before_now_keeps_its_date() -> None:
    assert no_later_than(Snapshot("kind", "arn", "2026-11-21T09:14:06", {}), AT).taken_at == "2026-11-21T09:14:06"
