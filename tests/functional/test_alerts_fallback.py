"""The fallback topic (audit s7 gap 10): an alert the alert topic refuses leaves through iamwarden-alerts-fallback.

Both topics are built from template.yaml in moto, each with an SQS subscriber. moto enforces no key policy, topic
policy or KMS grant, so the refusal AWS would answer (the alert key locked: ``KMSAccessDenied``; the topic deleted:
``NotFound``; its policy rewritten: ``AuthorizationError``) is injected with a botocore before-call hook on the
session, for publishes to the alert topic only (``refuse_publishes``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, NamedTuple

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from moto import mock_aws

from iamwarden.adapters.clients import ClientFactory
from iamwarden.alerts.notifications import Notification
from iamwarden.app.dispatcher import AlertDispatcher, build_alert_dispatcher
from iamwarden.app.heartbeat import Heartbeat, HeartbeatConfig
from iamwarden.domain.findings import Outcome
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from tests.aws_fixtures import HOME_ACCOUNT, REGION, resolved_properties
from tests.conftest import load_event

ALERT_KEY = f"arn:aws:kms:{REGION}:{HOME_ACCOUNT}:key/mrk-iamwarden-alerts"
#: What SNS answers a publish it cannot carry out (status, error code), by cause.
REFUSALS = {
    "the alert key locked": (400, "KMSAccessDenied"),
    "the alert topic deleted": (404, "NotFound"),
    "the alert topic's policy rewritten": (403, "AuthorizationError"),
}


def refuse_publishes(session: boto3.Session, topic_arn: str, status: int, code: str) -> None:
    """Every publish to ``topic_arn`` through ``session``'s clients is refused with ``code``, as AWS would refuse it."""

    def refuse(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if params.get("body", {}).get("TopicArn") != topic_arn:
            return None
        error = {"Code": code, "Message": f"injected: {code} for {topic_arn}"}
        response = {"Error": error, "ResponseMetadata": {"HTTPStatusCode": status}}
        return AWSResponse(f"https://sns.{REGION}.amazonaws.com/", status, HTTPHeaders(), None), response

    session.events.register(
        "before-call.sns.Publish",
        refuse,  # type: ignore[arg-type]  # a before-call hook may answer
        unique_id=f"refuse-{topic_arn}",
    )


class Topics(NamedTuple):
    session: boto3.Session
    sqs: Any
    alert_topic: str
    fallback_topic: str
    alert_queue: str
    fallback_queue: str

    def received(self, queue: str) -> list[dict[str, Any]]:
        """The SNS envelopes that reached ``queue`` since the last read."""
        envelopes = []
        while batch := self.sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
            for message in batch:
                envelopes.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        return envelopes


@pytest.fixture
def topics(monkeypatch: pytest.MonkeyPatch) -> Iterator[Topics]:
    monkeypatch.setenv("MOTO_ACCOUNT_ID", HOME_ACCOUNT)
    with mock_aws():
        session = boto3.Session(region_name=REGION)
        sns, sqs = session.client("sns"), session.client("sqs")
        declared = resolved_properties("AWS::SNS::Topic")
        arns, queues = {}, {}
        for logical in ("AlertTopic", "AlertFallbackTopic"):
            properties = declared[logical]
            arns[logical] = sns.create_topic(
                Name=properties["TopicName"], Attributes={"KmsMasterKeyId": str(properties["KmsMasterKeyId"])}
            )["TopicArn"]
            queues[logical] = sqs.create_queue(QueueName=f"{logical}-subscriber")["QueueUrl"]
            queue_arn = sqs.get_queue_attributes(QueueUrl=queues[logical], AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            sns.subscribe(TopicArn=arns[logical], Protocol="sqs", Endpoint=queue_arn)
        yield Topics(
            session,
            sqs,
            arns["AlertTopic"],
            arns["AlertFallbackTopic"],
            queues["AlertTopic"],
            queues["AlertFallbackTopic"],
        )


def _dispatcher(topics: Topics) -> AlertDispatcher:
    """The dispatcher as the enforcer builds it from the template's environment (no Slack)."""
    return build_alert_dispatcher(
        ClientFactory(HOME_ACCOUNT, session=topics.session),
        topic_arn=topics.alert_topic,
        environ={"IAMWARDEN_ALERT_FALLBACK_TOPIC_ARN": topics.fallback_topic, "IAMWARDEN_ALERT_KEY_ARN": ALERT_KEY},
    )


def _notification(event: str, settings: Settings) -> Notification:
    judgement = judge_event(load_event(event), settings)
    return Notification(Outcome.ALERTED, judgement.findings[0], judgement.change)


def test_the_template_encrypts_the_fallback_topic_with_the_aws_managed_key_and_gives_it_the_same_subscribers() -> None:
    topics = resolved_properties("AWS::SNS::Topic")
    assert topics["AlertFallbackTopic"]["KmsMasterKeyId"] == "alias/aws/sns"
    assert topics["AlertTopic"]["KmsMasterKeyId"] != "alias/aws/sns"
    subscriptions = resolved_properties("AWS::SNS::Subscription")
    endpoints = {
        (properties["Protocol"], json.dumps(properties["Endpoint"])): properties["TopicArn"]
        for properties in subscriptions.values()
    }
    assert sorted(str(p["TopicArn"]) for p in subscriptions.values()) == sorted(
        [
            f"arn:aws:sns:{REGION}:{HOME_ACCOUNT}:iamwarden-alerts",
            f"arn:aws:sns:{REGION}:{HOME_ACCOUNT}:iamwarden-alerts-fallback",
        ]
    )
    assert len(endpoints) == 1, "both topics have the same subscriber"


def test_an_alert_the_alert_topic_delivers_does_not_go_to_the_fallback(
    topics: Topics, example_settings: Settings
) -> None:
    report = _dispatcher(topics).notify(_notification("attach-admin-to-role.json", example_settings))

    assert not report.failed
    assert [d.channel for d in report.deliveries] == [f"sns:{topics.alert_topic}"]
    assert len(topics.received(topics.alert_queue)) == 1
    assert topics.received(topics.fallback_queue) == []


@pytest.mark.parametrize("cause", sorted(REFUSALS))
def test_an_alert_the_alert_topic_refuses_arrives_on_the_fallback_topic_saying_why(
    topics: Topics, example_settings: Settings, cause: str
) -> None:
    status, code = REFUSALS[cause]
    refuse_publishes(topics.session, topics.alert_topic, status, code)

    report = _dispatcher(topics).notify(_notification("attach-admin-to-role.json", example_settings))

    # The refused publish stays a failure, kept for replay; the fallback's delivery is its own.
    failed, fallback = report.deliveries
    assert (failed.channel, failed.ok) == (f"sns:{topics.alert_topic}", False)
    assert code in (failed.error or "")
    assert (fallback.channel, fallback.ok) == (f"sns:{topics.fallback_topic}", True)
    assert topics.received(topics.alert_queue) == []
    [envelope] = topics.received(topics.fallback_queue)
    assert envelope["MessageAttributes"]["rule"]["Value"] == "managed-policy-attached"
    # An SQS subscriber gets the machine record (the e-mail the readable text, which begins with the same reason).
    fallback_record = json.loads(envelope["Message"])["fallback"]
    assert fallback_record["alert_topic"] == topics.alert_topic
    assert code in fallback_record["refused"]


def test_when_both_topics_refuse_both_failures_are_reported(topics: Topics, example_settings: Settings) -> None:
    refuse_publishes(topics.session, topics.alert_topic, 400, "KMSAccessDenied")
    refuse_publishes(topics.session, topics.fallback_topic, 404, "NotFound")

    report = _dispatcher(topics).notify(_notification("attach-admin-to-role.json", example_settings))

    assert [(d.channel, d.ok) for d in report.deliveries] == [
        (f"sns:{topics.alert_topic}", False),
        (f"sns:{topics.fallback_topic}", False),
    ]
    assert "NotFound" in (report.deliveries[1].error or "")


def test_an_alert_about_the_alert_path_goes_to_both_topics(topics: Topics, example_settings: Settings) -> None:
    """An unsubscribed endpoint: the alert topic accepts the publish, and may have no one left to carry it to."""
    from tests.conftest import SAMPLE_OWN

    settings = example_settings._replace(own=SAMPLE_OWN)
    notification = _notification("tamper-unsubscribe-alerts.json", settings)
    assert notification.finding is not None
    assert notification.finding.resource_arn.startswith(f"{topics.alert_topic}:")

    report = _dispatcher(topics).notify(notification)

    assert [(d.channel, d.ok) for d in report.deliveries] == [
        (f"sns:{topics.alert_topic}", True),
        (f"sns:{topics.fallback_topic}", True),
    ]
    assert len(topics.received(topics.alert_queue)) == 1
    [envelope] = topics.received(topics.fallback_queue)
    assert json.loads(envelope["Message"])["fallback"] == {"alert_topic": topics.alert_topic, "refused": None}


def _heartbeat(topics: Topics) -> Heartbeat:
    config = HeartbeatConfig(
        rules=(),
        enforcer_arn=f"arn:aws:lambda:{REGION}:{HOME_ACCOUNT}:function:iamwarden-enforcer",
        central_bus_arn=f"arn:aws:events:{REGION}:{HOME_ACCOUNT}:event-bus/iamwarden-central",
        enforcer_role_name="iamwarden-enforcer-us-east-1",
        topic_arn=topics.alert_topic,
        stack_name="iamwarden",
        fallback_topic_arn=topics.fallback_topic,
    )
    sns = topics.session.client("sns")
    return Heartbeat(config, None, None, None, sns)


def test_the_heartbeats_alert_the_alert_topic_refuses_arrives_on_the_fallback_topic(topics: Topics) -> None:
    refuse_publishes(topics.session, topics.alert_topic, 400, "KMSAccessDenied")

    _heartbeat(topics).alert_problems(["the rule iamwarden-tampered-stack is disabled"])

    assert topics.received(topics.alert_queue) == []
    [envelope] = topics.received(topics.fallback_queue)
    assert f"the alert topic {topics.alert_topic} refused it (KMSAccessDenied)" in envelope["Message"]
    assert "- the rule iamwarden-tampered-stack is disabled" in envelope["Message"]


def test_the_heartbeat_fails_only_when_neither_topic_takes_its_alert(topics: Topics) -> None:
    refuse_publishes(topics.session, topics.alert_topic, 400, "KMSAccessDenied")
    refuse_publishes(topics.session, topics.fallback_topic, 403, "AuthorizationError")

    with pytest.raises(Exception, match="AuthorizationError"):
        _heartbeat(topics).alert_problems(["the rule iamwarden-tampered-stack is disabled"])


def test_the_heartbeat_sees_the_fallback_topic_deleted_re_keyed_or_without_subscribers(topics: Topics) -> None:
    heartbeat = _heartbeat(topics)
    assert heartbeat.fallback_topic_problems() == []
    sns = topics.session.client("sns")

    sns.set_topic_attributes(TopicArn=topics.fallback_topic, AttributeName="KmsMasterKeyId", AttributeValue="alias/x")
    [rekeyed] = heartbeat.fallback_topic_problems()
    assert rekeyed.startswith(f"the fallback alert topic {topics.fallback_topic} is encrypted with alias/x, not alias/")

    sns.set_topic_attributes(
        TopicArn=topics.fallback_topic, AttributeName="KmsMasterKeyId", AttributeValue="alias/aws/sns"
    )
    for subscription in sns.list_subscriptions_by_topic(TopicArn=topics.fallback_topic)["Subscriptions"]:
        sns.unsubscribe(SubscriptionArn=subscription["SubscriptionArn"])
    [unsubscribed] = heartbeat.fallback_topic_problems()
    assert "has no confirmed subscription" in unsubscribed

    sns.delete_topic(TopicArn=topics.fallback_topic)
    [gone] = heartbeat.fallback_topic_problems()
    assert gone.startswith(f"the fallback alert topic {topics.fallback_topic} is gone")
    assert "sam deploy --stack-name iamwarden" in gone
