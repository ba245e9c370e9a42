"""Two enforcer containers on one account: a change judged by one is not hidden from the other by its cache.

EventBridge spreads events over containers; an ``AttachRolePolicy`` that made a role admin may go to container B
while container A still holds the role as it was. A judges the next event only on answers read after that event
happened (review s10 finding 9).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from iamwarden.adapters.principals import LiveRoleDirectory
from tests.functional.test_live_directory_resources import Sessions

ADMIN = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


class Clock:
    """Both clocks a container has: ``monotonic`` for its cache, ``wall`` for events' times (UTC epoch)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)

    def monotonic(self) -> float:
        return self.now.timestamp() - 1_000_000.0  # another origin, as time.monotonic has

    def wall(self) -> float:
        return self.now.timestamp()

    def pass_seconds(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def session(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.Session]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield boto3.Session(region_name="us-east-1")


def _event(name: str, at: datetime | None, **request: Any) -> dict[str, Any]:
    detail: dict[str, Any] = {"eventSource": "iam.amazonaws.com", "eventName": name, "requestParameters": request}
    if at is not None:
        detail["eventTime"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"account": "123456789012", "detail": detail}


def _sources(directory: LiveRoleDirectory, arn: str) -> list[str]:
    found = directory.principal(arn)
    assert found is not None
    return [policy.source for policy in found.policies]


def test_an_answer_read_before_the_judged_event_happened_is_read_again(session: boto3.Session) -> None:
    iam = session.client("iam")
    role = iam.create_role(RoleName="deploy", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    admin = iam.create_policy(PolicyName="admin", PolicyDocument=ADMIN)["Policy"]["Arn"]
    clock = Clock()
    a, b = (LiveRoleDirectory(Sessions(session), clock=clock.monotonic, wall=clock.wall) for _ in range(2))
    assert _sources(a, role) == _sources(b, role) == []

    clock.pass_seconds(30)
    iam.attach_role_policy(RoleName="deploy", PolicyArn=admin)
    b.observe(_event("AttachRolePolicy", clock.now, roleName="deploy", policyArn=admin))  # B judges the attach
    clock.pass_seconds(20)
    # Then a PassRole grant on deploy, made 20 s after the attach, reaches container A (60 s later).
    a.observe(_event("PutUserPolicy", clock.now, userName="ci", policyName="pass"))
    clock.pass_seconds(60)

    assert _sources(a, role) == [admin]
    assert _sources(b, role) == [admin]


def test_an_answer_read_after_the_judged_event_happened_is_used(session: boto3.Session) -> None:
    """A burst still hits the cache: what was read while judging one event is younger than the next one."""
    iam = session.client("iam")
    role = iam.create_role(RoleName="deploy", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    clock = Clock()
    happened = clock.now
    directory = LiveRoleDirectory(Sessions(session), clock=clock.monotonic, wall=clock.wall)
    clock.pass_seconds(40)  # the event arrives 40 s after it happened
    directory.observe(_event("PutUserPolicy", happened, userName="ci", policyName="one"))
    assert _sources(directory, role) == []
    admin = iam.create_policy(PolicyName="admin", PolicyDocument=ADMIN)["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="deploy", PolicyArn=admin)  # no event of it reaches this container (yet)

    # The burst's next event happened before the first one's judgement read the role: the cached answer holds.
    directory.observe(_event("PutUserPolicy", happened + timedelta(seconds=5), userName="ci", policyName="two"))
    assert _sources(directory, role) == []


def test_an_event_without_a_readable_time_uses_nothing_read_before_it_arrived(session: boto3.Session) -> None:
    iam = session.client("iam")
    role = iam.create_role(RoleName="deploy", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    clock = Clock()
    directory = LiveRoleDirectory(Sessions(session), clock=clock.monotonic, wall=clock.wall)
    assert _sources(directory, role) == []
    admin = iam.create_policy(PolicyName="admin", PolicyDocument=ADMIN)["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="deploy", PolicyArn=admin)
    clock.pass_seconds(1)
    directory.observe(_event("PutUserPolicy", None, userName="ci", policyName="pass"))
    assert _sources(directory, role) == [admin]


def test_an_event_dated_later_than_the_clock_reads_once_and_then_uses_what_it_read(session: boto3.Session) -> None:
    """A container's clock behind CloudTrail's: nothing read before is used, but what this judgement reads is."""
    iam = session.client("iam")
    role = iam.create_role(RoleName="deploy", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    clock = Clock()
    calls: list[str] = []
    session.events.register("before-call.iam.*", lambda model, **_: calls.append(model.name))
    directory = LiveRoleDirectory(Sessions(session), clock=clock.monotonic, wall=clock.wall)
    directory.observe(_event("PutUserPolicy", clock.now + timedelta(seconds=90), userName="ci", policyName="p"))
    assert _sources(directory, role) == []
    reads = len(calls)
    assert reads > 0
    assert _sources(directory, role) == []
    assert len(calls) == reads
