"""Attaching a customer-managed policy whose text names a key twice, judged live on every reading (moto).

moto keeps a policy document's text as it was given (``GetPolicyVersion`` answers it; botocore's
``json_decode_policies`` then keeps each key's last value): the live reader keeps the text before that decode, so the
attach is judged on every reading (session 13 note). Every reading admin: remediated as before; readings that disagree:
alerted only, the policy left attached, with why (``needs_context``).
"""

from __future__ import annotations

import copy
import json
from typing import Any

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


def test_moto_keeps_the_text_as_given() -> None:
    # What the test rests on: json.loads keeps the last value, the text both.
    text = _text('"Action": "*", "Action": "s3:GetObject"')
    assert json.loads(text)["Statement"][0]["Action"] == "s3:GetObject"
    assert text.count('"Action"') == 2


def test_every_reading_admin_is_remediated_as_before(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("rules/privilege-escalation/mode", "remediate")
    _arn, event = _attach(account, _text('"Action": "iam:*", "Action": "*"'))

    findings = {finding["rule"]: finding for finding in enforcer.handle(event)["findings"]}

    assert findings["privilege-escalation"]["outcome"] == Outcome.REMEDIATED
    assert _attached(account) == []


def test_readings_that_disagree_are_alerted_and_the_policy_stays(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("rules/privilege-escalation/mode", "remediate")
    arn, event = _attach(account, _text('"Action": "*", "Action": "s3:GetObject"'))

    findings = {finding["rule"]: finding for finding in enforcer.handle(event)["findings"]}

    # boto3's reading (s3:GetObject) would have called it compliant; the first value grants everything.
    assert findings["privilege-escalation"]["outcome"] == Outcome.ALERTED
    assert _attached(account) == [arn]
    [escalation] = [
        sent.finding for sent in notifier.sent if sent.finding and sent.finding.rule_id == "privilege-escalation"
    ]
    assert escalation.needs_context == (
        f"this policy can be read two ways: the text of version v1 of {arn} names a key twice with different "
        "values, AWS documents no reading of it, and 1 of the readings open a privilege-escalation method for role "
        "app while the other does not (alerted only: rewrite the policy with each key once)",
    )


def test_no_reading_offending_is_compliant(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/privilege-escalation/mode", "remediate")
    arn, event = _attach(account, _text('"Action": "s3:ListBucket", "Action": "s3:GetObject"'))

    result = enforcer.handle(event)

    assert [f for f in result["findings"] if f["rule"] == "privilege-escalation"] == []
    assert _attached(account) == [arn]
