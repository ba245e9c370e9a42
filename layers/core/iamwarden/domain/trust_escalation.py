"""The trust-policy side of PMapper's STS edge: a trust change that lets a weaker principal into a stronger role.

``AssumeStrongerRole`` (``escalation``) judges the identity side: a principal granted ``sts:AssumeRole`` on
a role whose trust already lets it in. The same edge opens from the other end when a role's trust policy
changes (``UpdateAssumeRolePolicy``) to let in a principal of its own account:

* a principal the trust names (a role or user ARN) is let in by the trust alone, unless an unconditional
  Deny of its own covers the role;
* the account (``:root`` or the bare id) lets in every principal of the account whose own policies allow
  ``sts:AssumeRole`` on the role (Deny and permissions boundary applied): each is judged, up to
  ``MAX_ADMITTED``; the rest stay unknown;
* everyone (``*``, ``{"AWS": "*"}``) bounded to the account or its organisation is the account too; bounded by
  ``aws:PrincipalArn``, its exact ARNs are principals it names (let in with their own ``sts:AssumeRole``) and
  its patterns the principals of the account they match. The outsiders it may let in are the trust-policy
  rule's.

Only principals let in now and not before count (``before``: the trust policy the change replaced, when it
is known; when it is not, every principal let in counts, and the verdict says so). A principal counts when the
role reaches more than it does: the role is admin-equivalent or escalates further (a certain path), and the
principal is neither (its own path through this very role aside). The new trust is read wide: a condition it
does not read may hold. The old one is read twice: a principal was let in before when its conditions provably held
(the new trust's own conditions, or narrower ones of the same test, taken as holding), and provably kept out when
even the wide reading shuts it out (a condition read exactly excluded it). Between the two (an old condition not
read exactly, e.g. ``aws:SourceIp``) it is not known: never a certain gain, the verdict names the condition and is
alert-only. Services, identity providers and other accounts are the trust-policy rule's.

Pure: it judges parsed policies and asks ``RoleDirectory``, never AWS.
"""

from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import NamedTuple

from iamwarden.domain.escalation import PolicyRisk, assess_principal, assume_allowance, principal_label, trust_admits
from iamwarden.domain.exposure import keeps_account_out
from iamwarden.domain.policy import Condition, Policy
from iamwarden.domain.principals import ListsUsers, PrincipalPolicies, RoleDirectory
from iamwarden.domain.wildcards import matches_any, wildcard_match

#: How many principals of the account a trust in the account root judges before the rest stay unknown.
MAX_ADMITTED = 100
_ASSUME = "sts:AssumeRole"


class Admitted(NamedTuple):
    """One principal the change newly lets into the role, weaker than the role."""

    principal_arn: str
    #: How the trust lets it in: ``named in the trust policy``, or through the account with its grant.
    how: str


class TrustEscalation(NamedTuple):
    """What a same-account trust change opens: the role's power, the weaker principals newly let in, the unknown."""

    #: Why the role reaches more (``is admin-equivalent (...)``, ``can escalate further (...)``); empty: unknown.
    role_reaches: str
    admitted: tuple[Admitted, ...]
    #: What the verdict lacked; with no principal found, the change cannot be called compliant.
    unknown: tuple[str, ...] = ()


def same_account_entries(trust: Policy, role_arn: str) -> tuple[tuple[str, ...], bool]:
    """The role and user ARNs of the role's account an Allow of ``sts:AssumeRole`` names, and whether one lets
    in principals of the account through it (``_entries``). ``NotPrincipal`` is the trust-policy rule's."""
    entries = _entries(trust, role_arn)
    return entries.named, bool(entries.through_account)


#: Principals of the account one statement lets in through it: each group is ARN patterns of which one must
#: match (the account itself, then each condition bounding ``aws:PrincipalArn``), every group must match.
_Within = tuple[tuple[str, ...], ...]


class _Entries(NamedTuple):
    named: tuple[str, ...]
    #: One ``_Within`` per statement letting principals of the account in through it (empty: none does).
    through_account: tuple[_Within, ...]


def _entries(trust: Policy, role_arn: str, given: frozenset[Condition] | None = None) -> _Entries:
    """What each Allow of ``sts:AssumeRole`` lets in of the role's account: the account itself (``:root``, the
    bare id), everyone (``*``, ``{"AWS": "*"}``) unless its conditions keep the account out, and the ARNs it
    names, in its Principal or as exact ``aws:PrincipalArn`` values bounding ``*`` (``_everyone_within``).

    ``given`` None reads the trust after a change: whom it MAY let in (a condition not read may hold, so wide is
    safe). A set reads the trust before it: whom it PROVABLY let in, those conditions taken as holding (the new
    trust's own, ``_assumed``, or the same test narrower, ``_held``) and any other condition not read exactly as
    failing. Who is in neither reading was provably kept out (a certain gain); who is in the wide one only may have
    been in (``_doubt_before``: alert-only)."""
    fields = role_arn.split(":", 5)
    if len(fields) != 6:
        return _Entries((), ())
    partition, account = fields[1], fields[4]
    root = {account, f"arn:{partition}:iam::{account}:root"}
    prefix = f"arn:{partition}:iam::{account}:"
    every: _Within = ((f"{prefix}*",),)
    named: list[str] = []
    through: list[_Within] = []
    for statement in trust.statements:
        if not statement.allows or statement.principal is None or not statement.grants_action(_ASSUME):
            continue
        entries = list(statement.principal.aws)
        conditions = statement.conditions
        if given is not None:
            conditions = tuple(condition for condition in conditions if not _held(condition, given))
            if conditions:
                # before: a condition not given may have failed, so what it names proves nothing on its own
                entries = [entry for entry in entries if entry == "*"]
        if statement.principal.everyone or "*" in entries:
            bounded_names, within = _everyone_within(conditions, prefix, account, upper=given is None)
            entries.extend(bounded_names)
            if within is not None:
                through.append(within)
        for entry in entries:
            if entry in root:
                through.append(every)
            elif (
                entry.startswith(prefix)
                and entry[len(prefix) :].startswith(("role/", "user/"))
                and entry not in (role_arn, *named)
            ):
                named.append(entry)
    return _Entries(tuple(named), tuple(dict.fromkeys(through)))


_PRINCIPAL_ACCOUNT = "aws:principalaccount"
_PRINCIPAL_ARN = "aws:principalarn"
#: Operators that match ``*`` and ``?`` as wildcards (the ARN operators both do, per the IAM User Guide).
_WILDCARD_OPERATORS = frozenset({"StringLike", "StringNotLike", "ArnLike", "ArnEquals", "ArnNotLike", "ArnNotEquals"})
_POSITIVE = frozenset({"StringEquals", "StringLike", "ArnEquals", "ArnLike"})
_NEGATIVE = frozenset({"StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike"})


def _everyone_within(
    conditions: tuple[Condition, ...], prefix: str, account: str, *, upper: bool = True
) -> tuple[list[str], _Within | None]:
    """Whom of the account an Allow to everyone lets in, its conditions read as a same-account bound.

    No one when the exposure analysis reads a condition as keeping the account out (``keeps_account_out``: the
    one reading both share, e.g. an ``aws:SourceAccount`` of another account, which a principal's own call does
    not carry, or an ``aws:PrincipalOrgID`` that is no organisation id). Then ``aws:PrincipalAccount`` equal to
    the account (or ``aws:PrincipalOrgID`` of any organisation, which the account may be in) bounds nothing
    inside it: every principal with its own ``sts:AssumeRole`` is let in, as with ``:root``. ``aws:PrincipalArn``
    exact role or user ARNs of the account are named principals; its patterns let in those they match (a
    ``StringLike`` pattern with a wildcard before the resource spans colons, so it bounds nothing here). A bound
    naming only other accounts keeps the account out (the outsiders are the trust-policy rule's). Anything else
    (other keys, qualifiers, policy variables) is not evaluated: it may hold. Returns the named ARNs and the
    bound for the rest (None: no one else of the account).

    That is the ``upper`` reading, of the trust after a change (who may now get in: wide is safe). The lower one
    reads the trust before it (who was provably in: narrow is safe): a condition it does not read exactly lets no
    one in, and a ``StringLike`` pattern spanning colons bounds to what it matches field by field (a part of what
    it matches)."""
    if keeps_account_out(conditions, account):
        return [], None
    within: list[tuple[str, ...]] = [(f"{prefix}*",)]
    names: list[str] | None = None
    for condition in conditions:
        if condition.qualifier is not None or condition.key not in (_PRINCIPAL_ACCOUNT, _PRINCIPAL_ARN):
            if upper:
                continue
            return [], None  # before: a condition not read may have kept everyone out
        wildcards = condition.operator in _WILDCARD_OPERATORS
        if any("${" in value for value in condition.values):
            if upper:
                continue  # a policy variable: not evaluated here, it may hold
            return [], None
        if condition.operator not in _POSITIVE | _NEGATIVE and not upper:
            return [], None  # before: ``...IgnoreCase`` and the like are not read exactly
        if condition.key == _PRINCIPAL_ACCOUNT:
            if condition.operator.startswith("Arn"):
                if upper:
                    continue  # an ARN test of an account id: IAM does not document it, so it may hold
                return [], None  # before: nor may it be taken to have held
            ours = any(wildcard_match(v, account) if wildcards else v == account for v in condition.values)
            if (condition.operator in _POSITIVE and not ours) or (condition.operator in _NEGATIVE and ours):
                return [], None
            continue
        if condition.operator not in _POSITIVE:
            if upper:
                continue  # a principal it spares may still be let in: conservative
            return [], None  # before: whom it spared is not read here
        if upper and wildcards and any(not _fieldwise(v, condition.operator) for v in condition.values):
            continue  # a pattern not read field by field may match any ARN of the account: conservative
        exact = [v for v in condition.values if v.startswith(prefix) and not (wildcards and ("*" in v or "?" in v))]
        patterns = tuple(
            v
            for v in condition.values
            if v not in exact
            and _may_be_of(v, prefix, wildcards)
            and (upper or not condition.operator.startswith("Arn") or _six_fields(v))
        )
        exact = [v for v in exact if v[len(prefix) :].startswith(("role/", "user/"))]
        if not patterns:
            names = exact if names is None else [v for v in names if v in exact]
            if not names:
                return [], None
        else:
            within.append((*exact, *patterns))
    if names is not None:
        return [v for v in names if all(matches_any(v, group) for group in within)], None
    return [], tuple(within)


def _fieldwise(value: str, operator: str) -> bool:
    """Whether an ``aws:PrincipalArn`` value matches as its six fields do (``wildcards.arn_match``): one without
    wildcards, or a six-field ARN pattern whose wildcards ``ArnLike`` confines to their field or ``StringLike``
    has only in the resource (``StringLike`` matches the whole string: a ``*`` before the resource spans colons,
    and IAM paths may hold ``:``, so ``arn:*:iam::999999999999:role/x`` matches
    ``arn:aws:iam::<this account>:role/p:iam::999999999999:role/x``)."""
    if "*" not in value and "?" not in value:
        return True
    fields = value.split(":", 5)
    if len(fields) != 6:
        return False  # ``arn:aws:iam::*``: a pattern of fewer fields (StringLike: every ARN it prefixes)
    head = ":".join(fields[:5])
    return operator != "StringLike" or ("*" not in head and "?" not in head)


def _six_fields(value: str) -> bool:
    """Whether an ``ArnLike``/``ArnEquals`` pattern is read field by field here as IAM does (``wildcards.arn_match``
    reads only ``arn:`` patterns so). One of fewer fields (``*:role/x``) is matched whole by ``arn_match``, wider
    than IAM's six separate fields, so the narrow reading of the old trust takes it to prove no one in."""
    return value.startswith("arn:") and len(value.split(":", 5)) == 6


def _may_be_of(value: str, prefix: str, wildcards: bool) -> bool:
    """Whether an ``aws:PrincipalArn`` pattern may match an ARN of the account (``prefix``: ``arn:<p>:iam::<id>:``)."""
    if not wildcards:
        return False
    if not value.startswith("arn:"):
        return True  # ``*`` and the like
    fields = value.split(":", 5)
    ours = prefix.split(":", 5)
    return len(fields) == 6 and all(wildcard_match(p, o) for p, o in zip(fields[:5], ours[:5], strict=True))


def judge_trust_change(
    role_arn: str,
    after: Policy,
    before: Policy | None,
    directory: RoleDirectory | None,
) -> TrustEscalation | None:
    """The weaker principals of the role's own account that ``after`` newly lets into a stronger role.

    ``before``: the trust policy the change replaced (None when it is not known: then every principal let in
    counts as new, and the caller says so). None: nothing to report (no principal of the account is newly let
    in, the role reaches no more than anyone, or every principal let in was let in before or is as strong).
    """
    named, through_account = _entries(after, role_arn)
    given = _assumed(after)
    if before is not None:
        # What the previous trust provably named, or its whole account, it let in already: nothing to read for those.
        earlier = _entries(before, role_arn, given)
        named = tuple(arn for arn in named if arn not in earlier.named)
        if any(len(within) == 1 for within in earlier.through_account):
            through_account = ()
    account_wide = bool(through_account)
    if not named and not account_wide:
        return None
    who = ", ".join(
        [*(principal_label(arn) for arn in named), *(["the principals of its account"] if account_wide else [])]
    )
    if directory is None:
        return TrustEscalation(
            "",
            (),
            (f"what {principal_label(role_arn)} may do and what {who} may do (no authorization details)",),
        )
    role = directory.principal(role_arn)
    if role is None:
        return TrustEscalation("", (), (f"what {principal_label(role_arn)} may do (its policies could not be read)",))
    # The role as the change leaves it: its trust decides what its user and group writes reach (a user it now
    # lets in can write itself anything through it), and the directory may hold the trust from before.
    reaches, unknown = _reaches(assess_principal(role._replace(trust=after), directory), role_arn)
    if not reaches:
        return TrustEscalation("", (), unknown) if unknown else None
    facts: list[str] = []
    candidates = list(named)
    if account_wide:
        account = role_arn.split(":", 5)[4]
        roles = directory.roles_matching(account, "*")
        users = directory.users_of(account) if isinstance(directory, ListsUsers) else None
        if roles is None:
            facts.append(f"which roles of account {account} hold {_ASSUME} on it (the roles could not be listed)")
        if users is None:
            facts.append(f"which users of account {account} hold {_ASSUME} on it (the users are not listed here)")
        candidates.extend(
            arn
            for arn in (*(roles or ()), *(users or ()))
            if arn not in candidates
            and any(all(matches_any(arn, group) for group in within) for within in through_account)
        )
    candidates = [arn for arn in candidates if arn != role_arn]
    if len(candidates) > MAX_ADMITTED:
        facts.append(f"what the other {len(candidates) - MAX_ADMITTED} principals of the account may do")
        candidates = candidates[:MAX_ADMITTED]
    found: list[Admitted] = []
    for arn in candidates:
        principal = directory.principal(arn)
        if principal is None:
            facts.append(f"what {principal_label(arn)} may do (its policies could not be read)")
            continue
        newly = _newly_admitted(principal, role_arn, after, before, arn in named, given=given)
        if newly is None or _already_strong(principal, role_arn, directory):
            continue
        if newly.doubt is None:
            found.append(Admitted(arn, newly.how))
        else:
            facts.append(newly.doubt)  # not proven in before, nor out: never a certain gain
    if not found and not facts:
        return None
    return TrustEscalation(reaches, tuple(found), tuple(dict.fromkeys(facts)))


def _reaches(risk: PolicyRisk, role_arn: str) -> tuple[str, tuple[str, ...]]:
    """Why the role reaches more than an ordinary principal (admin-equivalent, or a certain path), or what would
    tell (its possible paths' unknowns)."""
    critical = [grant for grant in risk.admin if grant.critical]
    if critical:
        grant = critical[0]
        return f"is admin-equivalent ({grant.statement.label} of {grant.source} {grant.why})", ()
    certain = [path for path in risk.escalations if path.certain]
    if certain:
        return f"can escalate further ({certain[0].method.name}: {certain[0].describe()})", ()
    if risk.escalations:
        return "", (f"whether {principal_label(role_arn)} can escalate further: {'; '.join(risk.unknown)}",)
    return "", ()


def _assumed(after: Policy) -> frozenset[Condition]:
    """The conditions every Allow of ``sts:AssumeRole`` to an AWS principal in ``after`` rests on: whichever lets a
    principal in, these hold for its request, so the same test in the trust before held for it too."""
    held: frozenset[Condition] | None = None
    for statement in after.statements:
        principal = statement.principal
        if statement.allows and principal is not None and (principal.everyone or principal.aws):
            if not statement.grants_action(_ASSUME):
                continue
            mine = frozenset(statement.conditions)
            held = mine if held is None else held & mine
    return held or frozenset()


def _proven_in(before: Policy, holder: str, role_arn: str, permitted: bool, given: frozenset[Condition]) -> bool:
    """Whether ``before`` provably let ``holder`` in (``_entries`` read narrow, ``given`` holding): named in its
    Principal with no other condition, or through the account or a bound it matches with its own ``permitted``
    ``sts:AssumeRole``. ``NotPrincipal`` proves nothing (whom it spares is the trust-policy rule's)."""
    if any(
        statement.allows
        and statement.principal is not None
        and statement.grants_action(_ASSUME)
        and holder in statement.principal.aws
        and all(_held(condition, given) for condition in statement.conditions)
        for statement in before.statements
    ):
        return True
    if not permitted:
        return False
    earlier = _entries(before, role_arn, given)
    return holder in earlier.named or any(
        all(matches_any(holder, group) for group in within) for within in earlier.through_account
    )


class _Newly(NamedTuple):
    """How ``after`` lets a principal in that ``before`` did not provably let in."""

    how: str
    #: What may have let it in before all the same (None: the old trust provably kept it out, a certain gain).
    doubt: str | None = None


def _newly_admitted(
    principal: PrincipalPolicies,
    role_arn: str,
    after: Policy,
    before: Policy | None,
    named: bool,
    *,
    given: frozenset[Condition] = frozenset(),
) -> _Newly | None:
    """How ``after`` lets the principal in when ``before`` did not (None: it does not, or provably did already).
    ``after`` is read wide (whom it may let in), ``before`` both ways: narrow (whom it provably let in, ``given``
    holding) and wide (whom it may have let in). Only a principal outside even the wide reading is a certain gain;
    one between the two carries its ``doubt``."""
    allowance = assume_allowance(principal, role_arn)
    if allowance.denied:
        return None  # an unconditional Deny of its own keeps it out, whatever the trust says
    if not trust_admits(after, principal.principal_arn, role_arn, permitted=allowance.allowed):
        return None
    doubt = None
    if before is not None:
        if _proven_in(before, principal.principal_arn, role_arn, allowance.allowed, given):
            return None
        doubt = _doubt_before(before, principal.principal_arn, role_arn, allowance.allowed, given)
    if named and trust_admits(after, principal.principal_arn, role_arn, permitted=False):
        return _Newly("named in the trust policy", doubt)
    return _Newly(f"through its account, holding {_ASSUME} on it ({'; '.join(allowance.granted_by)})", doubt)


def _doubt_before(
    before: Policy, holder: str, role_arn: str, permitted: bool, given: frozenset[Condition]
) -> str | None:
    """Why ``before`` may have let ``holder`` in though it is not proven to (None: it provably did not). A statement
    may have let it in when read wide (a condition not read may hold; ``NotPrincipal`` spares everyone it does not
    name): what it rests on is then the old conditions not read exactly, which the verdict names."""
    ways: list[str] = []
    for statement in before.statements:
        if not statement.allows or not statement.grants_action(_ASSUME):
            continue
        if statement.not_principal is not None:
            ways.append(f"{statement.label}, a NotPrincipal (whom it spares is not read here)")
            continue
        if statement.principal is None:
            continue
        if holder not in statement.principal.aws:
            if not permitted:
                continue
            wide = _entries(before._replace(statements=(statement,)), role_arn)
            if holder not in wide.named and not any(
                all(matches_any(holder, group) for group in within) for within in wide.through_account
            ):
                continue  # read wide, this statement kept it out
        unread = [_describe(condition) for condition in statement.conditions if not _held(condition, given)]
        ways.append(
            f"{statement.label} if {' and '.join(unread)} held (not read exactly here)"
            if unread
            else f"{statement.label} (read wide)"
        )
    if not ways:
        return None
    return (
        f"whether {principal_label(holder)} could assume {principal_label(role_arn)} before the change (the trust "
        f"policy it replaced may have let it in: {'; '.join(ways)})"
    )


def _describe(condition: Condition) -> str:
    """A condition as the policy writes it: ``IpAddress aws:sourceip 10.0.0.0/8``."""
    operator = f"{condition.qualifier + ':' if condition.qualifier else ''}{condition.operator}"
    operator += "IfExists" if condition.if_exists else ""
    return f"{operator} {condition.key} {', '.join(condition.values)}"


#: Operators that hold when the request matches any of their values, and those that hold when it matches none.
_ANY_OF = frozenset(
    name.lower()
    for name in (
        "StringEquals",
        "StringEqualsIgnoreCase",
        "StringLike",
        "ArnEquals",
        "ArnLike",
        "NumericEquals",
        "DateEquals",
        "Bool",
        "BinaryEquals",
    )
)
_NONE_OF = frozenset(
    name.lower()
    for name in (
        "StringNotEquals",
        "StringNotEqualsIgnoreCase",
        "StringNotLike",
        "ArnNotEquals",
        "ArnNotLike",
        "NumericNotEquals",
        "DateNotEquals",
    )
)


def _held(condition: Condition, given: frozenset[Condition]) -> bool:
    """Whether ``condition`` surely held for a request the ``given`` conditions hold for: one of them is it, or is
    the same test narrower (``_implies``)."""
    return condition in given or any(_implies(held, condition) for held in given)


def _implies(held: Condition, condition: Condition) -> bool:
    """Whether every request ``held`` holds for meets ``condition``: the same key, operator, qualifier and
    ``IfExists`` (so a request without the key fares alike), and fewer values for a test of any of them (each
    ``IpAddress`` range inside one of the other's), more for a test of none (each ``NotIpAddress`` range of the
    other inside one of these). Other operators (``NumericLessThan`` and the like) are not compared."""
    operator = condition.operator.lower()
    if (held.key, held.operator.lower(), held.qualifier, held.if_exists) != (
        condition.key,
        operator,
        condition.qualifier,
        condition.if_exists,
    ):
        return False
    if operator == "ipaddress":
        return _ranges_within(held.values, condition.values)
    if operator == "notipaddress":
        return _ranges_within(condition.values, held.values)
    if operator in _ANY_OF:
        return set(held.values) <= set(condition.values)
    if operator in _NONE_OF:
        return set(condition.values) <= set(held.values)
    return False


def _ranges_within(inner: tuple[str, ...], outer: tuple[str, ...]) -> bool:
    """Whether each address range of ``inner`` lies inside one of ``outer`` (a value that is no range: not known)."""
    try:
        inside = [ip_network(value, strict=False) for value in inner]
        around = [ip_network(value, strict=False) for value in outer]
    except ValueError:
        return False
    return bool(inside) and all(any(_subnet(network, of) for of in around) for network in inside)


def _subnet(network: IPv4Network | IPv6Network, of: IPv4Network | IPv6Network) -> bool:
    if isinstance(network, IPv4Network) and isinstance(of, IPv4Network):
        return network.subnet_of(of)
    if isinstance(network, IPv6Network) and isinstance(of, IPv6Network):
        return network.subnet_of(of)
    return False


def _already_strong(principal: PrincipalPolicies, role_arn: str, directory: RoleDirectory) -> bool:
    """Whether the principal is already admin-equivalent or escalates on a certain path other than into this role
    (read live, the directory already holds the new trust, so its own path into the role is no answer)."""
    risk = assess_principal(principal, directory)
    if any(grant.critical for grant in risk.admin):
        return True
    return any(
        path.certain
        and not (path.method.reach == "assumes-role" and all(lead.arn == role_arn for lead in path.leads_to))
        for path in risk.escalations
    )
