"""Queue and topic deletions clear IAM Warden's record; an AddPermission's plan names its statement by label and
meaning, both (issue 13; review s14 F3 and F5).

* ``DeleteQueue`` / ``DeleteTopic`` (samples ``sqs-delete-queue.json`` / ``sns-delete-topic.json``: ``queueUrl`` /
  ``topicArn`` only, as the SQS and SNS developer guides' CloudTrail examples record them) leave an empty record as of
  their time, whatever the record held, and keyed by the deleted resource's ARN: another account's queue or topic of
  the same name is another record. A failed deletion (``errorCode``) is never judged.
* ``statement_offends`` for a ``label`` reference: the Sid and the meaning, both; a ``sid`` reference (an event bus's
  PutPermission, stored plans) keeps "the Sid, or the meaning".
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from iamwarden.domain.events import parse_event
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.domain.recorded import RESOURCE_POLICY
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_change
from iamwarden.guardrails.resource_policy import LABEL_MATCH, label_notes, statement_offends
from iamwarden.guardrails.sns_topic_policy import TOPIC_POLICY_RULE
from iamwarden.guardrails.sqs_queue_policy import QUEUE_POLICY_RULE
from tests.conftest import load_event
from tests.unit.test_resource_policy_permissions import (
    ACCOUNT,
    OWN,
    PARTNER,
    QUEUE_ARN,
    TOPIC_ARN,
    FakeRecorded,
    document,
    judged,
    record,
)

SAMPLES = [
    ("sqs-delete-queue.json", QUEUE_POLICY_RULE, QUEUE_ARN, "queueUrl"),
    ("sns-delete-topic.json", TOPIC_POLICY_RULE, TOPIC_ARN, "topicArn"),
]
OTHER = "444455556666"


@pytest.mark.parametrize(("sample", "rule", "key", "_"), SAMPLES)
def test_a_deletion_clears_the_record_whatever_it_held(sample: str, rule: Any, key: str, _: str) -> None:
    marks = {"accepted": ["an accepted meaning"], "pending": ["a pending meaning"]}
    evaluation = judged(rule, load_event(sample), FakeRecorded(record(key, OWN, PARTNER, marks=marks)))

    assert evaluation.findings == []
    [kept] = evaluation.observed
    assert (kept.kind, kept.resource_arn, kept.data) == (
        RESOURCE_POLICY,
        key,
        {"policy": {"Statement": []}, "pending": []},
    )
    assert kept.taken_at == "2026-12-02T09:16:05.000+00:00"
    assert kept.whatever_the_verdict
    assert kept.base is None  # no base: never replaces a newer record (a namesake's creation, judged first)


@pytest.mark.parametrize(("sample", "rule", "key", "name"), SAMPLES)
def test_a_deletion_in_another_account_is_another_record(sample: str, rule: Any, key: str, name: str) -> None:
    event = copy.deepcopy(load_event(sample))
    request = event["detail"]["requestParameters"]
    request[name] = request[name].replace(ACCOUNT, OTHER)
    evaluation = judged(rule, event, FakeRecorded(record(key, OWN, PARTNER)))

    [kept] = evaluation.observed
    assert kept.resource_arn == key.replace(ACCOUNT, OTHER)  # this account's record is never written


@pytest.mark.parametrize(("sample", "rule", "key", "_"), SAMPLES)
def test_a_deletion_is_routed_and_a_failed_one_is_never_judged(sample: str, rule: Any, key: str, _: str) -> None:
    recorded = FakeRecorded(record(key, OWN, PARTNER))
    routed = judge_change(parse_event(load_event(sample)), Settings(), recorded=recorded)
    assert [s.data["policy"] for s in routed.observed] == [{"Statement": []}]
    event = copy.deepcopy(load_event(sample))
    event["detail"].update(errorCode="AccessDenied", errorMessage="Access to the resource is denied.")
    judgement = judge_change(parse_event(event), Settings(), recorded=recorded)
    assert judgement.observed == ()
    assert judgement.findings == ()


VENDOR = {**PARTNER, "Sid": "dup", "Action": "SQS:SendMessage", "Resource": QUEUE_ARN}


def _step(match: str) -> RemediationStep:
    reference = {"index": 0, "sid": "dup", "statement": VENDOR, "match": match}
    return RemediationStep(StepAction("remove_queue_policy_statements"), QUEUE_ARN, {"statements": [reference]})


@pytest.mark.parametrize(
    ("live", "by_label", "by_sid"),
    [
        (VENDOR, True, True),  # the statement the change added
        ({**VENDOR, "Action": ["sqs:sendmessage"], "Principal": {"AWS": "555566667777"}}, True, True),  # re-spelt
        ({**VENDOR, "Sid": "VendorSend"}, False, True),  # the same grant under another label (F3 a)
        ({**VENDOR, "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}, False, True),  # the label re-added (F3 b)
        (OWN, False, False),
    ],
)
def test_a_label_reference_matches_its_sid_and_meaning_both(live: Any, by_label: bool, by_sid: bool) -> None:
    assert statement_offends(live, _step(LABEL_MATCH)) is by_label
    assert statement_offends(live, _step("sid")) is by_sid  # the event bus's by-Sid plans, stored plans: unchanged


def test_a_statement_left_beside_a_label_reference_is_said_why() -> None:
    where = "the policy of queue orders-events"
    [same] = label_notes({**VENDOR, "Sid": "VendorSend"}, _step(LABEL_MATCH), where)
    assert same.startswith(
        "left statement VendorSend of the policy of queue orders-events in place: it grants the same"
    )
    [changed] = label_notes({**VENDOR, "Action": "SQS:*"}, _step(LABEL_MATCH), where)
    assert "no longer grants what the change added" in changed
    assert label_notes(OWN, _step(LABEL_MATCH), where) == []
    assert label_notes({**VENDOR, "Sid": "VendorSend"}, _step("sid"), where) == []


@pytest.mark.parametrize(("service", "rule"), [("sqs", QUEUE_POLICY_RULE), ("sns", TOPIC_POLICY_RULE)])
def test_an_add_permission_plan_names_its_label_for_the_label_match(service: str, rule: Any) -> None:
    evaluation = judged(rule, load_event(f"{service}-add-permission-unknown-account.json"), FakeRecorded(None))
    [finding] = evaluation.findings
    [reference] = finding.plan[0].parameters["statements"]
    assert (reference["match"], reference["sid"]) == (
        LABEL_MATCH,
        "vendor-send" if service == "sqs" else "partner-publish",
    )
    assert document(reference["statement"])["Statement"][0]["Sid"] == reference["sid"]
