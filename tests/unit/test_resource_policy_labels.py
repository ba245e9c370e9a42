"""Queue and topic deletions clear IAM Warden's record; an AddPermission's plan names its statement by label and
meaning, both (issue 13; review s14 F3 and F5).

* ``DeleteQueue`` / ``DeleteTopic`` (samples ``sqs-delete-queue.json`` / ``sns-delete-topic.json``: ``queueUrl`` /
  ``topicArn`` only, as the SQS and SNS developer guides' CloudTrail examples record them) leave an empty record as of
  their time, whatever the record held (``rank`` -1: a namesake's put of the same second wins the tie in either
  order, review2 respol-s15 R1). Another account's queue or topic (SNS allows a cross-account DeleteTopic)
  is judged compliant and changes no record, never a "forged or misrouted event" (F4); a queue URL that does not read
  is compliant too, never a "could not read" alert (F5). A failed deletion (``errorCode``) is never judged.
* ``statement_offends`` for a ``label`` reference: the meaning, under its Sid or under another Sid unless an operator
  accepted it (the plan's ``accepted``, review respol-s15 F2); a ``sid`` reference (an event bus's PutPermission,
  stored plans) keeps "the Sid, or the meaning".
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from typing import Any

import pytest

from iamwarden.domain.events import parse_event
from iamwarden.domain.findings import RemediationStep, StepAction, Verdict
from iamwarden.domain.recorded import RESOURCE_POLICY, PastRemediation
from iamwarden.domain.settings import Settings
from iamwarden.domain.statement_meaning import statement_meaning
from iamwarden.guardrails.engine import judge_change
from iamwarden.guardrails.resource_policy import ACCEPTED, LABEL_MATCH, label_notes, statement_offends
from iamwarden.guardrails.sns_topic_policy import TOPIC_POLICY_RULE
from iamwarden.guardrails.sqs_queue_policy import QUEUE_POLICY_RULE
from tests.conftest import load_event
from tests.unit.test_resource_policy_permissions import (
    ACCOUNT,
    BEFORE,
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
URL = "https://sqs.eu-west-1.amazonaws.com/111122223333/orders-events"
QUEUE_CROSS_ID = "sqs-queue-policy-cross-account"


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
    # Never wins a tie of its second with a policy state (a namesake's put: review2 R1), never makes it unusable.
    assert (kept.rank, kept.ambiguous_within_instant) == (-1, False)


@pytest.mark.parametrize(("sample", "rule", "key", "name"), SAMPLES)
def test_a_deletion_in_another_account_is_compliant_and_changes_no_record(
    sample: str, rule: Any, key: str, name: str
) -> None:
    event = copy.deepcopy(load_event(sample))
    request = event["detail"]["requestParameters"]
    request[name] = request[name].replace(ACCOUNT, OTHER)
    judgement = judge_change(parse_event(event), Settings(), recorded=FakeRecorded(record(key, OWN, PARTNER)))

    assert (judgement.verdict, judgement.rejected, judgement.findings, judgement.observed) == (
        Verdict.COMPLIANT,
        False,
        (),
        (),
    )
    assert "forged" not in judgement.reason
    assert f"of account {OTHER}: no policy of this account changes" in judgement.reason


@pytest.mark.parametrize(
    "url",
    [
        f"http://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/orders-events",
        f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/orders-events/",
    ],
)
def test_a_delete_queue_url_is_read_leniently(url: str) -> None:
    event = copy.deepcopy(load_event("sqs-delete-queue.json"))
    event["detail"]["requestParameters"]["queueUrl"] = url
    judgement = judge_change(parse_event(event), Settings(), recorded=FakeRecorded(record(QUEUE_ARN, OWN, PARTNER)))
    assert judgement.verdict is Verdict.COMPLIANT
    assert [(s.resource_arn, s.data["policy"]) for s in judgement.observed] == [(QUEUE_ARN, {"Statement": []})]


def test_a_delete_queue_url_that_does_not_read_is_compliant_and_clears_nothing() -> None:
    event = copy.deepcopy(load_event("sqs-delete-queue.json"))
    event["detail"]["requestParameters"]["queueUrl"] = "orders-events"
    judgement = judge_change(parse_event(event), Settings(), recorded=FakeRecorded(record(QUEUE_ARN, OWN, PARTNER)))
    assert (judgement.verdict, judgement.findings, judgement.observed, judgement.unjudged) == (
        Verdict.COMPLIANT,
        (),
        (),
        (),
    )
    assert "IAM Warden does not read ('orders-events' is not an SQS queue URL)" in judgement.reason


def test_a_set_queue_attributes_url_that_does_not_read_is_still_an_unjudged_alert() -> None:
    event = copy.deepcopy(load_event("sqs-add-permission-unknown-account.json"))
    event["detail"]["requestParameters"]["queueUrl"] = "orders-events"
    judgement = judge_change(parse_event(event), Settings())
    assert judgement.verdict is Verdict.INVALID
    assert [u.rule_id for u in judgement.unjudged]  # said, never silent: only a deletion is lenient


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


def _step(match: str, *accepted: str) -> RemediationStep:
    reference = {"index": 0, "sid": "dup", "statement": VENDOR, "match": match}
    parameters: dict[str, Any] = {"statements": [reference], **({ACCEPTED: list(accepted)} if accepted else {})}
    return RemediationStep(StepAction("remove_queue_policy_statements"), QUEUE_ARN, parameters)


@pytest.mark.parametrize(
    ("live", "by_label", "by_label_accepted", "by_sid"),
    [
        (VENDOR, True, True, True),  # the statement the change added (accepted or not: its own label goes)
        ({**VENDOR, "Action": ["sqs:sendmessage"], "Principal": {"AWS": "555566667777"}}, True, True, True),  # re-spelt
        ({**VENDOR, "Sid": "VendorSend"}, True, False, True),  # the same grant under another label: kept if accepted
        ({**VENDOR, "Sid": None}, True, False, True),  # the same grant with no Sid
        ({**VENDOR, "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}, False, False, True),  # label re-added
        (OWN, False, False, False),
    ],
)
def test_a_label_reference_matches_its_meaning_and_keeps_only_an_accepted_other_label(
    live: Any, by_label: bool, by_label_accepted: bool, by_sid: bool
) -> None:
    assert statement_offends(live, _step(LABEL_MATCH)) is by_label
    assert statement_offends(live, _step(LABEL_MATCH, statement_meaning(VENDOR))) is by_label_accepted
    assert statement_offends(live, _step("sid")) is by_sid  # the event bus's by-Sid plans, stored plans: unchanged


def test_a_statement_left_beside_a_label_reference_is_said_why() -> None:
    where = "the policy of queue orders-events"
    [same] = label_notes({**VENDOR, "Sid": "VendorSend"}, _step(LABEL_MATCH), where)
    assert same.startswith(
        "left statement VendorSend of the policy of queue orders-events in place: an operator accepted it"
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
    assert ACCEPTED not in finding.plan[0].parameters  # no record: nothing accepted


@pytest.mark.parametrize(
    ("service", "rule", "key"), [("sqs", QUEUE_POLICY_RULE, QUEUE_ARN), ("sns", TOPIC_POLICY_RULE, TOPIC_ARN)]
)
def test_an_add_permission_plan_keeps_what_the_record_marks_accepted_and_grants_the_same(
    service: str, rule: Any, key: str
) -> None:
    event = load_event(f"{service}-add-permission-unknown-account.json")
    [added] = judged(rule, event, FakeRecorded(None)).findings[0].plan[0].parameters["statements"]
    same = statement_meaning(added["statement"])
    marks = {"accepted": [same, statement_meaning(OWN)]}
    [finding] = judged(rule, event, FakeRecorded(record(key, OWN, marks=marks))).findings
    assert finding.plan[0].parameters[ACCEPTED] == [same]  # only the accepted meaning this change grants too


# --- What a past label plan counts as "removed by IAM Warden before" (review respol-s15 F1) ---------------------------

SEND = {**PARTNER, "Sid": "VendorSend", "Action": "SQS:SendMessage", "Resource": QUEUE_ARN}
TLS = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "SQS:SendMessage",
    "Resource": QUEUE_ARN,
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


class PastRecorded(FakeRecorded):
    def __init__(self, snapshot: Any, past: PastRemediation) -> None:
        super().__init__(snapshot)
        self._past = past

    def remediations(self, resource_arn: str) -> Sequence[PastRemediation]:
        return (self._past,) if resource_arn == QUEUE_ARN else ()


def _past(match: str, done: tuple[str, ...], *accepted: str, status: str = "remediated") -> PastRemediation:
    reference = {"index": 0, "sid": "dup", "statement": {**SEND, "Sid": "dup"}, "match": match}
    parameters = {"queueUrl": URL, "statements": [reference], **({ACCEPTED: list(accepted)} if accepted else {})}
    step = {"action": "remove_queue_policy_statements", "target": QUEUE_ARN, "parameters": parameters}
    return PastRemediation("rem-1", QUEUE_CROSS_ID, status, BEFORE, (step,), done)


CUT = ("removed 1 statement(s) from the policy of queue orders-events; kept 2",)
NOTE_ONLY = ("left statement dup of the policy of queue orders-events in place: it no longer grants what the change",)


@pytest.mark.parametrize(
    ("past", "older"),
    [
        (_past(LABEL_MATCH, CUT, statement_meaning(SEND)), True),  # kept VendorSend (accepted then): only dup went
        (_past(LABEL_MATCH, CUT), False),  # removed VendorSend too: removed before, never older
        (_past(LABEL_MATCH, NOTE_ONLY), True),  # removed nothing (its label re-added differently)
        (_past(LABEL_MATCH, ()), False),  # nothing done (failed before any removal): tried, so removed before
        (_past(LABEL_MATCH, NOTE_ONLY, status="failed"), False),  # failed, only said why: tried, removed before
        (_past(LABEL_MATCH, NOTE_ONLY, status="in_progress"), False),  # under way: tried, removed before
        (_past("sid", ()), False),  # a stored by-Sid plan: any attempt counts, as before
    ],
)
def test_a_label_plan_counts_as_removed_before_unless_it_only_said_why_it_removed_nothing(
    past: PastRemediation, older: bool
) -> None:
    event = copy.deepcopy(load_event("sqs-policy-public.json"))
    event["detail"]["requestParameters"]["attributes"]["Policy"] = json.dumps(document(OWN, SEND, TLS))
    snapshot = record(QUEUE_ARN, OWN, SEND, marks={"alerted": [statement_meaning(SEND)]})

    [finding] = judged(QUEUE_POLICY_RULE, event, PastRecorded(snapshot, past)).findings

    assert (finding.plan == ()) is older, finding.reason
    assert ("predates the change" in finding.reason) is older
