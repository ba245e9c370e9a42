"""What a statement means, however the service stored it: the one comparison a remediation makes of statements.

A remediation finds "the statement the event added" in the live document. Services re-spell what they store: a
bare account id principal comes back as the account's root ARN (IAM User Guide, "IAM JSON policy elements:
Principal", section "AWS account principals": the account ARN and the shortened account id behave the same, and a
service may convert the short form to the ARN when the policy is saved), action names are case insensitive, one
value may be a string or a one-element list, and
``"Principal": "*"`` means ``{"AWS": "*"}``. A textual match misses all of these and the remediation silently
does nothing, so both sides are read with ``parse_policy`` (the one reading of actions, principals and
conditions) and compared in this form. The Sid names a statement, it grants nothing: it is not part of the
meaning. What stays apart: another account, another action, another resource, a condition added or changed.

``still_granted`` is the check after the cut: whether the live statements left still let the event's grantees do
what the event let them do, under no condition the event's statement lacked. A remediation that finds so never
says "already safe": it fails and asks for a person.
"""

import json
import marshal
import re
from collections.abc import Iterable, Mapping
from typing import Any

from iamwarden.domain.canonical import canonical
from iamwarden.domain.exceptions import InvalidEventError
from iamwarden.domain.policy import Condition, Principal, Statement, action_matches, parse_policy

#: An account's root user as an ARN, in any partition: the same principal as the bare account id.
_ROOT_ARN = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}):root")


def aws_principal(entry: str) -> str:
    """An AWS principal entry in one spelling: the account's root ARN as the bare account id, anything else as is."""
    match = _ROOT_ARN.fullmatch(entry)
    return match.group(1) if match else entry


def parsed_statement(statement: Any) -> Statement | None:
    """``statement`` read as IAM reads it, or None when it is not a statement IAM would accept."""
    try:
        return parse_policy({"Statement": [statement]}, field="statement").statements[0]
    except InvalidEventError:
        return None


def statement_meaning(statement: Any) -> str:
    """A statement's meaning as a string: equal for every spelling of the same grant (``parsed_statement``);
    a statement that does not parse is compared by its text (``canonical``). Kept by the statement's exact
    content (``_MEANINGS``)."""
    try:
        key = marshal.dumps(statement, _MARSHAL_FORMAT)
    except (ValueError, RecursionError):  # not marshal's types (a Mapping class, objects), or too deep: not kept
        return _meaning(statement)
    if len(key) > MEANINGS_KEPT_KEY_BYTES:  # a large statement is worked out each time: the cache stays small
        return _meaning(statement)
    found = _MEANINGS.get(key)
    if found is None:
        found = _meaning(statement)
        if len(_MEANINGS) >= MEANINGS_CACHE_SIZE:
            del _MEANINGS[next(iter(_MEANINGS))]  # the oldest entry
        _MEANINGS[key] = found
    return found


#: ``statement_meaning`` by the statement's ``marshal`` serialisation (format 2, no back-references): exact, as
#: ``documents.load_policy`` keys objects (types kept apart, ``1``/``1.0``/``True``; keys in their order), so two
#: statements share an entry only when they are the same content. A resource-policy finding asks it of the same
#: statements on every event. Bounded: statements come from events.
_MEANINGS: dict[bytes, str] = {}
#: How many meanings ``_MEANINGS`` keeps, and the largest key it keeps one for: bounded in bytes too (at most some
#: 512 x 8 KB), since statements come from events (review s17: 4,096 entries of 21 KB statements held 170 MB).
MEANINGS_CACHE_SIZE = 512
MEANINGS_KEPT_KEY_BYTES = 4096
_MARSHAL_FORMAT = 2


def _meaning(statement: Any) -> str:
    """``statement_meaning``, worked out."""
    parsed = parsed_statement(statement)
    if parsed is None:
        return "text:" + canonical(statement)
    return json.dumps(
        {
            "effect": parsed.effect,
            "actions": _set(parsed.actions),
            "not_actions": _set(parsed.not_actions),
            "resources": _set(parsed.resources),
            "not_resources": _set(parsed.not_resources),
            "principal": _principal(parsed.principal),
            "not_principal": _principal(parsed.not_principal),
            "conditions": sorted(_condition(c) for c in parsed.conditions),
        },
        sort_keys=True,
    )


def named_meaning(statement: Any) -> str:
    """A statement's meaning together with its Sid: what an undo compares. IAM Warden's own write may come back
    re-spelt (that is no change), but a later change, even of a Sid only, is one, and the Sid tells the statement
    a remediation wrote from an older one that means the same."""
    return json.dumps([_sid(statement), statement_meaning(statement)])


def document_meaning(document: Any, *, with_sids: bool = False) -> str:
    """A whole policy document's meaning: its statements' meanings (``statement_meaning``, or ``named_meaning``
    ``with_sids``), in any order, each as often as it occurs; a document that is not an object is compared by its
    text."""
    if not isinstance(document, Mapping):
        return "text:" + canonical(document)
    statements = document.get("Statement", [])
    listed = statements if isinstance(statements, list) else [statements]
    meaning = named_meaning if with_sids else statement_meaning
    return json.dumps(sorted(meaning(statement) for statement in listed))


def same_statement(live: Any, recorded: Any) -> bool:
    """Whether ``live`` is the ``recorded`` statement, however re-spelt: the same meaning and, when the recorded
    one has a Sid, the same Sid (so an older statement that only means the same is not taken for it)."""
    if statement_meaning(live) != statement_meaning(recorded):
        return False
    sid = _sid(recorded)
    return sid is None or _sid(live) == sid


def principal_entries(principal: Principal | None) -> frozenset[str]:
    """Each principal entry as ``type:entry`` in one spelling; ``*`` (any principal) when it lets in everyone."""
    if principal is None:
        return frozenset()
    if principal.everyone:
        return frozenset({"*"})
    return frozenset(
        [
            *(f"AWS:{aws_principal(e)}" for e in principal.aws),
            *(f"Service:{e.lower()}" for e in principal.service),
            *(f"Federated:{e}" for e in principal.federated),
            *(f"CanonicalUser:{e.lower()}" for e in principal.canonical_user),
        ]
    )


def judged_entries(principal: Principal | None, *, untrusted: Iterable[str], services: Iterable[str] = ()) -> list[str]:
    """The entries of ``principal`` (``principal_entries``) a rule judged offending: everyone, an entry of an
    untrusted account (``untrusted``: the exposure's labels, bare account ids among them), a service principal
    in ``services`` (unbound by a source condition), or one a label names (a federated provider, a canonical
    user). A trusted account, the resource's own or a bound service principal is none of them."""
    labels = [label.lower() for label in untrusted]
    unbound = {service.lower() for service in services}
    kept = []
    for entry in sorted(principal_entries(principal)):
        value = entry.split(":", 1)[-1]
        if (
            entry == "*"
            or (entry.startswith("AWS:") and _account(value) in labels)
            or (entry.startswith("Service:") and value in unbound)
            or any(value.lower() in label for label in labels)
        ):
            kept.append(entry)
    return kept


def still_granted(
    remaining: Iterable[Any], references: Iterable[Mapping[str, Any]], own_account: str, *, any_values: bool = False
) -> list[tuple[str, list[str]]]:
    """The live statements left that still let one of the event's grantees do one of its actions.

    ``references`` are a plan's statement references (``statement``, and optionally the ``actions`` or
    ``principals`` the cut takes out, which then are the grantees and actions checked, or the ``outsiders``
    the rule judged offending, ``judged_entries``: then only they are grantees, a trusted account or service
    principal of the event's statement is not; else every principal of it is). A left statement counts
    when it allows, names one of those principals (everyone: when the event let in everyone), covers one of
    those actions (or uses NotAction), and carries no condition the event's statement lacked (a narrower grant
    is another statement). ``any_values``: a key test the event's statement has counts whatever its values (for
    when no statement matched the event's: a value the service stored in another spelling, an IP as its /32
    CIDR, must not read as "already safe"). The account that owns the resource is no grantee. Returns (label,
    grantees) per statement.
    """
    found: dict[int, tuple[str, set[str]]] = {}
    left = list(remaining)
    for reference in references:
        event = parsed_statement(reference.get("statement"))
        if event is None or not event.allows:
            continue
        grantees = _grantees(event, reference, own_account)
        if not grantees:
            continue
        actions = [str(a).lower() for a in reference["actions"]] if reference.get("actions") else event.actions
        allowed = {_condition(c, any_values) for c in event.conditions}
        for position, statement in enumerate(left):
            live = parsed_statement(statement)
            if live is None:
                continue
            if not live.allows or live.principal is None:
                continue
            reached = grantees & principal_entries(live.principal)  # everyone counts only for a public grant
            if not reached or not _overlaps(actions, live):
                continue
            if any(_condition(c, any_values) not in allowed for c in live.conditions):
                continue
            sid = statement.get("Sid") if isinstance(statement, dict) else None
            label = f"statement {position}" + (f" ({sid})" if sid else "")
            found.setdefault(position, (label, set()))[1].update(reached)
    return [(label, sorted(_said(g) for g in grantees)) for _, (label, grantees) in sorted(found.items())]


def _grantees(event: Statement, reference: Mapping[str, Any], own_account: str) -> frozenset[str]:
    cut = reference.get("principals")
    if cut:
        entries = frozenset(
            "*" if kind == "AWS" and e == "*" else f"{kind}:{aws_principal(e) if kind == 'AWS' else e}"
            for kind, listed in cut.items()
            for e in listed
        )
    elif reference.get("outsiders"):
        entries = frozenset(str(entry) for entry in reference["outsiders"])
    else:
        entries = principal_entries(event.principal)
    return frozenset(e for e in entries if not _owned(e, own_account))


def _account(entry: str) -> str | None:
    """The account of an AWS principal entry: a bare account id, or the account field of an ARN."""
    if re.fullmatch(r"\d{12}", entry):
        return entry
    parts = entry.split(":", 5)
    return parts[4] if len(parts) == 6 and parts[0] == "arn" and re.fullmatch(r"\d{12}", parts[4]) else None


def _owned(entry: str, own_account: str) -> bool:
    """Whether an ``AWS:`` entry is a principal of the resource's own account (its root, a role or user in it)."""
    if entry == f"AWS:{own_account}":
        return True
    parts = entry[len("AWS:") :].split(":", 5)
    return entry.startswith("AWS:arn:") and len(parts) == 6 and parts[4] == own_account


def _overlaps(actions: Iterable[str] | None, live: Statement) -> bool:
    if actions is None or live.actions is None:
        return True  # NotAction on either side: assume they meet (the safe direction)
    return any(action_matches(a, b) or action_matches(b, a) for a in actions for b in live.actions)


def _said(entry: str) -> str:
    return "everyone" if entry == "*" else entry.split(":", 1)[1]


def _sid(statement: Any) -> str | None:
    sid = statement.get("Sid") if isinstance(statement, Mapping) else None
    return str(sid) if sid else None


def _set(values: tuple[str, ...] | None) -> list[str] | None:
    return None if values is None else sorted(set(values))


def _principal(principal: Principal | None) -> list[str] | None:
    return None if principal is None else sorted(principal_entries(principal))


def _condition(condition: Condition, any_values: bool = False) -> str:
    """A key test as IAM reads it: the key in any case, the values in any order (or, ``any_values``, none)."""
    values = None if any_values else sorted(set(condition.values))
    return json.dumps([condition.operator, condition.qualifier, condition.if_exists, condition.key, values])
