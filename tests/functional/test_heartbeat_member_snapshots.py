"""The heartbeat snapshots the managed member accounts' trails and boundaries too (moto, two member accounts).

Restores in a member account read the snapshot keyed by that account's ARN; the heartbeat takes it through the
member stack's read-only snapshot role, for the accounts the ``managed_accounts`` setting lists, at most
``MEMBER_ACCOUNTS_PER_RUN`` a run, and an account it cannot reach is one problem in its alert, never a failed run.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from iamwarden.adapters.recorded import AuditRecorded
from iamwarden.app.heartbeat import (
    IAM_REGION,
    STACK_ROLE_ID_RULE,
    Heartbeat,
    MemberForwarding,
    MemberSnapshots,
    build_heartbeat,
)
from iamwarden.domain.declared_content import ANY_ROLE_ID, declared_forwarder_role
from iamwarden.domain.exceptions import ConfigurationError
from iamwarden.domain.own import OwnIdentity
from iamwarden.domain.recorded import BOUNDARY, CONFIG_RECORDER, GUARDDUTY_DETECTOR, OWN_ROLE, TRAIL
from tests.aws_fixtures import HOME_ACCOUNT, REGION
from tests.functional.conftest import Account
from tests.member_patterns import member_instance, with_role_ids

MEMBER_A = "444455556666"
MEMBER_B = "777788889999"
SNAPSHOT_ROLE = "iamwarden-snapshot-reader"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": []})


def _environment(account: Account) -> dict[str, str]:
    return {
        "IAMWARDEN_OWN_RULES": "iamwarden-heartbeat",
        "IAMWARDEN_ENFORCER_ARN": f"arn:aws:lambda:{REGION}:{HOME_ACCOUNT}:function:iamwarden-enforcer",
        "IAMWARDEN_CENTRAL_BUS_ARN": f"arn:aws:events:{REGION}:{HOME_ACCOUNT}:event-bus/iamwarden-central",
        "IAMWARDEN_ENFORCER_ROLE_NAME": "iamwarden-enforcer",
        "IAMWARDEN_ALERT_TOPIC_ARN": f"arn:aws:sns:{REGION}:{HOME_ACCOUNT}:iamwarden-alerts",
        "IAMWARDEN_AUDIT_TABLE": account.config.audit_table,
        "IAMWARDEN_HOME_ACCOUNT": HOME_ACCOUNT,
        "AWS_REGION": REGION,
        "IAMWARDEN_SNAPSHOT_ROLE_NAME": SNAPSHOT_ROLE,
        "IAMWARDEN_SETTINGS_PREFIX": account.config.settings_prefix,
    }


class _Whole(Heartbeat):
    """The real heartbeat with its loop checks answered whole: this file is about the snapshots."""

    def problems(self) -> list[str]:
        return []


class _Topic:
    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, **request: Any) -> None:
        self.published.append(request)


def _member(account: Account, member: str) -> boto3.Session:
    """Credentials in ``member``, as moto issues them for a cross-account assumed role."""
    answer = account.session.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{member}:role/{SNAPSHOT_ROLE}", RoleSessionName="setup"
    )
    credentials = answer["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )


def _trail_and_boundary(session: boto3.Session, member: str) -> str:
    """A logging trail and a role with a boundary in ``member``; returns the boundary's ARN."""
    session.client("s3").create_bucket(Bucket=f"trail-logs-{member}")
    cloudtrail = session.client("cloudtrail")
    cloudtrail.create_trail(Name="org-audit", S3BucketName=f"trail-logs-{member}", IsMultiRegionTrail=True)
    cloudtrail.start_logging(Name="org-audit")
    iam = session.client("iam")
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    boundary = str(iam.create_policy(PolicyName="bound", PolicyDocument=json.dumps(document))["Policy"]["Arn"])
    iam.create_role(RoleName="team-deployer", AssumeRolePolicyDocument=TRUST, PermissionsBoundary=boundary)
    return boundary


CENTRAL_BUS = f"arn:aws:events:{REGION}:{HOME_ACCOUNT}:event-bus/iamwarden-central"
FORWARDING_ROLES = {"remediator": "iamwarden-remediator", "pruner-member": "iamwarden-pruner-member"}


def create_member_forwarder_role(iam: Any, member: str) -> str:
    """The member forwarder role in ``member`` (``iam`` acts there), as the member template declares it; its name."""
    own = OwnIdentity(home_account=HOME_ACCOUNT, home_region=REGION)
    declared_role = declared_forwarder_role("member-forwarder", own, "aws", REGION, member)
    assert declared_role is not None
    name = f"iamwarden-member-forwarder-{REGION}"
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(declared_role.trust))
    for policy, document in declared_role.inline.items():
        iam.put_role_policy(RoleName=name, PolicyName=policy, PolicyDocument=json.dumps(document))
    return name


def create_member_forwarding(events: Any, member: str, iam: Any) -> Any:
    """The member stack's four forwarding rules and its forwarder role in ``member`` (``events`` and ``iam`` act
    there), as the member template declares them; the events client."""
    create_member_forwarder_role(iam, member)
    forwarding = MemberForwarding(CENTRAL_BUS, REGION, HOME_ACCOUNT, FORWARDING_ROLES)
    try:  # the member stack's roles, where they exist: their RoleIds are in the patterns as the stack puts them
        role_ids = tuple(iam.get_role(RoleName=name)["Role"]["RoleId"] for name in FORWARDING_ROLES.values())
    except iam.exceptions.NoSuchEntityException:
        role_ids = ()
    for rule in forwarding.rules():
        pattern = member_instance(forwarding.declared_pattern(rule, member, "aws"))
        pattern = with_role_ids(pattern, role_ids) if role_ids else pattern
        events.put_rule(Name=rule, EventPattern=json.dumps(pattern), State="ENABLED")
        role = f"arn:aws:iam::{member}:role/iamwarden-member-forwarder-{REGION}"
        events.put_targets(Rule=rule, Targets=[{"Id": "central-bus", "Arn": CENTRAL_BUS, "RoleArn": role}])
    return events


def _member_forwarding(account: Account, member: str) -> Any:
    """``create_member_forwarding`` in ``member``, acting there; its events client."""
    session = _member(account, member)
    return create_member_forwarding(session.client("events"), member, session.client("iam"))


def _heartbeat(account: Account, topic: _Topic) -> Heartbeat:
    built = build_heartbeat(account.session, _environment(account))
    assert built.member_snapshots is not None, "a snapshot role and a settings prefix: members are snapshotted"
    return _Whole(
        built.config, None, None, built.iam, topic, snapshots=built.snapshots, member_snapshots=built.member_snapshots
    )


def test_each_run_snapshots_the_trails_and_boundaries_of_every_managed_member_account(account: Account) -> None:
    account.set("managed_accounts", f"{HOME_ACCOUNT},{MEMBER_A},{MEMBER_B}")
    boundaries = {member: _trail_and_boundary(_member(account, member), member) for member in (MEMBER_A, MEMBER_B)}
    for member in (MEMBER_A, MEMBER_B):
        _member_forwarding(account, member)
    topic = _Topic()

    result = _heartbeat(account, topic).run()

    assert result["whole"] is True, result["problems"]
    assert topic.published == []
    recorded = AuditRecorded(account.audit(), account.dynamodb)
    for member, boundary in boundaries.items():
        trail = recorded.snapshot(TRAIL, f"arn:aws:cloudtrail:{REGION}:{member}:trail/org-audit")
        assert trail is not None, member
        assert trail.data["logging"] is True
        role = recorded.snapshot(BOUNDARY, f"arn:aws:iam::{member}:role/team-deployer")
        assert role is not None
        assert role.data == {"boundary_arn": boundary}


def test_each_run_snapshots_a_member_accounts_guardduty_detector_and_config_recorder(account: Account) -> None:
    """Issue 15 item 3: a deleted detector or recorder in a member account is re-created from the snapshot the
    heartbeat took there through the snapshot role, keyed by that account's ARNs."""
    account.set("managed_accounts", f"{HOME_ACCOUNT},{MEMBER_A}")
    session = _member(account, MEMBER_A)
    _member_forwarding(account, MEMBER_A)
    detector = session.client("guardduty").create_detector(Enable=True, FindingPublishingFrequency="ONE_HOUR")
    session.client("s3").create_bucket(Bucket=f"config-{MEMBER_A}")
    config = session.client("config")
    role = f"arn:aws:iam::{MEMBER_A}:role/config-recorder"
    config.put_configuration_recorder(ConfigurationRecorder={"name": "default", "roleARN": role})
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": f"config-{MEMBER_A}"})
    config.start_configuration_recorder(ConfigurationRecorderName="default")

    result = _heartbeat(account, _Topic()).run()

    assert result["whole"] is True, result["problems"]
    recorded = AuditRecorded(account.audit(), account.dynamodb)
    kept = recorded.snapshot(
        GUARDDUTY_DETECTOR, f"arn:aws:guardduty:{REGION}:{MEMBER_A}:detector/{detector['DetectorId']}"
    )
    assert kept is not None
    assert kept.data["finding_publishing_frequency"] == "ONE_HOUR"
    recorder = recorded.snapshot(CONFIG_RECORDER, f"arn:aws:config:{REGION}:{MEMBER_A}:configuration-recorder/default")
    assert recorder is not None
    assert recorder.data["recorder"]["roleARN"] == role


def test_an_account_that_cannot_be_reached_is_alerted_and_the_others_are_still_taken(account: Account) -> None:
    boundary = _trail_and_boundary(_member(account, MEMBER_A), MEMBER_A)
    store = AuditRecorded(account.audit(), account.dynamodb)

    def clients(member: str) -> tuple[Any, Any]:
        if member == MEMBER_B:
            raise RuntimeError("cannot assume arn:aws:iam::777788889999:role/iamwarden-snapshot-reader: AccessDenied")
        session = _member(account, member)
        return session.client("cloudtrail"), session.client("iam")

    members = MemberSnapshots(
        store, lambda: {MEMBER_A, MEMBER_B}, clients, home_account=HOME_ACCOUNT, region=REGION, clock=lambda: "t"
    )
    topic = _Topic()

    config = build_heartbeat(account.session, _environment(account)).config
    result = _Whole(config, None, None, None, topic, member_snapshots=members).run()

    assert result["whole"] is False
    [problem] = result["problems"]
    assert MEMBER_B in problem
    assert "AccessDenied" in problem
    [alert] = topic.published
    assert problem in alert["Message"]
    role = store.snapshot(BOUNDARY, f"arn:aws:iam::{MEMBER_A}:role/team-deployer")
    assert role is not None
    assert role.data == {"boundary_arn": boundary}


class _Store:
    def put_all(self, snapshots: Any) -> int:
        return len(list(snapshots))


def test_at_most_the_cap_a_run_and_every_account_in_turn() -> None:
    accounts = [f"{n:012d}" for n in range(1, 6)] + [HOME_ACCOUNT]
    turn = [0]
    members = MemberSnapshots(
        _Store(), lambda: accounts, lambda _: (None, None), home_account=HOME_ACCOUNT, region=REGION, per_run=2,
        turn=lambda: turn[0],
    )  # fmt: skip

    taken = []
    for turn[0] in range(3):
        chosen = members.chosen(accounts)
        assert len(chosen) == 2
        taken += chosen

    assert set(taken) == set(accounts) - {HOME_ACCOUNT}, "three runs reach all five member accounts"


def test_the_security_account_is_not_taken_twice_and_few_accounts_are_all_taken() -> None:
    members = MemberSnapshots(_Store(), list, lambda _: (None, None), home_account=HOME_ACCOUNT, region=REGION)

    assert members.chosen([HOME_ACCOUNT, MEMBER_B, MEMBER_A]) == [MEMBER_A, MEMBER_B]


def test_managed_accounts_that_cannot_be_read_are_one_problem() -> None:
    def unreadable() -> list[str]:
        raise RuntimeError("SSM is throttling")

    members = MemberSnapshots(_Store(), unreadable, lambda _: (None, None), home_account=HOME_ACCOUNT, region=REGION)

    assert members.refresh() == (
        0,
        ["the managed accounts cannot be read (SSM is throttling): no member account's snapshots"],
    )


def test_no_managed_accounts_setting_takes_no_member_account(account: Account) -> None:
    topic = _Topic()

    result = _heartbeat(account, topic).run()

    assert result["whole"] is True
    assert topic.published == []


@pytest.mark.parametrize("missing", ["IAMWARDEN_SNAPSHOT_ROLE_NAME", "IAMWARDEN_SETTINGS_PREFIX"])
def test_without_a_snapshot_role_or_settings_no_member_account_is_snapshotted(account: Account, missing: str) -> None:
    environment = {k: v for k, v in _environment(account).items() if k != missing}

    assert build_heartbeat(account.session, environment).member_snapshots is None


def test_accounts_not_reached_within_the_time_budget_wait_for_a_later_run_without_an_alert() -> None:
    ticks = iter([0.0, 0.0, 9.0, 16.0])  # start, before the first, before the second, before the third account
    taken: list[str] = []

    def clients(member: str) -> tuple[Any, Any]:
        taken.append(member)
        raise RuntimeError("unreachable")  # each account taken is a problem; the deferred one is not

    members = MemberSnapshots(
        _Store(), lambda: ["000000000001", "000000000002", "000000000003"], clients, home_account=HOME_ACCOUNT,
        region=REGION, budget_seconds=15.0, monotonic=lambda: next(ticks),
    )  # fmt: skip

    stored, problems = members.refresh()
    assert stored == 0

    assert taken == ["000000000001", "000000000002"]
    assert members.deferred == ["000000000003"]
    assert len(problems) == 2
    assert not any("000000000003" in problem for problem in problems)


# --- the member stack's own roles ---------------------------------------------------------------------------

MEMBER_ROLES = ("iamwarden-remediator", "iamwarden-pruner-member", "iamwarden-snapshot-reader")
CONTEXT = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*"}]}


def _member_stack_roles(session: boto3.Session) -> None:
    iam = session.client("iam")
    for role in MEMBER_ROLES:
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST)
        iam.put_role_policy(RoleName=role, PolicyName="context", PolicyDocument=json.dumps(CONTEXT))


def test_the_member_stacks_roles_are_snapshotted_in_each_member_keyed_by_its_own_arn(account: Account) -> None:
    account.set("managed_accounts", f"{MEMBER_A},{MEMBER_B}")
    for member in (MEMBER_A, MEMBER_B):
        _member_stack_roles(_member(account, member))
        _member_forwarding(account, member)
    names = "remediator=iamwarden-remediator,pruner-member=iamwarden-pruner-member,snapshot-reader=" + MEMBER_ROLES[2]
    environment = {**_environment(account), "IAMWARDEN_MEMBER_ROLE_NAMES": names}
    built = build_heartbeat(account.session, environment)
    assert built.member_snapshots is not None
    assert built.member_snapshots.own_roles == MEMBER_ROLES

    result = _Whole(built.config, None, None, built.iam, _Topic(), member_snapshots=built.member_snapshots).run()

    assert result["whole"] is True, result["problems"]
    recorded = AuditRecorded(account.audit(), account.dynamodb)
    for member in (MEMBER_A, MEMBER_B):
        for role in MEMBER_ROLES:
            snapshot = recorded.snapshot(OWN_ROLE, f"arn:aws:iam::{member}:role/{role}")
            assert snapshot is not None, (member, role)
            data = dict(snapshot.data)
            assert data.pop("role_id").startswith("AROA"), (member, role)
            assert data == {"trust_policy": json.loads(TRUST), "inline": {"context": CONTEXT}}


def test_a_bad_member_role_names_setting_is_a_configuration_error(account: Account) -> None:
    environment = {**_environment(account), "IAMWARDEN_MEMBER_ROLE_NAMES": "remediator"}

    with pytest.raises(ConfigurationError, match="IAMWARDEN_MEMBER_ROLE_NAMES"):
        build_heartbeat(account.session, environment)


def test_a_failed_own_role_refresh_in_a_member_is_one_problem_and_the_earlier_snapshot_is_kept(
    account: Account,
) -> None:
    session = _member(account, MEMBER_A)
    _member_stack_roles(session)
    _trail_and_boundary(session, MEMBER_A)
    store = AuditRecorded(account.audit(), account.dynamodb)
    denied = [False]

    def clients(member: str) -> tuple[Any, Any]:
        iam = _member(account, member).client("iam")

        def refuse(**_: Any) -> None:
            if denied[0]:
                raise ClientError({"Error": {"Code": "AccessDenied", "Message": "explicit deny"}}, "GetRolePolicy")

        iam.meta.events.register("before-call.iam.GetRolePolicy", refuse)
        return _member(account, member).client("cloudtrail"), iam

    now = ["t1"]  # each run's reads are dated by this clock, whenever in the run they end
    members = MemberSnapshots(
        store, lambda: {MEMBER_A}, clients, home_account=HOME_ACCOUNT, region=REGION, own_roles=MEMBER_ROLES,
        clock=lambda: now[0],
    )  # fmt: skip
    config = build_heartbeat(account.session, _environment(account)).config
    assert _Whole(config, None, None, None, _Topic(), member_snapshots=members).run()["whole"] is True
    session.client("iam").put_role_policy(
        RoleName="iamwarden-remediator",
        PolicyName="context",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
        ),
    )
    denied[0] = True
    now[0] = "t2"
    topic = _Topic()

    result = _Whole(config, None, None, None, topic, member_snapshots=members).run()

    assert result["whole"] is False
    [problem] = result["problems"]
    assert f"own roles of {MEMBER_A}" in problem
    assert "AccessDenied" in problem
    [alert] = topic.published
    assert problem in alert["Message"]
    kept = store.snapshot(OWN_ROLE, f"arn:aws:iam::{MEMBER_A}:role/iamwarden-remediator")
    assert kept is not None
    assert kept.taken_at == "t1"
    assert kept.data["inline"] == {"context": CONTEXT}, "the earlier snapshot, not the changed policy"
    trail = store.snapshot(TRAIL, f"arn:aws:cloudtrail:{REGION}:{MEMBER_A}:trail/org-audit")
    assert trail is not None
    assert trail.taken_at == "t2", "the other kinds are still refreshed"


# --- the member accounts' forwarding rules ----------------------------------------------------------------------


def _forwarding_problems(account: Account) -> list[str]:
    """The whole heartbeat, as built from the environment, with MEMBER_A managed: its problems."""
    account.set("managed_accounts", f"{HOME_ACCOUNT},{MEMBER_A}")
    result = _heartbeat(account, _Topic()).run()
    problems: list[str] = result["problems"]
    return problems


def test_member_forwarding_as_declared_is_whole(account: Account) -> None:
    _member_forwarding(account, MEMBER_A)

    assert _forwarding_problems(account) == []


def test_each_member_forwarding_problem_is_alerted_with_the_stack_set_command(account: Account) -> None:
    events = _member_forwarding(account, MEMBER_A)
    events.disable_rule(Name="iamwarden-forward-guard-a")
    events.put_rule(Name="iamwarden-forward-s3", EventPattern=json.dumps({"source": ["aws.nothing"]}), State="ENABLED")
    role = f"arn:aws:iam::{MEMBER_A}:role/iamwarden-member-forwarder-{REGION}"
    events.put_targets(
        Rule="iamwarden-forward-guard-b",
        Targets=[{"Id": "central-bus", "Arn": CENTRAL_BUS, "RoleArn": role, "Input": '{"quiet": true}'}],
    )
    events.remove_targets(Rule="iamwarden-forward-iam", Ids=["central-bus"])
    events.put_targets(
        Rule="iamwarden-forward-iam",
        Targets=[
            {"Id": "elsewhere", "Arn": f"arn:aws:events:{REGION}:999988887777:event-bus/default", "RoleArn": role}
        ],
    )

    problems = _forwarding_problems(account)

    expected = [
        "iamwarden-forward-guard-a is disabled",
        "iamwarden-forward-s3 has another pattern than the member template declares",
        "iamwarden-forward-guard-b passes Input instead of the event",
        "iamwarden-forward-iam no longer targets the central bus",
        "iamwarden-forward-iam also targets arn:aws:events:us-east-1:999988887777:event-bus/default",
    ]
    for text in expected:
        [problem] = [p for p in problems if text in p]
        assert f"in member account {MEMBER_A}" in problem
        assert "update-stack-instances --stack-set-name" in problem
        assert f"--accounts {MEMBER_A} --regions {REGION}" in problem
    assert len(problems) == len(expected)


def test_a_deleted_forwarding_rule_or_another_role_is_a_problem(account: Account) -> None:
    events = _member_forwarding(account, MEMBER_A)
    events.remove_targets(Rule="iamwarden-forward-guard-b", Ids=["central-bus"])
    events.delete_rule(Name="iamwarden-forward-guard-b")
    events.put_targets(
        Rule="iamwarden-forward-s3",
        Targets=[{"Id": "central-bus", "Arn": CENTRAL_BUS, "RoleArn": f"arn:aws:iam::{MEMBER_A}:role/intruder"}],
    )

    problems = _forwarding_problems(account)

    assert [p for p in problems if "iamwarden-forward-guard-b is gone" in p]
    assert [p for p in problems if f"forwards through arn:aws:iam::{MEMBER_A}:role/intruder" in p]
    assert len(problems) == 2


def test_forwarding_that_cannot_be_read_is_one_problem_and_the_snapshots_are_still_taken(account: Account) -> None:
    boundary = _trail_and_boundary(_member(account, MEMBER_A), MEMBER_A)
    create_member_forwarder_role(_member(account, MEMBER_A).client("iam"), MEMBER_A)
    store = AuditRecorded(account.audit(), account.dynamodb)

    def clients(member: str) -> tuple[Any, Any]:
        session = _member(account, member)
        return session.client("cloudtrail"), session.client("iam")

    def events_in(member: str) -> Any:
        raise RuntimeError("AccessDenied: events:DescribeRule")

    members = MemberSnapshots(
        store,
        lambda: {MEMBER_A},
        clients,
        home_account=HOME_ACCOUNT,
        region=REGION,
        forwarding=MemberForwarding(CENTRAL_BUS, REGION, HOME_ACCOUNT, FORWARDING_ROLES),
        events_in=events_in,
    )

    _, problems = members.refresh()

    [problem] = problems
    assert "forwarding rules of member account 444455556666 cannot be checked" in problem
    assert "AccessDenied" in problem
    assert store.snapshot(BOUNDARY, f"arn:aws:iam::{MEMBER_A}:role/team-deployer") is not None
    assert boundary


def test_the_iam_forwarder_is_expected_only_where_iams_events_arrive() -> None:
    assert "iamwarden-forward-iam" in MemberForwarding(CENTRAL_BUS, "us-east-1", HOME_ACCOUNT, {}).rules()
    assert "iamwarden-forward-iam" not in MemberForwarding(CENTRAL_BUS, "eu-west-1", HOME_ACCOUNT, {}).rules()


def test_the_member_patterns_exclude_the_roles_by_role_id_and_name_the_stack_set_instance() -> None:
    """The forwarders exclude the member roles' sessions by RoleId (any role id: each instance has its own) where
    the instance holds the roles, by the configured names elsewhere; the guard rules name the member StackSet's
    instance by the configured StackSet or the default."""
    configured = MemberForwarding(
        CENTRAL_BUS, "us-east-1", HOME_ACCOUNT, {"remediator": "team-remediator"}, stack_set_name="team-guard"
    )
    pattern = configured.declared_pattern("iamwarden-forward-iam", MEMBER_A, "aws")
    assert f"{ANY_ROLE_ID}:iamwarden" in json.dumps(pattern)
    assert "assumed-role" not in json.dumps(member_instance(pattern, holds_roles=True))
    elsewhere = json.dumps(member_instance(pattern, holds_roles=False))
    assert f"arn:aws:sts::{MEMBER_A}:assumed-role/team-remediator/iamwarden" in elsewhere
    assert f"arn:aws:sts::{MEMBER_A}:assumed-role/iamwarden-pruner-member/iamwarden" in elsewhere
    guard = json.dumps(configured.declared_pattern("iamwarden-forward-guard-a", MEMBER_A, "aws-us-gov"))
    assert f"arn:aws-us-gov:cloudformation:us-east-1:{MEMBER_A}:stack/StackSet-team-guard-" in guard
    unconfigured = MemberForwarding(CENTRAL_BUS, "us-east-1", HOME_ACCOUNT, {})
    text = json.dumps(unconfigured.declared_pattern("iamwarden-forward-guard-b", MEMBER_A, "aws"))
    assert '"StackSet-iamwarden-member-"' in text
    assert "${" not in text


# --- the member forwarder role and the forwarding failures (audit s7 gap 17) --------------------------------------

FORWARDER = f"iamwarden-member-forwarder-{REGION}"
DENY_PUT_EVENTS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Deny", "Action": "events:PutEvents", "Resource": "*"}],
}


def _forwarder_problems(problems: list[str]) -> list[str]:
    return [problem for problem in problems if f"the forwarder role {FORWARDER}" in problem]


def test_a_deny_added_to_the_member_forwarder_role_is_a_problem_with_the_stack_set_command(account: Account) -> None:
    _member_forwarding(account, MEMBER_A)
    iam = _member(account, MEMBER_A).client("iam")
    iam.put_role_policy(RoleName=FORWARDER, PolicyName="quiet", PolicyDocument=json.dumps(DENY_PUT_EVENTS))

    [problem] = _forwarding_problems(account)

    assert problem.startswith(f"in member account {MEMBER_A}, the forwarder role {FORWARDER} has inline policies")
    assert "(quiet)" in problem
    assert "no longer put events on the central bus" in problem
    assert f"--accounts {MEMBER_A} --regions {REGION}" in problem


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("trust", "another trust policy"),
        ("inline", "another document in its inline policy forward-to-central-bus"),
        ("deleted", "no inline policy forward-to-central-bus"),
        ("attached", "managed policies its template does not attach (arn:aws:iam::aws:policy/ReadOnlyAccess)"),
        ("boundary", "the permissions boundary arn:aws:iam::aws:policy/ReadOnlyAccess"),
        ("gone", "is gone: no event reaches the central bus through it"),
    ],
)
def test_each_change_to_the_member_forwarder_role_is_a_problem(account: Account, change: str, expected: str) -> None:
    _member_forwarding(account, MEMBER_A)
    iam = _member(account, MEMBER_A).client("iam")
    policy = "forward-to-central-bus"
    readonly = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    if change == "trust":  # EventBridge refused: nothing it puts reaches the central bus
        statement = {"Effect": "Deny", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sts:AssumeRole"}
        trust = {"Version": "2012-10-17", "Statement": [statement]}
        iam.update_assume_role_policy(RoleName=FORWARDER, PolicyDocument=json.dumps(trust))
    elif change == "inline":
        iam.put_role_policy(RoleName=FORWARDER, PolicyName=policy, PolicyDocument=json.dumps(DENY_PUT_EVENTS))
    elif change in ("deleted", "gone"):
        iam.delete_role_policy(RoleName=FORWARDER, PolicyName=policy)
        if change == "gone":
            iam.delete_role(RoleName=FORWARDER)
    elif change == "attached":
        iam.attach_role_policy(RoleName=FORWARDER, PolicyArn=readonly)
    else:
        iam.put_role_permissions_boundary(RoleName=FORWARDER, PermissionsBoundary=readonly)

    [problem] = _forwarder_problems(_forwarding_problems(account))

    assert expected in problem


def test_a_forwarder_role_that_cannot_be_read_is_a_problem_not_silence() -> None:
    class Refusing:
        def get_role(self, **_: Any) -> Any:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetRole")

    forwarding = MemberForwarding(CENTRAL_BUS, REGION, HOME_ACCOUNT, FORWARDING_ROLES)

    [problem] = forwarding.path_problems(MEMBER_A, Refusing(), None, datetime.now(UTC))

    assert problem == (
        f"in member account {MEMBER_A}, the forwarder role {FORWARDER} cannot be read (AccessDenied): whether events "
        "still reach the central bus through it is not known"
    )


def _failed_invocations(session: boto3.Session, rule: str, count: float) -> None:
    """``count`` failed invocations of ``rule`` a minute ago, as EventBridge reports them (moto stores any
    namespace's data)."""
    session.client("cloudwatch").put_metric_data(
        Namespace="AWS/Events",
        MetricData=[
            {
                "MetricName": "FailedInvocations",
                "Dimensions": [{"Name": "RuleName", "Value": rule}],
                "Timestamp": datetime.now(UTC) - timedelta(minutes=1),
                "Value": count,
                "Unit": "Count",
            }
        ],
    )


def test_failed_invocations_of_a_member_forwarding_rule_are_a_problem(account: Account) -> None:
    _member_forwarding(account, MEMBER_A)
    _failed_invocations(_member(account, MEMBER_A), "iamwarden-forward-iam", 3)

    [problem] = _forwarding_problems(account)

    assert problem.startswith(
        f"the forwarding rule iamwarden-forward-iam of account {MEMBER_A} failed 3 invocation(s) in the last 10 "
        f"minutes: events from account {MEMBER_A} are failing to reach the central bus"
    )


def test_no_failed_invocations_or_zero_is_no_problem_and_another_accounts_are_not_this_ones(account: Account) -> None:
    _member_forwarding(account, MEMBER_A)
    _failed_invocations(_member(account, MEMBER_A), "iamwarden-forward-s3", 0)
    _failed_invocations(_member(account, MEMBER_B), "iamwarden-forward-s3", 5)  # not managed here

    assert _forwarding_problems(account) == []


def test_forwarding_failures_that_cannot_be_read_are_a_problem_not_silence(account: Account) -> None:
    class Refused:
        def get_paginator(self, _: str) -> Any:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetMetricData")

    forwarding = MemberForwarding(CENTRAL_BUS, REGION, HOME_ACCOUNT, FORWARDING_ROLES)
    _member_forwarding(account, MEMBER_A)

    problems = forwarding.path_problems(
        MEMBER_A, _member(account, MEMBER_A).client("iam"), Refused(), datetime.now(UTC)
    )

    assert problems == [
        f"the forwarding failures of account {MEMBER_A} cannot be read (AccessDenied): whether its events reach the "
        "central bus is not known"
    ]


def test_a_member_forwarder_excluding_the_roles_by_name_again_is_another_pattern(account: Account) -> None:
    """The exclusion by name (before audit s8 finding 3) lets a re-created look-alike's calls go unforwarded: a
    forwarder put back to it differs from the member template. The heartbeat says so."""
    member = _member(account, MEMBER_A)
    events = create_member_forwarding(member.client("events"), MEMBER_A, member.client("iam"))
    forwarding = MemberForwarding(CENTRAL_BUS, REGION, HOME_ACCOUNT, FORWARDING_ROLES)
    pattern = member_instance(forwarding.declared_pattern("iamwarden-forward-iam", MEMBER_A, "aws"))
    by_name = f"arn:aws:sts::{MEMBER_A}:assumed-role/iamwarden-remediator/iamwarden"
    pattern["detail"]["userIdentity"] = {"arn": [{"anything-but": [by_name]}, {"exists": False}]}
    events.put_rule(Name="iamwarden-forward-iam", EventPattern=json.dumps(pattern), State="ENABLED")
    assert forwarding.problems(MEMBER_A, events) == [
        f"in member account {MEMBER_A}, the forwarding rule iamwarden-forward-iam has another pattern than the member "
        f"template declares ({forwarding.own.redeploy_command(MEMBER_A, REGION)})"
    ]
    # Another instance's RoleId is still the declared pattern (each instance's roles have their own).
    other = member_instance(forwarding.declared_pattern("iamwarden-forward-iam", MEMBER_A, "aws"))
    other["detail"]["userIdentity"]["principalId"][0]["anything-but"][0] = "AROAOTHERINSTANCE001:iamwarden"
    events.put_rule(Name="iamwarden-forward-iam", EventPattern=json.dumps(other), State="ENABLED")
    assert forwarding.problems(MEMBER_A, events) == []


# --- issue 15 item 2: a member role is the stack's only with the RoleId the stack's own rule names ------------------


def _member_roles_heartbeat(account: Account) -> Heartbeat:
    names = "remediator=iamwarden-remediator,pruner-member=iamwarden-pruner-member,snapshot-reader=" + MEMBER_ROLES[2]
    built = build_heartbeat(account.session, {**_environment(account), "IAMWARDEN_MEMBER_ROLE_NAMES": names})
    assert built.member_snapshots is not None
    return _Whole(built.config, None, None, built.iam, _Topic(), member_snapshots=built.member_snapshots)


def test_a_member_role_created_again_by_someone_else_before_its_first_read_is_never_taken_for_iam_wardens(
    account: Account,
) -> None:
    """The heartbeat never read the role before (no RoleId kept), so only the stack's own record tells: its IAM
    forwarding rule names the RoleId CloudFormation gave the role (``!GetAtt RemediationRole.RoleId``)."""
    account.set("managed_accounts", MEMBER_A)
    session = _member(account, MEMBER_A)
    _member_stack_roles(session)
    _member_forwarding(account, MEMBER_A)
    iam = session.client("iam")
    iam.delete_role_policy(RoleName="iamwarden-remediator", PolicyName="context")
    iam.delete_role(RoleName="iamwarden-remediator")
    iam.create_role(RoleName="iamwarden-remediator", AssumeRolePolicyDocument=TRUST)  # a look-alike
    look_alike = iam.get_role(RoleName="iamwarden-remediator")["Role"]["RoleId"]

    result = _member_roles_heartbeat(account).run()

    [problem] = [p for p in result["problems"] if "is not the one its member stack's forwarding rule" in p]
    assert problem.startswith(f"role arn:aws:iam::{MEMBER_A}:role/iamwarden-remediator (RoleId {look_alike})")
    assert "either the rule was edited (tampering) or the role was deleted and created again" in problem
    assert "Do not delete the role on this alone" in problem  # review s10 F4: never advise deleting a real role
    recorded = AuditRecorded(account.audit(), account.dynamodb)
    assert recorded.snapshot(OWN_ROLE, f"arn:aws:iam::{MEMBER_A}:role/iamwarden-remediator") is None
    kept = recorded.snapshot(OWN_ROLE, f"arn:aws:iam::{MEMBER_A}:role/iamwarden-pruner-member")
    assert kept is not None  # the stack's own role is snapshotted as before


def _swap_role_id(session: Any, rule: str, old: str, new: str) -> None:
    events = session.client("events", region_name=IAM_REGION)
    pattern = events.describe_rule(Name=rule)["EventPattern"]
    assert old in pattern
    events.put_rule(Name=rule, EventPattern=pattern.replace(old, new), State="ENABLED")


def test_a_rule_whose_role_ids_were_swapped_is_tampering_not_proof_against_the_real_role(account: Account) -> None:
    """Review s10 F4 (b): the member admin swaps the pruner's RoleId in the IAM rule for their own role's. The rule
    is checked both ways: the foreign RoleId is tampering, and the real pruner (the RoleId first read) is said to be
    left out by an edited rule, never "created again", and stays snapshotted."""
    account.set("managed_accounts", MEMBER_A)
    session = _member(account, MEMBER_A)
    _member_stack_roles(session)
    _member_forwarding(account, MEMBER_A)
    heartbeat = _member_roles_heartbeat(account)
    first = heartbeat.run()
    assert not [p for p in first["problems"] if STACK_ROLE_ID_RULE in p]
    iam = session.client("iam")
    pruner = iam.get_role(RoleName="iamwarden-pruner-member")["Role"]["RoleId"]
    evil = iam.create_role(RoleName="evil", AssumeRolePolicyDocument=TRUST)["Role"]["RoleId"]
    _swap_role_id(session, STACK_ROLE_ID_RULE, pruner, evil)

    result = heartbeat.run()

    [foreign] = [p for p in result["problems"] if "no current member role of IAM Warden's" in p]
    assert f"({evil})" in foreign
    assert "the rule was edited (tampering)" in foreign
    [edited] = [p for p in result["problems"] if "no longer names role" in p]
    assert f"role/iamwarden-pruner-member (RoleId {pruner}, the one IAM Warden first read" in edited
    assert not [p for p in result["problems"] if "created again" in p or "delete the role" in p]
    recorded = AuditRecorded(account.audit(), account.dynamodb)
    kept = recorded.snapshot(OWN_ROLE, f"arn:aws:iam::{MEMBER_A}:role/iamwarden-pruner-member")
    assert kept is not None
    assert kept.data.get("role_id") == pruner


def test_a_regional_rule_leaving_out_a_foreign_roles_sessions_is_tampering(account: Account) -> None:
    """Review s10 F4 (a): the member admin swaps the pruner's RoleId in ``iamwarden-forward-s3`` for their own
    role's, so that role's ``iamwarden`` sessions are no longer forwarded. The declared pattern takes any ``ARO…``
    id, so the RoleIds are compared with the member roles' as the heartbeat first read them."""
    account.set("managed_accounts", MEMBER_A)
    session = _member(account, MEMBER_A)
    _member_stack_roles(session)
    _member_forwarding(account, MEMBER_A)
    heartbeat = _member_roles_heartbeat(account)
    first = heartbeat.run()
    assert not [p for p in first["problems"] if "no member role of IAM Warden's" in p]
    iam = session.client("iam")
    pruner = iam.get_role(RoleName="iamwarden-pruner-member")["Role"]["RoleId"]
    evil = iam.create_role(RoleName="evil", AssumeRolePolicyDocument=TRUST)["Role"]["RoleId"]
    _swap_role_id(session, "iamwarden-forward-s3", pruner, evil)

    result = heartbeat.run()

    [problem] = [p for p in result["problems"] if "iamwarden-forward-s3" in p]
    assert problem.startswith(f"in member account {MEMBER_A}, the forwarding rule iamwarden-forward-s3 in ")
    assert f"no member role of IAM Warden's ({evil}): the rule was edited (tampering)" in problem


class _RuleRefused:
    """The member account's events client, refusing DescribeRule of the IAM forwarding rule only."""

    def __init__(self, events: Any) -> None:
        self.events = events

    def describe_rule(self, Name: str) -> Any:
        if Name == "iamwarden-forward-iam":
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "explicit deny"}}, "DescribeRule")
        return self.events.describe_rule(Name=Name)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.events, name)


def test_the_stacks_role_ids_that_cannot_be_read_are_said_and_the_first_read_decides_as_before(
    account: Account,
) -> None:
    account.set("managed_accounts", MEMBER_A)
    session = _member(account, MEMBER_A)
    _member_stack_roles(session)
    _member_forwarding(account, MEMBER_A)
    heartbeat = _member_roles_heartbeat(account)
    members = heartbeat.member_snapshots
    assert members is not None
    client_in = members.client_in
    assert client_in is not None

    def refusing(service: str, member: str, region: str) -> Any:
        client = client_in(service, member, region)
        return _RuleRefused(client) if service == "events" else client

    members.client_in = refusing

    result = heartbeat.run()

    [problem] = [p for p in result["problems"] if "the RoleIds its member stack gave its roles cannot be read" in p]
    assert "AccessDenied" in problem
    recorded = AuditRecorded(account.audit(), account.dynamodb)
    assert recorded.snapshot(OWN_ROLE, f"arn:aws:iam::{MEMBER_A}:role/iamwarden-remediator") is not None
