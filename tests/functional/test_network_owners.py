"""aws:SourceVpce / aws:SourceVpc resolved live: the enforcer asks EC2 who owns the network before it decides.

Real VPCs and VPC endpoints are created in moto; the sample events are the ones in events/ with the ids
moto gave. An endpoint of this account is private (compliant, nothing changed); one EC2 does not know
is an unknown owner (alerted with needs_context, never removed); a denied lookup is the same, saying
so; an owner EC2 names outside the trusted boundary is a certain finding and is remediated.
"""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders

from iamwarden.adapters.audit import AuditStatus
from iamwarden.app.service import EnforcerService
from iamwarden.domain.exceptions import IamWardenError
from iamwarden.domain.findings import Outcome
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier

BUCKET_REGION = "eu-west-1"
BUCKET = "acme-payroll-exports"
RULE = "s3-bucket-policy-cross-account"


def _ec2(account: Account) -> Any:
    return account.session.client("ec2", region_name=BUCKET_REGION)


def _endpoint(account: Account) -> str:
    """A real S3 gateway endpoint of this account in the bucket's Region."""
    ec2 = _ec2(account)
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    endpoint = ec2.create_vpc_endpoint(
        VpcId=vpc, ServiceName=f"com.amazonaws.{BUCKET_REGION}.s3", VpcEndpointType="Gateway"
    )["VpcEndpoint"]
    return str(endpoint["VpcEndpointId"])


def _policy_event(sample: str, network_key: str, network_id: str) -> dict[str, Any]:
    """The sample's PutBucketPolicy as a new event whose network condition names ``network_id``."""
    event = copy.deepcopy(load_event(sample))
    event["id"] = str(uuid.uuid4())
    event["detail"]["eventID"] = str(uuid.uuid4())
    policy = event["detail"]["requestParameters"]["bucketPolicy"]
    for statement in policy["Statement"]:
        statement["Condition"] = {"StringEquals": {network_key: network_id}}
    return event


def _put(account: Account, event: dict[str, Any]) -> dict[str, Any]:
    """Create the bucket and put the event's policy on it, as the change the event records did."""
    policy = event["detail"]["requestParameters"]["bucketPolicy"]
    account.s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": BUCKET_REGION})
    account.s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))
    return dict(policy)


def _live(account: Account) -> dict[str, Any]:
    return dict(json.loads(account.s3.get_bucket_policy(Bucket=BUCKET)["Policy"]))


def _calls(enforcer: EnforcerService, operation: str) -> list[str]:
    """Counts ``operation`` calls on the enforcer's EC2 client of the bucket's Region."""
    seen: list[str] = []
    ec2 = enforcer.executor.clients.client("ec2", HOME_ACCOUNT, BUCKET_REGION)
    ec2.meta.events.register(f"before-call.ec2.{operation}", lambda **_: seen.append(operation))
    return seen


def _answer(enforcer: EnforcerService, operation: str, status: int, body: dict[str, Any]) -> None:
    """EC2's answer to ``operation`` from the enforcer's client (an error, or what moto cannot set up)."""

    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        response = AWSResponse("https://ec2.eu-west-1.amazonaws.com/", status, HTTPHeaders(), None)
        return response, {**body, "ResponseMetadata": {"HTTPStatusCode": status}}

    ec2 = enforcer.executor.clients.client("ec2", HOME_ACCOUNT, BUCKET_REGION)
    ec2.meta.events.register(f"before-call.ec2.{operation}", answer)


@pytest.fixture(autouse=True)
def _remediate(account: Account) -> None:
    account.set(f"rules/{RULE}/mode", "remediate")


def test_an_endpoint_of_this_account_is_private(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    event = _policy_event("bucket-policy-vpce-own-account.json", "aws:SourceVpce", _endpoint(account))
    policy = _put(account, event)
    described = _calls(enforcer, "DescribeVpcEndpoints")

    result = enforcer.handle(event)

    assert result["verdict"] == "compliant", result
    assert notifier.sent == []
    assert _live(account) == policy
    assert described == ["DescribeVpcEndpoints"]


def test_the_owner_is_asked_once_per_container(account: Account, enforcer: EnforcerService) -> None:
    endpoint = _endpoint(account)
    _put(account, _policy_event("bucket-policy-vpce-own-account.json", "aws:SourceVpce", endpoint))
    described = _calls(enforcer, "DescribeVpcEndpoints")

    for _ in range(3):
        enforcer.handle(_policy_event("bucket-policy-vpce-own-account.json", "aws:SourceVpce", endpoint))

    assert described == ["DescribeVpcEndpoints"]


def test_a_vpc_of_this_account_is_private(account: Account, enforcer: EnforcerService) -> None:
    vpc = _ec2(account).create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    event = _policy_event("bucket-policy-vpce-own-account.json", "aws:SourceVpc", vpc)
    policy = _put(account, event)

    assert enforcer.handle(event)["verdict"] == "compliant"
    assert _live(account) == policy


def test_an_endpoint_ec2_does_not_know_is_alerted_with_what_is_unknown_and_kept(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    _endpoint(account)  # the account has an endpoint, just not this one
    event = load_event("bucket-policy-vpce-unknown-owner.json")
    policy = _put(account, event)

    result = enforcer.handle(event)

    assert result["verdict"] == "violation"
    assert [finding["outcome"] for finding in result["findings"]] == ["alerted"]
    assert _live(account) == policy
    [notification] = notifier.sent
    assert notification.outcome is Outcome.ALERTED
    assert notification.finding is not None
    [fact] = notification.finding.needs_context
    assert "who owns VPC endpoint vpce-07f1e2d3c4b5a6978" in fact
    assert f"DescribeVpcEndpoints found no vpce-07f1e2d3c4b5a6978 in account {HOME_ACCOUNT} in eu-west-1" in fact
    [record] = account.audit().for_event(event["detail"]["eventID"])
    assert record.status == AuditStatus.ALERTED


def test_a_denied_lookup_is_alerted_with_needs_context_and_nothing_changes(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    event = _policy_event("bucket-policy-vpce-own-account.json", "aws:SourceVpce", _endpoint(account))
    policy = _put(account, event)
    denied = {
        "Error": {"Code": "UnauthorizedOperation", "Message": "You are not authorized to perform this operation."}
    }
    _answer(enforcer, "DescribeVpcEndpoints", 403, denied)

    result = enforcer.handle(event)

    assert [finding["outcome"] for finding in result["findings"]] == ["alerted"]
    assert _live(account) == policy
    [notification] = notifier.sent
    assert notification.finding is not None
    assert not notification.finding.certain
    [fact] = notification.finding.needs_context
    assert "DescribeVpcEndpoints failed in account 111122223333 in eu-west-1" in fact
    assert "UnauthorizedOperation" in fact


def test_a_denial_is_not_cached(account: Account, enforcer: EnforcerService) -> None:
    """Permissions can be fixed while the container lives: the next event asks again and is judged right."""
    endpoint = _endpoint(account)
    _put(account, _policy_event("bucket-policy-vpce-own-account.json", "aws:SourceVpce", endpoint))
    ec2 = enforcer.executor.clients.client("ec2", HOME_ACCOUNT, BUCKET_REGION)
    denials = [True]

    def deny_once(**_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if not denials:
            return None
        denials.pop()
        error = {"Code": "UnauthorizedOperation", "Message": "not authorized"}
        return AWSResponse("https://ec2.eu-west-1.amazonaws.com/", 403, HTTPHeaders(), None), {"Error": error}

    ec2.meta.events.register("before-call.ec2.DescribeVpcEndpoints", deny_once)

    first = enforcer.handle(_policy_event("bucket-policy-vpce-own-account.json", "aws:SourceVpce", endpoint))
    second = enforcer.handle(_policy_event("bucket-policy-vpce-own-account.json", "aws:SourceVpce", endpoint))

    assert (first["verdict"], second["verdict"]) == ("violation", "compliant")


def test_a_throttled_lookup_fails_the_event_for_a_retry(account: Account, enforcer: EnforcerService) -> None:
    event = _policy_event("bucket-policy-vpce-own-account.json", "aws:SourceVpce", _endpoint(account))
    policy = _put(account, event)
    _answer(enforcer, "DescribeVpcEndpoints", 400, {"Error": {"Code": "RequestLimitExceeded", "Message": "slow down"}})

    with pytest.raises(IamWardenError, match="RequestLimitExceeded"):
        enforcer.handle(event)
    assert _live(account) == policy


def test_an_owner_outside_the_boundary_is_certain_and_removed(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """A VPC shared into this account (EC2 names its owner) by an account nobody trusts: certain, remediated."""
    event = _policy_event("bucket-policy-vpce-own-account.json", "aws:SourceVpc", "vpc-0a9b8c7d6e5f40312")
    _put(account, event)
    shared = {"VpcId": "vpc-0a9b8c7d6e5f40312", "OwnerId": "999988887777", "State": "available"}
    _answer(enforcer, "DescribeVpcs", 200, {"Vpcs": [shared]})

    result = enforcer.handle(event)

    assert [finding["outcome"] for finding in result["findings"]] == ["remediated"]
    assert "VPC vpc-0a9b8c7d6e5f40312 of account 999988887777" in notifier.sent[0].finding.reason  # type: ignore[union-attr]
    assert account.s3.list_buckets()["Buckets"]  # the bucket stays; only its policy went
    with pytest.raises(account.s3.exceptions.ClientError, match="NoSuchBucketPolicy"):
        account.s3.get_bucket_policy(Bucket=BUCKET)


def test_an_owner_the_settings_trust_is_private(account: Account, enforcer: EnforcerService) -> None:
    account.set("trusted_accounts", "444455556666")
    event = _policy_event("bucket-policy-vpce-own-account.json", "aws:SourceVpc", "vpc-0a9b8c7d6e5f40312")
    policy = _put(account, event)
    shared = {"VpcId": "vpc-0a9b8c7d6e5f40312", "OwnerId": "444455556666", "State": "available"}
    _answer(enforcer, "DescribeVpcs", 200, {"Vpcs": [shared]})

    assert enforcer.handle(event)["verdict"] == "compliant"
    assert _live(account) == policy
