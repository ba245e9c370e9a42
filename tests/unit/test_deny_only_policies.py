"""AWS-managed policies that only deny are never a finding: containment must not be reverted (issue 14 item 3)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from moto.iam.aws_managed_policies import aws_managed_policies_data

from iamwarden.domain.findings import Verdict
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from iamwarden.guardrails.managed_policy import DENY_ONLY
from tests.conftest import load_event


def _bundled() -> dict[str, Any]:
    """The AWS-managed policies as moto bundles them (a copy of AWS's own documents)."""
    data: dict[str, Any] = json.loads(aws_managed_policies_data)
    return {(policy.get("Path", "/").strip("/") + "/" + name).lstrip("/"): policy for name, policy in data.items()}


def _deny_only(policy: dict[str, Any]) -> bool:
    statements = policy["Document"]["Statement"]
    statements = statements if isinstance(statements, list) else [statements]
    return bool(statements) and all(statement.get("Effect") == "Deny" for statement in statements)


def test_every_listed_policy_exists_and_only_denies() -> None:
    bundled = _bundled()
    for path_name in DENY_ONLY:
        assert path_name in bundled, path_name
        assert _deny_only(bundled[path_name]), path_name


def test_no_deny_only_aws_managed_policy_is_missing_from_the_list() -> None:
    assert {path_name for path_name, policy in _bundled().items() if _deny_only(policy)} == set(DENY_ONLY)


def _attaching(path_name: str) -> dict[str, Any]:
    event = copy.deepcopy(load_event("attach-quarantine-policy-by-responder.json"))
    event["detail"]["requestParameters"]["policyArn"] = f"arn:aws:iam::aws:policy/{path_name}"
    return event


@pytest.mark.parametrize("path_name", sorted(DENY_ONLY))
def test_attaching_a_deny_only_policy_is_compliant(path_name: str) -> None:
    judgement = judge_event(_attaching(path_name), Settings())
    assert judgement.verdict is Verdict.COMPLIANT, judgement.reason
    assert "only denies" in judgement.reason


def test_an_allowing_policy_attached_the_same_way_is_still_a_violation() -> None:
    judgement = judge_event(_attaching("AdministratorAccess"), Settings())
    assert judgement.verdict is Verdict.VIOLATION
    assert [finding.rule_id for finding in judgement.findings] == ["managed-policy-attached"]
