"""What IAM Warden itself recorded, as the judgement may ask it: its own remediations and its snapshots.

Two questions CloudTrail cannot answer decide some verdicts:

* **Did IAM Warden remediate this?** A key set Active again, a quarantine policy deleted: that is a
  "remediation reversed" only if IAM Warden's own remediation (not undone by ``iamwarden undo``) put
  it there. The audit table knows (``PastRemediation``).
* **What was it before?** An event says what a trail's selectors or a role's boundary *became*,
  never what they were. A ``Snapshot`` is the last known good configuration IAM Warden read itself
  (taken by the heartbeat, and only of a good state), so a restore puts back a fact, never a guess.

``Recorded`` is None offline (``iamwarden evaluate``, the backtest): a verdict that needs it says so.
"""

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol, runtime_checkable

from iamwarden.domain.events import instant

#: Snapshot kinds: one trail's settings, selectors and logging state; one principal's permissions boundary;
#: one of IAM Warden's own roles (``{"trust_policy": document, "inline": {name: document}}``); one of its own
#: managed policies as its stack deployed it (``{"default_version": "v3", "document": document}``); one
#: subscription of its alert topic (``{"topic": arn, "attributes": {name: value}}``, the ``SUBSCRIPTION_ATTRIBUTES``
#: it has); one IAM identity provider (OIDC: ``{"type": "oidc", "url", "client_ids", "thumbprints"}``; SAML:
#: ``{"type": "saml", "metadata"}``); one role's trust policy (``{"trust_policy": document}``).
TRAIL = "cloudtrail-trail"
BOUNDARY = "permissions-boundary"
OWN_ROLE = "own-role"
OWN_POLICY = "own-policy"
OWN_SUBSCRIPTION = "own-subscription"
#: The subscription attributes that decide what of the alert topic reaches an endpoint (and how): a filter policy
#: that matches nothing, or its scope moved to a body no alert has, drops every alert; raw delivery, a delivery
#: or redrive policy change what arrives or where failures go.
SUBSCRIPTION_ATTRIBUTES = ("FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "DeliveryPolicy", "RedrivePolicy")
IDENTITY_PROVIDER = "identity-provider"
ROLE_TRUST = "role-trust-policy"
#: The version of one of IAM Warden's Slack secrets that a change the enforcer judged made ``AWSCURRENT``
#: (``{"current_version": id, "tampered": bool, "event_id": id}``): an operator's (or the stack's) change is a version
#: known good; a change judged as tampering marks its version as the intruder's. Kept by the enforcer only (never read
#: live: a read cannot tell whose version it sees), it is the next change's "before": ``PutSecretValue`` does not say
#: which version it replaced.
OWN_SECRET = "own-secret"  # noqa: S105 - a snapshot kind, no credential
#: A customer-managed policy's default version and the versions it had (``{"default_version": "v1", "versions":
#: ["v1", "v2"]}``), as the enforcer read it judging a version event: IAM keeps no record of which version was the
#: default before a new one, so staging an escalation as a non-default version first would otherwise leave it unknown.
POLICY_DEFAULT = "policy-default"
#: What one role, user or group held just then (``{"policies": [managed policy ARNs], "groups": [group names],
#: "inline": {name: document_digest}, "inline_documents": {name: compact JSON}}``; ``groups`` for users only;
#: ``inline`` absent in records kept before it was, ``inline_documents`` likewise, or partial: a name it lacks has a
#: fingerprint only),
#: keyed by its ARN without path (``iam_arn``, as an event names it): the heartbeat takes every principal's from the
#: authorization details it reads, and the enforcer keeps the next one from each attach, membership, inline put or
#: delete, or creation it judges (``whatever_the_verdict``: it is what is there, not what is good). An
#: ``AttachRolePolicy`` of a policy already attached, or ``AddUserToGroup`` of a member, succeeds and says nothing:
#: only a record from before the event says whether it added anything (audit s7 gap 14).
ATTACHMENTS = "attachments"
#: In an ``ATTACHMENTS`` record: each inline policy's whole document as compact JSON text, by name, beside its
#: fingerprint in ``inline``. A put over a different document is then judged on what it added, and what it replaced
#: can be put back. IAM caps a principal's inline policies at 10,240 characters in all for a role, 5,120 for a group
#: and 2,048 for a user (whitespace not counted: IAM and STS quotas, ``RolePolicySizeQuota`` and its kin in
#: ``GetAccountSummary``): far from DynamoDB's 400 KB item. A record without it (kept before) has fingerprints only.
INLINE_DOCUMENTS = "inline_documents"
#: A resource policy as the enforcer last saw a judged event set it (``{"policy": document, "pending": [meanings]}``),
#: keyed by the resource's ARN (a resource with several policies, a Glacier vault's lock policy beside its access
#: policy, keeps each under ``resource_policy_kind(slot)``). ``pending`` holds the meaning (``statement_meaning``) of
#: each statement a remediate-mode finding of that event meant to remove: kept ``whatever_the_verdict`` (it is what
#: is in force, alerted or not), but a statement IAM Warden meant to remove never counts as "already there" when a
#: later change keeps it; after a remediation the record is the document without them. A record of ``{"policy":
#: None}`` says the policy changed in a way the event does not show whole (an ``AddPermission``): no "before" until
#: a whole document is seen again. Only judged CloudTrail events set it, never a tag or anything a caller supplies.
RESOURCE_POLICY = "resource-policy"


def resource_policy_kind(slot: str = "") -> str:
    """The snapshot kind of one policy slot of a resource (``""``: its one policy)."""
    return f"{RESOURCE_POLICY}:{slot}" if slot else RESOURCE_POLICY


def compact_document(document: Any) -> str:
    """A decoded document as the record keeps it: compact JSON, its own key and list order (a restore puts back the
    document as it was written; comparisons go through ``canonical``)."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)  # a \uXXXX escape counts six toward quotas


#: The region's GuardDuty detector as the heartbeat last read it enabled (``{"detector_id", "status": "ENABLED",
#: "finding_publishing_frequency", "features": [{"Name", "Status", "AdditionalConfiguration": [{"Name", "Status"}]}],
#: "data_sources": GetDetector's DataSources, "tags": {key: value}}``), keyed by the detector's ARN: what a deleted
#: detector is re-created with (``guardrails.security_services.RecreateGuardDutyDetector``).
GUARDDUTY_DETECTOR = "guardduty-detector"
#: One customer-managed AWS Config configuration recorder as the heartbeat last read it (``{"recorder": {"name",
#: "roleARN", "recordingGroup", "recordingMode"}, "recording": bool, "delivery_channel": bool}``), keyed by
#: ``arn:<partition>:config:<region>:<account>:configuration-recorder/<name>`` (as the rule names it): what a deleted
#: recorder is put back with (``guardrails.security_services.RestoreConfigurationRecorder``).
CONFIG_RECORDER = "config-recorder"


#: The code one of IAM Warden's own functions runs as its stack deployed it (``{"code_sha256": ..., "source": ...}``,
#: keyed by the function's unqualified ARN): kept by the enforcer from CloudFormation's ``CreateFunction`` or
#: ``UpdateFunctionCode`` of the own stack (``responseElements.codeSha256``), and by the deploy's snapshot when none
#: is kept yet (the first deploy: the enforcer's rules do not exist while its functions are created). The heartbeat
#: compares each function's live ``CodeSha256`` with it (``OwnFunctionCheck``).
OWN_CODE = "own-function-code"
#: That the heartbeat said once that an own function's deployed code is not known yet (``{"said_at": ...}``).
OWN_CODE_UNKNOWN = "own-function-code-unknown"
#: When the heartbeat first saw an own function run code unlike ``OWN_CODE`` (``{"code_sha256", "first_seen"}``):
#: it stops the function only once that difference has lasted past a deploy's delivery time (``CODE_GRACE``).
OWN_CODE_SEEN = "own-function-code-seen"
#: That the heartbeat said once that an own function's URL was put back by an operator's undo
#: (``{"remediation_id"}`` of the undone deletion): it is left alone and not said again.
OWN_URL_APPROVED = "own-function-url-approved"
#: One bucket's, or the account's, S3 Block Public Access configuration as the last successful
#: ``Put``/``Delete{Bucket,Account}PublicAccessBlock`` the enforcer judged left it
#: (``{"configuration": {setting: bool}}``; ``None``: there is none, all four off), keyed by the bucket ARN or
#: ``account_block_arn``. Kept whatever the verdict (it is what is there, not what is good), it is the next call's
#: "before": a call says only what it sets.
PUBLIC_ACCESS_BLOCK = "public-access-block"


class UndoAttempt(NamedTuple):
    """One ``iamwarden undo`` (or Slack undo) of a remediation, as its own undo record says: written ``in_progress``
    before the undo changes anything, then ``undo`` (done) or ``failed``; ``created_at`` stays the time it was first
    written, before its first change (``RemediationExecutor.undo``)."""

    undo_id: str
    status: str  # "in_progress", "undo" (done) or "failed" (adapters.audit.AuditStatus)
    #: Who ran it (the caller's ARN, as STS said it to the CLI); None: not said.
    actor: str | None
    created_at: str
    #: What it restored, as its record says (a done undo of a re-attach says it detached the grant again).
    restored: tuple[str, ...] = ()


class PastRemediation(NamedTuple):
    """One of IAM Warden's own remediations of a resource, as the audit table holds it."""

    remediation_id: str
    rule: str
    status: str  # "remediated", "undone", "failed", ... (adapters.audit.AuditStatus)
    created_at: str
    #: The plan's steps as stored: ``{"action", "target", "parameters", "summary"}``.
    plan: tuple[Mapping[str, Any], ...]
    #: What was done, line by line (empty when nothing was changed).
    done: tuple[str, ...] = ()
    #: The before-state of each step, as captured (which keys were active when a user was quarantined).
    before: tuple[Mapping[str, Any], ...] = ()
    #: The undo that marked it undone (``undo-…``), and who ran that undo as its undo record says (None: no record).
    undone_by: str | None = None
    undo_actor: str | None = None
    #: Every undo record of it, whatever its status (one under way is not yet ``undone_by``), oldest first.
    undos: tuple[UndoAttempt, ...] = ()

    @property
    def in_force(self) -> bool:
        """The remediation changed something and nobody undid it with ``iamwarden undo``."""
        return self.status == "remediated" and bool(self.done)

    def steps(self, action: str) -> tuple[Mapping[str, Any], ...]:
        """The parameters of each step of ``action`` (``deactivate_access_key``)."""
        return tuple(step.get("parameters", {}) for step in self.plan if step.get("action") == action)

    def captured(self, action: str, field: str) -> set[str]:
        """The text values ``field`` that the steps of ``action`` captured in their before-state (a quarantine's
        ``user_id`` or ``role_id``; none for records made before the step captured it)."""
        return {
            str(self.before[index][field])
            for index, step in enumerate(self.plan)
            if step.get("action") == action
            and index < len(self.before)
            and isinstance(self.before[index].get(field), str)
        }


class Snapshot(NamedTuple):
    """The last known good configuration of one resource, read by IAM Warden itself."""

    #: TRAIL, BOUNDARY, OWN_ROLE, OWN_POLICY, OWN_SUBSCRIPTION, OWN_SECRET, IDENTITY_PROVIDER, ROLE_TRUST,
    #: POLICY_DEFAULT, ATTACHMENTS, RESOURCE_POLICY (``resource_policy_kind``), GUARDDUTY_DETECTOR or CONFIG_RECORDER.
    kind: str
    resource_arn: str
    taken_at: str
    data: Mapping[str, Any]
    #: Kept whatever the judged event's verdict: a state the event did not set (a staged, non-default version leaves
    #: the default as it was), or a record that says itself whether it is good (an own secret's version, marked
    #: ``tampered``). Any other observed state is what the change set, kept only from a compliant event.
    whatever_the_verdict: bool = False
    #: Among records of the same instant, which replaces which: a greater rank (an ``ATTACHMENTS`` record the
    #: enforcer kept from more of that second's events) replaces a smaller one; 0 never replaces one of its instant.
    rank: int = 0
    #: The data to keep instead when the enforcer remediated the judged event (what its plan leaves: an inline put's
    #: principal with the previous document put back, or the event's cut or deleted); None: after a remediation
    #: nothing is kept (the record before the event holds again).
    if_remediated: Mapping[str, Any] | None = None
    #: The record this one was derived from (its ``taken_at`` and ``rank``): kept only while that one is still the
    #: stored one. Two enforcer invocations deriving from the same record would otherwise each drop the other's
    #: change (a lost update); the one that finds it replaced marks the stored record ``unusable`` instead.
    base: tuple[str, int] | None = None
    #: A record another write may have left without a change (see ``base``): never a "before" until read again.
    unusable: bool = False
    #: A record of what one call set, where another call of the same instant may have set something else: CloudTrail
    #: times have one-second resolution, so the order inside a second is unknown. When one of the same instant with
    #: other data is stored already, ``keep`` marks it ``unusable`` (neither is known to be the last) instead of
    #: leaving whichever was judged first (review s12 F1).
    ambiguous_within_instant: bool = False

    def taken_before(self, event_time: str) -> bool:
        """Whether the snapshot was taken before ``event_time`` (an event's ISO 8601 time): a snapshot taken after a
        change may already show it, so it does not say what was there before; unreadable times: not before."""
        taken, happened = instant(self.taken_at), instant(event_time)
        return taken is not None and happened is not None and taken < happened


def observed_at(event_time: str) -> str:
    """An event's time as snapshots record theirs (ISO 8601, UTC, milliseconds), so the newest compares greatest;
    an unreadable time is kept as it is."""
    moment = instant(event_time)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds") if moment is not None else event_time


def no_later_than(snapshot: Snapshot, now: datetime) -> Snapshot:
    """``snapshot`` dated no later than ``now``: a kept state is never newer than the moment it was kept, so a
    record dated ahead (a skewed clock within the allowed few minutes) cannot outlast the next real one. A date
    that does not read (a forged event's ``eventTime`` of "zzzz" or "") is dated ``now`` too: kept as it is, it
    would compare greater than every real one (the audit table orders ``taken_at`` as text) and outlast them all,
    and as no one's "before" (``taken_before``) it would leave every later restore alert-only."""
    taken = instant(snapshot.taken_at)
    if taken is not None and taken <= now:
        return snapshot
    return snapshot._replace(taken_at=observed_at(now.isoformat()))


class Recorded(Protocol):
    """What the audit table holds (live in the enforcer; None offline)."""

    def remediations(self, resource_arn: str) -> Sequence[PastRemediation]:
        """IAM Warden's remediations of ``resource_arn``, oldest first."""
        ...

    def snapshot(self, kind: str, resource_arn: str) -> Snapshot | None:
        """The last known good ``kind`` of ``resource_arn``, or None when none was ever taken."""
        ...


@runtime_checkable
class KeepsSnapshots(Protocol):
    """A record that also keeps what the enforcer saw an event set (the audit table, live)."""

    def keep(self, snapshot: Snapshot) -> bool:
        """Store ``snapshot`` unless one taken later, or of its instant and no smaller ``rank``, is stored already;
        whether it was stored."""
        ...


@runtime_checkable
class FillsSnapshots(Protocol):
    """A record the heartbeat may fill where it has a gap, never replacing one the enforcer kept (the audit table)."""

    def fill(self, snapshot: Snapshot, replaceable: Callable[[Snapshot], bool]) -> bool:
        """Store ``snapshot`` where none is stored, or where the stored one is ``replaceable``; whether it was."""
        ...


def in_force(
    remediations: Iterable[PastRemediation],
    action: str | None = None,
    where: Callable[[Mapping[str, Any]], bool] | None = None,
    *,
    counts: Callable[[PastRemediation], bool] | None = None,
) -> list[PastRemediation]:
    """IAM Warden's remediations still in force (``PastRemediation.in_force``, or what ``counts`` says counts as in
    force: one marked undone without an excuse, for judging a reversal), in their order; with ``action``, only those
    with a step of it (whose parameters ``where`` accepts, when given)."""
    holds = counts or (lambda past: past.in_force)
    return [
        past
        for past in remediations
        if holds(past) and (action is None or any(where is None or where(step) for step in past.steps(action)))
    ]
