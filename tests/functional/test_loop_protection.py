"""IAM Warden never acts on its own changes: the calls a remediation makes come back ignored, in code.

The EventBridge rules already drop events whose session issuer is the enforcer
or member role (tests/integration/test_template.py). This is the second line:
every write a real remediation made in moto is turned into the CloudTrail event
AWS would record for it, with the enforcer role as the caller, and handed to
``EnforcerService.handle`` with every rule in remediate mode. Each must be
ignored, and nothing may be recorded or alerted.
"""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

import pytest

from iamwarden.app.service import EnforcerService
from iamwarden.domain.findings import Verdict
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from iamwarden.guardrails.registry import GUARDRAILS_BY_EVENT
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier
from tests.functional.guardrail_cases import heartbeat_read_attachments
from tests.functional.test_permissions_used import Request, Requests

ENFORCER_ROLE = "iamwarden-enforcer-us-east-1"
RULES = ("iam-user-created", "managed-policy-attached", "s3-bucket-policy-public", "s3-bucket-policy-cross-account")
#: What the quarantine, detach and bucket remediations write (the delete remediation is not in remediate mode).
EXPECTED_WRITES = {
    "iam:PutUserPolicy",
    "iam:PutUserPermissionsBoundary",  # the quarantine's deny-all boundary (AWSDenyAll)
    "iam:UpdateAccessKey",
    "iam:DeleteLoginProfile",
    "iam:TagUser",
    "iam:DetachRolePolicy",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
}
HUMAN_IDENTITY: dict[str, Any] = load_event("attach-admin-to-role.json")["detail"]["userIdentity"]


@pytest.fixture
def requests(account: Account) -> Requests:
    recorder = Requests()
    account.session.events.register("provide-client-params", recorder)
    return recorder


def _enforcer_identity() -> dict[str, Any]:
    """The enforcer role's session as CloudTrail records it (the sample of the tool's own CreateUser)."""
    identity: dict[str, Any] = load_event("create-user-by-warden.json")["detail"]["userIdentity"]
    issuer = identity["sessionContext"]["sessionIssuer"]
    assert issuer["userName"] == ENFORCER_ROLE
    assert issuer["arn"] == f"arn:aws:iam::{HOME_ACCOUNT}:role/{ENFORCER_ROLE}"
    assert identity["accountId"] == HOME_ACCOUNT
    return identity


def _camel(value: Any) -> Any:
    """IAM's CloudTrail requestParameters are the API parameters with lower-camel-case names."""
    if isinstance(value, dict):
        return {key[:1].lower() + key[1:]: _camel(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_camel(item) for item in value]
    return value


def cloudtrail_event(request: Request, number: int) -> dict[str, Any]:
    """The EventBridge event CloudTrail would deliver for ``request``, made by the enforcer role."""
    service, operation = request.action.split(":")
    if service == "iam":
        event = copy.deepcopy(load_event("create-user-by-warden.json"))
        parameters = _camel(request.params)
    else:
        event = copy.deepcopy(load_event("bucket-policy-public-read.json"))
        bucket = request.params["Bucket"]
        parameters = {"bucketName": bucket, "Host": f"{bucket}.s3.{request.region}.amazonaws.com", "policy": ""}
        if operation == "PutBucketPolicy":
            parameters["bucketPolicy"] = json.loads(request.params["Policy"])
        event["detail"]["resources"] = [
            {"accountId": HOME_ACCOUNT, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}
        ]
        event["region"] = event["detail"]["awsRegion"] = request.region
    event["id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"envelope/{number}/{request.action}"))
    detail = event["detail"]
    detail["eventID"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"event/{number}/{request.action}"))
    detail["eventName"] = operation
    detail["requestParameters"] = parameters
    detail["responseElements"] = None
    detail["userIdentity"] = _enforcer_identity()
    return event


def _audit_items(account: Account) -> int:
    return int(account.dynamodb.scan(TableName=account.config.audit_table, Select="COUNT")["Count"])


def _remediate_everything(account: Account, enforcer: EnforcerService) -> None:
    for rule in RULES:
        account.set(f"rules/{rule}/mode", "remediate")
    account.iam.create_user(UserName="backdoor-admin")
    account.iam.create_access_key(UserName="backdoor-admin")
    account.iam.create_login_profile(UserName="backdoor-admin", Password="correct-Horse-battery-9")
    account.iam.create_role(
        RoleName="app-backend", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )
    heartbeat_read_attachments(account, "2026-11-01T00:00:00Z")  # the event adds what the read did not see
    account.iam.attach_role_policy(RoleName="app-backend", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    samples = ("bucket-policy-public-read.json", "bucket-policy-unknown-account.json")
    for sample in samples:
        parameters = load_event(sample)["detail"]["requestParameters"]
        account.s3.create_bucket(
            Bucket=parameters["bucketName"], CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        account.s3.put_bucket_policy(Bucket=parameters["bucketName"], Policy=json.dumps(parameters["bucketPolicy"]))
    for sample in ("create-user-backdoor-cli.json", "attach-admin-to-role.json", *samples):
        [finding] = enforcer.handle(load_event(sample))["findings"]
        assert finding["outcome"] == "remediated", sample


def test_the_enforcers_own_calls_are_ignored(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, requests: Requests
) -> None:
    _remediate_everything(account, enforcer)
    writes = [
        request
        for request in requests.take()
        if request.action.split(":")[0] in ("iam", "s3")
        and not request.action.split(":")[1].startswith(("Get", "List", "Head"))
    ]
    assert {request.action for request in writes} == EXPECTED_WRITES
    items, alerts = _audit_items(account), len(notifier.sent)

    for number, request in enumerate(writes):
        event = cloudtrail_event(request, number)
        result = enforcer.handle(event)

        assert result["verdict"] == Verdict.IGNORED, (request.action, result["reason"])
        assert (
            result["reason"].startswith("not guarded")
            or f"own role arn:aws:iam::{HOME_ACCOUNT}:role/{ENFORCER_ROLE}" in result["reason"]
        ), (
            request.action,
            result["reason"],
        )
        assert result["findings"] == []

    assert _audit_items(account) == items, "an own call was recorded in the audit table"
    assert len(notifier.sent) == alerts, "an own call was alerted on"


def test_the_same_calls_by_a_person_are_judged(account: Account, enforcer: EnforcerService, requests: Requests) -> None:
    """The control: what makes the events above ignored is the enforcer role, nothing else about them."""
    _remediate_everything(account, enforcer)
    writes = [request for request in requests.take() if request.action in EXPECTED_WRITES]
    guarded = 0
    for number, request in enumerate(writes):
        event = cloudtrail_event(request, number)
        event["detail"]["userIdentity"] = copy.deepcopy(HUMAN_IDENTITY)
        detail = event["detail"]
        # With the enforcer's live reader of managed policies: a detach is judged on the detached document.
        judgement = judge_event(event, Settings(), enforcer.documents)
        if (detail["eventSource"], detail["eventName"]) in GUARDRAILS_BY_EVENT:
            guarded += 1
            assert judgement.verdict is not Verdict.IGNORED, (request.action, judgement.reason)
            assert judgement.verdict is not Verdict.INVALID, (request.action, judgement.reason)
        else:
            assert judgement.reason.startswith("not guarded"), (request.action, judgement.reason)
    assert guarded, "no own call is of a guarded kind, so the own-role exemption was never exercised"
