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

Detaches and ``RemoveUserFromGroup`` are routed with ``restraint-removed`` and change the record as attaches do.
One not seen yet (in flight, or lost) may leave a policy listed that was detached since; attaching it again is then
alerted without a plan, never removed: the record errs towards leaving a grant, never towards removing an older one.
Every attach and ``AddUserToGroup`` is routed, so a record never misses an attachment the enforcer could have seen.
"""

from collections.abc import Mapping
from typing import Any, NamedTuple

from iamwarden.domain.arns import iam_arn
from iamwarden.domain.canonical import document_digest
from iamwarden.domain.directory import HeldBefore
from iamwarden.domain.findings import RemediationStep
from iamwarden.domain.managed_documents import decoded
from iamwarden.domain.recorded import ATTACHMENTS, Snapshot, observed_at
from iamwarden.guardrails.base import RuleContext

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
    is none, or only a later one, or one of the same second that lists ``item`` as changed in that second."""
    if context.recorded is None:
        return None
    snapshot = context.recorded.snapshot(ATTACHMENTS, principal_arn)
    if snapshot is None:
        return None
    if snapshot.taken_before(context.change.time):
        return snapshot.data
    changed = snapshot.data.get(CHANGED)
    if isinstance(changed, list) and item not in changed and snapshot.taken_at == observed_at(context.change.time):
        return snapshot.data
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


def inline_before(context: RuleContext, principal_arn: str, policy_name: str) -> str | None:
    """The fingerprint (``document_digest``) of the principal's inline policy ``policy_name`` just before the event;
    ``ABSENT_INLINE`` when it had none of that name; None when that is not known (no record older than the event, or
    one taken before inline policies were recorded)."""
    if context.recorded is None:
        return None
    data = _recorded_before(context, principal_arn, _item("inline", policy_name))
    inline = data.get("inline") if data is not None else None
    if not isinstance(inline, Mapping):
        return None
    digest = inline.get(policy_name)
    return str(digest) if digest is not None else ABSENT_INLINE


#: ``inline_before``: the principal had no inline policy of that name.
ABSENT_INLINE = ""


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


def attachment_observations(context: RuleContext) -> list[Snapshot]:
    """What the judged event leaves attached to its principal, to be kept as its next ``ATTACHMENTS`` record.

    Only live (the audit table is there), and only where it is known: a creation starts empty; an attach, a
    membership or a detach changes the record taken before it (without one, nothing is known and nothing is kept).
    Kept whatever the verdict, unless the enforcer remediated (then the record before it holds again).
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

    def observed(arn: str, data: Mapping[str, Any], item: str | None) -> list[Snapshot]:
        """``data`` kept at the event's second, listing ``item`` among what that second changed: a record from the
        same second adds to its list; an older one (or a creation, ``item`` None) starts it."""
        same_second = data.get(CHANGED) if data.get(CHANGED_AT) == taken else None
        changed = {str(c) for c in same_second} if isinstance(same_second, list) else set()
        if item is not None:
            changed.add(item)
        kept = {**data, CHANGED: sorted(changed), CHANGED_AT: taken}
        return [Snapshot(ATTACHMENTS, arn, taken, kept, whatever_the_verdict=True, rank=len(changed))]

    if name in _CREATED:
        arn = principal(_CREATED[name])
        if arn is None:
            return []
        empty: dict[str, Any] = {"policies": [], "inline": {}}
        return observed(arn, {**empty, "groups": []} if _CREATED[name][0] == "user" else empty, None)
    if name in ATTACH_PRINCIPAL or name in DETACH_PRINCIPAL:
        arn = principal(ATTACH_PRINCIPAL.get(name) or DETACH_PRINCIPAL[name])
        policy_arn = parameters.get("policyArn")
        if arn is None or not isinstance(policy_arn, str):
            return []
        before = _recorded_before(context, arn, _item("policy", policy_arn))
        if before is None:
            return []
        policies = [p for p in _listed(before, "policies") if p != policy_arn]
        if name in ATTACH_PRINCIPAL:
            policies.append(policy_arn)
        return observed(arn, {**before, "policies": sorted(policies)}, _item("policy", policy_arn))
    if name in _INLINE_PRINCIPAL:
        arn = principal(_INLINE_PRINCIPAL[name])
        policy_name = parameters.get("policyName")
        if arn is None or not isinstance(policy_name, str):
            return []
        before = _recorded_before(context, arn, _item("inline", policy_name))
        if before is None:
            return []
        held = before.get("inline")
        if not isinstance(held, Mapping):
            return []  # a record from before inline policies were kept: nothing known to change
        inline = {key: value for key, value in held.items() if key != policy_name}
        if name.startswith("Put"):
            document = _put_document(parameters.get("policyDocument"))
            if document is None:
                return []
            inline[policy_name] = document_digest(document)
        return observed(arn, {**before, "inline": inline}, _item("inline", policy_name))
    if name in ("AddUserToGroup", "RemoveUserFromGroup"):
        arn = principal(("user", "userName"))
        group = parameters.get("groupName")
        if arn is None or not isinstance(group, str):
            return []
        before = _recorded_before(context, arn, _item("group", group))
        if before is None:
            return []
        groups = [g for g in _listed(before, "groups") if g != group]
        if name == "AddUserToGroup":
            groups.append(group)
        return observed(arn, {**before, "groups": sorted(groups)}, _item("group", group))
    return []


def _put_document(value: Any) -> Any:
    """The document an inline put's event carries (a JSON string, or an object), or None when it is not readable."""
    try:
        return decoded(value) if value is not None else None
    except (ValueError, TypeError):
        return None
