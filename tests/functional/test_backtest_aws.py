"""``iamwarden backtest`` against moto: S3 prefixes read only for the days asked for, and Athena's pre-filter."""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from demo.backtest import ACCOUNT, ORG_ID, write_history
from iamwarden.app.cli import main
from iamwarden.backtest.adapters.athena import AthenaError, AthenaHistory
from iamwarden.backtest.adapters.s3 import S3History
from iamwarden.backtest.domain.records import DateRange, Problem
from tests.conftest import EVENTS_DIR, EXAMPLE_SETTINGS

BUCKET = "org-trail"
REGION = "us-east-1"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("history")
    write_history(root, start=date(2026, 11, 1), days=5, files_per_day=2, records_per_file=30, changes_per_file=2)
    return root


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield


@pytest.fixture
def bucket(aws: None, history: Path) -> Any:
    """The history uploaded as CloudTrail delivers it, plus a digest file that must never be read."""
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    for path in sorted(history.rglob("*.json.gz")):
        s3.put_object(Bucket=BUCKET, Key=str(path.relative_to(history)), Body=path.read_bytes())
    s3.put_object(
        Bucket=BUCKET,
        Key=f"AWSLogs/{ORG_ID}/{ACCOUNT}/CloudTrail-Digest/{REGION}/2026/11/02/digest.json.gz",
        Body=b"not a log",
    )
    return s3


class Calls:
    """Counts the S3 operations a client makes (botocore's before-call hook)."""

    def __init__(self, client: Any) -> None:
        self.counts: Counter[str] = Counter()
        self.keys: list[str] = []
        client.meta.events.register("provide-client-params.s3.*", self._count)

    def _count(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.counts[model.name] += 1
        if model.name == "GetObject":
            self.keys.append(params["Key"])


def test_a_date_range_lists_and_reads_only_its_days(bucket: Any) -> None:
    calls = Calls(bucket)
    history = S3History(bucket)
    problems: list[Problem] = []
    dates = DateRange(date(2026, 11, 2), date(2026, 11, 3))
    objects = list(history.objects(f"s3://{BUCKET}/", dates, problems))
    for item in objects:
        history.read(item)
    assert problems == []
    assert len(objects) == 8  # 2 days x 2 regions x 2 files
    assert all("/2026/11/02/" in key or "/2026/11/03/" in key for key in calls.keys)
    # Delimiter listings find the org, the account and the regions; then one listing per day and region.
    assert calls.counts == Counter({"ListObjectsV2": 3 + 4, "GetObject": 8})


def test_a_prefix_down_to_the_region_needs_no_discovery(bucket: Any) -> None:
    calls = Calls(bucket)
    prefix = f"s3://{BUCKET}/AWSLogs/{ORG_ID}/{ACCOUNT}/CloudTrail/{REGION}/"
    objects = list(S3History(bucket).objects(prefix, DateRange(date(2026, 11, 4), date(2026, 11, 30)), []))
    assert len(objects) == 4  # 11-04 and 11-05 hold files; the other days are listed and empty
    assert calls.counts == Counter({"ListObjectsV2": 27})


def test_a_prefix_with_a_month_keeps_only_days_in_it(bucket: Any) -> None:
    prefix = f"s3://{BUCKET}/AWSLogs/{ORG_ID}/{ACCOUNT}/CloudTrail/{REGION}/2026/11/"
    history = S3History(bucket)
    assert list(
        history.prefixes(BUCKET, prefix.split("/", 3)[3], DateRange(date(2026, 10, 30), date(2026, 11, 2)))
    ) == [
        f"AWSLogs/{ORG_ID}/{ACCOUNT}/CloudTrail/{REGION}/2026/11/01/",
        f"AWSLogs/{ORG_ID}/{ACCOUNT}/CloudTrail/{REGION}/2026/11/02/",
    ]


def test_without_a_range_everything_under_the_prefix_is_listed(bucket: Any) -> None:
    objects = list(S3History(bucket).objects(f"s3://{BUCKET}/AWSLogs/", DateRange(), []))
    assert len(objects) == 20
    assert not [item for item in objects if "Digest" in item.key]


def test_a_missing_bucket_is_a_problem_not_a_crash(aws: None) -> None:
    problems: list[Problem] = []
    s3 = boto3.client("s3", region_name=REGION)
    assert (
        list(
            S3History(s3).objects(
                "s3://no-such-bucket/AWSLogs/", DateRange(date(2026, 11, 1), date(2026, 11, 1)), problems
            )
        )
        == []
    )
    assert [p.where for p in problems] == ["s3://no-such-bucket/AWSLogs/"]
    assert problems[0].message.startswith("cannot list: NoSuchBucket")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_backtest_of_an_s3_history_matches_the_local_one(bucket: Any, history: Path, tmp_path: Path, jobs: str) -> None:
    remote, local = tmp_path / "remote.jsonl", tmp_path / "local.jsonl"
    code, out, err = run(
        "backtest", f"s3://{BUCKET}/", "--config", str(EXAMPLE_SETTINGS), "--jobs", jobs, "--jsonl", str(remote)
    )
    assert code == 0, err
    assert "Read 20 files" in out
    assert (
        run("backtest", str(history), "--config", str(EXAMPLE_SETTINGS), "--jobs", "1", "--jsonl", str(local))[0] == 0
    )

    def comparable(path: Path) -> list[tuple[str, str, str]]:
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        return sorted((row["event_id"], row["rule"], row["outcome"]) for row in rows)

    assert comparable(remote) == comparable(local)
    assert comparable(remote)


def test_a_missing_s3_object_is_named_and_the_run_goes_on(bucket: Any) -> None:
    missing = f"s3://{BUCKET}/AWSLogs/{ORG_ID}/{ACCOUNT}/CloudTrail/{REGION}/2026/11/09/gone.json.gz"
    code, out, err = run(
        "backtest", missing, f"s3://{BUCKET}/AWSLogs/", "--since", "2026-11-01", "--until", "2026-11-01", "--jobs", "1"
    )
    assert code == 0
    assert f"iamwarden backtest: {missing}: cannot read: no such object (NoSuchKey)" in err
    assert "Could not read 1 file and 0 records" in out
    assert "Read 5 files" in out  # the missing one and the 4 of 11-01


def test_ssm_settings_are_the_deployed_ones(aws: None, tmp_path: Path) -> None:
    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(Name="/warden/rules/iam-user-created/mode", Value="remediate", Type="String")
    ssm.put_parameter(Name="/warden/rules/access-key-created/colour", Value="blue", Type="String")
    event = str(EVENTS_DIR / "create-user-backdoor-cli.json")
    code, out, err = run("backtest", event, "--ssm", "--ssm-prefix", "/warden", "--jobs", "1")
    assert code == 0
    assert "the SSM settings under /warden" in out
    assert "1 would remediate" in out
    assert "iamwarden backtest: SSM setting /warden/rules/access-key-created/colour: unknown setting" in err
    assert "1 would alert" in run("backtest", event, "--jobs", "1")[1]  # the built-in default is alert


# --- Athena -----------------------------------------------------------------------------------


def athena_results(rows: list[dict[str, str | None]]) -> None:
    """Seed moto's Athena with the result of the next query (moto runs no SQL)."""
    from moto.athena.models import QueryResults, athena_backends

    columns = list(rows[0])
    header = {"Data": [{"VarCharValue": name} for name in columns]}
    data = [
        {"Data": [{"VarCharValue": row[name]} if row[name] is not None else {} for name in columns]} for row in rows
    ]
    athena_backends["123456789012"][REGION].query_results_queue.append(
        QueryResults(rows=[header, *data], column_info=[{"Name": name, "Type": "varchar"} for name in columns])
    )


def table_row(name: str) -> dict[str, str | None]:
    detail = json.loads((EVENTS_DIR / name).read_text())["detail"]
    identity = detail["userIdentity"]
    struct = (
        "{" + ", ".join(f"{key.lower()}={value}" for key, value in identity.items() if isinstance(value, str)) + "}"
    )
    return {
        "eventversion": detail["eventVersion"],
        "useridentity": struct,
        "eventtime": detail["eventTime"],
        "eventsource": detail["eventSource"],
        "eventname": detail["eventName"],
        "awsregion": detail["awsRegion"],
        "sourceipaddress": detail["sourceIPAddress"],
        "useragent": detail["userAgent"],
        "errorcode": None,
        "errormessage": None,
        "requestparameters": json.dumps(detail["requestParameters"]),
        "responseelements": json.dumps(detail["responseElements"]),
        "additionaleventdata": None,
        "requestid": detail["requestID"],
        "eventid": detail["eventID"],
        "resources": None,
        "eventtype": "AwsApiCall",
        "readonly": "false",
        "recipientaccountid": detail["recipientAccountId"],
    }


def test_athena_runs_the_prefilter_and_judges_its_rows_locally(aws: None, tmp_path: Path) -> None:
    bad = {**table_row("create-user-backdoor-cli.json"), "eventid": "bad", "requestparameters": "{broken"}
    athena_results([table_row("create-user-backdoor-cli.json"), table_row("attach-admin-to-role.json"), bad])
    jsonl = tmp_path / "f.jsonl"
    code, out, err = run(
        "backtest", "--athena", "--athena-table", "security.cloudtrail_logs", "--athena-output", "s3://results/",
        "--since", "2026-11-01", "--until", "2026-11-30", "--config", str(EXAMPLE_SETTINGS), "--jsonl", str(jsonl),
    )  # fmt: skip
    assert code == 0, err
    rows = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert sorted((row["rule"], row["outcome"]) for row in rows) == [
        ("iam-user-created", "would remediate"),
        ("managed-policy-attached", "would alert"),
    ]
    assert "row 4: column requestparameters is not JSON text" in err
    assert "GB (about $" in err  # the cost of what Athena scanned
    assert "Athena table security.cloudtrail_logs" in out
    from moto.athena.models import athena_backends

    [execution] = athena_backends["123456789012"][REGION].executions.values()
    assert 'FROM "security"."cloudtrail_logs"' in execution.query
    assert "'CreateUser'" in execution.query
    assert "\"timestamp\" <= '2026/11/30'" in execution.query


class FailingAthena:
    def start_query_execution(self, **_: Any) -> dict[str, str]:
        return {"QueryExecutionId": "q-1"}

    def get_query_execution(self, **_: Any) -> dict[str, Any]:
        return {"QueryExecution": {"Status": {"State": "FAILED", "StateChangeReason": "TABLE_NOT_FOUND: no table"}}}


def test_a_failed_athena_query_says_why() -> None:
    with pytest.raises(AthenaError, match="Athena query q-1 failed: TABLE_NOT_FOUND: no table"):
        AthenaHistory(FailingAthena()).run("db.t", DateRange())
