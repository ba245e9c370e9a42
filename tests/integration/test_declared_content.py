"""The content ``iamwarden-tampered`` exempts is what ``sam deploy`` creates: each rule, target and setting of the
SAM-translated template, as CloudFormation writes it, is exempt for the enforcer as the template configures it.

``declared.OWN_RULE_CONTENT`` and ``SETTING_DEFAULTS`` are generated from the untranslated template; this checks them
against the translated one (SAM's rules and targets for the functions' events), so a deploy of IAM Warden's own
stack never raises the content finding.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

import pytest

from iamwarden.app.config import own_identity_from_environment
from iamwarden.domain import declared
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from tests.aws_fixtures import HOME_ACCOUNT, REGION, function_environment, resolve
from tests.conftest import load_event
from tests.sam_template import resources_of_type

RULE = "iamwarden-tampered"


@cache
def _function_arns() -> dict[str, str]:
    """``Fn::GetAtt <Function>.Arn`` of each function, as Lambda names it in the home account and region."""
    return {
        f"{logical}.Arn": f"arn:aws:lambda:{REGION}:{HOME_ACCOUNT}:function:{resource['Properties']['FunctionName']}"
        for logical, resource in resources_of_type("AWS::Lambda::Function").items()
    }


@cache
def _rules() -> dict[str, dict[str, Any]]:
    """Each own rule of the translated template by its key (``bus/name``; bare on the default bus)."""
    rules = {}
    for resource in resources_of_type("AWS::Events::Rule").values():
        properties = resolve(resource["Properties"], _function_arns())
        bus = properties.get("EventBusName") or "default"
        bus = bus.rsplit("/", 1)[-1]
        key = properties["Name"] if bus == "default" else f"{bus}/{properties['Name']}"
        rules[key] = properties
    return rules


def _by_cloudformation(file: str, name: str, parameters: dict[str, Any]) -> dict[str, Any]:
    event = copy.deepcopy(load_event(file))
    event["detail"]["userIdentity"]["invokedBy"] = "cloudformation.amazonaws.com"
    event["detail"]["eventName"] = name
    event["detail"]["requestParameters"] = parameters
    return event


def _judged(event: dict[str, Any]) -> list[Any]:
    own = own_identity_from_environment(function_environment("EnforcerFunction"))
    return [f for f in judge_event(event, Settings(own=own)).findings if f.rule_id == RULE]


def test_the_translated_template_has_exactly_the_declared_rules() -> None:
    assert set(_rules()) == set(declared.OWN_RULE_CONTENT) == set(declared.OWN_RULES)


@pytest.mark.parametrize("key", sorted(declared.OWN_RULE_CONTENT))
def test_cloudformation_putting_each_rule_and_target_as_deployed_is_exempt(key: str) -> None:
    properties = copy.deepcopy(_rules()[key])
    request: dict[str, Any] = {"name": properties["Name"], "state": properties.get("State", "ENABLED")}
    if properties.get("EventBusName"):
        request["eventBusName"] = properties["EventBusName"]
    if "EventPattern" in properties:
        request["eventPattern"] = json.dumps(properties["EventPattern"])
    if "ScheduleExpression" in properties:
        request["scheduleExpression"] = properties["ScheduleExpression"]
    assert _judged(_by_cloudformation("tamper-put-rule.json", "PutRule", request)) == [], key
    targets = [
        {"id": target["Id"], "arn": target["Arn"], **({"roleArn": target["RoleArn"]} if "RoleArn" in target else {})}
        for target in properties["Targets"]
    ]
    put = {"rule": properties["Name"], "targets": targets}
    if properties.get("EventBusName"):
        put["eventBusName"] = properties["EventBusName"]
    assert _judged(_by_cloudformation("tamper-put-targets.json", "PutTargets", put)) == [], key
    # The same rule with a pattern that matches nothing is not.
    request["eventPattern"] = '{"source": ["aws.none"]}'
    request.pop("scheduleExpression", None)
    assert _judged(_by_cloudformation("tamper-put-rule.json", "PutRule", request)), key


def test_each_setting_default_is_the_value_the_template_deploys() -> None:
    deployed = {}
    for resource in resources_of_type("AWS::SSM::Parameter").values():
        properties = resolve(resource["Properties"])
        deployed[properties["Name"].removeprefix("/iamwarden/")] = str(properties["Value"])
    assert declared.SETTING_DEFAULTS
    for name, value in declared.SETTING_DEFAULTS.items():
        assert deployed[name] == value, name
