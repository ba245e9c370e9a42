"""Role sessions a quarantined user assumed before its quarantine: read from CloudTrail, said in the alert (issue 15).

The deny-alls bind the user's own keys and the sessions it got from ``GetSessionToken``/``GetFederationToken``
(permissions are checked per request), not the role sessions it assumed: those stay valid until they expire (an
``AssumeRole`` session lasts at most 12 hours). IAM Warden never revokes them itself: AWS's "Revoke active sessions"
(an inline ``AWSRevokeOlderSessions`` policy denying ``*`` to sessions whose ``aws:TokenIssueTime`` is older) cuts
off *every* session of the role issued before that time, everyone's, so it is not proportional. The alert lists what
CloudTrail shows and the exact command per role, and says what it could not see.

Pure: reads parsed ``LookupEvents`` answers (``adapters.session_lookup`` makes the calls).

Record shape (``CloudTrailEvent`` is the record as a JSON string: CloudTrail API reference, ``Event``: "A JSON
string that contains a representation of the event returned"; an ``AssumeRole`` record carries
``requestParameters.roleArn``/``roleSessionName`` and ``responseElements.credentials.expiration``: CloudTrail user
guide, *AWS STS API calls* examples, and a published record, gist.github.com/jmelloy/82f70d872be47b775ac28e7a225f5049).
"""

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal, NamedTuple

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


def _parsed_time(value: object) -> datetime | None:
    """An ISO 8601 time (CloudTrail's ``2026-12-06T01:00:00Z``, or STS's ``Dec 6, 2026, 1:00:00 PM``: None)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def session_of(
    cloudtrail_event: object, region: str, user_name: str, quarantined_at: datetime
) -> Session | Literal["unreadable"] | None:
    """The session one ``LookupEvents`` entry's ``CloudTrailEvent`` shows the user assumed.

    None: the record is no session of this user that may still be valid (a failed call, another caller, another
    event, expired before the quarantine). ``UNREADABLE``: the record could not be read (not JSON, no role ARN)."""
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
    request = record.get("requestParameters")
    request = request if isinstance(request, dict) else {}
    role_arn, session_name = request.get("roleArn"), request.get("roleSessionName")
    if not isinstance(role_arn, str) or ":role/" not in role_arn:
        return UNREADABLE
    response = record.get("responseElements")
    credentials = response.get("credentials") if isinstance(response, dict) else None
    expiration = credentials.get("expiration") if isinstance(credentials, dict) else None
    expires = _parsed_time(expiration)
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


def lines(user_name: str, account: str, quarantined_at: datetime, lookups: Sequence[RegionLookup]) -> list[str]:
    """What the alert says: each session found, one revoke command per role, and what the lookup could not see."""
    regions = ", ".join(lookup.region for lookup in lookups)
    sessions = sorted(
        {(s.role_arn, s.session_name, s.issued): s for lookup in lookups for s in lookup.sessions}.values(),
        key=lambda s: (s.issued, s.role_arn),
    )
    since = token_issue_time(quarantined_at - LOOKBACK)
    said = [
        f"{PREFIX} of {user_name} (CloudTrail AssumeRole calls since {since} in {regions}): "
        + (
            f"{len(sessions)} still valid at the quarantine; they stay valid until they expire (the deny-alls do "
            "not reach them). IAM Warden does not revoke them: revoking cuts every session of the role issued before "
            "that time, everyone's"
            if sessions
            else "none found that is still valid"
        )
    ]
    for session in sessions:
        said.append(
            f"{PREFIX}: {session.role_arn} as session {session.session_name!r}, assumed {session.issued} "
            f"(seen in {session.region}), expires {session.expires or 'unknown'}"
        )
    roles: dict[str, None] = dict.fromkeys(session.role_arn for session in sessions)
    for role_arn in roles:
        other = role_account(role_arn)
        where = f" in account {other} (the role's account)" if other and other != account else ""
        said.append(
            f"{PREFIX}: to revoke the older sessions of {role_arn}, run{where}: "
            f"{revoke_command(role_arn, quarantined_at)}"
        )
    for lookup in lookups:
        if lookup.error is not None:
            said.append(
                f"{PREFIX} in {lookup.region}: unknown (LookupEvents failed: {lookup.error})"
                + ("; the sessions above were read before it failed" if lookup.sessions else "")
            )
        elif lookup.truncated:
            said.append(
                f"{PREFIX} in {lookup.region}: the lookup stopped at its page bound; older calls may be missing"
            )
        if lookup.unreadable:
            said.append(f"{PREFIX} in {lookup.region}: {lookup.unreadable} AssumeRole record(s) could not be read")
    said.append(
        f"{PREFIX}: not looked up: AssumeRole calls to other regions' STS endpoints, and calls older than "
        f"{int(LOOKBACK.total_seconds() // 3600)} h or not yet delivered by CloudTrail"
    )
    return said


def failed(user_name: str, reason: str) -> list[str]:
    """The one line when the lookup could not run at all (the quarantine stands regardless)."""
    return [f"{PREFIX} of {user_name}: unknown (the CloudTrail lookup failed: {reason})"]


def parse_quarantine_time(now: str) -> datetime | None:
    """A step run's ``now`` (ISO 8601 with offset) as an aware time; None when it is not one."""
    return _parsed_time(now)
