"""The findings on a policy text that can be read more than one way, decided (review s14, the lead's decision).

A text that names a key twice with different values (or a condition key in two cases) has no documented reading:
boto3 keeps each key's last value, AWS may keep another. Such a policy is a defect by itself, so an attacker must
not be able to turn a remediable change into an alert with one harmless duplicate key, nor hide an uncertain one
behind a harmless last value. The readings are compared by what they open (admin-equivalent access, escalation
methods) and whether that is certain, never by severity or rule:

- they agree: the first reading's findings stand as they are;
- some reading opens something with certainty: that reading's findings (the worst such) stand, certain, plans and
  all, and the reason says which reading grants what;
- either way, a certain finding whose plan would write a policy version (no known previous default that is safe
  and read one way: ``restores_a_known_version``) is alerted only: the write would take boto3's last-wins text and
  cut what another reading named, a guess (review 2 of s14, F1); the plans that stand are marked ``read_two_ways``
  so the executor refuses such a write too;
- only uncertain readings offend: every finding of any reading, the worst severity first, alert-only with why;
- no reading offends: nothing.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from iamwarden.domain.catalog import Severity
from iamwarden.domain.findings import Finding

_WAYS = {2: "two", 3: "three", 4: "four"}
_RANK = {severity: rank for rank, severity in enumerate(Severity)}  # CRITICAL first
ADMIN = "admin-equivalent access"
#: How ``escalation._admin_statements`` says a grant gives a whole service on every resource (high, not critical).
_WHOLE_SERVICE = "allows every action of "


class Reading(NamedTuple):
    """One reading of the text (``label``: how it reads it, "with each key's last value") and what the rules found."""

    label: str
    findings: Sequence[Finding]


def opened(findings: Iterable[Finding]) -> tuple[str, ...]:
    """What the findings say the change opens, from their ``offending`` data: admin-equivalent access (which opens
    every method, so it is all that is said), else whole services on every resource and method names (a holder's
    items included), in the order named."""
    names: dict[str, None] = {}

    def scan(items: Iterable[Any]) -> None:
        for item in items:
            if not isinstance(item, Mapping):
                continue
            if "method" in item:
                names[str(item["method"])] = None
            elif "why" in item and "statement" in item:
                why = str(item["why"])
                # A whole service on every resource (``escalation._admin_statements``, not critical) is not admin.
                names[why.removeprefix("allows ") if why.startswith(_WHOLE_SERVICE) else ADMIN] = None
            inner = item.get("items")
            if isinstance(inner, list):
                scan(inner)

    for finding in findings:
        scan(finding.offending)
    return (ADMIN,) if ADMIN in names else tuple(names)


#: How many method names a reading's description lists.
_NAMED = 5


def _names(findings: Sequence[Finding]) -> str:
    names = opened(findings)
    more = len(names) - _NAMED
    return ", ".join(names[:_NAMED]) + (f" and {more} more methods" if more > 0 else "")


def _kind(findings: Sequence[Finding]) -> str:
    if any(finding.certain for finding in findings):
        return "certain"
    return "uncertain" if findings else "none"


def _grants(findings: Sequence[Finding]) -> str:
    names = _names(findings)
    kind = _kind(findings)
    if kind == "certain":
        return f"opens {names}"
    if kind == "uncertain":
        return (
            f"may open {names} (it rests on what IAM Warden could not know)"
            if names
            else "may open a privilege-escalation method (it rests on what IAM Warden could not know)"
        )
    return "opens nothing IAM Warden guards against"


def _worst(findings: Sequence[Finding]) -> int:
    return min((_RANK[finding.severity] for finding in findings), default=len(_RANK))


#: Why a finding on a text read two ways is alerted only when undoing it would write a version (review 2 of s14 F1).
NO_WRITE = "the policy reads two ways; IAM Warden will not write a version from either reading"
#: The step parameter ``decide`` sets on a policy-version step of a text read two ways: the executor then refuses
#: to write a version (``RestoreDefaultPolicyVersion.apply``), whatever the judgement said.
READ_TWO_WAYS = "read_two_ways"
#: The step parameter a rule sets when the previous default it names is not safe to make the default again as it
#: is (unsafe, read two ways itself, or not read): the executor would then write a version from the text.
PREVIOUS_UNSAFE = "previous_unsafe"


def _version_step(parameters: Mapping[str, Any]) -> bool:
    return "version_id" in parameters and "statements" in parameters


def _no_restore(finding: Finding) -> list[str]:
    """Why each policy-version step of the finding would write a version instead of restoring a known one."""
    return [
        str(step.parameters.get(PREVIOUS_UNSAFE) or "which version was the default before is not known")
        for step in finding.plan
        if _version_step(step.parameters)
        and ("previous_version" not in step.parameters or PREVIOUS_UNSAFE in step.parameters)
    ]


def restores_a_known_version(finding: Finding) -> bool:
    """Whether the finding's plan undoes the change without writing a document from the text: a detach, or a known
    previous default that is itself safe and read one way made the default again. A policy-version step that knows
    no previous default (``identity_policy.policy_version_step``: ``version_id`` and the ``statements`` to cut, no
    ``previous_version``), or whose previous default the rule found unsafe (``previous_unsafe``), would write a new
    version from one reading of the text, which for a text read two ways is a guess (review s14 R9, review 2 F1)."""
    return not _no_restore(finding)


def _marked(finding: Finding, where: str) -> Finding:
    """The finding with its policy-version steps marked as acting on a text read two ways (the executor's guard)."""
    if not any(_version_step(step.parameters) for step in finding.plan):
        return finding
    plan = tuple(
        step._replace(parameters={**step.parameters, READ_TWO_WAYS: where}) if _version_step(step.parameters) else step
        for step in finding.plan
    )
    return finding._replace(plan=plan)


def _alerted(findings: Iterable[Finding], why: str) -> list[Finding]:
    return [finding._replace(needs_context=(*finding.needs_context, why)) for finding in findings]


def _written(findings: Sequence[Finding]) -> str | None:
    """Why undoing the certain findings would write a version (None: each restores a known version or detaches)."""
    reasons = [reason for finding in findings if finding.certain for reason in _no_restore(finding)]
    return "; ".join(dict.fromkeys(reasons)) if reasons else None


def decide(
    readings: Sequence[Reading], where: str, *, acts: Callable[[Finding], bool] = restores_a_known_version
) -> list[Finding]:
    """The findings that stand for a text read every way (see the module). ``where``: what names a key twice (the
    text of version v1 of <arn>). ``acts``: whether a certain finding's plan may run on an ambiguous text (a plan that
    writes a document from one reading would be a guess): when it may not, the finding is alerted only."""
    if not readings:
        return []
    ways = _WAYS.get(len(readings), str(len(readings)))
    described = "; ".join(f"{reading.label}, it {_grants(reading.findings)}" for reading in readings)
    head = (
        f"this policy can be read {ways} ways: {where} names a key twice with different values, and AWS documents "
        f"no reading of it. Read {described}"
    )
    if len({(opened(reading.findings), _kind(reading.findings)) for reading in readings}) == 1:
        agreed = readings[0].findings
        written = _written(agreed)
        if written is None and all(acts(finding) for finding in agreed if finding.certain):
            return [_marked(finding, where) for finding in agreed]
        return _alerted(agreed, f"{head} (alerted only: {NO_WRITE}; {written or 'its plan would write one'})")
    certain = [reading for reading in readings if _kind(reading.findings) == "certain"]
    if certain:
        worst = min(certain, key=lambda reading: (_worst(reading.findings), -len(opened(reading.findings))))
        if all(acts(finding) for finding in worst.findings if finding.certain):
            told = (
                f"{head[0].upper()}{head[1:]}. A policy that can be read two ways is a defect by itself: IAM Warden "
                "acts on the reading that opens the most (rewrite the policy with each key once)."
            )
            return [_marked(finding._replace(reason=f"{finding.reason} {told}"), where) for finding in worst.findings]
        written = _written(worst.findings)
        why = f"{head} (alerted only: {NO_WRITE}; {written or 'its plan would write one'})"
    else:
        why = f"{head} (alerted only: rewrite the policy with each key once)"
    merged: dict[tuple[str, str], Finding] = {}
    for finding in sorted((f for reading in readings for f in reading.findings), key=lambda f: _RANK[f.severity]):
        merged.setdefault((finding.rule_id, finding.resource_arn), finding)
    return _alerted(merged.values(), why)
