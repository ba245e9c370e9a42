"""A prune plan rewritten in the state table between its announcement and its date is refused, not applied.

The plan item lives in DynamoDB; a write to it is a data event no rule routes, so the pruner holds the
item to what it would write itself (audit s6 gap 5: a forged ``after`` of ``Allow *`` was applied as stored).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from iamwarden.prune.domain.notices import NoticeKind
from iamwarden.prune.domain.plan import Method, PlanStatus, PolicyChange, PrunePlan
from iamwarden.prune.exceptions import PlanTamperedError
from tests.functional.prune_support import ACCOUNT, allow, create_role, document
from tests.functional.test_prune_lifecycle import EXPECTED_MAIN, MAIN, World, world  # noqa: F401

ADMIN = document(allow("*"))


def _announce(world: World) -> tuple[str, PrunePlan]:  # noqa: F811
    arn = create_role(world.iam, "app", {"main": MAIN}, tags={"owner": "team-orders@example.com"})
    create_role(world.iam, "victim", {"main": MAIN})
    world.seed_ledger(arn)
    world.access_advisor(arn)
    announced = world.pruner().process_role(ACCOUNT, arn)
    return arn, world.store.plan(str(announced.plan_id))


def _each_change(edit: Callable[[PolicyChange], PolicyChange]) -> Callable[[PrunePlan], PrunePlan]:
    return lambda plan: plan._replace(changes=tuple(edit(change) for change in plan.changes))


FORGERIES: dict[str, Callable[[PrunePlan], PrunePlan]] = {
    "after grants admin": _each_change(lambda c: c._replace(after=ADMIN)),
    "after grants one more action": _each_change(
        lambda c: c._replace(after={**EXPECTED_MAIN, "Statement": [*EXPECTED_MAIN["Statement"], allow("iam:*")]})
    ),
    "before and after both forged": _each_change(lambda c: c._replace(before=ADMIN, after=ADMIN)),
    "another role's name": lambda plan: plan._replace(role_name="victim"),
    "another role, ARN and name": lambda plan: plan._replace(
        role_arn=plan.role_arn.replace("role/app", "role/victim"), role_name="victim"
    ),
    "a policy the role does not hold": _each_change(lambda c: c._replace(key="inline:other", name="other")),
    "a removal list that hides what goes": _each_change(lambda c: c._replace(removed=("s3:GetObject",))),
    "an edit in place of a copy": _each_change(lambda c: c._replace(method=Method.NEW_VERSION)),
}


@pytest.mark.parametrize("forge", FORGERIES.values(), ids=FORGERIES.keys())
def test_a_plan_changed_in_the_table_is_refused_with_a_critical_notice(
    world: World,  # noqa: F811
    forge: Callable[[PrunePlan], PrunePlan],
) -> None:
    arn, plan = _announce(world)
    world.store.save_plan(forge(plan), world.clock.now)
    world.clock.advance(7)

    outcome = world.pruner().process_role(ACCOUNT, arn)

    assert outcome.outcome == "tampered"
    world.stub.stubber.assert_no_pending_responses()  # refused before any Access Advisor job was started
    assert world.inline("app") == MAIN  # nothing was written
    assert world.inline("victim") == MAIN
    stored = world.store.plan(plan.plan_id)
    assert stored.status is PlanStatus.SUPERSEDED
    assert stored.history[-1]["what"].startswith(f"plan {plan.plan_id} in the state table is not what the pruner")
    notice = world.notices.sent[-1]
    assert notice.kind is NoticeKind.TAMPERED
    assert "Someone changed the stored plan" in notice.summary


def test_the_unchanged_plan_still_applies(world: World) -> None:  # noqa: F811
    arn, plan = _announce(world)
    world.store.save_plan(plan, world.clock.now)  # written back as it was: nothing to refuse
    world.clock.advance(7)
    world.reread(arn)
    assert world.pruner().process_role(ACCOUNT, arn).outcome == "applied"
    assert world.inline("app") == EXPECTED_MAIN


def test_a_shared_policy_edited_in_place_by_a_forged_method_is_refused(world: World) -> None:  # noqa: F811
    """Two roles share the policy: a plan that says "new version" would prune the other role too."""
    arn = create_role(world.iam, "app")
    create_role(world.iam, "other")
    policy_arn = world.iam.create_policy(PolicyName="shared", PolicyDocument=json.dumps(MAIN))["Policy"]["Arn"]
    for role in ("app", "other"):
        world.iam.attach_role_policy(RoleName=role, PolicyArn=policy_arn)
    world.seed_ledger(arn)
    world.access_advisor(arn, {key: [policy_arn] for key in ("dynamodb", "ec2", "sqs", "sts")})
    plan = world.store.plan(str(world.pruner().process_role(ACCOUNT, arn).plan_id))
    in_place = _each_change(lambda c: c._replace(method=Method.NEW_VERSION))
    world.store.save_plan(in_place(plan), world.clock.now)
    world.clock.advance(7)
    assert world.pruner().process_role(ACCOUNT, arn).outcome == "tampered"
    assert world.default_document(policy_arn) == MAIN


def test_a_rollback_of_a_plan_changed_after_the_apply_is_refused(world: World) -> None:  # noqa: F811
    arn, plan = _announce(world)
    world.clock.advance(7)
    world.reread(arn)
    assert world.pruner().process_role(ACCOUNT, arn).outcome == "applied"
    applied = world.store.plan(plan.plan_id)
    forged: Any = _each_change(lambda c: c._replace(before=ADMIN))(applied)
    world.store.save_plan(forged, world.clock.now)

    with pytest.raises(PlanTamperedError, match="the after-document of inline:main is not what removing"):
        world.pruner().rollback(plan.plan_id)
    assert world.inline("app") == EXPECTED_MAIN  # the pruned document stays; nothing was given back


def test_a_plan_id_that_is_not_its_roles_is_refused_on_rollback(world: World) -> None:  # noqa: F811
    arn, plan = _announce(world)
    world.clock.advance(7)
    world.reread(arn)
    world.pruner().process_role(ACCOUNT, arn)
    applied = world.store.plan(plan.plan_id)
    world.store.save_plan(applied._replace(created_at="2020-01-01T00:00:00+00:00"), world.clock.now)
    with pytest.raises(PlanTamperedError, match="its id is not the one role"):
        world.pruner().rollback(plan.plan_id)
