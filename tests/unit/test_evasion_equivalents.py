"""Defense evasion by the equivalent call (audit s6 gap 11): each alerted with the way back, not undone (a new
GuardDuty filter archiving every finding is: tests/unit/test_evasion_sechub_guardduty.py).

GuardDuty stays on but archives or suppresses its findings, or stops reporting to its administrator; AWS Config
records less or delivers nothing; Security Hub drops standards or a product's findings.
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


def _judge(event: dict[str, Any]) -> Any:
    return judge_event(event, Settings())


def _with(file: str, **parameters: Any) -> dict[str, Any]:
    event = copy.deepcopy(load_event(file))
    event["detail"]["requestParameters"].update(parameters)
    return event


@pytest.mark.parametrize(
    ("file", "rule", "severity", "says"),
    [
        ("guardduty-trusted-ip-list.json", "guardduty-disabled", Severity.HIGH, "--no-activate"),
        (
            "guardduty-disassociate-from-administrator.json",
            "guardduty-disabled",
            Severity.CRITICAL,
            "away from its GuardDuty administrator",
        ),
        ("config-recorder-narrowed.json", "config-recording-stopped", Severity.MEDIUM, "record only AWS::S3::Bucket"),
        ("config-delivery-channel-deleted.json", "config-recording-stopped", Severity.CRITICAL, "put-delivery-channel"),
        ("securityhub-disable-standards.json", "securityhub-disabled", Severity.HIGH, "batch-enable-standards"),
    ],
)
def test_each_equivalent_call_is_alerted_with_the_way_back(file: str, rule: str, severity: Severity, says: str) -> None:
    [finding] = _judge(load_event(file)).findings
    assert (finding.rule_id, finding.severity) == (rule, severity)
    assert finding.plan == ()
    assert says in finding.reason


def test_a_filter_that_archives_only_some_findings_is_high_and_one_that_only_labels_is_fine() -> None:
    some = _with("guardduty-filter-archive-all.json", findingCriteria={"criterion": {"severity": {"gte": 7}}})
    [finding] = _judge(some).findings
    assert finding.severity is Severity.HIGH
    assert "archive the findings it matches" in finding.reason
    empty = _with("guardduty-filter-archive-all.json", findingCriteria={})
    assert _judge(empty).findings[0].severity is Severity.CRITICAL  # no criterion: every finding
    noop = _with("guardduty-filter-archive-all.json", action="NOOP")
    assert _judge(noop).verdict is Verdict.COMPLIANT


def test_a_trusted_ip_list_not_activated_is_fine() -> None:
    assert _judge(_with("guardduty-trusted-ip-list.json", activate=False)).verdict is Verdict.COMPLIANT


def test_members_taken_from_the_administrator_are_named() -> None:
    event = _with("guardduty-disassociate-from-administrator.json", accountIds=["444455556666"])
    event["detail"]["eventName"] = "DisassociateMembers"
    [finding] = _judge(event).findings
    assert finding.severity is Severity.CRITICAL
    assert "took 444455556666 out of" in finding.reason


@pytest.mark.parametrize(
    "group",
    [
        {"allSupported": True, "includeGlobalResourceTypes": True},
        # AWS's advice: global types (IAM) recorded in one region only, so leaving them out elsewhere is no narrowing.
        {"allSupported": True, "includeGlobalResourceTypes": False},
    ],
)
def test_a_recorder_that_records_every_supported_type_is_fine(group: dict[str, Any]) -> None:
    event = copy.deepcopy(load_event("config-recorder-narrowed.json"))
    event["detail"]["requestParameters"]["configurationRecorder"]["recordingGroup"] = group
    assert _judge(event).verdict is Verdict.COMPLIANT


def test_a_recorder_that_excludes_types_says_which() -> None:
    event = copy.deepcopy(load_event("config-recorder-narrowed.json"))
    event["detail"]["requestParameters"]["configurationRecorder"]["recordingGroup"] = {
        "allSupported": True,
        "exclusionByResourceTypes": {"resourceTypes": ["AWS::IAM::Role", "AWS::IAM::Policy"]},
    }
    [finding] = _judge(event).findings
    assert "every supported type but AWS::IAM::Role, AWS::IAM::Policy" in finding.reason
