"""The heartbeat says when no trail logs an account's management events: IAM Warden then sees nothing there.

Review s8 section 7: EventBridge gets ``AWS API Call via CloudTrail`` events only while a trail logs them, so a
``StopLogging`` whose own event is lost leaves an account unjudged. moto: create_trail / stop_logging /
put_event_selectors; a botocore Stubber for what moto cannot refuse.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.stub import Stubber

from iamwarden.app.trail_coverage import TrailCoverage, trail_coverage_problems
from tests.aws_fixtures import HOME_ACCOUNT, REGION
from tests.functional.conftest import Account, create_logging_trail

OTHER_REGION = "eu-west-1"


def _cloudtrail(account: Account, region: str = REGION) -> Any:
    return account.session.client("cloudtrail", region_name=region)


def test_a_logging_trail_of_every_management_event_is_no_problem(account: Account) -> None:
    create_logging_trail(account.session, REGION)
    assert trail_coverage_problems(_cloudtrail(account), HOME_ACCOUNT, REGION) == []


def test_no_trail_a_stopped_one_or_one_without_write_management_events_is_one_critical_problem(
    account: Account,
) -> None:
    cloudtrail = _cloudtrail(account)
    [problem] = trail_coverage_problems(cloudtrail, HOME_ACCOUNT, REGION)
    assert problem.startswith(f"no trail logs the management events of {HOME_ACCOUNT} in {REGION}: IAM Warden sees")
    assert "there is no trail at all" in problem

    arn = create_logging_trail(account.session, REGION)
    cloudtrail.stop_logging(Name=arn)
    [problem] = trail_coverage_problems(cloudtrail, HOME_ACCOUNT, REGION)
    assert f"{arn} is not logging" in problem

    cloudtrail.start_logging(Name=arn)
    cloudtrail.put_event_selectors(
        TrailName=arn, EventSelectors=[{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}]
    )
    [problem] = trail_coverage_problems(cloudtrail, HOME_ACCOUNT, REGION)
    assert f"{arn} logs no write management events" in problem

    # The judgement is the cloudtrail-logging-impaired rule's own: reads only dropped is no blindness.
    cloudtrail.put_event_selectors(
        TrailName=arn, EventSelectors=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}]
    )
    assert trail_coverage_problems(cloudtrail, HOME_ACCOUNT, REGION) == []


def test_one_good_trail_is_enough_beside_a_stopped_one(account: Account) -> None:
    cloudtrail = _cloudtrail(account)
    stopped = create_logging_trail(account.session, REGION, name="old-audit")
    cloudtrail.stop_logging(Name=stopped)
    create_logging_trail(account.session, REGION)
    assert trail_coverage_problems(cloudtrail, HOME_ACCOUNT, REGION) == []


def test_a_multi_region_trail_homed_elsewhere_is_read_in_its_home_region(account: Account) -> None:
    arn = create_logging_trail(account.session, OTHER_REGION)
    home = _cloudtrail(account, OTHER_REGION)
    in_region = TrailCoverage(HOME_ACCOUNT, REGION, lambda _, region: _cloudtrail(account, region))
    assert in_region.problems() == []
    home.stop_logging(Name=arn)
    [problem] = in_region.problems()
    assert f"{arn} is not logging" in problem


def test_a_single_region_trail_of_another_region_does_not_cover_this_one(account: Account) -> None:
    account.session.client("s3", region_name=REGION).create_bucket(Bucket="eu-logs")
    other = _cloudtrail(account, OTHER_REGION)
    other.create_trail(Name="eu-only", S3BucketName="eu-logs", IsMultiRegionTrail=False)
    other.start_logging(Name="eu-only")
    [problem] = trail_coverage_problems(_cloudtrail(account), HOME_ACCOUNT, REGION)
    assert "there is no trail at all" in problem


def test_trails_that_cannot_be_listed_or_read_are_a_problem_never_silence() -> None:
    client = boto3.client("cloudtrail", region_name=REGION)
    with Stubber(client) as stubber:
        stubber.add_client_error("describe_trails", "AccessDeniedException")
        [problem] = trail_coverage_problems(client, HOME_ACCOUNT, REGION)
    assert "cannot be listed (AccessDeniedException)" in problem
    arn = f"arn:aws:cloudtrail:{REGION}:999988887777:trail/organization"
    trail = {"Name": "organization", "TrailARN": arn, "HomeRegion": REGION, "IsMultiRegionTrail": True}
    with Stubber(client) as stubber:
        stubber.add_response("describe_trails", {"trailList": [trail]})
        stubber.add_client_error("get_trail_status", "AccessDeniedException")
        [problem] = trail_coverage_problems(client, HOME_ACCOUNT, REGION)
    assert f"{arn} cannot be read (AccessDeniedException)" in problem


def test_each_member_account_is_checked_through_its_own_client_and_a_refused_one_said(account: Account) -> None:
    create_logging_trail(account.session, REGION)
    member = "444455556666"

    def cloudtrail_in(which: str, region: str) -> Any:
        if which == member:
            raise PermissionError("AccessDenied: iamwarden-snapshot-reader")
        return _cloudtrail(account, region)

    coverage = TrailCoverage(HOME_ACCOUNT, REGION, cloudtrail_in, lambda: {member, HOME_ACCOUNT})
    [problem] = coverage.problems()
    assert problem.startswith(f"the trails of {member} cannot be checked: its snapshot role cannot be used")

    def unreadable() -> set[str]:
        raise RuntimeError("ParameterNotFound")

    [problem] = TrailCoverage(HOME_ACCOUNT, REGION, cloudtrail_in, unreadable).problems()
    assert problem.startswith("the managed accounts cannot be read (ParameterNotFound)")


def test_the_deployed_heartbeat_reports_a_stopped_trail_of_its_own_account(account: Account) -> None:
    from iamwarden.app.heartbeat import build_heartbeat
    from tests.functional.test_heartbeat_member_snapshots import _environment

    arn = create_logging_trail(account.session, REGION)
    heartbeat = build_heartbeat(account.session, _environment(account))
    assert heartbeat.trail_coverage is not None
    assert heartbeat.trail_coverage.problems() == []
    _cloudtrail(account).stop_logging(Name=arn)
    [problem] = heartbeat.trail_coverage.problems()
    assert f"{arn} is not logging" in problem
