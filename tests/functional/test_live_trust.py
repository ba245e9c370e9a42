"""Audit gap 7 live: the enforcer reads a role's trust policy with GetRole (against moto).

A role that trusts only a service cannot be assumed by the principal the event changed: AttachRolePolicy
and sts:AssumeRole on it open nothing. The same grants on a role that trusts the account are certain and
remediated.
"""

from __future__ import annotations

import json
from typing import Any

from iamwarden.app.service import EnforcerService
from tests.functional.conftest import Account

ACCOUNT_TRUST = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::{account}:root"}, "Action": "sts:AssumeRole"}
EC2_TRUST = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}


def _event(account: Account, role_arn: str) -> dict[str, Any]:
    """PutRolePolicy on role app2 of AttachRolePolicy + sts:AssumeRole on ``role_arn``, applied live first."""
    document = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": ["iam:AttachRolePolicy", "sts:AssumeRole"], "Resource": role_arn}
            ],
        }
    )
    empty = json.dumps({"Version": "2012-10-17", "Statement": [EC2_TRUST]})
    account.iam.create_role(RoleName="app2", AssumeRolePolicyDocument=empty)
    account.iam.put_role_policy(RoleName="app2", PolicyName="p", PolicyDocument=document)
    number = role_arn.split(":")[4]
    return {
        "version": "0",
        "id": "e8",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.iam",
        "account": number,
        "time": "2026-12-04T10:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "eventVersion": "1.08",
            "userIdentity": {
                "type": "IAMUser",
                "principalId": "AIDAALICE",
                "arn": f"arn:aws:iam::{number}:user/alice",
                "accountId": number,
                "userName": "alice",
            },
            "eventTime": "2026-12-04T10:00:00Z",
            "eventSource": "iam.amazonaws.com",
            "eventName": "PutRolePolicy",
            "awsRegion": "us-east-1",
            "sourceIPAddress": "203.0.113.7",
            "userAgent": "aws-cli/2.15.0",
            "requestParameters": {"roleName": "app2", "policyName": "p", "policyDocument": document},
            "responseElements": None,
            "eventID": "e8",
            "eventType": "AwsApiCall",
            "recipientAccountId": number,
        },
    }


def _other(account: Account, trust: dict[str, Any]) -> str:
    role = account.iam.create_role(
        RoleName="other", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [trust]})
    )
    arn: str = role["Role"]["Arn"]
    return arn


def test_a_role_that_trusts_only_a_service_cannot_be_assumed(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/privilege-escalation/mode", "remediate")
    event = _event(account, _other(account, EC2_TRUST))

    result = enforcer.handle(event)

    assert result["verdict"] == "compliant"
    assert account.iam.list_role_policies(RoleName="app2")["PolicyNames"] == ["p"]


def test_a_role_that_trusts_the_account_is_found_and_alerted(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/privilege-escalation/mode", "remediate")
    arn = _other(account, EC2_TRUST)
    number = arn.split(":")[4]
    trust = {**ACCOUNT_TRUST, "Principal": {"AWS": f"arn:aws:iam::{number}:root"}}
    account.iam.update_assume_role_policy(
        RoleName="other", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [trust]})
    )
    event = _event(account, arn)

    [finding] = enforcer.handle(event)["findings"]

    # Live, what the put replaced is unknown (audit gap 5): found, alerted, never remediated.
    assert (finding["rule"], finding["outcome"]) == ("privilege-escalation", "alerted")
