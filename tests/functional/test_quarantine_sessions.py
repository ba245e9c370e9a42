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
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any, cast

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber

from iamwarden.adapters.clients import ClientFactory
from iamwarden.adapters.slack import render_slack
from iamwarden.alerts.message import build_message
from iamwarden.app.executor import AccountClients, StepRun
from iamwarden.app.service import EnforcementFailedError, EnforcerService
from iamwarden.domain.earlier_sessions import (
    MAX_LISTED,
    MORE_NAMES_CHARS,
    NOT_LOOKED_UP,
    PREFIX,
    complete_block,
    latest_block,
)
from iamwarden.domain.findings import RemediationStep
from iamwarden.domain.quarantine import QUARANTINE_POLICY_NAME, held_line
from iamwarden.guardrails.iam_user import DENY_ALL_POLICY, QuarantineUser
from iamwarden.guardrails.session_lookup import (
    DEADLINE_SECONDS,
    LOOKUP_CLIENT,
    MAX_PAGES,
    PAGE_SIZE,
    TRIES,
    earlier_sessions_lines,
)
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier

USER = "backdoor"
USER_ARN = f"arn:aws:iam::{HOME_ACCOUNT}:user/{USER}"
DENY_ALL_BOUNDARY = "arn:aws:iam::aws:policy/AWSDenyAll"
NOW = "2026-12-06T02:00:00.000+00:00"
QUARANTINED_AT = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)
REGION = "eu-west-1"
DEPLOY = f"arn:aws:iam::{HOME_ACCOUNT}:role/ci/deploy"
OTHER_ACCOUNT_ROLE = "arn:aws:iam::444455556666:role/audit-reader"
#: How the alert names DEPLOY: from AWS's session ARN, which carries the role's name and not its path.
DEPLOY_SHOWN = f"arn:aws:iam::{HOME_ACCOUNT}:role/deploy"


@pytest.fixture(autouse=True)
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The lookup's waits before a second try, recorded instead of slept (tests never wait)."""
    waited: list[float] = []
    monkeypatch.setattr("iamwarden.guardrails.session_lookup._pause", waited.append)
    return waited


def _client(service: str, region: str) -> Any:
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name=region)
    return cast(Any, session).client(service)


class _Clients:
    """The run's clients as the executor's ``AccountClients`` gives them: IAM, and CloudTrail per region."""

    def __init__(self, iam: Any, trails: dict[str, Any], region: str = REGION) -> None:
        self.account, self.region, self.iam, self._trails = HOME_ACCOUNT, region, iam, trails
        self.asked: list[tuple[str, str]] = []

    def client_in(self, service: str, region: str, *, timeouts: Mapping[str, int] | None = None) -> Any:
        self.asked.append((service, region))
        self.timeouts = timeouts
        return self._trails[region]


def _session_arn(role_arn: str, session: str) -> str:
    """AWS's ARN of the session (STS API reference, ``AssumeRole``, ``AssumedRoleUser.Arn``:
    ``arn:aws:sts::123456789012:assumed-role/demo/John``): the role's name, never its path."""
    return f"arn:aws:sts::{role_arn.split(':')[4]}:assumed-role/{role_arn.rsplit('/', 1)[-1]}/{session}"


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
            "assumedRoleUser": {"assumedRoleId": f"AROAEXAMPLE:{session}", "arn": _session_arn(role_arn, session)},
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
    assert (
        f"{PREFIX} of {USER} (CloudTrail AssumeRole calls since 2026-12-05T14:00:00Z, looked up in {REGION}, "
        "us-east-1 only): 3 may still be valid at the quarantine;"
    ) in said
    # One line per role (review s15 F1), the role as AWS wrote it (the session's ARN, no path: review s15 F6).
    assert (
        f"{PREFIX}: `{DEPLOY_SHOWN}`: 2 session(s), the latest `laptop` assumed 2026-12-06T01:00:00Z "
        f"(seen in {REGION}, us-east-1), the last expires 2026-12-06T13:00:00Z; to revoke its sessions issued before "
        "the quarantine, run: `aws iam put-role-policy --role-name deploy --policy-name AWSRevokeOlderSessions"
    ) in said
    assert "`x-acct`" in said
    assert "refused" not in said
    assert "`old`" not in said
    commands = [line for line in done if "aws iam put-role-policy" in line]
    assert len(commands) == 2  # one per role, not per session
    [cross] = [line for line in commands if OTHER_ACCOUNT_ROLE in line]
    assert f"`{OTHER_ACCOUNT_ROLE}` (account 444455556666): 1 session(s)" in cross
    assert "run in account 444455556666: `aws iam put-role-policy --role-name audit-reader" in cross
    assert '"aws:TokenIssueTime":"2026-12-06T02:00:00Z"' in cross
    assert commands[0].startswith(f"{PREFIX}: `{DEPLOY_SHOWN}`")  # this account's role first
    assert any(line.startswith("tagged backdoor") for line in done)


def test_no_session_found_says_so() -> None:
    iam, iam_stub = _iam_holding()
    trails = _trails(REGION, "us-east-1")
    _expect_page(trails[REGION][1], [])
    _expect_page(trails["us-east-1"][1], [])
    with iam_stub, trails[REGION][1], trails["us-east-1"][1]:
        done = _quarantine(iam, trails)
    said = _sessions(done)
    # Never a bare "none found" (review s14 F3): where it looked, and that this is not an all-clear.
    assert f"looked up in {REGION}, us-east-1 only): none found in {REGION}, us-east-1 that is still valid" in said[0]
    assert "This is not an all-clear: calls through other regions' STS endpoints" in said[0]
    assert not any("put-role-policy" in line for line in done)
    assert said[-1].startswith(f"{PREFIX}: not looked up: AssumeRole calls through other regions' STS endpoints")


def test_in_us_east_1_the_lookup_runs_once() -> None:
    iam, iam_stub = _iam_holding()
    trails = _trails("us-east-1")
    _expect_page(trails["us-east-1"][1], [_event(_record())])
    with iam_stub, trails["us-east-1"][1]:
        done = _quarantine(iam, trails, region="us-east-1")
        trails["us-east-1"][1].assert_no_pending_responses()
    assert "looked up in us-east-1 only)" in _sessions(done)[0]


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
    assert any("`laptop`" in line for line in said)  # what the other region showed is still listed


def test_a_page_refused_after_one_read_keeps_what_was_read() -> None:
    """(Stubber answers before botocore's retry loop: the attempts themselves are tested against a real endpoint.)"""
    iam, iam_stub = _iam_holding()
    trails = _trails(REGION, "us-east-1")
    _expect_page(trails[REGION][1], [_event(_record())], more="page-2")
    for _ in range(TRIES):  # throttled on its second try too
        trails[REGION][1].add_client_error(
            "lookup_events", service_error_code="ThrottlingException", http_status_code=400
        )
    _expect_page(trails["us-east-1"][1], [])
    with iam_stub, trails[REGION][1], trails["us-east-1"][1]:
        done = _quarantine(iam, trails)
        trails[REGION][1].assert_no_pending_responses()
    said = _sessions(done)
    assert (
        f"{PREFIX} in {REGION}: unknown (LookupEvents failed: ThrottlingException); "
        "the sessions below were read before it failed"
    ) in said
    assert any("`laptop`" in line for line in said)


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
    assert f"{MAX_PAGES} may still be valid at the quarantine" in said[0]


@pytest.mark.parametrize(
    "malformed",
    [
        "{not json",
        json.dumps(["a list"]),
        # No AWS-written session ARN, and no role the caller named either:
        json.dumps(_record(requestParameters={"roleSessionName": "no-role"}, responseElements={"credentials": {}})),
        json.dumps(_record(requestParameters=None, responseElements=None)),
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
    assert "1 may still be valid at the quarantine" in said[0]


def test_a_lookup_that_cannot_start_is_one_unknown_line_and_the_quarantine_stands() -> None:
    iam, iam_stub = _iam_holding()

    class _Broken(_Clients):
        def client_in(self, service: str, region: str, *, timeouts: Mapping[str, int] | None = None) -> Any:
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


def _step() -> RemediationStep:
    return RemediationStep(
        QuarantineUser.action, USER_ARN, {"user_name": USER, "quarantine_policy_name": QUARANTINE_POLICY_NAME}
    )


def test_the_lookup_asks_for_its_own_client_of_one_attempt_with_short_timeouts() -> None:
    iam, iam_stub = _iam_holding()
    trails = _trails(REGION, "us-east-1")
    _expect_page(trails[REGION][1], [])
    _expect_page(trails["us-east-1"][1], [])
    clients = _Clients(iam, {name: client for name, (client, _) in trails.items()})
    with iam_stub, trails[REGION][1], trails["us-east-1"][1]:
        QuarantineUser().apply(StepRun(cast(Any, clients), "f-1", NOW), _step(), _before(), [])
    assert clients.timeouts == LOOKUP_CLIENT


class _Endpoint:
    """A local HTTP endpoint answering every request with one status and body, counting the requests it got: a real
    botocore client goes through its whole retry loop against it (a Stubber answers before that loop)."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        counter = self
        self.requests = 0

        class _Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                counter.requests += 1
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "_Endpoint":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (400, {"__type": "ThrottlingException", "message": "Rate exceeded"}, "ThrottlingException"),
        (500, {"__type": "InternalFailure", "message": "not implemented"}, "InternalFailure"),
        (503, {"__type": "ServiceUnavailable", "message": "slow down"}, "ServiceUnavailable"),
    ],
)
def test_a_throttled_or_failing_cloudtrail_gets_two_tries_per_region_and_the_quarantine_stands(
    monkeypatch: pytest.MonkeyPatch, status: int, body: dict[str, Any], code: str, waits: list[float]
) -> None:
    """Review s14 F1/F2, review s15 F4: through the executor's real clients (``ClientFactory``, the lookup's
    ``LOOKUP_CLIENT``), a throttle or a 5xx is two requests per region (the lookup's own second try after a short
    wait), not botocore's 8 retried ones (about 40 s each)."""
    iam, iam_stub = _iam_holding()
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name=REGION)
    clients = AccountClients(ClientFactory(HOME_ACCOUNT, session=session), HOME_ACCOUNT, REGION)
    monkeypatch.setattr(AccountClients, "iam", property(lambda _: iam))
    with _Endpoint(status, body) as endpoint, iam_stub:
        monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDTRAIL", endpoint.url)
        done: list[str] = []
        QuarantineUser().apply(StepRun(cast(Any, clients), "f-1", NOW), _step(), _before(), done)
        iam_stub.assert_no_pending_responses()
    assert endpoint.requests == 2 * TRIES == 4  # two per region (eu-west-1, us-east-1): botocore retries none
    assert len(waits) == 2  # one short wait per region, before its second try
    assert all(0 < wait <= 0.2 for wait in waits)
    said = _sessions(done)
    assert f"{PREFIX} in {REGION}: unknown (LookupEvents failed: {code})" in said
    assert f"{PREFIX} in us-east-1: unknown (LookupEvents failed: {code})" in said
    assert "unknown: no region's lookup completed" in said[0]


def test_a_throttle_the_second_try_gets_past_is_read_through(waits: list[float]) -> None:
    """Review s15 F4: one refusal for the rate limit (shared with every caller) does not blind the lookup."""
    trails = _trails("us-east-1")
    trails["us-east-1"][1].add_client_error(
        "lookup_events", service_error_code="ThrottlingException", http_status_code=400
    )
    _expect_page(trails["us-east-1"][1], [_event(_record())])
    clients = _Clients(cast(Any, None), {name: client for name, (client, _) in trails.items()}, "us-east-1")
    with trails["us-east-1"][1]:
        said = earlier_sessions_lines(clients, USER, NOW)
        trails["us-east-1"][1].assert_no_pending_responses()
    assert "1 may still be valid" in said[0]
    assert not any("unknown" in line for line in said)
    assert len(waits) == 1


def test_a_refusal_no_second_try_can_help_gets_one_try(waits: list[float]) -> None:
    trails = _trails("us-east-1")
    trails["us-east-1"][1].add_client_error("lookup_events", service_error_code="AccessDeniedException")
    clients = _Clients(cast(Any, None), {name: client for name, (client, _) in trails.items()}, "us-east-1")
    with trails["us-east-1"][1]:
        said = earlier_sessions_lines(clients, USER, NOW)
    assert f"{PREFIX} in us-east-1: unknown (LookupEvents failed: AccessDeniedException)" in said
    assert waits == []


def test_no_second_try_once_the_time_bound_ran_out(waits: list[float]) -> None:
    trails = _trails("us-east-1")
    trails["us-east-1"][1].add_client_error(
        "lookup_events", service_error_code="ThrottlingException", http_status_code=400
    )
    clients = _Clients(cast(Any, None), {name: client for name, (client, _) in trails.items()}, "us-east-1")
    # Each clock read moves 5 s: the deadline is 5 + 8 = 13; checked at 10 before the call, at 15 after the wait.
    with trails["us-east-1"][1]:  # nothing else queued: a second call would fail with another error
        said = earlier_sessions_lines(clients, USER, NOW, clock=_Clock(5.0))
        trails["us-east-1"][1].assert_no_pending_responses()
    assert f"{PREFIX} in us-east-1: unknown (LookupEvents failed: ThrottlingException)" in said
    assert len(waits) == 1


class _Clock:
    """A clock that moves ``step`` seconds each time it is read."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_one_time_bound_for_every_page_and_region_together() -> None:
    """Review s14 F1: no call starts once ``DEADLINE_SECONDS`` have passed; what was read is kept, the rest is named."""
    trails = _trails(REGION, "us-east-1")
    # Each clock read moves 3 s: the start (3), then the checks before each page (6, 9 ...); the deadline is 3 + 8.
    for page in range(2):
        _expect_page(
            trails[REGION][1],
            [_event(_record(session=f"s{page}"))],
            token=f"t{page}" if page else None,
            more=f"t{page + 1}",
        )
    clients = _Clients(cast(Any, None), {name: client for name, (client, _) in trails.items()})
    with trails[REGION][1], trails["us-east-1"][1]:  # us-east-1 has nothing queued: a call there would fail
        said = earlier_sessions_lines(clients, USER, NOW, clock=_Clock(3.0))
        trails[REGION][1].assert_no_pending_responses()
    assert f"{PREFIX} in {REGION}: unknown past what was read (the lookup's time bound ran out" in "\n".join(said)
    assert f"{PREFIX} in us-east-1: unknown past what was read" in "\n".join(said)
    assert "2 may still be valid at the quarantine" in said[0]
    assert DEADLINE_SECONDS == 8.0


def test_the_time_bound_is_cut_to_the_runs_time_left() -> None:
    """Review s15 F5: with 25 s left in the Lambda run (20 s reserved), the bound is 5 s, not 8."""
    trails = _trails(REGION, "us-east-1")
    _expect_page(trails[REGION][1], [_event(_record(session="s0"))], more="t1")
    clients = _Clients(cast(Any, None), {name: client for name, (client, _) in trails.items()})
    cast(Any, clients).remaining_seconds = lambda: 25.0
    # Each clock read moves 3 s: the start (3), the deadline 3 + 5 = 8; page 1 at 6, page 2 would be at 9.
    with trails[REGION][1], trails["us-east-1"][1]:  # nothing more queued: a second page would fail otherwise
        said = earlier_sessions_lines(clients, USER, NOW, clock=_Clock(3.0))
        trails[REGION][1].assert_no_pending_responses()
    assert f"{PREFIX} in {REGION}: unknown past what was read (the lookup's time bound ran out" in "\n".join(said)


def test_with_too_little_time_left_in_the_run_nothing_is_looked_up() -> None:
    clients = _Clients(cast(Any, None), {})
    cast(Any, clients).remaining_seconds = lambda: 19.0
    said = earlier_sessions_lines(clients, USER, NOW)
    assert said == [f"{PREFIX} of {USER}: unknown (not looked up: the Lambda run had less than 20 s left)"]
    assert clients.asked == []


def test_cloudtrails_own_expiration_format_is_read() -> None:
    """Review s14 F5: real records say ``"Dec 9, 2025, 5:31:31 PM"`` (UTC); an expired one is left out, a live one
    listed with its expiry, an unreadable one listed as unknown (never dropped, never called certainly valid)."""
    trails = _trails(REGION, "us-east-1")
    _expect_page(
        trails[REGION][1],
        [
            _event(
                _record(
                    f"arn:aws:iam::{HOME_ACCOUNT}:role/expired", session="expired", expires="Dec 6, 2026, 1:59:59 AM"
                )
            ),
            _event(
                _record(f"arn:aws:iam::{HOME_ACCOUNT}:role/live", session="live", expires="Dec 6, 2026, 1:00:00 PM")
            ),
            _event(
                _record(
                    f"arn:aws:iam::{HOME_ACCOUNT}:role/old-style", session="old-style", expires="Dec 6, 2026 2:30:00 AM"
                )
            ),
            _event(_record(f"arn:aws:iam::{HOME_ACCOUNT}:role/odd", session="odd", expires="tomorrow")),
        ],
    )
    _expect_page(trails["us-east-1"][1], [])
    clients = _Clients(cast(Any, None), {name: client for name, (client, _) in trails.items()})
    with trails[REGION][1], trails["us-east-1"][1]:
        said = earlier_sessions_lines(clients, USER, NOW)
    text = "\n".join(said)
    assert "role/expired" not in text
    assert (
        "role/live`: 1 session(s), the latest `live` assumed 2026-12-06T01:00:00Z (seen in eu-west-1), the last "
        "expires 2026-12-06T13:00:00Z;"
    ) in text
    assert (
        "role/old-style`: 1 session(s), the latest `old-style` assumed 2026-12-06T01:00:00Z (seen in eu-west-1), "
        "the last expires 2026-12-06T02:30:00Z;"
    ) in text
    assert (
        "role/odd`: 1 session(s), the latest `odd` assumed 2026-12-06T01:00:00Z (seen in eu-west-1), expiry "
        "unknown (`tomorrow` could not be read);"
    ) in text
    assert "3 may still be valid at the quarantine (1 with an expiry IAM Warden could not read)" in said[0]


def test_the_listing_is_bounded_per_role_and_names_the_rest() -> None:
    """Review s14 F6, review s15 F1: at most ``MAX_LISTED`` roles, one line and one command each; the rest named."""
    trails = _trails("us-east-1")
    roles = [f"arn:aws:iam::{HOME_ACCOUNT}:role/{'p/' * 200}r{index:02}" for index in range(MAX_LISTED + 5)]
    records = [_event(_record(role, "s", at=f"2026-12-06T01:{index:02}:00Z")) for index, role in enumerate(roles)]
    _expect_page(trails["us-east-1"][1], records)
    clients = _Clients(cast(Any, None), {name: client for name, (client, _) in trails.items()}, "us-east-1")
    with trails["us-east-1"][1]:
        said = earlier_sessions_lines(clients, USER, NOW)
    text = "\n".join(said)
    assert f"{MAX_LISTED + 5} may still be valid" in said[0]
    assert sum("put-role-policy" in line for line in said) == MAX_LISTED
    assert "role/r14`: 1 session(s)" in text  # the latest first
    assert "role/r00`: 1 session(s)" not in text
    more = f"{PREFIX}: and 5 more role(s) (5 session(s)) with no command here: "
    [named] = [line for line in said if line.startswith(more)]
    assert all(f"`arn:aws:iam::{HOME_ACCOUNT}:role/r{index:02}`" in named for index in range(5))
    assert len(json.dumps(said)) < 40_000


def test_later_sessions_of_another_role_never_hide_this_accounts_role() -> None:
    """Review s15 F1 (probe p4 a): one session of this account's ``OrgAdmin``, then ten later ones of a role in the
    intruder's own account: ``OrgAdmin`` is listed first, with its command."""
    trails = _trails("us-east-1")
    admin = f"arn:aws:iam::{HOME_ACCOUNT}:role/OrgAdmin"
    foreign = "arn:aws:iam::999988887777:role/j"
    records = [_event(_record(admin, "a", at="2026-12-06T00:10:00Z"))] + [
        _event(_record(foreign, f"j{index}", at=f"2026-12-06T01:{index:02}:00Z")) for index in range(10)
    ]
    _expect_page(trails["us-east-1"][1], records)
    clients = _Clients(cast(Any, None), {name: client for name, (client, _) in trails.items()}, "us-east-1")
    with trails["us-east-1"][1]:
        said = earlier_sessions_lines(clients, USER, NOW)
    roles = [line for line in said if "put-role-policy" in line]
    assert len(roles) == 2
    assert roles[0].startswith(f"{PREFIX}: `{admin}`: 1 session(s), the latest `a` assumed 2026-12-06T00:10:00Z")
    assert "run: `aws iam put-role-policy --role-name OrgAdmin " in roles[0]
    assert roles[1].startswith(f"{PREFIX}: `{foreign}` (account 999988887777): 10 session(s), the latest `j9`")
    assert "11 may still be valid" in said[0]


def test_the_roles_past_the_bound_are_named_within_a_bound() -> None:
    trails = _trails("us-east-1")
    roles = [f"arn:aws:iam::{HOME_ACCOUNT}:role/{'n' * 60}{index:03}" for index in range(200)]
    records = [_event(_record(role, "s", at=f"2026-12-06T01:{index % 60:02}:00Z")) for index, role in enumerate(roles)]
    for start in range(0, 200, 50):
        _expect_page(
            trails["us-east-1"][1],
            records[start : start + 50],
            token=f"t{start}" if start else None,
            more=f"t{start + 50}" if start + 50 < 200 else None,
        )
    clients = _Clients(cast(Any, None), {name: client for name, (client, _) in trails.items()}, "us-east-1")
    with trails["us-east-1"][1]:
        said = earlier_sessions_lines(clients, USER, NOW)
    [named] = [line for line in said if " more role(s) " in line]
    assert named.startswith(f"{PREFIX}: and {200 - MAX_LISTED} more role(s) ({200 - MAX_LISTED} session(s))")
    assert len(named) < MORE_NAMES_CHARS + 300
    assert named.count("`arn:aws:iam::") == len(named.split("`, `"))
    assert f" and {200 - MAX_LISTED - named.count('`arn:aws:iam::')} more not named; " in named


def test_a_session_of_another_user_that_had_the_name_is_left_out() -> None:
    """Review s14 F8: the record's ``principalId`` must be the captured ``UserId``."""
    trails = _trails("us-east-1")
    other = _record(session="previous-owner")
    other["userIdentity"]["principalId"] = "AIDAPREVIOUSUSER0001"
    _expect_page(trails["us-east-1"][1], [_event(other), _event(_record(session="mine"))])
    clients = _Clients(cast(Any, None), {name: client for name, (client, _) in trails.items()}, "us-east-1")
    with trails["us-east-1"][1]:
        said = earlier_sessions_lines(clients, USER, NOW, user_id="AIDAEXAMPLEUSERID0001")
    assert "`mine`" in "\n".join(said)
    assert "previous-owner" not in "\n".join(said)


def test_the_sessions_come_last_after_the_tags_and_the_attempts_verdict() -> None:
    """Review s14 F1 / review3 R3: a retried quarantine writes its tags and its held line first, then the lookup,
    then raises for the retry; Slack's section cut then drops session lines, never the verdict."""
    iam = _client("iam", "us-east-1")
    stub = Stubber(iam)
    stub.add_response("put_user_permissions_boundary", {}, {"UserName": USER, "PermissionsBoundary": DENY_ALL_BOUNDARY})
    stub.add_response(
        "put_user_policy", {}, {"UserName": USER, "PolicyName": QUARANTINE_POLICY_NAME, "PolicyDocument": ANY}
    )
    stub.add_client_error("update_access_key", service_error_code="Throttling", http_status_code=400)
    stub.add_response("tag_user", {}, {"UserName": USER, "Tags": ANY})
    trails = _trails("us-east-1")
    _expect_page(trails["us-east-1"][1], [_event(_record())])
    clients = _Clients(iam, {name: client for name, (client, _) in trails.items()}, "us-east-1")
    before = {**_before(), "access_keys": [{"id": "AKIAEXAMPLEKEY000001", "status": "Active"}]}
    done: list[str] = []
    with stub, trails["us-east-1"][1], pytest.raises(Exception, match="Throttling"):
        QuarantineUser().apply(StepRun(cast(Any, clients), "f-1", NOW), _step(), before, done)
    first = next(index for index, line in enumerate(done) if line.startswith(PREFIX))
    assert any(line.startswith("tagged backdoor") for line in done[:first])
    assert any(line.startswith("attempt at ") for line in done[:first])
    assert all(line.startswith(PREFIX) for line in done[first:])


class _Recorded(list[str]):
    """The executor's ``done`` on a retry: this attempt's lines, and ``all_done`` with the earlier attempts' too."""

    def __init__(self, earlier: list[str]) -> None:
        super().__init__()
        self.earlier = earlier

    def all_done(self) -> list[str]:
        return [*self.earlier, *self]


def test_a_retry_does_not_look_up_again_when_an_earlier_attempt_did() -> None:
    """Review3 R2 / review s14 F7: once per remediation, so the alert has one block and one cutoff."""
    iam = _client("iam", "us-east-1")
    stub = Stubber(iam)  # deny-alls and tags already on: nothing to write
    clients = _Clients(iam, {})
    tagged = {
        "iamwarden:quarantine-finding": "f-1",
        "iamwarden:quarantined-at": NOW,
        "iamwarden:quarantined-arn": USER_ARN,
    }
    before = {**_before(), "quarantine_policy": DENY_ALL_POLICY, "boundary": DENY_ALL_BOUNDARY, "tags": tagged}
    done = _Recorded([f"{PREFIX} of {USER} (...): none found in us-east-1 that is still valid", f"{NOT_LOOKED_UP}..."])
    with stub:
        QuarantineUser().apply(StepRun(cast(Any, clients), "f-1", "2026-12-06T02:05:00+00:00"), _step(), before, done)
    assert clients.asked == []
    assert list(done) == []


def test_a_retry_that_looks_up_cuts_at_the_time_the_quarantine_first_held() -> None:
    """Review3 R2: the first attempt tagged the user with its time but never recorded a lookup (killed before it):
    the retry's commands cut at that first time, not at the retry's own."""
    iam = _client("iam", "us-east-1")
    trails = _trails("us-east-1")
    _expect_page(trails["us-east-1"][1], [_event(_record())])
    clients = _Clients(iam, {name: client for name, (client, _) in trails.items()}, "us-east-1")
    tagged = {
        "iamwarden:quarantine-finding": "f-1",
        "iamwarden:quarantined-at": NOW,
        "iamwarden:quarantined-arn": USER_ARN,
    }
    before = {**_before(), "quarantine_policy": DENY_ALL_POLICY, "boundary": DENY_ALL_BOUNDARY, "tags": tagged}
    done = _Recorded(["tagged backdoor with iamwarden:quarantine-finding=f-1"])
    with Stubber(iam), trails["us-east-1"][1]:
        QuarantineUser().apply(StepRun(cast(Any, clients), "f-1", "2026-12-06T02:05:00+00:00"), _step(), before, done)
    [command] = [line for line in done if "put-role-policy" in line]
    assert '"aws:TokenIssueTime":"2026-12-06T02:00:00Z"' in command
    # Review s15 F7: a tag is what anyone allowed iam:TagUser can set: the alert says the cutoff came from it.
    assert f"{PREFIX}: the cutoff {NOW} is read from the user's iamwarden:quarantined-at tag" in done[1]


def _retry(earlier: list[str], tags: dict[str, str], events: list[dict[str, Any]]) -> list[str]:
    """A retried quarantine (deny-alls and tags on, nothing to write) after ``earlier`` lines were recorded."""
    iam = _client("iam", "us-east-1")
    trails = _trails("us-east-1")
    _expect_page(trails["us-east-1"][1], events)
    clients = _Clients(iam, {name: client for name, (client, _) in trails.items()}, "us-east-1")
    before = {**_before(), "quarantine_policy": DENY_ALL_POLICY, "boundary": DENY_ALL_BOUNDARY, "tags": tags}
    done = _Recorded(earlier)
    with Stubber(iam), trails["us-east-1"][1]:
        QuarantineUser().apply(StepRun(cast(Any, clients), "f-1", "2026-12-06T02:05:00+00:00"), _step(), before, done)
        trails["us-east-1"][1].assert_no_pending_responses()
    return list(done)


HELD_AT_NOW = held_line(1, NOW)  # the first attempt's own line: it held at NOW, one write left for the retry


@pytest.mark.parametrize(
    "earlier_block",
    [
        [f"{PREFIX} of {USER} (...): unknown: no region's lookup completed (see below)", f"{NOT_LOOKED_UP}..."],
        [f"{PREFIX} of {USER} (...): 1 may still be valid", f"{PREFIX} in us-east-1: unknown (LookupEvents failed: X)"],
        [f"{PREFIX} of {USER}: unknown (the CloudTrail lookup failed: RuntimeError)"],
        [f"{PREFIX} of {USER} (...): none found in us-east-1 that is still valid"],  # cut short: no last line
    ],
)
def test_a_retry_looks_up_again_when_the_earlier_lookup_was_incomplete(earlier_block: list[str]) -> None:
    """Review s15 F4: an incomplete earlier block (a region unknown, or cut short) is looked up again; the new block's
    lines are marked with the retry's time, so none repeats an earlier one, and the alert shows the new one only."""
    earlier = ["tagged backdoor with iamwarden:quarantine-finding=f-1", HELD_AT_NOW, *earlier_block]
    tags = {
        "iamwarden:quarantine-finding": "f-1",
        "iamwarden:quarantined-at": NOW,
        "iamwarden:quarantined-arn": USER_ARN,
    }
    done = _retry(earlier, tags, [_event(_record())])
    again = f"{PREFIX} (looked up again at 2026-12-06T02:05:00+00:00)"
    assert done
    assert all(line.startswith(again) for line in done)
    assert not set(done) & set(earlier)
    assert latest_block([*earlier, *done]) == done
    assert any(line.startswith(f"{again}: `{DEPLOY_SHOWN}`: 1 session(s)") for line in done)
    assert complete_block([*earlier, *done])


def test_the_cutoff_is_the_records_first_holding_attempt_not_a_tag() -> None:
    """Review s15 F7: the tag can be set by anyone allowed iam:TagUser on the user; IAM Warden's own record says when
    the quarantine first held, and the lookup's window and the commands' cutoff are that time."""
    forged = {
        "iamwarden:quarantine-finding": "f-1",
        "iamwarden:quarantined-at": "2025-01-01T00:00:00+00:00",
        "iamwarden:quarantined-arn": USER_ARN,
    }
    done = _retry(["tagged backdoor with iamwarden:quarantine-finding=f-1", HELD_AT_NOW], forged, [_event(_record())])
    [command] = [line for line in done if "put-role-policy" in line]
    assert '"aws:TokenIssueTime":"2026-12-06T02:00:00Z"' in command  # _expect_page checked the window's end too
    assert not any("tag" in line for line in done)


def _answer_roles(account: Account, roles: int) -> None:
    """LookupEvents answered (moto has none) with one live session of each of ``roles`` roles, made by the user."""

    def looked_up(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        user = json.loads(params["body"])["LookupAttributes"][0]["AttributeValue"]
        events = [
            _event(
                {
                    **_record(f"arn:aws:iam::{HOME_ACCOUNT}:role/team/deploy-role-{index}", user),
                    "userIdentity": {"type": "IAMUser", "userName": user},
                    "eventTime": "2030-01-01T00:00:00Z",
                    "responseElements": {"credentials": {"expiration": "Jan 1, 2099, 1:00:00 AM"}},
                }
            )
            for index in range(roles)
        ]
        return AWSResponse("https://cloudtrail.amazonaws.com/", 200, HTTPHeaders(), None), {"Events": events}

    account.session.events.register_first("before-call.cloudtrail.LookupEvents", cast(Any, looked_up))


def test_a_retried_quarantine_lists_the_sessions_once_and_slack_keeps_the_verdict(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Review3 R2/R3 through the enforcer: attempt 1's key write throttled (retried), attempt 2 succeeds; the user
    assumed 12 roles. One block and one command per listed role in the record; in Slack both alerts keep their
    verdict (attempt 1's held line, attempt 2's deactivated key) whatever the session lines cost."""
    account.set("rules/iam-user-created/mode", "remediate")
    account.iam.create_user(UserName="backdoor-admin")
    account.iam.create_access_key(UserName="backdoor-admin")
    _answer_roles(account, MAX_LISTED + 2)
    retried: list[bool] = []

    def refuse_once(**_: Any) -> None:
        if not retried:
            raise ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "UpdateAccessKey")

    account.session.events.register_first("before-call.iam.UpdateAccessKey", refuse_once)
    with pytest.raises(EnforcementFailedError):
        enforcer.handle(load_event("create-user-backdoor-cli.json"))
    retried.append(True)
    [finding] = enforcer.handle(load_event("create-user-backdoor-cli.json"))["findings"]

    done = finding["done"]
    assert sum(line.startswith(f"{PREFIX} of backdoor-admin") for line in done) == 1
    assert sum("AWSRevokeOlderSessions" in line for line in done) == MAX_LISTED
    assert f"{PREFIX}: and 2 more role(s) (2 session(s)) with no command here: " in "\n".join(done)
    failed, succeeded = notifier.sent
    sections = {}
    for notification in (failed, succeeded):
        blocks = render_slack(build_message(notification))["blocks"]
        [section] = [
            block["text"]["text"]
            for block in blocks
            if block.get("type") == "section" and "What IAM Warden" in block.get("text", {}).get("text", "")
        ]
        sections[notification.outcome] = section
    assert "attempt at " in sections[failed.outcome]
    assert "• deactivated access key" in sections[succeeded.outcome]
    # Review s15 F3: in Slack, the caveats come first and every listed role keeps its command, uncut.
    for notification in (failed, succeeded):
        blocks = render_slack(build_message(notification))["blocks"]
        shown = "\n".join(
            block["text"]["text"]
            for block in blocks
            if block.get("type") == "section"
            and block.get("text", {}).get("text", "").startswith("*Earlier role sessions of the quarantined user")
        )
        assert "truncated" not in shown
        assert shown.count("`aws iam put-role-policy --role-name deploy-role-") == MAX_LISTED
        assert shown.index("not looked up: ") < shown.index("put-role-policy")
        assert "and 2 more role(s)" in shown


def _slack_section(notification: Any, heading: str) -> str:
    blocks = render_slack(build_message(notification))["blocks"]
    [section] = [
        block["text"]["text"]
        for block in blocks
        if block.get("type") == "section" and block.get("text", {}).get("text", "").startswith(f"*{heading}")
    ]
    return str(section)


def test_a_failed_quarantines_what_went_wrong_keeps_not_done_in_slack(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Review s15 F2 (a regression vs main): the failure's error text (``executor._failed``) holds no session lines,
    so Slack's 3,000-character cut keeps "Not done" and "The risky change may still be in place"; the sessions
    are in their own section (and in the record's ``done``)."""
    account.set("rules/iam-user-created/mode", "remediate")
    account.iam.create_user(UserName="backdoor-admin")
    account.iam.create_access_key(UserName="backdoor-admin")
    _answer_roles(account, MAX_LISTED + 2)

    def refuse(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "UpdateAccessKey")

    account.session.events.register_first("before-call.iam.UpdateAccessKey", refuse)
    with pytest.raises(EnforcementFailedError) as raised:
        enforcer.handle(load_event("create-user-backdoor-cli.json"))
    [failed] = notifier.sent
    wrong = _slack_section(failed, "What went wrong")
    assert "Not done: " in wrong
    assert "The risky change may still be in place" in wrong
    assert PREFIX not in wrong
    assert PREFIX not in str(raised.value)
    assert any(line.startswith(PREFIX) for line in failed.actions)
