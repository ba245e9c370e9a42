"""``template.yaml`` as CloudFormation would see it after ``sam package`` and the SAM transform.

Tests build their AWS resources (EventBridge rules today) from this, so they
cannot drift from what ``sam deploy`` creates.
"""

from __future__ import annotations

import copy
import os
from functools import lru_cache
from typing import Any

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

from tests.conftest import ROOT

TEMPLATE = ROOT / "template.yaml"
_CODE_PROPERTIES = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}


class _NoManagedPolicies:
    """The translator asks for AWS-managed policy ARNs only when a function names one; ours never do."""

    def load(self) -> dict[str, str]:
        return {}


@lru_cache(maxsize=1)
def _parsed() -> dict[str, Any]:
    """The template parsed once per process (a quarter of a second each time, and tests ask often)."""
    parsed: dict[str, Any] = yaml_parse(TEMPLATE.read_text())
    return parsed


def source_template() -> dict[str, Any]:
    """``template.yaml`` as written (a fresh copy per call)."""
    return copy.deepcopy(_parsed())


@lru_cache(maxsize=1)
def _translated() -> dict[str, Any]:
    """The SAM transform, run once per process (each pytest-xdist worker is one)."""
    template = source_template()
    for name, resource in template["Resources"].items():
        key = _CODE_PROPERTIES.get(resource["Type"])
        if key:  # what `sam package` does: local code becomes an S3 object
            resource["Properties"][key] = f"s3://iamwarden-artifacts/{name}.zip"
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    translated: dict[str, Any] = transform(template, {"AWS::Region": "us-east-1"}, _NoManagedPolicies())
    return translated


def translated_template() -> dict[str, Any]:
    """The CloudFormation template a deploy creates (a fresh copy per call)."""
    return copy.deepcopy(_translated())


def resources_of_type(resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        name: resource
        for name, resource in translated_template()["Resources"].items()
        if resource["Type"] == resource_type
    }


_NO_VALUE = {"Ref": "AWS::NoValue"}


def condition_holds(name: str, parameters: dict[str, str] | None = None) -> bool:
    """Whether the template's condition ``name`` holds for ``parameters`` (their defaults otherwise)."""
    template = deployed_template(parameters)
    return bool(template["Metadata"]["ResolvedConditions"][name])


def deployed_template(parameters: dict[str, str] | None = None) -> dict[str, Any]:
    """The translated template as CloudFormation resolves it for ``parameters`` (their defaults otherwise).

    Conditions are evaluated, resources whose condition is false are left out, and ``Fn::If`` and
    ``AWS::NoValue`` are resolved, so a test reads exactly what a deploy with those parameters creates.
    """
    template = translated_template()
    given = {name: str(spec.get("Default", "")) for name, spec in template.get("Parameters", {}).items()}
    given.update(parameters or {})
    conditions: dict[str, bool] = {}

    def value(node: Any) -> Any:
        if isinstance(node, dict) and set(node) == {"Ref"} and node["Ref"] in given:
            return given[node["Ref"]]
        return node

    def holds(node: Any) -> bool:
        if isinstance(node, dict) and set(node) == {"Condition"}:
            return condition(node["Condition"])
        (function, arguments), *_ = node.items()
        if function == "Fn::Equals":
            left, right = (str(value(argument)) for argument in arguments)
            return left == right
        if function == "Fn::Not":
            return not holds(arguments[0])
        if function == "Fn::And":
            return all(holds(argument) for argument in arguments)
        if function == "Fn::Or":
            return any(holds(argument) for argument in arguments)
        raise AssertionError(f"condition function {function} is not understood by the test")

    def condition(name: str) -> bool:
        if name not in conditions:
            conditions[name] = holds(template["Conditions"][name])
        return conditions[name]

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Fn::If"}:
                name, when_true, when_false = node["Fn::If"]
                return resolve(when_true if condition(name) else when_false)
            resolved = {key: resolve(item) for key, item in node.items()}
            return {key: item for key, item in resolved.items() if item != _NO_VALUE}
        if isinstance(node, list):
            return [resolve(item) for item in node if resolve(item) != _NO_VALUE]
        return node

    resources = {
        name: resource
        for name, resource in template["Resources"].items()
        if "Condition" not in resource or condition(resource["Condition"])
    }
    template["Resources"] = resolve(resources)
    metadata = template.setdefault("Metadata", {})
    metadata["ResolvedConditions"] = {name: condition(name) for name in template.get("Conditions", {})}
    return template


def managed_policies_of(template: dict[str, Any], role: str) -> dict[str, dict[str, Any]]:
    """The ``AWS::IAM::ManagedPolicy`` resources of ``template`` attached to the role ``role`` (logical ID)."""
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::IAM::ManagedPolicy"
        and {"Ref": role} in resource.get("Properties", {}).get("Roles", [])
    }


def remediation_statements(template: dict[str, Any], role: str) -> list[Any]:
    """The statements of the remediation managed policies on ``role``, in order (tools/generate.py writes them).

    The remediation grants are split over several managed policies (a role's inline policies may hold only
    10,240 characters in aggregate); what the role is granted is their union.
    """
    prefix = {"EnforcerRole": "EnforcerRemediations", "RemediationRole": "RemediationPolicy"}[role]
    policies = managed_policies_of(template, role)
    numbered = sorted((name for name in policies if name.startswith(prefix)), key=lambda n: int(n[len(prefix) :]))
    assert numbered, f"{role} has no generated remediation managed policies ({prefix}1, ...)"
    return [s for name in numbered for s in policies[name]["Properties"]["PolicyDocument"]["Statement"]]
