"""iamwarden-tampered on IAM Warden's Slack secrets against moto: restored by the real enforcer, and undone."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from iamwarden.app.service import EnforcerService
from tests.aws_fixtures import HOME_ACCOUNT, REGION
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier

RULE = "iamwarden-tampered"
OPERATOR = f"arn:aws:iam::{HOME_ACCOUNT}:user/secops"
WEBHOOK = "iamwarden/slack/security"
PLACEHOLDER = "REPLACE-ME: put the Slack webhook URL here (aws secretsmanager put-secret-value)"
#: The sample's clientRequestToken: the new version's id.
INTRUDER_TOKEN = "6f1d9a2e-3b7c-4e58-9d0a-1c2b3d4e5f60"  # noqa: S105 - a version id, no credential


def _secrets(account: Account) -> Any:
    return account.session.client("secretsmanager", region_name=REGION)


def _finding(result: dict[str, Any]) -> dict[str, Any]:
    [finding] = [finding for finding in result["findings"] if finding["rule"] == RULE]
    return dict(finding)


def _alerts(notifier: RecordingNotifier) -> list[Any]:
    return [n for n in notifier.sent if n.finding is not None and n.finding.rule_id == RULE]


def _stages(account: Account) -> dict[str, list[str]]:
    stages: dict[str, list[str]] = _secrets(account).describe_secret(SecretId=WEBHOOK)["VersionIdsToStages"]
    return stages


def _current_value(account: Account) -> str:
    client = _secrets(account)
    [current] = [version for version, stages in _stages(account).items() if "AWSCURRENT" in stages]
    value: str = client.get_secret_value(SecretId=WEBHOOK, VersionId=current)["SecretString"]
    return value


def _put_value(account: Account) -> dict[str, Any]:
    """The intruder's PutSecretValue, made in moto, and its event (the sample's shape)."""
    _secrets(account).put_secret_value(
        SecretId=WEBHOOK, SecretString="https://hooks.slack.com/services/INTRUDER", ClientRequestToken=INTRUDER_TOKEN
    )
    return copy.deepcopy(load_event("tamper-slack-secret-value.json"))


def test_a_new_webhook_value_is_replaced_by_the_one_before_and_undo_makes_it_current_again(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    event = _put_value(account)

    finding = _finding(enforcer.handle(event))

    assert finding["outcome"] == "remediated"
    assert _current_value(account) == PLACEHOLDER
    assert "AWSPREVIOUS" in _stages(account)[INTRUDER_TOKEN]
    [alert] = _alerts(notifier)
    assert alert.finding.severity.value == "critical"
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert _stages(account)[INTRUDER_TOKEN] == ["AWSCURRENT"]
    assert _current_value(account) == "https://hooks.slack.com/services/INTRUDER"


def test_a_value_put_back_already_is_left_alone(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    event = _put_value(account)
    enforcer.handle(event)

    again = copy.deepcopy(event)
    again["id"] = again["detail"]["eventID"] = "00000000-0000-0000-0000-0000000000aa"
    finding = _finding(enforcer.handle(again))

    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    assert record.done == []
    assert _current_value(account) == PLACEHOLDER


def test_an_operators_new_value_is_accepted(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set(f"rules/{RULE}/operators", f"arn:aws:iam::{HOME_ACCOUNT}:role/developer")
    event = _put_value(account)

    result = enforcer.handle(event)

    assert result["verdict"] == "compliant"
    assert _current_value(account) == "https://hooks.slack.com/services/INTRUDER"
    assert _alerts(notifier) == []


def _deleted_event(account: Account, **parameters: Any) -> dict[str, Any]:
    arn = _secrets(account).describe_secret(SecretId=WEBHOOK)["ARN"]
    event = copy.deepcopy(load_event("tamper-slack-secret-deleted.json"))
    event["detail"]["requestParameters"] = {"secretId": arn, "recoveryWindowInDays": 7, **parameters}
    return event


def test_a_deleted_webhook_secret_is_restored_and_undo_schedules_its_deletion_again(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    event = _deleted_event(account)
    _secrets(account).delete_secret(SecretId=WEBHOOK, RecoveryWindowInDays=7)

    finding = _finding(enforcer.handle(event))

    assert finding["outcome"] == "remediated"
    assert "DeletedDate" not in _secrets(account).describe_secret(SecretId=WEBHOOK)
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert "DeletedDate" in _secrets(account).describe_secret(SecretId=WEBHOOK)


def test_a_secret_deleted_without_recovery_is_alerted_with_the_way_back(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    event = _deleted_event(account, forceDeleteWithoutRecovery=True)
    _secrets(account).delete_secret(SecretId=WEBHOOK, ForceDeleteWithoutRecovery=True)

    enforcer.handle(event)

    [alert] = _alerts(notifier)
    assert alert.finding.plan == ()
    assert "sam deploy --stack-name iamwarden" in alert.finding.reason
    assert "put-secret-value" in alert.finding.reason


def test_a_resource_policy_put_on_the_secret_is_deleted_and_undo_puts_it_back(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    event = copy.deepcopy(load_event("tamper-slack-secret-policy.json"))
    policy = event["detail"]["requestParameters"]["resourcePolicy"]
    _secrets(account).put_resource_policy(SecretId=WEBHOOK, ResourcePolicy=policy)

    finding = _finding(enforcer.handle(event))

    assert finding["outcome"] == "remediated"
    assert "ResourcePolicy" not in _secrets(account).get_resource_policy(SecretId=WEBHOOK)
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert _secrets(account).get_resource_policy(SecretId=WEBHOOK)["ResourcePolicy"] == policy


@pytest.mark.parametrize(
    ("name", "parameters", "expected"),
    [
        ("UpdateSecret", {"kmsKeyId": "arn:aws:kms:us-east-1:999988887777:key/intruder"}, "update-secret"),
        ("RotateSecret", {"rotationLambdaARN": "arn:aws:lambda:us-east-1:111122223333:function:x"}, "cancel-rotate"),
    ],
)
def test_another_key_or_a_rotation_is_alerted_with_the_way_back(
    enforcer: EnforcerService, notifier: RecordingNotifier, name: str, parameters: dict[str, Any], expected: str
) -> None:
    event = copy.deepcopy(load_event("tamper-slack-secret-value.json"))
    event["detail"]["eventName"] = name
    event["detail"]["requestParameters"] = {"secretId": WEBHOOK, **parameters}
    event["detail"]["responseElements"] = None

    _finding(enforcer.handle(event))

    [alert] = _alerts(notifier)
    assert alert.finding.severity.value == "critical"
    assert alert.finding.plan == ()
    assert expected in alert.finding.reason
    assert "sam deploy --stack-name iamwarden" in alert.finding.reason


def test_a_look_alike_secret_is_not_iamwardens(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    result = enforcer.handle(load_event("tamper-lookalike-secret-value.json"))

    assert [f for f in result["findings"] if f["rule"] == RULE] == []
    assert _alerts(notifier) == []


# --- the Slack signing secret: how the interaction endpoint (undo and exception buttons) knows a click is Slack's

SIGNING = "iamwarden/slack/signing"
SIGNING_PLACEHOLDER = "REPLACE-ME: put the Slack signing secret here (aws secretsmanager put-secret-value)"
SIGNING_TOKEN = "a2c4e6f8-1b3d-4f5a-8c7e-9d0b2a4c6e81"  # noqa: S105 - the sample's version id, no credential


def _signing_value(account: Account) -> str:
    client = _secrets(account)
    stages = client.describe_secret(SecretId=SIGNING)["VersionIdsToStages"]
    [current] = [version for version, labels in stages.items() if "AWSCURRENT" in labels]
    value: str = client.get_secret_value(SecretId=SIGNING, VersionId=current)["SecretString"]
    return value


def test_a_new_signing_secret_value_is_replaced_by_the_one_before_and_undo_makes_it_current_again(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """A value the intruder knows would let them sign a forged click (an undo of any remediation)."""
    _secrets(account).put_secret_value(SecretId=SIGNING, SecretString="intruder", ClientRequestToken=SIGNING_TOKEN)

    finding = _finding(enforcer.handle(copy.deepcopy(load_event("tamper-slack-signing-secret-value.json"))))

    assert finding["outcome"] == "remediated"
    assert _signing_value(account) == SIGNING_PLACEHOLDER
    [alert] = _alerts(notifier)
    assert alert.finding.severity.value == "critical"
    assert f"its Slack secret {SIGNING}" in alert.finding.reason
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert _signing_value(account) == "intruder"


def test_a_deleted_signing_secret_named_by_its_arn_is_restored_and_undo_schedules_its_deletion_again(
    account: Account, enforcer: EnforcerService
) -> None:
    arn = _secrets(account).describe_secret(SecretId=SIGNING)["ARN"]
    event = copy.deepcopy(load_event("tamper-slack-secret-deleted.json"))
    event["detail"]["requestParameters"] = {"secretId": arn, "recoveryWindowInDays": 7}
    _secrets(account).delete_secret(SecretId=SIGNING, RecoveryWindowInDays=7)

    finding = _finding(enforcer.handle(event))

    assert finding["outcome"] == "remediated"
    assert "DeletedDate" not in _secrets(account).describe_secret(SecretId=SIGNING)
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert "DeletedDate" in _secrets(account).describe_secret(SecretId=SIGNING)


def test_a_resource_policy_put_on_the_signing_secret_is_deleted_and_undo_puts_it_back(
    account: Account, enforcer: EnforcerService
) -> None:
    event = copy.deepcopy(load_event("tamper-slack-secret-policy.json"))
    event["detail"]["requestParameters"]["secretId"] = SIGNING
    policy = event["detail"]["requestParameters"]["resourcePolicy"]
    _secrets(account).put_resource_policy(SecretId=SIGNING, ResourcePolicy=policy)

    finding = _finding(enforcer.handle(event))

    assert finding["outcome"] == "remediated"
    assert "ResourcePolicy" not in _secrets(account).get_resource_policy(SecretId=SIGNING)
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert _secrets(account).get_resource_policy(SecretId=SIGNING)["ResourcePolicy"] == policy
