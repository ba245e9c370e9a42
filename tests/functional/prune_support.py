"""Shared scaffolding for the pruner's functional tests: moto for IAM and DynamoDB, Stubber for Access Advisor.

moto does not implement Access Advisor, so a second IAM client wrapped in
botocore's Stubber answers those calls; the Stubber checks every request and
response against the real IAM model.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.stub import Stubber

from iamwarden.domain.delivery import Delivery, DeliveryReport
from iamwarden.prune.adapters.access_advisor import AccessAdvisor
from iamwarden.prune.adapters.store import PruneStore
from iamwarden.prune.domain.notices import PruneNotice
from tests.sam_template import resources_of_type

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
TABLE = "iamwarden-prune-state"
JOB = "5f0c2a8e-6b1d-4c39-9a57-0d2b7c1e4f10"  # Access Advisor job ids are UUIDs (36 characters)


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, days: float) -> None:
        self.now += timedelta(days=days)


@dataclass
class FakeNotices:
    """In-memory channel (tests only)."""

    sent: list[PruneNotice] = field(default_factory=list)

    def send(self, notice: PruneNotice) -> DeliveryReport:
        self.sent.append(notice)
        return DeliveryReport((Delivery("memory", ok=True),))


def create_state_table() -> PruneStore:
    """The state table exactly as template.yaml declares it (keys, billing, TTL)."""
    properties = resources_of_type("AWS::DynamoDB::Table")["PruneStateTable"]["Properties"]
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    dynamodb.create_table(
        TableName=properties["TableName"],
        AttributeDefinitions=properties["AttributeDefinitions"],
        KeySchema=properties["KeySchema"],
        BillingMode=properties["BillingMode"],
    )
    ttl = properties["TimeToLiveSpecification"]
    dynamodb.update_time_to_live(TableName=properties["TableName"], TimeToLiveSpecification=ttl)
    return PruneStore(dynamodb, properties["TableName"])


def document(*statements: Mapping[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [dict(statement) for statement in statements]}


def allow(*actions: str, resource: str = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": list(actions), "Resource": resource, **extra}


def create_role(
    iam: Any, name: str, inline: Mapping[str, Mapping[str, Any]] | None = None, tags: Mapping[str, str] | None = None
) -> str:
    trust = document({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"})
    arn: str = iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps(trust),
        Tags=[{"Key": key, "Value": value} for key, value in (tags or {}).items()],
    )["Role"]["Arn"]
    for policy_name, policy in (inline or {}).items():
        iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps(policy))
    return arn


class AccessAdvisorStub:
    """Access Advisor answers, queued on a Stubber-wrapped IAM client."""

    def __init__(self, clock: Clock) -> None:
        self.client = boto3.client("iam", region_name=REGION)
        self.stubber = Stubber(self.client)
        self.stubber.activate()
        self.clock = clock

    def advisor(self, iam: Any = None) -> AccessAdvisor:
        return AccessAdvisor(self.client, sleep=lambda _: None, clock=self.clock)

    def generate(self, role_arn: str, job_id: str = JOB) -> None:
        self.stubber.add_response(
            "generate_service_last_accessed_details",
            {"JobId": job_id},
            {"Arn": role_arn, "Granularity": "ACTION_LEVEL"},
        )

    def page(
        self,
        services: Iterable[Mapping[str, Any]],
        *,
        job_id: str = JOB,
        status: str = "COMPLETED",
        marker: str | None = None,
        next_marker: str | None = None,
        completed: datetime | None = None,
        error: Mapping[str, str] | None = None,
        truncated: bool | None = None,
    ) -> None:
        done = completed or self.clock.now - timedelta(minutes=5)
        response: dict[str, Any] = {
            "JobStatus": status,
            "JobType": "ACTION_LEVEL",
            "JobCreationDate": done - timedelta(minutes=1),
            "JobCompletionDate": done,
            "ServicesLastAccessed": list(services),
            "IsTruncated": bool(next_marker) if truncated is None else truncated,
        }
        if next_marker:
            response["Marker"] = next_marker
        if error:
            response["Error"] = dict(error)
        expected: dict[str, Any] = {"JobId": job_id}
        if marker:
            expected["Marker"] = marker
        self.stubber.add_response("get_service_last_accessed_details", response, expected)

    def granting(self, role_arn: str, grants: Mapping[str, Iterable[str]]) -> None:
        """One ListPoliciesGrantingServiceAccess answer: namespace -> policy keys (inline:NAME or ARN)."""
        entries = []
        for namespace, keys in sorted(grants.items()):
            policies = [
                {
                    "PolicyName": key.split(":", 1)[1],
                    "PolicyType": "INLINE",
                    "EntityType": "ROLE",
                    "EntityName": role_arn.rsplit("/", 1)[1],
                }
                if key.startswith("inline:")
                else {"PolicyName": key.rsplit("/", 1)[1], "PolicyType": "MANAGED", "PolicyArn": key}
                for key in keys
            ]
            entries.append({"ServiceNamespace": namespace, "Policies": policies})
        self.stubber.add_response(
            "list_policies_granting_service_access",
            {"PoliciesGrantingServiceAccess": entries, "IsTruncated": False},
            {"Arn": role_arn, "ServiceNamespaces": sorted(grants)},
        )


def service(
    namespace: str, last: datetime | None, tracked: Mapping[str, datetime | None] | None = None
) -> dict[str, Any]:
    entry: dict[str, Any] = {"ServiceName": f"AWS {namespace}", "ServiceNamespace": namespace}
    if last is not None:
        entry["LastAuthenticated"] = last
        entry["LastAuthenticatedEntity"] = "arn:aws:iam::123456789012:role/app"
        entry["TotalAuthenticatedEntities"] = 1
    else:
        entry["TotalAuthenticatedEntities"] = 0
    if tracked is not None:
        entry["TrackedActionsLastAccessed"] = [
            {"ActionName": name, **({"LastAccessedTime": when, "LastAccessedRegion": REGION} if when else {})}
            for name, when in tracked.items()
        ]
    return entry
