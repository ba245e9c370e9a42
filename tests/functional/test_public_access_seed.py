"""Block Public Access has a record before the first call (issue 13 item 7; review s12 F3), with moto.

The deploy (and the heartbeat, through the same refresh) reads the account's and the buckets' configurations
(``app.public_access_seed``); ``CreateBucket`` records all four on, ``DeleteBucket`` forgets the record. The first
call on a bucket is then judged against what it changed, and remediated only by what it turned off.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from iamwarden.adapters.clients import MAX_ATTEMPTS
from iamwarden.adapters.recorded import AuditRecorded
from iamwarden.app.heartbeat import SnapshotRefresh, _public_access_seed, build_deploy_snapshot
from iamwarden.app.public_access_seed import CURSOR, PublicAccessBlockSeed
from iamwarden.app.service import EnforcerService
from iamwarden.domain.recorded import PUBLIC_ACCESS_BLOCK, Snapshot
from iamwarden.guardrails.public_access_block import ALL_BLOCKED
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account
from tests.functional.test_deploy_snapshot import PresignedUrl, _deploying, _request, presigned  # noqa: F401
from tests.functional.test_heartbeat_snapshots import REGION, _environment, _heartbeat

BUCKET_REGION = "eu-west-1"
WEBSITE = {**ALL_BLOCKED, "BlockPublicPolicy": False, "RestrictPublicBuckets": False}
ALL_OFF = dict.fromkeys(ALL_BLOCKED, False)
RULE = "rules/s3-public-access-block-disabled/mode"


def _bucket(account: Account, name: str, live: Mapping[str, bool] | None) -> None:
    account.s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": BUCKET_REGION})
    if live is None:
        account.s3.delete_public_access_block(Bucket=name)
    else:
        account.s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=dict(live))


def _live(account: Account, name: str) -> dict[str, bool] | None:
    try:
        return dict(account.s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"])
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NoSuchPublicAccessBlockConfiguration":
            raise
        return None


def _record(account: Account, name: str) -> Snapshot | None:
    return AuditRecorded(account.audit(), account.dynamodb).snapshot(PUBLIC_ACCESS_BLOCK, f"arn:aws:s3:::{name}")


def _call(account: Account, name: str, configuration: Mapping[str, bool], time: str) -> dict[str, Any]:
    """``PutBucketPublicAccessBlock`` of ``configuration`` on ``name`` at ``time``, made on moto as the caller made
    it, and its CloudTrail event (pab-bucket-partly-off.json's shape, its own ids)."""
    account.s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=dict(configuration))
    event = copy.deepcopy(load_event("pab-bucket-partly-off.json"))
    detail = event["detail"]
    event["id"], detail["eventID"] = str(uuid.uuid4()), str(uuid.uuid4())
    event["time"] = detail["eventTime"] = time
    detail["requestParameters"]["bucketName"] = name
    detail["requestParameters"]["Host"] = f"{name}.s3.{BUCKET_REGION}.amazonaws.com"
    detail["requestParameters"]["PublicAccessBlockConfiguration"] = {
        "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/",
        **configuration,
    }
    return event


def _seed(account: Account, **options: Any) -> PublicAccessBlockSeed:
    return PublicAccessBlockSeed(
        account.s3,
        account.session.client("s3control", region_name=REGION),
        HOME_ACCOUNT,
        "aws",
        **options,
    )


def _refresh(account: Account, seed: PublicAccessBlockSeed, clock: str) -> tuple[int, list[str]]:
    """The heartbeat's refresh with only the Block Public Access reads (no trails, no IAM: moto's are empty)."""
    refresh = SnapshotRefresh(
        AuditRecorded(account.audit(), account.dynamodb),
        account.session.client("cloudtrail", region_name=REGION),
        account.iam,
        HOME_ACCOUNT,
        region=REGION,
        clock=lambda: clock,
        public_access_blocks=seed,
    )
    return refresh.refresh()


def _soon() -> str:
    """A CloudTrail time a few seconds from now (whole seconds, as CloudTrail writes them): after the deploy's reads."""
    return (datetime.now(UTC) + timedelta(seconds=3)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_after_the_deploy_the_first_mixed_call_is_remediated_by_what_it_turned_off(
    account: Account,
    enforcer: EnforcerService,
    presigned: PresignedUrl,  # noqa: F811 - the fixture imported above
) -> None:
    """The deploy reads the bucket (all four on); the first call ever judged on it turns two off: exactly those two
    go back on, where without the record it was alert-only (review s12 F3)."""
    account.set(RULE, "remediate")
    _bucket(account, "acme-exports", ALL_BLOCKED)

    request = _request("Create", presigned.url, StackId=_deploying(account))
    build_deploy_snapshot(account.session, _environment(account)).handle(request)

    assert presigned.only()["Data"]["Problems"] == "0"
    seeded = _record(account, "acme-exports")
    assert seeded is not None
    assert seeded.data == {"configuration": ALL_BLOCKED, "account": HOME_ACCOUNT}
    account_record = AuditRecorded(account.audit(), account.dynamodb).snapshot(
        PUBLIC_ACCESS_BLOCK, f"arn:aws:s3::{HOME_ACCOUNT}:public-access-block"
    )
    assert account_record is not None
    assert account_record.data == {"configuration": None, "account": HOME_ACCOUNT}  # moto's account has none set

    # The owner turns the public-ACL pair back on too, but leaves the policy pair off: a website behind its policy.
    [finding] = enforcer.handle(_call(account, "acme-exports", WEBSITE, _soon()))["findings"]

    assert finding["outcome"] == "remediated"
    assert finding["done"] == ["turned BlockPublicPolicy and RestrictPublicBuckets on for bucket acme-exports"]
    assert _live(account, "acme-exports") == ALL_BLOCKED


def test_a_mixed_call_on_a_bucket_read_all_off_turns_nothing_on(account: Account, enforcer: EnforcerService) -> None:
    """The seeded record says a deliberately open bucket was all off: a call turning two on is no turn-off."""
    account.set(RULE, "remediate")
    _bucket(account, "acme-site", None)
    _refresh(account, _seed(account), "2026-11-22T09:00:00.000+00:00")

    result = enforcer.handle(_call(account, "acme-site", {**ALL_OFF, "BlockPublicAcls": True}, "2026-11-22T10:00:00Z"))

    [note] = result["findings"]
    assert (note["outcome"], note["done"]) == ("alerted", [])
    assert _live(account, "acme-site") == {**ALL_OFF, "BlockPublicAcls": True}


def test_a_bucket_never_read_is_judged_as_without_a_record(account: Account, enforcer: EnforcerService) -> None:
    """``heartbeat/public_access_block_buckets_per_run`` 0: no bucket read, the mixed call alert-only as before."""
    account.set(RULE, "remediate")
    _bucket(account, "acme-exports", ALL_BLOCKED)
    stored, problems = _refresh(account, _seed(account, per_run=lambda: 0), "2026-11-22T09:00:00.000+00:00")

    assert (stored, problems) == (1, [])  # the account's configuration only
    assert _record(account, "acme-exports") is None
    result = enforcer.handle(_call(account, "acme-exports", WEBSITE, "2026-11-22T10:00:00Z"))

    [finding] = result["findings"]
    assert finding["outcome"] != "remediated"
    assert "which settings were on before is unknown" in result["reason"]
    assert _live(account, "acme-exports") == WEBSITE


class _Refusing:
    """An S3 client whose ``GetPublicAccessBlock`` of ``bucket`` is denied (a bucket policy that denies the
    heartbeat); every other call goes to moto."""

    def __init__(self, s3: Any, bucket: str, code: str = "AccessDenied") -> None:
        self._s3, self._bucket, self._code = s3, bucket, code

    def get_public_access_block(self, **params: Any) -> Any:
        if params["Bucket"] == self._bucket:
            raise ClientError({"Error": {"Code": self._code, "Message": "denied"}}, "GetPublicAccessBlock")
        return self._s3.get_public_access_block(**params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._s3, name)


def test_a_bucket_whose_read_fails_gets_no_record_and_the_others_do(account: Account) -> None:
    _bucket(account, "acme-denied", ALL_BLOCKED)
    _bucket(account, "acme-open", WEBSITE)
    seed = _seed(account)
    seed.s3 = _Refusing(account.s3, "acme-denied")
    seed.s3_in = None

    stored, problems = _refresh(account, seed, "2026-11-22T09:00:00.000+00:00")

    assert problems == []  # one bucket refusing is no broken loop: it is logged and read again in its next turn
    assert seed.unread == ["acme-denied (AccessDenied)"]
    assert _record(account, "acme-denied") is None
    kept = _record(account, "acme-open")
    assert kept is not None
    assert kept.data == {"configuration": WEBSITE, "account": HOME_ACCOUNT}
    assert stored == 2  # the account's and acme-open's


def test_a_bucket_with_no_configuration_is_recorded_as_none(account: Account) -> None:
    _bucket(account, "acme-bare", None)
    _refresh(account, _seed(account), "2026-11-22T09:00:00.000+00:00")
    kept = _record(account, "acme-bare")
    assert kept is not None
    assert kept.data == {"configuration": None, "account": HOME_ACCOUNT}


def test_listing_the_buckets_failing_is_a_problem_and_the_account_is_still_read(account: Account) -> None:
    class _NoListing(_Refusing):
        def get_paginator(self, name: str) -> Any:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "ListBuckets")

    seed = _seed(account)
    seed.listing = _NoListing(account.s3, "")
    stored, problems = _refresh(account, seed, "2026-11-22T09:00:00.000+00:00")

    assert stored == 1
    [problem] = problems
    assert "buckets' Block Public Access" in problem
    assert "AccessDenied" in problem


def test_a_later_record_of_a_judged_call_is_never_replaced_by_an_older_read(account: Account) -> None:
    """The heartbeat keeps its read only where no later record is (``keep``): a call judged after the read began
    left the newer state."""
    _bucket(account, "acme-exports", ALL_BLOCKED)
    recorded = AuditRecorded(account.audit(), account.dynamodb)
    later = Snapshot(
        PUBLIC_ACCESS_BLOCK,
        "arn:aws:s3:::acme-exports",
        "2026-11-22T10:00:00.000+00:00",
        {"configuration": WEBSITE, "account": HOME_ACCOUNT},
    )
    assert recorded.keep(later)

    _refresh(account, _seed(account), "2026-11-22T09:00:00.000+00:00")

    assert _record(account, "acme-exports") == later


def test_each_run_reads_the_next_buckets_in_turn(account: Account) -> None:
    names = [f"acme-{n}" for n in range(5)]
    for name in names:
        _bucket(account, name, ALL_BLOCKED)
    turns = iter(range(3))
    seed = _seed(account, per_run=lambda: 2, turn=lambda: next(turns))

    read = [sorted(s.resource_arn.removeprefix("arn:aws:s3:::") for s in seed.take_buckets()) for _ in range(3)]

    assert read == [["acme-0", "acme-1"], ["acme-2", "acme-3"], ["acme-0", "acme-4"]]


def test_buckets_past_the_time_budget_wait_for_a_later_run(account: Account) -> None:
    for n in range(3):
        _bucket(account, f"acme-{n}", ALL_BLOCKED)
    ticks = iter([0.0, 0.0, 1.0, 9.0, 9.0])
    seed = _seed(account, budget_seconds=5.0, monotonic=lambda: next(ticks))

    taken = seed.take_buckets()

    assert [s.resource_arn for s in taken] == ["arn:aws:s3:::acme-0", "arn:aws:s3:::acme-1"]
    assert seed.deferred == ["acme-2"]


def test_create_bucket_records_all_four_on_and_the_first_call_is_judged_against_it(
    account: Account, enforcer: EnforcerService
) -> None:
    account.set(RULE, "remediate")
    _bucket(account, "acme-reports", ALL_BLOCKED)  # as S3 creates it since April 2023

    created = enforcer.handle(load_event("pab-create-bucket.json"))

    assert created["verdict"] == "compliant"
    kept = _record(account, "acme-reports")
    assert kept is not None
    assert (kept.taken_at, kept.data) == (
        "2026-11-23T08:41:08.000+00:00",
        {"configuration": ALL_BLOCKED, "account": HOME_ACCOUNT},
    )
    [finding] = enforcer.handle(_call(account, "acme-reports", WEBSITE, "2026-11-23T08:50:00Z"))["findings"]
    assert finding["outcome"] == "remediated"
    assert _live(account, "acme-reports") == ALL_BLOCKED


def test_create_bucket_in_us_east_1_records_nothing(account: Account, enforcer: EnforcerService) -> None:
    """There a create of a bucket the caller owns already succeeds and keeps its settings: nothing is assumed."""
    event = copy.deepcopy(load_event("pab-create-bucket.json"))
    event["region"] = event["detail"]["awsRegion"] = "us-east-1"
    del event["detail"]["requestParameters"]["CreateBucketConfiguration"]

    assert enforcer.handle(event)["verdict"] == "compliant"
    assert _record(account, "acme-reports") is None


def test_delete_bucket_forgets_the_record_and_a_failed_one_keeps_it(
    account: Account, enforcer: EnforcerService
) -> None:
    account.set(RULE, "remediate")
    _bucket(account, "acme-reports", ALL_BLOCKED)
    _refresh(account, _seed(account), "2026-11-23T08:00:00.000+00:00")

    assert enforcer.handle(load_event("pab-delete-bucket-not-empty.json"))["verdict"] == "ignored"
    kept = _record(account, "acme-reports")
    assert kept is not None
    assert kept.data == {"configuration": ALL_BLOCKED, "account": HOME_ACCOUNT}

    assert enforcer.handle(load_event("pab-delete-bucket.json"))["verdict"] == "compliant"
    forgotten = _record(account, "acme-reports")
    assert forgotten is not None
    assert forgotten.data == {"deleted": True, "account": HOME_ACCOUNT}
    # A bucket of the same name made again (no CreateBucket seen): its first mixed call has no "before".
    result = enforcer.handle(_call(account, "acme-reports", WEBSITE, "2026-11-23T09:30:00Z"))
    [finding] = result["findings"]
    assert finding["outcome"] != "remediated"
    assert "the bucket was deleted at 2026-11-23T09:12:45" in result["reason"]
    assert _live(account, "acme-reports") == WEBSITE


def _minutes_ago(minutes: float) -> str:
    """A CloudTrail time (whole seconds) ``minutes`` before now."""
    return (datetime.now(UTC) - timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def test_a_turn_off_whose_event_is_in_flight_while_the_heartbeat_reads_the_bucket_is_still_remediated(
    account: Account, enforcer: EnforcerService
) -> None:
    """The enforcer's record (all on, from a judged call) stays the "before" of a later turn-off even when a heartbeat
    run reads the bucket, already turned off, before that call's event arrives (review pab-s13 F1)."""
    account.set(RULE, "remediate")
    _bucket(account, "acme-exports", ALL_BLOCKED)
    enforcer.handle(_call(account, "acme-exports", ALL_BLOCKED, _minutes_ago(20)))
    kept = _record(account, "acme-exports")
    in_flight = _call(account, "acme-exports", WEBSITE, _minutes_ago(2))

    _refresh(account, _seed(account), _now())  # the 5-minute run, before the event reaches the enforcer

    assert _record(account, "acme-exports") == kept
    [finding] = enforcer.handle(in_flight)["findings"]
    assert finding["outcome"] == "remediated"
    assert finding["done"] == ["turned BlockPublicPolicy and RestrictPublicBuckets on for bucket acme-exports"]
    assert _live(account, "acme-exports") == ALL_BLOCKED


def test_an_account_turn_off_whose_event_is_in_flight_while_the_heartbeat_reads_the_account_is_still_remediated(
    account: Account, enforcer: EnforcerService
) -> None:
    """As above for the account's configuration, which every run reads (even with no buckets a run)."""
    account.set(RULE, "remediate")
    s3control = account.session.client("s3control", region_name=REGION)

    def account_call(configuration: Mapping[str, bool], time: str) -> dict[str, Any]:
        s3control.put_public_access_block(AccountId=HOME_ACCOUNT, PublicAccessBlockConfiguration=dict(configuration))
        event = copy.deepcopy(load_event("pab-account-off.json"))
        detail = event["detail"]
        event["id"], detail["eventID"] = str(uuid.uuid4()), str(uuid.uuid4())
        event["time"] = detail["eventTime"] = time
        detail["requestParameters"]["PublicAccessBlockConfiguration"] = {
            "xmlns": "http://awss3control.amazonaws.com/doc/2018-08-20/",
            **configuration,
        }
        return event

    enforcer.handle(account_call(ALL_BLOCKED, _minutes_ago(20)))
    in_flight = account_call(WEBSITE, _minutes_ago(2))

    _refresh(account, _seed(account, per_run=lambda: 0), _now())

    [finding] = enforcer.handle(in_flight)["findings"]
    assert finding["outcome"] == "remediated"
    assert finding["done"] == [f"turned BlockPublicPolicy and RestrictPublicBuckets on for account {HOME_ACCOUNT}"]


def test_a_read_fills_only_gaps_an_old_deletion_marker_or_an_expired_record(account: Account) -> None:
    """A deletion marker from before the run began (the bucket read since is a new one) and a record older than
    record_max_age_days are gaps a read fills; a marker from after the run began is not (the read may be of the
    bucket that was deleted)."""
    recorded = AuditRecorded(account.audit(), account.dynamodb)
    run = "2026-11-22T10:00:00.000+00:00"
    stored = {
        "acme-reborn": Snapshot(
            PUBLIC_ACCESS_BLOCK, "arn:aws:s3:::acme-reborn", "2026-11-22T09:00:00Z", {"deleted": True, "account": "x"}
        ),
        "acme-stale": Snapshot(
            PUBLIC_ACCESS_BLOCK,
            "arn:aws:s3:::acme-stale",
            "2026-10-01T09:00:00.000+00:00",
            {"configuration": WEBSITE, "account": HOME_ACCOUNT},
        ),
        "acme-dying": Snapshot(
            PUBLIC_ACCESS_BLOCK, "arn:aws:s3:::acme-dying", "2026-11-22T10:00:01Z", {"deleted": True, "account": "x"}
        ),
    }
    for name, snapshot in stored.items():
        _bucket(account, name, ALL_BLOCKED)
        recorded.put(snapshot)

    stored_count, problems = _refresh(account, _seed(account), run)

    assert problems == []
    assert stored_count == 3  # the account's (no record yet), acme-reborn's and acme-stale's
    assert _record(account, "acme-dying") == stored["acme-dying"]
    for name in ("acme-reborn", "acme-stale"):
        record = _record(account, name)
        assert record is not None
        assert (record.taken_at, record.data) == (run, {"configuration": ALL_BLOCKED, "account": HOME_ACCOUNT})


def test_runs_cut_short_by_the_time_budget_resume_where_they_stopped_so_every_bucket_is_reached(
    account: Account,
) -> None:
    """Each run reads only one bucket in its budget (slow reads): with the cursor kept in the audit table the next
    run starts after it, where the schedule's turn read the same first bucket every run (review pab-s13 F2)."""
    for n in range(3):
        _bucket(account, f"acme-{n}", ALL_BLOCKED)
    recorded = AuditRecorded(account.audit(), account.dynamodb)
    ticks = iter([0.0, 0.0, 9.0] * 4)
    seed = _seed(account, budget_seconds=5.0, monotonic=lambda: next(ticks), cursor=recorded)

    read = [[s.resource_arn.removeprefix("arn:aws:s3:::") for s in seed.take_buckets()] for _ in range(4)]

    assert read == [["acme-0"], ["acme-1"], ["acme-2"], ["acme-0"]]
    assert seed.deferred == ["acme-1", "acme-2"]
    saved = recorded.snapshot(CURSOR, HOME_ACCOUNT)
    assert saved is not None
    assert saved.data == {"after": "acme-0"}


def test_the_report_names_the_buckets_not_read(account: Account) -> None:
    """A bucket whose read always fails is named in the heartbeat's answer (review pab-s13 F6)."""
    _bucket(account, "acme-denied", ALL_BLOCKED)
    _bucket(account, "acme-open", WEBSITE)
    seed = _seed(account)
    seed.s3 = _Refusing(account.s3, "acme-denied")

    seed.take_buckets()

    assert seed.report() == {
        "buckets": 2,
        "read": 1,
        "not_read": 1,
        "not_read_first": ["acme-denied (AccessDenied)"],
        "deferred": 0,
    }


def test_the_reads_time_out_soon_and_retry_once_the_listing_keeps_the_house_retries(account: Account) -> None:
    """One slow or throttled bucket must not hold the 30-second heartbeat (review pab-s13 F2)."""
    seed = _public_access_seed(account.session, HOME_ACCOUNT, REGION, None, cursor=None)
    assert seed.s3_in is not None

    read = seed.s3_in(BUCKET_REGION).meta.config
    listing = seed.listing.meta.config

    # botocore's retries "max_attempts" counts the retries; it keeps the total, with the first try
    assert (read.connect_timeout, read.read_timeout, read.retries["total_max_attempts"]) == (2, 3, 2)
    assert listing.retries["total_max_attempts"] == MAX_ATTEMPTS + 1


def test_the_heartbeat_as_built_says_its_coverage_and_keeps_its_cursor(account: Account) -> None:
    """The built heartbeat's answer says how many buckets it read (review pab-s13 F6), and its reads resume from the
    cursor it keeps in the audit table (F2)."""
    for name in ("acme-a", "acme-b"):
        _bucket(account, name, ALL_BLOCKED)
    heartbeat = _heartbeat(account)

    result = heartbeat.run()

    assert result["public_access_block"] == {
        "buckets": 2,
        "read": 2,
        "not_read": 0,
        "not_read_first": [],
        "deferred": 0,
    }
    cursor = AuditRecorded(account.audit(), account.dynamodb).snapshot(CURSOR, HOME_ACCOUNT)
    assert cursor is not None
    assert cursor.data == {"after": "acme-b"}
