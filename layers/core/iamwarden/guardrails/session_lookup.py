"""The CloudTrail look-up of the role sessions a quarantined user assumed before its quarantine (issue 15).

Called by the user quarantine once a deny-all holds; it only reads and never revokes (see
``domain.earlier_sessions``). Best-effort on purpose: any failure is a line saying what is unknown, never a failed
or retried quarantine. Here rather than in ``adapters``: a guardrail's step may import only the domain and
``adapters.errors``; like every remediation step it calls AWS through the run's clients (no boto3 import).

``LookupEvents`` (CloudTrail API reference): one lookup attribute per call besides the time range (here
``Username``, so ``AssumeRole`` is picked out of the answer), at most 50 events a page, and "two per second, per
account, per Region": the shared client configuration's adaptive retries (``adapters.clients.retry_config``) slow the
calls down on throttling; a throttle past them ends that region's lookup as unknown.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from iamwarden.adapters.errors import error_code
from iamwarden.domain import earlier_sessions
from iamwarden.domain.earlier_sessions import GLOBAL_STS_REGION, LOOKBACK, RegionLookup, Session

#: Pages read per region at most (50 events each): a user who made more calls in 12 hours than this is named as a
#: truncated lookup, and the enforcer's time stays bounded.
MAX_PAGES = 5
PAGE_SIZE = 50


@runtime_checkable
class RegionalClients(Protocol):
    """The run's clients, reaching another region of the same account (``app.executor.AccountClients``)."""

    @property
    def account(self) -> str: ...

    @property
    def region(self) -> str: ...

    def client_in(self, service: str, region: str) -> Any: ...


def look_up(cloudtrail: Any, region: str, user_name: str, quarantined_at: datetime) -> RegionLookup:
    """The user's ``AssumeRole`` calls CloudTrail holds for ``region`` in the 12 hours before the quarantine."""
    sessions: list[Session] = []
    unreadable = 0
    token: Mapping[str, str] = {}
    try:
        for _ in range(MAX_PAGES):
            page = cloudtrail.lookup_events(
                LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": user_name}],
                StartTime=quarantined_at - LOOKBACK,
                EndTime=quarantined_at,
                MaxResults=PAGE_SIZE,
                **token,
            )
            for event in page.get("Events") or ():
                if event.get("EventName") != "AssumeRole":
                    continue
                found = earlier_sessions.session_of(event.get("CloudTrailEvent"), region, user_name, quarantined_at)
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


def earlier_sessions_lines(aws: object, user_name: str, now: str) -> list[str]:
    """What the quarantine's record and alert say about the user's earlier role sessions; never raises.

    Looked up in the run's region and in us-east-1 (STS's global endpoint). A run whose clients cannot reach
    another region (a test double) looks nothing up and says nothing."""
    if not isinstance(aws, RegionalClients):
        return []
    try:
        quarantined_at = earlier_sessions.parse_quarantine_time(now)
        if quarantined_at is None:
            return earlier_sessions.failed(user_name, f"the quarantine time {now!r} is not a time")
        regions = dict.fromkeys((aws.region, GLOBAL_STS_REGION))
        lookups = [
            look_up(aws.client_in("cloudtrail", region), region, user_name, quarantined_at) for region in regions
        ]
        return earlier_sessions.lines(user_name, aws.account, quarantined_at, lookups)
    except Exception as exc:  # the quarantine holds whatever happens here
        return earlier_sessions.failed(user_name, error_code(exc) or type(exc).__name__)
