"""``iamwarden-tampered``: someone other than IAM Warden's own stack changes IAM Warden.

An intruder with admin rights first blinds the watchers: disables the rule that routes events, sets the
enforcer's concurrency to 0, rewrites its role's policies, or sets its settings to ignore everyone. Nothing
legitimate does any of this outside a stack update, so the rule is critical and in ``remediate`` by default.

What is IAM Warden's comes from ``settings.own`` (``iamwarden.domain.own``: exact names from the template,
never from SSM). A change CloudFormation makes (``invokedBy`` ``cloudformation.amazonaws.com``) is the stack's
own deployment: no other stack can hold these exact names while this one does. Judged:

* its roles (exact name in the account: IAM role names are unique per account): inline, attached and
  boundary policies, trust policy, deletion. An attached policy is detached (``detach_managed_policy``) and a
  boundary put on taken off (``remove_own_role_boundary``: the templates declare none). A rewritten trust
  policy or inline policy (put or deleted) is put back (``restore_own_role_document``) from IAM Warden's own
  snapshot of the role (``OWN_ROLE``, taken by the heartbeat), or, for a trust policy of the security
  account's stack without one, from the document the template declares (``OwnIdentity.declared_trust_policy``);
  in a member account from that account's snapshot of the member stack's role (taken through its
  ``iamwarden-snapshot-reader`` role), written through the member role like every remediation there, and only
  into the role the snapshot was taken of (same ARN: path and account);
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
  alerted with the redeploy command;
* its functions: ``PutFunctionConcurrency`` / ``DeleteFunctionConcurrency`` are put back to what the
  template declares (``restore_function_concurrency``); code, configuration, event invoke config,
  permissions and deletion are alerted;
* its queues and tables, changed or deleted: alerted;
* its SSM settings, changed by anyone not in ``operators``: alerted, and with ``settings_guard: restore``
  the previous value is put back from the parameter's history (``restore_setting``).
"""

import json
from collections.abc import Mapping
from typing import Any, ClassVar, NamedTuple

from iamwarden.adapters.errors import ignoring, is_gone
from iamwarden.domain import declared
from iamwarden.domain.arns import iam_arn
from iamwarden.domain.catalog import Mode, OptionSpec, RuleSpec, Severity
from iamwarden.domain.exceptions import InvalidEventError, RemediationError, UndoError
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.domain.own import CENTRAL_BUS_STATEMENT_ID, names_match
from iamwarden.domain.recorded import OWN_POLICY, OWN_ROLE
from iamwarden.domain.settings_guard import SETTING_EVENTS, TAMPERED_RULE_ID, guards_the_guard, settings_written
from iamwarden.domain.wildcards import arn_match
from iamwarden.guardrails.base import Evaluation, RuleContext
from iamwarden.guardrails.managed_policy import DetachManagedPolicy
from iamwarden.guardrails.remediation import AccountClients, Permissions, StepRun, canonical, pages, policy_document

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

#: The role changes judged here (the own roles' policies, boundary, trust policy and existence).
ROLE_EVENTS = frozenset(
    {
        "PutRolePolicy",
        "DeleteRolePolicy",
        "AttachRolePolicy",
        "DetachRolePolicy",
        "UpdateAssumeRolePolicy",
        "PutRolePermissionsBoundary",
        "DeleteRolePermissionsBoundary",
        "DeleteRole",
    }
)
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
#: Lambda's CloudTrail event names carry API version suffixes (the Lambda developer guide lists them).
FUNCTION_EVENTS = frozenset(
    {
        "PutFunctionConcurrency20171031",
        "DeleteFunctionConcurrency20171031",
        "UpdateFunctionCode20150331v2",
        "UpdateFunctionConfiguration20150331v2",
        "DeleteFunction20150331",
        "PutFunctionEventInvokeConfig",
        "UpdateFunctionEventInvokeConfig",
        "DeleteFunctionEventInvokeConfig",
        "AddPermission20150331v2",
        "RemovePermission20150331v2",
    }
)
QUEUE_EVENTS = frozenset({"DeleteQueue", "SetQueueAttributes", "PurgeQueue"})
TABLE_EVENTS = frozenset({"DeleteTable", "UpdateTable", "UpdateContinuousBackups", "UpdateTimeToLive"})
#: The alert path: the alert topic and its subscriptions, the key it is encrypted with, the stack's alarms.
TOPIC_EVENTS = frozenset({"Unsubscribe", "SetSubscriptionAttributes", "DeleteTopic", "SetTopicAttributes"})
KEY_EVENTS = frozenset({"DisableKey", "ScheduleKeyDeletion"})
ALARM_EVENTS = frozenset({"DeleteAlarms", "DisableAlarmActions"})

IAMWARDEN_TAMPERED = RuleSpec(
    id=TAMPERED_RULE_ID,
    title="IAM Warden itself changed",
    event_source=IAM,
    event_names=ROLE_EVENTS
    | POLICY_EVENTS
    | RULE_EVENTS
    | BUS_EVENTS
    | TOPIC_EVENTS
    | KEY_EVENTS
    | ALARM_EVENTS
    | FUNCTION_EVENTS
    | QUEUE_EVENTS
    | TABLE_EVENTS
    | SETTING_EVENTS,
    risk=(
        "Whoever disables IAM Warden's rules, functions, roles or settings can then change anything unseen: "
        "an intruder blinds the guard first."
    ),
    options={
        "operators": OptionSpec(
            "patterns", (), "ARN patterns of the people and roles who may change IAM Warden's settings in SSM"
        ),
        "settings_guard": OptionSpec(
            "choice",
            "alert",
            "alert (a settings change by anyone not in operators is alerted) or restore (also put the previous "
            "value back from the parameter's history)",
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
    | {(EVENTS, name) for name in RULE_EVENTS | BUS_EVENTS}
    | {(LAMBDA, name) for name in FUNCTION_EVENTS}
    | {(SQS, name) for name in QUEUE_EVENTS}
    | {(DYNAMODB, name) for name in TABLE_EVENTS}
    | {(SSM, name) for name in SETTING_EVENTS}
    | {(SNS, name) for name in TOPIC_EVENTS}
    | {(KMS, name) for name in KEY_EVENTS}
    | {(CLOUDWATCH, name) for name in ALARM_EVENTS}
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


class TamperingRule:
    """A change to one of IAM Warden's own roles, rules, functions, queues, tables or settings."""

    specs: ClassVar[tuple[RuleSpec, ...]] = (IAMWARDEN_TAMPERED,)
    event_keys: ClassVar[frozenset[tuple[str, str]]] = EVENT_KEYS

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        own = context.settings.own
        target = self._target(context)
        if target is None:
            evaluation = Evaluation()
            if change.event_source != IAM:  # IAM events are judged by other rules too: they say what they found
                evaluation.compliant.append(f"{change.event_name} does not touch IAM Warden's own resources")
            return evaluation
        what, arn, plan, needs = target.what, target.arn, target.plan, target.needs
        evaluation = Evaluation(resource_arn=arn)
        stack_change = ""
        if change.actor.invoked_by == CLOUDFORMATION:
            undeclared = undeclared_by_the_stack(context)
            if undeclared is None:
                evaluation.compliant.append(f"CloudFormation deploying IAM Warden's own stack changed {what}")
                return evaluation
            stack_change = f" through CloudFormation, but {undeclared}, which IAM Warden's stack does not declare"
        if target.fine is not None:
            evaluation.compliant.append(target.fine)
            return evaluation
        if change.event_source == SSM:
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
            if rule.choice("settings_guard") != "restore" and not guards_the_guard(
                own, list(settings_written(change, own))
            ):
                plan = []
        if plan:
            done = "it will be put back"
        elif target.done is not None:
            done = target.done
        elif needs:
            redeploy = own.redeploy_command(change.account, change.region)
            done = f"it cannot be put back without {'; '.join(needs)}: {redeploy}"
        elif change.event_source == SSM:
            name = arn.split(":parameter", 1)[-1]
            done = (
                f"put it back: aws ssm get-parameter-history --name {name}, then aws ssm put-parameter --overwrite "
                f"--name {name} --value <the previous value> (or set rules/{IAMWARDEN_TAMPERED.id}/settings_guard "
                "to restore)"
            )
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
            if role is None or not own.guards_role(role, account):
                return None
            arn = iam_arn(partition, account, "role", role)
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
            if name in ("UpdateAssumeRolePolicy", "PutRolePolicy", "DeleteRolePolicy"):
                step, needs = _restore_role_document(context, role, arn)
                return Target(f"its role {role}", arn, [step] if step else [], needs)
            return Target(f"its role {role}", arn, plan)
        if source == EVENTS and name in BUS_EVENTS:
            return _central_bus_target(context)
        if source == EVENTS:
            rule_name = _text(parameters, "rule" if name in ("RemoveTargets", "PutTargets") else "name")
            bus = _bus_name(parameters.get("eventBusName"))
            key = rule_name if bus == "default" else f"{bus}/{rule_name}"
            if rule_name is None or key not in own.rules_in(account):
                return None
            arn = f"arn:{partition}:events:{region}:{account}:rule/{key}"
            plan = []
            if name == "DisableRule":
                plan.append(
                    RemediationStep(
                        EnableOwnRule.action,
                        arn,
                        {"rule_name": rule_name, "event_bus_name": bus},
                        f"enable IAM Warden's rule {key} again",
                    )
                )
            return Target(
                f"its EventBridge rule {key}{_targets_put(parameters) if name == 'PutTargets' else ''}", arn, plan
            )
        if account != own.home_account:
            return None  # IAM Warden's functions, queues, tables and settings live in the security account only
        if source in (SNS, KMS, CLOUDWATCH):
            return _alert_path_target(context)
        if source == LAMBDA:
            function = _function_name(_text(parameters, "functionName"))
            if function is None or function not in own.functions:
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
            return Target(f"its function {function}", arn, plan)
        if source == SQS:
            queue = (_text(parameters, "queueUrl") or "").rstrip("/").rsplit("/", 1)[-1]
            if queue not in own.queues:
                return None
            return Target(f"its queue {queue}", f"arn:{partition}:sqs:{region}:{account}:{queue}", [])
        if source == DYNAMODB:
            table = _text(parameters, "tableName")
            if table is None or table not in own.tables:
                return None
            return Target(f"its table {table}", f"arn:{partition}:dynamodb:{region}:{account}:table/{table}", [])
        if source == SSM:
            mine = list(settings_written(change, own))
            if not mine:
                return None
            arn = f"arn:{partition}:ssm:{region}:{account}:parameter{mine[0]}"
            plan = []
            version = (change.response_elements or {}).get("version")
            if name == "PutParameter" and isinstance(version, int):
                plan.append(
                    RemediationStep(
                        RestoreSetting.action,
                        arn,
                        {"name": mine[0], "version": version},
                        f"put setting {mine[0]} back to the value it had before version {version}",
                    )
                )
            return Target(f"its setting{'s' if len(mine) > 1 else ''} {', '.join(mine)}", arn, plan)
        return None


def _central_bus_target(context: RuleContext) -> Target | None:
    """A change to the central bus's policy or the bus itself; the declared statement put back when it may be gone.

    ``RemovePermission`` of the declared statement (or of all) and ``PutPermission`` rewriting it or the whole
    policy are undone by putting the declared statement back (``restore_central_bus_statement``: it does nothing
    if the statement is still as declared). A statement added beside it and a deleted bus are alerted.
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
    declared = own.declared_bus_statement(context.partition, change.region)
    what = f"the policy of its central event bus {own.central_bus}"
    if declared is None:
        return Target(what, arn, [])
    touches_declared = (
        parameters.get("removeAllPermissions") is True
        or _text(parameters, "statementId") == CENTRAL_BUS_STATEMENT_ID
        or (name == "PutPermission" and _text(parameters, "policy") is not None)
    )
    if not touches_declared:
        return Target(what, arn, [])
    step = RemediationStep(
        RestoreCentralBusStatement.action,
        arn,
        {"event_bus_name": own.central_bus, "statement": declared},
        f"put the statement {CENTRAL_BUS_STATEMENT_ID} (the organisation {own.organization_id} may put events) back "
        f"on IAM Warden's central bus {own.central_bus}, as the template declares it",
    )
    return Target(what, arn, [step])


def _alert_path_target(context: RuleContext) -> Target | None:
    """A change to the alert topic or its subscriptions, the alert key, or the stack's alarms; None if not theirs.

    A disabled key is enabled again and a key scheduled for deletion is kept (``restore_own_key``), disabled alarm
    actions are enabled again (``enable_own_alarm_actions``): each API puts back exactly what the call took away.
    An unsubscribed endpoint (an e-mail must confirm again), a changed filter policy or topic attribute (the
    previous value is not in the event), a deleted topic or alarm are alerted with the way back.
    """
    change = context.change
    own = context.settings.own
    parameters = change.request_parameters
    name = change.event_name
    if change.event_source == SNS:
        topic = own.alert_topic
        arn = _text(parameters, "topicArn") or _text(parameters, "subscriptionArn") or ""
        if not topic or not (arn == topic or arn.startswith(topic + ":")):
            return None
        what = f"its alert topic {topic}" if arn == topic else f"the subscription {arn} of its alert topic"
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
    return Target(f"its alarm{'s' if len(mine) > 1 else ''} {', '.join(mine)}", arn, plan)


def _restore_role_document(context: RuleContext, role: str, arn: str) -> tuple[RemediationStep | None, tuple[str, ...]]:
    """The step putting back the trust or inline policy an own-role event changed, or what the restore lacks."""
    change = context.change
    snapshot = context.recorded.snapshot(OWN_ROLE, arn) if context.recorded is not None else None
    where = (
        "IAM Warden has no snapshot of it: the heartbeat takes one of each of its roles"
        if context.recorded is not None
        else "offline there is no audit table to read IAM Warden's snapshots from"
    )
    if change.event_name == "UpdateAssumeRolePolicy":
        what = f"the trust policy of IAM Warden's role {role}"
        declared = context.settings.own.declared_trust_policy(role, change.account)
        if snapshot is not None and isinstance(snapshot.data.get("trust_policy"), Mapping):
            document: Any = snapshot.data["trust_policy"]
            source = f"IAM Warden's snapshot of {snapshot.taken_at}"
        elif declared is not None:
            document, source = declared, "the document its template declares"
        else:
            return None, (f"{what} before this change ({where}{_member_where(context)})",)
        parameters = {"role_name": role, "document": "trust", "restore_to": document, "source": source}
        return RemediationStep(RestoreOwnRoleDocument.action, arn, parameters, f"put back {what} from {source}"), ()
    policy = context.request_text("policyName")
    what = f"the inline policy {policy} of IAM Warden's role {role}"
    inline = snapshot.data.get("inline") if snapshot is not None else None
    if snapshot is None or not isinstance(inline, Mapping):
        return None, (f"{what} before this change ({where}{_member_where(context)})",)
    restore_to = inline.get(policy)
    source = f"IAM Warden's snapshot of {snapshot.taken_at}"
    parameters = {
        "role_name": role,
        "document": "inline",
        "policy_name": policy,
        "restore_to": restore_to,
        "source": source,
    }
    summary = f"put back {what} from {source}" if restore_to is not None else f"delete {what} (not in {source})"
    return RemediationStep(RestoreOwnRoleDocument.action, arn, parameters, summary), ()


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
        kind = own.kind_of_role_named(role, change.account) or ""
        if name in ("PutRolePolicy", "DeleteRolePolicy"):
            policy = context.request_text("policyName") or ""
            if not any(names_match(d.replace("{role}", role), policy) for d in declared.INLINE_POLICIES.get(kind, ())):
                return f"the inline policy {policy!r} on its role {role}"
        if name in ("AttachRolePolicy", "DetachRolePolicy"):
            policy = (context.request_text("policyArn") or "").rsplit("/", 1)[-1]
            if not any(
                names_match(d.replace("{role}", role), policy) or f"-{d}-" in policy
                for d in declared.MANAGED_POLICIES.get(kind, ())
            ):
                return f"the managed policy {policy!r} on its role {role}"
        if name in ("PutRolePermissionsBoundary", "DeleteRolePermissionsBoundary"):
            return f"a permissions boundary on its role {role}"
        return None
    parameters = change.request_parameters
    if change.event_source == LAMBDA and name in ("AddPermission20150331v2", "RemovePermission20150331v2"):
        statement = _text(parameters, "statementId") or ""
        stack = own.stack_name or "iamwarden"
        if not any(statement.startswith(f"{stack}-{logical}") for logical in declared.PERMISSIONS):
            return f"the permission {statement!r}"
    if change.event_source == LAMBDA and name.endswith("FunctionEventInvokeConfig"):
        function = _function_name(_text(parameters, "functionName")) or ""
        if function not in declared.INVOKE_CONFIGS:
            return f"an event invoke configuration on {function}"
    if change.event_source == SSM:
        prefix = (own.settings_prefix or "").rstrip("/") + "/"
        undeclared = [n for n in settings_written(change, own) if n.removeprefix(prefix) not in declared.SETTINGS]
        if undeclared:
            return f"the setting{'s' if len(undeclared) > 1 else ''} {', '.join(undeclared)}"
    return None


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


def _function_name(value: str | None) -> str | None:
    """A function named by name, ARN or partial ARN (``123456789012:function:NAME[:qualifier]``)."""
    if value is None:
        return None
    if ":function:" in value:
        return value.split(":function:", 1)[1].split(":", 1)[0]
    return value.split(":", 1)[0]


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
    The before-state is the live document the change left, which undo writes again (the intruder's version).
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

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if not before["exists"] or _same(before["document"], step.parameters["restore_to"]):
            return  # the role is gone (alerted), or the document is already the good one
        with ignoring():
            self._write(run.aws, step, step.parameters["restore_to"])
            done.append(step.summary)

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        if not before["exists"] or _same(before["document"], step.parameters["restore_to"]):
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


def _rule_arguments(step: RemediationStep) -> dict[str, str]:
    arguments = {"Name": step.parameters["rule_name"]}
    if step.parameters.get("event_bus_name", "default") != "default":
        arguments["EventBusName"] = step.parameters["event_bus_name"]
    return arguments


class RestoreFunctionConcurrency:
    """Put an IAM Warden function's reserved concurrency back to what the template declares. Undoable."""

    permissions: ClassVar[Permissions] = (
        "lambda:GetFunctionConcurrency",
        "lambda:PutFunctionConcurrency",
        "lambda:DeleteFunctionConcurrency",
    )
    action: ClassVar[StepAction] = StepAction("restore_function_concurrency", permissions)
    undo_permissions: ClassVar[Permissions] = ("lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency")
    undoable: ClassVar[bool] = True

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        try:
            answer = aws.client("lambda").get_function_concurrency(FunctionName=step.parameters["function_name"])
        except Exception as exc:
            if is_gone(exc):
                return {"exists": False}
            raise
        return {"exists": True, "reserved": answer.get("ReservedConcurrentExecutions")}

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
        if not before["exists"] or before["reserved"] == step.parameters["declared"]:
            return []
        function = step.parameters["function_name"]
        _set_concurrency(aws, function, before["reserved"])
        return [f"set the reserved concurrency of {function} back to {before['reserved']}"]


def _set_concurrency(aws: AccountClients, function: str, reserved: int | None) -> None:
    client = aws.client("lambda")
    if reserved is None:
        with ignoring():
            client.delete_function_concurrency(FunctionName=function)
    else:
        client.put_function_concurrency(FunctionName=function, ReservedConcurrentExecutions=reserved)


class RestoreSetting:
    """Put an IAM Warden setting back to the value before the change (``GetParameterHistory``). Undoable."""

    permissions: ClassVar[Permissions] = (
        "ssm:GetParameterHistory",
        "ssm:PutParameter",
        "ssm:DeleteParameter",
    )
    action: ClassVar[StepAction] = StepAction("restore_setting", permissions)
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
        earlier = [entry for entry in history if entry["Version"] < version]
        previous = max(earlier, key=lambda entry: entry["Version"]) if earlier else None
        return {
            "exists": True,
            "current": _entry(current),
            "restore_to": _entry(previous) if previous else None,
            "why": None if previous else "the setting did not exist before: it is deleted",
        }

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if not before["exists"] or before["why"] == "changed again since":
            return  # a later change is judged by its own event
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
        if not before["exists"] or before["why"] == "changed again since":
            return []
        name, current = step.parameters["name"], before["current"]
        aws.client("ssm").put_parameter(Name=name, Value=current["value"], Type=current["type"], Overwrite=True)
        return [f"set {name} back to the changed value"]


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


GUARDRAILS = (TamperingRule(),)
ACTIONS = (
    EnableOwnRule(),
    RestoreCentralBusStatement(),
    RestoreOwnKey(),
    EnableOwnAlarmActions(),
    RestoreFunctionConcurrency(),
    RestoreSetting(),
    RemoveOwnRoleBoundary(),
    RestoreOwnRoleDocument(),
    RestoreOwnPolicyVersion(),
)
