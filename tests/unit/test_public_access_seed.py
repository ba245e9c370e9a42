"""The record logic of Block Public Access before the first call (issue 13 item 7): which buckets a heartbeat run
reads, how an answer reads, the setting that bounds it, and what CreateBucket and DeleteBucket keep."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import pytest

from iamwarden.app.public_access_seed import PublicAccessBlockSeed, buckets_after, buckets_this_turn, configuration_of
from iamwarden.domain.recorded import PUBLIC_ACCESS_BLOCK, PastRemediation, Snapshot
from iamwarden.domain.settings import Settings, parse_settings
from iamwarden.guardrails.engine import judge_event
from iamwarden.guardrails.public_access_block import ALL_BLOCKED
from tests.conftest import load_event

REPORTS = "arn:aws:s3:::acme-reports"
WEBSITE = {**ALL_BLOCKED, "BlockPublicPolicy": False, "RestrictPublicBuckets": False}


class _Recorded:
    """The audit table holding at most one Block Public Access record."""

    def __init__(self, snapshot: Snapshot | None = None) -> None:
        self._snapshot = snapshot

    def remediations(self, resource_arn: str) -> Sequence[PastRemediation]:
        return ()

    def snapshot(self, kind: str, resource_arn: str) -> Snapshot | None:
        if self._snapshot is None or kind != PUBLIC_ACCESS_BLOCK or resource_arn != self._snapshot.resource_arn:
            return None
        return self._snapshot


@pytest.mark.parametrize(
    ("names", "per_run", "turn", "expected"),
    [
        ([], 3, 0, []),
        (["b", "a"], 3, 7, ["a", "b"]),  # all fit: every run reads all, sorted
        (["a", "b", "c"], 0, 0, []),  # 0: none
        (["a", "b", "c", "d", "e"], 2, 0, ["a", "b"]),
        (["a", "b", "c", "d", "e"], 2, 1, ["c", "d"]),
        (["a", "b", "c", "d", "e"], 2, 2, ["e", "a"]),  # wraps round
        (["a", "a", "b", "c"], 2, 1, ["c", "a"]),  # a name listed twice counts once
    ],
)
def test_each_turn_reads_the_next_slice(names: list[str], per_run: int, turn: int, expected: list[str]) -> None:
    assert buckets_this_turn(names, per_run, turn) == expected


def test_every_bucket_is_read_within_ceil_buckets_over_n_runs() -> None:
    names = [f"bucket-{n:03}" for n in range(250)]
    read: set[str] = set()
    for turn in range(3):  # ceil(250 / 100)
        read.update(buckets_this_turn(names, 100, turn))
    assert read == set(names)


def test_an_answer_reads_as_its_four_settings_a_missing_one_off() -> None:
    answer = {"PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "IgnorePublicAcls": False}}
    assert configuration_of(answer) == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": False,
        "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False,
    }
    assert configuration_of({"PublicAccessBlockConfiguration": {"BlockPublicAcls": "true"}})["BlockPublicAcls"] is False


@pytest.mark.parametrize(("raw", "expected"), [("0", 0), ("250", 250), ("1000", 1000)])
def test_the_buckets_per_run_setting(raw: str, expected: int) -> None:
    settings, problems = parse_settings({"heartbeat/public_access_block_buckets_per_run": raw})
    assert problems == []
    assert settings.public_access_block_buckets_per_run == expected
    assert Settings().public_access_block_buckets_per_run == 100


@pytest.mark.parametrize("raw", ["-1", "1001", "many"])
def test_a_bad_buckets_per_run_is_a_problem_and_the_default_holds(raw: str) -> None:
    settings, problems = parse_settings({"heartbeat/public_access_block_buckets_per_run": raw})
    [problem] = problems
    assert problem.key == "heartbeat/public_access_block_buckets_per_run"
    assert settings.public_access_block_buckets_per_run == 100


def test_create_bucket_keeps_all_four_on_from_its_time() -> None:
    judgement = judge_event(load_event("pab-create-bucket.json"), Settings(), recorded=_Recorded())
    assert (judgement.verdict.value, judgement.findings) == ("compliant", ())
    [kept] = judgement.observed
    when = "2026-11-23T08:41:08.000+00:00"
    assert (kept.kind, kept.resource_arn, kept.taken_at) == (PUBLIC_ACCESS_BLOCK, REPORTS, when)
    assert kept.data == {"configuration": dict(ALL_BLOCKED), "account": "111122223333"}
    assert kept.whatever_the_verdict
    assert kept.ambiguous_within_instant  # a Put in the create's second makes it no "before"


def test_create_bucket_offline_keeps_nothing() -> None:
    judgement = judge_event(load_event("pab-create-bucket.json"), Settings())
    assert (judgement.verdict.value, judgement.observed) == ("compliant", ())


def test_create_bucket_in_us_east_1_assumes_nothing() -> None:
    event = copy.deepcopy(load_event("pab-create-bucket.json"))
    event["region"] = event["detail"]["awsRegion"] = "us-east-1"
    judgement = judge_event(event, Settings(), recorded=_Recorded())
    assert judgement.verdict.value == "compliant"
    assert judgement.observed == ()
    assert "read by the heartbeat, not assumed" in judgement.reason


def test_delete_bucket_keeps_a_record_that_is_no_before() -> None:
    judgement = judge_event(load_event("pab-delete-bucket.json"), Settings(), recorded=_Recorded())
    assert judgement.verdict.value == "compliant"
    # The bucket-policy rule judges DeleteBucket too (it records an empty policy): this rule's record is its own kind.
    [forgotten] = [snapshot for snapshot in judgement.observed if snapshot.kind == "public-access-block"]
    assert forgotten.data == {"deleted": True, "account": "111122223333"}
    assert forgotten.whatever_the_verdict

    later = _put(WEBSITE, "2026-11-23T09:30:00Z")
    [finding] = judge_event(later, Settings(), recorded=_Recorded(forgotten)).findings
    assert "turned off" not in finding.reason  # judged as with no record (a mixed call: alert only)
    assert "the bucket was deleted at 2026-11-23T09:12:45" in finding.needs_context[0]


def test_a_failed_create_or_delete_keeps_nothing() -> None:
    for sample in ("pab-delete-bucket-not-empty.json",):
        judgement = judge_event(load_event(sample), Settings(), recorded=_Recorded())
        assert (judgement.verdict.value, judgement.observed) == ("ignored", ())
    failed = copy.deepcopy(load_event("pab-create-bucket.json"))
    failed["detail"]["errorCode"] = "BucketAlreadyOwnedByYou"
    judgement = judge_event(failed, Settings(), recorded=_Recorded())
    assert (judgement.verdict.value, judgement.observed) == ("ignored", ())


def test_a_call_after_a_create_is_judged_against_all_four_on() -> None:
    created = judge_event(load_event("pab-create-bucket.json"), Settings(), recorded=_Recorded()).observed[0]
    [finding] = judge_event(_put(WEBSITE, "2026-11-23T08:50:00Z"), Settings(), recorded=_Recorded(created)).findings
    assert "turned off BlockPublicPolicy and RestrictPublicBuckets for bucket acme-reports" in finding.reason
    assert finding.plan[0].parameters["settings"] == ["BlockPublicPolicy", "RestrictPublicBuckets"]
    assert not finding.needs_context
    same_second = judge_event(_put(WEBSITE, "2026-11-23T08:41:08Z"), Settings(), recorded=_Recorded(created))
    assert "is not from before this call" in same_second.findings[0].needs_context[0]


def _put(configuration: dict[str, bool], time: str) -> dict[str, Any]:
    event = copy.deepcopy(load_event("pab-bucket-partly-off.json"))
    event["time"] = event["detail"]["eventTime"] = time
    event["detail"]["requestParameters"]["bucketName"] = "acme-reports"
    event["detail"]["requestParameters"]["PublicAccessBlockConfiguration"] = dict(configuration)
    return event


class _S3:
    """An S3 client of one Region: ``ListBuckets`` (unpaginated, with each bucket's Region) and the reads it got."""

    def __init__(self, region: str, listed: list[dict[str, str]] | None = None) -> None:
        self.region, self.listed = region, listed or []
        self.read: list[str] = []

    def can_paginate(self, name: str) -> bool:
        return False

    def list_buckets(self) -> dict[str, Any]:
        return {"Buckets": self.listed}

    def get_public_access_block(self, Bucket: str) -> dict[str, Any]:
        self.read.append(Bucket)
        return {"PublicAccessBlockConfiguration": dict(ALL_BLOCKED)}


def test_each_bucket_is_read_in_its_own_region_where_the_listing_says() -> None:
    listed = [{"Name": "eu-logs", "BucketRegion": "eu-west-1"}, {"Name": "plain"}]
    home = _S3("us-east-1", listed)
    regional: dict[str, _S3] = {}

    def s3_in(region: str) -> _S3:
        return regional.setdefault(region, _S3(region))

    seed = PublicAccessBlockSeed(home, None, "111122223333", "aws", s3_in=s3_in, clock=lambda: "2026-11-22T09:00:00Z")
    taken = seed.take_buckets()

    assert [s.resource_arn for s in taken] == ["arn:aws:s3:::eu-logs", "arn:aws:s3:::plain"]
    assert (regional["eu-west-1"].read, home.read) == (["eu-logs"], ["plain"])  # no Region listed: the default client


@pytest.mark.parametrize(
    ("names", "per_run", "after", "expected"),
    [
        ([], 2, "", []),
        (["c", "a", "b"], 2, "", ["a", "b"]),  # no cursor yet: from the first
        (["c", "a", "b"], 2, "a", ["b", "c"]),
        (["c", "a", "b"], 2, "b", ["c", "a"]),  # wraps round
        (["c", "a", "b"], 2, "z", ["a", "b"]),  # the last one reached is gone, and was the last name
        (["c", "a", "b"], 5, "a", ["b", "c", "a"]),  # all fit: still from after the cursor, each once
        (["d", "b"], 1, "c", ["d"]),  # the one reached was deleted: from the next name
        (["a", "b"], 0, "", []),
    ],
)
def test_with_a_cursor_a_run_reads_from_where_the_last_one_stopped(
    names: list[str], per_run: int, after: str, expected: list[str]
) -> None:
    assert buckets_after(names, per_run, after) == expected
