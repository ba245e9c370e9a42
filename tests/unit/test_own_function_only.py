"""Each Lambda role of the stack acts only for its own functions (audit 15 gap 1, template.yaml).

The roles trust ``lambda.amazonaws.com``, not a function: any function of the account given one (``iam:PassRole``)
runs as it. Lambda puts the calling function's ARN into every call from the execution environment
(``lambda:SourceFunctionArn``; Lambda developer guide, "Using source function ARN to control function access
behavior"), so a Deny with ``ArnNotEquals`` on every other function's calls leaves IAM Warden's own untouched.
Lambda's own calls with the role that carry no such ARN (KMS for the environment variables, SQS for event
sources and on-failure destinations) are left out of the Deny, and only those actions: a borrower keeps no
``kms:PutKeyPolicy`` or ``sqs:SetQueueAttributes`` (audit s6 gap 2). CloudWatch Logs and X-Ray carry it, and are
left out too, so that a misconfiguration never costs the logs.
"""

from __future__ import annotations

from typing import Any

import pytest

from iamwarden.domain.policy import action_matches
from tests.aws_fixtures import HOME_ACCOUNT, REGION, function_environment, resolve
from tests.sam_template import translated_template

POLICY = "only-its-own-function"
#: The calls Lambda makes with a function's role on its behalf, some without the source function ARN.
LEFT_OUT = [
    "logs:*",
    "xray:*",
    "kms:Decrypt",
    "kms:GenerateDataKey*",
    "kms:DescribeKey",
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:ChangeMessageVisibility",
    "sqs:SendMessage",
]
#: What the stack's roles hold that a function given one of them must not: each is denied by the statement.
NEVER_LEFT_OUT = [
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "kms:DisableKey",
    "sqs:SetQueueAttributes",
    "sqs:DeleteQueue",
    "sqs:PurgeQueue",
    "iam:PutRolePolicy",
    "lambda:UpdateFunctionCode",
]
ROLES = ("EnforcerRole", "PrunerRole", "HeartbeatRole", "ExceptionWatchRole", "SlackInteractionsRole")


def _functions_of(role: str) -> set[str]:
    """The ARNs of the template's functions whose execution role is ``role`` (as the SAM transform writes them)."""
    found = set()
    for resource in translated_template()["Resources"].values():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Lambda::Function" and properties.get("Role") == {"Fn::GetAtt": [role, "Arn"]}:
            found.add(f"arn:aws:lambda:{REGION}:{HOME_ACCOUNT}:function:{properties['FunctionName']}")
    return found


def _deny(role: str) -> dict[str, Any]:
    policies = translated_template()["Resources"][role]["Properties"]["Policies"]
    [policy] = [p for p in policies if p["PolicyName"] == POLICY]
    [statement] = resolve(policy["PolicyDocument"])["Statement"]
    return dict(statement)


@pytest.mark.parametrize("role", ROLES)
def test_every_call_of_another_function_is_denied_but_what_lambda_makes_for_it(role: str) -> None:
    statement = _deny(role)
    assert statement["Effect"] == "Deny"
    assert statement["NotAction"] == LEFT_OUT
    assert statement["Resource"] == "*"
    assert list(statement["Condition"]) == ["ArnNotEquals"], "not ...IfExists: a call without the key is denied too"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", NEVER_LEFT_OUT)
def test_a_borrower_keeps_no_write_of_keys_queues_or_anything_else(role: str, action: str) -> None:
    assert not any(action_matches(pattern, action) for pattern in _deny(role)["NotAction"])


@pytest.mark.parametrize("role", ROLES)
def test_the_condition_names_exactly_the_functions_that_run_as_the_role(role: str) -> None:
    named = _deny(role)["Condition"]["ArnNotEquals"]["lambda:SourceFunctionArn"]
    statement_arns = set(named if isinstance(named, list) else [named])
    functions = _functions_of(role)
    assert functions, f"no function runs as {role}"
    assert statement_arns == functions


def test_every_function_role_of_the_stack_has_it() -> None:
    roles = {
        resource["Properties"]["Role"]["Fn::GetAtt"][0]
        for resource in translated_template()["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function" and isinstance(resource["Properties"].get("Role"), dict)
    }
    assert roles == set(ROLES)


def test_the_environment_names_each_function_with_its_role() -> None:
    """IAMWARDEN_OWN_FUNCTION_ROLES (how the code knows an own session) agrees with the functions' roles."""
    environment = function_environment("EnforcerFunction")
    kinds = dict(item.split("=") for item in environment["IAMWARDEN_OWN_FUNCTION_ROLES"].split(","))
    arns = dict(item.split("=") for item in environment["IAMWARDEN_OWN_ROLE_ARNS"].split(","))
    for role in ROLES:
        role_arn = resolve({"Fn::GetAtt": [role, "Arn"]})
        [kind] = [k for k, arn in arns.items() if arn == role_arn]
        functions = {arn.rsplit(":", 1)[-1] for arn in _functions_of(role)}
        assert {function for function, of in kinds.items() if of == kind} == functions, role
