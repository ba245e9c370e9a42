"""Reading dead-lettered messages: both shapes the queue holds, and everything that is neither.

The replayer's AWS paths run against moto in tests/functional/test_cli_replay.py; the
failures that moto cannot produce (a queue lookup refused, a release that fails) run
here against small fakes.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from iamwarden.adapters.dead_letters import (
    DeadLetter,
    DeadLetterReplayer,
    MessageShape,
    ReplayStatus,
    event_id_of,
    event_name_of,
    failure_reason,
    original_event,
)
from iamwarden.domain.exceptions import ReplayError
from tests.conftest import load_event

EVENT = load_event("create-user-backdoor-cli.json")
QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/111122223333/iamwarden-enforcer-dlq"


def destination_record(event: Any = EVENT, **overrides: Any) -> dict[str, Any]:
    """Lambda's on-failure destination record, as Lambda writes it after the last retry."""
    record = {
        "version": "1.0",
        "timestamp": "2026-11-21T10:00:00.000Z",
        "requestContext": {
            "requestId": "c2d1a6a3-7f0e-4a51-9f2e-0d6b8b3f1e11",
            "functionArn": "arn:aws:lambda:us-east-1:111122223333:function:iamwarden-enforcer:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {
            "errorMessage": "remediation rem-1 failed: DeleteLoginProfile failed with AccessDenied",
            "errorType": "EnforcementFailedError",
            "stackTrace": ["  File ..."],
        },
    }
    record.update(overrides)
    return record


def eventbridge_attributes() -> dict[str, Any]:
    """The message attributes EventBridge puts on a dead letter."""
    return {
        "ERROR_CODE": {"StringValue": "NO_PERMISSIONS", "DataType": "String"},
        "ERROR_MESSAGE": {
            "StringValue": "Lambda function iamwarden-enforcer could not be invoked",
            "DataType": "String",
        },
        "RULE_ARN": {
            "StringValue": "arn:aws:events:us-east-1:111122223333:rule/iamwarden-IamUserCreated",
            "DataType": "String",
        },
        "TARGET_ARN": {
            "StringValue": "arn:aws:lambda:us-east-1:111122223333:function:iamwarden-enforcer",
            "DataType": "String",
        },
    }


# --- original_event --------------------------------------------------------------------------------


def test_a_lambda_destination_record_gives_its_request_payload() -> None:
    assert original_event(json.dumps(destination_record())) == EVENT


def test_an_eventbridge_dead_letter_is_the_event_itself() -> None:
    assert original_event(json.dumps(EVENT)) == EVENT


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("{not json", "the body is not JSON"),
        ("", "the body is not JSON"),
        ('["a", "list"]', "JSON but not an object"),
        ('"a string"', "JSON but not an object"),
        ('{"hello": "world"}', "neither a Lambda destination record"),
        (json.dumps({"detail": {"eventName": "CreateUser"}}), "neither"),  # no detail-type: not an EventBridge event
        (json.dumps({**EVENT, "detail": "not an object"}), "neither"),
        (json.dumps({"requestContext": {"condition": "RetriesExhausted"}}), "without requestPayload"),
        (json.dumps(destination_record(event="a string")), "requestPayload of the Lambda record is not a JSON object"),
        (json.dumps(destination_record(event=None)), "without requestPayload"),
    ],
    ids=[
        "not-json",
        "empty",
        "json-list",
        "json-string",
        "unrelated-object",
        "no-detail-type",
        "detail-not-object",
        "record-without-payload",
        "record-payload-not-object",
        "record-payload-null",
    ],
)
def test_a_body_without_an_event_is_an_error_naming_the_message(body: str, says: str) -> None:
    with pytest.raises(ReplayError, match=says) as raised:
        original_event(body, "msg-0042")
    assert str(raised.value).startswith("message msg-0042: ")


def test_without_a_message_id_the_error_still_says_which() -> None:
    with pytest.raises(ReplayError, match=r"^message \(unknown\): "):
        original_event("nope")


# --- why it failed, and which event it is ----------------------------------------------------------


def test_the_reason_of_a_lambda_record_names_condition_attempts_and_error() -> None:
    reason = failure_reason(json.dumps(destination_record()))
    assert reason == (
        "RetriesExhausted after 3 attempt(s) - EnforcementFailedError: "
        "remediation rem-1 failed: DeleteLoginProfile failed with AccessDenied"
    )


def test_a_lambda_record_without_an_error_payload_falls_back_to_the_function_error() -> None:
    record = destination_record(responsePayload=None)
    record["requestContext"] = {"condition": "EventAgeExceeded"}
    assert failure_reason(json.dumps(record)) == "EventAgeExceeded - Unhandled function error"


def test_the_reason_of_an_eventbridge_dead_letter_comes_from_its_attributes() -> None:
    assert failure_reason(json.dumps(EVENT), eventbridge_attributes()) == (
        "NO_PERMISSIONS: Lambda function iamwarden-enforcer could not be invoked"
    )


def test_no_reason_when_the_message_gives_none() -> None:
    assert failure_reason(json.dumps(EVENT)) is None
    assert failure_reason(json.dumps(EVENT), {}) is None
    assert failure_reason("{not json") is None


def test_a_long_reason_is_one_short_line() -> None:
    record = destination_record(responsePayload={"errorMessage": "line\n" * 200, "errorType": "Boom"})
    reason = failure_reason(json.dumps(record))
    assert reason is not None
    assert "\n" not in reason
    assert len(reason) <= 300
    assert reason.endswith("…")


def test_event_id_and_name() -> None:
    assert event_id_of(EVENT) == EVENT["detail"]["eventID"]
    assert event_name_of(EVENT) == "CreateUser"
    assert event_id_of({"id": "eventbridge-id"}) == "eventbridge-id"
    assert event_id_of({}) is None
    assert event_name_of({"detail": "x"}) is None


def test_the_payload_of_an_eventbridge_dead_letter_is_its_body_byte_for_byte() -> None:
    body = json.dumps(EVENT, indent=1)  # any formatting: replayed exactly as EventBridge sent it
    letter = DeadLetter.from_message({"MessageId": "m", "ReceiptHandle": "r", "Body": body})
    assert letter.shape is MessageShape.EVENTBRIDGE_DLQ
    assert letter.payload == body.encode()


def test_the_payload_of_a_lambda_record_is_its_request_payload() -> None:
    letter = DeadLetter.from_message({"MessageId": "m", "ReceiptHandle": "r", "Body": json.dumps(destination_record())})
    assert letter.shape is MessageShape.LAMBDA_DESTINATION
    assert json.loads(letter.payload) == EVENT


# --- failures moto cannot produce -----------------------------------------------------------------


def _client_error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"injected {code}"}}, operation)


class FakeSqs:
    """Just enough SQS: one batch of messages, then empty; failures on request."""

    def __init__(self, messages: list[dict[str, Any]], *, release_error: Exception | None = None) -> None:
        self._batches = [messages, []]
        self.release_error = release_error
        self.release_failed: list[dict[str, Any]] = []
        self.released: list[dict[str, Any]] = []

    def get_queue_url(self, **_: Any) -> dict[str, Any]:
        raise _client_error("AccessDenied", "GetQueueUrl")

    def receive_message(self, **_: Any) -> dict[str, Any]:
        return {"Messages": self._batches.pop(0)} if self._batches else {}

    def change_message_visibility_batch(self, *, Entries: list[dict[str, Any]], **_: Any) -> dict[str, Any]:
        if self.release_error is not None:
            raise self.release_error
        self.released.extend(Entries)
        return {"Successful": [], "Failed": self.release_failed}


class NoLambda:
    def invoke(self, **_: Any) -> dict[str, Any]:
        raise AssertionError("a dry run must not invoke")


def _message(number: int) -> dict[str, Any]:
    return {"MessageId": f"m-{number}", "ReceiptHandle": f"r-{number}", "Body": json.dumps(EVENT)}


def test_a_refused_queue_lookup_is_a_replay_error() -> None:
    replayer = DeadLetterReplayer(FakeSqs([]), NoLambda(), queue="iamwarden-enforcer-dlq", function="f")
    with pytest.raises(ReplayError, match="cannot find the dead-letter queue iamwarden-enforcer-dlq: AccessDenied"):
        replayer.replay()


def test_a_release_that_fails_is_reported_and_the_run_is_not_ok() -> None:
    sqs = FakeSqs([_message(1)], release_error=EndpointConnectionError(endpoint_url=QUEUE_URL))
    report = DeadLetterReplayer(sqs, NoLambda(), queue=QUEUE_URL, function="f", wait_seconds=0).replay(dry_run=True)
    assert [outcome.status for outcome in report.outcomes] == [ReplayStatus.WOULD_REPLAY]
    [error] = report.errors
    assert error.startswith("1 kept message(s) stay hidden for up to 300s: Could not connect")
    assert not report.ok


def test_a_message_the_release_batch_refuses_is_named() -> None:
    sqs = FakeSqs([_message(1), _message(2)])
    sqs.release_failed = [{"Id": "1", "Code": "ReceiptHandleIsInvalid", "Message": "expired", "SenderFault": True}]
    report = DeadLetterReplayer(sqs, NoLambda(), queue=QUEUE_URL, function="f", wait_seconds=0).replay(dry_run=True)
    assert report.errors == ("message m-2 stays hidden for up to 300s: ReceiptHandleIsInvalid expired",)
    assert [entry["ReceiptHandle"] for entry in sqs.released] == ["r-1", "r-2"]
    assert {entry["VisibilityTimeout"] for entry in sqs.released} == {0}


def test_a_message_received_twice_in_one_run_is_handled_once() -> None:
    sqs = FakeSqs([_message(1), _message(1)])
    report = DeadLetterReplayer(sqs, NoLambda(), queue=QUEUE_URL, function="f", wait_seconds=0).replay(dry_run=True)
    assert [outcome.message_id for outcome in report.outcomes] == ["m-1"]
