"""The CloudTrail look-up of the role sessions a quarantined user assumed before its quarantine (issue 15).

Called by the user quarantine as the last thing it does, once a deny-all holds and the tags are written; it only
reads and never revokes (see ``domain.earlier_sessions``). Best-effort on purpose: any failure is a line saying what
is unknown, never a failed or retried quarantine. Here rather than in ``adapters``: a guardrail's step may import only
the domain and ``adapters.errors``; like every remediation step it calls AWS through the run's clients (no boto3).

``LookupEvents`` (CloudTrail API reference): one lookup attribute per call besides the time range (here
``Username``, so ``AssumeRole`` is picked out of the answer), at most 50 events a page, and a rate limit of a few
calls per second per account and region, shared with every other caller. So the lookup has its own client: one
attempt with short timeouts (``LOOKUP_CLIENT``), and one time bound for all its pages and regions together
(``DEADLINE_SECONDS``): a throttled or failing CloudTrail costs the quarantine seconds, never its Lambda's 60 s, and
moto_server (which answers ``LookupEvents`` with a 500) costs the demo and the load tests one quick call
(review s14 F1, F2).
"""

import random
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from iamwarden.adapters.errors import error_code
from iamwarden.domain import earlier_sessions
from iamwarden.domain.earlier_sessions import GLOBAL_STS_REGION, LOOKBACK, PREFIX, UNKNOWN, RegionLookup, Session
from iamwarden.domain.quarantine import ATTEMPT, HELD

#: Pages read per region at most (50 events each): a user who made more calls in 12 hours than this is named as a
#: truncated lookup, and the enforcer's time stays bounded.
MAX_PAGES = 5
PAGE_SIZE = 50
#: The lookup's client (``ClientFactory.client`` ``timeouts``): one attempt, no retry of a throttle or a 5xx, short
#: connect and read timeouts; a call costs at most about 6 s. botocore's ``retries.max_attempts`` counts the retries
#: after the first request (0: one request; measured against a local endpoint in test_quarantine_sessions).
LOOKUP_CLIENT: Mapping[str, int] = {"max_attempts": 0, "connect_timeout": 2, "read_timeout": 4}
#: Every page of every region together: no call is started after this many seconds.
DEADLINE_SECONDS = 8.0
#: The Lambda run's time the lookup leaves to what follows it (the outcome's record, the alerts, a call already
#: started running to its timeouts): with less than this left it looks nothing up (review s15 F5).
RESERVED_SECONDS = 20.0


@runtime_checkable
class RegionalClients(Protocol):
    """The run's clients, reaching another region of the same account (``app.executor.AccountClients``)."""

    @property
    def account(self) -> str: ...

    @property
    def region(self) -> str: ...

    def client_in(self, service: str, region: str, *, timeouts: Mapping[str, int] | None = None) -> Any: ...


#: Error codes a quick second try may get past (throttling; a 5xx is told by its HTTP status).
_RETRYABLE = frozenset(
    {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded", "ServiceUnavailable"}
)
#: Tries per call at most (review s15 F4): one more within the deadline for a throttle or a 5xx, after a short jittered
#: wait, so a rate limit shared with every other caller does not blind the lookup at its first refusal.
TRIES = 2
BACKOFF_SECONDS = (0.2, 0.6)


def earlier_lines(done: object) -> list[str]:
    """Every line this remediation recorded so far: the executor's ``done`` holds the earlier attempts' too
    (``all_done``)."""
    all_done = getattr(done, "all_done", None)
    earlier = all_done() if callable(all_done) else done
    return [str(line) for line in earlier] if isinstance(earlier, list | tuple) else []


def looked_up_before(done: object) -> bool:
    """Whether an earlier attempt of this remediation already recorded a whole lookup with nothing unknown: then it is
    not made again, so a retried quarantine's alert lists the sessions once, with one cutoff (review3 R2). An
    incomplete one (a refused, throttled or timed-out region, or a block cut short) is looked up again (review s15
    F4)."""
    return earlier_sessions.complete_block(earlier_lines(done))


def first_held_at(done: object) -> str | None:
    """When the quarantine first held, from IAM Warden's own record (review s15 F7): the time of the first attempt's
    ``attempt at T: the quarantine holds`` line; None when no earlier attempt recorded one."""
    for line in earlier_lines(done):
        if line.startswith(ATTEMPT) and HELD in line:
            at = line[len(ATTEMPT) :].split(": ", 1)[0]
            if earlier_sessions.parse_quarantine_time(at) is not None:
                return at
    return None


def _pause(seconds: float) -> None:
    """The wait before a second try (replaced in tests, which never wait)."""
    time.sleep(seconds)


def _retryable(exc: Exception) -> bool:
    code = error_code(exc)
    status = getattr(exc, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in _RETRYABLE or (isinstance(status, int) and status >= 500)


def look_up(
    cloudtrail: Any,
    region: str,
    user_name: str,
    quarantined_at: datetime,
    *,
    user_id: str | None = None,
    out_of_time: Callable[[], bool] = lambda: False,
    sleep: Callable[[float], None] | None = None,
) -> RegionLookup:
    """The user's ``AssumeRole`` calls CloudTrail holds for ``region`` in the 12 hours before the quarantine.

    ``out_of_time``: whether the lookup's overall time bound has run out (checked before each call and each try)."""
    sessions: list[Session] = []
    unreadable = 0
    token: Mapping[str, str] = {}
    try:
        for _ in range(MAX_PAGES):
            if out_of_time():
                return RegionLookup(region, tuple(sessions), unreadable=unreadable, timed_out=True)
            for attempt in range(TRIES):
                try:
                    page = cloudtrail.lookup_events(
                        LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": user_name}],
                        StartTime=quarantined_at - LOOKBACK,
                        EndTime=quarantined_at,
                        MaxResults=PAGE_SIZE,
                        **token,
                    )
                    break
                except Exception as exc:
                    if attempt + 1 >= TRIES or not _retryable(exc):
                        raise
                    (sleep or _pause)(BACKOFF_SECONDS[attempt] * random.uniform(0.5, 1.0))  # noqa: S311  (jitter, not a secret)
                    if out_of_time():
                        raise
            for event in page.get("Events") or ():
                if event.get("EventName") != "AssumeRole":
                    continue
                found = earlier_sessions.session_of(
                    event.get("CloudTrailEvent"), region, user_name, quarantined_at, user_id
                )
                if found == earlier_sessions.UNREADABLE:
                    unreadable += 1
                elif isinstance(found, Session):
                    sessions.append(found)
            next_token = page.get("NextToken")
            if not next_token:
                return RegionLookup(region, tuple(sessions), unreadable=unreadable)
            token = {"NextToken": next_token}
    except Exception as exc:  # any refusal or failure: this region is unknown, the quarantine stands
        return RegionLookup(region, tuple(sessions), error_code(exc) or type(exc).__name__, unreadable=unreadable)
    return RegionLookup(region, tuple(sessions), truncated=True, unreadable=unreadable)


def earlier_sessions_lines(
    aws: object,
    user_name: str,
    quarantined_at: str,
    *,
    user_id: str | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] | None = None,
) -> list[str]:
    """What the quarantine's record and alert say about the user's earlier role sessions; never raises.

    ``quarantined_at``: when the quarantine first held (ISO 8601), the window's end and the revoke cutoff. Looked up in
    the run's region and in us-east-1 (STS's global endpoint). A run whose clients cannot reach another region (a test
    double) looks nothing up and says nothing."""
    if not isinstance(aws, RegionalClients):
        return []
    try:
        at = earlier_sessions.parse_quarantine_time(quarantined_at)
        if at is None:
            return earlier_sessions.failed(user_name, f"the quarantine time {quarantined_at!r} is not a time")
        budget = DEADLINE_SECONDS
        remaining = getattr(aws, "remaining_seconds", None)
        if callable(remaining):
            budget = min(budget, float(remaining()) - RESERVED_SECONDS)
            if budget <= 0:
                return [
                    f"{PREFIX} of {user_name}{UNKNOWN} (not looked up: the Lambda run had less than "
                    f"{RESERVED_SECONDS:.0f} s left)"
                ]
        deadline = clock() + budget
        lookups = [
            look_up(
                aws.client_in("cloudtrail", region, timeouts=LOOKUP_CLIENT),
                region,
                user_name,
                at,
                user_id=user_id,
                out_of_time=lambda: clock() >= deadline,
                sleep=sleep,
            )
            for region in dict.fromkeys((aws.region, GLOBAL_STS_REGION))
        ]
        return earlier_sessions.lines(user_name, aws.account, at, lookups)
    except Exception as exc:  # the quarantine holds whatever happens here
        return earlier_sessions.failed(user_name, error_code(exc) or type(exc).__name__)
