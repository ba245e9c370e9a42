"""Defense evasion by the adjacent moves (issue 15 item 3): the administrator's side of GuardDuty, Security Hub
automation rules that suppress findings and its organisation links, CloudTrail Lake's event data stores."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from botocore.exceptions import ClientError

from iamwarden.adapters.errors import TransientAwsError
from iamwarden.domain.catalog import Severity
from iamwarden.domain.findings import Judgement, Verdict
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from iamwarden.guardrails.security_services import StartGuardDutyMonitoring
from tests.conftest import load_event

STORE = "arn:aws:cloudtrail:eu-west-1:111122223333:eventdatastore/EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE"
RULE = "arn:aws:securityhub:eu-west-1:111122223333:automation-rule/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"
SUPPRESS = [{"type": "FINDING_FIELDS_UPDATE", "findingFieldsUpdate": {"workflow": {"status": "SUPPRESSED"}}}]


def _judge(event: dict[str, Any], **kwargs: Any) -> Judgement:
    return judge_event(event, Settings(), **kwargs)


def _event(file: str, name: str | None = None, **parameters: Any) -> dict[str, Any]:
    event = copy.deepcopy(load_event(file))
    if name is not None:
        event["detail"]["eventName"] = name
    event["detail"]["requestParameters"].update(parameters)
    return event


# GuardDuty: the administrator's side


def test_stopped_monitoring_of_members_is_started_again_for_exactly_those_members() -> None:
    [finding] = _judge(load_event("guardduty-stop-monitoring-members.json")).findings

    assert (finding.rule_id, finding.severity) == ("guardduty-disabled", Severity.CRITICAL)
    assert "monitoring member accounts 444455556666" in finding.reason
    assert "aws guardduty start-monitoring-members --detector-id 12abc34d567e8fa901bc2d34e56789f0" in finding.reason
    [step] = finding.plan
    assert step.action == "start_guardduty_monitoring"
    assert step.parameters == {"detector_id": "12abc34d567e8fa901bc2d34e56789f0", "account_ids": ["444455556666"]}


def test_members_guardduty_refused_to_stop_are_neither_alerted_as_stopped_nor_started() -> None:
    event = _event("guardduty-stop-monitoring-members.json", accountIds=["444455556666", "555566667777"])
    event["detail"]["responseElements"] = {
        "unprocessedAccounts": [{"accountId": "555566667777", "result": "The account is not a member"}]
    }
    [finding] = _judge(event).findings
    assert finding.plan[0].parameters["account_ids"] == ["444455556666"]
    assert "555566667777" not in finding.reason
    event["detail"]["responseElements"]["unprocessedAccounts"].append({"accountId": "444455556666", "result": "no"})
    assert _judge(event).verdict is Verdict.COMPLIANT


@pytest.mark.parametrize(
    ("statuses", "started"),
    [
        ({"444455556666": "Disabled", "555566667777": "Enabled"}, ["444455556666"]),
        # Never monitored by this administrator, or gone: not what stopping monitoring leaves.
        ({"444455556666": "Created", "555566667777": "Invited", "666677778888": "Resigned"}, []),
        ({"444455556666": "Removed", "555566667777": "disabled"}, ["555566667777"]),
    ],
)
def test_only_members_the_stop_left_disabled_are_started(statuses: dict[str, str], started: list[str]) -> None:
    assert StartGuardDutyMonitoring._stopped({"statuses": statuses}) == started


def test_members_named_as_objects_are_read_too() -> None:
    """The GuardDuty user guide's older request syntax lists ``{"accountId": ...}`` objects."""
    event = _event("guardduty-stop-monitoring-members.json", accountIds=[{"accountId": "555566667777"}])
    [finding] = _judge(event).findings
    assert finding.plan[0].parameters["account_ids"] == ["555566667777"]


def test_stop_monitoring_naming_no_member_is_invalid() -> None:
    event = _event("guardduty-stop-monitoring-members.json", accountIds=[])
    assert _judge(event).verdict is Verdict.INVALID


def test_a_failed_stop_monitoring_is_never_remediated() -> None:
    event = copy.deepcopy(load_event("guardduty-stop-monitoring-members.json"))
    event["detail"]["errorCode"] = "BadRequestException"
    assert _judge(event).findings == ()


def test_organisation_auto_enable_turned_off_is_alerted_with_the_way_back() -> None:
    [finding] = _judge(load_event("guardduty-organization-auto-enable-off.json")).findings
    assert finding.severity is Severity.HIGH
    assert finding.plan == ()
    assert "--auto-enable-organization-members ALL" in finding.reason


@pytest.mark.parametrize("parameters", [{"autoEnableOrganizationMembers": "NEW"}, {"autoEnable": True}])
def test_organisation_auto_enable_on_is_fine(parameters: dict[str, Any]) -> None:
    event = copy.deepcopy(load_event("guardduty-organization-auto-enable-off.json"))
    event["detail"]["requestParameters"] = {"detectorId": "12abc34d567e8fa901bc2d34e56789f0", **parameters}
    assert _judge(event).verdict is Verdict.COMPLIANT


def test_the_deprecated_auto_enable_false_is_auto_enable_off() -> None:
    event = copy.deepcopy(load_event("guardduty-organization-auto-enable-off.json"))
    event["detail"]["requestParameters"] = {"detectorId": "12abc34d567e8fa901bc2d34e56789f0", "autoEnable": False}
    [finding] = _judge(event).findings
    assert "auto-enable off" in finding.reason


def test_protection_plans_switched_off_for_the_organisation_are_medium() -> None:
    event = copy.deepcopy(load_event("guardduty-organization-auto-enable-off.json"))
    event["detail"]["requestParameters"] = {
        "detectorId": "12abc34d567e8fa901bc2d34e56789f0",
        "autoEnableOrganizationMembers": "ALL",
        "features": [{"name": "S3_DATA_EVENTS", "autoEnable": "NONE"}, {"name": "EKS_AUDIT_LOGS", "autoEnable": "ALL"}],
    }
    [finding] = _judge(event).findings
    assert finding.severity is Severity.MEDIUM
    assert "S3_DATA_EVENTS off for the organisation's accounts" in finding.reason
    assert "--features Name=S3_DATA_EVENTS,AutoEnable=ALL" in finding.reason
    assert "EKS_AUDIT_LOGS" not in finding.reason


def test_a_detector_protection_plan_switched_off_is_medium_and_one_switched_on_is_fine() -> None:
    event = _event("guardduty-detector-frequency.json", features=[{"name": "RUNTIME_MONITORING", "status": "DISABLED"}])
    [finding] = _judge(event).findings
    assert finding.severity is Severity.MEDIUM
    assert "--features Name=RUNTIME_MONITORING,Status=ENABLED" in finding.reason
    on = _event("guardduty-detector-frequency.json", features=[{"name": "RUNTIME_MONITORING", "status": "ENABLED"}])
    assert _judge(on).verdict is Verdict.COMPLIANT


# Security Hub: automation rules and the organisation's links


def test_a_rule_suppressing_every_guardduty_finding_is_disabled() -> None:
    [finding] = _judge(load_event("securityhub-automation-rule-suppress-guardduty.json")).findings

    assert (finding.rule_id, finding.severity) == ("securityhub-disabled", Severity.CRITICAL)
    assert finding.resource_arn == RULE
    assert "sets the workflow status to SUPPRESSED of every finding of GuardDuty" in finding.reason
    assert f"RuleArn={RULE},RuleStatus=DISABLED" in finding.reason
    [step] = finding.plan
    assert (step.action, step.parameters) == ("disable_automation_rule", {"rule_arn": RULE})


def test_a_rule_pinning_findings_down_is_compliant() -> None:
    assert _judge(load_event("securityhub-automation-rule-narrow.json")).verdict is Verdict.COMPLIANT


@pytest.mark.parametrize(
    ("criteria", "says"),
    [
        ({}, "of every finding."),
        ({"severityLabel": [{"value": "LOW", "comparison": "EQUALS"}]}, "of every finding whose severityLabel match"),
        # A NOT_EQUALS filter on a narrowing field narrows nothing.
        ({"resourceId": [{"value": "arn:aws:s3:::x", "comparison": "NOT_EQUALS"}]}, "whose resourceId match"),
    ],
)
def test_broad_criteria_are_named(criteria: dict[str, Any], says: str) -> None:
    event = _event("securityhub-automation-rule-suppress-guardduty.json", criteria=criteria)
    [finding] = _judge(event).findings
    assert says in finding.reason


_GUARDDUTY = {"productName": [{"value": "GuardDuty", "comparison": "EQUALS"}]}


@pytest.mark.parametrize(
    "criteria",
    [
        {**_GUARDDUTY, "resourceId": [{"value": "arn:", "comparison": "PREFIX"}]},
        {"id": [{"value": "arn:aws", "comparison": "PREFIX"}]},
        {"id": [{"value": "arn", "comparison": "PREFIX"}]},
        {"title": [{"value": " ", "comparison": "CONTAINS"}]},
        {"title": [{"value": "", "comparison": "CONTAINS_WORD"}]},
        {"resourceId": [{"value": "arn:aws:s3:::", "comparison": "PREFIX"}]},
        {"resourceId": [{"value": "arn:aws:iam::", "comparison": "PREFIX"}]},
        {"resourceId": [{"value": "arn:aws:lambda:us-east-1:*:function:", "comparison": "PREFIX"}]},
        {"generatorId": [{"value": "aws", "comparison": "PREFIX"}]},
        # A broad value ORed with a specific one matches everything the broad one does.
        {
            "resourceId": [
                {"value": "arn:aws:s3:::acme-logs", "comparison": "EQUALS"},
                {"value": "arn:", "comparison": "PREFIX"},
            ]
        },
        # A NOT_EQUALS to a nonsense value pins nothing down.
        {"id": [{"value": "nothing-has-this-id", "comparison": "NOT_EQUALS"}]},
        # Review final s10 finding 4: a prefix that stops at the account is every finding of the account, and a
        # fragment of ids names a class of them (every GuardDuty finding).
        {"id": [{"value": "arn:aws:securityhub:eu-west-1:111122223333:", "comparison": "PREFIX"}]},
        {"id": [{"value": ":guardduty:", "comparison": "CONTAINS"}]},
    ],
)
def test_criteria_that_match_every_finding_are_not_narrow(criteria: dict[str, Any]) -> None:
    event = _event("securityhub-automation-rule-suppress-guardduty.json", criteria=criteria)
    [finding] = _judge(event).findings
    assert finding.severity is Severity.CRITICAL
    assert [step.action for step in finding.plan] == ["disable_automation_rule"]


@pytest.mark.parametrize(
    "criteria",
    [
        {"resourceId": [{"value": "arn:aws:s3:::acme-public-website", "comparison": "EQUALS"}]},
        {"resourceId": [{"value": "arn:aws:s3:::acme-public-", "comparison": "PREFIX"}]},
        {"title": [{"value": "S3 general purpose buckets should block public access", "comparison": "CONTAINS"}]},
        {**_GUARDDUTY, "complianceSecurityControlId": [{"value": "S3.8", "comparison": "EQUALS"}]},
    ],
)
def test_criteria_naming_something_specific_are_narrow(criteria: dict[str, Any]) -> None:
    event = _event("securityhub-automation-rule-suppress-guardduty.json", criteria=criteria)
    assert _judge(event).verdict is Verdict.COMPLIANT


@pytest.mark.parametrize(
    ("severity", "says"),
    [({"label": "LOW"}, "lowers the severity to LOW"), ({"normalized": 10}, "lowers the severity to 10")],
)
def test_a_rule_lowering_findings_to_low_hides_them_too(severity: dict[str, Any], says: str) -> None:
    actions = [{"type": "FINDING_FIELDS_UPDATE", "findingFieldsUpdate": {"severity": severity}}]
    [finding] = _judge(_event("securityhub-automation-rule-suppress-guardduty.json", actions=actions)).findings
    assert says in finding.reason


def test_a_rule_raising_or_keeping_severity_hides_nothing() -> None:
    actions = [{"type": "FINDING_FIELDS_UPDATE", "findingFieldsUpdate": {"severity": {"label": "MEDIUM"}}}]
    event = _event("securityhub-automation-rule-suppress-guardduty.json", actions=actions)
    assert _judge(event).verdict is Verdict.COMPLIANT


def test_a_rule_lowering_findings_to_informational_hides_them_too() -> None:
    actions = [{"type": "FINDING_FIELDS_UPDATE", "findingFieldsUpdate": {"severity": {"label": "INFORMATIONAL"}}}]
    [finding] = _judge(_event("securityhub-automation-rule-suppress-guardduty.json", actions=actions)).findings
    assert "lowers the severity to INFORMATIONAL" in finding.reason


@pytest.mark.parametrize(
    "parameters",
    [
        {"ruleStatus": "DISABLED"},
        {"actions": [{"type": "FINDING_FIELDS_UPDATE", "findingFieldsUpdate": {"note": {"text": "seen"}}}]},
        {"actions": [{"type": "FINDING_FIELDS_UPDATE", "findingFieldsUpdate": {"workflow": {"status": "NOTIFIED"}}}]},
    ],
)
def test_a_disabled_rule_or_one_that_hides_nothing_is_compliant(parameters: dict[str, Any]) -> None:
    event = _event("securityhub-automation-rule-suppress-guardduty.json", **parameters)
    assert _judge(event).verdict is Verdict.COMPLIANT


def _batch(*items: dict[str, Any]) -> dict[str, Any]:
    event = copy.deepcopy(load_event("securityhub-automation-rule-suppress-guardduty.json"))
    event["detail"]["eventName"] = "BatchUpdateAutomationRules"
    event["detail"]["requestParameters"] = {"updateAutomationRulesRequestItems": list(items)}
    event["detail"]["responseElements"] = {"processedAutomationRules": [item["ruleArn"] for item in items]}
    return event


def test_an_update_carrying_the_whole_rule_is_judged_on_it() -> None:
    item = {"ruleArn": RULE, "ruleStatus": "ENABLED", "criteria": {}, "actions": SUPPRESS, "ruleName": "all"}
    [finding] = _judge(_batch(item)).findings
    assert [step.parameters["rule_arn"] for step in finding.plan] == [RULE]


def test_a_partial_update_cannot_be_judged_offline_and_one_disabling_is_fine() -> None:
    judged = _judge(_batch({"ruleArn": RULE, "ruleStatus": "ENABLED"}))
    assert judged.verdict is Verdict.IGNORED
    assert "the request changes only part of it" in judged.reason
    assert _judge(_batch({"ruleArn": RULE, "ruleStatus": "DISABLED"})).verdict is Verdict.COMPLIANT


class _Hub:
    """Security Hub's ``BatchGetAutomationRules`` as the enforcer's live read sees it (API spelling)."""

    def __init__(self, rules: dict[str, dict[str, Any]]) -> None:
        self.rules = rules
        self.asked: list[list[str]] = []

    def batch_get_automation_rules(self, AutomationRulesArns: list[str]) -> dict[str, Any]:
        self.asked.append(AutomationRulesArns)
        return {"Rules": [self.rules[arn] for arn in AutomationRulesArns if arn in self.rules]}


class _Clients:
    def __init__(self, hub: _Hub) -> None:
        self.hub = hub

    def client(self, service: str) -> _Hub:
        assert service == "securityhub"
        return self.hub


def test_a_partial_update_is_judged_on_the_rule_read_live() -> None:
    live = {
        "RuleArn": RULE,
        "RuleStatus": "ENABLED",
        "RuleName": "all-config",
        "Criteria": {"ProductName": [{"Value": "Config", "Comparison": "EQUALS"}]},
        "Actions": [{"Type": "FINDING_FIELDS_UPDATE", "FindingFieldsUpdate": {"Workflow": {"Status": "RESOLVED"}}}],
    }
    hub = _Hub({RULE: live})
    [finding] = _judge(
        _batch({"ruleArn": RULE, "ruleStatus": "ENABLED"}), live_clients=lambda *_: _Clients(hub)
    ).findings
    assert hub.asked == [[RULE]]
    assert "sets the workflow status to RESOLVED of every finding of Config" in finding.reason
    gone = _judge(_batch({"ruleArn": RULE, "ruleOrder": 3}), live_clients=lambda *_: _Clients(_Hub({})))
    assert gone.verdict is Verdict.COMPLIANT


class _RefusingHub:
    """``BatchGetAutomationRules`` refused (denied to the enforcer) or throttled, as botocore raises it."""

    def __init__(self, code: str) -> None:
        self.code = code

    def batch_get_automation_rules(self, AutomationRulesArns: list[str]) -> dict[str, Any]:
        error = {"Error": {"Code": self.code, "Message": "no"}}
        raise ClientError(error, "BatchGetAutomationRules")  # type: ignore[arg-type]


def test_a_refused_live_read_of_a_partial_update_is_alerted_as_not_judged() -> None:
    hub = _RefusingHub("AccessDeniedException")
    judged = _judge(_batch({"ruleArn": RULE, "criteria": {}}), live_clients=lambda *_: _Clients(hub))  # type: ignore[arg-type]
    assert judged.verdict is Verdict.IGNORED
    [unreadable] = judged.unjudged  # alerted as not judged, with why
    assert unreadable.plan == ()
    assert "BatchGetAutomationRules" in unreadable.reason
    assert "AccessDeniedException" in unreadable.reason


def test_a_throttled_live_read_of_a_partial_update_is_retried() -> None:
    hub = _RefusingHub("ThrottlingException")
    with pytest.raises(TransientAwsError):
        _judge(_batch({"ruleArn": RULE, "criteria": {}}), live_clients=lambda *_: _Clients(hub))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "parameters", "says"),
    [
        (
            "DisableOrganizationAdminAccount",
            {"adminAccountId": "444455556666"},
            "enable-organization-admin-account --admin-account-id 444455556666",
        ),
        ("DisassociateMembers", {"accountIds": ["555566667777"]}, "member accounts 555566667777 away"),
        ("DisassociateFromAdministratorAccount", {}, "away from its Security Hub administrator"),
    ],
)
def test_security_hub_links_cut_are_alerted(name: str, parameters: dict[str, Any], says: str) -> None:
    event = copy.deepcopy(load_event("securityhub-disable-organization-admin.json"))
    event["detail"]["eventName"] = name
    event["detail"]["requestParameters"] = parameters or None
    [finding] = _judge(event).findings
    assert (finding.severity, finding.plan) == (Severity.CRITICAL, ())
    assert says in finding.reason


# CloudTrail Lake


def test_stopped_ingestion_is_started_again() -> None:
    [finding] = _judge(load_event("cloudtrail-lake-stop-ingestion.json")).findings
    assert (finding.rule_id, finding.severity) == ("cloudtrail-logging-impaired", Severity.CRITICAL)
    [step] = finding.plan
    assert (step.action, step.parameters) == ("start_event_data_store_ingestion", {"store_arn": STORE})


def test_a_store_named_by_id_is_its_arn_in_the_events_account_and_region() -> None:
    event = _event("cloudtrail-lake-stop-ingestion.json", eventDataStore="EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE")
    [finding] = _judge(event).findings
    assert finding.resource_arn == STORE


def test_a_deleted_store_says_it_is_restorable_for_seven_days() -> None:
    [finding] = _judge(load_event("cloudtrail-lake-deleted.json")).findings
    assert finding.plan == ()
    assert f"aws cloudtrail restore-event-data-store --event-data-store {STORE}" in finding.reason
    assert "7 days" in finding.reason


def test_a_store_left_without_management_events_is_high() -> None:
    [finding] = _judge(load_event("cloudtrail-lake-no-management.json")).findings
    assert (finding.severity, finding.plan) == (Severity.HIGH, ())
    assert "management events" in finding.reason


@pytest.mark.parametrize(
    "selectors",
    [
        [{"name": "all management", "fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}]}],
        # A store of AWS Config items never held management events.
        [{"name": "config", "fieldSelectors": [{"field": "eventCategory", "equals": ["ConfigurationItem"]}]}],
    ],
)
def test_a_store_that_keeps_management_events_or_holds_other_data_is_fine(selectors: list[Any]) -> None:
    event = _event("cloudtrail-lake-no-management.json", advancedEventSelectors=selectors)
    assert _judge(event).verdict is Verdict.COMPLIANT


@pytest.mark.parametrize(
    ("parameters", "says", "unknown"),
    [
        ({"retentionPeriod": 7}, "retention period set to 7 days", ["the retention period before the change"]),
        (
            {"terminationProtectionEnabled": False},
            "termination protection turned off",
            ["whether termination protection was on before"],
        ),
        (
            {"retentionPeriod": 7, "terminationProtectionEnabled": False},
            "retention period set to 7 days",
            ["the retention period before the change", "whether termination protection was on before"],
        ),
    ],
)
def test_a_store_whose_evidence_may_be_destroyed_is_high_with_the_previous_values_unknown(
    parameters: dict[str, Any], says: str, unknown: list[str]
) -> None:
    event = copy.deepcopy(load_event("cloudtrail-lake-no-management.json"))
    event["detail"]["requestParameters"] = {"eventDataStore": STORE, **parameters}
    [finding] = _judge(event).findings
    assert (finding.rule_id, finding.severity, finding.plan) == ("cloudtrail-logging-impaired", Severity.HIGH, ())
    assert says in finding.reason
    assert f"update-event-data-store --event-data-store {STORE}" in finding.reason
    assert [text for text in unknown if any(text in need for need in finding.needs_context)] == unknown
    assert len(finding.needs_context) == len(unknown)


def test_a_store_whose_termination_protection_is_turned_on_is_fine() -> None:
    event = copy.deepcopy(load_event("cloudtrail-lake-no-management.json"))
    event["detail"]["requestParameters"] = {"eventDataStore": STORE, "terminationProtectionEnabled": True}
    assert _judge(event).verdict is Verdict.COMPLIANT


def test_a_store_made_single_region_or_the_accounts_only_is_named() -> None:
    event = copy.deepcopy(load_event("cloudtrail-lake-no-management.json"))
    event["detail"]["requestParameters"] = {
        "eventDataStore": STORE,
        "multiRegionEnabled": False,
        "organizationEnabled": False,
    }
    [finding] = _judge(event).findings
    assert "only events of eu-west-1 are stored" in finding.reason
    assert "not the organisation's" in finding.reason


def test_a_suppressing_rule_the_record_does_not_name_is_alerted_with_what_is_unknown() -> None:
    event = copy.deepcopy(load_event("securityhub-automation-rule-suppress-guardduty.json"))
    event["detail"]["responseElements"] = None
    [finding] = _judge(event).findings
    assert (finding.severity, finding.plan) == (Severity.CRITICAL, ())
    assert finding.needs_context == ("which automation rule noise-reduction is: the record names no ruleArn",)
    assert finding.resource_arn == "arn:aws:securityhub:eu-west-1:111122223333:hub/default"


def test_a_store_that_keeps_management_events_but_the_intruders_own_is_named() -> None:
    """Review s10 finding 7: an event data store filtered by ``userIdentity.arn`` stores no call of that role."""
    selectors = [
        {
            "name": "management but mine",
            "fieldSelectors": [
                {"field": "eventCategory", "equals": ["Management"]},
                {"field": "userIdentity.arn", "notStartsWith": ["arn:aws:sts::111122223333:assumed-role/developer/"]},
            ],
        }
    ]
    [finding] = _judge(_event("cloudtrail-lake-no-management.json", advancedEventSelectors=selectors)).findings
    assert finding.rule_id == "cloudtrail-logging-impaired"
    assert (
        "every write management event but those matching userIdentity.arn NotStartsWith "
        "arn:aws:sts::111122223333:assumed-role/developer/" in finding.reason
    )
