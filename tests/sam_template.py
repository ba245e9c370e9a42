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
