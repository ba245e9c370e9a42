"""Attaching a customer-managed policy whose text names a key twice, judged live on every reading (moto).

moto keeps a policy document's text as it was given (``GetPolicyVersion`` answers it; botocore's
``json_decode_policies`` then keeps each key's last value): the live reader keeps the text before that decode, so the
attach is judged on every reading (session 13 note). Every reading admin: remediated as before; readings that disagree:
remediated as well when one reading opens a method with certainty (review s14, the lead's decision), the alert saying
which reading grants what.
"""

from __future__ import annotations

import copy
import json
from typing import Any
from urllib.parse import unquote

import pytest

from iamwarden.adapters.iam_documents import _TEXT, _keep_text
from iamwarden.app.service import EnforcerService
from iamwarden.domain.findings import Outcome
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier
from tests.functional.test_aws_managed_whole_power import EC2_TRUST, _heartbeat


def _text(body: str) -> str:
    return '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", ' + body + ', "Resource": "*"}]}'


def _attach(account: Account, text: str) -> tuple[str, dict[str, Any]]:
    """Role app, a policy made of ``text`` attached to it live after the heartbeat; the AttachRolePolicy event."""
    account.iam.create_role(RoleName="app", AssumeRolePolicyDocument=EC2_TRUST)
    arn = account.iam.create_policy(PolicyName="reports-reader", PolicyDocument=text)["Policy"]["Arn"]
    _heartbeat(account)
    account.iam.attach_role_policy(RoleName="app", PolicyArn=arn)
    event = copy.deepcopy(load_event("attach-customer-managed.json"))
    event["detail"]["requestParameters"] = {"roleName": "app", "policyArn": arn}
    return arn, event


def _attached(account: Account) -> list[str]:
    return [p["PolicyArn"] for p in account.iam.list_attached_role_policies(RoleName="app")["AttachedPolicies"]]


def test_moto_keeps_the_text_as_given(account: Account) -> None:
    # What the tests below rest on (review s14 R8): moto answers GetPolicyVersion with the text as given, botocore
    # decodes it keeping the last value, and the live reader's hook keeps the text before that.
    text = _text('"Action": "*", "Action": "s3:GetObject"')
    arn = account.iam.create_policy(PolicyName="two-ways", PolicyDocument=text)["Policy"]["Arn"]
    _keep_text(account.iam)
    read = account.iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]
    assert read["Document"]["Statement"][0]["Action"] == "s3:GetObject"  # botocore's last-wins decode
    kept = unquote(read[_TEXT])
    assert kept.count('"Action"') == 2
    assert json.loads(kept) == json.loads(text)


def test_every_reading_admin_is_remediated_as_before(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("rules/privilege-escalation/mode", "remediate")
    _arn, event = _attach(account, _text('"Action": "iam:*", "Action": "*"'))

    findings = {finding["rule"]: finding for finding in enforcer.handle(event)["findings"]}

    assert findings["privilege-escalation"]["outcome"] == Outcome.REMEDIATED
    assert _attached(account) == []


@pytest.mark.parametrize(
    "body",
    ['"Action": "*", "Action": "s3:GetObject"', '"Action": "s3:GetObject", "Action": "*"'],
)
def test_one_reading_admin_is_remediated_and_the_alert_says_which_reading_grants_what(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, body: str
) -> None:
    # The lead's decision (review s14 R7): a harmless duplicate key does not turn a remediable attach into an alert.
    account.set("rules/privilege-escalation/mode", "remediate")
    arn, event = _attach(account, _text(body))

    findings = {finding["rule"]: finding for finding in enforcer.handle(event)["findings"]}

    # Whichever value boto3 keeps, one reading grants everything: detached (the inverse of the attach on any reading).
    assert findings["privilege-escalation"]["outcome"] == Outcome.REMEDIATED
    assert _attached(account) == []
    [escalation] = [
        sent.finding for sent in notifier.sent if sent.finding and sent.finding.rule_id == "privilege-escalation"
    ]
    assert escalation.certain
    assert (
        f"This policy can be read two ways: the text of version v1 of {arn} names a key twice with different "
        "values, and AWS documents no reading of it. Read with each key's last value (as boto3 reads it), it "
    ) in escalation.reason
    assert "it opens admin-equivalent access" in escalation.reason
    assert "it opens nothing IAM Warden guards against" in escalation.reason


def test_no_reading_offending_is_compliant(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/privilege-escalation/mode", "remediate")
    arn, event = _attach(account, _text('"Action": "s3:ListBucket", "Action": "s3:GetObject"'))

    result = enforcer.handle(event)

    assert [f for f in result["findings"] if f["rule"] == "privilege-escalation"] == []
    assert _attached(account) == [arn]
