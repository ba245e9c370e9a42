"""group-membership-escalation live (moto): the group's admin grant is judged as the member holds it (issue 13,
session 11). A group admin by itself is removed whatever the member holds (main's verdict is the floor: review
s11); a guard that denies everything, or a conditional Deny of the member's, is only said in the reason."""

from __future__ import annotations

import json
from typing import Any

from iamwarden.app.service import EnforcerService
from iamwarden.domain.findings import Outcome
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier
from tests.functional.guardrail_cases import heartbeat_read_attachments

RULE = "group-membership-escalation"
MFA = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


def _document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _added_to_admins(
    account: Account, *, own: dict[str, Any] | None = None, fence: dict[str, Any] | None = None
) -> Any:
    """build-bot (its own inline ``own``, a boundary ``fence``) added to platform-admins (AdministratorAccess)."""
    iam = account.iam
    iam.create_group(GroupName="platform-admins")
    iam.attach_group_policy(GroupName="platform-admins", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    iam.create_user(UserName="build-bot")
    if own is not None:
        iam.put_user_policy(UserName="build-bot", PolicyName="own", PolicyDocument=_document(own))
    heartbeat_read_attachments(account, "2026-11-01T00:00:00Z")  # the event adds what the read did not see
    iam.add_user_to_group(GroupName="platform-admins", UserName="build-bot")
    account.set(f"rules/{RULE}/mode", "remediate")
    return load_event("add-user-to-admin-group.json")


def _groups(account: Account) -> list[str]:
    return [group["GroupName"] for group in account.iam.list_groups_for_user(UserName="build-bot")["Groups"]]


def test_a_plain_member_of_an_admin_group_is_removed(account: Account, enforcer: EnforcerService) -> None:
    [finding] = enforcer.handle(_added_to_admins(account))["findings"]

    assert finding["outcome"] == Outcome.REMEDIATED
    assert _groups(account) == []


def test_a_member_whose_conditional_deny_may_cancel_the_grant_is_still_removed(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Review s11: the group is admin by itself (main's verdict is the floor), so a doubt of the member's does not
    leave the membership in force; the reason says what is not known."""
    event = _added_to_admins(account, own={"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": MFA})

    [finding] = enforcer.handle(event)["findings"]

    assert finding["outcome"] == Outcome.REMEDIATED
    assert _groups(account) == []
    [alert] = [sent for sent in notifier.sent if sent.finding is not None]
    assert alert.finding is not None
    assert "Whether user build-bot gets it past its own Deny statements" in alert.finding.reason


def test_a_member_whose_own_guard_denies_everything_is_still_removed(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Review s11 finding 4: deleting the guard later is alerted only (restraint-removed), and the membership would
    then arm the user: removed as main did, the reason saying the user gains nothing now."""
    event = _added_to_admins(account, own={"Effect": "Deny", "Action": "*", "Resource": "*"})

    [finding] = [f for f in enforcer.handle(event)["findings"] if f["rule"] == RULE]

    assert finding["outcome"] == Outcome.REMEDIATED
    assert _groups(account) == []
    [alert] = [sent for sent in notifier.sent if sent.finding is not None]
    assert alert.finding is not None
    assert "User build-bot gains none of it now" in alert.finding.reason
