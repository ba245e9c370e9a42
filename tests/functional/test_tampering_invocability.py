"""The enforcer kept invocable (audit s7 gap 16): EventBridge's invoke permission and the dead-letter queue's policy,
changed by anyone but the stack, put back as the template declares them by the real enforcer (moto), and undone.

Without the invoke permission EventBridge can neither invoke the enforcer nor dead-letter the event, so the event of
the ``RemovePermission`` itself may be the last one judged; the heartbeat reports the missing permission every run
until it is back (``Heartbeat.invoke_permission_problems``), whichever of the two sees it first.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from iamwarden.adapters.audit import AuditStatus
from iamwarden.app.service import EnforcementFailedError, EnforcerService
from iamwarden.domain.declared_content import declared_queue_policy, rules_targeting
from tests.aws_fixtures import HOME_ACCOUNT, REGION
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier
from tests.functional.test_tampering import OPERATOR, RULE, create_function

ENFORCER = "iamwarden-enforcer"
#: The statement the sample removes: CloudFormation's id of the permission of iamwarden-iam-user-created.
REMOVED = "iamwarden-EnforcerFunctionIamUserCreatedPermission-1A2B3C4D5E6F"
REMOVED_RULE = "iamwarden-central/iamwarden-iam-user-created"
DLQ = "iamwarden-enforcer-dlq"


def _finding(result: dict[str, Any]) -> dict[str, Any]:
    [finding] = [finding for finding in result["findings"] if finding["rule"] == RULE]
    return dict(finding)


def _rule_arn(key: str) -> str:
    return f"arn:aws:events:{REGION}:{HOME_ACCOUNT}:rule/{key}"


def _deployed_permissions(account: Account, enforcer: EnforcerService) -> Any:
    """The enforcer with EventBridge's permission for each own rule that targets it, as SAM declares them."""
    client = create_function(account)
    for key in rules_targeting(ENFORCER):
        if key not in enforcer.own.rules:
            continue
        statement = REMOVED if key == REMOVED_RULE else f"iamwarden-{key.replace('/', '-')}-Permission"
        client.add_permission(
            FunctionName=ENFORCER,
            StatementId=statement,
            Action="lambda:InvokeFunction",
            Principal="events.amazonaws.com",
            SourceArn=_rule_arn(key),
        )
    return client


def _invoking(client: Any) -> dict[str, str]:
    """Source ARN -> statement id of each EventBridge permission of the enforcer."""
    policy = json.loads(client.get_policy(FunctionName=ENFORCER)["Policy"])
    return {
        statement["Condition"]["ArnLike"]["AWS:SourceArn"]: statement["Sid"]
        for statement in policy["Statement"]
        if statement["Principal"] == {"Service": "events.amazonaws.com"}
    }


def test_the_enforcers_removed_invoke_permission_is_put_back_and_undo_removes_it_again(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    client = _deployed_permissions(account, enforcer)
    deployed = _invoking(client)
    client.remove_permission(FunctionName=ENFORCER, StatementId=REMOVED)

    finding = _finding(enforcer.handle(load_event("tamper-enforcer-invoke-permission-removed.json")))

    assert finding["outcome"] == "remediated"
    restored = _invoking(client)
    assert set(restored) == set(deployed)
    assert restored[_rule_arn(REMOVED_RULE)] == "iamwarden-restored-iamwarden-central-iamwarden-iam-user-created"
    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    assert record.done == [f"let EventBridge invoke IAM Warden's function {ENFORCER} again for {REMOVED_RULE}"]
    [alert] = [n.finding for n in notifier.sent if n.finding is not None and n.finding.rule_id == RULE]
    assert alert is not None
    assert alert.severity.value == "critical"

    undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)

    assert undo.status == AuditStatus.UNDO
    assert set(_invoking(client)) == set(deployed) - {_rule_arn(REMOVED_RULE)}


def test_an_invoke_permission_already_back_is_left_alone(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    client = _deployed_permissions(account, enforcer)  # removed and put back by a redeploy before the judgement
    deployed = _invoking(client)

    finding = _finding(enforcer.handle(load_event("tamper-enforcer-invoke-permission-removed.json")))

    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    assert record.done == []
    assert _invoking(client) == deployed


def test_a_permission_of_a_function_no_rule_targets_is_only_alerted(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    event = copy.deepcopy(load_event("tamper-enforcer-invoke-permission-removed.json"))
    event["detail"]["requestParameters"]["functionName"] = "iamwarden-slack-interactions"

    finding = _finding(enforcer.handle(event))

    assert finding["outcome"] == "alerted"
    [alert] = [n.finding for n in notifier.sent if n.finding is not None and n.finding.rule_id == RULE]
    assert alert is not None
    assert alert.plan == ()
    assert "put it back: aws cloudformation detect-stack-drift" in alert.reason


def test_a_refused_policy_read_fails_the_restore_and_says_so(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    _deployed_permissions(account, enforcer)
    clients = enforcer.executor.clients
    real = clients.client

    class Refusing:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def get_policy(self, **_: Any) -> Any:
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetPolicy")

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

    def client(service: str, *args: Any, **kwargs: Any) -> Any:
        made = real(service, *args, **kwargs)
        return Refusing(made) if service == "lambda" else made

    monkeypatch.setattr(clients, "client", client)

    with pytest.raises(EnforcementFailedError) as failed:  # retried by Lambda, then dead-lettered and alarmed
        enforcer.handle(load_event("tamper-enforcer-invoke-permission-removed.json"))

    assert "GetPolicy failed with AccessDeniedException" in str(failed.value)
    assert "Done: nothing. Not done: let EventBridge invoke IAM Warden's function iamwarden-enforcer" in str(
        failed.value
    )
    assert [n.outcome.value for n in notifier.sent if n.finding is not None and n.finding.rule_id == RULE] == [
        "remediation_failed"
    ]


# --- the dead-letter queue's policy ---------------------------------------------------------------------------


def _queue(account: Account) -> str:
    url: str = account.sqs.get_queue_url(QueueName=DLQ)["QueueUrl"]
    return url


def _policy(account: Account) -> Any:
    text = account.sqs.get_queue_attributes(QueueUrl=_queue(account), AttributeNames=["Policy"])["Attributes"]
    return json.loads(text["Policy"]) if text.get("Policy") else None


def _intruders_policy() -> Any:
    sample = load_event("tamper-dead-letter-queue-policy.json")
    return json.loads(sample["detail"]["requestParameters"]["attributes"]["Policy"])


def test_the_dead_letter_queues_changed_policy_is_put_back_and_undo_puts_the_change_back(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.sqs.set_queue_attributes(QueueUrl=_queue(account), Attributes={"Policy": json.dumps(_intruders_policy())})

    finding = _finding(enforcer.handle(load_event("tamper-dead-letter-queue-policy.json")))

    assert finding["outcome"] == "remediated"
    declared = declared_queue_policy(DLQ, "aws", REGION, HOME_ACCOUNT)
    assert declared is not None
    assert _policy(account) == declared
    assert declared["Statement"][0]["Principal"] == {"Service": "events.amazonaws.com"}
    undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert undo.status == AuditStatus.UNDO
    assert _policy(account) == _intruders_policy()


def test_a_dead_letter_queue_policy_changed_again_since_is_left_to_its_own_event(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    later = {**_intruders_policy(), "Id": "a-later-change"}
    account.sqs.set_queue_attributes(QueueUrl=_queue(account), Attributes={"Policy": json.dumps(later)})

    finding = _finding(enforcer.handle(load_event("tamper-dead-letter-queue-policy.json")))

    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    assert record.done == []
    assert _policy(account) == later


def test_another_attribute_of_the_dead_letter_queue_is_alerted_not_restored(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    finding = _finding(enforcer.handle(load_event("tamper-dead-letter-queue-retention.json")))

    assert finding["outcome"] == "alerted"
