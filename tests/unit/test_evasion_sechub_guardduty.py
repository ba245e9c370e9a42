"""Defense evasion gaps left by session 9 (issue 15 item 3): Security Hub V2 automation rules over OCSF findings,
member accounts dropped from the Security Hub and GuardDuty administrators, GuardDuty malware protection and
filters that archive every finding."""

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
from tests.conftest import load_event

RULE_V2 = "arn:aws:securityhub:eu-west-1:111122223333:automation-rulev2/a1b2c3d4-5678-90ab-cdef-EXAMPLE22222"
V2_SAMPLE = "securityhub-automation-rule-v2-suppress-guardduty.json"


def _judge(event: dict[str, Any], **kwargs: Any) -> Judgement:
    return judge_event(event, Settings(), **kwargs)


def _string(field: str, value: str, comparison: str = "EQUALS") -> dict[str, Any]:
    return {"fieldName": field, "filter": {"value": value, "comparison": comparison}}


def _v2(
    composites: list[dict[str, Any]] | None = None,
    update: dict[str, Any] | None = None,
    operator: str | None = "AND",
    **parameters: Any,
) -> dict[str, Any]:
    """The V2 sample with other criteria (its composite filters and operator) or another finding update."""
    event = copy.deepcopy(load_event(V2_SAMPLE))
    request = event["detail"]["requestParameters"]
    if composites is not None:
        criteria: dict[str, Any] = {"compositeFilters": composites}
        if operator is not None:
            criteria["compositeOperator"] = operator
        request["criteria"] = {"ocsfFindingCriteria": criteria}
    if update is not None:
        request["actions"] = [{"type": "FINDING_FIELDS_UPDATE", "findingFieldsUpdate": update}]
    request.update(parameters)
    return event


# Security Hub V2 automation rules


def test_a_v2_rule_suppressing_every_guardduty_finding_is_disabled() -> None:
    [finding] = _judge(load_event(V2_SAMPLE)).findings

    assert (finding.rule_id, finding.severity) == ("securityhub-disabled", Severity.CRITICAL)
    assert "sets the status to Suppressed (status_id 3) of every finding of GuardDuty" in finding.reason
    assert f"update-automation-rule-v2 --identifier {RULE_V2} --rule-status DISABLED" in finding.reason
    [step] = finding.plan
    assert (step.action, step.parameters, step.target) == (
        "disable_automation_rule_v2",
        {"rule_arn": RULE_V2},
        RULE_V2,
    )
    assert finding.resource_arn == RULE_V2


def test_a_v2_rule_pinning_findings_down_is_compliant() -> None:
    assert _judge(load_event("securityhub-automation-rule-v2-narrow.json")).verdict is Verdict.COMPLIANT


@pytest.mark.parametrize(
    ("update", "says"),
    [
        ({"statusId": 4}, "sets the status to Resolved (status_id 4)"),
        ({"severityId": 1}, "sets the severity to Informational (severity_id 1)"),
        ({"severityId": 2, "comment": "meh"}, "sets the severity to Low (severity_id 2)"),
        ({"severityId": 0}, "sets the severity to Unknown (severity_id 0)"),
        ({"severityId": 99, "statusId": 1}, "sets the severity to Other (severity_id 99)"),
    ],
)
def test_a_v2_rule_resolving_or_lowering_findings_hides_them_too(update: dict[str, Any], says: str) -> None:
    [finding] = _judge(_v2(update=update)).findings
    assert says in finding.reason


@pytest.mark.parametrize(
    "update",
    [{"statusId": 1}, {"statusId": 2}, {"severityId": 3}, {"severityId": 5}, {"comment": "seen by the SOC"}],
)
def test_a_v2_rule_keeping_or_raising_findings_hides_nothing(update: dict[str, Any]) -> None:
    assert _judge(_v2(update=update)).verdict is Verdict.COMPLIANT


def test_a_v2_ticketing_rule_hides_nothing() -> None:
    event = _v2(
        actions=[
            {
                "type": "EXTERNAL_INTEGRATION",
                "externalIntegrationConfiguration": {"connectorArn": "arn:aws:securityhub:eu-west-1:1:connectorv2/x"},
            }
        ]
    )
    assert _judge(event).verdict is Verdict.COMPLIANT


def test_a_disabled_v2_rule_is_compliant() -> None:
    assert _judge(_v2(ruleStatus="DISABLED")).verdict is Verdict.COMPLIANT


@pytest.mark.parametrize(
    ("composites", "operator", "says"),
    [
        ([], "AND", "of every finding."),
        ([{"numberFilters": [{"fieldName": "severity_id", "filter": {"lte": 3}}]}], "AND", "whose severity_id match"),
        # A negation selects everything but one thing.
        ([{"stringFilters": [_string("resources.uid", "arn:aws:s3:::acme-website", "NOT_EQUALS")]}], "AND", "every"),
        # A start every ARN shares, or a short value, names no one thing.
        ([{"stringFilters": [_string("resources.uid", "arn:aws:", "PREFIX")]}], "AND", "whose resources.uid match"),
        ([{"stringFilters": [_string("finding_info.title", "S3", "CONTAINS")]}], "AND", "finding_info.title"),
        # OR'd with a broad composite: broad, whichever the other.
        (
            [
                {"stringFilters": [_string("resources.uid", "arn:aws:s3:::acme-website")]},
                {"stringFilters": [_string("cloud.region", "eu-west-1")]},
            ],
            "OR",
            "whose cloud.region, resources.uid match",
        ),
        # Inside a composite too.
        (
            [
                {
                    "stringFilters": [
                        _string("resources.uid", "arn:aws:s3:::acme-website"),
                        _string("metadata.product.name", "Inspector"),
                    ],
                    "operator": "OR",
                }
            ],
            "AND",
            "every finding of Inspector",
        ),
        # A tag filter that is no match of one key and value, or a CIDR of a whole network.
        (
            [{"mapFilters": [{"fieldName": "resources.tags", "filter": {"key": "env", "comparison": "EQUALS"}}]}],
            "AND",
            "resources.tags",
        ),
        (
            [{"ipFilters": [{"fieldName": "evidences.src_endpoint.ip", "filter": {"cidr": "10.0.0.0/8"}}]}],
            "AND",
            "evidences",
        ),
        (
            [{"ipFilters": [{"fieldName": "evidences.src_endpoint.ip", "filter": {"cidr": "not an ip"}}]}],
            "AND",
            "evidences",
        ),
    ],
)
def test_broad_v2_criteria_are_named(composites: list[dict[str, Any]], operator: str, says: str) -> None:
    [finding] = _judge(_v2(composites, operator=operator)).findings
    assert says in finding.reason


@pytest.mark.parametrize(
    ("composites", "operator"),
    [
        (
            [
                {
                    "stringFilters": [
                        _string("finding_info.uid", "arn:aws:guardduty:eu-west-1:111122223333:detector/x/finding/y")
                    ]
                }
            ],
            "AND",
        ),
        ([{"stringFilters": [_string("compliance.control", "S3.8")]}], None),  # one composite: either reading
        # A narrow composite AND'd with a broad one.
        (
            [
                {"stringFilters": [_string("metadata.product.name", "GuardDuty")]},
                {"stringFilters": [_string("resources.name", "acme-website-bucket")]},
            ],
            "AND",
        ),
        # OR'd composites that all narrow.
        (
            [
                {"stringFilters": [_string("vulnerabilities.cve.uid", "CVE-2024-3094")]},
                {"stringFilters": [_string("resources.uid", "arn:aws:ec2:eu-west-1:111122223333:instance/i-0abc")]},
            ],
            "OR",
        ),
        # Nested, one level down.
        (
            [
                {
                    "nestedCompositeFilters": [
                        {"stringFilters": [_string("finding_info.title", "Port 22 open on bastion")]}
                    ]
                }
            ],
            "AND",
        ),
        (
            [
                {
                    "mapFilters": [
                        {
                            "fieldName": "resources.tags",
                            "filter": {"key": "app", "value": "scanner", "comparison": "EQUALS"},
                        }
                    ]
                }
            ],
            "AND",
        ),
        ([{"ipFilters": [{"fieldName": "evidences.src_endpoint.ip", "filter": {"cidr": "203.0.113.7/32"}}]}], "AND"),
    ],
)
def test_v2_criteria_naming_something_specific_are_narrow(
    composites: list[dict[str, Any]], operator: str | None
) -> None:
    assert _judge(_v2(composites, operator=operator)).verdict is Verdict.COMPLIANT


def _resource_rule(composites: list[dict[str, Any]], criticality: str = "Low", **criteria: Any) -> dict[str, Any]:
    """The V2 sample as a resource rule: its resources' criticality set by ``composites``."""
    return _v2(
        criteria={"resourceCriteria": {"compositeFilters": composites, **criteria}},
        actions=[{"type": "RESOURCE_FIELDS_UPDATE", "resourceFieldsUpdate": {"criticality": criticality}}],
    )


def _resource_string(field: str, value: str) -> dict[str, Any]:
    return {"fieldName": field, "filter": {"value": value, "comparison": "EQUALS"}}


@pytest.mark.parametrize(
    ("composites", "criticality", "says"),
    [
        ([{"stringFilters": []}], "Low", "sets the criticality to Low of every resource."),
        (
            [{"stringFilters": [_resource_string("AccountId", "111122223333")]}],
            "Unknown",
            "sets the criticality to Unknown of every resource whose AccountId match",
        ),
        (
            [
                {
                    "stringFilters": [
                        _resource_string("ResourceType", "AwsS3Bucket"),
                        _resource_string("ResourceId", "arn:aws:s3:::acme-website"),
                    ],
                    "operator": "OR",
                }
            ],
            "Low",
            "of every resource whose ResourceId, ResourceType match",
        ),
    ],
)
def test_a_v2_resource_rule_lowering_a_broad_class_of_resources_is_high_and_disabled(
    composites: list[dict[str, Any]], criticality: str, says: str
) -> None:
    [finding] = _judge(_resource_rule(composites, criticality)).findings
    assert (finding.rule_id, finding.severity) == ("securityhub-disabled", Severity.HIGH)
    assert "made Security Hub in eu-west-1 rank resources' exposures low" in finding.reason
    assert says in finding.reason
    [step] = finding.plan
    assert (step.action, step.parameters) == ("disable_automation_rule_v2", {"rule_arn": RULE_V2})


@pytest.mark.parametrize(
    ("composites", "criticality"),
    [
        ([{"stringFilters": [_resource_string("ResourceId", "arn:aws:s3:::acme-website-logs")]}], "Low"),
        (
            [
                {
                    "mapFilters": [
                        {
                            "fieldName": "ResourceTags",
                            "filter": {"key": "env", "value": "sandbox", "comparison": "EQUALS"},
                        }
                    ]
                }
            ],
            "Unknown",
        ),
        ([{"stringFilters": []}], "High"),  # raised, not lowered
        ([{"stringFilters": []}], "Medium"),
    ],
)
def test_a_v2_resource_rule_naming_resources_or_raising_them_is_compliant(
    composites: list[dict[str, Any]], criticality: str
) -> None:
    assert _judge(_resource_rule(composites, criticality)).verdict is Verdict.COMPLIANT


@pytest.mark.parametrize(
    "criteria",
    [
        # Two composites, one narrow, with no CompositeOperator: read as OR (the broader reading), so broad.
        {
            "compositeFilters": [
                {"stringFilters": [_string("resources.name", "acme-website-bucket")]},
                {"stringFilters": [_string("metadata.product.name", "GuardDuty")]},
            ]
        },
        # Inside one composite, with no Operator.
        {
            "compositeFilters": [
                {
                    "stringFilters": [
                        _string("resources.name", "acme-website-bucket"),
                        _string("metadata.product.name", "GuardDuty"),
                    ]
                }
            ],
            "compositeOperator": "AND",
        },
    ],
    ids=["no-composite-operator", "no-operator"],
)
def test_a_missing_operator_is_read_the_broader_way_but_only_alerted(criteria: dict[str, Any]) -> None:
    """Broad only if Security Hub reads no operator as OR (no documented default): a guess, so never disabled."""
    event = _v2()
    event["detail"]["requestParameters"]["criteria"] = {"ocsfFindingCriteria": criteria}
    [finding] = _judge(event).findings
    assert finding.severity is Severity.CRITICAL
    assert "of every finding of GuardDuty, if Security Hub reads a filter with no operator as OR" in finding.reason
    assert finding.plan == ()
    assert finding.needs_context == (
        "how Security Hub combines filters given no operator (CompositeFilter.Operator or CompositeOperator absent: "
        "AND or OR, no documented default)",
    )


@pytest.mark.parametrize(
    "criteria",
    [
        {"compositeFilters": [{"stringFilters": [_string("metadata.product.name", "GuardDuty")]}]},
        {
            "compositeFilters": [
                {"stringFilters": [_string("metadata.product.name", "GuardDuty")]},
                {"stringFilters": [_string("severity", "Low")]},
            ]
        },
    ],
    ids=["one-member", "two-broad-members"],
)
def test_a_missing_operator_that_both_readings_call_broad_is_disabled(criteria: dict[str, Any]) -> None:
    event = _v2()
    event["detail"]["requestParameters"]["criteria"] = {"ocsfFindingCriteria": criteria}
    [finding] = _judge(event).findings
    assert finding.severity is Severity.CRITICAL
    assert "if Security Hub reads" not in finding.reason
    assert ([step.action for step in finding.plan], finding.needs_context) == (["disable_automation_rule_v2"], ())


def test_a_missing_operator_that_both_readings_call_narrow_is_compliant() -> None:
    composites = [
        {
            "stringFilters": [
                _string("resources.name", "acme-website-bucket"),
                _string("finding_info.uid", "arn:aws:guardduty:eu-west-1:111122223333:detector/x/finding/abc123"),
            ]
        }
    ]
    event = _v2()
    event["detail"]["requestParameters"]["criteria"] = {"ocsfFindingCriteria": {"compositeFilters": composites}}
    assert _judge(event).verdict is Verdict.COMPLIANT


def test_the_same_criteria_with_and_are_narrow() -> None:
    composites = [
        {"stringFilters": [_string("resources.name", "acme-website-bucket")]},
        {"stringFilters": [_string("metadata.product.name", "GuardDuty")]},
    ]
    assert _judge(_v2(composites, operator="AND")).verdict is Verdict.COMPLIANT


def test_api_spelling_is_read_as_well_as_cloudtrail_spelling() -> None:
    """Live reads answer in API spelling (``Criteria.OcsfFindingCriteria...``); the judgement reads both."""
    event = _v2(
        criteria={
            "OcsfFindingCriteria": {
                "CompositeFilters": [
                    {
                        "StringFilters": [
                            {"FieldName": "metadata.product.name", "Filter": {"Value": "Macie", "Comparison": "EQUALS"}}
                        ]
                    }
                ]
            }
        },
        actions=[{"Type": "FINDING_FIELDS_UPDATE", "FindingFieldsUpdate": {"StatusId": 3}}],
    )
    [finding] = _judge(event).findings
    assert "every finding of Macie" in finding.reason


def test_a_suppressing_v2_rule_the_record_does_not_name_is_alerted_with_what_is_unknown() -> None:
    event = copy.deepcopy(load_event(V2_SAMPLE))
    event["detail"]["responseElements"] = None
    [finding] = _judge(event).findings
    assert (finding.severity, finding.plan) == (Severity.CRITICAL, ())
    assert finding.needs_context == ("which automation rule suppress-guardduty is: the record names no ruleArn",)
    assert finding.resource_arn == "arn:aws:securityhub:eu-west-1:111122223333:hub/default"


def test_a_failed_v2_create_is_never_remediated() -> None:
    event = copy.deepcopy(load_event(V2_SAMPLE))
    event["detail"]["errorCode"] = "AccessDeniedException"
    event["detail"]["responseElements"] = None
    judged = _judge(event)
    assert judged.findings == ()
    assert judged.verdict is not Verdict.VIOLATION


def _update(**parameters: Any) -> dict[str, Any]:
    event = copy.deepcopy(load_event(V2_SAMPLE))
    event["detail"]["eventName"] = "UpdateAutomationRuleV2"
    event["detail"]["requestParameters"] = {"identifier": RULE_V2, **parameters}
    event["detail"]["responseElements"] = None
    return event


def test_a_v2_update_carrying_the_whole_rule_is_judged_on_it() -> None:
    request = copy.deepcopy(load_event(V2_SAMPLE))["detail"]["requestParameters"]
    [finding] = _judge(_update(**request)).findings
    assert finding.plan[0].parameters == {"rule_arn": RULE_V2}


def test_a_partial_v2_update_cannot_be_judged_offline_and_one_disabling_is_fine() -> None:
    judged = _judge(_update(ruleOrder=5.0))
    assert judged.verdict is Verdict.IGNORED
    assert "the request changes only part of it" in judged.reason
    assert _judge(_update(ruleStatus="DISABLED")).verdict is Verdict.COMPLIANT


def test_a_v2_update_naming_no_rule_is_invalid() -> None:
    event = _update()
    del event["detail"]["requestParameters"]["identifier"]
    assert _judge(event).verdict is Verdict.INVALID


class _HubV2:
    """Security Hub's ``GetAutomationRuleV2`` as the enforcer's live read sees it (API spelling)."""

    def __init__(self, rules: dict[str, dict[str, Any]], code: str = "") -> None:
        self.rules = rules
        self.code = code
        self.asked: list[str] = []

    def get_automation_rule_v2(self, Identifier: str) -> dict[str, Any]:
        self.asked.append(Identifier)
        if self.code or Identifier not in self.rules:
            error = {"Error": {"Code": self.code or "ResourceNotFoundException", "Message": "no"}}
            raise ClientError(error, "GetAutomationRuleV2")  # type: ignore[arg-type]
        return self.rules[Identifier]


class _Clients:
    def __init__(self, hub: _HubV2) -> None:
        self.hub = hub

    def client(self, service: str) -> _HubV2:
        assert service == "securityhub"
        return self.hub


LIVE_V2 = {
    "RuleArn": RULE_V2,
    "RuleId": "a1b2c3d4-5678-90ab-cdef-EXAMPLE22222",
    "RuleStatus": "ENABLED",
    "RuleName": "all-config",
    "RuleOrder": 1.0,
    "Description": "d",
    "Criteria": {
        "OcsfFindingCriteria": {
            "CompositeFilters": [
                {
                    "StringFilters": [
                        {"FieldName": "metadata.product.name", "Filter": {"Value": "Config", "Comparison": "EQUALS"}}
                    ]
                }
            ]
        }
    },
    "Actions": [{"Type": "FINDING_FIELDS_UPDATE", "FindingFieldsUpdate": {"StatusId": 4}}],
}


def test_a_partial_v2_update_is_judged_on_the_rule_read_live() -> None:
    hub = _HubV2({RULE_V2: LIVE_V2})
    [finding] = _judge(_update(ruleOrder=5.0), live_clients=lambda *_: _Clients(hub)).findings
    assert hub.asked == [RULE_V2]
    assert "V2 automation rule all-config sets the status to Resolved (status_id 4) of every finding of Config" in (
        finding.reason
    )
    assert finding.plan[0].parameters == {"rule_arn": RULE_V2}


def test_a_partial_v2_update_of_a_rule_gone_or_disabled_meanwhile_is_compliant() -> None:
    gone = _judge(_update(ruleOrder=5.0), live_clients=lambda *_: _Clients(_HubV2({})))
    assert gone.verdict is Verdict.COMPLIANT
    disabled = _HubV2({RULE_V2: {**LIVE_V2, "RuleStatus": "DISABLED"}})
    assert _judge(_update(ruleOrder=5.0), live_clients=lambda *_: _Clients(disabled)).verdict is Verdict.COMPLIANT


def test_a_refused_live_read_of_a_partial_v2_update_is_alerted_as_not_judged() -> None:
    hub = _HubV2({}, code="AccessDeniedException")
    judged = _judge(_update(ruleOrder=5.0), live_clients=lambda *_: _Clients(hub))
    assert judged.verdict is Verdict.IGNORED
    [unreadable] = judged.unjudged
    assert unreadable.plan == ()
    assert "GetAutomationRuleV2" in unreadable.reason
    assert "AccessDeniedException" in unreadable.reason


def test_a_throttled_live_read_of_a_partial_v2_update_is_retried() -> None:
    hub = _HubV2({}, code="ThrottlingException")
    with pytest.raises(TransientAwsError):
        _judge(_update(ruleOrder=5.0), live_clients=lambda *_: _Clients(hub))


# Member accounts dropped from the administrator (Security Hub and GuardDuty)


def test_security_hub_members_deleted_are_alerted_with_the_way_back() -> None:
    [finding] = _judge(load_event("securityhub-delete-members.json")).findings

    assert (finding.rule_id, finding.severity, finding.plan) == ("securityhub-disabled", Severity.CRITICAL, ())
    assert "deleted member accounts 444455556666, 555566667777 from Security Hub's administrator" in finding.reason
    assert (
        "aws securityhub create-members --account-details AccountId=444455556666 AccountId=555566667777, then "
        "aws securityhub invite-members --account-ids 444455556666 555566667777"
    ) in finding.reason
    assert "invited member must accept again" in finding.reason


def test_security_hub_members_disassociated_name_both_ways_back() -> None:
    event = copy.deepcopy(load_event("securityhub-delete-members.json"))
    event["detail"]["eventName"] = "DisassociateMembers"
    [finding] = _judge(event).findings
    assert "took member accounts 444455556666, 555566667777 away from" in finding.reason
    assert "an organisation's member: aws securityhub create-members --account-details AccountId=444455556666" in (
        finding.reason
    )


@pytest.mark.parametrize(
    ("file", "name"),
    [
        ("securityhub-delete-members.json", "DeleteMembers"),
        ("securityhub-delete-members.json", "DisassociateMembers"),
        ("guardduty-delete-members.json", "DeleteMembers"),
        ("guardduty-delete-members.json", "DisassociateMembers"),
    ],
)
def test_members_the_service_refused_to_drop_are_not_alerted_as_dropped(file: str, name: str) -> None:
    event = copy.deepcopy(load_event(file))
    event["detail"]["eventName"] = name
    event["detail"]["requestParameters"]["accountIds"] = ["444455556666", "555566667777"]
    event["detail"]["responseElements"] = {
        "unprocessedAccounts": [{"accountId": "555566667777", "processingResult": "not a member"}]
    }
    [finding] = _judge(event).findings
    assert "444455556666" in finding.reason
    assert "555566667777" not in finding.reason
    event["detail"]["responseElements"]["unprocessedAccounts"].append({"accountId": "444455556666"})
    assert _judge(event).verdict is Verdict.COMPLIANT


@pytest.mark.parametrize("file", ["securityhub-delete-members.json", "guardduty-delete-members.json"])
def test_a_member_call_naming_no_account_is_invalid(file: str) -> None:
    event = copy.deepcopy(load_event(file))
    event["detail"]["requestParameters"]["accountIds"] = []
    assert _judge(event).verdict is Verdict.INVALID


@pytest.mark.parametrize("file", ["securityhub-delete-members.json", "guardduty-delete-members.json"])
def test_a_failed_member_call_is_never_alerted(file: str) -> None:
    event = copy.deepcopy(load_event(file))
    event["detail"]["errorCode"] = "AccessDeniedException"
    assert _judge(event).findings == ()


def test_guardduty_members_deleted_need_their_email_to_come_back() -> None:
    [finding] = _judge(load_event("guardduty-delete-members.json")).findings
    assert (finding.rule_id, finding.severity, finding.plan) == ("guardduty-disabled", Severity.CRITICAL, ())
    assert "took 444455556666 out of GuardDuty detector 12abc34d567e8fa901bc2d34e56789f0" in finding.reason
    assert (
        "aws guardduty create-members --detector-id 12abc34d567e8fa901bc2d34e56789f0 --account-details "
        "AccountId=444455556666,Email=<its email>; an invited member then needs aws guardduty invite-members"
    ) in finding.reason


def test_guardduty_members_disassociated_keep_their_details_when_invited() -> None:
    event = copy.deepcopy(load_event("guardduty-delete-members.json"))
    event["detail"]["eventName"] = "DisassociateMembers"
    [finding] = _judge(event).findings
    assert "(its email: aws guardduty get-members --detector-id 12abc34d567e8fa901bc2d34e56789f0" in finding.reason
    assert (
        "an invited member: aws guardduty invite-members --detector-id 12abc34d567e8fa901bc2d34e56789f0 "
        "--account-ids 444455556666, then accept"
    ) in finding.reason


# GuardDuty filters that archive findings

DETECTOR = "12abc34d567e8fa901bc2d34e56789f0"
FILTER_ARN = f"arn:aws:guardduty:eu-west-1:111122223333:detector/{DETECTOR}/filter/quiet"


def _filter_update(**parameters: Any) -> dict[str, Any]:
    event = copy.deepcopy(load_event("guardduty-filter-archive-all.json"))
    event["detail"]["eventName"] = "UpdateFilter"
    event["detail"]["requestParameters"] = {"detectorId": DETECTOR, "filterName": "quiet", **parameters}
    return event


def test_a_new_filter_archiving_every_finding_is_set_to_noop() -> None:
    [finding] = _judge(load_event("guardduty-filter-archive-all.json")).findings
    assert (finding.severity, finding.resource_arn) == (Severity.CRITICAL, FILTER_ARN)
    [step] = finding.plan
    assert (step.action, step.target) == ("stop_guardduty_filter_archiving", FILTER_ARN)
    assert step.parameters == {"detector_id": DETECTOR, "filter_name": "quiet"}
    assert f"update-filter --detector-id {DETECTOR} --filter-name quiet --action NOOP" in finding.reason


@pytest.mark.parametrize(
    "criterion",
    [{"severity": {"gt": 0}}, {"severity": {"greaterThanOrEqual": 0}}, {"severity": {"Gte": 0}}, {}],
)
def test_every_spelling_of_every_finding_is_remediated(criterion: dict[str, Any]) -> None:
    event = copy.deepcopy(load_event("guardduty-filter-archive-all.json"))
    event["detail"]["requestParameters"]["findingCriteria"] = {"criterion": criterion}
    [finding] = _judge(event).findings
    assert finding.plan[0].action == "stop_guardduty_filter_archiving"


def test_a_new_filter_archiving_some_findings_is_high_and_left() -> None:
    event = copy.deepcopy(load_event("guardduty-filter-archive-all.json"))
    event["detail"]["requestParameters"]["findingCriteria"] = {
        "criterion": {"type": {"eq": ["Recon:EC2/PortProbeUnprotectedPort"]}}
    }
    [finding] = _judge(event).findings
    assert (finding.severity, finding.plan) == (Severity.HIGH, ())
    assert "it may be meant (known noise)" in finding.reason


def test_an_update_making_a_filter_archive_every_finding_is_critical_but_alerted_only() -> None:
    [finding] = _judge(
        _filter_update(action="ARCHIVE", findingCriteria={"criterion": {"severity": {"gte": 0}}})
    ).findings
    assert (finding.severity, finding.plan) == (Severity.CRITICAL, ())
    assert "what the filter archived before this update is not in the record" in finding.reason


def test_an_update_setting_noop_is_fine_and_one_leaving_the_action_out_cannot_be_judged_offline() -> None:
    assert _judge(_filter_update(action="NOOP")).verdict is Verdict.COMPLIANT
    judged = _judge(_filter_update(findingCriteria={"criterion": {"severity": {"gte": 0}}}))
    assert judged.verdict is Verdict.IGNORED
    assert "the update leaves its action or criteria as they were" in judged.reason


def test_a_filter_named_by_no_name_is_invalid() -> None:
    event = _filter_update(action="ARCHIVE", findingCriteria={})
    del event["detail"]["requestParameters"]["filterName"]
    assert _judge(event).verdict is Verdict.INVALID


class _GuardDuty:
    """GuardDuty's ``GetFilter`` as the enforcer's live read sees it (API spelling), or refusing with ``code``."""

    def __init__(self, found: dict[str, Any] | None, code: str = "") -> None:
        self.found = found
        self.code = code
        self.asked: list[tuple[str, str]] = []

    def get_filter(self, DetectorId: str, FilterName: str) -> dict[str, Any]:
        self.asked.append((DetectorId, FilterName))
        if self.code or self.found is None:
            error = {"Error": {"Code": self.code or "BadRequestException", "Message": "no"}}
            raise ClientError(error, "GetFilter")  # type: ignore[arg-type]
        return self.found


class _GuardDutyClients:
    def __init__(self, guardduty: _GuardDuty) -> None:
        self.guardduty = guardduty

    def client(self, service: str) -> _GuardDuty:
        assert service == "guardduty"
        return self.guardduty


def _live(guardduty: _GuardDuty) -> Any:
    return lambda *_: _GuardDutyClients(guardduty)


def test_an_update_widening_an_archiving_filter_is_judged_on_its_action_read_live() -> None:
    """Only the criteria change: the filter's ARCHIVE action, left out of the request, is read live."""
    guardduty = _GuardDuty({"Name": "quiet", "Action": "ARCHIVE", "FindingCriteria": {"Criterion": {}}})
    event = _filter_update(findingCriteria={"criterion": {"severity": {"gte": 0}}})
    [finding] = _judge(event, live_clients=_live(guardduty)).findings
    assert guardduty.asked == [(DETECTOR, "quiet")]
    assert (finding.severity, finding.plan) == (Severity.CRITICAL, ())
    noop = _GuardDuty({"Name": "quiet", "Action": "NOOP", "FindingCriteria": {"Criterion": {}}})
    assert _judge(event, live_clients=_live(noop)).verdict is Verdict.COMPLIANT


def test_an_update_setting_archive_is_judged_on_the_criteria_read_live() -> None:
    narrow = {"Criterion": {"type": {"Eq": ["Recon:EC2/PortProbeUnprotectedPort"]}}}
    guardduty = _GuardDuty({"Name": "quiet", "Action": "NOOP", "FindingCriteria": narrow})
    [finding] = _judge(_filter_update(action="ARCHIVE"), live_clients=_live(guardduty)).findings
    assert finding.severity is Severity.HIGH


def test_an_update_of_a_filter_gone_meanwhile_is_compliant_and_a_refused_read_is_not_judged() -> None:
    event = _filter_update(action="ARCHIVE")
    assert _judge(event, live_clients=_live(_GuardDuty(None))).verdict is Verdict.COMPLIANT
    judged = _judge(event, live_clients=_live(_GuardDuty(None, code="AccessDeniedException")))
    assert judged.verdict is Verdict.IGNORED
    [unreadable] = judged.unjudged
    assert "GetFilter" in unreadable.reason
    with pytest.raises(TransientAwsError):
        _judge(event, live_clients=_live(_GuardDuty(None, code="ThrottlingException")))


def test_a_failed_create_filter_is_never_remediated() -> None:
    event = copy.deepcopy(load_event("guardduty-filter-archive-all.json"))
    event["detail"]["errorCode"] = "BadRequestException"
    assert _judge(event).findings == ()


# GuardDuty Malware Protection

PLAN_ARN = "arn:aws:guardduty:eu-west-1:111122223333:malware-protection-plan/b4c7f464ab3a4EXAMPLE"


def test_a_deleted_malware_protection_plan_is_high_with_the_way_back() -> None:
    [finding] = _judge(load_event("guardduty-malware-plan-deleted.json")).findings
    assert (finding.rule_id, finding.severity, finding.plan) == ("guardduty-disabled", Severity.HIGH, ())
    assert finding.resource_arn == PLAN_ARN
    assert "aws guardduty create-malware-protection-plan --role <its role ARN>" in finding.reason


def test_a_plan_that_tags_nothing_and_scans_a_prefix_is_medium_naming_both() -> None:
    [finding] = _judge(load_event("guardduty-malware-plan-tagging-off.json")).findings
    assert (finding.severity, finding.resource_arn, finding.plan) == (Severity.MEDIUM, PLAN_ARN, ())
    assert "no longer tags scanned objects" in finding.reason
    assert "scans only objects under incoming/" in finding.reason
    assert "--actions Tagging={Status=ENABLED} --protected-resource" in finding.reason


@pytest.mark.parametrize(
    "request_parameters",
    [
        {"actions": {"tagging": {"status": "ENABLED"}}},
        {"role": "arn:aws:iam::111122223333:role/malware-scan"},
        {"protectedResource": {"s3Bucket": {"objectPrefixes": []}}},
    ],
)
def test_a_plan_update_that_narrows_nothing_is_fine(request_parameters: dict[str, Any]) -> None:
    event = copy.deepcopy(load_event("guardduty-malware-plan-tagging-off.json"))
    event["detail"]["requestParameters"] = {"malwareProtectionPlanId": "b4c7f464ab3a4EXAMPLE", **request_parameters}
    assert _judge(event).verdict is Verdict.COMPLIANT


def test_a_plan_update_only_limiting_prefixes_offers_only_that_way_back() -> None:
    event = copy.deepcopy(load_event("guardduty-malware-plan-tagging-off.json"))
    del event["detail"]["requestParameters"]["actions"]
    [finding] = _judge(event).findings
    assert "Tagging" not in finding.reason
    assert "ObjectPrefixes" in finding.reason


def test_ebs_scans_skipping_tagged_volumes_are_medium() -> None:
    [finding] = _judge(load_event("guardduty-malware-scan-settings-exclude.json")).findings
    assert (finding.severity, finding.plan) == (Severity.MEDIUM, ())
    assert "skip the volumes of instances tagged scan=skip" in finding.reason


@pytest.mark.parametrize(
    ("criteria", "verdict"),
    [
        ({"include": {"EC2_INSTANCE_TAG": {"mapEquals": [{"key": "scan"}]}}}, Verdict.VIOLATION),
        ({}, Verdict.COMPLIANT),
        ({"exclude": {}}, Verdict.COMPLIANT),
        (None, Verdict.COMPLIANT),
    ],
)
def test_ebs_scan_settings_narrow_only_with_tags(criteria: dict[str, Any] | None, verdict: Verdict) -> None:
    event = copy.deepcopy(load_event("guardduty-malware-scan-settings-exclude.json"))
    event["detail"]["requestParameters"] = {"detectorId": DETECTOR, "ebsSnapshotPreservation": "NO_RETENTION"}
    if criteria is not None:
        event["detail"]["requestParameters"]["scanResourceCriteria"] = criteria
    assert _judge(event).verdict is verdict


@pytest.mark.parametrize(
    "file",
    [
        "guardduty-malware-plan-deleted.json",
        "guardduty-malware-plan-tagging-off.json",
        "guardduty-malware-scan-settings-exclude.json",
    ],
)
def test_a_failed_malware_call_is_never_alerted(file: str) -> None:
    event = copy.deepcopy(load_event(file))
    event["detail"]["errorCode"] = "AccessDeniedException"
    assert _judge(event).findings == ()


def test_a_plan_call_naming_no_plan_is_invalid() -> None:
    event = copy.deepcopy(load_event("guardduty-malware-plan-deleted.json"))
    event["detail"]["requestParameters"] = {}
    assert _judge(event).verdict is Verdict.INVALID


# GuardDuty's administrator: member detectors' protection plans, the delegated administrator


def _member_detectors(**parameters: Any) -> dict[str, Any]:
    event = copy.deepcopy(load_event("guardduty-stop-monitoring-members.json"))
    event["detail"]["eventName"] = "UpdateMemberDetectors"
    event["detail"]["requestParameters"] = {"detectorId": DETECTOR, "accountIds": ["444455556666"], **parameters}
    event["detail"]["responseElements"] = {"unprocessedAccounts": []}
    return event


def test_protection_plans_switched_off_on_member_detectors_are_medium_naming_the_members() -> None:
    event = _member_detectors(features=[{"name": "S3_DATA_EVENTS", "status": "DISABLED"}])
    [finding] = _judge(event).findings
    assert (finding.severity, finding.plan) == (Severity.MEDIUM, ())
    assert "S3_DATA_EVENTS off for member accounts 444455556666" in finding.reason
    assert (
        f"aws guardduty update-member-detectors --detector-id {DETECTOR} --account-ids 444455556666 "
        "--features Name=S3_DATA_EVENTS,Status=ENABLED"
    ) in finding.reason


def test_member_detectors_switched_on_or_refused_are_fine() -> None:
    assert _judge(_member_detectors(features=[{"name": "S3_DATA_EVENTS", "status": "ENABLED"}])).verdict is (
        Verdict.COMPLIANT
    )
    refused = _member_detectors(features=[{"name": "S3_DATA_EVENTS", "status": "DISABLED"}])
    refused["detail"]["responseElements"] = {"unprocessedAccounts": [{"accountId": "444455556666", "result": "no"}]}
    assert _judge(refused).verdict is Verdict.COMPLIANT


def test_guardduty_delegated_administrator_removed_is_critical_with_the_way_back() -> None:
    event = copy.deepcopy(load_event("securityhub-disable-organization-admin.json"))
    event["source"] = "aws.guardduty"
    event["detail"]["eventSource"] = "guardduty.amazonaws.com"
    [finding] = _judge(event).findings
    assert (finding.rule_id, finding.severity, finding.plan) == ("guardduty-disabled", Severity.CRITICAL, ())
    assert finding.resource_arn == "arn:aws:iam::111122223333:root"  # the management account
    assert "aws guardduty enable-organization-admin-account --admin-account-id 444455556666" in finding.reason
    event["detail"]["requestParameters"] = {}
    assert _judge(event).verdict is Verdict.INVALID


# The 2025 Security Hub (V2) switched off


def test_security_hub_v2_disabled_is_critical_and_enabled_again() -> None:
    [finding] = _judge(load_event("securityhub-v2-disabled.json")).findings
    assert (finding.rule_id, finding.severity) == ("securityhub-disabled", Severity.CRITICAL)
    [step] = finding.plan
    assert (step.action, step.parameters) == ("enable_security_hub_v2", {"region": "eu-west-1"})
    assert "not the features (the record does not say which were on)" in finding.reason


def test_a_security_hub_v2_feature_switched_off_is_high_and_alerted() -> None:
    event = copy.deepcopy(load_event("securityhub-v2-disabled.json"))
    event["detail"]["eventName"] = "DisableSecurityHubFeatureV2"
    event["detail"]["requestParameters"] = {"featureName": "NETWORK_SCANNING"}
    [finding] = _judge(event).findings
    assert (finding.severity, finding.plan) == (Severity.HIGH, ())
    assert "aws securityhub enable-security-hub-feature-v2 --feature-name NETWORK_SCANNING" in finding.reason
    event["detail"]["requestParameters"] = {}
    assert _judge(event).verdict is Verdict.INVALID


def test_a_failed_security_hub_v2_disable_is_never_remediated() -> None:
    event = copy.deepcopy(load_event("securityhub-v2-disabled.json"))
    event["detail"]["errorCode"] = "AccessDeniedException"
    assert _judge(event).findings == ()


def _trusted_entities(event_name: str, **parameters: Any) -> dict[str, Any]:
    event = copy.deepcopy(load_event("guardduty-trusted-ip-list.json"))
    event["detail"]["eventName"] = event_name
    event["detail"]["requestParameters"] = {"detectorId": DETECTOR, **parameters}
    event["detail"]["responseElements"] = {"trustedEntitySetId": "0cb0141ab9fbde177613ab9436EXAMPLE"}
    return event


def test_a_trusted_entity_list_activated_is_high_as_a_trusted_ip_list_is() -> None:
    event = _trusted_entities(
        "CreateTrustedEntitySet", name="office", format="TXT", location="https://s3.amazonaws.com/b/o", activate=True
    )
    [finding] = _judge(event).findings
    assert (finding.severity, finding.plan) == (Severity.HIGH, ())
    assert "activated the trusted entity list 0cb0141ab9fbde177613ab9436EXAMPLE" in finding.reason
    assert f"update-trusted-entity-set --detector-id {DETECTOR} --trusted-entity-set-id <its id> --no-activate" in (
        finding.reason
    )


def test_a_trusted_entity_list_not_activated_is_fine() -> None:
    event = _trusted_entities("UpdateTrustedEntitySet", trustedEntitySetId="0cb0", activate=False)
    assert _judge(event).verdict is Verdict.COMPLIANT
