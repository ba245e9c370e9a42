"""Identity-policy judgement with live context, against moto in-process: AWS calls and latency per event.

The enforcer judges an inline policy or customer-managed attachment on the principal's whole power, read
live by ``iamwarden.adapters.principals.LiveRoleDirectory``. For each sample event (the CI role passing an
admin role to CloudFormation; a method split across two policies) this reports, per event:

* cold: a new directory for every event (a fresh container): every read it needs;
* warm: one directory for all events, each event first ``observe``d as the enforcer does, so the changed
  principal is read again while managed policy versions, the role list and other roles come from the cache.

Latency is ``judge_event`` with the directory, total and with moto's own request handling subtracted
(moto's botocore stubber is timed separately); real AWS adds one network round trip per call.
"""

from __future__ import annotations

import copy
import json
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

EVENTS = int(os.environ.get("BENCH_CONTEXT_EVENTS", "40"))
ACCOUNT = "111122223333"
ROLES = 60  # roles in the account besides the scenario's (the role list a PassRole pattern is matched against)


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def main() -> None:
    import boto3
    import moto.core.botocore_stubber as stubber
    import moto.iam.models
    from moto import mock_aws

    from iamwarden.adapters.principals import LiveRoleDirectory
    from iamwarden.domain.settings import Settings
    from iamwarden.guardrails.engine import judge_event
    from tests.conftest import load_event

    os.environ.update(
        {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}
    )
    moto.iam.models.DEFAULT_ACCOUNT_ID = ACCOUNT  # type: ignore[attr-defined]
    moto_seconds = 0.0
    original_call = stubber.BotocoreStubber.__call__

    def timed_call(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal moto_seconds
        start = time.perf_counter()
        try:
            return original_call(self, *args, **kwargs)
        finally:
            moto_seconds += time.perf_counter() - start

    stubber.BotocoreStubber.__call__ = timed_call  # type: ignore[method-assign]
    calls: Counter[str] = Counter()

    with mock_aws(config={"iam": {"load_aws_managed_policies": True}}):
        session = boto3.Session(region_name="us-east-1")
        iam = session.client("iam")
        trust = _doc()
        for i in range(ROLES):
            iam.create_role(RoleName=f"app-{i:03d}", AssumeRolePolicyDocument=trust)
        shared = iam.create_policy(
            PolicyName="ci-base", PolicyDocument=_doc({"Effect": "Allow", "Action": "logs:*", "Resource": "*"})
        )["Policy"]["Arn"]
        for role, inline in (
            ("ci-pipeline", {"read-artifacts": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}),
            ("build-runner", {"pass-any-role": {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}}),
        ):
            iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust)
            for name, statement in inline.items():
                iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=_doc(statement))
            iam.attach_role_policy(RoleName=role, PolicyArn=shared)
            iam.attach_role_policy(RoleName=role, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
        # The admin role the samples lead to: a passed role counts only when its trust admits the method's service
        # (CloudFormation for the CI sample, Lambda for the split one), as PMapper's edges check.
        services = ["cloudformation.amazonaws.com", "lambda.amazonaws.com"]
        admin_trust = _doc({"Effect": "Allow", "Principal": {"Service": services}, "Action": "sts:AssumeRole"})
        iam.create_role(RoleName="cfn-deploy-admin", AssumeRolePolicyDocument=admin_trust)
        iam.attach_role_policy(RoleName="cfn-deploy-admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")

        class Clients:
            def __init__(self) -> None:
                self.made: dict[str, Any] = {}

            def client(self, service: str, account: str, region: str, *, logged: bool = True) -> Any:
                if service not in self.made:
                    made = session.client(service, region_name=region)  # type: ignore[call-overload]
                    made.meta.events.register("after-call.*.*", lambda model, **_: calls.update([model.name]))
                    self.made[service] = made
                return self.made[service]

        clients = Clients()
        settings = Settings()
        rows = []
        for sample in ("put-role-policy-ci-passrole-admin-role.json", "put-role-policy-split-escalation.json"):
            base = load_event(sample)
            parameters = base["detail"]["requestParameters"]
            iam.put_role_policy(
                RoleName=parameters["roleName"],
                PolicyName=parameters["policyName"],
                PolicyDocument=parameters["policyDocument"],
            )
            events = []
            for i in range(EVENTS):
                event = copy.deepcopy(base)
                event["detail"]["eventID"] = f"{base['detail']['eventID'][:-6]}{i:06d}"
                events.append(event)
            shared_directory = LiveRoleDirectory(clients)
            shared_directory.observe(events[0])
            judge_event(events[0], settings, directory=shared_directory)  # fills the cache
            for mode in ("cold", "warm"):
                calls.clear()
                latencies = []
                moto_at_start = moto_seconds
                for event in events:
                    directory = LiveRoleDirectory(clients) if mode == "cold" else shared_directory
                    start = time.perf_counter()
                    directory.observe(event)
                    judgement = judge_event(event, settings, directory=directory)
                    latencies.append(time.perf_counter() - start)
                    assert judgement.findings, judgement.reason
                own = (sum(latencies) - (moto_seconds - moto_at_start)) / len(latencies)
                per_event = sum(calls.values()) / len(events)
                which = ", ".join(f"{name} {count / len(events):g}" for name, count in sorted(calls.items()))
                rows.append(
                    (
                        sample.removesuffix(".json"),
                        mode,
                        f"{per_event:.1f}",
                        f"{statistics.median(latencies) * 1000:.2f}",
                        f"{own * 1000:.2f}",
                        which,
                    )
                )

    print(f"\nIdentity-policy judgement with live context (moto in-process, {EVENTS} events each, {ROLES + 4} roles)")
    header = ("event", "cache", "AWS calls/event", "median ms", "own ms", "calls")
    widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
