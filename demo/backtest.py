"""A month of CloudTrail history as CloudTrail writes it, and the backtest ``make demo`` ends with.

``write_history`` lays out gzipped log files under
``AWSLogs/<org-id>/<account>/CloudTrail/<region>/YYYY/MM/DD/``: mostly read-only
noise (Describe*, Get*, List*, data reads) of realistic size, some writes no
guardrail covers, and now and then a change a guardrail judges, made from the
samples in events/ (restamped, and often by a Terraform role, as in real
accounts). The benchmark (bench/bench_backtest.py) and the tests use it too.

``python -m demo.backtest --screenshot docs/backtest-report.png`` redraws the
screenshot in docs/ with headless Chromium.
"""

from __future__ import annotations

import copy
import gzip
import io
import json
import random
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"
ORG_ID = "o-a1b2c3d4e5"
ACCOUNT = "111122223333"
REGIONS = ("us-east-1", "eu-west-1")

#: Sample changes a month of history is made of (each drawn with its weight): routine ones mostly.
CHANGES: dict[str, int] = {
    "attach-lambda-basic-execution.json": 12,
    "put-role-policy-scoped-s3.json": 12,
    "trust-lambda-service.json": 10,
    "pab-bucket-all-on.json": 8,
    "acl-bucket-private.json": 6,
    "bucket-policy-deny-insecure-transport.json": 6,
    "create-user-service-account-path.json": 4,
    "trust-github-oidc-exact-subject.json": 4,
    "create-access-key-self.json": 5,
    "attach-readonly-to-user.json": 4,
    "create-user-backdoor-cli.json": 2,
    "bucket-policy-public-read.json": 2,
    "put-role-policy-admin-star.json": 1,
    "trust-update-unknown-account.json": 1,
    "attach-admin-to-role.json": 1,
    "put-user-policy-passrole-lambda.json": 1,
    "create-login-profile.json": 1,
    "attach-customer-managed.json": 2,
    "set-default-policy-version.json": 1,
    "pab-bucket-partly-off.json": 1,
    "acl-bucket-public-read.json": 1,
}

_TERRAFORM_AGENT = "APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io) terraform-provider-aws/5.80.0"
_SDK_AGENT = (
    "Boto3/1.35.76 md/Botocore#1.35.76 ua/2.0 os/linux#5.10.228-219.884.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.7"
)


def _identity(account: str, role: str, session: str) -> dict[str, Any]:
    role_id = "AROA" + uuid.uuid5(uuid.NAMESPACE_DNS, role).hex[:17].upper()
    return {
        "type": "AssumedRole",
        "principalId": f"{role_id}:{session}",
        "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{session}",
        "accountId": account,
        "accessKeyId": "ASIA" + uuid.uuid5(uuid.NAMESPACE_DNS, session).hex[:16].upper(),
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": role_id,
                "arn": f"arn:aws:iam::{account}:role/{role}",
                "accountId": account,
                "userName": role,
            },
            "webIdFederationData": {},
            "attributes": {"creationDate": "2026-11-01T08:00:00Z", "mfaAuthenticated": "false"},
        },
    }


def _noise(rng: random.Random, account: str, region: str) -> dict[str, Any]:
    """A read-only call (or, now and then, a write no guardrail covers), about 1-3 KB like real records."""
    source: str
    name: str
    request: dict[str, Any]
    response: dict[str, Any] | None
    kind = rng.random()
    identity = _identity(account, rng.choice(("app-backend", "orders-worker", "datadog-integration")), "i-0abc")
    if kind < 0.35:
        source, name, request, response = (
            "ec2.amazonaws.com",
            "DescribeInstances",
            {
                "instancesSet": {},
                "filterSet": {
                    "items": [
                        {"name": "tag:Environment", "valueSet": {"items": [{"value": "production"}]}},
                        {"name": "instance-state-name", "valueSet": {"items": [{"value": "running"}]}},
                    ]
                },
            },
            None,
        )
    elif kind < 0.55:
        bucket = rng.choice(("acme-app-data", "acme-exports", "acme-logs"))
        key = f"orders/{rng.randrange(10**6):06d}/{uuid.uuid4().hex}.parquet"
        source, name, request, response = (
            "s3.amazonaws.com",
            "GetObject",
            {"bucketName": bucket, "Host": f"{bucket}.s3.{region}.amazonaws.com", "key": key},
            None,
        )
    elif kind < 0.70:
        source, name, request, response = (
            "kms.amazonaws.com",
            "Decrypt",
            {
                "encryptionContext": {"aws:lambda:FunctionArn": f"arn:aws:lambda:{region}:{account}:function:orders"},
                "encryptionAlgorithm": "SYMMETRIC_DEFAULT",
            },
            None,
        )
    elif kind < 0.82:
        source, name, request, response = (
            "ssm.amazonaws.com",
            "GetParameter",
            {"name": "/orders/prod/database-url", "withDecryption": True},
            None,
        )
    elif kind < 0.955:
        source, name, request, response = (
            "dynamodb.amazonaws.com",
            "DescribeTable",
            {"tableName": rng.choice(("orders", "sessions", "audit"))},
            None,
        )
    else:  # a write, out of scope
        source, name, request, response = (
            "logs.amazonaws.com",
            "CreateLogStream",
            {"logGroupName": "/aws/lambda/orders", "logStreamName": f"2026/11/{uuid.uuid4().hex}"},
            None,
        )
    read_only = name != "CreateLogStream"
    return {
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventTime": "",
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": f"10.0.{rng.randrange(256)}.{rng.randrange(256)}",
        "userAgent": _SDK_AGENT,
        "requestParameters": request,
        "responseElements": response,
        "requestID": str(uuid.uuid4()),
        "eventID": "",
        "readOnly": read_only,
        "resources": [{"accountId": account, "type": "AWS::KMS::Key", "ARN": f"arn:aws:kms:{region}:{account}:key/x"}]
        if source == "kms.amazonaws.com"
        else None,
        "eventType": "AwsApiCall",
        "managementEvent": source != "s3.amazonaws.com",
        "recipientAccountId": account,
        "eventCategory": "Management" if source != "s3.amazonaws.com" else "Data",
        "tlsDetails": {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": source.replace("amazonaws.com", f"{region}.amazonaws.com"),
        },
    }


def _changes(account: str) -> list[tuple[dict[str, Any], int]]:
    """The sample records, in ``account``."""
    loaded = []
    for name, weight in CHANGES.items():
        text = (EVENTS / name).read_text(encoding="utf-8").replace("111122223333", account)
        loaded.append((json.loads(text)["detail"], weight))
    return loaded


def write_history(
    root: Path,
    *,
    start: date,
    days: int,
    accounts: tuple[str, ...] = (ACCOUNT,),
    regions: tuple[str, ...] = REGIONS,
    files_per_day: int = 4,
    records_per_file: int = 100,
    changes_per_file: float = 0.5,
    seed: int = 7,
) -> Counter[str]:
    """Write gzipped CloudTrail log files; returns counts (files, records, read-only, changes, bytes, gzipped bytes)."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, reproducible on purpose
    stats: Counter[str] = Counter()
    for account in accounts:
        samples = _changes(account)
        population = [detail for detail, _ in samples]
        weights = [weight for _, weight in samples]
        for offset in range(days):
            day = start + timedelta(days=offset)
            for region in regions:
                folder = root / "AWSLogs" / ORG_ID / account / "CloudTrail" / region / f"{day:%Y/%m/%d}"
                folder.mkdir(parents=True, exist_ok=True)
                for index in range(files_per_day):
                    minute = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
                        minutes=index * 24 * 60 // files_per_day
                    )
                    records = []
                    for _ in range(records_per_file):
                        record = _noise(rng, account, region)
                        if record["resources"] is None:
                            del record["resources"]
                        records.append(record)
                    wanted = int(changes_per_file) + (rng.random() < changes_per_file % 1)
                    if region == regions[0]:  # IAM is global: its calls are recorded in us-east-1
                        for _ in range(wanted):
                            change = copy.deepcopy(rng.choices(population, weights)[0])
                            if rng.random() < 0.6 and change["userIdentity"].get("type") != "Root":
                                change["userIdentity"] = _identity(account, "terraform-deployer", "terraform-run")
                                change["userAgent"] = _TERRAFORM_AGENT
                            records.insert(rng.randrange(len(records) + 1), change)
                            stats["changes"] += 1
                    stats["read-only"] += sum(1 for record in records if record.get("readOnly") is True)
                    for position, record in enumerate(records):
                        when = minute + timedelta(seconds=position * 3)
                        record["eventTime"] = f"{when:%Y-%m-%dT%H:%M:%SZ}"
                        record["eventID"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                    text = json.dumps({"Records": records}, separators=(",", ":")).encode()
                    name = f"{account}_CloudTrail_{region}_{minute:%Y%m%dT%H%MZ}_{uuid.uuid4().hex[:16]}.json.gz"
                    packed = gzip.compress(text, compresslevel=6)
                    (folder / name).write_bytes(packed)
                    stats["files"] += 1
                    stats["records"] += len(records)
                    stats["bytes"] += len(text)
                    stats["gzipped bytes"] += len(packed)
    return stats


def write_played(root: Path, records: list[dict[str, Any]]) -> int:
    """Write the CloudTrail records the demo just played as one log file per account, region and day."""
    grouped: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for record in records:
        account = str(record.get("recipientAccountId") or record.get("userIdentity", {}).get("accountId") or ACCOUNT)
        region = str(record.get("awsRegion") or REGIONS[0])
        day = str(record.get("eventTime", "1970-01-01"))[:10].replace("-", "/")
        grouped.setdefault((account, region, day), []).append(record)
    for (account, region, day), batch in grouped.items():
        folder = root / "AWSLogs" / ORG_ID / account / "CloudTrail" / region / day
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{account}_CloudTrail_{region}_{day.replace('/', '')}T0000Z_demo{uuid.uuid4().hex[:10]}.json.gz"
        text = json.dumps({"Records": batch}, separators=(",", ":")).encode()
        (folder / name).write_bytes(gzip.compress(text, compresslevel=6))
    return len(records)


def _settings_with(path: Path, accounts: set[str]) -> Path:
    """events/settings.yaml with the emulated account managed too, so the played changes are judged."""
    import yaml

    values = yaml.safe_load((EVENTS / "settings.yaml").read_text(encoding="utf-8"))
    managed = list(values.get("managed_accounts") or [])
    values["managed_accounts"] = managed + sorted(a for a in accounts - set(managed) if a.isdigit())
    path.write_text(yaml.safe_dump(values, sort_keys=False), encoding="utf-8")
    return path


def backtest_demo(work: Path, out: TextIO, played: list[dict[str, Any]] | None = None) -> int:
    """Backtest the changes the demo just made, in a month of the account's history; print the summary."""
    from iamwarden.app.cli import main

    history = work / "history"
    shutil.rmtree(history, ignore_errors=True)
    stats = write_history(history, start=date(2026, 11, 1), days=30)
    ours = write_played(history, list(played or ()))
    settings = _settings_with(work / "settings.yaml", {str(r.get("recipientAccountId")) for r in played or ()})
    out.write(
        f"\n== 9. Before switching to remediate: a backtest of a month of CloudTrail history\n"
        f"   {stats['files']} log files, {stats['records']:,} records ({stats['changes']} changes a rule judges),\n"
        f"   and the {ours} CloudTrail records of the changes this demo just made\n"
        f"   (settings: events/settings.yaml, with the emulated account managed too)\n"
        f"   $ iamwarden backtest {history} --config {settings} --html {work}/backtest.html\n\n"
    )
    code = main(
        [
            "backtest",
            str(history),
            "--config",
            str(settings),
            "--html",
            str(work / "backtest.html"),
            "--jsonl",
            str(work / "findings.jsonl"),
        ],
        stdout=out,
        stderr=out,
    )
    out.flush()
    return code


def screenshot(path: Path) -> None:
    """Draw the demo history's HTML report and save a screenshot of it (needs chromium)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        raise SystemExit("no chromium on PATH: make browser")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        backtest_demo(work, io.StringIO())
        subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--user-data-dir={work / 'profile'}",
                "--window-size=1280,1600",
                f"--screenshot={path.resolve()}",
                (work / "backtest.html").as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--screenshot"]:
        screenshot(Path(sys.argv[2]))
    else:
        with tempfile.TemporaryDirectory() as folder:
            sys.exit(backtest_demo(Path(folder), sys.stdout))
