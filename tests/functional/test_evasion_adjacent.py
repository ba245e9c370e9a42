"""The adjacent evasion moves' remediations, run by the enforcer as Lambda wires it and undone with ``iamwarden
undo``'s executor (issue 15 item 3).

moto has no GuardDuty members, Security Hub automation rules or CloudTrail Lake: the botocore Stubber checks
every call and its parameters against the real API model, in order. Organizations' policies need no AWS call: the
content a ``CreatePolicy`` wrote is kept in the audit table (moto's DynamoDB) and judges its ``AttachPolicy``.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from botocore.stub import Stubber

from iamwarden.app.service import EnforcementFailedError, EnforcerService
from iamwarden.domain.exceptions import UndoError
from iamwarden.domain.findings import Outcome
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier

OPERATOR = f"arn:aws:iam::{HOME_ACCOUNT}:user/secops"
REGION = "eu-west-1"
DETECTOR = "12abc34d567e8fa901bc2d34e56789f0"
MEMBER = "444455556666"
RULE = f"arn:aws:securityhub:{REGION}:{HOME_ACCOUNT}:automation-rule/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"
STORE = f"arn:aws:cloudtrail:{REGION}:{HOME_ACCOUNT}:eventdatastore/EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE"


def _only(result: dict[str, Any]) -> dict[str, Any]:
    [finding] = result["findings"]
    return dict(finding)


def _members(status: str) -> dict[str, Any]:
    member = {
        "AccountId": MEMBER,
        "MasterId": HOME_ACCOUNT,
        "Email": "member@example.com",
        "RelationshipStatus": status,
        "UpdatedAt": "2026-11-20T09:21:07Z",
    }
    return {"Members": [member], "UnprocessedAccounts": []}


def _client(enforcer: EnforcerService, service: str) -> Any:
    return enforcer.executor.clients.client(service, HOME_ACCOUNT, REGION)


def test_members_no_longer_monitored_are_monitored_again_and_undo_stops_them(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("rules/guardduty-disabled/mode", "remediate")
    asked = {"DetectorId": DETECTOR, "AccountIds": [MEMBER]}
    with Stubber(_client(enforcer, "guardduty")) as stubber:
        stubber.add_response("get_members", _members("Disabled"), asked)
        stubber.add_response("start_monitoring_members", {"UnprocessedAccounts": []}, asked)
        finding = _only(enforcer.handle(load_event("guardduty-stop-monitoring-members.json")))
        stubber.assert_no_pending_responses()
        stubber.add_response("get_members", _members("Enabled"), asked)
        stubber.add_response("stop_monitoring_members", {"UnprocessedAccounts": []}, asked)
        undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
        stubber.assert_no_pending_responses()

    assert finding["outcome"] == Outcome.REMEDIATED
    assert finding["done"] == [f"started monitoring GuardDuty member accounts {MEMBER} again"]
    assert list(undo.restored) == [f"stopped monitoring GuardDuty member accounts {MEMBER} again, as before"]
    [alert] = notifier.sent
    assert alert.finding is not None
    assert alert.finding.severity.value == "critical"


def test_members_monitored_again_meanwhile_are_left_alone(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/guardduty-disabled/mode", "remediate")
    with Stubber(_client(enforcer, "guardduty")) as stubber:
        stubber.add_response("get_members", _members("Enabled"), {"DetectorId": DETECTOR, "AccountIds": [MEMBER]})
        finding = _only(enforcer.handle(load_event("guardduty-stop-monitoring-members.json")))
        stubber.assert_no_pending_responses()

    assert (finding["outcome"], finding["done"]) == (Outcome.REMEDIATED, [])


@pytest.mark.parametrize("status", ["Created", "Invited", "Resigned"])
def test_members_the_event_did_not_leave_stopped_are_not_started(
    account: Account, enforcer: EnforcerService, status: str
) -> None:
    account.set("rules/guardduty-disabled/mode", "remediate")
    with Stubber(_client(enforcer, "guardduty")) as stubber:  # a start_monitoring_members call fails the Stubber
        stubber.add_response("get_members", _members(status), {"DetectorId": DETECTOR, "AccountIds": [MEMBER]})
        finding = _only(enforcer.handle(load_event("guardduty-stop-monitoring-members.json")))
        stubber.assert_no_pending_responses()

    assert (finding["outcome"], finding["done"]) == (Outcome.REMEDIATED, [])


def test_a_member_guardduty_refuses_fails_the_remediation_naming_it(
    account: Account, enforcer: EnforcerService
) -> None:
    account.set("rules/guardduty-disabled/mode", "remediate")
    asked = {"DetectorId": DETECTOR, "AccountIds": [MEMBER]}
    refused = {"UnprocessedAccounts": [{"AccountId": MEMBER, "Result": "The account is not a member"}]}
    with Stubber(_client(enforcer, "guardduty")) as stubber:
        stubber.add_response("get_members", _members("Disabled"), asked)
        stubber.add_response("start_monitoring_members", refused, asked)
        with pytest.raises(EnforcementFailedError, match="The account is not a member"):
            enforcer.handle(load_event("guardduty-stop-monitoring-members.json"))
        stubber.assert_no_pending_responses()


def test_alert_mode_only_alerts(account: Account, enforcer: EnforcerService) -> None:
    with Stubber(_client(enforcer, "guardduty")) as stubber:  # no call expected: any call fails the Stubber
        finding = _only(enforcer.handle(load_event("guardduty-stop-monitoring-members.json")))
        stubber.assert_no_pending_responses()
    assert finding["outcome"] == Outcome.ALERTED


def _rule(status: str) -> dict[str, Any]:
    return {
        "Rules": [
            {
                "RuleArn": RULE,
                "RuleStatus": status,
                "RuleOrder": 1,
                "RuleName": "noise-reduction",
                "Description": "Suppress GuardDuty noise",
            }
        ],
        "UnprocessedAutomationRules": [],
    }


def test_a_suppressing_automation_rule_is_disabled_and_undo_enables_it(
    account: Account, enforcer: EnforcerService
) -> None:
    account.set("rules/securityhub-disabled/mode", "remediate")
    read = {"AutomationRulesArns": [RULE]}

    def status(value: str) -> dict[str, Any]:
        return {"UpdateAutomationRulesRequestItems": [{"RuleArn": RULE, "RuleStatus": value}]}

    with Stubber(_client(enforcer, "securityhub")) as stubber:
        stubber.add_response("batch_get_automation_rules", _rule("ENABLED"), read)
        stubber.add_response("batch_update_automation_rules", {"ProcessedAutomationRules": [RULE]}, status("DISABLED"))
        finding = _only(enforcer.handle(load_event("securityhub-automation-rule-suppress-guardduty.json")))
        stubber.assert_no_pending_responses()
        stubber.add_response("batch_get_automation_rules", _rule("DISABLED"), read)
        stubber.add_response("batch_update_automation_rules", {"ProcessedAutomationRules": [RULE]}, status("ENABLED"))
        undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
        stubber.assert_no_pending_responses()

    assert finding["outcome"] == Outcome.REMEDIATED
    assert finding["done"] == [f"disabled Security Hub automation rule {RULE}"]
    assert list(undo.restored) == [f"enabled Security Hub automation rule {RULE} again, as before"]


def test_undo_of_a_deleted_automation_rule_says_so(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/securityhub-disabled/mode", "remediate")
    read = {"AutomationRulesArns": [RULE]}
    with Stubber(_client(enforcer, "securityhub")) as stubber:
        stubber.add_response("batch_get_automation_rules", _rule("ENABLED"), read)
        stubber.add_response("batch_update_automation_rules", {"ProcessedAutomationRules": [RULE]})
        finding = _only(enforcer.handle(load_event("securityhub-automation-rule-suppress-guardduty.json")))
        stubber.add_response("batch_get_automation_rules", {"Rules": [], "UnprocessedAutomationRules": []}, read)
        with pytest.raises(UndoError, match="no longer exists"):
            enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)


def _store(status: str) -> dict[str, Any]:
    return {"EventDataStoreArn": STORE, "Name": "org-lake", "Status": status}


def test_stopped_ingestion_is_started_and_undo_stops_it(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/cloudtrail-logging-impaired/mode", "remediate")
    named = {"EventDataStore": STORE}
    with Stubber(_client(enforcer, "cloudtrail")) as stubber:
        stubber.add_response("get_event_data_store", _store("STOPPED_INGESTION"), named)
        stubber.add_response("start_event_data_store_ingestion", {}, named)
        finding = _only(enforcer.handle(load_event("cloudtrail-lake-stop-ingestion.json")))
        stubber.assert_no_pending_responses()
        stubber.add_response("get_event_data_store", _store("ENABLED"), named)
        stubber.add_response("stop_event_data_store_ingestion", {}, named)
        undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
        stubber.assert_no_pending_responses()

    assert finding["done"] == [f"started ingestion of event data store {STORE}"]
    assert list(undo.restored) == [f"stopped ingestion of event data store {STORE} again, as before"]


def test_a_store_gone_before_the_remediation_is_already_done(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/cloudtrail-logging-impaired/mode", "remediate")
    with Stubber(_client(enforcer, "cloudtrail")) as stubber:
        stubber.add_client_error("get_event_data_store", "EventDataStoreNotFoundException", http_status_code=400)
        finding = _only(enforcer.handle(load_event("cloudtrail-lake-stop-ingestion.json")))
        stubber.assert_no_pending_responses()

    assert (finding["outcome"], finding["done"]) == (Outcome.REMEDIATED, [])


def test_the_content_a_create_policy_wrote_judges_its_attach(account: Account, enforcer: EnforcerService) -> None:
    """CreatePolicy is alerted and its content kept (whatever the verdict); AttachPolicy is judged on it."""
    created = _only(enforcer.handle(copy.deepcopy(load_event("organizations-scp-deny-audit.json"))))
    result = enforcer.handle(copy.deepcopy(load_event("organizations-scp-attach.json")))
    attached = _only(result)

    assert created["outcome"] == attached["outcome"] == Outcome.ALERTED
    assert attached["rule"] == "scp-blinds-iamwarden"
    assert "under target ou-a1b2-c3d4e5f6" in result["reason"]
    assert "aws organizations detach-policy --policy-id p-0bl1nd5e --target-id ou-a1b2-c3d4e5f6" in result["reason"]


def test_an_attach_of_a_policy_never_seen_written_is_alerted_with_its_content_unknown(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    finding = _only(enforcer.handle(copy.deepcopy(load_event("organizations-scp-attach.json"))))
    assert finding["outcome"] == Outcome.ALERTED
    [alert] = notifier.sent
    assert alert.finding is not None
    assert alert.finding.severity.value == "medium"
    assert "and not this one's" in alert.finding.needs_context[0]
