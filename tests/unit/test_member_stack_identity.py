"""What the heartbeat reads of a member stack's own record (issue 15 item 2): the RoleIds its IAM forwarding rule
names for its roles, and where the management account's plain member stack was found, kept for an hour."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from iamwarden.app.heartbeat import MemberForwarding, stack_role_ids
from iamwarden.app.member_coverage import CoverageState
from tests.member_patterns import member_instance, with_role_ids

CENTRAL_BUS = "arn:aws:events:us-east-1:111122223333:event-bus/iamwarden-central"
ROLES = {"remediator": "iamwarden-remediator", "pruner-member": "iamwarden-pruner-member"}


def _iam_rule(holds_roles: bool) -> str:
    """The member template's IAM forwarding pattern as one instance deploys it (the generated declared content)."""
    forwarding = MemberForwarding(CENTRAL_BUS, "us-east-1", "111122223333", ROLES)
    pattern = member_instance(forwarding.declared_pattern("iamwarden-forward-iam", "444455556666", "aws"), holds_roles)
    return json.dumps(with_role_ids(pattern, ("AROAREMEDIATOR000001", "AROAPRUNERMEMBER0001")))


def test_the_role_ids_the_stack_gave_its_roles_are_read_from_its_iam_rule() -> None:
    assert stack_role_ids(_iam_rule(holds_roles=True)) == frozenset({"AROAREMEDIATOR000001", "AROAPRUNERMEMBER0001"})


def test_an_instance_without_roles_or_an_unreadable_pattern_names_none() -> None:
    assert stack_role_ids(_iam_rule(holds_roles=False)) is None  # excludes by session ARN: no RoleId
    assert stack_role_ids("{not json") is None
    assert stack_role_ids(None) is None
    # another session name of the same role id is not IAM Warden's session
    assert stack_role_ids(json.dumps({"detail": {"userIdentity": {"principalId": ["AROAREMEDIATOR000001:x"]}}})) is None


def test_where_a_plain_member_stack_was_found_is_kept_and_read_again_after_an_hour() -> None:
    now = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    state = CoverageState()
    assert state.plain_regions("999900000000") is None

    state.found_plain("999900000000", {"us-east-1", "eu-west-1"}, now)
    kept = CoverageState(json.loads(json.dumps(state.to_data())))  # as the audit table item holds it

    assert kept.plain_regions("999900000000", now + timedelta(minutes=59)) == frozenset({"us-east-1", "eu-west-1"})
    assert kept.plain_regions("999900000000", now + timedelta(hours=1)) is None  # to be read again
    assert kept.plain_regions("999900000000") == frozenset({"us-east-1", "eu-west-1"})  # still what is known meanwhile
