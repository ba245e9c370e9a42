"""``scp-blinds-iamwarden``: no service control policy blinds IAM Warden or takes away one that guards it.

An intruder in the organisation's management account need not touch a trail or a detector: a service control
policy (SCP) that denies what IAM Warden's roles call blinds every account it is attached to at once, and one that
guarded IAM Warden's resources can simply be detached (issue 15 item 3, MITRE ATT&CK T1562.001). Judged here:

* ``CreatePolicy`` (``type`` ``SERVICE_CONTROL_POLICY``) and ``UpdatePolicy`` with a ``content`` whose Deny
  statements cover what IAM Warden needs to see and to alert (reading trails, detectors and policies, forwarding
  events, invoking its functions, assuming its member roles, publishing alerts), with no condition that leaves its
  roles out: critical (a policy created is one attach away; high when the Deny holds only under other conditions,
  such as a region). A Deny
  of only what IAM Warden *remediates* with (``iam:DetachRolePolicy``...) is medium: IAM Warden still sees and
  alerts, and such a policy is as often a protective one.
* ``UpdatePolicy`` whose new content no longer guards IAM Warden where the content IAM Warden kept did, and
  ``DetachPolicy`` of a policy IAM Warden kept as guarding it: critical. A policy guards IAM Warden when a Deny
  statement leaves *every* one of its roles out (``ArnNotLike`` ``aws:PrincipalArn``) and names its roles or
  functions as resources or denies everyone else: "nobody but IAM Warden may change this". A Deny on its roles or
  functions that applies to them too (``sts:AssumeRole`` on ``role/iamwarden-*``) blinds it instead.

A Deny's resources count as "everywhere" when they match every ARN of the kind an action acts on (``*``, ``arn:*``,
``arn:aws:*``, ``*:*``...), and its ``aws:PrincipalArn`` conditions are judged per role: leaving out the enforcer
alone still denies the forwarders, the heartbeat and the member roles.
* ``AttachPolicy`` of a policy IAM Warden kept as blinding: critical, naming the target.

``AttachPolicy`` and ``DetachPolicy`` carry only the policy's and the target's ids: what the policy says is what
IAM Warden kept from its ``CreatePolicy``/``UpdatePolicy`` (a snapshot in the audit table, ``SCP``, kept whatever
the verdict). A policy IAM Warden never saw written (created before it watched, AWS-managed, written in another
account) is alerted as medium with its content unknown (``needs_context``), never passed. ``FullAWSAccess``
(``p-FullAWSAccess``, ``Allow * *``) is known: detaching it is high, since only what other attached policies allow
is then allowed (which ones are attached is unknown here).

Nothing is remediated: an organisation's policies are the organisation's, and a wrong attach or detach locks
accounts out. Each alert gives the exact command that undoes the change. Organizations records these calls in the
management account, in us-east-1 only (a global service): that is where the enforcer must hear them.
"""

import json
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, NamedTuple

from iamwarden.domain.catalog import RuleSpec, Severity
from iamwarden.domain.exceptions import InvalidEventError
from iamwarden.domain.own import REGION_PLACEHOLDER, OwnIdentity
from iamwarden.domain.policy import Statement, parse_policy
from iamwarden.domain.recorded import Snapshot, observed_at
from iamwarden.domain.wildcards import wildcard_match
from iamwarden.guardrails.base import Evaluation, RuleContext

#: Snapshot kind: the content of one service control policy as a ``CreatePolicy``/``UpdatePolicy`` wrote it
#: (``{"policy_id", "name", "content": document}``), keyed by ``policy_key``.
SCP = "service-control-policy"

SCP_BLINDS_IAMWARDEN = RuleSpec(
    id="scp-blinds-iamwarden",
    title="Service control policy blinds IAM Warden or unguards it",
    event_source="organizations.amazonaws.com",
    event_names=frozenset({"CreatePolicy", "UpdatePolicy", "AttachPolicy", "DetachPolicy"}),
    risk=(
        "A service control policy that denies what IAM Warden's roles call blinds every account it is attached to "
        "at once; detaching one that guarded IAM Warden leaves its roles and functions open to change."
    ),
    alert_risk=(
        "Service control policies bound every role of the accounts they are attached to, IAM Warden's too: one that "
        "denies what IAM Warden reads and calls leaves those accounts unwatched, with no error anyone sees."
    ),
)

#: What IAM Warden's roles call to see a change and alert on it (the enforcer, the heartbeat, the forwarders): a
#: Deny of any of these, applying to its roles, blinds it. One representative action per need.
SEES: tuple[str, ...] = (
    "cloudtrail:DescribeTrails",
    "cloudtrail:GetTrailStatus",
    "cloudtrail:GetEventSelectors",
    "events:PutEvents",
    "events:DescribeRule",
    "lambda:InvokeFunction",
    "lambda:GetFunction",
    "sts:AssumeRole",
    "iam:GetRole",
    "iam:GetPolicyVersion",
    "iam:ListAttachedRolePolicies",
    "guardduty:GetDetector",
    "securityhub:DescribeHub",
    "config:DescribeConfigurationRecorderStatus",
    "sns:Publish",
    "sqs:SendMessage",
    "dynamodb:PutItem",
    "ssm:GetParametersByPath",
)
#: What it remediates with (a sample of its steps' permissions): a Deny of only these leaves it alerting.
REMEDIATES: tuple[str, ...] = (
    "iam:DetachRolePolicy",
    "iam:PutRolePolicy",
    "iam:UpdateAccessKey",
    "iam:DeleteLoginProfile",
    "s3:PutBucketPolicy",
    "s3:PutBucketPublicAccessBlock",
    "cloudtrail:StartLogging",
    "guardduty:UpdateDetector",
    "securityhub:EnableSecurityHub",
    "kms:PutKeyPolicy",
    "lambda:RemovePermission",
)
#: Condition operators that leave the principals they name out of a Deny, and those that keep only them in.
_EXCLUDING = frozenset({"ArnNotLike", "ArnNotEquals", "StringNotLike", "StringNotEquals"})
_ONLY = frozenset({"ArnLike", "ArnEquals", "StringLike", "StringEquals"})
_PRINCIPAL_ARN = "aws:principalarn"


def policy_key(partition: str, account: str, policy_id: str) -> str:
    """The key IAM Warden keeps a policy's content under: an Organizations ARN in the management account, by id
    (the events name the policy by id; its real ARN carries the organisation, which ``AttachPolicy`` does not)."""
    return f"arn:{partition}:organizations::{account}:policy/{policy_id}"


class Reach(NamedTuple):
    """What one Deny statement does to IAM Warden's roles."""

    #: "yes" (applies to them), "no" (leaves them out, or names only others), "unknown" (IAM Warden's roles unknown).
    applies: str
    #: Other conditions the Deny holds under (region, tags...), in words; empty: always.
    only_when: tuple[str, ...] = ()


#: One ARN of what each action in ``SEES``/``REMEDIATES`` acts on, in no particular account, region or name (after
#: ``arn:<partition>:``): a Deny whose resources match it denies the action on every such resource, whatever the
#: pattern's spelling (``*``, ``arn:*``, ``arn:aws:*:*:*:*``, ``*:*``...).
_SAMPLES: Mapping[str, str] = {
    "cloudtrail:DescribeTrails": "cloudtrail:us-east-1:000000000000:trail/any-trail",
    "cloudtrail:GetTrailStatus": "cloudtrail:us-east-1:000000000000:trail/any-trail",
    "cloudtrail:GetEventSelectors": "cloudtrail:us-east-1:000000000000:trail/any-trail",
    "cloudtrail:StartLogging": "cloudtrail:us-east-1:000000000000:trail/any-trail",
    "events:PutEvents": "events:us-east-1:000000000000:event-bus/any-bus",
    "events:DescribeRule": "events:us-east-1:000000000000:rule/any-rule",
    "lambda:InvokeFunction": "lambda:us-east-1:000000000000:function:any-function",
    "lambda:GetFunction": "lambda:us-east-1:000000000000:function:any-function",
    "lambda:RemovePermission": "lambda:us-east-1:000000000000:function:any-function",
    "sts:AssumeRole": "iam::000000000000:role/any-role",
    "iam:GetRole": "iam::000000000000:role/any-role",
    "iam:ListAttachedRolePolicies": "iam::000000000000:role/any-role",
    "iam:DetachRolePolicy": "iam::000000000000:role/any-role",
    "iam:PutRolePolicy": "iam::000000000000:role/any-role",
    "iam:GetPolicyVersion": "iam::000000000000:policy/any-policy",
    "iam:UpdateAccessKey": "iam::000000000000:user/any-user",
    "iam:DeleteLoginProfile": "iam::000000000000:user/any-user",
    "guardduty:GetDetector": "guardduty:us-east-1:000000000000:detector/any-detector",
    "guardduty:UpdateDetector": "guardduty:us-east-1:000000000000:detector/any-detector",
    "securityhub:DescribeHub": "securityhub:us-east-1:000000000000:hub/default",
    "securityhub:EnableSecurityHub": "securityhub:us-east-1:000000000000:hub/default",
    "config:DescribeConfigurationRecorderStatus": "config:us-east-1:000000000000:config-recorder/default",
    "sns:Publish": "sns:us-east-1:000000000000:any-topic",
    "sqs:SendMessage": "sqs:us-east-1:000000000000:any-queue",
    "dynamodb:PutItem": "dynamodb:us-east-1:000000000000:table/any-table",
    "ssm:GetParametersByPath": "ssm:us-east-1:000000000000:parameter/any-parameter",
    "s3:PutBucketPolicy": "s3:::any-bucket",
    "s3:PutBucketPublicAccessBlock": "s3:::any-bucket",
    "kms:PutKeyPolicy": "kms:us-east-1:000000000000:key/any-key",
}
#: The actions IAM Warden's roles call on IAM Warden's own roles (assuming the member roles, the heartbeat's reads
#: of them): a Deny of these on its roles' ARNs blinds it as surely as one on ``*``.
_ON_OWN_ROLES = frozenset({"sts:AssumeRole", "iam:GetRole", "iam:ListAttachedRolePolicies"})
#: ... and on its own functions (the forwarding rules invoke them, the heartbeat reads them).
_ON_OWN_FUNCTIONS = frozenset({"lambda:InvokeFunction", "lambda:GetFunction"})


def _own_role_arns(own: OwnIdentity) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """IAM Warden's security-account role ARNs and member role names (a region's name for the placeholder)."""
    members = tuple(name.replace(REGION_PLACEHOLDER, "us-east-1") for name in own.member_roles.values())
    return tuple(own.home_roles.values()), members


def _covers_role(value: str, role: str, home: bool) -> bool:
    """Whether an ARN pattern covers one own role: a home role's exact ARN, a member role's name in any account."""
    if home:
        return wildcard_match(value, role)
    name = value.split(":role/", 1)[1] if ":role/" in value else None
    return name is not None and wildcard_match(name, role)


def _own_roles(own: OwnIdentity) -> list[tuple[str, bool]]:
    home, members = _own_role_arns(own)
    return [(arn, True) for arn in home] + [(name, False) for name in members]


def _names_own_role(value: str, own: OwnIdentity) -> bool:
    """Whether an ARN pattern (a condition value, a resource) covers one of IAM Warden's roles."""
    return any(_covers_role(value, role, home) for role, home in _own_roles(own))


def _covers_every_own_role(values: Iterable[str], own: OwnIdentity) -> bool:
    """Whether the patterns together cover each of IAM Warden's roles (home roles and member roles)."""
    patterns = list(values)
    return all(any(_covers_role(v, role, home) for v in patterns) for role, home in _own_roles(own))


def _names_own_function(value: str, own: OwnIdentity) -> bool:
    name = value.split(":function:", 1)[1].split(":", 1)[0] if ":function:" in value else None
    return name is not None and any(wildcard_match(name, function) for function in own.functions)


def _knows_own(own: OwnIdentity) -> bool:
    return bool(own.home_roles or own.member_roles)


def reach(statement: Statement, own: OwnIdentity) -> Reach:
    """Whether a Deny statement applies to IAM Warden's roles, by its ``aws:PrincipalArn`` conditions.

    Judged per role: a Deny that leaves out only some of IAM Warden's roles (the enforcer, say) still applies to the
    others (forwarders, heartbeat, remediators), so it reaches IAM Warden; one that keeps in only named principals
    leaves IAM Warden out only when it names none of its roles.
    """
    others: list[str] = []
    for condition in statement.conditions:
        if condition.key != _PRINCIPAL_ARN:
            others.append(f"{condition.operator} {condition.key} {', '.join(condition.values)}")
            continue
        if condition.operator not in _EXCLUDING | _ONLY:
            others.append(f"{condition.operator} {condition.key} {', '.join(condition.values)}")
            continue
        if not _knows_own(own):
            return Reach("unknown")
        if condition.operator in _EXCLUDING and _covers_every_own_role(condition.values, own):
            return Reach("no")
        if condition.operator in _ONLY and not any(_names_own_role(value, own) for value in condition.values):
            return Reach("no")
    return Reach("yes", tuple(others))


def _covers(statement: Statement, action: str, own: OwnIdentity, partition: str) -> bool:
    """Whether a Deny's resources take in what IAM Warden calls ``action`` on: every resource of its kind (any
    pattern that matches every ARN), or, for what it calls on itself, its own roles or functions."""
    if statement.resources is None:  # NotResource: denied everywhere but a few named resources
        return True
    sample = f"arn:{partition}:{_SAMPLES[action]}"
    for resource in statement.resources:
        if wildcard_match(resource, sample):
            return True
        if action in _ON_OWN_ROLES and _names_own_role(resource, own):
            return True
        if action in _ON_OWN_FUNCTIONS and _names_own_function(resource, own):
            return True
        if action == "events:PutEvents" and _names_own_bus(resource, own):
            return True
        if action == "sns:Publish" and any(
            topic is not None and wildcard_match(resource, topic)
            for topic in (own.alert_topic, own.alert_fallback_topic)
        ):
            return True
    return False


def _names_own_bus(value: str, own: OwnIdentity) -> bool:
    """Whether an ARN pattern covers the central bus every account forwards to (its name, in any account)."""
    name = value.split(":event-bus/", 1)[1] if ":event-bus/" in value else None
    return name is not None and own.central_bus is not None and wildcard_match(name, own.central_bus)


def _denied(statement: Statement, actions: Iterable[str], own: OwnIdentity, partition: str) -> list[str]:
    return [
        action for action in actions if statement.grants_action(action) and _covers(statement, action, own, partition)
    ]


class ContentVerdict(NamedTuple):
    """What a policy's content does to IAM Warden."""

    #: The actions IAM Warden needs to see and alert that a Deny applying to its roles covers.
    blinds: tuple[str, ...]
    #: The remediation actions such a Deny covers (and nothing it needs to see).
    hinders: tuple[str, ...]
    #: Conditions under which the blinding Deny holds (empty: always).
    only_when: tuple[str, ...]
    #: The statements whose reach could not be known (IAM Warden's own roles are not configured).
    unknown: tuple[str, ...]
    #: Whether the content guards IAM Warden (a Deny that names its roles or functions, or leaves only them out).
    guards: bool


def judge_content(document: Mapping[str, Any], own: OwnIdentity, partition: str = "aws") -> ContentVerdict:
    """What a service control policy's content does to IAM Warden (pure: the document and IAM Warden's identity)."""
    policy = parse_policy(document, field="requestParameters.content")
    blinds: list[str] = []
    hinders: list[str] = []
    only_when: list[str] = []
    unknown: list[str] = []
    guards = False
    for statement in policy.statements:
        if statement.allows:
            continue
        guards = guards or _guards(statement, own)
        seen, fixed = _denied(statement, SEES, own, partition), _denied(statement, REMEDIATES, own, partition)
        if not seen and not fixed:
            continue
        found = reach(statement, own)
        if found.applies == "no":
            continue
        if found.applies == "unknown":
            unknown.append(statement.label)
            continue
        blinds.extend(a for a in seen if a not in blinds)
        hinders.extend(a for a in fixed if a not in hinders)
        if seen:
            only_when.extend(found.only_when)
    return ContentVerdict(tuple(blinds), tuple(hinders), tuple(only_when), tuple(unknown), guards)


def _guards(statement: Statement, own: OwnIdentity) -> bool:
    """A Deny that protects IAM Warden: it leaves out every one of IAM Warden's roles (everyone else is denied), and
    names its roles or functions as resources or leaves out only its roles. A Deny on IAM Warden's resources that
    applies to its own roles too (``sts:AssumeRole`` on ``role/iamwarden-*``) guards nothing: it blinds."""
    if not _knows_own(own) or reach(statement, own).applies != "no":
        return False
    for resource in statement.resources or ():
        if resource != "*" and (
            _names_own_role(resource, own) or _names_own_function(resource, own) or _names_own_bus(resource, own)
        ):
            return True
    return any(
        condition.key == _PRINCIPAL_ARN
        and condition.operator in _EXCLUDING
        and _covers_every_own_role(condition.values, own)
        for condition in statement.conditions
    )


def _content(value: Any) -> Mapping[str, Any] | None:
    """The policy document of a request's ``content`` (a JSON string); None when it is no IAM-style document."""
    if isinstance(value, Mapping):
        return value
    if not isinstance(value, str):
        return None
    try:
        document = json.loads(value)
    except ValueError:
        return None
    return document if isinstance(document, Mapping) and "Statement" in document else None


def _summary(change_response: Mapping[str, Any] | None) -> Mapping[str, Any]:
    policy = (change_response or {}).get("policy")
    summary = policy.get("policySummary") if isinstance(policy, Mapping) else None
    return summary if isinstance(summary, Mapping) else {}


class ServiceControlPolicyRule:
    """CreatePolicy, UpdatePolicy, AttachPolicy and DetachPolicy of service control policies: alerted only."""

    specs: ClassVar[tuple[RuleSpec, ...]] = (SCP_BLINDS_IAMWARDEN,)

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        request = change.request_parameters
        summary = _summary(change.response_elements)
        if change.event_name == "CreatePolicy":
            policy_id = summary.get("id")
            if request.get("type") != "SERVICE_CONTROL_POLICY":
                evaluation = Evaluation()
                evaluation.compliant.append(f"policy {request.get('name')} is no service control policy")
                return evaluation
        else:
            policy_id = context.request_text("policyId")
        if not isinstance(policy_id, str) or not policy_id:
            raise InvalidEventError("detail.responseElements.policy.policySummary.id must name the new policy")
        key = policy_key(context.partition, change.account, policy_id)
        evaluation = Evaluation(resource_arn=key)
        name = str(request.get("name") or summary.get("name") or policy_id)
        if change.event_name in ("CreatePolicy", "UpdatePolicy"):
            return _written(context, evaluation, key, policy_id, name)
        return _attached(context, evaluation, key, policy_id)


def _kept(context: RuleContext, key: str) -> Snapshot | None:
    """The content IAM Warden kept of the policy before this change (None offline, or never seen written)."""
    recorded = context.recorded
    snapshot = recorded.snapshot(SCP, key) if recorded is not None else None
    return snapshot if snapshot is not None and snapshot.taken_before(context.change.time) else None


def _written(context: RuleContext, evaluation: Evaluation, key: str, policy_id: str, name: str) -> Evaluation:
    change = context.change
    request = change.request_parameters
    if change.event_name == "UpdatePolicy" and request.get("content") is None:
        evaluation.compliant.append(f"policy {name}'s content is unchanged")
        return evaluation
    summary_type = _summary(change.response_elements).get("type")
    if summary_type is not None and summary_type != "SERVICE_CONTROL_POLICY":
        evaluation.compliant.append(f"policy {name} is no service control policy")
        return evaluation
    document = _content(request.get("content"))
    if document is None:
        evaluation.compliant.append(f"policy {name}'s content is no IAM policy document")
        return evaluation
    own = context.settings.own
    verdict = judge_content(document, own, context.partition)
    evaluation.observed.append(
        Snapshot(
            SCP,
            key,
            observed_at(change.time),
            {"policy_id": policy_id, "name": name, "content": dict(document)},
            whatever_the_verdict=True,
        )
    )
    actor = change.actor.display
    created = change.event_name == "CreatePolicy"
    targets = (
        "once it is attached"
        if created
        else f"in every account it is attached to (aws organizations list-targets-for-policy --policy-id {policy_id})"
    )
    undo = (
        f"aws organizations delete-policy --policy-id {policy_id}"
        if created
        else f"aws organizations update-policy --policy-id {policy_id} --content file://<its previous content>"
    )
    before = _kept(context, key) if not created else None
    if before is not None and _content(before.data.get("content")) is not None:
        previous = judge_content(before.data["content"], own, context.partition)
        if previous.guards and not verdict.guards:
            evaluation.findings.append(
                context.finding(
                    SCP_BLINDS_IAMWARDEN,
                    severity=Severity.CRITICAL,
                    resource_arn=key,
                    reason=(
                        f"{actor} rewrote service control policy {name} ({policy_id}) so that it no longer guards "
                        f"IAM Warden's roles and functions (IAM Warden's record of it from {before.taken_at} did): "
                        f"they are open to change {targets}. Put the content back: aws organizations update-policy "
                        f"--policy-id {policy_id} --content <the content of {before.taken_at}>."
                    ),
                    plan=(),
                )
            )
            return evaluation
    return _content_finding(
        context,
        evaluation,
        key=key,
        name=name,
        policy_id=policy_id,
        verdict=verdict,
        where=targets,
        undo=undo,
        created=created,
    )


def _content_finding(
    context: RuleContext,
    evaluation: Evaluation,
    *,
    key: str,
    name: str,
    policy_id: str,
    verdict: ContentVerdict,
    where: str,
    undo: str,
    created: bool,
) -> Evaluation:
    """The finding for content that blinds or hinders IAM Warden (or what is unknown), or compliant."""
    actor = context.change.actor.display
    verb = {"CreatePolicy": "created", "UpdatePolicy": "updated", "AttachPolicy": "attached"}.get(
        context.change.event_name, "changed"
    )
    unknown = [
        f"whether {label} of policy {name} applies to IAM Warden's roles: it names principals by aws:PrincipalArn and "
        "IAM Warden's own roles are not configured here (IAMWARDEN_OWN_ROLE_ARNS)"
        for label in verdict.unknown
    ]
    if verdict.blinds:
        conditional = bool(verdict.only_when)
        severity = Severity.HIGH if conditional else Severity.CRITICAL
        when = f" when {'; '.join(verdict.only_when)}" if conditional else ""
        reason = (
            f"{actor} {verb} service control policy {name} ({policy_id}) that denies IAM Warden's roles "
            f"{', '.join(verdict.blinds)}{when}: IAM Warden no longer sees or alerts {where}. Undo it if it was not "
            f"meant: {undo}; or leave IAM Warden's roles out of the Deny (ArnNotLike aws:PrincipalArn)."
        )
    elif verdict.hinders:
        severity = Severity.MEDIUM
        reason = (
            f"{actor} {verb} service control policy {name} ({policy_id}) that denies IAM Warden's roles "
            f"{', '.join(verdict.hinders)}: IAM Warden still alerts, but cannot remediate with them {where}. If "
            "IAM Warden should remediate, leave its roles out of the Deny (ArnNotLike aws:PrincipalArn)."
        )
    elif unknown:
        severity = Severity.MEDIUM
        reason = (
            f"{actor} {verb} service control policy {name} ({policy_id}) with a Deny that may apply to IAM Warden's "
            f"roles {where}. Undo it if it was not meant: {undo}."
        )
    else:
        evaluation.compliant.append(f"service control policy {name} denies IAM Warden's roles nothing they need")
        return evaluation
    evaluation.findings.append(
        context.finding(
            SCP_BLINDS_IAMWARDEN, severity=severity, resource_arn=key, reason=reason, plan=(), needs_context=unknown
        )
    )
    return evaluation


#: The AWS-managed service control policy that allows everything (``Allow * *``), attached to every root, OU and
#: account when SCPs are enabled. Its id is this literal string (Organizations User Guide, "FullAWSAccess").
FULL_AWS_ACCESS = "p-FullAWSAccess"
_FULL_AWS_ACCESS_CONTENT: Mapping[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def _attached(context: RuleContext, evaluation: Evaluation, key: str, policy_id: str) -> Evaluation:
    """AttachPolicy of a blinding policy, DetachPolicy of a guarding one, judged on the content IAM Warden kept.

    ``FullAWSAccess`` is known without a snapshot: detaching it leaves only what other policies allow (high, with
    what is unknown). A policy IAM Warden never saw written is alerted with its content as unknown, never passed.
    """
    change = context.change
    target = context.request_text("targetId")
    if policy_id == FULL_AWS_ACCESS and change.event_name == "DetachPolicy":
        return _full_access_detached(context, evaluation, key, target)
    snapshot = _kept(context, key)
    document = _content(snapshot.data.get("content")) if snapshot is not None else None
    if policy_id == FULL_AWS_ACCESS:
        snapshot, document = None, _FULL_AWS_ACCESS_CONTENT
    elif snapshot is None or document is None:
        return _unseen(context, evaluation, key, policy_id, target)
    name = str(snapshot.data.get("name") or policy_id) if snapshot is not None else "FullAWSAccess"
    verdict = judge_content(document, context.settings.own, context.partition)
    if change.event_name == "AttachPolicy":
        return _content_finding(
            context,
            evaluation,
            key=key,
            name=name,
            policy_id=policy_id,
            verdict=verdict,
            where=f"under target {target}",
            undo=f"aws organizations detach-policy --policy-id {policy_id} --target-id {target}",
            created=False,
        )
    if not verdict.guards:
        evaluation.compliant.append(f"service control policy {name} did not guard IAM Warden")
        return evaluation
    evaluation.findings.append(
        context.finding(
            SCP_BLINDS_IAMWARDEN,
            severity=Severity.CRITICAL,
            resource_arn=key,
            reason=(
                f"{change.actor.display} detached service control policy {name} ({policy_id}), which guarded IAM "
                f"Warden's roles and functions, from target {target}: they are open to change there. Attach it "
                f"again: aws organizations attach-policy --policy-id {policy_id} --target-id {target}."
            ),
            plan=(),
        )
    )
    return evaluation


def _unseen(context: RuleContext, evaluation: Evaluation, key: str, policy_id: str, target: str) -> Evaluation:
    """An attach or detach of a policy whose content IAM Warden never kept: medium, alerted with what is unknown."""
    change = context.change
    attached = change.event_name == "AttachPolicy"
    why = (
        "IAM Warden is offline and keeps no policy content"
        if context.recorded is None
        else "IAM Warden keeps the content of the service control policies it saw created or updated in this "
        "account, and not this one's (created before IAM Warden watched, AWS-managed, or written elsewhere)"
    )
    if attached:
        reason = (
            f"{change.actor.display} attached service control policy {policy_id} to target {target}; what it denies "
            "is unknown here, and a Deny of what IAM Warden's roles call would leave every account under it "
            f"unwatched. Read it: aws organizations describe-policy --policy-id {policy_id}; undo it if it was not "
            f"meant: aws organizations detach-policy --policy-id {policy_id} --target-id {target}."
        )
    else:
        reason = (
            f"{change.actor.display} detached service control policy {policy_id} from target {target}; whether it "
            "guarded IAM Warden's roles and functions (or was the Allow they relied on) is unknown here. Read it: aws "
            f"organizations describe-policy --policy-id {policy_id}; attach it again if it was not meant: aws "
            f"organizations attach-policy --policy-id {policy_id} --target-id {target}."
        )
    evaluation.findings.append(
        context.finding(
            SCP_BLINDS_IAMWARDEN,
            severity=Severity.MEDIUM,
            resource_arn=key,
            reason=reason,
            plan=(),
            needs_context=[f"what service control policy {policy_id} says: {why}"],
        )
    )
    return evaluation


def _full_access_detached(context: RuleContext, evaluation: Evaluation, key: str, target: str) -> Evaluation:
    """FullAWSAccess detached: under the target only what other attached policies allow is allowed (implicit deny)."""
    change = context.change
    evaluation.findings.append(
        context.finding(
            SCP_BLINDS_IAMWARDEN,
            severity=Severity.HIGH,
            resource_arn=key,
            reason=(
                f"{change.actor.display} detached FullAWSAccess ({FULL_AWS_ACCESS}), the service control policy that "
                f"allows everything, from target {target}: every account under it is now denied whatever no other "
                "policy attached there allows, IAM Warden's roles included (an allow-list SCP that leaves out "
                "CloudTrail, EventBridge, STS... blinds IAM Warden there). Attach it again if it was not meant: aws "
                f"organizations attach-policy --policy-id {FULL_AWS_ACCESS} --target-id {target}."
            ),
            plan=(),
            needs_context=[
                f"whether another policy attached to target {target} still allows what IAM Warden's roles call: IAM "
                "Warden does not read a target's policies (aws organizations list-policies-for-target --target-id "
                f"{target} --filter SERVICE_CONTROL_POLICY); if none does, IAM Warden is blind there"
            ],
        )
    )
    return evaluation


GUARDRAILS = (ServiceControlPolicyRule(),)
ACTIONS = ()
