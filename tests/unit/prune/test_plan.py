"""Plans: methods per policy kind, IAM size limits checked before writing, Access Advisor cross-checks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from iamwarden.domain.policy import parse_policy
from iamwarden.prune.adapters.store import RoleState
from iamwarden.prune.app.service import RoleSummary, select_roles
from iamwarden.prune.domain.catalogue import StaticCatalogue
from iamwarden.prune.domain.decide import RemovalRule
from iamwarden.prune.domain.model import AccessReport, PolicySource, RoleFacts, RolePolicy, ServiceAccess, iam_size
from iamwarden.prune.domain.plan import (
    Method,
    PrunePlan,
    admin_removals,
    build_plan,
    confirmed_rule,
    narrowed_plan,
    plan_discrepancies,
    render_diff,
    rewrite_change,
    rewrite_discrepancies,
)
from iamwarden.prune.domain.rewrite import REWRITE_VERSION
from iamwarden.prune.domain.settings import PruneSettings

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
ACCOUNT = "111122223333"
MANY = [f"Action{index:04d}WithALongName" for index in range(400)]
CATALOGUE = StaticCatalogue({"ec2": ["RunInstances", "DescribeInstances"], "big": MANY})


def allow(*actions: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}]}


def facts(*policies: RolePolicy) -> RoleFacts:
    return RoleFacts(f"arn:aws:iam::{ACCOUNT}:role/app", ACCOUNT, "app", "/", NOW - timedelta(days=400), {}, policies)


def plan_for(role: RoleFacts, rule: RemovalRule, max_growth: int = 3) -> PrunePlan:
    return build_plan(role, rule, CATALOGUE, now=NOW, recent={}, max_growth=max_growth)


def test_each_policy_kind_gets_its_method() -> None:
    role = facts(
        RolePolicy(PolicySource.INLINE, "keep", allow("ec2:RunInstances", "s3:GetObject")),
        RolePolicy(PolicySource.INLINE, "gone", allow("ec2:*")),
        RolePolicy(
            PolicySource.CUSTOMER_MANAGED, "own", allow("ec2:*", "s3:*"), arn=f"arn:aws:iam::{ACCOUNT}:policy/own"
        ),
        RolePolicy(
            PolicySource.CUSTOMER_MANAGED,
            "shared",
            allow("ec2:*", "s3:*"),
            arn=f"arn:aws:iam::{ACCOUNT}:policy/shared",
            attachment_count=3,
        ),
        RolePolicy(
            PolicySource.AWS_MANAGED,
            "AmazonEC2FullAccess",
            allow("ec2:*"),
            arn="arn:aws:iam::aws:policy/AmazonEC2FullAccess",
        ),
        RolePolicy(
            PolicySource.AWS_MANAGED,
            "AmazonS3ReadOnlyAccess",
            allow("s3:Get*", "ec2:Describe*"),
            arn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
            attachment_count=9,
        ),
    )
    plan = plan_for(role, RemovalRule(frozenset({"ec2"}), frozenset()))
    assert [(change.name, change.method) for change in plan.changes] == [
        ("keep", Method.PUT_INLINE),
        ("gone", Method.DELETE_INLINE),
        ("own", Method.NEW_VERSION),
        ("shared", Method.COPY),
        ("AmazonEC2FullAccess", Method.DETACH),
        ("AmazonS3ReadOnlyAccess", Method.COPY),
    ]
    assert plan.policies_hash == role.policies_hash()
    assert plan.services_touched() == ("ec2",)
    assert PrunePlan.from_dict(plan.to_dict()) == plan
    text = render_diff(plan)
    assert "- ec2:RunInstances" in text
    assert "detach (nothing left) arn:aws:iam::aws:policy/AmazonEC2FullAccess" in text


def test_a_wildcard_whose_expansion_would_pass_the_managed_limit_is_kept_whole_with_the_reason() -> None:
    policy = RolePolicy(PolicySource.CUSTOMER_MANAGED, "big", allow("big:*"), arn=f"arn:aws:iam::{ACCOUNT}:policy/big")
    unused = frozenset(f"big:{name.lower()}" for name in MANY[1:])  # all but one: a Deny lists 399 actions
    plan = plan_for(facts(policy), RemovalRule(frozenset(), unused))
    assert plan.empty
    assert plan.rule.empty  # nothing of the service is removed, so a rollback or the watch never look for it
    [note] = plan.notes
    assert note.startswith("kept big:* in policy big: removing part of it means listing 399 actions")
    assert note.endswith("characters, over IAM's 6,144 character limit; nothing removed from big")


def test_a_wildcard_whose_expansion_would_grow_past_max_growth_is_kept_and_its_service_left_alone() -> None:
    policy = RolePolicy(PolicySource.INLINE, "main", allow("big:Action00*", "ec2:*"))
    unused = frozenset(f"big:{name.lower()}" for name in MANY[1:100])  # 99 of big:Action00*'s 100
    rule = RemovalRule(frozenset({"ec2"}), unused)

    plan = plan_for(facts(policy), rule)

    assert plan.rule.services == {"ec2"}
    assert plan.rule.actions == frozenset()
    [change] = plan.changes
    assert change.after == allow("big:Action00*")  # ec2 still goes; the big wildcard stays whole
    assert any("more than max_growth (3x); nothing removed from big" in note for note in plan.notes)

    generous = plan_for(facts(policy), rule, max_growth=100)
    assert generous.rule.actions == unused
    diff = render_diff(generous)
    denied = ", ".join(f"big:{name}" for name in MANY[1:100])
    assert f"    + Deny {denied}   [statement IamWardenPruned0]\n" in diff
    assert generous.changes[0].after is not None
    assert generous.changes[0].after["Statement"][0]["Action"] == ["big:Action00*"]  # the wildcard stays
    assert any("Deny statement IamWardenPruned0 takes away exactly" in note for note in generous.notes)


def test_inline_policies_that_would_take_the_role_over_its_total_are_skipped_largest_growth_first() -> None:
    quarters = [RolePolicy(PolicySource.INLINE, f"q{n}", allow(f"big:Action0{n}*")) for n in range(4)]
    rule = RemovalRule(
        frozenset(), frozenset(f"big:action0{n}{m:02d}withalongname" for n in range(4) for m in range(1, 100))
    )
    plan = plan_for(facts(*quarters), rule, max_growth=1000)
    # each quarter denies 99 actions (~3,000 characters, within limits alone); all four pass 10,240
    assert len(plan.changes) == 3
    assert any("skipped inline policy q" in note for note in plan.notes)
    assert sum(iam_size(c.after) for c in plan.changes if c.after) <= 10_240


def test_services_whose_granting_policies_were_not_all_read_are_kept() -> None:
    role = facts(RolePolicy(PolicySource.INLINE, "main", allow("ec2:*", "sqs:*", "sns:*")))
    report = AccessReport(role.arn, "job", NOW, {s: ServiceAccess(s, s, None) for s in ("ec2", "sqs", "sns")})
    rule = RemovalRule(frozenset({"ec2", "sqs", "sns"}), frozenset({"kms:decrypt"}))
    granting = {
        "ec2": frozenset({"inline:main"}),
        "sqs": frozenset({"inline:main", "arn:aws:iam::111122223333:policy/added-since"}),
    }
    confirmed, notes = confirmed_rule(rule, role, report, granting)
    assert confirmed.services == {"ec2"}
    assert confirmed.actions == frozenset()  # kms is not in the report: kept
    assert any("not read (arn:aws:iam::111122223333:policy/added-since)" in note for note in notes)
    assert any("kept service sns" in note for note in notes)


def summary(name: str, path: str = "/", age_days: int = 400) -> RoleSummary:
    return RoleSummary(f"arn:aws:iam::{ACCOUNT}:role{path}{name}", name, path, NOW - timedelta(days=age_days))


def test_the_planner_sends_due_plans_first_and_respects_both_bounds() -> None:
    roles = {
        ACCOUNT: [
            summary("a"),
            summary("b"),
            summary("c"),
            summary("due"),
            summary("AWSServiceRoleForX", "/aws-service-role/x.amazonaws.com/"),
            summary("iamwarden-enforcer"),
            summary("young", age_days=5),
        ],
        "444455556666": [RoleSummary("arn:aws:iam::444455556666:role/z", "z", "/", NOW - timedelta(days=400))],
    }
    states = {
        ACCOUNT: {
            f"arn:aws:iam::{ACCOUNT}:role/due": RoleState(ACCOUNT, "x", active_plan_id="p"),
            f"arn:aws:iam::{ACCOUNT}:role/a": RoleState(ACCOUNT, "x", last_checked="2026-11-19"),
            f"arn:aws:iam::{ACCOUNT}:role/b": RoleState(ACCOUNT, "x", last_checked="2026-11-01"),
        }
    }
    chosen = select_roles(PruneSettings(max_roles_per_account=3, max_roles_per_run=3), roles, states, NOW)
    assert chosen == [
        (ACCOUNT, f"arn:aws:iam::{ACCOUNT}:role/due"),
        ("444455556666", "arn:aws:iam::444455556666:role/z"),
        (ACCOUNT, f"arn:aws:iam::{ACCOUNT}:role/c"),
    ]
    everything = select_roles(PruneSettings(), roles, states, NOW)
    assert {arn.rsplit("/", 1)[1] for _, arn in everything} == {"a", "b", "c", "due", "z"}


def test_plans_removing_admin_equivalent_grants_are_named_and_others_are_not() -> None:
    role = facts(
        RolePolicy(PolicySource.INLINE, "main", allow("iam:*", "organizations:List*", "ec2:*", "iam:PassRole"))
    )
    admin = plan_for(role, RemovalRule(frozenset({"iam", "organizations", "ec2"}), frozenset(), ("iam:PassRole",)))
    # iam:* stays (the catalogue here does not know iam, and iam:PassRole is kept); ec2:* is no admin grant
    assert admin_removals(admin) == ("organizations:List*",)
    assert "- ec2:*" in render_diff(admin)
    plain = plan_for(role, RemovalRule(frozenset({"ec2"}), frozenset()))
    assert admin_removals(plain) == ()
    one_action = facts(RolePolicy(PolicySource.INLINE, "main", allow("iam:CreateUser", "ec2:RunInstances")))
    assert admin_removals(plan_for(one_action, RemovalRule(frozenset({"iam"}), frozenset()))) == ("iam:CreateUser",)
    assert admin_removals(plan_for(one_action, RemovalRule(frozenset(), frozenset({"iam:createuser"})))) == ()


def test_a_narrowed_plan_rewrites_every_change_from_its_before_document_and_drops_what_no_longer_changes() -> None:
    managed = RolePolicy(PolicySource.CUSTOMER_MANAGED, "own", allow("ec2:*"), arn=f"arn:aws:iam::{ACCOUNT}:policy/own")
    inline = RolePolicy(PolicySource.INLINE, "main", allow("ec2:RunInstances", "big:Action0001*", "s3:GetObject"))
    role = facts(inline, managed)
    plan = plan_for(role, RemovalRule(frozenset({"ec2"}), frozenset({"big:action0001withalongname"})))
    assert [change.method for change in plan.changes] == [Method.PUT_INLINE, Method.DETACH]

    narrowed = narrowed_plan(
        plan, RemovalRule(frozenset(), frozenset({"big:action0001withalongname"})), role.policies, CATALOGUE, "NOPRUNE"
    )

    [change] = narrowed.changes  # the managed policy only lost ec2: nothing to do any more
    assert change.key == "inline:main"
    assert change.after == {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["ec2:RunInstances", "big:Action0001*", "s3:GetObject"], "Resource": "*"},
            {"Sid": "IamWardenPruned0", "Effect": "Deny", "Action": ["big:Action0001WithALongName"], "Resource": "*"},
        ],
    }
    assert change.removed == ("big:Action0001WithALongName (from big:Action0001*)",)
    assert narrowed.rule.services == frozenset()
    assert (narrowed.plan_id, narrowed.policies_hash) == (plan.plan_id, plan.policies_hash)


def test_a_shared_or_aws_managed_policy_replaced_by_a_copy_says_it_is_frozen() -> None:
    shared = RolePolicy(
        PolicySource.AWS_MANAGED,
        "AmazonEC2ReadOnlyAccess",
        allow("ec2:Describe*", "s3:GetObject"),
        arn="arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess",
    )
    plan = plan_for(facts(shared), RemovalRule(frozenset({"ec2"}), frozenset()))
    assert [change.method for change in plan.changes] == [Method.COPY]
    assert any(
        "AWS managed: a role-scoped pruned copy replaces it, frozen as it is today" in note for note in plan.notes
    )
    assert "later updates of the original" in render_diff(plan)


# --- review s12 F1: a Deny never takes a grant the pruner keeps; F2: plans made by main's rewrite stay checkable

S3 = StaticCatalogue({"s3": ["CreateBucket", "GetObject", "PutObject", "ListBucket"]})
CREATE_BUCKET_UNUSED = RemovalRule(frozenset(), frozenset({"s3:createbucket"}), ("iam:PassRole", "sts:AssumeRole"))


def effective(role: RoleFacts, plan: PrunePlan, action: str) -> bool:
    """Whether the role is allowed ``action`` after the plan: some Allow of any policy, no Deny of any policy
    (an explicit Deny wins over every Allow of the role)."""
    after = {change.key: change.after for change in plan.changes}
    statements = [
        statement
        for policy in role.policies
        for document in [after.get(policy.key, policy.document)]
        if document is not None
        for statement in parse_policy(document).statements
    ]
    denied = any(not s.allows and s.grants_action(action) for s in statements)
    return not denied and any(s.allows and s.grants_action(action) for s in statements)


def test_a_recent_grant_in_another_policy_is_not_denied_by_the_wildcards_deny() -> None:
    old = RolePolicy(PolicySource.INLINE, "old", allow("s3:*"))
    new = RolePolicy(PolicySource.INLINE, "new-feature", allow("s3:CreateBucket"))
    role = facts(old, new)
    plan = build_plan(role, CREATE_BUCKET_UNUSED, S3, now=NOW, recent={new.key: frozenset({"action:s3:createbucket"})})
    assert effective(role, plan, "s3:CreateBucket")
    assert effective(role, plan, "s3:GetObject")
    assert any("kept s3:createbucket (from s3:*)" in note for note in plan.notes)


def test_a_noprune_statement_keeps_its_grant_beside_a_wildcard_losing_the_same_action() -> None:
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Sid": "NOPRUNEdisasterRecovery", "Effect": "Allow", "Action": "s3:CreateBucket", "Resource": "*"},
        ],
    }
    role = facts(RolePolicy(PolicySource.INLINE, "p", document))
    plan = build_plan(role, CREATE_BUCKET_UNUSED, S3, now=NOW, recent={})
    assert effective(role, plan, "s3:CreateBucket")


def test_a_cross_service_wildcard_elsewhere_keeps_the_action_and_without_one_the_deny_stays() -> None:
    wide = RolePolicy(PolicySource.INLINE, "wide", allow("*"))
    s3 = RolePolicy(PolicySource.INLINE, "s3", allow("s3:*"))
    assert effective(
        facts(s3, wide), build_plan(facts(s3, wide), CREATE_BUCKET_UNUSED, S3, now=NOW, recent={}), "s3:CreateBucket"
    )
    alone = facts(s3)
    plan = build_plan(alone, CREATE_BUCKET_UNUSED, S3, now=NOW, recent={})
    assert not effective(alone, plan, "s3:CreateBucket")
    assert effective(alone, plan, "s3:NewActionTheCatalogueLacks")


def test_a_deny_never_goes_into_a_customer_managed_policy_other_principals_may_attach() -> None:
    arn = f"arn:aws:iam::{ACCOUNT}:policy/app-s3"
    managed = RolePolicy(PolicySource.CUSTOMER_MANAGED, "app-s3", allow("s3:*"), arn, attachment_count=1)
    plan = build_plan(facts(managed), CREATE_BUCKET_UNUSED, S3, now=NOW, recent={})
    assert [change.method for change in plan.changes] == [Method.COPY]
    narrowing = RemovalRule(frozenset({"ec2"}), frozenset(), ("iam:PassRole", "sts:AssumeRole"))
    only_ec2 = RolePolicy(PolicySource.CUSTOMER_MANAGED, "app", allow("s3:*", "ec2:*"), arn, attachment_count=1)
    assert [change.method for change in plan_for(facts(only_ec2), narrowing).changes] == [Method.NEW_VERSION]


#: A plan exactly as main's pruner (before the Deny, no rewrite_version) stored it: s3:* expanded, ec2:* removed.
MAIN_PLAN: dict[str, Any] = {
    "plan_id": "prune-20261120-aab805a04d",
    "account": ACCOUNT,
    "role_arn": f"arn:aws:iam::{ACCOUNT}:role/app",
    "role_name": "app",
    "created_at": "2026-11-20T12:00:00+00:00",
    "policies_hash": "017ee550057370f06403cb165a250a22da383fd40813566fc38e9cf1d1267040",
    "rule": {"services": ["ec2"], "actions": ["s3:createbucket"], "keep": ["iam:PassRole", "sts:AssumeRole"]},
    "changes": [
        {
            "key": "inline:p",
            "source": "inline",
            "name": "p",
            "arn": None,
            "method": "put_inline",
            "before": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": ["s3:*", "ec2:*"], "Resource": "*"}],
            },
            "after": {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"], "Resource": "*"}
                ],
            },
            "removed": ["s3:CreateBucket (from s3:*)", "ec2:*"],
            "edits": [
                {
                    "position": 0,
                    "sid": None,
                    "removed": ["s3:CreateBucket (from s3:*)", "ec2:*"],
                    "excluded": [],
                    "dropped": False,
                    "expanded": [{"pattern": "s3:*", "into": 3}],
                }
            ],
            "recent": [],
        }
    ],
    "notes": [],
    "owners": [],
    "status": "applied",
    "mode": "enforce",
    "apply_on": None,
    "current_hash": None,
    "executed": [],
    "rolled_back_services": [],
    "history": [],
}


def test_a_plan_made_by_mains_rewrite_passes_its_checks_and_rolls_back_partly_the_way_it_was_made() -> None:
    plan = PrunePlan.from_dict(MAIN_PLAN)
    assert plan.rewrite_version == 1
    live = (RolePolicy(PolicySource.INLINE, "p", MAIN_PLAN["changes"][0]["before"]),)
    assert rewrite_discrepancies(plan, S3, "NOPRUNE") == []
    assert plan_discrepancies(plan, live, S3, "NOPRUNE") == []
    # giving back ec2 only keeps main's expansion of s3:* (no Deny appears in an old plan's policy)
    back = rewrite_change(plan.changes[0], plan.rule.without({"ec2"}), S3, "NOPRUNE", plan.rewrite_version)
    assert back == {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "ec2:*"], "Resource": "*"}
        ],
    }
    # the old version's check still catches a forged after-document
    forged = json.loads(json.dumps(MAIN_PLAN))
    forged["changes"][0]["after"]["Statement"][0]["Action"].append("iam:*")
    assert rewrite_discrepancies(PrunePlan.from_dict(forged), S3, "NOPRUNE") != []
    # and today's plans say which rewrite made them
    made = build_plan(facts(*live), plan.rule, S3, now=NOW, recent={})
    assert made.rewrite_version == REWRITE_VERSION == PrunePlan.from_dict(made.to_dict()).rewrite_version
    assert rewrite_discrepancies(made, S3, "NOPRUNE") == []


def test_a_policy_skipped_for_the_inline_limit_loses_nothing_to_a_deny_written_elsewhere() -> None:
    """Second reading s12: with the role's inline total over IAM's limit one policy is skipped ("nothing removed
    from it"), but a Deny of the same action written into the other would take it from the skipped one too (an
    explicit Deny wins over every Allow). The service is given back instead, and the plan says why."""
    account = "111122223333"
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    catalogue = StaticCatalogue({"s3": ["GetObject", "PutObject", "DeleteBucket"]})

    def document(instances: int) -> dict[str, Any]:
        pad = [f"arn:aws:ec2:*:{account}:instance/i-{i:017d}" for i in range(instances)]
        return {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": ["ec2:StartInstances"], "Resource": pad},
                {"Effect": "Allow", "Action": ["s3:*"], "Resource": "*"},
            ],
        }

    def sized(target: int) -> dict[str, Any]:
        count = 1
        while iam_size(document(count + 1)) <= target:
            count += 1
        return document(count)

    one = RolePolicy(PolicySource.INLINE, "one", sized(5150))
    two = RolePolicy(PolicySource.INLINE, "two", sized(5020))
    role = RoleFacts(f"arn:aws:iam::{account}:role/app", account, "app", "/", now - timedelta(days=400), {}, (one, two))

    plan = build_plan(role, RemovalRule(frozenset(), frozenset({"s3:deletebucket"})), catalogue, now=now, recent={})

    assert plan.changes == ()  # no Deny anywhere: s3:DeleteBucket stays granted by both, as the notes say
    assert any(note.startswith("skipped inline policy one") for note in plan.notes)
    assert any(
        note.startswith("kept s3:deletebucket: a policy skipped for IAM's limits grants it") for note in plan.notes
    )
