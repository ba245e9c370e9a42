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
  narrows. ``ForAnyValue:`` with a positive operator is false when the key is
  absent ("for no matching context key or a null dataset, the condition returns
  false", IAM User Guide, single- vs multi-valued context keys) and, on a key
  with one value, matches as the plain operator does: in an Allow it narrows
  exactly like the plain operator, on every restricting key (AWS advises
  against the spelling on single-valued keys because of ``ForAllValues``, which
  fails open, and negated operators, which never narrow here anyway).
* A value whose account or organisation part holds a wildcard (``o-*``,
  ``arn:aws:iam::*:role/x``) bounds nothing, so it does not narrow.
* ``Null`` only tests presence, never who, so it does not narrow.
* ``aws:SourceIp`` does not narrow: an IP range is not an identity, and
  public grants limited to an office range are still reachable by anyone there.
* ``aws:SourceVpce``/``aws:SourceVpc`` narrow a public grant to callers on a
  network path. A listed ``trusted_networks`` id is private; any other is asked
  of ``Circumstances.networks`` (the enforcer's EC2 lookup in the resource's
  account and Region): owned by a trusted account is private, by another
  account an untrusted grantee (cross-account, not public). When nobody can say
  who owns it (offline, not found, denied) it stays an untrusted grantee and the
  exposure says what is unknown (``unknown``: the finding is alert-only). A
  network condition never clears principals the statement or an identity
  condition names as untrusted.
* Service principals act for whichever account uses the service (the confused
  deputy): a source condition (``aws:SourceAccount``, ``aws:SourceArn``,
  ``aws:SourceOwner``) naming trusted accounts binds them; one naming another
  account is an untrusted grantee; with none (and, for the log deliveries that
  write only under ``AWSLogs/<account>/``, no Resource naming that path) the
  service is ``unbound``. AWS's own delivery principals (the regional Elastic
  Load Balancing accounts, CloudFront origin access identities) come from the
  data table ``iamwarden.domain.aws_principals``.
* A ``CanonicalUser`` principal is an account's canonical user or a CloudFront
  origin access identity's; the id does not say which. One listed in
  ``cloudfront_oai_canonical_ids``, or that ``Circumstances.origin_access_identities``
  (the enforcer's CloudFront lookup in the resource's account) finds, is trusted;
  any other is an untrusted grantee whose owner is unknown (alert-only).
* A policy variable in a condition value is what IAM substitutes, never a malformed id
  (``domain.variables``): the caller's own key compared with itself or with another value the caller sets
  (``aws:PrincipalAccount = ${aws:PrincipalAccount}``) holds for every caller and narrows nothing; the
  resource's own account or organisation (``aws:ResourceAccount = ${aws:PrincipalAccount}``,
  ``aws:PrincipalOrgID = ${aws:ResourceOrgID}``) narrows to it; any other variable narrows nothing and
  is an unknown fact (alert-only).
* A condition that can never hold (a malformed organisation or account id, a
  ``DateLessThan`` already past when the policy was set) makes the statement
  grant nothing (``void`` says why). Conditions on other keys are not
  evaluated: the statement is judged as if they were absent (``unevaluated``
  names them), and where one could limit who the caller is (``aws:userid``,
  ``aws:PrincipalIsAWSService``, ``aws:PrincipalServiceName``) that is an
  unknown fact.

Deny statements never widen access, so they have no exposure.
"""

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple, Protocol

from iamwarden.domain.aws_principals import (
    CLOUDFRONT_OAI_ACCOUNT,
    CLOUDFRONT_OAI_RESOURCE_PREFIX,
    WRITES_UNDER_SOURCE_ACCOUNT,
    elb_account_region,
)
from iamwarden.domain.events import instant
from iamwarden.domain.policy import _EVERYONE, Condition, Policy, Principal, Statement, _new
from iamwarden.domain.variables import RESOURCE_SIDE, is_caller_side, only_variable, resolve, variables_in

#: What an AWS account id and an Organization id look like; the one definition settings and rules use too.
ACCOUNT_ID = re.compile(r"[0-9]{12}")
#: What an S3 canonical user id looks like (an account's, or a CloudFront origin access identity's).
CANONICAL_USER_ID = re.compile(r"[0-9a-f]{64}")
ORGANIZATION_ID = re.compile(r"o-[a-z0-9]{10,32}")
_POSITIVE_OPERATORS = frozenset({"stringequals", "stringlike", "stringequalsignorecase", "arnequals", "arnlike"})
_ORG_KEYS = frozenset({"aws:principalorgid", "aws:principalorgpaths"})
_ACCOUNT_KEYS = frozenset({"aws:principalaccount", "aws:sourceaccount", "aws:sourceowner"})
_ARN_KEYS = frozenset({"aws:principalarn", "aws:sourcearn"})
_NETWORK_KEYS = frozenset({"aws:sourcevpce", "aws:sourcevpc"})
_SOURCE_KEYS = frozenset({"aws:sourceaccount", "aws:sourceowner", "aws:sourcearn"})
RESTRICTING_KEYS = _ORG_KEYS | _ACCOUNT_KEYS | _ARN_KEYS | _NETWORK_KEYS
#: Keys whose values must be an organisation id or an account id: any other value can never match.
_ORGANIZATION_VALUED = frozenset({"aws:principalorgid", "aws:resourceorgid", "aws:sourceorgid"})
_ACCOUNT_VALUED = frozenset({"aws:principalaccount", "aws:sourceaccount", "aws:sourceowner", "aws:resourceaccount"})
_TIME_KEYS = frozenset({"aws:currenttime", "aws:epochtime"})
_BEFORE_OPERATORS = frozenset({"datelessthan", "datelessthanequals", "numericlessthan", "numericlessthanequals"})
#: Keys IAM Warden does not evaluate that could limit who the caller is: leaving them out may change the verdict.
_CALLER_KEYS = frozenset(
    {"aws:userid", "aws:principalisawsservice", "aws:principalservicename", "aws:principalservicenameslist"}
)


class NetworkOwner(NamedTuple):
    """Who owns a VPC or VPC endpoint, as far as it could be learned, and how."""

    account: str | None
    #: How it was learned, or why not ("DescribeVpcEndpoints was denied in 111122223333 eu-west-1").
    how: str


class NetworkOwners(Protocol):
    """Answers who owns a VPC endpoint (``vpce-…``) or VPC (``vpc-…``) seen from ``account`` in ``region``."""

    def owner_of(self, network_id: str, account: str, region: str) -> NetworkOwner: ...


class OriginAccessIdentity(NamedTuple):
    """Which CloudFront origin access identity (``E…``) an S3 canonical user id is, as far as it was learned."""

    #: The identity's id, or None when the canonical user is not known to be one.
    identity: str | None
    #: How it was learned, or why not ("ListCloudFrontOriginAccessIdentities in account … lists no …").
    how: str


class OriginAccessIdentities(Protocol):
    """Answers whether a canonical user id is one of ``account``'s CloudFront origin access identities."""

    def identity_of(self, canonical_user: str, account: str) -> OriginAccessIdentity: ...


class Circumstances(NamedTuple):
    """What the analysis may know beyond the statement: where and when the policy was set, who owns networks,
    which canonical users are the account's CloudFront origin access identities."""

    # Exactly these four fields, in this order: ``judged.judged_once`` unpacks them (a fifth must be added there).
    region: str | None = None
    #: When the policy was set (the event time): a date window that closed before it can never hold.
    at: datetime | None = None
    networks: NetworkOwners | None = None
    origin_access_identities: OriginAccessIdentities | None = None


class TrustBoundary(NamedTuple):
    """The accounts and organisation whose principals are trusted."""

    own_account: str
    trusted_accounts: frozenset[str] = frozenset()
    organization_id: str | None = None
    trusted_networks: frozenset[str] = frozenset()
    #: S3 canonical user ids of the organisation's CloudFront origin access identities (lower case), given offline.
    cloudfront_oai_canonical_ids: frozenset[str] = frozenset()

    def trusts_account(self, account: str) -> bool:
        return account == self.own_account or account in self.trusted_accounts

    def trusts_organization(self, organization: str) -> bool:
        return self.organization_id is not None and organization == self.organization_id


class Exposure(NamedTuple):
    """Who one statement lets in, beyond the trusted boundary.

    ``untrusted`` holds readable labels: bare account ids, ``organization o-…``,
    ``federated …``, ``canonical user …``, ``VPC endpoint vpce-…`` or
    ``the service … acting for account …``. ``narrowed_by`` names the
    condition keys that limited a broader Principal.
    """

    public: bool = False
    untrusted: frozenset[str] = frozenset()
    services: frozenset[str] = frozenset()
    trusted: frozenset[str] = frozenset()
    narrowed_by: tuple[str, ...] = ()
    #: Service principals no source condition binds: any account's use of the service reaches the resource.
    unbound_services: frozenset[str] = frozenset()
    #: Facts the verdict rests on that could not be learned (a finding built on them is alert-only).
    unknown: tuple[str, ...] = ()
    #: Conditions not evaluated, as "Operator key": the statement was judged as if they were absent.
    unevaluated: tuple[str, ...] = ()
    #: Why an Allow statement grants nothing: a condition that can never hold.
    void: str | None = None

    @property
    def safe(self) -> bool:
        return not self.public and not self.untrusted and not self.unbound_services

    @property
    def untrusted_accounts(self) -> frozenset[str]:
        return frozenset(label for label in self.untrusted if ACCOUNT_ID.fullmatch(label))


_NO_EXPOSURE = Exposure()
_PUBLIC = Exposure(public=True)
_NOBODY: frozenset[str] = frozenset()
_NOTHING_KNOWN = Circumstances()


#: How many statements' exposures ``exposure_of`` keeps: the same statements come back (policies are re-put).
EXPOSURE_CACHE_SIZE = 4096
_EXPOSURES: dict[tuple[object, ...], Exposure] = {}


def exposure_of(statement: Statement, boundary: TrustBoundary, circumstances: Circumstances | None = None) -> Exposure:
    """Classify who ``statement`` lets in: public, untrusted principals, or nobody outside.

    Judged once per statement content, boundary and region when nothing live is consulted: a statement with a
    network condition judged with a live network-owner lookup, or naming a canonical user with a live
    origin-access-identity lookup (the enforcer), is asked afresh every time, since a denied lookup may succeed
    later; otherwise the lookup is never asked, so the answer is kept.
    """
    if statement.effect != "Allow" or statement.actions == ():  # an empty Action list grants nothing
        return _NO_EXPOSURE
    known = circumstances or _NOTHING_KNOWN
    if statement.conditions:
        void = never_holds(statement.conditions, known.at)
        if void is not None:
            return Exposure(void=void)
    if (known.networks is not None and any(condition.key in _NETWORK_KEYS for condition in statement.conditions)) or (
        known.origin_access_identities is not None
        and statement.principal is not None
        and statement.principal.canonical_user
    ):
        return _exposure(statement, boundary, known)
    key = (
        statement.not_principal is not None,
        statement.principal,
        statement.conditions,
        statement.actions,
        statement.resources,
        statement.not_resources,
        boundary,
        known.region,
    )
    found = _EXPOSURES.get(key)
    if found is None:
        found = _exposure(statement, boundary, known)
        if len(_EXPOSURES) >= EXPOSURE_CACHE_SIZE:
            del _EXPOSURES[next(iter(_EXPOSURES))]
        _EXPOSURES[key] = found
    return found


def fresh_exposure(
    statement: Statement, boundary: TrustBoundary, circumstances: Circumstances | None = None
) -> Exposure:
    """``exposure_of``, judged now and not kept per statement.

    For callers that keep the whole document's verdict (``judged.judged_once``): a document seen before is
    one look-up there, so keeping each statement's answer as well only costs a key and a store on every
    first sight (and a statement recurs in another document only with that document's resources, part of
    the key). The answer is the one ``exposure_of`` gives, which keeps what this computes.
    """
    if statement.effect != "Allow" or statement.actions == ():  # an empty Action list grants nothing
        return _NO_EXPOSURE
    known = circumstances or _NOTHING_KNOWN
    if statement.conditions:
        void = never_holds(statement.conditions, known.at)
        if void is not None:
            return Exposure(void=void)
    return _exposure(statement, boundary, known)


_BY_POLICY: dict[int, tuple[Policy, TrustBoundary, tuple[Exposure, ...]]] = {}


def exposures_of(
    policy: Policy, boundary: TrustBoundary, circumstances: Circumstances | None = None
) -> tuple[Exposure, ...]:
    """``exposure_of`` for every statement of ``policy``, kept per policy object when no circumstances apply.

    ``documents.load_policy`` hands out one ``Policy`` per document text, so a document seen before
    is one look-up. The entry holds the policy itself: its id cannot be reused while the entry lives.
    """
    if circumstances is not None:
        return tuple(exposure_of(statement, boundary, circumstances) for statement in policy.statements)
    entry = _BY_POLICY.get(id(policy))
    if entry is not None and entry[0] is policy and entry[1] == boundary:
        return entry[2]
    found = tuple(exposure_of(statement, boundary) for statement in policy.statements)
    if len(_BY_POLICY) >= EXPOSURE_CACHE_SIZE:
        del _BY_POLICY[next(iter(_BY_POLICY))]
    _BY_POLICY[id(policy)] = (policy, boundary, found)
    return found


def _exposure(statement: Statement, boundary: TrustBoundary, known: Circumstances) -> Exposure:
    # The first-sight hot path: Exposures built positionally (``_new``), never by ``_replace``, and each
    # restricting condition's audiences worked out once (``_bounding``), for the service binding and the narrowing.
    conditions = statement.conditions
    if statement.not_principal is not None:
        # Allow + NotPrincipal grants everyone except the listed principals.
        base = _PUBLIC
    elif statement.principal is None:
        return _NO_EXPOSURE
    else:
        base = _principal_exposure(statement.principal, boundary, known)
    if not conditions:
        # Nothing to narrow, bind or leave unevaluated: only a log delivery's Resource can bind its service.
        return _bind_services(base, statement, boundary, None) if base.services else base
    bounding = _bounding(conditions, boundary)
    bound = _bind_services(base, statement, boundary, bounding) if base.services else base
    if bound.public or bound.untrusted:
        bound = _narrow(bound, bounding, boundary, known)
    if not bound.public and not bound.untrusted and not bound.unbound_services:
        return bound  # safe: nothing left unevaluated, and no caller condition to leave unknown
    unevaluated = tuple([_spelled(c) for c in conditions if c.key not in _EVALUATED_KEYS])
    unknown = bound.unknown
    if base.public:
        # A caller condition could shrink "everyone" to someone trusted; a principal the statement names as
        # untrusted stays untrusted whatever it says, so only then is the verdict resting on it.
        callers = tuple(
            [
                f"whether its condition {_spelled(c)} limits who can use it (IAM Warden does not evaluate that key)"
                for c in conditions
                if c.key in _CALLER_KEYS and not c.holds_when_absent
            ]
        )
        if callers:
            unknown += callers
    if bound.public or bound.untrusted:
        unknown += _unresolved(conditions)
    return _new(
        Exposure,
        (
            bound.public,
            bound.untrusted,
            bound.services,
            bound.trusted,
            bound.narrowed_by,
            bound.unbound_services,
            unknown,
            unevaluated,
            bound.void,
        ),
    )


#: A restricting condition and the principals it admits (``_audiences``); a plain tuple, as ``_Narrowing`` is.
_Bounding = tuple[Condition, frozenset[str]]


def _bounding(conditions: tuple[Condition, ...], boundary: TrustBoundary) -> list[_Bounding]:
    """Every condition that bounds who may call (``_audiences`` is not None), with its audiences, in order.

    The resource-side idiom counts as the caller-side test it is: ``aws:ResourceAccount = ${aws:PrincipalAccount}``
    admits only the resource's own account's principals (IAM User Guide, "IAM policy elements: Variables and
    tags"; the data perimeter examples), ``aws:ResourceOrgID = ${aws:PrincipalOrgID}`` only its organisation's.
    """
    found: list[_Bounding] = []
    for condition in conditions:
        if condition.key in RESTRICTING_KEYS:
            audiences = _audiences(condition, boundary)
            if audiences is not None:
                found.append((condition, audiences))
        elif (
            condition.key in _RESOURCE_IDIOMS
            and _positive(condition)
            and condition.values
            and all(only_variable(value) == _RESOURCE_IDIOMS[condition.key] for value in condition.values)
        ):
            own = _own(boundary, organization=condition.key != "aws:resourceaccount")
            found.append((condition, frozenset({own})))
    return found


#: A resource-side key and the caller-side variable that, compared with it, admits only the resource's own.
_RESOURCE_IDIOMS = {
    "aws:resourceaccount": "aws:principalaccount",
    "aws:resourceorgid": "aws:principalorgid",
    "aws:resourceorgpaths": "aws:principalorgpaths",
}
#: The label of the resource's own organisation when the trusted boundary does not name it (never trusted).
_ORGANIZATION_OF = "organization of account "


def _own(boundary: TrustBoundary, *, organization: bool) -> str:
    """The audience label of the resource's own account, or of its own organisation (``organization o-…`` when the
    boundary names it, else ``organization of account …``, which stays untrusted with what is unknown said)."""
    if not organization:
        return boundary.own_account
    if boundary.organization_id is not None:
        return f"organization {boundary.organization_id}"
    return f"{_ORGANIZATION_OF}{boundary.own_account}"


def keeps_account_out(conditions: tuple[Condition, ...], account: str) -> bool:
    """Whether an Allow to everyone with ``conditions`` lets no principal of ``account`` in, as this module reads
    them: a condition that can never hold (``never_holds``), or an identity condition (organisation, account, ARN,
    source; ``_audiences``, policy variables read by meaning) whose audiences name neither the account nor an
    organisation (which the account may be in). A network condition keeps no one out: the account's principals
    may call from that network.

    The one reading of "whom inside the account a trust admits" that ``trust_escalation`` shares, so the two
    cannot disagree where both read a condition.
    """
    if never_holds(conditions, None) is not None:
        return True
    for condition, audiences in _bounding(conditions, TrustBoundary(account)):
        if condition.key in _NETWORK_KEYS:
            continue
        if account not in audiences and not any(label.startswith("organization ") for label in audiences):
            return True
    return False


def _positive(condition: Condition) -> bool:
    """A positive test that needs the key (``_audiences``'s rule): a negated operator, ``IfExists`` and
    ``ForAllValues`` hold for requests they do not name."""
    return (
        condition.operator.lower() in _POSITIVE_OPERATORS
        and not condition.if_exists
        and condition.qualifier != "ForAllValues"
    )


def _unresolved(conditions: tuple[Condition, ...]) -> tuple[str, ...]:
    """What a restricting condition's policy variables leave unknown: a variable that is neither the caller's
    (which bounds nothing: the caller sets it) nor the resource's own account or organisation (``_audience``
    resolves those) may or may not limit who calls, and IAM Warden does not know its value."""
    found: list[str] = []
    for condition in conditions:
        if condition.key not in RESTRICTING_KEYS:
            continue
        for value in condition.values:
            if "${" in value:
                break
        else:
            continue  # the usual case: no variable at all (a loop, not ``any`` over a generator)
        if not _positive(condition):
            continue
        for value in condition.values:
            for key, _ in variables_in(value):
                if key != condition.key and key not in RESOURCE_SIDE and not is_caller_side(key):
                    found.append(
                        f"whether its condition {_spelled(condition)} limits who can use it (its value {value!r} "
                        f"holds the policy variable ${{{key}}}, whose value IAM Warden does not know)"
                    )
    return tuple(dict.fromkeys(found))


_EVALUATED_KEYS = RESTRICTING_KEYS | _TIME_KEYS | _ORGANIZATION_VALUED | _ACCOUNT_VALUED


def _spelled(condition: Condition) -> str:
    operator = (f"{condition.qualifier}:" if condition.qualifier else "") + condition.operator
    return f"{operator}{'IfExists' if condition.if_exists else ''} {condition.key}"


def never_holds(conditions: Iterable[Condition], at: datetime | None) -> str | None:
    """Why ``conditions`` can never all hold (the statement then grants nothing), or None.

    Only certain cases count: a positive string test of an organisation- or account-valued key whose
    every value is malformed, and a "before" date test whose every bound had passed at ``at``. A test
    with ``IfExists`` or ``ForAllValues`` holds when the key is absent, so it never counts.
    """
    for condition in conditions:
        if condition.key not in _NEVER_HOLDING_KEYS:
            continue  # the usual case: a key no impossible value is known for
        if condition.if_exists or condition.qualifier == "ForAllValues" or not condition.values:
            continue  # holds without the key (``holds_when_absent``), or tests nothing
        operator = condition.operator.lower()
        if condition.key in _ORGANIZATION_VALUED or condition.key in _ACCOUNT_VALUED:
            if operator not in ("stringequals", "stringequalsignorecase", "stringlike"):
                continue
            shape, what = (
                (ORGANIZATION_ID, "organisation id")
                if condition.key in _ORGANIZATION_VALUED
                else (ACCOUNT_ID, "account id")
            )
            if not any(_could_be(value, shape, operator) for value in condition.values):
                return f"its {condition.operator} {condition.key} condition names no well-formed {what} " + (
                    f"({', '.join(repr(v) for v in condition.values)}), so it can never hold"
                )
        elif condition.key in _TIME_KEYS and operator in _BEFORE_OPERATORS and at is not None:
            bounds = [instant(value) for value in condition.values]
            if all(bound is not None and bound <= at for bound in bounds):
                return (
                    f"its {condition.operator} {condition.key} condition ended before the policy was set "
                    f"({', '.join(condition.values)}), so it can never hold"
                )
    return None


_NEVER_HOLDING_KEYS = _ORGANIZATION_VALUED | _ACCOUNT_VALUED | _TIME_KEYS


def _could_be(value: str, shape: re.Pattern[str], operator: str) -> bool:
    if operator == "stringlike" and ("*" in value or "?" in value):
        return True  # a pattern may match a well-formed id: not provably impossible
    if "${" in value:
        return True  # a policy variable is substituted before the test (``${aws:PrincipalAccount}``): no literal
    return shape.fullmatch(value.lower() if operator == "stringequalsignorecase" else value) is not None


def _principal_exposure(principal: Principal, boundary: TrustBoundary, known: Circumstances) -> Exposure:
    if principal is _EVERYONE or (
        principal.everyone
        and not (principal.service or principal.federated or principal.canonical_user)
        and principal.aws.count("*") == len(principal.aws)
    ):
        return _PUBLIC  # "*" or {"AWS": "*"}: the most common exposed principal, one shared answer
    region = known.region
    public = principal.everyone
    # Lists, not sets: cheaper to make, and each becomes a frozenset (or ``_NOBODY``) at the end anyway.
    untrusted: list[str] = []
    trusted: list[str] = []
    services: list[str] = []
    unknown: list[str] = []
    for service in principal.service:
        if "*" in service or "?" in service:
            public = True  # "*.amazonaws.com" is every service principal, acting for anyone
        else:
            services.append(service)
    for entry in principal.aws:
        if entry == "*":
            continue
        account = _account_of_principal(entry)
        if account is None and ("*" in entry or "?" in entry):
            public = True  # a wildcard in the account part bounds nothing
        elif account is None:
            # Not an account or ARN, e.g. the unique id (AROA…) IAM shows for a deleted principal:
            # nobody we can vouch for, but not everyone either.
            untrusted.append(f"unknown principal {entry}")
        elif account == CLOUDFRONT_OAI_ACCOUNT:
            if entry.split(":", 5)[5].startswith(CLOUDFRONT_OAI_RESOURCE_PREFIX):
                trusted.append(entry)  # a CloudFront origin access identity: only its own distributions use it
            else:
                untrusted.append(f"unknown principal {entry}")
        elif account == boundary.own_account or account in boundary.trusted_accounts:
            trusted.append(account)
        elif elb_account_region(account, region) is not None:
            services.append("elasticloadbalancing")  # the Region's Elastic Load Balancing log delivery account
        else:
            untrusted.append(account)
    for provider in principal.federated:
        # An identity provider ARN (SAML/OIDC provider) belongs to an account; a bare name
        # (cognito-identity.amazonaws.com, accounts.google.com) is a public identity service.
        owner = _account_of_arn(provider)
        if owner is not None and boundary.trusts_account(owner):
            trusted.append(owner)
        else:
            untrusted.append(f"federated {provider}")
    for name in principal.canonical_user:
        identity, why = _origin_access_identity(name, boundary, known)
        if identity is None:
            untrusted.append(f"canonical user {name}")
            unknown.append(why)
        else:
            trusted.append(identity)  # only the distributions the identity is set on use it
    return _new(
        Exposure,
        (
            public,
            frozenset(untrusted) if untrusted else _NOBODY,
            frozenset(services) if services else _NOBODY,
            frozenset(trusted) if trusted else _NOBODY,
            (),
            _NOBODY,
            tuple(unknown) if unknown else (),
            (),
            None,
        ),
    )


def admits_only_trusted(principal: Principal, conditions: tuple[Condition, ...], boundary: TrustBoundary) -> bool:
    """Whether a statement with this Principal (and no NotPrincipal) lets in nobody outside ``boundary`` and no
    Elastic Load Balancing account, whatever its other conditions say: it names only accounts ``boundary`` trusts
    and AWS services that nothing binds to another account (no wildcard, not a log delivery that its Resource's
    ``AWSLogs/<account>/`` path binds, no source condition). Conditions can then only narrow, so ``_exposure``
    could find no public or untrusted grantee: a trust policy's shortcut past building the exposure.

    False means "not known here": the caller judges the statement in full.
    """
    if principal.everyone or principal.federated or principal.canonical_user:
        return False
    if principal.service:
        for service in principal.service:
            if "*" in service or "?" in service or service in WRITES_UNDER_SOURCE_ACCOUNT:
                return False
        for condition in conditions:
            if condition.key in _SOURCE_KEYS:
                return False
    own, trusted = boundary.own_account, boundary.trusted_accounts
    for entry in principal.aws:
        account = _account_of_principal(entry)
        if account is None or account == CLOUDFRONT_OAI_ACCOUNT or (account != own and account not in trusted):
            return False
    return True


def _origin_access_identity(name: str, boundary: TrustBoundary, known: Circumstances) -> tuple[str | None, str]:
    """The ``CanonicalUser`` principal as one of the account's CloudFront origin access identities (listed in
    ``cloudfront_oai_canonical_ids``, or found by the live lookup), or None and why nobody could say whose it is."""
    whose = f"whose canonical user {name} is (an account's, or a CloudFront origin access identity's)"
    canonical = name.lower()
    if not CANONICAL_USER_ID.fullmatch(canonical):
        return None, f"{whose}: it is not a well-formed canonical user id (64 hexadecimal digits)"
    if canonical in boundary.cloudfront_oai_canonical_ids:
        return f"CloudFront origin access identity with canonical user {name}", ""
    if known.origin_access_identities is None:
        return None, (
            f"{whose}: a canonical user id does not say, and offline IAM Warden cannot ask CloudFront (list the "
            "organisation's origin access identities in cloudfront_oai_canonical_ids; the enforcer asks CloudFront)"
        )
    found = known.origin_access_identities.identity_of(canonical, boundary.own_account)
    if found.identity is None:
        return None, f"{whose}: {found.how}"
    return f"CloudFront origin access identity {found.identity}", ""


def _bind_services(
    base: Exposure, statement: Statement, boundary: TrustBoundary, bounding: list[_Bounding] | None
) -> Exposure:
    """Judge each service principal by the account its source condition (or log path) binds it to
    (``bounding``: the statement's restricting conditions, ``_bounding``, or None when it has no conditions)."""
    if not base.services:
        return base
    bound_to = _source_accounts(bounding, boundary) if bounding else None
    if bound_to is None and base.services.isdisjoint(WRITES_UNDER_SOURCE_ACCOUNT):
        # The usual case (a service principal, no source condition, no log delivery): every service unbound.
        return _new(
            Exposure,
            (
                base.public,
                base.untrusted,
                base.services,
                base.trusted,
                base.narrowed_by,
                base.services,
                base.unknown,
                base.unevaluated,
                base.void,
            ),
        )
    untrusted = set(base.untrusted)
    unbound: set[str] = set()
    for service in base.services:
        accounts = bound_to
        if accounts is None and service in WRITES_UNDER_SOURCE_ACCOUNT:
            accounts = _log_path_accounts(statement.resources)
        if accounts is None:
            unbound.add(service)
            continue
        who = "Elastic Load Balancing" if service == "elasticloadbalancing" else f"the service {service}"
        own, trusted = boundary.own_account, boundary.trusted_accounts  # ``trusts_account``, inline
        for account in accounts:
            if account != own and account not in trusted:
                untrusted.add(f"{who} acting for account {account}")
    return _new(
        Exposure,
        (
            base.public,
            frozenset(untrusted) if untrusted else _NOBODY,
            base.services,
            base.trusted,
            base.narrowed_by,
            frozenset(unbound) if unbound else _NOBODY,
            base.unknown,
            base.unevaluated,
            base.void,
        ),
    )


def _source_accounts(bounding: list[_Bounding], boundary: TrustBoundary) -> frozenset[str] | None:
    """The accounts the binding source condition with the fewest outsiders names (conditions are ANDed, so
    that one decides), or None if none binds (``bounding``: the restricting conditions, ``_bounding``)."""
    narrowest: frozenset[str] | None = None
    outsiders = 0
    own, trusted = boundary.own_account, boundary.trusted_accounts  # ``trusts_account``, inline
    for condition, accounts in bounding:
        if condition.key not in _SOURCE_KEYS:
            continue
        count = 0
        for account in accounts:
            if account != own and account not in trusted:
                count += 1
        if narrowest is None or count < outsiders:
            narrowest, outsiders = accounts, count
    return narrowest


_LOG_PATH = re.compile(r"/AWSLogs/([0-9]{12})/")


def _log_path_accounts(resources: Sequence[str] | None) -> frozenset[str] | None:
    """The accounts every Resource confines a log delivery to (``…/AWSLogs/<account>/…``), or None."""
    if not resources:
        return None
    accounts: set[str] = set()
    for resource in resources:
        match = _LOG_PATH.search(resource)
        if match is None or "*" in resource[: match.start()] or "?" in resource[: match.start()]:
            return None
        accounts.add(match.group(1))
    return frozenset(accounts)


def _is_account_id(text: str) -> bool:
    """``ACCOUNT_ID.fullmatch(text)`` without the regex call: twelve ASCII digits."""
    return len(text) == 12 and text.isascii() and text.isdigit()


def _account_of_principal(entry: str) -> str | None:
    if len(entry) == 12 and entry.isascii() and entry.isdigit():  # ``_is_account_id``, inline
        return entry
    return _account_of_arn(entry)


def _account_of_arn(arn: str) -> str | None:
    if not arn.startswith("arn:"):
        return None
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return None
    account = parts[4]
    if account == CLOUDFRONT_OAI_ACCOUNT or (len(account) == 12 and account.isascii() and account.isdigit()):
        return account
    return None


#: A condition that narrows, the grantees it leaves untrusted and the facts that could not be learned (a plain
#: tuple: one class fewer to build at import time).
_Narrowing = tuple[Condition, frozenset[str], tuple[str, ...]]


def _narrow(base: Exposure, bounding: list[_Bounding], boundary: TrustBoundary, known: Circumstances) -> Exposure:
    """Apply restricting conditions (``bounding``: each with its audiences, ``_bounding``); they are ANDed, so
    the narrowest one that binds decides.

    Identity conditions (organisation, account, ARN) can make any grant safe.
    Network conditions only replace "public" (see the module docstring).
    """
    identity: _Narrowing | None = None
    network: _Narrowing | None = None
    for condition, audiences in bounding:
        if condition.key in _NETWORK_KEYS:
            candidate = _network_narrowing(condition, audiences, boundary, known)
            if network is None or len(candidate[1]) < len(network[1]):
                network = candidate
            continue
        untrusted = _untrusted_audiences(audiences, boundary)
        if not untrusted:
            return _new(
                Exposure,
                (
                    False,
                    _NOBODY,
                    base.services,
                    audiences,
                    (condition.key,),
                    base.unbound_services,
                    (),
                    base.unevaluated,
                    base.void,
                ),
            )
        if identity is None or len(untrusted) < len(identity[1]):
            identity = (condition, untrusted, ())
    if not base.public:
        # The Principal already names who; a condition can only shrink that set, never vouch for it.
        narrowing = identity or network
        if narrowing is None:
            return base
        return _new(
            Exposure,
            (
                base.public,
                base.untrusted,
                base.services,
                base.trusted,
                (narrowing[0].key,),
                base.unbound_services,
                base.unknown,
                base.unevaluated,
                base.void,
            ),
        )
    narrowing = identity or network
    if narrowing is None:
        return base
    condition, untrusted, unknown = narrowing
    if narrowing is identity:
        unknown = _organization_unknown(untrusted)
    return _new(
        Exposure,
        (
            False,
            untrusted,
            base.services,
            base.trusted,
            (condition.key,),
            base.unbound_services,
            unknown,  # the condition's grantees replace everyone the Principal named
            base.unevaluated,
            base.void,
        ),
    )


def _organization_unknown(untrusted: frozenset[str]) -> tuple[str, ...]:
    """What is unknown when a condition admits the resource's own organisation and the boundary does not name it."""
    return tuple(
        [
            f"which organisation account {label[len(_ORGANIZATION_OF) :]} belongs to: the condition admits the "
            "resource's own organisation's principals, and organization_id is not set, so IAM Warden cannot say "
            "they are trusted"
            for label in sorted(untrusted)
            if label.startswith(_ORGANIZATION_OF)
        ]
    )


def _network_narrowing(
    condition: Condition, audiences: frozenset[str], boundary: TrustBoundary, known: Circumstances
) -> _Narrowing:
    """Who a network condition lets in: networks of trusted owners are private, unknown owners are facts lacked."""
    untrusted: set[str] = set()
    unknown: list[str] = []
    for label in sorted(audiences):
        network_id = label.rsplit(" ", 1)[-1]
        if network_id in boundary.trusted_networks:
            continue
        if known.networks is None:
            untrusted.add(label)
            unknown.append(
                f"who owns {label}: it is not in trusted_networks, and offline IAM Warden cannot look it up "
                "(the enforcer asks EC2)"
            )
            continue
        owner = known.networks.owner_of(network_id, boundary.own_account, known.region or "")
        if owner.account is None:
            untrusted.add(label)
            unknown.append(f"who owns {label}: {owner.how}")
        elif not boundary.trusts_account(owner.account):
            untrusted.add(f"{label} of account {owner.account}")
    return condition, frozenset(untrusted), tuple(unknown)


def _audiences(condition: Condition, boundary: TrustBoundary) -> frozenset[str] | None:
    """The set of principals a restricting condition admits, or None if it does not bound them.

    A policy variable is read by meaning (``_as_resource_side``): the resource's own account or organisation
    bounds; the caller's own value (``aws:PrincipalAccount = ${aws:PrincipalAccount}``) or an unknown one does not.
    """
    key = condition.key
    if key not in RESTRICTING_KEYS:
        return None
    operator = condition.operator.lower()
    if operator not in _POSITIVE_OPERATORS or condition.if_exists or condition.qualifier == "ForAllValues":
        return None  # a negated operator, or one that holds without the key (``holds_when_absent``)
    labels: set[str] = set()
    for written in condition.values:
        value = written
        if "${" in written:
            resolved = _as_resource_side(key, written, boundary)  # the value as IAM reads it
            if resolved is None:
                return None
            if resolved.startswith(_ORGANIZATION_OF):
                labels.add(resolved)
                continue
            value = resolved
        label = _audience(key, value, operator)
        if label is None:
            return None
        labels.add(label)
    return frozenset(labels) if labels else None


#: Where a caller's (or an unknown) variable stood while its position in the value is checked.
_ANY_VALUE = "\x00"


def _as_resource_side(key: str, value: str, boundary: TrustBoundary) -> str | None:
    """A condition value as IAM reads it: the resource's own account or organisation resolved
    (``${aws:ResourceAccount}`` is the resource's account, the boundary's own); any other variable is any value
    (``*``: the caller chooses it), so it bounds only through what is written literally around it
    (``arn:aws:iam::111122223333:role/${aws:PrincipalTag/team}-*`` is still account 111122223333's). None when
    nothing literal can bound it: such a variable in an ARN's partition/service/region/account fields (a value may
    hold ``:``) or in a path's organisation id, or the resource's organisation unknown."""
    if boundary.organization_id is None and only_variable(value) in ("aws:resourceorgid", "aws:resourceorgpaths"):
        return _own(boundary, organization=True)

    def known(variable: str, default: str | None) -> str | None:
        if variable == "aws:resourceaccount":
            return boundary.own_account
        if variable in ("aws:resourceorgid", "aws:resourceorgpaths"):
            if boundary.organization_id is None:
                return None
            return boundary.organization_id if variable == "aws:resourceorgid" else f"{boundary.organization_id}/*"
        return _ANY_VALUE

    resolved = resolve(value, known)
    if resolved is None or _ANY_VALUE not in resolved:
        return resolved
    if key in _ARN_KEYS:
        fields = resolved.split(":", 5)
        if len(fields) < 6 or any(_ANY_VALUE in field for field in fields[:5]):
            return None
    elif key == "aws:principalorgpaths" and _ANY_VALUE in resolved.split("/", 1)[0]:
        return None
    return resolved.replace(_ANY_VALUE, "*")


def _audience(key: str, value: str, operator: str) -> str | None:
    if key == "aws:principalorgid":
        return f"organization {value}" if ORGANIZATION_ID.fullmatch(value) else None
    if key == "aws:principalorgpaths":
        organization = value.split("/", 1)[0]
        return f"organization {organization}" if ORGANIZATION_ID.fullmatch(organization) else None
    if key in _ACCOUNT_KEYS:
        return value if _is_account_id(value) else None  # ``ACCOUNT_ID.fullmatch``, without the regex call
    if key in _ARN_KEYS:
        # StringLike matches the whole ARN as one string, so a wildcard before the account field can
        # span colons (IAM paths may hold ":"); ArnLike matches each of the six fields separately.
        head = ":".join(value.split(":", 5)[:4])
        if operator == "stringlike" and ("*" in head or "?" in head):
            return None
        account = _account_of_arn(value)
        return account if account is not None and account != CLOUDFRONT_OAI_ACCOUNT else None
    # network keys: an exact endpoint or VPC id
    if "*" in value or "?" in value or not value:
        return None
    return f"VPC endpoint {value}" if key == "aws:sourcevpce" else f"VPC {value}"


def _untrusted_audiences(audiences: frozenset[str], boundary: TrustBoundary) -> frozenset[str]:
    """The audiences outside ``boundary``: an ``organization o-…`` label but its own organisation, an account
    label but its own and trusted accounts (``trusts_organization``/``trusts_account``, inline)."""
    own, trusted = boundary.own_account, boundary.trusted_accounts
    organization = boundary.organization_id
    return frozenset(
        [
            label
            for label in audiences
            if (
                organization is None or label[13:] != organization
                if label.startswith("organization ")
                else label != own and label not in trusted
            )
        ]
    )
