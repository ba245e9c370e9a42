"""iamwarden-tampered on IAM Warden's Slack secrets against moto: restored by the real enforcer, and undone."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest

from iamwarden.adapters.recorded import AuditRecorded
from iamwarden.app.service import EnforcementFailedError, EnforcerService
from iamwarden.domain.recorded import OWN_SECRET
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


def _put_value(
    account: Account,
    token: str = INTRUDER_TOKEN,
    *,
    secret: str = WEBHOOK,
    value: str = "https://hooks.slack.com/services/INTRUDER",
    at: str | None = None,
) -> dict[str, Any]:
    """The intruder's PutSecretValue, made in moto, and its event (the sample's shape; ``at``: its eventTime, the
    sample's 2026-11-13T09:22:18Z by default)."""
    _secrets(account).put_secret_value(SecretId=secret, SecretString=value, ClientRequestToken=token)
    event = copy.deepcopy(load_event("tamper-slack-secret-value.json"))
    detail = event["detail"]
    detail["requestParameters"].update(secretId=secret, clientRequestToken=token)
    detail["responseElements"].update(name=secret, versionId=token)
    if at is not None:
        detail["eventTime"] = at
    if token != INTRUDER_TOKEN or secret != WEBHOOK:
        detail["eventID"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"put/{secret}/{token}"))
    return event


def _moved_event(account: Account, moved_to: str, removed_from: str, *, at: str | None = None) -> dict[str, Any]:
    """The event of an ``UpdateSecretVersionStage`` moving AWSCURRENT (made in moto by the caller): the sample's
    record with the API's request parameters (botocore's shape, camel-cased as CloudTrail records them)."""
    event = copy.deepcopy(load_event("tamper-slack-secret-value.json"))
    detail = event["detail"]
    detail["eventName"] = "UpdateSecretVersionStage"
    detail["requestParameters"] = {
        "secretId": WEBHOOK,
        "versionStage": "AWSCURRENT",
        "moveToVersionId": moved_to,
        "removeFromVersionId": removed_from,
    }
    detail["responseElements"] = {"arn": _secrets(account).describe_secret(SecretId=WEBHOOK)["ARN"], "name": WEBHOOK}
    detail["eventID"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"move/{moved_to}/{removed_from}"))
    if at is not None:
        detail["eventTime"] = at
    return event


#: When the operator put the Slack credential in (README "Connect Slack"): before the intruder's calls.
OPERATOR_AT = "2026-11-13T09:10:00Z"
GOOD = "https://hooks.slack.com/services/T000/B000/GOOD"


def operator_puts(
    account: Account, enforcer: EnforcerService, *, secret: str = WEBHOOK, value: str = GOOD, at: str = OPERATOR_AT
) -> str:
    """An operator (in ``operators``) puts the Slack credential in, as the README says to; the enforcer judges it
    compliant and keeps its version as the one known good. Returns that version's id."""
    account.set(f"rules/{RULE}/operators", OPERATOR)
    token = str(uuid.uuid5(uuid.NAMESPACE_URL, f"operator/{secret}/{at}"))
    event = _put_value(account, token, secret=secret, value=value, at=at)
    event["detail"]["userIdentity"] = {
        "type": "IAMUser",
        "principalId": "AIDA2KPU3GRUGI7A2PSEC",
        "arn": OPERATOR,
        "accountId": HOME_ACCOUNT,
        "accessKeyId": "AKIAKIEZ4IB7HMEHDSEC",
        "userName": "secops",
    }
    assert enforcer.handle(event)["verdict"] == "compliant"
    return token


def test_an_operators_new_value_is_kept_as_the_version_known_good(account: Account, enforcer: EnforcerService) -> None:
    version = operator_puts(account, enforcer)

    record = AuditRecorded(account.audit(), account.dynamodb).snapshot(OWN_SECRET, WEBHOOK)

    assert record is not None
    assert (record.taken_at, record.data["current_version"], record.data["tampered"]) == (
        "2026-11-13T09:10:00.000+00:00",
        version,
        False,
    )


def test_a_new_webhook_value_is_replaced_by_the_version_known_good_and_undo_makes_it_current_again(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    good = operator_puts(account, enforcer)
    event = _put_value(account)

    finding = _finding(enforcer.handle(event))

    assert finding["outcome"] == "remediated"
    assert _current_value(account) == GOOD
    assert _stages(account)[good] == ["AWSCURRENT"]
    assert "AWSPREVIOUS" in _stages(account)[INTRUDER_TOKEN]
    [alert] = _alerts(notifier)
    assert alert.finding.severity.value == "critical"
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert _stages(account)[INTRUDER_TOKEN] == ["AWSCURRENT"]
    assert _current_value(account) == "https://hooks.slack.com/services/INTRUDER"


def test_a_value_put_back_already_is_left_alone(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    operator_puts(account, enforcer)
    event = _put_value(account)
    enforcer.handle(event)

    again = copy.deepcopy(event)
    again["id"] = again["detail"]["eventID"] = "00000000-0000-0000-0000-0000000000aa"
    finding = _finding(enforcer.handle(again))

    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    assert record.done == []
    assert _current_value(account) == GOOD


def test_without_a_version_known_good_a_new_value_is_alerted_and_left(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """The placeholder the stack created was never judged (no operator put a value in while IAM Warden watched):
    nothing says which version is good, so nothing is guessed."""
    event = _put_value(account)

    finding = _finding(enforcer.handle(event))

    assert finding["outcome"] != "remediated"
    [alert] = _alerts(notifier)
    assert alert.finding.plan == ()
    assert "IAM Warden has no record of its current version" in alert.finding.needs_context[0]
    assert _current_value(account) == "https://hooks.slack.com/services/INTRUDER"
    # Kept as the intruder's: the next change's "before" is never put back.
    record = AuditRecorded(account.audit(), account.dynamodb).snapshot(OWN_SECRET, WEBHOOK)
    assert record is not None
    assert (record.data["current_version"], record.data["tampered"]) == (INTRUDER_TOKEN, True)


SECOND_TOKEN = "7a2e0b3f-4c8d-4f69-8e1b-2d3c4e5f6a71"  # noqa: S105 - a version id, no credential
SECOND_AT = "2026-11-13T09:23:18Z"


@pytest.mark.parametrize("order", ["in-order", "reversed"])
def test_two_intruder_values_judged_late_in_either_order_never_make_the_first_current(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, order: str
) -> None:
    """v1 (the operator's) -> v2 -> v3 (the intruder's), both made before either is judged. The second replaced
    v2, the intruder's, so it is put back neither to v2 (the old guess: AWSPREVIOUS) nor to v1 (not what it
    replaced: AWSPREVIOUS says v2); the first is no longer current. Nothing is changed and the failure says why:
    the intruder's latest value stays, alerted, never the first intruder's."""
    operator_puts(account, enforcer)
    first = _put_value(account, value="https://hooks.slack.com/services/INTRUDER-1")
    second = _put_value(account, SECOND_TOKEN, value="https://hooks.slack.com/services/INTRUDER-2", at=SECOND_AT)
    events = [first, second] if order == "in-order" else [second, first]

    failures = []
    for event in events:
        try:
            enforcer.handle(event)
        except EnforcementFailedError as failed:
            failures.append(str(failed))

    assert _current_value(account) == "https://hooks.slack.com/services/INTRUDER-2"
    assert _stages(account)[INTRUDER_TOKEN] == ["AWSPREVIOUS"]
    [failure] = failures
    assert f"in place of version {INTRUDER_TOKEN} (AWSPREVIOUS)" in failure
    assert "not judged yet, so nothing was changed" in failure
    assert len(_alerts(notifier)) == 2


def test_two_intruder_changes_each_judged_in_time_both_go_back_to_the_operators(
    account: Account, enforcer: EnforcerService
) -> None:
    """The first is put back (so not kept: the operator's version is current again, and stays the record); the
    second, made after that, replaced the operator's version and is put back to it too. The second is a stage move
    (moto's put-secret-value after an update-secret-version-stage leaves two versions labelled AWSCURRENT, which
    Secrets Manager never does)."""
    good = operator_puts(account, enforcer)
    assert _finding(enforcer.handle(_put_value(account)))["outcome"] == "remediated"
    assert _current_value(account) == GOOD
    _secrets(account).update_secret_version_stage(
        SecretId=WEBHOOK, VersionStage="AWSCURRENT", MoveToVersionId=INTRUDER_TOKEN, RemoveFromVersionId=good
    )
    second = _moved_event(account, INTRUDER_TOKEN, good, at=SECOND_AT)

    assert _finding(enforcer.handle(second))["outcome"] == "remediated"

    assert _current_value(account) == GOOD


def test_awscurrent_moved_to_another_version_goes_back_to_the_one_the_event_names(
    account: Account, enforcer: EnforcerService
) -> None:
    """``UpdateSecretVersionStage`` names the version it took AWSCURRENT from: put back when that is the version
    IAM Warden knows good (here the operator's; the intruder made the old placeholder current again)."""
    good = operator_puts(account, enforcer)
    [placeholder] = [version for version, stages in _stages(account).items() if "AWSPREVIOUS" in stages]
    _secrets(account).update_secret_version_stage(
        SecretId=WEBHOOK, VersionStage="AWSCURRENT", MoveToVersionId=placeholder, RemoveFromVersionId=good
    )
    event = _moved_event(account, placeholder, good)

    finding = _finding(enforcer.handle(event))

    assert finding["outcome"] == "remediated"
    assert _current_value(account) == GOOD
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
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
    operator_puts(account, enforcer, secret=SIGNING, value="the app's signing secret")
    _secrets(account).put_secret_value(SecretId=SIGNING, SecretString="intruder", ClientRequestToken=SIGNING_TOKEN)

    finding = _finding(enforcer.handle(copy.deepcopy(load_event("tamper-slack-signing-secret-value.json"))))

    assert finding["outcome"] == "remediated"
    assert _signing_value(account) == "the app's signing secret"
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
