"""``trust-policy-untrusted``: who may assume a role.

A role's trust policy (CreateRole's ``assumeRolePolicyDocument``,
UpdateAssumeRolePolicy's ``policyDocument``) is judged statement by statement.
An Allow statement offends when it lets in:

* everyone: ``*``, a wildcard account, or ``NotPrincipal`` (``exposure.py``);
* an AWS account outside the trusted boundary (the event's own account,
  ``trusted_accounts``, ``managed_accounts``, the organisation), unless the
  account is listed in ``rules/trust-policy-untrusted/third_party_accounts``;
* a listed third-party (vendor) account without an ``sts:ExternalId``
  condition, the confused-deputy guard AWS asks vendors to use. Accounts
  inside the boundary need no external id: they are ours, not a vendor's
  shared service acting for many customers;
* web-identity federation (``sts:AssumeRoleWithWebIdentity``) without a
  condition on the provider's subject (``<provider>:sub``; Cognito identity
  pools are bound by ``cognito-identity.amazonaws.com:aud``), or with a
  subject pattern that any identity matches. For GitHub Actions
  (``token.actions.githubusercontent.com``), a ``StringLike`` subject must
  name the repository owner exactly: ``repo:acme/*`` (every repository and
  branch of the acme organisation, which this organisation controls) is
  accepted; ``*``, ``repo:*`` or ``repo:acme*/*`` (which ``acme-evil`` also
  matches) are findings.

A trust policy that only denies is never a finding, and a statement whose condition can never hold
(``exposure.never_holds``) lets no one in. A reason that rests on a fact that could not be learned makes
the finding alert-only (``needs_context``).

Trust boundaries the organisation states (``github_owners``, ``cognito_identity_pools``):
with ``github_owners`` set, a GitHub subject that names any other owner is a finding
(a customised subject claim that does not start ``repo:OWNER/`` names no owner and is
not checked); with ``cognito_identity_pools`` set, a Cognito trust needs an
``cognito-identity.amazonaws.com:aud`` condition, and one that admits a pool not listed
is a finding. Conditions are ANDed: a statement offends only when every bounding
condition on the key admits an outsider.

A condition bounds only with a positive operator (``StringEquals``,
``StringLike``, ``StringEqualsIgnoreCase``), without ``IfExists`` or
``ForAllValues`` (both match when the key is absent).

The same rule class also carries ``privilege-escalation`` for an ``UpdateAssumeRolePolicy`` that newly lets a
weaker principal of the role's own account into a stronger role (``domain.trust_escalation``: PMapper's STS
edge from the role's end). What the trust was before comes from the heartbeat's snapshot live and the
authorization details offline (``previous_trust``); ``RestorePreviousTrustPolicy`` puts it back while the role
still holds the event's document. Unknown, the finding is alert-only.
"""

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any, ClassVar, NamedTuple

from iamwarden.adapters.errors import ignoring, is_gone
from iamwarden.domain.arns import iam_arn
from iamwarden.domain.canonical import canonical
from iamwarden.domain.catalog import Mode, OptionSpec, RuleSpec, Severity
from iamwarden.domain.documents import PolicyKind, load_policy
from iamwarden.domain.escalation import principal_label
from iamwarden.domain.exceptions import RemediationError, UndoError
from iamwarden.domain.exposure import (
    ACCOUNT_ID,
    Circumstances,
    TrustBoundary,
    admits_only_trusted,
    fresh_exposure,
    never_holds,
)
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.domain.judged import judged_once
from iamwarden.domain.policy import Condition, Policy, Principal, Statement, parse_policy
from iamwarden.domain.recorded import ROLE_TRUST, Snapshot, observed_at
from iamwarden.domain.settings import RuleSettings
from iamwarden.domain.statement_meaning import document_meaning, statement_meaning, still_granted
from iamwarden.domain.trust_escalation import TrustEscalation, judge_trust_change, same_account_entries
from iamwarden.domain.variables import resolve
from iamwarden.domain.wildcards import wildcard_match
from iamwarden.guardrails.base import Evaluation, RuleContext
from iamwarden.guardrails.identity_policy import IAM, PRIVILEGE_ESCALATION
from iamwarden.guardrails.remediation import (
    AccountClients,
    AuditEntry,
    Permissions,
    StepRun,
    offending_statements,
    policy_document,
    remove_statements,
    restore_statements,
    statement_cut,
    statement_list,
    statement_reference,
    without_offending,
)

TRUST_POLICY_UNTRUSTED = RuleSpec(
    id="trust-policy-untrusted",
    title="Role trust policy lets in outsiders",
    event_source="iam.amazonaws.com",
    event_names=frozenset({"CreateRole", "UpdateAssumeRolePolicy"}),
    risk=(
        "A role whose trust policy lets in everyone, accounts outside the organisation, a vendor without an "
        "external id, or any workload of an identity provider hands the role's permissions to strangers."
    ),
    options={
        "third_party_accounts": OptionSpec(
            "patterns",
            (),
            "12-digit ids of vendor accounts that may assume roles, each only with an sts:ExternalId condition",
        ),
    },
    alert_risk=(
        "Whoever a role's trust policy lets in can act with everything the role may do, so a role open to "
        "strangers, to a vendor without an external id, or to any repository or workload of an identity provider "
        "is a door into this account."
    ),
    resource_types=frozenset({"AWS::IAM::Role"}),
)

GITHUB_ACTIONS = "token.actions.githubusercontent.com"
COGNITO = "cognito-identity.amazonaws.com"
_DOCUMENT_PARAMETER = {"CreateRole": "assumeRolePolicyDocument", "UpdateAssumeRolePolicy": "policyDocument"}
_BOUNDING_OPERATORS = frozenset({"stringequals", "stringlike", "stringequalsignorecase"})
_WEB_IDENTITY = "sts:AssumeRoleWithWebIdentity"
#: A GitHub subject pattern is bounded when the owner before the first "/" is spelled out.
_GITHUB_OWNER = re.compile(r"^repo:[^*?/]+/")


class Problem(NamedTuple):
    """One reason one statement offends; ``account``: the AWS account whose principal entries are the reason."""

    statement: Statement
    public: bool
    text: str
    #: What this reason rests on that could not be known (a network's owner, a caller condition not evaluated).
    facts: tuple[str, ...] = ()
    #: Conditions of the statement judged as if absent.
    unevaluated: tuple[str, ...] = ()
    account: str | None = None


class TrustPolicyRule:
    """CreateRole and UpdateAssumeRolePolicy letting in principals outside the trusted set
    (``trust-policy-untrusted``), or a weaker principal of the account into a stronger role
    (``privilege-escalation``, see ``domain.trust_escalation``)."""

    specs: ClassVar[tuple[RuleSpec, ...]] = (TRUST_POLICY_UNTRUSTED, PRIVILEGE_ESCALATION)
    event_keys: ClassVar[frozenset[tuple[str, str]]] = frozenset((IAM, name) for name in _DOCUMENT_PARAMETER)

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        role = context.request_text("roleName")
        arn = iam_arn(context.partition, change.account, "role", role)
        evaluation = Evaluation(resource_arn=arn)
        parameter = _DOCUMENT_PARAMETER[change.event_name]
        field = f"detail.requestParameters.{parameter}"
        policy = load_policy(change.request_parameters.get(parameter), PolicyKind.TRUST, field=field)
        if context.recorded is not None:
            # What this change set is the next trust change's "before" (``previous_trust``), not the heartbeat's
            # older snapshot: two changes within one heartbeat window would otherwise restore a trust never judged.
            evaluation.observed.append(
                Snapshot(ROLE_TRUST, arn, observed_at(change.time), {"trust_policy": dict(policy.raw)})
            )
        if policy.only_denies:
            evaluation.compliant.append(f"the trust policy of role {role} only denies: nobody may assume it")
            return evaluation
        untrusted = context.rule(TRUST_POLICY_UNTRUSTED.id)
        if untrusted.mode is not Mode.OFF:
            self._outsiders(context, evaluation, role, arn, policy, untrusted=untrusted)
        # CreateRole makes a role with no permission policies: letting anyone into it lets them do nothing more
        # (a policy put on it later is judged by the identity rules).
        if change.event_name == "UpdateAssumeRolePolicy":
            # One plan per trust policy: when trust-policy-untrusted remediates this one, its plan is the one that acts.
            outsiders_act = bool(evaluation.findings) and untrusted.mode is Mode.REMEDIATE
            weaker_admitted(context, evaluation, role, arn, policy, outsiders_act=outsiders_act)
        return evaluation

    @staticmethod
    def _outsiders(
        context: RuleContext, evaluation: Evaluation, role: str, arn: str, policy: Policy, *, untrusted: RuleSettings
    ) -> None:
        change = context.change
        boundary = context.settings.boundary(change.account)
        vendors = untrusted.patterns("third_party_accounts")
        circumstances = context.circumstances()
        federation = FederationBoundary(context.settings.github_owners, context.settings.cognito_identity_pools)

        problems = list(policy_problems(policy, boundary, vendors, circumstances, federation))
        if not problems:
            evaluation.compliant.append(
                f"the trust policy of role {role} lets in only trusted accounts, AWS services, vendors with an "
                "external id and identity providers bound to a subject"
            )
            return
        offending = _unique(problem.statement for problem in problems)
        cuts = [trust_cut(statement, [p for p in problems if p.statement is statement]) for statement in offending]
        labels = ", ".join(_cut_label(cut) for cut in cuts)
        evaluation.findings.append(
            context.finding(
                TRUST_POLICY_UNTRUSTED,
                severity=Severity.CRITICAL if any(p.public for p in problems) else Severity.HIGH,
                resource_arn=arn,
                reason=(
                    f"The trust policy {'of the new' if change.event_name == 'CreateRole' else 'set on'} role {role} "
                    f"by {change.actor.display} {'; '.join(p.text for p in problems)}."
                    + _unevaluated_sentence(problems)
                ),
                plan=[
                    RemediationStep(
                        RestoreTrustPolicy.action,
                        arn,
                        {
                            "role_name": role,
                            "event_name": change.event_name,
                            "statements": cuts,
                        },
                        (
                            f"remove {labels} from the trust policy of role {role}, keep the rest"
                            if change.event_name == "CreateRole"
                            else f"restore the last known good trust policy of role {role}, or else remove {labels}"
                        ),
                    )
                ],
                offending=[
                    {
                        **statement_reference(problem.statement),
                        "public": problem.public,
                        "problem": problem.text,
                        **({"needs_context": list(problem.facts)} if problem.facts else {}),
                        **({"unevaluated_conditions": list(problem.unevaluated)} if problem.unevaluated else {}),
                    }
                    for problem in problems
                ],
                # Conservative: the plan restores or rewrites the whole trust policy, so one uncertain reason
                # makes the finding alert-only.
                needs_context=list(dict.fromkeys(fact for problem in problems for fact in problem.facts)),
            )
        )


class PreviousTrust(NamedTuple):
    """The trust policy an ``UpdateAssumeRolePolicy`` replaced: the document and where it is known from, or why
    it is not known (``document`` None)."""

    document: Mapping[str, Any] | None
    source: str = ""
    unknown: str = ""


def previous_trust(context: RuleContext, role: str, arn: str, policy: Policy) -> PreviousTrust:
    """What the role's trust was before the change: the heartbeat's snapshot in the enforcer (taken before the
    change), the authorization details offline (when they differ from the event's: taken before it).

    The live role cannot say (the event arrives after the change), and a snapshot or details that already hold
    the event's document show the change itself, not what it replaced.
    """
    what = f"what trust policy role {role} had before"
    event_document = canonical(dict(policy.raw))
    if context.recorded is not None:
        snapshot = context.recorded.snapshot(ROLE_TRUST, arn)
        document = snapshot.data.get("trust_policy") if snapshot is not None else None
        if snapshot is None or not isinstance(document, Mapping):
            return PreviousTrust(None, unknown=f"{what} (IAM Warden has no snapshot of it)")
        if not snapshot.taken_before(context.change.time):
            return PreviousTrust(
                None, unknown=f"{what} (the last snapshot, {snapshot.taken_at}, is newer than the change)"
            )
        return PreviousTrust(dict(document), f"as IAM Warden last saw it, {snapshot.taken_at}")
    found = context.directory.principal(arn) if context.directory is not None else None
    if found is None or found.trust is None:
        return PreviousTrust(None, unknown=f"{what} (no snapshot or authorization details name it)")
    if canonical(dict(found.trust.raw)) == event_document:
        return PreviousTrust(None, unknown=f"{what} (the authorization details already hold this change)")
    return PreviousTrust(dict(found.trust.raw), "as the authorization details have it")


def weaker_admitted(
    context: RuleContext, evaluation: Evaluation, role: str, arn: str, policy: Policy, *, outsiders_act: bool
) -> None:
    """A ``privilege-escalation`` finding when the new trust lets a weaker principal of the account into a
    stronger role (``domain.trust_escalation``); its plan puts back the trust policy it replaced, when known."""
    named, account_wide = same_account_entries(policy, arn)
    if not named and not account_wide:
        return  # the common case: services, identity providers, other accounts (nothing to read)
    if context.rule(PRIVILEGE_ESCALATION.id).mode is Mode.OFF:
        return
    previous = previous_trust(context, role, arn, policy)
    before = (
        parse_policy(previous.document, field="the previous trust policy") if previous.document is not None else None
    )
    judged = judge_trust_change(arn, policy, before, context.directory)
    if judged is None:
        return
    change = context.change
    set_by = f"The trust policy set on role {role} by {change.actor.display}"
    needs = [*judged.unknown] if not judged.admitted else []
    if previous.document is None:
        needs.append(previous.unknown)
    if not judged.admitted:
        evaluation.findings.append(
            context.finding(
                PRIVILEGE_ESCALATION,
                severity=Severity.HIGH,
                resource_arn=arn,
                reason=(
                    f"{set_by} lets principals of its own account assume it: whether that lets one of them do more "
                    "than it could (the role admin-equivalent or escalating further, the principal not) depends "
                    "on what IAM Warden could not know. Check it by hand."
                ),
                plan=[],
                needs_context=list(dict.fromkeys(needs)),
            )
        )
        return
    plan = (
        [restore_previous_step(role, arn, dict(policy.raw), previous)]
        if previous.document is not None and not outsiders_act
        else []
    )
    evaluation.findings.append(
        context.finding(
            PRIVILEGE_ESCALATION,
            severity=Severity.CRITICAL,
            resource_arn=arn,
            reason=f"{set_by} {_escalation_text(role, judged, previous, outsiders=outsiders_act)}",
            plan=plan,
            offending=[
                {"edge": "AssumeStrongerRole", "role": arn, "role_reaches": judged.role_reaches},
                *({"admitted": admitted.principal_arn, "how": admitted.how} for admitted in judged.admitted),
            ],
            needs_context=list(dict.fromkeys(needs)),
        )
    )


#: How many newly let-in principals a reason names before "and N more" (the finding's ``offending`` has all).
_NAMED_ADMITTED = 5


def _escalation_text(role: str, judged: TrustEscalation, previous: PreviousTrust, *, outsiders: bool) -> str:
    shown = judged.admitted[:_NAMED_ADMITTED]
    more = len(judged.admitted) - len(shown)
    names = "; ".join(f"{principal_label(a.principal_arn)} ({a.how})" for a in shown) + (
        f"; and {more} more" if more else ""
    )
    one = len(judged.admitted) == 1
    text = (
        f"lets in {'a principal' if one else 'principals'} of its own account weaker than the role: {names}. "
        f"Role {role} {judged.role_reaches}, and {'it is' if one else 'they are'} neither admin-equivalent nor "
        f"able to escalate on {'its' if one else 'their'} own, so assuming the role is a privilege escalation "
        "(AssumeStrongerRole)."
    )
    if previous.document is None:
        text += f" Whether {'it was' if one else 'they were'} let in before is not known: {previous.unknown}."
    elif outsiders:
        text += f" The {TRUST_POLICY_UNTRUSTED.id} remediation acts on this trust policy; this one is alerted only."
    return text


def restore_previous_step(role: str, arn: str, document: Mapping[str, Any], previous: PreviousTrust) -> RemediationStep:
    return RemediationStep(
        RestorePreviousTrustPolicy.action,
        arn,
        {"role_name": role, "policy": dict(document), "restore_to": dict(previous.document or {})},
        f"put back the trust policy role {role} had before the change ({previous.source})",
    )


class FederationBoundary(NamedTuple):
    """The identity providers' subjects this organisation owns: its GitHub owners and Cognito identity pools.

    Empty means "not stated": the owner or pool is then not checked, only that the trust is bound to one.
    """

    github_owners: frozenset[str] = frozenset()
    identity_pools: frozenset[str] = frozenset()

    def foreign_owner(self, subject: str) -> str | None:
        """The GitHub owner a ``repo:OWNER/...`` subject names, when it is not one of ours (None: ours or unread)."""
        if not self.github_owners or _GITHUB_OWNER.match(subject) is None:
            return None
        owner = subject[len("repo:") : subject.index("/")]
        return None if owner.lower() in _lowered(self.github_owners) else owner


@lru_cache(maxsize=64)
def _lowered(owners: frozenset[str]) -> frozenset[str]:
    """``github_owners`` in lower case (GitHub owner names are case insensitive), once per setting's value."""
    return frozenset(owner.lower() for owner in owners)


#: No GitHub owners or identity pools stated: only that a trust is bound to some subject is checked.
UNSTATED = FederationBoundary()


def trust_cut(statement: Statement, problems: Sequence[Problem]) -> dict[str, Any]:
    """What to take out of an offending trust statement: only the outsiders' AWS principal entries, when every
    reason it offends is an outside account and other principals remain; else the whole statement."""
    accounts = {p.account for p in problems}
    principal = statement.raw.get("Principal")
    if None in accounts or any(p.public for p in problems) or not isinstance(principal, Mapping):
        return statement_reference(statement)
    entries = principal.get("AWS")
    listed = [entries] if isinstance(entries, str) else list(entries) if isinstance(entries, list) else []
    outsiders = [e for e in listed if isinstance(e, str) and _account_of(e) in accounts]
    others = [e for e in listed if e not in outsiders]
    if not outsiders or not (others or any(kind != "AWS" for kind in principal)):
        return statement_reference(statement)
    return statement_cut(statement, principals={"AWS": outsiders})


def _account_of(entry: str) -> str | None:
    """The account of an AWS principal entry: a bare account id, or the account field of an ARN."""
    if ACCOUNT_ID.fullmatch(entry):
        return entry
    parts = entry.split(":", 5)
    return parts[4] if len(parts) == 6 and parts[0] == "arn" and ACCOUNT_ID.fullmatch(parts[4]) else None


def _cut_label(cut: Mapping[str, Any]) -> str:
    label = f"statement {cut['index']}" + (f" ({cut['sid']})" if cut.get("sid") else "")
    principals = cut.get("principals")
    if not principals:
        return label
    return f"principal {', '.join(e for entries in principals.values() for e in entries)} of {label}"


def policy_problems(
    policy: Policy,
    boundary: TrustBoundary,
    vendors: tuple[str, ...],
    circumstances: Circumstances | None = None,
    federation: FederationBoundary = UNSTATED,
) -> tuple[Problem, ...]:
    """``statement_problems`` of every statement of ``policy``, judged once per document and settings
    (``judged_once``): a trust policy seen before is one look-up."""
    return judged_once(
        policy,
        (statement_problems, boundary, vendors, federation),
        circumstances,
        _every_problem,
        policy,
        boundary,
        vendors,
        circumstances,
        federation,
    )


def _every_problem(
    policy: Policy,
    boundary: TrustBoundary,
    vendors: tuple[str, ...],
    circumstances: Circumstances | None,
    federation: FederationBoundary,
) -> tuple[Problem, ...]:
    """``statement_problems`` of every statement, in order: what ``policy_problems`` asks ``judged_once`` to keep
    (a module function with its inputs as arguments, not a closure over them)."""
    return tuple(
        [p for s in policy.statements for p in statement_problems(s, boundary, vendors, circumstances, federation)]
    )


def statement_problems(
    statement: Statement,
    boundary: TrustBoundary,
    vendors: Iterable[str],
    circumstances: Circumstances | None = None,
    federation: FederationBoundary = UNSTATED,
) -> list[Problem]:
    """Every reason ``statement`` lets in someone it should not (empty when it is fine).

    A service principal needs no source condition here: a service assumes a role only when someone
    who may pass it does (``iam:PassRole``), so "unbound" services are not a problem in a trust policy.
    """
    if statement.effect != "Allow" or statement.actions == ():  # ``allows``, without the property's call
        return []
    principal = statement.principal
    if statement.not_principal is None and (
        principal is None or admits_only_trusted(principal, statement.conditions, boundary)
    ):
        return []  # the common case, known without the exposure: trusted accounts and unbound services only
    if statement.not_principal is None and principal is not None and federated_only(principal):
        # Only identity providers: their exposure holds nothing but "federated …" grantees, which are judged
        # below by what the providers authenticate; all it could add is a condition that never holds (``void``).
        conditions = statement.conditions
        at = circumstances.at if circumstances is not None else None
        if conditions and never_holds(conditions, at) is not None:
            return []
        return _federation_problems(statement, principal, boundary, federation, label=statement.label, problems=[])
    exposure = fresh_exposure(statement, boundary, circumstances)  # policy_problems keeps the document's verdict
    if exposure.void is not None:
        return []
    if (
        not exposure.public
        and not exposure.untrusted
        and "elasticloadbalancing" not in exposure.services
        and (principal is None or not principal.federated)
    ):
        return []  # the common case: only trusted accounts and services, no identity provider to judge
    label = statement.label
    facts = tuple([f"{fact} ({label})" for fact in exposure.unknown]) if exposure.unknown else ()
    if exposure.public:
        return [Problem(statement, True, f"lets anyone assume it ({label})", facts, exposure.unevaluated)]
    problems: list[Problem] = []
    if "elasticloadbalancing" in exposure.services:
        # AWS's log delivery account writes to buckets; it has no business assuming a role.
        problems.append(Problem(statement, False, f"lets the Elastic Load Balancing account assume it ({label})"))
    for grantee in sorted(exposure.untrusted) if exposure.untrusted else ():
        if grantee.startswith("federated "):
            continue  # identity providers are judged below, by what they authenticate
        if ACCOUNT_ID.fullmatch(grantee) and any(wildcard_match(v, grantee) for v in vendors):
            if not has_external_id(statement.conditions):
                problems.append(
                    Problem(
                        statement,
                        False,
                        f"lets the third-party account {grantee} assume it without an sts:ExternalId condition "
                        f"({label})",
                        account=grantee,
                    )
                )
            continue
        who = f"account {grantee}" if ACCOUNT_ID.fullmatch(grantee) else grantee
        hint = (
            f"; if it is a vendor's, list it in rules/{TRUST_POLICY_UNTRUSTED.id}/third_party_accounts"
            if ACCOUNT_ID.fullmatch(grantee) and has_external_id(statement.conditions)
            else ""
        )
        problems.append(
            Problem(
                statement,
                False,
                f"lets {who}, outside the trusted accounts and organisation, assume it ({label}{hint})",
                facts,
                exposure.unevaluated,
                grantee if ACCOUNT_ID.fullmatch(grantee) else None,
            )
        )
    if principal is not None and principal.federated:
        return _federation_problems(statement, principal, boundary, federation, label=label, problems=problems)
    return problems


def federated_only(principal: Principal) -> bool:
    """Whether a Principal names identity providers and nothing else: ``statement_problems`` then judges it by
    what the providers authenticate, without the exposure (a first-sight shortcut, proven equal to the full
    reading in ``tests/unit/test_first_sight_shortcuts.py``)."""
    return bool(principal.federated) and not (
        principal.everyone or principal.aws or principal.service or principal.canonical_user
    )


def _federation_problems(
    statement: Statement,
    principal: Principal,
    boundary: TrustBoundary,
    federation: FederationBoundary,
    *,
    label: str,
    problems: list[Problem],
) -> list[Problem]:
    """``problems`` and the problems of the identity providers ``principal`` trusts: a web identity not bound to a
    subject (or to our own), a provider of an untrusted account."""
    if statement.grants_action(_WEB_IDENTITY):
        for provider in principal.federated:
            problem = web_identity_problem(provider, statement.conditions, federation)
            if problem is not None:
                problems.append(Problem(statement, False, f"{problem} ({label})"))
    for provider in principal.federated:
        owner = provider.split(":", 5)[4] if provider.startswith("arn:") and provider.count(":") >= 5 else None
        if owner and ACCOUNT_ID.fullmatch(owner) and not boundary.trusts_account(owner):
            problems.append(
                Problem(statement, False, f"trusts the identity provider {provider} of account {owner} ({label})")
            )
    return problems


def _unevaluated_sentence(problems: Iterable[Problem]) -> str:
    named = {f"{', '.join(p.unevaluated)} in {p.statement.label}": None for p in problems if p.unevaluated}
    return f" Judged without the conditions IAM Warden does not evaluate: {'; '.join(named)}." if named else ""


def provider_host(provider: str) -> str:
    """The issuer an identity provider stands for: the part after ``oidc-provider/``, or the bare name."""
    _, marker, host = provider.partition(":oidc-provider/")
    return host if marker else provider


def web_identity_problem(
    provider: str, conditions: Iterable[Condition], federation: FederationBoundary = UNSTATED
) -> str | None:
    """Why federation through ``provider`` is not bound to a subject (or to our own), or None when it is."""
    if ":saml-provider/" in provider:
        return None  # SAML is the organisation's own identity provider; it authenticates its people
    conditions = tuple(conditions)
    host = provider_host(provider)
    if host == COGNITO:
        if federation.identity_pools:
            return _foreign_pool(conditions, federation.identity_pools)
        bounding = [c for c in conditions if c.key in _COGNITO_KEYS and _bounds(c)]
    else:
        subject_key = f"{host.lower()}:sub"
        bounding = [c for c in conditions if c.key == subject_key and _bounds(c)]
    if not bounding:
        return (
            f"lets any identity that {host} issues a token to assume it: there is no {host}:sub condition"
            if host != COGNITO
            else f"lets any identity of any Cognito identity pool assume it: there is no {COGNITO}:aud condition"
        )
    loose = [
        value
        for condition in bounding
        for value in condition.values
        if _like(condition, value) and not _subject_bounded(host, _as_pattern(value))
    ]
    if loose and all(_loose(condition, host) for condition in bounding):
        subject = f"{host}:sub" if host != COGNITO else f"{COGNITO}:aud"
        if host == GITHUB_ACTIONS:
            return f"lets any GitHub repository assume it: the {subject} pattern {loose[0]!r} matches every owner"
        return f"lets any identity of {host} assume it: the {subject} pattern {loose[0]!r} matches every subject"
    if host == GITHUB_ACTIONS and federation.github_owners:
        foreign = [[o for v in c.values if (o := federation.foreign_owner(v))] for c in bounding]
        if all(foreign):
            owners = sorted({owner for found in foreign for owner in found})
            return (
                f"lets GitHub Actions of {_owners(owners)} assume it: the {host}:sub condition names "
                f"{'an owner' if len(owners) == 1 else 'owners'} outside github_owners "
                f"({', '.join(sorted(federation.github_owners))})"
            )
    return None


def _owners(owners: list[str]) -> str:
    return ("the owner " if len(owners) == 1 else "the owners ") + ", ".join(owners)


def _foreign_pool(conditions: tuple[Condition, ...], pools: frozenset[str]) -> str | None:
    """Why a Cognito trust admits an identity pool outside ``pools`` (or any pool), or None when it does not."""
    key = f"{COGNITO}:aud"
    bounding = [c for c in conditions if c.key == key and _bounds(c)]
    if not bounding:
        return (
            f"lets any identity of any Cognito identity pool assume it: there is no {key} condition naming one of "
            f"the organisation's pools ({', '.join(sorted(pools))})"
        )
    foreign = [[v for v in c.values if v not in pools] for c in bounding]
    if not all(foreign):
        return None  # one condition admits only our pools, and conditions are ANDed
    outside = sorted({value for found in foreign for value in found})
    return (
        f"lets identities of the Cognito identity pool{'s' if len(outside) > 1 else ''} {', '.join(outside)} "
        f"assume it: not among cognito_identity_pools ({', '.join(sorted(pools))})"
    )


#: The condition keys that bind a Cognito identity pool's trust: its subject, or the pool (``aud``).
_COGNITO_KEYS = frozenset({f"{COGNITO}:sub", f"{COGNITO}:aud"})


def has_external_id(conditions: Iterable[Condition]) -> bool:
    """Whether a bounding ``sts:ExternalId`` condition with exact values is present."""
    return any(
        c.key == "sts:externalid"
        and _bounds(c)
        and all(v and not (c.operator.lower() == "stringlike" and ("*" in v or "?" in v)) for v in c.values)
        for c in conditions
    )


def _bounds(condition: Condition) -> bool:
    # ``not holds_when_absent``, inline: neither IfExists nor ForAllValues.
    return (
        condition.operator.lower() in _BOUNDING_OPERATORS
        and not condition.if_exists
        and condition.qualifier != "ForAllValues"
        and bool(condition.values)
    )


def _loose(condition: Condition, host: str) -> bool:
    return any(_like(condition, value) and not _subject_bounded(host, _as_pattern(value)) for value in condition.values)


def _like(condition: Condition, value: str) -> bool:
    """Whether ``value`` is read as a pattern: under ``StringLike``, or holding a policy variable."""
    return condition.operator.lower() == "stringlike" or "${" in value


def _as_pattern(value: str) -> str:
    """A subject with each policy variable as ``*``: IAM substitutes the request's value, and a claim of the
    token itself (``${token.actions.githubusercontent.com:sub}``) is whatever the caller's token says, so
    ``sub = ${…:sub}`` bounds nothing (IAM User Guide, "IAM policy elements: Variables and tags": web identity
    claims such as ``${accounts.google.com:sub}`` are variables)."""
    return resolve(value, lambda _key, _default: "*") or value


def _subject_bounded(host: str, value: str) -> bool:
    """Whether a ``StringLike`` subject pattern stops short of matching every identity."""
    if "*" not in value and "?" not in value:
        return True
    if host == GITHUB_ACTIONS:
        return _GITHUB_OWNER.match(value) is not None
    return bool(value.replace("*", "").replace("?", ""))


def _unique(statements: Iterable[Statement]) -> list[Statement]:
    seen: dict[int, Statement] = {}
    for statement in statements:
        seen.setdefault(statement.position, statement)
    return list(seen.values())


#: The trust policy a role gets when nothing in it may stay: IAM rejects a trust policy with no statement.
NO_ONE_MAY_ASSUME: Mapping[str, Any] = {
    "Sid": "IamWardenNoOneMayAssume",
    "Effect": "Deny",
    "Principal": "*",
    "Action": ["sts:AssumeRole", "sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML"],
}
#: The audit status of a remediation that was carried out and not undone (``adapters.audit.AuditStatus``).
_REMEDIATED = "remediated"


class RestoreTrustPolicy:
    """Put back a role's last known good trust policy, or remove exactly the offending statements. Undoable.

    The last known good copy is the trust policy IAM Warden itself last restored for the role: the newest
    ``trust-policy-untrusted`` remediation in the audit table (not undone) records it as ``restore_to``.
    Compliant changes leave no audit item, so that copy is used only when it still holds every statement
    of the live policy that does not offend (nothing good added since is lost); otherwise, and for
    CreateRole, the offending statements are removed and the rest kept. When nothing is left, the role
    gets the deny-all-principals statement ``IamWardenNoOneMayAssume`` (IAM rejects an empty trust policy).
    """

    permissions: ClassVar[Permissions] = ("iam:GetRole", "iam:UpdateAssumeRolePolicy")
    action: ClassVar[StepAction] = StepAction("restore_trust_policy", permissions)
    undo_permissions: ClassVar[Permissions] = ("iam:GetRole", "iam:UpdateAssumeRolePolicy")
    undoable: ClassVar[bool] = True

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        role = step.parameters["role_name"]
        live = self._live(aws, role)
        if live is None:
            return {"exists": False}
        offending = offending_statements(step)
        statements = statement_list(live)
        references = step.parameters["statements"]
        if not any(statement_meaning(s) in offending for s in statements):
            # Matched by meaning: IAM stores a bare account id as the account's root ARN. When none matches yet
            # the live trust still lets the event's grantees in, the step fails (never "already safe").
            left = still_granted(statements, references, aws.account)
            return {
                "exists": True,
                "policy": live,
                "restore_to": None,
                "source": None,
                **({"unmatched": _unmatched(role, left, "no statement matches the event's")} if left else {}),
            }
        remainder = without_offending(statements, references)
        target: dict[str, Any] = {**{k: v for k, v in live.items() if k != "Statement"}, "Statement": remainder}
        source = "the live policy without the offending statements"
        if step.parameters.get("event_name") == "UpdateAssumeRolePolicy":
            known = _last_known_good(aws.history(step.target))
            if known is not None:
                remediation_id, document = known
                kept = {statement_meaning(s) for s in statement_list(document)}
                if all(statement_meaning(s) in kept for s in remainder):
                    target, source = dict(document), f"the last known good copy restored by {remediation_id}"
        if not statement_list(target):
            target = {"Version": "2012-10-17", "Statement": [dict(NO_ONE_MAY_ASSUME)]}
            source = "a deny-all statement (nothing else may stay, and IAM rejects an empty trust policy)"
        left = still_granted(statement_list(target), references, aws.account)
        why = "other statements than the event's grant it"
        return {
            "exists": True,
            "policy": live,
            "restore_to": target,
            "source": source,
            **({"unmatched": _unmatched(role, left, why)} if left else {}),
        }

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        role = step.parameters["role_name"]
        if before["exists"] and before["restore_to"] is not None:
            with ignoring():
                run.aws.iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(before["restore_to"]))
                done.append(f"set the trust policy of role {role} to {before['source']}")
        if before.get("unmatched"):
            raise RemediationError(before["unmatched"])

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        if not before["exists"] or before["restore_to"] is None:
            return []
        role = step.parameters["role_name"]
        current = self._live(aws, role)
        if current is None:
            raise UndoError(f"role {role} no longer exists; its trust policy cannot be restored")
        if document_meaning(current, with_sids=True) == document_meaning(before["restore_to"], with_sids=True):
            aws.iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(before["policy"]))
            return [f"restored the trust policy of role {role} as it was"]
        # Changed since: put the removed statements back into the current policy, keeping the later change (a
        # statement that lost only some principals is replaced by its original, not doubled). Only what the
        # remediation wrote goes: matched by meaning and Sid, so an older statement that means the same stays.
        offending = offending_statements(step)
        removed = [s for s in statement_list(before["policy"]) if statement_meaning(s) in offending]
        cut = without_offending(removed, step.parameters["statements"])
        statements = remove_statements(statement_list(current), [NO_ONE_MAY_ASSUME, *cut])
        missing = restore_statements(statements, removed, f"the trust policy of role {role}")
        if not missing:
            return []
        document = {**current, "Statement": statements + missing}
        aws.iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(document))
        return [f"restored {len(missing)} statement(s) into the current trust policy of role {role}"]

    @staticmethod
    def _live(aws: AccountClients, role: str) -> dict[str, Any] | None:
        try:
            document = aws.iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
        except Exception as exc:
            if is_gone(exc):
                return None
            raise
        return dict(policy_document(document))


def _unmatched(role: str, left: Sequence[tuple[str, Sequence[str]]], why: str) -> str:
    """Why the restore could not make the role safe: who its live trust still lets in, and where."""
    held = "; ".join(f"{', '.join(grantees)} by {label}" for label, grantees in left)
    return f"the live trust policy of role {role} still lets in {held}, but {why}: needs a person"


def _last_known_good(records: Sequence[AuditEntry]) -> tuple[str, Mapping[str, Any]] | None:
    """The trust policy the newest trust-policy remediation of the role put in place, if it still stands."""
    mine = [r for r in records if r.rule == TRUST_POLICY_UNTRUSTED.id and r.kind == "remediation" and r.before]
    if not mine:
        return None
    newest = max(mine, key=lambda record: record.created_at)
    document = newest.before[0].get("restore_to")
    if newest.status != _REMEDIATED or not isinstance(document, Mapping):
        return None  # undone (the operator kept the change) or not carried out: nothing known to be good
    return newest.remediation_id, document


class RestorePreviousTrustPolicy:
    """Put back the trust policy an ``UpdateAssumeRolePolicy`` replaced, known exactly (a snapshot taken before
    it, or the authorization details), while the role still holds the event's document. Undo puts that back.

    A role changed again since holds a trust nobody judged here: it is left alone (nothing is done). Documents are
    compared by meaning (``document_meaning``) before the restore: IAM stores a bare account id as the account's
    root ARN. Undo compares by meaning and Sids (``document_meaning(with_sids=True)``): IAM's re-spelling of the
    restored document is no change, any later change, even a Sid, makes it refuse (the safe direction).
    """

    permissions: ClassVar[Permissions] = ("iam:GetRole", "iam:UpdateAssumeRolePolicy")
    action: ClassVar[StepAction] = StepAction("restore_previous_trust_policy", permissions)
    undo_permissions: ClassVar[Permissions] = ("iam:GetRole", "iam:UpdateAssumeRolePolicy")
    undoable: ClassVar[bool] = True

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        live = RestoreTrustPolicy._live(aws, step.parameters["role_name"])
        if live is None:
            return {"exists": False}
        if document_meaning(live) == document_meaning(step.parameters["restore_to"]):
            return {"exists": True, "policy": live, "restore_to": None, "why": "already restored"}
        if document_meaning(live) != document_meaning(step.parameters["policy"]):
            return {"exists": True, "policy": live, "restore_to": None, "why": "changed again since the event"}
        return {"exists": True, "policy": live, "restore_to": step.parameters["restore_to"]}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if not before["exists"] or before["restore_to"] is None:
            return
        role = step.parameters["role_name"]
        with ignoring():
            run.aws.iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(before["restore_to"]))
            done.append(f"put back the trust policy of role {role} as it was before the change")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        if not before["exists"] or before["restore_to"] is None:
            return []
        role = step.parameters["role_name"]
        current = RestoreTrustPolicy._live(aws, role)
        if current is None:
            raise UndoError(f"role {role} no longer exists; its trust policy cannot be restored")
        if document_meaning(current, with_sids=True) == document_meaning(before["policy"], with_sids=True):
            return []  # undone already
        if document_meaning(current, with_sids=True) != document_meaning(before["restore_to"], with_sids=True):
            raise UndoError(f"the trust policy of role {role} changed since the remediation; it is left as it is")
        aws.iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(before["policy"]))
        return [f"put the trust policy of role {role} back as the event set it"]


GUARDRAILS = (TrustPolicyRule(),)
ACTIONS = (RestoreTrustPolicy(), RestorePreviousTrustPolicy())
