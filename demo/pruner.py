"""The pruner in ``make demo``: a broad role, its Access Advisor history, the plan, the apply, a rollback.

Three weeks pass on a shortened clock: the pruner watches the new role for
its warm-up (``recent_days``), announces the plan with the exact diff,
applies it after the notice period, and an owner gives one service back
with ``iamwarden prune rollback``, which snoozes the role. moto does not
implement Access Advisor, so its answers come from a botocore Stubber on
the IAM client the pruner reads them with, exactly as the pruner's tests
stub them; every other call goes to the emulated account.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from botocore.stub import Stubber

from iamwarden.adapters.clients import ClientFactory
from iamwarden.domain.delivery import Delivery, DeliveryReport
from iamwarden.prune.adapters.access_advisor import AccessAdvisor
from iamwarden.prune.app.runtime import PruneRuntime
from iamwarden.prune.domain.notices import PruneNotice
from iamwarden.prune.domain.settings import PruneMode, PruneSettings

ROLE = "reporting-etl"
OWNER = "team-data@example.com"
JOB = "5f0c2a8e-6b1d-4c39-9a57-0d2b7c1e4f10"
#: The role as many are: broad service wildcards where a few actions were meant.
POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "Reports", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Sid": "Everything", "Effect": "Allow", "Action": ["ec2:*", "dynamodb:*", "sqs:*"], "Resource": "*"},
    ],
}


class PruneResult(NamedTuple):
    outcomes: list[str]  # the pruner's outcome per run, in order
    plan_id: str | None
    notices: list[PruneNotice]
    rollback_exit: int | None
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


class Clock:
    """The pruner's clock: starts now and is moved on by whole days."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC) + timedelta(hours=1)

    def __call__(self) -> datetime:
        return self.now


class PrintedNotices:
    """The notice channel of the demo: keeps each notice and prints it as owners would read it."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.sent: list[PruneNotice] = []

    def send(self, notice: PruneNotice) -> DeliveryReport:
        self.sent.append(notice)
        _say(self.out, f"   notice to {', '.join(notice.owners) or 'the security team'} ({notice.kind.value}):")
        _say(self.out, f"   | {notice.summary}")
        for line in (notice.diff or "").splitlines():
            _say(self.out, f"   | {line}")
        return DeliveryReport((Delivery("demo", ok=True),))


def _say(out: TextIO, text: str) -> None:
    out.write(text + "\n")
    out.flush()


def _access_advisor_history(stubber: Stubber, role_arn: str, now: datetime, *, planning: bool = True) -> None:
    """What Access Advisor would say after months of use: s3 and sqs in use, ec2 never, dynamodb long ago.
    ``planning``: also which policies grant the unused services (the apply date asks only for the report)."""

    def service(namespace: str, last: datetime | None, tracked: dict[str, datetime | None] | None = None) -> Any:
        entry: dict[str, Any] = {"ServiceName": f"AWS {namespace}", "ServiceNamespace": namespace}
        entry["TotalAuthenticatedEntities"] = 0 if last is None else 1
        if last is not None:
            entry["LastAuthenticated"] = last
            entry["LastAuthenticatedEntity"] = role_arn
        if tracked is not None:
            entry["TrackedActionsLastAccessed"] = [
                {"ActionName": name, **({"LastAccessedTime": when, "LastAccessedRegion": "us-east-1"} if when else {})}
                for name, when in tracked.items()
            ]
        return entry

    recently = now - timedelta(days=2)
    stubber.add_response(
        "generate_service_last_accessed_details", {"JobId": JOB}, {"Arn": role_arn, "Granularity": "ACTION_LEVEL"}
    )
    stubber.add_response(
        "get_service_last_accessed_details",
        {
            "JobStatus": "COMPLETED",
            "JobType": "ACTION_LEVEL",
            "JobCreationDate": now - timedelta(minutes=6),
            "JobCompletionDate": now - timedelta(minutes=5),
            "ServicesLastAccessed": [
                service("s3", recently, {"GetObject": recently, "PutBucketPolicy": None, "DeleteBucket": None}),
                service("sqs", recently),
                service("ec2", None),
                service("dynamodb", now - timedelta(days=200)),
            ],
            "IsTruncated": False,
        },
        {"JobId": JOB},
    )
    if not planning:
        return
    granting = [
        {
            "ServiceNamespace": namespace,
            "Policies": [{"PolicyName": "etl", "PolicyType": "INLINE", "EntityType": "ROLE", "EntityName": ROLE}],
        }
        for namespace in ("dynamodb", "ec2")
    ]
    stubber.add_response(
        "list_policies_granting_service_access",
        {"PoliciesGrantingServiceAccess": granting, "IsTruncated": False},
        {"Arn": role_arn, "ServiceNamespaces": ["dynamodb", "ec2"]},
    )


def run_pruner(out: TextIO, session: Any, table: str, operator_env: dict[str, str], cli: Path) -> PruneResult:
    """The pruner's first weeks with one role, printed as a timeline; ``cli`` is the iamwarden console script."""
    clock = Clock()
    notices = PrintedNotices(out)
    iam = session.client("iam")
    advisor_iam = session.client("iam")
    stubber = Stubber(advisor_iam)
    stubber.activate()
    settings = PruneSettings(mode=PruneMode.ENFORCE, min_role_age_days=0)
    runtime = PruneRuntime(
        ClientFactory(session=session),
        table=table,
        notices=notices,
        settings=lambda: (settings, []),
        clock=clock,
        advisor_for=lambda _: AccessAdvisor(advisor_iam, sleep=lambda _: None, clock=clock),
    )
    pruner, _ = runtime.pruner()
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    role_arn = iam.create_role(
        RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust), Tags=[{"Key": "owner", "Value": OWNER}]
    )["Role"]["Arn"]
    iam.put_role_policy(RoleName=ROLE, PolicyName="etl", PolicyDocument=json.dumps(POLICY))
    _say(out, f"   role {ROLE} (owner {OWNER}), inline policy etl: s3:*, ec2:*, dynamodb:*, sqs:*")
    _say(
        out, "   Access Advisor (stubbed: moto has none): s3 and sqs used this week, ec2 never, dynamodb 200 days ago;"
    )
    _say(out, "   of s3's tracked actions, PutBucketPolicy and DeleteBucket never. Mode enforce, notice 7 days.")
    outcomes: list[str] = []
    problems: list[str] = []

    def run(day: int, expected: str, before: Callable[[], None] | None = None) -> str:
        if before is not None:
            before()
        _say(out, f"\n   day {day:>2}: the pruner runs")
        outcome = pruner.process_role(role_arn.split(":")[4], role_arn)
        outcomes.append(outcome.outcome)
        _say(out, f"   outcome: {outcome.outcome}")
        if outcome.outcome in ("skipped", "snoozed", "waiting"):
            _say(out, f"            {outcome.detail}")
        if outcome.outcome != expected:
            problems.append(f"day {day}: {outcome.outcome}, expected {expected}")
            _say(out, f"   DIVERGED: expected {expected}")
        return str(outcome.plan_id or "")

    run(0, "skipped")
    clock.now += timedelta(days=14)
    plan_id = run(14, "announced", lambda: _access_advisor_history(stubber, role_arn, clock.now)) or None
    clock.now += timedelta(days=3)
    run(17, "waiting")
    clock.now += timedelta(days=4)
    run(21, "applied", lambda: _access_advisor_history(stubber, role_arn, clock.now, planning=False))
    after = iam.get_role_policy(RoleName=ROLE, PolicyName="etl")["PolicyDocument"]
    _say(out, f"   etl now: {json.dumps(after['Statement'])}")

    rollback_exit: int | None = None
    if plan_id:
        _say(out, "\n   The nightly job needs DynamoDB after all; the owner gives it back:")
        _say(out, f"   $ iamwarden prune rollback {plan_id} --service dynamodb   (as role secops)")
        answer = subprocess.run(
            [str(cli), "prune", "rollback", plan_id, "--service", "dynamodb"],
            env={**os.environ, **operator_env, "IAMWARDEN_PRUNE_TABLE": table},
            capture_output=True,
            text=True,
            check=False,
        )
        rollback_exit = answer.returncode
        for line in (answer.stdout + answer.stderr).splitlines():
            _say(out, f"   {line}")
        back = iam.get_role_policy(RoleName=ROLE, PolicyName="etl")["PolicyDocument"]
        granted = [action for statement in back["Statement"] for action in _actions(statement)]
        _say(out, f"   etl now: {json.dumps(back['Statement'])}")
        if rollback_exit != 0 or "dynamodb:*" not in granted or "ec2:*" in granted:
            problems.append(f"rollback: exit {rollback_exit}, etl grants {granted}")
        clock.now += timedelta(days=1)
        run(22, "snoozed")
    else:
        problems.append("no plan was announced")
    stubber.deactivate()
    _say(out, "   OK" if not problems else "   DIVERGED: " + "; ".join(problems))
    return PruneResult(outcomes, plan_id, notices.sent, rollback_exit, problems)


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement.get("Action", [])
    return [action] if isinstance(action, str) else list(action)
