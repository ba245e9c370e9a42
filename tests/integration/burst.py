"""A burst of real changes and their CloudTrail events, routed by the template's rules, for the load test.

``Burst.build`` makes each change for real in the emulated account (moto_server),
then writes the EventBridge event CloudTrail would emit for it, in a mix that
resembles a busy hour (about 2,000 events by default):

* roles given AdministratorAccess after the heartbeat read them (``managed-policy-attached``: detached) and roles
  given ReadOnlyAccess (compliant, kept);
* buckets made public by a policy that also holds a private statement (the public
  statement is removed, the private one kept), and one shared bucket whose policy is
  replaced several times in a row (only the live public statement is removed; the
  earlier events find theirs already gone);
* users created (``iam-user-created``: quarantined);
* the same admin attachments made by IAM Warden's own role (never touched), and calls
  that failed (an ``errorCode``: never acted on);
* events delivered twice (EventBridge delivers at least once).

``route`` matches every event against the template's own rules and returns what
reaches the enforcer; ``check`` reads every resource back and says what
is not as it should be.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from botocore.exceptions import ClientError
from moto.events.models import EventPattern

from demo.cloudtrail import Caller, attach_role_policy, create_user, put_bucket_policy
from iamwarden.adapters.audit import AuditLog
from iamwarden.adapters.recorded import AuditRecorded, take_attachment_snapshots
from tests.aws_fixtures import HOME_ACCOUNT, event_patterns
from tests.conftest import load_event

REGION = "us-east-1"
BUCKET_REGION = "us-east-1"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
LOGS_ONLY = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
EMPTY_TRUST = json.dumps({"Version": "2012-10-17", "Statement": []})
QUARANTINE_POLICY = "iamwarden-quarantine"
#: The rules the burst sets to remediate; the rest alert.
REMEDIATED_RULES = ("managed-policy-attached", "s3-bucket-policy-public", "iam-user-created")
DEVELOPER = Caller(
    account=HOME_ACCOUNT,
    role_name="developer",
    role_arn=f"arn:aws:iam::{HOME_ACCOUNT}:role/developer",
    role_id="AROAZ3XG5WKTDEVELOPER",
    session_name="dev@example.com",
    access_key_id="ASIAZ3XG5WKTBURSTKEY",
    source_ip="198.51.100.23",
    session_created="2026-12-04T09:00:00Z",
)
#: IAM Warden's own role, as the samples know it (events/create-user-by-warden.json).
OWN_IDENTITY: dict[str, Any] = load_event("create-user-by-warden.json")["detail"]["userIdentity"]


def _in_account(value: Any, account: str) -> Any:
    """``value`` (an identity, a caller) with the samples' account replaced by ``account``."""
    return json.loads(json.dumps(value).replace(HOME_ACCOUNT, account))


def _private(bucket: str) -> dict[str, Any]:
    return {
        "Sid": "AppRead",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:role/app"},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }


def _public(bucket: str, sid: str) -> dict[str, Any]:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }


class Expectation(NamedTuple):
    """One resource and how it must read once the burst has been handled."""

    what: str
    read: Callable[[Any], Any]
    expected: Any


def heartbeat_read(session: Any, audit_table: str, account: str) -> None:
    """What every principal holds, kept in the audit table as the heartbeat does, dated a second before any event
    made after it (CloudTrail's times are whole seconds): only a record older than an attach says it added anything."""
    dynamodb = session.client("dynamodb")
    taken = (datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)).isoformat(timespec="milliseconds")
    AuditRecorded(AuditLog(audit_table, dynamodb), dynamodb).put_all(
        take_attachment_snapshots(session.client("iam"), account, taken)
    )


class Burst(NamedTuple):
    events: list[dict[str, Any]]  # in delivery order, duplicates included
    expectations: list[Expectation]
    violations: set[str]  # eventIDs that must be remediated (once each)

    @classmethod
    def build(cls, session: Any, size: int = 2_000, seed: int = 7, *, audit_table: str | None = None) -> Burst:
        """Make ``size`` changes' worth of events (duplicates count) in the account behind ``session``; with
        ``audit_table``, the heartbeat reads the admin roles before their attaches (so each is known to add it)."""
        iam, s3 = session.client("iam"), session.client("s3", region_name=BUCKET_REGION)
        account = session.client("sts").get_caller_identity()["Account"]
        developer = Caller(*_in_account(list(DEVELOPER), account))
        own_identity = _in_account(OWN_IDENTITY, account)
        iam.create_role(RoleName=developer.role_name, AssumeRolePolicyDocument=EMPTY_TRUST)
        rng = random.Random(seed)  # noqa: S311 - a reproducible mix, not a secret
        events: list[dict[str, Any]] = []
        expectations: list[Expectation] = []
        violations: set[str] = set()
        unit = max(1, size // 20)  # the mix below is 20 units; duplicates fill the rest

        admins = [f"burst-admin-{number}" for number in range(4 * unit)]
        for role in admins:
            iam.create_role(RoleName=role, AssumeRolePolicyDocument=EMPTY_TRUST)
        if audit_table is not None:
            heartbeat_read(session, audit_table, account)
        for role in admins:
            iam.attach_role_policy(RoleName=role, PolicyArn=ADMIN)
            event = attach_role_policy(developer, REGION, role, ADMIN)
            events.append(event)
            violations.add(event["detail"]["eventID"])
            expectations.append(Expectation(f"role {role}", _attached(role), []))
        for number in range(2 * unit):
            role = f"burst-reader-{number}"
            iam.create_role(RoleName=role, AssumeRolePolicyDocument=EMPTY_TRUST)
            iam.attach_role_policy(RoleName=role, PolicyArn=LOGS_ONLY)
            events.append(attach_role_policy(developer, REGION, role, LOGS_ONLY))
            expectations.append(Expectation(f"role {role}", _attached(role), [LOGS_ONLY]))
        for number in range(3 * unit):
            bucket = f"burst-bucket-{number}"
            s3.create_bucket(Bucket=bucket)
            policy = {"Version": "2012-10-17", "Statement": [_private(bucket), _public(bucket, "Website")]}
            s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
            event = put_bucket_policy(developer, BUCKET_REGION, bucket, policy, len(json.dumps(policy)))
            events.append(event)
            violations.add(event["detail"]["eventID"])
            expectations.append(Expectation(f"bucket {bucket}", _bucket_statements(bucket), [_private(bucket)]))
        shared = "burst-shared-bucket"
        s3.create_bucket(Bucket=shared)
        for number in range(unit):
            policy = {"Version": "2012-10-17", "Statement": [_private(shared), _public(shared, f"Public{number}")]}
            s3.put_bucket_policy(Bucket=shared, Policy=json.dumps(policy))
            events.append(put_bucket_policy(developer, BUCKET_REGION, shared, policy, len(json.dumps(policy))))
        expectations.append(Expectation(f"bucket {shared}", _bucket_statements(shared), [_private(shared)]))
        for number in range(3 * unit):
            user = iam.create_user(UserName=f"burst-user-{number}")["User"]
            event = create_user(developer, REGION, user)
            events.append(event)
            violations.add(event["detail"]["eventID"])
            expectations.append(
                Expectation(f"user {user['UserName']}", _user_policies(user["UserName"]), [QUARANTINE_POLICY])
            )
        for number in range(2 * unit):
            role = f"burst-own-{number}"
            iam.create_role(RoleName=role, AssumeRolePolicyDocument=EMPTY_TRUST)
            iam.attach_role_policy(RoleName=role, PolicyArn=ADMIN)
            event = attach_role_policy(developer, REGION, role, ADMIN)
            event["detail"]["userIdentity"] = own_identity
            events.append(event)
            expectations.append(Expectation(f"role {role} (changed by IAM Warden's role)", _attached(role), [ADMIN]))
        for number in range(unit):
            role = f"burst-denied-{number}"
            iam.create_role(RoleName=role, AssumeRolePolicyDocument=EMPTY_TRUST)
            event = attach_role_policy(developer, REGION, role, ADMIN)
            event["detail"]["errorCode"] = "AccessDenied"
            event["detail"]["errorMessage"] = f"User is not authorized to perform: iam:AttachRolePolicy on role {role}"
            events.append(event)
            expectations.append(Expectation(f"role {role} (a failed call)", _attached(role), []))

        originals = [event for event in events if event["detail"]["eventID"] in violations]
        duplicates = [copy.deepcopy(rng.choice(originals)) for _ in range(max(0, size - len(events)))]
        mixed = events + duplicates
        rng.shuffle(mixed)
        # Events about the shared bucket stay in the order the changes were made (CloudTrail's order).
        shared_events = iter([event for event in events if _bucket_of(event) == shared])
        ordered = [next(shared_events) if _bucket_of(event) == shared else event for event in mixed]
        return cls(ordered, expectations, violations)

    def check(self, session: Any) -> list[str]:
        """What is not as it should be (empty: every resource reads as expected)."""
        problems = []
        for expectation in self.expectations:
            actual = expectation.read(session)
            if actual != expectation.expected:
                problems.append(f"{expectation.what}: {actual!r}, expected {expectation.expected!r}")
        return problems


def _bucket_of(event: dict[str, Any]) -> str | None:
    bucket = event["detail"]["requestParameters"].get("bucketName")
    return bucket if isinstance(bucket, str) else None


def _attached(role: str) -> Callable[[Any], list[str]]:
    def read(session: Any) -> list[str]:
        policies = session.client("iam").list_attached_role_policies(RoleName=role)["AttachedPolicies"]
        return sorted(policy["PolicyArn"] for policy in policies)

    return read


def _bucket_statements(bucket: str) -> Callable[[Any], list[dict[str, Any]]]:
    def read(session: Any) -> list[dict[str, Any]]:
        try:
            policy = session.client("s3", region_name=BUCKET_REGION).get_bucket_policy(Bucket=bucket)["Policy"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "NoSuchBucketPolicy":
                return []
            raise
        statements: list[dict[str, Any]] = json.loads(policy)["Statement"]
        return statements

    return read


def _user_policies(user: str) -> Callable[[Any], list[str]]:
    def read(session: Any) -> list[str]:
        return sorted(session.client("iam").list_user_policies(UserName=user)["PolicyNames"])

    return read


def route(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the template's enforcer rules deliver of ``events``, in order: one delivery per matching rule.

    The rules are the template's own (``event_patterns``), matched by moto's EventBridge pattern engine
    in-process (putting 2,000 events through moto_server's bus costs more than handling them).
    """
    patterns = [EventPattern.load(json.dumps(pattern)) for pattern in event_patterns().values()]
    if not patterns:
        raise RuntimeError("template.yaml declares no EventBridge rules for the enforcer")
    return [copy.deepcopy(event) for event in events for pattern in patterns if pattern.matches_event(event)]  # type: ignore[arg-type]
