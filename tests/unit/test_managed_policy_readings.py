"""A managed policy created with a key named twice is judged on every reading when it is created (review s11 note).

``CreatePolicy`` used to be judged by no rule, and the attach rules read a policy through boto3, which keeps each
key's last value: a document whose first reading grants ``*`` passed unseen. ``managed-policy-ambiguous`` reads it
either way at creation and alerts when any reading is risky, with ``needs_context`` when the readings disagree.
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import quote

import pytest

from iamwarden.domain.catalog import Severity
from iamwarden.domain.findings import Verdict
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import SAMPLE_OWN, load_event

RULE = "managed-policy-ambiguous"


def _created(document: str, **request: Any) -> Any:
    event = copy.deepcopy(load_event("create-policy-duplicate-keys.json"))
    event["detail"]["requestParameters"]["policyDocument"] = document
    event["detail"]["requestParameters"].update(request)
    return judge_event(event, Settings(own=SAMPLE_OWN))


def _statement(body: str) -> str:
    return '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", ' + body + ', "Resource": "*"}]}'


def test_a_first_reading_that_is_admin_is_alerted_critical_and_never_planned() -> None:
    [finding] = judge_event(load_event("create-policy-duplicate-keys.json"), Settings(own=SAMPLE_OWN)).findings
    assert finding.rule_id == RULE
    assert finding.severity is Severity.CRITICAL
    assert finding.plan == ()
    assert finding.resource_arn == "arn:aws:iam::111122223333:policy/reports-reader"
    assert "one reading grants admin-equivalent access" in finding.reason
    assert finding.needs_context == (
        "which value AWS enforces for a key the policy text names twice (Statement[0].Action): the readings "
        "disagree on what the policy grants",
    )


@pytest.mark.parametrize("prefix", ["", "%0A"])
def test_a_url_encoded_document_is_decoded_before_it_is_read_every_way(prefix: str) -> None:
    # CloudTrail may record an IAM policy document URL-encoded; every reading reads it decoded (review s13 F4).
    document = load_event("create-policy-duplicate-keys.json")["detail"]["requestParameters"]["policyDocument"]
    judged = _created(prefix + quote(document, safe=""))
    assert judged.unjudged == ()
    [finding] = judged.findings
    assert finding.rule_id == RULE
    assert finding.severity is Severity.CRITICAL


def test_the_last_value_being_the_admin_one_is_found_as_well() -> None:
    [finding] = _created(_statement('"Action": "s3:GetObject", "Action": "*"')).findings
    assert finding.severity is Severity.CRITICAL
    assert finding.needs_context  # the readings still disagree


def test_every_reading_escalating_is_high_and_certain() -> None:
    judged = _created(_statement('"Action": "iam:CreatePolicyVersion", "Action": ["iam:CreatePolicyVersion"]'))
    # A key named twice with the same meaning: both readings open the same method.
    [finding] = judged.findings
    assert finding.severity is Severity.HIGH
    assert "every reading opens a privilege-escalation method" in finding.reason
    assert finding.needs_context == ()


@pytest.mark.parametrize(
    "document",
    [
        _statement('"Action": "s3:GetObject"'),  # one reading
        _statement('"Action": "s3:ListBucket", "Action": "s3:GetObject"'),  # two readings, neither risky
    ],
)
def test_a_document_without_a_risky_reading_is_compliant(document: str) -> None:
    judged = _created(document)
    assert judged.verdict is Verdict.COMPLIANT


def test_without_the_arn_in_the_response_it_is_built_from_the_path_and_name() -> None:
    event = copy.deepcopy(load_event("create-policy-duplicate-keys.json"))
    event["detail"]["responseElements"] = None
    event["detail"]["requestParameters"]["path"] = "/team/"
    [finding] = judge_event(event, Settings(own=SAMPLE_OWN)).findings
    assert finding.resource_arn == "arn:aws:iam::111122223333:policy/team/reports-reader"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"path": "team"}, "detail.requestParameters.path must be a path"),
        ({"policyDocument": None}, "detail.requestParameters.policyDocument must be a non-empty string"),
    ],
)
def test_a_malformed_record_is_invalid(change: dict[str, Any], message: str) -> None:
    event = copy.deepcopy(load_event("create-policy-duplicate-keys.json"))
    event["detail"]["responseElements"] = None
    event["detail"]["requestParameters"].update(change)
    judged = judge_event(event, Settings(own=SAMPLE_OWN))
    assert judged.verdict is Verdict.INVALID
    assert message in judged.reason


def test_a_reading_that_is_not_a_policy_is_invalid() -> None:
    judged = _created('{"Statement": 1, "Statement": 2}')
    assert judged.verdict is Verdict.INVALID
