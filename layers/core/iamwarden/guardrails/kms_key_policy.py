"""KMS keys opened outside the organisation: key policies and grants.

* ``kms-key-policy-public`` and ``kms-key-policy-cross-account``: ``CreateKey`` with a
  ``policy`` (without one the key gets KMS's default policy: the owning account only) and
  ``PutKeyPolicy`` (``keyId``, ``policyName`` ``default``, ``policy``), judged on the
  resource-policy path. ``kms:CallerAccount`` is KMS's own name for the caller's account
  (``aws:PrincipalAccount``), and is read as such. A key must have a policy, so when every
  statement offends the remediation puts KMS's default key policy back. ``ReplicateKey`` with a
  ``policy`` is the same door for a multi-Region replica: the policy is the replica's own, in the
  replica's Region (``replicaRegion``; the replica's ARN in ``responseElements.replicaKeyMetadata.arn``,
  the KMS developer guide's ReplicateKey example), so the finding and its remediation act there.
* ``kms-grant-cross-account``: ``CreateGrant`` to a grantee principal of an account outside
  the trusted boundary (``granteePrincipal``; the response's ``grantId``). A grant to an AWS
  service principal (``rds.eu-west-1.amazonaws.com``) is how services use a key and is not
  judged. The remediation revokes exactly that grant, after recording it; undo creates the
  same grant again (KMS gives it a new id, which undo reports).

CloudTrail shapes: the AWS KMS developer guide's CloudTrail examples (CreateGrant with
``granteePrincipal``, ``operations``, ``retiringPrincipal`` and the ``grantId`` response).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from iamwarden.adapters.errors import error_code, ignoring
from iamwarden.domain.catalog import Mode, RuleSpec, Severity
from iamwarden.domain.documents import PolicyKind
from iamwarden.domain.exceptions import InvalidEventError, UndoError
from iamwarden.domain.exposure import ACCOUNT_ID, Circumstances, Exposure, TrustBoundary, fresh_exposure
from iamwarden.domain.findings import Finding, RemediationStep, StepAction
from iamwarden.domain.lockout import (
    Lockout,
    Remediator,
    conditions_hold,
    lockout_flag_set,
    lockout_remedy,
    may_hold_in_account,
    remediator,
)
from iamwarden.domain.policy import Policy, Statement, parse_policy
from iamwarden.guardrails.base import Evaluation, RuleContext
from iamwarden.guardrails.remediation import AccountClients, Permissions, StepRun
from iamwarden.guardrails.resource_policy import (
    NewPolicy,
    PolicyResource,
    RemovePolicyStatements,
    ResourcePolicyRule,
)

_POLICY_EVENTS = frozenset({"CreateKey", "PutKeyPolicy", "ReplicateKey"})

KMS_KEY_POLICY_PUBLIC = RuleSpec(
    id="kms-key-policy-public",
    resource_types=frozenset({"AWS::KMS::Key"}),
    title="Key policy open to the public",
    event_source="kms.amazonaws.com",
    event_names=_POLICY_EVENTS,
    risk="A key policy that lets in everyone lets anyone decrypt the data the key protects, or use and manage the key.",
    alert_risk=(
        "Anyone with an AWS account can use what this key policy grants: decrypt the data this key protects, "
        "encrypt with it, or change who may use it."
    ),
)

KMS_KEY_POLICY_CROSS_ACCOUNT = RuleSpec(
    id="kms-key-policy-cross-account",
    resource_types=frozenset({"AWS::KMS::Key"}),
    title="Key policy shared with an untrusted account",
    event_source="kms.amazonaws.com",
    event_names=_POLICY_EVENTS,
    risk=(
        "A key policy that lets in accounts outside the organisation lets people this organisation does not "
        "control decrypt the data the key protects."
    ),
    alert_risk=(
        "People in accounts outside this organisation can use this key as its policy grants (decrypt our data, "
        "or encrypt theirs with it), and we can neither see nor control who they are."
    ),
)

KMS_KEY_POLICY_LOCKS_OUT = RuleSpec(
    id="kms-key-policy-locks-out-account",
    resource_types=frozenset({"AWS::KMS::Key"}),
    title="Key policy shuts the account's IAM policies out",
    event_source="kms.amazonaws.com",
    event_names=_POLICY_EVENTS,
    risk=(
        "A key policy without a statement letting the account in (its root, for the key-policy actions) makes IAM "
        "policies grant nothing on the key: only the principals it names can use or change it, and when none of "
        "them can, only AWS Support can restore the account's access (a hijack or ransom pattern)."
    ),
    alert_risk=(
        "Only the principals this key policy names can use or change the key: the account's administrators, and "
        "IAM Warden, cannot, and if the named principals go, only AWS Support can give the key back."
    ),
)

KMS_GRANT_CROSS_ACCOUNT = RuleSpec(
    id="kms-grant-cross-account",
    resource_types=frozenset({"AWS::KMS::Key"}),
    title="Key grant to an untrusted account",
    event_source="kms.amazonaws.com",
    event_names=frozenset({"CreateGrant"}),
    risk=(
        "A grant on a key to a principal outside the organisation lets it use the key (decrypt, encrypt, create "
        "more grants) without any change to the key policy that a review would see."
    ),
    alert_risk=(
        "A principal in an account outside this organisation can use this key through the grant (for example, "
        "decrypt our data), and grants do not show in the key policy."
    ),
)


def key_arn(partition: str, region: str, account: str, key: str) -> str:
    """The key's ARN from its id or ARN (PutKeyPolicy and CreateGrant take either)."""
    if key.startswith("arn:"):
        fields = key.split(":", 5)
        if len(fields) != 6 or fields[2] != "kms" or not fields[5].startswith("key/"):
            raise InvalidEventError(f"{key!r} is not a KMS key ARN")
        return key
    if key.startswith("alias/") or not key:
        raise InvalidEventError(f"{key!r} does not name a KMS key by id or ARN")
    return f"arn:{partition}:kms:{region}:{account}:key/{key}"


def default_key_policy(arn: str) -> dict[str, Any]:
    """KMS's default key policy: the owning account's IAM policies decide who may use the key."""
    fields = arn.split(":")
    return {
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{fields[1]}:iam::{fields[4]}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }


KEY = PolicyResource(
    noun="key",
    name_parameter="keyId",
    document_parameter="policy",
    kind=PolicyKind.KEY,
    arn=key_arn,
    step_parameter="key",
    resource_type="AWS::KMS::Key",
    service_wildcard="kms:*",
    verbs=(
        ("kms:Decrypt", "decrypt"),
        ("kms:Encrypt", "encrypt"),
        ("kms:GenerateDataKey", "generate data keys"),
        ("kms:CreateGrant", "create grants"),
        ("kms:PutKeyPolicy", "change the key's policy"),
    ),
)


class KmsKeyPolicyEndpoint:
    """A key's ``default`` policy; "deleting" it puts KMS's default key policy back (a key must have one)."""

    get_permission: ClassVar[str] = "kms:GetKeyPolicy"
    put_permission: ClassVar[str] = "kms:PutKeyPolicy"
    delete_permission: ClassVar[str] = "kms:PutKeyPolicy"
    no_policy_codes: ClassVar[frozenset[str]] = frozenset()
    no_resource_codes: ClassVar[frozenset[str]] = frozenset({"NotFoundException"})

    def get(self, aws: AccountClients, name: str) -> str | None:
        policy = aws.client("kms").get_key_policy(KeyId=name, PolicyName="default").get("Policy")
        return str(policy) if policy else None

    def put(self, aws: AccountClients, name: str, policy: str) -> None:
        aws.client("kms").put_key_policy(KeyId=name, PolicyName="default", Policy=policy)

    def delete(self, aws: AccountClients, name: str) -> None:
        self.put(aws, name, json.dumps(default_key_policy(name)))


#: The calls a key policy must let the account's IAM policies make for the account to manage the key, and for IAM
#: Warden's remediation (it reads the policy, then puts it back without the offending statements).
_KEY_POLICY_ACTIONS = ("kms:GetKeyPolicy", "kms:PutKeyPolicy")


def lets_the_account_in(policy: Policy, account: str, partition: str, who: Remediator | None = None) -> bool | None:
    """Whether an Allow of ``policy`` lets the account's IAM policies manage the key: the account (its root ARN or
    bare id) or everyone, for at least the key-policy actions (KMS's default key policy: ``kms:*``), under
    conditions that hold for IAM Warden's request (``aws:SecureTransport`` true, ``kms:CallerAccount`` the account:
    review s13 F2). None: only statements whose conditions cannot be told let it in (never a lockout on a guess)."""
    root = f"arn:{partition}:iam::{account}:root"
    maybe = False
    for statement in policy.statements:
        principal = statement.principal
        if not statement.allows or principal is None:
            continue
        if not (principal.everyone or any(entry in (root, account, "*") for entry in principal.aws)):
            continue
        if not all(statement.grants_action(action) for action in _KEY_POLICY_ACTIONS):
            continue
        holds, _ = conditions_hold(statement.conditions, who, account)
        if holds:
            return True
        maybe = maybe or holds is None
    return None if maybe else False


def account_statements(policy: Policy, account: str, partition: str) -> list[Statement]:
    """The Allow statements of ``policy`` that let the account (its root ARN or bare id) or everyone manage the key,
    whatever their conditions: with none, the account itself is locked out; with some whose conditions do not hold
    for IAM Warden, only IAM Warden is (review s13 round 2, N2)."""
    root = f"arn:{partition}:iam::{account}:root"
    return [
        statement
        for statement in policy.statements
        if statement.allows
        and statement.principal is not None
        and (statement.principal.everyone or any(entry in (root, account, "*") for entry in statement.principal.aws))
        and all(statement.grants_action(action) for action in _KEY_POLICY_ACTIONS)
        and may_hold_in_account(statement.conditions, account)
    ]


def _under_conditions(statements: Sequence[Statement]) -> str:
    """The statements and the conditions under which they let the account in, for a reader."""
    said = []
    for statement in statements:
        tests = "; ".join(
            f"{c.qualifier + ':' if c.qualifier else ''}{c.operator}{'IfExists' if c.if_exists else ''} {c.key} "
            + ", ".join(c.values)
            for c in statement.conditions
        )
        name = f"statement {statement.position}" + (f" ({statement.sid})" if statement.sid else "")
        said.append(f"{name} under {tests}" if tests else name)
    return ", ".join(said)


def names_the_remediator(policy: Policy, who: Remediator | None) -> bool | None:
    """Whether an Allow of ``policy`` names the remediator's role or session for the key-policy actions (None: its
    identity is not configured here and some statement names principals that might be it)."""
    for statement in policy.statements:
        principal = statement.principal
        if not statement.allows or principal is None or not principal.aws:
            continue
        if not all(statement.grants_action(action) for action in _KEY_POLICY_ACTIONS):
            continue
        if who is None:
            return None
        if set(principal.aws) & {who.role_arn, *who.session_arns}:
            return True
    return False


def _left_by(policy: Policy, plan: Sequence[RemediationStep]) -> Policy | None:
    """The key policy a plan that removes statements would put (None: it removes them all, and the removal then
    restores KMS's default policy, which lets the account in)."""
    planned = {reference.get("index") for step in plan for reference in step.parameters.get("statements", ())}
    kept = [dict(statement.raw) for statement in policy.statements if statement.position not in planned]
    return parse_policy({"Version": "2012-10-17", "Statement": kept}) if kept else None


class KmsKeyPolicyRule(ResourcePolicyRule):
    """CreateKey and ReplicateKey (with a policy) and PutKeyPolicy, judged as key policies; and a key policy that
    shuts the account's IAM policies out (``kms-key-policy-locks-out-account``), whoever it lets in."""

    def __init__(
        self,
        public: RuleSpec,
        cross_account: RuleSpec,
        locks_out: RuleSpec,
        resource: PolicyResource,
        remediation: RemovePolicyStatements,
    ) -> None:
        super().__init__(public, cross_account, resource, remediation)
        self.locks_out = locks_out
        self.specs = (public, cross_account, locks_out)

    def evaluate(self, context: RuleContext) -> Evaluation:
        evaluation = super().evaluate(context)
        new = self.new_policy(context)
        if new is not None:
            finding = self._shuts_the_account_out(context, new.policy, evaluation)
            if finding is not None:
                evaluation.findings.append(finding)
                evaluation.compliant.clear()
        if context.change.event_name == "ReplicateKey":
            # The replica's policy lives in the replica's Region: the finding, its alert and its remediation too.
            region = self.resource_name(context).split(":")[3]
            evaluation.findings[:] = [finding._replace(region=region) for finding in evaluation.findings]
        return evaluation

    def shut_out(
        self, context: RuleContext, policy: Policy, arn: str, actions: Sequence[str], who: Remediator | None
    ) -> Lockout:
        """The Deny statements, and a key policy that lets IAM Warden in neither through the account's IAM policies
        nor by name: a key policy is the only way into a key, so IAM Warden's own grants then count for nothing."""
        found = super().shut_out(context, policy, arn, actions, who)
        account = arn.split(":")[4]
        let_in = lets_the_account_in(policy, account, context.partition, who)
        if let_in:
            return found
        named = names_the_remediator(policy, who)
        if named:
            return found
        if let_in is None:
            return found._replace(
                unknown=(
                    *found.unknown,
                    "the key policy may not let IAM Warden in (its account statement's conditions)",
                )
            )
        if named is None:
            return found._replace(
                unknown=(
                    *found.unknown,
                    "whether the key policy names IAM Warden's role (IAM Warden's own role, not configured here)",
                )
            )
        conditioned = account_statements(policy, account, context.partition)
        if conditioned:
            why = (
                f"IAM Warden is not let in: the key policy lets account {account} in only by "
                f"{_under_conditions(conditioned)}, conditions IAM Warden's own request does not meet, and no "
                "statement names IAM Warden's role"
            )
        else:
            why = (
                f"IAM Warden is not let in: no statement of the key policy lets account {account}'s IAM policies "
                f"call {', '.join(_KEY_POLICY_ACTIONS)}, and none names IAM Warden's role"
            )
        return found._replace(denied=(*found.denied, why))

    def remedy(self, context: RuleContext, policy: Policy) -> str:
        """Who the key policy still lets in, when its account statement holds only under conditions IAM Warden does
        not meet (review s13 round 2, N2); else KMS's last resort."""
        arn = self.resource_arn(context, self.resource_name(context))
        account = arn.split(":")[4]
        conditioned = account_statements(policy, account, context.partition)
        if conditioned:
            return (
                f"The account is not locked out: the principals of account {account} that meet the conditions of "
                f"{_under_conditions(conditioned)} can still change the key policy, and must remove it by hand."
            )
        return lockout_remedy(context.change.event_source)

    def _unless_all_shut_out(
        self, context: RuleContext, policy: Policy, arn: str, findings: Sequence[Finding]
    ) -> list[Finding]:
        """Also read the key policy that *all* the plans on the key leave together (review s13 F5, round 2 N1): one
        that lets neither the account's IAM policies nor IAM Warden in is refused by KMS's policy lockout safety
        check (the caller must still be able to call PutKeyPolicy), so no plan on the key runs (adding a root
        statement would add more than the change did, and running only some plans could leave the key open). Plans
        that together remove every statement put KMS's default policy back: they all run. A remainder that cannot
        be told keeps the plans, and a refusal of their put is then final (``if_denied``).

        Only the plans that will run are read together (review s13 R3): those of certain findings whose rule is in
        remediate mode. An uncertain finding's plan, or an alert-mode rule's, is never carried out, so counting it
        could call a remainder "all removed" that the plans which do run leave locked (KMS refuses the put: retries
        and a dead letter instead of a clean final alert). When no rule of the key is in remediate mode, the plans of
        the certain findings are read together as remediate mode would run them (what their alerts show). A finding
        the engine exempts afterwards (``allow_actors``, ``allow_resources``, an active exception) runs nothing
        either, so it is not counted (review s14 R6: ``RuleContext.exempted`` decides it before the union)."""
        judged = super()._unless_all_shut_out(context, policy, arn, findings)
        exempted = context.exempted
        certain = [
            finding
            for finding in judged
            if finding.plan and finding.certain and not finding.alert_only and not (exempted and exempted(finding))
        ]
        counted = [finding for finding in certain if finding.mode is Mode.REMEDIATE] or certain
        planned = [step for finding in counted for step in finding.plan]
        left = _left_by(policy, planned)
        if not planned or left is None:
            return judged
        runs = {id(finding) for finding in counted}
        account = arn.split(":")[4]
        who = remediator(context.settings.own, context.change.account, context.partition)
        let_in = lets_the_account_in(left, account, context.partition, who)
        named = names_the_remediator(left, who)
        if let_in or named:
            return judged
        remedy = self.remedy(context, left)
        if let_in is None or named is None:
            doubt = (
                f"the key policy left after every planned removal may not let IAM Warden call "
                f"{', '.join(_KEY_POLICY_ACTIONS)} (its account statement's conditions, or IAM Warden's role, "
                "cannot be told here); KMS would then refuse the put (its policy lockout safety check)"
            )
            return [
                finding._replace(
                    reason=f"{finding.reason} Note: {doubt}.",
                    if_denied=finding.if_denied or f"IAM Warden is shut out of {arn}: {doubt}. {remedy}",
                )
                if id(finding) in runs
                else finding
                for finding in judged
            ]
        conditioned = account_statements(left, account, context.partition)
        through = (
            f"account {account}'s IAM policies (only by {_under_conditions(conditioned)}, which IAM Warden's request "
            "does not meet)"
            if conditioned
            else f"account {account}'s IAM policies"
        )
        why = (
            f"the plans on this key would together leave a key policy that lets neither {through} nor IAM Warden "
            f"call {', '.join(_KEY_POLICY_ACTIONS)}: KMS would refuse it (its policy lockout safety check), so none "
            "of them runs"
        )
        return [
            finding._replace(
                severity=Severity.CRITICAL,
                plan=(),
                needs_context=(*finding.needs_context, why),
                reason=f"{finding.reason} IAM Warden cannot remove it: {why}. {remedy}",
            )
            if id(finding) in runs
            else finding
            for finding in judged
        ]

    def _shuts_the_account_out(self, context: RuleContext, policy: Policy, evaluation: Evaluation) -> Finding | None:
        """An alert-only finding when the new key policy no longer lets the account's IAM policies in, or the call
        asked KMS to skip its lockout safety check: nothing IAM Warden can put back (it may not even be let in)."""
        change = context.change
        arn = self.resource_arn(context, self.resource_name(context))
        account = arn.split(":")[4]
        who = remediator(context.settings.own, change.account, context.partition)
        let_in = lets_the_account_in(policy, account, context.partition, who)
        flag = lockout_flag_set(change.event_source, change.event_name, change.request_parameters)
        key = self.display_name(arn)
        if let_in:
            fix = [f for f in evaluation.findings if f.rule_id in (self.public.id, self.cross_account.id)]
            removed = {reference.get("index") for f in fix for reference in f.offending}
            kept = [dict(s.raw) for s in policy.statements if s.position not in removed]
            left = parse_policy({"Version": "2012-10-17", "Statement": kept}) if removed and kept else None
            if (
                left is not None
                and not account_statements(left, account, context.partition)
                and names_the_remediator(left, who) is False
            ):
                # The account is let in only by what IAM Warden found open (review s13 F5): name the real state.
                reason = (
                    f"{change.actor.display} set a policy on key {key} that lets account {account}'s IAM policies "
                    "in only through the statements IAM Warden found open to others: without them only the "
                    "principals the policy names can use or change the key, and KMS would refuse that policy from "
                    "IAM Warden. IAM Warden alerts only. " + lockout_remedy(change.event_source)
                )
                return context.finding(
                    self.locks_out, severity=Severity.CRITICAL, resource_arn=arn, reason=reason, plan=[]
                )
        conditioned = account_statements(policy, account, context.partition)
        if let_in is False and conditioned:
            # Let in under conditions IAM Warden's request does not meet (MFA, a role-name pattern, via a service):
            # IAM Warden is shut out (its findings say so), the account is not (review s13 round 2, N2).
            let_in = None
        if let_in is not False and flag is None:
            return None  # let in, or cannot be told: no lockout finding on a guess
        if let_in is not False:
            severity = Severity.MEDIUM
            reason = (
                f"{change.actor.display} set the policy of key {key} with {flag} true, asking KMS to skip its check "
                "that the caller can still change the policy; the policy still lets (or may let) the account's "
                "IAM policies in."
            )
        else:
            fix = [f for f in evaluation.findings if f.rule_id in (self.public.id, self.cross_account.id)]
            shut = self.shut_out(context, policy, arn, _KEY_POLICY_ACTIONS, who)
            severity = Severity.CRITICAL if fix and shut.denied else Severity.HIGH
            reason = (
                f"{change.actor.display} set a policy on key {key} that no longer lets account {account}'s IAM "
                f"policies in: no statement grants the account (its root) {', '.join(_KEY_POLICY_ACTIONS)} without "
                "conditions, so only the principals the policy names can use or change the key."
                + (
                    f" The call set {flag} to true, so KMS did not check that the caller can still change it."
                    if flag
                    else ""
                )
                + (
                    " IAM Warden is shut out of this key too, and cannot fix what it found on it."
                    if severity is Severity.CRITICAL
                    else ""
                )
                + " IAM Warden alerts only. "
                + lockout_remedy(change.event_source)
            )
        return context.finding(self.locks_out, severity=severity, resource_arn=arn, reason=reason, plan=[])

    def resource_name(self, context: RuleContext) -> str:
        change = context.change
        created = {"CreateKey": "keyMetadata", "ReplicateKey": "replicaKeyMetadata"}.get(change.event_name)
        if created is not None:
            metadata = (change.response_elements or {}).get(created) or {}
            arn = metadata.get("arn") if isinstance(metadata, dict) else None
            if isinstance(arn, str) and arn:
                return key_arn(context.partition, change.region, change.account, arn)
            raise InvalidEventError(f"detail.responseElements.{created}.arn must be the new key's ARN")
        return key_arn(context.partition, change.region, change.account, context.request_text("keyId"))

    def resource_arn(self, context: RuleContext, name: str) -> str:
        return name

    def display_name(self, name: str) -> str:
        return name.rsplit("/", 1)[-1]

    def new_policy(self, context: RuleContext) -> NewPolicy | None:
        policy = context.change.request_parameters.get("policy")
        if context.change.event_name in {"CreateKey", "ReplicateKey"} and not policy:
            return None  # KMS's default policy: the owning account only
        return NewPolicy(self.decoded(policy, "detail.requestParameters.policy"))

    def exposure(
        self, statement: Statement, boundary: TrustBoundary, circumstances: Circumstances | None = None
    ) -> Exposure:
        """``kms:CallerAccount`` is the caller's account, as ``aws:PrincipalAccount`` is (KMS condition keys)."""
        conditions = tuple(
            c._replace(key="aws:principalaccount") if c.key == "kms:calleraccount" else c for c in statement.conditions
        )
        return fresh_exposure(statement._replace(conditions=conditions), boundary, circumstances)


class GrantRule:
    """CreateGrant to a grantee principal of an account outside the trusted boundary."""

    specs: ClassVar[tuple[RuleSpec, ...]] = (KMS_GRANT_CROSS_ACCOUNT,)

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        arn = key_arn(context.partition, change.region, change.account, context.request_text("keyId"))
        evaluation = Evaluation(resource_arn=arn)
        grantee = context.request_text("granteePrincipal")
        key = arn.rsplit("/", 1)[-1]
        owner = _account_of(grantee)
        boundary = context.settings.boundary(change.account)
        if owner is None:
            evaluation.compliant.append(f"the grant on key {key} is to the AWS service {grantee}")
            return evaluation
        if boundary.trusts_account(owner):
            evaluation.compliant.append(f"the grant on key {key} is to {grantee}, of a trusted account")
            return evaluation
        grant_id = (change.response_elements or {}).get("grantId")
        if not isinstance(grant_id, str) or not grant_id:
            raise InvalidEventError("detail.responseElements.grantId must be the new grant's id")
        operations = change.request_parameters.get("operations") or []
        said = ", ".join(str(o) for o in operations) if isinstance(operations, list) else str(operations)
        evaluation.findings.append(
            context.finding(
                KMS_GRANT_CROSS_ACCOUNT,
                severity=Severity.HIGH,
                resource_arn=arn,
                reason=(
                    f"{change.actor.display} granted {grantee}, of account {owner}, which this organisation does not "
                    f"trust, the use of key {key} ({said or 'no operations listed'}; grant {grant_id})."
                ),
                plan=[
                    RemediationStep(
                        RevokeGrant.action,
                        arn,
                        {"key": arn, "grant_id": grant_id},
                        f"revoke grant {grant_id} on key {key}",
                    )
                ],
                offending=[{"grant_id": grant_id, "grantee": grantee, "account": owner}],
            )
        )
        return evaluation


def _account_of(principal: str) -> str | None:
    """The account of a grantee principal (an account id or an IAM ARN); None for a service principal."""
    if ACCOUNT_ID.fullmatch(principal):
        return principal
    fields = principal.split(":")
    if len(fields) >= 6 and fields[0] == "arn" and ACCOUNT_ID.fullmatch(fields[4]):
        return fields[4]
    if principal.endswith(".amazonaws.com"):
        return None
    raise InvalidEventError(f"detail.requestParameters.granteePrincipal {principal!r} is not a principal")


class RevokeGrant:
    """Revoke exactly one grant on a key, after recording it; undo creates the same grant again. Undoable."""

    permissions: ClassVar[Permissions] = ("kms:ListGrants", "kms:RevokeGrant")
    action: ClassVar[StepAction] = StepAction("revoke_kms_grant", permissions)
    undo_permissions: ClassVar[Permissions] = ("kms:ListGrants", "kms:CreateGrant")
    undoable: ClassVar[bool] = True

    #: The grant's fields that CreateGrant takes back.
    _RECREATE = ("GranteePrincipal", "RetiringPrincipal", "Operations", "Constraints", "Name")

    @staticmethod
    def _grants(aws: AccountClients, key: str) -> list[dict[str, Any]]:
        client = aws.client("kms")
        try:
            return [g for page in client.get_paginator("list_grants").paginate(KeyId=key) for g in page["Grants"]]
        except Exception as exc:
            if error_code(exc) == "NotFoundException":
                return []
            raise

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        grant_id = step.parameters["grant_id"]
        grant = next((g for g in self._grants(aws, step.parameters["key"]) if g.get("GrantId") == grant_id), None)
        return {"grant": None if grant is None else {k: grant[k] for k in ("GrantId", *self._RECREATE) if k in grant}}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if before["grant"] is None:
            return  # retired or revoked already
        key, grant_id = step.parameters["key"], step.parameters["grant_id"]
        with ignoring("NotFoundException"):
            run.aws.client("kms").revoke_grant(KeyId=key, GrantId=grant_id)
        done.append(f"revoked grant {grant_id} on key {key.rsplit('/', 1)[-1]}")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        grant = before["grant"]
        if grant is None:
            return []
        key = step.parameters["key"]
        same = {k: grant[k] for k in self._RECREATE if k in grant}
        for live in self._grants(aws, key):
            if {k: live[k] for k in self._RECREATE if k in live} == same:
                return []  # the same grant exists again
        if not grant.get("Operations"):
            raise UndoError(f"the grant {grant['GrantId']} recorded no operations; recreate it by hand")
        created = aws.client("kms").create_grant(KeyId=key, **same)
        return [
            f"created grant {created['GrantId']} on key {key.rsplit('/', 1)[-1]}, the same as revoked grant "
            f"{grant['GrantId']} (KMS gives a new grant a new id)"
        ]


REMOVE_KEY_POLICY_STATEMENTS = RemovePolicyStatements("remove_key_policy_statements", KEY, KmsKeyPolicyEndpoint())
KEY_POLICY_RULE = KmsKeyPolicyRule(
    KMS_KEY_POLICY_PUBLIC, KMS_KEY_POLICY_CROSS_ACCOUNT, KMS_KEY_POLICY_LOCKS_OUT, KEY, REMOVE_KEY_POLICY_STATEMENTS
)

GUARDRAILS = (KEY_POLICY_RULE, GrantRule())
ACTIONS = (REMOVE_KEY_POLICY_STATEMENTS, RevokeGrant())
