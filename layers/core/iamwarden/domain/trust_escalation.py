"""The trust-policy side of PMapper's STS edge: a trust change that lets a weaker principal into a stronger role.

``AssumeStrongerRole`` (``escalation``) judges the identity side: a principal granted ``sts:AssumeRole`` on
a role whose trust already lets it in. The same edge opens from the other end when a role's trust policy
changes (``UpdateAssumeRolePolicy``) to let in a principal of its own account:

* a principal the trust names (a role or user ARN) is let in by the trust alone, unless an unconditional
  Deny of its own covers the role;
* the account (``:root`` or the bare id) lets in every principal of the account whose own policies allow
  ``sts:AssumeRole`` on the role (Deny and permissions boundary applied): each is judged, up to
  ``MAX_ADMITTED``; the rest stay unknown.

Only principals let in now and not before count (``before``: the trust policy the change replaced, when it
is known; when it is not, every principal let in counts, and the verdict says so). A principal counts when the
role reaches more than it does: the role is admin-equivalent or escalates further (a certain path), and the
principal is neither (its own path through this very role aside). Conditions in the trust are not evaluated
(they may hold), as elsewhere. Services, identity providers and other accounts are the trust-policy rule's.

Pure: it judges parsed policies and asks ``RoleDirectory``, never AWS.
"""

from typing import NamedTuple

from iamwarden.domain.escalation import PolicyRisk, assess_principal, assume_allowance, principal_label, trust_admits
from iamwarden.domain.policy import Policy
from iamwarden.domain.principals import ListsUsers, PrincipalPolicies, RoleDirectory

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
    """The role and user ARNs of the role's account an Allow of ``sts:AssumeRole`` names, and whether one names
    the account itself (``:root`` or the bare id). ``*`` and ``NotPrincipal`` are the trust-policy rule's."""
    fields = role_arn.split(":", 5)
    if len(fields) != 6:
        return (), False
    partition, account = fields[1], fields[4]
    root = {account, f"arn:{partition}:iam::{account}:root"}
    prefix = f"arn:{partition}:iam::{account}:"
    named: list[str] = []
    account_wide = False
    for statement in trust.statements:
        if not statement.allows or statement.principal is None or not statement.grants_action(_ASSUME):
            continue
        for entry in statement.principal.aws:
            if entry in root:
                account_wide = True
            elif (
                entry.startswith(prefix)
                and entry[len(prefix) :].startswith(("role/", "user/"))
                and entry not in (role_arn, *named)
            ):
                named.append(entry)
    return tuple(named), account_wide


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
    named, account_wide = same_account_entries(after, role_arn)
    if before is not None:
        # What the previous trust named, or its account, it let in already: nothing to read for those.
        before_named, before_wide = same_account_entries(before, role_arn)
        named = tuple(arn for arn in named if arn not in before_named)
        account_wide = account_wide and not before_wide
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
        candidates.extend(arn for arn in (*(roles or ()), *(users or ())) if arn not in candidates)
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
        how = _newly_admitted(principal, role_arn, after, before, arn in named)
        if how is None:
            continue
        if not _already_strong(principal, role_arn, directory):
            found.append(Admitted(arn, how))
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


def _newly_admitted(
    principal: PrincipalPolicies, role_arn: str, after: Policy, before: Policy | None, named: bool
) -> str | None:
    """How ``after`` lets the principal in when ``before`` did not (None: it does not, or did already)."""
    allowance = assume_allowance(principal, role_arn)
    if allowance.denied:
        return None  # an unconditional Deny of its own keeps it out, whatever the trust says
    if not trust_admits(after, principal.principal_arn, role_arn, permitted=allowance.allowed):
        return None
    if before is not None and trust_admits(before, principal.principal_arn, role_arn, permitted=allowance.allowed):
        return None
    if named and trust_admits(after, principal.principal_arn, role_arn, permitted=False):
        return "named in the trust policy"
    return f"through its account, holding {_ASSUME} on it ({'; '.join(allowance.granted_by)})"


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
