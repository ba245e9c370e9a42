"""permission-set-admin on Identity Center's attributes for access control (review s10 finding 10): alerted, medium."""

from __future__ import annotations

import copy

import pytest

from iamwarden.domain.catalog import Severity
from iamwarden.domain.findings import Verdict
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event

INSTANCE = "arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6"


def test_a_changed_mapping_is_medium_names_the_tags_and_what_is_unknown() -> None:
    [finding] = judge_event(load_event("sso-abac-attributes-updated.json"), Settings()).findings
    assert (finding.rule_id, finding.severity, finding.plan) == ("permission-set-admin", Severity.MEDIUM, ())
    assert finding.resource_arn == INSTANCE
    assert "now carries aws:PrincipalTag/clearance, aws:PrincipalTag/team" in finding.reason
    assert f"--instance-arn {INSTANCE}" in finding.reason
    assert finding.needs_context == (f"which attributes instance {INSTANCE} mapped to session tags before",)


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("CreateInstanceAccessControlAttributeConfiguration", " set the attributes for access control"),
        ("DeleteInstanceAccessControlAttributeConfiguration", " deleted the attributes for access control"),
    ],
)
def test_a_mapping_created_or_deleted_is_alerted_too(name: str, says: str) -> None:
    event = copy.deepcopy(load_event("sso-abac-attributes-updated.json"))
    event["detail"]["eventName"] = name
    if name.startswith("Delete"):
        event["detail"]["requestParameters"] = {"instanceArn": INSTANCE}
    [finding] = judge_event(event, Settings()).findings
    assert finding.severity is Severity.MEDIUM
    assert says in finding.reason


def test_a_mapping_event_without_an_instance_is_invalid_and_a_failed_one_is_ignored() -> None:
    event = copy.deepcopy(load_event("sso-abac-attributes-updated.json"))
    del event["detail"]["requestParameters"]["instanceArn"]
    assert judge_event(event, Settings()).verdict is Verdict.INVALID
    failed = copy.deepcopy(load_event("sso-abac-attributes-updated.json"))
    failed["detail"]["errorCode"] = "AccessDeniedException"
    assert judge_event(failed, Settings()).verdict is Verdict.IGNORED
