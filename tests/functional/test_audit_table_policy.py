"""The audit and exceptions tables' resource policies (audit s7 gap 6), read by IAM Warden's own policy evaluator.

The audit table is IAM Warden's memory (reversals, own-policy versions, snapshots, the breaker's ledger), and item
writes are CloudTrail data events no rule routes: an admin could rewrite it unseen. template.yaml gives both tables
a resource policy that denies item writes to all but IAM Warden's own roles and the operators' roles
(``OperatorRoleArns``), and changes of the policy to all but CloudFormation, the enforcer and the operators.
moto stores a resource policy but does not enforce it, so the template's own statements are evaluated here with
``test_permissions_used.allowed`` (``parse_policy`` and the guardrails' matching): an admin's identity policy
(``Allow * *``) together with the table's policy.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from iamwarden.app.heartbeat import ITEM_WRITES_DENIED, Heartbeat
from tests.aws_fixtures import HOME_ACCOUNT, REGION
from tests.functional.conftest import Account
from tests.functional.test_permissions_used import allowed
from tests.sam_template import deployed_template

ADMIN = {"Effect": "Allow", "Action": "*", "Resource": "*"}  # AdministratorAccess, the intruder's identity policy
SECOPS = f"arn:aws:iam::{HOME_ACCOUNT}:role/secops"
ITEM_WRITES = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem")


def _role(name: str) -> str:
    return f"arn:aws:iam::{HOME_ACCOUNT}:role/iamwarden-{name}-{REGION}"


def _table_policy(logical: str, parameters: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The table's resource-policy statements as a deploy with ``parameters`` writes them (Fn::If chosen by
    ``deployed_template``; the !Sub and !Split of the principals resolved here)."""
    table = deployed_template(parameters)["Resources"][logical]["Properties"]
    names = {
        "AWS::Partition": "aws",
        "AWS::Region": REGION,
        "AWS::AccountId": HOME_ACCOUNT,
        "OperatorRoleArns": (parameters or {}).get("OperatorRoleArns", ""),
    }

    def resolve(node: Any) -> Any:
        if isinstance(node, dict) and set(node) == {"Fn::Sub"}:
            return re.sub(r"\$\{([^}]+)\}", lambda m: names[m.group(1)], node["Fn::Sub"])
        if isinstance(node, dict) and set(node) == {"Fn::Split"}:
            separator, text = node["Fn::Split"]
            return str(resolve(text)).split(separator)
        if isinstance(node, dict):
            return {key: resolve(item) for key, item in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    statements: list[dict[str, Any]] = resolve(table["ResourcePolicy"]["PolicyDocument"]["Statement"])
    return statements


def _may(logical: str, action: str, principal: str, *, via: str | None = None, **parameters: str) -> bool:
    table = "iamwarden-audit" if logical == "AuditTable" else "iamwarden-exceptions"
    context = {"aws:PrincipalArn": principal, **({"aws:CalledVia": via} if via else {})}
    statements = [ADMIN, *_table_policy(logical, parameters)]
    return allowed(statements, action, f"arn:aws:dynamodb:{REGION}:{HOME_ACCOUNT}:table/{table}", context)


@pytest.mark.parametrize("action", ITEM_WRITES)
def test_an_admin_cannot_write_the_audit_tables_items(action: str) -> None:
    admin = f"arn:aws:iam::{HOME_ACCOUNT}:role/Admin"
    assert not _may("AuditTable", action, admin)
    assert not _may("ExceptionsTable", action, admin)
    # a look-alike of an own role (another path, another account, another region's name) is anyone
    assert not _may("AuditTable", action, f"arn:aws:iam::{HOME_ACCOUNT}:role/dev/iamwarden-enforcer-{REGION}")
    assert not _may("AuditTable", action, f"arn:aws:iam::444455556666:role/iamwarden-enforcer-{REGION}")
    assert not _may("AuditTable", action, _role("enforcer").replace(REGION, "eu-west-1"))
    assert _may("AuditTable", "dynamodb:GetItem", admin), "reads are not the policy's business"


@pytest.mark.parametrize("writer", ["enforcer", "heartbeat", "exception-watch", "slack-interactions"])
def test_iam_wardens_own_roles_still_write_the_audit_table(writer: str) -> None:
    for action in ITEM_WRITES:
        assert _may("AuditTable", action, _role(writer))


def test_only_the_exception_functions_write_the_exceptions_table() -> None:
    assert _may("ExceptionsTable", "dynamodb:PutItem", _role("exception-watch"))
    assert _may("ExceptionsTable", "dynamodb:PutItem", _role("slack-interactions"))
    assert not _may("ExceptionsTable", "dynamodb:PutItem", _role("enforcer")), "the enforcer only reads them"


def test_the_operators_roles_write_both_tables_only_when_named() -> None:
    """``iamwarden undo``, ``breaker reset`` and ``exceptions request/approve`` run as the operator."""
    assert not _may("AuditTable", "dynamodb:UpdateItem", SECOPS)
    for logical in ("AuditTable", "ExceptionsTable"):
        assert _may(logical, "dynamodb:UpdateItem", SECOPS, OperatorRoleArns=SECOPS)
        assert _may(logical, "dynamodb:PutItem", SECOPS, OperatorRoleArns=f"{_role('x')},{SECOPS}")
        assert _may(logical, "dynamodb:PutItem", _role("slack-interactions"), OperatorRoleArns=SECOPS)


@pytest.mark.parametrize("action", ["dynamodb:PutResourcePolicy", "dynamodb:DeleteResourcePolicy"])
def test_the_policy_itself_is_changed_only_by_cloudformation_the_enforcer_and_the_operators(action: str) -> None:
    admin = f"arn:aws:iam::{HOME_ACCOUNT}:role/Admin"
    assert not _may("AuditTable", action, admin)
    assert not _may("AuditTable", action, _role("heartbeat"))
    assert _may("AuditTable", action, admin, via="cloudformation.amazonaws.com"), "a stack deploy"
    assert not _may("AuditTable", action, admin, via="athena.amazonaws.com")
    assert _may("AuditTable", action, _role("enforcer")), "iamwarden-tampered's restore"
    assert _may("ExceptionsTable", action, SECOPS, OperatorRoleArns=SECOPS)


# --- the heartbeat looks for the policy each run ---------------------------------------------------------------


def _heartbeat(account: Account) -> Heartbeat:
    from iamwarden.app.heartbeat import HeartbeatConfig

    config = HeartbeatConfig.from_environment(
        {
            "IAMWARDEN_ENFORCER_ARN": f"arn:aws:lambda:{REGION}:{HOME_ACCOUNT}:function:iamwarden-enforcer",
            "IAMWARDEN_CENTRAL_BUS_ARN": f"arn:aws:events:{REGION}:{HOME_ACCOUNT}:event-bus/iamwarden-central",
            "IAMWARDEN_ENFORCER_ROLE_NAME": f"iamwarden-enforcer-{REGION}",
            "IAMWARDEN_ALERT_TOPIC_ARN": f"arn:aws:sns:{REGION}:{HOME_ACCOUNT}:iamwarden-alerts",
            "IAMWARDEN_AUDIT_TABLE": account.config.audit_table,
            "IAMWARDEN_EXCEPTIONS_TABLE": account.config.exceptions_table,
            "IAMWARDEN_HOME_ACCOUNT": HOME_ACCOUNT,
            "AWS_REGION": REGION,
        }
    )
    return Heartbeat(config, None, None, None, None, dynamodb=account.dynamodb)


def _put_declared(account: Account, logical: str, table: str) -> str:
    arn = f"arn:aws:dynamodb:{REGION}:{HOME_ACCOUNT}:table/{table}"
    policy = {"Version": "2012-10-17", "Statement": _table_policy(logical)}
    account.dynamodb.put_resource_policy(ResourceArn=arn, Policy=json.dumps(policy))
    return arn


def test_the_heartbeat_is_quiet_while_both_tables_keep_the_declared_policy(account: Account) -> None:
    _put_declared(account, "AuditTable", account.config.audit_table)
    _put_declared(account, "ExceptionsTable", account.config.exceptions_table)

    assert _heartbeat(account).table_policy_problems() == []


def test_the_heartbeat_reports_a_table_whose_policy_was_deleted_or_replaced(account: Account) -> None:
    audit = _put_declared(account, "AuditTable", account.config.audit_table)
    exceptions = _put_declared(account, "ExceptionsTable", account.config.exceptions_table)
    account.dynamodb.delete_resource_policy(ResourceArn=audit)  # the root's break-glass, or an unrouted event
    # the Sid kept on a statement that no longer denies item writes (only the policy's own changes)
    renamed = {**_table_policy("ExceptionsTable")[1], "Sid": ITEM_WRITES_DENIED}
    harmless = {"Version": "2012-10-17", "Statement": [renamed]}
    account.dynamodb.put_resource_policy(ResourceArn=exceptions, Policy=json.dumps(harmless))

    problems = _heartbeat(account).table_policy_problems()

    assert [problem.split(" lacks")[0] for problem in problems] == [
        f"IAM Warden's table {account.config.audit_table}",
        f"IAM Warden's table {account.config.exceptions_table}",
    ]
    assert f"aws dynamodb put-resource-policy --resource-arn {audit}" in problems[0]


def test_a_table_policy_that_cannot_be_read_is_a_problem(account: Account) -> None:
    class Refusing:
        def get_resource_policy(self, **_: Any) -> dict[str, Any]:
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetResourcePolicy")

    heartbeat = _heartbeat(account)
    heartbeat.dynamodb = Refusing()

    problems = heartbeat.table_policy_problems()

    assert len(problems) == 2
    assert "cannot be read (AccessDeniedException)" in problems[0]
