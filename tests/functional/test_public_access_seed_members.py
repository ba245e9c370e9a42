"""Block Public Access records in the member accounts too (issue 13; session 13's "members not seeded"), with moto.

The heartbeat reads each managed member account it snapshots through that account's snapshot role, by the same rules
as its own account (``app.public_access_seed``): gaps only, a cursor per account, ``per_run`` buckets per account, one
time budget shared by the member accounts of a run. A member stack from before its snapshot role had these reads
(AccessDenied) is named "member stack needs an update" in the heartbeat's answer and log: no alert, no crash, the
other accounts are still read.
"""

from __future__ import annotations

import logging
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from iamwarden.adapters.clients import MAX_ATTEMPTS
from iamwarden.adapters.recorded import AuditRecorded
from iamwarden.app.heartbeat import Heartbeat, MemberSnapshots
from iamwarden.app.public_access_seed import CURSOR, NEEDS_UPDATE, MemberPublicAccessBlockSeed
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
            if member == MEMBER_B:
                stubber = Stubber(made.listing)
                stubber.add_client_error("list_buckets", service_error_code="AccessDenied", http_status_code=403)
                stubber.activate()
            return made

        members.public_access_seed = seed
    else:
        _refused_in(heartbeat, MEMBER_B, "AccessDenied")

    with caplog.at_level(logging.INFO):
        result = heartbeat.run()

    assert result["whole"] is True, result["problems"]
    assert topic.published == [], "a stack not yet updated is said in the answer and log, not alerted every run"
    said = result["public_access_block_members"][MEMBER_B]
    assert said == {"needs_update": f"{NEEDS_UPDATE} (its snapshot role is refused {refused} (AccessDenied))"}
    assert result["public_access_block_members"][MEMBER_A]["read"] == 2
    for name in buckets[MEMBER_B]:
        assert _record(account, f"arn:aws:s3:::{name}") is None
    for name in buckets[MEMBER_A]:
        assert _record(account, f"arn:aws:s3:::{name}") is not None
    [logged] = [r for r in caplog.records if hasattr(r, "public_access_block_members")]
    assert logged.levelno == logging.WARNING
    assert NEEDS_UPDATE in logged.public_access_block_members[MEMBER_B]["needs_update"]


def test_any_other_refusal_of_a_member_read_is_a_problem_naming_the_account(account: Account) -> None:
    _members(account)
    heartbeat = _heartbeat(account, _Topic())
    _refused_in(heartbeat, MEMBER_B, "InvalidRequest")

    result = heartbeat.run()

    [problem] = result["problems"]
    assert MEMBER_B in problem
    assert "account Block Public Access" in problem
    assert "InvalidRequest" in problem
    assert result["public_access_block_members"][MEMBER_A]["read"] == 2


class _Seed(MemberPublicAccessBlockSeed):
    def __init__(self, account: str) -> None:
        super().__init__(None, None, account, "aws")


def test_the_member_accounts_bucket_reads_share_one_time_budget_a_run() -> None:
    """More member accounts never lengthen the heartbeat: the first account's reads start the budget, the next get
    what is left of it, and a new run starts it again."""
    ticks = iter([100.0, 100.0, 103.0, 200.0, 200.0])
    members = MemberSnapshots(
        _Store(), lambda: [], lambda member: (None, None), home_account=HOME_ACCOUNT, region=REGION,
        monotonic=lambda: next(ticks), public_access_seed=_Seed,
    )  # fmt: skip

    first = members._public_access_seed(MEMBER_A)
    second = members._public_access_seed(MEMBER_B)
    members._seed_deadline = None  # a new run (refresh / refresh_pairs)
    again = members._public_access_seed(MEMBER_A)

    assert first is not None
    assert second is not None
    assert again is not None
    assert first.budget_seconds == 5.0
    assert second.budget_seconds == 2.0
    assert again.budget_seconds == 5.0


def test_without_a_seed_a_member_refresh_reads_no_block_public_access() -> None:
    members = MemberSnapshots(
        _Store(), lambda: [], lambda member: (None, None), home_account=HOME_ACCOUNT, region=REGION
    )
    assert members._public_access_seed(MEMBER_A) is None


def test_a_members_bucket_reads_time_out_soon_through_its_snapshot_role(account: Account) -> None:
    """As at home (review pab-s13 F2): one slow bucket costs seconds; the listing keeps the house's retries."""
    account.set("managed_accounts", f"{HOME_ACCOUNT},{MEMBER_A}")
    members = _heartbeat(account, _Topic()).member_snapshots
    assert members is not None
    assert members.public_access_seed is not None
    seed = members.public_access_seed(MEMBER_A)
    assert seed.s3_in is not None

    read, listing = seed.s3_in("eu-west-1").meta.config, seed.listing.meta.config

    assert (read.connect_timeout, read.read_timeout, read.retries["total_max_attempts"]) == (2, 3, 2)
    assert listing.retries["total_max_attempts"] == MAX_ATTEMPTS + 1
    assert seed.account == MEMBER_A
    assert seed.s3_in("eu-west-1") is seed.s3_in("eu-west-1"), "one client per Region, kept"
