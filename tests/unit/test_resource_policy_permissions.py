"""By-Sid changes reach IAM Warden's record of a queue's or topic's policy (issue 13 item 7).

* ``RemovePermission`` (SQS and SNS: ``label``) takes the statement of that Sid out of the record, keeping the marks
  of the statements that stay; a record without it, an unknown record (``policy`` None), a record of another account
  or one newer than the call is left alone.
* ``AddPermission`` leaves the record unknown (``policy`` None), as on main, even when it was known: a record derived
  from it lost pending marks, outlived a whole put judged late and handed an acceptance to another statement granting
  the same (review s14 F0-F2).

The events are the samples ``sqs-add-permission-unknown-account.json`` / ``sns-add-permission-unknown-account.json``;
RemovePermission records are those with ``eventName`` RemovePermission and only ``queueUrl``/``topicArn`` and ``label``
(SQS: as the AWS SQS Developer Guide's CloudTrail example of RemovePermission shows, "Logging Amazon SQS API calls
using AWS CloudTrail", https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-logging-using-cloudtrail.html;
SNS: assembled from the SNS API model, ``TopicArn`` and ``Label``, as no published CloudTrail record was found).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import pytest

from iamwarden.domain.catalog import Mode
from iamwarden.domain.events import parse_event
from iamwarden.domain.recorded import RESOURCE_POLICY, PastRemediation, Snapshot
from iamwarden.domain.settings import RuleSettings, Settings
from iamwarden.domain.statement_meaning import statement_meaning
from iamwarden.guardrails.base import RuleContext
from iamwarden.guardrails.sns_topic_policy import TOPIC_POLICY_RULE
from iamwarden.guardrails.sqs_queue_policy import QUEUE_POLICY_RULE
from tests.conftest import load_event

ACCOUNT = "111122223333"
QUEUE_URL = f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/orders-events"
QUEUE_ARN = f"arn:aws:sqs:eu-west-1:{ACCOUNT}:orders-events"
TOPIC_ARN = f"arn:aws:sns:eu-west-1:{ACCOUNT}:price-updates"
BEFORE = "2026-12-02T09:00:00.000+00:00"  # the samples are at 2026-12-02T09:14:22Z
LATER = "2026-12-02T10:00:00.000+00:00"

OWN = {"Sid": "Own", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "SQS:*"}
PARTNER = {"Sid": "partner", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::555566667777:root"}}


class FakeRecorded:
    def __init__(self, snapshot: Snapshot | None) -> None:
        self._snapshot = snapshot

    def remediations(self, resource_arn: str) -> Sequence[PastRemediation]:
        return ()

    def snapshot(self, kind: str, resource_arn: str) -> Snapshot | None:
        if self._snapshot is None or (kind, resource_arn) != (self._snapshot.kind, self._snapshot.resource_arn):
            return None
        return self._snapshot


def document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def record(
    key: str, *statements: dict[str, Any], taken: str = BEFORE, marks: dict[str, list[str]] | None = None
) -> Snapshot:
    return Snapshot(RESOURCE_POLICY, key, taken, {"policy": document(*statements), "pending": [], **(marks or {})})


def removal(service: str, label: str = "partner", *, account: str = ACCOUNT) -> dict[str, Any]:
    event = copy.deepcopy(load_event(f"{service}-add-permission-unknown-account.json"))
    detail = event["detail"]
    detail["eventName"] = "RemovePermission"
    name = "queueUrl" if service == "sqs" else "topicArn"
    detail["requestParameters"] = {name: detail["requestParameters"][name], "label": label}
    event["account"] = detail["recipientAccountId"] = account
    return event


def judged(rule: Any, event: dict[str, Any], recorded: FakeRecorded | None, mode: Mode = Mode.REMEDIATE) -> Any:
    settings = Settings(rules={spec.id: RuleSettings(spec.id, mode) for spec in rule.specs})
    return rule.evaluate(RuleContext(parse_event(event), settings, recorded=recorded))


RULES = [("sqs", QUEUE_POLICY_RULE, QUEUE_ARN), ("sns", TOPIC_POLICY_RULE, TOPIC_ARN)]


@pytest.mark.parametrize(("service", "rule", "key"), RULES)
def test_remove_permission_takes_the_statement_of_its_label_out_of_the_record_and_keeps_the_marks(
    service: str, rule: Any, key: str
) -> None:
    marks = {"accepted": [statement_meaning(PARTNER)], "alerted": [statement_meaning(OWN)]}
    evaluation = judged(rule, removal(service, "partner"), FakeRecorded(record(key, OWN, PARTNER, marks=marks)))

    assert evaluation.findings == []
    assert evaluation.compliant == [
        f"the change removes statement partner from the policy of {
            rule.describe(QUEUE_URL if service == 'sqs' else TOPIC_ARN)
        }"
    ]
    [kept] = evaluation.observed
    assert kept.data == {"policy": document(OWN), "pending": [], "alerted": [statement_meaning(OWN)]}
    assert kept.taken_at == "2026-12-02T09:14:22.000+00:00"
    assert kept.base == (BEFORE, 0)  # kept only while the record it was derived from is still the stored one
    assert kept.whatever_the_verdict


@pytest.mark.parametrize(("service", "rule", "key"), RULES)
@pytest.mark.parametrize(
    "recorded",
    [
        None,  # offline
        FakeRecorded(None),  # no record
        "without",  # a record that does not hold the label
        "unknown",  # the record says the policy is unknown (an AddPermission on an unknown record)
        "newer",  # a record newer than the call (delivered late): never replaced
        "unusable",
    ],
)
def test_remove_permission_leaves_a_record_it_cannot_reach_alone(
    service: str, rule: Any, key: str, recorded: Any
) -> None:
    if recorded == "without":
        recorded = FakeRecorded(record(key, OWN))
    elif recorded == "unknown":
        recorded = FakeRecorded(Snapshot(RESOURCE_POLICY, key, BEFORE, {"policy": None}))
    elif recorded == "newer":
        recorded = FakeRecorded(record(key, OWN, PARTNER, taken=LATER))
    elif recorded == "unusable":
        recorded = FakeRecorded(record(key, OWN, PARTNER)._replace(unusable=True))
    evaluation = judged(rule, removal(service), recorded)
    assert evaluation.findings == []
    assert evaluation.observed == []


def test_remove_permission_in_another_account_never_reaches_this_account_s_record() -> None:
    """A queue URL names its account, so another account's queue is another record (the ARN names the account)."""
    event = removal("sqs")
    other = "444455556666"
    event["detail"]["requestParameters"]["queueUrl"] = f"https://sqs.eu-west-1.amazonaws.com/{other}/orders-events"
    evaluation = judged(QUEUE_POLICY_RULE, event, FakeRecorded(record(QUEUE_ARN, OWN, PARTNER)))
    assert evaluation.observed == []


@pytest.mark.parametrize("service", ["sqs", "sns"])
def test_a_failed_remove_permission_changes_nothing(service: str) -> None:
    """A refused RemovePermission (errorCode) removed nothing: the engine judges it not at all, so the record stays."""
    from iamwarden.guardrails.engine import judge_change

    key = QUEUE_ARN if service == "sqs" else TOPIC_ARN
    recorded = FakeRecorded(record(key, OWN, PARTNER))
    routed = judge_change(parse_event(removal(service)), Settings(), recorded=recorded)
    assert [s.data["policy"] for s in routed.observed] == [document(OWN)]  # routed: a successful call reaches it
    event = removal(service)
    event["detail"].update(errorCode="AccessDenied", errorMessage="Access to the resource is denied.")
    judgement = judge_change(parse_event(event), Settings(), recorded=recorded)
    assert judgement.observed == ()
    assert judgement.findings == ()


@pytest.mark.parametrize(("service", "rule", "key"), RULES)
@pytest.mark.parametrize("mode", [Mode.ALERT, Mode.REMEDIATE])
@pytest.mark.parametrize(
    "marks",
    [
        {},
        {"accepted": [statement_meaning(PARTNER)]},  # an operator's acceptance (review s14 F2)
        {"pending": [statement_meaning(PARTNER)]},  # a statement put in while it could not be removed (F0)
    ],
)
def test_add_permission_leaves_even_a_known_record_unknown_with_no_mark_carried(
    service: str, rule: Any, key: str, mode: Mode, marks: dict[str, list[str]]
) -> None:
    """Review s14 F0-F2: an AddPermission shows one statement, never the document. A record derived from the known one
    lost pending marks, outlived a whole put judged late and handed an acceptance to another statement granting the
    same; so the record says the policy is unknown (as on main), and the next whole put is judged whole."""
    evaluation = judged(
        rule,
        load_event(f"{service}-add-permission-unknown-account.json"),
        FakeRecorded(record(key, OWN, PARTNER, marks=marks)),
        mode,
    )

    [finding] = evaluation.findings  # the vendor's new share
    assert finding.plan[0].parameters["statements"][0]["match"] == "label"  # its label and meaning, both (F3)
    [kept] = evaluation.observed
    assert kept.data == {"policy": None}
    assert kept.base is None  # not derived: never refused as a lost update, never refusing a later whole put


@pytest.mark.parametrize(("service", "rule", "key"), RULES)
def test_add_permission_on_an_unknown_record_leaves_it_unknown(service: str, rule: Any, key: str) -> None:
    evaluation = judged(rule, load_event(f"{service}-add-permission-unknown-account.json"), FakeRecorded(None))
    [kept] = evaluation.observed
    assert kept.data == {"policy": None}
