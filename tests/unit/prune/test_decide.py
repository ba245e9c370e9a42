"""Which roles are skipped, and what Access Advisor lets go: fail closed at every doubt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from iamwarden.prune.domain.decide import (
    RemovalRule,
    exempt_tag_key,
    exemption_notes,
    recent_grants,
    skip_reason,
    still_unused,
    unused_rule,
    updated_ledger,
)
from iamwarden.prune.domain.model import AccessReport, PolicySource, RoleFacts, RolePolicy, ServiceAccess
from iamwarden.prune.domain.settings import PruneSettings

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
OLD = NOW - timedelta(days=400)
DOC = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:*", "ec2:Describe*"], "Resource": "*"}],
}


def role(name: str = "app", path: str = "/", created: datetime = OLD, tags: dict[str, str] | None = None) -> RoleFacts:
    return RoleFacts(
        arn=f"arn:aws:iam::111122223333:role{path}{name}",
        account="111122223333",
        name=name,
        path=path,
        created=created,
        tags=tags or {},
        policies=(RolePolicy(PolicySource.INLINE, "main", DOC),),
    )


@pytest.mark.parametrize(
    ("facts", "reason"),
    [
        (role("AWSServiceRoleForECS", "/aws-service-role/ecs.amazonaws.com/"), "service-linked"),
        (role("AWSReservedSSO_Admin_0123", "/aws-reserved/sso.amazonaws.com/"), "Identity Center"),
        (role("iamwarden-pruner-us-east-1"), "own roles"),
        (role("legacy-batch"), "exempt_roles"),
        (role(created=NOW - timedelta(days=10)), "younger than min_role_age_days"),
        (role(tags={"iamwarden:prune-exempt-until": "2027-01-01"}), "until 2027-01-01"),
        (role("OrganizationAccountAccessRole"), "idle by design"),
        (role("AWSControlTowerExecution"), "idle by design"),
        (role("AWSCloudFormationStackSetExecutionRole"), "idle by design"),
        (role("stacksets-exec-0123456789abcdef0123456789abcdef"), "idle by design"),
        (role("break-glass-admin"), "break-glass"),
    ],
)
def test_roles_that_are_never_pruned(facts: RoleFacts, reason: str) -> None:
    settings = PruneSettings(exempt_roles=("legacy-*",), break_glass_principals=("arn:aws:iam::*:role/break-glass-*",))
    found = skip_reason(facts, settings, NOW)
    assert found is not None
    assert reason in found


def test_an_expired_exemption_tag_and_a_look_alike_own_role_on_another_path_are_pruned() -> None:
    assert skip_reason(role(tags={"iamwarden:prune-exempt-until": "2026-11-19"}), PruneSettings(), NOW) is None
    assert skip_reason(role("iamwarden-enforcer", "/dev/"), PruneSettings(), NOW) is None


def test_a_tag_that_is_not_a_date_is_no_exemption_and_the_plan_says_so() -> None:
    facts = role(tags={"iamwarden:prune-exempt-until": "forever"})
    assert skip_reason(facts, PruneSettings(), NOW) is None
    [note] = exemption_notes(facts, PruneSettings(), NOW, {})
    assert "'forever' is not a date" in note
    assert "no exemption" in note


def test_an_exemption_lasts_at_most_max_exempt_days_after_the_pruner_first_saw_the_tag() -> None:
    facts = role(tags={"iamwarden:prune-exempt-until": "9999-12-31"})
    settings = PruneSettings(max_exempt_days=30)
    first = updated_ledger(facts, {}, NOW - timedelta(days=20), settings.exempt_tag)
    assert first[exempt_tag_key(settings.exempt_tag, "9999-12-31")] == (NOW - timedelta(days=20)).isoformat()
    reason = skip_reason(facts, settings, NOW, first)
    assert reason is not None
    assert "until 2026-11-30" in reason  # first seen 2026-10-31, plus 30 days
    assert "the tag asks for 9999-12-31" in reason
    later = NOW + timedelta(days=11)
    assert skip_reason(facts, settings, later, updated_ledger(facts, first, later, settings.exempt_tag)) is None
    [note] = exemption_notes(facts, settings, later, first)
    assert "expired" in note
    # A new value does not restart the count (review s12 F6): it runs from the first sight of any value.
    retagged = role(tags={"iamwarden:prune-exempt-until": "9999-12-30"})
    assert skip_reason(retagged, settings, later, updated_ledger(retagged, first, later, settings.exempt_tag)) is None


def test_flipping_the_exempt_tags_value_or_removing_and_re_adding_it_does_not_renew_the_exemption() -> None:
    """Review s12 F6 (probe p4): two far dates swapped every 80 days exempted a role for ever."""
    settings = PruneSettings()
    start = NOW
    ledger: dict[str, str] = {}
    exempt_days = 0
    for day in range(400):
        now = start + timedelta(days=day)
        tags = {} if day % 80 == 79 else {settings.exempt_tag: ("2099-12-31", "2099-12-30")[(day // 80) % 2]}
        facts = role(tags=tags)
        ledger = updated_ledger(facts, ledger, now, settings.exempt_tag)
        exempt_days += skip_reason(facts, settings, now, ledger) is not None
    # days 0-90 (the cap counts from day 0, its last day included), less day 79 when the tag was off
    assert exempt_days == settings.max_exempt_days


def test_only_a_yyyy_mm_dd_value_is_a_date() -> None:
    for value in ("20991231", "2099-W52-1", "2099-12-31T00:00"):
        assert skip_reason(role(tags={"iamwarden:prune-exempt-until": value}), PruneSettings(), NOW) is None
    assert skip_reason(role(tags={"iamwarden:prune-exempt-until": " 2026-12-01 "}), PruneSettings(), NOW)


def test_a_tag_never_seen_before_counts_from_today_and_a_near_date_is_not_capped() -> None:
    settings = PruneSettings()
    assert skip_reason(role(tags={settings.exempt_tag: "2026-12-01"}), settings, NOW) == (
        f"exempted by tag {settings.exempt_tag} until 2026-12-01"
    )
    capped = skip_reason(role(tags={settings.exempt_tag: "2030-01-01"}), settings, NOW)
    assert capped is not None
    assert "until 2027-02-18" in capped


def test_statements_exempt_by_sid_are_reported() -> None:
    document = {
        "Statement": [
            {"Sid": "NOPRUNEAdmin", "Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Sid": "NOPRUNEDeny", "Effect": "Deny", "Action": "s3:*", "Resource": "*"},
            {"Sid": "Other", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        ]
    }
    facts = role()._replace(policies=(RolePolicy(PolicySource.INLINE, "main", document),))
    assert exemption_notes(facts, PruneSettings(), NOW, {}) == (
        "statement 0 (NOPRUNEAdmin) of inline:main is exempt by its Sid prefix NOPRUNE: never pruned",
    )


def test_on_the_apply_date_only_what_is_still_unused_goes() -> None:
    frozen = RemovalRule(
        frozenset({"ec2", "sqs", "dynamodb"}), frozenset({"s3:createbucket", "s3:deletebucket"}), ("iam:PassRole",)
    )
    fresh = RemovalRule(frozenset({"sqs", "dynamodb", "kms"}), frozenset({"s3:deletebucket", "ec2:runinstances"}))
    rule, dropped = still_unused(frozen, fresh)
    assert rule == RemovalRule(frozenset({"sqs", "dynamodb"}), frozenset({"s3:deletebucket"}), ("iam:PassRole",))
    assert dropped == ("ec2", "s3:createbucket")  # ec2 used since: not even its unused RunInstances goes now
    unchanged, nothing = still_unused(frozen, frozen)
    assert (unchanged, nothing) == (frozen, ())
    # An action whose whole service became unused still goes; nothing new is ever added.
    grown, none = still_unused(
        RemovalRule(frozenset(), frozenset({"s3:createbucket"})), RemovalRule(frozenset({"s3"}), frozenset())
    )
    assert grown.actions == {"s3:createbucket"}
    assert not grown.services
    assert none == ()


def report(**services: ServiceAccess) -> AccessReport:
    return AccessReport("arn:aws:iam::111122223333:role/app", "job", NOW, services)


def test_unused_services_and_unused_tracked_actions_of_used_services() -> None:
    recently = NOW - timedelta(days=3)
    long_ago = NOW - timedelta(days=200)
    access = report(
        ec2=ServiceAccess("ec2", "Amazon EC2", None),
        sqs=ServiceAccess("sqs", "Amazon SQS", long_ago),
        s3=ServiceAccess(
            "s3",
            "Amazon S3",
            recently,
            {"s3:createbucket": None, "s3:listallmybuckets": recently, "s3:deletebucket": long_ago},
        ),
        dynamodb=ServiceAccess("dynamodb", "Amazon DynamoDB", recently, None),  # not tracked per action
    )
    rule = unused_rule(access, PruneSettings(), role(), NOW)
    assert rule.services == {"ec2", "sqs"}
    assert rule.actions == {"s3:createbucket", "s3:deletebucket"}
    assert rule.keep == ("iam:PassRole", "sts:AssumeRole")
    # untracked actions of a used service never go, nor do services Access Advisor did not list
    assert not rule.removes("s3:GetObject")
    assert not rule.removes("dynamodb:GetItem")
    assert not rule.removes("kms:Decrypt")
    assert rule.removes("ec2:RunInstances")


def test_a_rule_without_services_gives_them_back() -> None:
    rule = RemovalRule(frozenset({"ec2", "s3"}), frozenset({"sqs:deletequeue", "s3:createbucket"}))
    assert rule.without(["s3"]) == RemovalRule(frozenset({"ec2"}), frozenset({"sqs:deletequeue"}))
    assert RemovalRule.from_dict(rule.to_dict()) == rule


def test_grants_are_recent_until_the_ledger_has_seen_them_for_recent_days() -> None:
    facts = role()
    first = updated_ledger(facts, {}, NOW - timedelta(days=20))
    assert recent_grants(facts, first, PruneSettings(), NOW) == {}
    assert recent_grants(facts, first, PruneSettings(), NOW - timedelta(days=10)) == {
        "inline:main": frozenset({"action:s3:*", "action:ec2:describe*"})
    }
    # a pattern added later is recent on its own; the ledger keeps the old dates
    grown = facts._replace(
        policies=(
            RolePolicy(
                PolicySource.INLINE,
                "main",
                {"Statement": [{"Effect": "Allow", "Action": ["s3:*", "kms:Decrypt"], "Resource": "*"}]},
            ),
        )
    )
    ledger = updated_ledger(grown, first, NOW)
    assert recent_grants(grown, ledger, PruneSettings(), NOW) == {"inline:main": frozenset({"action:kms:decrypt"})}
    assert "inline:main|action:ec2:describe*" not in ledger


def test_an_old_managed_policy_newly_attached_is_a_recent_grant() -> None:
    managed = RolePolicy(
        PolicySource.CUSTOMER_MANAGED, "m", DOC, arn="arn:aws:iam::111122223333:policy/m", version_created=OLD
    )
    assert recent_grants(role()._replace(policies=(managed,)), {}, PruneSettings(), NOW) == {
        "arn:aws:iam::111122223333:policy/m": frozenset({"action:s3:*", "action:ec2:describe*"})
    }
