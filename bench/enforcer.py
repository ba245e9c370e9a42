"""Enforcer benchmarks against moto in-process: AWS calls per remediation and warm handler latency.

For each remediation (quarantine, delete, detach, bucket-statement removal) the
real handler (functions/enforcer/app.py) handles fresh violating events in
remediate mode, as a warm container would. Reported per event:

* reads and writes made to the customer's resources (from the audit record,
  i.e. botocore's after-call hooks), the minimum the live-state check needs;
* calls IAM Warden makes to its own resources (SSM, DynamoDB audit and
  idempotency tables), counted by a hook on every client;
* warm latency, total and with moto's own request handling subtracted (moto's
  botocore stubber is timed separately), which approximates the handler's own
  cost; real AWS adds network round trips per call on top.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import io
import itertools
import json
import os
import statistics
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests' template helpers build the tables exactly as deployed

EVENTS_PER_RULE = int(os.environ.get("BENCH_REMEDIATIONS", "30"))


def _handler_module() -> Any:
    spec = importlib.util.spec_from_file_location("enforcer_app", ROOT / "functions" / "enforcer" / "app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Context:
    function_name = "iamwarden-enforcer"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:111122223333:function:iamwarden-enforcer"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 55_000


def main() -> None:
    import boto3
    import moto.core.botocore_stubber as stubber
    from moto import mock_aws

    from tests.aws_fixtures import (
        HOME_ACCOUNT,
        create_parameters,
        create_queues,
        create_tables,
        create_topics,
        function_environment,
    )
    from tests.conftest import load_event
    from tests.functional.conftest import answer_service_specific_credentials

    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_TRACE_DISABLED": "1",
            **function_environment("EnforcerFunction"),
            "POWERTOOLS_LOG_LEVEL": "ERROR",
            "IAMWARDEN_SLACK_WEBHOOK_SECRET": "",  # alerts go to the SNS topic only (Slack would be a network call)
        }
    )
    import moto.iam.models

    moto.iam.models.DEFAULT_ACCOUNT_ID = HOME_ACCOUNT  # type: ignore[attr-defined]

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
    infra_calls: Counter[str] = Counter()

    def count_call(model: Any, **_: Any) -> None:
        infra_calls[model.service_model.service_name] += 1

    rows: list[tuple[str, str, str, str, str, str]] = []
    with mock_aws(config={"iam": {"load_aws_managed_policies": True}}):
        session = boto3.Session(region_name="us-east-1")
        create_tables(session.client("dynamodb"))
        create_parameters(session.client("ssm"))
        create_queues(session.client("sqs"))
        create_topics(session.client("sns"))
        iam = session.client("iam")
        s3 = session.client("s3", region_name="eu-west-1")
        ssm = session.client("ssm")
        for rule in ("iam-user-created", "managed-policy-attached", "s3-bucket-policy-public"):
            ssm.put_parameter(Name=f"/iamwarden/rules/{rule}/mode", Value="remediate", Type="String", Overwrite=True)
        # A burst of 90 remediations is what the circuit breaker exists to stop: raise its limit so every
        # event is remediated. The breaker still counts each one, so its calls are in the figures.
        ssm.put_parameter(Name="/iamwarden/breaker/max_remediations", Value="10000", Type="String", Overwrite=True)
        app = _handler_module()
        clients = app.enforcer().executor.clients
        for service in ("dynamodb", "ssm"):  # the audit, idempotency and settings clients
            clients.home_client(service).meta.events.register(f"after-call.{service}.*", count_call)

        serial = itertools.count()

        def scenario(name: str, sample: str, prepare: Any) -> None:
            base = load_event(sample)
            events = []
            for _ in range(EVENTS_PER_RULE + 1):
                i = next(serial)
                event = copy.deepcopy(base)
                event["detail"]["eventID"] = f"{base['detail']['eventID'][:-6]}{i:06d}"
                # Made now: the enforcer never remediates an event older than IAMWARDEN_MAX_EVENT_AGE_SECONDS (25 h
                # in the template), and the samples are dated.
                event["time"] = event["detail"]["eventTime"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                prepare(event, i)
                events.append(event)
            with contextlib.redirect_stdout(io.StringIO()):
                app.lambda_handler(events[0], _Context())  # the first event builds the service (not warm)
            infra_calls.clear()
            latencies = []
            moto_at_start = moto_seconds
            reads = writes = own = 0
            for event in events[1:]:
                before = sum(infra_calls.values())
                start = time.perf_counter()
                with contextlib.redirect_stdout(io.StringIO()):
                    result = app.lambda_handler(event, _Context())
                latencies.append(time.perf_counter() - start)
                own += sum(infra_calls.values()) - before  # the audit read below is the benchmark's, not counted
                [finding] = result["findings"]
                assert finding["outcome"] == "remediated", finding
                record = app.enforcer().audit.get(finding["remediation_id"])
                reads += sum(1 for call in record.calls if call["call"].split(":")[1].startswith(("Get", "List")))
                writes += sum(1 for call in record.calls if not call["call"].split(":")[1].startswith(("Get", "List")))
            total = sum(latencies)
            own_seconds = (total - (moto_seconds - moto_at_start)) / len(latencies)
            infra = own / len(latencies)
            rows.append(
                (
                    name,
                    f"{reads / len(latencies):.1f}",
                    f"{writes / len(latencies):.1f}",
                    f"{infra:.1f}",
                    f"{statistics.median(latencies) * 1000:.1f}",
                    f"{own_seconds * 1000:.1f}",
                )
            )

        from iamwarden.adapters.audit import AuditLog
        from iamwarden.adapters.recorded import AuditRecorded
        from iamwarden.domain.recorded import ATTACHMENTS, Snapshot

        dynamodb = session.client("dynamodb")
        recorded = AuditRecorded(AuditLog(os.environ["IAMWARDEN_AUDIT_TABLE"], dynamodb), dynamodb)
        before = "2000-01-01T00:00:00.000+00:00"

        def user(event: dict[str, Any], i: int) -> None:
            name = f"bench-user-{i}"
            event["detail"]["requestParameters"]["userName"] = name
            event["detail"]["responseElements"]["user"]["userName"] = name
            event["detail"]["responseElements"]["user"]["arn"] = f"arn:aws:iam::{HOME_ACCOUNT}:user/{name}"
            iam.create_user(UserName=name)
            iam.create_access_key(UserName=name)
            iam.create_login_profile(UserName=name, Password="bench-Password-123")

        def role(event: dict[str, Any], i: int) -> None:
            name = f"bench-role-{i}"
            event["detail"]["requestParameters"]["roleName"] = name
            iam.create_role(RoleName=name, AssumeRolePolicyDocument="{}")
            # The heartbeat's read of the role from before the attach: only a record taken before it says the attach
            # added AdministratorAccess (otherwise the finding is alert-only: it may have been there already).
            recorded.put(Snapshot(ATTACHMENTS, f"arn:aws:iam::{HOME_ACCOUNT}:role/{name}", before, {"policies": []}))
            iam.attach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")

        def bucket(event: dict[str, Any], i: int) -> None:
            name = f"bench-bucket-{i}"
            parameters = event["detail"]["requestParameters"]
            parameters["bucketName"] = name
            policy = json.loads(json.dumps(parameters["bucketPolicy"]).replace("acme-invoices", name))
            policy["Statement"].append(
                {
                    "Sid": "Own",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{HOME_ACCOUNT}:root"},
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{name}/*",
                }
            )
            parameters["bucketPolicy"] = policy
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
            s3.put_bucket_policy(Bucket=name, Policy=json.dumps(policy))

        scenario("iam-user-created (quarantine)", "create-user-backdoor-cli.json", user)
        ssm.put_parameter(
            Name="/iamwarden/rules/iam-user-created/remediation", Value="delete", Type="String", Overwrite=True
        )
        app.enforcer().settings_source.provider.clear_cache()
        # moto lacks ListServiceSpecificCredentials: answered (empty) through botocore's hooks, as in the tests.
        answer_service_specific_credentials(app.enforcer().executor.clients.client("iam", HOME_ACCOUNT, "us-east-1"))
        scenario("iam-user-created (delete)", "create-user-backdoor-cli.json", user)
        scenario("managed-policy-attached (detach)", "attach-admin-to-role.json", role)
        scenario("s3-bucket-policy-public (remove statement)", "bucket-policy-public-read.json", bucket)

    header = ("remediation", "reads", "writes", "own calls", "warm ms", "minus moto ms")
    width = max(len(row[0]) for row in rows)
    print(f"\nEnforcer against moto in-process, {EVENTS_PER_RULE} warm events per remediation (per event):")
    print(f"{header[0]:<{width}}  " + "  ".join(f"{h:>13}" for h in header[1:]))
    for row in rows:
        print(f"{row[0]:<{width}}  " + "  ".join(f"{v:>13}" for v in row[1:]))
    print("reads/writes: calls to the customer's resources; own calls: SSM + DynamoDB (audit, idempotency);")
    print("each event also publishes one alert to the SNS topic (Slack left out: it would be a network call).")


if __name__ == "__main__":
    main()
