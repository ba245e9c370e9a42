"""``iamwarden-tampered``: someone other than IAM Warden's own stack changes IAM Warden.

An intruder with admin rights first blinds the watchers: disables the rule that routes events, sets the
enforcer's concurrency to 0, rewrites its role's policies, or sets its settings to ignore everyone. Nothing
legitimate does any of this outside a stack update, so the rule is critical and in ``remediate`` by default.

What is IAM Warden's comes from ``settings.own`` (``iamwarden.domain.own``: exact names from the template,
never from SSM). A change CloudFormation makes (``invokedBy`` ``cloudformation.amazonaws.com``) is the stack's
own deployment: no other stack can hold these exact names while this one does. Judged:

* its roles (exact name in the account: IAM role names are unique per account): inline, attached and
  boundary policies, trust policy, deletion. An attached policy is detached (``detach_managed_policy``), a
  declared remediation grant detached is attached back (``reattach_own_grant``) only while the policy holds the
  document its template declares, else alerted with why and the exact ``attach-role-policy`` command (an
  operator's ``iamwarden undo`` of such a re-attach is kept detached on the audit table's proof alone:
  ``undone_reattach``), and a boundary put on taken off (``remove_own_role_boundary``: the templates declare
  none). A rewritten trust policy or inline policy (put or deleted) is put back (``restore_own_role_document``)
  from IAM Warden's own snapshot of the role (``OWN_ROLE``, taken by the heartbeat), or, for a trust policy of
  the security account's stack without one, from the document the template declares
  (``OwnIdentity.declared_trust_policy``); in a member account from that account's snapshot of the member stack's
  role (taken through its ``iamwarden-snapshot-reader`` role), written through the member role like every
  remediation there, and only into the role the snapshot was taken of (same ARN: path and account);
  with neither the finding says what is missing (``needs_context``) and is only alerted. Deletion is alerted
  with what to do;
* its managed policies (the remediation grants: ``OwnIdentity.is_own_policy``, exact ARN at home, the member
  stack's names at path / elsewhere): a new default version (``CreatePolicyVersion`` as the default,
  ``SetDefaultPolicyVersion``) is put back to the version the stack deployed (``restore_own_policy_version``, from
  the ``OWN_POLICY`` record the deploy takes; without one, ``needs_context`` and only alerted: IAM does not say
  which version was the default before). A version created without being the default, or a non-default version
  deleted, leaves nothing in force: alerted, high. ``DeletePolicy`` is alerted with the redeploy command.
  ``policy-version-admin`` and ``privilege-escalation`` leave these policies to this rule;
* its EventBridge rules: ``DisableRule`` is re-enabled (``enable_own_rule``); ``DeleteRule``, ``PutRule``
  (re-patterned), ``RemoveTargets`` and ``PutTargets`` (a target's input overridden or pointed elsewhere) are
  alerted with the exact ``aws events`` commands for what the event changed (``_restore_rule_commands``; the
  redeploy command for a member stack's rule);
* its functions: ``PutFunctionConcurrency`` / ``DeleteFunctionConcurrency`` are put back to what the
  template declares (``restore_function_concurrency``); ``Put/Update/DeleteFunctionEventInvokeConfig`` on a
  function whose event invoke config the template declares is put back to it (``restore_function_invoke_config``:
  retries, maximum event age, destinations resolved for the stack's account; alert-only when a destination cannot
  be resolved from the declared content); code, configuration, permissions and deletion are alerted;
* its queues and tables, changed or deleted: alerted;
* its Slack secrets (webhook, bot token, signing secret; exact ARN or name), changed by anyone not in
  ``operators``: a deleted secret restored (``restore_own_secret``), a new current version replaced by the one before
  when IAM Warden knows that one good (``restore_own_secret_version``, from the ``OWN_SECRET`` record the enforcer
  keeps of each judged change: ``_secret_version_target``), a resource policy put on one deleted
  (``remove_own_secret_policy``); another key or a rotation alerted with the way back;
* its SSM settings, changed by anyone not in ``operators``: alerted, and with ``settings_guard: restore``
  the previous value is put back from the parameter's history (``restore_setting``);
* its stack itself (``UpdateStack``, change sets, stack policy, ``DeleteStack``, termination protection off) by
  anyone not in ``operators``: an update with another template makes every later change look like the stack's own
  deployment, so only operators deploy IAM Warden; alerted.
"""

import json
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, ClassVar, NamedTuple

from iamwarden.adapters.errors import error_code, ignoring, is_gone, unclear_code
from iamwarden.domain import declared
from iamwarden.domain.arns import iam_arn
from iamwarden.domain.canonical import canonical
from iamwarden.domain.catalog import Mode, OptionSpec, RuleSpec, Severity
from iamwarden.domain.declared_content import (
    ANY_ROLE_ID,
    ROLE_INLINE_EVENTS,
    ROLE_MANAGED_EVENTS,
    DeclaredRole,
    DeclaredRule,
    declared_alarm,
    declared_alert_key_policy,
    declared_bus_policy,
    declared_fallback_topic_policy,
    declared_forwarder_role,
    declared_grant,
    declared_inline_policy,
    declared_queue_policy,
    declared_rule,
    declared_table_policy,
    fill,
    rule_differences,
    rules_targeting,
    target_differences,
    undeclared_on_own_role,
)
from iamwarden.domain.documents import PolicyKind, decode_policy_document
from iamwarden.domain.exceptions import AuditError, InvalidEventError, RemediationError, UndoError
from iamwarden.domain.findings import Finding, RemediationStep, StepAction
from iamwarden.domain.own import CENTRAL_BUS_STATEMENT_ID, admits_only_the_stack
from iamwarden.domain.quarantine import (
    DENY_ALL_DONE,
    NOT_QUARANTINED,
    QUARANTINE_POLICY_NAME,
    failed_with,
    wrote,
)
from iamwarden.domain.recorded import (
    OWN_CODE,
    OWN_POLICY,
    OWN_ROLE,
    OWN_SECRET,
    OWN_SUBSCRIPTION,
    SUBSCRIPTION_ATTRIBUTES,
    PastRemediation,
    Snapshot,
    in_force,
    observed_at,
)
from iamwarden.domain.rule_exceptions import operator_pattern
from iamwarden.domain.settings_guard import (
    RESTORE_SETTING,
    SETTING_EVENTS,
    TAMPERED_RULE_ID,
    guards_the_guard,
    known_good_version,
    settings_written,
    switches_remediation_off,
)
from iamwarden.domain.wildcards import arn_match, wildcard_match
from iamwarden.guardrails.base import Evaluation, RuleContext
from iamwarden.guardrails.iam_user import DENY_ALL_POLICY, deny_all_boundary
from iamwarden.guardrails.lambda_permissions import RemoveLambdaPermission
from iamwarden.guardrails.managed_policy import DetachManagedPolicy
from iamwarden.guardrails.remediation import AccountClients, Permissions, StepRun, pages, policy_document

IAM = "iam.amazonaws.com"
EVENTS = "events.amazonaws.com"
LAMBDA = "lambda.amazonaws.com"
SSM = "ssm.amazonaws.com"
SQS = "sqs.amazonaws.com"
DYNAMODB = "dynamodb.amazonaws.com"
CLOUDFORMATION = "cloudformation.amazonaws.com"
SNS = "sns.amazonaws.com"
KMS = "kms.amazonaws.com"
CLOUDWATCH = "monitoring.amazonaws.com"
SECRETSMANAGER = "secretsmanager.amazonaws.com"

#: The role changes judged here (the own roles' policies, boundary, trust policy and existence).
ROLE_EVENTS = frozenset(
    {
        # A role created under an own role's name (deleted first, or in an account the member stack never reached)
        # is not IAM Warden's: it would take the member stack's place (``own_created_role_target``).
        "CreateRole",
        "PutRolePolicy",
        "DeleteRolePolicy",
        "AttachRolePolicy",
        "DetachRolePolicy",
        "UpdateAssumeRolePolicy",
        "PutRolePermissionsBoundary",
        "DeleteRolePermissionsBoundary",
        "DeleteRole",
        # A longer maximum session outlives a restored trust policy: whoever assumed the role meanwhile keeps a
        # session for up to 12 hours (audit s6 gap 3). A shorter one than the enforcer asks for stops it.
        "UpdateRole",
    }
)
#: Every role of IAM Warden's stacks keeps IAM's default maximum session (the member template declares it).
DECLARED_MAX_SESSION_DURATION = 3600
#: The own managed policies' changes (the remediation grants): a new default version, a version or the policy
#: deleted. ``CreatePolicyVersion`` and ``SetDefaultPolicyVersion`` are judged by ``policy-version-admin`` too,
#: which leaves IAM Warden's own policies to this rule.
POLICY_EVENTS = frozenset({"CreatePolicyVersion", "SetDefaultPolicyVersion", "DeletePolicyVersion", "DeletePolicy"})
#: ``PutTargets`` too: the same target id with its input overridden (``Input``/``InputPath``/``InputTransformer``:
#: the enforcer then judges a constant, harmless event) or another ARN silences a rule while it stays enabled.
RULE_EVENTS = frozenset({"DisableRule", "DeleteRule", "PutRule", "RemoveTargets", "PutTargets"})
#: The central bus's policy and the bus itself: without the statement admitting the organisation, or without the
#: bus, every member account's events are refused and nothing says so.
BUS_EVENTS = frozenset({"RemovePermission", "PutPermission", "DeleteEventBus"})
#: An archive of the buses the enforcer's rules read (the central bus, and the security account's default bus that
#: forwards its own events), and a replay into one of them: old violating events replayed weeks later would have
#: IAM Warden redo remediations operators undid (review s8 section 10). The enforcer never acts on a replayed event
#: (``domain.replays``); the replay and the archive it comes from are alerted.
ARCHIVE_EVENTS = frozenset({"CreateArchive", "StartReplay"})
#: An own function's event invoke config put, updated or deleted (API version 2019-09-25). The evidence for the event
#: name is mixed: the Lambda Developer Guide's list of management events gives ``PutFunctionEventInvokeConfig`` and
#: ``UpdateFunctionEventInvokeConfig`` no other name (and does not list ``DeleteFunctionEventInvokeConfig``), its
#: archived source says an eventName "might include date and version information", and no published record or
#: detection rule of any of the three was found (README, "Tampering with IAM Warden itself"). So the plain names and
#: Lambda's version-suffixed spelling (``...20190925``, as ``PutFunctionConcurrency20171031``) are judged alike: an
#: event missed is a dead-letter destination left gone, a name that never comes costs nothing. Matched exactly:
#: another suffix (``...20190925v2``) is missed, a known limit (review s17 invoke2 F4, not done).
INVOKE_CONFIG_EVENTS = frozenset(
    f"{verb}FunctionEventInvokeConfig{suffix}" for verb in ("Put", "Update", "Delete") for suffix in ("", "20190925")
)
#: Lambda's CloudTrail event names carry API version suffixes (the Lambda developer guide lists them).
FUNCTION_EVENTS = INVOKE_CONFIG_EVENTS | frozenset(
    {
        # Any function given one of IAM Warden's roles runs as IAM Warden (the role trusts Lambda, not a function):
        # judged for every function of the security account, not only the stack's (``_borrowed_role_target``).
        "CreateFunction20150331",
        "PutFunctionConcurrency20171031",
        "DeleteFunctionConcurrency20171031",
        "UpdateFunctionCode20150331v2",
        "UpdateFunctionConfiguration20150331v2",
        "DeleteFunction20150331",
        "AddPermission20150331v2",
        "RemovePermission20150331v2",
        # A function URL on an own function lets anyone who reaches it hand the function any payload: the enforcer
        # would act on forged events with its member roles everywhere (review s8 section 11).
        "CreateFunctionUrlConfig20211031",
        "UpdateFunctionUrlConfig20211031",
    }
)
#: The Lambda calls that give a function a URL.
URL_EVENTS = frozenset({"CreateFunctionUrlConfig20211031", "UpdateFunctionUrlConfig20211031"})
QUEUE_EVENTS = frozenset({"DeleteQueue", "SetQueueAttributes", "PurgeQueue"})
TABLE_EVENTS = frozenset({"DeleteTable", "UpdateTable", "UpdateContinuousBackups", "UpdateTimeToLive"}) | frozenset(
    {"PutResourcePolicy", "DeleteResourcePolicy"}  # the policy that keeps item writes to IAM Warden (audit s7 gap 6)
)
#: The alert path: the alert topic and its subscriptions, the key it is encrypted with, the stack's alarms.
TOPIC_EVENTS = frozenset({"Unsubscribe", "SetSubscriptionAttributes", "DeleteTopic", "SetTopicAttributes"})
KEY_EVENTS = frozenset({"DisableKey", "ScheduleKeyDeletion"})
ALARM_EVENTS = frozenset({"DeleteAlarms", "DisableAlarmActions"})
#: Quieter ways to silence the alert path (``_silenced_alert_path_target``): a key policy that locks IAM Warden and
#: SNS out of the alert key, a data-protection policy that denies every publish, an alarm overwritten, and the
#: central bus given another key or a dead-letter queue.
SILENCING_EVENTS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        KMS: frozenset({"PutKeyPolicy"}),
        SNS: frozenset({"PutDataProtectionPolicy"}),
        CLOUDWATCH: frozenset({"PutMetricAlarm"}),
        EVENTS: frozenset({"UpdateEventBus"}),
    }
)
#: The stack itself: an update with another template re-patterns every rule and rewrites every role, and each
#: change CloudFormation then makes looks like the stack's own deployment; a deletion takes the whole guard.
STACK_EVENTS = frozenset(
    {
        "UpdateStack",
        "DeleteStack",
        "CreateChangeSet",
        "ExecuteChangeSet",
        "SetStackPolicy",
        "UpdateTerminationProtection",
    }
)
#: The member StackSet (administered from the security account as its delegated administrator): an update with
#: another template, or its instances deleted, takes IAM Warden out of every member account at once.
STACK_SET_EVENTS = frozenset(
    {
        "UpdateStackSet",
        "DeleteStackSet",
        "CreateStackInstances",
        "UpdateStackInstances",
        "DeleteStackInstances",
    }
)
#: The Slack credentials the alerts go out with: a new value (or another version made current) redirects or
#: silences Slack, a deleted secret, another key, a resource policy or a rotation to someone's function as well.
SECRET_EVENTS = frozenset(
    {
        "PutSecretValue",
        "UpdateSecret",
        "UpdateSecretVersionStage",
        "DeleteSecret",
        "PutResourcePolicy",
        "DeleteResourcePolicy",
        "RotateSecret",
    }
)
#: The staging label of the version Secrets Manager hands out (``GetSecretValue`` without a version).
CURRENT = "AWSCURRENT"

IAMWARDEN_TAMPERED = RuleSpec(
    id=TAMPERED_RULE_ID,
    title="IAM Warden itself changed",
    event_source=IAM,
    event_names=ROLE_EVENTS
    | POLICY_EVENTS
    | RULE_EVENTS
    | BUS_EVENTS
    | ARCHIVE_EVENTS
    | TOPIC_EVENTS
    | KEY_EVENTS
    | ALARM_EVENTS
    | STACK_EVENTS
    | STACK_SET_EVENTS
    | SECRET_EVENTS
    | FUNCTION_EVENTS
    | QUEUE_EVENTS
    | TABLE_EVENTS
    | SETTING_EVENTS
    | frozenset().union(*SILENCING_EVENTS.values()),
    risk=(
        "Whoever disables IAM Warden's rules, functions, roles or settings can then change anything unseen: "
        "an intruder blinds the guard first."
    ),
    options={
        "operators": OptionSpec(
            "patterns",
            (),
            "ARN patterns of the people and roles who may change IAM Warden's settings in SSM and its Slack secrets",
        ),
        "settings_guard": OptionSpec(
            "choice",
            "alert",
            "alert (a settings change by anyone not in operators is alerted) or restore (also put the newest known "
            "good earlier value back from the parameter's history)",
            ("alert", "restore"),
        ),
    },
    alert_risk=(
        "Someone changed IAM Warden itself, outside its own stack: the first thing an intruder does is switch off "
        "the guard, so every later change may go unseen until it is put back."
    ),
    default_mode=Mode.REMEDIATE,
)

#: Every (event source, event name) this rule judges: the spec names one source, the rule spans six.
EVENT_KEYS = frozenset(
    {(IAM, name) for name in ROLE_EVENTS | POLICY_EVENTS}
    | {(EVENTS, name) for name in RULE_EVENTS | BUS_EVENTS | ARCHIVE_EVENTS}
    | {(LAMBDA, name) for name in FUNCTION_EVENTS}
    | {(SQS, name) for name in QUEUE_EVENTS}
    | {(DYNAMODB, name) for name in TABLE_EVENTS}
    | {(SSM, name) for name in SETTING_EVENTS}
    | {(SNS, name) for name in TOPIC_EVENTS}
    | {(KMS, name) for name in KEY_EVENTS}
    | {(CLOUDWATCH, name) for name in ALARM_EVENTS}
    | {(CLOUDFORMATION, name) for name in STACK_EVENTS | STACK_SET_EVENTS}
    | {(SECRETSMANAGER, name) for name in SECRET_EVENTS}
    | {(source, name) for source, names in SILENCING_EVENTS.items() for name in names}
)


class Target(NamedTuple):
    """What of IAM Warden's a change touches (described), its ARN, the plan, and what a restore lacks."""

    what: str
    arn: str
    plan: list[RemediationStep]
    needs: tuple[str, ...] = ()
    #: Below critical: the change left nothing in force to put back (a version that grants nothing yet).
    severity: Severity = Severity.CRITICAL
    #: What the alert says is done about it, when the plan or the redeploy command does not say it.
    done: str | None = None
    #: Why the change is fine after all (it puts back what the stack deployed): compliant, no finding.
    fine: str | None = None
    #: The version of an own Slack secret the change made ``AWSCURRENT``: kept as the next change's "before".
    made_current: str | None = None


class TamperingRule:
    """A change to one of IAM Warden's own roles, rules, functions, queues, tables or settings."""

    specs: ClassVar[tuple[RuleSpec, ...]] = (IAMWARDEN_TAMPERED,)
    event_keys: ClassVar[frozenset[tuple[str, str]]] = EVENT_KEYS

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        target = self._target(context)
        if target is None:
            evaluation = Evaluation()
            if change.event_source != IAM:  # IAM events are judged by other rules too: they say what they found
                evaluation.compliant.append(f"{change.event_name} does not touch IAM Warden's own resources")
            return evaluation
        evaluation = self._judged(context, target)
        if target.made_current is not None and context.recorded is not None:
            # The next change's "before" (``_secret_version_target``): PutSecretValue never says which version it
            # replaced. Not kept after a restore (the service's rule): the version before is current again.
            data = {
                "current_version": target.made_current,
                "tampered": bool(evaluation.findings),
                "event_id": change.event_id,
            }
            taken = observed_at(change.time)
            # Kept from a violation too: it names the change as tampering, so it is never a version to put back.
            evaluation.observed.append(Snapshot(OWN_SECRET, target.arn, taken, data, whatever_the_verdict=True))
        code = deployed_code(context, target, evaluation)
        if code is not None:
            evaluation.observed.append(code)
        return evaluation

    def _judged(self, context: RuleContext, target: Target) -> Evaluation:
        """The verdict on a change to ``target``: the stack's or an operator's (compliant), else tampering."""
        change = context.change
        own = context.settings.own
        what, arn, plan, needs = target.what, target.arn, target.plan, target.needs
        evaluation = Evaluation(resource_arn=arn)
        stack_change = ""
        outside = _outside_the_member_stack_set(context) if change.actor.invoked_by == CLOUDFORMATION else None
        if outside is not None:
            stack_change = outside
        elif change.actor.invoked_by == CLOUDFORMATION:
            undeclared = undeclared_by_the_stack(context)
            if undeclared is None:
                unlike = _unlike_the_snapshot(context)
                if unlike is not None:  # a declared name, another document: maybe a deploy, maybe another stack
                    evaluation.findings.append(_unlike_finding(context, what, arn, unlike))
                    return evaluation
                content = unlike_the_template(context)
                if content.unknown:
                    evaluation.findings.append(_unknown_content_finding(context, target, content.unknown))
                    return evaluation
                if content.difference is None and _uncompared_deletion(context, content):
                    evaluation.findings.append(_uncompared_member_change(context, target))
                    return evaluation
                if content.difference is None:
                    declares = ", as its template declares" if content.compared else ""
                    evaluation.compliant.append(
                        f"CloudFormation deploying IAM Warden's own stack changed {what}{declares}"
                    )
                    return evaluation
                stack_change = f" through CloudFormation, but with {content.difference}"
                if change.event_source == SSM:  # a stack parameter may change a setting: high, not critical
                    target = target._replace(severity=Severity.HIGH)
            else:
                stack_change = f" through CloudFormation, but {undeclared}, which IAM Warden's stack does not declare"
        if target.fine is not None:
            evaluation.compliant.append(target.fine)
            return evaluation
        if change.event_source in (SSM, CLOUDFORMATION, SECRETSMANAGER):
            rule = context.rule(IAMWARDEN_TAMPERED.id)
            operator = next(
                (
                    pattern
                    for pattern in rule.patterns("operators")
                    for arn_ in (change.actor.arn, change.actor.session_issuer_arn)
                    if arn_ and arn_match(pattern, arn_)
                ),
                None,
            )
            if operator is not None:
                evaluation.compliant.append(f"{change.actor.display} is an operator ({operator!r}) and changed {what}")
                return evaluation
        if target.done is not None:
            done = target.done
        elif plan:
            done = "it will be put back"
        elif change.event_source == SSM:
            name = arn.split(":parameter", 1)[-1]
            unknown = f"it is not put back without {'; '.join(needs)}; " if needs else ""
            done = (
                f"{unknown}put it back: aws ssm get-parameter-history --name {name}, then aws ssm put-parameter "
                f"--overwrite --name {name} --value <the last good value>"
                + ("" if needs else f" (or set rules/{IAMWARDEN_TAMPERED.id}/settings_guard to restore)")
            )
        elif needs:
            redeploy = own.redeploy_command(change.account, change.region)
            done = f"it cannot be put back without {'; '.join(needs)}: {redeploy}"
        else:
            done = f"put it back: {own.redeploy_command(change.account, change.region)}"
        evaluation.findings.append(
            context.finding(
                IAMWARDEN_TAMPERED,
                severity=target.severity,
                resource_arn=arn,
                reason=(
                    f"{change.actor.display} changed IAM Warden itself ({change.event_name} on {what}), outside its "
                    f"own stack{stack_change}; {done}."
                ),
                plan=plan,
                needs_context=needs,
            )
        )
        return evaluation

    def _target(self, context: RuleContext) -> Target | None:
        """What of IAM Warden's the change touches (described), its ARN and the plan; None if nothing."""
        change = context.change
        own = context.settings.own
        account, region, partition = change.account, change.region, context.partition
        parameters = change.request_parameters
        source, name = change.event_source, change.event_name
        if source == IAM and name in POLICY_EVENTS:
            return _own_policy_target(context)
        if source == IAM:
            role = context.request_text("roleName")
            if role is None:
                return None
            if not own.guards_role(role, account):
                return _break_glass_target(context, role)
            arn = iam_arn(partition, account, "role", role)
            if name == "CreateRole":
                return _created_own_role_target(context, role, arn)
            plan: list[RemediationStep] = []
            if name == "AttachRolePolicy":
                policy_arn = context.request_text("policyArn")
                plan.append(
                    RemediationStep(
                        DetachManagedPolicy.action,
                        arn,
                        {"principal_type": "role", "principal_name": role, "policy_arn": policy_arn},
                        f"detach {policy_arn} from IAM Warden's role {role}",
                    )
                )
            if name == "DetachRolePolicy":
                detached = _detached_own_grant(context, role)
                if detached is not None:
                    return _detached_own_grant_target(context, role, arn, detached)
            if name == "PutRolePermissionsBoundary":
                boundary = context.request_text("permissionsBoundary")
                plan.append(
                    RemediationStep(
                        RemoveOwnRoleBoundary.action,
                        arn,
                        {"role_name": role, "boundary": boundary},
                        f"remove the permissions boundary {boundary} from IAM Warden's role {role} (its template "
                        "declares none)",
                    )
                )
            if name == "UpdateRole":
                return _session_duration_target(context, role, arn)
            if name in ("PutRolePolicy", "DeleteRolePolicy") and quarantined(context, role, arn):
                return None  # IAM Warden's quarantine, not its stack's policy: remediation-reversed puts it back
            if name in ("UpdateAssumeRolePolicy", "PutRolePolicy", "DeleteRolePolicy"):
                step, needs = _restore_role_document(context, role, arn)
                if step is None and name == "UpdateAssumeRolePolicy":
                    return _quarantined_role_target(context, role, arn, needs)
                steps = [step] if step else []
                # Not for a forwarder role: its sessions are EventBridge's (a Deny would stop forwarding), and one
                # let in could only put events on the central bus, as any principal of the organisation may.
                forwarder = own.kind_of_role_named(role, account) in FORWARDER_KINDS
                revokes = own.home_account not in (None, account) and not forwarder
                if step is not None and name == "UpdateAssumeRolePolicy" and revokes:
                    steps.append(_revoke_sessions_step(context, role, arn))
                return Target(f"its role {role}", arn, steps, needs)
            return Target(f"its role {role}", arn, plan)
        if name in SILENCING_EVENTS.get(source, ()):
            return _silenced_alert_path_target(context)
        if source == EVENTS and name in BUS_EVENTS:
            return _central_bus_target(context)
        if source == EVENTS and name in ARCHIVE_EVENTS:
            return _archive_or_replay_target(context)
        if source == EVENTS:
            rule_name = _text(parameters, "rule" if name in ("RemoveTargets", "PutTargets") else "name")
            bus = _bus_name(parameters.get("eventBusName"))
            key = rule_name if bus == "default" else f"{bus}/{rule_name}"
            if rule_name is None or key not in own.rules_in(account):
                return None
            arn = f"arn:{partition}:events:{region}:{account}:rule/{key}"
            plan = []
            if name == "DisableRule" or (name == "PutRule" and parameters.get("state") == "DISABLED"):
                plan.append(
                    RemediationStep(
                        EnableOwnRule.action,
                        arn,
                        {"rule_name": rule_name, "event_bus_name": bus},
                        f"enable IAM Warden's rule {key} again",
                    )
                )
            return Target(
                f"its EventBridge rule {key}{_targets_put(parameters) if name == 'PutTargets' else ''}",
                arn,
                plan,
                done=_rule_done(context, rule_name, bus, key, plan),
            )
        if source == CLOUDFORMATION and account != own.home_account:
            return _member_stack_target(context)
        if account != own.home_account:
            return None  # IAM Warden's functions, queues, tables and settings live in the security account only
        if source in (SNS, KMS, CLOUDWATCH):
            return _alert_path_target(context)
        if source == CLOUDFORMATION:
            return _own_stack_target(context)
        if source == SECRETSMANAGER:
            return _own_secret_target(context)
        if source == LAMBDA:
            function = function_name(_text(parameters, "functionName"))
            # A function is IAM Warden's only where its stack runs: a namesake in another region given one of its
            # roles runs as IAM Warden all the same, so it is stopped like any other (audit s6 gap 2).
            own_function = function in own.functions and own.home_region in (None, region)
            if name in ROLE_GIVING_EVENTS and not own_function:
                return _borrowed_role_target(context, function)
            if function is None or not own_function:
                return None
            arn = f"arn:{partition}:lambda:{region}:{account}:function:{function}"
            plan = []
            if name in ("PutFunctionConcurrency20171031", "DeleteFunctionConcurrency20171031"):
                declared = own.reserved_concurrency.get(function)
                if name == "PutFunctionConcurrency20171031" or declared is not None:
                    plan.append(
                        RemediationStep(
                            RestoreFunctionConcurrency.action,
                            arn,
                            {"function_name": function, "declared": declared},
                            f"put the reserved concurrency of {function} back to "
                            + (
                                f"{declared}, as the template declares" if declared is not None else "none (unreserved)"
                            ),
                        )
                    )
            if name in INVOKE_CONFIG_EVENTS and declares_invoke_config(function):
                config = declared_invoke_config(function, partition, region, account)
                # The qualifier as a parameter or in the name (``NAME:alias``, an ARN ending ``:alias``); ``$LATEST``
                # is what the template's config is deployed on, the unqualified config (review s16 invoke F1, F2).
                qualifier = _text(parameters, "qualifier") or function_qualifier(_text(parameters, "functionName"))
                if qualifier and qualifier != "$LATEST":
                    return Target(
                        f"its function {function}",
                        arn,
                        [],
                        done=f"nothing is put back: the change is on {function}:{qualifier}, for which the template "
                        "declares no event invoke config; delete it: aws lambda delete-function-event-invoke-config "
                        f"--function-name {shlex.quote(function)} --qualifier {shlex.quote(qualifier)}",
                    )
                if config is None:
                    return Target(
                        f"its function {function}",
                        arn,
                        [],
                        done="nothing is put back: a destination of its declared event invoke config cannot be "
                        "resolved from the template (no literal queue name); redeploy the stack",
                    )
                plan.append(
                    RemediationStep(
                        RestoreFunctionInvokeConfig.action,
                        arn,
                        {"function_name": function, "declared": config},
                        f"put the event invoke config of {function} back to what the template declares",
                    )
                )
            if name in CODE_CHANGING_EVENTS:
                return _changed_own_function_target(context, function, arn)
            if name == "RemovePermission20150331v2":
                plan += _invoke_permissions_steps(context, function, arn)
            if name == "AddPermission20150331v2":
                return _added_permission_target(context, function, arn)
            if name in URL_EVENTS:
                return _own_function_url_target(context, function, arn)
            return Target(f"its function {function}", arn, plan)
        if source == SQS:
            url = (_text(parameters, "queueUrl") or "").rstrip("/")
            queue = url.rsplit("/", 1)[-1]
            if queue not in own.queues:
                return None
            arn = f"arn:{partition}:sqs:{region}:{account}:{queue}"
            attributes = parameters.get("attributes")
            policy = declared_queue_policy(queue, partition, region, account)
            if name != "SetQueueAttributes" or not isinstance(attributes, Mapping) or "Policy" not in attributes:
                return Target(f"its queue {queue}", arn, [])
            if policy is None:  # the template declares none: a policy put on is alerted with the redeploy command
                return Target(f"its queue {queue}", arn, [])
            step = RemediationStep(
                RestoreOwnQueuePolicy.action,
                arn,
                {"queue_url": url, "policy": policy, "changed_to": _json(attributes.get("Policy"))},
                f"put the policy of IAM Warden's queue {queue} back as its template declares it",
            )
            return Target(f"its queue {queue}", arn, [step])
        if source == DYNAMODB:
            table = _text(parameters, "tableName") or _own_table_of(_text(parameters, "resourceArn"), region, account)
            if table is None or table not in own.tables:
                return None
            arn = f"arn:{partition}:dynamodb:{region}:{account}:table/{table}"
            if name in ("PutResourcePolicy", "DeleteResourcePolicy"):
                return _table_policy_target(context, table, arn)
            return Target(f"its table {table}", arn, [])
        if source == SSM:
            mine = list(settings_written(change, own))
            if not mine:
                return None
            arn = f"arn:{partition}:ssm:{region}:{account}:parameter{mine[0]}"
            what = f"its setting{'s' if len(mine) > 1 else ''} {', '.join(mine)}"
            version = (change.response_elements or {}).get("version")
            rule = context.rule(IAMWARDEN_TAMPERED.id)
            # The kill switch and the breaker's limits are put back whatever settings_guard says once operators are
            # named (an intruder sets settings_guard to alert in the same breath); with none named, nobody could
            # use the switch, so they follow settings_guard.
            restores = (
                rule.choice("settings_guard") == "restore"
                or guards_the_guard(own, mine)
                or (bool(rule.patterns("operators")) and switches_remediation_off(own, mine))
            )
            if name == "PutParameter" and isinstance(version, int) and restores:
                step, needs = _restore_setting_step(context, mine[0], version, arn)
                return Target(what, arn, [step] if step else [], needs)
            return Target(what, arn, [])
        return None


def declared_grants(context: RuleContext, role: str) -> frozenset[str]:
    """The managed policies (exact ARNs) IAM Warden's templates attach to its role ``role`` in the change's account.

    The stack's remediation grants (``OwnIdentity.home_policies``, exact ARNs) on its enforcer's role at home; the
    member stack's (``member_policies``, by name at path / of that very account) on its remediation role
    elsewhere; none for any other role (``declared.MANAGED_POLICIES`` names which kinds hold them).
    """
    own = context.settings.own
    account = context.change.account
    kind = own.kind_of_role_named(role, account)
    if kind is None or kind not in declared.MANAGED_POLICIES:
        return frozenset()
    if account == own.home_account:
        return own.home_policies if kind in own.home_roles else frozenset()
    if kind not in own.member_roles:
        return frozenset()
    return frozenset(iam_arn(context.partition, account, "policy", name) for name in own.member_policies)


def _detached_own_grant(context: RuleContext, role: str) -> str | None:
    """The declared grant ``DetachRolePolicy`` took off IAM Warden's own role ``role`` (issue 15 item 2), or None.

    Only a policy the template attaches to that very role (``declared_grants``: exact account, path and name; the
    name in any case, as IAM's names are unique whatever their case), answered as declared, never in the event's
    spelling. A policy the templates do not attach (an operator's own) is None: only alerted.
    """
    detached = (context.request_text("policyArn") or "").lower()
    return next((p for p in sorted(declared_grants(context, role)) if p.lower() == detached), None)


def _detached_own_grant_target(context: RuleContext, role: str, arn: str, policy_arn: str) -> Target:
    """The plan attaching a detached declared grant back to the own role it came off (issue 15 item 2).

    Only the exact declared policy onto the exact declared role, and only while the policy holds the document the
    template declares: the policy now under that name may be an intruder's (deleted and re-created, or given a new
    default version), so ``ReattachOwnGrant`` reads it at capture and again at apply and attaches nothing when it
    differs, cannot be read, or is gone. Where the declared document is not known (the stack's ``UserRemediation``
    or a name it needs), alert-only with the exact ``attach-role-policy`` command. The role name is the declared
    spelling at home (the event's may differ in case); the member stack's names vary, so there the event's.
    """
    own = context.settings.own
    account = context.change.account
    kind = own.kind_of_role_named(role, account)
    declared_arn = own.home_roles.get(kind) if kind and account == own.home_account else None
    name = declared_arn.rsplit("/", 1)[-1] if declared_arn else role
    target_arn = declared_arn or arn
    command = attach_command(name, policy_arn, account)
    undo = undone_reattach(context, name, (target_arn, arn), policy_arn)
    if undo.fine is not None:
        return Target(f"its role {name}", target_arn, [], fine=undo.fine)
    document = declared_grant(policy_arn, own, account)
    if document is None:
        unknown = (
            f"the document its template declares for {policy_arn} (the stack's UserRemediation, or a name it "
            "needs, is not known here)"
        )
        return Target(
            f"its role {name}",
            target_arn,
            [],
            (unknown,),
            done=f"it is not attached back without {unknown}: check that the policy still holds the document its "
            f"template declares (it may have been deleted and re-created, or given a new default version), then put "
            f"it back: {command}",
        )
    if context.live_clients is not None:  # read now, so a policy that is not the declared one is only alerted
        why = grant_differs(context.live_clients(account, context.change.region).iam, policy_arn, document)
        if why is not None:
            return Target(
                f"its role {name}",
                target_arn,
                [],
                done=f"{why}: it is not attached back. Check what it grants (aws iam list-policy-versions "
                f"--policy-arn {policy_arn}); once it is the template's, put it back: {command}",
            )
    step = RemediationStep(
        ReattachOwnGrant.action,
        target_arn,
        {"role_name": name, "policy_arn": policy_arn, "document": document},
        f"attach {policy_arn}, which its template attaches, back to IAM Warden's role {name}, once read to hold "
        "the document its template declares",
    )
    if undo.unknown is not None:
        return Target(
            f"its role {name}",
            target_arn,
            [step],
            (undo.unknown,),
            done=f"it is not attached back, since it is not known {undo.unknown}: if it was not that undo, put it "
            f"back: {command}",
        )
    return Target(f"its role {name}", target_arn, [step])


#: How long before a ``DetachRolePolicy`` event an ``iamwarden undo`` of IAM Warden's re-attach of that grant may have
#: been recorded and still excuse it: the CLI records the undo, then detaches at once (milliseconds), so a minute
#: leaves room for a slow call, never for an old undo to excuse a later detach.
UNDO_LEAD = timedelta(seconds=60)
#: How long after the event's time the undo record may say it was written: CloudTrail's ``eventTime`` has whole
#: seconds (a detach at 09:22:18.4 is logged 09:22:18), and ``created_at`` is the CLI's clock, not AWS's: one running
#: ahead must not turn a real undo into a re-attach (review cliundo-s17 item 5). The actor, the exact grant and a done
#: undo that says it detached that grant bound what this widens.
UNDO_SLACK = timedelta(seconds=30)


class UndoVerdict(NamedTuple):
    """Whether a detach of an own grant is an operator's ``iamwarden undo`` of IAM Warden's re-attach of it: ``fine``
    says why it is (kept detached); ``unknown`` names what could not be read (alert-only); both None: it is not."""

    fine: str | None = None
    unknown: str | None = None


def undone_reattach(context: RuleContext, role: str, arns: Sequence[str], policy_arn: str) -> UndoVerdict:
    """Whether this ``DetachRolePolicy`` of ``policy_arn`` from own role ``role`` is ``iamwarden undo`` of IAM Warden's
    own re-attach of exactly that grant (issue 15 item 2/4), as the audit table proves it.

    ``iamwarden undo`` runs with the operator's credentials, so its detach is itself a detached own grant. It is kept
    only when all of these hold: the change's actor (CloudTrail's ARN, not the table's) is an operator
    (``rules/iamwarden-tampered/operators``); the audit table holds a ``reattach_own_grant`` remediation of this very
    role and policy (recorded under ``arns``) whose ``done`` shows its attach went through (what undo detaches),
    undone by no other undo than this one; and an undo record of it, done (``undo``: written only once its detach
    went through, review cliundo-s17 item 2) and saying it detached exactly that grant, written by exactly this actor
    no more than ``UNDO_LEAD`` before the event (``UNDO_SLACK`` after it). An undo record still ``in_progress``
    (its detach failed and its failure went unrecorded, or the CLI stopped) cannot show its detach happened: no
    excuse, the grant is attached back (fails safe). Anyone else's detach is not looked up at all (nothing could
    excuse it). An audit table that cannot be read, or none (offline), is unknown: alert-only, never a restore
    skipped or made on a guess about an operator's own undo.
    """
    change = context.change
    actor = change.actor.arn
    operators = context.rule(IAMWARDEN_TAMPERED.id).patterns("operators")
    if actor is None or operator_pattern(actor, operators) is None:
        return UndoVerdict()
    at = _instant(change.time)
    if at is None:
        return UndoVerdict()
    whether = f"whether this detach is an operator's iamwarden undo of IAM Warden's re-attach of {policy_arn}"
    if context.recorded is None:
        return UndoVerdict(unknown=f"{whether} (no audit table here)")
    try:
        pasts = [past for arn in dict.fromkeys(arns) for past in context.recorded.remediations(arn)]
    except AuditError as exc:
        return UndoVerdict(unknown=f"{whether} (IAM Warden's audit table cannot be read: {exc})")
    detached = _detached_again(role, policy_arn).lower()
    for past in pasts:
        if past.rule != IAMWARDEN_TAMPERED.id or not _reattached_there(past, role, policy_arn):
            continue
        for undo in past.undos:
            when = _instant(undo.created_at)
            if (
                undo.status == "undo"
                and past.undone_by in (None, undo.undo_id)
                and undo.actor == actor
                and any(line.lower().startswith(detached) for line in undo.restored)
                and when is not None
                and at - UNDO_LEAD <= when <= at + UNDO_SLACK
            ):
                return UndoVerdict(
                    fine=f"{change.actor.display}, an operator, detached {policy_arn} from IAM Warden's role {role} "
                    f"by iamwarden undo {undo.undo_id} of its re-attach {past.remediation_id} (recorded at "
                    f"{undo.created_at}, before this detach): the undo is kept"
                )
    return UndoVerdict()


def _reattached_there(past: PastRemediation, role: str, policy_arn: str) -> bool:
    """Whether ``past`` re-attached exactly ``policy_arn`` to own role ``role`` and its ``done`` shows the attach went
    through: what its undo detaches (``ReattachOwnGrant.detaches``), nothing else (names compared in any case)."""
    return any(
        planned.get("action") == ReattachOwnGrant.action.value
        and str(parameters.get("role_name", "")).lower() == role.lower()
        and str(parameters.get("policy_arn", "")).lower() == policy_arn.lower()
        and index < len(past.before)
        and ReattachOwnGrant.detaches(parameters, past.before[index], past.done)
        for index, planned in enumerate(past.plan)
        for parameters in (planned.get("parameters") or {},)
    )


def attach_command(role: str, policy_arn: str, account: str | None = None) -> str:
    """The exact command that attaches a detached declared grant back by hand."""
    where = f" (in account {account})" if account else ""
    return f"aws iam attach-role-policy --role-name {role} --policy-arn {policy_arn}{where}"


def _invoke_permissions_steps(context: RuleContext, function: str, arn: str) -> list[RemediationStep]:
    """The step putting back EventBridge's permission to invoke own function ``function`` for each own rule that
    targets it (audit s7 gap 16), or none when no rule does (a function URL's or another permission: alerted).

    ``RemovePermission`` names only a statement id, which CloudFormation generated: which rule lost its permission
    is read at capture (``lambda:GetPolicy``), and only the missing ones are added, each under IAM Warden's own id.
    """
    change = context.change
    rules = [key for key in rules_targeting(function) if key in context.settings.own.rules_in(change.account)]
    if not rules:
        return []
    prefix = f"arn:{context.partition}:events:{change.region}:{change.account}:rule/"
    return [
        RemediationStep(
            RestoreOwnInvokePermissions.action,
            arn,
            {"function_name": function, "source_arns": [prefix + key for key in rules]},
            f"let EventBridge invoke IAM Warden's function {function} again for each of its {len(rules)} rules, as "
            "its template declares",
        )
    ]


def declared_permission(
    own: Any, where: tuple[str, str, str], function: str, statement: Mapping[str, Any], qualified: bool = False
) -> str | None:
    """Why ``statement`` (an ``AddPermission``'s request, or a live policy statement as ``permission_request`` reads
    it) on own function ``function`` in ``where`` (partition, region, account) is one its template declares, or None.

    Declared by content, never by statement id (anyone may name a statement ``<stack>-<LogicalId>-...``):
    EventBridge's ``lambda:InvokeFunction`` for exactly one own rule that targets the function (SAM's
    ``<Function><Rule>Permission``, nothing else in it), and on a function the template gives a signed URL
    (``signed_url_functions``) everyone's ``lambda:InvokeFunctionUrl`` with auth type ``NONE`` (SAM's
    ``FunctionUrlConfig``), or ``lambda:InvokeFunction`` only through the URL. A qualifier (a version or alias) is
    never declared: the templates' permissions are on the function itself.
    """
    partition, region, account = where
    keys = {key for key, value in statement.items() if key in ADD_PERMISSION_ARGUMENTS and value not in (None, "")}
    principal, action = statement.get("principal"), statement.get("action")
    if qualified:
        return None
    if principal == EVENTS and action == "lambda:InvokeFunction" and keys <= {"principal", "action", "sourceArn"}:
        prefix = f"arn:{partition}:events:{region}:{account}:rule/"
        for key in rules_targeting(function):
            if key in own.rules_in(account) and statement.get("sourceArn") == prefix + key:
                return f"EventBridge's permission to invoke it for its rule {key}, as its template declares"
    if function not in own.signed_url_functions or principal != "*":
        return None
    url = action == "lambda:InvokeFunctionUrl" and statement.get("functionUrlAuthType") == "NONE"
    if url and keys <= {"principal", "action", "functionUrlAuthType"}:
        return "everyone's permission to call its URL, which checks each request's signature itself"
    through_url = action == "lambda:InvokeFunction" and statement.get("invokedViaFunctionUrl") is True
    if through_url and keys <= {"principal", "action", "invokedViaFunctionUrl"}:
        return "everyone's permission to invoke it through its URL, which checks each request's signature itself"
    return None


#: A function policy's condition (operator, key) -> the ``AddPermission`` parameter that writes it.
_PERMISSION_CONDITIONS: Mapping[tuple[str, str], str] = MappingProxyType(
    {
        # Lambda writes ArnLike (its API reference says it compares as StringLike: both are read)
        ("arnlike", "aws:sourcearn"): "sourceArn",
        ("stringlike", "aws:sourcearn"): "sourceArn",
        ("stringequals", "aws:sourceaccount"): "sourceAccount",
        ("stringequals", "aws:principalorgid"): "principalOrgID",
        ("stringequals", "lambda:functionurlauthtype"): "functionUrlAuthType",
        ("stringequals", "lambda:eventsourcetoken"): "eventSourceToken",
        ("bool", "lambda:invokedviafunctionurl"): "invokedViaFunctionUrl",
        ("stringequals", "lambda:invokedviafunctionurl"): "invokedViaFunctionUrl",
    }
)


def permission_request(statement: Mapping[str, Any]) -> dict[str, Any] | None:
    """A function policy's statement as the ``AddPermission`` request that writes it (CloudTrail's spelling), or
    None when no request could write it again (then it is not removed: its undo could not put it back)."""
    principal = statement.get("Principal")
    if principal in ("*", {"AWS": "*"}):
        who: Any = "*"
    elif isinstance(principal, str):  # as the request gave it (an account id or a service)
        who = principal
    elif isinstance(principal, Mapping) and len(principal) == 1 and isinstance(next(iter(principal.values())), str):
        [(kind, who)] = principal.items()
        if kind == "AWS" and who.endswith(":root") and who.startswith("arn:"):
            who = who.split(":")[4]  # Lambda writes an account's principal as its root ARN
    else:
        return None
    action = statement.get("Action")
    if statement.get("Effect") != "Allow" or not isinstance(action, str) or not isinstance(who, str):
        return None
    request: dict[str, Any] = {"principal": who, "action": action}
    condition = statement.get("Condition") or {}
    for operator, values in condition.items() if isinstance(condition, Mapping) else ():
        for key, value in values.items() if isinstance(values, Mapping) else ():
            name = _PERMISSION_CONDITIONS.get((str(operator).lower(), str(key).lower()))
            if name is None or not isinstance(value, str):
                return None
            request[name] = value == "true" if name == "invokedViaFunctionUrl" else value
    return request


#: ``AddPermission``'s request parameters as CloudTrail records them -> the boto3 argument that adds them back
#: (``RemoveLambdaPermission``'s undo).
ADD_PERMISSION_ARGUMENTS: Mapping[str, str] = MappingProxyType(
    {
        "action": "Action",
        "principal": "Principal",
        "sourceArn": "SourceArn",
        "sourceAccount": "SourceAccount",
        "principalOrgID": "PrincipalOrgID",
        "functionUrlAuthType": "FunctionUrlAuthType",
        "eventSourceToken": "EventSourceToken",
        "invokedViaFunctionUrl": "InvokedViaFunctionUrl",
    }
)


def _added_permission_target(context: RuleContext, function: str, arn: str) -> Target:
    """``AddPermission`` on an own function outside its stack: the statement it added is removed unless the template
    declares one like it (``declared_permission``: then it is compliant).

    Whoever a statement lets invoke the enforcer can hand it forged events, which it would act on with its member
    roles everywhere (review s8 section 11); on any other own function, run it with its role. Exactly the statement
    the event added goes (``remove_lambda_permission``, by the event's statement id: the before-state is that
    statement as Lambda holds it); undo adds it back with the event's parameters.
    """
    parameters = context.change.request_parameters
    qualifier = _text(parameters, "qualifier")
    where = (context.partition, context.change.region, context.change.account)
    why = declared_permission(context.settings.own, where, function, parameters, qualified=qualifier is not None)
    what = f"the permissions of its function {function}"
    if why is not None:
        return Target(what, arn, [], fine=f"{context.change.actor.display} gave IAM Warden's function {function} {why}")
    sid = _text(parameters, "statementId")
    if sid is None:
        return Target(what, arn, [])  # no statement id to remove by: alerted with the redeploy command
    resource = f"{arn}:{qualifier}" if qualifier else arn
    permission = {
        boto: parameters[key]
        for key, boto in ADD_PERMISSION_ARGUMENTS.items()
        if isinstance(parameters.get(key), (str, bool)) and parameters.get(key) != ""
    }
    step = RemediationStep(
        RemoveLambdaPermission.action,
        resource,
        {"resource": resource, "statements": [{"sid": sid, "match": "sid"}], "permission": permission},
        f"remove the statement {sid} from the policy of IAM Warden's function {function}: its template declares no "
        f"such permission ({permission.get('Principal', 'someone')} may {permission.get('Action', 'invoke it')})",
    )
    return Target(what, arn, [step])


def _own_table_of(resource_arn: str | None, region: str, account: str) -> str | None:
    """The table a ``PutResourcePolicy``/``DeleteResourcePolicy`` names (``resourceArn``), when it is in the
    event's own region and account (a stream's ARN names its table too), or None."""
    parts = (resource_arn or "").split(":", 5)
    if len(parts) != 6 or parts[2] != "dynamodb" or parts[3] != region or parts[4] != account:
        return None
    kind, _, rest = parts[5].partition("/")
    return rest.split("/", 1)[0] or None if kind == "table" else None


def _table_policy_target(context: RuleContext, table: str, arn: str) -> Target:
    """An own table's resource policy put or deleted outside its stack: the template's put back
    (``restore_own_table_policy``; undo puts back what the change left), or alerted with the way back.

    The policy keeps item writes to IAM Warden's roles and the operators (audit s7 gap 6), and its change to all
    but them; a redeploy alone leaves a changed one in place. What is put back is the template's own document with
    the stack's ``OperatorRoleArns`` (``declared_table_policy``), and only when it cannot shut IAM Warden out
    (``_shuts_out``): each own role it names must be the deployed one, and the enforcer must stay free to change the
    policy again. Otherwise, or without the operators known, nothing is guessed: alerted with what is missing.
    """
    change = context.change
    own = context.settings.own
    what = f"the resource policy of its table {table}"
    policy = declared_table_policy(table, own, context.partition, change.region, change.account)
    if policy is None:
        missing = (
            f"the policy the template declares for {table} with the stack's OperatorRoleArns (the enforcer's "
            "IAMWARDEN_OPERATOR_ROLE_ARNS): without them the restore could shut the operators out",
        )
        return Target(what, arn, [], needs=missing, done=_table_policy_fix(arn))
    shut_out = _shuts_out(policy, own)
    if shut_out is not None:
        return Target(what, arn, [], needs=(shut_out,), done=_table_policy_fix(arn))
    step = RemediationStep(
        RestoreOwnTablePolicy.action,
        arn,
        {"table_arn": arn, "policy": policy},
        f"put the resource policy of IAM Warden's table {table} back as its template declares it",
    )
    return Target(what, arn, [step])


def _shuts_out(policy: Mapping[str, Any], own: Any) -> str | None:
    """Why putting ``policy`` on an own table could shut IAM Warden out, or None when it cannot.

    Each own role a Deny exempts by ARN must be one the stack deployed (a role of another name would be denied what
    the template means it to do), and the Deny of policy changes must exempt the enforcer (else nothing but the
    account's root could put the policy back again)."""
    own_roles = set(own.home_roles.values())
    enforcer = own.home_roles.get("enforcer")
    for statement in _statements(policy):
        if statement.get("Effect") != "Deny":
            continue
        exempt = ((statement.get("Condition") or {}).get("ArnNotLike") or {}).get("aws:PrincipalArn") or []
        exempt = exempt if isinstance(exempt, list) else [exempt]
        for arn in exempt:
            if ":role/iamwarden-" in str(arn) and arn not in own_roles:
                return f"that the role {arn} the declared policy exempts is IAM Warden's ({sorted(own_roles)} are)"
        actions = statement.get("Action")
        actions = actions if isinstance(actions, list) else [actions]
        changes_policy = {"dynamodb:PutResourcePolicy", "dynamodb:DeleteResourcePolicy"} & set(actions)
        if changes_policy and not any(enforcer and arn_match(str(pattern), enforcer) for pattern in exempt):
            return f"that the declared policy lets the enforcer ({enforcer}) change the policy again"
    return None


def _table_policy_fix(arn: str) -> str:
    """What puts an own table's resource policy back: CloudFormation does not overwrite a table policy changed
    outside the stack when the template's is unchanged, so a plain redeploy would leave the intruder's."""
    return (
        "not put back here: until the template's policy is on the table again, anyone IAM lets "
        "write items can rewrite IAM Warden's memory unseen. Put it back: aws dynamodb put-resource-policy "
        f"--resource-arn {arn} --policy <the ResourcePolicy template.yaml declares for it> (a redeploy alone does "
        "not: CloudFormation leaves a table policy changed outside the stack in place)"
    )


def _restore_setting_step(
    context: RuleContext, name: str, version: int, arn: str
) -> tuple[RemediationStep | None, tuple[str, ...]]:
    """The step putting setting ``name`` back to its newest known good version before ``version``, or what is missing.

    The version just before the write may be the intruder's own earlier write (two quick writes: audit s7 gap 3), so
    only a version an operator or IAM Warden wrote, or holding the template's value, is put back
    (``settings_guard.known_good_version``, from the parameter's history); without one, alert-only. A parameter
    whose history holds no known good version but starts at version 1 did not exist before: it is deleted (its
    default applies).
    """
    change = context.change
    why = "which earlier version of it is known good is read from its history (GetParameterHistory)"
    if context.live_clients is None:
        return None, (f"a known good version of {name} before version {version} (offline: {why})",)
    try:
        history = list(_history(context.live_clients(change.account, change.region), name))
    except Exception as exc:
        return None, (f"a known good version of {name} before version {version} ({why}: {error_code(exc) or exc})",)
    known = known_good_version(history, name, version, context.settings)
    if not known.known:
        return None, (known.why,)
    if known.entry is None:
        parameters: dict[str, Any] = {"name": name, "version": version, "restore_version": None}
        summary = f"delete setting {name} ({known.why}: its default applies)"
        return RemediationStep(RestoreSetting.action, arn, parameters, summary), ()
    good = known.entry["Version"]
    parameters = {"name": name, "version": version, "restore_version": good}
    summary = f"put setting {name} back to its value of version {good} ({known.why})"
    return RemediationStep(RestoreSetting.action, arn, parameters, summary), ()


#: The changes that make a role a break-glass role someone else holds: its creation, its trust, its permissions.
BREAK_GLASS_EVENTS = frozenset(
    {"CreateRole", "UpdateAssumeRolePolicy", "PutRolePolicy", "AttachRolePolicy", "DeleteRolePermissionsBoundary"}
)


def _break_glass_target(context: RuleContext, role: str) -> Target | None:
    """A change to a role ``break_glass_principals`` names: whoever holds it acts with remediation off (alerted only).

    Break-glass is known by ARN pattern, and IAM events name a role without its path, so a role of that name in
    any account the pattern covers is the exemption: created or re-trusted there by someone else, it would let them
    act unremediated (audit s6 gap 12). Nothing is undone: the break-glass role is the operators' own.
    """
    change = context.change
    if change.event_name not in BREAK_GLASS_EVENTS:
        return None
    arn = iam_arn(context.partition, change.account, "role", role)
    if context.settings.is_break_glass(arn) is None:
        return None
    return Target(
        f"its break-glass exemption, role {role} (break_glass_principals)",
        arn,
        [],
        done=(
            "alerted only, as the break-glass role is the operators' own: whoever can create, re-trust or widen it "
            "acts with remediation off, so make sure this change was theirs (an SCP that denies iam:CreateRole, "
            "iam:UpdateAssumeRolePolicy, iam:PutRolePolicy and iam:AttachRolePolicy on it to all but them keeps it so)"
        ),
    )


def _session_duration_target(context: RuleContext, role: str, arn: str) -> Target | None:
    """``UpdateRole`` of an own role: a maximum session other than the declared one is put back; else nothing."""
    duration = context.change.request_parameters.get("maxSessionDuration")
    if not isinstance(duration, int) or isinstance(duration, bool) or duration == DECLARED_MAX_SESSION_DURATION:
        return None  # a description, or the declared maximum again: nothing IAM Warden relies on changed
    step = RemediationStep(
        RestoreOwnRoleSessionDuration.action,
        arn,
        {"role_name": role, "duration": duration},
        f"put the maximum session of IAM Warden's role {role} back to {DECLARED_MAX_SESSION_DURATION} seconds",
    )
    return Target(f"its role {role} (maximum session set to {duration} seconds)", arn, [step])


#: The inline policy that takes every permission from a role of an own role's name that is not IAM Warden's: the
#: user quarantine's name and deny-all document (``remediation-reversed`` checks both kinds against the one pair).
QUARANTINE_POLICY = QUARANTINE_POLICY_NAME
DENY_ALL = DENY_ALL_POLICY


def quarantine_step(role: str, arn: str, why: str) -> RemediationStep:
    """Quarantine ``role``: IAM Warden's deny-all inline policy ``QUARANTINE_POLICY`` (``QuarantineRole``)."""
    return RemediationStep(
        QuarantineRole.action,
        arn,
        {"role_name": role, "policy_name": QUARANTINE_POLICY},
        f"put the deny-all inline policy {QUARANTINE_POLICY} on role {role} ({why})",
    )


def holding(
    context: RuleContext,
    arn: str,
    action: str | None = None,
    where: Callable[[Mapping[str, Any]], bool] | None = None,
) -> list[PastRemediation]:
    """IAM Warden's remediations of ``arn`` that still count when judging a reversal of them (``holds``), with a
    step of ``action`` whose parameters ``where`` accepts, when given; none offline."""
    if context.recorded is None:
        return []
    return in_force(context.recorded.remediations(arn), action, where, counts=lambda past: holds(context, past))


def quarantines_in_force(context: RuleContext, arn: str) -> list[PastRemediation]:
    """IAM Warden's quarantines of role ``arn`` still in force (the audit table's; none offline)."""
    return holding(context, arn, QuarantineRole.action)


def holds(context: RuleContext, past: PastRemediation) -> bool:
    """Whether ``past`` still counts for judging a reversal of it: in force, or marked undone without an excuse.

    The audit table is data (audit s7 gap 6): an item marked ``undone`` by an ``UpdateItem``, or an
    ``iamwarden undo`` run by anyone IAM lets, would otherwise make the reversal of a quarantine "never
    remediated". So an undo excuses the change only as ``unexcused_undo`` says.
    """
    if past.in_force:
        return True
    if past.status == "failed" and past.done:
        # Failed part-way (a boundary refused, a tag quota full): what it did is in force all the same (review s11
        # R7/R10), and a reversal of that is one; which of its steps count is the judging rule's to read in ``done``.
        return True
    return past.status == "undone" and bool(past.done) and unexcused_undo(context, past) is not None


def unexcused_undo(context: RuleContext, past: PastRemediation) -> str | None:
    """Why the undo of ``past`` does not excuse this change, or None when it does.

    It does only when the undo's own record names who ran ``iamwarden undo`` and that is an operator
    (``rules/iamwarden-tampered/operators``), and this change's actor (CloudTrail's fact, not the table's) is an
    operator too: the undo makes its changes with the operator's own credentials.
    """
    operators = context.rule(IAMWARDEN_TAMPERED.id).patterns("operators")
    if past.undo_actor is None:
        return f"no undo record says who undid it{f' ({past.undone_by})' if past.undone_by else ''}"
    if operator_pattern(past.undo_actor, operators) is None:
        return f"its undo {past.undone_by} was run by {past.undo_actor}, who is not an operator"
    actor = context.change.actor
    if not any(arn and operator_pattern(arn, operators) for arn in (actor.arn, actor.session_issuer_arn)):
        return f"this change was made by {actor.display}, who is not an operator"
    return None


#: A role's ``CreateDate`` has whole seconds: a role created within this of a record's time is not sorted by it.
_CREATE_DATE_SLACK = timedelta(seconds=1)


def _instant(value: object) -> datetime | None:
    """A timestamp as an aware datetime (boto3 gives ``CreateDate`` as one; records and fakes give ISO text)."""
    if isinstance(value, datetime):
        found = value
    elif isinstance(value, str):
        try:
            found = datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    return found if found.tzinfo is not None else found.replace(tzinfo=UTC)


def existed_when_recorded(created: object, recorded_at: str) -> bool | None:
    """Whether a principal (its live ``CreateDate``) existed when a record that captured no id was written: names
    are unique at any instant, so True says the record is this principal's and False another's of the name; None:
    no usable CreateDate or record time, or both within the second (CreateDate cannot say which came first)."""
    born, recorded = _instant(created), _instant(recorded_at)
    if born is None or recorded is None:
        return None
    if born + _CREATE_DATE_SLACK <= recorded:
        return True
    return None if born <= recorded else False


class RoleQuarantines(NamedTuple):
    """A role's quarantines in force, sorted by whose they are: ``mine`` are of the live role (its RoleId captured,
    or, a record without one, the live role created before it), ``unknown`` cannot say (offline, or a record without
    a RoleId and no usable CreateDate); the rest are another role's. ``gone``: no role of the name exists now."""

    mine: list[PastRemediation]
    unknown: list[PastRemediation]
    live_id: str | None
    gone: bool = False


def of_this_role(context: RuleContext, role: str, by: Sequence[PastRemediation]) -> RoleQuarantines:
    """Mirror of the users' UserId check (issue 15): a role deleted and re-created under the quarantined name is
    another principal, whose changes reverse nothing. ``GetRole`` is a permission ``QuarantineRole`` declares; a
    refused or throttled read raises (the engine's unreadable/retry path), never a guess.

    A record made before RoleIds were captured (review s13 F3): names are unique at any instant, so a live role
    created before the record was written is the role quarantined, and one created after it is another."""
    if not by:
        return RoleQuarantines([], [], None)
    live_id: str | None = None
    created: datetime | None = None
    if context.live_clients is not None:
        change = context.change
        try:
            found = context.live_clients(change.account, change.region).iam.get_role(RoleName=role)["Role"]
        except Exception as exc:
            if not is_gone(exc):
                raise
            return RoleQuarantines([], [], None, gone=True)  # no role is left to be freed
        live_id = found.get("RoleId") if isinstance(found.get("RoleId"), str) else None
        created = _instant(found.get("CreateDate"))
    mine: list[PastRemediation] = []
    unknown: list[PastRemediation] = []
    for past in by:
        ids = past.captured(QuarantineRole.action, "role_id")
        if ids and live_id is not None:
            if live_id in ids:
                mine.append(past)
            continue
        recorded_at = _instant(past.created_at)
        if ids or created is None or recorded_at is None:
            unknown.append(past)  # offline, or neither a RoleId nor a CreateDate to sort it by
        elif created + _CREATE_DATE_SLACK <= recorded_at:
            mine.append(past)  # the live role existed when the quarantine was recorded: it is the one quarantined
        elif created <= recorded_at:
            unknown.append(past)  # within the second of the record: CreateDate cannot say which came first
    return RoleQuarantines(mine, unknown, live_id)


def quarantined(context: RuleContext, role: str, arn: str) -> bool:
    """Whether a change names the quarantine policy of this very role IAM Warden quarantined, whose reversal
    remediation-reversed judges. A stale record of another role of the name (deleted and re-created, e.g. IAM Warden's
    own role redeployed after an impostor was quarantined) is not (review s13 F1): the write is judged here as on
    any own role. A record that cannot say whose it was still defers (remediation-reversed alerts on it)."""
    if context.request_text("policyName") != QUARANTINE_POLICY:
        return False
    by = [
        past
        for past in quarantines_in_force(context, arn)
        # As remediation-reversed reads them: one that failed part-way only when a deny-all went on the role.
        if past.status != "failed"
        or any(line.endswith(f" on role {role}") and line.startswith(DENY_ALL_DONE) for line in past.done)
    ]
    found = of_this_role(context, role, by)
    return bool(found.mine or found.unknown)


def _created_own_role_target(context: RuleContext, role: str, arn: str) -> Target:
    """A role created under one of IAM Warden's role names, by anyone but its stack: it is not IAM Warden's.

    IAM Warden's stacks create their roles once; a ``CreateRole`` of the name means the stack's role was deleted
    first, or the account never had the member stack (a new account, a failed StackSet instance). Until the
    heartbeat has read a member role's ``RoleId`` no session of it is IAM Warden's (``OwnIdentity.own_session``),
    and a role created again has another; still, whatever it may do is taken away (a deny-all inline policy,
    undone by deleting it), because it stands where IAM Warden's remediations and restores expect their own role.
    """
    change = context.change
    own = context.settings.own
    step = quarantine_step(role, arn, "a role of IAM Warden's name that its stack did not create")
    done = (
        f"a role of that name is not IAM Warden's unless its stack creates it, so it gets the deny-all inline policy "
        f"{QUARANTINE_POLICY} (undo deletes it); put IAM Warden's back: "
        f"{own.redeploy_command(change.account, change.region)}"
    )
    return Target(f"its role name {role}, for a role its stack did not create", arn, [step], done=done)


def _quarantined_role_target(context: RuleContext, role: str, arn: str, needs: tuple[str, ...]) -> Target:
    """An own role's trust policy rewritten, with no good copy to put back: the role is quarantined instead.

    Whoever the new trust lets in would act as IAM Warden (a member role's session is its own once the heartbeat
    knows its RoleId). Without a snapshot nothing may be restored, so nothing is guessed: the role gets a deny-all
    inline policy (undo deletes it), which also stops IAM Warden there until it is redeployed, and says so.
    """
    change = context.change
    own = context.settings.own
    step = quarantine_step(role, arn, "its trust policy was rewritten and no good copy is known to put back")
    done = (
        f"no good copy of its trust policy is known ({'; '.join(needs)}), so the role gets the deny-all inline "
        f"policy {QUARANTINE_POLICY} (undo deletes it) and IAM Warden cannot act through it until it is put back: "
        f"{own.redeploy_command(change.account, change.region)}"
    )
    return Target(f"its role {role}", arn, [step], done=done)


#: The Lambda calls that give a function its execution role.
ROLE_GIVING_EVENTS = frozenset({"CreateFunction20150331", "UpdateFunctionConfiguration20150331v2"})


#: The Lambda calls that change what a function runs: its code, or its configuration (role, environment, layers).
CODE_CHANGING_EVENTS = frozenset({"UpdateFunctionCode20150331v2", "UpdateFunctionConfiguration20150331v2"})


def _changed_own_function_target(context: RuleContext, function: str, arn: str) -> Target:
    """An own function's code or configuration changed outside its stack: stopped, unless it is the enforcer.

    What it runs now may be anyone's, with its role: a pruner function writes IAM in every member account, and the
    pruner role's own calls are never routed (audit s7 gap 0). So it is stopped (``stop_function``, reserved
    concurrency 0, undoable; the code stays for the investigation) until the stack puts it back. The enforcer is
    not: it is the one judging, and stopping it stops every remediation; its change is alerted, and the heartbeat
    compares its configuration with the template each run.
    """
    own = context.settings.own
    kind = own.function_roles.get(function)
    role = own.home_roles.get(kind, "") if kind else ""
    redeploy = own.redeploy_command(context.change.account, context.change.region)
    if kind == "enforcer" or not role:
        return Target(f"its function {function}", arn, [])
    step = RemediationStep(
        StopFunction.action,
        arn,
        {"function_name": function, "role": role.rsplit("/", 1)[-1]},
        f"set the reserved concurrency of IAM Warden's function {function} to 0: what it runs now is not its stack's",
    )
    done = (
        f"what it runs may be anyone's, as IAM Warden's role {role.rsplit('/', 1)[-1]}, so it is stopped (reserved "
        f"concurrency 0; undo puts it back) until its stack puts it back: {redeploy}"
    )
    return Target(f"its function {function}", arn, [step], done=done)


#: The Lambda calls whose answer names the code a function now runs (``responseElements.codeSha256``: the
#: ``FunctionConfiguration`` Lambda answers, its members lower-cased first as CloudTrail records them).
CODE_DEPLOYING_EVENTS = frozenset({"CreateFunction20150331", "UpdateFunctionCode20150331v2"})


def deployed_code(context: RuleContext, target: Target, evaluation: Evaluation) -> Snapshot | None:
    """The code an own function runs as its stack deployed it, from CloudFormation's own call, or None.

    Only CloudFormation's ``CreateFunction``/``UpdateFunctionCode`` of an own function's exact name, judged as the
    own stack's deployment (compliant), is a record of what the stack deployed: no other stack can hold the name,
    and an intruder's own call is judged as tampering (the service keeps what a compliant change set only). The
    heartbeat compares the live ``CodeSha256`` with it (audit s7 gap 0)."""
    change = context.change
    own = context.settings.own
    if (
        change.event_source != LAMBDA
        or change.event_name not in CODE_DEPLOYING_EVENTS
        or change.actor.invoked_by != CLOUDFORMATION
        or evaluation.findings
        or not evaluation.compliant
        or function_name(_text(change.request_parameters, "functionName")) not in own.functions
    ):
        return None
    sha = (change.response_elements or {}).get("codeSha256")
    if not isinstance(sha, str) or not sha:
        return None
    data = {"code_sha256": sha, "event_id": change.event_id, "source": f"CloudFormation's {change.event_name}"}
    return Snapshot(OWN_CODE, target.arn, observed_at(change.time), data)


def _own_function_url_target(context: RuleContext, function: str, arn: str) -> Target:
    """A URL given to an own function outside its stack: deleted (``delete_own_function_url``; undo creates it again).

    The template gives a URL only to the functions that authenticate each request themselves (``signed_url_functions``:
    the Slack endpoint checks Slack's signature); on those a URL change is alerted. On any other, the URL is a front
    door for forged events (review s8 section 11).
    """
    if function in context.settings.own.signed_url_functions:
        return Target(f"the URL of its function {function}", arn, [])
    step = RemediationStep(
        DeleteOwnFunctionUrl.action,
        arn,
        {"function_name": function},
        f"delete the URL of IAM Warden's function {function}: its template declares none, and through it anyone "
        "could hand the function forged events",
    )
    return Target(f"the URL of its function {function}", arn, [step])


def _borrowed_role_target(context: RuleContext, function: str | None) -> Target | None:
    """A function that is not IAM Warden's given one of IAM Warden's roles, or None for any other role.

    The stack's roles trust ``lambda.amazonaws.com`` for this account, so any function given one runs as IAM
    Warden: as the enforcer it could write IAM and reach every member account. The function is stopped, its
    reserved concurrency set to 0 (``stop_function``: no invocation runs, the function and its code stay for the
    investigation); undo puts its concurrency back. The role's session is named after the function, so nothing it
    did meanwhile was taken for IAM Warden's own (``OwnIdentity.own_session``).
    """
    change = context.change
    own = context.settings.own
    role = _text(change.request_parameters, "role")
    kind = own.passed_role_kind(role, change.account)
    if kind is None or function is None:
        return None
    role_name = (role or "").rsplit("/", 1)[-1]
    arn = f"arn:{context.partition}:lambda:{change.region}:{change.account}:function:{function}"
    step = RemediationStep(
        StopFunction.action,
        arn,
        {"function_name": function, "role": role},
        f"set the reserved concurrency of function {function} to 0, so that it cannot run as IAM Warden's role "
        f"{role_name}",
    )
    done = (
        f"its role {role_name} lets whoever controls function {function} act as IAM Warden ({kind}), so the "
        f"function is stopped (reserved concurrency 0; undo puts it back); give it a role of its own: aws lambda "
        f"update-function-configuration --function-name {function} --role <its own role>"
    )
    return Target(
        f"its role {role_name}, given to function {function}, which is not IAM Warden's", arn, [step], done=done
    )


def _central_bus_target(context: RuleContext) -> Target | None:
    """A change to the central bus's policy or the bus itself; the whole declared policy put back.

    Every ``PutPermission`` and ``RemovePermission`` on the central bus is undone by writing the policy the template
    declares, whole (``restore_central_bus_policy``: it does nothing if the live policy is already the declared one).
    Not only the declared statement counts: a Deny beside it refuses every forwarder's ``PutEvents`` (an explicit
    Deny in a resource policy binds this account's own principals too), and an Allow beyond it lets others put
    forged events on the bus (review s8 section 2). A deleted bus is alerted.
    """
    change = context.change
    own = context.settings.own
    parameters = change.request_parameters
    if change.account != own.home_account or not own.central_bus:
        return None
    name = change.event_name
    bus = _text(parameters, "name") if name == "DeleteEventBus" else _bus_name(parameters.get("eventBusName"))
    if bus is None or _bus_name(bus) != own.central_bus:
        return None
    arn = f"arn:{context.partition}:events:{change.region}:{change.account}:event-bus/{own.central_bus}"
    if name == "DeleteEventBus":
        return Target(f"its central event bus {own.central_bus}", arn, [])
    declared_policy = declared_bus_policy(own, context.partition, change.region)
    what = f"the policy of its central event bus {own.central_bus}"
    if declared_policy is None:
        return Target(what, arn, [])  # no organisation: the template declares no policy to put back
    step = RemediationStep(
        RestoreCentralBusPolicy.action,
        arn,
        {"event_bus_name": own.central_bus, "policy": declared_policy},
        f"put the policy of IAM Warden's central bus {own.central_bus} back as the template declares it, whole "
        f"(only {', '.join(sorted(str(s.get('Sid')) for s in declared_policy['Statement']))}: the organisation "
        f"{own.organization_id} may put events), every other statement taken off",
    )
    return Target(what, arn, [step])


def _archive_or_replay_target(context: RuleContext) -> Target | None:
    """An archive of the central bus or the security account's default bus, or a replay into one; None for another.

    Alerted, critical, with the way back: nothing legitimate replays IAM Warden's input, and an archive is what a
    later replay needs. The replayed events themselves are judged and alerted, never acted on (``domain.replays``).
    """
    change = context.change
    own = context.settings.own
    parameters = change.request_parameters
    if change.account != own.home_account or not own.central_bus:
        return None
    if change.event_name == "CreateArchive":
        bus_arn = _text(parameters, "eventSourceArn")
    else:
        destination = parameters.get("destination")
        bus_arn = _text(destination, "arn") if isinstance(destination, Mapping) else None
    fields = (bus_arn or "").split(":", 5)
    if len(fields) != 6 or fields[4] != change.account or not fields[5].startswith("event-bus/"):
        return None
    bus = _bus_name(bus_arn)
    if bus not in (own.central_bus, "default"):
        return None
    arn = f"arn:{context.partition}:events:{change.region}:{change.account}:event-bus/{bus}"
    if change.event_name == "StartReplay":
        replay = _text(parameters, "replayName") or "<replay>"
        return Target(
            f"its event bus {bus} (archived events replayed into it)",
            arn,
            [],
            done=f"the enforcer judges and alerts each replayed event and never acts on one; stop the replay unless "
            f"you started it: aws events cancel-replay --replay-name {replay}",
        )
    archive = _text(parameters, "archiveName") or "<archive>"
    return Target(
        f"its event bus {bus} (an archive of its events)",
        arn,
        [],
        done=f"an archive is what a later replay needs; delete it unless you made it: aws events delete-archive "
        f"--archive-name {archive}",
    )


def _own_stack_target(context: RuleContext) -> Target | None:
    """An operation on IAM Warden's own stack (by name or stack ARN) in the security account; None if another.

    The member StackSet's operations are ``_own_stack_set_target``'s.

    Only ``operators`` deploy IAM Warden (checked by the caller): anyone else's update, change set or stack policy
    is alerted (high: it may be a deploy by someone not yet listed), a deletion or termination protection switched
    off is critical. Nothing is put back: the stack's own history says what changed.
    """
    change = context.change
    own = context.settings.own
    if change.event_name in STACK_SET_EVENTS:
        return _own_stack_set_target(context)
    stack = own.stack_name
    given = _text(change.request_parameters, "stackName") or ""  # ExecuteChangeSet may name only the change set
    name = given.split(":stack/", 1)[1].split("/", 1)[0] if ":stack/" in given else given
    if not stack or name != stack:
        return None
    arn = f"arn:{context.partition}:cloudformation:{change.region}:{change.account}:stack/{stack}"
    if change.event_name == "UpdateTerminationProtection":
        if change.request_parameters.get("enableTerminationProtection") is True:
            return Target(f"its stack {stack}", arn, [], fine=f"termination protection of its stack {stack} is on")
        return Target(
            f"its stack {stack} (termination protection off)",
            arn,
            [],
            done=f"switch it on again: aws cloudformation update-termination-protection --stack-name {stack} "
            "--enable-termination-protection",
        )
    if change.event_name == "DeleteStack":
        return Target(
            f"its stack {stack}",
            arn,
            [],
            done=f"the whole guard goes with it; deploy it again (sam deploy --stack-name {stack}) and switch "
            "termination protection on",
        )
    return Target(
        f"its stack {stack}",
        arn,
        [],
        severity=Severity.HIGH,
        done=f"if it was not your deploy, see what it changed (aws cloudformation describe-stack-events --stack-name "
        f"{stack}) and deploy IAM Warden's template again; if it was, add the deployer to "
        f"rules/{IAMWARDEN_TAMPERED.id}/operators so its next deploy is known",
    )


#: The role the StackSets service acts through in a member account of a service-managed StackSet (created there by
#: the service; AWS managed policy CloudFormationStackSetsOrgAdminServiceRolePolicy assumes ``role/stacksets-exec-*``).
STACK_SETS_EXECUTION_ROLE = re.compile(r"stacksets-exec-[0-9a-f]{32}")
#: The member StackSet's name where ``IAMWARDEN_MEMBER_STACK_SET`` does not say it (the templates' default).
MEMBER_STACK_SET_DEFAULT = "iamwarden-member"


def _in_member_account(context: RuleContext) -> bool:
    home = context.settings.own.home_account
    return home is not None and context.change.account != home


def _stack_sets_caller(context: RuleContext) -> bool:
    """Whether the caller's session is of a role named as the StackSets service's execution role in that account.

    A name only: a member admin can create a role of that name. So it never exempts a change on its own; it only
    decides whether a change CloudFormation made there is judged by its content or as anyone's."""
    change = context.change
    issuer = change.actor.session_issuer_arn or ""
    account_and_role = issuer.split(":", 4)[-1] if issuer.startswith("arn:") else ""
    return account_and_role.startswith(f"{change.account}:role/") and bool(
        STACK_SETS_EXECUTION_ROLE.fullmatch(account_and_role.split(":role/", 1)[1])
    )


def _outside_the_member_stack_set(context: RuleContext) -> str | None:
    """Why a CloudFormation change in a member account is not the member StackSet's deployment, or None.

    CloudFormation acts with its caller's credentials (without a service role): a member admin's ``DeleteStack`` or
    ``UpdateStack`` of the member stack makes every deletion and change with ``invokedBy`` CloudFormation, under the
    admin's own session. Only the StackSets service deploys the member stack, through its execution role; any other
    caller's change is judged like anyone's, whatever the stack's template says (audit s8 finding 1)."""
    if not _in_member_account(context) or _stack_sets_caller(context):
        return None
    return (
        " through CloudFormation, but in a stack operation the member StackSet's service did not run (the caller is "
        f"not the StackSets execution role stacksets-exec-* of account {context.change.account})"
    )


#: The changes that take something of the member stack's away, with no content to compare with its template.
_TAKING_AWAY = ("Delete", "Detach", "Remove", "Disable")


def _uncompared_deletion(context: RuleContext, content: "ContentCheck") -> bool:
    """Whether CloudFormation took something of a member stack's away (a rule, a role's policy) in a member account:
    nothing is compared, so the deletion is never exempt (``_uncompared_member_change``)."""
    return _in_member_account(context) and not content.compared and context.change.event_name.startswith(_TAKING_AWAY)


def _uncompared_member_change(context: RuleContext, target: "Target") -> Finding:
    """Alert-only, high: CloudFormation, as a role named as the StackSets execution role, changed a member stack
    resource in a way no content can be compared (a deletion): the event does not say which stack ran it."""
    change = context.change
    redeploy = context.settings.own.redeploy_command(change.account, change.region)
    unknown = (
        f"which stack's operation {change.event_name} was part of, and that its caller is the StackSets service's "
        f"execution role: the event names the role only ({change.actor.session_issuer_arn}), and a member admin can "
        "create a role of that name",
    )
    return context.finding(
        IAMWARDEN_TAMPERED,
        severity=Severity.HIGH,
        resource_arn=target.arn,
        reason=(
            f"CloudFormation changed IAM Warden in member account {change.account} ({change.event_name} on "
            f"{target.what}) as the StackSets execution role, and a change of this kind has no content to compare "
            f"with the member template. If no update or deletion of the member StackSet's instance there was yours, "
            f"{redeploy}."
        ),
        needs_context=unknown,
        plan=(),
    )


def _member_stack_target(context: RuleContext) -> Target | None:
    """A member account's instance of the member StackSet (``StackSet-<name>-<id>``, by name or stack ARN), or None.

    Deleted or updated there, it takes IAM Warden's rules and roles out of that account, each change made by
    CloudFormation (``_outside_the_member_stack_set`` judges those too). Only the StackSets service runs it:
    anyone else's operation is critical. The service's own (a role named as its execution role, which a member
    admin could create too): an update or change set is left to the changes it makes, each judged by content; a
    deletion, which takes everything, is alerted high and alert-only, since the event cannot show it was the
    service's."""
    change = context.change
    own = context.settings.own
    stack_set = own.stack_set_name or MEMBER_STACK_SET_DEFAULT
    given = _text(change.request_parameters, "stackName") or ""
    name = given.split(":stack/", 1)[1].split("/", 1)[0] if ":stack/" in given else given
    if not name.startswith(f"StackSet-{stack_set}-"):
        return None
    arn = f"arn:{context.partition}:cloudformation:{change.region}:{change.account}:stack/{name}"
    what = f"its member stack {name} in account {change.account}"
    recreate = (
        f"IAM Warden neither sees nor acts in account {change.account}, region {change.region}, until it is back: "
        f"aws cloudformation create-stack-instances --stack-set-name {stack_set} --deployment-targets "
        f"Accounts={change.account} --regions {change.region}, run where the StackSet is administered"
    )
    if _stack_sets_caller(context):
        if change.event_name == "DeleteStack":
            needs = (
                "whether the member StackSet's administrator deleted this instance (DeleteStackInstances): the event "
                f"names the caller's role only ({change.actor.session_issuer_arn}), and a member admin can create a "
                "role of that name",
            )
            return Target(what, arn, [], needs, severity=Severity.HIGH, done=f"if it was not yours, {recreate}")
        return Target(
            what,
            arn,
            [],
            fine=f"{change.event_name} of {what} by the StackSets execution role: each change it makes is judged by "
            "its content",
        )
    if change.event_name == "DeleteStack":
        return Target(what, arn, [], done=recreate)
    if change.event_name == "UpdateTerminationProtection" and change.request_parameters.get(
        "enableTerminationProtection"
    ):
        return Target(what, arn, [], fine=f"termination protection of {what} is on")
    return Target(
        what,
        arn,
        [],
        done=f"only the member StackSet deploys it (aws cloudformation describe-stack-events --stack-name {name} in "
        f"that account says what changed); put it back: {own.redeploy_command(change.account, change.region)}",
    )


def _own_stack_set_target(context: RuleContext) -> Target | None:
    """An operation on the member StackSet (``MemberStackSetName``, by name, id or ARN), or None for another.

    Administered from the security account (its delegated administrator), the StackSet deploys IAM Warden to every
    member account: an update with another template or parameters rewrites the member roles' trust and the
    forwarding rules everywhere at once, and deleted instances take IAM Warden out of those accounts. Only
    ``operators`` run it (checked by the caller); anyone else's operation is critical (new instances: high), and
    alert-only: no API puts a deleted instance or an earlier template back as it was, so the alert gives the
    command that does.
    """
    change = context.change
    own = context.settings.own
    parameters = change.request_parameters
    stack_set = own.stack_set_name
    given = _text(parameters, "stackSetName") or ""
    name = given.split(":stackset/", 1)[-1].split(":", 1)[0]  # a name, an id (name:uuid) or an ARN
    if not stack_set or name != stack_set:
        return None
    arn = f"arn:{context.partition}:cloudformation:{change.region}:{change.account}:stackset/{stack_set}"
    event = change.event_name
    call_as = " --call-as DELEGATED_ADMIN" if parameters.get("callAs") == "DELEGATED_ADMIN" else ""
    where = _stack_instances(parameters)
    update = (
        f"aws cloudformation update-stack-set --stack-set-name {stack_set}{call_as} --template-body "
        "file://member/template.yaml --capabilities CAPABILITY_NAMED_IAM --parameters "
        f"ParameterKey=CentralAccountId,ParameterValue={own.home_account or '<the security account>'} "
        f"ParameterKey=OrganizationId,ParameterValue={own.organization_id or '<your organisation>'}"
    )
    if event == "DeleteStackInstances":
        done = (
            f"IAM Warden neither sees nor acts in {where} until its member stack is back, and no API restores a "
            f"deleted instance as it was: aws cloudformation create-stack-instances --stack-set-name {stack_set}"
            f"{call_as} {_instances_arguments(parameters)}"
        )
        return Target(f"its member StackSet {stack_set} (instances deleted in {where})", arn, [], done=done)
    if event == "DeleteStackSet":
        done = (
            "its instances were deleted first, so no member account is guarded: create it again as the README "
            f"(AWS Organizations) says, aws cloudformation create-stack-set --stack-set-name {stack_set}{call_as} "
            "--template-body file://member/template.yaml --permission-model SERVICE_MANAGED --auto-deployment "
            "Enabled=true,RetainStacksOnAccountRemoval=false --capabilities CAPABILITY_NAMED_IAM, then "
            "create-stack-instances for your organisation's accounts and regions"
        )
        return Target(f"its member StackSet {stack_set} (deleted)", arn, [], done=done)
    if event == "CreateStackInstances":
        done = (
            f"new member stacks in {where}; if it was not your deploy, see that they hold IAM Warden's template and "
            f"parameters (aws cloudformation list-stack-instances --stack-set-name {stack_set}{call_as}); if it was, "
            f"add the deployer to rules/{IAMWARDEN_TAMPERED.id}/operators"
        )
        return Target(f"its member StackSet {stack_set}", arn, [], severity=Severity.HIGH, done=done)
    overrides = " with parameter overrides" if parameters.get("parameterOverrides") else ""
    done = (
        "an update with another template or parameters rewrites the member roles and forwarding rules of every "
        f"account it reaches; if it was not your deploy, put IAM Warden's member template back: {update}; if it was, "
        f"add the deployer to rules/{IAMWARDEN_TAMPERED.id}/operators"
    )
    return Target(f"its member StackSet {stack_set} ({event} in {where}{overrides})", arn, [], done=done)


def _stack_targets(parameters: Mapping[str, Any]) -> tuple[list[Any], list[Any], list[Any]]:
    """The accounts, organisational units and regions a StackSet operation names (each empty when it names none)."""
    targets = parameters.get("deploymentTargets")
    targets = targets if isinstance(targets, Mapping) else {}
    accounts = parameters.get("accounts") or targets.get("accounts")
    units = targets.get("organizationalUnitIds")
    regions = parameters.get("regions")

    def listed(value: Any) -> list[Any]:
        return value if isinstance(value, list) else []

    return listed(accounts), listed(units), listed(regions)


def _stack_instances(parameters: Mapping[str, Any]) -> str:
    """The accounts (or organisational units) and regions a StackSet operation names, in words."""
    accounts, units, regions = _stack_targets(parameters)
    named = (
        f"accounts {', '.join(map(str, accounts))}"
        if accounts
        else f"organisational units {', '.join(map(str, units))}"
        if units
        else "every account it reaches"
    )
    return named + (f" (regions {', '.join(map(str, regions))})" if regions else "")


def _instances_arguments(parameters: Mapping[str, Any]) -> str:
    """The ``create-stack-instances`` arguments that put back the instances a ``DeleteStackInstances`` named."""
    accounts, units, regions = _stack_targets(parameters)
    where = (
        f"--accounts {' '.join(map(str, accounts))}"
        if accounts
        else f"--deployment-targets OrganizationalUnitIds={','.join(map(str, units))}"
        if units
        else "--deployment-targets OrganizationalUnitIds=<the organisational units>"
    )
    return where + f" --regions {' '.join(map(str, regions)) if regions else '<regions>'}"


def _alert_path_target(context: RuleContext) -> Target | None:
    """A change to the alert topic or its subscriptions, the alert key, or the stack's alarms; None if not theirs.

    A disabled key is enabled again and a key scheduled for deletion is kept (``restore_own_key``), disabled alarm
    actions are enabled again (``enable_own_alarm_actions``): each API puts back exactly what the call took away.
    A subscription's delivery attribute (a filter policy that drops every alert) is put back from the heartbeat's
    snapshot (``restore_own_subscription_attribute``). An unsubscribed endpoint (an e-mail must confirm again), a
    topic attribute (the previous value is not in the event), a deleted topic or alarm are alerted with the way back.
    """
    change = context.change
    own = context.settings.own
    parameters = change.request_parameters
    name = change.event_name
    if change.event_source == SNS:
        topic = own.alert_topic
        arn = _text(parameters, "topicArn") or _text(parameters, "subscriptionArn") or ""
        fallback = own.alert_fallback_topic
        if fallback and (arn == fallback or arn.startswith(fallback + ":")):
            return _fallback_topic_target(context, fallback, arn)
        if not topic or not (arn == topic or arn.startswith(topic + ":")):
            return None
        what = f"its alert topic {topic}" if arn == topic else f"the subscription {arn} of its alert topic"
        if name == "SetSubscriptionAttributes" and arn != topic:
            return _subscription_target(context, arn, what)
        return Target(what, arn, [])
    if change.event_source == KMS:
        key = own.alert_key
        given = _text(parameters, "keyId")
        if not key or given is None or given not in (key, key.rsplit("/", 1)[-1]):
            return None
        step = RemediationStep(
            RestoreOwnKey.action,
            key,
            {"key_id": key},
            f"enable IAM Warden's alert key {key} again"
            + (" and cancel its deletion" if name == "ScheduleKeyDeletion" else ""),
        )
        return Target(f"its alert key {key}", key, [step])
    names = parameters.get("alarmNames")
    mine = sorted(n for n in (names if isinstance(names, list) else []) if isinstance(n, str) and n in own.alarms)
    if not mine:
        return None
    arn = f"arn:{context.partition}:cloudwatch:{change.region}:{change.account}:alarm:{mine[0]}"
    what = f"its alarm{'s' if len(mine) > 1 else ''} {', '.join(mine)}"
    if name == "DeleteAlarms":
        steps = [restore for alarm in mine if (restore := restore_alarm_step(context, alarm)) is not None]
        return Target(what, arn, steps) if len(steps) == len(mine) else Target(what, arn, [])
    plan = (
        [
            RemediationStep(
                EnableOwnAlarmActions.action,
                arn,
                {"alarm_names": mine},
                f"enable the actions of IAM Warden's alarms {', '.join(mine)} again",
            )
        ]
        if name == "DisableAlarmActions"
        else []
    )
    return Target(what, arn, plan)


def restore_alarm_step(context: RuleContext, alarm: str) -> RemediationStep | None:
    """The step writing own alarm ``alarm`` back as template.yaml declares it (its actions enabled), or None where
    the declaration cannot be filled in or the change is not in the stack's region (a namesake elsewhere)."""
    change = context.change
    own = context.settings.own
    if change.region != own.home_region or change.account != own.home_account:
        return None
    definition = declared_alarm(own, alarm, context.partition)
    if definition is None:
        return None
    arn = f"arn:{context.partition}:cloudwatch:{change.region}:{change.account}:alarm:{alarm}"
    return RemediationStep(
        RestoreOwnAlarm.action,
        arn,
        {"alarm_name": alarm, "restore_to": definition},
        f"put IAM Warden's alarm {alarm} back as its template declares it (threshold, missing data, actions), "
        "its actions enabled",
    )


#: The fallback topic's attributes its template declares, which a ``SetTopicAttributes`` restore puts back.
_FALLBACK_DECLARED_ATTRIBUTES = ("Policy", "KmsMasterKeyId")


def _fallback_topic_target(context: RuleContext, topic: str, arn: str) -> Target:
    """A change to the last-resort topic (``iamwarden-alerts-fallback``) or one of its subscriptions.

    It carries what the alert topic refuses, so its loss is alerted through the alert topic (the two watch one
    another). Its policy and its key, as the template declares them, are put back (``restore_fallback_topic_attribute``)
    while the topic still holds the changed value; a deleted topic, an unsubscribed endpoint or another attribute are
    alerted with the way back (the stack's redeploy).
    """
    change = context.change
    own = context.settings.own
    parameters = change.request_parameters
    fix = own.redeploy_command(change.account, change.region)
    if arn != topic:
        return Target(f"the subscription {arn} of its fallback alert topic", arn, [], done=f"subscribe it again: {fix}")
    what = f"its fallback alert topic {topic}"
    if change.event_name == "DeleteTopic":
        return Target(what, topic, [], done=f"it is gone, and with it the alerts the alert topic refuses: {fix}")
    attribute = _text(parameters, "attributeName")
    if change.event_name != "SetTopicAttributes" or attribute not in _FALLBACK_DECLARED_ATTRIBUTES:
        return Target(what, topic, [], done=f"put it back as declared: {fix}")
    declared_value: Any = (
        declared_fallback_topic_policy(own, context.partition)
        if attribute == "Policy"
        else declared.ALERT_FALLBACK_TOPIC_KEY
    )
    if declared_value is None:
        needs = ("the fallback topic's policy as its template declares it (IAM Warden's roles are not known here)",)
        return Target(what, topic, [], needs)
    changed_to = _json(parameters.get("attributeValue"))
    if _same(changed_to, declared_value):
        return Target(what, topic, [], fine=f"the {attribute} put on its fallback topic {topic} is the declared one")
    step = RemediationStep(
        RestoreFallbackTopicAttribute.action,
        topic,
        {"topic_arn": topic, "attribute": attribute, "changed_to": changed_to, "restore_to": declared_value},
        f"put the {attribute} of IAM Warden's fallback alert topic {topic} back as its template declares it",
    )
    return Target(what, topic, [step])


def _own_secret_target(context: RuleContext) -> Target | None:
    """A change to one of IAM Warden's Slack secrets (the webhook, the bot token, the signing secret), or None.

    Put back where the secret itself still holds the good state: a deleted secret is restored (``RestoreSecret``,
    within its recovery window), a new current version (``PutSecretValue``, ``UpdateSecretVersionStage`` of
    ``AWSCURRENT``) gives ``AWSCURRENT`` back to the version it was taken from (``AWSPREVIOUS``), a resource
    policy put on it is deleted (the template declares none). Another key, a rotation or a version staged without
    being current are alerted with the way back.
    """
    change = context.change
    own = context.settings.own
    parameters = change.request_parameters
    secret = own.own_secret(_text(parameters, "secretId"), change.account, change.region)
    if secret is None:
        return None
    name = change.event_name
    what = f"its Slack secret {secret}"
    fix = own.redeploy_command(change.account, change.region)
    if name == "DeleteSecret":
        if parameters.get("forceDeleteWithoutRecovery") in (True, "true"):
            return Target(
                what,
                secret,
                [],
                done=(
                    "it was deleted without a recovery window, so it cannot be restored: "
                    f"{fix}; then put the Slack credential back (aws secretsmanager put-secret-value --secret-id "
                    f"{secret} --secret-string ...)"
                ),
            )
        window = parameters.get("recoveryWindowInDays")
        step = RemediationStep(
            RestoreOwnSecret.action,
            secret,
            {"secret_id": secret, "recovery_window": window if isinstance(window, int) else None},
            f"restore IAM Warden's Slack secret {secret} (cancel its scheduled deletion)",
        )
        return Target(what, secret, [step])
    if name in ("PutSecretValue", "UpdateSecretVersionStage"):
        return _secret_version_target(context, secret, what)
    if name == "PutResourcePolicy":
        step = RemediationStep(
            RemoveOwnSecretPolicy.action,
            secret,
            {"secret_id": secret},
            f"delete the resource policy put on IAM Warden's Slack secret {secret} (its template declares none)",
        )
        return Target(what, secret, [step])
    if name == "DeleteResourcePolicy":
        return Target(
            what,
            secret,
            [],
            severity=Severity.HIGH,
            done="its template declares no resource policy on it, so nothing IAM Warden relies on was taken away",
        )
    if name == "RotateSecret":
        function = _text(parameters, "rotationLambdaARN") or "a rotation function"
        return Target(
            f"{what} (rotation by {function})",
            secret,
            [],
            done=(
                f"a rotation writes new versions of it: stop it (aws secretsmanager cancel-rotate-secret --secret-id "
                f"{secret}) and make the good version current again (aws secretsmanager update-secret-version-stage "
                f"--secret-id {secret} --version-stage {CURRENT} --move-to-version-id <the good version> "
                f"--remove-from-version-id <the rotated one>); {fix}"
            ),
        )
    key = _text(parameters, "kmsKeyId")
    if _text(change.response_elements or {}, "versionId"):  # UpdateSecret with a new value: a new current version
        return _secret_version_target(context, secret, f"{what}{f' (now encrypted with {key})' if key else ''}")
    return Target(
        f"{what}{f' (now encrypted with {key})' if key else ''}",
        secret,
        [],
        done=(
            "put it back: "
            + (
                f"aws secretsmanager update-secret --secret-id {secret} --kms-key-id <the key the template names, "
                "or aws/secretsmanager>; "
                if key
                else ""
            )
            + fix
        ),
    )


def _secret_version_target(context: RuleContext, secret: str, what: str) -> Target:
    """A new ``AWSCURRENT`` version of an own secret: the label goes back to the version the change took it from, and
    only when IAM Warden knows that version good.

    Why this way: with two changes in a row (v1 good, v2 and v3 the intruder's) the version labelled
    ``AWSPREVIOUS`` when a restore runs may be the intruder's first one, so it is no restore target by itself. What
    is known: ``UpdateSecretVersionStage`` names the version it took ``AWSCURRENT`` from (``removeFromVersionId``);
    ``PutSecretValue`` and ``UpdateSecret`` name none, but Secrets Manager labels it ``AWSPREVIOUS``. And the enforcer
    keeps, per judged change, the version it made current and whether it was tampering (``OWN_SECRET``): a record
    taken before this change, of an operator's or the stack's change, says which version was current and that it is
    good. The restore target is that version, when the change took ``AWSCURRENT`` from it (the event's
    ``removeFromVersionId``; for a new value, ``AWSPREVIOUS`` as the restore finds it, checked then). A version a
    change judged as tampering made current is never a target, and neither is one IAM Warden has no record of, or
    a record newer than the change (it may be the change itself): alert-only, saying what is unknown. A heartbeat
    read is not used: it cannot tell whose version it sees, and the deploy's is the stack's placeholder.
    """
    change = context.change
    parameters = change.request_parameters
    replaced: str | None = None
    if change.event_name == "UpdateSecretVersionStage":
        stage, changed_to = _text(parameters, "versionStage"), _text(parameters, "moveToVersionId")
        if stage != CURRENT:
            return Target(
                what,
                secret,
                [],
                severity=Severity.HIGH,
                done=f"the label {stage} moved, not {CURRENT}: IAM Warden still reads the same version",
            )
        replaced = _text(parameters, "removeFromVersionId")
        if replaced is None:
            needs = (
                f"which version of {secret} the change took {CURRENT} from (the event names no removeFromVersionId)",
            )
            return Target(what, secret, [], needs, made_current=changed_to)
    else:
        stages = parameters.get("versionStages")
        if isinstance(stages, list) and CURRENT not in stages:
            return Target(
                what,
                secret,
                [],
                severity=Severity.HIGH,
                done=f"the new version is not {CURRENT}, so IAM Warden does not read it yet; making it current is "
                "put back then",
            )
        response = change.response_elements or {}
        # UpdateSecret's clientRequestToken is filled in by the SDKs even when no value changes: its answer says.
        token = _text(parameters, "clientRequestToken") if change.event_name == "PutSecretValue" else None
        changed_to = _text(response, "versionId") or token
    if changed_to is None:
        needs = (f"which version of {secret} the change made {CURRENT} (the event names none)",)
        return Target(what, secret, [], needs)
    restore_to, source, unknown = _good_version_before(context, secret, changed_to, replaced)
    if restore_to is None:
        return Target(what, secret, [], (unknown,), made_current=changed_to)
    step = RemediationStep(
        RestoreOwnSecretVersion.action,
        secret,
        {"secret_id": secret, "changed_to": changed_to, "restore_to": restore_to, "source": source},
        f"make version {restore_to} of IAM Warden's Slack secret {secret} {CURRENT} again, the version the change "
        f"took it from (known good: {source}), instead of {changed_to}",
    )
    return Target(what, secret, [step], made_current=changed_to)


def _good_version_before(
    context: RuleContext, secret: str, changed_to: str, replaced: str | None
) -> tuple[str | None, str, str]:
    """The version of ``secret`` current before the change, known good: (version, its source, "") or (None, "",
    what is unknown). ``replaced``: the version the event says it took ``AWSCURRENT`` from, if it says."""
    change = context.change
    record = context.recorded.snapshot(OWN_SECRET, secret) if context.recorded is not None else None
    version = record.data.get("current_version") if record is not None else None
    why: str | None = None
    if context.recorded is None:
        why = "offline there is no audit table to read IAM Warden's record of it from"
    elif record is None:
        why = (
            "IAM Warden has no record of its current version: it keeps one of each change an operator or the stack "
            "makes"
        )
    elif not record.taken_before(change.time):
        why = (
            f"IAM Warden's record of {record.taken_at} is newer than the change of {change.time}, so it may be the "
            "change itself"
        )
    elif not isinstance(version, str) or version == changed_to:
        why = f"IAM Warden's record of {record.taken_at} names no other version"
    elif record.data.get("tampered") is not False:
        why = (
            f"version {version}, current before it, was made current by a change judged as tampering, "
            f"{record.data.get('event_id')}: never a version to put back"
        )
    elif replaced is not None and replaced != version:
        why = f"IAM Warden's record of {record.taken_at} knows version {version} current, not {replaced}"
    if why is not None or record is None or not isinstance(version, str):
        unknown = (
            f"version {replaced} of {secret} (the one the change took {CURRENT} from) known good"
            if replaced
            else f"the version of {secret} current before it, known good"
        )
        return None, "", f"{unknown} ({why})"
    return version, f"current since IAM Warden's record of {record.taken_at}", ""


#: What an attribute is when a subscription has none set: the filter policy is removed with ``{}`` (the SNS
#: developer guide's SetSubscriptionAttributes example), the others have SNS's defaults.
_SUBSCRIPTION_DEFAULTS = MappingProxyType(
    {"FilterPolicy": "{}", "FilterPolicyScope": "MessageAttributes", "RawMessageDelivery": "false"}
)


def _subscription_target(context: RuleContext, arn: str, what: str) -> Target:
    """A delivery attribute of one of the alert topic's subscriptions changed: put back as the heartbeat last saw it.

    From the ``OWN_SUBSCRIPTION`` snapshot: its value, or, when the snapshot had none (no filter policy, SNS's
    default scope or delivery), the filter policy removed and the default put back. A delivery or redrive policy
    the snapshot did not hold, no snapshot at all, or one taken after the change (a heartbeat that ran between the
    change and its judgement, a redelivered event: it may hold the intruder's value) is alerted saying what is
    missing.
    """
    parameters = context.change.request_parameters
    attribute = _text(parameters, "attributeName")
    if attribute not in SUBSCRIPTION_ATTRIBUTES:
        return Target(what, arn, [])
    snapshot = context.recorded.snapshot(OWN_SUBSCRIPTION, arn) if context.recorded is not None else None
    held = snapshot.data.get("attributes") if snapshot is not None else None
    if snapshot is None or not isinstance(held, Mapping):
        where = (
            "IAM Warden has no snapshot of it: the heartbeat takes one of each confirmed subscription"
            if context.recorded is not None
            else "offline there is no audit table to read IAM Warden's snapshots from"
        )
        return Target(f"{what} ({attribute})", arn, [], (f"its {attribute} before this change ({where})",))
    if not snapshot.taken_before(context.change.time):  # read after the change: it may hold the change itself
        needs = (
            f"its {attribute} before this change (IAM Warden's snapshot of {snapshot.taken_at} is newer than the "
            f"change of {context.change.time}, so it may already hold the change)",
        )
        return Target(f"{what} ({attribute})", arn, [], needs)
    restore_to = held.get(attribute, _SUBSCRIPTION_DEFAULTS.get(attribute))
    if not isinstance(restore_to, str):
        needs = (f"its {attribute} before this change (IAM Warden's snapshot of {snapshot.taken_at} holds none)",)
        return Target(f"{what} ({attribute})", arn, [], needs)
    changed_to = parameters.get("attributeValue")
    source = f"IAM Warden's snapshot of {snapshot.taken_at}"
    step = RemediationStep(
        RestoreOwnSubscriptionAttribute.action,
        arn,
        {
            "subscription_arn": arn,
            "attribute": attribute,
            "changed_to": changed_to if isinstance(changed_to, str) else "",
            "restore_to": restore_to,
            "source": source,
        },
        f"put the {attribute} of the alert topic's subscription {arn} back "
        + ("(removed: " if attribute == "FilterPolicy" and _no_filter(restore_to) else "(")
        + f"from {source})",
    )
    return Target(f"{what} ({attribute})", arn, [step])


def _no_filter(value: Any) -> bool:
    """Whether a FilterPolicy value filters nothing (absent, empty, or ``{}``)."""
    return value in (None, "", "{}") or _json(value) == {}


def _json(value: Any) -> Any:
    try:
        return json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return value


def _same_attribute(attribute: str, left: Any, right: Any) -> bool:
    if attribute == "FilterPolicy" and _no_filter(left) and _no_filter(right):
        return True
    if left is None or right is None:
        return left is right
    return _same(_json(left), _json(right))


#: The roles every forwarding rule's target uses: declared whole by their templates (``declared.FORWARDER_ROLES``).
FORWARDER_KINDS = frozenset({"event-forwarder", "member-forwarder"})


def _declared_forwarder(context: RuleContext, role: str) -> DeclaredRole | None:
    """Forwarding role ``role`` of the event's account as its template declares it, or None: no forwarding role, or
    a name it needs (the security account's region) is not known. Its region is the one its name carries."""
    change, own = context.change, context.settings.own
    kind = own.kind_of_role_named(role, change.account)
    if kind not in FORWARDER_KINDS:
        return None
    region = own.home_region if kind == "event-forwarder" else role.rsplit("-forwarder-", 1)[-1]
    if region is None:
        return None
    return declared_forwarder_role(kind or "", own, context.partition, region, change.account)


def _restore_role_document(context: RuleContext, role: str, arn: str) -> tuple[RemediationStep | None, tuple[str, ...]]:
    """The step putting back the trust or inline policy an own-role event changed, or what the restore lacks.

    Only a known good document is put back: a forwarding role's trust and inline policies as its template declares
    them whole (a fact, any account: ``declared.FORWARDER_ROLES``; an inline policy it does not declare is deleted),
    the trust policy or inline policy the template declares (a fact, home account: ``declared.OWN_INLINE_DOCUMENTS``;
    an inline policy it does not declare at all is deleted), else IAM Warden's snapshot taken strictly before the
    change. A snapshot taken after it may already hold it (the
    heartbeat reads whatever is live, and anyone allowed to invoke it chooses when: audit s7 gap 1), so it is not
    used and the finding says so. The step carries the event's document (``changed_to``; without a readable one there
    is no step, only what is unknown): it acts only while that is still live.
    """
    change = context.change
    if change.event_name in ("UpdateAssumeRolePolicy", "PutRolePolicy") and not isinstance(
        _json(change.request_parameters.get("policyDocument")), Mapping
    ):
        # The step acts only while the event's document is live; without a readable one it could act on anything
        # (the engine no longer refuses the whole event for one rule's unreadable field: review s11 F19).
        return None, (f"the document this {change.event_name} set: the event does not carry a readable one",)
    snapshot = context.recorded.snapshot(OWN_ROLE, arn) if context.recorded is not None else None
    if snapshot is None:
        where = (
            "IAM Warden has no snapshot of it: the heartbeat takes one of each of its roles"
            if context.recorded is not None
            else "offline there is no audit table to read IAM Warden's snapshots from"
        )
    elif not snapshot.taken_before(change.time):
        where = (
            f"IAM Warden's snapshot of it was taken at {snapshot.taken_at}, not before the change at {change.time}, "
            "so it may already hold the change"
        )
        snapshot = None
    forwarder = _declared_forwarder(context, role)
    if change.event_name == "UpdateAssumeRolePolicy":
        what = f"the trust policy of IAM Warden's role {role}"
        declared = context.settings.own.declared_trust_policy(role, change.account)
        if forwarder is not None:
            document, source = forwarder.trust, "the document its template declares"
        elif declared is not None:
            document, source = declared, "the document its template declares"
        elif snapshot is not None and isinstance(snapshot.data.get("trust_policy"), Mapping):
            document = snapshot.data["trust_policy"]
            source = f"IAM Warden's snapshot of {snapshot.taken_at}"
        else:
            return None, (f"{what} before this change ({where}{_member_where(context)})",)
        parameters = {
            "role_name": role,
            "document": "trust",
            "restore_to": document,
            "changed_to": _json(change.request_parameters.get("policyDocument")),
            "source": source,
        }
        return RemediationStep(RestoreOwnRoleDocument.action, arn, parameters, f"put back {what} from {source}"), ()
    policy = context.request_text("policyName")
    what = f"the inline policy {policy} of IAM Warden's role {role}"
    written = _json(change.request_parameters.get("policyDocument")) if change.event_name == "PutRolePolicy" else None
    own = context.settings.own
    template = (
        declared_inline_policy(own, role, policy, context.partition)
        if forwarder is None and change.account == own.home_account
        else None
    )
    if template is not None and (template.document is not None or not template.named):
        # A fact, whatever any snapshot holds: a snapshot taken between two intruder writes holds the first one.
        if not template.named and change.event_name == "DeleteRolePolicy":
            return None, ()  # a policy its template does not declare is gone: nothing of the stack's to put back
        source = (
            "the document its template declares"
            if template.named
            else f"its template, which declares no inline policy {policy} on it"
        )
        parameters = {
            "role_name": role,
            "document": "inline",
            "policy_name": policy,
            "restore_to": template.document,
            "changed_to": written,
            "source": source,
        }
        summary = f"put back {what} from {source}" if template.named else f"delete {what} ({source})"
        return RemediationStep(RestoreOwnRoleDocument.action, arn, parameters, summary), ()
    inline = snapshot.data.get("inline") if snapshot is not None else None
    if forwarder is not None:  # declared whole: a policy the template does not declare is deleted
        inline, source = forwarder.inline, "the documents its template declares"
    elif snapshot is None or not isinstance(inline, Mapping):
        return None, (f"{what} before this change ({where}{_member_where(context)})",)
    else:
        source = f"IAM Warden's snapshot of {snapshot.taken_at}"
    restore_to = inline.get(policy)
    parameters = {
        "role_name": role,
        "document": "inline",
        "policy_name": policy,
        "restore_to": restore_to,
        "changed_to": written,
        "source": source,
    }
    summary = f"put back {what} from {source}" if restore_to is not None else f"delete {what} (not in {source})"
    return RemediationStep(RestoreOwnRoleDocument.action, arn, parameters, summary), ()


def _revoke_sessions_step(context: RuleContext, role: str, arn: str) -> RemediationStep:
    """After a member role's trust is put back: deny the sessions issued while the changed trust let others in.

    A session outlives the trust that let it in (up to the role's maximum session), and a member role's session
    named as IAM Warden's is not forwarded: without this, whoever the changed trust admitted keeps the remediation
    role for up to an hour after the restore (audit s7 gap 9). Not in the security account: there the only
    sessions are Lambda's, and a borrowed one can do nothing (``only-its-own-function``).
    """
    since = observed_at(context.change.time)
    return RemediationStep(
        RevokeOwnRoleSessions.action,
        arn,
        {"role_name": role, "since": since},
        f"deny every session of IAM Warden's role {role} issued from {since} (the change) until the trust was put "
        f"back (inline policy {REVOKED_SESSIONS_POLICY})",
    )


def _unlike_finding(context: RuleContext, what: str, arn: str, unlike: str) -> Finding:
    """High and alert-only: CloudFormation wrote a declared policy with a document unlike the deployed one."""
    change = context.change
    redeploy = context.settings.own.redeploy_command(change.account, change.region)
    return context.finding(
        IAMWARDEN_TAMPERED,
        severity=Severity.HIGH,
        resource_arn=arn,
        reason=(
            f"CloudFormation changed IAM Warden itself ({change.event_name} on {what}) with {unlike}. Any stack "
            "can declare a policy of that name on the role: if this was not a deploy of IAM Warden's stack by an "
            f"operator, {redeploy}."
        ),
        needs_context=(
            f"whether IAM Warden's own stack made this change: {unlike}, and a CloudTrail record does not name "
            "the stack that made it",
        ),
        plan=(),
    )


def _unlike_the_snapshot(context: RuleContext) -> str | None:
    """How a CloudFormation ``PutRolePolicy`` on an own role differs from IAM Warden's snapshot, or None.

    The policy's name is one the stack declares, but any stack can declare an ``AWS::IAM::RolePolicy`` of that
    name on the role and overwrite it. The document the snapshot recorded is what was deployed; one that differs
    is either a new deploy or another stack, which a record cannot tell apart: alerted, never put back.
    """
    change = context.change
    if change.event_source != IAM or change.event_name != "PutRolePolicy" or context.recorded is None:
        return None
    role = _text(change.request_parameters, "roleName") or ""
    policy = _text(change.request_parameters, "policyName") or ""
    arn = iam_arn(context.partition, change.account, "role", role)
    snapshot = context.recorded.snapshot(OWN_ROLE, arn)
    inline = snapshot.data.get("inline") if snapshot is not None else None
    if snapshot is None or not isinstance(inline, Mapping) or policy not in inline:
        return None
    field = "detail.requestParameters.policyDocument"
    try:  # the one decoder of an event's document (domain.documents), as the inline-policy rule reads it
        document = decode_policy_document(
            change.request_parameters.get("policyDocument"), PolicyKind.INLINE_ROLE, field=field
        )
    except InvalidEventError:
        return f"a document that is not a policy document for its inline policy {policy}"
    if canonical(document) == canonical(inline[policy]):
        return None
    return f"a document for its inline policy {policy} that differs from IAM Warden's snapshot of {snapshot.taken_at}"


def _member_where(context: RuleContext) -> str:
    """Where a member account's own-role snapshot comes from, for the finding that lacks one."""
    if context.change.account == context.settings.own.home_account or context.recorded is None:
        return ""
    account = context.change.account
    return f", in account {account} through its iamwarden-snapshot-reader role, if managed_accounts lists it"


def _own_policy_target(context: RuleContext) -> Target | None:
    """A change to one of IAM Warden's own managed policies (its remediation grants), or None for any other policy.

    A new default version is put back to the version the stack deployed (``OWN_POLICY`` snapshot: recorded by the
    deploy, checked by the heartbeat); without one the finding says so and is only alerted: IAM does not say which
    version was the default before, and "the version before" may be the intruder's own. A non-default version
    created or deleted leaves nothing in force (IAM refuses to delete the default): alerted, high. A deleted policy
    is alerted with the redeploy command.
    """
    change = context.change
    own = context.settings.own
    policy_arn = context.request_text("policyArn")
    if not own.is_own_policy(policy_arn, change.account):
        return None
    name = policy_arn.rsplit("/", 1)[-1]
    what = f"its managed policy {name} (remediation grants)"
    event = change.event_name
    if event == "DeletePolicy":
        if change.account == own.home_account:
            return Target(what, policy_arn, [])
        return Target(
            what,
            policy_arn,
            [],
            done=(
                f"put it back: the member StackSet's stack in account {change.account} writes it again when the "
                f"StackSet is updated for that account (aws cloudformation update-stack-instances --stack-set-name "
                f"<the member StackSet, iamwarden-member in the README> --accounts {change.account} --regions "
                f"{change.region}); until then IAM Warden's remediations there lack these grants"
            ),
        )
    if event == "DeletePolicyVersion":
        version = _text(change.request_parameters, "versionId") or "?"
        return Target(
            what,
            policy_arn,
            [],
            severity=Severity.HIGH,
            done=(
                f"version {version} was not the default (IAM refuses to delete that one), so nothing it grants "
                "changed and nothing is put back; an intruder may be clearing room for versions of its own"
            ),
        )
    if event == "CreatePolicyVersion" and change.request_parameters.get("setAsDefault") not in (True, "true"):
        return Target(
            what,
            policy_arn,
            [],
            severity=Severity.HIGH,
            done=(
                "the new version is not the default, so it grants nothing yet and nothing is put back; making it "
                "the default is put back then"
            ),
        )
    changed_to = _new_default(context)
    snapshot = context.recorded.snapshot(OWN_POLICY, policy_arn) if context.recorded is not None else None
    deployed = snapshot.data.get("default_version") if snapshot is not None else None
    document = snapshot.data.get("document") if snapshot is not None else None
    if snapshot is None or not isinstance(deployed, str) or not isinstance(document, Mapping):
        where = (
            "IAM Warden has no snapshot of it: the deploy records the version the stack deployed, the heartbeat "
            "the first one it sees; the member stack's policies have none"
            if context.recorded is not None
            else "offline there is no audit table to read IAM Warden's snapshots from"
        )
        needs = (f"the default version of {name} its stack deployed ({where})",)
        done = (
            f"it cannot be put back without {needs[0]}: aws iam list-policy-versions --policy-arn {policy_arn} "
            f"shows the versions; aws iam set-default-policy-version --policy-arn {policy_arn} --version-id "
            f"<the deployed one> puts it back ({changed_to} is the default now)"
        )
        return Target(what, policy_arn, [], needs, done=done)
    if changed_to == deployed:
        return Target(
            what,
            policy_arn,
            [],
            fine=f"{event} made version {deployed} of {name} the default: the version its stack deployed",
        )
    source = f"IAM Warden's snapshot of {snapshot.taken_at}"
    parameters = {
        "policy_arn": policy_arn,
        "changed_to": changed_to,
        "restore_to": deployed,
        "document": dict(document),
        "source": source,
    }
    summary = f"make version {deployed} of {name} the default again (the stack's, from {source}), not {changed_to}"
    return Target(what, policy_arn, [RemediationStep(RestoreOwnPolicyVersion.action, policy_arn, parameters, summary)])


def _new_default(context: RuleContext) -> str:
    """The version a ``SetDefaultPolicyVersion`` or ``CreatePolicyVersion`` (as the default) made the default."""
    if context.change.event_name == "SetDefaultPolicyVersion":
        return context.request_text("versionId")
    created = (context.change.response_elements or {}).get("policyVersion")
    version = created.get("versionId") if isinstance(created, Mapping) else None
    if not isinstance(version, str) or not version:
        raise InvalidEventError("detail.responseElements.policyVersion.versionId must be a non-empty string")
    return version


def undeclared_by_the_stack(context: RuleContext) -> str | None:
    """What a CloudFormation change to IAM Warden names that its own stacks do not declare, or None.

    Any stack can declare a policy on the enforcer's role, a permission on one of its functions or a parameter
    under its prefix, so CloudFormation is IAM Warden's own stack only when the change names what its templates
    declare (``domain.declared``, generated from them). Changes only the owning stack can make (a rule, a
    function's code, a queue, a table, a role's trust) name nothing another stack could add.
    """
    change = context.change
    own = context.settings.own
    name = change.event_name
    if change.event_source == IAM:
        if name in POLICY_EVENTS:
            return None  # only the stack that owns a managed policy resource writes its versions through CloudFormation
        role = context.request_text("roleName") or ""
        if name == "CreateRole" and not admits_only_the_stack(
            change.request_parameters.get("assumeRolePolicyDocument"), own.home_account
        ):
            return f"a trust policy for role {role} that lets in more than IAM Warden's security account"
        policy = ""
        if name in ROLE_INLINE_EVENTS:
            policy = context.request_text("policyName") or ""
        elif name in ROLE_MANAGED_EVENTS:
            policy = context.request_text("policyArn") or ""
        return undeclared_on_own_role(own, change.account, name, role, policy)
    parameters = change.request_parameters
    if change.event_source == SECRETSMANAGER and name in ("PutResourcePolicy", "DeleteResourcePolicy", "RotateSecret"):
        # The template declares neither a resource policy nor a rotation on its secrets: another stack's
        # AWS::SecretsManager::ResourcePolicy or RotationSchedule on them is tampering like anyone's call.
        return f"a {'rotation' if name == 'RotateSecret' else 'resource policy'} on {_text(parameters, 'secretId')}"
    if change.event_source == LAMBDA and name in ROLE_GIVING_EVENTS:
        function = function_name(_text(parameters, "functionName")) or ""
        if function not in own.functions:  # the templates give IAM Warden's roles to IAM Warden's functions only
            return f"the function {function}, given one of its roles"
    if change.event_source == LAMBDA and name in ("AddPermission20150331v2", "RemovePermission20150331v2"):
        statement = _text(parameters, "statementId") or ""
        stack = own.stack_name or "iamwarden"
        if not any(statement.startswith(f"{stack}-{logical}") for logical in declared.PERMISSIONS):
            return f"the permission {statement!r}"
    if change.event_source == LAMBDA and name in INVOKE_CONFIG_EVENTS:
        function = function_name(_text(parameters, "functionName")) or ""
        if function not in declared.INVOKE_CONFIGS:
            return f"an event invoke configuration on {function}"
    if change.event_source == SSM:
        prefix = (own.settings_prefix or "").rstrip("/") + "/"
        undeclared = [n for n in settings_written(change, own) if n.removeprefix(prefix) not in declared.SETTINGS]
        if undeclared:
            return f"the setting{'s' if len(undeclared) > 1 else ''} {', '.join(undeclared)}"
    return None


class ContentCheck(NamedTuple):
    """How a CloudFormation change differs from what the template declares (None: it writes what is declared), or
    what IAM Warden could not know to tell (then the finding is alert-only)."""

    difference: str | None = None
    unknown: tuple[str, ...] = ()
    #: Whether the content was compared at all (a change this check does not read is judged by its name only).
    compared: bool = False


def unlike_the_template(context: RuleContext) -> ContentCheck:
    """Whether a CloudFormation change to an own rule, function or setting writes what the template declares.

    The names are declared (``undeclared_by_the_stack``), but a name is no identity: another stack, or an update
    of IAM Warden's own with another template, can put a declared rule with a pattern that matches nothing, a
    target with a constant input, a reserved concurrency of 0 or another value in a setting. So the content is
    compared: a rule's pattern or schedule, state and target with ``declared.OWN_RULE_CONTENT`` (the member
    stack's forwarding rules with ``MEMBER_RULE_PATTERNS``), a function's reserved concurrency and role with what
    the stack deploys, a setting's new value (read from its history: CloudTrail does not record it) with the
    template's default or the value before it (a stack parameter may set it).
    """
    change = context.change
    own = context.settings.own
    parameters = change.request_parameters
    source, name = change.event_source, change.event_name
    if source == EVENTS and name in ("PutRule", "PutTargets"):
        rule_name = _text(parameters, "rule" if name == "PutTargets" else "name") or ""
        if change.account != own.home_account:
            return _member_rule_content(context, rule_name)
        bus = _bus_name(parameters.get("eventBusName"))
        key = rule_name if bus == "default" else f"{bus}/{rule_name}"
        rule = declared_rule(key, own, context.partition, change.region, change.account)
        if rule is None:
            return ContentCheck(
                unknown=(
                    f"what the template declares for rule {key}: it names something IAM Warden's environment does not",
                )
            )
        differences = rule_differences(parameters, rule) if name == "PutRule" else target_differences(parameters, rule)
        return ContentCheck("; ".join(differences) or None, compared=True)
    if source == LAMBDA and change.account == own.home_account:
        function = function_name(_text(parameters, "functionName")) or ""
        declared_reserved = own.reserved_concurrency.get(function)
        as_declared = f"{declared_reserved}" if declared_reserved is not None else "none (unreserved)"
        if name == "PutFunctionConcurrency20171031":
            value = parameters.get("reservedConcurrentExecutions")
            if value != declared_reserved:
                return ContentCheck(
                    f"a reserved concurrency of {value} for {function}, not the template's {as_declared}"
                )
        if name == "DeleteFunctionConcurrency20171031" and declared_reserved is not None:
            return ContentCheck(f"no reserved concurrency for {function}, not the template's {as_declared}")
        if name == "AddPermission20150331v2":
            # The statement id names a declared permission, but any stack whose name starts like IAM Warden's
            # could write one so named: what it lets in must be what the template declares.
            where = (context.partition, change.region, change.account)
            qualified = _text(parameters, "qualifier") is not None
            if declared_permission(own, where, function, parameters, qualified=qualified) is None:
                return ContentCheck(
                    f"a permission for {parameters.get('principal')} to {parameters.get('action')} on {function}, "
                    "which the template does not declare",
                    compared=True,
                )
            return ContentCheck(compared=True)
        if name == "UpdateFunctionConfiguration20150331v2":
            role, kind = _text(parameters, "role"), own.function_roles.get(function)
            expected = own.home_roles.get(kind) if kind else None
            if role is not None and expected is not None and role != expected:
                return ContentCheck(f"the role {role} for {function}, not its own {expected}")
        compared = name in ("PutFunctionConcurrency20171031", "DeleteFunctionConcurrency20171031") or (
            name == "UpdateFunctionConfiguration20150331v2" and _text(parameters, "role") is not None
        )
        return ContentCheck(compared=compared)
    if source == SSM and name == "PutParameter":
        return _setting_content(context)
    return ContentCheck()


def _member_rule_content(context: RuleContext, rule_name: str) -> ContentCheck:
    """A member stack's forwarding rule put through CloudFormation, against the member template's declaration."""
    change = context.change
    own = context.settings.own
    parameters = change.request_parameters
    if change.event_name == "PutTargets":
        differences = []
        targets = parameters.get("targets")
        for target in targets if isinstance(targets, list) else []:
            arn = target.get("arn") if isinstance(target, Mapping) else None
            fields = str(arn).split(":")
            if not (
                len(fields) == 6
                and fields[2] == "events"
                and fields[4] == own.home_account
                and fields[5] == f"event-bus/{own.central_bus}"
            ):
                differences.append(f"target {arn}, not the central bus {own.central_bus} of {own.home_account}")
            elif any(
                isinstance(target, Mapping) and target.get(k) is not None
                for k in ("input", "inputPath", "inputTransformer")
            ):
                differences.append(f"target {arn} with its input replacing the event")
        return ContentCheck("; ".join(differences) or None, compared=True)
    raw = declared.MEMBER_RULE_PATTERNS.get(rule_name)
    text = fill(raw, own, context.partition, change.region, change.account) if raw is not None else None
    if text is None:
        return ContentCheck(unknown=(f"what the member template declares for rule {rule_name}",))
    rule = DeclaredRule(json.loads(text), None, "ENABLED", "")
    return ContentCheck("; ".join(rule_differences(parameters, rule)) or None, compared=True)


def _setting_content(context: RuleContext) -> ContentCheck:
    """A setting CloudFormation wrote, against the template's default and the value before it (its history)."""
    change = context.change
    own = context.settings.own
    prefix = (own.settings_prefix or "").rstrip("/") + "/"
    for name, version in settings_written(change, own).items():
        why = "CloudTrail does not record a parameter's value; the enforcer reads it from the parameter's history"
        if context.live_clients is None or version is None:
            return ContentCheck(unknown=(f"the value CloudFormation wrote to {name} ({why})",))
        try:
            history = list(_history(context.live_clients(change.account, change.region), name))
        except Exception as exc:
            return ContentCheck(
                unknown=(f"the value CloudFormation wrote to {name} (its history: {error_code(exc) or exc})",)
            )
        written = next((entry for entry in history if entry.get("Version") == version), None)
        earlier = [entry for entry in history if isinstance(entry.get("Version"), int) and entry["Version"] < version]
        before = max(earlier, key=lambda entry: entry["Version"]) if earlier else None
        if written is None:
            return ContentCheck(
                unknown=(f"the value CloudFormation wrote to {name} (version {version} is not in its history)",)
            )
        value = written.get("Value")
        default = declared.SETTING_DEFAULTS.get(name.removeprefix(prefix))
        if value == default or (before is not None and value == before.get("Value")):
            continue
        return ContentCheck(
            f"the value {value!r} in {name}, neither the template's default"
            + (f" ({default!r})" if default is not None else " (it declares none)")
            + (f" nor the value before ({before.get('Value')!r})" if before is not None else "")
        )
    return ContentCheck(compared=True)


def _unknown_content_finding(context: RuleContext, target: Target, unknown: tuple[str, ...]) -> Finding:
    """Alert-only: CloudFormation changed a declared resource, and what it wrote cannot be compared."""
    change = context.change
    redeploy = context.settings.own.redeploy_command(change.account, change.region)
    return context.finding(
        IAMWARDEN_TAMPERED,
        severity=Severity.HIGH if change.event_source == SSM else target.severity,
        resource_arn=target.arn,
        reason=(
            f"CloudFormation changed IAM Warden itself ({change.event_name} on {target.what}), and whether it wrote "
            f"what the template declares is not known ({'; '.join(unknown)}). Any stack can write a declared name: "
            f"if this was not a deploy of IAM Warden's stack by an operator, {redeploy}."
        ),
        needs_context=unknown,
        plan=(),
    )


#: The target id a put-back target gets when the event names none (the rule was deleted with its targets).
RESTORED_TARGET_ID = "iamwarden-restored"


def _rule_done(context: RuleContext, rule_name: str, bus: str, key: str, plan: list[RemediationStep]) -> str | None:
    """What the alert says is done about own rule ``key``: re-enabling puts back a state, never a pattern (review
    s15 F5): a ``PutRule`` that also re-patterned it gets the ``put-rule`` command too."""
    commands = _restore_rule_commands(context, rule_name, bus, key)
    if not plan:
        return commands
    parameters = context.change.request_parameters
    repatterned = context.change.event_name == "PutRule" and (
        parameters.get("eventPattern") is not None or parameters.get("scheduleExpression") is not None
    )
    if not repatterned:
        return None
    return "it will be enabled again, but its pattern or schedule is not put back: " + (
        commands
        or f"put it back: {context.settings.own.redeploy_command(context.change.account, context.change.region)}"
    )


def _restore_rule_commands(context: RuleContext, rule_name: str, bus: str, key: str) -> str | None:
    """The exact commands that put own rule ``key`` of the security account back as its template declares it, from
    the declared content (``declared.OWN_RULE_CONTENT``), never from the event; None where that content is not
    wholly known (then the redeploy command is given).

    CloudFormation re-applies only what a template changes, so ``sam deploy`` of an unchanged template puts back
    neither a deleted rule nor its pattern or target (issue 15 item 2). What each event undid decides the commands
    (review s15 F2): ``PutRule`` touches no target, so only ``put-rule`` (pattern or schedule, state); ``PutTargets``
    first has every target it put removed (``remove-targets`` with the event's exact ids: an attacker's target
    left in place keeps forwarding), then the declared target put only if no target with its ARN is left (a second
    one would invoke it twice), under the event's id when it names one (the overwritten one) or
    ``RESTORED_TARGET_ID``; ``RemoveTargets`` the same put, on the same condition; ``DeleteRule`` both. Always in the
    stack's region (the central bus's, review s15 F7), whatever region the event names. What the declared content
    does not hold (the target's dead-letter queue and retry policy, the rule's description) the alert names as left
    out. A member stack's rules (a pattern naming its roles' ids, a template condition) belong to its StackSet
    instance: None.
    """
    change = context.change
    own = context.settings.own
    if change.account != own.home_account:
        return None
    region = own.home_region or change.region
    found = declared_rule(key, own, context.partition, region, change.account)
    if found is None:
        return None
    where = f" --region {region}" + ("" if bus == "default" else f" --event-bus-name {bus}")
    if found.pattern is not None:
        pattern = json.dumps(found.pattern, separators=(",", ":"), sort_keys=True)
        if "'" in pattern or "Fn::If" in pattern or ANY_ROLE_ID in pattern:
            return None
        shape = f"--event-pattern '{pattern}'"
    elif found.schedule is not None:
        shape = f"--schedule-expression '{found.schedule}'"
    else:
        return None
    role = ""
    if ":event-bus/" in found.target:  # a bus target needs the role EventBridge puts events with
        forwarder = own.home_roles.get("event-forwarder")
        if forwarder is None:
            return None
        role = f",RoleArn={forwarder}"
    name = change.event_name
    ids = [i for i in _target_ids(change.request_parameters) if isinstance(i, str)]
    steps = []
    if name in ("PutRule", "DeleteRule"):
        steps.append(f"aws events put-rule{where} --name {rule_name} {shape} --state {found.state}")
    if name == "PutTargets" and ids:
        listed = " ".join(shlex.quote(i) for i in ids)
        steps.append(
            f"aws events remove-targets{where} --rule {rule_name} --ids {listed} (every target this event put)"
        )
    if name in ("DeleteRule", "PutTargets", "RemoveTargets"):
        target = f"Id={ids[0] if len(ids) == 1 else RESTORED_TARGET_ID},Arn={found.target}{role}"
        put = f"aws events put-targets{where} --rule {rule_name} --targets '{target}'"
        steps.append(
            put
            if name == "DeleteRule"
            else f"if aws events list-targets-by-rule{where} --rule {rule_name} shows no target with the ARN "
            f"{found.target} (the rule's one target, getting the event unchanged), {put}"
        )
    if not steps:
        return None
    elsewhere = (
        f" (the stack's rules are in {region}; a rule of that name in {change.region} is not one it declares)"
        if change.region != region
        else ""
    )
    return (
        f"put it back as its template declares it{elsewhere}: {', then '.join(steps)}; the target's dead-letter "
        "queue and retry policy and the rule's description are template.yaml's and not in these commands (aws "
        f"cloudformation detect-stack-drift --stack-name {own.stack_name or 'iamwarden'} shows what still differs)"
    )


def _target_ids(parameters: Mapping[str, Any]) -> list[Any]:
    """The target ids a ``RemoveTargets`` (``ids``) or ``PutTargets`` (``targets[].id``) names; none for the rest."""
    ids = parameters.get("ids")
    if isinstance(ids, list):
        return ids
    targets = parameters.get("targets")
    return [t.get("id") for t in targets if isinstance(t, Mapping)] if isinstance(targets, list) else []


def _targets_put(parameters: Mapping[str, Any]) -> str:
    """What a ``PutTargets`` set, in words: each target's id and ARN, and whether it overrides the event."""
    targets = parameters.get("targets")
    described = []
    for target in targets if isinstance(targets, list) else []:
        if not isinstance(target, Mapping):
            continue
        overrides = [key for key in ("input", "inputPath", "inputTransformer") if target.get(key) is not None]
        described.append(
            f"{target.get('id')} -> {target.get('arn') or 'an unnamed ARN'}"
            + (f" with {'/'.join(overrides)} replacing the event" if overrides else "")
        )
    return f": targets set to {'; '.join(described)}" if described else ""


def _text(parameters: Mapping[str, Any], key: str) -> str | None:
    value = parameters.get(key)
    return value if isinstance(value, str) and value else None


def _bus_name(value: Any) -> str:
    """An event bus named by name or ARN (``arn:...:event-bus/NAME``); the default bus when not named."""
    if not isinstance(value, str) or not value:
        return "default"
    return value.rsplit("/", 1)[-1] if value.startswith("arn:") else value


def function_name(value: str | None) -> str | None:
    """A function named by name, ARN or partial ARN (``123456789012:function:NAME[:qualifier]``)."""
    if value is None:
        return None
    if ":function:" in value:
        return value.split(":function:", 1)[1].split(":", 1)[0]
    return value.split(":", 1)[0]


def function_qualifier(value: str | None) -> str | None:
    """The version or alias a function name or ARN carries after its name (``NAME:live``), or None."""
    if value is None:
        return None
    rest = value.split(":function:", 1)[1] if ":function:" in value else value
    name, colon, qualifier = rest.partition(":")
    return qualifier or None if colon and name else None


class RemoveOwnRoleBoundary:
    """Take off a permissions boundary put on one of IAM Warden's roles: their templates declare none. Undoable."""

    permissions: ClassVar[Permissions] = ("iam:GetRole", "iam:DeleteRolePermissionsBoundary")
    action: ClassVar[StepAction] = StepAction("remove_own_role_boundary", permissions)
    undo_permissions: ClassVar[Permissions] = ("iam:GetRole", "iam:PutRolePermissionsBoundary")
    undoable: ClassVar[bool] = True

    @staticmethod
    def _boundary(aws: AccountClients, role: str) -> tuple[bool, str | None]:
        try:
            found = aws.iam.get_role(RoleName=role)["Role"]
        except Exception as exc:
            if is_gone(exc):
                return False, None
            raise
        return True, (found.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        exists, boundary = self._boundary(aws, step.parameters["role_name"])
        return {"exists": exists, "boundary": boundary}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if not before["exists"] or before["boundary"] != step.parameters["boundary"]:
            return  # gone, or a different boundary since (judged by its own event)
        role = step.parameters["role_name"]
        with ignoring():
            run.aws.iam.delete_role_permissions_boundary(RoleName=role)
            done.append(f"removed the permissions boundary {before['boundary']} from IAM Warden's role {role}")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        if not before["exists"] or before["boundary"] != step.parameters["boundary"]:
            return []
        role = step.parameters["role_name"]
        exists, current = self._boundary(aws, role)
        if not exists:
            raise UndoError(f"role {role} no longer exists")
        if current is not None:
            raise UndoError(f"role {role} has the boundary {current} now; put {before['boundary']} back by hand")
        aws.iam.put_role_permissions_boundary(RoleName=role, PermissionsBoundary=before["boundary"])
        return [f"put the permissions boundary {before['boundary']} back on role {role}"]


def grant_differs(iam: Any, policy_arn: str, document: Any) -> str | None:
    """Why the live policy ``policy_arn`` is not the declared grant ``document`` (gone, unreadable, another path or
    name, a default version that differs in meaning: ``canonical``), or None when it is.

    ``iam:GetPolicy`` for its path, name and default version, ``iam:GetPolicyVersion`` for that version's document.
    """
    try:
        policy = iam.get_policy(PolicyArn=policy_arn)["Policy"]
        version = str(policy["DefaultVersionId"])
        found = iam.get_policy_version(PolicyArn=policy_arn, VersionId=version)["PolicyVersion"]
    except Exception as exc:
        if is_gone(exc):
            return f"the policy {policy_arn} is gone"
        return f"the policy {policy_arn} cannot be read ({error_code(exc) or exc})"
    name = policy_arn.rsplit("/", 1)[-1]
    if policy.get("Arn") != policy_arn or policy.get("Path", "/") != "/" or policy.get("PolicyName") != name:
        return f"the policy {policy.get('Arn')} is not the declared {policy_arn}"
    if canonical(policy_document(found.get("Document"))) != canonical(document):
        return (
            f"the default version {version} of {policy_arn} grants other than its template declares (deleted and "
            "re-created, or given a new default version?)"
        )
    return None


class ReattachOwnGrant:
    """Attach a declared remediation grant back to the own role it was detached from. Undo detaches it again.

    Acts only when the policy under the declared ARN holds, in meaning (``canonical``), the document its template
    declares (the step's ``document``): read at capture and again at apply (``iam:GetPolicy`` for its path, name
    and default version, ``iam:GetPolicyVersion`` for that version's document). A policy that differs (deleted and
    re-created with another document, or a new default version), cannot be read, or is gone is never attached: the
    step fails with why and the exact command. It is read once more after the attach (review reattach-s16 item 3):
    a version written in between is detached again and the step fails. Already attached (holding the declared
    document: a retry may find a changed one attached, which fails with both commands) counts as done. The attach
    is allowed only by each role's inline grant (``iam:AttachRolePolicy`` on that very role, ``ArnEquals``
    ``iam:PolicyARN`` its own remediation policies), which no ``DetachRolePolicy`` can take away. Undo detaches only
    what the record's ``done`` shows attached (``undo_done``). An undo from Slack runs in the enforcer (its own
    session's changes are not judged) and stays; one run as an operator (``iamwarden undo``) is itself a detach of
    an own grant, kept only as ``undone_reattach`` proves it from the CLI's done undo record of that detach.
    """

    permissions: ClassVar[Permissions] = (
        "iam:ListAttachedRolePolicies",
        "iam:GetPolicy",
        "iam:GetPolicyVersion",
        "iam:AttachRolePolicy",
        "iam:DetachRolePolicy",
    )
    action: ClassVar[StepAction] = StepAction("reattach_own_grant", permissions)
    undo_permissions: ClassVar[Permissions] = ("iam:DetachRolePolicy",)
    undoable: ClassVar[bool] = True

    @staticmethod
    def _attached(aws: AccountClients, step: RemediationStep) -> bool | None:
        """Whether the grant is attached now; None when the role no longer exists."""
        role, policy_arn = step.parameters["role_name"], step.parameters["policy_arn"]
        try:
            return any(
                policy["PolicyArn"] == policy_arn
                for policy in pages(aws.iam, "list_attached_role_policies", "AttachedPolicies", RoleName=role)
            )
        except Exception as exc:
            if is_gone(exc):
                return None
            raise

    @staticmethod
    def _differs(aws: AccountClients, step: RemediationStep) -> str | None:
        return grant_differs(aws.iam, step.parameters["policy_arn"], step.parameters["document"])

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        attached = self._attached(aws, step)
        differs = self._differs(aws, step) if attached is not None else None  # attached too: a retry's case
        return {"exists": attached is not None, "attached": bool(attached), "differs": differs}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if not before["exists"]:
            return  # the role is gone (its deletion is alerted)
        role, policy_arn = step.parameters["role_name"], step.parameters["policy_arn"]
        if before["attached"]:
            # Review2 reattach-s16 item 1: attached counts as done only while it holds the declared document; a
            # retry after a detach that failed (or a timeout after the attach) finds the changed policy attached.
            why = before["differs"] or self._differs(run.aws, step)
            if why is not None:
                raise RemediationError(
                    f"{why}, and it is attached: detach it by hand (aws iam detach-role-policy --role-name "
                    f"{shlex.quote(role)} --policy-arn {shlex.quote(policy_arn)}), check what it grants (aws iam "
                    f"list-policy-versions --policy-arn {policy_arn}); once it is the template's, put it back: "
                    f"{attach_command(role, policy_arn)}"
                )
            return  # attached already, as declared
        why = before["differs"] or self._differs(run.aws, step)  # and again against what is live now
        if why is not None:
            raise RemediationError(
                f"{why}: nothing attached. Check what it grants (aws iam list-policy-versions --policy-arn "
                f"{policy_arn}); once it is the template's, put it back: {attach_command(role, policy_arn)}"
            )
        run.aws.iam.attach_role_policy(RoleName=role, PolicyArn=policy_arn)
        # Review reattach-s16 item 3: a version written between the read and the attach would be attached unseen.
        why = self._differs(run.aws, step)
        if why is None:
            done.append(f"{_reattached(role, policy_arn)} (it holds the declared document)")
            return
        try:
            run.aws.iam.detach_role_policy(RoleName=role, PolicyArn=policy_arn)
        except Exception as exc:
            if not is_gone(exc):  # still attached: the record says so, and undo detaches it
                done.append(f"{_reattached(role, policy_arn)}, but {why}; detaching it failed ({error_code(exc)})")
                raise RemediationError(
                    f"{why} once attached, and detaching it again failed ({error_code(exc) or exc}): detach it by "
                    f"hand (aws iam detach-role-policy --role-name {shlex.quote(role)} --policy-arn "
                    f"{shlex.quote(policy_arn)}), check what it grants, then: {attach_command(role, policy_arn)}"
                ) from exc
        raise RemediationError(
            f"{why} once attached, so IAM Warden detached it again: nothing attached. Check what it grants (aws iam "
            f"list-policy-versions --policy-arn {policy_arn}); once it is the template's, put it back: "
            f"{attach_command(role, policy_arn)}"
        )

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        """Without the record's ``done`` (a caller that has none): read from ``before`` alone. The executor calls
        ``undo_done`` with the record's lines instead."""
        return self.undo_done(aws, step, before, None)

    def undo_done(
        self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any], done: Sequence[str] | None
    ) -> list[str]:
        """Detach the grant again, only when the record's ``done`` shows IAM Warden attached it (review reattach-s16
        item 1): a re-attach refused at apply (a FAILED record whose ``before`` read the policy as declared) attached
        nothing, and a grant someone attached since is not the undo's to take."""
        if not self.detaches(step.parameters, before, done):
            return []  # nothing was attached, or refused (or stopped) before its attach went through
        role, policy_arn = step.parameters["role_name"], step.parameters["policy_arn"]
        with ignoring():  # detached again since (or the role deleted): as the change left it
            aws.iam.detach_role_policy(RoleName=role, PolicyArn=policy_arn)
            return [f"{_detached_again(role, policy_arn)}, as the change left it"]
        return []

    @staticmethod
    def detaches(parameters: Mapping[str, Any], before: Mapping[str, Any], done: Sequence[str] | None) -> bool:
        """Whether undo of this step detaches the grant: the attach was needed (the role there, the grant not
        attached, the policy read as declared) and the record's ``done`` shows it went through."""
        if not before.get("exists") or before.get("attached") or before.get("differs") is not None:
            return False
        return wrote(done, _reattached(str(parameters.get("role_name")), str(parameters.get("policy_arn"))))


def _reattached(role: str, policy_arn: str) -> str:
    """How ``ReattachOwnGrant``'s ``done`` line starts once its attach went through (``undo_done`` reads it)."""
    return f"attached {policy_arn} back to IAM Warden's role {role}"


def _detached_again(role: str, policy_arn: str) -> str:
    """How the undo record's line starts once ``ReattachOwnGrant``'s undo detached the grant (``undone_reattach``
    reads it: a done undo that detached nothing, the grant already gone, excuses no detach)."""
    return f"detached {policy_arn} from role {role} again"


class RestoreOwnRoleSessionDuration:
    """Put an own role's maximum session back to the declared one, while it is still what the event set. Undoable."""

    permissions: ClassVar[Permissions] = ("iam:GetRole", "iam:UpdateRole")
    action: ClassVar[StepAction] = StepAction("restore_own_role_session_duration", permissions)
    undo_permissions: ClassVar[Permissions] = ("iam:GetRole", "iam:UpdateRole")
    undoable: ClassVar[bool] = True

    @staticmethod
    def _duration(aws: AccountClients, role: str) -> int | None:
        try:
            found = aws.iam.get_role(RoleName=role)["Role"]
        except Exception as exc:
            if is_gone(exc):
                return None
            raise
        return int(found.get("MaxSessionDuration", DECLARED_MAX_SESSION_DURATION))

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        return {"duration": self._duration(aws, step.parameters["role_name"])}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if before["duration"] != step.parameters["duration"]:
            return  # gone, or changed again since (judged by its own event)
        role = step.parameters["role_name"]
        with ignoring():
            run.aws.iam.update_role(RoleName=role, MaxSessionDuration=DECLARED_MAX_SESSION_DURATION)
            done.append(
                f"put the maximum session of IAM Warden's role {role} back from {before['duration']} to "
                f"{DECLARED_MAX_SESSION_DURATION} seconds"
            )

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        if before["duration"] != step.parameters["duration"]:
            return []
        role = step.parameters["role_name"]
        current = self._duration(aws, role)
        if current is None:
            raise UndoError(f"role {role} no longer exists")
        if current != DECLARED_MAX_SESSION_DURATION:
            raise UndoError(f"role {role} has a maximum session of {current} seconds now; nothing was changed")
        aws.iam.update_role(RoleName=role, MaxSessionDuration=before["duration"])
        return [f"put the maximum session of role {role} back to {before['duration']} seconds"]


#: The inline policy a member role's trust restore adds: one Deny per window in which a changed trust let others in.
REVOKED_SESSIONS_POLICY = "iamwarden-revoked-sessions"


class RevokeOwnRoleSessions:
    """Deny every session of an IAM Warden role issued from a trust change until now (after the restore). Undoable.

    The IAM console's "Revoke active sessions" (``aws:TokenIssueTime``), bounded on both sides: sessions issued
    before the change (IAM Warden's own, cached) and after the restore keep working; one statement per window
    (``Sid`` from its start), so a second restore adds its own and a retry adds nothing. IAM Warden's own session
    of the role, if it was issued inside the window, is renewed at once (``renew_session``). Undo puts back the
    policy as it was (deleted when there was none).
    """

    permissions: ClassVar[Permissions] = ("iam:GetRolePolicy", "iam:PutRolePolicy")
    action: ClassVar[StepAction] = StepAction("revoke_own_role_sessions", permissions)
    undo_permissions: ClassVar[Permissions] = ("iam:GetRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy")
    undoable: ClassVar[bool] = True

    @staticmethod
    def _policy(aws: AccountClients, role: str) -> Any:
        """The role's revoke policy, or None when it has none (or the role is gone)."""
        try:
            return policy_document(
                aws.iam.get_role_policy(RoleName=role, PolicyName=REVOKED_SESSIONS_POLICY)["PolicyDocument"]
            )
        except Exception as exc:
            if is_gone(exc):
                return None
            raise

    @staticmethod
    def sid(since: str) -> str:
        return "IssuedFrom" + "".join(ch for ch in since if ch.isdigit())

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        return {"policy": self._policy(aws, step.parameters["role_name"])}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        role, since = step.parameters["role_name"], step.parameters["since"]
        existing = before["policy"] if isinstance(before["policy"], Mapping) else {}
        statements = list(existing.get("Statement") or []) if isinstance(existing.get("Statement"), list) else []
        sid = self.sid(since)
        if any(isinstance(statement, Mapping) and statement.get("Sid") == sid for statement in statements):
            return  # revoked already (a retry)
        statements.append(
            {
                "Sid": sid,
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {
                    "DateGreaterThanEquals": {"aws:TokenIssueTime": since},
                    "DateLessThan": {"aws:TokenIssueTime": run.now},
                },
            }
        )
        document = {"Version": "2012-10-17", "Statement": statements}
        run.aws.iam.put_role_policy(
            RoleName=role, PolicyName=REVOKED_SESSIONS_POLICY, PolicyDocument=json.dumps(document)
        )
        run.aws.renew_session()
        done.append(f"denied every session of IAM Warden's role {role} issued from {since} until {run.now}")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        role = step.parameters["role_name"]
        live = self._policy(aws, role)
        statements = live.get("Statement") if isinstance(live, Mapping) else None
        sid = self.sid(step.parameters["since"])
        if not isinstance(statements, list) or not any(
            isinstance(statement, Mapping) and statement.get("Sid") == sid for statement in statements
        ):
            return []  # lifted already
        if before["policy"] is None:
            with ignoring():
                aws.iam.delete_role_policy(RoleName=role, PolicyName=REVOKED_SESSIONS_POLICY)
        else:
            aws.iam.put_role_policy(
                RoleName=role, PolicyName=REVOKED_SESSIONS_POLICY, PolicyDocument=json.dumps(before["policy"])
            )
        return [f"lifted the session revoke on role {role} ({REVOKED_SESSIONS_POLICY} as it was before)"]


class QuarantineRole:
    """Deny a role that took one of IAM Warden's role names everything: the deny-all permissions boundary (AWS's
    ``AWSDenyAll``: no quota to fill) and the deny-all inline policy. Undo takes off the boundary (or puts back the
    one before) and deletes the inline policy (or puts back the inline policy of that name the role had before).

    The boundary first (review s11 F11): a role's inline policies share a 10,240-character quota, and an intruder
    who filled it makes the inline write fail ``LimitExceeded``; that is no failure while the boundary holds.
    """

    permissions: ClassVar[Permissions] = (
        "iam:GetRole",
        "iam:GetRolePolicy",
        "iam:PutRolePolicy",
        "iam:PutRolePermissionsBoundary",
    )
    action: ClassVar[StepAction] = StepAction("quarantine_role", permissions)
    undo_permissions: ClassVar[Permissions] = (
        "iam:GetRole",
        "iam:GetRolePolicy",
        "iam:PutRolePolicy",
        "iam:DeleteRolePolicy",
        "iam:PutRolePermissionsBoundary",
        "iam:DeleteRolePermissionsBoundary",
    )
    undoable: ClassVar[bool] = True
    #: What names the very same role in a newer quarantine's before-state (``held_under``): its RoleId.
    held_by: ClassVar[str] = "role_id"

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        role, policy = step.parameters["role_name"], step.parameters["policy_name"]
        try:
            found = aws.iam.get_role(RoleName=role)["Role"]
        except Exception as exc:
            if is_gone(exc):
                return {"exists": False}
            raise
        boundary = (found.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        # What a name cannot say (issue 15): a role deleted and re-created under the name is another principal, so
        # remediation-reversed and undo act only on the role of this RoleId.
        role_id = found.get("RoleId")
        try:
            document = policy_document(aws.iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"])
        except Exception as exc:
            if is_gone(exc):
                return {"exists": True, "policy": None, "boundary": boundary, "role_id": role_id}
            raise
        return {"exists": True, "policy": document, "boundary": boundary, "role_id": role_id}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if not before["exists"]:
            return  # deleted since
        role, policy = step.parameters["role_name"], step.parameters["policy_name"]
        boundary = deny_all_boundary(step.target)
        # Either deny-all is enough (review s11 R7): a refused boundary write is no failure while the inline
        # deny-all holds, and a refused inline write none while the boundary holds; neither: the boundary's error.
        boundary_error: Exception | None = None
        if before.get("boundary") != boundary:
            try:
                run.aws.iam.put_role_permissions_boundary(RoleName=role, PermissionsBoundary=boundary)
                done.append(f"set the deny-all permissions boundary {boundary} on role {role}")
            except Exception as exc:
                boundary_error = exc
        if canonical(before["policy"]) != canonical(DENY_ALL):
            try:
                run.aws.iam.put_role_policy(RoleName=role, PolicyName=policy, PolicyDocument=json.dumps(DENY_ALL))
                done.append(f"put the deny-all inline policy {policy} on role {role}")
            except Exception as exc:
                if boundary_error is not None:
                    # Neither deny-all holds: said in the record (review s13 N1: the alert reads the latest
                    # attempt's lines), and the boundary's refusal says why.
                    done.append(
                        f"NOT put: the deny-all inline policy {policy} on role {role} "
                        f"({error_code(exc) or type(exc).__name__})"
                    )
                    done.append(
                        f"NOT set: the deny-all permissions boundary {boundary} on role {role} "
                        f"({error_code(boundary_error) or type(boundary_error).__name__}); role {role}{NOT_QUARANTINED}"
                    )
                    raise boundary_error from exc
                done.append(
                    f"NOT put: the deny-all inline policy {policy} ({error_code(exc) or type(exc).__name__}); the "
                    f"deny-all boundary {boundary} holds"
                )
        if boundary_error is not None:
            done.append(
                f"NOT set: the deny-all permissions boundary {boundary} on role {role} "
                f"({error_code(boundary_error) or type(boundary_error).__name__}); the deny-all inline policy "
                f"{policy} holds"
            )

    def held_under(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> tuple[str, ...]:
        """The ARN under which a newer quarantine of this very role may be recorded (a role cannot be renamed: its
        own; review quarrole-s15 F1, as users since review s12 F4). The executor refuses to undo this quarantine while
        a newer one of the same RoleId holds (remediation-reversed's, after a deny-all was lifted by hand). A record
        without a RoleId (older than issue 15) names no role surely: none."""
        if not before.get("exists") or not isinstance(before.get("role_id"), str):
            return ()
        return (step.target,)

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        """Without the record's ``done`` (a caller that has none): both deny-alls are taken for the quarantine's own.
        The executor calls ``undo_done`` with the record's lines instead."""
        return self.undo_done(aws, step, before, None)

    def undo_done(
        self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any], done: Sequence[str] | None
    ) -> list[str]:
        """Lift the quarantine. ``done``: the record's lines; a deny-all is lifted only when they show IAM Warden's
        own write of it went through (as for users, review s13 N3): one whose write was refused (a ``NOT`` line) and
        that someone put on since is not the quarantine's to lift, and stays. A write whose answer was lost (its
        latest ``NOT`` line a throttle, 5xx or timeout: AWS may have applied it) is unknown, not refused (review
        quarrole-s15 F4): its deny-all is lifted when the role holds exactly IAM Warden's (``AWSDenyAll``, or the
        inline policy of IAM Warden's name with the deny-all document); otherwise undo names the error and the
        command that lifts it by hand."""
        if not before["exists"]:
            return []
        role, policy = step.parameters["role_name"], step.parameters["policy_name"]
        restored: list[str] = []
        boundary = deny_all_boundary(step.target)
        role_id = before.get("role_id")
        # A record from before the boundary step has no "boundary" key: that quarantine set none, so none is lifted.
        lifts_boundary = "boundary" in before and before["boundary"] != boundary
        lost: str | None = None  # the code of a boundary write whose answer was lost
        if lifts_boundary and not wrote(done, f"set the deny-all permissions boundary {boundary} on role {role}"):
            code = failed_with(done, f"NOT set: the deny-all permissions boundary {boundary} on role {role}")
            if code is not None and unclear_code(code):
                lost = code
            else:
                lifts_boundary = False
                restored.append(
                    f"left the permissions boundary of role {role} as it is: the record shows no write of {boundary} "
                    f"by the quarantine{_refused(code, _boundary_command(role, before['boundary']))}"
                )
        if lifts_boundary or isinstance(role_id, str):
            try:
                found = aws.iam.get_role(RoleName=role)["Role"]
            except Exception as exc:
                if is_gone(exc):
                    raise UndoError(f"role {role} no longer exists") from exc
                raise
            if isinstance(role_id, str) and found.get("RoleId") != role_id:
                # Issue 15: deleted and re-created under the name, it is another principal; its policies are not
                # the quarantine's to lift.
                raise UndoError(
                    f"role {role} is not the role IAM Warden quarantined (RoleId {found.get('RoleId')}, not "
                    f"{role_id}): a role deleted and re-created under the name is another principal; nothing was "
                    "changed. The record needs no dismissing: it judges nothing on this role (no rule defers to it; "
                    "changes to this role are judged as to any other), and it stays as the history of that quarantine"
                )
            live = (found.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
            if lifts_boundary and live == boundary:
                why = f" (its write's answer was lost, {lost}: the {boundary} there is taken for it)" if lost else ""
                if before["boundary"] is None:
                    with ignoring():
                        aws.iam.delete_role_permissions_boundary(RoleName=role)
                    restored.append(f"took the deny-all permissions boundary off role {role}{why}")
                else:
                    aws.iam.put_role_permissions_boundary(RoleName=role, PermissionsBoundary=before["boundary"])
                    restored.append(f"put the permissions boundary {before['boundary']} of role {role} back{why}")
        if canonical(before["policy"]) == canonical(DENY_ALL):
            return restored
        if not wrote(done, f"put the deny-all inline policy {policy} on role {role}"):
            code = failed_with(done, f"NOT put: the deny-all inline policy {policy}", f" on role {role}")
            command = _inline_command(role, policy, before["policy"])
            left = f"left the inline policy {policy} of role {role} as it is: the record shows no write of it by the "
            if code is None or not unclear_code(code):
                return [*restored, f"{left}quarantine{_refused(code, command)}"]
            try:
                document = aws.iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
            except Exception as exc:
                if is_gone(exc):
                    return restored  # the lost write did not hold, or it is gone since: nothing to lift
                raise
            if canonical(policy_document(document)) != canonical(DENY_ALL):
                return [
                    *restored,
                    f"{left}quarantine that went through (its answer was lost, {code}), and the policy there is not "
                    f"IAM Warden's deny-all: if it should go, lift it by hand: {command}",
                ]
        if before["policy"] is not None:
            aws.iam.put_role_policy(RoleName=role, PolicyName=policy, PolicyDocument=json.dumps(before["policy"]))
            return [*restored, f"put the inline policy {policy} of role {role} back as it was"]
        with ignoring():
            aws.iam.delete_role_policy(RoleName=role, PolicyName=policy)
        return [*restored, f"deleted the deny-all inline policy {policy} from role {role}"]


def _refused(code: str | None, command: str) -> str:
    """What a role undo says of a deny-all whose write the record shows refused (``code``; None: no line of it)."""
    if code is None:
        return ""
    return f" (its write was refused, {code}; if it should go, lift it by hand: {command})"


def _boundary_command(role: str, before: str | None) -> str:
    if before is None:
        return f"aws iam delete-role-permissions-boundary --role-name {role}"
    return f"aws iam put-role-permissions-boundary --role-name {role} --permissions-boundary {before}"


def _inline_command(role: str, policy: str, before: Any) -> str:
    if before is None:
        return f"aws iam delete-role-policy --role-name {role} --policy-name {policy}"
    return (
        f"aws iam put-role-policy --role-name {role} --policy-name {policy} --policy-document "
        f"'{json.dumps(before, separators=(',', ':'))}'"
    )


def _same_role(found: Mapping[str, Any], step: RemediationStep) -> None:
    """Refuse a role of the own role's name that is not the one the snapshot was taken of (another path, account).

    A role name is unique per account, but a deleted own role can be re-created at another path by anyone: its
    ARN then differs from the step's target (the role at ``/`` in the event's account), and IAM Warden's snapshot
    is never written into it.
    """
    if found.get("Arn") != step.target:
        raise RemediationError(
            f"the role {found.get('Arn')} is not IAM Warden's {step.target}: its snapshot is not restored into it"
        )


def _same(left: Any, right: Any) -> bool:
    return json.dumps(left, sort_keys=True) == json.dumps(right, sort_keys=True)


class RestoreOwnRoleDocument:
    """Put back the trust policy or one inline policy of an IAM Warden role. Undo puts the changed one back.

    ``restore_to`` is the document to put back (an inline policy's None: it was not there, so it is deleted).
    ``changed_to`` is the event's document (an inline policy's None: deleted): the step acts only while it is still
    live, so a later change (a redeploy between the change and its judgement) is left to its own event. The
    before-state is the live document the change left, which undo writes again (the intruder's version).
    """

    permissions: ClassVar[Permissions] = (
        "iam:GetRole",
        "iam:GetRolePolicy",
        "iam:UpdateAssumeRolePolicy",
        "iam:PutRolePolicy",
        "iam:DeleteRolePolicy",
    )
    action: ClassVar[StepAction] = StepAction("restore_own_role_document", permissions)
    undo_permissions: ClassVar[Permissions] = permissions
    undoable: ClassVar[bool] = True

    @staticmethod
    def _live(aws: AccountClients, step: RemediationStep) -> tuple[bool, Any]:
        """Whether the role exists, and its live trust policy or inline policy (None: no such inline policy)."""
        role = step.parameters["role_name"]
        try:
            found = aws.iam.get_role(RoleName=role)["Role"]
        except Exception as exc:
            if is_gone(exc):
                return False, None
            raise
        _same_role(found, step)
        if step.parameters["document"] == "trust":
            return True, found.get("AssumeRolePolicyDocument")
        try:
            return True, aws.iam.get_role_policy(RoleName=role, PolicyName=step.parameters["policy_name"])[
                "PolicyDocument"
            ]
        except Exception as exc:
            if is_gone(exc):
                return True, None
            raise

    @staticmethod
    def _write(aws: AccountClients, step: RemediationStep, document: Any) -> None:
        role = step.parameters["role_name"]
        if step.parameters["document"] == "trust":
            aws.iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(document))
        elif document is None:
            with ignoring():
                aws.iam.delete_role_policy(RoleName=role, PolicyName=step.parameters["policy_name"])
        else:
            aws.iam.put_role_policy(
                RoleName=role, PolicyName=step.parameters["policy_name"], PolicyDocument=json.dumps(document)
            )

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        exists, live = self._live(aws, step)
        return {"exists": exists, "document": live}

    @staticmethod
    def _acts(step: RemediationStep, before: Mapping[str, Any]) -> bool:
        """Whether the role still holds what the event wrote (and not already the good document)."""
        if not before["exists"] or _same(before["document"], step.parameters["restore_to"]):
            return False  # the role is gone (alerted), or the document is already the good one
        if "changed_to" not in step.parameters:  # a plan recorded before the step carried the event's document
            return True
        changed_to = step.parameters["changed_to"]
        if changed_to is None or before["document"] is None:
            return changed_to is None and before["document"] is None
        return canonical(before["document"]) == canonical(changed_to)  # else changed again since: its own event

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if not self._acts(step, before):
            return
        with ignoring():
            self._write(run.aws, step, step.parameters["restore_to"])
            done.append(step.summary)

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        if not self._acts(step, before):
            return []
        role = step.parameters["role_name"]
        exists, live = self._live(aws, step)
        if not exists:
            raise UndoError(f"role {role} no longer exists")
        if not _same(live, step.parameters["restore_to"]):
            raise UndoError(f"the {step.parameters['document']} policy of role {role} changed since; undo by hand")
        self._write(aws, step, before["document"])
        return [f"put the {step.parameters['document']} policy of role {role} back as the change left it"]


class RestoreOwnPolicyVersion:
    """Make the version of an IAM Warden managed policy its stack deployed the default again. Undoable.

    Acts only while the intruder's version (``changed_to``) is still the default: a later change is judged by its
    own event. When the deployed version is gone (or no longer holds the recorded document), a new default version
    is written from the snapshot's document. Undo makes the intruder's version the default again, exactly, and
    deletes a version the restore wrote.
    """

    permissions: ClassVar[Permissions] = (
        "iam:GetPolicy",
        "iam:ListPolicyVersions",
        "iam:GetPolicyVersion",
        "iam:SetDefaultPolicyVersion",
        "iam:CreatePolicyVersion",
    )
    action: ClassVar[StepAction] = StepAction("restore_own_policy_version", permissions)
    undo_permissions: ClassVar[Permissions] = (
        "iam:GetPolicy",
        "iam:GetPolicyVersion",
        "iam:SetDefaultPolicyVersion",
        "iam:DeletePolicyVersion",
    )
    undoable: ClassVar[bool] = True

    @staticmethod
    def _default(aws: AccountClients, arn: str) -> str | None:
        """The default version of policy ``arn``, None when the policy is gone."""
        try:
            return str(aws.iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"])
        except Exception as exc:
            if is_gone(exc):
                return None
            raise

    @staticmethod
    def _document(aws: AccountClients, arn: str, version: str) -> Any:
        return policy_document(
            aws.iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
        )

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        arn = step.parameters["policy_arn"]
        default = self._default(aws, arn)
        if default is None:
            return {"exists": False}
        versions = [
            version["VersionId"] for version in pages(aws.iam, "list_policy_versions", "Versions", PolicyArn=arn)
        ]
        return {"exists": True, "default": default, "versions": versions}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        arn, changed_to = step.parameters["policy_arn"], step.parameters["changed_to"]
        if not before["exists"] or before["default"] != changed_to:
            return  # deleted (alerted by its own event), or the default changed again since (judged by its own)
        restore_to, document, source = (step.parameters[key] for key in ("restore_to", "document", "source"))
        if restore_to in before["versions"] and canonical(self._document(run.aws, arn, restore_to)) == canonical(
            document
        ):
            run.aws.iam.set_default_policy_version(PolicyArn=arn, VersionId=restore_to)
            done.append(f"made version {restore_to} of {arn} the default again (was {changed_to}), from {source}")
            return
        created = run.aws.iam.create_policy_version(
            PolicyArn=arn, PolicyDocument=json.dumps(document), SetAsDefault=True
        )
        done.append(
            f"wrote version {restore_to} of {arn} again from {source} as {created['PolicyVersion']['VersionId']}, the "
            f"default (was {changed_to}; {restore_to} is gone)"
        )

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        arn, changed_to = step.parameters["policy_arn"], step.parameters["changed_to"]
        if not before["exists"] or before["default"] != changed_to:
            return []
        current = self._default(aws, arn)
        if current is None:
            raise UndoError(f"policy {arn} no longer exists")
        if current == changed_to:
            return []
        if canonical(self._document(aws, arn, current)) != canonical(step.parameters["document"]):
            raise UndoError(
                f"the default version of {arn} is now {current}, not the one IAM Warden restored; undo by hand"
            )
        try:
            aws.iam.set_default_policy_version(PolicyArn=arn, VersionId=changed_to)
        except Exception as exc:
            if is_gone(exc):
                raise UndoError(
                    f"version {changed_to} of {arn} no longer exists; it cannot be the default again"
                ) from exc
            raise
        undone = [f"made version {changed_to} of {arn} the default again, as the change left it"]
        if current not in before["versions"]:
            with ignoring():
                aws.iam.delete_policy_version(PolicyArn=arn, VersionId=current)
                undone.append(f"deleted version {current} of {arn}, which IAM Warden had written")
        return undone


class EnableOwnRule:
    """Enable one of IAM Warden's EventBridge rules that someone disabled. Undo disables it again."""

    permissions: ClassVar[Permissions] = ("events:DescribeRule", "events:EnableRule")
    action: ClassVar[StepAction] = StepAction("enable_own_rule", permissions)
    undo_permissions: ClassVar[Permissions] = ("events:DisableRule",)
    undoable: ClassVar[bool] = True

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        try:
            rule = aws.client("events").describe_rule(**_rule_arguments(step))
        except Exception as exc:
            if is_gone(exc):
                return {"exists": False}
            raise
        return {"exists": True, "state": rule.get("State")}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if not before["exists"] or before["state"] == "ENABLED":
            return  # deleted since (the alert says so), or already enabled again
        with ignoring():
            run.aws.client("events").enable_rule(**_rule_arguments(step))
            done.append(f"enabled IAM Warden's rule {step.parameters['rule_name']} again")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        if not before["exists"] or before["state"] == "ENABLED":
            return []
        aws.client("events").disable_rule(**_rule_arguments(step))
        return [f"disabled rule {step.parameters['rule_name']} again, as it was"]


class RestoreCentralBusStatement:
    """Put the central bus's declared policy statement back. Undo puts back what the change left in its place.

    No longer planned (``restore_central_bus_policy`` puts the whole policy back): kept so that a restore recorded
    before can still be undone.

    The before-state is the live statement of that id (None: removed). ``PutPermission`` with the statement's
    own id and condition replaces only that statement, so the rest of the policy is left as it is.
    """

    permissions: ClassVar[Permissions] = ("events:DescribeEventBus", "events:PutPermission")
    action: ClassVar[StepAction] = StepAction("restore_central_bus_statement", permissions)
    undo_permissions: ClassVar[Permissions] = (
        "events:DescribeEventBus",
        "events:PutPermission",
        "events:RemovePermission",
    )
    undoable: ClassVar[bool] = True

    @staticmethod
    def _live(aws: AccountClients, bus: str) -> tuple[bool, dict[str, Any] | None, dict[str, Any] | None]:
        """Whether the bus exists, its live policy and the statement of the declared id in it."""
        try:
            found = aws.client("events").describe_event_bus(Name=bus)
        except Exception as exc:
            if is_gone(exc):
                return False, None, None
            raise
        policy = json.loads(found["Policy"]) if found.get("Policy") else None
        return True, policy, policy_statement(policy, CENTRAL_BUS_STATEMENT_ID)

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        exists, _, statement = self._live(aws, step.parameters["event_bus_name"])
        return {"exists": exists, "statement": statement}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        declared = step.parameters["statement"]
        if not before["exists"] or same_statement(before["statement"], declared):
            return  # the bus is gone (alerted), or the statement is as declared
        _put_statement(run.aws, step.parameters["event_bus_name"], declared)
        done.append(step.summary)

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        declared = step.parameters["statement"]
        if not before["exists"] or same_statement(before["statement"], declared):
            return []
        bus = step.parameters["event_bus_name"]
        exists, _, live = self._live(aws, bus)
        if not exists:
            raise UndoError(f"the event bus {bus} no longer exists")
        if not same_statement(live, declared):
            raise UndoError(f"the statement {CENTRAL_BUS_STATEMENT_ID} of bus {bus} changed since; undo by hand")
        if before["statement"] is None:
            aws.client("events").remove_permission(EventBusName=bus, StatementId=CENTRAL_BUS_STATEMENT_ID)
            return [f"removed the statement {CENTRAL_BUS_STATEMENT_ID} from bus {bus} again, as the change left it"]
        _put_statement(aws, bus, before["statement"])
        return [f"put the statement {CENTRAL_BUS_STATEMENT_ID} of bus {bus} back as the change left it"]


class RestoreCentralBusPolicy:
    """Put the central bus's whole policy back as declared. Undo puts back the policy the change left.

    The before-state is the live policy (None: the bus has none). ``PutPermission --policy`` replaces the whole
    policy, so a statement added beside the declared one (a Deny, another Allow) goes with the same call.
    """

    permissions: ClassVar[Permissions] = ("events:DescribeEventBus", "events:PutPermission")
    action: ClassVar[StepAction] = StepAction("restore_central_bus_policy", permissions)
    undo_permissions: ClassVar[Permissions] = (
        "events:DescribeEventBus",
        "events:PutPermission",
        "events:RemovePermission",
    )
    undoable: ClassVar[bool] = True

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        exists, policy, _ = RestoreCentralBusStatement._live(aws, step.parameters["event_bus_name"])
        return {"exists": exists, "policy": policy}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        declared_policy = step.parameters["policy"]
        if not before["exists"] or not bus_policy_differences(before["policy"], declared_policy):
            return  # the bus is gone (alerted), or its policy is the declared one
        run.aws.client("events").put_permission(
            EventBusName=step.parameters["event_bus_name"], Policy=json.dumps(declared_policy)
        )
        done.append(step.summary)

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        declared_policy = step.parameters["policy"]
        if not before["exists"] or not bus_policy_differences(before["policy"], declared_policy):
            return []
        bus = step.parameters["event_bus_name"]
        exists, live, _ = RestoreCentralBusStatement._live(aws, bus)
        if not exists:
            raise UndoError(f"the event bus {bus} no longer exists")
        if bus_policy_differences(live, declared_policy):
            raise UndoError(f"the policy of bus {bus} changed since the restore; undo by hand")
        client = aws.client("events")
        if not _statements(before["policy"]):
            client.remove_permission(EventBusName=bus, RemoveAllPermissions=True)
            return [f"removed the policy of bus {bus} again, as the change left it"]
        client.put_permission(EventBusName=bus, Policy=json.dumps(before["policy"]))
        return [f"put the policy of bus {bus} back as the change left it"]


def _statements(policy: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    statements = (policy or {}).get("Statement", [])
    if isinstance(statements, Mapping):
        statements = [statements]
    return [s for s in statements if isinstance(s, Mapping)]


def bus_policy_differences(live: Mapping[str, Any] | None, declared_policy: Mapping[str, Any]) -> list[str]:
    """How a live bus policy differs from the declared one, statement by statement, in words (empty: the same).

    The whole policy counts: a declared statement missing or changed, and any statement the template does not
    declare (an explicit Deny overrides the declared Allow; another Allow admits others).
    """
    live_statements, declared_statements = _statements(live), _statements(declared_policy)
    differences = []
    for wanted in declared_statements:
        if not any(same_statement(found, wanted) for found in live_statements):
            differences.append(f"the statement {wanted.get('Sid')} is missing or changed")
    for found in live_statements:
        if not any(same_statement(found, wanted) for wanted in declared_statements):
            effect = found.get("Effect", "?")
            differences.append(f"an undeclared {effect} statement {found.get('Sid') or '(no Sid)'}")
    return differences


def policy_statement(policy: Mapping[str, Any] | None, sid: str) -> dict[str, Any] | None:
    statements = (policy or {}).get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    return next((dict(s) for s in statements if isinstance(s, dict) and s.get("Sid") == sid), None)


def same_statement(live: Mapping[str, Any] | None, declared: Mapping[str, Any]) -> bool:
    """Whether the live statement grants what the declared one does (EventBridge may write a one-item list)."""
    if live is None:
        return False
    keys = ("Sid", "Effect", "Principal", "Action", "Resource", "Condition")

    def normal(statement: Mapping[str, Any]) -> dict[str, Any]:
        values = {key: statement.get(key) for key in keys}
        values["Principal"] = _anyone_as_star(values["Principal"])
        return {
            key: value[0] if isinstance(value, list) and len(value) == 1 else value for key, value in values.items()
        }

    return _same(normal(live), normal(declared))


def _anyone_as_star(principal: Any) -> Any:
    """``"*"`` for every way a policy may write "anyone" (``{"AWS": "*"}``, every account's root)."""
    aws = principal.get("AWS") if isinstance(principal, dict) and list(principal) == ["AWS"] else None
    if aws == "*" or (isinstance(aws, str) and aws.startswith("arn:") and aws.endswith(":iam::*:root")):
        return "*"
    return principal


def _put_statement(aws: AccountClients, bus: str, statement: Mapping[str, Any]) -> None:
    """``PutPermission`` of one statement: the declared shape by its parts, any other by the whole policy."""
    client = aws.client("events")
    condition = statement.get("Condition") or {}
    equals = condition.get("StringEquals") or {}
    if (
        statement.get("Principal") == "*"
        and statement.get("Action") == "events:PutEvents"
        and list(condition) == ["StringEquals"]
        and list(equals) == ["aws:PrincipalOrgID"]
    ):
        client.put_permission(
            EventBusName=bus,
            Action="events:PutEvents",
            Principal="*",
            StatementId=statement["Sid"],
            Condition={"Type": "StringEquals", "Key": "aws:PrincipalOrgID", "Value": equals["aws:PrincipalOrgID"]},
        )
        return
    found = client.describe_event_bus(Name=bus)
    policy = json.loads(found["Policy"]) if found.get("Policy") else {"Version": "2012-10-17", "Statement": []}
    statements = policy.get("Statement", [])
    others = [s for s in statements if isinstance(s, dict) and s.get("Sid") != statement.get("Sid")]
    client.put_permission(EventBusName=bus, Policy=json.dumps({**policy, "Statement": [*others, dict(statement)]}))


class RestoreOwnKey:
    """Enable IAM Warden's alert key again, cancelling a scheduled deletion first. Undo puts the key state back."""

    permissions: ClassVar[Permissions] = ("kms:DescribeKey", "kms:CancelKeyDeletion", "kms:EnableKey")
    action: ClassVar[StepAction] = StepAction("restore_own_key", permissions)
    undo_permissions: ClassVar[Permissions] = ("kms:DescribeKey", "kms:DisableKey", "kms:ScheduleKeyDeletion")
    undoable: ClassVar[bool] = True

    @staticmethod
    def _state(aws: AccountClients, key: str) -> dict[str, Any]:
        try:
            found = aws.client("kms").describe_key(KeyId=key)["KeyMetadata"]
        except Exception as exc:
            if is_gone(exc):
                return {"exists": False}
            raise
        return {
            "exists": True,
            "state": found.get("KeyState"),
            "window": found.get("PendingDeletionWindowInDays"),
        }

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        return self._state(aws, step.parameters["key_id"])

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if not before["exists"] or before["state"] not in ("Disabled", "PendingDeletion"):
            return  # gone, enabled again already, or in a state no API call here puts right (alerted)
        key, client = step.parameters["key_id"], run.aws.client("kms")
        if before["state"] == "PendingDeletion":
            client.cancel_key_deletion(KeyId=key)  # leaves the key disabled
            done.append(f"cancelled the deletion of IAM Warden's alert key {key}")
        client.enable_key(KeyId=key)
        done.append(f"enabled IAM Warden's alert key {key} again")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        if not before["exists"] or before["state"] not in ("Disabled", "PendingDeletion"):
            return []
        key, client = step.parameters["key_id"], aws.client("kms")
        if self._state(aws, key).get("state") != "Enabled":
            raise UndoError(f"the key {key} changed since; undo by hand")
        if before["state"] == "PendingDeletion":
            client.schedule_key_deletion(KeyId=key, PendingWindowInDays=before["window"] or 30)
            return [f"scheduled the deletion of key {key} again ({before['window'] or 30} days)"]
        client.disable_key(KeyId=key)
        return [f"disabled key {key} again, as it was"]


class EnableOwnAlarmActions:
    """Enable the actions of IAM Warden's alarms that someone disabled. Undo disables them again."""

    permissions: ClassVar[Permissions] = ("cloudwatch:DescribeAlarms", "cloudwatch:EnableAlarmActions")
    action: ClassVar[StepAction] = StepAction("enable_own_alarm_actions", permissions)
    undo_permissions: ClassVar[Permissions] = ("cloudwatch:DisableAlarmActions",)
    undoable: ClassVar[bool] = True

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        found = aws.client("cloudwatch").describe_alarms(AlarmNames=step.parameters["alarm_names"])
        disabled = sorted(a["AlarmName"] for a in found.get("MetricAlarms", []) if not a.get("ActionsEnabled", True))
        return {"disabled": disabled}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if not before["disabled"]:
            return  # deleted since (alerted), or enabled again already
        run.aws.client("cloudwatch").enable_alarm_actions(AlarmNames=before["disabled"])
        done.append(f"enabled the actions of IAM Warden's alarms {', '.join(before['disabled'])} again")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        if not before["disabled"]:
            return []
        aws.client("cloudwatch").disable_alarm_actions(AlarmNames=before["disabled"])
        return [f"disabled the actions of alarms {', '.join(before['disabled'])} again, as they were"]


#: What ``PutMetricAlarm`` takes of what ``DescribeAlarms`` says of a metric alarm (its before-state, for undo).
_ALARM_ARGUMENTS = (
    "AlarmName",
    "AlarmDescription",
    "ActionsEnabled",
    "OKActions",
    "AlarmActions",
    "InsufficientDataActions",
    "MetricName",
    "Namespace",
    "Statistic",
    "ExtendedStatistic",
    "Dimensions",
    "Period",
    "Unit",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "EvaluateLowSampleCountPercentile",
    "Metrics",
    "ThresholdMetricId",
)


class RestoreOwnAlarm:
    """Write one of IAM Warden's alarms back as template.yaml declares it, its actions enabled; undo writes back the
    definition it replaced (or deletes the alarm, when there was none)."""

    permissions: ClassVar[Permissions] = ("cloudwatch:DescribeAlarms", "cloudwatch:PutMetricAlarm")
    action: ClassVar[StepAction] = StepAction("restore_own_alarm", permissions)
    undo_permissions: ClassVar[Permissions] = ("cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms")
    undoable: ClassVar[bool] = True

    @staticmethod
    def _live(aws: AccountClients, name: str) -> dict[str, Any] | None:
        found = aws.client("cloudwatch").describe_alarms(AlarmNames=[name], AlarmTypes=["MetricAlarm"])
        alarm = next((a for a in found.get("MetricAlarms", []) if a.get("AlarmName") == name), None)
        if alarm is None:
            return None
        return {key: alarm[key] for key in _ALARM_ARGUMENTS if alarm.get(key) not in (None, [])}

    @staticmethod
    def _as_declared(live: Mapping[str, Any] | None, declared_alarm: Mapping[str, Any]) -> bool:
        if live is None or not live.get("ActionsEnabled", True):
            return False
        return all(_same(live.get(key), value) for key, value in declared_alarm.items()) and not any(
            live.get(key) for key in ("OKActions", "InsufficientDataActions") if key not in declared_alarm
        )

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        return {"alarm": self._live(aws, step.parameters["alarm_name"])}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        declared_alarm = step.parameters["restore_to"]
        if self._as_declared(before["alarm"], declared_alarm):
            return  # put back already (idempotent)
        run.aws.client("cloudwatch").put_metric_alarm(**declared_alarm, ActionsEnabled=True)
        how = "created again" if before["alarm"] is None else "put back"
        done.append(f"{how} IAM Warden's alarm {step.parameters['alarm_name']} as its template declares it")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        name = step.parameters["alarm_name"]
        cloudwatch = aws.client("cloudwatch")
        if before["alarm"] is None:
            with ignoring():
                cloudwatch.delete_alarms(AlarmNames=[name])
            return [f"deleted alarm {name} again, as it was"]
        cloudwatch.put_metric_alarm(**before["alarm"])
        return [f"wrote back the definition alarm {name} had before"]


def _rule_arguments(step: RemediationStep) -> dict[str, str]:
    arguments = {"Name": step.parameters["rule_name"]}
    if step.parameters.get("event_bus_name", "default") != "default":
        arguments["EventBusName"] = step.parameters["event_bus_name"]
    return arguments


def _concurrency_of(aws: AccountClients, function: str) -> dict[str, Any]:
    """A function's reserved concurrency as a before-state: ``exists`` False when the function is gone."""
    try:
        answer = aws.client("lambda").get_function_concurrency(FunctionName=function)
    except Exception as exc:
        if is_gone(exc):
            return {"exists": False}
        raise
    return {"exists": True, "reserved": answer.get("ReservedConcurrentExecutions")}


class DeleteOwnFunctionUrl:
    """Delete a URL an own function was given outside its stack. Undo creates it again as it was (auth type, CORS,
    invoke mode); "already gone" counts as done."""

    permissions: ClassVar[Permissions] = ("lambda:GetFunctionUrlConfig", "lambda:DeleteFunctionUrlConfig")
    action: ClassVar[StepAction] = StepAction("delete_own_function_url", permissions)
    undo_permissions: ClassVar[Permissions] = ("lambda:GetFunctionUrlConfig", "lambda:CreateFunctionUrlConfig")
    undoable: ClassVar[bool] = True

    @staticmethod
    def _live(aws: AccountClients, function: str) -> dict[str, Any] | None:
        try:
            found = aws.client("lambda").get_function_url_config(FunctionName=function)
        except Exception as exc:
            if is_gone(exc):
                return None
            raise
        config = {"AuthType": found["AuthType"], "InvokeMode": found.get("InvokeMode")}
        if found.get("Cors"):
            config["Cors"] = found["Cors"]
        return {key: value for key, value in config.items() if value is not None}

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        return {"url": self._live(aws, step.parameters["function_name"])}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if before["url"] is None:
            return  # gone already
        with ignoring("ResourceNotFoundException"):
            run.aws.client("lambda").delete_function_url_config(FunctionName=step.parameters["function_name"])
        done.append(step.summary)

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        if before["url"] is None:
            return []
        function = step.parameters["function_name"]
        if self._live(aws, function) is not None:
            raise UndoError(f"function {function} has a URL again; undo by hand")
        aws.client("lambda").create_function_url_config(FunctionName=function, **before["url"])
        return [f"created the URL of function {function} again ({before['url']['AuthType']}), as the change left it"]


class RestoreFunctionConcurrency:
    """Put an IAM Warden function's reserved concurrency back to what the template declares. Undoable: undo puts the
    changed value back only while the live one is still the one put back (a later change is someone's, refused with
    the command); already as the change left it is done."""

    permissions: ClassVar[Permissions] = (
        "lambda:GetFunctionConcurrency",
        "lambda:PutFunctionConcurrency",
        "lambda:DeleteFunctionConcurrency",
    )
    action: ClassVar[StepAction] = StepAction("restore_function_concurrency", permissions)
    undo_permissions: ClassVar[Permissions] = (
        "lambda:GetFunctionConcurrency",
        "lambda:PutFunctionConcurrency",
        "lambda:DeleteFunctionConcurrency",
    )
    undoable: ClassVar[bool] = True

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        return _concurrency_of(aws, step.parameters["function_name"])

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        declared = step.parameters["declared"]
        if not before["exists"] or before["reserved"] == declared:
            return
        function = step.parameters["function_name"]
        _set_concurrency(run.aws, function, declared)
        done.append(
            f"put the reserved concurrency of {function} back to "
            + (str(declared) if declared is not None else "none (unreserved)")
            + f" (it was {before['reserved']})"
        )

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        declared, left = step.parameters["declared"], before.get("reserved")
        if not before["exists"] or left == declared:
            return []  # the restore changed nothing
        function = step.parameters["function_name"]
        by_hand = _concurrency_command(function, left)
        try:
            live = _concurrency_of(aws, function)
        except Exception as exc:
            raise UndoError(
                f"the reserved concurrency of {function} cannot be read ({error_code(exc) or type(exc).__name__}), "
                f"so whether it is still the one IAM Warden put back is unknown: nothing was changed; by hand: "
                f"{by_hand}"
            ) from exc
        if not live["exists"]:
            raise UndoError(f"{function} is gone; redeploy the stack: there is no concurrency to undo, nothing changed")
        if live["reserved"] == left:  # undone already, by hand or by an earlier undo that failed to record itself
            return [f"the reserved concurrency of {function} is already as the change left it: nothing to undo"]
        if live["reserved"] != declared:
            raise UndoError(
                f"the reserved concurrency of {function} was changed since IAM Warden put it back: it is now "
                f"{_concurrency_text(live['reserved'])}, not the template's {_concurrency_text(declared)}; left "
                f"alone. To put back what the change left anyway: {by_hand}"
            )
        _set_concurrency(aws, function, left)
        return [f"set the reserved concurrency of {function} back to {left}"]


def _concurrency_text(reserved: int | None) -> str:
    return "none (unreserved)" if reserved is None else str(reserved)


def _concurrency_command(function: str, reserved: int | None) -> str:
    """The AWS CLI command that makes ``function``'s reserved concurrency ``reserved`` (None: removes it)."""
    name = shlex.quote(function)
    if reserved is None:
        return f"aws lambda delete-function-concurrency --function-name {name}"
    return f"aws lambda put-function-concurrency --function-name {name} --reserved-concurrent-executions {reserved}"


def declares_invoke_config(function: str) -> bool:
    """Whether the template declares an event invoke config for ``function`` (then it is put back)."""
    return function in declared.INVOKE_CONFIG_CONTENT


def declared_invoke_config(function: str, partition: str, region: str, account: str) -> dict[str, Any] | None:
    """The event invoke config the template declares for ``function``, in the arguments of
    ``PutFunctionEventInvokeConfig``, its destinations resolved for the stack's partition, region and account; None
    when a destination cannot be resolved from the declared content (then nothing is put back: never a guess)."""
    content = json.loads(declared.INVOKE_CONFIG_CONTENT[function])
    config: dict[str, Any] = {
        key: content[key] for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds") if key in content
    }
    destinations: dict[str, Any] = {}
    for when, destination in content.get("DestinationConfig", {}).items():
        if not isinstance(destination, str):
            return None
        resolved = (
            destination.replace("${AWS::Partition}", partition)
            .replace("${AWS::Region}", region)
            .replace("${AWS::AccountId}", account)
        )
        destinations[when] = {"Destination": resolved}
    config["DestinationConfig"] = destinations
    return config


def _invoke_config_of(aws: AccountClients, function: str) -> dict[str, Any]:
    """A function's event invoke config as a before-state: ``config`` None when it has none ("not found" is a
    valid before-state; Lambda answers the same for a function that is gone, and putting then finds nothing: the
    undo tells the two apart with ``_concurrency_of``, the restore by its put failing)."""
    try:
        answer = aws.client("lambda").get_function_event_invoke_config(FunctionName=function)
    except Exception as exc:
        if is_gone(exc):
            return {"config": None}
        raise
    config: dict[str, Any] = {
        key: answer[key] for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds") if key in answer
    }
    destinations = {
        when: {"Destination": target["Destination"]}
        for when, target in (answer.get("DestinationConfig") or {}).items()
        if isinstance(target, Mapping) and target.get("Destination")
    }
    config["DestinationConfig"] = destinations
    return {"config": config}


def _same_invoke_config(live: Mapping[str, Any] | None, wanted: Mapping[str, Any]) -> bool:
    """Whether the live config is the declared one (a destination absent equals one given as empty)."""
    if live is None:
        return False
    keys = ("MaximumRetryAttempts", "MaximumEventAgeInSeconds")
    return {k: live.get(k) for k in keys} == {k: wanted.get(k) for k in keys} and {
        k: v for k, v in live.get("DestinationConfig", {}).items() if v.get("Destination")
    } == {k: v for k, v in wanted.get("DestinationConfig", {}).items() if v.get("Destination")}


def _invoke_config_text(config: Mapping[str, Any] | None) -> str:
    """A config as the alert and the undo's refusal show it (none: no event invoke config)."""
    return json.dumps(config, sort_keys=True) if config else "none"


def _invoke_config_command(function: str, config: Mapping[str, Any] | None) -> str:
    """The AWS CLI command that makes ``function``'s event invoke config ``config`` (None: deletes it)."""
    name = shlex.quote(function)
    if config is None:
        return f"aws lambda delete-function-event-invoke-config --function-name {name}"
    flags = [
        f"{flag} {config[key]}"
        for key, flag in (
            ("MaximumRetryAttempts", "--maximum-retry-attempts"),
            ("MaximumEventAgeInSeconds", "--maximum-event-age-in-seconds"),
        )
        if key in config
    ]
    if config.get("DestinationConfig"):
        destinations = json.dumps(config["DestinationConfig"], sort_keys=True, separators=(",", ":"))
        flags.append(f"--destination-config {shlex.quote(destinations)}")
    return " ".join(["aws lambda put-function-event-invoke-config --function-name", name, *flags])


class RestoreFunctionInvokeConfig:
    """Put an IAM Warden function's event invoke config (retries, event age, destinations) back to what the template
    declares, so that a failed remediation still reaches its dead-letter queue. Undoable: undo puts the captured
    config back, or deletes it when there was none, only while the live config is still the one put back (a later
    change is someone's, refused with the command); already as the change left it is done."""

    permissions: ClassVar[Permissions] = ("lambda:GetFunctionEventInvokeConfig", "lambda:PutFunctionEventInvokeConfig")
    action: ClassVar[StepAction] = StepAction("restore_function_invoke_config", permissions)
    undo_permissions: ClassVar[Permissions] = (
        "lambda:GetFunctionEventInvokeConfig",
        "lambda:GetFunctionConcurrency",  # whether the function is there, when it has no config (iamwarden-*)
        "lambda:PutFunctionEventInvokeConfig",
        "lambda:DeleteFunctionEventInvokeConfig",
    )
    undoable: ClassVar[bool] = True

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        return _invoke_config_of(aws, step.parameters["function_name"])

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        declared_config = step.parameters["declared"]
        if _same_invoke_config(before["config"], declared_config):
            return  # as declared already
        function = step.parameters["function_name"]
        try:
            run.aws.client("lambda").put_function_event_invoke_config(FunctionName=function, **declared_config)
        except Exception as exc:
            if is_gone(exc):  # nothing to put the config on: never reported put back
                raise RemediationError(
                    f"the event invoke config of {function} was not put back: Lambda answered {error_code(exc)}, the "
                    "function is gone; the stack's redeploy creates it with its declared config"
                ) from exc
            raise
        done.append(
            f"put the event invoke config of {function} back to what the template declares "
            f"(it was {_invoke_config_text(before['config'])})"
        )

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        declared_config, left = step.parameters["declared"], before["config"]
        if _same_invoke_config(left, declared_config):
            return []  # the restore changed nothing
        function = step.parameters["function_name"]
        by_hand = _invoke_config_command(function, left)
        try:
            live = _invoke_config_of(aws, function)["config"]
        except Exception as exc:
            raise UndoError(
                f"the event invoke config of {function} cannot be read ({error_code(exc) or type(exc).__name__}), so "
                f"whether it is still the one IAM Warden put back is unknown: nothing was changed; by hand: {by_hand}"
            ) from exc
        if live is None:  # Lambda's "not found" is the same for no config and no function: which one, read
            try:
                exists = _concurrency_of(aws, function)["exists"]
            except Exception as exc:
                raise UndoError(
                    f"{function} has no event invoke config, and whether the function itself is still there cannot "
                    f"be read ({error_code(exc) or type(exc).__name__}): nothing was changed; by hand: {by_hand}"
                ) from exc
            if not exists:
                raise UndoError(
                    f"{function} is gone; redeploy the stack (it creates the function with the template's event "
                    "invoke config): there is no config to undo, nothing was changed"
                )
        already = live is None if left is None else _same_invoke_config(live, left)
        if already:  # undone already, by hand or by an earlier undo that failed to record itself
            return [f"the event invoke config of {function} is already as the change left it: nothing to undo"]
        if not _same_invoke_config(live, declared_config):
            raise UndoError(
                f"the event invoke config of {function} was changed since IAM Warden put it back: it is now "
                f"{_invoke_config_text(live)}{' (deleted since)' if live is None else ''}, not the template's "
                f"{_invoke_config_text(declared_config)}; left alone. To put back what the change left anyway: "
                f"{by_hand}"
            )
        client = aws.client("lambda")
        if left is None:
            with ignoring("ResourceNotFoundException"):
                client.delete_function_event_invoke_config(FunctionName=function)
            return [f"deleted the event invoke config of {function} again, as the change left it"]
        client.put_function_event_invoke_config(FunctionName=function, **left)
        return [f"put the event invoke config of {function} back to what the change left"]


#: The statement id IAM Warden gives an invoke permission it puts back: ``<prefix><rule key, / as ->``.
RESTORED_PERMISSION_PREFIX = "iamwarden-restored-"


def _invoking_rules(aws: AccountClients, function: str) -> tuple[bool, list[str]]:
    """Whether ``function`` exists, and the source ARNs its policy lets EventBridge invoke it for."""
    try:
        found = aws.client("lambda").get_policy(FunctionName=function)
    except Exception as exc:
        if not is_gone(exc):
            raise
        return True, []  # no policy at all (or no function: adding then finds it gone)
    policy = json.loads(found.get("Policy") or "{}")
    statements = policy.get("Statement", [])
    sources: list[str] = []
    for statement in statements if isinstance(statements, list) else [statements]:
        principal = statement.get("Principal") if isinstance(statement, Mapping) else None
        service = principal.get("Service") if isinstance(principal, Mapping) else None
        if (
            statement.get("Effect") != "Allow"
            or service not in ("events.amazonaws.com", ["events.amazonaws.com"])
            or statement.get("Action") not in ("lambda:InvokeFunction", ["lambda:InvokeFunction"])
        ):
            continue
        for operator in (statement.get("Condition") or {}).values():
            for key, value in (operator or {}).items():
                if key.lower() == "aws:sourcearn":
                    sources.extend(str(item) for item in (value if isinstance(value, list) else [value]))
    return True, sources


def _restored_statement_id(source_arn: str) -> str:
    return RESTORED_PERMISSION_PREFIX + source_arn.split(":rule/", 1)[-1].replace("/", "-")


class RestoreOwnInvokePermissions:
    """Let EventBridge invoke an own function again for each own rule that targets it (``source_arns``). Undoable.

    Without the permission EventBridge can neither invoke the function nor dead-letter the event: every event the
    rule routes is dropped (audit s7 gap 16). The before-state is the rules whose permission was missing; only
    those are added, each under IAM Warden's own statement id, and undo removes exactly those.
    """

    permissions: ClassVar[Permissions] = ("lambda:GetPolicy", "lambda:AddPermission")
    action: ClassVar[StepAction] = StepAction("restore_own_invoke_permissions", permissions)
    undo_permissions: ClassVar[Permissions] = ("lambda:RemovePermission",)
    undoable: ClassVar[bool] = True

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        exists, allowed = _invoking_rules(aws, step.parameters["function_name"])
        return {"exists": exists, "missing": [arn for arn in step.parameters["source_arns"] if arn not in allowed]}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if not before["exists"] or not before["missing"]:
            return  # the function is gone (alerted), or every permission is there
        function = step.parameters["function_name"]
        client = run.aws.client("lambda")
        added = []
        for source_arn in before["missing"]:
            try:
                client.add_permission(
                    FunctionName=function,
                    StatementId=_restored_statement_id(source_arn),
                    Action="lambda:InvokeFunction",
                    Principal="events.amazonaws.com",
                    SourceArn=source_arn,
                )
            except Exception as exc:
                if is_gone(exc):
                    return  # the function is gone: the alert says so
                if error_code(exc) != "ResourceConflictException":  # added already (a retry): idempotent
                    raise
            added.append(source_arn.split(":rule/", 1)[-1])
        done.append(f"let EventBridge invoke IAM Warden's function {function} again for {', '.join(added)}")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        if not before["exists"] or not before["missing"]:
            return []
        function = step.parameters["function_name"]
        for source_arn in before["missing"]:
            with ignoring():
                aws.client("lambda").remove_permission(
                    FunctionName=function, StatementId=_restored_statement_id(source_arn)
                )
        return [f"removed the {len(before['missing'])} invoke permission(s) IAM Warden put back on {function}"]


class RestoreOwnQueuePolicy:
    """Put an own queue's policy back as its template declares it (the dead-letter queue's lets EventBridge deliver
    there). Undo puts back what the change left.

    Acts only while the queue's policy is still the event's (``changed_to``): a later change is judged by its own
    event. The before-state is the live policy (None: none).
    """

    permissions: ClassVar[Permissions] = ("sqs:GetQueueAttributes", "sqs:SetQueueAttributes")
    action: ClassVar[StepAction] = StepAction("restore_own_queue_policy", permissions)
    undo_permissions: ClassVar[Permissions] = permissions
    undoable: ClassVar[bool] = True

    @staticmethod
    def _live(aws: AccountClients, url: str) -> tuple[bool, Any]:
        try:
            found = aws.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
        except Exception as exc:
            if is_gone(exc):
                return False, None
            raise
        text = (found.get("Attributes") or {}).get("Policy")
        return True, json.loads(text) if text else None

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        exists, policy = self._live(aws, step.parameters["queue_url"])
        return {"exists": exists, "policy": policy}

    @staticmethod
    def _acts(step: RemediationStep, before: Mapping[str, Any]) -> bool:
        """Whether the queue still holds the event's policy (and not already the declared one)."""
        live, changed_to = before["policy"], step.parameters.get("changed_to")
        if not before["exists"] or (live is not None and canonical(live) == canonical(step.parameters["policy"])):
            return False
        if changed_to in (None, ""):
            return live is None
        return live is not None and canonical(live) == canonical(changed_to)

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if not self._acts(step, before):
            return
        run.aws.client("sqs").set_queue_attributes(
            QueueUrl=step.parameters["queue_url"], Attributes={"Policy": json.dumps(step.parameters["policy"])}
        )
        done.append(step.summary)

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        if not self._acts(step, before):
            return []
        url = step.parameters["queue_url"]
        exists, live = self._live(aws, url)
        if not exists:
            raise UndoError(f"the queue {url} no longer exists")
        if live is None or canonical(live) != canonical(step.parameters["policy"]):
            raise UndoError(f"the policy of the queue {url} changed since; undo by hand")
        previous = json.dumps(before["policy"]) if before["policy"] is not None else ""
        aws.client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": previous})
        return [f"put the policy of the queue {url} back as the change left it"]


class RestoreOwnTablePolicy:
    """Put an own table's resource policy back as its template declares it (``policy``). Undo puts back what the
    change left (the before-state, read first: a policy and its revision, or none).

    Idempotent: a table that holds the declared policy already is left alone; the put names the revision read at
    capture (``ExpectedRevisionId``, ``NO_POLICY`` for none), so a policy changed in between is not overwritten
    unseen (the step fails and is retried on a fresh read).
    """

    permissions: ClassVar[Permissions] = ("dynamodb:GetResourcePolicy", "dynamodb:PutResourcePolicy")
    action: ClassVar[StepAction] = StepAction("restore_own_table_policy", permissions)
    undo_permissions: ClassVar[Permissions] = (
        "dynamodb:GetResourcePolicy",
        "dynamodb:PutResourcePolicy",
        "dynamodb:DeleteResourcePolicy",
    )
    undoable: ClassVar[bool] = True

    @staticmethod
    def _live(aws: AccountClients, arn: str) -> dict[str, Any]:
        """``exists`` (the table), ``policy`` (parsed; None: none) and its ``revision``."""
        try:
            found = aws.client("dynamodb").get_resource_policy(ResourceArn=arn)
        except Exception as exc:
            if error_code(exc) == "PolicyNotFoundException":
                return {"exists": True, "policy": None, "revision": None}
            if is_gone(exc):
                return {"exists": False, "policy": None, "revision": None}
            raise
        text = found.get("Policy")
        return {"exists": True, "policy": json.loads(text) if text else None, "revision": found.get("RevisionId")}

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        return self._live(aws, step.parameters["table_arn"])

    @staticmethod
    def _acts(step: RemediationStep, before: Mapping[str, Any]) -> bool:
        live = before["policy"]
        return bool(before["exists"]) and (live is None or canonical(live) != canonical(step.parameters["policy"]))

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if not self._acts(step, before):
            return  # the table is gone (alerted), or holds the declared policy already
        run.aws.client("dynamodb").put_resource_policy(
            ResourceArn=step.parameters["table_arn"],
            Policy=json.dumps(step.parameters["policy"]),
            ExpectedRevisionId=before["revision"] or "NO_POLICY",
        )
        done.append(step.summary + (" (it had none)" if before["policy"] is None else ""))

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        if not self._acts(step, before):
            return []
        arn = step.parameters["table_arn"]
        live = self._live(aws, arn)
        if not live["exists"]:
            raise UndoError(f"the table {arn} no longer exists")
        if live["policy"] is None or canonical(live["policy"]) != canonical(step.parameters["policy"]):
            raise UndoError(f"the resource policy of the table {arn} changed since; undo by hand")
        client = aws.client("dynamodb")
        if before["policy"] is None:
            client.delete_resource_policy(ResourceArn=arn, ExpectedRevisionId=live["revision"])
            return [f"deleted the resource policy of the table {arn} again, as the change left it"]
        client.put_resource_policy(
            ResourceArn=arn, Policy=json.dumps(before["policy"]), ExpectedRevisionId=live["revision"]
        )
        return [f"put the resource policy of the table {arn} back as the change left it"]


class StopFunction:
    """Stop a function that is not IAM Warden's but runs as one of its roles: reserved concurrency 0. Undoable.

    Nothing is deleted: the function, its code and its configuration stay for whoever investigates. A function
    already at 0 (or gone) is left as it is.
    """

    permissions: ClassVar[Permissions] = ("lambda:GetFunctionConcurrency", "lambda:PutFunctionConcurrency")
    action: ClassVar[StepAction] = StepAction("stop_function", permissions)
    undo_permissions: ClassVar[Permissions] = ("lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency")
    undoable: ClassVar[bool] = True

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        return _concurrency_of(aws, step.parameters["function_name"])

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if not before["exists"] or before["reserved"] == 0:
            return  # deleted since, or stopped already
        function = step.parameters["function_name"]
        _set_concurrency(run.aws, function, 0)
        done.append(
            f"stopped function {function} (reserved concurrency 0, it was "
            + (str(before["reserved"]) if before["reserved"] is not None else "unreserved")
            + f"): it runs as IAM Warden's role {step.parameters['role']}"
        )

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        if not before["exists"] or before["reserved"] == 0:
            return []
        function = step.parameters["function_name"]
        _set_concurrency(aws, function, before["reserved"])
        return [
            f"set the reserved concurrency of {function} back to "
            + (str(before["reserved"]) if before["reserved"] is not None else "none (unreserved)")
        ]


def _set_concurrency(aws: AccountClients, function: str, reserved: int | None) -> None:
    client = aws.client("lambda")
    if reserved is None:
        with ignoring():
            client.delete_function_concurrency(FunctionName=function)
    else:
        client.put_function_concurrency(FunctionName=function, ReservedConcurrentExecutions=reserved)


class RestoreSetting:
    """Put an IAM Warden setting back to the known good version the plan names (``restore_version``; None: delete it,
    it did not exist before), read from ``GetParameterHistory``. Undoable.

    Acts only while the event's version is still the current one: a later write is judged by its own event.
    """

    permissions: ClassVar[Permissions] = (
        "ssm:GetParameterHistory",
        "ssm:PutParameter",
        "ssm:DeleteParameter",
    )
    action: ClassVar[StepAction] = StepAction(RESTORE_SETTING, permissions)
    undo_permissions: ClassVar[Permissions] = ("ssm:PutParameter",)
    undoable: ClassVar[bool] = True

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        name, version = step.parameters["name"], step.parameters["version"]
        try:
            history = list(_history(aws, name))
        except Exception as exc:
            if is_gone(exc):
                return {"exists": False}
            raise
        current = max(history, key=lambda entry: entry["Version"])
        if current["Version"] != version:
            return {"exists": True, "current": _entry(current), "restore_to": None, "why": "changed again since"}
        if "restore_version" not in step.parameters:  # a plan from before known good versions: nothing is guessed
            return {"exists": True, "current": _entry(current), "restore_to": None, "why": "no known good version"}
        wanted = step.parameters["restore_version"]
        if wanted is None:
            return {
                "exists": True,
                "current": _entry(current),
                "restore_to": None,
                "why": _DELETED,
            }
        good = next((entry for entry in history if entry["Version"] == wanted), None)
        if good is None:
            return {
                "exists": True,
                "current": _entry(current),
                "restore_to": None,
                "why": f"version {wanted} is no longer in its history",
            }
        return {"exists": True, "current": _entry(current), "restore_to": _entry(good), "why": None}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if not self._acts(before):
            return  # a later change is judged by its own event; a version gone from the history is not guessed
        name = step.parameters["name"]
        client = run.aws.client("ssm")
        previous = before["restore_to"]
        if previous is None:
            with ignoring():
                client.delete_parameter(Name=name)
                done.append(f"deleted the setting {name}, which did not exist before")
            return
        client.put_parameter(Name=name, Value=previous["value"], Type=previous["type"], Overwrite=True)
        done.append(f"put setting {name} back to its value of version {previous['version']}")

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        if not self._acts(before):
            return []
        name, current = step.parameters["name"], before["current"]
        aws.client("ssm").put_parameter(Name=name, Value=current["value"], Type=current["type"], Overwrite=True)
        return [f"set {name} back to the changed value"]

    @staticmethod
    def _acts(before: Mapping[str, Any]) -> bool:
        return bool(before["exists"]) and (before["restore_to"] is not None or before["why"] == _DELETED)


_DELETED = "the setting did not exist before: it is deleted"


def _history(aws: AccountClients, name: str) -> Any:
    client = aws.client("ssm")
    token: str | None = None
    while True:
        page = client.get_parameter_history(Name=name, **({"NextToken": token} if token else {}))
        yield from page.get("Parameters", [])
        token = page.get("NextToken")
        if not token:
            return


def _entry(entry: Mapping[str, Any]) -> dict[str, Any]:
    if entry.get("Type") == "SecureString":
        raise UndoError("IAM Warden's settings are never SecureString; refusing to copy one")
    return {"version": entry["Version"], "value": entry["Value"], "type": entry.get("Type", "String")}


class RestoreOwnSecret:
    """Restore a deleted IAM Warden secret within its recovery window. Undo schedules its deletion again."""

    permissions: ClassVar[Permissions] = ("secretsmanager:DescribeSecret", "secretsmanager:RestoreSecret")
    action: ClassVar[StepAction] = StepAction("restore_own_secret", permissions)
    undo_permissions: ClassVar[Permissions] = ("secretsmanager:DescribeSecret", "secretsmanager:DeleteSecret")
    undoable: ClassVar[bool] = True

    @staticmethod
    def _state(aws: AccountClients, secret: str) -> dict[str, Any]:
        try:
            found = aws.client("secretsmanager").describe_secret(SecretId=secret)
        except Exception as exc:
            if is_gone(exc):
                return {"exists": False, "deleted": False}
            raise
        return {"exists": True, "deleted": found.get("DeletedDate") is not None}

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        return self._state(aws, step.parameters["secret_id"])

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if not before["exists"] or not before["deleted"]:
            return  # gone for good (alerted), or restored already
        run.aws.client("secretsmanager").restore_secret(SecretId=step.parameters["secret_id"])
        done.append(step.summary)

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        if not before["exists"] or not before["deleted"]:
            return []
        secret = step.parameters["secret_id"]
        now = self._state(aws, secret)
        if not now["exists"]:
            raise UndoError(f"the secret {secret} no longer exists")
        if now["deleted"]:
            return []
        window = step.parameters.get("recovery_window") or 30
        aws.client("secretsmanager").delete_secret(SecretId=secret, RecoveryWindowInDays=window)
        return [f"scheduled the deletion of secret {secret} again ({window} days)"]


def _stages(aws: AccountClients, secret: str) -> dict[str, Any]:
    """Whether the secret exists, and the versions labelled ``AWSCURRENT`` and ``AWSPREVIOUS``."""
    try:
        found = aws.client("secretsmanager").describe_secret(SecretId=secret)
    except Exception as exc:
        if is_gone(exc):
            return {"exists": False, "current": None, "previous": None}
        raise
    labels = found.get("VersionIdsToStages") or {}

    def labelled(stage: str) -> str | None:
        return next((version for version, stages in labels.items() if stage in stages), None)

    return {"exists": True, "current": labelled(CURRENT), "previous": labelled("AWSPREVIOUS")}


class RestoreOwnSecretVersion:
    """Give ``AWSCURRENT`` of an IAM Warden secret back to the version a change took it from, known good. Undoable.

    Acts only while the state is what the plan rests on: the changed-to version still current (a later change is
    judged by its own event), and the known-good version labelled ``AWSPREVIOUS``, which Secrets Manager moves to
    the version ``AWSCURRENT`` leaves: so it is the version this change replaced, not an older one (a change in
    between that IAM Warden has not judged yet). Otherwise nothing is changed and the failure says why. Undo
    moves the label forward again, leaving both labels as the change left them.
    """

    permissions: ClassVar[Permissions] = ("secretsmanager:DescribeSecret", "secretsmanager:UpdateSecretVersionStage")
    action: ClassVar[StepAction] = StepAction("restore_own_secret_version", permissions)
    undo_permissions: ClassVar[Permissions] = permissions
    undoable: ClassVar[bool] = True

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        return _stages(aws, step.parameters["secret_id"])

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        changed_to, restore_to = step.parameters["changed_to"], step.parameters["restore_to"]
        if not before["exists"] or before["current"] != changed_to:
            return  # gone (alerted), put back already, or changed again since (judged by its own event)
        secret, previous = step.parameters["secret_id"], before["previous"]
        if previous != restore_to:
            raise RemediationError(
                f"the change made version {changed_to} of {secret} {CURRENT} in place of version {previous} "
                f"(AWSPREVIOUS), not {restore_to}, the one IAM Warden knows good ({step.parameters['source']}): a "
                "change in between is not judged yet, so nothing was changed; make the good version current by hand "
                f"(aws secretsmanager update-secret-version-stage --secret-id {secret} --version-stage {CURRENT} "
                f"--move-to-version-id <the good version> --remove-from-version-id {changed_to})"
            )
        run.aws.client("secretsmanager").update_secret_version_stage(
            SecretId=secret, VersionStage=CURRENT, MoveToVersionId=restore_to, RemoveFromVersionId=changed_to
        )
        done.append(
            f"made version {restore_to} of IAM Warden's Slack secret {secret} {CURRENT} again (not {changed_to})"
        )

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        changed_to = step.parameters["changed_to"]
        if not before["exists"] or before["current"] != changed_to or before["previous"] is None:
            return []
        secret = step.parameters["secret_id"]
        now = _stages(aws, secret)
        if now["current"] == changed_to:
            return []
        if now["current"] != before["previous"]:
            raise UndoError(f"the current version of secret {secret} changed since; undo by hand")
        aws.client("secretsmanager").update_secret_version_stage(
            SecretId=secret, VersionStage=CURRENT, MoveToVersionId=changed_to, RemoveFromVersionId=before["previous"]
        )
        return [f"made version {changed_to} of secret {secret} {CURRENT} again, as the change left it"]


class RemoveOwnSecretPolicy:
    """Delete a resource policy put on an IAM Warden secret (its template declares none). Undo puts it back."""

    permissions: ClassVar[Permissions] = ("secretsmanager:GetResourcePolicy", "secretsmanager:DeleteResourcePolicy")
    action: ClassVar[StepAction] = StepAction("remove_own_secret_policy", permissions)
    undo_permissions: ClassVar[Permissions] = ("secretsmanager:GetResourcePolicy", "secretsmanager:PutResourcePolicy")
    undoable: ClassVar[bool] = True

    @staticmethod
    def _policy(aws: AccountClients, secret: str) -> tuple[bool, str | None]:
        try:
            found = aws.client("secretsmanager").get_resource_policy(SecretId=secret)
        except Exception as exc:
            if is_gone(exc):
                return False, None
            raise
        policy = found.get("ResourcePolicy")
        return True, policy if isinstance(policy, str) and policy else None

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        exists, policy = self._policy(aws, step.parameters["secret_id"])
        return {"exists": exists, "policy": policy}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if not before["exists"] or before["policy"] is None:
            return  # gone (alerted), or deleted already
        with ignoring():
            run.aws.client("secretsmanager").delete_resource_policy(SecretId=step.parameters["secret_id"])
            done.append(step.summary)

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        if not before["exists"] or before["policy"] is None:
            return []
        secret = step.parameters["secret_id"]
        exists, live = self._policy(aws, secret)
        if not exists:
            raise UndoError(f"the secret {secret} no longer exists")
        if live is not None:
            raise UndoError(f"the secret {secret} has a resource policy again; undo by hand")
        aws.client("secretsmanager").put_resource_policy(SecretId=secret, ResourcePolicy=before["policy"])
        return [f"put the resource policy back on secret {secret}, as the change left it"]


class RestoreOwnSubscriptionAttribute:
    """Put one delivery attribute of an alert-topic subscription back from IAM Warden's snapshot. Undoable.

    Acts only while the subscription still has the changed value (a later change is judged by its own event);
    undo writes the changed value again.
    """

    permissions: ClassVar[Permissions] = ("sns:GetSubscriptionAttributes", "sns:SetSubscriptionAttributes")
    action: ClassVar[StepAction] = StepAction("restore_own_subscription_attribute", permissions)
    undo_permissions: ClassVar[Permissions] = permissions
    undoable: ClassVar[bool] = True

    @staticmethod
    def _live(aws: AccountClients, step: RemediationStep) -> tuple[bool, str | None]:
        try:
            found = aws.client("sns").get_subscription_attributes(SubscriptionArn=step.parameters["subscription_arn"])
        except Exception as exc:
            if is_gone(exc):
                return False, None
            raise
        value = found.get("Attributes", {}).get(step.parameters["attribute"])
        return True, value if isinstance(value, str) else None

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        exists, value = self._live(aws, step)
        return {"exists": exists, "value": value}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        attribute, restore_to = step.parameters["attribute"], step.parameters["restore_to"]
        if not before["exists"] or _same_attribute(attribute, before["value"], restore_to):
            return  # unsubscribed since (alerted), or put back already
        if not _same_attribute(attribute, before["value"], step.parameters["changed_to"]):
            return  # changed again since: judged by its own event
        run.aws.client("sns").set_subscription_attributes(
            SubscriptionArn=step.parameters["subscription_arn"], AttributeName=attribute, AttributeValue=restore_to
        )
        done.append(step.summary)

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        attribute, restore_to = step.parameters["attribute"], step.parameters["restore_to"]
        if (
            not before["exists"]
            or _same_attribute(attribute, before["value"], restore_to)
            or not _same_attribute(attribute, before["value"], step.parameters["changed_to"])
        ):
            return []
        subscription = step.parameters["subscription_arn"]
        exists, live = self._live(aws, step)
        if not exists:
            raise UndoError(f"the subscription {subscription} no longer exists")
        if not _same_attribute(attribute, live, restore_to):
            raise UndoError(f"the {attribute} of subscription {subscription} changed since; undo by hand")
        aws.client("sns").set_subscription_attributes(
            SubscriptionArn=subscription, AttributeName=attribute, AttributeValue=before["value"] or ""
        )
        return [f"set the {attribute} of subscription {subscription} back as the change left it"]


# --- the alert path silenced quietly: key policy, data protection, alarm definitions, the bus's key ------------------


def _silenced_alert_path_target(context: RuleContext) -> Target | None:
    """A quieter way to silence the alert path (``SILENCING_EVENTS``) on IAM Warden's own key, topic, alarm or bus.

    Each is exact: the alert key by ARN (or its id in the key's own region: a multi-region key's replica elsewhere
    shares the id), the topic by ARN, an alarm and the bus by name, all in the security account.
    """
    change = context.change
    if change.account != context.settings.own.home_account:
        return None
    name = change.event_name
    if name == "PutKeyPolicy":
        return _alert_key_policy_target(context)
    if name == "PutDataProtectionPolicy":
        return _topic_data_protection_target(context)
    if name == "PutMetricAlarm":
        return _overwritten_alarm_target(context)
    return _central_bus_settings_target(context)


def _own_alert_key(context: RuleContext) -> str | None:
    """IAM Warden's alert key ARN when the event's ``keyId`` names it (ARN, or bare id in its region), else None."""
    key = context.settings.own.alert_key
    given = _text(context.change.request_parameters, "keyId")
    if not key or given is None:
        return None
    if given == key:
        return key
    parts = key.split(":")
    in_its_region = len(parts) > 3 and parts[3] == context.change.region
    return key if in_its_region and given == key.rsplit("/", 1)[-1] else None


def _alert_key_policy_target(context: RuleContext) -> Target | None:
    """``PutKeyPolicy`` on the alert key: its policy put back as the template declares it (``restore_own_key_policy``).

    A policy that no longer lets in SNS and CloudWatch stops every alert the topic carries (this one too: it leaves
    only through Slack). The restore can act only while the new policy still lets this account (its IAM grants)
    or the enforcer put a key policy; KMS refuses anyone else, CloudFormation included, so otherwise the finding
    names who must put it back.
    """
    change = context.change
    own = context.settings.own
    key = _own_alert_key(context)
    if key is None:
        return None
    what = f"the policy of its alert key {key}"
    declared = declared_alert_key_policy(own, context.partition)
    if declared is None:
        needs = (
            "the alert key's policy as its template declares it (IAM Warden's enforcer and pruner roles are not "
            "configured here)",
        )
        return Target(what, key, [], needs)
    changed_to = _json(change.request_parameters.get("policy"))
    if isinstance(changed_to, Mapping) and _same(changed_to, declared):
        return Target(what, key, [], fine=f"the policy put on its alert key {key} is the one its template declares")
    put_back = (
        f"aws kms put-key-policy --key-id {key} --policy-name default --policy '{json.dumps(declared, sort_keys=True)}'"
    )
    enforcer = own.home_roles.get("enforcer")
    admitted = frozenset(
        {change.account, f"arn:{context.partition}:iam::{change.account}:root", *((enforcer,) if enforcer else ())}
    )
    if not isinstance(changed_to, Mapping) or not _lets_in(changed_to, admitted):
        return Target(
            what,
            key,
            [],
            done=(
                f"the new policy lets neither account {change.account} nor IAM Warden's enforcer put a key policy, so "
                "IAM Warden cannot put it back and SNS may no longer encrypt its alerts (this one leaves only through "
                f"Slack); whoever the new policy lets in must put the declared one back: {put_back}"
            ),
        )
    step = RemediationStep(
        RestoreOwnKeyPolicy.action,
        key,
        {"key_id": key, "changed_to": dict(changed_to), "restore_to": declared},
        f"put the policy of IAM Warden's alert key {key} back as its template declares it",
    )
    return Target(what, key, [step])


#: The KMS actions that let a principal put a key policy (``kms:*``, ``*`` and the action itself, any case).
_PUT_KEY_POLICY = "kms:putkeypolicy"


def _lets_in(policy: Mapping[str, Any], admitted: frozenset[str]) -> bool:
    """Whether a key policy lets one of ``admitted`` (the account, its root, the enforcer) put a key policy.

    Conservative: only an unconditioned Allow of ``kms:PutKeyPolicy`` naming one of them counts, and any Deny that
    could match it (its action, a wildcard of it, or a ``NotAction``) makes it no.
    """
    statements = policy.get("Statement")
    listed = [statements] if isinstance(statements, Mapping) else statements if isinstance(statements, list) else []
    allowed = False
    for statement in listed:
        if not isinstance(statement, Mapping):
            return False
        actions = statement.get("Action", [])
        names = [a.lower() for a in (actions if isinstance(actions, list) else [actions]) if isinstance(a, str)]
        matches = any(wildcard_match(a, _PUT_KEY_POLICY) for a in names)
        if statement.get("Effect") == "Deny" and (matches or "NotAction" in statement):
            return False
        if statement.get("Effect") != "Allow" or not matches or statement.get("Condition"):
            continue
        principal = statement.get("Principal")
        aws = principal.get("AWS") if isinstance(principal, Mapping) else None
        allowed = allowed or any(p in admitted for p in (aws if isinstance(aws, list) else [aws]))
    return allowed


def _topic_data_protection_target(context: RuleContext) -> Target | None:
    """``PutDataProtectionPolicy`` on the alert topic: an inbound Deny every alert matches stops every publish.

    The template declares none on the topic, so one put on it is removed (``remove_own_topic_data_protection``,
    SNS deletes it with an empty policy); removing one is the topic as deployed.
    """
    topic = context.settings.own.alert_topic
    parameters = context.change.request_parameters
    if not topic or _text(parameters, "resourceArn") != topic:
        return None
    what = f"the data-protection policy of its alert topic {topic}"
    changed_to = parameters.get("dataProtectionPolicy")
    if not isinstance(changed_to, str) or not changed_to.strip():
        return Target(what, topic, [], fine=f"its alert topic {topic} has no data-protection policy, as deployed")
    step = RemediationStep(
        RemoveOwnTopicDataProtection.action,
        topic,
        {"topic_arn": topic, "changed_to": changed_to},
        f"remove the data-protection policy put on IAM Warden's alert topic {topic} (its template declares none)",
    )
    return Target(what, topic, [step])


def _overwritten_alarm_target(context: RuleContext) -> Target | None:
    """``PutMetricAlarm`` of one of the stack's alarms: a threshold, missing-data treatment or actions changed so that
    it never fires (a stopped heartbeat then goes unseen). Written back as template.yaml declares it
    (``declared.OWN_ALARM_DEFINITIONS``, ``restore_own_alarm``); where that cannot be filled in, alerted with the
    redeploy command."""
    change = context.change
    own = context.settings.own
    alarm = _text(change.request_parameters, "alarmName")
    if alarm is None or alarm not in own.alarms:
        return None
    arn = f"arn:{context.partition}:cloudwatch:{change.region}:{change.account}:alarm:{alarm}"
    step = restore_alarm_step(context, alarm)
    if step is not None:
        return Target(f"its alarm {alarm} (redefined)", arn, [step])
    return Target(
        f"its alarm {alarm} (redefined)",
        arn,
        [],
        done=(
            "its definition (threshold, missing data, actions) may now never fire; put it back as the template "
            f"declares it: {own.redeploy_command(change.account, change.region)}"
        ),
    )


def _central_bus_settings_target(context: RuleContext) -> Target | None:
    """``UpdateEventBus`` of the central bus: another KMS key (which its owner can then disable) or a dead-letter
    queue turns every member account's events away while the bus's policy still looks right. The event does not
    hold what the bus had before, and the template declares neither: alerted with the way back."""
    change = context.change
    own = context.settings.own
    parameters = change.request_parameters
    bus = _text(parameters, "name")
    if bus is None or not own.central_bus or _bus_name(bus) != own.central_bus:
        return None
    arn = f"arn:{context.partition}:events:{change.region}:{change.account}:event-bus/{own.central_bus}"
    key, dead_letter = _text(parameters, "kmsKeyIdentifier"), parameters.get("deadLetterConfig")
    changed = [
        *([f"the KMS key {key}"] if key else []),
        *([f"the dead-letter config {json.dumps(dead_letter, sort_keys=True)}"] if dead_letter else []),
    ]
    if not changed:
        return Target(
            f"its central event bus {own.central_bus}",
            arn,
            [],
            severity=Severity.HIGH,
            done="neither its key nor its dead-letter config was set, so routing is unchanged",
        )
    return Target(
        f"its central event bus {own.central_bus} (given {' and '.join(changed)})",
        arn,
        [],
        done=(
            "its template declares neither (events encrypted with an AWS owned key, no dead-letter queue): put it "
            f"back with aws events update-event-bus --name {own.central_bus} and no key or dead-letter config, or "
            f"{own.redeploy_command(change.account, change.region)}"
        ),
    )


class RestoreOwnKeyPolicy:
    """Put the alert key's policy back as the template declares it. Undo puts back the policy the change left.

    Acts only while the key still holds the changed policy (a later change is judged by its own event).
    """

    permissions: ClassVar[Permissions] = ("kms:GetKeyPolicy", "kms:PutKeyPolicy")
    action: ClassVar[StepAction] = StepAction("restore_own_key_policy", permissions)
    undo_permissions: ClassVar[Permissions] = permissions
    undoable: ClassVar[bool] = True

    @staticmethod
    def _live(aws: AccountClients, key: str) -> tuple[bool, Any]:
        try:
            found = aws.client("kms").get_key_policy(KeyId=key, PolicyName="default")
        except Exception as exc:
            if is_gone(exc):
                return False, None
            raise
        return True, _json(found.get("Policy"))

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        exists, policy = self._live(aws, step.parameters["key_id"])
        return {"exists": exists, "policy": policy}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if not before["exists"] or _same(before["policy"], step.parameters["restore_to"]):
            return  # gone (alerted), or put back already
        if not _same(before["policy"], step.parameters["changed_to"]):
            return  # changed again since: judged by its own event
        key = step.parameters["key_id"]
        run.aws.client("kms").put_key_policy(
            KeyId=key, PolicyName="default", Policy=json.dumps(step.parameters["restore_to"])
        )
        done.append(step.summary)

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        restore_to = step.parameters["restore_to"]
        if not before["exists"] or _same(before["policy"], restore_to):
            return []
        if not _same(before["policy"], step.parameters["changed_to"]):
            return []
        key = step.parameters["key_id"]
        exists, live = self._live(aws, key)
        if not exists:
            raise UndoError(f"the key {key} no longer exists")
        if not _same(live, restore_to):
            raise UndoError(f"the policy of key {key} changed since; undo by hand")
        aws.client("kms").put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(before["policy"]))
        return [f"put the policy of key {key} back as the change left it"]


class RemoveOwnTopicDataProtection:
    """Remove a data-protection policy put on the alert topic (an empty policy deletes it, SNS developer guide).
    Undo puts the removed one back. Acts only while the topic still holds the changed policy."""

    permissions: ClassVar[Permissions] = ("sns:GetDataProtectionPolicy", "sns:PutDataProtectionPolicy")
    action: ClassVar[StepAction] = StepAction("remove_own_topic_data_protection", permissions)
    undo_permissions: ClassVar[Permissions] = permissions
    undoable: ClassVar[bool] = True

    @staticmethod
    def _live(aws: AccountClients, topic: str) -> tuple[bool, str | None]:
        try:
            found = aws.client("sns").get_data_protection_policy(ResourceArn=topic)
        except Exception as exc:
            if is_gone(exc):
                return False, None
            raise
        policy = found.get("DataProtectionPolicy")
        return True, policy if isinstance(policy, str) and policy.strip() else None

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        exists, policy = self._live(aws, step.parameters["topic_arn"])
        return {"exists": exists, "policy": policy}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if not before["exists"] or before["policy"] is None:
            return  # the topic is gone (alerted), or the policy removed already
        if not _same(_json(before["policy"]), _json(step.parameters["changed_to"])):
            return  # changed again since: judged by its own event
        run.aws.client("sns").put_data_protection_policy(
            ResourceArn=step.parameters["topic_arn"], DataProtectionPolicy=""
        )
        done.append(step.summary)

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        if not before["exists"] or before["policy"] is None:
            return []
        if not _same(_json(before["policy"]), _json(step.parameters["changed_to"])):
            return []
        topic = step.parameters["topic_arn"]
        exists, live = self._live(aws, topic)
        if not exists:
            raise UndoError(f"the topic {topic} no longer exists")
        if live is not None:
            raise UndoError(f"the topic {topic} has a data-protection policy again; undo by hand")
        aws.client("sns").put_data_protection_policy(ResourceArn=topic, DataProtectionPolicy=before["policy"])
        return [f"put the data-protection policy of topic {topic} back as the change left it"]


class RestoreFallbackTopicAttribute:
    """Put the fallback topic's policy or key back as the template declares it. Undo puts back what the change left.

    Acts only while the topic still holds the changed value (a later change is judged by its own event).
    """

    permissions: ClassVar[Permissions] = ("sns:GetTopicAttributes", "sns:SetTopicAttributes")
    action: ClassVar[StepAction] = StepAction("restore_fallback_topic_attribute", permissions)
    undo_permissions: ClassVar[Permissions] = permissions
    undoable: ClassVar[bool] = True

    @staticmethod
    def _live(aws: AccountClients, topic: str, attribute: str) -> tuple[bool, Any]:
        try:
            found = aws.client("sns").get_topic_attributes(TopicArn=topic)["Attributes"]
        except Exception as exc:
            if is_gone(exc):
                return False, None
            raise
        return True, _json(found.get(attribute))

    @staticmethod
    def _text(value: Any) -> str:
        return value if isinstance(value, str) else json.dumps(value)

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        exists, value = self._live(aws, step.parameters["topic_arn"], step.parameters["attribute"])
        return {"exists": exists, "value": value}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        parameters = step.parameters
        if not before["exists"] or _same(before["value"], parameters["restore_to"]):
            return  # gone (alerted), or put back already
        if not _same(before["value"], parameters["changed_to"]):
            return  # changed again since: judged by its own event
        run.aws.client("sns").set_topic_attributes(
            TopicArn=parameters["topic_arn"],
            AttributeName=parameters["attribute"],
            AttributeValue=self._text(parameters["restore_to"]),
        )
        done.append(step.summary)

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        parameters = step.parameters
        topic, attribute = parameters["topic_arn"], parameters["attribute"]
        if not before["exists"] or not _same(before["value"], parameters["changed_to"]):
            return []
        if _same(before["value"], parameters["restore_to"]):
            return []
        exists, live = self._live(aws, topic, attribute)
        if not exists:
            raise UndoError(f"the topic {topic} no longer exists")
        if not _same(live, parameters["restore_to"]):
            raise UndoError(f"the {attribute} of topic {topic} changed since; undo by hand")
        aws.client("sns").set_topic_attributes(
            TopicArn=topic, AttributeName=attribute, AttributeValue=self._text(before["value"])
        )
        return [f"put the {attribute} of topic {topic} back as the change left it"]


GUARDRAILS = (TamperingRule(),)
#: Never in the generated remediation grants (which would allow it on role/* and be detachable): each role's own
#: inline grant, ``iam:AttachRolePolicy`` on that very role with ``ArnEquals`` ``iam:PolicyARN`` its remediation
#: policies (``ReattachOwnGrant``).
GRANTED_APART = {
    "iam:AttachRolePolicy": "EnforcerReattachGrantsPolicy (template.yaml) and RemediationReattachGrantsPolicy "
    "(member/template.yaml): the role's own remediation policies, onto that very role only",
}
ACTIONS = (
    EnableOwnRule(),
    RestoreCentralBusStatement(),
    RestoreCentralBusPolicy(),
    DeleteOwnFunctionUrl(),
    RestoreOwnKey(),
    EnableOwnAlarmActions(),
    RestoreOwnAlarm(),
    RestoreFunctionConcurrency(),
    RestoreFunctionInvokeConfig(),
    StopFunction(),
    QuarantineRole(),
    RestoreSetting(),
    RemoveOwnRoleBoundary(),
    ReattachOwnGrant(),
    RestoreOwnRoleSessionDuration(),
    RestoreOwnRoleDocument(),
    RevokeOwnRoleSessions(),
    RestoreOwnPolicyVersion(),
    RestoreOwnSecret(),
    RestoreOwnSecretVersion(),
    RemoveOwnSecretPolicy(),
    RestoreOwnSubscriptionAttribute(),
    RestoreOwnKeyPolicy(),
    RemoveOwnTopicDataProtection(),
    RestoreFallbackTopicAttribute(),
    RestoreOwnInvokePermissions(),
    RestoreOwnQueuePolicy(),
    RestoreOwnTablePolicy(),
)
