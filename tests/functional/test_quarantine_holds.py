"""A quarantine that holds (review s11 R3, R4, R5, R8).

R3: with the user's inline quota filled beforehand the deny-all boundary ``AWSDenyAll`` is the quarantine's only
deny-all; removing or replacing it, or giving the user a new console password, was two medium alerts in alert mode.
Now each is a critical ``remediation-reversed``: the boundary goes back (the user is quarantined again), the new
password is deleted. R4: ``UntagUser`` of the quarantine's tags is one too (tags put back). R5: an operator's
``iamwarden undo`` lifts the boundary without ``permissions-boundary-weakened`` re-locking or alerting, and the
heartbeat keeps no ``AWSDenyAll`` as the known-good boundary. R8: an undo after a rename finds the user by its UserId.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from iamwarden.adapters.audit import AuditStatus
from iamwarden.adapters.recorded import AuditRecorded, quarantine_boundary_in_force, take_boundary_snapshots
from iamwarden.app.service import EnforcerService
from iamwarden.domain.exceptions import UndoError
from iamwarden.domain.findings import Outcome
from iamwarden.domain.recorded import BOUNDARY, Snapshot
from iamwarden.guardrails.iam_user import QUARANTINE_TAG_ARN, QUARANTINE_TAG_FINDING, QUARANTINE_TAGS
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier
from tests.functional.test_permissions_used import _SSH_KEY, _self_signed_certificate
from tests.functional.test_persistence import _event, _keys, _policies
from tests.functional.test_tampering_members import MEMBER, REMEDIATOR, _quarantined_remediator
from tests.functional.test_tampering_members import _event as _member_event

USER = "backdoor-admin"
USER_ARN = f"arn:aws:iam::{HOME_ACCOUNT}:user/{USER}"
DENY_ALL = "arn:aws:iam::aws:policy/AWSDenyAll"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
OPERATOR = f"arn:aws:sts::{HOME_ACCOUNT}:assumed-role/secops/ops@example.com"
REVERSED = "remediation-reversed"
BOUNDARY_RULE = "permissions-boundary-weakened"


def _quarantined(account: Account, enforcer: EnforcerService, *, boundary: str | None = None) -> tuple[str, str]:
    """backdoor-admin (with ``boundary``, when given) created with a key and quarantined by the enforcer; its key id
    and remediation id."""
    account.set("rules/iam-user-created/mode", "remediate")
    account.set("rules/remediation-reversed/mode", "remediate")
    account.iam.create_user(UserName=USER)
    if boundary is not None:
        account.iam.put_user_permissions_boundary(UserName=USER, PermissionsBoundary=boundary)
    key = account.iam.create_access_key(UserName=USER)["AccessKey"]["AccessKeyId"]
    [finding] = enforcer.handle(load_event("create-user-backdoor-cli.json"))["findings"]
    assert finding["outcome"] == Outcome.REMEDIATED
    return key, str(finding["remediation_id"])


def _limit(params: dict[str, Any], **_: Any) -> None:
    """The user's inline quota filled beforehand (review s11 F11): the quarantine's inline deny-all is refused."""
    if params["body"].get("PolicyName") == "iamwarden-quarantine":
        raise ClientError(
            {"Error": {"Code": "LimitExceeded", "Message": "Maximum policy size of 2048 bytes exceeded"}},
            "PutUserPolicy",
        )


def _boundary_only(account: Account, enforcer: EnforcerService) -> tuple[str, str]:
    """backdoor-admin quarantined while its inline quota is full: the boundary is its only deny-all."""
    account.session.events.register("before-call.iam.PutUserPolicy", _limit)
    try:
        key, quarantine = _quarantined(account, enforcer)
    finally:
        account.session.events.unregister("before-call.iam.PutUserPolicy", _limit)
    assert _policies(account) == []
    assert _boundary(account) == DENY_ALL
    return key, quarantine


def _boundary(account: Account, user: str = USER) -> str | None:
    held = account.iam.get_user(UserName=user)["User"].get("PermissionsBoundary") or {}
    return held.get("PermissionsBoundaryArn")


def _rules(result: dict[str, Any]) -> dict[str, str]:
    return {str(f["rule"]): str(f["outcome"]) for f in result["findings"]}


def _alert(notifier: RecordingNotifier) -> Any:
    [alert] = [n.finding for n in notifier.sent if n.finding is not None and n.finding.rule_id == REVERSED]
    return alert


def _by(event: dict[str, Any], arn: str) -> dict[str, Any]:
    event["detail"]["userIdentity"] = {"type": "AssumedRole", "arn": arn, "accountId": HOME_ACCOUNT}
    return event


def _tags(account: Account, user: str = USER) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in account.iam.list_user_tags(UserName=user)["Tags"]}


# --- R3: the deny-all boundary, and a new console password -------------------------------------------------------


def test_removing_the_only_deny_all_boundary_is_a_critical_reversal_and_it_goes_back(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    key, quarantine = _boundary_only(account, enforcer)
    account.iam.delete_user_permissions_boundary(UserName=USER)
    notifier.sent.clear()

    result = enforcer.handle(
        _event("delete-user-permissions-boundary.json", "00000000-0000-4000-8000-0000000c0a01", userName=USER)
    )

    # permissions-boundary-weakened leaves IAM Warden's own quarantine boundary to remediation-reversed.
    assert _rules(result) == {REVERSED: Outcome.REMEDIATED}
    assert _boundary(account) == DENY_ALL
    assert _keys(account) == {key: "Inactive"}
    alert = _alert(notifier)
    assert alert.severity.value == "critical"
    assert f"removed the deny-all permissions boundary of user {USER}" in alert.reason
    assert quarantine in alert.reason


def test_replacing_the_deny_all_boundary_is_a_critical_reversal_and_undo_restores_the_replacement(
    account: Account, enforcer: EnforcerService
) -> None:
    _boundary_only(account, enforcer)
    account.iam.put_user_permissions_boundary(UserName=USER, PermissionsBoundary=READ_ONLY)

    result = enforcer.handle(
        _event(
            "put-user-permissions-boundary-readonly.json",
            "00000000-0000-4000-8000-0000000c0a02",
            userName=USER,
            permissionsBoundary=READ_ONLY,
        )
    )

    [finding] = [f for f in result["findings"] if f["rule"] == REVERSED]
    assert finding["outcome"] == Outcome.REMEDIATED
    assert BOUNDARY_RULE not in _rules(result)
    assert _boundary(account) == DENY_ALL
    enforcer.executor.undo(str(finding["remediation_id"]), actor=OPERATOR)
    assert _boundary(account) == READ_ONLY


def test_the_deny_all_boundary_put_back_unchanged_is_no_reversal(account: Account, enforcer: EnforcerService) -> None:
    _boundary_only(account, enforcer)

    result = enforcer.handle(
        _event(
            "put-user-permissions-boundary-readonly.json",
            "00000000-0000-4000-8000-0000000c0a03",
            userName=USER,
            permissionsBoundary=DENY_ALL,
        )
    )

    assert REVERSED not in _rules(result)
    assert "still denies everything" in result["reason"]


def test_a_boundary_removed_from_a_user_iam_warden_never_quarantined_is_the_boundary_rules(
    account: Account, enforcer: EnforcerService
) -> None:
    account.set("rules/remediation-reversed/mode", "remediate")
    account.iam.create_user(UserName=USER)

    result = enforcer.handle(
        _event("delete-user-permissions-boundary.json", "00000000-0000-4000-8000-0000000c0a04", userName=USER)
    )

    assert _rules(result) == {BOUNDARY_RULE: Outcome.ALERTED}


def test_a_new_console_password_for_a_quarantined_user_is_deleted(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    _, quarantine = _boundary_only(account, enforcer)
    account.iam.create_login_profile(UserName=USER, Password="Yy-1234567890!")
    notifier.sent.clear()

    result = enforcer.handle(_event("create-login-profile.json", "00000000-0000-4000-8000-0000000c0a05", userName=USER))

    assert _rules(result)[REVERSED] == Outcome.REMEDIATED
    with pytest.raises(ClientError, match="NoSuchEntity"):
        account.iam.get_login_profile(UserName=USER)
    alert = _alert(notifier)
    assert alert.severity.value == "critical"
    assert "a console password" in alert.reason
    assert quarantine in alert.reason


def test_a_console_password_for_a_user_iam_warden_never_quarantined_is_no_reversal(
    account: Account, enforcer: EnforcerService
) -> None:
    account.set("rules/remediation-reversed/mode", "remediate")
    account.iam.create_user(UserName=USER)
    account.iam.create_login_profile(UserName=USER, Password="Yy-1234567890!")

    result = enforcer.handle(_event("create-login-profile.json", "00000000-0000-4000-8000-0000000c0a06", userName=USER))

    assert REVERSED not in _rules(result)
    assert account.iam.get_login_profile(UserName=USER)["LoginProfile"]["UserName"] == USER


# --- R4: the quarantine's tags removed --------------------------------------------------------------------------


def test_removing_the_quarantine_tags_is_a_critical_reversal_and_they_go_back(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    key, quarantine = _quarantined(account, enforcer)
    account.iam.untag_user(UserName=USER, TagKeys=list(QUARANTINE_TAGS))
    notifier.sent.clear()
    event = load_event("untag-user-quarantine-tags.json")

    result = enforcer.handle(event)

    assert _rules(result) == {REVERSED: Outcome.REMEDIATED}
    tags = _tags(account)
    assert tags[QUARANTINE_TAG_ARN] == USER_ARN
    assert QUARANTINE_TAG_FINDING in tags
    assert _keys(account) == {key: "Inactive"}
    alert = _alert(notifier)
    assert "removed IAM Warden's quarantine tags" in alert.reason
    assert quarantine in alert.reason


def test_removing_other_tags_of_a_quarantined_user_is_no_reversal(account: Account, enforcer: EnforcerService) -> None:
    _quarantined(account, enforcer)
    account.iam.tag_user(UserName=USER, Tags=[{"Key": "team", "Value": "ops"}])
    account.iam.untag_user(UserName=USER, TagKeys=["team"])
    event = load_event("untag-user-quarantine-tags.json")
    event["detail"]["requestParameters"]["tagKeys"] = ["team"]

    result = enforcer.handle(event)

    assert result["verdict"] == "compliant", result["reason"]
    assert "not IAM Warden's quarantine tags" in result["reason"]


@pytest.mark.parametrize("keys", ["absent", None, "iamwarden:quarantined-arn", [], [7]])
def test_an_untag_whose_keys_are_not_in_the_record_is_unjudged_not_compliant(
    account: Account, enforcer: EnforcerService, keys: object
) -> None:
    """Review s12 F5: the record's shape is unconfirmed; keys missing or not a list of strings are not safe keys."""
    _quarantined(account, enforcer)
    event = load_event("untag-user-quarantine-tags.json")
    if keys == "absent":
        del event["detail"]["requestParameters"]["tagKeys"]
    else:
        event["detail"]["requestParameters"]["tagKeys"] = keys

    result = enforcer.handle(event)

    assert result["verdict"] != "compliant"
    assert "are not in the record" in result["reason"]


def test_an_untag_of_a_quarantine_tag_in_another_case_is_a_reversal(
    account: Account, enforcer: EnforcerService
) -> None:
    """Compared case-insensitively (whether IAM matches tag keys so is unconfirmed; it can only over-match)."""
    _quarantined(account, enforcer)
    event = load_event("untag-user-quarantine-tags.json")
    event["detail"]["requestParameters"]["tagKeys"] = [key.upper() for key in QUARANTINE_TAGS]

    result = enforcer.handle(event)

    assert _rules(result) == {REVERSED: Outcome.REMEDIATED}


# --- R5: an operator's undo and the boundary rule ------------------------------------------------------------------


@pytest.mark.parametrize("previous", [None, READ_ONLY])
def test_an_operators_undo_of_a_quarantine_is_neither_re_locked_nor_alerted_by_the_boundary_rule(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, previous: str | None
) -> None:
    """The review's probe P05: the boundary rule in remediate, a heartbeat snapshot of AWSDenyAll written before this
    change (as the heartbeat took it), the operator's undo, then the undo's own boundary event."""
    account.set("rules/permissions-boundary-weakened/mode", "remediate")
    account.set("rules/iamwarden-tampered/operators", OPERATOR)
    key, quarantine = _quarantined(account, enforcer, boundary=previous)
    AuditRecorded(account.audit(), account.dynamodb).put(
        Snapshot(BOUNDARY, USER_ARN, "2026-11-20T09:00:00Z", {"boundary_arn": DENY_ALL})
    )
    enforcer.executor.undo(quarantine, actor=OPERATOR)
    assert _boundary(account) == previous
    assert _keys(account) == {key: "Active"}
    notifier.sent.clear()
    if previous is None:
        event = _event("delete-user-permissions-boundary.json", "00000000-0000-4000-8000-0000000c0b01", userName=USER)
    else:
        event = _event(
            "put-user-permissions-boundary-readonly.json",
            "00000000-0000-4000-8000-0000000c0b02",
            userName=USER,
            permissionsBoundary=previous,
        )

    result = enforcer.handle(_by(event, OPERATOR))

    assert result["findings"] == [], result["reason"]
    assert result["verdict"] == "compliant"
    assert "iamwarden undo" in result["reason"]
    assert _boundary(account) == previous
    assert _keys(account) == {key: "Active"}
    assert notifier.sent == []


def test_the_boundary_removed_after_an_undo_by_someone_else_is_the_boundary_rules(
    account: Account, enforcer: EnforcerService
) -> None:
    """After an operator's undo the quarantine is no longer in force (review s12 F2): a boundary someone else removes
    later is judged by permissions-boundary-weakened as on main, the user is not quarantined again."""
    account.set("rules/iamwarden-tampered/operators", OPERATOR)
    key, quarantine = _quarantined(account, enforcer)
    enforcer.executor.undo(quarantine, actor=OPERATOR)
    account.iam.put_user_permissions_boundary(UserName=USER, PermissionsBoundary=DENY_ALL)
    account.iam.delete_user_permissions_boundary(UserName=USER)

    result = enforcer.handle(
        _event("delete-user-permissions-boundary.json", "00000000-0000-4000-8000-0000000c0b03", userName=USER)
    )

    assert set(_rules(result)) == {BOUNDARY_RULE}
    assert _boundary(account) != DENY_ALL
    assert _keys(account) == {key: "Active"}


# --- review s12: only a quarantine in force, of this very user ---------------------------------------------------

HELPDESK = f"arn:aws:sts::{HOME_ACCOUNT}:assumed-role/helpdesk/bob"
MALLORY = f"arn:aws:sts::{HOME_ACCOUNT}:assumed-role/dev/mallory"


def _wipe(account: Account, user: str = USER) -> None:
    """Delete ``user`` with what it holds (the name is free again)."""
    iam = account.iam
    for name in iam.list_user_policies(UserName=user)["PolicyNames"]:
        iam.delete_user_policy(UserName=user, PolicyName=name)
    for held in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=user, AccessKeyId=held["AccessKeyId"])
    if _boundary(account, user) is not None:
        iam.delete_user_permissions_boundary(UserName=user)
    iam.delete_user(UserName=user)


def _strip_user_ids(account: Account, quarantine: str, *, created_at: datetime | None = None) -> None:
    """The quarantine's record as one made before session 11 holds it: no captured UserId (and, given, written at
    ``created_at``)."""
    table = account.audit().table_name
    item = account.dynamodb.get_item(TableName=table, Key={"remediation_id": {"S": quarantine}})["Item"]
    before = json.loads(item["before"]["S"])
    for captured in before:
        captured.pop("user_id", None)
    item["before"] = {"S": json.dumps(before)}
    if created_at is not None:
        assert "created_at" in item
        item["created_at"] = {"S": created_at.isoformat(timespec="milliseconds")}
    account.dynamodb.put_item(TableName=table, Item=item)


def _created(account: Account) -> datetime:
    created = account.iam.get_user(UserName=USER)["User"]["CreateDate"]
    assert isinstance(created, datetime)
    return created


@pytest.mark.parametrize("change", ["password", "untag"])
@pytest.mark.parametrize("who", ["the-same-user", "renamed-into-the-name"])
def test_a_record_without_a_user_id_written_while_the_live_user_existed_is_only_a_medium_alert(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, change: str, who: str
) -> None:
    """Review s14 F1: users can be renamed (``UpdateUser --new-user-name``), so a user that existed when a record
    without a UserId was written may be an older user moved into the quarantined name (dev-bot here). CreateDate only
    rules a record out; a user that existed then stays the medium "cannot tell" alert: no critical, the new password
    kept, no quarantine of it."""
    if who == "renamed-into-the-name":
        account.iam.create_user(UserName="dev-bot")
        devbot_created = account.iam.get_user(UserName="dev-bot")["User"]["CreateDate"]
        key = account.iam.create_access_key(UserName="dev-bot")["AccessKey"]["AccessKeyId"]
        _, quarantine = _quarantined(account, enforcer)
        _strip_user_ids(account, quarantine, created_at=devbot_created + timedelta(hours=1))
        _wipe(account)
        account.iam.update_user(UserName="dev-bot", NewUserName=USER)
    else:
        key, quarantine = _quarantined(account, enforcer)
        _strip_user_ids(account, quarantine, created_at=_created(account) + timedelta(hours=1))
    before = {"keys": _keys(account), "policies": _policies(account), "boundary": _boundary(account)}
    notifier.sent.clear()
    if change == "password":
        account.iam.create_login_profile(UserName=USER, Password="Str0ng!Passw0rd-x", PasswordResetRequired=True)
        event = _event("create-login-profile.json", "00000000-0000-4000-8000-0000000d0311", userName=USER)
        event = _by(event, HELPDESK)
    else:
        account.iam.tag_user(UserName=USER, Tags=[{"Key": QUARANTINE_TAG_FINDING, "Value": "x"}])
        account.iam.untag_user(UserName=USER, TagKeys=[QUARANTINE_TAG_FINDING])
        event = load_event("untag-user-quarantine-tags.json")
        event["detail"]["eventID"] = "00000000-0000-4000-8000-0000000d0313"

    result = enforcer.handle(event)

    assert _rules(result)[REVERSED] != Outcome.REMEDIATED
    alert = _alert(notifier)
    assert alert.rule_id == REVERSED
    assert alert.severity.value == "medium"
    assert "captured no UserId" in alert.reason
    assert not alert.plan
    assert {"keys": _keys(account), "policies": _policies(account), "boundary": _boundary(account)} == before
    assert before["keys"] == {key: "Active" if who == "renamed-into-the-name" else "Inactive"}
    if change == "password":
        assert account.iam.get_login_profile(UserName=USER)["LoginProfile"]["UserName"] == USER


def test_a_record_without_a_user_id_written_before_the_live_user_was_created_is_another_users(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Issue 15: a user created after the record was written is not the user quarantined (a name used again): its
    new password reverses nothing, no alert, the password kept. Before: a medium alert."""
    _, quarantine = _quarantined(account, enforcer)
    _wipe(account)
    account.iam.create_user(UserName=USER)
    _strip_user_ids(account, quarantine, created_at=_created(account) - timedelta(hours=1))
    account.iam.create_login_profile(UserName=USER, Password="Str0ng!Passw0rd-x", PasswordResetRequired=True)

    result = enforcer.handle(
        _by(_event("create-login-profile.json", "00000000-0000-4000-8000-0000000d0312", userName=USER), HELPDESK)
    )

    assert REVERSED not in _rules(result)
    assert not [n for n in notifier.sent if n.finding is not None and n.finding.rule_id == REVERSED]
    assert account.iam.get_login_profile(UserName=USER)["LoginProfile"]["UserName"] == USER


@pytest.mark.parametrize("how", ["undone-then-deleted", "deleted-without-undo", "renamed-into-the-name"])
def test_a_boundary_removed_from_a_user_reusing_a_quarantined_name_is_the_boundary_rules(
    account: Account, enforcer: EnforcerService, how: str
) -> None:
    """Review s12 F1: the boundary rule deferred by name, remediation-reversed dropped the record by UserId, and
    neither reported. Now only a quarantine in force of this very user makes the rule defer."""
    account.set("rules/iamwarden-tampered/operators", OPERATOR)
    _, quarantine = _quarantined(account, enforcer)
    if how == "undone-then-deleted":
        enforcer.executor.undo(quarantine, actor=OPERATOR)
    _wipe(account)
    if how == "renamed-into-the-name":
        account.iam.create_user(UserName="dev-bot")
        account.iam.update_user(UserName="dev-bot", NewUserName=USER)
    else:
        account.iam.create_user(UserName=USER)
    account.iam.put_user_permissions_boundary(UserName=USER, PermissionsBoundary=READ_ONLY)
    account.iam.delete_user_permissions_boundary(UserName=USER)

    result = enforcer.handle(
        _by(
            _event("delete-user-permissions-boundary.json", "00000000-0000-4000-8000-0000000d0101", userName=USER),
            MALLORY,
        )
    )

    assert set(_rules(result)) == {BOUNDARY_RULE}


@pytest.mark.parametrize("change", ["password", "boundary"])
def test_an_everyday_change_of_a_user_released_by_undo_is_no_reversal(
    account: Account, enforcer: EnforcerService, change: str
) -> None:
    """Review s12 F2: after an operator's undo, a console password (as undo's own output advises) or a boundary put
    on the user by someone else is judged by the ordinary rules; the user is not quarantined again."""
    account.set("rules/iamwarden-tampered/operators", OPERATOR)
    key, quarantine = _quarantined(account, enforcer)
    enforcer.executor.undo(quarantine, actor=OPERATOR)
    if change == "password":
        account.iam.create_login_profile(UserName=USER, Password="Str0ng!Passw0rd-x", PasswordResetRequired=True)
        event = _event("create-login-profile.json", "00000000-0000-4000-8000-0000000d0201", userName=USER)
    else:
        account.iam.put_user_permissions_boundary(UserName=USER, PermissionsBoundary=READ_ONLY)
        event = _event(
            "put-user-permissions-boundary-readonly.json",
            "00000000-0000-4000-8000-0000000d0202",
            userName=USER,
            permissionsBoundary=READ_ONLY,
        )

    result = enforcer.handle(_by(event, HELPDESK))

    assert REVERSED not in _rules(result)
    assert _keys(account) == {key: "Active"}
    assert _policies(account) == []
    if change == "password":
        assert account.iam.get_login_profile(UserName=USER)["LoginProfile"]["UserName"] == USER
    else:
        assert _boundary(account) == READ_ONLY


def test_a_quarantine_record_without_a_user_id_never_deletes_a_new_users_password(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Review s12 F3: a record made before session 11 captured no UserId, so it cannot say whether the user holding
    the name now is the one quarantined: a medium alert with what is unknown, the password kept."""
    _, quarantine = _quarantined(account, enforcer)
    _wipe(account)
    account.iam.create_user(UserName=USER)
    # Written within the second the live user was created: CreateDate cannot place it either (issue 15).
    _strip_user_ids(account, quarantine, created_at=_created(account) + timedelta(milliseconds=500))
    account.iam.create_login_profile(UserName=USER, Password="Str0ng!Passw0rd-x", PasswordResetRequired=True)

    result = enforcer.handle(
        _by(_event("create-login-profile.json", "00000000-0000-4000-8000-0000000d0301", userName=USER), HELPDESK)
    )

    assert _rules(result)[REVERSED] != Outcome.REMEDIATED
    alert = _alert(notifier)
    assert alert.severity.value == "medium"
    assert "captured no UserId" in alert.reason
    # The whole finding, pinned (review s13 D5 folded the role and user shapes into one helper).
    live_id = account.iam.get_user(UserName=USER)["User"]["UserId"]
    assert alert.needs_context == (
        f"whether user {USER} (UserId {live_id}) is the user IAM Warden quarantined in {quarantine}",
    )
    assert alert.offending == ({"remediation_id": quarantine},)
    assert alert.reason.endswith(
        f"whose name IAM Warden quarantined in {quarantine}; that record captured no UserId, so it cannot say "
        "whether this is the same user or a new one of the same name: nothing is done."
    )
    assert account.iam.get_login_profile(UserName=USER)["LoginProfile"]["UserName"] == USER


def test_the_heartbeat_keeps_no_deny_all_boundary_as_the_known_good_one(account: Account) -> None:
    account.iam.create_user(UserName=USER)
    account.iam.create_user(UserName="capped")
    pages = [
        {
            "UserDetailList": [
                {"Arn": USER_ARN, "PermissionsBoundary": {"PermissionsBoundaryArn": DENY_ALL}},
                {
                    "Arn": f"arn:aws:iam::{HOME_ACCOUNT}:user/capped",
                    "PermissionsBoundary": {"PermissionsBoundaryArn": READ_ONLY},
                },
            ],
            "RoleDetailList": [],
        }
    ]

    snapshots = take_boundary_snapshots(account.iam, HOME_ACCOUNT, "2026-12-01T00:00:00Z", pages=pages)

    assert {(s.resource_arn, s.data["boundary_arn"]) for s in snapshots} == {
        (f"arn:aws:iam::{HOME_ACCOUNT}:user/capped", READ_ONLY)
    }


# --- R8: undo after a rename -------------------------------------------------------------------------------------


def test_the_heartbeat_keeps_an_aws_deny_all_boundary_no_quarantine_in_force_set(
    account: Account, enforcer: EnforcerService
) -> None:
    """Review s12 F6: only a quarantine's AWSDenyAll (in force) is skipped; one its admins set, or one left after an
    undo, is the known-good boundary as any other."""
    account.set("rules/iamwarden-tampered/operators", OPERATOR)
    _, quarantine = _quarantined(account, enforcer)
    parked = f"arn:aws:iam::{HOME_ACCOUNT}:user/parked"
    pages = [
        {
            "UserDetailList": [
                {"Arn": USER_ARN, "PermissionsBoundary": {"PermissionsBoundaryArn": DENY_ALL}},
                {"Arn": parked, "PermissionsBoundary": {"PermissionsBoundaryArn": DENY_ALL}},
            ],
            "RoleDetailList": [],
        }
    ]
    recorded = AuditRecorded(account.audit(), account.dynamodb)

    def taken() -> set[str]:
        return {
            snapshot.resource_arn
            for snapshot in take_boundary_snapshots(
                account.iam,
                HOME_ACCOUNT,
                "2026-12-01T00:00:00Z",
                pages=pages,
                quarantined=lambda arn: quarantine_boundary_in_force(recorded.remediations, arn),
            )
        }

    assert taken() == {parked}
    enforcer.executor.undo(quarantine, actor=OPERATOR)
    assert taken() == {parked, USER_ARN}


@pytest.mark.parametrize("judged", [False, True])
def test_a_quarantine_is_lifted_by_undo_after_the_user_was_renamed(
    account: Account, enforcer: EnforcerService, judged: bool
) -> None:
    """Found by the UserId its record captured. When the rename was judged (a second quarantine under the new name),
    undoing the newer record first and then the older one lifts it."""
    key, first = _quarantined(account, enforcer)
    tags = account.iam.list_user_tags(UserName=USER)["Tags"]
    account.iam.update_user(UserName=USER, NewUserName="build-bot")
    account.iam.tag_user(UserName="build-bot", Tags=tags)  # moto drops a renamed user's tags; IAM keeps them
    account.user_boundaries["build-bot"] = account.user_boundaries.pop(USER)  # so does the boundary hook
    records = [first]
    if judged:
        event = load_event("update-user-rename-quarantined.json")
        event["detail"]["eventID"] = "00000000-0000-4000-8000-0000000c0c01"
        [second] = [f for f in enforcer.handle(event)["findings"] if f["rule"] == REVERSED]
        assert second["outcome"] == Outcome.REMEDIATED
        records.insert(0, str(second["remediation_id"]))

    undone = [enforcer.executor.undo(record, actor=OPERATOR) for record in records]

    assert [record.status for record in undone] == [AuditStatus.UNDO] * len(records)
    items = [enforcer.executor.audit.get(record) for record in records]
    assert [item.status if item is not None else None for item in items] == [AuditStatus.UNDONE] * len(records)
    assert any("is now called build-bot" in line for line in undone[-1].restored)
    assert _keys_of(account, "build-bot") == {key: "Active"}
    assert account.iam.list_user_policies(UserName="build-bot")["PolicyNames"] == []
    assert _boundary(account, "build-bot") is None
    assert not set(_tags(account, "build-bot")) & set(QUARANTINE_TAGS)


def _renamed_and_judged(account: Account, enforcer: EnforcerService) -> tuple[str, str, str]:
    """backdoor-admin quarantined, renamed build-bot, the rename judged (a second quarantine under the new name): its
    key, the first record and the newer one."""
    key, first = _quarantined(account, enforcer)
    tags = account.iam.list_user_tags(UserName=USER)["Tags"]
    account.iam.update_user(UserName=USER, NewUserName="build-bot")
    account.iam.tag_user(UserName="build-bot", Tags=tags)  # moto drops a renamed user's tags; IAM keeps them
    account.user_boundaries["build-bot"] = account.user_boundaries.pop(USER)
    event = load_event("update-user-rename-quarantined.json")
    event["detail"]["eventID"] = "00000000-0000-4000-8000-0000000d0401"
    [second] = [f for f in enforcer.handle(event)["findings"] if f["rule"] == REVERSED]
    assert second["outcome"] == Outcome.REMEDIATED
    return key, first, str(second["remediation_id"])


def test_undo_of_the_older_quarantine_while_the_newer_holds_is_refused_and_changes_nothing(
    account: Account, enforcer: EnforcerService
) -> None:
    """Review s12 F4: undoing the older record first lifted the quarantine, and the undo's own events were then judged
    reversals of the newer one. Now it is refused, naming the newer record, and nothing changes."""
    account.set("rules/iamwarden-tampered/operators", OPERATOR)
    key, first, newer = _renamed_and_judged(account, enforcer)

    with pytest.raises(UndoError, match=f"{newer} .*undo it first"):
        enforcer.executor.undo(first, actor=OPERATOR)

    item = enforcer.executor.audit.get(first)
    assert item is not None
    assert item.status == AuditStatus.REMEDIATED
    assert _keys_of(account, "build-bot") == {key: "Inactive"}
    assert account.iam.list_user_policies(UserName="build-bot")["PolicyNames"] == ["iamwarden-quarantine"]
    assert _boundary(account, "build-bot") == DENY_ALL


def test_undo_refuses_when_it_cannot_read_whether_a_newer_quarantine_holds(
    account: Account, enforcer: EnforcerService
) -> None:
    account.set("rules/iamwarden-tampered/operators", OPERATOR)
    refusing: list[bool] = []

    def refuse_get_user(params: dict[str, Any], **_: Any) -> None:
        if refusing:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not allowed"}}, "GetUser")

    # Registered before the enforcer makes its clients (a client copies the session's hooks when made).
    account.session.events.register("before-call.iam.GetUser", refuse_get_user)
    try:
        key, quarantine = _quarantined(account, enforcer)
        refusing.append(True)
        with pytest.raises(UndoError, match=r"cannot be read .*AccessDenied.*nothing was changed"):
            enforcer.executor.undo(quarantine, actor=OPERATOR)
    finally:
        account.session.events.unregister("before-call.iam.GetUser", refuse_get_user)

    assert _keys(account) == {key: "Inactive"}


def test_undo_of_a_quarantine_whose_user_is_gone_says_so(account: Account, enforcer: EnforcerService) -> None:
    key, quarantine = _quarantined(account, enforcer)
    account.iam.update_access_key(UserName=USER, AccessKeyId=key, Status="Inactive")
    account.iam.delete_access_key(UserName=USER, AccessKeyId=key)
    account.iam.delete_user_policy(UserName=USER, PolicyName="iamwarden-quarantine")
    account.iam.delete_user(UserName=USER)

    with pytest.raises(Exception, match=f"user {USER} no longer exists"):
        enforcer.executor.undo(quarantine, actor=OPERATOR)


def _keys_of(account: Account, user: str) -> dict[str, str]:
    listed = account.iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    return {key["AccessKeyId"]: key["Status"] for key in listed}


# --- R3 for roles: the deny-all boundary of a role IAM Warden quarantined -----------------------------------------


def test_the_deny_all_boundary_removed_from_a_quarantined_role_is_a_critical_reversal_and_it_goes_back(
    account: Account, enforcer: EnforcerService
) -> None:
    iam, quarantine = _quarantined_remediator(account, enforcer)
    assert iam.get_role(RoleName=REMEDIATOR)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == DENY_ALL
    iam.delete_role_permissions_boundary(RoleName=REMEDIATOR)

    result = enforcer.handle(_member_event("delete-role-permissions-boundary.json", MEMBER, roleName=REMEDIATOR))

    [finding] = [f for f in result["findings"] if f["rule"] == REVERSED]
    assert finding["outcome"] == Outcome.REMEDIATED
    assert BOUNDARY_RULE not in _rules(result)
    assert f"removed the deny-all permissions boundary of role {REMEDIATOR}" in result["reason"]
    assert quarantine in result["reason"]
    assert iam.get_role(RoleName=REMEDIATOR)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == DENY_ALL


# --- F14: the user's other credentials --------------------------------------------------------------------------


def test_the_quarantine_deactivates_ssh_keys_and_signing_certificates_and_undo_reactivates_exactly_those(
    account: Account, enforcer: EnforcerService
) -> None:
    account.set("rules/iam-user-created/mode", "remediate")
    account.set("rules/iamwarden-tampered/operators", OPERATOR)
    account.iam.create_user(UserName=USER)
    ssh = account.iam.upload_ssh_public_key(UserName=USER, SSHPublicKeyBody=_SSH_KEY)["SSHPublicKey"]["SSHPublicKeyId"]
    cert = account.iam.upload_signing_certificate(UserName=USER, CertificateBody=_self_signed_certificate())
    cert_id = cert["Certificate"]["CertificateId"]
    off = account.iam.upload_ssh_public_key(UserName=USER, SSHPublicKeyBody=_SSH_KEY.replace("test@", "old@"))
    off_id = off["SSHPublicKey"]["SSHPublicKeyId"]
    account.iam.update_ssh_public_key(UserName=USER, SSHPublicKeyId=off_id, Status="Inactive")

    [finding] = enforcer.handle(load_event("create-user-backdoor-cli.json"))["findings"]

    assert finding["outcome"] == Outcome.REMEDIATED
    assert _other_credentials(account) == {ssh: "Inactive", off_id: "Inactive", cert_id: "Inactive"}
    record = enforcer.executor.audit.get(str(finding["remediation_id"]))
    assert record is not None
    assert f"deactivated SSH public key {ssh}" in record.done
    assert f"deactivated signing certificate {cert_id}" in record.done
    assert not any(off_id in line for line in record.done)

    enforcer.executor.undo(str(finding["remediation_id"]), actor=OPERATOR)

    assert _other_credentials(account) == {ssh: "Active", off_id: "Inactive", cert_id: "Active"}


def _other_credentials(account: Account) -> dict[str, str]:
    keys = account.iam.list_ssh_public_keys(UserName=USER)["SSHPublicKeys"]
    certs = account.iam.list_signing_certificates(UserName=USER)["Certificates"]
    return {k["SSHPublicKeyId"]: k["Status"] for k in keys} | {c["CertificateId"]: c["Status"] for c in certs}


def _refuse_certificates(params: dict[str, Any], **_: Any) -> None:
    """An SCP (or a throttle past the retries) refusing ``ListSigningCertificates``."""
    raise ClientError(
        {"Error": {"Code": "AccessDenied", "Message": "explicit deny in a service control policy"}},
        "ListSigningCertificates",
    )


def test_a_refused_listing_of_signing_certificates_does_not_stop_the_quarantine(
    account: Account, enforcer: EnforcerService
) -> None:
    """Review s12 F7: the listing ran before any step and its refusal left the key Active and no deny-all. Now the
    keys, the deny-alls and the SSH keys go on; the record says the certificates were not deactivated, and why."""
    account.set("rules/iam-user-created/mode", "remediate")
    account.set("rules/iamwarden-tampered/operators", OPERATOR)
    account.iam.create_user(UserName=USER)
    key = account.iam.create_access_key(UserName=USER)["AccessKey"]["AccessKeyId"]
    ssh = account.iam.upload_ssh_public_key(UserName=USER, SSHPublicKeyBody=_SSH_KEY)["SSHPublicKey"]["SSHPublicKeyId"]
    account.session.events.register("before-call.iam.ListSigningCertificates", _refuse_certificates)
    try:
        [finding] = enforcer.handle(load_event("create-user-backdoor-cli.json"))["findings"]
    finally:
        account.session.events.unregister("before-call.iam.ListSigningCertificates", _refuse_certificates)

    assert finding["outcome"] == Outcome.REMEDIATED
    assert _keys(account) == {key: "Inactive"}
    assert _policies(account) == ["iamwarden-quarantine"]
    assert _boundary(account) == DENY_ALL
    assert _other_credentials(account) == {ssh: "Inactive"}
    record = enforcer.executor.audit.get(str(finding["remediation_id"]))
    assert record is not None
    assert any(
        line.startswith("NOT deactivated: the signing certificates") and "AccessDenied" in line for line in record.done
    )

    enforcer.executor.undo(str(finding["remediation_id"]), actor=OPERATOR)

    assert _keys(account) == {key: "Active"}
    assert _other_credentials(account) == {ssh: "Active"}
