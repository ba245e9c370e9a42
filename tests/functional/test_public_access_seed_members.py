"""Block Public Access records in the member accounts too (issue 13; session 13's "members not seeded"), with moto.

The heartbeat reads each managed member account it snapshots through that account's snapshot role, by the same rules
as its own account (``app.public_access_seed``): gaps only, a cursor per account, ``per_run`` buckets per account, one
time budget shared by the member accounts of a run. A member stack from before its snapshot role had these reads
(AccessDenied) is named "member stack needs an update" in the heartbeat's answer and log: no alert, no crash, the
other accounts are still read.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from iamwarden.adapters.clients import MAX_ATTEMPTS, ClientFactory
from iamwarden.adapters.recorded import AuditRecorded
from iamwarden.app.heartbeat import MEMBER_CURSOR, SEED_READS, Heartbeat, MemberSnapshots
from iamwarden.app.public_access_seed import CURSOR, DEFERRED_ACCOUNT, NEEDS_UPDATE, MemberPublicAccessBlockSeed
from iamwarden.domain.arns import account_public_access_block_arn
from iamwarden.domain.recorded import PUBLIC_ACCESS_BLOCK, Snapshot
from iamwarden.guardrails.public_access_block import ALL_BLOCKED
from tests.aws_fixtures import HOME_ACCOUNT, REGION
from tests.functional.conftest import Account
from tests.functional.test_heartbeat_member_snapshots import (
    MEMBER_A,
    MEMBER_B,
    _heartbeat,
    _member,
    _member_forwarding,
    _Store,
    _Topic,
)

WEBSITE = {**ALL_BLOCKED, "BlockPublicPolicy": False, "RestrictPublicBuckets": False}


def _buckets(session: boto3.Session, member: str, configuration: dict[str, bool]) -> list[str]:
    """Two buckets in ``member`` with ``configuration``, and the account's own configuration all on."""
    s3: Any = session.client("s3")  # the settings as a plain mapping
    names = [f"{member}-data", f"{member}-site"]
    for name in names:
        s3.create_bucket(Bucket=name)
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=dict(configuration))
    session.client("s3control").put_public_access_block(
        AccountId=member, PublicAccessBlockConfiguration=dict(ALL_BLOCKED)
    )
    return names


def _members(account: Account) -> dict[str, list[str]]:
    account.set("managed_accounts", f"{HOME_ACCOUNT},{MEMBER_A},{MEMBER_B}")
    buckets = {}
    for member in (MEMBER_A, MEMBER_B):
        buckets[member] = _buckets(_member(account, member), member, WEBSITE)
        _member_forwarding(account, member)
    return buckets


def _record(account: Account, arn: str) -> Snapshot | None:
    return AuditRecorded(account.audit(), account.dynamodb).snapshot(PUBLIC_ACCESS_BLOCK, arn)


def _refused_in(heartbeat: Heartbeat, member: str, code: str, operation: str = "get_public_access_block") -> None:
    """``member``'s account read refused with ``code`` (a member stack not updated: its role lacks the reads), the
    others as built. botocore's Stubber checks the refusal against the S3 Control model."""
    members = heartbeat.member_snapshots
    assert members is not None
    assert members.public_access_seed is not None
    built = members.public_access_seed

    def seed(account: str) -> MemberPublicAccessBlockSeed:
        made = built(account)
        if account == member:
            stubber = Stubber(made.s3control)
            stubber.add_client_error(operation, service_error_code=code, http_status_code=403)
            stubber.activate()
        return made

    members.public_access_seed = seed


def test_each_member_accounts_buckets_and_account_are_recorded_with_a_cursor_each(account: Account) -> None:
    buckets = _members(account)

    result = _heartbeat(account, _Topic()).run()

    assert result["whole"] is True, result["problems"]
    for member, names in buckets.items():
        for name in names:
            record = _record(account, f"arn:aws:s3:::{name}")
            assert record is not None, name
            assert record.data == {"configuration": WEBSITE, "account": member}
        whole = _record(account, account_public_access_block_arn("aws", member))
        assert whole is not None
        assert whole.data == {"configuration": ALL_BLOCKED, "account": member}
        cursor = AuditRecorded(account.audit(), account.dynamodb).snapshot(CURSOR, member)
        assert cursor is not None
        assert cursor.data == {"after": max(names)}
    assert result["public_access_block_members"] == {
        member: {"buckets": 2, "read": 2, "not_read": 0, "not_read_first": [], "deferred": 0} for member in buckets
    }


def test_a_member_read_fills_only_gaps_the_enforcers_record_stays(account: Account) -> None:
    """As at home (review pab-s13 F1): a record the enforcer kept may be the "before" of a turn-off in flight."""
    buckets = _members(account)
    name = buckets[MEMBER_A][0]
    kept = Snapshot(
        PUBLIC_ACCESS_BLOCK,
        f"arn:aws:s3:::{name}",
        "2026-12-06T04:00:00.000+00:00",
        {"configuration": dict(ALL_BLOCKED), "account": MEMBER_A},
    )
    AuditRecorded(account.audit(), account.dynamodb).put(kept)

    _heartbeat(account, _Topic()).run()

    assert _record(account, f"arn:aws:s3:::{name}") == kept
    other = _record(account, f"arn:aws:s3:::{buckets[MEMBER_A][1]}")
    assert other is not None
    assert other.data["configuration"] == WEBSITE


@pytest.mark.parametrize(
    ("operation", "refused"),
    [("get_public_access_block", "s3:GetAccountPublicAccessBlock"), ("list_buckets", "s3:ListAllMyBuckets")],
)
def test_a_member_stack_not_yet_updated_is_named_and_the_other_account_is_still_read(
    account: Account, caplog: pytest.LogCaptureFixture, operation: str, refused: str
) -> None:
    buckets = _members(account)
    topic = _Topic()
    heartbeat = _heartbeat(account, topic)
    if operation == "list_buckets":  # the account's configuration read, the listing refused
        members = heartbeat.member_snapshots
        assert members is not None
        assert members.public_access_seed is not None
        built = members.public_access_seed

        def seed(member: str) -> MemberPublicAccessBlockSeed:
            made = built(member)
            if member == MEMBER_A:
                stubber = Stubber(made.listing)
                stubber.add_client_error("list_buckets", service_error_code="AccessDenied", http_status_code=403)
                stubber.activate()
            return made

        members.public_access_seed = seed
    else:
        _refused_in(heartbeat, MEMBER_A, "AccessDenied")

    with caplog.at_level(logging.INFO):
        result = heartbeat.run()

    assert result["whole"] is True, result["problems"]
    assert topic.published == [], "a stack not yet updated is said in the answer and log, not alerted every run"
    said = result["public_access_block_members"][MEMBER_A]
    assert said == {"needs_update": f"{NEEDS_UPDATE} (its snapshot role is refused {refused} (AccessDenied))"}
    assert "an SCP/boundary refuses the read" in said["needs_update"]
    assert result["public_access_block_members"][MEMBER_B]["read"] == 2, "the first account refused, the next read"
    for name in buckets[MEMBER_A]:
        assert _record(account, f"arn:aws:s3:::{name}") is None
    for name in buckets[MEMBER_B]:
        assert _record(account, f"arn:aws:s3:::{name}") is not None
    [logged] = [r for r in caplog.records if hasattr(r, "public_access_block_members")]
    assert logged.levelno == logging.WARNING
    assert NEEDS_UPDATE in logged.public_access_block_members[MEMBER_A]["needs_update"]


def test_any_other_refusal_of_a_member_read_is_a_problem_naming_the_account(account: Account) -> None:
    _members(account)
    heartbeat = _heartbeat(account, _Topic())
    _refused_in(heartbeat, MEMBER_A, "InvalidRequest")

    result = heartbeat.run()

    [problem] = result["problems"]
    assert MEMBER_A in problem
    assert "account Block Public Access" in problem
    assert "InvalidRequest" in problem
    assert result["public_access_block_members"][MEMBER_B]["read"] == 2, "the first account failed, the next read"


class _Clock:
    """A fake monotonic clock: each member bucket read takes ``read_seconds``, nothing else takes time."""

    def __init__(self, read_seconds: float) -> None:
        self.now = 0.0
        self.read_seconds = read_seconds
        self.read: list[str] = []

    def __call__(self) -> float:
        return self.now

    def slow(self, client: Any) -> Any:
        clock = self

        class _Slow:
            def get_public_access_block(self, **kwargs: Any) -> Any:
                clock.now += clock.read_seconds
                clock.read.append(kwargs["Bucket"])
                return client.get_public_access_block(**kwargs)

            def __getattr__(self, name: str) -> Any:
                return getattr(client, name)

        return _Slow()


def _timed(heartbeat: Heartbeat, clock: _Clock, member_budget: float) -> MemberSnapshots:
    """``heartbeat``'s member snapshots on ``clock``, their loop's budget ``member_budget``, bucket reads slowed."""
    members = heartbeat.member_snapshots
    assert members is not None
    assert members.public_access_seed is not None
    built = members.public_access_seed
    members.monotonic = clock
    members.budget_seconds = member_budget

    def seed(member: str) -> MemberPublicAccessBlockSeed:
        made = built(member)
        made.s3 = clock.slow(made.s3)
        regional = made.s3_in
        assert regional is not None
        made.s3_in = lambda region: clock.slow(regional(region))
        return made

    members.public_access_seed = seed
    return members


def test_slow_member_bucket_reads_never_push_another_accounts_snapshots_or_forwarding_to_a_later_run(
    account: Account,
) -> None:
    """Issue 15's checks come first (review bpamember-s14 F2): the bucket reads run after every account's snapshots
    and forwarding, from what is left of the member loop's budget. Each read takes 3 s, the loop has 2 s."""
    _members(account)
    clock = _Clock(3.0)
    heartbeat = _heartbeat(account, _Topic())
    members = _timed(heartbeat, clock, 2.0)

    result = heartbeat.run()

    assert members.taken == [MEMBER_A, MEMBER_B]
    assert members.deferred == []
    assert result["member_coverage"]["checked"] == result["member_coverage"]["pairs"] == 2
    assert clock.read == [f"{MEMBER_A}-data"], "the 2 s left, not 5: one read, the next bucket for a later run"
    assert result["public_access_block_members"][MEMBER_A]["deferred"] == 1
    assert result["public_access_block_members"][MEMBER_B] == {"deferred_account": DEFERRED_ACCOUNT}


def test_every_member_account_gets_its_turn_and_one_left_for_later_is_named(
    account: Account, caplog: pytest.LogCaptureFixture
) -> None:
    """The first account's reads spend the budget (review bpamember-s14 F1): the next run, on the same warm heartbeat
    (review F3: the deadline is the run's), starts with the account left out, by the saved account cursor."""
    buckets = _members(account)
    clock = _Clock(3.0)
    heartbeat = _heartbeat(account, _Topic())
    _timed(heartbeat, clock, 4.0)

    with caplog.at_level(logging.INFO):
        first = heartbeat.run()
    clock.now += 300.0  # the next schedule period, on the same container
    second = heartbeat.run()

    assert first["public_access_block_members"][MEMBER_A]["read"] == 2
    assert first["public_access_block_members"][MEMBER_B] == {"deferred_account": DEFERRED_ACCOUNT}
    assert second["public_access_block_members"][MEMBER_B]["read"] == 2
    assert second["public_access_block_members"][MEMBER_A] == {"deferred_account": DEFERRED_ACCOUNT}
    for name in buckets[MEMBER_B]:
        assert _record(account, f"arn:aws:s3:::{name}") is not None, name
    named = [r for r in caplog.records if r.levelno == logging.WARNING and MEMBER_B in r.getMessage()]
    assert named, "the account left for a later run is named in the log"
    summary = next(r for r in caplog.records if hasattr(r, "public_access_block_members"))  # the first run's
    assert summary.levelno == logging.WARNING
    assert summary.public_access_block_members[MEMBER_B] == {"deferred_account": DEFERRED_ACCOUNT}
    assert first["whole"] is True, first["problems"]


def test_the_member_rule_settings_of_its_own_account_decide_what_is_a_gap(account: Account) -> None:
    """``record_max_age_days`` as the enforcer reads it for that account (review bpamember-s14 F4): a stricter
    override makes a 10-day-old record a gap the read fills, a laxer one keeps a 40-day-old one (30 globally)."""
    buckets = _members(account)
    rule = "rules/s3-public-access-block-disabled/record_max_age_days"
    account.set(f"accounts/{MEMBER_A}/{rule}", "7")
    account.set(f"accounts/{MEMBER_B}/{rule}", "90")
    recorded = AuditRecorded(account.audit(), account.dynamodb)
    kept = {}
    for member, days in ((MEMBER_A, 10), (MEMBER_B, 40)):
        kept[member] = Snapshot(
            PUBLIC_ACCESS_BLOCK,
            f"arn:aws:s3:::{buckets[member][0]}",
            (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="milliseconds"),
            {"configuration": dict(ALL_BLOCKED), "account": member},
        )
        recorded.put(kept[member])

    _heartbeat(account, _Topic()).run()

    refilled = _record(account, kept[MEMBER_A].resource_arn)
    assert refilled is not None
    assert refilled.data["configuration"] == WEBSITE, "older than the account's 7 days: a gap"
    assert _record(account, kept[MEMBER_B].resource_arn) == kept[MEMBER_B], "within the account's 90 days: kept"


def test_without_a_seed_a_member_refresh_reads_no_block_public_access() -> None:
    members = MemberSnapshots(
        _Store(), lambda: [], lambda member: (None, None), home_account=HOME_ACCOUNT, region=REGION
    )
    assert members.refresh_public_access_blocks([MEMBER_A], members.monotonic()) == (0, [])
    assert members.public_access_reports == {}


def test_a_members_bucket_reads_time_out_soon_through_its_snapshot_role(account: Account) -> None:
    """As at home (review pab-s13 F2): one slow bucket costs seconds; the listing keeps the house's retries."""
    account.set("managed_accounts", f"{HOME_ACCOUNT},{MEMBER_A}")
    members = _heartbeat(account, _Topic()).member_snapshots
    assert members is not None
    assert members.public_access_seed is not None
    seed = members.public_access_seed(MEMBER_A)
    assert seed.s3_in is not None

    read, listing = seed.s3_in("eu-west-1").meta.config, seed.listing.meta.config
    factory = ClientFactory(HOME_ACCOUNT, "iamwarden-snapshot-reader", session=account.session)

    assert (read.connect_timeout, read.read_timeout, read.retries["total_max_attempts"]) == (2, 3, 2)
    assert listing.retries["total_max_attempts"] == MAX_ATTEMPTS + 1
    assert seed.account == MEMBER_A
    assert seed.s3_in("eu-west-1") is seed.s3_in("eu-west-1"), "one client per Region, kept"
    # review bpamember-s14 F7: clients are kept by the timeouts' values, not by which object holds them
    assert factory.client("s3", MEMBER_A, REGION, timeouts=dict(SEED_READS)) is factory.client(
        "s3", MEMBER_A, REGION, timeouts=dict(SEED_READS)
    )
    assert factory.client("s3", MEMBER_A, REGION, timeouts=dict(SEED_READS)) is not factory.client(
        "s3", MEMBER_A, REGION
    )
    longer = factory.client("s3", MEMBER_A, REGION, timeouts={**SEED_READS, "read_timeout": 9})
    assert longer is not factory.client("s3", MEMBER_A, REGION, timeouts=dict(SEED_READS)), "other timeouts: its own"
    assert longer.meta.config.read_timeout == 9


def test_an_account_no_longer_managed_leaves_the_member_turn_record(account: Account) -> None:
    """Issue 15: the per-account turn record (``MEMBER_CURSOR``) kept every account ever begun; with the member
    coverage (as deployed), an account taken out of ``managed_accounts`` is dropped from it on the next run."""
    _members(account)
    heartbeat = _heartbeat(account, _Topic())
    heartbeat.run()
    recorded = AuditRecorded(account.audit(), account.dynamodb)
    turns = recorded.snapshot(CURSOR, MEMBER_CURSOR)
    assert turns is not None
    assert set(turns.data["begun"]) == {MEMBER_A, MEMBER_B}

    account.set("managed_accounts", f"{HOME_ACCOUNT},{MEMBER_A}")
    _heartbeat(account, _Topic()).run()

    turns = recorded.snapshot(CURSOR, MEMBER_CURSOR)
    assert turns is not None
    assert set(turns.data["begun"]) == {MEMBER_A}
