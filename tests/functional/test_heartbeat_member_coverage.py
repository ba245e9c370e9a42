"""The heartbeat watches every member (account, region) pair, in turn (issue 15 items 2 and 4; app.member_coverage).

moto: an organisation in the security account (its ``ListAccounts``), the member StackSet and its instances
(``ListStackInstances``), the member accounts' forwarding rules in several regions, reached through their snapshot
role (moto lets any role be assumed, so an unassumable one is a client that refuses), the audit table for the
cursor and the daily reports.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from iamwarden.app.heartbeat import MemberForwarding, MemberSnapshots, build_heartbeat
from iamwarden.app.member_coverage import (
    COVERAGE_KEY,
    LISTING_EVERY,
    CoverageState,
    MemberCoverage,
    Pair,
    Watched,
    stack_set_instances,
)
from iamwarden.domain.settings import Settings, parse_settings
from tests.aws_fixtures import HOME_ACCOUNT, REGION, resolve
from tests.functional.conftest import Account
from tests.functional.test_heartbeat_member_snapshots import (
    CENTRAL_BUS,
    FORWARDING_ROLES,
    _environment,
    _member,
    create_member_forwarding,
)

ORGANIZATION = "o-a1b2c3d4e5"
STACK_SET = "iamwarden-member"
OTHER_REGION = "eu-west-1"
ELSEWHERE = "eu-central-1"
TEMPLATE = json.dumps({"Resources": {"Nothing": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}})
#: moto deploys the StackSet's template in each instance and knows no WaitConditionHandle: the template does not matter.
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS")
START = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.at = START

    def __call__(self) -> datetime:
        return self.at


def _organization_account(account: Account) -> str:
    """An organisation managed from the security account, with one more ACTIVE account; that account's id."""
    organizations = account.session.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    created = organizations.create_account(AccountName="team", Email="team@example.com")
    return str(created["CreateAccountStatus"]["AccountId"])


def _stack_set(account: Account, instances: dict[str, list[str]]) -> None:
    """The member StackSet, administered here, with an instance in each account's regions."""
    cloudformation = account.session.client("cloudformation", region_name=REGION)
    cloudformation.create_stack_set(StackSetName=STACK_SET, TemplateBody=TEMPLATE)
    for member, regions in instances.items():
        cloudformation.create_stack_instances(StackSetName=STACK_SET, Accounts=[member], Regions=regions)


def _forwarding_in(account: Account, member: str, region: str) -> Any:
    """The member stack's forwarding rules and forwarder role in ``member`` and ``region``; its events client."""
    session = _member(account, member)
    forwarding = MemberForwarding(CENTRAL_BUS, region, HOME_ACCOUNT, FORWARDING_ROLES)
    events = session.client("events", region_name=region)
    if region == REGION:
        return create_member_forwarding(events, member, session.client("iam"))
    from tests.member_patterns import member_instance

    iam = session.client("iam")
    role = f"iamwarden-member-forwarder-{region}"
    from iamwarden.domain.declared_content import declared_forwarder_role
    from iamwarden.domain.own import OwnIdentity

    declared_role = declared_forwarder_role(
        "member-forwarder", OwnIdentity(home_account=HOME_ACCOUNT, home_region=REGION), "aws", region, member
    )
    assert declared_role is not None
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(declared_role.trust))
    for policy, document in declared_role.inline.items():
        iam.put_role_policy(RoleName=role, PolicyName=policy, PolicyDocument=json.dumps(document))
    for rule in forwarding.rules():
        pattern = member_instance(forwarding.declared_pattern(rule, member, "aws"))
        events.put_rule(Name=rule, EventPattern=json.dumps(pattern), State="ENABLED")
        role_arn = f"arn:aws:iam::{member}:role/{role}"
        events.put_targets(Rule=rule, Targets=[{"Id": "central-bus", "Arn": CENTRAL_BUS, "RoleArn": role_arn}])
    return events


def _members(account: Account, *, organization: bool = True, clock: Clock | None = None) -> MemberSnapshots:
    environment = _environment(account) | ({"IAMWARDEN_ORGANIZATION_ID": ORGANIZATION} if organization else {})
    members = build_heartbeat(account.session, environment).member_snapshots
    assert members is not None
    assert members.coverage is not None
    if clock is not None:
        members.coverage.now = clock
    return members


class _NotAdministrator:
    """Organizations as a member account that is not a delegated administrator sees it (moto answers any account)."""

    def get_paginator(self, name: str) -> Any:
        assert name == "list_accounts"
        error = {"Error": {"Code": "AccessDeniedException", "Message": "You don't have permissions to access this"}}
        raise ClientError(error, "ListAccounts")  # type: ignore[arg-type]


def _about(problems: list[str], *words: str) -> list[str]:
    return [problem for problem in problems if all(word in problem for word in words)]


# --- which accounts -------------------------------------------------------------------------------------------


def test_an_organisation_account_not_in_managed_accounts_is_checked(account: Account) -> None:
    member = _organization_account(account)
    _stack_set(account, {member: [REGION]})
    _forwarding_in(account, member, REGION).disable_rule(Name="iamwarden-forward-s3")
    members = _members(account)

    _stored, problems = members.refresh()

    assert _about(problems, f"in member account {member}", "iamwarden-forward-s3", "disabled")
    assert members.taken == [member], "its snapshots are read in the heartbeat's region"
    assert members.covered is not None
    assert (members.covered.pairs, members.covered.checked) == (1, 1)


def test_an_account_whose_mode_is_off_is_left_out_on_purpose(account: Account) -> None:
    member = _organization_account(account)
    _stack_set(account, {member: [REGION]})
    account.set(f"accounts/{member}/mode", "off")
    members = _members(account)

    _, problems = members.refresh()

    assert not _about(problems, member)
    assert members.covered is not None
    assert members.covered.pairs == 0


def test_an_organisation_that_cannot_be_listed_is_said_once_a_day_and_managed_accounts_are_still_checked(
    account: Account,
) -> None:
    member = "444455556666"
    account.set("managed_accounts", member)
    _stack_set(account, {member: [REGION]})
    _forwarding_in(account, member, REGION)
    clock = Clock()
    members = _members(account, clock=clock)
    assert members.coverage is not None
    members.coverage.organizations = _NotAdministrator

    _, first = members.refresh()
    clock.at += timedelta(minutes=5)
    _, second = members.refresh()
    clock.at += timedelta(days=1)
    _, a_day_later = members.refresh()

    assert _about(first, "the organisation's accounts cannot be listed", "AccessDeniedException")
    assert not _about(second, "the organisation's accounts cannot be listed")
    assert _about(a_day_later, "the organisation's accounts cannot be listed")
    assert members.covered is not None
    assert members.covered.checked == 1, "the managed account is still checked"


def test_an_account_whose_snapshot_role_cannot_be_assumed_is_alerted_as_not_watched(account: Account) -> None:
    member = _organization_account(account)
    _stack_set(account, {member: [REGION, OTHER_REGION]})
    members = _members(account)

    def refused(_: str) -> tuple[Any, Any]:
        error = {"Error": {"Code": "AccessDenied", "Message": "not authorized to perform sts:AssumeRole"}}
        raise ClientError(error, "AssumeRole")  # type: ignore[arg-type]

    members.clients = refused

    _, problems = members.refresh()

    [problem] = _about(problems, member)
    assert "is not watched" in problem
    assert "AccessDenied" in problem
    assert members.covered is not None
    assert members.covered.checked == 0


# --- which regions --------------------------------------------------------------------------------------------


def test_each_region_with_an_instance_is_checked_there(account: Account) -> None:
    member = _organization_account(account)
    _stack_set(account, {member: [REGION, OTHER_REGION]})
    _forwarding_in(account, member, REGION)
    _forwarding_in(account, member, OTHER_REGION).disable_rule(Name="iamwarden-forward-guard-a")
    members = _members(account)

    _, problems = members.refresh()

    [problem] = _about(problems, "iamwarden-forward-guard-a")
    assert f"in member account {member}" in problem
    assert f"--regions {OTHER_REGION}" in problem, "the instance of that region is named to put it back"
    assert not _about(problems, "iamwarden-forward-iam", OTHER_REGION), "IAM's rule is expected in us-east-1 only"
    assert [p for p in problems if "forwarding" in p or "forwarder" in p] == [problem], "the rest is as declared"
    assert members.covered is not None
    assert members.covered.checked == 2


def test_a_region_without_an_instance_is_said_once_not_every_run(account: Account) -> None:
    member = _organization_account(account)
    _stack_set(account, {member: [REGION]})
    _forwarding_in(account, member, REGION)
    clock = Clock()
    members = _members(account, clock=clock)

    _, first = members.refresh()
    clock.at += timedelta(minutes=5)
    _, second = members.refresh()
    clock.at += timedelta(hours=23)
    _, still_the_same_day = members.refresh()
    clock.at += timedelta(hours=1)
    _, a_day_later = members.refresh()

    [problem] = _about(first, "no instance of the member StackSet")
    listed = re.search(r"in the enabled region\(s\) ([a-z0-9, -]+):", problem)
    assert listed is not None
    assert OTHER_REGION in listed.group(1).split(", ")
    assert REGION not in listed.group(1).split(", "), "its instance's region is not listed"
    assert "S3" in problem, "what is not seen there"
    assert "arrive in us-east-1, which forwards" in problem
    assert not _about(second, "no instance of the member StackSet")
    assert not _about(still_the_same_day, "no instance of the member StackSet")
    assert _about(a_day_later, "no instance of the member StackSet")


def test_without_an_instance_in_us_east_1_the_alert_says_no_iam_change_is_seen(account: Account) -> None:
    member = _organization_account(account)
    _stack_set(account, {member: [OTHER_REGION]})
    _forwarding_in(account, member, OTHER_REGION)
    members = _members(account)

    _, problems = members.refresh()

    [problem] = _about(problems, "no instance of the member StackSet")
    assert "us-east-1" in problem
    assert "none of this account's IAM changes are seen" in problem
    assert members.taken == [member], "its snapshots are still read in the heartbeat's region"
    assert not _about(problems, "forwarding rule", REGION), "no instance there: its rules are not expected"


def test_with_an_organisation_a_stack_set_that_cannot_be_listed_is_said_and_the_default_regions_are_checked(
    account: Account,
) -> None:
    member = _organization_account(account)
    _forwarding_in(account, member, REGION)
    members = _members(account)

    _, problems = members.refresh()

    [problem] = _about(problems, f"the member StackSet {STACK_SET}'s instances cannot be listed")
    assert "StackSetNotFoundException" in problem
    assert members.covered is not None
    assert members.covered.checked == 1


def test_the_stack_set_is_listed_as_delegated_administrator_then_as_its_owner() -> None:
    asked: list[str] = []

    class Pages:
        def paginate(self, **request: Any) -> Any:
            asked.append(request["CallAs"])
            if request["CallAs"] == "DELEGATED_ADMIN":
                raise ClientError({"Error": {"Code": "ValidationError", "Message": "not a delegated admin"}}, "List")
            return [{"Summaries": [{"Account": "444455556666", "Region": "eu-west-1"}]}]

    class CloudFormation:
        def get_paginator(self, name: str) -> Pages:
            assert name == "list_stack_instances"
            return Pages()

    assert stack_set_instances(CloudFormation(), STACK_SET) == {"444455556666": {"eu-west-1"}}
    assert asked == ["DELEGATED_ADMIN", "SELF"]


# --- the turn -------------------------------------------------------------------------------------------------


class _Store:
    def put_all(self, snapshots: Any) -> int:
        return len(list(snapshots))


def _coverage(account: Account, watched: Watched, per_run: int, clock: Clock) -> MemberCoverage:
    settings = Settings(member_checks_per_run=per_run)
    coverage = MemberCoverage(
        home_account=HOME_ACCOUNT,
        region=REGION,
        settings=lambda: settings,
        dynamodb=account.dynamodb,
        table=account.config.audit_table,
        now=clock,
    )
    coverage.watched = lambda state=None: watched  # type: ignore[method-assign]
    return coverage


def _turning(account: Account, pairs: list[Pair], per_run: int, clock: Clock, **more: Any) -> MemberSnapshots:
    """Member snapshots over ``pairs`` whose checks are recorded, not made (the clients say what was reached)."""
    watched = Watched(tuple(sorted(pairs)), None)
    return MemberSnapshots(
        _Store(),
        list,
        lambda member: (None, None),
        home_account=HOME_ACCOUNT,
        region=REGION,
        coverage=_coverage(account, watched, per_run, clock),
        **more,
    )


class _Reached:
    """Each member account the run reaches (its snapshots refused, so nothing more is read)."""

    def __init__(self) -> None:
        self.accounts: list[str] = []

    def __call__(self, member: str) -> tuple[Any, Any]:
        self.accounts.append(member)
        return None, None


def test_the_cursor_covers_every_pair_over_runs_each_once(account: Account) -> None:
    accounts = [f"00000000000{n}" for n in range(1, 4)]
    pairs = [Pair(member, region) for member in accounts for region in (ELSEWHERE, OTHER_REGION)]
    clock = Clock()
    members = _turning(account, pairs, 2, clock)
    checked: list[list[str]] = []

    for _ in range(3):
        _, problems = members.refresh()
        state = CoverageState.load(account.dynamodb, account.config.audit_table)
        checked.append(sorted(key for key, (last, _) in state.pairs.items() if last == int(clock.at.timestamp())))
        assert problems == []
        assert members.covered is not None
        assert members.covered.checked == 2
        clock.at += timedelta(minutes=5)

    assert sorted(key for run in checked for key in run) == sorted(pair.key for pair in pairs), "each exactly once"
    assert members.covered is not None
    assert members.covered.period_minutes == 15
    assert members.covered.oldest_check_age_seconds == 600, "the first run's pairs, two runs ago"


def test_the_turn_goes_on_after_the_last_pair_taken_when_pairs_change(account: Account) -> None:
    clock = Clock()
    first, second = Pair("000000000001", OTHER_REGION), Pair("000000000002", OTHER_REGION)
    added = Pair("000000000001", ELSEWHERE)  # sorts before the cursor: taken when the turn comes round
    members = _turning(account, [first, second], 1, clock)
    members.refresh()
    assert members.coverage is not None
    members.coverage.watched = lambda state=None: Watched((added, first, second), None)  # type: ignore[method-assign]
    cursors = []

    for _ in range(3):
        members.refresh()
        cursors.append(CoverageState.load(account.dynamodb, account.config.audit_table).cursor)

    assert cursors == [second.key, added.key, first.key]


def test_a_pair_not_checked_within_the_period_is_an_alert(account: Account) -> None:
    ticks = iter(range(0, 10_000, 100))  # every run's time budget is spent before its first pair
    pairs = [Pair("000000000001", OTHER_REGION), Pair("000000000002", OTHER_REGION)]
    clock = Clock()
    members = _turning(account, pairs, 2, clock, monotonic=lambda: float(next(ticks)))

    _, at_once = members.refresh()
    clock.at += timedelta(minutes=11)
    _, overdue = members.refresh()

    assert at_once == [], "first seen now: not overdue yet"
    [problem] = overdue
    assert "2 member account/region pair(s) were not checked within 5 minutes" in problem
    assert f"000000000001/{OTHER_REGION}" in problem
    assert members.deferred == [pair.key for pair in pairs]


def test_a_coverage_record_that_cannot_be_read_or_written_is_a_problem_and_the_run_goes_on(account: Account) -> None:
    clock = Clock()
    reached = _Reached()
    members = _turning(account, [Pair("000000000001", REGION)], 2, clock)
    members.clients = reached
    assert members.coverage is not None
    members.coverage.table = "no-such-table"

    _, problems = members.refresh()

    assert reached.accounts == ["000000000001"], "the pair is still checked"
    assert _about(problems, "coverage record cannot be read", "ResourceNotFoundException")
    assert _about(problems, "coverage record cannot be written", "ResourceNotFoundException")


def test_members_that_cannot_be_read_are_one_problem(account: Account) -> None:
    clock = Clock()
    members = _turning(account, [], 2, clock)
    assert members.coverage is not None

    def unreadable() -> Settings:
        raise RuntimeError("SSM is throttling")

    members.coverage.settings = unreadable

    assert members.refresh() == (
        0,
        [
            "the member accounts to watch cannot be read (SSM is throttling): no member account's forwarding or "
            "snapshots are checked"
        ],
    )


def test_the_coverage_is_in_the_heartbeats_answer(account: Account) -> None:
    member = _organization_account(account)
    _stack_set(account, {member: [REGION]})
    _forwarding_in(account, member, REGION)
    built = build_heartbeat(account.session, _environment(account) | {"IAMWARDEN_ORGANIZATION_ID": ORGANIZATION})
    from tests.functional.test_heartbeat_member_snapshots import _Topic, _Whole

    heartbeat = _Whole(built.config, None, None, built.iam, _Topic(), member_snapshots=built.member_snapshots)

    result = heartbeat.run()

    assert result["member_coverage"]["pairs"] == 1
    assert result["member_coverage"]["checked"] == 1
    assert result["member_coverage"]["period_minutes"] == 5
    item = account.dynamodb.get_item(TableName=account.config.audit_table, Key={"remediation_id": {"S": COVERAGE_KEY}})
    assert item["Item"]["kind"]["S"] == "heartbeat-coverage"


@pytest.mark.parametrize(("value", "expected"), [("25", 25), ("0", 10), ("many", 10)])
def test_the_checks_per_run_setting(value: str, expected: int) -> None:
    settings, problems = parse_settings({"heartbeat": {"member_checks_per_run": value}})

    assert settings.member_checks_per_run == expected
    assert bool(problems) is (expected == 10)


def test_an_unknown_heartbeat_setting_is_refused() -> None:
    _, problems = parse_settings({"heartbeat": {"members_per_run": "5"}})

    assert [problem.key for problem in problems] == ["heartbeat/members_per_run"]


# --- the roles allow what the coverage calls ------------------------------------------------------------------


def test_the_coverage_calls_only_what_the_heartbeat_and_snapshot_reader_roles_allow(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The organisation's accounts and the StackSet's instances as the heartbeat's role (deployed with an
    organisation), the enabled regions and another region's rules and forwarder role as the member's snapshot role."""
    from iamwarden.adapters.clients import ClientFactory
    from tests.functional.test_prune_permissions import Recorder, role_policies
    from tests.integration.test_member_template import member_template
    from tests.least_privilege import check

    member = _organization_account(account)
    _stack_set(account, {member: [REGION, OTHER_REGION]})
    _forwarding_in(account, member, REGION)
    _forwarding_in(account, member, OTHER_REGION)
    recorder = Recorder()
    session_with = ClientFactory.session_with

    def recorded(credentials: Any, region: str) -> Any:
        session = session_with(credentials, region)
        session.events.register("provide-client-params", recorder.hook(member))
        return session

    monkeypatch.setattr(ClientFactory, "session_with", staticmethod(recorded))
    account.session.events.register("provide-client-params", recorder.hook(HOME_ACCOUNT))
    members = _members(account)

    _, problems = members.refresh()

    assert _about(problems, "no instance of the member StackSet"), "the enabled regions were read"
    home, there = recorder.take(HOME_ACCOUNT), recorder.take(member)
    coverage_calls = [
        call for call in home if call.action in ("organizations:ListAccounts", "cloudformation:ListStackInstances")
    ]
    assert {call.action for call in coverage_calls} == {
        "organizations:ListAccounts",
        "cloudformation:ListStackInstances",
    }
    heartbeat = role_policies("HeartbeatRole", {"OrganizationId": ORGANIZATION})
    assert check(coverage_calls, heartbeat, {}).denied == ()
    assert {"ec2:DescribeRegions", "events:DescribeRule", "iam:GetRolePolicy"} <= {call.action for call in there}
    assert f"arn:aws:iam::{member}:role/iamwarden-member-forwarder-{OTHER_REGION}" in {
        call.resource for call in there if call.action == "iam:GetRole"
    }
    template = member_template()
    names = {
        "AWS::AccountId": member,
        **{name: parameter["Default"] for name, parameter in template["Parameters"].items() if "Default" in parameter},
    }
    role = template["Resources"]["SnapshotReaderRole"]["Properties"]
    reader = {p["PolicyName"]: resolve(p["PolicyDocument"]["Statement"], names) for p in role["Policies"]}
    assert check(there, reader, {}).denied == ()


def test_the_handler_makes_the_coverage_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.functional.test_prune_handlers import load

    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "IamWarden")
    module = load("heartbeat")
    module.metrics.clear_metrics()

    module.record_coverage({"whole": True, "problems": []})
    assert module.metrics.metric_set == {}, "no member account watched: no metric"
    module.record_coverage(
        {"member_coverage": {"pairs": 6, "checked": 2, "oldest_check_age_seconds": 600, "period_minutes": 15}}
    )

    made = {name: (metric["Unit"], metric["Value"]) for name, metric in module.metrics.metric_set.items()}
    module.metrics.clear_metrics()
    assert made == {
        "MemberPairsWatched": ("Count", [6.0]),
        "MemberPairsChecked": ("Count", [2.0]),
        "MemberOldestCheckAge": ("Seconds", [600.0]),
    }


def test_only_active_accounts_are_watched_by_their_state_on_every_page() -> None:
    """``State`` only, as ListAccounts answers since ``Status`` was retired (botocore's model); Stubber checks the
    shapes against the real API model."""
    from botocore.stub import Stubber

    from iamwarden.app.member_coverage import organization_accounts

    organizations = boto3.client("organizations", region_name="us-east-1")

    def account(number: int, state: str) -> dict[str, str]:
        return {"Id": f"{number:012d}", "Arn": f"arn:aws:organizations::{HOME_ACCOUNT}:account/o-a1b2c3d4e5/"
                f"{number:012d}", "Name": f"a{number}", "Email": f"a{number}@example.com", "State": state}  # fmt: skip

    with Stubber(organizations) as stubber:
        stubber.add_response(
            "list_accounts", {"Accounts": [account(1, "ACTIVE"), account(2, "SUSPENDED")], "NextToken": "page-2"}, {}
        )
        stubber.add_response(
            "list_accounts",
            {"Accounts": [account(3, "PENDING_ACTIVATION"), account(4, "ACTIVE"), account(5, "PENDING_CLOSURE")]},
            {"NextToken": "page-2"},
        )

        assert organization_accounts(organizations) == ["000000000001", "000000000004"]


def test_the_organisation_and_the_stack_set_are_listed_again_after_an_hour_not_every_run(account: Account) -> None:
    member = _organization_account(account)
    _stack_set(account, {member: [REGION]})
    _forwarding_in(account, member, REGION)
    clock = Clock()
    members = _members(account, clock=clock)
    assert members.coverage is not None
    organizations = members.coverage.organizations
    assert organizations is not None
    listed: list[datetime] = []

    def counted() -> Any:
        listed.append(clock.at)
        return organizations()

    members.coverage.organizations = counted
    members.refresh()
    joined = str(
        account.session.client("organizations").create_account(AccountName="late", Email="late@example.com")[
            "CreateAccountStatus"
        ]["AccountId"]
    )
    clock.at += timedelta(minutes=55)
    members.refresh()
    assert members.covered is not None
    assert members.covered.pairs == 1, "the kept listing: the new account is not known yet"
    clock.at += timedelta(minutes=5)
    _, problems = members.refresh()

    assert listed == [START, START + timedelta(hours=1)]
    assert members.covered.pairs == 2
    assert _about(problems, joined, "no instance of the member StackSet"), "the new account is watched"


def _management_coverage() -> tuple[MemberCoverage, Watched]:
    """Review 15 finding 6: an organisation whose management account (999900000000, its ARN naming itself) has no
    StackSet instance, and a member (111100000000) with two; Stubber checks both APIs' shapes."""
    from botocore.stub import Stubber

    from iamwarden.domain.settings import load_settings

    management, member = "999900000000", "111100000000"
    organizations = boto3.client("organizations", region_name="us-east-1")
    cloudformation = boto3.client("cloudformation", region_name=REGION)

    def account(number: str) -> dict[str, str]:
        return {"Id": number, "Arn": f"arn:aws:organizations::{management}:account/o-a1b2c3d4e5/{number}",
                "Name": number, "Email": f"{number}@example.com", "State": "ACTIVE"}  # fmt: skip

    def instance(region: str) -> dict[str, str]:
        return {"StackSetId": f"{STACK_SET}:1", "Region": region, "Account": member, "Status": "CURRENT"}

    orgs = Stubber(organizations)
    orgs.add_response("list_accounts", {"Accounts": [account(management), account(member)]}, {})
    orgs.activate()
    stacks = Stubber(cloudformation)
    stacks.add_response(
        "list_stack_instances",
        {"Summaries": [instance("us-east-1"), instance(OTHER_REGION)]},
        {"StackSetName": STACK_SET, "CallAs": "DELEGATED_ADMIN"},
    )
    stacks.activate()
    coverage = MemberCoverage(
        home_account=HOME_ACCOUNT,
        region=REGION,
        settings=lambda: load_settings({}),
        dynamodb=None,
        table="iamwarden-audit",
        organizations=lambda: organizations,
        cloudformation=lambda: cloudformation,
        stack_set_name=STACK_SET,
    )
    return coverage, coverage.watched(CoverageState())


def test_the_management_account_without_an_instance_has_its_forwarding_checked_where_a_plain_stack_runs() -> None:
    _, watched = _management_coverage()

    assert watched.management == "999900000000"
    mine = {pair for pair in watched.pairs if pair.account == "999900000000"}
    assert mine == {Pair("999900000000", REGION), Pair("999900000000", "us-east-1")}  # both forwarding
    assert all(pair.forwards for pair in mine)


def test_the_management_account_is_told_to_deploy_the_member_template_as_a_stack_not_to_add_instances() -> None:
    coverage, watched = _management_coverage()

    said = coverage.missing_regions("999900000000", {REGION, "us-east-1", "ap-south-1"}, watched)

    assert said is not None
    assert "create-stack-instances" not in said
    assert "deploy member/template.yaml in it as a stack" in said
    assert "ap-south-1" in said
    # a member account without an instance in a region is still told to add one
    other = coverage.missing_regions("111100000000", {REGION, "us-east-1", "ap-south-1"}, watched)
    assert other is not None
    assert "create-stack-instances" in other


# --- issue 15 item 2: the management account's plain member stack is found, and then checked like an instance --------

MANAGEMENT = "999900000000"
TEAM = "111100000000"


class _Regions:
    """The regions enabled for the management account (moto's DescribeRegions answers every region)."""

    def __init__(self, *regions: str) -> None:
        self.regions = regions

    def describe_regions(self, AllRegions: bool) -> dict[str, Any]:
        return {"Regions": [{"RegionName": r, "OptInStatus": "opt-in-not-required"} for r in self.regions]}


class _Refusing:
    def describe_rule(self, Name: str) -> dict[str, Any]:
        error = {"Error": {"Code": "AccessDeniedException", "Message": "not authorized to perform events:DescribeRule"}}
        raise ClientError(error, "DescribeRule")  # type: ignore[arg-type]


def _with_management(
    account: Account, clock: Clock, refused: set[str] | None = None, enabled: tuple[str, ...] = (REGION, OTHER_REGION)
) -> MemberSnapshots:
    """An organisation whose management account (MANAGEMENT, its ARN naming itself) has no StackSet instance, and a
    member (TEAM) with one in REGION; the management account's enabled regions are REGION and OTHER_REGION, and its
    rules cannot be read in the regions ``refused``."""
    from botocore.stub import Stubber

    _stack_set(account, {TEAM: [REGION]})
    _forwarding_in(account, TEAM, REGION)
    members = _members(account, clock=clock)
    assert members.coverage is not None
    organizations = boto3.client("organizations", region_name="us-east-1")

    def listed(number: str) -> dict[str, str]:
        return {"Id": number, "Arn": f"arn:aws:organizations::{MANAGEMENT}:account/{ORGANIZATION}/{number}",
                "Name": number, "Email": f"{number}@example.com", "State": "ACTIVE"}  # fmt: skip

    stubber = Stubber(organizations)
    for _ in range(3):  # a listing an hour
        stubber.add_response("list_accounts", {"Accounts": [listed(MANAGEMENT), listed(TEAM)]}, {})
    stubber.activate()
    members.coverage.organizations = lambda: organizations
    client_in = members.client_in
    assert client_in is not None

    def reading(service: str, member: str, region: str) -> Any:
        if member == MANAGEMENT and service == "ec2":
            return _Regions(*enabled)
        if member == MANAGEMENT and service == "events" and region in (refused or set()):
            return _Refusing()
        return client_in(service, member, region)

    members.client_in = reading
    return members


def test_the_management_account_is_told_only_where_no_plain_member_stack_is_found_then_nothing(
    account: Account,
) -> None:
    clock = Clock()
    _forwarding_in(account, MANAGEMENT, REGION)  # a plain member stack in the IAM region only
    members = _with_management(account, clock)

    _, problems = members.refresh()

    [said] = _about(problems, f"management account {MANAGEMENT} has no member stack")
    assert f"in the enabled region(s) {OTHER_REGION} " in said
    assert f"was found in {REGION})" in said
    assert "deploy member/template.yaml in it as a stack" in said
    assert members.covered is not None
    assert (members.covered.pairs, members.covered.checked) == (2, 2)  # TEAM's and MANAGEMENT's in REGION

    _forwarding_in(account, MANAGEMENT, OTHER_REGION)  # the operator deploys it in the other region too
    clock.at += timedelta(hours=1)
    _, found = members.refresh()
    assert not _about(found, f"management account {MANAGEMENT}")
    clock.at += timedelta(days=1)
    _, a_day_later = members.refresh()

    assert not _about(a_day_later, f"management account {MANAGEMENT}"), "nothing more said once deployed everywhere"
    assert members.covered is not None
    assert members.covered.pairs == 3, "its plain stack in the other region is now a pair of its own"
    # ... and checked like an instance: a rule disabled there is found
    _member(account, MANAGEMENT).client("events", region_name=OTHER_REGION).disable_rule(Name="iamwarden-forward-s3")
    clock.at += timedelta(minutes=5)
    _, checked = members.refresh()
    assert _about(checked, f"in member account {MANAGEMENT}", "iamwarden-forward-s3", "disabled")


def test_a_management_account_whose_rules_cannot_be_read_is_said_and_not_taken_for_deployed(account: Account) -> None:
    clock = Clock()
    _forwarding_in(account, MANAGEMENT, REGION)
    _forwarding_in(account, MANAGEMENT, OTHER_REGION)
    members = _with_management(account, clock, refused={OTHER_REGION})

    _, problems = members.refresh()

    [said] = _about(problems, f"management account {MANAGEMENT}")
    assert f"has a member stack in {OTHER_REGION} cannot be read" in said
    assert "AccessDeniedException" in said
    assert members.covered is not None
    assert members.covered.pairs == 2, "the other region is not taken for one with a member stack"


def test_the_found_plain_stacks_are_paired_and_checked_while_another_region_is_unread(
    account: Account,
) -> None:
    """Review s10 F7: one region whose rules cannot be read (an SCP on an opt-in region) does not keep the regions
    where a plain member stack was found from being paired: a rule disabled there is found."""
    clock = Clock()
    _forwarding_in(account, MANAGEMENT, REGION)
    _forwarding_in(account, MANAGEMENT, OTHER_REGION)
    members = _with_management(account, clock, refused={ELSEWHERE}, enabled=(REGION, OTHER_REGION, ELSEWHERE))
    _member(account, MANAGEMENT).client("events", region_name=OTHER_REGION).disable_rule(Name="iamwarden-forward-s3")

    said: list[str] = []
    for _ in range(3):
        _, problems = members.refresh()
        said += problems
        clock.at += timedelta(hours=2)

    assert _about(said, f"in member account {MANAGEMENT}", "iamwarden-forward-s3", "disabled")
    assert _about(said, f"has a member stack in {ELSEWHERE} cannot be read")
    assert members.covered is not None
    assert members.covered.pairs == 3  # TEAM's, and MANAGEMENT's in REGION and OTHER_REGION


def test_one_rule_named_like_the_templates_is_no_plain_stack(account: Account) -> None:
    """Review s10 F8: a single look-alike rule (matching nothing, disabled) does not silence the "deploy
    member/template.yaml" message for its region, nor make the region a pair."""
    clock = Clock()
    _forwarding_in(account, MANAGEMENT, REGION)
    _member(account, MANAGEMENT).client("events", region_name=OTHER_REGION).put_rule(
        Name="iamwarden-forward-s3", EventPattern=json.dumps({"source": ["nothing.at.all"]}), State="DISABLED"
    )
    members = _with_management(account, clock)

    _, problems = members.refresh()

    [said] = _about(problems, f"management account {MANAGEMENT} has no member stack")
    assert f"in the enabled region(s) {OTHER_REGION} " in said
    clock.at += timedelta(minutes=5)
    members.refresh()
    assert members.covered is not None
    assert members.covered.pairs == 2  # TEAM's and MANAGEMENT's in REGION only


def test_the_member_turn_record_is_pruned_only_against_a_whole_listing(account: Account) -> None:
    """Review quarrole-s15 F3: a run whose organisation listing failed watched only ``managed_accounts``; it pruned
    the member turn record (``MEMBER_CURSOR``) of every organisation-only account, so their turns and deferral counts
    were lost. Now the watched accounts are known (the record pruned) only when the listing was whole (or kept)."""
    member = _organization_account(account)
    _stack_set(account, {member: [REGION]})
    _forwarding_in(account, member, REGION)
    clock = Clock()
    members = _members(account, clock=clock)
    assert members.coverage is not None

    members.refresh()
    assert members.managed == frozenset({member})
    clock.at += LISTING_EVERY + timedelta(minutes=5)  # the kept listing is too old: listed again, and refused
    members.coverage.organizations = _NotAdministrator
    _, problems = members.refresh()

    assert _about(problems, "the organisation's accounts cannot be listed")
    assert members.managed is None, "a listing that failed does not say which accounts are no longer watched"
    assert not members._unmanaged({member: 1}, {member: 2})
