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

#: Roles listed at most, one line each with its revoke command (review s14 F6, review s15 F1: per role, not per
#: session, so later sessions of one role never push another role out); the rest are named, bounded.
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
#: Where a session's role is read: AWS's own ARN of the session (``arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION``,
#: STS API reference, ``AssumeRole``, ``AssumedRoleUser``), else the caller's ``requestParameters.roleArn``.
ASSUMED_ROLE_USER = "responseElements.assumedRoleUser.arn"
ROLE_ARN = "requestParameters.roleArn"
#: What every line saying a lookup's result is unknown or incomplete holds, and no other line (a retried
#: remediation looks up again when its earlier block holds it: review s15 F4).
UNKNOWN = ": unknown"
#: How the last line of a whole block starts (a block without it was cut short).
NOT_LOOKED_UP = f"{PREFIX}: not looked up: "
#: How a block looked up again by a retried remediation marks its every line (review s15 F4).
AGAIN = " (looked up again at "
#: Role names listed past ``MAX_LISTED`` roles, in characters at most (review s15 F1).
MORE_NAMES_CHARS = 1000


class Session(NamedTuple):
    """One role session the user assumed: which role, under what name, when, until when, seen in which region."""

    role_arn: str
    session_name: str
    issued: str
    expires: str | None
    region: str
    #: Where the role and session name were read (review s15 F6): ``ASSUMED_ROLE_USER`` (written by AWS) or, when a
    #: record has none, ``ROLE_ARN`` (the caller's own text).
    read_from: str = "responseElements.assumedRoleUser.arn"


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
    response = record.get("responseElements")
    assumed = response.get("assumedRoleUser") if isinstance(response, dict) else None
    from_aws = _role_of_session(assumed.get("arn") if isinstance(assumed, dict) else None)
    role_arn: object
    session_name: object
    if from_aws is not None:
        (role_arn, session_name), read_from = from_aws, ASSUMED_ROLE_USER
    else:  # no AWS-written session ARN: the caller's own text, said so
        request = record.get("requestParameters")
        request = request if isinstance(request, dict) else {}
        role_arn, session_name, read_from = request.get("roleArn"), request.get("roleSessionName"), ROLE_ARN
    if not isinstance(role_arn, str) or ":role/" not in role_arn:
        return UNREADABLE
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
        read_from,
    )


def _role_of_session(value: object) -> tuple[str, str] | None:
    """The role's ARN (without its path, which the session's ARN does not carry) and the session's name, from AWS's
    ``arn:PARTITION:sts::ACCOUNT:assumed-role/NAME/SESSION``; None when ``value`` is not one."""
    if not isinstance(value, str):
        return None
    parts = value.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "sts" or not parts[4]:
        return None
    kind, _, rest = parts[5].partition("/")
    name, _, session = rest.partition("/")
    if kind != "assumed-role" or not name or not session:
        return None
    return f"arn:{parts[1]}:iam::{parts[4]}:role/{name}", session


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
        return head.removesuffix(": ") + f"{UNKNOWN}: no region's lookup completed (see below)"
    return head + (
        f"none found in {', '.join(complete)} that is still valid. This is not an all-clear: calls through other "
        "regions' STS endpoints (the SDKs' and CLI's default) were not looked up, and CloudTrail may not have "
        "delivered the latest minutes' calls yet"
    )


def code(value: str) -> str:
    """``value`` as a code span, the alerts' light markup (``alerts.message`` uses this one; the domain cannot import
    alerts): Slack shows a command's ``*`` and ``_`` as typed, and a backtick inside cannot end the span early."""
    return "`" + value.replace("`", "'").replace("\n", " ") + "`"


class _Role(NamedTuple):
    """What the alert says of one role: its sessions, the latest first."""

    role_arn: str
    sessions: tuple[Session, ...]


def _roles(sessions: Sequence[Session], account: str) -> list[_Role]:
    """The roles the sessions are of: this account's first (the ones a responder here can revoke), then the others;
    in each, the role with the latest session first."""
    by_role: dict[str, list[Session]] = {}
    for session in sorted(sessions, key=lambda s: (s.issued, s.session_name), reverse=True):
        by_role.setdefault(session.role_arn, []).append(session)
    roles = [_Role(arn, tuple(found)) for arn, found in by_role.items()]
    return sorted(roles, key=lambda role: role_account(role.role_arn) != account)  # stable: latest first kept


def _role_line(role: _Role, account: str, quarantined_at: datetime) -> str:
    latest = role.sessions[0]
    readable = [at for at in (expiration_time(s.expires) for s in role.sessions) if at is not None]
    unread = len(role.sessions) - len(readable)
    raw = next((s.expires for s in role.sessions if s.expires and expiration_time(s.expires) is None), None)
    expires = (
        f"the last expires {max(readable).strftime('%Y-%m-%dT%H:%M:%SZ')}"
        if readable
        else "expiry unknown" + (f" ({code(raw)} could not be read)" if raw else "")
    ) + (f" ({unread} with an expiry IAM Warden could not read)" if unread and readable else "")
    other = role_account(role.role_arn)
    mine = not other or other == account
    regions = ", ".join(dict.fromkeys(s.region for s in role.sessions))
    told = (
        f"; role as the caller wrote it ({ROLE_ARN}: the record has no {ASSUMED_ROLE_USER})"
        if any(s.read_from == ROLE_ARN for s in role.sessions)
        else ""
    )
    return (
        f"{PREFIX}: {code(role.role_arn)}{'' if mine else f' (account {other})'}: {len(role.sessions)} session(s), "
        f"the latest {code(latest.session_name)} assumed {latest.issued} (seen in {regions}), {expires}{told}; "
        f"to revoke its sessions issued before the quarantine, run{'' if mine else f' in account {other}'}: "
        f"{code(revoke_command(role.role_arn, quarantined_at))}"
    )


def _more_roles(rest: Sequence[_Role]) -> str:
    """The roles past ``MAX_LISTED``, named (bounded to ``MORE_NAMES_CHARS``) so none is hidden (review s15 F1)."""
    named: list[str] = []
    room = MORE_NAMES_CHARS
    for role in rest:
        quoted = code(role.role_arn)
        if len(quoted) + 2 > room:
            break
        named.append(quoted)
        room -= len(quoted) + 2
    unnamed = len(rest) - len(named)
    sessions = sum(len(role.sessions) for role in rest)
    return (
        f"{PREFIX}: and {len(rest)} more role(s) ({sessions} session(s)) with no command here: {', '.join(named)}"
        + (f" and {unnamed} more not named" if unnamed else "")
        + "; see CloudTrail's Event history for AssumeRole by this user"
    )


def lines(user_name: str, account: str, quarantined_at: datetime, lookups: Sequence[RegionLookup]) -> list[str]:
    """What the alert says, what could not be seen first (review s15 F3: a channel that cuts keeps the caveats): the
    headline, each region's unknowns, what was not looked up, the cutoff; then one line per role (at most
    ``MAX_LISTED``, this account's first) with its revoke command, and the roles past the bound named.
    ``quarantined_at``: when the quarantine first held (the revoke commands' cutoff)."""
    sessions = list({(s.role_arn, s.session_name, s.issued): s for lookup in lookups for s in lookup.sessions}.values())
    roles = _roles(sessions, account)
    since = token_issue_time(quarantined_at - LOOKBACK)
    said = [_headline(user_name, since, lookups, sessions)]
    for lookup in lookups:
        if lookup.error is not None:
            said.append(
                f"{PREFIX} in {lookup.region}{UNKNOWN} (LookupEvents failed: {lookup.error})"
                + ("; the sessions below were read before it failed" if lookup.sessions else "")
            )
        elif lookup.timed_out:
            said.append(
                f"{PREFIX} in {lookup.region}{UNKNOWN} past what was read (the lookup's time bound ran out before "
                "this region was read through; calls may be missing)"
            )
        elif lookup.truncated:
            said.append(
                f"{PREFIX} in {lookup.region}: the lookup stopped at its page bound; older calls may be missing"
            )
        if lookup.unreadable:
            said.append(f"{PREFIX} in {lookup.region}: {lookup.unreadable} AssumeRole record(s) could not be read")
    said.append(
        f"{NOT_LOOKED_UP}AssumeRole calls through other regions' STS endpoints, calls made under an earlier "
        f"name of the user, sessions chained from these (role to role), and calls older than {_hours(LOOKBACK)} h "
        "or not yet delivered by CloudTrail"
    )
    if roles:
        # Review s14 F4: the cutoff is the quarantine's own time; what came after it is not cut by these commands.
        said.append(
            f"{PREFIX}: these commands cut sessions issued before the quarantine ({token_issue_time(quarantined_at)}); "
            "a session issued after it (while the deny-alls were still taking effect, or chained from a listed "
            "session role to role) is not cut: the console's Revoke active sessions cuts at the moment it is used"
        )
    said.extend(_role_line(role, account, quarantined_at) for role in roles[:MAX_LISTED])
    if len(roles) > MAX_LISTED:
        said.append(_more_roles(roles[MAX_LISTED:]))
    return said


def looked_up_again(block: Sequence[str], at: str) -> list[str]:
    """A block a retried remediation looked up again (the earlier one was incomplete): every line marked with its
    time, so no line repeats an earlier one and a reader tells the blocks apart (review s15 F4)."""
    return [f"{PREFIX}{AGAIN}{at}){line[len(PREFIX) :]}" for line in block]


def latest_block(done: Sequence[str]) -> list[str]:
    """The lines of the latest block in ``done`` (the one the alert shows): those marked as the last one is."""
    own = [line for line in done if line.startswith(PREFIX)]
    if not own:
        return []
    mark = _mark(own[-1])
    return [line for line in own if _mark(line) == mark]


def complete_block(done: Sequence[str]) -> bool:
    """Whether ``done`` holds a whole block with nothing unknown: then a retry does not look up again."""
    return _complete(latest_block(done))


def _complete(block: Sequence[str]) -> bool:
    return (
        bool(block)
        and not any(UNKNOWN in line for line in block)
        and any(line.replace(_mark(line), PREFIX, 1).startswith(NOT_LOOKED_UP) for line in block)
    )


def shown_block(done: Sequence[str]) -> list[str]:
    """The block an alert shows: the latest when it is complete; otherwise the one that names the most roles (the
    latest of those), so a retry whose lookup did worse never hides a role an earlier lookup found (review2
    sessions-s15 R1). The record keeps every block."""
    own = [line for line in done if line.startswith(PREFIX)]
    blocks = [[line for line in own if _mark(line) == mark] for mark in dict.fromkeys(map(_mark, own))]
    if not blocks:
        return []
    if _complete(blocks[-1]):
        return blocks[-1]
    return max(reversed(blocks), key=lambda block: sum(REVOKE_POLICY_NAME in line for line in block))


def _mark(line: str) -> str:
    """``PREFIX``, or ``PREFIX (looked up again at T)`` on a block looked up again."""
    if line.startswith(PREFIX + AGAIN):
        end = line.find(")", len(PREFIX + AGAIN))
        return line[: end + 1] if end != -1 else PREFIX
    return PREFIX


def failed(user_name: str, reason: str) -> list[str]:
    """The one line when the lookup could not run at all (the quarantine stands regardless)."""
    return [f"{PREFIX} of {user_name}{UNKNOWN} (the CloudTrail lookup failed: {reason})"]


def parse_quarantine_time(now: str) -> datetime | None:
    """A step run's ``now`` (ISO 8601 with offset) as an aware time; None when it is not one."""
    return _parsed_time(now)
