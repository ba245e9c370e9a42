"""A full inline-policy quota cannot stop a quarantine (review s11 F11).

IAM caps a user's inline policies at 2,048 characters in all (a role's at 10,240): an intruder who filled the quota
beforehand made the quarantine's first call, the inline deny-all, fail ``LimitExceeded``, and the keys were never
deactivated. Now the deny-all permissions boundary (AWS's ``AWSDenyAll``: no quota) goes first, then the inline
policy, whose ``LimitExceeded`` is no failure while the boundary holds, then the keys and the console password, whose
refusals are named and tolerated (issue 15).
The order is checked with botocore's Stubber (it also holds each call to the real API's shapes); moto has no user
boundaries, so the end-to-end undo runs on ``answer_user_boundaries``.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any, cast

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber

from iamwarden.app.executor import StepRun
from iamwarden.app.service import EnforcementFailedError, EnforcerService
from iamwarden.domain.findings import Outcome, RemediationStep
from iamwarden.domain.quarantine import QUARANTINE_POLICY_NAME, latest_verdict
from iamwarden.guardrails.iam_user import DENY_ALL_POLICY, QuarantineUser
from iamwarden.guardrails.tampering import QuarantineRole, quarantine_step
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account
from tests.functional.test_persistence import _event

USER = "backdoor"
USER_ARN = f"arn:aws:iam::{HOME_ACCOUNT}:user/{USER}"
KEY = "AKIAIOSFODNN7EXAMPLE"
DENY_ALL_BOUNDARY = "arn:aws:iam::aws:policy/AWSDenyAll"
LIMIT: dict[str, Any] = {
    "service_error_code": "LimitExceeded",
    "service_message": "Maximum policy size of 2048 bytes exceeded",
}


def _stubbed() -> tuple[Any, Stubber]:
    iam = boto3.client("iam", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    return iam, Stubber(iam)


def _user_step() -> RemediationStep:
    return RemediationStep(
        QuarantineUser.action, USER_ARN, {"user_name": USER, "quarantine_policy_name": QUARANTINE_POLICY_NAME}
    )


def _before(**changes: Any) -> dict[str, Any]:
    return {
        "exists": True,
        "user_arn": USER_ARN,
        "user_id": "AIDAEXAMPLEUSERID0001",
        "quarantine_policy": None,
        "access_keys": [{"id": KEY, "status": "Active"}],
        "login_profile": {"password_reset_required": False},
        "boundary": None,
        "tags": {},
        **changes,
    }


def _apply(iam: Any, before: dict[str, Any], done: list[str]) -> None:
    run = StepRun(cast(Any, SimpleNamespace(iam=iam)), "f-1", "2026-12-05T19:00:00.000+00:00")
    QuarantineUser().apply(run, _user_step(), before, done)


def _expect_keys_and_password(stub: Stubber) -> None:
    stub.add_response("update_access_key", {}, {"UserName": USER, "AccessKeyId": KEY, "Status": "Inactive"})
    stub.add_response("delete_login_profile", {}, {"UserName": USER})


def test_a_full_inline_quota_leaves_the_keys_off_and_the_boundary_on() -> None:
    iam, stub = _stubbed()
    stub.add_response("put_user_permissions_boundary", {}, {"UserName": USER, "PermissionsBoundary": DENY_ALL_BOUNDARY})
    stub.add_client_error("put_user_policy", **LIMIT)
    _expect_keys_and_password(stub)
    stub.add_response("tag_user", {}, {"UserName": USER, "Tags": ANY})
    done: list[str] = []

    with stub:
        _apply(iam, _before(), done)
        stub.assert_no_pending_responses()

    assert done[0] == f"set the deny-all permissions boundary {DENY_ALL_BOUNDARY} on {USER}"
    assert done[1].startswith(f"NOT attached: deny-all inline policy {QUARANTINE_POLICY_NAME} (LimitExceeded")
    assert done[1].endswith(f"the deny-all boundary {DENY_ALL_BOUNDARY} holds")
    assert done[2:4] == [f"deactivated access key {KEY}", f"deleted the console password of {USER}"]


def test_with_neither_deny_all_the_quarantine_fails_after_the_keys_saying_so() -> None:
    """Never "quarantined" without a deny-all: the keys and password are still shut (they close what they can), the
    record says neither deny-all went on, and the step raises the boundary's refusal (a failed remediation)."""
    iam, stub = _stubbed()
    stub.add_client_error("put_user_permissions_boundary", service_error_code="AccessDenied")
    stub.add_client_error("put_user_policy", **LIMIT)
    _expect_keys_and_password(stub)
    done: list[str] = []

    with stub, pytest.raises(ClientError) as raised:
        _apply(iam, _before(), done)
    stub.assert_no_pending_responses()  # no tags: nothing says "quarantined"

    assert raised.value.response["Error"]["Code"] == "AccessDenied"
    assert done[0].startswith(f"NOT attached: deny-all inline policy {QUARANTINE_POLICY_NAME} (LimitExceeded")
    assert done[1].startswith(f"NOT set: the deny-all permissions boundary {DENY_ALL_BOUNDARY} (AccessDenied")
    assert done[1].endswith(f"{USER} is NOT quarantined")
    assert done[2:] == [f"deactivated access key {KEY}", f"deleted the console password of {USER}"]


def test_another_inline_error_is_no_failure_while_the_boundary_holds() -> None:
    iam, stub = _stubbed()
    stub.add_response("put_user_permissions_boundary", {}, {"UserName": USER, "PermissionsBoundary": DENY_ALL_BOUNDARY})
    stub.add_client_error("put_user_policy", service_error_code="AccessDenied")
    _expect_keys_and_password(stub)
    stub.add_response("tag_user", {}, {"UserName": USER, "Tags": ANY})
    done: list[str] = []

    with stub:
        _apply(iam, _before(), done)
        stub.assert_no_pending_responses()

    assert done[0] == f"set the deny-all permissions boundary {DENY_ALL_BOUNDARY} on {USER}"
    assert done[1].startswith(f"NOT attached: deny-all inline policy {QUARANTINE_POLICY_NAME} (AccessDenied")


def test_a_refused_boundary_is_no_failure_while_the_inline_deny_all_holds() -> None:
    """Review s11 R7: an SCP protecting boundaries refuses the boundary write; the inline deny-all holds, so the
    quarantine succeeds (tags written) and its done says what did not."""
    iam, stub = _stubbed()
    stub.add_client_error("put_user_permissions_boundary", service_error_code="AccessDenied")
    stub.add_response(
        "put_user_policy", {}, {"UserName": USER, "PolicyName": QUARANTINE_POLICY_NAME, "PolicyDocument": ANY}
    )
    _expect_keys_and_password(stub)
    stub.add_response("tag_user", {}, {"UserName": USER, "Tags": ANY})
    done: list[str] = []

    with stub:
        _apply(iam, _before(), done)
        stub.assert_no_pending_responses()

    assert done[0] == f"attached deny-all inline policy {QUARANTINE_POLICY_NAME} to {USER}"
    assert done[1].startswith(f"NOT set: the deny-all permissions boundary {DENY_ALL_BOUNDARY} (AccessDenied")
    assert done[4] == f"tagged {USER} with iamwarden:quarantine-finding=f-1"


def _expect_deny_alls(stub: Stubber) -> None:
    stub.add_response("put_user_permissions_boundary", {}, {"UserName": USER, "PermissionsBoundary": DENY_ALL_BOUNDARY})
    stub.add_response(
        "put_user_policy", {}, {"UserName": USER, "PolicyName": QUARANTINE_POLICY_NAME, "PolicyDocument": ANY}
    )


def test_a_refused_key_and_password_still_leave_the_deny_alls_on_and_say_so() -> None:
    """Issue 15 (the tolerated step): an SCP refuses UpdateAccessKey and DeleteLoginProfile. The deny-alls went on
    first, the quarantine holds (tags written, no exception), and the record names each refused step and why.
    Before: the refused key deactivation raised before any deny-all, leaving the user fully usable."""
    iam, stub = _stubbed()
    _expect_deny_alls(stub)
    stub.add_client_error("update_access_key", service_error_code="AccessDenied")
    stub.add_client_error("delete_login_profile", service_error_code="AccessDenied")
    stub.add_response("tag_user", {}, {"UserName": USER, "Tags": ANY})
    done: list[str] = []

    with stub:
        _apply(iam, _before(), done)
        stub.assert_no_pending_responses()

    assert done == [
        f"set the deny-all permissions boundary {DENY_ALL_BOUNDARY} on {USER}",
        f"attached deny-all inline policy {QUARANTINE_POLICY_NAME} to {USER}",
        f"NOT deactivated: access key {KEY} of {USER} (AccessDenied)",
        f"NOT deleted: the console password of {USER} (AccessDenied)",
        f"tagged {USER} with iamwarden:quarantine-finding=f-1",
    ]


def test_a_key_or_password_already_gone_is_no_not_line() -> None:
    iam, stub = _stubbed()
    _expect_deny_alls(stub)
    stub.add_client_error("update_access_key", service_error_code="NoSuchEntity")
    stub.add_client_error("delete_login_profile", service_error_code="NoSuchEntity")
    stub.add_response("tag_user", {}, {"UserName": USER, "Tags": ANY})
    done: list[str] = []

    with stub:
        _apply(iam, _before(), done)
        stub.assert_no_pending_responses()

    assert not [line for line in done if line.startswith("NOT")]
    assert len(done) == 3


def test_a_full_tag_quota_is_no_failure() -> None:
    """Review s11 R10: the user's 50 tags filled beforehand make TagUser fail; the tags are bookkeeping."""
    iam, stub = _stubbed()
    _expect_deny_alls(stub)
    _expect_keys_and_password(stub)
    stub.add_client_error(
        "tag_user", service_error_code="LimitExceeded", service_message="Cannot exceed quota for TagsPerUser: 50"
    )
    done: list[str] = []

    with stub:
        _apply(iam, _before(), done)
        stub.assert_no_pending_responses()

    assert done[-1].startswith(f"NOT tagged: {USER} (LimitExceeded")
    assert len(done) == 5


def test_a_role_quarantine_with_the_boundary_refused_holds_through_the_inline_deny_all() -> None:
    role = "iamwarden-heartbeat-us-east-1"
    arn = f"arn:aws:iam::{HOME_ACCOUNT}:role/{role}"
    iam, stub = _stubbed()
    stub.add_client_error("put_role_permissions_boundary", service_error_code="AccessDenied")
    stub.add_response(
        "put_role_policy", {}, {"RoleName": role, "PolicyName": "iamwarden-quarantine", "PolicyDocument": ANY}
    )
    aws = cast(Any, SimpleNamespace(iam=iam))
    done: list[str] = []

    with stub:
        QuarantineRole().apply(
            StepRun(aws, "f-1", "2026-12-05T19:00:00.000+00:00"),
            quarantine_step(role, arn, "a test"),
            {"exists": True, "policy": None, "boundary": None},
            done,
        )
        stub.assert_no_pending_responses()

    assert done[0] == f"put the deny-all inline policy iamwarden-quarantine on role {role}"
    assert done[1].startswith(f"NOT set: the deny-all permissions boundary {DENY_ALL_BOUNDARY} on role {role}")


def test_a_role_quarantine_with_both_deny_alls_refused_says_so_in_its_record() -> None:
    """Review s13 N1: the record names the refused writes and ends "is NOT quarantined", so the failure alert reads
    this attempt's truth rather than an earlier attempt's deny-all line (before: no line, only the raised error)."""
    role = "iamwarden-heartbeat-us-east-1"
    arn = f"arn:aws:iam::{HOME_ACCOUNT}:role/{role}"
    iam, stub = _stubbed()
    stub.add_client_error("put_role_permissions_boundary", service_error_code="AccessDenied")
    stub.add_client_error("put_role_policy", service_error_code="LimitExceeded")
    aws = cast(Any, SimpleNamespace(iam=iam))
    earlier = [f"put the deny-all inline policy iamwarden-quarantine on role {role}"]  # an earlier attempt's
    done: list[str] = []

    with stub, pytest.raises(ClientError) as raised:
        QuarantineRole().apply(
            StepRun(aws, "f-1", "2026-12-05T19:00:00.000+00:00"),
            quarantine_step(role, arn, "a test"),
            {"exists": True, "policy": None, "boundary": None},
            done,
        )
    stub.assert_no_pending_responses()

    assert raised.value.response["Error"]["Code"] == "AccessDenied"  # the boundary's refusal says why
    assert done[0] == f"NOT put: the deny-all inline policy iamwarden-quarantine on role {role} (LimitExceeded)"
    assert done[1].endswith(f"(AccessDenied); role {role} is NOT quarantined")
    assert latest_verdict([*earlier, *done]) == "not quarantined"


def _refuse_boundaries(**_: Any) -> None:
    raise ClientError(
        {"Error": {"Code": "AccessDenied", "Message": "explicit deny in a service control policy"}},
        "PutUserPermissionsBoundary",
    )


def test_a_quarantine_with_the_boundary_refused_is_remediated_and_its_reversal_caught(
    account: Account, enforcer: EnforcerService
) -> None:
    """Review s11 R7's probe end to end: the quarantine holds through its inline deny-all, and deleting that deny-all
    or reactivating the key is a reversal (before the fix: FAILED, and both reversals "never remediated")."""
    account.set("rules/iam-user-created/mode", "remediate")
    account.set("rules/remediation-reversed/mode", "remediate")
    account.iam.create_user(UserName="backdoor-admin")
    key = account.iam.create_access_key(UserName="backdoor-admin")["AccessKey"]["AccessKeyId"]
    account.session.events.register_first("before-call.iam.PutUserPermissionsBoundary", _refuse_boundaries)

    [finding] = enforcer.handle(load_event("create-user-backdoor-cli.json"))["findings"]
    assert finding["outcome"] == Outcome.REMEDIATED
    account.iam.delete_user_policy(UserName="backdoor-admin", PolicyName=QUARANTINE_POLICY_NAME)
    deleted = enforcer.handle(
        _event("delete-quarantine-policy.json", "00000000-0000-4000-8000-0000000052a0", userName="backdoor-admin")
    )

    assert [f["outcome"] for f in deleted["findings"] if f["rule"] == "remediation-reversed"] == [Outcome.REMEDIATED]
    assert QUARANTINE_POLICY_NAME in account.iam.list_user_policies(UserName="backdoor-admin")["PolicyNames"]
    assert _user_keys(account) == {key: "Inactive"}


def test_a_failed_quarantine_still_holds_for_the_keys_it_deactivated(
    account: Account, enforcer: EnforcerService
) -> None:
    """Review s11 R7/R10: a quarantine that failed after deactivating the key (neither deny-all could be written)
    is FAILED, and reactivating that key is a reversal all the same."""
    account.set("rules/iam-user-created/mode", "remediate")
    account.set("rules/remediation-reversed/mode", "remediate")
    account.iam.create_user(UserName="backdoor-admin")
    key = account.iam.create_access_key(UserName="backdoor-admin")["AccessKey"]["AccessKeyId"]

    def _full(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "LimitExceeded", "Message": "quota"}}, "PutUserPolicy")

    account.session.events.register_first("before-call.iam.PutUserPermissionsBoundary", _refuse_boundaries)
    account.session.events.register_first("before-call.iam.PutUserPolicy", _full)
    with pytest.raises(EnforcementFailedError):
        enforcer.handle(load_event("create-user-backdoor-cli.json"))
    account.session.events.unregister("before-call.iam.PutUserPermissionsBoundary", _refuse_boundaries)
    account.session.events.unregister("before-call.iam.PutUserPolicy", _full)
    assert _user_keys(account) == {key: "Inactive"}

    account.iam.update_access_key(UserName="backdoor-admin", AccessKeyId=key, Status="Active")
    reactivated = enforcer.handle(
        _event(
            "update-access-key-reactivated.json",
            "00000000-0000-4000-8000-0000000052a1",
            accessKeyId=key,
            userName="backdoor-admin",
        )
    )

    assert [f["outcome"] for f in reactivated["findings"] if f["rule"] == "remediation-reversed"] == [
        Outcome.REMEDIATED
    ]
    assert _user_keys(account) == {key: "Inactive"}


def _user_keys(account: Account) -> dict[str, str]:
    listed = account.iam.list_access_keys(UserName="backdoor-admin")["AccessKeyMetadata"]
    return {k["AccessKeyId"]: k["Status"] for k in listed}


def test_a_quarantine_already_in_place_writes_nothing_but_the_tags() -> None:
    iam, stub = _stubbed()
    stub.add_response("tag_user", {}, {"UserName": USER, "Tags": ANY})
    before = _before(
        access_keys=[{"id": KEY, "status": "Inactive"}],
        login_profile=None,
        boundary=DENY_ALL_BOUNDARY,
        quarantine_policy=DENY_ALL_POLICY,
    )
    done: list[str] = []

    with stub:
        _apply(iam, before, done)
        stub.assert_no_pending_responses()

    assert done == [f"tagged {USER} with iamwarden:quarantine-finding=f-1"]


def test_the_quarantine_boundary_and_its_undo_end_to_end(account: Account, enforcer: EnforcerService) -> None:
    """The enforcer's quarantine puts the deny-all boundary on; undo puts back the boundary the user had."""
    previous = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    account.set("rules/iam-user-created/mode", "remediate")
    account.iam.create_user(UserName="backdoor-admin")
    account.iam.put_user_permissions_boundary(UserName="backdoor-admin", PermissionsBoundary=previous)
    key = account.iam.create_access_key(UserName="backdoor-admin")["AccessKey"]["AccessKeyId"]
    [finding] = enforcer.handle(load_event("create-user-backdoor-cli.json"))["findings"]
    assert finding["outcome"] == Outcome.REMEDIATED
    quarantine = str(finding["remediation_id"])

    user = account.iam.get_user(UserName="backdoor-admin")["User"]
    assert user["PermissionsBoundary"]["PermissionsBoundaryArn"] == DENY_ALL_BOUNDARY
    record = enforcer.executor.audit.get(quarantine)
    assert record is not None
    assert record.before[0]["boundary"] == previous

    enforcer.executor.undo(quarantine)

    user = account.iam.get_user(UserName="backdoor-admin")["User"]
    assert user["PermissionsBoundary"]["PermissionsBoundaryArn"] == previous
    assert {
        k["AccessKeyId"]: k["Status"]
        for k in account.iam.list_access_keys(UserName="backdoor-admin")["AccessKeyMetadata"]
    } == {key: "Active"}


def test_the_role_quarantine_holds_through_a_full_role_quota_and_undo_restores_the_boundary(
    account: Account,
) -> None:
    role = "iamwarden-heartbeat-us-east-1"
    arn = f"arn:aws:iam::{HOME_ACCOUNT}:role/{role}"
    previous = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    account.iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"}))
    account.iam.put_role_permissions_boundary(RoleName=role, PermissionsBoundary=previous)
    step = quarantine_step(role, arn, "a test")
    aws = cast(Any, SimpleNamespace(iam=account.iam))
    action = QuarantineRole()
    before = action.capture(aws, step)
    full: dict[str, Any] = {
        "service_error_code": "LimitExceeded",
        "service_message": "Maximum policy size of 10240 bytes exceeded",
    }

    done: list[str] = []
    with Stubber(account.iam) as stub:
        stub.add_response("put_role_permissions_boundary", {}, {"RoleName": role, "PermissionsBoundary": ANY})
        stub.add_client_error("put_role_policy", **full)
        action.apply(StepRun(aws, "f-1", "2026-12-05T19:00:00.000+00:00"), step, before, done)
    assert before["boundary"] == previous
    assert done[0] == f"set the deny-all permissions boundary {DENY_ALL_BOUNDARY} on role {role}"
    assert done[1].startswith("NOT put: the deny-all inline policy iamwarden-quarantine (LimitExceeded")

    account.iam.put_role_permissions_boundary(RoleName=role, PermissionsBoundary=DENY_ALL_BOUNDARY)  # as applied
    restored = action.undo(aws, step, before)

    live = account.iam.get_role(RoleName=role)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"]
    assert live == previous
    assert restored[0] == f"put the permissions boundary {previous} of role {role} back"


def test_the_role_quarantine_in_moto_sets_both_and_undo_takes_both_off(account: Account) -> None:
    role = "iamwarden-heartbeat-us-east-1"
    arn = f"arn:aws:iam::{HOME_ACCOUNT}:role/{role}"
    account.iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"}))
    step = quarantine_step(role, arn, "a test")
    aws = cast(Any, SimpleNamespace(iam=account.iam))
    action = QuarantineRole()
    before = action.capture(aws, step)
    done: list[str] = []

    action.apply(StepRun(aws, "f-1", "2026-12-05T19:00:00.000+00:00"), step, before, done)

    assert account.iam.get_role(RoleName=role)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == (
        DENY_ALL_BOUNDARY
    )
    assert account.iam.list_role_policies(RoleName=role)["PolicyNames"] == ["iamwarden-quarantine"]
    action.undo(aws, step, before)

    assert "PermissionsBoundary" not in account.iam.get_role(RoleName=role)["Role"]
    assert account.iam.list_role_policies(RoleName=role)["PolicyNames"] == []
