"""A quarantined user's earlier role sessions, listed in the alert (issue 15).

After a deny-all holds, the quarantine looks up with ``cloudtrail:LookupEvents`` the ``AssumeRole`` calls the user
made in the 12 hours before, in the run's region and in us-east-1 (STS's global endpoint), and lists them with the
revoke command per role. It never revokes, and a failed lookup never fails or retries the quarantine.

moto has no ``LookupEvents``: botocore's Stubber answers it (it holds each call and answer to the real API's shapes).
The records are CloudTrail ``AssumeRole`` records (``requestParameters.roleArn``/``roleSessionName``,
``responseElements.credentials.expiration``; a published record:
gist.github.com/jmelloy/82f70d872be47b775ac28e7a225f5049), as the JSON string ``LookupEvents`` answers in
``CloudTrailEvent`` (CloudTrail API reference, ``Event``).
"""

import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import boto3
import pytest
from botocore.stub import ANY, Stubber

from iamwarden.app.executor import StepRun
from iamwarden.domain.earlier_sessions import PREFIX
from iamwarden.domain.findings import RemediationStep
from iamwarden.guardrails.iam_user import QUARANTINE_POLICY_NAME, QuarantineUser
from iamwarden.guardrails.session_lookup import MAX_PAGES, PAGE_SIZE
from tests.aws_fixtures import HOME_ACCOUNT

USER = "backdoor"
USER_ARN = f"arn:aws:iam::{HOME_ACCOUNT}:user/{USER}"
DENY_ALL_BOUNDARY = "arn:aws:iam::aws:policy/AWSDenyAll"
NOW = "2026-12-06T02:00:00.000+00:00"
QUARANTINED_AT = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)
REGION = "eu-west-1"
DEPLOY = f"arn:aws:iam::{HOME_ACCOUNT}:role/ci/deploy"
OTHER_ACCOUNT_ROLE = "arn:aws:iam::444455556666:role/audit-reader"


def _client(service: str, region: str) -> Any:
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name=region)
    return cast(Any, session).client(service)


class _Clients:
    """The run's clients as the executor's ``AccountClients`` gives them: IAM, and CloudTrail per region."""

    def __init__(self, iam: Any, trails: dict[str, Any], region: str = REGION) -> None:
        self.account, self.region, self.iam, self._trails = HOME_ACCOUNT, region, iam, trails
        self.asked: list[tuple[str, str]] = []

    def client_in(self, service: str, region: str) -> Any:
        self.asked.append((service, region))
        return self._trails[region]


def _record(
    role_arn: str = DEPLOY,
    session: str = "laptop",
    at: str = "2026-12-06T01:00:00Z",
    expires: str = "2026-12-06T13:00:00Z",
    **changes: Any,
) -> dict[str, Any]:
    """An ``AssumeRole`` record made by the user's own keys."""
    return {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLEUSERID0001",
            "arn": USER_ARN,
            "accountId": HOME_ACCOUNT,
            "accessKeyId": "AKIAEXAMPLEKEY000001",
            "userName": USER,
        },
        "eventTime": at,
        "eventSource": "sts.amazonaws.com",
        "eventName": "AssumeRole",
        "awsRegion": "us-east-1",
        "requestParameters": {"roleArn": role_arn, "roleSessionName": session},
        "responseElements": {
            "credentials": {"accessKeyId": "ASIAEXAMPLE000000001", "sessionToken": "x", "expiration": expires},
            "assumedRoleUser": {"assumedRoleId": f"AROAEXAMPLE:{session}", "arn": f"{role_arn}/{session}"},
        },
        **changes,
    }


def _event(record: dict[str, Any] | str, name: str = "AssumeRole") -> dict[str, Any]:
    return {
        "EventId": "e-1",
        "EventName": name,
        "EventSource": "sts.amazonaws.com",
        "Username": USER,
        "CloudTrailEvent": record if isinstance(record, str) else json.dumps(record),
    }


def _expect_page(
    stub: Stubber, events: list[dict[str, Any]], *, token: str | None = None, more: str | None = None
) -> None:
    answer: dict[str, Any] = {"Events": events}
    if more:
        answer["NextToken"] = more
    stub.add_response(
        "lookup_events",
        answer,
        {
            "LookupAttributes": [{"AttributeKey": "Username", "AttributeValue": USER}],
            "StartTime": QUARANTINED_AT - timedelta(hours=12),
            "EndTime": QUARANTINED_AT,
            "MaxResults": PAGE_SIZE,
            **({"NextToken": token} if token else {}),
        },
    )


def _iam_holding() -> tuple[Any, Stubber]:
    """IAM answering the deny-alls and the tags: a quarantine that holds (and no other write: no revoke)."""
    iam = _client("iam", "us-east-1")
    stub = Stubber(iam)
    stub.add_response("put_user_permissions_boundary", {}, {"UserName": USER, "PermissionsBoundary": DENY_ALL_BOUNDARY})
    stub.add_response(
        "put_user_policy", {}, {"UserName": USER, "PolicyName": QUARANTINE_POLICY_NAME, "PolicyDocument": ANY}
    )
    stub.add_response("tag_user", {}, {"UserName": USER, "Tags": ANY})
    return iam, stub


def _trails(*regions: str) -> dict[str, tuple[Any, Stubber]]:
    out = {}
    for region in regions:
        client = _client("cloudtrail", region)
        out[region] = (client, Stubber(client))
    return out


def _before() -> dict[str, Any]:
    return {
        "exists": True,
        "user_arn": USER_ARN,
        "user_id": "AIDAEXAMPLEUSERID0001",
        "quarantine_policy": None,
        "access_keys": [],
        "login_profile": None,
        "boundary": None,
        "tags": {},
        "ssh_public_keys": [],
        "signing_certificates": [],
        "service_specific_credentials": [],
    }


def _quarantine(iam: Any, trails: dict[str, tuple[Any, Stubber]], region: str = REGION) -> list[str]:
    clients = _Clients(iam, {name: client for name, (client, _) in trails.items()}, region)
    step = RemediationStep(
        QuarantineUser.action, USER_ARN, {"user_name": USER, "quarantine_policy_name": QUARANTINE_POLICY_NAME}
    )
    done: list[str] = []
    QuarantineUser().apply(StepRun(cast(Any, clients), "f-1", NOW), step, _before(), done)
    return done


def _sessions(done: list[str]) -> list[str]:
    return [line for line in done if line.startswith(PREFIX)]


def test_sessions_found_in_both_regions_are_listed_with_one_revoke_command_per_role_and_none_is_revoked() -> None:
    iam, iam_stub = _iam_holding()
    trails = _trails(REGION, "us-east-1")
    _expect_page(
        trails[REGION][1],
        [
            _event(_record(session="laptop")),
            _event(_record(), name="GetCallerIdentity"),  # another event of the user: not a session
            _event(_record(session="refused", errorCode="AccessDenied")),  # a failed call issued no session
        ],
    )
    _expect_page(
        trails["us-east-1"][1],
        [
            _event(_record(session="ci", at="2026-12-06T00:30:00Z")),
            _event(_record(OTHER_ACCOUNT_ROLE, "x-acct", at="2026-12-05T23:00:00Z", expires="2026-12-06T03:00:00Z")),
            _event(_record(session="old", at="2026-12-05T16:00:00Z", expires="2026-12-06T01:59:59Z")),  # expired
        ],
    )
    with iam_stub, trails[REGION][1], trails["us-east-1"][1]:
        done = _quarantine(iam, trails)
        iam_stub.assert_no_pending_responses()  # the tags too: the quarantine went on to its end
        for _, stub in trails.values():
            stub.assert_no_pending_responses()
    said = "\n".join(_sessions(done))
    assert f"{PREFIX} of {USER} (CloudTrail AssumeRole calls since 2026-12-05T14:00:00Z in {REGION}, us-east-1)" in said
    assert "3 still valid at the quarantine" in said
    assert f"{DEPLOY} as session 'laptop', assumed 2026-12-06T01:00:00Z (seen in {REGION})" in said
    assert f"{DEPLOY} as session 'ci', assumed 2026-12-06T00:30:00Z (seen in us-east-1)" in said
    assert "'x-acct'" in said
    assert "'refused'" not in said
    assert "'old'" not in said
    commands = [line for line in done if "aws iam put-role-policy" in line]
    assert len(commands) == 2  # one per role, not per session
    assert any("--role-name deploy --policy-name AWSRevokeOlderSessions" in line for line in commands)
    [cross] = [line for line in commands if OTHER_ACCOUNT_ROLE in line]
    assert "in account 444455556666 (the role's account)" in cross
    assert '"aws:TokenIssueTime":"2026-12-06T02:00:00Z"' in cross
    assert any(line.startswith("tagged backdoor") for line in done)


def test_no_session_found_says_so() -> None:
    iam, iam_stub = _iam_holding()
    trails = _trails(REGION, "us-east-1")
    _expect_page(trails[REGION][1], [])
    _expect_page(trails["us-east-1"][1], [])
    with iam_stub, trails[REGION][1], trails["us-east-1"][1]:
        done = _quarantine(iam, trails)
    said = _sessions(done)
    assert said[0].endswith("none found that is still valid")
    assert not any("put-role-policy" in line for line in done)
    assert said[-1].startswith(f"{PREFIX}: not looked up: AssumeRole calls to other regions' STS endpoints")


def test_in_us_east_1_the_lookup_runs_once() -> None:
    iam, iam_stub = _iam_holding()
    trails = _trails("us-east-1")
    _expect_page(trails["us-east-1"][1], [_event(_record())])
    with iam_stub, trails["us-east-1"][1]:
        done = _quarantine(iam, trails, region="us-east-1")
        trails["us-east-1"][1].assert_no_pending_responses()
    assert "in us-east-1)" in _sessions(done)[0]


def test_a_refused_lookup_is_unknown_and_the_quarantine_stands() -> None:
    iam, iam_stub = _iam_holding()
    trails = _trails(REGION, "us-east-1")
    _expect_page(trails[REGION][1], [_event(_record())])
    trails["us-east-1"][1].add_client_error("lookup_events", service_error_code="AccessDeniedException")
    with iam_stub, trails[REGION][1], trails["us-east-1"][1]:
        done = _quarantine(iam, trails)  # no exception: no failed quarantine, no retry
        iam_stub.assert_no_pending_responses()
    said = _sessions(done)
    assert f"{PREFIX} in us-east-1: unknown (LookupEvents failed: AccessDeniedException)" in said
    assert any("'laptop'" in line for line in said)  # what the other region showed is still listed


def test_a_throttle_past_the_retries_is_unknown_and_not_retried() -> None:
    iam, iam_stub = _iam_holding()
    trails = _trails(REGION, "us-east-1")
    _expect_page(trails[REGION][1], [_event(_record())], more="page-2")
    trails[REGION][1].add_client_error("lookup_events", service_error_code="ThrottlingException", http_status_code=400)
    _expect_page(trails["us-east-1"][1], [])
    with iam_stub, trails[REGION][1], trails["us-east-1"][1]:
        done = _quarantine(iam, trails)
    said = _sessions(done)
    assert (
        f"{PREFIX} in {REGION}: unknown (LookupEvents failed: ThrottlingException); "
        "the sessions above were read before it failed"
    ) in said
    assert any("'laptop'" in line for line in said)


def test_the_lookup_stops_at_its_page_bound_and_says_so() -> None:
    iam, iam_stub = _iam_holding()
    trails = _trails(REGION, "us-east-1")
    for page in range(MAX_PAGES):
        _expect_page(
            trails[REGION][1],
            [_event(_record(session=f"s{page}"))],
            token=f"t{page}" if page else None,
            more=f"t{page + 1}",
        )
    _expect_page(trails["us-east-1"][1], [])
    with iam_stub, trails[REGION][1], trails["us-east-1"][1]:
        done = _quarantine(iam, trails)  # a sixth call would be unstubbed: an error line, not a bound
        trails[REGION][1].assert_no_pending_responses()
    said = _sessions(done)
    assert f"{PREFIX} in {REGION}: the lookup stopped at its page bound; older calls may be missing" in said
    assert not any("unknown" in line for line in said)
    assert f"{MAX_PAGES} still valid at the quarantine" in said[0]


@pytest.mark.parametrize(
    "malformed",
    [
        "{not json",
        json.dumps(["a list"]),
        json.dumps(_record(requestParameters={"roleSessionName": "no-role"})),
        json.dumps(_record(requestParameters=None)),
    ],
)
def test_a_malformed_cloudtrail_event_is_counted_not_guessed(malformed: str) -> None:
    iam, iam_stub = _iam_holding()
    trails = _trails(REGION, "us-east-1")
    _expect_page(trails[REGION][1], [_event(malformed), _event(_record())])
    _expect_page(trails["us-east-1"][1], [])
    with iam_stub, trails[REGION][1], trails["us-east-1"][1]:
        done = _quarantine(iam, trails)
    said = _sessions(done)
    assert f"{PREFIX} in {REGION}: 1 AssumeRole record(s) could not be read" in said
    assert "1 still valid at the quarantine" in said[0]


def test_a_lookup_that_cannot_start_is_one_unknown_line_and_the_quarantine_stands() -> None:
    iam, iam_stub = _iam_holding()

    class _Broken(_Clients):
        def client_in(self, service: str, region: str) -> Any:
            raise RuntimeError("no credentials for the region")

    done: list[str] = []
    step = RemediationStep(
        QuarantineUser.action, USER_ARN, {"user_name": USER, "quarantine_policy_name": QUARANTINE_POLICY_NAME}
    )
    with iam_stub:
        QuarantineUser().apply(StepRun(cast(Any, _Broken(iam, {})), "f-1", NOW), step, _before(), done)
        iam_stub.assert_no_pending_responses()
    assert _sessions(done) == [f"{PREFIX} of {USER}: unknown (the CloudTrail lookup failed: RuntimeError)"]


def test_a_failed_quarantine_looks_nothing_up() -> None:
    """Neither deny-all held: the run fails as before, and no lookup is made (Stubbers with nothing queued)."""
    iam = _client("iam", "us-east-1")
    stub = Stubber(iam)
    stub.add_client_error("put_user_permissions_boundary", service_error_code="AccessDenied")
    stub.add_client_error("put_user_policy", service_error_code="AccessDenied")
    trails = _trails(REGION, "us-east-1")
    clients = _Clients(iam, {name: client for name, (client, _) in trails.items()})
    step = RemediationStep(
        QuarantineUser.action, USER_ARN, {"user_name": USER, "quarantine_policy_name": QUARANTINE_POLICY_NAME}
    )
    done: list[str] = []
    with stub, pytest.raises(Exception, match="AccessDenied"):
        QuarantineUser().apply(StepRun(cast(Any, clients), "f-1", NOW), step, _before(), done)
    assert clients.asked == []
    assert _sessions(done) == []


def test_clients_that_reach_no_other_region_say_nothing() -> None:
    """A run whose clients have no ``client_in`` (a test double) makes no lookup; the executor's always has one."""
    iam, iam_stub = _iam_holding()
    step = RemediationStep(
        QuarantineUser.action, USER_ARN, {"user_name": USER, "quarantine_policy_name": QUARANTINE_POLICY_NAME}
    )
    done: list[str] = []
    with iam_stub:
        QuarantineUser().apply(StepRun(cast(Any, SimpleNamespace(iam=iam)), "f-1", NOW), step, _before(), done)
    assert _sessions(done) == []
