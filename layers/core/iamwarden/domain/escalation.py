"""What a principal can become: admin-equivalent grants and privilege-escalation paths.

The methods are data (``iamwarden.domain.escalation_methods``: cloudsplaining's
method list with DataDog's pathfinding.cloud paths, and NCC Group's PMapper
edges). A method is *reachable* when every action it needs is allowed, on a
resource of the kind it needs, by the principal's policies taken together:

* every identity policy counts, so a method split over several policies is found,
  and each action names the statement and policy that grant it;
* an unconditional Deny (in any policy, or the permissions boundary) cancels the
  Allows whose resources it covers: an Allow it cancels grants nothing;
* with a permissions boundary, an action counts only where the boundary allows it
  too (effective = identity ∩ boundary).

Where a method leads matters. A principal that can rewrite its *own* permissions
(a role's ``iam:PutRolePolicy`` on itself or ``*``, a user's
``iam:PutUserPolicy`` on ``user/${aws:username}``) escalates outright. A method
that passes a role (``iam:PassRole``) or acts as an existing resource's role
(``lambda:UpdateFunctionCode``, ``ssm:SendCommand``) escalates only when a role
it reaches can do more than the principal: admin-equivalent, or able to escalate
further. A role that writes users' or groups' permissions (``iam:PutUserPolicy`` on
``*``) escalates when a user who can assume the role is among what it writes: the
user assumes it and gives itself anything (the role's trust policy says who).
``RoleDirectory`` answers which roles those are and what they may do;
when it cannot (offline without authorization details), the path is still
reported, with the unknown fact named, and never called certain.

Two readings stay deliberately conservative, because a missed escalation is
worse than a reviewed false alarm: conditions on an Allow do not make it
unreachable (they cannot be evaluated offline), and an Allow with NotResource
reaches everything it does not exclude. ``${aws:username}`` is the caller's own
user: it counts for the methods that rewrite one's own permissions, and not for
the credential methods (CreateAccessKey and the like), which need another user.
Other policy variables in Resource are read as IAM substitutes them for the holder
(``${aws:PrincipalAccount}``: its account); one the engine cannot know is ``*`` in an
Allow and, in a Deny, covers nothing. A Deny covers an Allow's pattern only as a pattern
(``role/?`` does not cover ``role/*``), on what the Allow can reach for the holder (an
``iam:`` action's ``*`` is its own account's IAM resources).

Everything here is pure: it judges parsed policies and asks ``RoleDirectory``, never AWS.
"""

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Any, NamedTuple

from iamwarden.domain.boundaries import pattern_covers, patterns_overlap
from iamwarden.domain.directory import GroupMembers
from iamwarden.domain.escalation_methods import EscalationMethod, catalogue
from iamwarden.domain.events import instant
from iamwarden.domain.policy import Policy, Statement, action_matches
from iamwarden.domain.principals import (
    KnowsReadableKinds,
    ListsInstanceProfiles,
    ListsUsers,
    PrincipalPolicies,
    ReadsRolesBehind,
    RoleDirectory,
)
from iamwarden.domain.variables import names_own_user_only, resolve, variable_pattern
from iamwarden.domain.wildcards import arn_match, wildcard_match

_SELF = "${aws:username}"
#: The account field of the IAM resources an ``iam:`` action acts on when the holder is not known (a document
#: judged alone): whatever it is, it is the one ``${aws:PrincipalAccount}`` names in a Deny (review engine s10,
#: finding 4). No ``:`` (it sits in an ARN field) and never twelve digits (no real account is it).
_HOLDER_ACCOUNT = "holder-account"
_SELF_PATTERN = re.compile(re.escape(_SELF), re.IGNORECASE)
#: How many passed roles deep "able to escalate further" is followed (cycles stop earlier).
MAX_DEPTH = 4
#: How many roles a path names as where it leads (or as unknown) before "and N more".
MAX_LEADS = 3
#: How many roles' trust policies one path reads before the rest stay unknown (live, each is a read).
MAX_TRUSTS = 25
#: How many restraints (Deny-holding policies, the boundary) one holder is followed removing in a row.
MAX_LIFTS = 4
#: The source name of a document judged on its own (``assess``).
THE_POLICY = "the policy"


class Grant(NamedTuple):
    """One action of a method, the resources through which it is granted, and the statements granting it."""

    action: str
    resources: tuple[str, ...]
    granted_by: tuple[str, ...] = ()  # "statement 0 (Pass) of inline app/deploy"

    def describe(self) -> str:
        by = f" ({'; '.join(self.granted_by)})" if self.granted_by else ""
        return f"{self.action} on {' and '.join(self.resources)}{by}"


class LeadsTo(NamedTuple):
    """A principal a path reaches and why it is more than the holder: admin-equivalent, or escalating further."""

    arn: str
    why: str


class EscalationPath(NamedTuple):
    """A reachable method: which one, the grants that make it so, and where it leads."""

    method: EscalationMethod
    grants: tuple[Grant, ...]
    leads_to: tuple[LeadsTo, ...] = ()
    #: What the verdict lacks (what a passed role may do, say): the path is then possible, not certain.
    unknown: tuple[str, ...] = ()
    #: What the holder can do, when the grant reaches less than the method's description says ("add itself to
    #: group readers" for an AddUserToGroup on one group); None: the description.
    doing: str | None = None

    @property
    def description(self) -> str:
        return self.doing or self.method.description

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple([grant.action for grant in self.grants])

    @property
    def certain(self) -> bool:
        return not self.unknown

    def describe(self) -> str:
        """``CreateAccessKey (iam:CreateAccessKey on *)``: the method, then each action on its resources."""
        parts = ", ".join([f"{grant.action} on {' and '.join(grant.resources)}" for grant in self.grants])
        return f"{self.method.name} ({parts})"

    def explain(self) -> str:
        """One plain sentence for a developer: what the holder can do, which grants allow it, where it leads."""
        grants = "; ".join([grant.describe() for grant in self.grants])
        sentence = f"It can {self.description} ({self.method.name}), because it is allowed {grants}"
        if self.leads_to:
            roles = "; ".join([f"{principal_label(lead.arn)}, which {lead.why}" for lead in self.leads_to])
            sentence += f". That leads to {roles}"
        if self.unknown:
            sentence += f". Whether that reaches more than it has already is not known: {'; '.join(self.unknown)}"
        return sentence + "."


def explanation(path: EscalationPath) -> str:
    """``path.explain()``, made once per path content: the same paths come back in every finding on an
    admin-star document (ninety-odd of them, each explained in the finding), and kept verdicts return them."""
    method = path.method
    key = (method.name, path.description, path.grants, path.leads_to, path.unknown)
    said = _EXPLAINED.get(key)
    if said is None:
        said = path.explain()
        if len(_EXPLAINED) >= EXPLAINED_CACHE_SIZE:
            del _EXPLAINED[next(iter(_EXPLAINED))]  # the oldest entry
        _EXPLAINED[key] = said
    return said


#: How many paths' explanations ``explanation`` keeps.
EXPLAINED_CACHE_SIZE = 4096
_EXPLAINED: dict[tuple[Any, ...], str] = {}


class AdminGrant(NamedTuple):
    """An Allow statement that is admin-equivalent (critical) or gives a whole service everywhere (not critical)."""

    statement: Statement
    why: str
    critical: bool
    source: str = THE_POLICY
    #: What the grant being admin rests on and is not known: an unconditional Deny with a variable IAM Warden cannot
    #: resolve (``${aws:PrincipalTag/home-account}``) may cancel it (review engine s10, finding 6). Never remediated on.
    unknown: tuple[str, ...] = ()

    @property
    def certain(self) -> bool:
        """A critical grant with nothing unknown settles a verdict (``decisive``)."""
        return self.critical and not self.unknown


class PolicyRisk(NamedTuple):
    """Everything dangerous a policy, or a principal's whole policy set, grants."""

    admin: tuple[AdminGrant, ...]
    escalations: tuple[EscalationPath, ...]
    #: Facts the verdict needed but could not know (what a passed role may do, say): never remediated on.
    unknown: tuple[str, ...] = ()

    @property
    def risky(self) -> bool:
        return bool(self.admin or self.escalations)

    @property
    def critical(self) -> bool:
        return any(grant.critical for grant in self.admin) or bool(self.escalations)


def __getattr__(name: str) -> Any:
    """``ESCALATION_METHODS``, read from the catalogue on first use (the import itself stays cheap)."""
    if name == "ESCALATION_METHODS":
        return catalogue().methods
    raise AttributeError(name)


# --- the entry points -----------------------------------------------------------------------------


def assess(policy: Policy) -> PolicyRisk:
    """What one identity policy grants, its holder unknown: any principal the resources name may be it.

    Judged once per document: the same policy (an attached managed policy, a version restored) comes
    back often, so the verdict is cached by the statements' content (not one whose verdict changes with the
    clock: ``clock_bound``).
    """
    key = content_key(policy)
    risk = _ASSESSED.get(key)
    if risk is None:
        risk = _Judge(policies=((THE_POLICY, policy),), boundary=None, principal=None, roles=None).risk()
        if clock_bound(policy):
            return risk
        if len(_ASSESSED) >= ASSESS_CACHE_SIZE:
            del _ASSESSED[next(iter(_ASSESSED))]  # the oldest entry
        _ASSESSED[key] = risk
    return admin_named_in(risk, policy)


def admin_named_in(risk: PolicyRisk, policy: Policy) -> PolicyRisk:
    """``risk`` (a verdict on ``policy`` alone, or kept for a document of the same content) with its admin
    grants naming ``policy``'s own statements: same content, perhaps another spelling (a plan removes ``raw``)."""
    if not risk.admin:
        return risk
    statements = policy.statements
    return risk._replace(
        admin=tuple(grant._replace(statement=statements[grant.statement.position]) for grant in risk.admin)
    )


def content_key(policy: Policy) -> tuple[tuple[Any, ...], ...]:
    """What a document means, statement by statement, hashable: the same for the same content whatever its
    spelling or the object that holds it (the key of every verdict kept per document)."""
    return tuple([statement_content(statement) for statement in policy.statements])


def clock_bound(policy: Policy) -> bool:
    """Whether an Allow of ``policy`` holds only before a moment (``_expired``): its verdict may change with
    the clock, so it is not kept beyond the judgement at hand."""
    return any(
        condition.operator in ("DateLessThan", "DateLessThanEquals") and condition.key in _CLOCKS
        for statement in policy.statements
        for condition in statement.conditions
    )


#: How many documents' verdicts ``assess`` keeps.
ASSESS_CACHE_SIZE = 1024
_ASSESSED: dict[tuple[tuple[Any, ...], ...], PolicyRisk] = {}


def statement_content(statement: Statement) -> tuple[Any, ...]:
    """What a statement means (everything but its raw spelling), hashable: its ``Sid`` first, so that
    ``statement_content(s)[1:]`` is what it grants or denies (``held_readings``)."""
    return (
        statement.sid,
        statement.effect,
        statement.actions,
        statement.not_actions,
        statement.resources,
        statement.not_resources,
        statement.conditions,
        statement.principal,
        statement.not_principal,
    )


def assess_principal(principal: PrincipalPolicies, roles: RoleDirectory | None = None) -> PolicyRisk:
    """What a principal's whole policy set grants, Deny statements and the permissions boundary applied.

    ``roles`` answers where passed roles and existing resources lead; without it those paths are
    reported with what could not be known. Without it nothing but the principal's documents decides, so that
    verdict is kept by their content (as ``assess`` keeps a document's): the same principal comes back with the
    same documents (a plan's rest judged in place of the event's document, an inline policy put again).
    """
    if roles is not None:
        return _judge_principal(principal, roles, frozenset(), _Shared())
    policies = principal.policies
    boundary = principal.boundary
    sources = {named.source: named.policy for named in policies}
    if (
        len(sources) < len(policies)
        or any(clock_bound(named.policy) for named in policies)
        or (boundary is not None and clock_bound(boundary))
    ):
        return _judge_principal(principal, None, frozenset(), _Shared())
    key = (
        principal.principal_arn,
        tuple([(named.source, content_key(named.policy)) for named in policies]),
        None if boundary is None else content_key(boundary),
    )
    risk = _ASSESSED_PRINCIPALS.get(key)
    if risk is None:
        risk = _judge_principal(principal, None, frozenset(), _Shared())
        if len(_ASSESSED_PRINCIPALS) >= ASSESS_CACHE_SIZE:
            del _ASSESSED_PRINCIPALS[next(iter(_ASSESSED_PRINCIPALS))]  # the oldest entry
        _ASSESSED_PRINCIPALS[key] = risk
        return risk
    if not risk.admin:
        return risk
    # The admin grants name the caller's own statements (same content, perhaps other spelling), by source.
    admin = tuple(
        grant._replace(statement=sources[grant.source].statements[grant.statement.position]) for grant in risk.admin
    )
    return risk._replace(admin=admin)


#: ``assess_principal``'s verdicts without a directory, by principal and content (``ASSESS_CACHE_SIZE`` of them).
_ASSESSED_PRINCIPALS: dict[tuple[Any, ...], PolicyRisk] = {}


class AssumeAllowance(NamedTuple):
    """What a principal's own policies say about its ``sts:AssumeRole`` on one role."""

    #: An effective Allow names the role (unconditional Deny statements and the permissions boundary applied).
    allowed: bool
    #: An unconditional Deny covers the role: no trust policy lets the principal in then.
    denied: bool
    #: The statements granting it (``statement 0 (Assume) of inline app/assume``), when allowed.
    granted_by: tuple[str, ...] = ()


def assume_allowance(principal: PrincipalPolicies, role_arn: str) -> AssumeAllowance:
    """Whether ``principal`` may call ``sts:AssumeRole`` on ``role_arn`` by its own policies (a trust policy
    naming only its account lets it in only then; one naming its ARN does unless a Deny covers the role)."""
    judge = _Judge(
        policies=tuple((named.source, named.policy) for named in principal.policies),
        boundary=principal.boundary,
        principal=principal,
        roles=None,
        lifting=False,
    )
    reached = judge.reach("sts:AssumeRole", "iam:role/")
    allowed = any(_names(pattern, role_arn) for pattern in reached.patterns)
    return AssumeAllowance(allowed, judge._denied("sts:AssumeRole", role_arn), reached.granted_by if allowed else ())


def trust_admits(trust: Policy, holder: str, role_arn: str, *, permitted: bool) -> bool:
    """Whether the trust policy of ``role_arn`` lets ``holder`` (of the same account) assume it; ``permitted``:
    the holder's own ``sts:AssumeRole`` on the role (see ``_trust_lets_in``)."""
    fields = role_arn.split(":", 5)
    partition, account = (fields[1], fields[4]) if len(fields) == 6 else ("aws", "*")
    return _trust_lets_in(trust, holder, partition, account, permitted=permitted)


def with_doubts(principal: PrincipalPolicies, risk: PolicyRisk, *, changed: Collection[str] = ()) -> PolicyRisk:
    """``risk`` (``assess_principal`` of ``principal``) with each admin grant and escalation path naming, in its
    ``unknown``, what it rests on beyond the unconditional Deny statements and boundary the judgement applies: a
    condition on the Allow that grants it (conditions on an Allow are counted as met; ``iam:PassedToService`` is
    read by the judgement itself), a Deny with a condition in the principal's policies or boundary that names one of
    its actions (it may apply), a boundary that lets its actions through only under a condition. ``decisive`` then
    keeps a verdict that rests on them uncertain (alerted, never remediated on). For where a principal's power, not
    a document's text, is what a remediation rests on (a user added to a group).

    ``changed``: the sources the change itself wrote (the new version, the group's policies). Their author controls
    them, so a condition on their grant or a conditional Deny in them is no doubt about the holder (review s11
    finding 1): doubts come only from what the holder held besides."""
    if not risk.risky:
        return risk
    holder = principal_label(principal.principal_arn)
    boundary = principal.boundary.statements if principal.boundary is not None else ()
    statements = {
        f"{statement.label} of {named.source}": statement
        for named in principal.policies
        for statement in named.policy.statements
    }
    besides = {
        f"{statement.label} of {named.source}"
        for named in principal.policies
        if named.source not in changed
        for statement in named.policy.statements
    }
    conditional_denies = [
        (label, statement)
        for label, statement in statements.items()
        if label in besides and not statement.allows and statement.conditions
    ] + [
        (f"{statement.label} of the permissions boundary", statement)
        for statement in boundary
        if not statement.allows and statement.conditions
    ]

    def doubts(actions: tuple[str, ...], conditioned: Iterable[str]) -> list[str]:
        facts = [
            f"whether the condition of {label} holds for {holder} (what it grants holds only under it; it was "
            "counted as met)"
            for label in conditioned
            if label in besides
        ]
        facts.extend(
            f"whether the conditional Deny {label} applies to {holder} (it may cancel the grant)"
            for label, deny in conditional_denies
            if _may_deny(deny, actions)
        )
        if boundary and not any(
            statement.allows and not statement.conditions and _admits_any(statement, actions) for statement in boundary
        ):
            facts.append(
                f"whether the condition of the permissions boundary of {holder} holds (it lets the grant through "
                "only under one)"
            )
        return facts

    admin = []
    for grant in risk.admin:
        granted = grant.statement.actions if grant.statement.actions is not None else ("*",)
        conditioned = (f"{grant.statement.label} of {grant.source}",) if grant.statement.conditions else ()
        admin.append(grant._replace(unknown=tuple(dict.fromkeys((*grant.unknown, *doubts(granted, conditioned))))))
    paths = []
    for path in risk.escalations:
        rests_on = list(path.unknown)
        for step in path.grants:
            own = [statements[label] for label in step.granted_by if label in statements]
            conditional = bool(own) and all(_conditioned(statement) for statement in own)
            rests_on.extend(doubts((step.action,), step.granted_by[:1] if conditional else ()))
        paths.append(path._replace(unknown=tuple(dict.fromkeys(rests_on))))
    found = (*(fact for grant in admin for fact in grant.unknown), *(fact for path in paths for fact in path.unknown))
    return PolicyRisk(tuple(admin), tuple(paths), tuple(dict.fromkeys((*found, *risk.unknown))))


def _admits_any(statement: Statement, actions: tuple[str, ...]) -> bool:
    """Whether a boundary statement's Action, or its NotAction, lets one of ``actions`` (patterns) through (review s11
    finding 3: a ``NotAction`` boundary is no condition)."""
    if statement.not_actions is not None:
        return any(not any(action_matches(spared, action) for spared in statement.not_actions) for action in actions)
    return any(action_matches(allowed, action) for allowed in statement.actions or () for action in actions)


def _conditioned(statement: Statement) -> bool:
    """An Allow that holds only under a condition other than ``iam:PassedToService`` (which the judgement reads)."""
    return any(condition.key != "iam:passedtoservice" for condition in statement.conditions)


def _may_deny(deny: Statement, granted: tuple[str, ...]) -> bool:
    """Whether a Deny's Action (or NotAction) may name one of ``granted`` (action patterns, either may be wider)."""
    if deny.not_actions is not None:
        return any(not any(action_matches(spared, action) for spared in deny.not_actions) for action in granted)
    return any(
        action_matches(denied, action) or action_matches(action, denied)
        for denied in deny.actions or ()
        for action in granted
    )


#: The EC2 calls that give an instance an instance profile (each needs ``iam:PassRole`` on the profile's role).
EC2_PROFILE_ACTIONS = (
    "ec2:RunInstances",
    "ec2:AssociateIamInstanceProfile",
    "ec2:ReplaceIamInstanceProfileAssociation",
)


class LaunchAllowance(NamedTuple):
    """What a principal's own policies let it do to run EC2 as one role (``ec2_launch_allowance``)."""

    #: The statements granting ``iam:PassRole`` on the role to EC2 (``statement 0 (Pass) of inline ci/pass``).
    passes: tuple[str, ...]
    #: The ``EC2_PROFILE_ACTIONS`` it may call (on some instance).
    launches: tuple[str, ...]
    #: What the allowance rests on and is not known: a permissions boundary or a Deny whose resource holds a policy
    #: variable IAM Warden cannot resolve may cancel the PassRole or the launch (``_within_boundary_read``,
    #: ``_unresolved_denies``), or the grant's own resource was read through one as ``*``. Never remediated on.
    unknown: tuple[str, ...] = ()


def ec2_launch_allowance(principal: PrincipalPolicies, role_arn: str) -> LaunchAllowance | None:
    """Whether ``principal`` may put ``role_arn`` on an EC2 instance through an instance profile holding it: an
    effective ``iam:PassRole`` on the role that admits ``ec2.amazonaws.com`` (Deny statements and the boundary
    applied) and one of ``EC2_PROFILE_ACTIONS``; None when it may not. Conditions on an Allow count as met, as
    everywhere here. What it rests on that is not known (a boundary or Deny resource holding a variable IAM Warden
    cannot resolve, read as the widest ceiling) is named in ``unknown``, as ``reach`` names it for every path: a
    grant that holds with nothing guessed is preferred."""
    judge = _Judge(
        policies=tuple((named.source, named.policy) for named in principal.policies),
        boundary=principal.boundary,
        principal=principal,
        roles=None,
        lifting=False,
    )
    passed = judge.reach("iam:PassRole", "iam:role/", _SERVICE_PRINCIPALS["ec2"])
    naming = [
        passed.guesses[index] if index < len(passed.guesses) else ()
        for index, pattern in enumerate(passed.patterns)
        if _names(pattern, role_arn)
    ]
    if not naming or judge._denied("iam:PassRole", role_arn):
        return None
    within, ceiling = judge._within_boundary_read("iam:PassRole", role_arn)
    if within is None:
        return None
    grant_guesses = () if any(not guessed for guessed in naming) else naming[0]
    pass_unknown = (*grant_guesses, *ceiling, *judge._unresolved_denies("iam:PassRole", role_arn, "iam:role/"))
    launches: list[str] = []
    launch_unknowns: list[tuple[str, ...]] = []
    for action in EC2_PROFILE_ACTIONS:
        allowed, guessed = judge._allowed_on_kind_read(action, "")
        if allowed:
            launches.append(action)
            launch_unknowns.append(guessed)
    if not launches:
        return None
    launch_unknown = () if any(not guessed for guessed in launch_unknowns) else launch_unknowns[0]
    unknown = tuple(dict.fromkeys((*pass_unknown, *launch_unknown)))
    return LaunchAllowance(passed.granted_by, tuple(launches), unknown)


def trust_admits_service(trust: Policy, service: str) -> bool:
    """Whether a role's trust policy lets ``service`` (``ec2.amazonaws.com``) assume it."""
    return _trust_admits_service(trust, service)


def cancelled_actions(policy: Policy) -> frozenset[str]:
    """The catalogue's actions (lower case) an Allow of ``policy`` grants that its own unconditional Deny
    statements cancel on every resource the catalogue's methods need them on (``Deny * *``: all of them)."""
    if not any(statement.effect == "Deny" and not statement.conditions for statement in policy.statements):
        return frozenset()
    judge = _Judge(policies=((THE_POLICY, policy),), boundary=None, principal=None, roles=None, lifting=False)
    kinds = _kinds_of_actions()
    return frozenset(
        action
        for action in judge._granting()
        if not any(judge.reach(action, kind).patterns for kind in kinds.get(action, ("",)))
    )


def is_risky_document(policy: Policy) -> bool:
    """Whether a policy version may not be restored as the default: admin-equivalent or escalating."""
    return assess(policy).risky


def admin_grants(policy: Policy) -> tuple[AdminGrant, ...]:
    """Allow statements granting ``*``, ``iam:*`` on every resource, NotAction, or a wildcard service."""
    return tuple(_admin_statements(THE_POLICY, policy))


def escalation_paths(policy: Policy) -> tuple[EscalationPath, ...]:
    """The methods this policy makes reachable on its own, with the grants that do it."""
    return assess(policy).escalations


# --- admin-equivalent statements ------------------------------------------------------------------


def _admin_statements(source: str, policy: Policy) -> Iterable[AdminGrant]:
    for statement in policy.statements:
        if not statement.allows:
            continue
        everywhere = _every_resource(statement)
        if statement.not_actions is not None:
            spared = ", ".join(statement.not_actions)
            yield AdminGrant(statement, f"allows every action except {spared} (Allow with NotAction)", True, source)
        elif everywhere and statement.grants_action("*"):
            yield AdminGrant(statement, "allows every action on every resource", True, source)
        elif everywhere and statement.grants_action("iam:*"):
            yield AdminGrant(statement, "allows every IAM action on every resource", True, source)
        elif (scanned := _scanned_actions(statement.actions or ()))[0]:
            wild = scanned[0]
            yield AdminGrant(statement, f"allows {', '.join(wild)} in every service the wildcard matches", True, source)
        elif everywhere:
            services = scanned[1]
            if services:
                yield AdminGrant(
                    statement, f"allows every action of {', '.join(services)} on every resource", False, source
                )


#: How many Action lists ``_scanned_actions`` keeps, by content (a managed policy such as ``ReadOnlyAccess`` lists
#: some 3,000 actions in three statements, and a warm container judges the same held policies on every event:
#: scanning them was most of a warm live-context judgement). Lists shorter than ``SCANNED_ACTIONS_MIN_LENGTH`` cost
#: less to scan than to keep, and a cut plan's one-entry lists would push the long ones out (review s16 F1).
SCANNED_ACTIONS_CACHE_SIZE = 1024
SCANNED_ACTIONS_MIN_LENGTH = 16
_SCANNED_ACTIONS: dict[tuple[str, ...], tuple[tuple[str, ...], tuple[str, ...]]] = {}


def _scanned_actions(actions: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The entries of an Action list with a wildcard in the service prefix (``_wildcard_service``), and the
    services it grants whole (``svc:*``), sorted: what ``_admin_statements`` reads of it, kept per list content."""
    found = _SCANNED_ACTIONS.get(actions)
    if found is None:
        wild = tuple(action for action in actions if _wildcard_service(action))
        services = tuple(sorted({action.split(":", 1)[0] for action in actions if action.endswith(":*")}))
        found = (wild, services)
        if len(actions) < SCANNED_ACTIONS_MIN_LENGTH:
            return found
        if len(_SCANNED_ACTIONS) >= SCANNED_ACTIONS_CACHE_SIZE:
            del _SCANNED_ACTIONS[next(iter(_SCANNED_ACTIONS))]
        _SCANNED_ACTIONS[actions] = found
    return found


def _wildcard_service(action: str) -> bool:
    """``*:Get*`` or ``i*:*``: a wildcard in the service prefix reaches services nobody reviewed."""
    service, colon, _ = action.partition(":")
    return bool(colon) and any(ch in service for ch in "*?")


def _every_resource(statement: Statement) -> bool:
    """Resource ``*`` (or an all-wildcard ARN), or NotResource: the statement reaches (nearly) everything."""
    if statement.not_resources is not None:
        return True
    return any(_is_everything(resource) for resource in statement.resources or ())


def _is_everything(resource: str) -> bool:
    if resource == "*":
        return True
    parts = resource.split(":", 5)
    return len(parts) == 6 and parts[0] == "arn" and all(part in ("*", "") for part in parts[2:5]) and parts[5] == "*"


# --- the judgement --------------------------------------------------------------------------------


class _Reached(NamedTuple):
    """Resources through which an action is effectively allowed: display text, and the pattern to match."""

    shown: tuple[str, ...]
    patterns: tuple[str, ...]
    granted_by: tuple[str, ...]
    #: For each pattern, the policy variables it was read through as ``*`` (``_Judge._guessed``): what is unknown.
    guesses: tuple[tuple[str, ...], ...] = ()


class _Shared:
    """What one ``assess_principal`` call learns once and reuses down the chain of roles it follows."""

    def __init__(self) -> None:
        self.risks: dict[str, PolicyRisk | None] = {}
        self.principals: dict[str, PrincipalPolicies | None] = {}
        self.admin: dict[str, str | None] = {}
        self.lookups: dict[tuple[str, str], tuple[str, ...] | None] = {}
        #: Resource pattern -> what the directory could not read behind it (regions, a cap): unknown.
        self.unread: dict[str, tuple[str, ...]] = {}
        #: Role ARN -> the users its trust policy may let in, and what could not be known of them.
        self.trusted_users: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        #: (role ARN, user ARN) -> how the user may assume the role (None: it may not; "?<fact>": unknown).
        self.assumes: dict[tuple[str, str], str | None] = {}


def _judge_principal(
    principal: PrincipalPolicies,
    roles: RoleDirectory | None,
    visiting: frozenset[str],
    shared: _Shared,
) -> PolicyRisk:
    policies = tuple((named.source, named.policy) for named in principal.policies)
    judge = _Judge(
        policies=policies,
        boundary=principal.boundary,
        principal=principal,
        roles=roles,
        visiting=visiting | {principal.principal_arn},
        shared=shared,
    )
    return judge.risk()


class _Judge:
    """One principal's (or one document's) policies, judged once: effective grants, admin, methods."""

    def __init__(
        self,
        *,
        policies: tuple[tuple[str, Policy], ...],
        boundary: Policy | None,
        principal: PrincipalPolicies | None,
        roles: RoleDirectory | None,
        visiting: frozenset[str] = frozenset(),
        shared: _Shared | None = None,
        lifting: bool = True,
    ) -> None:
        self.policies = policies
        self.lifting = lifting
        self.boundary = boundary
        self.principal = principal
        self.roles = roles
        self.visiting = visiting
        self.shared = _Shared() if shared is None else shared
        self.denies = [
            statement
            for _, policy in (*policies, *(((None, boundary),) if boundary is not None else ()))
            for statement in policy.statements
            if statement.effect == "Deny" and not statement.conditions
        ]
        self.allows = [
            (source, statement)
            for source, policy in policies
            for statement in policy.statements
            if statement.allows and not _expired(statement)
        ]
        self._reach_cache: dict[tuple[str, str, str | None], _Reached] = {}
        self._index: dict[str, tuple[int, ...]] | None = None
        self._alike_cache: dict[tuple[tuple[int, ...], str, str], _Reached] = {}
        self._grants: dict[tuple[str, str, str | None], tuple[_Reached, Grant]] = {}
        self._offline: dict[tuple[str, tuple[str, ...]], tuple[tuple[LeadsTo, ...], tuple[str, ...]]] = {}
        #: Passed roles kept only because the holder may add them to an instance profile, a grant read through a
        #: variable (``_allowed_on_kind_read``): what that rests on.
        self._profile_guesses: dict[str, tuple[str, ...]] = {}
        fields = principal.principal_arn.split(":", 5) if principal is not None else []
        self.partition = fields[1] if len(fields) == 6 else "aws"
        self.account = fields[4] if len(fields) == 6 else "*"
        #: Resource patterns with their policy variables replaced (``_as_allowed``/``_as_denied``), by text.
        self._variables: dict[tuple[str, bool], str | None] = {}
        #: An Allow's resource text -> the variables it holds that were read as ``*`` (their values unknown).
        self._guessed: dict[str, tuple[str, ...]] = {}

    # policy variables

    def _as_allowed(self, pattern: str) -> str | None:
        """An Allow's (or the boundary's) resource ``pattern`` with its variables replaced by what they are for the
        holder, and any other by ``*``: a variable may take any value the caller controls (a tag it sets), so it
        reaches at most what a wildcard there does. None: it names nothing for this holder."""
        return pattern if "${" not in pattern else self._resolved(pattern, allow=True)

    def _as_denied(self, pattern: str) -> str | None:
        """A Deny's resource ``pattern`` with its variables replaced by what they certainly are for the holder, or
        None when one cannot be known: such a Deny is not read as covering anything (it may cover less)."""
        return pattern if "${" not in pattern else self._resolved(pattern, allow=False)

    def _resolved(self, pattern: str, *, allow: bool) -> str | None:
        key = (pattern, allow)
        if key not in self._variables:
            unknown: list[str] = []

            own_user_only = names_own_user_only(pattern)

            def value(name: str, default: str | None) -> str | None:
                found = self._variable(name, default, allow=allow, own_user_only=own_user_only)
                if found == "*" and allow and name != "aws:principalaccount":
                    unknown.append(name)  # read as any value: what it is for the holder is not known
                return found

            self._variables[key] = resolve(pattern, value)
            if unknown:
                self._guessed[pattern] = tuple(dict.fromkeys(unknown))
        return self._variables[key]

    def _guesses(self, resource: str) -> tuple[str, ...]:
        """What is unknown about an Allow's resource read through variables as ``*`` (``_as_allowed`` first)."""
        names = self._guessed.get(resource, ()) if "${" in resource else ()
        if not names:
            return ()
        spelled = {match.group(1).lower(): match.group(1) for match in variable_pattern().finditer(resource)}
        holder = principal_label(self.principal.principal_arn) if self.principal is not None else "the holder"
        return tuple(
            f"what ${{{spelled.get(name, name)}}} is in the requests of {holder} (a policy variable in {resource}: "
            "read as any value)"
            for name in names
        )

    def _variable(self, name: str, default: str | None, *, allow: bool, own_user_only: bool = False) -> str | None:
        """What variable ``name`` (lower case) stands for in the holder's requests (IAM User Guide, "IAM policy
        elements: Variables and tags"): its account; a user's own name (so ``user/${aws:username}*`` is matched as
        ``user/bob*``, which names ``bob-admin`` too: review engine s10, finding 1); a role's default for
        ``aws:username`` (roles have no user name; without a default the resource names nothing: review engine s10,
        finding 8c). With the user not known (a group's or a document's), only the
        exact own-user resource (``names_own_user_only``) keeps ``${aws:username}`` (the self reading); anywhere
        else it is any value. Anything else is ``*`` in an Allow and unknown (None) in a Deny."""
        if name == "aws:principalaccount":
            if self.account != "*":
                return self.account
            if not allow:
                return _HOLDER_ACCOUNT  # covers an ``iam:`` action's own account (``_acted_on``), nothing else
            return "*"
        if name == "aws:username":
            if self.principal is not None and self.principal.kind == "user":
                return self.principal.principal_arn.rsplit("/", 1)[-1]
            if self.principal is not None and self.principal.kind == "role":
                return default  # a role's session has no user name: with no default the resource names nothing
            if own_user_only:
                return _SELF
        return "*" if allow else None

    # effective grants

    def _granting(self) -> dict[str, tuple[int, ...]]:
        """The catalogue's actions (lower case) the Allow statements grant, each with the numbers (in
        ``allows``) of the statements granting it (``catalogue_actions_covered``, matched once per Action list)."""
        if self._index is not None:
            return self._index
        index: dict[str, tuple[int, ...]] = {}
        for number, (_, statement) in enumerate(self.allows):
            covered = catalogue_actions_covered(statement.actions, statement.not_actions)
            alone = (number,)
            if not index:
                index = dict.fromkeys(covered, alone)
                continue
            for action in covered:
                found = index.get(action)
                index[action] = alone if found is None else found + alone
        self._index = index
        return index

    def reach(self, action: str, kind: str, passed_to: str | None = None) -> _Reached:
        """Where ``action`` is effectively allowed on a resource of ``kind``: Deny and boundary applied.

        ``passed_to``: the service a passed role goes to (``lambda.amazonaws.com``); an ``iam:PassRole`` Allow
        whose ``iam:PassedToService`` condition does not admit it grants nothing for that method.
        """
        key = (action.lower(), kind, passed_to)
        if (cached := self._reach_cache.get(key)) is not None:
            return cached
        granting = self._granting().get(key[0], ())
        if passed_to is not None:
            granting = tuple(number for number in granting if _passes_to(self.allows[number][1], passed_to))
        # Without a Deny or a boundary, the answer depends only on which statements grant the action and on
        # the resource kind (for an action of any resource, its service): ``iam:PassRole`` and
        # ``iam:CreateAccessKey`` granted by one ``*`` share it.
        alike = (
            (granting, kind, "" if kind else key[0].partition(":")[0])
            if not self.denies and self.boundary is None
            else None
        )
        if alike is not None and (same := self._alike_cache.get(alike)) is not None:
            self._reach_cache[key] = same
            return same
        shown: list[str] = []
        patterns: list[str] = []
        guesses: list[tuple[str, ...]] = []
        by: list[str] = []
        allows = self.allows
        iam_action = key[0].startswith("iam:")
        for number in granting:
            source, statement = allows[number]
            granted = False
            candidates: list[tuple[str, str | None]]
            if statement.not_resources is not None:
                candidates = [("NotResource " + " and ".join(statement.not_resources), "*")]
            else:
                candidates = [(resource, self._as_allowed(resource)) for resource in statement.resources or ()]
            for text, resolved in candidates:
                if resolved is None:
                    continue  # a variable with no value for this holder: the resource names nothing
                pattern = resolved
                if not _could_name(pattern, kind, action) or self._denied(action, pattern, kind):
                    continue
                if iam_action and _of_another_account(pattern, self.account):
                    continue  # IAM acts only in the caller's account: another account's roles are out of reach
                effective, ceiling_guesses = self._within_boundary_read(action, pattern)
                if effective is None or not _could_name(effective, kind, action):
                    continue
                display = text if effective == pattern else f"{effective} (within the permissions boundary)"
                if display not in shown:
                    shown.append(display)
                    patterns.append(effective)
                    unresolved = self._unresolved_denies(action, pattern, kind)
                    guesses.append(tuple(dict.fromkeys((*self._guesses(text), *ceiling_guesses, *unresolved))))
                granted = True
            if granted:
                label = f"{statement.label} of {source}"
                if label not in by:
                    by.append(label)
        found = _Reached(tuple(shown), tuple(patterns), tuple(by), tuple(guesses))
        self._reach_cache[key] = found
        if alike is not None:
            self._alike_cache[alike] = found
        return found

    def _denied(self, action: str, pattern: str, kind: str = "") -> bool:
        """Whether an unconditional Deny covers ``action`` on every resource ``pattern`` can name.

        The Deny must cover the Allow's pattern as a pattern (``role/?`` does not cover ``role/*``), on the
        resources the Allow can reach for this holder (``_acted_on``: ``*`` for ``iam:PutRolePolicy`` is the
        holder's account's roles, which ``Deny … arn:aws:iam::111122223333:*`` covers). Against a NotResource,
        ``*`` is only the resources ``action`` can act on (of ``kind``, else of its service):
        ``Deny * NotResource arn:aws:s3:::logs/*`` spares no IAM resource; a spared pattern that may overlap
        them spares them.
        """
        acted_on: str | None = None
        for statement in self.denies:
            if not statement.grants_action(action):
                continue
            if statement.resources is not None:
                for deny in statement.resources:
                    if deny == "*":
                        return True
                    if acted_on is None:
                        acted_on = self._acted_on(action, pattern, kind)
                    covering = self._as_denied(deny)
                    if covering is not None and _covers(covering, acted_on):
                        return True
            elif statement.not_resources is not None:
                # The resources the Allow acts on for this holder (an ``iam:`` action: its own account), so a
                # Deny sparing only another account's IAM resources denies all of the holder's (finding 5).
                if acted_on is None:
                    acted_on = self._acted_on(action, pattern, kind)
                space = _service_space(action, kind) if acted_on == "*" else acted_on
                if self.account == "*":
                    space = space.replace(_HOLDER_ACCOUNT, "*")  # a spared literal account may be the holder's
                spared = [self._as_allowed(kept) for kept in statement.not_resources]
                if not any(kept is not None and _overlaps(kept, space) for kept in spared):
                    return True
        return False

    def _unresolved_denies(self, action: str, pattern: str, kind: str) -> tuple[str, ...]:
        """What is unknown about an Allow on ``pattern`` that an unconditional Deny with a variable IAM Warden cannot
        resolve (``${aws:PrincipalTag/home-account}``) covers no part of as written but would cover with the variable
        read as any value: whether the Deny cancels it rests on that value (review engine s10, finding 6)."""
        found: list[str] = []
        acted_on: str | None = None
        for statement in self.denies:
            if statement.resources is None or not statement.grants_action(action):
                continue
            for deny in statement.resources:
                if "${" not in deny or self._as_denied(deny) is not None:
                    continue
                widest = self._as_allowed(deny)
                if acted_on is None:
                    acted_on = self._acted_on(action, pattern, kind)
                if widest is not None and _covers(widest, acted_on.replace(_HOLDER_ACCOUNT, "*")):
                    names = ", ".join(f"${{{match.group(1)}}}" for match in variable_pattern().finditer(deny))
                    holder = principal_label(self.principal.principal_arn) if self.principal else "the holder"
                    found.append(
                        f"whether the Deny of {action} on {deny} covers it: the value of {names} in the requests of "
                        f"{holder} is not known"
                    )
        return tuple(found)

    def _acted_on(self, action: str, pattern: str, kind: str) -> str:
        """The resources an Allow on ``pattern`` can reach for ``action`` as this holder, as a pattern.

        ``*`` is the action's resources of ``kind`` (an action of no known kind may be one that takes no ARN, which
        only a Deny on ``*`` covers). An IAM action acts only in the holder's own account and partition, on ARNs
        with no Region, so an IAM ARN pattern's wildcards there are narrowed to them.
        """
        iam_action = action.lower().startswith("iam:")
        if pattern == "*":
            if not kind:
                return "*"
            service, _, prefix = kind.partition(":")
            region = "" if service == "iam" else "*"
            account = self._iam_account() if iam_action else "*"
            return f"arn:{self.partition}:{service}:{region}:{account}:{prefix}*"
        fields = pattern.split(":", 5)
        if not iam_action or len(fields) != 6 or fields[0] != "arn":
            return pattern
        if wildcard_match(fields[1], self.partition):
            fields[1] = self.partition
        if wildcard_match(fields[3], ""):
            fields[3] = ""
        if wildcard_match(fields[4], self._iam_account()):
            fields[4] = self._iam_account()
        return ":".join(fields)

    def _iam_account(self) -> str:
        """The account an ``iam:`` action acts in: the holder's, or when it is not known, ``_HOLDER_ACCOUNT``."""
        return self.account if self.account != "*" else _HOLDER_ACCOUNT

    def _within_boundary(self, action: str, pattern: str) -> str | None:
        """The part of ``pattern`` the boundary allows too (the narrower pattern), or None."""
        return self._within_boundary_read(action, pattern)[0]

    def _within_boundary_read(self, action: str, pattern: str) -> tuple[str | None, tuple[str, ...]]:
        """``_within_boundary`` with what it rests on: a boundary resource holding a variable is read with it as
        ``*`` (the widest ceiling), so a pattern let through only by such a resource carries that variable as an
        unknown (``_guesses``): the boundary may well forbid it (review engine s10, finding 3). A boundary
        statement written literally that lets it through is preferred (then nothing is guessed)."""
        if self.boundary is None:
            return pattern, ()
        guessed: tuple[str | None, tuple[str, ...]] | None = None
        for statement in self.boundary.statements:
            if not statement.allows or not statement.grants_action(action):
                continue
            if statement.not_resources is not None:
                return pattern, ()
            for written in statement.resources or ():
                allowed = self._as_allowed(written)
                if allowed is None:
                    continue
                if allowed == "*" or _covers(allowed, pattern):
                    found = pattern
                elif _covers(pattern, allowed):
                    found = allowed
                elif _has_wildcard(allowed) and _has_wildcard(pattern):
                    found = pattern  # they may overlap: conservative
                else:
                    continue
                guesses = self._guesses(written)
                if not guesses:
                    return found, ()
                if guessed is None:
                    guessed = (found, guesses)
        return guessed if guessed is not None else (None, ())

    # admin

    def admin(self) -> tuple[AdminGrant, ...]:
        """Admin-equivalent statements that survive the Deny statements and the boundary."""
        kept: list[AdminGrant] = []
        for source, policy in self.policies:
            for grant in _admin_statements(source, policy):
                if self._admin_survives(grant.statement, critical=grant.critical):
                    guessed = not self._admin_survives(grant.statement, critical=grant.critical, widest=True)
                    kept.append(grant._replace(unknown=self._unresolved_guards()) if guessed else grant)
        return tuple(kept)

    def _unresolved_guards(self) -> tuple[str, ...]:
        """What is unknown about an admin grant that an unconditional Deny with a variable IAM Warden cannot resolve
        would cancel were the variable any value: one fact per such Deny resource (review engine s10, finding 6)."""
        holder = principal_label(self.principal.principal_arn) if self.principal else "the holder"
        found: list[str] = []
        for deny in self.denies:
            for resource in deny.resources or ():
                if "${" not in resource or self._as_denied(resource) is not None:
                    continue
                widest = self._as_allowed(resource) or ""
                if not _is_everything(widest) and not self._covers_iam((resource,), widest=True):
                    continue
                names = ", ".join(f"${{{match.group(1)}}}" for match in variable_pattern().finditer(resource))
                found.append(
                    f"whether {deny.label} (Deny on {resource}) cancels the admin grant: the value of {names} in "
                    f"the requests of {holder} is not known"
                )
        return tuple(dict.fromkeys(found))

    def _as_guard(self, resource: str, *, widest: bool) -> str | None:
        """A Deny's resource as the resources it covers: as written (``_as_denied``, an unresolved variable covers
        nothing), or with ``widest`` an unresolved variable read as any value (``_as_allowed``)."""
        covering = self._as_denied(resource)
        if covering is None and widest:
            return self._as_allowed(resource)
        return covering

    def _admin_survives(self, statement: Statement, *, critical: bool, widest: bool = False) -> bool:
        """Whether what the unconditional Deny statements leave of ``statement``'s actions is still admin-equivalent
        and, with a boundary, allowed by it on every resource.

        A Deny on every resource removes the actions it names; one with NotAction keeps only those it spares
        (``Allow *`` less ``Deny NotAction s3:GetObject`` grants ``s3:GetObject``, no admin); one with a NotResource
        that spares no "every resource" leaves the grant on the spared resources alone, no admin either.
        ``widest``: a Deny resource holding a variable IAM Warden cannot resolve is read with it as any value.
        """
        granted = statement.actions if statement.actions is not None else ("*",)
        left = list(granted)
        for deny in self.denies:
            denied = deny.actions
            if deny.resources is not None:
                if not any(
                    _is_everything(resource if not widest else (self._as_guard(resource, widest=True) or ""))
                    for resource in deny.resources
                ):
                    if denied is None or not self._covers_iam(deny.resources, widest=widest):
                        continue
                    denied = _iam_part(denied)  # a guard on every IAM resource of the holder's account
            elif deny.not_resources is None or any(_is_everything(spared) for spared in deny.not_resources):
                continue
            if denied is not None:
                left = [action for action in left if not any(action_matches(d, action) for d in denied)]
            elif deny.not_actions is not None:
                left = _spared_actions(left, deny.not_actions)
        if left != list(granted) and not any(
            grant.critical or not critical for grant in _admin_statements(THE_POLICY, _allowing(statement, tuple(left)))
        ):
            return False
        for action in left:
            if self.boundary is None or any(
                boundary.allows
                and boundary.actions is not None
                and any(action_matches(allowed, action) for allowed in boundary.actions)
                and _every_resource(boundary)
                for boundary in self.boundary.statements
            ):
                return True
        return False

    def _covers_iam(self, resources: tuple[str, ...], *, widest: bool = False) -> bool:
        """Whether a Deny on ``resources`` covers every IAM resource the holder can act on (``arn:aws:iam::*:*``,
        its own account's ``arn:aws:iam::111122223333:*``, ``${aws:PrincipalAccount}`` there): IAM acts only in the
        caller's account (the actions IAM has that take no ARN, the ``List…`` ones, are no admin power)."""
        space = f"arn:{self.partition}:iam::{self._iam_account()}:*"
        return any(
            (covering := self._as_guard(resource, widest=widest)) is not None
            and _covers(covering, space.replace(_HOLDER_ACCOUNT, "*") if widest else space)
            for resource in resources
        )

    # methods

    def risk(self) -> PolicyRisk:
        admin = self.admin()
        possible = self._granting().keys()
        paths = [
            path
            for method, needed in _methods_by_actions()
            if method.reach != "lifts-restraint" and needed <= possible and (path := self.path(method)) is not None
        ]
        if self.lifting and (lifted := self._lifted()) is not None:
            paths.extend(self._unlocked(admin, paths, *lifted))
        doubts = (*(fact for grant in admin for fact in grant.unknown), *(fact for p in paths for fact in p.unknown))
        unknown = tuple(dict.fromkeys(doubts))
        return PolicyRisk(admin, tuple(paths), unknown)

    def path(self, method: EscalationMethod) -> EscalationPath | None:
        if method.reach == "writes-assumer" and (self.principal is None or self.principal.kind != "role"):
            return None  # only a role is assumed; a document judged alone holds the method on itself already
        reached: dict[str, _Reached] = {}
        granted: list[Grant] = []
        service = _passed_to(method)
        for action, kind in method.actions.items():
            # Many methods share their actions: each (action, kind) is reached, and made a grant, once per judge.
            to = service if service is not None and action == method.target else None
            known = self._grants.get((action, kind, to))
            if known is None:
                found = self.reach(action, kind, to)
                known = self._grants[(action, kind, to)] = (found, Grant(action, found.shown, found.granted_by))
            if not known[0].patterns:
                return None
            reached[action] = known[0]
            granted.append(known[1])
        if method.same_resource and not _overlap(*(reached[action].patterns for action in method.same_resource)):
            return None
        target = reached[method.target] if method.target is not None else None
        leads: tuple[LeadsTo, ...] = ()
        unknown: tuple[str, ...] = ()
        narrowed: str | None = None  # the target action, when its resources were narrowed to others'
        if method.reach == "modifies-other" and (assume := _assume_action(method)) is not None:
            # With a same-resource method the role assumed is the one modified: it must be named by both.
            also = tuple(reached[action].patterns for action in method.same_resource if action != assume)
            trusted = self._trusted(reached[assume].patterns, permitted=True, also=also)
            if trusted is None:
                return None
            unknown = (trusted,) if trusted else ()
        doing: str | None = None
        if method.reach == "self" and target is not None:
            itself = self._names_itself(method, target.patterns)
            if itself is None:
                return None
            unknown = (itself,) if itself else ()
            doing = self._on_another_role(method, target.patterns)
            if (method.target or "").lower() == "iam:addusertogroup":
                joined = self._groups_joined(target.patterns)
                if joined is None:
                    return None
                leads, unknown, doing = joined
        elif method.reach == "becomes-other" and target is not None:
            # A role rewriting its own trust policy lets in whom it likes: certain, wherever else it reaches.
            if not self._rewrites_own_trust(method, target.patterns):
                others = self._others(method, target)
                if not others.patterns:
                    return None
                reached[method.target or ""] = others
                narrowed = method.target
                if self.roles is not None and method.actions[method.target or ""] == "iam:role/":
                    outcome = self._where_roles_lead(method, others.patterns, self._roles_matching)
                    if outcome is None:
                        return None
                    leads, unknown = outcome
        elif method.reach == "writes-assumer" and target is not None and self.principal is not None:
            outcome = self._assumers_reached(method, target.patterns, self.principal)
            if outcome is None:
                return None
            leads, unknown = outcome
        elif method.reach == "assumes-role" and target is not None:
            # PMapper's STS edge: a role the holder may assume whose trust lets it in, and that can do more.
            outcome = self._where_roles_lead(method, target.patterns, self._roles_admitting)
            if outcome is None:
                return None
            leads, unknown = outcome
        elif method.reach in ("passes-role", "existing-resource") and target is not None:
            finder = self._roles_matching if method.reach == "passes-role" else self._roles_behind
            outcome = self._where_roles_lead(method, target.patterns, finder)
            if outcome is None:
                return None
            leads, unknown = outcome
        if narrowed is not None:
            granted = [
                Grant(action, reached[action].shown, reached[action].granted_by) if action == narrowed else grant
                for action, grant in zip(method.actions, granted, strict=True)
            ]
        for found in reached.values():
            if found.guesses and all(found.guesses):  # every resource it reaches rests on a variable's value
                unknown = tuple(dict.fromkeys((*unknown, *(fact for facts in found.guesses for fact in facts))))
        return EscalationPath(method, tuple(granted), leads, unknown, doing)

    # where a method leads

    def _on_another_role(self, method: EscalationMethod, patterns: tuple[str, ...]) -> str | None:
        """What a self method on roles does when none of its patterns can name the holder: it writes another
        role, which helps only if the holder can become it (not "its own role"); None: the description holds."""
        said = _ON_ANOTHER_ROLE.get((method.target or "").lower())
        if said is None or self.principal is None:
            return None
        holder = self.principal.principal_arn
        if self.principal.kind == "role" and any(_names(pattern, holder) for pattern in patterns):
            return None
        return said.format(named=" or ".join(patterns))

    def _groups_joined(
        self, patterns: tuple[str, ...]
    ) -> tuple[tuple[LeadsTo, ...], tuple[str, ...], str | None] | None:
        """Where a user's ``iam:AddUserToGroup`` leads: the groups it may join that are admin-equivalent or give it
        a further method, what could not be known, and what it can do (``add itself to group readers``); None:
        every group it names is weaker (judged with a directory only; without one, or with a wildcard, any
        group may be an administrators group, as before)."""
        exact = [pattern for pattern in patterns if not _has_wildcard(pattern)]
        if len(exact) < len(patterns):
            return (), (), None  # a wildcard: any group it matches, an administrators group too
        names = " and ".join(f"group {pattern.rsplit('/', 1)[-1]}" for pattern in exact)
        doing = f"add itself to {names}"
        if self.roles is None or self.principal is None:
            return (), (), doing  # no directory: what the groups hold is not known; the grant decides, as before
        leads: list[LeadsTo] = []
        unknown: list[str] = []
        for group_arn in exact:
            why = self._group_gives(group_arn)
            if why is None:
                continue
            if why.startswith("?"):
                unknown.append(why[1:])
            else:
                leads.append(LeadsTo(group_arn, why))
        if leads:
            return tuple(leads[:MAX_LEADS]), (), doing
        if unknown:
            return (), tuple(unknown[:MAX_LEADS]), doing
        return None

    def _group_gives(self, group_arn: str) -> str | None:
        """Why joining group ``group_arn`` gives the holder more (admin-equivalent, a further method of its
        own); ``"?<fact>"`` when the group's policies could not be read; None: it gives nothing stronger."""
        if group_arn in self.visiting or self.principal is None:
            return None
        group = self._policies_of(group_arn)
        if group is None:
            return f"?what {principal_label(group_arn)} holds (its policies could not be read)"
        name = group_arn.rsplit("/", 1)[-1]
        holder = self.principal
        judge = _Judge(
            policies=tuple((f"group {name}: {named.source}", named.policy) for named in group.policies),
            boundary=holder.boundary,
            principal=holder._replace(policies=()),
            roles=self.roles,
            visiting=self.visiting | {group_arn},
            shared=self.shared,
            lifting=False,
        )
        if critical := [grant for grant in judge.admin() if grant.critical]:
            return f"is admin-equivalent ({critical[0].statement.label} of {critical[0].source} {critical[0].why})"
        if certain := [path for path in judge.risk().escalations if path.certain]:
            return f"gives it a further method ({certain[0].method.name})"
        return None

    def _names_itself(self, method: EscalationMethod, patterns: tuple[str, ...]) -> str | None:
        """Whether a self method's resources name the holder (its ARN, groups, managed policies).

        ``""``: they do; ``None``: they do not; other text: the fact that would tell (unknown).
        """
        kind = method.actions[method.target or ""]
        if self.principal is None:
            return ""  # the holder is unknown: the resources could name it
        holder = self.principal.principal_arn
        holder_kind = self.principal.kind
        if kind == "iam:policy/":
            attached = [source.rsplit(": ", 1)[-1] for source, _ in self.policies]
            attached = [arn for arn in attached if arn.startswith("arn:") and ":policy/" in arn]
            return "" if any(_overlap(patterns, (arn,)) for arn in attached) else None
        if kind == "iam:group/":
            if holder_kind != "user":
                return None
            if (method.target or "").lower() == "iam:addusertogroup":
                return ""  # it can add itself to any group it reaches: an administrators group too
            groups = [
                f"arn:{self.partition}:iam::{self.account}:group/{source[6:].split(':', 1)[0]}"
                for source, _ in self.policies
                if source.startswith("group ")
            ]
            if any(_names(pattern, group) for pattern in patterns for group in groups):
                return ""
            if any(_has_wildcard(pattern) for pattern in patterns):
                named = " or ".join(patterns)
                return f"whether {principal_label(holder)} is in a group {named} names (none of its policies says)"
            return None
        name = holder.rsplit("/", 1)[-1]
        if kind == f"iam:{holder_kind}/" and any(_names(_SELF_PATTERN.sub(name, p), holder) for p in patterns):
            return ""
        if kind == "iam:role/":
            # Another role's permissions help only if the holder can become it: a trust policy naming the
            # holder itself lets it in without sts:AssumeRole, and only the role's trust policy tells.
            return self._trusted(patterns, permitted=False)
        return None

    def _rewrites_own_trust(self, method: EscalationMethod, patterns: tuple[str, ...]) -> bool:
        """A role allowed ``iam:UpdateAssumeRolePolicy`` on itself (or ``*``) escalates by itself."""
        if self.principal is None or self.principal.kind != "role":
            return False
        if (method.target or "").lower() != "iam:updateassumerolepolicy":
            return False
        return any(_names(pattern, self.principal.principal_arn) for pattern in patterns)

    # trust policies: whether the holder can become another role

    def _trusted(
        self, patterns: tuple[str, ...], *, permitted: bool, also: tuple[tuple[str, ...], ...] = ()
    ) -> str | None:
        """Whether a role ``patterns`` name lets the holder in, by the roles' trust policies.

        ``""``: one does; ``None``: every one read does not; other text: the fact that would tell.
        ``permitted``: the holder is allowed ``sts:AssumeRole`` on them (else only its own allowance counts,
        looked up per role): then a trust in its account (``:root``) lets it in too, not only one naming it.
        ``also``: other resource patterns each role must be named by too (the role a method modifies).
        """
        if self.principal is None:
            return ""  # the holder is unknown: the grant decides, as it always has
        holder = self.principal.principal_arn
        named = " or ".join(patterns)
        unknown = f"whether a role {named} names trusts {principal_label(holder)} directly (its trust policy decides)"
        if self.roles is None:
            return "" if permitted else unknown  # no authorization details: the grant decides, as before
        arns: list[str] = []
        for pattern in patterns:
            found = self._roles_matching(self._typed(pattern, "iam:role/"))
            if found is None:
                return unknown
            arns.extend(arn for arn in found if arn != holder and arn not in arns)
        arns = [arn for arn in arns if all(any(_names(p, arn) for p in others) for others in also)]
        if not arns:
            return "" if permitted else unknown  # no such role yet: as before, the grant decides
        facts: list[str] = []
        if len(arns) > MAX_TRUSTS:
            facts.append(
                f"whether one of {len(arns) - MAX_TRUSTS} more roles {named} names trusts {principal_label(holder)}"
            )
        for arn in arns[:MAX_TRUSTS]:
            found_role = self._policies_of(arn)
            trust = found_role.trust if found_role is not None else None
            if trust is None:
                facts.append(
                    f"whether {principal_label(arn)} trusts {principal_label(holder)} "
                    "(its trust policy could not be read)"
                )
                continue
            allowed = permitted or any(_names(p, arn) for p in self.reach("sts:AssumeRole", "iam:role/").patterns)
            if _trust_lets_in(trust, holder, self.partition, self.account, permitted=allowed):
                return ""
        return "; ".join(facts[:MAX_LEADS]) if facts else None

    # users who can assume the holder (a role), and what it writes of theirs

    def _assumers_reached(
        self, method: EscalationMethod, patterns: tuple[str, ...], holder: PrincipalPolicies
    ) -> tuple[tuple[LeadsTo, ...], tuple[str, ...]] | None:
        """The users who can assume the holder (a role) that ``patterns`` reach, themselves or through a group
        they are in, each of whom then gives itself anything through the role; what could not be known; None:
        no such user (a trust that admits only services, a grant on other users only)."""
        role = holder.principal_arn
        label = principal_label(role)
        # A role's session has no aws:username: a pattern built on it names no user.
        patterns = tuple(pattern for pattern in patterns if _SELF not in pattern.lower())
        if not patterns:
            return None
        named = " or ".join(patterns)
        kind = method.actions[method.target or ""]
        if self.roles is None:
            reaches = (
                ""
                if (method.target or "").lower() == "iam:addusertogroup"
                else f", and whether {named} names one" + (" of their groups" if kind == "iam:group/" else "")
            )
            return (), (f"which users can assume {label}{reaches} (no authorization details)",)
        trust = holder.trust
        if trust is None:
            return (), (f"which users can assume {label} (its trust policy could not be read)",)
        users, facts = self._trusted_users(role, trust)
        unknown = list(facts)
        leads: list[LeadsTo] = []
        read = 0
        for user_arn in users:
            if kind == "iam:user/" and not any(_names(pattern, user_arn) for pattern in patterns):
                continue  # the grant does not reach this user: nothing to read
            if read == MAX_TRUSTS:
                unknown.append(f"whether more users who can assume {label} are among {named}")
                break
            read += 1
            how = self._assumes(role, trust, user_arn)
            if how is None or self._admin_equivalent(user_arn):
                continue  # it cannot assume the role, or has everything already
            if how.startswith("?"):
                unknown.append(how[1:])
                continue
            user = self._policies_of(user_arn)
            gain = self._gain(method, kind, patterns, user) if user is not None else None
            if gain is None:
                continue
            if gain.startswith("?"):
                unknown.append(gain[1:])
                continue
            leads.append(LeadsTo(user_arn, f"can assume {label} ({how}) and, through it, {gain}"))
            if len(leads) == MAX_LEADS:
                break
        if leads:
            return tuple(leads), ()  # a user gains through the role: certain, whatever else is unknown
        if not unknown:
            return None
        facts_said = list(dict.fromkeys(unknown))
        if len(facts_said) > MAX_LEADS:
            facts_said = [*facts_said[:MAX_LEADS], f"and {len(facts_said) - MAX_LEADS} more"]
        return (), tuple(facts_said)

    def _trusted_users(self, role: str, trust: Policy) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The users of the role's account its trust policy may let in: those it names, and, when it admits the
        account (or everyone), every user of the account (``ListsUsers``); what could not be listed."""
        if role in self.shared.trusted_users:
            return self.shared.trusted_users[role]
        root = (self.account, f"arn:{self.partition}:iam::{self.account}:root")
        prefix = f"arn:{self.partition}:iam::{self.account}:user/"
        named: list[str] = []
        account_wide = False
        for statement in trust.statements:
            if not statement.allows or not statement.grants_action("sts:AssumeRole"):
                continue
            principal = statement.principal
            if statement.not_principal is not None or (principal is not None and principal.everyone):
                account_wide = True
                continue
            for entry in principal.aws if principal is not None else ():
                if entry in root or entry == "*":  # ``{"AWS": "*"}`` is everyone, as ``"*"`` is
                    account_wide = True
                elif entry.startswith(prefix) and entry not in named:
                    named.append(entry)
        facts: tuple[str, ...] = ()
        if account_wide:
            listed = self.roles.users_of(self.account) if isinstance(self.roles, ListsUsers) else None
            if listed is None:
                facts = (
                    f"which users of account {self.account} hold sts:AssumeRole on {principal_label(role)} "
                    "(its trust policy admits the account; its users could not be listed)",
                )
            else:
                named.extend(arn for arn in listed if arn not in named)
        found = self.shared.trusted_users[role] = (tuple(named), facts)
        return found

    def _assumes(self, role: str, trust: Policy, user_arn: str) -> str | None:
        """How the user may assume the role: ``its trust policy names it``, or through its account with its own
        ``sts:AssumeRole``; None when it may not (an unconditional Deny of its own, no grant); ``"?<fact>"``."""
        key = (role, user_arn)
        if key in self.shared.assumes:
            return self.shared.assumes[key]
        user = self._policies_of(user_arn)
        how: str | None
        if user is None:
            how = (
                f"?whether {principal_label(user_arn)} can assume {principal_label(role)} "
                "(its policies could not be read)"
            )
        else:
            allowance = assume_allowance(user, role)
            if allowance.denied or not _trust_lets_in(
                trust, user_arn, self.partition, self.account, permitted=allowance.allowed
            ):
                how = None
            elif _trust_names(trust, user_arn):
                how = "its trust policy names it"
            else:
                granted = "; ".join(allowance.granted_by)
                how = f"its trust policy admits the account, and it is allowed sts:AssumeRole on it ({granted})"
        self.shared.assumes[key] = how
        return how

    def _gain(
        self, method: EscalationMethod, kind: str, patterns: tuple[str, ...], user: PrincipalPolicies
    ) -> str | None:
        """What the user gives itself through the holder's grant on ``patterns``; None: the grant does not reach
        it; ``"?<fact>"``: whether it does is not known (groups the reader did not list)."""
        action = (method.target or "").lower()
        if kind == "iam:user/":
            if action == "iam:attachuserpolicy":
                return "attach itself any managed policy"
            return "write itself a policy granting anything"
        if action == "iam:addusertogroup":
            wide = any(_has_wildcard(pattern) for pattern in patterns)
            return f"add itself to any group {' or '.join(patterns)} names" + (
                ", an administrators group too" if wide else ""
            )
        verb = (
            "attach any managed policy to"
            if action == "iam:attachgrouppolicy"
            else "write a policy granting anything on"
        )
        groups = user.groups
        if groups is None:  # the groups it holds policies through, at least
            groups = tuple(
                f"arn:{self.partition}:iam::{self.account}:group/{named.source[6:].split(':', 1)[0]}"
                for named in user.policies
                if named.source.startswith("group ")
            )
        for group in groups:
            if any(_names(pattern, group) for pattern in patterns):
                return f"{verb} its group {group.rsplit('/', 1)[-1]}"
        if user.groups is not None:
            return None
        exact = [pattern for pattern in patterns if not _has_wildcard(pattern)]
        if exact and isinstance(self.roles, GroupMembers):
            for pattern in exact:
                members = self.roles.members_of(pattern)
                if members is not None and user.principal_arn in members:
                    return f"{verb} its group {pattern.rsplit('/', 1)[-1]}"
        if any(_has_wildcard(pattern) for pattern in patterns) or exact:
            return (
                f"?whether {principal_label(user.principal_arn)} is in a group {' or '.join(patterns)} names "
                "(its groups were not listed)"
            )
        return None

    # restraints the holder can remove itself (a Deny-holding policy, its permissions boundary)

    def _on_itself(self, action: str) -> Grant | None:
        """The holder's effective grant of ``action`` on its own ARN (``${aws:username}`` for a user), or None."""
        if self.principal is None:
            return None
        holder = self.principal.principal_arn
        name = holder.rsplit("/", 1)[-1]
        found = self.reach(action, f"iam:{self.principal.kind}/")
        if not any(_names(_SELF_PATTERN.sub(name, pattern), holder) for pattern in found.patterns):
            return None
        return Grant(action, found.shown, found.granted_by)

    def _on_itself_unknown(self, action: str) -> tuple[str, ...]:
        """What the holder's grant of ``action`` on itself (``_on_itself``) rests on and is not known: nothing when a
        resource naming it is read with nothing guessed, else the guesses (a Deny with an unresolved variable that may
        cover it: review engine s10, finding 6)."""
        if self.principal is None:
            return ()
        holder = self.principal.principal_arn
        name = holder.rsplit("/", 1)[-1]
        found = self.reach(action, f"iam:{self.principal.kind}/")
        guesses = found.guesses or ((),) * len(found.patterns)
        naming = [
            guessed
            for pattern, guessed in zip(found.patterns, guesses, strict=False)
            if _names(_SELF_PATTERN.sub(name, pattern), holder)
        ]
        if not naming or any(not guessed for guessed in naming):
            return ()
        return naming[0]

    def _without(self, *, source: str | None = None, boundary: bool = False) -> "_Judge":
        return _Judge(
            policies=tuple((named, policy) for named, policy in self.policies if named != source),
            boundary=None if boundary else self.boundary,
            principal=self.principal,
            roles=self.roles,
            visiting=self.visiting,
            shared=self.shared,
            lifting=False,
        )

    def _lifted(self) -> tuple["_Judge", tuple[tuple[EscalationMethod, Grant, str, tuple[str, ...]], ...]] | None:
        """The holder with every restraint it can remove from itself removed, and how (method, grant, what).

        A Deny counts as binding only where the holder cannot delete or detach the policy holding it, a
        permissions boundary only where it cannot delete or replace it (pathfinding.cloud iam-022, iam-024,
        iam-025, iam-026): each removal is judged with what is still in force, so one can open the next.
        """
        if self.principal is None or self.principal.kind not in ("user", "role"):
            return None
        kind = self.principal.kind.capitalize()
        name = self.principal.principal_arn.rsplit("/", 1)[-1]
        methods = _lift_methods()
        judge: _Judge = self
        steps: list[tuple[EscalationMethod, Grant, str, tuple[str, ...]]] = []
        for _ in range(MAX_LIFTS):
            lift: tuple[str, str | None, str] | None = None
            if judge.boundary is not None:
                for action in (f"iam:Delete{kind}PermissionsBoundary", f"iam:Put{kind}PermissionsBoundary"):
                    if judge._on_itself(action) is not None:
                        verb = "deletes" if "Delete" in action else "replaces"
                        lift = (action, None, f"{verb} its permissions boundary")
                        break
            for source, policy in () if lift is not None else judge.policies:
                if not any(s.effect == "Deny" and not s.conditions for s in policy.statements):
                    continue
                if source.startswith("arn:") and ":policy/" in source:
                    action, what = f"iam:Detach{kind}Policy", f"detaches managed policy {source}, which holds a Deny"
                elif source.startswith(f"inline {name}/"):
                    action, what = f"iam:Delete{kind}Policy", f"deletes {source} policy, which holds a Deny"
                else:
                    continue  # through a group, or another principal's: not removed from the holder itself
                if judge._on_itself(action) is not None:
                    lift = (action, source, what)
                    break
            if lift is None:
                break
            removing, removed, what = lift
            grant = judge._on_itself(removing)
            method = methods.get(removing.lower())
            if grant is None or method is None:
                break
            steps.append((method, grant, what, judge._on_itself_unknown(removing)))
            judge = judge._without(source=removed, boundary=removed is None)
        return (judge, tuple(steps)) if steps else None

    def _unlocked(
        self,
        admin: tuple[AdminGrant, ...],
        paths: list[EscalationPath],
        judge: "_Judge",
        steps: tuple[tuple[EscalationMethod, Grant, str, tuple[str, ...]], ...],
    ) -> list[EscalationPath]:
        """The removal as a path, when the holder without its removable restraints can do more than with them.
        A removal that a Deny with an unresolved variable may forbid keeps that unknown (finding 6)."""
        held = {(grant.source, grant.statement.position) for grant in admin if grant.certain or not grant.critical}
        removes = " and ".join(what for _, _, what, _ in steps)
        lift_grants = tuple(grant for _, grant, _, _ in steps)
        lift_unknown = tuple(dict.fromkeys(fact for _, _, _, unknown in steps for fact in unknown))
        holder = judge.principal.principal_arn if judge.principal is not None else ""
        for grant in judge.admin():
            if grant.certain and (grant.source, grant.statement.position) not in held:
                why = f"is admin-equivalent once it {removes} ({grant.statement.label} of {grant.source} {grant.why})"
                return [EscalationPath(steps[0][0], lift_grants, (LeadsTo(holder, why),), lift_unknown)]
        had = {path.method.name: path for path in paths}
        new = [
            path
            for path in judge.risk().escalations
            if path.method.name not in had or (path.certain and not had[path.method.name].certain)
        ]
        if not new:
            return []
        best = next((path for path in new if path.certain), new[0])
        why = f"can then {best.description} ({best.method.name}) once it {removes}"
        unknown = tuple(dict.fromkeys((*lift_unknown, *best.unknown)))
        return [EscalationPath(steps[0][0], lift_grants + best.grants, (LeadsTo(holder, why),), unknown)]

    def _still_reachable(self, method: EscalationMethod, candidates: list[str]) -> list[str]:
        """The roles a Deny or the boundary leaves the target action on (a Deny on ``role/admin-*`` of a PassRole
        on ``*`` keeps the passed role from being an admin one)."""
        target = method.target
        if target is None or method.reach not in ("passes-role", "becomes-other", "assumes-role"):
            return candidates
        return [arn for arn in candidates if not self._denied(target, arn) and self._within_boundary(target, arn)]

    def _usable(self, method: EscalationMethod, candidates: list[str]) -> list[str]:
        """The passed roles the method's service can use (PMapper's ec2/lambda/cloudformation/codebuild/sagemaker
        edges): the role's trust policy admits the service, and for EC2 the role is in an instance profile or the
        holder may add the role to one (``iam:AddRoleToInstanceProfile``: an empty profile may exist already).
        A role whose trust policy or instance profiles are not known is kept (the live directory reads a role's
        instance profiles only here, when the role came without them: ``ListsInstanceProfiles``)."""
        service = _passed_to(method) if method.reach == "passes-role" else None
        if service is None:
            return candidates
        profiled = service in _NEEDS_INSTANCE_PROFILE
        can_create: tuple[bool, tuple[str, ...]] | None = None
        kept: list[str] = []
        for arn in candidates:
            role = self._policies_of(arn)
            if role is None:
                kept.append(arn)
                continue
            if role.trust is not None and not _trust_admits_service(role.trust, service):
                continue
            if profiled and self._instance_profiles(arn, role) == ():
                if can_create is None:
                    # Adding the role to a profile is enough: an empty profile may be there already (review s9
                    # finding 8); a role entering one later is judged by instance-profile-escalation.
                    can_create = self._allowed_on_kind_read("iam:AddRoleToInstanceProfile", "iam:instance-profile/")
                if not can_create[0]:
                    continue
                if can_create[1]:
                    self._profile_guesses[arn] = can_create[1]
            kept.append(arn)
        return kept

    def _instance_profiles(self, arn: str, role: PrincipalPolicies) -> tuple[str, ...] | None:
        """The role's instance profiles: as the directory gave the role, else asked of it once per judgement."""
        if role.instance_profiles is not None or not isinstance(self.roles, ListsInstanceProfiles):
            return role.instance_profiles
        key = ("instance-profiles", arn)
        if key not in self.shared.lookups:
            self.shared.lookups[key] = self.roles.instance_profiles_of(arn)
        return self.shared.lookups[key]

    def _allowed_on_kind(self, action: str, kind: str) -> bool:
        """Whether ``action`` (of no method, so not indexed) is effectively allowed on some resource of ``kind``."""
        return self._allowed_on_kind_read(action, kind)[0]

    def _allowed_on_kind_read(self, action: str, kind: str) -> tuple[bool, tuple[str, ...]]:
        """``_allowed_on_kind`` with what it rests on, as ``reach`` reads it: a grant let through only by a boundary
        resource read through a variable (``_within_boundary_read``) or a Deny with an unresolved variable that may
        cover it (``_unresolved_denies``) carries those unknowns; a grant with none is preferred (nothing guessed)."""
        guessed: tuple[str, ...] | None = None
        for _, statement in self.allows:
            if not statement.grants_action(action):
                continue
            written = ("*",) if statement.not_resources is not None else statement.resources or ()
            for pattern in [p for p in map(self._as_allowed, written) if p is not None]:
                if not _could_name(pattern, kind, action) or self._denied(action, pattern, kind):
                    continue
                effective, ceiling = self._within_boundary_read(action, pattern)
                if effective is None:
                    continue
                unknown = (*ceiling, *self._unresolved_denies(action, pattern, kind))
                if not unknown:
                    return True, ()
                if guessed is None:
                    guessed = tuple(dict.fromkeys(unknown))
        return (True, guessed) if guessed is not None else (False, ())

    def _others(self, method: EscalationMethod, target: _Reached) -> _Reached:
        """A takeover's resources without those naming only the holder (``${aws:username}``, its own ARN)."""
        holder = self.principal.principal_arn if self.principal is not None else None
        users = method.actions[method.target or ""] == "iam:user/"
        own_name = holder.rsplit("/", 1)[-1] if holder is not None and users else None
        kept = [
            index
            for index, pattern in enumerate(target.patterns)
            if not (users and _SELF in pattern.lower())
            and pattern != holder
            and not (own_name is not None and _is_own_user(pattern, own_name))
        ]
        return target._replace(
            shown=tuple(target.shown[i] for i in kept),
            patterns=tuple(target.patterns[i] for i in kept),
            guesses=tuple(target.guesses[i] for i in kept) if target.guesses else (),
        )

    def _roles_matching(self, pattern: str) -> tuple[str, ...] | None:
        key = ("matching", pattern)
        if key not in self.shared.lookups:
            found = None if self.roles is None else self.roles.roles_matching(self.account, pattern)
            self.shared.lookups[key] = found
        return self.shared.lookups[key]

    def _roles_admitting(self, pattern: str) -> tuple[str, ...] | None:
        """The roles ``pattern`` names whose trust policy lets the holder assume them, given its own
        ``sts:AssumeRole`` (so a trust naming its account lets it in too); a role whose trust policy could not
        be read is left unread (``shared.unread``), never counted either way."""
        found = self._roles_matching(pattern)
        if found is None or self.principal is None:
            return found
        holder = self.principal.principal_arn
        admitting: list[str] = []
        unread: list[str] = []
        for arn in found:
            if arn == holder:
                continue
            role = self._policies_of(arn)
            trust = role.trust if role is not None else None
            if trust is None:
                unread.append(
                    f"whether {principal_label(arn)} trusts {principal_label(holder)}: "
                    "its trust policy could not be read"
                )
            elif _trust_lets_in(trust, holder, self.partition, self.account, permitted=True):
                admitting.append(arn)
        self.shared.unread[pattern] = tuple(unread[:MAX_LEADS])
        return tuple(admitting)

    def _reads_behind(self, pattern: str) -> bool:
        """Whether the directory has a reader for the kind ``pattern`` names (one that does not say: it may)."""
        return not isinstance(self.roles, KnowsReadableKinds) or self.roles.reads_roles_behind(pattern)

    def _roles_behind(self, pattern: str) -> tuple[str, ...] | None:
        key = ("behind", pattern)
        if key not in self.shared.lookups:
            self.shared.lookups[key], self.shared.unread[pattern] = _read_behind(self.roles, pattern)
        return self.shared.lookups[key]

    def _where_roles_lead(
        self,
        method: EscalationMethod,
        patterns: tuple[str, ...],
        find: Callable[[str], tuple[str, ...] | None],
    ) -> tuple[tuple[LeadsTo, ...], tuple[str, ...]] | None:
        """The stronger roles the target resources lead to, and what could not be known; None: none stronger."""
        if self.roles is None:  # the same answer for every method of this reach on these resources
            said = self._offline.get((method.reach, patterns))
            if said is None:
                what = _TARGETS.get(method.reach, "what the roles behind {resources} may do")
                resources = ", ".join(patterns)
                said = self._offline[(method.reach, patterns)] = (
                    (),
                    (what.format(resources=resources) + " (no authorization details)",),
                )
            return said
        what = _TARGETS.get(method.reach, "what the roles behind {resources} may do")
        unknown: list[str] = []
        candidates: list[str] = []
        kind = method.actions[method.target or ""]
        for pattern in patterns:
            typed = self._typed(pattern, kind)
            if method.reach == "existing-resource" and not self._reads_behind(typed):
                # No reader for this kind at all (offline details hold no functions or instances; live, no Batch,
                # CodeDeploy or AgentCore reader): as without a directory, which roles the resources act as is
                # unknown, even for a grant on every one of them. Never a certain path: none stronger may exist.
                resources = f"the {kind.rstrip(':/')} resources {pattern}" if _every_of_kind(pattern, kind) else pattern
                unknown.append(what.format(resources=resources) + " (no reader for that kind of resource here)")
                continue
            arns = find(typed)
            unknown.extend(f"{what.format(resources=pattern)} ({gap})" for gap in self.shared.unread.get(typed, ()))
            if arns is None:
                unknown.append(what.format(resources=pattern) + " (could not be read)")
            else:
                candidates.extend(arn for arn in arns if arn not in candidates and arn not in self.visiting)
        candidates = self._usable(method, self._still_reachable(method, candidates))
        # One admin-equivalent role settles it (and is cheap to tell); only then ask who escalates further.
        leads = [LeadsTo(arn, why) for arn in candidates if (why := self._admin_equivalent(arn))]
        if not leads:
            for arn in candidates:
                why = self._stronger(arn)
                if why is None:
                    continue
                if why.startswith("?"):
                    unknown.append(why[1:])
                else:
                    leads.append(LeadsTo(arn, why))
                    break
        if leads:
            # A stronger role is reached: certain, whatever else is unknown; unless every one is usable only through
            # an instance profile the holder may add it to on a guess (a boundary read through a variable).
            guessed = [self._profile_guesses.get(lead.arn) for lead in leads]
            if all(guessed):
                return tuple(leads[:MAX_LEADS]), tuple(dict.fromkeys(f for facts in guessed for f in facts or ()))
            return tuple(leads[:MAX_LEADS]), ()
        if not unknown:
            return None
        facts = list(dict.fromkeys(unknown))
        if len(facts) > MAX_LEADS:
            facts = [*facts[:MAX_LEADS], f"and {len(facts) - MAX_LEADS} more roles"]
        return (), tuple(facts)

    def _policies_of(self, arn: str) -> PrincipalPolicies | None:
        if arn not in self.shared.principals:
            self.shared.principals[arn] = None if self.roles is None else self.roles.principal(arn)
        return self.shared.principals[arn]

    def _admin_equivalent(self, arn: str) -> str | None:
        """Why role ``arn`` is admin-equivalent, or None (also when it cannot be read: ``_stronger`` says so)."""
        if arn not in self.shared.admin:
            self.shared.admin[arn] = self._admin_reason(arn)
        return self.shared.admin[arn]

    def _admin_reason(self, arn: str) -> str | None:
        found = self._policies_of(arn)
        if found is None:
            return None
        judge = _Judge(
            policies=tuple((named.source, named.policy) for named in found.policies),
            boundary=found.boundary,
            principal=found,
            roles=None,
        )
        critical = [grant for grant in judge.admin() if grant.critical]
        if not critical:
            return None
        return f"is admin-equivalent ({critical[0].statement.label} of {critical[0].source} {critical[0].why})"

    def _typed(self, pattern: str, kind: str) -> str:
        """``*`` as an ARN pattern of the resource type the action reaches (``arn:aws:lambda:*:1:function:*``)."""
        if pattern != "*" or not kind:
            return pattern
        service, _, prefix = kind.partition(":")
        region = "" if service == "iam" else "*"
        return f"arn:{self.partition}:{service}:{region}:{self.account}:{prefix}*"

    def _stronger(self, arn: str) -> str | None:
        """Why role ``arn`` can do more than the holder; ``"?<fact>"`` when unknown; None when it cannot."""
        if arn in self.visiting:
            return None  # the holder itself, or a role already on this chain: a cycle adds nothing
        if len(self.visiting) > MAX_DEPTH:
            return f"?what {principal_label(arn)} may do (more than {MAX_DEPTH} roles deep)"
        if arn not in self.shared.risks:
            found = self._policies_of(arn)
            self.shared.risks[arn] = (
                None if found is None else _judge_principal(found, self.roles, self.visiting, self.shared)
            )
        risk = self.shared.risks[arn]
        if risk is None:
            return f"?what {principal_label(arn)} may do (its policies could not be read)"
        if critical := [grant for grant in risk.admin if grant.critical]:
            return f"is admin-equivalent ({critical[0].statement.label} of {critical[0].source} {critical[0].why})"
        if certain := [path for path in risk.escalations if path.certain]:
            return f"can escalate further ({certain[0].method.name})"
        if risk.escalations:
            return f"?whether {principal_label(arn)} can escalate further: {'; '.join(risk.unknown)}"
        return None


#: The service principal a passes-role method passes its role to, by the service of the method's other actions
#: (PMapper's edges check these: ec2_edges, autoscaling_edges, lambda_edges, cloudformation_edges,
#: codebuild_edges, sagemaker_edges; Glue and ECS task roles by AWS's documented trust). Methods of any other
#: service (Cognito's federated roles, EMR's and Image Builder's several roles, ...) are not narrowed.
_SERVICE_PRINCIPALS = {
    "ec2": "ec2.amazonaws.com",
    "autoscaling": "ec2.amazonaws.com",
    "lambda": "lambda.amazonaws.com",
    "cloudformation": "cloudformation.amazonaws.com",
    "codebuild": "codebuild.amazonaws.com",
    "sagemaker": "sagemaker.amazonaws.com",
    "glue": "glue.amazonaws.com",
    "ecs": "ecs-tasks.amazonaws.com",
}
#: The same, for the judgement of a document that grants only part of a method (``guardrails.identity_policy``).
SERVICE_PRINCIPALS: Mapping[str, str] = _SERVICE_PRINCIPALS
#: Services that run as a role only through an instance profile (PMapper's ec2_edges and autoscaling_edges).
_NEEDS_INSTANCE_PROFILE = frozenset({"ec2.amazonaws.com"})


def _passed_to(method: EscalationMethod) -> str | None:
    """The service a passes-role method passes its role to, when all its other actions are of one service the
    table knows; None otherwise (not narrowed)."""
    if method.reach != "passes-role":
        return None
    return _passed_to_by_name().get(method.name)


@cache
def _passed_to_by_name() -> dict[str, str]:
    """``_passed_to`` of each passes-role method of the catalogue, worked out once."""
    found: dict[str, str] = {}
    for method in catalogue().methods:
        if method.reach != "passes-role":
            continue
        services = {action.split(":", 1)[0].lower() for action in method.actions if action.lower() != "iam:passrole"}
        principals = {_SERVICE_PRINCIPALS.get(service) for service in services}
        if len(principals) == 1 and (principal := principals.pop()) is not None:
            found[method.name] = principal
    return found


def _passes_to(statement: Statement, service: str) -> bool:
    """Whether an Allow's ``iam:PassedToService`` conditions admit ``service`` (no such condition: they do).

    ``StringEquals``/``StringLike`` admit the services they list, ``StringNotEquals``/``StringNotLike`` the others;
    any other operator is not evaluated (it may hold).
    """
    for condition in statement.conditions:
        if condition.key != "iam:passedtoservice":
            continue
        like = condition.operator.endswith("Like")
        listed = any(
            wildcard_match(value.lower(), service) if like else value.lower() == service for value in condition.values
        )
        if condition.operator in ("StringEquals", "StringLike", "StringEqualsIgnoreCase") and not listed:
            return False
        if condition.operator in ("StringNotEquals", "StringNotLike", "StringNotEqualsIgnoreCase") and listed:
            return False
    return True


def _trust_admits_service(trust: Policy, service: str) -> bool:
    """Whether a role's trust policy lets ``service`` assume it (conditions not evaluated: they may hold)."""
    for statement in trust.statements:
        if not statement.allows or not statement.grants_action("sts:AssumeRole"):
            continue
        if statement.not_principal is not None:
            return True  # everyone but the principals it names: conservative
        principal = statement.principal
        if principal is not None and (principal.everyone or service in (s.lower() for s in principal.service)):
            return True
    return False


#: What a self method on roles does to a role other than the holder (``_on_another_role``).
_ON_ANOTHER_ROLE = {
    "iam:putrolepolicy": "write an inline policy that grants anything on a role {named} names, and act as it",
    "iam:attachrolepolicy": "attach any managed policy to a role {named} names, and act as it",
}


def _of_another_account(pattern: str, account: str) -> bool:
    """Whether ARN ``pattern`` names only resources of an account other than ``account`` (``*`` or a wildcard
    account may be ``account``; an unknown holder's account, ``*``, is every account)."""
    if account == "*":
        return False
    fields = pattern.split(":", 5)
    if len(fields) != 6:
        return False
    owner = fields[4]
    return bool(owner) and owner != "aws" and not _has_wildcard(owner) and "${" not in owner and owner != account


def _assume_action(method: EscalationMethod) -> str | None:
    """The method's ``sts:AssumeRole`` (how it becomes the role it modified), as the catalogue spells it."""
    return next((action for action in method.actions if action.lower() == "sts:assumerole"), None)


def _trust_lets_in(trust: Policy, holder: str, partition: str, account: str, *, permitted: bool) -> bool:
    """Whether a role's trust policy lets ``holder`` assume it.

    A statement naming the holder's ARN lets it in on its own; one naming the holder's account (``:root``
    or the account id) or everyone does so only with the holder's own ``sts:AssumeRole`` (``permitted``).
    Conditions are not evaluated (they may hold): conservative, as for identity policies. Services,
    federated principals and other accounts do not let the holder in.
    """
    for statement in trust.statements:
        if not statement.allows or not statement.grants_action("sts:AssumeRole"):
            continue
        if statement.not_principal is not None:
            return True  # everyone but the principals it names: conservative
        principal = statement.principal
        if principal is None:
            continue
        if principal.everyone and permitted:
            return True
        for entry in principal.aws:
            if entry == holder:
                return True
            # ``{"AWS": "*"}`` is everyone, as ``"*"`` is: it names no one, so the holder's own grant decides.
            if permitted and entry in (account, f"arn:{partition}:iam::{account}:root", "*"):
                return True
    return False


def _trust_names(trust: Policy, arn: str) -> bool:
    """Whether an Allow of ``sts:AssumeRole`` in the trust policy names ``arn`` itself (not its account, not all)."""
    return any(
        statement.allows
        and statement.principal is not None
        and statement.grants_action("sts:AssumeRole")
        and arn in statement.principal.aws
        for statement in trust.statements
    )


@cache
def _lift_methods() -> dict[str, EscalationMethod]:
    """The catalogue's methods that remove a restraint, by the (lower-case) action that removes it."""
    return {
        (method.target or "").lower(): method for method in catalogue().methods if method.reach == "lifts-restraint"
    }


def _read_behind(roles: RoleDirectory | None, pattern: str) -> tuple[tuple[str, ...] | None, tuple[str, ...]]:
    """The roles behind ``pattern`` and what was left unread (a directory that reads partly says which)."""
    if roles is None:
        return None, ()
    if isinstance(roles, ReadsRolesBehind):
        read = roles.roles_behind_read(pattern)
        return (None, ()) if read is None else (read.roles, read.unread)
    return roles.roles_behind(pattern), ()


_TARGETS = {
    "passes-role": "what the roles iam:PassRole reaches ({resources}) may do",
    "existing-resource": "which roles {resources} act as, and what they may do",
    "becomes-other": "what the roles {resources} may do",
    "assumes-role": "which roles {resources} trust it, and what they may do",
}


@cache
def _methods_by_actions() -> tuple[tuple[EscalationMethod, frozenset[str]], ...]:
    """Each method with the lower-case set of actions it needs."""
    return tuple((method, frozenset(action.lower() for action in method.actions)) for method in catalogue().methods)


@cache
def _kinds_of_actions() -> dict[str, tuple[str, ...]]:
    """Each catalogue action (lower case) with the resource kinds its methods need it on."""
    kinds: dict[str, list[str]] = {}
    for method in catalogue().methods:
        for action, kind in method.actions.items():
            listed = kinds.setdefault(action.lower(), [])
            if kind not in listed:
                listed.append(kind)
    return {action: tuple(listed) for action, listed in kinds.items()}


@cache
def _catalogue_actions() -> frozenset[str]:
    return frozenset(action for _, needed in _methods_by_actions() for action in needed)


@lru_cache(maxsize=4096)
def catalogue_actions_covered(actions: tuple[str, ...] | None, not_actions: tuple[str, ...] | None) -> frozenset[str]:
    """The catalogue's actions (lower case) that an Allow with this Action list (or, when it has none, this
    NotAction list) covers; the patterns as ``parse_policy`` keeps them (lower case).

    Matched once per distinct list and kept by its content: the same lists (``iam:PassRole``, ``s3:*``,
    ``*``) recur across statements, policies and principals, and every judgement of a principal asks this
    for each of its Allow statements. Bounded, since the lists come from the documents events carry.
    """
    every = _catalogue_actions()
    if actions is None:
        spared = not_actions or ()
        return frozenset(a for a in every if not any(wildcard_match(p, a) for p in spared))
    by_service = _actions_of_service()
    granted: set[str] = set()
    for pattern in actions:
        if "*" not in pattern and "?" not in pattern:
            if pattern in every:
                granted.add(pattern)
            continue
        if pattern == "*":
            return every
        service, _, operation = pattern.partition(":")
        if operation == "*" and service in by_service:
            granted.update(by_service[service])
            continue
        wild = "*" in service or "?" in service
        candidates: Iterable[str] = every if wild else by_service.get(service, ())
        granted.update(action for action in candidates if wildcard_match(pattern, action))
    return frozenset(granted)


@cache
def _actions_of_service() -> dict[str, tuple[str, ...]]:
    by_service: dict[str, list[str]] = {}
    for action in sorted(_catalogue_actions()):
        by_service.setdefault(action.split(":", 1)[0], []).append(action)
    return {service: tuple(actions) for service, actions in by_service.items()}


#: Condition keys that only grow: a "before" test on them that is already past can never hold again.
_CLOCKS = frozenset({"aws:currenttime", "aws:tokenissuetime"})


def _expired(statement: Statement) -> bool:
    """An Allow that holds only before a moment already past (``DateLessThan aws:CurrentTime 2020-…``) grants nothing.

    iam-vulnerable's fp5 case: the one condition IAM Warden evaluates, because it needs no request context.
    """
    now = datetime.now(UTC)
    for condition in statement.conditions:
        if condition.operator not in ("DateLessThan", "DateLessThanEquals") or condition.key not in _CLOCKS:
            continue
        if condition.qualifier is not None or not condition.values:
            continue
        moments = [instant(value) for value in condition.values]
        if all(moment is not None and moment < now for moment in moments):
            return True
    return False


def _spared_actions(actions: list[str], spared: tuple[str, ...]) -> list[str]:
    """What of ``actions`` a Deny with NotAction ``spared`` leaves: each spared pattern within a granted one, and
    each granted pattern within a spared one."""
    left: list[str] = []
    for action in actions:
        for keep in spared:
            found = keep if action_matches(action, keep) else action if action_matches(keep, action) else None
            if found is not None and found not in left:
                left.append(found)
    return left


def _allowing(statement: Statement, actions: tuple[str, ...]) -> Policy:
    """A policy of ``statement`` granting only ``actions`` (what the Deny statements left of it)."""
    narrowed = statement._replace(actions=actions, not_actions=None)
    return Policy(None, (narrowed,), {})


# --- resource patterns ----------------------------------------------------------------------------


def _could_name(pattern: str, kind: str, action: str) -> bool:
    """Whether resource ``pattern`` can match a resource of ``kind`` (``iam:role/``; ``""``: any of the action's)."""
    if pattern == "*":
        return True
    parts = pattern.split(":", 5)
    if len(parts) < 6:
        return "*" in pattern
    service, _, prefix = (kind or action.lower()).partition(":")
    if not kind:
        return wildcard_match(parts[2].lower(), service)
    if kind == "iam:policy/" and parts[4] == "aws":
        return False  # an AWS-managed policy: no customer can write a version of it
    if not wildcard_match(parts[2].lower(), service):
        return False
    return _could_start_with(parts[5].lower(), prefix.lower())


def _could_start_with(pattern: str, prefix: str) -> bool:
    """Whether some string starting with ``prefix`` matches the ``*``/``?`` ``pattern``."""
    for index, char in enumerate(prefix):
        if index >= len(pattern):
            return False
        if pattern[index] == "*":
            return True
        if pattern[index] != "?" and pattern[index] != char:
            return False
    return True


def _is_own_user(pattern: str, name: str) -> bool:
    """A user ARN pattern whose name part is the holder's name: user names are unique in an account and IAM acts
    only in the caller's, so it names the holder (``arn:aws:iam::*:user/${aws:username}``, also read for a user
    with a path) or no user at all, never another one."""
    return ":user/" in pattern and pattern.rsplit("/", 1)[-1] == name


def _service_space(action: str, kind: str) -> str:
    """Every resource ``action`` can act on, as an ARN pattern: of ``kind`` (``iam:role/``), else of its service.

    ``sts:AssumeRole`` acts on IAM roles (its kind says so); for an action of any kind the service prefix is
    the ARN's (an approximation: a few services act on others' resources, which the Deny then covers too).
    """
    service, _, prefix = (kind or action.lower()).partition(":")
    return f"arn:*:{service}:*:*:{prefix if kind else ''}*"


def _every_of_kind(pattern: str, kind: str) -> bool:
    """``*`` or ``…:function:*``: every resource of ``kind`` (``lambda:function:``), not a few (as ``decisive``'s
    rule for a document judged without a directory reads it)."""
    if pattern == "*":
        return True
    prefix = kind.partition(":")[2].lower()
    named = pattern.split(":", 5)[-1].lower()
    return bool(prefix) and named.startswith(prefix) and named[len(prefix) :].startswith("*")


def _iam_part(actions: tuple[str, ...]) -> tuple[str, ...]:
    """The IAM actions of an Action list: ``*`` and ``i*:*`` become ``iam:*``, ``*:Put*`` ``iam:Put*``."""
    kept: list[str] = []
    for action in actions:
        service, colon, operation = action.partition(":")
        if not colon:
            if wildcard_match(action.lower(), "iam:"):
                kept.append("iam:*")
        elif wildcard_match(service.lower(), "iam"):
            kept.append(f"iam:{operation}")
    return tuple(kept)


def _has_wildcard(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern


def _covers(wide: str, narrow: str) -> bool:
    """Whether every resource ``narrow`` can name is also named by ``wide``.

    A ``narrow`` with wildcards is a pattern, not a resource: its ``*`` is covered only by a ``*`` of ``wide``
    at that place, its ``?`` by a ``?`` or ``*`` (``boundaries.pattern_covers``), so ``role/?`` does not cover
    ``role/*``; ARNs field by field, or as one string, as a resource is matched.
    """
    if wide == "*":
        return True
    if not _has_wildcard(narrow):
        return arn_match(wide, narrow) or wildcard_match(wide, narrow)
    return _each_field(pattern_covers, wide, narrow) or pattern_covers(wide, narrow)


def _overlaps(one: str, other: str) -> bool:
    """Whether some resource is named by both patterns (ARNs field by field)."""
    if one == "*" or other == "*":
        return True
    if _arn_fields(one) and _arn_fields(other):
        return _each_field(patterns_overlap, one, other)
    return patterns_overlap(one, other)


def _arn_fields(pattern: str) -> bool:
    return pattern.startswith("arn:") and pattern.count(":") >= 5


def _each_field(test: Callable[[str, str], bool], one: str, other: str) -> bool:
    """``test`` on every field of two ARN patterns (``*`` never crosses the ``:`` between them); False for
    anything else (the whole-string reading is the caller's)."""
    if not (one.startswith("arn:") and other.startswith("arn:")):
        return False
    first, second = one.split(":", 5), other.split(":", 5)
    if len(first) != 6 or len(second) != 6:
        return False
    return all(test(a, b) for a, b in zip(first, second, strict=True))


def _names(pattern: str, arn: str) -> bool:
    return pattern == "*" or arn_match(pattern, arn)


def _overlap(*pattern_sets: tuple[str, ...]) -> bool:
    """Whether one resource can be named by a pattern of every set (both wildcards: assumed they can)."""
    first, *rest = pattern_sets
    return any(
        all(
            any(
                a == "*" or b == "*" or _covers(a, b) or _covers(b, a) or (_has_wildcard(a) and _has_wildcard(b))
                for b in others
            )
            for others in rest
        )
        for a in first
    )


def principal_label(arn: str) -> str:
    """``role app-deployer`` for a role ARN; the text itself otherwise."""
    resource = arn.split(":", 5)[-1]
    kind, _, rest = resource.partition("/")
    return f"{kind} {rest.rsplit('/', 1)[-1]}" if rest else arn


__all__ = [
    "ESCALATION_METHODS",  # noqa: F822 - provided by the module's __getattr__, read on first use
    "AdminGrant",
    "AssumeAllowance",
    "EscalationMethod",
    "EscalationPath",
    "Grant",
    "LeadsTo",
    "PolicyRisk",
    "admin_grants",
    "assess",
    "assess_principal",
    "assume_allowance",
    "cancelled_actions",
    "escalation_paths",
    "is_risky_document",
    "trust_admits",
    "with_doubts",
]
