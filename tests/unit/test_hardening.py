"""The stack's security properties, per resource, for each way it can be deployed (issue 19).

Read from ``template.yaml`` as CloudFormation resolves it for the given parameters, so a
property cannot be dropped, or left off a new resource of the same kind, without a failing test.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.sam_template import deployed_template

BROUGHT_KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
STACK_KEY = {"Fn::GetAtt": ["DataKey", "Arn"]}
#: A key you bring is the parameter itself (CloudFormation substitutes its value).
BROUGHT = {"Ref": "DataEncryptionKey"}
#: Resources that hold before-state documents, policies or secrets, and so take the data key.
HOLDS_DATA = {"AWS::Logs::LogGroup", "AWS::DynamoDB::Table", "AWS::SecretsManager::Secret"}
#: Left on AWS-owned keys on purpose, with the reason.
EXEMPT = {
    "IdempotencyTable": "holds only the enforcer's answer per event id (rule ids and outcomes), expired after 2 days",
}


def resources(parameters: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = deployed_template(parameters)["Resources"]
    return found


def key_of(resource: dict[str, Any]) -> Any:
    properties = resource["Properties"]
    if resource["Type"] == "AWS::DynamoDB::Table":
        sse = properties.get("SSESpecification", {})
        assert sse.get("SSEEnabled") is True
        return sse.get("KMSMasterKeyId")
    return properties.get("KmsKeyId")


def data_holders(found: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in found.items() if r["Type"] in HOLDS_DATA and name not in EXEMPT}


def test_the_resources_that_hold_data_are_the_expected_ones() -> None:
    assert sorted(data_holders(resources())) == sorted(
        [
            "AuditTable",
            "EnforcerLogGroup",
            "ExceptionWatchLogGroup",
            "ExceptionsTable",
            "HeartbeatLogGroup",
            "PruneStateTable",
            "PrunePlannerLogGroup",
            "PruneWatchLogGroup",
            "PruneWorkerLogGroup",
            "SecuritySlackWebhookSecret",
            "SlackBotTokenSecret",
            "SlackInteractionsLogGroup",
            "SlackSigningSecret",
        ]
    )


def test_by_default_aws_owned_keys_and_no_data_key() -> None:
    found = resources()
    assert "DataKey" not in found
    for name, resource in data_holders(found).items():
        assert key_of(resource) is None, name
    for name in ("AuditTable", "PruneStateTable"):
        assert "SSEType" not in found[name]["Properties"]["SSESpecification"], name


@pytest.mark.parametrize(("value", "key"), [("stack", STACK_KEY), (BROUGHT_KEY, BROUGHT)])
def test_a_customer_managed_key_encrypts_every_resource_that_holds_data(value: str, key: Any) -> None:
    found = resources({"DataEncryptionKey": value})
    for name, resource in data_holders(found).items():
        assert key_of(resource) == key, name
    for name in ("AuditTable", "PruneStateTable"):
        assert found[name]["Properties"]["SSESpecification"]["SSEType"] == "KMS"
    assert ("DataKey" in found) is (value == "stack")


def test_the_stacks_own_key_rotates_and_lets_logs_use_it_only_for_iam_wardens_log_groups() -> None:
    found = resources({"DataEncryptionKey": "stack"})
    key = found["DataKey"]
    assert key["DeletionPolicy"] == "Retain"
    assert key["Properties"]["EnableKeyRotation"] is True
    statements = {s["Sid"]: s for s in key["Properties"]["KeyPolicy"]["Statement"]}
    assert set(statements) == {"AccountAdministers", "LogsEncryptIamWardensLogGroups"}
    logs = statements["LogsEncryptIamWardensLogGroups"]
    assert logs["Principal"] == {"Service": {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}}
    assert logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == {
        "Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/iamwarden-*"
    }


def _role_statements(found: dict[str, dict[str, Any]], role: str) -> dict[str, dict[str, Any]]:
    statements: dict[str, dict[str, Any]] = {}
    for policy in found[role]["Properties"]["Policies"]:
        statements.update({s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]})
    return statements


@pytest.mark.parametrize("role", ["EnforcerRole", "PrunerRole"])
def test_the_roles_use_the_data_key_only_through_dynamodb_and_secrets_manager(role: str) -> None:
    assert "UseDataKeyThroughServices" not in _role_statements(resources(), role)
    statement = _role_statements(resources({"DataEncryptionKey": BROUGHT_KEY}), role)["UseDataKeyThroughServices"]
    assert statement["Resource"] == BROUGHT
    assert not any("*" in action.split(":")[1].rstrip("*") for action in statement["Action"])
    assert statement["Condition"]["StringEquals"]["kms:ViaService"] == [
        {"Fn::Sub": "dynamodb.${AWS::Region}.amazonaws.com"},
        {"Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com"},
    ]


def test_reserved_concurrency_is_a_parameter_off_by_default() -> None:
    assert "ReservedConcurrentExecutions" not in resources()["EnforcerFunction"]["Properties"]
    enforcer = resources({"EnforcerReservedConcurrency": "20"})["EnforcerFunction"]["Properties"]
    assert enforcer["ReservedConcurrentExecutions"] == {"Ref": "EnforcerReservedConcurrency"}


@pytest.mark.parametrize("function", ["EnforcerFunction", "PrunePlannerFunction", "PruneWatchFunction"])
def test_every_asynchronously_invoked_function_keeps_what_fails(function: str) -> None:
    found = resources()
    [config] = [
        r["Properties"]
        for r in found.values()
        if r["Type"] == "AWS::Lambda::EventInvokeConfig" and r["Properties"]["FunctionName"] == {"Ref": function}
    ]
    destination = config["DestinationConfig"]["OnFailure"]["Destination"]
    queue = destination["Fn::GetAtt"][0]
    assert found[queue]["Type"] == "AWS::SQS::Queue"
    assert config["MaximumRetryAttempts"] == 2
    role = found[function]["Properties"]["Role"]["Fn::GetAtt"][0]
    sends = [
        s
        for s in _role_statements(found, role).values()
        if s["Effect"] == "Allow"
        and "sqs:SendMessage" in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    ]
    assert any(s["Resource"] == destination for s in sends), f"{role} cannot send to {queue}"
