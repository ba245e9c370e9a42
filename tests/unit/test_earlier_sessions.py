"""The wording of a quarantined user's earlier role sessions (``domain.earlier_sessions``), pure."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from iamwarden.domain import earlier_sessions as es

AT = datetime(2026, 12, 6, 2, 0, 0, 250_000, tzinfo=UTC)
ROLE = "arn:aws:iam::111122223333:role/team/ci/deploy"
#: AWS's ARN of a session of ROLE, and the role as read from it (no path: the session's ARN carries none).
SESSION_ARN = "arn:aws:sts::111122223333:assumed-role/deploy/laptop"
ROLE_SHOWN = "arn:aws:iam::111122223333:role/deploy"


def _record(**changes: Any) -> dict[str, Any]:
    return {
        "eventSource": "sts.amazonaws.com",
        "eventName": "AssumeRole",
        "eventTime": "2026-12-06T01:00:00Z",
        "userIdentity": {"type": "IAMUser", "userName": "backdoor"},
        "requestParameters": {"roleArn": ROLE, "roleSessionName": "laptop"},
        "responseElements": {
            "credentials": {"expiration": "2026-12-06T13:00:00Z"},
            # STS API reference, AssumeRole, AssumedRoleUser.Arn: arn:aws:sts::123456789012:assumed-role/demo/John
            "assumedRoleUser": {"assumedRoleId": "AROAEXAMPLE:laptop", "arn": SESSION_ARN},
        },
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
        ROLE_SHOWN, "laptop", "2026-12-06T01:00:00Z", "2026-12-06T13:00:00Z", "eu-west-1", es.ASSUMED_ROLE_USER
    )


def test_the_role_is_the_one_aws_wrote_not_the_callers_text() -> None:
    """Review s15 F6: ``responseElements.assumedRoleUser.arn`` is AWS's; ``requestParameters.roleArn`` the caller's."""
    written = _record(requestParameters={"roleArn": "arn:aws:iam::111122223333:role/x/DEPLOY", "roleSessionName": "y"})
    session = _session(written)
    assert isinstance(session, es.Session)
    assert (session.role_arn, session.session_name) == (ROLE_SHOWN, "laptop")


def test_without_aws_s_session_arn_the_callers_role_is_used_and_said() -> None:
    session = _session(_record(responseElements={"credentials": {"expiration": "2026-12-06T13:00:00Z"}}))
    assert session == es.Session(
        ROLE, "laptop", "2026-12-06T01:00:00Z", "2026-12-06T13:00:00Z", "eu-west-1", es.ROLE_ARN
    )
    assert isinstance(session, es.Session)
    [line] = [
        line
        for line in es.lines("b", "111122223333", AT, [es.RegionLookup("eu-west-1", (session,))])
        if "put-role" in line
    ]
    assert f"`{ROLE}`: 1 session(s)" in line
    assert "role as the caller wrote it (requestParameters.roleArn: the record has no " in line


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::111122223333:role/deploy",  # not a session's ARN
        "arn:aws:sts::111122223333:assumed-role/deploy",  # no session name
        "arn:aws:sts:::assumed-role/deploy/s",  # no account
        "arn:aws:sts::111122223333:federated-user/bob",
        12,
    ],
)
def test_a_session_arn_that_is_none_falls_back_to_the_callers_role(arn: object) -> None:
    record = _record()
    record["responseElements"]["assumedRoleUser"]["arn"] = arn
    session = _session(record)
    assert isinstance(session, es.Session)
    assert (session.role_arn, session.read_from) == (ROLE, es.ROLE_ARN)


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
    [
        "{",
        "[]",
        "null",
        json.dumps(_record(requestParameters={}, responseElements={})),
        json.dumps(_record(requestParameters="x", responseElements="y")),
    ],
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
        if "put-role-policy" in line
    ]
    assert "(seen in eu-west-1), expiry unknown;" in line


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
    # Review s15 F3: what could not be seen comes before the roles; the roles come last, one line each (F1).
    assert said[1:6] == [
        f"{es.PREFIX} in eu-west-1: the lookup stopped at its page bound; older calls may be missing",
        f"{es.PREFIX} in eu-west-1: 2 AssumeRole record(s) could not be read",
        f"{es.PREFIX} in us-east-1: unknown (LookupEvents failed: AccessDenied); "
        "the sessions below were read before it failed",
        f"{es.PREFIX}: not looked up: AssumeRole calls through other regions' STS endpoints, calls made under an "
        "earlier name of the user, sessions chained from these (role to role), and calls older than 12 h or not yet "
        "delivered by CloudTrail",
        f"{es.PREFIX}: these commands cut sessions issued before the quarantine (2026-12-06T02:00:01Z); a session "
        "issued after it (while the deny-alls were still taking effect, or chained from a listed session role to "
        "role) is not cut: the console's Revoke active sessions cuts at the moment it is used",
    ]
    document = json.dumps(es.revoke_policy(AT), separators=(",", ":"))
    assert said[6:] == [
        f"{es.PREFIX}: `{ROLE}`: 2 session(s), the latest `later` assumed 2026-12-06T01:30:00Z (seen in eu-west-1), "
        "the last expires 2026-12-06T13:00:00Z; to revoke its sessions issued before the quarantine, run: "
        f"`aws iam put-role-policy --role-name deploy --policy-name AWSRevokeOlderSessions --policy-document "
        f"'{document}'`",
        f"{es.PREFIX}: `arn:aws:iam::444455556666:role/reader` (account 444455556666): 1 session(s), the latest `x` "
        "assumed 2026-12-06T00:00:00Z (seen in us-east-1), expiry unknown; to revoke its sessions issued before the "
        "quarantine, run in account 444455556666: `aws iam put-role-policy --role-name reader --policy-name "
        f"AWSRevokeOlderSessions --policy-document '{document}'`",
    ]


def test_a_complete_block_is_not_looked_up_again_and_an_incomplete_one_is() -> None:
    """Review s15 F4/F7: "complete" is a whole block (its last line there) with nothing unknown."""
    found = es.Session(ROLE_SHOWN, "laptop", "2026-12-06T01:00:00Z", "2026-12-06T13:00:00Z", "us-east-1")
    whole = es.lines("b", "111122223333", AT, [es.RegionLookup("us-east-1", (found,))])
    assert es.complete_block(["other line", *whole])
    assert not es.complete_block(whole[:1])  # cut short
    assert not es.complete_block([])
    refused = es.lines("b", "111122223333", AT, [es.RegionLookup("us-east-1", error="Throttling")])
    assert not es.complete_block(refused)
    assert not es.complete_block(es.failed("b", "RuntimeError"))
    again = es.looked_up_again(whole, "2026-12-06T02:05:00+00:00")
    assert es.latest_block([*refused, "attempt at x", *again]) == again
    assert es.complete_block([*refused, *again])
    assert not es.complete_block([*whole, *es.looked_up_again(refused, "T")])  # the latest counts


def test_the_headline_and_caveats_alone_never_say_unknown_when_all_was_read() -> None:
    found = es.Session(ROLE_SHOWN, "laptop", "2026-12-06T01:00:00Z", "tomorrow", "us-east-1")
    said = es.lines("b", "111122223333", AT, [es.RegionLookup("us-east-1", (found,))])
    assert not any(es.UNKNOWN in line for line in said)  # an unreadable expiry is no incomplete lookup


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


def test_an_alert_shows_a_retrys_block_only_when_it_is_complete_or_names_as_many_roles() -> None:
    """Review2 sessions-s15 R1: a first lookup found a role and was then throttled; the retry's lookup was throttled
    at once: the alert keeps showing the first block (the role and its command), not the emptier one."""
    found = es.Session(ROLE_SHOWN, "laptop", "2026-12-06T01:00:00Z", "2026-12-06T13:00:00Z", "us-east-1")
    first = es.lines("b", "111122223333", AT, [es.RegionLookup("us-east-1", (found,), error="Throttling")])
    worse = es.looked_up_again(
        es.lines("b", "111122223333", AT, [es.RegionLookup("us-east-1", error="Throttling")]), "T1"
    )
    assert es.shown_block([*first, "attempt at x", *worse]) == first
    whole = es.looked_up_again(es.lines("b", "111122223333", AT, [es.RegionLookup("us-east-1", ())]), "T2")
    assert es.shown_block([*first, *worse, *whole]) == whole  # a complete later lookup is the truth now
    assert es.shown_block([*worse, *first]) == first
    assert es.shown_block([]) == []
