"""Pruner benchmark: a simulated account of 1,000 roles (moto) with Access Advisor stubbed.

Prints, as a table (never pass/fail):

1. the planner's time to list the account and queue one message per role;
2. the worker's time to decide each role (read the role, read Access Advisor,
   plan, announce), in total and per role, and the IAM API calls it made per
   role, counted by the client factory's call log (Access Advisor calls
   included, through a Stubber-wrapped client that answers like IAM);
3. the worst case: one role with 50 policies (40 inline, 10 customer-managed
   attached), planned and then applied: its time and IAM calls.

moto runs in process, so the times measure IAM Warden plus moto, not IAM's
latency; the call counts are what a real account sees.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import boto3
from moto import mock_aws

from iamwarden.adapters.clients import ClientFactory
from iamwarden.prune.adapters.iam_reader import IamReader
from iamwarden.prune.app.runtime import PruneRuntime
from iamwarden.prune.domain.catalogue import PolicySentryCatalogue
from iamwarden.prune.domain.decide import updated_ledger
from iamwarden.prune.domain.settings import PruneMode, PruneSettings
from tests.functional.prune_support import (
    ACCOUNT,
    REGION,
    AccessAdvisorStub,
    Clock,
    FakeNotices,
    allow,
    create_state_table,
    document,
    service,
)

ROLES = int(os.environ.get("BENCH_PRUNE_ROLES", "1000"))
WORST_INLINE = 40
WORST_MANAGED = 10


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SystemExit(f"bench_prune: {message}")


def trust() -> str:
    return json.dumps(
        document({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"})
    )


class Bench:
    def __init__(self) -> None:
        self.clock = Clock()
        self.clock.advance(1 / 24)
        self.iam = boto3.client("iam", region_name=REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.store = create_state_table()
        self.stub = AccessAdvisorStub(self.clock)
        self.factory = ClientFactory(ACCOUNT, session=boto3.Session(region_name=REGION))
        self.factory.call_log.attach(self.stub.client, ACCOUNT, REGION)
        self.queue = self.sqs.create_queue(QueueName="iamwarden-prune-roles")["QueueUrl"]
        self.settings = PruneSettings(mode=PruneMode.NOTIFY, min_role_age_days=0, max_roles_per_run=100_000)
        self.settings = self.settings._replace(max_roles_per_account=100_000)
        self.runtime = PruneRuntime(
            self.factory,
            table=self.store.table,
            queue_url=self.queue,
            notices=FakeNotices(),
            settings=lambda: (self.settings, []),
            catalogue=PolicySentryCatalogue(),
            clock=self.clock,
            advisor_for=self.stub.advisor,
        )

    def seed(self, role_arn: str) -> None:
        facts = IamReader(self.iam).role(role_arn)
        ledger = updated_ledger(facts, {}, self.clock.now - timedelta(days=30))
        self.store.save_role(self.store.role(ACCOUNT, role_arn)._replace(ledger=ledger), self.clock.now)

    def queue_access_advisor(self, role_arn: str, granting: list[str]) -> None:
        used = self.clock.now - timedelta(days=2)
        self.stub.generate(role_arn)
        self.stub.page(
            [
                service("s3", used, {"GetBucketTagging": None, "GetBucketPolicy": used}),
                service("dynamodb", used),
                service("ec2", None),
                service("sqs", None),
            ],
            next_marker="p2",
        )
        self.stub.page([service("sns", None)], marker="p2")
        self.stub.granting(role_arn, {"ec2": granting, "sns": granting, "sqs": granting})

    def drain(self) -> list[dict[str, Any]]:
        bodies = []
        while batch := self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10).get("Messages", []):
            for message in batch:
                bodies.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue, ReceiptHandle=message["ReceiptHandle"])
        return bodies


def simulated_account(bench: Bench) -> dict[str, float]:
    shared = bench.iam.create_policy(
        PolicyName="team-shared", PolicyDocument=json.dumps(document(allow("sqs:*", "sns:Publish")))
    )["Policy"]["Arn"]
    for index in range(ROLES):
        name = f"app-{index:04d}"
        bench.iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust())
        policy = document(
            allow("s3:Get*", "s3:PutObject", resource=f"arn:aws:s3:::bucket-{index}/*"),
            allow("dynamodb:GetItem", "dynamodb:PutItem", "ec2:Describe*"),
        )
        bench.iam.put_role_policy(RoleName=name, PolicyName="main", PolicyDocument=json.dumps(policy))
        bench.iam.attach_role_policy(RoleName=name, PolicyArn=shared)
    for index in range(ROLES):
        arn = f"arn:aws:iam::{ACCOUNT}:role/app-{index:04d}"
        bench.seed(arn)
        bench.queue_access_advisor(arn, ["inline:main", shared])
    PolicySentryCatalogue().actions("s3")  # the worker's one-off catalogue load is reported on its own

    start = time.perf_counter()
    sent = bench.runtime.plan_run()["sent"]
    planner_seconds = time.perf_counter() - start
    messages = bench.drain()
    check(sent == len(messages) == ROLES, f"the planner queued {sent} roles, {len(messages)} arrived")

    pruner, _ = bench.runtime.pruner()
    outcomes: Counter[str] = Counter()
    with bench.factory.call_log.recording() as calls:
        start = time.perf_counter()
        for message in messages:
            outcomes[pruner.process_role(message["account"], message["role_arn"])[1]] += 1
        worker_seconds = time.perf_counter() - start
    iam_calls = [call for call in calls if call.service == "iam"]
    check(outcomes == {"announced": ROLES}, f"unexpected outcomes {outcomes}")
    return {
        "roles": ROLES,
        "planner_seconds": planner_seconds,
        "worker_seconds": worker_seconds,
        "iam_calls_per_role": len(iam_calls) / ROLES,
        "access_advisor_calls_per_role": sum(
            call.operation.endswith(("LastAccessedDetails", "GrantingServiceAccess")) for call in iam_calls
        )
        / ROLES,
    }


def worst_case(bench: Bench) -> dict[str, float]:
    name = "fifty-policies"
    bench.iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust())
    keys = []
    for index in range(WORST_INLINE):
        policy = document(
            allow("s3:Get*", f"ec2:Describe{index}*", "sqs:SendMessage", resource=f"arn:aws:s3:::b{index}")
        )
        bench.iam.put_role_policy(RoleName=name, PolicyName=f"inline-{index:02d}", PolicyDocument=json.dumps(policy))
        keys.append(f"inline:inline-{index:02d}")
    for index in range(WORST_MANAGED):
        arn = bench.iam.create_policy(
            PolicyName=f"managed-{index:02d}",
            PolicyDocument=json.dumps(document(allow("sns:*", "dynamodb:GetItem", "ec2:RunInstances"))),
        )["Policy"]["Arn"]
        bench.iam.attach_role_policy(RoleName=name, PolicyArn=arn)
        keys.append(arn)
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/{name}"
    bench.seed(role_arn)
    bench.queue_access_advisor(role_arn, keys)
    bench.settings = bench.settings._replace(mode=PruneMode.ENFORCE)
    pruner, _ = bench.runtime.pruner()
    with bench.factory.call_log.recording() as plan_calls:
        start = time.perf_counter()
        planned = pruner.process_role(ACCOUNT, role_arn)
        plan_seconds = time.perf_counter() - start
    check(planned.outcome == "announced", f"worst case not planned: {planned}")
    bench.clock.advance(8)
    bench.queue_access_advisor(role_arn, keys)  # the apply date asks Access Advisor again (review s11 F8)
    with bench.factory.call_log.recording() as apply_calls:
        start = time.perf_counter()
        applied = pruner.process_role(ACCOUNT, role_arn)
        apply_seconds = time.perf_counter() - start
    check(applied.outcome == "applied", f"worst case not applied: {applied}")
    return {
        "policies": WORST_INLINE + WORST_MANAGED,
        "plan_seconds": plan_seconds,
        "plan_iam_calls": sum(call.service == "iam" for call in plan_calls),
        "apply_seconds": apply_seconds,
        "apply_iam_calls": sum(call.service == "iam" for call in apply_calls),
        "apply_writes": sum(call.service == "iam" and call.writes for call in apply_calls),
    }


def main() -> None:
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        bench = Bench()
        start = time.perf_counter()
        PolicySentryCatalogue().actions("ec2")
        catalogue_seconds = time.perf_counter() - start
        account = simulated_account(bench)
        worst = worst_case(bench)
    rows = [
        (
            "pruner: simulated account",
            f"{account['roles']:.0f} roles (moto IAM + DynamoDB + SQS, stubbed Access Advisor)",
        ),
        ("  planner: list roles, queue messages", f"{account['planner_seconds']:.2f} s"),
        ("  worker: decide and announce every role", f"{account['worker_seconds']:.2f} s"),
        ("  worker per role", f"{1000 * account['worker_seconds'] / account['roles']:.1f} ms"),
        ("  IAM API calls per role", f"{account['iam_calls_per_role']:.1f}"),
        ("    of which Access Advisor", f"{account['access_advisor_calls_per_role']:.1f}"),
        ("  action catalogue load (once per container)", f"{catalogue_seconds:.2f} s"),
        ("pruner: worst case", f"one role with {worst['policies']:.0f} policies"),
        (
            "  plan (read, Access Advisor, rewrite, announce)",
            f"{worst['plan_seconds']:.2f} s, {worst['plan_iam_calls']:.0f} IAM calls",
        ),
        (
            "  apply on the date",
            f"{worst['apply_seconds']:.2f} s, {worst['apply_iam_calls']:.0f} IAM calls "
            f"({worst['apply_writes']:.0f} writes)",
        ),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")


if __name__ == "__main__":
    main()
