"""Security Hub V2 automation rules that stop creating tickets (issue 15 item 3): only IAM Warden's own record of the
rule from before the change says it created them; the event carries only the new actions."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from typing import Any

import pytest

from iamwarden.domain.catalog import Severity
from iamwarden.domain.findings import Judgement, Verdict
from iamwarden.domain.recorded import PastRemediation, Snapshot
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from iamwarden.guardrails.security_services import AUTOMATION_RULE_V2
from tests.conftest import load_event

RULE_V2 = "arn:aws:securityhub:eu-west-1:111122223333:automation-rulev2/a1b2c3d4-5678-90ab-cdef-EXAMPLE22222"
JIRA = "arn:aws:securityhub:eu-west-1:111122223333:connectorv2/jira-soc-EXAMPLE"
TICKETS = [{"type": "EXTERNAL_INTEGRATION", "externalIntegrationConfiguration": {"connectorArn": JIRA}}]
API_TICKETS = [{"Type": "EXTERNAL_INTEGRATION", "ExternalIntegrationConfiguration": {"ConnectorArn": JIRA}}]
COMMENT = [{"type": "FINDING_FIELDS_UPDATE", "findingFieldsUpdate": {"comment": "triaged by the SOC"}}]
NARROW = {
    "ocsfFindingCriteria": {
        "compositeFilters": [
            {
                "stringFilters": [
                    {"fieldName": "compliance.control", "filter": {"value": "S3.8", "comparison": "EQUALS"}}
                ]
            }
        ],
        "compositeOperator": "AND",
    }
}
BEFORE = "2026-11-20T08:00:00.000+00:00"  # the sample's events are at 09:21:07


def _judge(event: dict[str, Any], **kwargs: Any) -> Judgement:
    return judge_event(event, Settings(), **kwargs)


def _create(actions: list[dict[str, Any]]) -> dict[str, Any]:
    event = copy.deepcopy(load_event("securityhub-automation-rule-v2-suppress-guardduty.json"))
    event["detail"]["requestParameters"].update(criteria=NARROW, actions=actions)
    return event


def _update(**parameters: Any) -> dict[str, Any]:
    event = _create(TICKETS)
    event["detail"]["eventName"] = "UpdateAutomationRuleV2"
    event["detail"]["requestParameters"] = {"identifier": RULE_V2, **parameters}
    event["detail"]["responseElements"] = None
    return event


class _Recorded:
    def __init__(self, snapshot: Snapshot | None) -> None:
        self._snapshot = snapshot

    def remediations(self, resource_arn: str) -> Sequence[PastRemediation]:
        return ()

    def snapshot(self, kind: str, resource_arn: str) -> Snapshot | None:
        return self._snapshot if (kind, resource_arn) == (AUTOMATION_RULE_V2, RULE_V2) else None


def _ticketing(taken_at: str = BEFORE, status: str = "ENABLED", **kwargs: Any) -> _Recorded:
    data = {"status": status, "connectors": [JIRA], "actions": API_TICKETS}
    return _Recorded(Snapshot(AUTOMATION_RULE_V2, RULE_V2, taken_at, data, **kwargs))


def test_a_new_ticketing_rule_is_compliant_and_kept_as_the_rules_snapshot() -> None:
    judged = _judge(_create(TICKETS))
    assert judged.verdict is Verdict.COMPLIANT
    [snapshot] = judged.observed
    assert (snapshot.kind, snapshot.resource_arn) == (AUTOMATION_RULE_V2, RULE_V2)
    assert dict(snapshot.data) == {"status": "ENABLED", "connectors": [JIRA], "actions": API_TICKETS}


def test_an_update_dropping_the_recorded_ticketing_is_high_and_alerted_with_the_actions_back() -> None:
    [finding] = _judge(_update(criteria=NARROW, actions=COMMENT, ruleStatus="ENABLED"), recorded=_ticketing()).findings
    assert (finding.rule_id, finding.severity, finding.plan) == ("securityhub-disabled", Severity.HIGH, ())
    assert finding.resource_arn == RULE_V2
    assert f"changed the actions of V2 automation rule {RULE_V2} in eu-west-1" in finding.reason
    assert (
        f"no longer creates tickets through {JIRA} (it did when IAM Warden recorded it, at {BEFORE})" in finding.reason
    )
    back = json.dumps(API_TICKETS, separators=(",", ":"), sort_keys=True)
    assert f"--identifier {RULE_V2} --rule-status ENABLED --actions '{back}'." in finding.reason


def test_an_update_disabling_a_recorded_ticketing_rule_is_high() -> None:
    [finding] = _judge(_update(ruleStatus="DISABLED"), recorded=_ticketing()).findings
    assert finding.severity is Severity.HIGH
    assert f"disabled V2 automation rule {RULE_V2}" in finding.reason


@pytest.mark.parametrize(
    "recorded",
    [
        None,
        _Recorded(None),
        _ticketing("2026-11-20T10:00:00.000+00:00"),  # taken after the change: it may show it
        _ticketing(unusable=True),
        _ticketing(status="DISABLED"),  # recorded disabled: it created no ticket
    ],
    ids=["offline", "no-record", "taken-after", "unusable", "was-disabled"],
)
def test_without_a_record_of_ticketing_from_before_an_update_is_compliant(recorded: _Recorded | None) -> None:
    event = _update(criteria=NARROW, actions=COMMENT, ruleStatus="ENABLED")
    assert _judge(event, recorded=recorded).verdict is Verdict.COMPLIANT


def test_an_update_keeping_the_ticketing_is_compliant_and_kept() -> None:
    actions = [*TICKETS, *COMMENT]
    judged = _judge(_update(criteria=NARROW, actions=actions, ruleStatus="ENABLED"), recorded=_ticketing())
    assert judged.verdict is Verdict.COMPLIANT
    [snapshot] = judged.observed
    assert snapshot.data["connectors"] == [JIRA]


def test_a_rule_that_hides_findings_is_judged_as_that_first() -> None:
    event = _update(criteria={"ocsfFindingCriteria": {"compositeFilters": []}}, ruleStatus="ENABLED")
    event["detail"]["requestParameters"]["actions"] = [
        {"type": "FINDING_FIELDS_UPDATE", "findingFieldsUpdate": {"statusId": 3}}
    ]
    [finding] = _judge(event, recorded=_ticketing()).findings
    assert finding.severity is Severity.CRITICAL
    assert "hide findings as they arrive" in finding.reason
