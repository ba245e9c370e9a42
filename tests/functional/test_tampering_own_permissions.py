"""A permission added to one of IAM Warden's own functions outside its stack (review s8 section 11): the real
enforcer (moto's Lambda) removes exactly the statement the event added, leaves the declared ones, and undo adds it
back as the event added it."""

from __future__ import annotations

import copy
import json
from typing import Any

from iamwarden.adapters.audit import AuditStatus
from iamwarden.app.service import EnforcerService
from tests.aws_fixtures import HOME_ACCOUNT, REGION
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier
from tests.functional.test_tampering import OPERATOR, RULE, create_function

ENFORCER = "iamwarden-enforcer"
ADDED = "tamper-enforcer-permission-added.json"
DECLARED = "iamwarden-EnforcerFunctionIamUserCreatedPermission-1A2B3C4D5E6F"
DECLARED_RULE = f"arn:aws:events:{REGION}:{HOME_ACCOUNT}:rule/iamwarden-central/iamwarden-iam-user-created"


def _tampering(result: dict[str, Any]) -> dict[str, Any]:
    [finding] = [finding for finding in result["findings"] if finding["rule"] == RULE]
    return dict(finding)


def _sids(client: Any) -> set[str]:
    try:
        policy = json.loads(client.get_policy(FunctionName=ENFORCER)["Policy"])
    except client.exceptions.ResourceNotFoundException:
        return set()
    return {statement["Sid"] for statement in policy["Statement"]}


def _deployed_with_the_attackers_statement(account: Account) -> Any:
    client = create_function(account)
    client.add_permission(
        FunctionName=ENFORCER,
        StatementId=DECLARED,
        Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com",
        SourceArn=DECLARED_RULE,
    )
    # what the sample's AddPermission added
    client.add_permission(
        FunctionName=ENFORCER, StatementId="partner-invoke", Action="lambda:InvokeFunction", Principal="999988887777"
    )
    return client


def test_an_added_permission_is_removed_the_declared_one_stays_and_undo_adds_it_back(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    client = _deployed_with_the_attackers_statement(account)

    finding = _tampering(enforcer.handle(load_event(ADDED)))

    assert finding["outcome"] == "remediated"
    assert _sids(client) == {DECLARED}
    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    # the before-state is the statement as Lambda held it, recorded before the removal
    [before] = record.before
    [statement] = before["statements"]
    assert statement["Sid"] == "partner-invoke"
    assert "999988887777" in json.dumps(statement["Principal"])  # moto keeps the account as given; Lambda an ARN
    assert record.done == [f"removed statement partner-invoke from the policy of function {ENFORCER}"]

    undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)

    assert undo.status == AuditStatus.UNDO
    assert _sids(client) == {DECLARED, "partner-invoke"}


def test_a_statement_removed_already_is_done_and_a_second_delivery_changes_nothing(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    client = _deployed_with_the_attackers_statement(account)
    client.remove_permission(FunctionName=ENFORCER, StatementId="partner-invoke")

    first = _tampering(enforcer.handle(load_event(ADDED)))
    again = _tampering(enforcer.handle(copy.deepcopy(load_event(ADDED))))

    assert first["outcome"] == "remediated"
    assert again["remediation_id"] == first["remediation_id"]
    record = account.audit().get(first["remediation_id"])
    assert record is not None
    assert record.done == []  # nothing was there to remove
    assert _sids(client) == {DECLARED}


def test_a_failed_add_permission_changes_nothing(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    client = _deployed_with_the_attackers_statement(account)
    event = copy.deepcopy(load_event(ADDED))
    event["detail"]["errorCode"] = "ResourceConflictException"
    event["detail"]["errorMessage"] = "The statement id (partner-invoke) provided already exists."
    event["detail"]["responseElements"] = None

    result = enforcer.handle(event)

    assert [finding for finding in result.get("findings", []) if finding.get("outcome") == "remediated"] == []
    assert _sids(client) == {DECLARED, "partner-invoke"}
