"""SSH public keys, signing certificates and service-specific credentials of IAM users (issue 15 item 4).

``user-credential-created`` deactivates exactly the credential an event added (moto for SSH keys and signing
certificates; botocore's Stubber for service-specific credentials, which moto does not implement); undo makes it
active again. ``remediation-reversed`` deactivates again one added to a user IAM Warden quarantined, or one it
deactivated that someone set Active again. The samples follow the API's shapes (no published CloudTrail record was
found; events/README.md says so).
"""

from __future__ import annotations

import copy
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from iamwarden.adapters.audit import AuditRecord, AuditStatus
from iamwarden.app.service import EnforcerService
from iamwarden.domain.exceptions import UndoError
from iamwarden.domain.findings import RemediationStep
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.credentials import DeactivateServiceSpecificCredential
from iamwarden.guardrails.engine import judge_event
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier
from tests.functional.guardrail_cases import _SSH_BODY

USER = "svc-legacy"
OPERATOR = f"arn:aws:iam::{HOME_ACCOUNT}:user/secops"
USER_ARN = f"arn:aws:iam::{HOME_ACCOUNT}:user/{USER}"
#: A self-signed certificate (openssl req -x509), which moto parses.
CERTIFICATE = (
    "-----BEGIN CERTIFICATE-----\n"
    "MIIDEzCCAfugAwIBAgIUIQGqWiIpoz2/3yLyicNrLZHBqQkwDQYJKoZIhvcNAQEL\n"
    "BQAwGTEXMBUGA1UEAwwOaWFtd2FyZGVuLXRlc3QwHhcNMjYxMjA1MTA1MzIwWhcN\n"
    "MzYxMjAyMTA1MzIwWjAZMRcwFQYDVQQDDA5pYW13YXJkZW4tdGVzdDCCASIwDQYJ\n"
    "KoZIhvcNAQEBBQADggEPADCCAQoCggEBANiuFQMLi+54yr46eN+Lc/sJkfwmqFtL\n"
    "LDZTY6IrKshv6B1ZMJ8eTD8d/9kzbviVYVrk0y8Tlae4RSHluP9cFHs+K0zSwwTN\n"
    "tH83xR799QRI4uyIZFS2bSq9Jrss+4WI7TWBcdTsc/rPtI5lVB6Era3NG+eUvQWa\n"
    "Z82ieKDyYoFMGtnl6z21wheviQvynxF7F1gU/mcZk2B2DWAgyZksWQnPpKwJbX+c\n"
    "Xn23SYc99chJEKW/dFrQSZulvIpf9hOXgkFNosGIyaHLVR9kObtx6AlbCN8Qo2ef\n"
    "Jhz/hC8zt5bOgmnWTozk849WfDCtBwy4PgoYQu+5XmTzs/OTbAnjIO8CAwEAAaNT\n"
    "MFEwHQYDVR0OBBYEFNBB1NvkXkqkbKa05SJtRABEJTNbMB8GA1UdIwQYMBaAFNBB\n"
    "1NvkXkqkbKa05SJtRABEJTNbMA8GA1UdEwEB/wQFMAMBAf8wDQYJKoZIhvcNAQEL\n"
    "BQADggEBAGHOJLXIQx6fBfMdjtfuO3jVFtlgbsu0BsA7QW3TYA+Zuf/EWsXUAnuL\n"
    "M6QyLj8egZv/l6ZCu2Rn5ufKRJD2GJduXyJxSwAfroRAVCCgxu/kQjnfIbGEZLer\n"
    "nsgDMj+3yroXWQTFdgTkLRIWRuU0xPsb3a8vCA15ls73F56e4xWMRCw1ln8C+Cm4\n"
    "4juwcw0nQ3Z0slr/RTnX98W5kITYOlh+j/8/mKsH8Z4MhbHoToIn1Lnh4UIQmWq3\n"
    "Hoe98OCsJZoRnq/CBMnPVrMl9W0u0cxJt9PplTPn83nurOI2QDX7HbCEmNeXl1Rb\n"
    "FDd/rzt5mrok0SC1mLGQcsFaAgX3NKA=\n"
    "-----END CERTIFICATE-----\n"
)


def _findings(result: dict[str, Any], rule: str) -> list[dict[str, Any]]:
    return [finding for finding in result["findings"] if finding["rule"] == rule]


def _ssh_event(account: Account, user: str = USER) -> tuple[str, dict[str, Any]]:
    key = account.iam.upload_ssh_public_key(UserName=user, SSHPublicKeyBody=_SSH_BODY)["SSHPublicKey"]
    event = copy.deepcopy(load_event("upload-ssh-public-key.json"))
    event["detail"]["requestParameters"]["userName"] = user
    event["detail"]["responseElements"]["sSHPublicKey"].update(userName=user, sSHPublicKeyId=key["SSHPublicKeyId"])
    return key["SSHPublicKeyId"], event


def _alerted(notifier: RecordingNotifier, rule: str) -> Any:
    [finding] = [n.finding for n in notifier.sent if n.finding is not None and n.finding.rule_id == rule]
    return finding


def _ssh_status(account: Account, user: str = USER) -> list[str]:
    return [key["Status"] for key in account.iam.list_ssh_public_keys(UserName=user)["SSHPublicKeys"]]


def test_a_new_ssh_key_is_only_alerted_by_default_like_a_new_access_key(
    account: Account, enforcer: EnforcerService
) -> None:
    account.iam.create_user(UserName=USER)
    _, event = _ssh_event(account)
    [finding] = _findings(enforcer.handle(event), "user-credential-created")
    assert finding["outcome"] == "alerted"
    assert _ssh_status(account) == ["Active"]


def test_a_new_ssh_key_is_deactivated_exactly_and_undo_makes_it_active(
    account: Account, enforcer: EnforcerService
) -> None:
    account.set("rules/user-credential-created/mode", "remediate")
    account.iam.create_user(UserName=USER)
    account.iam.upload_ssh_public_key(UserName=USER, SSHPublicKeyBody=_SSH_BODY.replace("user@", "older@"))
    key, event = _ssh_event(account)
    [finding] = _findings(enforcer.handle(event), "user-credential-created")
    assert finding["outcome"] == "remediated"
    statuses = {
        k["SSHPublicKeyId"]: k["Status"] for k in account.iam.list_ssh_public_keys(UserName=USER)["SSHPublicKeys"]
    }
    assert statuses[key] == "Inactive"
    assert sorted(statuses.values()) == ["Active", "Inactive"]  # the older key is not touched
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert _ssh_status(account) == ["Active", "Active"]


def test_a_new_signing_certificate_is_deactivated_exactly(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/user-credential-created/mode", "remediate")
    account.iam.create_user(UserName=USER)
    certificate = account.iam.upload_signing_certificate(UserName=USER, CertificateBody=CERTIFICATE)["Certificate"]
    event = copy.deepcopy(load_event("upload-signing-certificate.json"))
    event["detail"]["responseElements"]["certificate"]["certificateId"] = certificate["CertificateId"]
    [finding] = _findings(enforcer.handle(event), "user-credential-created")
    assert finding["outcome"] == "remediated"
    [listed] = account.iam.list_signing_certificates(UserName=USER)["Certificates"]
    assert listed["Status"] == "Inactive"


def test_a_record_without_the_credentials_id_is_alerted_saying_so() -> None:
    event = copy.deepcopy(load_event("create-service-specific-credential.json"))
    del event["detail"]["responseElements"]["serviceSpecificCredential"]["serviceSpecificCredentialId"]
    [finding] = judge_event(event, Settings()).findings
    assert finding.plan == ()
    [missing] = finding.needs_context
    assert "which service-specific credential the event added" in missing


class _Clients:
    def __init__(self, iam: Any) -> None:
        self.iam = iam
        self.account = HOME_ACCOUNT


class _Run:
    def __init__(self, aws: _Clients) -> None:
        self.aws = aws
        self.finding_id = "f-1"
        self.now = "2026-11-24T10:16:00.000+00:00"


def _credential(status: str) -> dict[str, Any]:
    return {
        "ServiceSpecificCredentials": [
            {
                "UserName": USER,
                "Status": status,
                "ServiceUserName": "svc-legacy-at-111122223333",
                "CreateDate": "2026-11-24T10:15:00Z",
                "ServiceSpecificCredentialId": "ACCAEXAMPLE2ZQLKF3X7",
                "ServiceName": "codecommit.amazonaws.com",
            }
        ]
    }


def test_a_service_specific_credential_is_deactivated_and_undone_with_exactly_its_calls() -> None:
    """moto has no service-specific credentials: the calls are held to botocore's shapes by its Stubber."""
    [finding] = judge_event(load_event("create-service-specific-credential.json"), Settings()).findings
    [step] = finding.plan
    iam = boto3.client("iam", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    action = DeactivateServiceSpecificCredential()
    update = {"UserName": USER, "ServiceSpecificCredentialId": "ACCAEXAMPLE2ZQLKF3X7"}
    with Stubber(iam) as stub:
        stub.add_response("list_service_specific_credentials", _credential("Active"), {"UserName": USER})
        stub.add_response("update_service_specific_credential", {}, {**update, "Status": "Inactive"})
        stub.add_response("list_service_specific_credentials", _credential("Inactive"), {"UserName": USER})
        stub.add_response("update_service_specific_credential", {}, {**update, "Status": "Active"})
        aws = _Clients(iam)
        before = action.capture(aws, step)  # type: ignore[arg-type]
        done: list[str] = []
        action.apply(_Run(aws), step, before, done)  # type: ignore[arg-type]
        assert done == [f"deactivated service-specific credential ACCAEXAMPLE2ZQLKF3X7 of user {USER}"]
        assert action.undo(aws, step, before) == [  # type: ignore[arg-type]
            f"made service-specific credential ACCAEXAMPLE2ZQLKF3X7 of user {USER} active again"
        ]
        stub.assert_no_pending_responses()


def test_undo_of_a_credential_deleted_since_is_refused() -> None:
    step = RemediationStep(
        DeactivateServiceSpecificCredential.action, USER_ARN, {"user_name": USER, "credential_id": "ACCA1"}, "x"
    )
    iam = boto3.client("iam", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(iam) as stub:
        stub.add_response("list_service_specific_credentials", {"ServiceSpecificCredentials": []}, {"UserName": USER})
        with pytest.raises(UndoError, match="no longer exists"):
            DeactivateServiceSpecificCredential().undo(_Clients(iam), step, {"status": "Active"})  # type: ignore[arg-type]


def _quarantined(account: Account, user: str) -> None:
    """The audit table's record of IAM Warden's quarantine of ``user`` (iam-user-created), in force."""
    arn = f"arn:aws:iam::{HOME_ACCOUNT}:user/{user}"
    step = {
        "action": "quarantine_user",
        "target": arn,
        "parameters": {"user_name": user, "quarantine_policy_name": "iamwarden-quarantine"},
        "summary": f"quarantine user {user}",
    }
    account.audit().put(
        AuditRecord(
            remediation_id="rem-quarantine-0000000001",
            kind="remediation",
            status=AuditStatus.REMEDIATED,
            resource_arn=arn,
            event_id="5f3b0c52-0000-4000-8000-00000000beef",
            created_at="2026-11-20T09:20:00.000+00:00",
            rule="iam-user-created",
            account=HOME_ACCOUNT,
            region="us-east-1",
            finding={},
            plan=[step],
            before=[{"access_keys": []}],
            done=[f"attached the deny-all policy iamwarden-quarantine to user {user}"],
        )
    )


def test_an_ssh_key_added_to_a_quarantined_user_is_a_reversal_deactivated_again(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.iam.create_user(UserName="backdoor-admin")
    _quarantined(account, "backdoor-admin")
    key, event = _ssh_event(account, "backdoor-admin")
    result = enforcer.handle(event)
    [reversed_] = _findings(result, "remediation-reversed")
    assert reversed_["outcome"] == "remediated"
    alert = _alerted(notifier, "remediation-reversed")
    assert alert.severity.value == "critical"
    assert "whom IAM Warden had quarantined" in alert.reason
    assert _ssh_status(account, "backdoor-admin") == ["Inactive"]
    [alerted] = _findings(result, "user-credential-created")  # alert mode: the same key, said once more
    assert alerted["outcome"] == "alerted"
    assert key in alert.reason


def test_an_ssh_key_iam_warden_deactivated_set_active_again_is_deactivated_again(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("rules/user-credential-created/mode", "remediate")
    account.iam.create_user(UserName=USER)
    key, event = _ssh_event(account)
    enforcer.handle(event)
    assert _ssh_status(account) == ["Inactive"]
    account.iam.update_ssh_public_key(UserName=USER, SSHPublicKeyId=key, Status="Active")
    update = copy.deepcopy(load_event("update-ssh-public-key-reactivated.json"))
    update["detail"]["requestParameters"].update(userName=USER, sSHPublicKeyId=key)
    update["detail"]["eventID"] = "update-ssh-key-1"
    [reversed_] = _findings(enforcer.handle(update), "remediation-reversed")
    assert reversed_["outcome"] == "remediated"
    assert f"set SSH public key {key} of user {USER} Active again" in _alerted(notifier, "remediation-reversed").reason
    assert _ssh_status(account) == ["Inactive"]


def test_an_ssh_key_made_active_that_iam_warden_never_touched_is_no_reversal(
    account: Account, enforcer: EnforcerService
) -> None:
    account.iam.create_user(UserName=USER)
    key, _ = _ssh_event(account)
    update = copy.deepcopy(load_event("update-ssh-public-key-reactivated.json"))
    update["detail"]["requestParameters"].update(userName=USER, sSHPublicKeyId=key)
    assert _findings(enforcer.handle(update), "remediation-reversed") == []
