"""The resource-policy guardrail: one path for every policy attached to a resource (buckets today).

A resource policy (a bucket policy; later a queue, topic, key or function
policy) is judged statement by statement with the exposure analysis
(``iamwarden.domain.exposure``): a statement that lets in everyone is a finding
of the ``public`` rule, one that lets in accounts outside the trusted boundary
a finding of the ``cross_account`` rule. Each finding names exactly the
offending statements (by position and Sid, with their JSON), and its plan
removes those and nothing else.

Every resource-policy rule judges with the change's circumstances (``RuleContext.circumstances``: its
Region and time, and the live owner lookup of VPC endpoints and VPCs), so what the analysis knows applies
to each of them alike. A document whose every statement is a Deny is never a finding. A statement whose
verdict rests on a fact that could not be learned (who owns a network, which account a service acts for)
is never removed: when the finding also holds certain statements, the plan removes only those and the
reason names the rest; when it holds none, the finding carries ``needs_context`` and is only alerted.

The remediation reads the live document through a ``PolicyEndpoint`` (get, put,
delete, the error codes that mean "no policy" and "no resource", the IAM action
each call needs), removes the offending statements by meaning (``statement_meaning``: a
service may store a bare account id as its root ARN, or an action in another case), puts the rest
back (deletes the policy when nothing remains), and on undo puts the removed
statements back into the *current* document, refusing when a Sid is taken.

A new resource-policy guardrail is two rule specs, a ``PolicyResource``
(where the event names the resource and its policy, and how to say it) and an
endpoint; ``bucket_policy`` is the example. A resource whose events name it or
carry its policy elsewhere (a queue URL, a policy among other attributes) or
only as the pieces of one statement (an ``AddPermission`` call: accounts,
actions and a label) subclasses ``ResourcePolicyRule`` and overrides
``resource_name``, ``resource_arn`` or ``new_policy``; ``sqs_queue_policy``
and ``sns_topic_policy`` are the examples. A statement that AWS writes from such
pieces is matched by its Sid (``match: sid`` in the plan), because AWS chooses
its exact spelling; a policy's Sids are unique, so that is still exact. Where
IAM Warden knows the rendering (SQS and SNS ``AddPermission``: ``label_match``
``LABEL_MATCH``), by its Sid and its meaning, both: another statement granting
the same (an operator's accepted one) and the label holding another grant by the
time the remediation runs (re-added differently) are left in place and said.
"""

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any, NamedTuple, Protocol

from iamwarden.adapters.errors import TransientAwsError, error_code
from iamwarden.domain.catalog import Mode, OptionSpec, RuleSpec, Severity
from iamwarden.domain.documents import PolicyKind, load_policy
from iamwarden.domain.events import instant
from iamwarden.domain.exceptions import InvalidEventError, RemediationError, UndoError
from iamwarden.domain.exposure import ACCOUNT_ID, Circumstances, Exposure, TrustBoundary, fresh_exposure
from iamwarden.domain.findings import Finding, RemediationStep, StepAction
from iamwarden.domain.judged import judged_once
from iamwarden.domain.lockout import Lockout, Remediator, lockout, lockout_flag, lockout_remedy, remediator
from iamwarden.domain.policy import Policy, Statement
from iamwarden.domain.recorded import Recorded, Snapshot, observed_at, resource_policy_kind
from iamwarden.domain.statement_meaning import judged_entries, same_statement, statement_meaning, still_granted
from iamwarden.guardrails.base import Evaluation, RuleContext
from iamwarden.guardrails.remediation import (
    AccountClients,
    Permissions,
    RemediationAction,
    StepRun,
    restore_statements,
    statement_list,
    statement_reference,
)

#: The option of a restorable rule (the same spelling and default as Block Public Access's): how old a record of the
#: policy may be for its older statement to be put back in place of a widened one (review s13 R4).
RECORD_MAX_AGE = "record_max_age_days"
RECORD_MAX_AGE_OPTION = OptionSpec(
    "choice",
    "30",
    "how many days IAM Warden trusts its record of the policy to put an older statement back in place of a wider one "
    "under its Sid; with an older record the wider statement is removed outright (the older one may have been changed "
    "or revoked while the rule was off, or by a call IAM Warden did not judge)",
    ("7", "30", "90", "365"),
)


class PolicyEndpoint(Protocol):
    """Where a resource's policy lives: read, write and delete it, and what each call needs.

    ``get_permission``, ``put_permission`` and ``delete_permission`` are the IAM actions behind
    ``get``, ``put`` and ``delete`` (they may be the same action). An error of ``get`` whose code is in
    ``no_policy_codes``, or ``get`` returning None, means the resource has no policy; an error code in
    ``no_resource_codes`` means the resource itself is gone. ``delete`` removes the policy, or, for a
    resource that must have one (a KMS key, an SNS topic), puts the resource's default policy back.
    """

    @property
    def get_permission(self) -> str: ...

    @property
    def put_permission(self) -> str: ...

    @property
    def delete_permission(self) -> str: ...

    @property
    def no_policy_codes(self) -> frozenset[str]: ...

    @property
    def no_resource_codes(self) -> frozenset[str]: ...

    def get(self, aws: AccountClients, name: str) -> str | None:
        """The policy text of resource ``name`` (None: it has none)."""
        ...

    def put(self, aws: AccountClients, name: str, policy: str) -> None: ...

    def delete(self, aws: AccountClients, name: str) -> None: ...


class PolicyResource(NamedTuple):
    """What a resource-policy guardrail guards: where its events name it and its policy, and how to say it."""

    #: How people name the resource: "bucket" (as in "the policy of bucket acme-media").
    noun: str
    #: The request parameters naming the resource and holding its new policy (``bucketName``, ``bucketPolicy``).
    name_parameter: str
    document_parameter: str
    kind: PolicyKind
    #: The resource's ARN from (partition, region, account, name).
    arn: Callable[[str, str, str, str], str]
    #: The plan step parameter naming the resource (``bucket``): the audit trail and the JSON output show it.
    step_parameter: str
    #: The resource type in a CloudTrail record's ``resources`` (whose ``accountId`` is the resource's owner).
    resource_type: str
    #: The action pattern that means "everything on this service" (``s3:*``) and plain verbs for what a
    #: statement lets someone do, checked in order: ``(("s3:GetObject", "read objects"), ...)``.
    service_wildcard: str
    verbs: tuple[tuple[str, str], ...]


class RemovePolicyStatements:
    """Remove exactly the offending statements from the live resource policy; keep everything else. Undoable."""

    undoable = True
    #: Whether ``apply`` can put back the older statement a widened one replaced (a whole-document write); an action
    #: that removes statements one by one (an event bus's RemovePermission) cannot, so no restore is planned for it.
    puts_back = True

    def __init__(self, name: str, resource: PolicyResource, endpoint: PolicyEndpoint) -> None:
        self.resource = resource
        self.endpoint = endpoint
        self.permissions: Permissions = tuple(
            dict.fromkeys((endpoint.get_permission, endpoint.put_permission, endpoint.delete_permission))
        )
        self.action = StepAction(name, self.permissions)
        self.undo_permissions: Permissions = tuple(dict.fromkeys((endpoint.get_permission, endpoint.put_permission)))

    def _live(self, aws: AccountClients, name: str) -> tuple[bool, str | None]:
        """(the resource exists, its policy text or None)."""
        try:
            return True, self.endpoint.get(aws, name) or None
        except Exception as exc:
            code = error_code(exc)
            if code in self.endpoint.no_policy_codes:
                return True, None
            if code in self.endpoint.no_resource_codes:
                return False, None
            raise

    def _where(self, name: str) -> str:
        return f"the policy of {self.resource.noun} {name}"

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        name = step.parameters[self.resource.step_parameter]
        exists, policy = self._live(aws, name)
        if policy is None and step.parameters.get("policy_expected"):
            # The resource was created with this policy a moment ago, and the service's reads are eventually
            # consistent (DynamoDB: a read right after CreateTable may answer "no policy" or "no such table"):
            # "nothing to remove" would report a remediation that removed nothing. Read again later.
            raise TransientAwsError(
                f"{self._where(name)} reads as {'no policy' if exists else 'no such resource'} right after the call "
                "that created it with one: read again later",
                code="NotYetReadable",
                resource=name,
            )
        return {"exists": exists, "policy": policy}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if before["policy"] is None:
            return  # no policy (or no resource) any more: nothing to remove
        name = step.parameters[self.resource.step_parameter]
        document = json.loads(before["policy"])
        statements = statement_list(document)
        restores = _restores(step)
        recorded_at = _restored_at(step)
        remaining: list[Any] = []
        put_back: list[Any] = []
        notes: list[str] = []
        for statement in statements:
            if not statement_offends(statement, step):
                remaining.append(statement)
                notes.extend(label_notes(statement, step, self._where(name)))
                continue
            older = restores.get(statement_meaning(statement))
            if (
                older is not None
                and not any(same_statement(older, kept) for kept in remaining + statements)
                and not _sid_taken(older, [s for s in statements if not statement_offends(s, step)])
            ):
                remaining.append(older)  # the older, narrower grant this call replaced: in force and judged compliant
                put_back.append(older)
        removed = len(statements) - len(remaining) + len(put_back)
        references = step.parameters["statements"]
        # A statement granting exactly what a labelled reference added, under another label, and left (an operator
        # accepted it: ``statement_offends``) is not the change's: named in ``notes``, no reason to call the cut a
        # failure. Any other statement still letting the outsider in makes it one ("needs a person").
        judged = [s for s in remaining if not _same_grant_other_label(s, step)]
        left = still_granted(judged, references, run.aws.account)
        if not removed:
            # Nothing matched: a live statement granting the same under the event's key tests, a value stored in
            # another spelling (review R2b), still holds the finding's exposure.
            left = left or still_granted(judged, references, run.aws.account, any_values=True)
            if left:  # the grant is live in a spelling or statement that is not the event's: never "already safe"
                done.extend(notes)
                raise RemediationError(unmatched_grant(self._where(name), left, "no statement matches the event's"))
            done.extend(notes)  # a label now holding another grant: said, never touched
            return  # a later policy no longer has them: never touch it
        if remaining:
            document["Statement"] = remaining
            self.endpoint.put(run.aws, name, json.dumps(document))
            done.append(
                f"removed {removed} statement(s) from {self._where(name)}; kept {len(remaining) - len(put_back)}"
            )
            done.extend(
                f"restored {_recorded_label(older)} as IAM Warden last recorded it"
                f"{f' at {at}' if (at := recorded_at.get(statement_meaning(older))) else ''} into {self._where(name)}"
                for older in put_back
            )
        else:
            self.endpoint.delete(run.aws, name)
            done.append(f"deleted {self._where(name)}: every statement in it was offending")
        done.extend(notes)
        if left:
            raise RemediationError(
                unmatched_grant(self._where(name), left, "other statements than the event's grant it")
            )

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        if before["policy"] is None:
            return []
        name = step.parameters[self.resource.step_parameter]
        exists, current_text = self._live(aws, name)
        if not exists:
            raise UndoError(f"{self.resource.noun} {name} no longer exists; its policy cannot be restored")
        before_document = json.loads(before["policy"])
        removed = [s for s in statement_list(before_document) if statement_offends(s, step)]
        if current_text is None:
            document = {key: value for key, value in before_document.items() if key != "Statement"}
            current: list[Any] = []
        else:
            document = json.loads(current_text)
            current = statement_list(document)
        # An older statement the remediation put back in place of the call's goes, and the call's takes its place
        # again: the document is then exactly what the call wrote.
        swapped = 0
        held = statement_list(before_document)
        for statement in removed:
            older = _restores(step).get(statement_meaning(statement))
            if older is not None and any(same_statement(older, s) for s in held):
                continue  # the before-state held it: apply put nothing back, and undo takes nothing out
            at = next((i for i, s in enumerate(current) if older is not None and same_statement(s, older)), None)
            if at is not None and not any(same_statement(s, statement) for s in current):
                current[at] = statement
                swapped += 1
        missing = restore_statements(current, removed, self._where(name))
        if not missing and not swapped:
            return []
        document["Statement"] = current + missing
        self.endpoint.put(aws, name, json.dumps(document))
        return [
            f"restored {len(missing) + swapped} statement(s) into the current policy of {self.resource.noun} {name}"
        ]

    def accepted_after_undo(
        self,
        aws: AccountClients,
        step: RemediationStep,
        before: Mapping[str, Any],
        account: str,
        now: str,
        *,
        recorded: Recorded,
    ) -> Snapshot | None:
        """The policy the undo left, read back live and dated ``now``, with the statements it put back marked
        ``accepted`` (an operator chose to keep them): the next unrelated change counts them as older (named, never
        removed) rather than as re-added. What the record before held as pending and is still there stays pending."""
        if before["policy"] is None:
            return None
        exists, text = self._live(aws, step.parameters[self.resource.step_parameter])
        if not exists:
            return None
        document = json.loads(text) if text is not None else {"Statement": []}
        live = {statement_meaning(s) for s in statement_list(document)}
        put_back = {
            statement_meaning(s) for s in statement_list(json.loads(before["policy"])) if statement_offends(s, step)
        }
        kind, key = resource_policy_kind(), record_key(step.target, account)
        previous = recorded.snapshot(kind, key)
        data = previous.data if previous is not None and not previous.unusable else {}
        known = data.get("policy")
        earlier_accepted = set(data.get("accepted") or ())
        # Only what the previous record held in force, not pending, stays older; every other live statement (the
        # record knew nothing, or it arrived since) was never judged fine: it stays the next change's (pending).
        older = (
            {statement_meaning(s) for s in statement_list(known)} - set(data.get("pending") or ())
            if isinstance(known, Mapping)
            else set()
        )
        accepted = (earlier_accepted | put_back) & live
        pending = live - older - accepted
        # Earlier marks of statements judged offending stay while those statements are live (review 2 N2).
        alerted = (set(data.get("alerted") or ()) & live) | put_back
        return Snapshot(
            kind,
            key,
            now,
            {
                "policy": document,
                "pending": sorted(pending),
                "accepted": sorted(accepted),
                "alerted": sorted(alerted),  # judged offending (accepted by an operator or alerted): never put back
            },
        )


def _derived(previous: Snapshot, document: Mapping[str, Any], taken: str) -> Snapshot:
    """A record derived from ``previous`` by one statement's removal (``RemovePermission``): ``document`` as of
    ``taken``, with the previous record's marks (pending, accepted, alerted) kept for the statements still in it. Kept
    only while ``previous`` is still the stored record (``base``: two derivations from one record would lose one
    change)."""
    live = {statement_meaning(s) for s in statement_list(document)}
    data: dict[str, Any] = {"policy": dict(document), "pending": sorted(set(previous.data.get("pending") or ()) & live)}
    for mark in ("accepted", "alerted"):
        kept = sorted(set(previous.data.get(mark) or ()) & live)
        if kept:
            data[mark] = kept
    return Snapshot(
        previous.kind,
        previous.resource_arn,
        taken,
        data,
        whatever_the_verdict=True,
        base=(previous.taken_at, previous.rank),
    )


def _too_old(context: RuleContext, spec: RuleSpec, taken_at: str) -> str:
    """Why IAM Warden's record of a policy, taken at ``taken_at``, is too old to put a statement of it back ("" when it
    is young enough): older than the rule's ``record_max_age_days`` before the change, or a time that does not read."""
    default = spec.options[RECORD_MAX_AGE].default
    chosen = context.rule(spec.id).options.get(RECORD_MAX_AGE, default)
    days = int(chosen if isinstance(chosen, str) else chosen[0])
    taken, happened = instant(taken_at), instant(context.change.time)
    if taken is not None and happened is not None and happened - taken <= timedelta(days=days):
        return ""
    return (
        f"IAM Warden's record of the policy, taken at {taken_at}, is older than {days} days ({RECORD_MAX_AGE}), and "
        "the statement may have been changed or revoked since, so only the wider statement is removed"
    )


def _restores(step: RemediationStep) -> dict[str, Mapping[str, Any]]:
    """The older statement to put back in place of each offending one (by meaning), where the plan says."""
    return {
        statement_meaning(reference["statement"]): reference["restore"]
        for reference in step.parameters["statements"]
        if isinstance(reference.get("restore"), Mapping)
    }


def _restored_at(step: RemediationStep) -> dict[str, str]:
    """When IAM Warden recorded each older statement the plan puts back (by the older statement's meaning)."""
    return {
        statement_meaning(reference["restore"]): str(reference.get("restore_recorded_at") or "")
        for reference in step.parameters["statements"]
        if isinstance(reference.get("restore"), Mapping)
    }


def _sid_taken(older: Mapping[str, Any], kept: Sequence[Any]) -> bool:
    """Whether a statement kept in the document already holds ``older``'s Sid: putting it back beside it would make a
    policy the service rejects (duplicate Sids), so the removal goes ahead without the restore."""
    sid = older.get("Sid")
    return bool(sid) and any(isinstance(s, Mapping) and s.get("Sid") == sid for s in kept)


def record_key(arn: str, account: str) -> str:
    """Where the record of a resource's policy is kept: its ARN, with the account when the ARN names none (a bucket's
    ``arn:aws:s3:::name``), so a bucket deleted in one account and made again under its name in another starts with
    no record rather than the first one's."""
    parts = arn.split(":")
    return arn if len(parts) > 4 and parts[4] else f"{arn}#{account}"


#: A plan reference matched by its label and its meaning, both (SQS/SNS ``AddPermission``: review s14 F3): the
#: statement the change added is the one under its label that still means what the change wrote, no other.
LABEL_MATCH = "label"
#: The deletions of the resource itself (not of its policy) that yield a same-second tie to a policy state
#: (``_cleared``).
RESOURCE_DELETIONS = frozenset({"DeleteQueue", "DeleteTopic"})
#: Audit statuses (``adapters.audit.AuditStatus``) of a remediation that failed part-way or is under way.
_FAILED, _IN_PROGRESS = "failed", "in_progress"
#: The step parameter listing the meanings of statements an operator accepted (``iamwarden undo``) that grant what a
#: ``LABEL_MATCH`` reference does, under another label: left in place and said, never removed.
ACCEPTED = "accepted"


def statement_offends(statement: Any, step: RemediationStep) -> bool:
    """Whether ``statement`` is one the step removes: the same content, or the Sid of one AWS wrote; a reference
    matched by ``LABEL_MATCH`` when its meaning is the statement's and so is its Sid, or the statement is under another
    Sid and not one an operator accepted (``accepted`` in the plan: kept, review respol-s15 F2; any other grants the
    same outsider the same and goes, as it did before)."""
    meaning = statement_meaning(statement)
    sid = statement.get("Sid") if isinstance(statement, Mapping) else None
    accepted = set(step.parameters.get(ACCEPTED) or ())
    for reference in step.parameters["statements"]:
        if reference.get("match") == LABEL_MATCH:
            if meaning == statement_meaning(reference.get("statement")) and (
                (sid and sid == reference.get("sid")) or (sid != reference.get("sid") and meaning not in accepted)
            ):
                return True
        elif meaning == statement_meaning(reference.get("statement")) or (
            reference.get("match") == "sid" and reference.get("sid") and sid == reference["sid"]
        ):
            return True
    return False


def _same_grant_other_label(statement: Any, step: RemediationStep) -> bool:
    """Whether ``statement`` grants exactly what a ``LABEL_MATCH`` reference added, under another Sid (kept only when
    an operator accepted it: ``statement_offends``)."""
    sid = statement.get("Sid") if isinstance(statement, Mapping) else None
    return any(
        reference.get("match") == LABEL_MATCH
        and sid != reference.get("sid")
        and statement_meaning(statement) == statement_meaning(reference.get("statement"))
        for reference in step.parameters["statements"]
    )


def label_notes(statement: Any, step: RemediationStep, where: str) -> list[str]:
    """Why a statement kept in place is not the one a ``LABEL_MATCH`` reference names, though it looks like it: its
    label now holds another grant (re-added differently since the change), or it grants the same under another label
    (an operator's accepted statement). Empty for any other statement."""
    if not isinstance(statement, Mapping):
        return []
    sid, meaning = statement.get("Sid"), statement_meaning(statement)
    notes = []
    for reference in step.parameters["statements"]:
        if reference.get("match") != LABEL_MATCH or not reference.get("sid"):
            continue
        label = reference["sid"]
        if sid == label:
            notes.append(
                f"left statement {label} of {where} in place: it no longer grants what the change added under that "
                "label (it was changed or added again since)"
            )
        elif meaning == statement_meaning(reference.get("statement")):
            named = f"statement {sid}" if sid else "an unnamed statement"
            notes.append(
                f"left {named} of {where} in place: an operator accepted it (iamwarden undo), and it grants the same "
                f"as label {label} but is not the statement the change added"
            )
    return notes


def _arn_account(arn: str) -> str | None:
    """The account an ARN names (None: it names none, as an S3 bucket's)."""
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 and parts[4] else None


def unmatched_grant(where: str, left: Sequence[tuple[str, Sequence[str]]], why: str) -> str:
    """Why a removal could not make the resource safe: who the live policy still lets in, and where."""
    held = "; ".join(f"{', '.join(grantees)} by {label}" for label, grantees in left)
    return f"{where} still lets in {held}, but {why}: needs a person"


class Earlier(NamedTuple):
    """What of a resource's policy IAM Warden had on record before the change judged (``ResourcePolicyRule._earlier``).

    ``statements`` are the meanings (``statement_meaning``) of the statements then in force, less any IAM Warden
    meant to remove then or removed ever (a statement it remediated before never counts as "already there": an
    attacker adding it again is adding it), unless an operator put it back with ``iamwarden undo`` and it has stayed
    since (``accepted``); ``remediated_sids`` the Sids of statements it removed by Sid; ``older_sids`` the Sids of the
    statements then in force (a changed statement under one of them widens or rewrites an older grant, which its
    removal cuts too); ``gone`` the older statements (in force, judged fine) the change's document no longer holds,
    as recorded; ``changed`` how many of the change's statements the record did not hold.
    """

    taken_at: str
    statements: frozenset[str]
    remediated_sids: frozenset[str] = frozenset()
    older_sids: frozenset[str] = frozenset()
    gone: tuple[Mapping[str, Any], ...] = ()
    changed: int = 0
    accepted: frozenset[str] = frozenset()
    #: The Sids of the change's document.
    sids: frozenset[str] = frozenset()
    #: How many statements of the record (pending and once-remediated ones too) the change's document no longer holds.
    vanished: int = 0
    #: The Sids of recorded statements in force that were judged offending (marked ``alerted``) or offend now: a
    #: statement rewriting one of them cuts a grant that should not be put back by hand as it was (review 2 N3).
    offending_sids: frozenset[str] = frozenset()

    def rewrites(self, statement: Statement) -> bool:
        """Whether ``statement``, not in force before, carries the Sid of one that was (a widened vendor share)."""
        return bool(statement.sid) and statement.sid in self.older_sids and not self.holds(statement)

    def holds(self, statement: Statement) -> bool:
        """Whether ``statement`` was in force before the change (the same meaning, however re-spelt)."""
        return statement_meaning(statement.raw) in self.statements and statement.sid not in self.remediated_sids

    def replaced(self, statement: Statement) -> Mapping[str, Any] | None:
        """The older statement ``statement`` (added by the change) replaced, when that is known: the one of its Sid
        the change's document no longer holds, or else the only older statement gone when ``statement`` is the only
        one the change altered. None when it replaced none, or which one is ambiguous (never a guess). An older
        statement whose Sid another statement of the document (``sids``, less ``statement``'s own) now holds cannot
        go back beside it."""
        if self.holds(statement) or self.vanished != 1 or len(self.gone) != 1:
            return None  # any other statement the change dropped could be the one it replaced: never a guess
        # Same Sid only: a pairing by "the only statement changed" may pair with a statement revoked unseen long ago.
        same_sid = [old for old in self.gone if statement.sid and old.get("Sid") == statement.sid]
        return same_sid[0] if same_sid else None


def _with_pending(snapshot: Snapshot, findings: Sequence[Finding]) -> Snapshot:
    """``snapshot`` marking as ``pending`` every offending statement the change added, unless its finding was judged in
    ``alert`` mode (the operator chose to alert only: the grant is then accepted as in force and may count as older).

    Pending statements stay in the record of what is in force, but never count as older later: whatever else left
    them in place (a break-glass actor, the rule ``off`` while its sibling is on, the breaker, a failure, an unknown
    fact, even beside a certain statement of the same finding) must not make a grant "already there" for good. A
    statement already older stays older. After a remediation the record is the document without the statements the
    plans removed; the ones left in place stay pending."""
    document = snapshot.data.get("policy")
    if not isinstance(document, Mapping):
        return snapshot
    pending = {
        statement_meaning(reference.get("statement"))
        for finding in findings
        if finding.mode is not Mode.ALERT  # remediate (break-glass, uncertain, held or failed too) or off
        for reference in finding.offending
        if not reference.get("older")
    }
    restored = {
        statement_meaning(reference.get("statement")): reference["restore"]
        for finding in findings
        if finding.mode is Mode.REMEDIATE
        for step in finding.plan
        for reference in step.parameters.get("statements", ())
        if isinstance(reference.get("restore"), Mapping)
    }
    removed = {
        statement_meaning(reference.get("statement"))
        for finding in findings
        if finding.mode is Mode.REMEDIATE
        for step in finding.plan
        for reference in step.parameters.get("statements", ())
    }
    pending |= removed
    # Every statement judged offending here and left in force as older (alert mode, or older already): it may count
    # as older later, but was never judged compliant, so it is never put back in place of a wider one.
    alerted = sorted(
        {statement_meaning(reference.get("statement")) for finding in findings for reference in finding.offending}
        - pending
    )
    marked = {"alerted": alerted} if alerted else {}
    if not pending:
        if not marked:
            return snapshot
        remedied = snapshot.if_remediated
        return snapshot._replace(
            data={**snapshot.data, **marked},
            if_remediated={**remedied, **marked} if remedied is not None else None,
        )
    kept = [
        restored.get(meaning, statement) if meaning in restored else statement
        for statement in statement_list(document)
        if (meaning := statement_meaning(statement)) not in removed or meaning in restored
    ]
    return snapshot._replace(
        data={**snapshot.data, "policy": dict(document), "pending": sorted(pending), **marked},
        if_remediated={
            **snapshot.data,
            "policy": {**document, "Statement": kept},
            "pending": sorted(pending - removed),
            **marked,
        },
    )


def _with_accepted(snapshot: Snapshot, earlier: "Earlier | None") -> Snapshot:
    """``snapshot`` still marking as accepted what an operator put back with ``iamwarden undo`` and the document still
    holds, so it stays older at every later change (dropped once gone: a statement added back later is the change's)."""
    document = snapshot.data.get("policy")
    if earlier is None or not earlier.accepted or not isinstance(document, Mapping):
        return snapshot
    accepted = sorted(earlier.accepted & {statement_meaning(s) for s in statement_list(document)})
    if not accepted:
        return snapshot
    remedied = snapshot.if_remediated
    return snapshot._replace(
        data={**snapshot.data, "accepted": accepted},
        if_remediated={**remedied, "accepted": accepted} if remedied is not None else None,
    )


class NewPolicy(NamedTuple):
    """What a change puts into a resource's policy, as the rule judges it."""

    policy: Policy
    #: The statements are AWS's rendering of an ``AddPermission``-style call: match them by Sid, not content.
    by_sid: bool = False


def _each_exposure(
    exposure: Callable[[Statement, TrustBoundary, Circumstances | None], Exposure],
    policy: Policy,
    boundary: TrustBoundary,
    circumstances: Circumstances | None,
) -> tuple[Exposure, ...]:
    """``exposure`` of every statement of ``policy``: what ``ResourcePolicyRule.exposures`` asks ``judged_once``
    to keep (a module function with its inputs as arguments, not a closure over them)."""
    return tuple([exposure(statement, boundary, circumstances) for statement in policy.statements])


class ResourcePolicyRule:
    """A new resource policy letting in the public (``public``) or untrusted accounts (``cross_account``).

    ``resource_name``, ``resource_arn`` and ``new_policy`` read the event; a resource whose events
    say it differently overrides them (the defaults read ``PolicyResource``'s two request parameters).
    ``remediation`` is usually a ``RemovePolicyStatements``; any action taking the same plan (the
    resource under ``step_parameter`` and the statement references) will do: Lambda, which has no call
    that writes a whole policy, removes a statement by its id instead.
    """

    def __init__(
        self,
        public: RuleSpec,
        cross_account: RuleSpec,
        resource: PolicyResource,
        remediation: RemediationAction,
        *,
        deletions: frozenset[str] = frozenset(),
        without_policy: str = "no resource policy grants anyone access any more",
        restorable: bool = False,
    ) -> None:
        self.public, self.cross_account = public, cross_account
        self.specs: tuple[RuleSpec, ...] = (public, cross_account)
        self.resource = resource
        self.remediation = remediation
        #: The events that remove the policy (``DeleteBucketPolicy``), routed by the specs too: each clears the record.
        self.deletions = deletions
        #: What is in force once the policy is removed, said in the compliant line of a removal.
        self.without_policy = without_policy
        #: Whether every way to take a statement out of this resource's policy reaches IAM Warden's record (whole-
        #: document puts, the policy's removal, the resource's deletion): only then can the record's older statement be
        #: put back. A service with an unrouted by-Sid removal (SQS/SNS/Lambda ``RemovePermission``, an access point's
        #: ``DeleteAccessPointPolicy``) may have revoked it unseen, and a restore would re-grant it (review 2 N1).
        self.restorable = restorable
        if restorable and any(RECORD_MAX_AGE not in spec.options for spec in self.specs):
            raise ValueError(f"a restorable rule needs the {RECORD_MAX_AGE} option: {public.id}, {cross_account.id}")

    def evaluate(self, context: RuleContext) -> Evaluation:
        deletion = context.change.event_name in self.deletions
        try:
            name = self.resource_name(context)
            arn = self.resource_arn(context, name)
        except InvalidEventError as exc:
            if not deletion:
                raise
            # A deletion judges nothing: a name IAM Warden does not read (an odd queue URL) clears no record and
            # raises no "could not read" alert (review respol-s15 F5); the record stays as it was, as before.
            evaluation = Evaluation()
            evaluation.compliant.append(f"the change deletes a {self.resource.noun} IAM Warden does not read ({exc})")
            return evaluation
        owner = _arn_account(arn)
        if deletion and owner not in (None, context.change.account):
            # Another account's resource (SNS lets a topic's policy grant DeleteTopic across accounts): not this
            # account's record, and no forged event either (review respol-s15 F4): judged nothing, kept nothing.
            evaluation = Evaluation()
            evaluation.compliant.append(
                f"the change deletes {self.describe(name)} of account {owner}: no policy of this account changes"
            )
            return evaluation
        evaluation = Evaluation(resource_arn=arn)
        where = self.describe(name)
        sid = self.removed_sid(context)
        if sid is not None:
            # A by-Sid removal (RemovePermission) reaches the record: the next change is judged without it.
            kept = self._without(context, arn, sid)
            if kept is not None:
                evaluation.observed.append(kept)
            evaluation.compliant.append(f"the change removes statement {sid} from the policy of {where}")
            return evaluation
        if self.clears(context):
            # The next change is judged against no policy: everything it puts in is its own (issue 13 item 7).
            if context.recorded is not None:
                evaluation.observed.append(self._cleared(context, arn))
            evaluation.compliant.append(f"the change removes the policy of {where}: {self.without_policy}")
            return evaluation
        new = self.new_policy(context)
        if new is None:
            evaluation.compliant.append(f"the change sets no policy on {where}")
            return evaluation
        policy, by_sid = new
        if context.recorded is not None:
            evaluation.observed.append(self._seen(context, arn, policy, by_sid))
        if policy.only_denies:
            evaluation.compliant.append(f"every statement of the policy of {where} is a Deny: it grants nothing")
            return evaluation
        boundary = context.settings.boundary(self._owner(context))
        circumstances = context.circumstances()

        public: list[tuple[Statement, Exposure]] = []
        shared: list[tuple[Statement, Exposure]] = []
        void: list[str] = []
        for statement, exposure in zip(policy.statements, self.exposures(policy, boundary, circumstances), strict=True):
            if exposure.void is not None:
                void.append(f"{statement.label} grants nothing: {exposure.void}")
            elif exposure.public:
                public.append((statement, exposure))
            elif exposure.untrusted or exposure.unbound_services:
                shared.append((statement, exposure))

        def public_reason(acting: list[tuple[Statement, Exposure]], origin: str) -> str:
            return f"Anyone on the internet can {self._abilities(acting)} in {where} ({_labels(acting)} {origin})."

        def shared_reason(acting: list[tuple[Statement, Exposure]], origin: str) -> str:
            sentences = []
            strangers = [(s, e) for s, e in acting if e.untrusted]
            if strangers:
                sentences.append(
                    f"{_capitalised(_join(_outsiders(strangers)))}, which this organisation does not trust, can "
                    f"{self._abilities(strangers)} in {where} ({_labels(strangers)} {origin})."
                )
            deputies = [(s, e) for s, e in acting if e.unbound_services]
            if deputies:
                services = sorted({_service_name(x) for _, e in deputies for x in e.unbound_services})
                sentences.append(
                    f"The service{'s' if len(services) > 1 else ''} {_join(services)}, acting for any account "
                    f"that uses {'it' if len(services) == 1 else 'them'}, can {self._abilities(deputies)} in {where} "
                    f"({_labels(deputies)} {origin}): no aws:SourceAccount or aws:SourceArn "
                    "condition ties the service to this organisation's accounts (the confused deputy)."
                )
            return " ".join(sentences)

        earlier = (
            self._earlier(context, arn, [s for s, _ in public + shared], policy)
            if not by_sid and (public or shared)
            else None
        )
        restores = self._restores(policy, public + shared, earlier, boundary, circumstances)
        accepted = self._accepted_before(context, arn) if by_sid and (public or shared) else frozenset()
        for spec, severity, offending, reason in (
            (self.public, Severity.CRITICAL, public, public_reason),
            (self.cross_account, Severity.HIGH, shared, shared_reason),
        ):
            if offending:
                evaluation.findings.append(
                    self._finding(
                        context,
                        spec=spec,
                        severity=severity,
                        arn=arn,
                        name=name,
                        offending=offending,
                        reason=reason,
                        by_sid=by_sid,
                        earlier=earlier,
                        restores=restores,
                        accepted=accepted,
                    )
                )
        evaluation.findings[:] = self._unless_all_shut_out(context, policy, arn, evaluation.findings)
        if evaluation.observed and evaluation.findings:
            evaluation.observed[-1] = _with_accepted(
                _with_pending(evaluation.observed[-1], evaluation.findings), earlier
            )
        if not evaluation.findings:
            evaluation.compliant.append(
                f"the policy of {where} lets in only the trusted accounts, organisation and AWS services"
                + "".join(f"; {reason}" for reason in void)
            )
        return evaluation

    def _finding(
        self,
        context: RuleContext,
        *,
        spec: RuleSpec,
        severity: Severity,
        arn: str,
        name: str,
        offending: list[tuple[Statement, Exposure]],
        reason: Callable[[list[tuple[Statement, Exposure]], str], str],
        by_sid: bool = False,
        earlier: "Earlier | None" = None,
        restores: Mapping[int, Mapping[str, Any]] | None = None,
        accepted: frozenset[str] = frozenset(),
    ) -> Finding:
        """One finding over the offending statements; what rests on an unknown fact, or was in the policy before the
        change (``earlier``), is never removed ("remove what the change added, no more").

        When some statements the change added are certain, the plan removes those and the reason names the ones left
        in place and why. When none is, the finding needs context: alerted with the plan, never carried out. When the
        change added none of them (each was on record before it), the finding is alerted only, with no plan, at the
        severity the exposure deserves: the editor is not blamed for it, and nobody's older grant is cut by an
        unrelated edit.
        """
        change = context.change
        older = [(s, e) for s, e in offending if earlier is not None and earlier.holds(s)]
        added = [(s, e) for s, e in offending if (s, e) not in older]
        unevaluated = [f"{', '.join(e.unevaluated)} in {s.label}" for s, e in offending if e.unevaluated]
        judged_without = (
            f" Judged without the conditions IAM Warden does not evaluate: {'; '.join(unevaluated)}."
            if unevaluated
            else ""
        )
        since = earlier.taken_at if earlier is not None else ""  # older statements come only from a record
        if not added:
            text = reason(offending, f"of the policy IAM Warden recorded at {since}, before this change")
            text += (
                (" These statements predate" if len(offending) > 1 else " This statement predates")
                + f" the change by {change.actor.display}, which did not add "
                + ("them" if len(offending) > 1 else "it")
                + ": IAM Warden alerts and removes nothing (a remediation removes what the change added, no more)."
            )
            return context.finding(
                spec,
                severity=severity,
                resource_arn=arn,
                reason=text + judged_without,
                plan=[],
                offending=[_offending(s, e) | {"older": True} for s, e in offending],
            )
        certain = [(s, e) for s, e in added if not _facts(s, e)]
        acting = certain or added
        text = reason(acting, f"of the policy set by {change.actor.display}")
        kept = [(s, e) for s, e in added if (s, e) not in certain] if certain else []
        if kept:
            text += (
                f" IAM Warden leaves {_labels(kept)} in place, because it cannot know {'; '.join(_all_facts(kept))}."
            )
        if older:
            text += (
                f" {_capitalised(_labels(older))} of the policy also {'let' if len(older) > 1 else 'lets'} in "
                f"{_join(_grantees_said(older))}, but predate{'' if len(older) > 1 else 's'} this change (in the "
                f"policy IAM Warden recorded at {since}): alerted, never removed."
            )
        elif earlier is None and not self.creates(context) and not by_sid:
            text += (
                f" No earlier record of this policy: all of it counts as this change's, though {_labels(acting)} may "
                "predate it."
            )
        restores = {s.position: old for s, _ in certain if (old := (restores or {}).get(s.position)) is not None}
        stale = _too_old(context, spec, since) if restores else ""
        if stale:
            for position, old in restores.items():
                wider = _labels([(s, e) for s, e in certain if s.position == position])
                text += f" {_capitalised(_recorded_label(old))}, which {wider} replaced, is not put back: {stale}."
            restores = {}
        acts = context.rule(spec.id).mode is Mode.REMEDIATE and not context.alert_only
        for s, _ in acting:
            if s.position in restores:
                was = _recorded_label(restores[s.position])
                text += (
                    f" {_capitalised(s.label)} replaced {was}, which was in force and judged compliant in the policy "
                    f"IAM Warden recorded at {since}, and is compliant now: "
                    + (f"IAM Warden puts back {was}" if acts else f"a remediation would put back {was}")
                    + f" as IAM Warden last recorded it at {since}, so only what this change added goes."
                )
        widened = [
            (s, e) for s, e in acting if earlier is not None and earlier.rewrites(s) and s.position not in restores
        ]
        if widened:
            many = len(widened) > 1
            offended = earlier is not None and all(s.sid in earlier.offending_sids for s, _ in widened)
            text += (
                f" {_capitalised(_labels(widened))} {'change' if many else 'changes'} the statement"
                f"{'s' if many else ''} of the same Sid in the policy IAM Warden recorded at {since}: removing "
                f"{'them' if many else 'it'} cuts that older grant too "
                + (
                    f"(an undo puts back the changed statement; the older one{'s were' if many else ' was'} itself "
                    "offending, so do not put it back as it was)."
                    if offended
                    else "(an undo puts back the changed statement; put the older one back by hand if it is still "
                    "wanted"
                    + (
                        ", unless it was itself offending"
                        if earlier is not None and any(s.sid in earlier.offending_sids for s, _ in widened)
                        else ""
                    )
                    + ")."
                )
            )
        unpaired = [(s, e) for s, e in acting if s.position not in restores and (s, e) not in widened]
        if earlier is not None and earlier.gone and unpaired and len(restores) < len(earlier.gone):
            left = [old for old in earlier.gone if old not in restores.values()]
            text += (
                f" This change also dropped {_join([_recorded_label(old) for old in left])} of the policy IAM Warden "
                f"recorded at {since}, and which statement replaced {'them' if len(left) > 1 else 'it'} is not "
                f"known: if {_labels(unpaired)} widened {'one of them' if len(left) > 1 else 'it'}, removing "
                f"{'them' if len(unpaired) > 1 else 'it'} cuts that older grant too (put it back by hand if it is "
                "still wanted)."
            )
        return context.finding(
            spec,
            severity=severity,
            resource_arn=arn,
            reason=text + judged_without,
            plan=[self._removal(name, arn, acting, by_sid, restores, since=since, accepted=accepted)],
            offending=[
                _offending(s, e)
                | ({"older": True} if (s, e) in older else {})
                | ({"rewrites_older": True} if (s, e) in widened else {})
                | ({"restores": dict(restores[s.position])} if s.position in restores else {})
                for s, e in offending
            ],
            needs_context=() if certain else _all_facts(added),
        )

    def _restores(
        self,
        policy: Policy,
        offending: Sequence[tuple[Statement, Exposure]],
        earlier: "Earlier | None",
        boundary: TrustBoundary,
        circumstances: Circumstances | None,
    ) -> dict[int, Mapping[str, Any]]:
        """The older statement to put back in place of an offending one (by its position), only when that is no guess
        and leaves a compliant policy: the action can write it back, every offending statement of the document is
        the change's and certain (so the plan removes them all), exactly one older statement judged compliant was
        replaced, and the document the plan leaves, with it put back, is judged again by this rule with no offending
        statement. Otherwise none: the offending statement is removed outright, no more."""
        if earlier is None or not self.restorable or not getattr(self.remediation, "puts_back", False):
            return {}
        if any(earlier.holds(s) or _facts(s, e) for s, e in offending):
            return {}
        restores = {s.position: old for s, _ in offending if (old := earlier.replaced(s)) is not None}
        if len(restores) != 1:
            return {}
        positions = {s.position for s, _ in offending}
        kept = [s.raw for s in policy.statements if s.position not in positions]
        olds = list(restores.values())
        if any(_sid_taken(old, kept) for old in olds):
            return {}
        try:
            left = self.decoded({**policy.raw, "Statement": kept + olds}, "the policy the plan leaves")
        except Exception:  # not a document the rule can judge: no restore
            return {}
        for exposure in self.exposures(left, boundary, circumstances):
            if exposure.void is None and (
                exposure.public or exposure.untrusted or exposure.unbound_services or exposure.unknown
            ):
                return {}
        return restores

    def _unless_all_shut_out(
        self, context: RuleContext, policy: Policy, arn: str, findings: Sequence[Finding]
    ) -> list[Finding]:
        """Every finding of the evaluation as it stands when the new policy shuts IAM Warden out (a service whose
        plans together leave one policy, KMS, judges what they leave together)."""
        return [self._unless_shut_out(context, policy, arn, finding) for finding in findings]

    def remedy(self, context: RuleContext, policy: Policy) -> str:
        """Who can still fix ``policy`` when IAM Warden cannot (the manual step an alert gives)."""
        return lockout_remedy(context.change.event_source)

    def _unless_shut_out(self, context: RuleContext, policy: Policy, arn: str, finding: Finding) -> Finding:
        """``finding`` as it stands when the new policy also shuts IAM Warden out of the calls its plan makes (review
        s11 F9): denied for certain, it is critical and carries no plan (one that cannot run would only be retried
        and dead-lettered), with who can still fix it; undecidable, the plan stands with a note, and a refusal of its
        call ends as a final "shut out" alert (``Finding.if_denied``).
        A record flag by which the caller asked AWS to accept a policy shutting itself out is said either way."""
        flag = lockout_flag(context.change.event_source, context.change.event_name, context.change.request_parameters)
        reason = finding.reason + (f" {flag}" if flag else "")
        if not finding.plan:
            return finding._replace(reason=reason)
        remaining = len(policy.statements) - sum(len(step.parameters.get("statements", ())) for step in finding.plan)
        endpoint = getattr(self.remediation, "endpoint", None)
        if endpoint is not None:
            needed: tuple[str, ...] = tuple(
                dict.fromkeys(
                    (endpoint.get_permission, endpoint.put_permission if remaining > 0 else endpoint.delete_permission)
                )
            )
        else:
            needed = tuple(self.remediation.action.permissions)
        who = remediator(context.settings.own, context.change.account, context.partition)
        shut = self.shut_out(context, policy, arn, needed, who)
        if shut.denied:
            return finding._replace(
                severity=Severity.CRITICAL,
                plan=(),
                needs_context=(*finding.needs_context, *shut.denied),
                reason=f"{reason} IAM Warden cannot remove it: {'; '.join(shut.denied)}. "
                + self.remedy(context, policy),
            )
        if shut.unknown:
            # Undecidable is no lockout: an inert Deny must not make every finding alert-only (review s13 F1). The
            # plan stands; a refusal of its call is then final, never retried (``if_denied``).
            return finding._replace(
                reason=f"{reason} Note: {'; '.join(shut.unknown)}.",
                if_denied=f"IAM Warden is shut out of {arn}: {'; '.join(shut.unknown)}. "
                + self.remedy(context, policy),
            )
        return finding._replace(reason=reason)

    def shut_out(
        self, context: RuleContext, policy: Policy, arn: str, actions: Sequence[str], who: Remediator | None
    ) -> Lockout:
        """Which of ``policy``'s statements keep the remediator from calling ``actions`` on the resource (a
        service whose resource policy must also let IAM policies in, KMS, adds that)."""
        return lockout(policy, actions, arn, who)

    def policy_slot(self, context: RuleContext) -> str:
        """Which of the resource's policies the change sets ("": its one policy); a resource with several keeps the
        last seen document of each apart."""
        return ""

    def creates(self, context: RuleContext) -> bool:
        """Whether the change creates the resource with its policy: everything in it is then the change's own."""
        return context.change.event_name.startswith("Create") or context.change.event_name == "ReplicateKey"

    #: How a plan finds the statement a by-Sid change (``NewPolicy.by_sid``) added: ``"sid"`` (by its Sid, or its
    #: meaning) or ``LABEL_MATCH`` (by both: SQS/SNS, whose AddPermission rendering IAM Warden knows).
    label_match: str = "sid"

    def removed_sid(self, context: RuleContext) -> str | None:
        """The Sid a by-Sid removal (SQS/SNS ``RemovePermission``'s ``label``) takes out of the policy; None when the
        change is no such removal."""
        return None

    def _recorded_before(self, context: RuleContext, arn: str) -> tuple[Snapshot, Mapping[str, Any]] | None:
        """The record of the policy from before the change and its document, when it holds one (not unknown, usable,
        taken before the change's second)."""
        if context.recorded is None:
            return None
        kind = resource_policy_kind(self.policy_slot(context))
        previous = context.recorded.snapshot(kind, record_key(arn, context.change.account))
        if previous is None or previous.unusable or not previous.taken_before(context.change.time):
            return None
        document = previous.data.get("policy")
        return (previous, document) if isinstance(document, Mapping) else None

    def _accepted_before(self, context: RuleContext, arn: str) -> frozenset[str]:
        """The meanings the record before the change marks ``accepted`` (put back by an operator's undo)."""
        found = self._recorded_before(context, arn)
        return frozenset(str(m) for m in found[0].data.get("accepted") or ()) if found is not None else frozenset()

    def _without(self, context: RuleContext, arn: str, sid: str) -> Snapshot | None:
        """The record with the statement of Sid ``sid`` taken out, its marks kept for what stays; None (the record left
        alone) when there is no usable record or it holds no statement of that Sid."""
        found = self._recorded_before(context, arn)
        if found is None:
            return None
        previous, document = found
        statements = statement_list(document)
        left = [s for s in statements if not (isinstance(s, Mapping) and s.get("Sid") == sid)]
        if len(left) == len(statements):
            return None
        return _derived(previous, {**document, "Statement": left}, observed_at(context.change.time))

    def clears(self, context: RuleContext) -> bool:
        """Whether the change removes the resource's policy (one of ``deletions``; a service whose removal is a put of
        nothing, SQS's ``Policy`` of "", says so itself)."""
        return context.change.event_name in self.deletions

    def _cleared(self, context: RuleContext, arn: str) -> Snapshot:
        """The record a policy removal leaves: an empty document as of the change, so a later put's statements are all
        its own rather than matched against the policy that was removed."""
        return Snapshot(
            resource_policy_kind(self.policy_slot(context)),
            record_key(arn, context.change.account),
            observed_at(context.change.time),
            {"policy": {"Statement": []}, "pending": []},
            whatever_the_verdict=True,
            # A queue's or topic's deletion never wins a tie of its second with a policy state (a Terraform replace:
            # DeleteTopic and the namesake's put in one second): judged first, the put of that second replaces it;
            # judged second, it leaves that put's record (review2 respol-s15 R1). Any other tie: as before.
            rank=-1 if context.change.event_name in RESOURCE_DELETIONS else 0,
        )

    def _seen(self, context: RuleContext, arn: str, policy: Policy, by_sid: bool) -> Snapshot:
        """What the change leaves as the resource's policy, the next change's "before" (``domain.recorded``
        ``RESOURCE_POLICY``). Only what the judged event set: a call that failed is never judged, so never kept.
        An ``AddPermission``-style change shows one statement, not the document: the record then says it is
        unknown (``policy`` None) unless the statement is removed (the record before it holds again). It is never
        derived from a known record (review s14 F0-F2): event order against a whole put judged late is uncertain, and
        the marks (pending, accepted) would outlive or pass between statements."""
        kind = resource_policy_kind(self.policy_slot(context))
        taken = observed_at(context.change.time)
        if by_sid:
            return Snapshot(
                kind, record_key(arn, context.change.account), taken, {"policy": None}, whatever_the_verdict=True
            )
        document = dict(policy.raw)
        return Snapshot(
            kind,
            record_key(arn, context.change.account),
            taken,
            {"policy": document, "pending": []},
            whatever_the_verdict=True,
            if_remediated={"policy": document, "pending": []},
        )

    def _earlier(
        self, context: RuleContext, arn: str, offending: Sequence[Statement], policy: Policy
    ) -> "Earlier | None":
        """What of the policy was on record before this change (None: nothing usable, so the whole document counts
        as the change's, as before). Read only when the change has offending statements, and never for a create."""
        recorded = context.recorded
        if recorded is None or self.creates(context):
            return None
        snapshot = recorded.snapshot(
            resource_policy_kind(self.policy_slot(context)), record_key(arn, context.change.account)
        )
        if snapshot is None or snapshot.unusable or not snapshot.taken_before(context.change.time):
            return None
        document = snapshot.data.get("policy")
        if not isinstance(document, Mapping):
            return None
        pending = snapshot.data.get("pending") or ()
        accepted = frozenset(str(meaning) for meaning in snapshot.data.get("accepted") or ())
        recorded_statements = {statement_meaning(statement): statement for statement in statement_list(document)}
        in_force = {
            meaning: statement.get("Sid") if isinstance(statement, Mapping) else None
            for meaning, statement in recorded_statements.items()
        }
        seen = set(in_force) - set(pending)
        older_sids = frozenset(str(in_force[meaning]) for meaning in seen if in_force[meaning])
        now = {statement_meaning(s.raw) for s in policy.statements}
        changed = len(now - set(in_force))
        vanished = [meaning for meaning in seen if meaning not in now]
        dropped = sum(1 for meaning in in_force if meaning not in now)
        judged_offending = set(snapshot.data.get("alerted") or ())
        offending_sids = self._offending_sids(context, recorded_statements, seen, judged_offending, policy)
        if not any(statement_meaning(s.raw) in seen for s in offending) and not vanished:
            # nothing to split, nothing replaced: the past remediations are not read
            return Earlier(
                snapshot.taken_at,
                frozenset(),
                older_sids=older_sids,
                changed=changed,
                vanished=dropped,
                offending_sids=offending_sids,
            )
        removed: set[str] = set()
        sids: set[str] = set()
        labelled: set[tuple[str, str]] = set()  # (Sid, meaning) a LABEL_MATCH plan removed (review respol-s15 F1)
        for past in recorded.remediations(arn):  # any attempt: remediated, failed, undone or under way
            cut = any(line.startswith(("removed ", "deleted ")) for line in past.done)
            # A label plan that ran and removed nothing, only said why (its label re-added differently: review
            # respol-s15 F1), is no attempt on the statement; a failed or unfinished one is (review2 R2).
            said_only = (
                not cut
                and past.status not in (_FAILED, _IN_PROGRESS)
                and bool(past.done)
                and all(line.startswith("left ") for line in past.done)
            )
            for step in past.plan:
                parameters = step.get("parameters")
                references = parameters.get("statements") if isinstance(parameters, Mapping) else None
                kept = set(parameters.get(ACCEPTED) or ()) if isinstance(parameters, Mapping) else set()
                for reference in references if isinstance(references, list) else ():
                    if not isinstance(reference, Mapping):
                        continue
                    meaning = statement_meaning(reference.get("statement"))
                    if reference.get("match") == LABEL_MATCH:
                        # What the plan removed or tried to (``statement_offends``): nothing when it only said why
                        # it removed nothing, and of a meaning it kept under another label (accepted), only the
                        # statement under its own label.
                        if said_only:
                            continue
                        if meaning in kept:
                            labelled.add((str(reference.get("sid")), meaning))
                        else:
                            removed.add(meaning)
                    else:
                        removed.add(meaning)
                    if reference.get("match") in ("sid", LABEL_MATCH) and reference.get("sid"):
                        sids.add(str(reference["sid"]))
        removed |= {meaning for meaning in seen if (str(in_force[meaning]), meaning) in labelled}
        removed -= accepted  # put back by an operator's undo, and in the policy ever since
        sids -= {str(in_force[meaning]) for meaning in accepted if in_force.get(meaning)}
        older = seen - removed
        gone = tuple(
            recorded_statements[meaning]
            for meaning in sorted(vanished)
            if meaning in older
            and meaning not in judged_offending  # alerted (alert mode), never judged compliant: never put back
            and isinstance(recorded_statements[meaning], Mapping)
        )
        document_sids = frozenset(s.sid for s in policy.statements if s.sid)
        return Earlier(
            snapshot.taken_at,
            frozenset(older),
            frozenset(sids),
            older_sids,
            gone,
            changed,
            accepted & older,
            document_sids,
            dropped,
            offending_sids,
        )

    def _offending_sids(
        self,
        context: RuleContext,
        recorded: Mapping[str, Any],
        seen: set[str],
        judged_offending: set[str],
        policy: Policy,
    ) -> frozenset[str]:
        """The Sids the change's document reuses whose recorded statement was judged offending (``alerted``) or is
        judged offending now by this rule; one the rule cannot judge counts as offending (never advise putting it back).
        """
        reused = {s.sid for s in policy.statements if s.sid}
        candidates = [
            (meaning, statement)
            for meaning, statement in recorded.items()
            if meaning in seen and isinstance(statement, Mapping) and statement.get("Sid") in reused
        ]
        if not candidates:
            return frozenset()
        boundary = context.settings.boundary(self._owner(context))
        circumstances = context.circumstances()
        sids: set[str] = set()
        for meaning, statement in candidates:
            if meaning in judged_offending:
                sids.add(str(statement["Sid"]))
                continue
            try:
                [exposure] = self.exposures(
                    self.decoded({"Version": "2012-10-17", "Statement": [dict(statement)]}, "the recorded statement"),
                    boundary,
                    circumstances,
                )
            except Exception:  # not a statement the rule can judge: never advise putting it back
                sids.add(str(statement["Sid"]))
                continue
            if exposure.void is None and (
                exposure.public or exposure.untrusted or exposure.unbound_services or exposure.unknown
            ):
                sids.add(str(statement["Sid"]))
        return frozenset(sids)

    def resource_name(self, context: RuleContext) -> str:
        """The resource as its API names it (the plan's ``step_parameter``)."""
        return context.request_text(self.resource.name_parameter)

    def exposure(
        self, statement: Statement, boundary: TrustBoundary, circumstances: Circumstances | None = None
    ) -> Exposure:
        """Who ``statement`` lets in (``exposure_of``, not kept per statement: ``exposures`` keeps the whole
        document's verdict; a service with its own account keys may translate them)."""
        return fresh_exposure(statement, boundary, circumstances)

    def exposures(
        self, policy: Policy, boundary: TrustBoundary, circumstances: Circumstances | None = None
    ) -> tuple[Exposure, ...]:
        """``exposure`` of every statement of ``policy``, judged once per document, rule and boundary
        (``judged_once``): a document seen before is one look-up."""
        # ``fresh_exposure`` itself when no subclass translates it (one call fewer per statement on first sight).
        exposure = fresh_exposure if type(self).exposure is ResourcePolicyRule.exposure else self.exposure
        return judged_once(
            policy, (self, boundary), circumstances, _each_exposure, exposure, policy, boundary, circumstances
        )

    def display_name(self, name: str) -> str:
        """The resource as people name it in a finding (a queue's name rather than its URL)."""
        return name

    def describe(self, name: str) -> str:
        """The resource in a sentence: "queue orders-events"."""
        return f"{self.resource.noun} {self.display_name(name)}"

    def resource_arn(self, context: RuleContext, name: str) -> str:
        change = context.change
        return self.resource.arn(context.partition, change.region, change.account, name)

    def new_policy(self, context: RuleContext) -> NewPolicy | None:
        """The policy the change sets, or None when it sets none (it changed something else, or removed it)."""
        return NewPolicy(
            self.decoded(
                context.change.request_parameters.get(self.resource.document_parameter),
                f"detail.requestParameters.{self.resource.document_parameter}",
            )
        )

    def decoded(self, value: object, field: str) -> Policy:
        """A policy document from the event (object or JSON string), within the resource kind's size limit."""
        return load_policy(value, self.resource.kind, field=field)

    def _owner(self, context: RuleContext) -> str:
        """The resource's account from the record's resources (S3 records carry it), else the event's."""
        for item in context.change.resources:
            if item.get("type") == self.resource.resource_type and isinstance(item.get("accountId"), str):
                return str(item["accountId"])
        return context.change.account

    def _removal(
        self,
        name: str,
        arn: str,
        offending: list[tuple[Statement, Exposure]],
        by_sid: bool = False,
        restores: Mapping[int, Mapping[str, Any]] | None = None,
        *,
        since: str = "",
        accepted: frozenset[str] = frozenset(),
    ) -> RemediationStep:
        """The step removing ``offending``; a statement in ``restores`` (by position) is replaced by the older
        statement it replaced (``restore`` in its reference), not removed outright. ``accepted``: the meanings an
        operator accepted; those a by-Sid statement grants too stay under their own label (``ACCEPTED``)."""
        resource = self.resource
        restores = restores or {}
        references = [
            statement_reference(s)
            | _judged_grantees(s, exposure)
            | ({"match": self.label_match} if by_sid else {})
            | ({"restore": dict(restores[s.position]), "restore_recorded_at": since} if s.position in restores else {})
            for s, exposure in offending
        ]
        put_back = "".join(
            f"; restore {_recorded_label(restores[s.position])} as IAM Warden last recorded it at {since}"
            for s, _ in offending
            if s.position in restores
        )
        kept = sorted(accepted & {statement_meaning(s.raw) for s, _ in offending}) if by_sid else []
        return RemediationStep(
            self.remediation.action,
            arn,
            {resource.step_parameter: name, "statements": references, **({ACCEPTED: kept} if kept else {})},
            f"remove {_labels(offending)} from the policy of {self.describe(name)}{put_back}, keep the rest",
        )

    def _abilities(self, offending: list[tuple[Statement, Exposure]]) -> str:
        statements = [statement for statement, _ in offending]
        if any(s.grants_action(self.resource.service_wildcard) for s in statements):  # *, or a sparing NotAction
            return "do anything"
        verbs = [verb for action, verb in self.resource.verbs if any(s.grants_action(action) for s in statements)]
        if verbs:
            return _join(verbs)
        actions = sorted({a for s in statements for a in (s.actions or s.not_actions or ())})
        return "call " + _join(actions)


def _recorded_label(statement: Mapping[str, Any]) -> str:
    """An older statement as IAM Warden recorded it, as people name it: "statement VendorRead" (by Sid)."""
    sid = statement.get("Sid")
    return f"statement {sid}" if isinstance(sid, str) and sid else "the unnamed statement"


def _grantees_said(offending: Sequence[tuple[Statement, Exposure]]) -> list[str]:
    """Who older statements let in, as people say it ("everyone", "account 999988887777")."""
    said = {"everyone"} if any(e.public for _, e in offending) else set()
    return sorted(said | set(_outsiders([(s, e) for s, e in offending if not e.public])))


def _offending(statement: Statement, exposure: Exposure) -> dict[str, Any]:
    facts = _facts(statement, exposure)
    return {
        **statement_reference(statement),
        "public": exposure.public,
        "grantees": sorted(exposure.untrusted | {_unbound(service) for service in exposure.unbound_services}),
        "narrowed_by": list(exposure.narrowed_by),
        "certain": not facts,
        **({"needs_context": facts} if facts else {}),
        **({"unevaluated_conditions": list(exposure.unevaluated)} if exposure.unevaluated else {}),
    }


def _judged_grantees(statement: Statement, exposure: Exposure) -> dict[str, Any]:
    """The grantees the after-cut check looks for (``still_granted``): only the ones the exposure judged
    offending, so a trusted account or a bound service principal of the same statement, still let in by its own
    statement, is no failure. Nothing named (an entry no label maps to): every principal of it (fail closed)."""
    entries = judged_entries(statement.principal, untrusted=exposure.untrusted, services=exposure.unbound_services)
    if not (exposure.public or exposure.untrusted or exposure.unbound_services) or not entries:
        return {}
    return {"outsiders": entries}


def _facts(statement: Statement, exposure: Exposure) -> list[str]:
    """What the verdict on ``statement`` rests on that could not be known (empty when it is certain)."""
    return [*exposure.unknown, *(_deputy_fact(service) for service in sorted(exposure.unbound_services))]


def _deputy_fact(service: str) -> str:
    return (
        f"which account {_service_name(service)} acts for: without an aws:SourceAccount or aws:SourceArn "
        "condition it may be any account's (a confused-deputy risk: alerted, never removed; add a condition "
        "naming your account)"
    )


def _all_facts(offending: Sequence[tuple[Statement, Exposure]]) -> list[str]:
    """Each unknown fact once, with the statements whose verdict rests on it."""
    where: dict[str, list[str]] = {}
    for statement, exposure in offending:
        for fact in _facts(statement, exposure):
            where.setdefault(fact, []).append(statement.label)
    return [f"{fact} ({_join(labels)})" for fact, labels in where.items()]


def _service_name(service: str) -> str:
    return "Elastic Load Balancing" if service == "elasticloadbalancing" else service


def _unbound(service: str) -> str:
    return f"any account through {_service_name(service)}"


def _outsiders(offending: Sequence[tuple[Statement, Exposure]]) -> list[str]:
    labels = {_outsider(label) for _, e in offending for label in e.untrusted}
    labels.update(_unbound(service) for _, e in offending for service in e.unbound_services)
    return sorted(labels)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _outsider(label: str) -> str:
    """An untrusted grantee as people say it: "account 999988887777", "organization o-…"."""
    return f"account {label}" if ACCOUNT_ID.fullmatch(label) else label


def _labels(offending: Sequence[tuple[Statement, Exposure]]) -> str:
    return _join([statement.label for statement, _ in offending])


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
