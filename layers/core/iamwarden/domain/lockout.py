"""Whether a resource policy shuts IAM Warden's remediator out of the calls its remediation needs (review s11 F9).

A policy can open a resource *and*, in the same document, deny every principal but the intruder the calls that would
change the policy back (``Deny s3:PutBucketPolicy`` with ``ArnNotEquals aws:PrincipalArn``). A plan to remove the
opening statements is then certain to fail with AccessDenied, be retried and dead-lettered, and the alert reads like
a transient failure. So before planning, each Deny statement of the *new* document is read against the exact
identity the remediation will act as (``Remediator``: the enforcer's role in the security account, the member
stack's remediator role, under its ``iamwarden`` session, everywhere else) and the IAM actions the plan calls.

Only what can be decided is decided: a Deny reaches the remediator when its principal, action and resource cover it
and every condition can be evaluated as holding for the remediator's request. A condition on a key IAM Warden cannot
know for its own request (the source IP, a principal tag) makes it an unknown, never a verdict either way: the plan
is kept (an inert Deny must not turn every finding alert-only, review s13 F1) and the executor's AccessDenied on it
ends as a final "shut out" alert.

Pure: no boto3.
"""

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from iamwarden.domain.own import MEMBER_SESSION, OwnIdentity
from iamwarden.domain.policy import Condition, Policy, Principal, Statement
from iamwarden.domain.wildcards import arn_match, wildcard_match


class Remediator(NamedTuple):
    """The identity a remediation in ``account`` acts as: its role ARN and the ARNs of its sessions."""

    account: str
    partition: str
    role_arn: str
    #: ``arn:<partition>:sts::<account>:assumed-role/<role>/<session>`` for each session name it uses.
    session_arns: tuple[str, ...]

    @property
    def root(self) -> str:
        return f"arn:{self.partition}:iam::{self.account}:root"

    def is_named(self, principal: Principal) -> bool:
        """Whether ``principal`` names the remediator: everyone, its account, its role or one of its sessions."""
        if principal.everyone:
            return True
        names = {self.root, self.account, self.role_arn, *self.session_arns}
        return any(entry == "*" or entry in names for entry in principal.aws)


def remediator(own: OwnIdentity, account: str, partition: str) -> Remediator | None:
    """Who IAM Warden's remediation acts as in ``account`` (``adapters.clients.ClientFactory``): the enforcer's own
    role in the security account, the member stack's remediator role (session ``iamwarden``) elsewhere. None when the
    stack's identity is not configured here (offline): then no principal but everyone is known to reach it."""
    if own.home_account is None:
        return None
    if account == own.home_account:
        role = own.home_roles.get("enforcer")
        if not role:
            return None
        name = role.rsplit("/", 1)[-1]
        sessions = tuple(sorted(own.functions_of("enforcer")))
    else:
        name = own.member_roles.get("remediator", "")
        if not name:
            return None
        role = f"arn:{partition}:iam::{account}:role/{name}"
        sessions = (MEMBER_SESSION,)
    return Remediator(
        account, partition, role, tuple(f"arn:{partition}:sts::{account}:assumed-role/{name}/{s}" for s in sessions)
    )


class Lockout(NamedTuple):
    """What a policy's Deny statements do to the remediator's calls."""

    #: "IAM Warden is denied s3:PutBucketPolicy by statement 1 (Keep)", one per statement and action.
    denied: tuple[str, ...] = ()
    #: "statement 1 (Keep) may deny IAM Warden s3:PutBucketPolicy (condition aws:SourceIp)", one per statement.
    unknown: tuple[str, ...] = ()


def lockout(policy: Policy, actions: Sequence[str], resource_arn: str, who: Remediator | None) -> Lockout:
    """Which Deny statements of ``policy`` keep ``who`` from calling ``actions`` on ``resource_arn``."""
    denied: list[str] = []
    unknown: list[str] = []
    for statement in policy.statements:
        if statement.allows:
            continue
        covered = [action for action in actions if statement.grants_action(action)]
        if not covered or not _resource_covered(statement, resource_arn):
            continue
        said = ", ".join(covered)
        reaches, why = _reaches(statement, who)
        if reaches is False:
            continue
        holds, keys = conditions_hold(statement.conditions, who)
        if holds is False:
            continue
        doubts = [*why, *keys]
        if reaches and holds:
            denied.append(f"IAM Warden is denied {said} by {statement.label}")
        else:
            unknown.append(f"{statement.label} may deny IAM Warden {said} ({'; '.join(doubts)})")
    return Lockout(tuple(denied), tuple(unknown))


def _resource_covered(statement: Statement, arn: str) -> bool:
    """Whether the statement's Resource (absent: the resource the policy is on) covers ``arn``."""
    if statement.resources is not None:
        return any(pattern == "*" or arn_match(pattern, arn) for pattern in statement.resources)
    if statement.not_resources is not None:
        return not any(pattern == "*" or arn_match(pattern, arn) for pattern in statement.not_resources)
    return True


def _reaches(statement: Statement, who: Remediator | None) -> tuple[bool | None, list[str]]:
    """Whether the statement's Principal/NotPrincipal takes in the remediator (None: cannot be told)."""
    if statement.principal is not None:
        if statement.principal.everyone or "*" in statement.principal.aws:
            return True, []
        if who is None:
            return (None, ["IAM Warden's own role, not configured here"]) if statement.principal.aws else (False, [])
        return who.is_named(statement.principal), []
    if statement.not_principal is not None:
        excluded = statement.not_principal
        if who is None:
            return None, ["IAM Warden's own role, not configured here (NotPrincipal)"]
        if excluded.everyone or "*" in excluded.aws:
            return False, []
        # A Deny with NotPrincipal spares a role session only when it names the session and the account: AWS "might
        # validate the account first, then the role, and then the assumed-role user" (IAM User Guide, NotPrincipal
        # with Deny; its example lists the session ARN, the role ARN and the account). Every session IAM Warden
        # acts as must be named; the role and account without the session may not spare it (review s13 F7). With no
        # session ARN known (no enforcer function configured) none can be told named (review s13 round 2, N3).
        names = set(excluded.aws)
        sessions_named = bool(who.session_arns) and set(who.session_arns) <= names
        account_named = bool(names & {who.root, who.account})
        if sessions_named and account_named:
            return False, []
        if names & {who.role_arn, *who.session_arns} or account_named:
            return None, ["NotPrincipal does not name IAM Warden's role session and its account both"]
        return True, []
    return True, []  # no principal element: a resource policy applies it to every caller


def _known(who: Remediator | None, account: str | None = None) -> dict[str, str]:
    """What IAM Warden knows of its own request (an assumed role, over TLS, not through a service, without MFA), by
    lower-case key; its role and account only when its identity is configured here (or, for ``kms:CallerAccount``,
    the account it acts in is given).

    ``aws:MultiFactorAuthPresent`` is in the request context of temporary credentials (an assumed role's session)
    and absent only for long-term access keys (IAM User Guide, "AWS global condition context keys",
    aws:MultiFactorAuthPresent, Availability; AWS re:Post knowledge center "mfa-iam-user-aws-cli": the key is absent
    only for long-term credentials); IAM Warden's Lambda/AssumeRole sessions use no MFA: "false" (review s13 F3)."""
    known = {
        "aws:principaltype": "AssumedRole",
        "aws:securetransport": "true",
        "aws:principalisawsservice": "false",
        "aws:viaawsservice": "false",
        "aws:multifactorauthpresent": "false",
    }
    if who is not None:
        known |= {"aws:principalarn": who.role_arn, "aws:principalaccount": who.account}
        account = account or who.account
    if account is not None:
        known["kms:calleraccount"] = account
    return known


#: Keys IAM Warden's own request never carries (a role session has no user name, no MFA age without MFA, no
#: service in between).
_ABSENT = frozenset({"aws:username", "aws:multifactorauthage", "aws:calledvia", "aws:sourcearn", "aws:sourceaccount"})


def conditions_hold(
    conditions: Sequence[Condition], who: Remediator | None, account: str | None = None
) -> tuple[bool | None, list[str]]:
    """Whether every condition holds for the remediator's request in ``account``; None (with "condition <key>" for
    each) when one cannot be told."""
    undecided: list[str] = []
    for condition in conditions:
        holds = _condition_holds(condition, who, account)
        if holds is False:
            return False, []
        if holds is None:
            undecided.append(f"condition {condition.key}")
    return (None, undecided) if undecided else (True, [])


#: Keys whose value in any request of a principal of the account is the account's id.
_ACCOUNT_KEYS = frozenset({"aws:principalaccount", "kms:calleraccount"})


def may_hold_in_account(conditions: Sequence[Condition], account: str) -> bool:
    """False when a condition on the caller's account (``aws:PrincipalAccount``, ``kms:CallerAccount``) can hold
    for no principal of ``account`` (the statement hands the key to another account: review s13 R2); True otherwise,
    including every condition that cannot be told here."""
    for condition in conditions:
        if condition.key not in _ACCOUNT_KEYS or condition.qualifier or condition.operator not in _NEGATED | _POSITIVE:
            continue
        matched = _matches(condition.operator, condition.values, account)
        if matched is None:
            continue
        if not ((not matched) if condition.operator in _NEGATED else matched):
            return False
    return True


_NEGATED = frozenset({"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals", "ArnNotLike"})


def _condition_holds(condition: Condition, who: Remediator | None, account: str | None = None) -> bool | None:
    operator = condition.operator
    if condition.key in _ABSENT:
        if operator == "Null":
            return all(value == "true" for value in condition.values)
        if condition.if_exists or condition.qualifier == "ForAllValues":
            return True  # ForAllValues on a missing key is true (IAM User Guide, multivalued context keys)
        if condition.qualifier == "ForAnyValue":
            return False  # ForAnyValue on a missing key is false, whatever the operator (same page)
        # A negated operator on a missing key holds; a positive one does not (IAM User Guide, condition operators).
        return operator in _NEGATED if operator in _NEGATED | _POSITIVE else None
    value = _known(who, account).get(condition.key)
    if value is None:
        return None
    if operator == "Null":
        return all(v == "false" for v in condition.values) if set(condition.values) <= {"true", "false"} else None
    matched = _matches(operator, condition.values, value)
    if matched is None:
        return None
    return not matched if operator in _NEGATED else matched


_POSITIVE = frozenset({"StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike", "Bool"})


def _matches(operator: str, values: Sequence[str], value: str) -> bool | None:
    """Whether ``value`` matches any of ``values`` under ``operator`` (its negation's base); None: not evaluated."""
    base = operator.replace("Not", "", 1) if operator in _NEGATED else operator
    if base == "StringEquals":
        return value in values
    if base == "Bool":
        return value in {v.lower() for v in values}
    if base == "StringEqualsIgnoreCase":
        return value.lower() in {v.lower() for v in values}
    if base == "StringLike":
        return any(wildcard_match(pattern, value) for pattern in values)
    if base in ("ArnEquals", "ArnLike"):
        return any(arn_match(pattern, value) for pattern in values)
    return None


#: The request parameter by which a caller asks AWS to accept a policy that shuts the caller itself out of the
#: policy calls, by (event source, event name). Where each appears in the CloudTrail record:
#: * KMS ``bypassPolicyLockoutSafetyCheck`` in ``requestParameters`` of PutKeyPolicy: the AWS KMS developer guide's
#:   CloudTrail example (ct-put-key-policy); CreateKey and ReplicateKey take the same API parameter (unconfirmed in a
#:   record).
#: * DynamoDB ``confirmRemoveSelfResourceAccess`` (PutResourcePolicy's ConfirmRemoveSelfResourceAccess) and EFS
#:   ``bypassPolicyLockoutSafetyCheck`` (PutFileSystemPolicy's BypassPolicyLockoutSafetyCheck): the API parameters
#:   (SDK references); their place in ``requestParameters``, in CloudTrail's lower camel case, is unconfirmed.
#: * S3 ``x-amz-confirm-remove-self-bucket-access``: an HTTP header of PutBucketPolicy (ConfirmRemoveSelfBucketAccess);
#:   S3 records some headers among ``requestParameters``, this one unconfirmed.
LOCKOUT_FLAGS: dict[tuple[str, str], str] = {
    ("kms.amazonaws.com", "PutKeyPolicy"): "bypassPolicyLockoutSafetyCheck",
    ("kms.amazonaws.com", "CreateKey"): "bypassPolicyLockoutSafetyCheck",
    ("kms.amazonaws.com", "ReplicateKey"): "bypassPolicyLockoutSafetyCheck",
    ("dynamodb.amazonaws.com", "PutResourcePolicy"): "confirmRemoveSelfResourceAccess",
    ("elasticfilesystem.amazonaws.com", "PutFileSystemPolicy"): "bypassPolicyLockoutSafetyCheck",
    ("s3.amazonaws.com", "PutBucketPolicy"): "x-amz-confirm-remove-self-bucket-access",
}


def lockout_flag_set(event_source: str, event_name: str, request: Mapping[str, Any]) -> str | None:
    """The name of the lockout flag the call set to true (None: it set none)."""
    name = LOCKOUT_FLAGS.get((event_source, event_name))
    if name is None:
        return None
    value = request.get(name)
    if isinstance(value, list) and len(value) == 1:  # S3 records some parameters as one-element lists
        value = value[0]
    return name if value is True or (isinstance(value, str) and value.lower() == "true") else None


def lockout_flag(event_source: str, event_name: str, request: Mapping[str, Any]) -> str:
    """The sentence a finding says when the call set its lockout flag ("" when it did not)."""
    name = lockout_flag_set(event_source, event_name, request)
    if name is None:
        return ""
    return (
        f"The call set {name} to true: it asked AWS to accept a policy that may shut the caller's own account "
        "out of changing it."
    )


def lockout_remedy(event_source: str) -> str:
    """Who can still fix a policy that shuts IAM Warden out (the manual step an alert gives)."""
    if event_source == "s3.amazonaws.com":
        return (
            "The account's root user can always delete a bucket policy, whatever it denies: sign in as root, delete "
            "the policy, and put back the statements still wanted. An account under AWS Organizations centralized "
            "root access (no root credentials) does it with sts:AssumeRoot and the task policy "
            "arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy, which deletes the whole bucket policy: put "
            "back the statements still wanted afterwards."
        )
    if event_source == "kms.amazonaws.com":
        return (
            "When no principal the key policy lets in can change it, only AWS Support can restore the account's "
            "access to the key."
        )
    return "Someone the policy does not deny must remove the statements by hand."
