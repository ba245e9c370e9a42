"""Reading a history: the envelope, the pre-filter, log files, query results, and bad input."""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import date
from typing import Any

import pytest

from iamwarden.backtest.domain.records import (
    IN_SCOPE,
    IN_SCOPE_RECORDS,
    MALFORMED_FILES,
    MALFORMED_RECORDS,
    NOT_PARSED,
    OUT_OF_SCOPE,
    OUTSIDE_RANGE,
    READ_ONLY,
    RECORDS,
    DateRange,
    envelope,
    events_in,
    parse_struct,
    record_from_row,
    scan_content,
)
from iamwarden.domain.events import parse_event
from iamwarden.domain.findings import Verdict
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import EVENTS_DIR


def sample(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS_DIR / name).read_text())
    return event


def record(name: str) -> dict[str, Any]:
    detail: dict[str, Any] = sample(name)["detail"]
    return detail


def noise(index: int, name: str = "DescribeInstances", read_only: bool = True) -> dict[str, Any]:
    return {
        "eventVersion": "1.09",
        "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/app/i-1"},
        "eventTime": "2026-11-21T10:00:00Z",
        "eventSource": "ec2.amazonaws.com",
        "eventName": name,
        "awsRegion": "us-east-1",
        "requestParameters": {"note": "CreateUser appears in a value, not as the eventName"},
        "eventID": f"00000000-0000-4000-8000-{index:012d}",
        "readOnly": read_only,
        "recipientAccountId": "111122223333",
    }


def log_file(records: list[Any], *, compact: bool = True) -> bytes:
    separators = (",", ":") if compact else None
    indent = None if compact else 2
    return gzip.compress(json.dumps({"Records": records}, separators=separators, indent=indent).encode())


# --- the envelope -------------------------------------------------------------------------------


def test_envelope_is_what_eventbridge_delivers_for_a_cloudtrail_record() -> None:
    """Same fields as the samples (which are real EventBridge deliveries), detail untouched."""
    delivered = sample("create-user-backdoor-cli.json")
    wrapped = envelope(delivered["detail"])
    assert wrapped["detail-type"] == "AWS API Call via CloudTrail"
    assert wrapped["source"] == "aws.iam"
    assert wrapped["version"] == "0"
    assert (wrapped["account"], wrapped["region"], wrapped["time"]) == (
        delivered["account"],
        delivered["region"],
        delivered["detail"]["eventTime"],
    )
    assert wrapped["resources"] == []
    assert wrapped["detail"] is delivered["detail"]
    assert set(wrapped) == set(delivered)
    assert envelope(record("bucket-policy-public-read.json"))["source"] == "aws.s3"


def test_envelope_id_is_stable_per_event_id() -> None:
    detail = record("create-user-backdoor-cli.json")
    assert envelope(detail)["id"] == envelope(dict(detail))["id"]
    assert envelope(detail)["id"] != envelope({**detail, "eventID": "another"})["id"]


@pytest.mark.parametrize("path", sorted(p.name for p in EVENTS_DIR.glob("*.json") if "malformed" not in p.name))
def test_wrapped_record_is_judged_exactly_as_the_delivered_event(path: str) -> None:
    """The backtest's judgement of a raw record equals the enforcer's of the EventBridge event."""
    delivered = sample(path)
    direct = judge_event(delivered, Settings())
    wrapped = judge_event(envelope(delivered["detail"]), Settings())
    assert (wrapped.verdict, wrapped.reason, wrapped.findings) == (direct.verdict, direct.reason, direct.findings)


def test_envelope_falls_back_to_the_caller_account_when_no_recipient() -> None:
    detail = {k: v for k, v in record("create-user-backdoor-cli.json").items() if k != "recipientAccountId"}
    assert parse_event(envelope(detail)).account == "111122223333"


# --- the pre-filter and log files ---------------------------------------------------------------


def test_in_scope_is_exactly_what_some_guardrail_judges() -> None:
    assert ("iam.amazonaws.com", "CreateUser") in IN_SCOPE
    assert ("iam.amazonaws.com", "DeleteUser") not in IN_SCOPE


def test_log_file_without_a_guarded_name_is_counted_and_not_parsed() -> None:
    data = log_file([noise(i) for i in range(50)])
    scan = scan_content("a.json.gz", data, DateRange())
    assert scan.events == []
    assert (scan.counts[RECORDS], scan.counts[NOT_PARSED]) == (50, 50)
    assert scan.problems == []


def test_log_file_decodes_only_the_records_that_carry_a_guarded_name() -> None:
    change = record("create-user-backdoor-cli.json")
    records = [noise(0), change, noise(1), noise(2, "RunInstances", read_only=False)]
    scan = scan_content("f.json.gz", log_file(records), DateRange())
    assert [event.where for event in scan.events] == ["f.json.gz: record 2"]
    assert scan.events[0].event == envelope(change)
    assert (scan.counts[RECORDS], scan.counts[IN_SCOPE_RECORDS], scan.counts[NOT_PARSED]) == (4, 1, 3)


def test_pretty_printed_log_file_takes_the_full_parse_with_the_same_result() -> None:
    change = record("create-user-backdoor-cli.json")
    records = [noise(0), change, noise(1, "GetObject")]
    scan = scan_content("pretty.json.gz", log_file(records, compact=False), DateRange())
    assert [event.event for event in scan.events] == [envelope(change)]
    assert (scan.counts[RECORDS], scan.counts[OUT_OF_SCOPE]) == (3, 2)


def test_read_only_and_out_of_range_records_are_skipped_before_judging() -> None:
    change = record("create-user-backdoor-cli.json")
    read_only = {**change, "eventID": "ro", "readOnly": "true"}
    old = {**change, "eventID": "old", "eventTime": "2026-10-01T00:00:00Z"}
    scan = scan_content("f.json", json.dumps({"Records": [change, read_only, old]}, indent=1).encode(), _november())
    assert [event.event for event in scan.events] == [envelope(change)]
    assert (scan.counts[READ_ONLY], scan.counts[OUTSIDE_RANGE]) == (1, 1)


def _november() -> DateRange:
    return DateRange(date(2026, 11, 1), date(2026, 11, 30))


def test_date_range_is_inclusive_and_says_when_it_is_empty() -> None:
    dates = _november()
    assert dates.contains_day("2026-11-01")
    assert dates.contains_day("2026-11-30")
    assert not dates.contains_day("2026-12-01")
    assert not dates.contains_day("2026-10-31")
    assert dates.problem() is None
    backwards = DateRange(date(2026, 11, 30), date(2026, 11, 1))
    assert backwards.problem() == "--since 2026-11-30 is after --until 2026-11-01: the range holds no day"


# --- bad input: never fatal, always named ---------------------------------------------------------


def test_truncated_gzip_is_a_problem_naming_the_file() -> None:
    data = log_file([record("create-user-backdoor-cli.json")])
    scan = scan_content("logs/cut.json.gz", data[: len(data) // 2], DateRange())
    assert scan.counts[MALFORMED_FILES] == 1
    assert [str(p) for p in scan.problems] == [
        "logs/cut.json.gz: truncated gzip: the file ends before its compressed stream does"
    ]


def test_corrupt_gzip_is_a_problem_naming_the_file() -> None:
    scan = scan_content("bad.json.gz", b"\x1f\x8b" + b"\x00" * 40, DateRange())
    assert scan.counts[MALFORMED_FILES] == 1
    assert scan.problems[0].where == "bad.json.gz"
    assert scan.problems[0].message.startswith("not a valid gzip file")


def test_record_that_is_not_an_object_is_counted_and_named_and_the_rest_judged() -> None:
    change = record("create-user-backdoor-cli.json")
    scan = scan_content("f.json.gz", log_file(["CreateUser", change, 7]), DateRange())
    assert [str(p) for p in scan.problems] == [
        "f.json.gz: record 1: a record must be a JSON object, got a string",
        "f.json.gz: record 3: a record must be a JSON object, got a number",
    ]
    assert scan.counts[MALFORMED_RECORDS] == 2
    assert len(scan.events) == 1


def test_file_that_is_not_json_names_the_line() -> None:
    scan = scan_content("f.json", b'{\n  "Records": [\n    {"eventName": }\n  ]\n}\n', DateRange())
    assert scan.counts[MALFORMED_FILES] == 1
    assert scan.problems[0].where == "f.json: line 3"


def test_json_without_records_list_is_a_problem() -> None:
    scan = scan_content("f.json", b'{"Records": "none"}', DateRange())
    assert scan.counts[MALFORMED_FILES] == 1
    assert str(scan.problems[0]) == "f.json: not a CloudTrail log file: no 'Records' list"


def test_single_record_and_eventbridge_event_files_are_both_read() -> None:
    delivered = sample("create-user-backdoor-cli.json")
    one = scan_content("record.json", json.dumps(delivered["detail"]).encode(), DateRange())
    two = scan_content("event.json", json.dumps(delivered).encode(), DateRange())
    assert one.events[0].event == envelope(delivered["detail"])
    assert two.events[0].event == delivered


# --- query results --------------------------------------------------------------------------------

ATHENA_IDENTITY = (
    "{type=AssumedRole, principalid=AROAEXAMPLE:dev, arn=arn:aws:sts::111122223333:assumed-role/developer/dev, "
    "accountid=111122223333, invokedby=null, accesskeyid=ASIAEXAMPLE, username=null, sessioncontext={attributes="
    "{mfaauthenticated=false, creationdate=2026-11-21T08:00:00Z}, sessionissuer={type=Role, principalid=AROAEXAMPLE, "
    "arn=arn:aws:iam::111122223333:role/developer, accountid=111122223333, username=developer}}}"
)


def athena_row(change: dict[str, Any], identity: str = ATHENA_IDENTITY) -> dict[str, str]:
    return {
        "eventversion": change["eventVersion"],
        "useridentity": identity,
        "eventtime": change["eventTime"],
        "eventsource": change["eventSource"],
        "eventname": change["eventName"],
        "awsregion": change["awsRegion"],
        "sourceipaddress": change["sourceIPAddress"],
        "useragent": change["userAgent"],
        "errorcode": "",
        "errormessage": "",
        "requestparameters": json.dumps(change["requestParameters"]),
        "responseelements": json.dumps(change["responseElements"]),
        "requestid": change["requestID"],
        "eventid": change["eventID"],
        "resources": "",
        "eventtype": "AwsApiCall",
        "readonly": "false",
        "recipientaccountid": change["recipientAccountId"],
    }


def test_athena_struct_text_is_parsed() -> None:
    parsed = parse_struct(ATHENA_IDENTITY)
    assert parsed["sessioncontext"]["sessionissuer"]["arn"] == "arn:aws:iam::111122223333:role/developer"
    assert parsed["invokedby"] is None
    assert parse_struct("[{arn=arn:aws:s3:::b, accountid=111122223333, type=AWS::S3::Bucket}]") == [
        {"arn": "arn:aws:s3:::b", "accountid": "111122223333", "type": "AWS::S3::Bucket"}
    ]
    with pytest.raises(ValueError, match="unterminated"):
        parse_struct("{type=IAMUser, arn=x")


def test_athena_row_becomes_the_cloudtrail_record() -> None:
    change = record("create-user-backdoor-cli.json")
    rebuilt = record_from_row(athena_row(change))
    assert rebuilt["eventName"] == "CreateUser"
    assert rebuilt["requestParameters"] == change["requestParameters"]
    assert rebuilt["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"] == (
        "arn:aws:iam::111122223333:role/developer"
    )
    assert "errorCode" not in rebuilt  # an empty column is a missing field, not an error code ""
    judgement = judge_event(envelope(rebuilt), Settings())
    assert judgement.verdict is Verdict.VIOLATION
    assert judgement.findings[0].actor.session_issuer_arn == "arn:aws:iam::111122223333:role/developer"


def test_cloudtrail_lake_row_with_json_columns_becomes_the_record() -> None:
    change = record("bucket-policy-public-read.json")
    row = {
        **{key: value for key, value in change.items() if key not in ("userIdentity", "requestParameters")},
        "userIdentity": json.dumps(change["userIdentity"]),
        "requestParameters": json.dumps(change["requestParameters"]),
    }
    row = {key.lower() if key in ("eventName", "eventSource") else key: value for key, value in row.items()}
    rebuilt = record_from_row(row)
    direct = judge_event(envelope(change), Settings())
    assert judge_event(envelope(rebuilt), Settings()).findings == direct.findings


def test_csv_query_results_are_judged_and_a_bad_line_is_named() -> None:
    change = record("create-user-backdoor-cli.json")
    good = athena_row(change)
    bad = {**athena_row({**change, "eventID": "e2"}), "requestparameters": "{not json"}
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(good))
    writer.writeheader()
    writer.writerows([good, bad])
    scan = scan_content("results.csv", out.getvalue().encode(), DateRange())
    assert [event.where for event in scan.events] == ["results.csv: line 2"]
    assert [str(p) for p in scan.problems] == [
        "results.csv: line 3: column requestparameters is not JSON text: '{not json'"
    ]
    assert scan.counts[MALFORMED_RECORDS] == 1


def test_csv_without_cloudtrail_columns_is_a_problem() -> None:
    scan = scan_content("other.csv", b"a,b\n1,2\n", DateRange())
    assert scan.counts[MALFORMED_FILES] == 1
    assert scan.problems[0].where == "other.csv: line 1"


def test_json_lines_mix_rows_records_and_events_and_name_bad_lines() -> None:
    change = record("create-user-backdoor-cli.json")
    lines = [
        json.dumps(athena_row(change)),
        json.dumps({**change, "eventID": "e2"}),
        json.dumps(envelope({**change, "eventID": "e3"})),
        "[1, 2]",
        "{oops",
        "",
    ]
    scan = scan_content("results.jsonl", "\n".join(lines).encode(), DateRange())
    assert [event.where for event in scan.events] == [
        "results.jsonl: line 1",
        "results.jsonl: line 2",
        "results.jsonl: line 3",
    ]
    assert [p.where for p in scan.problems] == ["results.jsonl: line 4", "results.jsonl: line 5"]
    assert scan.problems[0].message == "a record must be a JSON object, got a list"


# --- evaluate's inputs ----------------------------------------------------------------------------


def test_evaluate_inputs_pass_eventbridge_events_through_unchanged() -> None:
    data = (EVENTS_DIR / "create-user-backdoor-cli.json").read_bytes()
    assert list(events_in("e.json", data)) == [("e.json", data)]
    broken = (EVENTS_DIR / "malformed-not-json.json").read_bytes()
    assert list(events_in("m.json", broken)) == [("m.json", broken)]


def test_evaluate_inputs_wrap_records_and_split_log_files() -> None:
    change = record("create-user-backdoor-cli.json")
    assert list(events_in("r.json", json.dumps(change).encode())) == [("r.json", envelope(change))]
    named = list(events_in("f.json.gz", log_file([change, noise(1), "x"])))
    assert [name for name, _ in named] == ["f.json.gz#1", "f.json.gz#2", "f.json.gz#3"]
    assert named[0][1] == envelope(change)
    assert named[2][1] == b'"x"'  # the engine says why it is not an event
