"""Member accounts' Block Public Access turns and budget without AWS (second review of bpamember-s14, R1-R3, guard).

The member pairs come in windows when there are more than ``member_checks_per_run``; each run's accounts are
ordered by when each was last begun (never first), so every account is read within a bounded number of runs
whatever window it is in. The bucket loop's budget is taken after ``ListBuckets`` returns.
"""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace
from typing import Any

import pytest

from iamwarden.app import heartbeat as hb
from iamwarden.app.member_coverage import MemberCoverage
from iamwarden.app.public_access_seed import CURSOR, DEFERRED_ACCOUNT, MemberPublicAccessBlockSeed

HOME = "999999999999"
REGION = "us-east-1"
ALL = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _Store:
    """The audit table's snapshot reads and writes, in memory."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Any] = {}
        self.writes = 0

    def snapshot(self, kind: str, arn: str) -> Any:
        return self.items.get((kind, arn))

    def put_all(self, snapshots: Any) -> int:
        for snapshot in snapshots:
            self.items[(snapshot.kind, snapshot.resource_arn)] = snapshot
            self.writes += 1
        return 1


def _seed(_: str) -> Any:
    """A seed the faked refresh never reads: what the phase asks of it after the reads."""
    return SimpleNamespace(listed=1, refused=None, report=lambda: {"read": 1})


def _members(
    monkeypatch: pytest.MonkeyPatch, accounts: list[str], clock: _Clock, spend: float
) -> tuple[hb.MemberSnapshots, Counter[str], _Store]:
    """Member snapshots whose every account's Block Public Access reads take ``spend`` seconds."""
    begun: Counter[str] = Counter()

    def refresh(self: Any) -> tuple[int, list[str]]:
        begun[self.account] += 1
        clock.now += spend
        return 0, []

    monkeypatch.setattr(hb.SnapshotRefresh, "refresh_public_access_blocks", refresh)
    store = _Store()
    members = hb.MemberSnapshots(
        store,
        lambda: accounts,
        lambda _: (None, None),
        home_account=HOME,
        region=REGION,
        monotonic=clock,
        public_access_seed=_seed,
    )
    return members, begun, store


def _run(members: hb.MemberSnapshots, taken: list[str], clock: _Clock, pairs_seconds: float) -> None:
    """One run: the pairs loop used ``pairs_seconds`` of its budget, then the Block Public Access phase."""
    started = clock.now
    clock.now += pairs_seconds
    members.public_access_reports = {}
    members.refresh_public_access_blocks(taken, started)


def test_with_windows_every_member_account_is_read_within_a_bounded_number_of_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """20 accounts, windows of 10 (the real ``MemberCoverage.turn``), one account's reads spend what is left: each
    window's run reads the account of that window begun longest ago, so all 20 are read in 20 runs (R1)."""
    accounts = [f"1000000000{n:02d}" for n in range(1, 21)]
    clock = _Clock()
    members, begun, _ = _members(monkeypatch, accounts, clock, 5.0)
    watched = SimpleNamespace(pairs=tuple(SimpleNamespace(account=a, key=f"{a}/{REGION}") for a in accounts))
    cursor = ""
    for _ in range(20):
        pairs = MemberCoverage.turn(None, watched, SimpleNamespace(cursor=cursor), 10)  # type: ignore[arg-type]
        cursor = pairs[-1].key
        _run(members, [p.account for p in pairs], clock, 10.0)

    assert sorted(begun) == accounts, f"never begun: {sorted(set(accounts) - set(begun))}"
    assert set(begun.values()) == {1}


def test_the_account_left_for_later_is_the_first_of_the_next_run_that_takes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    accounts = ["111111111111", "222222222222", "333333333333"]
    clock = _Clock()
    members, begun, _ = _members(monkeypatch, accounts, clock, 5.0)

    _run(members, accounts, clock, 10.0)
    assert members.public_access_reports["222222222222"] == {"deferred_account": DEFERRED_ACCOUNT}
    _run(members, ["333333333333", "222222222222"], clock, 10.0)  # another window: 2 is still before 3
    _run(members, accounts, clock, 10.0)

    assert begun == Counter({"111111111111": 1, "222222222222": 1, "333333333333": 1})


def test_a_run_with_no_time_left_begins_no_account_names_them_all_and_keeps_the_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """R3: the pairs loop spent the whole budget; nothing is begun, the turns saved stay as they were (only the runs
    in a row each was deferred are counted), and the next run starts where the last one left off."""
    accounts = ["111111111111", "222222222222"]
    clock = _Clock()
    members, begun, store = _members(monkeypatch, accounts, clock, 5.0)
    _run(members, accounts, clock, 10.0)  # 111... read, 222... left
    turns = dict(store.items[(CURSOR, hb.MEMBER_CURSOR)].data["begun"])

    _run(members, accounts, clock, 20.0)  # past the 15 s

    assert members.public_access_reports == {a: {"deferred_account": DEFERRED_ACCOUNT} for a in accounts}
    saved = store.items[(CURSOR, hb.MEMBER_CURSOR)].data
    assert saved["begun"] == turns, "no account begun: the turns stay as they were"
    assert saved["deferred"] == {"111111111111": 1, "222222222222": 2}
    _run(members, accounts, clock, 10.0)
    assert begun == Counter({"111111111111": 1, "222222222222": 1})


def test_an_unreadable_turn_record_starts_with_the_first_account_and_still_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    accounts = ["111111111111", "222222222222"]
    clock = _Clock()
    members, begun, store = _members(monkeypatch, accounts, clock, 5.0)

    def refused(*_: Any) -> Any:
        raise RuntimeError("throttled")

    monkeypatch.setattr(store, "snapshot", refused)
    _run(members, accounts, clock, 10.0)

    assert begun == Counter({"111111111111": 1})


def test_a_slow_listing_is_not_counted_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    """R2: the bucket loop's budget is what is left of the run's deadline once ``ListBuckets`` has answered."""
    clock = _Clock()

    class _S3:
        def can_paginate(self, _: str) -> bool:
            return True

        def get_paginator(self, _: str) -> Any:
            def paginate(**__: Any) -> list[dict[str, Any]]:
                clock.now += 4.0  # the listing takes 4 s
                return [{"Buckets": [{"Name": f"b{n:02d}", "BucketRegion": REGION} for n in range(20)]}]

            return SimpleNamespace(paginate=paginate)

        def get_public_access_block(self, **_: Any) -> dict[str, Any]:
            clock.now += 1.0
            return {"PublicAccessBlockConfiguration": dict.fromkeys(ALL, True)}

    seed = MemberPublicAccessBlockSeed(_S3(), None, "444455556666", "aws", monotonic=clock, per_run=lambda: 100)
    seed.deadline = 5.0

    seed.take_buckets()

    assert seed.listed == 20
    assert clock.now <= 5.0 + 1.0, "at most the one read the loop lets start at its budget, as at home"
    assert seed.read == 2


def test_an_unexpected_error_in_the_member_phase_is_a_problem_and_keeps_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    accounts = ["111111111111"]
    clock = _Clock()
    members, _, _ = _members(monkeypatch, accounts, clock, 1.0)

    def broken(*_: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(members, "refresh_public_access_blocks", broken)
    stored, problems = members.guarded_public_access_blocks(["111111111111"], clock.now)

    assert stored == 0
    assert len(problems) == 1
    assert "Block Public Access" in problems[0]
    assert "boom" in problems[0]


# --- an account deferred every run is alerted; the turn record keeps only watched accounts (issue 15) ---------------


def _refreshed(monkeypatch: pytest.MonkeyPatch, members: hb.MemberSnapshots, clock: _Clock, spend: float) -> None:
    """``refresh`` (the accounts of ``accounts``, no coverage) whose snapshots of each account take ``spend`` s."""

    def account_refresh(self: Any, account: str, *_: Any) -> tuple[int, list[str]]:
        self.taken.append(account)
        clock.now += spend
        return 0, []

    monkeypatch.setattr(hb.MemberSnapshots, "_account_refresh", account_refresh)


def test_an_account_deferred_run_after_run_is_a_problem_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: deferred every run, an account was only a WARNING log line and the answer's ``deferred_account``;
    now the ``MEMBER_DEFERRALS_BEFORE_PROBLEM``-th run in a row is a heartbeat problem naming it (and every as many
    runs after), a run that reads it counts it no more, and an account read in time is never named."""
    accounts = ["111111111111", "222222222222"]
    clock = _Clock()
    members, begun, _ = _members(monkeypatch, accounts, clock, 2.0)
    every = hb.MEMBER_DEFERRALS_BEFORE_PROBLEM
    _refreshed(monkeypatch, members, clock, 8.0)  # snapshots 16 s: past the budget, no time left for any read

    runs = [members.refresh()[1] for _ in range(2 * every)]

    named = [[p for p in run if "Block Public Access of member account" in p] for run in runs]
    assert [len(run) for run in named] == [0] * (every - 1) + [2] + [0] * (every - 1) + [2]
    assert f"member account 111111111111 has not been read for {every} runs in a row" in named[every - 1][0]
    assert f"member account 222222222222 has not been read for {2 * every} runs in a row" in named[-1][1]
    assert "heartbeat/member_checks_per_run" in named[-1][1]
    assert not begun

    _refreshed(monkeypatch, members, clock, 1.0)  # time again: both read (2 s each), counted no more
    assert members.refresh()[1] == []
    assert begun == Counter(accounts)
    _refreshed(monkeypatch, members, clock, 8.0)
    after = [members.refresh()[1] for _ in range(every - 1)]
    assert after == [[]] * (every - 1)


def test_the_turn_record_forgets_accounts_no_longer_managed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-account record (``MEMBER_CURSOR``) kept every account ever begun; an account taken out of
    ``managed_accounts`` is now dropped from it, turns and deferrals, while a watched account keeps its turn."""
    accounts = ["111111111111", "222222222222", "333333333333"]
    clock = _Clock()
    members, _, store = _members(monkeypatch, accounts, clock, 1.0)
    _refreshed(monkeypatch, members, clock, 1.0)
    members.refresh()
    saved = store.items[(CURSOR, hb.MEMBER_CURSOR)].data
    assert set(saved["begun"]) == set(accounts)
    turn = saved["begun"]["111111111111"]

    accounts.remove("333333333333")
    members.refresh()

    saved = store.items[(CURSOR, hb.MEMBER_CURSOR)].data
    assert set(saved["begun"]) == {"111111111111", "222222222222"}
    assert saved["begun"]["111111111111"] > turn


def test_with_the_accounts_unknown_the_turn_record_is_kept_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """The phase called without a refresh that knew the watched accounts (``managed`` None): nothing is pruned."""
    clock = _Clock()
    members, _, store = _members(monkeypatch, ["111111111111", "222222222222"], clock, 1.0)
    _run(members, ["111111111111", "222222222222"], clock, 1.0)
    _run(members, ["111111111111"], clock, 1.0)

    saved = store.items[(CURSOR, hb.MEMBER_CURSOR)].data
    assert set(saved["begun"]) == {"111111111111", "222222222222"}


@pytest.mark.parametrize("pairs_seconds", [20.0, 10.0], ids=["no-time-left", "one-read"])
def test_a_failed_read_of_the_turn_record_saves_nothing(monkeypatch: pytest.MonkeyPatch, pairs_seconds: float) -> None:
    """Review quarrole-s15 F2: a run whose read of the turn record fails (a throttle) read it as empty; saving that
    replaced every account's turn and every deferral count (the signal above reset, so it might never fire). Now a
    run that could not read the record leaves it as it was, whether it began an account or none."""
    accounts = ["111111111111", "222222222222", "333333333333"]
    clock = _Clock()
    members, _, store = _members(monkeypatch, accounts, clock, 5.0)
    _run(members, accounts, clock, 0.0)  # 111 and 222 begun, 333 left
    _run(members, accounts, clock, 20.0)  # none: 333 deferred twice
    saved = dict(store.items[(CURSOR, hb.MEMBER_CURSOR)].data)
    assert saved["deferred"]["333333333333"] == 2

    def throttled(*_: Any) -> Any:
        raise RuntimeError("ProvisionedThroughputExceededException")

    monkeypatch.setattr(store, "snapshot", throttled)
    writes = store.writes
    _run(members, accounts, clock, pairs_seconds)

    assert store.writes == writes
    assert store.items[(CURSOR, hb.MEMBER_CURSOR)].data == saved
