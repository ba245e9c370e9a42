"""policy-version-admin judged per holder (issue 13, session 11): a new default version is remediated only when a
principal it is attached to really gains admin-equivalent access or an escalation method, every fact known.

Each holder is judged on its whole power after the change (its own Deny statements and permissions boundary applied);
a group's gain is its members'. A holder whose policies could not be read, or a gain that rests on a condition or a
conditional Deny, is alerted only, naming what is unknown; offline without authorization details the holders are
unknown (``needs_context``); a version no holder gains from is alerted (medium) and nothing is changed. The
directory is a ``StaticDirectory`` (the offline reader's type) built by hand.
"""

from __future__ import annotations

from typing import Any

from iamwarden.domain.directory import PrincipalKey, StaticDirectory, inline_source
from iamwarden.domain.findings import Finding, Judgement, Verdict
from iamwarden.domain.policy import parse_policy
from iamwarden.domain.principals import NamedPolicy, PrincipalPolicies
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event

ACCOUNT = "111122223333"
APP_DEPLOY = f"arn:aws:iam::{ACCOUNT}:policy/app-deploy"
BACKEND = f"arn:aws:iam::{ACCOUNT}:role/app-backend"
GUARDED = f"arn:aws:iam::{ACCOUNT}:role/app-guarded"
DEVS = f"arn:aws:iam::{ACCOUNT}:group/devs"
BOB = f"arn:aws:iam::{ACCOUNT}:user/bob"
#: The sample's new default version v3: ``Allow * on *`` (events/create-policy-version-admin.json).
ADMIN = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "ShortcutAdmin", "Effect": "Allow", "Action": "*", "Resource": "*"}],
}
GUARD = {"Effect": "Deny", "Action": "*", "Resource": "*"}
MFA = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


def _holder(arn: str, *own: dict[str, Any], boundary: dict[str, Any] | None = None) -> PrincipalPolicies:
    """``arn`` holding app-deploy (the new version, as a live read after the change sees it) and its own statements."""
    name = arn.rsplit("/", 1)[-1]
    held = NamedPolicy(APP_DEPLOY, parse_policy(ADMIN))
    if arn.startswith(f"arn:aws:iam::{ACCOUNT}:user/"):
        held = NamedPolicy(f"group devs: {APP_DEPLOY}", parse_policy(ADMIN))
    policies = [held]
    if own:
        document = {"Version": "2012-10-17", "Statement": list(own)}
        policies.append(NamedPolicy(inline_source(name, "own"), parse_policy(document)))
    bound = parse_policy({"Version": "2012-10-17", "Statement": [boundary]}) if boundary is not None else None
    return PrincipalPolicies(arn, tuple(policies), bound)


def _directory(
    *principals: PrincipalPolicies, holders: tuple[str, ...] | None = None, members: tuple[str, ...] | None = None
) -> StaticDirectory:
    known = {PrincipalKey.of(p.principal_arn): p for p in principals}
    group = PrincipalKey.of(DEVS)
    assert group is not None
    return StaticDirectory(
        {key: value for key, value in known.items() if key is not None},
        attachments={APP_DEPLOY: holders if holders is not None else tuple(p.principal_arn for p in principals)},
        members={group: members} if members is not None else None,
    )


def _judge(directory: StaticDirectory | None) -> Judgement:
    return judge_event(load_event("create-policy-version-admin.json"), Settings(), directory=directory)


def _finding(directory: StaticDirectory | None) -> Finding:
    [finding] = _judge(directory).findings
    assert finding.rule_id == "policy-version-admin"
    return finding


def test_a_holder_that_gains_admin_is_named_and_the_version_is_restored() -> None:
    finding = _finding(_directory(_holder(BACKEND)))

    assert finding.certain
    assert finding.severity == "critical"
    assert "For role app-backend:" in finding.reason
    [step] = finding.plan
    assert step.action.value == "restore_default_policy_version"
    assert {"holder": "role app-backend", "items": finding.offending[1]["items"]} in finding.offending


def test_offline_without_authorization_details_the_holders_are_unknown_so_it_is_alerted_only() -> None:
    finding = _finding(None)

    assert not finding.certain
    assert finding.needs_context == (
        "the roles, users and groups app-deploy is attached to, and what else they hold (not known without "
        "authorization details)",
    )
    assert "is not known, so nothing is changed on it" in finding.reason


def test_a_holder_whose_guard_denies_everything_gains_nothing_so_nothing_is_changed() -> None:
    finding = _finding(_directory(_holder(GUARDED, GUARD)))

    assert finding.severity == "medium"
    assert finding.plan == ()
    assert finding.needs_context == ()
    assert "none of the 1 roles, users and groups it is attached to gains it" in finding.reason


def test_a_holder_whose_boundary_caps_it_gains_nothing() -> None:
    capped = _holder(GUARDED, boundary={"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})

    finding = _finding(_directory(capped))

    assert finding.plan == ()
    assert finding.severity == "medium"


def test_only_the_holders_that_gain_are_named_and_one_certain_gain_decides() -> None:
    unread = f"arn:aws:iam::{ACCOUNT}:role/unread"
    directory = _directory(_holder(GUARDED, GUARD), _holder(BACKEND), holders=(GUARDED, BACKEND, unread))

    finding = _finding(directory)

    assert finding.certain
    assert "For role app-backend:" in finding.reason
    assert "app-guarded" not in finding.reason
    assert finding.plan


def test_a_holder_that_could_not_be_read_leaves_it_alert_only() -> None:
    unread = f"arn:aws:iam::{ACCOUNT}:role/unread"

    finding = _finding(_directory(_holder(GUARDED, GUARD), holders=(GUARDED, unread)))

    assert not finding.certain
    assert any("what else role unread holds (it could not be read)" in need for need in finding.needs_context)
    assert "For role unread:" in finding.reason


def test_a_gain_that_a_conditional_deny_may_cancel_is_alerted_only() -> None:
    finding = _finding(_directory(_holder(BACKEND, {**GUARD, "Condition": MFA})))

    assert not finding.certain
    assert any("conditional Deny statement 0 of inline app-backend/own" in need for need in finding.needs_context)


def test_a_group_holder_gains_through_its_members_each_with_its_own_guard() -> None:
    guarded_member = _directory(_holder(BOB, GUARD), holders=(DEVS,), members=(BOB,))
    finding = _finding(guarded_member)
    assert finding.plan == ()  # bob's own guard: nobody gains

    plain_member = _directory(_holder(BOB), holders=(DEVS,), members=(BOB,))
    finding = _finding(plain_member)
    assert finding.certain
    assert "For user bob (in group devs):" in finding.reason

    unknown_members = _directory(holders=(DEVS,))
    finding = _finding(unknown_members)
    assert not finding.certain
    assert any("the members of group devs" in need for need in finding.needs_context)


def test_a_version_attached_to_nothing_is_alerted_and_nothing_changed() -> None:
    judgement = _judge(_directory(holders=()))

    assert judgement.verdict is Verdict.VIOLATION
    [finding] = judgement.findings
    assert finding.plan == ()
    assert "it is attached to nothing" in finding.reason
