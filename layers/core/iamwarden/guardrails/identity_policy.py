"""``inline-policy-admin``, ``policy-version-admin`` and ``privilege-escalation``.

All three judge what an identity policy lets its holder do, with one analysis
(``iamwarden.domain.escalation``): admin-equivalent grants (``*``, ``iam:*`` on every
resource, Allow with NotAction, a wildcard service, or a whole service on every
resource) and the published privilege-escalation methods.

One change gets at most one finding, so one change is alerted and remediated
once: admin-equivalent access is reported by the event's own rule
(``inline-policy-admin`` or ``policy-version-admin``); an escalation path
without admin access by ``privilege-escalation``. When ``privilege-escalation``
is off, the event's own rule reports the escalation path itself (the issue lists
escalation sets among what it covers), so switching one rule off never hides an
escalation under a rule that is on.

Where the document comes from, and why:

* ``Put{Role,User,Group}Policy`` and ``CreatePolicyVersion`` carry the document:
  judged from the event, offline as well as in the enforcer.
* ``SetDefaultPolicyVersion`` names a version and ``Attach*Policy`` of a
  managed policy (customer- or AWS-managed) names an ARN; neither carries a document. The rule asks
  the context's ``documents`` reader for it. The enforcer hands the rules its live
  reader, so the finding is raised from the real document, read at judging time
  (a version is immutable; an attachment is judged on the default version the
  principal now holds). The rule itself stays pure: it judges data it is given.
  Offline (``iamwarden evaluate``) there is no reader, and the verdict is
  ``ignored`` with "cannot judge" rather than a guessed ``compliant``.

What the change adds to the principal (``judge_principal_change``): an inline
policy or a managed attachment is judged on the principal's whole policy
set from the context's ``directory`` (live in the enforcer, from
``--authorization-details`` offline): AFTER the change (the event's document in
place of the stored one) against BEFORE: the principal with what the changed source held before
(``Previous``: nothing for a new inline name or an attachment; the details' stored document for an
inline overwrite, or live the document the principal's ``attachments`` record keeps; the previous default
version, or each other version when which one is not recorded; unknown for a live inline put the record
knows only by fingerprint, whose new methods are then alerted only). An inline put over a known earlier
document is undone by putting that document back when a cut of the event's document would take some of it
(``restore_inline_step``); a Deny it dropped is ``restraint-removed``'s. An escalation method is
reported only when it is new, also when its actions are split across several
policies, and the finding names which older grants completed it; an admin grant
cancelled by an unconditional Deny elsewhere is not admin. The plan removes only
what this event added. When the principal's policies are not known (offline
without details, or a read was denied), the event's document is judged alone:
a risk the document itself grants is certain; what it could not know is named in
``needs_context`` (alerted, never remediated), and live, a document that grants
part of an escalation method on a principal IAM Warden could not read is alerted
as such rather than called compliant.
"""

import json
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any, ClassVar, NamedTuple

from iamwarden.adapters.errors import ignoring, is_gone
from iamwarden.domain.arns import iam_arn
from iamwarden.domain.canonical import canonical, document_digest
from iamwarden.domain.catalog import Mode, OptionSpec, RuleSpec, Severity
from iamwarden.domain.directory import GroupMembers, PolicyAttachments, PrincipalKey, group_source, inline_source
from iamwarden.domain.documents import PolicyKind, load_policy
from iamwarden.domain.escalation import (
    THE_POLICY,
    EscalationPath,
    Grant,
    PolicyRisk,
    admin_grants,
    admin_named_in,
    assess,
    assess_principal,
    cancelled_actions,
    catalogue_actions_covered,
    clock_bound,
    content_key,
    explanation,
    is_risky_document,
    with_doubts,
)
from iamwarden.domain.escalation_methods import catalogue
from iamwarden.domain.exceptions import InvalidEventError, RemediationError, UndoError
from iamwarden.domain.findings import Finding, RemediationStep, StepAction
from iamwarden.domain.held_readings import combinations, doubted, merged, read_alike
from iamwarden.domain.managed_documents import (
    ListsPolicyVersions,
    ManagedPolicyDocuments,
    PolicyVersion,
    PolicyVersions,
)
from iamwarden.domain.policy import Policy, Statement, action_matches, parse_policy
from iamwarden.domain.principals import NamedPolicy, PrincipalPolicies, RoleDirectory
from iamwarden.domain.readings import NO_WRITE, PREVIOUS_UNSAFE, READ_TWO_WAYS, Reading, decide
from iamwarden.domain.recorded import POLICY_DEFAULT, Snapshot, observed_at
from iamwarden.domain.variables import names_own_user_only
from iamwarden.guardrails.attachments import (
    ABSENT_INLINE,
    ATTACH_PRINCIPAL,
    UndoneOn,
    attached_before,
    inline_held_before,
    inline_put_again,
    only_if_added,
)
from iamwarden.guardrails.base import Evaluation, RuleContext
from iamwarden.guardrails.managed_policy import (
    AWS_MANAGED_POLICY_ARN,
    DENY_ONLY,
    MANAGED_POLICY_ATTACHED,
    detach_step,
    reported_as_admin,
)
from iamwarden.guardrails.remediation import (
    AccountClients,
    Permissions,
    StepRun,
    pages,
    policy_document,
    statement_cut,
    statement_list,
    without_offending,
)

IAM = "iam.amazonaws.com"

_DELETE_VERSION = OptionSpec(
    "choice",
    "keep",
    "keep (only set the previous default back) or delete (also delete the offending version)",
    ("keep", "delete"),
)

INLINE_POLICY_ADMIN = RuleSpec(
    id="inline-policy-admin",
    title="Admin-equivalent inline policy",
    event_source=IAM,
    event_names=frozenset({"PutRolePolicy", "PutUserPolicy", "PutGroupPolicy"}),
    risk=(
        "An inline policy that allows everything, all of IAM, or whole services on every resource makes its "
        "holder an administrator, outside any reviewed managed policy."
    ),
    alert_risk=(
        "This inline policy makes whoever holds it an administrator, or close to one, so anyone who gets hold of "
        "that identity can change or delete anything in the account and cover their tracks."
    ),
)

POLICY_VERSION_ADMIN = RuleSpec(
    id="policy-version-admin",
    title="Managed policy version made admin-equivalent",
    event_source=IAM,
    event_names=frozenset({"CreatePolicyVersion", "SetDefaultPolicyVersion"}),
    risk=(
        "A new default version of a customer-managed policy silently changes the access of every role, user "
        "and group it is attached to."
    ),
    options={"delete_version": _DELETE_VERSION},
    alert_risk=(
        "Changing the default version of a shared policy quietly gives every role, user and group it is attached "
        "to administrator-level or self-escalating access at once."
    ),
)

#: restraint-removed's id (its module imports this one).
RESTRAINT_REMOVED_ID = "restraint-removed"

PRIVILEGE_ESCALATION = RuleSpec(
    id="privilege-escalation",
    title="Privilege escalation path granted",
    event_source=IAM,
    event_names=frozenset(
        {
            "PutRolePolicy",
            "PutUserPolicy",
            "PutGroupPolicy",
            "CreatePolicyVersion",
            "SetDefaultPolicyVersion",
            "AttachRolePolicy",
            "AttachUserPolicy",
            "AttachGroupPolicy",
            # A trust change letting a weaker principal into a stronger role (guardrails.trust_policy).
            "UpdateAssumeRolePolicy",
        }
    ),
    risk=(
        "A known privilege-escalation permission set lets its holder grant itself more access, up to "
        "administrator, without anyone granting it."
    ),
    options={"delete_version": _DELETE_VERSION},
    alert_risk=(
        "These permissions look limited, but they are a known way to grant yourself more, up to full "
        "administrator, so whoever holds them effectively holds everything."
    ),
)
_INLINE = {
    "PutRolePolicy": ("role", "roleName", PolicyKind.INLINE_ROLE),
    "PutUserPolicy": ("user", "userName", PolicyKind.INLINE_USER),
    "PutGroupPolicy": ("group", "groupName", PolicyKind.INLINE_GROUP),
}
#: How many escalation methods a reason names before "and N more" (the finding's ``offending`` has all).
_NAMED_METHODS = 3


def _active(context: RuleContext, spec: RuleSpec) -> bool:
    return context.rule(spec.id).mode is not Mode.OFF


def _rule_for(context: RuleContext, risk: PolicyRisk, own: RuleSpec) -> RuleSpec | None:
    """The one rule that reports this risk (see the module docstring), or None."""
    if risk.admin and _active(context, own):
        return own
    if risk.escalations and _active(context, PRIVILEGE_ESCALATION):
        return PRIVILEGE_ESCALATION
    if risk.escalations and _active(context, own):
        return own
    return None


def _what(risk: PolicyRisk, spec: RuleSpec) -> str:
    """What the document grants, in words: the admin grants, or the escalation methods, each explained
    (``EscalationPath.explain``: the method, each action with the statement and policy that grant it, the
    resources, and the role it leads to)."""
    admin = "; ".join(f"{grant.statement.label} {grant.why}" for grant in risk.admin)
    if admin and spec is not PRIVILEGE_ESCALATION and not risk.escalations:
        return admin
    shown = risk.escalations[:_NAMED_METHODS]
    more = len(risk.escalations) - len(shown)
    count = len(risk.escalations)
    explained = " ".join([explanation(path) for path in shown]).removesuffix(".")
    if more > 0:
        explained += f". The other {more} are listed in the finding"
    opens = (
        f"it opens {'a' if count == 1 else count} privilege-escalation method{'s' if count > 1 else ''}. {explained}"
    )
    return f"{admin}; {opens}" if admin and spec is not PRIVILEGE_ESCALATION else opens


def _severity(risk: PolicyRisk, spec: RuleSpec) -> Severity:
    if spec is PRIVILEGE_ESCALATION or risk.critical:
        return Severity.CRITICAL
    return Severity.HIGH


def offending_of(risk: PolicyRisk) -> list[dict[str, Any]]:
    """The admin statements and escalation methods, as data for the audit record and the alert."""
    items: list[dict[str, Any]] = [
        {"index": g.statement.position, "sid": g.statement.sid, "why": g.why, "statement": dict(g.statement.raw)}
        for g in risk.admin
    ]
    escalations = risk.escalations
    if type(escalations) is not tuple:  # only an immutable tuple is kept by its identity
        items.extend(_path_items(tuple(escalations)))
        return items
    if not escalations:
        return items
    kept = _PATH_ITEMS.get(id(escalations))
    if kept is not None and kept[0] is escalations:
        items.extend(kept[1])
        return items
    paths = _path_items(escalations)
    if len(_PATH_ITEMS) >= PATH_ITEMS_CACHE_SIZE:
        del _PATH_ITEMS[next(iter(_PATH_ITEMS))]  # the oldest entry
    _PATH_ITEMS[id(escalations)] = (escalations, paths)
    items.extend(paths)
    return items


#: ``offending_of``'s items for a tuple of escalation paths, by that very tuple (kept in the entry, so its id is not
#: reused while kept): the verdicts kept per document content give back the same tuple, and an admin-star document's
#: ninety-odd items cost half its judgement to build again. The tuple and its paths are immutable (names, texts and
#: tuples), so its items cannot differ; they are shared read-only (``Finding.offending`` holds Mappings).
_PATH_ITEMS: dict[int, tuple[tuple[EscalationPath, ...], tuple[dict[str, Any], ...]]] = {}
#: How many tuples of paths ``_PATH_ITEMS`` keeps: few, because a tuple not kept by a verdict cache is new on every
#: event and never found again, and an admin-star document's items weigh some 100 KB (review s17: 1,024 entries let
#: a stream of distinct admin documents hold over 100 MB of a 256 MB enforcer); the bench's rotation uses eleven.
PATH_ITEMS_CACHE_SIZE = 64


def _path_items(escalations: tuple[EscalationPath, ...]) -> tuple[dict[str, Any], ...]:
    """Each escalation path as ``offending_of`` lists it: the method, its actions on their resources, the
    statements granting them, where it leads and what is unknown, explained."""
    items: list[dict[str, Any]] = []
    for path in escalations:
        grants = path.grants
        item: dict[str, Any] = {
            "method": path.method.name,
            "description": path.description,
            "actions": [grant.action for grant in grants],
            "resources": {grant.action: list(grant.resources) for grant in grants},
            "granted_by": {grant.action: list(grant.granted_by) for grant in grants},
            "leads_to": [{"arn": lead.arn, "why": lead.why} for lead in path.leads_to],
        }
        if path.unknown:
            item["unknown"] = list(path.unknown)
        item["explanation"] = explanation(path)
        items.append(item)
    return tuple(items)


#: How many roles a reason names as where a path leads.
_NAMED_ROLES = 5
#: How many the finding's ``offending`` lists.
_LISTED_ROLES = 25


class PrincipalChange(NamedTuple):
    """What one change adds to a principal's power, and what that verdict rests on."""

    #: The event's own admin grants (not cancelled) and the escalation methods new since BEFORE.
    risk: PolicyRisk
    #: Older grants that complete a new method: ``cloudformation:CreateStack (inline ci/stack)``.
    completed_by: tuple[str, ...] = ()
    #: Stronger roles the new methods lead to (``EscalationPath.leads_to``): an admin-equivalent role
    #: ``iam:PassRole`` reaches, or one behind a function an ``lambda:UpdateFunctionCode`` grant reaches.
    leads_to: tuple[str, ...] = ()
    #: Facts the verdict lacked; a finding with any is alerted, never remediated.
    needs_context: tuple[str, ...] = ()
    #: The principal's other policies were not known and the document grants part of a method:
    #: the change cannot be called compliant, only alerted.
    cannot_tell: bool = False
    #: The principal's other policies were read (the verdict is on its whole power).
    whole: bool = False
    #: What the event's document is called among the principal's policies (``inline app/deploy``).
    source: str = THE_POLICY
    #: The principal AFTER the change (only the event's document when nothing else is known); None: the
    #: holder is unknown (a group's members), and the document is judged alone.
    after: PrincipalPolicies | None = None
    #: What the principal could do BEFORE the change, once per document the changed source may have held
    #: (see ``Previous``); empty when that was not judged.
    befores: tuple[PolicyRisk, ...] = ()
    #: A group's change: the member users it opens a method for, each judged on its whole power.
    members: tuple[tuple[str, "PrincipalChange"], ...] = ()
    #: The document an inline put replaced, when it is known exactly and differs from the event's (authorization
    #: details taken before it, or the principal's record): the put is then undone by putting it back.
    replaced: Policy | None = None
    #: The other combinations of the held policies' readings (``held_readings``), each as (AFTER, BEFOREs) like
    #: ``after`` and ``befores``: what a plan leaves is checked in each, so a cut closes the method every way.
    readings: tuple[tuple[PrincipalPolicies, tuple[PolicyRisk, ...]], ...] = ()


class Previous(NamedTuple):
    """What the changed source (an inline policy name, a managed policy) held BEFORE the change.

    ``documents``: one document when it is known (the authorization details taken before an inline
    overwrite, a snapshot's default version); several when it was one of them and which is not known (IAM
    does not record which version was the default before a new one: any other version may have been);
    none when the source was not there (a new inline name, an attachment). ``None``: not known at all (a
    live inline put: IAM keeps no history of inline policies, and what is read already holds the change).
    ``fact`` is what ``needs_context`` says when a verdict depends on it.
    """

    documents: tuple[Policy, ...] | None = ()
    fact: str = ""


#: The source was not there before the change.
ABSENT = Previous()
#: BEFORE is whatever the directory holds under the changed source (see ``inline_previous``).
STORED = Previous((), "stored")


def inline_previous(current: PrincipalPolicies, source: str, policy: Policy, what: str) -> Previous:
    """What an inline policy name held before a put, from what the directory holds under that name.

    Nothing: a new name. A different document: the one the put replaced (the authorization details were
    taken before it). The event's own document: read after the change, so what it replaced is unknown.
    """
    stored = next((named.policy for named in current.policies if named.source == source), None)
    if stored is None:
        return ABSENT
    if canonical(dict(stored.raw)) != canonical(dict(policy.raw)):
        return Previous((stored,))
    return Previous(
        None,
        f"the previous document of {what} is unknown (IAM keeps no history of inline policies, and what could "
        "be read already holds this change): if it already granted this, the change added nothing",
    )


def _recorded_previous(context: RuleContext, principal_arn: str, source: str, policy: Policy) -> Previous | None:
    """What an inline put replaced, from the audit table's record of the holder taken before the event (the
    heartbeat's read, or the enforcer's last put of it; ``guardrails.attachments``): no policy of that name (the put
    added it), the very same document (a re-put: nothing added), or a different one the record keeps whole. A
    different one the record knows only by its fingerprint (a record kept before documents were), or no record: None
    (not known)."""
    holder_arn, name = principal_arn, ""
    if source.startswith("group "):  # a member judged for its group's document: "group g: inline g/name"
        group, _, held = source[len("group ") :].partition(": ")
        key = PrincipalKey.of(principal_arn)
        if key is None or not held.startswith("inline "):
            return None
        holder_arn, name = iam_arn(context.partition, key.account, "group", group), held.rsplit("/", 1)[-1]
    elif source.startswith("inline "):
        name = source.rsplit("/", 1)[-1]
    before = inline_held_before(context, holder_arn, name) if name else None
    if before is None:
        return None
    if before.digest == ABSENT_INLINE:
        return ABSENT
    if before.digest == document_digest(dict(policy.raw)):
        return Previous((policy,))
    if before.document is None:
        return None
    try:
        return Previous((parse_policy(before.document, field=f"the recorded document of {source}"),))
    except InvalidEventError:
        return None  # not a policy IAM would have held: not known


def dropped_denies(policy: Policy, replaced: Policy) -> tuple[Statement, ...]:
    """The Deny statements of ``replaced`` that ``policy`` (put over it under the same name) no longer holds."""
    kept = {canonical(dict(statement.raw)) for statement in policy.statements if not statement.allows}
    return tuple(s for s in replaced.statements if not s.allows and canonical(dict(s.raw)) not in kept)


def with_statements(policy: Policy, statements: Sequence[Statement]) -> Policy:
    """``policy`` with ``statements`` (of another document) added: the put as if it had kept a dropped Deny."""
    if not statements:
        return policy
    raw = dict(policy.raw)
    document = {**raw, "Statement": [*statement_list(raw), *(dict(s.raw) for s in statements)]}
    return parse_policy(document, field="the put with the Deny it dropped")


def deny_words(statements: Sequence[Statement]) -> str:
    """A Deny in words, as an alert names it: ``statement 1 (GuardIam): Deny iam:* on *``."""
    parts = []
    for statement in statements:
        raw = statement.raw
        actions = raw.get("Action", raw.get("NotAction"))
        listed = ", ".join(actions) if isinstance(actions, list) else str(actions)
        resources = raw.get("Resource", raw.get("NotResource"))
        where = ", ".join(resources) if isinstance(resources, list) else str(resources)
        verb = "Deny" if "Action" in raw else "Deny all but"
        on = "on" if "Resource" in raw else "on all but"
        condition = " (with a condition)" if raw.get("Condition") else ""
        parts.append(f"{statement.label}: {verb} {listed} {on} {where}{condition}")
    return "; ".join(parts)


def replaced_inline(context: RuleContext, principal_arn: str, source: str, policy: Policy) -> Policy | None:
    """The document an inline put (``policy`` under ``source``) replaced, when it is known exactly and differs from
    the event's: the authorization details taken before the put (offline), or the holder's record (live). None: a new
    name, the same document, or not known."""
    directory = context.directory
    current = directory.principal(principal_arn) if directory is not None else None
    previous = inline_previous(current, source, policy, source) if current is not None else None
    if previous is None or previous.documents is None or (previous.documents and context.recorded is not None):
        previous = _recorded_previous(context, principal_arn, source, policy)  # live: a different one is later
    if previous is None or len(previous.documents or ()) != 1:
        return None
    [held] = previous.documents or ()
    return held if canonical(dict(held.raw)) != canonical(dict(policy.raw)) else None


def opened_since(
    paths: tuple[EscalationPath, ...], befores: tuple[PolicyRisk, ...], previous: Previous
) -> tuple[EscalationPath, ...]:
    """The paths new since BEFORE: new against every document the source may have held. New against some
    only, or against a BEFORE that is not known at all, the path stays with ``previous.fact`` as an unknown
    (alerted, never remediated); held under every one, it is not what this change added."""
    if all(_full_admin(before) for before in befores):
        return ()
    found: list[EscalationPath] = []
    for path in paths:
        new_against = sum(1 for before in befores if not _full_admin(before) and _new(path, before))
        if new_against == 0:
            continue
        if previous.documents is None or new_against < len(befores):
            found.append(path._replace(unknown=(*path.unknown, previous.fact)))
        else:
            found.append(path)
    return tuple(found)


def decisive(risk: PolicyRisk, *, alone: bool = False) -> PolicyRisk:
    """What a verdict rests on: with an admin grant or a certain path, only those (what else is unknown
    cannot change it); otherwise every path, each naming what it lacks.

    ``alone``: the document is judged without knowing the account's roles. A method whose target it grants
    on every resource of its kind (``iam:PassRole`` on ``*`` or ``role/*``, ``lambda:UpdateFunctionCode`` on
    every function) reaches whichever role is strongest, so the document by itself grants the published
    method: certain. Named roles or resources (``stack/app-*``) keep their unknown: what those may do decides.
    """
    paths = tuple(_reaches_any(path) if alone else path for path in risk.escalations)
    certain = tuple(path for path in paths if path.certain)
    # A service-wide grant (``lambda:*``) is no admin: it settles nothing, so the possible paths stay. Nor does an
    # admin grant a Deny with an unresolved variable may cancel (``AdminGrant.unknown``): it is alerted on, naming it.
    if any(grant.certain for grant in risk.admin) or certain:
        return PolicyRisk(risk.admin, certain, ())
    doubts = (*(fact for grant in risk.admin for fact in grant.unknown), *(f for path in paths for f in path.unknown))
    return PolicyRisk(risk.admin, paths, tuple(dict.fromkeys(doubts)))


def _reaches_any(path: EscalationPath) -> EscalationPath:
    """``path`` made certain when its target action reaches every resource of its kind (see ``decisive``)."""
    if not path.unknown or path.method.reach in ("self", "assumes-role", "writes-assumer", "existing-resource"):
        # Certain already; or what it lacks is whether the resources name the holder, or a user who can assume it
        # (a trust policy): not the strongest. An existing resource's role is whatever role someone gave it: none
        # stronger may exist, so without reading the resources that stays unknown (never remediated on a guess).
        return path
    target = (path.method.target or "").lower()
    kind = next((k for action, k in path.method.actions.items() if action.lower() == target), "")
    for grant in path.grants:
        if grant.action.lower() == target and any(_every_one(resource, kind) for resource in grant.resources):
            return EscalationPath(path.method, path.grants, path.leads_to, ())
    return path


def _every_one(resource: str, kind: str) -> bool:
    """``*``, NotResource, or ``arn:aws:iam::1:role/*``: every resource of ``kind`` (``iam:role/``), not a few."""
    if resource == "*" or resource.startswith("NotResource"):
        return True
    prefix = kind.partition(":")[2].lower()
    named = resource.split(":", 5)[-1].lower()
    return bool(prefix) and named.startswith(prefix) and named[len(prefix) :].startswith("*")


def judge_principal_change(
    context: RuleContext,
    principal_arn: str,
    label: str,
    source: str,
    policy: Policy,
    *,
    previous: Previous = ABSENT,
) -> PrincipalChange:
    """Judge the principal AFTER the change against BEFORE it: the principal with what ``source`` held before
    (``previous``; see the module docstring)."""
    directory = context.directory
    current = directory.principal(principal_arn) if directory is not None else None
    if current is None:
        return _judge_holder_alone(directory, principal_arn, label, source, policy)
    replaced_readings: tuple[Policy, ...] = ()
    if previous is STORED:
        previous = inline_previous(current, source, policy, _inline_what(source, label))
        if previous.documents and context.recorded is None:
            replaced_readings = next(named.readings for named in current.policies if named.source == source)
        if previous.documents and context.recorded is not None:
            # Live, the directory is read after the event: a document other than the event's is a later put (or
            # one IAM has not shown yet), never what this put replaced. The record taken before the event says.
            previous = Previous(None, f"the previous document of {_inline_what(source, label)} is unknown")
        if previous.documents is None:
            previous = _recorded_previous(context, principal_arn, source, policy) or previous
    replaced = None
    if previous.documents is not None and len(previous.documents) == 1:
        [held] = previous.documents
        replaced = held if canonical(dict(held.raw)) != canonical(dict(policy.raw)) else None
    after = current.replaced(source, policy)
    # A Deny the put dropped is judged by ``restraint-removed`` (what it kept in check): here, what the put's grants
    # added, as if it had kept it, so one change is not reported twice for the same opening; but only when that rule
    # would act on it as far as this one would (alert while this one remediates: both report it).
    defer = context.rule(RESTRAINT_REMOVED_ID).mode.does_at_least(context.rule(PRIVILEGE_ESCALATION.id).mode)
    denies = dropped_denies(policy, replaced) if replaced is not None and defer else ()
    # Held policies that read more than one way are judged on every reading (issue 13): one combination, the
    # principal as read, when none does.
    read = combinations(current, changed=source)
    judged = [
        _added(combination.principal, source, policy, denies, previous=previous, directory=directory)
        for combination in read.combinations
    ]
    befores = judged[0][1]
    # Capped (``read.partial``), one combination: the last values, judged exactly as before (never weakened).
    risk = merged([risk for risk, _ in judged], read)
    if replaced is not None and not read_alike(replaced, replaced_readings):
        # What the put added, and what putting the old document back would write, rest on how AWS read it.
        risk = doubted(
            risk,
            f"which way AWS read the document {_inline_what(source, label)} held before this put: it names a key "
            "twice with different values, and AWS documents no reading of that (what the put added, and what "
            "putting it back restores, depend on it)",
        )
    if len(judged) > 1 or replaced_readings:
        risk = decisive(risk)
    # Capped and nothing found on the last values: a method needing held documents read another way may be missed
    # (never silent) whenever the change grants a catalogue action or replaces a Deny, the only ways it can open one.
    cannot_tell = read.partial and not risk.risky and _may_open_a_method(policy, previous)
    return PrincipalChange(
        risk,
        _older_grants(risk, source),
        _leads(risk, principal_arn),
        (*risk.unknown, read.fact(found=False)) if cannot_tell else risk.unknown,
        cannot_tell=cannot_tell,
        whole=True,
        source=source,
        after=after,
        befores=befores,
        replaced=replaced,
        readings=tuple(
            (combination.principal.replaced(source, policy), before)
            for combination, (_, before) in zip(read.combinations[1:], judged[1:], strict=True)
        ),
    )


def _added(
    current: PrincipalPolicies,
    source: str,
    policy: Policy,
    denies: Sequence[Statement],
    *,
    previous: Previous,
    directory: RoleDirectory | None,
) -> tuple[PolicyRisk, tuple[PolicyRisk, ...]]:
    """What ``policy`` under ``source`` adds to ``current`` (one reading of its held policies): the event's own
    admin grants and the methods new since BEFORE, decided; and BEFORE, once per document the source may have held."""
    after = current.replaced(source, with_statements(policy, denies) if denies else policy)
    risk_after = assess_principal(after, directory)
    # BEFORE matters only for what AFTER reaches: the analysis is the costly part of judging a principal.
    befores = (
        tuple(assess_principal(current.replaced(source, held), directory) for held in previous.documents or (None,))
        if risk_after.escalations
        else ()
    )
    # The catalogue has applied every Deny and the boundary: an admin grant it keeps is effective. An
    # admin-equivalent grant is judged on the document, whatever it replaced: the rule never accepts one.
    admin = tuple(grant for grant in risk_after.admin if grant.source == source)
    new = opened_since(risk_after.escalations, befores, previous) if befores else ()
    return decisive(PolicyRisk(admin, new, tuple(dict.fromkeys(f for p in new for f in p.unknown)))), befores


def _inline_what(source: str, label: str) -> str:
    """``inline policy deploy of role app`` for ``inline app/deploy``; the source itself otherwise."""
    if source.startswith("inline ") and "/" in source:
        return f"inline policy {source.rsplit('/', 1)[-1]} of {label}"
    return source


def _judge_holder_alone(
    directory: RoleDirectory | None, principal_arn: str, label: str, source: str, policy: Policy
) -> PrincipalChange:
    """``_judged_alone``; offline (no directory: nothing but the document decides) kept per holder and document
    content, since the same document comes back again and again (a pipeline putting its inline policy)."""
    if directory is not None or clock_bound(policy):
        return _judged_alone(directory, principal_arn, label, source, policy)
    key = (principal_arn, label, source, content_key(policy))
    judged = _HELD_ALONE.get(key)
    if judged is None:
        judged = _judged_alone(None, principal_arn, label, source, policy)
        if len(_HELD_ALONE) >= HELD_ALONE_CACHE_SIZE:
            del _HELD_ALONE[next(iter(_HELD_ALONE))]  # the oldest entry
        _HELD_ALONE[key] = judged
        return judged
    # Kept for a document of the same content: its statements and the holder are this document's own.
    after = judged.after
    return judged._replace(
        risk=admin_named_in(judged.risk, policy),
        after=after._replace(policies=(NamedPolicy(after.policies[0].source, policy),)) if after is not None else None,
    )


#: How many offline judgements of a document on its holder ``_judge_holder_alone`` keeps.
HELD_ALONE_CACHE_SIZE = 1024
_HELD_ALONE: dict[tuple[Any, ...], PrincipalChange] = {}


def _judged_alone(
    directory: RoleDirectory | None, principal_arn: str, label: str, source: str, policy: Policy
) -> PrincipalChange:
    """The event's document as the holder's only known policy: offline without authorization details, or
    live when the holder's other policies could not be read.

    The holder named in the event decides what "itself" means: ``iam:PutRolePolicy`` on its own role is
    certain, on another role only possible (that role's trust policy decides), and a user is never the
    role a pattern names. What only the holder's unknown groups or attached policies would tell (a user's
    ``iam:PutGroupPolicy`` on a group it may be in) stays possible, never dropped. A group's document is
    judged for whichever user holds it (its members are not known here). A document that grants part of
    a method cannot be called compliant: the rest may be in what is not known.
    """
    offline = directory is None
    holder = PrincipalPolicies(principal_arn, (NamedPolicy(source, policy),))
    if holder.kind == "group":
        alone = assess(policy)
        after: PrincipalPolicies | None = None
        named = THE_POLICY
    else:
        alone = assess_principal(holder, directory)
        alone = alone._replace(escalations=alone.escalations + _unknown_membership(policy, holder, alone))
        after, named = holder, source
    own = decisive(alone, alone=offline)
    base = PrincipalChange(own, (), _leads(own, principal_arn), own.unknown, source=named, after=after)
    if own.risky or not _grants_part_of_a_method(policy):
        return base
    why = "not known without authorization details" if offline else "they could not be read"
    what = (
        f"the members of {label} and what else they hold ({why})"
        if holder.kind == "group"
        else f"the other policies, groups and permissions boundary of {label} ({why})"
    )
    return base._replace(needs_context=(*own.unknown, what), cannot_tell=True)


def judge_holder_change(
    context: RuleContext,
    principal_arn: str,
    label: str,
    source: str,
    policy: Policy,
    *,
    previous: Previous = ABSENT,
) -> PrincipalChange:
    """``judge_principal_change``, and for a group whose document opens nothing for the group itself, what
    it opens for each member user, on the user's whole power (its own policies, its other groups', its
    boundary). Unknown membership is named in ``needs_context`` when the document grants part of a method."""
    judged = judge_principal_change(context, principal_arn, label, source, policy, previous=previous)
    key = PrincipalKey.of(principal_arn)
    directory = context.directory
    if key is None or key.kind != "group" or judged.risk.risky or directory is None:
        return judged
    members = directory.members_of(principal_arn) if isinstance(directory, GroupMembers) else None
    if members is None:
        if not _grants_part_of_a_method(policy):
            return judged
        what = f"the members of {label} and what else they hold (they could not be read)"
        return judged._replace(needs_context=(*judged.needs_context, what), cannot_tell=True)
    held_as = group_source(key.name, source)
    found: list[tuple[str, PrincipalChange]] = []
    unknown: list[str] = []
    for user_arn in members[:_JUDGED_HOLDERS]:
        user = f"user {user_arn.rsplit('/', 1)[-1]}"
        member = judge_principal_change(context, user_arn, user, held_as, policy, previous=previous)
        if member.risk.escalations:
            found.append((user, member))
        unknown.extend(fact for fact in member.needs_context if fact not in unknown)
    if len(members) > _JUDGED_HOLDERS and _grants_part_of_a_method(policy):
        unknown.append(f"what the other {len(members) - _JUDGED_HOLDERS} members of {label} hold")
    if not found:
        return judged._replace(needs_context=tuple(unknown), cannot_tell=bool(unknown) and not judged.cannot_tell)
    # One member with a certain path decides (``decisive``): what is unknown of the others cannot change it.
    certain = [(user, member) for user, member in found if not member.needs_context]
    if certain:
        found = certain
    paths = tuple(path for _, member in found for path in member.risk.escalations)
    return PrincipalChange(
        PolicyRisk((), paths, () if certain else tuple(unknown)),
        needs_context=() if certain else tuple(unknown),
        whole=True,
        source=held_as,
        members=tuple(found),
        replaced=judged.replaced,
    )


#: Self methods whose resource names the holder only through what it holds: its groups, its managed policies.
_HELD_KINDS = {
    "iam:group/": "whether {holder} is in a group {resources} names",
    "iam:policy/": "whether {holder} holds a managed policy {resources} names",
}


def _unknown_membership(policy: Policy, holder: PrincipalPolicies, judged: PolicyRisk) -> tuple[EscalationPath, ...]:
    """Self methods the document grants on a group or managed policy the holder may hold: possible, not dropped.

    Judged with only the event's document, the holder seems to be in no group and hold no managed policy;
    the methods that rewrite one of those are then unknown, not absent.
    """
    found = {path.method.name for path in judged.escalations}
    possible: list[EscalationPath] = []
    for path in assess(policy).escalations:
        method = path.method
        kind = method.actions.get(method.target or "", "")
        if method.reach != "self" or method.name in found or kind not in _HELD_KINDS:
            continue
        if kind == "iam:group/" and holder.kind != "user":
            continue  # only users are in groups
        resources = " or ".join(r for grant in path.grants if grant.action == method.target for r in grant.resources)
        who = f"{holder.kind} {holder.principal_arn.rsplit('/', 1)[-1]}"
        fact = _HELD_KINDS[kind].format(holder=who, resources=resources)
        possible.append(path._replace(unknown=(f"{fact} (what it holds is not known)",)))
    return tuple(possible)


def _older_grants(risk: PolicyRisk, source: str) -> tuple[str, ...]:
    """The principal's older grants on a new path: ``iam:PassRole (inline app/old)``, also where the event's
    document grants the same action (removing it then leaves the older grant: it completed the path too)."""
    completed: list[str] = []
    for path in risk.escalations:
        for grant in path.grants:
            sources = [by.split(" of ", 1)[-1] for by in grant.granted_by]
            older = [named for named in dict.fromkeys(sources) if named != source]
            entry = f"{grant.action} ({', '.join(older)})"
            if older and entry not in completed:
                completed.append(entry)
    return tuple(completed)


def _leads(risk: PolicyRisk, principal_arn: str) -> tuple[str, ...]:
    """The names of the stronger roles the paths lead to (not the principal itself: a restraint it removes from
    itself is said by the path, which leads to no other role)."""
    return tuple(
        dict.fromkeys(
            lead.arn.rsplit("/", 1)[-1]
            for path in risk.escalations
            for lead in path.leads_to
            if lead.arn != principal_arn
        )
    )


def escalations_opened(
    before: PrincipalPolicies, after: PrincipalPolicies, directory: RoleDirectory | None
) -> tuple[EscalationPath, ...]:
    """The escalation paths AFTER reaches that BEFORE did not (none when BEFORE was a full administrator):
    ``opened_since`` with the one BEFORE, known exactly (the same principal without the change)."""
    risk_after = assess_principal(after, directory)
    if not risk_after.escalations:
        return ()
    return opened_since(risk_after.escalations, (assess_principal(before, directory),), Previous())


def _new(path: EscalationPath, before: PolicyRisk) -> bool:
    """Whether ``path`` is new since BEFORE: its method was not reachable, or only possibly and now certainly."""
    return not any(
        held.method.name == path.method.name and (held.certain or not path.certain) for held in before.escalations
    )


def _full_admin(before: PolicyRisk) -> bool:
    """Whether BEFORE held an unconditional Allow of every action on every resource that no Deny cancels: then
    an escalation path leads nowhere new (a read-everything ``*:Get*`` or a NotAction grant does not count)."""
    return any(
        not grant.statement.conditions
        and any(action in ("*", "*:*") for action in grant.statement.actions or ())
        and "*" in (grant.statement.resources or ())
        for grant in before.admin
    )


@cache
def _method_parts() -> tuple[
    dict[str, str], tuple[tuple[frozenset[str], frozenset[str], bool], ...], tuple[frozenset[str], ...]
]:
    """The catalogue, read once for ``_grants_part_of_a_method``: each action some method needs, by its lower
    case; per method, the actions it needs, those that are more than a read (``_discovers``), and whether it
    takes over another principal; and the methods a rest may be "a method by itself" of. Assuming a stronger
    role is one only where a trust lets the holder in: it does not make the sts:AssumeRole of a method that
    first rewrites a role's permissions "the rest is a method already"."""
    methods = catalogue().methods
    spelled = {action.lower(): action for method in methods for action in method.actions}
    parts = tuple(
        (
            frozenset(method.actions),
            frozenset(action for action in method.actions if not _discovers(action)),
            method.reach == "becomes-other",
        )
        for method in methods
    )
    others = tuple(frozenset(method.actions) for method in methods if method.reach != "assumes-role")
    return spelled, parts, others


def _may_open_a_method(policy: Policy, previous: Previous) -> bool:
    """Whether putting ``policy`` in place of ``previous`` can open a method in some reading of what the principal
    holds: it allows an action of the catalogue, or the document it replaced held a Deny (a Deny opens nothing)."""
    return any(
        statement.allows and catalogue_actions_covered(statement.actions, statement.not_actions)
        for statement in policy.statements
    ) or any(not statement.allows for held in previous.documents or () for statement in held.statements)


def _grants_part_of_a_method(policy: Policy) -> bool:
    """Whether the document allows part of an escalation method whose rest another policy may hold.

    A method counts when the document grants some but not all of its actions, and the rest is not a
    method by itself (``iam:CreateAccessKey`` of AttachUserPolicyThenCreateAccessKey adds nothing to an
    ``iam:AttachUserPolicy`` that already escalates alone). A grant on ``user/${aws:username}`` is no part
    of a method that takes over another user, and a read that only finds the target (``ec2:DescribeInstances``)
    is no part of any. A method it grants every action of is judged on the
    document itself.
    """
    spelled, parts, others = _method_parts()
    granted: set[str] = set()  # the actions an Allow grants, as the catalogue spells them
    beyond_own_user: set[str] = set()  # ... on more than the caller's own user
    cancelled = cancelled_actions(policy)  # by the document's own unconditional Deny: granted nowhere
    for statement in policy.statements:
        if not statement.allows or (statement.actions is None and statement.not_actions is None):
            continue
        covered = [
            spelled[action]
            for action in catalogue_actions_covered(statement.actions, statement.not_actions)
            if action not in cancelled and not (action == _PASS_ROLE and _passes_to_no_method(statement))
        ]
        granted.update(covered)
        if statement.resources is None or not all(map(names_own_user_only, statement.resources)):
            beyond_own_user.update(covered)
    if not granted:
        return False
    for needed, powers, takes_over in parts:
        mine = powers & (beyond_own_user if takes_over else granted)
        rest = needed - mine
        if mine and rest and not any(other <= rest for other in others):
            return True
    return False


_PASS_ROLE = "iam:passrole"  # noqa: S105 - an IAM action, no credential


# Services known to run nothing of the caller's choosing with a role passed to them. AWS Config only: its recorder
# uses the role to describe the account's resources and deliver configuration items to the delivery channel ("the
# IAM role that AWS Config uses to read your resource configurations", AWS Config Developer Guide, "Permissions for
# the IAM Role Assigned to AWS Config"); PutConfigurationRecorder takes no code, template or target. A service left
# out here (scheduler, states, airflow-env, codepipeline, servicecatalog and any other) may run caller-chosen code or
# API calls as the role, so a pass to it stays part of a method: an allow-list, never "not in the catalogue".
_RUNS_NOTHING = frozenset({"config.amazonaws.com"})


def _passes_to_no_method(statement: Statement) -> bool:
    """Whether an Allow's ``iam:PassedToService`` conditions admit only services known to run nothing of the
    caller's with the role (``_RUNS_NOTHING``). Only plain ``StringEquals`` / ``StringEqualsIgnoreCase`` lists count:
    any other condition may admit another service, and the ``iam:PassRole`` stays part of a method."""
    admitted: set[str] | None = None
    for condition in statement.conditions:
        if condition.key != "iam:passedtoservice":
            continue
        if condition.operator not in ("StringEquals", "StringEqualsIgnoreCase") or condition.qualifier:
            return False
        if condition.if_exists:
            return False
        values = {value.lower() for value in condition.values}
        admitted = values if admitted is None else admitted & values
    return admitted is not None and admitted <= _RUNS_NOTHING


def _discovers(action: str) -> bool:
    """A read a method uses to find its target (``ec2:DescribeInstances``): no part of its power by itself."""
    return action.split(":", 1)[-1].startswith(("Get", "List", "Describe"))


def _context_note(judged: PrincipalChange, kind: str, principal: str) -> str:
    """What the reason adds about older grants that complete a path, and the roles a path leads to."""
    note = ""
    if judged.completed_by:
        older = ", ".join(judged.completed_by)
        note += (
            f" {kind.capitalize()} {principal} already held the rest of it: {older}."
            if not _also_granted_here(judged)
            else f" Older grants of {kind} {principal} complete it as well (removing only the new grant of an "
            f"action they also allow would leave it open): {older}."
        )
    explained = {lead.arn.rsplit("/", 1)[-1] for p in judged.risk.escalations[:_NAMED_METHODS] for lead in p.leads_to}
    unexplained = tuple(name for name in judged.leads_to if name not in explained)
    if unexplained:  # the roles the explained paths lead to are named in their explanation
        named = unexplained[:_NAMED_ROLES]
        more = len(unexplained) - len(named)
        note += f" It also leads to role{'s' if len(unexplained) > 1 else ''} {', '.join(named)}" + (
            f" and {more} more." if more > 0 else "."
        )
    return note


def _also_granted_here(judged: PrincipalChange) -> bool:
    """Whether an action of a new path is granted both by the event's document and by an older grant."""
    return any(
        len({by.split(" of ", 1)[-1] for by in grant.granted_by} | {judged.source}) > 1
        and any(by.split(" of ", 1)[-1] == judged.source for by in grant.granted_by)
        for path in judged.risk.escalations
        for grant in path.grants
    )


def _opens(judged: PrincipalChange, spec: RuleSpec, kind: str, principal: str) -> str:
    """What the change opens, in sentences: for the principal, or for each member of a group."""
    if judged.members:
        return " ".join(
            f"For {label}: {_what(member.risk, spec)}.{_context_note(member, *label.split(' ', 1))}"
            for label, member in judged.members
        )
    return f"{_what(judged.risk, spec)}.{_context_note(judged, kind, principal)}"


def _offending_of_change(judged: PrincipalChange) -> list[dict[str, Any]]:
    """``_offending``, per member user for a group's change."""
    if judged.members:
        return [{"holder": label, "items": _offending(member)} for label, member in judged.members]
    return _offending(judged)


def _offending(judged: PrincipalChange) -> list[dict[str, Any]]:
    items = offending_of(judged.risk)
    if judged.completed_by:
        items.append({"completed_by": list(judged.completed_by)})
    if judged.leads_to:
        listed = list(judged.leads_to[:_LISTED_ROLES])
        more = len(judged.leads_to) - len(listed)
        items.append({"leads_to": listed, **({"more_roles": more} if more > 0 else {})})
    return items


def _uncertain(
    context: RuleContext,
    own: RuleSpec,
    judged: PrincipalChange,
    arn: str,
    what: str,
    *,
    plan: list[RemediationStep],
) -> Finding:
    """An alert-only finding: whether the change opens an escalation method rests on what could not be known."""
    spec = PRIVILEGE_ESCALATION if _active(context, PRIVILEGE_ESCALATION) else own
    why = (
        "it grants part of a privilege-escalation method, and IAM Warden could not read what else the principal "
        "holds, so it cannot tell whether together they open one"
        if judged.cannot_tell
        else "whether it opens a privilege-escalation method depends on what IAM Warden could not know"
    )
    return context.finding(
        spec,
        severity=Severity.HIGH,
        resource_arn=arn,
        reason=f"{what} by {context.change.actor.display}: {why}. Check it by hand.",
        plan=plan,
        needs_context=judged.needs_context,
    )


class InlinePolicyRule:
    """Put{Role,User,Group}Policy whose document is admin-equivalent or opens an escalation method."""

    specs: ClassVar[tuple[RuleSpec, ...]] = (INLINE_POLICY_ADMIN, PRIVILEGE_ESCALATION)
    event_keys: ClassVar[frozenset[tuple[str, str]]] = frozenset((IAM, name) for name in _INLINE)

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        kind, parameter, policy_kind = _INLINE[change.event_name]
        principal = context.request_text(parameter)
        policy_name = context.request_text("policyName")
        arn = iam_arn(context.partition, change.account, kind, principal)
        evaluation = Evaluation(resource_arn=arn)
        field = "detail.requestParameters.policyDocument"
        # Parsed once per document text (``load_policy``): the same inline policy is put again and again.
        policy = load_policy(change.request_parameters.get("policyDocument"), policy_kind, field=field)
        document = dict(policy.raw)
        source = inline_source(principal, policy_name)
        judged = judge_holder_change(context, arn, f"{kind} {principal}", source, policy, previous=STORED)
        risk = judged.risk
        step = inline_policy_step(
            arn,
            kind,
            principal,
            policy_name,
            document=document,
            risk=risk,
            source=judged.source,
            opens=_still_opens(judged, context.directory),
            parsed=policy,
        )
        if judged.replaced is not None and not _cut_keeps(step, judged.replaced) and not assess(judged.replaced).admin:
            # What the put replaced is known, and the cut would take some of it (or the Deny it held stays dropped):
            # putting it back takes away what the put added and nothing older. An admin-equivalent document is
            # never put back: the event's is cut as before.
            step = restore_inline_step(arn, kind, principal, policy_name, document=document, previous=judged.replaced)
        spec = _rule_for(context, risk, INLINE_POLICY_ADMIN)
        if spec is None and judged.needs_context:
            what = f"Inline policy {policy_name} was put on {kind} {principal}"
            evaluation.findings.append(_uncertain(context, INLINE_POLICY_ADMIN, judged, arn, what, plan=[step]))
            return evaluation
        if spec is None:
            evaluation.compliant.append(
                f"inline policy {policy_name} of {kind} {principal}: the rule that covers it is off"
                if risk.risky
                else f"inline policy {policy_name} of {kind} {principal} grants no admin-equivalent access and opens "
                f"no known privilege-escalation method that {kind} {principal} did not already have, with "
                "everything else it holds"
                if judged.whole
                else f"inline policy {policy_name} of {kind} {principal} grants no admin-equivalent access and opens "
                "no known privilege-escalation method"
            )
            return evaluation
        evaluation.findings.append(
            context.finding(
                spec,
                severity=_severity(risk, spec),
                resource_arn=arn,
                reason=(
                    f"Inline policy {policy_name} was put on {kind} {principal} by {change.actor.display}: "
                    f"{_opens(judged, spec, kind, principal)}"
                ),
                plan=[step],
                offending=_offending_of_change(judged),
                needs_context=judged.needs_context,
            )
        )
        return evaluation


class PolicyVersionRule:
    """CreatePolicyVersion with SetAsDefault, and SetDefaultPolicyVersion, making a policy risky."""

    specs: ClassVar[tuple[RuleSpec, ...]] = (POLICY_VERSION_ADMIN, PRIVILEGE_ESCALATION)
    event_keys: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        (IAM, name) for name in ("CreatePolicyVersion", "SetDefaultPolicyVersion")
    )

    def evaluate(self, context: RuleContext) -> Evaluation:
        """A ``SetDefaultPolicyVersion`` whose version's text names a key twice (``PolicyVersion.readings``) is
        judged on every reading (``_judged_every_way``). ``CreatePolicyVersion`` carries its text: the engine reads
        that every way, deciding as here (``engine._read_either_way``)."""
        if context.change.event_name != "SetDefaultPolicyVersion" or context.documents is None:
            return self._evaluate(context)
        version_id = context.request_text("versionId")
        return _judged_every_way(
            context, context.documents, self._evaluate, context.request_text("policyArn"), version_id
        )

    def _evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        policy_arn = context.request_text("policyArn")
        evaluation = Evaluation(resource_arn=policy_arn)
        name = policy_arn.rsplit("/", 1)[-1]
        if context.settings.own.is_own_policy(policy_arn, change.account):
            # IAM Warden's own remediation grants hold escalation methods by design: iamwarden-tampered judges
            # their versions (its stack's deploys are fine, anyone else's are put back), never this rule.
            evaluation.compliant.append(f"{name} is IAM Warden's own policy: iamwarden-tampered judges its versions")
            return evaluation
        if change.event_name == "CreatePolicyVersion":
            if change.request_parameters.get("setAsDefault") not in (True, "true"):
                # A version staged now can be made the default later: what the default is now settles that
                # change's "before" (IAM keeps no record of it), so the enforcer keeps it.
                _observe_default(context, evaluation, policy_arn, _listing(context, policy_arn))
                return self._staged(context, evaluation, policy_arn, name)
            version_id = _created_version(change.response_elements)
            field = "detail.requestParameters.policyDocument"
            policy = load_policy(change.request_parameters.get("policyDocument"), PolicyKind.MANAGED, field=field)
        else:
            version_id = context.request_text("versionId")
            field = f"version {version_id} of {policy_arn}"
            if context.documents is None:
                evaluation.unjudged.append(
                    f"SetDefaultPolicyVersion names version {version_id} of {policy_arn} but not its document; "
                    "the enforcer reads it live"
                )
                return evaluation
            version = context.documents.version(change.account, policy_arn, version_id)
            if version is None:
                evaluation.compliant.append(f"version {version_id} of {name} no longer exists")
                return evaluation
            policy = parse_policy(dict(version.document), field=field)  # a new version's is parsed by load_policy
        listed = _listing(context, policy_arn)
        _observe_default(context, evaluation, policy_arn, listed)
        previous, previous_id = _previous_default(context, policy_arn, version_id, listed)
        if previous_id is None and listed is None and _created_after_v1(context):
            previous_id = _KNOWN_DEFAULT  # no listing: still known (restored only if it is still there and safe)
        risk = _opened_by_version(policy, previous)
        spec = _rule_for(context, risk, POLICY_VERSION_ADMIN)
        verb = "made the default" if change.event_name == "SetDefaultPolicyVersion" else "created as the default"
        holders: tuple[tuple[str, PrincipalChange], ...] = ()
        unknown: tuple[str, ...] = ()
        judged_holders: int | None = None
        if spec is not None or not risk.risky:
            # Who holds the policy decides (issue 13, session 11): what each holder can do after the change, its own
            # Denies and boundary applied. A risky version alone is a finding; it is remediated only when a holder
            # gains with every fact known.
            holders, unknown, judged_holders = _judge_holders(context, policy_arn, policy, previous, risky=risk.risky)
            if spec is None and (holders or unknown):
                spec = PRIVILEGE_ESCALATION if _active(context, PRIVILEGE_ESCALATION) else POLICY_VERSION_ADMIN
        if spec is None:
            evaluation.compliant.append(
                f"version {version_id} of {name}: the rule that covers it is off"
                if risk.risky
                else f"version {version_id} of {name} grants no admin-equivalent access and opens no known "
                f"privilege-escalation method, also with everything else the {judged_holders} roles, users and "
                "groups it is attached to hold"
                if judged_holders
                else f"version {version_id} of {name} grants no admin-equivalent access, opens no known "
                "privilege-escalation method and is attached to nothing"
                if judged_holders == 0
                else f"version {version_id} of {name} grants no admin-equivalent access and opens no known "
                "privilege-escalation method"
            )
            return evaluation
        delete = context.rule(spec.id).choice("delete_version") == "delete"
        added = tuple(
            dict.fromkeys(
                path.method.name
                for path in (*risk.escalations, *(p for _, held in holders for p in held.risk.escalations))
            )
        )
        step = policy_version_step(
            policy_arn,
            version_id,
            delete,
            dict(policy.raw),
            risk,
            parsed=policy,
            previous_id=previous_id,
            # Without a listing there is no earlier version to weigh: a restore needs one that is safe outright.
            added_methods=None if risk.admin or previous is ABSENT else added,
        )
        unrestorable = _unrestorable(listed, previous_id, step.parameters.get("added_methods"))
        if unrestorable is not None:
            # Said on the plan (``readings.restores_a_known_version``): for a text read two ways, the write it would
            # fall back to is a guess, so that finding is alerted only (review 2 of s14, F1).
            step = step._replace(parameters={**step.parameters, PREVIOUS_UNSAFE: unrestorable})
        restore_unknown: tuple[str, ...] = _previous_read_two_ways(
            listed, previous_id, tuple(path.method.name for path in assess(policy).escalations), bool(risk.admin)
        )
        if previous_id is None and previous is not ABSENT and _rewritten(dict(policy.raw), step) is None:
            # Several versions may have been the default and no grant of this one may stay: putting one back would
            # be a guess (it may grant more than was ever in force, or lack a Deny the default held), so alert only.
            restore_unknown = (
                *restore_unknown,
                previous.fact
                or f"which version of {name} was the default before {version_id} (IAM keeps no record of it)",
            )
        what = f"Version {version_id} of the customer-managed policy {name} was {verb}"
        if not risk.risky and not holders:
            judged = PrincipalChange(risk, needs_context=(*unknown, *restore_unknown), cannot_tell=True)
            evaluation.findings.append(_uncertain(context, POLICY_VERSION_ADMIN, judged, policy_arn, what, plan=[step]))
            return evaluation
        if risk.risky:
            # The version is risky by itself: main's verdict on the document is the floor (review s11 findings 1, 2,
            # 4, 7). Its own conditions or conditional Denies are the author's, not a holder's guard; a holder that
            # gains nothing now would gain on the next attach; so it is undone whatever the holders hold, and they
            # are only named.
            gainers = [(label, held) for label, held in holders if not held.needs_context]
            reason = f"{what} by {change.actor.display}: {_what(risk, spec)}. " + _holders_note(
                gainers, spec, none_gain=not holders and not unknown, judged_holders=judged_holders
            )
            offending = [
                *offending_of(risk),
                *({"holder": label, "items": _offending(held)} for label, held in gainers),
            ]
            severity = _severity(risk, spec)
            doubts = risk.unknown
        else:
            # Harmless alone: what a holder gains (its own Denies and boundary applied) is the finding.
            opens = " ".join(
                f"For {label}: {_what(held.risk, spec)}.{_context_note(held, *label.split(' ', 1))}"
                for label, held in holders
            )
            reason = f"{what} by {change.actor.display}. {opens}"
            offending = [{"holder": label, "items": _offending(held)} for label, held in holders]
            severity = (
                Severity.CRITICAL
                if any(_severity(held.risk, spec) is Severity.CRITICAL for _, held in holders)
                else Severity.HIGH
            )
            # One holder that gains with nothing unknown decides (as ``decisive`` reads a path); else each doubt.
            certain = any(not held.needs_context for _, held in holders)
            doubts = () if certain else tuple(dict.fromkeys((*risk.unknown, *unknown)))
        evaluation.findings.append(
            context.finding(
                spec,
                severity=severity,
                resource_arn=policy_arn,
                reason=reason,
                plan=[step],
                offending=[{"version_id": version_id}, *offending],
                needs_context=(*doubts, *restore_unknown),
            )
        )
        return evaluation

    @staticmethod
    def _staged(context: RuleContext, evaluation: Evaluation, policy_arn: str, name: str) -> Evaluation:
        """A version created, not as the default: nothing holds it yet (making it the default is judged then).
        One that is admin-equivalent or opens a method on its own is staged for that: alerted (medium when
        critical, else low), with nothing to remediate, since nothing is in force."""
        change = context.change
        field = "detail.requestParameters.policyDocument"
        policy = load_policy(change.request_parameters.get("policyDocument"), PolicyKind.MANAGED, field=field)
        risk = decisive(assess(policy), alone=True)
        spec = _rule_for(context, risk, POLICY_VERSION_ADMIN)
        if spec is None:
            evaluation.compliant.append(
                f"the new version of {name} was not made the default, so it grants nothing yet "
                "(making it the default is judged then)"
            )
            return evaluation
        version_id = _created_version(change.response_elements)
        evaluation.findings.append(
            context.finding(
                spec,
                severity=Severity.MEDIUM if risk.critical else Severity.LOW,
                resource_arn=policy_arn,
                reason=f"Version {version_id} of the customer-managed policy {name} was created by "
                f"{change.actor.display}, not as the default: {_what(risk, spec)}. It is staged, not in force: "
                "nothing holds it until it is made the default (judged then), so nothing is changed; check why "
                "it was created.",
                plan=[],
                offending=[{"version_id": version_id, "staged": True}, *offending_of(risk)],
                needs_context=risk.unknown,
            )
        )
        return evaluation


#: How many holders of a customer-managed policy a new default version is judged for, per event.
_JUDGED_HOLDERS = 25


def _listing(context: RuleContext, policy_arn: str) -> PolicyVersions | None:
    """The policy's versions and default, from a reader that lists them (live, or the authorization details)."""
    documents = context.documents
    if documents is None or not isinstance(documents, ListsPolicyVersions):  # ``is None`` first: see _judge_holders
        return None
    return documents.policy_versions(context.change.account, policy_arn)


def _observe_default(
    context: RuleContext, evaluation: Evaluation, policy_arn: str, listed: PolicyVersions | None
) -> None:
    """The default version and the versions read judging this event, for the audit table (``POLICY_DEFAULT``),
    dated by the event: the next version event's "previous default" (in the enforcer only: offline none is kept)."""
    if context.recorded is None or listed is None or not listed.default_id:
        return
    versions = sorted((version.version_id for version in listed.versions), key=_number)
    data = {"default_version": listed.default_id, "versions": versions}
    change = context.change
    sets_default = change.event_name == "SetDefaultPolicyVersion" or (
        change.event_name == "CreatePolicyVersion" and change.request_parameters.get("setAsDefault") is True
    )
    evaluation.observed.append(
        Snapshot(POLICY_DEFAULT, policy_arn, observed_at(change.time), data, whatever_the_verdict=not sets_default)
    )


def _previous_default(
    context: RuleContext, policy_arn: str, version_id: str, listed: PolicyVersions | None
) -> tuple[Previous, str | None]:
    """What the policy's default version was before ``version_id`` became it, and its id when known exactly.

    A reader that lists versions (``ListsPolicyVersions``: live, or the authorization details) tells it: a
    default other than ``version_id`` is the previous one (a snapshot taken before the change). Otherwise the
    enforcer's record of the default, kept judging an earlier version event (``POLICY_DEFAULT``), tells it, with
    any version created since that record as another candidate (it may have been made the default unseen).
    Without a record it was one of the other versions, and IAM does not record which, so each is a candidate.
    Without a listing, the event's document is judged as if the policy granted nothing before (as without context).
    """
    if listed is None:
        return ABSENT, None
    name = policy_arn.rsplit("/", 1)[-1]
    parsed: dict[str, Policy] = {}
    for version in listed.versions:
        try:
            parsed[version.version_id] = parse_policy(dict(version.document), field=f"version {version.version_id}")
        except InvalidEventError:
            continue  # a version that does not parse grants nothing IAM Warden can judge
    if listed.default_id != version_id and listed.default_id in parsed:
        return Previous((parsed[listed.default_id],)), listed.default_id
    others = {vid: doc for vid, doc in parsed.items() if vid != version_id}
    if not others:
        return (
            Previous(None, f"the previous default version of {name} is unknown: no other version of it is left"),
            None,
        )
    recorded = _recorded_candidates(context, policy_arn, version_id, others)
    if recorded is not None:
        others = {vid: others[vid] for vid in recorded}
        if len(others) == 1:
            return Previous(tuple(others.values())), recorded[0]
    fact = (
        f"which version of {name} was the default before {version_id} (IAM keeps no record of it): "
        f"{' or '.join(sorted(others, key=_number))}, and they differ in this"
    )
    # A lone other version is the previous default's id only when it is known to have been it: ``v1`` when the
    # event created ``v2`` as the default (``_created_after_v1``); else it may be a never-default draft left after
    # the default was deleted, or a default superseded before the change (review s11 finding 5).
    lone = next(iter(others)) if len(others) == 1 else None
    return Previous(tuple(others.values()), fact), (lone if lone is not None and _created_after_v1(context) else None)


def _listed_version(listed: PolicyVersions | None, version_id: str | None) -> PolicyVersion | None:
    if listed is None or version_id is None:
        return None
    return next((version for version in listed.versions if version.version_id == version_id), None)


def _reading_verdicts(version: PolicyVersion, added: Any) -> list[bool]:
    """For each reading of ``version`` that parses (its last-wins document first, then its other readings), whether
    it may not be the default (``_unsafe``). A reading that does not parse is one IAM would have refused: dropped
    (empty: no reading parses)."""
    verdicts = []
    for document in (version.document, *version.readings):
        try:
            verdicts.append(_unsafe(parse_policy(dict(document), field=f"version {version.version_id}"), added))
        except InvalidEventError:
            continue
    return verdicts


def _unrestorable(listed: PolicyVersions | None, previous_id: str | None, added: Any) -> str | None:
    """Why the known previous default ``previous_id`` cannot be made the default again as it was read (None: it
    can, or none is known): not read, not parsing, or not safe in some reading (``_unsafe``, as ``safe_version``
    judges it). A previous default that reads two ways but is safe in every reading is restorable: restoring it
    rests on known facts (review 3 of s14, R1). The executor judges it again live; this says at judgement time that
    its plan would write a version."""
    if previous_id is None:
        return None
    version = _listed_version(listed, previous_id)
    if version is None:
        return f"the previous default {previous_id} was not read"
    verdicts = _reading_verdicts(version, added)
    if not verdicts:
        return f"the previous default {previous_id} does not parse"
    if any(verdicts):
        if version.readings:
            return f"the previous default {previous_id} reads two ways and is not safe in every reading"
        return f"the previous default {previous_id} is not safe either"
    return None


def _previous_read_two_ways(
    listed: PolicyVersions | None, previous_id: str | None, methods: Sequence[str], admin: bool
) -> tuple[str, ...]:
    """A doubt when the previous default's own text reads two ways AND its readings differ on the new version's own
    methods ``methods`` (one reading holds one, another does not): what the change adds is judged against its last
    value only, which may hide what the change opens (review 2 of s14, F2), so the finding is alerted only. An admin
    change is judged on itself, and a previous default whose readings agree raises no doubt (review 3 of s14, R1)."""
    version = _listed_version(listed, previous_id)
    if admin or version is None or not version.readings:
        return ()
    if len(set(_reading_verdicts(version, tuple(methods)))) < 2:
        return ()
    return (
        f"the previous default {previous_id} reads two ways: what this change adds is judged on its last value "
        "only, and it is not made the default again",
    )


def _created_after_v1(context: RuleContext) -> bool:
    """The event created ``v2`` as the default: version ids increase and are never reused, so ``v1`` was the only
    version then, and so the default (``CreatePolicy`` makes it one): the one previous default known without a
    record (review s11 finding 5)."""
    change = context.change
    return (
        change.event_name == "CreatePolicyVersion"
        and change.request_parameters.get("setAsDefault") is True
        and _created_version(change.response_elements) == "v2"
    )


def _recorded_candidates(
    context: RuleContext, policy_arn: str, version_id: str, others: Mapping[str, Policy]
) -> list[str] | None:
    """The versions that may have been the default before ``version_id``, by the enforcer's record: the recorded
    default, and each version it did not list (created since). None: no record that helps (none, taken after this
    change, or naming ``version_id`` itself or a version no longer there)."""
    if context.recorded is None:
        return None
    snapshot = context.recorded.snapshot(POLICY_DEFAULT, policy_arn)
    if snapshot is None or not snapshot.taken_before(context.change.time):
        return None
    default = snapshot.data.get("default_version")
    known = snapshot.data.get("versions")
    if not isinstance(default, str) or default not in others or not isinstance(known, list):
        return None
    return [default, *(vid for vid in others if vid != default and vid not in known)]


def _opened_by_version(policy: Policy, previous: Previous) -> PolicyRisk:
    """The version's document judged alone (``decisive``), keeping only the escalation methods it opens that
    the previous default (judged alone too) did not grant; admin-equivalent grants are judged on the document."""
    if previous.documents == ():
        return _decided_alone(policy)
    risk = assess(policy)
    if not risk.escalations:
        return decisive(risk, alone=True)
    reaching = tuple(_reaches_any(path) for path in risk.escalations)
    held = previous.documents if previous.documents is not None else (None,)
    befores = tuple(_alone(assess(document)) if document is not None else PolicyRisk((), (), ()) for document in held)
    new = opened_since(reaching, befores, previous)
    return decisive(PolicyRisk(risk.admin, new, ()))


def _decided_alone(policy: Policy) -> PolicyRisk:
    """``decisive(assess(policy), alone=True)``, kept by the document's content as ``assess`` keeps its verdict."""
    key = content_key(policy)
    decided = _DECIDED_ALONE.get(key)
    if decided is None:
        decided = decisive(assess(policy), alone=True)
        if clock_bound(policy):
            return decided
        if len(_DECIDED_ALONE) >= DECIDED_ALONE_CACHE_SIZE:
            del _DECIDED_ALONE[next(iter(_DECIDED_ALONE))]  # the oldest entry
        _DECIDED_ALONE[key] = decided
        return decided
    return admin_named_in(decided, policy)


#: How many documents' ``_decided_alone`` verdicts are kept.
DECIDED_ALONE_CACHE_SIZE = 1024
_DECIDED_ALONE: dict[tuple[tuple[Any, ...], ...], PolicyRisk] = {}


def _alone(risk: PolicyRisk) -> PolicyRisk:
    """``risk`` of a document judged without the account's roles, as ``decisive(..., alone=True)`` reads it."""
    return risk._replace(escalations=tuple(_reaches_any(path) for path in risk.escalations))


def _judge_holders(
    context: RuleContext, policy_arn: str, policy: Policy, previous: Previous = ABSENT, *, risky: bool = False
) -> tuple[tuple[tuple[str, PrincipalChange], ...], tuple[str, ...], int | None]:
    """What a new default version adds to each principal it is attached to: the holders it opens a method for or
    makes admin-equivalent, what could not be known, and how many holders were judged (None when they are not known).

    Each holder is judged on its whole power after the change, its own Deny statements and permissions boundary
    applied, and what a gain rests on named (``with_doubts``: a condition, a conditional Deny or boundary); a group's
    gain is its members' (each user with its own Denies and boundary). A holder that could not be read may hold a
    guard that cancels the gain: it gains possibly, never certainly. ``risky``: the version is risky judged alone, so
    holders that are not known are a fact the verdict lacks even when the document grants no part of a method.
    """
    directory = context.directory
    name = policy_arn.rsplit("/", 1)[-1]
    # ``is None`` first: a runtime-checkable Protocol's isinstance costs about 10 µs even for None.
    holders = (
        directory.attached_to(policy_arn)
        if directory is not None and isinstance(directory, PolicyAttachments)
        else None
    )
    if holders is None:
        if not risky and not _grants_part_of_a_method(policy):
            return (), (), None
        why = " (not known without authorization details)" if directory is None else ""
        return (), (f"the roles, users and groups {name} is attached to, and what else they hold{why}",), None
    found: list[tuple[str, PrincipalChange]] = []
    unknown: list[str] = []
    for arn in holders[:_JUDGED_HOLDERS]:
        key = PrincipalKey.of(arn)
        if key is None:
            continue
        label = f"{key.kind} {key.name}"
        if key.kind == "group":
            members, facts = _group_holders(context, arn, label, policy_arn, policy, previous=previous, risky=risky)
            found.extend(members)
            held_facts = (fact for _, held in members for fact in held.needs_context)
            unknown.extend(fact for fact in (*facts, *held_facts) if fact not in unknown)
            continue
        judged = _holder_gain(context, arn, label, policy_arn, policy, previous=previous)
        if judged.risk.risky:
            found.append((label, judged))
        unknown.extend(fact for fact in judged.needs_context if fact not in unknown)
    if len(holders) > _JUDGED_HOLDERS and (risky or _grants_part_of_a_method(policy)):
        unknown.append(f"what the other {len(holders) - _JUDGED_HOLDERS} holders of {name} hold")
    return tuple(found), tuple(unknown), min(len(holders), _JUDGED_HOLDERS)


def _holder_gain(
    context: RuleContext, arn: str, label: str, source: str, policy: Policy, *, previous: Previous
) -> PrincipalChange:
    """What one role or user gains from the version (``judge_principal_change``), with what it rests on named
    (``with_doubts``, then ``decisive``); a holder that could not be read gains only possibly (its own Deny or
    boundary may cancel it)."""
    directory = context.directory
    readable = directory is not None and directory.principal(arn) is not None
    judged = judge_principal_change(context, arn, label, source, policy, previous=previous)
    if not judged.risk.risky:
        return judged
    if not readable or judged.after is None:
        unread = f"what else {label} holds (it could not be read): its own Deny or permissions boundary may cancel it"
        return judged._replace(needs_context=tuple(dict.fromkeys((*judged.needs_context, unread))))
    doubted = decisive(with_doubts(judged.after, judged.risk, changed=(source,)))
    return judged._replace(risk=doubted, needs_context=doubted.unknown)


def _group_holders(
    context: RuleContext,
    group_arn: str,
    label: str,
    policy_arn: str,
    policy: Policy,
    *,
    previous: Previous,
    risky: bool,
) -> tuple[list[tuple[str, PrincipalChange]], list[str]]:
    """A group holder's gain, member by member (a group itself does nothing: its users act, each with its own Deny
    statements and boundary), and what could not be known (the members, a member's policies, the cap)."""
    directory = context.directory
    key = PrincipalKey.of(group_arn)
    members = directory.members_of(group_arn) if isinstance(directory, GroupMembers) else None
    if key is None or members is None:
        judged = judge_holder_change(context, group_arn, label, policy_arn, policy, previous=previous)
        if judged.members:  # the directory named them after all (judge_holder_change reads them its own way)
            return [(f"{member} (in {label})", held) for member, held in judged.members], list(judged.needs_context)
        if not judged.risk.risky and not judged.needs_context:
            return [], []
        fact = f"the members of {label} and what else they hold (they could not be read)"
        if judged.risk.risky:
            return [(label, judged._replace(needs_context=(*judged.needs_context, fact)))], []
        return [], [*judged.needs_context, fact]
    held_as = group_source(key.name, policy_arn)
    found: list[tuple[str, PrincipalChange]] = []
    unknown: list[str] = []
    for user_arn in members[:_JUDGED_HOLDERS]:
        user = f"user {user_arn.rsplit('/', 1)[-1]}"
        judged = _holder_gain(context, user_arn, user, held_as, policy, previous=previous)
        if judged.risk.risky:
            found.append((f"{user} (in {label})", judged))
        unknown.extend(fact for fact in judged.needs_context if fact not in unknown)
    if len(members) > _JUDGED_HOLDERS and (risky or _grants_part_of_a_method(policy)):
        unknown.append(f"what the other {len(members) - _JUDGED_HOLDERS} members of {label} hold")
    return found, unknown


def _holders_note(
    gainers: list[tuple[str, PrincipalChange]], spec: RuleSpec, *, none_gain: bool, judged_holders: int | None
) -> str:
    """What the holders of a version risky by itself gain, for the reason: the ones that gain with every fact known
    named; or, every holder read and none gaining, that it is undone all the same (whoever it is attached to next
    would gain it: review s11 finding 4)."""
    if gainers:
        return " ".join(
            f"For {label}: {_what(held.risk, spec)}.{_context_note(held, *label.split(' ', 1))}"
            for label, held in gainers
        )
    if none_gain and judged_holders is not None:
        holders = (
            f"None of the {judged_holders} roles, users and groups it is attached to gains it now (each one's own "
            "Deny statements and permissions boundary applied)"
            if judged_holders
            else "It is attached to nothing now"
        )
        return f"{holders}, but it would arm whoever it is attached to next, so it is undone all the same."
    return "Every role, user and group it is attached to holds it (past what its own Denies and boundary leave)."


def _created_version(response: Any) -> str:
    version = response.get("policyVersion") if isinstance(response, dict) else None
    version_id = version.get("versionId") if isinstance(version, dict) else None
    if not isinstance(version_id, str) or not version_id:
        raise InvalidEventError("detail.responseElements.policyVersion.versionId must be a non-empty string")
    return version_id


class AttachedPolicyRule:
    """Attach{Role,User,Group}Policy of a managed policy (customer- or AWS-managed) whose default version opens an
    escalation method for the principal, judged on its whole power after the change.

    An AWS-managed policy's document is read like a customer-managed one (``GetPolicy`` and ``GetPolicyVersion``
    take its ``arn:aws:iam::aws:policy/...`` ARN; offline, from an unfiltered ``--authorization-details``, whose
    ``Policies`` list holds the AWS-managed policies in use). Two are not judged here: one that only denies adds no
    power; one ``managed-policy-attached`` reports as admin-equivalent by name is alerted there, critical, once.
    """

    specs: ClassVar[tuple[RuleSpec, ...]] = (PRIVILEGE_ESCALATION,)
    event_keys: ClassVar[frozenset[tuple[str, str]]] = frozenset((IAM, name) for name in ATTACH_PRINCIPAL)

    def evaluate(self, context: RuleContext) -> Evaluation:
        """The attached policy's default version judged on every reading of its text (``_judged_every_way``)."""
        if context.documents is None:
            return self._evaluate(context)
        return _judged_every_way(context, context.documents, self._evaluate, context.request_text("policyArn"), None)

    def _evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        kind, parameter = ATTACH_PRINCIPAL[change.event_name]
        principal = context.request_text(parameter)
        policy_arn = context.request_text("policyArn")
        arn = iam_arn(context.partition, change.account, kind, principal)
        evaluation = Evaluation(resource_arn=arn)
        if not policy_arn.startswith("arn:"):
            return evaluation  # not an ARN: managed-policy-attached rejects the event as invalid
        aws_managed = AWS_MANAGED_POLICY_ARN.match(policy_arn)
        owner = "AWS-managed" if aws_managed else "customer-managed"
        name = policy_arn.rsplit("/", 1)[-1]
        if aws_managed and aws_managed["path_name"] in DENY_ONLY:
            evaluation.compliant.append(f"the AWS-managed policy {name} only denies: it adds no power to escalate with")
            return evaluation
        admin = reported_as_admin(context, policy_arn) if aws_managed else None
        if admin is not None:
            # Admin-equivalent by itself: every method is open to it, and managed-policy-attached says so, critical.
            evaluation.compliant.append(
                f"the AWS-managed policy {name} {admin}: reported by {MANAGED_POLICY_ATTACHED.id}, not twice"
            )
            return evaluation
        if context.documents is None:
            evaluation.unjudged.append(
                f"the event attaches the {owner} policy {policy_arn} but does not carry its document; "
                "the enforcer reads its default version live"
                + (
                    " (offline: give --authorization-details made without --filter, which lists the AWS-managed "
                    "policies in use)"
                    if aws_managed
                    else ""
                )
            )
            return evaluation
        version = context.documents.default_version(change.account, policy_arn)
        if version is None and aws_managed:
            # AWS keeps its policies; one a reader lacks (authorization details list only those in use) is unknown.
            evaluation.unjudged.append(f"the document of the AWS-managed policy {policy_arn} could not be read")
            return evaluation
        if version is None:
            evaluation.compliant.append(f"the {owner} policy {name} no longer exists")
            return evaluation
        policy = parse_policy(dict(version.document), field=f"version {version.version_id} of {policy_arn}")
        judged = judge_holder_change(context, arn, f"{kind} {principal}", policy_arn, policy)
        risk = judged.risk
        plan = [detach_step(arn, kind, principal, policy_arn)]
        if not risk.escalations and judged.needs_context:
            what = f"The {owner} policy {name} was attached to {kind} {principal}"
            evaluation.findings.append(_uncertain(context, PRIVILEGE_ESCALATION, judged, arn, what, plan=plan))
            return evaluation
        if not risk.escalations:
            evaluation.compliant.append(
                f"the {owner} policy {name} (version {version.version_id}) opens no known "
                f"privilege-escalation method that {kind} {principal} did not already have, with everything else "
                "it holds"
                if judged.whole
                else f"the {owner} policy {name} (version {version.version_id}) opens no known "
                "privilege-escalation method"
            )
            return evaluation
        # Attaching a policy that is attached already succeeds: then the event added nothing to take away.
        added = only_if_added(
            attached_before(context, arn, policy_arn),
            plan[0],
            f"{name} was attached to {kind} {principal}",
            "detach it",
        )
        evaluation.findings.append(
            context.finding(
                PRIVILEGE_ESCALATION,
                severity=Severity.CRITICAL,
                resource_arn=arn,
                reason=added.told(
                    f"The {owner} policy {name} (default version {version.version_id}) was attached to "
                    f"{kind} {principal} by {change.actor.display}: "
                    f"{_opens(judged, PRIVILEGE_ESCALATION, kind, principal)}"
                ),
                plan=added.plan,
                offending=[
                    {"policy_arn": policy_arn, "version_id": version.version_id},
                    *_offending_of_change(judged),
                ],
                needs_context=tuple(dict.fromkeys((*judged.needs_context, *added.needs_context))),
            )
        )
        return evaluation


class _VersionsRead:
    """A documents reader that remembers the versions it read (their other readings), and can answer one version
    with one of its readings instead (``PolicyVersionRule.evaluate``). Only ``ManagedPolicyDocuments``' methods:
    a reader that also lists versions is wrapped in ``_VersionsListed`` (``versions_read``), whose
    ``policy_versions`` is a real method, so ``isinstance(..., ListsPolicyVersions)`` sees it (review s14 R1:
    ``runtime_checkable`` looks members up statically since Python 3.12, never through ``__getattr__``)."""

    def __init__(
        self, documents: ManagedPolicyDocuments, substitute: tuple[str, str, PolicyVersion] | None = None
    ) -> None:
        self._documents = documents
        self._substitute = substitute
        self.read: dict[tuple[str, str], PolicyVersion] = {}
        self.defaults: dict[str, PolicyVersion] = {}

    def _answered(self, policy_arn: str, found: PolicyVersion | None) -> PolicyVersion | None:
        """``found``, or the reading put in its place when it is the substituted version."""
        substitute = self._substitute
        if found is not None and substitute is not None and substitute[:2] == (policy_arn, found.version_id):
            return substitute[2]
        return found

    def default_version(self, account: str, policy_arn: str) -> PolicyVersion | None:
        found = self._documents.default_version(account, policy_arn)
        if found is not None:
            self.defaults.setdefault(policy_arn, found)
        return self._answered(policy_arn, found)

    def version(self, account: str, policy_arn: str, version_id: str) -> PolicyVersion | None:
        if self._substitute is not None and self._substitute[:2] == (policy_arn, version_id):
            return self._substitute[2]
        found = self._documents.version(account, policy_arn, version_id)
        if found is not None:
            self.read[(policy_arn, version_id)] = found
        return found

    def reading(self, policy_arn: str, version_id: str, document: Mapping[str, Any]) -> "_VersionsRead":
        return versions_read(self._documents, (policy_arn, version_id, PolicyVersion(version_id, document)))


class _VersionsListed(_VersionsRead):
    """``_VersionsRead`` of a reader that lists a policy's versions (live, authorization details)."""

    def __init__(
        self,
        documents: ManagedPolicyDocuments,
        lister: ListsPolicyVersions,
        substitute: tuple[str, str, PolicyVersion] | None = None,
    ) -> None:
        super().__init__(documents, substitute)
        self._lister = lister

    def policy_versions(self, account: str, policy_arn: str) -> PolicyVersions | None:
        listed = self._lister.policy_versions(account, policy_arn)
        if listed is None or self._substitute is None or self._substitute[0] != policy_arn:
            return listed
        return listed._replace(versions=tuple(self._answered(policy_arn, v) or v for v in listed.versions))


def versions_read(
    documents: ManagedPolicyDocuments, substitute: tuple[str, str, PolicyVersion] | None = None
) -> _VersionsRead:
    """``documents`` wrapped to remember what it read, listing versions exactly when ``documents`` does."""
    if isinstance(documents, ListsPolicyVersions):
        return _VersionsListed(documents, documents, substitute)
    return _VersionsRead(documents, substitute)


def _judged_every_way(
    context: RuleContext,
    documents: ManagedPolicyDocuments,
    evaluate: Callable[[RuleContext], Evaluation],
    policy_arn: str,
    version_id: str | None,
) -> Evaluation:
    """``evaluate`` (a rule judging one version of ``policy_arn``: ``version_id``, or its default when None) run on
    every reading of that version's text (``PolicyVersion.readings``: a key named twice with different values, which
    AWS documents no reading of; session 13 note, last-wins decided silently), decided by ``readings.decide`` (review
    s14, the lead's decision). The version is read once. A reading that does not parse is dropped wherever it is,
    boto3's last-wins one too (IAM accepted the policy, so it is not AWS's: review s14 R5); the rest decide."""
    reader = versions_read(documents)
    first: Evaluation | None = None
    invalid: InvalidEventError | None = None
    try:
        first = evaluate(context._replace(documents=reader))
    except InvalidEventError as exc:
        invalid = exc
    version = reader.defaults.get(policy_arn) if version_id is None else reader.read.get((policy_arn, version_id))
    if version is None or not version.readings:
        if first is None:
            raise invalid or InvalidEventError(f"{policy_arn} could not be judged")
        return first
    readings = [] if first is None else [Reading("with each key's last value (as boto3 reads it)", first.findings)]
    for number, document in enumerate(version.readings, 2):
        try:
            other = evaluate(context._replace(documents=reader.reading(policy_arn, version.version_id, document)))
        except InvalidEventError:
            continue
        first = first or other
        readings.append(Reading(f"another way (reading {number})", other.findings))
    if first is None:
        raise invalid or InvalidEventError(f"{policy_arn} could not be judged")
    first.findings[:] = decide(readings, f"the text of version {version.version_id} of {policy_arn}")
    return first


# --- proportional remediation: what to cut out of a document, and the cut as a plan step -----------


def proportional_cut(
    document: Mapping[str, Any],
    risk: PolicyRisk,
    *,
    source: str = THE_POLICY,
    opens: Callable[[Policy], bool] | None = None,
    parsed: Policy | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """What to take out of ``document`` so that it grants none of ``risk``, and the document that is left.

    The finest cut first: the admin-equivalent entries of an Action list (``iam:*`` of
    ``["s3:GetObject", "iam:*"]``), and for each escalation path one action that gives it: an action only
    this document grants (``source``: what the path's ``granted_by`` calls it) before one the principal
    also holds elsewhere (cutting that would leave the older grant, and the path, in place); among them
    the method's first (the IAM write or ``iam:PassRole``). A statement with NotAction, or left with no
    action, goes whole. The rest is judged again with ``opens`` (whether the principal, holding what is
    left in place of the document, still has what the change added; default: the rest judged alone is
    risky): when it still opens something, the offending statements go whole; when that is not enough
    either, or nothing is left, the answer is ``None`` (delete the policy, the whole grant this change
    added). ``risk`` may come from the principal's whole power: only statements of this document are cut.
    ``parsed``: ``document`` as the caller already parsed it (parsed again otherwise).
    """
    policy = parsed if parsed is not None else parse_policy(document)
    still_open = opens if opens is not None else (lambda rest: assess(rest).risky)
    fine = _cuts(policy, risk, source)
    if not fine:  # the risk names nothing of this document: what the change added is the whole document
        return [statement_cut(s) for s in policy.statements], None
    for cuts in (fine, [statement_cut(s) for s in _statements_of(fine, policy)]):
        rest = without_offending(statement_list(document), cuts)
        if not rest:
            return cuts, None
        remaining = {**document, "Statement": rest}
        if not still_open(parse_policy(remaining)):
            return cuts, remaining
    return [statement_cut(s) for s in policy.statements], None


def _cuts(policy: Policy, risk: PolicyRisk, source: str = THE_POLICY) -> list[dict[str, Any]]:
    """Per statement of ``policy``: the entries of its Action list that make ``risk``, or ``None`` for all of it.

    Many paths share their actions (``iam:PassRole`` is in dozens of methods): which statements grant an action
    on a grant's resources, and which Action entries match it, are found once per call; once every statement
    goes whole, no further path can change the cut.
    """
    taken: dict[int, set[str] | None] = {}

    def take(statement: Statement, entries: list[str]) -> None:
        whole = statement.actions is None or not entries or len(entries) == len(statement.actions)
        current = taken.get(statement.position, set())
        if whole or current is None:
            taken[statement.position] = None
        else:
            taken[statement.position] = current | set(entries)

    if risk.admin:
        mine = {canonical(dict(s.raw)): s for s in policy.statements}
        for admin in risk.admin:
            statement = mine.get(canonical(dict(admin.statement.raw)))
            if statement is None:
                continue  # another policy of the principal: not cut here
            take(
                statement,
                [e for e in _entries(statement) if admin_grants(Policy(None, (statement._replace(actions=(e,)),), {}))],
            )
    granting_of: dict[tuple[str, tuple[str, ...]], list[Statement]] = {}
    entries_of: dict[tuple[int, str], list[str]] = {}
    only_from: dict[tuple[str, ...], bool] = {}
    count = len(policy.statements)
    for path in risk.escalations:
        if len(taken) == count and all(entries is None for entries in taken.values()):
            break  # every statement goes whole already
        # An action only this document grants first, then the method's order (its first action first).
        for grant in sorted(path.grants, key=lambda grant: not _only_from_memo(only_from, grant, source)):
            key = (grant.action, grant.resources)
            granting = granting_of.get(key)
            if granting is None:
                granting = granting_of[key] = [
                    s
                    for s in policy.statements
                    if s.allows
                    and s.grants_action(grant.action)
                    and (s.not_resources is not None or any(r in grant.resources for r in s.resources or ()))
                ]
            for statement in granting:
                if statement.position in taken and taken[statement.position] is None:
                    continue  # it goes whole already
                matched = entries_of.get((statement.position, grant.action))
                if matched is None:
                    matched = entries_of[(statement.position, grant.action)] = [
                        a for a in _entries(statement) if action_matches(a, grant.action)
                    ]
                take(statement, matched)
            if granting:
                break
    by_position = {s.position: s for s in policy.statements}
    return [
        statement_cut(by_position[position], sorted(entries or ()))
        for position, entries in sorted(taken.items(), key=lambda item: item[0])
    ]


def _only_from_memo(memo: dict[tuple[str, ...], bool], grant: Grant, source: str) -> bool:
    """``_only_from``, once per ``granted_by`` within one ``_cuts`` call (``source`` is fixed there)."""
    found = memo.get(grant.granted_by)
    if found is None:
        found = memo[grant.granted_by] = _only_from(grant, source)
    return found


def _only_from(grant: Grant, source: str) -> bool:
    """Whether every statement granting ``grant`` is of the document called ``source`` (no older grant)."""
    return bool(grant.granted_by) and all(by.split(" of ", 1)[-1] == source for by in grant.granted_by)


def _still_opens(judged: PrincipalChange, directory: RoleDirectory | None) -> Callable[[Policy], bool]:
    """Whether the principal, holding ``rest`` in place of the event's document, still has what the change
    added: an admin grant of that document, or an escalation method it did not have BEFORE. Judged on the
    whole principal (``judged.after``), so an older grant that completes a path with what is left counts."""

    def still_open(rest: Policy) -> bool:
        if judged.members:
            return any(_still_opens(member, directory)(rest) for _, member in judged.members)
        if judged.after is None:
            return assess(rest).risky
        # Every combination of the held policies' readings, the last-wins one first: the method must close in each.
        return any(
            _opens_in(after.replaced(judged.source, rest), judged.source, befores, directory)
            for after, befores in ((judged.after, judged.befores), *judged.readings)
        )

    return still_open


def _opens_in(
    principal: PrincipalPolicies, source: str, befores: tuple[PolicyRisk, ...], directory: RoleDirectory | None
) -> bool:
    """Whether ``principal`` (holding a plan's rest under ``source``) has an admin grant of it, or a method new
    since every one of ``befores``."""
    risk = assess_principal(principal, directory)
    if any(grant.source == source for grant in risk.admin):
        return True
    befores = befores or (PolicyRisk((), (), ()),)
    return any(all(not _full_admin(before) and _new(path, before) for before in befores) for path in risk.escalations)


def _entries(statement: Statement) -> list[str]:
    """The statement's Action list as written (``Statement.actions`` is normalised to lower case)."""
    listed = statement.raw.get("Action")
    if isinstance(listed, str):
        return [listed]
    return [str(entry) for entry in listed] if isinstance(listed, list) else []


def _statements_of(cuts: list[dict[str, Any]], policy: Policy) -> list[Statement]:
    return [s for s in policy.statements if s.position in {cut["index"] for cut in cuts}]


def _cut_text(cuts: list[dict[str, Any]]) -> str:
    """``statement 1 (Debug)`` or ``iam:* of statement 0``: what a cut takes out, in words."""
    parts = []
    for cut in cuts:
        label = f"statement {cut['index']}" + (f" ({cut['sid']})" if cut.get("sid") else "")
        parts.append(f"{', '.join(cut['actions'])} of {label}" if cut.get("actions") else label)
    return "; ".join(parts)


def inline_policy_step(
    arn: str,
    kind: str,
    principal: str,
    policy_name: str,
    *,
    document: Mapping[str, Any],
    risk: PolicyRisk,
    source: str = THE_POLICY,
    opens: Callable[[Policy], bool] | None = None,
    parsed: Policy | None = None,
) -> RemediationStep:
    """The plan for a risky inline policy: rewrite it without the offending grants, or delete it when none is
    left or no cut of it closes what the change opened (``proportional_cut``)."""
    cuts, remaining = proportional_cut(document, risk, source=source, opens=opens, parsed=parsed)
    parameters = {
        "principal_type": kind,
        "principal_name": principal,
        "policy_name": policy_name,
        "document": dict(document),
        "statements": cuts,
    }
    if remaining is None:
        summary = (
            f"delete inline policy {policy_name} from {kind} {principal}: nothing in it may stay "
            "(its document is kept in the audit record)"
        )
    else:
        summary = f"remove {_cut_text(cuts)} from inline policy {policy_name} of {kind} {principal}, keep the rest"
    return RemediationStep(RewriteInlinePolicy.action, arn, parameters, summary)


def _cut_keeps(step: RemediationStep, replaced: Policy) -> bool:
    """Whether the document ``step`` leaves still holds every statement of ``replaced`` (what the put replaced): then
    the cut takes only what the put added, and keeps the rest of the put; otherwise it would take something older,
    or leave a Deny the put dropped out."""
    left = _rewritten(step.parameters["document"], step)
    if left is None:
        return False
    kept = {canonical(statement) for statement in statement_list(left)}
    return all(canonical(dict(statement.raw)) in kept for statement in replaced.statements)


def restore_inline_step(
    arn: str, kind: str, principal: str, policy_name: str, *, document: Mapping[str, Any], previous: Policy
) -> RemediationStep:
    """The plan for an inline put over a known earlier document: put that document back (``RewriteInlinePolicy``
    with ``restore``): what the put added goes, nothing older; undo puts the event's document again."""
    parameters = {
        "principal_type": kind,
        "principal_name": principal,
        "policy_name": policy_name,
        "document": dict(document),
        "statements": [],
        "restore": dict(previous.raw),
    }
    summary = (
        f"put back the document inline policy {policy_name} of {kind} {principal} held before this put (recorded "
        "before it): what the put added goes, nothing older"
    )
    return RemediationStep(RewriteInlinePolicy.action, arn, parameters, summary)


def policy_version_step(
    policy_arn: str,
    version_id: str,
    delete: bool,
    document: Mapping[str, Any],
    risk: PolicyRisk,
    *,
    parsed: Policy | None = None,
    previous_id: str | None = None,
    added_methods: tuple[str, ...] | None = None,
) -> RemediationStep:
    """The plan for a risky default version: the previous default when it is known (or the one other version),
    else a new one without the grant (``safe_version``: never a guess among several earlier versions).

    ``added_methods``: the change opened only these escalation methods (no admin grant), so "safe" means
    granting none of them (and nothing admin-equivalent): an older grant the previous default held stays.
    ``previous_id``: the version that was the default before, when known.
    """
    name = policy_arn.rsplit("/", 1)[-1]
    cuts, remaining = proportional_cut(document, risk, parsed=parsed)
    fallback = (
        f"; if there is none, a new default version without {_cut_text(cuts)}"
        if remaining is not None
        else f"; if there is none, change nothing (no grant of version {version_id} may stay)"
    )
    parameters: dict[str, Any] = {
        "policy_arn": policy_arn,
        "version_id": version_id,
        "delete_version": delete,
        "statements": cuts,
    }
    if previous_id is not None:
        parameters["previous_version"] = previous_id
    if added_methods is not None:
        parameters["added_methods"] = list(added_methods)
    which = (
        f"version {previous_id} of {name} (the previous default) the default again, if it is still safe"
        if previous_id is not None
        else None
    )
    safe = f" (safe: granting none of {', '.join(added_methods)})" if added_methods else ""
    if which is None:
        # Which version was the default before is not known (IAM keeps no record): none is made it on a guess.
        return RemediationStep(
            RestoreDefaultPolicyVersion.action,
            policy_arn,
            parameters,
            (
                f"make a new default version of {name} without {_cut_text(cuts)}"
                if remaining is not None
                else f"change nothing (no grant of version {version_id} may stay)"
            )
            + " (which version was the default before is not known: none is made the default on a guess)"
            + (f"; delete version {version_id}" if delete else f" (version {version_id} is kept)"),
        )
    return RemediationStep(
        RestoreDefaultPolicyVersion.action,
        policy_arn,
        parameters,
        f"make {which}{safe}{fallback.replace('if there is none', 'else')}"
        + (f"; delete version {version_id}" if delete else f" (version {version_id} is kept)"),
    )


def _rewritten(document: Any, step: RemediationStep) -> dict[str, Any] | None:
    """``document`` without the step's cuts; ``None`` when nothing is left (or the step predates cuts)."""
    restore = step.parameters.get("restore")
    if isinstance(restore, Mapping):
        return dict(restore)  # the document the put replaced
    cuts = step.parameters.get("statements")
    if cuts is None or not isinstance(document, Mapping):
        return None  # a plan from before proportional remediation: the whole policy goes
    rest = without_offending(statement_list(document), cuts)
    return {**document, "Statement": rest} if rest else None


_INLINE_CALLS = {
    "role": ("get_role_policy", "delete_role_policy", "put_role_policy", "RoleName"),
    "user": ("get_user_policy", "delete_user_policy", "put_user_policy", "UserName"),
    "group": ("get_group_policy", "delete_group_policy", "put_group_policy", "GroupName"),
}


class RewriteInlinePolicy:
    """Take the offending grants out of the inline policy the event put; delete it only when nothing may stay; or,
    when the document it replaced is known (``restore``), put that back.

    Acts only while the live policy of that name is still the event's document (a later put is judged on
    its own), so a second run finds the rewritten document and does nothing. The before-state is the whole
    original document; undo puts it back exactly, when the live policy is still what IAM Warden left.
    """

    permissions: ClassVar[Permissions] = (
        "iam:GetRolePolicy",
        "iam:GetUserPolicy",
        "iam:GetGroupPolicy",
        "iam:PutRolePolicy",
        "iam:PutUserPolicy",
        "iam:PutGroupPolicy",
        "iam:DeleteRolePolicy",
        "iam:DeleteUserPolicy",
        "iam:DeleteGroupPolicy",
    )
    action: ClassVar[StepAction] = StepAction("rewrite_inline_policy", permissions)
    undo_permissions: ClassVar[Permissions] = (
        "iam:GetRolePolicy",
        "iam:GetUserPolicy",
        "iam:GetGroupPolicy",
        "iam:PutRolePolicy",
        "iam:PutUserPolicy",
        "iam:PutGroupPolicy",
    )
    undoable: ClassVar[bool] = True

    def _live(self, aws: AccountClients, step: RemediationStep) -> Any:
        """The live document of that policy name; None when the policy (or its principal) is gone."""
        kind, name, policy = (step.parameters[k] for k in ("principal_type", "principal_name", "policy_name"))
        get, _, _, parameter = _INLINE_CALLS[kind]
        try:
            return policy_document(getattr(aws.iam, get)(**{parameter: name, "PolicyName": policy})["PolicyDocument"])
        except Exception as exc:
            if is_gone(exc):
                return None
            raise

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        return {"document": self._live(aws, step)}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        kind, name, policy = (step.parameters[k] for k in ("principal_type", "principal_name", "policy_name"))
        if before["document"] is None or canonical(before["document"]) != canonical(step.parameters["document"]):
            return  # deleted, rewritten already, or replaced by a later put that is judged on its own
        _, delete, put, parameter = _INLINE_CALLS[kind]
        remaining = _rewritten(before["document"], step)
        with ignoring():
            if remaining is None:
                getattr(run.aws.iam, delete)(**{parameter: name, "PolicyName": policy})
                done.append(f"deleted inline policy {policy} from {kind} {name}: nothing in it may stay")
            elif "restore" in step.parameters:
                getattr(run.aws.iam, put)(
                    **{
                        parameter: name,
                        "PolicyName": policy,
                        "PolicyDocument": json.dumps(remaining, ensure_ascii=False),
                    }
                )
                done.append(f"put back the document inline policy {policy} of {kind} {name} held before the put")
            else:
                getattr(run.aws.iam, put)(
                    **{
                        parameter: name,
                        "PolicyName": policy,
                        "PolicyDocument": json.dumps(remaining, ensure_ascii=False),
                    }
                )
                done.append(
                    f"removed {_cut_text(step.parameters['statements'])} from inline policy {policy} of "
                    f"{kind} {name}; kept {len(statement_list(remaining))} statement(s)"
                )

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        kind, name, policy = (step.parameters[k] for k in ("principal_type", "principal_name", "policy_name"))
        document = before["document"]
        if document is None or canonical(document) != canonical(step.parameters["document"]):
            return []  # the remediation changed nothing
        current = self._live(aws, step)
        if current is not None and canonical(current) == canonical(document):
            return []
        left = _rewritten(document, step)
        if current is not None and (left is None or canonical(current) != canonical(left)):
            raise UndoError(
                f"{kind} {name} now has a different inline policy named {policy}; "
                "restore it by hand from the audit record"
            )
        _, _, put, parameter = _INLINE_CALLS[kind]
        try:
            getattr(aws.iam, put)(
                **{parameter: name, "PolicyName": policy, "PolicyDocument": json.dumps(document, ensure_ascii=False)}
            )
        except Exception as exc:
            if is_gone(exc):
                raise UndoError(f"{kind} {name} no longer exists; inline policy {policy} cannot be put back") from exc
            raise
        return [f"put inline policy {policy} back on {kind} {name} as it was"]

    def undone_on(self, step: RemediationStep, before: Mapping[str, Any]) -> UndoneOn | None:
        """What a successful undo leaves, for the principal's ``attachments`` record: the event's document under that
        name (the record says what the remediation left: ``Snapshot.if_remediated``); None when the remediation
        changed nothing."""
        document = before["document"]
        if document is None or canonical(document) != canonical(step.parameters["document"]):
            return None
        kind, name, policy = (step.parameters[k] for k in ("principal_type", "principal_name", "policy_name"))
        return inline_put_again(kind, name, policy, document)


#: IAM keeps at most five versions of a managed policy.
MAX_POLICY_VERSIONS = 5


class RestoreDefaultPolicyVersion:
    """Make the previous default version of a customer-managed policy the default again; else write one.

    IAM does not record which version was the default before a change, and neither
    does CloudTrail: the step names it (``previous_version``) when the enforcer knew it
    (a listing read before the change, or its own record); else only the one other version,
    when there is exactly one, was it. Either is made the default again only when neither
    admin-equivalent nor escalating (``safe_version``); never a guess among several. Else
    a new default version is created: the offending document without the offending
    grants (the step's ``statements``: what the change added), judged safe again
    before it is written. IAM keeps five versions: at five, the oldest non-default version
    (risky too, or it would have been chosen) is deleted first, and the before-state keeps
    its document. With nothing that may stay, the step fails before writing anything.
    ``delete_version`` also deletes the offending version; undo then re-creates it from the
    before-state (IAM gives it a new version id).
    """

    permissions: ClassVar[Permissions] = (
        "iam:GetPolicy",
        "iam:ListPolicyVersions",
        "iam:GetPolicyVersion",
        "iam:SetDefaultPolicyVersion",
        "iam:CreatePolicyVersion",
        "iam:DeletePolicyVersion",
    )
    action: ClassVar[StepAction] = StepAction("restore_default_policy_version", permissions)
    undo_permissions: ClassVar[Permissions] = (
        "iam:GetPolicy",
        "iam:GetPolicyVersion",
        "iam:SetDefaultPolicyVersion",
        "iam:CreatePolicyVersion",
        "iam:DeletePolicyVersion",
    )
    undoable: ClassVar[bool] = True

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        arn = step.parameters["policy_arn"]
        try:
            default = aws.iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        except Exception as exc:
            if is_gone(exc):
                return {"exists": False}
            raise
        versions = [
            {
                "version_id": version["VersionId"],
                "created": str(version["CreateDate"]),
                "document": policy_document(
                    aws.iam.get_policy_version(PolicyArn=arn, VersionId=version["VersionId"])["PolicyVersion"][
                        "Document"
                    ]
                ),
            }
            for version in pages(aws.iam, "list_policy_versions", "Versions", PolicyArn=arn)
        ]
        return {"exists": True, "default": default, "versions": versions}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        offending = step.parameters["version_id"]
        if not before["exists"] or before["default"] != offending:
            return  # the policy is gone, or another version is the default since (this step's own, too)
        arn = step.parameters["policy_arn"]
        target = _target(step, before)
        if target is not None:
            run.aws.iam.set_default_policy_version(PolicyArn=arn, VersionId=target)
            done.append(f"made version {target} of {arn} the default again (was {offending})")
        elif step.parameters.get(READ_TWO_WAYS):
            # The write would take botocore's last-wins decode of a text read two ways, and cut what another reading
            # named: a guess (review 2 of s14, F1). The judgement alerts such a finding; this is the second guard.
            raise RemediationError(
                f"{NO_WRITE} ({step.parameters[READ_TWO_WAYS]}), and no previous default of {arn} is safe to make "
                "the default again; nothing was changed: rewrite the policy with each key once"
            )
        else:
            self._write_safe_version(run.aws, step, before, done)
        if step.parameters.get("delete_version"):
            with ignoring():
                run.aws.iam.delete_policy_version(PolicyArn=arn, VersionId=offending)
                done.append(f"deleted version {offending} of {arn}")

    def _write_safe_version(
        self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any], done: list[str]
    ) -> None:
        arn, offending = step.parameters["policy_arn"], step.parameters["version_id"]
        document = _version_document(before, offending)
        remaining = _rewritten(document, step)
        if remaining is None or _unsafe(parse_policy(remaining), step.parameters.get("added_methods")):
            raise RemediationError(
                f"no other version of {arn} is safe to make the default, and no grant of version {offending} "
                "may stay; nothing was changed: write a safe version or detach the policy by hand"
            )
        room = _version_to_drop(before["versions"], offending)
        if room is not None:
            with ignoring():
                aws.iam.delete_policy_version(PolicyArn=arn, VersionId=room)
                done.append(
                    f"deleted the oldest version {room} of {arn} to make room (IAM keeps five; it was not the "
                    "default, and its document is kept in the audit record)"
                )
        created = aws.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(remaining), SetAsDefault=True)
        version_id = created["PolicyVersion"]["VersionId"]
        done.append(
            f"made the new version {version_id} of {arn} the default: version {offending} without "
            f"{_cut_text(step.parameters['statements'])} (no earlier version was safe)"
        )

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        offending = step.parameters["version_id"]
        if not before["exists"] or before["default"] != offending:
            return []
        arn = step.parameters["policy_arn"]
        target = _target(step, before)
        try:
            current = aws.iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        except Exception as exc:
            if is_gone(exc):
                raise UndoError(f"policy {arn} no longer exists; its default version cannot be restored") from exc
            raise
        if target is None:
            return self._undo_written_version(aws, step, before, current)
        if current != target:
            raise UndoError(
                f"the default version of {arn} is now {current}, not {target} as IAM Warden left it; "
                "a later change is kept: restore by hand from the audit record"
            )
        if not step.parameters.get("delete_version"):
            aws.iam.set_default_policy_version(PolicyArn=arn, VersionId=offending)
            return [f"made version {offending} of {arn} the default again"]
        document = _version_document(before, offending)
        created = aws.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(document), SetAsDefault=True)
        version_id = created["PolicyVersion"]["VersionId"]
        return [f"re-created the deleted version {offending} of {arn} as {version_id}, the default"]

    def _undo_written_version(
        self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any], current: str
    ) -> list[str]:
        """Put back the offending default over the version IAM Warden wrote, then drop that version."""
        arn, offending = step.parameters["policy_arn"], step.parameters["version_id"]
        document = _version_document(before, offending)
        written = _rewritten(document, step)
        live = policy_document(
            aws.iam.get_policy_version(PolicyArn=arn, VersionId=current)["PolicyVersion"]["Document"]
        )
        if current == offending or written is None or canonical(live) != canonical(written):
            raise UndoError(
                f"the default version of {arn} is now {current}, not the version IAM Warden wrote; "
                "a later change is kept: restore by hand from the audit record"
            )
        restored: list[str] = []
        if step.parameters.get("delete_version"):
            created = aws.iam.create_policy_version(
                PolicyArn=arn, PolicyDocument=json.dumps(document), SetAsDefault=True
            )
            restored.append(
                f"re-created the deleted version {offending} of {arn} as {created['PolicyVersion']['VersionId']}, "
                "the default"
            )
        else:
            aws.iam.set_default_policy_version(PolicyArn=arn, VersionId=offending)
            restored.append(f"made version {offending} of {arn} the default again")
        with ignoring():
            aws.iam.delete_policy_version(PolicyArn=arn, VersionId=current)
            restored.append(f"deleted version {current} of {arn}, which IAM Warden had written")
        room = _version_to_drop(before["versions"], offending)
        if room is not None:
            created = aws.iam.create_policy_version(
                PolicyArn=arn, PolicyDocument=json.dumps(_version_document(before, room)), SetAsDefault=False
            )
            restored.append(
                f"re-created the version {room} of {arn} deleted to make room, as "
                f"{created['PolicyVersion']['VersionId']} (not the default)"
            )
        return restored


def _version_document(before: Mapping[str, Any], version_id: str) -> Any:
    [document] = [v["document"] for v in before["versions"] if v["version_id"] == version_id]
    return document


def _newest_first(versions: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return sorted(versions, key=lambda v: (str(v["created"]), _number(v["version_id"])), reverse=True)


def _version_to_drop(versions: list[Mapping[str, Any]], default: str) -> str | None:
    """The oldest version other than the default, when IAM's five-version limit leaves no room for one more."""
    if len(versions) < MAX_POLICY_VERSIONS:
        return None
    others = [v for v in _newest_first(versions) if v["version_id"] != default]
    return str(others[-1]["version_id"]) if others else None


def safe_version(
    versions: list[Mapping[str, Any]], offending: str, added: Sequence[str] | None = None, previous: str | None = None
) -> str | None:
    """The version to make the default instead of ``offending``: ``previous`` (the default before the change) when
    it is safe; with ``previous`` not known, none: a lone other version may be a draft that never was the default, left
    when the previous default was deleted after the change, or a default superseded before it (``v1`` is passed as
    ``previous`` when the event created ``v2``: ``_created_after_v1``). It is never made the default on that guess.
    Safe: neither admin-equivalent nor escalating; with ``added`` (the methods the change opened),
    admin-equivalent or granting one of those (``_unsafe``).

    Never a guess among several: "the newest safe version" may grant more than was ever in force (a broad draft
    that never was the default), or, safe judged alone, lack a Deny the previous default held (review s10 finding
    6). None: write the offending version without the offending grants instead (``_write_safe_version``).
    """
    others = [version for version in versions if version["version_id"] != offending]
    # Without ``previous`` any lone version is a guess too (``_created_after_v1`` passes ``v1`` when it is known).
    candidates = [version for version in others if version["version_id"] == previous] if previous is not None else []
    for version in candidates:
        try:
            risky = _unsafe(parse_policy(version["document"]), added)
        except InvalidEventError:
            continue
        if not risky:
            return str(version["version_id"])
    return None


#: The version ``CreatePolicy`` makes the default: known to have been one without any record.
_KNOWN_DEFAULT = "v1"


def _unsafe(policy: Policy, added: Sequence[str] | None) -> bool:
    """Whether a version may not be the default: risky at all, or (``added``) admin or one of those methods."""
    if added is None:
        return is_risky_document(policy)
    risk = assess(policy)
    return bool(risk.admin) or any(path.method.name in added for path in risk.escalations)


def _target(step: RemediationStep, before: Mapping[str, Any]) -> str | None:
    """The version a step makes the default (``safe_version`` with the step's plan)."""
    return safe_version(
        before["versions"],
        step.parameters["version_id"],
        step.parameters.get("added_methods"),
        step.parameters.get("previous_version"),
    )


def _number(version_id: str) -> int:
    digits = version_id.lstrip("v")
    return int(digits) if digits.isdigit() else 0


GUARDRAILS = (InlinePolicyRule(), PolicyVersionRule(), AttachedPolicyRule())
ACTIONS = (RewriteInlinePolicy(), RestoreDefaultPolicyVersion())
