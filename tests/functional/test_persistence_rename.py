"""A quarantined user renamed or moved (``iam:UpdateUser``) stays quarantined (review s11 F1).

The review's probe: rename ``backdoor-admin`` to ``build-bot``, then set its key Active and delete the deny-all
under the new name. Before the fix the rename was "not guarded" and both reversals were "never deactivated" /
"not quarantined" (looked up by the new name's ARN). Now the rename is itself a critical reversal (the user is
quarantined again under its new name), and the look-ups find the quarantine through what a rename cannot change:
the quarantine's ARN tag on the live user, checked against the UserId the quarantine captured.
"""

from __future__ import annotations

import json
from typing import Any

from iamwarden.app.service import EnforcerService
from iamwarden.domain.findings import Outcome
from iamwarden.guardrails.iam_user import QUARANTINE_TAG_ARN, QUARANTINE_TAG_FINDING
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier
from tests.functional.test_persistence import _event, _quarantined

OLD_ARN = f"arn:aws:iam::{HOME_ACCOUNT}:user/backdoor-admin"
NARROW = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
)


def _rename(event_id: str, **request: Any) -> dict[str, Any]:
    event = load_event("update-user-rename-quarantined.json")
    event["detail"]["eventID"] = event_id
    event["detail"]["requestParameters"].update(request)
    return event


def _keys(account: Account, user: str) -> dict[str, str]:
    return {k["AccessKeyId"]: k["Status"] for k in account.iam.list_access_keys(UserName=user)["AccessKeyMetadata"]}


def _reversals(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(f) for f in result["findings"] if f["rule"] == "remediation-reversed"]


def _tags(account: Account, user: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in account.iam.list_user_tags(UserName=user)["Tags"]}


def _rename_user(account: Account, old: str, new: str) -> None:
    """``UpdateUser`` as IAM does it: the tags belong to the user and stay with it (moto keys them by name and
    drops them on a rename, so they are put back here)."""
    tags = account.iam.list_user_tags(UserName=old)["Tags"]
    account.iam.update_user(UserName=old, NewUserName=new)
    account.iam.tag_user(UserName=new, Tags=tags)


def test_the_quarantine_tags_name_the_arn_its_record_is_kept_under(account: Account, enforcer: EnforcerService) -> None:
    _, quarantine = _quarantined(account, enforcer)

    tags = _tags(account, "backdoor-admin")

    assert tags[QUARANTINE_TAG_ARN] == OLD_ARN
    assert f"rem-{tags[QUARANTINE_TAG_FINDING]}" == quarantine


def test_renaming_a_quarantined_user_is_a_reversal_and_the_quarantine_follows_it(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """The review's probe, end to end: rename, reactivate the key, delete the deny-all; each is caught."""
    key, quarantine = _quarantined(account, enforcer)
    account.iam.put_user_policy(UserName="backdoor-admin", PolicyName="data", PolicyDocument=NARROW)
    _rename_user(account, "backdoor-admin", "build-bot")

    renamed = enforcer.handle(_rename("00000000-0000-4000-8000-0000000051a0"))

    [finding] = _reversals(renamed)
    assert finding["outcome"] == Outcome.REMEDIATED
    [alert] = [n for n in notifier.sent if n.finding is not None and n.finding.rule_id == "remediation-reversed"]
    assert alert.finding is not None
    assert alert.finding.severity.value == "critical"
    assert "renamed user backdoor-admin to build-bot" in alert.finding.reason
    assert quarantine in alert.finding.reason
    assert _tags(account, "build-bot")[QUARANTINE_TAG_ARN] == f"arn:aws:iam::{HOME_ACCOUNT}:user/build-bot"

    account.iam.update_access_key(UserName="build-bot", AccessKeyId=key, Status="Active")
    reactivated = enforcer.handle(
        _event(
            "update-access-key-reactivated.json",
            "00000000-0000-4000-8000-0000000051a2",
            accessKeyId=key,
            userName="build-bot",
        )
    )
    assert [f["outcome"] for f in _reversals(reactivated)] == [Outcome.REMEDIATED]
    assert _keys(account, "build-bot") == {key: "Inactive"}

    account.iam.delete_user_policy(UserName="build-bot", PolicyName="iamwarden-quarantine")
    lifted = enforcer.handle(
        _event("delete-quarantine-policy.json", "00000000-0000-4000-8000-0000000051a1", userName="build-bot")
    )
    assert [f["outcome"] for f in _reversals(lifted)] == [Outcome.REMEDIATED]
    assert "iamwarden-quarantine" in account.iam.list_user_policies(UserName="build-bot")["PolicyNames"]


def test_a_reversal_under_the_new_name_is_found_through_the_tag_when_the_rename_was_not_judged(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """The rename's own event lost or judged later: the live user's tag still leads to the quarantine."""
    key, quarantine = _quarantined(account, enforcer)
    _rename_user(account, "backdoor-admin", "build-bot")
    account.iam.update_access_key(UserName="build-bot", AccessKeyId=key, Status="Active")

    result = enforcer.handle(
        _event(
            "update-access-key-reactivated.json",
            "00000000-0000-4000-8000-0000000051b2",
            accessKeyId=key,
            userName="build-bot",
        )
    )

    [finding] = _reversals(result)
    assert finding["outcome"] == Outcome.REMEDIATED
    [alert] = [n for n in notifier.sent if n.finding is not None and n.finding.rule_id == "remediation-reversed"]
    assert alert.finding is not None
    assert [dict(o) for o in alert.finding.offending] == [{"remediation_id": quarantine}]
    assert _keys(account, "build-bot") == {key: "Inactive"}


def test_moving_a_quarantined_user_to_another_path_is_a_reversal(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    _quarantined(account, enforcer)
    account.iam.update_user(UserName="backdoor-admin", NewPath="/ops/")
    event = _rename("00000000-0000-4000-8000-0000000051c0", newPath="/ops/")
    del event["detail"]["requestParameters"]["newUserName"]

    result = enforcer.handle(event)

    [finding] = _reversals(result)
    assert finding["outcome"] == Outcome.REMEDIATED
    [alert] = [n for n in notifier.sent if n.finding is not None and n.finding.rule_id == "remediation-reversed"]
    assert alert.finding is not None
    assert "moved user backdoor-admin to path /ops/" in alert.finding.reason
    assert alert.finding.resource_arn == f"arn:aws:iam::{HOME_ACCOUNT}:user/ops/backdoor-admin"
    assert _tags(account, "backdoor-admin")[QUARANTINE_TAG_ARN] == alert.finding.resource_arn


def test_renaming_a_user_iam_warden_never_remediated_is_compliant(account: Account, enforcer: EnforcerService) -> None:
    account.iam.create_user(UserName="backdoor-admin")
    account.iam.update_user(UserName="backdoor-admin", NewUserName="build-bot")

    result = enforcer.handle(_rename("00000000-0000-4000-8000-0000000051d0"))

    assert result["verdict"] == "compliant", result["reason"]
    assert "holds no remediation of user backdoor-admin" in result["reason"]


def test_a_new_user_of_a_quarantined_users_old_name_is_not_that_user(
    account: Account, enforcer: EnforcerService
) -> None:
    """Keyed on the UserId the quarantine captured: a user deleted and created again under the name is another."""
    old, _ = _quarantined(account, enforcer)
    account.iam.update_access_key(UserName="backdoor-admin", AccessKeyId=old, Status="Inactive")
    account.iam.delete_access_key(UserName="backdoor-admin", AccessKeyId=old)
    account.iam.delete_user_policy(UserName="backdoor-admin", PolicyName="iamwarden-quarantine")
    account.iam.delete_user(UserName="backdoor-admin")
    account.iam.create_user(UserName="backdoor-admin")
    new = account.iam.create_access_key(UserName="backdoor-admin")["AccessKey"]["AccessKeyId"]
    event = load_event("create-access-key-for-other-user.json")
    event["detail"]["eventID"] = "00000000-0000-4000-8000-0000000051e0"
    event["detail"]["requestParameters"]["userName"] = "backdoor-admin"
    event["detail"]["responseElements"]["accessKey"].update({"accessKeyId": new, "userName": "backdoor-admin"})

    result = enforcer.handle(event)

    assert _reversals(result) == []
    assert "access-key-created" in {f["rule"] for f in result["findings"]}  # which still judges the new key


def test_the_quarantine_tag_alone_is_no_evidence(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """A tag is writable by anyone allowed iam:TagUser (review s11 R1): a user carrying IAM Warden's quarantine tag
    with no audit record behind it is never quarantined on it; a medium alert says the tag is unbacked."""
    account.set("rules/remediation-reversed/mode", "remediate")
    account.iam.create_user(
        UserName="build-bot", Tags=[{"Key": QUARANTINE_TAG_FINDING, "Value": "f-earlier-quarantine"}]
    )
    key = account.iam.create_access_key(UserName="build-bot")["AccessKey"]["AccessKeyId"]
    account.iam.put_user_policy(UserName="build-bot", PolicyName="iamwarden-quarantine", PolicyDocument=NARROW)

    deleted = enforcer.handle(
        _event("delete-quarantine-policy.json", "00000000-0000-4000-8000-0000000051f0", userName="build-bot")
    )
    reactivated = enforcer.handle(
        _event(
            "update-access-key-reactivated.json",
            "00000000-0000-4000-8000-0000000051f1",
            accessKeyId=key,
            userName="build-bot",
        )
    )

    for result in (deleted, reactivated):
        [finding] = _reversals(result)
        assert finding["outcome"] == Outcome.ALERTED
    alerts = [n.finding for n in notifier.sent if n.finding is not None and n.finding.rule_id == "remediation-reversed"]
    assert [a.severity.value for a in alerts if a is not None] == ["medium", "medium"]
    assert all(a is not None and not a.plan and a.needs_context for a in alerts)
    assert _keys(account, "build-bot") == {key: "Active"}
    assert account.iam.list_user_policies(UserName="build-bot")["PolicyNames"] == ["iamwarden-quarantine"]


def test_a_forged_arn_tag_borrows_no_other_users_record(account: Account, enforcer: EnforcerService) -> None:
    """Review s11 R2: bob's key deactivation (a record with no captured UserId) tagged onto alice through
    ``iamwarden:quarantined-arn`` is not alice's: her key rotation is no reversal, her new key stays Active."""
    account.set("rules/access-key-created/mode", "remediate")
    account.iam.create_user(UserName="bob")
    bob_key = account.iam.create_access_key(UserName="bob")["AccessKey"]["AccessKeyId"]
    enforcer.handle(_create_key("bob", bob_key, "00000000-0000-4000-8000-0000000051f2"))
    assert _keys(account, "bob") == {bob_key: "Inactive"}
    account.set("rules/access-key-created/mode", "alert")
    account.iam.create_user(
        UserName="alice", Tags=[{"Key": QUARANTINE_TAG_ARN, "Value": f"arn:aws:iam::{HOME_ACCOUNT}:user/bob"}]
    )
    alice_key = account.iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]

    result = enforcer.handle(_create_key("alice", alice_key, "00000000-0000-4000-8000-0000000051f3"))

    assert _reversals(result) == []
    assert _keys(account, "alice") == {alice_key: "Active"}


def _create_key(user: str, key: str, event_id: str) -> dict[str, Any]:
    event = load_event("create-access-key-for-other-user.json")
    event["detail"]["eventID"] = event_id
    event["detail"]["requestParameters"]["userName"] = user
    event["detail"]["responseElements"]["accessKey"].update({"accessKeyId": key, "userName": user})
    return event


def test_a_rename_judged_after_the_user_was_renamed_again_is_no_false_remediation(
    account: Account, enforcer: EnforcerService
) -> None:
    """Review s11 R4: tags removed, then backdoor-admin -> b2 -> b3 before either rename is judged. The first rename
    cannot quarantine b2 (gone): it alerts with needs_context instead of reading as remediated, and its link leads
    the second rename's look-up back to the quarantine, so b3 is quarantined again."""
    key, _ = _quarantined(account, enforcer)
    account.iam.untag_user(UserName="backdoor-admin", TagKeys=list(_tags(account, "backdoor-admin")))
    account.iam.update_user(UserName="backdoor-admin", NewUserName="b2")
    account.iam.update_user(UserName="b2", NewUserName="b3")
    account.iam.update_access_key(UserName="b3", AccessKeyId=key, Status="Active")

    first = enforcer.handle(
        _rename("00000000-0000-4000-8000-0000000051f4", userName="backdoor-admin", newUserName="b2")
    )
    second = enforcer.handle(_rename("00000000-0000-4000-8000-0000000051f5", userName="b2", newUserName="b3"))

    assert [f["outcome"] for f in _reversals(first)] == [Outcome.ALERTED]
    assert [f["outcome"] for f in _reversals(second)] == [Outcome.REMEDIATED]
    assert _keys(account, "b3") == {key: "Inactive"}
    assert "iamwarden-quarantine" in account.iam.list_user_policies(UserName="b3")["PolicyNames"]
