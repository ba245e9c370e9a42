"""Who a resource-policy statement lets in, judged against the trusted boundary.

A statement's Principal says who may call; restricting conditions can narrow
that to an organisation, accounts or a network path. ``exposure_of`` folds
both into an ``Exposure``: public, which untrusted principals, or safe.

Narrowing is taken only when it provably holds, because a security tool must
not call a public grant private on a guess:

* Only positive operators narrow (``StringEquals``, ``StringLike``,
  ``StringEqualsIgnoreCase``, ``ArnEquals``, ``ArnLike``); a negated operator
  (``StringNotEquals``) still lets in everyone it does not name.
* ``...IfExists`` and ``ForAllValues:`` match when the key is absent from the
  request, and anonymous requests carry no ``aws:PrincipalOrgID``, so neither
  narrows. ``ForAnyValue:`` is documented only for multivalued keys; on a
  single-valued key its behaviour is a known trap, so it narrows only on
  ``aws:PrincipalOrgPaths`` (multivalued).
* A value whose account or organisation part holds a wildcard (``o-*``,
  ``arn:aws:iam::*:role/x``) bounds nothing, so it does not narrow.
* ``Null`` only tests presence, never who, so it does not narrow.
* ``aws:SourceIp`` does not narrow: an IP range is not an identity, and
  public grants limited to an office range are still reachable by anyone there.
* ``aws:SourceVpce``/``aws:SourceVpc`` narrow a public grant to callers on a
  network path. An endpoint or VPC id cannot be tied to an account offline, so
  the ids are judged against the ``trusted_networks`` setting: a listed one
  makes the grant private, any other is an untrusted grantee (cross-account,
  not public). A network condition never clears principals the statement or an
  identity condition names as untrusted.

Deny statements never widen access, so they have no exposure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

from iamwarden.domain.policy import Condition, Policy, Principal, Statement

#: What an AWS account id and an Organization id look like; the one definition settings and rules use too.
ACCOUNT_ID = re.compile(r"[0-9]{12}")
ORGANIZATION_ID = re.compile(r"o-[a-z0-9]{10,32}")
_POSITIVE_OPERATORS = frozenset({"stringequals", "stringlike", "stringequalsignorecase", "arnequals", "arnlike"})
_ORG_KEYS = frozenset({"aws:principalorgid", "aws:principalorgpaths"})
_ACCOUNT_KEYS = frozenset({"aws:principalaccount", "aws:sourceaccount", "aws:sourceowner"})
_ARN_KEYS = frozenset({"aws:principalarn", "aws:sourcearn"})
_NETWORK_KEYS = frozenset({"aws:sourcevpce", "aws:sourcevpc"})
RESTRICTING_KEYS = _ORG_KEYS | _ACCOUNT_KEYS | _ARN_KEYS | _NETWORK_KEYS
#: AWS-owned pseudo accounts that appear in principal ARNs (CloudFront origin access identities).
_AWS_OWNED_ACCOUNTS = frozenset({"cloudfront"})


class TrustBoundary(NamedTuple):
    """The accounts and organisation whose principals are trusted."""

    own_account: str
    trusted_accounts: frozenset[str] = frozenset()
    organization_id: str | None = None
    trusted_networks: frozenset[str] = frozenset()

    def trusts_account(self, account: str) -> bool:
        return account == self.own_account or account in self.trusted_accounts

    def trusts_organization(self, organization: str) -> bool:
        return self.organization_id is not None and organization == self.organization_id


class Exposure(NamedTuple):
    """Who one statement lets in, beyond the trusted boundary.

    ``untrusted`` holds readable labels: bare account ids, ``organization o-…``,
    ``federated …`` or ``canonical user …``. ``narrowed_by`` names the
    condition keys that limited a broader Principal.
    """

    public: bool = False
    untrusted: frozenset[str] = frozenset()
    services: frozenset[str] = frozenset()
    trusted: frozenset[str] = frozenset()
    narrowed_by: tuple[str, ...] = ()

    @property
    def safe(self) -> bool:
        return not self.public and not self.untrusted

    @property
    def untrusted_accounts(self) -> frozenset[str]:
        return frozenset(label for label in self.untrusted if ACCOUNT_ID.fullmatch(label))


_NO_EXPOSURE = Exposure()


#: How many statements' exposures ``exposure_of`` keeps: the same statements come back (policies are re-put).
EXPOSURE_CACHE_SIZE = 4096
_EXPOSURES: dict[tuple[object, ...], Exposure] = {}


def exposure_of(statement: Statement, boundary: TrustBoundary) -> Exposure:
    """Classify who ``statement`` lets in: public, untrusted principals, or nobody outside.

    Judged once per statement content and boundary: the key is everything the answer depends on.
    """
    if not statement.allows or statement.actions == ():  # an empty Action list grants nothing
        return _NO_EXPOSURE
    key = (statement.not_principal is not None, statement.principal, statement.conditions, boundary)
    found = _EXPOSURES.get(key)
    if found is None:
        found = _exposure(statement, boundary)
        if len(_EXPOSURES) >= EXPOSURE_CACHE_SIZE:
            del _EXPOSURES[next(iter(_EXPOSURES))]
        _EXPOSURES[key] = found
    return found


_BY_POLICY: dict[int, tuple[Policy, TrustBoundary, tuple[Exposure, ...]]] = {}


def exposures_of(policy: Policy, boundary: TrustBoundary) -> tuple[Exposure, ...]:
    """``exposure_of`` for every statement of ``policy``, kept per policy object.

    ``documents.load_policy`` hands out one ``Policy`` per document text, so a document seen before
    is one look-up. The entry holds the policy itself: its id cannot be reused while the entry lives.
    """
    entry = _BY_POLICY.get(id(policy))
    if entry is not None and entry[0] is policy and entry[1] == boundary:
        return entry[2]
    found = tuple(exposure_of(statement, boundary) for statement in policy.statements)
    if len(_BY_POLICY) >= EXPOSURE_CACHE_SIZE:
        del _BY_POLICY[next(iter(_BY_POLICY))]
    _BY_POLICY[id(policy)] = (policy, boundary, found)
    return found


def _exposure(statement: Statement, boundary: TrustBoundary) -> Exposure:
    if statement.not_principal is not None:
        # Allow + NotPrincipal grants everyone except the listed principals.
        base = Exposure(public=True)
    elif statement.principal is None:
        return _NO_EXPOSURE
    else:
        base = _principal_exposure(statement.principal, boundary)
    if base.safe:
        return base
    return _narrow(base, statement.conditions, boundary)


def _principal_exposure(principal: Principal, boundary: TrustBoundary) -> Exposure:
    public = principal.everyone
    untrusted: set[str] = set()
    trusted: set[str] = set()
    services: set[str] = set()
    for service in principal.service:
        if "*" in service or "?" in service:
            public = True  # "*.amazonaws.com" is every service principal, acting for anyone
        else:
            services.add(service)
    for entry in principal.aws:
        if entry == "*":
            continue
        account = _account_of_principal(entry)
        if account is None and ("*" in entry or "?" in entry):
            public = True  # a wildcard in the account part bounds nothing
        elif account is None:
            # Not an account or ARN, e.g. the unique id (AROA…) IAM shows for a deleted principal:
            # nobody we can vouch for, but not everyone either.
            untrusted.add(f"unknown principal {entry}")
        elif account in _AWS_OWNED_ACCOUNTS:
            services.add(entry)
        elif boundary.trusts_account(account):
            trusted.add(account)
        else:
            untrusted.add(account)
    for provider in principal.federated:
        # An identity provider ARN (SAML/OIDC provider) belongs to an account; a bare name
        # (cognito-identity.amazonaws.com, accounts.google.com) is a public identity service.
        owner = _account_of_arn(provider)
        if owner is not None and boundary.trusts_account(owner):
            trusted.add(owner)
        else:
            untrusted.add(f"federated {provider}")
    untrusted.update(f"canonical user {name}" for name in principal.canonical_user)
    return Exposure(
        public=public, untrusted=frozenset(untrusted), services=frozenset(services), trusted=frozenset(trusted)
    )


def _account_of_principal(entry: str) -> str | None:
    if ACCOUNT_ID.fullmatch(entry):
        return entry
    return _account_of_arn(entry)


def _account_of_arn(arn: str) -> str | None:
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return None
    account = parts[4]
    if account in _AWS_OWNED_ACCOUNTS or ACCOUNT_ID.fullmatch(account):
        return account
    return None


def _narrow(base: Exposure, conditions: Iterable[Condition], boundary: TrustBoundary) -> Exposure:
    """Apply restricting conditions; they are ANDed, so the narrowest one that binds decides.

    Identity conditions (organisation, account, ARN) can make any grant safe.
    Network conditions only replace "public" (see the module docstring).
    """
    identity: tuple[Condition, frozenset[str]] | None = None
    network: tuple[Condition, frozenset[str]] | None = None
    for condition in conditions:
        audiences = _audiences(condition)
        if audiences is None:
            continue
        untrusted = frozenset(label for label in audiences if not _trusted_audience(label, boundary))
        if condition.key in _NETWORK_KEYS:
            if network is None or len(untrusted) < len(network[1]):
                network = (condition, untrusted)
            continue
        if not untrusted:
            return Exposure(trusted=audiences, services=base.services, narrowed_by=(condition.key,))
        if identity is None or len(untrusted) < len(identity[1]):
            identity = (condition, untrusted)
    if not base.public:
        # The Principal already names who; a condition can only shrink that set, never vouch for it.
        narrowing = identity or network
        if narrowing is None:
            return base
        return Exposure(untrusted=base.untrusted, services=base.services, narrowed_by=(narrowing[0].key,))
    if identity is not None:
        condition, untrusted = identity
        return Exposure(untrusted=untrusted, services=base.services, narrowed_by=(condition.key,))
    if network is not None:
        condition, untrusted = network
        return Exposure(untrusted=untrusted, services=base.services, narrowed_by=(condition.key,))
    return base


def _audiences(condition: Condition) -> frozenset[str] | None:
    """The set of principals a restricting condition admits, or None if it does not bound them."""
    key = condition.key
    if key not in RESTRICTING_KEYS or condition.operator.lower() not in _POSITIVE_OPERATORS:
        return None
    if condition.if_exists or condition.qualifier == "ForAllValues":
        return None
    if condition.qualifier == "ForAnyValue" and key != "aws:principalorgpaths":
        return None
    labels: set[str] = set()
    for value in condition.values:
        label = _audience(key, value, condition.operator.lower())
        if label is None:
            return None
        labels.add(label)
    return frozenset(labels) if labels else None


def _audience(key: str, value: str, operator: str) -> str | None:
    if key == "aws:principalorgid":
        return f"organization {value}" if ORGANIZATION_ID.fullmatch(value) else None
    if key == "aws:principalorgpaths":
        organization = value.split("/", 1)[0]
        return f"organization {organization}" if ORGANIZATION_ID.fullmatch(organization) else None
    if key in _ACCOUNT_KEYS:
        return value if ACCOUNT_ID.fullmatch(value) else None
    if key in _ARN_KEYS:
        # StringLike matches the whole ARN as one string, so a wildcard before the account field can
        # span colons (IAM paths may hold ":"); ArnLike matches each of the six fields separately.
        head = ":".join(value.split(":", 5)[:4])
        if operator == "stringlike" and ("*" in head or "?" in head):
            return None
        account = _account_of_arn(value)
        return account if account is not None and account not in _AWS_OWNED_ACCOUNTS else None
    # network keys: an exact endpoint or VPC id
    if "*" in value or "?" in value or not value:
        return None
    return f"VPC endpoint {value}" if key == "aws:sourcevpce" else f"VPC {value}"


def _trusted_audience(label: str, boundary: TrustBoundary) -> bool:
    if label.startswith("organization "):
        return boundary.trusts_organization(label.removeprefix("organization "))
    if label.startswith(("VPC endpoint ", "VPC ")):
        return label.rsplit(" ", 1)[-1] in boundary.trusted_networks
    return boundary.trusts_account(label)
