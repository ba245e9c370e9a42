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

A condition bounds only with a positive operator (``StringEquals``,
``StringLike``, ``StringEqualsIgnoreCase``), without ``IfExists`` or
``ForAllValues`` (both match when the key is absent).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar, NamedTuple

from iamwarden.domain.arns import iam_arn
from iamwarden.domain.catalog import TRUST_POLICY_UNTRUSTED, RuleSpec, Severity
from iamwarden.domain.documents import PolicyKind, decode_policy_document
from iamwarden.domain.exposure import ACCOUNT_ID, TrustBoundary, exposure_of
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.domain.policy import Condition, Statement, parse_policy
from iamwarden.domain.wildcards import wildcard_match
from iamwarden.guardrails.base import Evaluation, RuleContext

GITHUB_ACTIONS = "token.actions.githubusercontent.com"
COGNITO = "cognito-identity.amazonaws.com"
_DOCUMENT_PARAMETER = {"CreateRole": "assumeRolePolicyDocument", "UpdateAssumeRolePolicy": "policyDocument"}
_BOUNDING_OPERATORS = frozenset({"stringequals", "stringlike", "stringequalsignorecase"})
_WEB_IDENTITY = "sts:AssumeRoleWithWebIdentity"
#: A GitHub subject pattern is bounded when the owner before the first "/" is spelled out.
_GITHUB_OWNER = re.compile(r"^repo:[^*?/]+/")


class Problem(NamedTuple):
    """One reason one statement offends."""

    statement: Statement
    public: bool
    text: str


class TrustPolicyRule:
    """CreateRole and UpdateAssumeRolePolicy letting in principals outside the trusted set."""

    specs: ClassVar[tuple[RuleSpec, ...]] = (TRUST_POLICY_UNTRUSTED,)

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        role = context.request_text("roleName")
        arn = iam_arn(context.partition, change.account, "role", role)
        evaluation = Evaluation(resource_arn=arn)
        parameter = _DOCUMENT_PARAMETER[change.event_name]
        field = f"detail.requestParameters.{parameter}"
        document = decode_policy_document(change.request_parameters.get(parameter), PolicyKind.TRUST, field=field)
        policy = parse_policy(document, field=field)
        boundary = context.settings.boundary(change.account)
        vendors = context.rule(TRUST_POLICY_UNTRUSTED.id).patterns("third_party_accounts")

        problems = [p for s in policy.statements for p in statement_problems(s, boundary, vendors)]
        if not problems:
            evaluation.compliant.append(
                f"the trust policy of role {role} lets in only trusted accounts, AWS services, vendors with an "
                "external id and identity providers bound to a subject"
            )
            return evaluation
        offending = _unique(problem.statement for problem in problems)
        labels = ", ".join(statement.label for statement in offending)
        evaluation.findings.append(
            context.finding(
                TRUST_POLICY_UNTRUSTED,
                severity=Severity.CRITICAL if any(p.public for p in problems) else Severity.HIGH,
                resource_arn=arn,
                reason=(
                    f"The trust policy {'of the new' if change.event_name == 'CreateRole' else 'set on'} role {role} "
                    f"by {change.actor.display} {'; '.join(p.text for p in problems)}."
                ),
                plan=[
                    RemediationStep(
                        StepAction.RESTORE_TRUST_POLICY,
                        arn,
                        {
                            "role_name": role,
                            "event_name": change.event_name,
                            "statements": [_reference(statement) for statement in offending],
                        },
                        (
                            f"remove {labels} from the trust policy of role {role}, keep the rest"
                            if change.event_name == "CreateRole"
                            else f"restore the last known good trust policy of role {role}, or else remove {labels}"
                        ),
                    )
                ],
                offending=[
                    {**_reference(problem.statement), "public": problem.public, "problem": problem.text}
                    for problem in problems
                ],
            )
        )
        return evaluation


def statement_problems(statement: Statement, boundary: TrustBoundary, vendors: Iterable[str]) -> list[Problem]:
    """Every reason ``statement`` lets in someone it should not (empty when it is fine)."""
    if not statement.allows or statement.actions == ():
        return []
    label = statement.label
    exposure = exposure_of(statement, boundary)
    if exposure.public:
        return [Problem(statement, True, f"lets anyone assume it ({label})")]
    problems: list[Problem] = []
    for grantee in sorted(exposure.untrusted):
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
            )
        )
    principal = statement.principal
    if principal is not None and statement.grants_action(_WEB_IDENTITY):
        for provider in principal.federated:
            problem = web_identity_problem(provider, statement.conditions)
            if problem is not None:
                problems.append(Problem(statement, False, f"{problem} ({label})"))
    if principal is not None:
        for provider in principal.federated:
            owner = provider.split(":", 5)[4] if provider.startswith("arn:") and provider.count(":") >= 5 else None
            if owner and ACCOUNT_ID.fullmatch(owner) and not boundary.trusts_account(owner):
                problems.append(
                    Problem(statement, False, f"trusts the identity provider {provider} of account {owner} ({label})")
                )
    return problems


def provider_host(provider: str) -> str:
    """The issuer an identity provider stands for: the part after ``oidc-provider/``, or the bare name."""
    _, marker, host = provider.partition(":oidc-provider/")
    return host if marker else provider


def web_identity_problem(provider: str, conditions: Iterable[Condition]) -> str | None:
    """Why federation through ``provider`` is not bound to a subject, or None when it is."""
    if ":saml-provider/" in provider:
        return None  # SAML is the organisation's own identity provider; it authenticates its people
    host = provider_host(provider)
    keys = {f"{host.lower()}:sub"} | ({f"{COGNITO}:aud"} if host == COGNITO else set())
    bounding = [c for c in conditions if c.key in keys and _bounds(c)]
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
        if condition.operator.lower() == "stringlike" and not _subject_bounded(host, value)
    ]
    if loose and all(_loose(condition, host) for condition in bounding):
        subject = f"{host}:sub" if host != COGNITO else f"{COGNITO}:aud"
        if host == GITHUB_ACTIONS:
            return f"lets any GitHub repository assume it: the {subject} pattern {loose[0]!r} matches every owner"
        return f"lets any identity of {host} assume it: the {subject} pattern {loose[0]!r} matches every subject"
    return None


def has_external_id(conditions: Iterable[Condition]) -> bool:
    """Whether a bounding ``sts:ExternalId`` condition with exact values is present."""
    return any(
        c.key == "sts:externalid"
        and _bounds(c)
        and all(v and not (c.operator.lower() == "stringlike" and ("*" in v or "?" in v)) for v in c.values)
        for c in conditions
    )


def _bounds(condition: Condition) -> bool:
    return (
        condition.operator.lower() in _BOUNDING_OPERATORS
        and not condition.if_exists
        and condition.qualifier != "ForAllValues"
        and bool(condition.values)
    )


def _loose(condition: Condition, host: str) -> bool:
    return condition.operator.lower() == "stringlike" and any(
        not _subject_bounded(host, value) for value in condition.values
    )


def _subject_bounded(host: str, value: str) -> bool:
    """Whether a ``StringLike`` subject pattern stops short of matching every identity."""
    if "*" not in value and "?" not in value:
        return True
    if host == GITHUB_ACTIONS:
        return _GITHUB_OWNER.match(value) is not None
    return bool(value.replace("*", "").replace("?", ""))


def _reference(statement: Statement) -> dict[str, Any]:
    return {"index": statement.position, "sid": statement.sid, "statement": dict(statement.raw)}


def _unique(statements: Iterable[Statement]) -> list[Statement]:
    seen: dict[int, Statement] = {}
    for statement in statements:
        seen.setdefault(statement.position, statement)
    return list(seen.values())
