"""The audit and exceptions tables' resource policy put back (audit s7 gap 6; issue 15 item 2): changed or deleted by
anyone but the stack, the real enforcer (moto's DynamoDB) writes the template's policy with the stack's
``OperatorRoleArns`` again, after recording what was there; undo puts that back."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from iamwarden.adapters.audit import AuditStatus
from iamwarden.app.config import own_identity_from_environment
from iamwarden.app.service import EnforcerService
from iamwarden.domain.canonical import canonical
from iamwarden.domain.declared_content import declared_table_policy
from tests.aws_fixtures import HOME_ACCOUNT, REGION
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier
from tests.functional.test_audit_table_policy import SECOPS, _table_policy
from tests.functional.test_tampering import OPERATOR, RULE

AUDIT_ARN = f"arn:aws:dynamodb:{REGION}:{HOME_ACCOUNT}:table/iamwarden-audit"
ATTACKERS = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "Nothing", "Effect": "Deny", "Principal": "*", "Action": "dynamodb:DeleteTable", "Resource": AUDIT_ARN}
    ],
}


@pytest.mark.parametrize("operators", ["", SECOPS, f"{SECOPS},arn:aws:iam::{HOME_ACCOUNT}:role/oncall"])
@pytest.mark.parametrize(
    ("table", "logical"), [("iamwarden-audit", "AuditTable"), ("iamwarden-exceptions", "ExceptionsTable")]
)
def test_the_declared_policy_is_the_one_a_deploy_with_those_operators_writes(
    operators: str, table: str, logical: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.functional.conftest import account_environment

    account_environment(monkeypatch)
    monkeypatch.setenv("IAMWARDEN_OPERATOR_ROLE_ARNS", operators)
    own = own_identity_from_environment()

    policy = declared_table_policy(table, own, "aws", REGION, HOME_ACCOUNT)

    assert policy is not None
    deployed = _table_policy(logical, {"OperatorRoleArns": operators} if operators else None)
    assert canonical(policy["Statement"]) == canonical(deployed)


def _tampering(result: dict[str, Any]) -> dict[str, Any]:
    [finding] = [finding for finding in result["findings"] if finding["rule"] == RULE]
    return dict(finding)


def _live(account: Account) -> dict[str, Any] | None:
    client = account.session.client("dynamodb", region_name=REGION)
    try:
        return dict(json.loads(client.get_resource_policy(ResourceArn=AUDIT_ARN)["Policy"]))
    except client.exceptions.PolicyNotFoundException:
        return None


def _declared(enforcer: EnforcerService) -> dict[str, Any]:
    policy = declared_table_policy("iamwarden-audit", enforcer.own, "aws", REGION, HOME_ACCOUNT)
    assert policy is not None
    return policy


def test_a_replaced_table_policy_is_put_back_and_undo_puts_the_replacement_back(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    dynamodb = account.session.client("dynamodb", region_name=REGION)
    dynamodb.put_resource_policy(ResourceArn=AUDIT_ARN, Policy=json.dumps(ATTACKERS))

    finding = _tampering(enforcer.handle(load_event("tamper-audit-table-policy-replaced.json")))

    assert finding["outcome"] == "remediated"
    assert canonical(_live(account)) == canonical(_declared(enforcer))
    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    [before] = record.before
    assert canonical(before["policy"]) == canonical(ATTACKERS)  # recorded before the put
    assert record.done == [
        "put the resource policy of IAM Warden's table iamwarden-audit back as its template declares it"
    ]

    undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)

    assert undo.status == AuditStatus.UNDO
    assert canonical(_live(account)) == canonical(ATTACKERS)


def test_a_deleted_table_policy_is_put_back_and_undo_deletes_it_again(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    dynamodb = account.session.client("dynamodb", region_name=REGION)
    if _live(account) is not None:
        dynamodb.delete_resource_policy(ResourceArn=AUDIT_ARN)

    finding = _tampering(enforcer.handle(load_event("tamper-audit-table-policy-deleted.json")))

    assert finding["outcome"] == "remediated"
    assert canonical(_live(account)) == canonical(_declared(enforcer))

    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)

    assert _live(account) is None


def test_a_table_that_holds_the_declared_policy_is_left_alone_and_a_redelivery_does_nothing_more(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    dynamodb = account.session.client("dynamodb", region_name=REGION)
    dynamodb.put_resource_policy(ResourceArn=AUDIT_ARN, Policy=json.dumps(_declared(enforcer)))
    revision = dynamodb.get_resource_policy(ResourceArn=AUDIT_ARN)["RevisionId"]

    first = _tampering(enforcer.handle(load_event("tamper-audit-table-policy-replaced.json")))
    again = _tampering(enforcer.handle(copy.deepcopy(load_event("tamper-audit-table-policy-replaced.json"))))

    assert again["remediation_id"] == first["remediation_id"]
    record = account.audit().get(first["remediation_id"])
    assert record is not None
    assert record.done == []
    assert dynamodb.get_resource_policy(ResourceArn=AUDIT_ARN)["RevisionId"] == revision


def test_a_failed_put_resource_policy_changes_nothing(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    dynamodb = account.session.client("dynamodb", region_name=REGION)
    dynamodb.put_resource_policy(ResourceArn=AUDIT_ARN, Policy=json.dumps(ATTACKERS))
    event = copy.deepcopy(load_event("tamper-audit-table-policy-replaced.json"))
    event["detail"]["errorCode"] = "AccessDeniedException"
    event["detail"]["errorMessage"] = "explicit deny in a resource-based policy"
    event["detail"]["responseElements"] = None

    result = enforcer.handle(event)

    assert [finding for finding in result.get("findings", []) if finding.get("outcome") == "remediated"] == []
    assert canonical(_live(account)) == canonical(ATTACKERS)
