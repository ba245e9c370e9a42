"""The wording of a quarantined user's earlier role sessions (``domain.earlier_sessions``), pure."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from iamwarden.domain import earlier_sessions as es

AT = datetime(2026, 12, 6, 2, 0, 0, 250_000, tzinfo=UTC)
ROLE = "arn:aws:iam::111122223333:role/team/ci/deploy"


def _record(**changes: Any) -> dict[str, Any]:
    return {
        "eventSource": "sts.amazonaws.com",
        "eventName": "AssumeRole",
        "eventTime": "2026-12-06T01:00:00Z",
        "userIdentity": {"type": "IAMUser", "userName": "backdoor"},
        "requestParameters": {"roleArn": ROLE, "roleSessionName": "laptop"},
        "responseElements": {"credentials": {"expiration": "2026-12-06T13:00:00Z"}},
        **changes,
    }


def _session(record: dict[str, Any]) -> object:
    return es.session_of(json.dumps(record), "eu-west-1", "backdoor", AT)


def test_the_revoke_policy_is_the_console_s_document_bounded_at_the_next_whole_second() -> None:
    assert es.revoke_policy(AT) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Action": ["*"],
                "Resource": ["*"],
                "Condition": {"DateLessThan": {"aws:TokenIssueTime": "2026-12-06T02:00:01Z"}},
            }
        ],
    }
    assert es.token_issue_time(AT.replace(microsecond=0)) == "2026-12-06T02:00:00Z"


def test_the_command_names_the_role_without_its_path_and_carries_the_document() -> None:
    command = es.revoke_command(ROLE, AT)
    prefix = "aws iam put-role-policy --role-name deploy --policy-name AWSRevokeOlderSessions --policy-document '"
    assert command.startswith(prefix)
    assert json.loads(command[len(prefix) : -1]) == es.revoke_policy(AT)


def test_a_session_is_read_from_the_record() -> None:
    assert _session(_record()) == es.Session(
        ROLE, "laptop", "2026-12-06T01:00:00Z", "2026-12-06T13:00:00Z", "eu-west-1"
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"errorCode": "AccessDenied"},
        {"eventName": "GetSessionToken"},
        {"eventSource": "iam.amazonaws.com"},
        {"userIdentity": {"type": "AssumedRole", "userName": "backdoor"}},
        {"userIdentity": {"type": "IAMUser", "userName": "someone-else"}},
        {"responseElements": {"credentials": {"expiration": "2026-12-06T02:00:00Z"}}},  # expired at the quarantine
    ],
)
def test_what_is_no_live_session_of_the_user_is_left_out(changes: dict[str, Any]) -> None:
    assert _session(_record(**changes)) is None


@pytest.mark.parametrize(
    "record",
    ["{", "[]", "null", json.dumps(_record(requestParameters={})), json.dumps(_record(requestParameters="x"))],
)
def test_an_unreadable_record_is_said_unreadable(record: str) -> None:
    assert es.session_of(record, "eu-west-1", "backdoor", AT) == es.UNREADABLE


def test_a_record_without_an_expiration_is_kept_with_it_unknown() -> None:
    session = _session(_record(responseElements=None))
    assert isinstance(session, es.Session)
    assert session.expires is None
    [line] = [
        line
        for line in es.lines("backdoor", "111122223333", AT, [es.RegionLookup("eu-west-1", (session,))])
        if "as session" in line
    ]
    assert line.endswith("expires unknown")


def test_lines_say_what_was_found_and_what_could_not_be_seen() -> None:
    own = es.Session(ROLE, "laptop", "2026-12-06T01:00:00Z", "2026-12-06T13:00:00Z", "eu-west-1")
    again = own._replace(session_name="later", issued="2026-12-06T01:30:00Z")
    other = es.Session("arn:aws:iam::444455556666:role/reader", "x", "2026-12-06T00:00:00Z", None, "us-east-1")
    said = es.lines(
        "backdoor",
        "111122223333",
        AT,
        [
            es.RegionLookup("eu-west-1", (own, again), truncated=True, unreadable=2),
            es.RegionLookup("us-east-1", (other,), error="AccessDenied"),
        ],
    )
    assert said[0].startswith(
        f"{es.PREFIX} of backdoor (CloudTrail AssumeRole calls since 2026-12-05T14:00:01Z, looked up in eu-west-1, "
        "us-east-1 only): 3 may still be valid at the quarantine (1 with an expiry IAM Warden could not read)"
    )
    assert "IAM Warden does not revoke them" in said[0]
    sessions = [line for line in said if "as session" in line]
    assert [line.split("as session ")[1].split(",")[0] for line in sessions] == [
        "'later'",
        "'laptop'",
        "'x'",
    ]  # latest first
    commands = [line for line in said if "put-role-policy" in line]
    assert len(commands) == 2
    assert "run: aws iam put-role-policy --role-name deploy" in commands[0]
    assert "run in account 444455556666 (the role's account):" in commands[1]
    assert any(
        line.startswith(f"{es.PREFIX}: these commands cut sessions issued before the quarantine") for line in said
    )
    assert f"{es.PREFIX} in eu-west-1: the lookup stopped at its page bound; older calls may be missing" in said
    assert f"{es.PREFIX} in eu-west-1: 2 AssumeRole record(s) could not be read" in said
    assert (
        f"{es.PREFIX} in us-east-1: unknown (LookupEvents failed: AccessDenied); "
        "the sessions above were read before it failed"
    ) in said
    assert said[-1].startswith(f"{es.PREFIX}: not looked up: AssumeRole calls through other regions' STS endpoints")
    assert "calls made under an earlier name of the user, sessions chained from these (role to role)" in said[-1]


def test_no_line_is_read_as_a_deny_all_or_a_retry() -> None:
    """The failed-quarantine wording reads lines that start with a deny-all's description or end "; retried with the
    event": every line here starts with its own prefix."""
    session = es.Session(ROLE, "laptop", "2026-12-06T01:00:00Z", None, "eu-west-1")
    said = es.lines("backdoor", "111122223333", AT, [es.RegionLookup("eu-west-1", (session,), error="Throttling")])
    assert all(line.startswith(es.PREFIX) for line in said)
    assert not any(line.endswith("retried with the event") for line in said)


def test_the_quarantine_time_is_read_or_refused() -> None:
    assert es.parse_quarantine_time("2026-12-06T02:00:00.250+00:00") == AT
    assert es.parse_quarantine_time("yesterday") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dec 9, 2025, 5:31:31 PM", datetime(2025, 12, 9, 17, 31, 31, tzinfo=UTC)),
        ("Dec 10, 2019 7:46:42 AM", datetime(2019, 12, 10, 7, 46, 42, tzinfo=UTC)),
        ("2026-12-06T13:00:00Z", datetime(2026, 12, 6, 13, 0, tzinfo=UTC)),
        ("Dec 9, 2025, 17:31:31", None),
        ("tomorrow", None),
        (None, None),
        (12, None),
    ],
)
def test_expiration_is_read_in_cloudtrails_formats_and_nothing_else(text: object, expected: datetime | None) -> None:
    """Review s14 F5: real records say ``Dec 9, 2025, 5:31:31 PM`` (a one-hour session of eventTime 16:31:31Z: UTC)."""
    assert es.expiration_time(text) == expected


def test_a_real_format_expiry_before_the_quarantine_is_left_out() -> None:
    record = {
        "eventName": "AssumeRole",
        "eventSource": "sts.amazonaws.com",
        "userIdentity": {"type": "IAMUser", "userName": "backdoor", "principalId": "AIDA1"},
        "requestParameters": {"roleArn": ROLE, "roleSessionName": "s"},
        "responseElements": {"credentials": {"expiration": "Dec 6, 2026, 1:59:59 AM"}},
    }
    assert es.session_of(json.dumps(record), "us-east-1", "backdoor", AT) is None
    record["responseElements"] = {"credentials": {"expiration": "Dec 6, 2026, 2:00:01 AM"}}
    assert isinstance(es.session_of(json.dumps(record), "us-east-1", "backdoor", AT), es.Session)
    assert es.session_of(json.dumps(record), "us-east-1", "backdoor", AT, "AIDA2") is None  # another user of the name


def test_no_region_completed_is_unknown_never_none_found() -> None:
    """Review s14 F3: the headline never reassures about what was not read."""
    said = es.lines("backdoor", "111122223333", AT, [es.RegionLookup("us-east-1", error="ThrottlingException")])
    assert said[0].endswith("unknown: no region's lookup completed (see below)")
    timed = es.lines("backdoor", "111122223333", AT, [es.RegionLookup("us-east-1", timed_out=True)])
    assert timed[0].endswith("unknown: no region's lookup completed (see below)")
    assert "none found" not in "\n".join(said + timed)
