"""A quarantine that holds and tells the truth (issue 15 item 4).

* Service-specific credentials (CodeCommit HTTPS git credentials, Amazon Keyspaces, Bedrock API keys) are set
  Inactive with the user's other credentials, and undo reactivates exactly those that were Active. moto has no
  ``ListServiceSpecificCredentials``/``UpdateServiceSpecificCredential``: botocore's Stubber answers them here (it
  holds each call to the real API's shapes); under moto the listing fails, which is a named "NOT" line, no crash.
* The tolerated step: a refused key deactivation or password deletion (an SCP) no longer stops the quarantine before
  its deny-alls; the record and the alert name what was refused. With no deny-all in place the quarantine is a
  failed remediation, alerted critical.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any, cast

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber

from iamwarden.alerts.notifications import Notification, finding_notification
from iamwarden.app.executor import StepRun
from iamwarden.app.service import EnforcementFailedError, EnforcerService
from iamwarden.domain.catalog import Severity
from iamwarden.domain.earlier_sessions import PREFIX as EARLIER_SESSIONS
from iamwarden.domain.exceptions import UndoError
from iamwarden.domain.findings import Outcome, RemediationStep
from iamwarden.domain.quarantine import QUARANTINE_POLICY_NAME
from iamwarden.guardrails.iam_user import QUARANTINE_TAGS, QuarantineUser
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier
from tests.functional.test_persistence import _event

USER = "backdoor"
USER_ARN = f"arn:aws:iam::{HOME_ACCOUNT}:user/{USER}"
USER_ID = "AIDAEXAMPLEUSERID0001"
DENY_ALL_BOUNDARY = "arn:aws:iam::aws:policy/AWSDenyAll"
GIT = "ACCAEXAMPLEGITCRED001"
KEYSPACES = "ACCAEXAMPLEKEYSPACES1"
CREATED = "2026-12-01T10:00:00Z"


def _stubbed() -> tuple[Any, Stubber]:
    iam = boto3.client("iam", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    return iam, Stubber(iam)


def _step() -> RemediationStep:
    return RemediationStep(
        QuarantineUser.action, USER_ARN, {"user_name": USER, "quarantine_policy_name": QUARANTINE_POLICY_NAME}
    )


def _credential(credential_id: str, status: str, service: str = "codecommit.amazonaws.com") -> dict[str, Any]:
    """One ``ServiceSpecificCredentialMetadata`` (IAM API reference: UserName, Status, CreateDate, Id and
    ServiceName are required)."""
    return {
        "UserName": USER,
        "Status": status,
        "ServiceUserName": f"{USER}-at-{HOME_ACCOUNT}",
        "CreateDate": CREATED,
        "ServiceSpecificCredentialId": credential_id,
        "ServiceName": service,
    }


def _before(**changes: Any) -> dict[str, Any]:
    return {
        "exists": True,
        "user_arn": USER_ARN,
        "user_id": USER_ID,
        "quarantine_policy": None,
        "access_keys": [],
        "login_profile": None,
        "boundary": None,
        "tags": {},
        **changes,
    }


def _apply(iam: Any, before: dict[str, Any], done: list[str]) -> None:
    run = StepRun(cast(Any, SimpleNamespace(iam=iam)), "f-1", "2026-12-06T02:00:00.000+00:00")
    QuarantineUser().apply(run, _step(), before, done)


def _expect_deny_alls(stub: Stubber) -> None:
    stub.add_response("put_user_permissions_boundary", {}, {"UserName": USER, "PermissionsBoundary": DENY_ALL_BOUNDARY})
    stub.add_response(
        "put_user_policy", {}, {"UserName": USER, "PolicyName": QUARANTINE_POLICY_NAME, "PolicyDocument": ANY}
    )


def _expect_capture_until_credentials(stub: Stubber) -> None:
    """The capture's reads before the service-specific credentials: the user, no quarantine policy, no keys, no
    password, no SSH keys, no certificates."""
    stub.add_response(
        "get_user",
        {"User": {"Path": "/", "UserName": USER, "UserId": USER_ID, "Arn": USER_ARN, "CreateDate": CREATED}},
        {"UserName": USER},
    )
    stub.add_client_error("get_user_policy", service_error_code="NoSuchEntity")
    stub.add_response("list_access_keys", {"AccessKeyMetadata": []}, {"UserName": USER})
    stub.add_client_error("get_login_profile", service_error_code="NoSuchEntity")
    stub.add_response("list_ssh_public_keys", {"SSHPublicKeys": []}, {"UserName": USER})
    stub.add_response("list_signing_certificates", {"Certificates": []}, {"UserName": USER})


def test_the_capture_reads_every_page_of_service_specific_credentials() -> None:
    """``ListServiceSpecificCredentials`` has Marker/IsTruncated but no botocore paginator: both pages are read."""
    iam, stub = _stubbed()
    _expect_capture_until_credentials(stub)
    stub.add_response(
        "list_service_specific_credentials",
        {"ServiceSpecificCredentials": [_credential(GIT, "Active")], "IsTruncated": True, "Marker": "page-2"},
        {"UserName": USER},
    )
    stub.add_response(
        "list_service_specific_credentials",
        {"ServiceSpecificCredentials": [_credential(KEYSPACES, "Inactive", "cassandra.amazonaws.com")]},
        {"UserName": USER, "Marker": "page-2"},
    )

    with stub:
        before = QuarantineUser().capture(cast(Any, SimpleNamespace(iam=iam)), _step())
        stub.assert_no_pending_responses()

    assert before["service_specific_credentials"] == [
        {"id": GIT, "status": "Active"},
        {"id": KEYSPACES, "status": "Inactive"},
    ]


def test_a_refused_credential_listing_is_recorded_unread_and_named_not_done() -> None:
    iam, stub = _stubbed()
    _expect_capture_until_credentials(stub)
    stub.add_client_error("list_service_specific_credentials", service_error_code="AccessDenied")

    with stub:
        before = QuarantineUser().capture(cast(Any, SimpleNamespace(iam=iam)), _step())
        stub.assert_no_pending_responses()
    assert before["service_specific_credentials"] is None
    assert before["service_specific_credentials_unread"] == "AccessDenied"

    applied, stub = _stubbed()
    _expect_deny_alls(stub)
    stub.add_response("tag_user", {}, {"UserName": USER, "Tags": ANY})
    done: list[str] = []
    with stub:
        _apply(applied, dict(before), done)
        stub.assert_no_pending_responses()
    assert (
        f"NOT deactivated: the service-specific credentials of {USER} (listing them failed: AccessDenied); the "
        "deny-alls deny them while they hold"
    ) in done


def test_the_quarantine_deactivates_only_the_active_service_specific_credentials() -> None:
    iam, stub = _stubbed()
    _expect_deny_alls(stub)
    stub.add_response(
        "update_service_specific_credential",
        {},
        {"UserName": USER, "ServiceSpecificCredentialId": GIT, "Status": "Inactive"},
    )
    stub.add_response("tag_user", {}, {"UserName": USER, "Tags": ANY})
    done: list[str] = []
    before = _before(
        service_specific_credentials=[{"id": GIT, "status": "Active"}, {"id": KEYSPACES, "status": "Inactive"}]
    )

    with stub:
        _apply(iam, before, done)
        stub.assert_no_pending_responses()

    assert done[2] == f"deactivated service-specific credential {GIT}"
    assert not any(KEYSPACES in line for line in done)


def test_a_refused_credential_deactivation_is_named_and_the_quarantine_stands() -> None:
    iam, stub = _stubbed()
    _expect_deny_alls(stub)
    stub.add_client_error("update_service_specific_credential", service_error_code="AccessDenied")
    stub.add_response("tag_user", {}, {"UserName": USER, "Tags": ANY})
    done: list[str] = []

    with stub:
        _apply(iam, _before(service_specific_credentials=[{"id": GIT, "status": "Active"}]), done)
        stub.assert_no_pending_responses()

    assert done[2] == f"NOT deactivated: service-specific credential {GIT} of {USER} (AccessDenied)"
    assert done[3] == f"tagged {USER} with iamwarden:quarantine-finding=f-1"


def test_a_transient_refusal_is_named_every_other_write_done_and_then_raised_for_a_retry() -> None:
    """Lead decision s13: a throttled (or 5xx) deactivation is not given up. The password, the other credentials and
    the tags are still done, then the throttle is raised so the event is retried (the retry reads the live state
    again and does only what is left)."""
    iam, stub = _stubbed()
    _expect_deny_alls(stub)
    stub.add_client_error("update_access_key", service_error_code="Throttling", http_status_code=400)
    stub.add_response("delete_login_profile", {}, {"UserName": USER})
    stub.add_response(
        "update_service_specific_credential",
        {},
        {"UserName": USER, "ServiceSpecificCredentialId": GIT, "Status": "Inactive"},
    )
    stub.add_response("tag_user", {}, {"UserName": USER, "Tags": ANY})
    done: list[str] = []
    before = _before(
        access_keys=[{"id": "AKIAEXAMPLEKEY000001", "status": "Active"}],
        login_profile={"password_reset_required": False},
        service_specific_credentials=[{"id": GIT, "status": "Active"}],
    )

    with stub, pytest.raises(ClientError) as raised:
        _apply(iam, before, done)
    stub.assert_no_pending_responses()

    assert raised.value.response["Error"]["Code"] == "Throttling"
    assert done[2:] == [
        f"NOT deactivated: access key AKIAEXAMPLEKEY000001 of {USER} (Throttling); retried with the event",
        f"deleted the console password of {USER}",
        f"deactivated service-specific credential {GIT}",
        f"tagged {USER} with iamwarden:quarantine-finding=f-1",
        # This attempt's own verdict, which the alert reads (review s13 N1), with its time (review s14 F3).
        "attempt at 2026-12-06T02:00:00.000+00:00: the quarantine holds (a deny-all is on); 1 refused write will be "
        "retried with the event",
    ]


def test_a_permanent_refusal_is_named_and_not_raised() -> None:
    """The counterpart: AccessDenied (an SCP) on the same write is tolerated, the quarantine holds, no retry."""
    iam, stub = _stubbed()
    _expect_deny_alls(stub)
    stub.add_client_error("update_access_key", service_error_code="AccessDenied", http_status_code=403)
    stub.add_response("tag_user", {}, {"UserName": USER, "Tags": ANY})
    done: list[str] = []

    with stub:
        _apply(iam, _before(access_keys=[{"id": "AKIAEXAMPLEKEY000001", "status": "Active"}]), done)
        stub.assert_no_pending_responses()

    assert done[2] == f"NOT deactivated: access key AKIAEXAMPLEKEY000001 of {USER} (AccessDenied)"


def test_on_a_failed_quarantine_an_unread_listing_is_not_said_to_be_denied() -> None:
    """Lead decision s13 (b): with both deny-alls refused nothing denies the credentials that could not be listed;
    the line must not claim the deny-alls cover them."""
    iam, stub = _stubbed()
    stub.add_client_error("put_user_permissions_boundary", service_error_code="AccessDenied", http_status_code=403)
    stub.add_client_error("put_user_policy", service_error_code="AccessDenied", http_status_code=403)
    done: list[str] = []
    before = _before(service_specific_credentials=None, service_specific_credentials_unread="AccessDenied")

    with stub, pytest.raises(ClientError):
        _apply(iam, before, done)
    stub.assert_no_pending_responses()

    [line] = [line for line in done if "service-specific credentials" in line]
    assert line == (
        f"NOT deactivated: the service-specific credentials of {USER} (listing them failed: AccessDenied); "
        "no deny-all denies them"
    )


def test_undo_reactivates_exactly_the_service_specific_credentials_that_were_active() -> None:
    """Active before and Inactive now: reactivated. Inactive before (KEYSPACES): left Inactive."""
    iam, stub = _stubbed()
    stub.add_response(
        "get_user",
        {
            "User": {
                "Path": "/",
                "UserName": USER,
                "UserId": USER_ID,
                "Arn": USER_ARN,
                "CreateDate": CREATED,
                "PermissionsBoundary": {
                    "PermissionsBoundaryType": "Policy",
                    "PermissionsBoundaryArn": DENY_ALL_BOUNDARY,
                },
            }
        },
        {"UserName": USER},
    )
    stub.add_response("delete_user_policy", {}, {"UserName": USER, "PolicyName": QUARANTINE_POLICY_NAME})
    stub.add_response("delete_user_permissions_boundary", {}, {"UserName": USER})
    stub.add_response("list_access_keys", {"AccessKeyMetadata": []}, {"UserName": USER})
    stub.add_response(
        "list_service_specific_credentials",
        {"ServiceSpecificCredentials": [_credential(GIT, "Inactive"), _credential(KEYSPACES, "Inactive")]},
        {"UserName": USER},
    )
    stub.add_response(
        "update_service_specific_credential",
        {},
        {"UserName": USER, "ServiceSpecificCredentialId": GIT, "Status": "Active"},
    )
    stub.add_response("untag_user", {}, {"UserName": USER, "TagKeys": list(QUARANTINE_TAGS)})
    before = _before(
        service_specific_credentials=[{"id": GIT, "status": "Active"}, {"id": KEYSPACES, "status": "Inactive"}]
    )

    with stub:
        restored = QuarantineUser().undo(cast(Any, SimpleNamespace(iam=iam)), _step(), before)
        stub.assert_no_pending_responses()

    assert f"reactivated service-specific credential {GIT}" in restored
    assert not any(KEYSPACES in line for line in restored)


def _refused(code: str, operation: str) -> Any:
    def refuse(**_: Any) -> None:
        raise ClientError({"Error": {"Code": code, "Message": "explicit deny in a service control policy"}}, operation)

    return refuse


def test_under_moto_the_missing_credential_api_is_a_named_line_not_a_crash(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("rules/iam-user-created/mode", "remediate")
    account.iam.create_user(UserName="backdoor-admin")

    [finding] = enforcer.handle(load_event("create-user-backdoor-cli.json"))["findings"]

    assert finding["outcome"] == Outcome.REMEDIATED
    assert any(
        line.startswith("NOT deactivated: the service-specific credentials of backdoor-admin (listing them failed:")
        for line in finding["done"]
    )
    assert QUARANTINE_POLICY_NAME in account.iam.list_user_policies(UserName="backdoor-admin")["PolicyNames"]


def test_a_refused_key_and_password_leave_the_user_quarantined_and_the_alert_says_what_was_refused(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Issue 15's tolerated step end to end. Before: the refused UpdateAccessKey stopped the quarantine with nothing
    else done (no deny-all, the key and password usable), a failed remediation."""
    account.set("rules/iam-user-created/mode", "remediate")
    account.iam.create_user(UserName="backdoor-admin")
    account.iam.create_login_profile(UserName="backdoor-admin", Password="Hunter2-Hunter2!")
    key = account.iam.create_access_key(UserName="backdoor-admin")["AccessKey"]["AccessKeyId"]
    account.session.events.register_first(
        "before-call.iam.UpdateAccessKey", _refused("AccessDenied", "UpdateAccessKey")
    )
    account.session.events.register_first(
        "before-call.iam.DeleteLoginProfile", _refused("AccessDenied", "DeleteLoginProfile")
    )

    [finding] = enforcer.handle(load_event("create-user-backdoor-cli.json"))["findings"]

    assert finding["outcome"] == Outcome.REMEDIATED
    assert QUARANTINE_POLICY_NAME in account.iam.list_user_policies(UserName="backdoor-admin")["PolicyNames"]
    assert account.user_boundaries["backdoor-admin"] == DENY_ALL_BOUNDARY
    refused = [
        f"NOT deactivated: access key {key} of backdoor-admin (AccessDenied)",
        "NOT deleted: the console password of backdoor-admin (AccessDenied)",
    ]
    assert all(line in finding["done"] for line in refused)
    [sent] = [n for n in notifier.sent if n.outcome is Outcome.REMEDIATED]
    assert all(line in sent.actions for line in refused)


def test_undo_turns_on_only_the_keys_the_quarantine_itself_shut(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Review s13 F2: a key whose deactivation was refused (a NOT line) and that the security team shut by hand
    afterwards stays shut through ``iamwarden undo``; the key the quarantine did shut is turned back on. Before:
    undo reactivated every key Active before and Inactive now, both of them."""
    account.set("rules/iam-user-created/mode", "remediate")
    account.iam.create_user(UserName="backdoor-admin")
    shut = account.iam.create_access_key(UserName="backdoor-admin")["AccessKey"]["AccessKeyId"]
    refused = account.iam.create_access_key(UserName="backdoor-admin")["AccessKey"]["AccessKeyId"]

    def refuse_one(params: dict[str, Any], **_: Any) -> None:
        if params.get("AccessKeyId") == refused and params.get("Status") == "Inactive":
            _refused("AccessDenied", "UpdateAccessKey")()

    account.session.events.register_first("provide-client-params.iam.UpdateAccessKey", refuse_one)

    [finding] = enforcer.handle(load_event("create-user-backdoor-cli.json"))["findings"]
    assert finding["outcome"] == Outcome.REMEDIATED
    assert f"NOT deactivated: access key {refused} of backdoor-admin (AccessDenied)" in finding["done"]
    account.session.events.unregister("provide-client-params.iam.UpdateAccessKey", refuse_one)
    account.iam.update_access_key(UserName="backdoor-admin", AccessKeyId=refused, Status="Inactive")  # by hand

    undone = enforcer.executor.undo(str(finding["remediation_id"]), actor=OPERATOR)

    listed = account.iam.list_access_keys(UserName="backdoor-admin")["AccessKeyMetadata"]
    assert {k["AccessKeyId"]: k["Status"] for k in listed} == {shut: "Active", refused: "Inactive"}
    assert f"reactivated access key {shut}" in undone.restored
    assert not any(refused in line for line in undone.restored)


@pytest.mark.parametrize("refused", ["PutUserPermissionsBoundary", "PutUserPolicy"])
def test_undo_leaves_a_deny_all_whose_own_write_was_refused_and_that_someone_put_on_since(
    account: Account, enforcer: EnforcerService, refused: str
) -> None:
    """Review s13 N3: the quarantine's write of one deny-all was refused (a NOT line; the other deny-all held), and
    the security team put that deny-all on by hand afterwards: ``iamwarden undo`` lifts only the deny-all the record
    shows IAM Warden wrote. Before: undo removed both (live deny-all, none before)."""
    account.set("rules/iam-user-created/mode", "remediate")
    account.iam.create_user(UserName="backdoor-admin")
    refuse = _refused("AccessDenied", refused)
    hook = f"before-call.iam.{refused}"
    account.session.events.register_first(hook, refuse)

    [finding] = enforcer.handle(load_event("create-user-backdoor-cli.json"))["findings"]
    assert finding["outcome"] == Outcome.REMEDIATED
    account.session.events.unregister(hook, refuse)
    boundary = "arn:aws:iam::aws:policy/AWSDenyAll"
    if refused == "PutUserPermissionsBoundary":  # by hand, after the quarantine
        account.iam.put_user_permissions_boundary(UserName="backdoor-admin", PermissionsBoundary=boundary)
    else:
        account.iam.put_user_policy(
            UserName="backdoor-admin", PolicyName=QUARANTINE_POLICY_NAME, PolicyDocument=json.dumps(_DENY_ALL)
        )

    undone = enforcer.executor.undo(str(finding["remediation_id"]), actor=OPERATOR)

    user = account.iam.get_user(UserName="backdoor-admin")["User"]
    policies = account.iam.list_user_policies(UserName="backdoor-admin")["PolicyNames"]
    if refused == "PutUserPermissionsBoundary":
        assert user.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn") == boundary  # the team's, kept
        assert policies == []  # the quarantine's own inline deny-all, lifted
        assert any(line.startswith("left the permissions boundary as it is") for line in undone.restored)
    else:
        assert policies == [QUARANTINE_POLICY_NAME]  # the team's, kept
        assert "PermissionsBoundary" not in user  # the quarantine's own boundary, lifted
        assert any(
            line.startswith(f"left the inline policy {QUARANTINE_POLICY_NAME} as it is") for line in undone.restored
        )


_DENY_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}


def test_with_no_deny_all_the_quarantine_is_a_failed_remediation_alerted_critical(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Never "quarantined" without a deny-all: both refused (an SCP) is a failed remediation, critical (the rule is
    high), and the alert names both refusals; the key was still deactivated."""
    account.set("rules/iam-user-created/mode", "remediate")
    account.iam.create_user(UserName="backdoor-admin")
    key = account.iam.create_access_key(UserName="backdoor-admin")["AccessKey"]["AccessKeyId"]
    account.session.events.register_first(
        "before-call.iam.PutUserPermissionsBoundary", _refused("AccessDenied", "PutUserPermissionsBoundary")
    )
    account.session.events.register_first("before-call.iam.PutUserPolicy", _refused("AccessDenied", "PutUserPolicy"))

    with pytest.raises(EnforcementFailedError):
        enforcer.handle(load_event("create-user-backdoor-cli.json"))

    [sent] = [n for n in notifier.sent if n.outcome is Outcome.REMEDIATION_FAILED]
    assert sent.finding is not None
    assert sent.finding.severity is Severity.CRITICAL
    assert any(line.endswith("backdoor-admin is NOT quarantined") for line in sent.actions)
    assert f"deactivated access key {key}" in sent.actions
    listed = account.iam.list_access_keys(UserName="backdoor-admin")["AccessKeyMetadata"]
    assert {k["AccessKeyId"]: k["Status"] for k in listed} == {key: "Inactive"}
    tags = {t["Key"] for t in account.iam.list_user_tags(UserName="backdoor-admin")["Tags"]}
    assert not tags & set(QUARANTINE_TAGS)


def test_a_quarantine_that_holds_and_fails_for_a_retry_is_alerted_at_the_rule_s_severity(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Review s13 F5: a throttled key write fails the run (to be retried) with both deny-alls on: the user is held,
    so the failure alert keeps the rule's severity (before: critical, as if no deny-all went on) and says the
    quarantine holds and that one refused write will be retried."""
    account.set("rules/iam-user-created/mode", "remediate")
    account.iam.create_user(UserName="backdoor-admin")
    key = account.iam.create_access_key(UserName="backdoor-admin")["AccessKey"]["AccessKeyId"]
    account.session.events.register_first("before-call.iam.UpdateAccessKey", _refused("Throttling", "UpdateAccessKey"))

    with pytest.raises(EnforcementFailedError):
        enforcer.handle(load_event("create-user-backdoor-cli.json"))

    [sent] = [n for n in notifier.sent if n.outcome is Outcome.REMEDIATION_FAILED]
    assert sent.finding is not None
    assert sent.finding.severity is Severity.HIGH  # iam-user-created's own
    assert f"NOT deactivated: access key {key} of backdoor-admin (Throttling); retried with the event" in sent.actions
    # The attempt's verdict is its last own line; only the earlier role sessions it looked up come after it, in their
    # own alert section (review3 R3).
    *_, verdict = (line for line in sent.actions if not line.startswith(EARLIER_SESSIONS))
    assert verdict.startswith("attempt at ")
    assert verdict.endswith(": the quarantine holds (a deny-all is on); 1 refused write will be retried with the event")
    assert QUARANTINE_POLICY_NAME in account.iam.list_user_policies(UserName="backdoor-admin")["PolicyNames"]


def _rebuilt_failure_alert(account: Account, notifier: RecordingNotifier) -> Notification:
    """The failure alert as ``redeliver`` rebuilds it from the audit record, which holds every attempt's lines (the
    enforcer sends a failure alert once per remediation: the first attempt's)."""
    [first] = [n for n in notifier.sent if n.outcome is Outcome.REMEDIATION_FAILED]
    assert first.finding is not None
    assert first.remediation_id is not None
    record = account.audit().get(first.remediation_id)
    assert record is not None
    return finding_notification(
        Outcome.REMEDIATION_FAILED,
        first.finding,
        first.change,
        first.remediation_id,
        settings_prefix="/iamwarden",
        done=tuple(record.done),
    )


def test_a_retried_quarantine_whose_deny_all_was_lifted_and_refused_is_alerted_critical(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Review s13 N1: attempt 1 puts the deny-all on and a key write is throttled; the deny-all is lifted; on the
    retry the deny-all is refused. The record holds both attempts' lines, but the alert reads the latest: critical,
    no "holds" line (before: the rule's severity and "the quarantine holds")."""
    account.set("rules/iam-user-created/mode", "remediate")
    account.iam.create_user(UserName="backdoor-admin")
    account.iam.create_access_key(UserName="backdoor-admin")
    account.session.events.register_first("before-call.iam.UpdateAccessKey", _refused("Throttling", "UpdateAccessKey"))
    # Registered before the enforcer's clients are made (they copy the session's handlers), refusing from attempt 2.
    retry: list[bool] = []
    for operation in ("PutUserPermissionsBoundary", "PutUserPolicy"):
        refuse = _refused("AccessDenied", operation)
        account.session.events.register_first(
            f"before-call.iam.{operation}", lambda _refuse=refuse, **kwargs: _refuse(**kwargs) if retry else None
        )
    with pytest.raises(EnforcementFailedError):
        enforcer.handle(load_event("create-user-backdoor-cli.json"))
    account.iam.delete_user_policy(UserName="backdoor-admin", PolicyName=QUARANTINE_POLICY_NAME)
    account.iam.delete_user_permissions_boundary(UserName="backdoor-admin")
    retry.append(True)
    with pytest.raises(EnforcementFailedError):
        enforcer.handle(load_event("create-user-backdoor-cli.json"))

    alert = _rebuilt_failure_alert(account, notifier)

    assert alert.finding is not None
    assert alert.finding.severity is Severity.CRITICAL
    # Both attempts' lines are kept: the first attempt's deny-all and its "holds" line, then the retry's refusal.
    assert f"attached deny-all inline policy {QUARANTINE_POLICY_NAME} to backdoor-admin" in alert.actions
    assert any(line.endswith("backdoor-admin is NOT quarantined") for line in alert.actions)
    assert not alert.actions[-1].startswith("the quarantine holds")
    # The first attempt's "holds" line says which attempt it was, and reads as past (review s14 F3).
    [earlier] = [line for line in alert.actions if line.startswith("attempt at ")]
    assert earlier.endswith(": the quarantine held then (a deny-all was on); 1 refused write left to the retry"), (
        earlier
    )
    assert not [line for line in alert.actions if "quarantine holds" in line or "will be retried" in line]


def test_a_write_throttled_on_two_attempts_is_counted_once_in_the_alert(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Review s13 N1: the same key throttled on the first attempt and on its retry is one write to retry, not two
    (before: the alert counted every attempt's refused lines)."""
    account.set("rules/iam-user-created/mode", "remediate")
    account.iam.create_user(UserName="backdoor-admin")
    account.iam.create_access_key(UserName="backdoor-admin")
    account.session.events.register_first("before-call.iam.UpdateAccessKey", _refused("Throttling", "UpdateAccessKey"))
    for _ in range(2):
        with pytest.raises(EnforcementFailedError):
            enforcer.handle(load_event("create-user-backdoor-cli.json"))

    alert = _rebuilt_failure_alert(account, notifier)

    assert alert.finding is not None
    assert alert.finding.severity is Severity.HIGH
    assert sum(line.endswith("; retried with the event") for line in alert.actions) == 2  # the record keeps both
    *_, verdict = (line for line in alert.actions if not line.startswith(EARLIER_SESSIONS))
    assert verdict.endswith(": the quarantine holds (a deny-all is on); 1 refused write will be retried with the event")
    # Each attempt's line says which attempt it is; only the latest reads as current (review s14 F3).
    attempts = [line for line in alert.actions if line.startswith("attempt at ")]
    assert len(attempts) == 2
    assert attempts[0].endswith(": the quarantine held then (a deny-all was on); 1 refused write left to the retry")
    assert sum("will be retried" in line for line in alert.actions) == 1


def test_a_quarantine_retried_to_success_does_not_show_the_earlier_retry_as_current(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Review s14 F3 (probe P3): attempt 1's key write is throttled, attempt 2 deactivates it. The remediated alert
    keeps attempt 1's line, with its time and in the past tense, never "will be retried" as if still to come."""
    account.set("rules/iam-user-created/mode", "remediate")
    account.iam.create_user(UserName="backdoor-admin")
    key = account.iam.create_access_key(UserName="backdoor-admin")["AccessKey"]["AccessKeyId"]
    first: list[bool] = []
    refuse = _refused("Throttling", "UpdateAccessKey")
    account.session.events.register_first(
        "before-call.iam.UpdateAccessKey", lambda **kwargs: None if first else refuse(**kwargs)
    )
    with pytest.raises(EnforcementFailedError):
        enforcer.handle(load_event("create-user-backdoor-cli.json"))
    first.append(True)

    enforcer.handle(load_event("create-user-backdoor-cli.json"))

    [sent] = [n for n in notifier.sent if n.outcome is Outcome.REMEDIATED]
    assert f"deactivated access key {key}" in sent.actions
    [earlier] = [line for line in sent.actions if line.startswith("attempt at ")]
    assert earlier.endswith(": the quarantine held then (a deny-all was on); 1 refused write left to the retry")
    assert not [line for line in sent.actions if "quarantine holds" in line or "will be retried" in line]
    # The record keeps attempt 1's own line as written.
    assert sent.remediation_id is not None
    record = account.audit().get(sent.remediation_id)
    assert record is not None
    assert [line for line in record.done if line.startswith("attempt at ")] == [
        earlier.replace(
            "held then (a deny-all was on); 1 refused write left to the retry",
            "holds (a deny-all is on); 1 refused write will be retried with the event",
        )
    ]


# --- a role quarantine knows its role by RoleId (issue 15) -------------------------------------------------------

ROLE = "iamwarden-heartbeat-us-east-1"
OPERATOR = f"arn:aws:iam::{HOME_ACCOUNT}:user/secops"


def _quarantined_role(account: Account, enforcer: EnforcerService) -> tuple[str, str]:
    """A role created under one of IAM Warden's names, quarantined by iamwarden-tampered: (remediation id, RoleId)."""
    event = load_event("trust-lambda-service.json")
    event["detail"]["requestParameters"]["roleName"] = ROLE
    trust = event["detail"]["requestParameters"]["assumeRolePolicyDocument"]
    role_id = account.iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=trust)["Role"]["RoleId"]
    [finding] = [f for f in enforcer.handle(event)["findings"] if f["outcome"] == Outcome.REMEDIATED]
    record = account.audit().get(str(finding["remediation_id"]))
    assert record is not None
    assert record.before[0]["role_id"] == role_id
    return str(finding["remediation_id"]), role_id


def _re_created(account: Account) -> str:
    """The quarantined role deleted and another created under its name, with an inline policy of the quarantine's
    name of its own (which undo of the old quarantine must not touch)."""
    account.iam.delete_role_policy(RoleName=ROLE, PolicyName=QUARANTINE_POLICY_NAME)
    account.iam.delete_role_permissions_boundary(RoleName=ROLE)
    account.iam.delete_role(RoleName=ROLE)
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    role_id = account.iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["RoleId"]
    account.iam.put_role_policy(RoleName=ROLE, PolicyName=QUARANTINE_POLICY_NAME, PolicyDocument=json.dumps(_MINE))
    return str(role_id)


_MINE = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]}


def test_the_quarantine_policy_deleted_from_the_same_role_is_a_reversal(
    account: Account, enforcer: EnforcerService
) -> None:
    """The control: the role IAM Warden quarantined (same RoleId) is quarantined again."""
    _quarantined_role(account, enforcer)
    account.iam.delete_role_policy(RoleName=ROLE, PolicyName=QUARANTINE_POLICY_NAME)

    result = enforcer.handle(
        _event(
            "remediation-reversed-role-quarantine-deleted.json", "00000000-0000-4000-8000-0000000153a0", roleName=ROLE
        )
    )

    assert [f["outcome"] for f in result["findings"] if f["rule"] == "remediation-reversed"] == [Outcome.REMEDIATED]
    assert QUARANTINE_POLICY_NAME in account.iam.list_role_policies(RoleName=ROLE)["PolicyNames"]


def test_a_role_re_created_under_the_quarantined_name_is_no_reversal_and_no_undo_target(
    account: Account, enforcer: EnforcerService
) -> None:
    """Issue 15: deleted and re-created under the name, it is another principal. Deleting its own inline policy
    of that name reverses nothing (before: quarantined again, critical); undo of the old quarantine refuses and
    changes nothing (before: deleted the new role's policy)."""
    quarantine, _ = _quarantined_role(account, enforcer)
    _re_created(account)
    account.iam.delete_role_policy(RoleName=ROLE, PolicyName=QUARANTINE_POLICY_NAME)

    result = enforcer.handle(
        _event(
            "remediation-reversed-role-quarantine-deleted.json", "00000000-0000-4000-8000-0000000153a1", roleName=ROLE
        )
    )

    assert not [f for f in result["findings"] if f["rule"] == "remediation-reversed"]
    # Review s13 F1: the stale record silences nothing: the write on a role of IAM Warden's name is tampering's.
    assert [f["rule"] for f in result["findings"]] == ["iamwarden-tampered"]
    assert account.iam.list_role_policies(RoleName=ROLE)["PolicyNames"] == []

    account.iam.put_role_policy(RoleName=ROLE, PolicyName=QUARANTINE_POLICY_NAME, PolicyDocument=json.dumps(_MINE))
    with pytest.raises(UndoError, match=r"another principal.*needs no dismissing: it judges nothing on this role"):
        enforcer.executor.undo(quarantine, actor=OPERATOR)
    kept = account.iam.get_role_policy(RoleName=ROLE, PolicyName=QUARANTINE_POLICY_NAME)["PolicyDocument"]
    assert kept == _MINE
