"""policy-version-admin judged per holder (issue 13, session 11): a new default version is remediated only when a
principal it is attached to really gains admin-equivalent access or an escalation method, every fact known.

Each holder is judged on its whole power after the change (its own Deny statements and permissions boundary applied);
a group's gain is its members'. A holder whose policies could not be read, or a gain that rests on a condition or a
conditional Deny, is not named as gaining. A version risky by itself is restored whatever its holders hold (main's
verdict on the document is the floor: review s11 findings 1, 2, 4, 7); the holders are only named. The
directory is a ``StaticDirectory`` (the offline reader's type) built by hand.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

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


def _holder(
    arn: str, *own: dict[str, Any], boundary: dict[str, Any] | None = None, version: dict[str, Any] = ADMIN
) -> PrincipalPolicies:
    """``arn`` holding app-deploy (the new version, as a live read after the change sees it) and its own statements."""
    name = arn.rsplit("/", 1)[-1]
    held = NamedPolicy(APP_DEPLOY, parse_policy(version))
    if arn.startswith(f"arn:aws:iam::{ACCOUNT}:user/"):
        held = NamedPolicy(f"group devs: {APP_DEPLOY}", parse_policy(version))
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


def _judge(directory: StaticDirectory | None, version: dict[str, Any] | None = None) -> Judgement:
    event = load_event("create-policy-version-admin.json")
    if version is not None:
        event["detail"]["requestParameters"]["policyDocument"] = json.dumps(version)
    return judge_event(event, Settings(), directory=directory)


def _finding(directory: StaticDirectory | None, version: dict[str, Any] | None = None) -> Finding:
    [finding] = _judge(directory, version).findings
    assert finding.rule_id == "policy-version-admin"
    return finding


def _restores(finding: Finding) -> bool:
    return [step.action.value for step in finding.plan] == ["restore_default_policy_version"]


def test_a_holder_that_gains_admin_is_named_and_the_version_is_restored() -> None:
    finding = _finding(_directory(_holder(BACKEND)))

    assert finding.certain
    assert finding.severity == "critical"
    assert "For role app-backend:" in finding.reason
    assert _restores(finding)
    assert any(item.get("holder") == "role app-backend" for item in finding.offending)


def test_offline_without_authorization_details_an_admin_version_is_still_restored_as_main_judged_it() -> None:
    """The document alone is the floor (review s11): not knowing the holders never weakens main's verdict."""
    finding = _finding(None)

    assert finding.certain
    assert _restores(finding)
    assert "Every role, user and group it is attached to holds it" in finding.reason


def test_a_holder_whose_guard_denies_everything_gains_nothing_now_but_the_version_is_restored() -> None:
    """Review s11 finding 4: left in force, the version would arm whoever it is attached to next (or the holder
    once its guard is removed, which is alert-only): it is undone, and the reason says no current holder gains."""
    finding = _finding(_directory(_holder(GUARDED, GUARD)))

    assert finding.certain
    assert finding.severity == "critical"
    assert _restores(finding)
    assert "None of the 1 roles, users and groups it is attached to gains it now" in finding.reason
    assert "it would arm whoever it is attached to next" in finding.reason


def test_a_holder_whose_boundary_caps_it_to_whole_services_still_sees_the_version_restored() -> None:
    """Review s11 finding 2: a boundary of ``s3:*`` leaves the holder every S3 action on every resource."""
    capped = _holder(GUARDED, boundary={"Effect": "Allow", "Action": "s3:*", "Resource": "*"})

    finding = _finding(_directory(capped))

    assert finding.certain
    assert _restores(finding)


def test_only_the_holders_that_gain_for_certain_are_named() -> None:
    unread = f"arn:aws:iam::{ACCOUNT}:role/unread"
    directory = _directory(_holder(GUARDED, GUARD), _holder(BACKEND), holders=(GUARDED, BACKEND, unread))

    finding = _finding(directory)

    assert finding.certain
    assert "For role app-backend:" in finding.reason
    assert "app-guarded" not in finding.reason
    assert "unread" not in finding.reason  # review s11 finding 8: an unread holder is never said to gain
    assert _restores(finding)


def test_a_holder_that_could_not_be_read_does_not_weaken_the_restore() -> None:
    unread = f"arn:aws:iam::{ACCOUNT}:role/unread"

    finding = _finding(_directory(_holder(GUARDED, GUARD), holders=(GUARDED, unread)))

    assert finding.certain
    assert _restores(finding)
    assert "For role unread:" not in finding.reason


def test_more_holders_than_are_judged_do_not_weaken_the_restore() -> None:
    """Review s11 finding 7: 25 guarded holders first and the gainer past the cap: restored as main did."""
    guarded = [_holder(f"arn:aws:iam::{ACCOUNT}:role/guarded-{n}", GUARD) for n in range(25)]
    late = f"arn:aws:iam::{ACCOUNT}:role/late"

    finding = _finding(_directory(*guarded, holders=(*(p.principal_arn for p in guarded), late)))

    assert finding.certain
    assert _restores(finding)


def test_a_holder_conditional_deny_does_not_weaken_the_restore() -> None:
    finding = _finding(_directory(_holder(BACKEND, {**GUARD, "Condition": MFA})))

    assert finding.certain
    assert _restores(finding)
    assert "For role app-backend:" not in finding.reason  # not named as a certain gainer


def test_a_group_holder_is_named_through_its_members() -> None:
    plain_member = _directory(_holder(BOB), holders=(DEVS,), members=(BOB,))
    finding = _finding(plain_member)
    assert finding.certain
    assert "For user bob (in group devs):" in finding.reason

    guarded_member = _directory(_holder(BOB, GUARD), holders=(DEVS,), members=(BOB,))
    finding = _finding(guarded_member)
    assert _restores(finding)
    assert "None of the 1 roles, users and groups" in finding.reason

    unknown_members = _directory(holders=(DEVS,))
    finding = _finding(unknown_members)
    assert finding.certain
    assert _restores(finding)


def test_a_version_attached_to_nothing_is_restored_saying_so() -> None:
    judgement = _judge(_directory(holders=()))

    assert judgement.verdict is Verdict.VIOLATION
    [finding] = judgement.findings
    assert _restores(finding)
    assert "It is attached to nothing now, but it would arm whoever it is attached to next" in finding.reason


_ALLOW_ALL: dict[str, Any] = {"Sid": "ShortcutAdmin", "Effect": "Allow", "Action": "*", "Resource": "*"}


@pytest.mark.parametrize(
    "version",
    [
        # A conditional Deny that never holds, written by the same author as the grant.
        {"Statement": [_ALLOW_ALL, {**GUARD, "Condition": {"StringEquals": {"aws:RequestedRegion": "xx-none-1"}}}]},
        {"Statement": [{**_ALLOW_ALL, "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]},  # always true
        {"Statement": [{**_ALLOW_ALL, "Condition": {"StringLike": {"aws:PrincipalArn": "*"}}}]},
    ],
    ids=["never-holding-deny", "secure-transport", "principal-arn-star"],
)
def test_doubts_written_into_the_version_itself_never_stop_the_restore(version: dict[str, Any]) -> None:
    """Review s11 finding 1 (critical): the change's author controls its document, so a condition or a conditional
    Deny in it is no holder's guard; the holder with nothing of its own is named and the version restored."""
    document = {"Version": "2012-10-17", **version}

    finding = _finding(_directory(_holder(BACKEND, version=document)), document)

    assert finding.certain
    assert _restores(finding)
