"""Whether an attachment or a membership was there before the event, and what a judged event leaves attached.

IAM's ``Attach{Role,User,Group}Policy`` and ``AddUserToGroup`` succeed on an attachment or membership that is already
there (every Terraform re-apply does this), and neither the event nor a read after it says so. A remediation that
removes what the event "added" would then remove an older grant (audit s7 gap 14; issue 13 item 7: remove what the
change added, no more). So before a rule plans that removal it asks ``held_before``:

* offline, the authorization details ``iamwarden evaluate`` is given are the account before the events
  (``domain.directory.HeldBefore``);
* live, the audit table's ``ATTACHMENTS`` record of the principal (``domain.recorded``), if it was taken strictly
  before the event: the heartbeat's read of the authorization details, or what the enforcer kept from the last
  attach, membership or creation of the principal it judged since (``attachment_observations``);
* or a record the enforcer kept from an event of the same second (CloudTrail's times are whole seconds, and a
  script or Terraform makes several changes to one principal within one), for any attachment, membership or inline
  policy other than those it lists as ``changed`` in that second: those are the only ones whose order against the
  judged event is not known. Without this, a benign attach followed within the second by AdministratorAccess left
  the second one alert-only: an evasion of remediation for the price of one extra call;
* otherwise it is not known (None), and the finding is alert-only (``needs_context``).

Inline policies are kept whole (``INLINE_DOCUMENTS``, beside each one's fingerprint): a put over a different
document is then judged on what it added against it, and undone by putting it back (``inline_held_before``;
a record kept before documents were says only the fingerprint, and such a put stays alert-only). After the enforcer
remediated a put, what its plan left is kept instead (``Snapshot.if_remediated``), so the record never describes a
put that is no longer there.

An undo (``iamwarden undo``, or Slack's, which acts as the enforcer and so is never routed back) puts back what a
remediation took away: the event's inline document, a detached policy, a removed membership. The record would then
say what the remediation left until the heartbeat reads the principal again, and a benign change in that window would
be judged against it (review s9 finding 7). So the executor writes what the undo put back into the record
(``record_after_undo``: the action says what, ``UndoneOn``), with the enforcer's conditional write: derived from the
stored record (``Snapshot.base``), at its time with a greater rank; a record replaced meanwhile is marked ``unusable``.

Detaches and ``RemoveUserFromGroup`` are routed with ``restraint-removed`` and change the record as attaches do.
One not seen yet (in flight, or lost) may leave a policy listed that was detached since; attaching it again is then
alerted without a plan, never removed: the record errs towards leaving a grant, never towards removing an older one.
Every attach and ``AddUserToGroup`` is routed, so a record never misses an attachment the enforcer could have seen.
"""

import json
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from iamwarden.domain.arns import iam_arn
from iamwarden.domain.canonical import document_digest
from iamwarden.domain.directory import HeldBefore
from iamwarden.domain.findings import Finding, RemediationStep
from iamwarden.domain.managed_documents import decoded
from iamwarden.domain.recorded import ATTACHMENTS, INLINE_DOCUMENTS, Snapshot, compact_document, observed_at
from iamwarden.guardrails.base import RuleContext
from iamwarden.guardrails.remediation import statement_list, without_offending

#: Attach{Role,User,Group}Policy -> (principal kind, the request parameter naming it).
ATTACH_PRINCIPAL = {
    "AttachRolePolicy": ("role", "roleName"),
    "AttachUserPolicy": ("user", "userName"),
    "AttachGroupPolicy": ("group", "groupName"),
}
#: The events that create a principal, which starts with nothing attached and in no group.
_CREATED = {
    "CreateRole": ("role", "roleName"),
    "CreateUser": ("user", "userName"),
    "CreateGroup": ("group", "groupName"),
}
#: The events that put or delete one inline policy: the record keeps each inline policy's fingerprint.
_INLINE_PRINCIPAL = {
    f"{verb}{kind.capitalize()}Policy": (kind, f"{kind}Name")
    for verb in ("Put", "Delete")
    for kind in ("role", "user", "group")
}
#: The events that take one attachment away (judged only where a rule routes them).
DETACH_PRINCIPAL = {
    "DetachRolePolicy": ("role", "roleName"),
    "DetachUserPolicy": ("user", "userName"),
    "DetachGroupPolicy": ("group", "groupName"),
}


#: In an ``ATTACHMENTS`` record the enforcer kept: what the events of its second changed (``_item`` keys), and
#: that second (``observed_at``), so a record carried into a later second starts its list afresh.
CHANGED = "changed"
CHANGED_AT = "changed_at"


def _item(kind: str, name: str) -> str:
    """What one event changes on a principal, as ``CHANGED`` lists it: ``policy:<arn>``, ``inline:<name>``,
    ``group:<name>``."""
    return f"{kind}:{name}"


def _recorded_before(context: RuleContext, principal_arn: str, item: str) -> Mapping[str, Any] | None:
    """The principal's ``ATTACHMENTS`` record as it stood before the event, as far as ``item`` goes; None when there
    is none, or only a later one, or one of the same second that lists ``item`` as changed in that second, or one
    marked unusable (a concurrent write may have left a change out of it)."""
    snapshot = _recorded_snapshot(context, principal_arn, item)
    return snapshot.data if snapshot is not None else None


def _recorded_snapshot(context: RuleContext, principal_arn: str, item: str) -> Snapshot | None:
    """``_recorded_before`` with the record itself (its time and rank: what an observation derived from it names as
    its ``base``)."""
    if context.recorded is None:
        return None
    snapshot = context.recorded.snapshot(ATTACHMENTS, principal_arn)
    if snapshot is None or snapshot.unusable:
        return None
    if snapshot.taken_before(context.change.time):
        return snapshot
    changed = snapshot.data.get(CHANGED)
    if isinstance(changed, list) and item not in changed and snapshot.taken_at == observed_at(context.change.time):
        return snapshot
    return None


def _listed(data: Mapping[str, Any], key: str) -> list[str]:
    value = data.get(key)
    return [str(item) for item in value] if isinstance(value, list) else []


def attached_before(context: RuleContext, principal_arn: str, policy_arn: str) -> bool | None:
    """Whether ``policy_arn`` was attached to the principal just before the event; None when that is not known."""
    if context.recorded is not None:
        data = _recorded_before(context, principal_arn, _item("policy", policy_arn))
        return None if data is None else policy_arn in _listed(data, "policies")
    directory = context.directory  # None checked first: a Protocol's isinstance is slow, and offline is hot
    if directory is not None and isinstance(directory, HeldBefore):
        return directory.attached_before(principal_arn, policy_arn)
    return None


def member_before(context: RuleContext, user_arn: str, group: str) -> bool | None:
    """Whether the user was in ``group`` just before the event; None when that is not known."""
    if context.recorded is not None:
        data = _recorded_before(context, user_arn, _item("group", group))
        return None if data is None else group in _listed(data, "groups")
    directory = context.directory
    if directory is not None and isinstance(directory, HeldBefore):
        return directory.member_before(user_arn, iam_arn(context.partition, context.change.account, "group", group))
    return None


class InlineBefore(NamedTuple):
    """The principal's inline policy of one name just before the event, as its record keeps it."""

    #: Its fingerprint (``document_digest``); ``ABSENT_INLINE`` when the principal had none of that name.
    digest: str
    #: The whole document (decoded), when the record keeps it (``INLINE_DOCUMENTS``); None in a record that keeps
    #: only fingerprints (taken before documents were kept), or when there was none.
    document: Mapping[str, Any] | None = None


def inline_held_before(context: RuleContext, principal_arn: str, policy_name: str) -> InlineBefore | None:
    """The principal's inline policy ``policy_name`` just before the event (``InlineBefore``); None when that is not
    known (no record older than the event, or one taken before inline policies were recorded)."""
    if context.recorded is None:
        return None
    data = _recorded_before(context, principal_arn, _item("inline", policy_name))
    inline = data.get("inline") if data is not None else None
    if data is None or not isinstance(inline, Mapping):
        return None
    digest = inline.get(policy_name)
    if digest is None:
        return InlineBefore(ABSENT_INLINE)
    documents = data.get(INLINE_DOCUMENTS)
    text = documents.get(policy_name) if isinstance(documents, Mapping) else None
    document = _kept_document(text)
    # A document that does not match its own fingerprint is not what was there: only the fingerprint is trusted.
    if document is None or document_digest(document) != str(digest):
        return InlineBefore(str(digest))
    return InlineBefore(str(digest), document)


def inline_before(context: RuleContext, principal_arn: str, policy_name: str) -> str | None:
    """The fingerprint (``document_digest``) of the principal's inline policy ``policy_name`` just before the event;
    ``ABSENT_INLINE`` when it had none of that name; None when that is not known (``inline_held_before``)."""
    held = inline_held_before(context, principal_arn, policy_name)
    return held.digest if held is not None else None


#: ``inline_before``: the principal had no inline policy of that name.
ABSENT_INLINE = ""


def _kept_document(text: Any) -> Mapping[str, Any] | None:
    """A document the record keeps (``compact`` text), decoded; None when there is none or it is not readable."""
    if not isinstance(text, str):
        return None
    try:
        document = json.loads(text)
    except ValueError:
        return None
    return document if isinstance(document, Mapping) else None


class IfAdded(NamedTuple):
    """A removal's plan once it is known whether the event added anything: the plan, a sentence for the reason,
    and what is not known (``needs_context``)."""

    plan: tuple[RemediationStep, ...]
    note: str
    needs_context: tuple[str, ...]

    def told(self, reason: str) -> str:
        """``reason`` with the sentence that nothing was added, when that is so."""
        return f"{reason} {self.note}" if self.note else reason


def only_if_added(held: bool | None, step: RemediationStep, held_what: str, undo_by_hand: str) -> IfAdded:
    """``step`` (a removal of what the event attached or joined) only when it was not held before the event.

    ``held``: ``attached_before`` or ``member_before``; ``held_what``: what was held, as "AdministratorAccess was
    attached to role app-backend"; ``undo_by_hand``: what a person would do ("detach it"). Held before: no plan,
    and the finding says nothing was added. Not known: the plan is kept for the alert, never carried out.
    """
    if held:
        return IfAdded(
            (),
            f"{held_what} before this event: nothing was added; {undo_by_hand} by hand if it should not be there.",
            (),
        )
    if held is None:
        was, _, to = held_what.partition(" was ")
        return IfAdded((step,), "", (f"whether {was} was already {to} before this event",))
    return IfAdded((step,), "", ())


def attachment_observations(context: RuleContext, findings: Sequence[Finding] = ()) -> list[Snapshot]:
    """What the judged event leaves attached to its principal, to be kept as its next ``ATTACHMENTS`` record.

    Only live (the audit table is there), and only where it is known: a creation starts empty; an attach, a
    membership or a detach changes the record taken before it (without one, nothing is known and nothing is kept).
    Kept whatever the verdict. When the enforcer remediated: for an inline put, what the plan of ``findings`` leaves
    under that name (the previous document put back, the event's document cut, or none: ``if_remediated``); for
    anything else the record before it holds again, and nothing is kept.
    """
    if context.recorded is None:
        return []
    change = context.change
    parameters = change.request_parameters
    name = change.event_name

    def principal(kind_and_parameter: tuple[str, str]) -> str | None:
        kind, parameter = kind_and_parameter
        value = parameters.get(parameter)
        return iam_arn(context.partition, change.account, kind, value) if isinstance(value, str) and value else None

    taken = observed_at(change.time)

    def observed(
        arn: str,
        data: Mapping[str, Any],
        item: str | None,
        remediated: Mapping[str, Any] | None = None,
        *,
        base: Snapshot | None = None,
    ) -> list[Snapshot]:
        """``data`` kept at the event's second, listing ``item`` among what that second changed: a record from the
        same second adds to its list; an older one (or a creation, ``item`` None) starts it. ``remediated``: the
        data to keep instead when the enforcer remediated the event."""
        same_second = data.get(CHANGED) if data.get(CHANGED_AT) == taken else None
        changed = {str(c) for c in same_second} if isinstance(same_second, list) else set()
        if item is not None:
            changed.add(item)
        listed = {CHANGED: sorted(changed), CHANGED_AT: taken}
        kept = {**data, **listed}
        instead = {**remediated, **listed} if remediated is not None else None
        derived = (base.taken_at, base.rank) if base is not None else None
        return [
            Snapshot(
                ATTACHMENTS,
                arn,
                taken,
                kept,
                whatever_the_verdict=True,
                rank=len(changed),
                if_remediated=instead,
                base=derived,
            )
        ]

    if name in _CREATED:
        arn = principal(_CREATED[name])
        if arn is None:
            return []
        empty: dict[str, Any] = {"policies": [], "inline": {}, INLINE_DOCUMENTS: {}}
        return observed(arn, {**empty, "groups": []} if _CREATED[name][0] == "user" else empty, None)
    if name in ATTACH_PRINCIPAL or name in DETACH_PRINCIPAL:
        arn = principal(ATTACH_PRINCIPAL.get(name) or DETACH_PRINCIPAL[name])
        policy_arn = parameters.get("policyArn")
        if arn is None or not isinstance(policy_arn, str):
            return []
        source = _recorded_snapshot(context, arn, _item("policy", policy_arn))
        if source is None:
            return []
        before = source.data
        policies = [p for p in _listed(before, "policies") if p != policy_arn]
        if name in ATTACH_PRINCIPAL:
            policies.append(policy_arn)
        return observed(arn, {**before, "policies": sorted(policies)}, _item("policy", policy_arn), base=source)
    if name in _INLINE_PRINCIPAL:
        arn = principal(_INLINE_PRINCIPAL[name])
        policy_name = parameters.get("policyName")
        if arn is None or not isinstance(policy_name, str):
            return []
        source = _recorded_snapshot(context, arn, _item("inline", policy_name))
        if source is None:
            return []
        before = source.data
        held = before.get("inline")
        if not isinstance(held, Mapping):
            return []  # a record from before inline policies were kept: nothing known to change
        document = _put_document(parameters.get("policyDocument")) if name.startswith("Put") else None
        if name.startswith("Put") and document is None:
            return []
        item = _item("inline", policy_name)
        data = _with_inline(before, policy_name, document)
        if document is None:
            return observed(arn, data, item, base=source)
        kind = _INLINE_PRINCIPAL[name][0]
        left = _left_by_plan(findings, kind, str(parameters.get(_INLINE_PRINCIPAL[name][1])), policy_name, document)
        instead = None if left is None else _with_inline(before, policy_name, left.document)
        return observed(arn, data, item, instead, base=source)
    if name in ("AddUserToGroup", "RemoveUserFromGroup"):
        arn = principal(("user", "userName"))
        group = parameters.get("groupName")
        if arn is None or not isinstance(group, str):
            return []
        source = _recorded_snapshot(context, arn, _item("group", group))
        if source is None:
            return []
        groups = [g for g in _listed(source.data, "groups") if g != group]
        if name == "AddUserToGroup":
            groups.append(group)
        return observed(arn, {**source.data, "groups": sorted(groups)}, _item("group", group), base=source)
    return []


def _with_inline(data: Mapping[str, Any], policy_name: str, document: Any) -> dict[str, Any]:
    """``data`` with inline policy ``policy_name`` holding ``document`` (None: none of that name): its fingerprint,
    and its whole document (a record that kept only fingerprints keeps the others' as they were)."""
    held = data.get("inline")
    inline = {key: value for key, value in held.items() if key != policy_name} if isinstance(held, Mapping) else {}
    kept = data.get(INLINE_DOCUMENTS)
    documents = {key: v for key, v in kept.items() if key != policy_name} if isinstance(kept, Mapping) else {}
    if document is not None:
        inline[policy_name] = document_digest(document)
        documents[policy_name] = compact_document(document)
    return {**data, "inline": inline, INLINE_DOCUMENTS: documents}


class _Left(NamedTuple):
    #: What a remediation leaves under the policy name: a document, or None (deleted).
    document: Any


def _left_by_plan(
    findings: Sequence[Finding], kind: str, principal: str, policy_name: str, document: Any
) -> _Left | None:
    """What the first plan step of ``findings`` that rewrites this inline policy leaves under its name: the previous
    document it restores, the event's document less its cuts, or nothing (deleted); None when no plan touches it.
    The step's parameters are those ``identity_policy.inline_policy_step`` and ``restore_inline_step`` write."""
    for finding in findings:
        for step in finding.plan:
            parameters = step.parameters
            if (
                str(step.action) != "rewrite_inline_policy"
                or parameters.get("principal_type") != kind
                or parameters.get("principal_name") != principal
                or parameters.get("policy_name") != policy_name
            ):
                continue
            restore = parameters.get("restore")
            if isinstance(restore, Mapping):
                return _Left(dict(restore))
            cuts = parameters.get("statements")
            if cuts is None or not isinstance(document, Mapping):
                return _Left(None)
            rest = without_offending(statement_list(document), cuts)
            return _Left({**document, "Statement": rest} if rest else None)
    return None


def _put_document(value: Any) -> Any:
    """The document an inline put's event carries (a JSON string, or an object), or None when it is not readable."""
    try:
        return decoded(value) if value is not None else None
    except (ValueError, TypeError):
        return None


class UndoneOn(NamedTuple):
    """What an undo put back on one principal, in its ``ATTACHMENTS`` record's terms (``record_after_undo``)."""

    #: ``role``, ``user`` or ``group``, and its name (the record is keyed by the ARN without path).
    kind: str
    name: str
    #: ``_item``: ``policy:<arn>`` (attached again), ``group:<name>`` (a member again) or ``inline:<name>``.
    item: str
    #: For ``inline:`` the document the undo put back under that name.
    document: Any = None


def policy_attached_again(kind: str, principal: str, policy_arn: str) -> UndoneOn:
    """An undo attached ``policy_arn`` to the principal again."""
    return UndoneOn(kind, principal, _item("policy", policy_arn))


def member_again(user: str, group: str) -> UndoneOn:
    """An undo added ``user`` to ``group`` again."""
    return UndoneOn("user", user, _item("group", group))


def inline_put_again(kind: str, principal: str, policy_name: str, document: Any) -> UndoneOn:
    """An undo put ``document`` back as the principal's inline policy ``policy_name``."""
    return UndoneOn(kind, principal, _item("inline", policy_name), document)


def record_after_undo(stored: Snapshot | None, undone: UndoneOn) -> Snapshot | None:
    """The principal's ``ATTACHMENTS`` record ``stored`` with what an undo put back, to be kept instead of it.

    Dated as ``stored`` (what it says of everything else still holds from then on, and an event judged later
    against it still derives from it), with a greater rank and ``stored`` as its ``base``: kept only while
    ``stored`` is still the stored record (another write meanwhile marks it ``unusable``, as the enforcer's
    derived records are). None when there is nothing to correct: no record (the heartbeat writes the next one),
    one marked unusable (alert-only until the heartbeat reads again), or one from before inline policies were
    recorded (an inline put over it is not known either way).
    """
    if stored is None or stored.unusable:
        return None
    data = dict(stored.data)
    kind, _, name = undone.item.partition(":")
    if kind == "policy":
        data["policies"] = sorted({*_listed(data, "policies"), name})
    elif kind == "group":
        data["groups"] = sorted({*_listed(data, "groups"), name})
    elif kind == "inline" and isinstance(data.get("inline"), Mapping) and undone.document is not None:
        data = _with_inline(data, name, undone.document)
    else:
        return None
    changed = data.get(CHANGED)
    if isinstance(changed, list) and data.get(CHANGED_AT) == stored.taken_at:
        # A record of that second's events: the undo's item is no longer known as it stood within that second.
        data[CHANGED] = sorted({*(str(c) for c in changed), undone.item})
    return Snapshot(
        ATTACHMENTS,
        stored.resource_arn,
        stored.taken_at,
        data,
        whatever_the_verdict=True,
        rank=stored.rank + 1,
        base=(stored.taken_at, stored.rank),
    )
