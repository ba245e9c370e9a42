"""The SQS and SNS policy rules: where their events carry the policy, and the statements AWS writes itself.

The contract test (tests/functional/test_guardrail_contract.py) runs each rule end to end against moto;
these cover the event shapes and the edges it does not: a policy among other attributes, a removed
policy, an AddPermission statement matched by its label, malformed events, SNS's default policy.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from iamwarden.domain.exceptions import InvalidEventError
from iamwarden.domain.findings import Verdict
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from iamwarden.guardrails.sns_topic_policy import REMOVE_TOPIC_POLICY_STATEMENTS, default_topic_policy
from iamwarden.guardrails.sqs_queue_policy import REMOVE_QUEUE_POLICY_STATEMENTS, queue_arn
from tests.conftest import load_event

ACCOUNT = "111122223333"
URL = f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/orders-events"
TOPIC = f"arn:aws:sns:eu-west-1:{ACCOUNT}:price-updates"


def _judge(event: dict[str, Any], settings: Settings | None = None) -> Any:
    return judge_event(event, settings or Settings())


def test_a_queue_url_names_the_queue_and_its_owner() -> None:
    assert queue_arn("aws", "eu-west-1", URL) == f"arn:aws:sqs:eu-west-1:{ACCOUNT}:orders-events"
    assert queue_arn("aws", "eu-west-1", f"https://eu-west-1.queue.amazonaws.com/{ACCOUNT}/jobs.fifo").endswith(
        f"{ACCOUNT}:jobs.fifo"
    )
    with pytest.raises(InvalidEventError, match="is not an SQS queue URL"):
        queue_arn("aws", "eu-west-1", "orders-events")


def test_the_add_permission_statement_is_planned_by_its_label() -> None:
    judgement = _judge(load_event("sqs-add-permission-unknown-account.json"))

    [finding] = judgement.findings
    assert finding.resource_arn == f"arn:aws:sqs:eu-west-1:{ACCOUNT}:orders-events"
    [step] = finding.plan
    assert step.parameters["queue_url"] == URL
    [reference] = step.parameters["statements"]
    assert (reference["sid"], reference["match"]) == ("vendor-send", "label")  # its label and what it grants, both (F3)
    assert reference["statement"]["Principal"] == {"AWS": ["arn:aws:iam::999988887777:root"]}
    assert reference["statement"]["Action"] == ["SQS:SendMessage"]


def test_a_policy_set_in_the_event_is_matched_by_content_not_label() -> None:
    [finding] = _judge(load_event("sqs-policy-public.json")).findings
    [reference] = finding.plan[0].parameters["statements"]
    assert "match" not in reference
    assert finding.reason.startswith(
        "Anyone on the internet can read messages and send messages in queue orders-events"
    )


def test_create_queue_is_judged_on_the_queue_url_in_the_response() -> None:
    event = load_event("sqs-create-queue-unknown-account.json")
    [finding] = _judge(event).findings
    assert finding.resource_arn == f"arn:aws:sqs:eu-west-1:{ACCOUNT}:invoice-exports"

    event["detail"]["responseElements"] = None
    judgement = _judge(event)
    assert judgement.verdict is Verdict.INVALID
    assert "responseElements.queueUrl" in judgement.reason


def test_a_removed_policy_or_another_attribute_sets_no_policy() -> None:
    event = load_event("sqs-policy-public.json")
    event["detail"]["requestParameters"]["attributes"]["Policy"] = ""
    judgement = _judge(event)
    assert judgement.verdict is Verdict.COMPLIANT
    # issue 13 item 7: a removal is said as one (and clears IAM Warden's record, test_resource_policy_deletions)
    assert judgement.reason.startswith("the change removes the policy of queue orders-events")

    event["detail"]["requestParameters"]["attributes"] = {"VisibilityTimeout": "60"}
    judgement = _judge(event)
    assert judgement.verdict is Verdict.COMPLIANT
    assert judgement.reason.startswith("the change sets no policy on queue orders-events")


def test_a_queue_policy_over_sqs_limit_or_attributes_not_an_object_is_invalid() -> None:
    event = load_event("sqs-policy-public.json")
    policy = json.loads(event["detail"]["requestParameters"]["attributes"]["Policy"])
    policy["Statement"] *= 40
    event["detail"]["requestParameters"]["attributes"]["Policy"] = json.dumps(policy)
    judgement = _judge(event)
    assert judgement.verdict is Verdict.INVALID
    assert "over AWS's 8192 limit for a queue policy" in judgement.reason

    event["detail"]["requestParameters"]["attributes"] = "Policy"
    assert "attributes must be an object" in _judge(event).reason


def test_a_queue_url_of_another_account_is_rejected() -> None:
    event = load_event("sqs-policy-public.json")
    event["detail"]["requestParameters"]["queueUrl"] = "https://sqs.eu-west-1.amazonaws.com/999988887777/theirs"
    judgement = _judge(event)
    assert judgement.rejected
    assert "belongs to 999988887777" in judgement.reason


def test_an_sqs_add_permission_without_accounts_is_invalid() -> None:
    event = load_event("sqs-add-permission-unknown-account.json")
    event["detail"]["requestParameters"]["AWSAccountIds"] = []
    judgement = _judge(event)
    assert judgement.verdict is Verdict.INVALID
    assert "AWSAccountIds must be a non-empty list of strings" in judgement.reason


def test_a_trusted_account_in_add_permission_is_compliant() -> None:
    event = load_event("sns-add-permission-unknown-account.json")
    settings = Settings(trusted_accounts=frozenset({"999988887777"}))
    assert _judge(event, settings).verdict is Verdict.COMPLIANT


def test_set_topic_attributes_of_another_attribute_sets_no_policy() -> None:
    event = load_event("sns-policy-public-subscribe.json")
    event["detail"]["requestParameters"]["attributeName"] = "DisplayName"
    judgement = _judge(event)
    assert (judgement.verdict, judgement.reason) == (
        Verdict.COMPLIANT,
        # iamwarden-tampered judges SetTopicAttributes too (its own alert topic), as it does SetQueueAttributes.
        "the change sets no policy on topic price-updates; "
        "SetTopicAttributes does not touch IAM Warden's own resources",
    )


def test_a_create_topic_with_a_public_policy_is_a_finding() -> None:
    event = load_event("sns-create-topic-default-policy.json")
    event["detail"]["requestParameters"]["attributes"]["Policy"] = json.dumps(
        {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sns:Publish", "Resource": "*"}]}
    )
    [finding] = _judge(event).findings
    assert finding.rule_id == "sns-topic-policy-public"
    assert finding.resource_arn == f"arn:aws:sns:eu-west-1:{ACCOUNT}:orders"


def test_an_sns_event_naming_no_topic_arn_is_invalid() -> None:
    event = load_event("sns-add-permission-unknown-account.json")
    event["detail"]["requestParameters"]["topicArn"] = "price-updates"
    judgement = _judge(event)
    assert judgement.verdict is Verdict.INVALID
    assert "is not an SNS topic ARN" in judgement.reason


def test_snss_default_policy_lets_in_the_owner_only() -> None:
    event = load_event("sns-policy-public-subscribe.json")
    event["detail"]["requestParameters"]["attributeValue"] = json.dumps(default_topic_policy(TOPIC))
    assert _judge(event).verdict is Verdict.COMPLIANT


class Clients:
    """A client stub per service, keeping one topic's or queue's policy attribute."""

    account = "111122223333"

    def __init__(self, policy: str | None) -> None:
        self.policy = policy
        self.calls: list[str] = []

    def client(self, service: str) -> Any:
        return self

    # SNS
    def get_topic_attributes(self, TopicArn: str) -> dict[str, Any]:
        return {"Attributes": {"Policy": self.policy}}

    def set_topic_attributes(self, TopicArn: str, AttributeName: str, AttributeValue: str) -> None:
        self.calls.append("SetTopicAttributes")
        self.policy = AttributeValue

    # SQS
    def get_queue_attributes(self, QueueUrl: str, AttributeNames: list[str]) -> dict[str, Any]:
        return {"Attributes": {"Policy": self.policy} if self.policy else {}}

    def set_queue_attributes(self, QueueUrl: str, Attributes: dict[str, str]) -> None:
        self.calls.append("SetQueueAttributes")
        self.policy = Attributes["Policy"] or None


class Run:
    def __init__(self, aws: Clients) -> None:
        self.aws: Any = aws
        self.finding_id = "f-1"
        self.now = "2026-12-04T00:00:00+00:00"


def test_a_topic_whose_every_statement_offends_gets_snss_default_policy_back() -> None:
    [finding] = _judge(load_event("sns-add-permission-unknown-account.json")).findings
    [step] = finding.plan
    live = {
        "Version": "2008-10-17",
        "Statement": [{**step.parameters["statements"][0]["statement"], "Sid": "partner-publish"}],
    }
    aws = Clients(json.dumps(live))
    before = REMOVE_TOPIC_POLICY_STATEMENTS.capture(aws, step)  # type: ignore[arg-type]
    done: list[str] = []

    REMOVE_TOPIC_POLICY_STATEMENTS.apply(Run(aws), step, before, done)

    assert json.loads(aws.policy or "") == default_topic_policy(TOPIC)
    assert done == [f"deleted the policy of topic {TOPIC}: every statement in it was offending"]


def test_the_label_match_removes_aws_own_spelling_and_undo_puts_it_back() -> None:
    [finding] = _judge(load_event("sqs-add-permission-unknown-account.json")).findings
    [step] = finding.plan
    own = {"Sid": "Own", "Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sqs:*", "Resource": "*"}
    # SQS spells the statement its own way: a bare principal, one action as a string, the queue ARN.
    written = {
        "Sid": "vendor-send",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::999988887777:root"},
        "Action": "SQS:SendMessage",
        "Resource": f"arn:aws:sqs:eu-west-1:{ACCOUNT}:orders-events",
    }
    policy = {"Version": "2012-10-17", "Statement": [own, written]}
    aws = Clients(json.dumps(policy))
    before = REMOVE_QUEUE_POLICY_STATEMENTS.capture(aws, step)  # type: ignore[arg-type]
    done: list[str] = []

    REMOVE_QUEUE_POLICY_STATEMENTS.apply(Run(aws), step, before, done)
    assert json.loads(aws.policy or "")["Statement"] == [own]

    restored = REMOVE_QUEUE_POLICY_STATEMENTS.undo(aws, step, before)  # type: ignore[arg-type]
    assert json.loads(aws.policy or "") == policy
    assert restored == [f"restored 1 statement(s) into the current policy of queue {URL}"]

    aws.calls.clear()
    again: list[str] = []
    REMOVE_QUEUE_POLICY_STATEMENTS.apply(
        Run(aws), step, copy.deepcopy(before) | {"policy": json.dumps({"Statement": [own]})}, again
    )
    assert (again, aws.calls) == ([], []), "a live policy without the statement is never touched"
