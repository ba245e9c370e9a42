"""permission-set-admin on the grants a permission set takes from each account (audit s6 gap 4).

A customer-managed policy reference makes each account's own policy of that name part of the set's role; the
service-linked role's IAM changes are (rightly) never judged, so the reference is the one change to see. What the
policies grant is not read, so each finding is alerted with what is unknown and never remediated.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from iamwarden.domain.catalog import Severity
from iamwarden.domain.findings import Verdict
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event

RULE = "permission-set-admin"
SET = "arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-1b2c3d4e5f6a7b8c"


def _judge(event: dict[str, Any]) -> Any:
    return judge_event(event, Settings())


def test_a_customer_managed_policy_reference_is_alerted_with_what_is_unknown_and_the_way_back() -> None:
    [finding] = _judge(load_event("sso-attach-customer-managed-reference.json")).findings
    assert (finding.rule_id, finding.severity, finding.resource_arn) == (RULE, Severity.HIGH, SET)
    assert finding.plan == ()
    assert finding.needs_context == (
        f"what the customer-managed policy /org-admin grants in each account permission set {SET} is provisioned "
        "to (each account holds its own policy of that name; IAM Warden does not read them)",
    )
    assert "detach-customer-managed-policy-reference-from-permission-set" in finding.reason
    assert "--customer-managed-policy-reference Name=org-admin,Path=/" in finding.reason


def test_a_reference_at_a_path_keeps_its_path() -> None:
    event = copy.deepcopy(load_event("sso-attach-customer-managed-reference.json"))
    event["detail"]["requestParameters"]["customerManagedPolicyReference"] = {"name": "ops", "path": "/team/"}
    [finding] = _judge(event).findings
    assert "the customer-managed policy /team/ops to permission set" in finding.reason
    assert "Name=ops,Path=/team/" in finding.reason


def test_a_reference_without_a_name_is_refused_as_malformed() -> None:
    event = copy.deepcopy(load_event("sso-attach-customer-managed-reference.json"))
    event["detail"]["requestParameters"]["customerManagedPolicyReference"] = {"path": "/"}
    judgement = _judge(event)
    assert judgement.verdict is Verdict.INVALID
    assert "customerManagedPolicyReference names no policy" in judgement.reason


def test_a_boundary_taken_off_or_one_that_bounds_nothing_is_alerted() -> None:
    [deleted] = _judge(load_event("sso-boundary-deleted.json")).findings
    [admin] = _judge(load_event("sso-boundary-admin-equivalent.json")).findings
    for finding in (deleted, admin):
        assert (finding.severity, finding.plan) == (Severity.MEDIUM, ())
        assert finding.needs_context
    assert "took the permissions boundary off" in deleted.reason
    assert "made AdministratorAccess the permissions boundary" in admin.reason


@pytest.mark.parametrize(
    "boundary",
    [
        {"managedPolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"},
        {"customerManagedPolicyReference": {"name": "dev-boundary", "path": "/"}},
    ],
)
def test_any_other_boundary_only_narrows_the_set(boundary: dict[str, Any]) -> None:
    event = copy.deepcopy(load_event("sso-boundary-admin-equivalent.json"))
    event["detail"]["requestParameters"]["permissionsBoundary"] = boundary
    judgement = _judge(event)
    assert judgement.verdict is Verdict.COMPLIANT
    assert "a permissions boundary only narrows what permission set" in judgement.reason
