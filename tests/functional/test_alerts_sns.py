"""SNS publishing against moto: structure, attributes, filter policies, size, and failures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, NamedTuple

import boto3
import pytest
from moto import mock_aws

from iamwarden.adapters.clients import ClientFactory
from iamwarden.adapters.sns import MAX_MESSAGE_BYTES, SnsPublisher, publish_request, structured_message
from iamwarden.alerts.exceptions import DeliveryError
from iamwarden.alerts.message import AlertMessage, build_message
from iamwarden.alerts.notifications import Notification
from iamwarden.alerts.settings import Destination
from iamwarden.app.dispatcher import AlertDispatcher
from iamwarden.domain.catalog import Severity
from iamwarden.domain.exceptions import SettingsProblem
from iamwarden.domain.findings import Outcome
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event

REGION = "us-east-1"


class Aws(NamedTuple):
    factory: ClientFactory
    sns: Any
    sqs: Any
    topic_arn: str


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mock_aws():
        session = boto3.Session(region_name=REGION)
        sns = session.client("sns")
        topic_arn = sns.create_topic(Name="iamwarden-alerts")["TopicArn"]
        yield Aws(ClientFactory("111122223333", session=session), sns, session.client("sqs"), topic_arn)


def subscribe(aws: Aws, name: str, filter_policy: dict[str, Any] | None = None) -> str:
    queue_url: str = aws.sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = aws.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    attributes = {"FilterPolicy": json.dumps(filter_policy)} if filter_policy else {}
    aws.sns.subscribe(TopicArn=aws.topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes=attributes)
    return queue_url


def received(aws: Aws, queue_url: str) -> list[dict[str, Any]]:
    envelopes = []
    while batch := aws.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            envelopes.append(json.loads(message["Body"]))
            aws.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return envelopes


def alert(event: str, settings: Settings, outcome: Outcome = Outcome.ALERTED, **finding: Any) -> AlertMessage:
    judgement = judge_event(load_event(event), settings)
    return build_message(Notification(outcome, judgement.findings[0]._replace(**finding), judgement.change))


def test_an_alert_is_published_as_json_with_filterable_attributes(aws: Aws, example_settings: Settings) -> None:
    queue = subscribe(aws, "everything")
    message = alert("attach-admin-to-role.json", example_settings)

    SnsPublisher(aws.factory).publish(aws.topic_arn, message)

    [envelope] = received(aws, queue)
    assert envelope["Subject"] == "[CRITICAL] Alert: AWS-managed policy attached (role app-backend)"
    assert envelope["MessageAttributes"] == {
        "rule": {"Type": "String", "Value": "managed-policy-attached"},
        "severity": {"Type": "String", "Value": "critical"},
        "account": {"Type": "String", "Value": "111122223333"},
        "outcome": {"Type": "String", "Value": "alerted"},
    }
    body = json.loads(envelope["Message"])  # the SQS key: the full alert for machines
    assert body["schema"] == "iamwarden.alert/1"
    assert body["rule"] == "managed-policy-attached"
    assert body["finding"]["plan"][0]["action"] == "detach_managed_policy"
    assert body["exception"]["resource_parameter"] == "/iamwarden/rules/managed-policy-attached/allow_resources"


def test_the_message_structure_has_a_readable_default_and_json_for_machines(example_settings: Settings) -> None:
    message = alert("attach-admin-to-role.json", example_settings)
    request = publish_request("arn:aws:sns:us-east-1:111122223333:t", message)
    assert request["MessageStructure"] == "json"
    structure = json.loads(request["Message"])
    assert set(structure) == {"default", "email", "sqs", "lambda", "https", "firehose"}
    assert structure["default"] == structure["email"]
    assert structure["default"].startswith("[CRITICAL] Alert: AWS-managed policy attached (role app-backend)\n")
    assert all(isinstance(value, str) for value in structure.values())
    assert json.loads(structure["lambda"]) == json.loads(structure["sqs"])


def test_a_filter_policy_on_severity_routes_as_documented(aws: Aws, example_settings: Settings) -> None:
    critical_only = subscribe(aws, "critical-only", {"severity": ["critical"]})
    high_and_up = subscribe(aws, "high-and-up", {"severity": ["critical", "high"]})
    remediations = subscribe(aws, "remediations", {"outcome": ["remediated", "remediation_failed"]})
    one_rule = subscribe(aws, "bucket-rules", {"rule": [{"prefix": "s3-"}]})
    everything = subscribe(aws, "everything")
    publisher = SnsPublisher(aws.factory)
    messages = [
        alert("attach-admin-to-role.json", example_settings),  # critical
        alert("create-user-backdoor-cli.json", example_settings, Outcome.REMEDIATED),  # high
        alert("bucket-policy-unknown-account.json", example_settings, severity=Severity.MEDIUM),  # medium
        build_message(
            Notification(Outcome.CONFIGURATION_ERROR, problems=(SettingsProblem("organization_id", "bad"),)),
            account="111122223333",
        ),  # high
    ]
    for message in messages:
        publisher.publish(aws.topic_arn, message)

    def titles(queue: str) -> list[str]:
        return [json.loads(envelope["Message"])["title"] for envelope in received(aws, queue)]

    assert titles(critical_only) == ["Alert: AWS-managed policy attached (role app-backend)"]
    assert titles(high_and_up) == [
        "Alert: AWS-managed policy attached (role app-backend)",
        "Remediated: IAM user created (user backdoor-admin)",
        "Configuration error: 1 invalid setting",
    ]
    assert titles(remediations) == ["Remediated: IAM user created (user backdoor-admin)"]
    assert titles(one_rule) == ["Alert: Bucket policy shared with an untrusted account (bucket acme-exports)"]
    assert len(titles(everything)) == 4


def test_a_20_kb_policy_fits_in_one_sns_message(aws: Aws, example_settings: Settings) -> None:
    judgement = judge_event(load_event("bucket-policy-public-read.json"), example_settings)
    finding = judgement.findings[0]
    statement = finding.offending[0]
    offending: list[dict[str, Any]] = []
    policy: dict[str, Any] = {"Version": "2012-10-17", "Statement": []}
    while True:  # S3's limit: 20 KB per bucket policy; every statement is public, so every one is offending
        i = len(offending)
        body = {**statement["statement"], "Sid": f"S{i:03d}", "Resource": f"arn:aws:s3:::acme-invoices/p{i:04d}/*"}
        if len(json.dumps({**policy, "Statement": [*policy["Statement"], body]})) > 20 * 1024:
            break
        policy["Statement"].append(body)
        offending.append({**statement, "index": i, "sid": body["Sid"], "statement": body})
    assert len(json.dumps(policy)) > 19 * 1024
    plan = (finding.plan[0]._replace(parameters={"bucket": "acme-invoices", "statements": offending}),)
    message = build_message(
        Notification(Outcome.ALERTED, finding._replace(offending=tuple(offending), plan=plan), judgement.change)
    )
    queue = subscribe(aws, "everything")

    SnsPublisher(aws.factory).publish(aws.topic_arn, message)

    [envelope] = received(aws, queue)
    body = json.loads(envelope["Message"])
    # Every offending statement is there; at S3's maximum policy size the plan's copy of them is left out.
    assert [item["statement"] for item in body["finding"]["offending"]] == policy["Statement"]
    assert body["finding"]["plan"][0]["parameters"] == {
        "omitted": "omitted to fit SNS's 256 KB limit; the audit record has it"
    }
    assert body["finding"]["plan"][0]["summary"].startswith("remove statement")
    assert len(structured_message(message).encode()) <= MAX_MESSAGE_BYTES


def test_an_alert_too_large_for_sns_loses_details_with_a_note(example_settings: Settings) -> None:
    judgement = judge_event(load_event("bucket-policy-public-read.json"), example_settings)
    finding = judgement.findings[0]
    offending = tuple({"index": i, "statement": {"Sid": "x" * 4000}} for i in range(40))
    plan = (finding.plan[0]._replace(parameters={"statements": list(offending)}),)
    message = build_message(
        Notification(Outcome.ALERTED, finding._replace(offending=offending, plan=plan), judgement.change)
    )
    structure = json.loads(structured_message(message))
    body = json.loads(structure["sqs"])
    assert body["finding"]["plan"][0]["parameters"] == {
        "omitted": "omitted to fit SNS's 256 KB limit; the audit record has it"
    }
    assert "truncated (" in structure["default"]


def test_a_publish_failure_is_a_delivery_error_and_a_failed_delivery(aws: Aws, example_settings: Settings) -> None:
    missing = aws.topic_arn + "-missing"
    message = alert("attach-admin-to-role.json", example_settings)
    with pytest.raises(DeliveryError, match=f"SNS topic {missing}: NotFound"):
        SnsPublisher(aws.factory).publish(missing, message)

    dispatcher = AlertDispatcher(security=Destination(sns_topic_arn=missing), sns=SnsPublisher(aws.factory))
    judgement = judge_event(load_event("attach-admin-to-role.json"), example_settings)
    report = dispatcher.notify(Notification(Outcome.ALERTED, judgement.findings[0], judgement.change))
    [failed] = report.failed
    assert failed.channel == f"sns:{missing}"
    assert failed.error is not None
    assert "NotFound" in failed.error
