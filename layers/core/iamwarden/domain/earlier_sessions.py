"""Role sessions a quarantined user assumed before its quarantine: read from CloudTrail, said in the alert (issue 15).

The deny-alls bind the user's own keys and the sessions it got from ``GetSessionToken``/``GetFederationToken``
(permissions are checked per request), not the role sessions it assumed: those stay valid until they expire (an
``AssumeRole`` session lasts at most 12 hours). IAM Warden never revokes them itself: AWS's "Revoke active sessions"
(an inline ``AWSRevokeOlderSessions`` policy denying ``*`` to sessions whose ``aws:TokenIssueTime`` is older) cuts
off *every* session of the role issued before that time, everyone's, so it is not proportional. The alert lists what
CloudTrail shows and the exact command per role, and says what it could not see.

Pure: reads parsed ``LookupEvents`` answers (``guardrails.session_lookup`` makes the calls).

Record shape (``CloudTrailEvent`` is the record as a JSON string: CloudTrail API reference, ``Event``: "A JSON
string that contains a representation of the event returned"; an ``AssumeRole`` record carries
``requestParameters.roleArn``/``roleSessionName`` and ``responseElements.credentials.expiration``: CloudTrail user
guide, *AWS STS API calls* examples, and a published record, gist.github.com/jmelloy/82f70d872be47b775ac28e7a225f5049).
Real records write ``expiration`` as ``"Dec 9, 2025, 5:31:31 PM"`` (UTC: a published AssumeRole record whose
``eventTime`` is ``2025-12-09T16:31:31Z``, a one-hour session; older ones ``"Dec 10, 2019 7:46:42 AM"``, review s14 F5);
ISO 8601 too is read.
"""

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal, NamedTuple

#: Sessions listed at most, and roles given a revoke command at most (review s14 F6, review3 R3): the record stays far
#: below DynamoDB's 400 KB item and the alert's verdict lines are never pushed out; the rest are counted.
MAX_LISTED = 10
#: The formats CloudTrail writes ``responseElements.credentials.expiration`` in besides ISO 8601 (UTC).
_EXPIRATION_FORMATS = ("%b %d, %Y, %I:%M:%S %p", "%b %d, %Y %I:%M:%S %p")

#: How far back the lookup reaches: an ``AssumeRole`` session lasts at most 12 hours (a role's maximum session
#: duration; role chaining at most 1 hour), so an older one has expired by the time of the quarantine.
LOOKBACK = timedelta(hours=12)
#: STS's global endpoint logs its calls in us-east-1; a regional endpoint in its own region.
GLOBAL_STS_REGION = "us-east-1"
#: The inline policy name the IAM console's "Revoke active sessions" writes (AWS IAM User Guide, *Revoke IAM role
#: temporary security credentials*, docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_revoke-sessions.html).
REVOKE_POLICY_NAME = "AWSRevokeOlderSessions"
#: What starts every line this module writes into a quarantine's ``done`` (never a line another reader counts).
PREFIX = "earlier role sessions"
#: What ``session_of`` answers for a record it cannot read.
UNREADABLE: Final = "unreadable"


class Session(NamedTuple):
    """One role session the user assumed: which role, under what name, when, until when, seen in which region."""

    role_arn: str
    session_name: str
    issued: str
    expires: str | None
    region: str


class RegionLookup(NamedTuple):
    """What one region's lookup showed: the sessions found, and what it could not see."""

    region: str
    sessions: tuple[Session, ...] = ()
    #: Why the lookup stopped (an error code: AccessDenied, throttling past the retries); None: it ran to its end.
    error: str | None = None
    #: More pages were left when the page bound was reached: some calls may be missing.
    truncated: bool = False
    #: ``AssumeRole`` records whose ``CloudTrailEvent`` could not be read.
    unreadable: int = 0
    #: The lookup's overall time bound ran out before this region's lookup ended (review s14 F1).
    timed_out: bool = False

    @property
    def complete(self) -> bool:
        """Whether every call CloudTrail delivered for this region in the window was read."""
        return self.error is None and not self.truncated and not self.timed_out


def _parsed_time(value: object) -> datetime | None:
    """An ISO 8601 time (``2026-12-06T01:00:00Z``); None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def expiration_time(value: object) -> datetime | None:
    """A session's ``expiration`` as CloudTrail writes it (``Dec 9, 2025, 5:31:31 PM``, UTC) or ISO 8601; None when
    it is neither (the session is then listed with its expiry unknown, never dropped)."""
    parsed = _parsed_time(value)
    if parsed is not None or not isinstance(value, str):
        return parsed
    for layout in _EXPIRATION_FORMATS:
        try:
            return datetime.strptime(value.strip(), layout).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def session_of(
    cloudtrail_event: object, region: str, user_name: str, quarantined_at: datetime, user_id: str | None = None
) -> Session | Literal["unreadable"] | None:
    """The session one ``LookupEvents`` entry's ``CloudTrailEvent`` shows the user assumed.

    None: the record is no session of this user that may still be valid (a failed call, another caller, another
    event, expired before the quarantine). ``UNREADABLE``: the record could not be read (not JSON, no role ARN).
    ``user_id``: the user's ``UserId`` as captured; a record naming another ``principalId`` is an earlier user of the
    same name (deleted and re-created), not this one (review s14 F8)."""
    if not isinstance(cloudtrail_event, str):
        return UNREADABLE
    try:
        record = json.loads(cloudtrail_event)
    except ValueError:
        return UNREADABLE
    if not isinstance(record, dict):
        return UNREADABLE
    if record.get("eventName") != "AssumeRole" or record.get("eventSource") != "sts.amazonaws.com":
        return None
    if record.get("errorCode"):
        return None  # a failed call issued no session
    identity = record.get("userIdentity")
    if not isinstance(identity, dict) or identity.get("type") != "IAMUser" or identity.get("userName") != user_name:
        return None  # the lookup's Username also names roles: only the user's own calls count
    principal = identity.get("principalId")
    if user_id and isinstance(principal, str) and principal != user_id:
        return None  # another user that had this name
    request = record.get("requestParameters")
    request = request if isinstance(request, dict) else {}
    role_arn, session_name = request.get("roleArn"), request.get("roleSessionName")
    if not isinstance(role_arn, str) or ":role/" not in role_arn:
        return UNREADABLE
    response = record.get("responseElements")
    credentials = response.get("credentials") if isinstance(response, dict) else None
    expiration = credentials.get("expiration") if isinstance(credentials, dict) else None
    expires = expiration_time(expiration)
    if expires is not None and expires <= quarantined_at:
        return None  # expired before the quarantine: nothing left to cut
    return Session(
        role_arn,
        session_name if isinstance(session_name, str) else "?",
        str(record.get("eventTime") or "?"),
        expiration if isinstance(expiration, str) else None,
        region,
    )


def token_issue_time(quarantined_at: datetime) -> str:
    """The quarantine time as the revoke policy's ``aws:TokenIssueTime`` bound, rounded up to the next whole second
    so a session issued in the quarantine's own second (before it) is cut too."""
    at = quarantined_at.astimezone(UTC)
    if at.microsecond:
        at = at.replace(microsecond=0) + timedelta(seconds=1)
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def revoke_policy(quarantined_at: datetime) -> dict[str, Any]:
    """The document the IAM console writes as ``AWSRevokeOlderSessions`` (AWS IAM User Guide, *Revoke IAM role
    temporary security credentials*): deny everything to sessions issued before ``quarantined_at``."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Action": ["*"],
                "Resource": ["*"],
                "Condition": {"DateLessThan": {"aws:TokenIssueTime": token_issue_time(quarantined_at)}},
            }
        ],
    }


def role_name(role_arn: str) -> str:
    """The role's name: the last part of its ARN's resource (a path may hold slashes, a name never does)."""
    return role_arn.rsplit("/", 1)[-1]


def role_account(role_arn: str) -> str:
    parts = role_arn.split(":")
    return parts[4] if len(parts) > 5 else ""


def revoke_command(role_arn: str, quarantined_at: datetime) -> str:
    """The exact command that revokes every session of the role issued before the quarantine."""
    document = json.dumps(revoke_policy(quarantined_at), separators=(",", ":"))
    return (
        f"aws iam put-role-policy --role-name {role_name(role_arn)} --policy-name {REVOKE_POLICY_NAME} "
        f"--policy-document '{document}'"
    )


def _hours(delta: timedelta) -> int:
    return int(delta.total_seconds() // 3600)


def _headline(user_name: str, since: str, lookups: Sequence[RegionLookup], sessions: Sequence[Session]) -> str:
    """The first line, which says exactly what was covered: never a bare "none found" (review s14 F3)."""
    looked = ", ".join(lookup.region for lookup in lookups)
    complete = [lookup.region for lookup in lookups if lookup.complete]
    head = f"{PREFIX} of {user_name} (CloudTrail AssumeRole calls since {since}, looked up in {looked} only): "
    if sessions:
        unreadable = sum(1 for session in sessions if expiration_time(session.expires) is None)
        return head + (
            f"{len(sessions)} may still be valid at the quarantine"
            + (f" ({unreadable} with an expiry IAM Warden could not read)" if unreadable else "")
            + "; they stay valid until they expire (the deny-alls do not reach them). IAM Warden does not revoke "
            "them: revoking cuts every session of the role issued before that time, everyone's"
        )
    if not complete:
        return head + "unknown: no region's lookup completed (see below)"
    return head + (
        f"none found in {', '.join(complete)} that is still valid. This is not an all-clear: calls through other "
        "regions' STS endpoints (the SDKs' and CLI's default) were not looked up, and CloudTrail may not have "
        "delivered the latest minutes' calls yet"
    )


def lines(user_name: str, account: str, quarantined_at: datetime, lookups: Sequence[RegionLookup]) -> list[str]:
    """What the alert says: the sessions found (at most ``MAX_LISTED``), one revoke command per role listed, and what
    the lookup could not see. ``quarantined_at``: when the quarantine first held (the revoke commands' cutoff)."""
    sessions = sorted(
        {(s.role_arn, s.session_name, s.issued): s for lookup in lookups for s in lookup.sessions}.values(),
        key=lambda s: (s.issued, s.role_arn),
        reverse=True,  # the latest first: the ones that stay valid longest
    )
    since = token_issue_time(quarantined_at - LOOKBACK)
    said = [_headline(user_name, since, lookups, sessions)]
    listed = sessions[:MAX_LISTED]
    for session in listed:
        expires = (
            session.expires
            if expiration_time(session.expires) is not None
            else f"unknown ({session.expires!r} could not be read)"
            if session.expires
            else "unknown"
        )
        said.append(
            f"{PREFIX}: {session.role_arn} as session {session.session_name!r}, assumed {session.issued} "
            f"(seen in {session.region}), expires {expires}"
        )
    roles: dict[str, None] = dict.fromkeys(session.role_arn for session in listed)
    for role_arn in roles:
        other = role_account(role_arn)
        where = f" in account {other} (the role's account)" if other and other != account else ""
        said.append(
            f"{PREFIX}: to revoke the older sessions of {role_arn}, run{where}: "
            f"{revoke_command(role_arn, quarantined_at)}"
        )
    if roles:
        # Review s14 F4: the cutoff is the quarantine's own time; what came after it is not cut by these commands.
        said.append(
            f"{PREFIX}: these commands cut sessions issued before the quarantine ({token_issue_time(quarantined_at)}); "
            "a session issued after it (while the deny-alls were still taking effect, or chained from a listed "
            "session role to role) is not cut: the console's Revoke active sessions cuts at the moment it is used"
        )
    if len(sessions) > len(listed):
        more_roles = len({s.role_arn for s in sessions} - set(roles))
        said.append(
            f"{PREFIX}: and {len(sessions) - len(listed)} more session(s) not listed"
            + (f", of {more_roles} more role(s) with no command here" if more_roles else "")
            + ": see CloudTrail's Event history for AssumeRole by this user"
        )
    for lookup in lookups:
        if lookup.error is not None:
            said.append(
                f"{PREFIX} in {lookup.region}: unknown (LookupEvents failed: {lookup.error})"
                + ("; the sessions above were read before it failed" if lookup.sessions else "")
            )
        elif lookup.timed_out:
            said.append(
                f"{PREFIX} in {lookup.region}: unknown past what was read (the lookup's time bound ran out before "
                "this region was read through; calls may be missing)"
            )
        elif lookup.truncated:
            said.append(
                f"{PREFIX} in {lookup.region}: the lookup stopped at its page bound; older calls may be missing"
            )
        if lookup.unreadable:
            said.append(f"{PREFIX} in {lookup.region}: {lookup.unreadable} AssumeRole record(s) could not be read")
    said.append(
        f"{PREFIX}: not looked up: AssumeRole calls through other regions' STS endpoints, calls made under an earlier "
        f"name of the user, sessions chained from these (role to role), and calls older than {_hours(LOOKBACK)} h "
        "or not yet delivered by CloudTrail"
    )
    return said


def failed(user_name: str, reason: str) -> list[str]:
    """The one line when the lookup could not run at all (the quarantine stands regardless)."""
    return [f"{PREFIX} of {user_name}: unknown (the CloudTrail lookup failed: {reason})"]


def parse_quarantine_time(now: str) -> datetime | None:
    """A step run's ``now`` (ISO 8601 with offset) as an aware time; None when it is not one."""
    return _parsed_time(now)
