"""Every role of both templates fits IAM's policy size quotas, so ``sam deploy`` and the StackSet can create it.

IAM counts non-whitespace characters (IAM and AWS STS quotas): a role's inline policies may hold 10,240 in
aggregate, one customer-managed policy 6,144, and a role may have 10 managed policies attached by default.
Intrinsic functions are rendered as the own-template checks render them (``template_changes``: the deployed
names and ARNs, placeholders for what no test resolves), with every optional grant switched on.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.test_member_template import _with_parameter_defaults, member_template
from tests.integration.test_template import _resolved
from tests.sam_template import deployed_template

INLINE_AGGREGATE_LIMIT = 10_240
MANAGED_POLICY_LIMIT = 6_144
MANAGED_POLICIES_PER_ROLE = 10
#: Every parameter that adds a grant: the widest deployment of the security account's stack.
WIDEST = {
    "UserRemediation": "delete",
    "RootCredentialsRemediation": "on",
    "GitHubOwners": "acme-corp",
    "CognitoIdentityPools": "us-east-1:11111111-2222-3333-4444-555555555555",
}


def size(document: Any) -> int:
    """A policy document's size as IAM counts it: the non-whitespace characters of its compact JSON."""
    text = json.dumps(_resolved(document), separators=(",", ":"))
    return len(text) - sum(text.count(ch) for ch in (" ", "\t", "\r", "\n"))


def _templates() -> dict[str, dict[str, Any]]:
    return {
        "template.yaml": deployed_template(WIDEST),
        "member/template.yaml": _with_parameter_defaults(member_template(), UserRemediation="delete"),
    }


def _role_of(reference: Any) -> str | None:
    return str(reference["Ref"]) if isinstance(reference, dict) and set(reference) == {"Ref"} else None


def role_policy_sizes(template: dict[str, Any]) -> dict[str, tuple[dict[str, int], dict[str, int]]]:
    """Per role (logical ID): the sizes of its inline policies and of its managed policies, by name."""
    resources = template["Resources"]
    roles: dict[str, tuple[dict[str, int], dict[str, int]]] = {
        logical: (
            {p["PolicyName"]: size(p["PolicyDocument"]) for p in resource["Properties"].get("Policies", [])},
            {str(arn): 0 for arn in resource["Properties"].get("ManagedPolicyArns", [])},
        )
        for logical, resource in resources.items()
        if resource["Type"] == "AWS::IAM::Role"
    }
    for logical, resource in resources.items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::RolePolicy" and _role_of(properties["RoleName"]) in roles:
            roles[str(_role_of(properties["RoleName"]))][0][logical] = size(properties["PolicyDocument"])
        elif resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            inline = resource["Type"] == "AWS::IAM::Policy"
            for role in filter(None, map(_role_of, properties.get("Roles", []))):
                roles[role][0 if inline else 1][logical] = size(properties["PolicyDocument"])
    return roles


@pytest.mark.parametrize("path", ["template.yaml", "member/template.yaml"])
def test_every_role_fits_the_iam_policy_size_quotas(path: str) -> None:
    roles = role_policy_sizes(_templates()[path])
    assert "EnforcerRole" in roles or "RemediationRole" in roles
    for role, (inline, managed) in roles.items():
        assert sum(inline.values()) <= INLINE_AGGREGATE_LIMIT, (path, role, inline)
        assert len(managed) <= MANAGED_POLICIES_PER_ROLE, (path, role, sorted(managed))
        for name, characters in managed.items():
            assert characters <= MANAGED_POLICY_LIMIT, (path, role, name, characters)


def test_the_check_counts_what_iam_counts() -> None:
    """The size is the rendered document's, whitespace left out; an oversized role is caught."""
    assert size({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject"}]}) == len(
        '{"Statement":[{"Effect":"Allow","Action":"s3:GetObject"}]}'
    )
    template = deployed_template()
    role = template["Resources"]["EnforcerRole"]["Properties"]
    big = {"Statement": [{"Effect": "Allow", "Action": [f"s3:Get{n:05d}" for n in range(700)], "Resource": "*"}]}
    role["Policies"].append({"PolicyName": "big", "PolicyDocument": big})
    inline, _ = role_policy_sizes(template)["EnforcerRole"]
    assert sum(inline.values()) > INLINE_AGGREGATE_LIMIT
