"""A principal's held policies read every way (issue 13: whole power).

A held policy (another attached managed policy, an inline or group policy, the permissions boundary) whose text
names a key twice with different values has no documented reading: boto3 keeps each key's last value, AWS may keep
another. When a change is judged on the principal's whole power, an escalation split between such a policy and the
change must not be missed because the last value is harmless, nor remediated because the last value completes it.
So the change is judged on every combination of the held policies' readings (``combinations``) and the verdicts are
merged (``merged``): what every combination reaches with certainty stays certain; what only some reach, or reach
with certainty only in some, is alerted only, naming the ambiguous held policies (never remediated on a guess).

Readings that are the same document in meaning (every statement's grant, Sid aside) are one: a text naming
``Sid`` twice reads one way. Readings that differ in anything else count, however harmless they look.

The work is bounded: at most ``MAX_COMBINATIONS`` combinations are judged. Beyond that (``Combinations.partial``)
the verdict is exactly the one on the last-wins reading of every held text (as before held texts were read every
way): never made alert-only by planted texts; when it finds nothing and the change may open a method, the rule
adds an alert-only finding naming the ambiguous held texts (a method needing them read another way may be
missed). A principal whose policies read one way is one combination: the verdict is exactly the one on its
last-wins reading.
"""

from collections.abc import Callable, Mapping, Sequence
from itertools import product
from typing import Any, NamedTuple

from iamwarden.domain.escalation import PolicyRisk, content_key, statement_content

# Reading a held text lives in ``held_texts`` (the live directory's cold import needs it, not the escalation analysis
# this module combines readings with); named here too (``__all__``), where the readings are explained.
from iamwarden.domain.held_texts import parsed_readings
from iamwarden.domain.policy import Policy, Statement
from iamwarden.domain.principals import PrincipalPolicies

__all__ = [
    "BOUNDARY",
    "MAX_COMBINATIONS",
    "Combination",
    "Combinations",
    "combinations",
    "doubted",
    "merged",
    "parsed_readings",
    "read_alike",
]

#: How many combinations of held readings one judgement reads at most (a text has at most three readings:
#: ``documents.other_readings`` gives two others, so two ambiguous documents are nine, three are 27).
MAX_COMBINATIONS = 9
#: What the permissions boundary is called among the ambiguous documents.
BOUNDARY = "the permissions boundary"


class Combination(NamedTuple):
    """The principal with one reading of each ambiguous held document; ``label`` says which (empty: last values)."""

    principal: PrincipalPolicies
    label: str


class Combinations(NamedTuple):
    """The combinations to judge (the last-wins one first), the ambiguous documents by name, and whether the cap
    left some combinations unread (``partial``)."""

    combinations: tuple[Combination, ...]
    ambiguous: tuple[str, ...]
    partial: bool = False

    def fact(self, *, found: bool = True) -> str:
        """What a verdict reached in some readings only rests on (``needs_context``); ``found`` False: what a
        capped judgement that found nothing cannot rule out."""
        names = ", ".join(self.ambiguous)
        why = (
            f"which way AWS reads {names}: {'it names' if len(self.ambiguous) == 1 else 'each names'} a key twice "
            "with different values, and AWS documents no reading of that"
        )
        if self.partial:
            why += (
                f" (more than {MAX_COMBINATIONS} combinations of readings: judged on each key's last value only, "
                "so a method that needs some of them read another way may be missed)"
            )
        return why + (
            "; what this change opens is reached in some of its readings only" if found and not self.partial else ""
        )


def _key(policy: Policy, readings: tuple[Policy, ...]) -> tuple[Any, ...]:
    return (content_key(policy), tuple(content_key(reading) for reading in readings))


def _meaning(statement: Statement) -> tuple[Any, ...]:
    """What a statement grants or denies, its Sid aside (a label grants nothing)."""
    return statement_content(statement)[1:]


def read_alike(policy: Policy, readings: Sequence[Policy]) -> bool:
    """Whether every reading of a held document is the same document in meaning as ``policy`` (its last-wins
    reading), Sid aside: only then is what putting it back writes known."""
    key = _whole(policy)
    return all(_whole(reading) == key for reading in readings)


def _distinct(
    policy: Policy, readings: Sequence[Policy], key: Callable[[Policy], tuple[Any, ...]]
) -> tuple[Policy, ...]:
    """The readings judged otherwise than ``policy`` and than each other (``key``), in order."""
    seen = {key(policy)}
    kept: list[Policy] = []
    for reading in readings:
        if (meant := key(reading)) not in seen:
            seen.add(meant)
            kept.append(reading)
    return tuple(kept)


def _whole(policy: Policy) -> tuple[Any, ...]:
    """A document's meaning: its statements' and its ``Version`` (which decides whether ``${aws:username}`` is a
    policy variable or literal text: review3 whole-s15 N2)."""
    return (policy.version, *(_meaning(statement) for statement in policy.statements))


def combinations(principal: PrincipalPolicies, *, changed: str) -> Combinations:
    """Every combination of the readings of the principal's ambiguous held documents, the source ``changed`` (the
    change's own, judged by its rule) left out. One document held twice (attached and through a group, or as a
    policy and as the boundary) is read the same way in both places: AWS reads one text once."""
    documents: dict[tuple[Any, ...], tuple[list[str], tuple[Policy, ...]]] = {}
    for named in principal.policies:
        if named.readings and named.source != changed:
            # Readings the same in meaning (a Sid apart) are one: they neither multiply nor doubt anything.
            readings = _distinct(named.policy, named.readings, _whole)
            if readings:
                entry = documents.setdefault(_key(named.policy, named.readings), ([], (named.policy, *readings)))
                entry[0].append(named.source)
    if principal.boundary is not None and principal.boundary_readings:
        # Like the others: only a Sid apart is alike.
        readings = _distinct(principal.boundary, principal.boundary_readings, _whole)
        if readings:
            boundary = (principal.boundary, *readings)
            documents.setdefault(_key(principal.boundary, principal.boundary_readings), ([], boundary))[0].append(
                BOUNDARY
            )
    if not documents:
        return Combinations((Combination(principal, ""),), ())
    keys = list(documents)
    names = tuple(" and ".join(documents[key][0]) for key in keys)
    total = 1
    for key in keys:
        total *= len(documents[key][1])
    if total > MAX_COMBINATIONS:  # judged on the last values only, as before (the verdict is never weakened)
        return Combinations((Combination(_read(principal, {}, changed), ""),), names, partial=True)
    choices = product(*(range(len(documents[key][1])) for key in keys))
    found: list[Combination] = []
    for choice in dict.fromkeys(choices):
        chosen = {key: documents[key][1][index] for key, index in zip(keys, choice, strict=True)}
        label = "; ".join(
            f"{name} read another way (reading {index + 1})" for name, index in zip(names, choice, strict=True) if index
        )
        found.append(Combination(_read(principal, chosen, changed), label))
    return Combinations(tuple(found), names)


def _read(principal: PrincipalPolicies, chosen: Mapping[tuple[Any, ...], Policy], changed: str) -> PrincipalPolicies:
    """The principal with each ambiguous document read as ``chosen`` says, in place (the order kept)."""
    policies = tuple(
        named._replace(policy=chosen.get(_key(named.policy, named.readings), named.policy), readings=())
        if named.readings and named.source != changed
        else named
        for named in principal.policies
    )
    boundary = principal.boundary
    if boundary is not None and principal.boundary_readings:
        boundary = chosen.get(_key(boundary, principal.boundary_readings), boundary)
    return principal._replace(policies=policies, boundary=boundary, boundary_readings=())


def merged(risks: Sequence[PolicyRisk], read: Combinations) -> PolicyRisk:
    """One verdict from the verdicts (``decisive`` already) on each combination, the last-wins one first: an admin
    grant or a method every combination reaches with certainty stays as it is; one reached in the same way by every
    combination (uncertain in each) stays as it is; anything else (reached by some only, or certain by some only)
    names ``read.fact()`` as unknown: alerted, never remediated. One verdict (one combination, or capped: the
    last values only) is kept as it is.
    """
    if len(risks) == 1:
        return risks[0]
    fact = read.fact()
    # Kept per combination (its index), so a verdict counts once per combination whatever it holds twice.
    admin: dict[tuple[str, int], dict[int, Any]] = {}
    paths: dict[str, dict[int, Any]] = {}
    for index, risk in enumerate(risks):
        for grant in risk.admin:
            admin.setdefault((grant.source, grant.statement.position), {}).setdefault(index, grant)
        for path in risk.escalations:
            paths.setdefault(path.method.name, {}).setdefault(index, path)

    def settled(found: dict[int, Any]) -> bool:
        if len(found) < len(risks):
            return False
        return all(item.certain for item in found.values()) or not any(item.certain for item in found.values())

    def kept(found: dict[int, Any]) -> Any:
        first = next(iter(found.values()))
        return first if settled(found) else first._replace(unknown=(*first.unknown, fact))

    grants = tuple(kept(found) for found in admin.values())
    escalations = tuple(kept(found) for found in paths.values())
    unknown = (*risks[0].unknown, *(f for g in grants for f in g.unknown), *(f for p in escalations for f in p.unknown))
    return PolicyRisk(grants, escalations, tuple(dict.fromkeys(unknown)))


def doubted(risk: PolicyRisk, fact: str) -> PolicyRisk:
    """``risk`` with ``fact`` unknown to every admin grant and path in it: alerted, never remediated."""
    return PolicyRisk(
        tuple(grant._replace(unknown=(*grant.unknown, fact)) for grant in risk.admin),
        tuple(path._replace(unknown=(*path.unknown, fact)) for path in risk.escalations),
        tuple(dict.fromkeys((*risk.unknown, fact))) if risk.risky else risk.unknown,
    )
