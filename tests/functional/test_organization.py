"""Three accounts in moto: the security account (home) and two members, each with its own state.

moto keeps separate IAM and S3 state per account, and credentials from an assumed role act in the role's
account, so "remediated there and nowhere else" is read back from each account's own state.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from iamwarden.adapters.recorded import AuditRecorded
from iamwarden.app.service import EnforcerService
from iamwarden.domain.findings import Outcome
from iamwarden.domain.own import MEMBER_SESSION
from iamwarden.domain.recorded import OWN_ROLE, Snapshot
from tests.aws_fixtures import HOME_ACCOUNT, REGION
from tests.conftest import ROOT, load_event
from tests.functional.conftest import Account, RecordingNotifier

MEMBER = "444455556666"
OTHER = "777788889999"
ACCOUNTS = (HOME_ACCOUNT, MEMBER, OTHER)
USER = "backdoor-admin"


def _session(account: Account, account_id: str) -> boto3.Session:
    """Credentials acting in ``account_id``: the home account's own, or an assumed role's there."""
    if account_id == HOME_ACCOUNT:
        return account.session
    answer = account.session.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole", RoleSessionName="setup"
    )
    credentials = answer["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )


def _remediation_role(session: boto3.Session) -> None:
    """The member template's remediation role by its name, created in the member account as the StackSet would
    (moto does not evaluate trust policies; tests/integration/test_member_template.py checks the trust)."""
    from samtranslator.yaml_helper import yaml_parse

    template = yaml_parse((ROOT / "member" / "template.yaml").read_text())
    role = template["Resources"]["RemediationRole"]["Properties"]
    session.client("iam").create_role(
        RoleName="iamwarden-remediator",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        Description=role["Description"],
    )


def _in(sample: str, account_id: str) -> dict[str, Any]:
    """``sample`` as CloudTrail records it in ``account_id``: every account field and its own event id."""
    event: dict[str, Any] = json.loads(json.dumps(load_event(sample)).replace(HOME_ACCOUNT, account_id))
    event["detail"]["eventID"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{sample}/{account_id}"))
    return event


def _user_everywhere(account: Account) -> dict[str, tuple[Any, str]]:
    """The same user, with an active access key, in each of the three accounts: account -> (iam, key id)."""
    users = {}
    for account_id in ACCOUNTS:
        iam = _session(account, account_id).client("iam")
        iam.create_user(UserName=USER)
        users[account_id] = (iam, iam.create_access_key(UserName=USER)["AccessKey"]["AccessKeyId"])
    return users


def _quarantined(iam: Any) -> bool:
    keys = iam.list_access_keys(UserName=USER)["AccessKeyMetadata"]
    policies: list[str] = iam.list_user_policies(UserName=USER)["PolicyNames"]
    return policies == ["iamwarden-quarantine"] and all(key["Status"] == "Inactive" for key in keys)


def _untouched(iam: Any, key: str) -> bool:
    [metadata] = iam.list_access_keys(UserName=USER)["AccessKeyMetadata"]
    return bool(
        iam.list_user_policies(UserName=USER)["PolicyNames"] == []
        and metadata["AccessKeyId"] == key
        and metadata["Status"] == "Active"
    )


def test_the_accounts_are_separate_in_moto(account: Account) -> None:
    """The premise of these tests: a user made in one account is not visible in another."""
    _session(account, MEMBER).client("iam").create_user(UserName="only-in-member")
    with pytest.raises(ClientError):
        _session(account, OTHER).client("iam").get_user(UserName="only-in-member")
    with pytest.raises(ClientError):
        account.iam.get_user(UserName="only-in-member")


def test_a_member_violation_is_remediated_there_and_nowhere_else(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("rules/iam-user-created/mode", "remediate")
    _remediation_role(_session(account, MEMBER))
    users = _user_everywhere(account)
    event = _in("create-user-backdoor-cli.json", MEMBER)

    [finding] = enforcer.handle(event)["findings"]

    assert finding["outcome"] == "remediated"
    assert _quarantined(users[MEMBER][0])
    for account_id in (HOME_ACCOUNT, OTHER):
        assert _untouched(*users[account_id]), f"{account_id} was touched"
    [record] = account.audit().for_event(event["detail"]["eventID"])
    assert record.account == MEMBER
    assert record.resource_arn == f"arn:aws:iam::{MEMBER}:user/{USER}"
    assert record.calls, "the remediation's calls are recorded"
    assert {call["account"] for call in record.calls} == {MEMBER}
    # The enforcer reached the member account through the member role, by name, as the template names it.
    assert (
        enforcer.executor.clients.member_role_arn(MEMBER, REGION) == f"arn:aws:iam::{MEMBER}:role/iamwarden-remediator"
    )
    assert [n.outcome for n in notifier.sent] == [Outcome.REMEDIATED]


def test_a_member_bucket_is_fixed_in_the_member_account(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/s3-bucket-policy-public/mode", "remediate")
    event = _in("bucket-policy-public-read.json", MEMBER)
    region = event["region"]
    s3 = _session(account, MEMBER).client("s3", region_name=region)
    s3.create_bucket(Bucket="acme-invoices", CreateBucketConfiguration={"LocationConstraint": region})
    s3.put_bucket_policy(
        Bucket="acme-invoices", Policy=json.dumps(event["detail"]["requestParameters"]["bucketPolicy"])
    )

    [finding] = enforcer.handle(event)["findings"]

    assert finding["outcome"] == "remediated"
    with pytest.raises(ClientError, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket="acme-invoices")
    [record] = account.audit().for_event(event["detail"]["eventID"])
    assert {call["account"] for call in record.calls} == {MEMBER}


def test_a_forged_cross_account_event_is_rejected_alerted_and_changes_nothing(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Member 444455556666 claims a CreateUser whose user is in the home account: nothing is done anywhere."""
    account.set("rules/iam-user-created/mode", "remediate")
    users = _user_everywhere(account)
    event = load_event("create-user-forged-cross-account.json")

    result = enforcer.handle(event)
    again = enforcer.handle(event)  # EventBridge delivers at least once

    assert result["verdict"] == again["verdict"] == "invalid"
    assert "rejected" in result["reason"]
    assert result["findings"] == []
    for account_id in ACCOUNTS:
        assert _untouched(*users[account_id]), f"{account_id} was touched"
    [alert] = notifier.sent
    assert alert.outcome is Outcome.REJECTED
    assert alert.change is not None
    assert alert.change.account == MEMBER
    [record] = account.audit().for_event(event["detail"]["eventID"])
    assert record.kind == "rejection"
    assert record.account == MEMBER
    assert "rejected" in (record.error or "")
    assert record.calls == []
    assert Outcome.REJECTED.value in record.alerts_sent


def test_an_account_in_alert_only_is_alerted_and_the_others_remediated(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("rules/iam-user-created/mode", "remediate")
    account.set(f"accounts/{MEMBER}/mode", "alert")
    users = _user_everywhere(account)

    [member] = enforcer.handle(_in("create-user-backdoor-cli.json", MEMBER))["findings"]
    [other] = enforcer.handle(_in("create-user-backdoor-cli.json", OTHER))["findings"]

    assert member["outcome"] == "alerted"
    assert _untouched(*users[MEMBER])
    assert other["outcome"] == "remediated"
    assert _quarantined(users[OTHER][0])
    assert _untouched(*users[HOME_ACCOUNT])


def test_a_per_account_rule_override_remediates_in_that_account_only(
    account: Account, enforcer: EnforcerService
) -> None:
    account.set(f"accounts/{OTHER}/rules/iam-user-created/mode", "remediate")
    users = _user_everywhere(account)

    [member] = enforcer.handle(_in("create-user-backdoor-cli.json", MEMBER))["findings"]
    [other] = enforcer.handle(_in("create-user-backdoor-cli.json", OTHER))["findings"]

    assert member["outcome"] == "alerted"
    assert other["outcome"] == "remediated"
    assert _untouched(*users[MEMBER])
    assert _quarantined(users[OTHER][0])


def _remediator_session(account: Account, session: str) -> dict[str, Any]:
    """create-user-by-warden in the member account, by a session named ``session`` of the member stack's
    remediator role, whose RoleId the heartbeat has read (domain.own.OwnIdentity.own_session)."""
    event = _in("create-user-by-warden.json", MEMBER)
    identity = event["detail"]["userIdentity"]
    role_id = identity["sessionContext"]["sessionIssuer"]["principalId"]
    identity["arn"] = f"arn:aws:sts::{MEMBER}:assumed-role/iamwarden-remediator/{session}"
    identity["principalId"] = f"{role_id}:{session}"
    identity["sessionContext"]["sessionIssuer"]["arn"] = f"arn:aws:iam::{MEMBER}:role/iamwarden-remediator"
    identity["sessionContext"]["sessionIssuer"]["userName"] = "iamwarden-remediator"
    event["detail"]["requestParameters"]["userName"] = USER
    remediator = f"arn:aws:iam::{MEMBER}:role/iamwarden-remediator"
    AuditRecorded(account.audit(), account.dynamodb).put(
        Snapshot(OWN_ROLE, remediator, "2026-12-01T00:00:00Z", {"trust_policy": {}, "inline": {}, "role_id": role_id})
    )
    return event


def test_the_enforcers_own_session_in_a_member_account_is_ignored(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Loop protection across accounts: the member role's own changes in its account are never acted on."""
    account.set("rules/iam-user-created/mode", "remediate")
    users = _user_everywhere(account)
    event = _remediator_session(account, MEMBER_SESSION)

    result = enforcer.handle(event)

    assert result["verdict"] == "ignored"
    assert f"own role arn:aws:iam::{MEMBER}:role/iamwarden-remediator" in result["reason"]
    assert notifier.sent == []
    assert _untouched(*users[MEMBER])


def test_another_session_of_the_member_role_is_judged_and_remediated(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """The right role (its RoleId known) under a session name IAM Warden never gives it is someone else:
    anyone the role's trust lets in, once widened. Its change is judged like anyone's."""
    account.set("rules/iam-user-created/mode", "remediate")
    users = _user_everywhere(account)
    event = _remediator_session(account, "attacker")

    result = enforcer.handle(event)

    assert result["verdict"] == "violation"
    [finding] = result["findings"]
    assert finding["outcome"] == "remediated"
    assert _quarantined(users[MEMBER][0])
    assert [alert.outcome for alert in notifier.sent] == [Outcome.REMEDIATED]


def test_an_undelivered_rejection_alert_is_sent_again_as_it_was(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    from iamwarden.app.redeliver import notification_of

    event = load_event("create-user-forged-cross-account.json")
    enforcer.handle(event)
    [record] = account.audit().for_event(event["detail"]["eventID"])
    stored = record._replace(undelivered_event=event)

    rebuilt = notification_of(stored, Outcome.REJECTED, "/iamwarden")

    [sent] = notifier.sent
    assert rebuilt == sent
