"""organization-left from the management account: Organizations' AccountDepartedOrganization service event.

The member's own LeaveOrganization may never reach the central bus (the bus admits the organisation's accounts,
which the member has just left); the management account records the departure as an AWS service event
("AWS Service Event via CloudTrail", eventType AwsServiceEvent). The sample is events/organizations-account-
departed.json (its sources are in events/README.md).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from iamwarden.backtest.domain.records import envelope
from iamwarden.domain.catalog import Severity
from iamwarden.domain.events import CLOUDTRAIL_API_CALL, CLOUDTRAIL_SERVICE_EVENT, parse_event
from iamwarden.domain.exceptions import InvalidEventError
from iamwarden.domain.findings import Verdict
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event

MANAGEMENT = "111122223333"
DEPARTED = "444455556666"
SAMPLE = "organizations-account-departed.json"


def departed(**details: Any) -> dict[str, Any]:
    """The sample with ``serviceEventDetails`` keys replaced (a value of ... deletes the key)."""
    event = copy.deepcopy(load_event(SAMPLE))
    for key, value in details.items():
        if value is ...:
            event["detail"]["serviceEventDetails"].pop(key, None)
        else:
            event["detail"]["serviceEventDetails"][key] = value
    return event


# --- parsing: both detail-types, and the record must agree with its envelope ------------------------------


def test_a_service_event_parses_with_its_details_and_no_request() -> None:
    change = parse_event(load_event(SAMPLE))
    assert change.service_event
    assert change.service_event_details == {
        "accountId": DEPARTED,
        "departureMethod": "LEFT",
        "departureTime": "Nov 20, 2026 9:13:41 AM",
    }
    assert change.request_parameters == {}
    assert (change.account, change.region) == (MANAGEMENT, "us-east-1")
    assert change.actor.invoked_by == "organizations.amazonaws.com"
    assert change.actor.display == "organizations.amazonaws.com"  # no principal: the service names itself


def test_an_api_call_is_no_service_event() -> None:
    change = parse_event(load_event("organizations-leave.json"))
    assert not change.service_event
    assert change.service_event_details == {}


@pytest.mark.parametrize(
    ("detail_type", "event_type", "message"),
    [
        (CLOUDTRAIL_SERVICE_EVENT, "AwsApiCall", r"detail.eventType is 'AwsApiCall', not 'AwsServiceEvent'"),
        (CLOUDTRAIL_SERVICE_EVENT, ..., r"detail.eventType is None, not 'AwsServiceEvent'"),
        (CLOUDTRAIL_API_CALL, "AwsServiceEvent", r"but the event's detail-type is 'AWS API Call via CloudTrail'"),
    ],
    ids=["service-envelope-api-record", "service-envelope-no-event-type", "api-envelope-service-record"],
)
def test_an_envelope_and_a_record_that_disagree_are_invalid(detail_type: str, event_type: Any, message: str) -> None:
    event = copy.deepcopy(load_event(SAMPLE))
    event["detail-type"] = detail_type
    if event_type is ...:
        del event["detail"]["eventType"]
    else:
        event["detail"]["eventType"] = event_type
    with pytest.raises(InvalidEventError, match=message):
        parse_event(event)
    assert judge_event(event, Settings()).verdict is Verdict.INVALID


def test_service_event_details_must_be_an_object() -> None:
    event = copy.deepcopy(load_event(SAMPLE))
    event["detail"]["serviceEventDetails"] = json.dumps(event["detail"]["serviceEventDetails"])
    with pytest.raises(InvalidEventError, match=r"detail.serviceEventDetails must be a JSON object, got a string"):
        parse_event(event)


def test_other_detail_types_stay_invalid() -> None:
    event = copy.deepcopy(load_event(SAMPLE))
    event["detail-type"] = "AWS Console Sign In via CloudTrail"
    with pytest.raises(InvalidEventError, match=r"nor 'AWS Service Event via CloudTrail'"):
        parse_event(event)


# --- the engine: each kind reaches only the rules that expect it, with the same checks -------------------


def test_the_departure_is_a_critical_finding_naming_the_account_that_left(example_settings: Settings) -> None:
    judgement = judge_event(load_event(SAMPLE), example_settings)
    assert judgement.verdict is Verdict.VIOLATION
    [finding] = judgement.findings
    assert (finding.rule_id, finding.severity, finding.plan, finding.needs_context) == (
        "organization-left",
        Severity.CRITICAL,
        (),
        (),
    )
    assert finding.resource_arn == f"arn:aws:organizations::{MANAGEMENT}:account/o-a1b2c3d4e5/{DEPARTED}"
    assert finding.account == MANAGEMENT
    assert f"account {DEPARTED} left the organisation" in finding.reason
    assert "Nov 20, 2026 9:13:41 AM" in finding.reason


def test_without_an_organisation_id_the_arn_still_names_the_management_account() -> None:
    [finding] = judge_event(load_event(SAMPLE), Settings()).findings
    assert finding.resource_arn == f"arn:aws:organizations::{MANAGEMENT}:account/{DEPARTED}"


def test_the_api_call_of_that_name_is_not_guarded() -> None:
    """Only Organizations records AccountDepartedOrganization, as a service event: an API call of that name is no
    departure, and the rule that expects the service event never sees it."""
    event = copy.deepcopy(load_event(SAMPLE))
    event["detail-type"] = CLOUDTRAIL_API_CALL
    event["detail"]["eventType"] = "AwsApiCall"
    judgement = judge_event(event, Settings())
    assert judgement.verdict is Verdict.IGNORED
    assert judgement.reason == "not guarded: no rule covers organizations.amazonaws.com AccountDepartedOrganization"


def test_a_service_event_named_like_a_guarded_api_call_is_not_guarded() -> None:
    event = copy.deepcopy(load_event(SAMPLE))
    event["detail"]["eventName"] = "LeaveOrganization"
    judgement = judge_event(event, Settings())
    assert judgement.verdict is Verdict.IGNORED
    assert judgement.reason == (
        "not guarded: no rule covers organizations.amazonaws.com LeaveOrganization as an AWS service event"
    )


def test_a_failed_service_event_changed_nothing() -> None:
    event = copy.deepcopy(load_event(SAMPLE))
    event["detail"]["errorCode"] = "InternalFailure"
    judgement = judge_event(event, Settings())
    assert (judgement.verdict, judgement.reason) == (
        Verdict.IGNORED,
        "failed call (InternalFailure): it changed nothing",
    )


def test_a_service_event_claiming_another_recipient_is_rejected() -> None:
    event = copy.deepcopy(load_event(SAMPLE))
    event["detail"]["recipientAccountId"] = DEPARTED
    judgement = judge_event(event, Settings())
    assert judgement.verdict is Verdict.INVALID
    assert judgement.rejected


def test_a_service_identity_typed_aws_service_is_still_judged() -> None:
    """A service event is the service's own record by definition: "made by an AWS service" does not drop it."""
    event = copy.deepcopy(load_event(SAMPLE))
    event["detail"]["userIdentity"]["type"] = "AWSService"
    assert judge_event(event, Settings()).verdict is Verdict.VIOLATION
    api_call = copy.deepcopy(load_event("organizations-leave.json"))
    api_call["detail"]["userIdentity"] = {"type": "AWSService", "invokedBy": "organizations.amazonaws.com"}
    assert judge_event(api_call, Settings()).verdict is Verdict.IGNORED  # an API call by a service stays ignored


def test_the_backtest_wraps_a_service_record_as_eventbridge_does() -> None:
    record = load_event(SAMPLE)["detail"]
    wrapped = envelope(record)
    assert wrapped["detail-type"] == CLOUDTRAIL_SERVICE_EVENT
    assert envelope(load_event("organizations-leave.json")["detail"])["detail-type"] == CLOUDTRAIL_API_CALL


# --- how it departed --------------------------------------------------------------------------------------


def test_removed_by_the_management_account_is_critical_too() -> None:
    [finding] = judge_event(departed(departureMethod="REMOVED"), Settings()).findings
    assert finding.severity is Severity.CRITICAL
    assert "was removed from the organisation by the management account" in finding.reason


def test_the_earlier_documented_spelling_is_read() -> None:
    """Earlier API references: ``departedMethod:Left`` and ``departedTime``."""
    event = departed(departureMethod=..., departureTime=..., departedMethod="Left", departedTime="Nov 20, 2026")
    [finding] = judge_event(event, Settings()).findings
    assert finding.needs_context == ()
    assert "left the organisation (LeaveOrganization" in finding.reason
    assert "at Nov 20, 2026:" in finding.reason


def test_a_closed_account_escapes_nothing() -> None:
    judgement = judge_event(departed(departureMethod="CLEANED"), Settings())
    assert judgement.verdict is Verdict.COMPLIANT
    assert judgement.reason == f"account {DEPARTED} was closed, not taken out of the organisation's control"


def test_an_account_iam_warden_does_not_manage_is_compliant(example_settings: Settings) -> None:
    judgement = judge_event(departed(accountId="777788889999"), example_settings)
    assert (judgement.verdict, judgement.reason) == (
        Verdict.COMPLIANT,
        "account 777788889999 is not managed by IAM Warden",
    )


def test_the_account_nested_as_in_other_organizations_service_events_is_found() -> None:
    event = departed(accountId=..., accountStatus={"accountId": DEPARTED, "state": "SUCCEEDED"})
    [finding] = judge_event(event, Settings()).findings
    assert finding.resource_arn.endswith(f"/{DEPARTED}")


@pytest.mark.parametrize("account", [..., "", "4444", 444455556666, "arn:aws:iam::444455556666:root"])
def test_no_well_formed_account_is_still_critical_and_says_what_it_does_not_know(account: Any) -> None:
    [finding] = judge_event(departed(accountId=account), Settings()).findings
    assert finding.severity is Severity.CRITICAL
    assert "an account the record does not name" in finding.reason
    assert finding.needs_context == ("which account departed: serviceEventDetails names no accountId",)
    assert finding.resource_arn == f"arn:aws:organizations::{MANAGEMENT}:account/unknown"


@pytest.mark.parametrize("method", [..., "", "TRANSFERRED", 3])
def test_an_unknown_departure_method_is_critical_and_says_so(method: Any) -> None:
    [finding] = judge_event(departed(departureMethod=method), Settings()).findings
    assert finding.severity is Severity.CRITICAL
    assert f"account {DEPARTED} departed from the organisation" in finding.reason
    expected = None if method is ... else method
    assert finding.needs_context == (f"how it departed: serviceEventDetails.departureMethod is {expected!r}",)
