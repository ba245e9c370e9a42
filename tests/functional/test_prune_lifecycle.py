"""The pruner's lifecycle against moto's IAM and DynamoDB, with Access Advisor stubbed.

Announce with the exact diff and date, wait, apply only the frozen plan and
only if the role is unchanged, roll back exactly (all or one service),
cancel, and every fail-closed path.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any, cast

import boto3
import pytest
from moto import mock_aws

from iamwarden.prune.adapters.iam_reader import IamReader
from iamwarden.prune.adapters.store import PruneStore
from iamwarden.prune.app.service import Pruner
from iamwarden.prune.domain.catalogue import StaticCatalogue
from iamwarden.prune.domain.decide import updated_ledger
from iamwarden.prune.domain.notices import NoticeKind
from iamwarden.prune.domain.plan import PlanStatus, PrunePlan, rewrite_change
from iamwarden.prune.domain.settings import PruneMode, PruneSettings
from iamwarden.prune.exceptions import AccessAdvisorNotReady, PlanNotFoundError, PlanStateError, PreconditionFailedError
from tests.functional.prune_support import (
    ACCOUNT,
    JOB,
    REGION,
    AccessAdvisorStub,
    Clock,
    FakeNotices,
    allow,
    create_role,
    create_state_table,
    document,
    service,
)

CATALOGUE = StaticCatalogue(
    {
        "s3": ["GetObject", "GetBucketPolicy", "GetBucketTagging", "PutObject", "CreateBucket"],
        "ec2": ["DescribeInstances", "RunInstances"],
        "sqs": ["SendMessage", "ReceiveMessage"],
        "sts": ["AssumeRole", "GetCallerIdentity"],
    }
)
CONDITION = {"StringEquals": {"aws:ResourceAccount": ACCOUNT}}
MAIN = document(
    allow("s3:Get*", "s3:PutObject", resource="arn:aws:s3:::orders/*", Sid="Storage", Condition=CONDITION),
    allow("ec2:*"),
    {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::orders/locked/*"},
    allow("sqs:*", Sid="NOPRUNEQueue"),
    allow("sts:*"),
)


class World:
    def __init__(self, settings: PruneSettings) -> None:
        self.clock = Clock()
        self.clock.advance(1 / 24)  # moto stamps roles with the real time; the pruner looks a little later
        self.iam = boto3.client("iam", region_name=REGION)
        self.store = create_state_table()
        self.stub = AccessAdvisorStub(self.clock)
        self.notices = FakeNotices()
        self.settings = settings

    def pruner(self, **changes: Any) -> Pruner:
        return Pruner(
            iam_for=lambda account: self.iam,
            store=self.store,
            notices=self.notices,
            catalogue=CATALOGUE,
            settings=self.settings._replace(**changes),
            clock=self.clock,
            advisor_for=self.stub.advisor,
        )

    def seed_ledger(self, role_arn: str, days_ago: int = 30) -> None:
        """The pruner has seen the role's grants for a while (else every grant is recent and kept)."""
        facts = IamReader(self.iam).role(role_arn)
        state = self.store.role(ACCOUNT, role_arn)
        ledger = updated_ledger(facts, {}, self.clock.now - timedelta(days=days_ago))
        self.store.save_role(state._replace(ledger=ledger), self.clock.now)

    def access_advisor(self, role_arn: str, grants: dict[str, list[str]] | None = None) -> None:
        used = self.clock.now - timedelta(days=3)
        self.stub.generate(role_arn)
        self.stub.page(
            [
                service("s3", used, {"GetBucketTagging": None, "GetBucketPolicy": used, "CreateBucket": None}),
                service("ec2", None, {"RunInstances": None, "DescribeInstances": None}),
                service("sqs", self.clock.now - timedelta(days=200)),
                service("sts", None),
            ],
            next_marker="page-2",
        )
        self.stub.page([service("dynamodb", None)], marker="page-2")
        self.stub.granting(
            role_arn,
            grants
            or {
                "dynamodb": ["inline:main"],
                "ec2": ["inline:main"],
                "sqs": ["inline:main"],
                "sts": ["inline:main"],
            },
        )

    def reread(self, role_arn: str, services: list[dict[str, Any]] | None = None, *, start: bool = True) -> None:
        """Access Advisor's answer on the apply date (review s11 F8): by default the same picture as at planning;
        ``start``: a new job is started (else the pending one is read)."""
        used = self.clock.now - timedelta(days=3)
        if start:
            self.stub.generate(role_arn)
        self.stub.page(
            services
            if services is not None
            else [
                service("s3", used, {"GetBucketTagging": None, "GetBucketPolicy": used, "CreateBucket": None}),
                service("ec2", None, {"RunInstances": None, "DescribeInstances": None}),
                service("sqs", self.clock.now - timedelta(days=200)),
                service("sts", None),
                service("dynamodb", None),
            ]
        )

    def inline(self, role: str, name: str = "main") -> dict[str, Any]:
        return cast(dict[str, Any], self.iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"])

    def default_document(self, arn: str) -> dict[str, Any]:
        version = self.iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        answer = self.iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
        return cast(dict[str, Any], answer)

    def attached(self, role: str) -> set[str]:
        return {p["PolicyArn"] for p in self.iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]}


@pytest.fixture
def world() -> Iterator[World]:
    with mock_aws():
        yield World(PruneSettings(mode=PruneMode.ENFORCE, min_role_age_days=0))


EXPECTED_MAIN = document(
    # s3 is used: its wildcard stays and a Deny over the same resources takes exactly the unused tracked action,
    # so any s3:Get* the catalogue does not list stays granted (review s11 F12)
    allow("s3:Get*", "s3:PutObject", resource="arn:aws:s3:::orders/*", Sid="Storage", Condition=CONDITION),
    {
        "Sid": "IamWardenPruned0",
        "Effect": "Deny",
        "Action": ["s3:GetBucketTagging"],
        "Resource": "arn:aws:s3:::orders/*",
        "Condition": CONDITION,
    },
    {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::orders/locked/*"},
    allow("sqs:*", Sid="NOPRUNEQueue"),
    {"Effect": "Allow", "Action": ["sts:AssumeRole"], "Resource": "*"},
)


def test_announce_wait_apply_then_roll_back_exactly(world: World) -> None:
    arn = create_role(world.iam, "app", {"main": MAIN}, tags={"owner": "team-orders@example.com"})
    world.seed_ledger(arn)
    world.access_advisor(arn)

    announced = world.pruner().process_role(ACCOUNT, arn)
    assert announced.outcome == "announced"
    world.stub.stubber.assert_no_pending_responses()
    plan = world.store.plan(str(announced.plan_id))
    assert plan.status is PlanStatus.ANNOUNCED
    assert plan.apply_on == (world.clock.now + timedelta(days=7)).date().isoformat()
    assert plan.rule.services == {"ec2", "sqs", "sts", "dynamodb"}
    assert plan.rule.actions == {"s3:getbuckettagging", "s3:createbucket"}
    [notice] = world.notices.sent
    assert notice.kind is NoticeKind.PLANNED
    assert notice.owners == ("team-orders@example.com",)
    assert notice.apply_on == plan.apply_on
    assert "- s3:GetBucketTagging (from s3:Get*)" in notice.diff
    assert "- ec2:*" in notice.diff
    assert f"iamwarden prune cancel {plan.plan_id}" in notice.summary
    assert world.inline("app") == MAIN  # nothing changes before the date

    world.clock.advance(3)
    waiting = world.pruner().process_role(ACCOUNT, arn)
    assert waiting.outcome == "waiting"  # before the date: no Access Advisor call, no new plan, the same date
    assert world.store.plan(plan.plan_id).apply_on == plan.apply_on

    world.clock.advance(4)
    world.reread(arn)  # on the date Access Advisor is asked again: ec2 etc. are still unused (review s11 F8)
    applied = world.pruner().process_role(ACCOUNT, arn)
    assert applied.outcome == "applied"
    assert world.inline("app") == EXPECTED_MAIN
    done = world.store.plan(plan.plan_id)
    assert done.status is PlanStatus.APPLIED
    assert [entry["status"] for entry in done.history] == ["announced", "applying", "applied"]
    assert world.notices.sent[-1].rollback_command == f"iamwarden prune rollback {plan.plan_id}"

    partly, came_back = world.pruner().rollback(plan.plan_id, ["ec2"])
    assert partly.status is PlanStatus.PARTLY_ROLLED_BACK
    assert came_back == ["ec2:*"]
    assert world.inline("app")["Statement"][2] == allow("ec2:*")
    assert {"Effect": "Allow", "Action": ["sts:AssumeRole"], "Resource": "*"} in world.inline("app")["Statement"]

    full, rest = world.pruner().rollback(plan.plan_id)
    assert full.status is PlanStatus.ROLLED_BACK
    assert rest == ["s3:GetBucketTagging (from s3:Get*)", "sts:GetCallerIdentity (from sts:*)"]
    assert world.inline("app") == MAIN


def test_report_mode_records_the_plan_and_changes_nothing(world: World) -> None:
    arn = create_role(world.iam, "app", {"main": MAIN})
    world.seed_ledger(arn)
    world.access_advisor(arn)
    outcome = world.pruner(mode=PruneMode.REPORT).process_role(ACCOUNT, arn)
    assert outcome.outcome == "reported"
    assert world.store.plan(str(outcome.plan_id)).status is PlanStatus.REPORTED
    assert world.store.role(ACCOUNT, arn).active_plan_id is None
    assert world.notices.sent == []
    assert world.inline("app") == MAIN


def test_notify_mode_announces_but_never_applies(world: World) -> None:
    arn = create_role(world.iam, "app", {"main": MAIN})
    world.seed_ledger(arn)
    world.access_advisor(arn)
    pruner = world.pruner(mode=PruneMode.NOTIFY)
    announced = pruner.process_role(ACCOUNT, arn)
    assert "would be removed" in world.notices.sent[0].summary
    world.clock.advance(8)
    expired = world.pruner(mode=PruneMode.ENFORCE).process_role(ACCOUNT, arn)
    assert expired.outcome == "expired"  # announced as notify: never applied, even after switching mode
    assert world.store.plan(str(announced.plan_id)).status is PlanStatus.EXPIRED
    assert world.inline("app") == MAIN
    assert world.pruner().process_role(ACCOUNT, arn).outcome == "snoozed"


def test_a_role_changed_after_the_announcement_is_not_pruned(world: World) -> None:
    arn = create_role(world.iam, "app", {"main": MAIN})
    world.seed_ledger(arn)
    world.access_advisor(arn)
    announced = world.pruner().process_role(ACCOUNT, arn)
    changed = document(*MAIN["Statement"], allow("kms:Decrypt"))
    world.iam.put_role_policy(RoleName="app", PolicyName="main", PolicyDocument=json.dumps(changed))
    world.clock.advance(7)
    outcome = world.pruner().process_role(ACCOUNT, arn)
    assert outcome.outcome == "superseded"
    world.stub.stubber.assert_no_pending_responses()  # refused before any Access Advisor job
    assert world.inline("app") == changed
    assert world.store.plan(str(announced.plan_id)).status is PlanStatus.SUPERSEDED
    assert world.notices.sent[-1].kind is NoticeKind.NOT_APPLIED
    assert world.store.role(ACCOUNT, arn).active_plan_id is None


def test_cancel_withdraws_an_announced_plan_and_snoozes_the_role(world: World) -> None:
    arn = create_role(world.iam, "app", {"main": MAIN})
    world.seed_ledger(arn)
    world.access_advisor(arn)
    announced = world.pruner().process_role(ACCOUNT, arn)
    cancelled = world.pruner().cancel(str(announced.plan_id), by="alice")
    assert cancelled.status is PlanStatus.CANCELLED
    assert cancelled.history[-1]["what"] == "cancelled by alice"
    world.clock.advance(8)
    assert world.pruner().process_role(ACCOUNT, arn).outcome == "snoozed"
    assert world.inline("app") == MAIN
    with pytest.raises(PlanStateError, match="only an announced plan can be cancelled"):
        world.pruner().cancel(str(announced.plan_id), by="alice")
    with pytest.raises(PlanStateError, match="only an applied plan can be rolled back"):
        world.pruner().rollback(str(announced.plan_id))
    with pytest.raises(PlanNotFoundError):
        world.pruner().cancel("prune-20260101-nothere", by="alice")


def test_rollback_refuses_when_the_role_changed_since_the_prune(world: World) -> None:
    arn = create_role(world.iam, "app", {"main": MAIN})
    world.seed_ledger(arn)
    world.access_advisor(arn)
    plan_id = str(world.pruner().process_role(ACCOUNT, arn).plan_id)
    world.clock.advance(7)
    world.reread(arn)
    world.pruner().process_role(ACCOUNT, arn)
    world.iam.put_role_policy(
        RoleName="app", PolicyName="extra", PolicyDocument=json.dumps(document(allow("kms:Decrypt")))
    )
    with pytest.raises(PreconditionFailedError):
        world.pruner().rollback(plan_id)
    with pytest.raises(PlanStateError, match="it can give back"):
        world.pruner().rollback(plan_id, ["kms"])


def test_an_unfinished_job_goes_back_to_the_queue_and_is_reused(world: World) -> None:
    arn = create_role(world.iam, "app", {"main": MAIN})
    world.seed_ledger(arn)
    world.stub.generate(arn)
    for _ in range(4):
        world.stub.page([], status="IN_PROGRESS")
    with pytest.raises(AccessAdvisorNotReady):
        world.pruner().process_role(ACCOUNT, arn)
    assert world.store.role(ACCOUNT, arn).pending_job_id == JOB
    # the retry reads the same job (no new GenerateServiceLastAccessedDetails)
    used = world.clock.now - timedelta(days=1)
    world.stub.page([service("s3", used)])
    assert world.pruner().process_role(ACCOUNT, arn).outcome == "nothing_unused"
    world.stub.stubber.assert_no_pending_responses()
    assert world.store.role(ACCOUNT, arn).pending_job_id is None


def test_a_failed_job_is_no_decision_and_a_later_run_starts_afresh(world: World) -> None:
    arn = create_role(world.iam, "app", {"main": MAIN})
    world.seed_ledger(arn)
    world.stub.generate(arn)
    world.stub.page([], status="FAILED", error={"Code": "ServiceFailure", "Message": "try later"})
    outcome = world.pruner().process_role(ACCOUNT, arn)
    assert outcome.outcome == "no_decision"
    assert world.store.role(ACCOUNT, arn).pending_job_id is None
    assert world.inline("app") == MAIN


def test_services_missing_from_access_advisor_and_untracked_actions_are_kept(world: World) -> None:
    policy = document(allow("s3:GetObject", "s3:CreateBucket", "kms:Decrypt", "ec2:RunInstances"))
    arn = create_role(world.iam, "app", {"main": policy})
    world.seed_ledger(arn)
    world.stub.generate(arn)
    used = world.clock.now - timedelta(days=1)
    # kms is missing from the answer; s3:GetObject is not tracked; ec2 is used
    world.stub.page([service("s3", used, {"CreateBucket": None}), service("ec2", used)])
    outcome = world.pruner(mode=PruneMode.REPORT).process_role(ACCOUNT, arn)
    plan = world.store.plan(str(outcome.plan_id))
    [change] = plan.changes
    assert change.after == document(allow("s3:GetObject", "kms:Decrypt", "ec2:RunInstances"))


def test_a_role_whose_grants_are_all_younger_than_recent_days_is_skipped_as_warming_up(world: World) -> None:
    arn = create_role(world.iam, "app", {"main": MAIN})  # no seeded ledger: every grant is first seen today
    first_seen = world.clock.now.date()

    outcome = world.pruner().process_role(ACCOUNT, arn)

    assert outcome.outcome == "skipped"
    assert outcome.detail == (
        f"warming up: IAM Warden first saw this role's grants on {first_seen.isoformat()} and keeps grants "
        f"younger than recent_days (14); its first plan can come on {(first_seen + timedelta(days=14)).isoformat()}"
    )
    world.stub.stubber.assert_no_pending_responses()  # Access Advisor was not asked: nothing could go anyway
    world.clock.advance(13)
    assert world.pruner().process_role(ACCOUNT, arn).detail.startswith("warming up:")
    world.clock.advance(1)
    world.access_advisor(arn)
    assert world.pruner().process_role(ACCOUNT, arn).outcome == "announced"


def test_grants_the_pruner_has_not_seen_for_recent_days_are_kept(world: World) -> None:
    arn = create_role(world.iam, "app", {"main": MAIN})
    world.seed_ledger(arn)
    world.iam.put_role_policy(RoleName="app", PolicyName="added", PolicyDocument=json.dumps(document(allow("ec2:*"))))
    world.access_advisor(
        arn,
        grants={
            "dynamodb": ["inline:main"],
            "ec2": ["inline:main", "inline:added"],
            "sqs": ["inline:main"],
            "sts": ["inline:main"],
        },
    )
    outcome = world.pruner().process_role(ACCOUNT, arn)
    assert outcome.outcome == "announced", outcome.detail
    assert "kept ec2:* in inline policy added statement 0: granted less than recent_days ago" in outcome.detail


def test_the_kill_switch_and_exempt_roles(world: World) -> None:
    arn = create_role(world.iam, "app", {"main": MAIN}, tags={"iamwarden:prune-exempt-until": "2999-01-01"})
    assert world.pruner(enabled=False).process_role(ACCOUNT, arn).outcome == "disabled"
    skipped = world.pruner().process_role(ACCOUNT, arn)
    assert skipped.outcome == "skipped"
    assert "2999-01-01" in skipped.detail
    young = world.pruner(min_role_age_days=90).process_role(ACCOUNT, create_role(world.iam, "new", {"main": MAIN}))
    assert young.outcome == "skipped"
    world.stub.stubber.assert_no_pending_responses()  # no Access Advisor call for skipped roles


def test_an_unreadable_role_is_no_decision(world: World) -> None:
    outcome = world.pruner().process_role(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:role/ghost")
    assert outcome.outcome == "no_decision"
    assert "cannot read role" in outcome.detail


#: MAIN without s3: nothing of it needs a Deny, so its unshared customer-managed policy is edited in place.
NO_DENY = document(allow("ec2:*"), allow("sqs:*", Sid="NOPRUNEQueue"), allow("sts:*"))


def test_a_customer_managed_policy_with_five_versions_gets_a_new_default_and_rolls_back(world: World) -> None:
    arn = create_role(world.iam, "app")
    policy_arn = world.iam.create_policy(
        PolicyName="app-policy", PolicyDocument=json.dumps(document(allow("s3:GetObject")))
    )["Policy"]["Arn"]
    for _ in range(3):
        world.iam.create_policy_version(
            PolicyArn=policy_arn, PolicyDocument=json.dumps(document(allow("s3:GetObject")))
        )
    world.iam.create_policy_version(PolicyArn=policy_arn, PolicyDocument=json.dumps(NO_DENY), SetAsDefault=True)
    world.iam.attach_role_policy(RoleName="app", PolicyArn=policy_arn)
    world.seed_ledger(arn)
    world.access_advisor(arn, {key: [policy_arn] for key in ("dynamodb", "ec2", "sqs", "sts")})
    plan_id = str(world.pruner().process_role(ACCOUNT, arn).plan_id)
    world.clock.advance(7)
    world.reread(arn)
    assert world.pruner().process_role(ACCOUNT, arn).outcome == "applied"
    assert world.default_document(policy_arn) == document(
        allow("sqs:*", Sid="NOPRUNEQueue"), {"Effect": "Allow", "Action": ["sts:AssumeRole"], "Resource": "*"}
    )
    versions = world.iam.list_policy_versions(PolicyArn=policy_arn)["Versions"]
    assert len(versions) == 5
    plan = world.store.plan(plan_id)
    [deleted] = [step for step in plan.executed if step["step"] == "delete_version"]
    assert deleted["version_id"] == "v1"
    assert deleted["document"] == document(allow("s3:GetObject"))  # the deleted version is kept in the record
    world.pruner().rollback(plan_id)
    assert world.default_document(policy_arn) == NO_DENY


def test_an_unshared_customer_managed_policy_that_needs_a_deny_gets_a_role_scoped_copy(world: World) -> None:
    """Review s12 F1: a Deny in a reusable named policy would also deny whoever attaches it later."""
    arn = create_role(world.iam, "app")
    policy_arn = world.iam.create_policy(PolicyName="app-policy", PolicyDocument=json.dumps(MAIN))["Policy"]["Arn"]
    world.iam.attach_role_policy(RoleName="app", PolicyArn=policy_arn)
    world.seed_ledger(arn)
    world.access_advisor(arn, {key: [policy_arn] for key in ("dynamodb", "ec2", "sqs", "sts")})
    plan_id = str(world.pruner().process_role(ACCOUNT, arn).plan_id)
    world.clock.advance(7)
    world.reread(arn)
    assert world.pruner().process_role(ACCOUNT, arn).outcome == "applied"
    assert world.default_document(policy_arn) == MAIN  # the original never holds the Deny
    attached = [p["PolicyArn"] for p in world.iam.list_attached_role_policies(RoleName="app")["AttachedPolicies"]]
    [copy_arn] = attached
    assert ":policy/iamwarden-pruned/" in copy_arn
    assert world.default_document(copy_arn) == EXPECTED_MAIN
    world.pruner().rollback(plan_id)
    attached = [p["PolicyArn"] for p in world.iam.list_attached_role_policies(RoleName="app")["AttachedPolicies"]]
    assert attached == [policy_arn]


def test_a_shared_policy_gets_a_role_scoped_copy_and_the_original_is_untouched(world: World) -> None:
    arn = create_role(world.iam, "app")
    create_role(world.iam, "other")
    policy_arn = world.iam.create_policy(PolicyName="shared", PolicyDocument=json.dumps(MAIN))["Policy"]["Arn"]
    world.iam.attach_role_policy(RoleName="app", PolicyArn=policy_arn)
    world.iam.attach_role_policy(RoleName="other", PolicyArn=policy_arn)
    world.seed_ledger(arn)
    world.access_advisor(arn, {key: [policy_arn] for key in ("dynamodb", "ec2", "sqs", "sts")})
    plan_id = str(world.pruner().process_role(ACCOUNT, arn).plan_id)
    world.clock.advance(7)
    world.reread(arn)
    assert world.pruner().process_role(ACCOUNT, arn).outcome == "applied"
    [copy_arn] = world.attached("app")
    assert copy_arn.startswith(f"arn:aws:iam::{ACCOUNT}:policy/iamwarden-pruned/shared-pruned-app-")
    assert world.default_document(copy_arn) == EXPECTED_MAIN
    assert world.default_document(policy_arn) == MAIN
    assert world.attached("other") == {policy_arn}
    world.pruner().rollback(plan_id)
    assert world.attached("app") == {policy_arn}
    with pytest.raises(world.iam.exceptions.NoSuchEntityException):
        world.iam.get_policy(PolicyArn=copy_arn)


def test_the_watch_alerts_on_a_denied_action_the_prune_removed(world: World) -> None:
    arn = create_role(world.iam, "app", {"main": MAIN}, tags={"owner": "team@example.com"})
    world.seed_ledger(arn)
    world.access_advisor(arn)
    plan_id = str(world.pruner().process_role(ACCOUNT, arn).plan_id)
    world.clock.advance(7)
    world.reread(arn)
    world.pruner().process_role(ACCOUNT, arn)

    def denied(source: str, name: str, issuer: str = arn, kind: str = "AssumedRole") -> dict[str, Any]:
        return {
            "detail-type": "AWS API Call via CloudTrail",
            "detail": {
                "eventSource": source,
                "eventName": name,
                "errorCode": "Client.UnauthorizedOperation",
                "userIdentity": {"type": kind, "sessionContext": {"sessionIssuer": {"type": "Role", "arn": issuer}}},
            },
        }

    notice = world.pruner().access_denied(denied("ec2.amazonaws.com", "RunInstances"))
    assert notice is not None
    assert notice.rollback_command == f"iamwarden prune rollback {plan_id} --service ec2"
    assert notice.owners == ("team@example.com",)
    assert world.pruner().access_denied(denied("s3.amazonaws.com", "GetObject")) is None  # not removed
    assert "Deny statement" not in notice.summary  # ec2 went from the Allow: rolling back is the way
    by_deny = world.pruner().access_denied(denied("s3.amazonaws.com", "GetBucketTagging"))
    assert by_deny is not None  # review s12 F4: re-granting does not help; the notice names the statement to remove
    assert "does not help" in by_deny.summary
    assert "remove statement IamWardenPruned0 of policy main" in by_deny.summary
    assert world.pruner().access_denied(denied("ec2.amazonaws.com", "RunInstances", kind="IAMUser")) is None
    other = f"arn:aws:iam::{ACCOUNT}:role/unpruned"
    assert world.pruner().access_denied(denied("ec2.amazonaws.com", "RunInstances", issuer=other)) is None
    world.clock.advance(15)
    assert world.pruner().access_denied(denied("ec2.amazonaws.com", "RunInstances")) is None  # past watch_days


def test_the_store_needs_its_table(world: World) -> None:
    from iamwarden.prune.exceptions import StoreError

    missing = PruneStore(boto3.client("dynamodb", region_name=REGION), "no-such-table")
    with pytest.raises(StoreError, match="cannot read"):
        missing.role(ACCOUNT, "arn")
    with pytest.raises(StoreError, match="cannot write"):
        missing.save_plan(_any_plan(), world.clock.now)


def _any_plan() -> Any:
    from iamwarden.prune.domain.decide import RemovalRule
    from iamwarden.prune.domain.plan import PrunePlan

    return PrunePlan("p", ACCOUNT, "arn", "r", "2026-01-01", "h", RemovalRule(frozenset(), frozenset()), ())


def test_an_aws_managed_policy_is_replaced_by_a_pruned_copy_and_given_back() -> None:
    with mock_aws(config={"iam": {"load_aws_managed_policies": True}}):
        world = World(PruneSettings(mode=PruneMode.ENFORCE, min_role_age_days=0))
        aws_arn = "arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess"
        arn = create_role(world.iam, "app")
        world.iam.attach_role_policy(RoleName="app", PolicyArn=aws_arn)
        original = world.default_document(aws_arn)
        world.seed_ledger(arn)
        used = world.clock.now - timedelta(days=1)
        world.stub.generate(arn)
        world.stub.page(
            [
                service("ec2", used),
                service("elasticloadbalancing", None),
                service("cloudwatch", used),
                service("autoscaling", None),
            ]
        )
        world.stub.granting(arn, {"autoscaling": [aws_arn], "elasticloadbalancing": [aws_arn]})
        plan_id = str(world.pruner().process_role(ACCOUNT, arn).plan_id)
        world.clock.advance(7)
        world.reread(arn, [service("ec2", used), service("elasticloadbalancing", None), service("autoscaling", None)])
        assert world.pruner().process_role(ACCOUNT, arn).outcome == "applied"
        [copy_arn] = world.attached("app")
        assert copy_arn != aws_arn
        pruned = json.dumps(world.default_document(copy_arn))
        assert "elasticloadbalancing:" not in pruned
        assert "autoscaling:" not in pruned
        assert "ec2:Describe*" in pruned
        assert world.default_document(aws_arn) == original  # AWS-managed policies are never edited
        world.pruner().rollback(plan_id)
        assert world.attached("app") == {aws_arn}


def test_an_apply_that_fails_part_way_is_recorded_and_rolls_back_to_every_before_state(world: World) -> None:
    from iamwarden.prune.adapters.executor import _copy_name

    arn = create_role(world.iam, "app", {"main": MAIN})
    create_role(world.iam, "other")
    shared = world.iam.create_policy(PolicyName="shared", PolicyDocument=json.dumps(MAIN))["Policy"]["Arn"]
    for role_name in ("app", "other"):
        world.iam.attach_role_policy(RoleName=role_name, PolicyArn=shared)
    world.seed_ledger(arn)
    world.access_advisor(arn, {key: ["inline:main", shared] for key in ("dynamodb", "ec2", "sqs", "sts")})
    plan_id = str(world.pruner().process_role(ACCOUNT, arn).plan_id)
    # someone takes the copy's name: CreatePolicy fails after the inline policy was rewritten
    name = _copy_name("shared", "app", plan_id)
    world.iam.create_policy(PolicyName=name, Path="/iamwarden-pruned/", PolicyDocument=json.dumps(MAIN))
    world.clock.advance(7)
    world.reread(arn)
    outcome = world.pruner().process_role(ACCOUNT, arn)
    assert outcome.outcome == "failed"
    assert f"iamwarden prune rollback {plan_id}" in outcome.detail
    failed = world.store.plan(plan_id)
    assert failed.status is PlanStatus.FAILED
    assert [step["step"] for step in failed.executed] == ["put_inline"]
    assert world.notices.sent[-1].kind is NoticeKind.FAILED
    assert world.inline("app") == EXPECTED_MAIN
    rolled, _ = world.pruner().rollback(plan_id)
    assert rolled.status is PlanStatus.ROLLED_BACK
    assert world.inline("app") == MAIN
    assert world.attached("app") == {shared}
    assert world.store.role(ACCOUNT, arn).active_plan_id is None


def _applied_plan(world: World, arn: str) -> str:
    world.seed_ledger(arn)
    world.access_advisor(arn)
    announced = world.pruner().process_role(ACCOUNT, arn)
    world.clock.advance(7)
    world.reread(arn)
    assert world.pruner().process_role(ACCOUNT, arn).outcome == "applied"
    return str(announced.plan_id)


def test_a_rollback_snoozes_the_role_so_the_same_plan_is_not_announced_the_next_day(world: World) -> None:
    arn = create_role(world.iam, "app", {"main": MAIN})
    plan_id = _applied_plan(world, arn)
    announced_before = len(world.notices.sent)

    world.pruner().rollback(plan_id, ["ec2"], by="arn:aws:sts::123456789012:assumed-role/SecOps/alice")

    assert (
        world.store.plan(plan_id).history[-1]["what"]
        == "gave back ec2 by arn:aws:sts::123456789012:assumed-role/SecOps/alice"
    )
    world.clock.advance(1)
    snoozed = world.pruner().process_role(ACCOUNT, arn)
    assert snoozed.outcome == "snoozed"
    assert "an applied plan was rolled back; no new plan before" in snoozed.detail
    assert len(world.notices.sent) == announced_before  # nobody is told the same thing again
    world.clock.advance(88)
    assert world.pruner().process_role(ACCOUNT, arn).outcome == "snoozed"  # day 89: the default is 90 days


def test_the_rollback_snooze_is_a_setting(world: World) -> None:
    arn = create_role(world.iam, "app", {"main": MAIN})
    plan_id = _applied_plan(world, arn)
    world.pruner(rollback_snooze_days=2).rollback(plan_id)

    world.clock.advance(1)
    assert world.pruner(rollback_snooze_days=2).process_role(ACCOUNT, arn).outcome == "snoozed"
    world.clock.advance(2)
    world.access_advisor(arn)
    assert world.pruner(rollback_snooze_days=2).process_role(ACCOUNT, arn).outcome != "snoozed"


# --- review s11 F8: on the apply date Access Advisor is asked again; only what is still unused goes


def test_what_was_used_since_the_announcement_is_dropped_from_the_plan_and_the_notice_says_so(world: World) -> None:
    arn = create_role(world.iam, "app", {"main": MAIN}, tags={"owner": "team-orders@example.com"})
    world.seed_ledger(arn)
    world.access_advisor(arn)
    plan_id = str(world.pruner().process_role(ACCOUNT, arn).plan_id)
    world.clock.advance(7)
    yesterday = world.clock.now - timedelta(days=1)
    old = world.clock.now - timedelta(days=200)
    world.reread(
        arn,
        [  # the team shipped the feature that uses ec2 and s3:CreateBucket during the notice period
            service(
                "s3", yesterday, {"GetBucketTagging": None, "GetBucketPolicy": yesterday, "CreateBucket": yesterday}
            ),
            service("ec2", yesterday, {"RunInstances": yesterday, "DescribeInstances": None}),
            service("sqs", old),
            service("sts", None),
            service("dynamodb", None),
        ],
    )

    outcome = world.pruner().process_role(ACCOUNT, arn)

    assert outcome.outcome == "applied"
    world.stub.stubber.assert_no_pending_responses()  # the fresh report was read
    after = world.inline("app")
    assert allow("ec2:*") in after["Statement"]  # used since: kept whole
    assert {"Effect": "Allow", "Action": ["sts:AssumeRole"], "Resource": "*"} in after["Statement"]  # still unused
    assert after["Statement"][1]["Action"] == ["s3:GetBucketTagging"]  # still unused: still denied
    applied = world.store.plan(plan_id)
    assert applied.status is PlanStatus.APPLIED
    assert applied.rule.services == {"sqs", "sts", "dynamodb"}
    assert applied.rule.actions == {"s3:getbuckettagging"}
    assert "used since the announcement, kept: ec2, s3:createbucket" in applied.history[-2]["what"]
    notice = world.notices.sent[-1]
    assert notice.kind is NoticeKind.APPLIED
    assert "Used since the announcement, so kept (dropped from the plan): ec2, s3:createbucket." in notice.summary
    assert "- ec2:*" not in notice.diff
    # the rollback gives back exactly what was applied
    world.pruner().rollback(plan_id)
    assert world.inline("app") == MAIN


def test_a_plan_all_of_which_was_used_since_is_not_applied(world: World) -> None:
    arn = create_role(world.iam, "app", {"main": document(allow("ec2:*"), allow("s3:GetObject"))})
    world.seed_ledger(arn)
    world.stub.generate(arn)
    world.stub.page([service("ec2", None), service("s3", world.clock.now - timedelta(days=1))])
    world.stub.granting(arn, {"ec2": ["inline:main"]})
    plan_id = str(world.pruner().process_role(ACCOUNT, arn).plan_id)
    world.clock.advance(7)
    world.reread(arn, [service("ec2", world.clock.now - timedelta(hours=2)), service("s3", world.clock.now)])

    outcome = world.pruner().process_role(ACCOUNT, arn)

    assert outcome.outcome == "superseded"
    assert "everything plan" in outcome.detail
    assert "was used since it was announced (ec2)" in outcome.detail
    assert allow("ec2:*") in world.inline("app")["Statement"]
    assert world.store.plan(plan_id).status is PlanStatus.SUPERSEDED
    assert world.notices.sent[-1].kind is NoticeKind.NOT_APPLIED


def test_a_failed_report_on_the_apply_date_applies_nothing_and_the_next_run_asks_again(world: World) -> None:
    arn = create_role(world.iam, "app", {"main": MAIN})
    world.seed_ledger(arn)
    world.access_advisor(arn)
    plan_id = str(world.pruner().process_role(ACCOUNT, arn).plan_id)
    world.clock.advance(7)
    world.stub.generate(arn)
    world.stub.page([], status="FAILED", error={"Code": "ServiceFailure", "Message": "try later"})

    outcome = world.pruner().process_role(ACCOUNT, arn)

    assert outcome.outcome == "no_decision"
    assert "not applied today" in outcome.detail
    assert "ServiceFailure" in outcome.detail
    assert world.inline("app") == MAIN
    assert world.store.plan(plan_id).status is PlanStatus.ANNOUNCED
    state = world.store.role(ACCOUNT, arn)
    assert state.active_plan_id == plan_id
    assert state.pending_job_id is None  # a failed job is not waited for again

    world.clock.advance(1)
    world.reread(arn)
    assert world.pruner().process_role(ACCOUNT, arn).outcome == "applied"
    assert world.inline("app") == EXPECTED_MAIN


def test_a_report_not_ready_on_the_apply_date_goes_back_to_the_queue_with_its_job(world: World) -> None:
    arn = create_role(world.iam, "app", {"main": MAIN})
    world.seed_ledger(arn)
    world.access_advisor(arn)
    world.pruner().process_role(ACCOUNT, arn)
    world.clock.advance(7)
    world.stub.generate(arn)
    for _ in range(4):
        world.stub.page([], status="IN_PROGRESS")
    with pytest.raises(AccessAdvisorNotReady):
        world.pruner().process_role(ACCOUNT, arn)
    assert world.inline("app") == MAIN
    assert world.store.role(ACCOUNT, arn).pending_job_id == JOB
    world.reread(arn, start=False)  # the job is reused: no second GenerateServiceLastAccessedDetails
    assert world.pruner().process_role(ACCOUNT, arn).outcome == "applied"
    world.stub.stubber.assert_no_pending_responses()


def test_an_unreadable_role_at_the_apply_date_is_not_pruned(world: World) -> None:
    arn = create_role(world.iam, "app", {"main": MAIN})
    world.seed_ledger(arn)
    world.access_advisor(arn)
    plan_id = str(world.pruner().process_role(ACCOUNT, arn).plan_id)
    world.clock.advance(7)
    world.stub.stubber.add_client_error(
        "generate_service_last_accessed_details", "AccessDenied", "not allowed", http_status_code=403
    )
    outcome = world.pruner().process_role(ACCOUNT, arn)
    assert outcome.outcome == "no_decision"
    assert "cannot start an Access Advisor job" in outcome.detail
    assert world.store.plan(plan_id).status is PlanStatus.ANNOUNCED
    assert world.inline("app") == MAIN


# --- review s11 F22: admin-equivalent removals need a person


def test_a_plan_removing_admin_equivalent_grants_is_announced_as_needing_a_person_and_never_applied(
    world: World,
) -> None:
    policy = document(allow("organizations:*", "iam:AttachRolePolicy"), allow("s3:GetObject"))
    arn = create_role(world.iam, "dormant-admin", {"main": policy})
    world.seed_ledger(arn)
    world.stub.generate(arn)
    unused = [service("organizations", None), service("iam", None)]
    world.stub.page([*unused, service("s3", world.clock.now - timedelta(days=1))])
    world.stub.granting(arn, {"iam": ["inline:main"], "organizations": ["inline:main"]})
    plan_id = str(world.pruner().process_role(ACCOUNT, arn).plan_id)
    assert "NOT on a date" in world.notices.sent[-1].summary
    world.clock.advance(7)

    outcome = world.pruner().process_role(ACCOUNT, arn)

    assert outcome.outcome == "needs_person"
    assert "admin-equivalent" in outcome.detail
    assert world.inline("dormant-admin") == policy
    assert world.store.plan(plan_id).status is PlanStatus.EXPIRED
    assert world.notices.sent[-1].kind is NoticeKind.NOT_APPLIED
    world.stub.stubber.assert_no_pending_responses()  # no Access Advisor job for a plan that is never applied


# --- review s11 F17 / F22: exemptions are seen


def test_an_exempt_tag_is_told_once_per_value_and_a_non_date_is_no_exemption(world: World) -> None:
    arn = create_role(world.iam, "app", {"main": MAIN})
    world.seed_ledger(arn)
    world.iam.tag_role(RoleName="app", Tags=[{"Key": "iamwarden:prune-exempt-until", "Value": "9999-12-31"}])
    first = world.pruner().process_role(ACCOUNT, arn)
    assert first.outcome == "skipped"
    assert "the tag asks for 9999-12-31" in first.detail
    [notice] = world.notices.sent
    assert notice.kind is NoticeKind.EXEMPTED
    assert "is not pruned: exempted by tag" in notice.summary
    assert world.pruner().process_role(ACCOUNT, arn).outcome == "skipped"
    assert len(world.notices.sent) == 1  # the same value is not told every day

    world.iam.tag_role(RoleName="app", Tags=[{"Key": "iamwarden:prune-exempt-until", "Value": "forever"}])
    world.access_advisor(arn)
    announced = world.pruner().process_role(ACCOUNT, arn)
    assert announced.outcome == "announced"
    plan = world.store.plan(str(announced.plan_id))
    assert any("'forever' is not a date" in note for note in plan.notes)
    assert any("(NOPRUNEQueue) of inline:main is exempt by its Sid prefix" in note for note in plan.notes)


def test_break_glass_and_idle_by_design_roles_are_never_sent_or_planned(world: World) -> None:
    for name in (
        "OrganizationAccountAccessRole",
        "stacksets-exec-1a2b3c4d5e6f1a2b3c4d5e6f1a2b3c4d",
        "break-glass-admin",
    ):
        arn = create_role(world.iam, name, {"main": MAIN})
        pruner = world.pruner(break_glass_principals=(f"arn:aws:iam::{ACCOUNT}:role/break-glass-*",))
        outcome = pruner.process_role(ACCOUNT, arn)
        assert outcome.outcome == "skipped", name
        assert "never pruned" in outcome.detail
    world.stub.stubber.assert_no_pending_responses()


# --- review s11 F12: narrowing a used service's wildcard keeps every action the catalogue does not list


def test_an_action_the_catalogue_does_not_list_survives_the_prune_of_its_wildcard(world: World) -> None:
    from iamwarden.domain.policy import parse_policy

    policy = document(allow("s3:*", resource="arn:aws:s3:::orders/*"))
    arn = create_role(world.iam, "app", {"main": policy})
    world.seed_ledger(arn)
    used = world.clock.now - timedelta(days=2)
    picture = [service("s3", used, {"CreateBucket": None, "GetObject": used, "PutObject": used})]
    world.stub.generate(arn)
    world.stub.page(picture)
    plan_id = str(world.pruner().process_role(ACCOUNT, arn).plan_id)
    planned = world.notices.sent[-1]
    assert "+ Deny s3:CreateBucket   [statement IamWardenPruned0]" in planned.diff
    assert "actions the catalogue does not list stay granted" in planned.diff
    world.clock.advance(7)
    world.reread(arn, picture)

    assert world.pruner().process_role(ACCOUNT, arn).outcome == "applied"
    assert "remove statement IamWardenPruned0 of policy main" in world.notices.sent[-1].summary  # review s12 F4

    after = world.inline("app")
    assert after == document(
        allow("s3:*", resource="arn:aws:s3:::orders/*"),
        {
            "Sid": "IamWardenPruned0",
            "Effect": "Deny",
            "Action": ["s3:CreateBucket"],
            "Resource": "arn:aws:s3:::orders/*",
        },
    )
    statements = parse_policy(after).statements

    def allowed(action: str) -> bool:
        return any(s.allows and s.grants_action(action) for s in statements) and not any(
            not s.allows and s.grants_action(action) for s in statements
        )

    assert not allowed("s3:CreateBucket")
    # CATALOGUE knows five s3 actions; AWS's newer ones and the ones the snapshot lacks stay granted
    for action in ("s3:GetObjectFutureFeature", "s3:ListBucket", "s3:GetObject", "s3:PutObject"):
        assert allowed(action), action
    world.pruner().rollback(plan_id)
    assert world.inline("app") == policy


# --- review s12 F7: the skip reasons are checked again on the apply date; F2: an earlier version's plan is re-planned


@pytest.mark.parametrize("late", ["break_glass", "exempt_roles", "tag"])
def test_a_role_made_exempt_after_the_announcement_is_not_pruned_on_the_date(world: World, late: str) -> None:
    arn = create_role(world.iam, "app", {"main": MAIN})
    world.seed_ledger(arn)
    world.access_advisor(arn)
    plan_id = str(world.pruner().process_role(ACCOUNT, arn).plan_id)
    world.clock.advance(7)
    changes: dict[str, Any] = {}
    if late == "break_glass":
        changes["break_glass_principals"] = (arn,)
    elif late == "exempt_roles":
        changes["exempt_roles"] = ("app",)
    else:
        world.iam.tag_role(RoleName="app", Tags=[{"Key": "iamwarden:prune-exempt-until", "Value": "2999-01-01"}])
    outcome = world.pruner(**changes).process_role(ACCOUNT, arn)
    assert outcome.outcome == "skipped"
    assert "exempt since the announcement" in outcome.detail
    assert world.inline("app") == MAIN  # nothing applied
    assert world.store.plan(plan_id).status is PlanStatus.EXPIRED
    assert world.notices.sent[-1].kind is NoticeKind.NOT_APPLIED
    world.stub.stubber.assert_no_pending_responses()  # no Access Advisor job for an exempt role


def test_an_announced_plan_made_by_mains_rewrite_is_planned_again_not_called_tampered(world: World) -> None:
    arn = create_role(world.iam, "app", {"main": MAIN})
    world.seed_ledger(arn)
    world.access_advisor(arn)
    plan_id = str(world.pruner().process_role(ACCOUNT, arn).plan_id)
    # the stored item as main's pruner wrote it: no rewrite_version, s3's wildcard expanded (main's rewrite)
    stored = world.store.plan(plan_id)
    old = stored._replace(
        rewrite_version=1,
        changes=tuple(
            change._replace(after=rewrite_change(change, stored.rule, CATALOGUE, "NOPRUNE", 1))
            for change in stored.changes
        ),
    )
    item = old.to_dict()
    del item["rewrite_version"]
    world.store.save_plan(PrunePlan.from_dict(item), world.clock.now)
    world.clock.advance(7)
    world.access_advisor(arn)
    outcome = world.pruner().process_role(ACCOUNT, arn)
    assert outcome.outcome == "announced"  # planned again with today's rewrite, a new date
    assert outcome.plan_id != plan_id
    assert world.store.plan(plan_id).status is PlanStatus.SUPERSEDED
    assert "earlier IAM Warden version" in world.store.plan(plan_id).history[-1]["what"]
    assert NoticeKind.TAMPERED not in {notice.kind for notice in world.notices.sent}
    assert world.inline("app") == MAIN
