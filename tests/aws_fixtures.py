"""Build moto resources from template.yaml itself, so tests cannot drift from what deploys.

``resolve`` evaluates the few intrinsic functions the template uses (Ref,
Fn::Sub, Fn::GetAtt) with parameter defaults and moto's account, which is
enough to create the tables, queue and parameters exactly as declared.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from tests.sam_template import condition_holds, source_template, translated_template

REGION = "us-east-1"
HOME_ACCOUNT = "111122223333"


@cache
def _defaults() -> dict[str, Any]:
    template = source_template()
    values: dict[str, Any] = {
        name: str(spec.get("Default", "")) for name, spec in template.get("Parameters", {}).items()
    }
    values.update(
        {"AWS::Region": REGION, "AWS::AccountId": HOME_ACCOUNT, "AWS::Partition": "aws", "AWS::StackName": "iamwarden"}
    )
    values["AWS::NoValue"] = NO_VALUE
    return values


#: What ``Ref AWS::NoValue`` resolves to: the property or list item is left out.
NO_VALUE = object()


def resolve(value: Any, resources: Mapping[str, Any] | None = None, parameters: Mapping[str, str] | None = None) -> Any:
    """Evaluate Ref / Fn::Sub / Fn::GetAtt against parameter values (the defaults unless ``parameters`` say
    otherwise) and the resources' physical names."""
    names = {**_defaults(), **(parameters or {}), **_physical_names(), **(resources or {})}
    if isinstance(value, dict):
        if set(value) == {"Fn::If"}:  # the parameters decide, as in a deploy with them
            name, when_true, when_false = value["Fn::If"]
            chosen = when_true if condition_holds(name, dict(parameters) if parameters else None) else when_false
            return resolve(chosen, resources, parameters)
        if set(value) == {"Ref"}:
            return names[value["Ref"]]
        if set(value) == {"Fn::Sub"}:
            text = value["Fn::Sub"]
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(names[m.group(1)]), text)
        if set(value) == {"Fn::Join"}:
            separator, items = value["Fn::Join"]
            return separator.join(str(item) for item in resolve(items, resources, parameters))
        if set(value) == {"Fn::GetAtt"}:
            target = value["Fn::GetAtt"]
            name, attribute = target if isinstance(target, list) else target.split(".", 1)
            return names[f"{name}.{attribute}"]
        resolved = {key: resolve(item, resources, parameters) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}
    if isinstance(value, list):
        return [item for item in (resolve(each, resources, parameters) for each in value) if item is not NO_VALUE]
    return value


@cache
def _physical_names() -> dict[str, str]:
    """Ref and GetAtt values of the template's named resources, as moto will name them."""
    template = source_template()
    parameters = _defaults()
    names: dict[str, str] = {}
    for logical, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        kind = resource["Type"]
        if kind == "AWS::DynamoDB::Table":
            table = properties["TableName"]
            names[logical] = table
            names[f"{logical}.Arn"] = f"arn:aws:dynamodb:{REGION}:{HOME_ACCOUNT}:table/{table}"
        elif kind == "AWS::SQS::Queue":
            queue = properties["QueueName"]
            names[logical] = f"https://sqs.{REGION}.amazonaws.com/{HOME_ACCOUNT}/{queue}"
            names[f"{logical}.Arn"] = f"arn:aws:sqs:{REGION}:{HOME_ACCOUNT}:{queue}"
            names[f"{logical}.QueueName"] = queue
        elif kind == "AWS::SNS::Topic":
            names[logical] = f"arn:aws:sns:{REGION}:{HOME_ACCOUNT}:{properties['TopicName']}"
            names[f"{logical}.TopicName"] = properties["TopicName"]
        elif kind == "AWS::SecretsManager::Secret":
            names[logical] = properties["Name"]  # Ref gives the ARN (with a random suffix); the name works alike
        elif kind == "AWS::KMS::Key":
            names[logical] = "mrk-iamwarden-alerts"
            names[f"{logical}.Arn"] = f"arn:aws:kms:{REGION}:{HOME_ACCOUNT}:key/mrk-iamwarden-alerts"
        elif kind == "AWS::IAM::Role":
            role_name = properties["RoleName"]
            text = role_name["Fn::Sub"] if isinstance(role_name, dict) else role_name
            role = re.sub(r"\$\{([^}]+)\}", lambda m: parameters[m.group(1)], text)
            names[logical] = role
            names[f"{logical}.Arn"] = f"arn:aws:iam::{HOME_ACCOUNT}:role/{role}"
        elif kind == "AWS::Events::EventBus":
            names[logical] = properties["Name"]  # Ref gives an event bus's name
            names[f"{logical}.Arn"] = f"arn:aws:events:{REGION}:{HOME_ACCOUNT}:event-bus/{properties['Name']}"
        elif kind == "AWS::IAM::ManagedPolicy" and "ManagedPolicyName" in properties:
            policy_name = properties["ManagedPolicyName"]
            text = policy_name["Fn::Sub"] if isinstance(policy_name, dict) else policy_name
            policy = re.sub(r"\$\{([^}]+)\}", lambda m: parameters[m.group(1)], text)
            names[logical] = f"arn:aws:iam::{HOME_ACCOUNT}:policy/{policy}"  # Ref gives a managed policy's ARN
    return names


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {name: resource for name, resource in translated_template()["Resources"].items() if resource["Type"] == kind}


@cache
def _resolved_properties(kind: str) -> dict[str, dict[str, Any]]:
    return {logical: resolve(resource["Properties"]) for logical, resource in resources(kind).items()}


def resolved_properties(kind: str) -> dict[str, dict[str, Any]]:
    """Logical id -> resolved properties of the template's resources of ``kind`` (a fresh copy per call).

    Resolved once per process, as the template is translated once: the account
    fixture builds its tables, queues, topics, secrets and parameters from these
    for every test.
    """
    return copy.deepcopy(_resolved_properties(kind))


def create_tables(dynamodb: Any) -> list[str]:
    """Create every DynamoDB table of the template (keys, indexes, TTL) in moto."""
    created = []
    for properties in resolved_properties("AWS::DynamoDB::Table").values():
        kwargs: dict[str, Any] = {
            key: properties[key]
            for key in ("TableName", "AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")
            if key in properties
        }
        dynamodb.create_table(**kwargs)
        ttl = properties.get("TimeToLiveSpecification")
        if ttl:
            dynamodb.update_time_to_live(TableName=properties["TableName"], TimeToLiveSpecification=ttl)
        created.append(properties["TableName"])
    return created


def create_parameters(ssm: Any) -> dict[str, str]:
    """Create the template's SSM parameters (the safe defaults) in moto.

    A parameter with a ``Condition`` exists only when a template parameter names a value (GitHubOwners, say):
    with the template's defaults it is absent, as SSM cannot hold an empty value.
    """
    conditional = {name for name, resource in resources("AWS::SSM::Parameter").items() if "Condition" in resource}
    created = {}
    for logical, properties in resolved_properties("AWS::SSM::Parameter").items():
        if logical in conditional:
            continue
        ssm.put_parameter(Name=properties["Name"], Value=properties["Value"], Type=properties["Type"])
        created[properties["Name"]] = properties["Value"]
    return created


def create_queues(sqs: Any) -> dict[str, str]:
    """Create the template's SQS queues; return logical id -> queue URL."""
    urls = {}
    for logical, properties in resolved_properties("AWS::SQS::Queue").items():
        attributes = {
            key: str(properties[key]).lower() if isinstance(properties[key], bool) else str(properties[key])
            for key in ("SqsManagedSseEnabled", "MessageRetentionPeriod", "VisibilityTimeout")
            if key in properties
        }
        urls[logical] = sqs.create_queue(QueueName=properties["QueueName"], Attributes=attributes)["QueueUrl"]
    return urls


def create_topics(sns: Any) -> dict[str, str]:
    """Create the template's SNS topics (moto does not encrypt, so the KMS key is left out)."""
    return {
        logical: sns.create_topic(Name=properties["TopicName"])["TopicArn"]
        for logical, properties in resolved_properties("AWS::SNS::Topic").items()
    }


def create_secrets(secretsmanager: Any) -> dict[str, str]:
    """Create the template's secrets with the template's placeholder values."""
    created = {}
    for logical, properties in resolved_properties("AWS::SecretsManager::Secret").items():
        secretsmanager.create_secret(Name=properties["Name"], SecretString=properties.get("SecretString", "-"))
        created[logical] = properties["Name"]
    return created


def function_environment(logical_id: str) -> dict[str, str]:
    """The environment Lambda gives the function (Globals merged in by the SAM transform; a fresh copy per call)."""
    return dict(_function_environment(logical_id))


@cache
def _function_environment(logical_id: str) -> dict[str, str]:
    function = translated_template()["Resources"][logical_id]
    variables = function["Properties"].get("Environment", {}).get("Variables", {})
    return {name: str(resolve(value)) for name, value in variables.items()}


def enforcer_rules() -> dict[str, dict[str, Any]]:
    """The EventBridge rules that feed the enforcer (the pruner's schedule and watch rules have their own tests)."""
    return {
        name: rule
        for name, rule in resources("AWS::Events::Rule").items()
        if any(target["Arn"] == {"Fn::GetAtt": ["EnforcerFunction", "Arn"]} for target in rule["Properties"]["Targets"])
    }


def event_patterns() -> dict[str, dict[str, Any]]:
    """The enforcer's EventBridge rule patterns, with the template's Refs resolved."""
    return {name: resolve(rule["Properties"]["EventPattern"]) for name, rule in enforcer_rules().items()}
